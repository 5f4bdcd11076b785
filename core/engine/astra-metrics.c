/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <dirent.h>
#include <math.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "astra.h"
#include "astra-ingest.h"
#include "astra-metrics.h"

/* what the index of a counter hashes and compares: a lookup builds one on the stack, without allocating */
typedef struct {
	guint32 hash;
	guint n_values;
	const char *const *values;
} AstraCounterProbe;

/* one allocation: the series, then its values' pointers, then their strings */
struct _AstraCounterSeries {
	AstraCounterProbe key; /* first: the index sees series and probes alike */
	guint64 value;
};

struct _AstraCounter {
	char *name;
	guint n_labels;
	GStrv labels;
	GHashTable *index;            /* AstraCounterSeries -> itself */
	GPtrArray *series;            /* AstraCounterSeries, owned; sorted by label values unless unsorted */
	gboolean unsorted;            /* a series was made since the last sort */
	guint max_series;             /* made before the overflow series takes the rest */
	AstraCounterSeries *overflow; /* made once the family is full */
	AstraCounterSeries *single;   /* the one series of a family without labels */
};

typedef struct {
	char *name;
	char *header; /* "# HELP ...\n# TYPE ...\n", written at every scrape */
	AstraCounter *counter;
	AstraMetricsCollectFunc func; /* when not a counter */
	gpointer user_data;
} AstraMetricsFamily;

struct _AstraMetrics {
	GObject parent_instance;
	GPtrArray *families; /* AstraMetricsFamily, in registration order */
	GHashTable *by_name; /* name -> AstraMetricsFamily */
	guint max_series;
	gsize last_size; /* of the last exposition: the next one starts that big */
	double process_start_time;
};

G_DEFINE_FINAL_TYPE (AstraMetrics, astra_metrics, G_TYPE_OBJECT)

static const char *const astra_metrics_types[] = { "counter", "gauge", "histogram", "summary", "untyped" };

/* FNV-1a over the values, terminators included so "ab"+"c" and "a"+"bc" differ; FALSE on a NULL value */
static gboolean
astra_counter_hash_values (const char *const *values, guint n_values, guint32 *hash)
{
	guint32 h = 2166136261u;

	for (guint i = 0; i < n_values; i++) {
		const guchar *p = (const guchar *) values[i];

		if (G_UNLIKELY (p == NULL))
			return FALSE;
		for (;; p++) {
			h ^= *p;
			h *= 16777619u;
			if (*p == '\0')
				break;
		}
	}
	*hash = h;
	return TRUE;
}

static guint
astra_counter_probe_hash (gconstpointer key)
{
	return ((const AstraCounterProbe *) key)->hash;
}

static gboolean
astra_counter_probe_equal (gconstpointer a, gconstpointer b)
{
	const AstraCounterProbe *x = a;
	const AstraCounterProbe *y = b;

	if (x->hash != y->hash || x->n_values != y->n_values)
		return FALSE;
	for (guint i = 0; i < x->n_values; i++) {
		if (strcmp (x->values[i], y->values[i]) != 0)
			return FALSE;
	}
	return TRUE;
}

static gint
astra_counter_series_compare (gconstpointer a, gconstpointer b)
{
	const AstraCounterSeries *x = *(AstraCounterSeries *const *) a;
	const AstraCounterSeries *y = *(AstraCounterSeries *const *) b;

	for (guint i = 0; i < x->key.n_values; i++) {
		int cmp = strcmp (x->key.values[i], y->key.values[i]);
		if (cmp != 0)
			return cmp;
	}
	return 0;
}

static AstraCounterSeries *
astra_counter_series_new (const AstraCounterProbe *probe)
{
	gsize total = sizeof (AstraCounterSeries) + probe->n_values * sizeof (char *);
	AstraCounterSeries *series;
	const char **values;
	char *strings;

	for (guint i = 0; i < probe->n_values; i++)
		total += strlen (probe->values[i]) + 1;
	series = g_malloc0 (total);
	values = (const char **) (series + 1);
	strings = (char *) (values + probe->n_values);
	for (guint i = 0; i < probe->n_values; i++) {
		values[i] = strings;
		strings = g_stpcpy (strings, probe->values[i]) + 1;
	}
	series->key.hash = probe->hash;
	series->key.n_values = probe->n_values;
	series->key.values = values;
	return series;
}

static AstraCounterSeries *
astra_counter_insert (AstraCounter *counter, const AstraCounterProbe *probe)
{
	AstraCounterSeries *series = astra_counter_series_new (probe);

	g_hash_table_add (counter->index, series);
	g_ptr_array_add (counter->series, series);
	counter->unsorted = TRUE;
	return series;
}

/* the series that takes what a full family cannot hold: a series like the others, made once */
static AstraCounterSeries *
astra_counter_get_overflow (AstraCounter *counter)
{
	g_autofree const char **values = NULL;
	AstraCounterProbe probe = { 0 };
	AstraCounterSeries *series;

	if (counter->overflow != NULL)
		return counter->overflow;
	g_warning (
	    "metrics: %s has %u series, the most it may have: the rest are counted with the label values %s",
	    counter->name, counter->max_series, ASTRA_METRICS_OVERFLOW_VALUE);
	values = g_new (const char *, counter->n_labels);
	for (guint i = 0; i < counter->n_labels; i++)
		values[i] = ASTRA_METRICS_OVERFLOW_VALUE;
	probe.n_values = counter->n_labels;
	probe.values = values;
	astra_counter_hash_values (values, counter->n_labels, &probe.hash);
	series = g_hash_table_lookup (counter->index, &probe);
	if (series == NULL)
		series = astra_counter_insert (counter, &probe);
	counter->overflow = series;
	return series;
}

static void
astra_counter_free (AstraCounter *counter)
{
	g_hash_table_unref (counter->index);
	g_ptr_array_unref (counter->series);
	g_strfreev (counter->labels);
	g_free (counter->name);
	g_free (counter);
}

static void
astra_metrics_family_free (AstraMetricsFamily *family)
{
	if (family->counter != NULL)
		astra_counter_free (family->counter);
	g_free (family->header);
	g_free (family->name);
	g_free (family);
}

static gboolean
astra_metrics_name_is_valid (const char *name, gboolean colon)
{
	if (name == NULL || !(g_ascii_isalpha (name[0]) || name[0] == '_' || (colon && name[0] == ':')))
		return FALSE;
	for (const char *p = name; *p != '\0'; p++) {
		if (!g_ascii_isalnum (*p) && *p != '_' && !(colon && *p == ':'))
			return FALSE;
	}
	return TRUE;
}

static gboolean
astra_metrics_type_is_valid (const char *type)
{
	for (guint i = 0; i < G_N_ELEMENTS (astra_metrics_types); i++) {
		if (g_strcmp0 (type, astra_metrics_types[i]) == 0)
			return TRUE;
	}
	return FALSE;
}

/* HELP text escapes backslashes and newlines, nothing else */
static void
astra_metrics_append_help (GString *out, const char *help)
{
	for (const char *p = help; *p != '\0'; p++) {
		if (*p == '\\')
			g_string_append_len (out, "\\\\", 2);
		else if (*p == '\n')
			g_string_append_len (out, "\\n", 2);
		else
			g_string_append_c (out, *p);
	}
}

static AstraMetricsFamily *
astra_metrics_add_family (AstraMetrics *self, const char *name, const char *help, const char *type)
{
	AstraMetricsFamily *family = g_new0 (AstraMetricsFamily, 1);
	GString *header = g_string_new (NULL);

	if (help != NULL) {
		g_string_append_printf (header, "# HELP %s ", name);
		astra_metrics_append_help (header, help);
		g_string_append_c (header, '\n');
	}
	g_string_append_printf (header, "# TYPE %s %s\n", name, type);
	family->name = g_strdup (name);
	family->header = g_string_free (header, FALSE);
	g_ptr_array_add (self->families, family);
	g_hash_table_insert (self->by_name, family->name, family);
	return family;
}

static void
astra_metrics_finalize (GObject *object)
{
	AstraMetrics *self = ASTRA_METRICS (object);

	g_hash_table_unref (self->by_name);
	g_ptr_array_unref (self->families);
	G_OBJECT_CLASS (astra_metrics_parent_class)->finalize (object);
}

static void
astra_metrics_class_init (AstraMetricsClass *klass)
{
	G_OBJECT_CLASS (klass)->finalize = astra_metrics_finalize;
}

static void
astra_metrics_init (AstraMetrics *self)
{
	self->families = g_ptr_array_new_with_free_func ((GDestroyNotify) astra_metrics_family_free);
	self->by_name = g_hash_table_new (g_str_hash, g_str_equal);
	self->max_series = ASTRA_METRICS_DEFAULT_MAX_SERIES;
	self->process_start_time = NAN;
}

/**
 * astra_metrics_new:
 *
 * Makes an empty registry of the daemon's own metrics.
 *
 * Returns: (transfer full): a new #AstraMetrics
 *
 * Since: 1.0
 */
AstraMetrics *
astra_metrics_new (void)
{
	return g_object_new (ASTRA_TYPE_METRICS, NULL);
}

/**
 * astra_metrics_set_max_series:
 * @self: an #AstraMetrics
 * @max_series: the most series a counter family makes
 *
 * Bounds the series of every counter family, those registered already
 * included. Once a family has @max_series series, label values it has not
 * seen are counted in one series whose label values are all
 * %ASTRA_METRICS_OVERFLOW_VALUE, and a warning says so once.
 *
 * Since: 1.0
 */
void
astra_metrics_set_max_series (AstraMetrics *self, guint max_series)
{
	g_return_if_fail (ASTRA_IS_METRICS (self));

	self->max_series = max_series;
	for (guint i = 0; i < self->families->len; i++) {
		AstraMetricsFamily *family = g_ptr_array_index (self->families, i);
		if (family->counter != NULL)
			family->counter->max_series = max_series;
	}
}

static gboolean
astra_metrics_labels_equal (AstraCounter *counter, const char *const *labels)
{
	guint n_labels = labels != NULL ? g_strv_length ((char **) labels) : 0;

	if (n_labels != counter->n_labels)
		return FALSE;
	for (guint i = 0; i < n_labels; i++) {
		if (strcmp (labels[i], counter->labels[i]) != 0)
			return FALSE;
	}
	return TRUE;
}

/**
 * astra_metrics_counter:
 * @self: an #AstraMetrics
 * @name: the family's name, ending in `_total`
 * @help: (nullable): what it counts
 * @labels: (nullable) (array zero-terminated=1): the label names, %NULL for none
 *
 * Registers a counter family. A family without labels has its one series,
 * at 0, from the start. Registering the same name with the same labels again
 * returns the counter registered first.
 *
 * Returns: (transfer none) (nullable): the counter, owned by @self; %NULL
 * for an invalid name or labels, or a name registered otherwise
 *
 * Since: 1.0
 */
AstraCounter *
astra_metrics_counter (AstraMetrics *self, const char *name, const char *help, const char *const *labels)
{
	AstraMetricsFamily *family;
	AstraCounter *counter;

	g_return_val_if_fail (ASTRA_IS_METRICS (self), NULL);
	g_return_val_if_fail (astra_metrics_name_is_valid (name, TRUE), NULL);
	g_return_val_if_fail (g_str_has_suffix (name, "_total"), NULL);

	family = g_hash_table_lookup (self->by_name, name);
	if (family != NULL) {
		if (family->counter == NULL || !astra_metrics_labels_equal (family->counter, labels)) {
			g_critical ("metrics: %s is registered already, otherwise", name);
			return NULL;
		}
		return family->counter;
	}
	for (guint i = 0; labels != NULL && labels[i] != NULL; i++) {
		if (!astra_metrics_name_is_valid (labels[i], FALSE) || g_str_has_prefix (labels[i], "__")) {
			g_critical ("metrics: %s: invalid label name '%s'", name, labels[i]);
			return NULL;
		}
		for (guint j = 0; j < i; j++) {
			if (strcmp (labels[i], labels[j]) == 0) {
				g_critical ("metrics: %s: label '%s' given twice", name, labels[i]);
				return NULL;
			}
		}
	}

	counter = g_new0 (AstraCounter, 1);
	counter->name = g_strdup (name);
	counter->labels = g_strdupv ((char **) labels);
	counter->n_labels = labels != NULL ? g_strv_length (counter->labels) : 0;
	counter->index = g_hash_table_new (astra_counter_probe_hash, astra_counter_probe_equal);
	counter->series = g_ptr_array_new_with_free_func (g_free);
	counter->max_series = self->max_series;
	if (counter->n_labels == 0) {
		AstraCounterProbe probe = { 0 };

		astra_counter_hash_values (NULL, 0, &probe.hash);
		counter->single = astra_counter_insert (counter, &probe);
	}
	family = astra_metrics_add_family (self, name, help, "counter");
	family->counter = counter;
	return counter;
}

/**
 * astra_counter_get_series:
 * @counter: an #AstraCounter
 * @values: (nullable): as many label values as the family has labels, in
 *   their order; %NULL for a family without labels
 *
 * Finds the series of @values, a hash lookup that does not allocate, and
 * makes it the first time (or hands out the overflow series when the family
 * is full). Hot paths may keep the series and add to it directly.
 *
 * Returns: (transfer none) (nullable): the series, valid as long as the
 * registry; %NULL if a value is %NULL
 *
 * Since: 1.0
 */
AstraCounterSeries *
astra_counter_get_series (AstraCounter *counter, const char *const *values)
{
	AstraCounterProbe probe;
	AstraCounterSeries *series;

	g_return_val_if_fail (counter != NULL, NULL);

	if (counter->single != NULL)
		return counter->single;
	g_return_val_if_fail (values != NULL, NULL);
	probe.n_values = counter->n_labels;
	probe.values = values;
	if (G_UNLIKELY (!astra_counter_hash_values (values, counter->n_labels, &probe.hash))) {
		g_critical ("metrics: %s: a label value is NULL", counter->name);
		return NULL;
	}
	series = g_hash_table_lookup (counter->index, &probe);
	if (G_LIKELY (series != NULL))
		return series;
	if (g_hash_table_size (counter->index) >= counter->max_series)
		return astra_counter_get_overflow (counter);
	return astra_counter_insert (counter, &probe);
}

/**
 * astra_counter_series_add:
 * @series: an #AstraCounterSeries
 * @by: what to add
 *
 * Adds @by to the series.
 *
 * Since: 1.0
 */
void
astra_counter_series_add (AstraCounterSeries *series, guint64 by)
{
	g_return_if_fail (series != NULL);
	series->value += by;
}

/**
 * astra_counter_add:
 * @counter: an #AstraCounter
 * @values: (nullable): as many label values as the family has labels, %NULL for none
 * @by: what to add
 *
 * Adds @by to the series of @values, made if needed: see
 * astra_counter_get_series().
 *
 * Since: 1.0
 */
void
astra_counter_add (AstraCounter *counter, const char *const *values, guint64 by)
{
	AstraCounterSeries *series = astra_counter_get_series (counter, values);

	if (G_LIKELY (series != NULL))
		series->value += by;
}

/**
 * astra_counter_inc:
 * @counter: an #AstraCounter
 * @values: (nullable): as many label values as the family has labels, %NULL for none
 *
 * Adds one to the series of @values.
 *
 * Since: 1.0
 */
void
astra_counter_inc (AstraCounter *counter, const char *const *values)
{
	astra_counter_add (counter, values, 1);
}

/**
 * astra_counter_get_value:
 * @counter: an #AstraCounter
 * @values: (nullable): as many label values as the family has labels, %NULL for none
 *
 * Reads a series without making it.
 *
 * Returns: the value of the series of @values, 0 if there is none
 *
 * Since: 1.0
 */
guint64
astra_counter_get_value (AstraCounter *counter, const char *const *values)
{
	AstraCounterProbe probe;
	AstraCounterSeries *series;

	g_return_val_if_fail (counter != NULL, 0);

	if (counter->single != NULL)
		return counter->single->value;
	g_return_val_if_fail (values != NULL, 0);
	probe.n_values = counter->n_labels;
	probe.values = values;
	if (!astra_counter_hash_values (values, counter->n_labels, &probe.hash))
		return 0;
	series = g_hash_table_lookup (counter->index, &probe);
	return series != NULL ? series->value : 0;
}

/**
 * astra_counter_get_n_series:
 * @counter: an #AstraCounter
 *
 * Returns: how many series the family has, the overflow series included
 *
 * Since: 1.0
 */
guint
astra_counter_get_n_series (AstraCounter *counter)
{
	g_return_val_if_fail (counter != NULL, 0);
	return counter->series->len;
}

/**
 * astra_metrics_add_collector:
 * @self: an #AstraMetrics
 * @name: the family's name
 * @help: (nullable): what it measures
 * @type: `gauge`, `counter` (then @name ends in `_total`), `untyped`,
 *   `histogram` or `summary`
 * @func: (scope notified): writes the family's sample lines at every scrape
 * @user_data: for @func
 *
 * Registers a family whose samples @func writes when the metrics are
 * rendered, e.g. with astra_metrics_append_sample(); the registry writes
 * its HELP and TYPE lines. @user_data must outlive @self or be removed
 * first with astra_metrics_remove_collector().
 *
 * Since: 1.0
 */
void
astra_metrics_add_collector (AstraMetrics *self,
			     const char *name,
			     const char *help,
			     const char *type,
			     AstraMetricsCollectFunc func,
			     gpointer user_data)
{
	AstraMetricsFamily *family;

	g_return_if_fail (ASTRA_IS_METRICS (self));
	g_return_if_fail (astra_metrics_name_is_valid (name, TRUE));
	g_return_if_fail (astra_metrics_type_is_valid (type));
	g_return_if_fail (g_strcmp0 (type, "counter") != 0 || g_str_has_suffix (name, "_total"));
	g_return_if_fail (func != NULL);

	if (g_hash_table_contains (self->by_name, name)) {
		g_critical ("metrics: %s is registered already", name);
		return;
	}
	family = astra_metrics_add_family (self, name, help, type);
	family->func = func;
	family->user_data = user_data;
}

/**
 * astra_metrics_remove_collector:
 * @self: an #AstraMetrics
 * @name: a family registered with astra_metrics_add_collector()
 *
 * Forgets a collector, e.g. when what its user data points to goes away.
 *
 * Returns: %TRUE if there was one by that name
 *
 * Since: 1.0
 */
gboolean
astra_metrics_remove_collector (AstraMetrics *self, const char *name)
{
	AstraMetricsFamily *family;

	g_return_val_if_fail (ASTRA_IS_METRICS (self), FALSE);
	g_return_val_if_fail (name != NULL, FALSE);

	family = g_hash_table_lookup (self->by_name, name);
	if (family == NULL || family->counter != NULL)
		return FALSE;
	g_hash_table_remove (self->by_name, name);
	g_ptr_array_remove (self->families, family);
	return TRUE;
}

/**
 * astra_metrics_append_label_value:
 * @out: a #GString
 * @value: a label value
 *
 * Appends @value escaped as the text format wants: backslash, double quote
 * and newline as `\\`, `\"` and `\n`. Invalid UTF-8 becomes U+FFFD.
 *
 * Since: 1.0
 */
void
astra_metrics_append_label_value (GString *out, const char *value)
{
	g_autofree char *valid = NULL;
	const char *run;

	g_return_if_fail (out != NULL);
	g_return_if_fail (value != NULL);

	if (!g_utf8_validate (value, -1, NULL)) {
		valid = g_utf8_make_valid (value, -1);
		value = valid;
	}
	run = value;
	for (const char *p = value; *p != '\0'; p++) {
		const char *esc;

		if (*p == '\\')
			esc = "\\\\";
		else if (*p == '"')
			esc = "\\\"";
		else if (*p == '\n')
			esc = "\\n";
		else
			continue;
		g_string_append_len (out, run, p - run);
		g_string_append_len (out, esc, 2);
		run = p + 1;
	}
	g_string_append (out, run);
}

/**
 * astra_metrics_append_value:
 * @out: a #GString
 * @value: a sample value
 *
 * Appends @value as the text format reads it: the shortest decimal that
 * reads back as @value (`0.1`, `1e+21`; -0 as `0`), or `NaN`, `+Inf`, `-Inf`.
 *
 * Since: 1.0
 */
void
astra_metrics_append_value (GString *out, double value)
{
	g_return_if_fail (out != NULL);

	if (isnan (value))
		g_string_append_len (out, "NaN", 3);
	else if (isinf (value))
		g_string_append_len (out, value > 0 ? "+Inf" : "-Inf", 4);
	else
		astra_json_format_number (out, value);
}

/* a sample's name and labels, `name{l1="v1",...}`, as counters and collectors write them */
static void
astra_metrics_append_series (GString *out,
			     const char *name,
			     const char *const *label_names,
			     const char *const *label_values,
			     guint n_labels)
{
	g_string_append (out, name);
	if (n_labels == 0)
		return;
	g_string_append_c (out, '{');
	for (guint i = 0; i < n_labels; i++) {
		if (i > 0)
			g_string_append_c (out, ',');
		g_string_append (out, label_names[i]);
		g_string_append_len (out, "=\"", 2);
		astra_metrics_append_label_value (out, label_values[i]);
		g_string_append_c (out, '"');
	}
	g_string_append_c (out, '}');
}

/**
 * astra_metrics_append_sample:
 * @out: a #GString
 * @name: the sample's name
 * @label_names: (nullable) (array zero-terminated=1): label names, %NULL for none
 * @label_values: (nullable) (array zero-terminated=1): as many values, in that order
 * @value: the value
 *
 * Appends one sample line, `name{l1="v1",l2="v2"} value` and a newline,
 * for collectors.
 *
 * Since: 1.0
 */
void
astra_metrics_append_sample (GString *out,
			     const char *name,
			     const char *const *label_names,
			     const char *const *label_values,
			     double value)
{
	guint n_labels = label_names != NULL ? g_strv_length ((char **) label_names) : 0;

	g_return_if_fail (out != NULL);
	g_return_if_fail (name != NULL);
	g_return_if_fail (n_labels == 0 || label_values != NULL);
	for (guint i = 0; i < n_labels; i++)
		g_return_if_fail (label_values[i] != NULL);

	astra_metrics_append_series (out, name, label_names, label_values, n_labels);
	g_string_append_c (out, ' ');
	astra_metrics_append_value (out, value);
	g_string_append_c (out, '\n');
}

static void
astra_metrics_render_counter (AstraCounter *counter, GString *out)
{
	if (counter->unsorted) {
		g_ptr_array_sort (counter->series, astra_counter_series_compare);
		counter->unsorted = FALSE;
	}
	for (guint i = 0; i < counter->series->len; i++) {
		AstraCounterSeries *series = g_ptr_array_index (counter->series, i);

		astra_metrics_append_series (out, counter->name, (const char *const *) counter->labels,
					     series->key.values, counter->n_labels);
		g_string_append_printf (out, " %" G_GUINT64_FORMAT "\n", series->value);
	}
}

/**
 * astra_metrics_render:
 * @self: an #AstraMetrics
 *
 * Renders every family in the Prometheus text format 0.0.4: in registration
 * order, each with its HELP and TYPE lines, the series of a counter sorted
 * by label values, then what each collector writes, so that two scrapes
 * compare line by line.
 *
 * Returns: (transfer full): the exposition, UTF-8
 *
 * Since: 1.0
 */
GBytes *
astra_metrics_render (AstraMetrics *self)
{
	GString *out;

	g_return_val_if_fail (ASTRA_IS_METRICS (self), NULL);

	out = g_string_sized_new (self->last_size + 256);
	for (guint i = 0; i < self->families->len; i++) {
		AstraMetricsFamily *family = g_ptr_array_index (self->families, i);

		g_string_append (out, family->header);
		if (family->counter != NULL) {
			astra_metrics_render_counter (family->counter, out);
		} else {
			gsize len = out->len;

			family->func (out, family->name, family->user_data);
			/* a collector that forgot the last newline must not spoil the next family */
			if (out->len > len && out->str[out->len - 1] != '\n')
				g_string_append_c (out, '\n');
		}
	}
	self->last_size = out->len;
	return g_string_free_to_bytes (out);
}

/**
 * astra_metrics_handle:
 * @self: an #AstraMetrics
 * @msg: a request for the metrics
 *
 * Answers @msg: a GET or HEAD with the exposition as
 * %ASTRA_METRICS_CONTENT_TYPE, anything else with 405 Method Not Allowed.
 *
 * Since: 1.0
 */
void
astra_metrics_handle (AstraMetrics *self, SoupServerMessage *msg)
{
	const char *method;
	g_autoptr(GBytes) body = NULL;
	gsize len = 0;
	const char *data;

	g_return_if_fail (ASTRA_IS_METRICS (self));
	g_return_if_fail (SOUP_IS_SERVER_MESSAGE (msg));

	method = soup_server_message_get_method (msg);
	if (method != SOUP_METHOD_GET && method != SOUP_METHOD_HEAD) {
		body = astra_ingest_build_error ("use GET");
		data = g_bytes_get_data (body, &len);
		soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow",
					      "GET, HEAD");
		soup_server_message_set_status (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
		soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, data, len);
		return;
	}
	body = astra_metrics_render (self);
	data = g_bytes_get_data (body, &len);
	soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
	soup_server_message_set_response (msg, ASTRA_METRICS_CONTENT_TYPE, SOUP_MEMORY_COPY, data, len);
}

/* process figures, read from /proc like Prometheus' client libraries do */

typedef enum {
	ASTRA_PROCESS_VIRTUAL_MEMORY,
	ASTRA_PROCESS_RESIDENT_MEMORY,
	ASTRA_PROCESS_OPEN_FDS,
	ASTRA_PROCESS_MAX_FDS,
	ASTRA_PROCESS_CPU_SECONDS,
} AstraProcessFigure;

/* the first fields of /proc/self/statm, in pages: size, resident */
static gboolean
astra_metrics_read_statm (guint64 *size, guint64 *resident)
{
	g_autofree char *text = NULL;
	g_auto(GStrv) fields = NULL;

	if (!g_file_get_contents ("/proc/self/statm", &text, NULL, NULL))
		return FALSE;
	fields = g_strsplit (g_strstrip (text), " ", 3);
	if (g_strv_length (fields) < 2)
		return FALSE;
	return g_ascii_string_to_unsigned (fields[0], 10, 0, G_MAXUINT64, size, NULL) &&
	       g_ascii_string_to_unsigned (fields[1], 10, 0, G_MAXUINT64, resident, NULL);
}

/* the entries of /proc/self/fd but the one reading it */
static gboolean
astra_metrics_count_fds (guint64 *n_fds)
{
	DIR *dir = opendir ("/proc/self/fd");
	struct dirent *entry;
	char own[32];
	guint64 n = 0;

	if (dir == NULL)
		return FALSE;
	g_snprintf (own, sizeof (own), "%d", dirfd (dir));
	while ((entry = readdir (dir)) != NULL) {
		if (entry->d_name[0] != '.' && strcmp (entry->d_name, own) != 0)
			n++;
	}
	closedir (dir);
	*n_fds = n;
	return TRUE;
}

static void
astra_metrics_collect_process_cb (GString *out, const char *name, gpointer user_data)
{
	AstraProcessFigure figure = GPOINTER_TO_INT (user_data);
	guint64 size = 0;
	guint64 resident = 0;
	guint64 n_fds = 0;
	struct rlimit limit;
	struct rusage usage;

	switch (figure) {
	case ASTRA_PROCESS_VIRTUAL_MEMORY:
	case ASTRA_PROCESS_RESIDENT_MEMORY:
		if (!astra_metrics_read_statm (&size, &resident))
			return;
		astra_metrics_append_sample (
		    out, name, NULL, NULL,
		    (double) (figure == ASTRA_PROCESS_VIRTUAL_MEMORY ? size : resident) *
			(double) sysconf (_SC_PAGESIZE));
		return;
	case ASTRA_PROCESS_OPEN_FDS:
		if (astra_metrics_count_fds (&n_fds))
			astra_metrics_append_sample (out, name, NULL, NULL, (double) n_fds);
		return;
	case ASTRA_PROCESS_MAX_FDS:
		if (getrlimit (RLIMIT_NOFILE, &limit) == 0)
			astra_metrics_append_sample (
			    out, name, NULL, NULL,
			    limit.rlim_cur == RLIM_INFINITY ? INFINITY : (double) limit.rlim_cur);
		return;
	case ASTRA_PROCESS_CPU_SECONDS:
		if (getrusage (RUSAGE_SELF, &usage) == 0)
			astra_metrics_append_sample (
			    out, name, NULL, NULL,
			    (double) (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
				(double) (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6);
		return;
	default:
		g_assert_not_reached ();
	}
}

static void
astra_metrics_collect_start_time_cb (GString *out, const char *name, gpointer user_data)
{
	AstraMetrics *self = ASTRA_METRICS (user_data);

	if (!isnan (self->process_start_time))
		astra_metrics_append_sample (out, name, NULL, NULL, self->process_start_time);
}

/* boot time (btime of /proc/stat) plus the process' start in clock ticks after it
 * (field 22 of /proc/self/stat, counted after the command name, which may hold anything) */
static double
astra_metrics_read_start_time (void)
{
	g_autofree char *stat = NULL;
	g_autofree char *self_stat = NULL;
	g_auto(GStrv) fields = NULL;
	const char *btime;
	const char *end;
	guint64 boot = 0;
	guint64 ticks = 0;
	long hz = sysconf (_SC_CLK_TCK);

	if (hz <= 0 || !g_file_get_contents ("/proc/stat", &stat, NULL, NULL) ||
	    !g_file_get_contents ("/proc/self/stat", &self_stat, NULL, NULL))
		return NAN;
	btime = strstr (stat, "\nbtime ");
	end = strrchr (self_stat, ')');
	if (btime == NULL || end == NULL)
		return NAN;
	boot = g_ascii_strtoull (btime + strlen ("\nbtime "), NULL, 10);
	fields = g_strsplit (end + 1, " ", 0);
	/* after ')': fields[0] is empty and fields[1] is field 3 (the state), so field 22 is fields[20] */
	if (g_strv_length (fields) < 21 ||
	    !g_ascii_string_to_unsigned (fields[20], 10, 0, G_MAXUINT64, &ticks, NULL) || boot == 0)
		return NAN;
	return (double) boot + (double) ticks / (double) hz;
}

/**
 * astra_metrics_add_process_collectors:
 * @self: an #AstraMetrics
 *
 * Registers the process figures under the names Prometheus' client libraries
 * give them: process_resident_memory_bytes, process_virtual_memory_bytes,
 * process_open_fds, process_max_fds, process_start_time_seconds and
 * process_cpu_seconds_total. Where a figure cannot be read (no /proc) its
 * family has no sample.
 *
 * Since: 1.0
 */
void
astra_metrics_add_process_collectors (AstraMetrics *self)
{
	g_return_if_fail (ASTRA_IS_METRICS (self));

	self->process_start_time = astra_metrics_read_start_time ();
	astra_metrics_add_collector (
	    self, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", "counter",
	    astra_metrics_collect_process_cb, GINT_TO_POINTER (ASTRA_PROCESS_CPU_SECONDS));
	astra_metrics_add_collector (self, "process_open_fds", "Number of open file descriptors.", "gauge",
				     astra_metrics_collect_process_cb,
				     GINT_TO_POINTER (ASTRA_PROCESS_OPEN_FDS));
	astra_metrics_add_collector (self, "process_max_fds", "Maximum number of open file descriptors.",
				     "gauge", astra_metrics_collect_process_cb,
				     GINT_TO_POINTER (ASTRA_PROCESS_MAX_FDS));
	astra_metrics_add_collector (self, "process_virtual_memory_bytes", "Virtual memory size in bytes.",
				     "gauge", astra_metrics_collect_process_cb,
				     GINT_TO_POINTER (ASTRA_PROCESS_VIRTUAL_MEMORY));
	astra_metrics_add_collector (self, "process_resident_memory_bytes", "Resident memory size in bytes.",
				     "gauge", astra_metrics_collect_process_cb,
				     GINT_TO_POINTER (ASTRA_PROCESS_RESIDENT_MEMORY));
	astra_metrics_add_collector (self, "process_start_time_seconds",
				     "Start time of the process since unix epoch in seconds.", "gauge",
				     astra_metrics_collect_start_time_cb, self);
}
