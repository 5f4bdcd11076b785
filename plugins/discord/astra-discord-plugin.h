/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <astra.h>

#include "astra-event-view.h"

G_BEGIN_DECLS

#define ASTRA_TYPE_DISCORD_PLUGIN (astra_discord_plugin_get_type ())
G_DECLARE_FINAL_TYPE (AstraDiscordPlugin, astra_discord_plugin, ASTRA, DISCORD_PLUGIN, AstraPlugin)

/* what render does, from a view a test may have filled with text no event schema allows */
gboolean astra_discord_plugin_render_view (AstraDiscordPlugin *self,
					   AstraEventView *view,
					   AstraRequest *request,
					   GError **error);

G_END_DECLS
