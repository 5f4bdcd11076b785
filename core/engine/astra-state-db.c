/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "astra.h"
#include "astra-state-db.h"

/* how long writes may wait to share a commit */
#define ASTRA_STATE_DB_COMMIT_DELAY_MS 20

struct _AstraStateDb {
	GObject parent_instance;
	char *path;
	sqlite3 *db;
	GHashTable *statements; /* SQL text (not owned: callers pass literals) -> sqlite3_stmt */
	gboolean in_transaction;
	guint64 transaction; /* counts BEGINs */
	guint commit_id;
};

G_DEFINE_FINAL_TYPE (AstraStateDb, astra_state_db, G_TYPE_OBJECT)

gboolean
astra_state_db_check (AstraStateDb *self, int rc, GError **error)
{
	if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW)
		return TRUE;
	g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_FAILED, "state database %s: %s", self->path,
		     self->db != NULL ? sqlite3_errmsg (self->db) : sqlite3_errstr (rc));
	return FALSE;
}

char *
astra_state_db_column_strdup (sqlite3_stmt *stmt, int column)
{
	const unsigned char *text = sqlite3_column_text (stmt, column);

	if (text == NULL)
		return NULL;
	return g_strndup ((const char *) text, (gsize) sqlite3_column_bytes (stmt, column));
}

gboolean
astra_state_db_exec (AstraStateDb *self, const char *sql, GError **error)
{
	return astra_state_db_check (self, sqlite3_exec (self->db, sql, NULL, NULL, NULL), error);
}

sqlite3_stmt *
astra_state_db_prepare (AstraStateDb *self, const char *sql, GError **error)
{
	sqlite3_stmt *stmt = g_hash_table_lookup (self->statements, sql);

	if (stmt != NULL) {
		sqlite3_reset (stmt);
		sqlite3_clear_bindings (stmt);
		return stmt;
	}
	if (!astra_state_db_check (self, sqlite3_prepare_v3 (self->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL),
				   error))
		return NULL;
	g_hash_table_insert (self->statements, (gpointer) sql, stmt);
	return stmt;
}

guint
astra_state_db_get_schema_version (AstraStateDb *self, const char *module)
{
	sqlite3_stmt *stmt = astra_state_db_prepare (self, "SELECT version FROM schema WHERE module = ?1", NULL);
	guint version = 0;

	if (stmt == NULL)
		return 0;
	sqlite3_bind_text (stmt, 1, module, -1, SQLITE_STATIC);
	if (sqlite3_step (stmt) == SQLITE_ROW)
		version = (guint) sqlite3_column_int (stmt, 0);
	sqlite3_reset (stmt);
	return version;
}

gboolean
astra_state_db_set_schema_version (AstraStateDb *self, const char *module, guint version, GError **error)
{
	sqlite3_stmt *stmt = astra_state_db_prepare (
	    self, "INSERT INTO schema (module, version) VALUES (?1, ?2) "
		  "ON CONFLICT (module) DO UPDATE SET version = excluded.version",
	    error);
	int rc;

	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_text (stmt, 1, module, -1, SQLITE_STATIC);
	sqlite3_bind_int (stmt, 2, (int) version);
	rc = sqlite3_step (stmt);
	sqlite3_reset (stmt);
	return astra_state_db_check (self, rc, error);
}

/**
 * astra_state_db_ensure_schema:
 * @self: an #AstraStateDb
 * @module: the module whose tables these are, e.g. "outbox"
 * @version: the schema version this daemon writes
 * @sql: the statements that create the tables (IF NOT EXISTS)
 * @error: return location for a #GError
 *
 * Creates a module's tables unless they are at @version already. A database
 * written by a newer daemon (a higher version) is refused: this one would
 * misread it.
 *
 * Returns: %TRUE if the tables are ready
 *
 * Since: 1.0
 */
gboolean
astra_state_db_ensure_schema (AstraStateDb *self, const char *module, guint version, const char *sql, GError **error)
{
	guint found = astra_state_db_get_schema_version (self, module);

	if (found > version) {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_FAILED,
			     "%s: the state database has schema version %u, this daemon knows up to %u", module, found,
			     version);
		return FALSE;
	}
	if (found == version)
		return TRUE;
	if (!astra_state_db_exec (self, sql, error)) {
		g_prefix_error (error, "%s: ", module);
		return FALSE;
	}
	return astra_state_db_set_schema_version (self, module, version, error);
}

/* a statement without results, prepared once: BEGIN and COMMIT run thousands of times a second */
static gboolean
astra_state_db_run (AstraStateDb *self, const char *sql, GError **error)
{
	sqlite3_stmt *stmt = astra_state_db_prepare (self, sql, error);
	int rc;

	if (stmt == NULL)
		return FALSE;
	rc = sqlite3_step (stmt);
	sqlite3_reset (stmt);
	return astra_state_db_check (self, rc, error);
}

static gboolean
astra_state_db_commit_cb (gpointer user_data)
{
	AstraStateDb *self = ASTRA_STATE_DB (user_data);
	g_autoptr(GError) error_local = NULL;

	self->commit_id = 0;
	if (!astra_state_db_flush (self, &error_local))
		g_warning ("%s", error_local->message);
	return G_SOURCE_REMOVE;
}

void
astra_state_db_begin (AstraStateDb *self)
{
	g_autoptr(GError) error_local = NULL;

	if (self->in_transaction)
		return;
	if (!astra_state_db_run (self, "BEGIN IMMEDIATE", &error_local)) {
		g_warning ("%s", error_local->message);
		return;
	}
	self->in_transaction = TRUE;
	self->transaction++;
	/* a timer, not idle (under steady load an idle commit would never run), and a short one: what
	 * must be on disk at once (a 2xx, a first send) is flushed explicitly; the rest (attempt
	 * records) rides along, one commit for many turns of the loop */
	self->commit_id = g_timeout_add_full (G_PRIORITY_DEFAULT, ASTRA_STATE_DB_COMMIT_DELAY_MS,
					      astra_state_db_commit_cb, self, NULL);
}

gboolean
astra_state_db_flush (AstraStateDb *self, GError **error)
{
	g_clear_handle_id (&self->commit_id, g_source_remove);
	if (!self->in_transaction)
		return TRUE;
	self->in_transaction = FALSE;
	if (!astra_state_db_run (self, "COMMIT", error)) {
		/* leave no transaction half open: what it held is lost, and the error says so */
		sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
		return FALSE;
	}
	return TRUE;
}

guint64
astra_state_db_get_transaction (AstraStateDb *self)
{
	return self->in_transaction ? self->transaction : 0;
}

sqlite3 *
astra_state_db_get_handle (AstraStateDb *self)
{
	return self->db;
}

static void
astra_state_db_finalize (GObject *object)
{
	AstraStateDb *self = ASTRA_STATE_DB (object);
	g_autoptr(GError) error_local = NULL;

	if (self->db != NULL && !astra_state_db_flush (self, &error_local))
		g_warning ("%s", error_local->message);
	g_hash_table_unref (self->statements);
	if (self->db != NULL)
		sqlite3_close (self->db);
	g_free (self->path);
	G_OBJECT_CLASS (astra_state_db_parent_class)->finalize (object);
}

static void
astra_state_db_class_init (AstraStateDbClass *klass)
{
	G_OBJECT_CLASS (klass)->finalize = astra_state_db_finalize;
}

static void
astra_state_db_statement_free (gpointer stmt)
{
	sqlite3_finalize (stmt);
}

static void
astra_state_db_init (AstraStateDb *self)
{
	self->statements = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, astra_state_db_statement_free);
}

AstraStateDb *
astra_state_db_open (const char *path, GError **error)
{
	g_autoptr(AstraStateDb) self = g_object_new (ASTRA_TYPE_STATE_DB, NULL);
	int rc;

	self->path = g_strdup (path);
	rc = sqlite3_open_v2 (path, &self->db,
			      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (!astra_state_db_check (self, rc, error))
		return NULL;
	sqlite3_extended_result_codes (self->db, 1);
	/* WAL with NORMAL sync: a crash loses at most the last commits, never the file */
	if (!astra_state_db_exec (self,
				  "PRAGMA journal_mode = WAL;"
				  "PRAGMA synchronous = NORMAL;"
				  "PRAGMA foreign_keys = ON;"
				  "PRAGMA busy_timeout = 5000;"
				  "CREATE TABLE IF NOT EXISTS schema (module TEXT PRIMARY KEY, version INTEGER NOT NULL);",
				  error))
		return NULL;
	return g_steal_pointer (&self);
}
