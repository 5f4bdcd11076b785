/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * `astra-alertctl listen`: a local webhook receiver that verifies signatures
 * with the SDK's AstraSigner and prints what arrives.
 */

#include "config.h"

#include <errno.h>
#include <glib-unix.h>
#include <libsoup/soup.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "astra.h"
#include "astra-cli.h"

#define ASTRA_CLI_LISTEN_DEFAULT_ADDRESS "127.0.0.1"
#define ASTRA_CLI_LISTEN_DEFAULT_PORT	 8471
#define ASTRA_CLI_LISTEN_MAX_BODY	 (1024 * 1024)
/* how much of a body that is not JSON is shown, and of a header value */
#define ASTRA_CLI_LISTEN_MAX_SHOWN 4096
#define ASTRA_CLI_LISTEN_MAX_FIELD 80
/* set on a request whose chunked body grew past the limit while it was read */
#define ASTRA_CLI_LISTEN_TOO_LARGE_KEY "astra-cli-too-large"

#define ASTRA_CLI_LISTEN_DESCRIPTION                                                                \
	"Each POST gets 200 {\"status\":\"ok\"} when its signature is valid (or when no secret\n"  \
	"is given), 401 when the signature is missing or wrong, 413 when the body is over\n"       \
	"1 MiB. The default scheme checks X-Webhook-Signature (hex HMAC-SHA256 of the body)\n"    \
	"with one secret; --standard-webhooks checks webhook-id, webhook-timestamp (within\n"     \
	"5 minutes) and webhook-signature, with one or more whsec_ secrets, separated by\n"       \
	"white space in a --secret-file.\n"                                                        \
	"\n"                                                                                        \
	"The first line printed is the URL to send to, e.g.\n"                                     \
	"  listening on http://127.0.0.1:8471/ (signature: X-Webhook-Signature, HMAC-SHA256)\n"   \
	"With --json it goes to stderr, so stdout holds only bodies.\n"                            \
	"\n"                                                                                        \
	"Examples:\n"                                                                               \
	"  # receive the daemon's demo webhook (data/webhooks.d/demo.conf)\n"                      \
	"  astra-alertctl listen --port 8471 --secret demo-secret-change-me\n"                     \
	"\n"                                                                                        \
	"  # a Standard Webhooks receiver during a key rotation\n"                                 \
	"  astra-alertctl listen --standard-webhooks --secret-file ~/hook.key\n"                   \
	"\n"                                                                                        \
	"  # print the type of each event, for a script\n"                                         \
	"  astra-alertctl listen --secret demo-secret-change-me --json | jq -r .event\n"

typedef enum {
	ASTRA_CLI_VERDICT_OK,
	ASTRA_CLI_VERDICT_UNSIGNED,
	ASTRA_CLI_VERDICT_BAD,
	ASTRA_CLI_VERDICT_REJECTED, /* not about the signature: 404, 405, 413 */
} AstraCliVerdict;

typedef struct {
	const AstraCliCommand *cmd;
	GMainLoop *loop;
	SoupServer *server;
	AstraSigner *signer; /* NULL: unsigned mode */
	char *path;	     /* NULL: any path */
	gboolean json;
	gboolean quiet;
	gboolean color;
	gboolean stdout_failed;
	guint count; /* 0: no limit */
	guint n_accepted;
	int exit_status;
} AstraCliListen;

static void
astra_cli_listen_clear (AstraCliListen *self)
{
	if (self->server != NULL)
		soup_server_disconnect (self->server);
	g_clear_object (&self->server);
	g_clear_object (&self->signer);
	g_clear_pointer (&self->loop, g_main_loop_unref);
	g_clear_pointer (&self->path, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (AstraCliListen, astra_cli_listen_clear)

static void
astra_cli_listen_wipe_strv (char **strv)
{
	for (guint i = 0; strv != NULL && strv[i] != NULL; i++)
		explicit_bzero (strv[i], strlen (strv[i]));
}

/* untrusted bytes made safe for a terminal, on one line, at most @max input bytes */
static void
astra_cli_listen_escape (GString *out, const char *data, gsize len, gsize max)
{
	gsize i = 0;

	while (i < len) {
		const char *p = data + i;
		gunichar c;
		gsize clen;

		if (i >= max) {
			g_string_append_printf (out, "... (%" G_GSIZE_FORMAT " more bytes)", len - i);
			return;
		}
		c = g_utf8_get_char_validated (p, (gssize) (len - i));
		if (c == (gunichar) -1 || c == (gunichar) -2) {
			g_string_append_printf (out, "\\x%02x", (guint) (guchar) *p);
			i++;
			continue;
		}
		clen = (gsize) (g_utf8_next_char (p) - p);
		if (c == '\n')
			g_string_append (out, "\\n");
		else if (c == '\r')
			g_string_append (out, "\\r");
		else if (c == '\t')
			g_string_append (out, "\\t");
		else if (c == '\\')
			g_string_append (out, "\\\\");
		else if (c < 0x20)
			g_string_append_printf (out, "\\x%02x", (guint) c);
		else if (astra_cli_is_invisible (c))
			g_string_append_printf (out, "\\u%04x", (guint) c);
		else
			g_string_append_len (out, p, (gssize) clen);
		i += clen;
	}
}

static void
astra_cli_listen_newline (GString *out, const char *margin, guint depth)
{
	g_string_append_c (out, '\n');
	g_string_append (out, margin);
	for (guint i = 0; i < depth; i++)
		g_string_append (out, "  ");
}

/*
 * Indents canonical JSON (astra_json_serialize()'s output: valid UTF-8, control
 * characters already escaped), so numbers and key order show as they were sent
 * and as JSON.stringify() would print them. Characters a terminal would act on
 * or that reorder text are shown as \u escapes.
 */
static void
astra_cli_listen_indent_json (GString *out, const char *json, gsize len, const char *margin)
{
	guint depth = 0;
	gboolean in_string = FALSE;

	g_string_append (out, margin);
	for (gsize i = 0; i < len; i++) {
		char c = json[i];

		if (in_string) {
			if (c == '\\' && i + 1 < len) {
				g_string_append_c (out, c);
				g_string_append_c (out, json[++i]);
			} else if ((guchar) c >= 0x7f) {
				const char *p = json + i;
				gunichar u = g_utf8_get_char (p);
				gsize clen = (gsize) (g_utf8_next_char (p) - p);

				if (astra_cli_is_invisible (u))
					g_string_append_printf (out, "\\u%04x", (guint) u);
				else
					g_string_append_len (out, p, (gssize) clen);
				i += clen - 1;
			} else {
				if (c == '"')
					in_string = FALSE;
				g_string_append_c (out, c);
			}
			continue;
		}
		switch (c) {
		case '"':
			in_string = TRUE;
			g_string_append_c (out, c);
			break;
		case '{':
		case '[':
			if (i + 1 < len && (json[i + 1] == '}' || json[i + 1] == ']')) {
				g_string_append_c (out, c);
				g_string_append_c (out, json[++i]);
				break;
			}
			g_string_append_c (out, c);
			astra_cli_listen_newline (out, margin, ++depth);
			break;
		case '}':
		case ']':
			if (depth > 0)
				depth--;
			astra_cli_listen_newline (out, margin, depth);
			g_string_append_c (out, c);
			break;
		case ',':
			g_string_append_c (out, c);
			astra_cli_listen_newline (out, margin, depth);
			break;
		case ':':
			g_string_append (out, ": ");
			break;
		default:
			g_string_append_c (out, c);
			break;
		}
	}
	g_string_append_c (out, '\n');
}

static void
astra_cli_listen_append_body (GString *out, GBytes *body, JsonNode *root, const GError *parse_error)
{
	gsize len = 0;
	const char *data = g_bytes_get_data (body, &len);

	if (len == 0) {
		g_string_append (out, "  (empty body)\n");
		return;
	}
	if (root != NULL) {
		g_autoptr(GBytes) canonical = astra_json_serialize (root, NULL);
		if (canonical != NULL) {
			gsize clen = 0;
			const char *cdata = g_bytes_get_data (canonical, &clen);
			astra_cli_listen_indent_json (out, cdata, clen, "  ");
			return;
		}
	}
	g_string_append (out, "  (not JSON: ");
	if (parse_error != NULL)
		astra_cli_listen_escape (out, parse_error->message, strlen (parse_error->message),
					 ASTRA_CLI_LISTEN_MAX_FIELD * 2);
	g_string_append (out, ")\n  ");
	astra_cli_listen_escape (out, data, len, ASTRA_CLI_LISTEN_MAX_SHOWN);
	g_string_append_c (out, '\n');
}

/* the one line --json prints: the body as it arrived, unless that would not be one line */
static void
astra_cli_listen_append_raw (GString *out, GBytes *body, JsonNode *root)
{
	gsize len = 0;
	const char *data = g_bytes_get_data (body, &len);

	if (len > 0 && (memchr (data, '\n', len) != NULL || memchr (data, '\r', len) != NULL)) {
		g_autoptr(JsonNode) node = NULL;
		g_autoptr(GBytes) compact = NULL;

		/* compact JSON (canonical, as the daemon sends it), or a JSON string of the text */
		if (root != NULL)
			compact = astra_json_serialize (root, NULL);
		if (compact == NULL) {
			g_autofree char *valid = g_utf8_make_valid (data, (gssize) len);
			node = json_node_init_string (json_node_alloc (), valid);
			compact = astra_json_serialize (node, NULL);
		}
		if (compact != NULL) {
			data = g_bytes_get_data (compact, &len);
			g_string_append_len (out, data, (gssize) len);
			g_string_append_c (out, '\n');
			return;
		}
	}
	if (len > 0)
		g_string_append_len (out, data, (gssize) len);
	g_string_append_c (out, '\n');
}

static void
astra_cli_listen_write (AstraCliListen *self, FILE *fp, GString *str)
{
	int errsv;

	if (self->stdout_failed && fp == stdout)
		return;
	if (fwrite (str->str, 1, str->len, fp) == str->len && fflush (fp) == 0)
		return;
	errsv = errno;
	if (fp != stdout)
		return;
	/* e.g. `listen --json | head -n 1`: the reader is gone, so is the point of listening */
	self->stdout_failed = TRUE;
	astra_cli_error (self->cmd, "cannot write to stdout: %s", g_strerror (errsv));
	self->exit_status = ASTRA_CLI_EXIT_ERROR;
	g_main_loop_quit (self->loop);
}

static const char *
astra_cli_listen_get_header (SoupServerMessage *msg, const char *name)
{
	return soup_message_headers_get_one (soup_server_message_get_request_headers (msg), name);
}

static void
astra_cli_listen_report (AstraCliListen *self,
			 SoupServerMessage *msg,
			 const char *path,
			 guint status,
			 AstraCliVerdict verdict,
			 const char *reason,
			 GBytes *body)
{
	g_autoptr(GString) str = g_string_new (NULL);
	g_autoptr(GDateTime) now = g_date_time_new_now_local ();
	g_autofree char *time_str = g_date_time_format (now, "%H:%M:%S");
	g_autoptr(JsonNode) root = NULL;
	g_autoptr(GError) parse_error = NULL;
	const char *method = soup_server_message_get_method (msg);
	const char *event_type = NULL;
	const char *id;
	const char *color = NULL;
	gboolean accepted = verdict == ASTRA_CLI_VERDICT_OK || verdict == ASTRA_CLI_VERDICT_UNSIGNED;
	gboolean to_stderr = self->json && !accepted;
	gboolean use_color = self->color && !to_stderr;

	if (body != NULL && g_bytes_get_size (body) > 0) {
		gsize len = 0;
		const char *data = g_bytes_get_data (body, &len);

		root = astra_json_parse (data, len, &parse_error);
		if (root != NULL && JSON_NODE_HOLDS_OBJECT (root)) {
			JsonNode *member = json_object_get_member (json_node_get_object (root), "event");
			if (member != NULL && JSON_NODE_HOLDS_VALUE (member) &&
			    json_node_get_value_type (member) == G_TYPE_STRING)
				event_type = json_node_get_string (member);
		}
	}

	if (self->json && accepted) {
		astra_cli_listen_append_raw (str, body, root);
		astra_cli_listen_write (self, stdout, str);
		return;
	}

	id = astra_cli_listen_get_header (msg, "X-Webhook-Id");
	if (id == NULL)
		id = astra_cli_listen_get_header (msg, "webhook-id");

	if (use_color)
		g_string_append_printf (str, ASTRA_CLI_COLOR_DIM "%s" ASTRA_CLI_COLOR_RESET " ", time_str);
	else
		g_string_append_printf (str, "%s ", time_str);
	astra_cli_listen_escape (str, method, strlen (method), ASTRA_CLI_LISTEN_MAX_FIELD);
	g_string_append_c (str, ' ');
	astra_cli_listen_escape (str, path, strlen (path), ASTRA_CLI_LISTEN_MAX_FIELD);
	g_string_append (str, "  ");
	if (event_type != NULL)
		astra_cli_listen_escape (str, event_type, strlen (event_type), ASTRA_CLI_LISTEN_MAX_FIELD);
	else
		g_string_append_c (str, '-');
	g_string_append (str, "  id=");
	if (id != NULL)
		astra_cli_listen_escape (str, id, strlen (id), ASTRA_CLI_LISTEN_MAX_FIELD);
	else
		g_string_append_c (str, '-');
	g_string_append (str, "  ");

	switch (verdict) {
	case ASTRA_CLI_VERDICT_OK:
		color = ASTRA_CLI_COLOR_GREEN;
		break;
	case ASTRA_CLI_VERDICT_UNSIGNED:
		color = ASTRA_CLI_COLOR_AMBER;
		break;
	default:
		color = ASTRA_CLI_COLOR_RED;
		break;
	}
	if (use_color)
		g_string_append (str, color);
	switch (verdict) {
	case ASTRA_CLI_VERDICT_OK:
		g_string_append (str, "signature OK");
		break;
	case ASTRA_CLI_VERDICT_UNSIGNED:
		g_string_append (str, "unsigned");
		break;
	case ASTRA_CLI_VERDICT_BAD:
		g_string_append (str, "BAD SIGNATURE");
		break;
	case ASTRA_CLI_VERDICT_REJECTED:
		g_string_append (str, "REJECTED");
		break;
	}
	if (use_color)
		g_string_append (str, ASTRA_CLI_COLOR_RESET);
	if (reason != NULL) {
		g_string_append (str, " (");
		astra_cli_listen_escape (str, reason, strlen (reason), ASTRA_CLI_LISTEN_MAX_FIELD * 2);
		g_string_append_c (str, ')');
	}
	g_string_append_printf (str, " -> %u\n", status);

	if (!self->quiet && !to_stderr && body != NULL)
		astra_cli_listen_append_body (str, body, root, parse_error);
	astra_cli_listen_write (self, to_stderr ? stderr : stdout, str);
}

static void
astra_cli_listen_reply (SoupServerMessage *msg, guint status, const char *error_message)
{
	g_autoptr(JsonObject) obj = json_object_new ();
	g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), obj);
	g_autoptr(GBytes) reply = NULL;
	gsize len = 0;
	const char *data;

	if (error_message != NULL)
		json_object_set_string_member (obj, "error", error_message);
	else
		json_object_set_string_member (obj, "status", "ok");
	reply = astra_json_serialize (node, NULL);
	if (reply == NULL) {
		static const char fallback[] = "{\"error\":\"internal error\"}";
		soup_server_message_set_status (msg, status, NULL);
		soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC,
						  fallback, sizeof (fallback) - 1);
		return;
	}
	data = g_bytes_get_data (reply, &len);
	soup_server_message_set_status (msg, status, NULL);
	soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, data, len);
}

static void
astra_cli_listen_reply_too_large (AstraCliListen *self, SoupServerMessage *msg, const char *path)
{
	/* the rest of the body is not worth reading: close the connection after replying */
	soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection", "close");
	astra_cli_listen_reply (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE,
				"the body is larger than 1048576 bytes");
	astra_cli_listen_report (self, msg, path, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE,
				 ASTRA_CLI_VERDICT_REJECTED, "body over 1 MiB", NULL);
}

static void
astra_cli_listen_got_chunk_cb (SoupServerMessage *msg, GBytes *chunk, gpointer user_data)
{
	SoupMessageBody *body = soup_server_message_get_request_body (msg);

	/* chunked bodies have no Content-Length: stop keeping them once over the limit */
	if (body->length > ASTRA_CLI_LISTEN_MAX_BODY) {
		g_object_set_data (G_OBJECT (msg), ASTRA_CLI_LISTEN_TOO_LARGE_KEY, GINT_TO_POINTER (1));
		soup_message_body_set_accumulate (body, FALSE);
		soup_message_body_truncate (body);
	}
}

static void
astra_cli_listen_early_cb (SoupServer *server,
			   SoupServerMessage *msg,
			   const char *path,
			   GHashTable *query,
			   gpointer user_data)
{
	AstraCliListen *self = user_data;
	SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);

	if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH &&
	    soup_message_headers_get_content_length (headers) > ASTRA_CLI_LISTEN_MAX_BODY) {
		astra_cli_listen_reply_too_large (self, msg, path);
		return;
	}
	g_signal_connect (msg, "got-chunk", G_CALLBACK (astra_cli_listen_got_chunk_cb), NULL);
}

static gboolean
astra_cli_listen_verify (AstraCliListen *self, SoupServerMessage *msg, GBytes *body, GError **error)
{
	const char *msg_id;
	const char *timestamp_str;
	const char *signature;
	gint64 timestamp = 0;
	gsize len = 0;
	const guint8 *data = g_bytes_get_data (body, &len);

	if (astra_signer_get_scheme (self->signer) == ASTRA_SIGNATURE_SCHEME_ASTRA) {
		signature = astra_cli_listen_get_header (msg, "X-Webhook-Signature");
		if (signature == NULL) {
			g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_SIGNATURE,
					     "missing X-Webhook-Signature header");
			return FALSE;
		}
		return astra_signer_verify (self->signer, NULL, 0, data, len, signature, error);
	}

	msg_id = astra_cli_listen_get_header (msg, "webhook-id");
	timestamp_str = astra_cli_listen_get_header (msg, "webhook-timestamp");
	signature = astra_cli_listen_get_header (msg, "webhook-signature");
	if (msg_id == NULL || timestamp_str == NULL || signature == NULL) {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_SIGNATURE, "missing %s header",
			     msg_id == NULL ? "webhook-id" : timestamp_str == NULL ? "webhook-timestamp"
										 : "webhook-signature");
		return FALSE;
	}
	if (!g_ascii_string_to_signed (timestamp_str, 10, 0, G_MAXINT64, &timestamp, NULL)) {
		g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_SIGNATURE,
				     "invalid webhook-timestamp header: expected Unix seconds");
		return FALSE;
	}
	return astra_signer_verify (self->signer, msg_id, timestamp, data, len, signature, error);
}

static void
astra_cli_listen_finished_cb (SoupServerMessage *msg, gpointer user_data)
{
	AstraCliListen *self = user_data;

	/* the last counted request has been answered */
	g_main_loop_quit (self->loop);
}

static void
astra_cli_listen_handler_cb (SoupServer *server,
			     SoupServerMessage *msg,
			     const char *path,
			     GHashTable *query,
			     gpointer user_data)
{
	AstraCliListen *self = user_data;
	SoupMessageBody *request_body;
	g_autoptr(GBytes) body = NULL;
	g_autoptr(GError) error_local = NULL;
	AstraCliVerdict verdict;

	if (self->path != NULL && g_strcmp0 (path, self->path) != 0) {
		g_autofree char *message = g_strdup_printf ("no such path; send to %s", self->path);
		astra_cli_listen_reply (msg, SOUP_STATUS_NOT_FOUND, message);
		astra_cli_listen_report (self, msg, path, SOUP_STATUS_NOT_FOUND,
					 ASTRA_CLI_VERDICT_REJECTED, "not the --path", NULL);
		return;
	}
	if (soup_server_message_get_method (msg) != SOUP_METHOD_POST) {
		soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow", "POST");
		astra_cli_listen_reply (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "use POST");
		astra_cli_listen_report (self, msg, path, SOUP_STATUS_METHOD_NOT_ALLOWED,
					 ASTRA_CLI_VERDICT_REJECTED, "not a POST", NULL);
		return;
	}
	request_body = soup_server_message_get_request_body (msg);
	if (g_object_get_data (G_OBJECT (msg), ASTRA_CLI_LISTEN_TOO_LARGE_KEY) != NULL ||
	    request_body->length > ASTRA_CLI_LISTEN_MAX_BODY) {
		astra_cli_listen_reply_too_large (self, msg, path);
		return;
	}
	body = soup_message_body_flatten (request_body);

	if (self->signer == NULL) {
		verdict = ASTRA_CLI_VERDICT_UNSIGNED;
	} else if (!astra_cli_listen_verify (self, msg, body, &error_local)) {
		/* the signer's messages never contain the secret or the expected signature */
		astra_cli_listen_reply (msg, SOUP_STATUS_UNAUTHORIZED, error_local->message);
		astra_cli_listen_report (self, msg, path, SOUP_STATUS_UNAUTHORIZED, ASTRA_CLI_VERDICT_BAD,
					 error_local->message, body);
		return;
	} else {
		verdict = ASTRA_CLI_VERDICT_OK;
	}
	astra_cli_listen_reply (msg, SOUP_STATUS_OK, NULL);
	astra_cli_listen_report (self, msg, path, SOUP_STATUS_OK, verdict, NULL, body);

	self->n_accepted++;
	if (self->count > 0 && self->n_accepted == self->count)
		g_signal_connect (msg, "finished", G_CALLBACK (astra_cli_listen_finished_cb), self);
}

static gboolean
astra_cli_listen_stop_cb (gpointer user_data)
{
	AstraCliListen *self = user_data;

	if (self->count > 0 && self->n_accepted < self->count) {
		astra_cli_error (self->cmd, "stopped after %u of the %u requests --count waited for",
				 self->n_accepted, self->count);
		self->exit_status = ASTRA_CLI_EXIT_ERROR;
	}
	g_main_loop_quit (self->loop);
	return G_SOURCE_CONTINUE;
}

/* one secret for the astra scheme; white space separates several for standard webhooks */
static gboolean
astra_cli_listen_add_secret (AstraSigner *signer, char *value, GError **error)
{
	g_auto(GStrv) parts = NULL;
	guint n_added = 0;
	gboolean ret = TRUE;

	if (astra_signer_get_scheme (signer) == ASTRA_SIGNATURE_SCHEME_ASTRA)
		return astra_signer_add_secret (signer, value, error);

	parts = g_strsplit_set (value, " \t\r\n", -1);
	for (guint i = 0; ret && parts[i] != NULL; i++) {
		if (parts[i][0] == '\0')
			continue;
		ret = astra_signer_add_secret (signer, parts[i], error);
		n_added++;
	}
	astra_cli_listen_wipe_strv (parts);
	if (ret && n_added == 0) {
		g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
				     "the secret is empty");
		return FALSE;
	}
	return ret;
}

/* secret files are read the one way the project has: astra_key_file_get_secret()'s rules */
static char *
astra_cli_listen_read_secret_file (const char *path, GError **error)
{
	g_autoptr(GKeyFile) keyfile = g_key_file_new ();

	g_key_file_set_string (keyfile, "listen", "secret-file", path);
	return astra_key_file_get_secret (keyfile, "listen", "secret", error);
}

static int
astra_cli_listen_build_signer (AstraCliListen *self,
			       gboolean standard,
			       char **secrets,
			       char **secret_files)
{
	g_autoptr(AstraSigner) signer = NULL;
	guint n_secrets = secrets != NULL ? g_strv_length (secrets) : 0;
	guint n_files = secret_files != NULL ? g_strv_length (secret_files) : 0;

	if (n_secrets > 0 && n_files > 0) {
		astra_cli_error (self->cmd, "use --secret or --secret-file, not both");
		return ASTRA_CLI_EXIT_USAGE;
	}
	if (n_secrets + n_files == 0) {
		if (standard) {
			astra_cli_error (self->cmd, "--standard-webhooks needs the whsec_ secret: "
						    "add --secret or --secret-file");
			return ASTRA_CLI_EXIT_USAGE;
		}
		return ASTRA_CLI_EXIT_OK;
	}
	if (!standard && n_secrets + n_files > 1) {
		astra_cli_error (self->cmd, "the X-Webhook-Signature scheme takes one secret; "
					    "several (for a rotation) need --standard-webhooks");
		return ASTRA_CLI_EXIT_USAGE;
	}

	signer = astra_signer_new (standard ? ASTRA_SIGNATURE_SCHEME_STANDARD_WEBHOOKS
					    : ASTRA_SIGNATURE_SCHEME_ASTRA);
	for (guint i = 0; i < n_secrets; i++) {
		g_autoptr(GError) error_local = NULL;

		if (!astra_cli_listen_add_secret (signer, secrets[i], &error_local)) {
			astra_cli_error (self->cmd, "--secret: %s", error_local->message);
			return ASTRA_CLI_EXIT_USAGE;
		}
	}
	for (guint i = 0; i < n_files; i++) {
		g_autoptr(GError) error_local = NULL;
		g_autofree char *value = astra_cli_listen_read_secret_file (secret_files[i], &error_local);
		gboolean ok = value != NULL && astra_cli_listen_add_secret (signer, value, &error_local);

		if (value != NULL)
			explicit_bzero (value, strlen (value));
		if (!ok) {
			/* the SDK names the key as in a config file, "secret-file: ..." */
			if (error_local == NULL)
				astra_cli_error (self->cmd, "--secret-file: cannot read %s", secret_files[i]);
			else if (g_str_has_prefix (error_local->message, "secret-file"))
				astra_cli_error (self->cmd, "--%s", error_local->message);
			else
				astra_cli_error (self->cmd, "--secret-file %s: %s", secret_files[i],
						 error_local->message);
			return ASTRA_CLI_EXIT_ERROR;
		}
	}
	self->signer = g_steal_pointer (&signer);
	return ASTRA_CLI_EXIT_OK;
}

static gboolean
astra_cli_listen_path_is_valid (const char *path)
{
	if (path[0] != '/')
		return FALSE;
	for (const char *p = path; *p != '\0'; p++) {
		if (!g_ascii_isgraph (*p) || *p == '?' || *p == '#')
			return FALSE;
	}
	return TRUE;
}

/**
 * astra_cli_listen:
 * @cmd: the `listen` command
 * @argc: the argument count
 * @argv: the arguments, argv[0] being the command
 *
 * Runs a local webhook receiver until --count requests were accepted or a
 * SIGINT/SIGTERM arrives.
 *
 * Returns: an #AstraCliExit
 */
int
astra_cli_listen (const AstraCliCommand *cmd, int argc, char **argv)
{
	g_auto(AstraCliListen) self = {.cmd = cmd, .exit_status = ASTRA_CLI_EXIT_OK};
	g_autoptr(GOptionContext) context = NULL;
	g_autoptr(GInetAddress) address = NULL;
	g_autoptr(GSocketAddress) socket_address = NULL;
	g_autoptr(GSocketAddress) bound = NULL;
	g_autoptr(GError) error_local = NULL;
	g_autoptr(GString) line = g_string_new (NULL);
	g_autofree char *address_str = NULL;
	g_autofree char *address_shown = NULL;
	g_autofree char *port_str = NULL;
	g_autofree char *count_str = NULL;
	g_auto(GStrv) secrets = NULL;
	g_auto(GStrv) secret_files = NULL;
	gboolean standard = FALSE;
	guint64 port = ASTRA_CLI_LISTEN_DEFAULT_PORT;
	GSList *listeners;
	guint sigint_id;
	guint sigterm_id;
	int ret;
	/* --secret is FILENAME, not STRING: kept as the bytes given, never converted from the locale */
	const GOptionEntry entries[] = {
	    {"address", 'a', 0, G_OPTION_ARG_STRING, &address_str,
	     "IP address to listen on (default " ASTRA_CLI_LISTEN_DEFAULT_ADDRESS ")", "ADDRESS"},
	    {"port", 'p', 0, G_OPTION_ARG_STRING, &port_str,
	     "Port to listen on (default 8471; 0 picks a free one)", "PORT"},
	    {"secret", 's', 0, G_OPTION_ARG_FILENAME_ARRAY, &secrets,
	     "Verify signatures with this secret (repeatable for a rotation)", "SECRET"},
	    {"secret-file", 'f', 0, G_OPTION_ARG_FILENAME_ARRAY, &secret_files,
	     "Read the secret(s) from FILE, which others must not read", "FILE"},
	    {"standard-webhooks", 0, 0, G_OPTION_ARG_NONE, &standard,
	     "Verify Standard Webhooks (webhook-signature, whsec_ secrets)", NULL},
	    {"path", 0, 0, G_OPTION_ARG_STRING, &self.path,
	     "Accept requests only on PATH, e.g. /events (default: any)", "PATH"},
	    {"json", 'j', 0, G_OPTION_ARG_NONE, &self.json,
	     "Print only the accepted bodies, one per line", NULL},
	    {"count", 'n', 0, G_OPTION_ARG_STRING, &count_str,
	     "Exit 0 once N requests have been accepted", "N"},
	    {"quiet", 'q', 0, G_OPTION_ARG_NONE, &self.quiet,
	     "Print one line per request, without the body", NULL},
	    {NULL},
	};

	context = astra_cli_option_context_new (cmd, ASTRA_CLI_LISTEN_DESCRIPTION);
	g_option_context_add_main_entries (context, entries, NULL);
	ret = astra_cli_parse_options (cmd, context, &argc, &argv) ? ASTRA_CLI_EXIT_OK : ASTRA_CLI_EXIT_USAGE;
	/* `astra-alertctl --json listen` is `astra-alertctl listen --json` */
	self.json = self.json || astra_cli_get_global ()->json;
	if (ret == ASTRA_CLI_EXIT_OK)
		ret = astra_cli_listen_build_signer (&self, standard, secrets, secret_files);
	astra_cli_listen_wipe_strv (secrets);
	if (ret != ASTRA_CLI_EXIT_OK)
		return ret;

	address = g_inet_address_new_from_string (address_str != NULL ? address_str
								      : ASTRA_CLI_LISTEN_DEFAULT_ADDRESS);
	if (address == NULL) {
		astra_cli_error (cmd, "--address: '%s' is not an IP address; use e.g. 127.0.0.1, ::1 or 0.0.0.0",
				 address_str);
		return ASTRA_CLI_EXIT_USAGE;
	}
	if (port_str != NULL && !g_ascii_string_to_unsigned (port_str, 10, 0, 65535, &port, NULL)) {
		astra_cli_error (cmd, "--port: '%s' is not a port; use a number from 0 to 65535 "
				      "(0 picks a free one)",
				 port_str);
		return ASTRA_CLI_EXIT_USAGE;
	}
	if (count_str != NULL) {
		guint64 count = 0;
		if (!g_ascii_string_to_unsigned (count_str, 10, 1, G_MAXUINT, &count, NULL)) {
			astra_cli_error (cmd, "--count: '%s' is not a positive number", count_str);
			return ASTRA_CLI_EXIT_USAGE;
		}
		self.count = (guint) count;
	}
	if (self.path != NULL && !astra_cli_listen_path_is_valid (self.path)) {
		astra_cli_error (cmd, "--path: '%s' is not a URL path; use one starting with '/', e.g. /events",
				 self.path);
		return ASTRA_CLI_EXIT_USAGE;
	}
	if (self.json && self.quiet) {
		astra_cli_error (cmd, "--json and --quiet do not go together; --json already prints only bodies");
		return ASTRA_CLI_EXIT_USAGE;
	}
	self.color = !self.json && astra_cli_use_color ();

	self.loop = g_main_loop_new (NULL, FALSE);
	self.server = soup_server_new ("server-header", "astra-alertctl/" PACKAGE_VERSION, NULL);
	soup_server_add_early_handler (self.server, NULL, astra_cli_listen_early_cb, &self, NULL);
	soup_server_add_handler (self.server, NULL, astra_cli_listen_handler_cb, &self, NULL);
	socket_address = g_inet_socket_address_new (address, (guint16) port);
	address_shown = g_inet_address_to_string (address);
	if (!soup_server_listen (self.server, socket_address, 0, &error_local)) {
		astra_cli_error (cmd, "cannot listen on %s port %u: %s; pick another with --port "
				      "(0 picks a free one)",
				 address_shown, (guint) port, error_local->message);
		return ASTRA_CLI_EXIT_ERROR;
	}
	listeners = soup_server_get_listeners (self.server);
	if (listeners != NULL)
		bound = g_socket_get_local_address (G_SOCKET (listeners->data), NULL);
	g_slist_free (listeners);
	if (bound != NULL)
		port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));

	g_string_append_printf (line, "listening on http://%s%s%s:%u%s ",
				g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV6 ? "[" : "",
				address_shown,
				g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV6 ? "]" : "",
				(guint) port, self.path != NULL ? self.path : "/");
	if (self.signer == NULL)
		g_string_append (line, "(unsigned: every request is accepted; add --secret to verify signatures)\n");
	else if (!standard)
		g_string_append (line, "(signature: X-Webhook-Signature, HMAC-SHA256)\n");
	else
		g_string_append_printf (line, "(signature: webhook-signature, Standard Webhooks v1, %u %s)\n",
					astra_signer_get_n_secrets (self.signer),
					astra_signer_get_n_secrets (self.signer) == 1 ? "secret" : "secrets");
	astra_cli_listen_write (&self, self.json ? stderr : stdout, line);
	if (self.signer == NULL && !g_inet_address_get_is_loopback (address))
		astra_cli_error (cmd, "warning: anyone who can reach %s can send unsigned requests here",
				 address_shown);

	sigint_id = g_unix_signal_add (SIGINT, astra_cli_listen_stop_cb, &self);
	sigterm_id = g_unix_signal_add (SIGTERM, astra_cli_listen_stop_cb, &self);
	if (!self.stdout_failed)
		g_main_loop_run (self.loop);
	g_source_remove (sigint_id);
	g_source_remove (sigterm_id);
	return self.exit_status;
}
