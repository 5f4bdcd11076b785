/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <glib-unix.h>
#include <locale.h>
#include <stdlib.h>
#include <errno.h>
#include <time.h>
#include <unistd.h>

#include "astra-engine.h"

typedef struct {
	GMainLoop *loop;
	AstraEngine *engine;
	char *config_path;
	char *state_dir;
	char *plugin_dir;
	char *listen;
	gboolean stopping;
	int exit_status;
} AstraDaemon;

static void
astra_daemon_clear (AstraDaemon *self)
{
	g_clear_object (&self->engine);
	g_clear_pointer (&self->loop, g_main_loop_unref);
	g_clear_pointer (&self->config_path, g_free);
	g_clear_pointer (&self->state_dir, g_free);
	g_clear_pointer (&self->plugin_dir, g_free);
	g_clear_pointer (&self->listen, g_free);
}

/* every way out of main() releases the same things */
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (AstraDaemon, astra_daemon_clear)

/* decided once at start: GLib's default writer asks again (fstat, isatty) for every line */
static gboolean astra_daemon_log_to_journal;

static const char *
astra_daemon_log_field (const GLogField *fields, gsize n_fields, const char *key)
{
	for (gsize i = 0; i < n_fields; i++) {
		if (g_strcmp0 (fields[i].key, key) == 0)
			return fields[i].length < 0 ? fields[i].value : NULL;
	}
	return NULL;
}

/*
 * Every delivery is logged, so a line must be cheap: formatted once, in the
 * shape GLib's default writer uses ("domain-Message: 12:00:00.000: text"),
 * and written with one write(2). Under systemd the journal gets the
 * structured fields instead.
 */
static GLogWriterOutput
astra_daemon_log_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
	const char *domain = astra_daemon_log_field (fields, n_fields, "GLIB_DOMAIN");
	const char *message = astra_daemon_log_field (fields, n_fields, "MESSAGE");
	const char *what = "Message";
	gboolean loud = FALSE;
	GString *line;
	gint64 now;
	time_t secs;
	struct tm tm;
	gsize done = 0;

	if (g_log_writer_default_would_drop (level, domain))
		return G_LOG_WRITER_HANDLED;
	if (astra_daemon_log_to_journal)
		return g_log_writer_journald (level, fields, n_fields, user_data);

	if (level & G_LOG_LEVEL_ERROR) {
		what = "ERROR";
		loud = TRUE;
	} else if (level & G_LOG_LEVEL_CRITICAL) {
		what = "CRITICAL";
		loud = TRUE;
	} else if (level & G_LOG_LEVEL_WARNING) {
		what = "WARNING";
		loud = TRUE;
	} else if (level & G_LOG_LEVEL_INFO) {
		what = "INFO";
	} else if (level & G_LOG_LEVEL_DEBUG) {
		what = "DEBUG";
	}
	now = g_get_real_time ();
	secs = (time_t) (now / G_USEC_PER_SEC);
	localtime_r (&secs, &tm);
	line = g_string_sized_new (256);
	if (loud)
		g_string_append_printf (line, "(%s:%d): ", g_get_prgname (), (int) getpid ());
	g_string_append_printf (line, "%s%s%s%s: %02d:%02d:%02d.%03d: %s\n", domain != NULL ? domain : "",
				domain != NULL ? "-" : "", what, loud ? " **" : "", tm.tm_hour, tm.tm_min, tm.tm_sec,
				(int) (now / 1000 % 1000), message != NULL ? message : "");
	while (done < line->len) {
		gssize n = write (STDERR_FILENO, line->str + done, line->len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (gsize) n;
	}
	g_string_free (line, TRUE);
	return G_LOG_WRITER_HANDLED;
}

static void
astra_daemon_print_errors (GPtrArray *errors)
{
	for (guint i = 0; i < errors->len; i++)
		g_printerr ("%s\n", (const char *) g_ptr_array_index (errors, i));
}

/* the config file, with the command line's overrides on top, as on start */
static AstraConfig *
astra_daemon_load_config (AstraDaemon *self, GPtrArray *errors, gboolean keep_going)
{
	guint n_errors = errors->len;
	g_autoptr(AstraConfig) config = astra_config_load (self->config_path, errors);
	g_autoptr(GError) error_local = NULL;

	if (config == NULL || (!keep_going && errors->len > n_errors))
		return NULL;
	if (self->state_dir != NULL)
		astra_config_set_state_dir (config, self->state_dir);
	if (self->plugin_dir != NULL)
		astra_config_set_plugin_dir (config, self->plugin_dir);
	if (self->listen != NULL && !astra_config_set_listen (config, self->listen, &error_local)) {
		g_ptr_array_add (errors, g_strdup_printf ("--listen: %s", error_local->message));
		return NULL;
	}
	return g_steal_pointer (&config);
}

static void
astra_daemon_shutdown_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
	AstraDaemon *self = user_data;
	g_autoptr(GError) error_local = NULL;

	if (!astra_engine_shutdown_finish (ASTRA_ENGINE (source), result, &error_local))
		g_warning ("shutdown: %s", error_local->message);
	g_main_loop_quit (self->loop);
}

static gboolean
astra_daemon_stop_cb (gpointer user_data)
{
	AstraDaemon *self = user_data;

	/* a second signal means "now": attempts in flight are cut short, nothing else is lost */
	if (self->stopping) {
		g_message ("second stop signal: exiting now");
		g_main_loop_quit (self->loop);
		return G_SOURCE_CONTINUE;
	}
	self->stopping = TRUE;
	g_message ("stopping");
	astra_engine_shutdown_async (self->engine, astra_daemon_shutdown_cb, self);
	return G_SOURCE_CONTINUE;
}

static gboolean
astra_daemon_reload_cb (gpointer user_data)
{
	AstraDaemon *self = user_data;
	g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func (g_free);
	g_autoptr(AstraConfig) config = NULL;

	g_message ("reloading %s", self->config_path);
	config = astra_daemon_load_config (self, errors, FALSE);
	if (config == NULL || !astra_engine_reload (self->engine, config, errors)) {
		for (guint i = 0; i < errors->len; i++)
			g_warning ("%s", (const char *) g_ptr_array_index (errors, i));
		g_warning ("reload refused: %u errors; the previous configuration stays in force", errors->len);
	}
	return G_SOURCE_CONTINUE;
}

int
main (int argc, char **argv)
{
	g_auto(AstraDaemon) self = {.exit_status = EXIT_SUCCESS};
	g_autoptr(GOptionContext) context = NULL;
	g_autoptr(GError) error_local = NULL;
	g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func (g_free);
	g_autoptr(AstraConfig) config = NULL;
	gboolean check_config = FALSE;
	gboolean verbose = FALSE;
	gboolean version = FALSE;
	const GOptionEntry entries[] = {
	    {"config", 'c', 0, G_OPTION_ARG_FILENAME, &self.config_path,
	     "Configuration file (default " ASTRA_SYSCONF_DIR "/astra-alertd.conf)", "PATH"},
	    {"check-config", 0, 0, G_OPTION_ARG_NONE, &check_config,
	     "Validate the configuration, webhooks and plugins, then exit 0 (valid) or 1", NULL},
	    {"state-dir", 0, 0, G_OPTION_ARG_FILENAME, &self.state_dir,
	     "Override [daemon] state-dir", "DIR"},
	    {"plugin-dir", 0, 0, G_OPTION_ARG_FILENAME, &self.plugin_dir,
	     "Override [daemon] plugin-dir", "DIR"},
	    {"listen", 0, 0, G_OPTION_ARG_STRING, &self.listen,
	     "Override [daemon] listen, e.g. 127.0.0.1:8470 (port 0 picks a free one)", "ADDRESS:PORT"},
	    {"verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Log debug messages", NULL},
	    {"version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL},
	    {NULL},
	};

	setlocale (LC_ALL, "");
	astra_daemon_log_to_journal = g_log_writer_is_journald (STDERR_FILENO);
	g_log_set_writer_func (astra_daemon_log_writer, NULL, NULL);
	context = g_option_context_new (NULL);
	g_option_context_set_summary (context,
				      "The astra-alerts daemon: turns agent reports into typed events\n"
				      "and delivers them to webhooks.");
	g_option_context_add_main_entries (context, entries, NULL);
	if (!g_option_context_parse (context, &argc, &argv, &error_local)) {
		g_printerr ("astra-alertd: %s (try --help)\n", error_local->message);
		return 2;
	}
	if (version) {
		g_print ("astra-alertd %s (plugin ABI %d)\n", PACKAGE_VERSION, ASTRA_PLUGIN_ABI_VERSION);
		return EXIT_SUCCESS;
	}
	if (verbose)
		g_log_set_debug_enabled (TRUE);
	if (self.config_path == NULL)
		self.config_path = g_build_filename (ASTRA_SYSCONF_DIR, "astra-alertd.conf", NULL);

	config = astra_daemon_load_config (&self, errors, check_config);
	if (check_config) {
		if (config != NULL)
			astra_engine_check_config (config, errors);
		astra_daemon_print_errors (errors);
		if (errors->len > 0) {
			g_printerr ("%s: %u errors\n", self.config_path, errors->len);
			return EXIT_FAILURE;
		}
		g_print ("%s: configuration OK (%u webhooks)\n", self.config_path,
			 astra_config_get_webhooks (config)->len);
		return EXIT_SUCCESS;
	}
	if (config == NULL) {
		astra_daemon_print_errors (errors);
		g_printerr ("astra-alertd: not started: %u configuration errors\n", errors->len);
		return EXIT_FAILURE;
	}

	self.loop = g_main_loop_new (NULL, FALSE);
	self.engine = astra_engine_new (config);
	/* before "listening" is logged: a supervisor may stop us the moment it reads that */
	g_unix_signal_add (SIGTERM, astra_daemon_stop_cb, &self);
	g_unix_signal_add (SIGINT, astra_daemon_stop_cb, &self);
	g_unix_signal_add (SIGHUP, astra_daemon_reload_cb, &self);
	if (!astra_engine_start (self.engine, errors)) {
		astra_daemon_print_errors (errors);
		g_printerr ("astra-alertd: not started\n");
		return EXIT_FAILURE;
	}
	g_main_loop_run (self.loop);

	g_clear_object (&self.engine);
	g_message ("stopped");
	return self.exit_status;
}
