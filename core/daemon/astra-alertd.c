/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <glib-unix.h>
#include <grp.h>
#include <locale.h>
#include <stdlib.h>
#include <errno.h>
#include <time.h>
#include <unistd.h>

#include "astra-dbus-service.h"
#include "astra-engine.h"

typedef struct {
	GMainLoop *loop;
	AstraEngine *engine;
	char *config_path;
	char *state_dir;
	char *plugin_dir;
	char *listen;
	char *bus;
	AstraConfigBus bus_type;
	GDBusConnection *connection;
	AstraDbusService *service;
	guint owner_id;
	gboolean name_acquired;
	gboolean stopping;
	int exit_status;
} AstraDaemon;

static void
astra_daemon_clear (AstraDaemon *self)
{
	g_clear_handle_id (&self->owner_id, g_bus_unown_name);
	g_clear_object (&self->service);
	if (self->connection != NULL)
		g_signal_handlers_disconnect_by_data (self->connection, self);
	g_clear_object (&self->connection);
	g_clear_pointer (&self->bus, g_free);
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
 * Every failed attempt is logged (with --verbose every delivery), so a line
 * must be cheap: formatted once, in the
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
	if (self->bus != NULL) {
		AstraConfigBus bus;
		if (!astra_config_bus_from_string (self->bus, &bus)) {
			g_ptr_array_add (errors, g_strdup_printf ("--bus: '%s' is not a bus (system, session or none)",
								  self->bus));
			return NULL;
		}
		astra_config_set_bus (config, bus);
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

static void
astra_daemon_stop (AstraDaemon *self, int exit_status)
{
	if (exit_status != EXIT_SUCCESS)
		self->exit_status = exit_status;
	if (self->stopping)
		return;
	self->stopping = TRUE;
	g_message ("stopping");
	astra_engine_shutdown_async (self->engine, astra_daemon_shutdown_cb, self);
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
	astra_daemon_stop (self, EXIT_SUCCESS);
	return G_SOURCE_CONTINUE;
}

static gboolean
astra_daemon_reload_cb (gpointer user_data)
{
	AstraDaemon *self = user_data;
	g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func (g_free);

	/* the same reload as D-Bus Reload: it logs what it refused */
	astra_engine_reload_from_disk (self->engine, errors);
	return G_SOURCE_CONTINUE;
}

static const char *
astra_daemon_bus_name (AstraConfigBus bus)
{
	return bus == ASTRA_CONFIG_BUS_SYSTEM ? "system bus" : "session bus";
}

/* before the engine starts: without the bus asked for there is no point starting at all */
static gboolean
astra_daemon_connect_bus (AstraDaemon *self, AstraConfig *config)
{
	g_autoptr(GError) error_local = NULL;

	self->bus_type = astra_config_get_bus (config);
	if (self->bus_type == ASTRA_CONFIG_BUS_NONE) {
		g_debug ("D-Bus: not offered ([dbus] bus = none)");
		return TRUE;
	}
	self->connection = g_bus_get_sync (self->bus_type == ASTRA_CONFIG_BUS_SYSTEM ? G_BUS_TYPE_SYSTEM
										       : G_BUS_TYPE_SESSION,
					   NULL, &error_local);
	if (self->connection == NULL) {
		g_printerr ("astra-alertd: cannot connect to the %s (%s): start it, or run without D-Bus "
			    "with [dbus] bus = none or --bus=none\n",
			    astra_daemon_bus_name (self->bus_type), error_local->message);
		return FALSE;
	}
	return TRUE;
}

static void
astra_daemon_bus_closed_cb (GDBusConnection *connection, gboolean remote_peer_vanished, GError *error, gpointer user_data)
{
	AstraDaemon *self = user_data;

	/* a desktop session or a demo ends its bus and the daemon together */
	if (self->stopping)
		return;
	g_warning ("lost the connection to the %s%s%s: stopping", astra_daemon_bus_name (self->bus_type),
		   error != NULL ? ": " : "", error != NULL ? error->message : "");
	astra_daemon_stop (self, EXIT_FAILURE);
}

static void
astra_daemon_name_acquired_cb (GDBusConnection *connection, const char *name, gpointer user_data)
{
	AstraDaemon *self = user_data;

	self->name_acquired = TRUE;
	g_message ("D-Bus: %s on the %s", name, astra_daemon_bus_name (self->bus_type));
}

static void
astra_daemon_name_lost_cb (GDBusConnection *connection, const char *name, gpointer user_data)
{
	AstraDaemon *self = user_data;

	if (self->stopping)
		return;
	if (self->name_acquired) {
		g_warning ("D-Bus: lost the name %s on the %s: stopping", name, astra_daemon_bus_name (self->bus_type));
	} else {
		/* one line that says what to do, like every refusal to start */
		if (self->bus_type == ASTRA_CONFIG_BUS_SYSTEM)
			g_printerr ("astra-alertd: cannot own %s on the system bus: another astra-alertd has it, or "
				    "the bus policy (dbus-1/system.d/%s.conf) does not let this user own it\n",
				    name, name);
		else
			g_printerr ("astra-alertd: cannot own %s on the session bus: another astra-alertd has it; "
				    "stop that one, or use --bus=none\n",
				    name);
	}
	astra_daemon_stop (self, EXIT_FAILURE);
}

static gboolean
astra_daemon_export (AstraDaemon *self)
{
	g_autoptr(GError) error_local = NULL;
	const char *admin_group;

	if (self->connection == NULL)
		return TRUE;
	admin_group = astra_config_get_admin_group (astra_engine_get_config (self->engine));
	if (getgrnam (admin_group) == NULL)
		g_message ("[dbus] admin-group: there is no group '%s': only root may change the daemon over D-Bus",
			   admin_group);
	/* the bus telling us it is gone is a reason to stop, cleanly, not a SIGTERM from GDBus */
	g_dbus_connection_set_exit_on_close (self->connection, FALSE);
	g_signal_connect (self->connection, "closed", G_CALLBACK (astra_daemon_bus_closed_cb), self);
	self->service = astra_dbus_service_new (self->engine);
	if (!astra_dbus_service_export (self->service, self->connection, &error_local)) {
		g_printerr ("astra-alertd: cannot export %s on the %s: %s\n", ASTRA_DBUS_SERVICE_PATH,
			    astra_daemon_bus_name (self->bus_type), error_local->message);
		return FALSE;
	}
	/* owned last, once everything answers: systemd's Type=dbus takes the name as "ready" */
	self->owner_id = g_bus_own_name_on_connection (self->connection, ASTRA_DBUS_SERVICE_NAME,
						       G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE,
						       astra_daemon_name_acquired_cb, astra_daemon_name_lost_cb,
						       self, NULL);
	return TRUE;
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
	    {"bus", 0, 0, G_OPTION_ARG_STRING, &self.bus,
	     "Override [dbus] bus: offer org.astranetmon.Alerts1 on the system or session bus, or none",
	     "system|session|none"},
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
			g_printerr ("%s: %u %s\n", self.config_path, errors->len, errors->len == 1 ? "error" : "errors");
			return EXIT_FAILURE;
		}
		g_print ("%s: configuration OK (%u webhooks)\n", self.config_path,
			 astra_config_get_webhooks (config)->len);
		return EXIT_SUCCESS;
	}
	if (config == NULL) {
		astra_daemon_print_errors (errors);
		g_printerr ("astra-alertd: not started: %u configuration %s\n", errors->len,
			    errors->len == 1 ? "error" : "errors");
		return EXIT_FAILURE;
	}

	if (!astra_daemon_connect_bus (&self, config))
		return EXIT_FAILURE;
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
	if (!astra_daemon_export (&self))
		return EXIT_FAILURE;
	g_main_loop_run (self.loop);

	g_clear_handle_id (&self.owner_id, g_bus_unown_name);
	g_clear_object (&self.service);
	g_clear_object (&self.engine);
	g_message ("stopped");
	return self.exit_status;
}
