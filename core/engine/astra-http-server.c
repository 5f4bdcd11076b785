/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <libsoup/soup.h>
#include <sys/socket.h>

#include "astra-http-server.h"
#include "astra-ingest.h"

struct _AstraHttpServer {
	GObject parent_instance;
	SoupServer *server;
	gsize max_body_size;
	AstraEventSinkFunc sink;
	gpointer sink_data;
	GInetSocketAddress *address;
};

G_DEFINE_FINAL_TYPE (AstraHttpServer, astra_http_server, G_TYPE_OBJECT)

/* set on a request whose body grew past the limit while it was being read */
#define ASTRA_HTTP_TOO_LARGE_KEY "astra-too-large"

static void
astra_http_server_reply (SoupServerMessage *msg, guint status, GBytes *body)
{
	gsize len = 0;
	const char *data = g_bytes_get_data (body, &len);

	soup_server_message_set_status (msg, status, NULL);
	soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, data, len);
}

static void
astra_http_server_reply_error (SoupServerMessage *msg, guint status, const char *message)
{
	g_autoptr(GBytes) body = astra_ingest_build_error (message);

	astra_http_server_reply (msg, status, body);
}

static void
astra_http_server_reply_too_large (AstraHttpServer *self, SoupServerMessage *msg)
{
	g_autofree char *message = g_strdup_printf ("the body is larger than %" G_GSIZE_FORMAT " bytes",
						    self->max_body_size);

	/* libsoup still drains what the client sends: keep none of it, and close the connection after replying */
	soup_message_body_set_accumulate (soup_server_message_get_request_body (msg), FALSE);
	soup_message_body_truncate (soup_server_message_get_request_body (msg));
	soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection", "close");
	astra_http_server_reply_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, message);
}

static void
astra_http_server_got_chunk_cb (SoupServerMessage *msg, GBytes *chunk, gpointer user_data)
{
	AstraHttpServer *self = ASTRA_HTTP_SERVER (user_data);
	SoupMessageBody *body = soup_server_message_get_request_body (msg);

	/* chunked bodies have no Content-Length: stop keeping them once over the limit */
	if ((gsize) body->length > self->max_body_size) {
		g_object_set_data (G_OBJECT (msg), ASTRA_HTTP_TOO_LARGE_KEY, GINT_TO_POINTER (1));
		soup_message_body_set_accumulate (body, FALSE);
		soup_message_body_truncate (body);
	}
}

static void
astra_http_server_early_cb (SoupServer *server,
			    SoupServerMessage *msg,
			    const char *path,
			    GHashTable *query,
			    gpointer user_data)
{
	AstraHttpServer *self = ASTRA_HTTP_SERVER (user_data);
	SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
	goffset length;

	if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH) {
		length = soup_message_headers_get_content_length (headers);
		if (length > 0 && (guint64) length > self->max_body_size) {
			astra_http_server_reply_too_large (self, msg);
			return;
		}
	}
	g_signal_connect_object (msg, "got-chunk", G_CALLBACK (astra_http_server_got_chunk_cb), self, 0);
}

static void
astra_http_server_reports_cb (SoupServer *server,
			      SoupServerMessage *msg,
			      const char *path,
			      GHashTable *query,
			      gpointer user_data)
{
	AstraHttpServer *self = ASTRA_HTTP_SERVER (user_data);
	g_autoptr(GPtrArray) results = NULL;
	g_autoptr(GBytes) reply = NULL;
	g_autoptr(GError) error_local = NULL;
	SoupMessageBody *body;
	guint status = 0;

	if (g_strcmp0 (path, "/v1/reports") != 0) {
		astra_http_server_reply_error (msg, SOUP_STATUS_NOT_FOUND, "no such endpoint");
		return;
	}
	if (soup_server_message_get_method (msg) != SOUP_METHOD_POST) {
		soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow", "POST");
		astra_http_server_reply_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "use POST");
		return;
	}
	body = soup_server_message_get_request_body (msg);
	if (g_object_get_data (G_OBJECT (msg), ASTRA_HTTP_TOO_LARGE_KEY) != NULL ||
	    (gsize) body->length > self->max_body_size) {
		astra_http_server_reply_too_large (self, msg);
		return;
	}
	results = astra_ingest_parse_reports (body->data, (gsize) body->length,
					      g_get_real_time () / G_USEC_PER_SEC, &error_local);
	if (results == NULL) {
		astra_http_server_reply_error (msg,
					       g_error_matches (error_local, ASTRA_ERROR, ASTRA_ERROR_TOO_LARGE)
						   ? SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE
						   : SOUP_STATUS_BAD_REQUEST,
					       error_local->message);
		return;
	}
	for (guint i = 0; i < results->len; i++) {
		AstraReportResult *result = g_ptr_array_index (results, i);
		if (result->event != NULL)
			self->sink (result->event, self->sink_data);
		else
			g_debug ("report %u rejected: %s%s%s", result->index,
				 result->field != NULL ? result->field : "",
				 result->field != NULL ? ": " : "", result->error);
	}
	reply = astra_ingest_build_reply (results, &status);
	astra_http_server_reply (msg, status, reply);
}

static void
astra_http_server_healthz_cb (SoupServer *server,
			      SoupServerMessage *msg,
			      const char *path,
			      GHashTable *query,
			      gpointer user_data)
{
	static const char ok[] = "{\"status\":\"ok\"}";
	const char *method = soup_server_message_get_method (msg);

	if (method != SOUP_METHOD_GET && method != SOUP_METHOD_HEAD) {
		soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow", "GET, HEAD");
		astra_http_server_reply_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "use GET");
		return;
	}
	soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
	soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC, ok, sizeof (ok) - 1);
}

static void
astra_http_server_default_cb (SoupServer *server,
			      SoupServerMessage *msg,
			      const char *path,
			      GHashTable *query,
			      gpointer user_data)
{
	astra_http_server_reply_error (msg, SOUP_STATUS_NOT_FOUND,
				       "no such endpoint (try POST /v1/reports or GET /healthz)");
}

/* libsoup before 3.3 never closes a kept-alive connection that its client closed while it
 * was idle: one socket left in CLOSE_WAIT per client connection, until no fd is left */
static void
astra_http_server_request_started_cb (SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
	soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection", "close");
}

static void
astra_http_server_dispose (GObject *object)
{
	AstraHttpServer *self = ASTRA_HTTP_SERVER (object);

	if (self->server != NULL)
		soup_server_disconnect (self->server);
	g_clear_object (&self->server);
	g_clear_object (&self->address);
	G_OBJECT_CLASS (astra_http_server_parent_class)->dispose (object);
}

static void
astra_http_server_class_init (AstraHttpServerClass *klass)
{
	G_OBJECT_CLASS (klass)->dispose = astra_http_server_dispose;
}

static void
astra_http_server_init (AstraHttpServer *self)
{
	g_autofree char *header = g_strdup_printf ("astra-alertd/%s", PACKAGE_VERSION);

	self->server = soup_server_new ("server-header", header, NULL);
	/* an early handler is looked up by path like the others: the default one alone would miss /v1/reports */
	soup_server_add_early_handler (self->server, NULL, astra_http_server_early_cb, self, NULL);
	soup_server_add_early_handler (self->server, "/v1/reports", astra_http_server_early_cb, self, NULL);
	soup_server_add_handler (self->server, "/v1/reports", astra_http_server_reports_cb, self, NULL);
	soup_server_add_handler (self->server, "/healthz", astra_http_server_healthz_cb, self, NULL);
	soup_server_add_handler (self->server, NULL, astra_http_server_default_cb, self, NULL);
	if (soup_get_major_version () == 3 && soup_get_minor_version () < 3)
		g_signal_connect (self->server, "request-started",
				  G_CALLBACK (astra_http_server_request_started_cb), self);
}

AstraHttpServer *
astra_http_server_new (gsize max_body_size, AstraEventSinkFunc sink, gpointer user_data)
{
	AstraHttpServer *self = g_object_new (ASTRA_TYPE_HTTP_SERVER, NULL);

	self->max_body_size = max_body_size;
	self->sink = sink;
	self->sink_data = user_data;
	return self;
}

void
astra_http_server_set_max_body_size (AstraHttpServer *self, gsize max_body_size)
{
	self->max_body_size = max_body_size;
}

gboolean
astra_http_server_listen (AstraHttpServer *self, GInetSocketAddress *address, GError **error)
{
	GSList *listeners;
	g_autoptr(GSocketAddress) local = NULL;

	g_autoptr(GSocket) socket = g_socket_new (g_socket_address_get_family (G_SOCKET_ADDRESS (address)),
						  G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, error);

	if (socket == NULL)
		return FALSE;
	/* soup_server_listen() keeps GLib's backlog of 10: agents reconnecting together would have
	 * their SYNs dropped and retried a second later */
	g_socket_set_listen_backlog (socket, SOMAXCONN);
	if (!g_socket_bind (socket, G_SOCKET_ADDRESS (address), TRUE, error) || !g_socket_listen (socket, error) ||
	    !soup_server_listen_socket (self->server, socket, 0, error))
		return FALSE;
	listeners = soup_server_get_listeners (self->server);
	if (listeners == NULL) {
		g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_FAILED, "no listening socket");
		return FALSE;
	}
	local = g_socket_get_local_address (G_SOCKET (listeners->data), error);
	g_slist_free (listeners);
	if (local == NULL)
		return FALSE;
	g_clear_object (&self->address);
	self->address = G_INET_SOCKET_ADDRESS (g_steal_pointer (&local));
	return TRUE;
}

GInetSocketAddress *
astra_http_server_get_address (AstraHttpServer *self)
{
	return self->address;
}

void
astra_http_server_disconnect (AstraHttpServer *self)
{
	if (self->server != NULL)
		soup_server_disconnect (self->server);
}
