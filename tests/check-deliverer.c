/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * AstraDeliverer: ordered queues per webhook over the outbox, driven by a
 * fake clock and a fake start func whose attempts the tests finish by hand
 * with scripted outcomes (or at once, for the bulk tests).
 */

#include "config.h"

#include <sys/resource.h>

#include "astra-check-common.h"
#include "astra-deliverer.h"

/* 2025-12-17T10:30:00Z */
#define T0 (ASTRA_CHECK_EVENT_TIME * G_USEC_PER_SEC)
#define S ((gint64) G_USEC_PER_SEC)

/* the plugin every test webhook uses: its requests are never sent */
#define ASTRA_TYPE_TEST_PLUGIN (astra_test_plugin_get_type ())
G_DECLARE_FINAL_TYPE (AstraTestPlugin, astra_test_plugin, ASTRA, TEST_PLUGIN, AstraPlugin)

struct _AstraTestPlugin {
	AstraPlugin parent_instance;
};

G_DEFINE_FINAL_TYPE (AstraTestPlugin, astra_test_plugin, ASTRA_TYPE_PLUGIN)

static gboolean
astra_test_plugin_render (AstraPlugin *plugin, AstraEvent *event, AstraRequest *request, GError **error)
{
	astra_request_set_url (request, "https://receiver.invalid/test");
	return TRUE;
}

static void
astra_test_plugin_class_init (AstraTestPluginClass *klass)
{
	ASTRA_PLUGIN_CLASS (klass)->render = astra_test_plugin_render;
}

static void
astra_test_plugin_init (AstraTestPlugin *self)
{
}

/* the keys of a test webhook that only the test's own keys change: no rate limit, a breaker
 * that does not open by accident, exact retry waits unless the test seeds jitter */
#define HOOK(name) "[webhook " name "]\nplugin = test\nbreaker-failures = 1000\n"

typedef struct _Fixture Fixture;

/* one attempt the fake start func was given */
typedef struct {
	Fixture *fx;
	AstraWebhook *webhook;
	AstraEvent *event;
	char *event_id;
	char *webhook_name;
	guint attempt;
	gint64 started_us;
	GCancellable *cancellable;
	gulong cancel_id;
	AstraAttemptDoneFunc done;
	gpointer done_data;
	gboolean finished;
} Call;

struct _Fixture {
	AstraClock *clock;
	AstraStateDb *db;
	AstraOutbox *outbox;
	AstraDeliverer *deliverer;
	AstraPluginLoader *loader;
	GPtrArray *webhooks;
	GPtrArray *calls; /* Call, every attempt in the order started (not in bulk mode) */
	guint n_open;
	guint max_open;
	/* bulk mode: every attempt is delivered from an idle, only its event id is kept */
	gboolean bulk;
	GPtrArray *bulk_open;      /* Call */
	GPtrArray *bulk_delivered; /* char *, event ids in the order started */
	guint bulk_id;
	guint max_in_memory;
	/* what the signals said */
	GArray *dead;     /* gint64 delivery ids */
	GArray *circuits; /* guint AstraCircuitState */
	GPtrArray *dead_reasons;
	guint n_disabled;
	guint n_attempt_signals;
};

static void
call_free (Call *call)
{
	if (call->cancel_id != 0)
		g_cancellable_disconnect (call->cancellable, call->cancel_id);
	g_clear_object (&call->cancellable);
	g_clear_object (&call->webhook);
	g_clear_object (&call->event);
	g_free (call->event_id);
	g_free (call->webhook_name);
	g_free (call);
}

static void
call_finish_full (Call *call,
		  AstraOutcome outcome,
		  guint status,
		  double retry_after,
		  gboolean skipped,
		  const char *reason,
		  const char *body)
{
	g_autofree char *reason_copy = g_strdup (reason);
	g_autoptr(GBytes) response = body != NULL ? g_bytes_new (body, strlen (body)) : NULL;
	AstraAttempt attempt = {
		.outcome = outcome,
		.skipped = skipped,
		.attempt = call->attempt,
		.status = status,
		.started_at = call->started_us,
		.latency_us = 1500,
		.retry_after = retry_after,
		.reason = reason_copy,
		.response_body = response,
	};

	ck_assert_msg (!call->finished, "attempt %u of %s finished twice", call->attempt, call->event_id);
	call->finished = TRUE;
	call->fx->n_open--;
	if (call->cancel_id != 0) {
		g_cancellable_disconnect (call->cancellable, call->cancel_id);
		call->cancel_id = 0;
	}
	call->done (&attempt, call->done_data);
}

static void
call_deliver (Call *call)
{
	call_finish_full (call, ASTRA_OUTCOME_DELIVERED, 200, -1, FALSE, NULL, NULL);
}

static void
call_retry (Call *call, guint status)
{
	call_finish_full (call, ASTRA_OUTCOME_RETRY, status, -1, FALSE, "the receiver is unwell", NULL);
}

/* cancelled attempts end from the main loop, as the dispatcher's do: never inside the cancel */
static gboolean
call_cancelled_idle_cb (gpointer user_data)
{
	Call *call = user_data;

	if (!call->finished)
		call_finish_full (call, ASTRA_OUTCOME_RETRY, 0, -1, FALSE, "cancelled", NULL);
	return G_SOURCE_REMOVE;
}

static void
call_cancelled_cb (GCancellable *cancellable, gpointer user_data)
{
	g_idle_add (call_cancelled_idle_cb, user_data);
}

static gboolean
bulk_deliver_cb (gpointer user_data)
{
	Fixture *fx = user_data;
	g_autoptr(GPtrArray) calls = fx->bulk_open;

	fx->bulk_id = 0;
	fx->bulk_open = g_ptr_array_new_with_free_func ((GDestroyNotify) call_free);
	for (guint i = 0; i < calls->len; i++)
		call_deliver (g_ptr_array_index (calls, i));
	return G_SOURCE_REMOVE;
}

static void
fake_start (AstraWebhook *webhook,
	    AstraEvent *event,
	    guint attempt,
	    GCancellable *cancellable,
	    AstraAttemptDoneFunc done,
	    gpointer done_data,
	    gpointer user_data)
{
	Fixture *fx = user_data;
	Call *call = g_new0 (Call, 1);

	call->fx = fx;
	call->event_id = g_strdup (astra_event_get_id (event));
	call->webhook_name = g_strdup (astra_webhook_get_name (webhook));
	call->attempt = attempt;
	call->started_us = astra_clock_now (fx->clock);
	call->done = done;
	call->done_data = done_data;
	fx->n_open++;
	fx->max_open = MAX (fx->max_open, fx->n_open);
	fx->max_in_memory = MAX (fx->max_in_memory, astra_deliverer_get_n_in_memory (fx->deliverer));
	if (fx->bulk) {
		g_ptr_array_add (fx->bulk_delivered, g_strdup (call->event_id));
		g_ptr_array_add (fx->bulk_open, call);
		if (fx->bulk_id == 0)
			fx->bulk_id = g_idle_add (bulk_deliver_cb, fx);
		return;
	}
	call->webhook = g_object_ref (webhook);
	call->event = g_object_ref (event);
	call->cancellable = g_object_ref (cancellable);
	call->cancel_id = g_cancellable_connect (cancellable, G_CALLBACK (call_cancelled_cb), call, NULL);
	g_ptr_array_add (fx->calls, call);
}

static void
dead_cb (AstraDeliverer *deliverer, const char *webhook, gpointer delivery, gpointer user_data)
{
	Fixture *fx = user_data;
	const AstraDelivery *d = delivery;

	ck_assert_int_eq (d->state, ASTRA_DELIVERY_STATE_DEAD);
	ck_assert_str_eq (d->webhook, webhook);
	g_array_append_val (fx->dead, d->id);
	g_ptr_array_add (fx->dead_reasons, g_strdup (d->last_reason));
}

static void
circuit_cb (AstraDeliverer *deliverer, const char *webhook, guint state, gpointer user_data)
{
	Fixture *fx = user_data;
	g_array_append_val (fx->circuits, state);
}

static void
disabled_cb (AstraDeliverer *deliverer, const char *webhook, const char *reason, gpointer user_data)
{
	Fixture *fx = user_data;

	astra_assert_contains (reason, "gone");
	fx->n_disabled++;
}

static void
attempt_cb (AstraDeliverer *deliverer,
	    const char *webhook,
	    gpointer delivery,
	    AstraAttempt *attempt,
	    gpointer user_data)
{
	Fixture *fx = user_data;
	const AstraDelivery *d = delivery;

	ck_assert_uint_eq (d->attempts, attempt->attempt);
	fx->n_attempt_signals++;
}

/* the webhooks of a configuration, which must be valid */
static GPtrArray *
build_webhooks (Fixture *fx, const char *text)
{
	g_autofree char *path = astra_check_tmp_write ("astra-alertd.conf", text, 0600);
	g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func (g_free);
	g_autoptr(AstraConfig) config = astra_config_load (path, errors);
	g_autoptr(GPtrArray) webhooks = NULL;

	ck_assert_ptr_nonnull (config);
	webhooks = astra_webhook_build_all (config, fx->loader, errors);
	ck_assert_msg (errors->len == 0, "config errors: %s",
		       errors->len > 0 ? (const char *) g_ptr_array_index (errors, 0) : "");
	ck_assert_ptr_nonnull (webhooks);
	return g_steal_pointer (&webhooks);
}

static void
fixture_set_webhooks (Fixture *fx, const char *text)
{
	g_clear_pointer (&fx->webhooks, g_ptr_array_unref);
	fx->webhooks = build_webhooks (fx, text);
	astra_deliverer_set_webhooks (fx->deliverer, fx->webhooks);
}

/* a deliverer over db_path (NULL: in memory) at T0 (+ start_us), with the webhooks of text */
static Fixture *
fixture_new_full (const char *text, const char *db_path, gint64 start_us)
{
	Fixture *fx = g_new0 (Fixture, 1);
	g_autoptr(GError) error = NULL;

	fx->clock = astra_clock_new_fake (T0 + start_us);
	fx->db = astra_state_db_open (db_path != NULL ? db_path : ":memory:", &error);
	astra_assert_no_error (error);
	fx->outbox = astra_outbox_new (fx->db, &error);
	astra_assert_no_error (error);
	fx->loader = astra_plugin_loader_new ();
	astra_plugin_loader_add_type (fx->loader, "test", ASTRA_TYPE_TEST_PLUGIN);
	fx->calls = g_ptr_array_new_with_free_func ((GDestroyNotify) call_free);
	fx->bulk_open = g_ptr_array_new_with_free_func ((GDestroyNotify) call_free);
	fx->bulk_delivered = g_ptr_array_new_with_free_func (g_free);
	fx->dead = g_array_new (FALSE, FALSE, sizeof (gint64));
	fx->dead_reasons = g_ptr_array_new_with_free_func (g_free);
	fx->circuits = g_array_new (FALSE, FALSE, sizeof (guint));
	fx->deliverer = astra_deliverer_new (fx->clock, fx->outbox, fake_start, fx);
	astra_deliverer_set_jitter (fx->deliverer, 0, 1);
	g_signal_connect (fx->deliverer, "delivery-dead", G_CALLBACK (dead_cb), fx);
	g_signal_connect (fx->deliverer, "circuit-changed", G_CALLBACK (circuit_cb), fx);
	g_signal_connect (fx->deliverer, "webhook-disabled", G_CALLBACK (disabled_cb), fx);
	g_signal_connect (fx->deliverer, "attempt-finished", G_CALLBACK (attempt_cb), fx);
	if (text != NULL)
		fixture_set_webhooks (fx, text);
	return fx;
}

static Fixture *
fixture_new (const char *text)
{
	return fixture_new_full (text, NULL, 0);
}

static void
iterate (void)
{
	while (g_main_context_iteration (NULL, FALSE))
		;
}

static void
fixture_free (Fixture *fx)
{
	g_autoptr(GError) error = NULL;

	/* attempts still in flight end as retries, so the deliverer can go */
	for (guint i = 0; i < fx->calls->len; i++) {
		Call *call = g_ptr_array_index (fx->calls, i);
		if (!call->finished)
			call_finish_full (call, ASTRA_OUTCOME_RETRY, 0, -1, FALSE, "test over", NULL);
	}
	iterate ();
	ck_assert_uint_eq (astra_deliverer_get_n_in_flight (fx->deliverer), 0);
	g_object_unref (fx->deliverer);
	ck_assert (astra_state_db_flush (fx->db, &error));
	g_clear_pointer (&fx->webhooks, g_ptr_array_unref);
	g_object_unref (fx->loader);
	g_object_unref (fx->outbox);
	g_object_unref (fx->db);
	g_object_unref (fx->clock);
	g_ptr_array_unref (fx->calls);
	g_ptr_array_unref (fx->bulk_open);
	g_ptr_array_unref (fx->bulk_delivered);
	g_array_unref (fx->dead);
	g_ptr_array_unref (fx->dead_reasons);
	g_array_unref (fx->circuits);
	g_free (fx);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Fixture, fixture_free)

/* the clock's timers due now run (a submit's attempts start there), and the main loop's idles */
static void
run (Fixture *fx)
{
	iterate ();
	astra_clock_advance (fx->clock, 0);
	iterate ();
}

static void
advance_to (Fixture *fx, gint64 t)
{
	astra_clock_advance_to (fx->clock, t);
	iterate ();
}

static AstraWebhook *
find_webhook (Fixture *fx, const char *name)
{
	for (guint i = 0; i < fx->webhooks->len; i++) {
		AstraWebhook *webhook = g_ptr_array_index (fx->webhooks, i);
		if (g_strcmp0 (astra_webhook_get_name (webhook), name) == 0)
			return webhook;
	}
	ck_abort_msg ("no webhook %s", name);
	return NULL;
}

/* the event to every webhook named (NULL-terminated), or to all */
static void
submit_to (Fixture *fx, AstraEvent *event, const char *order_key, const char *const *names)
{
	g_autoptr(GPtrArray) targets = g_ptr_array_new ();
	g_autoptr(GError) error = NULL;

	for (guint i = 0; i < fx->webhooks->len; i++) {
		AstraWebhook *webhook = g_ptr_array_index (fx->webhooks, i);
		if (names == NULL || g_strv_contains (names, astra_webhook_get_name (webhook)))
			g_ptr_array_add (targets, webhook);
	}
	ck_assert (astra_deliverer_submit (fx->deliverer, event, order_key, targets, &error));
	astra_assert_no_error (error);
}

static void
submit (Fixture *fx, AstraEvent *event)
{
	submit_to (fx, event, NULL, NULL);
}

static AstraEvent *
alert_event (const char *type, const char *alert_id)
{
	g_autoptr(JsonObject) data = astra_check_fixture_data (type);

	json_object_set_string_member (data, "alert_id", alert_id);
	if (g_str_equal (type, "alert.resolved")) {
		json_object_set_string_member (data, "resolved_at", "2025-12-17T10:29:00Z");
		json_object_set_int_member (data, "duration_s", 60);
	}
	return astra_check_event_new (type, data);
}

/* n alert.triggered events, alert ids alt_0, alt_1, ... (repeating every n_alerts unless it is 0),
 * each submitted in turn to the webhooks named (NULL-terminated; NULL: all) */
static GPtrArray *
submit_alerts (Fixture *fx, guint n, guint n_alerts, const char *const *names)
{
	GPtrArray *events = g_ptr_array_new_with_free_func (g_object_unref);

	for (guint i = 0; i < n; i++) {
		g_autofree char *id = g_strdup_printf ("alt_%u", n_alerts > 0 ? i % n_alerts : i);
		AstraEvent *event = alert_event ("alert.triggered", id);

		g_ptr_array_add (events, event);
		submit_to (fx, event, NULL, names);
	}
	return events;
}

static guint
count_open (Fixture *fx)
{
	return fx->n_open;
}

/* the attempt in flight for the event, which must be the only one */
static Call *
open_call (Fixture *fx, AstraEvent *event, const char *webhook)
{
	Call *found = NULL;

	for (guint i = 0; i < fx->calls->len; i++) {
		Call *call = g_ptr_array_index (fx->calls, i);
		if (call->finished || g_strcmp0 (call->event_id, astra_event_get_id (event)) != 0)
			continue;
		if (webhook != NULL && g_strcmp0 (call->webhook_name, webhook) != 0)
			continue;
		ck_assert_msg (found == NULL, "two attempts of %s in flight", call->event_id);
		found = call;
	}
	ck_assert_msg (found != NULL, "no attempt of %s (%s) in flight", astra_event_get_id (event),
		       astra_event_get_type_name (event));
	return found;
}

static gboolean
is_open (Fixture *fx, AstraEvent *event)
{
	for (guint i = 0; i < fx->calls->len; i++) {
		Call *call = g_ptr_array_index (fx->calls, i);
		if (!call->finished && g_strcmp0 (call->event_id, astra_event_get_id (event)) == 0)
			return TRUE;
	}
	return FALSE;
}

static guint
count_calls_for (Fixture *fx, AstraEvent *event)
{
	guint n = 0;

	for (guint i = 0; i < fx->calls->len; i++) {
		Call *call = g_ptr_array_index (fx->calls, i);
		if (g_strcmp0 (call->event_id, astra_event_get_id (event)) == 0)
			n++;
	}
	return n;
}

static Call *
last_call (Fixture *fx)
{
	ck_assert_uint_gt (fx->calls->len, 0);
	return g_ptr_array_index (fx->calls, fx->calls->len - 1);
}

static AstraWebhookStatus *
get_status (Fixture *fx, const char *name)
{
	g_autoptr(GPtrArray) all = astra_deliverer_get_status (fx->deliverer);

	for (guint i = 0; i < all->len; i++) {
		AstraWebhookStatus *status = g_ptr_array_index (all, i);
		if (g_strcmp0 (status->webhook, name) == 0)
			return g_ptr_array_steal_index (all, i);
	}
	ck_abort_msg ("no status for %s", name);
	return NULL;
}

/* the outbox's deliveries of an event (one per webhook it went to) */
static AstraDelivery *
lookup_delivery (Fixture *fx, AstraEvent *event, const char *webhook)
{
	g_autoptr(GPtrArray) all = NULL;
	g_autoptr(GError) error = NULL;

	all = astra_outbox_list (fx->outbox, webhook, -1, 0, 10000, &error);
	astra_assert_no_error (error);
	for (guint i = 0; i < all->len; i++) {
		AstraDelivery *d = g_ptr_array_index (all, i);
		if (g_strcmp0 (d->event_id, astra_event_get_id (event)) == 0)
			return g_ptr_array_steal_index (all, i);
	}
	ck_abort_msg ("no delivery of %s to %s", astra_event_get_id (event), webhook);
	return NULL;
}

static guint
count_state (Fixture *fx, const char *webhook, AstraDeliveryState state)
{
	g_autoptr(GError) error = NULL;
	guint n = astra_outbox_count (fx->outbox, webhook, state, &error);

	astra_assert_no_error (error);
	return n;
}

/* the tests */

START_TEST (test_order_key)
{
	g_autoptr(AstraEvent) trigger = alert_event ("alert.triggered", "alt_1");
	g_autoptr(AstraEvent) resolve = alert_event ("alert.resolved", "alt_1");
	g_autoptr(AstraEvent) agent = astra_check_fixture_event ("agent.status_changed", "evt_a");
	g_autoptr(AstraEvent) registered = astra_check_fixture_event ("agent.registered", "evt_r");
	g_autoptr(AstraEvent) failed = astra_check_fixture_event ("service_test.failed", "evt_f");
	g_autoptr(AstraEvent) speedtest = astra_check_fixture_event ("speedtest.completed", "evt_s");
	g_autofree char *k1 = astra_deliverer_order_key (trigger);
	g_autofree char *k2 = astra_deliverer_order_key (resolve);
	g_autofree char *k3 = astra_deliverer_order_key (agent);
	g_autofree char *k4 = astra_deliverer_order_key (registered);
	g_autofree char *k5 = astra_deliverer_order_key (failed);
	g_autofree char *k6 = astra_deliverer_order_key (speedtest);

	ck_assert_str_eq (k1, "alert:alt_1");
	ck_assert_str_eq (k2, "alert:alt_1");
	ck_assert_str_eq (k3, "agent:tenant-abc/agent-123");
	ck_assert_str_eq (k4, "agent:tenant-abc/agent-123");
	ck_assert_str_eq (k5, "agent:tenant-abc/agent-123");
	ck_assert_str_eq (k6, "evt_s");
	ck_assert_str_eq (astra_circuit_state_to_string (ASTRA_CIRCUIT_HALF_OPEN), "half-open");
}
END_TEST

START_TEST (test_submit_is_durable_then_attempted)
{
	g_autoptr(Fixture) fx = fixture_new (HOOK ("a") HOOK ("b"));
	g_autoptr(AstraEvent) event = alert_event ("alert.triggered", "alt_1");
	g_autoptr(AstraDelivery) d = NULL;
	g_autoptr(AstraWebhookStatus) status = NULL;
	g_autoptr(GPtrArray) attempts = NULL;
	g_autoptr(GError) error = NULL;

	submit (fx, event);
	/* durable first; nothing starts inside submit */
	ck_assert_uint_eq (fx->calls->len, 0);
	ck_assert_uint_eq (count_state (fx, "a", ASTRA_DELIVERY_STATE_PENDING), 1);
	ck_assert_uint_eq (count_state (fx, "b", ASTRA_DELIVERY_STATE_PENDING), 1);
	status = get_status (fx, "a");
	ck_assert_uint_eq (status->pending, 1);
	ck_assert_int_eq (status->oldest_pending_us, T0);
	g_clear_pointer (&status, astra_webhook_status_free);

	run (fx);
	ck_assert_uint_eq (fx->calls->len, 2);
	ck_assert_uint_eq (last_call (fx)->attempt, 1);
	ck_assert_ptr_eq (open_call (fx, event, "a")->webhook, find_webhook (fx, "a"));
	status = get_status (fx, "a");
	ck_assert_uint_eq (status->in_flight, 1);
	g_clear_pointer (&status, astra_webhook_status_free);

	call_deliver (open_call (fx, event, "a"));
	call_finish_full (open_call (fx, event, "b"), ASTRA_OUTCOME_DELIVERED, 0, -1, TRUE,
			  "declined by the plugin", NULL);
	run (fx);
	ck_assert_uint_eq (fx->calls->len, 2);
	d = lookup_delivery (fx, event, "a");
	ck_assert_int_eq (d->state, ASTRA_DELIVERY_STATE_DELIVERED);
	ck_assert_uint_eq (d->attempts, 1);
	ck_assert_uint_eq (d->last_status, 200);
	g_clear_pointer (&d, astra_delivery_free);
	d = lookup_delivery (fx, event, "b");
	ck_assert_int_eq (d->state, ASTRA_DELIVERY_STATE_SKIPPED);
	attempts = astra_outbox_list_attempts (fx->outbox, d->id, &error);
	ck_assert_uint_eq (attempts->len, 1);
	ck_assert (((AstraAttemptRecord *) g_ptr_array_index (attempts, 0))->skipped);

	status = get_status (fx, "a");
	ck_assert_uint_eq (status->pending, 0);
	ck_assert_uint_eq (status->in_flight, 0);
	ck_assert_int_eq (status->oldest_pending_us, 0);
	ck_assert_uint_eq (status->n_delivered, 1);
	ck_assert_uint_eq (status->n_attempts, 1);
	ck_assert (status->enabled);
	ck_assert_int_eq (status->circuit, ASTRA_CIRCUIT_CLOSED);
	g_clear_pointer (&status, astra_webhook_status_free);
	status = get_status (fx, "b");
	ck_assert_uint_eq (status->n_skipped, 1);
	ck_assert_uint_eq (status->n_delivered, 0);
	ck_assert_uint_eq (fx->n_attempt_signals, 2);
	ck_assert_uint_eq (astra_deliverer_get_n_in_memory (fx->deliverer), 0);
}
END_TEST

/* a trigger that must be retried holds its resolve back; other alerts go meanwhile */
START_TEST (test_order_per_key)
{
	g_autoptr(Fixture) fx = fixture_new (HOOK ("a") "max-in-flight = 8\nretry-schedule = 5s, 1m\n");
	g_autoptr(AstraEvent) trigger_a = alert_event ("alert.triggered", "alt_a");
	g_autoptr(AstraEvent) trigger_b = alert_event ("alert.triggered", "alt_b");
	g_autoptr(AstraEvent) resolve_a = alert_event ("alert.resolved", "alt_a");
	g_autoptr(AstraEvent) resolve_b = alert_event ("alert.resolved", "alt_b");
	g_autoptr(AstraEvent) trigger_c = alert_event ("alert.triggered", "alt_c");
	Call *retried;

	submit (fx, trigger_a);
	submit (fx, trigger_b);
	submit (fx, resolve_a);
	submit (fx, resolve_b);
	submit (fx, trigger_c);
	run (fx);
	/* one per alert: the resolves wait for their triggers */
	ck_assert_uint_eq (count_open (fx), 3);
	ck_assert (is_open (fx, trigger_a));
	ck_assert (is_open (fx, trigger_b));
	ck_assert (is_open (fx, trigger_c));

	call_retry (open_call (fx, trigger_a, NULL), 503);
	call_deliver (open_call (fx, trigger_b, NULL));
	/* b's resolve follows its delivered trigger at once; a's waits for the retry */
	ck_assert (is_open (fx, resolve_b));
	ck_assert (!is_open (fx, resolve_a));
	call_deliver (open_call (fx, resolve_b, NULL));
	call_deliver (open_call (fx, trigger_c, NULL));
	advance_to (fx, T0 + 5 * S - 1);
	ck_assert_uint_eq (count_open (fx), 0);
	ck_assert_uint_eq (count_calls_for (fx, resolve_a), 0);

	/* the retry, exactly on the schedule, and only then the resolve */
	advance_to (fx, T0 + 5 * S);
	retried = open_call (fx, trigger_a, NULL);
	ck_assert_uint_eq (retried->attempt, 2);
	ck_assert_int_eq (retried->started_us, T0 + 5 * S);
	ck_assert (!is_open (fx, resolve_a));
	call_deliver (retried);
	ck_assert (is_open (fx, resolve_a));
	ck_assert_uint_eq (open_call (fx, resolve_a, NULL)->attempt, 1);
	call_deliver (open_call (fx, resolve_a, NULL));
	ck_assert_uint_eq (count_state (fx, "a", ASTRA_DELIVERY_STATE_DELIVERED), 5);
	ck_assert_uint_eq (count_state (fx, "a", ASTRA_DELIVERY_STATE_PENDING), 0);
}
END_TEST

START_TEST (test_max_in_flight)
{
	g_autoptr(Fixture) fx =
		       fixture_new (HOOK ("a") "max-in-flight = 3\n" HOOK ("b") "max-in-flight = 1\n");
	g_autoptr(GPtrArray) events = NULL;
	guint n_delivered = 0;

	events = submit_alerts (fx, 10, 0, NULL);
	run (fx);
	/* a has 3, b has 1 */
	ck_assert_uint_eq (count_open (fx), 4);
	while (count_open (fx) > 0) {
		for (guint i = 0; i < fx->calls->len; i++) {
			Call *call = g_ptr_array_index (fx->calls, i);
			if (!call->finished) {
				call_deliver (call);
				n_delivered++;
				break;
			}
		}
		ck_assert_uint_le (count_open (fx), 4);
	}
	ck_assert_uint_eq (n_delivered, 20);
	ck_assert_uint_eq (fx->max_open, 4);
	ck_assert_uint_eq (count_state (fx, NULL, ASTRA_DELIVERY_STATE_DELIVERED), 20);
}
END_TEST

/* the waits of the schedule, exactly, then a dead letter with the last answer */
START_TEST (test_retry_schedule_exhausted)
{
	g_autoptr(Fixture) fx = fixture_new (HOOK ("a") "retry-schedule = 5s, 1m, 10m\n");
	g_autoptr(AstraEvent) event = alert_event ("alert.triggered", "alt_1");
	g_autoptr(AstraDelivery) d = NULL;
	g_autoptr(AstraWebhookStatus) status = NULL;
	g_autoptr(GPtrArray) attempts = NULL;
	g_autoptr(GError) error = NULL;
	const gint64 expected[] = { T0, T0 + 5 * S, T0 + 65 * S, T0 + 665 * S };

	submit (fx, event);
	run (fx);
	for (guint i = 0; i < G_N_ELEMENTS (expected); i++) {
		Call *call;

		advance_to (fx, expected[i] - 1);
		ck_assert_uint_eq (count_open (fx), i == 0 ? 1 : 0);
		advance_to (fx, expected[i]);
		call = open_call (fx, event, NULL);
		ck_assert_uint_eq (call->attempt, i + 1);
		ck_assert_int_eq (call->started_us, expected[i]);
		if (i < G_N_ELEMENTS (expected) - 1) {
			call_retry (call, 503);
			d = lookup_delivery (fx, event, "a");
			ck_assert_int_eq (d->state, ASTRA_DELIVERY_STATE_PENDING);
			ck_assert_int_eq (d->next_attempt_us, expected[i + 1]);
			g_clear_pointer (&d, astra_delivery_free);
		} else {
			call_finish_full (call, ASTRA_OUTCOME_RETRY, 503, -1, FALSE, "overloaded",
					  "{\"error\":\"busy\"}");
		}
	}
	advance_to (fx, T0 + 48 * 3600 * S);
	ck_assert_uint_eq (fx->calls->len, 4);

	d = lookup_delivery (fx, event, "a");
	ck_assert_int_eq (d->state, ASTRA_DELIVERY_STATE_DEAD);
	ck_assert_uint_eq (d->attempts, 4);
	ck_assert_uint_eq (d->last_status, 503);
	ck_assert_str_eq (d->last_reason, "gave up after 4 attempts: HTTP 503: overloaded");
	ck_assert_ptr_nonnull (d->last_response);
	ck_assert_uint_eq (g_bytes_get_size (d->last_response), strlen ("{\"error\":\"busy\"}"));
	attempts = astra_outbox_list_attempts (fx->outbox, d->id, &error);
	ck_assert_uint_eq (attempts->len, 4);
	ck_assert_uint_eq (fx->dead->len, 1);
	ck_assert_int_eq (g_array_index (fx->dead, gint64, 0), d->id);
	ck_assert_str_eq (g_ptr_array_index (fx->dead_reasons, 0), d->last_reason);

	status = get_status (fx, "a");
	ck_assert_uint_eq (status->n_dead, 1);
	ck_assert_uint_eq (status->n_retries, 3);
	ck_assert_uint_eq (status->n_attempts, 4);
	ck_assert_uint_eq (status->pending, 0);
}
END_TEST

/* +-10% around the schedule, reproducible from the seed */
START_TEST (test_retry_jitter)
{
	g_autoptr(GArray) first = g_array_new (FALSE, FALSE, sizeof (gint64));

	for (guint round = 0; round < 2; round++) {
		g_autoptr(Fixture) fx =
			       fixture_new (HOOK ("a") "retry-schedule = 100s\nmax-in-flight = 64\n");
		g_autoptr(GPtrArray) events = NULL;
		gint64 min = G_MAXINT64;
		gint64 max = 0;

		astra_deliverer_set_jitter (fx->deliverer, ASTRA_DELIVERER_DEFAULT_JITTER, 42);
		events = submit_alerts (fx, 40, 0, NULL);
		run (fx);
		for (guint i = 0; i < 40; i++)
			call_retry (open_call (fx, g_ptr_array_index (events, i), NULL), 502);
		for (guint i = 0; i < 40; i++) {
			g_autoptr(AstraDelivery) d =
				       lookup_delivery (fx, g_ptr_array_index (events, i), "a");
			gint64 wait = d->next_attempt_us - T0;

			ck_assert_int_ge (wait, 90 * S);
			ck_assert_int_le (wait, 110 * S);
			min = MIN (min, wait);
			max = MAX (max, wait);
			if (round == 0)
				g_array_append_val (first, wait);
			else
				ck_assert_int_eq (wait, g_array_index (first, gint64, i));
		}
		/* spread, not one value */
		ck_assert_int_gt (max - min, 5 * S);
		advance_to (fx, T0 + 90 * S - 1);
		ck_assert_uint_eq (count_open (fx), 0);
		advance_to (fx, T0 + 110 * S);
		ck_assert_uint_eq (count_open (fx), 40);
	}
}
END_TEST

/* Retry-After: exactly that long, and the whole webhook waits */
START_TEST (test_retry_after_pauses_queue)
{
	/* a breaker that would open at the first failure it counts */
	g_autoptr(Fixture) fx =
		       fixture_new ("[webhook a]\nplugin = test\nmax-in-flight = 4\nretry-schedule = 5s, 5s\n"
				    "breaker-failures = 1\n" HOOK ("b"));
	g_autoptr(AstraEvent) e1 = alert_event ("alert.triggered", "alt_1");
	g_autoptr(AstraEvent) e2 = alert_event ("alert.triggered", "alt_2");
	g_autoptr(AstraEvent) e3 = alert_event ("alert.triggered", "alt_3");
	g_autoptr(AstraEvent) e4 = alert_event ("alert.triggered", "alt_4");
	g_autoptr(AstraWebhookStatus) status = NULL;
	const char *const only_a[] = { "a", NULL };
	const char *const only_b[] = { "b", NULL };

	/* jitter would not apply to a receiver's own word */
	astra_deliverer_set_jitter (fx->deliverer, ASTRA_DELIVERER_DEFAULT_JITTER, 7);
	submit_to (fx, e1, NULL, only_a);
	submit_to (fx, e2, NULL, only_a);
	submit_to (fx, e3, NULL, only_a);
	run (fx);
	ck_assert_uint_eq (count_open (fx), 3);
	call_finish_full (open_call (fx, e1, NULL), ASTRA_OUTCOME_RETRY, 429, 30.0, FALSE, "rate limited",
			  NULL);
	call_deliver (open_call (fx, e2, NULL));
	status = get_status (fx, "a");
	ck_assert_int_eq (status->paused_until_us, T0 + 30 * S);
	/* the pause is the answer to it: the circuit stays closed */
	ck_assert_int_eq (status->circuit, ASTRA_CIRCUIT_CLOSED);
	ck_assert_uint_eq (fx->circuits->len, 0);
	g_clear_pointer (&status, astra_webhook_status_free);

	/* new deliveries wait too; another webhook does not */
	submit_to (fx, e4, NULL, only_a);
	submit_to (fx, e4, NULL, only_b);
	run (fx);
	ck_assert (is_open (fx, e4));
	ck_assert_str_eq (open_call (fx, e4, NULL)->webhook_name, "b");
	call_deliver (open_call (fx, e4, "b"));
	/* one already in flight may finish */
	call_deliver (open_call (fx, e3, NULL));
	advance_to (fx, T0 + 30 * S - 1);
	ck_assert_uint_eq (count_open (fx), 0);

	advance_to (fx, T0 + 30 * S);
	ck_assert_uint_eq (count_open (fx), 2);
	ck_assert_uint_eq (open_call (fx, e1, NULL)->attempt, 2);
	ck_assert_int_eq (open_call (fx, e1, NULL)->started_us, T0 + 30 * S);
	ck_assert_int_eq (open_call (fx, e4, "a")->started_us, T0 + 30 * S);
	status = get_status (fx, "a");
	ck_assert_int_eq (status->paused_until_us, 0);
	call_deliver (open_call (fx, e1, NULL));
	call_deliver (open_call (fx, e4, "a"));
	ck_assert_uint_eq (count_state (fx, "a", ASTRA_DELIVERY_STATE_DELIVERED), 4);
}
END_TEST

START_TEST (test_max_age)
{
	g_autoptr(Fixture) fx =
		       fixture_new (HOOK ("a") "retry-schedule = 30s, 30s, 30s, 30s\nmax-age = 1m\n");
	g_autoptr(AstraEvent) event = alert_event ("alert.triggered", "alt_1");
	g_autoptr(AstraDelivery) d = NULL;

	submit (fx, event);
	run (fx);
	call_retry (open_call (fx, event, NULL), 500);
	advance_to (fx, T0 + 30 * S);
	/* a transport error is retried like a 5xx */
	call_finish_full (open_call (fx, event, NULL), ASTRA_OUTCOME_RETRY, 0, -1, FALSE,
			  "connection refused", NULL);
	/* T0 + 60 s is within max-age: one more */
	advance_to (fx, T0 + 60 * S);
	call_retry (open_call (fx, event, NULL), 500);
	advance_to (fx, T0 + 3600 * S);
	ck_assert_uint_eq (fx->calls->len, 3);

	d = lookup_delivery (fx, event, "a");
	ck_assert_int_eq (d->state, ASTRA_DELIVERY_STATE_DEAD);
	astra_assert_contains (d->last_reason, "older than max-age (60 s) after 3 attempts: HTTP 500");
	ck_assert_uint_eq (fx->dead->len, 1);
}
END_TEST

/* FAILED is final; a dead letter goes again when asked, with a new round of retries */
START_TEST (test_failed_dead_and_redeliver)
{
	g_autoptr(Fixture) fx = fixture_new (HOOK ("a") "retry-schedule = 5s\nmax-age = 1m\n");
	g_autoptr(AstraEvent) event = alert_event ("alert.triggered", "alt_1");
	g_autoptr(AstraEvent) other = alert_event ("alert.triggered", "alt_2");
	g_autoptr(AstraDelivery) d = NULL;
	g_autoptr(AstraWebhookStatus) status = NULL;
	g_autoptr(GPtrArray) attempts = NULL;
	g_autoptr(GError) error = NULL;
	gint64 id;

	submit (fx, event);
	run (fx);
	call_finish_full (open_call (fx, event, NULL), ASTRA_OUTCOME_FAILED, 400, -1, FALSE, "bad payload",
			  NULL);
	d = lookup_delivery (fx, event, "a");
	id = d->id;
	ck_assert_int_eq (d->state, ASTRA_DELIVERY_STATE_DEAD);
	ck_assert_str_eq (d->last_reason, "failed for good: HTTP 400: bad payload");
	ck_assert_uint_eq (fx->dead->len, 1);
	g_clear_pointer (&d, astra_delivery_free);

	/* an hour later, past max-age: the redelivery counts from now */
	advance_to (fx, T0 + 3600 * S);
	ck_assert (astra_deliverer_redeliver (fx->deliverer, id, &error));
	astra_assert_no_error (error);
	ck_assert_uint_eq (count_open (fx), 0);
	run (fx);
	ck_assert_uint_eq (open_call (fx, event, NULL)->attempt, 2);
	call_retry (open_call (fx, event, NULL), 503);
	advance_to (fx, T0 + 3605 * S);
	ck_assert_uint_eq (open_call (fx, event, NULL)->attempt, 3);
	call_retry (open_call (fx, event, NULL), 503);
	d = lookup_delivery (fx, event, "a");
	ck_assert_int_eq (d->state, ASTRA_DELIVERY_STATE_DEAD);
	ck_assert_str_eq (d->last_reason, "gave up after 2 attempts: HTTP 503: the receiver is unwell");
	g_clear_pointer (&d, astra_delivery_free);
	ck_assert_uint_eq (fx->dead->len, 2);

	/* and once more, delivered this time */
	ck_assert (astra_deliverer_redeliver (fx->deliverer, id, &error));
	run (fx);
	call_deliver (open_call (fx, event, NULL));
	d = lookup_delivery (fx, event, "a");
	ck_assert_int_eq (d->state, ASTRA_DELIVERY_STATE_DELIVERED);
	ck_assert_uint_eq (d->attempts, 4);
	attempts = astra_outbox_list_attempts (fx->outbox, id, &error);
	ck_assert_uint_eq (attempts->len, 4);

	/* a pending one waiting for its retry goes now */
	submit (fx, other);
	run (fx);
	call_retry (open_call (fx, other, NULL), 503);
	g_clear_pointer (&d, astra_delivery_free);
	d = lookup_delivery (fx, other, "a");
	ck_assert (astra_deliverer_redeliver (fx->deliverer, d->id, &error));
	/* one in flight is left alone */
	run (fx);
	ck_assert_uint_eq (open_call (fx, other, NULL)->attempt, 2);
	ck_assert (astra_deliverer_redeliver (fx->deliverer, d->id, &error));
	run (fx);
	ck_assert_uint_eq (count_open (fx), 1);
	call_deliver (open_call (fx, other, NULL));

	ck_assert (!astra_deliverer_redeliver (fx->deliverer, 999999, &error));
	ck_assert (g_error_matches (error, ASTRA_ERROR, ASTRA_ERROR_NOT_FOUND));
	status = get_status (fx, "a");
	ck_assert_uint_eq (status->pending, 0);
	ck_assert_uint_eq (status->n_dead, 2);
	ck_assert_uint_eq (status->n_delivered, 2);
}
END_TEST

/* GONE: the webhook stops, loudly, keeping its deliveries; re-enabled, they go */
START_TEST (test_gone_disables)
{
	g_autoptr(Fixture) fx = fixture_new (HOOK ("a") "max-in-flight = 2\n" HOOK ("b"));
	g_autoptr(GPtrArray) events = NULL;
	g_autoptr(AstraWebhookStatus) status = NULL;
	g_autoptr(GError) error = NULL;
	AstraEvent *e0;
	AstraEvent *e1;

	events = submit_alerts (fx, 4, 0, NULL);
	e0 = g_ptr_array_index (events, 0);
	e1 = g_ptr_array_index (events, 1);
	run (fx);
	call_finish_full (open_call (fx, e0, "a"), ASTRA_OUTCOME_GONE, 410, -1, FALSE, "no such webhook",
			  NULL);
	ck_assert (!astra_webhook_get_enabled (find_webhook (fx, "a")));
	astra_assert_contains (astra_webhook_get_disabled_reason (find_webhook (fx, "a")), "HTTP 410");
	ck_assert_uint_eq (fx->n_disabled, 1);
	status = get_status (fx, "a");
	ck_assert (!status->enabled);
	astra_assert_contains (status->disabled_reason, "gone");
	ck_assert_uint_eq (status->pending, 4);
	g_clear_pointer (&status, astra_webhook_status_free);

	/* the one in flight still counts; nothing more starts for a, b goes on */
	call_deliver (open_call (fx, e1, "a"));
	for (guint i = 0; i < 4; i++)
		call_deliver (open_call (fx, g_ptr_array_index (events, i), "b"));
	advance_to (fx, T0 + 24 * 3600 * S);
	ck_assert_uint_eq (count_open (fx), 0);
	ck_assert_uint_eq (count_state (fx, "a", ASTRA_DELIVERY_STATE_PENDING), 3);
	ck_assert_uint_eq (count_state (fx, "b", ASTRA_DELIVERY_STATE_DELIVERED), 4);

	ck_assert (!astra_deliverer_enable_webhook (fx->deliverer, "nope", &error));
	ck_assert (g_error_matches (error, ASTRA_ERROR, ASTRA_ERROR_NOT_FOUND));
	ck_assert (astra_deliverer_enable_webhook (fx->deliverer, "a", NULL));
	run (fx);
	/* the one that got GONE goes first */
	ck_assert_uint_eq (count_open (fx), 2);
	ck_assert_uint_eq (open_call (fx, e0, "a")->attempt, 2);
	call_finish_full (open_call (fx, e0, "a"), ASTRA_OUTCOME_GONE, 410, -1, FALSE, NULL, NULL);
	ck_assert_uint_eq (fx->n_disabled, 2);
	call_deliver (open_call (fx, g_ptr_array_index (events, 2), "a"));
	run (fx);
	ck_assert_uint_eq (count_open (fx), 0);

	/* a reload with the webhook enabled enables it too */
	fixture_set_webhooks (fx, HOOK ("a") "max-in-flight = 2\n" HOOK ("b"));
	run (fx);
	ck_assert_uint_eq (count_open (fx), 2);
	call_deliver (open_call (fx, e0, "a"));
	call_deliver (open_call (fx, g_ptr_array_index (events, 3), "a"));
	ck_assert_uint_eq (count_state (fx, "a", ASTRA_DELIVERY_STATE_DELIVERED), 4);
	status = get_status (fx, "a");
	ck_assert (status->enabled);
	ck_assert_ptr_null (status->disabled_reason);
}
END_TEST

/* closed -> open -> half-open -> open (cooldown doubled) -> half-open -> closed */
START_TEST (test_circuit_breaker)
{
	g_autoptr(Fixture) fx = fixture_new ("[webhook a]\nplugin = test\nmax-in-flight = 4\n"
					      "retry-schedule = 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s\n"
					      "breaker-failures = 3\nbreaker-cooldown = 10s\n");
	g_autoptr(AstraEvent) x = alert_event ("alert.triggered", "alt_x");
	g_autoptr(AstraEvent) y = alert_event ("alert.triggered", "alt_y");
	g_autoptr(AstraEvent) z = alert_event ("alert.triggered", "alt_z");
	g_autoptr(AstraWebhookStatus) status = NULL;
	Call *probe;
	const guint expected[] = { ASTRA_CIRCUIT_OPEN, ASTRA_CIRCUIT_HALF_OPEN, ASTRA_CIRCUIT_OPEN,
				   ASTRA_CIRCUIT_HALF_OPEN, ASTRA_CIRCUIT_CLOSED };

	submit (fx, x);
	run (fx);
	call_retry (open_call (fx, x, NULL), 503);
	advance_to (fx, T0 + 1 * S);
	call_retry (open_call (fx, x, NULL), 503);
	advance_to (fx, T0 + 2 * S);
	call_retry (open_call (fx, x, NULL), 503);
	status = get_status (fx, "a");
	ck_assert_int_eq (status->circuit, ASTRA_CIRCUIT_OPEN);
	g_clear_pointer (&status, astra_webhook_status_free);

	/* open: neither the retry nor new deliveries go */
	submit (fx, y);
	submit (fx, z);
	advance_to (fx, T0 + 12 * S - 1);
	ck_assert_uint_eq (count_open (fx), 0);

	/* half-open: exactly one probe */
	advance_to (fx, T0 + 12 * S);
	ck_assert_uint_eq (count_open (fx), 1);
	status = get_status (fx, "a");
	ck_assert_int_eq (status->circuit, ASTRA_CIRCUIT_HALF_OPEN);
	g_clear_pointer (&status, astra_webhook_status_free);
	probe = g_ptr_array_index (fx->calls, fx->calls->len - 1);
	ck_assert_int_eq (probe->started_us, T0 + 12 * S);
	advance_to (fx, T0 + 13 * S);
	ck_assert_uint_eq (count_open (fx), 1);

	/* the probe fails: open for twice as long */
	call_retry (probe, 503);
	status = get_status (fx, "a");
	ck_assert_int_eq (status->circuit, ASTRA_CIRCUIT_OPEN);
	g_clear_pointer (&status, astra_webhook_status_free);
	advance_to (fx, T0 + 33 * S - 1);
	ck_assert_uint_eq (count_open (fx), 0);
	advance_to (fx, T0 + 33 * S);
	ck_assert_uint_eq (count_open (fx), 1);
	probe = g_ptr_array_index (fx->calls, fx->calls->len - 1);

	/* it succeeds: closed, and everything flows */
	call_deliver (probe);
	status = get_status (fx, "a");
	ck_assert_int_eq (status->circuit, ASTRA_CIRCUIT_CLOSED);
	run (fx);
	while (count_open (fx) > 0) {
		for (guint i = 0; i < fx->calls->len; i++) {
			Call *call = g_ptr_array_index (fx->calls, i);
			if (!call->finished) {
				call_deliver (call);
				break;
			}
		}
		run (fx);
	}
	ck_assert_uint_eq (count_state (fx, "a", ASTRA_DELIVERY_STATE_DELIVERED), 3);
	ck_assert_uint_eq (fx->circuits->len, G_N_ELEMENTS (expected));
	for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
		ck_assert_uint_eq (g_array_index (fx->circuits, guint, i), expected[i]);
}
END_TEST

/* the cooldown doubles while probes fail, up to 10 minutes */
START_TEST (test_circuit_cooldown_cap)
{
	g_autoptr(Fixture) fx = fixture_new (
	    "[webhook a]\nplugin = test\nretry-schedule = 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s\n"
	    "breaker-failures = 1\nbreaker-cooldown = 2m\n");
	g_autoptr(AstraEvent) x = alert_event ("alert.triggered", "alt_x");
	const gint64 opens[] = { 2 * 60, 4 * 60, 8 * 60, 10 * 60, 10 * 60 };
	gint64 t = T0;

	submit (fx, x);
	run (fx);
	call_retry (open_call (fx, x, NULL), 503);
	for (guint i = 0; i < G_N_ELEMENTS (opens); i++) {
		t += opens[i] * S;
		advance_to (fx, t - 1);
		ck_assert_uint_eq (count_open (fx), 0);
		advance_to (fx, t);
		ck_assert_uint_eq (count_open (fx), 1);
		call_retry (open_call (fx, x, NULL), 503);
	}
}
END_TEST

/* at most 3 in any 3 s (the way Slack, Discord and Teams count): 10 deliveries go out 3 at a
 * time, 3 s apart, and no 3 s ever holds a fourth */
START_TEST (test_rate_window)
{
	g_autoptr(Fixture) fx = fixture_new (HOOK ("a") "rate-limit = 3/3s\nmax-in-flight = 16\n");
	g_autoptr(GPtrArray) events = NULL;
	const gint64 expected[] = { 0, 0, 0, 3, 3, 3, 6, 6, 6, 9 };

	events = submit_alerts (fx, 10, 0, NULL);
	run (fx);
	for (gint64 t = T0; fx->calls->len < 10 && t <= T0 + 20 * S; t += S / 10) {
		advance_to (fx, t);
		for (guint i = 0; i < fx->calls->len; i++) {
			Call *call = g_ptr_array_index (fx->calls, i);
			if (!call->finished)
				call_deliver (call);
		}
	}
	ck_assert_uint_eq (fx->calls->len, 10);
	for (guint i = 0; i < 10; i++)
		ck_assert_int_eq (((Call *) g_ptr_array_index (fx->calls, i))->started_us,
				  T0 + expected[i] * S);
	for (guint i = 3; i < 10; i++)
		ck_assert_int_ge (((Call *) g_ptr_array_index (fx->calls, i))->started_us -
				      ((Call *) g_ptr_array_index (fx->calls, i - 3))->started_us,
				  3 * S);
	ck_assert_uint_eq (count_state (fx, "a", ASTRA_DELIVERY_STATE_DELIVERED), 10);
}
END_TEST

/* a reload that changes the window keeps what was sent: a larger one lets more go at once,
 * a smaller one holds back until its newest sends leave it */
START_TEST (test_rate_window_reload)
{
	g_autoptr(Fixture) fx = fixture_new (HOOK ("a") "rate-limit = 3/3s\nmax-in-flight = 16\n");
	g_autoptr(GPtrArray) events = NULL;

	events = submit_alerts (fx, 6, 0, NULL);
	run (fx);
	ck_assert_uint_eq (fx->calls->len, 3);

	advance_to (fx, T0 + S);
	fixture_set_webhooks (fx, HOOK ("a") "rate-limit = 5/3s\nmax-in-flight = 16\n");
	run (fx);
	ck_assert_uint_eq (fx->calls->len, 5);
	ck_assert_int_eq (((Call *) g_ptr_array_index (fx->calls, 4))->started_us, T0 + S);

	/* 2 in 3 s: the two sent at 1 s hold the sixth back until 4 s */
	advance_to (fx, T0 + 2 * S);
	fixture_set_webhooks (fx, HOOK ("a") "rate-limit = 2/3s\nmax-in-flight = 16\n");
	advance_to (fx, T0 + 4 * S - 1);
	ck_assert_uint_eq (fx->calls->len, 5);
	advance_to (fx, T0 + 4 * S);
	ck_assert_uint_eq (fx->calls->len, 6);
	ck_assert_int_eq (((Call *) g_ptr_array_index (fx->calls, 5))->started_us, T0 + 4 * S);
}
END_TEST

/* events cheap enough to make by the hundred thousand: the data is parsed once */
static AstraEvent *
bulk_event (JsonObject *data, guint i)
{
	g_autofree char *id = g_strdup_printf ("alt_%u", i);
	g_autoptr(GError) error = NULL;
	AstraEvent *event;

	json_object_set_string_member (data, "alert_id", id);
	event = astra_event_new (ASTRA_EVENT_KIND_ALERT_TRIGGERED, ASTRA_CHECK_EVENT_TIME, data, &error);
	astra_assert_no_error (error);
	return event;
}

#define N_BULK 100000
#define N_KEYS 7

/* a flood on one webhook: memory holds a window, and every delivery goes, in order per key */
START_TEST (test_window_bound)
{
	/* a file, as in the daemon: an in-memory database would hold the whole flood in RAM */
	g_autofree char *path = astra_check_tmp_path ("state.db");
	g_autoptr(Fixture) fx = fixture_new_full (HOOK ("a") "max-in-flight = 32\n", path, 0);
	g_autoptr(JsonObject) data = astra_check_fixture_data ("alert.triggered");
	g_autoptr(GHashTable) index = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
	guint next_seq[N_KEYS] = { 0 };
	g_autoptr(AstraWebhookStatus) status = NULL;

	fx->bulk = TRUE;
	for (guint i = 0; i < N_BULK; i++) {
		g_autoptr(AstraEvent) event = bulk_event (data, i);
		g_autofree char *key = g_strdup_printf ("k%u", i % N_KEYS);

		g_hash_table_insert (index, g_strdup (astra_event_get_id (event)), GUINT_TO_POINTER (i + 1));
		submit_to (fx, event, key, NULL);
		ck_assert_uint_le (astra_deliverer_get_n_in_memory (fx->deliverer),
				   ASTRA_DELIVERER_DEFAULT_WINDOW);
	}
	status = get_status (fx, "a");
	ck_assert_uint_eq (status->pending, N_BULK);
	ck_assert_int_eq (status->oldest_pending_us, T0);
	g_clear_pointer (&status, astra_webhook_status_free);
	ck_assert_uint_eq (astra_deliverer_get_n_in_memory (fx->deliverer), ASTRA_DELIVERER_DEFAULT_WINDOW);

	run (fx);
	while (fx->bulk_delivered->len < N_BULK && g_main_context_iteration (NULL, FALSE))
		;
	ck_assert_uint_eq (fx->bulk_delivered->len, N_BULK);
	ck_assert_uint_le (fx->max_in_memory, ASTRA_DELIVERER_DEFAULT_WINDOW);
	ck_assert_uint_le (fx->max_open, 32);
	for (guint i = 0; i < N_BULK; i++) {
		guint n =
		    GPOINTER_TO_UINT (g_hash_table_lookup (index, g_ptr_array_index (fx->bulk_delivered, i)));
		guint seq;

		ck_assert_uint_gt (n, 0);
		seq = n - 1;
		/* each key's deliveries in the order they were made, every one once */
		ck_assert_uint_eq (seq / N_KEYS, next_seq[seq % N_KEYS]);
		next_seq[seq % N_KEYS]++;
	}
	iterate ();
	ck_assert_uint_eq (count_state (fx, "a", ASTRA_DELIVERY_STATE_DELIVERED), N_BULK);
	ck_assert_uint_eq (count_state (fx, "a", ASTRA_DELIVERY_STATE_PENDING), 0);
	status = get_status (fx, "a");
	ck_assert_uint_eq (status->pending, 0);
	ck_assert_uint_eq (status->n_delivered, N_BULK);
	ck_assert_uint_eq (astra_deliverer_get_n_in_memory (fx->deliverer), 0);
}
END_TEST

/* the same in a small window, with retries: what waits for a retry holds its place */
START_TEST (test_window_small_with_retries)
{
	g_autoptr(Fixture) fx = fixture_new (NULL);
	g_autoptr(GPtrArray) events = NULL;
	guint n_finished = 0;

	astra_deliverer_set_window (fx->deliverer, 4);
	fixture_set_webhooks (fx, HOOK ("a") "max-in-flight = 2\nretry-schedule = 10s\n");
	events = submit_alerts (fx, 20, 5, NULL);
	ck_assert_uint_eq (astra_deliverer_get_n_in_memory (fx->deliverer), 4);
	run (fx);
	for (guint round = 0; round < 100 && n_finished < 20; round++) {
		for (guint i = 0; i < fx->calls->len; i++) {
			Call *call = g_ptr_array_index (fx->calls, i);
			if (call->finished)
				continue;
			/* every third first attempt must be retried */
			if (call->attempt == 1 && (i % 3) == 0) {
				call_retry (call, 503);
			} else {
				call_deliver (call);
				n_finished++;
			}
			ck_assert_uint_le (astra_deliverer_get_n_in_memory (fx->deliverer), 4);
		}
		advance_to (fx, astra_clock_now (fx->clock) + S);
	}
	ck_assert_uint_eq (n_finished, 20);
	/* per alert, first attempts in the order submitted, each after the one before was delivered */
	for (guint k = 0; k < 5; k++) {
		gint last = -1;
		for (guint i = 0; i < fx->calls->len; i++) {
			Call *call = g_ptr_array_index (fx->calls, i);
			for (guint j = k; j < 20; j += 5) {
				if (g_strcmp0 (call->event_id,
					       astra_event_get_id (g_ptr_array_index (events, j))) == 0 &&
				    call->attempt == 1) {
					ck_assert_int_gt ((gint) j, last);
					last = (gint) j;
				}
			}
		}
	}
	ck_assert_uint_eq (count_state (fx, "a", ASTRA_DELIVERY_STATE_DELIVERED), 20);
}
END_TEST

/* a delivery whose event is gone from the outbox is a dead letter, not a stuck queue */
START_TEST (test_event_lost)
{
	g_autoptr(Fixture) fx = fixture_new (NULL);
	g_autoptr(GPtrArray) events = NULL;
	g_autoptr(AstraDelivery) d = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *sql = NULL;
	AstraEvent *lost;

	astra_deliverer_set_window (fx->deliverer, 2);
	fixture_set_webhooks (fx, HOOK ("a"));
	events = submit_alerts (fx, 4, 0, NULL);
	/* the third waits on disk: its event is read back when it is paged in */
	lost = g_ptr_array_index (events, 2);
	sql = g_strdup_printf ("DELETE FROM outbox_events WHERE id = '%s'", astra_event_get_id (lost));
	ck_assert (astra_state_db_exec (fx->db, sql, &error));
	run (fx);
	call_deliver (open_call (fx, g_ptr_array_index (events, 0), NULL));
	call_deliver (open_call (fx, g_ptr_array_index (events, 1), NULL));
	call_deliver (open_call (fx, g_ptr_array_index (events, 3), NULL));
	ck_assert_uint_eq (fx->calls->len, 3);
	d = lookup_delivery (fx, lost, "a");
	ck_assert_int_eq (d->state, ASTRA_DELIVERY_STATE_DEAD);
	astra_assert_contains (d->last_reason, "failed for good: the event cannot be loaded");
	ck_assert_uint_eq (count_state (fx, "a", ASTRA_DELIVERY_STATE_DELIVERED), 3);
}
END_TEST

/* a new deliverer over the same database file goes on where the old one stopped */
START_TEST (test_recover_after_restart)
{
	g_autofree char *path = astra_check_tmp_path ("state.db");
	const char *text = HOOK ("a") "max-in-flight = 3\nretry-schedule = 10s\n" HOOK ("gone");
	g_autoptr(Fixture) fx1 = fixture_new_full (text, path, 0);
	g_autoptr(Fixture) fx2 = NULL;
	g_autoptr(GPtrArray) events = NULL;
	g_autoptr(GError) error = NULL;
	const char *const only_a[] = { "a", NULL };
	const char *const only_gone[] = { "gone", NULL };
	AstraEvent *delivered;
	AstraEvent *retried;
	AstraEvent *crashed;

	events = submit_alerts (fx1, 6, 0, only_a);
	submit_to (fx1, g_ptr_array_index (events, 0), NULL, only_gone);
	run (fx1);
	delivered = g_ptr_array_index (events, 0);
	retried = g_ptr_array_index (events, 1);
	crashed = g_ptr_array_index (events, 2);
	call_deliver (open_call (fx1, delivered, "a"));
	call_retry (open_call (fx1, retried, "a"), 503);
	/* a fourth went when the first was delivered; these two are in flight at the crash */
	ck_assert (is_open (fx1, crashed));
	ck_assert (is_open (fx1, g_ptr_array_index (events, 3)));
	ck_assert (astra_state_db_flush (fx1->db, &error));

	/* the restart, a second later, without the webhook "gone" */
	fx2 = fixture_new_full (HOOK ("a") "max-in-flight = 3\nretry-schedule = 10s\n", path, S);
	ck_assert (astra_deliverer_recover (fx2->deliverer, &error));
	astra_assert_no_error (error);
	run (fx2);
	/* at once: the two cut short and the one never tried; the retry keeps its time */
	ck_assert_uint_eq (count_open (fx2), 3);
	ck_assert_uint_eq (open_call (fx2, crashed, NULL)->attempt, 1);
	ck_assert (is_open (fx2, g_ptr_array_index (events, 3)));
	ck_assert (is_open (fx2, g_ptr_array_index (events, 4)));
	ck_assert (!is_open (fx2, retried));
	for (guint i = 2; i < 5; i++)
		call_deliver (open_call (fx2, g_ptr_array_index (events, i), NULL));
	ck_assert (is_open (fx2, g_ptr_array_index (events, 5)));
	call_deliver (open_call (fx2, g_ptr_array_index (events, 5), NULL));
	advance_to (fx2, T0 + 10 * S - 1);
	ck_assert_uint_eq (count_open (fx2), 0);
	advance_to (fx2, T0 + 10 * S);
	ck_assert_uint_eq (open_call (fx2, retried, NULL)->attempt, 2);
	call_deliver (open_call (fx2, retried, NULL));

	/* each pending one once, under its own event id; "gone"'s stays in the outbox */
	ck_assert_uint_eq (fx2->calls->len, 5);
	for (guint i = 1; i < 6; i++)
		ck_assert_uint_eq (count_calls_for (fx2, g_ptr_array_index (events, i)), 1);
	ck_assert_uint_eq (count_calls_for (fx2, delivered), 0);
	ck_assert_uint_eq (count_state (fx2, "a", ASTRA_DELIVERY_STATE_DELIVERED), 6);
	ck_assert_uint_eq (count_state (fx2, "gone", ASTRA_DELIVERY_STATE_PENDING), 1);
	ck_assert (astra_state_db_flush (fx2->db, &error));

	/* the old process's attempts never came back; let it go */
	g_clear_pointer (&fx2, fixture_free);
}
END_TEST

/* queues are kept by name across reloads; removed webhooks keep their deliveries in the outbox */
START_TEST (test_set_webhooks_reload)
{
	g_autoptr(Fixture) fx = fixture_new (HOOK ("a") "max-in-flight = 1\n" HOOK ("b"));
	g_autoptr(AstraEvent) e1 = alert_event ("alert.triggered", "alt_1");
	g_autoptr(AstraEvent) e2 = alert_event ("alert.triggered", "alt_2");
	g_autoptr(AstraEvent) e3 = alert_event ("alert.triggered", "alt_3");
	g_autoptr(AstraWebhookStatus) status = NULL;
	g_autoptr(GPtrArray) all = NULL;
	g_autoptr(AstraWebhook) old_a = NULL;
	Call *b_in_flight;

	submit (fx, e1);
	submit (fx, e2);
	run (fx);
	call_deliver (open_call (fx, e1, "a"));
	call_deliver (open_call (fx, e2, "a"));
	call_deliver (open_call (fx, e1, "b"));
	b_in_flight = open_call (fx, e2, "b");
	old_a = g_object_ref (find_webhook (fx, "a"));

	/* a stays (with more in flight), b goes, c comes */
	fixture_set_webhooks (fx, HOOK ("a") "max-in-flight = 2\n" HOOK ("c"));
	ck_assert_ptr_ne (find_webhook (fx, "a"), old_a);
	status = get_status (fx, "a");
	ck_assert_uint_eq (status->n_delivered, 2);
	g_clear_pointer (&status, astra_webhook_status_free);
	all = astra_deliverer_get_status (fx->deliverer);
	ck_assert_uint_eq (all->len, 2);
	ck_assert_str_eq (((AstraWebhookStatus *) g_ptr_array_index (all, 0))->webhook, "a");
	ck_assert_str_eq (((AstraWebhookStatus *) g_ptr_array_index (all, 1))->webhook, "c");

	/* b's attempt in flight ends and is recorded; its other delivery stays pending */
	submit_to (fx, e3, NULL, NULL);
	run (fx);
	ck_assert_ptr_eq (open_call (fx, e3, "a")->webhook, find_webhook (fx, "a"));
	ck_assert (is_open (fx, e3));
	call_retry (b_in_flight, 503);
	call_deliver (open_call (fx, e3, "a"));
	call_deliver (open_call (fx, e3, "c"));
	advance_to (fx, T0 + 3600 * S);
	ck_assert_uint_eq (count_open (fx), 0);
	ck_assert_uint_eq (count_state (fx, "b", ASTRA_DELIVERY_STATE_PENDING), 1);
	ck_assert_uint_eq (astra_deliverer_get_n_in_memory (fx->deliverer), 0);

	/* b comes back: what it had pending goes */
	fixture_set_webhooks (fx, HOOK ("a") HOOK ("b") HOOK ("c"));
	run (fx);
	ck_assert_uint_eq (open_call (fx, e2, "b")->attempt, 2);
	call_deliver (open_call (fx, e2, "b"));
	ck_assert_uint_eq (count_state (fx, "b", ASTRA_DELIVERY_STATE_PENDING), 0);
	status = get_status (fx, "b");
	ck_assert_uint_eq (status->pending, 0);
	ck_assert_uint_eq (status->n_delivered, 1);
}
END_TEST

static void
shutdown_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
	gboolean *done = user_data;
	g_autoptr(GError) error = NULL;

	ck_assert (astra_deliverer_shutdown_finish (ASTRA_DELIVERER (source), result, &error));
	astra_assert_no_error (error);
	*done = TRUE;
}

/* no new attempts; those in flight get their time, then are cancelled; nothing is lost */
START_TEST (test_shutdown)
{
	g_autoptr(Fixture) fx = fixture_new (HOOK ("a") "max-in-flight = 3\n");
	g_autoptr(GPtrArray) events = NULL;
	g_autoptr(AstraEvent) late = alert_event ("alert.triggered", "alt_late");
	g_autoptr(AstraDelivery) d = NULL;
	g_autoptr(AstraWebhookStatus) status = NULL;
	gboolean done = FALSE;

	events = submit_alerts (fx, 5, 0, NULL);
	run (fx);
	ck_assert_uint_eq (count_open (fx), 3);
	astra_deliverer_shutdown_async (fx->deliverer, 5, shutdown_cb, &done);
	iterate ();
	ck_assert (!done);

	/* one finishes in time; nothing new starts, a late event is still stored */
	advance_to (fx, T0 + 1 * S);
	call_deliver (open_call (fx, g_ptr_array_index (events, 0), NULL));
	submit (fx, late);
	run (fx);
	ck_assert_uint_eq (count_open (fx), 2);
	ck_assert_uint_eq (fx->calls->len, 3);
	advance_to (fx, T0 + 5 * S - 1);
	ck_assert (!done);

	/* time is up: the rest are cancelled, and recorded as pending, due at once */
	advance_to (fx, T0 + 5 * S);
	ck_assert (done);
	ck_assert_uint_eq (count_open (fx), 0);
	ck_assert_uint_eq (astra_deliverer_get_n_in_flight (fx->deliverer), 0);
	ck_assert_uint_eq (count_state (fx, "a", ASTRA_DELIVERY_STATE_DELIVERED), 1);
	ck_assert_uint_eq (count_state (fx, "a", ASTRA_DELIVERY_STATE_PENDING), 5);
	d = lookup_delivery (fx, g_ptr_array_index (events, 1), "a");
	ck_assert_uint_eq (d->attempts, 1);
	ck_assert_int_eq (d->next_attempt_us, T0 + 5 * S);
	ck_assert_str_eq (d->last_reason, "cancelled");
	g_clear_pointer (&d, astra_delivery_free);
	/* no breaker, no retry counted for it */
	status = get_status (fx, "a");
	ck_assert_uint_eq (status->n_retries, 0);
	ck_assert_int_eq (status->circuit, ASTRA_CIRCUIT_CLOSED);

	advance_to (fx, T0 + 3600 * S);
	ck_assert_uint_eq (fx->calls->len, 3);
}
END_TEST

START_TEST (test_shutdown_idle)
{
	g_autoptr(Fixture) fx = fixture_new (HOOK ("a"));
	gboolean done = FALSE;

	astra_deliverer_shutdown_async (fx->deliverer, 5, shutdown_cb, &done);
	iterate ();
	ck_assert (done);
}
END_TEST

static double
cpu_seconds (void)
{
	struct rusage usage;

	getrusage (RUSAGE_SELF, &usage);
	return (double) usage.ru_utime.tv_sec + (double) usage.ru_utime.tv_usec / 1e6 +
	       (double) usage.ru_stime.tv_sec + (double) usage.ru_stime.tv_usec / 1e6;
}

/* prints what the scheduler and the outbox cost per delivery; asserts only that all went */
START_TEST (test_speed)
{
	g_autofree char *path = astra_check_tmp_path ("state.db");
	g_autoptr(Fixture) fx = fixture_new_full (HOOK ("a"), path, 0);
	g_autoptr(JsonObject) data = astra_check_fixture_data ("alert.triggered");
	const guint batch = 1000;
	double cpu = 0;
	gint64 wall = 0;

	fx->bulk = TRUE;
	for (guint done = 0; done < N_BULK; done += batch) {
		g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func (g_object_unref);
		double cpu_start;
		gint64 wall_start;

		/* making the events is the engine's cost, not the deliverer's */
		for (guint i = 0; i < batch; i++)
			g_ptr_array_add (events, bulk_event (data, done + i));
		cpu_start = cpu_seconds ();
		wall_start = g_get_monotonic_time ();
		for (guint i = 0; i < batch; i++)
			submit (fx, g_ptr_array_index (events, i));
		run (fx);
		while (fx->bulk_delivered->len < done + batch && g_main_context_iteration (NULL, FALSE))
			;
		iterate ();
		cpu += cpu_seconds () - cpu_start;
		wall += g_get_monotonic_time () - wall_start;
	}
	ck_assert_uint_eq (fx->bulk_delivered->len, N_BULK);
	ck_assert_uint_eq (count_state (fx, "a", ASTRA_DELIVERY_STATE_DELIVERED), N_BULK);
	g_printerr (
	    "deliverer: %u deliveries (outbox in a WAL file, max-in-flight %u, attempts that end at once): "
	    "%.0f deliveries/s, %.1f us of CPU per delivery (submit, schedule, record)\n",
	    N_BULK, astra_webhook_get_policy (find_webhook (fx, "a"))->max_in_flight,
	    N_BULK / ((double) wall / G_USEC_PER_SEC), cpu * 1e6 / N_BULK);
}
END_TEST

int
main (void)
{
	Suite *s = suite_create ("deliverer");
	TCase *tc = astra_check_tmpdir_tcase_new ("deliverer");
	TCase *tc_bulk = astra_check_tmpdir_tcase_new ("bulk");
	TCase *tc_speed = astra_check_tmpdir_tcase_new ("speed");

	tcase_add_test (tc, test_order_key);
	tcase_add_test (tc, test_submit_is_durable_then_attempted);
	tcase_add_test (tc, test_order_per_key);
	tcase_add_test (tc, test_max_in_flight);
	tcase_add_test (tc, test_retry_schedule_exhausted);
	tcase_add_test (tc, test_retry_jitter);
	tcase_add_test (tc, test_retry_after_pauses_queue);
	tcase_add_test (tc, test_max_age);
	tcase_add_test (tc, test_failed_dead_and_redeliver);
	tcase_add_test (tc, test_gone_disables);
	tcase_add_test (tc, test_circuit_breaker);
	tcase_add_test (tc, test_circuit_cooldown_cap);
	tcase_add_test (tc, test_rate_window);
	tcase_add_test (tc, test_rate_window_reload);
	tcase_add_test (tc, test_window_small_with_retries);
	tcase_add_test (tc, test_event_lost);
	tcase_add_test (tc, test_recover_after_restart);
	tcase_add_test (tc, test_set_webhooks_reload);
	tcase_add_test (tc, test_shutdown);
	tcase_add_test (tc, test_shutdown_idle);
	suite_add_tcase (s, tc);

	tcase_add_test (tc_bulk, test_window_bound);
	tcase_set_timeout (tc_bulk, 120);
	suite_add_tcase (s, tc_bulk);

	tcase_add_test (tc_speed, test_speed);
	tcase_set_timeout (tc_speed, 120);
	suite_add_tcase (s, tc_speed);
	return astra_check_run_suite (s);
}
