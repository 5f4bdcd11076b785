/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What every libcheck suite shares: see astra-check-common.h.
 */

#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "astra-check-common.h"

const char *const astra_check_event_types[ASTRA_CHECK_N_EVENT_TYPES] = {
    "agent.status_changed",
    "agent.registered",
    "speedtest.completed",
    "traceroute.completed",
    "service_test.failed",
    "alert.triggered",
    "alert.resolved",
};

char *
astra_check_env_path (const char *var, const char *first, ...)
{
	const char *root = g_getenv (var);
	g_autoptr(GPtrArray) parts = g_ptr_array_new ();
	va_list args;

	ck_assert_msg (root != NULL && root[0] != '\0', "%s is not set: run the test through meson test",
		       var);
	g_ptr_array_add (parts, (gpointer) root);
	va_start (args, first);
	for (const char *part = first; part != NULL; part = va_arg (args, const char *))
		g_ptr_array_add (parts, (gpointer) part);
	va_end (args);
	g_ptr_array_add (parts, NULL);
	return g_build_filenamev ((char **) parts->pdata);
}

char *
astra_check_read_file (const char *path, gsize *len)
{
	g_autoptr(GError) error = NULL;
	char *contents = NULL;

	ck_assert_msg (g_file_get_contents (path, &contents, len, &error), "%s: %s", path,
		       error != NULL ? error->message : "?");
	return contents;
}

char *
astra_check_read_source_file (const char *rel)
{
	g_autofree char *path = astra_check_source_path (rel, NULL);

	return astra_check_read_file (path, NULL);
}

static char *
astra_check_fixture_path (const char *type_name)
{
	g_autofree char *name = g_strdup_printf ("%s.json", type_name);

	return astra_check_source_path ("data", "events", name, NULL);
}

GBytes *
astra_check_fixture_bytes (const char *type_name)
{
	g_autofree char *path = astra_check_fixture_path (type_name);
	gsize len = 0;
	char *contents = astra_check_read_file (path, &len);

	return g_bytes_new_take (contents, len);
}

char *
astra_check_fixture_text (const char *type_name)
{
	g_autofree char *path = astra_check_fixture_path (type_name);

	return g_strchomp (astra_check_read_file (path, NULL));
}

AstraEvent *
astra_check_fixture_event (const char *type_name, const char *id)
{
	g_autofree char *text = astra_check_fixture_text (type_name);
	g_autoptr(GBytes) body = g_bytes_new (text, strlen (text));
	g_autoptr(GError) error = NULL;
	AstraEvent *event = astra_event_new_from_body (id, body, &error);

	ck_assert_msg (event != NULL, "data/events/%s.json: %s", type_name,
		       error != NULL ? error->message : "?");
	return event;
}

char *
astra_check_tmpdir_new (const char *parent, const char *name, int mode)
{
	g_autofree char *basename = g_strdup_printf ("%s-XXXXXX", name);
	g_autofree char *tmpl =
	    g_build_filename (parent != NULL ? parent : g_get_tmp_dir (), basename, NULL);
	char *real;
	char *path;
	int errsv;

	errsv = g_mkdtemp_full (tmpl, mode) != NULL ? 0 : errno;
	ck_assert_msg (errsv == 0, "cannot create %s: %s", tmpl, g_strerror (errsv));
	/* the umask may have taken bits the caller asked for */
	errsv = g_chmod (tmpl, mode) == 0 ? 0 : errno;
	ck_assert_msg (errsv == 0, "cannot chmod %s: %s", tmpl, g_strerror (errsv));
	real = realpath (tmpl, NULL);
	ck_assert_msg (real != NULL, "realpath %s: %s", tmpl, g_strerror (errno));
	path = g_strdup (real);
	free (real);
	return path;
}

void
astra_check_tmpdir_clear (char **path)
{
	g_autofree char *dir = g_steal_pointer (path);
	g_autoptr(GError) error = NULL;

	if (dir != NULL && !astra_check_rmtree (dir, &error))
		g_printerr ("cannot remove %s: %s\n", dir, error->message);
}

static gboolean
astra_check_set_errno_error (GError **error, int errsv, const char *path)
{
	g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv), "%s: %s", path,
		     g_strerror (errsv));
	return FALSE;
}

gboolean
astra_check_rmtree (const char *path, GError **error)
{
	GStatBuf st;

	if (g_lstat (path, &st) != 0) {
		int errsv = errno;

		if (errsv == ENOENT)
			return TRUE;
		return astra_check_set_errno_error (error, errsv, path);
	}
	/* lstat: a symlink is removed itself, never followed */
	if (S_ISDIR (st.st_mode)) {
		g_autoptr(GDir) dir = NULL;
		const char *name;

		/* if this fails, opening or removing says why */
		g_chmod (path, 0700);
		dir = g_dir_open (path, 0, error);
		if (dir == NULL)
			return FALSE;
		while ((name = g_dir_read_name (dir)) != NULL) {
			g_autofree char *child = g_build_filename (path, name, NULL);

			if (!astra_check_rmtree (child, error))
				return FALSE;
		}
		if (g_rmdir (path) != 0)
			return astra_check_set_errno_error (error, errno, path);
		return TRUE;
	}
	if (g_unlink (path) != 0)
		return astra_check_set_errno_error (error, errno, path);
	return TRUE;
}

char *
astra_check_write_file (const char *dir, const char *rel, const char *text, int mode)
{
	g_autofree char *path = g_build_filename (dir, rel, NULL);
	g_autofree char *parent = g_path_get_dirname (path);
	g_autoptr(GError) error = NULL;
	int errsv;

	errsv = g_mkdir_with_parents (parent, 0700) == 0 ? 0 : errno;
	ck_assert_msg (errsv == 0, "cannot create %s: %s", parent, g_strerror (errsv));
	ck_assert_msg (g_file_set_contents (path, text, -1, &error), "writing %s: %s", path,
		       error != NULL ? error->message : "?");
	/* the umask may have taken bits the caller asked for (e.g. o+w) */
	errsv = g_chmod (path, mode) == 0 ? 0 : errno;
	ck_assert_msg (errsv == 0, "cannot chmod %s: %s", path, g_strerror (errsv));
	return g_steal_pointer (&path);
}

static char *astra_check_tmpdir = NULL; /* astra_check_tmpdir_setup()'s, per test */

void
astra_check_tmpdir_setup (void)
{
	astra_check_tmpdir = astra_check_tmpdir_new (NULL, "astra-check", 0700);
}

void
astra_check_tmpdir_teardown (void)
{
	astra_check_tmpdir_clear (&astra_check_tmpdir);
}

TCase *
astra_check_tmpdir_tcase_new (const char *name)
{
	TCase *tc = tcase_create (name);

	tcase_add_checked_fixture (tc, astra_check_tmpdir_setup, astra_check_tmpdir_teardown);
	return tc;
}

const char *
astra_check_get_tmpdir (void)
{
	ck_assert_msg (astra_check_tmpdir != NULL, "no astra_check_tmpdir_setup() fixture");
	return astra_check_tmpdir;
}

char *
astra_check_tmp_path (const char *rel)
{
	return g_build_filename (astra_check_get_tmpdir (), rel, NULL);
}

char *
astra_check_tmp_write (const char *rel, const char *text, int mode)
{
	return astra_check_write_file (astra_check_get_tmpdir (), rel, text, mode);
}

/* a folder of the run's own, made $TMPDIR before anything asks GLib for the
 * temp folder; plain calls only, no assertions: this runs in check's parent */
static char *
astra_check_run_tmpdir_new (void)
{
	const char *parent = g_getenv ("TMPDIR");
	g_autofree char *dir = g_build_filename (parent != NULL && parent[0] != '\0' ? parent : "/tmp",
						 "astra-run-XXXXXX", NULL);

	if (g_mkdtemp (dir) == NULL) {
		g_printerr ("astra-check: cannot create %s: %s\n", dir, g_strerror (errno));
		return NULL;
	}
	g_setenv ("TMPDIR", dir, TRUE);
	return g_steal_pointer (&dir);
}

int
astra_check_run_suite_full (Suite *suite, AstraCheckRunFlags flags)
{
	g_autofree char *run_dir = astra_check_run_tmpdir_new ();
	SRunner *runner = srunner_create (suite);
	int n_failed;

	if ((flags & ASTRA_CHECK_RUN_FLAG_ALWAYS_FORK) != 0)
		srunner_set_fork_status (runner, CK_FORK);
	srunner_run_all (runner, CK_NORMAL);
	n_failed = srunner_ntests_failed (runner);
	srunner_free (runner);
	/* a failed check ends its process at once, without the teardown */
	astra_check_tmpdir_clear (&run_dir);
	return n_failed > 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

int
astra_check_run_suite (Suite *suite)
{
	return astra_check_run_suite_full (suite, ASTRA_CHECK_RUN_FLAG_NONE);
}

/* golden files */

static void
astra_check_collect_header_cb (const char *name, const char *value, gpointer user_data)
{
	g_ptr_array_add (user_data, g_strdup_printf ("%s: %s", name, value));
}

static gint
astra_check_header_compare (gconstpointer a, gconstpointer b)
{
	return g_ascii_strcasecmp (*(const char *const *) a, *(const char *const *) b);
}

char *
astra_check_request_to_text (AstraRequest *request)
{
	g_autoptr(GPtrArray) headers = g_ptr_array_new_with_free_func (g_free);
	g_autoptr(GString) out = g_string_new (NULL);
	g_autofree char *product = g_strdup_printf ("/%s", astra_version_string ());
	GBytes *body = astra_request_get_body (request);

	astra_request_foreach_header (request, astra_check_collect_header_cb, headers);
	if (astra_request_get_content_type (request) != NULL)
		g_ptr_array_add (headers, g_strdup_printf ("Content-Type: %s", astra_request_get_content_type (request)));
	g_ptr_array_sort (headers, astra_check_header_compare);

	g_string_append_printf (out, "%s %s\n", astra_request_get_method (request), astra_request_get_url (request));
	for (guint i = 0; i < headers->len; i++) {
		g_autoptr(GString) line = g_string_new (g_ptr_array_index (headers, i));
		if (g_ascii_strncasecmp (line->str, "User-Agent:", 11) == 0)
			g_string_replace (line, product, "/@VERSION@", 0);
		g_string_append_printf (out, "%s\n", line->str);
	}
	g_string_append_c (out, '\n');
	if (body != NULL)
		g_string_append_len (out, g_bytes_get_data (body, NULL), (gssize) g_bytes_get_size (body));
	g_string_append_c (out, '\n');
	return g_string_free (g_steal_pointer (&out), FALSE);
}

void
astra_check_assert_golden (const char *suite, const char *name, const char *got)
{
	g_autofree char *path = astra_check_source_path ("tests", "golden", suite, name, NULL);
	g_autofree char *expected = NULL;
	g_autoptr(GError) error = NULL;

	if (g_strcmp0 (g_getenv ("ASTRA_UPDATE_GOLDEN"), "1") == 0) {
		g_autofree char *dir = g_path_get_dirname (path);
		g_mkdir_with_parents (dir, 0755);
		ck_assert_msg (g_file_set_contents (path, got, -1, &error), "%s: %s", path,
			       error != NULL ? error->message : "?");
		return;
	}
	ck_assert_msg (g_file_get_contents (path, &expected, NULL, &error),
		       "%s: %s (create it with ASTRA_UPDATE_GOLDEN=1 meson test -C build %s)", path,
		       error != NULL ? error->message : "?", suite);
	ck_assert_msg (g_strcmp0 (expected, got) == 0,
		       "%s differs from the rendered request (if the change is intended, regenerate with "
		       "ASTRA_UPDATE_GOLDEN=1 meson test -C build %s)\n--- expected\n%s\n--- got\n%s",
		       path, suite, expected, got);
}

/* destination plugins */

AstraPlugin *
astra_check_plugin_new (const AstraCheckPlugin *plugin)
{
	AstraPlugin *instance =
	    plugin->new_plugin != NULL ? plugin->new_plugin () : g_object_new (plugin->get_type (), NULL);

	ck_assert (ASTRA_IS_PLUGIN (instance));
	ck_assert (G_TYPE_CHECK_INSTANCE_TYPE (instance, plugin->get_type ()));
	return instance;
}

AstraPlugin *
astra_check_configure_keys (const AstraCheckPlugin *plugin, const char *keys, GError **error)
{
	g_autoptr(AstraPlugin) instance = astra_check_plugin_new (plugin);
	g_autoptr(GKeyFile) keyfile = g_key_file_new ();
	g_autofree char *text = g_strdup_printf ("[%s]\nplugin = %s\n%s", plugin->group, plugin->name, keys);
	g_autoptr(GError) error_local = NULL;

	ck_assert_msg (g_key_file_load_from_data (keyfile, text, -1, G_KEY_FILE_NONE, &error_local), "%s",
		       error_local != NULL ? error_local->message : "?");
	if (!astra_plugin_configure (instance, keyfile, plugin->group, error))
		return NULL;
	return g_steal_pointer (&instance);
}

AstraPlugin *
astra_check_configure_ok (const AstraCheckPlugin *plugin, const char *keys)
{
	g_autoptr(GError) error = NULL;
	AstraPlugin *instance = astra_check_configure_keys (plugin, keys, &error);

	ck_assert_msg (instance != NULL, "configure: %s", error != NULL ? error->message : "?");
	return instance;
}

char *
astra_check_configure_error (const AstraCheckPlugin *plugin, const char *keys, const char *key)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(AstraPlugin) instance = astra_check_configure_keys (plugin, keys, &error);

	ck_assert_msg (instance == NULL, "accepted: %s", keys);
	ck_assert_ptr_nonnull (error);
	ck_assert_msg (g_error_matches (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG), "code %d: %s",
		       error->code, error->message);
	/* the daemon adds the file and group: the plugin names the key first */
	if (key != NULL)
		ck_assert_msg (g_str_has_prefix (error->message, key), "'%s' does not start with '%s'",
			       error->message, key);
	return g_strdup (error->message);
}

void
astra_check_assert_config_keys (AstraPlugin *plugin, const char *const *expected)
{
	const char *const *keys = astra_plugin_get_config_keys (plugin);

	ck_assert_ptr_nonnull (keys);
	ck_assert_uint_eq (g_strv_length ((GStrv) keys), g_strv_length ((GStrv) expected));
	for (guint i = 0; expected[i] != NULL; i++)
		ck_assert_msg (g_strv_contains (keys, expected[i]), "%s", expected[i]);
}

char *
astra_check_secret_file_keys (const char *key, const char *name, const char *text, int mode, char **path)
{
	g_autofree char *file = astra_check_tmp_write (name, text, mode);
	char *keys = g_strdup_printf ("%s-file = %s\n", key, file);

	if (path != NULL)
		*path = g_steal_pointer (&file);
	return keys;
}

char *
astra_check_configured_url (const AstraCheckPlugin *plugin, const char *keys, const char *type_name)
{
	g_autoptr(AstraPlugin) instance = astra_check_configure_ok (plugin, keys);
	g_autoptr(AstraEvent) event = astra_check_fixture_event (type_name, "evt_fixture");
	g_autoptr(AstraRequest) request = astra_check_render (instance, event);

	return g_strdup (astra_request_get_url (request));
}

/* astra_check_configure_error() of OTHER_KEYS then KEYS, a message without the URL's token or domain */
static char *
astra_check_url_keys_error (const AstraCheckPlugin *plugin,
			    const char *other_keys,
			    const char *keys,
			    const char *key,
			    const char *domain)
{
	g_autofree char *all = g_strconcat (other_keys, keys, NULL);
	char *msg = astra_check_configure_error (plugin, all, key);

	astra_assert_not_contains (msg, "T0KEN");
	astra_assert_not_contains (msg, domain);
	return msg;
}

void
astra_check_assert_url_keys (const AstraCheckPlugin *plugin,
			     const char *other_keys,
			     const char *url,
			     const char *sent_url)
{
	g_autoptr(GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
	const char *host = uri != NULL ? g_uri_get_host (uri) : NULL;
	const char *domain = host;
	g_autofree char *url_line = g_strdup_printf ("url = %s\n", url);
	g_autofree char *url_text = g_strdup_printf ("%s\n", url);

	ck_assert_msg (host != NULL && strstr (url, "T0KEN") != NULL, "%s", url);
	/* the last two labels of the host: "logic.azure.com" of "prod-01.westeurope.logic.azure.com" too */
	for (const char *p = host; (p = strchr (p, '.')) != NULL; p++) {
		if (strchr (p + 1, '.') != NULL)
			domain = p + 1;
	}

	/* required, and not empty */
	{
		g_autofree char *missing = astra_check_url_keys_error (plugin, other_keys, "", "url", domain);
		g_autofree char *empty =
		    astra_check_url_keys_error (plugin, other_keys, "url =\n", "url", domain);

		astra_assert_contains (missing, "required");
		astra_assert_contains (empty, "empty");
	}
	/* inline, or from a file without the final newline editors add; the group may read it */
	{
		g_autofree char *file_keys =
		    astra_check_secret_file_keys ("url", "url-0600", url_text, 0600, NULL);
		g_autofree char *group_keys =
		    astra_check_secret_file_keys ("url", "url-0640", url_text, 0640, NULL);
		g_autofree char *keys = g_strconcat (other_keys, url_line, NULL);
		g_autofree char *all_file_keys = g_strconcat (other_keys, file_keys, NULL);
		g_autofree char *all_group_keys = g_strconcat (other_keys, group_keys, NULL);
		g_autofree char *got = astra_check_configured_url (plugin, keys, "agent.registered");
		g_autofree char *got_file =
		    astra_check_configured_url (plugin, all_file_keys, "agent.registered");
		g_autofree char *got_group =
		    astra_check_configured_url (plugin, all_group_keys, "agent.registered");

		ck_assert_str_eq (got, sent_url);
		ck_assert_str_eq (got_file, sent_url);
		ck_assert_str_eq (got_group, sent_url);
	}
	/* a file others can read: the key and the file are named, never what is in it */
	{
		g_autofree char *path = NULL;
		g_autofree char *keys =
		    astra_check_secret_file_keys ("url", "url-0644", url_text, 0644, &path);
		g_autofree char *msg =
		    astra_check_url_keys_error (plugin, other_keys, keys, "url-file", domain);

		astra_assert_contains (msg, path);
		astra_assert_contains (msg, "readable by others");
	}
	/* a file that is not there, a folder, a FIFO (opening it must not wait for a writer),
	 * an empty file */
	{
		g_autofree char *path = astra_check_tmp_path ("nothing-here");
		g_autofree char *fifo_path = astra_check_tmp_path ("url-fifo");
		g_autofree char *fifo_keys = g_strdup_printf ("url-file = %s\n", fifo_path);
		g_autofree char *fifo = NULL;
		g_autofree char *missing_keys = g_strdup_printf ("url-file = %s\n", path);
		g_autofree char *folder_keys = g_strdup_printf ("url-file = %s\n", astra_check_get_tmpdir ());
		g_autofree char *empty_keys =
		    astra_check_secret_file_keys ("url", "url-empty", "\n", 0600, NULL);
		g_autofree char *missing =
		    astra_check_url_keys_error (plugin, other_keys, missing_keys, "url-file", domain);
		g_autofree char *folder =
		    astra_check_url_keys_error (plugin, other_keys, folder_keys, "url-file", domain);
		g_autofree char *empty =
		    astra_check_url_keys_error (plugin, other_keys, empty_keys, "url-file", domain);

		ck_assert_int_eq (mkfifo (fifo_path, 0600), 0);
		fifo = astra_check_url_keys_error (plugin, other_keys, fifo_keys, "url-file", domain);
		g_unlink (fifo_path);

		astra_assert_contains (missing, path);
		astra_assert_contains (folder, "not a regular file");
		astra_assert_contains (fifo, "not a regular file");
		astra_assert_contains (empty, "empty");
	}
	/* both */
	{
		g_autofree char *file_keys =
		    astra_check_secret_file_keys ("url", "url-both", url_text, 0600, NULL);
		g_autofree char *keys = g_strconcat (url_line, file_keys, NULL);
		g_autofree char *msg = astra_check_url_keys_error (plugin, other_keys, keys, "url", domain);

		astra_assert_contains (msg, "both");
	}
	/* a file's URL is checked like an inline one; a second line is not sent as part of the path */
	{
		g_autofree char *ftp_text = g_strdup_printf ("ftp://%s/T0KEN\n", host);
		g_autofree char *two_lines_text = g_strdup_printf ("%s\r\nsecond line\n", url);
		g_autofree char *ftp_keys =
		    astra_check_secret_file_keys ("url", "url-ftp", ftp_text, 0600, NULL);
		g_autofree char *two_lines_keys =
		    astra_check_secret_file_keys ("url", "url-two-lines", two_lines_text, 0600, NULL);
		g_autofree char *ftp =
		    astra_check_url_keys_error (plugin, other_keys, ftp_keys, "url: ", domain);
		g_autofree char *two_lines =
		    astra_check_url_keys_error (plugin, other_keys, two_lines_keys, "url: ", domain);
	}
}

AstraRequest *
astra_check_render (AstraPlugin *plugin, AstraEvent *event)
{
	g_autoptr(AstraRequest) request = astra_request_new ();
	g_autoptr(GError) error = NULL;

	ck_assert_msg (astra_plugin_render (plugin, event, request, &error), "render: %s",
		       error != NULL ? error->message : "?");
	ck_assert_msg (astra_request_validate (request, &error), "validate: %s",
		       error != NULL ? error->message : "?");
	return g_steal_pointer (&request);
}

AstraRequest *
astra_check_render_stable (AstraPlugin *plugin, AstraEvent *event, char **text)
{
	g_autoptr(AstraRequest) request = astra_check_render (plugin, event);
	g_autoptr(AstraRequest) again = astra_check_render (plugin, event);
	g_autofree char *text_first = astra_check_request_to_text (request);
	g_autofree char *text_again = astra_check_request_to_text (again);

	ck_assert_str_eq (text_first, text_again);
	*text = g_steal_pointer (&text_first);
	return g_steal_pointer (&request);
}

void
astra_check_assert_post_json (AstraRequest *request, const char *url, const char *user_agent)
{
	ck_assert_str_eq (astra_request_get_method (request), "POST");
	ck_assert_str_eq (astra_request_get_url (request), url);
	ck_assert_str_eq (astra_request_get_content_type (request), "application/json");
	if (user_agent != NULL)
		ck_assert_str_eq (astra_request_get_header (request, "User-Agent"), user_agent);
}

JsonNode *
astra_check_parse_body (AstraRequest *request)
{
	GBytes *body = astra_request_get_body (request);
	g_autoptr(GError) error = NULL;
	const char *data;
	gsize len = 0;
	JsonNode *root;

	ck_assert_ptr_nonnull (body);
	data = g_bytes_get_data (body, &len);
	ck_assert_msg (g_utf8_validate (data, (gssize) len, NULL), "the body is not valid UTF-8");
	root = astra_json_parse (data, len, &error);
	ck_assert_msg (root != NULL, "the body is not valid JSON: %s", error != NULL ? error->message : "?");
	ck_assert (JSON_NODE_HOLDS_OBJECT (root));
	return root;
}

const char *
astra_check_get_string (JsonObject *object, const char *member)
{
	JsonNode *node = json_object_get_member (object, member);

	ck_assert_msg (node != NULL, "no member %s", member);
	ck_assert_msg (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING,
		       "%s is not a string", member);
	return json_node_get_string (node);
}

JsonArray *
astra_check_get_array (JsonObject *object, const char *member)
{
	JsonNode *node = json_object_get_member (object, member);

	ck_assert_msg (node != NULL && JSON_NODE_HOLDS_ARRAY (node), "%s is not an array", member);
	return json_node_get_array (node);
}

JsonObject *
astra_check_get_object (JsonObject *object, const char *member)
{
	JsonNode *node = json_object_get_member (object, member);

	ck_assert_msg (node != NULL && JSON_NODE_HOLDS_OBJECT (node), "%s is not an object", member);
	return json_node_get_object (node);
}

JsonObject *
astra_check_fixture_data (const char *type_name)
{
	g_autoptr(AstraEvent) event = astra_check_fixture_event (type_name, "evt_fixture");
	GBytes *body = astra_event_get_body (event);
	g_autoptr(JsonNode) root =
		       astra_json_parse (g_bytes_get_data (body, NULL), g_bytes_get_size (body), NULL);

	ck_assert_ptr_nonnull (root);
	return json_object_ref (json_object_get_object_member (json_node_get_object (root), "data"));
}

AstraEvent *
astra_check_event_new (const char *type_name, JsonObject *data)
{
	g_autoptr(GError) error = NULL;
	AstraEvent *event =
	    astra_event_new (astra_event_kind_from_string (type_name), ASTRA_CHECK_EVENT_TIME, data, &error);

	ck_assert_msg (event != NULL, "%s: %s", type_name, error != NULL ? error->message : "?");
	return event;
}

AstraResponse *
astra_check_response_new (guint status, const char *body)
{
	g_autoptr(GBytes) bytes = body != NULL ? g_bytes_new (body, strlen (body)) : NULL;

	return astra_response_new (status, bytes);
}

void
astra_check_assert_classify (AstraPlugin *plugin, const AstraCheckClassifyCase *c)
{
	g_autoptr(AstraResponse) response = astra_check_response_new (c->status, c->body);
	AstraOutcome outcome;
	double retry;

	if (c->retry_after != NULL)
		astra_response_set_header (response, "Retry-After", c->retry_after);
	outcome = astra_plugin_classify (plugin, response);
	ck_assert_msg (outcome == c->outcome, "HTTP %u '%s': expected %s, got %s", c->status,
		       c->body != NULL ? c->body : "", astra_outcome_to_string (c->outcome),
		       astra_outcome_to_string (outcome));
	retry = astra_response_get_retry_after (response);
	if (c->retry < 0)
		ck_assert_msg (retry < 0, "HTTP %u: expected no delay, got %f", c->status, retry);
	else
		ck_assert_msg (retry == c->retry, "HTTP %u: expected %f s, got %f", c->status, c->retry,
			       retry);
	if (c->reason != NULL)
		ck_assert_str_eq (astra_response_get_reason (response), c->reason);
	else
		ck_assert_ptr_null (astra_response_get_reason (response));
}

/* hostile input */

char *
astra_check_repeat (const char *unit, gsize n)
{
	GString *out = g_string_new (NULL);

	for (gsize i = 0; i < n; i++)
		g_string_append (out, unit);
	return g_string_free (out, FALSE);
}

char *
astra_check_cycle_text (const char *const *units, gsize n_units, gsize n_chars, gsize newline_every)
{
	GString *out = g_string_new (NULL);
	const char *p = units[0];
	gsize unit = 0;

	for (gsize count = 0; count < n_chars;) {
		const char *next;

		if (*p == '\0') {
			unit = (unit + 1) % n_units;
			p = units[unit];
			continue;
		}
		next = g_utf8_next_char (p);
		if (newline_every > 0 && count % newline_every == newline_every - 1)
			g_string_append_c (out, '\n');
		else
			g_string_append_len (out, p, next - p);
		p = next;
		count++;
	}
	return g_string_free (out, FALSE);
}

void
astra_check_assert_clean_text (const char *what, const char *text, gboolean newlines)
{
	ck_assert_msg (g_utf8_validate (text, -1, NULL), "%s: invalid UTF-8", what);
	for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p)) {
		gunichar c = g_utf8_get_char (p);

		if (c == '\n' && newlines)
			continue;
		ck_assert_msg (c >= 0x20 && c != 0x7f && !(c >= 0x80 && c <= 0x9f),
			       "%s: control character U+%04X in '%s'", what, c, text);
		ck_assert_msg (!(c >= 0x202a && c <= 0x202e) && !(c >= 0x2066 && c <= 0x2069) &&
				   c != 0x200e && c != 0x200f,
			       "%s: bidi control U+%04X", what, c);
	}
}

static gboolean
astra_check_iterate_done_cb (gpointer user_data)
{
	*(gboolean *) user_data = TRUE;
	return G_SOURCE_REMOVE;
}

void
astra_check_iterate_for (guint ms)
{
	gboolean done = FALSE;

	g_timeout_add (ms, astra_check_iterate_done_cb, &done);
	while (!done)
		g_main_context_iteration (NULL, TRUE);
}
