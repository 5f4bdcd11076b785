/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Only in the shared module, so the static library can sit beside others in tests.
 */

#include "config.h"

#include "astra-slack-plugin.h"

ASTRA_PLUGIN_DEFINE ("slack", astra_slack_plugin_get_type)
