/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "astra.h"
#include "astra-check-common.h"

/* the schema validator is private to the SDK (hidden symbols): meson compiles
 * a copy into this suite to test it directly; its resources come from the SDK */
#include "astra-event-schema.h"

#define DOCS_EXAMPLE                                                                               \
	"{\"event\":\"agent.status_changed\",\"timestamp\":\"2025-12-17T10:30:00Z\",\"data\":{"       \
	"\"agent_id\":\"agent-123\",\"hostname\":\"server-01\",\"previous_status\":\"online\","    \
	"\"current_status\":\"offline\",\"tenant_id\":\"tenant-abc\"}}"
#define DOCS_EXAMPLE_TIMESTAMP G_GINT64_CONSTANT (1765967400)

/* helpers */

static JsonNode *
parse_json (const char *json)
{
	g_autoptr(GError) error = NULL;
	JsonNode *node = astra_json_parse (json, strlen (json), &error);
	ck_assert_msg (node != NULL, "cannot parse %s: %s", json, error != NULL ? error->message : "");
	return node;
}

static JsonObject *
parse_object (const char *json)
{
	g_autoptr(JsonNode) node = parse_json (json);
	ck_assert (JSON_NODE_HOLDS_OBJECT (node));
	return json_object_ref (json_node_get_object (node));
}

static GBytes *
bytes_from_string (const char *str)
{
	return g_bytes_new (str, strlen (str));
}

static char *
bytes_to_string (GBytes *bytes)
{
	gsize len = 0;
	const char *data = g_bytes_get_data (bytes, &len);
	return g_strndup (data, len);
}

static GBytes *
read_fixture (AstraEventKind kind)
{
	return astra_check_fixture_bytes (astra_event_kind_to_string (kind));
}

/* the data object of a fixture, as a fresh mutable copy */
static JsonObject *
fixture_data (AstraEventKind kind)
{
	g_autoptr(GBytes) bytes = read_fixture (kind);
	g_autofree char *text = bytes_to_string (bytes);
	g_autoptr(JsonObject) envelope = parse_object (text);
	return json_object_ref (json_object_get_object_member (envelope, "data"));
}

static void
assert_error (GError *error, const char *message)
{
	ck_assert_msg (error != NULL, "expected error: %s", message);
	ck_assert_msg (g_error_matches (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA),
		       "wrong error for %s: %s",
		       message,
		       error->message);
	ck_assert_str_eq (error->message, message);
}

static void
assert_new_fails (AstraEventKind kind, JsonObject *data, const char *message)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(AstraEvent) event = astra_event_new (kind, DOCS_EXAMPLE_TIMESTAMP, data, &error);
	ck_assert_msg (event == NULL, "accepted, expected: %s", message);
	assert_error (error, message);
}

static AstraEvent *
assert_new_works (AstraEventKind kind, JsonObject *data)
{
	g_autoptr(GError) error = NULL;
	AstraEvent *event = astra_event_new (kind, DOCS_EXAMPLE_TIMESTAMP, data, &error);
	ck_assert_msg (event != NULL, "rejected: %s", error != NULL ? error->message : "");
	return event;
}

static void
assert_body_eq (AstraEvent *event, const char *expected)
{
	g_autofree char *body = bytes_to_string (astra_event_get_body (event));
	ck_assert_str_eq (body, expected);
}

/* replaces the value at @pointer ("hops/1/rtt_ms") in @data with @json;
 * a NULL @json removes it */
static void
data_set (JsonObject *data, const char *pointer, const char *json)
{
	g_auto(GStrv) parts = g_strsplit (pointer, "/", -1);
	guint n = g_strv_length (parts);
	JsonNode *node = NULL;
	JsonObject *object = data;
	JsonArray *array = NULL;

	for (guint i = 0; i + 1 < n; i++) {
		node = object != NULL ? json_object_get_member (object, parts[i])
				      : json_array_get_element (array, (guint) atoi (parts[i]));
		ck_assert_msg (node != NULL, "no %s in %s", parts[i], pointer);
		object = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
		array = JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
	}
	if (array != NULL) {
		guint index = (guint) atoi (parts[n - 1]);
		ck_assert (json != NULL);
		ck_assert_uint_lt (index, json_array_get_length (array));
		/* JsonArray has no replace: rebuild it */
		{
			g_autoptr(JsonArray) copy = json_array_new ();
			for (guint i = 0; i < json_array_get_length (array); i++) {
				if (i == index)
					json_array_add_element (copy, parse_json (json));
				else
					json_array_add_element (copy, json_node_copy (json_array_get_element (array, i)));
			}
			while (json_array_get_length (array) > 0)
				json_array_remove_element (array, 0);
			for (guint i = 0; i < json_array_get_length (copy); i++)
				json_array_add_element (array, json_node_copy (json_array_get_element (copy, i)));
		}
		return;
	}
	ck_assert (object != NULL);
	if (json == NULL) {
		ck_assert_msg (json_object_has_member (object, parts[n - 1]), "no %s", pointer);
		json_object_remove_member (object, parts[n - 1]);
		return;
	}
	json_object_set_member (object, parts[n - 1], parse_json (json));
}

static JsonObject *
schema_of (AstraEventKind kind)
{
	g_autofree char *path = g_strdup_printf ("%s%s.schema.json",
						 ASTRA_EVENT_SCHEMA_RESOURCE_PREFIX,
						 astra_event_kind_to_string (kind));
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) bytes = g_resources_lookup_data (path, G_RESOURCE_LOOKUP_FLAGS_NONE, &error);
	g_autofree char *text = NULL;

	ck_assert_msg (bytes != NULL, "%s", error != NULL ? error->message : "");
	text = bytes_to_string (bytes);
	return parse_object (text);
}

/* fixtures and the docs example */

START_TEST (test_fixtures)
{
	for (guint k = ASTRA_EVENT_KIND_UNKNOWN + 1; k < ASTRA_EVENT_KIND_LAST; k++) {
		g_autoptr(GBytes) bytes = read_fixture (k);
		g_autoptr(GError) error = NULL;
		g_autoptr(AstraEvent) restored = NULL;
		g_autoptr(AstraEvent) created = NULL;
		g_autoptr(JsonObject) data = fixture_data (k);

		/* fixtures are canonical bodies, without a trailing newline */
		restored = astra_event_new_from_body ("evt_fixture", bytes, &error);
		ck_assert_msg (restored != NULL,
			       "%s: %s",
			       astra_event_kind_to_string (k),
			       error != NULL ? error->message : "");
		ck_assert (g_bytes_equal (astra_event_get_body (restored), bytes));
		ck_assert_int_eq (astra_event_get_kind (restored), k);
		ck_assert_str_eq (astra_event_get_type_name (restored), astra_event_kind_to_string (k));
		ck_assert_str_eq (astra_event_get_id (restored), "evt_fixture");

		/* and astra_event_new() writes the very same bytes */
		created = astra_event_new (k, astra_event_get_timestamp (restored), data, &error);
		ck_assert_msg (created != NULL, "%s", error != NULL ? error->message : "");
		ck_assert (g_bytes_equal (astra_event_get_body (created), bytes));
		ck_assert_str_eq (astra_event_get_timestamp_string (created),
				  astra_event_get_timestamp_string (restored));
	}
}
END_TEST

START_TEST (test_fixtures_dir)
{
	g_autofree char *path = astra_check_source_path ("data", "events", NULL);
	g_autoptr(GDir) dir = NULL;
	g_autoptr(GError) error = NULL;
	const char *name;
	guint n = 0;

	dir = g_dir_open (path, 0, &error);
	ck_assert_msg (dir != NULL, "%s", error != NULL ? error->message : "");
	while ((name = g_dir_read_name (dir)) != NULL) {
		g_autofree char *type = NULL;
		ck_assert_msg (g_str_has_suffix (name, ".json"), "stray file %s", name);
		type = g_strndup (name, strlen (name) - strlen (".json"));
		ck_assert_msg (astra_event_kind_from_string (type) != ASTRA_EVENT_KIND_UNKNOWN,
			       "fixture %s is not an event type",
			       name);
		n++;
	}
	ck_assert_uint_eq (n, ASTRA_EVENT_KIND_LAST - 1);
}
END_TEST

START_TEST (test_docs_example)
{
	g_autoptr(JsonNode) root = parse_json (DOCS_EXAMPLE);
	JsonObject *data = json_object_get_object_member (json_node_get_object (root), "data");
	g_autoptr(GError) error = NULL;
	g_autoptr(AstraEvent) event = NULL;
	g_autoptr(AstraEvent) restored = NULL;
	g_autoptr(GBytes) bytes = bytes_from_string (DOCS_EXAMPLE);

	event = astra_event_new (ASTRA_EVENT_KIND_AGENT_STATUS_CHANGED, DOCS_EXAMPLE_TIMESTAMP, data, &error);
	ck_assert_msg (event != NULL, "%s", error != NULL ? error->message : "");
	assert_body_eq (event, DOCS_EXAMPLE);
	ck_assert_str_eq (astra_event_get_timestamp_string (event), "2025-12-17T10:30:00Z");
	ck_assert_int_eq (astra_event_get_timestamp (event), DOCS_EXAMPLE_TIMESTAMP);
	ck_assert_str_eq (astra_event_get_type_name (event), "agent.status_changed");
	ck_assert_str_eq (astra_event_get_tenant (event), "tenant-abc");
	ck_assert_int_eq (astra_event_get_severity (event), ASTRA_SEVERITY_CRITICAL);
	/* the body is followed by a NUL, for convenience */
	ck_assert_int_eq (((const char *) g_bytes_get_data (astra_event_get_body (event), NULL))[strlen (DOCS_EXAMPLE)], '\0');

	restored = astra_event_new_from_body ("evt_docs", bytes, &error);
	ck_assert_msg (restored != NULL, "%s", error != NULL ? error->message : "");
	ck_assert (g_bytes_equal (astra_event_get_body (restored), bytes));
	ck_assert_int_eq (astra_event_get_timestamp (restored), DOCS_EXAMPLE_TIMESTAMP);
}
END_TEST

/* required fields */

static const struct {
	AstraEventKind kind;
	const char *required[16];
} required_fields[] = {
    {ASTRA_EVENT_KIND_AGENT_STATUS_CHANGED,
     {"agent_id", "hostname", "previous_status", "current_status", "tenant_id", NULL}},
    {ASTRA_EVENT_KIND_AGENT_REGISTERED, {"agent_id", "hostname", "tenant_id", NULL}},
    {ASTRA_EVENT_KIND_SPEEDTEST_COMPLETED,
     {"agent_id", "hostname", "tenant_id", "download_mbps", "upload_mbps", "ping_ms", NULL}},
    {ASTRA_EVENT_KIND_TRACEROUTE_COMPLETED,
     {"agent_id", "hostname", "tenant_id", "target", "destination_reached", "hop_count", "hops", NULL}},
    {ASTRA_EVENT_KIND_SERVICE_TEST_FAILED,
     {"agent_id", "hostname", "tenant_id", "test", "kind", "target", "error", NULL}},
    {ASTRA_EVENT_KIND_ALERT_TRIGGERED,
     {"alert_id", "rule", "severity", "state", "metric", "value", "threshold", "condition",
      "labels", "summary", "started_at", NULL}},
    {ASTRA_EVENT_KIND_ALERT_RESOLVED,
     {"alert_id", "rule", "severity", "state", "metric", "value", "threshold", "condition",
      "labels", "summary", "started_at", "resolved_at", "duration_s", NULL}},
};
G_STATIC_ASSERT (G_N_ELEMENTS (required_fields) == ASTRA_EVENT_KIND_LAST - 1);

START_TEST (test_required)
{
	for (guint i = 0; i < G_N_ELEMENTS (required_fields); i++) {
		AstraEventKind kind = required_fields[i].kind;
		g_autoptr(JsonObject) schema = schema_of (kind);
		JsonArray *schema_required = json_object_get_array_member (schema, "required");
		guint n = g_strv_length ((char **) required_fields[i].required);

		/* the schemas say what the contract says */
		ck_assert_uint_eq (json_array_get_length (schema_required), n);
		for (guint j = 0; j < n; j++) {
			ck_assert_str_eq (json_array_get_string_element (schema_required, j),
					  required_fields[i].required[j]);
		}

		for (guint j = 0; j < n; j++) {
			g_autoptr(JsonObject) data = fixture_data (kind);
			g_autofree char *msg = g_strdup_printf ("data.%s: missing required field",
								required_fields[i].required[j]);
			data_set (data, required_fields[i].required[j], NULL);
			assert_new_fails (kind, data, msg);
		}
	}
}
END_TEST

START_TEST (test_required_nested)
{
	g_autoptr(JsonObject) data = fixture_data (ASTRA_EVENT_KIND_TRACEROUTE_COMPLETED);
	g_autoptr(AstraEvent) event = NULL;

	/* only hop is required in a hop */
	data_set (data, "hops/1/address", NULL);
	data_set (data, "hops/1/rtt_ms", NULL);
	event = assert_new_works (ASTRA_EVENT_KIND_TRACEROUTE_COMPLETED, data);
	data_set (data, "hops/2/hop", NULL);
	assert_new_fails (ASTRA_EVENT_KIND_TRACEROUTE_COMPLETED, data, "data.hops[2].hop: missing required field");
}
END_TEST

START_TEST (test_optional)
{
	static const struct {
		AstraEventKind kind;
		const char *field;
	} optional[] = {
	    {ASTRA_EVENT_KIND_AGENT_STATUS_CHANGED, "last_seen"},
	    {ASTRA_EVENT_KIND_AGENT_REGISTERED, "version"},
	    {ASTRA_EVENT_KIND_AGENT_REGISTERED, "address"},
	    {ASTRA_EVENT_KIND_SPEEDTEST_COMPLETED, "jitter_ms"},
	    {ASTRA_EVENT_KIND_SPEEDTEST_COMPLETED, "server"},
	    {ASTRA_EVENT_KIND_SPEEDTEST_COMPLETED, "isp"},
	    {ASTRA_EVENT_KIND_TRACEROUTE_COMPLETED, "path_changed"},
	    {ASTRA_EVENT_KIND_SERVICE_TEST_FAILED, "status_code"},
	    {ASTRA_EVENT_KIND_SERVICE_TEST_FAILED, "response_ms"},
	    {ASTRA_EVENT_KIND_ALERT_TRIGGERED, "agent_id"},
	    {ASTRA_EVENT_KIND_ALERT_TRIGGERED, "hostname"},
	    {ASTRA_EVENT_KIND_ALERT_TRIGGERED, "tenant_id"},
	    {ASTRA_EVENT_KIND_ALERT_RESOLVED, "agent_id"},
	    {ASTRA_EVENT_KIND_ALERT_RESOLVED, "hostname"},
	    {ASTRA_EVENT_KIND_ALERT_RESOLVED, "tenant_id"},
	};

	for (guint i = 0; i < G_N_ELEMENTS (optional); i++) {
		g_autoptr(JsonObject) data = fixture_data (optional[i].kind);
		g_autoptr(AstraEvent) event = NULL;
		data_set (data, optional[i].field, NULL);
		event = assert_new_works (optional[i].kind, data);
		ck_assert (!json_object_has_member (astra_event_get_data (event), optional[i].field));
	}
}
END_TEST

/* invalid values */

static const struct {
	AstraEventKind kind;
	const char *pointer;
	const char *json;
	const char *message;
} invalid_values[] = {
    {ASTRA_EVENT_KIND_AGENT_STATUS_CHANGED, "agent_id", "123", "data.agent_id: expected string, got number"},
    {ASTRA_EVENT_KIND_AGENT_STATUS_CHANGED, "hostname", "\"\"", "data.hostname: must not be empty"},
    {ASTRA_EVENT_KIND_AGENT_STATUS_CHANGED, "tenant_id", "null", "data.tenant_id: expected string, got null"},
    {ASTRA_EVENT_KIND_AGENT_STATUS_CHANGED, "tenant_id", "[\"a\"]", "data.tenant_id: expected string, got array"},
    {ASTRA_EVENT_KIND_AGENT_STATUS_CHANGED,
     "current_status",
     "\"unknown\"",
     "data.current_status: must be one of online, offline"},
    {ASTRA_EVENT_KIND_AGENT_STATUS_CHANGED,
     "previous_status",
     "\"gone\"",
     "data.previous_status: must be one of online, offline, unknown"},
    {ASTRA_EVENT_KIND_AGENT_STATUS_CHANGED,
     "current_status",
     "1",
     "data.current_status: expected string, got number"},
    {ASTRA_EVENT_KIND_AGENT_STATUS_CHANGED,
     "last_seen",
     "\"2025-12-17 10:27:00\"",
     "data.last_seen: must be an RFC 3339 date-time like 2025-12-17T10:30:00Z"},
    {ASTRA_EVENT_KIND_AGENT_REGISTERED, "version", "2", "data.version: expected string, got number"},
    {ASTRA_EVENT_KIND_AGENT_REGISTERED, "address", "{}", "data.address: expected string, got object"},
    {ASTRA_EVENT_KIND_SPEEDTEST_COMPLETED, "download_mbps", "-1", "data.download_mbps: must be >= 0, got -1"},
    {ASTRA_EVENT_KIND_SPEEDTEST_COMPLETED, "upload_mbps", "-0.25", "data.upload_mbps: must be >= 0, got -0.25"},
    {ASTRA_EVENT_KIND_SPEEDTEST_COMPLETED, "ping_ms", "\"12\"", "data.ping_ms: expected number, got string"},
    {ASTRA_EVENT_KIND_SPEEDTEST_COMPLETED, "jitter_ms", "-3", "data.jitter_ms: must be >= 0, got -3"},
    {ASTRA_EVENT_KIND_SPEEDTEST_COMPLETED, "isp", "false", "data.isp: expected string, got boolean"},
    {ASTRA_EVENT_KIND_TRACEROUTE_COMPLETED,
     "destination_reached",
     "\"yes\"",
     "data.destination_reached: expected boolean, got string"},
    {ASTRA_EVENT_KIND_TRACEROUTE_COMPLETED, "hop_count", "-1", "data.hop_count: must be >= 0, got -1"},
    {ASTRA_EVENT_KIND_TRACEROUTE_COMPLETED,
     "hop_count",
     "2.5",
     "data.hop_count: expected integer, got non-integral number"},
    {ASTRA_EVENT_KIND_TRACEROUTE_COMPLETED, "hops", "{}", "data.hops: expected array, got object"},
    {ASTRA_EVENT_KIND_TRACEROUTE_COMPLETED, "target", "\"\"", "data.target: must not be empty"},
    {ASTRA_EVENT_KIND_TRACEROUTE_COMPLETED,
     "hops/1/rtt_ms",
     "\"slow\"",
     "data.hops[1].rtt_ms: expected number or null, got string"},
    {ASTRA_EVENT_KIND_TRACEROUTE_COMPLETED, "hops/3/rtt_ms", "-0.1", "data.hops[3].rtt_ms: must be >= 0, got -0.1"},
    {ASTRA_EVENT_KIND_TRACEROUTE_COMPLETED, "hops/0/hop", "0", "data.hops[0].hop: must be >= 1, got 0"},
    {ASTRA_EVENT_KIND_TRACEROUTE_COMPLETED, "hops/0/hop", "null", "data.hops[0].hop: expected integer, got null"},
    {ASTRA_EVENT_KIND_TRACEROUTE_COMPLETED,
     "hops/3/address",
     "5",
     "data.hops[3].address: expected string or null, got number"},
    {ASTRA_EVENT_KIND_TRACEROUTE_COMPLETED, "hops/2", "\"x\"", "data.hops[2]: expected object, got string"},
    {ASTRA_EVENT_KIND_TRACEROUTE_COMPLETED,
     "path_changed",
     "null",
     "data.path_changed: expected boolean, got null"},
    {ASTRA_EVENT_KIND_SERVICE_TEST_FAILED,
     "kind",
     "\"ftp\"",
     "data.kind: must be one of http, tcp, dns, icmp, tls"},
    {ASTRA_EVENT_KIND_SERVICE_TEST_FAILED,
     "status_code",
     "\"503\"",
     "data.status_code: expected integer or null, got string"},
    {ASTRA_EVENT_KIND_SERVICE_TEST_FAILED,
     "status_code",
     "503.5",
     "data.status_code: expected integer or null, got non-integral number"},
    {ASTRA_EVENT_KIND_SERVICE_TEST_FAILED,
     "response_ms",
     "-1",
     "data.response_ms: must be >= 0, got -1"},
    {ASTRA_EVENT_KIND_SERVICE_TEST_FAILED, "test", "\"\"", "data.test: must not be empty"},
    {ASTRA_EVENT_KIND_SERVICE_TEST_FAILED, "error", "null", "data.error: expected string, got null"},
    {ASTRA_EVENT_KIND_ALERT_TRIGGERED, "state", "\"resolved\"", "data.state: must be firing"},
    {ASTRA_EVENT_KIND_ALERT_TRIGGERED, "state", "true", "data.state: expected string, got boolean"},
    {ASTRA_EVENT_KIND_ALERT_TRIGGERED,
     "severity",
     "\"fatal\"",
     "data.severity: must be one of info, warning, error, critical"},
    {ASTRA_EVENT_KIND_ALERT_TRIGGERED, "value", "\"231.4\"", "data.value: expected number, got string"},
    {ASTRA_EVENT_KIND_ALERT_TRIGGERED, "threshold", "null", "data.threshold: expected number, got null"},
    {ASTRA_EVENT_KIND_ALERT_TRIGGERED, "labels", "[]", "data.labels: expected object, got array"},
    {ASTRA_EVENT_KIND_ALERT_TRIGGERED,
     "labels",
     "{\"target\":\"8.8.8.8\",\"region\":1}",
     "data.labels.region: expected string, got number"},
    {ASTRA_EVENT_KIND_ALERT_TRIGGERED,
     "labels",
     "{\"app.kubernetes.io/name\":true}",
     "data.labels[\"app.kubernetes.io/name\"]: expected string, got boolean"},
    {ASTRA_EVENT_KIND_ALERT_TRIGGERED,
     "labels/target",
     "null",
     "data.labels.target: expected string, got null"},
    {ASTRA_EVENT_KIND_ALERT_TRIGGERED,
     "started_at",
     "\"2025-12-17T10:18:00\"",
     "data.started_at: must be an RFC 3339 date-time like 2025-12-17T10:30:00Z"},
    {ASTRA_EVENT_KIND_ALERT_TRIGGERED, "condition", "\"\"", "data.condition: must not be empty"},
    {ASTRA_EVENT_KIND_ALERT_TRIGGERED, "agent_id", "\"\"", "data.agent_id: must not be empty"},
    {ASTRA_EVENT_KIND_ALERT_TRIGGERED, "tenant_id", "7", "data.tenant_id: expected string, got number"},
    {ASTRA_EVENT_KIND_ALERT_RESOLVED, "state", "\"firing\"", "data.state: must be resolved"},
    {ASTRA_EVENT_KIND_ALERT_RESOLVED, "duration_s", "-5", "data.duration_s: must be >= 0, got -5"},
    {ASTRA_EVENT_KIND_ALERT_RESOLVED,
     "resolved_at",
     "\"yesterday\"",
     "data.resolved_at: must be an RFC 3339 date-time like 2025-12-17T10:30:00Z"},
    {ASTRA_EVENT_KIND_ALERT_RESOLVED,
     "severity",
     "\"CRITICAL\"",
     "data.severity: must be one of info, warning, error, critical"},
};

START_TEST (test_invalid_values)
{
	for (guint i = 0; i < G_N_ELEMENTS (invalid_values); i++) {
		g_autoptr(JsonObject) data = fixture_data (invalid_values[i].kind);
		data_set (data, invalid_values[i].pointer, invalid_values[i].json);
		assert_new_fails (invalid_values[i].kind, data, invalid_values[i].message);
	}
}
END_TEST

START_TEST (test_date_times)
{
	static const char *valid[] = {
	    "2025-12-17T10:30:00Z",
	    "2025-12-17T10:30:00.5Z",
	    "2025-12-17T10:30:00.123456789+02:00",
	    "2025-12-17T10:30:00-05:30",
	    "2025-12-17t10:30:00z",
	    "2024-02-29T00:00:00Z",
	    "2000-02-29T00:00:00Z",
	    "2016-12-31T23:59:60Z",
	    "2017-01-01T01:59:60+02:00",
	    "0001-01-01T00:00:00Z",
	};
	static const char *invalid[] = {
	    "",
	    "2025-12-17",
	    "10:30:00Z",
	    "2025-12-17 10:30:00Z",
	    "2025-12-17T10:30:00",
	    "2025-12-17T10:30Z",
	    "2025-12-17T10:30:00+0100",
	    "2025-12-17T10:30:00+01",
	    "2025-12-17T10:30:00.Z",
	    "2025-12-17T10:30:00ZZ",
	    "2025-12-17T10:30:00Z ",
	    " 2025-12-17T10:30:00Z",
	    "2025-13-17T10:30:00Z",
	    "2025-00-17T10:30:00Z",
	    "2025-12-00T10:30:00Z",
	    "2025-12-32T10:30:00Z",
	    "2025-02-29T10:30:00Z",
	    "1900-02-29T10:30:00Z",
	    "2025-04-31T10:30:00Z",
	    "2025-12-17T24:00:00Z",
	    "2025-12-17T10:60:00Z",
	    "2025-12-17T10:30:61Z",
	    "2025-12-17T10:30:60Z",
	    "2025-12-17T10:30:00+24:00",
	    "2025-12-17T10:30:00+01:60",
	    "20251217T103000Z",
	    "２025-12-17T10:30:00Z",
	    "2025-1-17T10:30:00Z",
	};

	for (guint i = 0; i < G_N_ELEMENTS (valid); i++) {
		g_autoptr(JsonObject) data = fixture_data (ASTRA_EVENT_KIND_AGENT_STATUS_CHANGED);
		g_autoptr(AstraEvent) event = NULL;
		ck_assert_msg (astra_event_schema_is_date_time (valid[i]), "rejected %s", valid[i]);
		json_object_set_string_member (data, "last_seen", valid[i]);
		event = assert_new_works (ASTRA_EVENT_KIND_AGENT_STATUS_CHANGED, data);
	}
	for (guint i = 0; i < G_N_ELEMENTS (invalid); i++) {
		g_autoptr(JsonObject) data = fixture_data (ASTRA_EVENT_KIND_AGENT_STATUS_CHANGED);
		ck_assert_msg (!astra_event_schema_is_date_time (invalid[i]), "accepted %s", invalid[i]);
		json_object_set_string_member (data, "last_seen", invalid[i]);
		assert_new_fails (ASTRA_EVENT_KIND_AGENT_STATUS_CHANGED,
				  data,
				  "data.last_seen: must be an RFC 3339 date-time like 2025-12-17T10:30:00Z");
	}
}
END_TEST

START_TEST (test_lengths)
{
	g_autoptr(JsonObject) data = fixture_data (ASTRA_EVENT_KIND_AGENT_STATUS_CHANGED);
	g_autoptr(GString) str = g_string_new (NULL);
	g_autoptr(AstraEvent) event = NULL;
	g_autoptr(AstraEvent) event_emoji = NULL;
	g_autoptr(JsonObject) failed = fixture_data (ASTRA_EVENT_KIND_SERVICE_TEST_FAILED);
	g_autoptr(AstraEvent) event_error = NULL;

	/* characters, not bytes: 256 two-byte characters fit */
	for (guint i = 0; i < 256; i++)
		g_string_append (str, "é");
	json_object_set_string_member (data, "hostname", str->str);
	event = assert_new_works (ASTRA_EVENT_KIND_AGENT_STATUS_CHANGED, data);
	g_string_append (str, "é");
	json_object_set_string_member (data, "hostname", str->str);
	assert_new_fails (ASTRA_EVENT_KIND_AGENT_STATUS_CHANGED,
			  data,
			  "data.hostname: must be at most 256 characters long, got 257");

	/* one four-byte character is one character */
	g_string_truncate (str, 0);
	for (guint i = 0; i < 256; i++)
		g_string_append (str, "\xf0\x9f\x9a\x80");
	json_object_set_string_member (data, "hostname", str->str);
	event_emoji = assert_new_works (ASTRA_EVENT_KIND_AGENT_STATUS_CHANGED, data);

	/* free text gets more room */
	g_string_truncate (str, 0);
	for (guint i = 0; i < 4096; i++)
		g_string_append_c (str, 'x');
	json_object_set_string_member (failed, "error", str->str);
	event_error = assert_new_works (ASTRA_EVENT_KIND_SERVICE_TEST_FAILED, failed);
	g_string_append_c (str, 'x');
	json_object_set_string_member (failed, "error", str->str);
	assert_new_fails (ASTRA_EVENT_KIND_SERVICE_TEST_FAILED,
			  failed,
			  "data.error: must be at most 4096 characters long, got 4097");

	/* bad UTF-8 from a caller that built the object by hand */
	json_object_set_string_member (data, "hostname", "server-\xff");
	assert_new_fails (ASTRA_EVENT_KIND_AGENT_STATUS_CHANGED, data, "data.hostname: not valid UTF-8");
	json_object_set_string_member (data, "hostname", "server-\xf0");
	assert_new_fails (ASTRA_EVENT_KIND_AGENT_STATUS_CHANGED, data, "data.hostname: not valid UTF-8");
}
END_TEST

START_TEST (test_numbers)
{
	g_autoptr(JsonObject) data = fixture_data (ASTRA_EVENT_KIND_TRACEROUTE_COMPLETED);
	g_autoptr(JsonObject) speed = fixture_data (ASTRA_EVENT_KIND_SPEEDTEST_COMPLETED);
	g_autoptr(JsonObject) failed = fixture_data (ASTRA_EVENT_KIND_SERVICE_TEST_FAILED);
	g_autoptr(AstraEvent) event = NULL;
	g_autoptr(AstraEvent) event_zero = NULL;
	g_autoptr(AstraEvent) event_null = NULL;
	JsonObject *hop;

	/* an integral double is an integer, and is written without ".0" */
	json_object_set_double_member (data, "hop_count", 4.0);
	hop = json_array_get_object_element (json_object_get_array_member (data, "hops"), 0);
	json_object_set_double_member (hop, "hop", 1.0);
	event = assert_new_works (ASTRA_EVENT_KIND_TRACEROUTE_COMPLETED, data);
	ck_assert (strstr (g_bytes_get_data (astra_event_get_body (event), NULL), "\"hop_count\":4,") != NULL);
	ck_assert (strstr (g_bytes_get_data (astra_event_get_body (event), NULL), "{\"hop\":1,") != NULL);

	/* zero is allowed where the minimum is 0, and -0 is zero */
	json_object_set_int_member (speed, "download_mbps", 0);
	json_object_set_double_member (speed, "upload_mbps", -0.0);
	event_zero = assert_new_works (ASTRA_EVENT_KIND_SPEEDTEST_COMPLETED, speed);

	/* values JSON cannot carry */
	json_object_set_double_member (speed, "ping_ms", NAN);
	assert_new_fails (ASTRA_EVENT_KIND_SPEEDTEST_COMPLETED, speed, "data.ping_ms: not a finite number");
	json_object_set_double_member (speed, "ping_ms", INFINITY);
	assert_new_fails (ASTRA_EVENT_KIND_SPEEDTEST_COMPLETED, speed, "data.ping_ms: not a finite number");

	/* nullable numbers */
	json_object_set_null_member (failed, "status_code");
	json_object_set_null_member (failed, "response_ms");
	event_null = assert_new_works (ASTRA_EVENT_KIND_SERVICE_TEST_FAILED, failed);
}
END_TEST

/* what the event keeps */

START_TEST (test_extra_fields_and_order)
{
	static const char *data_json =
	    "{\"tenant_id\":\"tenant-abc\",\"zone\":\"eu-west\",\"hostname\":\"server-01\","
	    "\"nested\":{\"b\":[1,2.5,null],\"a\":\"x\"},\"agent_id\":\"agent-123\",\"ratio\":0.1,"
	    "\"big\":1e+21,\"current_status\":\"online\",\"previous_status\":\"unknown\"}";
	g_autoptr(JsonObject) data = parse_object (data_json);
	g_autoptr(AstraEvent) event = assert_new_works (ASTRA_EVENT_KIND_AGENT_STATUS_CHANGED, data);
	g_autoptr(GList) members = json_object_get_members (astra_event_get_data (event));
	static const char *order[] = {"tenant_id", "zone", "hostname", "nested", "agent_id",
				      "ratio", "big", "current_status", "previous_status"};
	g_autofree char *expected = g_strdup_printf ("{\"event\":\"agent.status_changed\","
						     "\"timestamp\":\"2025-12-17T10:30:00Z\",\"data\":%s}",
						     data_json);
	guint i = 0;

	/* 1e+21 is already in the form JavaScript writes */
	assert_body_eq (event, expected);
	ck_assert_uint_eq (g_list_length (members), G_N_ELEMENTS (order));
	for (GList *l = members; l != NULL; l = l->next)
		ck_assert_str_eq (l->data, order[i++]);
	ck_assert_str_eq (json_object_get_string_member (astra_event_get_data (event), "zone"), "eu-west");
}
END_TEST

START_TEST (test_canonical_from_new)
{
	/* json-glib would write 0.1 as 0.10000000000000001; the body never does */
	g_autoptr(JsonObject) data = fixture_data (ASTRA_EVENT_KIND_SPEEDTEST_COMPLETED);
	g_autoptr(AstraEvent) event = NULL;
	const char *body;

	json_object_set_double_member (data, "ping_ms", 0.1);
	json_object_set_string_member (data, "server", "\"quoted\"\n\xe2\x80\xa8/");
	event = assert_new_works (ASTRA_EVENT_KIND_SPEEDTEST_COMPLETED, data);
	body = g_bytes_get_data (astra_event_get_body (event), NULL);
	ck_assert (strstr (body, "\"ping_ms\":0.1,") != NULL);
	ck_assert (strstr (body, "\"server\":\"\\\"quoted\\\"\\n\xe2\x80\xa8/\"") != NULL);
	ck_assert_double_eq (json_object_get_double_member (astra_event_get_data (event), "ping_ms"), 0.1);
}
END_TEST

START_TEST (test_unwritable_extra_fields)
{
	static const struct {
		const char *name;
		const char *prefix;
		const char *nested_prefix;
	} cases[] = {
	    {"note", "data.note: ", "data.note.x: "},
	    {"a note", "data[\"a note\"]: ", "data[\"a note\"].x: "},
	};

	for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
		g_autoptr(JsonObject) data = fixture_data (ASTRA_EVENT_KIND_AGENT_REGISTERED);
		g_autoptr(JsonObject) nested = json_object_new ();
		g_autoptr(GError) error = NULL;
		g_autoptr(GError) error_nested = NULL;
		g_autoptr(AstraEvent) event = NULL;
		g_autoptr(AstraEvent) event_nested = NULL;

		/* fields the schema does not describe are checked by the writer,
		 * and its paths are made to start at data too */
		json_object_set_string_member (data, cases[i].name, "bad \xff");
		event = astra_event_new (ASTRA_EVENT_KIND_AGENT_REGISTERED, 0, data, &error);
		ck_assert (event == NULL);
		ck_assert (g_error_matches (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA));
		ck_assert_msg (g_str_has_prefix (error->message, cases[i].prefix), "%s", error->message);

		json_object_set_double_member (nested, "x", INFINITY);
		json_object_set_object_member (data, cases[i].name, g_steal_pointer (&nested));
		event_nested = astra_event_new (ASTRA_EVENT_KIND_AGENT_REGISTERED, 0, data, &error_nested);
		ck_assert (event_nested == NULL);
		ck_assert (g_error_matches (error_nested, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA));
		ck_assert_msg (g_str_has_prefix (error_nested->message, cases[i].nested_prefix),
			       "%s",
			       error_nested->message);
	}
}
END_TEST

START_TEST (test_input_not_kept)
{
	g_autoptr(JsonObject) data = fixture_data (ASTRA_EVENT_KIND_AGENT_REGISTERED);
	g_autoptr(AstraEvent) event = assert_new_works (ASTRA_EVENT_KIND_AGENT_REGISTERED, data);
	JsonObject *event_data = astra_event_get_data (event);
	g_autoptr(GBytes) body = g_bytes_ref (astra_event_get_body (event));

	/* the caller's object stays the caller's */
	ck_assert (event_data != data);
	ck_assert (!json_object_is_immutable (data));
	json_object_set_string_member (data, "hostname", "changed");
	ck_assert_str_eq (json_object_get_string_member (event_data, "hostname"), "server-01");
	ck_assert (g_bytes_equal (astra_event_get_body (event), body));
}
END_TEST

START_TEST (test_sealed)
{
	for (guint k = ASTRA_EVENT_KIND_UNKNOWN + 1; k < ASTRA_EVENT_KIND_LAST; k++) {
		g_autoptr(JsonObject) data = fixture_data (k);
		g_autoptr(AstraEvent) created = assert_new_works (k, data);
		g_autoptr(GError) error = NULL;
		g_autoptr(AstraEvent) restored =
		    astra_event_new_from_body ("evt_x", astra_event_get_body (created), &error);

		ck_assert_msg (restored != NULL, "%s", error != NULL ? error->message : "");
		ck_assert (json_object_is_immutable (astra_event_get_data (created)));
		ck_assert (json_object_is_immutable (astra_event_get_data (restored)));
	}
	{
		g_autoptr(JsonObject) data = fixture_data (ASTRA_EVENT_KIND_TRACEROUTE_COMPLETED);
		g_autoptr(AstraEvent) event = assert_new_works (ASTRA_EVENT_KIND_TRACEROUTE_COMPLETED, data);
		JsonArray *hops = json_object_get_array_member (astra_event_get_data (event), "hops");
		ck_assert (json_array_is_immutable (hops));
		ck_assert (json_object_is_immutable (json_array_get_object_element (hops, 1)));
		ck_assert (json_node_is_immutable (json_object_get_member (astra_event_get_data (event), "hops")));
	}
	{
		g_autoptr(JsonObject) data = fixture_data (ASTRA_EVENT_KIND_ALERT_TRIGGERED);
		g_autoptr(AstraEvent) event = assert_new_works (ASTRA_EVENT_KIND_ALERT_TRIGGERED, data);
		ck_assert (json_object_is_immutable (
		    json_object_get_object_member (astra_event_get_data (event), "labels")));
	}
}
END_TEST

START_TEST (test_severity_and_tenant)
{
	static const struct {
		AstraEventKind kind;
		const char *pointer;
		const char *json;
		AstraSeverity severity;
		const char *tenant;
	} cases[] = {
	    {ASTRA_EVENT_KIND_AGENT_STATUS_CHANGED, NULL, NULL, ASTRA_SEVERITY_CRITICAL, "tenant-abc"},
	    /* back online: the recovery carries the problem's severity */
	    {ASTRA_EVENT_KIND_AGENT_STATUS_CHANGED, "current_status", "\"online\"", ASTRA_SEVERITY_CRITICAL, "tenant-abc"},
	    {ASTRA_EVENT_KIND_AGENT_REGISTERED, NULL, NULL, ASTRA_SEVERITY_INFO, "tenant-abc"},
	    {ASTRA_EVENT_KIND_AGENT_REGISTERED, "tenant_id", "\"t2\"", ASTRA_SEVERITY_INFO, "t2"},
	    {ASTRA_EVENT_KIND_SPEEDTEST_COMPLETED, NULL, NULL, ASTRA_SEVERITY_INFO, "tenant-abc"},
	    {ASTRA_EVENT_KIND_TRACEROUTE_COMPLETED, NULL, NULL, ASTRA_SEVERITY_INFO, "tenant-abc"},
	    {ASTRA_EVENT_KIND_SERVICE_TEST_FAILED, NULL, NULL, ASTRA_SEVERITY_ERROR, "tenant-abc"},
	    {ASTRA_EVENT_KIND_ALERT_TRIGGERED, NULL, NULL, ASTRA_SEVERITY_CRITICAL, "tenant-abc"},
	    {ASTRA_EVENT_KIND_ALERT_TRIGGERED, "severity", "\"warning\"", ASTRA_SEVERITY_WARNING, "tenant-abc"},
	    {ASTRA_EVENT_KIND_ALERT_TRIGGERED, "severity", "\"info\"", ASTRA_SEVERITY_INFO, "tenant-abc"},
	    {ASTRA_EVENT_KIND_ALERT_TRIGGERED, "tenant_id", NULL, ASTRA_SEVERITY_CRITICAL, NULL},
	    {ASTRA_EVENT_KIND_ALERT_RESOLVED, NULL, NULL, ASTRA_SEVERITY_CRITICAL, "tenant-abc"},
	    {ASTRA_EVENT_KIND_ALERT_RESOLVED, "severity", "\"error\"", ASTRA_SEVERITY_ERROR, "tenant-abc"},
	    {ASTRA_EVENT_KIND_ALERT_RESOLVED, "tenant_id", NULL, ASTRA_SEVERITY_CRITICAL, NULL},
	};

	for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
		g_autoptr(JsonObject) data = fixture_data (cases[i].kind);
		g_autoptr(AstraEvent) event = NULL;
		g_autoptr(AstraEvent) restored = NULL;
		g_autoptr(GError) error = NULL;

		if (cases[i].pointer != NULL)
			data_set (data, cases[i].pointer, cases[i].json);
		event = assert_new_works (cases[i].kind, data);
		ck_assert_int_eq (astra_event_get_severity (event), cases[i].severity);
		ck_assert_str_eq (astra_event_get_tenant (event) != NULL ? astra_event_get_tenant (event) : "(null)",
				  cases[i].tenant != NULL ? cases[i].tenant : "(null)");

		restored = astra_event_new_from_body ("evt_x", astra_event_get_body (event), &error);
		ck_assert_msg (restored != NULL, "%s", error != NULL ? error->message : "");
		ck_assert_int_eq (astra_event_get_severity (restored), cases[i].severity);
		ck_assert_str_eq (astra_event_get_tenant (restored) != NULL ? astra_event_get_tenant (restored) : "(null)",
				  cases[i].tenant != NULL ? cases[i].tenant : "(null)");
	}
}
END_TEST

/* ids */

static guint64
decode_ulid_ms (const char *id)
{
	static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
	guint64 ms = 0;
	for (guint i = 4; i < 14; i++) {
		const char *pos = strchr (alphabet, id[i]);
		ck_assert (pos != NULL && *pos != '\0');
		ms = (ms << 5) | (guint64) (pos - alphabet);
	}
	return ms;
}

START_TEST (test_ids)
{
	g_autoptr(JsonObject) data = fixture_data (ASTRA_EVENT_KIND_AGENT_REGISTERED);
	g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
	g_autofree char *previous = NULL;
	guint64 before = (guint64) (g_get_real_time () / 1000);
	guint64 after;

	for (guint i = 0; i < 10000; i++) {
		g_autoptr(AstraEvent) event = assert_new_works (ASTRA_EVENT_KIND_AGENT_REGISTERED, data);
		const char *id = astra_event_get_id (event);

		ck_assert_uint_eq (strlen (id), 30);
		ck_assert (g_str_has_prefix (id, "evt_"));
		/* Crockford base32; the first digit carries only 3 bits */
		ck_assert_msg (strspn (id + 4, "0123456789ABCDEFGHJKMNPQRSTVWXYZ") == 26, "bad id %s", id);
		ck_assert (id[4] <= '7');
		ck_assert (strchr (id, '.') == NULL);
		ck_assert_msg (g_hash_table_add (seen, g_strdup (id)), "duplicate id %s", id);
		/* monotonic within the process, also within a millisecond */
		if (previous != NULL)
			ck_assert_msg (strcmp (previous, id) < 0, "%s then %s", previous, id);
		g_free (previous);
		previous = g_strdup (id);
	}
	after = (guint64) (g_get_real_time () / 1000);
	ck_assert_uint_eq (g_hash_table_size (seen), 10000);

	/* the time part is the creation time in milliseconds */
	ck_assert_uint_ge (decode_ulid_ms (previous), before);
	ck_assert_uint_le (decode_ulid_ms (previous), after + 10000);

	/* ... so ids from later milliseconds sort later */
	g_usleep (3000);
	{
		g_autoptr(AstraEvent) event = assert_new_works (ASTRA_EVENT_KIND_AGENT_REGISTERED, data);
		ck_assert (strcmp (previous, astra_event_get_id (event)) < 0);
		ck_assert_uint_gt (decode_ulid_ms (astra_event_get_id (event)), before);
	}
}
END_TEST

/* restoring */

START_TEST (test_from_body_roundtrip)
{
	for (guint k = ASTRA_EVENT_KIND_UNKNOWN + 1; k < ASTRA_EVENT_KIND_LAST; k++) {
		g_autoptr(JsonObject) data = fixture_data (k);
		g_autoptr(AstraEvent) event = assert_new_works (k, data);
		g_autoptr(AstraEvent) restored = NULL;
		g_autoptr(GError) error = NULL;
		g_autoptr(GBytes) copy = NULL;
		gsize len = 0;
		const guint8 *body = g_bytes_get_data (astra_event_get_body (event), &len);

		/* a copy, as if read back from the outbox */
		copy = g_bytes_new (body, len);
		restored = astra_event_new_from_body (astra_event_get_id (event), copy, &error);
		ck_assert_msg (restored != NULL, "%s", error != NULL ? error->message : "");
		ck_assert_str_eq (astra_event_get_id (restored), astra_event_get_id (event));
		ck_assert_int_eq (astra_event_get_kind (restored), astra_event_get_kind (event));
		ck_assert_int_eq (astra_event_get_timestamp (restored), astra_event_get_timestamp (event));
		ck_assert_str_eq (astra_event_get_timestamp_string (restored),
				  astra_event_get_timestamp_string (event));
		ck_assert_int_eq (astra_event_get_severity (restored), astra_event_get_severity (event));
		ck_assert (g_bytes_equal (astra_event_get_body (restored), copy));
		ck_assert (json_object_equal (astra_event_get_data (restored), astra_event_get_data (event)));
	}
}
END_TEST

#define ENVELOPE(event_, timestamp_, data_)                                                        \
	"{\"event\":" event_ ",\"timestamp\":" timestamp_ ",\"data\":" data_ "}"
#define GOOD_DATA                                                                                  \
	"{\"agent_id\":\"a\",\"hostname\":\"h\",\"previous_status\":\"online\",\"current_status\":" \
	"\"offline\",\"tenant_id\":\"t\"}"
#define GOOD_TYPE "\"agent.status_changed\""
#define GOOD_TS	  "\"2025-12-17T10:30:00Z\""
#define BAD_ORDER "event body must have exactly the keys event, timestamp and data, in this order"
#define BAD_TS	  "timestamp: must be an RFC 3339 UTC time in seconds like 2025-12-17T10:30:00Z"

START_TEST (test_from_body_rejects)
{
	static const struct {
		const char *body;
		const char *message; /* NULL: any %ASTRA_ERROR_INVALID_DATA */
	} cases[] = {
	    {ENVELOPE (GOOD_TYPE, GOOD_TS, GOOD_DATA), NULL}, /* the control: accepted */
	    {"{\"event\": " GOOD_TYPE ",\"timestamp\":" GOOD_TS ",\"data\":" GOOD_DATA "}", "body is not canonical"},
	    {ENVELOPE (GOOD_TYPE, GOOD_TS, GOOD_DATA) "\n", "body is not canonical"},
	    {" " ENVELOPE (GOOD_TYPE, GOOD_TS, GOOD_DATA), "body is not canonical"},
	    {ENVELOPE (GOOD_TYPE, GOOD_TS, "{\"agent_id\":\"\\u0061\",\"hostname\":\"h\",\"previous_status\":"
					   "\"online\",\"current_status\":\"offline\",\"tenant_id\":\"t\"}"),
	     "body is not canonical"},
	    {ENVELOPE (GOOD_TYPE, GOOD_TS, "{\"agent_id\":\"a\",\"hostname\":\"h\",\"previous_status\":"
					   "\"online\",\"current_status\":\"offline\",\"tenant_id\":\"t\",\"n\":1.0}"),
	     "body is not canonical"},
	    {ENVELOPE (GOOD_TYPE, GOOD_TS, "{\"agent_id\":\"a\",\"hostname\":\"h\",\"previous_status\":"
					   "\"online\",\"current_status\":\"offline\",\"tenant_id\":\"t\",\"x\":1,\"x\":2}"),
	     "body is not canonical"},
	    {"{\"timestamp\":" GOOD_TS ",\"event\":" GOOD_TYPE ",\"data\":" GOOD_DATA "}", BAD_ORDER},
	    {"{\"event\":" GOOD_TYPE ",\"data\":" GOOD_DATA ",\"timestamp\":" GOOD_TS "}", BAD_ORDER},
	    {"{\"event\":" GOOD_TYPE ",\"timestamp\":" GOOD_TS "}", BAD_ORDER},
	    {"{\"event\":" GOOD_TYPE ",\"timestamp\":" GOOD_TS ",\"data\":" GOOD_DATA ",\"id\":\"x\"}", BAD_ORDER},
	    {"{\"event\":" GOOD_TYPE ",\"timestamp\":" GOOD_TS ",\"data\":" GOOD_DATA ",\"event\":" GOOD_TYPE "}",
	     "body is not canonical"},
	    {"{}", BAD_ORDER},
	    {ENVELOPE ("\"agent.deleted\"", GOOD_TS, GOOD_DATA), "unknown event type \"agent.deleted\""},
	    {ENVELOPE ("\"\"", GOOD_TS, GOOD_DATA), "unknown event type \"\""},
	    {ENVELOPE ("5", GOOD_TS, GOOD_DATA), "unknown event type (not a string)"},
	    {ENVELOPE (GOOD_TYPE, "\"2025-12-17T10:30:00.000Z\"", GOOD_DATA), BAD_TS},
	    {ENVELOPE (GOOD_TYPE, "\"2025-12-17T10:30:00+00:00\"", GOOD_DATA), BAD_TS},
	    {ENVELOPE (GOOD_TYPE, "\"2025-12-17t10:30:00z\"", GOOD_DATA), BAD_TS},
	    {ENVELOPE (GOOD_TYPE, "\"2025-02-29T10:30:00Z\"", GOOD_DATA), BAD_TS},
	    {ENVELOPE (GOOD_TYPE, "\"2025-12-17T24:00:00Z\"", GOOD_DATA), BAD_TS},
	    {ENVELOPE (GOOD_TYPE, "\"2025-12-17T23:59:60Z\"", GOOD_DATA), BAD_TS},
	    {ENVELOPE (GOOD_TYPE, "\"1969-12-31T23:59:59Z\"", GOOD_DATA), BAD_TS},
	    {ENVELOPE (GOOD_TYPE, "1765967400", GOOD_DATA), BAD_TS},
	    {ENVELOPE (GOOD_TYPE, "\"\"", GOOD_DATA), BAD_TS},
	    {ENVELOPE (GOOD_TYPE, GOOD_TS, "[]"), "data: expected object"},
	    {ENVELOPE (GOOD_TYPE, GOOD_TS, "null"), "data: expected object"},
	    {ENVELOPE (GOOD_TYPE, GOOD_TS, "{\"agent_id\":\"a\"}"), "data.hostname: missing required field"},
	    {ENVELOPE ("\"agent.registered\"", GOOD_TS, "{\"agent_id\":\"a\",\"hostname\":\"h\",\"tenant_id\":1}"),
	     "data.tenant_id: expected string, got number"},
	    {"[]", "event body is not a JSON object"},
	    {"\"x\"", "event body is not a JSON object"},
	    {"", NULL},
	    {"{\"event\":", NULL},
	    {"{\"event\":\"agent.registered\"}}", NULL},
	};

	for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
		g_autoptr(GBytes) body = bytes_from_string (cases[i].body);
		g_autoptr(GError) error = NULL;
		g_autoptr(AstraEvent) event = astra_event_new_from_body ("evt_1", body, &error);

		if (i == 0) {
			ck_assert_msg (event != NULL, "%s", error != NULL ? error->message : "");
			continue;
		}
		ck_assert_msg (event == NULL, "accepted %s", cases[i].body);
		if (cases[i].message != NULL) {
			assert_error (error, cases[i].message);
		} else {
			ck_assert_msg (g_error_matches (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA),
				       "%s",
				       error->message);
		}
	}
}
END_TEST

START_TEST (test_from_body_ids)
{
	g_autoptr(GBytes) body = bytes_from_string (DOCS_EXAMPLE);
	g_autofree char *longest = g_strnfill (128, 'a');
	g_autofree char *too_long = g_strnfill (129, 'a');
	static const char *good[] = {"a", "evt_01JFA3G2M8Q4X7ZKD5N0C6B1YR", "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", "A-b_9"};
	const char *bad[] = {"", "evt.1", "evt 1", "evt/1", "évt", "evt\n", too_long};

	for (guint i = 0; i < G_N_ELEMENTS (good); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(AstraEvent) event = astra_event_new_from_body (good[i], body, &error);
		ck_assert_msg (event != NULL, "%s: %s", good[i], error != NULL ? error->message : "");
		ck_assert_str_eq (astra_event_get_id (event), good[i]);
	}
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(AstraEvent) event = astra_event_new_from_body (longest, body, &error);
		ck_assert_msg (event != NULL, "%s", error != NULL ? error->message : "");
	}
	for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(AstraEvent) event = astra_event_new_from_body (bad[i], body, &error);
		ck_assert_msg (event == NULL, "accepted id %s", bad[i]);
		ck_assert (g_error_matches (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA));
		ck_assert (strstr (error->message, "event id") != NULL);
	}
}
END_TEST

/* timestamps */

START_TEST (test_timestamps)
{
	static const struct {
		gint64 timestamp;
		const char *str;
	} cases[] = {
	    {0, "1970-01-01T00:00:00Z"},
	    {59, "1970-01-01T00:00:59Z"},
	    {951782400, "2000-02-29T00:00:00Z"},
	    {951868799, "2000-02-29T23:59:59Z"},
	    {1709164800, "2024-02-29T00:00:00Z"},
	    {1735689599, "2024-12-31T23:59:59Z"},
	    {1765967400, "2025-12-17T10:30:00Z"},
	    {4102444800, "2100-01-01T00:00:00Z"},
	    {4107456000, "2100-02-28T00:00:00Z"},
	    {4107542400, "2100-03-01T00:00:00Z"},
	    {253402300799, "9999-12-31T23:59:59Z"},
	};
	g_autoptr(JsonObject) data = fixture_data (ASTRA_EVENT_KIND_AGENT_REGISTERED);

	for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(AstraEvent) event = astra_event_new (ASTRA_EVENT_KIND_AGENT_REGISTERED,
							       cases[i].timestamp,
							       data,
							       &error);
		g_autoptr(AstraEvent) restored = NULL;

		ck_assert_msg (event != NULL, "%s", error != NULL ? error->message : "");
		ck_assert_str_eq (astra_event_get_timestamp_string (event), cases[i].str);
		ck_assert_int_eq (astra_event_get_timestamp (event), cases[i].timestamp);
		restored = astra_event_new_from_body ("evt_t", astra_event_get_body (event), &error);
		ck_assert_msg (restored != NULL, "%s", error != NULL ? error->message : "");
		ck_assert_int_eq (astra_event_get_timestamp (restored), cases[i].timestamp);
	}

	/* against GLib's calendar, over the whole range */
	for (gint64 ts = 0; ts <= G_GINT64_CONSTANT (253402300799); ts += G_GINT64_CONSTANT (86399 * 997 + 7)) {
		g_autoptr(GError) error = NULL;
		g_autoptr(AstraEvent) event = astra_event_new (ASTRA_EVENT_KIND_AGENT_REGISTERED, ts, data, &error);
		g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (ts);
		g_autofree char *expected = g_date_time_format (dt, "%Y-%m-%dT%H:%M:%SZ");
		g_autoptr(AstraEvent) restored = NULL;

		ck_assert_msg (event != NULL, "%s", error != NULL ? error->message : "");
		ck_assert_str_eq (astra_event_get_timestamp_string (event), expected);
		restored = astra_event_new_from_body ("evt_t", astra_event_get_body (event), &error);
		ck_assert_msg (restored != NULL, "%s: %s", expected, error != NULL ? error->message : "");
		ck_assert_int_eq (astra_event_get_timestamp (restored), ts);
	}

	{
		g_autoptr(GError) error = NULL;
		g_autoptr(AstraEvent) event = astra_event_new (ASTRA_EVENT_KIND_AGENT_REGISTERED, -1, data, &error);
		ck_assert (event == NULL);
		assert_error (error, "timestamp -1 is out of range");
	}
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(AstraEvent) event =
		    astra_event_new (ASTRA_EVENT_KIND_AGENT_REGISTERED, 253402300800, data, &error);
		ck_assert (event == NULL);
		assert_error (error, "timestamp 253402300800 is out of range");
	}
}
END_TEST

/* names */

START_TEST (test_kind_strings)
{
	/* astra_check_event_types lists the kinds after UNKNOWN, in the enum's order */
	G_STATIC_ASSERT (ASTRA_CHECK_N_EVENT_TYPES + 1 == ASTRA_EVENT_KIND_LAST);

	for (guint k = ASTRA_EVENT_KIND_UNKNOWN + 1; k < ASTRA_EVENT_KIND_LAST; k++) {
		const char *name = astra_check_event_types[k - 1];

		ck_assert_str_eq (astra_event_kind_to_string (k), name);
		ck_assert_int_eq (astra_event_kind_from_string (name), k);
	}
	ck_assert_ptr_null (astra_event_kind_to_string (ASTRA_EVENT_KIND_UNKNOWN));
	ck_assert_ptr_null (astra_event_kind_to_string (ASTRA_EVENT_KIND_LAST));
	ck_assert_ptr_null (astra_event_kind_to_string ((AstraEventKind) -1));
	ck_assert_int_eq (astra_event_kind_from_string (NULL), ASTRA_EVENT_KIND_UNKNOWN);
	ck_assert_int_eq (astra_event_kind_from_string (""), ASTRA_EVENT_KIND_UNKNOWN);
	ck_assert_int_eq (astra_event_kind_from_string ("alert.*"), ASTRA_EVENT_KIND_UNKNOWN);
	ck_assert_int_eq (astra_event_kind_from_string ("Alert.Triggered"), ASTRA_EVENT_KIND_UNKNOWN);
}
END_TEST

START_TEST (test_severity_strings)
{
	static const char *names[] = {"info", "warning", "error", "critical"};
	AstraSeverity severity = ASTRA_SEVERITY_ERROR;

	for (guint i = 0; i < G_N_ELEMENTS (names); i++) {
		AstraSeverity parsed = ASTRA_SEVERITY_INFO;
		ck_assert_str_eq (astra_severity_to_string ((AstraSeverity) i), names[i]);
		ck_assert (astra_severity_from_string (names[i], &parsed));
		ck_assert_int_eq (parsed, i);
	}
	ck_assert (ASTRA_SEVERITY_INFO < ASTRA_SEVERITY_WARNING);
	ck_assert (ASTRA_SEVERITY_ERROR < ASTRA_SEVERITY_CRITICAL);
	ck_assert_ptr_null (astra_severity_to_string ((AstraSeverity) 4));
	ck_assert (!astra_severity_from_string ("fatal", &severity));
	ck_assert (!astra_severity_from_string ("Critical", &severity));
	ck_assert (!astra_severity_from_string ("", &severity));
	ck_assert (!astra_severity_from_string (NULL, &severity));
	ck_assert_int_eq (severity, ASTRA_SEVERITY_ERROR);
	ck_assert (astra_severity_from_string ("warning", NULL));
}
END_TEST

START_TEST (test_unknown_kind)
{
	g_autoptr(JsonObject) data = fixture_data (ASTRA_EVENT_KIND_AGENT_REGISTERED);
	g_autoptr(GError) error = NULL;
	g_autoptr(GError) error_last = NULL;
	g_autoptr(AstraEvent) event = astra_event_new (ASTRA_EVENT_KIND_UNKNOWN, 0, data, &error);
	g_autoptr(AstraEvent) event_last = astra_event_new (ASTRA_EVENT_KIND_LAST, 0, data, &error_last);

	ck_assert (event == NULL);
	assert_error (error, "unknown event kind 0");
	ck_assert (event_last == NULL);
	ck_assert (g_error_matches (error_last, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA));
}
END_TEST

/* the schema compiler (private) */

static AstraEventSchema *
compile (const char *json, GError **error)
{
	g_autoptr(GBytes) bytes = bytes_from_string (json);
	return astra_event_schema_new_from_bytes (bytes, error);
}

static void
assert_compile_fails (const char *json, const char *message)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(AstraEventSchema) schema = compile (json, &error);
	ck_assert_msg (schema == NULL, "compiled %s", json);
	assert_error (error, message);
}

static void
assert_validates (AstraEventSchema *schema, const char *json, const char *message)
{
	g_autoptr(JsonNode) node = parse_json (json);
	g_autoptr(GError) error = NULL;
	gboolean ret = astra_event_schema_validate (schema, node, "x", &error);

	if (message == NULL) {
		ck_assert_msg (ret, "%s: %s", json, error != NULL ? error->message : "");
		return;
	}
	ck_assert_msg (!ret, "accepted %s", json);
	assert_error (error, message);
}

START_TEST (test_schema_builtin)
{
	for (guint k = ASTRA_EVENT_KIND_UNKNOWN + 1; k < ASTRA_EVENT_KIND_LAST; k++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(JsonObject) schema = schema_of (k);
		g_autofree char *id = g_strdup_printf ("https://astranetmon.org/schemas/astra-alerts/%s.json",
						       astra_event_kind_to_string (k));

		ck_assert_msg (astra_event_schema_get (k, &error) != NULL,
			       "%s",
			       error != NULL ? error->message : "");
		/* the cache hands out the same compiled schema */
		ck_assert (astra_event_schema_get (k, NULL) == astra_event_schema_get (k, NULL));
		ck_assert_str_eq (json_object_get_string_member (schema, "$id"), id);
		ck_assert_str_eq (json_object_get_string_member (schema, "$schema"),
				  "https://json-schema.org/draft/2020-12/schema");
		ck_assert (json_object_get_boolean_member (schema, "additionalProperties"));
	}
}
END_TEST

START_TEST (test_schema_unknown_keywords)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(AstraEventSchema) annotated = NULL;

	assert_compile_fails ("{\"type\":\"object\",\"minItems\":1}", "unknown keyword \"minItems\"");
	assert_compile_fails ("{\"properties\":{\"a\":{\"items\":{\"pattern\":\"x\"}}}}",
			      "properties.a.items: unknown keyword \"pattern\"");
	assert_compile_fails ("{\"additionalProperties\":{\"maximum\":3}}",
			      "additionalProperties: unknown keyword \"maximum\"");
	assert_compile_fails ("{\"$ref\":\"#/$defs/x\"}", "unknown keyword \"$ref\"");
	assert_compile_fails ("{\"format\":\"email\"}", "unsupported format \"email\"");
	assert_compile_fails ("{\"type\":\"float\"}", "unknown type \"float\"");
	assert_compile_fails ("{\"type\":[]}", "\"type\" is an empty array");
	assert_compile_fails ("{\"type\":[\"string\",\"string\"]}", "type \"string\" is listed twice");
	assert_compile_fails ("{\"$schema\":\"http://json-schema.org/draft-07/schema#\"}",
			      "\"$schema\" must be \"https://json-schema.org/draft/2020-12/schema\"");
	assert_compile_fails ("{\"items\":[{}]}", "items: a schema must be an object or a boolean");
	assert_compile_fails ("{\"enum\":[]}", "\"enum\" must be a non-empty array");
	assert_compile_fails ("{\"enum\":[{}]}", "\"enum\" values must be strings, numbers, booleans or null");
	assert_compile_fails ("{\"const\":[1]}", "\"const\" must be a string, number, boolean or null");
	assert_compile_fails ("{\"minLength\":-1}", "\"minLength\" must be a non-negative integer");
	assert_compile_fails ("{\"maxLength\":1.5}", "\"maxLength\" must be a non-negative integer");
	assert_compile_fails ("{\"minLength\":3,\"maxLength\":2}", "\"minLength\" is greater than \"maxLength\"");
	assert_compile_fails ("{\"minimum\":\"0\"}", "\"minimum\" must be a number");
	assert_compile_fails ("{\"required\":[\"a\",\"a\"]}", "\"a\" is required twice");
	assert_compile_fails ("{\"required\":\"a\"}", "\"required\" must be an array of strings");
	assert_compile_fails ("{\"title\":1}", "\"title\" must be a string");
	assert_compile_fails ("[]", "a schema must be an object or a boolean");

	/* annotations are fine */
	annotated = compile ("{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\",\"$id\":\"x\","
			     "\"title\":\"t\",\"description\":\"d\",\"$comment\":\"c\",\"examples\":[1,{}]}",
			     &error);
	ck_assert_msg (annotated != NULL, "%s", error != NULL ? error->message : "");
	assert_validates (annotated, "{\"anything\":[1,2]}", NULL);
}
END_TEST

START_TEST (test_schema_semantics)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(AstraEventSchema) closed = NULL;
	g_autoptr(AstraEventSchema) consts = NULL;
	g_autoptr(AstraEventSchema) mixed = NULL;
	g_autoptr(AstraEventSchema) never = NULL;

	closed = compile ("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"}},"
			  "\"additionalProperties\":false}",
			  &error);
	ck_assert_msg (closed != NULL, "%s", error != NULL ? error->message : "");
	assert_validates (closed, "{\"a\":1}", NULL);
	assert_validates (closed, "{\"a\":1,\"b\":2}", "x.b: unexpected field");
	assert_validates (closed, "{\"a\":1e2}", NULL);
	assert_validates (closed, "{\"a\":-0}", NULL);
	assert_validates (closed, "{\"a\":1.000001}", "x.a: expected integer, got non-integral number");
	assert_validates (closed, "[]", "x: expected object, got array");

	consts = compile ("{\"properties\":{\"n\":{\"const\":1},\"e\":{\"enum\":[1.5,\"a\",null,true]}}}", &error);
	ck_assert_msg (consts != NULL, "%s", error != NULL ? error->message : "");
	assert_validates (consts, "{\"n\":1.0,\"e\":1.5}", NULL);
	assert_validates (consts, "{\"e\":null}", NULL);
	assert_validates (consts, "{\"e\":true}", NULL);
	assert_validates (consts, "{\"e\":\"a\"}", NULL);
	assert_validates (consts, "{\"n\":\"1\"}", "x.n: must be 1");
	assert_validates (consts, "{\"e\":false}", "x.e: must be one of 1.5, a, null, true");
	assert_validates (consts, "{\"e\":\"b\"}", "x.e: must be one of 1.5, a, null, true");

	/* type-specific keywords leave other types alone */
	mixed = compile ("{\"items\":{\"type\":[\"number\",\"string\",\"null\"],\"minimum\":0,\"maxLength\":2}}", &error);
	ck_assert_msg (mixed != NULL, "%s", error != NULL ? error->message : "");
	assert_validates (mixed, "[0,\"abc\"]", "x[1]: must be at most 2 characters long, got 3");
	assert_validates (mixed, "[\"-1\",null,5]", NULL);
	assert_validates (mixed, "[-1]", "x[0]: must be >= 0, got -1");
	assert_validates (mixed, "[true]", "x[0]: expected number, string or null, got boolean");
	assert_validates (mixed, "{}", NULL);

	never = compile ("false", &error);
	ck_assert_msg (never != NULL, "%s", error != NULL ? error->message : "");
	assert_validates (never, "{}", "x: not allowed here");
}
END_TEST

static Suite *
event_suite (void)
{
	Suite *s = suite_create ("event");
	TCase *tc;

	tc = tcase_create ("contract");
	tcase_add_test (tc, test_fixtures);
	tcase_add_test (tc, test_fixtures_dir);
	tcase_add_test (tc, test_docs_example);
	tcase_add_test (tc, test_required);
	tcase_add_test (tc, test_required_nested);
	tcase_add_test (tc, test_optional);
	tcase_add_test (tc, test_invalid_values);
	tcase_add_test (tc, test_date_times);
	tcase_add_test (tc, test_lengths);
	tcase_add_test (tc, test_numbers);
	suite_add_tcase (s, tc);

	tc = tcase_create ("event");
	tcase_add_test (tc, test_extra_fields_and_order);
	tcase_add_test (tc, test_canonical_from_new);
	tcase_add_test (tc, test_unwritable_extra_fields);
	tcase_add_test (tc, test_input_not_kept);
	tcase_add_test (tc, test_sealed);
	tcase_add_test (tc, test_severity_and_tenant);
	tcase_add_test (tc, test_ids);
	tcase_add_test (tc, test_timestamps);
	tcase_add_test (tc, test_kind_strings);
	tcase_add_test (tc, test_severity_strings);
	tcase_add_test (tc, test_unknown_kind);
	suite_add_tcase (s, tc);

	tc = tcase_create ("from-body");
	tcase_add_test (tc, test_from_body_roundtrip);
	tcase_add_test (tc, test_from_body_rejects);
	tcase_add_test (tc, test_from_body_ids);
	suite_add_tcase (s, tc);

	tc = tcase_create ("schema");
	tcase_add_test (tc, test_schema_builtin);
	tcase_add_test (tc, test_schema_unknown_keywords);
	tcase_add_test (tc, test_schema_semantics);
	suite_add_tcase (s, tc);

	return s;
}

int
main (void)
{
	return astra_check_run_suite (event_suite ());
}
