/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The Discord plugin, built from its static library: configuration (every
 * key, good and bad), rendering of every event type against golden files,
 * Discord's limits for hostile input through every event type, mentions,
 * and the classification of every response Discord documents.
 *
 * Golden files: tests/golden/discord/<type>.http. After an intended change,
 * regenerate them with
 *
 *   ASTRA_UPDATE_GOLDEN=1 meson test -C build discord
 *
 * and review the diff before committing.
 */

#include "config.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "astra-check-common.h"
#include "astra-discord-plugin.h"

#define TEST_GROUP "webhook ops-discord"
#define TEST_EVENT_ID "evt_01JFA3G2M8Q4X7ZKD5N0C6B1YR"
/* the token part of the URL is the credential: no error may echo it */
#define TEST_URL "https://discord.com/api/webhooks/123456789012345678/T0KEN-abcdef"
#define TEST_ROLE "334455667788990011"
#define TEST_USER "223344556677889900"
#define TEST_FULL_KEYS                                                                                       \
	"url = " TEST_URL "?thread_id=987654321098765432\n"                                                  \
	"avatar-url = https://netmon.example.com/static/astra.png\n"                                         \
	"mention = <@&" TEST_ROLE ">\n"                                                                      \
	"dashboard-url = https://netmon.example.com/agents/{agent_id}?tenant={tenant_id}&event={id}\n"

#define ZWSP "\u200b"

static const AstraCheckPlugin discord = { "discord", TEST_GROUP, astra_discord_plugin_get_type, NULL };

/* KEYS must be refused as invalid configuration, naming KEY first and never the URL's token */
static char *
configure_error (const char *keys, const char *key)
{
	char *msg = astra_check_configure_error (&discord, keys, key);

	astra_assert_not_contains (msg, "T0KEN");
	return msg;
}

static AstraEvent *
fixture_event (const char *type_name)
{
	return astra_check_fixture_event (type_name, TEST_EVENT_ID);
}

static AstraRequest *
render_view (AstraPlugin *plugin, AstraEventView *view)
{
	g_autoptr(AstraRequest) request = astra_request_new ();
	g_autoptr(GError) error = NULL;

	ck_assert_msg (
	    astra_discord_plugin_render_view (ASTRA_DISCORD_PLUGIN (plugin), view, request, &error),
	    "render: %s", error != NULL ? error->message : "?");
	ck_assert_msg (astra_request_validate (request, &error), "validate: %s",
		       error != NULL ? error->message : "?");
	return g_steal_pointer (&request);
}

static JsonObject *
first_embed (JsonNode *root)
{
	JsonArray *embeds = json_object_get_array_member (json_node_get_object (root), "embeds");

	ck_assert_ptr_nonnull (embeds);
	ck_assert_uint_eq (json_array_get_length (embeds), 1);
	return json_array_get_object_element (embeds, 0);
}

/* Discord trims white space, then refuses empty text */
static gboolean
is_blank (const char *text)
{
	for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p)) {
		if (!g_unichar_isspace (g_utf8_get_char (p)))
			return FALSE;
	}
	return TRUE;
}

/* TEXT, which ends up on screen, has no control or bidi characters (but newlines), and
 * nothing that Discord would show as a mention */
static void
assert_safe_text (const char *what, const char *text)
{
	g_autofree char *lower = g_ascii_strdown (text, -1);

	for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p)) {
		gunichar c = g_utf8_get_char (p);
		ck_assert_msg (c == '\n' || !(c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f)),
			       "%s has control character U+%04X", what, c);
		ck_assert_msg (!(c >= 0x202a && c <= 0x202e) && !(c >= 0x2066 && c <= 0x2069),
			       "%s has bidi control U+%04X", what, c);
	}
	ck_assert_msg (strstr (lower, "@everyone") == NULL, "%s has @everyone", what);
	ck_assert_msg (strstr (lower, "@here") == NULL, "%s has @here", what);
	ck_assert_msg (strstr (text, "<@") == NULL, "%s has <@", what);
	ck_assert_msg (strstr (text, "<#") == NULL, "%s has <#", what);
	ck_assert_msg (strstr (text, "<t:") == NULL, "%s has <t:", what);
}

/* a measured text: at most MAX characters, not blank; adds its length to TOTAL */
static void
assert_text (const char *what, const char *text, gsize max, gsize *total)
{
	gsize len = astra_utf8_length (text);

	ck_assert_msg (len <= max, "%s has %" G_GSIZE_FORMAT " characters, more than %" G_GSIZE_FORMAT, what,
		       len, max);
	ck_assert_msg (!is_blank (text), "%s is blank", what);
	assert_safe_text (what, text);
	if (total != NULL)
		*total += len;
}

/*
 * Every limit Discord documents for an Execute Webhook body, measured in characters (code
 * points, as Discord counts): username 1-80, content <= 2000, <= 10 embeds, title 256,
 * description 4096, <= 25 fields (name 256, value 1024), footer 2048, author 256, the sum
 * <= 6000 across the embeds; plus what this plugin promises: allowed_mentions always set,
 * with parse [] and at most the configured id.
 */
static void
assert_limits (JsonNode *root)
{
	JsonObject *body = json_node_get_object (root);
	JsonArray *embeds;
	JsonObject *allowed;
	gsize total = 0;
	const char *username = astra_check_get_string (body, "username");
	g_autofree char *folded = g_utf8_casefold (username, -1);

	ck_assert (astra_utf8_length (username) >= 1 && astra_utf8_length (username) <= 80);
	ck_assert (strstr (folded, "clyde") == NULL && strstr (folded, "discord") == NULL);
	if (json_object_has_member (body, "content")) {
		const char *content = astra_check_get_string (body, "content");
		ck_assert (astra_utf8_length (content) <= 2000);
		ck_assert (g_strcmp0 (content, "<@&" TEST_ROLE ">") == 0 ||
			   g_strcmp0 (content, "<@" TEST_USER ">") == 0);
	}

	embeds = json_object_get_array_member (body, "embeds");
	ck_assert_ptr_nonnull (embeds);
	ck_assert (json_array_get_length (embeds) >= 1 && json_array_get_length (embeds) <= 10);
	for (guint e = 0; e < json_array_get_length (embeds); e++) {
		JsonObject *embed = json_array_get_object_element (embeds, e);
		JsonNode *color = json_object_get_member (embed, "color");

		assert_text ("title", astra_check_get_string (embed, "title"), 256, &total);
		if (json_object_has_member (embed, "description"))
			assert_text ("description", astra_check_get_string (embed, "description"), 4096,
				     &total);
		if (json_object_has_member (embed, "fields")) {
			JsonArray *fields = json_object_get_array_member (embed, "fields");
			ck_assert (json_array_get_length (fields) <= 25);
			for (guint i = 0; i < json_array_get_length (fields); i++) {
				JsonObject *field = json_array_get_object_element (fields, i);
				assert_text ("field name", astra_check_get_string (field, "name"), 256,
					     &total);
				assert_text ("field value", astra_check_get_string (field, "value"), 1024,
					     &total);
				ck_assert (JSON_NODE_HOLDS_VALUE (json_object_get_member (field, "inline")));
				ck_assert (json_node_get_value_type (
					       json_object_get_member (field, "inline")) == G_TYPE_BOOLEAN);
			}
		}
		assert_text ("footer",
			     astra_check_get_string (json_object_get_object_member (embed, "footer"), "text"),
			     2048, &total);
		if (json_object_has_member (embed, "author"))
			assert_text (
			    "author",
			    astra_check_get_string (json_object_get_object_member (embed, "author"), "name"),
			    256, &total);
		ck_assert_ptr_nonnull (color);
		ck_assert (json_node_get_value_type (color) == G_TYPE_INT64);
		ck_assert (json_node_get_int (color) >= 0 && json_node_get_int (color) <= 0xFFFFFF);
		ck_assert_uint_eq (strlen (astra_check_get_string (embed, "timestamp")),
				   strlen ("2025-12-17T10:30:00Z"));
	}
	ck_assert_msg (total <= 6000, "the embeds have %" G_GSIZE_FORMAT " characters", total);

	allowed = json_object_get_object_member (body, "allowed_mentions");
	ck_assert_ptr_nonnull (allowed);
	ck_assert_uint_eq (json_array_get_length (json_object_get_array_member (allowed, "parse")), 0);
	ck_assert (json_object_get_size (allowed) <= 2);
}

/* configuration */

START_TEST (test_config_keys)
{
	g_autoptr(AstraPlugin) plugin = astra_check_plugin_new (&discord);
	static const char *const expected[] = { "url",     "url-file",      "username", "avatar-url",
						"mention", "dashboard-url", NULL };

	astra_check_assert_config_keys (plugin, expected);
}
END_TEST

START_TEST (test_config_minimal)
{
	g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (&discord, "url = " TEST_URL "\n");
	g_autoptr(AstraEvent) event = fixture_event ("agent.status_changed");
	g_autoptr(AstraRequest) request = astra_check_render (plugin, event);
	g_autoptr(JsonNode) root = astra_check_parse_body (request);
	JsonObject *body = json_node_get_object (root);
	JsonObject *embed = first_embed (root);
	g_autofree char *text = astra_check_request_to_text (request);

	ck_assert_str_eq (astra_check_get_string (body, "username"), "AstraNetmon");
	ck_assert (!json_object_has_member (body, "avatar_url"));
	ck_assert (!json_object_has_member (body, "content"));
	ck_assert (!json_object_has_member (embed, "url"));
	assert_limits (root);
	astra_check_assert_golden ("discord", "minimal-agent.status_changed.http", text);
}
END_TEST

START_TEST (test_url_keys)
{
	astra_check_assert_url_keys (&discord, "username = Ops\n", TEST_URL, TEST_URL "?wait=true");
}
END_TEST

static const char *const bad_url_cases[] = {
	"ftp://discord.com/api/webhooks/1/T0KEN",
	"discord.com/api/webhooks/1/T0KEN",
	"https:///api/webhooks/1/T0KEN",
	"https://discord.com/api/webhooks/1/T0KEN extra",
	"https://discord.com:99999/api/webhooks/1/T0KEN",
	"garbage T0KEN",
};

START_TEST (test_url_invalid)
{
	g_autofree char *keys = g_strdup_printf ("url = %s\n", bad_url_cases[_i]);
	g_autofree char *msg = configure_error (keys, "url");

	astra_assert_not_contains (msg, "discord.com");
}
END_TEST

/* ?wait=true is added once, whatever the URL already asks; the rest of the query stays */
static const struct {
	const char *url;
	const char *expected;
} wait_cases[] = {
	{ TEST_URL, TEST_URL "?wait=true" },
	{ TEST_URL "?thread_id=987654321098765432", TEST_URL "?thread_id=987654321098765432&wait=true" },
	{ TEST_URL "?wait=false", TEST_URL "?wait=true" },
	{ TEST_URL "?wait=true", TEST_URL "?wait=true" },
	{ TEST_URL "?wait", TEST_URL "?wait=true" },
	{ TEST_URL "?wait=true&thread_id=9&wait=1", TEST_URL "?thread_id=9&wait=true" },
	{ TEST_URL "?w%61it=false&thread_id=9", TEST_URL "?thread_id=9&wait=true" },
	{ TEST_URL "?waiting=1&with_components=true", TEST_URL "?waiting=1&with_components=true&wait=true" },
	{ TEST_URL "?", TEST_URL "?wait=true" },
	{ TEST_URL "?&&thread_id=9&", TEST_URL "?thread_id=9&wait=true" },
	{ TEST_URL "#frag", TEST_URL "?wait=true#frag" },
	{ TEST_URL "?thread_id=9#x?wait=false", TEST_URL "?thread_id=9&wait=true#x?wait=false" },
};

START_TEST (test_url_wait)
{
	g_autofree char *keys = g_strdup_printf ("url = %s\n", wait_cases[_i].url);
	g_autofree char *url = astra_check_configured_url (&discord, keys, "agent.registered");

	ck_assert_str_eq (url, wait_cases[_i].expected);
}
END_TEST

static const struct {
	const char *line;
	const char *expected; /* NULL: refused */
	const char *message_part;
} username_cases[] = {
	{ "username = Ops Alerts", "Ops Alerts", NULL },
	{ "username =   Netmon  ", "Netmon", NULL },
	{ "username = \u00c9quipe r\u00e9seau \xf0\x9f\x9b\xb0", "\u00c9quipe r\u00e9seau \xf0\x9f\x9b\xb0",
	  NULL },
	/* 80 characters, 320 bytes */
	{ "username = \xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
	  "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
	  "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
	  "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
	  "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
	  "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
	  "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
	  "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
	  "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
	  "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
	  "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
	  "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
	  "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
	  "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
	  "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
	  "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80",
	  NULL, NULL },
	{ "username = 123456789012345678901234567890123456789012345678901234567890123456789012345678901",
	  NULL, "at most 80" },
	{ "username =", NULL, "empty" },
	{ "username =    ", NULL, "empty" },
	{ "username = Clyde", NULL, "clyde" },
	{ "username = my cLyDe bot", NULL, "clyde" },
	{ "username = Discord Alerts", NULL, "discord" },
	{ "username = astra-DISCORD", NULL, "discord" },
	{ "username = tab\\there", NULL, "control" },
	{ "username = evil\xe2\x80\xae"
	  "txt.exe",
	  NULL, "bidirectional" },
};

START_TEST (test_username)
{
	g_autofree char *keys = g_strdup_printf ("url = " TEST_URL "\n%s\n", username_cases[_i].line);

	if (username_cases[_i].expected != NULL || username_cases[_i].message_part == NULL) {
		g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (&discord, keys);
		g_autoptr(AstraEvent) event = fixture_event ("agent.registered");
		g_autoptr(AstraRequest) request = astra_check_render (plugin, event);
		g_autoptr(JsonNode) root = astra_check_parse_body (request);
		const char *username = astra_check_get_string (json_node_get_object (root), "username");

		if (username_cases[_i].expected != NULL)
			ck_assert_str_eq (username, username_cases[_i].expected);
		assert_limits (root);
	} else {
		g_autofree char *msg = configure_error (keys, "username");
		astra_assert_contains (msg, username_cases[_i].message_part);
	}
}
END_TEST

static const struct {
	const char *value;
	gboolean ok;
} avatar_cases[] = {
	{ "https://netmon.example.com/static/astra.png", TRUE },
	{ "https://cdn.example.com/a.png?size=128", TRUE },
	{ "http://netmon.example.com/static/astra.png", FALSE },
	{ "ftp://netmon.example.com/astra.png", FALSE },
	{ "netmon.example.com/astra.png", FALSE },
	{ "https://", FALSE },
	{ "https://netmon.example.com/a b.png", FALSE },
	{ "", FALSE },
};

START_TEST (test_avatar_url)
{
	g_autofree char *keys =
	    g_strdup_printf ("url = " TEST_URL "\navatar-url = %s\n", avatar_cases[_i].value);

	if (avatar_cases[_i].ok) {
		g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (&discord, keys);
		g_autoptr(AstraEvent) event = fixture_event ("agent.registered");
		g_autoptr(AstraRequest) request = astra_check_render (plugin, event);
		g_autoptr(JsonNode) root = astra_check_parse_body (request);

		ck_assert_str_eq (astra_check_get_string (json_node_get_object (root), "avatar_url"),
				  avatar_cases[_i].value);
	} else {
		g_autofree char *msg = configure_error (keys, "avatar-url");
	}
}
END_TEST

static const struct {
	const char *value;
	const char *id; /* NULL: refused */
	gboolean is_role;
} mention_cases[] = {
	{ "<@&" TEST_ROLE ">", TEST_ROLE, TRUE },
	{ "<@" TEST_USER ">", TEST_USER, FALSE },
	{ "<@&18446744073709551615>", "18446744073709551615", TRUE },
	{ "<@&80351110224678912>", "80351110224678912", TRUE },
	{ "<@&18446744073709551616>", NULL, FALSE },
	{ "<@&99999999999999999999>", NULL, FALSE },
	{ "<@&123456789012345678901>", NULL, FALSE },
	{ "<@&1234567890123456>", NULL, FALSE },
	{ "<@&123>", NULL, FALSE },
	{ "<@&0123456789012345678>", NULL, FALSE },
	{ "<@&>", NULL, FALSE },
	{ "<@&abc>", NULL, FALSE },
	{ "<@&-33445566778899001>", NULL, FALSE },
	{ "<@!" TEST_USER ">", NULL, FALSE },
	{ "<#" TEST_ROLE ">", NULL, FALSE },
	{ "<@&" TEST_ROLE, NULL, FALSE },
	{ "<@&" TEST_ROLE "> please", NULL, FALSE },
	{ "<@& " TEST_ROLE ">", NULL, FALSE },
	{ "@everyone", NULL, FALSE },
	{ "@here", NULL, FALSE },
	{ TEST_ROLE, NULL, FALSE },
	{ "", NULL, FALSE },
};

START_TEST (test_mention_config)
{
	g_autofree char *keys =
	    g_strdup_printf ("url = " TEST_URL "\nmention = %s\n", mention_cases[_i].value);

	if (mention_cases[_i].id != NULL) {
		g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (&discord, keys);
		g_autoptr(AstraEvent) event = fixture_event ("agent.status_changed");
		g_autoptr(AstraRequest) request = astra_check_render (plugin, event);
		g_autoptr(JsonNode) root = astra_check_parse_body (request);
		JsonObject *body = json_node_get_object (root);
		JsonObject *allowed = json_object_get_object_member (body, "allowed_mentions");
		JsonArray *ids =
		    json_object_get_array_member (allowed, mention_cases[_i].is_role ? "roles" : "users");

		ck_assert_str_eq (astra_check_get_string (body, "content"), mention_cases[_i].value);
		ck_assert_ptr_nonnull (ids);
		ck_assert_uint_eq (json_array_get_length (ids), 1);
		ck_assert_str_eq (json_array_get_string_element (ids, 0), mention_cases[_i].id);
		ck_assert (!json_object_has_member (allowed, mention_cases[_i].is_role ? "users" : "roles"));
	} else {
		g_autofree char *msg = configure_error (keys, "mention");
	}
}
END_TEST

static const char *const bad_dashboard_cases[] = {
	"",
	"ftp://netmon.example.com/{agent_id}",
	"{hostname}",
	"netmon.example.com/agents/{agent_id}",
	"https:///agents/{agent_id}",
	"https://netmon.example.com/agents/{agent_id} x",
	"https://{nothing}/agents",
};

START_TEST (test_dashboard_url_invalid)
{
	g_autofree char *keys =
	    g_strdup_printf ("url = " TEST_URL "\ndashboard-url = %s\n", bad_dashboard_cases[_i]);
	g_autofree char *msg = configure_error (keys, "dashboard-url");
}
END_TEST

START_TEST (test_dashboard_url)
{
	g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (
	    &discord,
	    "url = " TEST_URL "\ndashboard-url = https://netmon.example.com/a/{agent_id}/{hostname}\n");
	g_autoptr(AstraEvent) event = fixture_event ("agent.status_changed");
	g_autoptr(AstraRequest) request = astra_check_render (plugin, event);
	g_autoptr(JsonNode) root = astra_check_parse_body (request);

	ck_assert_str_eq (astra_check_get_string (first_embed (root), "url"),
			  "https://netmon.example.com/a/agent-123/server-01");
}
END_TEST

/* an event whose values make the link unusable still renders, without the link */
START_TEST (test_dashboard_url_unusable)
{
	g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (
	    &discord, "url = " TEST_URL "\ndashboard-url = https://{hostname}/\n");
	g_autoptr(AstraPlugin) plugin_long = astra_check_configure_ok (
	    &discord, "url = " TEST_URL "\ndashboard-url = https://netmon.example.com/{description}\n");
	g_autofree char *text = astra_check_fixture_text ("alert.triggered");
	g_autoptr(JsonNode) fixture = astra_json_parse (text, strlen (text), NULL);
	JsonObject *data = json_object_get_object_member (json_node_get_object (fixture), "data");
	g_autoptr(AstraEvent) event = NULL;
	g_autoptr(AstraRequest) request = NULL;
	g_autoptr(AstraRequest) request_long = NULL;
	g_autoptr(JsonNode) root = NULL;
	g_autoptr(JsonNode) root_long = NULL;
	g_autoptr(GString) description = g_string_new (NULL);

	for (guint i = 0; i < 3000; i++)
		g_string_append (description, "\xc3\xa9");
	json_object_set_string_member (data, "description", description->str);
	/* without a hostname {hostname} expands to nothing, and the link has no host */
	json_object_remove_member (data, "hostname");
	event = astra_event_new (ASTRA_EVENT_KIND_ALERT_TRIGGERED, 1765966800, data, NULL);
	ck_assert_ptr_nonnull (event);
	request = astra_check_render (plugin, event);
	root = astra_check_parse_body (request);
	ck_assert (!json_object_has_member (first_embed (root), "url"));
	/* 3000 characters escaped to 18000: longer than a link may be */
	request_long = astra_check_render (plugin_long, event);
	root_long = astra_check_parse_body (request_long);
	ck_assert (!json_object_has_member (first_embed (root_long), "url"));
	assert_limits (root);
	assert_limits (root_long);
}
END_TEST

/* rendering */

START_TEST (test_render)
{
	const char *type_name = astra_check_event_types[_i];
	g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (&discord, TEST_FULL_KEYS);
	g_autoptr(AstraEvent) event = fixture_event (type_name);
	g_autofree char *text = NULL;
	g_autoptr(AstraRequest) request = astra_check_render_stable (plugin, event, &text);
	g_autoptr(AstraEventView) view = astra_event_view_new (event);
	g_autoptr(JsonNode) root = astra_check_parse_body (request);
	g_autofree char *golden = g_strdup_printf ("%s.http", type_name);
	g_autofree char *user_agent = g_strdup_printf ("astra-alerts/%s ", astra_version_string ());
	g_autofree char *footer = g_strdup_printf ("AstraNetmon \u00b7 %s", type_name);
	g_autofree char *link = g_strdup_printf (
	    "https://netmon.example.com/agents/agent-123?tenant=tenant-abc&event=%s", TEST_EVENT_ID);
	JsonObject *embed = first_embed (root);
	JsonArray *fields = json_object_get_array_member (embed, "fields");

	astra_check_assert_post_json (request, TEST_URL "?thread_id=987654321098765432&wait=true", NULL);
	ck_assert (g_str_has_prefix (astra_request_get_header (request, "User-Agent"), user_agent));
	astra_assert_not_contains (astra_request_get_header (request, "User-Agent"), "DiscordBot");

	/* what the shared view says, in Discord's shape */
	ck_assert_str_eq (astra_check_get_string (embed, "title"), view->title);
	ck_assert_int_eq (json_object_get_int_member (embed, "color"), astra_event_tone_rgb (view->tone));
	ck_assert_str_eq (astra_check_get_string (embed, "timestamp"),
			  astra_event_get_timestamp_string (event));
	ck_assert_str_eq (astra_check_get_string (json_object_get_object_member (embed, "footer"), "text"),
			  footer);
	ck_assert_str_eq (astra_check_get_string (embed, "url"), link);
	ck_assert_ptr_nonnull (fields);
	ck_assert_uint_eq (json_array_get_length (fields), view->fields->len);
	for (guint i = 0; i < view->fields->len; i++) {
		AstraViewField *vf = g_ptr_array_index (view->fields, i);
		JsonObject *field = json_array_get_object_element (fields, i);
		ck_assert_str_eq (astra_check_get_string (field, "name"), vf->name);
		ck_assert (json_object_get_boolean_member (field, "inline") == vf->is_short);
	}
	ck_assert (json_object_has_member (embed, "description") == (view->detail != NULL));
	assert_limits (root);
	astra_check_assert_golden ("discord", golden, text);
}
END_TEST

/* the colours of the four tones, as integers */
START_TEST (test_render_colors)
{
	static const struct {
		const char *type_name;
		gint64 color;
	} cases[] = {
		{ "agent.status_changed", 0xE01E5A }, { "agent.registered", 0x1D9BD1 },
		{ "speedtest.completed", 0x1D9BD1 },  { "traceroute.completed", 0x1D9BD1 },
		{ "service_test.failed", 0xE01E5A },  { "alert.triggered", 0xE01E5A },
		{ "alert.resolved", 0x2EB67D },
	};
	g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (&discord, "url = " TEST_URL "\n");

	for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
		g_autoptr(AstraEvent) event = fixture_event (cases[i].type_name);
		g_autoptr(AstraRequest) request = astra_check_render (plugin, event);
		g_autoptr(JsonNode) root = astra_check_parse_body (request);
		ck_assert_msg (json_object_get_int_member (first_embed (root), "color") == cases[i].color,
			       "%s", cases[i].type_name);
	}
}
END_TEST

/* the fixture of TYPE with data MEMBER set to VALUE (a JSON text), as a new event */
static AstraEvent *
fixture_with (const char *type_name, const char *member, const char *value)
{
	g_autofree char *text = astra_check_fixture_text (type_name);
	g_autoptr(JsonNode) fixture = astra_json_parse (text, strlen (text), NULL);
	g_autoptr(AstraEvent) original = fixture_event (type_name);
	JsonObject *data = json_object_get_object_member (json_node_get_object (fixture), "data");
	g_autoptr(GError) error = NULL;
	AstraEvent *event;

	json_object_set_member (data, member, astra_json_parse (value, strlen (value), NULL));
	event = astra_event_new (astra_event_get_kind (original), astra_event_get_timestamp (original), data,
				 &error);
	ck_assert_msg (event != NULL, "%s", error != NULL ? error->message : "?");
	return event;
}

static const struct {
	const char *type_name;
	const char *member; /* NULL: the fixture as is */
	const char *value;
	gboolean pings;
} mention_event_cases[] = {
	{ "agent.status_changed", NULL, NULL, TRUE },
	{ "agent.status_changed", "current_status", "\"online\"", FALSE },
	{ "alert.triggered", NULL, NULL, TRUE },
	{ "alert.triggered", "severity", "\"error\"", FALSE },
	{ "alert.triggered", "severity", "\"warning\"", FALSE },
	{ "alert.resolved", NULL, NULL, FALSE },
	{ "service_test.failed", NULL, NULL, FALSE },
	{ "agent.registered", NULL, NULL, FALSE },
	{ "speedtest.completed", NULL, NULL, FALSE },
	{ "traceroute.completed", NULL, NULL, FALSE },
};

/* the configured mention pings for critical problems only, never for their recovery */
START_TEST (test_mention_events)
{
	g_autoptr(AstraPlugin) role = astra_check_configure_ok (&discord, "url = " TEST_URL
									   "\nmention = <@&" TEST_ROLE ">\n");
	g_autoptr(AstraPlugin) user = astra_check_configure_ok (&discord, "url = " TEST_URL
									   "\nmention = <@" TEST_USER ">\n");
	g_autoptr(AstraPlugin) none = astra_check_configure_ok (&discord, "url = " TEST_URL "\n");
	g_autoptr(AstraEvent) event =
		       mention_event_cases[_i].member != NULL
			   ? fixture_with (mention_event_cases[_i].type_name, mention_event_cases[_i].member,
					   mention_event_cases[_i].value)
			   : fixture_event (mention_event_cases[_i].type_name);
	AstraPlugin *plugins[] = { role, user, none };

	for (guint i = 0; i < G_N_ELEMENTS (plugins); i++) {
		g_autoptr(AstraRequest) request = astra_check_render (plugins[i], event);
		g_autoptr(JsonNode) root = astra_check_parse_body (request);
		JsonObject *body = json_node_get_object (root);
		JsonObject *allowed = json_object_get_object_member (body, "allowed_mentions");
		gboolean pings = mention_event_cases[_i].pings && plugins[i] != none;

		ck_assert_msg (json_object_has_member (body, "content") == pings, "%s: content",
			       mention_event_cases[_i].type_name);
		ck_assert_uint_eq (json_object_get_size (allowed), pings ? 2 : 1);
		if (pings) {
			const char *key = plugins[i] == role ? "roles" : "users";
			const char *id = plugins[i] == role ? TEST_ROLE : TEST_USER;
			JsonArray *ids = json_object_get_array_member (allowed, key);
			g_autofree char *content =
			    g_strdup_printf (plugins[i] == role ? "<@&%s>" : "<@%s>", id);

			ck_assert_str_eq (astra_check_get_string (body, "content"), content);
			ck_assert_uint_eq (json_array_get_length (ids), 1);
			ck_assert_str_eq (json_array_get_string_element (ids, 0), id);
		}
		assert_limits (root);
	}
}
END_TEST

/* Discord markdown and mentions in data show as text; links in data stay links */
START_TEST (test_escape)
{
	g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (&discord, "url = " TEST_URL "\n");
	g_autoptr(AstraEvent) event = fixture_with (
	    "service_test.failed", "hostname",
	    "\"*bold* _it_ ~~s~~ `c` ||sp|| \\\\ [x](https://evil.example) @everyone @HERE "
	    "<@123456789012345678> <@&123456789012345678> <#123456789012345678> <t:1:R> <:e:1> a < b\"");
	g_autoptr(AstraEvent) event_url = fixture_with (
	    "service_test.failed", "target", "\"https://intranet.example.com/log_in?a=*b*&c=~d~#x\"");
	g_autoptr(AstraEvent) event_lines = fixture_with (
	    "service_test.failed", "error", "\"# not a header\\n> not a quote\\n  - not a list\\n-# no\"");
	g_autoptr(AstraRequest) request = astra_check_render (plugin, event);
	g_autoptr(AstraRequest) request_url = astra_check_render (plugin, event_url);
	g_autoptr(AstraRequest) request_lines = astra_check_render (plugin, event_lines);
	g_autoptr(JsonNode) root = astra_check_parse_body (request);
	g_autoptr(JsonNode) root_url = astra_check_parse_body (request_url);
	g_autoptr(JsonNode) root_lines = astra_check_parse_body (request_lines);
	JsonArray *fields = json_object_get_array_member (first_embed (root), "fields");
	JsonArray *fields_url = json_object_get_array_member (first_embed (root_url), "fields");
	const char *hostname = NULL;
	const char *target = NULL;

	for (guint i = 0; i < json_array_get_length (fields); i++) {
		JsonObject *field = json_array_get_object_element (fields, i);
		if (g_strcmp0 (astra_check_get_string (field, "name"), "Hostname") == 0)
			hostname = astra_check_get_string (field, "value");
	}
	for (guint i = 0; i < json_array_get_length (fields_url); i++) {
		JsonObject *field = json_array_get_object_element (fields_url, i);
		if (g_strcmp0 (astra_check_get_string (field, "name"), "Target") == 0)
			target = astra_check_get_string (field, "value");
	}
	ck_assert_str_eq (hostname, "\\*bold\\* \\_it\\_ \\~\\~s\\~\\~ \\`c\\` \\|\\|sp\\|\\| \\\\ "
				    "\\[x\\](https://evil.example) @" ZWSP "everyone @" ZWSP "HERE "
				    "<" ZWSP "@123456789012345678> <" ZWSP "@&123456789012345678> <" ZWSP
				    "#123456789012345678> <" ZWSP "t:1:R> <" ZWSP ":e:1> a < b");
	/* the title is not markdown: only mentions are defused */
	astra_assert_contains (astra_check_get_string (first_embed (root), "title"),
			       "*bold* _it_ ~~s~~ `c` ||sp|| \\ [x](https://evil.example) @" ZWSP "everyone");
	ck_assert_str_eq (target, "https://intranet.example.com/log_in?a=*b*&c=~d~#x");
	ck_assert_str_eq (astra_check_get_string (first_embed (root_lines), "description"),
			  "\\# not a header\n\\> not a quote\n  \\- not a list\n\\-# no");
	assert_limits (root);
	assert_limits (root_url);
	assert_limits (root_lines);
}
END_TEST

/* hostile input */

/* N characters of everything that has caused trouble in chat messages */
static char *
hostile_text (gsize n)
{
	static const char *const pieces[] = {
		"\x01",
		"\x1b[31m",
		"\xe2\x80\xae",     /* RIGHT-TO-LEFT OVERRIDE */
		"\xf0\x9f\x98\x80", /* an astral character (emoji) */
		"@everyone ",
		"@here ",
		"<@123456789012345678>",
		"<@&123456789012345678>",
		"<t:1:R>",
		"```",
		"*_~|",
		"\\",
		"[x](https://evil.example/a_b)",
		"\n# h\n> q\n-# s\n- l\n",
		"\xc3\xa9",
		"\"",
		"\xe2\x80\xa8", /* LINE SEPARATOR */
		"\xc2\x85",     /* NEL, a C1 control */
		"\xe2\x80\x8f", /* RIGHT-TO-LEFT MARK */
		"\t\r\n",
		"||spoiler||",
		/* astral, and a ZWJ sequence */
		"\xf0\x9d\x95\xb3\xf0\x9f\x8f\xb3\xef\xb8\x8f\xe2\x80\x8d\xf0\x9f\x8c\x88",
	};

	return astra_check_cycle_text (pieces, G_N_ELEMENTS (pieces), n, 0);
}

static void
set_hostile (JsonObject *data, const char *member, gsize n)
{
	g_autofree char *text = hostile_text (n);

	json_object_set_string_member (data, member, text);
}

typedef enum {
	HOSTILE_LONGEST, /* every string as long as the schema allows, extra members huge */
	HOSTILE_EMPTY,   /* only required members, empty where allowed */
	HOSTILE_N_VARIANTS,
} HostileVariant;

/* the event of TYPE_NAME built from data no real agent should send */
static AstraEvent *
hostile_event (AstraEventKind kind, HostileVariant variant)
{
	g_autoptr(JsonObject) data = json_object_new ();
	g_autoptr(GError) error = NULL;
	gboolean longest = variant == HOSTILE_LONGEST;
	AstraEvent *event;

	if (kind != ASTRA_EVENT_KIND_ALERT_TRIGGERED && kind != ASTRA_EVENT_KIND_ALERT_RESOLVED) {
		set_hostile (data, "agent_id", longest ? 256 : 1);
		set_hostile (data, "hostname", longest ? 256 : 1);
		set_hostile (data, "tenant_id", longest ? 256 : 1);
	}
	switch (kind) {
	case ASTRA_EVENT_KIND_AGENT_STATUS_CHANGED:
		json_object_set_string_member (data, "previous_status", "unknown");
		json_object_set_string_member (data, "current_status", "offline");
		if (longest)
			json_object_set_string_member (data, "last_seen", "9999-12-31T23:59:59Z");
		break;
	case ASTRA_EVENT_KIND_AGENT_REGISTERED:
		if (longest) {
			set_hostile (data, "version", 256);
			set_hostile (data, "address", 256);
		} else {
			json_object_set_string_member (data, "version", "");
			json_object_set_string_member (data, "address", "");
		}
		break;
	case ASTRA_EVENT_KIND_SPEEDTEST_COMPLETED:
		json_object_set_double_member (data, "download_mbps", longest ? 1.7976931348623157e308 : 0);
		json_object_set_double_member (data, "upload_mbps", longest ? 5e-324 : 0);
		json_object_set_double_member (data, "ping_ms", longest ? 123456789.123456789 : 0);
		if (longest) {
			json_object_set_double_member (data, "jitter_ms", 1e21);
			set_hostile (data, "server", 256);
			set_hostile (data, "isp", 256);
		} else {
			json_object_set_string_member (data, "server", "");
			json_object_set_string_member (data, "isp", "");
		}
		break;
	case ASTRA_EVENT_KIND_TRACEROUTE_COMPLETED: {
		JsonArray *hops = json_array_new ();
		guint n_hops = longest ? 500 : 0;

		set_hostile (data, "target", longest ? 256 : 1);
		json_object_set_boolean_member (data, "destination_reached", !longest);
		json_object_set_int_member (data, "hop_count", n_hops);
		for (guint i = 0; i < n_hops; i++) {
			JsonObject *hop = json_object_new ();
			json_object_set_int_member (hop, "hop", i + 1);
			if (i % 7 == 3) {
				json_object_set_null_member (hop, "address");
				json_object_set_null_member (hop, "rtt_ms");
			} else {
				set_hostile (hop, "address", 256);
				json_object_set_double_member (hop, "rtt_ms", i * 1.25);
			}
			json_array_add_object_element (hops, hop);
		}
		json_object_set_array_member (data, "hops", hops);
		if (longest)
			json_object_set_boolean_member (data, "path_changed", TRUE);
		break;
	}
	case ASTRA_EVENT_KIND_SERVICE_TEST_FAILED:
		set_hostile (data, "test", longest ? 256 : 1);
		json_object_set_string_member (data, "kind", "tls");
		set_hostile (data, "target", longest ? 256 : 1);
		if (longest) {
			set_hostile (data, "error", 4096);
			json_object_set_int_member (data, "status_code", G_MININT64);
			json_object_set_double_member (data, "response_ms", 1e300);
		} else {
			json_object_set_string_member (data, "error", "");
			json_object_set_null_member (data, "status_code");
			json_object_set_null_member (data, "response_ms");
		}
		break;
	case ASTRA_EVENT_KIND_ALERT_TRIGGERED:
	case ASTRA_EVENT_KIND_ALERT_RESOLVED: {
		JsonObject *labels = json_object_new ();
		gboolean resolved = kind == ASTRA_EVENT_KIND_ALERT_RESOLVED;

		set_hostile (data, "alert_id", longest ? 256 : 1);
		set_hostile (data, "rule", longest ? 256 : 1);
		json_object_set_string_member (data, "severity", "critical");
		json_object_set_string_member (data, "state", resolved ? "resolved" : "firing");
		set_hostile (data, "metric", longest ? 256 : 1);
		json_object_set_double_member (data, "value", longest ? -1.7976931348623157e308 : 0);
		json_object_set_double_member (data, "threshold", longest ? 1e-7 : 0);
		set_hostile (data, "condition", longest ? 256 : 1);
		if (longest) {
			/* label values are bounded, their number is not */
			for (guint i = 0; i < 100; i++) {
				g_autofree char *name =
				    g_strdup_printf ("label-%u-%s", i, "\xe2\x80\xae<@&1>");
				set_hostile (labels, name, 1024);
			}
			set_hostile (data, "agent_id", 256);
			set_hostile (data, "hostname", 256);
			set_hostile (data, "tenant_id", 256);
			/* not in the schema, so not bounded by it: 100 KB */
			set_hostile (data, "description", 100 * 1024);
		}
		json_object_set_object_member (data, "labels", labels);
		if (longest)
			set_hostile (data, "summary", 4096);
		else
			json_object_set_string_member (data, "summary", "");
		json_object_set_string_member (data, "started_at", "2025-12-17T10:18:00Z");
		if (resolved) {
			json_object_set_string_member (data, "resolved_at", "2025-12-17T10:42:00Z");
			json_object_set_double_member (data, "duration_s", longest ? 1e308 : 0);
		}
		break;
	}
	default:
		g_assert_not_reached ();
	}
	event = astra_event_new (kind, longest ? G_GINT64_CONSTANT (253402300799) : 0, data, &error);
	ck_assert_msg (event != NULL, "%s: %s", astra_event_kind_to_string (kind),
		       error != NULL ? error->message : "?");
	return event;
}

START_TEST (test_hostile)
{
	AstraEventKind kind = (AstraEventKind) (_i / HOSTILE_N_VARIANTS + 1);
	HostileVariant variant = (HostileVariant) (_i % HOSTILE_N_VARIANTS);
	g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (&discord, TEST_FULL_KEYS);
	g_autoptr(AstraEvent) event = hostile_event (kind, variant);
	g_autoptr(AstraRequest) request = astra_check_render (plugin, event);
	g_autoptr(AstraRequest) again = astra_check_render (plugin, event);
	g_autoptr(JsonNode) root = astra_check_parse_body (request);
	JsonObject *embed = first_embed (root);

	assert_limits (root);
	ck_assert (g_bytes_equal (astra_request_get_body (request), astra_request_get_body (again)));
	ck_assert_str_eq (astra_check_get_string (embed, "timestamp"),
			  astra_event_get_timestamp_string (event));
	if (variant == HOSTILE_LONGEST && kind == ASTRA_EVENT_KIND_TRACEROUTE_COMPLETED) {
		const char *description = astra_check_get_string (embed, "description");
		/* a cut path is whole lines and says how much is missing, inside its block */
		ck_assert (g_str_has_prefix (description, "```\n"));
		ck_assert (g_str_has_suffix (description, " more hops\n```"));
	}
	if (variant == HOSTILE_LONGEST &&
	    (kind == ASTRA_EVENT_KIND_ALERT_TRIGGERED || kind == ASTRA_EVENT_KIND_SERVICE_TEST_FAILED)) {
		/* the detail was too long, and was cut with an ellipsis */
		ck_assert (g_str_has_suffix (astra_check_get_string (embed, "description"), "\u2026"));
	}
	if (variant == HOSTILE_EMPTY && kind == ASTRA_EVENT_KIND_SERVICE_TEST_FAILED)
		ck_assert (!json_object_has_member (embed, "description"));
}
END_TEST

/* the field named NAME of VIEW */
static AstraViewField *
view_field (AstraEventView *view, const char *name)
{
	for (guint i = 0; i < view->fields->len; i++) {
		AstraViewField *field = g_ptr_array_index (view->fields, i);
		if (g_strcmp0 (field->name, name) == 0)
			return field;
	}
	ck_abort_msg ("no field %s", name);
	return NULL;
}

/*
 * The schemas cap a hostname at 256 characters and an error at 4096, so a
 * 4,000-character hostname or a 100 KB error never reaches a plugin in an
 * event: check that, then render views that hold them anyway, through every
 * event type, in case a schema is ever relaxed.
 */
START_TEST (test_hostile_beyond_schema)
{
	const char *type_name = astra_check_event_types[_i];
	g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (&discord, TEST_FULL_KEYS);
	g_autoptr(AstraEvent) event = fixture_event (type_name);
	g_autoptr(AstraEventView) view = astra_event_view_new (event);
	g_autoptr(AstraRequest) request = NULL;
	g_autoptr(JsonNode) root = NULL;
	g_autofree char *hostname = hostile_text (4000);
	g_autofree char *clean_hostname = astra_text_sanitize (hostname, FALSE);
	g_autofree char *error_text = hostile_text (100 * 1024);
	JsonObject *embed;

	{
		g_autoptr(JsonObject) data = json_object_new ();
		g_autoptr(GError) error = NULL;
		g_autoptr(AstraEvent) refused = NULL;

		json_object_set_string_member (data, "agent_id", "agent-123");
		json_object_set_string_member (data, "hostname", hostname);
		json_object_set_string_member (data, "tenant_id", "tenant-abc");
		refused = astra_event_new (ASTRA_EVENT_KIND_AGENT_REGISTERED, 0, data, &error);
		ck_assert_ptr_null (refused);
		astra_assert_contains (error->message, "data.hostname");
	}

	g_free (view->title);
	view->title = g_strdup_printf ("Agent offline: %s", clean_hostname);
	g_free (view_field (view, "Hostname")->value);
	view_field (view, "Hostname")->value = g_strdup (clean_hostname);
	g_free (view->detail);
	view->detail = astra_text_sanitize (error_text, TRUE);
	request = render_view (plugin, view);
	root = astra_check_parse_body (request);
	embed = first_embed (root);
	assert_limits (root);
	ck_assert_uint_eq (astra_utf8_length (astra_check_get_string (embed, "title")), 256);
	ck_assert (g_str_has_suffix (astra_check_get_string (embed, "title"), "\u2026"));
}
END_TEST

/* 30 more fields of N_CHARS hostile characters each, every other one short if ALTERNATE */
static void
add_extra_fields (AstraEventView *view, gsize n_chars, gboolean alternate)
{
	for (guint i = 0; i < 30; i++) {
		AstraViewField *field = g_new0 (AstraViewField, 1);
		field->name = "Extra";
		field->value = hostile_text (n_chars);
		field->is_short = alternate && i % 2 == 0;
		g_ptr_array_add (view->fields, field);
	}
}

/* more and longer fields than Discord takes: shrink the description to its floor, then drop
 * trailing fields, and say so */
START_TEST (test_budget_fields)
{
	g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (&discord, "url = " TEST_URL "\n");
	g_autoptr(AstraEvent) event = fixture_event ("alert.triggered");
	g_autoptr(AstraEventView) view = astra_event_view_new (event);
	g_autoptr(AstraRequest) request = NULL;
	g_autoptr(AstraRequest) again = NULL;
	g_autoptr(JsonNode) root = NULL;
	JsonObject *embed;
	JsonArray *fields;
	guint n_view_fields;

	add_extra_fields (view, 2000, TRUE);
	n_view_fields = view->fields->len;
	g_free (view->detail);
	view->detail = hostile_text (100 * 1024);
	request = render_view (plugin, view);
	again = render_view (plugin, view);
	root = astra_check_parse_body (request);
	embed = first_embed (root);
	fields = json_object_get_array_member (embed, "fields");
	assert_limits (root);
	ck_assert (g_bytes_equal (astra_request_get_body (request), astra_request_get_body (again)));

	/* the leading fields survive, in order; the description keeps its floor */
	ck_assert_uint_lt (json_array_get_length (fields), 25);
	ck_assert_str_eq (astra_check_get_string (json_array_get_object_element (fields, 0), "name"),
			  ((AstraViewField *) g_ptr_array_index (view->fields, 0))->name);
	ck_assert_uint_ge (astra_utf8_length (astra_check_get_string (embed, "description")), 1024);
	{
		g_autofree char *note = g_strdup_printf (" \u00b7 %u fields left out",
							 n_view_fields - json_array_get_length (fields));
		ck_assert (g_str_has_suffix (
		    astra_check_get_string (json_object_get_object_member (embed, "footer"), "text"), note));
	}
}
END_TEST

/* fields alone beyond the budget, without a description to shrink first */
START_TEST (test_budget_fields_only)
{
	g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (&discord, "url = " TEST_URL "\n");
	g_autoptr(AstraEvent) event = fixture_event ("agent.registered");
	g_autoptr(AstraEventView) view = astra_event_view_new (event);
	g_autoptr(AstraRequest) request = NULL;
	g_autoptr(JsonNode) root = NULL;
	JsonObject *embed;
	JsonArray *fields;
	guint n_view_fields;

	ck_assert_ptr_null (view->detail);
	add_extra_fields (view, 1500, FALSE);
	n_view_fields = view->fields->len;
	request = render_view (plugin, view);
	root = astra_check_parse_body (request);
	embed = first_embed (root);
	fields = json_object_get_array_member (embed, "fields");
	assert_limits (root);
	ck_assert (!json_object_has_member (embed, "description"));
	ck_assert_uint_gt (json_array_get_length (fields), 0);
	ck_assert_uint_lt (json_array_get_length (fields), n_view_fields);
	ck_assert_str_eq (astra_check_get_string (json_array_get_object_element (fields, 0), "name"),
			  "Hostname");
	astra_assert_contains (
	    astra_check_get_string (json_object_get_object_member (embed, "footer"), "text"), "left out");
}
END_TEST

/* values only white space would be trimmed to nothing by Discord, and refused */
START_TEST (test_blank_values)
{
	g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (&discord, "url = " TEST_URL "\n");
	g_autoptr(AstraEvent) event = fixture_with ("service_test.failed", "hostname", "\" \\t \"");
	g_autoptr(AstraEvent) event_error =
		       fixture_with ("service_test.failed", "error", "\"\\n\\n \\u2028 \"");
	g_autoptr(AstraRequest) request = astra_check_render (plugin, event);
	g_autoptr(AstraRequest) request_error = astra_check_render (plugin, event_error);
	g_autoptr(JsonNode) root = astra_check_parse_body (request);
	g_autoptr(JsonNode) root_error = astra_check_parse_body (request_error);

	assert_limits (root);
	assert_limits (root_error);
	ck_assert (!json_object_has_member (first_embed (root_error), "description"));
}
END_TEST

/* classification */

typedef struct {
	guint status;
	const char *body;
	const char *header; /* "Name: value", or NULL */
	AstraOutcome outcome;
	double retry_after; /* negative: none */
	const char *reason; /* a part of the reason, NULL: not checked */
} ClassifyCase;

static const ClassifyCase classify_cases[] = {
	/* delivered: 200 with ?wait=true (the message), 204 without */
	{ 200, "{\"id\":\"1318653219432513587\",\"type\":0,\"content\":\"\",\"embeds\":[]}", NULL,
	  ASTRA_OUTCOME_DELIVERED, -1, NULL },
	{ 204, "", NULL, ASTRA_OUTCOME_DELIVERED, -1, NULL },
	{ 200, "not json at all", NULL, ASTRA_OUTCOME_DELIVERED, -1, NULL },

	/* 429: the body's retry_after (fractional), else Retry-After, bounded to a day */
	{ 429, "{\"message\":\"You are being rate limited.\",\"retry_after\":0.123,\"global\":false}", NULL,
	  ASTRA_OUTCOME_RETRY, 0.123, "You are being rate limited." },
	{ 429, "{\"message\":\"You are being rate limited.\",\"retry_after\":64.57,\"global\":false}",
	  "Retry-After: 65", ASTRA_OUTCOME_RETRY, 64.57, "rate limited" },
	{ 429, "{\"message\":\"You are being rate limited.\",\"retry_after\":2,\"global\":true,\"code\":0}",
	  NULL, ASTRA_OUTCOME_RETRY, 2, "(global)" },
	{ 429, "{\"message\":\"You are being rate limited.\",\"retry_after\":0}", NULL, ASTRA_OUTCOME_RETRY,
	  0, NULL },
	{ 429, "{\"message\":\"You are being rate limited.\"}", "Retry-After: 7", ASTRA_OUTCOME_RETRY, 7,
	  NULL },
	{ 429, "", "Retry-After: 7", ASTRA_OUTCOME_RETRY, 7, "rate limited" },
	{ 429, "{\"retry_after\":1e300}", NULL, ASTRA_OUTCOME_RETRY, 86400, NULL },
	{ 429, "{\"retry_after\":86400.5}", NULL, ASTRA_OUTCOME_RETRY, 86400, NULL },
	{ 429, "{\"retry_after\":-5}", "Retry-After: 3", ASTRA_OUTCOME_RETRY, 3, NULL },
	{ 429, "{\"retry_after\":\"5\"}", NULL, ASTRA_OUTCOME_RETRY, -1, NULL },
	{ 429, "{\"retry_after\":null}", "Retry-After: 4", ASTRA_OUTCOME_RETRY, 4, NULL },
	{ 429, "{\"retry_after\":[1]}", NULL, ASTRA_OUTCOME_RETRY, -1, NULL },
	{ 429, "[{\"retry_after\":1}]", "Retry-After: 9", ASTRA_OUTCOME_RETRY, 9, NULL },
	{ 429, "{\"retry_after\":1", "Retry-After: 9", ASTRA_OUTCOME_RETRY, 9, NULL },
	{ 429, "<html><body>Too Many Requests</body></html>", "Retry-After: 30", ASTRA_OUTCOME_RETRY, 30,
	  "rate limited" },
	{ 429, "", "Retry-After: 99999999999999", ASTRA_OUTCOME_RETRY, 86400, NULL },
	{ 429, "", NULL, ASTRA_OUTCOME_RETRY, -1, "rate limited" },
	/* Cloudflare's ban answer is plain text */
	{ 429, "error code: 1015", NULL, ASTRA_OUTCOME_RETRY, -1, "rate limited: error code: 1015" },

	/* gone: the webhook was deleted, its token is wrong, or it may not post there */
	{ 404, "{\"message\":\"Unknown Webhook\",\"code\":10015}", NULL, ASTRA_OUTCOME_GONE, -1,
	  "Unknown Webhook (code 10015)" },
	{ 404, "", NULL, ASTRA_OUTCOME_GONE, -1, "unknown webhook" },
	{ 404, "<html>404 Not Found</html>", NULL, ASTRA_OUTCOME_GONE, -1, "unknown webhook" },
	{ 401, "{\"message\":\"Invalid Webhook Token\",\"code\":50027}", NULL, ASTRA_OUTCOME_GONE, -1,
	  "Invalid Webhook Token (code 50027)" },
	{ 401, "", NULL, ASTRA_OUTCOME_GONE, -1, "unauthorized" },
	{ 403, "{\"message\":\"Missing Permissions\",\"code\":50013}", NULL, ASTRA_OUTCOME_GONE, -1,
	  "Missing Permissions (code 50013)" },
	{ 403, "{\"message\":\"Missing Access\",\"code\":50001}", NULL, ASTRA_OUTCOME_GONE, -1,
	  "Missing Access" },
	{ 403, "error code: 1020", NULL, ASTRA_OUTCOME_GONE, -1, "forbidden: error code: 1020" },

	/* failed: the payload; Discord's first field error says which */
	{ 400,
	  "{\"message\":\"Invalid Form "
	  "Body\",\"code\":50035,\"errors\":{\"embeds\":{\"0\":{\"description\":{\"_errors\":"
	  "[{\"code\":\"BASE_TYPE_MAX_LENGTH\",\"message\":\"Must be 4096 or fewer in length.\"}]}}}}}",
	  NULL, ASTRA_OUTCOME_FAILED, -1,
	  "Invalid Form Body (code 50035): embeds.0.description: Must be 4096 or fewer in length." },
	{ 400,
	  "{\"code\":50035,\"errors\":{\"username\":{\"_errors\":[{\"code\":\"USERNAME_INVALID_CONTAINS\","
	  "\"message\":\"Username cannot contain \\\"clyde\\\"\"}]}},\"message\":\"Invalid Form Body\"}",
	  NULL, ASTRA_OUTCOME_FAILED, -1, "username: Username cannot contain \"clyde\"" },
	{ 400,
	  "{\"message\":\"Invalid Form "
	  "Body\",\"code\":50035,\"errors\":{\"_errors\":[{\"message\":\"Bad\"}]}}",
	  NULL, ASTRA_OUTCOME_FAILED, -1, "(code 50035): body: Bad" },
	{ 400, "{\"message\":\"Cannot send an empty message\",\"code\":50006}", NULL, ASTRA_OUTCOME_FAILED,
	  -1, "Cannot send an empty message (code 50006)" },
	{ 400, "{\"message\":\"Message was blocked by AutoMod\",\"code\":200000}", NULL, ASTRA_OUTCOME_FAILED,
	  -1, "(code 200000)" },
	{ 413, "{\"message\":\"Request entity too large\",\"code\":40005}", NULL, ASTRA_OUTCOME_FAILED, -1,
	  "Request entity too large (code 40005)" },
	{ 400, "<html><body>Bad Request</body></html>", NULL, ASTRA_OUTCOME_FAILED, -1, "rejected" },
	{ 400, "", NULL, ASTRA_OUTCOME_FAILED, -1, "rejected" },
	{ 405, "{\"message\":\"405: Method Not Allowed\",\"code\":0}", NULL, ASTRA_OUTCOME_FAILED, -1,
	  "405: Method Not Allowed (code 0)" },
	{ 422, "{}", NULL, ASTRA_OUTCOME_FAILED, -1, "rejected" },
	/* hostile: what Discord never sends still makes a short, one-line reason */
	{ 400, "{\"message\":\"evil\\nline\\u001b[31m\\u202e\",\"code\":\"50035\"}", NULL,
	  ASTRA_OUTCOME_FAILED, -1, "evil line[31m" },
	{ 400, "{\"message\":42,\"code\":1e300}", NULL, ASTRA_OUTCOME_FAILED, -1, "rejected" },
	{ 400, "{\"message\":\"x\",\"code\":-1}", NULL, ASTRA_OUTCOME_FAILED, -1, "x" },
	{ 400, "{\"message\":\"x\",\"code\":1.5}", NULL, ASTRA_OUTCOME_FAILED, -1, "x" },
	{ 400, "{\"message\":\"   \"}", NULL, ASTRA_OUTCOME_FAILED, -1, "rejected" },
	{ 400,
	  "{\"message\":\"x\",\"errors\":{\"a\":{\"_errors\":[]},\"b\":{\"_errors\":[1]},\"c\":{\"_errors\":["
	  "{}]},"
	  "\"d\":[{\"_errors\":[{\"message\":\"no\"}]}],\"e\":{\"_errors\":{\"message\":\"no\"}},\"f\":{\"_"
	  "errors\":"
	  "[{\"message\":\"yes\"}]}}}",
	  NULL, ASTRA_OUTCOME_FAILED, -1, "x: f: yes" },
	{ 400, "\xff\xfe{\"message\":\"x\"}", NULL, ASTRA_OUTCOME_FAILED, -1, "rejected" },

	/* the base class: 408 and 5xx retried (honouring Retry-After), 410 gone, 3xx failed */
	{ 408, "", NULL, ASTRA_OUTCOME_RETRY, -1, "HTTP 408" },
	{ 410, "", NULL, ASTRA_OUTCOME_GONE, -1, "gone" },
	{ 500, "{\"message\":\"500: Internal Server Error\",\"code\":0}", NULL, ASTRA_OUTCOME_RETRY, -1,
	  "Internal Server Error" },
	{ 502, "<html>Bad Gateway</html>", NULL, ASTRA_OUTCOME_RETRY, -1, "HTTP 502" },
	{ 503, "upstream connect error", "Retry-After: 120", ASTRA_OUTCOME_RETRY, 120,
	  "HTTP 503: upstream connect error" },
	{ 503, "", "Retry-After: 99999999999999", ASTRA_OUTCOME_RETRY, 86400, NULL },
	{ 504, "", NULL, ASTRA_OUTCOME_RETRY, -1, "HTTP 504" },
	{ 301, "", "Location: https://example.com/", ASTRA_OUTCOME_FAILED, -1, "redirect" },
};

static void
assert_classify (const ClassifyCase *c, GBytes *body)
{
	g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (&discord, "url = " TEST_URL "\n");
	g_autoptr(AstraResponse) response = astra_response_new (c->status, body);
	AstraOutcome outcome;
	const char *reason;
	double retry_after;

	if (c->header != NULL) {
		g_auto(GStrv) parts = g_strsplit (c->header, ": ", 2);
		astra_response_set_header (response, parts[0], parts[1]);
	}
	outcome = astra_plugin_classify (plugin, response);
	ck_assert_msg (outcome == c->outcome, "HTTP %u %s: expected %s, got %s", c->status, c->body,
		       astra_outcome_to_string (c->outcome), astra_outcome_to_string (outcome));
	retry_after = astra_response_get_retry_after (response);
	if (c->retry_after < 0)
		ck_assert_msg (retry_after < 0, "HTTP %u %s: expected no delay, got %f", c->status, c->body,
			       retry_after);
	else
		ck_assert_msg (fabs (retry_after - c->retry_after) < 1e-9, "HTTP %u %s: expected %f, got %f",
			       c->status, c->body, c->retry_after, retry_after);
	reason = astra_response_get_reason (response);
	if (c->reason != NULL)
		astra_assert_contains (reason, c->reason);
	if (outcome != ASTRA_OUTCOME_DELIVERED) {
		ck_assert_ptr_nonnull (reason);
		ck_assert (g_utf8_validate (reason, -1, NULL));
		ck_assert_uint_le (astra_utf8_length (reason), 300);
		for (const char *p = reason; *p != '\0'; p = g_utf8_next_char (p)) {
			gunichar ch = g_utf8_get_char (p);
			ck_assert_msg (ch >= 0x20 && ch != 0x7f && !(ch >= 0x80 && ch <= 0x9f) &&
					   ch != 0x202e,
				       "reason has U+%04X", ch);
		}
	}
}

START_TEST (test_classify)
{
	const ClassifyCase *c = &classify_cases[_i];
	g_autoptr(GBytes) body = g_bytes_new_static (c->body, strlen (c->body));

	assert_classify (c, body);
}
END_TEST

/* bodies far beyond what Discord sends: bounded work, bounded reasons */
START_TEST (test_classify_hostile_bodies)
{
	g_autoptr(GString) long_message = g_string_new ("{\"message\":\"");
	g_autoptr(GString) deep =
		       g_string_new ("{\"message\":\"Invalid Form Body\",\"code\":50035,\"errors\":");
	g_autoptr(GString) huge = g_string_new ("{\"retry_after\":5,\"pad\":\"");
	g_autoptr(GString) long_path = g_string_new ("{\"message\":\"m\",\"errors\":{");
	g_autoptr(GBytes) long_message_bytes = NULL;
	g_autoptr(GBytes) deep_bytes = NULL;
	g_autoptr(GBytes) huge_bytes = NULL;
	g_autoptr(GBytes) long_path_bytes = NULL;
	/* within the 64 KiB the plugin parses */
	static const ClassifyCase long_case = { 400, "(30 KB message)", NULL, ASTRA_OUTCOME_FAILED,
						-1,  "\u2026" };
	/* deeper than the parser takes: not Discord's answer, so the status decides */
	static const ClassifyCase deep_case = { 400, "(deep errors)", NULL, ASTRA_OUTCOME_FAILED,
						-1,  "rejected" };
	/* too large to parse: the header decides */
	static const ClassifyCase huge_case = {
		429, "(1 MiB body)", "Retry-After: 11", ASTRA_OUTCOME_RETRY, 11, NULL
	};
	static const ClassifyCase long_path_case = { 400, "(long path)", NULL, ASTRA_OUTCOME_FAILED,
						     -1,  "m: kkkk" };

	for (guint i = 0; i < 10 * 1024; i++)
		g_string_append (long_message, i % 3 == 0 ? "\\n" : "\xf0\x9f\x98\x80");
	g_string_append (long_message, "\",\"code\":50035}");
	long_message_bytes = g_bytes_new (long_message->str, long_message->len);
	assert_classify (&long_case, long_message_bytes);

	for (guint i = 0; i < 100; i++)
		g_string_append (deep, "{\"a\":");
	g_string_append (deep, "{\"_errors\":[{\"message\":\"deep\"}]}");
	for (guint i = 0; i < 100; i++)
		g_string_append_c (deep, '}');
	g_string_append_c (deep, '}');
	deep_bytes = g_bytes_new (deep->str, deep->len);
	assert_classify (&deep_case, deep_bytes);

	for (guint i = 0; i < 1024 * 1024; i++)
		g_string_append_c (huge, 'x');
	g_string_append (huge, "\"}");
	huge_bytes = g_bytes_new (huge->str, huge->len);
	assert_classify (&huge_case, huge_bytes);

	/* a long path of long keys: the reason stays short */
	for (guint i = 0; i < 10; i++) {
		g_string_append_c (long_path, '"');
		for (guint j = 0; j < 500; j++)
			g_string_append_c (long_path, 'k');
		g_string_append (long_path, "\":{");
	}
	g_string_append (long_path, "\"_errors\":[{\"message\":\"deepest\"}]");
	for (guint i = 0; i < 10; i++)
		g_string_append_c (long_path, '}');
	g_string_append (long_path, "}}");
	long_path_bytes = g_bytes_new (long_path->str, long_path->len);
	assert_classify (&long_path_case, long_path_bytes);
}
END_TEST

static Suite *
discord_suite (void)
{
	Suite *s = suite_create ("discord");
	TCase *tc;

	tc = astra_check_tmpdir_tcase_new ("configure");
	tcase_add_test (tc, test_config_keys);
	tcase_add_test (tc, test_config_minimal);
	tcase_add_test (tc, test_url_keys);
	tcase_add_loop_test (tc, test_url_invalid, 0, G_N_ELEMENTS (bad_url_cases));
	tcase_add_loop_test (tc, test_url_wait, 0, G_N_ELEMENTS (wait_cases));
	tcase_add_loop_test (tc, test_username, 0, G_N_ELEMENTS (username_cases));
	tcase_add_loop_test (tc, test_avatar_url, 0, G_N_ELEMENTS (avatar_cases));
	tcase_add_loop_test (tc, test_mention_config, 0, G_N_ELEMENTS (mention_cases));
	tcase_add_loop_test (tc, test_dashboard_url_invalid, 0, G_N_ELEMENTS (bad_dashboard_cases));
	tcase_add_test (tc, test_dashboard_url);
	tcase_add_test (tc, test_dashboard_url_unusable);
	suite_add_tcase (s, tc);

	tc = tcase_create ("render");
	tcase_add_loop_test (tc, test_render, 0, ASTRA_CHECK_N_EVENT_TYPES);
	tcase_add_test (tc, test_render_colors);
	tcase_add_loop_test (tc, test_mention_events, 0, G_N_ELEMENTS (mention_event_cases));
	tcase_add_test (tc, test_escape);
	suite_add_tcase (s, tc);

	tc = tcase_create ("hostile");
	tcase_add_loop_test (tc, test_hostile, 0, ASTRA_CHECK_N_EVENT_TYPES * HOSTILE_N_VARIANTS);
	tcase_add_loop_test (tc, test_hostile_beyond_schema, 0, ASTRA_CHECK_N_EVENT_TYPES);
	tcase_add_test (tc, test_budget_fields);
	tcase_add_test (tc, test_budget_fields_only);
	tcase_add_test (tc, test_blank_values);
	suite_add_tcase (s, tc);

	tc = tcase_create ("classify");
	tcase_add_loop_test (tc, test_classify, 0, G_N_ELEMENTS (classify_cases));
	tcase_add_test (tc, test_classify_hostile_bodies);
	suite_add_tcase (s, tc);

	return s;
}

int
main (void)
{
	return astra_check_run_suite (discord_suite ());
}
