/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Private to the SDK: the JSON Schemas of the event types (data/schemas/,
 * compiled in as GResources) and a validator for the subset of JSON Schema
 * draft 2020-12 they use.
 */

#pragma once

#include <json-glib/json-glib.h>

#include "astra-event.h"

G_BEGIN_DECLS

/* where the schemas live in the SDK's GResource bundle */
#define ASTRA_EVENT_SCHEMA_RESOURCE_PREFIX "/org/astranetmon/astra/schemas/"

typedef struct _AstraEventSchema AstraEventSchema;

AstraEventSchema *astra_event_schema_new_from_bytes (GBytes *bytes, GError **error);
void astra_event_schema_free (AstraEventSchema *self);
gboolean astra_event_schema_validate (AstraEventSchema *self,
				      JsonNode *node,
				      const char *root_name,
				      GError **error);

AstraEventSchema *astra_event_schema_get (AstraEventKind kind, GError **error);
gboolean astra_event_schema_validate_data (AstraEventKind kind,
					   JsonObject *data,
					   GError **error);

gboolean astra_event_schema_is_date_time (const char *str);
/* every event type, "agent.status_changed, agent.registered, ...": for messages that
 * refuse an unknown one */
char *astra_event_schema_list_types (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AstraEventSchema, astra_event_schema_free)

G_END_DECLS
