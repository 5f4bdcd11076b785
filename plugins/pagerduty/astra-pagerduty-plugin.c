/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "astra-pagerduty-plugin.h"

struct _AstraPagerDutyPlugin {
	AstraPlugin parent_instance;
};

G_DEFINE_FINAL_TYPE (AstraPagerDutyPlugin, astra_pagerduty_plugin, ASTRA_TYPE_PLUGIN)

static gboolean
astra_pagerduty_plugin_render (AstraPlugin *plugin, AstraEvent *event, AstraRequest *request, GError **error)
{
	g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_NOT_SUPPORTED, "not written yet");
	return FALSE;
}

static void
astra_pagerduty_plugin_class_init (AstraPagerDutyPluginClass *klass)
{
	ASTRA_PLUGIN_CLASS (klass)->render = astra_pagerduty_plugin_render;
}

static void
astra_pagerduty_plugin_init (AstraPagerDutyPlugin *self)
{
}
