/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* built as bad-name.so but declaring the name "other": a renamed or misbuilt module */

#include <astra/astra.h>

#define ASTRA_TYPE_FAKE_BAD_NAME_PLUGIN (astra_fake_bad_name_plugin_get_type ())
G_DECLARE_FINAL_TYPE (AstraFakeBadNamePlugin, astra_fake_bad_name_plugin, ASTRA, FAKE_BAD_NAME_PLUGIN, AstraPlugin)

struct _AstraFakeBadNamePlugin {
	AstraPlugin parent_instance;
};

G_DEFINE_FINAL_TYPE (AstraFakeBadNamePlugin, astra_fake_bad_name_plugin, ASTRA_TYPE_PLUGIN)

static gboolean
astra_fake_bad_name_plugin_render (AstraPlugin *plugin, AstraEvent *event, AstraRequest *request, GError **error)
{
	astra_request_set_url (request, "https://receiver.invalid/other");
	return TRUE;
}

static void
astra_fake_bad_name_plugin_class_init (AstraFakeBadNamePluginClass *klass)
{
	ASTRA_PLUGIN_CLASS (klass)->render = astra_fake_bad_name_plugin_render;
}

static void
astra_fake_bad_name_plugin_init (AstraFakeBadNamePlugin *self)
{
}

ASTRA_PLUGIN_DEFINE ("other", astra_fake_bad_name_plugin_get_type)
