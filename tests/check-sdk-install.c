/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The SDK as a third party sees it: build and install the source tree into a
 * private prefix, build an out-of-tree plugin with nothing but
 * `pkg-config astra-plugin`, and have the installed daemon deliver through it.
 */

#include "config.h"

#include <check.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "astra-check-common.h"
#include "astra-test-util.h"

/* a full build on two cores, with room to spare */
#define BUILD_TIMEOUT_MS (200 * 1000)

static const char hello_plugin_c[] =
    "/* an out-of-tree plugin: the event as is, with one extra header */\n"
    "#include <astra/astra.h>\n"
    "\n"
    "#define HELLO_TYPE_PLUGIN (hello_plugin_get_type ())\n"
    "G_DECLARE_FINAL_TYPE (HelloPlugin, hello_plugin, HELLO, PLUGIN, AstraPlugin)\n"
    "\n"
    "struct _HelloPlugin {\n"
    "\tAstraPlugin parent_instance;\n"
    "\tchar *url;\n"
    "};\n"
    "\n"
    "G_DEFINE_FINAL_TYPE (HelloPlugin, hello_plugin, ASTRA_TYPE_PLUGIN)\n"
    "\n"
    "static const char *const hello_keys[] = {\"url\", NULL};\n"
    "\n"
    "static gboolean\n"
    "hello_plugin_configure (AstraPlugin *plugin, GKeyFile *keyfile, const char *group, GError "
    "**error)\n"
    "{\n"
    "\tHelloPlugin *self = HELLO_PLUGIN (plugin);\n"
    "\n"
    "\tg_free (self->url);\n"
    "\tself->url = g_key_file_get_string (keyfile, group, \"url\", error);\n"
    "\treturn self->url != NULL;\n"
    "}\n"
    "\n"
    "static gboolean\n"
    "hello_plugin_render (AstraPlugin *plugin, AstraEvent *event, AstraRequest *request, GError "
    "**error)\n"
    "{\n"
    "\tHelloPlugin *self = HELLO_PLUGIN (plugin);\n"
    "\n"
    "\tastra_request_set_method (request, \"POST\");\n"
    "\tastra_request_set_url (request, self->url);\n"
    "\tastra_request_set_header (request, \"X-Hello\", \"1\");\n"
    "\tastra_request_set_body (request, astra_event_get_body (event), \"application/json\");\n"
    "\treturn TRUE;\n"
    "}\n"
    "\n"
    "static void\n"
    "hello_plugin_finalize (GObject *object)\n"
    "{\n"
    "\tg_free (HELLO_PLUGIN (object)->url);\n"
    "\tG_OBJECT_CLASS (hello_plugin_parent_class)->finalize (object);\n"
    "}\n"
    "\n"
    "static void\n"
    "hello_plugin_class_init (HelloPluginClass *klass)\n"
    "{\n"
    "\tAstraPluginClass *plugin_class = ASTRA_PLUGIN_CLASS (klass);\n"
    "\n"
    "\tG_OBJECT_CLASS (klass)->finalize = hello_plugin_finalize;\n"
    "\tplugin_class->config_keys = hello_keys;\n"
    "\tplugin_class->configure = hello_plugin_configure;\n"
    "\tplugin_class->render = hello_plugin_render;\n"
    "}\n"
    "\n"
    "static void\n"
    "hello_plugin_init (HelloPlugin *self)\n"
    "{\n"
    "}\n"
    "\n"
    "ASTRA_PLUGIN_DEFINE (\"hello\", hello_plugin_get_type)\n";

/* a program using the installed headers and library only */
static const char sdk_user_c[] =
    "#include <stdio.h>\n"
    "#include <string.h>\n"
    "#include <astra/astra.h>\n"
    "\n"
    "int\n"
    "main (void)\n"
    "{\n"
    "\tg_autoptr(AstraSigner) signer = astra_signer_new (ASTRA_SIGNATURE_SCHEME_ASTRA);\n"
    "\tg_autoptr(GError) error = NULL;\n"
    "\tg_autofree char *sig = NULL;\n"
    "\tconst char *body = \"{}\";\n"
    "\n"
    "\tif (!astra_signer_add_secret (signer, \"s\", &error)) {\n"
    "\t\tfprintf (stderr, \"%s\\n\", error->message);\n"
    "\t\treturn 1;\n"
    "\t}\n"
    "\tsig = astra_signer_sign (signer, \"id\", 0, (const guint8 *) body, strlen (body));\n"
    "\tprintf (\"%s %d %s %s\\n\", astra_version_string (), ASTRA_PLUGIN_ABI_VERSION,\n"
    "\t\tastra_event_kind_to_string (ASTRA_EVENT_KIND_AGENT_STATUS_CHANGED), sig);\n"
    "\treturn 0;\n"
    "}\n";

/* the public headers refuse to be included one by one */
static const char direct_include_c[] = "#include <astra/astra-event.h>\nint x;\n";

static char *tmp_dir;

/* runs @argv, failing the test with its output unless it exits 0; returns stdout */
static char *
run_ok (const char *const *argv, const char *const *env, const char *cwd, guint timeout_ms)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *cmd = g_strjoinv (" ", (GStrv) argv);
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	int status = -1;

	ck_assert_msg (astra_test_run (argv, env, cwd, timeout_ms, &status, &out, &err, &error),
		       "%s: %s", cmd, error != NULL ? error->message : "");
	ck_assert_msg (status == 0, "%s: exit %d\nstdout:\n%s\nstderr:\n%s", cmd, status, out, err);
	return g_steal_pointer (&out);
}

/* the first file called @name under @dir, or NULL */
static char *
find_file (const char *dir, const char *name)
{
	g_autoptr(GDir) gdir = g_dir_open (dir, 0, NULL);
	const char *entry;

	if (gdir == NULL)
		return NULL;
	while ((entry = g_dir_read_name (gdir)) != NULL) {
		g_autofree char *path = g_build_filename (dir, entry, NULL);
		if (g_strcmp0 (entry, name) == 0)
			return g_steal_pointer (&path);
		if (g_file_test (path, G_FILE_TEST_IS_DIR) &&
		    !g_file_test (path, G_FILE_TEST_IS_SYMLINK)) {
			char *found = find_file (path, name);
			if (found != NULL)
				return found;
		}
	}
	return NULL;
}

/* pkg-config's answer, split as a shell would */
static GStrv
pkg_config (const char *const *env, const char *const *args)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new ();
	g_autoptr(GError) error = NULL;
	g_autofree char *out = NULL;
	GStrv words = NULL;

	g_ptr_array_add (argv, (gpointer) "pkg-config");
	for (guint i = 0; args[i] != NULL; i++)
		g_ptr_array_add (argv, (gpointer) args[i]);
	g_ptr_array_add (argv, NULL);
	out = run_ok ((const char *const *) argv->pdata, env, NULL, 30000);
	g_strstrip (out);
	if (out[0] == '\0')
		return g_new0 (char *, 1);
	ck_assert_msg (g_shell_parse_argv (out, NULL, &words, &error), "%s: %s", out,
		       error != NULL ? error->message : "");
	return words;
}

/* cc @flags... -o @output @source @pkg_flags... */
static void
compile (const char *const *env, const char *const *flags, const char *output, const char *source,
	 GStrv pkg_flags)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new ();

	g_ptr_array_add (argv, (gpointer) "cc");
	for (guint i = 0; flags[i] != NULL; i++)
		g_ptr_array_add (argv, (gpointer) flags[i]);
	g_ptr_array_add (argv, (gpointer) "-o");
	g_ptr_array_add (argv, (gpointer) output);
	g_ptr_array_add (argv, (gpointer) source);
	for (guint i = 0; pkg_flags[i] != NULL; i++)
		g_ptr_array_add (argv, pkg_flags[i]);
	g_ptr_array_add (argv, NULL);
	g_free (run_ok ((const char *const *) argv->pdata, env, tmp_dir, 60000));
}

START_TEST (test_sdk_install)
{
	g_autoptr(GError) error = NULL;
	const char *source_dir = astra_test_getenv ("ASTRA_SOURCE_DIR", &error);
	g_autofree char *build_dir = NULL;
	g_autofree char *prefix = NULL;
	g_autofree char *prefix_arg = NULL;
	g_autofree char *pc_file = NULL;
	g_autofree char *pc_dir = NULL;
	g_autofree char *lib_file = NULL;
	g_autofree char *lib_dir = NULL;
	g_autofree char *pkg_path_env = NULL;
	g_autofree char *ld_path_env = NULL;
	g_autofree char *plugin_dir = NULL;
	g_autofree char *hello_src = NULL;
	g_autofree char *hello_so = NULL;
	g_autofree char *user_src = NULL;
	g_autofree char *user_bin = NULL;
	g_autofree char *direct_src = NULL;
	g_autofree char *installed_generic = NULL;
	g_autofree char *alertd = NULL;
	g_autofree char *out = NULL;
	g_autofree char *expected = NULL;
	g_autofree char *url = NULL;
	g_autofree char *webhooks = NULL;
	g_autofree char *config = NULL;
	g_autofree char *daemon_url = NULL;
	g_auto(GStrv) cflags_libs = NULL;
	g_auto(GStrv) plugindir = NULL;
	g_autoptr(AstraTestReceiver) receiver = NULL;
	g_autoptr(AstraTestDaemon) daemon = NULL;
	g_autoptr(SoupSession) session = NULL;
	g_autoptr(AstraTestReply) reply = NULL;
	AstraTestRequest *req;

	astra_assert_no_error (error);
	tmp_dir = astra_test_mkdtemp (&error);
	astra_assert_no_error (error);
	build_dir = g_build_filename (tmp_dir, "build", NULL);
	prefix = g_build_filename (tmp_dir, "prefix", NULL);
	prefix_arg = g_strdup_printf ("--prefix=%s", prefix);

	/* a separate build of the same sources, installed into a private prefix */
	{
		const char *setup[] = {
			"meson",    "setup",         build_dir,           source_dir,
			prefix_arg, "-Dtests=false", "-Db_sanitize=none", NULL
		};
		const char *install[] = { "ninja", "-C", build_dir, "install", NULL };
		g_free (run_ok (setup, NULL, tmp_dir, 120000));
		g_free (run_ok (install, NULL, tmp_dir, BUILD_TIMEOUT_MS));
	}

	pc_file = find_file (prefix, "astra-plugin.pc");
	ck_assert_msg (pc_file != NULL, "no astra-plugin.pc under %s", prefix);
	pc_dir = g_path_get_dirname (pc_file);
	lib_file = find_file (prefix, "libastra-plugin.so.1");
	ck_assert_msg (lib_file != NULL, "no libastra-plugin.so.1 under %s", prefix);
	lib_dir = g_path_get_dirname (lib_file);
	alertd = g_build_filename (prefix, "sbin", "astra-alertd", NULL);
	ck_assert_msg (g_file_test (alertd, G_FILE_TEST_IS_EXECUTABLE), "%s is not installed",
		       alertd);
	pkg_path_env = g_strdup_printf ("PKG_CONFIG_PATH=%s", pc_dir);
	ld_path_env = g_strdup_printf ("LD_LIBRARY_PATH=%s", lib_dir);

	{
		const char *env[] = { pkg_path_env, ld_path_env, NULL };
		const char *cflags_args[] = { "--cflags", "--libs", "astra-plugin", NULL };
		const char *plugindir_args[] = { "--variable=plugindir", "astra-plugin", NULL };
		const char *plugin_flags[] = { "-shared",
					       "-fPIC",
					       "-Wall",
					       "-Wextra",
					       "-Werror",
					       "-Wno-unused-parameter",
					       "-Wmissing-prototypes",
					       NULL };
		const char *user_flags[] = { "-Wall", "-Wextra", "-Werror", "-Wmissing-prototypes",
					     NULL };
		const char *direct_flags[] = { "-c", NULL };
		g_autofree char *suffix =
		    g_strdup_printf ("/astra-alerts/plugins-%d", ASTRA_ABI_VERSION);
		g_autofree char *direct_obj = g_build_filename (tmp_dir, "direct.o", NULL);
		g_autofree char *cmd_out = NULL;
		g_autofree char *cmd_err = NULL;
		int status = -1;

		/* the plugin folder the installed daemon uses by default */
		plugindir = pkg_config (env, plugindir_args);
		ck_assert_uint_eq (g_strv_length (plugindir), 1);
		ck_assert_msg (g_str_has_suffix (plugindir[0], suffix), "plugindir = %s",
			       plugindir[0]);
		ck_assert_msg (g_str_has_prefix (plugindir[0], prefix), "plugindir = %s",
			       plugindir[0]);
		installed_generic = g_build_filename (plugindir[0], "generic.so", NULL);
		ck_assert_msg (g_file_test (installed_generic, G_FILE_TEST_IS_REGULAR), "no %s",
			       installed_generic);

		cflags_libs = pkg_config (env, cflags_args);

		/* the installed headers and library, with nothing but pkg-config's flags */
		user_src = astra_check_write_file (tmp_dir, "sdk-user.c", sdk_user_c, 0644);
		user_bin = g_build_filename (tmp_dir, "sdk-user", NULL);
		compile (env, user_flags, user_bin, user_src, cflags_libs);
		{
			const char *argv[] = { user_bin, NULL };
			out = run_ok (argv, env, tmp_dir, 10000);
		}
		expected = g_strdup_printf ("%s %d agent.status_changed ", PACKAGE_VERSION,
					    ASTRA_ABI_VERSION);
		ck_assert_msg (g_str_has_prefix (out, expected), "%s", out);

		/* one header alone is refused */
		direct_src = astra_check_write_file (tmp_dir, "direct.c", direct_include_c, 0644);
		{
			g_autoptr(GPtrArray) argv = g_ptr_array_new ();
			g_ptr_array_add (argv, (gpointer) "cc");
			g_ptr_array_add (argv, (gpointer) direct_flags[0]);
			g_ptr_array_add (argv, (gpointer) "-o");
			g_ptr_array_add (argv, direct_obj);
			g_ptr_array_add (argv, direct_src);
			for (guint i = 0; cflags_libs[i] != NULL; i++)
				g_ptr_array_add (argv, cflags_libs[i]);
			g_ptr_array_add (argv, NULL);
			ck_assert (astra_test_run ((const char *const *) argv->pdata, env, tmp_dir,
						   60000, &status, &cmd_out, &cmd_err, &error));
			ck_assert_int_ne (status, 0);
			ck_assert_msg (
			    strstr (cmd_err, "Only <astra/astra.h> can be included directly") !=
				NULL,
			    "%s", cmd_err);
		}

		/* the out-of-tree plugin, in a folder of its own that only its owner can write */
		plugin_dir = g_build_filename (tmp_dir, "plugins", NULL);
		ck_assert_int_eq (g_mkdir (plugin_dir, 0755), 0);
		ck_assert_int_eq (g_chmod (plugin_dir, 0755), 0);
		hello_src = astra_check_write_file (tmp_dir, "hello.c", hello_plugin_c, 0644);
		hello_so = g_build_filename (plugin_dir, "hello.so", NULL);
		compile (env, plugin_flags, hello_so, hello_src, cflags_libs);
		ck_assert_int_eq (g_chmod (hello_so, 0755), 0);
	}

	/* the installed daemon delivers through it */
	receiver = astra_test_receiver_new (&error);
	astra_assert_no_error (error);
	url = astra_test_receiver_get_url (receiver, "/hello");
	webhooks = g_strdup_printf ("[webhook hi]\nplugin = hello\nurl = %s\n", url);
	config = astra_test_write_config (tmp_dir, plugin_dir, NULL, webhooks, &error);
	astra_assert_no_error (error);
	{
		const char *env[] = { ld_path_env, NULL };
		daemon = astra_test_daemon_spawn (alertd, config, NULL, env,
						  ASTRA_TEST_DAEMON_FLAG_NONE, &error);
		astra_assert_no_error (error);
		ck_assert_msg (
		    astra_test_daemon_wait_listening (daemon, ASTRA_TEST_TIMEOUT_MS, &error), "%s",
		    error != NULL ? error->message : "");
	}
	session = astra_test_session_new ();
	daemon_url = astra_test_daemon_get_url (daemon, "/v1/reports");
	reply = astra_test_post_json (session, daemon_url, ASTRA_TEST_DOCS_EVENT, &error);
	astra_assert_no_error (error);
	ck_assert_uint_eq (reply->status, 202);
	ck_assert_msg (astra_test_receiver_wait (receiver, 1, ASTRA_TEST_TIMEOUT_MS),
		       "nothing delivered:\n%s", astra_test_daemon_get_stderr (daemon));
	req = g_ptr_array_index (astra_test_receiver_get_requests (receiver), 0);
	ck_assert_str_eq (req->path, "/hello");
	ck_assert_str_eq (astra_test_request_get_header (req, "X-Hello"), "1");
	ck_assert_uint_eq (g_bytes_get_size (req->body), strlen (ASTRA_TEST_DOCS_EVENT));
	ck_assert (memcmp (g_bytes_get_data (req->body, NULL), ASTRA_TEST_DOCS_EVENT,
			   strlen (ASTRA_TEST_DOCS_EVENT)) == 0);

	astra_test_daemon_send_signal (daemon, SIGTERM);
	ck_assert (astra_test_daemon_wait_exit (daemon, ASTRA_TEST_TIMEOUT_MS));
	ck_assert_int_eq (astra_test_daemon_get_exit_status (daemon), 0);

	g_clear_pointer (&daemon, astra_test_daemon_free);
	g_clear_pointer (&receiver, astra_test_receiver_free);
	ck_assert_msg (astra_check_rmtree (tmp_dir, &error), "%s",
		       error != NULL ? error->message : "");
	g_clear_pointer (&tmp_dir, g_free);
}
END_TEST

static Suite *
sdk_install_suite (void)
{
	Suite *s = suite_create ("sdk-install");
	TCase *tc = tcase_create ("install");

	/* a whole build and install: minutes, not seconds */
	tcase_set_timeout (tc, 300);
	tcase_add_test (tc, test_sdk_install);
	suite_add_tcase (s, tc);
	return s;
}

int
main (void)
{
	return astra_check_run_suite (sdk_install_suite ());
}
