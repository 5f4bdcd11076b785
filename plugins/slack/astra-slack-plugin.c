/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "astra-slack-plugin.h"

struct _AstraSlackPlugin {
	AstraPlugin parent_instance;
};

G_DEFINE_FINAL_TYPE (AstraSlackPlugin, astra_slack_plugin, ASTRA_TYPE_PLUGIN)

static gboolean
astra_slack_plugin_render (AstraPlugin *plugin, AstraEvent *event, AstraRequest *request, GError **error)
{
	g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_NOT_SUPPORTED, "not written yet");
	return FALSE;
}

static void
astra_slack_plugin_class_init (AstraSlackPluginClass *klass)
{
	ASTRA_PLUGIN_CLASS (klass)->render = astra_slack_plugin_render;
}

static void
astra_slack_plugin_init (AstraSlackPlugin *self)
{
}
