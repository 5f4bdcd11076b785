/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <libsoup/soup.h>
#include <sys/socket.h>

#include "astra-collectd.h"
#include "astra-http-server.h"
#include "astra-ingest.h"
#include "astra-line-protocol.h"

struct _AstraHttpServer {
	GObject parent_instance;
	SoupServer *server;
	gsize max_body_size;
	AstraEventSinkFunc sink;
	AstraSampleSinkFunc sample_sink;
	AstraCommitFunc commit;
	AstraReports *reports;
	AstraMetrics *metrics;
	AstraCounter *requests;         /* astra_http_requests_total{path,code} */

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

/* the request body as sent, gunzipped when the client compressed it (Telegraf does by
 * default), bounded by max-body-size after decompression too: a small gzip bomb is refused */
static GBytes *
astra_http_server_read_body (AstraHttpServer *self, SoupServerMessage *msg, guint *status, GError **error)
{
	SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
	SoupMessageBody *body = soup_server_message_get_request_body (msg);
	const char *encoding = soup_message_headers_get_one (headers, "Content-Encoding");
	g_autoptr(GConverter) decompressor = NULL;
	g_autoptr(GByteArray) out = NULL;
	gsize in_pos = 0;

	if (g_object_get_data (G_OBJECT (msg), ASTRA_HTTP_TOO_LARGE_KEY) != NULL ||
	    (gsize) body->length > self->max_body_size) {
		*status = SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE;
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_TOO_LARGE,
			     "the body is larger than %" G_GSIZE_FORMAT " bytes", self->max_body_size);
		return NULL;
	}
	if (encoding == NULL || g_ascii_strcasecmp (encoding, "identity") == 0)
		return g_bytes_new (body->data, (gsize) body->length);
	if (g_ascii_strcasecmp (encoding, "gzip") != 0) {
		*status = SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE;
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_NOT_SUPPORTED,
			     "Content-Encoding %s is not supported (use gzip or none)", encoding);
		return NULL;
	}

	decompressor = G_CONVERTER (g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP));
	out = g_byte_array_new ();
	for (;;) {
		guint8 buf[16384];
		gsize bytes_read = 0;
		gsize bytes_written = 0;
		g_autoptr(GError) error_local = NULL;
		GConverterResult res = g_converter_convert (decompressor, body->data + in_pos,
							    (gsize) body->length - in_pos, buf, sizeof (buf),
							    G_CONVERTER_INPUT_AT_END, &bytes_read, &bytes_written,
							    &error_local);
		if (res == G_CONVERTER_ERROR) {
			*status = SOUP_STATUS_BAD_REQUEST;
			g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA,
				     "the gzip body is corrupt: %s", error_local->message);
			return NULL;
		}
		in_pos += bytes_read;
		g_byte_array_append (out, buf, (guint) bytes_written);
		if (out->len > self->max_body_size) {
			*status = SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE;
			g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_TOO_LARGE,
				     "the body is larger than %" G_GSIZE_FORMAT " bytes once decompressed",
				     self->max_body_size);
			return NULL;
		}
		if (res == G_CONVERTER_FINISHED)
			break;
		if (bytes_read == 0 && bytes_written == 0) {
			*status = SOUP_STATUS_BAD_REQUEST;
			g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA, "the gzip body is truncated");
			return NULL;
		}
	}
	return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

/* the body, or NULL once the client has been told why not */
static GBytes *
astra_http_server_read_body_or_reply (AstraHttpServer *self, SoupServerMessage *msg)
{
	g_autoptr(GError) error_local = NULL;
	guint status = 0;
	GBytes *body = astra_http_server_read_body (self, msg, &status, &error_local);

	if (body != NULL)
		return body;
	if (status == SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE)
		astra_http_server_reply_too_large (self, msg);
	else
		astra_http_server_reply_error (msg, status, error_local->message);
	return NULL;
}

/* a 2xx promises the sender its events are safe: they must be on disk before it is written */
static gboolean
astra_http_server_commit_or_reply (AstraHttpServer *self, SoupServerMessage *msg)
{
	g_autoptr(GError) error_local = NULL;

	if (self->commit == NULL || self->commit (self->sink_data, &error_local))
		return TRUE;
	g_warning ("cannot store what a request brought: %s", error_local->message);
	astra_http_server_reply_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE,
				       "the daemon cannot store events right now; send them again later");
	return FALSE;
}

static gboolean
astra_http_server_require_post (SoupServerMessage *msg)
{
	if (soup_server_message_get_method (msg) == SOUP_METHOD_POST)
		return TRUE;
	soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow", "POST");
	astra_http_server_reply_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "use POST");
	return FALSE;
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
	g_autoptr(GBytes) body = NULL;
	g_autoptr(GError) error_local = NULL;
	guint status = 0;
	gsize len = 0;
	const char *data;

	if (g_strcmp0 (path, "/v1/reports") != 0) {
		astra_http_server_reply_error (msg, SOUP_STATUS_NOT_FOUND, "no such endpoint");
		return;
	}
	if (!astra_http_server_require_post (msg))
		return;
	body = astra_http_server_read_body_or_reply (self, msg);
	if (body == NULL)
		return;
	data = g_bytes_get_data (body, &len);
	/* reports are applied in batch order as they are parsed: events go to the sink on the way */
	results = astra_ingest_parse_reports_full (data, len, g_get_real_time (), self->reports, self->sink,
						   self->sink_data, &error_local);
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
		if (!result->accepted)
			g_debug ("report %u rejected: %s%s%s", result->index,
				 result->field != NULL ? result->field : "",
				 result->field != NULL ? ": " : "", result->error);
	}
	if (!astra_http_server_commit_or_reply (self, msg))
		return;
	reply = astra_ingest_build_reply (results, &status);
	astra_http_server_reply (msg, status, reply);
}

/* InfluxDB 1.x clients check this header to recognise a server they can write to */
#define ASTRA_INFLUXDB_VERSION "1.8.10"

static void
astra_http_server_influx_headers (SoupServerMessage *msg)
{
	soup_message_headers_replace (soup_server_message_get_response_headers (msg), "X-Influxdb-Version",
				      ASTRA_INFLUXDB_VERSION);
}

static void
astra_http_server_ping_cb (SoupServer *server,
			   SoupServerMessage *msg,
			   const char *path,
			   GHashTable *query,
			   gpointer user_data)
{
	const char *method = soup_server_message_get_method (msg);

	astra_http_server_influx_headers (msg);
	if (method != SOUP_METHOD_GET && method != SOUP_METHOD_HEAD) {
		soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow", "GET, HEAD");
		astra_http_server_reply_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "use GET or HEAD");
		return;
	}
	soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
}

/* a POST to a samples endpoint (/write, /collectd) of a server that takes samples */
static gboolean
astra_http_server_accepts_samples (AstraHttpServer *self, SoupServerMessage *msg)
{
	if (!astra_http_server_require_post (msg))
		return FALSE;
	if (self->sample_sink == NULL) {
		astra_http_server_reply_error (msg, SOUP_STATUS_NOT_FOUND, "samples are not accepted here");
		return FALSE;
	}
	return TRUE;
}

static void
astra_http_server_samples_reply (AstraHttpServer *self, SoupServerMessage *msg, gboolean ok, GError *error)
{
	/* samples can fire alerts: their events are stored before the answer */
	if (!astra_http_server_commit_or_reply (self, msg))
		return;
	if (ok) {
		soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
		return;
	}
	/* the good lines were kept: the error says which line was the first bad one and why */
	astra_http_server_reply_error (msg, SOUP_STATUS_BAD_REQUEST, error->message);
}

static void
astra_http_server_write_cb (SoupServer *server,
			    SoupServerMessage *msg,
			    const char *path,
			    GHashTable *query,
			    gpointer user_data)
{
	AstraHttpServer *self = ASTRA_HTTP_SERVER (user_data);
	g_autoptr(GBytes) body = NULL;
	g_autoptr(GError) error_local = NULL;
	AstraPrecision precision = ASTRA_PRECISION_NS;
	const char *precision_str = query != NULL ? g_hash_table_lookup (query, "precision") : NULL;
	gsize len = 0;
	gboolean ok;
	const char *data;

	astra_http_server_influx_headers (msg);
	if (!astra_http_server_accepts_samples (self, msg))
		return;
	/* db and rp select a database in InfluxDB; here every sample goes to the one series store */
	if (!astra_precision_from_string (precision_str, &precision)) {
		astra_http_server_reply_error (msg, SOUP_STATUS_BAD_REQUEST,
					       "precision: expected n, u, ms, s, m or h");
		return;
	}
	body = astra_http_server_read_body_or_reply (self, msg);
	if (body == NULL)
		return;
	data = g_bytes_get_data (body, &len);
	ok = astra_line_protocol_parse (data, len, precision, g_get_real_time (), self->sample_sink, self->sink_data,
					NULL, &error_local);
	astra_http_server_samples_reply (self, msg, ok, error_local);
}

static void
astra_http_server_collectd_cb (SoupServer *server,
			       SoupServerMessage *msg,
			       const char *path,
			       GHashTable *query,
			       gpointer user_data)
{
	AstraHttpServer *self = ASTRA_HTTP_SERVER (user_data);
	g_autoptr(GBytes) body = NULL;
	g_autoptr(GError) error_local = NULL;
	gsize len = 0;
	gboolean ok;
	const char *data;

	if (!astra_http_server_accepts_samples (self, msg))
		return;
	body = astra_http_server_read_body_or_reply (self, msg);
	if (body == NULL)
		return;
	data = g_bytes_get_data (body, &len);
	ok = astra_collectd_parse (data, len, g_get_real_time (), self->sample_sink, self->sink_data, NULL,
				   &error_local);
	astra_http_server_samples_reply (self, msg, ok, error_local);
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
				       "no such endpoint (try POST /v1/reports, POST /write, POST /collectd, GET /healthz or GET /metrics)");
}

/* libsoup before 3.3 never closes a kept-alive connection that its client closed while it
 * was idle: one socket left in CLOSE_WAIT per client connection, until no fd is left */
static void
astra_http_server_request_started_cb (SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
	soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection", "close");
}

static void
astra_http_server_metrics_cb (SoupServer *server,
			      SoupServerMessage *msg,
			      const char *path,
			      GHashTable *query,
			      gpointer user_data)
{
	AstraHttpServer *self = ASTRA_HTTP_SERVER (user_data);

	if (self->metrics == NULL) {
		astra_http_server_reply_error (msg, SOUP_STATUS_NOT_FOUND, "metrics are not served here");
		return;
	}
	astra_metrics_handle (self->metrics, msg);
}

/* labels come from a fixed list, never from the request: the series count stays bounded */
static void
astra_http_server_request_finished_cb (SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
	AstraHttpServer *self = ASTRA_HTTP_SERVER (user_data);
	static const char *const known[] = {"/v1/reports", "/write", "/collectd", "/ping", "/healthz", "/metrics"};
	const char *path = g_uri_get_path (soup_server_message_get_uri (msg));
	const char *label = "other";
	char code[16];

	if (self->requests == NULL)
		return;
	for (guint i = 0; i < G_N_ELEMENTS (known); i++) {
		if (g_strcmp0 (path, known[i]) == 0)
			label = known[i];
	}
	g_snprintf (code, sizeof (code), "%u", soup_server_message_get_status (msg));
	astra_counter_inc (self->requests, (const char *const[]) {label, code, NULL});
}

static void
astra_http_server_dispose (GObject *object)
{
	AstraHttpServer *self = ASTRA_HTTP_SERVER (object);

	if (self->server != NULL)
		soup_server_disconnect (self->server);
	g_clear_object (&self->server);
	g_clear_object (&self->address);
	g_clear_object (&self->reports);
	g_clear_object (&self->metrics);
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
	soup_server_add_early_handler (self->server, "/write", astra_http_server_early_cb, self, NULL);
	soup_server_add_early_handler (self->server, "/collectd", astra_http_server_early_cb, self, NULL);
	soup_server_add_handler (self->server, "/v1/reports", astra_http_server_reports_cb, self, NULL);
	soup_server_add_handler (self->server, "/write", astra_http_server_write_cb, self, NULL);
	soup_server_add_handler (self->server, "/ping", astra_http_server_ping_cb, self, NULL);
	soup_server_add_handler (self->server, "/collectd", astra_http_server_collectd_cb, self, NULL);
	soup_server_add_handler (self->server, "/metrics", astra_http_server_metrics_cb, self, NULL);
	g_signal_connect (self->server, "request-finished", G_CALLBACK (astra_http_server_request_finished_cb), self);
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
astra_http_server_set_ingest (AstraHttpServer *self, AstraReports *reports, AstraSampleSinkFunc sample_sink)
{
	g_set_object (&self->reports, reports);
	self->sample_sink = sample_sink;
}

void
astra_http_server_set_metrics (AstraHttpServer *self, AstraMetrics *metrics)
{
	static const char *const request_labels[] = {"path", "code", NULL};

	g_set_object (&self->metrics, metrics);
	self->requests = astra_metrics_counter (metrics, "astra_http_requests_total",
						"HTTP requests answered, by endpoint and status", request_labels);

}

void
astra_http_server_set_commit_func (AstraHttpServer *self, AstraCommitFunc func)
{
	self->commit = func;
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
