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
 *
 * Tables (module "outbox", schema version ASTRA_OUTBOX_SCHEMA_VERSION),
 * prefixed so they cannot clash with other modules' tables in the one db:
 *
 *   outbox_events      id TEXT PRIMARY KEY, type, timestamp (unix seconds),
 *                      created_us, body BLOB (canonical, byte for byte)
 *   outbox_deliveries  id INTEGER PRIMARY KEY AUTOINCREMENT (never reused,
 *                      so id order is creation order), event_id, webhook,
 *                      order_key, state (AstraDeliveryState: the values are
 *                      on disk, never renumber them; new states are appended,
 *                      which needs no migration: a daemon that predates a
 *                      state reads it as dead), attempts, created_us,
 *                      next_attempt_us, updated_us, last_status,
 *                      last_latency_us, last_reason, last_response BLOB
 *   outbox_attempts    (delivery_id, attempt) PRIMARY KEY, started_us,
 *                      status, latency_us, outcome, skipped, reason
 *
 * Indexes: pending deliveries per webhook by id (partial, state = pending:
 * it holds only what is queued), history by (webhook, state, updated_us),
 * by (state, updated_us) for history over all webhooks and for pruning, and
 * deliveries by event_id (an event is pruned once nothing refers to it).
 * No foreign keys: the outbox deletes in the right order itself, and the
 * checks would cost every insert.
 *
 * Every query is an index range scan: no call is O(rows) except the counts,
 * which are O(matching rows) and meant for recovery and admin requests, and
 * every list is bounded by ASTRA_OUTBOX_MAX_LIMIT rows.
 *
 * Times are unix microseconds from the caller's clock; the outbox never
 * reads a clock itself (an attempt's end, started_at + latency_us, is when
 * record_attempt updates a delivery, so it must come from the same clock).
 */

#define ASTRA_OUTBOX_DB_MODULE "outbox"
#define ASTRA_OUTBOX_SCHEMA_VERSION 1
/* the most rows one list call returns (larger limits are clamped) */
#define ASTRA_OUTBOX_MAX_LIMIT 10000

typedef enum {
	ASTRA_DELIVERY_STATE_PENDING,   /* waiting for its next attempt (or in flight) */
	ASTRA_DELIVERY_STATE_DELIVERED, /* the receiver acknowledged it */
	ASTRA_DELIVERY_STATE_DEAD,      /* failed for good, or out of attempts or age: see last_reason */
	ASTRA_DELIVERY_STATE_SKIPPED,   /* the plugin declined the event */
	ASTRA_DELIVERY_STATE_SILENCED,  /* held back by a silence, never attempted: see last_reason */
	ASTRA_DELIVERY_STATE_LAST,
} AstraDeliveryState;

typedef struct {
	gint64 id; /* dense, increasing: the order deliveries were made in */
	char *event_id;
	char *event_type; /* NULL only if the event row is gone (an edited database) */
	char *webhook;
	char *order_key; /* deliveries with the same key go out one at a time, in id order */
	AstraDeliveryState state;
	guint attempts; /* made so far */
	gint64 created_us;
	gint64 next_attempt_us; /* pending: not before this */
	gint64 updated_us;
	guint last_status; /* HTTP status of the last attempt, 0 if none */
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

/* bytes of a response body kept with a delivery: a text (valid UTF-8) body is cut at a character
 * boundary, so the excerpt may be up to 3 bytes shorter; anything else is kept as bytes */
#define ASTRA_OUTBOX_MAX_EXCERPT 1024

void astra_delivery_free (AstraDelivery *delivery);
void astra_attempt_record_free (AstraAttemptRecord *record);
const char *astra_delivery_state_to_string (AstraDeliveryState state);
gboolean astra_delivery_state_from_string (const char *str, AstraDeliveryState *state);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AstraDelivery, astra_delivery_free)

#define ASTRA_TYPE_OUTBOX (astra_outbox_get_type ())
G_DECLARE_FINAL_TYPE (AstraOutbox, astra_outbox, ASTRA, OUTBOX, GObject)

/* creates or migrates the outbox's tables (module "outbox"); refuses a database from a newer daemon */
AstraOutbox *astra_outbox_new (AstraStateDb *db, GError **error);
AstraStateDb *astra_outbox_get_state_db (AstraOutbox *self);
/* deliveries were added in the transaction still open: flush before sending them */
gboolean astra_outbox_has_uncommitted_adds (AstraOutbox *self);

/* stores the event (once: an id already stored keeps its first body) and one pending delivery per
 * webhook name, due at now_us; order_key NULL means the event id. The new deliveries, in the order
 * of webhooks, are appended to out (AstraDelivery, astra_delivery_free as its free function; may be
 * NULL). No webhooks: nothing is stored. On error nothing is appended, though deliveries written
 * before the error may stay in the transaction (recovery sends them: at-least-once still holds). */
gboolean astra_outbox_add (AstraOutbox *self,
			   AstraEvent *event,
			   const char *order_key,
			   const char *const *webhooks,
			   gint64 now_us,
			   GPtrArray *out,
			   GError **error);
/* the event of a delivery, rebuilt from its stored body with its id; ASTRA_ERROR_NOT_FOUND if it is
 * not stored, ASTRA_ERROR_INVALID_DATA (naming the event id) if the stored body is corrupt */
AstraEvent *astra_outbox_load_event (AstraOutbox *self, const char *event_id, GError **error);
/* pending deliveries of one webhook with id > after_id, in id order, at most limit.
 * A redelivered delivery keeps its id, so it may be below an after_id a reader has passed. */
GPtrArray *astra_outbox_load_pending (
    AstraOutbox *self, const char *webhook, gint64 after_id, guint limit, GError **error);
/* stores the event (once, as astra_outbox_add) and one delivery per webhook in the state
 * silenced, made and updated at now_us, never attempted (no pending index entry: recovery and
 * load_pending never see it), last_reason "silenced by SILENCE_ID"; for ListDeliveries. Pruned
 * like delivered ones; astra_outbox_redeliver() sends it after all. No webhooks: nothing stored */
gboolean astra_outbox_add_silenced (AstraOutbox *self,
				    AstraEvent *event,
				    const char *const *webhooks,
				    const char *silence_id,
				    gint64 now_us,
				    GError **error);

/* the names of the webhooks that have pending deliveries (restart recovery), sorted */
GStrv astra_outbox_list_pending_webhooks (AstraOutbox *self, GError **error);

/* records an attempt and moves the delivery to state (next_attempt_us for a pending retry).
 * The delivery's attempts count goes up by one and the attempt is stored with that number (so
 * numbers go on after a redelivery, whatever attempt->attempt says); updated_us becomes the end of
 * the attempt (started_at + latency_us); last_reason becomes reason, or attempt->reason if NULL;
 * last_response a bounded excerpt (ASTRA_OUTBOX_MAX_EXCERPT) of attempt->response_body.
 * ASTRA_ERROR_NOT_FOUND if there is no such delivery. */
gboolean astra_outbox_record_attempt (AstraOutbox *self,
				      gint64 delivery_id,
				      const AstraAttempt *attempt,
				      AstraDeliveryState state,
				      gint64 next_attempt_us,
				      const char *reason,
				      GError **error);
/* a dead (or delivered, skipped or silenced) delivery becomes pending again, due now, its attempts count and
 * attempt rows kept; last_reason becomes "redelivered by request; was: <the last reason>". A pending
 * one just becomes due now. ASTRA_ERROR_NOT_FOUND if there is no such delivery. */
gboolean astra_outbox_redeliver (AstraOutbox *self, gint64 delivery_id, gint64 now_us, GError **error);
/* ASTRA_ERROR_NOT_FOUND if there is no such delivery */
AstraDelivery *astra_outbox_lookup (AstraOutbox *self, gint64 delivery_id, GError **error);

/* history: deliveries by webhook (NULL: any), state (-1: any) and time (updated at or after
 * since_us), newest (by updated_us, then id) first, at most limit; and the attempts of one delivery,
 * oldest first */
GPtrArray *astra_outbox_list (
    AstraOutbox *self, const char *webhook, int state, gint64 since_us, guint limit, GError **error);
GPtrArray *astra_outbox_list_attempts (AstraOutbox *self, gint64 delivery_id, GError **error);

/* the number of deliveries of a webhook (NULL: all) in a state: O(matching rows), not for the hot
 * path; and the creation time of the webhook's (NULL: any webhook's) oldest pending delivery, 0 if
 * none (the lowest id: ids are creation order). Both 0 on error. */
guint astra_outbox_count (AstraOutbox *self, const char *webhook, AstraDeliveryState state, GError **error);
gint64 astra_outbox_oldest_pending (AstraOutbox *self, const char *webhook, GError **error);

/* retention, one batch per call (call again while *n_pruned == max_rows; max_rows 0 means
 * ASTRA_OUTBOX_MAX_LIMIT):
 * - delivered, skipped and silenced deliveries last updated before older_than_us, or before the creation of
 *   the keep_count-th newest delivery (by id, of any state; keep_count 0: no limit by count), so
 *   about the keep_count newest finished ones are kept;
 * - dead letters only by age (before older_than_us): they wait for an admin to redeliver them;
 * - pending deliveries never (the deliverer ends them, by max-age, as dead letters);
 * with their attempts, and the events no delivery refers to any more. *n_pruned (may be NULL) is the
 * number of deliveries removed. */
gboolean astra_outbox_prune (AstraOutbox *self,
			     gint64 older_than_us,
			     guint keep_count,
			     guint max_rows,
			     guint *n_pruned,
			     GError **error);

G_END_DECLS
