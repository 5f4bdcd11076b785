/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "astra-router.h"

/* an event waiting in a lane, with the attempts it has had */
typedef struct {
	AstraEvent *event;
	guint attempt; /* the number of the next attempt, from 1 */
} AstraRouterItem;

/* one webhook's deliveries: a bounded number in flight, the rest in order behind them */
typedef struct {
	AstraRouter *router; /* kept alive by a reference per attempt in flight */
	AstraWebhook *webhook;
	GQueue queued; /* AstraRouterItem */
	guint in_flight;
	guint pause_id; /* the receiver asked us to wait: nothing starts until this fires */
} AstraRouterLane;

/* a few attempts in memory, so a 429 or a blip does not lose an event; the durable
 * outbox with its long schedule takes over from here */
static const guint astra_router_backoff_s[] = {1, 5, 30};
#define ASTRA_ROUTER_MAX_ATTEMPTS (G_N_ELEMENTS (astra_router_backoff_s) + 1)
/* a Retry-After beyond this is not waited for in memory */
#define ASTRA_ROUTER_MAX_PAUSE_S 3600

static AstraRouterItem *
astra_router_item_new (AstraEvent *event, guint attempt)
{
	AstraRouterItem *item = g_new0 (AstraRouterItem, 1);

	item->event = g_object_ref (event);
	item->attempt = attempt;
	return item;
}

static void
astra_router_item_free (AstraRouterItem *item)
{
	g_object_unref (item->event);
	g_free (item);
}

struct _AstraRouter {
	GObject parent_instance;
	AstraDispatcher *dispatcher;
	GPtrArray *webhooks; /* AstraWebhook */
	GHashTable *lanes;   /* AstraWebhook -> AstraRouterLane */
	guint n_pending;     /* queued and in flight, over all lanes */
	GTask *shutdown_task;
	guint shutdown_timeout_id;
};

G_DEFINE_FINAL_TYPE (AstraRouter, astra_router, G_TYPE_OBJECT)

static void
astra_router_lane_free (AstraRouterLane *lane)
{
	g_clear_handle_id (&lane->pause_id, g_source_remove);
	g_queue_clear_full (&lane->queued, (GDestroyNotify) astra_router_item_free);
	g_object_unref (lane->webhook);
	g_free (lane);
}

static void
astra_router_dispose (GObject *object)
{
	AstraRouter *self = ASTRA_ROUTER (object);

	g_clear_handle_id (&self->shutdown_timeout_id, g_source_remove);
	G_OBJECT_CLASS (astra_router_parent_class)->dispose (object);
}

static void
astra_router_finalize (GObject *object)
{
	AstraRouter *self = ASTRA_ROUTER (object);

	g_clear_object (&self->dispatcher);
	g_ptr_array_unref (self->webhooks);
	g_hash_table_unref (self->lanes);
	G_OBJECT_CLASS (astra_router_parent_class)->finalize (object);
}

static void
astra_router_class_init (AstraRouterClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS (klass);

	object_class->dispose = astra_router_dispose;
	object_class->finalize = astra_router_finalize;
}

static void
astra_router_init (AstraRouter *self)
{
	self->webhooks = g_ptr_array_new_with_free_func (g_object_unref);
	self->lanes = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) astra_router_lane_free);
}

AstraRouter *
astra_router_new (AstraDispatcher *dispatcher)
{
	AstraRouter *self = g_object_new (ASTRA_TYPE_ROUTER, NULL);

	self->dispatcher = g_object_ref (dispatcher);
	return self;
}

static gboolean
astra_router_is_current (AstraRouter *self, AstraWebhook *webhook)
{
	return g_ptr_array_find (self->webhooks, webhook, NULL);
}

static void
astra_router_shutdown_check (AstraRouter *self)
{
	g_autoptr(GTask) task = NULL;

	if (self->shutdown_task == NULL || self->n_pending > 0)
		return;
	g_clear_handle_id (&self->shutdown_timeout_id, g_source_remove);
	task = g_steal_pointer (&self->shutdown_task);
	g_task_return_boolean (task, TRUE);
}

static void astra_router_pump (AstraRouter *self, AstraRouterLane *lane);

static gboolean
astra_router_unpause_cb (gpointer user_data)
{
	AstraRouterLane *lane = user_data;

	lane->pause_id = 0;
	astra_router_pump (lane->router, lane);
	return G_SOURCE_REMOVE;
}

/* the receiver said "gone": nothing more goes to it until an admin reloads the config */
static void
astra_router_disable_lane (AstraRouter *self, AstraRouterLane *lane, const AstraAttempt *attempt)
{
	guint n_dropped = lane->queued.length;
	g_autofree char *reason = g_strdup_printf ("the receiver answered HTTP %u%s%s", attempt->status,
						   attempt->reason != NULL ? ": " : "",
						   attempt->reason != NULL ? attempt->reason : "");

	if (astra_webhook_get_enabled (lane->webhook))
		g_warning ("webhook %s DISABLED: %s; fix it (or remove it) and reload the configuration",
			    astra_webhook_get_name (lane->webhook), reason);
	astra_webhook_disable (lane->webhook, reason);
	if (n_dropped > 0)
		g_warning ("webhook %s: %u queued deliveries dropped with it", astra_webhook_get_name (lane->webhook),
			   n_dropped);
	self->n_pending -= n_dropped;
	g_queue_clear_full (&lane->queued, (GDestroyNotify) astra_router_item_free);
}

/* a transient failure: the event goes back to the head of its lane, and the lane waits */
static void
astra_router_retry (AstraRouter *self, AstraRouterLane *lane, AstraEvent *event, const AstraAttempt *attempt)
{
	double delay = attempt->retry_after;

	if (attempt->attempt >= ASTRA_ROUTER_MAX_ATTEMPTS || self->shutdown_task != NULL) {
		g_warning ("webhook %s: gave up on %s %s after %u attempts", astra_webhook_get_name (lane->webhook),
			   astra_event_get_type_name (event), astra_event_get_id (event), attempt->attempt);
		return;
	}
	/* the receiver's word wins: Retry-After (or Discord's retry_after) pauses the whole lane */
	if (delay < 0)
		delay = astra_router_backoff_s[attempt->attempt - 1];
	delay = MIN (delay, ASTRA_ROUTER_MAX_PAUSE_S);
	g_queue_push_head (&lane->queued, astra_router_item_new (event, attempt->attempt + 1));
	self->n_pending++;
	if (lane->pause_id == 0 || attempt->retry_after >= 0) {
		g_clear_handle_id (&lane->pause_id, g_source_remove);
		lane->pause_id = g_timeout_add ((guint) (delay * 1000), astra_router_unpause_cb, lane);
		g_message ("webhook %s: retrying in %.3g s (attempt %u of %u)", astra_webhook_get_name (lane->webhook),
			   delay, attempt->attempt + 1, (guint) ASTRA_ROUTER_MAX_ATTEMPTS);
	}
}

/* one attempt in flight: which lane, which event */
typedef struct {
	AstraRouterLane *lane;
	AstraEvent *event;
} AstraRouterFlight;

static void
astra_router_attempt_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autofree AstraRouterFlight *flight = user_data;
	AstraRouterLane *lane = flight->lane;
	AstraWebhook *webhook = lane->webhook;
	g_autoptr(AstraRouter) self = lane->router;
	g_autoptr(AstraEvent) event = flight->event;
	g_autoptr(AstraAttempt) attempt = astra_dispatcher_attempt_finish (ASTRA_DISPATCHER (source), result);

	lane->in_flight--;
	self->n_pending--;
	if (attempt->outcome == ASTRA_OUTCOME_RETRY)
		astra_router_retry (self, lane, event, attempt);
	else if (attempt->outcome == ASTRA_OUTCOME_GONE)
		astra_router_disable_lane (self, lane, attempt);
	astra_router_pump (self, lane);
	/* a lane outlives a reload only until its webhook's last delivery is done */
	if (lane->in_flight == 0 && lane->queued.length == 0 && lane->pause_id == 0 &&
	    !astra_router_is_current (self, webhook))
		g_hash_table_remove (self->lanes, webhook);
	astra_router_shutdown_check (self);
}

static void
astra_router_pump (AstraRouter *self, AstraRouterLane *lane)
{
	while (lane->pause_id == 0 && lane->in_flight < ASTRA_ROUTER_MAX_IN_FLIGHT && lane->queued.length > 0) {
		AstraRouterItem *item = g_queue_pop_head (&lane->queued);
		AstraRouterFlight *flight = g_new0 (AstraRouterFlight, 1);

		flight->lane = lane;
		flight->event = g_object_ref (item->event);
		lane->in_flight++;
		g_object_ref (self);
		astra_dispatcher_attempt_async (self->dispatcher, lane->webhook, item->event, item->attempt, NULL,
						astra_router_attempt_cb, flight);
		astra_router_item_free (item);
	}
}

void
astra_router_set_webhooks (AstraRouter *self, GPtrArray *webhooks)
{
	GHashTableIter iter;
	AstraRouterLane *lane;

	g_return_if_fail (ASTRA_IS_ROUTER (self));
	g_return_if_fail (webhooks != NULL);

	g_ptr_array_unref (self->webhooks);
	self->webhooks = g_ptr_array_ref (webhooks);

	/* lanes of webhooks that are gone and idle can go now; busy ones go when they are done */
	g_hash_table_iter_init (&iter, self->lanes);
	while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &lane)) {
		if (lane->in_flight == 0 && lane->queued.length == 0 && lane->pause_id == 0 &&
		    !astra_router_is_current (self, lane->webhook))
			g_hash_table_iter_remove (&iter);
	}
}

GPtrArray *
astra_router_get_webhooks (AstraRouter *self)
{
	return self->webhooks;
}

guint
astra_router_get_n_pending (AstraRouter *self)
{
	return self->n_pending;
}

guint
astra_router_route (AstraRouter *self, AstraEvent *event)
{
	return astra_router_route_to (self, event, NULL);
}

guint
astra_router_route_to (AstraRouter *self, AstraEvent *event, const char *const *webhooks)
{
	guint n_routed = 0;

	g_return_val_if_fail (ASTRA_IS_ROUTER (self), 0);
	g_return_val_if_fail (ASTRA_IS_EVENT (event), 0);

	if (self->shutdown_task != NULL) {
		g_warning ("%s %s arrived during shutdown and was not routed",
			   astra_event_get_type_name (event), astra_event_get_id (event));
		return 0;
	}
	for (guint i = 0; i < self->webhooks->len; i++) {
		AstraWebhook *webhook = g_ptr_array_index (self->webhooks, i);
		AstraRouterLane *lane;

		/* a named webhook still applies its own filters: enabled, events, min-severity */
		if (webhooks != NULL && !g_strv_contains (webhooks, astra_webhook_get_name (webhook)))
			continue;
		if (!astra_webhook_wants (webhook, event))
			continue;
		lane = g_hash_table_lookup (self->lanes, webhook);
		if (lane == NULL) {
			lane = g_new0 (AstraRouterLane, 1);
			lane->router = self;
			lane->webhook = g_object_ref (webhook);
			g_hash_table_insert (self->lanes, webhook, lane);
		}
		g_queue_push_tail (&lane->queued, astra_router_item_new (event, 1));
		self->n_pending++;
		astra_router_pump (self, lane);
		n_routed++;
	}
	if (n_routed == 0)
		g_debug ("%s %s: no webhook wants it", astra_event_get_type_name (event),
			 astra_event_get_id (event));
	return n_routed;
}

static gboolean
astra_router_shutdown_timeout_cb (gpointer user_data)
{
	AstraRouter *self = ASTRA_ROUTER (user_data);
	GHashTableIter iter;
	AstraRouterLane *lane;
	guint n_dropped = 0;

	self->shutdown_timeout_id = 0;
	g_hash_table_iter_init (&iter, self->lanes);
	while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &lane)) {
		n_dropped += lane->queued.length;
		self->n_pending -= lane->queued.length;
		g_queue_clear_full (&lane->queued, (GDestroyNotify) astra_router_item_free);
		g_clear_handle_id (&lane->pause_id, g_source_remove);
	}
	/* until deliveries are durable, say plainly what a forced stop costs */
	if (n_dropped > 0)
		g_warning ("shutdown: %u queued deliveries were not attempted", n_dropped);
	if (astra_dispatcher_get_n_in_flight (self->dispatcher) > 0)
		g_warning ("shutdown: cancelling %u attempts still in flight",
			   astra_dispatcher_get_n_in_flight (self->dispatcher));
	/* cancelled attempts finish promptly, and the last one completes the shutdown */
	astra_dispatcher_cancel_all (self->dispatcher);
	astra_router_shutdown_check (self);
	return G_SOURCE_REMOVE;
}

void
astra_router_shutdown_async (AstraRouter *self,
			     guint timeout_s,
			     GAsyncReadyCallback callback,
			     gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new (self, NULL, callback, user_data);

	g_task_set_source_tag (task, astra_router_shutdown_async);
	if (self->shutdown_task != NULL) {
		g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_PENDING, "already shutting down");
		return;
	}
	self->shutdown_task = g_steal_pointer (&task);
	if (self->n_pending == 0) {
		astra_router_shutdown_check (self);
		return;
	}
	g_message ("shutdown: waiting up to %u s for %u %s", timeout_s, self->n_pending,
		   self->n_pending == 1 ? "delivery" : "deliveries");
	/* milliseconds: GLib's second timers may fire up to a quarter second early */
	self->shutdown_timeout_id = g_timeout_add (timeout_s * 1000, astra_router_shutdown_timeout_cb, self);
}

gboolean
astra_router_shutdown_finish (AstraRouter *self, GAsyncResult *result, GError **error)
{
	g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
	return g_task_propagate_boolean (G_TASK (result), error);
}
