/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * collectd's write_http plugin, Format "JSON": an array of value lists,
 *
 *   [{"values":[0.5,1],"dstypes":["derive","derive"],"dsnames":["rx","tx"],
 *     "time":1700000000.125,"interval":10,"host":"h","plugin":"interface",
 *     "plugin_instance":"eth0","type":"if_octets","type_instance":"","meta":{}}]
 *
 * Naming, after collectd's own write_graphite and write_prometheus: each
 * value is a sample named <plugin>_<type>, plus _<dsname> when the list has
 * more than one value or its data source is not named "value" (so cpu/percent
 * gives cpu_percent, interface/if_octets gives interface_if_octets_rx and
 * _tx, load/load gives load_load_shortterm, _midterm and _longterm). Labels:
 * host, plugin_instance and type_instance, each only when not empty. The
 * value is taken as collectd sends it whatever its type (a counter or derive
 * is cumulative: rules take its rate); null, collectd's NaN, is skipped.
 * "time" is seconds since the epoch (absent or 0: now, as collectd means 0);
 * "interval" and "meta" are checked for their type and otherwise ignored, as
 * are members this parser does not know.
 *
 * A value list is checked whole before any of its samples goes to the sink;
 * it may hold at most 64 values (collectd's data sets have a handful).
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "astra-collectd.h"

/* more values in one list are refused: collectd's data sets have a handful of sources */
#define ASTRA_COLLECTD_MAX_VALUES 64

/* the largest "time" taken, in seconds (year 33658): its microseconds fit a gint64 */
#define ASTRA_COLLECTD_MAX_TIME 1e12

typedef struct {
	AstraSampleSinkFunc sink;
	gpointer user_data;
	gint64 now_us;
	AstraIngestStats stats;
	GString *name;
	guint index;     /* 1-based, of the current value list */
	char *error_msg; /* "value list N: why" for the first bad one */
} AstraCollectdParser;

static gboolean astra_collectd_fail (AstraCollectdParser *self, const char *format, ...) G_GNUC_PRINTF (2, 3);

/* records why the current value list is bad if it is the first bad one; always FALSE */
static gboolean
astra_collectd_fail (AstraCollectdParser *self, const char *format, ...)
{
	g_autofree char *why = NULL;
	va_list args;

	if (self->error_msg != NULL)
		return FALSE;
	va_start (args, format);
	why = g_strdup_vprintf (format, args);
	va_end (args);
	self->error_msg = g_strdup_printf ("value list %u: %s", self->index, why);
	return FALSE;
}

static gboolean
astra_collectd_node_is_number (JsonNode *node)
{
	GType type;

	if (!JSON_NODE_HOLDS_VALUE (node))
		return FALSE;
	type = json_node_get_value_type (node);
	return type == G_TYPE_INT64 || type == G_TYPE_DOUBLE;
}

static gboolean
astra_collectd_node_is_string (JsonNode *node)
{
	return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING;
}

/* the string member @name of @obj in *out ("" if absent and optional) */
static gboolean
astra_collectd_get_string (
    AstraCollectdParser *self, JsonObject *obj, const char *name, gboolean required, const char **out)
{
	JsonNode *node = json_object_get_member (obj, name);

	if (node == NULL) {
		if (required)
			return astra_collectd_fail (self, "%s: missing", name);
		*out = "";
		return TRUE;
	}
	if (!astra_collectd_node_is_string (node))
		return astra_collectd_fail (self, "%s: expected a string", name);
	*out = json_node_get_string (node);
	if (required && **out == '\0')
		return astra_collectd_fail (self, "%s: empty", name);
	return TRUE;
}

/* the array member @name of @obj, with @n_expected elements unless 0 */
static JsonArray *
astra_collectd_get_array (AstraCollectdParser *self, JsonObject *obj, const char *name, guint n_expected)
{
	JsonNode *node = json_object_get_member (obj, name);
	JsonArray *array;

	if (node == NULL) {
		astra_collectd_fail (self, "%s: missing", name);
		return NULL;
	}
	if (!JSON_NODE_HOLDS_ARRAY (node)) {
		astra_collectd_fail (self, "%s: expected an array", name);
		return NULL;
	}
	array = json_node_get_array (node);
	if (n_expected == 0 && json_array_get_length (array) == 0) {
		astra_collectd_fail (self, "%s: empty", name);
		return NULL;
	}
	if (n_expected != 0 && json_array_get_length (array) != n_expected) {
		astra_collectd_fail (self, "%s: expected one entry per value (%u), not %u", name, n_expected,
				     json_array_get_length (array));
		return NULL;
	}
	return array;
}

/* a number member that may be absent; -1 when it is */
static gboolean
astra_collectd_get_seconds (AstraCollectdParser *self, JsonObject *obj, const char *name, double *out)
{
	JsonNode *node = json_object_get_member (obj, name);
	double v;

	*out = -1;
	if (node == NULL)
		return TRUE;
	if (!astra_collectd_node_is_number (node))
		return astra_collectd_fail (self, "%s: expected a number of seconds", name);
	v = json_node_get_double (node);
	if (v < 0 || v > ASTRA_COLLECTD_MAX_TIME)
		return astra_collectd_fail (self, "%s: out of range", name);
	*out = v;
	return TRUE;
}

static gboolean
astra_collectd_parse_value_list (AstraCollectdParser *self, JsonNode *node)
{
	static const char *const dstypes[] = { "gauge", "derive", "counter", "absolute" };
	AstraLabel labels[3];
	JsonObject *obj;
	JsonArray *values;
	JsonArray *types;
	JsonArray *names;
	JsonNode *meta;
	const char *host = NULL;
	const char *plugin = NULL;
	const char *plugin_instance = NULL;
	const char *type = NULL;
	const char *type_instance = NULL;
	double time_s = -1;
	double interval_s = -1;
	gint64 timestamp_us;
	guint n_values;
	guint n_labels = 0;
	gsize prefix_len;
	gboolean ok = TRUE;

	if (!JSON_NODE_HOLDS_OBJECT (node))
		return astra_collectd_fail (self, "expected an object");
	obj = json_node_get_object (node);

	values = astra_collectd_get_array (self, obj, "values", 0);
	if (values == NULL)
		return FALSE;
	n_values = json_array_get_length (values);
	if (n_values > ASTRA_COLLECTD_MAX_VALUES)
		return astra_collectd_fail (self, "values: more than %u entries",
					    (guint) ASTRA_COLLECTD_MAX_VALUES);
	for (guint i = 0; i < n_values; i++) {
		JsonNode *value = json_array_get_element (values, i);
		if (!JSON_NODE_HOLDS_NULL (value) && !astra_collectd_node_is_number (value))
			return astra_collectd_fail (self, "values[%u]: expected a number or null", i);
	}
	types = astra_collectd_get_array (self, obj, "dstypes", n_values);
	if (types == NULL)
		return FALSE;
	for (guint i = 0; i < n_values; i++) {
		JsonNode *dstype = json_array_get_element (types, i);
		gboolean known = FALSE;
		if (astra_collectd_node_is_string (dstype)) {
			for (guint j = 0; j < G_N_ELEMENTS (dstypes); j++)
				known = known || strcmp (json_node_get_string (dstype), dstypes[j]) == 0;
		}
		if (!known)
			return astra_collectd_fail (self,
						    "dstypes[%u]: expected \"gauge\", \"derive\", "
						    "\"counter\" or \"absolute\"",
						    i);
	}
	names = astra_collectd_get_array (self, obj, "dsnames", n_values);
	if (names == NULL)
		return FALSE;
	for (guint i = 0; i < n_values; i++) {
		JsonNode *dsname = json_array_get_element (names, i);
		if (!astra_collectd_node_is_string (dsname) || json_node_get_string (dsname)[0] == '\0')
			return astra_collectd_fail (self, "dsnames[%u]: expected a non-empty string", i);
		for (guint j = 0; j < i; j++) {
			if (strcmp (json_node_get_string (dsname),
				    json_array_get_string_element (names, j)) == 0)
				return astra_collectd_fail (self, "dsnames[%u]: '%s' is given twice", i,
							    json_node_get_string (dsname));
		}
	}
	if (!astra_collectd_get_seconds (self, obj, "time", &time_s) ||
	    !astra_collectd_get_seconds (self, obj, "interval", &interval_s))
		return FALSE;
	if (!astra_collectd_get_string (self, obj, "host", TRUE, &host) ||
	    !astra_collectd_get_string (self, obj, "plugin", TRUE, &plugin) ||
	    !astra_collectd_get_string (self, obj, "plugin_instance", FALSE, &plugin_instance) ||
	    !astra_collectd_get_string (self, obj, "type", TRUE, &type) ||
	    !astra_collectd_get_string (self, obj, "type_instance", FALSE, &type_instance))
		return FALSE;
	meta = json_object_get_member (obj, "meta");
	if (meta != NULL && !JSON_NODE_HOLDS_OBJECT (meta))
		return astra_collectd_fail (self, "meta: expected an object");

	/* rounded to the nearest microsecond (time_s is positive and bounded) */
	timestamp_us = time_s > 0 ? (gint64) (time_s * G_USEC_PER_SEC + 0.5) : self->now_us;
	labels[n_labels].name = "host";
	labels[n_labels++].value = host;
	if (plugin_instance[0] != '\0') {
		labels[n_labels].name = "plugin_instance";
		labels[n_labels++].value = plugin_instance;
	}
	if (type_instance[0] != '\0') {
		labels[n_labels].name = "type_instance";
		labels[n_labels++].value = type_instance;
	}

	g_string_assign (self->name, plugin);
	g_string_append_c (self->name, '_');
	g_string_append (self->name, type);
	prefix_len = self->name->len;
	for (guint i = 0; i < n_values; i++) {
		JsonNode *value = json_array_get_element (values, i);
		const char *dsname = json_array_get_string_element (names, i);
		AstraSeriesReject reject = ASTRA_SERIES_REJECT_NONE;

		if (JSON_NODE_HOLDS_NULL (value))
			continue;
		g_string_truncate (self->name, prefix_len);
		if (n_values > 1 || strcmp (dsname, "value") != 0) {
			g_string_append_c (self->name, '_');
			g_string_append (self->name, dsname);
		}
		if (self->sink (self->name->str, labels, n_labels, json_node_get_double (value), timestamp_us,
				&reject, self->user_data)) {
			self->stats.n_samples++;
			continue;
		}
		self->stats.n_rejected++;
		if (ok) {
			ok = FALSE;
			astra_collectd_fail (self, "%s (metric '%s')",
					     reject != ASTRA_SERIES_REJECT_NONE
						 ? astra_series_reject_to_string (reject)
						 : "sample rejected",
					     self->name->str);
		}
	}
	return ok;
}

/**
 * astra_collectd_parse:
 * @body: (array length=length): the request body, not NUL-terminated
 * @length: its length in bytes
 * @now_us: the time, in unix microseconds, of value lists without one
 * @sink: takes each sample
 * @user_data: for @sink
 * @stats: (out caller-allocates) (optional): what the body gave
 * @error: return location for a #GError
 *
 * Parses what collectd's write_http plugin sends with `Format "JSON"` (a
 * JSON array of value lists) and gives a sample per value of every good
 * value list to @sink, in order. A bad value list gives no sample; one with
 * a sample @sink refuses is bad too (its other samples are still offered).
 *
 * Returns: %TRUE if the body and every value list were good; else %FALSE
 *   with %ASTRA_ERROR_INVALID_DATA: the body is not a JSON array, or "value
 *   list N: why" naming the first bad value list, 1-based (the good ones are
 *   taken all the same)
 *
 * Since: 1.0
 */
gboolean
astra_collectd_parse (const char *body,
		      gsize length,
		      gint64 now_us,
		      AstraSampleSinkFunc sink,
		      gpointer user_data,
		      AstraIngestStats *stats,
		      GError **error)
{
	AstraCollectdParser self = {
		.sink = sink,
		.user_data = user_data,
		.now_us = now_us,
	};
	g_autoptr(GError) error_local = NULL;
	g_autoptr(JsonNode) root = NULL;
	g_autoptr(GString) name = NULL;
	JsonArray *lists;

	g_return_val_if_fail (body != NULL || length == 0, FALSE);
	g_return_val_if_fail (sink != NULL, FALSE);
	g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

	if (stats != NULL)
		memset (stats, 0, sizeof (*stats));
	root = astra_json_parse (body != NULL ? body : "", length, &error_local);
	if (root == NULL) {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA, "the body is not valid JSON: %s",
			     error_local->message);
		return FALSE;
	}
	if (!JSON_NODE_HOLDS_ARRAY (root)) {
		g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA,
				     "expected a JSON array of collectd value lists");
		return FALSE;
	}

	name = g_string_sized_new (64);
	self.name = name;
	lists = json_node_get_array (root);
	for (guint i = 0; i < json_array_get_length (lists); i++) {
		self.index = i + 1;
		self.stats.n_lines++;
		if (!astra_collectd_parse_value_list (&self, json_array_get_element (lists, i)) &&
		    self.stats.first_bad_line == 0)
			self.stats.first_bad_line = self.index;
	}

	if (stats != NULL)
		*stats = self.stats;
	if (self.error_msg != NULL) {
		g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA, self.error_msg);
		g_free (self.error_msg);
		return FALSE;
	}
	return TRUE;
}
