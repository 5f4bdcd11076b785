/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Durable delivery through the real daemon: receivers that fail and then
 * succeed, throttle with Retry-After, say 410, hang, drop the connection or
 * redirect; order per alert key; one slow receiver not delaying another;
 * and at-least-once across a SIGKILL in the middle of a flood.
 */

#include "config.h"

#include <json-glib/json-glib.h>
#include <signal.h>

#include "astra.h"
#include "astra-check-common.h"
#include "astra-test-util.h"

typedef struct {
	AstraTestEnv env;
	guint fail_first;     /* answer this many requests with 500 first */
	guint fail_status;    /* or with this status (0: 500) */
	const char *location; /* for 3xx */
} Fixture;

static Fixture fx;

static void
fixture_setup (void)
{
	memset (&fx, 0, sizeof (fx));
	astra_test_env_setup (&fx.env);
}

static void
fixture_teardown (void)
{
	astra_test_env_teardown (&fx.env);
}

/* the receiver fails its first fx.fail_first requests, then says 200 */
static void
failing_cb (AstraTestReceiver *receiver, AstraTestRequest *request, gpointer user_data)
{
	if (fx.fail_first == 0)
		return;
	fx.fail_first--;
	request->reply_status = fx.fail_status != 0 ? fx.fail_status : 500;
	request->reply_body = g_bytes_new_static ("no", 2);
	if (fx.location != NULL) {
		request->reply_headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_RESPONSE);
		soup_message_headers_replace (request->reply_headers, "Location", fx.location);
	}
}

static void
start_daemon (const char *webhook_extra, const char *more_webhooks)
{
	g_autoptr(GError) error = NULL;

	if (fx.env.config_path == NULL) {
		g_autofree char *url = astra_test_receiver_get_url (fx.env.receiver, "/hook");
		g_autofree char *webhooks = g_strdup_printf ("[webhook hook]\nplugin = generic\nurl = %s\n%s\n%s", url,
							     webhook_extra != NULL ? webhook_extra : "",
							     more_webhooks != NULL ? more_webhooks : "");
		fx.env.config_path = astra_test_write_config (fx.env.dir, NULL, NULL, webhooks, &error);
		astra_assert_no_error (error);
	}
	fx.env.daemon = astra_test_daemon_start (fx.env.config_path, NULL, &error);
	astra_assert_no_error (error);
}

static char *
post (const char *body)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *url = astra_test_daemon_get_url (fx.env.daemon, "/v1/reports");
	g_autoptr(AstraTestReply) reply = astra_test_post_json (fx.env.session, url, body, &error);
	g_autoptr(JsonNode) root = NULL;
	JsonArray *results;

	astra_assert_no_error (error);
	ck_assert_msg (reply->status == 202, "HTTP %u: %.*s", reply->status, (int) g_bytes_get_size (reply->body),
		       (const char *) g_bytes_get_data (reply->body, NULL));
	root = astra_json_parse (g_bytes_get_data (reply->body, NULL), g_bytes_get_size (reply->body), &error);
	astra_assert_no_error (error);
	results = json_object_get_array_member (json_node_get_object (root), "results");
	return g_strdup (json_object_get_string_member (json_array_get_object_element (results, 0), "id"));
}

static const char *
request_id (AstraTestReceiver *receiver, guint i)
{
	return astra_test_request_get_header (g_ptr_array_index (astra_test_receiver_get_requests (receiver), i),
					      "X-Webhook-Id");
}

static gint64
request_time (AstraTestReceiver *receiver, guint i)
{
	return ((AstraTestRequest *) g_ptr_array_index (astra_test_receiver_get_requests (receiver), i))->received_mono;
}

START_TEST (test_fails_then_succeeds)
{
	g_autofree char *id = NULL;

	fx.fail_first = 2;
	astra_test_receiver_set_func (fx.env.receiver, failing_cb, NULL);
	start_daemon ("retry-schedule = 1s, 1s, 1s", NULL);
	id = post (ASTRA_TEST_DOCS_EVENT);
	ck_assert_msg (astra_test_receiver_wait (fx.env.receiver, 3, ASTRA_TEST_TIMEOUT_MS), "%s",
		       astra_test_daemon_get_stderr (fx.env.daemon));
	/* the same event every time, about a second apart (the schedule, with its jitter) */
	for (guint i = 0; i < 3; i++)
		ck_assert_str_eq (request_id (fx.env.receiver, i), id);
	ck_assert_int_ge (request_time (fx.env.receiver, 1) - request_time (fx.env.receiver, 0), 850 * 1000);
	ck_assert_int_ge (request_time (fx.env.receiver, 2) - request_time (fx.env.receiver, 1), 850 * 1000);
	ck_assert (astra_test_daemon_wait_log (fx.env.daemon, "webhook hook: delivered", 1, ASTRA_TEST_TIMEOUT_MS));
	astra_test_iterate_for (300);
	ck_assert_uint_eq (astra_test_receiver_get_n_requests (fx.env.receiver), 3);
}
END_TEST

START_TEST (test_gone_disables)
{
	g_autofree char *first = NULL;

	fx.fail_first = 1;
	fx.fail_status = 410;
	astra_test_receiver_set_func (fx.env.receiver, failing_cb, NULL);
	start_daemon ("retry-schedule = 1s", NULL);
	first = post (ASTRA_TEST_DOCS_EVENT);
	ck_assert (astra_test_daemon_wait_log (fx.env.daemon, "webhook hook DISABLED", 1, ASTRA_TEST_TIMEOUT_MS));
	/* nothing more goes to it, and the second event waits on disk */
	g_free (post (ASTRA_TEST_DOCS_EVENT));
	astra_test_iterate_for (1500);
	ck_assert_uint_eq (astra_test_receiver_get_n_requests (fx.env.receiver), 1);
}
END_TEST

START_TEST (test_redirect_is_a_failure)
{
	fx.fail_first = 1;
	fx.fail_status = 302;
	fx.location = "http://127.0.0.1:1/elsewhere";
	astra_test_receiver_set_func (fx.env.receiver, failing_cb, NULL);
	start_daemon ("retry-schedule = 1s", NULL);
	g_free (post (ASTRA_TEST_DOCS_EVENT));
	ck_assert (astra_test_daemon_wait_log (fx.env.daemon, "redirect not followed", 1, ASTRA_TEST_TIMEOUT_MS));
	/* failed for good: a dead letter, not retried, and never sent elsewhere */
	astra_test_iterate_for (1500);
	ck_assert_uint_eq (astra_test_receiver_get_n_requests (fx.env.receiver), 1);
}
END_TEST

START_TEST (test_hang_past_timeout_then_deliver)
{
	g_autofree char *id = NULL;

	astra_test_receiver_set_delay (fx.env.receiver, 3000);
	start_daemon ("timeout = 1\nretry-schedule = 1s, 1s", NULL);
	id = post (ASTRA_TEST_DOCS_EVENT);
	ck_assert (astra_test_daemon_wait_log (fx.env.daemon, "timed out after 1 s", 1, ASTRA_TEST_TIMEOUT_MS));
	astra_test_receiver_set_delay (fx.env.receiver, 0);
	ck_assert (astra_test_daemon_wait_log (fx.env.daemon, "webhook hook: delivered", 1, ASTRA_TEST_TIMEOUT_MS));
	ck_assert_str_eq (request_id (fx.env.receiver, astra_test_receiver_get_n_requests (fx.env.receiver) - 1), id);
}
END_TEST

/* an alert's resolve never overtakes its trigger, even while the trigger is being retried */
START_TEST (test_order_per_alert_key)
{
	g_autofree char *triggered = astra_check_fixture_text ("alert.triggered");
	g_autofree char *resolved = astra_check_fixture_text ("alert.resolved");
	g_autofree char *other = astra_check_fixture_text ("speedtest.completed");
	GPtrArray *requests;
	gint trigger_ok = -1;
	gint resolve_at = -1;
	gint other_at = -1;

	fx.fail_first = 2;
	astra_test_receiver_set_func (fx.env.receiver, failing_cb, NULL);
	start_daemon ("retry-schedule = 1s, 1s, 1s", NULL);
	g_free (post (triggered));
	g_free (post (resolved));
	g_free (post (other));
	/* the first two requests fail (the trigger's first attempt among them); the trigger is
	 * retried a second later, while the unrelated speed test is not held back */
	ck_assert (astra_test_receiver_wait (fx.env.receiver, 5, ASTRA_TEST_TIMEOUT_MS));
	astra_test_iterate_for (300);
	requests = astra_test_receiver_get_requests (fx.env.receiver);
	for (guint i = 0; i < requests->len; i++) {
		AstraTestRequest *r = g_ptr_array_index (requests, i);
		const char *body = g_bytes_get_data (r->body, NULL);

		if (g_str_has_prefix (body, "{\"event\":\"alert.triggered\"")) {
			/* no attempt of the trigger, failed or not, comes after its resolve */
			ck_assert_int_lt (resolve_at, 0);
			/* the receiver answered 200 (a reply_status of its own is a failure) */
			if (r->reply_status == 0) {
				ck_assert_int_lt (trigger_ok, 0);
				trigger_ok = (gint) i;
			}
		}
		if (g_str_has_prefix (body, "{\"event\":\"alert.resolved\"")) {
			ck_assert_int_lt (resolve_at, 0);
			resolve_at = (gint) i;
		}
		if (g_str_has_prefix (body, "{\"event\":\"speedtest.completed\"") && other_at < 0)
			other_at = (gint) i;
	}
	ck_assert_int_ge (trigger_ok, 0);
	ck_assert_int_gt (resolve_at, trigger_ok);
	ck_assert_int_ge (other_at, 0);
	ck_assert_int_lt (other_at, trigger_ok);
}
END_TEST

/* deliveries reuse their connections: a new TCP connection per delivery would cost more than the delivery */
START_TEST (test_connections_are_reused)
{
	start_daemon (NULL, NULL);
	for (guint i = 0; i < 10; i++) {
		g_autoptr(GString) batch = g_string_new ("[");
		for (guint j = 0; j < 20; j++)
			g_string_append_printf (batch, "%s%s", j > 0 ? "," : "", ASTRA_TEST_DOCS_EVENT);
		g_string_append_c (batch, ']');
		g_free (post (batch->str));
	}
	ck_assert (astra_test_receiver_wait (fx.env.receiver, 200, ASTRA_TEST_TIMEOUT_MS));
	/* at most one connection per attempt in flight (16), however many deliveries */
	ck_assert_uint_le (astra_test_receiver_get_n_connections (fx.env.receiver), 16);
}
END_TEST

/* a receiver that hangs holds up its own webhook only */
START_TEST (test_slow_receiver_does_not_delay_another)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(AstraTestReceiver) fast = astra_test_receiver_new (&error);
	g_autofree char *fast_url = astra_test_receiver_get_url (fast, "/fast");
	g_autofree char *more = g_strdup_printf ("[webhook fast]\nplugin = generic\nurl = %s\n", fast_url);
	gint64 start;

	astra_assert_no_error (error);
	astra_test_receiver_set_delay (fx.env.receiver, G_MAXUINT);
	start_daemon ("timeout = 30\nmax-in-flight = 1", more);
	start = g_get_monotonic_time ();
	for (guint i = 0; i < 20; i++)
		g_free (post (ASTRA_TEST_DOCS_EVENT));
	ck_assert (astra_test_receiver_wait (fast, 20, ASTRA_TEST_TIMEOUT_MS));
	ck_assert_int_lt (g_get_monotonic_time () - start, 5 * G_USEC_PER_SEC);
	ck_assert_uint_eq (astra_test_receiver_get_n_requests (fx.env.receiver), 1);
}
END_TEST

/* a raw receiver: the first connection is dropped after the request arrives, before any
 * answer (as a crashing receiver would); later ones get a plain 200 */
typedef struct {
	GSocketListener *listener;
	guint16 port;
	guint n_connections;
	gboolean delivered;
} Dropper;

static gpointer
dropper_thread (gpointer user_data)
{
	Dropper *dropper = user_data;

	for (guint i = 0; i < 2; i++) {
		g_autoptr(GSocketConnection) connection = g_socket_listener_accept (dropper->listener, NULL, NULL, NULL);
		GInputStream *in;
		GOutputStream *out;
		char buf[8192];
		gssize n;

		if (connection == NULL)
			return NULL;
		dropper->n_connections++;
		in = g_io_stream_get_input_stream (G_IO_STREAM (connection));
		out = g_io_stream_get_output_stream (G_IO_STREAM (connection));
		/* enough to hold the whole request: headers and a small JSON body */
		n = g_input_stream_read (in, buf, sizeof (buf), NULL, NULL);
		if (n <= 0)
			continue;
		if (i == 0) {
			g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
			continue;
		}
		{
			static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
			g_output_stream_write_all (out, answer, sizeof (answer) - 1, NULL, NULL, NULL);
		}
		g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
		dropper->delivered = TRUE;
	}
	return NULL;
}

START_TEST (test_connection_dropped_then_delivered)
{
	g_autoptr(GError) error = NULL;
	Dropper dropper = {0};
	g_autoptr(GThread) thread = NULL;
	g_autofree char *webhooks = NULL;
	g_autofree char *id = NULL;

	dropper.listener = g_socket_listener_new ();
	dropper.port = g_socket_listener_add_any_inet_port (dropper.listener, NULL, &error);
	astra_assert_no_error (error);
	thread = g_thread_new ("dropper", dropper_thread, &dropper);
	webhooks = g_strdup_printf ("[webhook hook]\nplugin = generic\nurl = http://127.0.0.1:%u/hook\nretry-schedule = 1s\n",
				    dropper.port);
	fx.env.config_path = astra_test_write_config (fx.env.dir, NULL, NULL, webhooks, &error);
	astra_assert_no_error (error);
	fx.env.daemon = astra_test_daemon_start (fx.env.config_path, NULL, &error);
	astra_assert_no_error (error);
	id = post (ASTRA_TEST_DOCS_EVENT);
	ck_assert_msg (astra_test_daemon_wait_log (fx.env.daemon, "webhook hook: delivered", 1, ASTRA_TEST_TIMEOUT_MS), "%s",
		       astra_test_daemon_get_stderr (fx.env.daemon));
	g_thread_join (g_steal_pointer (&thread));
	ck_assert_uint_eq (dropper.n_connections, 2);
	ck_assert (dropper.delivered);
	/* the dropped attempt was a retry, not a failure */
	astra_assert_contains (astra_test_daemon_get_stderr (fx.env.daemon), "webhook hook: retry agent.status_changed");
	g_object_unref (dropper.listener);
}
END_TEST

/* what the daemon says about itself, after a delivery and a dead letter */
START_TEST (test_metrics_after_deliveries)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *url = NULL;
	g_autoptr(AstraTestReply) reply = NULL;
	g_autofree char *text = NULL;

	fx.fail_first = 1;
	fx.fail_status = 400;
	astra_test_receiver_set_func (fx.env.receiver, failing_cb, NULL);
	start_daemon (NULL, NULL);
	g_free (post (ASTRA_TEST_DOCS_EVENT));
	g_free (post (ASTRA_TEST_DOCS_EVENT));
	ck_assert (astra_test_receiver_wait (fx.env.receiver, 2, ASTRA_TEST_TIMEOUT_MS));
	ck_assert (astra_test_daemon_wait_log (fx.env.daemon, "webhook hook: delivered", 1, ASTRA_TEST_TIMEOUT_MS));
	url = astra_test_daemon_get_url (fx.env.daemon, "/metrics");
	reply = astra_test_http (fx.env.session, "GET", url, NULL, NULL, 0, FALSE, &error);
	astra_assert_no_error (error);
	ck_assert_uint_eq (reply->status, 200);
	text = g_strndup (g_bytes_get_data (reply->body, NULL), g_bytes_get_size (reply->body));
	astra_assert_contains (text, "# TYPE astra_deliveries_total counter");
	astra_assert_contains (text, "astra_deliveries_total{webhook=\"hook\",outcome=\"delivered\"} 1");
	astra_assert_contains (text, "astra_deliveries_total{webhook=\"hook\",outcome=\"dead\"} 1");
	astra_assert_contains (text, "astra_delivery_attempts_total{webhook=\"hook\",outcome=\"failed\"} 1");
	astra_assert_contains (text, "astra_events_total{type=\"agent.status_changed\"} 2");
	astra_assert_contains (text, "astra_delivery_queue_depth{webhook=\"hook\"} 0");
	astra_assert_contains (text, "astra_webhook_circuit_state{webhook=\"hook\"} 0");
	astra_assert_contains (text, "# TYPE astra_webhook_connects_total counter");
	ck_assert_msg (g_regex_match_simple ("^astra_webhook_connects_total [1-9]", text, G_REGEX_MULTILINE, 0), "%s",
		       text);
	ck_assert_msg (g_regex_match_simple ("^astra_webhook_connections [0-9]", text, G_REGEX_MULTILINE, 0), "%s",
		       text);
	astra_assert_contains (text, "astra_http_requests_total{path=\"/v1/reports\",code=\"202\"} 2");
	astra_assert_contains (text, "process_open_fds ");
	astra_assert_contains (text, "process_resident_memory_bytes ");
}
END_TEST

typedef struct {
	GHashTable *accepted; /* ids the daemon accepted (202) */
	GHashTable *seen;     /* ids the receiver got -> count */
	guint n_received;
} Flood;

static Flood flood;

static void
flood_receiver_cb (AstraTestReceiver *receiver, AstraTestRequest *request, gpointer user_data)
{
	const char *id = astra_test_request_get_header (request, "X-Webhook-Id");
	guint n;

	if (id == NULL)
		return;
	n = GPOINTER_TO_UINT (g_hash_table_lookup (flood.seen, id));
	g_hash_table_replace (flood.seen, g_strdup (id), GUINT_TO_POINTER (n + 1));
	flood.n_received++;
}

static gboolean
flood_all_seen_cb (gpointer user_data)
{
	GHashTableIter iter;
	gpointer id;

	g_hash_table_iter_init (&iter, flood.accepted);
	while (g_hash_table_iter_next (&iter, &id, NULL)) {
		if (!g_hash_table_contains (flood.seen, id))
			return FALSE;
	}
	return TRUE;
}

/* POSTs batches of 100 until n events were accepted; returns early (FALSE) if the daemon is gone */
static gboolean
flood_post (guint n, guint *posted)
{
	g_autofree char *url = astra_test_daemon_get_url (fx.env.daemon, "/v1/reports");

	while (*posted < n) {
		g_autoptr(GString) body = g_string_new ("[");
		g_autoptr(GError) error = NULL;
		g_autoptr(AstraTestReply) reply = NULL;
		g_autoptr(JsonNode) root = NULL;
		JsonArray *results;

		for (guint i = 0; i < 100; i++)
			g_string_append_printf (body,
						"%s{\"event\":\"agent.registered\",\"data\":{\"agent_id\":\"flood-%u\","
						"\"hostname\":\"h%u\",\"tenant_id\":\"t\"}}",
						i > 0 ? "," : "", *posted + i, *posted + i);
		g_string_append_c (body, ']');
		reply = astra_test_post_json (fx.env.session, url, body->str, &error);
		if (reply == NULL || reply->status != 202)
			return FALSE;
		root = astra_json_parse (g_bytes_get_data (reply->body, NULL), g_bytes_get_size (reply->body), NULL);
		results = json_object_get_array_member (json_node_get_object (root), "results");
		for (guint i = 0; i < json_array_get_length (results); i++)
			g_hash_table_add (flood.accepted,
					  g_strdup (json_object_get_string_member (json_array_get_object_element (results, i),
										   "id")));
		*posted += 100;
	}
	return TRUE;
}

START_TEST (test_sigkill_during_flood_loses_nothing)
{
	guint posted = 0;
	guint n_duplicates = 0;
	GHashTableIter iter;
	gpointer count;

	flood.accepted = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
	flood.seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
	flood.n_received = 0;
	astra_test_receiver_set_keep (fx.env.receiver, FALSE);
	astra_test_receiver_set_func (fx.env.receiver, flood_receiver_cb, NULL);
	/* a slowish receiver, so the kill finds deliveries pending and in flight */
	astra_test_receiver_set_delay (fx.env.receiver, 2);
	start_daemon (NULL, NULL);

	ck_assert (flood_post (6000, &posted));
	/* mid-flood: kill -9 while deliveries are in flight and thousands wait */
	astra_test_daemon_send_signal (fx.env.daemon, SIGKILL);
	ck_assert (astra_test_daemon_wait_exit (fx.env.daemon, ASTRA_TEST_TIMEOUT_MS));
	g_clear_pointer (&fx.env.daemon, astra_test_daemon_free);
	ck_assert_uint_lt (flood.n_received, g_hash_table_size (flood.accepted));

	start_daemon (NULL, NULL);
	ck_assert (flood_post (10000, &posted));
	ck_assert_uint_ge (g_hash_table_size (flood.accepted), 10000);
	ck_assert_msg (astra_test_wait_until (flood_all_seen_cb, NULL, 60000),
		       "after the restart the receiver has %u of %u accepted events",
		       g_hash_table_size (flood.seen), g_hash_table_size (flood.accepted));

	/* duplicates are few, and a duplicate is the same event id again */
	g_hash_table_iter_init (&iter, flood.seen);
	while (g_hash_table_iter_next (&iter, NULL, &count))
		n_duplicates += GPOINTER_TO_UINT (count) - 1;
	g_print ("flood: %u accepted, %u received, %u duplicates\n", g_hash_table_size (flood.accepted),
		 flood.n_received, n_duplicates);
	ck_assert_uint_le (n_duplicates, 200);
	ck_assert_uint_eq (g_hash_table_size (flood.seen), g_hash_table_size (flood.accepted));
	g_hash_table_unref (flood.accepted);
	g_hash_table_unref (flood.seen);
}
END_TEST

int
main (void)
{
	Suite *s = suite_create ("delivery");
	TCase *tc = tcase_create ("delivery");

	/* the daemon logs a delivery at info level: these cases wait for those lines */
	g_setenv ("ASTRA_TEST_DAEMON_MESSAGES_DEBUG", "astra-engine", TRUE);

	tcase_add_checked_fixture (tc, fixture_setup, fixture_teardown);
	tcase_set_timeout (tc, 120);
	tcase_add_test (tc, test_fails_then_succeeds);
	tcase_add_test (tc, test_gone_disables);
	tcase_add_test (tc, test_redirect_is_a_failure);
	tcase_add_test (tc, test_hang_past_timeout_then_deliver);
	tcase_add_test (tc, test_order_per_alert_key);
	tcase_add_test (tc, test_slow_receiver_does_not_delay_another);
	tcase_add_test (tc, test_connection_dropped_then_delivered);
	tcase_add_test (tc, test_connections_are_reused);
	tcase_add_test (tc, test_metrics_after_deliveries);
	tcase_add_test (tc, test_sigkill_during_flood_loses_nothing);
	suite_add_tcase (s, tc);
	return astra_check_run_suite (s);
}
