/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "astra.h"
#include "astra-webhook.h"

G_BEGIN_DECLS

/*
 * Which webhooks an event goes to: enabled, subscribed to its type (events
 * globs), at or above their min-severity, and, when a rule names webhooks,
 * only those. Delivery itself is the deliverer's.
 */

#define ASTRA_TYPE_ROUTER (astra_router_get_type ())
G_DECLARE_FINAL_TYPE (AstraRouter, astra_router, ASTRA, ROUTER, GObject)

AstraRouter *astra_router_new (void);
/* swaps in a new set in one step */
void astra_router_set_webhooks (AstraRouter *self, GPtrArray *webhooks);
GPtrArray *astra_router_get_webhooks (AstraRouter *self);
/* the webhooks (AstraWebhook, referenced) that want the event; names (a rule's webhooks) restrict them */
GPtrArray *astra_router_match (AstraRouter *self, AstraEvent *event, const char *const *names);

G_END_DECLS
