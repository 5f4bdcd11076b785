/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * InfluxDB line protocol (POST /write): astra_line_protocol_parse() and
 * astra_precision_from_string(). Samples are recorded as text,
 * "metric{label=value,...} value timestamp_us", labels in the order of the
 * line, values as JavaScript prints them.
 */

#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "astra-check-common.h"
#include "astra-check-samples.h"
#include "astra-line-protocol.h"

/* what samples without a timestamp get: 2025-12-17T19:33:20Z */
#define NOW G_GINT64_CONSTANT (1766000000000000)

/* a typical Telegraf line: three samples */
#define PING_LINE                                                                                            \
	"ping,host=agent-7,url=8.8.8.8 "                                                                     \
	"average_response_ms=12.5,packets_transmitted=5i,percent_packet_loss=0 "                             \
	"1700000000000000000"

/* parses @body; the recorded samples (free with g_free) */
static char *
parse_full (const char *body,
	    gsize len,
	    AstraPrecision precision,
	    AstraCheckRecorder *rec,
	    AstraIngestStats *stats,
	    GError **error)
{
	gboolean ok;

	rec->out = g_string_new (NULL);
	ok = astra_line_protocol_parse (body, len, precision, NOW, astra_check_recorder_sink, rec, stats, error);
	ck_assert_int_eq (ok, error == NULL || *error == NULL);
	ck_assert_uint_eq (stats->n_samples + stats->n_rejected, rec->n_calls);
	ck_assert_int_eq (ok, stats->first_bad_line == 0);
	return g_string_free (rec->out, FALSE);
}

/* parses @body, which must be good; the recorded samples */
static char *
parse_good (const char *body, AstraPrecision precision, AstraIngestStats *stats)
{
	g_autoptr(GError) error = NULL;
	AstraIngestStats stats_local = { 0 };
	AstraCheckRecorder rec = { 0 };
	char *out =
	    parse_full (body, strlen (body), precision, &rec, stats != NULL ? stats : &stats_local, &error);

	ck_assert_msg (error == NULL, "'%s': %s", body, error != NULL ? error->message : "");
	return out;
}

/* parses @body, which must have a bad line; its error message */
static char *
parse_bad (const char *body, gsize len, AstraIngestStats *stats, char **samples)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *out = NULL;
	AstraIngestStats stats_local = { 0 };
	AstraCheckRecorder rec = { 0 };

	out = parse_full (body, len, ASTRA_PRECISION_NS, &rec, stats != NULL ? stats : &stats_local, &error);
	ck_assert_msg (error != NULL, "'%s' was accepted", body);
	ck_assert_msg (g_error_matches (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA), "%s", error->message);
	if (samples != NULL)
		*samples = g_steal_pointer (&out);
	return g_strdup (error->message);
}

/* --- good lines ------------------------------------------------------------------------------- */

typedef struct {
	const char *body;
	AstraPrecision precision;
	const char *samples;
} GoodCase;

static const GoodCase good_cases[] = {
	/* the typical Telegraf line */
	{ PING_LINE, ASTRA_PRECISION_NS,
	  "ping_average_response_ms{host=agent-7,url=8.8.8.8} 12.5 1700000000000000\n"
	  "ping_packets_transmitted{host=agent-7,url=8.8.8.8} 5 1700000000000000\n"
	  "ping_percent_packet_loss{host=agent-7,url=8.8.8.8} 0 1700000000000000\n" },
	/* no tags, no timestamp: now */
	{ "cpu usage=1", ASTRA_PRECISION_NS, "cpu_usage{} 1 1766000000000000\n" },
	/* a field named value is the measurement itself */
	{ "temperature,room=kitchen value=21.5 1700000000000000000", ASTRA_PRECISION_NS,
	  "temperature{room=kitchen} 21.5 1700000000000000\n" },
	{ "disk value=1,free=2", ASTRA_PRECISION_NS,
	  "disk{} 1 1766000000000000\ndisk_free{} 2 1766000000000000\n" },
	/* only "value" exactly */
	{ "m values=1,Value=2", ASTRA_PRECISION_NS,
	  "m_values{} 1 1766000000000000\nm_Value{} 2 1766000000000000\n" },

	/* escaping in the measurement: comma and space */
	{ "my\\ meas\\,ure f=1", ASTRA_PRECISION_NS, "my meas,ure_f{} 1 1766000000000000\n" },
	/* an equals sign needs no escape there, and its backslash stays */
	{ "a=b f=1", ASTRA_PRECISION_NS, "a=b_f{} 1 1766000000000000\n" },
	{ "a\\=b f=1", ASTRA_PRECISION_NS, "a\\=b_f{} 1 1766000000000000\n" },
	/* in tag keys and values: comma, equals sign and space */
	{ "m,ta\\ g\\,k\\=ey=v\\,a\\=l\\ ue f=1", ASTRA_PRECISION_NS,
	  "m_f{ta g,k=ey=v,a=l ue} 1 1766000000000000\n" },
	/* in field keys too */
	{ "m f\\,i\\=e\\ ld=1", ASTRA_PRECISION_NS, "m_f,i=e ld{} 1 1766000000000000\n" },
	/* a backslash before anything else is itself, as Telegraf sends Windows paths */
	{ "win_disk,instance=C:\\Windows\\System32 free=1", ASTRA_PRECISION_NS,
	  "win_disk_free{instance=C:\\Windows\\System32} 1 1766000000000000\n" },
	{ "m,share=\\\\srv\\share f=1", ASTRA_PRECISION_NS,
	  "m_f{share=\\\\srv\\share} 1 1766000000000000\n" },
	/* a literal backslash followed by an escaped comma */
	{ "m,t=a\\\\,u f=1", ASTRA_PRECISION_NS, "m_f{t=a\\,u} 1 1766000000000000\n" },
	/* UTF-8 passes through */
	{ "m,city=Z\xc3\xbcrich,emoji=\xf0\x9f\x8c\x8d f=1", ASTRA_PRECISION_NS,
	  "m_f{city=Z\xc3\xbcrich,emoji=\xf0\x9f\x8c\x8d} 1 1766000000000000\n" },
	/* quotes mean nothing outside string field values */
	{ "m,t=\"x\" f=1", ASTRA_PRECISION_NS, "m_f{t=\"x\"} 1 1766000000000000\n" },

	/* string fields are skipped, whatever they hold */
	{ "m s=\"hello, \\\"world\\\" a=1 \\\\\",f=2,t=\"\"", ASTRA_PRECISION_NS,
	  "m_f{} 2 1766000000000000\n" },
	{ "m s=\"only a string\" 1700000000000000000", ASTRA_PRECISION_NS, "" },
	{ "m s=\"\\\\\"", ASTRA_PRECISION_NS, "" },
	{ "m s=\"a \\x b\",f=1", ASTRA_PRECISION_NS, "m_f{} 1 1766000000000000\n" },

	/* floats */
	{ "m a=1,b=1.0,c=-1.5,d=.5,e=1.,f=1e3,g=1E3,h=1.5e-3,i=-1e+2,j=0,k=-0,l=007,m=-.25",
	  ASTRA_PRECISION_NS,
	  "m_a{} 1 1766000000000000\nm_b{} 1 1766000000000000\nm_c{} -1.5 1766000000000000\n"
	  "m_d{} 0.5 1766000000000000\nm_e{} 1 1766000000000000\nm_f{} 1000 1766000000000000\n"
	  "m_g{} 1000 1766000000000000\nm_h{} 0.0015 1766000000000000\nm_i{} -100 1766000000000000\n"
	  "m_j{} 0 1766000000000000\nm_k{} 0 1766000000000000\nm_l{} 7 1766000000000000\n"
	  "m_m{} -0.25 1766000000000000\n" },
	/* the exact fast path and strtod agree with correct rounding */
	{ "m a=0.1,b=123456789012345678901234567890,c=1.7976931348623157e308,d=4.9e-324,e=9007199254740993,"
	  "f=0.30000000000000004,g=1e22,h=1e23,i=123.456e-300",
	  ASTRA_PRECISION_NS,
	  "m_a{} 0.1 1766000000000000\nm_b{} 1.2345678901234568e+29 1766000000000000\n"
	  "m_c{} 1.7976931348623157e+308 1766000000000000\nm_d{} 5e-324 1766000000000000\n"
	  "m_e{} 9007199254740992 1766000000000000\nm_f{} 0.30000000000000004 1766000000000000\n"
	  "m_g{} 1e+22 1766000000000000\nm_h{} 1e+23 1766000000000000\nm_i{} 1.23456e-298 "
	  "1766000000000000\n" },
	/* integers and unsigned integers, to their limits */
	{ "m "
	  "a=123i,b=-123i,c=0i,d=-0i,e=9223372036854775807i,f=-9223372036854775808i,g=0u,h="
	  "18446744073709551615u",
	  ASTRA_PRECISION_NS,
	  "m_a{} 123 1766000000000000\nm_b{} -123 1766000000000000\nm_c{} 0 1766000000000000\n"
	  "m_d{} 0 1766000000000000\nm_e{} 9223372036854776000 1766000000000000\n"
	  "m_f{} -9223372036854776000 1766000000000000\nm_g{} 0 1766000000000000\n"
	  "m_h{} 18446744073709552000 1766000000000000\n" },
	/* booleans are 1 and 0 */
	{ "m a=t,b=T,c=true,d=True,e=TRUE,f=f,g=F,h=false,i=False,j=FALSE", ASTRA_PRECISION_NS,
	  "m_a{} 1 1766000000000000\nm_b{} 1 1766000000000000\nm_c{} 1 1766000000000000\n"
	  "m_d{} 1 1766000000000000\nm_e{} 1 1766000000000000\nm_f{} 0 1766000000000000\n"
	  "m_g{} 0 1766000000000000\nm_h{} 0 1766000000000000\nm_i{} 0 1766000000000000\n"
	  "m_j{} 0 1766000000000000\n" },

	/* precisions */
	{ "m f=1 1700000000123456789", ASTRA_PRECISION_NS, "m_f{} 1 1700000000123456\n" },
	{ "m f=1 1700000000123456", ASTRA_PRECISION_US, "m_f{} 1 1700000000123456\n" },
	{ "m f=1 1700000000123", ASTRA_PRECISION_MS, "m_f{} 1 1700000000123000\n" },
	{ "m f=1 1700000000", ASTRA_PRECISION_S, "m_f{} 1 1700000000000000\n" },
	{ "m f=1 28333333", ASTRA_PRECISION_M, "m_f{} 1 1699999980000000\n" },
	{ "m f=1 472222", ASTRA_PRECISION_H, "m_f{} 1 1699999200000000\n" },
	/* before 1970, nanoseconds round down like after it */
	{ "m f=1 -1\nm f=2 -1000\nm f=3 -1001\nm f=4 0\nm f=5 999", ASTRA_PRECISION_NS,
	  "m_f{} 1 -1\nm_f{} 2 -1\nm_f{} 3 -2\nm_f{} 4 0\nm_f{} 5 0\n" },
	{ "m f=1 -9223372036854775808", ASTRA_PRECISION_NS, "m_f{} 1 -9223372036854776\n" },
	{ "m f=1 9223372036854775807", ASTRA_PRECISION_US, "m_f{} 1 9223372036854775807\n" },
	{ "m f=1 2562047788", ASTRA_PRECISION_H, "m_f{} 1 9223372036800000000\n" },
	/* leading zeros in timestamps are harmless */
	{ "m f=1 0001", ASTRA_PRECISION_S, "m_f{} 1 1000000\n" },

	/* layout: comments, blank lines, CRLF, spaces */
	{ "# a comment\n\n   \n\t# indented comment\nm f=1\n", ASTRA_PRECISION_NS,
	  "m_f{} 1 1766000000000000\n" },
	{ "m f=1 1000\r\nm f=2 2000\r\n", ASTRA_PRECISION_NS, "m_f{} 1 1\nm_f{} 2 2\n" },
	{ "m f=1\r\n\r\n", ASTRA_PRECISION_NS, "m_f{} 1 1766000000000000\n" },
	{ "  m f=1", ASTRA_PRECISION_NS, "m_f{} 1 1766000000000000\n" },
	{ "m   f=1   1000   ", ASTRA_PRECISION_NS, "m_f{} 1 1\n" },
	{ "m f=1  ", ASTRA_PRECISION_NS, "m_f{} 1 1766000000000000\n" },
	{ "", ASTRA_PRECISION_NS, "" },
	{ "\n\n", ASTRA_PRECISION_NS, "" },
	/* a '#' later in a line is data */
	{ "m,t=#1 f=1", ASTRA_PRECISION_NS, "m_f{t=#1} 1 1766000000000000\n" },
	/* a field given twice is two samples, as written */
	{ "m f=1,f=2", ASTRA_PRECISION_NS, "m_f{} 1 1766000000000000\nm_f{} 2 1766000000000000\n" },
};

START_TEST (test_good)
{
	const GoodCase *c = &good_cases[_i];
	g_autofree char *samples = parse_good (c->body, c->precision, NULL);

	ck_assert_msg (g_strcmp0 (samples, c->samples) == 0, "'%s':\n%s\nexpected\n%s", c->body, samples,
		       c->samples);
}
END_TEST

/* many fields: past the parser's first array */
START_TEST (test_many_fields)
{
	g_autoptr(GString) body = g_string_new ("m");
	g_autoptr(GString) expected = g_string_new (NULL);
	g_autofree char *samples = NULL;

	for (guint i = 0; i < 1000; i++) {
		g_string_append_printf (body, "%cf%u=%ui", i == 0 ? ' ' : ',', i, i);
		g_string_append_printf (expected, "m_f%u{} %u 1\n", i, i);
	}
	g_string_append (body, " 1000");
	samples = parse_good (body->str, ASTRA_PRECISION_NS, NULL);
	ck_assert_str_eq (samples, expected->str);
}
END_TEST

START_TEST (test_max_tags)
{
	g_autoptr(GString) body = g_string_new ("m");
	g_autofree char *samples = NULL;
	g_autofree char *error = NULL;

	for (guint i = 0; i < ASTRA_LINE_PROTOCOL_MAX_TAGS; i++)
		g_string_append_printf (body, ",t%u=v", i);
	g_string_append (body, " f=1");
	samples = parse_good (body->str, ASTRA_PRECISION_NS, NULL);
	ck_assert_uint_eq (strlen (samples) > 0, TRUE);

	g_string_insert (body, 1, ",one=more");
	error = parse_bad (body->str, body->len, NULL, NULL);
	ck_assert_str_eq (error, "line 1: more than 256 tags");
}
END_TEST

/* a duplicate among few tags and among many (found another way) */
START_TEST (test_duplicate_tags)
{
	const guint counts[] = { 2, 15, 16, 17, 100, 256 };

	for (guint i = 0; i < G_N_ELEMENTS (counts); i++) {
		for (guint dup = 1; dup < counts[i]; dup += MAX (1, counts[i] / 7)) {
			g_autoptr(GString) body = g_string_new ("m");
			g_autofree char *error = NULL;
			g_autofree char *expected = NULL;

			for (guint j = 0; j < counts[i]; j++)
				g_string_append_printf (body, ",t%u=v", j == dup ? dup / 2 : j);
			g_string_append (body, " f=1");
			error = parse_bad (body->str, body->len, NULL, NULL);
			expected = g_strdup_printf ("line 1: duplicate tag key 't%u'", dup / 2);
			ck_assert_str_eq (error, expected);
		}
	}
}
END_TEST

START_TEST (test_max_line_length)
{
	g_autoptr(GString) body = g_string_new ("m,t=");
	g_autofree char *samples = NULL;
	g_autofree char *error = NULL;
	AstraIngestStats stats = { 0 };

	/* exactly the limit (the \r of CRLF does not count) */
	while (body->len < ASTRA_LINE_PROTOCOL_MAX_LINE_LENGTH - 4)
		g_string_append_c (body, 'x');
	g_string_append (body, " f=1\r\n");
	samples = parse_good (body->str, ASTRA_PRECISION_NS, NULL);
	ck_assert_uint_eq (strlen (samples), ASTRA_LINE_PROTOCOL_MAX_LINE_LENGTH - 4 - 4 +
						 strlen ("m_f{t=} 1 1766000000000000\n"));

	/* one byte more, in the middle of other lines */
	g_string_insert_c (body, 5, 'x');
	g_string_prepend (body, "m f=1 1\n");
	g_string_append (body, "m f=2 2\n");
	g_clear_pointer (&samples, g_free);
	error = parse_bad (body->str, body->len, &stats, &samples);
	ck_assert_str_eq (error, "line 2: longer than 65536 bytes");
	ck_assert_str_eq (samples, "m_f{} 1 0\nm_f{} 2 0\n");
	ck_assert_uint_eq (stats.n_lines, 3);
	ck_assert_uint_eq (stats.first_bad_line, 2);
}
END_TEST

/* a body that is not NUL-terminated is never read past its end */
START_TEST (test_not_nul_terminated)
{
	const char *texts[] = { "m f=1",    "m f=1.5",   "m f=1e5", "m f=12345678901234567890123",
				"m f=1 17", "m f=\"s\"", "m,t=v\\", "m f=1 ",
				"m f=t" };

	for (guint i = 0; i < G_N_ELEMENTS (texts); i++) {
		gsize len = strlen (texts[i]);
		g_autofree char *copy = g_memdup2 (texts[i], len);
		g_autoptr(GError) error = NULL;
		AstraIngestStats stats = { 0 };
		AstraCheckRecorder rec = { 0 };
		g_autofree char *out = parse_full (copy, len, ASTRA_PRECISION_NS, &rec, &stats, &error);

		ck_assert_uint_eq (stats.n_lines, 1);
	}
}
END_TEST

START_TEST (test_telegraf_fixture)
{
	g_autofree char *path =
	    astra_check_source_path ("tests", "fixtures", "line-protocol", "telegraf.lp", NULL);
	gsize len = 0;
	g_autofree char *body = astra_check_read_file (path, &len);
	g_autoptr(GError) error = NULL;
	AstraIngestStats stats = { 0 };
	AstraCheckRecorder rec = { 0 };
	g_autofree char *samples = parse_full (body, len, ASTRA_PRECISION_NS, &rec, &stats, &error);

	astra_assert_no_error (error);
	ck_assert_uint_eq (stats.n_lines, 13);
	ck_assert_uint_eq (stats.n_samples, 83);
	ck_assert_uint_eq (stats.n_rejected, 0);
	astra_assert_contains (samples, "cpu_usage_idle{cpu=cpu-total,host=agent-7} 97.8 1700000000000000\n");
	astra_assert_contains (samples, "mem_available_percent{host=agent-7} 61.25 1700000000000000\n");
	astra_assert_contains (
	    samples,
	    "disk_used_percent{device=sda1,fstype=ext4,host=agent-7,mode=rw,path=/} 42.1 1700000000000000\n");
	astra_assert_contains (samples,
			       "net_bytes_recv{host=agent-7,interface=eth0} 123456789012 1700000000000000\n");
	astra_assert_contains (samples, "ping_result_code{host=agent-7,url=8.8.8.8} 0 1700000000000000\n");
	astra_assert_contains (
	    samples, "http_response_response_time{host=agent-7,method=GET,result=success,"
		     "server=https://example.com/health?a=1&b=2,status_code=200} 0.0741 1700000000000000\n");
	astra_assert_contains (samples, "win_disk_Percent_Free_Space{host=WIN-1,instance=C:,objectname="
					"LogicalDisk} 58.5 1700000000000000\n");
	astra_assert_contains (samples, "system_load1{host=agent-7} 0.42 1700000000000000\n");
	/* uptime_format is a string: skipped */
	astra_assert_not_contains (samples, "uptime_format");
}
END_TEST

/* --- bad lines -------------------------------------------------------------------------------- */

typedef struct {
	const char *body;
	const char *error;
} BadCase;

static const BadCase bad_cases[] = {
	/* the shape of a line */
	{ "m", "line 1: missing fields" },
	{ "m ", "line 1: missing fields" },
	{ "m,t=v", "line 1: missing fields" },
	{ "m,t=v   ", "line 1: missing fields" },
	{ "f=1", "line 1: missing fields" },
	{ ",t=v f=1", "line 1: missing measurement" },
	{ " f=1", "line 1: missing fields" },
	{ "\\ ", "line 1: missing fields" },
	/* tags */
	{ "m,=v f=1", "line 1: empty tag key" },
	{ "m, f=1", "line 1: empty tag key" },
	{ "m,t f=1", "line 1: tag 't' has no '=' and value" },
	{ "m,t,u=v f=1", "line 1: tag 't' has no '=' and value" },
	{ "m,t= f=1", "line 1: tag 't' has an empty value" },
	{ "m,t=,u=v f=1", "line 1: tag 't' has an empty value" },
	{ "m,t=a=b f=1", "line 1: tag 't': unescaped '=' in the value" },
	{ "m,t=1,t=2 f=1", "line 1: duplicate tag key 't'" },
	{ "m,a\\ b=1,a\\ b=2 f=1", "line 1: duplicate tag key 'a b'" },
	/* fields */
	{ "m f", "line 1: field 'f' has no '=' and value" },
	{ "m,t=v 1700000000000000000", "line 1: field '1700000000000000000' has no '=' and value" },
	{ "m f=1,g", "line 1: field 'g' has no '=' and value" },
	{ "m f=1,g 1", "line 1: field 'g' has no '=' and value" },
	{ "m =1", "line 1: empty field key" },
	{ "m f=1,=2", "line 1: empty field key" },
	{ "m f=", "line 1: field 'f' has no value" },
	{ "m f= 1", "line 1: field 'f' has no value" },
	{ "m f=,g=1", "line 1: field 'f' has no value" },
	{ "m f=1,", "line 1: missing field after ','" },
	{ "m f=1,,g=2", "line 1: missing field after ','" },
	{ "m f=1, g=2", "line 1: missing field after ','" },
	/* numbers */
	{ "m f=1.2.3", "line 1: field 'f': invalid value '1.2.3' (expected a number, 12i, 12u, true, false "
		       "or a \"string\")" },
	{ "m f=abc", "line 1: field 'f': invalid value 'abc'" },
	{ "m f=NaN", "line 1: field 'f': invalid value 'NaN'" },
	{ "m f=nan", "line 1: field 'f': invalid value 'nan'" },
	{ "m f=inf", "line 1: field 'f': invalid value 'inf'" },
	{ "m f=-Inf", "line 1: field 'f': invalid value '-Inf'" },
	{ "m f=+1", "line 1: field 'f': invalid value '+1'" },
	{ "m f=1e", "line 1: field 'f': invalid value '1e'" },
	{ "m f=1e+", "line 1: field 'f': invalid value '1e+'" },
	{ "m f=e5", "line 1: field 'f': invalid value 'e5'" },
	{ "m f=0x10", "line 1: field 'f': invalid value '0x10'" },
	{ "m f=-", "line 1: field 'f': invalid value '-'" },
	{ "m f=.", "line 1: field 'f': invalid value '.'" },
	{ "m f=-.", "line 1: field 'f': invalid value '-.'" },
	{ "m f=--1", "line 1: field 'f': invalid value '--1'" },
	{ "m f=1_000", "line 1: field 'f': invalid value '1_000'" },
	{ "m f=1\"", "line 1: field 'f': invalid value '1\"'" },
	{ "m f=1\\", "line 1: field 'f': invalid value '1\\'" },
	{ "m f=1e999", "line 1: field 'f': number out of range '1e999'" },
	{ "m f=-1e999", "line 1: field 'f': number out of range '-1e999'" },
	{ "m f=1e99999999999999999999", "line 1: field 'f': number out of range '1e99999999999999999999'" },
	/* integers */
	{ "m f=9223372036854775808i", "line 1: field 'f': integer out of range '9223372036854775808i'" },
	{ "m f=-9223372036854775809i", "line 1: field 'f': integer out of range '-9223372036854775809i'" },
	{ "m f=99999999999999999999999i",
	  "line 1: field 'f': integer out of range '99999999999999999999999i'" },
	{ "m f=18446744073709551616u",
	  "line 1: field 'f': unsigned integer out of range '18446744073709551616u'" },
	{ "m f=-1u", "line 1: field 'f': invalid unsigned integer '-1u'" },
	{ "m f=1.5i", "line 1: field 'f': invalid integer '1.5i'" },
	{ "m f=1e3i", "line 1: field 'f': invalid integer '1e3i'" },
	{ "m f=i", "line 1: field 'f': invalid value 'i'" },
	{ "m f=-i", "line 1: field 'f': invalid integer '-i'" },
	{ "m f=u", "line 1: field 'f': invalid value 'u'" },
	{ "m f=tu", "line 1: field 'f': invalid value 'tu'" },
	{ "m f=-u", "line 1: field 'f': invalid unsigned integer '-u'" },
	{ "m f=1ii", "line 1: field 'f': invalid integer '1ii'" },
	{ "m f=+1i", "line 1: field 'f': invalid integer '+1i'" },
	{ "m f=1iu", "line 1: field 'f': invalid unsigned integer '1iu'" },
	/* booleans */
	{ "m f=tru", "line 1: field 'f': invalid value 'tru'" },
	{ "m f=TRue", "line 1: field 'f': invalid value 'TRue'" },
	{ "m f=truee", "line 1: field 'f': invalid value 'truee'" },
	{ "m f=fals", "line 1: field 'f': invalid value 'fals'" },
	{ "m f=FaLsE", "line 1: field 'f': invalid value 'FaLsE'" },
	{ "m f=yes", "line 1: field 'f': invalid value 'yes'" },
	/* strings */
	{ "m f=\"abc", "line 1: field 'f': unterminated string" },
	{ "m f=\"abc\\\"", "line 1: field 'f': unterminated string" },
	{ "m f=\"abc\\", "line 1: field 'f': unterminated string" },
	{ "m f=\"", "line 1: field 'f': unterminated string" },
	{ "m f=\"a\"b", "line 1: field 'f': unexpected text after the string" },
	{ "m f=\"a\"\"b\"", "line 1: field 'f': unexpected text after the string" },
	/* a string cannot span lines */
	{ "m f=\"a\nb\"", "line 1: field 'f': unterminated string" },
	/* timestamps */
	{ "m f=1 abc", "line 1: invalid timestamp 'abc' (expected an integer)" },
	{ "m f=1 12a", "line 1: invalid timestamp '12a' (expected an integer)" },
	{ "m f=1 1.5", "line 1: invalid timestamp '1.5' (expected an integer)" },
	{ "m f=1 1e9", "line 1: invalid timestamp '1e9' (expected an integer)" },
	{ "m f=1 -", "line 1: invalid timestamp '-' (expected an integer)" },
	{ "m f=1 +5", "line 1: invalid timestamp '+5' (expected an integer)" },
	{ "m f=1 1\t", "line 1: invalid timestamp '1\t' (expected an integer)" },
	{ "m f=1 9223372036854775808", "line 1: timestamp out of range '9223372036854775808'" },
	{ "m f=1 -9223372036854775809", "line 1: timestamp out of range '-9223372036854775809'" },
	{ "m f=1 1 2", "line 1: unexpected text after the timestamp: '2'" },
	{ "m f=1 1 x y z", "line 1: unexpected text after the timestamp: 'x y z'" },
	/* escapes */
	{ "m\\", "line 1: bad escape: backslash at the end of the line" },
	{ "m\\\r\n", "line 1: bad escape: backslash at the end of the line" },
	{ "m,t\\", "line 1: bad escape: backslash at the end of the line" },
	{ "m,t=v\\", "line 1: bad escape: backslash at the end of the line" },
	{ "m f\\", "line 1: bad escape: backslash at the end of the line" },
	{ "m f=1,g\\", "line 1: bad escape: backslash at the end of the line" },
	/* bytes */
	{ "m,t=\xff f=1", "line 1: invalid UTF-8 at column 5" },
	{ "m,t=\xc0\xaf f=1", "line 1: invalid UTF-8 at column 5" },
	{ "m,t=\xed\xa0\x80 f=1", "line 1: invalid UTF-8 at column 5" },
	{ "m,t=\xe2\x82 f=1", "line 1: invalid UTF-8 at column 5" },
	{ "m f=\"\xf5\x80\x80\x80\"", "line 1: invalid UTF-8 at column 6" },
	{ "m,t=12345678\xff f=1", "line 1: invalid UTF-8 at column 13" },
	/* columns count from the start of the line, blanks included */
	{ " \t m,t=\xff f=1", "line 1: invalid UTF-8 at column 8" },
	/* the line number counts every line, blank and comment ones too */
	{ "# c\n\n  \nm\n", "line 4: missing fields" },
	/* a long bad token is cut in the message */
	{ "m f=0123456789012345678901234567890123456789012345678901234567890123456789x",
	  "line 1: field 'f': invalid value '0123456789012345678901234567890123456789...'" },
	/* at a character boundary */
	{ "m f=012345678901234567890123456789012345678\xc3\xa9xyz",
	  "line 1: field 'f': invalid value '012345678901234567890123456789012345678...'" },
};

START_TEST (test_bad)
{
	const BadCase *c = &bad_cases[_i];
	g_autofree char *error = NULL;
	g_autofree char *samples = NULL;
	AstraIngestStats stats = { 0 };

	error = parse_bad (c->body, strlen (c->body), &stats, &samples);
	astra_assert_contains (error, c->error);
	/* a bad line gives nothing */
	ck_assert_msg (samples[0] == '\0', "'%s' gave %s", c->body, samples);
	ck_assert_uint_ge (stats.first_bad_line, 1);
}
END_TEST

/* NUL bytes are not C strings: given with their length */
START_TEST (test_nul_bytes)
{
	static const char body[] = "m f=1 1\nm,t=a\0b f=1\nm f=\"\0\"\n# comment \0 ok\nm f=3 3";
	g_autofree char *samples = NULL;
	g_autofree char *error = NULL;
	AstraIngestStats stats = { 0 };

	error = parse_bad (body, sizeof (body) - 1, &stats, &samples);
	ck_assert_str_eq (error, "line 2: NUL byte at column 6");
	ck_assert_str_eq (samples, "m_f{} 1 0\nm_f{} 3 0\n");
	ck_assert_uint_eq (stats.n_lines, 4);
	ck_assert_uint_eq (stats.n_samples, 2);
	ck_assert_uint_eq (stats.first_bad_line, 2);
}
END_TEST

/* good lines around bad ones are kept; the error names the first bad line */
START_TEST (test_bad_line_among_good)
{
	const char *body = "m f=1 1000\n"
			   "m,host=a f=2,g=3i 2000\n"
			   "# comment\n"
			   "m,host=b f=4,g=bad 3000\n"
			   "m,host=c f=5 4000\n"
			   "m f=1 1 2\n"
			   "\n"
			   "m,host=d value=6 5000\n";
	g_autofree char *samples = NULL;
	g_autofree char *error = NULL;
	AstraIngestStats stats = { 0 };

	error = parse_bad (body, strlen (body), &stats, &samples);
	ck_assert_str_eq (
	    error, "line 4: field 'g': invalid value 'bad' (expected a number, 12i, 12u, true, false or a "
		   "\"string\")");
	/* line 4's good field f=4 is not taken: a bad line gives nothing */
	ck_assert_str_eq (samples, "m_f{} 1 1\n"
				   "m_f{host=a} 2 2\n"
				   "m_g{host=a} 3 2\n"
				   "m_f{host=c} 5 4\n"
				   "m{host=d} 6 5\n");
	ck_assert_uint_eq (stats.n_lines, 6);
	ck_assert_uint_eq (stats.n_samples, 5);
	ck_assert_uint_eq (stats.n_rejected, 0);
	ck_assert_uint_eq (stats.first_bad_line, 4);
}
END_TEST

START_TEST (test_stats_optional)
{
	g_autoptr(GError) error = NULL;
	AstraCheckRecorder rec = { .out = g_string_new (NULL) };

	ck_assert (!astra_line_protocol_parse ("m f=1\nm", 7, ASTRA_PRECISION_NS, NOW, astra_check_recorder_sink, &rec,
					       NULL, &error));
	ck_assert_str_eq (error->message, "line 2: missing fields");
	ck_assert (
	    astra_line_protocol_parse ("m f=1", 5, ASTRA_PRECISION_NS, NOW, astra_check_recorder_sink, &rec, NULL, NULL));
	ck_assert (
	    !astra_line_protocol_parse ("m", 1, ASTRA_PRECISION_NS, NOW, astra_check_recorder_sink, &rec, NULL, NULL));
	/* an empty body may come as NULL (g_bytes_get_data() of an empty GBytes) */
	ck_assert (
	    astra_line_protocol_parse (NULL, 0, ASTRA_PRECISION_NS, NOW, astra_check_recorder_sink, &rec, NULL, NULL));
	ck_assert_str_eq (rec.out->str, "m_f{} 1 1766000000000000\nm_f{} 1 1766000000000000\n");
	g_string_free (rec.out, TRUE);
}
END_TEST

typedef struct {
	AstraPrecision precision;
	const char *timestamp;
} RangeCase;

static const RangeCase range_cases[] = {
	{ ASTRA_PRECISION_MS, "9223372036854776" }, { ASTRA_PRECISION_MS, "-9223372036854776" },
	{ ASTRA_PRECISION_S, "9223372036855" },     { ASTRA_PRECISION_M, "153722867281" },
	{ ASTRA_PRECISION_H, "2562047789" },        { ASTRA_PRECISION_H, "-2562047789" },
};

START_TEST (test_timestamp_range)
{
	const RangeCase *c = &range_cases[_i];
	g_autofree char *body = g_strdup_printf ("m f=1 %s", c->timestamp);
	g_autofree char *expected = g_strdup_printf ("line 1: timestamp out of range '%s'", c->timestamp);
	g_autoptr(GError) error = NULL;
	AstraIngestStats stats = { 0 };
	AstraCheckRecorder rec = { 0 };
	g_autofree char *samples = parse_full (body, strlen (body), c->precision, &rec, &stats, &error);

	ck_assert_msg (error != NULL, "%s accepted", body);
	ck_assert_str_eq (error->message, expected);
	ck_assert_str_eq (samples, "");
}
END_TEST

/* --- precision -------------------------------------------------------------------------------- */

START_TEST (test_precision)
{
	const struct {
		const char *str;
		AstraPrecision precision;
	} good[] = {
		{ NULL, ASTRA_PRECISION_NS }, { "", ASTRA_PRECISION_NS },  { "n", ASTRA_PRECISION_NS },
		{ "ns", ASTRA_PRECISION_NS }, { "u", ASTRA_PRECISION_US }, { "us", ASTRA_PRECISION_US },
		{ "ms", ASTRA_PRECISION_MS }, { "s", ASTRA_PRECISION_S },  { "m", ASTRA_PRECISION_M },
		{ "h", ASTRA_PRECISION_H },
	};
	const char *bad[] = { "x", "N", "MS", "sec", "nanoseconds", " s", "s ", "d", "µs", "mss" };

	for (guint i = 0; i < G_N_ELEMENTS (good); i++) {
		AstraPrecision precision = ASTRA_PRECISION_H;
		ck_assert_msg (astra_precision_from_string (good[i].str, &precision), "%s", good[i].str);
		ck_assert_int_eq (precision, good[i].precision);
	}
	for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
		AstraPrecision precision = ASTRA_PRECISION_H;
		ck_assert_msg (!astra_precision_from_string (bad[i], &precision), "%s", bad[i]);
		ck_assert_int_eq (precision, ASTRA_PRECISION_H);
	}
}
END_TEST

/* --- the sink refusing ------------------------------------------------------------------------ */

START_TEST (test_sink_refuses)
{
	const char *body = "m f=1 1\n"
			   "m,host=a f=2,bad=3,g=4,bad2=5 2\n"
			   "m bad=6 3\n"
			   "m f=7 4\n";
	g_autoptr(GError) error = NULL;
	AstraIngestStats stats = { 0 };
	AstraCheckRecorder rec = { .refuse = "bad", .reason = ASTRA_SERIES_REJECT_CARDINALITY };
	g_autofree char *samples = parse_full (body, strlen (body), ASTRA_PRECISION_NS, &rec, &stats, &error);

	ck_assert_ptr_nonnull (error);
	ck_assert_str_eq (error->message, "line 2: series limit reached (metric 'm_bad')");
	/* the line's other samples are still offered; the other lines go on */
	ck_assert_str_eq (samples, "m_f{} 1 0\nm_f{host=a} 2 0\nm_g{host=a} 4 0\nm_f{} 7 0\n");
	ck_assert_uint_eq (stats.n_lines, 4);
	ck_assert_uint_eq (stats.n_samples, 4);
	ck_assert_uint_eq (stats.n_rejected, 3);
	ck_assert_uint_eq (stats.first_bad_line, 2);
}
END_TEST

/* a refusal after a bad line: the first bad line is still the one named */
START_TEST (test_sink_refuses_after_bad_line)
{
	const char *body = "m f= 1\nm bad=1 2\n";
	g_autoptr(GError) error = NULL;
	AstraIngestStats stats = { 0 };
	AstraCheckRecorder rec = { .refuse = "bad", .reason = ASTRA_SERIES_REJECT_NAME };
	g_autofree char *samples = parse_full (body, strlen (body), ASTRA_PRECISION_NS, &rec, &stats, &error);

	ck_assert_str_eq (error->message, "line 1: field 'f' has no value");
	ck_assert_uint_eq (stats.n_rejected, 1);
	ck_assert_uint_eq (stats.first_bad_line, 1);
}
END_TEST

START_TEST (test_sink_refuses_without_reason)
{
	g_autoptr(GError) error = NULL;
	AstraIngestStats stats = { 0 };
	AstraCheckRecorder rec = { .refuse = "m", .reason = ASTRA_SERIES_REJECT_NONE };
	g_autofree char *samples = parse_full ("m value=1", 9, ASTRA_PRECISION_NS, &rec, &stats, &error);

	ck_assert_str_eq (error->message, "line 1: sample rejected (metric 'm')");
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

/* the real series store as the sink: its bounds become bad lines */
START_TEST (test_series_store)
{
	g_autoptr(AstraSeriesStore) store = astra_series_store_new ();
	g_autoptr(GError) error = NULL;
	AstraIngestStats stats = { 0 };
	const char *body = "m,host=a f=1\n"
			   "m,host=b f=1\n"
			   "m,host=a f=2\n"
			   "m,host=c f=1\n"
			   "m,a=1,b=2,c=3 f=1\n"
			   "bad\\ name f=1\n";

	astra_series_store_set_limits (store, 2, 2, 128, 1024);
	ck_assert (!astra_line_protocol_parse (body, strlen (body), ASTRA_PRECISION_NS, NOW, store_sink,
					       store, &stats, &error));
	ck_assert_str_eq (error->message, "line 4: series limit reached (metric 'm_f')");
	ck_assert_uint_eq (stats.n_lines, 6);
	ck_assert_uint_eq (stats.n_samples, 3);
	ck_assert_uint_eq (stats.n_rejected, 3);
	ck_assert_uint_eq (stats.first_bad_line, 4);
	ck_assert_uint_eq (astra_series_store_get_size (store), 2);
	ck_assert_uint_eq (astra_series_store_get_rejected (store, ASTRA_SERIES_REJECT_CARDINALITY), 1);
	ck_assert_uint_eq (astra_series_store_get_rejected (store, ASTRA_SERIES_REJECT_TOO_MANY_LABELS), 1);
	ck_assert_uint_eq (astra_series_store_get_rejected (store, ASTRA_SERIES_REJECT_NAME), 1);
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
	ck_assert_uint_le (n_labels, ASTRA_LINE_PROTOCOL_MAX_TAGS);
	for (guint i = 0; i < n_labels; i++) {
		ck_assert (labels[i].name[0] != '\0');
		ck_assert (labels[i].value[0] != '\0');
		ck_assert (g_utf8_validate (labels[i].name, -1, NULL));
		ck_assert (g_utf8_validate (labels[i].value, -1, NULL));
		for (guint j = 0; j < i; j++)
			ck_assert_str_ne (labels[i].name, labels[j].name);
	}
	/* refuse a few, to exercise that path too */
	if (g_str_has_suffix (metric, "_z")) {
		*reject = ASTRA_SERIES_REJECT_NAME;
		return FALSE;
	}
	astra_check_recorder_append (out, metric, labels, n_labels, value, timestamp_us);
	return TRUE;
}

static const char *const mutation_seeds[] = {
	PING_LINE "\n" PING_LINE "\n",
	"m,ta\\ g=v\\,a\\=l f\\ k=1,s=\"x\\\"y\",b=t,i=-5i,u=7u,z=1 123\r\n# c\n\nw,p=C:\\dir value=1.5e3\n",
	"cpu,cpu=cpu-total,host=h usage_idle=97.8,usage_user=1.2 1700000000000000000\n"
	"mem,host=h available_percent=61.25,used=123456789u 1700000000000000000\n",
};

static const char mutation_bytes[] = { '\\',   ',', '=', ' ', '"', '\n', '\r', '#', '\0', '\xff',
				       '\xc3', 'i', 'u', 'e', '.', '-',  't',  '0', '9',  'z' };

static void
mutate (GRand *rand, GString *s)
{
	guint n = g_rand_int_range (rand, 1, 5);

	for (guint k = 0; k < n; k++) {
		guint pos = s->len > 0 ? (guint) g_rand_int_range (rand, 0, (gint32) s->len) : 0;
		switch (g_rand_int_range (rand, 0, 6)) {
		case 0: /* replace a byte */
			if (s->len > 0)
				s->str[pos] =
				    mutation_bytes[g_rand_int_range (rand, 0, sizeof (mutation_bytes))];
			break;
		case 1: /* insert a byte */
			g_string_insert_len (
			    s, pos, &mutation_bytes[g_rand_int_range (rand, 0, sizeof (mutation_bytes))], 1);
			break;
		case 2: { /* delete a few */
			gssize len = g_rand_int_range (rand, 1, 8);
			g_string_erase (s, pos, MIN ((gssize) (s->len - pos), len));
			break;
		}
		case 3: /* truncate */
			g_string_truncate (s, pos);
			break;
		case 4: /* duplicate a piece */
			if (s->len > 0) {
				guint len = MIN (s->len - pos, (guint) g_rand_int_range (rand, 1, 40));
				g_autofree char *piece = g_strndup (s->str + pos, len);
				g_string_insert_len (s, g_rand_int_range (rand, 0, (gint32) s->len + 1),
						     piece, len);
			}
			break;
		default: /* flip a bit */
			if (s->len > 0)
				s->str[pos] ^= (char) (1 << g_rand_int_range (rand, 0, 8));
			break;
		}
	}
}

/* runs the parser on @body; the samples, and the line (0 if none) and error */
static char *
mutation_run (const char *body, gsize len, AstraIngestStats *stats, char **error_msg)
{
	g_autoptr(GError) error = NULL;
	GString *out = g_string_new (NULL);
	gboolean ok;

	ok =
	    astra_line_protocol_parse (body, len, ASTRA_PRECISION_MS, NOW, checking_sink, out, stats, &error);
	ck_assert_int_eq (ok, error == NULL);
	ck_assert_int_eq (ok, stats->first_bad_line == 0);
	if (!ok) {
		g_autofree char *prefix = g_strdup_printf ("line %u: ", stats->first_bad_line);
		ck_assert (g_error_matches (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA));
		ck_assert_msg (g_str_has_prefix (error->message, prefix), "%s", error->message);
		ck_assert (g_utf8_validate (error->message, -1, NULL));
	}
	if (error_msg != NULL)
		*error_msg = ok ? NULL : g_strdup (error->message);
	return g_string_free (out, FALSE);
}

/* no crash, invariants hold, and a body gives what its lines give one by one */
START_TEST (test_mutations)
{
	g_autoptr(GRand) rand = g_rand_new_with_seed (20251217);

	for (guint iter = 0; iter < 20000; iter++) {
		g_autoptr(GString) body =
			       g_string_new (mutation_seeds[iter % G_N_ELEMENTS (mutation_seeds)]);
		g_autoptr(GString) per_line = g_string_new (NULL);
		g_autofree char *samples = NULL;
		g_autofree char *error_msg = NULL;
		AstraIngestStats stats = { 0 };
		AstraIngestStats total = { 0 };
		guint lineno = 0;
		const char *p;
		const char *end;

		mutate (rand, body);
		samples = mutation_run (body->str, body->len, &stats, &error_msg);

		/* line by line */
		p = body->str;
		end = body->str + body->len;
		while (p < end) {
			const char *nl = memchr (p, '\n', (gsize) (end - p));
			gsize len = (gsize) ((nl != NULL ? nl : end) - p);
			g_autofree char *line_samples = NULL;
			g_autofree char *line_error = NULL;
			AstraIngestStats line_stats = { 0 };

			lineno++;
			line_samples = mutation_run (p, len, &line_stats, &line_error);
			g_string_append (per_line, line_samples);
			total.n_lines += line_stats.n_lines;
			total.n_samples += line_stats.n_samples;
			total.n_rejected += line_stats.n_rejected;
			if (line_error != NULL && total.first_bad_line == 0) {
				g_autofree char *expected = NULL;
				total.first_bad_line = lineno;
				/* the same reason, under its line number in the body */
				expected =
				    g_strdup_printf ("line %u: %s", lineno, line_error + strlen ("line 1: "));
				ck_assert_str_eq (error_msg, expected);
			}
			p = nl != NULL ? nl + 1 : end;
		}
		ck_assert_str_eq (samples, per_line->str);
		ck_assert_uint_eq (stats.n_lines, total.n_lines);
		ck_assert_uint_eq (stats.n_samples, total.n_samples);
		ck_assert_uint_eq (stats.n_rejected, total.n_rejected);
		ck_assert_uint_eq (stats.first_bad_line, total.first_bad_line);
	}
}
END_TEST

/* --- speed, printed only ---------------------------------------------------------------------- */

static gboolean
counting_sink (const char *metric,
	       const AstraLabel *labels,
	       guint n_labels,
	       double value,
	       gint64 timestamp_us,
	       AstraSeriesReject *reject,
	       gpointer user_data)
{
	guint64 *sum = user_data;

	*sum += (guint64) n_labels + (guint64) timestamp_us + (guint64) metric[0];
	return TRUE;
}

START_TEST (test_speed)
{
	const guint n_lines = 100000;
	g_autoptr(AstraSeriesStore) store = NULL;
	g_autoptr(GString) body = g_string_sized_new (n_lines * (sizeof (PING_LINE) + 1));
	gint64 best = G_MAXINT64;
	guint64 sum = 0;

	for (guint i = 0; i < n_lines; i++)
		g_string_append (body, PING_LINE "\n");
	for (guint round = 0; round < 5; round++) {
		AstraIngestStats stats = { 0 };
		gint64 start = g_get_monotonic_time ();
		ck_assert (astra_line_protocol_parse (body->str, body->len, ASTRA_PRECISION_NS, NOW,
						      counting_sink, &sum, &stats, NULL));
		best = MIN (best, g_get_monotonic_time () - start);
		ck_assert_uint_eq (stats.n_samples, 3 * n_lines);
	}
	ck_assert_uint_gt (sum, 0);
	g_print (
	    "line protocol: %u typical Telegraf lines (3 samples each) in %.1f ms: %.2f million lines/s, "
	    "%.0f ns per line (parser alone)\n",
	    n_lines, best / 1000.0, n_lines / (double) MAX (best, 1), best * 1000.0 / n_lines);

	/* the same into the series store, as /write does before the rule engine */
	store = astra_series_store_new ();
	best = G_MAXINT64;
	for (guint round = 0; round < 5; round++) {
		AstraIngestStats stats = { 0 };
		gint64 start = g_get_monotonic_time ();
		ck_assert (astra_line_protocol_parse (body->str, body->len, ASTRA_PRECISION_NS, NOW,
						      store_sink, store, &stats, NULL));
		best = MIN (best, g_get_monotonic_time () - start);
	}
	ck_assert_uint_eq (astra_series_store_get_size (store), 3);
	g_print ("line protocol: %.2f million lines/s, %.0f ns per line into the series store\n",
		 n_lines / (double) MAX (best, 1), best * 1000.0 / n_lines);
}
END_TEST

static Suite *
line_protocol_suite (void)
{
	Suite *s = suite_create ("line-protocol");
	TCase *tc;

	tc = tcase_create ("good");
	tcase_add_loop_test (tc, test_good, 0, G_N_ELEMENTS (good_cases));
	tcase_add_test (tc, test_many_fields);
	tcase_add_test (tc, test_max_tags);
	tcase_add_test (tc, test_duplicate_tags);
	tcase_add_test (tc, test_max_line_length);
	tcase_add_test (tc, test_not_nul_terminated);
	tcase_add_test (tc, test_telegraf_fixture);
	tcase_add_test (tc, test_precision);
	suite_add_tcase (s, tc);

	tc = tcase_create ("bad");
	tcase_add_loop_test (tc, test_bad, 0, G_N_ELEMENTS (bad_cases));
	tcase_add_test (tc, test_nul_bytes);
	tcase_add_test (tc, test_bad_line_among_good);
	tcase_add_test (tc, test_stats_optional);
	tcase_add_loop_test (tc, test_timestamp_range, 0, G_N_ELEMENTS (range_cases));
	suite_add_tcase (s, tc);

	tc = tcase_create ("sink");
	tcase_add_test (tc, test_sink_refuses);
	tcase_add_test (tc, test_sink_refuses_after_bad_line);
	tcase_add_test (tc, test_sink_refuses_without_reason);
	tcase_add_test (tc, test_series_store);
	suite_add_tcase (s, tc);

	tc = tcase_create ("mutations");
	tcase_add_test (tc, test_mutations);
	suite_add_tcase (s, tc);

	tc = tcase_create ("speed");
	tcase_add_test (tc, test_speed);
	suite_add_tcase (s, tc);

	return s;
}

int
main (void)
{
	return astra_check_run_suite (line_protocol_suite ());
}
