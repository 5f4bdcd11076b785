/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The evaluator's throughput: 10,000 rules (1,000 metrics x 10 rules with
 * matchers on labels) over 100,000 series (100 per metric), samples pushed
 * round-robin on one core with a fake clock (each series gets a sample
 * every 10 s of fake time). Prints samples/s, ns/sample, bytes per series
 * and the time to parse the rules and build the per-series caches.
 *
 *   bench-rules [ROUNDS]   (default 100 rounds of 100,000 samples)
 *
 * The rules of a metric: five with an exact region matcher and `last`
 * (warning/critical, no-data 10m), each series fitting one of them; five
 * with a host glob and a windowed aggregate over 5m (avg, max, p95, rate,
 * sum), fitting half the series between them. So a sample costs 1.5
 * evaluations on average. 1% of the series run hot and fire (and stay
 * firing); the others never trip: the steady path.
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "astra-rule-engine.h"

#define BENCH_METRICS 1000
#define BENCH_RULES_PER_METRIC 10
#define BENCH_SERIES_PER_METRIC 100
#define BENCH_N_SERIES (BENCH_METRICS * BENCH_SERIES_PER_METRIC)
#define BENCH_ROUND_US (10 * G_TIME_SPAN_SECOND)
#define BENCH_T0_US (G_GINT64_CONSTANT (1765965000) * G_TIME_SPAN_SECOND)

static guint64 bench_events = 0;

static void
bench_sink_cb (AstraEvent *event, const char *const *webhooks, gpointer user_data)
{
	bench_events++;
}

static double
bench_cpu_seconds (void)
{
	struct timespec ts;

	clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static double
bench_wall_seconds (void)
{
	return (double) g_get_monotonic_time () / 1e6;
}

/* resident set size in bytes */
static gsize
bench_rss (void)
{
	g_autofree char *text = NULL;
	unsigned long size = 0;
	unsigned long resident = 0;

	if (!g_file_get_contents ("/proc/self/statm", &text, NULL, NULL) ||
	    sscanf (text, "%lu %lu", &size, &resident) != 2)
		return 0;
	return (gsize) resident * (gsize) sysconf (_SC_PAGESIZE);
}

static char *
bench_rules_text (void)
{
	static const char *const aggregates[] = { "avg 5m", "max 5m", "p95 5m", "rate 5m", "sum 5m" };
	GString *text = g_string_sized_new (BENCH_METRICS * BENCH_RULES_PER_METRIC * 120);

	for (guint m = 0; m < BENCH_METRICS; m++) {
		for (guint r = 0; r < 5; r++) {
			g_string_append_printf (
			    text,
			    "[rule m%04u-region-%u]\nmetric = metric_%04u\nmatch = region=r%u\n"
			    "warning = > 90\ncritical = > 99\nclear = < 80\nno-data = 10m\n"
			    "summary = {metric} on {host} is {value}\n",
			    m, r, m, r);
		}
		for (guint r = 0; r < 5; r++) {
			g_string_append_printf (
			    text,
			    "[rule m%04u-host-%u]\nmetric = metric_%04u\nmatch = host=h-%u*, env!=test\n"
			    "aggregate = %s\nwarning = > 1000000\nfor = 1m\n",
			    m, r, m, r, aggregates[r]);
		}
	}
	return g_string_free (text, FALSE);
}

int
main (int argc, char **argv)
{
	g_autoptr(AstraClock) clock = astra_clock_new_fake (BENCH_T0_US);
	g_autoptr(AstraSeriesStore) store = astra_series_store_new ();
	g_autoptr(AstraRuleEngine) engine = NULL;
	g_autoptr(AstraRuleSet) rules = NULL;
	g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func (g_free);
	g_autofree char *text = bench_rules_text ();
	g_autofree AstraSeries **series = g_new0 (AstraSeries *, BENCH_N_SERIES);
	g_autofree double *values = g_new0 (double, BENCH_N_SERIES);
	guint rounds = argc > 1 ? (guint) g_ascii_strtoull (argv[1], NULL, 10) : 100;
	gsize rss_start;
	gsize rss_series;
	gsize rss_caches;
	gsize rss_end;
	double t0;
	double t1;
	double w0;
	double w1;
	guint64 n_samples;
	guint64 n_evaluations;
	guint64 n;

	if (rounds == 0)
		rounds = 100;
	rss_start = bench_rss ();

	/* the rules */
	t0 = bench_cpu_seconds ();
	rules = astra_rule_set_new ();
	astra_rule_set_add_file (rules, "bench.rules", text, NULL, errors);
	t1 = bench_cpu_seconds ();
	if (errors->len > 0) {
		g_printerr ("the rules do not parse: %s\n", (const char *) g_ptr_array_index (errors, 0));
		return EXIT_FAILURE;
	}
	g_print ("rules:               %u rules for %u metrics, parsed in %.1f ms\n",
		 astra_rule_set_get_rules (rules)->len, BENCH_METRICS, (t1 - t0) * 1e3);

	/* the series, interned once (what ingest does on the first sample of each) */
	t0 = bench_cpu_seconds ();
	for (guint i = 0; i < BENCH_N_SERIES; i++) {
		guint m = i / BENCH_SERIES_PER_METRIC;
		guint h = i % BENCH_SERIES_PER_METRIC;
		char metric[32];
		char host[16];
		char region[8];
		char agent[16];
		AstraLabel labels[4] = {
			{ "host", host }, { "region", region }, { "agent_id", agent }, { "env", "prod" }
		};

		g_snprintf (metric, sizeof (metric), "metric_%04u", m);
		g_snprintf (host, sizeof (host), "h-%02u", h);
		g_snprintf (region, sizeof (region), "r%u", h % 5);
		g_snprintf (agent, sizeof (agent), "agent-%02u", h);
		series[i] = astra_series_store_lookup (store, metric, labels, G_N_ELEMENTS (labels), NULL);
		g_assert (series[i] != NULL);
		/* 1% run hot (above critical: they fire once and stay firing), the rest near 50 */
		values[i] = i % 100 == 7 ? 150 : 50;
	}
	t1 = bench_cpu_seconds ();
	rss_series = bench_rss ();
	g_print ("series:              %u interned in %.1f ms; store: %" G_GSIZE_FORMAT
		 " bytes/series (own count), "
		 "%.0f bytes/series (RSS)\n",
		 astra_series_store_get_size (store), (t1 - t0) * 1e3,
		 astra_series_store_get_memory_size (store),
		 (double) (rss_series - rss_start) / BENCH_N_SERIES);

	/* the caches: which rules fit each series, built for every series at once */
	engine = astra_rule_engine_new (clock, store, NULL, bench_sink_cb, NULL);
	t0 = bench_cpu_seconds ();
	astra_rule_engine_set_rules (engine, rules);
	t1 = bench_cpu_seconds ();
	rss_caches = bench_rss ();
	g_print (
	    "caches:              built for %u series in %.1f ms (%.0f ns/series), %.0f bytes/series (RSS)\n",
	    BENCH_N_SERIES, (t1 - t0) * 1e3, (t1 - t0) * 1e9 / BENCH_N_SERIES,
	    (double) (rss_caches - rss_series) / BENCH_N_SERIES);

	/* a reload with the same rules: every series' cache rebuilt, state kept */
	t0 = bench_cpu_seconds ();
	astra_rule_engine_set_rules (engine, rules);
	t1 = bench_cpu_seconds ();
	g_print ("reload:              same rules, caches rebuilt in %.1f ms\n", (t1 - t0) * 1e3);

	/* a first round grows the windows to their steady size; then the measurement */
	for (guint round = 0; round < 31; round++) {
		astra_clock_advance (clock, BENCH_ROUND_US);
		for (guint i = 0; i < BENCH_N_SERIES; i++)
			astra_rule_engine_push (engine, series[i], values[i] + (round & 3), 0);
	}
	n_evaluations = astra_rule_engine_get_n_evaluations (engine);
	t0 = bench_cpu_seconds ();
	w0 = bench_wall_seconds ();
	for (guint round = 0; round < rounds; round++) {
		astra_clock_advance (clock, BENCH_ROUND_US);
		for (guint i = 0; i < BENCH_N_SERIES; i++)
			astra_rule_engine_push (engine, series[i], values[i] + (round & 3), 0);
	}
	t1 = bench_cpu_seconds ();
	w1 = bench_wall_seconds ();
	rss_end = bench_rss ();
	n_samples = (guint64) rounds * BENCH_N_SERIES;
	n_evaluations = astra_rule_engine_get_n_evaluations (engine) - n_evaluations;

	g_print ("evaluation:          %" G_GUINT64_FORMAT " samples in %.2f s CPU (%.2f s wall), "
		 "%.2f evaluations/sample\n",
		 n_samples, t1 - t0, w1 - w0, (double) n_evaluations / (double) n_samples);
	g_print ("rate:                %.2f million samples/s, %.1f ns/sample, %.1f ns/evaluation\n",
		 (double) n_samples / (t1 - t0) / 1e6, (t1 - t0) * 1e9 / (double) n_samples,
		 (t1 - t0) * 1e9 / (double) n_evaluations);
	g_print ("alerts:              %u firing, %" G_GUINT64_FORMAT " events sent\n",
		 astra_rule_engine_get_n_firing (engine), bench_events);
	g_print ("memory:              engine %.0f bytes/series (own count, windows of ~30 samples), "
		 "%.0f bytes/series (RSS, caches and windows); store + engine %.0f bytes/series (RSS)\n",
		 (double) astra_rule_engine_get_memory_size (engine) / BENCH_N_SERIES,
		 (double) (rss_end - rss_series) / BENCH_N_SERIES,
		 (double) (rss_end - rss_start) / BENCH_N_SERIES);

	/* the same in a random order: every sample a cache miss or several */
	{
		g_autoptr(GRand) rand = g_rand_new_with_seed (1);
		g_autofree guint *order = g_new (guint, BENCH_N_SERIES);
		guint n_rounds = MAX (rounds / 4, 1);

		for (guint i = 0; i < BENCH_N_SERIES; i++)
			order[i] = i;
		for (guint i = BENCH_N_SERIES - 1; i > 0; i--) {
			guint j = (guint) g_rand_int_range (rand, 0, (gint32) i + 1);
			guint tmp = order[i];
			order[i] = order[j];
			order[j] = tmp;
		}
		t0 = bench_cpu_seconds ();
		for (guint round = 0; round < n_rounds; round++) {
			astra_clock_advance (clock, BENCH_ROUND_US);
			for (guint i = 0; i < BENCH_N_SERIES; i++)
				astra_rule_engine_push (engine, series[order[i]],
							values[order[i]] + (round & 3), 0);
		}
		t1 = bench_cpu_seconds ();
		n = (guint64) n_rounds * BENCH_N_SERIES;
		g_print ("shuffled order:      %.2f million samples/s, %.1f ns/sample\n",
			 (double) n / (t1 - t0) / 1e6, (t1 - t0) * 1e9 / (double) n);
	}

	/* the ingest path: series found by metric and labels each time, then evaluated */
	{
		char metric[32];
		char host[16];
		char region[8];
		char agent[16];
		AstraLabel labels[4] = {
			{ "agent_id", agent }, { "env", "prod" }, { "host", host }, { "region", region }
		};
		n = BENCH_N_SERIES * 10;
		t0 = bench_cpu_seconds ();
		for (guint k = 0; k < n; k++) {
			guint i = k % BENCH_N_SERIES;
			guint h = i % BENCH_SERIES_PER_METRIC;
			AstraSeries *s;

			if (i == 0)
				astra_clock_advance (clock, BENCH_ROUND_US);
			g_snprintf (metric, sizeof (metric), "metric_%04u", i / BENCH_SERIES_PER_METRIC);
			g_snprintf (host, sizeof (host), "h-%02u", h);
			g_snprintf (region, sizeof (region), "r%u", h % 5);
			g_snprintf (agent, sizeof (agent), "agent-%02u", h);
			s = astra_series_store_lookup (store, metric, labels, G_N_ELEMENTS (labels), NULL);
			astra_rule_engine_push (engine, s, values[i], 0);
		}
		t1 = bench_cpu_seconds ();
		g_print ("with series lookup:  %.2f million samples/s, %.1f ns/sample (formatting the names "
			 "included)\n",
			 (double) n / (t1 - t0) / 1e6, (t1 - t0) * 1e9 / (double) n);
	}
	return EXIT_SUCCESS;
}
