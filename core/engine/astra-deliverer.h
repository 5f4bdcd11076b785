/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "astra.h"
#include "astra-clock.h"
#include "astra-dispatcher.h"
#include "astra-outbox.h"
#include "astra-webhook.h"

G_BEGIN_DECLS

/*
 * The deliverer: one ordered queue per webhook over the outbox.
 *
 * - Durable first: astra_deliverer_submit() writes the deliveries to the
 *   outbox; attempts start no earlier than the next main-loop iteration, so
 *   the caller can flush (commit) before answering whoever sent the event.
 * - Order: deliveries with the same order key (an alert, an agent) go out one
 *   at a time in the order they were made, a retry included, so a resolve
 *   never overtakes its trigger; unrelated ones go concurrently up to the
 *   webhook's max-in-flight.
 * - Retries follow the webhook's schedule (default close to Standard
 *   Webhooks': 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h) with
 *   jitter, on what the plugin classifies as RETRY and on transport errors;
 *   max-age ends them. Retry-After (and Discord's retry_after) pauses the
 *   whole webhook for exactly that long.
 * - A token bucket per webhook (plugin defaults: Slack 1/s with bursts,
 *   Discord 5 per 2 s, Teams 4/s, PagerDuty 120/min, others unlimited).
 * - A circuit breaker per webhook: after repeated consecutive failures it
 *   opens, probes with one attempt after a cooldown (doubling up to a cap),
 *   and closes on success.
 * - GONE disables the webhook (its deliveries stay pending on disk) until it
 *   is re-enabled; FAILED and exhausted deliveries become dead letters, which
 *   can be redelivered.
 * - Memory is bounded: each queue holds a window of deliveries in memory and
 *   pages the rest in from the outbox in order.
 * - Time comes from the AstraClock, so tests drive retries with a fake clock.
 */

/* how one attempt is made: the daemon's renders, signs and sends through the
 * AstraDispatcher; tests inject fakes. done() must be called exactly once,
 * from the main loop, never from inside attempt() itself. */
typedef void (*AstraAttemptDoneFunc) (AstraAttempt *attempt, gpointer done_data);
typedef void (*AstraAttemptStartFunc) (AstraWebhook *webhook,
				       AstraEvent *event,
				       guint attempt,
				       GCancellable *cancellable,
				       AstraAttemptDoneFunc done,
				       gpointer done_data,
				       gpointer user_data);

typedef enum {
	ASTRA_CIRCUIT_CLOSED,
	ASTRA_CIRCUIT_OPEN,
	ASTRA_CIRCUIT_HALF_OPEN,
} AstraCircuitState;

/* one webhook's delivery state, for metrics, logs and D-Bus */
typedef struct {
	char *webhook;
	gboolean enabled;
	char *disabled_reason;    /* why it was disabled (GONE), or NULL */
	guint pending;            /* on disk and in memory */
	guint in_flight;
	gint64 oldest_pending_us; /* creation time, 0 if none */
	AstraCircuitState circuit;
	gint64 paused_until_us;   /* Retry-After, 0 if not paused */
	guint64 n_delivered;
	guint64 n_dead;
	guint64 n_skipped;
	guint64 n_attempts;
	guint64 n_retries;
} AstraWebhookStatus;

void astra_webhook_status_free (AstraWebhookStatus *status);
const char *astra_circuit_state_to_string (AstraCircuitState state);

#define ASTRA_TYPE_DELIVERER (astra_deliverer_get_type ())
G_DECLARE_FINAL_TYPE (AstraDeliverer, astra_deliverer, ASTRA, DELIVERER, GObject)

AstraDeliverer *astra_deliverer_new (AstraClock *clock,
				     AstraOutbox *outbox,
				     AstraAttemptStartFunc start,
				     gpointer user_data);
/* the webhooks to deliver to; queues are kept by webhook name across reloads, and a webhook
 * disabled by a GONE answer is enabled again when the new set has it enabled */
void astra_deliverer_set_webhooks (AstraDeliverer *self, GPtrArray *webhooks);
/* after a start: every pending delivery in the outbox is queued again (restart recovery) */
gboolean astra_deliverer_recover (AstraDeliverer *self, GError **error);
/* makes one delivery per webhook for the event, durable in the outbox's transaction */
gboolean astra_deliverer_submit (AstraDeliverer *self,
				 AstraEvent *event,
				 const char *order_key,
				 GPtrArray *webhooks,
				 GError **error);
/* a dead letter (or any delivery) goes out again, now */
gboolean astra_deliverer_redeliver (AstraDeliverer *self, gint64 delivery_id, GError **error);
/* an admin says a GONE webhook is back */
gboolean astra_deliverer_enable_webhook (AstraDeliverer *self, const char *name, GError **error);
/* AstraWebhookStatus for every webhook, in name order */
GPtrArray *astra_deliverer_get_status (AstraDeliverer *self);
guint astra_deliverer_get_n_in_flight (AstraDeliverer *self);
/* no new attempts; those in flight may finish for up to timeout_s, then they are cancelled.
 * Pending deliveries stay in the outbox: nothing is lost. */
void astra_deliverer_shutdown_async (AstraDeliverer *self,
				     guint timeout_s,
				     GAsyncReadyCallback callback,
				     gpointer user_data);
gboolean astra_deliverer_shutdown_finish (AstraDeliverer *self, GAsyncResult *result, GError **error);

/* the key that orders an event's deliveries: its alert, else its agent, else the event alone */
char *astra_deliverer_order_key (AstraEvent *event);

G_END_DECLS
