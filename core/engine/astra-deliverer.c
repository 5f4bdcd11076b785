/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "astra-deliverer.h"

/* a Retry-After beyond this (30 days) is taken as this: max-age or the schedule ends it anyway */
#define ASTRA_DELIVERER_MAX_RETRY_AFTER_S (30.0 * 24 * 3600)


/* where a delivery held in memory is */
typedef enum {
	ASTRA_DELIVERER_ITEM_WAITING,   /* behind an earlier delivery of its order key */
	ASTRA_DELIVERER_ITEM_READY,     /* first of its key and due: in the ready list */
	ASTRA_DELIVERER_ITEM_RETRY,     /* first of its key, due later: in the retry sequence */
	ASTRA_DELIVERER_ITEM_IN_FLIGHT, /* the start func has it */
} AstraDelivererItemState;

typedef struct _AstraDelivererQueue AstraDelivererQueue;

/* the deliveries of one order key in one queue, in the order they go */
typedef struct {
	char *name;
	GQueue items; /* AstraDelivererItem, linked by key_link */
} AstraDelivererKey;

typedef struct {
	AstraDelivery *delivery; /* mirrors the outbox row */
	AstraEvent *event;       /* NULL until needed when paged in from the outbox */
	AstraDelivererQueue *queue;
	AstraDelivererKey *key;
	GList key_link;
	GList ready_link;
	GSequenceIter *retry_iter;
	AstraDelivererItemState state;
	AstraWebhook *flight_webhook; /* the webhook its attempt in flight was started with */
	guint round_base;             /* attempts made before this round (a redelivery starts one) */
	gint64 round_started_us;      /* max-age counts from here */
	gboolean probe;               /* the half-open circuit's one attempt */
} AstraDelivererItem;

struct _AstraDelivererQueue {
	AstraDeliverer *deliverer; /* not owned: the deliverer owns its queues */
	char *name;
	AstraWebhook *webhook;
	gboolean configured;     /* in the current set; a removed queue lives until its attempts end */
	gboolean config_enabled; /* what the configuration says, whatever GONE did to the object */
	char *gone_reason;       /* the receiver said GONE: nothing starts until enabled again */
	AstraTimer *timer;
	GHashTable *keys;   /* name -> AstraDelivererKey, only keys with a delivery in memory */
	GQueue ready;       /* AstraDelivererItem, linked by ready_link */
	GSequence *retries; /* AstraDelivererItem by (due, id) */
	guint n_in_memory;
	guint n_on_disk;      /* pending with an id above window_max_id: not in memory yet */
	gint64 window_max_id; /* every pending delivery up to here is in memory */
	guint in_flight;
	gint64 paused_until_us;
	/* the rate limit's window: when the last (up to rate_count) attempts started, a ring */
	gint64 *sent_us;
	guint sent_size;
	guint sent_len;
	guint sent_next; /* where the next goes; the oldest once the ring is full */
	AstraCircuitState circuit;
	guint n_failures;   /* consecutive RETRY outcomes while closed */
	gint64 cooldown_us; /* the current (or last) open period */
	gint64 open_until_us;
	gboolean probing;
	guint64 n_delivered;
	guint64 n_dead;
	guint64 n_skipped;
	guint64 n_attempts;
	guint64 n_retries;
};

struct _AstraDeliverer {
	GObject parent_instance;
	AstraClock *clock;
	AstraOutbox *outbox;
	AstraAttemptStartFunc start;
	gpointer user_data;
	GHashTable *queues; /* name -> AstraDelivererQueue, and removed ones until their attempts end */
	GHashTable *items;  /* gint64 * (the delivery's id) -> AstraDelivererItem, every one in memory */
	GCancellable *cancellable; /* given to every attempt; cancelled at the end of a shutdown's grace */
	GRand *rand;
	double jitter;
	guint window;
	guint n_in_flight;
	GPtrArray *names; /* scratch for submit: the webhook names */
	GTask *shutdown_task;
	AstraTimer *shutdown_timer;
	gboolean cancelling;
};

enum {
	SIGNAL_ATTEMPT_FINISHED,
	SIGNAL_DELIVERY_DEAD,
	SIGNAL_CIRCUIT_CHANGED,
	SIGNAL_WEBHOOK_DISABLED,
	SIGNAL_LAST,
};

static guint signals[SIGNAL_LAST];

G_DEFINE_FINAL_TYPE (AstraDeliverer, astra_deliverer, G_TYPE_OBJECT)

/**
 * astra_webhook_status_free:
 * @status: (transfer full) (nullable): a status
 *
 * Frees a webhook's status.
 *
 * Since: 1.0
 */
void
astra_webhook_status_free (AstraWebhookStatus *status)
{
	if (status == NULL)
		return;
	g_free (status->webhook);
	g_free (status->disabled_reason);
	g_free (status);
}

/**
 * astra_circuit_state_to_string:
 * @state: a circuit state
 *
 * Gets the name of a circuit state, for logs, metrics and D-Bus.
 *
 * Returns: `closed`, `open`, `half-open`, or %NULL
 *
 * Since: 1.0
 */
const char *
astra_circuit_state_to_string (AstraCircuitState state)
{
	switch (state) {
	case ASTRA_CIRCUIT_CLOSED:
		return "closed";
	case ASTRA_CIRCUIT_OPEN:
		return "open";
	case ASTRA_CIRCUIT_HALF_OPEN:
		return "half-open";
	default:
		return NULL;
	}
}

/**
 * astra_deliverer_order_key:
 * @event: an event
 *
 * Gets the key that orders the event's deliveries: deliveries with the same
 * key go out one at a time, in the order they were made.
 *
 * Returns: (transfer full): `alert:ALERT_ID` for alert events,
 *   `agent:TENANT/AGENT_ID` for agent events and failed service tests, else
 *   the event's id
 *
 * Since: 1.0
 */
char *
astra_deliverer_order_key (AstraEvent *event)
{
	JsonObject *data = astra_event_get_data (event);
	const char *tenant;
	const char *id;

	switch (astra_event_get_kind (event)) {
	case ASTRA_EVENT_KIND_ALERT_TRIGGERED:
	case ASTRA_EVENT_KIND_ALERT_RESOLVED:
		id =
		    data != NULL ? json_object_get_string_member_with_default (data, "alert_id", NULL) : NULL;
		if (id != NULL)
			return g_strconcat ("alert:", id, NULL);
		break;
	case ASTRA_EVENT_KIND_AGENT_STATUS_CHANGED:
	case ASTRA_EVENT_KIND_AGENT_REGISTERED:
	case ASTRA_EVENT_KIND_SERVICE_TEST_FAILED:
		id =
		    data != NULL ? json_object_get_string_member_with_default (data, "agent_id", NULL) : NULL;
		tenant = astra_event_get_tenant (event);
		if (id != NULL)
			return g_strconcat ("agent:", tenant != NULL ? tenant : "", "/", id, NULL);
		break;
	default:
		break;
	}
	return g_strdup (astra_event_get_id (event));
}

static const AstraDeliveryPolicy *
astra_deliverer_queue_policy (AstraDelivererQueue *queue)
{
	return astra_webhook_get_policy (queue->webhook);
}

/* pending deliveries as the counters know them: those in memory (in flight included) and those on disk */
static guint
astra_deliverer_queue_n_pending (AstraDelivererQueue *queue)
{
	return queue->n_in_memory + queue->n_on_disk;
}

static gint
astra_deliverer_item_compare_due (gconstpointer a, gconstpointer b, gpointer user_data)
{
	const AstraDelivererItem *ia = a;
	const AstraDelivererItem *ib = b;

	if (ia->delivery->next_attempt_us != ib->delivery->next_attempt_us)
		return ia->delivery->next_attempt_us < ib->delivery->next_attempt_us ? -1 : 1;
	if (ia->delivery->id != ib->delivery->id)
		return ia->delivery->id < ib->delivery->id ? -1 : 1;
	return 0;
}

static void
astra_deliverer_item_free (AstraDelivererItem *item)
{
	astra_delivery_free (item->delivery);
	g_clear_object (&item->event);
	g_clear_object (&item->flight_webhook);
	g_free (item);
}

static void
astra_deliverer_key_free (AstraDelivererKey *key)
{
	g_free (key->name);
	g_free (key);
}

/* takes an item off the ready list or the retry sequence */
static void
astra_deliverer_item_unlist (AstraDelivererItem *item)
{
	if (item->state == ASTRA_DELIVERER_ITEM_READY)
		g_queue_unlink (&item->queue->ready, &item->ready_link);
	else if (item->state == ASTRA_DELIVERER_ITEM_RETRY)
		g_clear_pointer (&item->retry_iter, g_sequence_remove);
	item->state = ASTRA_DELIVERER_ITEM_WAITING;
}

/* the item is first of its key (and not in flight): it waits for its time, or is ready */
static void
astra_deliverer_item_make_due (AstraDelivererItem *item, gint64 now, gboolean first)
{
	AstraDelivererQueue *queue = item->queue;

	if (item->delivery->next_attempt_us > now) {
		item->state = ASTRA_DELIVERER_ITEM_RETRY;
		item->retry_iter =
		    g_sequence_insert_sorted (queue->retries, item, astra_deliverer_item_compare_due, NULL);
		return;
	}
	item->state = ASTRA_DELIVERER_ITEM_READY;
	if (first)
		g_queue_push_head_link (&queue->ready, &item->ready_link);
	else
		g_queue_push_tail_link (&queue->ready, &item->ready_link);
}

/* takes ownership of delivery; the item joins its key's line, and the ready list if it leads it */
static AstraDelivererItem *
astra_deliverer_queue_add (AstraDelivererQueue *queue, AstraDelivery *delivery, AstraEvent *event, gint64 now)
{
	AstraDeliverer *self = queue->deliverer;
	AstraDelivererItem *item = g_new0 (AstraDelivererItem, 1);
	AstraDelivererKey *key;
	const char *key_name = delivery->order_key != NULL ? delivery->order_key : delivery->event_id;

	item->delivery = delivery;
	item->event = event != NULL ? g_object_ref (event) : NULL;
	item->queue = queue;
	item->key_link.data = item;
	item->ready_link.data = item;
	item->round_started_us = delivery->created_us;
	key = g_hash_table_lookup (queue->keys, key_name);
	if (key == NULL) {
		key = g_new0 (AstraDelivererKey, 1);
		key->name = g_strdup (key_name);
		g_hash_table_insert (queue->keys, key->name, key);
	}
	item->key = key;
	g_queue_push_tail_link (&key->items, &item->key_link);
	g_hash_table_insert (self->items, &delivery->id, item);
	queue->n_in_memory++;
	if (key->items.length == 1)
		astra_deliverer_item_make_due (item, now, FALSE);
	return item;
}

/* the delivery is done with (or leaves memory): the next of its key may go */
static void
astra_deliverer_item_remove (AstraDelivererItem *item, gint64 now)
{
	AstraDelivererQueue *queue = item->queue;
	AstraDelivererKey *key = item->key;
	gboolean was_first = key->items.head == &item->key_link;

	astra_deliverer_item_unlist (item);
	g_queue_unlink (&key->items, &item->key_link);
	g_hash_table_remove (queue->deliverer->items, &item->delivery->id);
	queue->n_in_memory--;
	if (key->items.length == 0) {
		g_hash_table_remove (queue->keys, key->name);
	} else if (was_first) {
		AstraDelivererItem *next = key->items.head->data;
		if (next->state == ASTRA_DELIVERER_ITEM_WAITING)
			astra_deliverer_item_make_due (next, now, FALSE);
	}
	astra_deliverer_item_free (item);
}

/* the pending deliveries above the window, in id order, while there is room for a good batch */
static void
astra_deliverer_queue_page_in (AstraDelivererQueue *queue, gint64 now)
{
	AstraDeliverer *self = queue->deliverer;
	g_autoptr(GPtrArray) rows = NULL;
	g_autoptr(GError) error_local = NULL;
	g_autofree AstraDelivery **deliveries = NULL;
	guint n_rows;
	guint room;

	if (queue->n_on_disk == 0 || queue->n_in_memory >= self->window)
		return;
	room = self->window - queue->n_in_memory;
	/* one query per quarter window, not one per delivery */
	if (queue->n_in_memory > 0 && room < MAX (self->window / 4, 1))
		return;
	rows =
	    astra_outbox_load_pending (self->outbox, queue->name, queue->window_max_id, room, &error_local);
	if (rows == NULL) {
		g_warning ("webhook %s: cannot read its pending deliveries: %s", queue->name,
			   error_local->message);
		return;
	}
	n_rows = rows->len;
	deliveries = (AstraDelivery **) g_ptr_array_steal (rows, NULL);
	for (guint i = 0; i < n_rows; i++) {
		AstraDelivery *delivery = deliveries[i];

		queue->window_max_id = MAX (queue->window_max_id, delivery->id);
		/* a redelivery queued in memory while it was above the window */
		if (g_hash_table_contains (self->items, &delivery->id)) {
			astra_delivery_free (delivery);
			continue;
		}
		astra_deliverer_queue_add (queue, delivery, NULL, now);
		queue->n_on_disk--;
	}
	/* the outbox has fewer than we counted: trust the outbox */
	if (n_rows < room && queue->n_on_disk > 0) {
		g_debug ("webhook %s: %u pending deliveries were not in the outbox", queue->name,
			 queue->n_on_disk);
		queue->n_on_disk = 0;
	}
}

/* what the outbox holds for the queue's webhook: when the queue is made */
static void
astra_deliverer_queue_sync (AstraDelivererQueue *queue)
{
	AstraDeliverer *self = queue->deliverer;
	g_autoptr(GError) error_local = NULL;
	guint n_pending =
	    astra_outbox_count (self->outbox, queue->name, ASTRA_DELIVERY_STATE_PENDING, &error_local);

	if (error_local != NULL) {
		g_warning ("webhook %s: cannot count its pending deliveries: %s", queue->name,
			   error_local->message);
		return;
	}
	if (n_pending == 0)
		return;
	queue->n_on_disk += n_pending;
	astra_deliverer_queue_page_in (queue, astra_clock_now (self->clock));
	g_message ("webhook %s: %u pending %s from the outbox", queue->name, n_pending,
		   n_pending == 1 ? "delivery" : "deliveries");
}

static gboolean
astra_deliverer_queue_is_running (AstraDelivererQueue *queue)
{
	return queue->configured && queue->config_enabled && queue->gone_reason == NULL &&
	       queue->deliverer->shutdown_task == NULL;
}

/* work may start now: the queue runs at the next dispatch of the clock, never in the caller */
static void
astra_deliverer_queue_kick (AstraDelivererQueue *queue)
{
	gint64 now = astra_clock_now (queue->deliverer->clock);

	if (!astra_timer_is_scheduled (queue->timer) || astra_timer_get_deadline (queue->timer) > now)
		astra_timer_schedule (queue->timer, now);
}

static void
astra_deliverer_queue_set_circuit (AstraDelivererQueue *queue, AstraCircuitState state)
{
	if (queue->circuit == state)
		return;
	queue->circuit = state;
	g_signal_emit (queue->deliverer, signals[SIGNAL_CIRCUIT_CHANGED], 0, queue->name, (guint) state);
}

/* the receiver answered: the breaker closes */
static void
astra_deliverer_breaker_success (AstraDelivererQueue *queue)
{
	queue->n_failures = 0;
	queue->probing = FALSE;
	if (queue->circuit == ASTRA_CIRCUIT_CLOSED)
		return;
	g_message ("webhook %s: circuit closed, the receiver answers again", queue->name);
	queue->cooldown_us = 0;
	astra_deliverer_queue_set_circuit (queue, ASTRA_CIRCUIT_CLOSED);
}

static void
astra_deliverer_breaker_open (AstraDelivererQueue *queue, gint64 now, gint64 cooldown_us)
{
	queue->cooldown_us = cooldown_us;
	queue->open_until_us = now + cooldown_us;
	queue->probing = FALSE;
	astra_deliverer_queue_set_circuit (queue, ASTRA_CIRCUIT_OPEN);
}

/* a RETRY outcome: counts while closed; the half-open circuit's probe opens it again for longer */
static void
astra_deliverer_breaker_failure (AstraDelivererQueue *queue, gboolean probe, gint64 now)
{
	const AstraDeliveryPolicy *policy = astra_deliverer_queue_policy (queue);

	if (probe && queue->circuit == ASTRA_CIRCUIT_HALF_OPEN) {
		gint64 cap = MAX (ASTRA_DELIVERER_MAX_COOLDOWN_US, policy->breaker_cooldown_us);
		gint64 cooldown = MIN (MAX (queue->cooldown_us, policy->breaker_cooldown_us) * 2, cap);

		astra_deliverer_breaker_open (queue, now, cooldown);
		g_warning ("webhook %s: circuit open again, the probe failed; next probe in %" G_GINT64_FORMAT
			   " s",
			   queue->name, cooldown / G_USEC_PER_SEC);
		return;
	}
	if (queue->circuit != ASTRA_CIRCUIT_CLOSED || policy->breaker_failures == 0)
		return;
	if (++queue->n_failures < policy->breaker_failures)
		return;
	astra_deliverer_breaker_open (queue, now, policy->breaker_cooldown_us);
	g_warning ("webhook %s: circuit open after %u failures in a row; probing in %" G_GINT64_FORMAT " s",
		   queue->name, queue->n_failures, policy->breaker_cooldown_us / G_USEC_PER_SEC);
}

/*
 * The rate limit is a sliding window, "at most rate_count attempts in any
 * rate_period_us", which is what the destinations document: a token bucket
 * that allows bursts of N at N per period lets 2N through the first period.
 */

/* keeps the most recent attempts that fit a window of size (a reload may change it) */
static void
astra_deliverer_rate_resize (AstraDelivererQueue *queue, guint size)
{
	gint64 *sent = size > 0 ? g_new (gint64, size) : NULL;
	guint keep = MIN (queue->sent_len, size);
	guint oldest = queue->sent_len < queue->sent_size ? 0 : queue->sent_next;

	for (guint i = 0; i < keep; i++)
		sent[i] = queue->sent_us[(oldest + queue->sent_len - keep + i) % queue->sent_size];
	g_free (queue->sent_us);
	queue->sent_us = sent;
	queue->sent_size = size;
	queue->sent_len = keep;
	queue->sent_next = size > 0 ? keep % size : 0;
}

/* when the next attempt may start: once the oldest of the last rate_count has left the window */
static gint64
astra_deliverer_rate_next_at (AstraDelivererQueue *queue, const AstraDeliveryPolicy *policy)
{
	if (policy->rate_count == 0 || queue->sent_len < queue->sent_size)
		return G_MININT64;
	return queue->sent_us[queue->sent_next] + policy->rate_period_us;
}

static void
astra_deliverer_rate_record (AstraDelivererQueue *queue, gint64 now)
{
	queue->sent_us[queue->sent_next] = now;
	queue->sent_next = (queue->sent_next + 1) % queue->sent_size;
	queue->sent_len = MIN (queue->sent_len + 1, queue->sent_size);
}

static void astra_deliverer_done_cb (AstraAttempt *attempt, gpointer done_data);
static void astra_deliverer_item_finish (AstraDelivererItem *item, const AstraAttempt *attempt, gint64 now);

static void
astra_deliverer_item_start (AstraDelivererItem *item)
{
	AstraDelivererQueue *queue = item->queue;
	AstraDeliverer *self = queue->deliverer;

	/* a delivery paged in from the outbox: its event is loaded when it is first needed */
	if (item->event == NULL) {
		g_autoptr(GError) error_local = NULL;

		item->event = astra_outbox_load_event (self->outbox, item->delivery->event_id, &error_local);
		if (item->event == NULL) {
			g_autofree char *reason =
			    g_strdup_printf ("the event cannot be loaded: %s", error_local->message);
			AstraAttempt attempt = {
				.outcome = ASTRA_OUTCOME_FAILED,
				.attempt = item->delivery->attempts + 1,
				.started_at = astra_clock_now (self->clock),
				.retry_after = -1,
				.reason = reason,
			};
			astra_deliverer_item_finish (item, &attempt, attempt.started_at);
			return;
		}
	}
	item->state = ASTRA_DELIVERER_ITEM_IN_FLIGHT;
	item->flight_webhook = g_object_ref (queue->webhook);
	queue->in_flight++;
	queue->n_attempts++;
	self->n_in_flight++;
	/* an attempt in flight keeps the deliverer, its queue and its item alive */
	g_object_ref (self);
	self->start (item->flight_webhook, item->event, item->delivery->attempts + 1, self->cancellable,
		     astra_deliverer_done_cb, item, self->user_data);
}

/* the next wake-up: a retry coming due, the end of a pause or of the breaker's cooldown, a token */
static void
astra_deliverer_queue_rearm (AstraDelivererQueue *queue, gint64 now)
{
	const AstraDeliveryPolicy *policy = astra_deliverer_queue_policy (queue);
	gint64 wake = G_MAXINT64;
	gint64 blocked_until = 0;

	if (!astra_deliverer_queue_is_running (queue)) {
		astra_timer_cancel (queue->timer);
		return;
	}
	if (queue->paused_until_us > now)
		blocked_until = queue->paused_until_us;
	if (queue->circuit == ASTRA_CIRCUIT_OPEN)
		blocked_until = MAX (blocked_until, queue->open_until_us);
	if (blocked_until > now) {
		wake = blocked_until;
	} else {
		if (!g_sequence_is_empty (queue->retries)) {
			AstraDelivererItem *first =
			    g_sequence_get (g_sequence_get_begin_iter (queue->retries));
			wake = first->delivery->next_attempt_us;
		}
		if (queue->ready.length > 0 && queue->in_flight < MAX (policy->max_in_flight, 1) &&
		    !queue->probing && astra_deliverer_rate_next_at (queue, policy) > now)
			wake = MIN (wake, astra_deliverer_rate_next_at (queue, policy));
	}
	if (wake == G_MAXINT64) {
		astra_timer_cancel (queue->timer);
		return;
	}
	if (!astra_timer_is_scheduled (queue->timer) || astra_timer_get_deadline (queue->timer) != wake)
		astra_timer_schedule (queue->timer, wake);
}

/* starts what may start now */
static void
astra_deliverer_queue_pump (AstraDelivererQueue *queue)
{
	AstraDeliverer *self = queue->deliverer;
	const AstraDeliveryPolicy *policy;
	gint64 now = astra_clock_now (self->clock);
	guint max_in_flight;

	if (!astra_deliverer_queue_is_running (queue)) {
		astra_timer_cancel (queue->timer);
		return;
	}
	policy = astra_deliverer_queue_policy (queue);
	max_in_flight = MAX (policy->max_in_flight, 1);
	astra_deliverer_queue_page_in (queue, now);

	/* retries that came due join the ready list */
	while (!g_sequence_is_empty (queue->retries)) {
		GSequenceIter *iter = g_sequence_get_begin_iter (queue->retries);
		AstraDelivererItem *item = g_sequence_get (iter);

		if (item->delivery->next_attempt_us > now)
			break;
		astra_deliverer_item_unlist (item);
		astra_deliverer_item_make_due (item, now, FALSE);
	}

	if (queue->circuit == ASTRA_CIRCUIT_OPEN && now >= queue->open_until_us) {
		g_message ("webhook %s: circuit half-open, one probe attempt may go", queue->name);
		queue->probing = FALSE;
		astra_deliverer_queue_set_circuit (queue, ASTRA_CIRCUIT_HALF_OPEN);
	}

	while (queue->ready.length > 0 && queue->in_flight < max_in_flight && queue->paused_until_us <= now &&
	       queue->circuit != ASTRA_CIRCUIT_OPEN && !queue->probing &&
	       astra_deliverer_queue_is_running (queue)) {
		AstraDelivererItem *item;

		if (policy->rate_count > 0) {
			if (astra_deliverer_rate_next_at (queue, policy) > now)
				break;
			astra_deliverer_rate_record (queue, now);
		}
		item = g_queue_pop_head_link (&queue->ready)->data;
		item->state = ASTRA_DELIVERER_ITEM_WAITING;
		if (queue->circuit == ASTRA_CIRCUIT_HALF_OPEN) {
			item->probe = TRUE;
			queue->probing = TRUE;
		}
		astra_deliverer_item_start (item);
	}
	astra_deliverer_queue_rearm (queue, now);
}

static void
astra_deliverer_queue_timer_cb (AstraTimer *timer, gpointer user_data)
{
	astra_deliverer_queue_pump (user_data);
}

static AstraDelivererQueue *
astra_deliverer_queue_new (AstraDeliverer *self, AstraWebhook *webhook)
{
	AstraDelivererQueue *queue = g_new0 (AstraDelivererQueue, 1);
	const AstraDeliveryPolicy *policy = astra_webhook_get_policy (webhook);

	queue->deliverer = self;
	queue->name = g_strdup (astra_webhook_get_name (webhook));
	queue->webhook = g_object_ref (webhook);
	queue->configured = TRUE;
	queue->config_enabled = astra_webhook_get_enabled (webhook);
	queue->timer = astra_timer_new (self->clock, astra_deliverer_queue_timer_cb, queue);
	queue->keys =
	    g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) astra_deliverer_key_free);
	queue->retries = g_sequence_new (NULL);
	astra_deliverer_rate_resize (queue, policy->rate_count);
	queue->circuit = ASTRA_CIRCUIT_CLOSED;
	return queue;
}

static void
astra_deliverer_queue_free (AstraDelivererQueue *queue)
{
	GHashTableIter iter;
	AstraDelivererKey *key;

	/* the items leave memory; what they stand for stays in the outbox */
	g_hash_table_iter_init (&iter, queue->keys);
	while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &key)) {
		GList *link;
		/* the links are the items' own: never g_queue_pop_head(), which frees them */
		while ((link = g_queue_pop_head_link (&key->items)) != NULL) {
			AstraDelivererItem *item = link->data;
			g_hash_table_remove (queue->deliverer->items, &item->delivery->id);
			astra_deliverer_item_free (item);
		}
	}
	astra_timer_free (queue->timer);
	g_hash_table_unref (queue->keys);
	g_sequence_free (queue->retries);
	g_object_unref (queue->webhook);
	g_free (queue->sent_us);
	g_free (queue->gone_reason);
	g_free (queue->name);
	g_free (queue);
}

static AstraDelivererQueue *
astra_deliverer_lookup_configured (AstraDeliverer *self, const char *name)
{
	AstraDelivererQueue *queue = g_hash_table_lookup (self->queues, name);

	return queue != NULL && queue->configured ? queue : NULL;
}

static char *
astra_deliverer_describe_attempt (const AstraAttempt *attempt)
{
	if (attempt->status > 0 && attempt->reason != NULL)
		return g_strdup_printf ("HTTP %u: %s", attempt->status, attempt->reason);
	if (attempt->status > 0)
		return g_strdup_printf ("HTTP %u", attempt->status);
	return g_strdup (attempt->reason != NULL ? attempt->reason : "no response");
}

/* the receiver said the webhook is gone: stop, keep everything pending */
static void
astra_deliverer_queue_disable (AstraDelivererQueue *queue, const AstraAttempt *attempt)
{
	g_autofree char *reason = NULL;
	g_autofree char *what = NULL;

	if (queue->gone_reason != NULL)
		return;
	what = astra_deliverer_describe_attempt (attempt);
	reason = g_strdup_printf ("the receiver says the webhook is gone (%s)", what);
	queue->gone_reason = g_strdup (reason);
	astra_webhook_disable (queue->webhook, reason);
	g_warning ("webhook %s DISABLED: %s; its %u pending %s are kept and go out when it is enabled again "
		   "(fix or remove it and reload the configuration, or enable it over D-Bus)",
		   queue->name, reason, astra_deliverer_queue_n_pending (queue),
		   astra_deliverer_queue_n_pending (queue) == 1 ? "delivery" : "deliveries");
	g_signal_emit (queue->deliverer, signals[SIGNAL_WEBHOOK_DISABLED], 0, queue->name, reason);
}

static void
astra_deliverer_record (AstraDelivererItem *item,
			const AstraAttempt *attempt,
			AstraDeliveryState state,
			const char *reason)
{
	AstraDeliverer *self = item->queue->deliverer;
	AstraDelivery *delivery = item->delivery;
	g_autoptr(GError) error_local = NULL;

	/* the mirror of the row, for the signals */
	delivery->state = state;
	delivery->attempts++;
	delivery->updated_us = attempt->started_at + attempt->latency_us;
	delivery->last_status = attempt->status;
	delivery->last_latency_us = attempt->latency_us;
	if (delivery->last_reason != reason) {
		g_free (delivery->last_reason);
		delivery->last_reason = g_strdup (reason);
	}
	if (!astra_outbox_record_attempt (self->outbox, delivery->id, attempt, state,
					  delivery->next_attempt_us, reason, &error_local))
		g_warning ("webhook %s: cannot record attempt %u of delivery %" G_GINT64_FORMAT ": %s",
			   item->queue->name, attempt->attempt, delivery->id, error_local->message);
	g_signal_emit (self, signals[SIGNAL_ATTEMPT_FINISHED], 0, item->queue->name, delivery, attempt);
}

/* the delivery is over for good: delivered, skipped or dead */
static void
astra_deliverer_item_close (AstraDelivererItem *item,
			    const AstraAttempt *attempt,
			    AstraDeliveryState state,
			    const char *reason,
			    gint64 now)
{
	AstraDelivererQueue *queue = item->queue;

	astra_deliverer_record (item, attempt, state, reason);
	if (state == ASTRA_DELIVERY_STATE_DELIVERED)
		queue->n_delivered++;
	else if (state == ASTRA_DELIVERY_STATE_SKIPPED)
		queue->n_skipped++;
	else if (state == ASTRA_DELIVERY_STATE_DEAD) {
		AstraDelivery *delivery = item->delivery;

		queue->n_dead++;
		g_warning ("webhook %s: %s %s (delivery %" G_GINT64_FORMAT ") is a dead letter: %s",
			   queue->name, delivery->event_type != NULL ? delivery->event_type : "event",
			   delivery->event_id, delivery->id, reason);
		g_signal_emit (queue->deliverer, signals[SIGNAL_DELIVERY_DEAD], 0, queue->name, delivery);
	}
	astra_deliverer_item_remove (item, now);
}

/* what an attempt came to: recorded, counted, and the delivery's next step */
static void
astra_deliverer_item_finish (AstraDelivererItem *item, const AstraAttempt *attempt, gint64 now)
{
	AstraDelivererQueue *queue = item->queue;
	AstraDeliverer *self = queue->deliverer;
	AstraDelivery *delivery = item->delivery;
	const AstraDeliveryPolicy *policy = astra_deliverer_queue_policy (queue);
	gboolean probe = item->probe;
	GArray *schedule;
	gint64 wait;
	guint n;

	item->probe = FALSE;
	if (probe)
		queue->probing = FALSE;

	if (attempt->outcome == ASTRA_OUTCOME_DELIVERED) {
		if (!attempt->skipped)
			astra_deliverer_breaker_success (queue);
		astra_deliverer_item_close (item, attempt,
					    attempt->skipped ? ASTRA_DELIVERY_STATE_SKIPPED
							     : ASTRA_DELIVERY_STATE_DELIVERED,
					    attempt->reason, now);
		return;
	}
	if (attempt->outcome == ASTRA_OUTCOME_FAILED) {
		g_autofree char *what = astra_deliverer_describe_attempt (attempt);
		g_autofree char *reason = g_strdup_printf ("failed for good: %s", what);

		/* an answer, however unwelcome, says the receiver is there */
		if (attempt->status > 0)
			astra_deliverer_breaker_success (queue);
		astra_deliverer_item_close (item, attempt, ASTRA_DELIVERY_STATE_DEAD, reason, now);
		return;
	}
	/* GONE keeps the delivery pending while the webhook is disabled; a RETRY cut short by the
	 * shutdown costs nothing. Either way it goes first when its queue flows again */
	if (attempt->outcome == ASTRA_OUTCOME_GONE || self->cancelling) {
		if (attempt->outcome == ASTRA_OUTCOME_GONE)
			astra_deliverer_queue_disable (queue, attempt);
		delivery->next_attempt_us = now;
		astra_deliverer_record (item, attempt, ASTRA_DELIVERY_STATE_PENDING, attempt->reason);
		astra_deliverer_item_make_due (item, now, TRUE);
		return;
	}

	/* RETRY, and transport errors: the next attempt of the schedule, or a dead letter */
	n = delivery->attempts + 1 - item->round_base; /* attempts in this round, this one included */
	schedule = policy->retry_schedule_us;
	/* a receiver that says when to come back is obeyed by the pause; the breaker is for the silent */
	if (attempt->retry_after < 0)
		astra_deliverer_breaker_failure (queue, probe, now);
	if (n > schedule->len) {
		g_autofree char *what = astra_deliverer_describe_attempt (attempt);
		g_autofree char *reason =
		    g_strdup_printf ("gave up after %u %s: %s", n, n == 1 ? "attempt" : "attempts", what);
		astra_deliverer_item_close (item, attempt, ASTRA_DELIVERY_STATE_DEAD, reason, now);
		return;
	}
	if (attempt->retry_after >= 0) {
		wait = (gint64) (MIN (attempt->retry_after, ASTRA_DELIVERER_MAX_RETRY_AFTER_S) * G_USEC_PER_SEC);
	} else {
		gint64 base = g_array_index (schedule, gint64, n - 1);
		double factor =
		    self->jitter > 0 ? g_rand_double_range (self->rand, -self->jitter, self->jitter) : 0.0;
		wait = base + (gint64) ((double) base * factor);
	}
	wait = MAX (wait, 0);
	if (policy->max_age_us > 0 && now + wait > item->round_started_us + policy->max_age_us) {
		g_autofree char *what = astra_deliverer_describe_attempt (attempt);
		g_autofree char *reason =
		    g_strdup_printf ("older than max-age (%" G_GINT64_FORMAT " s) after %u %s: %s",
				     policy->max_age_us / G_USEC_PER_SEC, n, n == 1 ? "attempt" : "attempts", what);
		astra_deliverer_item_close (item, attempt, ASTRA_DELIVERY_STATE_DEAD, reason, now);
		return;
	}
	delivery->next_attempt_us = now + wait;
	queue->n_retries++;
	astra_deliverer_record (item, attempt, ASTRA_DELIVERY_STATE_PENDING, attempt->reason);
	/* the receiver's word holds for the whole webhook, not just this delivery */
	if (attempt->retry_after >= 0 && delivery->next_attempt_us > queue->paused_until_us) {
		queue->paused_until_us = delivery->next_attempt_us;
		g_message ("webhook %s: the receiver asked for a pause of %.3f s; nothing goes until then",
			   queue->name, attempt->retry_after);
	}
	astra_deliverer_item_make_due (item, now, FALSE);
}

static void
astra_deliverer_shutdown_check (AstraDeliverer *self)
{
	g_autoptr(GTask) task = NULL;

	if (self->shutdown_task == NULL || self->n_in_flight > 0)
		return;
	g_clear_pointer (&self->shutdown_timer, astra_timer_free);
	task = g_steal_pointer (&self->shutdown_task);
	g_task_return_boolean (task, TRUE);
}

static void
astra_deliverer_done_cb (AstraAttempt *attempt, gpointer done_data)
{
	AstraDelivererItem *item = done_data;
	AstraDelivererQueue *queue = item->queue;
	g_autoptr(AstraDeliverer) self = queue->deliverer; /* the reference the attempt held */
	gint64 now = astra_clock_now (self->clock);

	g_return_if_fail (item->state == ASTRA_DELIVERER_ITEM_IN_FLIGHT);

	item->state = ASTRA_DELIVERER_ITEM_WAITING;
	g_clear_object (&item->flight_webhook);
	queue->in_flight--;
	self->n_in_flight--;
	astra_deliverer_item_finish (item, attempt, now);

	/* a removed webhook's queue goes with its last attempt */
	if (!queue->configured && queue->in_flight == 0)
		g_hash_table_remove (self->queues, queue->name);
	else
		astra_deliverer_queue_pump (queue);
	astra_deliverer_shutdown_check (self);
}

static void
astra_deliverer_dispose (GObject *object)
{
	AstraDeliverer *self = ASTRA_DELIVERER (object);

	g_clear_pointer (&self->shutdown_timer, astra_timer_free);
	if (self->queues != NULL)
		g_hash_table_remove_all (self->queues);
	G_OBJECT_CLASS (astra_deliverer_parent_class)->dispose (object);
}

static void
astra_deliverer_finalize (GObject *object)
{
	AstraDeliverer *self = ASTRA_DELIVERER (object);

	g_hash_table_unref (self->queues);
	g_hash_table_unref (self->items);
	g_object_unref (self->cancellable);
	g_rand_free (self->rand);
	g_ptr_array_unref (self->names);
	g_clear_object (&self->outbox);
	g_clear_object (&self->clock);
	G_OBJECT_CLASS (astra_deliverer_parent_class)->finalize (object);
}

static void
astra_deliverer_class_init (AstraDelivererClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS (klass);

	object_class->dispose = astra_deliverer_dispose;
	object_class->finalize = astra_deliverer_finalize;

	/**
	 * AstraDeliverer::attempt-finished:
	 * @self: the deliverer
	 * @webhook: the webhook's name
	 * @delivery: (type gpointer): the AstraDelivery after the attempt, valid during the emission
	 * @attempt: the attempt
	 *
	 * Emitted after every attempt is recorded.
	 */
	signals[SIGNAL_ATTEMPT_FINISHED] =
	    g_signal_new ("attempt-finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
			  NULL, G_TYPE_NONE, 3, G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE, G_TYPE_POINTER,
			  ASTRA_TYPE_ATTEMPT | G_SIGNAL_TYPE_STATIC_SCOPE);
	/**
	 * AstraDeliverer::delivery-dead:
	 * @self: the deliverer
	 * @webhook: the webhook's name
	 * @delivery: (type gpointer): the AstraDelivery, valid during the emission
	 *
	 * Emitted when a delivery becomes a dead letter.
	 */
	signals[SIGNAL_DELIVERY_DEAD] =
	    g_signal_new ("delivery-dead", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
			  G_TYPE_NONE, 2, G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE, G_TYPE_POINTER);
	/**
	 * AstraDeliverer::circuit-changed:
	 * @self: the deliverer
	 * @webhook: the webhook's name
	 * @state: the new #AstraCircuitState
	 *
	 * Emitted when a webhook's circuit breaker changes state.
	 */
	signals[SIGNAL_CIRCUIT_CHANGED] =
	    g_signal_new ("circuit-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
			  NULL, G_TYPE_NONE, 2, G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE, G_TYPE_UINT);
	/**
	 * AstraDeliverer::webhook-disabled:
	 * @self: the deliverer
	 * @webhook: the webhook's name
	 * @reason: why
	 *
	 * Emitted when a receiver's answer disables its webhook.
	 */
	signals[SIGNAL_WEBHOOK_DISABLED] =
	    g_signal_new ("webhook-disabled", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
			  NULL, G_TYPE_NONE, 2, G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE,
			  G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
astra_deliverer_init (AstraDeliverer *self)
{
	self->queues = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
					      (GDestroyNotify) astra_deliverer_queue_free);
	self->items = g_hash_table_new (g_int64_hash, g_int64_equal);
	self->cancellable = g_cancellable_new ();
	self->rand = g_rand_new ();
	self->jitter = ASTRA_DELIVERER_DEFAULT_JITTER;
	self->window = ASTRA_DELIVERER_DEFAULT_WINDOW;
	self->names = g_ptr_array_new ();
}

/**
 * astra_deliverer_new:
 * @clock: the clock every wait is measured on
 * @outbox: the outbox deliveries live in
 * @start: makes one attempt
 * @user_data: for @start
 *
 * Creates a deliverer. Give it its webhooks with
 * astra_deliverer_set_webhooks(), then call astra_deliverer_recover().
 *
 * Returns: (transfer full): a new #AstraDeliverer
 *
 * Since: 1.0
 */
AstraDeliverer *
astra_deliverer_new (AstraClock *clock, AstraOutbox *outbox, AstraAttemptStartFunc start, gpointer user_data)
{
	AstraDeliverer *self;

	g_return_val_if_fail (ASTRA_IS_CLOCK (clock), NULL);
	g_return_val_if_fail (ASTRA_IS_OUTBOX (outbox), NULL);
	g_return_val_if_fail (start != NULL, NULL);

	self = g_object_new (ASTRA_TYPE_DELIVERER, NULL);
	self->clock = g_object_ref (clock);
	self->outbox = g_object_ref (outbox);
	self->start = start;
	self->user_data = user_data;
	return self;
}

/**
 * astra_deliverer_set_webhooks:
 * @self: a deliverer
 * @webhooks: (element-type AstraWebhook): the configured webhooks
 *
 * Sets the webhooks to deliver to. A queue is kept by its webhook's name
 * across reloads, with its state, counters and window, and uses the new
 * webhook and its policy from then on; a webhook a GONE answer disabled is
 * enabled again if the new one of that name is enabled. A new name gets a
 * queue with what the outbox holds for it; a name that is gone stops, its
 * pending deliveries staying in the outbox.
 *
 * Since: 1.0
 */
void
astra_deliverer_set_webhooks (AstraDeliverer *self, GPtrArray *webhooks)
{
	g_autoptr(GHashTable) names = g_hash_table_new (g_str_hash, g_str_equal);
	g_autoptr(GPtrArray) removed = g_ptr_array_new ();
	GHashTableIter iter;
	AstraDelivererQueue *queue;

	g_return_if_fail (ASTRA_IS_DELIVERER (self));
	g_return_if_fail (webhooks != NULL);

	for (guint i = 0; i < webhooks->len; i++) {
		AstraWebhook *webhook = g_ptr_array_index (webhooks, i);
		const char *name = astra_webhook_get_name (webhook);
		const AstraDeliveryPolicy *policy = astra_webhook_get_policy (webhook);

		g_hash_table_add (names, (gpointer) name);
		queue = g_hash_table_lookup (self->queues, name);
		if (queue == NULL) {
			queue = astra_deliverer_queue_new (self, webhook);
			g_hash_table_insert (self->queues, queue->name, queue);
			astra_deliverer_queue_sync (queue);
		} else if (queue->webhook != webhook) {
			g_set_object (&queue->webhook, webhook);
			queue->config_enabled = astra_webhook_get_enabled (webhook);
			if (queue->config_enabled && queue->gone_reason != NULL) {
				g_message ("webhook %s: enabled again by the new configuration", name);
				g_clear_pointer (&queue->gone_reason, g_free);
			}
			astra_deliverer_rate_resize (queue, policy->rate_count);
		}
		queue->configured = TRUE;
		astra_deliverer_queue_kick (queue);
	}

	g_hash_table_iter_init (&iter, self->queues);
	while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &queue)) {
		guint n_pending;

		if (g_hash_table_contains (names, queue->name) || !queue->configured)
			continue;
		n_pending = astra_deliverer_queue_n_pending (queue);
		if (n_pending > 0)
			g_message ("webhook %s is no longer configured: its %u pending %s in the outbox",
				   queue->name, n_pending, n_pending == 1 ? "delivery stays" : "deliveries stay");
		queue->configured = FALSE;
		astra_timer_cancel (queue->timer);
		/* one with attempts in flight goes when the last one ends */
		if (queue->in_flight == 0)
			g_ptr_array_add (removed, queue);
	}
	for (guint i = 0; i < removed->len; i++)
		g_hash_table_remove (self->queues,
				     ((AstraDelivererQueue *) g_ptr_array_index (removed, i))->name);
}

/**
 * astra_deliverer_recover:
 * @self: a deliverer
 * @error: return location for a #GError, or %NULL
 *
 * Queues again what the outbox holds pending, after a start: the queues of
 * configured webhooks have read theirs when they were made; the pending
 * deliveries of webhooks that are not configured are logged and stay in the
 * outbox.
 *
 * Returns: %TRUE, or %FALSE if the outbox cannot be read
 *
 * Since: 1.0
 */
gboolean
astra_deliverer_recover (AstraDeliverer *self, GError **error)
{
	g_auto(GStrv) names = NULL;

	g_return_val_if_fail (ASTRA_IS_DELIVERER (self), FALSE);

	names = astra_outbox_list_pending_webhooks (self->outbox, error);
	if (names == NULL) {
		g_prefix_error (error, "recovering deliveries: ");
		return FALSE;
	}
	for (guint i = 0; names[i] != NULL; i++) {
		AstraDelivererQueue *queue = astra_deliverer_lookup_configured (self, names[i]);
		g_autoptr(GError) error_local = NULL;
		guint n;

		if (queue != NULL) {
			astra_deliverer_queue_kick (queue);
			continue;
		}
		n = astra_outbox_count (self->outbox, names[i], ASTRA_DELIVERY_STATE_PENDING, &error_local);
		if (error_local != NULL) {
			g_propagate_prefixed_error (error, g_steal_pointer (&error_local),
						    "recovering deliveries: ");
			return FALSE;
		}
		g_message ("webhook %s is not configured: its %u pending %s in the outbox", names[i], n,
			   n == 1 ? "delivery stays" : "deliveries stay");
	}
	return TRUE;
}

/**
 * astra_deliverer_submit:
 * @self: a deliverer
 * @event: the event
 * @order_key: (nullable): the key its deliveries are ordered by, or %NULL
 *   for astra_deliverer_order_key()
 * @webhooks: (element-type AstraWebhook): the webhooks to deliver it to
 * @error: return location for a #GError, or %NULL
 *
 * Makes one delivery of @event per webhook, durable in the outbox's
 * transaction. Attempts start from the clock's next dispatch, never from
 * here: flush the state database before telling anyone the event is safe.
 *
 * Returns: %TRUE, or %FALSE if the outbox could not store them
 *
 * Since: 1.0
 */
gboolean
astra_deliverer_submit (
    AstraDeliverer *self, AstraEvent *event, const char *order_key, GPtrArray *webhooks, GError **error)
{
	g_autoptr(GPtrArray) out = NULL;
	g_autofree char *key_owned = NULL;
	g_autofree AstraDelivery **deliveries = NULL;
	guint n_out;
	gint64 now;

	g_return_val_if_fail (ASTRA_IS_DELIVERER (self), FALSE);
	g_return_val_if_fail (ASTRA_IS_EVENT (event), FALSE);
	g_return_val_if_fail (webhooks != NULL, FALSE);

	if (webhooks->len == 0)
		return TRUE;
	if (order_key == NULL)
		order_key = key_owned = astra_deliverer_order_key (event);
	g_ptr_array_set_size (self->names, 0);
	for (guint i = 0; i < webhooks->len; i++)
		g_ptr_array_add (self->names,
				 (gpointer) astra_webhook_get_name (g_ptr_array_index (webhooks, i)));
	g_ptr_array_add (self->names, NULL);

	now = astra_clock_now (self->clock);
	out = g_ptr_array_new_with_free_func ((GDestroyNotify) astra_delivery_free);
	if (!astra_outbox_add (self->outbox, event, order_key, (const char *const *) self->names->pdata, now,
			       out, error))
		return FALSE;
	n_out = out->len;
	deliveries = (AstraDelivery **) g_ptr_array_steal (out, NULL);
	for (guint i = 0; i < n_out; i++) {
		AstraDelivery *delivery = deliveries[i];
		AstraDelivererQueue *queue = astra_deliverer_lookup_configured (self, delivery->webhook);

		if (queue == NULL) {
			astra_delivery_free (delivery);
			continue;
		}
		/* beyond the window (or behind deliveries already there) it waits in the outbox */
		if (queue->n_on_disk > 0 || queue->n_in_memory >= self->window) {
			queue->n_on_disk++;
			astra_delivery_free (delivery);
			continue;
		}
		queue->window_max_id = MAX (queue->window_max_id, delivery->id);
		astra_deliverer_queue_add (queue, delivery, event, now);
		astra_deliverer_queue_kick (queue);
	}
	return TRUE;
}

/**
 * astra_deliverer_redeliver:
 * @self: a deliverer
 * @delivery_id: the delivery's id
 * @error: return location for a #GError, or %NULL
 *
 * Sends a delivery again, now, whatever its state: a dead letter starts a
 * new round of attempts; a pending one waiting for a retry is made due now;
 * one in flight is left alone. It goes out only if its webhook is
 * configured; otherwise it stays pending in the outbox.
 *
 * Returns: %TRUE, or %FALSE if there is no such delivery or the outbox
 *   failed
 *
 * Since: 1.0
 */
gboolean
astra_deliverer_redeliver (AstraDeliverer *self, gint64 delivery_id, GError **error)
{
	g_autoptr(AstraDelivery) delivery = NULL;
	AstraDelivererItem *item;
	AstraDelivererQueue *queue;
	gint64 now;

	g_return_val_if_fail (ASTRA_IS_DELIVERER (self), FALSE);

	now = astra_clock_now (self->clock);
	item = g_hash_table_lookup (self->items, &delivery_id);
	if (item != NULL) {
		if (item->state == ASTRA_DELIVERER_ITEM_IN_FLIGHT)
			return TRUE;
		if (!astra_outbox_redeliver (self->outbox, delivery_id, now, error))
			return FALSE;
		item->delivery->next_attempt_us = now;
		item->round_base = item->delivery->attempts;
		item->round_started_us = now;
		if (item->state == ASTRA_DELIVERER_ITEM_RETRY) {
			astra_deliverer_item_unlist (item);
			astra_deliverer_item_make_due (item, now, TRUE);
		}
		astra_deliverer_queue_kick (item->queue);
		return TRUE;
	}

	delivery = astra_outbox_lookup (self->outbox, delivery_id, error);
	if (delivery == NULL)
		return FALSE;
	if (!astra_outbox_redeliver (self->outbox, delivery_id, now, error))
		return FALSE;
	queue = astra_deliverer_lookup_configured (self, delivery->webhook);
	if (queue == NULL) {
		g_message ("delivery %" G_GINT64_FORMAT " is pending again, but webhook %s is not configured",
			   delivery_id, delivery->webhook);
		return TRUE;
	}
	/* a pending one above the window is counted already, and will be paged in */
	if (delivery->id > queue->window_max_id) {
		if (delivery->state != ASTRA_DELIVERY_STATE_PENDING)
			queue->n_on_disk++;
		astra_deliverer_queue_kick (queue);
		return TRUE;
	}
	item = astra_deliverer_queue_add (queue, g_steal_pointer (&delivery), NULL, now);
	item->delivery->state = ASTRA_DELIVERY_STATE_PENDING;
	item->delivery->next_attempt_us = now;
	item->round_base = item->delivery->attempts;
	item->round_started_us = now;
	/* queue_add judged it by its old due time */
	if (item->state == ASTRA_DELIVERER_ITEM_RETRY) {
		astra_deliverer_item_unlist (item);
		astra_deliverer_item_make_due (item, now, FALSE);
	}
	astra_deliverer_queue_kick (queue);
	return TRUE;
}

/**
 * astra_deliverer_enable_webhook:
 * @self: a deliverer
 * @name: a webhook's name
 * @error: return location for a #GError, or %NULL
 *
 * Enables a webhook again after a GONE answer (or its configuration)
 * disabled it: its queue flows again, with a closed circuit and no pause.
 *
 * Returns: %TRUE, or %FALSE if no webhook of that name is configured
 *
 * Since: 1.0
 */
gboolean
astra_deliverer_enable_webhook (AstraDeliverer *self, const char *name, GError **error)
{
	AstraDelivererQueue *queue;

	g_return_val_if_fail (ASTRA_IS_DELIVERER (self), FALSE);
	g_return_val_if_fail (name != NULL, FALSE);

	queue = astra_deliverer_lookup_configured (self, name);
	if (queue == NULL) {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_NOT_FOUND, "no webhook named %s is configured",
			     name);
		return FALSE;
	}
	if (queue->gone_reason != NULL || !queue->config_enabled)
		g_message ("webhook %s enabled again: %u pending %s", name, astra_deliverer_queue_n_pending (queue),
			   astra_deliverer_queue_n_pending (queue) == 1 ? "delivery goes" : "deliveries go");
	g_clear_pointer (&queue->gone_reason, g_free);
	queue->config_enabled = TRUE;
	/* the router asks the webhook whether it wants events: it must say yes again too */
	astra_webhook_enable (queue->webhook);
	queue->paused_until_us = 0;
	queue->n_failures = 0;
	queue->cooldown_us = 0;
	queue->probing = FALSE;
	astra_deliverer_queue_set_circuit (queue, ASTRA_CIRCUIT_CLOSED);
	astra_deliverer_queue_kick (queue);
	return TRUE;
}

static gint
astra_deliverer_status_compare (gconstpointer a, gconstpointer b)
{
	const AstraWebhookStatus *sa = *(const AstraWebhookStatus *const *) a;
	const AstraWebhookStatus *sb = *(const AstraWebhookStatus *const *) b;

	return g_strcmp0 (sa->webhook, sb->webhook);
}

/**
 * astra_deliverer_get_status:
 * @self: a deliverer
 *
 * Gets the delivery state of every configured webhook.
 *
 * Returns: (transfer container) (element-type AstraWebhookStatus): in name order
 *
 * Since: 1.0
 */
GPtrArray *
astra_deliverer_get_status (AstraDeliverer *self)
{
	GPtrArray *array = g_ptr_array_new_with_free_func ((GDestroyNotify) astra_webhook_status_free);
	GHashTableIter iter;
	AstraDelivererQueue *queue;
	gint64 now;

	g_return_val_if_fail (ASTRA_IS_DELIVERER (self), array);

	now = astra_clock_now (self->clock);
	g_hash_table_iter_init (&iter, self->queues);
	while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &queue)) {
		AstraWebhookStatus *status;

		if (!queue->configured)
			continue;
		status = g_new0 (AstraWebhookStatus, 1);
		status->webhook = g_strdup (queue->name);
		status->enabled = queue->config_enabled && queue->gone_reason == NULL;
		status->disabled_reason = g_strdup (queue->gone_reason);
		status->pending = astra_deliverer_queue_n_pending (queue);
		status->in_flight = queue->in_flight;
		/* one index lookup, whether the oldest is in memory or still on disk */
		if (status->pending > 0)
			status->oldest_pending_us =
			    astra_outbox_oldest_pending (self->outbox, queue->name, NULL);
		status->circuit = queue->circuit;
		status->paused_until_us = queue->paused_until_us > now ? queue->paused_until_us : 0;
		status->n_delivered = queue->n_delivered;
		status->n_dead = queue->n_dead;
		status->n_skipped = queue->n_skipped;
		status->n_attempts = queue->n_attempts;
		status->n_retries = queue->n_retries;
		g_ptr_array_add (array, status);
	}
	g_ptr_array_sort (array, astra_deliverer_status_compare);
	return array;
}

/**
 * astra_deliverer_get_n_in_flight:
 * @self: a deliverer
 *
 * Gets the number of attempts in flight, over all webhooks.
 *
 * Returns: a count
 *
 * Since: 1.0
 */
guint
astra_deliverer_get_n_in_flight (AstraDeliverer *self)
{
	g_return_val_if_fail (ASTRA_IS_DELIVERER (self), 0);
	return self->n_in_flight;
}

/**
 * astra_deliverer_get_n_in_memory:
 * @self: a deliverer
 *
 * Gets the number of deliveries held in memory, over all webhooks.
 *
 * Returns: a count
 *
 * Since: 1.0
 */
guint
astra_deliverer_get_n_in_memory (AstraDeliverer *self)
{
	g_return_val_if_fail (ASTRA_IS_DELIVERER (self), 0);
	return g_hash_table_size (self->items);
}

/**
 * astra_deliverer_set_window:
 * @self: a deliverer
 * @window: deliveries per webhook, from 2 to %ASTRA_OUTBOX_MAX_LIMIT
 *
 * Sets how many deliveries of each webhook are held in memory; the default
 * is %ASTRA_DELIVERER_DEFAULT_WINDOW. Set it before the webhooks.
 *
 * Since: 1.0
 */
void
astra_deliverer_set_window (AstraDeliverer *self, guint window)
{
	g_return_if_fail (ASTRA_IS_DELIVERER (self));
	/* the outbox reads at most ASTRA_OUTBOX_MAX_LIMIT rows at a time */
	self->window = CLAMP (window, 2, ASTRA_OUTBOX_MAX_LIMIT);
}

/**
 * astra_deliverer_set_jitter:
 * @self: a deliverer
 * @fraction: how far retry waits vary either way, from 0 (exact) to 1
 * @seed: the seed of the generator the variation comes from
 *
 * Sets the jitter of retry waits; the default is
 * %ASTRA_DELIVERER_DEFAULT_JITTER from a random seed.
 *
 * Since: 1.0
 */
void
astra_deliverer_set_jitter (AstraDeliverer *self, double fraction, guint32 seed)
{
	g_return_if_fail (ASTRA_IS_DELIVERER (self));
	self->jitter = CLAMP (fraction, 0.0, 1.0);
	g_rand_set_seed (self->rand, seed);
}

static void
astra_deliverer_shutdown_timer_cb (AstraTimer *timer, gpointer user_data)
{
	AstraDeliverer *self = ASTRA_DELIVERER (user_data);

	g_warning ("shutdown: cancelling %u %s still in flight", self->n_in_flight,
		   self->n_in_flight == 1 ? "attempt" : "attempts");
	self->cancelling = TRUE;
	/* each cancelled attempt ends as a retry, recorded as pending; the last one completes the shutdown */
	g_cancellable_cancel (self->cancellable);
}

/**
 * astra_deliverer_shutdown_async:
 * @self: a deliverer
 * @timeout_s: how long attempts in flight may take to finish
 * @callback: called when no attempt is in flight
 * @user_data: for @callback
 *
 * Stops starting attempts; those in flight get @timeout_s seconds to
 * finish, then they are cancelled. Pending deliveries stay in the outbox.
 *
 * Since: 1.0
 */
void
astra_deliverer_shutdown_async (AstraDeliverer *self,
				guint timeout_s,
				GAsyncReadyCallback callback,
				gpointer user_data)
{
	g_autoptr(GTask) task = NULL;
	GHashTableIter iter;
	AstraDelivererQueue *queue;

	g_return_if_fail (ASTRA_IS_DELIVERER (self));

	task = g_task_new (self, NULL, callback, user_data);
	g_task_set_source_tag (task, astra_deliverer_shutdown_async);
	if (self->shutdown_task != NULL) {
		g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_PENDING, "already shutting down");
		return;
	}
	self->shutdown_task = g_steal_pointer (&task);
	g_hash_table_iter_init (&iter, self->queues);
	while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &queue))
		astra_timer_cancel (queue->timer);
	if (self->n_in_flight == 0) {
		astra_deliverer_shutdown_check (self);
		return;
	}
	g_message ("shutdown: waiting up to %u s for %u %s in flight", timeout_s, self->n_in_flight,
		   self->n_in_flight == 1 ? "attempt" : "attempts");
	self->shutdown_timer = astra_timer_new (self->clock, astra_deliverer_shutdown_timer_cb, self);
	astra_timer_schedule (self->shutdown_timer,
			      astra_clock_now (self->clock) + (gint64) timeout_s * G_USEC_PER_SEC);
}

/**
 * astra_deliverer_shutdown_finish:
 * @self: a deliverer
 * @result: the result
 * @error: return location for a #GError, or %NULL
 *
 * Finishes astra_deliverer_shutdown_async().
 *
 * Returns: %TRUE when no attempt is in flight any more
 *
 * Since: 1.0
 */
gboolean
astra_deliverer_shutdown_finish (AstraDeliverer *self, GAsyncResult *result, GError **error)
{
	g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
	return g_task_propagate_boolean (G_TASK (result), error);
}
