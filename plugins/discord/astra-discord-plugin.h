/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <astra.h>

G_BEGIN_DECLS

#define ASTRA_TYPE_DISCORD_PLUGIN (astra_discord_plugin_get_type ())
G_DECLARE_FINAL_TYPE (AstraDiscordPlugin, astra_discord_plugin, ASTRA, DISCORD_PLUGIN, AstraPlugin)

G_END_DECLS
