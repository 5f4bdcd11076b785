/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* a module whose entry point describes nothing */

#include <astra/astra.h>

G_MODULE_EXPORT const AstraPluginInfo *astra_plugin_query (void);

G_MODULE_EXPORT const AstraPluginInfo *
astra_plugin_query (void)
{
	return NULL;
}
