/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "astra-agent-registry.h"
#include "astra-clock.h"
#include "astra-deliverer.h"
#include "astra-metrics.h"
#include "astra-outbox.h"
#include "astra-engine.h"
#include "astra-engine-resources.h"
#include "astra-http-server.h"
#include "astra-reports.h"
#include "astra-rule-engine.h"
#include "astra-series.h"
#include "astra-silences.h"
#include "astra-state-db.h"
#include "astra-webhook.h"
#include "astra-event-schema.h"

/* edits arrive as several file events (an editor's write, rename, chmod): wait for them to settle */
#define ASTRA_ENGINE_RULES_DEBOUNCE_MS 500
/* how often delivered history past its retention is pruned, and how much per main-loop turn */
#define ASTRA_ENGINE_PRUNE_INTERVAL_S 600
#define ASTRA_ENGINE_PRUNE_BATCH 1000

struct _AstraEngine {
	GObject parent_instance;
	AstraConfig *config;
	AstraPluginLoader *loader;
	AstraDispatcher *dispatcher;
	AstraRouter *router;
	AstraHttpServer *http;
	AstraClock *clock;
	AstraStateDb *state_db;
	AstraSeriesStore *series;
	AstraAgentRegistry *agents;
	AstraReports *reports;
	AstraRuleEngine *rule_engine;
	GFileMonitor *rules_monitor;
	guint rules_reload_id;
	AstraOutbox *outbox;
	AstraDeliverer *deliverer;
	AstraMetrics *metrics;
	AstraSilences *silences;
	AstraCounter *events_total;   /* by type */
	AstraCounter *attempts_total; /* by webhook and outcome */
	AstraCounter *silenced_total; /* by type */
	guint prune_id;
	guint prune_more_id; /* an idle while a batch left more to prune */
	int lock_fd;
	gint64 started_at_us;
	guint generation;
};

enum {
	SIGNAL_EVENT_ROUTED,
	SIGNAL_ALERT_CHANGED,
	SIGNAL_ATTEMPT_FINISHED,
	SIGNAL_DELIVERY_FAILED,
	SIGNAL_RELOADED,
	SIGNAL_LAST,
};

static guint signals[SIGNAL_LAST];

G_DEFINE_FINAL_TYPE (AstraEngine, astra_engine, G_TYPE_OBJECT)

/**
 * astra_rendered_request_free:
 * @request: (nullable): an #AstraRenderedRequest
 *
 * Frees a request astra_engine_render() made.
 *
 * Since: 1.0
 */
void
astra_rendered_request_free (AstraRenderedRequest *request)
{
	if (request == NULL)
		return;
	g_free (request->method);
	g_free (request->url);
	g_ptr_array_unref (request->names);
	g_ptr_array_unref (request->values);
	g_free (request->body);
	g_free (request->event_id);
	g_free (request);
}

/**
 * astra_webhook_test_result_free:
 * @result: (nullable): an #AstraWebhookTestResult
 *
 * Frees what astra_engine_test_webhook_finish() returned.
 *
 * Since: 1.0
 */
void
astra_webhook_test_result_free (AstraWebhookTestResult *result)
{
	if (result == NULL)
		return;
	g_free (result->event_id);
	g_free (result->reason);
	g_free (result->response_excerpt);
	g_free (result);
}

static void
astra_engine_dispose (GObject *object)
{
	AstraEngine *self = ASTRA_ENGINE (object);

	g_clear_handle_id (&self->rules_reload_id, g_source_remove);
	g_clear_handle_id (&self->prune_id, g_source_remove);
	g_clear_handle_id (&self->prune_more_id, g_source_remove);
	if (self->rules_monitor != NULL)
		g_file_monitor_cancel (self->rules_monitor);
	g_clear_object (&self->rules_monitor);
	g_clear_object (&self->http);
	g_clear_object (&self->reports);
	g_clear_object (&self->silences);
	g_clear_object (&self->deliverer);
	g_clear_object (&self->outbox);
	g_clear_object (&self->rule_engine);
	g_clear_object (&self->agents);
	g_clear_object (&self->series);
	g_clear_object (&self->state_db);
	g_clear_object (&self->router);
	g_clear_object (&self->dispatcher);
	g_clear_object (&self->loader);
	g_clear_object (&self->config);
	g_clear_object (&self->metrics);
	g_clear_object (&self->clock);
	if (self->lock_fd >= 0) {
		g_close (self->lock_fd, NULL);
		self->lock_fd = -1;
	}
	G_OBJECT_CLASS (astra_engine_parent_class)->dispose (object);
}

static void
astra_engine_class_init (AstraEngineClass *klass)
{
	G_OBJECT_CLASS (klass)->dispose = astra_engine_dispose;

	signals[SIGNAL_EVENT_ROUTED] =
	    g_signal_new ("event-routed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
			  G_TYPE_NONE, 3, ASTRA_TYPE_EVENT, G_TYPE_UINT, G_TYPE_BOOLEAN);
	signals[SIGNAL_ALERT_CHANGED] =
	    g_signal_new ("alert-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
			  G_TYPE_NONE, 1, ASTRA_TYPE_EVENT);
	signals[SIGNAL_ATTEMPT_FINISHED] =
	    g_signal_new ("attempt-finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
			  G_TYPE_NONE, 3, G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE, G_TYPE_POINTER,
			  ASTRA_TYPE_ATTEMPT | G_SIGNAL_TYPE_STATIC_SCOPE);
	signals[SIGNAL_DELIVERY_FAILED] =
	    g_signal_new ("delivery-failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
			  G_TYPE_NONE, 4, G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE, G_TYPE_POINTER,
			  ASTRA_TYPE_ATTEMPT | G_SIGNAL_TYPE_STATIC_SCOPE, G_TYPE_BOOLEAN);
	signals[SIGNAL_RELOADED] =
	    g_signal_new ("reloaded", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
			  G_TYPE_NONE, 1, G_TYPE_UINT);
}

static void
astra_engine_init (AstraEngine *self)
{
	self->lock_fd = -1;
	self->loader = astra_plugin_loader_new ();
	self->dispatcher = astra_dispatcher_new ();
	self->router = astra_router_new ();
	self->metrics = astra_metrics_new ();
	/* counters exist from the start: restoring agents and alerts already routes events */
	self->events_total = astra_metrics_counter (self->metrics, "astra_events_total", "Events routed, by type",
						    (const char *const[]) {"type", NULL});
	self->attempts_total = astra_metrics_counter (self->metrics, "astra_delivery_attempts_total",
						      "Delivery attempts, by webhook and outcome",
						      (const char *const[]) {"webhook", "outcome", NULL});
	self->silenced_total = astra_metrics_counter (self->metrics, "astra_events_silenced_total",
						      "Events held back by a silence, by type",
						      (const char *const[]) {"type", NULL});
	self->generation = 1;
}

static void
astra_engine_sink_cb (AstraEvent *event, gpointer user_data)
{
	AstraEngine *self = ASTRA_ENGINE (user_data);

	/* an agent back online: its series' no-data clocks start again from now */
	if (astra_event_get_kind (event) == ASTRA_EVENT_KIND_AGENT_STATUS_CHANGED && self->rule_engine != NULL) {
		JsonObject *data = astra_event_get_data (event);
		if (g_strcmp0 (json_object_get_string_member_with_default (data, "current_status", NULL), "online") == 0)
			astra_rule_engine_agent_online (self->rule_engine,
							json_object_get_string_member (data, "agent_id"));
	}
	astra_engine_emit (self, event);
}

static GStrv astra_engine_webhook_names (GPtrArray *webhooks);

/* a silence holds the deliveries back: they are recorded as silenced, never attempted */
static void
astra_engine_hold_back (AstraEngine *self, AstraEvent *event, GPtrArray *webhooks, const char *silence_id)
{
	g_auto(GStrv) names = astra_engine_webhook_names (webhooks);
	g_autoptr(GError) error_local = NULL;

	astra_counter_inc (self->silenced_total, (const char *const[]) {astra_event_get_type_name (event), NULL});
	g_debug ("%s %s: silenced by %s", astra_event_get_type_name (event), astra_event_get_id (event), silence_id);
	if (!astra_outbox_add_silenced (self->outbox, event, (const char *const *) names, silence_id,
					astra_clock_now (self->clock), &error_local))
		g_warning ("%s %s could not be recorded as silenced: %s", astra_event_get_type_name (event),
			   astra_event_get_id (event), error_local->message);
}

/* the one way into the outbox: the matching webhooks each get a durable delivery */
static void
astra_engine_route (AstraEngine *self, AstraEvent *event, const char *const *names)
{
	g_autoptr(GPtrArray) webhooks = astra_router_match (self->router, event, names);
	g_autoptr(GError) error_local = NULL;
	const char *silence_id = NULL;

	astra_counter_inc (self->events_total, (const char *const[]) {astra_event_get_type_name (event), NULL});
	if (webhooks->len == 0) {
		g_debug ("%s %s: no webhook wants it", astra_event_get_type_name (event), astra_event_get_id (event));
	} else if (self->deliverer == NULL) {
		g_warning ("%s %s arrived before the outbox was open and was not routed",
			   astra_event_get_type_name (event), astra_event_get_id (event));
	} else if (self->silences != NULL &&
		   (silence_id = astra_silences_match (self->silences, event)) != NULL) {
		astra_engine_hold_back (self, event, webhooks, silence_id);
	} else if (!astra_deliverer_submit (self->deliverer, event, NULL, webhooks, &error_local)) {
		g_warning ("%s %s could not be stored for delivery: %s", astra_event_get_type_name (event),
			   astra_event_get_id (event), error_local->message);
	}
	g_signal_emit (self, signals[SIGNAL_EVENT_ROUTED], 0, event, webhooks->len, silence_id != NULL);
}

static void
astra_engine_alert_sink_cb (AstraEvent *event, const char *const *webhooks, gpointer user_data)
{
	AstraEngine *self = ASTRA_ENGINE (user_data);

	g_debug ("event %s %s", astra_event_get_type_name (event), astra_event_get_id (event));
	astra_engine_route (self, event, webhooks);
	g_signal_emit (self, signals[SIGNAL_ALERT_CHANGED], 0, event);
}

/* every sample, from any ingest path, becomes a point of a series the rules watch */
static gboolean
astra_engine_sample_cb (const char *metric,
			const AstraLabel *labels,
			guint n_labels,
			double value,
			gint64 timestamp_us,
			AstraSeriesReject *reject,
			gpointer user_data)
{
	AstraEngine *self = ASTRA_ENGINE (user_data);
	AstraSeries *series = astra_series_store_lookup (self->series, metric, labels, n_labels, reject);

	if (series == NULL)
		return FALSE;
	astra_rule_engine_push (self->rule_engine, series, value, timestamp_us);
	return TRUE;
}

static const AstraAgentInfo *
astra_engine_agent_lookup_cb (const char *agent_id, gpointer user_data)
{
	AstraEngine *self = ASTRA_ENGINE (user_data);

	return astra_agent_registry_lookup (self->agents, agent_id);
}

AstraEngine *
astra_engine_new_with_clock (AstraConfig *config, AstraClock *clock)
{
	AstraEngine *self = g_object_new (ASTRA_TYPE_ENGINE, NULL);
	guint max_series, max_labels, max_label_length;

	self->config = g_object_ref (config);
	self->clock = g_object_ref (clock);
	self->started_at_us = astra_clock_now (clock);
	self->series = astra_series_store_new ();
	astra_config_get_series_limits (config, &max_series, &max_labels, &max_label_length);
	astra_series_store_set_limits (self->series, max_series, max_labels, 128, max_label_length);
	self->http = astra_http_server_new (astra_config_get_max_body_size (config), astra_engine_sink_cb, self);
	return self;
}

AstraEngine *
astra_engine_new (AstraConfig *config)
{
	g_autoptr(AstraClock) clock = astra_clock_new ();

	return astra_engine_new_with_clock (config, clock);
}

static GStrv
astra_engine_webhook_names (GPtrArray *webhooks)
{
	g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

	for (guint i = 0; i < webhooks->len; i++)
		g_strv_builder_add (builder, astra_webhook_get_name (g_ptr_array_index (webhooks, i)));
	return g_strv_builder_end (builder);
}

static AstraRuleSet *
astra_engine_load_rules (AstraConfig *config, GPtrArray *webhooks, GPtrArray *errors)
{
	g_auto(GStrv) names = webhooks != NULL ? astra_engine_webhook_names (webhooks) : NULL;

	return astra_rule_set_load_dir (astra_config_get_rules_dir (config), (const char *const *) names, errors);
}

static void
astra_engine_load_plugins (AstraPluginLoader *loader, AstraConfig *config, GPtrArray *errors)
{
	g_autoptr(GError) error_local = NULL;

	/* a refused module is logged by the loader and skipped: only an unusable folder stops us */
	if (!astra_plugin_loader_load_dir (loader, astra_config_get_plugin_dir (config), &error_local))
		g_ptr_array_add (errors, g_strdup_printf ("plugin folder %s: %s",
							  astra_config_get_plugin_dir (config),
							  error_local->message));
}

gboolean
astra_engine_check_config (AstraConfig *config, GPtrArray *errors)
{
	g_autoptr(AstraPluginLoader) loader = astra_plugin_loader_new ();
	g_autoptr(GPtrArray) webhooks = NULL;
	g_autoptr(AstraRuleSet) rules = NULL;
	guint n_errors = errors->len;

	astra_engine_load_plugins (loader, config, errors);
	webhooks = astra_webhook_build_all (config, loader, errors);
	rules = astra_engine_load_rules (config, webhooks, errors);
	return webhooks != NULL && rules != NULL && errors->len == n_errors;
}

static gboolean
astra_engine_prepare_state_dir (AstraEngine *self, GError **error)
{
	const char *dir = astra_config_get_state_dir (self->config);
	g_autofree char *lock_path = g_build_filename (dir, "astra-alertd.lock", NULL);
	g_autofree char *pid = NULL;

	if (g_mkdir_with_parents (dir, 0750) != 0) {
		int errsv = errno;
		g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
			     "cannot create state folder %s: %s", dir, g_strerror (errsv));
		return FALSE;
	}
	/* two daemons on one state folder would deliver everything twice */
	self->lock_fd = g_open (lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (self->lock_fd < 0) {
		int errsv = errno;
		g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
			     "cannot open %s: %s", lock_path, g_strerror (errsv));
		return FALSE;
	}
	if (flock (self->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		g_set_error (error, G_IO_ERROR, G_IO_ERROR_BUSY,
			     "another astra-alertd is using the state folder %s", dir);
		return FALSE;
	}
	pid = g_strdup_printf ("%d\n", (int) getpid ());
	if (ftruncate (self->lock_fd, 0) != 0 || write (self->lock_fd, pid, strlen (pid)) < 0)
		g_debug ("cannot write the pid to %s: %s", lock_path, g_strerror (errno));
	return TRUE;
}

static gboolean
astra_engine_rules_reload_cb (gpointer user_data)
{
	AstraEngine *self = ASTRA_ENGINE (user_data);
	g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func (g_free);
	g_autoptr(AstraRuleSet) rules = NULL;

	self->rules_reload_id = 0;
	rules = astra_engine_load_rules (self->config, astra_router_get_webhooks (self->router), errors);
	if (rules == NULL) {
		for (guint i = 0; i < errors->len; i++)
			g_warning ("%s", (const char *) g_ptr_array_index (errors, i));
		g_warning ("rules not reloaded: %u errors; the previous rules stay in force", errors->len);
		return G_SOURCE_REMOVE;
	}
	astra_rule_engine_set_rules (self->rule_engine, rules);
	self->generation++;
	g_message ("rules reloaded from %s: %u rules", astra_config_get_rules_dir (self->config),
		   astra_rule_set_get_rules (rules)->len);
	g_signal_emit (self, signals[SIGNAL_RELOADED], 0, self->generation);
	return G_SOURCE_REMOVE;
}

static void
astra_engine_rules_changed_cb (GFileMonitor *monitor,
			       GFile *file,
			       GFile *other_file,
			       GFileMonitorEvent event_type,
			       gpointer user_data)
{
	AstraEngine *self = ASTRA_ENGINE (user_data);
	g_autofree char *basename = g_file_get_basename (file);

	/* editors write swap and backup files beside the rules: only *.rules matter */
	if (!g_str_has_suffix (basename, ".rules") &&
	    (other_file == NULL || !g_str_has_suffix (g_file_peek_path (other_file), ".rules")))
		return;
	if (event_type == G_FILE_MONITOR_EVENT_ATTRIBUTE_CHANGED)
		return;
	g_clear_handle_id (&self->rules_reload_id, g_source_remove);
	self->rules_reload_id = g_timeout_add (ASTRA_ENGINE_RULES_DEBOUNCE_MS, astra_engine_rules_reload_cb, self);
}

static void
astra_engine_watch_rules (AstraEngine *self)
{
	g_autoptr(GFile) dir = g_file_new_for_path (astra_config_get_rules_dir (self->config));
	g_autoptr(GError) error_local = NULL;

	self->rules_monitor = g_file_monitor_directory (dir, G_FILE_MONITOR_WATCH_MOVES, NULL, &error_local);
	if (self->rules_monitor == NULL) {
		g_warning ("not watching %s for changes (reload with SIGHUP): %s",
			   astra_config_get_rules_dir (self->config), error_local->message);
		return;
	}
	g_signal_connect (self->rules_monitor, "changed", G_CALLBACK (astra_engine_rules_changed_cb), self);
}

typedef struct {
	AstraAttemptDoneFunc done;
	gpointer done_data;
} AstraEngineAttempt;

static void
astra_engine_attempt_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autofree AstraEngineAttempt *attempt_data = user_data;
	g_autoptr(AstraAttempt) attempt = astra_dispatcher_attempt_finish (ASTRA_DISPATCHER (source), result);

	attempt_data->done (attempt, attempt_data->done_data);
}

/* the deliverer's way out: render, sign, send and classify, through the dispatcher's one HTTP client */
static void
astra_engine_attempt_start_cb (AstraWebhook *webhook,
			       AstraEvent *event,
			       guint attempt,
			       GCancellable *cancellable,
			       AstraAttemptDoneFunc done,
			       gpointer done_data,
			       gpointer user_data)
{
	AstraEngine *self = ASTRA_ENGINE (user_data);
	AstraEngineAttempt *attempt_data = g_new0 (AstraEngineAttempt, 1);
	g_autoptr(GError) error_local = NULL;

	/* a delivery is on disk before it goes out: a crash after sending can only repeat it, never lose it */
	if (astra_outbox_has_uncommitted_adds (self->outbox) && !astra_state_db_flush (self->state_db, &error_local))
		g_warning ("%s", error_local->message);
	attempt_data->done = done;
	attempt_data->done_data = done_data;
	astra_dispatcher_attempt_async (self->dispatcher, webhook, event, attempt, cancellable,
					astra_engine_attempt_cb, attempt_data);
}

static void
astra_engine_attempt_finished_cb (AstraDeliverer *deliverer,
				  const char *webhook,
				  const AstraDelivery *delivery,
				  AstraAttempt *attempt,
				  gpointer user_data)
{
	AstraEngine *self = ASTRA_ENGINE (user_data);
	const char *outcome = attempt->skipped ? "skipped" : astra_outcome_to_string (attempt->outcome);

	astra_counter_inc (self->attempts_total, (const char *const[]) {webhook, outcome, NULL});
	g_signal_emit (self, signals[SIGNAL_ATTEMPT_FINISHED], 0, webhook, delivery, attempt);
	if (!attempt->skipped && attempt->outcome != ASTRA_OUTCOME_DELIVERED) {
		gboolean final = delivery->state == ASTRA_DELIVERY_STATE_DEAD || attempt->outcome == ASTRA_OUTCOME_GONE;
		g_signal_emit (self, signals[SIGNAL_DELIVERY_FAILED], 0, webhook, delivery, attempt, final);
	}
}

/* a 2xx to whoever sent events promises they are stored */
static gboolean
astra_engine_commit_cb (gpointer user_data, GError **error)
{
	AstraEngine *self = ASTRA_ENGINE (user_data);

	if (self->agents != NULL && !astra_agent_registry_flush (self->agents, error))
		return FALSE;
	return self->state_db == NULL || astra_state_db_flush (self->state_db, error);
}

/* one batch of history past its retention; TRUE if there may be more */
static gboolean
astra_engine_prune_batch (AstraEngine *self)
{
	g_autoptr(GError) error_local = NULL;
	gint64 older_than = astra_clock_now (self->clock) - astra_config_get_retention (self->config);
	guint n_pruned = 0;

	if (!astra_outbox_prune (self->outbox, older_than, astra_config_get_retention_count (self->config),
				 ASTRA_ENGINE_PRUNE_BATCH, &n_pruned, &error_local)) {
		g_warning ("pruning the delivery history: %s", error_local->message);
		return FALSE;
	}
	if (n_pruned > 0)
		g_debug ("pruned %u delivered deliveries from the history", n_pruned);
	return n_pruned == ASTRA_ENGINE_PRUNE_BATCH;
}

static gboolean
astra_engine_prune_more_cb (gpointer user_data)
{
	AstraEngine *self = ASTRA_ENGINE (user_data);

	if (astra_engine_prune_batch (self))
		return G_SOURCE_CONTINUE;
	self->prune_more_id = 0;
	return G_SOURCE_REMOVE;
}

static gboolean
astra_engine_prune_cb (gpointer user_data)
{
	AstraEngine *self = ASTRA_ENGINE (user_data);

	/* a batch per turn keeps the loop responsive; idle turns go on while there is more */
	if (self->prune_more_id == 0 && astra_engine_prune_batch (self))
		self->prune_more_id = g_idle_add_full (G_PRIORITY_LOW, astra_engine_prune_more_cb, self, NULL);
	return G_SOURCE_CONTINUE;
}

/* per-webhook gauges from the deliverer's status */
static void
astra_engine_collect_webhooks_cb (GString *out, const char *name, gpointer user_data)
{
	AstraEngine *self = ASTRA_ENGINE (user_data);
	g_autoptr(GPtrArray) statuses = astra_deliverer_get_status (self->deliverer);
	gint64 now = astra_clock_now (self->clock);

	for (guint i = 0; i < statuses->len; i++) {
		AstraWebhookStatus *st = g_ptr_array_index (statuses, i);
		const char *const labels[] = {"webhook", NULL};
		const char *const values[] = {st->webhook, NULL};
		double value = 0;

		if (g_strcmp0 (name, "astra_delivery_queue_depth") == 0)
			value = st->pending;
		else if (g_strcmp0 (name, "astra_delivery_in_flight") == 0)
			value = st->in_flight;
		else if (g_strcmp0 (name, "astra_delivery_oldest_pending_seconds") == 0)
			value = st->oldest_pending_us > 0 ? (double) (now - st->oldest_pending_us) / G_USEC_PER_SEC : 0;
		else if (g_strcmp0 (name, "astra_webhook_circuit_state") == 0)
			value = st->circuit;
		else if (g_strcmp0 (name, "astra_webhook_enabled") == 0)
			value = st->enabled ? 1 : 0;
		else if (g_strcmp0 (name, "astra_deliveries_total") == 0) {
			const struct {
				const char *outcome;
				guint64 n;
			} outcomes[] = {{"delivered", st->n_delivered}, {"dead", st->n_dead}, {"skipped", st->n_skipped}};
			for (guint j = 0; j < G_N_ELEMENTS (outcomes); j++) {
				const char *const l2[] = {"webhook", "outcome", NULL};
				const char *const v2[] = {st->webhook, outcomes[j].outcome, NULL};
				astra_metrics_append_sample (out, name, l2, v2, (double) outcomes[j].n);
			}
			continue;
		} else if (g_strcmp0 (name, "astra_delivery_retries_total") == 0)
			value = (double) st->n_retries;
		astra_metrics_append_sample (out, name, labels, values, value);
	}
}

static void
astra_engine_collect_misc_cb (GString *out, const char *name, gpointer user_data)
{
	AstraEngine *self = ASTRA_ENGINE (user_data);

	if (g_strcmp0 (name, "astra_rule_evaluations_total") == 0) {
		astra_metrics_append_sample (out, name, NULL, NULL,
					     (double) astra_rule_engine_get_n_evaluations (self->rule_engine));
	} else if (g_strcmp0 (name, "astra_alerts_firing") == 0) {
		astra_metrics_append_sample (out, name, NULL, NULL, astra_rule_engine_get_n_firing (self->rule_engine));
	} else if (g_strcmp0 (name, "astra_agents") == 0) {
		astra_metrics_append_sample (out, name, NULL, NULL, astra_agent_registry_get_size (self->agents));
	} else if (g_strcmp0 (name, "astra_series") == 0) {
		astra_metrics_append_sample (out, name, NULL, NULL, astra_series_store_get_size (self->series));
	} else if (g_strcmp0 (name, "astra_webhook_connections") == 0) {
		astra_metrics_append_sample (out, name, NULL, NULL, astra_dispatcher_get_n_connections (self->dispatcher));
	} else if (g_strcmp0 (name, "astra_webhook_connects_total") == 0) {
		astra_metrics_append_sample (out, name, NULL, NULL,
					     (double) astra_dispatcher_get_n_connects (self->dispatcher));
	} else if (g_strcmp0 (name, "astra_ingest_samples_rejected_total") == 0) {
		for (guint r = ASTRA_SERIES_REJECT_NAME; r < ASTRA_SERIES_REJECT_LAST; r++) {
			static const char *const reasons[] = {"none", "name", "value", "too_many_labels",
							      "duplicate_label", "series_limit"};
			const char *const labels[] = {"reason", NULL};
			const char *const values[] = {reasons[r], NULL};
			astra_metrics_append_sample (out, name, labels, values,
						     (double) astra_series_store_get_rejected (self->series, r));
		}
	}
}

static void
astra_engine_register_metrics (AstraEngine *self)
{
	static const struct {
		const char *name;
		const char *help;
		const char *type;
		gboolean per_webhook;
	} families[] = {
	    {"astra_deliveries_total", "Deliveries finished, by webhook and outcome", "counter", TRUE},
	    {"astra_delivery_retries_total", "Attempts that will be retried, by webhook", "counter", TRUE},
	    {"astra_delivery_queue_depth", "Deliveries pending (in memory and on disk), by webhook", "gauge", TRUE},
	    {"astra_delivery_in_flight", "Attempts in flight, by webhook", "gauge", TRUE},
	    {"astra_delivery_oldest_pending_seconds", "Age of the oldest pending delivery, by webhook", "gauge", TRUE},
	    {"astra_webhook_circuit_state", "Circuit breaker: 0 closed, 1 open, 2 half-open", "gauge", TRUE},
	    {"astra_webhook_enabled", "1 if the webhook is enabled, 0 if disabled (config or a gone answer)", "gauge",
	     TRUE},
	    {"astra_rule_evaluations_total", "Rule evaluations of samples", "counter", FALSE},
	    {"astra_alerts_firing", "Alerts firing now", "gauge", FALSE},
	    {"astra_agents", "Agents known", "gauge", FALSE},
	    {"astra_series", "Series known", "gauge", FALSE},
	    {"astra_ingest_samples_rejected_total", "Samples refused by a bound, by reason", "counter", FALSE},
	    {"astra_webhook_connections", "Open keep-alive connections to receivers (busy and idle)", "gauge", FALSE},
	    {"astra_webhook_connects_total", "Connections made to receivers (a steady rise: receivers close them)",
	     "counter", FALSE},
	};
	for (guint i = 0; i < G_N_ELEMENTS (families); i++)
		astra_metrics_add_collector (self->metrics, families[i].name, families[i].help, families[i].type,
					     families[i].per_webhook ? astra_engine_collect_webhooks_cb
								     : astra_engine_collect_misc_cb,
					     self);
	astra_metrics_add_process_collectors (self->metrics);
	astra_http_server_set_metrics (self->http, self->metrics);
	astra_http_server_set_commit_func (self->http, astra_engine_commit_cb);
}

/* the state database, the agent registry, the rules and the typed reports, restored from disk */
static gboolean
astra_engine_start_state (AstraEngine *self, GPtrArray *webhooks, GPtrArray *errors)
{
	g_autofree char *db_path = g_build_filename (astra_config_get_state_dir (self->config), "state.db", NULL);
	g_autoptr(GError) error_local = NULL;
	g_autoptr(AstraRuleSet) rules = NULL;

	rules = astra_engine_load_rules (self->config, webhooks, errors);
	if (rules == NULL)
		return FALSE;
	self->state_db = astra_state_db_open (db_path, &error_local);
	if (self->state_db == NULL) {
		g_ptr_array_add (errors, g_strdup (error_local->message));
		return FALSE;
	}
	self->outbox = astra_outbox_new (self->state_db, &error_local);
	if (self->outbox == NULL) {
		g_ptr_array_add (errors, g_strdup (error_local->message));
		return FALSE;
	}
	self->silences = astra_silences_new (self->state_db, self->clock, &error_local);
	if (self->silences == NULL) {
		g_ptr_array_add (errors, g_strdup (error_local->message));
		return FALSE;
	}
	self->deliverer = astra_deliverer_new (self->clock, self->outbox, astra_engine_attempt_start_cb, self);
	g_signal_connect (self->deliverer, "attempt-finished", G_CALLBACK (astra_engine_attempt_finished_cb), self);
	astra_deliverer_set_webhooks (self->deliverer, webhooks);
	if (!astra_deliverer_recover (self->deliverer, &error_local)) {
		g_ptr_array_add (errors, g_strdup (error_local->message));
		return FALSE;
	}
	self->agents = astra_agent_registry_new (self->clock, self->state_db, astra_engine_sink_cb, self);
	astra_agent_registry_set_default_offline_after (self->agents, astra_config_get_offline_after (self->config));
	self->rule_engine = astra_rule_engine_new (self->clock, self->series, self->state_db,
						   astra_engine_alert_sink_cb, self);
	astra_rule_engine_set_agent_lookup_func (self->rule_engine, astra_engine_agent_lookup_cb, self);
	astra_rule_engine_set_rules (self->rule_engine, rules);
	self->reports = astra_reports_new (self->agents, self->state_db, astra_engine_sink_cb,
					   astra_engine_sample_cb, self);
	astra_http_server_set_ingest (self->http, self->reports, astra_engine_sample_cb);

	/* webhooks are in place: what the restore emits (agents overdue while we were down) is delivered */
	if (!astra_agent_registry_restore (self->agents, &error_local) ||
	    !astra_rule_engine_restore (self->rule_engine, &error_local)) {
		g_ptr_array_add (errors, g_strdup (error_local->message));
		return FALSE;
	}
	astra_engine_watch_rules (self);
	astra_engine_register_metrics (self);
	self->prune_id = g_timeout_add_seconds (ASTRA_ENGINE_PRUNE_INTERVAL_S, astra_engine_prune_cb, self);
	return TRUE;
}

gboolean
astra_engine_start (AstraEngine *self, GPtrArray *errors)
{
	g_autoptr(GPtrArray) webhooks = NULL;
	g_autoptr(GError) error_local = NULL;
	g_autofree char *address = NULL;
	GInetSocketAddress *bound;
	guint n_errors = errors->len;
	guint n_enabled = 0;

	if (!astra_engine_prepare_state_dir (self, &error_local)) {
		g_ptr_array_add (errors, g_strdup (error_local->message));
		return FALSE;
	}
	astra_engine_load_plugins (self->loader, self->config, errors);
	webhooks = astra_webhook_build_all (self->config, self->loader, errors);
	if (webhooks == NULL || errors->len > n_errors)
		return FALSE;
	astra_router_set_webhooks (self->router, webhooks);
	if (!astra_engine_start_state (self, webhooks, errors))
		return FALSE;

	if (!astra_http_server_listen (self->http, astra_config_get_listen_address (self->config), &error_local)) {
		g_ptr_array_add (errors, g_strdup_printf ("%s: [daemon] listen: %s",
							  astra_config_get_path (self->config),
							  error_local->message));
		return FALSE;
	}
	for (guint i = 0; i < webhooks->len; i++)
		n_enabled += astra_webhook_get_enabled (g_ptr_array_index (webhooks, i)) ? 1 : 0;
	bound = astra_http_server_get_address (self->http);
	address = g_socket_connectable_to_string (G_SOCKET_CONNECTABLE (bound));
	g_message ("listening on http://%s/ (%u webhooks, %u enabled, %u rules, %u agents; state in %s)",
		   address, webhooks->len, n_enabled,
		   astra_rule_set_get_rules (astra_rule_engine_get_rules (self->rule_engine))->len,
		   astra_agent_registry_get_size (self->agents), astra_config_get_state_dir (self->config));
	return TRUE;
}

/* swaps config in if its webhooks and rules are valid and nothing past errors[n_errors] was found */
static gboolean
astra_engine_reload_full (AstraEngine *self, AstraConfig *config, GPtrArray *errors, guint n_errors)
{
	g_autoptr(GPtrArray) webhooks = NULL;
	g_autoptr(AstraRuleSet) rules = NULL;
	g_autofree char *old_address = NULL;
	g_autofree char *new_address = NULL;

	/* webhooks and rules go together: a rule may name a webhook the same edit added */
	webhooks = astra_webhook_build_all (config, self->loader, errors);
	rules = astra_engine_load_rules (config, webhooks, errors);
	if (webhooks == NULL || rules == NULL || errors->len > n_errors)
		return FALSE;

	/* these are bound or opened once; say so rather than pretend */
	old_address = g_socket_connectable_to_string (G_SOCKET_CONNECTABLE (astra_config_get_listen_address (self->config)));
	new_address = g_socket_connectable_to_string (G_SOCKET_CONNECTABLE (astra_config_get_listen_address (config)));
	if (g_strcmp0 (old_address, new_address) != 0)
		g_warning ("[daemon] listen changed to %s: that takes a restart", new_address);
	if (g_strcmp0 (astra_config_get_state_dir (self->config), astra_config_get_state_dir (config)) != 0)
		g_warning ("[daemon] state-dir changed: that takes a restart");
	if (g_strcmp0 (astra_config_get_plugin_dir (self->config), astra_config_get_plugin_dir (config)) != 0)
		g_warning ("[daemon] plugin-dir changed: that takes a restart");
	if (g_strcmp0 (astra_config_get_rules_dir (self->config), astra_config_get_rules_dir (config)) != 0)
		g_warning ("[daemon] rules-dir changed: it is read now, but watched for changes only after a restart");
	if (astra_config_get_bus (self->config) != astra_config_get_bus (config))
		g_warning ("[dbus] bus changed to %s: that takes a restart",
			   astra_config_bus_to_string (astra_config_get_bus (config)));

	astra_http_server_set_max_body_size (self->http, astra_config_get_max_body_size (config));
	astra_router_set_webhooks (self->router, webhooks);
	if (self->deliverer != NULL)
		astra_deliverer_set_webhooks (self->deliverer, webhooks);
	if (self->rule_engine != NULL)
		astra_rule_engine_set_rules (self->rule_engine, rules);
	if (self->agents != NULL)
		astra_agent_registry_set_default_offline_after (self->agents, astra_config_get_offline_after (config));
	g_set_object (&self->config, config);
	self->generation++;
	g_message ("configuration reloaded: %u webhooks, %u rules", webhooks->len, astra_rule_set_get_rules (rules)->len);
	g_signal_emit (self, signals[SIGNAL_RELOADED], 0, self->generation);
	return TRUE;
}

/**
 * astra_engine_reload:
 * @self: an #AstraEngine
 * @config: the new configuration
 * @errors: (element-type utf8): where problems are appended
 *
 * Swaps in the webhooks and rules of @config if all of them are valid; else
 * the running set stays.
 *
 * Returns: %TRUE if @config is now in force
 *
 * Since: 1.0
 */
gboolean
astra_engine_reload (AstraEngine *self, AstraConfig *config, GPtrArray *errors)
{
	g_return_val_if_fail (ASTRA_IS_ENGINE (self), FALSE);
	return astra_engine_reload_full (self, config, errors, errors->len);
}

/**
 * astra_engine_reload_from_disk:
 * @self: an #AstraEngine
 * @errors: (element-type utf8): where problems are appended
 *
 * The reload of SIGHUP and D-Bus: reads the configuration file again (with
 * the command line's overrides) and swaps in its webhooks and rules only if
 * all of it is valid. Every problem is appended to @errors, as
 * "FILE:LINE: [GROUP] KEY: message", and logged.
 *
 * Returns: %TRUE if the new configuration is in force
 *
 * Since: 1.0
 */
gboolean
astra_engine_reload_from_disk (AstraEngine *self, GPtrArray *errors)
{
	g_autoptr(AstraConfig) config = NULL;
	guint n_errors = errors->len;

	g_return_val_if_fail (ASTRA_IS_ENGINE (self), FALSE);

	g_message ("reloading %s", astra_config_get_path (self->config));
	/* the webhooks and rules are checked even when the file has errors: every problem at once */
	config = astra_config_load_again (self->config, errors);
	if (config == NULL || !astra_engine_reload_full (self, config, errors, n_errors)) {
		for (guint i = n_errors; i < errors->len; i++)
			g_warning ("%s", (const char *) g_ptr_array_index (errors, i));
		g_warning ("reload refused: %u %s; the previous configuration stays in force", errors->len - n_errors,
			   errors->len - n_errors == 1 ? "error" : "errors");
		return FALSE;
	}
	return TRUE;
}

void
astra_engine_emit (AstraEngine *self, AstraEvent *event)
{
	g_return_if_fail (ASTRA_IS_ENGINE (self));
	g_return_if_fail (ASTRA_IS_EVENT (event));

	g_debug ("event %s %s", astra_event_get_type_name (event), astra_event_get_id (event));
	astra_engine_route (self, event, NULL);
}

static void
astra_engine_deliverer_shutdown_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK (user_data);
	g_autoptr(GError) error_local = NULL;
	AstraEngine *self = g_task_get_source_object (task);

	/* what this last iteration wrote (agents, alerts) must not wait for an idle that never comes */
	if (!astra_deliverer_shutdown_finish (ASTRA_DELIVERER (source), result, &error_local) ||
	    !astra_engine_commit_cb (self, &error_local)) {
		g_task_return_error (task, g_steal_pointer (&error_local));
		return;
	}
	g_task_return_boolean (task, TRUE);
}

void
astra_engine_shutdown_async (AstraEngine *self, GAsyncReadyCallback callback, gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new (self, NULL, callback, user_data);

	g_task_set_source_tag (task, astra_engine_shutdown_async);
	astra_http_server_disconnect (self->http);
	g_clear_handle_id (&self->prune_id, g_source_remove);
	g_clear_handle_id (&self->prune_more_id, g_source_remove);
	if (self->deliverer == NULL) {
		g_task_return_boolean (task, TRUE);
		return;
	}
	/* what is not delivered by then stays in the outbox for the next start: nothing is lost */
	astra_deliverer_shutdown_async (self->deliverer, astra_config_get_shutdown_timeout (self->config),
					astra_engine_deliverer_shutdown_cb, g_steal_pointer (&task));
}

gboolean
astra_engine_shutdown_finish (AstraEngine *self, GAsyncResult *result, GError **error)
{
	g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
	return g_task_propagate_boolean (G_TASK (result), error);
}

AstraConfig *
astra_engine_get_config (AstraEngine *self)
{
	return self->config;
}

AstraPluginLoader *
astra_engine_get_loader (AstraEngine *self)
{
	return self->loader;
}

AstraDispatcher *
astra_engine_get_dispatcher (AstraEngine *self)
{
	return self->dispatcher;
}

AstraRouter *
astra_engine_get_router (AstraEngine *self)
{
	return self->router;
}

GInetSocketAddress *
astra_engine_get_http_address (AstraEngine *self)
{
	return astra_http_server_get_address (self->http);
}

AstraClock *
astra_engine_get_clock (AstraEngine *self)
{
	return self->clock;
}

AstraAgentRegistry *
astra_engine_get_agents (AstraEngine *self)
{
	return self->agents;
}

AstraRuleEngine *
astra_engine_get_rule_engine (AstraEngine *self)
{
	return self->rule_engine;
}

AstraSeriesStore *
astra_engine_get_series (AstraEngine *self)
{
	return self->series;
}

AstraDeliverer *
astra_engine_get_deliverer (AstraEngine *self)
{
	return self->deliverer;
}

AstraOutbox *
astra_engine_get_outbox (AstraEngine *self)
{
	return self->outbox;
}

AstraSilences *
astra_engine_get_silences (AstraEngine *self)
{
	return self->silences;
}

AstraStateDb *
astra_engine_get_state_db (AstraEngine *self)
{
	return self->state_db;
}

AstraMetrics *
astra_engine_get_metrics (AstraEngine *self)
{
	return self->metrics;
}

gint64
astra_engine_get_started_at (AstraEngine *self)
{
	return self->started_at_us;
}

guint
astra_engine_get_generation (AstraEngine *self)
{
	return self->generation;
}

/**
 * astra_engine_push_sample:
 * @self: an #AstraEngine
 * @metric: a metric name, e.g. `latency_ms`
 * @value: the value
 * @labels: (array length=n_labels): its labels
 * @n_labels: the number of @labels
 * @error: return location for a #GError
 *
 * Adds one sample at the clock's now, through the same path as the samples
 * agents and collectors send: the series store's bounds, then the rules.
 *
 * Returns: %TRUE if the sample was taken
 *
 * Since: 1.0
 */
gboolean
astra_engine_push_sample (AstraEngine *self,
			  const char *metric,
			  double value,
			  const AstraLabel *labels,
			  guint n_labels,
			  GError **error)
{
	AstraSeriesReject reject = ASTRA_SERIES_REJECT_NONE;

	g_return_val_if_fail (ASTRA_IS_ENGINE (self), FALSE);

	if (self->rule_engine == NULL) {
		g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_FAILED, "the engine is not started");
		return FALSE;
	}
	if (!isfinite (value)) {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA, "value: %g is not a finite number", value);
		return FALSE;
	}
	if (!astra_engine_sample_cb (metric, labels, n_labels, value, 0, &reject, self)) {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA, "sample of %s refused: %s", metric,
			     astra_series_reject_to_string (reject));
		return FALSE;
	}
	return TRUE;
}

static gboolean
astra_engine_check_json_size (const char *what, const char *json, GError **error)
{
	if (strlen (json) > ASTRA_ENGINE_MAX_EVENT_JSON) {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_TOO_LARGE, "%s: larger than %u bytes", what,
			     (guint) ASTRA_ENGINE_MAX_EVENT_JSON);
		return FALSE;
	}
	return TRUE;
}

static AstraEventKind
astra_engine_kind_from_string (const char *type, GError **error)
{
	AstraEventKind kind = astra_event_kind_from_string (type);
	g_autofree char *known = NULL;
	g_autofree char *escaped = NULL;

	if (kind != ASTRA_EVENT_KIND_UNKNOWN)
		return kind;
	known = astra_event_schema_list_types ();
	/* the caller's text, bounded and escaped: it may be anything */
	escaped = g_strescape (type, NULL);
	if (strlen (escaped) > 64)
		escaped[64] = '\0';
	g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA, "event_type: '%s' is not an event type (known: %s)",
		     escaped, known);
	return ASTRA_EVENT_KIND_UNKNOWN;
}

/* a whole event, checked as the SDK checks stored bodies, once made canonical */
static AstraEvent *
astra_engine_event_from_text (const char *text, gsize len, GError **error)
{
	g_autoptr(JsonNode) root = astra_json_parse (text, len, error);
	g_autoptr(GBytes) canonical = NULL;

	if (root == NULL)
		return NULL;
	canonical = astra_json_serialize (root, error);
	if (canonical == NULL)
		return NULL;
	return astra_event_new_from_body ("evt_parsed", canonical, error);
}

/* the same event as a new one: a fresh id, made now */
static AstraEvent *
astra_engine_event_renew (AstraEngine *self, AstraEvent *event, gint64 timestamp, GError **error)
{
	if (timestamp < 0)
		timestamp = astra_clock_now (self->clock) / G_USEC_PER_SEC;
	return astra_event_new (astra_event_get_kind (event), timestamp, astra_event_get_data (event), error);
}

/**
 * astra_engine_sample_event:
 * @self: an #AstraEngine
 * @type: an event type, e.g. `alert.triggered`
 * @error: return location for a #GError
 *
 * The sample event of @type, as TestWebhook and RenderEvent send it: the
 * example of data/events/ compiled into the engine, with a new id and the
 * clock's now as its timestamp.
 *
 * Returns: (transfer full): the event, or %NULL if @type is not an event type
 *
 * Since: 1.0
 */
AstraEvent *
astra_engine_sample_event (AstraEngine *self, const char *type, GError **error)
{
	g_autofree char *path = NULL;
	g_autoptr(GBytes) bytes = NULL;
	g_autoptr(AstraEvent) sample = NULL;
	AstraEventKind kind = astra_engine_kind_from_string (type, error);

	if (kind == ASTRA_EVENT_KIND_UNKNOWN)
		return NULL;
	path = g_strdup_printf ("/org/astranetmon/astra/engine/samples/%s.json", astra_event_kind_to_string (kind));
	bytes = g_resource_lookup_data (astra_engine_get_resource (), path, G_RESOURCE_LOOKUP_FLAGS_NONE, error);
	if (bytes == NULL)
		return NULL;
	sample = astra_engine_event_from_text (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), error);
	if (sample == NULL) {
		g_prefix_error (error, "sample %s: ", type);
		return NULL;
	}
	return astra_engine_event_renew (self, sample, -1, error);
}

/**
 * astra_engine_parse_event:
 * @self: an #AstraEngine
 * @json: a whole event: `{"event":...,"timestamp":...,"data":{...}}`
 * @error: return location for a #GError
 *
 * Reads an event someone wrote, checked like any other (type, timestamp,
 * schema), with a new id.
 *
 * Returns: (transfer full): the event, or %NULL with %ASTRA_ERROR_INVALID_DATA
 *   naming what is wrong (%ASTRA_ERROR_TOO_LARGE when it is too large)
 *
 * Since: 1.0
 */
AstraEvent *
astra_engine_parse_event (AstraEngine *self, const char *json, GError **error)
{
	g_autoptr(AstraEvent) event = NULL;

	if (!astra_engine_check_json_size ("event_json", json, error))
		return NULL;
	event = astra_engine_event_from_text (json, strlen (json), error);
	if (event == NULL) {
		g_prefix_error (error, "event_json: ");
		return NULL;
	}
	return astra_engine_event_renew (self, event, astra_event_get_timestamp (event), error);
}

/**
 * astra_engine_emit_json:
 * @self: an #AstraEngine
 * @type: an event type, e.g. `speedtest.completed`
 * @data_json: the event's data object, as JSON
 * @error: return location for a #GError
 *
 * Makes an event of @type with @data_json at the clock's now, checked against
 * its schema, and emits it like any other.
 *
 * Returns: (transfer full): the event emitted, or %NULL with
 *   %ASTRA_ERROR_INVALID_DATA naming the field at fault
 *
 * Since: 1.0
 */
AstraEvent *
astra_engine_emit_json (AstraEngine *self, const char *type, const char *data_json, GError **error)
{
	AstraEventKind kind = ASTRA_EVENT_KIND_UNKNOWN;
	g_autoptr(JsonNode) root = NULL;
	g_autoptr(AstraEvent) event = NULL;

	g_return_val_if_fail (ASTRA_IS_ENGINE (self), NULL);

	kind = astra_engine_kind_from_string (type, error);
	if (kind == ASTRA_EVENT_KIND_UNKNOWN)
		return NULL;
	if (!astra_engine_check_json_size ("data_json", data_json, error))
		return NULL;
	root = astra_json_parse (data_json, strlen (data_json), error);
	if (root == NULL) {
		g_prefix_error (error, "data_json: ");
		return NULL;
	}
	if (!JSON_NODE_HOLDS_OBJECT (root)) {
		g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA, "data_json: expected a JSON object");
		return NULL;
	}
	event = astra_event_new (kind, astra_clock_now (self->clock) / G_USEC_PER_SEC, json_node_get_object (root),
				 error);
	if (event == NULL)
		return NULL;
	astra_engine_emit (self, event);
	return g_steal_pointer (&event);
}

/**
 * astra_engine_lookup_webhook:
 * @self: an #AstraEngine
 * @name: a webhook's name
 * @error: return location for a #GError
 *
 * Returns: (transfer none): the configured webhook of that name, or %NULL
 *   with %ASTRA_ERROR_NOT_FOUND naming the webhooks there are
 *
 * Since: 1.0
 */
AstraWebhook *
astra_engine_lookup_webhook (AstraEngine *self, const char *name, GError **error)
{
	GPtrArray *webhooks = astra_router_get_webhooks (self->router);
	g_autoptr(GString) known = g_string_new (NULL);
	g_autofree char *escaped = NULL;

	for (guint i = 0; i < webhooks->len; i++) {
		AstraWebhook *webhook = g_ptr_array_index (webhooks, i);
		if (g_strcmp0 (astra_webhook_get_name (webhook), name) == 0)
			return webhook;
		g_string_append_printf (known, "%s%s", known->len > 0 ? ", " : "", astra_webhook_get_name (webhook));
	}
	escaped = g_strescape (name, NULL);
	if (strlen (escaped) > 64)
		escaped[64] = '\0';
	g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_NOT_FOUND, "no webhook '%s' is configured (%s%s)", escaped,
		     known->len > 0 ? "configured: " : "there are none", known->str);
	return NULL;
}

/* headers that carry a signature or a credential whatever their value */
static gboolean
astra_engine_header_is_secret (const char *name)
{
	static const char *const words[] = {"signature", "authorization", "token", "secret", "key", "cookie", NULL};
	g_autofree char *lower = g_ascii_strdown (name, -1);

	for (guint i = 0; words[i] != NULL; i++) {
		if (strstr (lower, words[i]) != NULL)
			return TRUE;
	}
	return FALSE;
}

/* scheme://host:port: the path and query of Slack, Discord and Teams URLs are the credential */
static char *
astra_engine_reduce_url (const char *url)
{
	g_autoptr(GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
	const char *scheme;
	const char *host;
	int port;

	if (uri == NULL || g_uri_get_host (uri) == NULL)
		return g_strdup (ASTRA_WEBHOOK_REDACTED);
	scheme = g_uri_get_scheme (uri);
	host = g_uri_get_host (uri);
	port = g_uri_get_port (uri);
	if (port < 0)
		port = g_ascii_strcasecmp (scheme, "https") == 0 ? 443 : 80;
	return g_strdup_printf ("%s://%s%s%s:%d", scheme, strchr (host, ':') != NULL ? "[" : "", host,
				strchr (host, ':') != NULL ? "]" : "", port);
}

typedef struct {
	AstraWebhook *webhook;
	GPtrArray *pairs; /* name, value, name, value... */
} AstraEngineHeaders;

static void
astra_engine_collect_header_cb (const char *name, const char *value, gpointer user_data)
{
	AstraEngineHeaders *headers = user_data;

	g_ptr_array_add (headers->pairs, g_strdup (name));
	if (astra_engine_header_is_secret (name))
		g_ptr_array_add (headers->pairs, g_strdup (ASTRA_WEBHOOK_REDACTED));
	else
		g_ptr_array_add (headers->pairs, astra_webhook_redact (headers->webhook, value));
}

static gint
astra_engine_compare_header_names (gconstpointer a, gconstpointer b)
{
	return g_ascii_strcasecmp (*(const char *const *) a, *(const char *const *) b);
}

/**
 * astra_engine_excerpt:
 * @data: (nullable): text from outside (a receiver, a plugin, a stored row)
 * @len: its length, or -1 if NUL-terminated
 * @max: the most bytes to keep
 *
 * Text for people: valid UTF-8 (invalid bytes replaced), at most @max bytes,
 * cut at a character boundary.
 *
 * Returns: (transfer full): the excerpt, "" for %NULL
 *
 * Since: 1.0
 */
char *
astra_engine_excerpt (const char *data, gssize len, gsize max)
{
	char *valid = g_utf8_make_valid (data != NULL ? data : "", data != NULL ? len : -1);
	gsize cut = strlen (valid);

	if (cut > max) {
		/* back to the start of the character the cut would split */
		cut = max;
		while (cut > 0 && ((guchar) valid[cut] & 0xC0) == 0x80)
			cut--;
		valid[cut] = '\0';
	}
	return valid;
}

/**
 * astra_engine_render:
 * @self: an #AstraEngine
 * @webhook: a configured webhook's name
 * @event_type: an event type; its sample is used when @event_json is empty
 * @event_json: a whole event, or "" for the sample of @event_type
 * @error: return location for a #GError
 *
 * A dry run: the request @webhook would send, rendered by its plugin and
 * signed, without sending it. The URL is reduced to scheme, host and port;
 * signature and credential headers read "[redacted]", and so does any of
 * the webhook's credentials wherever else it appears.
 *
 * Returns: (transfer full): the request, or %NULL: %ASTRA_ERROR_NOT_FOUND
 *   (no such webhook), %ASTRA_ERROR_INVALID_DATA (the event),
 *   %ASTRA_ERROR_NOT_SUPPORTED (the plugin declines the event),
 *   %ASTRA_ERROR_PLUGIN (it failed to render)
 *
 * Since: 1.0
 */
AstraRenderedRequest *
astra_engine_render (AstraEngine *self,
		     const char *webhook_name,
		     const char *event_type,
		     const char *event_json,
		     GError **error)
{
	AstraWebhook *webhook = astra_engine_lookup_webhook (self, webhook_name, error);
	g_autoptr(AstraEvent) event = NULL;
	g_autoptr(AstraRequest) request = NULL;
	g_autoptr(GError) error_local = NULL;
	g_autoptr(GPtrArray) pairs = g_ptr_array_new_with_free_func (g_free);
	g_autoptr(GPtrArray) order = g_ptr_array_new ();
	AstraEngineHeaders headers = {webhook, pairs};
	AstraRenderedRequest *rendered;
	GBytes *body;
	gint64 now_s = astra_clock_now (self->clock) / G_USEC_PER_SEC;

	if (webhook == NULL)
		return NULL;
	if (event_json != NULL && event_json[0] != '\0') {
		event = astra_engine_parse_event (self, event_json, error);
		if (event == NULL)
			return NULL;
		if (event_type != NULL && event_type[0] != '\0' &&
		    g_strcmp0 (event_type, astra_event_get_type_name (event)) != 0) {
			g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA,
				     "event_type: the event is a %s, not the type given; give one or the other",
				     astra_event_get_type_name (event));
			return NULL;
		}
	} else {
		event = astra_engine_sample_event (self, event_type, error);
		if (event == NULL)
			return NULL;
	}

	/* exactly what the dispatcher sends, up to the send */
	request = astra_dispatcher_build_request (webhook, event, now_s, &error_local);
	if (request == NULL) {
		g_autofree char *message = astra_webhook_redact (webhook, error_local->message);
		if (g_error_matches (error_local, ASTRA_ERROR, ASTRA_ERROR_NOT_SUPPORTED)) {
			g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_NOT_SUPPORTED,
				     "webhook %s (plugin %s) sends nothing for %s: %s", webhook_name,
				     astra_webhook_get_plugin_name (webhook), astra_event_get_type_name (event), message);
		} else {
			g_set_error (error, error_local->domain, error_local->code, "webhook %s (plugin %s): %s",
				     webhook_name, astra_webhook_get_plugin_name (webhook), message);
		}
		return NULL;
	}
	if (astra_request_get_content_type (request) != NULL && astra_request_get_header (request, "Content-Type") == NULL)
		astra_request_set_header (request, "Content-Type", astra_request_get_content_type (request));

	rendered = g_new0 (AstraRenderedRequest, 1);
	rendered->method = g_strdup (astra_request_get_method (request));
	rendered->url = astra_engine_reduce_url (astra_request_get_url (request));
	rendered->event_id = g_strdup (astra_event_get_id (event));
	body = astra_request_get_body (request);
	if (body != NULL) {
		g_autofree char *text = g_utf8_make_valid (g_bytes_get_data (body, NULL), (gssize) g_bytes_get_size (body));
		rendered->body = astra_webhook_redact (webhook, text);
	} else {
		rendered->body = g_strdup ("");
	}
	astra_request_foreach_header (request, astra_engine_collect_header_cb, &headers);
	for (guint i = 0; i < pairs->len; i += 2)
		g_ptr_array_add (order, pairs->pdata + i);
	g_ptr_array_sort (order, astra_engine_compare_header_names);
	rendered->names = g_ptr_array_new_with_free_func (g_free);
	rendered->values = g_ptr_array_new_with_free_func (g_free);
	for (guint i = 0; i < order->len; i++) {
		char **pair = g_ptr_array_index (order, i);
		g_ptr_array_add (rendered->names, g_strdup (pair[0]));
		g_ptr_array_add (rendered->values, g_strdup (pair[1]));
	}
	return rendered;
}

typedef struct {
	AstraWebhook *webhook;
	AstraEvent *event;
} AstraEngineTest;

static void
astra_engine_test_free (AstraEngineTest *test)
{
	g_clear_object (&test->webhook);
	g_clear_object (&test->event);
	g_free (test);
}

static void
astra_engine_test_attempt_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK (user_data);
	AstraEngineTest *test = g_task_get_task_data (task);
	g_autoptr(AstraAttempt) attempt = astra_dispatcher_attempt_finish (ASTRA_DISPATCHER (source), result);
	AstraWebhookTestResult *out = g_new0 (AstraWebhookTestResult, 1);

	out->event_id = g_strdup (astra_event_get_id (test->event));
	out->outcome = attempt->outcome;
	out->skipped = attempt->skipped;
	out->status = attempt->status;
	out->latency_ms = (double) attempt->latency_us / 1000.0;
	out->reason = astra_webhook_redact (test->webhook, attempt->reason);
	if (attempt->response_body != NULL) {
		gsize len = 0;
		const char *data = g_bytes_get_data (attempt->response_body, &len);
		g_autofree char *text = astra_engine_excerpt (data, (gssize) len, G_MAXSIZE);
		/* a receiver that echoes the request must not leak the credential through us: redacted
		 * before the cut, which could otherwise leave the start of a secret at the end */
		g_autofree char *redacted = astra_webhook_redact (test->webhook, text);

		out->response_excerpt = astra_engine_excerpt (redacted, -1, ASTRA_ENGINE_MAX_RESPONSE_EXCERPT);
	} else {
		out->response_excerpt = g_strdup ("");
	}
	g_task_return_pointer (task, out, (GDestroyNotify) astra_webhook_test_result_free);
}

/**
 * astra_engine_test_webhook_async:
 * @self: an #AstraEngine
 * @webhook: a configured webhook's name
 * @event_type: the type of the sample event to send
 * @callback: called when the attempt is over
 * @user_data: for @callback
 *
 * Sends the sample event of @event_type to @webhook once, now, through the
 * dispatcher (rendered, signed, classified) but outside the outbox: no
 * retry, no history, whether the webhook is enabled or not.
 *
 * Since: 1.0
 */
void
astra_engine_test_webhook_async (AstraEngine *self,
				 const char *webhook_name,
				 const char *event_type,
				 GAsyncReadyCallback callback,
				 gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new (self, NULL, callback, user_data);
	g_autoptr(GError) error_local = NULL;
	AstraWebhook *webhook;
	AstraEngineTest *test;
	AstraEvent *event;

	g_task_set_source_tag (task, astra_engine_test_webhook_async);
	webhook = astra_engine_lookup_webhook (self, webhook_name, &error_local);
	if (webhook == NULL) {
		g_task_return_error (task, g_steal_pointer (&error_local));
		return;
	}
	event = astra_engine_sample_event (self, event_type, &error_local);
	if (event == NULL) {
		g_task_return_error (task, g_steal_pointer (&error_local));
		return;
	}
	test = g_new0 (AstraEngineTest, 1);
	test->webhook = g_object_ref (webhook);
	test->event = event;
	g_task_set_task_data (task, test, (GDestroyNotify) astra_engine_test_free);
	g_debug ("webhook %s: sending a test %s %s", webhook_name, astra_event_get_type_name (event),
		 astra_event_get_id (event));
	astra_dispatcher_attempt_async (self->dispatcher, webhook, event, 1, NULL, astra_engine_test_attempt_cb,
					g_steal_pointer (&task));
}

/**
 * astra_engine_test_webhook_finish:
 * @self: an #AstraEngine
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Returns: (transfer full): what the attempt came to, or %NULL with
 *   %ASTRA_ERROR_NOT_FOUND (no such webhook) or %ASTRA_ERROR_INVALID_DATA (no
 *   such event type)
 *
 * Since: 1.0
 */
AstraWebhookTestResult *
astra_engine_test_webhook_finish (AstraEngine *self, GAsyncResult *result, GError **error)
{
	g_return_val_if_fail (g_task_is_valid (result, self), NULL);
	return g_task_propagate_pointer (G_TASK (result), error);
}
