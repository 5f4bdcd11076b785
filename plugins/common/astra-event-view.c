/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "astra-event-view.h"
#include "astra-plugin-util.h"

#define ASTRA_ELLIPSIS "\u2026"

gsize
astra_utf8_length (const char *str)
{
	return str != NULL ? (gsize) g_utf8_strlen (str, -1) : 0;
}

char *
astra_utf8_truncate (const char *str, gsize max_chars)
{
	const char *end;

	if (str == NULL)
		return g_strdup ("");
	if (astra_utf8_length (str) <= max_chars)
		return g_strdup (str);
	if (max_chars == 0)
		return g_strdup ("");
	/* room for the ellipsis, which is one character too */
	end = g_utf8_offset_to_pointer (str, (glong) max_chars - 1);
	{
		GString *out = g_string_new_len (str, end - str);
		g_string_append (out, ASTRA_ELLIPSIS);
		return g_string_free (out, FALSE);
	}
}

static gboolean
astra_unichar_is_unsafe (gunichar c)
{
	/* C0 and C1 controls, DEL, and the bidi embeddings and isolates that can make a
	 * hostname read as something else in a chat client */
	return c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f) || (c >= 0x202a && c <= 0x202e) ||
	       (c >= 0x2066 && c <= 0x2069) || c == 0x200e || c == 0x200f || c == 0x061c;
}

char *
astra_text_sanitize (const char *str, gboolean keep_newlines)
{
	g_autofree char *valid = NULL;
	GString *out;

	if (str == NULL)
		return g_strdup ("");
	valid = g_utf8_make_valid (str, -1);
	out = g_string_sized_new (strlen (valid));
	for (const char *p = valid; *p != '\0'; p = g_utf8_next_char (p)) {
		gunichar c = g_utf8_get_char (p);

		/* CRLF is one line end; the Unicode line and paragraph separators are line ends too */
		if (c == '\r' && p[1] == '\n')
			continue;
		if (c == 0x2028 || c == 0x2029)
			c = '\n';

		if (c == '\n' && keep_newlines) {
			g_string_append_c (out, '\n');
		} else if (c == '\t' || c == '\n' || c == '\r') {
			g_string_append_c (out, ' ');
		} else if (!astra_unichar_is_unsafe (c)) {
			g_string_append_unichar (out, c);
		}
	}
	return g_string_free (out, FALSE);
}

guint32
astra_event_tone_rgb (AstraEventTone tone)
{
	switch (tone) {
	case ASTRA_EVENT_TONE_PROBLEM:
		return 0xE01E5A;
	case ASTRA_EVENT_TONE_WARNING:
		return 0xECB22E;
	case ASTRA_EVENT_TONE_RECOVERY:
		return 0x2EB67D;
	case ASTRA_EVENT_TONE_INFO:
	default:
		return 0x1D9BD1;
	}
}

const char *
astra_event_tone_to_string (AstraEventTone tone)
{
	switch (tone) {
	case ASTRA_EVENT_TONE_PROBLEM:
		return "problem";
	case ASTRA_EVENT_TONE_WARNING:
		return "warning";
	case ASTRA_EVENT_TONE_RECOVERY:
		return "recovery";
	case ASTRA_EVENT_TONE_INFO:
	default:
		return "info";
	}
}

/* the schemas require what titles and keys are built from; "?" if one ever is missing */
static const char *
astra_view_or (const char *str)
{
	return str != NULL ? str : "?";
}

static const char *
astra_view_string (JsonObject *data, const char *member)
{
	return astra_plugin_json_get_string (data, member);
}

/* a member as display text: strings as they are, numbers as JavaScript prints them, booleans yes/no */
static char *
astra_view_text (JsonObject *data, const char *member)
{
	JsonNode *node = json_object_get_member (data, member);
	GType type;

	if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
		return NULL;
	type = json_node_get_value_type (node);
	if (type == G_TYPE_STRING)
		return astra_text_sanitize (json_node_get_string (node), FALSE);
	if (type == G_TYPE_BOOLEAN)
		return g_strdup (json_node_get_boolean (node) ? "yes" : "no");
	if (type == G_TYPE_INT64 || type == G_TYPE_DOUBLE) {
		GString *str = g_string_new (NULL);
		astra_json_format_number (str, json_node_get_double (node));
		return g_string_free (str, FALSE);
	}
	return NULL;
}

static void
astra_view_add (AstraEventView *view, const char *name, char *value, gboolean is_short)
{
	AstraViewField *field;

	if (value == NULL || value[0] == '\0') {
		g_free (value);
		return;
	}
	field = g_new0 (AstraViewField, 1);
	field->name = name;
	field->value = value;
	field->is_short = is_short;
	g_ptr_array_add (view->fields, field);
}

static void
astra_view_add_member (AstraEventView *view, const char *name, JsonObject *data, const char *member,
		       const char *unit)
{
	g_autofree char *text = astra_view_text (data, member);

	if (text == NULL)
		return;
	astra_view_add (view, name, unit != NULL ? g_strdup_printf ("%s %s", text, unit) : g_steal_pointer (&text),
			TRUE);
}

static void
astra_view_field_free (AstraViewField *field)
{
	g_free (field->value);
	g_free (field);
}

/* the agent fields every agent-related event carries */
static void
astra_view_add_agent (AstraEventView *view, JsonObject *data)
{
	astra_view_add_member (view, "Hostname", data, "hostname", NULL);
	astra_view_add_member (view, "Agent", data, "agent_id", NULL);
	astra_view_add_member (view, "Tenant", data, "tenant_id", NULL);
}

static void
astra_view_status_changed (AstraEventView *view, JsonObject *data, const char *who)
{
	const char *current = astra_view_string (data, "current_status");
	g_autofree char *previous = astra_view_text (data, "previous_status");

	view->is_resolution = g_strcmp0 (current, "online") == 0;
	view->tone = view->is_resolution ? ASTRA_EVENT_TONE_RECOVERY : ASTRA_EVENT_TONE_PROBLEM;
	view->title = g_strdup_printf (view->is_resolution ? "Agent back online: %s" : "Agent offline: %s", who);
	astra_view_add (view, "Status", g_strdup_printf ("%s \u2192 %s", previous != NULL ? previous : "?",
							 current != NULL ? current : "?"),
			TRUE);
	astra_view_add_agent (view, data);
	astra_view_add_member (view, "Last seen", data, "last_seen", NULL);
	view->dedup_key = g_strdup_printf ("%s/%s/status", astra_view_or (astra_view_string (data, "tenant_id")),
					   astra_view_or (view->agent_id));
}

static void
astra_view_traceroute (AstraEventView *view, JsonObject *data, const char *who)
{
	g_autofree char *target = astra_view_text (data, "target");
	gboolean reached = json_object_get_boolean_member_with_default (data, "destination_reached", TRUE);
	gboolean changed = json_object_get_boolean_member_with_default (data, "path_changed", FALSE);
	JsonNode *hops_node = json_object_get_member (data, "hops");
	g_autoptr(GString) hops = g_string_new (NULL);

	view->tone = reached ? ASTRA_EVENT_TONE_INFO : ASTRA_EVENT_TONE_WARNING;
	view->title = g_strdup_printf ("Traceroute from %s to %s%s", who, astra_view_or (target),
				       !reached ? ": destination not reached" : changed ? ": path changed" : "");
	astra_view_add (view, "Target", g_strdup (target), TRUE);
	astra_view_add_member (view, "Hops", data, "hop_count", NULL);
	astra_view_add_member (view, "Reached", data, "destination_reached", NULL);
	astra_view_add_member (view, "Path changed", data, "path_changed", NULL);
	astra_view_add_agent (view, data);

	/* one line per hop, "*" for a hop that did not answer, as traceroute prints them */
	if (hops_node != NULL && JSON_NODE_HOLDS_ARRAY (hops_node)) {
		JsonArray *array = json_node_get_array (hops_node);
		for (guint i = 0; i < json_array_get_length (array); i++) {
			JsonNode *hop_node = json_array_get_element (array, i);
			JsonObject *hop;
			g_autofree char *number = NULL;
			g_autofree char *address = NULL;
			g_autofree char *rtt = NULL;

			if (!JSON_NODE_HOLDS_OBJECT (hop_node))
				continue;
			hop = json_node_get_object (hop_node);
			number = astra_view_text (hop, "hop");
			address = astra_view_text (hop, "address");
			rtt = astra_view_text (hop, "rtt_ms");
			g_string_append_printf (hops, "%s%s  %s%s%s", hops->len > 0 ? "\n" : "", number != NULL ? number : "?",
						address != NULL ? address : "*", rtt != NULL ? "  " : "",
						rtt != NULL ? rtt : "");
			if (rtt != NULL)
				g_string_append (hops, " ms");
		}
	}
	if (hops->len > 0)
		view->detail = g_strdup (hops->str);
}

static void
astra_view_alert (AstraEventView *view, JsonObject *data, gboolean resolved)
{
	g_autofree char *rule = astra_view_text (data, "rule");
	g_autofree char *severity = astra_view_text (data, "severity");
	g_autofree char *summary = astra_text_sanitize (astra_view_string (data, "summary"), FALSE);
	g_autofree char *description = astra_text_sanitize (astra_view_string (data, "description"), TRUE);
	g_autofree char *value = astra_view_text (data, "value");
	g_autofree char *condition = astra_view_text (data, "condition");
	JsonNode *labels_node = json_object_get_member (data, "labels");
	const char *sev = astra_view_string (data, "severity");

	view->is_resolution = resolved;
	if (resolved)
		view->tone = ASTRA_EVENT_TONE_RECOVERY;
	else if (g_strcmp0 (sev, "critical") == 0 || g_strcmp0 (sev, "error") == 0)
		view->tone = ASTRA_EVENT_TONE_PROBLEM;
	else if (g_strcmp0 (sev, "warning") == 0)
		view->tone = ASTRA_EVENT_TONE_WARNING;
	else
		view->tone = ASTRA_EVENT_TONE_INFO;
	if (resolved) {
		view->title = g_strdup_printf ("Resolved: %s", summary[0] != '\0' ? summary : rule);
	} else {
		g_autofree char *upper = g_ascii_strup (severity != NULL ? severity : "alert", -1);
		view->title = g_strdup_printf ("%s: %s", upper, summary[0] != '\0' ? summary : rule);
	}

	astra_view_add (view, "Rule", g_strdup (rule), TRUE);
	astra_view_add (view, "Severity", g_strdup (severity), TRUE);
	astra_view_add (view, "Value", g_strdup_printf ("%s (%s)", value != NULL ? value : "?",
							condition != NULL ? condition : "?"),
			TRUE);
	astra_view_add_member (view, "Threshold", data, "threshold", NULL);
	astra_view_add_member (view, "Metric", data, "metric", NULL);
	astra_view_add_agent (view, data);
	if (labels_node != NULL && JSON_NODE_HOLDS_OBJECT (labels_node)) {
		JsonObject *labels = json_node_get_object (labels_node);
		g_autoptr(GList) members = json_object_get_members (labels);
		g_autoptr(GString) text = g_string_new (NULL);
		for (GList *l = members; l != NULL; l = l->next) {
			g_autofree char *v = astra_view_text (labels, l->data);
			g_autofree char *k = astra_text_sanitize (l->data, FALSE);
			g_string_append_printf (text, "%s%s=%s", text->len > 0 ? ", " : "", k, v != NULL ? v : "");
		}
		astra_view_add (view, "Labels", g_strdup (text->str), FALSE);
	}
	astra_view_add_member (view, "Started", data, "started_at", NULL);
	if (resolved) {
		astra_view_add_member (view, "Resolved", data, "resolved_at", NULL);
		astra_view_add_member (view, "Duration", data, "duration_s", "s");
	}
	/* the title already says the summary: the detail adds only what the description says */
	if (description[0] != '\0')
		view->detail = g_strdup (description);
	view->dedup_key = g_strdup (astra_view_string (data, "alert_id"));
}

AstraEventView *
astra_event_view_new (AstraEvent *event)
{
	AstraEventView *view = g_new0 (AstraEventView, 1);
	JsonObject *data = astra_event_get_data (event);
	g_autofree char *who = NULL;

	view->event = g_object_ref (event);
	view->fields = g_ptr_array_new_with_free_func ((GDestroyNotify) astra_view_field_free);
	view->timestamp = astra_event_get_timestamp_string (event);
	view->agent_id = astra_view_string (data, "agent_id");
	view->hostname = astra_view_string (data, "hostname");
	view->tone = ASTRA_EVENT_TONE_INFO;
	/* people know hosts by name; the id is the fallback */
	who = astra_text_sanitize (view->hostname != NULL ? view->hostname
				   : view->agent_id != NULL ? view->agent_id
				   : "unknown agent",
				   FALSE);

	switch (astra_event_get_kind (event)) {
	case ASTRA_EVENT_KIND_AGENT_STATUS_CHANGED:
		astra_view_status_changed (view, data, who);
		break;
	case ASTRA_EVENT_KIND_AGENT_REGISTERED:
		view->title = g_strdup_printf ("New agent registered: %s", who);
		astra_view_add_agent (view, data);
		astra_view_add_member (view, "Version", data, "version", NULL);
		astra_view_add_member (view, "Address", data, "address", NULL);
		break;
	case ASTRA_EVENT_KIND_SPEEDTEST_COMPLETED: {
		g_autofree char *down = astra_view_text (data, "download_mbps");
		g_autofree char *up = astra_view_text (data, "upload_mbps");
		view->title = g_strdup_printf ("Speed test on %s: %s \u2193 / %s \u2191 Mbps", who,
					       down != NULL ? down : "?", up != NULL ? up : "?");
		astra_view_add_member (view, "Download", data, "download_mbps", "Mbps");
		astra_view_add_member (view, "Upload", data, "upload_mbps", "Mbps");
		astra_view_add_member (view, "Ping", data, "ping_ms", "ms");
		astra_view_add_member (view, "Jitter", data, "jitter_ms", "ms");
		astra_view_add_member (view, "Server", data, "server", NULL);
		astra_view_add_member (view, "ISP", data, "isp", NULL);
		astra_view_add_agent (view, data);
		break;
	}
	case ASTRA_EVENT_KIND_TRACEROUTE_COMPLETED:
		astra_view_traceroute (view, data, who);
		break;
	case ASTRA_EVENT_KIND_SERVICE_TEST_FAILED: {
		g_autofree char *test = astra_view_text (data, "test");
		g_autofree char *kind = astra_view_text (data, "kind");
		view->tone = ASTRA_EVENT_TONE_PROBLEM;
		view->title = g_strdup_printf ("Service test failed: %s (%s) from %s", astra_view_or (test),
					       astra_view_or (kind), who);
		astra_view_add (view, "Test", g_strdup (test), TRUE);
		astra_view_add (view, "Kind", g_strdup (kind), TRUE);
		astra_view_add_member (view, "Target", data, "target", NULL);
		astra_view_add_member (view, "Status code", data, "status_code", NULL);
		astra_view_add_member (view, "Response time", data, "response_ms", "ms");
		astra_view_add_agent (view, data);
		view->detail = astra_text_sanitize (astra_view_string (data, "error"), TRUE);
		view->dedup_key = g_strdup_printf ("%s/%s/test/%s", astra_view_or (astra_view_string (data, "tenant_id")),
						   astra_view_or (view->agent_id), astra_view_or (astra_view_string (data, "test")));
		break;
	}
	case ASTRA_EVENT_KIND_ALERT_TRIGGERED:
		astra_view_alert (view, data, FALSE);
		break;
	case ASTRA_EVENT_KIND_ALERT_RESOLVED:
		astra_view_alert (view, data, TRUE);
		break;
	default:
		view->title = g_strdup (astra_event_get_type_name (event));
		break;
	}
	view->text = g_strdup (view->title);
	return view;
}

void
astra_event_view_free (AstraEventView *view)
{
	if (view == NULL)
		return;
	g_object_unref (view->event);
	g_free (view->title);
	g_free (view->text);
	g_free (view->detail);
	g_ptr_array_unref (view->fields);
	g_free (view->dedup_key);
	g_free (view);
}

char *
astra_event_view_expand_template (AstraEventView *view, const char *template)
{
	JsonObject *data = astra_event_get_data (view->event);
	GString *out = g_string_new (NULL);

	for (const char *p = template; *p != '\0'; p++) {
		const char *end;
		g_autofree char *name = NULL;
		g_autofree char *value = NULL;

		if (*p != '{' || (end = strchr (p, '}')) == NULL) {
			g_string_append_c (out, *p);
			continue;
		}
		name = g_strndup (p + 1, (gsize) (end - p - 1));
		if (g_strcmp0 (name, "event") == 0)
			value = g_strdup (astra_event_get_type_name (view->event));
		else if (g_strcmp0 (name, "id") == 0)
			value = g_strdup (astra_event_get_id (view->event));
		else if (g_strcmp0 (name, "timestamp") == 0)
			value = g_strdup (view->timestamp);
		else
			value = astra_view_text (data, name);
		if (value != NULL) {
			g_autofree char *escaped = g_uri_escape_string (value, NULL, FALSE);
			g_string_append (out, escaped);
		}
		p = end;
	}
	return g_string_free (out, FALSE);
}
