/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * collectd write_http JSON (POST /collectd): astra_collectd_parse(). Samples
 * are recorded as text, "metric{label=value,...} value timestamp_us", labels
 * in the order given, values as JavaScript prints them.
 */

#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "astra-check-common.h"
#include "astra-check-samples.h"
#include "astra-collectd.h"

/* what value lists without a time get: 2025-12-17T19:33:20Z */
#define NOW G_GINT64_CONSTANT (1766000000000000)

/* a good value list, to put around bad ones */
#define GOOD_LIST                                                                                            \
	"{\"values\":[1],\"dstypes\":[\"gauge\"],\"dsnames\":[\"value\"],\"time\":1700000000,\"interval\":"  \
	"10,"                                                                                                \
	"\"host\":\"h\",\"plugin\":\"p\",\"plugin_instance\":\"\",\"type\":\"t\",\"type_instance\":\"\"}"
#define GOOD_SAMPLE "p_t{host=h} 1 1700000000000000\n"

/* parses @body; the recorded samples, to free */
static char *
parse_full (const char *body, gsize len, AstraCheckRecorder *rec, AstraIngestStats *stats, GError **error)
{
	gboolean ok;

	rec->out = g_string_new (NULL);
	ok = astra_collectd_parse (body, len, NOW, astra_check_recorder_sink, rec, stats, error);
	ck_assert_int_eq (ok, *error == NULL);
	ck_assert_uint_eq (stats->n_samples + stats->n_rejected, rec->n_calls);
	if (ok)
		ck_assert_uint_eq (stats->first_bad_line, 0);
	return g_string_free (rec->out, FALSE);
}

static char *
parse_good (const char *body, AstraIngestStats *stats)
{
	g_autoptr(GError) error = NULL;
	AstraIngestStats stats_local = { 0 };
	AstraCheckRecorder rec = { 0 };
	char *out = parse_full (body, strlen (body), &rec, stats != NULL ? stats : &stats_local, &error);

	ck_assert_msg (error == NULL, "%s: %s", body, error != NULL ? error->message : "");
	return out;
}

START_TEST (test_write_http_payload)
{
	g_autofree char *path =
	    astra_check_source_path ("tests", "fixtures", "collectd", "write-http.json", NULL);
	gsize len = 0;
	g_autofree char *body = astra_check_read_file (path, &len);
	g_autoptr(GError) error = NULL;
	AstraIngestStats stats = { 0 };
	AstraCheckRecorder rec = { 0 };
	g_autofree char *samples = parse_full (body, len, &rec, &stats, &error);

	astra_assert_no_error (error);
	ck_assert_str_eq (
	    samples,
	    "cpu_percent{host=web-1,plugin_instance=0,type_instance=user} 0.501253132832081 "
	    "1700000000123000\n"
	    "cpu_percent{host=web-1,plugin_instance=0,type_instance=idle} 97.4937343358396 1700000000123000\n"
	    "interface_if_octets_rx{host=web-1,plugin_instance=eth0} 1234567 1700000000456000\n"
	    "interface_if_octets_tx{host=web-1,plugin_instance=eth0} 7654321 1700000000456000\n"
	    "interface_if_errors_rx{host=web-1,plugin_instance=eth0} 10 1700000000456000\n"
	    "interface_if_errors_tx{host=web-1,plugin_instance=eth0} 0 1700000000456000\n"
	    "load_load_shortterm{host=web-1} 0.42 1700000000789000\n"
	    "load_load_midterm{host=web-1} 0.35 1700000000789000\n"
	    "load_load_longterm{host=web-1} 0.3 1700000000789000\n"
	    "ping_ping{host=web-1,type_instance=8.8.8.8} 12.345 1700000001000000\n"
	    "ping_ping_droprate{host=web-1,type_instance=8.8.8.8} 0 1700000001000000\n"
	    "memory_memory{host=web-1,type_instance=used} 4216741888 1700000002500000\n"
	    "disk_disk_ops_read{host=web-1,plugin_instance=sda} 123456 1700000002500000\n"
	    "disk_disk_ops_write{host=web-1,plugin_instance=sda} 654321 1700000002500000\n"
	    "interface_if_packets_rx{host=web-1,plugin_instance=lo} 18446744073709552000 1700000002500000\n"
	    "interface_if_packets_tx{host=web-1,plugin_instance=lo} 5 1700000002500000\n");
	ck_assert_uint_eq (stats.n_lines, 11);
	ck_assert_uint_eq (stats.n_samples, 16);
	ck_assert_uint_eq (stats.n_rejected, 0);
	ck_assert_uint_eq (stats.first_bad_line, 0);
}
END_TEST

typedef struct {
	const char *body;
	const char *samples;
} GoodCase;

#define LIST(values, dstypes, dsnames, rest)                                                                 \
	"[{\"values\":" values ",\"dstypes\":" dstypes ",\"dsnames\":" dsnames                               \
	",\"host\":\"h\",\"plugin\":\"p\","                                                                  \
	"\"type\":\"t\"" rest "}]"

static const GoodCase good_cases[] = {
	{ "[]", "" },
	{ " [ ] \n", "" },
	/* no time, or 0 (collectd's "now"): now */
	{ LIST ("[1]", "[\"gauge\"]", "[\"value\"]", ""), "p_t{host=h} 1 1766000000000000\n" },
	{ LIST ("[1]", "[\"gauge\"]", "[\"value\"]", ",\"time\":0"), "p_t{host=h} 1 1766000000000000\n" },
	/* seconds to the nearest microsecond */
	{ LIST ("[1]", "[\"gauge\"]", "[\"value\"]", ",\"time\":1.0000004"), "p_t{host=h} 1 1000000\n" },
	{ LIST ("[1]", "[\"gauge\"]", "[\"value\"]", ",\"time\":1.0000016"), "p_t{host=h} 1 1000002\n" },
	{ LIST ("[1]", "[\"gauge\"]", "[\"value\"]", ",\"time\":0.5"), "p_t{host=h} 1 500000\n" },
	/* one value whose data source is not "value": its name is appended */
	{ LIST ("[3]", "[\"gauge\"]", "[\"count\"]", ""), "p_t_count{host=h} 3 1766000000000000\n" },
	/* the name counts even when the other values are null */
	{ LIST ("[null,2]", "[\"gauge\",\"gauge\"]", "[\"value\",\"x\"]", ""),
	  "p_t_x{host=h} 2 1766000000000000\n" },
	{ LIST ("[null]", "[\"gauge\"]", "[\"value\"]", ""), "" },
	/* every type; numbers as JSON has them */
	{ LIST ("[-1.5,-7,3,4e2]",
		"[\"gauge\",\"derive\",\"counter\",\"absolute\"]",
		"[\"a\",\"b\",\"c\",\"d\"]",
		""),
	  "p_t_a{host=h} -1.5 1766000000000000\np_t_b{host=h} -7 1766000000000000\n"
	  "p_t_c{host=h} 3 1766000000000000\np_t_d{host=h} 400 1766000000000000\n" },
	/* labels only when not empty, in this order */
	{ LIST ("[1]", "[\"gauge\"]", "[\"value\"]", ",\"plugin_instance\":\"pi\",\"type_instance\":\"ti\""),
	  "p_t{host=h,plugin_instance=pi,type_instance=ti} 1 1766000000000000\n" },
	{ LIST ("[1]", "[\"gauge\"]", "[\"value\"]", ",\"plugin_instance\":\"\",\"type_instance\":\"ti\""),
	  "p_t{host=h,type_instance=ti} 1 1766000000000000\n" },
	/* unknown members, interval and meta are no samples */
	{ LIST ("[1]",
		"[\"gauge\"]",
		"[\"value\"]",
		",\"interval\":10.5,\"meta\":{\"a\":[1,{}]},\"future\":[null]"),
	  "p_t{host=h} 1 1766000000000000\n" },
	/* UTF-8 and odd characters pass through to the sink, which judges them */
	{ "[{\"values\":[1],\"dstypes\":[\"gauge\"],\"dsnames\":[\"value\"],\"host\":\"h\\u00e9 \\\"x\\\"\","
	  "\"plugin\":\"p\",\"type\":\"t\"}]",
	  "p_t{host=h\xc3\xa9 \"x\"} 1 1766000000000000\n" },
};

START_TEST (test_good)
{
	const GoodCase *c = &good_cases[_i];
	g_autofree char *samples = parse_good (c->body, NULL);

	ck_assert_msg (g_strcmp0 (samples, c->samples) == 0, "%s:\n%s\nexpected\n%s", c->body, samples,
		       c->samples);
}
END_TEST

typedef struct {
	const char *list;
	const char *error;
} BadCase;

#define L(values, dstypes, dsnames, rest)                                                                    \
	"{\"values\":" values ",\"dstypes\":" dstypes ",\"dsnames\":" dsnames                                \
	",\"host\":\"h\",\"plugin\":\"p\","                                                                  \
	"\"type\":\"t\"" rest "}"
#define L1(rest) L ("[1]", "[\"gauge\"]", "[\"value\"]", rest)

static const BadCase bad_cases[] = {
	{ "1", "expected an object" },
	{ "null", "expected an object" },
	{ "[" GOOD_LIST "]", "expected an object" },
	{ "{}", "values: missing" },
	{ "{\"values\":{}}", "values: expected an array" },
	{ L ("\"1\"", "[\"gauge\"]", "[\"value\"]", ""), "values: expected an array" },
	{ L ("[]", "[]", "[]", ""), "values: empty" },
	{ L ("[\"1\"]", "[\"gauge\"]", "[\"value\"]", ""), "values[0]: expected a number or null" },
	{ L ("[1,true]", "[\"gauge\",\"gauge\"]", "[\"a\",\"b\"]", ""),
	  "values[1]: expected a number or null" },
	{ L ("[[1]]", "[\"gauge\"]", "[\"value\"]", ""), "values[0]: expected a number or null" },
	{ L ("[{}]", "[\"gauge\"]", "[\"value\"]", ""), "values[0]: expected a number or null" },
	{ "{\"values\":[1],\"dsnames\":[\"value\"],\"host\":\"h\",\"plugin\":\"p\",\"type\":\"t\"}",
	  "dstypes: missing" },
	{ L ("[1]", "\"gauge\"", "[\"value\"]", ""), "dstypes: expected an array" },
	{ L ("[1]", "[]", "[\"value\"]", ""), "dstypes: expected one entry per value (1), not 0" },
	{ L ("[1]", "[\"gauge\",\"gauge\"]", "[\"value\"]", ""),
	  "dstypes: expected one entry per value (1), not 2" },
	{ L ("[1]", "[\"GAUGE\"]", "[\"value\"]", ""),
	  "dstypes[0]: expected \"gauge\", \"derive\", \"counter\" or \"absolute\"" },
	{ L ("[1,2]", "[\"gauge\",1]", "[\"a\",\"b\"]", ""), "dstypes[1]: expected \"gauge\"" },
	{ L ("[1]", "[null]", "[\"value\"]", ""), "dstypes[0]: expected \"gauge\"" },
	{ "{\"values\":[1],\"dstypes\":[\"gauge\"],\"host\":\"h\",\"plugin\":\"p\",\"type\":\"t\"}",
	  "dsnames: missing" },
	{ L ("[1]", "[\"gauge\"]", "null", ""), "dsnames: expected an array" },
	{ L ("[1]", "[\"gauge\"]", "[\"a\",\"b\"]", ""), "dsnames: expected one entry per value (1), not 2" },
	{ L ("[1]", "[\"gauge\"]", "[\"\"]", ""), "dsnames[0]: expected a non-empty string" },
	{ L ("[1]", "[\"gauge\"]", "[null]", ""), "dsnames[0]: expected a non-empty string" },
	{ L ("[1]", "[\"gauge\"]", "[1]", ""), "dsnames[0]: expected a non-empty string" },
	{ L ("[1,2]", "[\"gauge\",\"gauge\"]", "[\"rx\",\"rx\"]", ""), "dsnames[1]: 'rx' is given twice" },
	{ L1 (",\"time\":\"1700000000\""), "time: expected a number of seconds" },
	{ L1 (",\"time\":null"), "time: expected a number of seconds" },
	{ L1 (",\"time\":true"), "time: expected a number of seconds" },
	{ L1 (",\"time\":-1"), "time: out of range" },
	{ L1 (",\"time\":1e13"), "time: out of range" },
	{ L1 (",\"interval\":\"10\""), "interval: expected a number of seconds" },
	{ L1 (",\"interval\":-10"), "interval: out of range" },
	{ "{\"values\":[1],\"dstypes\":[\"gauge\"],\"dsnames\":[\"value\"],\"plugin\":\"p\",\"type\":\"t\"}",
	  "host: missing" },
	{ "{\"values\":[1],\"dstypes\":[\"gauge\"],\"dsnames\":[\"value\"],\"host\":1,\"plugin\":\"p\","
	  "\"type\":\"t\"}",
	  "host: expected a string" },
	{ "{\"values\":[1],\"dstypes\":[\"gauge\"],\"dsnames\":[\"value\"],\"host\":\"\",\"plugin\":\"p\","
	  "\"type\":\"t\"}",
	  "host: empty" },
	{ "{\"values\":[1],\"dstypes\":[\"gauge\"],\"dsnames\":[\"value\"],\"host\":\"h\",\"type\":\"t\"}",
	  "plugin: missing" },
	{ "{\"values\":[1],\"dstypes\":[\"gauge\"],\"dsnames\":[\"value\"],\"host\":\"h\",\"plugin\":\"\","
	  "\"type\":\"t\"}",
	  "plugin: empty" },
	{ "{\"values\":[1],\"dstypes\":[\"gauge\"],\"dsnames\":[\"value\"],\"host\":\"h\",\"plugin\":[],"
	  "\"type\":\"t\"}",
	  "plugin: expected a string" },
	{ "{\"values\":[1],\"dstypes\":[\"gauge\"],\"dsnames\":[\"value\"],\"host\":\"h\",\"plugin\":\"p\"}",
	  "type: missing" },
	{ "{\"values\":[1],\"dstypes\":[\"gauge\"],\"dsnames\":[\"value\"],\"host\":\"h\",\"plugin\":\"p\","
	  "\"type\":\"\"}",
	  "type: empty" },
	{ L1 (",\"plugin_instance\":0"), "plugin_instance: expected a string" },
	{ L1 (",\"type_instance\":null"), "type_instance: expected a string" },
	{ L1 (",\"meta\":[]"), "meta: expected an object" },
	{ L1 (",\"meta\":\"x\""), "meta: expected an object" },
};

/* the bad list between two good ones: they are kept, it is named */
START_TEST (test_bad)
{
	const BadCase *c = &bad_cases[_i];
	g_autofree char *body = g_strdup_printf ("[" GOOD_LIST ",%s," GOOD_LIST "]", c->list);
	g_autofree char *expected = g_strdup_printf ("value list 2: %s", c->error);
	g_autofree char *samples = NULL;
	g_autoptr(GError) error = NULL;
	AstraIngestStats stats = { 0 };
	AstraCheckRecorder rec = { 0 };

	samples = parse_full (body, strlen (body), &rec, &stats, &error);
	ck_assert_msg (error != NULL, "%s accepted", c->list);
	ck_assert (g_error_matches (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA));
	ck_assert_msg (g_str_has_prefix (error->message, expected), "'%s' is not '%s'", error->message,
		       expected);
	ck_assert_str_eq (samples, GOOD_SAMPLE GOOD_SAMPLE);
	ck_assert_uint_eq (stats.n_lines, 3);
	ck_assert_uint_eq (stats.n_samples, 2);
	ck_assert_uint_eq (stats.first_bad_line, 2);
}
END_TEST

typedef struct {
	const char *body;
	const char *error;
} BodyCase;

static const BodyCase bad_bodies[] = {
	{ "", "the body is not valid JSON: " },
	{ "[", "the body is not valid JSON: " },
	{ "[" GOOD_LIST "] x", "the body is not valid JSON: " },
	{ "[" GOOD_LIST ",]", "the body is not valid JSON: " },
	{ "[NaN]", "the body is not valid JSON: " },
	{ "[{\"values\":[1e999]}]", "the body is not valid JSON: " },
	{ "[\"\xff\"]", "the body is not valid JSON: " },
	{ "{}", "expected a JSON array of collectd value lists" },
	{ GOOD_LIST, "expected a JSON array of collectd value lists" },
	{ "null", "expected a JSON array of collectd value lists" },
	{ "\"x\"", "expected a JSON array of collectd value lists" },
};

START_TEST (test_bad_body)
{
	const BodyCase *c = &bad_bodies[_i];
	g_autofree char *samples = NULL;
	g_autoptr(GError) error = NULL;
	AstraIngestStats stats = { 1, 1, 1, 1 };
	AstraCheckRecorder rec = { 0 };

	samples = parse_full (c->body, strlen (c->body), &rec, &stats, &error);
	ck_assert_msg (error != NULL, "%s accepted", c->body);
	ck_assert (g_error_matches (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA));
	ck_assert_msg (g_str_has_prefix (error->message, c->error), "'%s' is not '%s'", error->message,
		       c->error);
	ck_assert_str_eq (samples, "");
	ck_assert_uint_eq (stats.n_lines, 0);
	ck_assert_uint_eq (stats.first_bad_line, 0);
}
END_TEST

/* a value list has at most 64 values (so checking its dsnames stays cheap) */
START_TEST (test_max_values)
{
	for (guint n = 64; n <= 65; n++) {
		g_autoptr(GString) body = g_string_new ("[{\"values\":[");
		g_autoptr(GString) types = g_string_new (NULL);
		g_autoptr(GString) names = g_string_new (NULL);
		g_autofree char *samples = NULL;
		g_autoptr(GError) error = NULL;
		AstraIngestStats stats = { 0 };
		AstraCheckRecorder rec = { 0 };

		for (guint i = 0; i < n; i++) {
			g_string_append_printf (body, "%s%u", i > 0 ? "," : "", i);
			g_string_append_printf (types, "%s\"gauge\"", i > 0 ? "," : "");
			g_string_append_printf (names, "%s\"d%u\"", i > 0 ? "," : "", i);
		}
		g_string_append_printf (body,
					"],\"dstypes\":[%s],\"dsnames\":[%s],\"host\":\"h\",\"plugin\":\"p\","
					"\"type\":\"t\"}]",
					types->str, names->str);
		samples = parse_full (body->str, body->len, &rec, &stats, &error);
		if (n == 64) {
			astra_assert_no_error (error);
			ck_assert_uint_eq (stats.n_samples, 64);
			astra_assert_contains (samples, "p_t_d63{host=h} 63 1766000000000000\n");
		} else {
			ck_assert_ptr_nonnull (error);
			ck_assert_str_eq (error->message, "value list 1: values: more than 64 entries");
			ck_assert_str_eq (samples, "");
		}
	}
}
END_TEST

/* a body that is not NUL-terminated is never read past its end */
START_TEST (test_not_nul_terminated)
{
	const char *text = "[" GOOD_LIST "]";
	gsize len = strlen (text);
	g_autofree char *copy = g_memdup2 (text, len);
	g_autoptr(GError) error = NULL;
	AstraIngestStats stats = { 0 };
	AstraCheckRecorder rec = { 0 };
	g_autofree char *samples = parse_full (copy, len, &rec, &stats, &error);

	ck_assert_str_eq (samples, GOOD_SAMPLE);
}
END_TEST

/* an empty body may come as NULL (g_bytes_get_data() of an empty GBytes) */
START_TEST (test_null_body)
{
	g_autoptr(GError) error = NULL;
	AstraIngestStats stats = { 0 };
	AstraCheckRecorder rec = { .out = g_string_new (NULL) };

	ck_assert (!astra_collectd_parse (NULL, 0, NOW, astra_check_recorder_sink, &rec, &stats, &error));
	ck_assert (g_str_has_prefix (error->message, "the body is not valid JSON: "));
	ck_assert_uint_eq (rec.n_calls, 0);
	g_string_free (rec.out, TRUE);
}
END_TEST

START_TEST (test_first_bad_is_named)
{
	const char *body = "[" GOOD_LIST ",1," GOOD_LIST ",{}]";
	g_autofree char *samples = NULL;
	g_autoptr(GError) error = NULL;
	AstraIngestStats stats = { 0 };
	AstraCheckRecorder rec = { 0 };

	samples = parse_full (body, strlen (body), &rec, &stats, &error);
	ck_assert_str_eq (error->message, "value list 2: expected an object");
	ck_assert_uint_eq (stats.n_lines, 4);
	ck_assert_uint_eq (stats.n_samples, 2);
	ck_assert_uint_eq (stats.first_bad_line, 2);
}
END_TEST

START_TEST (test_sink_refuses)
{
	g_autofree char *path =
	    astra_check_source_path ("tests", "fixtures", "collectd", "write-http.json", NULL);
	gsize len = 0;
	g_autofree char *body = astra_check_read_file (path, &len);
	g_autoptr(GError) error = NULL;
	AstraIngestStats stats = { 0 };
	AstraCheckRecorder rec = { .refuse = "_tx", .reason = ASTRA_SERIES_REJECT_CARDINALITY };
	g_autofree char *samples = parse_full (body, len, &rec, &stats, &error);

	ck_assert_ptr_nonnull (error);
	ck_assert_str_eq (error->message,
			  "value list 3: series limit reached (metric 'interface_if_octets_tx')");
	/* the other values of the list, and the other lists, go on */
	astra_assert_contains (samples, "interface_if_octets_rx{host=web-1,plugin_instance=eth0} 1234567 ");
	astra_assert_contains (samples, "memory_memory{");
	astra_assert_not_contains (samples, "_tx");
	ck_assert_uint_eq (stats.n_lines, 11);
	ck_assert_uint_eq (stats.n_samples, 13);
	ck_assert_uint_eq (stats.n_rejected, 3);
	ck_assert_uint_eq (stats.first_bad_line, 3);
}
END_TEST

static gboolean
store_sink (const char *metric,
	    const AstraLabel *labels,
	    guint n_labels,
	    double value,
	    gint64 timestamp_us,
	    AstraSeriesReject *reject,
	    gpointer user_data)
{
	return astra_series_store_lookup (user_data, metric, labels, n_labels, reject) != NULL;
}

/* the real series store as the sink: a plugin name it refuses makes the list bad */
START_TEST (test_series_store)
{
	g_autoptr(AstraSeriesStore) store = astra_series_store_new ();
	g_autoptr(GError) error = NULL;
	AstraIngestStats stats = { 0 };
	const char *body = "[" GOOD_LIST ",{\"values\":[1],\"dstypes\":[\"gauge\"],\"dsnames\":[\"value\"],"
			   "\"host\":\"h\",\"plugin\":\"my plugin\",\"type\":\"t\"}]";

	ck_assert (!astra_collectd_parse (body, strlen (body), NOW, store_sink, store, &stats, &error));
	astra_assert_contains (error->message, "value list 2: invalid metric or label name");
	astra_assert_contains (error->message, "(metric 'my plugin_t')");
	ck_assert_uint_eq (stats.n_samples, 1);
	ck_assert_uint_eq (stats.n_rejected, 1);
	ck_assert_uint_eq (astra_series_store_get_size (store), 1);
}
END_TEST

/* --- mutations -------------------------------------------------------------------------------- */

static gboolean
checking_sink (const char *metric,
	       const AstraLabel *labels,
	       guint n_labels,
	       double value,
	       gint64 timestamp_us,
	       AstraSeriesReject *reject,
	       gpointer user_data)
{
	GString *out = user_data;

	ck_assert (metric[0] != '\0');
	ck_assert (g_utf8_validate (metric, -1, NULL));
	ck_assert (isfinite (value));
	ck_assert_uint_ge (n_labels, 1);
	ck_assert_uint_le (n_labels, 3);
	ck_assert_str_eq (labels[0].name, "host");
	for (guint i = 0; i < n_labels; i++)
		ck_assert (labels[i].value[0] != '\0');
	if (g_str_has_suffix (metric, "_tx")) {
		*reject = ASTRA_SERIES_REJECT_CARDINALITY;
		return FALSE;
	}
	astra_check_recorder_append (out, metric, labels, n_labels, value, timestamp_us);
	return TRUE;
}

static char *
mutation_run (const char *body, gsize len, AstraIngestStats *stats, char **error_msg)
{
	g_autoptr(GError) error = NULL;
	GString *out = g_string_new (NULL);
	gboolean ok;

	ok = astra_collectd_parse (body, len, NOW, checking_sink, out, stats, &error);
	ck_assert_int_eq (ok, error == NULL);
	if (!ok) {
		ck_assert (g_error_matches (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA));
		if (stats->first_bad_line != 0) {
			g_autofree char *prefix = g_strdup_printf ("value list %u: ", stats->first_bad_line);
			ck_assert_msg (g_str_has_prefix (error->message, prefix), "%s", error->message);
		} else {
			ck_assert_msg (g_str_has_prefix (error->message, "the body is not valid JSON: ") ||
					   g_str_has_prefix (error->message, "expected a JSON array"),
				       "%s", error->message);
			ck_assert_uint_eq (stats->n_samples + stats->n_rejected, 0);
		}
	}
	if (error_msg != NULL)
		*error_msg = ok ? NULL : g_strdup (error->message);
	return g_string_free (out, FALSE);
}

static const char mutation_bytes[] = { '[', ']', '{', '}', '"',  ',', ':',  '0',   '9',
				       '-', 'e', '.', 'n', '\\', ' ', '\0', '\xff' };

/* byte-level: mostly not JSON any more, which must be refused cleanly */
START_TEST (test_mutations_bytes)
{
	g_autofree char *path =
	    astra_check_source_path ("tests", "fixtures", "collectd", "write-http.json", NULL);
	gsize len = 0;
	g_autofree char *fixture = astra_check_read_file (path, &len);
	g_autoptr(GRand) rand = g_rand_new_with_seed (1217);

	for (guint iter = 0; iter < 3000; iter++) {
		g_autoptr(GString) body = g_string_new_len (fixture, (gssize) len);
		g_autofree char *samples = NULL;
		AstraIngestStats stats = { 0 };
		guint n = g_rand_int_range (rand, 1, 4);

		for (guint k = 0; k < n; k++) {
			guint pos = g_rand_int_range (rand, 0, (gint32) body->len);
			char byte =
			    mutation_bytes[g_rand_int_range (rand, 0, (gint32) sizeof (mutation_bytes))];
			switch (g_rand_int_range (rand, 0, 3)) {
			case 0:
				body->str[pos] = byte;
				break;
			case 1:
				g_string_insert_len (body, pos, &byte, 1);
				break;
			default:
				g_string_erase (body, pos, 1);
				break;
			}
		}
		samples = mutation_run (body->str, body->len, &stats, NULL);
	}
}
END_TEST

static JsonNode *
random_node (GRand *rand)
{
	JsonNode *node;

	switch (g_rand_int_range (rand, 0, 9)) {
	case 0:
		return json_node_new (JSON_NODE_NULL);
	case 1:
		node = json_node_new (JSON_NODE_VALUE);
		json_node_set_boolean (node, g_rand_boolean (rand));
		return node;
	case 2:
		node = json_node_new (JSON_NODE_VALUE);
		json_node_set_double (node, g_rand_double_range (rand, -1e20, 1e20));
		return node;
	case 3:
		node = json_node_new (JSON_NODE_VALUE);
		json_node_set_int (node, g_rand_int_range (rand, -5, 5));
		return node;
	case 4:
		node = json_node_new (JSON_NODE_VALUE);
		json_node_set_string (node, "");
		return node;
	case 5: {
		static const char *const strings[] = { "gauge", "derive", "value", "rx", "x y", "h\xc3\xa9" };
		node = json_node_new (JSON_NODE_VALUE);
		json_node_set_string (node, strings[g_rand_int_range (rand, 0, G_N_ELEMENTS (strings))]);
		return node;
	}
	case 6:
		node = json_node_new (JSON_NODE_OBJECT);
		json_node_take_object (node, json_object_new ());
		return node;
	case 7: {
		JsonArray *array = json_array_new ();
		guint n = g_rand_int_range (rand, 0, 4);
		for (guint i = 0; i < n; i++)
			json_array_add_element (array, random_node (rand));
		node = json_node_new (JSON_NODE_ARRAY);
		json_node_take_array (node, array);
		return node;
	}
	default: {
		JsonArray *array = json_array_new ();
		guint n = g_rand_int_range (rand, 0, 4);
		for (guint i = 0; i < n; i++)
			json_array_add_double_element (array, g_rand_double_range (rand, -10, 10));
		node = json_node_new (JSON_NODE_ARRAY);
		json_node_take_array (node, array);
		return node;
	}
	}
}

static char *
serialize (JsonNode *node, gsize *len)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) bytes = astra_json_serialize (node, &error);

	astra_assert_no_error (error);
	return g_strndup (g_bytes_get_data (bytes, len), g_bytes_get_size (bytes));
}

/* shape-level: members replaced by anything or removed; a body gives what its
 * value lists give one by one, and names the same first bad one */
START_TEST (test_mutations_shapes)
{
	static const char *const members[] = { "values",   "dstypes",       "dsnames", "time",
					       "interval", "host",          "plugin",  "plugin_instance",
					       "type",     "type_instance", "meta" };
	g_autofree char *path =
	    astra_check_source_path ("tests", "fixtures", "collectd", "write-http.json", NULL);
	gsize len = 0;
	g_autofree char *fixture = astra_check_read_file (path, &len);
	g_autoptr(GRand) rand = g_rand_new_with_seed (20251217);

	for (guint iter = 0; iter < 1500; iter++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(JsonNode) root = astra_json_parse (fixture, len, &error);
		g_autoptr(GString) per_list = g_string_new (NULL);
		g_autofree char *body = NULL;
		g_autofree char *samples = NULL;
		g_autofree char *error_msg = NULL;
		g_autofree char *first_error = NULL;
		JsonArray *lists = json_node_get_array (root);
		AstraIngestStats stats = { 0 };
		AstraIngestStats total = { 0 };
		gsize body_len = 0;
		guint n = g_rand_int_range (rand, 1, 4);

		for (guint k = 0; k < n; k++) {
			guint idx = g_rand_int_range (rand, 0, (gint32) json_array_get_length (lists));
			JsonObject *obj = json_array_get_object_element (lists, idx);
			const char *member = members[g_rand_int_range (rand, 0, G_N_ELEMENTS (members))];
			if (g_rand_int_range (rand, 0, 4) == 0)
				json_object_remove_member (obj, member);
			else
				json_object_set_member (obj, member, random_node (rand));
		}
		body = serialize (root, &body_len);
		samples = mutation_run (body, body_len, &stats, &error_msg);

		for (guint i = 0; i < json_array_get_length (lists); i++) {
			g_autoptr(JsonNode) one = json_node_new (JSON_NODE_ARRAY);
			g_autoptr(JsonArray) array = json_array_new ();
			g_autofree char *one_body = NULL;
			g_autofree char *one_samples = NULL;
			g_autofree char *one_error = NULL;
			AstraIngestStats one_stats = { 0 };
			gsize one_len = 0;

			json_array_add_element (array, json_node_copy (json_array_get_element (lists, i)));
			json_node_set_array (one, array);
			one_body = serialize (one, &one_len);
			one_samples = mutation_run (one_body, one_len, &one_stats, &one_error);
			g_string_append (per_list, one_samples);
			total.n_samples += one_stats.n_samples;
			total.n_rejected += one_stats.n_rejected;
			if (one_error != NULL && first_error == NULL) {
				total.first_bad_line = i + 1;
				first_error = g_strdup_printf ("value list %u: %s", i + 1,
							       one_error + strlen ("value list 1: "));
			}
		}
		ck_assert_str_eq (samples, per_list->str);
		ck_assert_uint_eq (stats.n_lines, json_array_get_length (lists));
		ck_assert_uint_eq (stats.n_samples, total.n_samples);
		ck_assert_uint_eq (stats.n_rejected, total.n_rejected);
		ck_assert_uint_eq (stats.first_bad_line, total.first_bad_line);
		ck_assert_str_eq (error_msg != NULL ? error_msg : "", first_error != NULL ? first_error : "");
	}
}
END_TEST

static Suite *
collectd_suite (void)
{
	Suite *s = suite_create ("collectd");
	TCase *tc;

	tc = tcase_create ("good");
	tcase_add_test (tc, test_write_http_payload);
	tcase_add_loop_test (tc, test_good, 0, G_N_ELEMENTS (good_cases));
	tcase_add_test (tc, test_not_nul_terminated);
	tcase_add_test (tc, test_max_values);
	suite_add_tcase (s, tc);

	tc = tcase_create ("bad");
	tcase_add_loop_test (tc, test_bad, 0, G_N_ELEMENTS (bad_cases));
	tcase_add_loop_test (tc, test_bad_body, 0, G_N_ELEMENTS (bad_bodies));
	tcase_add_test (tc, test_first_bad_is_named);
	tcase_add_test (tc, test_null_body);
	suite_add_tcase (s, tc);

	tc = tcase_create ("sink");
	tcase_add_test (tc, test_sink_refuses);
	tcase_add_test (tc, test_series_store);
	suite_add_tcase (s, tc);

	tc = tcase_create ("mutations");
	tcase_add_test (tc, test_mutations_bytes);
	tcase_add_test (tc, test_mutations_shapes);
	suite_add_tcase (s, tc);

	return s;
}

int
main (void)
{
	return astra_check_run_suite (collectd_suite ());
}
