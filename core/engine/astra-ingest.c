/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "astra-ingest.h"
#include "astra-event-schema.h"

void
astra_report_result_free (AstraReportResult *result)
{
	if (result == NULL)
		return;
	g_clear_object (&result->event);
	g_free (result->type);
	g_free (result->field);
	g_free (result->error);
	g_free (result);
}

static void
astra_report_reject (AstraReportResult *result, const char *field, const char *error)
{
	result->field = g_strdup (field);
	result->error = g_strdup (error);
}

/* the SDK reports "PATH: what" for field problems: split them for the reply */
static void
astra_report_reject_from_error (AstraReportResult *result, const GError *error)
{
	const char *sep = strstr (error->message, ": ");

	if (sep != NULL && g_str_has_prefix (error->message, "data")) {
		g_autofree char *field = g_strndup (error->message, (gsize) (sep - error->message));
		astra_report_reject (result, field, sep + 2);
		return;
	}
	astra_report_reject (result, NULL, error->message);
}

typedef struct {
	gint64 now_us;
	AstraReports *reports;
	AstraEventSinkFunc event_sink;
	gpointer user_data;
} AstraIngestContext;

static void
astra_ingest_parse_event (JsonNode *node, gint64 now, AstraReportResult *result);

/* a typed report ("type": ...) goes to the reports processor, which names the field it refuses */
static void
astra_ingest_parse_typed (JsonObject *report, const AstraIngestContext *ctx, AstraReportResult *result)
{
	g_autoptr(GError) error_local = NULL;
	JsonNode *type_node = json_object_get_member (report, "type");
	const char *sep;

	if (!JSON_NODE_HOLDS_VALUE (type_node) || json_node_get_value_type (type_node) != G_TYPE_STRING) {
		astra_report_reject (result, "type", "expected a string");
		return;
	}
	result->type = g_strdup (json_node_get_string (type_node));
	if (ctx->reports == NULL) {
		astra_report_reject (result, "type", "typed reports are not accepted here");
		return;
	}
	if (astra_reports_handle (ctx->reports, report, ctx->now_us, &error_local)) {
		result->accepted = TRUE;
		return;
	}
	sep = strstr (error_local->message, ": ");
	if (sep != NULL && sep > error_local->message && strchr (error_local->message, ' ') > sep) {
		g_autofree char *field = g_strndup (error_local->message, (gsize) (sep - error_local->message));
		astra_report_reject (result, field, sep + 2);
		return;
	}
	astra_report_reject (result, NULL, error_local->message);
}

static void
astra_ingest_parse_one (JsonNode *node, const AstraIngestContext *ctx, AstraReportResult *result)
{
	/* an event report has "event"; every other report names its "type" */
	if (JSON_NODE_HOLDS_OBJECT (node) && json_object_has_member (json_node_get_object (node), "type") &&
	    !json_object_has_member (json_node_get_object (node), "event")) {
		astra_ingest_parse_typed (json_node_get_object (node), ctx, result);
		return;
	}
	astra_ingest_parse_event (node, ctx->now_us / G_USEC_PER_SEC, result);
	if (result->event != NULL) {
		result->accepted = TRUE;
		if (ctx->event_sink != NULL)
			ctx->event_sink (result->event, ctx->user_data);
	}
}

static void
astra_ingest_parse_event (JsonNode *node, gint64 now, AstraReportResult *result)
{
	g_autoptr(GError) error_local = NULL;
	g_autoptr(GList) members = NULL;
	JsonObject *report;
	JsonNode *type_node;
	JsonNode *data_node;
	JsonNode *ts_node;
	AstraEventKind kind;
	gint64 timestamp = now;

	if (!JSON_NODE_HOLDS_OBJECT (node)) {
		astra_report_reject (result, NULL, "a report must be a JSON object");
		return;
	}
	report = json_node_get_object (node);
	members = json_object_get_members (report);
	for (GList *l = members; l != NULL; l = l->next) {
		const char *key = l->data;
		if (g_strcmp0 (key, "event") != 0 && g_strcmp0 (key, "timestamp") != 0 &&
		    g_strcmp0 (key, "data") != 0) {
			g_autofree char *msg = g_strdup_printf ("unknown field '%s' (an event report has event, timestamp "
								"and data; other reports name their type)", key);
			astra_report_reject (result, key, msg);
			return;
		}
	}

	type_node = json_object_get_member (report, "event");
	if (type_node == NULL) {
		astra_report_reject (result, "event", "missing required field");
		return;
	}
	if (!JSON_NODE_HOLDS_VALUE (type_node) || json_node_get_value_type (type_node) != G_TYPE_STRING) {
		astra_report_reject (result, "event", "expected a string");
		return;
	}
	kind = astra_event_kind_from_string (json_node_get_string (type_node));
	if (kind == ASTRA_EVENT_KIND_UNKNOWN) {
		g_autofree char *known = astra_event_schema_list_types ();
		g_autofree char *msg = g_strdup_printf ("unknown event type (known: %s)", known);
		astra_report_reject (result, "event", msg);
		return;
	}

	ts_node = json_object_get_member (report, "timestamp");
	if (ts_node != NULL) {
		gint64 timestamp_us = 0;
		if (!astra_reports_parse_timestamp (ts_node, FALSE, &timestamp_us, &error_local)) {
			astra_report_reject (result, "timestamp", error_local->message);
			return;
		}
		timestamp = timestamp_us / G_USEC_PER_SEC;
	}

	data_node = json_object_get_member (report, "data");
	if (data_node == NULL) {
		astra_report_reject (result, "data", "missing required field");
		return;
	}
	if (!JSON_NODE_HOLDS_OBJECT (data_node)) {
		astra_report_reject (result, "data", "expected an object");
		return;
	}
	result->event = astra_event_new (kind, timestamp, json_node_get_object (data_node), &error_local);
	if (result->event == NULL)
		astra_report_reject_from_error (result, error_local);
}

GPtrArray *
astra_ingest_parse_reports (const char *body, gsize length, gint64 now, GError **error)
{
	return astra_ingest_parse_reports_full (body, length, now * G_USEC_PER_SEC, NULL, NULL, NULL, error);
}

GPtrArray *
astra_ingest_parse_reports_full (const char *body,
				 gsize length,
				 gint64 now_us,
				 AstraReports *reports,
				 AstraEventSinkFunc event_sink,
				 gpointer user_data,
				 GError **error)
{
	const AstraIngestContext ctx = {now_us, reports, event_sink, user_data};
	g_autoptr(JsonNode) root = NULL;
	g_autoptr(GPtrArray) results = NULL;
	g_autoptr(GError) error_local = NULL;
	JsonArray *reports_array = NULL;
	guint n_reports;

	root = astra_json_parse (body, length, &error_local);
	if (root == NULL) {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA,
			     "the body is not valid JSON: %s", error_local->message);
		return NULL;
	}

	results = g_ptr_array_new_with_free_func ((GDestroyNotify) astra_report_result_free);
	if (JSON_NODE_HOLDS_ARRAY (root)) {
		reports_array = json_node_get_array (root);
	} else if (JSON_NODE_HOLDS_OBJECT (root) &&
		   json_object_has_member (json_node_get_object (root), "reports")) {
		JsonNode *node = json_object_get_member (json_node_get_object (root), "reports");
		if (!JSON_NODE_HOLDS_ARRAY (node) || json_object_get_size (json_node_get_object (root)) != 1) {
			g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA,
					     "expected {\"reports\": [...]} with nothing else beside it");
			return NULL;
		}
		reports_array = json_node_get_array (node);
	} else if (JSON_NODE_HOLDS_OBJECT (root)) {
		AstraReportResult *result = g_new0 (AstraReportResult, 1);
		astra_ingest_parse_one (root, &ctx, result);
		g_ptr_array_add (results, result);
		return g_steal_pointer (&results);
	} else {
		g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA,
				     "expected a report object, an array of reports or {\"reports\": [...]}");
		return NULL;
	}

	n_reports = json_array_get_length (reports_array);
	if (n_reports > ASTRA_INGEST_MAX_REPORTS) {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_TOO_LARGE,
			     "%u reports in one batch; at most %u are accepted",
			     n_reports, (guint) ASTRA_INGEST_MAX_REPORTS);
		return NULL;
	}
	for (guint i = 0; i < n_reports; i++) {
		AstraReportResult *result = g_new0 (AstraReportResult, 1);
		result->index = i;
		astra_ingest_parse_one (json_array_get_element (reports_array, i), &ctx, result);
		g_ptr_array_add (results, result);
	}
	return g_steal_pointer (&results);
}

static GBytes *
astra_ingest_serialize (JsonBuilder *builder)
{
	g_autoptr(JsonNode) root = json_builder_get_root (builder);
	g_autoptr(GError) error_local = NULL;
	GBytes *bytes = astra_json_serialize (root, &error_local);

	/* everything in a reply is valid UTF-8 and finite: a failure here is a bug */
	if (bytes == NULL) {
		g_critical ("cannot serialize a reply: %s", error_local->message);
		return g_bytes_new_static ("{}", 2);
	}
	return bytes;
}

GBytes *
astra_ingest_build_reply (GPtrArray *results, guint *status)
{
	g_autoptr(JsonBuilder) builder = json_builder_new ();
	guint n_accepted = 0;

	for (guint i = 0; i < results->len; i++) {
		AstraReportResult *result = g_ptr_array_index (results, i);
		if (result->accepted)
			n_accepted++;
	}

	json_builder_begin_object (builder);
	if (n_accepted < results->len) {
		g_autofree char *message = g_strdup_printf ("%u of %u reports rejected%s",
							    results->len - n_accepted, results->len,
							    n_accepted > 0 ? "; the others were accepted" : "");
		json_builder_set_member_name (builder, "error");
		json_builder_add_string_value (builder, message);
	}
	json_builder_set_member_name (builder, "accepted");
	json_builder_add_int_value (builder, n_accepted);
	json_builder_set_member_name (builder, "rejected");
	json_builder_add_int_value (builder, results->len - n_accepted);
	json_builder_set_member_name (builder, "results");
	json_builder_begin_array (builder);
	for (guint i = 0; i < results->len; i++) {
		AstraReportResult *result = g_ptr_array_index (results, i);

		json_builder_begin_object (builder);
		json_builder_set_member_name (builder, "index");
		json_builder_add_int_value (builder, result->index);
		json_builder_set_member_name (builder, "status");
		json_builder_add_string_value (builder, result->accepted ? "accepted" : "rejected");
		if (result->type != NULL) {
			json_builder_set_member_name (builder, "type");
			json_builder_add_string_value (builder, result->type);
		}
		if (result->event != NULL) {
			json_builder_set_member_name (builder, "event");
			json_builder_add_string_value (builder, astra_event_get_type_name (result->event));
			json_builder_set_member_name (builder, "id");
			json_builder_add_string_value (builder, astra_event_get_id (result->event));
		}
		if (result->field != NULL) {
			json_builder_set_member_name (builder, "field");
			json_builder_add_string_value (builder, result->field);
		}
		if (result->error != NULL) {
			json_builder_set_member_name (builder, "error");
			json_builder_add_string_value (builder, result->error);
		}
		json_builder_end_object (builder);
	}
	json_builder_end_array (builder);
	json_builder_end_object (builder);

	*status = n_accepted == results->len ? 202 : 400;
	return astra_ingest_serialize (builder);
}

GBytes *
astra_ingest_build_error (const char *message)
{
	g_autoptr(JsonBuilder) builder = json_builder_new ();

	json_builder_begin_object (builder);
	json_builder_set_member_name (builder, "error");
	json_builder_add_string_value (builder, message);
	json_builder_end_object (builder);
	return astra_ingest_serialize (builder);
}
