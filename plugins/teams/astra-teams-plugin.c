/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Microsoft Teams: an Adaptive Card in the message a Workflows (Power
 * Automate) webhook expects, or the legacy Office 365 connector MessageCard,
 * kept under the Teams message size limit for any input.
 */

#include "config.h"

#include <string.h>

#include "astra-plugin-util.h"
#include "astra-teams-plugin.h"

/* Teams refuses messages over "28 KB" without saying how it counts them; we
 * take 28 KiB (28,672 bytes) and keep the serialized body 4 KiB below it for
 * what Workflows and Teams wrap around the card */
#define ASTRA_TEAMS_BODY_MAX (24 * 1024)

/* our own limits, in characters, for a card people can read */
#define ASTRA_TEAMS_TITLE_MAX 256
#define ASTRA_TEAMS_DETAIL_MAX 10000
#define ASTRA_TEAMS_FACT_MAX 1024
/* fact values shrink down to this before facts are left out */
#define ASTRA_TEAMS_FACT_MIN 64
/* a longer dashboard link is left out rather than cut */
#define ASTRA_TEAMS_LINK_MAX 2048

/* what classify reads of a response body */
#define ASTRA_TEAMS_PEEK_MAX (4 * 1024)
#define ASTRA_TEAMS_JSON_MAX (16 * 1024)
#define ASTRA_TEAMS_CODE_MAX 64

/* what an old Office 365 connector answers, with HTTP 200, when Teams refused the message */
#define ASTRA_TEAMS_LEGACY_ERROR "Microsoft Teams endpoint returned HTTP error "
#define ASTRA_TEAMS_LEGACY_FAILED "Webhook message delivery failed"

typedef enum {
	ASTRA_TEAMS_FORMAT_ADAPTIVE_CARD,
	ASTRA_TEAMS_FORMAT_MESSAGE_CARD,
} AstraTeamsFormat;

struct _AstraTeamsPlugin {
	AstraPlugin parent_instance;
	AstraTeamsFormat format;
	char *url;
	char *dashboard_url; /* a template, NULL when not configured */
	char *user_agent;
	gsize body_max;
};

G_DEFINE_FINAL_TYPE (AstraTeamsPlugin, astra_teams_plugin, ASTRA_TYPE_PLUGIN)

static const char *const astra_teams_keys[] = { "url", "url-file", "format", "dashboard-url", NULL };

/* what goes on a card, and how much of it: render shrinks the shape until the body fits */
typedef struct {
	AstraEventView *view;
	char *title; /* plain text, truncated */
	char *link;  /* NULL when there is none */
} AstraTeamsCard;

typedef struct {
	gsize detail_chars; /* 0: no detail */
	gsize fact_chars;
	gsize n_facts;
} AstraTeamsShape;

static gboolean
astra_teams_plugin_configure (AstraPlugin *plugin, GKeyFile *keyfile, const char *group, GError **error)
{
	AstraTeamsPlugin *self = ASTRA_TEAMS_PLUGIN (plugin);
	g_autofree char *url = NULL;
	g_autofree char *format = NULL;
	g_autofree char *dashboard_url = NULL;
	AstraTeamsFormat format_value = ASTRA_TEAMS_FORMAT_ADAPTIVE_CARD;

	url = astra_plugin_key_file_get_url (keyfile, group, error);
	if (url == NULL)
		return FALSE;

	/* raw values: GKeyFile's own errors would quote them */
	if (!astra_plugin_key_file_get_optional (keyfile, group, "format",
						 ASTRA_PLUGIN_KEY_FLAG_RAW | ASTRA_PLUGIN_KEY_FLAG_STRIP,
						 &format, error))
		return FALSE;
	if (format != NULL) {
		if (g_strcmp0 (format, "adaptive-card") == 0) {
			format_value = ASTRA_TEAMS_FORMAT_ADAPTIVE_CARD;
		} else if (g_strcmp0 (format, "message-card") == 0) {
			format_value = ASTRA_TEAMS_FORMAT_MESSAGE_CARD;
		} else {
			g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
					     "format: must be adaptive-card or message-card");
			return FALSE;
		}
	}

	if (!astra_plugin_key_file_get_dashboard_url (keyfile, group, ASTRA_TEAMS_LINK_MAX, &dashboard_url,
						      error))
		return FALSE;

	g_free (self->url);
	self->url = g_steal_pointer (&url);
	g_free (self->dashboard_url);
	self->dashboard_url = g_steal_pointer (&dashboard_url);
	self->format = format_value;
	return TRUE;
}

/*
 * Teams applies a markdown subset to TextBlock and Fact text and to MessageCard
 * sections with `"markdown": true`: emphasis with * and _, [text](url) links,
 * and "- " or "1. " lists at the start of a line. Event text is made literal
 * with CommonMark backslash escapes: * _ [ ] always, ( after ], a backslash
 * before punctuation (elsewhere it is literal anyway), and list markers at the
 * start of a line. A single newline does not break a line there, so each
 * line becomes a paragraph.
 */
static void
astra_teams_append_markdown_line (GString *out, const char *line, gsize len)
{
	gsize indent = 0;
	gsize marker = G_MAXSIZE;
	gsize digits = 0;

	/* a list marker may follow up to three spaces */
	while (indent < len && indent < 3 && line[indent] == ' ')
		indent++;
	if (indent < len && (line[indent] == '-' || line[indent] == '+') &&
	    (indent + 1 == len || line[indent + 1] == ' '))
		marker = indent;
	while (indent + digits < len && g_ascii_isdigit (line[indent + digits]))
		digits++;
	if (digits > 0 && digits <= 9 && indent + digits < len &&
	    (line[indent + digits] == '.' || line[indent + digits] == ')') &&
	    (indent + digits + 1 == len || line[indent + digits + 1] == ' '))
		marker = indent + digits;

	for (gsize i = 0; i < len; i++) {
		char c = line[i];

		if (i == marker || c == '*' || c == '_' || c == '[' || c == ']' ||
		    (c == '(' && i > 0 && line[i - 1] == ']') ||
		    (c == '\\' && i + 1 < len && g_ascii_ispunct (line[i + 1])))
			g_string_append_c (out, '\\');
		g_string_append_c (out, c);
	}
}

static char *
astra_teams_markdown_escape (const char *text)
{
	GString *out = g_string_sized_new (strlen (text) + 16);
	const char *line = text;

	for (;;) {
		const char *end = strchr (line, '\n');
		gsize len = end != NULL ? (gsize) (end - line) : strlen (line);

		astra_teams_append_markdown_line (out, line, len);
		if (end == NULL)
			break;
		g_string_append (out, "\n\n");
		line = end + 1;
	}
	return g_string_free (out, FALSE);
}

/* TEXT cut to MAX_CHARS characters, then made literal for markdown */
static char *
astra_teams_markdown (const char *text, gsize max_chars)
{
	g_autofree char *cut = astra_utf8_truncate (text, max_chars);

	return astra_teams_markdown_escape (cut);
}

static const char *
astra_teams_container_style (AstraEventTone tone)
{
	switch (tone) {
	case ASTRA_EVENT_TONE_PROBLEM:
		return "attention";
	case ASTRA_EVENT_TONE_WARNING:
		return "warning";
	case ASTRA_EVENT_TONE_RECOVERY:
		return "good";
	case ASTRA_EVENT_TONE_INFO:
	default:
		return "accent";
	}
}

static void
astra_teams_add_string (JsonBuilder *builder, const char *name, const char *value)
{
	json_builder_set_member_name (builder, name);
	json_builder_add_string_value (builder, value);
}

static void
astra_teams_add_boolean (JsonBuilder *builder, const char *name, gboolean value)
{
	json_builder_set_member_name (builder, name);
	json_builder_add_boolean_value (builder, value);
}

static void
astra_teams_add_text_block (JsonBuilder *builder, const char *text)
{
	json_builder_begin_object (builder);
	astra_teams_add_string (builder, "type", "TextBlock");
	astra_teams_add_string (builder, "text", text);
	astra_teams_add_boolean (builder, "wrap", TRUE);
	json_builder_end_object (builder);
}

/* the facts of SHAPE: NAME_KEY and "value" members */
static void
astra_teams_add_facts (JsonBuilder *builder,
		       AstraTeamsCard *card,
		       const AstraTeamsShape *shape,
		       const char *name_key)
{
	GPtrArray *fields = card->view->fields;

	json_builder_begin_array (builder);
	for (guint i = 0; i < fields->len && i < shape->n_facts; i++) {
		AstraViewField *field = g_ptr_array_index (fields, i);
		g_autofree char *name = astra_teams_markdown (field->name, ASTRA_TEAMS_TITLE_MAX);
		g_autofree char *value = astra_teams_markdown (field->value, shape->fact_chars);

		json_builder_begin_object (builder);
		astra_teams_add_string (builder, name_key, name);
		astra_teams_add_string (builder, "value", value);
		json_builder_end_object (builder);
	}
	json_builder_end_array (builder);
}

static gboolean
astra_teams_has_detail (AstraTeamsCard *card, const AstraTeamsShape *shape)
{
	return card->view->detail != NULL && card->view->detail[0] != '\0' && shape->detail_chars > 0;
}

static gboolean
astra_teams_has_facts (AstraTeamsCard *card, const AstraTeamsShape *shape)
{
	return card->view->fields->len > 0 && shape->n_facts > 0;
}

/* the Workflows message: one attachment, an Adaptive Card of at most version 1.5 */
static void
astra_teams_build_adaptive_card (JsonBuilder *builder, AstraTeamsCard *card, const AstraTeamsShape *shape)
{
	AstraEventView *view = card->view;
	g_autofree char *title = astra_teams_markdown_escape (card->title);
	/* shown in the reader's time zone; the timestamp is always RFC 3339 UTC */
	g_autofree char *when =
	    g_strdup_printf ("{{DATE(%s, SHORT)}} {{TIME(%s)}}", view->timestamp, view->timestamp);

	json_builder_begin_object (builder);
	astra_teams_add_string (builder, "type", "message");
	json_builder_set_member_name (builder, "attachments");
	json_builder_begin_array (builder);
	json_builder_begin_object (builder);
	astra_teams_add_string (builder, "contentType", "application/vnd.microsoft.card.adaptive");
	json_builder_set_member_name (builder, "contentUrl");
	json_builder_add_null_value (builder);
	json_builder_set_member_name (builder, "content");

	json_builder_begin_object (builder);
	astra_teams_add_string (builder, "$schema", "http://adaptivecards.io/schemas/adaptive-card.json");
	astra_teams_add_string (builder, "type", "AdaptiveCard");
	astra_teams_add_string (builder, "version", "1.5");
	astra_teams_add_string (builder, "fallbackText", card->title);
	json_builder_set_member_name (builder, "msteams");
	json_builder_begin_object (builder);
	astra_teams_add_string (builder, "width", "Full");
	json_builder_end_object (builder);

	json_builder_set_member_name (builder, "body");
	json_builder_begin_array (builder);

	/* the coloured header: what happened, and when */
	json_builder_begin_object (builder);
	astra_teams_add_string (builder, "type", "Container");
	astra_teams_add_string (builder, "style", astra_teams_container_style (view->tone));
	astra_teams_add_boolean (builder, "bleed", TRUE);
	json_builder_set_member_name (builder, "items");
	json_builder_begin_array (builder);
	json_builder_begin_object (builder);
	astra_teams_add_string (builder, "type", "TextBlock");
	astra_teams_add_string (builder, "text", title);
	astra_teams_add_string (builder, "size", "Medium");
	astra_teams_add_string (builder, "weight", "Bolder");
	astra_teams_add_boolean (builder, "wrap", TRUE);
	json_builder_end_object (builder);
	json_builder_begin_object (builder);
	astra_teams_add_string (builder, "type", "TextBlock");
	astra_teams_add_string (builder, "text", when);
	astra_teams_add_boolean (builder, "isSubtle", TRUE);
	astra_teams_add_string (builder, "spacing", "None");
	astra_teams_add_boolean (builder, "wrap", TRUE);
	json_builder_end_object (builder);
	json_builder_end_array (builder);
	json_builder_end_object (builder);

	if (astra_teams_has_detail (card, shape)) {
		g_autofree char *detail = astra_teams_markdown (view->detail, shape->detail_chars);
		astra_teams_add_text_block (builder, detail);
	}
	if (astra_teams_has_facts (card, shape)) {
		json_builder_begin_object (builder);
		astra_teams_add_string (builder, "type", "FactSet");
		json_builder_set_member_name (builder, "facts");
		astra_teams_add_facts (builder, card, shape, "title");
		json_builder_end_object (builder);
	}
	json_builder_end_array (builder);

	if (card->link != NULL) {
		json_builder_set_member_name (builder, "actions");
		json_builder_begin_array (builder);
		json_builder_begin_object (builder);
		astra_teams_add_string (builder, "type", "Action.OpenUrl");
		astra_teams_add_string (builder, "title", "Open dashboard");
		astra_teams_add_string (builder, "url", card->link);
		json_builder_end_object (builder);
		json_builder_end_array (builder);
	}
	json_builder_end_object (builder);

	json_builder_end_object (builder);
	json_builder_end_array (builder);
	json_builder_end_object (builder);
}

/* the legacy Office 365 connector card */
static void
astra_teams_build_message_card (JsonBuilder *builder, AstraTeamsCard *card, const AstraTeamsShape *shape)
{
	AstraEventView *view = card->view;
	g_autofree char *title = astra_teams_markdown_escape (card->title);
	g_autofree char *color = g_strdup_printf ("%06X", (guint) astra_event_tone_rgb (view->tone));

	json_builder_begin_object (builder);
	astra_teams_add_string (builder, "@type", "MessageCard");
	astra_teams_add_string (builder, "@context", "https://schema.org/extensions");
	/* plain text: what notifications show */
	astra_teams_add_string (builder, "summary", card->title);
	astra_teams_add_string (builder, "themeColor", color);
	json_builder_set_member_name (builder, "sections");
	json_builder_begin_array (builder);
	json_builder_begin_object (builder);
	astra_teams_add_string (builder, "activityTitle", title);
	astra_teams_add_string (builder, "activitySubtitle", view->timestamp);
	if (astra_teams_has_facts (card, shape)) {
		json_builder_set_member_name (builder, "facts");
		astra_teams_add_facts (builder, card, shape, "name");
	}
	if (astra_teams_has_detail (card, shape)) {
		g_autofree char *detail = astra_teams_markdown (view->detail, shape->detail_chars);
		astra_teams_add_string (builder, "text", detail);
	}
	astra_teams_add_boolean (builder, "markdown", TRUE);
	json_builder_end_object (builder);
	json_builder_end_array (builder);

	if (card->link != NULL) {
		json_builder_set_member_name (builder, "potentialAction");
		json_builder_begin_array (builder);
		json_builder_begin_object (builder);
		astra_teams_add_string (builder, "@type", "OpenUri");
		astra_teams_add_string (builder, "name", "Open dashboard");
		json_builder_set_member_name (builder, "targets");
		json_builder_begin_array (builder);
		json_builder_begin_object (builder);
		astra_teams_add_string (builder, "os", "default");
		astra_teams_add_string (builder, "uri", card->link);
		json_builder_end_object (builder);
		json_builder_end_array (builder);
		json_builder_end_object (builder);
		json_builder_end_array (builder);
	}
	json_builder_end_object (builder);
}

static GBytes *
astra_teams_plugin_build (AstraTeamsPlugin *self,
			  AstraTeamsCard *card,
			  const AstraTeamsShape *shape,
			  GError **error)
{
	g_autoptr(JsonBuilder) builder = json_builder_new ();
	g_autoptr(JsonNode) root = NULL;

	if (self->format == ASTRA_TEAMS_FORMAT_MESSAGE_CARD)
		astra_teams_build_message_card (builder, card, shape);
	else
		astra_teams_build_adaptive_card (builder, card, shape);
	root = json_builder_get_root (builder);
	return astra_json_serialize (root, error);
}

/* the largest *KNOB in [LO, HI] whose body fits, and that body in *OUT; *OUT is
 * NULL and *KNOB is LO when none does */
static gboolean
astra_teams_plugin_search (AstraTeamsPlugin *self,
			   AstraTeamsCard *card,
			   AstraTeamsShape *shape,
			   gsize *knob,
			   gsize lo,
			   gsize hi,
			   GBytes **out,
			   GError **error)
{
	g_autoptr(GBytes) best = NULL;
	gsize best_value = lo;

	while (lo <= hi) {
		gsize mid = lo + (hi - lo) / 2;
		g_autoptr(GBytes) body = NULL;

		*knob = mid;
		body = astra_teams_plugin_build (self, card, shape, error);
		if (body == NULL)
			return FALSE;
		if (g_bytes_get_size (body) <= self->body_max) {
			g_clear_pointer (&best, g_bytes_unref);
			best = g_steal_pointer (&body);
			best_value = mid;
			lo = mid + 1;
		} else if (mid == 0) {
			break;
		} else {
			hi = mid - 1;
		}
	}
	*knob = best_value;
	*out = g_steal_pointer (&best);
	return TRUE;
}

/* the body within self->body_max: the detail shrinks first, then the fact
 * values, then the last facts go */
static GBytes *
astra_teams_plugin_fit (AstraTeamsPlugin *self, AstraTeamsCard *card, GError **error)
{
	AstraEventView *view = card->view;
	AstraTeamsShape shape = {
		.detail_chars = ASTRA_TEAMS_DETAIL_MAX,
		.fact_chars = ASTRA_TEAMS_FACT_MAX,
		.n_facts = view->fields->len,
	};
	g_autoptr(GBytes) body = NULL;

	body = astra_teams_plugin_build (self, card, &shape, error);
	if (body == NULL)
		return NULL;
	if (g_bytes_get_size (body) <= self->body_max)
		return g_steal_pointer (&body);
	g_clear_pointer (&body, g_bytes_unref);

	if (view->detail != NULL && view->detail[0] != '\0') {
		gsize len = MIN (astra_utf8_length (view->detail), (gsize) ASTRA_TEAMS_DETAIL_MAX);
		if (!astra_teams_plugin_search (self, card, &shape, &shape.detail_chars, 0, len, &body,
						error))
			return NULL;
		if (body != NULL)
			return g_steal_pointer (&body);
	}
	if (!astra_teams_plugin_search (self, card, &shape, &shape.fact_chars, ASTRA_TEAMS_FACT_MIN,
					ASTRA_TEAMS_FACT_MAX, &body, error))
		return NULL;
	if (body != NULL)
		return g_steal_pointer (&body);
	if (!astra_teams_plugin_search (self, card, &shape, &shape.n_facts, 0, view->fields->len, &body,
					error))
		return NULL;
	if (body != NULL)
		return g_steal_pointer (&body);

	/* the title and link are bounded well below ASTRA_TEAMS_BODY_MAX: only a lower test budget gets here
	 */
	g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_TOO_LARGE,
		     "the card does not fit in %" G_GSIZE_FORMAT " bytes", self->body_max);
	return NULL;
}

/* the dashboard link for this event, or NULL */
static char *
astra_teams_plugin_link (AstraTeamsPlugin *self, AstraEventView *view)
{
	AstraPluginLink result;
	char *link = astra_plugin_dashboard_link (view, self->dashboard_url, ASTRA_TEAMS_LINK_MAX, &result);

	if (result == ASTRA_PLUGIN_LINK_TOO_LONG)
		g_debug ("dashboard link longer than %u bytes, left out", (guint) ASTRA_TEAMS_LINK_MAX);
	else if (result == ASTRA_PLUGIN_LINK_INVALID)
		g_debug ("dashboard link is not a valid URL for this event, left out");
	return link;
}

static gboolean
astra_teams_plugin_render (AstraPlugin *plugin, AstraEvent *event, AstraRequest *request, GError **error)
{
	AstraTeamsPlugin *self = ASTRA_TEAMS_PLUGIN (plugin);
	g_autoptr(AstraEventView) view = astra_event_view_new (event);
	g_autofree char *title = astra_utf8_truncate (view->title, ASTRA_TEAMS_TITLE_MAX);
	g_autofree char *link = astra_teams_plugin_link (self, view);
	AstraTeamsCard card = {
		.view = view,
		.title = title,
		.link = link,
	};
	g_autoptr(GBytes) body = astra_teams_plugin_fit (self, &card, error);

	if (body == NULL)
		return FALSE;
	astra_plugin_request_post_json (request, self->url, self->user_agent, body);
	return TRUE;
}

/* Workflows and Power Automate answer errors with {"error":{"code":"WorkflowNotFound",...}};
 * the code, when it is a plain word, says what happened without echoing anything */
static char *
astra_teams_error_code (AstraResponse *response)
{
	g_autoptr(JsonObject) object = astra_plugin_response_json_object (response, ASTRA_TEAMS_JSON_MAX);
	JsonNode *error_node;
	const char *code;

	if (object == NULL)
		return NULL;
	error_node = json_object_get_member (object, "error");
	if (error_node == NULL || !JSON_NODE_HOLDS_OBJECT (error_node))
		return NULL;
	code = astra_plugin_json_get_string (json_node_get_object (error_node), "code");
	if (code == NULL || code[0] == '\0' || strlen (code) > ASTRA_TEAMS_CODE_MAX)
		return NULL;
	for (const char *p = code; *p != '\0'; p++) {
		if (!g_ascii_isalnum (*p) && *p != '_' && *p != '.' && *p != '-')
			return NULL;
	}
	return g_strdup (code);
}

/* an old connector answers 200 and "Webhook message delivery failed with error:
 * Microsoft Teams endpoint returned HTTP error 429 with ContextId ..." when
 * Teams refused the message: the status it names, 0 for a failure without
 * one, -1 for no failure */
static gint
astra_teams_legacy_status (AstraResponse *response)
{
	GBytes *body = astra_response_get_body (response);
	const char *data;
	const char *found;
	const char *end;
	gsize len = 0;
	gint status = 0;

	if (body == NULL)
		return -1;
	data = g_bytes_get_data (body, &len);
	if (data == NULL || len == 0)
		return -1;
	len = MIN (len, (gsize) ASTRA_TEAMS_PEEK_MAX);
	end = data + len;
	found = g_strstr_len (data, (gssize) len, ASTRA_TEAMS_LEGACY_ERROR);
	if (found != NULL) {
		const char *p = found + strlen (ASTRA_TEAMS_LEGACY_ERROR);
		for (guint i = 0; i < 3; i++, p++) {
			if (p >= end || !g_ascii_isdigit (*p))
				return 0;
			status = status * 10 + (*p - '0');
		}
		if (p < end && g_ascii_isdigit (*p))
			return 0;
		return status >= 100 ? status : 0;
	}
	if (g_strstr_len (data, (gssize) len, ASTRA_TEAMS_LEGACY_FAILED) != NULL)
		return 0;
	return -1;
}

static AstraOutcome
astra_teams_plugin_classify_legacy (AstraResponse *response, gint status)
{
	g_autofree char *reason = NULL;

	if (status == 0) {
		astra_response_set_reason (response, "delivery failed (in a 200 response)");
		return ASTRA_OUTCOME_FAILED;
	}
	if (status == 429 || status >= 500) {
		reason = g_strdup_printf ("%sHTTP error %d in a 200 response",
					  status == 429 ? "throttled: " : "", status);
		astra_response_set_reason (response, reason);
		astra_response_set_retry_after (response, astra_response_parse_retry_after_header (response));
		return ASTRA_OUTCOME_RETRY;
	}
	reason = g_strdup_printf ("%sHTTP error %d in a 200 response",
				  status == 413 ? "payload too large: " : "", status);
	astra_response_set_reason (response, reason);
	return ASTRA_OUTCOME_FAILED;
}

static AstraOutcome
astra_teams_plugin_classify (AstraPlugin *plugin, AstraResponse *response)
{
	guint status = astra_response_get_status (response);
	g_autofree char *code = NULL;
	AstraOutcome outcome;

	/* Workflows answers 202 when the flow is queued; an old connector answers 200 */
	if (status == 200) {
		gint legacy = astra_teams_legacy_status (response);
		if (legacy >= 0)
			return astra_teams_plugin_classify_legacy (response, legacy);
	}
	if (status >= 200 && status < 300)
		return ASTRA_OUTCOME_DELIVERED;

	code = astra_teams_error_code (response);
	if (status == 413) {
		astra_response_set_reason (response, "payload too large");
		return ASTRA_OUTCOME_FAILED;
	}
	/* the flow or connector was deleted: nothing will get through until someone looks */
	if (status == 404) {
		astra_response_set_reason (response, code != NULL ? code : "not found");
		return ASTRA_OUTCOME_GONE;
	}
	outcome = ASTRA_PLUGIN_CLASS (astra_teams_plugin_parent_class)->classify (plugin, response);
	if (code != NULL && status >= 400)
		astra_response_set_reason (response, code);
	else if (status == 429)
		astra_response_set_reason (response, "too many requests");
	return outcome;
}

/**
 * astra_teams_plugin_set_body_max:
 * @self: an #AstraTeamsPlugin
 * @body_max: the largest body to render, in bytes
 *
 * Lowers the body budget, so tests can make every shrinking step happen with
 * events the schemas allow. The daemon never calls it.
 *
 * Since: 1.0
 */
void
astra_teams_plugin_set_body_max (AstraTeamsPlugin *self, gsize body_max)
{
	g_return_if_fail (ASTRA_IS_TEAMS_PLUGIN (self));
	self->body_max = MIN (body_max, (gsize) ASTRA_TEAMS_BODY_MAX);
}

static void
astra_teams_plugin_finalize (GObject *object)
{
	AstraTeamsPlugin *self = ASTRA_TEAMS_PLUGIN (object);

	g_free (self->url);
	g_free (self->dashboard_url);
	g_free (self->user_agent);
	G_OBJECT_CLASS (astra_teams_plugin_parent_class)->finalize (object);
}

static void
astra_teams_plugin_class_init (AstraTeamsPluginClass *klass)
{
	AstraPluginClass *plugin_class = ASTRA_PLUGIN_CLASS (klass);

	G_OBJECT_CLASS (klass)->finalize = astra_teams_plugin_finalize;
	plugin_class->config_keys = astra_teams_keys;
	plugin_class->configure = astra_teams_plugin_configure;
	plugin_class->render = astra_teams_plugin_render;
	plugin_class->classify = astra_teams_plugin_classify;
}

static void
astra_teams_plugin_init (AstraTeamsPlugin *self)
{
	self->format = ASTRA_TEAMS_FORMAT_ADAPTIVE_CARD;
	self->body_max = ASTRA_TEAMS_BODY_MAX;
	self->user_agent = g_strdup_printf ("astra-alerts/%s (teams)", astra_version_string ());
}
