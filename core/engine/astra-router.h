/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "astra.h"
#include "astra-dispatcher.h"
#include "astra-webhook.h"

G_BEGIN_DECLS

#define ASTRA_TYPE_ROUTER (astra_router_get_type ())
G_DECLARE_FINAL_TYPE (AstraRouter, astra_router, ASTRA, ROUTER, GObject)

AstraRouter *astra_router_new (AstraDispatcher *dispatcher);
/* swaps in a new set in one step; attempts in flight keep their webhook */
void astra_router_set_webhooks (AstraRouter *self, GPtrArray *webhooks);
GPtrArray *astra_router_get_webhooks (AstraRouter *self);
/* hands the event to every webhook that wants it; returns how many */
guint astra_router_route (AstraRouter *self, AstraEvent *event);

G_END_DECLS
