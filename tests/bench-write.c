/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * /write over loopback: the real astra-alertd, 10,000 rules in rules.d/,
 * and InfluxDB line protocol POSTed by a few concurrent clients, as Telegraf
 * does, each line carrying three fields over 100,000 series. Prints the
 * lines and samples per second the daemon took (it answers 204 only after
 * every line of a body went through the series store and the rules), and
 * its peak RSS.
 *
 * usage: bench-write [N_LINES]   (default 2000000)
 */

#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "astra.h"
#include "astra-check-common.h"
#include "astra-test-util.h"

#define BENCH_LINES_PER_POST 5000
#define BENCH_CONCURRENCY 4
#define BENCH_SERIES 100000 /* 1,000 hosts x 100 targets, 3 fields each: series x 3 samples */
#define BENCH_RULES 10000

typedef struct {
	SoupSession *session;
	char *url;
	guint n_lines;
	guint next;
	guint n_in_flight;
	guint n_ok;
	char *error;
	gint64 t0;
} Bench;

static void bench_post_next (Bench *b);

static void
bench_post_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
	Bench *b = user_data;
	g_autoptr(GError) error_local = NULL;
	g_autoptr(GBytes) reply = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error_local);
	SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (source), result);

	b->n_in_flight--;
	if (reply == NULL && b->error == NULL)
		b->error = g_strdup (error_local->message);
	else if (reply != NULL && soup_message_get_status (msg) != 204 && b->error == NULL)
		b->error = g_strdup_printf ("HTTP %u: %.*s", soup_message_get_status (msg),
					    (int) MIN (g_bytes_get_size (reply), 300),
					    (const char *) g_bytes_get_data (reply, NULL));
	else
		b->n_ok++;
	bench_post_next (b);
}

static void
bench_post_next (Bench *b)
{
	while (b->error == NULL && b->next < b->n_lines && b->n_in_flight < BENCH_CONCURRENCY) {
		g_autoptr(GString) body = g_string_sized_new (BENCH_LINES_PER_POST * 110);
		g_autoptr(SoupMessage) msg = soup_message_new ("POST", b->url);
		g_autoptr(GBytes) bytes = NULL;
		guint n = MIN (BENCH_LINES_PER_POST, b->n_lines - b->next);

		for (guint i = 0; i < n; i++) {
			guint series = (b->next + i) % (BENCH_SERIES);
			g_string_append_printf (body,
						"ping,host=agent-%u,url=10.0.%u.%u average_response_ms=%u.5,"
						"packets_transmitted=5i,percent_packet_loss=0 %u\n",
						series / 100, series % 100 / 10, series % 10, (b->next + i) % 97,
						1700000000 + (b->next + i) / BENCH_SERIES);
		}
		bytes = g_string_free_to_bytes (g_steal_pointer (&body));
		soup_message_set_request_body_from_bytes (msg, "text/plain", bytes);
		b->next += n;
		b->n_in_flight++;
		soup_session_send_and_read_async (b->session, msg, G_PRIORITY_DEFAULT, NULL, bench_post_cb, b);
	}
}

static gboolean
bench_done_cb (gpointer user_data)
{
	Bench *b = user_data;
	return b->error != NULL || (b->next >= b->n_lines && b->n_in_flight == 0);
}

/* 10,000 rules as a fleet has them: per-agent thresholds (an exact host matcher, so each
 * series meets a handful) and a few fleet-wide rules over every series, some aggregated */
static char *
bench_rules (void)
{
	GString *rules = g_string_new (NULL);
	const char *fields[] = {"average_response_ms", "percent_packet_loss", "packets_transmitted"};

	for (guint i = 0; i < BENCH_RULES - 10; i++)
		g_string_append_printf (rules, "[rule agent-%u]\nmetric = ping_%s\nmatch = host=agent-%u\nwarning = > %u\n\n",
					i, fields[i % 3], i % 1000, 1000 + i);
	for (guint i = 0; i < 10; i++)
		g_string_append_printf (rules, "[rule fleet-%u]\nmetric = ping_%s\n%swarning = > %u\n\n", i,
					fields[i % 3], i % 2 == 0 ? "aggregate = avg 5m\n" : "", 100000 + i);
	return g_string_free (rules, FALSE);
}

int
main (int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(AstraTestDaemon) daemon = NULL;
	g_autofree char *dir = NULL;
	g_autofree char *rules = bench_rules ();
	g_autofree char *rules_dir = NULL;
	g_autofree char *config = NULL;
	g_autofree char *rules_path = NULL;
	Bench b = {0};
	double wall;
	const char *const args[] = {NULL};

	b.n_lines = argc > 1 ? (guint) g_ascii_strtoull (argv[1], NULL, 10) : 2000000;
	dir = astra_test_mkdtemp (&error);
	rules_dir = g_build_filename (dir, "rules.d", NULL);
	g_mkdir_with_parents (rules_dir, 0700);
	rules_path = astra_test_write_file (rules_dir, "bench.rules", rules, &error);
	if (rules_path != NULL)
		config = astra_test_write_config (dir, NULL, "max-body-size = 8M\n", "", &error);
	if (config != NULL)
		daemon = astra_test_daemon_spawn (astra_test_getenv ("ASTRA_ALERTD", NULL), config, args, NULL,
						  ASTRA_TEST_DAEMON_FLAG_LOG_TO_FILE, &error);
	if (daemon == NULL || !astra_test_daemon_wait_listening (daemon, 60000, &error)) {
		g_printerr ("bench-write: %s\n", error != NULL ? error->message : "no daemon");
		return EXIT_FAILURE;
	}

	b.url = astra_test_daemon_get_url (daemon, "/write?db=bench&precision=s");
	b.session = g_object_new (SOUP_TYPE_SESSION, "max-conns", BENCH_CONCURRENCY * 2, "max-conns-per-host",
				  BENCH_CONCURRENCY * 2, "timeout", 120, NULL);
	b.t0 = g_get_monotonic_time ();
	bench_post_next (&b);
	while (!astra_test_wait_until (bench_done_cb, &b, 1000))
		;
	wall = (double) (g_get_monotonic_time () - b.t0) / G_USEC_PER_SEC;
	if (b.error != NULL) {
		g_printerr ("bench-write: a POST failed: %s\n", b.error);
		return EXIT_FAILURE;
	}
	g_print ("bench-write: astra-alertd %s, %u rules, %u series x 3 fields, %u lines per POST, %u in flight\n",
		 PACKAGE_VERSION, BENCH_RULES, BENCH_SERIES, BENCH_LINES_PER_POST, BENCH_CONCURRENCY);
	g_print ("  lines              %u (%u samples) in %u POSTs, all answered 204\n", b.n_lines, b.n_lines * 3,
		 b.n_ok);
	g_print ("  wall time          %.3f s\n", wall);
	g_print ("  lines/s            %.0f\n", b.n_lines / wall);
	g_print ("  samples/s          %.0f\n", b.n_lines * 3 / wall);
	g_print ("  daemon peak RSS    %" G_GUINT64_FORMAT " KiB\n", astra_test_daemon_get_peak_rss_kib (daemon));

	astra_test_daemon_send_signal (daemon, SIGTERM);
	astra_test_daemon_wait_exit (daemon, 30000);
	g_clear_object (&b.session);
	g_free (b.url);
	g_free (b.error);
	astra_check_tmpdir_clear (&dir);
	return EXIT_SUCCESS;
}
