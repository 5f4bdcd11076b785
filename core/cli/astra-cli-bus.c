/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The one way astra-alertctl reaches the daemon: the generated proxy on the
 * chosen bus, and what each failure means for the user (exit 1 or 3).
 */

#include "config.h"

#include "astra.h"
#include "astra-cli.h"

#define ASTRA_CLI_BUS_KEY "astra-cli-bus"

/* --system, --session, else ASTRA_ALERTCTL_BUS, else the system bus */
static gboolean
astra_cli_choose_bus (const AstraCliCommand *cmd, GBusType *bus_type)
{
	AstraCliGlobal *global = astra_cli_get_global ();
	const char *env = g_getenv ("ASTRA_ALERTCTL_BUS");

	if (global->system && global->session) {
		astra_cli_usage (cmd, "use --system or --session, not both");
		return FALSE;
	}
	if (global->system) {
		*bus_type = G_BUS_TYPE_SYSTEM;
		return TRUE;
	}
	if (global->session) {
		*bus_type = G_BUS_TYPE_SESSION;
		return TRUE;
	}
	if (env == NULL || env[0] == '\0' || g_strcmp0 (env, "system") == 0) {
		*bus_type = G_BUS_TYPE_SYSTEM;
		return TRUE;
	}
	if (g_strcmp0 (env, "session") == 0) {
		*bus_type = G_BUS_TYPE_SESSION;
		return TRUE;
	}
	astra_cli_usage (cmd, "ASTRA_ALERTCTL_BUS is '%s': set it to 'system' or 'session', or unset it",
			 env);
	return FALSE;
}

static const char *
astra_cli_bus_type_name (GBusType bus_type)
{
	return bus_type == G_BUS_TYPE_SESSION ? "session" : "system";
}

/**
 * astra_cli_bus_name:
 * @proxy: a proxy from astra_cli_connect()
 *
 * Returns: "system" or "session"
 */
const char *
astra_cli_bus_name (AstraDBusAlerts1 *proxy)
{
	return astra_cli_bus_type_name (
	    (GBusType) GPOINTER_TO_INT (g_object_get_data (G_OBJECT (proxy), ASTRA_CLI_BUS_KEY)));
}

static int
astra_cli_not_running (const AstraCliCommand *cmd, GBusType bus_type)
{
	if (bus_type == G_BUS_TYPE_SESSION)
		astra_cli_error (cmd, "astra-alertd is not running on the session bus (start it with "
				      "'astra-alertd --bus=session', or use --system)");
	else
		astra_cli_error (cmd, "astra-alertd is not running on the system bus (start it with "
				      "'systemctl start astra-alertd', or use --session)");
	return ASTRA_CLI_EXIT_NO_DAEMON;
}

/**
 * astra_cli_connect:
 * @cmd: the command
 * @proxy: (out) (transfer full): the daemon's proxy
 *
 * Connects to the bus the options and environment choose and makes a proxy
 * for astra-alertd, which must own its name (a daemon the bus can activate
 * is started first).
 *
 * Returns: %ASTRA_CLI_EXIT_OK, or the exit status after printing why not
 */
int
astra_cli_connect (const AstraCliCommand *cmd, AstraDBusAlerts1 **proxy)
{
	g_autoptr(GDBusConnection) connection = NULL;
	g_autoptr(AstraDBusAlerts1) result = NULL;
	g_autoptr(GError) error_local = NULL;
	g_autofree char *owner = NULL;
	GBusType bus_type = G_BUS_TYPE_SYSTEM;

	if (!astra_cli_choose_bus (cmd, &bus_type))
		return ASTRA_CLI_EXIT_USAGE;
	/* the daemon's ASTRA_ERROR codes come back as themselves */
	(void) astra_error_quark ();

	connection = g_bus_get_sync (bus_type, NULL, &error_local);
	if (connection == NULL) {
		if (bus_type == G_BUS_TYPE_SESSION)
			astra_cli_error (cmd,
					 "cannot connect to the session bus: %s (is DBUS_SESSION_BUS_ADDRESS "
					 "set? or use --system)",
					 error_local->message);
		else
			astra_cli_error (cmd,
					 "cannot connect to the system bus: %s (is dbus running? or use "
					 "--session)",
					 error_local->message);
		return ASTRA_CLI_EXIT_NO_DAEMON;
	}
	/*
	 * without DO_NOT_AUTO_START the proxy asks the bus to start an activatable
	 * daemon; after that the name has an owner or the daemon is not there
	 */
	result =
	    astra_dbus_alerts1_proxy_new_sync (connection, G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES,
					       ASTRA_CLI_BUS_NAME, ASTRA_CLI_OBJECT_PATH, NULL, &error_local);
	if (result == NULL) {
		g_dbus_error_strip_remote_error (error_local);
		astra_cli_error (cmd, "cannot talk to astra-alertd on the %s bus: %s",
				 astra_cli_bus_type_name (bus_type), error_local->message);
		return ASTRA_CLI_EXIT_NO_DAEMON;
	}
	owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (result));
	if (owner == NULL)
		return astra_cli_not_running (cmd, bus_type);
	g_object_set_data (G_OBJECT (result), ASTRA_CLI_BUS_KEY, GINT_TO_POINTER (bus_type));
	*proxy = g_steal_pointer (&result);
	return ASTRA_CLI_EXIT_OK;
}

/**
 * astra_cli_call_failed:
 * @cmd: the command
 * @proxy: the proxy the call went through
 * @error: the call's error
 *
 * Prints what a failed call means: the daemon's own message (exit 1), or
 * that the daemon is not there or did not answer (exit 3).
 *
 * Returns: %ASTRA_CLI_EXIT_ERROR or %ASTRA_CLI_EXIT_NO_DAEMON
 */
int
astra_cli_call_failed (const AstraCliCommand *cmd, AstraDBusAlerts1 *proxy, GError *error)
{
	const char *bus = astra_cli_bus_name (proxy);
	gboolean system = g_strcmp0 (bus, "system") == 0;

	if (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
	    g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER))
		return astra_cli_not_running (cmd, system ? G_BUS_TYPE_SYSTEM : G_BUS_TYPE_SESSION);
	if (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_TIMEOUT) ||
	    g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_TIMED_OUT) ||
	    g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NO_REPLY) ||
	    g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)) {
		astra_cli_error (cmd, "astra-alertd did not answer on the %s bus in time (see %s)", bus,
				 system ? "'journalctl -u astra-alertd'" : "its log");
		return ASTRA_CLI_EXIT_NO_DAEMON;
	}
	if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CLOSED) ||
	    g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_DISCONNECTED) ||
	    g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NO_SERVER)) {
		astra_cli_error (cmd, "the connection to the %s bus was lost: %s", bus, error->message);
		return ASTRA_CLI_EXIT_NO_DAEMON;
	}
	if (error->domain == G_DBUS_ERROR && error->code >= G_DBUS_ERROR_SPAWN_EXEC_FAILED &&
	    error->code <= G_DBUS_ERROR_SPAWN_NO_MEMORY) {
		g_dbus_error_strip_remote_error (error);
		astra_cli_error (cmd, "astra-alertd could not be started on the %s bus: %s (see %s)", bus,
				 error->message, system ? "'journalctl -u astra-alertd'" : "its log");
		return ASTRA_CLI_EXIT_NO_DAEMON;
	}
	g_dbus_error_strip_remote_error (error);
	if (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD) ||
	    g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_INTERFACE) ||
	    g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_OBJECT)) {
		astra_cli_error (cmd, "%s (is astra-alertd older than astra-alertctl %s?)", error->message,
				 PACKAGE_VERSION);
		return ASTRA_CLI_EXIT_ERROR;
	}
	astra_cli_error (cmd, "%s", error->message);
	return ASTRA_CLI_EXIT_ERROR;
}
