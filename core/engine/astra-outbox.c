/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "astra-outbox.h"

/**
 * AstraOutbox:
 *
 * The durable queue of (event, webhook) deliveries and their history, in
 * the state database. See astra-outbox.h for the tables.
 */
struct _AstraOutbox {
	GObject parent_instance;
	AstraStateDb *db;
	guint64 add_transaction; /* the transaction the newest deliveries were added in */
};

G_DEFINE_FINAL_TYPE (AstraOutbox, astra_outbox, G_TYPE_OBJECT)

/* the states in the order of AstraDeliveryState, whose values are on disk */
static const char *const astra_delivery_states[] = {
	[ASTRA_DELIVERY_STATE_PENDING] = "pending",
	[ASTRA_DELIVERY_STATE_DELIVERED] = "delivered",
	[ASTRA_DELIVERY_STATE_DEAD] = "dead",
	[ASTRA_DELIVERY_STATE_SKIPPED] = "skipped",
	[ASTRA_DELIVERY_STATE_SILENCED] = "silenced",
};
G_STATIC_ASSERT (G_N_ELEMENTS (astra_delivery_states) == ASTRA_DELIVERY_STATE_LAST);

#define ASTRA_OUTBOX_REDELIVERED "redelivered by request"

#define ASTRA_OUTBOX_SCHEMA_SQL                                                                              \
	"CREATE TABLE IF NOT EXISTS outbox_events ("                                                         \
	"id TEXT PRIMARY KEY NOT NULL, "                                                                     \
	"type TEXT NOT NULL, "                                                                               \
	"timestamp INTEGER NOT NULL, "                                                                       \
	"created_us INTEGER NOT NULL, "                                                                      \
	"body BLOB NOT NULL);"                                                                               \
	"CREATE TABLE IF NOT EXISTS outbox_deliveries ("                                                     \
	"id INTEGER PRIMARY KEY AUTOINCREMENT, "                                                             \
	"event_id TEXT NOT NULL, "                                                                           \
	"webhook TEXT NOT NULL, "                                                                            \
	"order_key TEXT NOT NULL, "                                                                          \
	"state INTEGER NOT NULL, "                                                                           \
	"attempts INTEGER NOT NULL, "                                                                        \
	"created_us INTEGER NOT NULL, "                                                                      \
	"next_attempt_us INTEGER NOT NULL, "                                                                 \
	"updated_us INTEGER NOT NULL, "                                                                      \
	"last_status INTEGER NOT NULL, "                                                                     \
	"last_latency_us INTEGER NOT NULL, "                                                                 \
	"last_reason TEXT, "                                                                                 \
	"last_response BLOB);"                                                                               \
	"CREATE INDEX IF NOT EXISTS outbox_deliveries_pending "                                              \
	"ON outbox_deliveries (webhook, id) WHERE state = 0;"                                                \
	"CREATE INDEX IF NOT EXISTS outbox_deliveries_history "                                              \
	"ON outbox_deliveries (webhook, state, updated_us);"                                                 \
	"CREATE INDEX IF NOT EXISTS outbox_deliveries_state "                                                \
	"ON outbox_deliveries (state, updated_us);"                                                          \
	"CREATE INDEX IF NOT EXISTS outbox_deliveries_event ON outbox_deliveries (event_id);"                \
	"CREATE TABLE IF NOT EXISTS outbox_attempts ("                                                       \
	"delivery_id INTEGER NOT NULL, "                                                                     \
	"attempt INTEGER NOT NULL, "                                                                         \
	"started_us INTEGER NOT NULL, "                                                                      \
	"status INTEGER NOT NULL, "                                                                          \
	"latency_us INTEGER NOT NULL, "                                                                      \
	"outcome INTEGER NOT NULL, "                                                                         \
	"skipped INTEGER NOT NULL, "                                                                         \
	"reason TEXT, "                                                                                      \
	"PRIMARY KEY (delivery_id, attempt)) WITHOUT ROWID;"

/* the columns astra_outbox_delivery_from_row() reads, in its order */
#define ASTRA_OUTBOX_DELIVERY_COLUMNS                                                                        \
	"SELECT d.id, d.event_id, e.type, d.webhook, d.order_key, d.state, d.attempts, "                     \
	"d.created_us, d.next_attempt_us, d.updated_us, d.last_status, d.last_latency_us, "                  \
	"d.last_reason, d.last_response "
#define ASTRA_OUTBOX_JOIN_EVENT "LEFT JOIN outbox_events e ON e.id = d.event_id "
#define ASTRA_OUTBOX_SELECT_DELIVERY                                                                         \
	ASTRA_OUTBOX_DELIVERY_COLUMNS "FROM outbox_deliveries d " ASTRA_OUTBOX_JOIN_EVENT

/* queries of pending deliveries name the partial index: without statistics the planner
 * prefers (state, updated_us) and sorts, which is O(pending) instead of O(log n) */
#define ASTRA_OUTBOX_FROM_PENDING "FROM outbox_deliveries INDEXED BY outbox_deliveries_pending "
#define ASTRA_OUTBOX_SQL_LOAD_PENDING                                                                        \
	ASTRA_OUTBOX_DELIVERY_COLUMNS                                                                        \
	"FROM outbox_deliveries d INDEXED BY outbox_deliveries_pending " ASTRA_OUTBOX_JOIN_EVENT             \
	"WHERE d.webhook = ?1 AND d.state = 0 AND d.id > ?2 ORDER BY d.id LIMIT ?3"
#define ASTRA_OUTBOX_SQL_LOOKUP ASTRA_OUTBOX_SELECT_DELIVERY "WHERE d.id = ?1"
#define ASTRA_OUTBOX_SQL_LIST_WEBHOOK                                                                        \
	ASTRA_OUTBOX_SELECT_DELIVERY                                                                         \
	"WHERE d.webhook = ?1 AND d.state = ?2 AND d.updated_us >= ?3 "                                      \
	"ORDER BY d.updated_us DESC, d.id DESC LIMIT ?4"
#define ASTRA_OUTBOX_SQL_LIST_ANY                                                                            \
	ASTRA_OUTBOX_SELECT_DELIVERY                                                                         \
	"WHERE d.state = ?1 AND d.updated_us >= ?2 "                                                         \
	"ORDER BY d.updated_us DESC, d.id DESC LIMIT ?3"

/**
 * astra_delivery_free:
 * @delivery: (nullable): a #AstraDelivery
 *
 * Frees a delivery and what it owns.
 *
 * Since: 1.0
 */
void
astra_delivery_free (AstraDelivery *delivery)
{
	if (delivery == NULL)
		return;
	g_free (delivery->event_id);
	g_free (delivery->event_type);
	g_free (delivery->webhook);
	g_free (delivery->order_key);
	g_free (delivery->last_reason);
	if (delivery->last_response != NULL)
		g_bytes_unref (delivery->last_response);
	g_free (delivery);
}

/**
 * astra_attempt_record_free:
 * @record: (nullable): a #AstraAttemptRecord
 *
 * Frees an attempt record and what it owns.
 *
 * Since: 1.0
 */
void
astra_attempt_record_free (AstraAttemptRecord *record)
{
	if (record == NULL)
		return;
	g_free (record->reason);
	g_free (record);
}

/**
 * astra_delivery_state_to_string:
 * @state: a #AstraDeliveryState
 *
 * Gets the name of a delivery state, as logs, the CLI and D-Bus show it.
 *
 * Returns: `pending`, `delivered`, `dead`, `skipped` or `silenced`; `unknown` otherwise
 *
 * Since: 1.0
 */
const char *
astra_delivery_state_to_string (AstraDeliveryState state)
{
	if ((guint) state >= ASTRA_DELIVERY_STATE_LAST)
		return "unknown";
	return astra_delivery_states[state];
}

/**
 * astra_delivery_state_from_string:
 * @str: (nullable): a state name
 * @state: (out) (optional): the state
 *
 * Parses the name astra_delivery_state_to_string() gives.
 *
 * Returns: %TRUE if @str names a state
 *
 * Since: 1.0
 */
gboolean
astra_delivery_state_from_string (const char *str, AstraDeliveryState *state)
{
	for (guint i = 0; i < ASTRA_DELIVERY_STATE_LAST; i++) {
		if (g_strcmp0 (str, astra_delivery_states[i]) == 0) {
			if (state != NULL)
				*state = (AstraDeliveryState) i;
			return TRUE;
		}
	}
	return FALSE;
}

/* statements */

/* steps a statement that returns no rows and resets it, so no read lock outlives the call */
static gboolean
astra_outbox_step_done (AstraOutbox *self, sqlite3_stmt *stmt, GError **error)
{
	int rc = sqlite3_step (stmt);

	sqlite3_reset (stmt);
	return astra_state_db_check (self->db, rc, error);
}

static void
astra_outbox_bind_text (sqlite3_stmt *stmt, int index, const char *text)
{
	if (text == NULL)
		sqlite3_bind_null (stmt, index);
	else
		sqlite3_bind_text (stmt, index, text, -1, SQLITE_STATIC);
}

static GBytes *
astra_outbox_column_bytes (sqlite3_stmt *stmt, int column)
{
	const void *data;

	if (sqlite3_column_type (stmt, column) == SQLITE_NULL)
		return NULL;
	data = sqlite3_column_blob (stmt, column);
	return g_bytes_new (data, (gsize) sqlite3_column_bytes (stmt, column));
}

static AstraDeliveryState
astra_outbox_state_from_column (sqlite3_stmt *stmt, int column)
{
	sqlite3_int64 value = sqlite3_column_int64 (stmt, column);

	/* an out-of-range value (an edited database) must not stay pending forever */
	if (value < 0 || value >= ASTRA_DELIVERY_STATE_LAST)
		return ASTRA_DELIVERY_STATE_DEAD;
	return (AstraDeliveryState) value;
}

static AstraDelivery *
astra_outbox_delivery_from_row (sqlite3_stmt *stmt)
{
	AstraDelivery *delivery = g_new0 (AstraDelivery, 1);

	delivery->id = sqlite3_column_int64 (stmt, 0);
	delivery->event_id = astra_state_db_column_strdup (stmt, 1);
	delivery->event_type = astra_state_db_column_strdup (stmt, 2);
	delivery->webhook = astra_state_db_column_strdup (stmt, 3);
	delivery->order_key = astra_state_db_column_strdup (stmt, 4);
	delivery->state = astra_outbox_state_from_column (stmt, 5);
	delivery->attempts = (guint) sqlite3_column_int64 (stmt, 6);
	delivery->created_us = sqlite3_column_int64 (stmt, 7);
	delivery->next_attempt_us = sqlite3_column_int64 (stmt, 8);
	delivery->updated_us = sqlite3_column_int64 (stmt, 9);
	delivery->last_status = (guint) sqlite3_column_int64 (stmt, 10);
	delivery->last_latency_us = sqlite3_column_int64 (stmt, 11);
	delivery->last_reason = astra_state_db_column_strdup (stmt, 12);
	delivery->last_response = astra_outbox_column_bytes (stmt, 13);
	return delivery;
}

/* appends every row of a bound delivery query to @deliveries, then resets it */
static gboolean
astra_outbox_collect_deliveries (AstraOutbox *self, sqlite3_stmt *stmt, GPtrArray *deliveries, GError **error)
{
	int rc;

	while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
		g_ptr_array_add (deliveries, astra_outbox_delivery_from_row (stmt));
	sqlite3_reset (stmt);
	return astra_state_db_check (self->db, rc, error);
}

static guint
astra_outbox_clamp_limit (guint limit)
{
	return MIN (limit, (guint) ASTRA_OUTBOX_MAX_LIMIT);
}

/* the first bytes of a response body, cut so that a text stays valid UTF-8; no copy */
static const char *
astra_outbox_excerpt (GBytes *body, gsize *len)
{
	gsize body_len = 0;
	const char *data;
	const char *end = NULL;

	*len = 0;
	if (body == NULL)
		return NULL;
	data = g_bytes_get_data (body, &body_len);
	if (data == NULL)
		return "";
	if (body_len <= ASTRA_OUTBOX_MAX_EXCERPT) {
		*len = body_len;
		return data;
	}
	*len = ASTRA_OUTBOX_MAX_EXCERPT;
	/* a text cut in the middle of a character: end the excerpt before that character */
	if (!g_utf8_validate_len (data, ASTRA_OUTBOX_MAX_EXCERPT, &end) && *end != '\0' &&
	    data + ASTRA_OUTBOX_MAX_EXCERPT - end < 4) {
		gunichar c = g_utf8_get_char_validated (end, (gssize) (body_len - (gsize) (end - data)));

		if (c != (gunichar) -1 && c != (gunichar) -2)
			*len = (gsize) (end - data);
	}
	return data;
}

/* schema */

static gboolean
astra_outbox_ensure_schema (AstraOutbox *self, GError **error)
{
	return astra_state_db_ensure_schema (self->db, ASTRA_OUTBOX_DB_MODULE, ASTRA_OUTBOX_SCHEMA_VERSION,
					     ASTRA_OUTBOX_SCHEMA_SQL, error);
}

/* writing */

/* removes the event if no delivery refers to it */
static gboolean
astra_outbox_delete_orphan_event (AstraOutbox *self, const char *event_id, GError **error)
{
	sqlite3_stmt *stmt = astra_state_db_prepare (self->db,
						     "DELETE FROM outbox_events WHERE id = ?1 AND NOT EXISTS "
						     "(SELECT 1 FROM outbox_deliveries WHERE event_id = ?1)",
						     error);

	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_text (stmt, 1, event_id, -1, SQLITE_STATIC);
	return astra_outbox_step_done (self, stmt, error);
}

static AstraDelivery *
astra_outbox_delivery_new (
    gint64 id, AstraEvent *event, const char *webhook, const char *order_key, gint64 now_us)
{
	AstraDelivery *delivery = g_new0 (AstraDelivery, 1);

	delivery->id = id;
	delivery->event_id = g_strdup (astra_event_get_id (event));
	delivery->event_type = g_strdup (astra_event_get_type_name (event));
	delivery->webhook = g_strdup (webhook);
	delivery->order_key = g_strdup (order_key);
	delivery->state = ASTRA_DELIVERY_STATE_PENDING;
	delivery->created_us = now_us;
	delivery->next_attempt_us = now_us;
	delivery->updated_us = now_us;
	return delivery;
}

/* stores the event's body unless its id is stored already */
static gboolean
astra_outbox_insert_event (AstraOutbox *self, AstraEvent *event, gint64 now_us, GError **error)
{
	const char *event_id = astra_event_get_id (event);
	const char *body_data;
	gsize body_len = 0;
	sqlite3_stmt *stmt;

	stmt = astra_state_db_prepare (
	    self->db,
	    "INSERT OR IGNORE INTO outbox_events (id, type, timestamp, created_us, body) "
	    "VALUES (?1, ?2, ?3, ?4, ?5)",
	    error);
	if (stmt == NULL)
		return FALSE;
	body_data = g_bytes_get_data (astra_event_get_body (event), &body_len);
	sqlite3_bind_text (stmt, 1, event_id, -1, SQLITE_STATIC);
	sqlite3_bind_text (stmt, 2, astra_event_get_type_name (event), -1, SQLITE_STATIC);
	sqlite3_bind_int64 (stmt, 3, astra_event_get_timestamp (event));
	sqlite3_bind_int64 (stmt, 4, now_us);
	sqlite3_bind_blob64 (stmt, 5, body_data != NULL ? body_data : "", body_len, SQLITE_STATIC);
	if (!astra_outbox_step_done (self, stmt, error)) {
		g_prefix_error (error, "outbox: event %s: ", event_id);
		return FALSE;
	}
	return TRUE;
}

/**
 * astra_outbox_add:
 * @self: a #AstraOutbox
 * @event: the event
 * @order_key: (nullable): the key that orders the deliveries, %NULL for the event id
 * @webhooks: (array zero-terminated=1) (nullable): the names of the webhooks to deliver to
 * @now_us: the time, unix microseconds: creation and due time of the deliveries
 * @out: (element-type AstraDelivery) (nullable): where the new deliveries are appended; its free
 *   function must be astra_delivery_free()
 * @error: return location for a #GError
 *
 * Stores @event's canonical body once (an event id already stored keeps its
 * body) and one pending delivery per webhook, in the state database's
 * current transaction. Nothing is stored without webhooks.
 *
 * Returns: %TRUE on success; on error nothing is appended to @out
 *
 * Since: 1.0
 */
gboolean
astra_outbox_add (AstraOutbox *self,
		  AstraEvent *event,
		  const char *order_key,
		  const char *const *webhooks,
		  gint64 now_us,
		  GPtrArray *out,
		  GError **error)
{
	sqlite3 *handle;
	sqlite3_stmt *stmt;
	const char *event_id;
	guint out_len = out != NULL ? out->len : 0;

	g_return_val_if_fail (ASTRA_IS_OUTBOX (self), FALSE);
	g_return_val_if_fail (ASTRA_IS_EVENT (event), FALSE);
	g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

	if (webhooks == NULL || webhooks[0] == NULL)
		return TRUE;
	event_id = astra_event_get_id (event);
	if (order_key == NULL)
		order_key = event_id;
	handle = astra_state_db_get_handle (self->db);
	astra_state_db_begin (self->db);
	self->add_transaction = astra_state_db_get_transaction (self->db);
	if (!astra_outbox_insert_event (self, event, now_us, error))
		return FALSE;

	stmt = astra_state_db_prepare (
	    self->db,
	    "INSERT INTO outbox_deliveries (event_id, webhook, order_key, state, attempts, "
	    "created_us, next_attempt_us, updated_us, last_status, last_latency_us) "
	    "VALUES (?1, ?2, ?3, 0, 0, ?4, ?4, ?4, 0, 0)",
	    error);
	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_text (stmt, 1, event_id, -1, SQLITE_STATIC);
	sqlite3_bind_text (stmt, 3, order_key, -1, SQLITE_STATIC);
	sqlite3_bind_int64 (stmt, 4, now_us);
	for (guint i = 0; webhooks[i] != NULL; i++) {
		/* the other bindings survive the reset */
		sqlite3_bind_text (stmt, 2, webhooks[i], -1, SQLITE_STATIC);
		if (!astra_outbox_step_done (self, stmt, error)) {
			g_prefix_error (error, "outbox: event %s for %s: ", event_id, webhooks[i]);
			if (out != NULL)
				g_ptr_array_set_size (out, out_len);
			/* an event nothing refers to would never be pruned */
			if (i == 0)
				astra_outbox_delete_orphan_event (self, event_id, NULL);
			return FALSE;
		}
		if (out != NULL) {
			g_ptr_array_add (out,
					 astra_outbox_delivery_new (sqlite3_last_insert_rowid (handle), event,
								    webhooks[i], order_key, now_us));
		}
	}
	return TRUE;
}

/**
 * astra_outbox_add_silenced:
 * @self: a #AstraOutbox
 * @event: the event a silence held back
 * @webhooks: (array zero-terminated=1) (nullable): the webhooks that would have got it
 * @silence_id: the silence's id
 * @now_us: the time, unix microseconds: creation and update time of the deliveries
 * @error: return location for a #GError
 *
 * Records that a silence held an event back from @webhooks: the event's
 * body once (as astra_outbox_add() stores it) and one delivery per webhook
 * in the state %ASTRA_DELIVERY_STATE_SILENCED, with no attempt and the last
 * reason "silenced by @silence_id". Such deliveries are history only: they
 * are never pending, so neither recovery nor astra_outbox_load_pending()
 * sees them, and pruning treats them like delivered ones. An admin can
 * still send one with astra_outbox_redeliver(). Nothing is stored without
 * webhooks.
 *
 * Returns: %TRUE on success
 *
 * Since: 1.0
 */
gboolean
astra_outbox_add_silenced (AstraOutbox *self,
			   AstraEvent *event,
			   const char *const *webhooks,
			   const char *silence_id,
			   gint64 now_us,
			   GError **error)
{
	g_autofree char *reason = NULL;
	sqlite3_stmt *stmt;
	const char *event_id;

	g_return_val_if_fail (ASTRA_IS_OUTBOX (self), FALSE);
	g_return_val_if_fail (ASTRA_IS_EVENT (event), FALSE);
	g_return_val_if_fail (silence_id != NULL, FALSE);
	g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

	if (webhooks == NULL || webhooks[0] == NULL)
		return TRUE;
	event_id = astra_event_get_id (event);
	/* nothing will be sent: no need for the flush before sending astra_outbox_add() asks for */
	astra_state_db_begin (self->db);
	if (!astra_outbox_insert_event (self, event, now_us, error))
		return FALSE;

	stmt = astra_state_db_prepare (
	    self->db,
	    "INSERT INTO outbox_deliveries (event_id, webhook, order_key, state, attempts, "
	    "created_us, next_attempt_us, updated_us, last_status, last_latency_us, last_reason) "
	    "VALUES (?1, ?2, ?1, ?3, 0, ?4, ?4, ?4, 0, 0, ?5)",
	    error);
	if (stmt == NULL)
		return FALSE;
	reason = g_strdup_printf ("silenced by %s", silence_id);
	sqlite3_bind_text (stmt, 1, event_id, -1, SQLITE_STATIC);
	sqlite3_bind_int (stmt, 3, (int) ASTRA_DELIVERY_STATE_SILENCED);
	sqlite3_bind_int64 (stmt, 4, now_us);
	sqlite3_bind_text (stmt, 5, reason, -1, SQLITE_STATIC);
	for (guint i = 0; webhooks[i] != NULL; i++) {
		sqlite3_bind_text (stmt, 2, webhooks[i], -1, SQLITE_STATIC);
		if (!astra_outbox_step_done (self, stmt, error)) {
			g_prefix_error (error, "outbox: event %s for %s: ", event_id, webhooks[i]);
			if (i == 0)
				astra_outbox_delete_orphan_event (self, event_id, NULL);
			return FALSE;
		}
	}
	return TRUE;
}

/**
 * astra_outbox_record_attempt:
 * @self: a #AstraOutbox
 * @delivery_id: the delivery
 * @attempt: what the attempt came to
 * @state: the delivery's state from now on
 * @next_attempt_us: for %ASTRA_DELIVERY_STATE_PENDING, when the next attempt is due
 * @reason: (nullable): why the delivery is in @state, %NULL for the attempt's reason
 * @error: return location for a #GError
 *
 * Records an attempt (numbered by the delivery's count of attempts) and
 * moves the delivery on: one update and one insert in the current
 * transaction. The response body is kept as an excerpt of at most
 * %ASTRA_OUTBOX_MAX_EXCERPT bytes.
 *
 * Returns: %TRUE on success; %ASTRA_ERROR_NOT_FOUND if there is no such delivery
 *
 * Since: 1.0
 */
gboolean
astra_outbox_record_attempt (AstraOutbox *self,
			     gint64 delivery_id,
			     const AstraAttempt *attempt,
			     AstraDeliveryState state,
			     gint64 next_attempt_us,
			     const char *reason,
			     GError **error)
{
	sqlite3_stmt *stmt;
	const char *excerpt;
	gsize excerpt_len = 0;

	g_return_val_if_fail (ASTRA_IS_OUTBOX (self), FALSE);
	g_return_val_if_fail (attempt != NULL, FALSE);
	g_return_val_if_fail ((guint) state < ASTRA_DELIVERY_STATE_LAST, FALSE);
	g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

	astra_state_db_begin (self->db);
	/* no RETURNING: it costs more than the update itself; the insert reads the count */
	stmt = astra_state_db_prepare (self->db,
				       "UPDATE outbox_deliveries SET state = ?2, attempts = attempts + 1, "
				       "next_attempt_us = ?3, updated_us = ?4, last_status = ?5, "
				       "last_latency_us = ?6, last_reason = ?7, last_response = ?8 "
				       "WHERE id = ?1",
				       error);
	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_int64 (stmt, 1, delivery_id);
	sqlite3_bind_int (stmt, 2, (int) state);
	sqlite3_bind_int64 (stmt, 3, next_attempt_us);
	sqlite3_bind_int64 (stmt, 4, attempt->started_at + attempt->latency_us);
	sqlite3_bind_int64 (stmt, 5, attempt->status);
	sqlite3_bind_int64 (stmt, 6, attempt->latency_us);
	astra_outbox_bind_text (stmt, 7, reason != NULL ? reason : attempt->reason);
	excerpt = astra_outbox_excerpt (attempt->response_body, &excerpt_len);
	if (excerpt != NULL)
		sqlite3_bind_blob64 (stmt, 8, excerpt, excerpt_len, SQLITE_STATIC);
	if (!astra_outbox_step_done (self, stmt, error)) {
		g_prefix_error (error, "outbox: delivery %" G_GINT64_FORMAT ": ", delivery_id);
		return FALSE;
	}
	if (sqlite3_changes (astra_state_db_get_handle (self->db)) == 0) {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_NOT_FOUND,
			     "outbox: no delivery %" G_GINT64_FORMAT, delivery_id);
		return FALSE;
	}

	stmt = astra_state_db_prepare (
	    self->db,
	    "INSERT OR REPLACE INTO outbox_attempts (delivery_id, attempt, started_us, "
	    "status, latency_us, outcome, skipped, reason) "
	    "SELECT id, attempts, ?2, ?3, ?4, ?5, ?6, ?7 FROM outbox_deliveries WHERE id = ?1",
	    error);
	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_int64 (stmt, 1, delivery_id);
	sqlite3_bind_int64 (stmt, 2, attempt->started_at);
	sqlite3_bind_int64 (stmt, 3, attempt->status);
	sqlite3_bind_int64 (stmt, 4, attempt->latency_us);
	sqlite3_bind_int (stmt, 5, (int) attempt->outcome);
	sqlite3_bind_int (stmt, 6, attempt->skipped ? 1 : 0);
	astra_outbox_bind_text (stmt, 7, attempt->reason);
	if (!astra_outbox_step_done (self, stmt, error)) {
		g_prefix_error (error, "outbox: delivery %" G_GINT64_FORMAT ": ", delivery_id);
		return FALSE;
	}
	return TRUE;
}

/**
 * astra_outbox_redeliver:
 * @self: a #AstraOutbox
 * @delivery_id: the delivery
 * @now_us: the time, unix microseconds
 * @error: return location for a #GError
 *
 * Makes a delivery pending again and due at @now_us, whatever its state
 * (a silenced one is then sent after all); its attempts and their history
 * are kept, and its last reason says it was redelivered and what the reason
 * was before.
 *
 * Returns: %TRUE on success; %ASTRA_ERROR_NOT_FOUND if there is no such delivery
 *
 * Since: 1.0
 */
gboolean
astra_outbox_redeliver (AstraOutbox *self, gint64 delivery_id, gint64 now_us, GError **error)
{
	sqlite3_stmt *stmt;

	g_return_val_if_fail (ASTRA_IS_OUTBOX (self), FALSE);
	g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

	astra_state_db_begin (self->db);
	/* the CASE reads the old state: a pending delivery keeps its reason */
	stmt = astra_state_db_prepare (self->db,
				       "UPDATE outbox_deliveries SET next_attempt_us = ?2, updated_us = ?2, "
				       "last_reason = CASE WHEN state = 0 THEN last_reason "
				       "WHEN last_reason IS NULL THEN '" ASTRA_OUTBOX_REDELIVERED "' "
				       "ELSE '" ASTRA_OUTBOX_REDELIVERED "; was: ' || last_reason END, "
				       "state = 0 WHERE id = ?1",
				       error);
	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_int64 (stmt, 1, delivery_id);
	sqlite3_bind_int64 (stmt, 2, now_us);
	if (!astra_outbox_step_done (self, stmt, error))
		return FALSE;
	if (sqlite3_changes (astra_state_db_get_handle (self->db)) == 0) {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_NOT_FOUND,
			     "outbox: no delivery %" G_GINT64_FORMAT, delivery_id);
		return FALSE;
	}
	return TRUE;
}

/* reading */

/**
 * astra_outbox_load_event:
 * @self: a #AstraOutbox
 * @event_id: the event's id
 * @error: return location for a #GError
 *
 * Rebuilds a stored event from its canonical body.
 *
 * Returns: (transfer full): the event; %NULL with %ASTRA_ERROR_NOT_FOUND if
 *   it is not stored, or %ASTRA_ERROR_INVALID_DATA naming the event if its
 *   stored body is not a valid event
 *
 * Since: 1.0
 */
AstraEvent *
astra_outbox_load_event (AstraOutbox *self, const char *event_id, GError **error)
{
	g_autoptr(GBytes) body = NULL;
	g_autoptr(GError) error_local = NULL;
	AstraEvent *event;
	sqlite3_stmt *stmt;
	int rc;

	g_return_val_if_fail (ASTRA_IS_OUTBOX (self), NULL);
	g_return_val_if_fail (event_id != NULL, NULL);
	g_return_val_if_fail (error == NULL || *error == NULL, NULL);

	stmt = astra_state_db_prepare (self->db, "SELECT body FROM outbox_events WHERE id = ?1", error);
	if (stmt == NULL)
		return NULL;
	sqlite3_bind_text (stmt, 1, event_id, -1, SQLITE_STATIC);
	rc = sqlite3_step (stmt);
	if (rc == SQLITE_ROW)
		body = astra_outbox_column_bytes (stmt, 0);
	sqlite3_reset (stmt);
	if (!astra_state_db_check (self->db, rc, error)) {
		g_prefix_error (error, "outbox: event %s: ", event_id);
		return NULL;
	}
	if (rc != SQLITE_ROW) {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_NOT_FOUND, "outbox: event %s is not stored",
			     event_id);
		return NULL;
	}
	if (body == NULL) {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA, "outbox: event %s has no body",
			     event_id);
		return NULL;
	}
	event = astra_event_new_from_body (event_id, body, &error_local);
	if (event == NULL) {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA,
			     "outbox: event %s: stored body is corrupt: %s", event_id, error_local->message);
		return NULL;
	}
	return event;
}

/**
 * astra_outbox_load_pending:
 * @self: a #AstraOutbox
 * @webhook: a webhook name
 * @after_id: only deliveries with a larger id; 0 for all
 * @limit: the most to return, at most %ASTRA_OUTBOX_MAX_LIMIT
 * @error: return location for a #GError
 *
 * Pages through a webhook's pending deliveries in id (creation) order.
 *
 * Returns: (transfer container) (element-type AstraDelivery): the deliveries, or %NULL on error
 *
 * Since: 1.0
 */
GPtrArray *
astra_outbox_load_pending (
    AstraOutbox *self, const char *webhook, gint64 after_id, guint limit, GError **error)
{
	g_autoptr(GPtrArray) deliveries =
		       g_ptr_array_new_with_free_func ((GDestroyNotify) astra_delivery_free);
	sqlite3_stmt *stmt;

	g_return_val_if_fail (ASTRA_IS_OUTBOX (self), NULL);
	g_return_val_if_fail (webhook != NULL, NULL);
	g_return_val_if_fail (error == NULL || *error == NULL, NULL);

	limit = astra_outbox_clamp_limit (limit);
	if (limit == 0)
		return g_steal_pointer (&deliveries);
	stmt = astra_state_db_prepare (self->db, ASTRA_OUTBOX_SQL_LOAD_PENDING, error);
	if (stmt == NULL)
		return NULL;
	sqlite3_bind_text (stmt, 1, webhook, -1, SQLITE_STATIC);
	sqlite3_bind_int64 (stmt, 2, after_id);
	sqlite3_bind_int64 (stmt, 3, limit);
	if (!astra_outbox_collect_deliveries (self, stmt, deliveries, error))
		return NULL;
	return g_steal_pointer (&deliveries);
}

/**
 * astra_outbox_list_pending_webhooks:
 * @self: a #AstraOutbox
 * @error: return location for a #GError
 *
 * Gets the webhooks that have pending deliveries, with one index lookup
 * per webhook.
 *
 * Returns: (transfer full): the sorted names, or %NULL on error
 *
 * Since: 1.0
 */
GStrv
astra_outbox_list_pending_webhooks (AstraOutbox *self, GError **error)
{
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);

	g_return_val_if_fail (ASTRA_IS_OUTBOX (self), NULL);
	g_return_val_if_fail (error == NULL || *error == NULL, NULL);

	for (;;) {
		const char *last = names->len > 0 ? g_ptr_array_index (names, names->len - 1) : NULL;
		sqlite3_stmt *stmt;
		char *name = NULL;
		int rc;

		/* skips from one webhook to the next in the pending index */
		if (last == NULL) {
			stmt = astra_state_db_prepare (self->db,
						       "SELECT webhook " ASTRA_OUTBOX_FROM_PENDING
						       "WHERE state = 0 "
						       "ORDER BY webhook LIMIT 1",
						       error);
		} else {
			stmt = astra_state_db_prepare (self->db,
						       "SELECT webhook " ASTRA_OUTBOX_FROM_PENDING
						       "WHERE state = 0 "
						       "AND webhook > ?1 ORDER BY webhook LIMIT 1",
						       error);
		}
		if (stmt == NULL)
			return NULL;
		if (last != NULL)
			sqlite3_bind_text (stmt, 1, last, -1, SQLITE_STATIC);
		rc = sqlite3_step (stmt);
		if (rc == SQLITE_ROW)
			name = astra_state_db_column_strdup (stmt, 0);
		sqlite3_reset (stmt);
		if (!astra_state_db_check (self->db, rc, error))
			return NULL;
		if (name == NULL)
			break;
		g_ptr_array_add (names, name);
	}
	g_ptr_array_add (names, NULL);
	return (GStrv) g_ptr_array_free (g_steal_pointer (&names), FALSE);
}

/**
 * astra_outbox_lookup:
 * @self: a #AstraOutbox
 * @delivery_id: the delivery
 * @error: return location for a #GError
 *
 * Reads one delivery.
 *
 * Returns: (transfer full): the delivery; %NULL with %ASTRA_ERROR_NOT_FOUND
 *   if there is none with that id
 *
 * Since: 1.0
 */
AstraDelivery *
astra_outbox_lookup (AstraOutbox *self, gint64 delivery_id, GError **error)
{
	AstraDelivery *delivery = NULL;
	sqlite3_stmt *stmt;
	int rc;

	g_return_val_if_fail (ASTRA_IS_OUTBOX (self), NULL);
	g_return_val_if_fail (error == NULL || *error == NULL, NULL);

	stmt = astra_state_db_prepare (self->db, ASTRA_OUTBOX_SQL_LOOKUP, error);
	if (stmt == NULL)
		return NULL;
	sqlite3_bind_int64 (stmt, 1, delivery_id);
	rc = sqlite3_step (stmt);
	if (rc == SQLITE_ROW)
		delivery = astra_outbox_delivery_from_row (stmt);
	sqlite3_reset (stmt);
	if (!astra_state_db_check (self->db, rc, error))
		return NULL;
	if (delivery == NULL) {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_NOT_FOUND,
			     "outbox: no delivery %" G_GINT64_FORMAT, delivery_id);
	}
	return delivery;
}

static gint
astra_outbox_newest_first_cb (gconstpointer a, gconstpointer b)
{
	const AstraDelivery *da = *(const AstraDelivery *const *) a;
	const AstraDelivery *db = *(const AstraDelivery *const *) b;

	if (da->updated_us != db->updated_us)
		return da->updated_us > db->updated_us ? -1 : 1;
	if (da->id != db->id)
		return da->id > db->id ? -1 : 1;
	return 0;
}

static gboolean
astra_outbox_list_state (AstraOutbox *self,
			 const char *webhook,
			 AstraDeliveryState state,
			 gint64 since_us,
			 guint limit,
			 GPtrArray *deliveries,
			 GError **error)
{
	sqlite3_stmt *stmt;

	if (webhook != NULL) {
		stmt = astra_state_db_prepare (self->db, ASTRA_OUTBOX_SQL_LIST_WEBHOOK, error);
		if (stmt == NULL)
			return FALSE;
		sqlite3_bind_text (stmt, 1, webhook, -1, SQLITE_STATIC);
		sqlite3_bind_int (stmt, 2, (int) state);
		sqlite3_bind_int64 (stmt, 3, since_us);
		sqlite3_bind_int64 (stmt, 4, limit);
	} else {
		stmt = astra_state_db_prepare (self->db, ASTRA_OUTBOX_SQL_LIST_ANY, error);
		if (stmt == NULL)
			return FALSE;
		sqlite3_bind_int (stmt, 1, (int) state);
		sqlite3_bind_int64 (stmt, 2, since_us);
		sqlite3_bind_int64 (stmt, 3, limit);
	}
	return astra_outbox_collect_deliveries (self, stmt, deliveries, error);
}

/**
 * astra_outbox_list:
 * @self: a #AstraOutbox
 * @webhook: (nullable): a webhook name, %NULL for all
 * @state: a #AstraDeliveryState, or -1 for all
 * @since_us: only deliveries last updated at or after this time
 * @limit: the most to return, at most %ASTRA_OUTBOX_MAX_LIMIT
 * @error: return location for a #GError
 *
 * Queries the history: the most recently updated deliveries first (then
 * the newest). Every combination of filters is an index range scan; for
 * all states, one per state, merged.
 *
 * Returns: (transfer container) (element-type AstraDelivery): the deliveries, or %NULL on error
 *
 * Since: 1.0
 */
GPtrArray *
astra_outbox_list (
    AstraOutbox *self, const char *webhook, int state, gint64 since_us, guint limit, GError **error)
{
	g_autoptr(GPtrArray) deliveries =
		       g_ptr_array_new_with_free_func ((GDestroyNotify) astra_delivery_free);

	g_return_val_if_fail (ASTRA_IS_OUTBOX (self), NULL);
	g_return_val_if_fail (state >= -1 && state < (int) ASTRA_DELIVERY_STATE_LAST, NULL);
	g_return_val_if_fail (error == NULL || *error == NULL, NULL);

	limit = astra_outbox_clamp_limit (limit);
	if (limit == 0)
		return g_steal_pointer (&deliveries);
	if (state >= 0) {
		if (!astra_outbox_list_state (self, webhook, state, since_us, limit, deliveries, error))
			return NULL;
		return g_steal_pointer (&deliveries);
	}
	for (guint i = 0; i < ASTRA_DELIVERY_STATE_LAST; i++) {
		if (!astra_outbox_list_state (self, webhook, i, since_us, limit, deliveries, error))
			return NULL;
	}
	g_ptr_array_sort (deliveries, astra_outbox_newest_first_cb);
	if (deliveries->len > limit)
		g_ptr_array_set_size (deliveries, (gint) limit);
	return g_steal_pointer (&deliveries);
}

/**
 * astra_outbox_list_attempts:
 * @self: a #AstraOutbox
 * @delivery_id: the delivery
 * @error: return location for a #GError
 *
 * Gets the recorded attempts of a delivery, oldest first (at most
 * %ASTRA_OUTBOX_MAX_LIMIT). A delivery without attempts, or none with that
 * id, gives an empty array.
 *
 * Returns: (transfer container) (element-type AstraAttemptRecord): the attempts, or %NULL on error
 *
 * Since: 1.0
 */
GPtrArray *
astra_outbox_list_attempts (AstraOutbox *self, gint64 delivery_id, GError **error)
{
	g_autoptr(GPtrArray) records =
		       g_ptr_array_new_with_free_func ((GDestroyNotify) astra_attempt_record_free);
	sqlite3_stmt *stmt;
	int rc;

	g_return_val_if_fail (ASTRA_IS_OUTBOX (self), NULL);
	g_return_val_if_fail (error == NULL || *error == NULL, NULL);

	stmt = astra_state_db_prepare (
	    self->db,
	    "SELECT attempt, started_us, status, latency_us, outcome, skipped, reason "
	    "FROM outbox_attempts WHERE delivery_id = ?1 ORDER BY attempt LIMIT ?2",
	    error);
	if (stmt == NULL)
		return NULL;
	sqlite3_bind_int64 (stmt, 1, delivery_id);
	sqlite3_bind_int64 (stmt, 2, ASTRA_OUTBOX_MAX_LIMIT);
	while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
		AstraAttemptRecord *record = g_new0 (AstraAttemptRecord, 1);

		record->delivery_id = delivery_id;
		record->attempt = (guint) sqlite3_column_int64 (stmt, 0);
		record->started_us = sqlite3_column_int64 (stmt, 1);
		record->status = (guint) sqlite3_column_int64 (stmt, 2);
		record->latency_us = sqlite3_column_int64 (stmt, 3);
		record->outcome = (AstraOutcome) sqlite3_column_int (stmt, 4);
		record->skipped = sqlite3_column_int (stmt, 5) != 0;
		record->reason = astra_state_db_column_strdup (stmt, 6);
		g_ptr_array_add (records, record);
	}
	sqlite3_reset (stmt);
	if (!astra_state_db_check (self->db, rc, error))
		return NULL;
	return g_steal_pointer (&records);
}

/**
 * astra_outbox_count:
 * @self: a #AstraOutbox
 * @webhook: (nullable): a webhook name, %NULL for all
 * @state: a #AstraDeliveryState
 * @error: return location for a #GError
 *
 * Counts deliveries in a state. This walks the matching index entries: for
 * recovery and admin requests, not for every delivery.
 *
 * Returns: the number, 0 on error
 *
 * Since: 1.0
 */
guint
astra_outbox_count (AstraOutbox *self, const char *webhook, AstraDeliveryState state, GError **error)
{
	sqlite3_stmt *stmt;
	gint64 n = 0;
	int rc;

	g_return_val_if_fail (ASTRA_IS_OUTBOX (self), 0);
	g_return_val_if_fail ((guint) state < ASTRA_DELIVERY_STATE_LAST, 0);
	g_return_val_if_fail (error == NULL || *error == NULL, 0);

	if (webhook != NULL && state == ASTRA_DELIVERY_STATE_PENDING) {
		stmt = astra_state_db_prepare (
		    self->db, "SELECT COUNT(*) FROM outbox_deliveries WHERE webhook = ?1 AND state = 0",
		    error);
		if (stmt != NULL)
			sqlite3_bind_text (stmt, 1, webhook, -1, SQLITE_STATIC);
	} else if (webhook != NULL) {
		stmt = astra_state_db_prepare (
		    self->db, "SELECT COUNT(*) FROM outbox_deliveries WHERE webhook = ?1 AND state = ?2",
		    error);
		if (stmt != NULL) {
			sqlite3_bind_text (stmt, 1, webhook, -1, SQLITE_STATIC);
			sqlite3_bind_int (stmt, 2, (int) state);
		}
	} else {
		stmt = astra_state_db_prepare (
		    self->db, "SELECT COUNT(*) FROM outbox_deliveries WHERE state = ?1", error);
		if (stmt != NULL)
			sqlite3_bind_int (stmt, 1, (int) state);
	}
	if (stmt == NULL)
		return 0;
	rc = sqlite3_step (stmt);
	if (rc == SQLITE_ROW)
		n = sqlite3_column_int64 (stmt, 0);
	sqlite3_reset (stmt);
	if (!astra_state_db_check (self->db, rc, error))
		return 0;
	return (guint) MIN (n, (gint64) G_MAXUINT);
}

static gboolean
astra_outbox_oldest_pending_of (AstraOutbox *self, const char *webhook, gint64 *created_us, GError **error)
{
	sqlite3_stmt *stmt;
	int rc;

	stmt = astra_state_db_prepare (self->db,
				       "SELECT created_us " ASTRA_OUTBOX_FROM_PENDING
				       "WHERE webhook = ?1 AND state = 0 ORDER BY id LIMIT 1",
				       error);
	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_text (stmt, 1, webhook, -1, SQLITE_STATIC);
	*created_us = 0;
	rc = sqlite3_step (stmt);
	if (rc == SQLITE_ROW)
		*created_us = sqlite3_column_int64 (stmt, 0);
	sqlite3_reset (stmt);
	return astra_state_db_check (self->db, rc, error);
}

/**
 * astra_outbox_oldest_pending:
 * @self: a #AstraOutbox
 * @webhook: (nullable): a webhook name, %NULL for any
 * @error: return location for a #GError
 *
 * Gets when the oldest pending delivery was made: that with the lowest id,
 * since ids are given in creation order.
 *
 * Returns: its creation time, unix microseconds; 0 if there is none, or on error
 *
 * Since: 1.0
 */
gint64
astra_outbox_oldest_pending (AstraOutbox *self, const char *webhook, GError **error)
{
	g_auto(GStrv) webhooks = NULL;
	gint64 oldest = 0;

	g_return_val_if_fail (ASTRA_IS_OUTBOX (self), 0);
	g_return_val_if_fail (error == NULL || *error == NULL, 0);

	if (webhook != NULL) {
		if (!astra_outbox_oldest_pending_of (self, webhook, &oldest, error))
			return 0;
		return oldest;
	}
	/* one index lookup per webhook, not a scan of every pending delivery */
	webhooks = astra_outbox_list_pending_webhooks (self, error);
	if (webhooks == NULL)
		return 0;
	for (guint i = 0; webhooks[i] != NULL; i++) {
		gint64 created_us = 0;

		if (!astra_outbox_oldest_pending_of (self, webhooks[i], &created_us, error))
			return 0;
		if (created_us != 0 && (oldest == 0 || created_us < oldest))
			oldest = created_us;
	}
	return oldest;
}

/* retention */

/* when the keep_count-th newest delivery was made, G_MININT64 if there are not more than that */
static gboolean
astra_outbox_count_cutoff (AstraOutbox *self, guint keep_count, gint64 *cutoff_us, GError **error)
{
	sqlite3_stmt *stmt;
	gint64 max_id = 0;
	int rc;

	*cutoff_us = G_MININT64;
	if (keep_count == 0)
		return TRUE;
	stmt = astra_state_db_prepare (self->db, "SELECT MAX(id) FROM outbox_deliveries", error);
	if (stmt == NULL)
		return FALSE;
	rc = sqlite3_step (stmt);
	if (rc == SQLITE_ROW)
		max_id = sqlite3_column_int64 (stmt, 0);
	sqlite3_reset (stmt);
	if (!astra_state_db_check (self->db, rc, error))
		return FALSE;
	if (max_id <= (gint64) keep_count)
		return TRUE;

	/* ids are creation order and never reused, so this is the keep_count-th newest
	 * (or the next one that still exists) */
	stmt = astra_state_db_prepare (
	    self->db, "SELECT created_us FROM outbox_deliveries WHERE id > ?1 ORDER BY id LIMIT 1", error);
	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_int64 (stmt, 1, max_id - (gint64) keep_count);
	rc = sqlite3_step (stmt);
	if (rc == SQLITE_ROW)
		*cutoff_us = sqlite3_column_int64 (stmt, 0);
	sqlite3_reset (stmt);
	return astra_state_db_check (self->db, rc, error);
}

typedef struct {
	gint64 id;
	char *event_id;
} AstraOutboxVictim;

static void
astra_outbox_victim_clear (gpointer data)
{
	AstraOutboxVictim *victim = data;

	g_free (victim->event_id);
}

/* collects up to @max_rows more deliveries in @state last updated before @before_us */
static gboolean
astra_outbox_collect_victims (AstraOutbox *self,
			      AstraDeliveryState state,
			      gint64 before_us,
			      guint max_rows,
			      GArray *victims,
			      GError **error)
{
	sqlite3_stmt *stmt;
	int rc;

	if (victims->len >= max_rows || before_us == G_MININT64)
		return TRUE;
	stmt = astra_state_db_prepare (
	    self->db,
	    "SELECT id, event_id FROM outbox_deliveries WHERE state = ?1 AND updated_us < ?2 "
	    "ORDER BY updated_us LIMIT ?3",
	    error);
	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_int (stmt, 1, (int) state);
	sqlite3_bind_int64 (stmt, 2, before_us);
	sqlite3_bind_int64 (stmt, 3, max_rows - victims->len);
	while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
		AstraOutboxVictim victim = {
			.id = sqlite3_column_int64 (stmt, 0),
			.event_id = astra_state_db_column_strdup (stmt, 1),
		};
		g_array_append_val (victims, victim);
	}
	sqlite3_reset (stmt);
	return astra_state_db_check (self->db, rc, error);
}

static gboolean
astra_outbox_delete_victim (AstraOutbox *self, const AstraOutboxVictim *victim, GError **error)
{
	sqlite3_stmt *stmt;

	stmt = astra_state_db_prepare (self->db, "DELETE FROM outbox_attempts WHERE delivery_id = ?1", error);
	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_int64 (stmt, 1, victim->id);
	if (!astra_outbox_step_done (self, stmt, error))
		return FALSE;

	stmt = astra_state_db_prepare (self->db, "DELETE FROM outbox_deliveries WHERE id = ?1", error);
	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_int64 (stmt, 1, victim->id);
	if (!astra_outbox_step_done (self, stmt, error))
		return FALSE;

	if (victim->event_id == NULL)
		return TRUE;
	return astra_outbox_delete_orphan_event (self, victim->event_id, error);
}

/**
 * astra_outbox_prune:
 * @self: a #AstraOutbox
 * @older_than_us: finished deliveries last updated before this go (0: none by age)
 * @keep_count: about how many of the newest finished deliveries stay (0: no limit by count)
 * @max_rows: the most deliveries removed by this call (0: %ASTRA_OUTBOX_MAX_LIMIT)
 * @n_pruned: (out) (optional): how many deliveries were removed
 * @error: return location for a #GError
 *
 * Removes one batch of old history, oldest first: delivered, skipped and
 * silenced deliveries last updated before @older_than_us or before the creation of
 * the @keep_count-th newest delivery; dead letters by age only; never a
 * pending delivery. Their attempts go with them, and so do events no
 * delivery refers to any more. Every candidate is found by an index range
 * scan, so a batch costs O(@max_rows log n) whatever the size of the outbox.
 *
 * Returns: %TRUE on success
 *
 * Since: 1.0
 */
gboolean
astra_outbox_prune (AstraOutbox *self,
		    gint64 older_than_us,
		    guint keep_count,
		    guint max_rows,
		    guint *n_pruned,
		    GError **error)
{
	g_autoptr(GArray) victims = g_array_new (FALSE, FALSE, sizeof (AstraOutboxVictim));
	gint64 count_cutoff_us = G_MININT64;
	gint64 finished_before_us;

	g_return_val_if_fail (ASTRA_IS_OUTBOX (self), FALSE);
	g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

	g_array_set_clear_func (victims, astra_outbox_victim_clear);
	if (n_pruned != NULL)
		*n_pruned = 0;
	if (max_rows == 0 || max_rows > ASTRA_OUTBOX_MAX_LIMIT)
		max_rows = ASTRA_OUTBOX_MAX_LIMIT;
	if (!astra_outbox_count_cutoff (self, keep_count, &count_cutoff_us, error))
		return FALSE;
	finished_before_us = MAX (older_than_us, count_cutoff_us);

	/* candidates first: deleting from a table while a statement walks it is undefined */
	if (!astra_outbox_collect_victims (self, ASTRA_DELIVERY_STATE_DELIVERED, finished_before_us, max_rows,
					   victims, error))
		return FALSE;
	if (!astra_outbox_collect_victims (self, ASTRA_DELIVERY_STATE_SKIPPED, finished_before_us, max_rows,
					   victims, error))
		return FALSE;
	if (!astra_outbox_collect_victims (self, ASTRA_DELIVERY_STATE_SILENCED, finished_before_us, max_rows,
					   victims, error))
		return FALSE;
	if (!astra_outbox_collect_victims (self, ASTRA_DELIVERY_STATE_DEAD, older_than_us, max_rows, victims,
					   error))
		return FALSE;
	if (victims->len == 0)
		return TRUE;

	astra_state_db_begin (self->db);
	for (guint i = 0; i < victims->len; i++) {
		if (!astra_outbox_delete_victim (self, &g_array_index (victims, AstraOutboxVictim, i),
						 error)) {
			g_prefix_error (error, "outbox: pruning: ");
			return FALSE;
		}
		if (n_pruned != NULL)
			(*n_pruned)++;
	}
	return TRUE;
}

/* the object */

/**
 * astra_outbox_get_state_db:
 * @self: a #AstraOutbox
 *
 * Gets the state database the outbox writes to.
 *
 * Returns: (transfer none): the database
 *
 * Since: 1.0
 */
AstraStateDb *
astra_outbox_get_state_db (AstraOutbox *self)
{
	g_return_val_if_fail (ASTRA_IS_OUTBOX (self), NULL);
	return self->db;
}

static void
astra_outbox_finalize (GObject *object)
{
	AstraOutbox *self = ASTRA_OUTBOX (object);

	g_clear_object (&self->db);
	G_OBJECT_CLASS (astra_outbox_parent_class)->finalize (object);
}

static void
astra_outbox_class_init (AstraOutboxClass *klass)
{
	G_OBJECT_CLASS (klass)->finalize = astra_outbox_finalize;
}

static void
astra_outbox_init (AstraOutbox *self)
{
}

/**
 * astra_outbox_new:
 * @db: the state database
 * @error: return location for a #GError
 *
 * Opens the outbox in @db, creating its tables on first use.
 *
 * Returns: (transfer full): the outbox, or %NULL if the tables cannot be
 *   made or come from a newer daemon
 *
 * Since: 1.0
 */
AstraOutbox *
astra_outbox_new (AstraStateDb *db, GError **error)
{
	g_autoptr(AstraOutbox) self = NULL;

	g_return_val_if_fail (ASTRA_IS_STATE_DB (db), NULL);
	g_return_val_if_fail (error == NULL || *error == NULL, NULL);

	self = g_object_new (ASTRA_TYPE_OUTBOX, NULL);
	self->db = g_object_ref (db);
	if (!astra_outbox_ensure_schema (self, error))
		return NULL;
	return g_steal_pointer (&self);
}

/**
 * astra_outbox_has_uncommitted_adds:
 * @self: an outbox
 *
 * Whether deliveries were added in the transaction still open: they must be
 * committed before they are sent, or a crash could lose a delivery that was
 * never acknowledged. Attempt records need no such care.
 *
 * Returns: %TRUE if the state database should be flushed before an attempt
 */
gboolean
astra_outbox_has_uncommitted_adds (AstraOutbox *self)
{
	return self->add_transaction != 0 && self->add_transaction == astra_state_db_get_transaction (self->db);
}
