/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Slack incoming webhooks: Block Kit with a coloured bar.
 *
 * The message is `text` (the notification, with the mention when one is due),
 * top-level `blocks` (the header, and the mention again where people see it)
 * and one legacy attachment `{"color":…, "blocks":[…]}` holding the fields,
 * the detail, the link and the context line. Slack only draws the coloured
 * bar beside an attachment, and it shows top-level `text` as the message body
 * when there are no top-level `blocks`: with the header on top, the title is
 * shown once, and `text` is only what notifications and old clients use.
 *
 * Everything from the event is escaped for mrkdwn (&, <, > as entities) and
 * every mrkdwn text object is `verbatim`, so data can create neither a
 * mention nor a link; the configured mention and the dashboard link are the
 * only control sequences in a message.
 */

#include "config.h"

#include <string.h>

#include "astra-plugin-util.h"
#include "astra-slack-plugin.h"

/* Block Kit's documented limits (DESTINATIONS.md section 2.2) */
#define ASTRA_SLACK_HEADER_MAX		150
#define ASTRA_SLACK_SECTION_TEXT_MAX	3000
#define ASTRA_SLACK_FIELD_MAX		2000
#define ASTRA_SLACK_FIELDS_PER_SECTION	10
#define ASTRA_SLACK_BLOCKS_MAX		50

/* our own bounds, below Slack's: messages whose blocks hold more than about
 * 12,000 characters in all are refused as msg_blocks_too_long although every
 * part is within its limit (slackapi/bolt-js#2509, #2867) */
#define ASTRA_SLACK_TEXT_BUDGET		8000
#define ASTRA_SLACK_FALLBACK_MAX	1000
#define ASTRA_SLACK_SHORT_VALUE_MAX	250
#define ASTRA_SLACK_LONG_VALUE_MAX	2000
#define ASTRA_SLACK_SHORT_FIELDS_MAX	20
#define ASTRA_SLACK_LONG_FIELDS_MAX	4
#define ASTRA_SLACK_LINK_URL_MAX	1000
/* a field is not worth showing with less room than this */
#define ASTRA_SLACK_FIELD_MIN		16

/* header, mention, the field sections, the long fields, detail, link, context */
G_STATIC_ASSERT (2 + ASTRA_SLACK_SHORT_FIELDS_MAX / ASTRA_SLACK_FIELDS_PER_SECTION +
			 ASTRA_SLACK_LONG_FIELDS_MAX + 3 <=
		 ASTRA_SLACK_BLOCKS_MAX);

/* how much of a response body is read for Slack's word */
#define ASTRA_SLACK_WORD_READ_MAX 200
#define ASTRA_SLACK_WORD_MAX	  64

#define ASTRA_SLACK_MENTIONS_MAX  10
#define ASTRA_SLACK_ID_MAX	  32

#define ASTRA_SLACK_ELLIPSIS "\u2026"

struct _AstraSlackPlugin {
	AstraPlugin parent_instance;
	char *url;
	char *mention;	     /* (nullable): validated, space-separated */
	char *dashboard_url; /* (nullable): a template */
	char *user_agent;
};

G_DEFINE_FINAL_TYPE (AstraSlackPlugin, astra_slack_plugin, ASTRA_TYPE_PLUGIN)

static const char *const astra_slack_keys[] = {"url", "url-file", "mention", "dashboard-url", NULL};

/* answers meaning the webhook, its channel or its workspace is gone or refuses
 * us: nothing will be delivered until an admin acts */
static const char *const astra_slack_gone_words[] = {
    "action_prohibited",
    "channel_not_found",
    "channel_is_archived",
    "posting_to_general_channel_denied",
    "no_service",
    "no_service_id",
    "no_team",
    "team_disabled",
    "invalid_token",
    "no_active_hooks",
    NULL,
};

/* text */

static gsize
astra_slack_escaped_char_len (gunichar c)
{
	switch (c) {
	case '&':
		return 5;
	case '<':
	case '>':
		return 4;
	default:
		return 1;
	}
}

static void
astra_slack_append_escaped_char (GString *out, gunichar c)
{
	switch (c) {
	case '&':
		g_string_append (out, "&amp;");
		break;
	case '<':
		g_string_append (out, "&lt;");
		break;
	case '>':
		g_string_append (out, "&gt;");
		break;
	default:
		g_string_append_unichar (out, c);
		break;
	}
}

/* TEXT (valid UTF-8) escaped for mrkdwn, at most MAX_CHARS characters as sent,
 * cut on a character boundary and never inside an entity, ending in an
 * ellipsis when cut */
static char *
astra_slack_escape (const char *text, gsize max_chars)
{
	GString *out = g_string_new (NULL);
	gsize total = 0;
	gsize used = 0;

	for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
		total += astra_slack_escaped_char_len (g_utf8_get_char (p));
	if (total <= max_chars) {
		for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
			astra_slack_append_escaped_char (out, g_utf8_get_char (p));
		return g_string_free (out, FALSE);
	}
	if (max_chars == 0)
		return g_string_free (out, FALSE);
	/* room for the ellipsis, itself one character */
	for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p)) {
		gunichar c = g_utf8_get_char (p);
		gsize len = astra_slack_escaped_char_len (c);

		if (used + len > max_chars - 1)
			break;
		astra_slack_append_escaped_char (out, c);
		used += len;
	}
	g_string_append (out, ASTRA_SLACK_ELLIPSIS);
	return g_string_free (out, FALSE);
}

/* "\n… 4294967295 more" */
#define ASTRA_SLACK_MORE_MAX 18

/* TEXT's lines (hops) as a code block of at most MAX_CHARS characters: whole
 * lines while they fit, then how many were left out; NULL if MAX_CHARS is too
 * small for a code block */
static char *
astra_slack_code_block (const char *text, gsize max_chars)
{
	g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
	guint n_lines = g_strv_length (lines);
	g_autoptr(GString) out = g_string_new ("```\n");
	/* "```\n" before, "\n```" after */
	gsize used = 8;
	guint i;

	if (n_lines == 0 || max_chars < used + ASTRA_SLACK_MORE_MAX + 1)
		return NULL;
	for (i = 0; i < n_lines; i++) {
		g_autofree char *line = astra_slack_escape (lines[i], G_MAXSIZE);
		gsize len = astra_utf8_length (line) + (i > 0 ? 1 : 0);
		/* room for saying what is left out */
		gsize reserve = i + 1 < n_lines ? ASTRA_SLACK_MORE_MAX : 0;

		if (used + len + reserve > max_chars)
			break;
		if (i > 0)
			g_string_append_c (out, '\n');
		g_string_append (out, line);
		used += len;
	}
	if (i == 0) {
		/* the first line alone is too long: cut it */
		gsize reserve = n_lines > 1 ? ASTRA_SLACK_MORE_MAX : 0;
		g_autofree char *line = astra_slack_escape (lines[0], max_chars - used - reserve);

		g_string_append (out, line);
		i = 1;
	}
	if (i < n_lines)
		g_string_append_printf (out, "\n" ASTRA_SLACK_ELLIPSIS " %u more", n_lines - i);
	g_string_append (out, "\n```");
	return g_string_free (g_steal_pointer (&out), FALSE);
}

/* a URL inside <url|label>: the characters that would end it are percent-encoded */
static char *
astra_slack_link_url (const char *url)
{
	GString *out = g_string_new (NULL);

	for (const char *p = url; *p != '\0'; p++) {
		switch (*p) {
		case '&':
			g_string_append (out, "&amp;");
			break;
		case '<':
			g_string_append (out, "%3C");
			break;
		case '>':
			g_string_append (out, "%3E");
			break;
		case '|':
			g_string_append (out, "%7C");
			break;
		default:
			g_string_append_c (out, *p);
			break;
		}
	}
	return g_string_free (out, FALSE);
}

/* configuration */

static gboolean
astra_slack_id_is_valid (const char *id, gsize len, char first)
{
	if (len < 3 || len > ASTRA_SLACK_ID_MAX || id[0] != first)
		return FALSE;
	for (gsize i = 0; i < len; i++) {
		if (!g_ascii_isupper (id[i]) && !g_ascii_isdigit (id[i]))
			return FALSE;
	}
	return TRUE;
}

static gboolean
astra_slack_mention_is_valid (const char *token)
{
	gsize len = strlen (token);

	if (g_strcmp0 (token, "<!here>") == 0 || g_strcmp0 (token, "<!channel>") == 0)
		return TRUE;
	if (len < 2 || token[len - 1] != '>')
		return FALSE;
	/* users: U…, or W… in Enterprise Grid */
	if (g_str_has_prefix (token, "<@"))
		return astra_slack_id_is_valid (token + 2, len - 3, 'U') ||
		       astra_slack_id_is_valid (token + 2, len - 3, 'W');
	if (g_str_has_prefix (token, "<!subteam^"))
		return astra_slack_id_is_valid (token + 10, len - 11, 'S');
	return FALSE;
}

/* MENTION as configured: mentions separated by white space; NULL with an error if not valid */
static char *
astra_slack_mention_parse (const char *mention, GError **error)
{
	g_auto(GStrv) tokens = g_strsplit_set (mention, " \t", -1);
	g_autoptr(GPtrArray) valid = g_ptr_array_new ();

	for (guint i = 0; tokens[i] != NULL; i++) {
		const char *token = tokens[i];

		if (token[0] == '\0')
			continue;
		if (g_strcmp0 (token, "<!everyone>") == 0) {
			g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
					     "mention: <!everyone> is not supported: it notifies the whole "
					     "workspace and only works in #general; use <!channel> or a user group");
			return NULL;
		}
		if (!astra_slack_mention_is_valid (token)) {
			g_autofree char *clean = astra_text_sanitize (token, FALSE);
			g_autofree char *shown = astra_utf8_truncate (clean, 40);
			g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
				     "mention: '%s' is not a Slack mention; use <!here>, <!channel>, "
				     "<@U…> (a user id) or <!subteam^S…> (a user group id)",
				     shown);
			return NULL;
		}
		g_ptr_array_add (valid, (gpointer) token);
	}
	if (valid->len == 0) {
		g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG, "mention: is empty");
		return NULL;
	}
	if (valid->len > ASTRA_SLACK_MENTIONS_MAX) {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
			     "mention: at most %u mentions", (guint) ASTRA_SLACK_MENTIONS_MAX);
		return NULL;
	}
	g_ptr_array_add (valid, NULL);
	return g_strjoinv (" ", (char **) valid->pdata);
}

static gboolean
astra_slack_plugin_configure (AstraPlugin *plugin, GKeyFile *keyfile, const char *group, GError **error)
{
	AstraSlackPlugin *self = ASTRA_SLACK_PLUGIN (plugin);
	g_autofree char *url = NULL;
	g_autofree char *mention_value = NULL;
	g_autofree char *mention = NULL;
	g_autofree char *dashboard_url = NULL;

	url = astra_plugin_key_file_get_url (keyfile, group, error);
	if (url == NULL)
		return FALSE;

	if (!astra_plugin_key_file_get_optional (keyfile, group, "mention", ASTRA_PLUGIN_KEY_FLAG_NONE,
						 &mention_value, error))
		return FALSE;
	if (mention_value != NULL) {
		mention = astra_slack_mention_parse (mention_value, error);
		if (mention == NULL)
			return FALSE;
	}

	if (!astra_plugin_key_file_get_dashboard_url (keyfile, group, G_MAXSIZE, &dashboard_url, error))
		return FALSE;

	g_free (self->url);
	self->url = g_steal_pointer (&url);
	g_free (self->mention);
	self->mention = g_steal_pointer (&mention);
	g_free (self->dashboard_url);
	self->dashboard_url = g_steal_pointer (&dashboard_url);
	return TRUE;
}

/* rendering */

static void
astra_slack_add_text_object (JsonBuilder *builder, const char *type, const char *text)
{
	json_builder_begin_object (builder);
	json_builder_set_member_name (builder, "type");
	json_builder_add_string_value (builder, type);
	json_builder_set_member_name (builder, "text");
	json_builder_add_string_value (builder, text);
	if (g_strcmp0 (type, "mrkdwn") == 0) {
		/* no auto-linking of URLs, channel names or @names in the data */
		json_builder_set_member_name (builder, "verbatim");
		json_builder_add_boolean_value (builder, TRUE);
	}
	json_builder_end_object (builder);
}

static void
astra_slack_add_section (JsonBuilder *builder, const char *mrkdwn)
{
	json_builder_begin_object (builder);
	json_builder_set_member_name (builder, "type");
	json_builder_add_string_value (builder, "section");
	json_builder_set_member_name (builder, "text");
	astra_slack_add_text_object (builder, "mrkdwn", mrkdwn);
	json_builder_end_object (builder);
}

/* "*Name*\nvalue" with at most VALUE_MAX characters of value, within BUDGET
 * characters in all; NULL if there is nothing to show or no room for it */
static char *
astra_slack_field_text (const AstraViewField *field, gsize value_max, gsize budget)
{
	g_autofree char *name = astra_slack_escape (field->name, 64);
	g_autofree char *clean = astra_text_sanitize (field->value, !field->is_short);
	g_autofree char *value = NULL;
	gsize overhead = astra_utf8_length (name) + 3;

	g_strstrip (clean);
	if (clean[0] == '\0' || budget < overhead + ASTRA_SLACK_FIELD_MIN)
		return NULL;
	value = astra_slack_escape (clean, MIN (value_max, budget - overhead));
	return g_strdup_printf ("*%s*\n%s", name, value);
}

static gsize
astra_slack_take (gsize *budget, const char *text)
{
	gsize len = astra_utf8_length (text);

	*budget = len < *budget ? *budget - len : 0;
	return len;
}

/* the `text` of the message: the notification, and what clients without Block Kit show */
static char *
astra_slack_fallback_text (AstraSlackPlugin *self, AstraEventView *view, gboolean mention)
{
	g_autofree char *clean = astra_text_sanitize (view->text, FALSE);
	g_autofree char *escaped = NULL;

	g_strstrip (clean);
	if (clean[0] == '\0') {
		g_free (clean);
		clean = g_strdup (astra_event_get_type_name (view->event));
	}
	if (!mention)
		return astra_slack_escape (clean, ASTRA_SLACK_FALLBACK_MAX);
	escaped = astra_slack_escape (clean, ASTRA_SLACK_FALLBACK_MAX - astra_utf8_length (self->mention) - 1);
	return g_strdup_printf ("%s %s", self->mention, escaped);
}

/* the dashboard link for this event as mrkdwn, or NULL; what counts is its length once escaped */
static char *
astra_slack_link (AstraSlackPlugin *self, AstraEventView *view)
{
	AstraPluginLink result;
	g_autofree char *url = astra_plugin_dashboard_link (view, self->dashboard_url, G_MAXSIZE, &result);
	g_autofree char *escaped = NULL;

	if (url == NULL) {
		if (result == ASTRA_PLUGIN_LINK_INVALID)
			g_debug ("the dashboard link for %s is not a valid URL; leaving it out",
				 astra_event_get_id (view->event));
		return NULL;
	}
	escaped = astra_slack_link_url (url);
	if (astra_utf8_length (escaped) > ASTRA_SLACK_LINK_URL_MAX) {
		g_debug ("the dashboard link for %s is longer than %u characters; leaving it out",
			 astra_event_get_id (view->event), (guint) ASTRA_SLACK_LINK_URL_MAX);
		return NULL;
	}
	return g_strdup_printf ("<%s|Open dashboard>", escaped);
}

static JsonNode *
astra_slack_build (AstraSlackPlugin *self, AstraEventView *view)
{
	AstraEvent *event = view->event;
	g_autoptr(JsonBuilder) builder = json_builder_new ();
	g_autoptr(GPtrArray) short_fields = g_ptr_array_new_with_free_func (g_free);
	g_autoptr(GPtrArray) long_fields = g_ptr_array_new_with_free_func (g_free);
	g_autofree char *title = astra_text_sanitize (view->title, FALSE);
	g_autofree char *header = NULL;
	g_autofree char *text = NULL;
	g_autofree char *context = NULL;
	g_autofree char *link = NULL;
	g_autofree char *detail = NULL;
	g_autofree char *color = NULL;
	gsize budget = ASTRA_SLACK_TEXT_BUDGET;
	gboolean mention;

	/* a mention pages people: only when a critical problem starts, never for its end */
	mention = self->mention != NULL && astra_event_get_severity (event) == ASTRA_SEVERITY_CRITICAL &&
		  view->tone == ASTRA_EVENT_TONE_PROBLEM && !view->is_resolution;

	/* what is always there first, then the fields and the detail share what is left */
	g_strstrip (title);
	header = astra_utf8_truncate (title[0] != '\0' ? title : astra_event_get_type_name (event),
				      ASTRA_SLACK_HEADER_MAX);
	astra_slack_take (&budget, header);
	if (mention)
		astra_slack_take (&budget, self->mention);
	context = g_strdup_printf ("<!date^%" G_GINT64_FORMAT "^{date_num} {time_secs}|%s> \u00b7 `%s`",
				   astra_event_get_timestamp (event), view->timestamp,
				   astra_event_get_type_name (event));
	astra_slack_take (&budget, context);
	link = astra_slack_link (self, view);
	if (link != NULL)
		astra_slack_take (&budget, link);
	text = astra_slack_fallback_text (self, view, mention);

	/* the short fields first, then the detail, then the long fields (labels) with what is left */
	for (guint i = 0; i < view->fields->len && short_fields->len < ASTRA_SLACK_SHORT_FIELDS_MAX; i++) {
		const AstraViewField *field = g_ptr_array_index (view->fields, i);
		char *field_text;

		if (!field->is_short)
			continue;
		field_text = astra_slack_field_text (field, ASTRA_SLACK_SHORT_VALUE_MAX, budget);
		if (field_text == NULL)
			continue;
		astra_slack_take (&budget, field_text);
		g_ptr_array_add (short_fields, field_text);
	}
	if (view->detail != NULL) {
		g_autofree char *clean = astra_text_sanitize (view->detail, TRUE);
		gsize max_chars = MIN (ASTRA_SLACK_SECTION_TEXT_MAX, budget);

		g_strstrip (clean);
		/* an alert's summary alone is already the header */
		if (clean[0] != '\0' && strstr (header, clean) == NULL && max_chars >= ASTRA_SLACK_FIELD_MIN) {
			/* hops line up in a code block */
			if (astra_event_get_kind (event) == ASTRA_EVENT_KIND_TRACEROUTE_COMPLETED)
				detail = astra_slack_code_block (clean, max_chars);
			if (detail == NULL)
				detail = astra_slack_escape (clean, max_chars);
			astra_slack_take (&budget, detail);
		}
	}
	for (guint i = 0; i < view->fields->len && long_fields->len < ASTRA_SLACK_LONG_FIELDS_MAX; i++) {
		const AstraViewField *field = g_ptr_array_index (view->fields, i);
		char *field_text;

		if (field->is_short)
			continue;
		field_text = astra_slack_field_text (field, ASTRA_SLACK_LONG_VALUE_MAX, budget);
		if (field_text == NULL)
			continue;
		astra_slack_take (&budget, field_text);
		g_ptr_array_add (long_fields, field_text);
	}

	json_builder_begin_object (builder);
	json_builder_set_member_name (builder, "text");
	json_builder_add_string_value (builder, text);

	json_builder_set_member_name (builder, "blocks");
	json_builder_begin_array (builder);
	json_builder_begin_object (builder);
	json_builder_set_member_name (builder, "type");
	json_builder_add_string_value (builder, "header");
	json_builder_set_member_name (builder, "text");
	astra_slack_add_text_object (builder, "plain_text", header);
	json_builder_end_object (builder);
	if (mention)
		astra_slack_add_section (builder, self->mention);
	json_builder_end_array (builder);

	/* the one legacy attachment, for the coloured bar beside the rest */
	color = g_strdup_printf ("#%06X", (guint) astra_event_tone_rgb (view->tone));
	json_builder_set_member_name (builder, "attachments");
	json_builder_begin_array (builder);
	json_builder_begin_object (builder);
	json_builder_set_member_name (builder, "color");
	json_builder_add_string_value (builder, color);
	json_builder_set_member_name (builder, "blocks");
	json_builder_begin_array (builder);
	for (guint i = 0; i < short_fields->len; i += ASTRA_SLACK_FIELDS_PER_SECTION) {
		json_builder_begin_object (builder);
		json_builder_set_member_name (builder, "type");
		json_builder_add_string_value (builder, "section");
		json_builder_set_member_name (builder, "fields");
		json_builder_begin_array (builder);
		for (guint j = i; j < short_fields->len && j < i + ASTRA_SLACK_FIELDS_PER_SECTION; j++)
			astra_slack_add_text_object (builder, "mrkdwn", g_ptr_array_index (short_fields, j));
		json_builder_end_array (builder);
		json_builder_end_object (builder);
	}
	for (guint i = 0; i < long_fields->len; i++)
		astra_slack_add_section (builder, g_ptr_array_index (long_fields, i));
	if (detail != NULL)
		astra_slack_add_section (builder, detail);
	if (link != NULL)
		astra_slack_add_section (builder, link);
	json_builder_begin_object (builder);
	json_builder_set_member_name (builder, "type");
	json_builder_add_string_value (builder, "context");
	json_builder_set_member_name (builder, "elements");
	json_builder_begin_array (builder);
	astra_slack_add_text_object (builder, "mrkdwn", context);
	json_builder_end_array (builder);
	json_builder_end_object (builder);
	json_builder_end_array (builder);
	json_builder_end_object (builder);
	json_builder_end_array (builder);

	/* no previews of whatever URL the data or the dashboard link holds */
	json_builder_set_member_name (builder, "unfurl_links");
	json_builder_add_boolean_value (builder, FALSE);
	json_builder_set_member_name (builder, "unfurl_media");
	json_builder_add_boolean_value (builder, FALSE);
	json_builder_end_object (builder);

	return json_builder_get_root (builder);
}

static gboolean
astra_slack_plugin_render (AstraPlugin *plugin, AstraEvent *event, AstraRequest *request, GError **error)
{
	AstraSlackPlugin *self = ASTRA_SLACK_PLUGIN (plugin);
	g_autoptr(AstraEventView) view = astra_event_view_new (event);
	g_autoptr(JsonNode) root = NULL;
	g_autoptr(GBytes) body = NULL;

	root = astra_slack_build (self, view);
	body = astra_json_serialize (root, error);
	if (body == NULL) {
		g_prefix_error (error, "slack: ");
		return FALSE;
	}
	astra_plugin_request_post_json (request, self->url, self->user_agent, body);
	return TRUE;
}

/* responses */

static gboolean
astra_slack_is_word (const char *str, gsize len)
{
	if (len == 0 || len > ASTRA_SLACK_WORD_MAX)
		return FALSE;
	for (gsize i = 0; i < len; i++) {
		if (!g_ascii_islower (str[i]) && !g_ascii_isdigit (str[i]) && str[i] != '_')
			return FALSE;
	}
	return TRUE;
}

/* Slack's answer, like `invalid_payload`, from the start of a hostile body: a
 * plain-text word, or the `error` of a small JSON object; NULL if neither */
static char *
astra_slack_response_word (AstraResponse *response)
{
	GBytes *body = astra_response_get_body (response);
	const char *data;
	gsize len = 0;
	gsize start = 0;
	gsize end;

	if (body == NULL)
		return NULL;
	data = g_bytes_get_data (body, &len);
	/* Slack's answers are one short word: a longer body is someone else's page */
	if (data == NULL || len > ASTRA_SLACK_WORD_READ_MAX)
		return NULL;
	end = len;
	while (start < end && g_ascii_isspace (data[start]))
		start++;
	while (end > start && g_ascii_isspace (data[end - 1]))
		end--;
	if (astra_slack_is_word (data + start, end - start))
		return g_strndup (data + start, end - start);
	if (start < end && data[start] == '{') {
		g_autoptr(JsonObject) object =
			       astra_plugin_response_json_object (response, ASTRA_SLACK_WORD_READ_MAX);
		const char *word = astra_plugin_json_get_string (object, "error");

		if (word != NULL && astra_slack_is_word (word, strlen (word)))
			return g_strdup (word);
	}
	return NULL;
}

static AstraOutcome
astra_slack_plugin_classify (AstraPlugin *plugin, AstraResponse *response)
{
	guint status = astra_response_get_status (response);
	g_autofree char *word = NULL;
	g_autofree char *fallback = NULL;

	/* 2xx delivered (Slack answers 200 `ok`), 3xx and 408 as the base class says */
	if ((status >= 200 && status < 400) || status == 408)
		return ASTRA_PLUGIN_CLASS (astra_slack_plugin_parent_class)->classify (plugin, response);

	word = astra_slack_response_word (response);
	fallback = g_strdup_printf ("HTTP %u", status);
	if (status == 429 || status >= 500) {
		astra_response_set_retry_after (response, astra_response_parse_retry_after_header (response));
		astra_response_set_reason (response, word != NULL ? word : status == 429 ? "rate_limited" : fallback);
		return ASTRA_OUTCOME_RETRY;
	}
	/* the webhook was revoked, or its channel or workspace is gone or refuses us */
	if ((word != NULL && g_strv_contains (astra_slack_gone_words, word)) || status == 403 || status == 404 ||
	    status == 410) {
		astra_response_set_reason (response, word != NULL ? word : fallback);
		return ASTRA_OUTCOME_GONE;
	}
	/* invalid_payload, no_text, too_many_attachments, invalid_blocks…: retrying would not help */
	astra_response_set_reason (response, word != NULL ? word : fallback);
	return ASTRA_OUTCOME_FAILED;
}

static void
astra_slack_plugin_finalize (GObject *object)
{
	AstraSlackPlugin *self = ASTRA_SLACK_PLUGIN (object);

	g_free (self->url);
	g_free (self->mention);
	g_free (self->dashboard_url);
	g_free (self->user_agent);
	G_OBJECT_CLASS (astra_slack_plugin_parent_class)->finalize (object);
}

static void
astra_slack_plugin_class_init (AstraSlackPluginClass *klass)
{
	AstraPluginClass *plugin_class = ASTRA_PLUGIN_CLASS (klass);

	G_OBJECT_CLASS (klass)->finalize = astra_slack_plugin_finalize;
	plugin_class->config_keys = astra_slack_keys;
	plugin_class->configure = astra_slack_plugin_configure;
	plugin_class->render = astra_slack_plugin_render;
	plugin_class->classify = astra_slack_plugin_classify;
}

static void
astra_slack_plugin_init (AstraSlackPlugin *self)
{
	self->user_agent = g_strdup_printf ("astra-alerts/%s (slack)", astra_version_string ());
}
