/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The Microsoft Teams plugin, built from its static library (no dlopen):
 * configuration, the Adaptive Card (Workflows) and the legacy MessageCard of
 * every event type against golden files, markdown escaping of event text, the
 * body budget under hostile input, and the classification of every response
 * Workflows and old Office 365 connectors give.
 *
 * Golden files: tests/golden/teams/<type>.http (Adaptive Card) and
 * tests/golden/teams/message-card/<type>.http, both rendered with a
 * dashboard-url; see tests/golden/teams/README.md. After an intended change,
 * regenerate them with
 *
 *   ASTRA_UPDATE_GOLDEN=1 meson test -C build teams
 *
 * and review the diff before committing.
 */

#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "astra-check-common.h"
#include "astra-event-view.h"
#include "astra-teams-plugin.h"

/* a Workflows URL: the sig parameter is the credential, which no error may echo */
#define TEST_URL                                                                                             \
	"https://prod-01.westeurope.logic.azure.com:443/workflows/0123abcd/triggers/manual/paths/invoke"     \
	"?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=T0KEN"
#define TEST_DASHBOARD "https://netmon.example.com/agents/{agent_id}?tenant={tenant_id}&event={event}"
#define TEST_GROUP "webhook test"
#define TEST_EVENT_ID "evt_01JFA3G2M8Q4X7ZKD5N0C6B1YR"

/* the plugin's documented limits (README.md) */
#define TEAMS_BODY_MAX (24 * 1024)
#define TEAMS_TITLE_MAX 256
#define TEAMS_DETAIL_MAX 10000
#define TEAMS_FACT_MAX 1024
#define TEAMS_LINK_MAX 2048

static const char *const bidi_controls[] = {
	"\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066",
	"\u2067", "\u2068", "\u2069", "\u200e", "\u200f",
};

static const AstraCheckPlugin teams = { "teams", TEST_GROUP, astra_teams_plugin_get_type, NULL };

/* the body of REQUEST, which must be within the budget, valid UTF-8 and JSON, parsed back */
static JsonNode *
parse_body (AstraRequest *request)
{
	GBytes *body = astra_request_get_body (request);

	ck_assert_ptr_nonnull (body);
	ck_assert_msg (g_bytes_get_size (body) <= TEAMS_BODY_MAX, "body is %" G_GSIZE_FORMAT " bytes",
		       g_bytes_get_size (body));
	return astra_check_parse_body (request);
}

/* the Adaptive Card of a Workflows message */
static JsonObject *
get_card (JsonNode *root)
{
	JsonObject *message = json_node_get_object (root);
	JsonArray *attachments;
	JsonObject *attachment;
	JsonNode *content_url;

	ck_assert_str_eq (astra_check_get_string (message, "type"), "message");
	attachments = astra_check_get_array (message, "attachments");
	ck_assert_uint_eq (json_array_get_length (attachments), 1);
	attachment = json_array_get_object_element (attachments, 0);
	ck_assert_str_eq (astra_check_get_string (attachment, "contentType"),
			  "application/vnd.microsoft.card.adaptive");
	content_url = json_object_get_member (attachment, "contentUrl");
	ck_assert (content_url != NULL && JSON_NODE_HOLDS_NULL (content_url));
	return astra_check_get_object (attachment, "content");
}

/* markdown text back to what it shows: paragraphs to lines, backslash escapes resolved */
static char *
markdown_unescape (const char *text)
{
	g_autoptr(GString) lines = g_string_new (text);
	GString *out = g_string_new (NULL);

	g_string_replace (lines, "\n\n", "\n", 0);
	for (const char *p = lines->str; *p != '\0'; p++) {
		if (p[0] == '\\' && p[1] != '\0' && g_ascii_ispunct (p[1]))
			p++;
		g_string_append_c (out, *p);
	}
	return g_string_free (out, FALSE);
}

/* TEXT has no markdown left: every * _ [ ] is escaped, and so is ( after ] */
static void
assert_markdown_literal (const char *text)
{
	for (const char *p = text; *p != '\0'; p++) {
		if (p[0] == '\\' && p[1] != '\0' && g_ascii_ispunct (p[1])) {
			p++;
			continue;
		}
		ck_assert_msg (strchr ("*_[]", *p) == NULL, "unescaped '%c' in '%.80s'", *p, text);
		ck_assert_msg (!(p[0] == '(' && p > text && p[-1] == ']'), "link in '%.80s'", text);
	}
}

/* MARKDOWN shows at most MAX characters */
static void
assert_markdown_length (const char *markdown, gsize max)
{
	g_autofree char *shown = markdown_unescape (markdown);

	assert_markdown_literal (markdown);
	ck_assert_msg (astra_utf8_length (shown) <= max,
		       "%" G_GSIZE_FORMAT " characters, limit %" G_GSIZE_FORMAT, astra_utf8_length (shown),
		       max);
}

/* no string anywhere in NODE has control characters (but \n) or bidi controls */
static void
assert_strings_clean (JsonNode *node)
{
	if (JSON_NODE_HOLDS_OBJECT (node)) {
		JsonObjectIter iter;
		const char *name;
		JsonNode *member;

		json_object_iter_init (&iter, json_node_get_object (node));
		while (json_object_iter_next (&iter, &name, &member))
			assert_strings_clean (member);
	} else if (JSON_NODE_HOLDS_ARRAY (node)) {
		JsonArray *array = json_node_get_array (node);
		for (guint i = 0; i < json_array_get_length (array); i++)
			assert_strings_clean (json_array_get_element (array, i));
	} else if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING) {
		const char *str = json_node_get_string (node);
		ck_assert (g_utf8_validate (str, -1, NULL));
		for (const char *p = str; *p != '\0'; p = g_utf8_next_char (p)) {
			gunichar c = g_utf8_get_char (p);
			ck_assert_msg (c == '\n' || !(c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f)),
				       "control character U+%04X", c);
		}
		for (guint i = 0; i < G_N_ELEMENTS (bidi_controls); i++)
			astra_assert_not_contains (str, bidi_controls[i]);
	}
}

/* what a rendered body shows, checked against every limit; the number of facts */
static guint
assert_adaptive_card_limits (JsonNode *root)
{
	JsonObject *card = get_card (root);
	JsonArray *body = astra_check_get_array (card, "body");
	JsonObject *header;
	JsonArray *items;
	JsonNode *actions;
	guint n_facts = 0;

	assert_strings_clean (root);
	ck_assert_str_eq (astra_check_get_string (card, "$schema"),
			  "http://adaptivecards.io/schemas/adaptive-card.json");
	ck_assert_str_eq (astra_check_get_string (card, "type"), "AdaptiveCard");
	ck_assert_str_eq (astra_check_get_string (card, "version"), "1.5");
	ck_assert_uint_le (astra_utf8_length (astra_check_get_string (card, "fallbackText")),
			   TEAMS_TITLE_MAX);
	ck_assert_uint_ge (json_array_get_length (body), 1);

	header = json_array_get_object_element (body, 0);
	ck_assert_str_eq (astra_check_get_string (header, "type"), "Container");
	ck_assert (g_strv_contains ((const char *const[]){ "attention", "warning", "good", "accent", NULL },
				    astra_check_get_string (header, "style")));
	items = astra_check_get_array (header, "items");
	ck_assert_uint_eq (json_array_get_length (items), 2);
	ck_assert_str_eq (astra_check_get_string (json_array_get_object_element (items, 0), "type"),
			  "TextBlock");
	ck_assert_str_eq (astra_check_get_string (json_array_get_object_element (items, 0), "weight"),
			  "Bolder");
	ck_assert (json_object_get_boolean_member (json_array_get_object_element (items, 0), "wrap"));
	assert_markdown_length (astra_check_get_string (json_array_get_object_element (items, 0), "text"),
				TEAMS_TITLE_MAX);
	ck_assert_uint_gt (
	    astra_utf8_length (astra_check_get_string (json_array_get_object_element (items, 0), "text")), 0);

	for (guint i = 1; i < json_array_get_length (body); i++) {
		JsonObject *element = json_array_get_object_element (body, i);
		const char *type = astra_check_get_string (element, "type");

		if (g_strcmp0 (type, "TextBlock") == 0) {
			ck_assert_uint_eq (i, 1);
			ck_assert_uint_gt (strlen (astra_check_get_string (element, "text")), 0);
			assert_markdown_length (astra_check_get_string (element, "text"), TEAMS_DETAIL_MAX);
		} else {
			JsonArray *facts = astra_check_get_array (element, "facts");
			ck_assert_str_eq (type, "FactSet");
			ck_assert_uint_eq (i, json_array_get_length (body) - 1);
			n_facts = json_array_get_length (facts);
			ck_assert_uint_gt (n_facts, 0);
			for (guint j = 0; j < n_facts; j++) {
				JsonObject *fact = json_array_get_object_element (facts, j);
				assert_markdown_length (astra_check_get_string (fact, "title"),
							TEAMS_TITLE_MAX);
				assert_markdown_length (astra_check_get_string (fact, "value"),
							TEAMS_FACT_MAX);
				ck_assert_uint_gt (strlen (astra_check_get_string (fact, "value")), 0);
			}
		}
	}
	actions = json_object_get_member (card, "actions");
	if (actions != NULL) {
		JsonArray *array = json_node_get_array (actions);
		JsonObject *action;
		g_autoptr(AstraRequest) probe = astra_request_new ();
		ck_assert_uint_eq (json_array_get_length (array), 1);
		action = json_array_get_object_element (array, 0);
		ck_assert_str_eq (astra_check_get_string (action, "type"), "Action.OpenUrl");
		ck_assert_str_eq (astra_check_get_string (action, "title"), "Open dashboard");
		ck_assert_uint_le (strlen (astra_check_get_string (action, "url")), TEAMS_LINK_MAX);
		astra_request_set_url (probe, astra_check_get_string (action, "url"));
		ck_assert (astra_request_validate (probe, NULL));
	}
	return n_facts;
}

static guint
assert_message_card_limits (JsonNode *root)
{
	JsonObject *card = json_node_get_object (root);
	JsonArray *sections;
	JsonObject *section;
	JsonNode *facts;
	JsonNode *text;
	JsonNode *actions;
	const char *color;
	guint n_facts = 0;

	assert_strings_clean (root);
	ck_assert_str_eq (astra_check_get_string (card, "@type"), "MessageCard");
	ck_assert_str_eq (astra_check_get_string (card, "@context"), "https://schema.org/extensions");
	ck_assert_uint_le (astra_utf8_length (astra_check_get_string (card, "summary")), TEAMS_TITLE_MAX);
	ck_assert_uint_gt (strlen (astra_check_get_string (card, "summary")), 0);
	color = astra_check_get_string (card, "themeColor");
	ck_assert_uint_eq (strlen (color), 6);
	for (const char *p = color; *p != '\0'; p++)
		ck_assert (g_ascii_isxdigit (*p) && !g_ascii_islower (*p));
	sections = astra_check_get_array (card, "sections");
	ck_assert_uint_eq (json_array_get_length (sections), 1);
	section = json_array_get_object_element (sections, 0);
	assert_markdown_length (astra_check_get_string (section, "activityTitle"), TEAMS_TITLE_MAX);
	ck_assert (json_object_get_boolean_member (section, "markdown"));
	facts = json_object_get_member (section, "facts");
	if (facts != NULL) {
		JsonArray *array = json_node_get_array (facts);
		n_facts = json_array_get_length (array);
		ck_assert_uint_gt (n_facts, 0);
		for (guint j = 0; j < n_facts; j++) {
			JsonObject *fact = json_array_get_object_element (array, j);
			assert_markdown_length (astra_check_get_string (fact, "name"), TEAMS_TITLE_MAX);
			assert_markdown_length (astra_check_get_string (fact, "value"), TEAMS_FACT_MAX);
		}
	}
	text = json_object_get_member (section, "text");
	if (text != NULL) {
		ck_assert_uint_gt (strlen (astra_check_get_string (section, "text")), 0);
		assert_markdown_length (astra_check_get_string (section, "text"), TEAMS_DETAIL_MAX);
	}
	actions = json_object_get_member (card, "potentialAction");
	if (actions != NULL) {
		JsonArray *array = json_node_get_array (actions);
		JsonObject *action = json_array_get_object_element (array, 0);
		JsonObject *target;
		g_autoptr(AstraRequest) probe = astra_request_new ();
		ck_assert_uint_eq (json_array_get_length (array), 1);
		ck_assert_str_eq (astra_check_get_string (action, "@type"), "OpenUri");
		ck_assert_str_eq (astra_check_get_string (action, "name"), "Open dashboard");
		target = json_array_get_object_element (astra_check_get_array (action, "targets"), 0);
		ck_assert_str_eq (astra_check_get_string (target, "os"), "default");
		ck_assert_uint_le (strlen (astra_check_get_string (target, "uri")), TEAMS_LINK_MAX);
		astra_request_set_url (probe, astra_check_get_string (target, "uri"));
		ck_assert (astra_request_validate (probe, NULL));
	}
	return n_facts;
}

/* configuration */

START_TEST (test_config_keys)
{
	g_autoptr(AstraPlugin) plugin = astra_check_plugin_new (&teams);

	astra_check_assert_config_keys (
	    plugin, (const char *const[]){ "url", "url-file", "format", "dashboard-url", NULL });
}
END_TEST

START_TEST (test_url_keys)
{
	astra_check_assert_url_keys (&teams, "format = message-card\n", TEST_URL, TEST_URL);
}
END_TEST

/* each carries T0KEN, which no error may echo */
static const char *const bad_url_cases[] = {
	"ftp://hooks.example.com/T0KEN",
	"file:///etc/T0KEN",
	"http:///T0KEN",
	"hooks.example.com/T0KEN",
	"garbage T0KEN",
	"https://hooks.example.com:99999/T0KEN",
	"https://hooks.example.com/%zzT0KEN",
};

START_TEST (test_url_invalid)
{
	g_autofree char *keys = g_strdup_printf ("url = %s\n", bad_url_cases[_i]);
	g_autofree char *msg = astra_check_configure_error (&teams, keys, "url: ");

	astra_assert_not_contains (msg, "T0KEN");
	astra_assert_not_contains (msg, "hooks.example.com");
}
END_TEST

static const struct {
	const char *line;
	const char *type; /* the root's "type" or "@type" */
} format_cases[] = {
	{ "", "message" },
	{ "format = adaptive-card\n", "message" },
	{ "format = message-card\n", "MessageCard" },
	{ "format = message-card   \n", "MessageCard" },
};

START_TEST (test_format)
{
	g_autofree char *keys = g_strconcat ("url = " TEST_URL "\n", format_cases[_i].line, NULL);
	g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (&teams, keys);
	g_autoptr(AstraEvent) event = astra_check_fixture_event ("agent.status_changed", TEST_EVENT_ID);
	g_autoptr(AstraRequest) request = astra_check_render (plugin, event);
	g_autoptr(JsonNode) root = parse_body (request);
	JsonObject *object = json_node_get_object (root);

	if (json_object_has_member (object, "@type"))
		ck_assert_str_eq (astra_check_get_string (object, "@type"), format_cases[_i].type);
	else
		ck_assert_str_eq (astra_check_get_string (object, "type"), format_cases[_i].type);
}
END_TEST

static const char *const bad_format_cases[] = {
	"format =\n",       "format = MessageCard\n", "format = adaptive\n", "format = adaptive-card-1.6\n",
	"format = T0KEN\n",
};

START_TEST (test_format_invalid)
{
	g_autofree char *keys = g_strconcat ("url = " TEST_URL "\n", bad_format_cases[_i], NULL);
	g_autofree char *msg = astra_check_configure_error (&teams, keys, "format: ");

	astra_assert_not_contains (msg, "T0KEN");
}
END_TEST

START_TEST (test_dashboard_url)
{
	g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (
	    &teams, "url = " TEST_URL "\ndashboard-url = " TEST_DASHBOARD "\n");
	g_autoptr(AstraEvent) event = astra_check_fixture_event ("agent.status_changed", TEST_EVENT_ID);
	g_autoptr(AstraRequest) request = astra_check_render (plugin, event);
	g_autoptr(JsonNode) root = parse_body (request);
	JsonObject *card = get_card (root);
	JsonObject *action = json_array_get_object_element (astra_check_get_array (card, "actions"), 0);

	ck_assert_str_eq (
	    astra_check_get_string (action, "url"),
	    "https://netmon.example.com/agents/agent-123?tenant=tenant-abc&event=agent.status_changed");
}
END_TEST

START_TEST (test_dashboard_url_absent)
{
	g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (&teams, "url = " TEST_URL "\n");
	g_autoptr(AstraPlugin) legacy =
		       astra_check_configure_ok (&teams, "url = " TEST_URL "\nformat = message-card\n");

	for (guint i = 0; i < ASTRA_CHECK_N_EVENT_TYPES; i++) {
		g_autoptr(AstraEvent) event =
			       astra_check_fixture_event (astra_check_event_types[i], TEST_EVENT_ID);
		g_autoptr(AstraRequest) request = astra_check_render (plugin, event);
		g_autoptr(AstraRequest) legacy_request = astra_check_render (legacy, event);
		g_autoptr(JsonNode) root = parse_body (request);
		g_autoptr(JsonNode) legacy_root = parse_body (legacy_request);

		ck_assert (!json_object_has_member (get_card (root), "actions"));
		ck_assert (!json_object_has_member (json_node_get_object (legacy_root), "potentialAction"));
	}
}
END_TEST

/* each refused, and none may echo T0KEN */
static const char *const bad_dashboard_cases[] = {
	"dashboard-url =\n",
	"dashboard-url = ftp://netmon.example.com/T0KEN/{agent_id}\n",
	"dashboard-url = {hostname}/T0KEN\n",
	"dashboard-url = netmon.example.com/T0KEN\n",
	"dashboard-url = https://netmon.example.com/T0KEN two words\n",
	"dashboard-url = https://netmon.example.com/T0KEN\t{agent_id}\n",
	"dashboard-url = https:///T0KEN\n",
};

START_TEST (test_dashboard_url_invalid)
{
	g_autofree char *keys = g_strconcat ("url = " TEST_URL "\n", bad_dashboard_cases[_i], NULL);
	g_autofree char *msg = astra_check_configure_error (&teams, keys, "dashboard-url");

	astra_assert_not_contains (msg, "T0KEN");
	astra_assert_not_contains (msg, "netmon.example.com");
}
END_TEST

START_TEST (test_dashboard_url_too_long)
{
	g_autofree char *path = g_strnfill (3000, 'a');
	g_autofree char *keys =
	    g_strconcat ("url = " TEST_URL "\ndashboard-url = https://netmon.example.com/", path, "\n", NULL);
	g_autofree char *msg = astra_check_configure_error (&teams, keys, "dashboard-url: ");

	astra_assert_contains (msg, "2048");
}
END_TEST

/* rendering */

static const struct {
	const char *style;
	const char *color;
} tone_cases[ASTRA_CHECK_N_EVENT_TYPES] = {
	{ "attention", "E01E5A" }, /* agent.status_changed: offline */
	{ "accent", "1D9BD1" },    /* agent.registered */
	{ "accent", "1D9BD1" },    /* speedtest.completed */
	{ "accent", "1D9BD1" },    /* traceroute.completed: reached */
	{ "attention", "E01E5A" }, /* service_test.failed */
	{ "attention", "E01E5A" }, /* alert.triggered: critical */
	{ "good", "2EB67D" },      /* alert.resolved */
};

START_TEST (test_render_adaptive_card)
{
	g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (
	    &teams, "url = " TEST_URL "\ndashboard-url = " TEST_DASHBOARD "\n");
	g_autoptr(AstraEvent) event = astra_check_fixture_event (astra_check_event_types[_i], TEST_EVENT_ID);
	g_autofree char *text = NULL;
	g_autoptr(AstraRequest) request = astra_check_render_stable (plugin, event, &text);
	g_autoptr(AstraEventView) view = astra_event_view_new (event);
	g_autoptr(JsonNode) root = parse_body (request);
	g_autofree char *user_agent = g_strdup_printf ("astra-alerts/%s (teams)", astra_version_string ());
	g_autofree char *golden = g_strdup_printf ("%s.http", astra_check_event_types[_i]);
	g_autofree char *when = NULL;
	g_autofree char *title = NULL;
	JsonObject *card;
	JsonObject *header;
	JsonArray *items;
	guint n_facts;

	astra_check_assert_post_json (request, TEST_URL, user_agent);

	n_facts = assert_adaptive_card_limits (root);
	card = get_card (root);
	header = json_array_get_object_element (astra_check_get_array (card, "body"), 0);
	ck_assert_str_eq (astra_check_get_string (header, "style"), tone_cases[_i].style);
	items = astra_check_get_array (header, "items");
	title = markdown_unescape (astra_check_get_string (json_array_get_object_element (items, 0), "text"));
	ck_assert_str_eq (title, view->title);
	ck_assert_str_eq (astra_check_get_string (card, "fallbackText"), view->title);
	when = g_strdup_printf ("{{DATE(%s, SHORT)}} {{TIME(%s)}}", astra_event_get_timestamp_string (event),
				astra_event_get_timestamp_string (event));
	ck_assert_str_eq (astra_check_get_string (json_array_get_object_element (items, 1), "text"), when);
	/* every field the view has, nothing cut */
	ck_assert_uint_eq (n_facts, view->fields->len);
	ck_assert (json_object_has_member (card, "actions"));
	astra_check_assert_golden ("teams", golden, text);
}
END_TEST

START_TEST (test_render_message_card)
{
	g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (
	    &teams, "url = " TEST_URL "\nformat = message-card\ndashboard-url = " TEST_DASHBOARD "\n");
	g_autoptr(AstraEvent) event = astra_check_fixture_event (astra_check_event_types[_i], TEST_EVENT_ID);
	g_autofree char *text = NULL;
	g_autoptr(AstraRequest) request = astra_check_render_stable (plugin, event, &text);
	g_autoptr(AstraEventView) view = astra_event_view_new (event);
	g_autoptr(JsonNode) root = parse_body (request);
	g_autofree char *golden = g_strdup_printf ("message-card/%s.http", astra_check_event_types[_i]);
	g_autofree char *title = NULL;
	JsonObject *card;
	JsonObject *section;
	guint n_facts;

	astra_check_assert_post_json (request, TEST_URL, NULL);

	n_facts = assert_message_card_limits (root);
	card = json_node_get_object (root);
	ck_assert_str_eq (astra_check_get_string (card, "themeColor"), tone_cases[_i].color);
	ck_assert_str_eq (astra_check_get_string (card, "summary"), view->title);
	section = json_array_get_object_element (astra_check_get_array (card, "sections"), 0);
	title = markdown_unescape (astra_check_get_string (section, "activityTitle"));
	ck_assert_str_eq (title, view->title);
	ck_assert_str_eq (astra_check_get_string (section, "activitySubtitle"),
			  astra_event_get_timestamp_string (event));
	ck_assert_uint_eq (n_facts, view->fields->len);
	ck_assert (json_object_has_member (card, "potentialAction"));
	astra_check_assert_golden ("teams", golden, text);
}
END_TEST

static AstraEvent *
new_event (AstraEventKind kind, JsonObject *data)
{
	return astra_check_event_new (astra_event_kind_to_string (kind), data);
}

/* the fixture's data with MEMBER set to the string VALUE */
static AstraEvent *
fixture_with (const char *type_name, const char *member, const char *value)
{
	g_autoptr(JsonObject) data = astra_check_fixture_data (type_name);

	json_object_set_string_member (data, member, value);
	return astra_check_event_new (type_name, data);
}

/* the other tones, from the view's rules */
START_TEST (test_render_tones)
{
	static const struct {
		const char *type;
		const char *member;
		const char *value;
		const char *style;
		const char *color;
	} cases[] = {
		{ "agent.status_changed", "current_status", "online", "good", "2EB67D" },
		{ "alert.triggered", "severity", "warning", "warning", "ECB22E" },
		{ "alert.triggered", "severity", "error", "attention", "E01E5A" },
		{ "alert.triggered", "severity", "info", "accent", "1D9BD1" },
	};
	g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (&teams, "url = " TEST_URL "\n");
	g_autoptr(AstraPlugin) legacy =
		       astra_check_configure_ok (&teams, "url = " TEST_URL "\nformat = message-card\n");

	for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
		g_autoptr(AstraEvent) event = fixture_with (cases[i].type, cases[i].member, cases[i].value);
		g_autoptr(AstraRequest) request = astra_check_render (plugin, event);
		g_autoptr(AstraRequest) legacy_request = astra_check_render (legacy, event);
		g_autoptr(JsonNode) root = parse_body (request);
		g_autoptr(JsonNode) legacy_root = parse_body (legacy_request);
		JsonObject *header =
		    json_array_get_object_element (astra_check_get_array (get_card (root), "body"), 0);

		ck_assert_str_eq (astra_check_get_string (header, "style"), cases[i].style);
		ck_assert_str_eq (astra_check_get_string (json_node_get_object (legacy_root), "themeColor"),
				  cases[i].color);
	}
}
END_TEST

/* a traceroute that did not arrive is a warning */
START_TEST (test_render_traceroute_not_reached)
{
	g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (&teams, "url = " TEST_URL "\n");
	g_autoptr(JsonObject) copy = astra_check_fixture_data ("traceroute.completed");
	g_autoptr(AstraEvent) event = NULL;
	g_autoptr(AstraRequest) request = NULL;
	g_autoptr(JsonNode) root = NULL;
	JsonObject *header;

	json_object_set_boolean_member (copy, "destination_reached", FALSE);
	event = new_event (ASTRA_EVENT_KIND_TRACEROUTE_COMPLETED, copy);
	request = astra_check_render (plugin, event);
	root = parse_body (request);
	header = json_array_get_object_element (astra_check_get_array (get_card (root), "body"), 0);
	ck_assert_str_eq (astra_check_get_string (header, "style"), "warning");
}
END_TEST

/* markdown in event text is shown as written, never as emphasis, a link or a list */
START_TEST (test_render_markdown_escaped)
{
	g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (&teams, "url = " TEST_URL "\n");
	g_autoptr(AstraPlugin) legacy =
		       astra_check_configure_ok (&teams, "url = " TEST_URL "\nformat = message-card\n");
	g_autoptr(JsonObject) data = astra_check_fixture_data ("service_test.failed");
	g_autoptr(AstraEvent) event = NULL;
	g_autoptr(AstraRequest) request = NULL;
	g_autoptr(AstraRequest) legacy_request = NULL;
	g_autoptr(JsonNode) root = NULL;
	g_autoptr(JsonNode) legacy_root = NULL;
	JsonArray *body;
	JsonObject *section;
	const char *title;

	json_object_set_string_member (data, "hostname", "- web_01 *hot* [login](https://evil.example/)");
	json_object_set_string_member (
	    data, "error", "- first\n1. second\n  + third\n12) fourth\n-not a list\nC:\\temp\\*x*\n2025. ok");
	event = new_event (ASTRA_EVENT_KIND_SERVICE_TEST_FAILED, data);
	request = astra_check_render (plugin, event);
	root = parse_body (request);
	body = astra_check_get_array (get_card (root), "body");
	title = astra_check_get_string (
	    json_array_get_object_element (
		astra_check_get_array (json_array_get_object_element (body, 0), "items"), 0),
	    "text");
	ck_assert_str_eq (title, "Service test failed: intranet-login (http) from - web\\_01 \\*hot\\* "
				 "\\[login\\]\\(https://evil.example/)");
	ck_assert_str_eq (astra_check_get_string (json_array_get_object_element (body, 1), "text"),
			  "\\- first\n\n1\\. second\n\n  \\+ third\n\n12\\) fourth\n\n-not a list\n\n"
			  "C:\\temp\\\\\\*x\\*\n\n2025\\. ok");
	assert_adaptive_card_limits (root);

	legacy_request = astra_check_render (legacy, event);
	legacy_root = parse_body (legacy_request);
	section = json_array_get_object_element (
	    astra_check_get_array (json_node_get_object (legacy_root), "sections"), 0);
	ck_assert_str_eq (astra_check_get_string (section, "activityTitle"), title);
	ck_assert_str_eq (astra_check_get_string (section, "text"),
			  astra_check_get_string (json_array_get_object_element (body, 1), "text"));
	/* the notification text is plain */
	ck_assert_str_eq (
	    astra_check_get_string (json_node_get_object (legacy_root), "summary"),
	    "Service test failed: intranet-login (http) from - web_01 *hot* [login](https://evil.example/)");
	assert_message_card_limits (legacy_root);
}
END_TEST

/* hostile input */

/* one character each, cycled: markdown, controls, bidi, astral, wide, combining */
static const char *const hostile_units[] = {
	"a",    "_",        "*",  "[",      "x",      "]",      "(",      "h",          ")",
	"\\",   "-",        " ",  "1",      ".",      " ",      "\u202e", "\U0001F525", "\x01",
	"\x1b", "\xc2\x85", "\t", "\u4e2d", "\u00e9", "\u0301", "\u2067", "#",
};

/* N_CHARS characters of hostile text; with NEWLINES some are line breaks */
static char *
hostile_text (gsize n_chars, gboolean newlines)
{
	return astra_check_cycle_text (hostile_units, G_N_ELEMENTS (hostile_units), n_chars,
				       newlines ? 37 : 0);
}

/* the sizes of the issue, or those the event schemas allow (astra_event_new() refuses more) */
typedef struct {
	gsize name;  /* hostname, ids, target, test, rule, server... */
	gsize text;  /* error, summary */
	gsize label; /* each label value */
} HostileSizes;

static const HostileSizes hostile_full = { 4000, 100 * 1024, 100 * 1024 };
static const HostileSizes hostile_schema = { 256, 4096, 1024 };

static void
set_hostile (JsonObject *data, const char *member, gsize n_chars, gboolean newlines)
{
	g_autofree char *text = hostile_text (n_chars, newlines);

	json_object_set_string_member (data, member, text);
}

static JsonObject *
hostile_data (AstraEventKind kind, const HostileSizes *sizes)
{
	JsonObject *data = json_object_new ();

	set_hostile (data, "agent_id", sizes->name, FALSE);
	set_hostile (data, "hostname", sizes->name, FALSE);
	set_hostile (data, "tenant_id", sizes->name, FALSE);
	switch (kind) {
	case ASTRA_EVENT_KIND_AGENT_STATUS_CHANGED:
		json_object_set_string_member (data, "previous_status", "online");
		json_object_set_string_member (data, "current_status", "offline");
		json_object_set_string_member (data, "last_seen", "2025-12-17T10:27:00Z");
		break;
	case ASTRA_EVENT_KIND_AGENT_REGISTERED:
		set_hostile (data, "version", sizes->name, FALSE);
		set_hostile (data, "address", sizes->name, FALSE);
		break;
	case ASTRA_EVENT_KIND_SPEEDTEST_COMPLETED:
		json_object_set_double_member (data, "download_mbps", 1e300);
		json_object_set_double_member (data, "upload_mbps", 5e-324);
		json_object_set_double_member (data, "ping_ms", 0.1);
		json_object_set_double_member (data, "jitter_ms", 123456789.123);
		set_hostile (data, "server", sizes->name, FALSE);
		set_hostile (data, "isp", sizes->name, FALSE);
		break;
	case ASTRA_EVENT_KIND_TRACEROUTE_COMPLETED: {
		JsonArray *hops = json_array_new ();
		set_hostile (data, "target", sizes->name, FALSE);
		json_object_set_boolean_member (data, "destination_reached", FALSE);
		json_object_set_int_member (data, "hop_count", 500);
		for (guint i = 0; i < 500; i++) {
			JsonObject *hop = json_object_new ();
			json_object_set_int_member (hop, "hop", i + 1);
			if (i % 7 == 3) {
				json_object_set_null_member (hop, "address");
				json_object_set_null_member (hop, "rtt_ms");
			} else {
				g_autofree char *address = hostile_text (256, FALSE);
				json_object_set_string_member (hop, "address", address);
				json_object_set_double_member (hop, "rtt_ms", i * 1.25);
			}
			json_array_add_object_element (hops, hop);
		}
		json_object_set_array_member (data, "hops", hops);
		json_object_set_boolean_member (data, "path_changed", TRUE);
		break;
	}
	case ASTRA_EVENT_KIND_SERVICE_TEST_FAILED:
		set_hostile (data, "test", sizes->name, FALSE);
		json_object_set_string_member (data, "kind", "tls");
		set_hostile (data, "target", sizes->name, FALSE);
		set_hostile (data, "error", sizes->text, TRUE);
		json_object_set_int_member (data, "status_code", G_GINT64_CONSTANT (9007199254740991));
		json_object_set_double_member (data, "response_ms", 1e21);
		break;
	case ASTRA_EVENT_KIND_ALERT_TRIGGERED:
	case ASTRA_EVENT_KIND_ALERT_RESOLVED: {
		JsonObject *labels = json_object_new ();
		gboolean resolved = kind == ASTRA_EVENT_KIND_ALERT_RESOLVED;
		set_hostile (data, "alert_id", sizes->name, FALSE);
		set_hostile (data, "rule", sizes->name, FALSE);
		json_object_set_string_member (data, "severity", "critical");
		json_object_set_string_member (data, "state", resolved ? "resolved" : "firing");
		set_hostile (data, "metric", sizes->name, FALSE);
		json_object_set_double_member (data, "value", -1.7976931348623157e308);
		json_object_set_double_member (data, "threshold", 1e-7);
		set_hostile (data, "condition", sizes->name, FALSE);
		/* 100 labels of up to 1024 characters: 100 KB in one field */
		for (guint i = 0; i < 100; i++) {
			g_autofree char *key = g_strdup_printf ("label_%u_\u202e[*]", i);
			g_autofree char *value = hostile_text (MIN (sizes->label, (gsize) 1024), FALSE);
			json_object_set_string_member (labels, key, value);
		}
		json_object_set_object_member (data, "labels", labels);
		set_hostile (data, "summary", sizes->text, FALSE);
		json_object_set_string_member (data, "started_at", "2025-12-17T10:18:00Z");
		if (resolved) {
			json_object_set_string_member (data, "resolved_at", "2025-12-17T10:42:00Z");
			json_object_set_int_member (data, "duration_s", 1440);
		}
		break;
	}
	default:
		g_assert_not_reached ();
	}
	return data;
}

/* the hostile event of KIND, as big as the SDK lets it be */
static AstraEvent *
hostile_event (AstraEventKind kind)
{
	g_autoptr(JsonObject) full = hostile_data (kind, &hostile_full);
	g_autoptr(JsonObject) schema = NULL;
	AstraEvent *event = astra_event_new (kind, ASTRA_CHECK_EVENT_TIME, full, NULL);

	if (event != NULL)
		return event;
	schema = hostile_data (kind, &hostile_schema);
	return new_event (kind, schema);
}

static const char *const hostile_keys[] = {
	/* a link with event text in it: long hostnames make it too long, so it is left out */
	"url = " TEST_URL
	"\ndashboard-url = https://netmon.example.com/{hostname}/{agent_id}?t={tenant_id}\n",
	"url = " TEST_URL "\nformat = message-card\ndashboard-url = https://netmon.example.com/{hostname}\n",
	"url = " TEST_URL "\ndashboard-url = https://netmon.example.com/{event}?at={timestamp}\n",
	"url = " TEST_URL "\nformat = message-card\ndashboard-url = https://netmon.example.com/{event}\n",
};

START_TEST (test_hostile)
{
	AstraEventKind kind = astra_event_kind_from_string (astra_check_event_types[_i]);

	for (guint k = 0; k < G_N_ELEMENTS (hostile_keys); k++) {
		g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (&teams, hostile_keys[k]);
		g_autoptr(AstraEvent) event = hostile_event (kind);
		g_autoptr(AstraEventView) view = astra_event_view_new (event);
		g_autoptr(AstraRequest) request = astra_check_render (plugin, event);
		g_autoptr(AstraRequest) again = astra_check_render (plugin, event);
		g_autoptr(JsonNode) root = parse_body (request);
		gboolean legacy = strstr (hostile_keys[k], "message-card") != NULL;
		guint n_facts;

		ck_assert (g_bytes_equal (astra_request_get_body (request), astra_request_get_body (again)));
		n_facts = legacy ? assert_message_card_limits (root) : assert_adaptive_card_limits (root);
		ck_assert_uint_le (n_facts, view->fields->len);
		/* the short link survives any event */
		if (strstr (hostile_keys[k], "{event}") != NULL) {
			JsonObject *object = json_node_get_object (root);
			ck_assert (legacy ? json_object_has_member (object, "potentialAction")
					  : json_object_has_member (get_card (root), "actions"));
		}
	}
}
END_TEST

/* only the required fields, the optional strings empty: no empty text anywhere */
START_TEST (test_hostile_empty_optional)
{
	AstraEventKind kind = astra_event_kind_from_string (astra_check_event_types[_i]);
	g_autoptr(JsonObject) data = json_object_new ();
	g_autoptr(AstraEvent) event = NULL;

	json_object_set_string_member (data, "agent_id", "a");
	json_object_set_string_member (data, "hostname", "h");
	json_object_set_string_member (data, "tenant_id", "t");
	switch (kind) {
	case ASTRA_EVENT_KIND_AGENT_STATUS_CHANGED:
		json_object_set_string_member (data, "previous_status", "unknown");
		json_object_set_string_member (data, "current_status", "offline");
		break;
	case ASTRA_EVENT_KIND_AGENT_REGISTERED:
		json_object_set_string_member (data, "version", "");
		json_object_set_string_member (data, "address", "");
		break;
	case ASTRA_EVENT_KIND_SPEEDTEST_COMPLETED:
		json_object_set_int_member (data, "download_mbps", 0);
		json_object_set_int_member (data, "upload_mbps", 0);
		json_object_set_int_member (data, "ping_ms", 0);
		json_object_set_string_member (data, "server", "");
		json_object_set_string_member (data, "isp", "");
		break;
	case ASTRA_EVENT_KIND_TRACEROUTE_COMPLETED:
		json_object_set_string_member (data, "target", "x");
		json_object_set_boolean_member (data, "destination_reached", TRUE);
		json_object_set_int_member (data, "hop_count", 0);
		json_object_set_array_member (data, "hops", json_array_new ());
		break;
	case ASTRA_EVENT_KIND_SERVICE_TEST_FAILED:
		json_object_set_string_member (data, "test", "x");
		json_object_set_string_member (data, "kind", "dns");
		json_object_set_string_member (data, "target", "x");
		json_object_set_string_member (data, "error", "");
		json_object_set_null_member (data, "status_code");
		json_object_set_null_member (data, "response_ms");
		break;
	case ASTRA_EVENT_KIND_ALERT_TRIGGERED:
	case ASTRA_EVENT_KIND_ALERT_RESOLVED:
		json_object_remove_member (data, "agent_id");
		json_object_remove_member (data, "hostname");
		json_object_remove_member (data, "tenant_id");
		json_object_set_string_member (data, "alert_id", "x");
		json_object_set_string_member (data, "rule", "r");
		json_object_set_string_member (data, "severity", "info");
		json_object_set_string_member (
		    data, "state", kind == ASTRA_EVENT_KIND_ALERT_RESOLVED ? "resolved" : "firing");
		json_object_set_string_member (data, "metric", "m");
		json_object_set_int_member (data, "value", 0);
		json_object_set_int_member (data, "threshold", 0);
		json_object_set_string_member (data, "condition", "c");
		json_object_set_object_member (data, "labels", json_object_new ());
		json_object_set_string_member (data, "summary", "");
		json_object_set_string_member (data, "started_at", "2025-12-17T10:18:00Z");
		if (kind == ASTRA_EVENT_KIND_ALERT_RESOLVED) {
			json_object_set_string_member (data, "resolved_at", "2025-12-17T10:42:00Z");
			json_object_set_int_member (data, "duration_s", 0);
		}
		break;
	default:
		g_assert_not_reached ();
	}
	event = new_event (kind, data);

	for (guint k = 0; k < G_N_ELEMENTS (hostile_keys); k++) {
		g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (&teams, hostile_keys[k]);
		g_autoptr(AstraEventView) view = astra_event_view_new (event);
		g_autoptr(AstraRequest) request = astra_check_render (plugin, event);
		g_autoptr(JsonNode) root = parse_body (request);
		gboolean legacy = strstr (hostile_keys[k], "message-card") != NULL;
		guint n_facts =
		    legacy ? assert_message_card_limits (root) : assert_adaptive_card_limits (root);

		ck_assert_uint_eq (n_facts, view->fields->len);
		if (legacy) {
			JsonObject *section = json_array_get_object_element (
			    astra_check_get_array (json_node_get_object (root), "sections"), 0);
			ck_assert (json_object_has_member (section, "text") ==
				   (view->detail != NULL && view->detail[0] != '\0'));
		} else {
			ck_assert_uint_eq (
			    json_array_get_length (astra_check_get_array (get_card (root), "body")),
			    1 + (view->detail != NULL && view->detail[0] != '\0') + (n_facts > 0));
		}
	}
}
END_TEST

/* over the budget the detail shrinks first, and the facts stay whole */
START_TEST (test_budget_detail_first)
{
	g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (&teams, "url = " TEST_URL "\n");
	g_autoptr(JsonObject) copy = astra_check_fixture_data ("traceroute.completed");
	JsonArray *hops = json_array_new ();
	g_autoptr(AstraEvent) event = NULL;
	g_autoptr(AstraEventView) view = NULL;
	g_autoptr(AstraRequest) request = NULL;
	g_autoptr(JsonNode) root = NULL;
	JsonArray *body;
	JsonArray *facts;
	const char *detail;

	/* 500 hops of emoji addresses: far more than the budget */
	for (guint i = 0; i < 500; i++) {
		JsonObject *hop = json_object_new ();
		g_autofree char *address = NULL;
		GString *str = g_string_new (NULL);
		for (guint j = 0; j < 60; j++)
			g_string_append (str, "\U0001F525");
		address = g_string_free (str, FALSE);
		json_object_set_int_member (hop, "hop", i + 1);
		json_object_set_string_member (hop, "address", address);
		json_object_set_double_member (hop, "rtt_ms", 1.5);
		json_array_add_object_element (hops, hop);
	}
	json_object_set_array_member (copy, "hops", hops);
	event = new_event (ASTRA_EVENT_KIND_TRACEROUTE_COMPLETED, copy);
	view = astra_event_view_new (event);
	request = astra_check_render (plugin, event);
	ck_assert_uint_gt (g_bytes_get_size (astra_request_get_body (request)), TEAMS_BODY_MAX - 1024);
	root = parse_body (request);
	assert_adaptive_card_limits (root);
	body = astra_check_get_array (get_card (root), "body");
	ck_assert_uint_eq (json_array_get_length (body), 3);
	detail = astra_check_get_string (json_array_get_object_element (body, 1), "text");
	ck_assert (g_str_has_prefix (detail, "1  \U0001F525"));
	ck_assert (g_str_has_suffix (detail, "\u2026"));
	facts = astra_check_get_array (json_array_get_object_element (body, 2), "facts");
	ck_assert_uint_eq (json_array_get_length (facts), view->fields->len);
	for (guint i = 0; i < view->fields->len; i++) {
		AstraViewField *field = g_ptr_array_index (view->fields, i);
		g_autofree char *value = markdown_unescape (
		    astra_check_get_string (json_array_get_object_element (facts, i), "value"));
		ck_assert_str_eq (value, field->value);
	}
}
END_TEST

/* the view's text of each fact, and what the body shows of it (NULL when left out) */
static void
assert_shrink_order (AstraEventView *view, JsonArray *facts, gboolean has_detail)
{
	guint n_facts = facts != NULL ? json_array_get_length (facts) : 0;
	gboolean cut = FALSE;

	ck_assert_uint_le (n_facts, view->fields->len);
	for (guint i = 0; i < n_facts; i++) {
		AstraViewField *field = g_ptr_array_index (view->fields, i);
		JsonObject *fact = json_array_get_object_element (facts, i);
		const char *markdown =
		    json_object_has_member (fact, "value") ? astra_check_get_string (fact, "value") : NULL;
		g_autofree char *shown = markdown_unescape (markdown);
		g_autofree char *natural = astra_utf8_truncate (field->value, TEAMS_FACT_MAX);

		if (g_strcmp0 (shown, natural) != 0) {
			/* a cut fact shows a prefix of its text */
			g_autofree char *head = g_utf8_substring (shown, 0, astra_utf8_length (shown) - 1);
			ck_assert (g_str_has_suffix (shown, "\u2026"));
			ck_assert (g_str_has_prefix (field->value, head));
			cut = TRUE;
		}
		/* once facts are left out, every other one is as short as facts get */
		if (n_facts < view->fields->len)
			ck_assert_uint_le (astra_utf8_length (shown), 64);
	}
	/* the detail goes before any fact is cut or left out */
	if (cut || n_facts < view->fields->len)
		ck_assert (!has_detail);
}

/* lower budgets make every step happen, in order: the detail, the fact values, the last facts */
static const gsize budget_cases[] = { 16000, 8000, 5000, 3500, 2500, 1500 };

START_TEST (test_budget_order)
{
	gsize budget = budget_cases[_i];
	guint n_rendered = 0;

	for (guint t = 0; t < ASTRA_CHECK_N_EVENT_TYPES; t++) {
		AstraEventKind kind = astra_event_kind_from_string (astra_check_event_types[t]);
		g_autoptr(AstraEvent) event = hostile_event (kind);
		g_autoptr(AstraEventView) view = astra_event_view_new (event);

		for (guint legacy = 0; legacy < 2; legacy++) {
			g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (
			    &teams,
			    legacy ? "url = " TEST_URL "\nformat = message-card\n" : "url = " TEST_URL "\n");
			g_autoptr(AstraRequest) request = astra_request_new ();
			g_autoptr(GError) error = NULL;
			g_autoptr(JsonNode) root = NULL;
			JsonObject *container;
			JsonNode *facts_node;
			gboolean has_detail;

			astra_teams_plugin_set_body_max (ASTRA_TEAMS_PLUGIN (plugin), budget);
			if (!astra_plugin_render (plugin, event, request, &error)) {
				/* only when even the title does not fit */
				ck_assert_msg (g_error_matches (error, ASTRA_ERROR, ASTRA_ERROR_TOO_LARGE),
					       "%s", error->message);
				ck_assert_uint_le (budget, 2500);
				continue;
			}
			n_rendered++;
			ck_assert_uint_le (g_bytes_get_size (astra_request_get_body (request)), budget);
			root = parse_body (request);
			if (legacy) {
				assert_message_card_limits (root);
				container = json_array_get_object_element (
				    astra_check_get_array (json_node_get_object (root), "sections"), 0);
				has_detail = json_object_has_member (container, "text");
				facts_node = json_object_get_member (container, "facts");
				assert_shrink_order (
				    view, facts_node != NULL ? json_node_get_array (facts_node) : NULL,
				    has_detail);
			} else {
				JsonArray *body = astra_check_get_array (get_card (root), "body");
				JsonObject *last =
				    json_array_get_object_element (body, json_array_get_length (body) - 1);
				assert_adaptive_card_limits (root);
				has_detail = json_array_get_length (body) > 1 &&
					     g_strcmp0 (astra_check_get_string (
							    json_array_get_object_element (body, 1), "type"),
							"TextBlock") == 0;
				assert_shrink_order (
				    view,
				    g_strcmp0 (astra_check_get_string (last, "type"), "FactSet") == 0
					? astra_check_get_array (last, "facts")
					: NULL,
				    has_detail);
			}
		}
	}
	/* the larger budgets fit every event */
	if (budget >= 4000)
		ck_assert_uint_eq (n_rendered, 2 * ASTRA_CHECK_N_EVENT_TYPES);
}
END_TEST

/* each step happens for some budget: a fact cut, a fact left out, nothing fitting */
START_TEST (test_budget_steps)
{
	g_autoptr(AstraEvent) event = hostile_event (ASTRA_EVENT_KIND_ALERT_RESOLVED);
	g_autoptr(AstraEventView) view = astra_event_view_new (event);
	gboolean seen_cut = FALSE;
	gboolean seen_dropped = FALSE;
	gboolean seen_too_large = FALSE;

	for (gsize budget = 24 * 1024; budget >= 500; budget -= 250) {
		g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (&teams, "url = " TEST_URL "\n");
		g_autoptr(AstraRequest) request = astra_request_new ();
		g_autoptr(GError) error = NULL;
		g_autoptr(JsonNode) root = NULL;
		JsonArray *body;
		JsonObject *last;
		JsonArray *facts;

		astra_teams_plugin_set_body_max (ASTRA_TEAMS_PLUGIN (plugin), budget);
		if (!astra_plugin_render (plugin, event, request, &error)) {
			ck_assert (g_error_matches (error, ASTRA_ERROR, ASTRA_ERROR_TOO_LARGE));
			seen_too_large = TRUE;
			continue;
		}
		ck_assert_msg (!seen_too_large, "%" G_GSIZE_FORMAT " fits after a larger budget did not",
			       budget);
		root = parse_body (request);
		body = astra_check_get_array (get_card (root), "body");
		last = json_array_get_object_element (body, json_array_get_length (body) - 1);
		if (g_strcmp0 (astra_check_get_string (last, "type"), "FactSet") != 0) {
			seen_dropped = TRUE;
			continue;
		}
		facts = astra_check_get_array (last, "facts");
		if (json_array_get_length (facts) < view->fields->len)
			seen_dropped = TRUE;
		for (guint i = 0; i < json_array_get_length (facts); i++) {
			AstraViewField *field = g_ptr_array_index (view->fields, i);
			g_autofree char *shown = markdown_unescape (
			    astra_check_get_string (json_array_get_object_element (facts, i), "value"));
			g_autofree char *natural = astra_utf8_truncate (field->value, TEAMS_FACT_MAX);
			if (g_strcmp0 (shown, natural) != 0)
				seen_cut = TRUE;
		}
	}
	ck_assert (seen_cut);
	ck_assert (seen_dropped);
	ck_assert (seen_too_large);
}
END_TEST

/* classify */

#define LEGACY_429                                                                                           \
	"Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error 429 with " \
	"ContextId "                                                                                         \
	"tcid=0,server=msgapi-production-cse-azsc7-2-35,cv=nJ1uHxtRn0SjGFvY1bhszg.0,MS-CV="                  \
	"nJ1uHxtRn0SjGFvY1bhszg.0.."
#define LEGACY(code)                                                                                         \
	"Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error " code     \
	" with ContextId tcid=622824298674363899,server=DB5PEPF00003FC8,cv=AszFFaeXdEGdFrJhai0eUw.1.0.."

static const AstraCheckClassifyCase classify_cases[] = {
	/* Workflows: queued, the card is posted later (or the flow fails in its run history) */
	{ 202, NULL, NULL, ASTRA_OUTCOME_DELIVERED, -1, NULL },
	{ 202, "", NULL, ASTRA_OUTCOME_DELIVERED, -1, NULL },
	/* an old connector: "1" */
	{ 200, "1", NULL, ASTRA_OUTCOME_DELIVERED, -1, NULL },
	{ 200, NULL, NULL, ASTRA_OUTCOME_DELIVERED, -1, NULL },
	{ 201, NULL, NULL, ASTRA_OUTCOME_DELIVERED, -1, NULL },
	{ 204, NULL, NULL, ASTRA_OUTCOME_DELIVERED, -1, NULL },
	/* an old connector's errors inside a 200 */
	{ 200, LEGACY_429, NULL, ASTRA_OUTCOME_RETRY, -1, "throttled: HTTP error 429 in a 200 response" },
	{ 200, LEGACY_429, "30", ASTRA_OUTCOME_RETRY, 30, "throttled: HTTP error 429 in a 200 response" },
	{ 200, LEGACY ("413"), NULL, ASTRA_OUTCOME_FAILED, -1,
	  "payload too large: HTTP error 413 in a 200 response" },
	{ 200, LEGACY ("400"), NULL, ASTRA_OUTCOME_FAILED, -1, "HTTP error 400 in a 200 response" },
	{ 200, LEGACY ("502"), "5", ASTRA_OUTCOME_RETRY, 5, "HTTP error 502 in a 200 response" },
	{ 200, "Webhook message delivery failed with error: something else", NULL, ASTRA_OUTCOME_FAILED, -1,
	  "delivery failed (in a 200 response)" },
	{ 200, LEGACY ("4x9"), NULL, ASTRA_OUTCOME_FAILED, -1, "delivery failed (in a 200 response)" },
	{ 200, LEGACY ("4290"), NULL, ASTRA_OUTCOME_FAILED, -1, "delivery failed (in a 200 response)" },
	{ 200, "Microsoft Teams endpoint returned HTTP error 42", NULL, ASTRA_OUTCOME_FAILED, -1,
	  "delivery failed (in a 200 response)" },
	{ 200, "Microsoft Teams endpoint returned HTTP error 042", NULL, ASTRA_OUTCOME_FAILED, -1,
	  "delivery failed (in a 200 response)" },
	/* only 200 carries it: Workflows' 202 is not an old connector */
	{ 202, LEGACY_429, NULL, ASTRA_OUTCOME_DELIVERED, -1, NULL },
	/* throttled */
	{ 429, NULL, "7", ASTRA_OUTCOME_RETRY, 7, "too many requests" },
	{ 429, NULL, NULL, ASTRA_OUTCOME_RETRY, -1, "too many requests" },
	{ 429, "{\"error\":{\"code\":\"WorkflowRequestsThrottled\",\"message\":\"Rate limit\"}}", "60",
	  ASTRA_OUTCOME_RETRY, 60, "WorkflowRequestsThrottled" },
	/* rejected */
	{ 413, NULL, NULL, ASTRA_OUTCOME_FAILED, -1, "payload too large" },
	{ 413, "{\"error\":{\"code\":\"RequestEntityTooLarge\"}}", NULL, ASTRA_OUTCOME_FAILED, -1,
	  "payload too large" },
	{ 400,
	  "{\"error\":{\"code\":\"InvalidRequestContent\",\"message\":\"The input body for trigger "
	  "'manual'\"}}",
	  NULL, ASTRA_OUTCOME_FAILED, -1, "InvalidRequestContent" },
	{ 400, NULL, NULL, ASTRA_OUTCOME_FAILED, -1, NULL },
	{ 400, "Bad Request", NULL, ASTRA_OUTCOME_FAILED, -1, NULL },
	{ 401, "{\"error\":{\"code\":\"DirectApiAuthorizationRequired\"}}", NULL, ASTRA_OUTCOME_FAILED, -1,
	  "DirectApiAuthorizationRequired" },
	{ 403, NULL, NULL, ASTRA_OUTCOME_FAILED, -1, NULL },
	/* the destination is gone */
	{ 404,
	  "{\"error\":{\"code\":\"WorkflowNotFound\",\"message\":\"The workflow 'x' could not be found.\"}}",
	  NULL, ASTRA_OUTCOME_GONE, -1, "WorkflowNotFound" },
	{ 404, NULL, NULL, ASTRA_OUTCOME_GONE, -1, "not found" },
	{ 410, NULL, "7", ASTRA_OUTCOME_GONE, -1, "gone" },
	/* transient */
	{ 408, NULL, NULL, ASTRA_OUTCOME_RETRY, -1, NULL },
	{ 500, NULL, NULL, ASTRA_OUTCOME_RETRY, -1, NULL },
	{ 502, "<html>Bad Gateway</html>", NULL, ASTRA_OUTCOME_RETRY, -1, NULL },
	{ 503, NULL, "120", ASTRA_OUTCOME_RETRY, 120, NULL },
	{ 503, "{\"error\":{\"code\":\"ServiceUnavailable\"}}", NULL, ASTRA_OUTCOME_RETRY, -1,
	  "ServiceUnavailable" },
	/* never followed */
	{ 302, "{\"error\":{\"code\":\"Moved\"}}", NULL, ASTRA_OUTCOME_FAILED, -1, "redirect not followed" },
	{ 301, NULL, NULL, ASTRA_OUTCOME_FAILED, -1, "redirect not followed" },
	/* codes that are not plain words are not repeated */
	{ 400, "{\"error\":{\"code\":\"see https://example.com/T0KEN\"}}", NULL, ASTRA_OUTCOME_FAILED, -1,
	  NULL },
	{ 400, "{\"error\":{\"code\":\"\"}}", NULL, ASTRA_OUTCOME_FAILED, -1, NULL },
	{ 400, "{\"error\":{\"code\":42}}", NULL, ASTRA_OUTCOME_FAILED, -1, NULL },
	{ 400, "{\"error\":\"InvalidRequestContent\"}", NULL, ASTRA_OUTCOME_FAILED, -1, NULL },
	{ 400, "{\"error\":{\"code\":\"Code\\u202eWithBidi\"}}", NULL, ASTRA_OUTCOME_FAILED, -1, NULL },
	{ 400,
	  "{\"error\":{\"code\":\"A123456789B123456789C123456789D123456789E123456789F123456789G12345\"}}",
	  NULL, ASTRA_OUTCOME_FAILED, -1, NULL },
	/* hostile bodies */
	{ 400, "{\"error\":{\"code\":\"X\"", NULL, ASTRA_OUTCOME_FAILED, -1, NULL },
	{ 400, "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]", NULL,
	  ASTRA_OUTCOME_FAILED, -1, NULL },
	{ 400, "\xff\xfe{\"error\":{\"code\":\"X\"}}", NULL, ASTRA_OUTCOME_FAILED, -1, NULL },
};

START_TEST (test_classify)
{
	g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (&teams, "url = " TEST_URL "\n");

	astra_check_assert_classify (plugin, &classify_cases[_i]);
}
END_TEST

/* bodies larger than what classify reads: the text is not looked for past it, nothing crashes */
START_TEST (test_classify_large_bodies)
{
	g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (&teams, "url = " TEST_URL "\n");
	g_autoptr(GString) late = g_string_new (NULL);
	g_autoptr(GString) deep = g_string_new (NULL);
	g_autoptr(GString) big_json = g_string_new ("{\"error\":{\"code\":\"TooBig\",\"message\":\"");
	g_autoptr(GBytes) late_body = NULL;
	g_autoptr(GBytes) deep_body = NULL;
	g_autoptr(GBytes) big_body = NULL;
	g_autoptr(GBytes) nul_body = NULL;
	g_autoptr(AstraResponse) late_response = NULL;
	g_autoptr(AstraResponse) deep_response = NULL;
	g_autoptr(AstraResponse) big_response = NULL;
	g_autoptr(AstraResponse) nul_response = NULL;
	static const char nul_text[] = "1\0" LEGACY_429;

	/* an old connector's text after 1 MB of padding */
	for (guint i = 0; i < 1024 * 1024; i++)
		g_string_append_c (late, ' ');
	g_string_append (late, LEGACY_429);
	late_body = g_bytes_new (late->str, late->len);
	late_response = astra_response_new (200, late_body);
	ck_assert_int_eq (astra_plugin_classify (plugin, late_response), ASTRA_OUTCOME_DELIVERED);

	/* nesting far beyond what the parser accepts */
	for (guint i = 0; i < 100000; i++)
		g_string_append_c (deep, '[');
	deep_body = g_bytes_new (deep->str, deep->len);
	deep_response = astra_response_new (400, deep_body);
	ck_assert_int_eq (astra_plugin_classify (plugin, deep_response), ASTRA_OUTCOME_FAILED);
	ck_assert_ptr_null (astra_response_get_reason (deep_response));

	/* a JSON error larger than what is parsed */
	for (guint i = 0; i < 64 * 1024; i++)
		g_string_append_c (big_json, 'x');
	g_string_append (big_json, "\"}}");
	big_body = g_bytes_new (big_json->str, big_json->len);
	big_response = astra_response_new (400, big_body);
	ck_assert_int_eq (astra_plugin_classify (plugin, big_response), ASTRA_OUTCOME_FAILED);
	ck_assert_ptr_null (astra_response_get_reason (big_response));

	/* text after a NUL byte is not read */
	nul_body = g_bytes_new (nul_text, sizeof (nul_text) - 1);
	nul_response = astra_response_new (200, nul_body);
	ck_assert_int_eq (astra_plugin_classify (plugin, nul_response), ASTRA_OUTCOME_DELIVERED);
}
END_TEST

static Suite *
teams_suite (void)
{
	Suite *s = suite_create ("teams");
	TCase *tc;

	tc = astra_check_tmpdir_tcase_new ("configure");
	tcase_add_test (tc, test_config_keys);
	tcase_add_test (tc, test_url_keys);
	tcase_add_loop_test (tc, test_url_invalid, 0, G_N_ELEMENTS (bad_url_cases));
	tcase_add_loop_test (tc, test_format, 0, G_N_ELEMENTS (format_cases));
	tcase_add_loop_test (tc, test_format_invalid, 0, G_N_ELEMENTS (bad_format_cases));
	tcase_add_test (tc, test_dashboard_url);
	tcase_add_test (tc, test_dashboard_url_absent);
	tcase_add_loop_test (tc, test_dashboard_url_invalid, 0, G_N_ELEMENTS (bad_dashboard_cases));
	tcase_add_test (tc, test_dashboard_url_too_long);
	suite_add_tcase (s, tc);

	tc = tcase_create ("render");
	tcase_add_loop_test (tc, test_render_adaptive_card, 0, ASTRA_CHECK_N_EVENT_TYPES);
	tcase_add_loop_test (tc, test_render_message_card, 0, ASTRA_CHECK_N_EVENT_TYPES);
	tcase_add_test (tc, test_render_tones);
	tcase_add_test (tc, test_render_traceroute_not_reached);
	tcase_add_test (tc, test_render_markdown_escaped);
	suite_add_tcase (s, tc);

	tc = tcase_create ("hostile");
	tcase_set_timeout (tc, 60);
	tcase_add_loop_test (tc, test_hostile, 0, ASTRA_CHECK_N_EVENT_TYPES);
	tcase_add_loop_test (tc, test_hostile_empty_optional, 0, ASTRA_CHECK_N_EVENT_TYPES);
	tcase_add_test (tc, test_budget_detail_first);
	tcase_add_loop_test (tc, test_budget_order, 0, G_N_ELEMENTS (budget_cases));
	tcase_add_test (tc, test_budget_steps);
	suite_add_tcase (s, tc);

	tc = tcase_create ("classify");
	tcase_add_loop_test (tc, test_classify, 0, G_N_ELEMENTS (classify_cases));
	tcase_add_test (tc, test_classify_large_bodies);
	suite_add_tcase (s, tc);

	return s;
}

int
main (void)
{
	return astra_check_run_suite (teams_suite ());
}
