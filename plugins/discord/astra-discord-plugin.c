/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Discord: Execute Webhook with one rich embed per event. The request
 * carries ?wait=true so that Discord reports a message it did not save
 * (without it a bad payload is answered 204 and silently dropped), and
 * allowed_mentions is always set, so nothing in the event data can ping
 * anyone: only the configured role or user, and only for critical problems.
 *
 * Discord counts its limits in code points (its API is Python 3:
 * discord/discord-api-docs#1315), which is what astra_utf8_length() counts.
 */

#include "config.h"

#include <string.h>

#include "astra-discord-plugin.h"
#include "astra-plugin-util.h"

#define ASTRA_DISCORD_DEFAULT_USERNAME "AstraNetmon"
#define ASTRA_DISCORD_FOOTER_PREFIX "AstraNetmon \u00b7 "

/* Discord's documented limits (developers/resources/webhook.mdx, message.mdx) */
#define ASTRA_DISCORD_USERNAME_MAX 80
#define ASTRA_DISCORD_TITLE_MAX 256
#define ASTRA_DISCORD_DESCRIPTION_MAX 4096
#define ASTRA_DISCORD_FIELDS_MAX 25
#define ASTRA_DISCORD_FIELD_NAME_MAX 256
#define ASTRA_DISCORD_FIELD_VALUE_MAX 1024
#define ASTRA_DISCORD_FOOTER_MAX 2048
#define ASTRA_DISCORD_EMBED_TOTAL_MAX 6000

/* what the description keeps before trailing fields are dropped to make room */
#define ASTRA_DISCORD_DESCRIPTION_FLOOR 1024
/* a dashboard link longer than this is left out rather than risk a rejected message */
#define ASTRA_DISCORD_LINK_MAX 2048
/* how long a 429 may pause the webhook, whatever the body says */
#define ASTRA_DISCORD_RETRY_AFTER_MAX (24.0 * 60.0 * 60.0)
/* response bodies are hostile: larger ones are not parsed at all */
#define ASTRA_DISCORD_RESPONSE_PARSE_MAX (64 * 1024)
#define ASTRA_DISCORD_REASON_MAX 300
#define ASTRA_DISCORD_REASON_PART_MAX 200
#define ASTRA_DISCORD_REASON_PLAIN_MAX 100

/* a snowflake is a 64-bit integer; every id Discord has handed out has 17 digits or more */
#define ASTRA_DISCORD_SNOWFLAKE_MIN_DIGITS 17
#define ASTRA_DISCORD_SNOWFLAKE_MAX_DIGITS 20

/* ZERO WIDTH SPACE: invisible, but "@​everyone" and "<​@123>" are no longer mentions */
#define ASTRA_DISCORD_ZWSP "\u200b"

struct _AstraDiscordPlugin {
	AstraPlugin parent_instance;
	char *url; /* the configured URL with wait=true */
	char *username;
	char *avatar_url;
	char *mention;    /* "<@&ID>" or "<@ID>", or NULL */
	char *mention_id; /* the ID */
	gboolean mention_is_role;
	char *dashboard_url; /* a template */
	char *user_agent;
};

G_DEFINE_FINAL_TYPE (AstraDiscordPlugin, astra_discord_plugin, ASTRA_TYPE_PLUGIN)

static const char *const astra_discord_keys[] = {
	"url", "url-file", "username", "avatar-url", "mention", "dashboard-url", NULL,
};

/* text safety */

/* at P, "@everyone", "@here" or a "<@", "<#", "<:", "</", "<a:", "<t:" token: writes its first
 * character and a zero-width space, so Discord shows it as text; returns the bytes consumed */
static gsize
astra_discord_defuse (GString *out, const char *p)
{
	if (p[0] == '@' && (g_ascii_strncasecmp (p + 1, "everyone", 8) == 0 ||
			    g_ascii_strncasecmp (p + 1, "here", 4) == 0)) {
		g_string_append (out, "@" ASTRA_DISCORD_ZWSP);
		return 1;
	}
	if (p[0] == '<' && (p[1] == '@' || p[1] == '#' || p[1] == ':' || p[1] == '/' ||
			    ((p[1] == 'a' || p[1] == 't') && p[2] == ':'))) {
		g_string_append (out, "<" ASTRA_DISCORD_ZWSP);
		return 1;
	}
	return 0;
}

/* the byte at P into OUT, defused if it starts a mention; returns where the rest starts */
static const char *
astra_discord_append_defused (GString *out, const char *p)
{
	gsize n = astra_discord_defuse (out, p);

	if (n == 0)
		g_string_append_c (out, *p++);
	else
		p += n;
	return p;
}

/* plain text (the title): mentions defused, nothing else changed */
static char *
astra_discord_defuse_text (const char *text)
{
	GString *out = g_string_sized_new (strlen (text) + 8);

	for (const char *p = text; *p != '\0';)
		p = astra_discord_append_defused (out, p);
	return g_string_free (out, FALSE);
}

static gboolean
astra_discord_is_url_char (char c)
{
	return c != '\0' && (g_ascii_isalnum (c) || strchr ("-._~:/?#[]@!$&'()*+,;=%", c) != NULL);
}

/* the length of the http(s) URL at P, 0 if none: Discord links it and shows it as is, so it is
 * copied unescaped (a backslash would end up in the link) */
static gsize
astra_discord_url_length (const char *p)
{
	gsize n;

	if (g_ascii_strncasecmp (p, "https://", 8) == 0)
		n = 8;
	else if (g_ascii_strncasecmp (p, "http://", 7) == 0)
		n = 7;
	else
		return 0;
	if (!astra_discord_is_url_char (p[n]))
		return 0;
	while (astra_discord_is_url_char (p[n]))
		n++;
	return n;
}

/*
 * TEXT for a place Discord renders as markdown (description, field values): formatting
 * characters backslash-escaped (\ * _ ~ ` | [ ], and # - > at the start of a line), mentions
 * defused, URLs kept as they are. Works on bytes: every character it escapes is ASCII, and
 * the bytes of a multi-byte UTF-8 character never are.
 */
static char *
astra_discord_escape_markdown (const char *text)
{
	GString *out = g_string_sized_new (strlen (text) + 16);
	gboolean line_start = TRUE;

	for (const char *p = text; *p != '\0';) {
		gsize n = astra_discord_url_length (p);

		if (n > 0) {
			for (const char *end = p + n; p < end;)
				p = astra_discord_append_defused (out, p);
			line_start = FALSE;
			continue;
		}
		if (line_start && *p == ' ') {
			g_string_append_c (out, *p++);
			continue;
		}
		if (line_start && (*p == '#' || *p == '-' || *p == '>'))
			g_string_append_c (out, '\\');
		line_start = *p == '\n';
		if (strchr ("\\*_~`|[]", *p) != NULL)
			g_string_append_c (out, '\\');
		p = astra_discord_append_defused (out, p);
	}
	return g_string_free (out, FALSE);
}

/* TEXT for inside a ``` block: no markdown applies there, but a run of backticks would end it */
static char *
astra_discord_escape_code (const char *text)
{
	GString *out = g_string_sized_new (strlen (text) + 16);

	for (const char *p = text; *p != '\0';) {
		if (*p == '`') {
			g_string_append (out, "`" ASTRA_DISCORD_ZWSP);
			p++;
			continue;
		}
		p = astra_discord_append_defused (out, p);
	}
	return g_string_free (out, FALSE);
}

/* Discord trims white space and refuses what is left empty */
static gboolean
astra_discord_is_blank (const char *text)
{
	for (const char *p = text; p != NULL && *p != '\0'; p = g_utf8_next_char (p)) {
		if (!g_unichar_isspace (g_utf8_get_char (p)))
			return FALSE;
	}
	return TRUE;
}

/* TEXT, code-block content, cut to whole lines within MAX_CHARS, saying how many were left out */
static char *
astra_discord_truncate_lines (const char *text, gsize max_chars, const char *noun)
{
	g_auto(GStrv) lines = NULL;
	g_autofree char *widest = NULL;
	GString *out;
	gsize reserve;
	gsize used = 0;
	guint n_lines;
	guint kept = 0;

	if (astra_utf8_length (text) <= max_chars)
		return g_strdup (text);
	lines = g_strsplit (text, "\n", -1);
	n_lines = g_strv_length (lines);
	/* the note for the most lines left out is the longest one */
	widest = g_strdup_printf ("\n\u2026 %u more %s", n_lines, noun);
	reserve = astra_utf8_length (widest);
	if (reserve >= max_chars)
		return astra_utf8_truncate (text, max_chars);
	out = g_string_new (NULL);
	for (; kept < n_lines; kept++) {
		gsize len = astra_utf8_length (lines[kept]) + (kept > 0 ? 1 : 0);
		if (used + len > max_chars - reserve)
			break;
		if (kept > 0)
			g_string_append_c (out, '\n');
		g_string_append (out, lines[kept]);
		used += len;
	}
	if (kept == 0) {
		g_string_free (out, TRUE);
		return astra_utf8_truncate (text, max_chars);
	}
	g_string_append_printf (out, "\n\u2026 %u more %s", n_lines - kept, noun);
	return g_string_free (out, FALSE);
}

/* configuration */

/* URL with any wait parameter replaced by wait=true, the rest (e.g. thread_id) kept in order */
static char *
astra_discord_url_with_wait (const char *url)
{
	const char *fragment = strchr (url, '#');
	const char *query = NULL;
	const char *end = fragment != NULL ? fragment : url + strlen (url);
	g_autoptr(GString) out = g_string_new (NULL);
	gboolean first = TRUE;

	for (const char *p = url; p < end; p++) {
		if (*p == '?') {
			query = p;
			break;
		}
	}
	g_string_append_len (out, url, (query != NULL ? query : end) - url);
	g_string_append_c (out, '?');
	if (query != NULL) {
		g_autofree char *params_str = g_strndup (query + 1, end - query - 1);
		g_auto(GStrv) params = g_strsplit (params_str, "&", -1);

		for (guint i = 0; params[i] != NULL; i++) {
			g_autofree char *name = NULL;
			g_autofree char *decoded = NULL;
			const char *eq = strchr (params[i], '=');

			if (params[i][0] == '\0')
				continue;
			name = eq != NULL ? g_strndup (params[i], eq - params[i]) : g_strdup (params[i]);
			decoded = g_uri_unescape_string (name, NULL);
			if (g_strcmp0 (decoded != NULL ? decoded : name, "wait") == 0)
				continue;
			g_string_append_printf (out, "%s%s", first ? "" : "&", params[i]);
			first = FALSE;
		}
	}
	g_string_append (out, first ? "wait=true" : "&wait=true");
	if (fragment != NULL)
		g_string_append (out, fragment);
	return g_string_free (g_steal_pointer (&out), FALSE);
}

/* KEY of GROUP into *VALUE, stripped and not empty; NULL when not set */
static gboolean
astra_discord_get_string (GKeyFile *keyfile, const char *group, const char *key, char **value, GError **error)
{
	return astra_plugin_key_file_get_optional (
	    keyfile, group, key, ASTRA_PLUGIN_KEY_FLAG_STRIP | ASTRA_PLUGIN_KEY_FLAG_NOT_EMPTY, value, error);
}

static gboolean
astra_discord_check_username (const char *username, GError **error)
{
	g_autofree char *sanitized = astra_text_sanitize (username, FALSE);
	g_autofree char *folded = g_utf8_casefold (username, -1);
	gsize len = astra_utf8_length (username);

	if (g_strcmp0 (sanitized, username) != 0) {
		g_set_error_literal (
		    error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
		    "username: must not contain control or bidirectional formatting characters");
		return FALSE;
	}
	if (len > ASTRA_DISCORD_USERNAME_MAX) {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
			     "username: must be at most %u characters, got %" G_GSIZE_FORMAT,
			     (guint) ASTRA_DISCORD_USERNAME_MAX, len);
		return FALSE;
	}
	/* Discord answers 400 to a webhook name with either word, in any case */
	if (strstr (folded, "clyde") != NULL || strstr (folded, "discord") != NULL) {
		g_set_error_literal (
		    error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
		    "username: Discord refuses webhook names containing \"clyde\" or \"discord\"");
		return FALSE;
	}
	return TRUE;
}

static gboolean
astra_discord_check_avatar_url (const char *avatar_url, GError **error)
{
	g_autoptr(GUri) uri = NULL;

	if (!astra_plugin_check_url ("avatar-url", avatar_url, error))
		return FALSE;
	uri = g_uri_parse (avatar_url, G_URI_FLAGS_ENCODED, NULL);
	if (uri == NULL || g_ascii_strcasecmp (g_uri_get_scheme (uri), "https") != 0) {
		g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
				     "avatar-url: must be an https URL");
		return FALSE;
	}
	return TRUE;
}

/* "<@&ID>" (a role) or "<@ID>" (a user), ID a snowflake */
static gboolean
astra_discord_parse_mention (const char *mention, char **id, gboolean *is_role, GError **error)
{
	gboolean role = g_str_has_prefix (mention, "<@&");
	gsize prefix_len = role ? 3 : 2;
	gsize len = strlen (mention);
	g_autofree char *digits = NULL;
	guint64 value = 0;

	if (!g_str_has_prefix (mention, "<@") || len < prefix_len + 1 || mention[len - 1] != '>') {
		g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
				     "mention: must be <@&ROLE_ID> for a role or <@USER_ID> for a user "
				     "(Discord ids are numbers, shown by \"Copy ID\" in developer mode)");
		return FALSE;
	}
	digits = g_strndup (mention + prefix_len, len - 1 - prefix_len);
	if (digits[0] == '\0') {
		g_set_error_literal (
		    error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
		    "mention: the id is missing: <@&ROLE_ID> for a role or <@USER_ID> for a user");
		return FALSE;
	}
	for (const char *p = digits; *p != '\0'; p++) {
		if (!g_ascii_isdigit (*p)) {
			g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
					     "mention: the id must be a number: <@&ROLE_ID> for a role or "
					     "<@USER_ID> for a user");
			return FALSE;
		}
	}
	if (strlen (digits) < ASTRA_DISCORD_SNOWFLAKE_MIN_DIGITS ||
	    strlen (digits) > ASTRA_DISCORD_SNOWFLAKE_MAX_DIGITS || digits[0] == '0' ||
	    !g_ascii_string_to_unsigned (digits, 10, 1, G_MAXUINT64, &value, NULL)) {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
			     "mention: %s is not a Discord id (a 64-bit number of %u to %u digits)", digits,
			     (guint) ASTRA_DISCORD_SNOWFLAKE_MIN_DIGITS,
			     (guint) ASTRA_DISCORD_SNOWFLAKE_MAX_DIGITS);
		return FALSE;
	}
	*id = g_steal_pointer (&digits);
	*is_role = role;
	return TRUE;
}

static gboolean
astra_discord_plugin_configure (AstraPlugin *plugin, GKeyFile *keyfile, const char *group, GError **error)
{
	AstraDiscordPlugin *self = ASTRA_DISCORD_PLUGIN (plugin);
	g_autofree char *url = NULL;
	g_autofree char *wait_url = NULL;
	g_autofree char *username = NULL;
	g_autofree char *avatar_url = NULL;
	g_autofree char *mention = NULL;
	g_autofree char *mention_id = NULL;
	g_autofree char *dashboard_url = NULL;
	gboolean mention_is_role = FALSE;

	url = astra_plugin_key_file_get_url (keyfile, group, error);
	if (url == NULL)
		return FALSE;
	wait_url = astra_discord_url_with_wait (url);
	if (!astra_plugin_check_url ("url", wait_url, error))
		return FALSE;

	if (!astra_discord_get_string (keyfile, group, "username", &username, error))
		return FALSE;
	if (username != NULL && !astra_discord_check_username (username, error))
		return FALSE;

	if (!astra_discord_get_string (keyfile, group, "avatar-url", &avatar_url, error))
		return FALSE;
	if (avatar_url != NULL && !astra_discord_check_avatar_url (avatar_url, error))
		return FALSE;

	if (!astra_discord_get_string (keyfile, group, "mention", &mention, error))
		return FALSE;
	if (mention != NULL && !astra_discord_parse_mention (mention, &mention_id, &mention_is_role, error))
		return FALSE;

	if (!astra_plugin_key_file_get_dashboard_url (keyfile, group, G_MAXSIZE, &dashboard_url, error))
		return FALSE;

	g_free (self->url);
	self->url = g_steal_pointer (&wait_url);
	g_free (self->username);
	self->username =
	    username != NULL ? g_steal_pointer (&username) : g_strdup (ASTRA_DISCORD_DEFAULT_USERNAME);
	g_free (self->avatar_url);
	self->avatar_url = g_steal_pointer (&avatar_url);
	g_free (self->mention);
	self->mention = g_steal_pointer (&mention);
	g_free (self->mention_id);
	self->mention_id = g_steal_pointer (&mention_id);
	self->mention_is_role = mention_is_role;
	g_free (self->dashboard_url);
	self->dashboard_url = g_steal_pointer (&dashboard_url);
	return TRUE;
}

/* rendering */

/* a field of the view within Discord's limits */
typedef struct {
	char *name;
	char *value;
	gboolean is_short;
} AstraDiscordField;

static void
astra_discord_field_free (AstraDiscordField *field)
{
	g_free (field->name);
	g_free (field->value);
	g_free (field);
}

/* the detail as it goes in the description: escaped markdown, or the inside of a ``` block */
typedef struct {
	const char *text;
	gboolean is_code;
} AstraDiscordDescription;

static gsize
astra_discord_description_length (const AstraDiscordDescription *desc)
{
	if (desc->text == NULL)
		return 0;
	return astra_utf8_length (desc->text) + (desc->is_code ? 8 : 0);
}

/* the description within MAX_CHARS; NULL when there is none */
static char *
astra_discord_description_render (const AstraDiscordDescription *desc, gsize max_chars)
{
	g_autofree char *inner = NULL;

	if (desc->text == NULL || max_chars == 0)
		return NULL;
	/* a block needs its fences and room for a line */
	if (!desc->is_code || max_chars < 8 + 24)
		return astra_utf8_truncate (desc->text, max_chars);
	inner = astra_discord_truncate_lines (desc->text, max_chars - 8, "hops");
	return g_strdup_printf ("```\n%s\n```", inner);
}

/* whether the event pings the configured mention: critical problems, not their recovery */
static gboolean
astra_discord_should_mention (AstraDiscordPlugin *self, AstraEventView *view)
{
	return self->mention != NULL && !view->is_resolution &&
	       astra_event_get_severity (view->event) == ASTRA_SEVERITY_CRITICAL;
}

/* the dashboard link for VIEW, or NULL when not configured or not a usable URL for this event;
 * Discord counts its length in characters */
static char *
astra_discord_dashboard_link (AstraDiscordPlugin *self, AstraEventView *view)
{
	AstraPluginLink result;
	g_autofree char *link = astra_plugin_dashboard_link (view, self->dashboard_url, G_MAXSIZE, &result);

	if (result == ASTRA_PLUGIN_LINK_NONE)
		return NULL;
	if (link == NULL || astra_utf8_length (link) > ASTRA_DISCORD_LINK_MAX) {
		g_debug ("dashboard link for %s %s left out: not a usable URL",
			 astra_event_get_type_name (view->event), astra_event_get_id (view->event));
		return NULL;
	}
	return g_steal_pointer (&link);
}

/**
 * astra_discord_plugin_render_view:
 * @self: a configured #AstraDiscordPlugin
 * @view: the view of the event to render
 * @request: an empty request to fill in
 * @error: return location for a #GError
 *
 * Renders @view as an Execute Webhook request with one embed, within
 * Discord's limits whatever the view holds. What the render vfunc does;
 * separate so that tests can render views no event schema would allow.
 *
 * Returns: %TRUE on success
 *
 * Since: 1.0
 */
gboolean
astra_discord_plugin_render_view (AstraDiscordPlugin *self,
				  AstraEventView *view,
				  AstraRequest *request,
				  GError **error)
{
	g_autoptr(GPtrArray) fields =
		       g_ptr_array_new_with_free_func ((GDestroyNotify) astra_discord_field_free);
	g_autoptr(JsonBuilder) builder = json_builder_new ();
	g_autoptr(JsonNode) root = NULL;
	g_autoptr(GBytes) body = NULL;
	g_autofree char *title = NULL;
	g_autofree char *footer = NULL;
	g_autofree char *description = NULL;
	g_autofree char *link = NULL;
	g_autofree char *desc_text = NULL;
	AstraDiscordDescription desc = { NULL, FALSE };
	const char *type_name = astra_event_get_type_name (view->event);
	gboolean mention = astra_discord_should_mention (self, view);
	gsize desc_cap;
	gsize desc_floor;
	guint n_fields;

	g_return_val_if_fail (ASTRA_IS_DISCORD_PLUGIN (self), FALSE);
	g_return_val_if_fail (self->url != NULL, FALSE);

	/* the view's text is sanitized already, but a view is a plain struct: again here. The
	 * title is not markdown, but may show a mention's text */
	{
		g_autofree char *clean = astra_text_sanitize (view->title, FALSE);
		g_autofree char *defused = astra_discord_defuse_text (clean);
		title = astra_utf8_truncate (astra_discord_is_blank (defused) ? type_name : defused,
					     ASTRA_DISCORD_TITLE_MAX);
	}

	for (guint i = 0; i < view->fields->len; i++) {
		AstraViewField *vf = g_ptr_array_index (view->fields, i);
		AstraDiscordField *field = g_new0 (AstraDiscordField, 1);
		g_autofree char *clean = astra_text_sanitize (vf->value, TRUE);
		g_autofree char *escaped = astra_discord_escape_markdown (clean);

		field->name = astra_utf8_truncate (vf->name, ASTRA_DISCORD_FIELD_NAME_MAX);
		field->value = astra_utf8_truncate (astra_discord_is_blank (escaped) ? "(blank)" : escaped,
						    ASTRA_DISCORD_FIELD_VALUE_MAX);
		field->is_short = vf->is_short;
		g_ptr_array_add (fields, field);
	}

	if (view->detail != NULL && !astra_discord_is_blank (view->detail)) {
		g_autofree char *clean = astra_text_sanitize (view->detail, TRUE);

		desc.is_code = astra_event_get_kind (view->event) == ASTRA_EVENT_KIND_TRACEROUTE_COMPLETED;
		desc_text =
		    desc.is_code ? astra_discord_escape_code (clean) : astra_discord_escape_markdown (clean);
		desc.text = desc_text;
	}

	/* the 6000-character budget across the embed: shrink the description down to a floor, then
	 * drop trailing fields (they are in reading order), saying so in the footer */
	desc_cap = MIN (astra_discord_description_length (&desc), (gsize) ASTRA_DISCORD_DESCRIPTION_MAX);
	desc_floor = MIN (desc_cap, (gsize) ASTRA_DISCORD_DESCRIPTION_FLOOR);
	n_fields = MIN (fields->len, (guint) ASTRA_DISCORD_FIELDS_MAX);
	for (;;) {
		gsize used = astra_utf8_length (title);
		gsize room;
		guint n_dropped = fields->len - n_fields;

		g_free (footer);
		if (n_dropped > 0)
			footer = g_strdup_printf (ASTRA_DISCORD_FOOTER_PREFIX "%s \u00b7 %u field%s left out",
						  type_name, n_dropped, n_dropped == 1 ? "" : "s");
		else
			footer = g_strdup_printf (ASTRA_DISCORD_FOOTER_PREFIX "%s", type_name);
		used += astra_utf8_length (footer);
		for (guint i = 0; i < n_fields; i++) {
			AstraDiscordField *field = g_ptr_array_index (fields, i);
			used += astra_utf8_length (field->name) + astra_utf8_length (field->value);
		}
		room = used < ASTRA_DISCORD_EMBED_TOTAL_MAX ? ASTRA_DISCORD_EMBED_TOTAL_MAX - used : 0;
		/* the fields alone may be too many too, with or without a description */
		if ((used <= ASTRA_DISCORD_EMBED_TOTAL_MAX && room >= desc_floor) || n_fields == 0) {
			description = astra_discord_description_render (&desc, MIN (desc_cap, room));
			break;
		}
		n_fields--;
	}
	link = astra_discord_dashboard_link (self, view);

	json_builder_begin_object (builder);
	json_builder_set_member_name (builder, "username");
	json_builder_add_string_value (builder, self->username);
	if (self->avatar_url != NULL) {
		json_builder_set_member_name (builder, "avatar_url");
		json_builder_add_string_value (builder, self->avatar_url);
	}
	if (mention) {
		json_builder_set_member_name (builder, "content");
		json_builder_add_string_value (builder, self->mention);
	}

	json_builder_set_member_name (builder, "embeds");
	json_builder_begin_array (builder);
	json_builder_begin_object (builder);
	json_builder_set_member_name (builder, "title");
	json_builder_add_string_value (builder, title);
	if (description != NULL && !astra_discord_is_blank (description)) {
		json_builder_set_member_name (builder, "description");
		json_builder_add_string_value (builder, description);
	}
	if (link != NULL) {
		json_builder_set_member_name (builder, "url");
		json_builder_add_string_value (builder, link);
	}
	json_builder_set_member_name (builder, "color");
	json_builder_add_int_value (builder, astra_event_tone_rgb (view->tone));
	json_builder_set_member_name (builder, "timestamp");
	json_builder_add_string_value (builder, view->timestamp);
	if (n_fields > 0) {
		json_builder_set_member_name (builder, "fields");
		json_builder_begin_array (builder);
		for (guint i = 0; i < n_fields; i++) {
			AstraDiscordField *field = g_ptr_array_index (fields, i);

			json_builder_begin_object (builder);
			json_builder_set_member_name (builder, "name");
			json_builder_add_string_value (builder, field->name);
			json_builder_set_member_name (builder, "value");
			json_builder_add_string_value (builder, field->value);
			json_builder_set_member_name (builder, "inline");
			json_builder_add_boolean_value (builder, field->is_short);
			json_builder_end_object (builder);
		}
		json_builder_end_array (builder);
	}
	json_builder_set_member_name (builder, "footer");
	json_builder_begin_object (builder);
	json_builder_set_member_name (builder, "text");
	json_builder_add_string_value (builder, footer);
	json_builder_end_object (builder);
	json_builder_end_object (builder);
	json_builder_end_array (builder);

	/* always: Discord's default would let "@everyone" in the data ping the channel */
	json_builder_set_member_name (builder, "allowed_mentions");
	json_builder_begin_object (builder);
	json_builder_set_member_name (builder, "parse");
	json_builder_begin_array (builder);
	json_builder_end_array (builder);
	if (mention) {
		json_builder_set_member_name (builder, self->mention_is_role ? "roles" : "users");
		json_builder_begin_array (builder);
		json_builder_add_string_value (builder, self->mention_id);
		json_builder_end_array (builder);
	}
	json_builder_end_object (builder);
	json_builder_end_object (builder);

	root = json_builder_get_root (builder);
	body = astra_json_serialize (root, error);
	if (body == NULL) {
		g_prefix_error (error, "rendering the Discord message: ");
		return FALSE;
	}
	astra_plugin_request_post_json (request, self->url, self->user_agent, body);
	return TRUE;
}

static gboolean
astra_discord_plugin_render (AstraPlugin *plugin, AstraEvent *event, AstraRequest *request, GError **error)
{
	AstraDiscordPlugin *self = ASTRA_DISCORD_PLUGIN (plugin);
	g_autoptr(AstraEventView) view = NULL;

	if (self->url == NULL) {
		g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
				     "the webhook is not configured");
		return FALSE;
	}
	view = astra_event_view_new (event);
	return astra_discord_plugin_render_view (self, view, request, error);
}

/* classification */

/* MEMBER of OBJECT if it is a number, into VALUE */
static gboolean
astra_discord_get_member_number (JsonObject *object, const char *member, double *value)
{
	JsonNode *node = object != NULL ? json_object_get_member (object, member) : NULL;
	GType type;

	if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
		return FALSE;
	type = json_node_get_value_type (node);
	if (type == G_TYPE_INT64)
		*value = (double) json_node_get_int (node);
	else if (type == G_TYPE_DOUBLE)
		*value = json_node_get_double (node);
	else
		return FALSE;
	return TRUE;
}

/* the first field-level error of a 50035 body, as "embeds.0.title: Must be 256 or fewer in
 * length.": {"errors":{"embeds":{"0":{"title":{"_errors":[{"code":..,"message":..}]}}}}} */
static char *
astra_discord_first_field_error (JsonNode *node, const char *path, guint depth)
{
	JsonObjectIter iter;
	const char *name;
	JsonNode *member;

	if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node) || depth > 16)
		return NULL;
	json_object_iter_init_ordered (&iter, json_node_get_object (node));
	while (json_object_iter_next_ordered (&iter, &name, &member)) {
		g_autofree char *child_path = NULL;
		char *found;

		if (g_strcmp0 (name, "_errors") == 0) {
			JsonArray *errors;
			JsonNode *first;
			const char *message;

			if (!JSON_NODE_HOLDS_ARRAY (member))
				continue;
			errors = json_node_get_array (member);
			if (json_array_get_length (errors) == 0)
				continue;
			first = json_array_get_element (errors, 0);
			if (!JSON_NODE_HOLDS_OBJECT (first))
				continue;
			message = astra_plugin_json_get_string (json_node_get_object (first), "message");
			if (message == NULL)
				continue;
			return g_strdup_printf ("%s: %s", path[0] != '\0' ? path : "body", message);
		}
		child_path = path[0] != '\0' ? g_strdup_printf ("%s.%s", path, name) : g_strdup (name);
		found = astra_discord_first_field_error (member, child_path, depth + 1);
		if (found != NULL)
			return found;
	}
	return NULL;
}

/* TEXT on one line, bounded, as Discord wrote it (white space and all) */
static void
astra_discord_append_bounded (GString *out, const char *text, gsize max_chars)
{
	g_autofree char *line = astra_text_line (text, FALSE, max_chars);

	g_string_append (out, line);
}

/*
 * The reason for a response that is not a delivery: Discord's own words when the body is its
 * JSON error ("Unknown Webhook (code 10015)", "Invalid Form Body (code 50035): embeds.0.title:
 * Must be 256 or fewer in length."), else FALLBACK and a short plain-text body (Cloudflare's
 * "error code: 1015"). Bounded and on one line, whatever the body holds.
 */
static char *
astra_discord_reason (AstraResponse *response, JsonObject *object, const char *fallback)
{
	const char *message = astra_plugin_json_get_string (object, "message");
	g_autoptr(GString) out = g_string_new (NULL);
	g_autofree char *field_error = NULL;
	double code = 0;
	gboolean global = FALSE;
	JsonNode *global_node = object != NULL ? json_object_get_member (object, "global") : NULL;

	if (global_node != NULL && JSON_NODE_HOLDS_VALUE (global_node) &&
	    json_node_get_value_type (global_node) == G_TYPE_BOOLEAN)
		global = json_node_get_boolean (global_node);

	if (message != NULL && !astra_discord_is_blank (message)) {
		astra_discord_append_bounded (out, message, ASTRA_DISCORD_REASON_PART_MAX);
	} else {
		GBytes *body = astra_response_get_body (response);
		gsize len = 0;
		const char *data = body != NULL ? g_bytes_get_data (body, &len) : NULL;

		g_string_append (out, fallback);
		/* a short text answer (a proxy's, Cloudflare's) says more than the status alone */
		if (object == NULL && data != NULL && len > 0 && len <= ASTRA_DISCORD_REASON_PART_MAX &&
		    memchr (data, '<', len) == NULL) {
			g_autofree char *text = g_strndup (data, len);
			if (!astra_discord_is_blank (text)) {
				g_string_append (out, ": ");
				astra_discord_append_bounded (out, g_strstrip (text),
							      ASTRA_DISCORD_REASON_PLAIN_MAX);
			}
		}
	}
	if (astra_discord_get_member_number (object, "code", &code) && code >= 0 && code <= G_MAXINT32 &&
	    code == (double) (gint64) code)
		g_string_append_printf (out, " (code %" G_GINT64_FORMAT ")", (gint64) code);
	if (global)
		g_string_append (out, " (global)");
	if (object != NULL)
		field_error =
		    astra_discord_first_field_error (json_object_get_member (object, "errors"), "", 0);
	if (field_error != NULL) {
		g_string_append (out, ": ");
		astra_discord_append_bounded (out, field_error, ASTRA_DISCORD_REASON_PART_MAX);
	}
	return astra_text_line (out->str, FALSE, ASTRA_DISCORD_REASON_MAX);
}

static void
astra_discord_set_reason (AstraResponse *response, JsonObject *object, const char *fallback)
{
	g_autofree char *reason = astra_discord_reason (response, object, fallback);

	astra_response_set_reason (response, reason);
}

static double
astra_discord_clamp_delay (double seconds)
{
	if (seconds < 0)
		return -1;
	return MIN (seconds, ASTRA_DISCORD_RETRY_AFTER_MAX);
}

static AstraOutcome
astra_discord_plugin_classify (AstraPlugin *plugin, AstraResponse *response)
{
	guint status = astra_response_get_status (response);
	g_autoptr(JsonObject) object = NULL;
	AstraOutcome outcome;

	if (status == 200 || status == 204)
		return ASTRA_OUTCOME_DELIVERED;
	object = astra_plugin_response_json_object (response, ASTRA_DISCORD_RESPONSE_PARSE_MAX);

	if (status == 429) {
		double delay = -1;

		/* the body's retry_after (fractional seconds) is more precise than the header */
		if (!astra_discord_get_member_number (object, "retry_after", &delay) || delay < 0)
			delay = astra_response_parse_retry_after_header (response);
		astra_response_set_retry_after (response, astra_discord_clamp_delay (delay));
		astra_discord_set_reason (response, object, "rate limited");
		return ASTRA_OUTCOME_RETRY;
	}
	/* Discord: "If a webhook returns a 404 status you should not attempt to use it again" */
	if (status == 404) {
		astra_discord_set_reason (response, object, "unknown webhook");
		return ASTRA_OUTCOME_GONE;
	}
	/* an invalid token (50027) or no access to the channel or thread: nothing heals by itself,
	 * and every 401 and 403 counts toward Discord's invalid-request limit (10,000 in 10 minutes
	 * bans the host's address for all its webhooks), so stop until an admin looks */
	if (status == 401 || status == 403) {
		astra_discord_set_reason (response, object, status == 401 ? "unauthorized" : "forbidden");
		return ASTRA_OUTCOME_GONE;
	}
	if (status >= 400 && status < 500 && status != 408 && status != 410) {
		astra_discord_set_reason (response, object, "rejected");
		return ASTRA_OUTCOME_FAILED;
	}

	outcome = ASTRA_PLUGIN_CLASS (astra_discord_plugin_parent_class)->classify (plugin, response);
	if (outcome == ASTRA_OUTCOME_RETRY) {
		g_autofree char *fallback = g_strdup_printf ("HTTP %u", status);
		astra_response_set_retry_after (
		    response, astra_discord_clamp_delay (astra_response_get_retry_after (response)));
		astra_discord_set_reason (response, object, fallback);
	}
	return outcome;
}

static void
astra_discord_plugin_finalize (GObject *object)
{
	AstraDiscordPlugin *self = ASTRA_DISCORD_PLUGIN (object);

	g_free (self->url);
	g_free (self->username);
	g_free (self->avatar_url);
	g_free (self->mention);
	g_free (self->mention_id);
	g_free (self->dashboard_url);
	g_free (self->user_agent);
	G_OBJECT_CLASS (astra_discord_plugin_parent_class)->finalize (object);
}

static void
astra_discord_plugin_class_init (AstraDiscordPluginClass *klass)
{
	AstraPluginClass *plugin_class = ASTRA_PLUGIN_CLASS (klass);

	G_OBJECT_CLASS (klass)->finalize = astra_discord_plugin_finalize;
	plugin_class->config_keys = astra_discord_keys;
	plugin_class->configure = astra_discord_plugin_configure;
	plugin_class->render = astra_discord_plugin_render;
	plugin_class->classify = astra_discord_plugin_classify;
}

static void
astra_discord_plugin_init (AstraDiscordPlugin *self)
{
	/* "DiscordBot (URL, VERSION)" is the format for bot-token requests; a webhook is not a bot,
	 * so name ourselves in the usual product/version (+URL) form rather than pretend to be one */
	self->user_agent =
	    g_strdup_printf ("astra-alerts/%s (discord; +https://astranetmon.org)", astra_version_string ());
}
