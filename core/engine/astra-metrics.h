/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/*
 * The daemon's own numbers, served as Prometheus text on GET /metrics.
 *
 * Counters are registered once with fixed label names and incremented by
 * label values (a hash lookup, no allocation once a series exists); values
 * the metrics registry does not own (queue depths, circuit states, process
 * RSS) come from collectors that write their lines when /metrics is read.
 * Label values come from config (webhook names) and the code, never from
 * request data, so the number of series stays bounded.
 */

typedef struct _AstraCounter AstraCounter;

/* writes sample lines ("name{labels} value\n") for one metric family, whose HELP and TYPE are written for it */
typedef void (*AstraMetricsCollectFunc) (GString *out, const char *name, gpointer user_data);

#define ASTRA_TYPE_METRICS (astra_metrics_get_type ())
G_DECLARE_FINAL_TYPE (AstraMetrics, astra_metrics, ASTRA, METRICS, GObject)

AstraMetrics *astra_metrics_new (void);
/* a counter family: name (e.g. "astra_deliveries_total"), help, NULL-terminated label names (NULL for none);
 * owned by the registry, valid as long as it */
AstraCounter *astra_metrics_counter (AstraMetrics *self, const char *name, const char *help, const char *const *labels);
/* adds by to the series with these label values (as many as the family has labels) */
void astra_counter_add (AstraCounter *counter, const char *const *values, guint64 by);
void astra_counter_inc (AstraCounter *counter, const char *const *values);
/* a gauge (or counter) family whose samples func writes at scrape time */
void astra_metrics_add_collector (AstraMetrics *self,
				  const char *name,
				  const char *help,
				  const char *type,
				  AstraMetricsCollectFunc func,
				  gpointer user_data);
/* the whole exposition, text format 0.0.4, families in registration order */
GBytes *astra_metrics_render (AstraMetrics *self);
/* appends a label value escaped as the text format wants (\\, \", \n) */
void astra_metrics_append_label_value (GString *out, const char *value);

G_END_DECLS
