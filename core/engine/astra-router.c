/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "astra-router.h"

struct _AstraRouter {
	GObject parent_instance;
	GPtrArray *webhooks; /* AstraWebhook */
};

G_DEFINE_FINAL_TYPE (AstraRouter, astra_router, G_TYPE_OBJECT)

static void
astra_router_finalize (GObject *object)
{
	AstraRouter *self = ASTRA_ROUTER (object);

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
astra_router_new (void)
{
	return g_object_new (ASTRA_TYPE_ROUTER, NULL);
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

GPtrArray *
astra_router_match (AstraRouter *self, AstraEvent *event, const char *const *names)
{
	GPtrArray *matched = g_ptr_array_new_with_free_func (g_object_unref);

	g_return_val_if_fail (ASTRA_IS_ROUTER (self), matched);
	g_return_val_if_fail (ASTRA_IS_EVENT (event), matched);

	for (guint i = 0; i < self->webhooks->len; i++) {
		AstraWebhook *webhook = g_ptr_array_index (self->webhooks, i);

		/* a named webhook still applies its own filters: enabled, events, min-severity */
		if (names != NULL && !g_strv_contains (names, astra_webhook_get_name (webhook)))
			continue;
		if (astra_webhook_wants (webhook, event))
			g_ptr_array_add (matched, g_object_ref (webhook));
	}
	return matched;
}
