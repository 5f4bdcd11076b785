/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "astra.h"
#include "astra-dispatcher.h"
#include "astra-state-db.h"

G_BEGIN_DECLS

/*
 * The outbox: every (event, webhook) delivery, durable in the state
 * database before its first attempt, with every attempt's result. An event's
 * canonical body is stored once however many webhooks get it. A delivery
 * that a crash interrupted (sent, not yet acknowledged) is simply pending
 * again: at-least-once, and the event id (X-Webhook-Id / webhook-id) lets
 * receivers drop the duplicate.
 *
 * Writes join the state database's per-iteration transaction
 * (astra_state_db_begin); callers that must know a write is on disk before
 * they answer someone call astra_state_db_flush().
 */

typedef enum {
	ASTRA_DELIVERY_STATE_PENDING,   /* waiting for its next attempt (or in flight) */
	ASTRA_DELIVERY_STATE_DELIVERED, /* the receiver acknowledged it */
	ASTRA_DELIVERY_STATE_DEAD,      /* failed for good, or out of attempts or age: see last_reason */
	ASTRA_DELIVERY_STATE_SKIPPED,   /* the plugin declined the event */
	ASTRA_DELIVERY_STATE_LAST,
} AstraDeliveryState;

typedef struct {
	gint64 id;             /* dense, increasing: the order deliveries were made in */
	char *event_id;
	char *event_type;
	char *webhook;
	char *order_key;       /* deliveries with the same key go out one at a time, in id order */
	AstraDeliveryState state;
	guint attempts;        /* made so far */
	gint64 created_us;
	gint64 next_attempt_us; /* pending: not before this */
	gint64 updated_us;
	guint last_status;     /* HTTP status of the last attempt, 0 if none */
	gint64 last_latency_us;
	char *last_reason;     /* may be NULL */
	GBytes *last_response; /* bounded excerpt of the last response body, may be NULL */
} AstraDelivery;

typedef struct {
	gint64 delivery_id;
	guint attempt;
	gint64 started_us;
	guint status;
	gint64 latency_us;
	AstraOutcome outcome;
	gboolean skipped;
	char *reason;
} AstraAttemptRecord;

#define ASTRA_OUTBOX_MAX_EXCERPT 1024 /* bytes of a response body kept with a delivery */

void astra_delivery_free (AstraDelivery *delivery);
void astra_attempt_record_free (AstraAttemptRecord *record);
const char *astra_delivery_state_to_string (AstraDeliveryState state);
gboolean astra_delivery_state_from_string (const char *str, AstraDeliveryState *state);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AstraDelivery, astra_delivery_free)

#define ASTRA_TYPE_OUTBOX (astra_outbox_get_type ())
G_DECLARE_FINAL_TYPE (AstraOutbox, astra_outbox, ASTRA, OUTBOX, GObject)

/* creates or migrates the outbox's tables (module "outbox") */
AstraOutbox *astra_outbox_new (AstraStateDb *db, GError **error);
AstraStateDb *astra_outbox_get_state_db (AstraOutbox *self);

/* stores the event (once) and one pending delivery per webhook name, due at now_us; the new
 * deliveries, in the order of webhooks, are appended to out (AstraDelivery) */
gboolean astra_outbox_add (AstraOutbox *self,
			   AstraEvent *event,
			   const char *order_key,
			   const char *const *webhooks,
			   gint64 now_us,
			   GPtrArray *out,
			   GError **error);
/* the event of a delivery, rebuilt from its stored body with its id */
AstraEvent *astra_outbox_load_event (AstraOutbox *self, const char *event_id, GError **error);
/* pending deliveries of one webhook with id > after_id, in id order, at most limit */
GPtrArray *astra_outbox_load_pending (AstraOutbox *self,
				      const char *webhook,
				      gint64 after_id,
				      guint limit,
				      GError **error);
/* the names of the webhooks that have pending deliveries (restart recovery) */
GStrv astra_outbox_list_pending_webhooks (AstraOutbox *self, GError **error);

/* records an attempt and moves the delivery to state (next_attempt_us for a pending retry) */
gboolean astra_outbox_record_attempt (AstraOutbox *self,
				      gint64 delivery_id,
				      const AstraAttempt *attempt,
				      AstraDeliveryState state,
				      gint64 next_attempt_us,
				      const char *reason,
				      GError **error);
/* a dead (or delivered) delivery becomes pending again, due now, its attempts kept in history */
gboolean astra_outbox_redeliver (AstraOutbox *self, gint64 delivery_id, gint64 now_us, GError **error);
AstraDelivery *astra_outbox_lookup (AstraOutbox *self, gint64 delivery_id, GError **error);

/* history: deliveries by webhook (NULL: any), state (-1: any) and time (updated at or after
 * since_us), newest first, at most limit; and the attempts of one delivery, oldest first */
GPtrArray *astra_outbox_list (AstraOutbox *self,
			      const char *webhook,
			      int state,
			      gint64 since_us,
			      guint limit,
			      GError **error);
GPtrArray *astra_outbox_list_attempts (AstraOutbox *self, gint64 delivery_id, GError **error);

/* counts of pending deliveries and the oldest pending's creation time, per webhook */
guint astra_outbox_count (AstraOutbox *self, const char *webhook, AstraDeliveryState state, GError **error);
gint64 astra_outbox_oldest_pending (AstraOutbox *self, const char *webhook, GError **error);

/* removes delivered and skipped deliveries (and their attempts, and events no delivery needs any more)
 * last updated before older_than_us, and beyond keep_count newest finished ones; at most max_rows per call */
gboolean astra_outbox_prune (AstraOutbox *self,
			     gint64 older_than_us,
			     guint keep_count,
			     guint max_rows,
			     guint *n_pruned,
			     GError **error);

G_END_DECLS
