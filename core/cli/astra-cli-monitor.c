/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * `astra-alertctl monitor`: one line per signal of the daemon as it comes,
 * like `journalctl -f`, until Ctrl-C or SIGTERM.
 */

#include "config.h"

#include <glib-unix.h>
#include <string.h>

#include "astra.h"
#include "astra-cli.h"

typedef struct {
	const AstraCliCommand *cmd;
	GMainLoop *loop;
	gboolean color;
	gboolean owner_lost;
	int exit_status;
} AstraCliMonitor;

static void
astra_cli_monitor_write (AstraCliMonitor *self, GString *line)
{
	if (self->exit_status != ASTRA_CLI_EXIT_OK)
		return;
	self->exit_status = astra_cli_print (self->cmd, line);
	/* e.g. `monitor | head -n 3`: the reader is gone, so is the point of monitoring */
	if (self->exit_status != ASTRA_CLI_EXIT_OK)
		g_main_loop_quit (self->loop);
}

/* {"signal": NAME, KEY: VALUE...} on one line */
static void
astra_cli_monitor_json (AstraCliMonitor *self, const char *signal_name, ...)
{
	g_autoptr(JsonObject) object = json_object_new ();
	g_autoptr(JsonNode) node = NULL;
	g_autoptr(GString) line = g_string_new (NULL);
	g_autoptr(GError) error_local = NULL;
	va_list args;

	json_object_set_string_member (object, "signal", signal_name);
	va_start (args, signal_name);
	for (const char *key = va_arg (args, const char *); key != NULL; key = va_arg (args, const char *))
		json_object_set_member (object, key, astra_cli_variant_to_json (va_arg (args, GVariant *)));
	va_end (args);
	node = json_node_init_object (json_node_alloc (), object);
	if (!astra_json_append (line, node, &error_local)) {
		astra_cli_error (self->cmd, "cannot write a %s signal as JSON: %s", signal_name,
				 error_local->message);
		return;
	}
	g_string_append_c (line, '\n');
	astra_cli_monitor_write (self, line);
}

static GString *
astra_cli_monitor_line_new (AstraCliMonitor *self, const char *kind)
{
	g_autoptr(GDateTime) now = g_date_time_new_now_local ();
	g_autofree char *time_str = g_date_time_format (now, "%Y-%m-%dT%H:%M:%S%:z");
	GString *line = g_string_new (NULL);

	if (self->color)
		g_string_append_printf (line,
					ASTRA_CLI_COLOR_DIM "%s" ASTRA_CLI_COLOR_RESET
							    " " ASTRA_CLI_COLOR_BOLD
							    "%s" ASTRA_CLI_COLOR_RESET,
					time_str, kind);
	else
		g_string_append_printf (line, "%s %s", time_str, kind);
	return line;
}

static void
astra_cli_monitor_word (AstraCliMonitor *self, GString *line, const char *color, const char *text)
{
	if (text == NULL || text[0] == '\0')
		return;
	g_string_append_c (line, ' ');
	if (self->color && color != NULL)
		g_string_append (line, color);
	astra_cli_append_safe (line, text, FALSE);
	if (self->color && color != NULL)
		g_string_append (line, ASTRA_CLI_COLOR_RESET);
}

/* " KEY=VALUE" for a string member, if it is there and not empty */
static void
astra_cli_monitor_string (AstraCliMonitor *self, GString *line, GVariant *dict, const char *key)
{
	const char *value = astra_cli_lookup_string (dict, key);

	if (value == NULL || value[0] == '\0')
		return;
	g_string_append_printf (line, " %s=", key);
	astra_cli_append_safe (line, value, FALSE);
}

/* " KEY=N" for an integer member; a status of 0 means no HTTP answer, shown by the reason */
static void
astra_cli_monitor_int (AstraCliMonitor *self, GString *line, GVariant *dict, const char *key)
{
	gint64 value = 0;

	if (astra_cli_lookup_int (dict, key, &value) && (value != 0 || g_strcmp0 (key, "status") != 0))
		g_string_append_printf (line, " %s=%" G_GINT64_FORMAT, key, value);
}

static void
astra_cli_monitor_event_emitted_cb (AstraDBusAlerts1 *proxy,
				    const char *event_type,
				    const char *event_id,
				    GVariant *summary,
				    gpointer user_data)
{
	AstraCliMonitor *self = user_data;
	g_autoptr(GString) line = NULL;
	gboolean silenced = FALSE;

	if (astra_cli_get_global ()->json) {
		g_autoptr(GVariant) type_v = g_variant_ref_sink (g_variant_new_string (event_type));
		g_autoptr(GVariant) id_v = g_variant_ref_sink (g_variant_new_string (event_id));
		astra_cli_monitor_json (self, "EventEmitted", "event_type", type_v, "event_id", id_v,
					"summary", summary, NULL);
		return;
	}
	line = astra_cli_monitor_line_new (self, "event");
	astra_cli_monitor_word (self, line, NULL, event_type);
	astra_cli_monitor_word (self, line, NULL, event_id);
	astra_cli_monitor_string (self, line, summary, "severity");
	astra_cli_monitor_string (self, line, summary, "agent_id");
	astra_cli_monitor_string (self, line, summary, "rule");
	astra_cli_monitor_int (self, line, summary, "webhooks");
	if (astra_cli_lookup_bool (summary, "silenced", &silenced) && silenced)
		astra_cli_monitor_word (self, line, ASTRA_CLI_COLOR_AMBER, "silenced");
	g_string_append_c (line, '\n');
	astra_cli_monitor_write (self, line);
}

static void
astra_cli_monitor_alert_changed_cb (AstraDBusAlerts1 *proxy, GVariant *alert, gpointer user_data)
{
	AstraCliMonitor *self = user_data;
	g_autoptr(GString) line = NULL;
	g_autofree char *labels = NULL;
	const char *state = astra_cli_lookup_string (alert, "state");
	double value = 0;

	if (astra_cli_get_global ()->json) {
		astra_cli_monitor_json (self, "AlertChanged", "alert", alert, NULL);
		return;
	}
	line = astra_cli_monitor_line_new (self, "alert");
	astra_cli_monitor_word (self, line, NULL, astra_cli_lookup_string (alert, "rule"));
	astra_cli_monitor_word (self, line, astra_cli_state_color (state), state);
	astra_cli_monitor_string (self, line, alert, "severity");
	if (astra_cli_lookup_double (alert, "value", &value)) {
		g_autofree char *text = astra_cli_format_number (value);
		g_string_append_printf (line, " value=%s", text);
	}
	labels = astra_cli_lookup_joined (alert, "labels", ",");
	if (labels[0] != '\0') {
		g_string_append (line, " {");
		astra_cli_append_safe (line, labels, FALSE);
		g_string_append_c (line, '}');
	}
	astra_cli_monitor_string (self, line, alert, "event_id");
	g_string_append_c (line, '\n');
	astra_cli_monitor_write (self, line);
}

static void
astra_cli_monitor_delivery_failed_cb (AstraDBusAlerts1 *proxy, GVariant *delivery, gpointer user_data)
{
	AstraCliMonitor *self = user_data;
	g_autoptr(GString) line = NULL;
	g_autofree char *id = NULL;
	const char *reason = astra_cli_lookup_string (delivery, "reason");
	gboolean final = FALSE;

	if (astra_cli_get_global ()->json) {
		astra_cli_monitor_json (self, "DeliveryFailed", "delivery", delivery, NULL);
		return;
	}
	line = astra_cli_monitor_line_new (self, "delivery");
	id = astra_cli_lookup_int_string (delivery, "id");
	astra_cli_monitor_word (self, line, NULL, id);
	astra_cli_monitor_word (self, line, ASTRA_CLI_COLOR_RED, "failed");
	astra_cli_monitor_string (self, line, delivery, "webhook");
	astra_cli_monitor_string (self, line, delivery, "event_type");
	astra_cli_monitor_string (self, line, delivery, "event_id");
	astra_cli_monitor_int (self, line, delivery, "attempt");
	astra_cli_monitor_int (self, line, delivery, "status");
	if (astra_cli_lookup_bool (delivery, "final", &final) && final)
		astra_cli_monitor_word (self, line, ASTRA_CLI_COLOR_RED, "final");
	if (reason != NULL && reason[0] != '\0') {
		g_string_append (line, ": ");
		astra_cli_append_safe (line, reason, FALSE);
	}
	g_string_append_c (line, '\n');
	astra_cli_monitor_write (self, line);
}

static void
astra_cli_monitor_subscribed_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
	AstraCliMonitor *self = user_data;
	g_autoptr(GError) error = NULL;

	if (!astra_dbus_alerts1_call_subscribe_finish (ASTRA_DBUS_ALERTS1 (source), result, &error))
		astra_cli_error (self->cmd, "cannot subscribe to events and failed deliveries: %s", error->message);
}

static void
astra_cli_monitor_owner_cb (GObject *object, GParamSpec *pspec, gpointer user_data)
{
	AstraCliMonitor *self = user_data;
	g_autofree char *owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (object));

	/* the proxy follows the name: a restarted daemon's signals arrive too */
	if (owner == NULL && !self->owner_lost) {
		self->owner_lost = TRUE;
		astra_cli_error (self->cmd, "astra-alertd left the bus; waiting for it to come back");
	} else if (owner != NULL && self->owner_lost) {
		self->owner_lost = FALSE;
		astra_cli_error (self->cmd, "astra-alertd is back");
		/* a new daemon knows no subscribers */
		astra_dbus_alerts1_call_subscribe (ASTRA_DBUS_ALERTS1 (object), NULL, astra_cli_monitor_subscribed_cb, self);
	}
}

static gboolean
astra_cli_monitor_stop_cb (gpointer user_data)
{
	AstraCliMonitor *self = user_data;

	g_main_loop_quit (self->loop);
	return G_SOURCE_CONTINUE;
}

/**
 * astra_cli_monitor:
 * @cmd: the `monitor` command
 * @argc: the argument count
 * @argv: the arguments, argv[0] being the command
 *
 * Prints the daemon's EventEmitted, AlertChanged and DeliveryFailed signals
 * until SIGINT or SIGTERM.
 *
 * Returns: an #AstraCliExit
 */
int
astra_cli_monitor (const AstraCliCommand *cmd, int argc, char **argv)
{
	g_autoptr(GOptionContext) context = NULL;
	g_autoptr(AstraDBusAlerts1) proxy = NULL;
	g_autoptr(GMainLoop) loop = NULL;
	AstraCliMonitor self = { .cmd = cmd, .exit_status = ASTRA_CLI_EXIT_OK };
	g_autoptr(GError) error = NULL;
	guint sigint_id;
	guint sigterm_id;
	int ret;

	context = astra_cli_option_context_new (
	    cmd,
	    "Prints one line per routed event, alert that fires or resolves, and failed\n"
	    "delivery attempt, as they happen, until Ctrl-C. If the daemon restarts, monitoring\n"
	    "goes on with the new one.\n"
	    "\n"
	    "With --json each line is a JSON object: {\"signal\": \"EventEmitted\", \"event_type\",\n"
	    "\"event_id\", \"summary\"}, {\"signal\": \"AlertChanged\", \"alert\"} or\n"
	    "{\"signal\": \"DeliveryFailed\", \"delivery\"}, the payloads as the daemon sent them.\n"
	    "\n"
	    "Example:\n"
	    "  astra-alertctl monitor --json | jq -r 'select(.signal == \"AlertChanged\") | .alert.rule'\n");
	if (!astra_cli_parse_options (cmd, context, &argc, &argv))
		return ASTRA_CLI_EXIT_USAGE;
	ret = astra_cli_connect (cmd, &proxy);
	if (ret != ASTRA_CLI_EXIT_OK)
		return ret;

	loop = g_main_loop_new (NULL, FALSE);
	self.loop = loop;
	self.color = !astra_cli_get_global ()->json && astra_cli_use_color ();
	g_signal_connect (proxy, "event-emitted", G_CALLBACK (astra_cli_monitor_event_emitted_cb), &self);
	g_signal_connect (proxy, "alert-changed", G_CALLBACK (astra_cli_monitor_alert_changed_cb), &self);
	g_signal_connect (proxy, "delivery-failed", G_CALLBACK (astra_cli_monitor_delivery_failed_cb), &self);
	g_signal_connect (proxy, "notify::g-name-owner", G_CALLBACK (astra_cli_monitor_owner_cb), &self);
	/* the daemon sends events and failed deliveries only to subscribers; it forgets us when we go */
	if (!astra_dbus_alerts1_call_subscribe_sync (proxy, NULL, &error)) {
		g_signal_handlers_disconnect_by_data (proxy, &self);
		return astra_cli_call_failed (cmd, proxy, error);
	}
	sigint_id = g_unix_signal_add (SIGINT, astra_cli_monitor_stop_cb, &self);
	sigterm_id = g_unix_signal_add (SIGTERM, astra_cli_monitor_stop_cb, &self);

	/* the proxy subscribed before it asked for the name's owner: nothing is missed from here */
	g_printerr ("monitoring astra-alertd on the %s bus; press Ctrl-C to stop\n",
		    astra_cli_bus_name (proxy));
	g_main_loop_run (loop);

	g_source_remove (sigint_id);
	g_source_remove (sigterm_id);
	g_signal_handlers_disconnect_by_data (proxy, &self);
	return self.exit_status;
}
