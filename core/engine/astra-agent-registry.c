/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "astra-agent-registry.h"

/* the same bound as the event schemas put on agent_id, hostname and tenant_id */
#define ASTRA_AGENT_MAX_STRING_LENGTH 256
/* a longer interval is a typo (milliseconds for seconds), not a heartbeat */
#define ASTRA_AGENT_MAX_INTERVAL_US (G_GINT64_CONSTANT (86400) * G_USEC_PER_SEC)

#define ASTRA_AGENT_DB_MODULE	      "agents"
#define ASTRA_AGENT_DB_SCHEMA_VERSION 1

typedef struct {
	AstraAgentInfo info; /* first: lookups hand out &agent->info */
	AstraAgentRegistry *registry;
	AstraTimer *timer;
	gboolean dirty; /* in registry->dirty, to be written */
} AstraAgent;

/**
 * AstraAgentRegistry:
 *
 * The agents that sent heartbeats, their status, and one deadline each in
 * the clock's timer heap. Changed agents are written to the state database
 * at most once per main-loop iteration, whatever the number of heartbeats.
 */
struct _AstraAgentRegistry {
	GObject parent_instance;
	AstraClock *clock;
	AstraStateDb *state_db; /* (nullable) */
	AstraEventSinkFunc sink;
	gpointer sink_data;
	gint64 default_offline_after_us;
	GHashTable *agents; /* agent_id (owned by the agent) -> AstraAgent */
	GPtrArray *dirty;   /* (element-type AstraAgent) (unowned) */
	GSource *flush_source; /* (nullable): writes the dirty agents */
	gboolean schema_ready;
	gboolean restored;
};

G_DEFINE_FINAL_TYPE (AstraAgentRegistry, astra_agent_registry, G_TYPE_OBJECT)

static void
astra_agent_free (AstraAgent *agent)
{
	astra_timer_free (agent->timer);
	g_free (agent->info.agent_id);
	g_free (agent->info.hostname);
	g_free (agent->info.tenant_id);
	g_free (agent->info.version);
	g_free (agent->info.address);
	g_free (agent);
}

static void astra_agent_offline_cb (AstraTimer *timer, gpointer user_data);

static AstraAgent *
astra_agent_new (AstraAgentRegistry *self)
{
	AstraAgent *agent = g_new0 (AstraAgent, 1);
	agent->registry = self;
	agent->timer = astra_timer_new (self->clock, astra_agent_offline_cb, agent);
	return agent;
}

/* replaces *str by value unless equal; NULL keeps it */
static void
astra_agent_update_string (char **str, const char *value)
{
	if (value == NULL || g_strcmp0 (*str, value) == 0)
		return;
	g_free (*str);
	*str = g_strdup (value);
}

/**
 * astra_agent_registry_get_offline_after:
 * @self: a #AstraAgentRegistry
 * @info: an agent of @self
 *
 * Gets how long @info may stay silent before it is offline: 3 times the
 * interval it reports, else the default.
 *
 * Returns: microseconds
 *
 * Since: 1.0
 */
gint64
astra_agent_registry_get_offline_after (AstraAgentRegistry *self, const AstraAgentInfo *info)
{
	g_return_val_if_fail (ASTRA_IS_AGENT_REGISTRY (self), 0);
	g_return_val_if_fail (info != NULL, 0);

	if (info->interval_us > 0)
		return ASTRA_AGENT_OFFLINE_INTERVALS * info->interval_us;
	return self->default_offline_after_us;
}

static gint64
astra_agent_get_deadline (const AstraAgent *agent)
{
	return agent->info.last_seen_us + astra_agent_registry_get_offline_after (agent->registry, &agent->info);
}

static void
astra_agent_schedule (AstraAgent *agent)
{
	astra_timer_schedule (agent->timer, astra_agent_get_deadline (agent));
}

/* events */

static void
astra_agent_registry_emit (AstraAgentRegistry *self, AstraEventKind kind, JsonObject *data)
{
	g_autoptr(GError) error_local = NULL;
	g_autoptr(AstraEvent) event = NULL;
	gint64 now = astra_clock_now (self->clock);

	event = astra_event_new (kind, MAX (now, 0) / G_USEC_PER_SEC, data, &error_local);
	if (event == NULL) {
		/* heartbeats are checked against the same bounds first, so this is a bug */
		g_warning ("cannot create %s: %s", astra_event_kind_to_string (kind), error_local->message);
		return;
	}
	if (self->sink != NULL)
		self->sink (event, self->sink_data);
}

static void
astra_agent_emit_registered (AstraAgent *agent)
{
	g_autoptr(JsonObject) data = json_object_new ();

	json_object_set_string_member (data, "agent_id", agent->info.agent_id);
	json_object_set_string_member (data, "hostname", agent->info.hostname);
	json_object_set_string_member (data, "tenant_id", agent->info.tenant_id);
	if (agent->info.version != NULL)
		json_object_set_string_member (data, "version", agent->info.version);
	if (agent->info.address != NULL)
		json_object_set_string_member (data, "address", agent->info.address);
	astra_agent_registry_emit (agent->registry, ASTRA_EVENT_KIND_AGENT_REGISTERED, data);
}

static void
astra_agent_emit_status_changed (AstraAgent *agent)
{
	g_autoptr(JsonObject) data = json_object_new ();
	g_autofree char *last_seen = astra_clock_format_time (agent->info.last_seen_us);

	json_object_set_string_member (data, "agent_id", agent->info.agent_id);
	json_object_set_string_member (data, "hostname", agent->info.hostname);
	json_object_set_string_member (data, "previous_status", agent->info.online ? "offline" : "online");
	json_object_set_string_member (data, "current_status", agent->info.online ? "online" : "offline");
	json_object_set_string_member (data, "tenant_id", agent->info.tenant_id);
	json_object_set_string_member (data, "last_seen", last_seen);
	astra_agent_registry_emit (agent->registry, ASTRA_EVENT_KIND_AGENT_STATUS_CHANGED, data);
}

/* persistence */

static gboolean
astra_agent_registry_ensure_schema (AstraAgentRegistry *self, GError **error)
{
	if (self->schema_ready)
		return TRUE;
	if (!astra_state_db_ensure_schema (self->state_db, ASTRA_AGENT_DB_MODULE, ASTRA_AGENT_DB_SCHEMA_VERSION,
					   "CREATE TABLE IF NOT EXISTS agents ("
					   "id TEXT PRIMARY KEY NOT NULL, "
					   "hostname TEXT NOT NULL, "
					   "tenant TEXT NOT NULL, "
					   "version TEXT, "
					   "address TEXT, "
					   "interval_us INTEGER NOT NULL, "
					   "first_seen_us INTEGER NOT NULL, "
					   "last_seen_us INTEGER NOT NULL, "
					   "last_timestamp_us INTEGER NOT NULL, "
					   "online INTEGER NOT NULL"
					   ") WITHOUT ROWID",
					   error))
		return FALSE;
	self->schema_ready = TRUE;
	return TRUE;
}

static gboolean
astra_agent_registry_write (AstraAgentRegistry *self, GError **error)
{
	sqlite3_stmt *stmt;
	guint i;

	if (!astra_agent_registry_ensure_schema (self, error))
		return FALSE;
	astra_state_db_begin (self->state_db);
	stmt = astra_state_db_prepare (self->state_db,
				       "INSERT OR REPLACE INTO agents (id, hostname, tenant, version, address, "
				       "interval_us, first_seen_us, last_seen_us, last_timestamp_us, online) "
				       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
				       error);
	if (stmt == NULL)
		return FALSE;
	for (i = 0; i < self->dirty->len; i++) {
		AstraAgent *agent = g_ptr_array_index (self->dirty, i);
		const AstraAgentInfo *info = &agent->info;
		int rc;

		sqlite3_bind_text (stmt, 1, info->agent_id, -1, SQLITE_STATIC);
		sqlite3_bind_text (stmt, 2, info->hostname, -1, SQLITE_STATIC);
		sqlite3_bind_text (stmt, 3, info->tenant_id, -1, SQLITE_STATIC);
		sqlite3_bind_text (stmt, 4, info->version, -1, SQLITE_STATIC);
		sqlite3_bind_text (stmt, 5, info->address, -1, SQLITE_STATIC);
		sqlite3_bind_int64 (stmt, 6, info->interval_us);
		sqlite3_bind_int64 (stmt, 7, info->first_seen_us);
		sqlite3_bind_int64 (stmt, 8, info->last_seen_us);
		sqlite3_bind_int64 (stmt, 9, info->last_timestamp_us);
		sqlite3_bind_int (stmt, 10, info->online ? 1 : 0);
		rc = sqlite3_step (stmt);
		sqlite3_reset (stmt);
		if (rc != SQLITE_DONE) {
			/* what was written stays written; the rest stays dirty */
			g_ptr_array_remove_range (self->dirty, 0, i);
			if (!astra_state_db_check (self->state_db, rc, error))
				g_prefix_error (error, "agents: ");
			else
				g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_FAILED, "agents: writing failed (%d)", rc);
			return FALSE;
		}
		agent->dirty = FALSE;
	}
	g_ptr_array_set_size (self->dirty, 0);
	return TRUE;
}

/**
 * astra_agent_registry_flush:
 * @self: a #AstraAgentRegistry
 * @error: return location for a #GError
 *
 * Writes every agent changed since the last write into the state
 * database's transaction now, rather than at the end of the main-loop
 * iteration. The transaction itself is committed by the state database
 * (astra_state_db_flush() commits at once).
 *
 * Returns: %TRUE on success; agents not written stay pending
 *
 * Since: 1.0
 */
gboolean
astra_agent_registry_flush (AstraAgentRegistry *self, GError **error)
{
	g_return_val_if_fail (ASTRA_IS_AGENT_REGISTRY (self), FALSE);

	if (self->flush_source != NULL) {
		g_source_destroy (self->flush_source);
		g_clear_pointer (&self->flush_source, g_source_unref);
	}
	if (self->dirty->len == 0)
		return TRUE;
	return astra_agent_registry_write (self, error);
}

static gboolean
astra_agent_registry_flush_cb (gpointer user_data)
{
	AstraAgentRegistry *self = ASTRA_AGENT_REGISTRY (user_data);
	g_autoptr(GError) error_local = NULL;

	g_clear_pointer (&self->flush_source, g_source_unref);
	if (!astra_agent_registry_write (self, &error_local))
		g_warning ("%s", error_local->message);
	return G_SOURCE_REMOVE;
}

static void
astra_agent_mark_dirty (AstraAgent *agent)
{
	AstraAgentRegistry *self = agent->registry;

	if (self->state_db == NULL || agent->dirty)
		return;
	agent->dirty = TRUE;
	g_ptr_array_add (self->dirty, agent);
	if (self->flush_source == NULL) {
		self->flush_source = g_idle_source_new ();
		/* as urgent as the requests that made the changes, so load cannot starve it */
		g_source_set_priority (self->flush_source, G_PRIORITY_DEFAULT);
		g_source_set_callback (self->flush_source, astra_agent_registry_flush_cb, self, NULL);
		g_source_set_static_name (self->flush_source, "[astra] agents flush");
		g_source_attach (self->flush_source, g_main_context_get_thread_default ());
	}
}

/* status */

static void
astra_agent_offline_cb (AstraTimer *timer, gpointer user_data)
{
	AstraAgent *agent = user_data;

	if (!agent->info.online)
		return;
	g_debug ("agent %s is offline", agent->info.agent_id);
	agent->info.online = FALSE;
	astra_agent_mark_dirty (agent);
	astra_agent_emit_status_changed (agent);
}

static gboolean
astra_agent_check_string (const char *field, const char *value, gsize min_length, GError **error)
{
	glong len;

	if (value == NULL)
		return TRUE;
	if (!g_utf8_validate (value, -1, NULL)) {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA, "%s: not valid UTF-8", field);
		return FALSE;
	}
	len = g_utf8_strlen (value, -1);
	if ((gsize) len < min_length) {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA, "%s: must not be empty", field);
		return FALSE;
	}
	if (len > ASTRA_AGENT_MAX_STRING_LENGTH) {
		g_set_error (error,
			     ASTRA_ERROR,
			     ASTRA_ERROR_INVALID_DATA,
			     "%s: must be at most %u characters long, got %ld",
			     field,
			     (guint) ASTRA_AGENT_MAX_STRING_LENGTH,
			     len);
		return FALSE;
	}
	return TRUE;
}

static gboolean
astra_agent_check_heartbeat (const AstraHeartbeat *heartbeat, GError **error)
{
	if (heartbeat->agent_id == NULL) {
		g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA, "agent_id: missing required field");
		return FALSE;
	}
	if (!astra_agent_check_string ("agent_id", heartbeat->agent_id, 1, error) ||
	    !astra_agent_check_string ("hostname", heartbeat->hostname, 1, error) ||
	    !astra_agent_check_string ("tenant_id", heartbeat->tenant_id, 1, error) ||
	    !astra_agent_check_string ("version", heartbeat->version, 0, error) ||
	    !astra_agent_check_string ("address", heartbeat->address, 0, error))
		return FALSE;
	if (heartbeat->interval_us < 0 || heartbeat->interval_us > ASTRA_AGENT_MAX_INTERVAL_US) {
		g_set_error (error,
			     ASTRA_ERROR,
			     ASTRA_ERROR_INVALID_DATA,
			     "interval_s: must be from 0 to %" G_GINT64_FORMAT " seconds",
			     ASTRA_AGENT_MAX_INTERVAL_US / G_USEC_PER_SEC);
		return FALSE;
	}
	if (heartbeat->timestamp_us < 0) {
		g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA, "timestamp: before 1970");
		return FALSE;
	}
	return TRUE;
}

static gboolean
astra_agent_registry_register (AstraAgentRegistry *self,
			       const AstraHeartbeat *heartbeat,
			       gint64 timestamp,
			       gint64 now,
			       GError **error)
{
	AstraAgent *agent;

	if (heartbeat->hostname == NULL) {
		g_set_error_literal (error,
				     ASTRA_ERROR,
				     ASTRA_ERROR_INVALID_DATA,
				     "hostname: required for an agent not seen before");
		return FALSE;
	}
	agent = astra_agent_new (self);
	agent->info.agent_id = g_strdup (heartbeat->agent_id);
	agent->info.hostname = g_strdup (heartbeat->hostname);
	agent->info.tenant_id = g_strdup (heartbeat->tenant_id != NULL ? heartbeat->tenant_id : "default");
	agent->info.version = g_strdup (heartbeat->version);
	agent->info.address = g_strdup (heartbeat->address);
	agent->info.interval_us = heartbeat->interval_us;
	agent->info.first_seen_us = now;
	agent->info.last_seen_us = now;
	agent->info.last_timestamp_us = timestamp;
	agent->info.online = TRUE;
	g_hash_table_insert (self->agents, agent->info.agent_id, agent);
	astra_agent_schedule (agent);
	astra_agent_mark_dirty (agent);
	g_debug ("agent %s registered", agent->info.agent_id);
	astra_agent_emit_registered (agent);
	return TRUE;
}

/**
 * astra_agent_registry_heartbeat:
 * @self: a #AstraAgentRegistry
 * @heartbeat: the heartbeat
 * @error: return location for a #GError
 *
 * Takes a heartbeat. An unknown agent is registered (agent.registered; its
 * hostname is required, its tenant defaults to `default`); a known one gets
 * the fields the heartbeat carries, a new deadline, and if it was offline,
 * agent.status_changed to online. A heartbeat whose own timestamp is older
 * than the newest one seen from the agent is out of order: it is ignored,
 * and not an error. A timestamp in the future counts as now.
 *
 * Returns: %TRUE if taken (or ignored), %FALSE with %ASTRA_ERROR_INVALID_DATA
 *   and a message "FIELD: what is wrong"
 *
 * Since: 1.0
 */
gboolean
astra_agent_registry_heartbeat (AstraAgentRegistry *self, const AstraHeartbeat *heartbeat, GError **error)
{
	AstraAgent *agent;
	gint64 now;
	gint64 timestamp;

	g_return_val_if_fail (ASTRA_IS_AGENT_REGISTRY (self), FALSE);
	g_return_val_if_fail (heartbeat != NULL, FALSE);
	g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

	if (!astra_agent_check_heartbeat (heartbeat, error))
		return FALSE;
	now = astra_clock_now (self->clock);
	timestamp = heartbeat->timestamp_us != 0 ? MIN (heartbeat->timestamp_us, now) : now;
	agent = g_hash_table_lookup (self->agents, heartbeat->agent_id);
	if (agent == NULL)
		return astra_agent_registry_register (self, heartbeat, timestamp, now, error);

	if (timestamp < agent->info.last_timestamp_us) {
		g_debug ("agent %s: heartbeat of %" G_GINT64_FORMAT " is older than the last one (%" G_GINT64_FORMAT
			 "), ignored",
			 agent->info.agent_id,
			 timestamp,
			 agent->info.last_timestamp_us);
		return TRUE;
	}
	astra_agent_update_string (&agent->info.hostname, heartbeat->hostname);
	astra_agent_update_string (&agent->info.tenant_id, heartbeat->tenant_id);
	astra_agent_update_string (&agent->info.version, heartbeat->version);
	astra_agent_update_string (&agent->info.address, heartbeat->address);
	if (heartbeat->interval_us > 0)
		agent->info.interval_us = heartbeat->interval_us;
	agent->info.last_seen_us = now;
	agent->info.last_timestamp_us = timestamp;
	astra_agent_schedule (agent);
	astra_agent_mark_dirty (agent);
	if (!agent->info.online) {
		g_debug ("agent %s is online again", agent->info.agent_id);
		agent->info.online = TRUE;
		astra_agent_emit_status_changed (agent);
	}
	return TRUE;
}

static gint
astra_agent_compare_deadline (gconstpointer a, gconstpointer b)
{
	const AstraAgent *agent_a = *(AstraAgent *const *) a;
	const AstraAgent *agent_b = *(AstraAgent *const *) b;
	gint64 deadline_a = astra_agent_get_deadline (agent_a);
	gint64 deadline_b = astra_agent_get_deadline (agent_b);

	if (deadline_a != deadline_b)
		return deadline_a < deadline_b ? -1 : 1;
	return strcmp (agent_a->info.agent_id, agent_b->info.agent_id);
}

/**
 * astra_agent_registry_restore:
 * @self: a #AstraAgentRegistry
 * @error: return location for a #GError
 *
 * Loads the agents of the state database, once, before any heartbeat. None
 * is registered again. Online agents get their deadline back (last_seen +
 * offline-after); those whose deadline passed while the daemon was down go
 * offline now, with agent.status_changed, in deadline order. Offline agents stay
 * offline without an event.
 *
 * Returns: %TRUE on success
 *
 * Since: 1.0
 */
gboolean
astra_agent_registry_restore (AstraAgentRegistry *self, GError **error)
{
	g_autoptr(GPtrArray) overdue = g_ptr_array_new ();
	sqlite3_stmt *stmt;
	gint64 now;
	int rc;

	g_return_val_if_fail (ASTRA_IS_AGENT_REGISTRY (self), FALSE);
	g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

	if (self->restored || g_hash_table_size (self->agents) > 0) {
		g_set_error_literal (error,
				     ASTRA_ERROR,
				     ASTRA_ERROR_FAILED,
				     "agents: restoring is only possible once, before any heartbeat");
		return FALSE;
	}
	self->restored = TRUE;
	if (self->state_db == NULL)
		return TRUE;
	if (!astra_agent_registry_ensure_schema (self, error))
		return FALSE;
	stmt = astra_state_db_prepare (self->state_db,
				       "SELECT id, hostname, tenant, version, address, interval_us, first_seen_us, "
				       "last_seen_us, last_timestamp_us, online FROM agents",
				       error);
	if (stmt == NULL)
		return FALSE;

	now = astra_clock_now (self->clock);
	while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
		AstraAgent *agent = astra_agent_new (self);

		agent->info.agent_id = astra_state_db_column_strdup (stmt, 0);
		agent->info.hostname = astra_state_db_column_strdup (stmt, 1);
		agent->info.tenant_id = astra_state_db_column_strdup (stmt, 2);
		agent->info.version = astra_state_db_column_strdup (stmt, 3);
		agent->info.address = astra_state_db_column_strdup (stmt, 4);
		agent->info.interval_us = CLAMP (sqlite3_column_int64 (stmt, 5), 0, ASTRA_AGENT_MAX_INTERVAL_US);
		agent->info.first_seen_us = sqlite3_column_int64 (stmt, 6);
		agent->info.last_seen_us = sqlite3_column_int64 (stmt, 7);
		agent->info.last_timestamp_us = sqlite3_column_int64 (stmt, 8);
		agent->info.online = sqlite3_column_int (stmt, 9) != 0;
		if (agent->info.agent_id == NULL || agent->info.hostname == NULL || agent->info.tenant_id == NULL) {
			/* the table's NOT NULL constraints make this unreachable */
			astra_agent_free (agent);
			continue;
		}
		g_hash_table_insert (self->agents, agent->info.agent_id, agent);
		if (!agent->info.online)
			continue;
		if (astra_agent_get_deadline (agent) <= now)
			g_ptr_array_add (overdue, agent);
		else
			astra_agent_schedule (agent);
	}
	sqlite3_reset (stmt);
	if (rc != SQLITE_DONE) {
		if (!astra_state_db_check (self->state_db, rc, error))
			g_prefix_error (error, "agents: ");
		else
			g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_FAILED, "agents: reading failed (%d)", rc);
		return FALSE;
	}
	g_debug ("restored %u agents, %u of them now offline",
		 g_hash_table_size (self->agents),
		 overdue->len);

	/* after the statement is done: the sink may write to the database */
	g_ptr_array_sort (overdue, astra_agent_compare_deadline);
	for (guint i = 0; i < overdue->len; i++) {
		AstraAgent *agent = g_ptr_array_index (overdue, i);
		agent->info.online = FALSE;
		astra_agent_mark_dirty (agent);
		astra_agent_emit_status_changed (agent);
	}
	return TRUE;
}

/**
 * astra_agent_registry_set_default_offline_after:
 * @self: a #AstraAgentRegistry
 * @offline_after_us: microseconds, more than 0
 *
 * Sets how long agents that report no interval may stay silent (default 5
 * minutes). Online agents without an interval get their deadline moved.
 *
 * Since: 1.0
 */
void
astra_agent_registry_set_default_offline_after (AstraAgentRegistry *self, gint64 offline_after_us)
{
	GHashTableIter iter;
	gpointer value;

	g_return_if_fail (ASTRA_IS_AGENT_REGISTRY (self));
	g_return_if_fail (offline_after_us > 0);

	if (self->default_offline_after_us == offline_after_us)
		return;
	self->default_offline_after_us = offline_after_us;
	g_hash_table_iter_init (&iter, self->agents);
	while (g_hash_table_iter_next (&iter, NULL, &value)) {
		AstraAgent *agent = value;
		if (agent->info.online && agent->info.interval_us == 0)
			astra_agent_schedule (agent);
	}
}

/**
 * astra_agent_registry_lookup:
 * @self: a #AstraAgentRegistry
 * @agent_id: an agent id
 *
 * Finds an agent.
 *
 * Returns: (transfer none) (nullable): what is known of the agent, valid
 *   until the registry is destroyed; %NULL if unknown
 *
 * Since: 1.0
 */
const AstraAgentInfo *
astra_agent_registry_lookup (AstraAgentRegistry *self, const char *agent_id)
{
	AstraAgent *agent;

	g_return_val_if_fail (ASTRA_IS_AGENT_REGISTRY (self), NULL);

	if (agent_id == NULL)
		return NULL;
	agent = g_hash_table_lookup (self->agents, agent_id);
	return agent != NULL ? &agent->info : NULL;
}

/**
 * astra_agent_registry_is_offline:
 * @self: a #AstraAgentRegistry
 * @agent_id: an agent id
 *
 * Checks whether a known agent is offline.
 *
 * Returns: %TRUE if the agent is known and offline
 *
 * Since: 1.0
 */
gboolean
astra_agent_registry_is_offline (AstraAgentRegistry *self, const char *agent_id)
{
	const AstraAgentInfo *info = astra_agent_registry_lookup (self, agent_id);
	return info != NULL && !info->online;
}

/**
 * astra_agent_registry_get_size:
 * @self: a #AstraAgentRegistry
 *
 * Returns: the number of known agents
 *
 * Since: 1.0
 */
guint
astra_agent_registry_get_size (AstraAgentRegistry *self)
{
	g_return_val_if_fail (ASTRA_IS_AGENT_REGISTRY (self), 0);
	return g_hash_table_size (self->agents);
}

static gint
astra_agent_compare_id (gconstpointer a, gconstpointer b)
{
	const AstraAgentInfo *info_a = *(const AstraAgentInfo *const *) a;
	const AstraAgentInfo *info_b = *(const AstraAgentInfo *const *) b;
	return strcmp (info_a->agent_id, info_b->agent_id);
}

/**
 * astra_agent_registry_list:
 * @self: a #AstraAgentRegistry
 *
 * Lists every agent, sorted by id.
 *
 * Returns: (transfer container) (element-type AstraAgentInfo): the agents,
 *   owned by the registry
 *
 * Since: 1.0
 */
GPtrArray *
astra_agent_registry_list (AstraAgentRegistry *self)
{
	GPtrArray *list;
	GHashTableIter iter;
	gpointer value;

	g_return_val_if_fail (ASTRA_IS_AGENT_REGISTRY (self), NULL);

	list = g_ptr_array_sized_new (g_hash_table_size (self->agents));
	g_hash_table_iter_init (&iter, self->agents);
	while (g_hash_table_iter_next (&iter, NULL, &value))
		g_ptr_array_add (list, &((AstraAgent *) value)->info);
	g_ptr_array_sort (list, astra_agent_compare_id);
	return list;
}

static void
astra_agent_registry_finalize (GObject *object)
{
	AstraAgentRegistry *self = ASTRA_AGENT_REGISTRY (object);
	g_autoptr(GError) error_local = NULL;

	if (!astra_agent_registry_flush (self, &error_local))
		g_warning ("%s", error_local->message);
	g_hash_table_unref (self->agents);
	g_ptr_array_unref (self->dirty);
	g_clear_object (&self->state_db);
	g_object_unref (self->clock);

	G_OBJECT_CLASS (astra_agent_registry_parent_class)->finalize (object);
}

static void
astra_agent_registry_class_init (AstraAgentRegistryClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS (klass);
	object_class->finalize = astra_agent_registry_finalize;
}

static void
astra_agent_registry_init (AstraAgentRegistry *self)
{
	self->default_offline_after_us = ASTRA_AGENT_DEFAULT_OFFLINE_AFTER_US;
	self->agents = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) astra_agent_free);
	self->dirty = g_ptr_array_new ();
}

/**
 * astra_agent_registry_new:
 * @clock: the clock deadlines run on
 * @state_db: (nullable): where agents are persisted, or %NULL
 * @sink: (nullable): receives agent.registered and agent.status_changed
 *   events (transfer none), in order
 * @sink_data: data for @sink
 *
 * Creates an empty registry; call astra_agent_registry_restore() to load
 * the persisted agents.
 *
 * Returns: (transfer full): a new #AstraAgentRegistry
 *
 * Since: 1.0
 */
AstraAgentRegistry *
astra_agent_registry_new (AstraClock *clock,
			  AstraStateDb *state_db,
			  AstraEventSinkFunc sink,
			  gpointer sink_data)
{
	AstraAgentRegistry *self;

	g_return_val_if_fail (ASTRA_IS_CLOCK (clock), NULL);
	g_return_val_if_fail (state_db == NULL || ASTRA_IS_STATE_DB (state_db), NULL);

	self = g_object_new (ASTRA_TYPE_AGENT_REGISTRY, NULL);
	self->clock = g_object_ref (clock);
	self->state_db = state_db != NULL ? g_object_ref (state_db) : NULL;
	self->sink = sink;
	self->sink_data = sink_data;
	return self;
}
