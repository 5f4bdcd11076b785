/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "astra.h"
#include "astra-agent-registry.h"
#include "astra-clock.h"
#include "astra-config.h"
#include "astra-dispatcher.h"
#include "astra-plugin-loader.h"
#include "astra-router.h"
#include "astra-rule-engine.h"
#include "astra-series.h"

G_BEGIN_DECLS

#define ASTRA_TYPE_ENGINE (astra_engine_get_type ())
G_DECLARE_FINAL_TYPE (AstraEngine, astra_engine, ASTRA, ENGINE, GObject)

/* ties config, plugins, webhooks, router, dispatcher and the HTTP ingest together */
AstraEngine *astra_engine_new (AstraConfig *config);
/* with a given clock (a fake one in tests) */
AstraEngine *astra_engine_new_with_clock (AstraConfig *config, AstraClock *clock);
/* validates a config as start would, without binding or writing anything */
gboolean astra_engine_check_config (AstraConfig *config, GPtrArray *errors);
gboolean astra_engine_start (AstraEngine *self, GPtrArray *errors);
/* swaps in config's webhooks if all of them are valid; else keeps the old set */
gboolean astra_engine_reload (AstraEngine *self, AstraConfig *config, GPtrArray *errors);
/* the one entry point for events, whatever produced them */
void astra_engine_emit (AstraEngine *self, AstraEvent *event);
/* stops ingest, lets attempts in flight finish within the config's shutdown-timeout, then cancels the rest */
void astra_engine_shutdown_async (AstraEngine *self, GAsyncReadyCallback callback, gpointer user_data);
gboolean astra_engine_shutdown_finish (AstraEngine *self, GAsyncResult *result, GError **error);

AstraConfig *astra_engine_get_config (AstraEngine *self);
AstraPluginLoader *astra_engine_get_loader (AstraEngine *self);
AstraDispatcher *astra_engine_get_dispatcher (AstraEngine *self);
AstraRouter *astra_engine_get_router (AstraEngine *self);
GInetSocketAddress *astra_engine_get_http_address (AstraEngine *self);
AstraClock *astra_engine_get_clock (AstraEngine *self);
AstraAgentRegistry *astra_engine_get_agents (AstraEngine *self);
AstraRuleEngine *astra_engine_get_rule_engine (AstraEngine *self);
AstraSeriesStore *astra_engine_get_series (AstraEngine *self);

G_END_DECLS
