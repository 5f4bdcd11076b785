/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "astra.h"
#include "astra-agent-registry.h"
#include "astra-clock.h"
#include "astra-config.h"
#include "astra-deliverer.h"
#include "astra-dispatcher.h"
#include "astra-metrics.h"
#include "astra-outbox.h"
#include "astra-plugin-loader.h"
#include "astra-router.h"
#include "astra-rule-engine.h"
#include "astra-series.h"
#include "astra-silences.h"
#include "astra-state-db.h"

G_BEGIN_DECLS

/*
 * Signals, for the D-Bus service (all emitted from the main loop; pointers
 * are valid during the emission only):
 * - ::event-routed (AstraEvent *event, guint n_webhooks, gboolean silenced):
 *   every event, after its deliveries are stored (n_webhooks: how many
 *   webhooks get it, or would have but for a silence).
 * - ::alert-changed (AstraEvent *event): an alert.triggered or alert.resolved
 *   from the rules, after it was routed.
 * - ::attempt-finished (const char *webhook, gpointer delivery, AstraAttempt
 *   *attempt): after every attempt is recorded; delivery is the AstraDelivery
 *   as the outbox has it now.
 * - ::delivery-failed (const char *webhook, gpointer delivery, AstraAttempt
 *   *attempt, gboolean final): an attempt that was not delivered (skipped
 *   ones are not failures); final when the delivery became a dead letter or
 *   the answer disabled the webhook.
 * - ::reloaded (guint generation): a new configuration or rule set is in
 *   force.
 */

/* bounds on what astra_engine_emit_json() and astra_engine_render() accept */
#define ASTRA_ENGINE_MAX_EVENT_JSON (256 * 1024)
/* bytes of a receiver's answer astra_engine_test_webhook_finish() keeps */
#define ASTRA_ENGINE_MAX_RESPONSE_EXCERPT 1024

/* a request as a webhook would send it, with its credentials blanked out */
typedef struct {
	char *method;
	char *url;        /* scheme://host:port only */
	GPtrArray *names; /* header names, sorted (case-insensitively) */
	GPtrArray *values; /* their values, "[redacted]" for signatures and credentials */
	char *body;       /* valid UTF-8, credentials blanked out */
	char *event_id;
} AstraRenderedRequest;

void astra_rendered_request_free (AstraRenderedRequest *request);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AstraRenderedRequest, astra_rendered_request_free)

/* what astra_engine_test_webhook_finish() reports */
typedef struct {
	char *event_id;
	AstraOutcome outcome;
	gboolean skipped;
	guint status;
	double latency_ms;
	char *reason;           /* credentials blanked out; may be NULL */
	char *response_excerpt; /* at most ASTRA_ENGINE_MAX_RESPONSE_EXCERPT bytes of valid UTF-8 */
} AstraWebhookTestResult;

void astra_webhook_test_result_free (AstraWebhookTestResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AstraWebhookTestResult, astra_webhook_test_result_free)

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
/* the one reload of SIGHUP and D-Bus: reads the config file again (with the command line's
 * overrides), and swaps in its webhooks and rules only if all of it is valid; every problem
 * is appended to errors ("FILE:LINE: ...") and logged. The generation goes up by one */
gboolean astra_engine_reload_from_disk (AstraEngine *self, GPtrArray *errors);
/* the one entry point for events, whatever produced them */
void astra_engine_emit (AstraEngine *self, AstraEvent *event);
/* an event of type (e.g. "speedtest.completed") with data_json (its "data" object), checked
 * against its schema and emitted now; ASTRA_ERROR_INVALID_DATA names the field at fault,
 * ASTRA_ERROR_TOO_LARGE past ASTRA_ENGINE_MAX_EVENT_JSON. Returns the event (transfer full) */
AstraEvent *astra_engine_emit_json (AstraEngine *self, const char *type, const char *data_json, GError **error);
/* one sample, as if an agent had sent it now, through the same path as ingested samples;
 * ASTRA_ERROR_INVALID_DATA if a bound of the series store refuses it */
gboolean astra_engine_push_sample (AstraEngine *self,
				   const char *metric,
				   double value,
				   const AstraLabel *labels,
				   guint n_labels,
				   GError **error);
/* the sample event of a type (the fixtures of data/events/, compiled in), with a new id and
 * the clock's now; ASTRA_ERROR_INVALID_DATA names the known types */
AstraEvent *astra_engine_sample_event (AstraEngine *self, const char *type, GError **error);
/* a whole event ({"event","timestamp","data"}), checked like any other, with a new id */
AstraEvent *astra_engine_parse_event (AstraEngine *self, const char *json, GError **error);
/* the configured webhook of that name; ASTRA_ERROR_NOT_FOUND names those there are */
AstraWebhook *astra_engine_lookup_webhook (AstraEngine *self, const char *name, GError **error);
/* the request webhook would send for event_json (empty: the sample of event_type), rendered by
 * its plugin and signed, without sending it; credentials and signatures "[redacted]" */
AstraRenderedRequest *astra_engine_render (AstraEngine *self,
					   const char *webhook,
					   const char *event_type,
					   const char *event_json,
					   GError **error);
/* sends the sample event of event_type to webhook once, now, outside the outbox (no retry, no
 * history): what happened, or an error if there is no such webhook or type */
void astra_engine_test_webhook_async (AstraEngine *self,
				      const char *webhook,
				      const char *event_type,
				      GAsyncReadyCallback callback,
				      gpointer user_data);
AstraWebhookTestResult *astra_engine_test_webhook_finish (AstraEngine *self, GAsyncResult *result, GError **error);
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
/* NULL before astra_engine_start() opened the state */
AstraDeliverer *astra_engine_get_deliverer (AstraEngine *self);
AstraOutbox *astra_engine_get_outbox (AstraEngine *self);
AstraSilences *astra_engine_get_silences (AstraEngine *self);
AstraStateDb *astra_engine_get_state_db (AstraEngine *self);
AstraMetrics *astra_engine_get_metrics (AstraEngine *self);
/* when the engine was made (unix microseconds) */
gint64 astra_engine_get_started_at (AstraEngine *self);
/* 1 at start, +1 for each accepted reload (of the config or, on a change on disk, the rules) */
guint astra_engine_get_generation (AstraEngine *self);

/* text from outside as valid UTF-8 of at most max bytes, cut at a character boundary */
char *astra_engine_excerpt (const char *data, gssize len, gsize max);

G_END_DECLS
