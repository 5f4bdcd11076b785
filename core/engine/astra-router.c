/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "astra-router.h"

struct _AstraRouter {
	GObject parent_instance;
	AstraDispatcher *dispatcher;
	GPtrArray *webhooks; /* AstraWebhook */
};

G_DEFINE_FINAL_TYPE (AstraRouter, astra_router, G_TYPE_OBJECT)

static void
astra_router_finalize (GObject *object)
{
	AstraRouter *self = ASTRA_ROUTER (object);

	g_clear_object (&self->dispatcher);
	g_ptr_array_unref (self->webhooks);
	G_OBJECT_CLASS (astra_router_parent_class)->finalize (object);
}

static void
astra_router_class_init (AstraRouterClass *klass)
{
	G_OBJECT_CLASS (klass)->finalize = astra_router_finalize;
}

static void
astra_router_init (AstraRouter *self)
{
	self->webhooks = g_ptr_array_new_with_free_func (g_object_unref);
}

AstraRouter *
astra_router_new (AstraDispatcher *dispatcher)
{
	AstraRouter *self = g_object_new (ASTRA_TYPE_ROUTER, NULL);

	self->dispatcher = g_object_ref (dispatcher);
	return self;
}

void
astra_router_set_webhooks (AstraRouter *self, GPtrArray *webhooks)
{
	g_return_if_fail (ASTRA_IS_ROUTER (self));
	g_return_if_fail (webhooks != NULL);

	g_ptr_array_unref (self->webhooks);
	self->webhooks = g_ptr_array_ref (webhooks);
}

GPtrArray *
astra_router_get_webhooks (AstraRouter *self)
{
	return self->webhooks;
}

guint
astra_router_route (AstraRouter *self, AstraEvent *event)
{
	guint n_routed = 0;

	g_return_val_if_fail (ASTRA_IS_ROUTER (self), 0);
	g_return_val_if_fail (ASTRA_IS_EVENT (event), 0);

	for (guint i = 0; i < self->webhooks->len; i++) {
		AstraWebhook *webhook = g_ptr_array_index (self->webhooks, i);

		if (!astra_webhook_wants (webhook, event))
			continue;
		/* one attempt for now: the durable outbox and its retries slot in here */
		astra_dispatcher_attempt_async (self->dispatcher, webhook, event, 1, NULL, NULL, NULL);
		n_routed++;
	}
	if (n_routed == 0)
		g_debug ("%s %s: no webhook wants it", astra_event_get_type_name (event),
			 astra_event_get_id (event));
	return n_routed;
}
