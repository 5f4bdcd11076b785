/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * AstraMetrics: the exposition byte for byte, stable order, the series bound,
 * the hot path, process figures, GET /metrics, and the example alerting rules.
 */

#include "config.h"

#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

#include "astra-check-common.h"
#include "astra-metrics.h"

/*
 * Counting allocations: outside sanitizer builds (which bring their own
 * malloc) this executable interposes malloc, calloc and realloc, counting the
 * calls of the thread that asked for it and forwarding to glibc's.
 */
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define CHECK_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CHECK_SANITIZED 1
#endif

static __thread gboolean counting_allocations;
static __thread guint n_allocations;

#if defined(__GLIBC__) && !defined(CHECK_SANITIZED)
extern void *__libc_malloc (size_t size);
extern void *__libc_calloc (size_t n, size_t size);
extern void *__libc_realloc (void *ptr, size_t size);

void *
malloc (size_t size)
{
	if (counting_allocations)
		n_allocations++;
	return __libc_malloc (size);
}

void *
calloc (size_t n, size_t size)
{
	if (counting_allocations)
		n_allocations++;
	return __libc_calloc (n, size);
}

void *
realloc (void *ptr, size_t size)
{
	if (counting_allocations)
		n_allocations++;
	return __libc_realloc (ptr, size);
}
#endif

static char *
render_text (AstraMetrics *metrics)
{
	g_autoptr(GBytes) bytes = astra_metrics_render (metrics);
	gsize len = 0;
	const char *data = g_bytes_get_data (bytes, &len);

	return g_strndup (data, len);
}

static void
edge_values_cb (GString *out, const char *name, gpointer user_data)
{
	static const struct {
		const char *label;
		double value;
	} cases[] = {
		{ "nan", NAN },
		{ "+inf", INFINITY },
		{ "-inf", -INFINITY },
		{ "-0", -0.0 },
		{ "1e21", 1e21 },
		{ "tenth", 0.1 },
		{ "big", 1.2345678901234568e20 },
		{ "tiny", 5e-324 },
		{ "small", 1e-7 },
		{ "neg", -2.5 },
	};
	const char *const names[] = { "case", NULL };

	for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
		const char *const values[] = { cases[i].label, NULL };
		astra_metrics_append_sample (out, name, names, values, cases[i].value);
	}
	astra_metrics_append_sample (out, name, NULL, NULL, 42);
}

/* a collector that forgets the final newline */
static void
raw_cb (GString *out, const char *name, gpointer user_data)
{
	g_string_append_printf (out, "%s 7", name);
}

static void
empty_cb (GString *out, const char *name, gpointer user_data)
{
}

START_TEST (test_exposition)
{
	g_autoptr(AstraMetrics) metrics = astra_metrics_new ();
	const char *const type_labels[] = { "type", NULL };
	const char *const delivery_labels[] = { "webhook", "outcome", NULL };
	AstraCounter *reloads =
	    astra_metrics_counter (metrics, "astra_reloads_total", "Configuration reloads.", NULL);
	AstraCounter *events =
	    astra_metrics_counter (metrics, "astra_events_total", "Events made, by type.", type_labels);
	AstraCounter *deliveries = astra_metrics_counter (
	    metrics, "astra_deliveries_total", "Deliveries by \"webhook\" and outcome.\nA back\\slash too.",
	    delivery_labels);
	g_autofree char *text = NULL;
	static const char expected[] =
	    "# HELP astra_reloads_total Configuration reloads.\n"
	    "# TYPE astra_reloads_total counter\n"
	    "astra_reloads_total 0\n"
	    "# HELP astra_events_total Events made, by type.\n"
	    "# TYPE astra_events_total counter\n"
	    "astra_events_total{type=\"agent.offline\"} 1\n"
	    "astra_events_total{type=\"alert.resolved\"} 0\n"
	    "astra_events_total{type=\"alert.triggered\"} 18446744073709551615\n"
	    "# HELP astra_deliveries_total Deliveries by \"webhook\" and outcome.\\nA back\\\\slash too.\n"
	    "# TYPE astra_deliveries_total counter\n"
	    "astra_deliveries_total{webhook=\"back\\\\slash\\nline\",outcome=\"dead\"} 1\n"
	    "astra_deliveries_total{webhook=\"caf\xef\xbf\xbd\",outcome=\"delivered\"} 1\n"
	    "astra_deliveries_total{webhook=\"ops \\\"team\\\"\",outcome=\"dead\"} 1\n"
	    "astra_deliveries_total{webhook=\"ops \\\"team\\\"\",outcome=\"delivered\"} 3\n"
	    "# HELP astra_test_values Edge values.\n"
	    "# TYPE astra_test_values gauge\n"
	    "astra_test_values{case=\"nan\"} NaN\n"
	    "astra_test_values{case=\"+inf\"} +Inf\n"
	    "astra_test_values{case=\"-inf\"} -Inf\n"
	    "astra_test_values{case=\"-0\"} 0\n"
	    "astra_test_values{case=\"1e21\"} 1e+21\n"
	    "astra_test_values{case=\"tenth\"} 0.1\n"
	    "astra_test_values{case=\"big\"} 123456789012345680000\n"
	    "astra_test_values{case=\"tiny\"} 5e-324\n"
	    "astra_test_values{case=\"small\"} 1e-7\n"
	    "astra_test_values{case=\"neg\"} -2.5\n"
	    "astra_test_values 42\n"
	    "# TYPE astra_unused_total counter\n"
	    "# HELP astra_test_raw Written without the last newline.\n"
	    "# TYPE astra_test_raw untyped\n"
	    "astra_test_raw 7\n"
	    "# HELP astra_test_empty Nothing to say.\n"
	    "# TYPE astra_test_empty gauge\n";

	ck_assert_ptr_nonnull (reloads);
	ck_assert_ptr_nonnull (events);
	ck_assert_ptr_nonnull (deliveries);
	astra_metrics_add_collector (metrics, "astra_test_values", "Edge values.", "gauge", edge_values_cb,
				     NULL);
	ck_assert_ptr_nonnull (astra_metrics_counter (metrics, "astra_unused_total", NULL, type_labels));
	astra_metrics_add_collector (metrics, "astra_test_raw", "Written without the last newline.",
				     "untyped", raw_cb, NULL);
	astra_metrics_add_collector (metrics, "astra_test_empty", "Nothing to say.", "gauge", empty_cb, NULL);

	astra_counter_add (events, (const char *const[]){ "alert.triggered" }, G_MAXUINT64 - 1);
	astra_counter_inc (events, (const char *const[]){ "alert.triggered" });
	astra_counter_inc (events, (const char *const[]){ "agent.offline" });
	astra_counter_add (events, (const char *const[]){ "alert.resolved" }, 0);
	astra_counter_add (deliveries, (const char *const[]){ "ops \"team\"", "delivered" }, 3);
	astra_counter_inc (deliveries, (const char *const[]){ "back\\slash\nline", "dead" });
	astra_counter_inc (deliveries, (const char *const[]){ "ops \"team\"", "dead" });
	/* not UTF-8: the exposition must be */
	astra_counter_inc (deliveries, (const char *const[]){ "caf\xe9", "delivered" });

	text = render_text (metrics);
	ck_assert_str_eq (text, expected);
	ck_assert_uint_eq (
	    astra_counter_get_value (deliveries, (const char *const[]){ "ops \"team\"", "delivered" }), 3);
	ck_assert_uint_eq (
	    astra_counter_get_value (deliveries, (const char *const[]){ "nobody", "delivered" }), 0);
	ck_assert_uint_eq (astra_counter_get_value (reloads, NULL), 0);
	/* reading does not make series */
	ck_assert_uint_eq (astra_counter_get_n_series (deliveries), 4);
	ck_assert_uint_eq (astra_counter_get_n_series (reloads), 1);
}
END_TEST

START_TEST (test_append_helpers)
{
	g_autoptr(GString) out = g_string_new (NULL);
	const char *const names[] = { "a", "b", NULL };
	const char *const values[] = { "x\"y", "\\\n", NULL };

	astra_metrics_append_label_value (out, "plain \"quoted\" back\\slash new\nline");
	ck_assert_str_eq (out->str, "plain \\\"quoted\\\" back\\\\slash new\\nline");
	g_string_truncate (out, 0);
	astra_metrics_append_sample (out, "m", names, values, 0.5);
	ck_assert_str_eq (out->str, "m{a=\"x\\\"y\",b=\"\\\\\\n\"} 0.5\n");
	g_string_truncate (out, 0);
	astra_metrics_append_value (out, 1e300);
	g_string_append_c (out, ' ');
	astra_metrics_append_value (out, -1.5e-10);
	g_string_append_c (out, ' ');
	astra_metrics_append_value (out, 9007199254740993.0);
	ck_assert_str_eq (out->str, "1e+300 -1.5e-10 9007199254740992");
}
END_TEST

START_TEST (test_stable_order)
{
	g_autoptr(AstraMetrics) metrics = astra_metrics_new ();
	const char *const labels[] = { "webhook", "outcome", NULL };
	AstraCounter *counter = astra_metrics_counter (metrics, "astra_x_total", "X.", labels);
	g_autofree char *first = NULL;
	g_autofree char *second = NULL;
	g_autofree char *third = NULL;

	astra_counter_inc (counter, (const char *const[]){ "slack", "dead" });
	astra_counter_inc (counter, (const char *const[]){ "discord", "delivered" });
	astra_counter_inc (counter, (const char *const[]){ "slack", "delivered" });
	astra_counter_inc (counter, (const char *const[]){ "Slack", "delivered" });
	first = render_text (metrics);
	ck_assert_str_eq (first, "# HELP astra_x_total X.\n"
				 "# TYPE astra_x_total counter\n"
				 "astra_x_total{webhook=\"Slack\",outcome=\"delivered\"} 1\n"
				 "astra_x_total{webhook=\"discord\",outcome=\"delivered\"} 1\n"
				 "astra_x_total{webhook=\"slack\",outcome=\"dead\"} 1\n"
				 "astra_x_total{webhook=\"slack\",outcome=\"delivered\"} 1\n");
	second = render_text (metrics);
	ck_assert_str_eq (first, second);

	/* a series made after a scrape takes its sorted place in the next */
	astra_counter_inc (counter, (const char *const[]){ "pagerduty", "dead" });
	astra_counter_inc (counter, (const char *const[]){ "discord", "delivered" });
	third = render_text (metrics);
	ck_assert_str_eq (third, "# HELP astra_x_total X.\n"
				 "# TYPE astra_x_total counter\n"
				 "astra_x_total{webhook=\"Slack\",outcome=\"delivered\"} 1\n"
				 "astra_x_total{webhook=\"discord\",outcome=\"delivered\"} 2\n"
				 "astra_x_total{webhook=\"pagerduty\",outcome=\"dead\"} 1\n"
				 "astra_x_total{webhook=\"slack\",outcome=\"dead\"} 1\n"
				 "astra_x_total{webhook=\"slack\",outcome=\"delivered\"} 1\n");
}
END_TEST

/* "a"+"bc" and "ab"+"c" are different series even if their bytes join alike */
START_TEST (test_ambiguous_values)
{
	g_autoptr(AstraMetrics) metrics = astra_metrics_new ();
	const char *const labels[] = { "x", "y", NULL };
	AstraCounter *counter = astra_metrics_counter (metrics, "astra_x_total", NULL, labels);

	astra_counter_inc (counter, (const char *const[]){ "a", "bc" });
	astra_counter_add (counter, (const char *const[]){ "ab", "c" }, 5);
	astra_counter_add (counter, (const char *const[]){ "", "abc" }, 7);
	ck_assert_uint_eq (astra_counter_get_n_series (counter), 3);
	ck_assert_uint_eq (astra_counter_get_value (counter, (const char *const[]){ "a", "bc" }), 1);
	ck_assert_uint_eq (astra_counter_get_value (counter, (const char *const[]){ "ab", "c" }), 5);
	ck_assert_uint_eq (astra_counter_get_value (counter, (const char *const[]){ "", "abc" }), 7);
}
END_TEST

/* the same definition gives the same counter; collectors come and go */
START_TEST (test_registration)
{
	g_autoptr(AstraMetrics) metrics = astra_metrics_new ();
	const char *const labels[] = { "webhook", NULL };
	AstraCounter *counter = astra_metrics_counter (metrics, "astra_x_total", "X.", labels);
	g_autofree char *text = NULL;

	ck_assert_ptr_eq (astra_metrics_counter (metrics, "astra_x_total", "Other help.", labels), counter);
	astra_metrics_add_collector (metrics, "astra_a", "A.", "gauge", raw_cb, NULL);
	astra_metrics_add_collector (metrics, "astra_b", "B.", "gauge", raw_cb, NULL);
	ck_assert (astra_metrics_remove_collector (metrics, "astra_a"));
	ck_assert (!astra_metrics_remove_collector (metrics, "astra_a"));
	/* counters stay */
	ck_assert (!astra_metrics_remove_collector (metrics, "astra_x_total"));
	astra_metrics_add_collector (metrics, "astra_a", "A again.", "gauge", raw_cb, NULL);
	text = render_text (metrics);
	ck_assert_str_eq (text, "# HELP astra_x_total X.\n"
				"# TYPE astra_x_total counter\n"
				"# HELP astra_b B.\n"
				"# TYPE astra_b gauge\n"
				"astra_b 7\n"
				"# HELP astra_a A again.\n"
				"# TYPE astra_a gauge\n"
				"astra_a 7\n");
}
END_TEST

/* the overflow warnings logged (counted, not shown) */
static guint n_overflow_warnings;

static GLogWriterOutput
count_warnings_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
	for (gsize i = 0; i < n_fields; i++) {
		if (g_strcmp0 (fields[i].key, "MESSAGE") == 0 && fields[i].length < 0 &&
		    strstr (fields[i].value, ASTRA_METRICS_OVERFLOW_VALUE) != NULL) {
			n_overflow_warnings++;
			return G_LOG_WRITER_HANDLED;
		}
	}
	return g_log_writer_default (level, fields, n_fields, user_data);
}

START_TEST (test_series_bound)
{
	g_autoptr(AstraMetrics) metrics = astra_metrics_new ();
	const char *const labels[] = { "webhook", "outcome", NULL };
	AstraCounter *early = astra_metrics_counter (metrics, "astra_early_total", NULL, labels);
	AstraCounter *counter;
	AstraCounterSeries *overflow;
	g_autofree char *text = NULL;

	astra_metrics_set_max_series (metrics, 3);
	counter = astra_metrics_counter (metrics, "astra_x_total", NULL, labels);
	n_overflow_warnings = 0;
	for (guint i = 0; i < 10; i++) {
		char name[16];

		g_snprintf (name, sizeof (name), "hook-%u", i);
		astra_counter_inc (counter, (const char *const[]){ name, "delivered" });
		/* a series made before the bound stays its own */
		astra_counter_inc (counter, (const char *const[]){ "hook-0", "delivered" });
	}
	/* three series and the overflow one */
	ck_assert_uint_eq (astra_counter_get_n_series (counter), 4);
	ck_assert_uint_eq (n_overflow_warnings, 1);
	ck_assert_uint_eq (astra_counter_get_value (counter, (const char *const[]){ "hook-0", "delivered" }),
			   11);
	ck_assert_uint_eq (astra_counter_get_value (counter, (const char *const[]){ "hook-2", "delivered" }),
			   1);
	ck_assert_uint_eq (astra_counter_get_value (counter, (const char *const[]){ "hook-3", "delivered" }),
			   0);
	overflow = astra_counter_get_series (counter, (const char *const[]){ "hook-77", "dead" });
	ck_assert_ptr_eq (overflow, astra_counter_get_series (
					counter, (const char *const[]){ ASTRA_METRICS_OVERFLOW_VALUE,
									ASTRA_METRICS_OVERFLOW_VALUE }));
	ck_assert_uint_eq (
	    astra_counter_get_value (
		counter, (const char *const[]){ ASTRA_METRICS_OVERFLOW_VALUE, ASTRA_METRICS_OVERFLOW_VALUE }),
	    7);
	text = render_text (metrics);
	astra_assert_contains (text, "astra_x_total{webhook=\"__overflow__\",outcome=\"__overflow__\"} 7\n");

	/* the bound applies to families registered before it was set */
	for (guint i = 0; i < 5; i++) {
		char name[16];

		g_snprintf (name, sizeof (name), "hook-%u", i);
		astra_counter_inc (early, (const char *const[]){ name, "dead" });
	}
	ck_assert_uint_eq (astra_counter_get_n_series (early), 4);
	ck_assert_uint_eq (n_overflow_warnings, 2);
}
END_TEST

/* the default bound is generous, and a full family stays cheap */
START_TEST (test_default_bound)
{
	g_autoptr(AstraMetrics) metrics = astra_metrics_new ();
	const char *const labels[] = { "id", NULL };
	AstraCounter *counter = astra_metrics_counter (metrics, "astra_x_total", NULL, labels);
	g_autoptr(GBytes) bytes = NULL;

	n_overflow_warnings = 0;
	for (guint i = 0; i < ASTRA_METRICS_DEFAULT_MAX_SERIES + 500; i++) {
		char id[16];

		g_snprintf (id, sizeof (id), "%u", i);
		astra_counter_inc (counter, (const char *const[]){ id });
	}
	ck_assert_uint_eq (astra_counter_get_n_series (counter), ASTRA_METRICS_DEFAULT_MAX_SERIES + 1);
	ck_assert_uint_eq (
	    astra_counter_get_value (counter, (const char *const[]){ ASTRA_METRICS_OVERFLOW_VALUE }), 500);
	ck_assert_uint_eq (n_overflow_warnings, 1);
	bytes = astra_metrics_render (metrics);
	ck_assert_uint_gt (g_bytes_get_size (bytes), ASTRA_METRICS_DEFAULT_MAX_SERIES * 20);
}
END_TEST

START_TEST (test_hot_path)
{
	g_autoptr(AstraMetrics) metrics = astra_metrics_new ();
	const char *const labels[] = { "webhook", "outcome", NULL };
	AstraCounter *counter = astra_metrics_counter (metrics, "astra_x_total", NULL, labels);
	AstraCounter *plain = astra_metrics_counter (metrics, "astra_plain_total", NULL, NULL);
	AstraCounterSeries *series;
	char webhook[32];
	guint n_series;
	gboolean counted = FALSE;

	/* a lookup with equal values in other buffers finds the same series */
	series = astra_counter_get_series (counter, (const char *const[]){ "slack", "delivered" });
	g_strlcpy (webhook, "slack", sizeof (webhook));
	ck_assert_ptr_eq (astra_counter_get_series (counter, (const char *const[]){ webhook, "delivered" }),
			  series);
	ck_assert_ptr_ne (astra_counter_get_series (counter, (const char *const[]){ webhook, "dead" }),
			  series);
	ck_assert_ptr_eq (astra_counter_get_series (plain, NULL), astra_counter_get_series (plain, NULL));
	n_series = astra_counter_get_n_series (counter);

	/* the interposed malloc counts, unless this build has none or another replaced it (valgrind) */
	counting_allocations = TRUE;
	g_free (g_strdup ("x"));
	counting_allocations = FALSE;
	counted = n_allocations == 1;
	n_allocations = 0;

	counting_allocations = TRUE;
	for (guint i = 0; i < 10000; i++) {
		astra_counter_inc (counter,
				   (const char *const[]){ webhook, i % 2 == 0 ? "delivered" : "dead" });
		astra_counter_add (plain, NULL, 2);
		astra_counter_series_add (series, 1);
	}
	counting_allocations = FALSE;
	if (counted)
		ck_assert_uint_eq (n_allocations, 0);
	else
		g_printerr ("metrics: allocations are not counted in this build\n");
	ck_assert_uint_eq (astra_counter_get_n_series (counter), n_series);
	ck_assert_uint_eq (astra_counter_get_value (counter, (const char *const[]){ "slack", "delivered" }),
			   15000);
	ck_assert_uint_eq (astra_counter_get_value (counter, (const char *const[]){ "slack", "dead" }), 5000);
	ck_assert_uint_eq (astra_counter_get_value (plain, NULL), 20000);
}
END_TEST

static GHashTable *
parse_samples (const char *text)
{
	g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
	GHashTable *samples = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

	for (guint i = 0; lines[i] != NULL; i++) {
		char *space = strrchr (lines[i], ' ');
		double *value;

		if (lines[i][0] == '#' || space == NULL)
			continue;
		value = g_new (double, 1);
		*value = g_ascii_strtod (space + 1, NULL);
		g_hash_table_insert (samples, g_strndup (lines[i], space - lines[i]), value);
	}
	return samples;
}

static double
get_sample (GHashTable *samples, const char *name)
{
	double *value = g_hash_table_lookup (samples, name);

	ck_assert_msg (value != NULL, "no sample %s", name);
	return *value;
}

START_TEST (test_process)
{
	g_autoptr(AstraMetrics) metrics = astra_metrics_new ();
	g_autofree char *text = NULL;
	g_autofree char *after = NULL;
	g_autofree char *status = NULL;
	g_autoptr(GHashTable) samples = NULL;
	g_autoptr(GHashTable) later = NULL;
	const char *vm_rss;
	double rss, fds, start, now = (double) g_get_real_time () / G_USEC_PER_SEC;
	gint64 busy_until;
	volatile guint64 spin = 0;
	int extra[2];

	astra_metrics_add_process_collectors (metrics);
	text = render_text (metrics);
	astra_assert_contains (text, "# TYPE process_cpu_seconds_total counter\n");
	astra_assert_contains (text, "# TYPE process_resident_memory_bytes gauge\n");
	astra_assert_contains (text, "# TYPE process_start_time_seconds gauge\n");
	samples = parse_samples (text);

	/* RSS as /proc/self/status says within a few MiB, the render having grown little */
	rss = get_sample (samples, "process_resident_memory_bytes");
	ck_assert (g_file_get_contents ("/proc/self/status", &status, NULL, NULL));
	vm_rss = strstr (status, "\nVmRSS:");
	ck_assert_ptr_nonnull (vm_rss);
	ck_assert_double_le (fabs (rss - g_ascii_strtod (vm_rss + strlen ("\nVmRSS:"), NULL) * 1024),
			     8 << 20);
	ck_assert_double_gt (rss, 1 << 20);
	ck_assert_double_ge (get_sample (samples, "process_virtual_memory_bytes"), rss);

	fds = get_sample (samples, "process_open_fds");
	ck_assert_double_ge (fds, 3);
	ck_assert_double_gt (get_sample (samples, "process_max_fds"), fds);

	start = get_sample (samples, "process_start_time_seconds");
	ck_assert_double_le (start, now + 1);
	ck_assert_double_gt (start, now - 600);
	ck_assert_double_ge (get_sample (samples, "process_cpu_seconds_total"), 0);

	/* two more fds and some CPU show in the next scrape */
	ck_assert_int_eq (pipe (extra), 0);
	busy_until = g_get_monotonic_time () + 30 * 1000;
	while (g_get_monotonic_time () < busy_until)
		spin++;
	after = render_text (metrics);
	later = parse_samples (after);
	ck_assert_double_eq (get_sample (later, "process_open_fds"), fds + 2);
	ck_assert_double_gt (get_sample (later, "process_cpu_seconds_total"),
			     get_sample (samples, "process_cpu_seconds_total"));
	ck_assert_double_eq (get_sample (later, "process_start_time_seconds"), start);
	close (extra[0]);
	close (extra[1]);
}
END_TEST

/* GET /metrics through a loopback server, as the daemon's HTTP server will route it */

static void
metrics_server_cb (
    SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer user_data)
{
	astra_metrics_handle (ASTRA_METRICS (user_data), msg);
}

typedef struct {
	GBytes *body;
	GError *error;
	gboolean done;
} Fetch;

static void
fetch_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
	Fetch *state = user_data;

	state->body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &state->error);
	state->done = TRUE;
}

static char *
fetch_body (SoupSession *session, SoupMessage *msg)
{
	Fetch result = { 0 };
	gsize len = 0;
	const char *data;
	char *text;

	soup_session_send_and_read_async (session, msg, G_PRIORITY_DEFAULT, NULL, fetch_cb, &result);
	while (!result.done)
		g_main_context_iteration (NULL, TRUE);
	astra_assert_no_error (result.error);
	data = g_bytes_get_data (result.body, &len);
	text = g_strndup (data != NULL ? data : "", len);
	g_bytes_unref (result.body);
	return text;
}

START_TEST (test_http)
{
	g_autoptr(AstraMetrics) metrics = astra_metrics_new ();
	g_autoptr(SoupServer) server = soup_server_new (NULL, NULL);
	g_autoptr(SoupSession) session =
		       soup_session_new_with_options ("timeout", 10, "proxy-resolver", NULL, NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(SoupMessage) get = NULL;
	g_autoptr(SoupMessage) head = NULL;
	g_autoptr(SoupMessage) post = NULL;
	g_autofree char *uri = NULL;
	g_autofree char *body = NULL;
	g_autofree char *expected = NULL;
	GSList *uris;
	AstraCounter *counter = astra_metrics_counter (metrics, "astra_x_total", "X.", NULL);

	astra_counter_add (counter, NULL, 5);
	soup_server_add_handler (server, "/metrics", metrics_server_cb, metrics, NULL);
	ck_assert (soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error));
	astra_assert_no_error (error);
	uris = soup_server_get_uris (server);
	ck_assert_ptr_nonnull (uris);
	uri = g_strdup_printf ("http://127.0.0.1:%d/metrics", g_uri_get_port (uris->data));
	g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

	get = soup_message_new ("GET", uri);
	body = fetch_body (session, get);
	expected = render_text (metrics);
	ck_assert_uint_eq (soup_message_get_status (get), 200);
	ck_assert_str_eq (
	    soup_message_headers_get_one (soup_message_get_response_headers (get), "Content-Type"),
	    "text/plain; version=0.0.4; charset=utf-8");
	ck_assert_str_eq (body, expected);
	ck_assert_str_eq (body, "# HELP astra_x_total X.\n# TYPE astra_x_total counter\nastra_x_total 5\n");
	g_clear_pointer (&body, g_free);

	head = soup_message_new ("HEAD", uri);
	body = fetch_body (session, head);
	ck_assert_uint_eq (soup_message_get_status (head), 200);
	ck_assert_str_eq (body, "");
	g_clear_pointer (&body, g_free);

	post = soup_message_new ("POST", uri);
	body = fetch_body (session, post);
	ck_assert_uint_eq (soup_message_get_status (post), 405);
	ck_assert_str_eq (soup_message_headers_get_one (soup_message_get_response_headers (post), "Allow"),
			  "GET, HEAD");
	astra_assert_contains (body, "use GET");

	/* let the connections close before the objects go */
	soup_session_abort (session);
	soup_server_disconnect (server);
	while (g_main_context_iteration (NULL, FALSE))
		;
}
END_TEST

/*
 * data/prometheus/astra-alertd.rules.yml, checked line by line (no YAML
 * parser here): the shape of a Prometheus rule file, each alert complete,
 * brackets balanced, and only the metrics the daemon serves. The PromQL
 * itself was checked with Prometheus' own grammar when the file was written.
 */

static const char *const rules_metrics[] = {
	"astra_delivery_queue_depth",
	"astra_delivery_oldest_pending_seconds",
	"astra_webhook_circuit_state",
	"astra_webhook_enabled",
	"astra_deliveries_total",
	"astra_delivery_attempts_total",
	"astra_http_requests_total",
	"astra_ingest_samples_rejected_total",
	"process_open_fds",
	"process_max_fds",
	"process_start_time_seconds",
};

static void
check_alert_block (const char *name, const char *block)
{
	static const char *const needed[] = { "\n        expr: ",        "\n        labels:\n",
					      "\n          severity: ",  "\n        annotations:\n",
					      "\n          summary: \"", "\n          description: \"" };
	gint parens = 0, brackets = 0, braces = 0;

	for (guint i = 0; i < G_N_ELEMENTS (needed); i++)
		ck_assert_msg (strstr (block, needed[i]) != NULL, "alert %s lacks:%s", name, needed[i]);
	for (const char *p = block; *p != '\0'; p++) {
		parens += *p == '(' ? 1 : *p == ')' ? -1 : 0;
		brackets += *p == '[' ? 1 : *p == ']' ? -1 : 0;
		braces += *p == '{' ? 1 : *p == '}' ? -1 : 0;
		ck_assert_msg (parens >= 0 && brackets >= 0 && braces >= 0, "alert %s: unbalanced brackets",
			       name);
	}
	ck_assert_msg (parens == 0 && brackets == 0 && braces == 0, "alert %s: unbalanced brackets", name);
}

START_TEST (test_rules_file)
{
	g_autofree char *text = astra_check_read_source_file ("data/prometheus/astra-alertd.rules.yml");
	g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
	g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GHashTable) used = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GRegex) metric_re = g_regex_new ("\\b(?:astra|process)_[a-z_]+", 0, 0, NULL);
	g_autoptr(GString) block = g_string_new (NULL);
	g_autofree char *alert = NULL;
	g_autofree char *severity = NULL;
	g_autoptr(GMatchInfo) match = NULL;
	gboolean groups = FALSE;
	guint n_alerts = 0;

	ck_assert (g_utf8_validate (text, -1, NULL));
	ck_assert (g_str_has_suffix (text, "\n"));
	astra_assert_not_contains (text, "\t");
	astra_assert_not_contains (text, "\r");
	for (guint i = 0; lines[i] != NULL; i++) {
		const char *line = lines[i];
		gsize indent = strspn (line, " ");

		ck_assert_msg (!g_str_has_suffix (line, " "), "line %u ends in a space", i + 1);
		if (line[0] == '#' || line[0] == '\0')
			continue;
		ck_assert_msg (indent % 2 == 0, "line %u: odd indentation", i + 1);
		if (!groups) {
			ck_assert_str_eq (line, "groups:");
			ck_assert_str_eq (lines[i + 1], "  - name: astra-alertd");
			ck_assert_str_eq (lines[i + 2], "    rules:");
			groups = TRUE;
			i += 2;
			continue;
		}
		if (g_str_has_prefix (line, "      - alert: ")) {
			if (alert != NULL)
				check_alert_block (alert, block->str);
			g_free (alert);
			alert = g_strdup (line + strlen ("      - alert: "));
			ck_assert_msg (g_regex_match_simple ("^Astra[A-Z][A-Za-z]+$", alert, 0, 0),
				       "alert name %s", alert);
			g_string_truncate (block, 0);
			n_alerts++;
			continue;
		}
		ck_assert_msg (alert != NULL && indent >= 8, "line %u is outside an alert", i + 1);
		g_string_append_printf (block, "\n%s", line);
		if (g_str_has_prefix (line, "          severity: ")) {
			g_free (severity);
			severity = g_strdup (line + strlen ("          severity: "));
			ck_assert_msg (
			    g_strv_contains ((const char *const[]){ "critical", "warning", "info", NULL },
					     severity),
			    "alert %s: severity %s", alert, severity);
			/* an alert may come twice, at two severities */
			ck_assert_msg (g_hash_table_add (seen, g_strdup_printf ("%s/%s", alert, severity)),
				       "alert %s twice at severity %s", alert, severity);
		}
		if (g_str_has_prefix (line, "        for: "))
			ck_assert_msg (
			    g_regex_match_simple ("^[0-9]+[smh]$", line + strlen ("        for: "), 0, 0),
			    "line %u: a duration", i + 1);
	}
	ck_assert_ptr_nonnull (alert);
	check_alert_block (alert, block->str);

	/* every failure the issue names has its alert */
	for (guint i = 0; i < 7; i++) {
		static const char *const names[] = { "AstraAlertdDown",
						     "AstraDeliveryQueueGrowing",
						     "AstraDeliveryOldestPendingTooOld",
						     "AstraWebhookCircuitOpen",
						     "AstraDeadLettersRising",
						     "AstraDeliveriesFailing",
						     "AstraIngestRejects" };
		g_autofree char *key = g_strdup_printf ("\n      - alert: %s\n", names[i]);
		astra_assert_contains (text, key);
	}
	ck_assert_uint_ge (n_alerts, 7);

	/* the metrics named, outside comments, are those the daemon serves */
	for (guint i = 0; lines[i] != NULL; i++) {
		if (lines[i][0] == '#')
			continue;
		g_regex_match (metric_re, lines[i], 0, &match);
		while (g_match_info_matches (match)) {
			g_autofree char *name = g_match_info_fetch (match, 0);
			ck_assert_msg (g_strv_contains (rules_metrics, name), "line %u: unknown metric %s",
				       i + 1, name);
			g_hash_table_add (used, g_steal_pointer (&name));
			g_match_info_next (match, NULL);
		}
		g_clear_pointer (&match, g_match_info_unref);
	}
	ck_assert_uint_eq (g_hash_table_size (used), G_N_ELEMENTS (rules_metrics));
}
END_TEST

/* figures only: what astra_counter_inc() costs on the machine at hand */
START_TEST (test_timing)
{
	g_autoptr(AstraMetrics) metrics = astra_metrics_new ();
	const char *const labels[] = { "webhook", "outcome", NULL };
	AstraCounter *counter = astra_metrics_counter (metrics, "astra_x_total", NULL, labels);
	AstraCounter *plain = astra_metrics_counter (metrics, "astra_plain_total", NULL, NULL);
	AstraCounterSeries *series;
	const guint n = 2000000;
	const char *outcomes[] = { "delivered", "retry", "failed", "gone" };
	char webhooks[32][32];
	gint64 start;
	double labelled, unlabelled, direct;

	for (guint i = 0; i < G_N_ELEMENTS (webhooks); i++)
		g_snprintf (webhooks[i], sizeof (webhooks[i]), "webhook-number-%u", i);
	for (guint i = 0; i < G_N_ELEMENTS (webhooks); i++) {
		for (guint j = 0; j < G_N_ELEMENTS (outcomes); j++)
			astra_counter_inc (counter, (const char *const[]){ webhooks[i], outcomes[j] });
	}
	start = g_get_monotonic_time ();
	for (guint i = 0; i < n; i++)
		astra_counter_inc (counter,
				   (const char *const[]){ webhooks[i % 32], outcomes[(i / 32) % 4] });
	labelled = (double) (g_get_monotonic_time () - start) * 1000 / n;
	start = g_get_monotonic_time ();
	for (guint i = 0; i < n; i++)
		astra_counter_inc (plain, NULL);
	unlabelled = (double) (g_get_monotonic_time () - start) * 1000 / n;
	series = astra_counter_get_series (counter, (const char *const[]){ webhooks[0], outcomes[0] });
	start = g_get_monotonic_time ();
	for (guint i = 0; i < n; i++)
		astra_counter_series_add (series, 1);
	direct = (double) (g_get_monotonic_time () - start) * 1000 / n;
	ck_assert_uint_eq (astra_counter_get_value (plain, NULL), n);
	g_printerr ("metrics: astra_counter_inc %.1f ns with 2 labels (128 series), %.1f ns without labels, "
		    "%.1f ns on a kept series\n",
		    labelled, unlabelled, direct);
}
END_TEST

int
main (void)
{
	Suite *s = suite_create ("metrics");
	TCase *tc = tcase_create ("metrics");
	TCase *tc_timing = tcase_create ("timing");

	g_log_set_writer_func (count_warnings_writer, NULL, NULL);
	tcase_add_test (tc, test_exposition);
	tcase_add_test (tc, test_append_helpers);
	tcase_add_test (tc, test_stable_order);
	tcase_add_test (tc, test_ambiguous_values);
	tcase_add_test (tc, test_registration);
	tcase_add_test (tc, test_series_bound);
	tcase_add_test (tc, test_default_bound);
	tcase_add_test (tc, test_hot_path);
	tcase_add_test (tc, test_process);
	tcase_add_test (tc, test_http);
	tcase_add_test (tc, test_rules_file);
	suite_add_tcase (s, tc);
	tcase_add_test (tc_timing, test_timing);
	suite_add_tcase (s, tc_timing);
	return astra_check_run_suite (s);
}
