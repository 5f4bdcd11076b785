/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <astra.h>

G_BEGIN_DECLS

#define ASTRA_TYPE_TEAMS_PLUGIN (astra_teams_plugin_get_type ())
G_DECLARE_FINAL_TYPE (AstraTeamsPlugin, astra_teams_plugin, ASTRA, TEAMS_PLUGIN, AstraPlugin)

/* for tests: a budget below the default 24 KiB */
void astra_teams_plugin_set_body_max (AstraTeamsPlugin *self, gsize body_max);

G_END_DECLS
