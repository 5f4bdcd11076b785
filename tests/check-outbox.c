/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * AstraOutbox: deliveries and events stored once, pending pages per webhook,
 * attempts and history, redelivery, retention, restart and corrupt rows.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <time.h>

#include "astra-check-common.h"
#include "astra-outbox.h"

#define T0 G_GINT64_CONSTANT (1765967400000000) /* 2025-12-17T10:30:00Z */
#define S G_GINT64_CONSTANT (1000000)

/* an in-memory state database with an outbox in it */
typedef struct {
	AstraStateDb *db;
	AstraOutbox *outbox;
} Fixture;

static void
fixture_open (Fixture *f, const char *path)
{
	g_autoptr(GError) error = NULL;

	f->db = astra_state_db_open (path, &error);
	astra_assert_no_error (error);
	f->outbox = astra_outbox_new (f->db, &error);
	astra_assert_no_error (error);
	ck_assert_ptr_nonnull (f->outbox);
}

static void
fixture_close (Fixture *f)
{
	g_clear_object (&f->outbox);
	g_clear_object (&f->db);
}

static gint64
sql_int (AstraStateDb *db, const char *sql)
{
	sqlite3_stmt *stmt = NULL;
	gint64 value;

	ck_assert_int_eq (sqlite3_prepare_v2 (astra_state_db_get_handle (db), sql, -1, &stmt, NULL),
			  SQLITE_OK);
	ck_assert_int_eq (sqlite3_step (stmt), SQLITE_ROW);
	value = sqlite3_column_int64 (stmt, 0);
	sqlite3_finalize (stmt);
	return value;
}

static void
sql_exec (AstraStateDb *db, const char *sql)
{
	g_autoptr(GError) error = NULL;

	ck_assert_msg (astra_state_db_exec (db, sql, &error), "%s", error != NULL ? error->message : "");
}

static GPtrArray *
deliveries_new (void)
{
	return g_ptr_array_new_with_free_func ((GDestroyNotify) astra_delivery_free);
}

static AstraEvent *
event_new (const char *type_name, guint n)
{
	g_autofree char *id = g_strdup_printf ("evt_%06u", n);

	return astra_check_fixture_event (type_name, id);
}

/* adds @event for the NULL-terminated webhooks and returns the one new delivery of the first */
static gint64
add_event (Fixture *f, AstraEvent *event, const char *order_key, const char *const *webhooks, gint64 now_us)
{
	g_autoptr(GPtrArray) out = deliveries_new ();
	g_autoptr(GError) error = NULL;
	AstraDelivery *delivery;

	ck_assert (astra_outbox_add (f->outbox, event, order_key, webhooks, now_us, out, &error));
	astra_assert_no_error (error);
	ck_assert_uint_eq (out->len, g_strv_length ((GStrv) webhooks));
	delivery = g_ptr_array_index (out, 0);
	return delivery->id;
}

static gint64
add_one (Fixture *f, guint n, const char *webhook, gint64 now_us)
{
	g_autoptr(AstraEvent) event = event_new ("alert.triggered", n);
	const char *webhooks[] = { webhook, NULL };

	return add_event (f, event, NULL, webhooks, now_us);
}

static AstraAttempt
attempt_init (AstraOutcome outcome, guint status, gint64 started_at, gint64 latency_us, const char *reason)
{
	AstraAttempt attempt = {
		.outcome = outcome,
		.attempt = 1,
		.status = status,
		.started_at = started_at,
		.latency_us = latency_us,
		.retry_after = -1,
		.reason = (char *) reason,
	};
	return attempt;
}

static void
record (Fixture *f,
	gint64 id,
	AstraOutcome outcome,
	guint status,
	gint64 at_us,
	AstraDeliveryState state,
	const char *reason)
{
	AstraAttempt attempt = attempt_init (outcome, status, at_us, 0, reason);
	g_autoptr(GError) error = NULL;

	attempt.skipped = state == ASTRA_DELIVERY_STATE_SKIPPED;
	ck_assert (astra_outbox_record_attempt (f->outbox, id, &attempt, state, 0, NULL, &error));
	astra_assert_no_error (error);
}

static AstraDelivery *
lookup (Fixture *f, gint64 id)
{
	g_autoptr(GError) error = NULL;
	AstraDelivery *delivery = astra_outbox_lookup (f->outbox, id, &error);

	astra_assert_no_error (error);
	ck_assert_ptr_nonnull (delivery);
	return delivery;
}

static GPtrArray *
load_pending (Fixture *f, const char *webhook, gint64 after_id, guint limit)
{
	g_autoptr(GError) error = NULL;
	GPtrArray *pending = astra_outbox_load_pending (f->outbox, webhook, after_id, limit, &error);

	astra_assert_no_error (error);
	ck_assert_ptr_nonnull (pending);
	return pending;
}

static GPtrArray *
list (Fixture *f, const char *webhook, int state, gint64 since_us, guint limit)
{
	g_autoptr(GError) error = NULL;
	GPtrArray *deliveries = astra_outbox_list (f->outbox, webhook, state, since_us, limit, &error);

	astra_assert_no_error (error);
	ck_assert_ptr_nonnull (deliveries);
	return deliveries;
}

static guint
count (Fixture *f, const char *webhook, AstraDeliveryState state)
{
	g_autoptr(GError) error = NULL;
	guint n = astra_outbox_count (f->outbox, webhook, state, &error);

	astra_assert_no_error (error);
	return n;
}

static guint
prune (Fixture *f, gint64 older_than_us, guint keep_count, guint max_rows)
{
	g_autoptr(GError) error = NULL;
	guint n = G_MAXUINT;

	ck_assert (astra_outbox_prune (f->outbox, older_than_us, keep_count, max_rows, &n, &error));
	astra_assert_no_error (error);
	return n;
}

static gboolean
event_stored (Fixture *f, const char *event_id)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(AstraEvent) event = astra_outbox_load_event (f->outbox, event_id, &error);

	if (event != NULL)
		return TRUE;
	ck_assert (g_error_matches (error, ASTRA_ERROR, ASTRA_ERROR_NOT_FOUND));
	return FALSE;
}

START_TEST (test_states)
{
	AstraDeliveryState state = ASTRA_DELIVERY_STATE_LAST;

	for (guint i = 0; i < ASTRA_DELIVERY_STATE_LAST; i++) {
		const char *name = astra_delivery_state_to_string (i);

		ck_assert (astra_delivery_state_from_string (name, &state));
		ck_assert_int_eq (state, i);
	}
	ck_assert_str_eq (astra_delivery_state_to_string (ASTRA_DELIVERY_STATE_DEAD), "dead");
	/* the values are on disk */
	ck_assert_int_eq (ASTRA_DELIVERY_STATE_PENDING, 0);
	ck_assert_int_eq (ASTRA_DELIVERY_STATE_DELIVERED, 1);
	ck_assert_int_eq (ASTRA_DELIVERY_STATE_DEAD, 2);
	ck_assert_int_eq (ASTRA_DELIVERY_STATE_SKIPPED, 3);
	ck_assert_int_eq (ASTRA_DELIVERY_STATE_SILENCED, 4);
	ck_assert_int_eq (ASTRA_DELIVERY_STATE_LAST, 5);
	ck_assert_str_eq (astra_delivery_state_to_string (ASTRA_DELIVERY_STATE_SILENCED), "silenced");
	ck_assert (astra_delivery_state_from_string ("silenced", &state));
	ck_assert_int_eq (state, ASTRA_DELIVERY_STATE_SILENCED);
	ck_assert_str_eq (astra_delivery_state_to_string (ASTRA_DELIVERY_STATE_LAST), "unknown");
	ck_assert (!astra_delivery_state_from_string ("gone", NULL));
	ck_assert (!astra_delivery_state_from_string (NULL, NULL));
	astra_delivery_free (NULL);
	astra_attempt_record_free (NULL);
}
END_TEST

START_TEST (test_add_and_load)
{
	Fixture f = { 0 };
	g_autoptr(AstraEvent) event = event_new ("alert.triggered", 1);
	g_autoptr(AstraEvent) event2 = event_new ("agent.registered", 2);
	g_autoptr(GPtrArray) out = deliveries_new ();
	g_autoptr(GError) error = NULL;
	const char *webhooks[] = { "ops", "chat", "pager", NULL };
	const char *more[] = { "audit", NULL };
	gint64 last_id = 0;

	fixture_open (&f, ":memory:");
	ck_assert_uint_eq (astra_state_db_get_schema_version (f.db, "outbox"), ASTRA_OUTBOX_SCHEMA_VERSION);
	ck_assert_ptr_eq (astra_outbox_get_state_db (f.outbox), f.db);

	g_ptr_array_add (out, NULL); /* appended after what is there */
	ck_assert (astra_outbox_add (f.outbox, event, "alert:cpu/web1", webhooks, T0, out, &error));
	astra_assert_no_error (error);
	ck_assert_uint_eq (out->len, 4);
	for (guint i = 1; i < out->len; i++) {
		AstraDelivery *d = g_ptr_array_index (out, i);
		g_autoptr(AstraDelivery) stored = lookup (&f, d->id);

		ck_assert_int_gt (d->id, last_id);
		last_id = d->id;
		ck_assert_str_eq (d->event_id, "evt_000001");
		ck_assert_str_eq (d->event_type, "alert.triggered");
		ck_assert_str_eq (d->webhook, webhooks[i - 1]);
		ck_assert_str_eq (d->order_key, "alert:cpu/web1");
		ck_assert_int_eq (d->state, ASTRA_DELIVERY_STATE_PENDING);
		ck_assert_uint_eq (d->attempts, 0);
		ck_assert_int_eq (d->created_us, T0);
		ck_assert_int_eq (d->next_attempt_us, T0);
		ck_assert_int_eq (d->updated_us, T0);
		ck_assert_uint_eq (d->last_status, 0);
		ck_assert_ptr_null (d->last_reason);
		ck_assert_ptr_null (d->last_response);

		/* what add returned without reading back is what is stored */
		ck_assert_int_eq (stored->id, d->id);
		ck_assert_str_eq (stored->event_id, d->event_id);
		ck_assert_str_eq (stored->event_type, d->event_type);
		ck_assert_str_eq (stored->webhook, d->webhook);
		ck_assert_str_eq (stored->order_key, d->order_key);
		ck_assert_int_eq (stored->state, d->state);
		ck_assert_uint_eq (stored->attempts, 0);
		ck_assert_int_eq (stored->created_us, T0);
		ck_assert_int_eq (stored->next_attempt_us, T0);
		ck_assert_int_eq (stored->updated_us, T0);
		ck_assert_ptr_null (stored->last_reason);
		ck_assert_ptr_null (stored->last_response);
	}
	/* the body once, however many webhooks */
	ck_assert_int_eq (sql_int (f.db, "SELECT COUNT(*) FROM outbox_events"), 1);
	ck_assert_int_eq (sql_int (f.db, "SELECT COUNT(*) FROM outbox_deliveries"), 3);

	/* the same event again for another webhook: still one body, the order key defaults to the id */
	g_ptr_array_set_size (out, 0);
	ck_assert (astra_outbox_add (f.outbox, event, NULL, more, T0 + S, out, &error));
	ck_assert_uint_eq (out->len, 1);
	ck_assert_int_gt (((AstraDelivery *) g_ptr_array_index (out, 0))->id, last_id);
	ck_assert_str_eq (((AstraDelivery *) g_ptr_array_index (out, 0))->order_key, "evt_000001");
	ck_assert_int_eq (sql_int (f.db, "SELECT COUNT(*) FROM outbox_events"), 1);

	/* no webhooks: nothing stored */
	g_ptr_array_set_size (out, 0);
	ck_assert (astra_outbox_add (f.outbox, event2, NULL, NULL, T0, out, &error));
	ck_assert (astra_outbox_add (f.outbox, event2, NULL, more + 1, T0, NULL, &error));
	ck_assert_uint_eq (out->len, 0);
	ck_assert_int_eq (sql_int (f.db, "SELECT COUNT(*) FROM outbox_events"), 1);

	/* every event type round-trips byte for byte */
	for (guint i = 0; i < ASTRA_CHECK_N_EVENT_TYPES; i++) {
		g_autoptr(AstraEvent) original = event_new (astra_check_event_types[i], 100 + i);
		g_autoptr(AstraEvent) loaded = NULL;
		g_autoptr(AstraDelivery) stored = NULL;
		gint64 id = add_event (&f, original, NULL, more, T0);

		loaded = astra_outbox_load_event (f.outbox, astra_event_get_id (original), &error);
		astra_assert_no_error (error);
		ck_assert_str_eq (astra_event_get_id (loaded), astra_event_get_id (original));
		ck_assert_str_eq (astra_event_get_type_name (loaded), astra_check_event_types[i]);
		ck_assert_int_eq (astra_event_get_timestamp (loaded), astra_event_get_timestamp (original));
		ck_assert (g_bytes_equal (astra_event_get_body (loaded), astra_event_get_body (original)));
		stored = lookup (&f, id);
		ck_assert_str_eq (stored->event_type, astra_check_event_types[i]);
		ck_assert_int_gt (id, last_id);
		last_id = id;
	}
	ck_assert_int_eq (sql_int (f.db, "SELECT timestamp FROM outbox_events WHERE id = 'evt_000001'"),
			  astra_event_get_timestamp (event));

	/* unknown ids */
	ck_assert_ptr_null (astra_outbox_load_event (f.outbox, "evt_missing", &error));
	ck_assert (g_error_matches (error, ASTRA_ERROR, ASTRA_ERROR_NOT_FOUND));
	astra_assert_contains (error->message, "evt_missing");
	g_clear_error (&error);
	ck_assert_ptr_null (astra_outbox_lookup (f.outbox, 999999, &error));
	ck_assert (g_error_matches (error, ASTRA_ERROR, ASTRA_ERROR_NOT_FOUND));
	g_clear_error (&error);
	fixture_close (&f);
}
END_TEST

START_TEST (test_pending_pages)
{
	Fixture f = { 0 };
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) names = NULL;
	gint64 a_ids[25];
	gint64 after = 0;
	guint n_seen = 0;

	fixture_open (&f, ":memory:");
	names = astra_outbox_list_pending_webhooks (f.outbox, &error);
	astra_assert_no_error (error);
	ck_assert_uint_eq (g_strv_length (names), 0);
	g_clear_pointer (&names, g_strfreev);

	for (guint i = 0; i < 25; i++) {
		a_ids[i] = add_one (&f, i, "a", T0 + i);
		add_one (&f, 1000 + i, "b", T0 + i);
	}
	add_one (&f, 5000, "c", T0);

	/* pages of 10 in id order, only a's */
	for (guint page = 0; page < 4; page++) {
		g_autoptr(GPtrArray) pending = load_pending (&f, "a", after, 10);

		ck_assert_uint_eq (pending->len, page < 2 ? 10 : page == 2 ? 5 : 0);
		for (guint i = 0; i < pending->len; i++) {
			AstraDelivery *d = g_ptr_array_index (pending, i);
			g_autofree char *event_id = g_strdup_printf ("evt_%06u", n_seen);

			ck_assert_int_eq (d->id, a_ids[n_seen]);
			ck_assert_str_eq (d->webhook, "a");
			ck_assert_str_eq (d->event_id, event_id);
			ck_assert_str_eq (d->event_type, "alert.triggered");
			ck_assert_int_eq (d->created_us, T0 + n_seen);
			after = d->id;
			n_seen++;
		}
	}
	ck_assert_uint_eq (n_seen, 25);

	/* limits: 0 gives nothing, a large one everything */
	{
		g_autoptr(GPtrArray) none = load_pending (&f, "a", 0, 0);
		g_autoptr(GPtrArray) all = load_pending (&f, "a", 0, G_MAXUINT);
		g_autoptr(GPtrArray) unknown = load_pending (&f, "nobody", 0, 100);

		ck_assert_uint_eq (none->len, 0);
		ck_assert_uint_eq (all->len, 25);
		ck_assert_uint_eq (unknown->len, 0);
	}

	names = astra_outbox_list_pending_webhooks (f.outbox, &error);
	astra_assert_no_error (error);
	ck_assert_uint_eq (g_strv_length (names), 3);
	ck_assert_str_eq (names[0], "a");
	ck_assert_str_eq (names[1], "b");
	ck_assert_str_eq (names[2], "c");
	g_clear_pointer (&names, g_strfreev);

	/* what is finished leaves the queue, in whatever state */
	record (&f, a_ids[0], ASTRA_OUTCOME_DELIVERED, 200, T0 + S, ASTRA_DELIVERY_STATE_DELIVERED, NULL);
	record (&f, a_ids[3], ASTRA_OUTCOME_FAILED, 400, T0 + S, ASTRA_DELIVERY_STATE_DEAD, NULL);
	{
		g_autoptr(GPtrArray) pending = load_pending (&f, "a", 0, 3);

		ck_assert_uint_eq (pending->len, 3);
		ck_assert_int_eq (((AstraDelivery *) g_ptr_array_index (pending, 0))->id, a_ids[1]);
		ck_assert_int_eq (((AstraDelivery *) g_ptr_array_index (pending, 1))->id, a_ids[2]);
		ck_assert_int_eq (((AstraDelivery *) g_ptr_array_index (pending, 2))->id, a_ids[4]);
	}
	{
		g_autoptr(GPtrArray) pending = load_pending (&f, "c", 0, 10);

		ck_assert_uint_eq (pending->len, 1);
		record (&f, ((AstraDelivery *) g_ptr_array_index (pending, 0))->id, ASTRA_OUTCOME_DELIVERED,
			204, T0 + S, ASTRA_DELIVERY_STATE_DELIVERED, NULL);
	}
	names = astra_outbox_list_pending_webhooks (f.outbox, &error);
	ck_assert_uint_eq (g_strv_length (names), 2);
	ck_assert_str_eq (names[0], "a");
	ck_assert_str_eq (names[1], "b");
	fixture_close (&f);
}
END_TEST

START_TEST (test_attempts)
{
	Fixture f = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) body = g_bytes_new_static ("{\"error\":\"busy\"}", 16);
	g_autoptr(GPtrArray) records = NULL;
	AstraAttempt attempt;
	gint64 id;

	fixture_open (&f, ":memory:");
	id = add_one (&f, 1, "ops", T0);

	/* 1: a 503, retried in 5 s */
	attempt = attempt_init (ASTRA_OUTCOME_RETRY, 503, T0 + 10, 1500, "HTTP 503");
	attempt.response_body = body;
	ck_assert (astra_outbox_record_attempt (f.outbox, id, &attempt, ASTRA_DELIVERY_STATE_PENDING,
						T0 + 5 * S, NULL, &error));
	astra_assert_no_error (error);
	{
		g_autoptr(AstraDelivery) d = lookup (&f, id);

		ck_assert_int_eq (d->state, ASTRA_DELIVERY_STATE_PENDING);
		ck_assert_uint_eq (d->attempts, 1);
		ck_assert_int_eq (d->next_attempt_us, T0 + 5 * S);
		ck_assert_int_eq (d->updated_us, T0 + 10 + 1500);
		ck_assert_uint_eq (d->last_status, 503);
		ck_assert_int_eq (d->last_latency_us, 1500);
		ck_assert_str_eq (d->last_reason, "HTTP 503");
		ck_assert (g_bytes_equal (d->last_response, body));
	}

	/* 2: a connection error, no status, no body */
	attempt = attempt_init (ASTRA_OUTCOME_RETRY, 0, T0 + 5 * S, 30, "connection refused");
	attempt.attempt = 2;
	ck_assert (astra_outbox_record_attempt (f.outbox, id, &attempt, ASTRA_DELIVERY_STATE_PENDING,
						T0 + 300 * S, NULL, &error));
	{
		g_autoptr(AstraDelivery) d = lookup (&f, id);

		ck_assert_uint_eq (d->attempts, 2);
		ck_assert_uint_eq (d->last_status, 0);
		ck_assert_str_eq (d->last_reason, "connection refused");
		ck_assert_ptr_null (d->last_response);
	}

	/* 3: permanent: a dead letter, with the outbox's own reason */
	attempt = attempt_init (ASTRA_OUTCOME_FAILED, 400, T0 + 300 * S, 900, "HTTP 400");
	attempt.attempt = 3;
	attempt.response_body = body;
	ck_assert (astra_outbox_record_attempt (f.outbox, id, &attempt, ASTRA_DELIVERY_STATE_DEAD, 0,
						"failed for good: HTTP 400", &error));
	{
		g_autoptr(AstraDelivery) d = lookup (&f, id);

		ck_assert_int_eq (d->state, ASTRA_DELIVERY_STATE_DEAD);
		ck_assert_uint_eq (d->attempts, 3);
		ck_assert_uint_eq (d->last_status, 400);
		ck_assert_str_eq (d->last_reason, "failed for good: HTTP 400");
		ck_assert_int_eq (d->updated_us, T0 + 300 * S + 900);
	}
	ck_assert_uint_eq (count (&f, "ops", ASTRA_DELIVERY_STATE_PENDING), 0);

	records = astra_outbox_list_attempts (f.outbox, id, &error);
	astra_assert_no_error (error);
	ck_assert_uint_eq (records->len, 3);
	for (guint i = 0; i < records->len; i++) {
		AstraAttemptRecord *r = g_ptr_array_index (records, i);

		ck_assert_int_eq (r->delivery_id, id);
		ck_assert_uint_eq (r->attempt, i + 1);
		ck_assert (!r->skipped);
	}
	{
		AstraAttemptRecord *r1 = g_ptr_array_index (records, 0);
		AstraAttemptRecord *r2 = g_ptr_array_index (records, 1);
		AstraAttemptRecord *r3 = g_ptr_array_index (records, 2);

		ck_assert_int_eq (r1->started_us, T0 + 10);
		ck_assert_uint_eq (r1->status, 503);
		ck_assert_int_eq (r1->latency_us, 1500);
		ck_assert_int_eq (r1->outcome, ASTRA_OUTCOME_RETRY);
		ck_assert_str_eq (r1->reason, "HTTP 503");
		ck_assert_uint_eq (r2->status, 0);
		ck_assert_str_eq (r2->reason, "connection refused");
		ck_assert_int_eq (r3->outcome, ASTRA_OUTCOME_FAILED);
		/* the attempt keeps its own reason, the delivery the outbox's */
		ck_assert_str_eq (r3->reason, "HTTP 400");
	}
	g_clear_pointer (&records, g_ptr_array_unref);

	/* delivered at once, and skipped by the plugin */
	{
		gint64 delivered = add_one (&f, 2, "ops", T0);
		gint64 skipped = add_one (&f, 3, "ops", T0);
		gint64 gone = add_one (&f, 4, "ops", T0);
		g_autoptr(AstraDelivery) d1 = NULL;
		g_autoptr(AstraDelivery) d2 = NULL;
		g_autoptr(AstraDelivery) d3 = NULL;

		record (&f, delivered, ASTRA_OUTCOME_DELIVERED, 200, T0 + S, ASTRA_DELIVERY_STATE_DELIVERED,
			NULL);
		attempt = attempt_init (ASTRA_OUTCOME_DELIVERED, 0, T0 + S, 0, "not for this destination");
		attempt.skipped = TRUE;
		ck_assert (astra_outbox_record_attempt (f.outbox, skipped, &attempt,
							ASTRA_DELIVERY_STATE_SKIPPED, 0, NULL, &error));
		/* GONE: the deliverer keeps it pending while the webhook is disabled */
		attempt = attempt_init (ASTRA_OUTCOME_GONE, 410, T0 + S, 10, "HTTP 410 Gone");
		ck_assert (astra_outbox_record_attempt (f.outbox, gone, &attempt,
							ASTRA_DELIVERY_STATE_PENDING, T0 + S, NULL, &error));
		d1 = lookup (&f, delivered);
		d2 = lookup (&f, skipped);
		d3 = lookup (&f, gone);
		ck_assert_int_eq (d1->state, ASTRA_DELIVERY_STATE_DELIVERED);
		ck_assert_uint_eq (d1->last_status, 200);
		ck_assert_int_eq (d2->state, ASTRA_DELIVERY_STATE_SKIPPED);
		ck_assert_str_eq (d2->last_reason, "not for this destination");
		ck_assert_int_eq (d3->state, ASTRA_DELIVERY_STATE_PENDING);
		ck_assert_uint_eq (d3->last_status, 410);
		records = astra_outbox_list_attempts (f.outbox, skipped, &error);
		ck_assert_uint_eq (records->len, 1);
		ck_assert (((AstraAttemptRecord *) g_ptr_array_index (records, 0))->skipped);
		g_clear_pointer (&records, g_ptr_array_unref);
	}

	/* no such delivery: an error, and nothing recorded */
	attempt = attempt_init (ASTRA_OUTCOME_DELIVERED, 200, T0, 0, NULL);
	ck_assert (!astra_outbox_record_attempt (f.outbox, 424242, &attempt, ASTRA_DELIVERY_STATE_DELIVERED,
						 0, NULL, &error));
	ck_assert (g_error_matches (error, ASTRA_ERROR, ASTRA_ERROR_NOT_FOUND));
	astra_assert_contains (error->message, "424242");
	g_clear_error (&error);
	records = astra_outbox_list_attempts (f.outbox, 424242, &error);
	astra_assert_no_error (error);
	ck_assert_uint_eq (records->len, 0);
	ck_assert_int_eq (sql_int (f.db, "SELECT COUNT(*) FROM outbox_attempts"), 6);
	fixture_close (&f);
}
END_TEST

/* records an attempt whose response body is @data and returns the stored excerpt */
static GBytes *
excerpt_of (Fixture *f, gint64 id, const void *data, gsize len)
{
	g_autoptr(GBytes) body = data != NULL ? g_bytes_new (data, len) : NULL;
	g_autoptr(AstraDelivery) d = NULL;
	g_autoptr(GError) error = NULL;
	AstraAttempt attempt = attempt_init (ASTRA_OUTCOME_RETRY, 500, T0, 0, NULL);

	attempt.response_body = body;
	ck_assert (astra_outbox_record_attempt (f->outbox, id, &attempt, ASTRA_DELIVERY_STATE_PENDING, T0,
						NULL, &error));
	astra_assert_no_error (error);
	d = lookup (f, id);
	return d->last_response != NULL ? g_bytes_ref (d->last_response) : NULL;
}

START_TEST (test_excerpt)
{
	Fixture f = { 0 };
	const gsize max = ASTRA_OUTBOX_MAX_EXCERPT;
	/* multi-byte characters ending exactly at, or straddling, the limit */
	const struct {
		const char *character;
		gsize prefix; /* ASCII bytes before it */
		gsize expected;
	} cuts[] = {
		{ "\xc3\xa9", max - 2, max },         /* é ends at the limit */
		{ "\xc3\xa9", max - 1, max - 1 },     /* é straddles it */
		{ "\xe2\x82\xac", max - 2, max - 2 }, /* € */
		{ "\xe2\x82\xac", max - 1, max - 1 },
		{ "\xf0\x9f\x94\xa5", max - 3, max - 3 }, /* a 4-byte emoji */
		{ "\xf0\x9f\x94\xa5", max - 1, max - 1 },
		{ "\xf0\x9f\x94\xa5", max - 4, max },
	};
	gint64 id;

	fixture_open (&f, ":memory:");
	id = add_one (&f, 1, "ops", T0);

	/* short, empty and no body */
	{
		g_autoptr(GBytes) got = excerpt_of (&f, id, "nope", 4);

		ck_assert_uint_eq (g_bytes_get_size (got), 4);
		ck_assert_int_eq (memcmp (g_bytes_get_data (got, NULL), "nope", 4), 0);
	}
	{
		g_autoptr(GBytes) got = excerpt_of (&f, id, "", 0);

		ck_assert_ptr_nonnull (got);
		ck_assert_uint_eq (g_bytes_get_size (got), 0);
	}
	{
		g_autoptr(GBytes) got = excerpt_of (&f, id, NULL, 0);

		ck_assert_ptr_null (got);
	}
	/* long text */
	{
		g_autofree char *text = astra_check_repeat ("x", 5000);
		g_autoptr(GBytes) got = excerpt_of (&f, id, text, 5000);

		ck_assert_uint_eq (g_bytes_get_size (got), max);
	}
	for (guint i = 0; i < G_N_ELEMENTS (cuts); i++) {
		g_autoptr(GString) text = g_string_new (NULL);
		g_autoptr(GBytes) got = NULL;
		gsize len;
		const char *data;

		for (gsize j = 0; j < cuts[i].prefix; j++)
			g_string_append_c (text, 'a');
		g_string_append (text, cuts[i].character);
		g_string_append (text, "and more text after the limit");
		got = excerpt_of (&f, id, text->str, text->len);
		data = g_bytes_get_data (got, &len);
		ck_assert_msg (len == cuts[i].expected, "cut %u: %zu bytes, not %zu", i, len,
			       cuts[i].expected);
		ck_assert (g_utf8_validate_len (data, len, NULL));
	}
	/* binary is kept as bytes, to the limit */
	{
		guint8 binary[2000];
		g_autoptr(GBytes) got = NULL;

		for (gsize j = 0; j < sizeof (binary); j++)
			binary[j] = (guint8) (0x80 + (j % 0x7f));
		binary[max - 1] = 0xc3; /* looks like a cut character, but the text before is not UTF-8 */
		got = excerpt_of (&f, id, binary, sizeof (binary));
		ck_assert_uint_eq (g_bytes_get_size (got), max);
		ck_assert_int_eq (memcmp (g_bytes_get_data (got, NULL), binary, max), 0);
	}
	fixture_close (&f);
}
END_TEST

START_TEST (test_redeliver)
{
	Fixture f = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) records = NULL;
	AstraAttempt attempt;
	gint64 dead;
	gint64 delivered;
	gint64 pending;

	fixture_open (&f, ":memory:");
	dead = add_one (&f, 1, "ops", T0);
	delivered = add_one (&f, 2, "ops", T0);
	pending = add_one (&f, 3, "ops", T0);
	for (guint i = 0; i < 3; i++) {
		attempt = attempt_init (ASTRA_OUTCOME_RETRY, 503, T0 + i * S, 100, "HTTP 503");
		ck_assert (astra_outbox_record_attempt (f.outbox, dead, &attempt,
							i < 2 ? ASTRA_DELIVERY_STATE_PENDING
							      : ASTRA_DELIVERY_STATE_DEAD,
							T0, i < 2 ? NULL : "out of attempts", &error));
	}
	record (&f, delivered, ASTRA_OUTCOME_DELIVERED, 200, T0 + S, ASTRA_DELIVERY_STATE_DELIVERED, NULL);
	attempt = attempt_init (ASTRA_OUTCOME_RETRY, 429, T0, 100, "HTTP 429");
	ck_assert (astra_outbox_record_attempt (f.outbox, pending, &attempt, ASTRA_DELIVERY_STATE_PENDING,
						T0 + 3600 * S, NULL, &error));

	ck_assert (astra_outbox_redeliver (f.outbox, dead, T0 + 100 * S, &error));
	astra_assert_no_error (error);
	{
		g_autoptr(AstraDelivery) d = lookup (&f, dead);
		g_autoptr(GPtrArray) queue = load_pending (&f, "ops", 0, 10);

		ck_assert_int_eq (d->state, ASTRA_DELIVERY_STATE_PENDING);
		ck_assert_int_eq (d->next_attempt_us, T0 + 100 * S);
		ck_assert_int_eq (d->updated_us, T0 + 100 * S);
		ck_assert_uint_eq (d->attempts, 3);
		ck_assert_uint_eq (d->last_status, 503);
		ck_assert_str_eq (d->last_reason, "redelivered by request; was: out of attempts");
		ck_assert_uint_eq (queue->len, 2);
		ck_assert_int_eq (((AstraDelivery *) g_ptr_array_index (queue, 0))->id, dead);
	}
	/* the next attempt goes on from the history */
	attempt = attempt_init (ASTRA_OUTCOME_DELIVERED, 200, T0 + 101 * S, 100, NULL);
	ck_assert (astra_outbox_record_attempt (f.outbox, dead, &attempt, ASTRA_DELIVERY_STATE_DELIVERED, 0,
						NULL, &error));
	records = astra_outbox_list_attempts (f.outbox, dead, &error);
	ck_assert_uint_eq (records->len, 4);
	ck_assert_uint_eq (((AstraAttemptRecord *) g_ptr_array_index (records, 3))->attempt, 4);
	ck_assert_uint_eq (((AstraAttemptRecord *) g_ptr_array_index (records, 3))->status, 200);
	{
		g_autoptr(AstraDelivery) d = lookup (&f, dead);

		ck_assert_int_eq (d->state, ASTRA_DELIVERY_STATE_DELIVERED);
		ck_assert_uint_eq (d->attempts, 4);
		ck_assert_ptr_null (d->last_reason);
	}

	/* a delivered one goes out again too; a pending one only becomes due now */
	ck_assert (astra_outbox_redeliver (f.outbox, delivered, T0 + 200 * S, &error));
	ck_assert (astra_outbox_redeliver (f.outbox, pending, T0 + 200 * S, &error));
	{
		g_autoptr(AstraDelivery) d1 = lookup (&f, delivered);
		g_autoptr(AstraDelivery) d2 = lookup (&f, pending);

		ck_assert_int_eq (d1->state, ASTRA_DELIVERY_STATE_PENDING);
		ck_assert_str_eq (d1->last_reason, "redelivered by request");
		ck_assert_int_eq (d2->next_attempt_us, T0 + 200 * S);
		ck_assert_str_eq (d2->last_reason, "HTTP 429");
	}
	ck_assert (!astra_outbox_redeliver (f.outbox, 777, T0, &error));
	ck_assert (g_error_matches (error, ASTRA_ERROR, ASTRA_ERROR_NOT_FOUND));
	fixture_close (&f);
}
END_TEST

/* a delivery of @webhook brought to @state at @at_us */
static gint64
add_finished (
    Fixture *f, guint n, const char *webhook, gint64 created_us, AstraDeliveryState state, gint64 at_us)
{
	gint64 id = add_one (f, n, webhook, created_us);

	if (state == ASTRA_DELIVERY_STATE_PENDING) {
		AstraAttempt attempt = attempt_init (ASTRA_OUTCOME_RETRY, 503, at_us, 0, NULL);
		g_autoptr(GError) error = NULL;

		ck_assert (
		    astra_outbox_record_attempt (f->outbox, id, &attempt, state, at_us + S, NULL, &error));
	} else {
		record (f, id,
			state == ASTRA_DELIVERY_STATE_DELIVERED ? ASTRA_OUTCOME_DELIVERED
								: ASTRA_OUTCOME_FAILED,
			200, at_us, state, NULL);
	}
	return id;
}

static void
assert_newest_first (GPtrArray *deliveries)
{
	for (guint i = 1; i < deliveries->len; i++) {
		AstraDelivery *prev = g_ptr_array_index (deliveries, i - 1);
		AstraDelivery *d = g_ptr_array_index (deliveries, i);

		ck_assert (prev->updated_us > d->updated_us ||
			   (prev->updated_us == d->updated_us && prev->id > d->id));
	}
}

START_TEST (test_history)
{
	Fixture f = { 0 };
	const char *webhooks[] = { "a", "b" };
	const AstraDeliveryState states[] = { ASTRA_DELIVERY_STATE_DELIVERED, ASTRA_DELIVERY_STATE_DEAD,
					      ASTRA_DELIVERY_STATE_SKIPPED, ASTRA_DELIVERY_STATE_PENDING };

	fixture_open (&f, ":memory:");
	/* 40 deliveries: webhook alternating, states cycling, updated at T0 + 1..40 s (some out of id order)
	 */
	for (guint i = 0; i < 40; i++) {
		gint64 at = T0 + (gint64) ((i * 7) % 40 + 1) * S;

		add_finished (&f, i, webhooks[i % 2], T0, states[(i / 2) % 4], at);
	}

	{
		g_autoptr(GPtrArray) all = list (&f, NULL, -1, 0, 100);

		ck_assert_uint_eq (all->len, 40);
		assert_newest_first (all);
		ck_assert_int_eq (((AstraDelivery *) g_ptr_array_index (all, 0))->updated_us, T0 + 40 * S);
	}
	{
		g_autoptr(GPtrArray) top = list (&f, NULL, -1, 0, 5);

		ck_assert_uint_eq (top->len, 5);
		assert_newest_first (top);
		for (guint i = 0; i < 5; i++)
			ck_assert_int_eq (((AstraDelivery *) g_ptr_array_index (top, i))->updated_us,
					  T0 + (40 - i) * S);
	}
	{
		g_autoptr(GPtrArray) a = list (&f, "a", -1, 0, 100);

		ck_assert_uint_eq (a->len, 20);
		assert_newest_first (a);
		for (guint i = 0; i < a->len; i++)
			ck_assert_str_eq (((AstraDelivery *) g_ptr_array_index (a, i))->webhook, "a");
	}
	/* every state with attempts; test_silenced lists silenced ones */
	for (guint s = 0; s < ASTRA_DELIVERY_STATE_SILENCED; s++) {
		g_autoptr(GPtrArray) a = list (&f, "a", (int) s, 0, 100);
		g_autoptr(GPtrArray) any = list (&f, NULL, (int) s, 0, 100);

		ck_assert_uint_eq (a->len, 5);
		ck_assert_uint_eq (any->len, 10);
		assert_newest_first (a);
		assert_newest_first (any);
		for (guint i = 0; i < a->len; i++) {
			AstraDelivery *d = g_ptr_array_index (a, i);

			ck_assert_int_eq (d->state, s);
			ck_assert_str_eq (d->webhook, "a");
		}
		ck_assert_uint_eq (count (&f, "a", s), 5);
		ck_assert_uint_eq (count (&f, NULL, s), 10);
	}
	/* by time: updated at or after */
	{
		g_autoptr(GPtrArray) recent = list (&f, NULL, -1, T0 + 31 * S, 100);
		g_autoptr(GPtrArray) recent_a =
			       list (&f, "a", ASTRA_DELIVERY_STATE_DELIVERED, T0 + 31 * S, 100);
		g_autoptr(GPtrArray) none = list (&f, NULL, -1, T0 + 41 * S, 100);
		g_autoptr(GPtrArray) zero = list (&f, NULL, -1, 0, 0);

		ck_assert_uint_eq (recent->len, 10);
		for (guint i = 0; i < recent->len; i++)
			ck_assert_int_ge (((AstraDelivery *) g_ptr_array_index (recent, i))->updated_us,
					  T0 + 31 * S);
		for (guint i = 0; i < recent_a->len; i++)
			ck_assert_int_ge (((AstraDelivery *) g_ptr_array_index (recent_a, i))->updated_us,
					  T0 + 31 * S);
		ck_assert_uint_lt (recent_a->len, 5);
		ck_assert_uint_eq (none->len, 0);
		ck_assert_uint_eq (zero->len, 0);
	}
	ck_assert_uint_eq (count (&f, "nobody", ASTRA_DELIVERY_STATE_PENDING), 0);
	ck_assert_uint_eq (count (&f, NULL, ASTRA_DELIVERY_STATE_SILENCED), 0);
	fixture_close (&f);
}
END_TEST

static void
add_silenced (
    Fixture *f, AstraEvent *event, const char *const *webhooks, const char *silence_id, gint64 now_us)
{
	g_autoptr(GError) error = NULL;

	ck_assert (astra_outbox_add_silenced (f->outbox, event, webhooks, silence_id, now_us, &error));
	astra_assert_no_error (error);
}

START_TEST (test_silenced)
{
	Fixture f = { 0 };
	g_autoptr(AstraEvent) event = event_new ("alert.triggered", 1);
	g_autoptr(AstraEvent) event2 = event_new ("agent.status_changed", 2);
	g_autoptr(AstraEvent) nobody = event_new ("agent.registered", 3);
	g_autoptr(GPtrArray) silenced = NULL;
	g_autoptr(GPtrArray) all = NULL;
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) names = NULL;
	const char *webhooks[] = { "ops", "chat", NULL };
	const char *no_webhooks[] = { NULL };
	gint64 pending;

	fixture_open (&f, ":memory:");
	pending = add_one (&f, 9, "ops", T0);
	ck_assert (astra_state_db_flush (f.db, &error));
	add_silenced (&f, event, webhooks, "sil_01KCQ7Z5R8M2X4J6N9P3T0V1WY", T0 + S);
	/* in the batched transaction, but nothing to send: no flush needed before an attempt */
	ck_assert_uint_ne (astra_state_db_get_transaction (f.db), 0);
	ck_assert (!astra_outbox_has_uncommitted_adds (f.outbox));
	add_silenced (&f, event2, (const char *[]) { "ops", NULL }, "sil_other", T0 + 2 * S);
	/* no webhooks: nothing stored */
	add_silenced (&f, nobody, no_webhooks, "sil_other", T0);
	add_silenced (&f, nobody, NULL, "sil_other", T0);
	ck_assert (!event_stored (&f, "evt_000003"));
	/* the event is stored once, as for a delivery */
	ck_assert (event_stored (&f, "evt_000001"));
	ck_assert_int_eq (sql_int (f.db, "SELECT COUNT(*) FROM outbox_events"), 3);

	/* in the history with their state and reason */
	silenced = list (&f, NULL, ASTRA_DELIVERY_STATE_SILENCED, 0, 100);
	ck_assert_uint_eq (silenced->len, 3);
	assert_newest_first (silenced);
	{
		AstraDelivery *d = g_ptr_array_index (silenced, 0);

		ck_assert_str_eq (d->event_id, "evt_000002");
		ck_assert_str_eq (d->event_type, "agent.status_changed");
		ck_assert_str_eq (d->webhook, "ops");
		ck_assert_str_eq (d->last_reason, "silenced by sil_other");
	}
	for (guint i = 1; i < 3; i++) {
		AstraDelivery *d = g_ptr_array_index (silenced, i);
		g_autoptr(GPtrArray) records = astra_outbox_list_attempts (f.outbox, d->id, &error);

		ck_assert_str_eq (d->event_id, "evt_000001");
		ck_assert_str_eq (d->event_type, "alert.triggered");
		ck_assert_str_eq (d->webhook, webhooks[2 - i]);
		ck_assert_str_eq (d->order_key, "evt_000001");
		ck_assert_int_eq (d->state, ASTRA_DELIVERY_STATE_SILENCED);
		ck_assert_uint_eq (d->attempts, 0);
		ck_assert_int_eq (d->created_us, T0 + S);
		ck_assert_int_eq (d->updated_us, T0 + S);
		ck_assert_uint_eq (d->last_status, 0);
		ck_assert_str_eq (d->last_reason, "silenced by sil_01KCQ7Z5R8M2X4J6N9P3T0V1WY");
		ck_assert_ptr_null (d->last_response);
		ck_assert_uint_eq (records->len, 0);
	}
	all = list (&f, "ops", -1, 0, 100);
	ck_assert_uint_eq (all->len, 3);
	assert_newest_first (all);
	ck_assert_uint_eq (count (&f, "ops", ASTRA_DELIVERY_STATE_SILENCED), 2);
	ck_assert_uint_eq (count (&f, NULL, ASTRA_DELIVERY_STATE_SILENCED), 3);

	/* recovery never picks them up */
	{
		g_autoptr(GPtrArray) queue = load_pending (&f, "ops", 0, 100);
		g_autoptr(GPtrArray) chat = load_pending (&f, "chat", 0, 100);

		ck_assert_uint_eq (queue->len, 1);
		ck_assert_int_eq (((AstraDelivery *) g_ptr_array_index (queue, 0))->id, pending);
		ck_assert_uint_eq (chat->len, 0);
	}
	names = astra_outbox_list_pending_webhooks (f.outbox, &error);
	astra_assert_no_error (error);
	ck_assert_uint_eq (g_strv_length (names), 1);
	ck_assert_str_eq (names[0], "ops");
	ck_assert_uint_eq (count (&f, "chat", ASTRA_DELIVERY_STATE_PENDING), 0);
	ck_assert_int_eq (astra_outbox_oldest_pending (f.outbox, NULL, &error), T0);

	/* an admin may send one after all */
	{
		AstraDelivery *d = g_ptr_array_index (silenced, 1);
		g_autoptr(AstraDelivery) again = NULL;
		g_autoptr(GPtrArray) chat = NULL;

		ck_assert (astra_outbox_redeliver (f.outbox, d->id, T0 + 10 * S, &error));
		again = lookup (&f, d->id);
		ck_assert_int_eq (again->state, ASTRA_DELIVERY_STATE_PENDING);
		ck_assert_str_eq (again->last_reason,
				  "redelivered by request; was: silenced by sil_01KCQ7Z5R8M2X4J6N9P3T0V1WY");
		chat = load_pending (&f, "chat", 0, 100);
		ck_assert_uint_eq (chat->len, 1);
		ck_assert_uint_eq (count (&f, NULL, ASTRA_DELIVERY_STATE_SILENCED), 2);
	}
	fixture_close (&f);
}
END_TEST

START_TEST (test_prune_silenced)
{
	Fixture f = { 0 };
	g_autoptr(AstraEvent) old = event_new ("alert.triggered", 1);
	g_autoptr(AstraEvent) recent = event_new ("alert.triggered", 2);
	const char *ops[] = { "ops", NULL };
	gint64 pending;

	fixture_open (&f, ":memory:");
	pending = add_one (&f, 3, "ops", T0);
	add_silenced (&f, old, ops, "sil_a", T0 + 10 * S);
	add_silenced (&f, recent, ops, "sil_a", T0 + 100 * S);
	/* by age, like delivered ones, and the event with them */
	ck_assert_uint_eq (prune (&f, T0 + 50 * S, 0, 100), 1);
	ck_assert (!event_stored (&f, "evt_000001"));
	ck_assert (event_stored (&f, "evt_000002"));
	ck_assert_uint_eq (count (&f, NULL, ASTRA_DELIVERY_STATE_SILENCED), 1);
	/* by count, like delivered ones: only the newest delivery stays; never a pending one */
	ck_assert_uint_eq (prune (&f, 0, 1, 100), 0);
	add_silenced (&f, old, ops, "sil_b", T0 + 200 * S);
	ck_assert_uint_eq (prune (&f, 0, 1, 100), 1);
	ck_assert (!event_stored (&f, "evt_000002"));
	ck_assert_uint_eq (count (&f, NULL, ASTRA_DELIVERY_STATE_SILENCED), 1);
	{
		g_autoptr(AstraDelivery) d = lookup (&f, pending);
		ck_assert_int_eq (d->state, ASTRA_DELIVERY_STATE_PENDING);
	}
	fixture_close (&f);
}
END_TEST

START_TEST (test_oldest_pending)
{
	Fixture f = { 0 };
	g_autoptr(GError) error = NULL;
	gint64 first;

	fixture_open (&f, ":memory:");
	ck_assert_int_eq (astra_outbox_oldest_pending (f.outbox, "a", &error), 0);
	ck_assert_int_eq (astra_outbox_oldest_pending (f.outbox, NULL, &error), 0);
	astra_assert_no_error (error);

	first = add_one (&f, 1, "a", T0 + 10 * S);
	add_one (&f, 2, "a", T0 + 20 * S);
	add_one (&f, 3, "b", T0 + 15 * S);
	add_one (&f, 4, "c", T0 + 30 * S);
	ck_assert_int_eq (astra_outbox_oldest_pending (f.outbox, "a", &error), T0 + 10 * S);
	ck_assert_int_eq (astra_outbox_oldest_pending (f.outbox, "b", &error), T0 + 15 * S);
	ck_assert_int_eq (astra_outbox_oldest_pending (f.outbox, NULL, &error), T0 + 10 * S);
	ck_assert_uint_eq (count (&f, "a", ASTRA_DELIVERY_STATE_PENDING), 2);
	ck_assert_uint_eq (count (&f, NULL, ASTRA_DELIVERY_STATE_PENDING), 4);

	/* the oldest is delivered: the next one is the oldest */
	record (&f, first, ASTRA_OUTCOME_DELIVERED, 200, T0 + 40 * S, ASTRA_DELIVERY_STATE_DELIVERED, NULL);
	ck_assert_int_eq (astra_outbox_oldest_pending (f.outbox, "a", &error), T0 + 20 * S);
	ck_assert_int_eq (astra_outbox_oldest_pending (f.outbox, NULL, &error), T0 + 15 * S);
	ck_assert_uint_eq (count (&f, "a", ASTRA_DELIVERY_STATE_PENDING), 1);
	ck_assert_uint_eq (count (&f, "a", ASTRA_DELIVERY_STATE_DELIVERED), 1);
	/* redelivered, it is the oldest again: it was made first */
	ck_assert (astra_outbox_redeliver (f.outbox, first, T0 + 50 * S, &error));
	ck_assert_int_eq (astra_outbox_oldest_pending (f.outbox, "a", &error), T0 + 10 * S);
	astra_assert_no_error (error);
	fixture_close (&f);
}
END_TEST

START_TEST (test_prune_age)
{
	Fixture f = { 0 };
	g_autoptr(AstraEvent) shared = event_new ("alert.resolved", 99);
	g_autoptr(GPtrArray) out = deliveries_new ();
	g_autoptr(GPtrArray) records = NULL;
	g_autoptr(GError) error = NULL;
	const char *both[] = { "a", "b", NULL };
	gint64 old_delivered;
	gint64 new_delivered;
	gint64 old_dead;
	gint64 old_skipped;
	gint64 old_pending;

	fixture_open (&f, ":memory:");
	old_pending = add_finished (&f, 1, "a", T0, ASTRA_DELIVERY_STATE_PENDING, T0 + 50 * S);
	old_delivered = add_finished (&f, 2, "a", T0, ASTRA_DELIVERY_STATE_DELIVERED, T0 + 100 * S);
	add_finished (&f, 3, "b", T0, ASTRA_DELIVERY_STATE_DELIVERED, T0 + 200 * S);
	old_dead = add_finished (&f, 4, "a", T0, ASTRA_DELIVERY_STATE_DEAD, T0 + 150 * S);
	old_skipped = add_finished (&f, 5, "a", T0, ASTRA_DELIVERY_STATE_SKIPPED, T0 + 120 * S);
	new_delivered = add_finished (&f, 6, "a", T0, ASTRA_DELIVERY_STATE_DELIVERED, T0 + 300 * S);
	/* one event for two webhooks: a's delivered long ago, b's still pending */
	ck_assert (astra_outbox_add (f.outbox, shared, NULL, both, T0, out, &error));
	record (&f, ((AstraDelivery *) g_ptr_array_index (out, 0))->id, ASTRA_OUTCOME_DELIVERED, 200, T0 + S,
		ASTRA_DELIVERY_STATE_DELIVERED, NULL);
	ck_assert_int_eq (sql_int (f.db, "SELECT COUNT(*) FROM outbox_events"), 7);

	/* nothing is old enough */
	ck_assert_uint_eq (prune (&f, T0, 0, 100), 0);
	/* in batches of 2: a's shared, delivered 100, skipped 120, dead 150, b's delivered 200 */
	ck_assert_uint_eq (prune (&f, T0 + 250 * S, 0, 2), 2);
	ck_assert_uint_eq (prune (&f, T0 + 250 * S, 0, 2), 2);
	ck_assert_uint_eq (prune (&f, T0 + 250 * S, 0, 2), 1);
	ck_assert_uint_eq (prune (&f, T0 + 250 * S, 0, 2), 0);

	ck_assert_int_eq (sql_int (f.db, "SELECT COUNT(*) FROM outbox_deliveries"), 3);
	ck_assert_ptr_null (astra_outbox_lookup (f.outbox, old_delivered, &error));
	g_clear_error (&error);
	ck_assert_ptr_null (astra_outbox_lookup (f.outbox, old_dead, &error));
	g_clear_error (&error);
	ck_assert_ptr_null (astra_outbox_lookup (f.outbox, old_skipped, &error));
	g_clear_error (&error);
	{
		g_autoptr(AstraDelivery) kept_pending = lookup (&f, old_pending);
		g_autoptr(AstraDelivery) kept_new = lookup (&f, new_delivered);

		ck_assert_int_eq (kept_pending->state, ASTRA_DELIVERY_STATE_PENDING);
		ck_assert_int_eq (kept_new->state, ASTRA_DELIVERY_STATE_DELIVERED);
	}

	/* attempts and events go with them, except what a remaining delivery needs */
	records = astra_outbox_list_attempts (f.outbox, old_delivered, &error);
	ck_assert_uint_eq (records->len, 0);
	ck_assert_int_eq (sql_int (f.db, "SELECT COUNT(*) FROM outbox_attempts"), 2);
	ck_assert (!event_stored (&f, "evt_000002"));
	ck_assert (!event_stored (&f, "evt_000004"));
	ck_assert (event_stored (&f, "evt_000001"));
	ck_assert (event_stored (&f, "evt_000006"));
	ck_assert (event_stored (&f, "evt_000099"));
	ck_assert_int_eq (sql_int (f.db, "SELECT COUNT(*) FROM outbox_events"), 3);

	/* once b's is delivered and old, the shared event goes too; a pending one never does */
	record (&f, ((AstraDelivery *) g_ptr_array_index (out, 1))->id, ASTRA_OUTCOME_DELIVERED, 200, T0 + S,
		ASTRA_DELIVERY_STATE_DELIVERED, NULL);
	ck_assert_uint_eq (prune (&f, G_MAXINT64, 0, 0), 2);
	ck_assert (!event_stored (&f, "evt_000099"));
	ck_assert_int_eq (sql_int (f.db, "SELECT COUNT(*) FROM outbox_deliveries"), 1);
	ck_assert (event_stored (&f, "evt_000001"));
	fixture_close (&f);
}
END_TEST

START_TEST (test_prune_count)
{
	Fixture f = { 0 };
	gint64 ids[20];
	gint64 dead;
	gint64 pending;

	fixture_open (&f, ":memory:");
	dead = add_finished (&f, 100, "a", T0, ASTRA_DELIVERY_STATE_DEAD, T0 + S / 2);
	pending = add_one (&f, 101, "a", T0);
	/* 20 deliveries made at T0 + i s and delivered half a second later */
	for (guint i = 0; i < 20; i++) {
		ids[i] = add_finished (&f, i, "a", T0 + (i + 1) * S, ASTRA_DELIVERY_STATE_DELIVERED,
				       T0 + (i + 1) * S + S / 2);
	}
	/* fewer than keep_count: nothing goes */
	ck_assert_uint_eq (prune (&f, 0, 100, 100), 0);
	/* the 5 newest stay; neither the old dead letter nor the pending one go by count */
	ck_assert_uint_eq (prune (&f, 0, 5, 10), 10);
	ck_assert_uint_eq (prune (&f, 0, 5, 10), 5);
	ck_assert_uint_eq (prune (&f, 0, 5, 10), 0);
	ck_assert_int_eq (sql_int (f.db, "SELECT COUNT(*) FROM outbox_deliveries WHERE state = 1"), 5);
	for (guint i = 0; i < 20; i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(AstraDelivery) d = astra_outbox_lookup (f.outbox, ids[i], &error);

		ck_assert ((d != NULL) == (i >= 15));
	}
	{
		g_autoptr(AstraDelivery) d1 = lookup (&f, dead);
		g_autoptr(AstraDelivery) d2 = lookup (&f, pending);

		ck_assert_int_eq (d1->state, ASTRA_DELIVERY_STATE_DEAD);
		ck_assert_int_eq (d2->state, ASTRA_DELIVERY_STATE_PENDING);
	}
	ck_assert_int_eq (sql_int (f.db, "SELECT COUNT(*) FROM outbox_events"), 7);
	ck_assert_int_eq (sql_int (f.db, "SELECT COUNT(*) FROM outbox_attempts"), 6);
	/* age and count together: the dead letter goes by age */
	ck_assert_uint_eq (prune (&f, T0 + S, 5, 10), 1);
	ck_assert_int_eq (sql_int (f.db, "SELECT COUNT(*) FROM outbox_deliveries"), 6);
	fixture_close (&f);
}
END_TEST

START_TEST (test_restart)
{
	g_autofree char *path = astra_check_tmp_path ("state.db");
	Fixture f = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) before = NULL;
	g_auto(GStrv) names = NULL;
	gint64 newest = 0;

	fixture_open (&f, path);
	for (guint i = 0; i < 10; i++) {
		add_one (&f, i, "a", T0 + i);
		newest = add_one (&f, 100 + i, "b", T0 + i);
	}
	before = load_pending (&f, "a", 0, 100);
	ck_assert_uint_eq (before->len, 10);
	/* a's first three are done, b's newest (the highest id) too */
	for (guint i = 0; i < 3; i++)
		record (&f, ((AstraDelivery *) g_ptr_array_index (before, i))->id, ASTRA_OUTCOME_DELIVERED,
			200, T0 + S, ASTRA_DELIVERY_STATE_DELIVERED, NULL);
	record (&f, newest, ASTRA_OUTCOME_DELIVERED, 200, T0 + S, ASTRA_DELIVERY_STATE_DELIVERED, NULL);
	/* and pruned: the highest id is gone, yet no id is ever reused */
	ck_assert_uint_eq (prune (&f, G_MAXINT64, 0, 100), 4);
	/* what the last iteration wrote is committed when the database closes */
	fixture_close (&f);

	fixture_open (&f, path);
	ck_assert_uint_eq (astra_state_db_get_schema_version (f.db, "outbox"), 1);
	names = astra_outbox_list_pending_webhooks (f.outbox, &error);
	astra_assert_no_error (error);
	ck_assert_uint_eq (g_strv_length (names), 2);
	{
		g_autoptr(GPtrArray) a = load_pending (&f, "a", 0, 100);
		g_autoptr(GPtrArray) b = load_pending (&f, "b", 0, 100);
		g_autoptr(AstraEvent) event = NULL;

		ck_assert_uint_eq (a->len, 7);
		ck_assert_uint_eq (b->len, 9);
		for (guint i = 0; i < a->len; i++) {
			AstraDelivery *d = g_ptr_array_index (a, i);
			AstraDelivery *was = g_ptr_array_index (before, i + 3);

			ck_assert_int_eq (d->id, was->id);
			ck_assert_str_eq (d->event_id, was->event_id);
			ck_assert_int_eq (d->created_us, was->created_us);
		}
		event = astra_outbox_load_event (
		    f.outbox, ((AstraDelivery *) g_ptr_array_index (b, 8))->event_id, &error);
		astra_assert_no_error (error);
		ck_assert_str_eq (astra_event_get_id (event), "evt_000108");
	}
	ck_assert_int_gt (add_one (&f, 500, "a", T0 + S), newest);
	fixture_close (&f);
}
END_TEST

START_TEST (test_corrupt_rows)
{
	Fixture f = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(AstraEvent) event = NULL;
	g_autoptr(AstraDelivery) orphan = NULL;
	gint64 id;

	fixture_open (&f, ":memory:");
	add_one (&f, 1, "a", T0);
	add_one (&f, 2, "a", T0);
	id = add_one (&f, 3, "a", T0);
	add_one (&f, 4, "a", T0);
	sql_exec (f.db, "UPDATE outbox_events SET body = x'deadbeef00ff' WHERE id = 'evt_000001'");
	sql_exec (
	    f.db,
	    "UPDATE outbox_events SET body = '{\"event\":\"alert.triggered\"}' WHERE id = 'evt_000002'");
	sql_exec (f.db, "DELETE FROM outbox_events WHERE id = 'evt_000003'");

	event = astra_outbox_load_event (f.outbox, "evt_000001", &error);
	ck_assert_ptr_null (event);
	ck_assert (g_error_matches (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA));
	astra_assert_contains (error->message, "evt_000001");
	g_clear_error (&error);
	event = astra_outbox_load_event (f.outbox, "evt_000002", &error);
	ck_assert_ptr_null (event);
	ck_assert (g_error_matches (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA));
	astra_assert_contains (error->message, "evt_000002");
	g_clear_error (&error);
	event = astra_outbox_load_event (f.outbox, "evt_000003", &error);
	ck_assert (g_error_matches (error, ASTRA_ERROR, ASTRA_ERROR_NOT_FOUND));
	astra_assert_contains (error->message, "evt_000003");
	g_clear_error (&error);

	/* the schema refuses an event without a body: that event stays intact */
	ck_assert (!astra_state_db_exec (f.db, "UPDATE outbox_events SET body = NULL WHERE id = 'evt_000004'",
					 &error));
	astra_assert_contains (error->message, "NOT NULL");
	g_clear_error (&error);
	event = astra_outbox_load_event (f.outbox, "evt_000004", &error);
	astra_assert_no_error (error);
	ck_assert_ptr_nonnull (event);

	/* a delivery whose event is gone still reads, without a type */
	orphan = lookup (&f, id);
	ck_assert_str_eq (orphan->event_id, "evt_000003");
	ck_assert_ptr_null (orphan->event_type);
	/* and a state out of range reads as dead, never as pending forever */
	sql_exec (f.db, "UPDATE outbox_deliveries SET state = 42 WHERE event_id = 'evt_000002'");
	{
		g_autoptr(GPtrArray) pending = load_pending (&f, "a", 0, 10);
		g_autoptr(GPtrArray) all = list (&f, "a", -1, 0, 10);

		ck_assert_uint_eq (pending->len, 3);
		/* only rows in a known state are listed */
		ck_assert_uint_eq (all->len, 3);
	}
	fixture_close (&f);
}
END_TEST

START_TEST (test_add_error)
{
	Fixture f = { 0 };
	g_autoptr(AstraEvent) event = event_new ("alert.triggered", 1);
	g_autoptr(AstraEvent) event2 = event_new ("alert.triggered", 2);
	g_autoptr(GPtrArray) out = deliveries_new ();
	g_autoptr(GError) error = NULL;
	const char *bad[] = { "bad", NULL };
	const char *ok_then_bad[] = { "ok", "bad", NULL };

	fixture_open (&f, ":memory:");
	sql_exec (f.db, "CREATE TRIGGER refuse BEFORE INSERT ON outbox_deliveries WHEN NEW.webhook = 'bad' "
			"BEGIN SELECT RAISE (ABORT, 'disk says no'); END");
	g_ptr_array_add (out, NULL);
	ck_assert (!astra_outbox_add (f.outbox, event, NULL, bad, T0, out, &error));
	astra_assert_contains (error->message, "disk says no");
	astra_assert_contains (error->message, "evt_000001");
	astra_assert_contains (error->message, "bad");
	g_clear_error (&error);
	ck_assert_uint_eq (out->len, 1);
	/* no delivery made: no event left behind that nothing would ever prune */
	ck_assert (!event_stored (&f, "evt_000001"));

	/* a delivery made before the error stays (recovery sends it), but is not handed out */
	ck_assert (!astra_outbox_add (f.outbox, event2, NULL, ok_then_bad, T0, out, &error));
	g_clear_error (&error);
	ck_assert_uint_eq (out->len, 1);
	ck_assert_uint_eq (count (&f, "ok", ASTRA_DELIVERY_STATE_PENDING), 1);
	ck_assert (event_stored (&f, "evt_000002"));
	fixture_close (&f);
}
END_TEST

START_TEST (test_schema)
{
	Fixture f = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(AstraOutbox) again = NULL;
	g_autoptr(AstraOutbox) newer = NULL;

	fixture_open (&f, ":memory:");
	ck_assert_uint_eq (astra_state_db_get_schema_version (f.db, ASTRA_OUTBOX_DB_MODULE), 1);
	add_one (&f, 1, "a", T0);
	/* a second outbox over the same tables changes nothing */
	again = astra_outbox_new (f.db, &error);
	astra_assert_no_error (error);
	ck_assert_uint_eq (astra_outbox_count (again, "a", ASTRA_DELIVERY_STATE_PENDING, &error), 1);
	/* a database from a newer daemon is refused, not misread */
	ck_assert (astra_state_db_set_schema_version (f.db, ASTRA_OUTBOX_DB_MODULE, 2, &error));
	newer = astra_outbox_new (f.db, &error);
	ck_assert_ptr_null (newer);
	astra_assert_contains (error->message, "schema version 2");
	fixture_close (&f);
}
END_TEST

START_TEST (test_many_webhooks)
{
	g_autofree char *path = astra_check_tmp_path ("state.db");
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) pending_names = NULL;
	Fixture f = { 0 };

	fixture_open (&f, path);
	for (guint i = 0; i < 1000; i++)
		g_ptr_array_add (names, g_strdup_printf ("hook-%04u", i));
	g_ptr_array_add (names, NULL);
	for (guint n = 0; n < 100; n++) {
		g_autoptr(AstraEvent) event = event_new ("alert.triggered", n);
		g_autoptr(GPtrArray) out = deliveries_new ();

		ck_assert (astra_outbox_add (f.outbox, event, "alert:k", (const char *const *) names->pdata,
					     T0 + n, out, &error));
		ck_assert_uint_eq (out->len, 1000);
		ck_assert (astra_state_db_flush (f.db, &error));
	}
	ck_assert_int_eq (sql_int (f.db, "SELECT COUNT(*) FROM outbox_events"), 100);
	ck_assert_uint_eq (count (&f, NULL, ASTRA_DELIVERY_STATE_PENDING), 100000);

	pending_names = astra_outbox_list_pending_webhooks (f.outbox, &error);
	astra_assert_no_error (error);
	ck_assert_uint_eq (g_strv_length (pending_names), 1000);
	for (guint i = 0; i < 1000; i++) {
		g_autoptr(GPtrArray) pending = NULL;
		gint64 last = 0;

		ck_assert_str_eq (pending_names[i], g_ptr_array_index (names, i));
		pending = load_pending (&f, pending_names[i], 0, 1000);
		ck_assert_uint_eq (pending->len, 100);
		for (guint n = 0; n < 100; n++) {
			AstraDelivery *d = g_ptr_array_index (pending, n);
			g_autofree char *event_id = g_strdup_printf ("evt_%06u", n);

			ck_assert_int_gt (d->id, last);
			ck_assert_str_eq (d->event_id, event_id);
			last = d->id;
		}
	}
	ck_assert_uint_eq (count (&f, "hook-0500", ASTRA_DELIVERY_STATE_PENDING), 100);
	ck_assert_int_eq (astra_outbox_oldest_pending (f.outbox, "hook-0999", &error), T0);
	ck_assert_int_eq (astra_outbox_oldest_pending (f.outbox, NULL, &error), T0);
	fixture_close (&f);
}
END_TEST

static gint64
cpu_time_us (void)
{
	struct timespec ts;

	clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (gint64) ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

static gint64
file_size (const char *path)
{
	GStatBuf st;

	return g_stat (path, &st) == 0 ? (gint64) st.st_size : 0;
}

/* prints figures only: add + record_attempt (delivered) per delivery, committed every 1,000 */
START_TEST (test_speed)
{
	const guint n_total = 100000;
	const guint batch = 1000;
	g_autofree char *path = astra_check_tmp_path ("state.db");
	g_autofree char *wal = g_strconcat (path, "-wal", NULL);
	g_autofree char *text = astra_check_fixture_text ("alert.triggered");
	g_autoptr(GBytes) body = g_bytes_new (text, strlen (text));
	g_autoptr(GBytes) response = g_bytes_new_static ("ok", 2);
	g_autoptr(GPtrArray) out = deliveries_new ();
	g_autoptr(GError) error = NULL;
	const char *webhooks[] = { "ops", NULL };
	gint64 cpu_add = 0;
	gint64 cpu_record = 0;
	gint64 cpu_commit = 0;
	gint64 wall = 0;
	gint64 cpu_prune;
	gint64 cpu_load;
	gint64 cpu_page;
	gint64 cpu0;
	gint64 size;
	guint n_pruned = 0;
	Fixture f = { 0 };

	fixture_open (&f, path);
	for (guint done = 0; done < n_total; done += batch) {
		g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func (g_object_unref);
		gint64 wall0;

		/* making events is the engine's cost, not the outbox's */
		for (guint i = 0; i < batch; i++) {
			g_autofree char *id = g_strdup_printf ("evt_%08u", done + i);
			AstraEvent *event = astra_event_new_from_body (id, body, &error);

			astra_assert_no_error (error);
			g_ptr_array_add (events, event);
		}
		wall0 = g_get_monotonic_time ();
		cpu0 = cpu_time_us ();
		for (guint i = 0; i < batch; i++) {
			ck_assert (astra_outbox_add (f.outbox, g_ptr_array_index (events, i), NULL, webhooks,
						     T0 + done + i, out, &error));
		}
		cpu_add += cpu_time_us () - cpu0;
		cpu0 = cpu_time_us ();
		for (guint i = 0; i < out->len; i++) {
			AstraDelivery *d = g_ptr_array_index (out, i);
			AstraAttempt attempt =
			    attempt_init (ASTRA_OUTCOME_DELIVERED, 200, d->created_us, 800, NULL);

			attempt.response_body = response;
			ck_assert (astra_outbox_record_attempt (
			    f.outbox, d->id, &attempt, ASTRA_DELIVERY_STATE_DELIVERED, 0, NULL, &error));
		}
		cpu_record += cpu_time_us () - cpu0;
		g_ptr_array_set_size (out, 0);
		cpu0 = cpu_time_us ();
		ck_assert (astra_state_db_flush (f.db, &error));
		cpu_commit += cpu_time_us () - cpu0;
		wall += g_get_monotonic_time () - wall0;
	}
	astra_assert_no_error (error);
	size = file_size (path) + file_size (wal);
	g_print ("outbox speed: %u deliveries (one event each, %zu-byte body), committed every %u:\n"
		 "  add %.2f us + record_attempt %.2f us + commit %.2f us = %.2f us CPU per delivery "
		 "(%.2f us wall)\n"
		 "  db %.1f MiB + wal %.1f MiB: %.0f bytes per delivery\n",
		 n_total, g_bytes_get_size (body), batch, (double) cpu_add / n_total,
		 (double) cpu_record / n_total, (double) cpu_commit / n_total,
		 (double) (cpu_add + cpu_record + cpu_commit) / n_total, (double) wall / n_total,
		 (double) file_size (path) / (1024 * 1024), (double) file_size (wal) / (1024 * 1024),
		 (double) size / n_total);

	/* what a queue pays to page a delivery in from disk: the row, and the event rebuilt */
	cpu_load = cpu_time_us ();
	for (guint i = 0; i < 1000; i++) {
		g_autofree char *id = g_strdup_printf ("evt_%08u", i * 97);
		g_autoptr(AstraEvent) event = astra_outbox_load_event (f.outbox, id, &error);

		astra_assert_no_error (error);
	}
	cpu_load = cpu_time_us () - cpu_load;
	cpu_page = cpu_time_us ();
	for (gint64 after = 0;;) {
		g_autoptr(GPtrArray) page = NULL;

		page = astra_outbox_load_pending (f.outbox, "ops", after, 1000, &error);
		astra_assert_no_error (error);
		if (page->len == 0)
			break;
		after = ((AstraDelivery *) g_ptr_array_index (page, page->len - 1))->id;
	}
	cpu_page = cpu_time_us () - cpu_page;
	g_print ("  load_event %.2f us per event; load_pending over 100,000 delivered rows: %" G_GINT64_FORMAT
		 " us\n",
		 (double) cpu_load / 1000, cpu_page);

	/* retention: every finished delivery, its attempt and event go, in batches */
	cpu_prune = cpu_time_us ();
	for (;;) {
		guint n = prune (&f, G_MAXINT64, 0, batch);

		ck_assert (astra_state_db_flush (f.db, &error));
		n_pruned += n;
		if (n < batch)
			break;
	}
	cpu_prune = cpu_time_us () - cpu_prune;
	ck_assert_uint_eq (n_pruned, n_total);
	ck_assert_int_eq (sql_int (f.db, "SELECT COUNT(*) FROM outbox_events"), 0);
	g_print ("  prune %.2f us CPU per delivery (batches of %u)\n", (double) cpu_prune / n_total, batch);
	fixture_close (&f);
}
END_TEST

int
main (void)
{
	Suite *s = suite_create ("outbox");
	TCase *tc = astra_check_tmpdir_tcase_new ("outbox");
	TCase *tc_scale = astra_check_tmpdir_tcase_new ("scale");
	TCase *tc_speed = astra_check_tmpdir_tcase_new ("speed");

	tcase_add_test (tc, test_states);
	tcase_add_test (tc, test_add_and_load);
	tcase_add_test (tc, test_pending_pages);
	tcase_add_test (tc, test_attempts);
	tcase_add_test (tc, test_excerpt);
	tcase_add_test (tc, test_redeliver);
	tcase_add_test (tc, test_history);
	tcase_add_test (tc, test_silenced);
	tcase_add_test (tc, test_prune_silenced);
	tcase_add_test (tc, test_oldest_pending);
	tcase_add_test (tc, test_prune_age);
	tcase_add_test (tc, test_prune_count);
	tcase_add_test (tc, test_restart);
	tcase_add_test (tc, test_corrupt_rows);
	tcase_add_test (tc, test_add_error);
	tcase_add_test (tc, test_schema);
	suite_add_tcase (s, tc);
	tcase_add_test (tc_scale, test_many_webhooks);
	tcase_set_timeout (tc_scale, 120);
	suite_add_tcase (s, tc_scale);
	tcase_add_test (tc_speed, test_speed);
	tcase_set_timeout (tc_speed, 240);
	suite_add_tcase (s, tc_speed);
	return astra_check_run_suite (s);
}
