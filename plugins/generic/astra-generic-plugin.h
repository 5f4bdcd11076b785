/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <astra.h>

G_BEGIN_DECLS

#define ASTRA_TYPE_GENERIC_PLUGIN (astra_generic_plugin_get_type ())
G_DECLARE_FINAL_TYPE (AstraGenericPlugin, astra_generic_plugin, ASTRA, GENERIC_PLUGIN, AstraPlugin)

G_END_DECLS
