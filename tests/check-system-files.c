/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The system integration files as `meson install` lays them out in a scratch
 * DESTDIR: each in its place; the systemd unit checked by systemd-analyze and
 * its command line by the daemon; the bus policy and the activation file read
 * by a real dbus-daemon, which must let nobody but the daemon's user own the
 * name and anyone call it; the user and folders made by systemd-sysusers and
 * systemd-tmpfiles in the scratch root; the man pages formatted by groff
 * without a warning and naming every option and command the programs have.
 * A check whose tool is missing is skipped, saying so on stderr.
 *
 * Where meson installs (set in data/meson.build, passed by tests/meson.build):
 * ASTRA_INSTALL_PREFIX, _SBINDIR, _DATADIR, _MANDIR, _SYSCONFDIR and
 * _SYSTEMD_UNIT_DIR, all absolute.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "astra-check-common.h"
#include "astra-test-util.h"

#define BUS_NAME "org.astranetmon.Alerts1"
#define BUS_PATH "/org/astranetmon/Alerts1"
#define DAEMON_USER "astra-alerts"
#define UNIT_NAME "astra-alertd.service"
#define UNIT_ALIAS "dbus-org.astranetmon.Alerts1.service"
#define RUN_TIMEOUT_MS 60000
#define DBUS_ACCESS_DENIED "org.freedesktop.DBus.Error.AccessDenied"

/* the scratch root `meson install --destdir` filled */
static char *destdir;

static void
skip (const char *what, const char *why)
{
	g_printerr ("SKIP: %s: %s\n", what, why);
}

/* at most the last 1500 bytes of @text (check's messages have a size limit),
 * starting at a line; owned by the caller */
static char *
tail (const char *text)
{
	gsize len = strlen (text);
	const char *start = text;

	if (len > 1500) {
		start = text + len - 1500;
		if (strchr (start, '\n') != NULL)
			start = strchr (start, '\n') + 1;
	}
	return g_strdup_printf ("%s%s", start != text ? "[...]\n" : "", start);
}

/* @status is 0, else fails with @what and the ends of @out and @err */
static void
assert_exit_ok (const char *what, int status, const char *out, const char *err)
{
	g_autofree char *out_tail = NULL;
	g_autofree char *err_tail = NULL;

	if (status == 0)
		return;
	out_tail = tail (out);
	err_tail = tail (err);
	ck_abort_msg ("%s: exit %d\nstdout:\n%s\nstderr:\n%s", what, status, out_tail, err_tail);
}

static const char *
env_dir (const char *var)
{
	g_autoptr(GError) error = NULL;
	const char *value = astra_test_getenv (var, &error);

	astra_assert_no_error (error);
	ck_assert_msg (g_path_is_absolute (value), "%s=%s is not absolute", var, value);
	return value;
}

/* DESTDIR + the folder named by @var + the parts after it */
static char *installed_path (const char *var, const char *first, ...) G_GNUC_NULL_TERMINATED;

static char *
installed_path (const char *var, const char *first, ...)
{
	g_autoptr(GPtrArray) parts = g_ptr_array_new ();
	va_list args;

	g_ptr_array_add (parts, destdir);
	g_ptr_array_add (parts, (gpointer) env_dir (var));
	va_start (args, first);
	for (const char *part = first; part != NULL; part = va_arg (args, const char *))
		g_ptr_array_add (parts, (gpointer) part);
	va_end (args);
	g_ptr_array_add (parts, NULL);
	return g_build_filenamev ((char **) parts->pdata);
}

/* runs @argv (a NULL-terminated list) to completion; its exit status, and
 * its output in @out and @err unless NULL */
static int
run (const char *const *argv, const char *const *env, char **out, char **err)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *cmd = g_strjoinv (" ", (GStrv) argv);
	g_autofree char *out_local = NULL;
	g_autofree char *err_local = NULL;
	int status = -1;

	ck_assert_msg (
	    astra_test_run (argv, env, NULL, RUN_TIMEOUT_MS, &status, &out_local, &err_local, &error),
	    "%s: %s", cmd, error != NULL ? error->message : "");
	/* astra_test_run() gives NULL for an empty output (g_strndup of an empty GBytes' NULL data) */
	if (out != NULL)
		*out = out_local != NULL ? g_steal_pointer (&out_local) : g_strdup ("");
	if (err != NULL)
		*err = err_local != NULL ? g_steal_pointer (&err_local) : g_strdup ("");
	return status;
}

/* the same, which must exit 0 and print nothing on stderr; returns stdout */
static char *
run_clean (const char *const *argv, const char *const *env)
{
	g_autofree char *cmd = g_strjoinv (" ", (GStrv) argv);
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	int status = run (argv, env, &out, &err);

	if (status != 0 || err[0] != '\0') {
		g_autofree char *out_tail = tail (out);
		g_autofree char *err_tail = tail (err);
		ck_abort_msg ("%s: exit %d\nstdout:\n%s\nstderr:\n%s", cmd, status, out_tail, err_tail);
	}
	return g_steal_pointer (&out);
}

/*
 * One install for the whole run, made before the tests fork (an unchecked
 * fixture, in check's own process): so with g_spawn_sync(), which starts no
 * GLib thread, not astra_test_run(). The tests that write (the scratch root's
 * users and folders) write where no other test looks.
 */
static char *install_dir;

static void
install_once (void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	const char *build_dir = g_getenv ("ASTRA_BUILD_DIR");
	int status = -1;

	ck_assert_msg (build_dir != NULL, "ASTRA_BUILD_DIR is not set: run the test through meson test");
	install_dir = astra_check_tmpdir_new (NULL, "system-files", 0700);
	destdir = g_build_filename (install_dir, "destdir", NULL);
	{
		/* --no-rebuild: meson test has built everything, and a build here would race the
		 * suites running beside this one */
		const char *argv[] = { "meson", "install",      "-C",      build_dir, "--destdir",
				       destdir, "--no-rebuild", "--quiet", NULL };
		ck_assert_msg (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
					     &out, &err, &status, &error),
			       "meson install: %s", error != NULL ? error->message : "");
	}
	if (!g_spawn_check_wait_status (status, &error)) {
		g_autofree char *out_tail = tail (out);
		g_autofree char *err_tail = tail (err);
		ck_abort_msg ("meson install: %s\nstdout:\n%s\nstderr:\n%s", error->message, out_tail,
			      err_tail);
	}
}

static void
install_once_teardown (void)
{
	g_clear_pointer (&destdir, g_free);
	astra_check_tmpdir_clear (&install_dir);
}

static GKeyFile *
load_key_file (const char *path)
{
	g_autoptr(GKeyFile) keyfile = g_key_file_new ();
	g_autoptr(GError) error = NULL;

	ck_assert_msg (g_key_file_load_from_file (keyfile, path, G_KEY_FILE_NONE, &error), "%s: %s", path,
		       error != NULL ? error->message : "");
	return g_steal_pointer (&keyfile);
}

static void
assert_key (GKeyFile *keyfile, const char *group, const char *key, const char *expected)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *value = g_key_file_get_value (keyfile, group, key, &error);

	ck_assert_msg (value != NULL, "[%s] %s: %s", group, key, error->message);
	ck_assert_msg (g_strcmp0 (value, expected) == 0, "[%s] %s = '%s', expected '%s'", group, key, value,
		       expected);
}

static GKeyFile *
load_unit (void)
{
	g_autofree char *path = installed_path ("ASTRA_INSTALL_SYSTEMD_UNIT_DIR", UNIT_NAME, NULL);
	return load_key_file (path);
}

/* the unit's ExecStart, split as systemd does for a line without quotes */
static GStrv
unit_exec_start (GKeyFile *unit)
{
	g_autofree char *exec_start = g_key_file_get_value (unit, "Service", "ExecStart", NULL);
	g_autoptr(GError) error = NULL;
	GStrv argv = NULL;

	ck_assert_msg (exec_start != NULL, "no ExecStart");
	ck_assert_msg (g_shell_parse_argv (exec_start, NULL, &argv, &error), "ExecStart=%s: %s", exec_start,
		       error != NULL ? error->message : "");
	return argv;
}

START_TEST (test_files_in_place)
{
	const struct {
		const char *dir_var;
		const char *rel;
		const char *source; /* installed unchanged from data/, or NULL */
	} files[] = {
		{ "ASTRA_INSTALL_SYSTEMD_UNIT_DIR", UNIT_NAME, NULL },
		{ "ASTRA_INSTALL_DATADIR", "dbus-1/system-services/" BUS_NAME ".service",
		  "data/dbus-1/" BUS_NAME ".service" },
		{ "ASTRA_INSTALL_DATADIR", "dbus-1/system.d/" BUS_NAME ".conf",
		  "data/dbus-1/" BUS_NAME ".conf" },
		/* the interface as gdbus-codegen read it, for tools that introspect */
		{ "ASTRA_INSTALL_DATADIR", "dbus-1/interfaces/" BUS_NAME ".xml", "data/" BUS_NAME ".xml" },
		{ "ASTRA_INSTALL_PREFIX", "lib/sysusers.d/astra-alerts.conf",
		  "data/sysusers.d/astra-alerts.conf" },
		{ "ASTRA_INSTALL_PREFIX", "lib/tmpfiles.d/astra-alerts.conf", NULL },
		{ "ASTRA_INSTALL_MANDIR", "man8/astra-alertd.8", "data/man/astra-alertd.8" },
		{ "ASTRA_INSTALL_MANDIR", "man1/astra-alertctl.1", "data/man/astra-alertctl.1" },
	};
	const char *prefix = env_dir ("ASTRA_INSTALL_PREFIX");
	const char *unit_dir = env_dir ("ASTRA_INSTALL_SYSTEMD_UNIT_DIR");
	g_autofree char *daemon = installed_path ("ASTRA_INSTALL_SBINDIR", "astra-alertd", NULL);

	/* below the prefix, like everything else: an install into a private prefix
	 * (check-sdk-install) must not write to the real /lib */
	ck_assert_msg (g_str_has_prefix (unit_dir, prefix), "unit folder %s is not below %s", unit_dir,
		       prefix);
	ck_assert_msg (g_str_has_suffix (unit_dir, "/lib/systemd/system"),
		       "unit folder %s is not a systemd system unit folder", unit_dir);

	for (gsize i = 0; i < G_N_ELEMENTS (files); i++) {
		g_autofree char *path = installed_path (files[i].dir_var, files[i].rel, NULL);
		GStatBuf st;

		ck_assert_msg (g_stat (path, &st) == 0, "%s is not installed", path);
		ck_assert_msg (S_ISREG (st.st_mode), "%s is not a file", path);
		ck_assert_msg ((st.st_mode & 07777) == 0644, "%s has mode %04o", path,
			       (guint) (st.st_mode & 07777));
		if (files[i].source != NULL) {
			g_autofree char *installed = astra_check_read_file (path, NULL);
			g_autofree char *source = astra_check_read_source_file (files[i].source);
			ck_assert_msg (g_strcmp0 (installed, source) == 0, "%s differs from %s", path,
				       files[i].source);
		}
	}
	ck_assert_msg (g_file_test (daemon, G_FILE_TEST_IS_EXECUTABLE), "%s is not installed", daemon);

	/* the installed interface is one introspection tools can read */
	{
		g_autofree char *path =
		    installed_path ("ASTRA_INSTALL_DATADIR", "dbus-1/interfaces", BUS_NAME ".xml", NULL);
		g_autofree char *xml = astra_check_read_file (path, NULL);
		g_autoptr(GError) error = NULL;
		g_autoptr(GDBusNodeInfo) node = g_dbus_node_info_new_for_xml (xml, &error);

		astra_assert_no_error (error);
		ck_assert_msg (g_dbus_node_info_lookup_interface (node, BUS_NAME) != NULL,
			       "%s has no interface %s", path, BUS_NAME);
	}
}
END_TEST

START_TEST (test_unit_file)
{
	/* what the issue and the other files rely on; the hardening as a whole is
	 * scored by test_unit_verify */
	const struct {
		const char *group;
		const char *key;
		const char *value;
	} keys[] = {
		{ "Unit", "Documentation", "man:astra-alertd(8) man:astra-alertctl(1)" },
		{ "Service", "Type", "dbus" },
		{ "Service", "BusName", BUS_NAME },
		{ "Service", "ExecReload", "/bin/kill -HUP $MAINPID" },
		{ "Service", "Restart", "on-failure" },
		{ "Service", "User", DAEMON_USER },
		{ "Service", "Group", DAEMON_USER },
		{ "Service", "StateDirectory", "astra-alerts" },
		{ "Service", "StateDirectoryMode", "0750" },
		{ "Service", "UMask", "0077" },
		{ "Service", "NoNewPrivileges", "yes" },
		{ "Service", "ProtectSystem", "strict" },
		{ "Service", "ProtectHome", "yes" },
		{ "Service", "PrivateTmp", "yes" },
		{ "Service", "PrivateDevices", "yes" },
		{ "Service", "RestrictAddressFamilies", "AF_UNIX AF_INET AF_INET6" },
		{ "Service", "SystemCallFilter", "@system-service" },
		{ "Service", "CapabilityBoundingSet", "" },
		{ "Install", "WantedBy", "multi-user.target" },
		{ "Install", "Alias", UNIT_ALIAS },
	};
	g_autoptr(GKeyFile) unit = load_unit ();
	g_auto(GStrv) argv = unit_exec_start (unit);
	g_autofree char *daemon = g_build_filename (env_dir ("ASTRA_INSTALL_SBINDIR"), "astra-alertd", NULL);
	g_autofree char *config_arg = g_strdup_printf ("--config=%s/astra-alerts/astra-alertd.conf",
						       env_dir ("ASTRA_INSTALL_SYSCONFDIR"));
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) check_argv = g_ptr_array_new_with_free_func (g_free);
	g_autofree char *config = NULL;
	g_autofree char *state_dir = astra_check_tmp_path ("state");
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	int status;

	for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
		assert_key (unit, keys[i].group, keys[i].key, keys[i].value);
	/* the sandbox leaves the state folder writable and nothing else */
	ck_assert (!g_key_file_has_key (unit, "Service", "ReadWritePaths", NULL));

	ck_assert_str_eq (argv[0], daemon);
	ck_assert (g_strv_contains ((const char *const *) argv, "--bus=system"));
	ck_assert (g_strv_contains ((const char *const *) argv, config_arg));
	ck_assert (g_strv_contains ((const char *const *) argv, "--state-dir=${STATE_DIRECTORY}"));

	/* the daemon of this build takes that command line: the same arguments, a
	 * scratch config and state folder, and --check-config */
	config = astra_test_write_config (astra_check_get_tmpdir (), NULL, NULL, NULL, &error);
	astra_assert_no_error (error);
	g_ptr_array_add (check_argv, g_strdup (astra_test_getenv ("ASTRA_ALERTD", &error)));
	astra_assert_no_error (error);
	for (guint i = 1; argv[i] != NULL; i++) {
		if (g_str_has_prefix (argv[i], "--config="))
			g_ptr_array_add (check_argv, g_strdup_printf ("--config=%s", config));
		else if (g_strcmp0 (argv[i], "--state-dir=${STATE_DIRECTORY}") == 0)
			g_ptr_array_add (check_argv, g_strdup_printf ("--state-dir=%s", state_dir));
		else
			g_ptr_array_add (check_argv, g_strdup (argv[i]));
	}
	g_ptr_array_add (check_argv, g_strdup ("--check-config"));
	g_ptr_array_add (check_argv, NULL);
	status = run ((const char *const *) check_argv->pdata, NULL, &out, &err);
	assert_exit_ok ("ExecStart's options with --check-config", status, out, err);
	astra_assert_contains (out, "configuration OK");
}
END_TEST

/* stderr of systemd-analyze: nothing but what a host without the dbus system
 * bus unit says about it */
static void
assert_verify_clean (const char *err)
{
	g_auto(GStrv) lines = g_strsplit (err, "\n", -1);

	for (guint i = 0; lines[i] != NULL; i++) {
		if (lines[i][0] == '\0')
			continue;
		if (strstr (lines[i], "Unit dbus.socket not found") != NULL) {
			skip ("systemd-analyze verify: Type=dbus", "this host has no dbus.socket "
								   "(package dbus-system-bus-common)");
			continue;
		}
		ck_abort_msg ("systemd-analyze verify: %s", lines[i]);
	}
}

START_TEST (test_unit_verify)
{
	g_autofree char *analyze = g_find_program_in_path ("systemd-analyze");
	g_autofree char *man = g_find_program_in_path ("man");
	g_autofree char *unit_path = installed_path ("ASTRA_INSTALL_SYSTEMD_UNIT_DIR", UNIT_NAME, NULL);
	g_autofree char *text = NULL;
	g_autofree char *sbindir = NULL;
	g_autofree char *in_destdir = NULL;
	g_autofree char *copy = NULL;
	g_autofree char *manpath_env = NULL;
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	g_autoptr(GString) str = NULL;
	int status;

	if (analyze == NULL) {
		skip ("systemd-analyze verify", "no systemd-analyze (package systemd)");
		return;
	}
	if (!g_file_test ("/bin/kill", G_FILE_TEST_IS_EXECUTABLE)) {
		skip ("systemd-analyze verify", "no /bin/kill for ExecReload= (package procps)");
		return;
	}

	/* verify wants ExecStart's program to exist: point it at the DESTDIR copy, in a copy
	 * of the unit of the same name (verify takes no --root for a unit outside the root) */
	text = astra_check_read_file (unit_path, NULL);
	sbindir = g_strdup_printf ("ExecStart=%s/", env_dir ("ASTRA_INSTALL_SBINDIR"));
	in_destdir = g_strdup_printf ("ExecStart=%s%s/", destdir, env_dir ("ASTRA_INSTALL_SBINDIR"));
	str = g_string_new (text);
	ck_assert_uint_eq (g_string_replace (str, sbindir, in_destdir, 0), 1);
	copy = astra_check_tmp_write ("verify/" UNIT_NAME, str->str, 0644);

	/* Documentation=man:... must resolve: to the pages just installed */
	manpath_env = g_strdup_printf ("MANPATH=%s%s", destdir, env_dir ("ASTRA_INSTALL_MANDIR"));
	{
		const char *argv[] = { analyze, "verify", man != NULL ? "--man=yes" : "--man=no", copy,
				       NULL };
		const char *env[] = { manpath_env, "SYSTEMD_LOG_COLOR=0", NULL };

		if (man == NULL)
			skip ("systemd-analyze verify: Documentation=", "no man (package man-db)");
		status = run (argv, env, &out, &err);
		assert_exit_ok ("systemd-analyze verify", status, out, err);
		assert_verify_clean (err);
	}

	/* the sandbox, scored: 1.6 when written ("OK"); more than 2.0 means an option was lost */
	{
		const char *argv[] = { analyze, "security", "--offline=yes", "--threshold=20", "--no-pager",
				       copy,    NULL };
		g_clear_pointer (&out, g_free);
		g_clear_pointer (&err, g_free);
		status = run (argv, NULL, &out, &err);
		if (strstr (err, "--offline") != NULL || strstr (err, "--threshold") != NULL) {
			skip ("systemd-analyze security", "needs systemd 250 or later");
			return;
		}
		if (status != 0) {
			/* the table is long: the options that count against the unit suffice */
			g_auto(GStrv) lines = g_strsplit (out, "\n", -1);
			g_autoptr(GString) bad = g_string_new (NULL);
			g_autofree char *bad_tail = NULL;
			g_autofree char *err_tail = NULL;

			for (guint i = 0; lines[i] != NULL; i++) {
				/* "✗ KEY" in a UTF-8 locale, "- KEY" otherwise */
				if (g_str_has_prefix (lines[i], "\xe2\x9c\x97") ||
				    g_str_has_prefix (lines[i], "- ") || strstr (lines[i], "Overall") != NULL)
					g_string_append_printf (bad, "%.100s\n", lines[i]);
			}
			bad_tail = tail (bad->str);
			err_tail = tail (err);
			ck_abort_msg ("systemd-analyze security: exposure above 2.0:\n%s%s", bad_tail, err_tail);
		}
	}
}
END_TEST

START_TEST (test_activation_file)
{
	g_autofree char *path =
	    installed_path ("ASTRA_INSTALL_DATADIR", "dbus-1/system-services", BUS_NAME ".service", NULL);
	g_autoptr(GKeyFile) activation = load_key_file (path);
	g_autoptr(GKeyFile) unit = load_unit ();
	g_auto(GStrv) groups = g_key_file_get_groups (activation, NULL);
	g_auto(GStrv) keys = g_key_file_get_keys (activation, "D-BUS Service", NULL, NULL);
	g_autofree char *bus_name = g_key_file_get_value (unit, "Service", "BusName", NULL);
	g_autofree char *user = g_key_file_get_value (unit, "Service", "User", NULL);
	g_autofree char *alias = g_key_file_get_value (unit, "Install", "Alias", NULL);
	const char *expected_keys[] = { "Name", "Exec", "User", "SystemdService" };

	ck_assert_uint_eq (g_strv_length (groups), 1);
	ck_assert_str_eq (groups[0], "D-BUS Service");
	ck_assert_uint_eq (g_strv_length (keys), G_N_ELEMENTS (expected_keys));
	for (gsize i = 0; i < G_N_ELEMENTS (expected_keys); i++)
		ck_assert_msg (g_strv_contains ((const char *const *) keys, expected_keys[i]), "no %s",
			       expected_keys[i]);
	assert_key (activation, "D-BUS Service", "Name", BUS_NAME);
	/* systemd starts the daemon; the bus never runs Exec= */
	assert_key (activation, "D-BUS Service", "Exec", "/bin/false");
	assert_key (activation, "D-BUS Service", "User", DAEMON_USER);
	assert_key (activation, "D-BUS Service", "SystemdService", UNIT_ALIAS);

	/* one name, one user, one alias across the files */
	ck_assert_str_eq (bus_name, BUS_NAME);
	ck_assert_str_eq (user, DAEMON_USER);
	ck_assert_str_eq (alias, UNIT_ALIAS);
}
END_TEST

/* a dbus-daemon on a socket of its own */
typedef struct {
	GSubprocess *subprocess;
	char *out_path;
	char *err_path;
	char *address;
} Bus;

static gboolean
bus_ready_cb (gpointer user_data)
{
	Bus *bus = user_data;
	g_autofree char *out = NULL;

	/* gone already: its stderr says why */
	if (g_subprocess_get_identifier (bus->subprocess) == NULL)
		return TRUE;
	return g_file_get_contents (bus->out_path, &out, NULL, NULL) && strchr (out, '\n') != NULL;
}

static gboolean
bus_tick_cb (gpointer user_data)
{
	return G_SOURCE_CONTINUE;
}

/* a bus of type system with the default policy of Debian's system.conf, the
 * policies of @policy_dir and the activation files of @service_dir */
static Bus *
bus_start (const char *name, const char *policy_dir, const char *service_dir)
{
	g_autofree char *dbus_daemon = g_find_program_in_path ("dbus-daemon");
	g_autofree char *socket_path = astra_check_tmp_path (name);
	g_autofree char *rel = g_strdup_printf ("%s.conf", name);
	g_autofree char *config_text = NULL;
	g_autofree char *config = NULL;
	g_autofree char *config_arg = NULL;
	g_autofree char *out = NULL;
	g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
	g_autoptr(GSource) ticker = NULL;
	g_autoptr(GError) error = NULL;
	Bus *bus = g_new0 (Bus, 1);

	config_text = g_markup_printf_escaped (
	    "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN\"\n"
	    " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
	    "<busconfig>\n"
	    "  <type>system</type>\n"
	    "  <listen>unix:path=%s</listen>\n"
	    "  <auth>EXTERNAL</auth>\n"
	    "  <servicedir>%s</servicedir>\n"
	    "  <policy context=\"default\">\n"
	    "    <deny own=\"*\"/>\n"
	    "    <deny send_type=\"method_call\"/>\n"
	    "    <allow send_type=\"signal\"/>\n"
	    "    <allow send_requested_reply=\"true\" send_type=\"method_return\"/>\n"
	    "    <allow send_requested_reply=\"true\" send_type=\"error\"/>\n"
	    "    <allow receive_type=\"method_call\"/>\n"
	    "    <allow receive_type=\"method_return\"/>\n"
	    "    <allow receive_type=\"error\"/>\n"
	    "    <allow receive_type=\"signal\"/>\n"
	    "    <allow send_destination=\"org.freedesktop.DBus\" "
	    "send_interface=\"org.freedesktop.DBus\"/>\n"
	    "  </policy>\n"
	    "  <includedir>%s</includedir>\n"
	    "</busconfig>\n",
	    socket_path, service_dir, policy_dir);
	config = astra_check_tmp_write (rel, config_text, 0644);
	bus->out_path = g_strdup_printf ("%s.out", socket_path);
	bus->err_path = g_strdup_printf ("%s.err", socket_path);
	config_arg = g_strdup_printf ("--config-file=%s", config);
	g_subprocess_launcher_set_stdout_file_path (launcher, bus->out_path);
	g_subprocess_launcher_set_stderr_file_path (launcher, bus->err_path);
	bus->subprocess = g_subprocess_launcher_spawn (launcher, &error, dbus_daemon, config_arg,
						       "--print-address", "--nofork", NULL);
	astra_assert_no_error (error);
	/* nothing tells the loop that a file grew: look every 10 ms */
	ticker = g_timeout_source_new (10);
	g_source_set_callback (ticker, bus_tick_cb, NULL, NULL);
	g_source_attach (ticker, g_main_context_get_thread_default ());
	astra_test_wait_until (bus_ready_cb, bus, ASTRA_TEST_TIMEOUT_MS);
	g_source_destroy (ticker);
	if (!g_file_get_contents (bus->out_path, &out, NULL, NULL) || strchr (out, '\n') == NULL) {
		g_autofree char *err = astra_check_read_file (bus->err_path, NULL);
		g_autofree char *err_tail = tail (err);
		ck_abort_msg ("dbus-daemon did not start:\n%s", err_tail);
	}
	bus->address = g_strstrip (g_steal_pointer (&out));
	return bus;
}

/* stops @bus; what it said on stderr */
static char *
bus_stop (Bus *bus)
{
	char *err;

	g_subprocess_send_signal (bus->subprocess, SIGTERM);
	g_subprocess_wait (bus->subprocess, NULL, NULL);
	err = astra_check_read_file (bus->err_path, NULL);
	g_object_unref (bus->subprocess);
	g_free (bus->out_path);
	g_free (bus->err_path);
	g_free (bus->address);
	g_free (bus);
	return err;
}

/* no parse error in dbus-daemon's stderr, nor a word about our files (it logs
 * the calls its policy rejected, which name the bus name: those are expected) */
static void
assert_bus_stderr_clean (const char *err)
{
	const char *const bad[] = { "Encountered error", BUS_NAME ".conf", BUS_NAME ".service" };

	for (gsize i = 0; i < G_N_ELEMENTS (bad); i++) {
		g_autofree char *err_tail = tail (err);
		ck_assert_msg (strstr (err, bad[i]) == NULL, "dbus-daemon said '%s':\n%s", bad[i], err_tail);
	}
}

static GDBusConnection *
bus_connect (Bus *bus)
{
	g_autoptr(GError) error = NULL;
	GDBusConnection *connection = g_dbus_connection_new_for_address_sync (
	    bus->address,
	    G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
	    NULL, NULL, &error);

	astra_assert_no_error (error);
	return connection;
}

/* calls @interface.@method (@params) on the daemon's name and path; NULL with @error on failure */
static GVariant *
call (GDBusConnection *connection,
      const char *dest,
      const char *path,
      const char *interface,
      const char *method,
      GVariant *params,
      GError **error)
{
	return g_dbus_connection_call_sync (connection, dest, path, interface, method, params, NULL,
					    G_DBUS_CALL_FLAGS_NO_AUTO_START, 5000, NULL, error);
}

static GVariant *
request_name (GDBusConnection *connection, GError **error)
{
	/* DBUS_NAME_FLAG_DO_NOT_QUEUE */
	return call (connection, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
		     "RequestName", g_variant_new ("(su)", BUS_NAME, 4), error);
}

/* @error is (not) the bus' refusal by policy */
static gboolean
is_access_denied (GError *error)
{
	g_autofree char *remote = error != NULL ? g_dbus_error_get_remote_error (error) : NULL;
	return g_strcmp0 (remote, DBUS_ACCESS_DENIED) == 0;
}

START_TEST (test_bus_policy)
{
	g_autofree char *dbus_daemon = g_find_program_in_path ("dbus-daemon");
	g_autofree char *policy_dir = installed_path ("ASTRA_INSTALL_DATADIR", "dbus-1/system.d", NULL);
	g_autofree char *service_dir =
	    installed_path ("ASTRA_INSTALL_DATADIR", "dbus-1/system-services", NULL);
	g_autofree char *policy_path = g_build_filename (policy_dir, BUS_NAME ".conf", NULL);
	g_autofree char *policy = NULL;
	g_autofree char *as_user = NULL;
	g_autofree char *user_attr = NULL;
	g_autofree char *own_dir = NULL;
	g_autofree char *err = NULL;
	g_autoptr(GString) str = NULL;
	const char *me = g_get_user_name ();
	Bus *bus;

	if (dbus_daemon == NULL) {
		skip ("bus policy", "no dbus-daemon (package dbus-daemon)");
		return;
	}

	/* the installed files as they are: the bus reads the activation file, and
	 * nobody but astra-alerts (which need not exist here) may own the name */
	bus = bus_start ("bus-installed", policy_dir, service_dir);
	{
		g_autoptr(GDBusConnection) connection = bus_connect (bus);
		g_autoptr(GVariant) names = NULL;
		g_autoptr(GVariant) reply = NULL;
		g_autoptr(GError) error = NULL;
		g_autofree const char **list = NULL;

		names = call (connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
			      "org.freedesktop.DBus", "ListActivatableNames", NULL, &error);
		astra_assert_no_error (error);
		g_variant_get (names, "(^a&s)", &list);
		ck_assert_msg (g_strv_contains (list, BUS_NAME), "the bus did not take %s/%s.service",
			       service_dir, BUS_NAME);

		if (g_strcmp0 (me, DAEMON_USER) == 0) {
			skip ("bus policy: others may not own the name", "the test runs as " DAEMON_USER);
		} else {
			reply = request_name (connection, &error);
			ck_assert_msg (reply == NULL && is_access_denied (error), "%s (uid %u) could own %s",
				       me, (guint) getuid (), BUS_NAME);
		}
	}
	err = bus_stop (bus);
	assert_bus_stderr_clean (err);

	/* the same policy given to the test's own user: that user owns the name, and
	 * another connection may call the interface and the standard ones, and nothing else */
	policy = astra_check_read_file (policy_path, NULL);
	str = g_string_new (policy);
	user_attr = g_markup_printf_escaped ("user=\"%s\"", me);
	ck_assert_uint_eq (g_string_replace (str, "user=\"" DAEMON_USER "\"", user_attr, 0), 1);
	as_user = g_build_filename ("as-user", BUS_NAME ".conf", NULL);
	g_free (astra_check_tmp_write (as_user, str->str, 0644));
	own_dir = astra_check_tmp_path ("as-user");
	bus = bus_start ("bus-as-user", own_dir, service_dir);
	{
		g_autoptr(GDBusConnection) owner = bus_connect (bus);
		g_autoptr(GDBusConnection) caller = bus_connect (bus);
		g_autoptr(GVariant) reply = NULL;
		g_autoptr(GError) error = NULL;
		guint32 result = 0;
		/* GDBus answers these itself for any path, with an error where no object is
		 * registered: an answer that is not AccessDenied got past the bus */
		const struct {
			const char *interface;
			const char *method;
			const char *signature;
			gboolean allowed;
		} calls[] = {
			{ "org.freedesktop.DBus.Peer", "Ping", NULL, TRUE },
			{ "org.freedesktop.DBus.Introspectable", "Introspect", NULL, TRUE },
			{ "org.freedesktop.DBus.Properties", "GetAll", "(s)", TRUE },
			{ BUS_NAME, "GetStatus", NULL, TRUE },
			{ BUS_NAME, "Reload", NULL, TRUE },
			{ "org.example.NotAllowed", "Anything", NULL, FALSE },
			{ "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", NULL, FALSE },
		};

		reply = request_name (owner, &error);
		astra_assert_no_error (error);
		g_variant_get (reply, "(u)", &result);
		/* DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER */
		ck_assert_uint_eq (result, 1);

		for (gsize i = 0; i < G_N_ELEMENTS (calls); i++) {
			g_autoptr(GVariant) answer = NULL;
			g_autoptr(GError) call_error = NULL;
			GVariant *params =
			    calls[i].signature != NULL ? g_variant_new ("(s)", BUS_NAME) : NULL;

			answer = call (caller, BUS_NAME, BUS_PATH, calls[i].interface, calls[i].method,
				       params, &call_error);
			if (calls[i].allowed)
				ck_assert_msg (!is_access_denied (call_error), "%s.%s refused: %s",
					       calls[i].interface, calls[i].method, call_error->message);
			else
				ck_assert_msg (answer == NULL && is_access_denied (call_error),
					       "%s.%s was let through", calls[i].interface, calls[i].method);
		}
	}
	g_free (err);
	err = bus_stop (bus);
	assert_bus_stderr_clean (err);
}
END_TEST

/* the line of @name in a passwd or group file, split at the colons */
static GStrv
db_entry (const char *path, const char *name)
{
	g_autofree char *text = astra_check_read_file (path, NULL);
	g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
	g_autofree char *start = g_strdup_printf ("%s:", name);

	for (guint i = 0; lines[i] != NULL; i++) {
		if (g_str_has_prefix (lines[i], start))
			return g_strsplit (lines[i], ":", -1);
	}
	ck_abort_msg ("no %s in %s:\n%s", name, path, text);
	return NULL;
}

static void
assert_dir (const char *path, guint mode, guint uid, guint gid)
{
	GStatBuf st;

	ck_assert_msg (g_stat (path, &st) == 0 && S_ISDIR (st.st_mode), "%s is not a folder", path);
	ck_assert_msg ((st.st_mode & 07777) == mode && st.st_uid == uid && st.st_gid == gid,
		       "%s: mode %04o owner %u:%u, expected %04o %u:%u", path, (guint) (st.st_mode & 07777),
		       (guint) st.st_uid, (guint) st.st_gid, mode, uid, gid);
}

START_TEST (test_sysusers_tmpfiles)
{
	g_autofree char *sysusers = g_find_program_in_path ("systemd-sysusers");
	g_autofree char *tmpfiles = g_find_program_in_path ("systemd-tmpfiles");
	g_autofree char *sysusers_conf =
	    installed_path ("ASTRA_INSTALL_PREFIX", "lib/sysusers.d/astra-alerts.conf", NULL);
	g_autofree char *tmpfiles_conf =
	    installed_path ("ASTRA_INSTALL_PREFIX", "lib/tmpfiles.d/astra-alerts.conf", NULL);
	g_autofree char *root_arg = g_strdup_printf ("--root=%s", destdir);
	g_autofree char *etc = g_build_filename (destdir, "etc", NULL);
	g_autofree char *passwd = g_build_filename (etc, "passwd", NULL);
	g_autofree char *group = g_build_filename (etc, "group", NULL);
	g_autofree char *state = g_build_filename (destdir, "var/lib/astra-alerts", NULL);
	g_autofree char *conf_dir = installed_path ("ASTRA_INSTALL_SYSCONFDIR", "astra-alerts", NULL);
	g_auto(GStrv) user = NULL;
	g_auto(GStrv) grp = NULL;
	guint64 uid;
	guint64 gid;

	if (sysusers == NULL || tmpfiles == NULL) {
		skip ("sysusers.d and tmpfiles.d",
		      "no systemd-sysusers or systemd-tmpfiles (package systemd)");
		return;
	}
	if (geteuid () != 0) {
		/* the user cannot be made in the scratch root, nor folders given to it */
		const char *argv[] = { sysusers, "--dry-run", root_arg, sysusers_conf, NULL };
		g_autofree char *out = NULL;
		g_autofree char *err = NULL;

		ck_assert_int_eq (run (argv, NULL, &out, &err), 0);
		astra_assert_contains (err, "user '" DAEMON_USER "'");
		skip ("tmpfiles.d", "not root: folders cannot be given to " DAEMON_USER);
		return;
	}

	/* the user and group, made in the scratch root's own /etc/passwd and /etc/group */
	ck_assert_int_eq (g_mkdir_with_parents (etc, 0755), 0);
	{
		const char *argv[] = { sysusers, root_arg, sysusers_conf, NULL };
		g_autofree char *out = NULL;
		g_autofree char *err = NULL;
		int status = run (argv, NULL, &out, &err);

		assert_exit_ok ("systemd-sysusers", status, out, err);
		astra_assert_not_contains (err, "astra-alerts.conf:");
	}
	user = db_entry (passwd, DAEMON_USER);
	ck_assert_uint_eq (g_strv_length (user), 7);
	ck_assert (g_ascii_string_to_unsigned (user[2], 10, 1, 999, &uid, NULL));
	ck_assert (g_ascii_string_to_unsigned (user[3], 10, 1, 999, &gid, NULL));
	ck_assert_str_eq (user[5], "/var/lib/astra-alerts");
	astra_assert_contains (user[6], "nologin");
	grp = db_entry (group, DAEMON_USER);
	ck_assert_str_eq (grp[2], user[3]);

	/* the folders, owned by that user in the scratch root */
	{
		const char *argv[] = { tmpfiles, root_arg, "--create", tmpfiles_conf, NULL };
		g_free (run_clean (argv, NULL));
	}
	assert_dir (state, 0750, (guint) uid, (guint) gid);
	assert_dir (conf_dir, 0755, 0, 0);
	{
		g_autofree char *webhooks = g_build_filename (conf_dir, "webhooks.d", NULL);
		g_autofree char *rules = g_build_filename (conf_dir, "rules.d", NULL);
		g_autofree char *secrets = g_build_filename (conf_dir, "secrets", NULL);

		assert_dir (webhooks, 0755, 0, 0);
		assert_dir (rules, 0755, 0, 0);
		/* the daemon reads secrets through its group; others may not even list them */
		assert_dir (secrets, 0750, 0, (guint) gid);
	}
}
END_TEST

/* the long options a program's --help lists */
static GPtrArray *
help_options (const char *const *argv)
{
	g_autofree char *out = run_clean (argv, NULL);
	g_autoptr(GRegex) regex = g_regex_new ("(?<![\\w-])--([a-z][a-z-]*)", 0, 0, NULL);
	g_autoptr(GMatchInfo) match = NULL;
	GPtrArray *options = g_ptr_array_new_with_free_func (g_free);

	g_regex_match (regex, out, 0, &match);
	while (g_match_info_matches (match)) {
		g_autofree char *name = g_match_info_fetch (match, 1);
		if (!g_ptr_array_find_with_equal_func (options, name, g_str_equal, NULL))
			g_ptr_array_add (options, g_steal_pointer (&name));
		g_match_info_next (match, NULL);
	}
	return options;
}

/* the page names every long option of @argv's help, as troff writes it (\-\-name) */
static void
assert_page_has_options (const char *page, const char *page_name, const char *const *argv)
{
	g_autoptr(GPtrArray) options = help_options (argv);
	g_autofree char *cmd = g_strjoinv (" ", (GStrv) argv);

	ck_assert_msg (options->len > 0, "%s lists no options", cmd);
	for (guint i = 0; i < options->len; i++) {
		const char *name = g_ptr_array_index (options, i);
		g_autoptr(GString) escaped = g_string_new (name);
		g_autofree char *troff = NULL;

		/* GOption's own, shown when a command has option groups */
		if (g_str_has_prefix (name, "help-"))
			continue;
		g_string_replace (escaped, "-", "\\-", 0);
		troff = g_strdup_printf ("\\-\\-%s", escaped->str);
		ck_assert_msg (strstr (page, troff) != NULL, "%s does not document --%s (from %s)", page_name,
			       name, cmd);
	}
}

/* the commands `astra-alertctl --help` lists, each with its subcommands when its
 * arguments read like "add|list|remove" */
static GPtrArray *
ctl_commands (const char *alertctl)
{
	const char *argv[] = { alertctl, "--help", NULL };
	g_autofree char *out = run_clean (argv, NULL);
	g_auto(GStrv) lines = g_strsplit (out, "\n", -1);
	GPtrArray *commands = g_ptr_array_new_with_free_func (g_free);
	gboolean in_commands = FALSE;

	for (guint i = 0; lines[i] != NULL; i++) {
		g_auto(GStrv) words = NULL;

		if (g_str_has_prefix (lines[i], "Commands:")) {
			in_commands = TRUE;
			continue;
		}
		if (!in_commands)
			continue;
		if (!g_str_has_prefix (lines[i], "  "))
			break;
		words = g_strsplit_set (g_strstrip (lines[i]), " ", -1);
		if (words[1] != NULL && strchr (words[1], '|') != NULL && words[1][0] != '[') {
			g_auto(GStrv) subs = g_strsplit (words[1], "|", -1);
			for (guint j = 0; subs[j] != NULL; j++)
				g_ptr_array_add (commands, g_strdup_printf ("%s %s", words[0], subs[j]));
		} else {
			g_ptr_array_add (commands, g_strdup (words[0]));
		}
	}
	if (commands->len == 0) {
		g_autofree char *out_tail = tail (out);
		ck_abort_msg ("no commands in:\n%s", out_tail);
	}
	return commands;
}

/* @page has a subsection (.SS) whose title starts with the words of @command,
 * e.g. `.SS "silence add \fIMATCHER\fP..."` for "silence add" */
static gboolean
page_has_section (const char *page, const char *command)
{
	g_auto(GStrv) lines = g_strsplit (page, "\n", -1);
	g_auto(GStrv) want = g_strsplit (command, " ", -1);

	for (guint i = 0; lines[i] != NULL; i++) {
		g_autoptr(GString) title = NULL;
		g_auto(GStrv) words = NULL;
		guint n = 0;

		if (!g_str_has_prefix (lines[i], ".SS "))
			continue;
		title = g_string_new (lines[i] + 4);
		g_string_replace (title, "\"", "", 0);
		words = g_strsplit (title->str, " ", -1);
		while (want[n] != NULL && words[n] != NULL && g_strcmp0 (want[n], words[n]) == 0)
			n++;
		if (want[n] == NULL)
			return TRUE;
	}
	return FALSE;
}

START_TEST (test_man_pages)
{
	g_autofree char *groff = g_find_program_in_path ("groff");
	g_autofree char *man = g_find_program_in_path ("man");
	g_autofree char *alertd_page =
	    installed_path ("ASTRA_INSTALL_MANDIR", "man8", "astra-alertd.8", NULL);
	g_autofree char *alertctl_page =
	    installed_path ("ASTRA_INSTALL_MANDIR", "man1", "astra-alertctl.1", NULL);
	const char *pages[] = { alertd_page, alertctl_page };
	g_autoptr(GError) error = NULL;
	const char *alertd = astra_test_getenv ("ASTRA_ALERTD", &error);
	const char *alertctl = NULL;
	g_autofree char *alertd_text = astra_check_read_file (alertd_page, NULL);
	g_autofree char *alertctl_text = astra_check_read_file (alertctl_page, NULL);
	g_autoptr(GPtrArray) commands = NULL;

	astra_assert_no_error (error);
	alertctl = astra_test_getenv ("ASTRA_ALERTCTL", &error);
	astra_assert_no_error (error);

	/* formatted at 80 columns, as man does, without a single warning */
	if (groff == NULL) {
		skip ("man pages: groff -ww", "no groff (package groff-base)");
	} else {
		for (gsize i = 0; i < G_N_ELEMENTS (pages); i++) {
			const char *argv[] = { groff, "-man",     "-Tutf8", "-ww",
					       "-z",  "-rLL=78n", pages[i], NULL };
			g_free (run_clean (argv, NULL));
		}
	}
	if (man == NULL) {
		skip ("man pages: man -l", "no man (package man-db)");
	} else if (groff != NULL) {
		for (gsize i = 0; i < G_N_ELEMENTS (pages); i++) {
			const char *argv[] = { man, "--warnings", "-l", pages[i], NULL };
			const char *env[] = { "MANWIDTH=80", "MANPAGER=cat", "PAGER=cat", NULL };
			g_autofree char *out = run_clean (argv, env);
			ck_assert_msg (strstr (out, "NAME") != NULL, "man -l %s printed no NAME", pages[i]);
		}
	}

	/* every option of the daemon */
	{
		const char *argv[] = { alertd, "--help", NULL };
		assert_page_has_options (alertd_text, "astra-alertd(8)", argv);
	}

	/* every command of the CLI, in a section of its own, with its options */
	commands = ctl_commands (alertctl);
	{
		const char *argv[] = { alertctl, "--help", NULL };
		assert_page_has_options (alertctl_text, "astra-alertctl(1)", argv);
	}
	for (guint i = 0; i < commands->len; i++) {
		const char *command = g_ptr_array_index (commands, i);
		g_auto(GStrv) words = g_strsplit (command, " ", -1);
		g_autoptr(GPtrArray) argv = g_ptr_array_new ();

		ck_assert_msg (page_has_section (alertctl_text, command),
			       "astra-alertctl(1) has no section for '%s'", command);
		if (g_strcmp0 (command, "help") == 0)
			continue;
		g_ptr_array_add (argv, (gpointer) alertctl);
		for (guint j = 0; words[j] != NULL; j++)
			g_ptr_array_add (argv, words[j]);
		g_ptr_array_add (argv, (gpointer) "--help");
		g_ptr_array_add (argv, NULL);
		assert_page_has_options (alertctl_text, "astra-alertctl(1)",
					 (const char *const *) argv->pdata);
	}
	/* the environment `astra-alertctl --help` names */
	ck_assert_msg (strstr (alertctl_text, "\n.B ASTRA_ALERTCTL_BUS\n") != NULL,
		       "astra-alertctl(1) does not document ASTRA_ALERTCTL_BUS");
	ck_assert_msg (strstr (alertctl_text, "\n.B NO_COLOR\n") != NULL,
		       "astra-alertctl(1) does not document NO_COLOR");
}
END_TEST

static Suite *
system_files_suite (void)
{
	Suite *s = suite_create ("system-files");
	TCase *tc = tcase_create ("installed");

	tcase_add_unchecked_fixture (tc, install_once, install_once_teardown);
	/* and a scratch folder of its own for each test */
	tcase_add_checked_fixture (tc, astra_check_tmpdir_setup, astra_check_tmpdir_teardown);
	tcase_set_timeout (tc, 60);
	tcase_add_test (tc, test_files_in_place);
	tcase_add_test (tc, test_unit_file);
	tcase_add_test (tc, test_unit_verify);
	tcase_add_test (tc, test_activation_file);
	tcase_add_test (tc, test_bus_policy);
	tcase_add_test (tc, test_sysusers_tmpfiles);
	tcase_add_test (tc, test_man_pages);
	suite_add_tcase (s, tc);
	return s;
}

int
main (void)
{
	return astra_check_run_suite (system_files_suite ());
}
