/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
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
#include "astra-http-server.h"
#include "astra-reports.h"
#include "astra-rule-engine.h"
#include "astra-series.h"
#include "astra-state-db.h"
#include "astra-webhook.h"

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
	AstraCounter *events_total;   /* by type */
	AstraCounter *attempts_total; /* by webhook and outcome */
	guint prune_id;
	int lock_fd;
};

G_DEFINE_FINAL_TYPE (AstraEngine, astra_engine, G_TYPE_OBJECT)

static void
astra_engine_dispose (GObject *object)
{
	AstraEngine *self = ASTRA_ENGINE (object);

	g_clear_handle_id (&self->rules_reload_id, g_source_remove);
	g_clear_handle_id (&self->prune_id, g_source_remove);
	if (self->rules_monitor != NULL)
		g_file_monitor_cancel (self->rules_monitor);
	g_clear_object (&self->rules_monitor);
	g_clear_object (&self->http);
	g_clear_object (&self->reports);
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

/* the one way into the outbox: the matching webhooks each get a durable delivery */
static void
astra_engine_route (AstraEngine *self, AstraEvent *event, const char *const *names)
{
	g_autoptr(GPtrArray) webhooks = astra_router_match (self->router, event, names);
	g_autoptr(GError) error_local = NULL;

	astra_counter_inc (self->events_total, (const char *const[]) {astra_event_get_type_name (event), NULL});
	if (webhooks->len == 0) {
		g_debug ("%s %s: no webhook wants it", astra_event_get_type_name (event), astra_event_get_id (event));
		return;
	}
	if (self->deliverer == NULL) {
		g_warning ("%s %s arrived before the outbox was open and was not routed",
			   astra_event_get_type_name (event), astra_event_get_id (event));
		return;
	}
	if (!astra_deliverer_submit (self->deliverer, event, NULL, webhooks, &error_local))
		g_warning ("%s %s could not be stored for delivery: %s", astra_event_get_type_name (event),
			   astra_event_get_id (event), error_local->message);
}

static void
astra_engine_alert_sink_cb (AstraEvent *event, const char *const *webhooks, gpointer user_data)
{
	AstraEngine *self = ASTRA_ENGINE (user_data);

	g_debug ("event %s %s", astra_event_get_type_name (event), astra_event_get_id (event));
	astra_engine_route (self, event, webhooks);
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
	g_message ("rules reloaded from %s: %u rules", astra_config_get_rules_dir (self->config),
		   astra_rule_set_get_rules (rules)->len);
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
	g_clear_handle_id (&self->prune_id, g_source_remove);
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

/* the deliverer's way out: render, sign, send and classify, through the one SoupSession */
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

static gboolean
astra_engine_prune_cb (gpointer user_data)
{
	AstraEngine *self = ASTRA_ENGINE (user_data);
	g_autoptr(GError) error_local = NULL;
	gint64 older_than = astra_clock_now (self->clock) - astra_config_get_retention (self->config);
	guint n_pruned = 0;

	/* a batch per turn keeps the loop responsive; the next turn continues while there is more */
	if (!astra_outbox_prune (self->outbox, older_than, astra_config_get_retention_count (self->config),
				 ASTRA_ENGINE_PRUNE_BATCH, &n_pruned, &error_local)) {
		g_warning ("pruning the delivery history: %s", error_local->message);
		return G_SOURCE_CONTINUE;
	}
	if (n_pruned > 0) {
		g_debug ("pruned %u delivered deliveries from the history", n_pruned);
		if (n_pruned == ASTRA_ENGINE_PRUNE_BATCH)
			g_idle_add_full (G_PRIORITY_LOW, (GSourceFunc) astra_engine_prune_cb, self, NULL);
	}
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
	self->reports = astra_reports_new (self->clock, self->agents, self->state_db, astra_engine_sink_cb,
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

gboolean
astra_engine_reload (AstraEngine *self, AstraConfig *config, GPtrArray *errors)
{
	g_autoptr(GPtrArray) webhooks = NULL;
	g_autoptr(AstraRuleSet) rules = NULL;
	guint n_errors = errors->len;
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

	astra_http_server_set_max_body_size (self->http, astra_config_get_max_body_size (config));
	astra_router_set_webhooks (self->router, webhooks);
	if (self->deliverer != NULL)
		astra_deliverer_set_webhooks (self->deliverer, webhooks);
	if (self->rule_engine != NULL)
		astra_rule_engine_set_rules (self->rule_engine, rules);
	if (self->agents != NULL)
		astra_agent_registry_set_default_offline_after (self->agents, astra_config_get_offline_after (config));
	g_set_object (&self->config, config);
	g_message ("configuration reloaded: %u webhooks, %u rules", webhooks->len, astra_rule_set_get_rules (rules)->len);
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

	if (!astra_deliverer_shutdown_finish (ASTRA_DELIVERER (source), result, &error_local)) {
		g_task_return_error (task, g_steal_pointer (&error_local));
		return;
	}
	/* what this last iteration wrote (agents, alerts) must not wait for an idle that never comes */
	if (self->agents != NULL && !astra_agent_registry_flush (self->agents, &error_local)) {
		g_task_return_error (task, g_steal_pointer (&error_local));
		return;
	}
	if (self->state_db != NULL && !astra_state_db_flush (self->state_db, &error_local)) {
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
