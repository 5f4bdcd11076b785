/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * PagerDuty Events API v2: problems open an alert (trigger) and their end
 * closes it (resolve) through a stable dedup_key per problem; informational
 * events page nobody unless the webhook asks for them.
 */

#include "config.h"

#include <string.h>

#include "astra-pagerduty-plugin.h"
#include "astra-plugin-util.h"

#define ASTRA_PAGERDUTY_DEFAULT_URL "https://events.pagerduty.com/v2/enqueue"
#define ASTRA_PAGERDUTY_ROUTING_KEY_LEN 32
#define ASTRA_PAGERDUTY_DEDUP_KEY_MAX 255
#define ASTRA_PAGERDUTY_SUMMARY_MAX 1024
/* PagerDuty documents no limit for source, component, group and class: ours keeps them readable */
#define ASTRA_PAGERDUTY_SHORT_MAX 255
/* "512 KB per event", read the strict way: bytes of the whole body */
#define ASTRA_PAGERDUTY_EVENT_MAX (512 * 1000)
/* a dashboard link longer than this is left out rather than cut (a cut URL is broken) */
#define ASTRA_PAGERDUTY_LINK_MAX 8192
/* PagerDuty's rate-limit page: retry "with each request being 30 seconds apart" */
#define ASTRA_PAGERDUTY_RATE_LIMIT_BACKOFF 30.0
#define ASTRA_PAGERDUTY_REASON_MAX 512
#define ASTRA_PAGERDUTY_RESPONSE_MAX (64 * 1024)
/* custom_details when the event data does not fit */
#define ASTRA_PAGERDUTY_DETAILS_STRING_MAX 1024
#define ASTRA_PAGERDUTY_DETAILS_ENTRIES_MAX 100
#define ASTRA_PAGERDUTY_DETAILS_DEPTH_MAX 8
#define ASTRA_PAGERDUTY_TRUNCATED_MEMBER "astra_truncated"

struct _AstraPagerDutyPlugin {
	AstraPlugin parent_instance;
	char *routing_key;
	char *url;
	char *dashboard_url; /* a template, NULL when not configured */
	gboolean send_info_events;
	char *user_agent;
};

G_DEFINE_FINAL_TYPE (AstraPagerDutyPlugin, astra_pagerduty_plugin, ASTRA_TYPE_PLUGIN)

static const char *const astra_pagerduty_keys[] = {
	"routing-key", "routing-key-file", "url", "send-info-events", "dashboard-url", NULL,
};

static gboolean
astra_pagerduty_routing_key_is_valid (const char *key)
{
	gsize len = 0;

	for (; key[len] != '\0'; len++) {
		if (!g_ascii_isalnum (key[len]))
			return FALSE;
	}
	return len == ASTRA_PAGERDUTY_ROUTING_KEY_LEN;
}

static gboolean
astra_pagerduty_plugin_configure (AstraPlugin *plugin, GKeyFile *keyfile, const char *group, GError **error)
{
	AstraPagerDutyPlugin *self = ASTRA_PAGERDUTY_PLUGIN (plugin);
	g_autofree char *routing_key = NULL;
	g_autofree char *url = NULL;
	g_autofree char *dashboard_url = NULL;
	gboolean send_info_events = FALSE;

	routing_key = astra_plugin_key_file_get_required_secret (keyfile, group, "routing-key", error);
	if (routing_key == NULL)
		return FALSE;
	/* say what is wrong, never what the key is: it lets anyone open incidents */
	if (!astra_pagerduty_routing_key_is_valid (routing_key)) {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
			     "%s: must be exactly %u letters and digits, the Integration Key of an "
			     "Events API v2 integration",
			     g_key_file_has_key (keyfile, group, "routing-key-file", NULL)
				 ? "routing-key-file"
				 : "routing-key",
			     (guint) ASTRA_PAGERDUTY_ROUTING_KEY_LEN);
		return FALSE;
	}

	/* values as written: GKeyFile escapes like \s must not change a URL */
	if (!astra_plugin_key_file_get_optional (keyfile, group, "url",
						 ASTRA_PLUGIN_KEY_FLAG_RAW | ASTRA_PLUGIN_KEY_FLAG_NOT_EMPTY,
						 &url, error))
		return FALSE;
	if (url == NULL)
		url = g_strdup (ASTRA_PAGERDUTY_DEFAULT_URL);
	else if (!astra_plugin_check_url ("url", url, error))
		return FALSE;

	if (g_key_file_has_key (keyfile, group, "send-info-events", NULL)) {
		g_autoptr(GError) error_local = NULL;

		send_info_events = g_key_file_get_boolean (keyfile, group, "send-info-events", &error_local);
		if (error_local != NULL) {
			g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
					     "send-info-events: must be true or false");
			return FALSE;
		}
	}

	if (!astra_plugin_key_file_get_dashboard_url (keyfile, group, G_MAXSIZE, &dashboard_url, error))
		return FALSE;

	g_free (self->routing_key);
	self->routing_key = g_steal_pointer (&routing_key);
	g_free (self->url);
	self->url = g_steal_pointer (&url);
	g_free (self->dashboard_url);
	self->dashboard_url = g_steal_pointer (&dashboard_url);
	self->send_info_events = send_info_events;
	return TRUE;
}

/*
 * KEY as PagerDuty takes it: at most 255 characters. A longer key (a long
 * tenant and agent id) becomes its first bytes, cut on a character boundary,
 * then '#' and the hex SHA-256 of the whole key: stable, so a trigger and its
 * resolve still meet, and at most 255 bytes, hence at most 255 characters.
 */
static char *
astra_pagerduty_dedup_key (const char *key)
{
	g_autofree char *digest = NULL;
	gsize prefix_len;

	if (strlen (key) <= ASTRA_PAGERDUTY_DEDUP_KEY_MAX)
		return g_strdup (key);
	digest = g_compute_checksum_for_string (G_CHECKSUM_SHA256, key, -1);
	prefix_len = ASTRA_PAGERDUTY_DEDUP_KEY_MAX - 1 - strlen (digest);
	while (prefix_len > 0 && ((guchar) key[prefix_len] & 0xc0) == 0x80)
		prefix_len--;
	return g_strdup_printf ("%.*s#%s", (int) prefix_len, key, digest);
}

static const char *
astra_pagerduty_view_field (AstraEventView *view, const char *name)
{
	for (guint i = 0; i < view->fields->len; i++) {
		AstraViewField *field = g_ptr_array_index (view->fields, i);
		if (g_strcmp0 (field->name, name) == 0)
			return field->value;
	}
	return NULL;
}

/* the facts that go after the title in the summary, the line people get on their phone */
static const char *const *
astra_pagerduty_summary_facts (AstraEventKind kind)
{
	static const char *const status_facts[] = { "Tenant", "Last seen", NULL };
	static const char *const registered_facts[] = { "Tenant", "Version", "Address", NULL };
	static const char *const speedtest_facts[] = { "Ping", "Server", "Tenant", NULL };
	static const char *const traceroute_facts[] = { "Hops", "Tenant", NULL };
	static const char *const service_test_facts[] = { "Target", "Tenant", NULL };
	static const char *const alert_facts[] = { "Value", "Rule", "Tenant", NULL };
	static const char *const no_facts[] = { NULL };

	switch (kind) {
	case ASTRA_EVENT_KIND_AGENT_STATUS_CHANGED:
		return status_facts;
	case ASTRA_EVENT_KIND_AGENT_REGISTERED:
		return registered_facts;
	case ASTRA_EVENT_KIND_SPEEDTEST_COMPLETED:
		return speedtest_facts;
	case ASTRA_EVENT_KIND_TRACEROUTE_COMPLETED:
		return traceroute_facts;
	case ASTRA_EVENT_KIND_SERVICE_TEST_FAILED:
		return service_test_facts;
	case ASTRA_EVENT_KIND_ALERT_TRIGGERED:
	case ASTRA_EVENT_KIND_ALERT_RESOLVED:
		return alert_facts;
	default:
		return no_facts;
	}
}

static char *
astra_pagerduty_summary (AstraEventView *view)
{
	AstraEventKind kind = astra_event_get_kind (view->event);
	const char *const *facts = astra_pagerduty_summary_facts (kind);
	g_autoptr(GString) str = g_string_new (view->title);
	guint n = 0;
	g_autofree char *summary = NULL;

	for (guint i = 0; facts[i] != NULL; i++) {
		const char *value = astra_pagerduty_view_field (view, facts[i]);
		if (value == NULL)
			continue;
		g_string_append_printf (str, "%s%s: %s", n++ == 0 ? " \u2014 " : ", ", facts[i], value);
	}
	/* what a failed test says is what people need first */
	if (kind == ASTRA_EVENT_KIND_SERVICE_TEST_FAILED && view->detail != NULL) {
		g_autofree char *error = astra_text_line (view->detail, TRUE, ASTRA_PAGERDUTY_SUMMARY_MAX);
		if (error != NULL)
			g_string_append_printf (str, "%sError: %s", n++ == 0 ? " \u2014 " : ", ", error);
	}
	summary = astra_text_line (str->str, TRUE, ASTRA_PAGERDUTY_SUMMARY_MAX);
	/* a summary is required: the type says at least what happened */
	return summary != NULL ? g_steal_pointer (&summary)
			       : g_strdup (astra_event_get_type_name (view->event));
}

/* the part of the source the event is about, when there is one */
static const char *
astra_pagerduty_component (AstraEventView *view)
{
	switch (astra_event_get_kind (view->event)) {
	case ASTRA_EVENT_KIND_TRACEROUTE_COMPLETED:
		return astra_pagerduty_view_field (view, "Target");
	case ASTRA_EVENT_KIND_SERVICE_TEST_FAILED:
		return astra_pagerduty_view_field (view, "Test");
	case ASTRA_EVENT_KIND_ALERT_TRIGGERED:
	case ASTRA_EVENT_KIND_ALERT_RESOLVED:
		return astra_pagerduty_view_field (view, "Metric");
	default:
		return NULL;
	}
}

/* the affected system: the hostname, else the agent id, else ourselves */
static char *
astra_pagerduty_source (AstraEventView *view)
{
	g_autofree char *source = astra_text_line (view->hostname, TRUE, ASTRA_PAGERDUTY_SHORT_MAX);

	if (source == NULL)
		source = astra_text_line (view->agent_id, TRUE, ASTRA_PAGERDUTY_SHORT_MAX);
	if (source == NULL)
		source = g_strdup ("astra-alerts");
	return g_steal_pointer (&source);
}

static void
astra_pagerduty_set_line (JsonObject *object, const char *member, const char *value)
{
	g_autofree char *line = astra_text_line (value, TRUE, ASTRA_PAGERDUTY_SHORT_MAX);

	if (line != NULL)
		json_object_set_string_member (object, member, line);
}

static JsonNode *
astra_pagerduty_string_node (const char *str)
{
	JsonNode *node = json_node_alloc ();

	json_node_init_string (node, str);
	return node;
}

/* a copy of NODE with long strings, arrays and objects cut, for custom_details that do not fit */
static JsonNode *
astra_pagerduty_reduce (JsonNode *node, guint depth)
{
	JsonNode *out;

	if (JSON_NODE_HOLDS_OBJECT (node)) {
		JsonObject *object = json_node_get_object (node);
		g_autoptr(JsonObject) copy = json_object_new ();
		JsonObjectIter iter;
		const char *name;
		JsonNode *member;
		guint n = 0;

		if (depth >= ASTRA_PAGERDUTY_DETAILS_DEPTH_MAX)
			return astra_pagerduty_string_node ("\u2026");
		json_object_iter_init_ordered (&iter, object);
		while (json_object_iter_next_ordered (&iter, &name, &member) &&
		       n++ < ASTRA_PAGERDUTY_DETAILS_ENTRIES_MAX) {
			g_autofree char *short_name =
			    astra_utf8_truncate (name, ASTRA_PAGERDUTY_DETAILS_STRING_MAX);
			json_object_set_member (copy, short_name, astra_pagerduty_reduce (member, depth + 1));
		}
		out = json_node_alloc ();
		json_node_init_object (out, copy);
		return out;
	}
	if (JSON_NODE_HOLDS_ARRAY (node)) {
		JsonArray *array = json_node_get_array (node);
		g_autoptr(JsonArray) copy = json_array_new ();
		guint len = MIN (json_array_get_length (array), ASTRA_PAGERDUTY_DETAILS_ENTRIES_MAX);

		if (depth >= ASTRA_PAGERDUTY_DETAILS_DEPTH_MAX)
			return astra_pagerduty_string_node ("\u2026");
		for (guint i = 0; i < len; i++)
			json_array_add_element (
			    copy, astra_pagerduty_reduce (json_array_get_element (array, i), depth + 1));
		out = json_node_alloc ();
		json_node_init_array (out, copy);
		return out;
	}
	if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING) {
		g_autofree char *str =
		    astra_utf8_truncate (json_node_get_string (node), ASTRA_PAGERDUTY_DETAILS_STRING_MAX);
		return astra_pagerduty_string_node (str);
	}
	return json_node_copy (node);
}

static char *
astra_pagerduty_truncated_note (gsize event_size)
{
	return g_strdup_printf ("the event (%" G_GSIZE_FORMAT " bytes) does not fit PagerDuty's 512 KB "
				"event limit: its data is cut here",
				event_size);
}

/* the event data cut to fit: strings to 1024 characters, arrays and objects to 100 entries */
static JsonNode *
astra_pagerduty_details_reduced (JsonObject *data, gsize event_size)
{
	g_autoptr(JsonNode) data_node = json_node_init_object (json_node_alloc (), data);
	g_autoptr(JsonNode) reduced = astra_pagerduty_reduce (data_node, 0);
	g_autoptr(JsonObject) details = json_object_new ();
	g_autofree char *note = astra_pagerduty_truncated_note (event_size);
	JsonObjectIter iter;
	const char *name;
	JsonNode *member;

	json_object_set_string_member (details, ASTRA_PAGERDUTY_TRUNCATED_MEMBER, note);
	if (JSON_NODE_HOLDS_OBJECT (reduced)) {
		json_object_iter_init_ordered (&iter, json_node_get_object (reduced));
		while (json_object_iter_next_ordered (&iter, &name, &member)) {
			if (g_strcmp0 (name, ASTRA_PAGERDUTY_TRUNCATED_MEMBER) != 0)
				json_object_set_member (details, name, json_node_copy (member));
		}
	}
	return json_node_init_object (json_node_alloc (), details);
}

/* the last resort: what the view says, which is small whatever the data */
static JsonNode *
astra_pagerduty_details_from_view (AstraEventView *view, gsize event_size)
{
	g_autoptr(JsonObject) details = json_object_new ();
	g_autofree char *note = astra_pagerduty_truncated_note (event_size);

	json_object_set_string_member (details, ASTRA_PAGERDUTY_TRUNCATED_MEMBER, note);
	for (guint i = 0; i < view->fields->len; i++) {
		AstraViewField *field = g_ptr_array_index (view->fields, i);
		g_autofree char *value =
		    astra_utf8_truncate (field->value, ASTRA_PAGERDUTY_DETAILS_STRING_MAX);
		json_object_set_string_member (details, field->name, value);
	}
	if (view->detail != NULL) {
		g_autofree char *detail =
		    astra_utf8_truncate (view->detail, ASTRA_PAGERDUTY_DETAILS_STRING_MAX);
		json_object_set_string_member (details, "Detail", detail);
	}
	return json_node_init_object (json_node_alloc (), details);
}

/* the dashboard link for this event, or NULL when none is configured or it came out unusable */
static char *
astra_pagerduty_link (AstraPagerDutyPlugin *self, AstraEventView *view)
{
	return astra_plugin_dashboard_link (view, self->dashboard_url, ASTRA_PAGERDUTY_LINK_MAX, NULL);
}

static GBytes *
astra_pagerduty_serialize (JsonObject *root, GError **error)
{
	g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), root);

	return astra_json_serialize (node, error);
}

/* the payload of a trigger, the link and the client into ROOT; returns the payload (transfer none) */
static JsonObject *
astra_pagerduty_add_trigger (AstraPagerDutyPlugin *self, AstraEventView *view, JsonObject *root)
{
	AstraEvent *event = view->event;
	g_autoptr(JsonObject) payload = json_object_new ();
	g_autofree char *summary = astra_pagerduty_summary (view);
	g_autofree char *source = astra_pagerduty_source (view);
	g_autofree char *link = astra_pagerduty_link (self, view);
	JsonNode *data = json_node_init_object (json_node_alloc (), astra_event_get_data (event));

	json_object_set_string_member (payload, "summary", summary);
	json_object_set_string_member (payload, "source", source);
	json_object_set_string_member (payload, "severity",
				       astra_severity_to_string (astra_event_get_severity (event)));
	json_object_set_string_member (payload, "timestamp", view->timestamp);
	astra_pagerduty_set_line (payload, "component", astra_pagerduty_component (view));
	astra_pagerduty_set_line (payload, "group", astra_event_get_tenant (event));
	json_object_set_string_member (payload, "class", astra_event_get_type_name (event));
	json_object_set_member (payload, "custom_details", data);
	json_object_set_object_member (root, "payload", json_object_ref (payload));
	if (link != NULL) {
		g_autoptr(JsonArray) links = json_array_new ();
		g_autoptr(JsonObject) item = json_object_new ();

		json_object_set_string_member (item, "href", link);
		json_object_set_string_member (item, "text", "View in dashboard");
		json_array_add_object_element (links, g_steal_pointer (&item));
		json_object_set_array_member (root, "links", g_steal_pointer (&links));
	}
	json_object_set_string_member (root, "client", "astra-alerts");
	if (link != NULL)
		json_object_set_string_member (root, "client_url", link);
	return payload;
}

/* ROOT as bytes within PagerDuty's event limit: the data in custom_details is cut
 * when the whole would not fit, then replaced by what the view says */
static GBytes *
astra_pagerduty_serialize_within_limit (JsonObject *root,
					JsonObject *payload,
					AstraEventView *view,
					GError **error)
{
	/* the size of the event as it came, for the note that says its data was cut */
	gsize event_size = g_bytes_get_size (astra_event_get_body (view->event));
	g_autoptr(GBytes) body = astra_pagerduty_serialize (root, error);

	if (body == NULL)
		return NULL;
	if (g_bytes_get_size (body) > ASTRA_PAGERDUTY_EVENT_MAX) {
		json_object_set_member (
		    payload, "custom_details",
		    astra_pagerduty_details_reduced (astra_event_get_data (view->event), event_size));
		g_clear_pointer (&body, g_bytes_unref);
		body = astra_pagerduty_serialize (root, error);
		if (body == NULL)
			return NULL;
	}
	if (g_bytes_get_size (body) > ASTRA_PAGERDUTY_EVENT_MAX) {
		json_object_set_member (payload, "custom_details",
					astra_pagerduty_details_from_view (view, event_size));
		g_clear_pointer (&body, g_bytes_unref);
		body = astra_pagerduty_serialize (root, error);
	}
	return g_steal_pointer (&body);
}

static gboolean
astra_pagerduty_plugin_render (AstraPlugin *plugin, AstraEvent *event, AstraRequest *request, GError **error)
{
	AstraPagerDutyPlugin *self = ASTRA_PAGERDUTY_PLUGIN (plugin);
	g_autoptr(AstraEventView) view = NULL;
	g_autoptr(JsonObject) root = json_object_new ();
	g_autoptr(GBytes) body = NULL;
	g_autofree char *dedup_key = NULL;
	gboolean resolve = FALSE;

	if (self->routing_key == NULL) {
		g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
				     "routing-key is not configured");
		return FALSE;
	}
	view = astra_event_view_new (event);
	switch (astra_event_get_kind (event)) {
	case ASTRA_EVENT_KIND_AGENT_STATUS_CHANGED:
	case ASTRA_EVENT_KIND_SERVICE_TEST_FAILED:
	case ASTRA_EVENT_KIND_ALERT_TRIGGERED:
	case ASTRA_EVENT_KIND_ALERT_RESOLVED:
		if (view->dedup_key == NULL || view->dedup_key[0] == '\0') {
			g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA,
				     "%s: nothing to build a dedup_key from",
				     astra_event_get_type_name (event));
			return FALSE;
		}
		resolve = view->is_resolution;
		dedup_key = astra_pagerduty_dedup_key (view->dedup_key);
		break;
	case ASTRA_EVENT_KIND_AGENT_REGISTERED:
	case ASTRA_EVENT_KIND_SPEEDTEST_COMPLETED:
	case ASTRA_EVENT_KIND_TRACEROUTE_COMPLETED:
		if (!self->send_info_events) {
			g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_NOT_SUPPORTED,
				     "%s is informational and send-info-events is off",
				     astra_event_get_type_name (event));
			return FALSE;
		}
		/* the event id is the same on every retry: a retry of an event PagerDuty
		 * already took joins its alert instead of opening a second one */
		dedup_key = astra_pagerduty_dedup_key (astra_event_get_id (event));
		break;
	default:
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_NOT_SUPPORTED, "%s has no PagerDuty form",
			     astra_event_get_type_name (event));
		return FALSE;
	}

	json_object_set_string_member (root, "routing_key", self->routing_key);
	json_object_set_string_member (root, "event_action", resolve ? "resolve" : "trigger");
	json_object_set_string_member (root, "dedup_key", dedup_key);

	/* PagerDuty ignores the rest on resolve: send the documented minimal form */
	if (resolve) {
		body = astra_pagerduty_serialize (root, error);
	} else {
		JsonObject *payload = astra_pagerduty_add_trigger (self, view, root);
		body = astra_pagerduty_serialize_within_limit (root, payload, view, error);
	}
	if (body == NULL)
		return FALSE;
	if (g_bytes_get_size (body) > ASTRA_PAGERDUTY_EVENT_MAX) {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_TOO_LARGE,
			     "the PagerDuty event is larger than %u bytes",
			     (guint) ASTRA_PAGERDUTY_EVENT_MAX);
		return FALSE;
	}

	astra_plugin_request_post_json (request, self->url, self->user_agent, body);
	return TRUE;
}

/* RAW as one line of at most MAX_CHARS characters, the routing key replaced: should
 * PagerDuty ever quote it back, it stays out of logs and the delivery history */
static char *
astra_pagerduty_reason_line (AstraPagerDutyPlugin *self, const char *raw, gsize max_chars)
{
	g_autofree char *clean = NULL;
	g_autoptr(GString) str = NULL;

	if (raw == NULL)
		return NULL;
	/* after sanitizing, which could join a key split by control characters */
	clean = astra_text_sanitize (raw, FALSE);
	str = g_string_new (g_strstrip (clean));
	if (self->routing_key != NULL)
		g_string_replace (str, self->routing_key, "<routing key>", 0);
	if (str->len == 0)
		return NULL;
	return astra_utf8_truncate (str->str, max_chars);
}

/*
 * What PagerDuty said, from its JSON answer (a hostile body: bounded, parsed
 * strictly, never trusted): "<status>: <errors>" or "<status>: <message>",
 * e.g. "invalid event: Length of 'routing_key' is incorrect (should be 32
 * characters)"; WORD when it gives no status; WORD alone when the body says
 * nothing. One line, at most 512 characters, the routing key never repeated.
 */
static char *
astra_pagerduty_response_reason (AstraPagerDutyPlugin *self, AstraResponse *response, const char *word)
{
	g_autoptr(JsonObject) object =
		       astra_plugin_response_json_object (response, ASTRA_PAGERDUTY_RESPONSE_MAX);
	g_autoptr(GString) detail = g_string_new (NULL);
	g_autoptr(GString) reason = g_string_new (NULL);
	g_autofree char *status = NULL;
	g_autofree char *line = NULL;

	if (object != NULL) {
		JsonNode *errors = json_object_get_member (object, "errors");

		status =
		    astra_pagerduty_reason_line (self, astra_plugin_json_get_string (object, "status"), 64);
		if (errors != NULL && JSON_NODE_HOLDS_ARRAY (errors)) {
			JsonArray *array = json_node_get_array (errors);
			for (guint i = 0; i < json_array_get_length (array); i++) {
				JsonNode *element = json_array_get_element (array, i);
				g_autofree char *error = NULL;

				if (detail->len > ASTRA_PAGERDUTY_REASON_MAX * 4)
					break;
				if (!JSON_NODE_HOLDS_VALUE (element) ||
				    json_node_get_value_type (element) != G_TYPE_STRING)
					continue;
				error = astra_pagerduty_reason_line (self, json_node_get_string (element),
								     ASTRA_PAGERDUTY_REASON_MAX);
				if (error != NULL)
					g_string_append_printf (detail, "%s%s", detail->len > 0 ? "; " : "",
								error);
			}
		}
		if (detail->len == 0) {
			g_autofree char *message = astra_pagerduty_reason_line (
			    self, astra_plugin_json_get_string (object, "message"),
			    ASTRA_PAGERDUTY_REASON_MAX);
			if (message != NULL)
				g_string_append (detail, message);
		}
	}
	g_string_append (reason, status != NULL ? status : word);
	if (detail->len > 0)
		g_string_append_printf (reason, ": %s", detail->str);
	line = astra_text_line (reason->str, TRUE, ASTRA_PAGERDUTY_REASON_MAX);
	return line != NULL ? g_steal_pointer (&line) : g_strdup (word);
}

static AstraOutcome
astra_pagerduty_plugin_classify (AstraPlugin *plugin, AstraResponse *response)
{
	AstraPagerDutyPlugin *self = ASTRA_PAGERDUTY_PLUGIN (plugin);
	guint status = astra_response_get_status (response);
	AstraOutcome outcome;

	switch (status) {
	case 400: {
		g_autofree char *reason = astra_pagerduty_response_reason (self, response, "invalid event");
		astra_response_set_reason (response, reason);
		return ASTRA_OUTCOME_FAILED;
	}
	case 429: {
		/* the event was not taken; PagerDuty sends no Retry-After today, so wait as its docs say */
		double after = astra_response_parse_retry_after_header (response);
		g_autofree char *reason = astra_pagerduty_response_reason (self, response, "rate limited");
		astra_response_set_retry_after (response,
						after >= 0 ? after : ASTRA_PAGERDUTY_RATE_LIMIT_BACKOFF);
		astra_response_set_reason (response, reason);
		return ASTRA_OUTCOME_RETRY;
	}
	/* the Events API takes no credentials and has one endpoint: these mean a wrong url (or
	 * a proxy in the way), which the next attempt would meet again; not "gone", so the
	 * deliveries stay in the history to redeliver once the url is fixed */
	case 401:
	case 403:
		astra_response_set_reason (response, status == 401 ? "unauthorized (HTTP 401): check url"
								   : "forbidden (HTTP 403): check url");
		return ASTRA_OUTCOME_FAILED;
	case 404:
		astra_response_set_reason (response, "not found (HTTP 404): check url, the Events API v2 "
						     "endpoint is " ASTRA_PAGERDUTY_DEFAULT_URL);
		return ASTRA_OUTCOME_FAILED;
	case 413:
		astra_response_set_reason (response, "event too large (HTTP 413)");
		return ASTRA_OUTCOME_FAILED;
	default:
		break;
	}
	outcome = ASTRA_PLUGIN_CLASS (astra_pagerduty_plugin_parent_class)->classify (plugin, response);
	if (status >= 500 && status < 600) {
		g_autofree char *detail = astra_pagerduty_response_reason (self, response, "server error");
		g_autofree char *reason = g_strdup_printf ("HTTP %u: %s", status, detail);
		astra_response_set_reason (response, reason);
	}
	return outcome;
}

static void
astra_pagerduty_plugin_finalize (GObject *object)
{
	AstraPagerDutyPlugin *self = ASTRA_PAGERDUTY_PLUGIN (object);

	g_free (self->routing_key);
	g_free (self->url);
	g_free (self->dashboard_url);
	g_free (self->user_agent);
	G_OBJECT_CLASS (astra_pagerduty_plugin_parent_class)->finalize (object);
}

static void
astra_pagerduty_plugin_class_init (AstraPagerDutyPluginClass *klass)
{
	AstraPluginClass *plugin_class = ASTRA_PLUGIN_CLASS (klass);

	G_OBJECT_CLASS (klass)->finalize = astra_pagerduty_plugin_finalize;
	plugin_class->config_keys = astra_pagerduty_keys;
	plugin_class->configure = astra_pagerduty_plugin_configure;
	plugin_class->render = astra_pagerduty_plugin_render;
	plugin_class->classify = astra_pagerduty_plugin_classify;
}

static void
astra_pagerduty_plugin_init (AstraPagerDutyPlugin *self)
{
	self->user_agent = g_strdup_printf ("astra-alerts/%s (pagerduty)", astra_version_string ());
}
