/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>
#include <sqlite3.h>

G_BEGIN_DECLS

/*
 * AstraStateDb: the daemon's one SQLite database, `state.db` in the state
 * folder, in WAL mode.
 *
 * Writers never block the main loop for long: astra_state_db_begin() opens a
 * transaction if none is open and schedules its commit a few milliseconds
 * later, so everything written meanwhile, over many requests and timer
 * batches, lands in one commit; what must be on disk at once is committed
 * with astra_state_db_flush(). Each module keeps its own tables and prepared
 * statements; the schema of each module is versioned separately (a `schema`
 * table of module -> version) so modules migrate independently.
 */

#define ASTRA_TYPE_STATE_DB (astra_state_db_get_type ())
G_DECLARE_FINAL_TYPE (AstraStateDb, astra_state_db, ASTRA, STATE_DB, GObject)

/* path ":memory:" gives a private in-memory database (tests) */
AstraStateDb *astra_state_db_open (const char *path, GError **error);
sqlite3 *astra_state_db_get_handle (AstraStateDb *self);
/* runs statements (no results) */
gboolean astra_state_db_exec (AstraStateDb *self, const char *sql, GError **error);
/* a cached prepared statement for sql, reset and with its bindings cleared */
sqlite3_stmt *astra_state_db_prepare (AstraStateDb *self, const char *sql, GError **error);
/* the version a module's tables are at (0 if never created), and recording a new one */
guint astra_state_db_get_schema_version (AstraStateDb *self, const char *module);
gboolean astra_state_db_set_schema_version (AstraStateDb *self, const char *module, guint version, GError **error);
/* creates a module's tables (sql) unless they are at version; refuses a newer database */
gboolean astra_state_db_ensure_schema (AstraStateDb *self, const char *module, guint version, const char *sql,
				       GError **error);
/* opens a transaction if needed; it is committed within a few milliseconds (or at the next flush) */
void astra_state_db_begin (AstraStateDb *self);
/* the number of the open transaction, 0 if none is open: lets a writer tell later whether
 * what it wrote is committed yet */
guint64 astra_state_db_get_transaction (AstraStateDb *self);
/* commits now (shutdown, tests) */
gboolean astra_state_db_flush (AstraStateDb *self, GError **error);
/* for statements stepped by modules: turns a result code into a GError naming the database */
gboolean astra_state_db_check (AstraStateDb *self, int rc, GError **error);
/* a copy of a text column of the current row, NULL for an SQL NULL */
char *astra_state_db_column_strdup (sqlite3_stmt *stmt, int column);

G_END_DECLS
