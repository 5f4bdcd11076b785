/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "astra-reports.h"
#include "astra-rule.h"
#include "astra-silences.h"
#include "astra-ulid.h"

/* ended rows deleted per main-loop turn */
#define ASTRA_SILENCES_PRUNE_BATCH 100
/* how much of a refused matcher an error quotes */
#define ASTRA_SILENCES_QUOTE_LENGTH 64

#define ASTRA_SILENCES_UNTIL_EXAMPLE                                                                         \
	"a duration such as '90m' or '2h', or an RFC 3339 time such as 2025-12-17T10:30:00Z"

#define ASTRA_SILENCES_SCHEMA_SQL                                                                            \
	"CREATE TABLE IF NOT EXISTS silences ("                                                              \
	"id TEXT PRIMARY KEY NOT NULL, "                                                                     \
	"matchers TEXT NOT NULL, "                                                                           \
	"starts_us INTEGER NOT NULL, "                                                                       \
	"ends_us INTEGER NOT NULL, "                                                                         \
	"comment TEXT NOT NULL, "                                                                            \
	"author TEXT NOT NULL, "                                                                             \
	"n_silenced INTEGER NOT NULL) WITHOUT ROWID;"                                                        \
	"CREATE INDEX IF NOT EXISTS silences_ends ON silences (ends_us);"

/* one active silence: what the list shows, and its parsed matchers */
typedef struct {
	AstraSilence info;
	GPtrArray *matchers; /* AstraMatcher, sorted as info.matchers */
	guint *slots;        /* per matcher: its label's place in AstraSilences.labels */
} AstraSilenceEntry;

/* what a silence's matchers read of one event; nothing copied */
typedef struct {
	AstraEvent *event;
	JsonObject *data;   /* (nullable) */
	JsonObject *labels; /* (nullable): data.labels of an alert.* event */
} AstraSilencesEventView;

/* a label value read for the match call numbered @stamp */
typedef struct {
	guint64 stamp;
	const char *value;
} AstraSilencesLabelSlot;

/**
 * AstraSilences:
 *
 * The active silences, oldest first, one timer at the nearest end, and
 * their rows in the state database.
 */
struct _AstraSilences {
	GObject parent_instance;
	AstraStateDb *db;
	AstraClock *clock;
	AstraTimer *timer;     /* at the nearest end of an active silence */
	GPtrArray *active;     /* AstraSilenceEntry, oldest first */
	GSource *prune_source; /* (nullable): deletes ended rows */
	/* each label any matcher reads is looked up once per event: many silences on agent_id
	 * cost one lookup, not one each */
	AstraSilencesLabelSlot *slots; /* one per distinct label of the active silences */
	guint n_slots;
	guint64 match_stamp; /* numbers the match calls */
	AstraUlidState ids;
};

G_DEFINE_FINAL_TYPE (AstraSilences, astra_silences, G_TYPE_OBJECT)

static void
astra_silence_clear (AstraSilence *silence)
{
	g_free (silence->id);
	g_strfreev (silence->matchers);
	g_free (silence->comment);
	g_free (silence->author);
}

/**
 * astra_silence_free:
 * @silence: (nullable): a silence
 *
 * Frees a silence and what it owns.
 *
 * Since: 1.0
 */
void
astra_silence_free (AstraSilence *silence)
{
	if (silence == NULL)
		return;
	astra_silence_clear (silence);
	g_free (silence);
}

/**
 * astra_silence_copy:
 * @silence: a silence
 *
 * Returns: (transfer full): a copy of @silence
 *
 * Since: 1.0
 */
AstraSilence *
astra_silence_copy (const AstraSilence *silence)
{
	AstraSilence *copy;

	g_return_val_if_fail (silence != NULL, NULL);

	copy = g_new0 (AstraSilence, 1);
	copy->id = g_strdup (silence->id);
	copy->matchers = g_strdupv (silence->matchers);
	copy->starts_us = silence->starts_us;
	copy->ends_us = silence->ends_us;
	copy->comment = g_strdup (silence->comment);
	copy->author = g_strdup (silence->author);
	copy->n_silenced = silence->n_silenced;
	return copy;
}

static void
astra_silence_entry_free (AstraSilenceEntry *entry)
{
	astra_silence_clear (&entry->info);
	g_ptr_array_unref (entry->matchers);
	g_free (entry->slots);
	g_free (entry);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AstraSilenceEntry, astra_silence_entry_free)

/* an entry owning @matchers, with their normalised texts */
static AstraSilenceEntry *
astra_silence_entry_new (GPtrArray *matchers)
{
	AstraSilenceEntry *entry = g_new0 (AstraSilenceEntry, 1);

	entry->matchers = g_ptr_array_ref (matchers);
	entry->slots = g_new0 (guint, matchers->len);
	entry->info.matchers = g_new0 (char *, matchers->len + 1);
	for (guint i = 0; i < matchers->len; i++)
		entry->info.matchers[i] = astra_matcher_to_string (g_ptr_array_index (matchers, i));
	return entry;
}

/* ---- matching ---- */

static const char *
astra_silences_string_member (JsonObject *object, const char *name)
{
	JsonNode *node;

	if (object == NULL)
		return NULL;
	node = json_object_get_member (object, name);
	if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
		return NULL;
	return json_node_get_string (node);
}

/* the value of label @name of the event: "" when it has none */
static const char *
astra_silences_event_label (const AstraSilencesEventView *view, const char *name)
{
	const char *value;

	if (strcmp (name, "type") == 0)
		return astra_event_get_type_name (view->event);
	if (strcmp (name, "severity") == 0)
		return astra_severity_to_string (astra_event_get_severity (view->event));
	value = astra_silences_string_member (view->data, name);
	if (value == NULL)
		value = astra_silences_string_member (view->labels, name);
	return value != NULL ? value : "";
}

static gboolean
astra_silence_entry_matches (AstraSilences *self,
			     const AstraSilenceEntry *entry,
			     const AstraSilencesEventView *view)
{
	for (guint i = 0; i < entry->matchers->len; i++) {
		const AstraMatcher *matcher = g_ptr_array_index (entry->matchers, i);
		AstraSilencesLabelSlot *slot = &self->slots[entry->slots[i]];

		if (slot->stamp != self->match_stamp) {
			slot->stamp = self->match_stamp;
			slot->value = astra_silences_event_label (view, matcher->label);
		}
		if (!astra_matcher_accepts (matcher, slot->value))
			return FALSE;
	}
	return TRUE;
}

/* ---- the database ---- */

static gboolean
astra_silences_ensure_schema (AstraSilences *self, GError **error)
{
	return astra_state_db_ensure_schema (self->db, ASTRA_SILENCES_DB_MODULE, ASTRA_SILENCES_SCHEMA_VERSION,
					     ASTRA_SILENCES_SCHEMA_SQL, error);
}

/* steps a statement that returns no rows and resets it */
static gboolean
astra_silences_step_done (AstraSilences *self, sqlite3_stmt *stmt, GError **error)
{
	int rc = sqlite3_step (stmt);

	sqlite3_reset (stmt);
	return astra_state_db_check (self->db, rc, error);
}

/* a silence's texts are never NULL, even in a hand-edited row */
static char *
astra_silences_column_strdup (sqlite3_stmt *stmt, int column)
{
	char *text = astra_state_db_column_strdup (stmt, column);

	return text != NULL ? text : g_strdup ("");
}

static gboolean
astra_silences_insert (AstraSilences *self, const AstraSilenceEntry *entry, GError **error)
{
	g_autoptr(JsonArray) array = json_array_new ();
	g_autoptr(JsonNode) node = json_node_new (JSON_NODE_ARRAY);
	g_autofree char *matchers = NULL;
	sqlite3_stmt *stmt;

	for (guint i = 0; entry->info.matchers[i] != NULL; i++)
		json_array_add_string_element (array, entry->info.matchers[i]);
	json_node_set_array (node, array);
	matchers = json_to_string (node, FALSE);

	astra_state_db_begin (self->db);
	stmt = astra_state_db_prepare (
	    self->db,
	    "INSERT INTO silences (id, matchers, starts_us, ends_us, comment, author, "
	    "n_silenced) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	    error);
	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_text (stmt, 1, entry->info.id, -1, SQLITE_STATIC);
	sqlite3_bind_text (stmt, 2, matchers, -1, SQLITE_STATIC);
	sqlite3_bind_int64 (stmt, 3, entry->info.starts_us);
	sqlite3_bind_int64 (stmt, 4, entry->info.ends_us);
	sqlite3_bind_text (stmt, 5, entry->info.comment, -1, SQLITE_STATIC);
	sqlite3_bind_text (stmt, 6, entry->info.author, -1, SQLITE_STATIC);
	sqlite3_bind_int64 (stmt, 7, entry->info.n_silenced);
	if (!astra_silences_step_done (self, stmt, error)) {
		g_prefix_error (error, "silences: %s: ", entry->info.id);
		return FALSE;
	}
	return TRUE;
}

static gboolean
astra_silences_delete (AstraSilences *self, const char *id, GError **error)
{
	sqlite3_stmt *stmt;

	astra_state_db_begin (self->db);
	stmt = astra_state_db_prepare (self->db, "DELETE FROM silences WHERE id = ?1", error);
	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
	if (!astra_silences_step_done (self, stmt, error)) {
		g_prefix_error (error, "silences: %s: ", id);
		return FALSE;
	}
	return TRUE;
}

/* the count joins the transaction the silenced deliveries are written in */
static void
astra_silences_write_count (AstraSilences *self, const AstraSilenceEntry *entry)
{
	g_autoptr(GError) error_local = NULL;
	sqlite3_stmt *stmt;

	astra_state_db_begin (self->db);
	stmt = astra_state_db_prepare (self->db, "UPDATE silences SET n_silenced = ?2 WHERE id = ?1",
				       &error_local);
	if (stmt != NULL) {
		sqlite3_bind_text (stmt, 1, entry->info.id, -1, SQLITE_STATIC);
		sqlite3_bind_int64 (stmt, 2, entry->info.n_silenced);
		if (astra_silences_step_done (self, stmt, &error_local))
			return;
	}
	g_warning ("silences: %s: counting a silenced event: %s", entry->info.id, error_local->message);
}

/* a silence as stored; NULL (and a warning) for a row this daemon cannot read */
static AstraSilenceEntry *
astra_silences_entry_from_row (sqlite3_stmt *stmt)
{
	g_autoptr(GPtrArray) matchers = g_ptr_array_new_with_free_func ((GDestroyNotify) astra_matcher_free);
	g_autoptr(JsonNode) node = NULL;
	g_autoptr(GError) error_local = NULL;
	g_autofree char *id = astra_silences_column_strdup (stmt, 0);
	const char *text = (const char *) sqlite3_column_text (stmt, 1);
	AstraSilenceEntry *entry;
	JsonArray *array;

	node =
	    astra_json_parse (text != NULL ? text : "", (gsize) sqlite3_column_bytes (stmt, 1), &error_local);
	if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node) ||
	    json_array_get_length (json_node_get_array (node)) == 0) {
		g_warning ("silences: %s: its stored matchers are not a list of matchers; ignored", id);
		return NULL;
	}
	array = json_node_get_array (node);
	for (guint i = 0; i < json_array_get_length (array); i++) {
		JsonNode *element = json_array_get_element (array, i);
		AstraMatcher *matcher;

		if (!JSON_NODE_HOLDS_VALUE (element) || json_node_get_value_type (element) != G_TYPE_STRING) {
			g_warning ("silences: %s: stored matcher %u is not a string; ignored", id, i + 1);
			return NULL;
		}
		matcher = astra_matcher_parse (json_node_get_string (element), &error_local);
		if (matcher == NULL) {
			g_warning ("silences: %s: stored matcher %u: %s; ignored", id, i + 1,
				   error_local->message);
			return NULL;
		}
		g_ptr_array_add (matchers, matcher);
	}
	if (!astra_matchers_sort_and_check (matchers, "the silence would match no event", &error_local)) {
		g_warning ("silences: %s: stored matchers: %s; ignored", id, error_local->message);
		return NULL;
	}

	entry = astra_silence_entry_new (matchers);
	entry->info.id = g_steal_pointer (&id);
	entry->info.starts_us = sqlite3_column_int64 (stmt, 2);
	entry->info.ends_us = sqlite3_column_int64 (stmt, 3);
	entry->info.comment = astra_silences_column_strdup (stmt, 4);
	entry->info.author = astra_silences_column_strdup (stmt, 5);
	entry->info.n_silenced = (guint) CLAMP (sqlite3_column_int64 (stmt, 6), 0, G_MAXUINT);
	return entry;
}

static gboolean
astra_silences_load (AstraSilences *self, GError **error)
{
	sqlite3_stmt *stmt;
	int rc;

	stmt = astra_state_db_prepare (self->db,
				       "SELECT id, matchers, starts_us, ends_us, comment, author, n_silenced "
				       "FROM silences WHERE ends_us > ?1 ORDER BY starts_us, id",
				       error);
	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_int64 (stmt, 1, astra_clock_now (self->clock));
	while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
		AstraSilenceEntry *entry = astra_silences_entry_from_row (stmt);

		if (entry != NULL)
			g_ptr_array_add (self->active, entry);
	}
	sqlite3_reset (stmt);
	if (!astra_state_db_check (self->db, rc, error)) {
		g_prefix_error (error, "silences: ");
		return FALSE;
	}
	return TRUE;
}

/* ---- ending ---- */

/* one batch of ended rows per turn of the main loop */
static gboolean
astra_silences_prune_cb (gpointer user_data)
{
	AstraSilences *self = ASTRA_SILENCES (user_data);
	g_autoptr(GError) error_local = NULL;
	sqlite3_stmt *stmt;

	astra_state_db_begin (self->db);
	stmt = astra_state_db_prepare (self->db,
				       "DELETE FROM silences WHERE id IN (SELECT id FROM silences "
				       "WHERE ends_us <= ?1 ORDER BY ends_us LIMIT ?2)",
				       &error_local);
	if (stmt != NULL) {
		sqlite3_bind_int64 (stmt, 1, astra_clock_now (self->clock));
		sqlite3_bind_int (stmt, 2, ASTRA_SILENCES_PRUNE_BATCH);
		if (astra_silences_step_done (self, stmt, &error_local)) {
			if (sqlite3_changes (astra_state_db_get_handle (self->db)) >=
			    ASTRA_SILENCES_PRUNE_BATCH)
				return G_SOURCE_CONTINUE;
			g_clear_pointer (&self->prune_source, g_source_unref);
			return G_SOURCE_REMOVE;
		}
	}
	/* the next end (or restart) tries again */
	g_warning ("silences: removing ended silences: %s", error_local->message);
	g_clear_pointer (&self->prune_source, g_source_unref);
	return G_SOURCE_REMOVE;
}

static void
astra_silences_schedule_prune (AstraSilences *self)
{
	if (self->prune_source != NULL)
		return;
	self->prune_source = g_idle_source_new ();
	/* as urgent as the requests that make silences: load must not starve it, and a batch is small */
	g_source_set_priority (self->prune_source, G_PRIORITY_DEFAULT);
	g_source_set_callback (self->prune_source, astra_silences_prune_cb, self, NULL);
	g_source_set_static_name (self->prune_source, "[astra] silences prune");
	g_source_attach (self->prune_source, g_main_context_get_thread_default ());
}

/* after every change of the active silences: the label slots and the timer */
static void
astra_silences_update (AstraSilences *self)
{
	g_autoptr(GHashTable) slots = g_hash_table_new (g_str_hash, g_str_equal);
	gint64 nearest = G_MAXINT64;

	for (guint i = 0; i < self->active->len; i++) {
		AstraSilenceEntry *entry = g_ptr_array_index (self->active, i);

		nearest = MIN (nearest, entry->info.ends_us);
		for (guint j = 0; j < entry->matchers->len; j++) {
			const AstraMatcher *matcher = g_ptr_array_index (entry->matchers, j);
			gpointer slot = NULL;

			if (!g_hash_table_lookup_extended (slots, matcher->label, NULL, &slot)) {
				slot = GUINT_TO_POINTER (g_hash_table_size (slots));
				g_hash_table_insert (slots, matcher->label, slot);
			}
			entry->slots[j] = GPOINTER_TO_UINT (slot);
		}
	}
	self->n_slots = g_hash_table_size (slots);
	g_free (self->slots);
	self->slots = g_new0 (AstraSilencesLabelSlot, MAX (self->n_slots, 1));
	self->match_stamp = 0;

	if (nearest == G_MAXINT64)
		astra_timer_cancel (self->timer);
	else
		astra_timer_schedule (self->timer, nearest);
}

static void
astra_silences_end_cb (AstraTimer *timer, gpointer user_data)
{
	AstraSilences *self = ASTRA_SILENCES (user_data);
	gint64 now = astra_clock_now (self->clock);

	for (guint i = self->active->len; i > 0; i--) {
		AstraSilenceEntry *entry = g_ptr_array_index (self->active, i - 1);

		if (entry->info.ends_us > now)
			continue;
		g_debug ("silence %s ended; it held back %u events", entry->info.id, entry->info.n_silenced);
		g_ptr_array_remove_index (self->active, i - 1);
	}
	astra_silences_update (self);
	astra_silences_schedule_prune (self);
}

/* ---- adding ---- */

/* "sil_" + a ULID of the engine clock's time, increasing within the object */
static char *
astra_silences_new_id (AstraSilences *self)
{
	char *id = g_malloc (ASTRA_ULID_ID_LEN + 1);

	astra_ulid_next (&self->ids, astra_clock_now (self->clock) / 1000, "sil_", id);
	return id;
}

/* the start of a refused text, for an error message */
static char *
astra_silences_quote (const char *text)
{
	const char *end = text;

	if (strlen (text) <= ASTRA_SILENCES_QUOTE_LENGTH)
		return g_strdup (text);
	while (*end != '\0' && end + g_utf8_skip[(guchar) *end] - text <= ASTRA_SILENCES_QUOTE_LENGTH)
		end = g_utf8_next_char (end);
	return g_strdup_printf ("%.*s...", (int) (end - text), text);
}

/* type and severity have a known set of values: a typo would silence nothing (type=...) or,
 * worse, everything (type!=...) */
static gboolean
astra_silences_check_known_values (const AstraMatcher *matcher, GError **error)
{
	const char *names[MAX (ASTRA_EVENT_KIND_LAST, ASTRA_SEVERITY_CRITICAL + 1) + 1] = { NULL };
	g_autofree char *known = NULL;
	const char *what;   /* "matches no WHAT" */
	const char *a_what; /* "is not A_WHAT" */
	guint n = 0;

	if (strcmp (matcher->label, "type") == 0) {
		what = "event type";
		a_what = "an event type";
		for (guint kind = ASTRA_EVENT_KIND_UNKNOWN + 1; kind < ASTRA_EVENT_KIND_LAST; kind++)
			names[n++] = astra_event_kind_to_string (kind);
	} else if (strcmp (matcher->label, "severity") == 0) {
		what = "severity";
		a_what = "a severity";
		for (guint severity = ASTRA_SEVERITY_INFO; severity <= ASTRA_SEVERITY_CRITICAL; severity++)
			names[n++] = astra_severity_to_string (severity);
	} else {
		return TRUE;
	}
	known = g_strjoinv (", ", (GStrv) names);

	switch (matcher->op) {
	case ASTRA_MATCH_EQUAL:
	case ASTRA_MATCH_NOT_EQUAL:
		if (g_strv_contains (names, matcher->value))
			return TRUE;
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA,
			     "'%s' is not %s: expected one of %s", matcher->value, a_what, known);
		return FALSE;
	case ASTRA_MATCH_IN:
	case ASTRA_MATCH_NOT_IN:
		for (guint i = 0; matcher->values[i] != NULL; i++) {
			if (g_strv_contains (names, matcher->values[i]))
				continue;
			g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA,
				     "'%s' is not %s: expected one of %s", matcher->values[i], a_what, known);
			return FALSE;
		}
		return TRUE;
	case ASTRA_MATCH_GLOB:
	case ASTRA_MATCH_NOT_GLOB:
		for (guint i = 0; i < n; i++) {
			if (g_pattern_spec_match_string (matcher->glob, names[i]))
				return TRUE;
		}
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA,
			     "'%s' matches no %s: expected a pattern for one of %s", matcher->value, what,
			     known);
		return FALSE;
	default:
		return TRUE;
	}
}

static GPtrArray *
astra_silences_parse_matchers (const char *const *texts, GError **error)
{
	g_autoptr(GPtrArray) matchers = g_ptr_array_new_with_free_func ((GDestroyNotify) astra_matcher_free);
	g_autoptr(GError) error_local = NULL;
	guint n = texts != NULL ? g_strv_length ((GStrv) texts) : 0;

	if (n == 0) {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA,
			     "matchers: at least one is needed (%s), e.g. agent_id=edge-*",
			     ASTRA_MATCHER_EXAMPLE);
		return NULL;
	}
	if (n > ASTRA_SILENCES_MAX_MATCHERS) {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA,
			     "matchers: %u given, at most %u may be", n, (guint) ASTRA_SILENCES_MAX_MATCHERS);
		return NULL;
	}
	for (guint i = 0; i < n; i++) {
		const char *text = texts[i];
		g_autofree char *quoted = NULL;
		AstraMatcher *matcher;

		if (!g_utf8_validate (text, -1, NULL)) {
			g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA,
				     "matcher %u: not valid UTF-8", i + 1);
			return NULL;
		}
		quoted = astra_silences_quote (text);
		if (strlen (text) > ASTRA_SILENCES_MAX_MATCHER_LENGTH) {
			g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA,
				     "matcher %u '%s': longer than %u bytes", i + 1, quoted,
				     (guint) ASTRA_SILENCES_MAX_MATCHER_LENGTH);
			return NULL;
		}
		if (text[strspn (text, " \t")] == '\0') {
			g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA, "matcher %u: empty: %s",
				     i + 1, ASTRA_MATCHER_EXAMPLE);
			return NULL;
		}
		matcher = astra_matcher_parse (text, &error_local);
		if (matcher == NULL || !astra_silences_check_known_values (matcher, &error_local)) {
			g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA, "matcher %u '%s': %s",
				     i + 1, quoted, error_local->message);
			astra_matcher_free (matcher);
			return NULL;
		}
		g_ptr_array_add (matchers, matcher);
	}
	if (!astra_matchers_sort_and_check (matchers, "the silence would match no event", &error_local)) {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA, "matchers: %s",
			     error_local->message);
		return NULL;
	}
	return g_steal_pointer (&matchers);
}

/* the end @until names: a duration from @now_us, or an RFC 3339 time */
static gboolean
astra_silences_parse_until (const char *until, gint64 now_us, gint64 *ends_us, GError **error)
{
	gint64 duration_us = 0;

	if (until == NULL || until[0] == '\0') {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA, "until: empty: expected %s",
			     ASTRA_SILENCES_UNTIL_EXAMPLE);
		return FALSE;
	}
	if (!g_utf8_validate (until, -1, NULL)) {
		g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA, "until: not valid UTF-8");
		return FALSE;
	}
	if (astra_parse_duration (until, &duration_us)) {
		if (duration_us == 0) {
			g_set_error (
			    error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA,
			    "until: '%s' would end the silence at once: expected a duration longer than 0",
			    until);
			return FALSE;
		}
		if (duration_us > ASTRA_SILENCES_MAX_DURATION_US) {
			g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA,
				     "until: '%s' is more than 366 days away", until);
			return FALSE;
		}
		*ends_us = now_us + duration_us;
		return TRUE;
	}

	/* the project's one RFC 3339 reader */
	{
		g_autoptr(JsonNode) node = json_node_init_string (json_node_alloc (), until);
		g_autoptr(GError) error_local = NULL;

		if (!astra_reports_parse_timestamp (node, FALSE, ends_us, &error_local)) {
			/* a date with a mistake, or something else altogether */
			if (g_ascii_isdigit (until[0]) && strchr (until, '-') != NULL)
				g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA, "until: '%s': %s",
					     until, error_local->message);
			else
				g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA,
					     "until: '%s' is neither %s", until,
					     ASTRA_SILENCES_UNTIL_EXAMPLE);
			return FALSE;
		}
	}
	if (*ends_us <= now_us) {
		g_autofree char *now_text = astra_clock_format_time (now_us);
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA,
			     "until: %s is not in the future (it is %s now)", until, now_text);
		return FALSE;
	}
	if (*ends_us - now_us > ASTRA_SILENCES_MAX_DURATION_US) {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA,
			     "until: %s is more than 366 days away", until);
		return FALSE;
	}
	return TRUE;
}

static gboolean
astra_silences_check_text (const char *field, const char *text, gsize max, gboolean required, GError **error)
{
	if (!g_utf8_validate (text, -1, NULL)) {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA, "%s: not valid UTF-8", field);
		return FALSE;
	}
	if (required && text[strspn (text, " \t\r\n")] == '\0') {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA,
			     "%s: empty: say why the silence is set, e.g. 'maintenance of edge routers'",
			     field);
		return FALSE;
	}
	if (strlen (text) > max) {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA, "%s: longer than %u bytes", field,
			     (guint) max);
		return FALSE;
	}
	return TRUE;
}

/**
 * astra_silences_add:
 * @self: a #AstraSilences
 * @matchers: (array zero-terminated=1): label matchers in the rule-file syntax, all of which must hold
 * @until: a duration from now ("90m", "2h") or an RFC 3339 end time
 * @comment: why the silence is set; required
 * @author: (nullable): who set it
 * @error: return location for a #GError
 *
 * Adds a silence that starts now and holds back the deliveries of every
 * matching event until its end. Its matchers are stored normalised and
 * sorted, as rules store theirs.
 *
 * Returns: (transfer full): the silence's id, `sil_` and a time-ordered
 *   unique part; %NULL with %ASTRA_ERROR_INVALID_DATA naming the matcher
 *   (numbered from 1) or the field at fault
 *
 * Since: 1.0
 */
char *
astra_silences_add (AstraSilences *self,
		    const char *const *matchers,
		    const char *until,
		    const char *comment,
		    const char *author,
		    GError **error)
{
	g_autoptr(GPtrArray) parsed = NULL;
	g_autoptr(AstraSilenceEntry) entry = NULL;
	gint64 now = astra_clock_now (self->clock);
	gint64 ends_us = 0;

	g_return_val_if_fail (ASTRA_IS_SILENCES (self), NULL);
	g_return_val_if_fail (error == NULL || *error == NULL, NULL);

	parsed = astra_silences_parse_matchers (matchers, error);
	if (parsed == NULL)
		return NULL;
	if (!astra_silences_parse_until (until, now, &ends_us, error))
		return NULL;
	if (!astra_silences_check_text ("comment", comment != NULL ? comment : "", ASTRA_SILENCES_MAX_COMMENT,
					TRUE, error))
		return NULL;
	if (!astra_silences_check_text ("author", author != NULL ? author : "", ASTRA_SILENCES_MAX_AUTHOR,
					FALSE, error))
		return NULL;
	if (self->active->len >= ASTRA_SILENCES_MAX_ACTIVE) {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA,
			     "too many silences: %u are active, the most there may be; remove one or wait "
			     "for one to end",
			     (guint) ASTRA_SILENCES_MAX_ACTIVE);
		return NULL;
	}

	entry = astra_silence_entry_new (parsed);
	entry->info.id = astra_silences_new_id (self);
	entry->info.starts_us = now;
	entry->info.ends_us = ends_us;
	entry->info.comment = g_strdup (comment);
	entry->info.author = g_strdup (author != NULL ? author : "");
	if (!astra_silences_insert (self, entry, error))
		return NULL;
	g_debug ("silence %s until %" G_GINT64_FORMAT " by '%s'", entry->info.id, ends_us,
		 entry->info.author);
	g_ptr_array_add (self->active, g_steal_pointer (&entry));
	astra_silences_update (self);
	return g_strdup (
	    ((AstraSilenceEntry *) g_ptr_array_index (self->active, self->active->len - 1))->info.id);
}

/**
 * astra_silences_remove:
 * @self: a #AstraSilences
 * @id: a silence's id
 * @error: return location for a #GError
 *
 * Ends an active silence now and deletes it from the state database.
 *
 * Returns: %TRUE on success; %ASTRA_ERROR_NOT_FOUND if no active silence has
 *   that id
 *
 * Since: 1.0
 */
gboolean
astra_silences_remove (AstraSilences *self, const char *id, GError **error)
{
	g_return_val_if_fail (ASTRA_IS_SILENCES (self), FALSE);
	g_return_val_if_fail (id != NULL, FALSE);
	g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

	for (guint i = 0; i < self->active->len; i++) {
		AstraSilenceEntry *entry = g_ptr_array_index (self->active, i);

		if (strcmp (entry->info.id, id) != 0)
			continue;
		/* kept if it cannot be deleted: it would be back after a restart */
		if (!astra_silences_delete (self, id, error))
			return FALSE;
		g_debug ("silence %s removed; it held back %u events", id, entry->info.n_silenced);
		g_ptr_array_remove_index (self->active, i);
		astra_silences_update (self);
		return TRUE;
	}
	if (g_utf8_validate (id, -1, NULL)) {
		g_autofree char *quoted = astra_silences_quote (id);
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_NOT_FOUND, "no active silence '%s'", quoted);
	} else {
		g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_NOT_FOUND,
				     "no active silence with that id");
	}
	return FALSE;
}

/**
 * astra_silences_list:
 * @self: a #AstraSilences
 *
 * Gets the active silences, oldest first.
 *
 * Returns: (transfer container) (element-type AstraSilence): copies of the silences
 *
 * Since: 1.0
 */
GPtrArray *
astra_silences_list (AstraSilences *self)
{
	GPtrArray *list;

	g_return_val_if_fail (ASTRA_IS_SILENCES (self), NULL);

	list = g_ptr_array_new_full (self->active->len, (GDestroyNotify) astra_silence_free);
	for (guint i = 0; i < self->active->len; i++) {
		const AstraSilenceEntry *entry = g_ptr_array_index (self->active, i);
		g_ptr_array_add (list, astra_silence_copy (&entry->info));
	}
	return list;
}

/**
 * astra_silences_get_n_active:
 * @self: a #AstraSilences
 *
 * Returns: the number of active silences
 *
 * Since: 1.0
 */
guint
astra_silences_get_n_active (AstraSilences *self)
{
	g_return_val_if_fail (ASTRA_IS_SILENCES (self), 0);
	return self->active->len;
}

/**
 * astra_silences_match:
 * @self: a #AstraSilences
 * @event: an event about to be routed
 *
 * Finds the oldest active silence whose matchers all hold for @event, and
 * counts the event as held back by it (in memory and, within the state
 * database's open transaction, on disk). Called for every event: without
 * silences it returns at once, and nothing is allocated when none matches.
 *
 * Returns: (transfer none) (nullable): the silence's id, valid until that
 *   silence ends or is removed; %NULL if no silence holds @event back
 *
 * Since: 1.0
 */
const char *
astra_silences_match (AstraSilences *self, AstraEvent *event)
{
	AstraSilencesEventView view = { 0 };
	gint64 now;

	g_return_val_if_fail (ASTRA_IS_SILENCES (self), NULL);
	g_return_val_if_fail (ASTRA_IS_EVENT (event), NULL);

	if (self->active->len == 0)
		return NULL;

	view.event = event;
	view.data = astra_event_get_data (event);
	if (view.data != NULL && g_str_has_prefix (astra_event_get_type_name (event), "alert.")) {
		JsonNode *labels = json_object_get_member (view.data, "labels");
		if (labels != NULL && JSON_NODE_HOLDS_OBJECT (labels))
			view.labels = json_node_get_object (labels);
	}
	/* a new stamp: no label of this event is read yet (slots start at 0) */
	self->match_stamp++;
	/* the timer that ends a silence may run a little late */
	now = astra_clock_now (self->clock);
	for (guint i = 0; i < self->active->len; i++) {
		AstraSilenceEntry *entry = g_ptr_array_index (self->active, i);

		if (entry->info.ends_us <= now || !astra_silence_entry_matches (self, entry, &view))
			continue;
		if (entry->info.n_silenced < G_MAXUINT)
			entry->info.n_silenced++;
		astra_silences_write_count (self, entry);
		return entry->info.id;
	}
	return NULL;
}

/* ---- the object ---- */

static void
astra_silences_finalize (GObject *object)
{
	AstraSilences *self = ASTRA_SILENCES (object);

	if (self->prune_source != NULL) {
		g_source_destroy (self->prune_source);
		g_clear_pointer (&self->prune_source, g_source_unref);
	}
	g_clear_pointer (&self->timer, astra_timer_free);
	g_ptr_array_unref (self->active);
	g_free (self->slots);
	g_clear_object (&self->clock);
	g_clear_object (&self->db);
	G_OBJECT_CLASS (astra_silences_parent_class)->finalize (object);
}

static void
astra_silences_class_init (AstraSilencesClass *klass)
{
	G_OBJECT_CLASS (klass)->finalize = astra_silences_finalize;
}

static void
astra_silences_init (AstraSilences *self)
{
	self->active = g_ptr_array_new_with_free_func ((GDestroyNotify) astra_silence_entry_free);
}

/**
 * astra_silences_new:
 * @db: the state database
 * @clock: the engine's clock
 * @error: return location for a #GError
 *
 * Opens the silences in @db, creating their table on first use, and loads
 * those that have not ended. Rows of ended silences are deleted in the
 * background, a batch per main-loop turn of the thread-default context.
 *
 * Returns: (transfer full): the silences, or %NULL if the table cannot be
 *   made or read, or comes from a newer daemon
 *
 * Since: 1.0
 */
AstraSilences *
astra_silences_new (AstraStateDb *db, AstraClock *clock, GError **error)
{
	g_autoptr(AstraSilences) self = NULL;

	g_return_val_if_fail (ASTRA_IS_STATE_DB (db), NULL);
	g_return_val_if_fail (ASTRA_IS_CLOCK (clock), NULL);
	g_return_val_if_fail (error == NULL || *error == NULL, NULL);

	self = g_object_new (ASTRA_TYPE_SILENCES, NULL);
	self->db = g_object_ref (db);
	self->clock = g_object_ref (clock);
	self->timer = astra_timer_new (clock, astra_silences_end_cb, self);
	if (!astra_silences_ensure_schema (self, error))
		return NULL;
	if (!astra_silences_load (self, error))
		return NULL;
	astra_silences_update (self);
	/* what ended while the daemon was stopped */
	astra_silences_schedule_prune (self);
	return g_steal_pointer (&self);
}
