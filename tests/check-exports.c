/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * What the built binaries export, read with `nm -D --defined-only`:
 * - the SDK library exports exactly the functions its public headers mark
 *   ASTRA_AVAILABLE_IN_*, all versioned ASTRA_PLUGIN_*; so the version
 *   script, the visibility markers and the headers cannot drift apart;
 * - a plugin module exports one symbol, astra_plugin_query, so nothing of
 *   a plugin can interpose on the daemon or on another plugin.
 */

#include "config.h"

#include <check.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "astra-check-common.h"

#define ASTRA_SDK_LIBRARY "libastra-plugin.so.1.0.0"
#define ASTRA_SDK_VERSION_PREFIX "ASTRA_PLUGIN_"
#define ASTRA_AVAILABLE_PREFIX "ASTRA_AVAILABLE_IN_"

typedef struct {
	char *name;    /* without the version */
	char *version; /* NULL if unversioned */
	char type;     /* nm's letter */
} ExportedSymbol;

static void
exported_symbol_free (ExportedSymbol *sym)
{
	g_free (sym->name);
	g_free (sym->version);
	g_free (sym);
}

/* the dynamic symbols @path defines, version nodes left out */
static GPtrArray *
run_nm (const char *path)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) symbols = g_ptr_array_new_with_free_func ((GDestroyNotify) exported_symbol_free);
	g_autofree char *nm = g_find_program_in_path ("nm");
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	g_auto(GStrv) lines = NULL;
	const char *argv[] = {NULL, "-D", "--defined-only", path, NULL};
	int status = 0;

	ck_assert_msg (nm != NULL, "nm (binutils) is not in PATH; install binutils to run this test");
	ck_assert_msg (g_file_test (path, G_FILE_TEST_IS_REGULAR), "%s does not exist: is it built?", path);
	argv[0] = nm;
	ck_assert_msg (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
				     &out, &err, &status, &error),
		       "cannot run %s: %s", nm, error != NULL ? error->message : "?");
	ck_assert_msg (g_spawn_check_wait_status (status, &error), "%s -D --defined-only %s failed: %s\n%s",
		       nm, path, error != NULL ? error->message : "?", err);

	lines = g_strsplit (out, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		g_auto(GStrv) fields = g_strsplit_set (lines[i], " \t", -1);
		g_autofree char *name = NULL;
		ExportedSymbol *sym;
		char *at;

		if (lines[i][0] == '\0')
			continue;
		/* "<address> <type> <name>" */
		ck_assert_msg (g_strv_length (fields) == 3 && strlen (fields[1]) == 1,
			       "unexpected nm output for %s: '%s'", path, lines[i]);
		name = g_strdup (fields[2]);
		/* the version node itself, e.g. "ASTRA_PLUGIN_1.0", is an absolute symbol, not an export */
		if (fields[1][0] == 'A' && strchr (name, '@') == NULL)
			continue;
		sym = g_new0 (ExportedSymbol, 1);
		sym->type = fields[1][0];
		at = strchr (name, '@');
		if (at != NULL) {
			*at = '\0';
			sym->version = g_strdup (at[1] == '@' ? at + 2 : at + 1);
		}
		sym->name = g_steal_pointer (&name);
		g_ptr_array_add (symbols, sym);
	}
	return g_steal_pointer (&symbols);
}

static const char *
skip_space (const char *p)
{
	while (g_ascii_isspace (*p))
		p++;
	return p;
}

/* the function a declaration after an ASTRA_AVAILABLE_IN_* marker declares, NULL if none */
static char *
parse_declaration (const char *p)
{
	const char *end;
	const char *paren;
	const char *name_end;
	const char *name_start;

	p = skip_space (p);
	/* G_DECLARE_FINAL_TYPE (AstraEvent, astra_event, ...) declares astra_event_get_type() */
	if (g_str_has_prefix (p, "G_DECLARE_")) {
		g_auto(GStrv) args = NULL;
		g_autofree char *inside = NULL;

		paren = strchr (p, '(');
		end = paren != NULL ? strchr (paren, ')') : NULL;
		if (end == NULL)
			return NULL;
		inside = g_strndup (paren + 1, (gsize) (end - paren - 1));
		args = g_strsplit (inside, ",", -1);
		if (g_strv_length (args) < 2)
			return NULL;
		return g_strdup_printf ("%s_get_type", g_strstrip (args[1]));
	}
	/* "<return type> <name> (<parameters>);": the identifier just before the first '(' */
	end = strchr (p, ';');
	paren = strchr (p, '(');
	if (end == NULL || paren == NULL || paren > end)
		return NULL;
	name_end = paren;
	while (name_end > p && g_ascii_isspace (name_end[-1]))
		name_end--;
	name_start = name_end;
	while (name_start > p && (g_ascii_isalnum (name_start[-1]) || name_start[-1] == '_'))
		name_start--;
	if (name_start == name_end)
		return NULL;
	return g_strndup (name_start, (gsize) (name_end - name_start));
}

/* name -> header file of every function the public headers mark ASTRA_AVAILABLE_IN_* */
static GHashTable *
parse_headers (void)
{
	g_autoptr(GHashTable) declared = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
	g_autoptr(GError) error = NULL;
	g_autoptr(GDir) dir = NULL;
	g_autofree char *include_dir = astra_check_source_path ("include", "astra", NULL);
	const char *filename;

	dir = g_dir_open (include_dir, 0, &error);
	ck_assert_msg (dir != NULL, "%s", error != NULL ? error->message : "?");
	while ((filename = g_dir_read_name (dir)) != NULL) {
		g_autofree char *path = NULL;
		g_autofree char *text = NULL;
		const char *p;

		if (!g_str_has_suffix (filename, ".h"))
			continue;
		path = g_build_filename (include_dir, filename, NULL);
		ck_assert_msg (g_file_get_contents (path, &text, NULL, &error), "%s", error->message);
		for (p = text; (p = strstr (p, ASTRA_AVAILABLE_PREFIX)) != NULL; p++) {
			char *name;

			/* markers start a line; this skips the macro's own #define and mentions in comments */
			if (p != text && p[-1] != '\n')
				continue;
			p += strlen (ASTRA_AVAILABLE_PREFIX);
			while (g_ascii_isalnum (*p) || *p == '_')
				p++;
			name = parse_declaration (p);
			ck_assert_msg (name != NULL, "%s: cannot parse the declaration after a marker: %.60s",
				       filename, p);
			g_hash_table_replace (declared, name, g_strdup (filename));
		}
	}
	return g_steal_pointer (&declared);
}

START_TEST (test_headers_parsed)
{
	g_autoptr(GHashTable) declared = parse_headers ();

	/* the parser itself: a plain function, a G_DECLARE_* type, a multi-line declaration */
	ck_assert_str_eq (g_hash_table_lookup (declared, "astra_json_parse"), "astra-json.h");
	ck_assert_str_eq (g_hash_table_lookup (declared, "astra_plugin_get_type"), "astra-plugin.h");
	ck_assert_str_eq (g_hash_table_lookup (declared, "astra_signer_verify"), "astra-signer.h");
	ck_assert_str_eq (g_hash_table_lookup (declared, "astra_error_quark"), "astra-error.h");
	ck_assert (!g_hash_table_contains (declared, "astra_plugin_query"));
	ck_assert_uint_ge (g_hash_table_size (declared), 50);
}
END_TEST

static GPtrArray *
run_nm_sdk (void)
{
	g_autofree char *path = astra_check_build_path ("core", "sdk", ASTRA_SDK_LIBRARY, NULL);
	return run_nm (path);
}

/* nothing leaks out of the SDK: every export is an astra_* function a header declares */
START_TEST (test_sdk_exports_declared)
{
	g_autoptr(GHashTable) declared = parse_headers ();
	g_autoptr(GPtrArray) symbols = run_nm_sdk ();
	g_autoptr(GString) bad = g_string_new (NULL);

	ck_assert_uint_gt (symbols->len, 0);
	for (guint i = 0; i < symbols->len; i++) {
		ExportedSymbol *sym = g_ptr_array_index (symbols, i);

		if (!g_str_has_prefix (sym->name, "astra_"))
			g_string_append_printf (bad, " %s (no astra_ prefix)", sym->name);
		else if (!g_hash_table_contains (declared, sym->name))
			g_string_append_printf (bad, " %s (not declared with " ASTRA_AVAILABLE_PREFIX "* in include/astra/)",
						sym->name);
		else if (sym->type != 'T')
			g_string_append_printf (bad, " %s (type %c, not a function)", sym->name, sym->type);
	}
	ck_assert_msg (bad->len == 0, "%s exports symbols it should not:%s", ASTRA_SDK_LIBRARY, bad->str);
}
END_TEST

/* nothing promised is missing: every marked declaration is exported */
START_TEST (test_sdk_declared_exported)
{
	g_autoptr(GHashTable) declared = parse_headers ();
	g_autoptr(GPtrArray) symbols = run_nm_sdk ();
	g_autoptr(GHashTable) exported = g_hash_table_new (g_str_hash, g_str_equal);
	g_autoptr(GList) names = NULL;
	g_autoptr(GString) bad = g_string_new (NULL);

	for (guint i = 0; i < symbols->len; i++) {
		ExportedSymbol *sym = g_ptr_array_index (symbols, i);
		g_hash_table_add (exported, sym->name);
	}
	names = g_list_sort (g_hash_table_get_keys (declared), (GCompareFunc) g_strcmp0);
	for (GList *l = names; l != NULL; l = l->next) {
		if (!g_hash_table_contains (exported, l->data))
			g_string_append_printf (bad, " %s (%s)", (const char *) l->data,
						(const char *) g_hash_table_lookup (declared, l->data));
	}
	ck_assert_msg (bad->len == 0, "declared " ASTRA_AVAILABLE_PREFIX "* but not exported by %s:%s",
		       ASTRA_SDK_LIBRARY, bad->str);
}
END_TEST

/* the version script applies: every symbol carries the SDK's version node */
START_TEST (test_sdk_versioned)
{
	g_autoptr(GPtrArray) symbols = run_nm_sdk ();

	for (guint i = 0; i < symbols->len; i++) {
		ExportedSymbol *sym = g_ptr_array_index (symbols, i);
		ck_assert_msg (sym->version != NULL && g_str_has_prefix (sym->version, ASTRA_SDK_VERSION_PREFIX),
			       "%s is exported with version '%s', not " ASTRA_SDK_VERSION_PREFIX "*", sym->name,
			       sym->version != NULL ? sym->version : "(none)");
	}
}
END_TEST

static void
assert_plugin_exports (const char *path)
{
	g_autoptr(GPtrArray) symbols = run_nm (path);
	g_autoptr(GString) names = g_string_new (NULL);

	for (guint i = 0; i < symbols->len; i++) {
		ExportedSymbol *sym = g_ptr_array_index (symbols, i);
		g_string_append_printf (names, " %s", sym->name);
	}
	ck_assert_msg (symbols->len == 1 &&
			   g_strcmp0 (((ExportedSymbol *) g_ptr_array_index (symbols, 0))->name, "astra_plugin_query") == 0,
		       "%s must export exactly astra_plugin_query (link it with plugins/plugin.map); it exports:%s",
		       path, names->len > 0 ? names->str : " nothing");
}

START_TEST (test_fake_plugin_exports)
{
	g_autofree char *path = astra_check_build_path ("tests", "fake-plugins", "good.so", NULL);
	g_autofree char *missing =
	    astra_check_build_path ("tests", "fake-plugins", "missing-symbol.so", NULL);
	g_autoptr(GPtrArray) symbols = NULL;

	assert_plugin_exports (path);

	/* and the check can see a module that gets it wrong: the map hides its misspelled entry point */
	symbols = run_nm (missing);
	ck_assert_uint_eq (symbols->len, 0);
}
END_TEST

/* the real plugins: build/plugins/ is a plugin folder, every *.so in it is a module */
START_TEST (test_plugin_modules_exports)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GDir) dir = NULL;
	g_autofree char *plugin_dir = astra_check_build_path ("plugins", NULL);
	g_autofree char *generic = g_build_filename (plugin_dir, "generic.so", NULL);
	const char *filename;
	guint n_modules = 0;

	ck_assert_msg (g_file_test (generic, G_FILE_TEST_IS_REGULAR),
		       "%s is not built: plugins/meson.build must build a shared_module 'generic' "
		       "(name_prefix '', linked with plugins/plugin.map)", generic);
	dir = g_dir_open (plugin_dir, 0, &error);
	ck_assert_msg (dir != NULL, "%s", error != NULL ? error->message : "?");
	while ((filename = g_dir_read_name (dir)) != NULL) {
		g_autofree char *path = NULL;

		if (!g_str_has_suffix (filename, ".so"))
			continue;
		path = g_build_filename (plugin_dir, filename, NULL);
		assert_plugin_exports (path);
		n_modules++;
	}
	ck_assert_uint_ge (n_modules, 1);
}
END_TEST

static Suite *
exports_suite (void)
{
	Suite *s = suite_create ("exports");
	TCase *tc;

	tc = tcase_create ("sdk");
	tcase_add_test (tc, test_headers_parsed);
	tcase_add_test (tc, test_sdk_exports_declared);
	tcase_add_test (tc, test_sdk_declared_exported);
	tcase_add_test (tc, test_sdk_versioned);
	suite_add_tcase (s, tc);

	tc = tcase_create ("plugins");
	tcase_add_test (tc, test_fake_plugin_exports);
	tcase_add_test (tc, test_plugin_modules_exports);
	suite_add_tcase (s, tc);

	return s;
}

int
main (void)
{
	return astra_check_run_suite (exports_suite ());
}
