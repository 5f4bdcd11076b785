/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * AstraStateDb: WAL, schema versions per module, commits batched per main-loop iteration.
 */

#include "config.h"

#include "astra-check-common.h"
#include "astra-state-db.h"

static gint64
count_rows (AstraStateDb *db)
{
	sqlite3_stmt *stmt = astra_state_db_prepare (db, "SELECT COUNT(*) FROM t", NULL);
	gint64 n;

	ck_assert_ptr_nonnull (stmt);
	ck_assert_int_eq (sqlite3_step (stmt), SQLITE_ROW);
	n = sqlite3_column_int64 (stmt, 0);
	sqlite3_reset (stmt);
	return n;
}

static void
insert_row (AstraStateDb *db, gint64 value)
{
	g_autoptr(GError) error = NULL;
	sqlite3_stmt *stmt = astra_state_db_prepare (db, "INSERT INTO t (v) VALUES (?1)", &error);

	astra_assert_no_error (error);
	astra_state_db_begin (db);
	sqlite3_bind_int64 (stmt, 1, value);
	ck_assert (astra_state_db_check (db, sqlite3_step (stmt), &error));
	sqlite3_reset (stmt);
}

START_TEST (test_schema_and_batching)
{
	g_autofree char *path = astra_check_tmp_path ("state.db");
	g_autoptr(GError) error = NULL;
	g_autoptr(AstraStateDb) db = astra_state_db_open (path, &error);
	g_autoptr(AstraStateDb) reader = NULL;
	sqlite3_stmt *stmt;

	astra_assert_no_error (error);
	ck_assert_uint_eq (astra_state_db_get_schema_version (db, "test"), 0);
	ck_assert (astra_state_db_exec (db, "CREATE TABLE t (v INTEGER)", &error));
	ck_assert (astra_state_db_set_schema_version (db, "test", 1, &error));
	ck_assert (astra_state_db_set_schema_version (db, "test", 2, &error));
	ck_assert_uint_eq (astra_state_db_get_schema_version (db, "test"), 2);
	ck_assert_uint_eq (astra_state_db_get_schema_version (db, "other"), 0);

	stmt = astra_state_db_prepare (db, "PRAGMA journal_mode", &error);
	ck_assert_int_eq (sqlite3_step (stmt), SQLITE_ROW);
	ck_assert_str_eq ((const char *) sqlite3_column_text (stmt, 0), "wal");
	sqlite3_reset (stmt);

	/* a text column is copied; NULL stays NULL */
	stmt = astra_state_db_prepare (db, "SELECT 'caf\xc3\xa9', NULL", &error);
	astra_assert_no_error (error);
	ck_assert_int_eq (sqlite3_step (stmt), SQLITE_ROW);
	{
		g_autofree char *text = astra_state_db_column_strdup (stmt, 0);
		g_autofree char *none = astra_state_db_column_strdup (stmt, 1);

		ck_assert_str_eq (text, "caf\xc3\xa9");
		ck_assert_ptr_null (none);
	}
	sqlite3_reset (stmt);

	/* writes of one iteration share a transaction: a second connection sees none until it ends */
	reader = astra_state_db_open (path, &error);
	astra_assert_no_error (error);
	for (guint i = 0; i < 1000; i++)
		insert_row (db, i);
	ck_assert_int_eq (count_rows (db), 1000);
	ck_assert_int_eq (count_rows (reader), 0);
	/* one commit for all of them, a few milliseconds later */
	astra_check_iterate_for (100);
	ck_assert_int_eq (count_rows (reader), 1000);

	insert_row (db, 1000);
	ck_assert (astra_state_db_flush (db, &error));
	ck_assert_int_eq (count_rows (reader), 1001);
	/* nothing left to commit */
	ck_assert (astra_state_db_flush (db, &error));
}
END_TEST

START_TEST (test_survives_reopen_and_errors)
{
	g_autofree char *path = astra_check_tmp_path ("state.db");
	g_autoptr(GError) error = NULL;

	{
		g_autoptr(AstraStateDb) db = astra_state_db_open (path, &error);
		astra_assert_no_error (error);
		ck_assert (astra_state_db_exec (db, "CREATE TABLE t (v INTEGER)", &error));
		insert_row (db, 7);
		/* finalize commits what is pending */
	}
	{
		g_autoptr(AstraStateDb) db = astra_state_db_open (path, &error);
		astra_assert_no_error (error);
		ck_assert_int_eq (count_rows (db), 1);
		ck_assert (!astra_state_db_exec (db, "SELECT * FROM missing", &error));
		astra_assert_contains (error->message, path);
		astra_assert_contains (error->message, "missing");
	}
	/* a folder that does not exist: a clear error, no crash */
	{
		g_autofree char *bad = astra_check_tmp_path ("no/such/folder/state.db");
		g_autoptr(AstraStateDb) db = astra_state_db_open (bad, &error);
		ck_assert_ptr_null (db);
		astra_assert_contains (error->message, "state database");
	}
}
END_TEST

int
main (void)
{
	Suite *s = suite_create ("state-db");
	TCase *tc = astra_check_tmpdir_tcase_new ("state-db");

	tcase_add_test (tc, test_schema_and_batching);
	tcase_add_test (tc, test_survives_reopen_and_errors);
	suite_add_tcase (s, tc);
	return astra_check_run_suite (s);
}
