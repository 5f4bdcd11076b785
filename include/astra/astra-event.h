/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(__ASTRA_INSIDE__) && !defined(ASTRA_COMPILATION)
#error "Only <astra/astra.h> can be included directly."
#endif

#include <glib-object.h>
#include <json-glib/json-glib.h>

#include "astra-macros.h"

G_BEGIN_DECLS

/**
 * AstraEventKind:
 * @ASTRA_EVENT_KIND_UNKNOWN: not an event type
 * @ASTRA_EVENT_KIND_AGENT_STATUS_CHANGED: `agent.status_changed`
 * @ASTRA_EVENT_KIND_AGENT_REGISTERED: `agent.registered`
 * @ASTRA_EVENT_KIND_SPEEDTEST_COMPLETED: `speedtest.completed`
 * @ASTRA_EVENT_KIND_TRACEROUTE_COMPLETED: `traceroute.completed`
 * @ASTRA_EVENT_KIND_SERVICE_TEST_FAILED: `service_test.failed`
 * @ASTRA_EVENT_KIND_ALERT_TRIGGERED: `alert.triggered`
 * @ASTRA_EVENT_KIND_ALERT_RESOLVED: `alert.resolved`
 * @ASTRA_EVENT_KIND_LAST: the number of kinds; not a kind itself
 *
 * The typed events of the public contract. The fields each carries are
 * defined by the JSON Schemas in `data/schemas/`. New kinds are appended.
 *
 * Since: 1.0
 */
typedef enum {
	ASTRA_EVENT_KIND_UNKNOWN,
	ASTRA_EVENT_KIND_AGENT_STATUS_CHANGED,
	ASTRA_EVENT_KIND_AGENT_REGISTERED,
	ASTRA_EVENT_KIND_SPEEDTEST_COMPLETED,
	ASTRA_EVENT_KIND_TRACEROUTE_COMPLETED,
	ASTRA_EVENT_KIND_SERVICE_TEST_FAILED,
	ASTRA_EVENT_KIND_ALERT_TRIGGERED,
	ASTRA_EVENT_KIND_ALERT_RESOLVED,
	/*< private >*/
	ASTRA_EVENT_KIND_LAST
} AstraEventKind;

/**
 * AstraSeverity:
 * @ASTRA_SEVERITY_INFO: informational
 * @ASTRA_SEVERITY_WARNING: needs a look soon
 * @ASTRA_SEVERITY_ERROR: something failed
 * @ASTRA_SEVERITY_CRITICAL: page someone
 *
 * Ordered, so `severity >= ASTRA_SEVERITY_WARNING` works. A recovery event
 * (an agent back online, an alert resolved) carries the severity of the
 * problem it ends, so a webhook that got the problem also gets its end.
 *
 * Since: 1.0
 */
typedef enum {
	ASTRA_SEVERITY_INFO,
	ASTRA_SEVERITY_WARNING,
	ASTRA_SEVERITY_ERROR,
	ASTRA_SEVERITY_CRITICAL,
} AstraSeverity;

#define ASTRA_TYPE_EVENT (astra_event_get_type ())
ASTRA_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (AstraEvent, astra_event, ASTRA, EVENT, GObject)

ASTRA_AVAILABLE_IN_1_0
AstraEvent *astra_event_new (AstraEventKind kind,
			     gint64 timestamp,
			     JsonObject *data,
			     GError **error);
ASTRA_AVAILABLE_IN_1_0
AstraEvent *astra_event_new_from_body (const char *id,
				       GBytes *body,
				       GError **error);

ASTRA_AVAILABLE_IN_1_0
AstraEventKind astra_event_get_kind (AstraEvent *self);
ASTRA_AVAILABLE_IN_1_0
const char *astra_event_get_type_name (AstraEvent *self);
ASTRA_AVAILABLE_IN_1_0
const char *astra_event_get_id (AstraEvent *self);
ASTRA_AVAILABLE_IN_1_0
gint64 astra_event_get_timestamp (AstraEvent *self);
ASTRA_AVAILABLE_IN_1_0
const char *astra_event_get_timestamp_string (AstraEvent *self);
ASTRA_AVAILABLE_IN_1_0
const char *astra_event_get_tenant (AstraEvent *self);
ASTRA_AVAILABLE_IN_1_0
AstraSeverity astra_event_get_severity (AstraEvent *self);
ASTRA_AVAILABLE_IN_1_0
JsonObject *astra_event_get_data (AstraEvent *self);
ASTRA_AVAILABLE_IN_1_0
GBytes *astra_event_get_body (AstraEvent *self);

ASTRA_AVAILABLE_IN_1_0
AstraEventKind astra_event_kind_from_string (const char *type_name);
ASTRA_AVAILABLE_IN_1_0
const char *astra_event_kind_to_string (AstraEventKind kind);
ASTRA_AVAILABLE_IN_1_0
const char *astra_severity_to_string (AstraSeverity severity);
ASTRA_AVAILABLE_IN_1_0
gboolean astra_severity_from_string (const char *str, AstraSeverity *severity);

G_END_DECLS
