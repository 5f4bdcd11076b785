/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "astra-plugin-util.h"

gboolean
astra_plugin_key_file_get_optional (GKeyFile *keyfile,
				    const char *group,
				    const char *key,
				    AstraPluginKeyFlags flags,
				    char **value,
				    GError **error)
{
	g_autofree char *str = NULL;

	*value = NULL;
	if (!g_key_file_has_key (keyfile, group, key, NULL))
		return TRUE;
	if ((flags & ASTRA_PLUGIN_KEY_FLAG_RAW) != 0) {
		str = g_key_file_get_value (keyfile, group, key, NULL);
	} else {
		g_autoptr(GError) error_local = NULL;

		str = g_key_file_get_string (keyfile, group, key, &error_local);
		if (str == NULL) {
			g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG, "%s: %s", key,
				     error_local->message);
			return FALSE;
		}
	}
	if (str != NULL && (flags & ASTRA_PLUGIN_KEY_FLAG_STRIP) != 0)
		g_strstrip (str);
	if ((flags & ASTRA_PLUGIN_KEY_FLAG_NOT_EMPTY) != 0 && (str == NULL || str[0] == '\0')) {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG, "%s: is empty", key);
		return FALSE;
	}
	*value = g_steal_pointer (&str);
	return TRUE;
}

char *
astra_plugin_key_file_get_required_secret (GKeyFile *keyfile,
					   const char *group,
					   const char *key,
					   GError **error)
{
	g_autoptr(GError) error_local = NULL;
	char *value = astra_key_file_get_secret (keyfile, group, key, &error_local);

	if (value != NULL)
		return value;
	if (error_local != NULL)
		g_propagate_error (error, g_steal_pointer (&error_local));
	else
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG, "%s (or %s-file) is required",
			     key, key);
	return NULL;
}

char *
astra_plugin_key_file_get_url (GKeyFile *keyfile, const char *group, GError **error)
{
	g_autofree char *url = astra_plugin_key_file_get_required_secret (keyfile, group, "url", error);

	if (url == NULL)
		return NULL;
	/* now, so a typo is a config error; the URL is the credential, never echoed */
	if (!astra_plugin_check_url ("url", url, error))
		return NULL;
	return g_steal_pointer (&url);
}

gboolean
astra_plugin_check_url (const char *key, const char *url, GError **error)
{
	g_autoptr(AstraRequest) probe = astra_request_new ();
	g_autoptr(GError) error_local = NULL;

	astra_request_set_url (probe, url);
	if (!astra_request_validate (probe, &error_local)) {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG, "%s: %s", key,
			     error_local->message);
		return FALSE;
	}
	return TRUE;
}

/* a made-up alert.triggered (critical latency) with most members a template may name */
static AstraEvent *
astra_plugin_sample_event (GError **error)
{
	g_autoptr(JsonObject) data = json_object_new ();
	g_autoptr(JsonObject) labels = json_object_new ();

	json_object_set_string_member (labels, "target", "8.8.8.8");
	json_object_set_string_member (data, "alert_id", "alt_01JFA3G2M8Q4X7ZKD5N0C6B1YR");
	json_object_set_string_member (data, "rule", "high-latency");
	json_object_set_string_member (data, "severity", "critical");
	json_object_set_string_member (data, "state", "firing");
	json_object_set_string_member (data, "metric", "latency_ms");
	json_object_set_double_member (data, "value", 231.4);
	json_object_set_int_member (data, "threshold", 200);
	json_object_set_string_member (data, "condition", "> 200");
	json_object_set_object_member (data, "labels", g_steal_pointer (&labels));
	json_object_set_string_member (data, "summary", "Latency from server-01 to 8.8.8.8 is 231.4 ms");
	json_object_set_string_member (data, "started_at", "2025-12-17T10:18:00Z");
	json_object_set_string_member (data, "agent_id", "agent-123");
	json_object_set_string_member (data, "hostname", "server-01");
	json_object_set_string_member (data, "tenant_id", "tenant-abc");
	/* what service tests and traceroutes name */
	json_object_set_string_member (data, "target", "8.8.8.8");
	json_object_set_string_member (data, "test", "intranet-login");
	return astra_event_new (ASTRA_EVENT_KIND_ALERT_TRIGGERED, G_GINT64_CONSTANT (1765966800), data,
				error);
}

gboolean
astra_plugin_key_file_get_dashboard_url (GKeyFile *keyfile,
					 const char *group,
					 gsize max_bytes,
					 char **template,
					 GError **error)
{
	g_autofree char *value = NULL;
	g_autofree char *url = NULL;
	g_autoptr(AstraEvent) sample = NULL;
	g_autoptr(AstraEventView) view = NULL;
	g_autoptr(GError) error_local = NULL;

	*template = NULL;
	if (!astra_plugin_key_file_get_optional (keyfile, group, "dashboard-url",
						 ASTRA_PLUGIN_KEY_FLAG_RAW | ASTRA_PLUGIN_KEY_FLAG_STRIP |
						     ASTRA_PLUGIN_KEY_FLAG_NOT_EMPTY,
						 &value, error))
		return FALSE;
	if (value == NULL)
		return TRUE;
	/* GKeyFile did not check the raw value, and links end up in JSON bodies */
	if (!g_utf8_validate (value, -1, NULL)) {
		g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
				     "dashboard-url: not valid UTF-8");
		return FALSE;
	}
	sample = astra_plugin_sample_event (&error_local);
	if (sample == NULL) {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_FAILED,
			     "dashboard-url: cannot build a sample event: %s", error_local->message);
		return FALSE;
	}
	view = astra_event_view_new (sample);
	url = astra_event_view_expand_template (view, value);
	if (!astra_plugin_check_url ("dashboard-url", url, &error_local)) {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG, "%s%s", error_local->message,
			     strchr (value, '{') != NULL ? " (with sample values for the placeholders)" : "");
		return FALSE;
	}
	if (strlen (url) > max_bytes) {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
			     "dashboard-url: longer than %" G_GSIZE_FORMAT " bytes", max_bytes);
		return FALSE;
	}
	*template = g_steal_pointer (&value);
	return TRUE;
}

char *
astra_plugin_dashboard_link (AstraEventView *view,
			     const char *template,
			     gsize max_bytes,
			     AstraPluginLink *result)
{
	AstraPluginLink dummy;
	g_autofree char *link = NULL;

	if (result == NULL)
		result = &dummy;
	if (template == NULL) {
		*result = ASTRA_PLUGIN_LINK_NONE;
		return NULL;
	}
	/* event values are URI-escaped into it, so a long hostname makes a long link */
	link = astra_event_view_expand_template (view, template);
	if (strlen (link) > max_bytes) {
		*result = ASTRA_PLUGIN_LINK_TOO_LONG;
		return NULL;
	}
	/* the template was tried at configure time; a link never stops a message, so drop an odd one */
	if (!astra_plugin_check_url ("dashboard-url", link, NULL)) {
		*result = ASTRA_PLUGIN_LINK_INVALID;
		return NULL;
	}
	*result = ASTRA_PLUGIN_LINK_OK;
	return g_steal_pointer (&link);
}

void
astra_plugin_request_post_json (AstraRequest *request, const char *url, const char *user_agent, GBytes *body)
{
	astra_request_set_method (request, "POST");
	astra_request_set_url (request, url);
	astra_request_set_header (request, "User-Agent", user_agent);
	astra_request_set_body (request, body, "application/json");
}

JsonObject *
astra_plugin_response_json_object (AstraResponse *response, gsize max_bytes)
{
	GBytes *body = astra_response_get_body (response);
	g_autoptr(JsonNode) root = NULL;
	gsize len = 0;
	const char *data = body != NULL ? g_bytes_get_data (body, &len) : NULL;

	if (data == NULL || len == 0 || len > max_bytes)
		return NULL;
	root = astra_json_parse (data, len, NULL);
	if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
		return NULL;
	return json_object_ref (json_node_get_object (root));
}

const char *
astra_plugin_json_get_string (JsonObject *object, const char *member)
{
	JsonNode *node = object != NULL ? json_object_get_member (object, member) : NULL;

	if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
		return NULL;
	return json_node_get_string (node);
}

char *
astra_text_line (const char *str, gboolean strip, gsize max_chars)
{
	g_autofree char *clean = NULL;

	if (str == NULL)
		return NULL;
	clean = astra_text_sanitize (str, FALSE);
	if (strip) {
		g_strstrip (clean);
		if (clean[0] == '\0')
			return NULL;
	}
	return astra_utf8_truncate (clean, max_chars);
}
