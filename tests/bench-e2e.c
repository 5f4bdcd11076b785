/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * End to end: the real astra-alertd with a signed generic webhook to an
 * in-process loopback receiver. Events are POSTed to /v1/reports as fast as a
 * few concurrent requests allow, first one report per request, then batches
 * of 100, and each event's latency is the time from its POST being sent to
 * its arrival at the receiver (matched by agent_id).
 *
 * usage: bench-e2e [N_EVENTS]   (default 10000)
 */

#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "astra.h"
#include "astra-check-common.h"
#include "astra-test-util.h"

#define BENCH_SECRET "bench-secret-0c4e"
#define BENCH_DEADLINE_MS (300 * 1000)
#define BENCH_STALL_S 30

typedef struct {
	guint run;
	guint n_events;
	guint batch;
	guint concurrency;
	gint64 *sent;     /* monotonic µs when the event's POST was sent */
	gint64 *received; /* monotonic µs when the receiver had it, 0 until then */
	guint n_received;
	guint n_duplicates;
	guint n_unsigned;
	guint n_foreign;
	guint next; /* the first event not POSTed yet */
	guint n_in_flight;
	guint n_posted_ok;
	char *post_error; /* the first failed POST */
	SoupSession *session;
	char *url;
	gint64 started;
} BenchRun;

static void bench_post_next (BenchRun *run);

static int
bench_compare_gint64 (gconstpointer a, gconstpointer b)
{
	gint64 x = *(const gint64 *) a;
	gint64 y = *(const gint64 *) b;
	return x < y ? -1 : x > y ? 1 : 0;
}

/* the docs' example with a distinct agent_id */
static void
bench_append_event (GString *str, guint run, guint index)
{
	g_string_append_printf (
	    str,
	    "{\"event\":\"agent.status_changed\",\"timestamp\":\"2025-12-17T10:30:00Z\",\"data\":{"
	    "\"agent_id\":\"bench-%u-%06u\",\"hostname\":\"server-01\",\"previous_status\":"
	    "\"online\","
	    "\"current_status\":\"offline\",\"tenant_id\":\"tenant-abc\"}}",
	    run, index);
}

static void
bench_receiver_cb (AstraTestReceiver *receiver, AstraTestRequest *request, gpointer user_data)
{
	BenchRun *run = user_data;
	gsize len = 0;
	const char *data = g_bytes_get_data (request->body, &len);
	g_autofree char *body = g_strndup (data, len);
	const char *p = strstr (body, "\"agent_id\":\"bench-");
	guint run_id = 0;
	guint index = 0;

	if (astra_test_request_get_header (request, "X-Webhook-Signature") == NULL)
		run->n_unsigned++;
	if (p == NULL || sscanf (p, "\"agent_id\":\"bench-%u-%u\"", &run_id, &index) != 2 ||
	    run_id != run->run || index >= run->n_events) {
		run->n_foreign++;
		return;
	}
	if (run->received[index] != 0) {
		run->n_duplicates++;
		return;
	}
	run->received[index] = request->received_mono;
	run->n_received++;
}

static void
bench_post_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
	BenchRun *run = user_data;
	g_autoptr(GError) error_local = NULL;
	g_autoptr(GBytes) reply =
	    soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error_local);
	SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (source), result);

	run->n_in_flight--;
	if (reply == NULL) {
		if (run->post_error == NULL)
			run->post_error = g_strdup (error_local->message);
	} else if (soup_message_get_status (msg) != 202) {
		if (run->post_error == NULL)
			run->post_error =
			    g_strdup_printf ("HTTP %u: %.*s", soup_message_get_status (msg),
					     (int) MIN (g_bytes_get_size (reply), 300),
					     (const char *) g_bytes_get_data (reply, NULL));
	} else {
		run->n_posted_ok++;
	}
	bench_post_next (run);
}

static void
bench_post_next (BenchRun *run)
{
	while (run->post_error == NULL && run->next < run->n_events &&
	       run->n_in_flight < run->concurrency) {
		g_autoptr(GString) body = g_string_new (NULL);
		g_autoptr(SoupMessage) msg = soup_message_new ("POST", run->url);
		g_autoptr(GBytes) bytes = NULL;
		guint first = run->next;
		guint n = MIN (run->batch, run->n_events - first);
		gint64 now;

		if (run->batch > 1)
			g_string_append_c (body, '[');
		for (guint i = 0; i < n; i++) {
			if (i > 0)
				g_string_append_c (body, ',');
			bench_append_event (body, run->run, first + i);
		}
		if (run->batch > 1)
			g_string_append_c (body, ']');
		bytes = g_bytes_new (body->str, body->len);
		soup_message_set_request_body_from_bytes (msg, "application/json", bytes);

		now = g_get_monotonic_time ();
		for (guint i = 0; i < n; i++)
			run->sent[first + i] = now;
		run->next += n;
		run->n_in_flight++;
		soup_session_send_and_read_async (run->session, msg, G_PRIORITY_DEFAULT, NULL,
						  bench_post_cb, run);
	}
}

static gboolean
bench_done_cb (gpointer user_data)
{
	BenchRun *run = user_data;
	return run->post_error != NULL ||
	       (run->n_received == run->n_events && run->n_in_flight == 0);
}

static gboolean
bench_run (AstraTestDaemon *daemon, AstraTestReceiver *receiver, BenchRun *run)
{
	g_autofree gint64 *latencies = g_new0 (gint64, run->n_events);
	gint64 last = 0;
	gint64 last_progress = 0;
	guint last_count = 0;
	guint n_connections;
	gboolean stalled = FALSE;
	double wall;

	run->sent = g_new0 (gint64, run->n_events);
	run->received = g_new0 (gint64, run->n_events);
	run->url = astra_test_daemon_get_url (daemon, "/v1/reports");
	run->session =
	    g_object_new (SOUP_TYPE_SESSION, "max-conns", run->concurrency * 2,
			  "max-conns-per-host", run->concurrency * 2, "timeout", 60, NULL);
	astra_test_receiver_set_func (receiver, bench_receiver_cb, run);

	n_connections = astra_test_receiver_get_n_connections (receiver);
	run->started = g_get_monotonic_time ();
	bench_post_next (run);
	/* give up early when nothing arrives for a while: the daemon has lost them */
	while (!astra_test_wait_until (bench_done_cb, run, 1000)) {
		gint64 now = g_get_monotonic_time ();

		if (run->n_received != last_count) {
			last_count = run->n_received;
			last_progress = now;
		} else if (last_progress == 0) {
			last_progress = now;
		}
		if (now - last_progress > BENCH_STALL_S * G_USEC_PER_SEC ||
		    now - run->started > BENCH_DEADLINE_MS * 1000) {
			stalled = TRUE;
			break;
		}
	}
	astra_test_receiver_set_func (receiver, NULL, NULL);
	n_connections = astra_test_receiver_get_n_connections (receiver) - n_connections;

	if (run->post_error != NULL) {
		g_printerr ("bench-e2e: run %u: a POST failed: %s\n", run->run, run->post_error);
		return FALSE;
	}
	if (run->n_received != run->n_events || run->n_duplicates > 0 || run->n_foreign > 0 ||
	    run->n_unsigned > 0) {
		g_printerr ("bench-e2e: run %u: FAILED: %u of %u events delivered%s "
			    "(%u POSTs accepted, %u duplicates, %u unknown, %u unsigned, %u "
			    "receiver connections)\n",
			    run->run, run->n_received, run->n_events,
			    stalled ? ", then nothing for " G_STRINGIFY (BENCH_STALL_S) " s" : "",
			    run->n_posted_ok, run->n_duplicates, run->n_foreign, run->n_unsigned,
			    n_connections);
		return FALSE;
	}

	for (guint i = 0; i < run->n_events; i++) {
		latencies[i] = run->received[i] - run->sent[i];
		last = MAX (last, run->received[i]);
	}
	qsort (latencies, run->n_events, sizeof (gint64), bench_compare_gint64);
	wall = (double) (last - run->started) / G_USEC_PER_SEC;

	g_print ("run %u: %u report%s per POST, %u POSTs in flight\n", run->run, run->batch,
		 run->batch > 1 ? "s" : "", run->concurrency);
	g_print ("  events delivered   %u\n", run->n_received);
	g_print ("  wall time          %.3f s\n", wall);
	g_print ("  events/s           %.0f\n", run->n_events / wall);
	g_print ("  latency ms         p50 %.2f  p90 %.2f  p99 %.2f  max %.2f\n",
		 latencies[run->n_events * 50 / 100] / 1000.0,
		 latencies[run->n_events * 90 / 100] / 1000.0,
		 latencies[MIN (run->n_events * 99 / 100, run->n_events - 1)] / 1000.0,
		 latencies[run->n_events - 1] / 1000.0);
	g_print ("  new connections    %u from the daemon to the receiver\n", n_connections);
	g_print ("  daemon peak RSS    %" G_GUINT64_FORMAT " KiB (VmHWM so far)\n",
		 astra_test_daemon_get_peak_rss_kib (daemon));
	return TRUE;
}

static void
bench_run_clear (BenchRun *run)
{
	g_clear_object (&run->session);
	g_clear_pointer (&run->sent, g_free);
	g_clear_pointer (&run->received, g_free);
	g_clear_pointer (&run->url, g_free);
	g_clear_pointer (&run->post_error, g_free);
}

int
main (int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(AstraTestReceiver) receiver = NULL;
	g_autoptr(AstraTestDaemon) daemon = NULL;
	g_autofree char *dir = NULL;
	g_autofree char *url = NULL;
	g_autofree char *webhooks = NULL;
	g_autofree char *config = NULL;
	BenchRun runs[] = {
		{ .run = 1, .batch = 1, .concurrency = 16 },
		{ .run = 2, .batch = 100, .concurrency = 4 },
	};
	guint n_events = 10000;
	gboolean ok = TRUE;

	if (argc > 1)
		n_events = (guint) g_ascii_strtoull (argv[1], NULL, 10);
	if (n_events == 0) {
		g_printerr ("usage: bench-e2e [N_EVENTS]\n");
		return EXIT_FAILURE;
	}

	dir = astra_test_mkdtemp (&error);
	if (dir == NULL) {
		g_printerr ("bench-e2e: %s\n", error->message);
		return EXIT_FAILURE;
	}
	receiver = astra_test_receiver_new (&error);
	if (receiver == NULL) {
		g_printerr ("bench-e2e: receiver: %s\n", error->message);
		return EXIT_FAILURE;
	}
	/* 20,000 bodies are not worth keeping: the callback records what matters */
	astra_test_receiver_set_keep (receiver, FALSE);
	url = astra_test_receiver_get_url (receiver, "/bench");
	webhooks = g_strdup_printf ("[webhook bench]\nplugin = generic\nurl = %s\nsecret = %s\n",
				    url, BENCH_SECRET);
	config = astra_test_write_config (dir, NULL, NULL, webhooks, &error);
	if (config == NULL) {
		g_printerr ("bench-e2e: %s\n", error->message);
		return EXIT_FAILURE;
	}
	/* it logs every delivery: to a file, not through a pipe we would have to drain */
	daemon = astra_test_daemon_spawn (NULL, config, NULL, NULL,
					  ASTRA_TEST_DAEMON_FLAG_LOG_TO_FILE, &error);
	if (daemon == NULL ||
	    !astra_test_daemon_wait_listening (daemon, ASTRA_TEST_TIMEOUT_MS, &error)) {
		g_printerr ("bench-e2e: %s\n", error->message);
		return EXIT_FAILURE;
	}

	g_print ("bench-e2e: astra-alertd %s, %u events per run, generic webhook signed (astra "
		 "scheme)\n",
		 PACKAGE_VERSION, n_events);
	for (guint i = 0; i < G_N_ELEMENTS (runs) && ok; i++) {
		runs[i].n_events = n_events;
		ok = bench_run (daemon, receiver, &runs[i]);
		bench_run_clear (&runs[i]);
	}
	if (!ok) {
		const char *log = astra_test_daemon_get_stderr (daemon);
		gsize len = strlen (log);
		const char *tail = len > 4000 ? strchr (log + len - 4000, '\n') : log;

		g_printerr ("bench-e2e: the end of the daemon's log:\n%s\n",
			    tail != NULL ? tail : log);
	}

	astra_test_daemon_send_signal (daemon, SIGTERM);
	if (!astra_test_daemon_wait_exit (daemon, ASTRA_TEST_TIMEOUT_MS) ||
	    astra_test_daemon_get_exit_status (daemon) != 0) {
		g_printerr (
		    "bench-e2e: astra-alertd did not stop cleanly on SIGTERM (exit status %d)\n",
		    astra_test_daemon_get_exit_status (daemon));
		ok = FALSE;
	}
	g_clear_pointer (&daemon, astra_test_daemon_free);
	g_clear_pointer (&receiver, astra_test_receiver_free);
	if (!astra_check_rmtree (dir, &error))
		g_printerr ("bench-e2e: %s\n", error->message);
	return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
