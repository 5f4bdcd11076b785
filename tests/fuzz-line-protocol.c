/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * A libFuzzer target for astra_line_protocol_parse() and astra_collectd_parse(); not built by meson.
 * The first byte picks the parser (line protocol in each precision, or collectd) and the rest is the
 * body. Every input must be parsed without a crash, the sink must only see finite values and
 * non-empty UTF-8 names, the stats must agree with the calls and the error, and the line protocol
 * must give for a body exactly what it gives for each of its lines alone.
 *
 *   cd /work/main
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -DASTRA_COMPILATION -Ibuild -Iinclude \
 *     -Iinclude/astra -Icore/engine $(pkg-config --cflags gio-2.0 json-glib-1.0) -o /tmp/fuzz-lp \
 *     tests/fuzz-line-protocol.c core/engine/astra-line-protocol.c core/engine/astra-collectd.c \
 *     core/engine/astra-series.c core/sdk/astra-json.c core/sdk/astra-json-parser.c \
 *     core/sdk/astra-error.c $(pkg-config --libs gio-2.0 json-glib-1.0) -lm
 *   /tmp/fuzz-lp -max_len=4096 -max_total_time=300
 */

#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "astra-collectd.h"
#include "astra-line-protocol.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

typedef struct {
	GString *out;
	guint n_calls;
} FuzzSink;

static void
fuzz_check (gboolean ok, const char *what)
{
	if (!ok) {
		g_printerr ("invariant broken: %s\n", what);
		abort ();
	}
}

static gboolean
fuzz_sink (const char *metric,
	   const AstraLabel *labels,
	   guint n_labels,
	   double value,
	   gint64 timestamp_us,
	   AstraSeriesReject *reject,
	   gpointer user_data)
{
	FuzzSink *sink = user_data;

	sink->n_calls++;
	fuzz_check (metric[0] != '\0' && g_utf8_validate (metric, -1, NULL), "metric name");
	fuzz_check (isfinite (value), "finite value");
	for (guint i = 0; i < n_labels; i++) {
		fuzz_check (labels[i].name[0] != '\0' && g_utf8_validate (labels[i].name, -1, NULL),
			    "label name");
		fuzz_check (labels[i].value[0] != '\0' && g_utf8_validate (labels[i].value, -1, NULL),
			    "label value");
	}
	g_string_append_printf (sink->out, "%s %u %a %" G_GINT64_FORMAT "\n", metric, n_labels, value,
				timestamp_us);
	/* refuse some, deterministically, to run that path too */
	if (g_str_has_suffix (metric, "_z")) {
		*reject = ASTRA_SERIES_REJECT_NAME;
		return FALSE;
	}
	return TRUE;
}

/* runs one parser; the sink's record */
static GString *
fuzz_run (guint8 mode, const char *body, gsize len, AstraIngestStats *stats, char **error_msg)
{
	g_autoptr(GError) error = NULL;
	FuzzSink sink = { g_string_new (NULL), 0 };
	gboolean ok;

	if (mode < 6)
		ok = astra_line_protocol_parse (body, len, (AstraPrecision) mode, 1766000000000000, fuzz_sink,
						&sink, stats, &error);
	else
		ok = astra_collectd_parse (body, len, 1766000000000000, fuzz_sink, &sink, stats, &error);
	fuzz_check (ok == (error == NULL), "return value and error agree");
	fuzz_check (stats->n_samples + stats->n_rejected == sink.n_calls, "stats count the sink's calls");
	if (mode < 6)
		fuzz_check (ok == (stats->first_bad_line == 0), "first_bad_line set iff an error");
	if (!ok) {
		fuzz_check (g_utf8_validate (error->message, -1, NULL), "error message is UTF-8");
		if (stats->first_bad_line != 0) {
			g_autofree char *prefix = g_strdup_printf (
			    "%s %u: ", mode < 6 ? "line" : "value list", stats->first_bad_line);
			fuzz_check (g_str_has_prefix (error->message, prefix),
				    "error names the first bad line");
		}
	}
	*error_msg = ok ? NULL : g_strdup (error->message);
	return sink.out;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
	g_autoptr(GString) whole = NULL;
	g_autoptr(GString) per_line = NULL;
	g_autofree char *error_msg = NULL;
	g_autofree char *first_error = NULL;
	AstraIngestStats stats = { 0 };
	guint8 mode;
	const char *body;
	const char *p;
	const char *end;
	guint lineno = 0;

	if (size == 0)
		return 0;
	mode = data[0] % 7;
	body = (const char *) data + 1;
	whole = fuzz_run (mode, body, size - 1, &stats, &error_msg);
	if (mode == 6)
		return 0;

	/* the line protocol: lines are independent */
	per_line = g_string_new (NULL);
	p = body;
	end = body + size - 1;
	while (p < end) {
		const char *nl = memchr (p, '\n', (gsize) (end - p));
		gsize len = (gsize) ((nl != NULL ? nl : end) - p);
		g_autoptr(GString) one = NULL;
		g_autofree char *one_error = NULL;
		AstraIngestStats one_stats = { 0 };

		lineno++;
		one = fuzz_run (mode, p, len, &one_stats, &one_error);
		g_string_append_len (per_line, one->str, (gssize) one->len);
		if (one_error != NULL && first_error == NULL)
			first_error =
			    g_strdup_printf ("line %u: %s", lineno, one_error + strlen ("line 1: "));
		p = nl != NULL ? nl + 1 : end;
	}
	fuzz_check (g_string_equal (whole, per_line), "a body gives what its lines give");
	fuzz_check (g_strcmp0 (error_msg, first_error) == 0, "a body's error is its first bad line's");
	return 0;
}
