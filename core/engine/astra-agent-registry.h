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
 *
 * Liveness runs on the daemon's clock: last_seen is when the newest
 * heartbeat arrived and the deadline is last_seen + offline-after, so an
 * agent whose clock is off is not reported offline for it. The agent's own
 * timestamp only orders its heartbeats: one older than the newest seen
 * (last_timestamp_us) is out of order and ignored (not an error).
 */

/* offline-after of agents that report no interval, unless configured */
#define ASTRA_AGENT_DEFAULT_OFFLINE_AFTER_US (G_GINT64_CONSTANT (300) * G_USEC_PER_SEC)
/* offline-after is this many intervals */
#define ASTRA_AGENT_OFFLINE_INTERVALS 3

typedef struct {
	char *agent_id;
	char *hostname;
	char *tenant_id;
	char *version; /* may be NULL */
	char *address; /* may be NULL */
	gint64 interval_us; /* as reported, 0 if never */
	gint64 first_seen_us; /* when the first heartbeat arrived (daemon clock) */
	gint64 last_seen_us; /* when the newest heartbeat arrived (daemon clock) */
	gint64 last_timestamp_us; /* the newest heartbeat's own timestamp, at most its arrival */
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

/* state_db may be NULL (nothing persisted); events go to sink (transfer none) */
AstraAgentRegistry *astra_agent_registry_new (AstraClock *clock,
					      AstraStateDb *state_db,
					      AstraEventSinkFunc sink,
					      gpointer sink_data);
void astra_agent_registry_set_default_offline_after (AstraAgentRegistry *self, gint64 offline_after_us);
/* loads persisted agents and schedules their deadlines; overdue ones go offline now.
 * Call once, before the first heartbeat. */
gboolean astra_agent_registry_restore (AstraAgentRegistry *self, GError **error);
/* FALSE with ASTRA_ERROR_INVALID_DATA and "FIELD: what is wrong" if refused */
gboolean astra_agent_registry_heartbeat (AstraAgentRegistry *self, const AstraHeartbeat *heartbeat, GError **error);
/* writes the agents changed since the last write into the state database's open
 * transaction now (done by itself once per main-loop iteration; call it before
 * astra_state_db_flush() at shutdown and in tests) */
gboolean astra_agent_registry_flush (AstraAgentRegistry *self, GError **error);
/* the offline-after of an agent: 3 x its interval, else the default */
gint64 astra_agent_registry_get_offline_after (AstraAgentRegistry *self, const AstraAgentInfo *info);
/* NULL if unknown; owned by the registry */
const AstraAgentInfo *astra_agent_registry_lookup (AstraAgentRegistry *self, const char *agent_id);
gboolean astra_agent_registry_is_offline (AstraAgentRegistry *self, const char *agent_id);
guint astra_agent_registry_get_size (AstraAgentRegistry *self);
/* every agent, AstraAgentInfo owned by the registry, sorted by id */
GPtrArray *astra_agent_registry_list (AstraAgentRegistry *self);

G_END_DECLS
