/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "astra-teams-plugin.h"

struct _AstraTeamsPlugin {
	AstraPlugin parent_instance;
};

G_DEFINE_FINAL_TYPE (AstraTeamsPlugin, astra_teams_plugin, ASTRA_TYPE_PLUGIN)

static gboolean
astra_teams_plugin_render (AstraPlugin *plugin, AstraEvent *event, AstraRequest *request, GError **error)
{
	g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_NOT_SUPPORTED, "not written yet");
	return FALSE;
}

static void
astra_teams_plugin_class_init (AstraTeamsPluginClass *klass)
{
	ASTRA_PLUGIN_CLASS (klass)->render = astra_teams_plugin_render;
}

static void
astra_teams_plugin_init (AstraTeamsPlugin *self)
{
}
