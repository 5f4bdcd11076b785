/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A sample sink for the ingest parsers' suites (line protocol, collectd):
 * it records each sample as one line "metric{a=b,...} value timestamp\n".
 */

#pragma once

#include "astra-engine-types.h"

G_BEGIN_DECLS

typedef struct {
	GString *out;
	guint n_calls;
	/* refuse metrics containing this, with this reason */
	const char *refuse;
	AstraSeriesReject reason;
} AstraCheckRecorder;

/* appends "metric{a=b,...} value timestamp\n" to out */
void astra_check_recorder_append (
    GString *out, const char *metric, const AstraLabel *labels, guint n_labels, double value, gint64 ts);
/* an AstraSampleSinkFunc; user_data is an AstraCheckRecorder */
gboolean astra_check_recorder_sink (const char *metric,
				   const AstraLabel *labels,
				   guint n_labels,
				   double value,
				   gint64 timestamp_us,
				   AstraSeriesReject *reject,
				   gpointer user_data);

G_END_DECLS
