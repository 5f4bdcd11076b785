/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <check.h>
#include <math.h>
#include <string.h>

#include "astra-check-common.h"
#include "astra-check-samples.h"

void
astra_check_recorder_append (
    GString *out, const char *metric, const AstraLabel *labels, guint n_labels, double value, gint64 ts)
{
	g_string_append_printf (out, "%s{", metric);
	for (guint i = 0; i < n_labels; i++)
		g_string_append_printf (out, "%s%s=%s", i > 0 ? "," : "", labels[i].name, labels[i].value);
	g_string_append (out, "} ");
	astra_json_format_number (out, value);
	g_string_append_printf (out, " %" G_GINT64_FORMAT "\n", ts);
}

gboolean
astra_check_recorder_sink (const char *metric,
			   const AstraLabel *labels,
			   guint n_labels,
			   double value,
			   gint64 timestamp_us,
			   AstraSeriesReject *reject,
			   gpointer user_data)
{
	AstraCheckRecorder *rec = user_data;

	rec->n_calls++;
	ck_assert (metric[0] != '\0');
	ck_assert_msg (isfinite (value), "%s: not finite", metric);
	if (rec->refuse != NULL && strstr (metric, rec->refuse) != NULL) {
		*reject = rec->reason;
		return FALSE;
	}
	astra_check_recorder_append (rec->out, metric, labels, n_labels, value, timestamp_us);
	return TRUE;
}
