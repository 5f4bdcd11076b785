/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <libsoup/soup.h>

#include "astra-dispatcher.h"

struct _AstraDispatcher {
	GObject parent_instance;
	SoupSession *session;
	GHashTable *in_flight; /* GTask -> GCancellable */
	GCancellable *watched; /* the callers' cancellable, cancelling every attempt */
	gulong watched_id;
};

G_DEFINE_FINAL_TYPE (AstraDispatcher, astra_dispatcher, G_TYPE_OBJECT)

AstraAttempt *
astra_attempt_copy (const AstraAttempt *attempt)
{
	AstraAttempt *copy = g_new0 (AstraAttempt, 1);

	*copy = *attempt;
	copy->reason = g_strdup (attempt->reason);
	copy->response_body = attempt->response_body != NULL ? g_bytes_ref (attempt->response_body) : NULL;
	return copy;
}

void
astra_attempt_free (AstraAttempt *attempt)
{
	if (attempt == NULL)
		return;
	g_free (attempt->reason);
	g_clear_pointer (&attempt->response_body, g_bytes_unref);
	g_free (attempt);
}

G_DEFINE_BOXED_TYPE (AstraAttempt, astra_attempt, astra_attempt_copy, astra_attempt_free)

typedef struct {
	AstraWebhook *webhook;
	AstraEvent *event;
	AstraAttempt *attempt;
	SoupMessage *msg;
	GCancellable *cancellable;
	GSource *timeout_source;
	gboolean timed_out;
	GInputStream *stream;
	guint8 *buf;
	gint64 started_mono;
} AstraAttemptData;

static void
astra_attempt_data_free (AstraAttemptData *data)
{
	if (data->timeout_source != NULL) {
		g_source_destroy (data->timeout_source);
		g_source_unref (data->timeout_source);
	}
	g_clear_object (&data->webhook);
	g_clear_object (&data->event);
	astra_attempt_free (data->attempt);
	g_clear_object (&data->msg);
	g_clear_object (&data->cancellable);
	g_clear_object (&data->stream);
	g_free (data->buf);
	g_free (data);
}

static void
astra_dispatcher_log_attempt (AstraWebhook *webhook, AstraEvent *event, const AstraAttempt *attempt)
{
	g_autofree char *status = NULL;
	g_autofree char *status_str = NULL;
	g_autofree char *latency_str = NULL;
	/* a success is routine: it is in the delivery history and /metrics, and a line per
	 * delivery would cost a write(2) each under load; --verbose shows them */
	GLogLevelFlags level = attempt->outcome == ASTRA_OUTCOME_DELIVERED ? G_LOG_LEVEL_INFO
									 : G_LOG_LEVEL_WARNING;
	g_autofree char *message = NULL;

	if (level == G_LOG_LEVEL_INFO && g_log_writer_default_would_drop (level, G_LOG_DOMAIN))
		return;

	status = attempt->status > 0 ? g_strdup_printf ("HTTP %u", attempt->status) : g_strdup ("no response");
	status_str = g_strdup_printf ("%u", attempt->status);
	latency_str = g_strdup_printf ("%" G_GINT64_FORMAT, attempt->latency_us);
	/* the webhook's name identifies it: its URL, secret and signature never reach a log */
	message = g_strdup_printf ("webhook %s: %s %s %s (%s, %.1f ms, attempt %u)%s%s",
				   astra_webhook_get_name (webhook),
				   attempt->skipped ? "skipped" : astra_outcome_to_string (attempt->outcome),
				   astra_event_get_type_name (event),
				   astra_event_get_id (event),
				   status,
				   (double) attempt->latency_us / 1000.0,
				   attempt->attempt,
				   attempt->reason != NULL ? ": " : "",
				   attempt->reason != NULL ? attempt->reason : "");
	g_log_structured (G_LOG_DOMAIN, level,
			  "MESSAGE", "%s", message,
			  "ASTRA_WEBHOOK", astra_webhook_get_name (webhook),
			  "ASTRA_EVENT_ID", astra_event_get_id (event),
			  "ASTRA_EVENT_TYPE", astra_event_get_type_name (event),
			  "ASTRA_OUTCOME", astra_outcome_to_string (attempt->outcome),
			  "ASTRA_HTTP_STATUS", status_str,
			  "ASTRA_LATENCY_US", latency_str);
}

static void
astra_dispatcher_complete (GTask *task)
{
	AstraDispatcher *self = g_task_get_source_object (task);
	AstraAttemptData *data = g_task_get_task_data (task);

	data->attempt->latency_us = g_get_monotonic_time () - data->started_mono;
	astra_dispatcher_log_attempt (data->webhook, data->event, data->attempt);
	g_hash_table_remove (self->in_flight, task);
	g_task_return_pointer (task, astra_attempt_copy (data->attempt), (GDestroyNotify) astra_attempt_free);
}

static void
astra_dispatcher_fail (GTask *task, AstraOutcome outcome, const char *reason)
{
	AstraAttemptData *data = g_task_get_task_data (task);

	data->attempt->outcome = outcome;
	g_free (data->attempt->reason);
	data->attempt->reason = g_strdup (reason);
	astra_dispatcher_complete (task);
}

static void
astra_dispatcher_copy_header_cb (const char *name, const char *value, gpointer user_data)
{
	astra_response_set_header (ASTRA_RESPONSE (user_data), name, value);
}

static void
astra_dispatcher_read_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK (user_data);
	AstraAttemptData *data = g_task_get_task_data (task);
	g_autoptr(AstraResponse) response = NULL;
	g_autoptr(GBytes) body = NULL;
	g_autoptr(GError) error_local = NULL;
	SoupMessageHeaders *headers;
	SoupMessageHeadersIter iter;
	const char *name;
	const char *value;
	gsize n_read = 0;

	/* the status is known: a body cut short still lets classify judge it */
	if (!g_input_stream_read_all_finish (G_INPUT_STREAM (source), result, &n_read, &error_local))
		g_debug ("webhook %s: reading the response body: %s",
			 astra_webhook_get_name (data->webhook), error_local->message);
	g_input_stream_close_async (data->stream, G_PRIORITY_DEFAULT, NULL, NULL, NULL);

	body = g_bytes_new_take (g_steal_pointer (&data->buf), n_read);
	response = astra_response_new (data->attempt->status, body);
	astra_response_set_date (response, g_get_real_time () / G_USEC_PER_SEC);
	headers = soup_message_get_response_headers (data->msg);
	soup_message_headers_iter_init (&iter, headers);
	while (soup_message_headers_iter_next (&iter, &name, &value))
		astra_dispatcher_copy_header_cb (name, value, response);

	data->attempt->outcome = astra_plugin_classify (astra_webhook_get_plugin (data->webhook), response);
	data->attempt->retry_after = astra_response_get_retry_after (response);
	data->attempt->response_body = g_bytes_ref (body);
	g_free (data->attempt->reason);
	data->attempt->reason = g_strdup (astra_response_get_reason (response));
	astra_dispatcher_complete (task);
}

static void
astra_dispatcher_send_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK (user_data);
	AstraAttemptData *data = g_task_get_task_data (task);
	g_autoptr(GError) error_local = NULL;
	SoupMessageHeaders *headers;
	gsize want = ASTRA_DISPATCHER_MAX_RESPONSE_BODY;

	data->stream = soup_session_send_finish (SOUP_SESSION (source), result, &error_local);
	if (data->stream == NULL) {
		g_autofree char *reason = NULL;

		/* transport failures are transient by nature: the receiver may be back soon */
		if (data->timed_out)
			reason = g_strdup_printf ("timed out after %u s", astra_webhook_get_timeout (data->webhook));
		else if (g_error_matches (error_local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			reason = g_strdup ("cancelled");
		else
			reason = g_strdup (error_local->message);
		astra_dispatcher_fail (task, ASTRA_OUTCOME_RETRY, reason);
		return;
	}
	data->attempt->status = soup_message_get_status (data->msg);
	/* most receivers answer a few bytes with a Content-Length: a buffer of that size, plus one byte
	 * so the read reaches the body's end (libsoup keeps the connection only for a body read to its
	 * end; that last read costs no syscall) */
	headers = soup_message_get_response_headers (data->msg);
	if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH) {
		goffset length = soup_message_headers_get_content_length (headers);
		want = (gsize) CLAMP (length + 1, 1, ASTRA_DISPATCHER_MAX_RESPONSE_BODY);
	}
	data->buf = g_malloc (MAX (want, 1));
	g_input_stream_read_all_async (data->stream, data->buf, want, G_PRIORITY_DEFAULT, data->cancellable,
				       astra_dispatcher_read_cb, g_steal_pointer (&task));
}

static gboolean
astra_dispatcher_timeout_cb (gpointer user_data)
{
	AstraAttemptData *data = user_data;

	data->timed_out = TRUE;
	g_cancellable_cancel (data->cancellable);
	g_clear_pointer (&data->timeout_source, g_source_unref);
	return G_SOURCE_REMOVE;
}

static void
astra_dispatcher_watched_cancelled_cb (GCancellable *caller, gpointer user_data)
{
	astra_dispatcher_cancel_all (ASTRA_DISPATCHER (user_data));
}

static void
astra_dispatcher_add_header_cb (const char *name, const char *value, gpointer user_data)
{
	soup_message_headers_replace ((SoupMessageHeaders *) user_data, name, value);
}

void
astra_dispatcher_attempt_async (AstraDispatcher *self,
				AstraWebhook *webhook,
				AstraEvent *event,
				guint attempt,
				GCancellable *cancellable,
				GAsyncReadyCallback callback,
				gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
	g_autoptr(AstraRequest) request = astra_request_new ();
	g_autoptr(GError) error_local = NULL;
	g_autoptr(GUri) uri = NULL;
	AstraSigner *signer = astra_webhook_get_signer (webhook);
	AstraAttemptData *data = g_new0 (AstraAttemptData, 1);
	GBytes *body;
	gint64 now = g_get_real_time ();

	g_task_set_source_tag (task, astra_dispatcher_attempt_async);
	/* a cancelled attempt still has a result (a retry): GTask must not turn it into an error */
	g_task_set_check_cancellable (task, FALSE);
	g_task_set_task_data (task, data, (GDestroyNotify) astra_attempt_data_free);
	data->webhook = g_object_ref (webhook);
	data->event = g_object_ref (event);
	data->attempt = g_new0 (AstraAttempt, 1);
	data->attempt->attempt = attempt;
	data->attempt->started_at = now;
	data->attempt->retry_after = -1;
	data->started_mono = g_get_monotonic_time ();
	data->cancellable = g_cancellable_new ();
	g_hash_table_insert (self->in_flight, task, data->cancellable);

	if (!astra_plugin_render (astra_webhook_get_plugin (webhook), event, request, &error_local)) {
		g_autofree char *reason = NULL;

		/* a declined event is finished business, not a failure */
		if (g_error_matches (error_local, ASTRA_ERROR, ASTRA_ERROR_NOT_SUPPORTED)) {
			data->attempt->skipped = TRUE;
			astra_dispatcher_fail (task, ASTRA_OUTCOME_DELIVERED, "declined by the plugin");
			return;
		}
		reason = g_strdup_printf ("render failed: %s", error_local->message);
		astra_dispatcher_fail (task, ASTRA_OUTCOME_FAILED, reason);
		return;
	}
	if (!astra_request_validate (request, &error_local)) {
		g_autofree char *reason = g_strdup_printf ("invalid request: %s", error_local->message);
		astra_dispatcher_fail (task, ASTRA_OUTCOME_FAILED, reason);
		return;
	}

	/* signed per attempt: the timestamp is the attempt's, the id the event's */
	if (signer != NULL) {
		if (!astra_signer_sign_request (signer, request, astra_event_get_id (event),
						now / G_USEC_PER_SEC, &error_local)) {
			g_autofree char *reason = g_strdup_printf ("signing failed: %s", error_local->message);
			astra_dispatcher_fail (task, ASTRA_OUTCOME_FAILED, reason);
			return;
		}
	} else if (astra_request_get_header (request, "X-Webhook-Id") == NULL) {
		g_autofree char *timestamp = g_strdup_printf ("%" G_GINT64_FORMAT, now / G_USEC_PER_SEC);
		/* unsigned receivers still deserve an id to drop duplicates on */
		astra_request_set_header (request, "X-Webhook-Id", astra_event_get_id (event));
		astra_request_set_header (request, "X-Webhook-Timestamp", timestamp);
	}

	/* libsoup's session agent would override a plugin's own: set ours only as the default */
	if (astra_request_get_header (request, "User-Agent") == NULL) {
		g_autofree char *user_agent = g_strdup_printf ("astra-alerts/%s", PACKAGE_VERSION);
		astra_request_set_header (request, "User-Agent", user_agent);
	}

	uri = g_uri_parse (astra_request_get_url (request), SOUP_HTTP_URI_FLAGS, NULL);
	data->msg = soup_message_new_from_uri (astra_request_get_method (request), uri);
	if (data->msg == NULL) {
		astra_dispatcher_fail (task, ASTRA_OUTCOME_FAILED, "invalid request: the URL cannot be used");
		return;
	}
	/* 3xx is a failure: never follow a receiver elsewhere. Deliveries are at-least-once and carry an
	 * id to drop duplicates on, so a POST may go on a kept-alive connection: libsoup otherwise opens
	 * a new connection (and a TLS handshake) for every non-idempotent request */
	soup_message_add_flags (data->msg, SOUP_MESSAGE_NO_REDIRECT | SOUP_MESSAGE_IDEMPOTENT);
	astra_request_foreach_header (request, astra_dispatcher_add_header_cb,
				      soup_message_get_request_headers (data->msg));
	body = astra_request_get_body (request);
	if (body != NULL)
		soup_message_set_request_body_from_bytes (data->msg, astra_request_get_content_type (request), body);

	/* callers share one cancellable for all their attempts (the deliverer's shutdown): watch it
	 * once, not once per attempt, which cost a closure and two locks per delivery */
	if (cancellable != NULL && cancellable != self->watched) {
		if (self->watched != NULL)
			g_cancellable_disconnect (self->watched, self->watched_id);
		g_set_object (&self->watched, cancellable);
		self->watched_id = g_cancellable_connect (cancellable, G_CALLBACK (astra_dispatcher_watched_cancelled_cb),
							  self, NULL);
	}
	if (cancellable != NULL && g_cancellable_is_cancelled (cancellable))
		g_cancellable_cancel (data->cancellable);
	/* not _seconds(): GLib may fire those up to 250 ms early, a quarter of "timeout = 1" */
	data->timeout_source = g_timeout_source_new (astra_webhook_get_timeout (webhook) * 1000);
	g_source_set_callback (data->timeout_source, astra_dispatcher_timeout_cb, data, NULL);
	g_source_attach (data->timeout_source, g_main_context_get_thread_default ());

	soup_session_send_async (self->session, data->msg, G_PRIORITY_DEFAULT, data->cancellable,
				 astra_dispatcher_send_cb, g_steal_pointer (&task));
}

AstraAttempt *
astra_dispatcher_attempt_finish (AstraDispatcher *self, GAsyncResult *result)
{
	g_return_val_if_fail (g_task_is_valid (result, self), NULL);
	return g_task_propagate_pointer (G_TASK (result), NULL);
}

guint
astra_dispatcher_get_n_in_flight (AstraDispatcher *self)
{
	return g_hash_table_size (self->in_flight);
}

void
astra_dispatcher_cancel_all (AstraDispatcher *self)
{
	GHashTableIter iter;
	gpointer cancellable;

	g_hash_table_iter_init (&iter, self->in_flight);
	while (g_hash_table_iter_next (&iter, NULL, &cancellable))
		g_cancellable_cancel (G_CANCELLABLE (cancellable));
}

static void
astra_dispatcher_dispose (GObject *object)
{
	AstraDispatcher *self = ASTRA_DISPATCHER (object);

	if (self->watched != NULL) {
		g_cancellable_disconnect (self->watched, self->watched_id);
		g_clear_object (&self->watched);
	}
	if (self->session != NULL)
		soup_session_abort (self->session);
	g_clear_object (&self->session);
	G_OBJECT_CLASS (astra_dispatcher_parent_class)->dispose (object);
}

static void
astra_dispatcher_finalize (GObject *object)
{
	AstraDispatcher *self = ASTRA_DISPATCHER (object);

	g_hash_table_unref (self->in_flight);
	G_OBJECT_CLASS (astra_dispatcher_parent_class)->finalize (object);
}

static void
astra_dispatcher_class_init (AstraDispatcherClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS (klass);

	object_class->dispose = astra_dispatcher_dispose;
	object_class->finalize = astra_dispatcher_finalize;

}

static void
astra_dispatcher_init (AstraDispatcher *self)
{
	self->in_flight = g_hash_table_new (NULL, NULL);
	/* per-webhook timeouts are ours; the session's would apply to every receiver alike */
	self->session = g_object_new (SOUP_TYPE_SESSION,
				      "max-conns", 256,
				      "max-conns-per-host", 16,
				      "idle-timeout", 60,
				      "timeout", 0,
				      NULL);
	/* receivers answer a few bytes: a decoder stream per response (and Accept-Encoding) buys nothing */
	soup_session_remove_feature_by_type (self->session, SOUP_TYPE_CONTENT_DECODER);
}

AstraDispatcher *
astra_dispatcher_new (void)
{
	return g_object_new (ASTRA_TYPE_DISPATCHER, NULL);
}
