/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib-object.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

/*
 * The daemon's own numbers, served as Prometheus text on GET /metrics.
 *
 * Counters are registered once with fixed label names and incremented by
 * label values (a hash lookup, no allocation once a series exists); values
 * the metrics registry does not own (queue depths, circuit states, process
 * RSS) come from collectors that write their lines when /metrics is read.
 * Label values come from config (webhook names) and the code, never from
 * request data, so the number of series stays bounded; past a bound per
 * family (astra_metrics_set_max_series()) new label values are counted in
 * one series whose label values are all ASTRA_METRICS_OVERFLOW_VALUE.
 *
 * Like the rest of the engine, the registry is used from the main loop only.
 */

#define ASTRA_METRICS_DEFAULT_MAX_SERIES 10000
#define ASTRA_METRICS_OVERFLOW_VALUE	 "__overflow__"
#define ASTRA_METRICS_CONTENT_TYPE	 "text/plain; version=0.0.4; charset=utf-8"

typedef struct _AstraCounter AstraCounter;
/* one series of a counter: hot paths may keep it instead of looking it up by label values */
typedef struct _AstraCounterSeries AstraCounterSeries;

/* writes sample lines ("name{labels} value\n") for one metric family, whose HELP and TYPE are written for it */
typedef void (*AstraMetricsCollectFunc) (GString *out, const char *name, gpointer user_data);

#define ASTRA_TYPE_METRICS (astra_metrics_get_type ())
G_DECLARE_FINAL_TYPE (AstraMetrics, astra_metrics, ASTRA, METRICS, GObject)

AstraMetrics *astra_metrics_new (void);
/* series per counter family before the overflow series takes the rest (default ASTRA_METRICS_DEFAULT_MAX_SERIES) */
void astra_metrics_set_max_series (AstraMetrics *self, guint max_series);
/* a counter family: name (e.g. "astra_deliveries_total"), help, NULL-terminated label names (NULL for none);
 * owned by the registry, valid as long as it; registering the same name and labels again returns the same counter */
AstraCounter *astra_metrics_counter (AstraMetrics *self, const char *name, const char *help, const char *const *labels);
/* adds by to the series with these label values (as many as the family has labels) */
void astra_counter_add (AstraCounter *counter, const char *const *values, guint64 by);
void astra_counter_inc (AstraCounter *counter, const char *const *values);
/* the series with these label values, made if needed (or the overflow series); valid as long as the registry */
AstraCounterSeries *astra_counter_get_series (AstraCounter *counter, const char *const *values);
void astra_counter_series_add (AstraCounterSeries *series, guint64 by);
/* the value of the series with these label values, 0 if it does not exist (it is not made) */
guint64 astra_counter_get_value (AstraCounter *counter, const char *const *values);
guint astra_counter_get_n_series (AstraCounter *counter);
/* a gauge (or counter) family whose samples func writes at scrape time */
void astra_metrics_add_collector (AstraMetrics *self,
				  const char *name,
				  const char *help,
				  const char *type,
				  AstraMetricsCollectFunc func,
				  gpointer user_data);
/* forgets a collector family (when its user_data goes away); FALSE if there was none */
gboolean astra_metrics_remove_collector (AstraMetrics *self, const char *name);
/* process_resident_memory_bytes, process_virtual_memory_bytes, process_open_fds, process_max_fds,
 * process_start_time_seconds and process_cpu_seconds_total, as Prometheus' client libraries name them */
void astra_metrics_add_process_collectors (AstraMetrics *self);
/* the whole exposition, text format 0.0.4, families in registration order, series sorted by label values */
GBytes *astra_metrics_render (AstraMetrics *self);
/* answers a GET or HEAD of /metrics with the exposition, anything else with 405 */
void astra_metrics_handle (AstraMetrics *self, SoupServerMessage *msg);

/* for collectors */

/* appends a label value escaped as the text format wants (\\, \", \n) */
void astra_metrics_append_label_value (GString *out, const char *value);
/* appends a sample value: the shortest round-trip decimal, or NaN, +Inf, -Inf */
void astra_metrics_append_value (GString *out, double value);
/* appends a whole sample line: name{l1="v1",...} value\n; names and values NULL-terminated alike (or NULL) */
void astra_metrics_append_sample (GString *out,
				  const char *name,
				  const char *const *label_names,
				  const char *const *label_values,
				  double value);

G_END_DECLS
