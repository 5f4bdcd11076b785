/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <glib-unix.h>
#include <locale.h>
#include <stdlib.h>

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
