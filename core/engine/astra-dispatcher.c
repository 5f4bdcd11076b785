/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "astra-dispatcher.h"
#include "astra-http-client.h"

struct _AstraDispatcher {
	GObject parent_instance;
	AstraHttpClient *client;
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
	gint64 started_mono;
} AstraAttemptData;

static void
astra_attempt_data_free (AstraAttemptData *data)
{
	g_clear_object (&data->webhook);
	g_clear_object (&data->event);
	astra_attempt_free (data->attempt);
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
	AstraAttemptData *data = g_task_get_task_data (task);

	data->attempt->latency_us = g_get_monotonic_time () - data->started_mono;
	/* plugins and receivers may quote what they were sent: blank out the webhook's credentials
	 * once, here, before the reason reaches the log, the history or the bus */
	if (data->attempt->reason != NULL) {
		char *redacted = astra_webhook_redact (data->webhook, data->attempt->reason);
		g_free (data->attempt->reason);
		data->attempt->reason = redacted;
	}
	astra_dispatcher_log_attempt (data->webhook, data->event, data->attempt);
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
astra_dispatcher_send_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK (user_data);
	AstraAttemptData *data = g_task_get_task_data (task);
	g_autoptr(GError) error_local = NULL;
	g_autoptr(AstraResponse) response = NULL;

	response = astra_http_client_send_finish (ASTRA_HTTP_CLIENT (source), result, &error_local);
	if (response == NULL) {
		g_autofree char *reason = NULL;

		/* a request the client refuses to send will never go; anything else on the way
		 * (refused, reset, timed out, cut short) is transient: the receiver may be back soon */
		if (g_error_matches (error_local, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT)) {
			reason = g_strdup_printf ("invalid request: %s", error_local->message);
			astra_dispatcher_fail (task, ASTRA_OUTCOME_FAILED, reason);
			return;
		}
		if (g_error_matches (error_local, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
			reason = g_strdup_printf ("timed out after %u s", astra_webhook_get_timeout (data->webhook));
		else if (g_error_matches (error_local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			reason = g_strdup ("cancelled");
		else
			reason = g_strdup (error_local->message);
		astra_dispatcher_fail (task, ASTRA_OUTCOME_RETRY, reason);
		return;
	}

	data->attempt->status = astra_response_get_status (response);
	data->attempt->outcome = astra_plugin_classify (astra_webhook_get_plugin (data->webhook), response);
	data->attempt->retry_after = astra_response_get_retry_after (response);
	if (astra_response_get_body (response) != NULL)
		data->attempt->response_body = g_bytes_ref (astra_response_get_body (response));
	g_free (data->attempt->reason);
	data->attempt->reason = g_strdup (astra_response_get_reason (response));
	astra_dispatcher_complete (task);
}

/**
 * astra_dispatcher_build_request:
 * @webhook: the webhook
 * @event: the event
 * @now_s: the attempt's time, unix seconds (the signature's timestamp)
 * @error: a #GError
 *
 * The request one attempt sends: rendered by the webhook's plugin, checked,
 * signed (or given an id and timestamp when unsigned) and given our
 * User-Agent unless the plugin set one. The one place a request is built,
 * for deliveries and for RenderEvent's dry run alike.
 *
 * Returns: (transfer full): the request, or %NULL with %ASTRA_ERROR_NOT_SUPPORTED
 *   (the plugin declines the event, with its message), %ASTRA_ERROR_PLUGIN
 *   ("render failed: ..." or "invalid request: ...") or %ASTRA_ERROR_SIGNATURE
 */
AstraRequest *
astra_dispatcher_build_request (AstraWebhook *webhook, AstraEvent *event, gint64 now_s, GError **error)
{
	g_autoptr(AstraRequest) request = astra_request_new ();
	g_autoptr(GError) error_local = NULL;
	AstraSigner *signer = astra_webhook_get_signer (webhook);

	if (!astra_plugin_render (astra_webhook_get_plugin (webhook), event, request, &error_local)) {
		if (g_error_matches (error_local, ASTRA_ERROR, ASTRA_ERROR_NOT_SUPPORTED)) {
			g_propagate_error (error, g_steal_pointer (&error_local));
			return NULL;
		}
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_PLUGIN, "render failed: %s", error_local->message);
		return NULL;
	}
	if (!astra_request_validate (request, &error_local)) {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_PLUGIN, "invalid request: %s", error_local->message);
		return NULL;
	}

	/* signed per attempt: the timestamp is the attempt's, the id the event's */
	if (signer != NULL) {
		if (!astra_signer_sign_request (signer, request, astra_event_get_id (event), now_s, &error_local)) {
			g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_SIGNATURE, "signing failed: %s", error_local->message);
			return NULL;
		}
	} else if (astra_request_get_header (request, "X-Webhook-Id") == NULL) {
		g_autofree char *timestamp = g_strdup_printf ("%" G_GINT64_FORMAT, now_s);
		/* unsigned receivers still deserve an id to drop duplicates on */
		astra_request_set_header (request, "X-Webhook-Id", astra_event_get_id (event));
		astra_request_set_header (request, "X-Webhook-Timestamp", timestamp);
	}
	if (astra_request_get_header (request, "User-Agent") == NULL) {
		g_autofree char *user_agent = g_strdup_printf ("astra-alerts/%s", PACKAGE_VERSION);
		astra_request_set_header (request, "User-Agent", user_agent);
	}
	return g_steal_pointer (&request);
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
	g_autoptr(AstraRequest) request = NULL;
	g_autoptr(GError) error_local = NULL;
	AstraAttemptData *data = g_new0 (AstraAttemptData, 1);
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

	request = astra_dispatcher_build_request (webhook, event, now / G_USEC_PER_SEC, &error_local);
	if (request == NULL) {
		/* a declined event is finished business, not a failure */
		if (g_error_matches (error_local, ASTRA_ERROR, ASTRA_ERROR_NOT_SUPPORTED)) {
			data->attempt->skipped = TRUE;
			astra_dispatcher_fail (task, ASTRA_OUTCOME_DELIVERED, "declined by the plugin");
			return;
		}
		astra_dispatcher_fail (task, ASTRA_OUTCOME_FAILED, error_local->message);
		return;
	}

	/* 3xx is a failure: the client never follows a receiver elsewhere. The callers' one shared
	 * cancellable (the deliverer's shutdown) is watched by the client once, not per attempt;
	 * a cancelled attempt fails as G_IO_ERROR_CANCELLED, which is a retry */
	astra_http_client_send_async (self->client, request, astra_webhook_get_timeout (webhook) * 1000,
				      ASTRA_DISPATCHER_MAX_RESPONSE_BODY, cancellable, astra_dispatcher_send_cb,
				      g_steal_pointer (&task));
}

AstraAttempt *
astra_dispatcher_attempt_finish (AstraDispatcher *self, GAsyncResult *result)
{
	g_return_val_if_fail (g_task_is_valid (result, self), NULL);
	return g_task_propagate_pointer (G_TASK (result), NULL);
}

guint
astra_dispatcher_get_n_connections (AstraDispatcher *self)
{
	return astra_http_client_get_n_connections (self->client);
}

guint64
astra_dispatcher_get_n_connects (AstraDispatcher *self)
{
	return astra_http_client_get_n_connects (self->client);
}

static void
astra_dispatcher_dispose (GObject *object)
{
	AstraDispatcher *self = ASTRA_DISPATCHER (object);

	if (self->client != NULL)
		astra_http_client_abort (self->client);
	g_clear_object (&self->client);
	G_OBJECT_CLASS (astra_dispatcher_parent_class)->dispose (object);
}

static void
astra_dispatcher_class_init (AstraDispatcherClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS (klass);

	object_class->dispose = astra_dispatcher_dispose;
}

static void
astra_dispatcher_init (AstraDispatcher *self)
{
	/* as many connections per receiver as a webhook may have attempts in flight */
	self->client = astra_http_client_new ();
	astra_http_client_set_max_conns_per_host (self->client, 16);
	astra_http_client_set_idle_timeout (self->client, 60);
}

AstraDispatcher *
astra_dispatcher_new (void)
{
	return g_object_new (ASTRA_TYPE_DISPATCHER, NULL);
}
