/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * a module built for another plugin ABI; its type must never be registered,
 * which check-loader verifies through the type name
 */

#include <astra/astra.h>

#define ASTRA_TYPE_FAKE_WRONG_ABI_PLUGIN (astra_fake_wrong_abi_plugin_get_type ())
G_DECLARE_FINAL_TYPE (AstraFakeWrongAbiPlugin, astra_fake_wrong_abi_plugin, ASTRA, FAKE_WRONG_ABI_PLUGIN, AstraPlugin)

struct _AstraFakeWrongAbiPlugin {
	AstraPlugin parent_instance;
};

G_DEFINE_FINAL_TYPE (AstraFakeWrongAbiPlugin, astra_fake_wrong_abi_plugin, ASTRA_TYPE_PLUGIN)

static gboolean
astra_fake_wrong_abi_plugin_render (AstraPlugin *plugin, AstraEvent *event, AstraRequest *request, GError **error)
{
	astra_request_set_url (request, "https://receiver.invalid/wrong-abi");
	return TRUE;
}

static void
astra_fake_wrong_abi_plugin_class_init (AstraFakeWrongAbiPluginClass *klass)
{
	ASTRA_PLUGIN_CLASS (klass)->render = astra_fake_wrong_abi_plugin_render;
}

static void
astra_fake_wrong_abi_plugin_init (AstraFakeWrongAbiPlugin *self)
{
}

G_MODULE_EXPORT const AstraPluginInfo *astra_plugin_query (void);

G_MODULE_EXPORT const AstraPluginInfo *
astra_plugin_query (void)
{
	static const AstraPluginInfo info = {
		.abi_version = 999,
		.name = "wrong-abi",
		.get_type = astra_fake_wrong_abi_plugin_get_type,
	};
	return &info;
}
