/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The plugin loader against the fake modules of tests/fake-plugins/. Each
 * test copies the modules it needs into a fresh folder, so that it can set
 * modes and owners on them. Modules register process-wide GTypes and stay
 * mapped, so every test runs in its own process (main() forces CK_FORK).
 */

#include "config.h"

#include <check.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "astra-check-common.h"
#include "astra-plugin-loader.h"
#include "fake-plugins/fake-plugin.h"

/* the uid of "nobody" on Debian; any uid but 0 and ours would do */
#define OTHER_UID 65534

static char *base_dir = NULL; /* per tcase, made and removed by the parent */
static char *tmp_dir = NULL;  /* per test, inside base_dir */
static GPtrArray *log_messages = NULL; /* "<level> <message>" of everything logged */

/* a plugin type linked into the test, as a built-in or a plugin's static library would be:
 * fake-plugins/fake-plugin.c built as AstraTestPlugin */
#define ASTRA_TYPE_TEST_PLUGIN (astra_fake_plugin_get_type ())

static void
base_setup (void)
{
	/* canonical, to compare with the loader's paths and /proc/self/maps */
	base_dir = astra_check_tmpdir_new (NULL, "astra-check-loader", 0700);
}

static void
base_teardown (void)
{
	astra_check_tmpdir_clear (&base_dir);
}

static GLogWriterOutput
log_writer_cb (GLogLevelFlags log_level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
	for (gsize i = 0; i < n_fields; i++) {
		if (g_strcmp0 (fields[i].key, "MESSAGE") != 0)
			continue;
		g_ptr_array_add (log_messages,
				 g_strdup_printf ("%s %s",
						  (log_level & G_LOG_LEVEL_WARNING) != 0   ? "warning"
						  : (log_level & G_LOG_LEVEL_MESSAGE) != 0 ? "message"
											   : "other",
						  (const char *) fields[i].value));
	}
	return g_log_writer_default (log_level, fields, n_fields, user_data);
}

static void
setup (void)
{
	tmp_dir = astra_check_tmpdir_new (base_dir, "test", 0755);

	/* each test is a fresh process, so the writer is set once per process */
	log_messages = g_ptr_array_new_with_free_func (g_free);
	g_log_set_writer_func (log_writer_cb, NULL, NULL);
}

static void
teardown (void)
{
	g_clear_pointer (&tmp_dir, g_free);
	g_clear_pointer (&log_messages, g_ptr_array_unref);
}

static void
assert_logged (const char *level, const char *text1, const char *text2)
{
	for (guint i = 0; i < log_messages->len; i++) {
		const char *msg = g_ptr_array_index (log_messages, i);
		if (g_str_has_prefix (msg, level) && strstr (msg, text1) != NULL &&
		    (text2 == NULL || strstr (msg, text2) != NULL))
			return;
	}
	ck_abort_msg ("no %s logged with '%s' and '%s'", level, text1, text2 != NULL ? text2 : "");
}

static char *
fake_build_path (const char *name)
{
	g_autofree char *filename = g_strdup_printf ("%s.so", name);

	return astra_check_build_path ("tests", "fake-plugins", filename, NULL);
}

/* copies the fake module @name into @dir as @dest (default <name>.so), mode 0644; returns the copy's path */
static char *
copy_fake (const char *dir, const char *name, const char *dest)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *src = fake_build_path (name);
	g_autofree char *data = NULL;
	g_autofree char *filename = dest != NULL ? g_strdup (dest) : g_strdup_printf ("%s.so", name);
	g_autofree char *path = g_build_filename (dir, filename, NULL);
	gsize len = 0;

	ck_assert_msg (g_file_get_contents (src, &data, &len, &error), "cannot read fake module: %s",
		       error != NULL ? error->message : "?");
	ck_assert_msg (g_file_set_contents (path, data, (gssize) len, &error), "cannot copy %s: %s", src,
		       error != NULL ? error->message : "?");
	ck_assert_int_eq (g_chmod (path, 0644), 0);
	return g_steal_pointer (&path);
}

/* whether the dynamic linker has @path mapped into this process */
static gboolean
is_mapped (const char *path)
{
	g_autofree char *maps = NULL;
	g_autofree char *needle = g_strdup_printf (" %s\n", path);

	ck_assert (g_file_get_contents ("/proc/self/maps", &maps, NULL, NULL));
	return strstr (maps, needle) != NULL;
}

static AstraEvent *
make_event (void)
{
	g_autoptr(GError) error = NULL;
	static const char body[] = "{\"event\":\"agent.registered\",\"timestamp\":\"2025-12-17T09:00:05Z\","
				   "\"data\":{\"agent_id\":\"agent-123\",\"hostname\":\"server-01\","
				   "\"tenant_id\":\"tenant-abc\",\"version\":\"2.4.1\",\"address\":\"192.0.2.10\"}}";
	g_autoptr(GBytes) bytes = g_bytes_new_static (body, strlen (body));
	AstraEvent *event = astra_event_new_from_body ("evt-loader-1", bytes, &error);

	ck_assert_msg (event != NULL, "cannot make event: %s", error != NULL ? error->message : "?");
	return event;
}

START_TEST (test_good)
{
	g_autoptr(AstraPluginLoader) loader = astra_plugin_loader_new ();
	g_autoptr(GError) error = NULL;
	g_autofree char *path = copy_fake (tmp_dir, "good", NULL);
	const AstraPluginModule *module;
	GPtrArray *modules;

	ck_assert (!is_mapped (path));
	ck_assert_msg (astra_plugin_loader_load_file (loader, path, &error), "%s", error->message);
	ck_assert (is_mapped (path));

	module = astra_plugin_loader_lookup (loader, "good");
	ck_assert_ptr_nonnull (module);
	ck_assert_str_eq (module->name, "good");
	ck_assert_str_eq (module->path, path);
	ck_assert_int_eq (module->state, ASTRA_PLUGIN_STATE_LOADED);
	ck_assert_uint_eq (module->abi_version, ASTRA_PLUGIN_ABI_VERSION);
	ck_assert_ptr_null (module->error);
	ck_assert_str_eq (g_type_name (module->gtype), "AstraFakeGoodPlugin");
	ck_assert (g_type_is_a (module->gtype, ASTRA_TYPE_PLUGIN));
	ck_assert_str_eq (astra_plugin_state_to_string (module->state), "loaded");

	modules = astra_plugin_loader_get_modules (loader);
	ck_assert_uint_eq (modules->len, 1);
	ck_assert_ptr_eq (g_ptr_array_index (modules, 0), module);

	/* loading it again (a rescan) changes nothing */
	ck_assert (astra_plugin_loader_load_file (loader, path, NULL));
	ck_assert_uint_eq (modules->len, 1);
	ck_assert_ptr_null (astra_plugin_loader_lookup (loader, "other"));
}
END_TEST

typedef struct {
	const char *name;      /* fake module, loaded as <name>.so */
	const char *reason;    /* substring of the refusal */
	guint32 abi_version;   /* as recorded */
	const char *type_name; /* a GType the module defines */
	gboolean type_registered; /* whether the loader let it register the type */
} RefusedCase;

static const RefusedCase refused_cases[] = {
	{"wrong-abi", "plugin ABI version 999, the daemon needs 1", 999, "AstraFakeWrongAbiPlugin", FALSE},
	{"missing-symbol", "module does not export astra_plugin_query()", 0, NULL, FALSE},
	{"null-info", "astra_plugin_query() returned NULL", 0, NULL, FALSE},
	{"no-get-type", "module declares no get_type function", 1, NULL, FALSE},
	{"wrong-type", "type AstraFakeWrongType is not an AstraPlugin", 1, "AstraFakeWrongType", TRUE},
	{"bad-name", "module declares the name 'other', not 'bad-name'", 1, "AstraFakeBadNamePlugin", FALSE},
	{"abstract", "type AstraFakeAbstractPlugin is abstract", 1, "AstraFakeAbstractPlugin", TRUE},
	/* G_MODULE_BIND_LAZY would have loaded it; dlerror() names the symbol */
	{"unresolved", "undefined symbol: astra_fake_symbol_that_does_not_exist", 0, "AstraFakeUnresolvedPlugin", FALSE},
};

START_TEST (test_refused)
{
	const RefusedCase *rc = &refused_cases[_i];
	g_autoptr(AstraPluginLoader) loader = astra_plugin_loader_new ();
	g_autoptr(GError) error = NULL;
	g_autoptr(GError) error_create = NULL;
	g_autoptr(AstraPlugin) plugin = NULL;
	g_autofree char *path = copy_fake (tmp_dir, rc->name, NULL);
	const AstraPluginModule *module;

	ck_assert (!astra_plugin_loader_load_file (loader, path, &error));
	ck_assert (g_error_matches (error, ASTRA_ERROR, ASTRA_ERROR_PLUGIN));
	astra_assert_contains (error->message, path);
	astra_assert_contains (error->message, rc->reason);
	assert_logged ("warning", path, rc->reason);

	module = astra_plugin_loader_lookup (loader, rc->name);
	ck_assert_ptr_nonnull (module);
	ck_assert_int_eq (module->state, ASTRA_PLUGIN_STATE_REFUSED);
	ck_assert_str_eq (astra_plugin_state_to_string (module->state), "refused");
	ck_assert_str_eq (module->path, path);
	astra_assert_contains (module->error, rc->reason);
	ck_assert_uint_eq (module->abi_version, rc->abi_version);
	ck_assert (module->gtype == G_TYPE_INVALID);
	ck_assert_uint_eq (astra_plugin_loader_get_modules (loader)->len, 1);

	/* a module that registered a type stays mapped (its class data lives there); the others are unloaded */
	ck_assert_msg (is_mapped (path) == rc->type_registered, "%s %s mapped", path,
		       rc->type_registered ? "is not" : "is still");
	if (rc->type_name != NULL)
		ck_assert_int_eq (g_type_from_name (rc->type_name) != G_TYPE_INVALID, rc->type_registered);
	if (rc->type_registered && !G_TYPE_IS_ABSTRACT (g_type_from_name (rc->type_name))) {
		/* would crash if the module had been unloaded */
		g_autoptr(GObject) obj = g_object_new (g_type_from_name (rc->type_name), NULL);
		ck_assert_ptr_nonnull (obj);
	}

	plugin = astra_plugin_loader_create (loader, rc->name, &error_create);
	ck_assert_ptr_null (plugin);
	ck_assert (g_error_matches (error_create, ASTRA_ERROR, ASTRA_ERROR_PLUGIN));
	astra_assert_contains (error_create->message, rc->name);
	astra_assert_contains (error_create->message, rc->reason);
}
END_TEST

START_TEST (test_not_elf)
{
	g_autoptr(AstraPluginLoader) loader = astra_plugin_loader_new ();
	g_autoptr(GError) error = NULL;
	g_autofree char *path = g_build_filename (tmp_dir, "junk.so", NULL);

	ck_assert (g_file_set_contents (path, "not an ELF file\n", -1, NULL));
	ck_assert_int_eq (g_chmod (path, 0644), 0);
	ck_assert (!astra_plugin_loader_load_file (loader, path, &error));
	ck_assert (g_error_matches (error, ASTRA_ERROR, ASTRA_ERROR_PLUGIN));
	astra_assert_contains (error->message, "cannot open module");
	ck_assert_int_eq (astra_plugin_loader_lookup (loader, "junk")->state, ASTRA_PLUGIN_STATE_REFUSED);
}
END_TEST

/* a file anyone but root (or the daemon's user) could have written is refused before dlopen */
static void
assert_refused_unmapped (const char *path, const char *name, const char *reason)
{
	g_autoptr(AstraPluginLoader) loader = astra_plugin_loader_new ();
	g_autoptr(GError) error = NULL;
	const AstraPluginModule *module;

	ck_assert (!astra_plugin_loader_load_file (loader, path, &error));
	ck_assert (g_error_matches (error, ASTRA_ERROR, ASTRA_ERROR_PLUGIN));
	astra_assert_contains (error->message, reason);
	assert_logged ("warning", path, reason);
	module = astra_plugin_loader_lookup (loader, name);
	ck_assert_ptr_nonnull (module);
	ck_assert_int_eq (module->state, ASTRA_PLUGIN_STATE_REFUSED);
	astra_assert_contains (module->error, reason);
	ck_assert_uint_eq (module->abi_version, 0);
	/* good.so would have registered AstraFakeGoodPlugin had it been opened */
	ck_assert (!is_mapped (path));
	ck_assert (g_type_from_name ("AstraFakeGoodPlugin") == G_TYPE_INVALID);
}

START_TEST (test_file_group_writable)
{
	g_autofree char *path = copy_fake (tmp_dir, "good", NULL);

	ck_assert_int_eq (g_chmod (path, 0664), 0);
	assert_refused_unmapped (path, "good", "file is group-writable (mode 0664)");
}
END_TEST

START_TEST (test_file_world_writable)
{
	g_autofree char *path = copy_fake (tmp_dir, "good", NULL);

	ck_assert_int_eq (g_chmod (path, 0646), 0);
	assert_refused_unmapped (path, "good", "file is world-writable (mode 0646)");
}
END_TEST

START_TEST (test_file_other_owner)
{
	g_autofree char *path = copy_fake (tmp_dir, "good", NULL);

	if (geteuid () != 0) {
		/* only root can give a file away; the rule for root is the one that matters in production */
		g_printerr ("SKIP: test_file_other_owner needs root (euid %u): not checking uid %u\n",
			    (guint) geteuid (), (guint) OTHER_UID);
		return;
	}
	ck_assert_int_eq (chown (path, OTHER_UID, OTHER_UID), 0);
	assert_refused_unmapped (path, "good", "file is owned by uid 65534, not by root");
}
END_TEST

START_TEST (test_file_symlink)
{
	g_autofree char *dir = g_build_filename (tmp_dir, "real", NULL);
	g_autofree char *target = NULL;
	g_autofree char *path = g_build_filename (tmp_dir, "good.so", NULL);

	ck_assert_int_eq (g_mkdir (dir, 0755), 0);
	target = copy_fake (dir, "good", NULL);
	ck_assert_int_eq (symlink (target, path), 0);
	assert_refused_unmapped (path, "good", "file is a symbolic link, not a regular file");
}
END_TEST

START_TEST (test_file_not_regular)
{
	g_autofree char *path = g_build_filename (tmp_dir, "good.so", NULL);

	ck_assert_int_eq (g_mkdir (path, 0755), 0);
	assert_refused_unmapped (path, "good", "not a regular file");
}
END_TEST

START_TEST (test_file_missing)
{
	g_autofree char *path = g_build_filename (tmp_dir, "good.so", NULL);

	assert_refused_unmapped (path, "good", "cannot read file: No such file or directory");
}
END_TEST

START_TEST (test_file_bad_name)
{
	g_autofree char *upper = copy_fake (tmp_dir, "good", "Good.so");
	g_autofree char *versioned = copy_fake (tmp_dir, "good", "good.so.1");

	assert_refused_unmapped (upper, "Good", "file name is not <name>.so");
	assert_refused_unmapped (versioned, "good.so.1", "file name is not <name>.so");
}
END_TEST

START_TEST (test_folder_writable)
{
	g_autoptr(AstraPluginLoader) loader = astra_plugin_loader_new ();
	g_autoptr(GError) error = NULL;
	g_autofree char *path = copy_fake (tmp_dir, "good", NULL);
	g_autofree char *wrong_abi = copy_fake (tmp_dir, "wrong-abi", NULL);
	g_autofree char *reason = g_strdup_printf ("folder %s is world-writable (mode 1777)", tmp_dir);
	GPtrArray *modules;

	/* sticky like /tmp: others still cannot replace our files, but can add their own */
	ck_assert_int_eq (g_chmod (tmp_dir, 01777), 0);
	ck_assert (!astra_plugin_loader_load_dir (loader, tmp_dir, &error));
	ck_assert (g_error_matches (error, ASTRA_ERROR, ASTRA_ERROR_PLUGIN));
	astra_assert_contains (error->message, reason);

	/* every module in it is recorded as refused, none opened */
	modules = astra_plugin_loader_get_modules (loader);
	ck_assert_uint_eq (modules->len, 2);
	for (guint i = 0; i < modules->len; i++) {
		AstraPluginModule *module = g_ptr_array_index (modules, i);
		ck_assert_int_eq (module->state, ASTRA_PLUGIN_STATE_REFUSED);
		astra_assert_contains (module->error, reason);
		ck_assert (!is_mapped (module->path));
	}
	ck_assert (g_type_from_name ("AstraFakeGoodPlugin") == G_TYPE_INVALID);

	/* the same for one file, and for a group-writable folder */
	g_clear_pointer (&reason, g_free);
	reason = g_strdup_printf ("folder %s is group-writable (mode 0775)", tmp_dir);
	ck_assert_int_eq (g_chmod (tmp_dir, 0775), 0);
	assert_refused_unmapped (path, "good", reason);
}
END_TEST

START_TEST (test_folder_other_owner)
{
	g_autoptr(AstraPluginLoader) loader = astra_plugin_loader_new ();
	g_autoptr(GError) error = NULL;
	g_autofree char *path = copy_fake (tmp_dir, "good", NULL);

	if (geteuid () != 0) {
		g_printerr ("SKIP: test_folder_other_owner needs root (euid %u)\n", (guint) geteuid ());
		return;
	}
	ck_assert_int_eq (chown (tmp_dir, OTHER_UID, OTHER_UID), 0);
	ck_assert (!astra_plugin_loader_load_dir (loader, tmp_dir, &error));
	astra_assert_contains (error->message, "is owned by uid 65534, not by root");
	ck_assert_int_eq (astra_plugin_loader_lookup (loader, "good")->state, ASTRA_PLUGIN_STATE_REFUSED);
	ck_assert (!is_mapped (path));
}
END_TEST

START_TEST (test_dir_missing)
{
	g_autoptr(AstraPluginLoader) loader = astra_plugin_loader_new ();
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_build_filename (tmp_dir, "plugins-1", NULL);

	ck_assert_msg (astra_plugin_loader_load_dir (loader, dir, &error), "%s", error->message);
	ck_assert_uint_eq (astra_plugin_loader_get_modules (loader)->len, 0);
	assert_logged ("message", dir, "does not exist");
}
END_TEST

START_TEST (test_dir_not_folder)
{
	g_autoptr(AstraPluginLoader) loader = astra_plugin_loader_new ();
	g_autoptr(GError) error = NULL;
	g_autofree char *path = copy_fake (tmp_dir, "good", NULL);

	ck_assert (!astra_plugin_loader_load_dir (loader, path, &error));
	ck_assert (g_error_matches (error, ASTRA_ERROR, ASTRA_ERROR_PLUGIN));
	astra_assert_contains (error->message, "is not a folder");
	ck_assert_uint_eq (astra_plugin_loader_get_modules (loader)->len, 0);
}
END_TEST

/* what the daemon does at startup: one folder with every fake, good and bad */
START_TEST (test_dir_carry_on)
{
	g_autoptr(AstraPluginLoader) loader = astra_plugin_loader_new ();
	g_autoptr(GError) error = NULL;
	g_autoptr(AstraPlugin) plugin = NULL;
	g_autofree char *readme = g_build_filename (tmp_dir, "README", NULL);
	g_autofree char *junk = g_build_filename (tmp_dir, "junk.so", NULL);
	const char *expected[] = {"abstract", "bad-name", "good", "junk", "missing-symbol", "no-get-type",
				  "null-info", "unresolved", "wrong-abi", "wrong-type"};
	GPtrArray *modules;
	guint n_logged;

	/* copied in an order other than the sorted one */
	for (guint i = G_N_ELEMENTS (refused_cases); i > 0; i--)
		g_free (copy_fake (tmp_dir, refused_cases[i - 1].name, NULL));
	g_free (copy_fake (tmp_dir, "good", NULL));
	ck_assert (g_file_set_contents (junk, "junk", -1, NULL));
	ck_assert (g_file_set_contents (readme, "not a module", -1, NULL));
	ck_assert_int_eq (g_chmod (junk, 0644), 0);

	ck_assert_msg (astra_plugin_loader_load_dir (loader, tmp_dir, &error), "%s", error->message);

	modules = astra_plugin_loader_get_modules (loader);
	ck_assert_uint_eq (modules->len, G_N_ELEMENTS (expected));
	for (guint i = 0; i < modules->len; i++) {
		AstraPluginModule *module = g_ptr_array_index (modules, i);
		g_autofree char *filename = g_strdup_printf ("%s.so", expected[i]);
		g_autofree char *path = g_build_filename (tmp_dir, filename, NULL);

		ck_assert_str_eq (module->name, expected[i]);
		ck_assert_str_eq (module->path, path);
		if (g_strcmp0 (module->name, "good") == 0) {
			ck_assert_int_eq (module->state, ASTRA_PLUGIN_STATE_LOADED);
			continue;
		}
		ck_assert_int_eq (module->state, ASTRA_PLUGIN_STATE_REFUSED);
		ck_assert_ptr_nonnull (module->error);
		assert_logged ("warning", path, module->error);
	}

	plugin = astra_plugin_loader_create (loader, "good", &error);
	ck_assert_msg (plugin != NULL, "%s", error->message);

	/* a rescan of the same folder neither duplicates, reorders nor warns again */
	n_logged = log_messages->len;
	ck_assert (astra_plugin_loader_load_dir (loader, tmp_dir, NULL));
	ck_assert_uint_eq (modules->len, G_N_ELEMENTS (expected));
	for (guint i = 0; i < modules->len; i++) {
		AstraPluginModule *module = g_ptr_array_index (modules, i);
		ck_assert_str_eq (module->name, expected[i]);
	}
	ck_assert_int_eq (astra_plugin_loader_lookup (loader, "good")->state, ASTRA_PLUGIN_STATE_LOADED);
	for (guint i = n_logged; i < log_messages->len; i++)
		ck_assert_msg (!g_str_has_prefix (g_ptr_array_index (log_messages, i), "warning"),
			       "warned again on a rescan: %s", (const char *) g_ptr_array_index (log_messages, i));
}
END_TEST

START_TEST (test_create_render)
{
	g_autoptr(AstraPluginLoader) loader = astra_plugin_loader_new ();
	g_autoptr(GError) error = NULL;
	g_autoptr(AstraPlugin) plugin = NULL;
	g_autoptr(AstraPlugin) plugin2 = NULL;
	g_autoptr(AstraEvent) event = make_event ();
	g_autoptr(AstraRequest) request = astra_request_new ();
	g_autofree char *path = copy_fake (tmp_dir, "good", NULL);

	ck_assert (astra_plugin_loader_load_file (loader, path, NULL));
	plugin = astra_plugin_loader_create (loader, "good", &error);
	ck_assert_msg (plugin != NULL, "%s", error != NULL ? error->message : "?");
	ck_assert (ASTRA_IS_PLUGIN (plugin));
	ck_assert_str_eq (G_OBJECT_TYPE_NAME (plugin), "AstraFakeGoodPlugin");

	ck_assert_msg (astra_plugin_render (plugin, event, request, &error), "%s", error->message);
	ck_assert_str_eq (astra_request_get_url (request), "https://receiver.invalid/good/agent.registered");
	ck_assert_str_eq (astra_request_get_content_type (request), "application/json");
	ck_assert (g_bytes_equal (astra_request_get_body (request), astra_event_get_body (event)));

	/* one instance per webhook */
	plugin2 = astra_plugin_loader_create (loader, "good", &error);
	ck_assert_ptr_nonnull (plugin2);
	ck_assert_ptr_ne (plugin, plugin2);
}
END_TEST

START_TEST (test_create_unknown)
{
	g_autoptr(AstraPluginLoader) loader = astra_plugin_loader_new ();
	g_autoptr(GError) error = NULL;
	g_autoptr(AstraPlugin) plugin = NULL;
	g_autofree char *good = copy_fake (tmp_dir, "good", NULL);
	g_autofree char *wrong_abi = copy_fake (tmp_dir, "wrong-abi", NULL);

	plugin = astra_plugin_loader_create (loader, "slack", &error);
	ck_assert_ptr_null (plugin);
	ck_assert (g_error_matches (error, ASTRA_ERROR, ASTRA_ERROR_NOT_FOUND));
	ck_assert_str_eq (error->message, "no plugin named 'slack' (available: none)");
	g_clear_error (&error);

	/* refused modules are not offered */
	ck_assert (astra_plugin_loader_load_dir (loader, tmp_dir, NULL));
	astra_plugin_loader_add_type (loader, "alpha", ASTRA_TYPE_TEST_PLUGIN);
	plugin = astra_plugin_loader_create (loader, "slack", &error);
	ck_assert_ptr_null (plugin);
	ck_assert (g_error_matches (error, ASTRA_ERROR, ASTRA_ERROR_NOT_FOUND));
	ck_assert_str_eq (error->message, "no plugin named 'slack' (available: alpha, good)");
}
END_TEST

START_TEST (test_add_type)
{
	g_autoptr(AstraPluginLoader) loader = astra_plugin_loader_new ();
	g_autoptr(GError) error = NULL;
	g_autoptr(AstraPlugin) plugin = NULL;
	g_autoptr(AstraEvent) event = make_event ();
	g_autoptr(AstraRequest) request = astra_request_new ();
	const AstraPluginModule *module;

	astra_plugin_loader_add_type (loader, "builtin", ASTRA_TYPE_TEST_PLUGIN);
	module = astra_plugin_loader_lookup (loader, "builtin");
	ck_assert_ptr_nonnull (module);
	ck_assert_int_eq (module->state, ASTRA_PLUGIN_STATE_LOADED);
	ck_assert_ptr_null (module->path);
	ck_assert_ptr_null (module->error);
	ck_assert (module->gtype == ASTRA_TYPE_TEST_PLUGIN);
	ck_assert_uint_eq (module->abi_version, ASTRA_PLUGIN_ABI_VERSION);

	plugin = astra_plugin_loader_create (loader, "builtin", &error);
	ck_assert_msg (plugin != NULL, "%s", error != NULL ? error->message : "?");
	ck_assert (G_TYPE_CHECK_INSTANCE_TYPE (plugin, ASTRA_TYPE_TEST_PLUGIN));
	ck_assert (astra_plugin_render (plugin, event, request, NULL));
	ck_assert_str_eq (astra_request_get_url (request), "https://receiver.invalid/builtin");
}
END_TEST

/* a second provider of a name is refused before its get_type runs (its GType names would clash) */
START_TEST (test_duplicate)
{
	g_autoptr(AstraPluginLoader) loader = astra_plugin_loader_new ();
	g_autoptr(AstraPluginLoader) loader2 = astra_plugin_loader_new ();
	g_autoptr(GError) error = NULL;
	g_autofree char *dir2 = g_build_filename (tmp_dir, "second", NULL);
	g_autofree char *first = copy_fake (tmp_dir, "good", NULL);
	g_autofree char *second = NULL;
	g_autofree char *reason = g_strdup_printf ("a plugin named 'good' is already loaded from %s", first);
	g_autofree char *reason2 = NULL;

	ck_assert_int_eq (g_mkdir (dir2, 0755), 0);
	second = copy_fake (dir2, "good", NULL);
	ck_assert (astra_plugin_loader_load_file (loader, first, NULL));
	ck_assert (!astra_plugin_loader_load_file (loader, second, &error));
	astra_assert_contains (error->message, reason);
	ck_assert (!is_mapped (second));
	ck_assert_uint_eq (astra_plugin_loader_get_modules (loader)->len, 2);
	/* the loaded one wins the lookup */
	ck_assert_str_eq (astra_plugin_loader_lookup (loader, "good")->path, first);
	g_clear_error (&error);

	/* a built-in takes precedence over a module file */
	astra_plugin_loader_add_type (loader2, "good", ASTRA_TYPE_TEST_PLUGIN);
	ck_assert (!astra_plugin_loader_load_file (loader2, second, &error));
	astra_assert_contains (error->message, "a plugin named 'good' is already built in");
	ck_assert (astra_plugin_loader_lookup (loader2, "good")->gtype == ASTRA_TYPE_TEST_PLUGIN);
}
END_TEST

/* a refused module is tried again on a rescan, and recorded once */
START_TEST (test_retry_refused)
{
	g_autoptr(AstraPluginLoader) loader = astra_plugin_loader_new ();
	g_autoptr(GError) error = NULL;
	g_autofree char *path = copy_fake (tmp_dir, "good", NULL);

	ck_assert_int_eq (g_chmod (path, 0666), 0);
	ck_assert (!astra_plugin_loader_load_file (loader, path, NULL));
	ck_assert_int_eq (astra_plugin_loader_lookup (loader, "good")->state, ASTRA_PLUGIN_STATE_REFUSED);

	ck_assert_int_eq (g_chmod (path, 0644), 0);
	ck_assert_msg (astra_plugin_loader_load_file (loader, path, &error), "%s", error->message);
	ck_assert_uint_eq (astra_plugin_loader_get_modules (loader)->len, 1);
	ck_assert_int_eq (astra_plugin_loader_lookup (loader, "good")->state, ASTRA_PLUGIN_STATE_LOADED);
}
END_TEST

static TCase *
tcase_new (const char *name)
{
	TCase *tc = tcase_create (name);

	tcase_add_unchecked_fixture (tc, base_setup, base_teardown);
	tcase_add_checked_fixture (tc, setup, teardown);
	return tc;
}

static Suite *
loader_suite (void)
{
	Suite *s = suite_create ("loader");
	TCase *tc;

	tc = tcase_new ("modules");
	tcase_add_test (tc, test_good);
	tcase_add_loop_test (tc, test_refused, 0, G_N_ELEMENTS (refused_cases));
	tcase_add_test (tc, test_not_elf);
	tcase_add_test (tc, test_duplicate);
	tcase_add_test (tc, test_retry_refused);
	suite_add_tcase (s, tc);

	tc = tcase_new ("safety");
	tcase_add_test (tc, test_file_group_writable);
	tcase_add_test (tc, test_file_world_writable);
	tcase_add_test (tc, test_file_other_owner);
	tcase_add_test (tc, test_file_symlink);
	tcase_add_test (tc, test_file_not_regular);
	tcase_add_test (tc, test_file_missing);
	tcase_add_test (tc, test_file_bad_name);
	tcase_add_test (tc, test_folder_writable);
	tcase_add_test (tc, test_folder_other_owner);
	suite_add_tcase (s, tc);

	tc = tcase_new ("dir");
	tcase_add_test (tc, test_dir_missing);
	tcase_add_test (tc, test_dir_not_folder);
	tcase_add_test (tc, test_dir_carry_on);
	suite_add_tcase (s, tc);

	tc = tcase_new ("create");
	tcase_add_test (tc, test_create_render);
	tcase_add_test (tc, test_create_unknown);
	tcase_add_test (tc, test_add_type);
	suite_add_tcase (s, tc);

	return s;
}

int
main (void)
{
	/* every test in its own process, even under CK_FORK=no: loaded modules and their GTypes never go away */
	return astra_check_run_suite_full (loader_suite (), ASTRA_CHECK_RUN_FLAG_ALWAYS_FORK);
}
