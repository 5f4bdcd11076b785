/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * POST /v1/reports bodies: astra_ingest_parse_reports() and
 * astra_ingest_build_reply(). The valid example of each event type comes from
 * data/events/ and the required fields and types from data/schemas/, both
 * read through ASTRA_SOURCE_DIR, so a new field or type is covered without
 * editing this file.
 *
 * Tests marked "Regression (was a bug)" pin bugs found while writing them;
 * each says what was wrong and how it was fixed.
 */

#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "astra-check-common.h"
#include "astra-ingest.h"

/* the "now" reports without a timestamp get: 2025-12-17T19:33:20Z */
#define NOW G_GINT64_CONSTANT (1766000000)

/* the AstraNetmon documentation's example event */
static const char docs_example[] =
    "{\"event\":\"agent.status_changed\",\"timestamp\":\"2025-12-17T10:30:00Z\",\"data\":{"
    "\"agent_id\":\"agent-123\",\"hostname\":\"server-01\",\"previous_status\":\"online\","
    "\"current_status\":\"offline\",\"tenant_id\":\"tenant-abc\"}}";

static JsonNode *
parse_json (const char *text, gsize len)
{
	g_autoptr(GError) error = NULL;
	JsonNode *node = astra_json_parse (text, len, &error);

	ck_assert_msg (node != NULL, "not JSON (%s): %s", error != NULL ? error->message : "?", text);
	return node;
}

static char *
serialize (JsonNode *node)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) bytes = astra_json_serialize (node, &error);

	ck_assert_msg (bytes != NULL, "%s", error != NULL ? error->message : "?");
	return g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
}

static GPtrArray *
parse_len (const char *body, gsize len)
{
	g_autoptr(GError) error = NULL;
	GPtrArray *results = astra_ingest_parse_reports (body, len, NOW, &error);

	ck_assert_msg (results != NULL, "whole body refused: %s", error != NULL ? error->message : "?");
	return results;
}

static GPtrArray *
parse (const char *body)
{
	return parse_len (body, strlen (body));
}

/* the body must be refused as a whole with CODE */
static void
assert_body_error_len (const char *body, gsize len, AstraError code)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) results = astra_ingest_parse_reports (body, len, NOW, &error);

	ck_assert_msg (results == NULL, "accepted as %u reports", results != NULL ? results->len : 0);
	ck_assert_ptr_nonnull (error);
	ck_assert_msg (g_error_matches (error, ASTRA_ERROR, code), "expected code %d, got %s %d: %s",
		       (int) code, g_quark_to_string (error->domain), error->code, error->message);
	ck_assert (g_utf8_validate (error->message, -1, NULL));
}

static void
assert_body_error (const char *body, AstraError code)
{
	assert_body_error_len (body, strlen (body), code);
}

static AstraReportResult *
result_at (GPtrArray *results, guint i)
{
	ck_assert_uint_gt (results->len, i);
	return g_ptr_array_index (results, i);
}

static void
assert_accepted (AstraReportResult *result)
{
	ck_assert_msg (result->event != NULL, "report %u rejected: %s: %s", result->index,
		       result->field != NULL ? result->field : "(no field)",
		       result->error != NULL ? result->error : "?");
	ck_assert_ptr_null (result->field);
	ck_assert_ptr_null (result->error);
}

/* FIELD may be NULL for "no field"; ERROR_PART is a substring of the error */
static void
assert_rejected (AstraReportResult *result, const char *field, const char *error_part)
{
	ck_assert_msg (result->event == NULL, "report %u accepted", result->index);
	ck_assert_ptr_nonnull (result->error);
	if (field == NULL)
		ck_assert_msg (result->field == NULL, "unexpected field %s (%s)", result->field, result->error);
	else
		ck_assert_msg (g_strcmp0 (result->field, field) == 0, "field: expected %s, got %s (%s)",
			       field, result->field != NULL ? result->field : "(null)", result->error);
	if (error_part != NULL)
		astra_assert_contains (result->error, error_part);
}

/* the one report of BODY, which must be rejected */
static void
assert_one_rejected (const char *body, const char *field, const char *error_part)
{
	g_autoptr(GPtrArray) results = parse (body);

	ck_assert_uint_eq (results->len, 1);
	assert_rejected (result_at (results, 0), field, error_part);
}

/* the reply for RESULTS, checked to be JSON, and its status */
static JsonNode *
reply (GPtrArray *results, guint *status)
{
	g_autoptr(GBytes) bytes = astra_ingest_build_reply (results, status);
	gsize len = 0;
	const char *data = g_bytes_get_data (bytes, &len);
	JsonNode *root = parse_json (data, len);

	ck_assert (JSON_NODE_HOLDS_OBJECT (root));
	return root;
}

static JsonObject *
reply_result (JsonNode *root, guint i)
{
	JsonArray *results = json_object_get_array_member (json_node_get_object (root), "results");

	ck_assert_ptr_nonnull (results);
	ck_assert_uint_gt (json_array_get_length (results), i);
	return json_array_get_object_element (results, i);
}

/* a fixture with one change made to its parsed form by FUNC, as a report body */
typedef void (*EditFunc) (JsonObject *data, gpointer user_data);

static char *
edited_fixture (const char *type_name, EditFunc func, gpointer user_data)
{
	g_autofree char *text = astra_check_fixture_text (type_name);
	g_autoptr(JsonNode) root = parse_json (text, strlen (text));

	func (json_object_get_object_member (json_node_get_object (root), "data"), user_data);
	return serialize (root);
}

/* single reports */

START_TEST (test_docs_example)
{
	g_autoptr(GPtrArray) results = parse (docs_example);
	g_autoptr(JsonNode) root = NULL;
	AstraReportResult *result;
	AstraEvent *event;
	GBytes *body;
	JsonObject *object;
	guint status = 0;

	ck_assert_uint_eq (results->len, 1);
	result = result_at (results, 0);
	assert_accepted (result);
	ck_assert_uint_eq (result->index, 0);
	event = result->event;
	ck_assert_int_eq (astra_event_get_kind (event), ASTRA_EVENT_KIND_AGENT_STATUS_CHANGED);
	/* the report's own time, not the time it arrived */
	ck_assert_str_eq (astra_event_get_timestamp_string (event), "2025-12-17T10:30:00Z");
	ck_assert_int_eq (astra_event_get_timestamp (event), 1765967400);
	ck_assert_str_eq (astra_event_get_tenant (event), "tenant-abc");
	ck_assert_int_eq (astra_event_get_severity (event), ASTRA_SEVERITY_CRITICAL);
	/* the example is canonical already, so receivers get exactly these bytes */
	body = astra_event_get_body (event);
	ck_assert_uint_eq (g_bytes_get_size (body), strlen (docs_example));
	ck_assert (memcmp (g_bytes_get_data (body, NULL), docs_example, strlen (docs_example)) == 0);

	root = reply (results, &status);
	ck_assert_uint_eq (status, 202);
	object = json_node_get_object (root);
	ck_assert (!json_object_has_member (object, "error"));
	ck_assert_int_eq (json_object_get_int_member (object, "accepted"), 1);
	ck_assert_int_eq (json_object_get_int_member (object, "rejected"), 0);
	object = reply_result (root, 0);
	ck_assert_int_eq (json_object_get_int_member (object, "index"), 0);
	ck_assert_str_eq (json_object_get_string_member (object, "status"), "accepted");
	ck_assert_str_eq (json_object_get_string_member (object, "event"), "agent.status_changed");
	ck_assert_str_eq (json_object_get_string_member (object, "id"), astra_event_get_id (event));
	ck_assert (g_str_has_prefix (astra_event_get_id (event), "evt_"));
	ck_assert (!json_object_has_member (object, "field"));
	ck_assert (!json_object_has_member (object, "error"));
}
END_TEST

START_TEST (test_without_timestamp)
{
	g_autoptr(GPtrArray) results = parse ("{\"event\":\"agent.registered\",\"data\":{\"agent_id\":\"a\","
					      "\"hostname\":\"h\",\"tenant_id\":\"t\"}}");

	ck_assert_uint_eq (results->len, 1);
	assert_accepted (result_at (results, 0));
	/* it happened when it arrived */
	ck_assert_int_eq (astra_event_get_timestamp (result_at (results, 0)->event), NOW);
	ck_assert_str_eq (astra_event_get_timestamp_string (result_at (results, 0)->event),
			  "2025-12-17T19:33:20Z");
}
END_TEST

/* each type's example is accepted as it is, byte for byte */
START_TEST (test_fixture_accepted)
{
	g_autofree char *text = astra_check_fixture_text (astra_check_event_types[_i]);
	g_autoptr(GPtrArray) results = parse (text);
	g_autoptr(JsonNode) root = parse_json (text, strlen (text));
	AstraEvent *event;
	GBytes *body;

	ck_assert_uint_eq (results->len, 1);
	assert_accepted (result_at (results, 0));
	event = result_at (results, 0)->event;
	ck_assert_str_eq (astra_event_get_type_name (event), astra_check_event_types[_i]);
	ck_assert_str_eq (astra_event_get_timestamp_string (event),
			  json_object_get_string_member (json_node_get_object (root), "timestamp"));
	body = astra_event_get_body (event);
	ck_assert_uint_eq (g_bytes_get_size (body), strlen (text));
	ck_assert (memcmp (g_bytes_get_data (body, NULL), text, strlen (text)) == 0);
}
END_TEST

/* batches */

static char *
all_fixtures_joined (void)
{
	g_autoptr(GString) str = g_string_new (NULL);

	for (guint i = 0; i < ASTRA_CHECK_N_EVENT_TYPES; i++) {
		g_autofree char *text = astra_check_fixture_text (astra_check_event_types[i]);
		g_string_append_printf (str, "%s%s", i > 0 ? ",\n  " : "", text);
	}
	return g_string_free (g_steal_pointer (&str), FALSE);
}

static void
assert_all_fixtures (GPtrArray *results)
{
	g_autoptr(JsonNode) root = NULL;
	JsonObject *object;
	guint status = 0;

	ck_assert_uint_eq (results->len, ASTRA_CHECK_N_EVENT_TYPES);
	for (guint i = 0; i < results->len; i++) {
		AstraReportResult *result = result_at (results, i);
		assert_accepted (result);
		ck_assert_uint_eq (result->index, i);
		ck_assert_str_eq (astra_event_get_type_name (result->event),
				  astra_check_event_types[i]);
	}
	root = reply (results, &status);
	ck_assert_uint_eq (status, 202);
	object = json_node_get_object (root);
	ck_assert (!json_object_has_member (object, "error"));
	ck_assert_int_eq (json_object_get_int_member (object, "accepted"),
			  ASTRA_CHECK_N_EVENT_TYPES);
	ck_assert_int_eq (json_object_get_int_member (object, "rejected"), 0);
	for (guint i = 0; i < results->len; i++) {
		object = reply_result (root, i);
		ck_assert_int_eq (json_object_get_int_member (object, "index"), i);
		ck_assert_str_eq (json_object_get_string_member (object, "event"),
				  astra_check_event_types[i]);
		ck_assert_str_eq (json_object_get_string_member (object, "id"),
				  astra_event_get_id (result_at (results, i)->event));
	}
	/* every event has its own id */
	for (guint i = 0; i < results->len; i++) {
		for (guint j = i + 1; j < results->len; j++)
			ck_assert_str_ne (astra_event_get_id (result_at (results, i)->event),
					  astra_event_get_id (result_at (results, j)->event));
	}
}

START_TEST (test_batch_array)
{
	g_autofree char *joined = all_fixtures_joined ();
	g_autofree char *body = g_strdup_printf ("[\n  %s\n]\n", joined);
	g_autoptr(GPtrArray) results = parse (body);

	assert_all_fixtures (results);
}
END_TEST

START_TEST (test_batch_reports)
{
	g_autofree char *joined = all_fixtures_joined ();
	g_autofree char *body = g_strdup_printf ("{\"reports\": [%s]}", joined);
	g_autoptr(GPtrArray) results = parse (body);

	assert_all_fixtures (results);
}
END_TEST

START_TEST (test_batch_mixed)
{
	g_autofree char *body = g_strdup_printf ("[%s,"
						 "{\"event\":\"agent.registered\",\"data\":{}},"
						 "\"not a report\","
						 "%s,"
						 "{\"event\":\"agent.exploded\",\"data\":{}}]",
						 docs_example, docs_example);
	g_autoptr(GPtrArray) results = parse (body);
	g_autoptr(JsonNode) root = NULL;
	JsonObject *object;
	guint status = 0;

	ck_assert_uint_eq (results->len, 5);
	assert_accepted (result_at (results, 0));
	assert_rejected (result_at (results, 1), "data.agent_id", "missing required field");
	assert_rejected (result_at (results, 2), NULL, "JSON object");
	assert_accepted (result_at (results, 3));
	assert_rejected (result_at (results, 4), "event", "unknown event type");
	for (guint i = 0; i < results->len; i++)
		ck_assert_uint_eq (result_at (results, i)->index, i);

	root = reply (results, &status);
	ck_assert_uint_eq (status, 400);
	object = json_node_get_object (root);
	ck_assert_int_eq (json_object_get_int_member (object, "accepted"), 2);
	ck_assert_int_eq (json_object_get_int_member (object, "rejected"), 3);
	astra_assert_contains (json_object_get_string_member (object, "error"), "3 of 5");
	astra_assert_contains (json_object_get_string_member (object, "error"), "accepted");

	/* the accepted ones with their ids */
	object = reply_result (root, 0);
	ck_assert_int_eq (json_object_get_int_member (object, "index"), 0);
	ck_assert_str_eq (json_object_get_string_member (object, "status"), "accepted");
	ck_assert_str_eq (json_object_get_string_member (object, "id"),
			  astra_event_get_id (result_at (results, 0)->event));
	object = reply_result (root, 3);
	ck_assert_int_eq (json_object_get_int_member (object, "index"), 3);
	ck_assert_str_eq (json_object_get_string_member (object, "id"),
			  astra_event_get_id (result_at (results, 3)->event));

	/* the rejected ones with index, field and error, and no id */
	object = reply_result (root, 1);
	ck_assert_int_eq (json_object_get_int_member (object, "index"), 1);
	ck_assert_str_eq (json_object_get_string_member (object, "status"), "rejected");
	ck_assert_str_eq (json_object_get_string_member (object, "field"), "data.agent_id");
	ck_assert_str_eq (json_object_get_string_member (object, "error"), "missing required field");
	ck_assert (!json_object_has_member (object, "id"));
	object = reply_result (root, 2);
	ck_assert_int_eq (json_object_get_int_member (object, "index"), 2);
	ck_assert (!json_object_has_member (object, "field"));
	ck_assert (json_object_has_member (object, "error"));
	object = reply_result (root, 4);
	ck_assert_str_eq (json_object_get_string_member (object, "field"), "event");
}
END_TEST

START_TEST (test_batch_all_rejected)
{
	g_autoptr(GPtrArray) results = parse ("[{}, []]");
	g_autoptr(JsonNode) root = NULL;
	guint status = 0;

	ck_assert_uint_eq (results->len, 2);
	assert_rejected (result_at (results, 0), "event", "missing");
	assert_rejected (result_at (results, 1), NULL, NULL);
	root = reply (results, &status);
	ck_assert_uint_eq (status, 400);
	ck_assert_int_eq (json_object_get_int_member (json_node_get_object (root), "accepted"), 0);
	astra_assert_contains (json_object_get_string_member (json_node_get_object (root), "error"), "2 of 2");
}
END_TEST

/* field paths, for every type from its schema */

static void
remove_member_cb (JsonObject *data, gpointer user_data)
{
	json_object_remove_member (data, user_data);
}

typedef struct {
	const char *name;
	JsonNode *value;
} SetMember;

static void
set_member_cb (JsonObject *data, gpointer user_data)
{
	SetMember *set = user_data;

	json_object_set_member (data, set->name, json_node_copy (set->value));
}

static JsonObject *
schema_for (const char *type_name, JsonNode **root_out)
{
	g_autofree char *rel = g_strdup_printf ("data/schemas/%s.schema.json", type_name);
	g_autofree char *text = astra_check_read_source_file (rel);

	*root_out = parse_json (text, strlen (text));
	return json_node_get_object (*root_out);
}

static gboolean
schema_allows (JsonObject *property, const char *type)
{
	JsonNode *node = json_object_get_member (property, "type");

	if (node == NULL)
		return TRUE;
	if (JSON_NODE_HOLDS_ARRAY (node)) {
		JsonArray *types = json_node_get_array (node);
		for (guint i = 0; i < json_array_get_length (types); i++) {
			if (g_strcmp0 (json_array_get_string_element (types, i), type) == 0)
				return TRUE;
		}
		return FALSE;
	}
	return g_strcmp0 (json_node_get_string (node), type) == 0;
}

START_TEST (test_missing_required_field)
{
	g_autoptr(JsonNode) schema_root = NULL;
	JsonObject *schema = schema_for (astra_check_event_types[_i], &schema_root);
	JsonArray *required = json_object_get_array_member (schema, "required");

	ck_assert_ptr_nonnull (required);
	ck_assert_uint_gt (json_array_get_length (required), 0);
	for (guint i = 0; i < json_array_get_length (required); i++) {
		const char *name = json_array_get_string_element (required, i);
		g_autofree char *body =
		    edited_fixture (astra_check_event_types[_i], remove_member_cb, (gpointer) name);
		g_autofree char *field = g_strdup_printf ("data.%s", name);
		g_autoptr(GPtrArray) results = parse (body);
		g_autoptr(JsonNode) root = NULL;
		guint status = 0;

		ck_assert_uint_eq (results->len, 1);
		assert_rejected (result_at (results, 0), field, "missing required field");
		root = reply (results, &status);
		ck_assert_uint_eq (status, 400);
		ck_assert_str_eq (json_object_get_string_member (reply_result (root, 0), "field"), field);
	}
}
END_TEST

START_TEST (test_ill_typed_field)
{
	g_autoptr(JsonNode) schema_root = NULL;
	JsonObject *schema = schema_for (astra_check_event_types[_i], &schema_root);
	JsonObject *properties = json_object_get_object_member (schema, "properties");
	g_autofree char *text = astra_check_fixture_text (astra_check_event_types[_i]);
	g_autoptr(JsonNode) fixture = parse_json (text, strlen (text));
	JsonObject *data = json_object_get_object_member (json_node_get_object (fixture), "data");
	g_autoptr(GList) names = json_object_get_members (properties);
	guint n_checked = 0;

	for (GList *l = names; l != NULL; l = l->next) {
		const char *name = l->data;
		JsonObject *property = json_object_get_object_member (properties, name);
		g_autoptr(JsonNode) wrong = json_node_new (JSON_NODE_VALUE);
		g_autofree char *body = NULL;
		g_autofree char *field = g_strdup_printf ("data.%s", name);
		g_autoptr(GPtrArray) results = NULL;
		SetMember set = {name, wrong};

		if (!json_object_has_member (data, name))
			continue;
		/* a boolean where anything else is expected, a string where a boolean is */
		if (schema_allows (property, "boolean"))
			json_node_set_string (wrong, "yes");
		else
			json_node_set_boolean (wrong, TRUE);
		body = edited_fixture (astra_check_event_types[_i], set_member_cb, &set);
		results = parse (body);
		ck_assert_uint_eq (results->len, 1);
		assert_rejected (result_at (results, 0), field, "expected ");
		n_checked++;
	}
	ck_assert_uint_gt (n_checked, 2);
}
END_TEST

static const struct {
	const char *type_name;
	const char *member; /* of data */
	const char *value;  /* JSON */
	const char *field;
	const char *error_part;
} nested_cases[] = {
    {"traceroute.completed", "hops",
     "[{\"hop\":1,\"address\":\"192.0.2.1\",\"rtt_ms\":1},{\"hop\":2,\"address\":null,\"rtt_ms\":\"fast\"}]",
     "data.hops[1].rtt_ms", "expected number or null"},
    {"traceroute.completed", "hops", "[{\"hop\":1},{\"hop\":2},{\"address\":\"192.0.2.3\"}]",
     "data.hops[2].hop", "missing required field"},
    {"traceroute.completed", "hops", "[{\"hop\":0}]", "data.hops[0].hop", ">= 1"},
    {"traceroute.completed", "hops", "{\"hop\":1}", "data.hops", "expected array"},
    {"traceroute.completed", "hop_count", "-1", "data.hop_count", ">= 0"},
    {"traceroute.completed", "hop_count", "4.5", "data.hop_count", "expected integer"},
    {"agent.status_changed", "current_status", "\"sideways\"", "data.current_status", "must be one of"},
    {"agent.status_changed", "last_seen", "\"yesterday\"", "data.last_seen", "RFC 3339"},
    {"agent.registered", "agent_id", "\"\"", "data.agent_id", "must not be empty"},
    {"agent.registered", "hostname", "null", "data.hostname", "expected string"},
    {"alert.triggered", "labels", "\"target=8.8.8.8\"", "data.labels", "expected object"},
    {"alert.triggered", "labels", "{\"app.kubernetes.io/name\":5}", "data.labels[\"app.kubernetes.io/name\"]",
     "expected string"},
    {"alert.triggered", "severity", "\"severe\"", "data.severity", "must be one of"},
    {"alert.triggered", "state", "\"resolved\"", "data.state", "firing"},
    {"alert.resolved", "duration_s", "\"24m\"", "data.duration_s", "expected number"},
    {"service_test.failed", "status_code", "503.5", "data.status_code", "expected integer or null"},
    {"speedtest.completed", "download_mbps", "\"94.3\"", "data.download_mbps", "expected number"},
};

START_TEST (test_nested_field)
{
	g_autoptr(JsonNode) value = parse_json (nested_cases[_i].value, strlen (nested_cases[_i].value));
	SetMember set = {nested_cases[_i].member, value};
	g_autofree char *body = edited_fixture (nested_cases[_i].type_name, set_member_cb, &set);

	assert_one_rejected (body, nested_cases[_i].field, nested_cases[_i].error_part);
}
END_TEST

/* the envelope */

static const struct {
	const char *body;
	const char *field;
	const char *error_part;
} envelope_cases[] = {
    {"{\"event\":\"agent.exploded\",\"data\":{}}", "event", "unknown event type"},
    {"{\"event\":\"Agent.Registered\",\"data\":{}}", "event", "unknown event type"},
    {"{\"event\":\"\",\"data\":{}}", "event", "unknown event type"},
    {"{\"event\":5,\"data\":{}}", "event", "expected a string"},
    {"{\"event\":null,\"data\":{}}", "event", "expected a string"},
    {"{\"event\":[\"agent.registered\"],\"data\":{}}", "event", "expected a string"},
    {"{\"data\":{}}", "event", "missing required field"},
    {"{\"event\":\"agent.registered\"}", "data", "missing required field"},
    {"{\"event\":\"agent.registered\",\"data\":[]}", "data", "expected an object"},
    {"{\"event\":\"agent.registered\",\"data\":\"agent-123\"}", "data", "expected an object"},
    {"{\"event\":\"agent.registered\",\"data\":{},\"tenant\":\"t\"}", "tenant", "unknown field"},
    {"{\"id\":\"evt_1\",\"event\":\"agent.registered\",\"data\":{}}", "id", "unknown field"},
    {"{\"event\":\"agent.registered\",\"data\":{},\"type\":\"agent.registered\"}", "type", "unknown field"},
};

START_TEST (test_envelope)
{
	assert_one_rejected (envelope_cases[_i].body, envelope_cases[_i].field, envelope_cases[_i].error_part);
}
END_TEST

START_TEST (test_unknown_event_lists_types)
{
	g_autoptr(GPtrArray) results = parse ("{\"event\":\"agent.exploded\",\"data\":{}}");

	for (guint i = 0; i < ASTRA_CHECK_N_EVENT_TYPES; i++)
		astra_assert_contains (result_at (results, 0)->error, astra_check_event_types[i]);
}
END_TEST

/* timestamps */

static char *
docs_example_at (const char *timestamp_json)
{
	g_autoptr(GString) str = g_string_new (docs_example);

	ck_assert_uint_eq (g_string_replace (str, "\"2025-12-17T10:30:00Z\"", timestamp_json, 1), 1);
	return g_string_free (g_steal_pointer (&str), FALSE);
}

static const struct {
	const char *timestamp; /* JSON */
	const char *error_part;
} bad_timestamp_cases[] = {
    {"\"2025-12-17T10:30:00\"", "zone"},    /* no zone: ambiguous */
    {"\"2025-12-17\"", "RFC 3339"},
    {"\"2025-12-17 10:30:00Z\"", "RFC 3339"},
    {"\"10:30:00Z\"", "RFC 3339"},
    {"\"yesterday\"", "RFC 3339"},
    {"\"\"", "RFC 3339"},
    {"\"2025-02-30T10:30:00Z\"", "RFC 3339"},
    {"\"2025-12-17T25:30:00Z\"", "RFC 3339"},
    {"1765967400", "string"},
    {"1765967400000", "string"},
    {"null", "string"},
    {"true", "string"},
    {"{\"seconds\":1765967400}", "string"},
    {"\"1969-12-31T23:59:59Z\"", "before 1970"},
    {"\"1900-01-01T00:00:00Z\"", "before 1970"},
    {"\"1970-01-01T00:59:59+01:00\"", "before 1970"},
};

START_TEST (test_timestamp_bad)
{
	g_autofree char *body = docs_example_at (bad_timestamp_cases[_i].timestamp);

	assert_one_rejected (body, "timestamp", bad_timestamp_cases[_i].error_part);
}
END_TEST

static const struct {
	const char *timestamp;
	const char *utc;
} offset_cases[] = {
    {"2025-12-17T10:30:00Z", "2025-12-17T10:30:00Z"},
    {"2025-12-17T10:30:00+00:00", "2025-12-17T10:30:00Z"},
    {"2025-12-17T11:30:00+01:00", "2025-12-17T10:30:00Z"},
    {"2025-12-17T05:00:00-05:30", "2025-12-17T10:30:00Z"},
    {"2025-12-18T00:30:00+14:00", "2025-12-17T10:30:00Z"},
    {"2026-01-01T00:30:00+01:00", "2025-12-31T23:30:00Z"},
    {"2025-12-17T10:30:00.999Z", "2025-12-17T10:30:00Z"}, /* whole seconds */
    {"1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z"},
    {"1970-01-01T01:00:00+01:00", "1970-01-01T00:00:00Z"},
};

START_TEST (test_timestamp_offset)
{
	g_autofree char *quoted = g_strdup_printf ("\"%s\"", offset_cases[_i].timestamp);
	g_autofree char *body = docs_example_at (quoted);
	g_autofree char *expected_body = NULL;
	g_autoptr(GPtrArray) results = parse (body);
	g_autofree char *expected_ts = g_strdup_printf ("\"timestamp\":\"%s\"", offset_cases[_i].utc);
	AstraEvent *event;
	GBytes *event_body;

	ck_assert_uint_eq (results->len, 1);
	assert_accepted (result_at (results, 0));
	event = result_at (results, 0)->event;
	ck_assert_str_eq (astra_event_get_timestamp_string (event), offset_cases[_i].utc);
	/* and the body receivers get carries it in UTC */
	event_body = astra_event_get_body (event);
	expected_body = g_strndup (g_bytes_get_data (event_body, NULL), g_bytes_get_size (event_body));
	astra_assert_contains (expected_body, expected_ts);
}
END_TEST

/*
 * Regression (was a bug): astra_ingest_parse_timestamp() uses
 * g_date_time_new_from_iso8601(), which takes ISO 8601 forms that are not
 * RFC 3339 (basic format, week and ordinal dates, offsets without a colon or
 * without minutes, a decimal comma), although the error says an RFC 3339
 * date-time is required and the event schemas' date-time format is strict.
 * Fixed in core/engine/astra-ingest.c, astra_ingest_parse_timestamp(): check
 * the shape first, e.g. with a static GRegex
 * ^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$
 * (case-insensitive T and Z if wanted), then parse as now.
 */
static const char *const not_rfc3339_cases[] = {
    "\"20251217T103000Z\"",
    "\"2025-W51-3T10:30:00Z\"",
    "\"2025-351T10:30:00Z\"",
    "\"2025-12-17T11:30:00+0100\"",
    "\"2025-12-17T11:30:00+01\"",
    "\"2025-12-17T10:30:00,5Z\"",
};

START_TEST (test_regression_timestamp_not_rfc3339)
{
	g_autofree char *body = docs_example_at (not_rfc3339_cases[_i]);

	assert_one_rejected (body, "timestamp", "RFC 3339");
}
END_TEST

/*
 * Regression (was a bug): a timestamp that is valid but lands after 9999-12-31
 * in UTC is passed on to astra_event_new(), whose "timestamp ... is out of
 * range" error is reported without a field. Fix in
 * core/engine/astra-ingest.c, astra_ingest_parse_timestamp(): refuse
 * g_date_time_to_unix (dt) > 253402300799 (9999-12-31T23:59:59Z) with
 * *why = "after 9999-12-31T23:59:59Z".
 */
START_TEST (test_regression_timestamp_after_9999)
{
	g_autofree char *body = docs_example_at ("\"9999-12-31T23:59:59-01:00\"");

	assert_one_rejected (body, "timestamp", NULL);
}
END_TEST

/* whole-body errors */

static const char *const not_reports_cases[] = {
    "not json",
    "{\"event\":",
    "{'event':'agent.registered'}",
    "[1,]",
    "{} {}",
    "42",
    "\"agent.registered\"",
    "null",
    "true",
    "{\"reports\": 5}",
    "{\"reports\": {}}",
    "{\"reports\": null}",
    "{\"reports\": [], \"extra\": 1}",
    "   ",
};

START_TEST (test_body_not_reports)
{
	assert_body_error (not_reports_cases[_i], ASTRA_ERROR_INVALID_DATA);
}
END_TEST

START_TEST (test_body_empty)
{
	assert_body_error_len ("", 0, ASTRA_ERROR_INVALID_DATA);
	/* a NULL pointer with no bytes is an empty body too */
	assert_body_error_len (NULL, 0, ASTRA_ERROR_INVALID_DATA);
}
END_TEST

static char *
batch_of (guint n, gboolean wrapped)
{
	g_autoptr(GString) str = g_string_sized_new (n * 3 + 16);

	g_string_append (str, wrapped ? "{\"reports\":[" : "[");
	for (guint i = 0; i < n; i++)
		g_string_append (str, i > 0 ? ",{}" : "{}");
	g_string_append (str, wrapped ? "]}" : "]");
	return g_string_free (g_steal_pointer (&str), FALSE);
}

START_TEST (test_body_too_many_reports)
{
	g_autofree char *array = batch_of (ASTRA_INGEST_MAX_REPORTS + 1, FALSE);
	g_autofree char *wrapped = batch_of (ASTRA_INGEST_MAX_REPORTS + 1, TRUE);
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) results = NULL;

	assert_body_error (array, ASTRA_ERROR_TOO_LARGE);
	assert_body_error (wrapped, ASTRA_ERROR_TOO_LARGE);
	results = astra_ingest_parse_reports (array, strlen (array), NOW, &error);
	astra_assert_contains (error->message, "10001");
}
END_TEST

START_TEST (test_body_max_reports)
{
	g_autofree char *array = batch_of (ASTRA_INGEST_MAX_REPORTS, FALSE);
	g_autoptr(GPtrArray) results = parse (array);
	g_autoptr(JsonNode) root = NULL;
	guint status = 0;

	/* at the limit the batch is read, and each report judged */
	ck_assert_uint_eq (results->len, ASTRA_INGEST_MAX_REPORTS);
	assert_rejected (result_at (results, ASTRA_INGEST_MAX_REPORTS - 1), "event", "missing");
	ck_assert_uint_eq (result_at (results, ASTRA_INGEST_MAX_REPORTS - 1)->index, ASTRA_INGEST_MAX_REPORTS - 1);
	root = reply (results, &status);
	ck_assert_uint_eq (status, 400);
	ck_assert_int_eq (json_object_get_int_member (json_node_get_object (root), "rejected"),
			  ASTRA_INGEST_MAX_REPORTS);
}
END_TEST

/* hostile bodies: a clean error, no crash (ASan/UBSan builds check the rest) */

static char *
nested (const char *open, const char *close, guint depth)
{
	g_autoptr(GString) str = g_string_new (NULL);

	for (guint i = 0; i < depth; i++)
		g_string_append (str, open);
	g_string_append (str, "1");
	for (guint i = 0; i < depth; i++)
		g_string_append (str, close);
	return g_string_free (g_steal_pointer (&str), FALSE);
}

START_TEST (test_body_deeply_nested)
{
	g_autofree char *arrays = nested ("[", "]", 100000);
	g_autofree char *objects = nested ("{\"a\":", "}", 100000);
	g_autofree char *just_over = nested ("[", "]", ASTRA_JSON_MAX_DEPTH + 1);
	g_autofree char *inner = nested ("[", "]", ASTRA_JSON_MAX_DEPTH);
	g_autofree char *in_data = g_strdup_printf ("{\"event\":\"agent.registered\",\"data\":{\"agent_id\":\"a\","
						    "\"hostname\":\"h\",\"tenant_id\":\"t\",\"x\":%s}}",
						    inner);

	assert_body_error (arrays, ASTRA_ERROR_INVALID_DATA);
	assert_body_error (objects, ASTRA_ERROR_INVALID_DATA);
	assert_body_error (just_over, ASTRA_ERROR_INVALID_DATA);
	/* nesting inside an event's data counts from the top of the body */
	assert_body_error (in_data, ASTRA_ERROR_INVALID_DATA);
}
END_TEST

START_TEST (test_body_nested_within_limit)
{
	/* the body is depth 1, data 2, x 3 and on: the deepest that fits */
	g_autofree char *inner = nested ("[", "]", ASTRA_JSON_MAX_DEPTH - 2);
	g_autofree char *body = g_strdup_printf ("{\"event\":\"agent.registered\",\"data\":{\"agent_id\":\"a\","
						 "\"hostname\":\"h\",\"tenant_id\":\"t\",\"x\":%s}}",
						 inner);
	g_autoptr(GPtrArray) results = parse (body);
	GBytes *event_body;

	ck_assert_uint_eq (results->len, 1);
	assert_accepted (result_at (results, 0));
	/* and its body can be stored and restored */
	event_body = astra_event_get_body (result_at (results, 0)->event);
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(AstraEvent) restored = astra_event_new_from_body ("evt_restored", event_body, &error);
		ck_assert_msg (restored != NULL, "%s", error != NULL ? error->message : "?");
	}
}
END_TEST

static const char *const bad_utf8_cases[] = {
    "{\"event\":\"agent.registered\",\"data\":{\"agent_id\":\"\xff\",\"hostname\":\"h\",\"tenant_id\":\"t\"}}",
    "{\"event\":\"agent.registered\",\"data\":{\"agent_id\":\"\xc0\xaf\",\"hostname\":\"h\",\"tenant_id\":\"t\"}}",
    "{\"event\":\"agent.registered\",\"data\":{\"agent_id\":\"\xed\xa0\x80\",\"hostname\":\"h\",\"tenant_id\":\"t\"}}",
    "{\"event\":\"agent.registered\",\"data\":{\"\xfe\":1,\"agent_id\":\"a\",\"hostname\":\"h\",\"tenant_id\":\"t\"}}",
    "{\"event\":\"agent.registered\",\"data\":{\"agent_id\":\"a\",\"hostname\":\"h\",\"tenant_id\":\"t\xe2\x82",
    "[\"\xf4\x90\x80\x80\"]",
    "\xef\xbb\xbf{}",
};

START_TEST (test_body_invalid_utf8)
{
	assert_body_error (bad_utf8_cases[_i], ASTRA_ERROR_INVALID_DATA);
}
END_TEST

START_TEST (test_body_nul_bytes)
{
	static const char in_string[] = "{\"event\":\"agent.registered\",\"data\":{\"agent_id\":\"a\0b\","
					"\"hostname\":\"h\",\"tenant_id\":\"t\"}}";
	static const char after[] = "{\"event\":\"agent.registered\",\"data\":{\"agent_id\":\"a\","
				    "\"hostname\":\"h\",\"tenant_id\":\"t\"}}\0";
	static const char between[] = "[{}\0,{}]";
	static const char only[] = "\0";
	static const char escaped[] = "{\"event\":\"agent.registered\",\"data\":{\"agent_id\":\"a\\u0000b\","
				      "\"hostname\":\"h\",\"tenant_id\":\"t\"}}";

	/* sizeof - 1: the NULs inside are part of the body, the final one is C's */
	assert_body_error_len (in_string, sizeof (in_string) - 1, ASTRA_ERROR_INVALID_DATA);
	assert_body_error_len (after, sizeof (after) - 1, ASTRA_ERROR_INVALID_DATA);
	assert_body_error_len (between, sizeof (between) - 1, ASTRA_ERROR_INVALID_DATA);
	assert_body_error_len (only, sizeof (only) - 1, ASTRA_ERROR_INVALID_DATA);
	assert_body_error (escaped, ASTRA_ERROR_INVALID_DATA);
}
END_TEST

START_TEST (test_body_not_nul_terminated)
{
	/* the parser must stop at the length it was given */
	g_autofree char *copy = g_strdup (docs_example);
	g_autoptr(GPtrArray) results = NULL;
	gsize len = strlen (copy);
	char *exact = g_malloc (len);

	memcpy (exact, copy, len);
	results = parse_len (exact, len);
	ck_assert_uint_eq (results->len, 1);
	assert_accepted (result_at (results, 0));
	g_free (exact);
	/* a cut body is not JSON */
	assert_body_error_len (copy, len - 1, ASTRA_ERROR_INVALID_DATA);
}
END_TEST

/* the reply */

START_TEST (test_reply_escaping)
{
	/* a field name with quotes, a backslash, a control character and non-ASCII text comes back intact */
	static const char body[] = "{\"event\":\"agent.registered\",\"data\":{},\"we\\\"ird\\\\ \\n k\xc3\xa9y\":1}";
	g_autoptr(GPtrArray) results = parse (body);
	g_autoptr(JsonNode) root = NULL;
	guint status = 0;

	ck_assert_uint_eq (results->len, 1);
	assert_rejected (result_at (results, 0), "we\"ird\\ \n k\xc3\xa9y", "unknown field");
	root = reply (results, &status);
	ck_assert_uint_eq (status, 400);
	ck_assert_str_eq (json_object_get_string_member (reply_result (root, 0), "field"),
			  "we\"ird\\ \n k\xc3\xa9y");
	ck_assert_str_eq (json_object_get_string_member (reply_result (root, 0), "error"),
			  result_at (results, 0)->error);
}
END_TEST

START_TEST (test_reply_error)
{
	g_autoptr(GBytes) bytes = astra_ingest_build_error ("the body is \"bad\"\n\\ \xc3\xa9");
	gsize len = 0;
	const char *data = g_bytes_get_data (bytes, &len);
	g_autoptr(JsonNode) root = parse_json (data, len);

	ck_assert (JSON_NODE_HOLDS_OBJECT (root));
	ck_assert_uint_eq (json_object_get_size (json_node_get_object (root)), 1);
	ck_assert_str_eq (json_object_get_string_member (json_node_get_object (root), "error"),
			  "the body is \"bad\"\n\\ \xc3\xa9");
}
END_TEST

static Suite *
ingest_suite (void)
{
	Suite *s = suite_create ("ingest");
	TCase *tc;

	tc = tcase_create ("reports");
	tcase_add_test (tc, test_docs_example);
	tcase_add_test (tc, test_without_timestamp);
	tcase_add_loop_test (tc, test_fixture_accepted, 0, ASTRA_CHECK_N_EVENT_TYPES);
	tcase_add_test (tc, test_batch_array);
	tcase_add_test (tc, test_batch_reports);
	tcase_add_test (tc, test_batch_mixed);
	tcase_add_test (tc, test_batch_all_rejected);
	suite_add_tcase (s, tc);

	tc = tcase_create ("fields");
	tcase_add_loop_test (tc, test_missing_required_field, 0, ASTRA_CHECK_N_EVENT_TYPES);
	tcase_add_loop_test (tc, test_ill_typed_field, 0, ASTRA_CHECK_N_EVENT_TYPES);
	tcase_add_loop_test (tc, test_nested_field, 0, G_N_ELEMENTS (nested_cases));
	tcase_add_loop_test (tc, test_envelope, 0, G_N_ELEMENTS (envelope_cases));
	tcase_add_test (tc, test_unknown_event_lists_types);
	suite_add_tcase (s, tc);

	tc = tcase_create ("timestamps");
	tcase_add_loop_test (tc, test_timestamp_bad, 0, G_N_ELEMENTS (bad_timestamp_cases));
	tcase_add_loop_test (tc, test_timestamp_offset, 0, G_N_ELEMENTS (offset_cases));
	suite_add_tcase (s, tc);

	tc = tcase_create ("body");
	tcase_add_loop_test (tc, test_body_not_reports, 0, G_N_ELEMENTS (not_reports_cases));
	tcase_add_test (tc, test_body_empty);
	tcase_add_test (tc, test_body_too_many_reports);
	tcase_add_test (tc, test_body_max_reports);
	tcase_add_test (tc, test_body_deeply_nested);
	tcase_add_test (tc, test_body_nested_within_limit);
	tcase_add_loop_test (tc, test_body_invalid_utf8, 0, G_N_ELEMENTS (bad_utf8_cases));
	tcase_add_test (tc, test_body_nul_bytes);
	tcase_add_test (tc, test_body_not_nul_terminated);
	suite_add_tcase (s, tc);

	tc = tcase_create ("reply");
	tcase_add_test (tc, test_reply_escaping);
	tcase_add_test (tc, test_reply_error);
	suite_add_tcase (s, tc);

	/* each fails until the engine bug described beside it is fixed */
	tc = tcase_create ("regressions");
	tcase_add_loop_test (tc, test_regression_timestamp_not_rfc3339, 0, G_N_ELEMENTS (not_rfc3339_cases));
	tcase_add_test (tc, test_regression_timestamp_after_9999);
	suite_add_tcase (s, tc);

	return s;
}

int
main (void)
{
	return astra_check_run_suite (ingest_suite ());
}
