/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Durable delivery, measured: the real daemon with the outbox on and a
 * signed generic webhook to a loopback receiver. For 10,000 and 100,000
 * events (POSTed 100 per request) it prints deliveries per second, the
 * daemon's CPU microseconds per delivery (from /proc), the latency from the
 * POST to receipt (p50/p99) and the daemon's RSS at the end; then the
 * latency at light load (one event at a time), and a run with the receiver
 * down for the first half.
 *
 * The receiver is a minimal HTTP/1.1 keep-alive server on its own threads
 * (one per connection, as a plain nginx worker would serve them): a libsoup
 * server in this process cost more CPU per request than the daemon does, and
 * on a 2-core machine it would measure itself instead of the daemon.
 *
 * usage: bench-delivery [N_LARGE]   (default 100000)
 */

#include "config.h"

#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "astra.h"
#include "astra-check-common.h"
#include "astra-test-util.h"

#define BENCH_SECRET "bench-delivery-secret-7f2a"

typedef struct {
	guint n_events;
	gint64 *sent;     /* monotonic us when the event's POST was sent */
	gint64 *received; /* monotonic us when it arrived, 0 until then */
	guint n_received; /* written by receiver threads under receiver_lock */
	guint n_duplicates;
	guint next;
	guint n_in_flight;
	guint batch;
	guint concurrency;
	guint tag;        /* distinguishes runs: agent ids are "b<tag>-<index>" */
	gint down;        /* the receiver refuses (503) while set; atomic */
	char *post_error;
	SoupSession *session;
	char *url;
} Run;

static Run *current;

static gint64
daemon_cpu_us (GPid pid)
{
	g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) pid);
	g_autofree char *text = NULL;
	g_auto(GStrv) fields = NULL;
	const char *close_paren;

	if (!g_file_get_contents (path, &text, NULL, NULL) || (close_paren = strrchr (text, ')')) == NULL)
		return 0;
	fields = g_strsplit (close_paren + 2, " ", -1);
	/* utime and stime are fields 14 and 15, i.e. 11 and 12 after the command */
	return (g_ascii_strtoll (fields[11], NULL, 10) + g_ascii_strtoll (fields[12], NULL, 10)) * G_USEC_PER_SEC /
	       sysconf (_SC_CLK_TCK);
}

static GMutex receiver_lock;

/* one request's body, on a receiver thread: returns the status to answer */
static guint
receiver_handle (const char *body, gsize len)
{
	g_autofree char *text = g_strndup (body, len);
	gint64 now = g_get_monotonic_time ();
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&receiver_lock);
	Run *run = current;
	const char *p;
	guint tag = 0;
	guint index = 0;

	if (run == NULL)
		return 200;
	if (g_atomic_int_get (&run->down))
		return 503;
	p = strstr (text, "\"agent_id\":\"b");
	if (p == NULL || sscanf (p, "\"agent_id\":\"b%u-%u\"", &tag, &index) != 2 || tag != run->tag ||
	    index >= run->n_events)
		return 200;
	if (run->received[index] != 0) {
		run->n_duplicates++;
		return 200;
	}
	run->received[index] = now;
	run->n_received++;
	return 200;
}

static gsize
receiver_content_length (const char *head, gsize head_len)
{
	for (const char *line = head; line != NULL && line < head + head_len;) {
		const char *next = memchr (line, '\n', (gsize) (head + head_len - line));
		if (g_ascii_strncasecmp (line, "Content-Length:", 15) == 0)
			return (gsize) g_ascii_strtoull (line + 15, NULL, 10);
		line = next != NULL ? next + 1 : NULL;
	}
	return 0;
}

/* serves one keep-alive connection: every complete request in what one read brought is
 * answered with one write */
static gpointer
receiver_connection_thread (gpointer user_data)
{
	int fd = GPOINTER_TO_INT (user_data);
	gsize size = 64 * 1024;
	g_autofree char *buf = g_malloc (size);
	gsize have = 0;
	g_autoptr(GString) replies = g_string_new (NULL);

	for (;;) {
		gssize n;
		gsize used = 0;

		if (have == size) {
			size *= 2;
			buf = g_realloc (buf, size);
		}
		n = read (fd, buf + have, size - have);
		if (n <= 0)
			break;
		have += (gsize) n;
		g_string_truncate (replies, 0);
		for (;;) {
			const char *end = g_strstr_len (buf + used, (gssize) (have - used), "\r\n\r\n");
			gsize head_len, body_len;
			guint status;

			if (end == NULL)
				break;
			head_len = (gsize) (end + 4 - (buf + used));
			body_len = receiver_content_length (buf + used, head_len);
			if (have - used < head_len + body_len)
				break;
			status = receiver_handle (buf + used + head_len, body_len);
			g_string_append_printf (replies, "HTTP/1.1 %u %s\r\nContent-Length: 0\r\n\r\n", status,
						status == 200 ? "OK" : "Service Unavailable");
			used += head_len + body_len;
		}
		memmove (buf, buf + used, have - used);
		have -= used;
		if (replies->len > 0 && write (fd, replies->str, replies->len) != (gssize) replies->len)
			break;
	}
	close (fd);
	return NULL;
}

static gpointer
receiver_accept_thread (gpointer user_data)
{
	int listen_fd = GPOINTER_TO_INT (user_data);

	for (;;) {
		int fd = accept (listen_fd, NULL, NULL);
		if (fd < 0)
			break;
		g_thread_unref (g_thread_new ("bench-receiver", receiver_connection_thread, GINT_TO_POINTER (fd)));
	}
	return NULL;
}

/* a loopback receiver on its own threads; returns its port, 0 on failure */
static guint16
receiver_start (void)
{
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK)};
	socklen_t len = sizeof (addr);
	int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind (fd, (struct sockaddr *) &addr, sizeof (addr)) != 0 || listen (fd, 128) != 0 ||
	    getsockname (fd, (struct sockaddr *) &addr, &len) != 0)
		return 0;
	g_thread_unref (g_thread_new ("bench-accept", receiver_accept_thread, GINT_TO_POINTER (fd)));
	return ntohs (addr.sin_port);
}

static void post_next (Run *run);

static void
post_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
	Run *run = user_data;
	g_autoptr(GError) error_local = NULL;
	g_autoptr(GBytes) reply = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error_local);
	SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (source), result);

	run->n_in_flight--;
	if (run->post_error == NULL && (reply == NULL || soup_message_get_status (msg) != 202))
		run->post_error = g_strdup (reply == NULL ? error_local->message : "not 202");
	post_next (run);
}

static void
post_next (Run *run)
{
	while (run->post_error == NULL && run->next < run->n_events && run->n_in_flight < run->concurrency) {
		g_autoptr(GString) body = g_string_new ("[");
		g_autoptr(SoupMessage) msg = soup_message_new ("POST", run->url);
		g_autoptr(GBytes) bytes = NULL;
		guint first = run->next;
		guint n = MIN (run->batch, run->n_events - first);
		gint64 now = g_get_monotonic_time ();

		for (guint i = 0; i < n; i++)
			g_string_append_printf (body,
						"%s{\"event\":\"agent.status_changed\",\"data\":{\"agent_id\":\"b%u-%u\","
						"\"hostname\":\"server-01\",\"previous_status\":\"online\","
						"\"current_status\":\"offline\",\"tenant_id\":\"tenant-abc\"}}",
						i > 0 ? "," : "", run->tag, first + i);
		g_string_append_c (body, ']');
		bytes = g_string_free_to_bytes (g_steal_pointer (&body));
		soup_message_set_request_body_from_bytes (msg, "application/json", bytes);
		for (guint i = 0; i < n; i++)
			run->sent[first + i] = now;
		run->next += n;
		run->n_in_flight++;
		soup_session_send_and_read_async (run->session, msg, G_PRIORITY_DEFAULT, NULL, post_cb, run);
	}
}

static gboolean
run_done_cb (gpointer user_data)
{
	Run *run = user_data;
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&receiver_lock);

	return run->post_error != NULL || (run->n_received == run->n_events && run->n_in_flight == 0);
}

static gint
compare_gint64 (gconstpointer a, gconstpointer b)
{
	gint64 x = *(const gint64 *) a;
	gint64 y = *(const gint64 *) b;
	return x < y ? -1 : x > y ? 1 : 0;
}

/* posts every event (batch per request, concurrency requests at once), waits for all */
static gboolean
run_events (AstraTestDaemon *daemon, const char *title, guint n, guint batch, guint concurrency,
	    guint down_for_first, guint tag)
{
	Run run = {.n_events = n, .batch = batch, .concurrency = concurrency, .tag = tag};
	g_autofree gint64 *latencies = g_new0 (gint64, n);
	gint64 start, last = 0;
	gint64 cpu0 = daemon_cpu_us (astra_test_daemon_get_pid (daemon));
	double wall;

	run.sent = g_new0 (gint64, n);
	run.received = g_new0 (gint64, n);
	run.url = astra_test_daemon_get_url (daemon, "/v1/reports");
	run.session = g_object_new (SOUP_TYPE_SESSION, "max-conns", 16, "max-conns-per-host", 16, "timeout", 120, NULL);
	run.down = down_for_first > 0;
	g_mutex_lock (&receiver_lock);
	current = &run;
	g_mutex_unlock (&receiver_lock);
	start = g_get_monotonic_time ();
	post_next (&run);
	if (down_for_first > 0) {
		/* the receiver answers 503 until half the events were accepted by the daemon */
		while (run.next < down_for_first && run.post_error == NULL)
			g_main_context_iteration (NULL, TRUE);
		g_atomic_int_set (&run.down, FALSE);
	}
	while (!astra_test_wait_until (run_done_cb, &run, 1000)) {
		if (g_get_monotonic_time () - start > 600 * G_USEC_PER_SEC)
			break;
	}
	g_mutex_lock (&receiver_lock);
	current = NULL;
	g_mutex_unlock (&receiver_lock);
	if (run.post_error != NULL || run.n_received != n) {
		g_printerr ("bench-delivery: %s: %u of %u delivered%s%s\n", title, run.n_received, n,
			    run.post_error != NULL ? "; a POST failed: " : "", run.post_error != NULL ? run.post_error : "");
		return FALSE;
	}
	for (guint i = 0; i < n; i++) {
		latencies[i] = run.received[i] - run.sent[i];
		last = MAX (last, run.received[i]);
	}
	qsort (latencies, n, sizeof (gint64), compare_gint64);
	wall = (double) (last - start) / G_USEC_PER_SEC;
	g_print ("%s\n", title);
	g_print ("  delivered          %u in %.3f s: %.0f deliveries/s (%u duplicates)\n", n, wall, n / wall,
		 run.n_duplicates);
	g_print ("  daemon CPU         %.1f us per delivery (ingest, outbox, signing, HTTP)\n",
		 (double) (daemon_cpu_us (astra_test_daemon_get_pid (daemon)) - cpu0) / n);
	g_print ("  POST to receipt    p50 %.2f ms  p99 %.2f ms  max %.2f ms\n", latencies[n / 2] / 1000.0,
		 latencies[MIN (n * 99 / 100, n - 1)] / 1000.0, latencies[n - 1] / 1000.0);
	g_print ("  daemon RSS         %" G_GUINT64_FORMAT " KiB peak\n", astra_test_daemon_get_peak_rss_kib (daemon));
	g_free (run.sent);
	g_free (run.received);
	g_free (run.url);
	g_clear_object (&run.session);
	return TRUE;
}

int
main (int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(AstraTestDaemon) daemon = NULL;
	g_autofree char *dir = NULL;
	g_autofree char *url = NULL;
	g_autofree char *webhooks = NULL;
	g_autofree char *config = NULL;
	guint n_large = argc > 1 ? (guint) g_ascii_strtoull (argv[1], NULL, 10) : 100000;
	const char *const args[] = {NULL};
	gboolean ok = TRUE;
	guint16 port;

	dir = astra_test_mkdtemp (&error);
	port = receiver_start ();
	if (port == 0) {
		g_printerr ("bench-delivery: cannot listen on loopback: %s\n", g_strerror (errno));
		return EXIT_FAILURE;
	}
	url = g_strdup_printf ("http://127.0.0.1:%u/hook", port);
	/* short retries and breaker so the receiver-down run drains in seconds, not hours */
	webhooks = g_strdup_printf ("[webhook hook]\nplugin = generic\nurl = %s\nsecret = " BENCH_SECRET "\n"
				    "retry-schedule = 1s, 1s, 2s, 2s, 5s, 5s, 10s\nbreaker-cooldown = 1s\n",
				    url);
	config = astra_test_write_config (dir, NULL, "max-body-size = 8M\n", webhooks, &error);
	if (config != NULL)
		daemon = astra_test_daemon_spawn (astra_test_getenv ("ASTRA_ALERTD", NULL), config, args, NULL,
						  ASTRA_TEST_DAEMON_FLAG_LOG_TO_FILE, &error);
	if (daemon == NULL || !astra_test_daemon_wait_listening (daemon, 60000, &error)) {
		g_printerr ("bench-delivery: %s\n", error != NULL ? error->message : "no daemon");
		return EXIT_FAILURE;
	}
	g_print ("bench-delivery: astra-alertd %s, outbox on (SQLite WAL), signed generic webhook, loopback receiver\n",
		 PACKAGE_VERSION);
	ok = ok && run_events (daemon, "10,000 events, 100 per POST, 4 POSTs in flight", 10000, 100, 4, 0, 1);
	ok = ok && run_events (daemon, "100,000 events, 100 per POST, 4 POSTs in flight", n_large, 100, 4, 0, 2);
	ok = ok && run_events (daemon, "light load: 2,000 events, one per POST, one at a time", 2000, 1, 1, 0, 3);
	ok = ok && run_events (daemon, "10,000 events with the receiver down (503) for the first half", 10000, 100, 4,
			       5000, 4);
	astra_test_daemon_send_signal (daemon, SIGTERM);
	astra_test_daemon_wait_exit (daemon, 30000);
	astra_check_tmpdir_clear (&dir);
	return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
