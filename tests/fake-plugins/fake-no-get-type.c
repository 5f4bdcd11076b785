/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* a module that declares a name but no type */

#include <astra/astra.h>

G_MODULE_EXPORT const AstraPluginInfo *astra_plugin_query (void);

G_MODULE_EXPORT const AstraPluginInfo *
astra_plugin_query (void)
{
	static const AstraPluginInfo info = {
		.abi_version = ASTRA_PLUGIN_ABI_VERSION,
		.name = "no-get-type",
		.get_type = NULL,
	};
	return &info;
}
