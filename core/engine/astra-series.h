/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/*
 * Series: a metric name plus a set of labels, interned once.
 *
 * Every sample names its series; the store turns (metric, labels) into one
 * AstraSeries, found again by a hash lookup without allocating, so the hot
 * path (line protocol, samples reports) costs a hash and a compare per
 * sample. The store bounds what outsiders can make it hold: labels per
 * series, name and value lengths, and the number of series (the cardinality
 * limit): a sample beyond a bound is rejected and counted, never stored.
 */

#define ASTRA_SERIES_DEFAULT_MAX_SERIES 1000000
#define ASTRA_SERIES_DEFAULT_MAX_LABELS 32
#define ASTRA_SERIES_DEFAULT_MAX_NAME_LENGTH 128
#define ASTRA_SERIES_DEFAULT_MAX_VALUE_LENGTH 1024

typedef struct {
	const char *name;
	const char *value;
} AstraLabel;

typedef struct _AstraSeries AstraSeries;

/* read-only for everyone but the store; the rule engine owns rule_state */
struct _AstraSeries {
	guint32 id;               /* dense, from 1, never reused while the store lives */
	const char *metric;
	guint n_labels;
	const AstraLabel *labels; /* sorted by name, names unique */
	gpointer rule_state;      /* owned by the rule engine */
	guint rule_generation;    /* the rule set rule_state was built for */
};

typedef enum {
	ASTRA_SERIES_REJECT_NONE,
	ASTRA_SERIES_REJECT_NAME,        /* metric or label name empty, too long, or not [a-zA-Z_:][a-zA-Z0-9_:.-]* */
	ASTRA_SERIES_REJECT_VALUE,       /* label value too long or not UTF-8 */
	ASTRA_SERIES_REJECT_TOO_MANY_LABELS,
	ASTRA_SERIES_REJECT_DUPLICATE_LABEL,
	ASTRA_SERIES_REJECT_CARDINALITY, /* the store is full */
	ASTRA_SERIES_REJECT_LAST,
} AstraSeriesReject;

#define ASTRA_TYPE_SERIES_STORE (astra_series_store_get_type ())
G_DECLARE_FINAL_TYPE (AstraSeriesStore, astra_series_store, ASTRA, SERIES_STORE, GObject)

AstraSeriesStore *astra_series_store_new (void);
void astra_series_store_set_limits (AstraSeriesStore *self,
				    guint max_series,
				    guint max_labels,
				    guint max_name_length,
				    guint max_value_length);
/* finds or creates the series; labels need not be sorted and are copied on creation.
 * Returns NULL and sets *reject (if non-NULL) when a bound refuses it; the refusal is counted. */
AstraSeries *astra_series_store_lookup (AstraSeriesStore *self,
					const char *metric,
					const AstraLabel *labels,
					guint n_labels,
					AstraSeriesReject *reject);
/* name is [a-zA-Z_:][a-zA-Z0-9_:.-]* and at most max_length bytes: what the store takes as a
 * metric or label name, and what rules may name */
gboolean astra_series_name_is_valid (const char *name, guint max_length);
/* the value of label name in series, or NULL */
const char *astra_series_get_label (const AstraSeries *series, const char *name);
guint astra_series_store_get_size (AstraSeriesStore *self);
guint64 astra_series_store_get_rejected (AstraSeriesStore *self, AstraSeriesReject reason);
/* calls func for every series, in id order */
void astra_series_store_foreach (AstraSeriesStore *self,
				 void (*func) (AstraSeries *series, gpointer user_data),
				 gpointer user_data);
const char *astra_series_reject_to_string (AstraSeriesReject reason);
/* bytes the store holds per series on average, for the benchmark */
gsize astra_series_store_get_memory_size (AstraSeriesStore *self);

G_END_DECLS
