/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The PagerDuty Events API v2 plugin, built from its static library (no
 * dlopen): configuration, the incident lifecycle (trigger and resolve with a
 * stable dedup_key), rendering of every event type against golden files,
 * every documented limit under hostile input, and the classification of
 * every response PagerDuty gives.
 *
 * Golden files: tests/golden/pagerduty/<type>.http (see the README there).
 * After an intended change, regenerate them with
 *
 *   ASTRA_UPDATE_GOLDEN=1 meson test -C build pagerduty
 *
 * and review the diff before committing.
 */

#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "astra-check-common.h"
#include "astra-event-view.h"
#include "astra-pagerduty-plugin.h"

#define TEST_GROUP "webhook oncall"
/* 32 letters and digits, like a real Integration Key */
#define TEST_KEY "e93facc04764012d7bfb002500d5d1a6"
#define TEST_DEFAULT_URL "https://events.pagerduty.com/v2/enqueue"
#define TEST_URL "http://127.0.0.1:8479/v2/enqueue"
#define TEST_DASHBOARD "https://dash.example.net/agents/{agent_id}?tenant={tenant_id}"
/* ids are random: a fixed one keeps what is derived from it stable */
#define TEST_EVENT_ID "evt_01JFA3G2M8Q4X7ZKD5N0C6B1YR"

/* PagerDuty's documented limits, and the plugin's own where PagerDuty documents none */
#define LIMIT_EVENT_BYTES (512 * 1000)
#define LIMIT_DEDUP_KEY 255
#define LIMIT_SUMMARY 1024
#define LIMIT_SHORT 255
#define LIMIT_LINK 8192
#define LIMIT_REASON 512

/* the keys of a configuration with everything on: every event type renders */
#define KEYS_FULL "routing-key = " TEST_KEY "\nsend-info-events = true\ndashboard-url = " TEST_DASHBOARD "\n"

static const AstraCheckPlugin pagerduty = { "pagerduty", TEST_GROUP, astra_pagerduty_plugin_get_type, NULL };

/* the request's body parsed back with the strict parser */
static JsonObject *
body_object (AstraRequest *request)
{
	g_autoptr(JsonNode) root = astra_check_parse_body (request);

	return json_object_ref (json_node_get_object (root));
}

static char *
serialize_object (JsonObject *object)
{
	g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), object);
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) bytes = astra_json_serialize (node, &error);

	ck_assert_msg (bytes != NULL, "%s", error != NULL ? error->message : "?");
	return g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
}

/* configuration */

START_TEST (test_config_keys)
{
	g_autoptr(AstraPlugin) plugin = astra_check_plugin_new (&pagerduty);
	static const char *const expected[] = { "routing-key",      "routing-key-file", "url",
						"send-info-events", "dashboard-url",    NULL };

	astra_check_assert_config_keys (plugin, expected);
}
END_TEST

START_TEST (test_routing_key_required)
{
	g_autofree char *msg =
	    astra_check_configure_error (&pagerduty, "url = " TEST_URL "\n", "routing-key");

	astra_assert_contains (msg, "required");
}
END_TEST

START_TEST (test_routing_key_empty)
{
	g_autofree char *msg = astra_check_configure_error (&pagerduty, "routing-key =\n", "routing-key");

	astra_assert_contains (msg, "empty");
}
END_TEST

START_TEST (test_routing_key_inline)
{
	g_autoptr(AstraPlugin) plugin =
		       astra_check_configure_ok (&pagerduty, "routing-key = " TEST_KEY "\n");
	g_autoptr(AstraEvent) event = astra_check_fixture_event ("alert.triggered", TEST_EVENT_ID);
	g_autoptr(AstraRequest) request = astra_check_render (plugin, event);
	g_autoptr(JsonObject) body = body_object (request);

	ck_assert_str_eq (astra_check_get_string (body, "routing_key"), TEST_KEY);
	/* the default endpoint */
	ck_assert_str_eq (astra_request_get_url (request), TEST_DEFAULT_URL);
}
END_TEST

START_TEST (test_routing_key_file)
{
	/* the final newline editors add is not part of the key */
	g_autofree char *keys =
	    astra_check_secret_file_keys ("routing-key", "oncall.key", TEST_KEY "\n", 0600, NULL);
	g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (&pagerduty, keys);
	g_autoptr(AstraEvent) event = astra_check_fixture_event ("alert.triggered", TEST_EVENT_ID);
	g_autoptr(AstraRequest) request = astra_check_render (plugin, event);
	g_autoptr(JsonObject) body = body_object (request);

	ck_assert_str_eq (astra_check_get_string (body, "routing_key"), TEST_KEY);
}
END_TEST

START_TEST (test_routing_key_file_readable_by_others)
{
	g_autofree char *path = NULL;
	g_autofree char *keys =
	    astra_check_secret_file_keys ("routing-key", "oncall.key", TEST_KEY "\n", 0644, &path);
	g_autofree char *msg = astra_check_configure_error (&pagerduty, keys, "routing-key-file");

	astra_assert_contains (msg, path);
	astra_assert_contains (msg, "readable by others");
	astra_assert_not_contains (msg, TEST_KEY);
}
END_TEST

START_TEST (test_routing_key_file_missing)
{
	g_autofree char *path = astra_check_tmp_path ("nothing-here");
	g_autofree char *keys = g_strdup_printf ("routing-key-file = %s\n", path);
	g_autofree char *msg = astra_check_configure_error (&pagerduty, keys, "routing-key-file");

	astra_assert_contains (msg, path);
}
END_TEST

START_TEST (test_routing_key_file_empty)
{
	g_autofree char *keys = astra_check_secret_file_keys ("routing-key", "oncall.key", "\n", 0600, NULL);
	g_autofree char *msg = astra_check_configure_error (&pagerduty, keys, "routing-key-file");

	astra_assert_contains (msg, "empty");
}
END_TEST

START_TEST (test_routing_key_and_file)
{
	g_autofree char *file_keys =
	    astra_check_secret_file_keys ("routing-key", "oncall.key", TEST_KEY "\n", 0600, NULL);
	g_autofree char *keys = g_strconcat ("routing-key = " TEST_KEY "\n", file_keys, NULL);
	g_autofree char *msg = astra_check_configure_error (&pagerduty, keys, "routing-key");

	astra_assert_contains (msg, "both");
	astra_assert_not_contains (msg, TEST_KEY);
}
END_TEST

/* each carries S3CR3T, which no error may echo */
static const char *const bad_routing_keys[] = {
	"S3CR3Tacc04764012d7bfb002500d5d",         /* 31 */
	"S3CR3Tacc04764012d7bfb002500d5d1a",       /* 33 */
	"S3CR3T-cc04764012d7bfb002500d5d1",        /* 32, with a dash */
	"S3CR3Tacc0476 012d7bfb002500d5d1",        /* 32, with a space */
	"S3CR3Tacc04764012d7bfb002500d5\xc3\xa9",  /* 32 bytes, 31 characters, one an e-acute */
	"S3CR3Tacc04764012d7bfb002500d5d\xc3\xa9", /* 32 characters, one an e-acute */
	"S3CR3T",
};

START_TEST (test_routing_key_invalid)
{
	g_autofree char *keys = g_strdup_printf ("routing-key = %s\n", bad_routing_keys[_i]);
	g_autofree char *msg = astra_check_configure_error (&pagerduty, keys, "routing-key");

	astra_assert_contains (msg, "32");
	astra_assert_not_contains (msg, "S3CR3T");
}
END_TEST

START_TEST (test_routing_key_file_invalid)
{
	g_autofree char *keys = astra_check_secret_file_keys (
	    "routing-key", "oncall.key", "S3CR3Tacc04764012d7bfb002500d5d\n", 0600, NULL);
	g_autofree char *msg = astra_check_configure_error (&pagerduty, keys, "routing-key-file");

	astra_assert_contains (msg, "32");
	astra_assert_not_contains (msg, "S3CR3T");
}
END_TEST

START_TEST (test_url_override)
{
	g_autofree char *url = astra_check_configured_url (
	    &pagerduty, "routing-key = " TEST_KEY "\nurl = " TEST_URL "\n", "alert.triggered");

	ck_assert_str_eq (url, TEST_URL);
}
END_TEST

START_TEST (test_url_empty)
{
	g_autofree char *msg =
	    astra_check_configure_error (&pagerduty, "routing-key = " TEST_KEY "\nurl =\n", "url");

	astra_assert_contains (msg, "empty");
}
END_TEST

/* each carries T0KEN, which no error may echo */
static const char *const bad_urls[] = {
	"ftp://events.example.com/T0KEN",
	"file:///etc/T0KEN",
	"mailto:T0KEN@example.com",
	"http:///T0KEN",
	"https://",
	"events.example.com/T0KEN",
	"//events.example.com/T0KEN",
	"garbage T0KEN",
	"https://events.example.com:99999/T0KEN",
};

START_TEST (test_url_invalid)
{
	g_autofree char *keys = g_strdup_printf ("routing-key = " TEST_KEY "\nurl = %s\n", bad_urls[_i]);
	g_autofree char *msg = astra_check_configure_error (&pagerduty, keys, "url");

	astra_assert_not_contains (msg, "T0KEN");
	astra_assert_not_contains (msg, "events.example.com");
}
END_TEST

START_TEST (test_send_info_events)
{
	static const struct {
		const char *value;
		gboolean sends;
	} cases[] = { { "true", TRUE }, { "false", FALSE }, { "1", TRUE }, { "0", FALSE }, { NULL, FALSE } };

	for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
		g_autofree char *keys = cases[i].value != NULL ? g_strdup_printf ("routing-key = " TEST_KEY
										  "\nsend-info-events = %s\n",
										  cases[i].value)
							       : g_strdup ("routing-key = " TEST_KEY "\n");
		g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (&pagerduty, keys);
		g_autoptr(AstraEvent) event =
			       astra_check_fixture_event ("speedtest.completed", TEST_EVENT_ID);
		g_autoptr(AstraRequest) request = astra_request_new ();
		g_autoptr(GError) error = NULL;
		gboolean ok = astra_plugin_render (plugin, event, request, &error);

		ck_assert_msg (ok == cases[i].sends, "send-info-events = %s", cases[i].value);
		if (!ok)
			ck_assert (g_error_matches (error, ASTRA_ERROR, ASTRA_ERROR_NOT_SUPPORTED));
	}
}
END_TEST

START_TEST (test_send_info_events_invalid)
{
	static const char *const values[] = { "yes", "maybe", "", "truee" };

	for (guint i = 0; i < G_N_ELEMENTS (values); i++) {
		g_autofree char *keys =
		    g_strdup_printf ("routing-key = " TEST_KEY "\nsend-info-events = %s\n", values[i]);
		g_autofree char *msg = astra_check_configure_error (&pagerduty, keys, "send-info-events");

		astra_assert_contains (msg, "true or false");
	}
}
END_TEST

START_TEST (test_dashboard_url_valid)
{
	static const char *const templates[] = {
		TEST_DASHBOARD,
		"https://dash.example.net/",
		"http://127.0.0.1:3000/d/astra?var-agent={agent_id}&from={timestamp}",
		"https://dash.example.net/alerts/{alert_id}?unknown={no_such_field}",
	};

	for (guint i = 0; i < G_N_ELEMENTS (templates); i++) {
		g_autofree char *keys =
		    g_strdup_printf ("routing-key = " TEST_KEY "\ndashboard-url = %s\n", templates[i]);
		g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (&pagerduty, keys);
	}
}
END_TEST

/* each carries D4SH, which no error may echo */
static const char *const bad_dashboards[] = {
	"ftp://dash.example.net/D4SH/{agent_id}",
	"{hostname}/D4SH",
	"dash.example.net/D4SH",
	"https://dash.example.net/D4SH {agent_id}",
	"http{target}://dash.example.net/D4SH",
	/* was taken, and then every trigger failed to render: links end up in JSON */
	"https://dash.example.net/\xff/D4SH/{agent_id}",
};

START_TEST (test_dashboard_url_invalid)
{
	g_autofree char *keys =
	    g_strdup_printf ("routing-key = " TEST_KEY "\ndashboard-url = %s\n", bad_dashboards[_i]);
	g_autofree char *msg = astra_check_configure_error (&pagerduty, keys, "dashboard-url");

	astra_assert_not_contains (msg, "D4SH");
}
END_TEST

START_TEST (test_dashboard_url_empty)
{
	g_autofree char *msg = astra_check_configure_error (
	    &pagerduty, "routing-key = " TEST_KEY "\ndashboard-url =\n", "dashboard-url");

	astra_assert_contains (msg, "empty");
}
END_TEST

/* a refused configuration leaves a configured plugin as it was */
START_TEST (test_configure_again)
{
	g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (&pagerduty, "routing-key = " TEST_KEY
									       "\nurl = " TEST_URL "\n");
	g_autoptr(GKeyFile) keyfile = g_key_file_new ();
	g_autoptr(GError) error = NULL;
	g_autoptr(AstraEvent) event = astra_check_fixture_event ("alert.triggered", TEST_EVENT_ID);
	g_autoptr(AstraRequest) request = NULL;

	g_key_file_set_value (keyfile, TEST_GROUP, "routing-key", "short");
	ck_assert (!astra_plugin_configure (plugin, keyfile, TEST_GROUP, &error));
	request = astra_check_render (plugin, event);
	ck_assert_str_eq (astra_request_get_url (request), TEST_URL);
}
END_TEST

/* the example an admin copies: valid once the key file exists, and only known keys */
START_TEST (test_example_config)
{
	static const char *const core_keys[] = { "plugin",       "events",    "enabled",
						 "min-severity", "timeout",   "secret",
						 "secret-file",  "signature", NULL };
	g_autofree char *path =
	    astra_check_source_path ("data", "examples", "webhooks.d", "pagerduty.conf", NULL);
	g_autofree char *key_path = astra_check_tmp_write ("pagerduty.key", TEST_KEY "\n", 0600);
	g_autoptr(GKeyFile) keyfile = g_key_file_new ();
	g_autoptr(GError) error = NULL;
	g_autoptr(AstraPlugin) plugin = astra_check_plugin_new (&pagerduty);
	g_auto(GStrv) groups = NULL;
	g_auto(GStrv) keys = NULL;
	g_autofree char *plugin_name = NULL;

	ck_assert_msg (g_key_file_load_from_file (keyfile, path, G_KEY_FILE_NONE, &error), "%s: %s", path,
		       error != NULL ? error->message : "?");
	groups = g_key_file_get_groups (keyfile, NULL);
	ck_assert_uint_eq (g_strv_length (groups), 1);
	plugin_name = g_key_file_get_value (keyfile, groups[0], "plugin", NULL);
	ck_assert_str_eq (plugin_name, "pagerduty");
	keys = g_key_file_get_keys (keyfile, groups[0], NULL, NULL);
	for (guint i = 0; keys[i] != NULL; i++) {
		ck_assert_msg (g_strv_contains (core_keys, keys[i]) ||
				   g_strv_contains (astra_plugin_get_config_keys (plugin), keys[i]),
			       "unknown key %s", keys[i]);
	}
	g_key_file_set_value (keyfile, groups[0], "routing-key-file", key_path);
	ck_assert_msg (astra_plugin_configure (plugin, keyfile, groups[0], &error), "%s",
		       error != NULL ? error->message : "?");

	/* and with its commented-out keys on */
	g_key_file_set_value (keyfile, groups[0], "dashboard-url",
			      "https://netmon.example.net/agents/{agent_id}?tenant={tenant_id}");
	g_key_file_set_value (keyfile, groups[0], "send-info-events", "false");
	g_key_file_set_value (keyfile, groups[0], "url", TEST_DEFAULT_URL);
	ck_assert_msg (astra_plugin_configure (plugin, keyfile, groups[0], &error), "%s",
		       error != NULL ? error->message : "?");
}
END_TEST

/* rendering */

START_TEST (test_render_golden)
{
	const char *type_name = astra_check_event_types[_i];
	g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (&pagerduty, KEYS_FULL);
	g_autoptr(AstraEvent) event = astra_check_fixture_event (type_name, TEST_EVENT_ID);
	g_autofree char *text = NULL;
	g_autoptr(AstraRequest) request = astra_check_render_stable (plugin, event, &text);
	g_autofree char *user_agent =
	    g_strdup_printf ("astra-alerts/%s (pagerduty)", astra_version_string ());
	g_autofree char *golden = g_strdup_printf ("%s.http", type_name);
	g_autoptr(JsonObject) body = body_object (request);

	astra_check_assert_post_json (request, TEST_DEFAULT_URL, user_agent);
	/* no auth header: the routing key is in the body */
	ck_assert_ptr_null (astra_request_get_header (request, "Authorization"));
	astra_check_assert_golden ("pagerduty", golden, text);
}
END_TEST

static const struct {
	const char *type_name;
	const char *action;
	const char *dedup_key;
	const char *severity; /* NULL for resolve */
	const char *component;
	const char *summary;
} lifecycle_cases[] = {
	{ "agent.status_changed", "trigger", "tenant-abc/agent-123/status", "critical", NULL,
	  "Agent offline: server-01 \u2014 Tenant: tenant-abc, Last seen: 2025-12-17T10:27:00Z" },
	{ "agent.registered", "trigger", TEST_EVENT_ID, "info", NULL,
	  "New agent registered: server-01 \u2014 Tenant: tenant-abc, Version: 2.4.1, Address: 192.0.2.10" },
	{ "speedtest.completed", "trigger", TEST_EVENT_ID, "info", NULL,
	  "Speed test on server-01: 94.3 \u2193 / 11.75 \u2191 Mbps \u2014 Ping: 12 ms, Server: "
	  "speedtest.example.net, "
	  "Tenant: tenant-abc" },
	{ "traceroute.completed", "trigger", TEST_EVENT_ID, "info", "8.8.8.8",
	  "Traceroute from server-01 to 8.8.8.8 \u2014 Hops: 4, Tenant: tenant-abc" },
	{ "service_test.failed", "trigger", "tenant-abc/agent-123/test/intranet-login", "error",
	  "intranet-login",
	  "Service test failed: intranet-login (http) from server-01 \u2014 Target: "
	  "https://intranet.example.com/login, "
	  "Tenant: tenant-abc, Error: HTTP 503 Service Unavailable" },
	{ "alert.triggered", "trigger", "alt_01JFA3G2M8Q4X7ZKD5N0C6B1YR", "critical", "latency_ms",
	  "CRITICAL: Latency from server-01 to 8.8.8.8 is 231.4 ms \u2014 Value: 231.4 (> 200), Rule: "
	  "high-latency, "
	  "Tenant: tenant-abc" },
	{ "alert.resolved", "resolve", "alt_01JFA3G2M8Q4X7ZKD5N0C6B1YR", NULL, NULL, NULL },
};

START_TEST (test_lifecycle)
{
	g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (&pagerduty, KEYS_FULL);
	g_autoptr(AstraEvent) event =
		       astra_check_fixture_event (lifecycle_cases[_i].type_name, TEST_EVENT_ID);
	g_autoptr(AstraRequest) request = astra_check_render (plugin, event);
	g_autoptr(JsonObject) body = body_object (request);
	JsonObject *payload;
	JsonArray *links;
	g_autofree char *details = NULL;
	g_autofree char *data = NULL;

	ck_assert_str_eq (astra_check_get_string (body, "event_action"), lifecycle_cases[_i].action);
	ck_assert_str_eq (astra_check_get_string (body, "dedup_key"), lifecycle_cases[_i].dedup_key);
	if (lifecycle_cases[_i].severity == NULL) {
		/* resolve: the minimal form, nothing else */
		ck_assert_uint_eq (json_object_get_size (body), 3);
		return;
	}
	payload = astra_check_get_object (body, "payload");
	ck_assert_str_eq (astra_check_get_string (payload, "summary"), lifecycle_cases[_i].summary);
	ck_assert_str_eq (astra_check_get_string (payload, "severity"), lifecycle_cases[_i].severity);
	ck_assert_str_eq (astra_check_get_string (payload, "source"), "server-01");
	ck_assert_str_eq (astra_check_get_string (payload, "timestamp"),
			  astra_event_get_timestamp_string (event));
	ck_assert_str_eq (astra_check_get_string (payload, "group"), "tenant-abc");
	ck_assert_str_eq (astra_check_get_string (payload, "class"), lifecycle_cases[_i].type_name);
	if (lifecycle_cases[_i].component != NULL)
		ck_assert_str_eq (astra_check_get_string (payload, "component"),
				  lifecycle_cases[_i].component);
	else
		ck_assert (!json_object_has_member (payload, "component"));
	/* the whole event data, as the event has it */
	details = serialize_object (astra_check_get_object (payload, "custom_details"));
	data = serialize_object (astra_event_get_data (event));
	ck_assert_str_eq (details, data);

	links = json_object_get_array_member (body, "links");
	ck_assert_uint_eq (json_array_get_length (links), 1);
	ck_assert_str_eq (astra_check_get_string (json_array_get_object_element (links, 0), "href"),
			  "https://dash.example.net/agents/agent-123?tenant=tenant-abc");
	ck_assert_str_eq (astra_check_get_string (json_array_get_object_element (links, 0), "text"),
			  "View in dashboard");
	ck_assert_str_eq (astra_check_get_string (body, "client"), "astra-alerts");
	ck_assert_str_eq (astra_check_get_string (body, "client_url"),
			  "https://dash.example.net/agents/agent-123?tenant=tenant-abc");
}
END_TEST

/* without a dashboard there is no link; the client is still named */
START_TEST (test_no_dashboard)
{
	g_autoptr(AstraPlugin) plugin =
		       astra_check_configure_ok (&pagerduty, "routing-key = " TEST_KEY "\n");
	g_autoptr(AstraEvent) event = astra_check_fixture_event ("agent.status_changed", TEST_EVENT_ID);
	g_autoptr(AstraRequest) request = astra_check_render (plugin, event);
	g_autoptr(JsonObject) body = body_object (request);

	ck_assert (!json_object_has_member (body, "links"));
	ck_assert (!json_object_has_member (body, "client_url"));
	ck_assert_str_eq (astra_check_get_string (body, "client"), "astra-alerts");
}
END_TEST

static const char *const info_types[] = { "agent.registered", "speedtest.completed", "traceroute.completed" };

/* PagerDuty pages people: informational events are declined by default */
START_TEST (test_info_declined)
{
	g_autoptr(AstraPlugin) plugin =
		       astra_check_configure_ok (&pagerduty, "routing-key = " TEST_KEY "\n");
	g_autoptr(AstraEvent) event = astra_check_fixture_event (info_types[_i], TEST_EVENT_ID);
	g_autoptr(AstraRequest) request = astra_request_new ();
	g_autoptr(GError) error = NULL;

	ck_assert (!astra_plugin_render (plugin, event, request, &error));
	ck_assert_msg (g_error_matches (error, ASTRA_ERROR, ASTRA_ERROR_NOT_SUPPORTED), "%s", error->message);
	astra_assert_contains (error->message, "send-info-events");
	ck_assert_ptr_null (astra_request_get_body (request));
}
END_TEST

/* sent when asked for: a key per event, the same on every retry of that event */
START_TEST (test_info_dedup_key_per_event)
{
	g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (&pagerduty, KEYS_FULL);
	g_autoptr(JsonObject) data = astra_check_fixture_data (info_types[_i]);
	g_autoptr(AstraEvent) first = astra_check_event_new (info_types[_i], data);
	g_autoptr(AstraEvent) second = astra_check_event_new (info_types[_i], data);
	g_autoptr(AstraRequest) request1 = astra_check_render (plugin, first);
	g_autoptr(AstraRequest) request1_again = astra_check_render (plugin, first);
	g_autoptr(AstraRequest) request2 = astra_check_render (plugin, second);
	g_autoptr(JsonObject) body1 = body_object (request1);
	g_autoptr(JsonObject) body1_again = body_object (request1_again);
	g_autoptr(JsonObject) body2 = body_object (request2);

	ck_assert_str_eq (astra_check_get_string (body1, "dedup_key"), astra_event_get_id (first));
	ck_assert_str_eq (astra_check_get_string (body1_again, "dedup_key"), astra_event_get_id (first));
	ck_assert_str_eq (astra_check_get_string (body2, "dedup_key"), astra_event_get_id (second));
	ck_assert_str_ne (astra_check_get_string (body1, "dedup_key"),
			  astra_check_get_string (body2, "dedup_key"));
	ck_assert_str_eq (astra_check_get_string (astra_check_get_object (body1, "payload"), "severity"),
			  "info");
}
END_TEST

/* offline opens the incident, online closes the same one */
START_TEST (test_status_online_resolves)
{
	g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (&pagerduty, KEYS_FULL);
	g_autoptr(JsonObject) data = astra_check_fixture_data ("agent.status_changed");
	g_autoptr(AstraEvent) offline = NULL;
	g_autoptr(AstraEvent) online = NULL;
	g_autoptr(AstraRequest) trigger = NULL;
	g_autoptr(AstraRequest) resolve = NULL;
	g_autoptr(JsonObject) trigger_body = NULL;
	GBytes *body;

	offline = astra_check_event_new ("agent.status_changed", data);
	json_object_set_string_member (data, "previous_status", "offline");
	json_object_set_string_member (data, "current_status", "online");
	online = astra_check_event_new ("agent.status_changed", data);
	trigger = astra_check_render (plugin, offline);
	resolve = astra_check_render (plugin, online);
	trigger_body = body_object (trigger);
	ck_assert_str_eq (astra_check_get_string (trigger_body, "event_action"), "trigger");

	/* exactly the documented minimal form, keys in this order */
	body = astra_request_get_body (resolve);
	ck_assert_str_eq (g_bytes_get_data (body, NULL),
			  "{\"routing_key\":\"" TEST_KEY "\",\"event_action\":\"resolve\","
			  "\"dedup_key\":\"tenant-abc/agent-123/status\"}");
	ck_assert_uint_eq (g_bytes_get_size (body), strlen (g_bytes_get_data (body, NULL)));
}
END_TEST

/* the same alert_id from trigger to resolve */
START_TEST (test_alert_resolve_same_key)
{
	g_autoptr(AstraPlugin) plugin =
		       astra_check_configure_ok (&pagerduty, "routing-key = " TEST_KEY "\n");
	g_autoptr(AstraEvent) triggered = astra_check_fixture_event ("alert.triggered", "evt_a");
	g_autoptr(AstraEvent) resolved = astra_check_fixture_event ("alert.resolved", "evt_b");
	g_autoptr(AstraRequest) r1 = astra_check_render (plugin, triggered);
	g_autoptr(AstraRequest) r2 = astra_check_render (plugin, resolved);
	g_autoptr(JsonObject) b1 = body_object (r1);
	g_autoptr(JsonObject) b2 = body_object (r2);

	ck_assert_str_eq (astra_check_get_string (b1, "event_action"), "trigger");
	ck_assert_str_eq (astra_check_get_string (b2, "event_action"), "resolve");
	ck_assert_str_eq (astra_check_get_string (b1, "dedup_key"), astra_check_get_string (b2, "dedup_key"));
}
END_TEST

/* the alert's severity, whatever it is */
START_TEST (test_alert_severity)
{
	static const char *const severities[] = { "info", "warning", "error", "critical" };
	g_autoptr(AstraPlugin) plugin =
		       astra_check_configure_ok (&pagerduty, "routing-key = " TEST_KEY "\n");

	for (guint i = 0; i < G_N_ELEMENTS (severities); i++) {
		g_autoptr(JsonObject) data = astra_check_fixture_data ("alert.triggered");
		g_autoptr(AstraEvent) event = NULL;
		g_autoptr(AstraRequest) request = NULL;
		g_autoptr(JsonObject) body = NULL;

		json_object_set_string_member (data, "severity", severities[i]);
		event = astra_check_event_new ("alert.triggered", data);
		request = astra_check_render (plugin, event);
		body = body_object (request);
		ck_assert_str_eq (
		    astra_check_get_string (astra_check_get_object (body, "payload"), "severity"),
		    severities[i]);
	}
}
END_TEST

/* the hostname, else the agent id, else ourselves */
START_TEST (test_source_fallback)
{
	g_autoptr(AstraPlugin) plugin =
		       astra_check_configure_ok (&pagerduty, "routing-key = " TEST_KEY "\n");
	g_autoptr(JsonObject) data = astra_check_fixture_data ("alert.triggered");
	g_autoptr(AstraEvent) no_host = NULL;
	g_autoptr(AstraEvent) blank_host = NULL;
	g_autoptr(AstraEvent) nobody = NULL;
	g_autoptr(AstraRequest) r1 = NULL;
	g_autoptr(AstraRequest) r2 = NULL;
	g_autoptr(AstraRequest) r3 = NULL;
	g_autoptr(JsonObject) b1 = NULL;
	g_autoptr(JsonObject) b2 = NULL;
	g_autoptr(JsonObject) b3 = NULL;

	json_object_remove_member (data, "hostname");
	no_host = astra_check_event_new ("alert.triggered", data);
	/* nothing left once control and bidi characters are gone */
	json_object_set_string_member (data, "hostname", "\x01\u202e \t");
	blank_host = astra_check_event_new ("alert.triggered", data);
	json_object_remove_member (data, "hostname");
	json_object_remove_member (data, "agent_id");
	json_object_remove_member (data, "tenant_id");
	nobody = astra_check_event_new ("alert.triggered", data);

	r1 = astra_check_render (plugin, no_host);
	r2 = astra_check_render (plugin, blank_host);
	r3 = astra_check_render (plugin, nobody);
	b1 = body_object (r1);
	b2 = body_object (r2);
	b3 = body_object (r3);
	ck_assert_str_eq (astra_check_get_string (astra_check_get_object (b1, "payload"), "source"),
			  "agent-123");
	ck_assert_str_eq (astra_check_get_string (astra_check_get_object (b2, "payload"), "source"),
			  "agent-123");
	ck_assert_str_eq (astra_check_get_string (astra_check_get_object (b3, "payload"), "source"),
			  "astra-alerts");
	/* no tenant, no group */
	ck_assert (!json_object_has_member (astra_check_get_object (b3, "payload"), "group"));
}
END_TEST

/* a key longer than 255: a stable hash form, the same for trigger and resolve */
static const struct {
	const char *tenant_unit;
	guint tenant_len;
	const char *agent_unit;
	guint agent_len;
	gboolean hashed;
} dedup_cases[] = {
	/* "t/a/status" is 8 bytes more than both ids */
	{ "t", 123, "a", 124, FALSE }, /* 255 */
	{ "t", 124, "a", 124, TRUE },  /* 256 */
	{ "t", 256, "a", 256, TRUE },
	/* 255 characters but more bytes: hashed too, so it fits whichever PagerDuty counts */
	{ "\xc3\xa9", 124, "a", 123, TRUE },
	/* astral characters across the cut */
	{ "\xf0\x9f\x98\x80", 256, "\xf0\x9f\x98\x80", 256, TRUE },
	{ "x\xf0\x9f\x98\x80", 128, "a", 10, TRUE },
};

START_TEST (test_dedup_key_long)
{
	g_autoptr(AstraPlugin) plugin =
		       astra_check_configure_ok (&pagerduty, "routing-key = " TEST_KEY "\n");
	g_autoptr(JsonObject) data = astra_check_fixture_data ("agent.status_changed");
	g_autofree char *tenant =
	    astra_check_repeat (dedup_cases[_i].tenant_unit, dedup_cases[_i].tenant_len);
	g_autofree char *agent = astra_check_repeat (dedup_cases[_i].agent_unit, dedup_cases[_i].agent_len);
	g_autofree char *full = NULL;
	g_autofree char *digest = NULL;
	g_autoptr(AstraEvent) offline = NULL;
	g_autoptr(AstraEvent) online = NULL;
	g_autoptr(AstraRequest) r1 = NULL;
	g_autoptr(AstraRequest) r2 = NULL;
	g_autoptr(JsonObject) b1 = NULL;
	g_autoptr(JsonObject) b2 = NULL;
	const char *key;

	/* the schema allows at most 256 characters per id */
	json_object_set_string_member (data, "tenant_id", tenant);
	json_object_set_string_member (data, "agent_id", agent);
	full = g_strdup_printf ("%s/%s/status", tenant, agent);
	offline = astra_check_event_new ("agent.status_changed", data);
	json_object_set_string_member (data, "previous_status", "offline");
	json_object_set_string_member (data, "current_status", "online");
	online = astra_check_event_new ("agent.status_changed", data);
	r1 = astra_check_render (plugin, offline);
	r2 = astra_check_render (plugin, online);
	b1 = body_object (r1);
	b2 = body_object (r2);
	key = astra_check_get_string (b1, "dedup_key");

	ck_assert_str_eq (key, astra_check_get_string (b2, "dedup_key"));
	ck_assert_uint_le (strlen (key), LIMIT_DEDUP_KEY);
	ck_assert_uint_le (astra_utf8_length (key), LIMIT_DEDUP_KEY);
	ck_assert (g_utf8_validate (key, -1, NULL));
	if (!dedup_cases[_i].hashed) {
		ck_assert_str_eq (key, full);
		return;
	}
	/* the readable start of the key, then '#' and the SHA-256 of all of it */
	digest = g_compute_checksum_for_string (G_CHECKSUM_SHA256, full, -1);
	ck_assert (g_str_has_suffix (key, digest));
	ck_assert_int_eq (key[strlen (key) - strlen (digest) - 1], '#');
	ck_assert (strncmp (key, full, strlen (key) - strlen (digest) - 1) == 0);
	/* as much of the key as fits, less at most one character cut */
	ck_assert_uint_ge (strlen (key), LIMIT_DEDUP_KEY - 3);
}
END_TEST

/* alert ids may be 256 characters: one too many for PagerDuty */
START_TEST (test_dedup_key_alert_id)
{
	g_autoptr(AstraPlugin) plugin =
		       astra_check_configure_ok (&pagerduty, "routing-key = " TEST_KEY "\n");
	g_autofree char *id255 = astra_check_repeat ("a", 255);
	g_autofree char *id256 = astra_check_repeat ("a", 256);
	g_autoptr(JsonObject) data = astra_check_fixture_data ("alert.resolved");
	g_autoptr(AstraEvent) e255 = NULL;
	g_autoptr(AstraEvent) e256 = NULL;
	g_autoptr(AstraRequest) r255 = NULL;
	g_autoptr(AstraRequest) r256 = NULL;
	g_autoptr(JsonObject) b255 = NULL;
	g_autoptr(JsonObject) b256 = NULL;

	json_object_set_string_member (data, "alert_id", id255);
	e255 = astra_check_event_new ("alert.resolved", data);
	json_object_set_string_member (data, "alert_id", id256);
	e256 = astra_check_event_new ("alert.resolved", data);
	r255 = astra_check_render (plugin, e255);
	r256 = astra_check_render (plugin, e256);
	b255 = body_object (r255);
	b256 = body_object (r256);
	ck_assert_str_eq (astra_check_get_string (b255, "dedup_key"), id255);
	ck_assert_uint_eq (strlen (astra_check_get_string (b256, "dedup_key")), LIMIT_DEDUP_KEY);
	ck_assert_ptr_nonnull (strchr (astra_check_get_string (b256, "dedup_key"), '#'));
}
END_TEST

/* a dashboard link that would be too long is left out, never cut */
START_TEST (test_link_too_long)
{
	g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (
	    &pagerduty,
	    "routing-key = " TEST_KEY "\ndashboard-url = https://dash.example.net/?s={summary}\n");
	g_autoptr(JsonObject) data = astra_check_fixture_data ("alert.triggered");
	g_autofree char *summary = astra_check_repeat ("\xf0\x9f\x98\x80", 1000);
	g_autoptr(AstraEvent) event = NULL;
	g_autoptr(AstraRequest) request = NULL;
	g_autoptr(JsonObject) body = NULL;

	json_object_set_string_member (data, "summary", summary);
	event = astra_check_event_new ("alert.triggered", data);
	request = astra_check_render (plugin, event);
	body = body_object (request);
	ck_assert (!json_object_has_member (body, "links"));
	ck_assert (!json_object_has_member (body, "client_url"));
}
END_TEST

/* a plugin the daemon never configured refuses to render rather than send without a key */
START_TEST (test_render_unconfigured)
{
	g_autoptr(AstraPlugin) plugin = astra_check_plugin_new (&pagerduty);
	g_autoptr(AstraEvent) event = astra_check_fixture_event ("alert.triggered", TEST_EVENT_ID);
	g_autoptr(AstraRequest) request = astra_request_new ();
	g_autoptr(GError) error = NULL;

	ck_assert (!astra_plugin_render (plugin, event, request, &error));
	ck_assert (g_error_matches (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG));
	ck_assert_ptr_null (astra_request_get_body (request));
}
END_TEST

/* hostile input */

/* one code point each: controls (C0, DEL, C1), bidi overrides and isolates, astral
 * characters, JSON's special characters, markup */
static const char *const hostile_units[] = {
	"a",    "\u202e",   "\xf0\x9f\x98\x80",
	"\x01", "\n",       "\"",
	"\\",   "\xc3\xa9", "\u2066",
	"\x7f", "\xc2\x85", "<",
	"&",    "\x1b",     "\r",
	"\t",   "\u200f",   "\xf0\x90\x8d\x88",
	"/",    "}",
};

/* N_CHARS characters of the above */
static char *
hostile_text (gsize n_chars)
{
	return astra_check_cycle_text (hostile_units, G_N_ELEMENTS (hostile_units), n_chars, 0);
}

/* the schema's limit on most strings */
#define MAX_ID 256

typedef enum {
	HOSTILE_MAXIMAL,      /* every string at its schema limit, hostile; 500 hops; a 100 KB extra member */
	HOSTILE_HUGE_BLOB,    /* plus a 600 KB member: custom_details is cut */
	HOSTILE_MANY_MEMBERS, /* 700 members of 1024 control characters: custom_details from the view */
	HOSTILE_MINIMAL,      /* only the required fields, optional ones empty or null */
	HOSTILE_N_VARIANTS,
} HostileVariant;

static const char *const hostile_variant_names[] = { "maximal", "huge blob", "many members", "minimal" };

static JsonObject *
hostile_data (const char *type_name, HostileVariant variant, gboolean resolved_status)
{
	g_autoptr(JsonObject) data = json_object_new ();
	g_autofree char *id = hostile_text (MAX_ID);
	g_autofree char *long_text = hostile_text (4096);
	AstraEventKind kind = astra_event_kind_from_string (type_name);
	gboolean minimal = variant == HOSTILE_MINIMAL;

	if (kind != ASTRA_EVENT_KIND_ALERT_TRIGGERED && kind != ASTRA_EVENT_KIND_ALERT_RESOLVED) {
		json_object_set_string_member (data, "agent_id", minimal ? "a" : id);
		json_object_set_string_member (data, "hostname", minimal ? "h" : id);
		json_object_set_string_member (data, "tenant_id", minimal ? "t" : id);
	}
	switch (kind) {
	case ASTRA_EVENT_KIND_AGENT_STATUS_CHANGED:
		json_object_set_string_member (data, "previous_status",
					       resolved_status ? "offline" : "unknown");
		json_object_set_string_member (data, "current_status",
					       resolved_status ? "online" : "offline");
		if (!minimal)
			json_object_set_string_member (data, "last_seen", "2025-12-17T10:27:00Z");
		break;
	case ASTRA_EVENT_KIND_AGENT_REGISTERED:
		if (!minimal) {
			json_object_set_string_member (data, "version", id);
			json_object_set_string_member (data, "address", id);
		}
		break;
	case ASTRA_EVENT_KIND_SPEEDTEST_COMPLETED:
		json_object_set_double_member (data, "download_mbps", minimal ? 0 : 1e308);
		json_object_set_double_member (data, "upload_mbps", minimal ? 0 : 5e-324);
		json_object_set_double_member (data, "ping_ms", minimal ? 0 : 123456789.125);
		if (!minimal) {
			json_object_set_double_member (data, "jitter_ms", 0.1);
			json_object_set_string_member (data, "server", id);
			json_object_set_string_member (data, "isp", id);
		}
		break;
	case ASTRA_EVENT_KIND_TRACEROUTE_COMPLETED: {
		g_autoptr(JsonArray) hops = json_array_new ();
		guint n = minimal ? 0 : 500;

		for (guint i = 0; i < n; i++) {
			g_autoptr(JsonObject) hop = json_object_new ();
			json_object_set_int_member (hop, "hop", i + 1);
			if (i % 3 == 1) {
				json_object_set_null_member (hop, "address");
				json_object_set_null_member (hop, "rtt_ms");
			} else {
				json_object_set_string_member (hop, "address", id);
				json_object_set_double_member (hop, "rtt_ms", i * 1.5);
			}
			json_array_add_object_element (hops, g_steal_pointer (&hop));
		}
		json_object_set_string_member (data, "target", minimal ? "x" : id);
		json_object_set_boolean_member (data, "destination_reached", minimal);
		json_object_set_int_member (data, "hop_count", n);
		json_object_set_array_member (data, "hops", g_steal_pointer (&hops));
		if (!minimal)
			json_object_set_boolean_member (data, "path_changed", TRUE);
		break;
	}
	case ASTRA_EVENT_KIND_SERVICE_TEST_FAILED:
		json_object_set_string_member (data, "test", minimal ? "x" : id);
		json_object_set_string_member (data, "kind", "http");
		json_object_set_string_member (data, "target", minimal ? "x" : id);
		json_object_set_string_member (data, "error", minimal ? "" : long_text);
		if (minimal) {
			json_object_set_null_member (data, "status_code");
			json_object_set_null_member (data, "response_ms");
		} else {
			json_object_set_int_member (data, "status_code", 599);
			json_object_set_double_member (data, "response_ms", 1e-7);
		}
		break;
	case ASTRA_EVENT_KIND_ALERT_TRIGGERED:
	case ASTRA_EVENT_KIND_ALERT_RESOLVED: {
		g_autoptr(JsonObject) labels = json_object_new ();
		g_autofree char *label_value = hostile_text (1024);

		for (guint i = 0; !minimal && i < 50; i++) {
			g_autofree char *name = g_strdup_printf ("%s%u", id, i);
			json_object_set_string_member (labels, name, label_value);
		}
		json_object_set_string_member (data, "alert_id", minimal ? "a" : id);
		json_object_set_string_member (data, "rule", minimal ? "r" : id);
		json_object_set_string_member (data, "severity", "critical");
		json_object_set_string_member (
		    data, "state", kind == ASTRA_EVENT_KIND_ALERT_RESOLVED ? "resolved" : "firing");
		json_object_set_string_member (data, "metric", minimal ? "m" : id);
		json_object_set_double_member (data, "value", minimal ? 0 : 1.7976931348623157e308);
		json_object_set_double_member (data, "threshold", minimal ? 0 : -0.000001);
		json_object_set_string_member (data, "condition", minimal ? ">" : id);
		json_object_set_object_member (data, "labels", g_steal_pointer (&labels));
		json_object_set_string_member (data, "summary", minimal ? "" : long_text);
		json_object_set_string_member (data, "started_at", "2025-12-17T10:18:00Z");
		if (kind == ASTRA_EVENT_KIND_ALERT_RESOLVED) {
			json_object_set_string_member (data, "resolved_at", "2025-12-17T10:42:00Z");
			json_object_set_int_member (data, "duration_s", minimal ? 0 : G_MAXINT32);
		}
		if (!minimal) {
			json_object_set_string_member (data, "agent_id", id);
			json_object_set_string_member (data, "hostname", id);
			json_object_set_string_member (data, "tenant_id", id);
			/* the schema allows anything else */
			json_object_set_string_member (data, "description", long_text);
		}
		break;
	}
	default:
		ck_abort_msg ("unknown type %s", type_name);
	}

	if (variant != HOSTILE_MINIMAL) {
		g_autofree char *error_100k = hostile_text (100 * 1024);
		json_object_set_string_member (data, "error_detail", error_100k);
	}
	if (variant == HOSTILE_HUGE_BLOB) {
		g_autofree char *blob = astra_check_repeat ("b", 600 * 1000);
		json_object_set_string_member (data, "blob", blob);
	}
	if (variant == HOSTILE_MANY_MEMBERS) {
		g_autofree char *controls = astra_check_repeat ("\x01", 1024);
		for (guint i = 0; i < 700; i++) {
			g_autofree char *name = g_strdup_printf ("extra_%03u", i);
			json_object_set_string_member (data, name, controls);
		}
	}
	return g_steal_pointer (&data);
}

static void
assert_short_member (JsonObject *payload, const char *member, gboolean required)
{
	const char *value;

	if (!json_object_has_member (payload, member)) {
		ck_assert_msg (!required, "no %s", member);
		return;
	}
	value = astra_check_get_string (payload, member);
	ck_assert_msg (value[0] != '\0', "%s is empty", member);
	ck_assert_msg (astra_utf8_length (value) <= LIMIT_SHORT, "%s has %zu characters", member,
		       astra_utf8_length (value));
	astra_check_assert_clean_text (member, value, FALSE);
}

/* every limit of the rendered event; returns the parsed body */
static JsonObject *
assert_within_limits (AstraRequest *request, AstraEvent *event)
{
	g_autoptr(JsonObject) body = body_object (request);
	const char *action = astra_check_get_string (body, "event_action");
	const char *key = astra_check_get_string (body, "dedup_key");
	const char *severity;
	const char *summary;
	JsonObject *payload;

	ck_assert_msg (g_bytes_get_size (astra_request_get_body (request)) <= LIMIT_EVENT_BYTES,
		       "the event has %zu bytes", g_bytes_get_size (astra_request_get_body (request)));
	ck_assert_str_eq (astra_request_get_content_type (request), "application/json");
	ck_assert_str_eq (astra_check_get_string (body, "routing_key"), TEST_KEY);
	ck_assert_msg (key[0] != '\0', "empty dedup_key");
	ck_assert_msg (strlen (key) <= LIMIT_DEDUP_KEY, "dedup_key has %zu bytes", strlen (key));
	ck_assert_msg (astra_utf8_length (key) <= LIMIT_DEDUP_KEY, "dedup_key has %zu characters",
		       astra_utf8_length (key));

	if (g_strcmp0 (action, "resolve") == 0) {
		ck_assert_uint_eq (json_object_get_size (body), 3);
		return g_steal_pointer (&body);
	}
	ck_assert_str_eq (action, "trigger");
	payload = astra_check_get_object (body, "payload");
	summary = astra_check_get_string (payload, "summary");
	ck_assert_msg (summary[0] != '\0', "empty summary");
	ck_assert_msg (astra_utf8_length (summary) <= LIMIT_SUMMARY, "summary has %zu characters",
		       astra_utf8_length (summary));
	astra_check_assert_clean_text ("summary", summary, FALSE);
	assert_short_member (payload, "source", TRUE);
	assert_short_member (payload, "component", FALSE);
	assert_short_member (payload, "group", FALSE);
	assert_short_member (payload, "class", TRUE);
	ck_assert_str_eq (astra_check_get_string (payload, "class"), astra_event_get_type_name (event));
	severity = astra_check_get_string (payload, "severity");
	ck_assert_msg (
	    g_strv_contains ((const char *const[]){ "critical", "error", "warning", "info", NULL }, severity),
	    "severity %s", severity);
	ck_assert_str_eq (astra_check_get_string (payload, "timestamp"),
			  astra_event_get_timestamp_string (event));
	astra_check_get_object (payload, "custom_details");
	ck_assert_str_eq (astra_check_get_string (body, "client"), "astra-alerts");
	if (json_object_has_member (body, "links")) {
		JsonArray *links = json_object_get_array_member (body, "links");
		const char *href;
		g_autoptr(AstraRequest) probe = astra_request_new ();
		g_autoptr(GError) error = NULL;

		ck_assert_uint_eq (json_array_get_length (links), 1);
		href = astra_check_get_string (json_array_get_object_element (links, 0), "href");
		ck_assert_uint_le (strlen (href), LIMIT_LINK);
		astra_request_set_url (probe, href);
		ck_assert_msg (astra_request_validate (probe, &error), "link: %s", error->message);
		ck_assert_str_eq (astra_check_get_string (body, "client_url"), href);
	} else {
		ck_assert (!json_object_has_member (body, "client_url"));
	}
	return g_steal_pointer (&body);
}

#define HOSTILE_DASHBOARD "https://dash.example.net/agents/{agent_id}?host={hostname}&s={summary}"

START_TEST (test_hostile)
{
	const char *type_name = astra_check_event_types[_i / HOSTILE_N_VARIANTS];
	HostileVariant variant = _i % HOSTILE_N_VARIANTS;
	g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (
	    &pagerduty, "routing-key = " TEST_KEY "\nsend-info-events = true\n"
			"dashboard-url = " HOSTILE_DASHBOARD "\n");
	g_autoptr(JsonObject) data = hostile_data (type_name, variant, FALSE);
	g_autoptr(AstraEvent) event = astra_check_event_new (type_name, data);
	g_autoptr(AstraRequest) request = astra_check_render (plugin, event);
	g_autoptr(AstraRequest) again = astra_check_render (plugin, event);
	g_autoptr(JsonObject) body = assert_within_limits (request, event);
	JsonObject *details;

	/* deterministic, whatever the input */
	ck_assert (g_bytes_equal (astra_request_get_body (request), astra_request_get_body (again)));
	if (!json_object_has_member (body, "payload"))
		return;
	details = astra_check_get_object (astra_check_get_object (body, "payload"), "custom_details");
	switch (variant) {
	case HOSTILE_MAXIMAL:
	case HOSTILE_MINIMAL: {
		/* it fits: the whole data */
		g_autofree char *got = serialize_object (details);
		g_autofree char *expected = serialize_object (astra_event_get_data (event));
		ck_assert_msg (g_strcmp0 (got, expected) == 0, "%s, %s: custom_details is not the event data",
			       type_name, hostile_variant_names[variant]);
		break;
	}
	case HOSTILE_HUGE_BLOB: {
		/* cut: the note first, then the data with long strings cut */
		g_autoptr(GList) members = json_object_get_members (details);
		ck_assert_str_eq (members->data, "astra_truncated");
		astra_assert_contains (astra_check_get_string (details, "astra_truncated"), "512 KB");
		ck_assert_uint_eq (astra_utf8_length (astra_check_get_string (details, "blob")), 1024);
		ck_assert (g_str_has_suffix (astra_check_get_string (details, "blob"), "\u2026"));
		break;
	}
	case HOSTILE_MANY_MEMBERS: {
		/* still too large once cut: what the view says */
		g_autoptr(GList) members = json_object_get_members (details);
		ck_assert_str_eq (members->data, "astra_truncated");
		ck_assert (!json_object_has_member (details, "extra_000"));
		ck_assert_uint_lt (json_object_get_size (details), 30);
		break;
	}
	default:
		ck_abort ();
	}
}
END_TEST

/* the recovery events under the same input */
START_TEST (test_hostile_resolve)
{
	g_autoptr(AstraPlugin) plugin =
		       astra_check_configure_ok (&pagerduty, "routing-key = " TEST_KEY "\n");
	HostileVariant variant = _i % HOSTILE_N_VARIANTS;
	gboolean status = _i < HOSTILE_N_VARIANTS;
	const char *type_name = status ? "agent.status_changed" : "alert.resolved";
	g_autoptr(JsonObject) data = hostile_data (type_name, variant, TRUE);
	g_autoptr(AstraEvent) event = astra_check_event_new (type_name, data);
	g_autoptr(AstraRequest) request = astra_check_render (plugin, event);
	g_autoptr(JsonObject) body = assert_within_limits (request, event);

	ck_assert_str_eq (astra_check_get_string (body, "event_action"), "resolve");
}
END_TEST

/* the schema refuses a 4,000-character hostname, so no plugin ever sees one */
START_TEST (test_hostile_hostname_refused)
{
	const char *type_name = astra_check_event_types[_i];
	g_autoptr(JsonObject) data = hostile_data (type_name, HOSTILE_MINIMAL, FALSE);
	g_autofree char *hostname = hostile_text (4000);
	g_autoptr(GError) error = NULL;
	g_autoptr(AstraEvent) event = NULL;

	json_object_set_string_member (data, "hostname", hostname);
	event =
	    astra_event_new (astra_event_kind_from_string (type_name), ASTRA_CHECK_EVENT_TIME, data, &error);
	ck_assert_ptr_null (event);
	ck_assert (g_error_matches (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA));
	astra_assert_contains (error->message, "hostname");
}
END_TEST

/* classification */

#define BODY_INVALID_KEY                                                                                     \
	"{\"status\":\"invalid event\",\"message\":\"Event object is invalid\",\"errors\":[\"Length of "     \
	"'routing_key' is incorrect (should be 32 characters)\"]}"

static const AstraCheckClassifyCase classify_cases[] = {
	/* delivered */
	{ 202,
	  "{\"status\":\"success\",\"message\":\"Event "
	  "processed\",\"dedup_key\":\"tenant-abc/agent-123/status\"}",
	  NULL, ASTRA_OUTCOME_DELIVERED, -1, NULL },
	{ 202, NULL, NULL, ASTRA_OUTCOME_DELIVERED, -1, NULL },
	{ 200, "{}", NULL, ASTRA_OUTCOME_DELIVERED, -1, NULL },
	/* rejected: PagerDuty's own words */
	{ 400, BODY_INVALID_KEY, NULL, ASTRA_OUTCOME_FAILED, -1,
	  "invalid event: Length of 'routing_key' is incorrect (should be 32 characters)" },
	{ 400,
	  "{\"status\":\"invalid event\",\"message\":\"Event object is "
	  "invalid\",\"errors\":[\"'payload.summary' is "
	  "missing or blank\",\"'payload.severity' is invalid (must be one of the following: 'critical', "
	  "'warning', "
	  "'error' or 'info')\"]}",
	  NULL, ASTRA_OUTCOME_FAILED, -1,
	  "invalid event: 'payload.summary' is missing or blank; 'payload.severity' is invalid (must be one "
	  "of the "
	  "following: 'critical', 'warning', 'error' or 'info')" },
	{ 400, "{\"status\":\"invalid event\",\"message\":\"Event object is invalid\",\"errors\":[]}", NULL,
	  ASTRA_OUTCOME_FAILED, -1, "invalid event: Event object is invalid" },
	{ 400, "{\"message\":\"Event object is invalid\"}", NULL, ASTRA_OUTCOME_FAILED, -1,
	  "invalid event: Event object is invalid" },
	{ 400, "{\"status\":\"invalid event\",\"errors\":[1,null,{\"a\":\"b\"},[\"x\"],\"only this\"]}", NULL,
	  ASTRA_OUTCOME_FAILED, -1, "invalid event: only this" },
	{ 400, "{\"status\":\"invalid event\",\"errors\":[\"a\\nb\\u202ec\\u001bd\"]}", NULL,
	  ASTRA_OUTCOME_FAILED, -1, "invalid event: a bcd" },
	{ 400, "{\"status\":\"invalid event\",\"errors\":[\"Invalid routing key " TEST_KEY "\"]}", NULL,
	  ASTRA_OUTCOME_FAILED, -1, "invalid event: Invalid routing key <routing key>" },
	{ 400, "<html><body>Bad Request</body></html>", NULL, ASTRA_OUTCOME_FAILED, -1, "invalid event" },
	{ 400, "", NULL, ASTRA_OUTCOME_FAILED, -1, "invalid event" },
	{ 400, NULL, NULL, ASTRA_OUTCOME_FAILED, -1, "invalid event" },
	{ 400, "[\"invalid event\"]", NULL, ASTRA_OUTCOME_FAILED, -1, "invalid event" },
	{ 400, "{\"status\":\"invalid event\",\"errors\":[\"cut", NULL, ASTRA_OUTCOME_FAILED, -1,
	  "invalid event" },
	{ 400, "{\"status\":42,\"errors\":\"not an array\"}", NULL, ASTRA_OUTCOME_FAILED, -1,
	  "invalid event" },
	{ 400, "{\"status\":\"\\u202e\\u0007\",\"message\":\"m\"}", NULL, ASTRA_OUTCOME_FAILED, -1,
	  "invalid event: m" },
	/* rate limited: the event was not taken */
	{ 429, NULL, NULL, ASTRA_OUTCOME_RETRY, 30, "rate limited" },
	{ 429, NULL, "7", ASTRA_OUTCOME_RETRY, 7, "rate limited" },
	{ 429, NULL, "0", ASTRA_OUTCOME_RETRY, 0, "rate limited" },
	{ 429, NULL, "soon", ASTRA_OUTCOME_RETRY, 30, "rate limited" },
	{ 429, "Too many API calls at a time", NULL, ASTRA_OUTCOME_RETRY, 30, "rate limited" },
	{ 429,
	  "{\"status\":\"throttle event\",\"message\":\"Requests for this service are arriving too quickly. "
	  "Please retry "
	  "later.\"}",
	  "120", ASTRA_OUTCOME_RETRY, 120,
	  "throttle event: Requests for this service are arriving too quickly. Please retry later." },
	/* PagerDuty's trouble */
	{ 500, NULL, NULL, ASTRA_OUTCOME_RETRY, -1, "HTTP 500: server error" },
	{ 502, "<html>Bad Gateway</html>", NULL, ASTRA_OUTCOME_RETRY, -1, "HTTP 502: server error" },
	{ 503, NULL, "120", ASTRA_OUTCOME_RETRY, 120, "HTTP 503: server error" },
	{ 504, "{\"message\":\"upstream timed out\"}", NULL, ASTRA_OUTCOME_RETRY, -1,
	  "HTTP 504: server error: upstream timed out" },
	{ 408, NULL, NULL, ASTRA_OUTCOME_RETRY, -1, NULL },
	/* a wrong url: failed, and kept for redelivery once fixed */
	{ 401, NULL, NULL, ASTRA_OUTCOME_FAILED, -1, "unauthorized (HTTP 401): check url" },
	{ 403, "{\"error\":\"forbidden\"}", NULL, ASTRA_OUTCOME_FAILED, -1,
	  "forbidden (HTTP 403): check url" },
	{ 404, "Not Found", NULL, ASTRA_OUTCOME_FAILED, -1,
	  "not found (HTTP 404): check url, the Events API v2 endpoint is "
	  "https://events.pagerduty.com/v2/enqueue" },
	{ 413, NULL, NULL, ASTRA_OUTCOME_FAILED, -1, "event too large (HTTP 413)" },
	/* the base class's answers */
	{ 410, NULL, NULL, ASTRA_OUTCOME_GONE, -1, "gone" },
	{ 301, NULL, NULL, ASTRA_OUTCOME_FAILED, -1, "redirect not followed" },
	{ 422, NULL, NULL, ASTRA_OUTCOME_FAILED, -1, NULL },
};

START_TEST (test_classify)
{
	g_autoptr(AstraPlugin) plugin =
		       astra_check_configure_ok (&pagerduty, "routing-key = " TEST_KEY "\n");

	astra_check_assert_classify (plugin, &classify_cases[_i]);
}
END_TEST

/* hostile 400 bodies: a short clean reason, never a crash */
START_TEST (test_classify_hostile)
{
	g_autoptr(AstraPlugin) plugin =
		       astra_check_configure_ok (&pagerduty, "routing-key = " TEST_KEY "\n");
	g_autoptr(GPtrArray) bodies = g_ptr_array_new_with_free_func (g_free);

	/* ten thousand errors of a thousand hostile characters */
	{
		g_autofree char *error = hostile_text (1000);
		g_autoptr(JsonArray) errors = json_array_new ();
		g_autoptr(JsonObject) object = json_object_new ();

		for (guint i = 0; i < 10000; i++)
			json_array_add_string_element (errors, error);
		json_object_set_string_member (object, "status", "invalid event");
		json_object_set_array_member (object, "errors", g_steal_pointer (&errors));
		g_ptr_array_add (bodies, serialize_object (object));
	}
	/* one huge error and a huge status word */
	{
		g_autofree char *huge = hostile_text (30000);
		g_autoptr(JsonObject) object = json_object_new ();
		g_autoptr(JsonArray) errors = json_array_new ();

		json_array_add_string_element (errors, huge);
		json_object_set_string_member (object, "status", huge);
		json_object_set_array_member (object, "errors", g_steal_pointer (&errors));
		g_ptr_array_add (bodies, serialize_object (object));
	}
	/* nested deeper than the parser goes */
	{
		g_autofree char *open = astra_check_repeat ("[", 10000);
		g_ptr_array_add (bodies, g_strdup_printf ("{\"errors\":%s", open));
	}
	/* larger than any answer PagerDuty gives: not even parsed */
	{
		g_autofree char *padding = astra_check_repeat (" ", 70 * 1024);
		g_ptr_array_add (
		    bodies, g_strdup_printf ("{\"status\":\"invalid event\",\"errors\":[\"x\"]}%s", padding));
	}
	/* the routing key, split by control characters, and late in a long error */
	{
		g_autofree char *pad = astra_check_repeat ("x ", 250);
		g_ptr_array_add (bodies, g_strdup ("{\"status\":\"invalid event\",\"errors\":[\"key "
						   "e93facc0\\u000147640\\u001b12d7bfb002500d5d1a6\"]}"));
		g_ptr_array_add (bodies, g_strdup_printf ("{\"status\":\"invalid event\",\"errors\":[\"%s"
							  "%s\"]}",
							  pad, TEST_KEY));
		g_ptr_array_add (bodies, g_strdup_printf ("{\"status\":\"invalid event\",\"message\":\"%s"
							  "%s\"}",
							  pad, TEST_KEY));
	}
	/* invalid UTF-8 */
	g_ptr_array_add (bodies, g_strdup ("{\"status\":\"invalid event\",\"errors\":[\"\xff\xfe\"]}"));

	for (guint i = 0; i < bodies->len; i++) {
		g_autoptr(AstraResponse) response =
			       astra_check_response_new (400, g_ptr_array_index (bodies, i));
		const char *reason;

		ck_assert_int_eq (astra_plugin_classify (plugin, response), ASTRA_OUTCOME_FAILED);
		reason = astra_response_get_reason (response);
		ck_assert_ptr_nonnull (reason);
		ck_assert_msg (astra_utf8_length (reason) <= LIMIT_REASON,
			       "body %u: reason has %zu characters", i, astra_utf8_length (reason));
		astra_check_assert_clean_text ("reason", reason, FALSE);
		ck_assert (g_str_has_prefix (reason, "invalid event") || i == 1);
		/* not even a part of the key */
		astra_assert_not_contains (reason, "e93facc0");
		astra_assert_not_contains (reason, "d5d1a6");
	}
}
END_TEST

/* a delivered or failed answer never asks for a delay */
START_TEST (test_classify_retry_after_ignored)
{
	g_autoptr(AstraPlugin) plugin =
		       astra_check_configure_ok (&pagerduty, "routing-key = " TEST_KEY "\n");
	static const guint statuses[] = { 202, 400, 404 };

	for (guint i = 0; i < G_N_ELEMENTS (statuses); i++) {
		g_autoptr(AstraResponse) response = astra_check_response_new (statuses[i], NULL);

		astra_response_set_header (response, "Retry-After", "7");
		astra_plugin_classify (plugin, response);
		ck_assert (astra_response_get_retry_after (response) < 0);
	}
}
END_TEST

static Suite *
pagerduty_suite (void)
{
	Suite *s = suite_create ("pagerduty");
	TCase *tc;

	tc = astra_check_tmpdir_tcase_new ("configure");
	tcase_add_test (tc, test_config_keys);
	tcase_add_test (tc, test_routing_key_required);
	tcase_add_test (tc, test_routing_key_empty);
	tcase_add_test (tc, test_routing_key_inline);
	tcase_add_test (tc, test_routing_key_file);
	tcase_add_test (tc, test_routing_key_file_readable_by_others);
	tcase_add_test (tc, test_routing_key_file_missing);
	tcase_add_test (tc, test_routing_key_file_empty);
	tcase_add_test (tc, test_routing_key_and_file);
	tcase_add_loop_test (tc, test_routing_key_invalid, 0, G_N_ELEMENTS (bad_routing_keys));
	tcase_add_test (tc, test_routing_key_file_invalid);
	tcase_add_test (tc, test_url_override);
	tcase_add_test (tc, test_url_empty);
	tcase_add_loop_test (tc, test_url_invalid, 0, G_N_ELEMENTS (bad_urls));
	tcase_add_test (tc, test_send_info_events);
	tcase_add_test (tc, test_send_info_events_invalid);
	tcase_add_test (tc, test_dashboard_url_valid);
	tcase_add_loop_test (tc, test_dashboard_url_invalid, 0, G_N_ELEMENTS (bad_dashboards));
	tcase_add_test (tc, test_dashboard_url_empty);
	tcase_add_test (tc, test_configure_again);
	tcase_add_test (tc, test_example_config);
	suite_add_tcase (s, tc);

	tc = tcase_create ("render");
	tcase_add_loop_test (tc, test_render_golden, 0, ASTRA_CHECK_N_EVENT_TYPES);
	tcase_add_loop_test (tc, test_lifecycle, 0, G_N_ELEMENTS (lifecycle_cases));
	tcase_add_test (tc, test_no_dashboard);
	tcase_add_loop_test (tc, test_info_declined, 0, G_N_ELEMENTS (info_types));
	tcase_add_loop_test (tc, test_info_dedup_key_per_event, 0, G_N_ELEMENTS (info_types));
	tcase_add_test (tc, test_status_online_resolves);
	tcase_add_test (tc, test_alert_resolve_same_key);
	tcase_add_test (tc, test_alert_severity);
	tcase_add_test (tc, test_source_fallback);
	tcase_add_loop_test (tc, test_dedup_key_long, 0, G_N_ELEMENTS (dedup_cases));
	tcase_add_test (tc, test_dedup_key_alert_id);
	tcase_add_test (tc, test_link_too_long);
	tcase_add_test (tc, test_render_unconfigured);
	suite_add_tcase (s, tc);

	tc = tcase_create ("hostile");
	tcase_set_timeout (tc, 60);
	tcase_add_loop_test (tc, test_hostile, 0, ASTRA_CHECK_N_EVENT_TYPES * HOSTILE_N_VARIANTS);
	tcase_add_loop_test (tc, test_hostile_resolve, 0, 2 * HOSTILE_N_VARIANTS);
	tcase_add_loop_test (tc, test_hostile_hostname_refused, 0, ASTRA_CHECK_N_EVENT_TYPES);
	suite_add_tcase (s, tc);

	tc = tcase_create ("classify");
	tcase_add_loop_test (tc, test_classify, 0, G_N_ELEMENTS (classify_cases));
	tcase_add_test (tc, test_classify_hostile);
	tcase_add_test (tc, test_classify_retry_after_ignored);
	suite_add_tcase (s, tc);

	return s;
}

int
main (void)
{
	return astra_check_run_suite (pagerduty_suite ());
}
