/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "astra-reports.h"

#include "astra-event-schema.h"

#include "astra-engine-resources.h"

#define ASTRA_REPORTS_SCHEMA_PREFIX "/org/astranetmon/astra/engine/schemas/reports/"
/* 9999-12-31T23:59:59Z, the last second an event can carry */
#define ASTRA_REPORTS_TIMESTAMP_MAX G_GINT64_CONSTANT (253402300799)
#define ASTRA_REPORTS_MAX_INTERVAL_S 86400

#define ASTRA_REPORTS_DB_MODULE		"traceroute"
#define ASTRA_REPORTS_DB_SCHEMA_VERSION 1

typedef enum {
	ASTRA_REPORT_KIND_HEARTBEAT,
	ASTRA_REPORT_KIND_SPEEDTEST,
	ASTRA_REPORT_KIND_TRACEROUTE,
	ASTRA_REPORT_KIND_SERVICE_TEST,
	ASTRA_REPORT_KIND_SAMPLES,
	ASTRA_REPORT_KIND_LAST,
} AstraReportKind;

static const char *const astra_report_types[] = {
    [ASTRA_REPORT_KIND_HEARTBEAT] = "heartbeat",
    [ASTRA_REPORT_KIND_SPEEDTEST] = "speedtest",
    [ASTRA_REPORT_KIND_TRACEROUTE] = "traceroute",
    [ASTRA_REPORT_KIND_SERVICE_TEST] = "service_test",
    [ASTRA_REPORT_KIND_SAMPLES] = "samples",
    [ASTRA_REPORT_KIND_LAST] = NULL,
};

/**
 * AstraReports:
 *
 * Turns the typed reports of agents into heartbeats, events and samples.
 */
struct _AstraReports {
	GObject parent_instance;
	AstraAgentRegistry *agents;
	AstraStateDb *state_db; /* (nullable) */
	AstraEventSinkFunc event_sink;
	AstraSampleSinkFunc sample_sink;
	gpointer user_data;
	AstraEventSchema *schemas[ASTRA_REPORT_KIND_LAST]; /* (nullable): NULL if broken */
	char *schema_errors[ASTRA_REPORT_KIND_LAST];
	GHashTable *paths; /* without a state database: key -> canonical path */
	gboolean db_schema_ready;
	GArray *labels; /* (element-type AstraLabel): scratch for samples reports */
};

G_DEFINE_FINAL_TYPE (AstraReports, astra_reports, G_TYPE_OBJECT)

/**
 * astra_reports_get_types:
 *
 * Gets the report types astra_reports_handle() takes.
 *
 * Returns: (transfer none) (array zero-terminated=1): the type names
 *
 * Since: 1.0
 */
const char *const *
astra_reports_get_types (void)
{
	return astra_report_types;
}

static gboolean
astra_reports_set_error (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);

static gboolean
astra_reports_set_error (GError **error, const char *format, ...)
{
	va_list args;
	g_autofree char *msg = NULL;

	va_start (args, format);
	msg = g_strdup_vprintf (format, args);
	va_end (args);
	g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA, msg);
	return FALSE;
}

/* value * 1e6 rounded, for a value known to be finite, >= 0 and small enough
 * (not llround(): the engine does not link libm) */
static gint64
astra_reports_seconds_to_us (double value)
{
	return (gint64) (value * G_USEC_PER_SEC + 0.5);
}

static const char *
astra_reports_node_type_name (JsonNode *node)
{
	if (JSON_NODE_HOLDS_OBJECT (node))
		return "object";
	if (JSON_NODE_HOLDS_ARRAY (node))
		return "array";
	if (JSON_NODE_HOLDS_NULL (node))
		return "null";
	switch (json_node_get_value_type (node)) {
	case G_TYPE_STRING:
		return "string";
	case G_TYPE_BOOLEAN:
		return "boolean";
	default:
		return "number";
	}
}

/**
 * astra_reports_parse_timestamp:
 * @node: a JSON value
 * @allow_number: whether unix seconds are taken too
 * @timestamp_us: (out): the time, in unix microseconds
 * @error: return location for a #GError
 *
 * Reads a report's timestamp: an RFC 3339 date-time with a zone (`Z` or an
 * offset; one without is ambiguous), or with @allow_number a number of
 * seconds since the Unix epoch, which may be fractional. Times before 1970
 * and after 9999 are refused.
 *
 * Returns: %TRUE on success; %FALSE with %ASTRA_ERROR_INVALID_DATA and a
 *   message that does not name the field
 *
 * Since: 1.0
 */
gboolean
astra_reports_parse_timestamp (JsonNode *node, gboolean allow_number, gint64 *timestamp_us, GError **error)
{
	g_autoptr(GDateTime) dt = NULL;
	g_autofree char *upper = NULL;
	const char *str;
	gint64 seconds;

	g_return_val_if_fail (node != NULL, FALSE);
	g_return_val_if_fail (timestamp_us != NULL, FALSE);

	if (allow_number && JSON_NODE_HOLDS_VALUE (node) &&
	    (json_node_get_value_type (node) == G_TYPE_INT64 || json_node_get_value_type (node) == G_TYPE_DOUBLE)) {
		double value = json_node_get_double (node);
		if (!isfinite (value) || value < 0)
			return astra_reports_set_error (error, "before 1970");
		if (value > (double) ASTRA_REPORTS_TIMESTAMP_MAX)
			return astra_reports_set_error (error,
							"after 9999-12-31T23:59:59Z (unix seconds are expected)");
		*timestamp_us = astra_reports_seconds_to_us (value);
		return TRUE;
	}
	if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING) {
		return astra_reports_set_error (error,
						"expected %s, got %s",
						allow_number ? "an RFC 3339 string or unix seconds"
							     : "an RFC 3339 string",
						astra_reports_node_type_name (node));
	}
	str = json_node_get_string (node);
	/* the SDK's check is exact RFC 3339; GDateTime takes much more of ISO 8601 */
	if (!astra_event_schema_is_date_time (str))
		return astra_reports_set_error (error,
						"not an RFC 3339 date-time with a zone, e.g. 2025-12-17T10:30:00Z");
	upper = g_ascii_strup (str, -1);
	dt = g_date_time_new_from_iso8601 (upper, NULL);
	if (dt == NULL) {
		/* valid RFC 3339 that GDateTime cannot hold: year 0 or beyond 9999 in UTC
		 * (it takes a leap second as the second before) */
		if (g_ascii_strtoull (str, NULL, 10) < 1970)
			return astra_reports_set_error (error, "before 1970");
		return astra_reports_set_error (error, "after 9999-12-31T23:59:59Z");
	}
	seconds = g_date_time_to_unix (dt);
	if (seconds < 0)
		return astra_reports_set_error (error, "before 1970");
	if (seconds > ASTRA_REPORTS_TIMESTAMP_MAX)
		return astra_reports_set_error (error, "after 9999-12-31T23:59:59Z");
	*timestamp_us = seconds * G_USEC_PER_SEC + g_date_time_get_microsecond (dt);
	return TRUE;
}

/* the report's "timestamp", else now */
static gboolean
astra_reports_get_timestamp (JsonObject *report,
			     gboolean allow_number,
			     gint64 now_us,
			     gint64 *timestamp_us,
			     GError **error)
{
	JsonNode *node = json_object_get_member (report, "timestamp");

	if (node == NULL) {
		*timestamp_us = now_us;
		return TRUE;
	}
	if (!astra_reports_parse_timestamp (node, allow_number, timestamp_us, error)) {
		g_prefix_error (error, "timestamp: ");
		return FALSE;
	}
	return TRUE;
}

static const char *
astra_reports_get_string (JsonObject *report, const char *name)
{
	JsonNode *node = json_object_get_member (report, name);

	if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
		return NULL;
	return json_node_get_string (node);
}

/* hostname and tenant_id from the report, else from the registry */
static gboolean
astra_reports_resolve_agent (AstraReports *self,
			     JsonObject *report,
			     const char **hostname,
			     const char **tenant_id,
			     GError **error)
{
	const char *agent_id = astra_reports_get_string (report, "agent_id");
	const AstraAgentInfo *info = astra_agent_registry_lookup (self->agents, agent_id);

	*hostname = astra_reports_get_string (report, "hostname");
	if (*hostname == NULL && info != NULL)
		*hostname = info->hostname;
	if (*hostname == NULL)
		return astra_reports_set_error (error, "hostname: required, agent %s is not registered", agent_id);
	*tenant_id = astra_reports_get_string (report, "tenant_id");
	if (*tenant_id == NULL)
		*tenant_id = info != NULL ? info->tenant_id : "default";
	return TRUE;
}

static void
astra_reports_copy_member (JsonObject *dest, JsonObject *src, const char *name)
{
	JsonNode *node = json_object_get_member (src, name);

	if (node != NULL)
		json_object_set_member (dest, name, json_node_copy (node));
}

static JsonObject *
astra_reports_new_event_data (JsonObject *report, const char *hostname, const char *tenant_id)
{
	JsonObject *data = json_object_new ();

	astra_reports_copy_member (data, report, "agent_id");
	json_object_set_string_member (data, "hostname", hostname);
	json_object_set_string_member (data, "tenant_id", tenant_id);
	return data;
}

static AstraEvent *
astra_reports_new_event (AstraEventKind kind, gint64 timestamp_us, JsonObject *data, GError **error)
{
	AstraEvent *event = astra_event_new (kind, timestamp_us / G_USEC_PER_SEC, data, error);

	if (event == NULL)
		g_prefix_error (error, "%s event: ", astra_event_kind_to_string (kind));
	return event;
}

static void
astra_reports_emit (AstraReports *self, AstraEvent *event)
{
	if (self->event_sink != NULL)
		self->event_sink (event, self->user_data);
}

/* passes one sample; the first refusal is kept in *refused as "WHAT: why" */
static void
astra_reports_push (AstraReports *self,
		    const char *metric,
		    const AstraLabel *labels,
		    guint n_labels,
		    double value,
		    gint64 timestamp_us,
		    const char *what,
		    char **refused)
{
	AstraSeriesReject reject = ASTRA_SERIES_REJECT_NONE;

	if (self->sample_sink == NULL)
		return;
	if (self->sample_sink (metric, labels, n_labels, value, timestamp_us, &reject, self->user_data))
		return;
	if (*refused == NULL)
		*refused = g_strdup_printf ("%s: %s", what, astra_series_reject_to_string (reject));
}

static gboolean
astra_reports_refused (char *refused, GError **error)
{
	if (refused == NULL)
		return TRUE;
	g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA, refused);
	return FALSE;
}

/* heartbeat */

static gboolean
astra_reports_handle_heartbeat (AstraReports *self, JsonObject *report, gint64 now_us, GError **error)
{
	AstraHeartbeat heartbeat = {
	    .agent_id = astra_reports_get_string (report, "agent_id"),
	    .hostname = astra_reports_get_string (report, "hostname"),
	    .tenant_id = astra_reports_get_string (report, "tenant_id"),
	    .version = astra_reports_get_string (report, "version"),
	    .address = astra_reports_get_string (report, "address"),
	};
	JsonNode *interval = json_object_get_member (report, "interval_s");

	if (interval != NULL) {
		double interval_s = json_node_get_double (interval);
		if (interval_s > ASTRA_REPORTS_MAX_INTERVAL_S)
			return astra_reports_set_error (error,
							"interval_s: must be at most %d",
							ASTRA_REPORTS_MAX_INTERVAL_S);
		heartbeat.interval_us = astra_reports_seconds_to_us (interval_s);
	}
	if (json_object_has_member (report, "timestamp") &&
	    !astra_reports_get_timestamp (report, FALSE, now_us, &heartbeat.timestamp_us, error))
		return FALSE;
	return astra_agent_registry_heartbeat (self->agents, &heartbeat, error);
}

/* speedtest */

static gboolean
astra_reports_handle_speedtest (AstraReports *self, JsonObject *report, gint64 now_us, GError **error)
{
	static const struct {
		const char *member;
		const char *metric;
	} metrics[] = {
	    {"download_mbps", "speedtest_download_mbps"},
	    {"upload_mbps", "speedtest_upload_mbps"},
	    {"ping_ms", "speedtest_ping_ms"},
	    {"jitter_ms", "speedtest_jitter_ms"},
	};
	g_autoptr(JsonObject) data = NULL;
	g_autoptr(AstraEvent) event = NULL;
	g_autofree char *refused = NULL;
	const char *hostname;
	const char *tenant_id;
	gint64 timestamp_us;
	AstraLabel label = {"agent_id", astra_reports_get_string (report, "agent_id")};

	if (!astra_reports_get_timestamp (report, FALSE, now_us, &timestamp_us, error))
		return FALSE;
	if (!astra_reports_resolve_agent (self, report, &hostname, &tenant_id, error))
		return FALSE;
	data = astra_reports_new_event_data (report, hostname, tenant_id);
	astra_reports_copy_member (data, report, "download_mbps");
	astra_reports_copy_member (data, report, "upload_mbps");
	astra_reports_copy_member (data, report, "ping_ms");
	astra_reports_copy_member (data, report, "jitter_ms");
	astra_reports_copy_member (data, report, "server");
	astra_reports_copy_member (data, report, "isp");
	event = astra_reports_new_event (ASTRA_EVENT_KIND_SPEEDTEST_COMPLETED, timestamp_us, data, error);
	if (event == NULL)
		return FALSE;

	astra_reports_emit (self, event);
	for (guint i = 0; i < G_N_ELEMENTS (metrics); i++) {
		JsonNode *node = json_object_get_member (report, metrics[i].member);
		if (node == NULL)
			continue;
		astra_reports_push (self,
				    metrics[i].metric,
				    &label,
				    1,
				    json_node_get_double (node),
				    timestamp_us,
				    metrics[i].metric,
				    &refused);
	}
	return astra_reports_refused (refused, error);
}

/* traceroute */

static gboolean
astra_reports_ensure_db_schema (AstraReports *self, GError **error)
{
	if (self->db_schema_ready)
		return TRUE;
	if (!astra_state_db_ensure_schema (self->state_db, ASTRA_REPORTS_DB_MODULE, ASTRA_REPORTS_DB_SCHEMA_VERSION,
					   "CREATE TABLE IF NOT EXISTS traceroute_paths ("
					   "agent_id TEXT NOT NULL, "
					   "target TEXT NOT NULL, "
					   "path TEXT NOT NULL, "
					   "changed_us INTEGER NOT NULL, "
					   "PRIMARY KEY (agent_id, target)"
					   ") WITHOUT ROWID",
					   error))
		return FALSE;
	self->db_schema_ready = TRUE;
	return TRUE;
}

static char *
astra_reports_path_key (const char *agent_id, const char *target)
{
	/* the length makes it unambiguous whatever the two contain */
	return g_strdup_printf ("%zu:%s%s", strlen (agent_id), agent_id, target);
}

/* the previous path from agent_id to target, NULL if none */
static char *
astra_reports_lookup_path (AstraReports *self, const char *agent_id, const char *target, GError **error)
{
	sqlite3_stmt *stmt;
	char *path = NULL;
	int rc;

	if (self->state_db == NULL) {
		g_autofree char *key = astra_reports_path_key (agent_id, target);
		return g_strdup (g_hash_table_lookup (self->paths, key));
	}
	if (!astra_reports_ensure_db_schema (self, error))
		return NULL;
	stmt = astra_state_db_prepare (self->state_db,
				       "SELECT path FROM traceroute_paths WHERE agent_id = ?1 AND target = ?2",
				       error);
	if (stmt == NULL)
		return NULL;
	sqlite3_bind_text (stmt, 1, agent_id, -1, SQLITE_STATIC);
	sqlite3_bind_text (stmt, 2, target, -1, SQLITE_STATIC);
	rc = sqlite3_step (stmt);
	if (rc == SQLITE_ROW)
		path = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
	sqlite3_reset (stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		if (astra_state_db_check (self->state_db, rc, error))
			g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_FAILED, "reading failed (%d)", rc);
		return NULL;
	}
	return path;
}

static gboolean
astra_reports_store_path (AstraReports *self,
			  const char *agent_id,
			  const char *target,
			  const char *path,
			  gint64 now_us,
			  GError **error)
{
	sqlite3_stmt *stmt;
	int rc;

	if (self->state_db == NULL) {
		g_hash_table_replace (self->paths, astra_reports_path_key (agent_id, target), g_strdup (path));
		return TRUE;
	}
	if (!astra_reports_ensure_db_schema (self, error))
		return FALSE;
	astra_state_db_begin (self->state_db);
	stmt = astra_state_db_prepare (self->state_db,
				       "INSERT OR REPLACE INTO traceroute_paths (agent_id, target, path, changed_us) "
				       "VALUES (?1, ?2, ?3, ?4)",
				       error);
	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_text (stmt, 1, agent_id, -1, SQLITE_STATIC);
	sqlite3_bind_text (stmt, 2, target, -1, SQLITE_STATIC);
	sqlite3_bind_text (stmt, 3, path, -1, SQLITE_STATIC);
	sqlite3_bind_int64 (stmt, 4, now_us);
	rc = sqlite3_step (stmt);
	sqlite3_reset (stmt);
	if (rc != SQLITE_DONE) {
		if (astra_state_db_check (self->state_db, rc, error))
			g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_FAILED, "writing failed (%d)", rc);
		return FALSE;
	}
	return TRUE;
}

/* the sequence of hop addresses (null for a hop without reply), as canonical JSON */
static char *
astra_reports_build_path (JsonArray *hops, GError **error)
{
	g_autoptr(JsonArray) path = json_array_sized_new (json_array_get_length (hops));
	g_autoptr(JsonNode) node = NULL;
	g_autoptr(GString) text = g_string_new (NULL);

	for (guint i = 0; i < json_array_get_length (hops); i++) {
		JsonObject *hop = json_array_get_object_element (hops, i);
		const char *address = astra_reports_get_string (hop, "address");
		if (address != NULL)
			json_array_add_string_element (path, address);
		else
			json_array_add_null_element (path);
	}
	node = json_node_init_array (json_node_alloc (), path);
	if (!astra_json_append (text, node, error))
		return NULL;
	return g_string_free (g_steal_pointer (&text), FALSE);
}

static gboolean
astra_reports_handle_traceroute (AstraReports *self, JsonObject *report, gint64 now_us, GError **error)
{
	g_autoptr(JsonObject) data = NULL;
	g_autoptr(AstraEvent) event = NULL;
	g_autoptr(GError) error_local = NULL;
	g_autofree char *path = NULL;
	g_autofree char *previous = NULL;
	g_autofree char *refused = NULL;
	const char *agent_id = astra_reports_get_string (report, "agent_id");
	const char *target = astra_reports_get_string (report, "target");
	JsonArray *hops = json_object_get_array_member (report, "hops");
	guint n_hops = json_array_get_length (hops);
	const char *hostname;
	const char *tenant_id;
	gint64 timestamp_us;
	gboolean path_changed;
	AstraLabel labels[] = {{"agent_id", agent_id}, {"target", target}};

	if (n_hops > ASTRA_REPORTS_MAX_HOPS)
		return astra_reports_set_error (error,
						"hops: at most %u hops, got %u",
						(guint) ASTRA_REPORTS_MAX_HOPS,
						n_hops);
	if (!astra_reports_get_timestamp (report, FALSE, now_us, &timestamp_us, error))
		return FALSE;
	if (!astra_reports_resolve_agent (self, report, &hostname, &tenant_id, error))
		return FALSE;
	path = astra_reports_build_path (hops, error);
	if (path == NULL) {
		g_prefix_error (error, "hops: ");
		return FALSE;
	}
	previous = astra_reports_lookup_path (self, agent_id, target, &error_local);
	if (error_local != NULL) {
		/* losing the comparison is better than losing the result */
		g_warning ("traceroute: previous path of %s to %s: %s", agent_id, target, error_local->message);
		g_clear_error (&error_local);
	}
	path_changed = previous != NULL && g_strcmp0 (previous, path) != 0;

	data = astra_reports_new_event_data (report, hostname, tenant_id);
	json_object_set_string_member (data, "target", target);
	astra_reports_copy_member (data, report, "destination_reached");
	json_object_set_int_member (data, "hop_count", n_hops);
	astra_reports_copy_member (data, report, "hops");
	json_object_set_boolean_member (data, "path_changed", path_changed);
	event = astra_reports_new_event (ASTRA_EVENT_KIND_TRACEROUTE_COMPLETED, timestamp_us, data, error);
	if (event == NULL)
		return FALSE;

	if (previous == NULL || path_changed) {
		if (!astra_reports_store_path (self, agent_id, target, path, now_us, &error_local))
			g_warning ("traceroute: path of %s to %s: %s", agent_id, target, error_local->message);
	}
	astra_reports_emit (self, event);
	astra_reports_push (self,
			    "traceroute_hop_count",
			    labels,
			    G_N_ELEMENTS (labels),
			    n_hops,
			    timestamp_us,
			    "traceroute_hop_count",
			    &refused);
	return astra_reports_refused (refused, error);
}

/* service_test */

static gboolean
astra_reports_handle_service_test (AstraReports *self, JsonObject *report, gint64 now_us, GError **error)
{
	g_autoptr(AstraEvent) event = NULL;
	g_autofree char *refused = NULL;
	gboolean success = json_object_get_boolean_member (report, "success");
	JsonNode *response_ms = json_object_get_member (report, "response_ms");
	gint64 timestamp_us;
	AstraLabel labels[] = {
	    {"agent_id", astra_reports_get_string (report, "agent_id")},
	    {"test", astra_reports_get_string (report, "test")},
	    {"kind", astra_reports_get_string (report, "kind")},
	    {"target", astra_reports_get_string (report, "target")},
	};

	if (!astra_reports_get_timestamp (report, FALSE, now_us, &timestamp_us, error))
		return FALSE;
	if (!success) {
		g_autoptr(JsonObject) data = NULL;
		const char *hostname;
		const char *tenant_id;

		if (!json_object_has_member (report, "error"))
			return astra_reports_set_error (error, "error: required when success is false");
		if (!astra_reports_resolve_agent (self, report, &hostname, &tenant_id, error))
			return FALSE;
		data = astra_reports_new_event_data (report, hostname, tenant_id);
		astra_reports_copy_member (data, report, "test");
		astra_reports_copy_member (data, report, "kind");
		astra_reports_copy_member (data, report, "target");
		astra_reports_copy_member (data, report, "error");
		astra_reports_copy_member (data, report, "status_code");
		astra_reports_copy_member (data, report, "response_ms");
		event = astra_reports_new_event (ASTRA_EVENT_KIND_SERVICE_TEST_FAILED, timestamp_us, data, error);
		if (event == NULL)
			return FALSE;
		astra_reports_emit (self, event);
	}
	astra_reports_push (self,
			    "service_up",
			    labels,
			    G_N_ELEMENTS (labels),
			    success ? 1 : 0,
			    timestamp_us,
			    "service_up",
			    &refused);
	if (response_ms != NULL && !JSON_NODE_HOLDS_NULL (response_ms)) {
		astra_reports_push (self,
				    "service_response_ms",
				    labels,
				    G_N_ELEMENTS (labels),
				    json_node_get_double (response_ms),
				    timestamp_us,
				    "service_response_ms",
				    &refused);
	}
	return astra_reports_refused (refused, error);
}

/* samples */

static gboolean
astra_reports_has_label (JsonObject *labels, const char *name)
{
	return labels != NULL && json_object_has_member (labels, name);
}

static gboolean
astra_reports_handle_samples (AstraReports *self, JsonObject *report, gint64 now_us, GError **error)
{
	g_autoptr(GArray) timestamps = NULL;
	g_autofree char *refused = NULL;
	JsonArray *samples = json_object_get_array_member (report, "samples");
	JsonObject *report_labels = NULL;
	const char *agent_id = astra_reports_get_string (report, "agent_id");
	guint n_samples = json_array_get_length (samples);
	gint64 default_us;

	if (json_object_has_member (report, "labels"))
		report_labels = json_object_get_object_member (report, "labels");
	if (!astra_reports_get_timestamp (report, TRUE, now_us, &default_us, error))
		return FALSE;

	/* every timestamp first: a malformed report has no effect at all */
	timestamps = g_array_sized_new (FALSE, FALSE, sizeof (gint64), n_samples);
	for (guint i = 0; i < n_samples; i++) {
		JsonNode *node = json_object_get_member (json_array_get_object_element (samples, i), "timestamp");
		gint64 timestamp_us = default_us;

		if (node != NULL && !astra_reports_parse_timestamp (node, TRUE, &timestamp_us, error)) {
			g_prefix_error (error, "samples[%u].timestamp: ", i);
			return FALSE;
		}
		g_array_append_val (timestamps, timestamp_us);
	}

	for (guint i = 0; i < n_samples; i++) {
		JsonObject *sample = json_array_get_object_element (samples, i);
		JsonObject *sample_labels = NULL;
		AstraSeriesReject reject = ASTRA_SERIES_REJECT_NONE;
		JsonObjectIter iter;
		const char *name;
		JsonNode *value;

		g_array_set_size (self->labels, 0);
		if (json_object_has_member (sample, "labels")) {
			sample_labels = json_object_get_object_member (sample, "labels");
			json_object_iter_init (&iter, sample_labels);
			while (json_object_iter_next (&iter, &name, &value)) {
				AstraLabel label = {name, json_node_get_string (value)};
				g_array_append_val (self->labels, label);
			}
		}
		if (report_labels != NULL) {
			json_object_iter_init (&iter, report_labels);
			while (json_object_iter_next (&iter, &name, &value)) {
				AstraLabel label = {name, json_node_get_string (value)};
				if (!astra_reports_has_label (sample_labels, name))
					g_array_append_val (self->labels, label);
			}
		}
		if (agent_id != NULL && !astra_reports_has_label (sample_labels, "agent_id") &&
		    !astra_reports_has_label (report_labels, "agent_id")) {
			AstraLabel label = {"agent_id", agent_id};
			g_array_append_val (self->labels, label);
		}
		if (self->sample_sink == NULL)
			continue;
		if (!self->sample_sink (json_object_get_string_member (sample, "metric"),
					(const AstraLabel *) self->labels->data,
					self->labels->len,
					json_object_get_double_member (sample, "value"),
					g_array_index (timestamps, gint64, i),
					&reject,
					self->user_data) &&
		    refused == NULL)
			refused = g_strdup_printf ("samples[%u]: %s", i, astra_series_reject_to_string (reject));
	}
	return astra_reports_refused (refused, error);
}

/* dispatching */

static gboolean
astra_reports_validate (AstraReports *self, AstraReportKind kind, JsonNode *node, GError **error)
{
	g_autoptr(GError) error_local = NULL;
	const char *msg;

	if (self->schemas[kind] == NULL) {
		g_set_error (error,
			     ASTRA_ERROR,
			     ASTRA_ERROR_FAILED,
			     "the built-in schema of %s reports is invalid: %s",
			     astra_report_types[kind],
			     self->schema_errors[kind]);
		return FALSE;
	}
	/* an empty root name makes the paths ".agent_id" and "[\"a b\"]": relative to the report */
	if (astra_event_schema_validate (self->schemas[kind], node, "", &error_local))
		return TRUE;
	msg = error_local->message;
	if (msg[0] == '.')
		msg++;
	g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA, msg);
	return FALSE;
}

/**
 * astra_reports_handle:
 * @self: a #AstraReports
 * @report: a report, whose `type` member names its type
 * @now_us: when the report arrived, the time of reports without a timestamp
 * @error: return location for a #GError
 *
 * Validates @report against the schema of its type, then hands it on: a
 * heartbeat to the agent registry, a result as an event and samples, a
 * samples report as samples. A report that fails validation has no
 * effect. A sample the sample sink refuses does not stop the others; the
 * report then fails naming the first refused one.
 *
 * Returns: %TRUE if everything was taken; %FALSE with
 *   %ASTRA_ERROR_INVALID_DATA and "FIELD: what is wrong" otherwise
 *
 * Since: 1.0
 */
gboolean
astra_reports_handle (AstraReports *self, JsonObject *report, gint64 now_us, GError **error)
{
	g_autoptr(JsonNode) node = NULL;
	JsonNode *type_node;
	const char *type;
	guint kind;

	g_return_val_if_fail (ASTRA_IS_REPORTS (self), FALSE);
	g_return_val_if_fail (report != NULL, FALSE);
	g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

	type_node = json_object_get_member (report, "type");
	if (type_node == NULL)
		return astra_reports_set_error (error, "type: missing required field");
	if (!JSON_NODE_HOLDS_VALUE (type_node) || json_node_get_value_type (type_node) != G_TYPE_STRING)
		return astra_reports_set_error (error,
						"type: expected string, got %s",
						astra_reports_node_type_name (type_node));
	type = json_node_get_string (type_node);
	for (kind = 0; kind < ASTRA_REPORT_KIND_LAST; kind++) {
		if (g_strcmp0 (type, astra_report_types[kind]) == 0)
			break;
	}
	if (kind == ASTRA_REPORT_KIND_LAST) {
		g_autofree char *known = g_strjoinv (", ", (char **) astra_report_types);
		return astra_reports_set_error (error, "type: unknown report type (known: %s)", known);
	}

	node = json_node_init_object (json_node_alloc (), report);
	if (!astra_reports_validate (self, kind, node, error))
		return FALSE;
	switch (kind) {
	case ASTRA_REPORT_KIND_HEARTBEAT:
		return astra_reports_handle_heartbeat (self, report, now_us, error);
	case ASTRA_REPORT_KIND_SPEEDTEST:
		return astra_reports_handle_speedtest (self, report, now_us, error);
	case ASTRA_REPORT_KIND_TRACEROUTE:
		return astra_reports_handle_traceroute (self, report, now_us, error);
	case ASTRA_REPORT_KIND_SERVICE_TEST:
		return astra_reports_handle_service_test (self, report, now_us, error);
	case ASTRA_REPORT_KIND_SAMPLES:
		return astra_reports_handle_samples (self, report, now_us, error);
	default:
		g_assert_not_reached ();
	}
}

static AstraEventSchema *
astra_reports_load_schema (const char *type, GError **error)
{
	g_autofree char *path = g_strconcat (ASTRA_REPORTS_SCHEMA_PREFIX, type, ".schema.json", NULL);
	g_autoptr(GBytes) bytes = NULL;
	AstraEventSchema *schema;

	bytes = g_resource_lookup_data (astra_engine_get_resource (), path, G_RESOURCE_LOOKUP_FLAGS_NONE, error);
	if (bytes == NULL)
		return NULL;
	schema = astra_event_schema_new_from_bytes (bytes, error);
	if (schema == NULL)
		g_prefix_error (error, "%s: ", path);
	return schema;
}

static void
astra_reports_finalize (GObject *object)
{
	AstraReports *self = ASTRA_REPORTS (object);

	for (guint i = 0; i < ASTRA_REPORT_KIND_LAST; i++) {
		g_clear_pointer (&self->schemas[i], astra_event_schema_free);
		g_free (self->schema_errors[i]);
	}
	g_hash_table_unref (self->paths);
	g_array_unref (self->labels);
	g_clear_object (&self->state_db);
	g_object_unref (self->agents);

	G_OBJECT_CLASS (astra_reports_parent_class)->finalize (object);
}

static void
astra_reports_class_init (AstraReportsClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS (klass);
	object_class->finalize = astra_reports_finalize;
}

static void
astra_reports_init (AstraReports *self)
{
	self->paths = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
	self->labels = g_array_new (FALSE, FALSE, sizeof (AstraLabel));
	for (guint i = 0; i < ASTRA_REPORT_KIND_LAST; i++) {
		g_autoptr(GError) error_local = NULL;

		self->schemas[i] = astra_reports_load_schema (astra_report_types[i], &error_local);
		if (self->schemas[i] == NULL) {
			/* a build-time bug: every report of the type fails with this */
			g_critical ("the built-in schema of %s reports is invalid: %s",
				    astra_report_types[i],
				    error_local->message);
			self->schema_errors[i] = g_strdup (error_local->message);
		}
	}
}

/**
 * astra_reports_new:
 * @agents: the agent registry heartbeats go to and hostnames come from
 * @state_db: (nullable): where traceroute paths are kept, or %NULL to keep
 *   them in memory until the object is destroyed
 * @event_sink: (nullable): receives the events of results (transfer none)
 * @sample_sink: (nullable): receives the samples
 * @user_data: data for both sinks
 *
 * Creates the reports processor.
 *
 * Returns: (transfer full): a new #AstraReports
 *
 * Since: 1.0
 */
AstraReports *
astra_reports_new (AstraAgentRegistry *agents,
		   AstraStateDb *state_db,
		   AstraEventSinkFunc event_sink,
		   AstraSampleSinkFunc sample_sink,
		   gpointer user_data)
{
	AstraReports *self;

	g_return_val_if_fail (ASTRA_IS_AGENT_REGISTRY (agents), NULL);
	g_return_val_if_fail (state_db == NULL || ASTRA_IS_STATE_DB (state_db), NULL);

	self = g_object_new (ASTRA_TYPE_REPORTS, NULL);
	self->agents = g_object_ref (agents);
	self->state_db = state_db != NULL ? g_object_ref (state_db) : NULL;
	self->event_sink = event_sink;
	self->sample_sink = sample_sink;
	self->user_data = user_data;
	return self;
}
