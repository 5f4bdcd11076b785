/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "astra-series.h"

/* what the index hashes and compares: a lookup builds one on the stack, without allocating */
typedef struct {
	guint32 hash;
	guint n_labels;
	const char *metric;
	const AstraLabel *labels; /* sorted */
} AstraSeriesProbe;

/* a series and its strings in one allocation: 100,000 series must stay cheap */
typedef struct {
	AstraSeriesProbe key; /* first: the index sees entries and probes alike */
	AstraSeries pub;
} AstraSeriesEntry;

struct _AstraSeriesStore {
	GObject parent_instance;
	GHashTable *index;  /* AstraSeriesEntry -> itself */
	GPtrArray *by_id;   /* AstraSeriesEntry, index id - 1 */
	guint max_series;
	guint max_labels;
	guint max_name_length;
	guint max_value_length;
	guint64 rejected[ASTRA_SERIES_REJECT_LAST];
	gsize memory;
};

G_DEFINE_FINAL_TYPE (AstraSeriesStore, astra_series_store, G_TYPE_OBJECT)

static guint32
astra_series_hash_bytes (guint32 hash, const char *str)
{
	/* FNV-1a, including the terminator so "ab"+"c" and "a"+"bc" differ */
	for (const guchar *p = (const guchar *) str;; p++) {
		hash ^= *p;
		hash *= 16777619u;
		if (*p == '\0')
			break;
	}
	return hash;
}

static guint32
astra_series_hash (const char *metric, const AstraLabel *labels, guint n_labels)
{
	guint32 hash = astra_series_hash_bytes (2166136261u, metric);

	for (guint i = 0; i < n_labels; i++) {
		hash = astra_series_hash_bytes (hash, labels[i].name);
		hash = astra_series_hash_bytes (hash, labels[i].value);
	}
	return hash;
}

static guint
astra_series_probe_hash (gconstpointer key)
{
	return ((const AstraSeriesProbe *) key)->hash;
}

static gboolean
astra_series_probe_equal (gconstpointer a, gconstpointer b)
{
	const AstraSeriesProbe *x = a;
	const AstraSeriesProbe *y = b;

	if (x->hash != y->hash || x->n_labels != y->n_labels || strcmp (x->metric, y->metric) != 0)
		return FALSE;
	for (guint i = 0; i < x->n_labels; i++) {
		if (strcmp (x->labels[i].name, y->labels[i].name) != 0 ||
		    strcmp (x->labels[i].value, y->labels[i].value) != 0)
			return FALSE;
	}
	return TRUE;
}

static void
astra_series_store_finalize (GObject *object)
{
	AstraSeriesStore *self = ASTRA_SERIES_STORE (object);

	g_hash_table_unref (self->index);
	g_ptr_array_unref (self->by_id);
	G_OBJECT_CLASS (astra_series_store_parent_class)->finalize (object);
}

static void
astra_series_store_class_init (AstraSeriesStoreClass *klass)
{
	G_OBJECT_CLASS (klass)->finalize = astra_series_store_finalize;
}

static void
astra_series_store_init (AstraSeriesStore *self)
{
	self->index = g_hash_table_new (astra_series_probe_hash, astra_series_probe_equal);
	self->by_id = g_ptr_array_new_with_free_func (g_free);
	self->max_series = ASTRA_SERIES_DEFAULT_MAX_SERIES;
	self->max_labels = ASTRA_SERIES_DEFAULT_MAX_LABELS;
	self->max_name_length = ASTRA_SERIES_DEFAULT_MAX_NAME_LENGTH;
	self->max_value_length = ASTRA_SERIES_DEFAULT_MAX_VALUE_LENGTH;
}

AstraSeriesStore *
astra_series_store_new (void)
{
	return g_object_new (ASTRA_TYPE_SERIES_STORE, NULL);
}

void
astra_series_store_set_limits (AstraSeriesStore *self,
			       guint max_series,
			       guint max_labels,
			       guint max_name_length,
			       guint max_value_length)
{
	self->max_series = max_series;
	self->max_labels = MIN (max_labels, 255);
	self->max_name_length = max_name_length;
	self->max_value_length = max_value_length;
}

/**
 * astra_series_name_is_valid:
 * @name: a metric or label name
 * @max_length: the most bytes it may have
 *
 * Whether the store takes @name as a metric or label name:
 * `[a-zA-Z_:][a-zA-Z0-9_:.-]*`, at most @max_length bytes.
 *
 * Returns: %TRUE if it is one
 *
 * Since: 1.0
 */
gboolean
astra_series_name_is_valid (const char *name, guint max_length)
{
	gsize len = 0;

	if (!(g_ascii_isalpha (name[0]) || name[0] == '_' || name[0] == ':'))
		return FALSE;
	for (const char *p = name; *p != '\0'; p++, len++) {
		if (!g_ascii_isalnum (*p) && *p != '_' && *p != ':' && *p != '.' && *p != '-')
			return FALSE;
	}
	return len <= max_length;
}

static gint
astra_label_compare (const AstraLabel *a, const AstraLabel *b)
{
	return strcmp (a->name, b->name);
}

/* copies the probe's strings into one block after the entry */
static AstraSeriesEntry *
astra_series_entry_new (const AstraSeriesProbe *probe, guint32 id, gsize *size)
{
	gsize total = sizeof (AstraSeriesEntry) + probe->n_labels * sizeof (AstraLabel) + strlen (probe->metric) + 1;
	AstraSeriesEntry *entry;
	AstraLabel *labels;
	char *strings;

	for (guint i = 0; i < probe->n_labels; i++)
		total += strlen (probe->labels[i].name) + strlen (probe->labels[i].value) + 2;
	entry = g_malloc0 (total);
	labels = (AstraLabel *) (entry + 1);
	strings = (char *) (labels + probe->n_labels);

	entry->pub.id = id;
	entry->pub.metric = strings;
	strings = g_stpcpy (strings, probe->metric) + 1;
	for (guint i = 0; i < probe->n_labels; i++) {
		labels[i].name = strings;
		strings = g_stpcpy (strings, probe->labels[i].name) + 1;
		labels[i].value = strings;
		strings = g_stpcpy (strings, probe->labels[i].value) + 1;
	}
	entry->pub.labels = labels;
	entry->pub.n_labels = probe->n_labels;
	entry->key.hash = probe->hash;
	entry->key.n_labels = probe->n_labels;
	entry->key.metric = entry->pub.metric;
	entry->key.labels = labels;
	*size = total;
	return entry;
}

static AstraSeries *
astra_series_store_reject (AstraSeriesStore *self, AstraSeriesReject reason, AstraSeriesReject *reject)
{
	self->rejected[reason]++;
	if (reject != NULL)
		*reject = reason;
	return NULL;
}

AstraSeries *
astra_series_store_lookup (AstraSeriesStore *self,
			   const char *metric,
			   const AstraLabel *labels,
			   guint n_labels,
			   AstraSeriesReject *reject)
{
	AstraLabel sorted[256];
	AstraSeriesProbe probe;
	AstraSeriesEntry *entry;
	gsize size = 0;

	if (reject != NULL)
		*reject = ASTRA_SERIES_REJECT_NONE;
	if (n_labels > self->max_labels)
		return astra_series_store_reject (self, ASTRA_SERIES_REJECT_TOO_MANY_LABELS, reject);

	/* insertion sort: label sets are small, and usually already sorted */
	for (guint i = 0; i < n_labels; i++) {
		guint j = i;
		while (j > 0 && astra_label_compare (&sorted[j - 1], &labels[i]) > 0) {
			sorted[j] = sorted[j - 1];
			j--;
		}
		sorted[j] = labels[i];
	}
	for (guint i = 1; i < n_labels; i++) {
		if (strcmp (sorted[i - 1].name, sorted[i].name) == 0)
			return astra_series_store_reject (self, ASTRA_SERIES_REJECT_DUPLICATE_LABEL, reject);
	}

	probe.metric = metric;
	probe.labels = sorted;
	probe.n_labels = n_labels;
	probe.hash = astra_series_hash (metric, sorted, n_labels);
	entry = g_hash_table_lookup (self->index, &probe);
	if (entry != NULL)
		return &entry->pub; /* key is the first member: the key's address is the entry's */

	/* only a new series pays for validation: a known one was valid when it was made */
	if (!astra_series_name_is_valid (metric, self->max_name_length))
		return astra_series_store_reject (self, ASTRA_SERIES_REJECT_NAME, reject);
	for (guint i = 0; i < n_labels; i++) {
		if (!astra_series_name_is_valid (sorted[i].name, self->max_name_length))
			return astra_series_store_reject (self, ASTRA_SERIES_REJECT_NAME, reject);
		if (strlen (sorted[i].value) > self->max_value_length ||
		    !g_utf8_validate (sorted[i].value, -1, NULL))
			return astra_series_store_reject (self, ASTRA_SERIES_REJECT_VALUE, reject);
	}
	if (self->by_id->len >= self->max_series)
		return astra_series_store_reject (self, ASTRA_SERIES_REJECT_CARDINALITY, reject);

	entry = astra_series_entry_new (&probe, self->by_id->len + 1, &size);
	self->memory += size;
	g_ptr_array_add (self->by_id, entry);
	g_hash_table_add (self->index, &entry->key);
	return &entry->pub;
}

const char *
astra_series_get_label (const AstraSeries *series, const char *name)
{
	for (guint i = 0; i < series->n_labels; i++) {
		int cmp = strcmp (series->labels[i].name, name);
		if (cmp == 0)
			return series->labels[i].value;
		if (cmp > 0)
			break;
	}
	return NULL;
}

guint
astra_series_store_get_size (AstraSeriesStore *self)
{
	return self->by_id->len;
}

guint64
astra_series_store_get_rejected (AstraSeriesStore *self, AstraSeriesReject reason)
{
	g_return_val_if_fail (reason < ASTRA_SERIES_REJECT_LAST, 0);
	return self->rejected[reason];
}

void
astra_series_store_foreach (AstraSeriesStore *self,
			    void (*func) (AstraSeries *series, gpointer user_data),
			    gpointer user_data)
{
	for (guint i = 0; i < self->by_id->len; i++)
		func (&((AstraSeriesEntry *) g_ptr_array_index (self->by_id, i))->pub, user_data);
}

const char *
astra_series_reject_to_string (AstraSeriesReject reason)
{
	switch (reason) {
	case ASTRA_SERIES_REJECT_NONE:
		return "accepted";
	case ASTRA_SERIES_REJECT_NAME:
		return "invalid metric or label name (expected [a-zA-Z_:][a-zA-Z0-9_:.-]*, not too long)";
	case ASTRA_SERIES_REJECT_VALUE:
		return "invalid label value (not UTF-8, or too long)";
	case ASTRA_SERIES_REJECT_TOO_MANY_LABELS:
		return "too many labels";
	case ASTRA_SERIES_REJECT_DUPLICATE_LABEL:
		return "a label is given twice";
	case ASTRA_SERIES_REJECT_CARDINALITY:
		return "series limit reached";
	default:
		return "rejected";
	}
}

gsize
astra_series_store_get_memory_size (AstraSeriesStore *self)
{
	if (self->by_id->len == 0)
		return 0;
	/* the entries, plus the index's and the id array's share per series */
	return (self->memory + self->by_id->len * (sizeof (gpointer) * 3 + sizeof (guint))) / self->by_id->len;
}
