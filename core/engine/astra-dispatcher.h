/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "astra.h"
#include "astra-webhook.h"

G_BEGIN_DECLS

/* the most of a receiver's response body we keep: enough for any error message */
#define ASTRA_DISPATCHER_MAX_RESPONSE_BODY (64 * 1024)

/* what one attempt came to; the unit the durable outbox records */
typedef struct {
	AstraOutcome outcome;
	gboolean skipped;     /* the plugin declined the event: nothing was sent */
	guint attempt;        /* 1 for the first attempt */
	guint status;         /* HTTP status, 0 if none was received */
	gint64 started_at;    /* unix microseconds */
	gint64 latency_us;    /* from send to the end of the response */
	double retry_after;   /* seconds asked for by the receiver, negative if none */
	char *reason;         /* short, for logs and history; never a secret */
	GBytes *response_body; /* bounded excerpt, may be NULL */
} AstraAttempt;

#define ASTRA_TYPE_ATTEMPT (astra_attempt_get_type ())
GType astra_attempt_get_type (void);
AstraAttempt *astra_attempt_copy (const AstraAttempt *attempt);
void astra_attempt_free (AstraAttempt *attempt);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AstraAttempt, astra_attempt_free)

#define ASTRA_TYPE_DISPATCHER (astra_dispatcher_get_type ())
G_DECLARE_FINAL_TYPE (AstraDispatcher, astra_dispatcher, ASTRA, DISPATCHER, GObject)

AstraDispatcher *astra_dispatcher_new (void);

/* the request an attempt at now_s sends: rendered, checked, signed; NOT_SUPPORTED if the
 * plugin declines the event */
AstraRequest *astra_dispatcher_build_request (AstraWebhook *webhook, AstraEvent *event, gint64 now_s, GError **error);

/* renders, signs, sends and classifies one attempt; the result is never NULL
 * (errors become an outcome) */
void astra_dispatcher_attempt_async (AstraDispatcher *self,
				     AstraWebhook *webhook,
				     AstraEvent *event,
				     guint attempt,
				     GCancellable *cancellable,
				     GAsyncReadyCallback callback,
				     gpointer user_data);
AstraAttempt *astra_dispatcher_attempt_finish (AstraDispatcher *self, GAsyncResult *result);

/* connections to receivers: open now, and made so far */
guint astra_dispatcher_get_n_connections (AstraDispatcher *self);
guint64 astra_dispatcher_get_n_connects (AstraDispatcher *self);

G_END_DECLS
