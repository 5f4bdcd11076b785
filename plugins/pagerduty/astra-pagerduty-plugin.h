/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <astra.h>

G_BEGIN_DECLS

#define ASTRA_TYPE_PAGERDUTY_PLUGIN (astra_pagerduty_plugin_get_type ())
G_DECLARE_FINAL_TYPE (AstraPagerDutyPlugin, astra_pagerduty_plugin, ASTRA, PAGERDUTY_PLUGIN, AstraPlugin)

G_END_DECLS
