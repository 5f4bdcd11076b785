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
 *   outbox; attempts start no earlier than the next main-loop iteration (a
 *   timer due now on the AstraClock), so the caller can flush (commit) before
 *   answering whoever sent the event.
 * - Order: deliveries with the same order key (an alert, an agent) go out one
 *   at a time in the order they were made, a retry included, so a resolve
 *   never overtakes its trigger; unrelated ones go concurrently up to the
 *   webhook's max-in-flight. A delivery whose key is busy (in flight or
 *   waiting for a retry) waits without being looked at: the queue keeps a
 *   FIFO per busy key and a ready list, so nothing is scanned per attempt.
 * - Retries follow the webhook's schedule (default close to Standard
 *   Webhooks': 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h) with
 *   +-10% jitter, on what the plugin classifies as RETRY and on transport
 *   errors (the dispatcher reports those, timeouts and cancellations as
 *   RETRY with status 0; a FAILED with status 0, e.g. a render failure, is
 *   final). The wait before attempt n + 1 is schedule[n - 1]; when there is
 *   no such entry the delivery is dead ("gave up after N attempts: ...").
 *   max-age ends them too: a retry that would start more than max-age after
 *   the delivery was made is not scheduled, the delivery is dead ("older
 *   than max-age ..."); max-age is only judged after a failed attempt, so
 *   every delivery gets at least one attempt, however long its webhook was
 *   paused, open or disabled.
 * - Retry-After (and Discord's retry_after, both as AstraAttempt.retry_after)
 *   is obeyed exactly (up to 30 days), without jitter, for that delivery's
 *   next attempt, and pauses the whole webhook until then (the schedule still
 *   counts the attempt). Such an answer is left to the pause: it neither
 *   counts toward opening the circuit nor closes it.
 * - A token bucket per webhook (plugin defaults: Slack 1/s with bursts,
 *   Discord 5 per 2 s, Teams 4/s, PagerDuty 120/min, others unlimited): it
 *   starts full; every attempt, retries and probes included, takes a token.
 * - A circuit breaker per webhook: breaker-failures consecutive RETRY
 *   outcomes without Retry-After open it for breaker-cooldown (nothing
 *   starts); then it is half-open and exactly one probe attempt goes. A
 *   probe that must be retried opens it again for twice the previous period
 *   (at most 10 min, or breaker-cooldown if that is longer). Any attempt the
 *   receiver answers as delivered or failed (an HTTP status), the probe or
 *   one that was in flight, closes it and resets the count; a skipped or
 *   GONE attempt, or one cancelled by the shutdown, changes nothing (a probe
 *   that ends so lets the next attempt probe). Transitions are logged with the webhook's name and
 *   emitted as ::circuit-changed.
 * - GONE disables the webhook (astra_webhook_disable(), a warning naming
 *   it, ::webhook-disabled): its deliveries stay pending, nothing more is
 *   attempted until astra_deliverer_enable_webhook() or a set_webhooks()
 *   whose webhook of that name is enabled. The attempt that got GONE is
 *   recorded; its delivery goes first once enabled. FAILED and exhausted
 *   deliveries become dead letters (::delivery-dead), which can be
 *   redelivered; a redelivery starts a new round: the schedule from its
 *   start and max-age from the redelivery (only while this process runs:
 *   after a restart both count from the first attempt again).
 * - Memory is bounded: each queue holds a window of at most
 *   ASTRA_DELIVERER_DEFAULT_WINDOW deliveries in memory (their events are
 *   loaded from the outbox when first attempted, unless submit gave them);
 *   the rest stay on disk and are paged in, in id order, as the window
 *   empties. A redelivery or a delivery queued again may go past it.
 * - Shutdown: no new attempts; those in flight get timeout_s to finish,
 *   then the GCancellable given to the start func is cancelled. An attempt
 *   that ends as RETRY after that cancel is recorded but costs nothing: its
 *   delivery is pending and due at once after the restart.
 * - Time comes from the AstraClock (one AstraTimer per queue for its next
 *   wake-up: a retry due, the end of a pause, a token, the breaker's
 *   cooldown), so tests drive everything with a fake clock.
 * - Reloads: queues are kept by webhook name with their state, counters and
 *   window, and use the new AstraWebhook (and its policy) from then on. A
 *   queue whose webhook is no longer configured stops: its attempts in flight
 *   finish and are recorded, its pending deliveries stay in the outbox.
 *
 * Signals, for metrics, logs and D-Bus (webhook names are static-scope
 * strings; the delivery, an AstraDelivery mirroring the outbox row after
 * the attempt, is only valid during the emission):
 * - ::attempt-finished (const char *webhook, gpointer delivery,
 *   AstraAttempt *attempt): after every attempt is recorded; delivery->state
 *   is what it led to (PENDING for a retry).
 * - ::delivery-dead (const char *webhook, gpointer delivery): a delivery
 *   became a dead letter; last_reason says why (the excerpt of the last
 *   answer is kept in the outbox row only).
 * - ::circuit-changed (const char *webhook, guint AstraCircuitState).
 * - ::webhook-disabled (const char *webhook, const char *reason).
 */

/* how one attempt is made: the daemon's renders, signs and sends through the
 * AstraDispatcher; tests inject fakes. done() must be called exactly once,
 * from the main loop, never from inside attempt() itself; the attempt it is
 * given stays the caller's (transfer none): attempt->attempt, started_at and
 * latency_us are recorded as given. The deliverer holds references to the
 * webhook and the event until done() is called. */
typedef void (*AstraAttemptDoneFunc) (AstraAttempt *attempt, gpointer done_data);
typedef void (*AstraAttemptStartFunc) (AstraWebhook *webhook,
				       AstraEvent *event,
				       guint attempt,
				       GCancellable *cancellable,
				       AstraAttemptDoneFunc done,
				       gpointer done_data,
				       gpointer user_data);

/* deliveries of one webhook held in memory; the rest wait in the outbox */
#define ASTRA_DELIVERER_DEFAULT_WINDOW 1024
/* the longest a circuit stays open between probes (unless breaker-cooldown is longer) */
#define ASTRA_DELIVERER_MAX_COOLDOWN_US (10 * 60 * G_USEC_PER_SEC)
/* retry waits vary by up to this fraction either way, so a receiver's clients do not come back in step */
#define ASTRA_DELIVERER_DEFAULT_JITTER 0.1

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
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AstraWebhookStatus, astra_webhook_status_free)

#define ASTRA_TYPE_DELIVERER (astra_deliverer_get_type ())
G_DECLARE_FINAL_TYPE (AstraDeliverer, astra_deliverer, ASTRA, DELIVERER, GObject)

AstraDeliverer *astra_deliverer_new (AstraClock *clock,
				     AstraOutbox *outbox,
				     AstraAttemptStartFunc start,
				     gpointer user_data);
/* the webhooks to deliver to; queues are kept by webhook name across reloads, and a webhook
 * disabled by a GONE answer is enabled again when the new set has it enabled */
void astra_deliverer_set_webhooks (AstraDeliverer *self, GPtrArray *webhooks);
/* after a start, and after the first set_webhooks(): every pending delivery in the outbox
 * is queued again (restart recovery). A queue reads its webhook's pending deliveries from
 * the outbox when it is made (so a webhook a reload adds back gets its old ones); this logs
 * the pending deliveries of webhooks that are not configured, which stay in the outbox */
gboolean astra_deliverer_recover (AstraDeliverer *self, GError **error);
/* makes one delivery per webhook for the event, durable in the outbox's transaction;
 * order_key NULL: astra_deliverer_order_key(). A webhook that is not in the current set
 * gets its delivery in the outbox only. Accepted during shutdown too (durable, not attempted) */
gboolean astra_deliverer_submit (AstraDeliverer *self,
				 AstraEvent *event,
				 const char *order_key,
				 GPtrArray *webhooks,
				 GError **error);
/* a dead letter (or any delivery) goes out again, now: a pending one waiting for a retry
 * is made due now, one in flight is left alone; its webhook must be configured for it to
 * go (else it stays pending in the outbox). ASTRA_ERROR_NOT_FOUND if there is no such delivery */
gboolean astra_deliverer_redeliver (AstraDeliverer *self, gint64 delivery_id, GError **error);
/* an admin says a GONE webhook is back: its queue flows again, with a closed circuit and no
 * pause. ASTRA_ERROR_NOT_FOUND if no webhook of that name is configured */
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

/* the key that orders an event's deliveries: "alert:" + data.alert_id for alert.*,
 * "agent:" + tenant + "/" + data.agent_id for agent.* and service_test.failed (tenant empty
 * if none), else (or if that field is missing) the event's id */
char *astra_deliverer_order_key (AstraEvent *event);

/* tuning and introspection, mostly for tests and benchmarks */
/* the number of deliveries per webhook held in memory (at least 2) */
void astra_deliverer_set_window (AstraDeliverer *self, guint window);
/* retry waits vary by +-fraction (0 for exact waits), from a generator seeded with seed */
void astra_deliverer_set_jitter (AstraDeliverer *self, double fraction, guint32 seed);
/* deliveries held in memory, over all webhooks */
guint astra_deliverer_get_n_in_memory (AstraDeliverer *self);

G_END_DECLS
