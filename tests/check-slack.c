/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The Slack plugin, built from its static library: configuration (every key,
 * good and bad), rendering of every event type against golden files, the
 * Block Kit limits for hostile input through every event type, mrkdwn
 * escaping, and the classification of every Slack answer.
 *
 * Golden files: tests/golden/slack/<type>.http (see tests/golden/slack/README.md).
 * After an intended change, regenerate them with
 *
 *   ASTRA_UPDATE_GOLDEN=1 meson test -C build slack
 *
 * and review the diff before committing.
 */

#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "astra-check-common.h"
#include "astra-event-view.h"
#include "astra-slack-plugin.h"

#define TEST_URL	   "https://hooks.slack.com/services/T000/B000/XXXXSECRET"
#define TEST_GROUP	   "webhook test"
#define TEST_EVENT_ID	   "evt_01JFA3G2M8Q4X7ZKD5N0C6B1YR"
#define TEST_MENTION	   "<!here>"
#define TEST_DASHBOARD	   "https://netmon.example.com/agents/{agent_id}?tenant={tenant_id}&event={id}"
#define TEST_FULL_CONFIG   "url = " TEST_URL "\nmention = " TEST_MENTION "\ndashboard-url = " TEST_DASHBOARD "\n"
#define TEST_PLAIN_CONFIG  "url = " TEST_URL "\n"

/* Block Kit's limits (DESTINATIONS.md section 2.2), and the plugin's own total */
#define SLACK_HEADER_MAX	   150
#define SLACK_SECTION_TEXT_MAX	   3000
#define SLACK_FIELD_MAX		   2000
#define SLACK_FIELDS_PER_SECTION   10
#define SLACK_BLOCKS_MAX	   50
#define SLACK_CONTEXT_ELEMENTS_MAX 10
#define SLACK_MESSAGE_TEXT_MAX	   40000
#define SLACK_BLOCKS_TEXT_BUDGET   8000

/* the plugin */

static const AstraCheckPlugin slack = { "slack", TEST_GROUP, astra_slack_plugin_get_type, NULL };

/* renders EVENT and parses the body */
static JsonNode *
render_json (AstraPlugin *plugin, AstraEvent *event)
{
	g_autoptr(AstraRequest) request = astra_check_render (plugin, event);

	return astra_check_parse_body (request);
}

static AstraEvent *
fixture_event (const char *type_name)
{
	return astra_check_fixture_event (type_name, TEST_EVENT_ID);
}

/* the payload's shape */

static JsonObject *
get_object_element (JsonArray *array, guint i)
{
	JsonNode *node = json_array_get_element (array, i);

	ck_assert (JSON_NODE_HOLDS_OBJECT (node));
	return json_node_get_object (node);
}

static JsonArray *
top_blocks (JsonNode *root)
{
	return astra_check_get_array (json_node_get_object (root), "blocks");
}

static JsonObject *
attachment (JsonNode *root)
{
	JsonArray *attachments = astra_check_get_array (json_node_get_object (root), "attachments");

	ck_assert_uint_eq (json_array_get_length (attachments), 1);
	return get_object_element (attachments, 0);
}

static JsonArray *
attachment_blocks (JsonNode *root)
{
	return astra_check_get_array (attachment (root), "blocks");
}

/* every <…> sequence in a mrkdwn TEXT is one the plugin wrote: the configured
 * mention, the event time, the dashboard link; & only starts an entity */
static void
assert_mrkdwn_safe (const char *text, const char *mention, const char *dashboard_prefix)
{
	for (const char *p = text; *p != '\0'; p++) {
		if (*p == '&') {
			ck_assert_msg (g_str_has_prefix (p, "&amp;") || g_str_has_prefix (p, "&lt;") ||
					   g_str_has_prefix (p, "&gt;"),
				       "a bare & in '%s'", text);
		}
		if (*p == '>')
			ck_assert_msg (FALSE, "a bare > in '%s'", text);
		if (*p != '<')
			continue;
		{
			const char *end = strchr (p, '>');
			g_autofree char *seq = NULL;

			ck_assert_msg (end != NULL, "an unterminated < in '%s'", text);
			seq = g_strndup (p, (gsize) (end - p + 1));
			if (g_str_has_prefix (seq, "<!date^")) {
				/* <!date^SECONDS^{date_num} {time_secs}|RFC 3339> */
				ck_assert_msg (g_regex_match_simple ("^<!date\\^[0-9]+\\^\\{date_num\\} \\{time_secs\\}\\|"
								     "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z>$",
								     seq, 0, 0),
					       "odd date sequence %s", seq);
			} else if (dashboard_prefix != NULL && g_str_has_prefix (seq + 1, dashboard_prefix)) {
				ck_assert_msg (g_str_has_suffix (seq, "|Open dashboard>"), "odd link %s", seq);
			} else {
				ck_assert_msg (mention != NULL && strstr (mention, seq) != NULL,
					       "a control sequence %s not from the configuration in '%s'", seq, text);
			}
			p = end;
		}
	}
}

typedef struct {
	const char *mention;
	const char *dashboard_prefix;
	gsize blocks_text; /* characters in all text objects of all blocks */
	guint n_blocks;
} PayloadCheck;

static void
check_text_object (JsonObject *object, gsize max_chars, PayloadCheck *check, gboolean plain_only)
{
	const char *type = astra_check_get_string (object, "type");
	const char *text = astra_check_get_string (object, "text");
	gsize len = astra_utf8_length (text);

	ck_assert_msg (len > 0, "an empty %s text object", type);
	ck_assert_msg (strspn (text, " \n") < strlen (text), "a blank %s text object", type);
	ck_assert_msg (len <= max_chars, "%s text of %zu characters (limit %zu)", type, len, max_chars);
	if (plain_only || g_strcmp0 (type, "plain_text") == 0) {
		ck_assert_str_eq (type, "plain_text");
		astra_check_assert_clean_text (type, text, FALSE);
	} else {
		ck_assert_str_eq (type, "mrkdwn");
		/* no auto-linking of what the data holds */
		ck_assert (json_object_get_boolean_member_with_default (object, "verbatim", FALSE));
		astra_check_assert_clean_text (type, text, TRUE);
		assert_mrkdwn_safe (text, check->mention, check->dashboard_prefix);
	}
	check->blocks_text += len;
}

static void
check_block (JsonObject *block, PayloadCheck *check)
{
	const char *type = astra_check_get_string (block, "type");

	check->n_blocks++;
	if (g_strcmp0 (type, "header") == 0) {
		check_text_object (json_object_get_object_member (block, "text"), SLACK_HEADER_MAX, check, TRUE);
	} else if (g_strcmp0 (type, "section") == 0) {
		JsonNode *text = json_object_get_member (block, "text");
		JsonNode *fields = json_object_get_member (block, "fields");

		ck_assert_msg (text != NULL || fields != NULL, "a section with neither text nor fields");
		if (text != NULL)
			check_text_object (json_node_get_object (text), SLACK_SECTION_TEXT_MAX, check, FALSE);
		if (fields != NULL) {
			JsonArray *array = json_node_get_array (fields);
			guint n = json_array_get_length (array);

			ck_assert_msg (n >= 1 && n <= SLACK_FIELDS_PER_SECTION, "a section with %u fields", n);
			for (guint i = 0; i < n; i++)
				check_text_object (get_object_element (array, i), SLACK_FIELD_MAX, check, FALSE);
		}
	} else if (g_strcmp0 (type, "context") == 0) {
		JsonArray *elements = astra_check_get_array (block, "elements");
		guint n = json_array_get_length (elements);

		ck_assert (n >= 1 && n <= SLACK_CONTEXT_ELEMENTS_MAX);
		for (guint i = 0; i < n; i++)
			check_text_object (get_object_element (elements, i), SLACK_SECTION_TEXT_MAX, check, FALSE);
	} else {
		ck_assert_msg (FALSE, "unexpected block type %s", type);
	}
}

/* every limit and rule of DESTINATIONS.md section 2 for a rendered payload */
static void
check_payload (JsonNode *root, const char *mention, const char *dashboard_prefix)
{
	PayloadCheck check = {mention, dashboard_prefix, 0, 0};
	JsonObject *object = json_node_get_object (root);
	JsonArray *blocks = top_blocks (root);
	JsonArray *inner;
	JsonObject *att;
	const char *text = astra_check_get_string (object, "text");
	const char *color;

	/* the notification text is always there, within Slack's message limit */
	ck_assert (text[0] != '\0');
	ck_assert_uint_le (astra_utf8_length (text), SLACK_MESSAGE_TEXT_MAX);
	astra_check_assert_clean_text ("text", text, FALSE);
	assert_mrkdwn_safe (text, mention, NULL);

	ck_assert_uint_ge (json_array_get_length (blocks), 1);
	ck_assert_str_eq (astra_check_get_string (get_object_element (blocks, 0), "type"), "header");
	for (guint i = 0; i < json_array_get_length (blocks); i++)
		check_block (get_object_element (blocks, i), &check);

	/* one attachment, for the colour bar: a colour and blocks, nothing else */
	att = attachment (root);
	ck_assert_uint_eq (json_object_get_size (att), 2);
	color = astra_check_get_string (att, "color");
	ck_assert_msg (g_regex_match_simple ("^#[0-9A-F]{6}$", color, 0, 0), "colour %s", color);
	inner = attachment_blocks (root);
	ck_assert_uint_ge (json_array_get_length (inner), 1);
	for (guint i = 0; i < json_array_get_length (inner); i++)
		check_block (get_object_element (inner, i), &check);
	/* the context line (time and type) closes the attachment */
	ck_assert_str_eq (
	    astra_check_get_string (get_object_element (inner, json_array_get_length (inner) - 1), "type"),
	    "context");

	ck_assert_uint_le (check.n_blocks, SLACK_BLOCKS_MAX);
	ck_assert_msg (check.blocks_text <= SLACK_BLOCKS_TEXT_BUDGET, "%zu characters in blocks", check.blocks_text);
	ck_assert (!json_object_get_boolean_member_with_default (object, "unfurl_links", TRUE));
	ck_assert (!json_object_get_boolean_member_with_default (object, "unfurl_media", TRUE));
}

/* the payload's `text` and all its mrkdwn, one per line: what Slack parses */
static void
collect_texts (JsonNode *node, GString *out)
{
	if (JSON_NODE_HOLDS_OBJECT (node)) {
		JsonObject *object = json_node_get_object (node);
		g_autoptr(GList) members = json_object_get_members (object);

		if (g_strcmp0 (json_object_get_string_member_with_default (object, "type", ""), "plain_text") == 0)
			return;

		for (GList *l = members; l != NULL; l = l->next) {
			JsonNode *member = json_object_get_member (object, l->data);

			if (g_strcmp0 (l->data, "text") == 0 && JSON_NODE_HOLDS_VALUE (member))
				g_string_append_printf (out, "%s\n", json_node_get_string (member));
			else
				collect_texts (member, out);
		}
	} else if (JSON_NODE_HOLDS_ARRAY (node)) {
		JsonArray *array = json_node_get_array (node);

		for (guint i = 0; i < json_array_get_length (array); i++)
			collect_texts (json_array_get_element (array, i), out);
	}
}

static char *
payload_texts (JsonNode *root)
{
	GString *out = g_string_new (NULL);

	collect_texts (root, out);
	return g_string_free (out, FALSE);
}

/* configuration */

START_TEST (test_config_keys)
{
	g_autoptr(AstraPlugin) plugin = astra_check_plugin_new (&slack);

	astra_check_assert_config_keys (
	    plugin, (const char *const[]){ "url", "url-file", "mention", "dashboard-url", NULL });
}
END_TEST

START_TEST (test_url_keys)
{
	astra_check_assert_url_keys (&slack, "mention = <!here>\n",
				     "https://hooks.slack.com/services/T1/B1/T0KEN",
				     "https://hooks.slack.com/services/T1/B1/T0KEN");
}
END_TEST

/* each carries T0KEN, which no error may echo */
static const char *const bad_url_cases[] = {
    "ftp://hooks.slack.com/services/T0KEN",
    "hooks.slack.com/services/T0KEN",
    "https://",
    "garbage T0KEN",
    "https://hooks.slack.com:99999/services/T0KEN",
    "javascript:alert('T0KEN')",
};

START_TEST (test_url_invalid)
{
	g_autofree char *keys = g_strdup_printf ("url = %s\n", bad_url_cases[_i]);
	g_autofree char *msg = astra_check_configure_error (&slack, keys, "url: ");

	astra_assert_not_contains (msg, "T0KEN");
	astra_assert_not_contains (msg, "hooks.slack.com");
}
END_TEST

static const struct {
	const char *value;
	const char *normalized;
} good_mentions[] = {
    {"<!here>", "<!here>"},
    {"<!channel>", "<!channel>"},
    {"<@U024BE7LH>", "<@U024BE7LH>"},
    {"<@W0123ABCD>", "<@W0123ABCD>"},
    {"<!subteam^SAZ94GDB8>", "<!subteam^SAZ94GDB8>"},
    {"<!here>   <@U024BE7LH>\t<!subteam^S0614TZR7>", "<!here> <@U024BE7LH> <!subteam^S0614TZR7>"},
};

START_TEST (test_mention_valid)
{
	g_autofree char *keys = g_strdup_printf (TEST_PLAIN_CONFIG "mention = %s\n", good_mentions[_i].value);
	g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (&slack, keys);
	g_autoptr(AstraEvent) event = fixture_event ("agent.status_changed");
	g_autoptr(JsonNode) root = render_json (plugin, event);
	g_autofree char *text = g_strdup_printf ("%s Agent offline: server-01", good_mentions[_i].normalized);
	JsonObject *mention_block = get_object_element (top_blocks (root), 1);

	/* in the notification, and where people see it */
	ck_assert_str_eq (astra_check_get_string (json_node_get_object (root), "text"), text);
	ck_assert_str_eq (
	    astra_check_get_string (json_object_get_object_member (mention_block, "text"), "text"),
	    good_mentions[_i].normalized);
	check_payload (root, good_mentions[_i].normalized, NULL);
}
END_TEST

static const char *const bad_mentions[] = {
    "@here",
    "here",
    "<!everyone>",
    "<!here> <!everyone>",
    "<@u024be7lh>",
    "<@U1>",
    "<@X024BE7LH>",
    "<@U024BE7LH|alice>",
    "<!subteam^X123>",
    "<!subteam^SAZ94GDB8|@oncall>",
    "<#C024BE7LH>",
    "<https://evil.example.com|click>",
    "<!date^1765967400^{date}|x>",
    "<@U024BE7LH><@U024BE7LG>",
    "<!here",
    "<!HERE>",
    "<@U0123456789012345678901234567890123>",
    "<!here> <!here> <!here> <!here> <!here> <!here> <!here> <!here> <!here> <!here> <!here>",
    "\"<!here>\"",
    "  ",
    "",
};

START_TEST (test_mention_invalid)
{
	g_autofree char *keys = g_strdup_printf (TEST_PLAIN_CONFIG "mention = %s\n", bad_mentions[_i]);
	g_autofree char *msg = astra_check_configure_error (&slack, keys, "mention: ");

	astra_assert_not_contains (msg, "XXXXSECRET");
}
END_TEST

START_TEST (test_dashboard_url_valid)
{
	g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (&slack, TEST_FULL_CONFIG);
	g_autoptr(AstraEvent) event = fixture_event ("service_test.failed");
	g_autoptr(JsonNode) root = render_json (plugin, event);
	g_autofree char *texts = payload_texts (root);

	astra_assert_contains (texts, "<https://netmon.example.com/agents/agent-123?tenant=tenant-abc&amp;event=" TEST_EVENT_ID
				      "|Open dashboard>");
}
END_TEST

static const char *const bad_dashboard_urls[] = {
    "ftp://netmon.example.com/{agent_id}",
    "{hostname}",
    "netmon.example.com/agents/{agent_id}",
    "https://netmon.example.com/agents/{agent_id} now",
    "https:///agents/{agent_id}",
    "",
    "   ",
    "https://netmon.example.com/\xfe\xff/{agent_id}",
};

START_TEST (test_dashboard_url_invalid)
{
	g_autofree char *keys = g_strdup_printf (TEST_PLAIN_CONFIG "dashboard-url = %s\n", bad_dashboard_urls[_i]);
	g_autofree char *msg = astra_check_configure_error (&slack, keys, "dashboard-url: ");
}
END_TEST

/* rendering */

START_TEST (test_render_golden)
{
	g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (&slack, TEST_FULL_CONFIG);
	g_autoptr(AstraEvent) event = fixture_event (astra_check_event_types[_i]);
	g_autofree char *text = NULL;
	g_autoptr(AstraRequest) request = astra_check_render_stable (plugin, event, &text);
	g_autofree char *golden = g_strdup_printf ("%s.http", astra_check_event_types[_i]);
	g_autofree char *user_agent = g_strdup_printf ("astra-alerts/%s (slack)", astra_version_string ());
	g_autoptr(JsonNode) root = astra_check_parse_body (request);

	astra_check_assert_post_json (request, TEST_URL, user_agent);
	check_payload (root, TEST_MENTION, "https://netmon.example.com/agents/");
	astra_check_assert_golden ("slack", golden, text);
}
END_TEST

static const struct {
	const char *type;
	const char *title;
	const char *color;
	gboolean mentioned;
} render_cases[] = {
    {"agent.status_changed", "Agent offline: server-01", "#E01E5A", TRUE},
    {"agent.registered", "New agent registered: server-01", "#1D9BD1", FALSE},
    {"speedtest.completed", "Speed test on server-01: 94.3 \u2193 / 11.75 \u2191 Mbps", "#1D9BD1", FALSE},
    {"traceroute.completed", "Traceroute from server-01 to 8.8.8.8", "#1D9BD1", FALSE},
    {"service_test.failed", "Service test failed: intranet-login (http) from server-01", "#E01E5A", FALSE},
    {"alert.triggered", "CRITICAL: Latency from server-01 to 8.8.8.8 is 231.4 ms", "#E01E5A", TRUE},
    {"alert.resolved", "Resolved: Latency from server-01 to 8.8.8.8 is back to 71.2 ms", "#2EB67D", FALSE},
};
G_STATIC_ASSERT (G_N_ELEMENTS (render_cases) == ASTRA_CHECK_N_EVENT_TYPES);

/* the header says what happened, the bar has the state's colour, the mention only for critical problems */
START_TEST (test_render_content)
{
	g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (&slack, TEST_FULL_CONFIG);
	g_autoptr(AstraPlugin) plain = astra_check_configure_ok (&slack, TEST_PLAIN_CONFIG);
	g_autoptr(AstraEvent) event = fixture_event (render_cases[_i].type);
	g_autoptr(JsonNode) root = render_json (plugin, event);
	g_autoptr(JsonNode) plain_root = render_json (plain, event);
	g_autofree char *expected_text = NULL;
	g_autofree char *texts = payload_texts (root);
	g_autofree char *plain_texts = payload_texts (plain_root);
	g_autofree char *context = NULL;
	JsonArray *blocks = top_blocks (root);
	JsonArray *inner = attachment_blocks (root);
	JsonObject *header = get_object_element (blocks, 0);
	JsonObject *last = get_object_element (inner, json_array_get_length (inner) - 1);

	ck_assert_str_eq (astra_check_get_string (json_object_get_object_member (header, "text"), "text"),
			  render_cases[_i].title);
	ck_assert_str_eq (astra_check_get_string (attachment (root), "color"), render_cases[_i].color);
	expected_text = render_cases[_i].mentioned ? g_strdup_printf ("<!here> %s", render_cases[_i].title)
						   : g_strdup (render_cases[_i].title);
	ck_assert_str_eq (astra_check_get_string (json_node_get_object (root), "text"), expected_text);
	ck_assert_uint_eq (json_array_get_length (blocks), render_cases[_i].mentioned ? 2 : 1);

	/* the event time (in the reader's time zone) and type */
	context = g_strdup_printf ("<!date^%" G_GINT64_FORMAT "^{date_num} {time_secs}|%s> \u00b7 `%s`",
				   astra_event_get_timestamp (event), astra_event_get_timestamp_string (event),
				   render_cases[_i].type);
	ck_assert_str_eq (
	    astra_check_get_string (get_object_element (astra_check_get_array (last, "elements"), 0), "text"),
	    context);

	/* the link only when configured, the mention never without */
	astra_assert_contains (texts, "|Open dashboard>");
	astra_assert_not_contains (plain_texts, "Open dashboard");
	astra_assert_not_contains (plain_texts, "<!here>");
	ck_assert_str_eq (astra_check_get_string (json_node_get_object (plain_root), "text"),
			  render_cases[_i].title);
	check_payload (plain_root, NULL, NULL);
}
END_TEST

/* the fields that matter, as people read them */
START_TEST (test_render_fields)
{
	g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (&slack, TEST_PLAIN_CONFIG);
	g_autoptr(JsonObject) data = astra_check_fixture_data ("alert.resolved");
	g_autoptr(AstraEvent) event = NULL;
	g_autoptr(JsonNode) root = NULL;
	JsonArray *inner;
	JsonArray *fields;
	JsonArray *more;
	JsonObject *labels;
	JsonObject *detail;

	json_object_set_string_member (data, "description", "Back under 200 ms\nfor 5 minutes & more.");
	event = astra_check_event_new ("alert.resolved", data);
	root = render_json (plugin, event);
	inner = attachment_blocks (root);
	fields = astra_check_get_array (get_object_element (inner, 0), "fields");
	more = astra_check_get_array (get_object_element (inner, 1), "fields");
	labels = json_object_get_object_member (get_object_element (inner, 2), "text");
	detail = json_object_get_object_member (get_object_element (inner, 3), "text");

	/* 11 short fields: two sections, at most 10 in each */
	ck_assert_uint_eq (json_array_get_length (fields), 10);
	ck_assert_str_eq (astra_check_get_string (get_object_element (fields, 0), "text"),
			  "*Rule*\nhigh-latency");
	ck_assert_str_eq (astra_check_get_string (get_object_element (fields, 2), "text"),
			  "*Value*\n71.2 (&gt; 200)");
	ck_assert_str_eq (astra_check_get_string (get_object_element (fields, 5), "text"),
			  "*Hostname*\nserver-01");
	ck_assert_uint_eq (json_array_get_length (more), 1);
	ck_assert_str_eq (astra_check_get_string (get_object_element (more, 0), "text"),
			  "*Duration*\n1440 s");
	/* the labels are long: a section of their own */
	ck_assert_str_eq (astra_check_get_string (labels, "text"),
			  "*Labels*\nagent_id=agent-123, target=8.8.8.8");
	/* the description, with the lines it has (the header says the summary) */
	ck_assert_str_eq (astra_check_get_string (detail, "text"),
			  "Back under 200 ms\nfor 5 minutes &amp; more.");
	ck_assert_str_eq (astra_check_get_string (get_object_element (inner, 4), "type"), "context");
	ck_assert_uint_eq (json_array_get_length (inner), 5);
}
END_TEST

/* a detail that only repeats the header is left out */
START_TEST (test_render_no_repeated_detail)
{
	g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (&slack, TEST_PLAIN_CONFIG);
	g_autoptr(AstraEvent) event = fixture_event ("alert.triggered");
	g_autoptr(AstraEvent) failed = fixture_event ("service_test.failed");
	g_autoptr(JsonNode) root = render_json (plugin, event);
	g_autoptr(JsonNode) failed_root = render_json (plugin, failed);
	g_autofree char *texts = payload_texts (root);
	g_autofree char *failed_texts = payload_texts (failed_root);

	astra_assert_not_contains (texts, "\nLatency from server-01 to 8.8.8.8 is 231.4 ms\n");
	/* the error of a failed test is news */
	astra_assert_contains (failed_texts, "\nHTTP 503 Service Unavailable\n");
}
END_TEST

START_TEST (test_render_traceroute_code_block)
{
	g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (&slack, TEST_PLAIN_CONFIG);
	g_autoptr(AstraEvent) event = fixture_event ("traceroute.completed");
	g_autoptr(JsonNode) root = render_json (plugin, event);
	JsonArray *inner = attachment_blocks (root);
	JsonObject *detail = json_object_get_object_member (get_object_element (inner, 1), "text");

	ck_assert_str_eq (
	    astra_check_get_string (detail, "text"),
	    "```\n1  192.168.1.1  0.52 ms\n2  *\n3  203.0.113.1  8.1 ms\n4  8.8.8.8  11.9 ms\n```");
}
END_TEST

static const struct {
	const char *type;
	const char *member;
	const char *value;
	gboolean mentioned;
	const char *color;
} mention_cases[] = {
    {"agent.status_changed", "current_status", "offline", TRUE, "#E01E5A"},
    {"agent.status_changed", "current_status", "online", FALSE, "#2EB67D"},
    {"alert.triggered", "severity", "critical", TRUE, "#E01E5A"},
    {"alert.triggered", "severity", "error", FALSE, "#E01E5A"},
    {"alert.triggered", "severity", "warning", FALSE, "#ECB22E"},
    {"alert.triggered", "severity", "info", FALSE, "#1D9BD1"},
    {"alert.resolved", "severity", "critical", FALSE, "#2EB67D"},
    {"service_test.failed", "kind", "tcp", FALSE, "#E01E5A"},
};

START_TEST (test_mention_only_critical_problems)
{
	g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (&slack, TEST_FULL_CONFIG);
	g_autoptr(JsonObject) data = astra_check_fixture_data (mention_cases[_i].type);
	g_autoptr(AstraEvent) event = NULL;
	g_autoptr(JsonNode) root = NULL;
	g_autofree char *texts = NULL;

	json_object_set_string_member (data, mention_cases[_i].member, mention_cases[_i].value);
	if (g_strcmp0 (mention_cases[_i].value, "online") == 0)
		json_object_set_string_member (data, "previous_status", "offline");
	event = astra_check_event_new (mention_cases[_i].type, data);
	root = render_json (plugin, event);
	texts = payload_texts (root);
	if (mention_cases[_i].mentioned) {
		ck_assert (g_str_has_prefix (astra_check_get_string (json_node_get_object (root), "text"),
					     "<!here> "));
		astra_assert_contains (texts, "\n<!here>\n");
	} else {
		astra_assert_not_contains (texts, "<!here>");
	}
	ck_assert_str_eq (astra_check_get_string (attachment (root), "color"), mention_cases[_i].color);
	check_payload (root, TEST_MENTION, "https://netmon.example.com/agents/");
}
END_TEST

/* data can create neither a mention nor a link, and keeps its characters */
START_TEST (test_escaping)
{
	const char *hostile = "<!channel> <@U024BE7LH> <https://evil.example.com|login> &amp; a>b @here #general";
	g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (&slack, TEST_FULL_CONFIG);
	g_autoptr(JsonObject) data = astra_check_fixture_data ("alert.triggered");
	g_autoptr(JsonObject) labels = json_object_new ();
	g_autoptr(AstraEvent) event = NULL;
	g_autoptr(JsonNode) root = NULL;
	g_autofree char *texts = NULL;

	json_object_set_string_member (data, "summary", hostile);
	json_object_set_string_member (data, "hostname", hostile);
	json_object_set_string_member (data, "rule", hostile);
	json_object_set_string_member (labels, hostile, hostile);
	json_object_set_object_member (data, "labels", json_object_ref (labels));
	event = astra_check_event_new ("alert.triggered", data);
	root = render_json (plugin, event);
	texts = payload_texts (root);
	check_payload (root, TEST_MENTION, "https://netmon.example.com/agents/");
	astra_assert_not_contains (texts, "<!channel>");
	astra_assert_not_contains (texts, "<@U024BE7LH>");
	astra_assert_not_contains (texts, "<https://evil");
	astra_assert_contains (texts, "&lt;!channel&gt; &lt;@U024BE7LH&gt; &lt;https://evil.example.com|login&gt; "
				      "&amp;amp; a&gt;b @here #general");
	/* the header is plain text, which Slack does not parse: as it is */
	ck_assert_str_eq (
	    astra_check_get_string (
		json_object_get_object_member (get_object_element (top_blocks (root), 0), "text"), "text"),
	    "CRITICAL: <!channel> <@U024BE7LH> <https://evil.example.com|login> &amp; a>b @here #general");
}
END_TEST

/* hostile input through every event type */

/* the worst a string of at most N characters can be: escaping makes & five
 * characters, emoji are astral, and controls and bidi overrides must go */
static char *
hostile_string (guint n)
{
	static const char *const units[] = {"&", "<", ">", "\U0001F525", "\u202E", "\x01", "\n", "e\u0301", "\u05D0", "*"};
	GString *out = g_string_new (NULL);
	guint chars = 0;

	for (guint i = 0; chars < n; i++) {
		const char *unit = units[i % G_N_ELEMENTS (units)];
		guint len = (guint) g_utf8_strlen (unit, -1);

		if (chars + len > n) {
			unit = "&";
			len = 1;
		}
		g_string_append (out, unit);
		chars += len;
	}
	return g_string_free (out, FALSE);
}

typedef enum {
	HOSTILE_MAXIMAL,   /* every string at its schema limit, of the worst characters */
	HOSTILE_AMPERSAND, /* every string at its limit, all & (five characters once escaped) */
	HOSTILE_EMPTY,	   /* only the required fields, optional strings empty */
	HOSTILE_LAST,
} HostileKind;

/* every string member of DATA (recursively in labels and hops) replaced */
static void
fill_strings (JsonObject *data, HostileKind kind)
{
	g_autoptr(GList) members = json_object_get_members (data);
	/* the schema's limits: most strings 256 characters, summary and error 4096 */
	static const char *const long_members[] = {"summary", "error", NULL};
	static const char *const enum_members[] = {"previous_status", "current_status", "severity", "state",
						   "kind", "last_seen", "started_at", "resolved_at", NULL};

	for (GList *l = members; l != NULL; l = l->next) {
		const char *name = l->data;
		JsonNode *node = json_object_get_member (data, name);
		guint n = g_strv_contains (long_members, name) ? 4096 : 256;

		if (g_strv_contains (enum_members, name))
			continue;
		if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING) {
			g_autofree char *value =
			    kind == HOSTILE_AMPERSAND ? astra_check_repeat ("&", n) : hostile_string (n);
			json_object_set_string_member (data, name, value);
		}
	}
}

static AstraEvent *
hostile_event (const char *type_name, HostileKind kind)
{
	g_autoptr(JsonObject) data = astra_check_fixture_data (type_name);
	AstraEventKind event_kind = astra_event_kind_from_string (type_name);

	if (kind == HOSTILE_EMPTY) {
		static const char *const optional[] = {"last_seen", "version", "address", "jitter_ms", "server", "isp",
						       "path_changed", "status_code", "response_ms", "agent_id",
						       "hostname", "tenant_id", NULL};
		static const char *const required_here[] = {"agent.status_changed", "agent.registered",
							    "speedtest.completed", "traceroute.completed",
							    "service_test.failed", NULL};

		for (guint i = 0; optional[i] != NULL; i++) {
			/* agent fields are required for agent events, optional for alerts */
			if (g_strv_contains (required_here, type_name) &&
			    (g_strcmp0 (optional[i], "agent_id") == 0 || g_strcmp0 (optional[i], "hostname") == 0 ||
			     g_strcmp0 (optional[i], "tenant_id") == 0))
				continue;
			json_object_remove_member (data, optional[i]);
		}
		if (json_object_has_member (data, "summary"))
			json_object_set_string_member (data, "summary", "");
		if (json_object_has_member (data, "error"))
			json_object_set_string_member (data, "error", "");
		if (json_object_has_member (data, "labels"))
			json_object_set_object_member (data, "labels", json_object_new ());
		if (json_object_has_member (data, "hops"))
			json_object_set_array_member (data, "hops", json_array_new ());
		return astra_check_event_new (type_name, data);
	}

	fill_strings (data, kind);
	switch (event_kind) {
	case ASTRA_EVENT_KIND_TRACEROUTE_COMPLETED: {
		/* 500 hops, each with the longest address */
		g_autoptr(JsonArray) hops = json_array_new ();
		for (guint i = 1; i <= 500; i++) {
			g_autoptr(JsonObject) hop = json_object_new ();
			g_autofree char *address =
			    kind == HOSTILE_AMPERSAND ? astra_check_repeat ("&", 256) : hostile_string (256);
			json_object_set_int_member (hop, "hop", i);
			if (i % 7 == 0) {
				json_object_set_null_member (hop, "address");
				json_object_set_null_member (hop, "rtt_ms");
			} else {
				json_object_set_string_member (hop, "address", address);
				json_object_set_double_member (hop, "rtt_ms", 1234.5678 + i);
			}
			json_array_add_object_element (hops, g_steal_pointer (&hop));
		}
		json_object_set_array_member (data, "hops", g_steal_pointer (&hops));
		json_object_set_int_member (data, "hop_count", 500);
		break;
	}
	case ASTRA_EVENT_KIND_ALERT_TRIGGERED:
	case ASTRA_EVENT_KIND_ALERT_RESOLVED: {
		/* label names and the description have no limit in the schema: 100 KB
		 * of description, 200 labels of 1024 characters (their limit) with long names */
		g_autoptr(JsonObject) labels = json_object_new ();
		g_autofree char *big =
		    kind == HOSTILE_AMPERSAND ? astra_check_repeat ("&", 100000) : hostile_string (100000);
		g_autofree char *value =
		    kind == HOSTILE_AMPERSAND ? astra_check_repeat ("&", 1024) : hostile_string (1024);
		g_autofree char *name =
		    kind == HOSTILE_AMPERSAND ? astra_check_repeat ("&", 500) : hostile_string (500);
		for (guint i = 0; i < 200; i++) {
			g_autofree char *key = g_strdup_printf ("%03u%s", i, name);
			json_object_set_string_member (labels, key, value);
		}
		json_object_set_object_member (data, "labels", g_steal_pointer (&labels));
		json_object_set_string_member (data, "description", big);
		json_object_set_double_member (data, "value", -1.7976931348623157e308);
		json_object_set_double_member (data, "threshold", 5e-324);
		break;
	}
	default:
		break;
	}
	/* a member no schema knows, which no plugin shows */
	json_object_set_string_member (data, "extra", "\U0001F525");
	return astra_check_event_new (type_name, data);
}

START_TEST (test_hostile)
{
	guint type = (guint) _i / HOSTILE_LAST;
	HostileKind kind = (HostileKind) (_i % HOSTILE_LAST);
	g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (&slack, TEST_FULL_CONFIG);
	g_autoptr(AstraEvent) event = hostile_event (astra_check_event_types[type], kind);
	g_autoptr(JsonNode) root = render_json (plugin, event);
	JsonObject *header = json_object_get_object_member (get_object_element (top_blocks (root), 0), "text");

	check_payload (root, TEST_MENTION, "https://netmon.example.com/agents/");
	/* the title survives, cut with an ellipsis when it had to be */
	ck_assert (astra_utf8_length (astra_check_get_string (header, "text")) >= 10);
}
END_TEST

/* the schema keeps a 4,000-character hostname and a 100 KB error from ever becoming events */
START_TEST (test_hostile_schema_bounds)
{
	g_autoptr(JsonObject) data = astra_check_fixture_data ("service_test.failed");
	g_autofree char *hostname = astra_check_repeat ("h", 4000);
	g_autofree char *error_text = astra_check_repeat ("e", 100 * 1024);
	g_autoptr(GError) error = NULL;
	g_autoptr(AstraEvent) event = NULL;

	json_object_set_string_member (data, "hostname", hostname);
	event = astra_event_new (ASTRA_EVENT_KIND_SERVICE_TEST_FAILED, 1765967400, data, &error);
	ck_assert_ptr_null (event);
	astra_assert_contains (error->message, "hostname");
	g_clear_error (&error);

	json_object_set_string_member (data, "hostname", "server-01");
	json_object_set_string_member (data, "error", error_text);
	event = astra_event_new (ASTRA_EVENT_KIND_SERVICE_TEST_FAILED, 1765967400, data, &error);
	ck_assert_ptr_null (event);
	astra_assert_contains (error->message, "error");
}
END_TEST

/* what a long dashboard link becomes: left out rather than past the limits */
START_TEST (test_dashboard_link_too_long)
{
	g_autofree char *path = astra_check_repeat ("p", 600);
	g_autofree char *template = g_strdup_printf ("https://netmon.example.com/%s/{hostname}", path);
	g_autofree char *keys = g_strdup_printf (TEST_PLAIN_CONFIG "dashboard-url = %s\n", template);
	g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (&slack, keys);
	g_autoptr(JsonObject) data = astra_check_fixture_data ("agent.registered");
	g_autofree char *hostname = astra_check_repeat ("\U0001F525", 256);
	g_autoptr(AstraEvent) event = NULL;
	g_autoptr(AstraEvent) short_event = fixture_event ("agent.registered");
	g_autoptr(JsonNode) root = NULL;
	g_autoptr(JsonNode) short_root = NULL;
	g_autofree char *texts = NULL;
	g_autofree char *short_texts = NULL;

	/* each emoji is 12 characters once percent-encoded */
	json_object_set_string_member (data, "hostname", hostname);
	event = astra_check_event_new ("agent.registered", data);
	root = render_json (plugin, event);
	texts = payload_texts (root);
	astra_assert_not_contains (texts, "Open dashboard");
	check_payload (root, NULL, "https://netmon.example.com/");

	short_root = render_json (plugin, short_event);
	short_texts = payload_texts (short_root);
	astra_assert_contains (short_texts, "/server-01|Open dashboard>");
}
END_TEST

/* classification */

static const AstraCheckClassifyCase classify_cases[] = {
	/* delivered */
	{ 200, "ok", NULL, ASTRA_OUTCOME_DELIVERED, -1, NULL },
	{ 200, "", NULL, ASTRA_OUTCOME_DELIVERED, -1, NULL },
	{ 204, NULL, NULL, ASTRA_OUTCOME_DELIVERED, -1, NULL },
	/* rate limited, Slack-side trouble: retry, when Slack says */
	{ 429, "", "30", ASTRA_OUTCOME_RETRY, 30, "rate_limited" },
	{ 429, "rate_limited", "1", ASTRA_OUTCOME_RETRY, 1, "rate_limited" },
	{ 429, "", NULL, ASTRA_OUTCOME_RETRY, -1, "rate_limited" },
	{ 429, "", "soon", ASTRA_OUTCOME_RETRY, -1, "rate_limited" },
	{ 500, "rollup_error", NULL, ASTRA_OUTCOME_RETRY, -1, "rollup_error" },
	{ 500, "no_service", NULL, ASTRA_OUTCOME_RETRY, -1, "no_service" },
	{ 502, "<html><body>Bad Gateway</body></html>", NULL, ASTRA_OUTCOME_RETRY, -1, "HTTP 502" },
	{ 503, "", "120", ASTRA_OUTCOME_RETRY, 120, "HTTP 503" },
	{ 504, NULL, NULL, ASTRA_OUTCOME_RETRY, -1, "HTTP 504" },
	{ 408, "", NULL, ASTRA_OUTCOME_RETRY, -1, NULL },
	/* the payload is wrong: failed, not retried, with Slack's word */
	{ 400, "invalid_payload", NULL, ASTRA_OUTCOME_FAILED, -1, "invalid_payload" },
	{ 400, "invalid_payload\n", NULL, ASTRA_OUTCOME_FAILED, -1, "invalid_payload" },
	{ 400, "no_text", NULL, ASTRA_OUTCOME_FAILED, -1, "no_text" },
	{ 400, "too_many_attachments", NULL, ASTRA_OUTCOME_FAILED, -1, "too_many_attachments" },
	{ 400, "invalid_blocks", NULL, ASTRA_OUTCOME_FAILED, -1, "invalid_blocks" },
	{ 400, "invalid_blocks_format", NULL, ASTRA_OUTCOME_FAILED, -1, "invalid_blocks_format" },
	{ 400, "invalid_attachments", NULL, ASTRA_OUTCOME_FAILED, -1, "invalid_attachments" },
	{ 400, "msg_blocks_too_long", NULL, ASTRA_OUTCOME_FAILED, -1, "msg_blocks_too_long" },
	{ 400, "user_not_found", NULL, ASTRA_OUTCOME_FAILED, -1, "user_not_found" },
	{ 400, "{\"ok\":false,\"error\":\"invalid_blocks\"}", NULL, ASTRA_OUTCOME_FAILED, -1,
	  "invalid_blocks" },
	{ 400, "", "30", ASTRA_OUTCOME_FAILED, -1, "HTTP 400" },
	{ 400, "Invalid Payload", NULL, ASTRA_OUTCOME_FAILED, -1, "HTTP 400" },
	{ 400, "{\"error\":\"<!channel>\"}", NULL, ASTRA_OUTCOME_FAILED, -1, "HTTP 400" },
	{ 400, "{\"error\":\"invalid_blocks\"", NULL, ASTRA_OUTCOME_FAILED, -1, "HTTP 400" },
	{ 400, "[\"invalid_blocks\"]", NULL, ASTRA_OUTCOME_FAILED, -1, "HTTP 400" },
	{ 400, "{\"error\":42}", NULL, ASTRA_OUTCOME_FAILED, -1, "HTTP 400" },
	{ 400, "invalid\xff_payload", NULL, ASTRA_OUTCOME_FAILED, -1, "HTTP 400" },
	{ 401, "", NULL, ASTRA_OUTCOME_FAILED, -1, "HTTP 401" },
	{ 413, "", NULL, ASTRA_OUTCOME_FAILED, -1, "HTTP 413" },
	{ 301, "", NULL, ASTRA_OUTCOME_FAILED, -1, "redirect not followed" },
	/* the webhook, its channel or its workspace is gone or refuses us */
	{ 403, "action_prohibited", NULL, ASTRA_OUTCOME_GONE, -1, "action_prohibited" },
	{ 403, "posting_to_general_channel_denied", NULL, ASTRA_OUTCOME_GONE, -1,
	  "posting_to_general_channel_denied" },
	{ 403, "", NULL, ASTRA_OUTCOME_GONE, -1, "HTTP 403" },
	{ 404, "channel_not_found", NULL, ASTRA_OUTCOME_GONE, -1, "channel_not_found" },
	{ 404, "no_service", NULL, ASTRA_OUTCOME_GONE, -1, "no_service" },
	{ 404, "no_service_id", NULL, ASTRA_OUTCOME_GONE, -1, "no_service_id" },
	{ 404, "no_team", NULL, ASTRA_OUTCOME_GONE, -1, "no_team" },
	{ 404, "no_active_hooks", NULL, ASTRA_OUTCOME_GONE, -1, "no_active_hooks" },
	{ 404, "<html>Not Found</html>", NULL, ASTRA_OUTCOME_GONE, -1, "HTTP 404" },
	{ 410, "channel_is_archived", NULL, ASTRA_OUTCOME_GONE, -1, "channel_is_archived" },
	{ 410, "", NULL, ASTRA_OUTCOME_GONE, -1, "HTTP 410" },
	{ 400, "invalid_token", NULL, ASTRA_OUTCOME_GONE, -1, "invalid_token" },
	{ 400, "team_disabled", NULL, ASTRA_OUTCOME_GONE, -1, "team_disabled" },
	{ 401, "invalid_token", NULL, ASTRA_OUTCOME_GONE, -1, "invalid_token" },
};

START_TEST (test_classify)
{
	g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (&slack, TEST_PLAIN_CONFIG);

	astra_check_assert_classify (plugin, &classify_cases[_i]);
}
END_TEST

/* only the first 200 bytes are read, and a body longer than that is not Slack's word */
START_TEST (test_classify_hostile_body)
{
	g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (&slack, TEST_PLAIN_CONFIG);
	g_autofree char *spaces = astra_check_repeat (" ", 200);
	g_autofree char *padded = g_strdup_printf ("invalid_payload%s", spaces);
	g_autofree char *huge = astra_check_repeat ("invalid_payload ", 100 * 1024 / 16);
	g_autofree char *long_word = astra_check_repeat ("a", 65);
	g_autofree char *deep = astra_check_repeat ("[", 190);
	static const guint8 binary[] = {0x00, 'n', 'o', '_', 't', 'e', 'x', 't', 0xff, 0xfe};
	struct {
		GBytes *body;
		guint status;
	} cases[] = {
	    {g_bytes_new (padded, strlen (padded)), 400},
	    {g_bytes_new (huge, strlen (huge)), 400},
	    {g_bytes_new (long_word, strlen (long_word)), 400},
	    {g_bytes_new (deep, strlen (deep)), 400},
	    {g_bytes_new (binary, sizeof (binary)), 400},
	    {g_bytes_new ("no_text\0", 8), 400},
	    {g_bytes_new (huge, strlen (huge)), 404},
	};

	for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
		g_autoptr(AstraResponse) response = astra_response_new (cases[i].status, cases[i].body);
		g_autofree char *expected = g_strdup_printf ("HTTP %u", cases[i].status);

		astra_plugin_classify (plugin, response);
		ck_assert_msg (g_strcmp0 (astra_response_get_reason (response), expected) == 0, "case %u: reason %s", i,
			       astra_response_get_reason (response));
		g_bytes_unref (cases[i].body);
	}
}
END_TEST

static Suite *
slack_suite (void)
{
	Suite *s = suite_create ("slack");
	TCase *tc;

	tc = astra_check_tmpdir_tcase_new ("configure");
	tcase_add_test (tc, test_config_keys);
	tcase_add_test (tc, test_url_keys);
	tcase_add_loop_test (tc, test_url_invalid, 0, G_N_ELEMENTS (bad_url_cases));
	tcase_add_loop_test (tc, test_mention_valid, 0, G_N_ELEMENTS (good_mentions));
	tcase_add_loop_test (tc, test_mention_invalid, 0, G_N_ELEMENTS (bad_mentions));
	tcase_add_test (tc, test_dashboard_url_valid);
	tcase_add_loop_test (tc, test_dashboard_url_invalid, 0, G_N_ELEMENTS (bad_dashboard_urls));
	suite_add_tcase (s, tc);

	tc = tcase_create ("render");
	tcase_add_loop_test (tc, test_render_golden, 0, ASTRA_CHECK_N_EVENT_TYPES);
	tcase_add_loop_test (tc, test_render_content, 0, ASTRA_CHECK_N_EVENT_TYPES);
	tcase_add_test (tc, test_render_fields);
	tcase_add_test (tc, test_render_no_repeated_detail);
	tcase_add_test (tc, test_render_traceroute_code_block);
	tcase_add_loop_test (tc, test_mention_only_critical_problems, 0, G_N_ELEMENTS (mention_cases));
	tcase_add_test (tc, test_escaping);
	tcase_add_test (tc, test_dashboard_link_too_long);
	suite_add_tcase (s, tc);

	tc = tcase_create ("hostile");
	tcase_add_loop_test (tc, test_hostile, 0, ASTRA_CHECK_N_EVENT_TYPES * HOSTILE_LAST);
	tcase_add_test (tc, test_hostile_schema_bounds);
	suite_add_tcase (s, tc);

	tc = tcase_create ("classify");
	tcase_add_loop_test (tc, test_classify, 0, G_N_ELEMENTS (classify_cases));
	tcase_add_test (tc, test_classify_hostile_body);
	suite_add_tcase (s, tc);

	return s;
}

int
main (void)
{
	return astra_check_run_suite (slack_suite ());
}
