/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "astra.h"
#include "astra-dispatcher.h"
#include "astra-webhook.h"

G_BEGIN_DECLS

/* attempts one webhook may have in flight; the rest wait in its lane, not in libsoup's queue
 * where their timeouts would run before they are even sent */
#define ASTRA_ROUTER_MAX_IN_FLIGHT 16

#define ASTRA_TYPE_ROUTER (astra_router_get_type ())
G_DECLARE_FINAL_TYPE (AstraRouter, astra_router, ASTRA, ROUTER, GObject)

AstraRouter *astra_router_new (AstraDispatcher *dispatcher);
/* swaps in a new set in one step; events already queued for a webhook go out through it */
void astra_router_set_webhooks (AstraRouter *self, GPtrArray *webhooks);
GPtrArray *astra_router_get_webhooks (AstraRouter *self);
/* queues the event for every webhook that wants it; returns how many */
guint astra_router_route (AstraRouter *self, AstraEvent *event);
/* as route, but only to the webhooks named (a rule's `webhooks`); NULL names route to all */
guint astra_router_route_to (AstraRouter *self, AstraEvent *event, const char *const *webhooks);
/* deliveries queued or in flight, over all webhooks */
guint astra_router_get_n_pending (AstraRouter *self);
/* takes no more events and lets the queued ones go out for up to timeout_s seconds; then
 * drops what is still queued (logged) and cancels what is in flight */
void astra_router_shutdown_async (AstraRouter *self,
				  guint timeout_s,
				  GAsyncReadyCallback callback,
				  gpointer user_data);
gboolean astra_router_shutdown_finish (AstraRouter *self, GAsyncResult *result, GError **error);

G_END_DECLS
