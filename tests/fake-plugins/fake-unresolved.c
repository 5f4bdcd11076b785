/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * a module calling a function that exists nowhere: lazy binding would load
 * it and crash at the first render; the loader must refuse it at open
 */

#include <astra/astra.h>

#define ASTRA_TYPE_FAKE_UNRESOLVED_PLUGIN (astra_fake_unresolved_plugin_get_type ())
G_DECLARE_FINAL_TYPE (AstraFakeUnresolvedPlugin, astra_fake_unresolved_plugin, ASTRA, FAKE_UNRESOLVED_PLUGIN, AstraPlugin)

struct _AstraFakeUnresolvedPlugin {
	AstraPlugin parent_instance;
};

G_DEFINE_FINAL_TYPE (AstraFakeUnresolvedPlugin, astra_fake_unresolved_plugin, ASTRA_TYPE_PLUGIN)

/* default visibility: an undefined reference the dynamic linker must resolve */
extern gboolean astra_fake_symbol_that_does_not_exist (AstraRequest *request);

static gboolean
astra_fake_unresolved_plugin_render (AstraPlugin *plugin, AstraEvent *event, AstraRequest *request, GError **error)
{
	return astra_fake_symbol_that_does_not_exist (request);
}

static void
astra_fake_unresolved_plugin_class_init (AstraFakeUnresolvedPluginClass *klass)
{
	ASTRA_PLUGIN_CLASS (klass)->render = astra_fake_unresolved_plugin_render;
}

static void
astra_fake_unresolved_plugin_init (AstraFakeUnresolvedPlugin *self)
{
}

ASTRA_PLUGIN_DEFINE ("unresolved", astra_fake_unresolved_plugin_get_type)
