/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* a module whose entry point is misspelled: the plugin version script leaves it nothing to export */

#include <astra/astra.h>

G_MODULE_EXPORT const AstraPluginInfo *astra_plugin_query_v1 (void);

G_MODULE_EXPORT const AstraPluginInfo *
astra_plugin_query_v1 (void)
{
	return NULL;
}
