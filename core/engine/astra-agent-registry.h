/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "astra.h"
#include "astra-clock.h"
#include "astra-engine-types.h"
#include "astra-state-db.h"

G_BEGIN_DECLS

/*
 * Agents: who has sent heartbeats, and whether they still do.
 *
 * The first heartbeat of an unknown agent emits agent.registered (and the
 * agent is online). An agent whose heartbeats stop for its offline-after
 * (3 x the interval it reports, else the configured default) emits
 * agent.status_changed to offline; its next heartbeat emits online. One
 * AstraTimer per agent in the clock's single heap. Every agent is persisted
 * in the state database; on start, agents are restored, none re-registered,
 * offline ones stay offline, and one whose deadline passed while the daemon
 * was down is reported offline as soon as the engine starts.
 */

typedef struct {
	char *agent_id;
	char *hostname;
	char *tenant_id;
	char *version; /* may be NULL */
	char *address; /* may be NULL */
	gint64 interval_us; /* as reported, 0 if never */
	gint64 first_seen_us;
	gint64 last_seen_us;
	gboolean online;
} AstraAgentInfo;

typedef struct {
	const char *agent_id; /* required */
	const char *hostname; /* NULL: keep the known one (required for a new agent) */
	const char *tenant_id; /* NULL: keep the known one, else "default" */
	const char *version;
	const char *address;
	gint64 interval_us; /* 0: unknown */
	gint64 timestamp_us; /* 0: now */
} AstraHeartbeat;

#define ASTRA_TYPE_AGENT_REGISTRY (astra_agent_registry_get_type ())
G_DECLARE_FINAL_TYPE (AstraAgentRegistry, astra_agent_registry, ASTRA, AGENT_REGISTRY, GObject)

/* state_db may be NULL (nothing persisted) */
AstraAgentRegistry *astra_agent_registry_new (AstraClock *clock,
					      AstraStateDb *state_db,
					      AstraEventSinkFunc sink,
					      gpointer sink_data);
void astra_agent_registry_set_default_offline_after (AstraAgentRegistry *self, gint64 offline_after_us);
/* loads persisted agents and schedules their deadlines; overdue ones go offline now */
gboolean astra_agent_registry_restore (AstraAgentRegistry *self, GError **error);
gboolean astra_agent_registry_heartbeat (AstraAgentRegistry *self, const AstraHeartbeat *heartbeat, GError **error);
/* NULL if unknown; owned by the registry */
const AstraAgentInfo *astra_agent_registry_lookup (AstraAgentRegistry *self, const char *agent_id);
gboolean astra_agent_registry_is_offline (AstraAgentRegistry *self, const char *agent_id);
guint astra_agent_registry_get_size (AstraAgentRegistry *self);
/* every agent, AstraAgentInfo owned by the registry, sorted by id */
GPtrArray *astra_agent_registry_list (AstraAgentRegistry *self);

G_END_DECLS
