/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <astra.h>

G_BEGIN_DECLS

#define ASTRA_TYPE_SLACK_PLUGIN (astra_slack_plugin_get_type ())
G_DECLARE_FINAL_TYPE (AstraSlackPlugin, astra_slack_plugin, ASTRA, SLACK_PLUGIN, AstraPlugin)

G_END_DECLS
