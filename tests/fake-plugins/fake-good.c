/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* a well-formed plugin module, built like a third-party one: only the public SDK */

#include <astra/astra.h>

#define ASTRA_TYPE_FAKE_GOOD_PLUGIN (astra_fake_good_plugin_get_type ())
G_DECLARE_FINAL_TYPE (AstraFakeGoodPlugin, astra_fake_good_plugin, ASTRA, FAKE_GOOD_PLUGIN, AstraPlugin)

struct _AstraFakeGoodPlugin {
	AstraPlugin parent_instance;
};

G_DEFINE_FINAL_TYPE (AstraFakeGoodPlugin, astra_fake_good_plugin, ASTRA_TYPE_PLUGIN)

static gboolean
astra_fake_good_plugin_render (AstraPlugin *plugin, AstraEvent *event, AstraRequest *request, GError **error)
{
	g_autofree char *url = g_strdup_printf ("https://receiver.invalid/good/%s",
						astra_event_get_type_name (event));

	astra_request_set_url (request, url);
	astra_request_set_body (request, astra_event_get_body (event), "application/json");
	return TRUE;
}

static void
astra_fake_good_plugin_class_init (AstraFakeGoodPluginClass *klass)
{
	AstraPluginClass *plugin_class = ASTRA_PLUGIN_CLASS (klass);

	plugin_class->render = astra_fake_good_plugin_render;
}

static void
astra_fake_good_plugin_init (AstraFakeGoodPlugin *self)
{
}

ASTRA_PLUGIN_DEFINE ("good", astra_fake_good_plugin_get_type)
