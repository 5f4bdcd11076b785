/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The commands that ask the daemon to do something: reload, enable, test,
 * render, silence, redeliver, push and emit. On the system bus all but
 * render and silence list need root or the daemon's admin group.
 */

#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gio/gunixinputstream.h>

#include "astra.h"
#include "astra-cli.h"

#define ASTRA_CLI_DEFAULT_EVENT "alert.triggered"
/* a test delivery or a reload can take longer than the bus's 25 s default */
#define ASTRA_CLI_SLOW_TIMEOUT_MS 120000

#define ASTRA_CLI_ADMIN_NOTE                                                                                 \
	"On the system bus this needs root or membership of the daemon's admin group\n"                      \
	"([dbus] admin-group, 'astra-alerts' by default).\n"

/* what a change answered: with --json {KEY: VALUE} ({} if @key is NULL), else the line @format says */
static int
astra_cli_print_done (const AstraCliCommand *cmd, const char *key, GVariant *value, const char *format, ...)
    G_GNUC_PRINTF (4, 5);

static int
astra_cli_print_done (const AstraCliCommand *cmd, const char *key, GVariant *value, const char *format, ...)
{
	g_autoptr(GVariant) owned = value != NULL ? g_variant_ref_sink (value) : NULL;
	g_autoptr(GString) out = g_string_new (NULL);
	va_list args;

	if (astra_cli_get_global ()->json) {
		g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
		g_autoptr(GVariant) answer = NULL;

		if (key != NULL)
			g_variant_builder_add (&builder, "{sv}", key, owned);
		answer = g_variant_ref_sink (g_variant_builder_end (&builder));
		return astra_cli_print_json (cmd, answer);
	}
	va_start (args, format);
	g_string_append_vprintf (out, format, args);
	va_end (args);
	g_string_append_c (out, '\n');
	return astra_cli_print (cmd, out);
}

/* reads --file for a command; a usage error if it cannot be read */
static char *
astra_cli_read_file (const AstraCliCommand *cmd, const char *path, int *ret)
{
	g_autoptr(GError) error_local = NULL;
	char *contents = NULL;

	if (g_strcmp0 (path, "-") == 0) {
		g_autoptr(GInputStream) in = g_unix_input_stream_new (0, FALSE);
		g_autoptr(GOutputStream) mem = g_memory_output_stream_new_resizable ();
		/* NUL-terminated, so a file with a NUL byte is cut there (and refused by the daemon) */
		if (g_output_stream_splice (mem, in, G_OUTPUT_STREAM_SPLICE_NONE, NULL, &error_local) < 0 ||
		    !g_output_stream_write_all (mem, "", 1, NULL, NULL, &error_local) ||
		    !g_output_stream_close (mem, NULL, &error_local)) {
			*ret = astra_cli_usage (cmd, "--file -: cannot read stdin: %s", error_local->message);
			return NULL;
		}
		return g_memory_output_stream_steal_data (G_MEMORY_OUTPUT_STREAM (mem));
	}
	if (!g_file_get_contents (path, &contents, NULL, &error_local)) {
		*ret = astra_cli_usage (cmd, "--file: %s", error_local->message);
		return NULL;
	}
	return contents;
}

/* reload */

int
astra_cli_reload (const AstraCliCommand *cmd, int argc, char **argv)
{
	g_autoptr(GOptionContext) context = NULL;
	g_autoptr(AstraDBusAlerts1) proxy = NULL;
	g_autoptr(GError) error_local = NULL;
	guint generation = 0;
	int ret;

	context = astra_cli_option_context_new (
	    cmd,
	    "The new configuration is applied only if all of it is valid; else every\n"
	    "problem is printed as FILE:LINE: message and the running one stays.\n"
	    "With --json: {\"generation\": N}, the new configuration's generation.\n\n" ASTRA_CLI_ADMIN_NOTE);
	if (!astra_cli_parse_options (cmd, context, &argc, &argv))
		return ASTRA_CLI_EXIT_USAGE;
	ret = astra_cli_connect (cmd, &proxy);
	if (ret != ASTRA_CLI_EXIT_OK)
		return ret;
	g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (proxy), ASTRA_CLI_SLOW_TIMEOUT_MS);
	if (!astra_dbus_alerts1_call_reload_sync (proxy, &generation, NULL, &error_local))
		return astra_cli_call_failed (cmd, proxy, error_local);
	return astra_cli_print_done (cmd, "generation", g_variant_new_uint32 (generation),
				     "configuration reloaded: generation %u", generation);
}

/* enable */

int
astra_cli_enable (const AstraCliCommand *cmd, int argc, char **argv)
{
	g_autoptr(GOptionContext) context = NULL;
	g_autoptr(AstraDBusAlerts1) proxy = NULL;
	g_autoptr(GError) error_local = NULL;
	int ret;

	context = astra_cli_option_context_new (
	    cmd,
	    "Re-enables a webhook the daemon disabled after its receiver said it is\n"
	    "gone (410 Gone, or a destination's own answer); fix the URL first.\n\n" ASTRA_CLI_ADMIN_NOTE);
	if (!astra_cli_parse_args (cmd, context, &argc, &argv, 1, 1))
		return ASTRA_CLI_EXIT_USAGE;
	ret = astra_cli_connect (cmd, &proxy);
	if (ret != ASTRA_CLI_EXIT_OK)
		return ret;
	if (!astra_dbus_alerts1_call_enable_webhook_sync (proxy, argv[1], NULL, &error_local))
		return astra_cli_call_failed (cmd, proxy, error_local);
	return astra_cli_print_done (cmd, NULL, NULL, "webhook %s enabled", argv[1]);
}

/* test */

static void
astra_cli_append_block (GString *out, const char *text)
{
	g_autoptr(GString) safe = g_string_new (NULL);

	astra_cli_append_safe (safe, text, TRUE);
	g_strchomp (safe->str);
	safe->len = strlen (safe->str);
	g_string_replace (safe, "\n", "\n  ", 0);
	g_string_append_printf (out, "  %s\n", safe->str);
}

int
astra_cli_test (const AstraCliCommand *cmd, int argc, char **argv)
{
	g_autoptr(GOptionContext) context = NULL;
	g_autoptr(AstraDBusAlerts1) proxy = NULL;
	g_autoptr(GVariant) result = NULL;
	g_autoptr(GError) error_local = NULL;
	g_autoptr(GString) out = g_string_new (NULL);
	g_autoptr(AstraCliTable) table = astra_cli_table_new (NULL, NULL);
	g_autofree char *event_type = NULL;
	g_autofree char *status_text = NULL;
	g_autofree char *latency_text = NULL;
	const char *outcome;
	const char *excerpt;
	gboolean color = astra_cli_use_color ();
	gint64 status = 0;
	double latency = 0;
	int ret;
	const GOptionEntry entries[] = {
		{ "event", 'e', 0, G_OPTION_ARG_STRING, &event_type,
		  "The type of the sample event (default " ASTRA_CLI_DEFAULT_EVENT ")", "TYPE" },
		{ NULL },
	};

	context = astra_cli_option_context_new (
	    cmd, "Sends a sample event to WEBHOOK now, outside the queue (no retry), and shows\n"
		 "what happened: the outcome, the HTTP status, the latency and the start of the\n"
		 "receiver's answer. Exits 1 unless the receiver accepted it.\n"
		 "\n"
		 "Examples:\n"
		 "  astra-alertctl test ops-slack\n"
		 "  astra-alertctl test pagerduty --event alert.resolved\n"
		 "\n"
		 "With --json: the daemon's answer (outcome, status, latency_ms, reason,\n"
		 "response_excerpt, event_id) as one JSON object.\n\n" ASTRA_CLI_ADMIN_NOTE);
	g_option_context_add_main_entries (context, entries, NULL);
	if (!astra_cli_parse_args (cmd, context, &argc, &argv, 1, 1))
		return ASTRA_CLI_EXIT_USAGE;
	ret = astra_cli_connect (cmd, &proxy);
	if (ret != ASTRA_CLI_EXIT_OK)
		return ret;
	g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (proxy), ASTRA_CLI_SLOW_TIMEOUT_MS);
	if (!astra_dbus_alerts1_call_test_webhook_sync (
		proxy, argv[1], event_type != NULL ? event_type : ASTRA_CLI_DEFAULT_EVENT, &result, NULL,
		&error_local))
		return astra_cli_call_failed (cmd, proxy, error_local);

	outcome = astra_cli_lookup_string (result, "outcome");
	if (astra_cli_get_global ()->json) {
		ret = astra_cli_print_json (cmd, result);
	} else {
		if (astra_cli_lookup_int (result, "status", &status) && status != 0)
			status_text = g_strdup_printf ("%" G_GINT64_FORMAT, status);
		if (astra_cli_lookup_double (result, "latency_ms", &latency)) {
			g_autofree char *number = astra_cli_format_number (round (latency * 10) / 10);
			latency_text = g_strdup_printf ("%s ms", number);
		}
		astra_cli_table_add_row (table);
		astra_cli_table_add (table, NULL, "webhook");
		astra_cli_table_add (table, NULL, argv[1]);
		astra_cli_table_add_row (table);
		astra_cli_table_add (table, NULL, "outcome");
		astra_cli_table_add (table, astra_cli_state_color (outcome), outcome);
		astra_cli_table_add_row (table);
		astra_cli_table_add (table, NULL, "status");
		astra_cli_table_add (table, NULL, status_text != NULL ? status_text : "no HTTP answer");
		astra_cli_table_add_row (table);
		astra_cli_table_add (table, NULL, "latency");
		astra_cli_table_add (table, NULL, latency_text);
		if (astra_cli_lookup_string (result, "reason") != NULL &&
		    astra_cli_lookup_string (result, "reason")[0] != '\0') {
			astra_cli_table_add_row (table);
			astra_cli_table_add (table, NULL, "reason");
			astra_cli_table_add (table, NULL, astra_cli_lookup_string (result, "reason"));
		}
		astra_cli_table_add_row (table);
		astra_cli_table_add (table, NULL, "event");
		astra_cli_table_add (table, NULL, astra_cli_lookup_string (result, "event_id"));
		astra_cli_table_append (table, out, color);
		excerpt = astra_cli_lookup_string (result, "response_excerpt");
		if (excerpt != NULL && excerpt[0] != '\0') {
			g_string_append (out, "response:\n");
			astra_cli_append_block (out, excerpt);
		}
		ret = astra_cli_print (cmd, out);
	}
	if (ret != ASTRA_CLI_EXIT_OK)
		return ret;
	if (g_strcmp0 (outcome, "delivered") != 0) {
		astra_cli_error (cmd, "%s did not accept the test event (%s); see 'astra-alertctl webhooks'",
				 argv[1], outcome != NULL ? outcome : "no outcome");
		return ASTRA_CLI_EXIT_ERROR;
	}
	return ASTRA_CLI_EXIT_OK;
}

/* render */

static gint
astra_cli_compare_header (gconstpointer a, gconstpointer b)
{
	return g_ascii_strcasecmp (*(const char *const *) a, *(const char *const *) b);
}

int
astra_cli_render (const AstraCliCommand *cmd, int argc, char **argv)
{
	g_autoptr(GOptionContext) context = NULL;
	g_autoptr(AstraDBusAlerts1) proxy = NULL;
	g_autoptr(GVariant) request = NULL;
	g_autoptr(GVariant) headers = NULL;
	g_autoptr(GError) error_local = NULL;
	g_autoptr(GString) out = g_string_new (NULL);
	g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
	g_autofree char *event_type = NULL;
	g_autofree char *file = NULL;
	g_autofree char *event_json = NULL;
	const char *body;
	int ret = ASTRA_CLI_EXIT_OK;
	const GOptionEntry entries[] = {
		{ "event", 'e', 0, G_OPTION_ARG_STRING, &event_type,
		  "Render a sample event of TYPE (default " ASTRA_CLI_DEFAULT_EVENT ")", "TYPE" },
		{ "file", 'f', 0, G_OPTION_ARG_FILENAME, &file,
		  "Render the event in FILE ({\"event\",\"timestamp\",\"data\"}; - for stdin)", "FILE" },
		{ NULL },
	};

	context = astra_cli_option_context_new (
	    cmd, "A dry run: prints the request WEBHOOK would send (method, URL without its path,\n"
		 "headers, body) without sending it; secrets and signatures read \"[redacted]\".\n"
		 "\n"
		 "Examples:\n"
		 "  astra-alertctl render ops-slack --event agent.status_changed\n"
		 "  astra-alertctl render ops-slack --file data/events/alert.triggered.json\n"
		 "\n"
		 "With --json: the daemon's answer (method, url, headers, body, event_id) as one\n"
		 "JSON object.\n");
	g_option_context_add_main_entries (context, entries, NULL);
	if (!astra_cli_parse_args (cmd, context, &argc, &argv, 1, 1))
		return ASTRA_CLI_EXIT_USAGE;
	if (event_type != NULL && file != NULL)
		return astra_cli_usage (cmd, "use --event or --file, not both");
	if (file != NULL) {
		g_autoptr(JsonNode) root = NULL;

		event_json = astra_cli_read_file (cmd, file, &ret);
		if (event_json == NULL)
			return ret;
		/* the type as the event says; the daemon checks the rest */
		root = astra_json_parse (event_json, strlen (event_json), NULL);
		if (root != NULL && JSON_NODE_HOLDS_OBJECT (root)) {
			JsonNode *member = json_object_get_member (json_node_get_object (root), "event");
			if (member != NULL && JSON_NODE_HOLDS_VALUE (member) &&
			    json_node_get_value_type (member) == G_TYPE_STRING)
				event_type = g_strdup (json_node_get_string (member));
		}
	}
	ret = astra_cli_connect (cmd, &proxy);
	if (ret != ASTRA_CLI_EXIT_OK)
		return ret;
	if (!astra_dbus_alerts1_call_render_event_sync (
		proxy, argv[1],
		event_type != NULL ? event_type : (file != NULL ? "" : ASTRA_CLI_DEFAULT_EVENT),
		event_json != NULL ? event_json : "", &request, NULL, &error_local))
		return astra_cli_call_failed (cmd, proxy, error_local);
	if (astra_cli_get_global ()->json)
		return astra_cli_print_json (cmd, request);

	/* as on the wire: the request line, the headers (sorted by name), a blank line, the body */
	astra_cli_append_safe (out, astra_cli_lookup_string (request, "method"), FALSE);
	g_string_append_c (out, ' ');
	astra_cli_append_safe (out, astra_cli_lookup_string (request, "url"), FALSE);
	g_string_append_c (out, '\n');
	headers = g_variant_lookup_value (request, "headers", G_VARIANT_TYPE ("a{ss}"));
	if (headers != NULL) {
		GVariantIter iter;
		const char *name;
		const char *value;

		g_variant_iter_init (&iter, headers);
		while (g_variant_iter_next (&iter, "{&s&s}", &name, &value)) {
			g_autoptr(GString) line = g_string_new (NULL);
			astra_cli_append_safe (line, name, FALSE);
			g_string_append (line, ": ");
			astra_cli_append_safe (line, value, FALSE);
			g_ptr_array_add (lines, g_string_free (g_steal_pointer (&line), FALSE));
		}
		g_ptr_array_sort (lines, astra_cli_compare_header);
		for (guint i = 0; i < lines->len; i++)
			g_string_append_printf (out, "%s\n", (const char *) g_ptr_array_index (lines, i));
	}
	g_string_append_c (out, '\n');
	body = astra_cli_lookup_string (request, "body");
	if (body != NULL && body[0] != '\0') {
		astra_cli_append_safe (out, body, TRUE);
		if (out->str[out->len - 1] != '\n')
			g_string_append_c (out, '\n');
	}
	return astra_cli_print (cmd, out);
}

/* redeliver */

int
astra_cli_redeliver (const AstraCliCommand *cmd, int argc, char **argv)
{
	g_autoptr(GOptionContext) context = NULL;
	g_autoptr(AstraDBusAlerts1) proxy = NULL;
	g_autoptr(GError) error_local = NULL;
	gint64 id = 0;
	int ret;

	context = astra_cli_option_context_new (
	    cmd, "Sends the delivery ID (see 'astra-alertctl deliveries --state dead') again\n"
		 "now, with a fresh attempt count.\n\n" ASTRA_CLI_ADMIN_NOTE);
	if (!astra_cli_parse_args (cmd, context, &argc, &argv, 1, 1))
		return ASTRA_CLI_EXIT_USAGE;
	if (!g_ascii_string_to_signed (argv[1], 10, 1, G_MAXINT64, &id, NULL))
		return astra_cli_usage (cmd,
					"'%s' is not a delivery id; the ID column of 'astra-alertctl "
					"deliveries' has them",
					argv[1]);
	ret = astra_cli_connect (cmd, &proxy);
	if (ret != ASTRA_CLI_EXIT_OK)
		return ret;
	if (!astra_dbus_alerts1_call_redeliver_sync (proxy, id, NULL, &error_local))
		return astra_cli_call_failed (cmd, proxy, error_local);
	return astra_cli_print_done (cmd, NULL, NULL, "delivery %" G_GINT64_FORMAT " is being sent again",
				     id);
}

/* push */

int
astra_cli_push (const AstraCliCommand *cmd, int argc, char **argv)
{
	g_autoptr(GOptionContext) context = NULL;
	g_autoptr(AstraDBusAlerts1) proxy = NULL;
	g_autoptr(GError) error_local = NULL;
	g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GString) shown = g_string_new (NULL);
	g_auto(GVariantBuilder) labels = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a{ss}"));
	g_autofree char *value_text = NULL;
	char *end = NULL;
	double value;
	int ret;

	context = astra_cli_option_context_new (
	    cmd, "Adds one sample of METRIC, as if an agent had sent it in line protocol;\n"
		 "rules over METRIC see it at once.\n"
		 "\n"
		 "Examples:\n"
		 "  astra-alertctl push latency_ms 250 agent_id=edge-7 host=web-1\n"
		 "  astra-alertctl push temperature -4.5 agent_id=cold-room\n"
		 "\n" ASTRA_CLI_ADMIN_NOTE);
	/* so that "push temperature -4.5" is a value, not an option */
	g_option_context_set_ignore_unknown_options (context, TRUE);
	if (!astra_cli_parse_args (cmd, context, &argc, &argv, 2, G_MAXUINT))
		return ASTRA_CLI_EXIT_USAGE;
	value = g_ascii_strtod (argv[2], &end);
	if (argv[2][0] == '\0' || end == NULL || *end != '\0' || !isfinite (value) ||
	    g_ascii_isspace (argv[2][0]))
		return astra_cli_usage (cmd, "VALUE '%s' is not a number", argv[2]);
	for (int i = 3; i < argc; i++) {
		const char *eq = strchr (argv[i], '=');
		g_autofree char *name = NULL;

		if (eq == NULL || eq == argv[i])
			return astra_cli_usage (
			    cmd, "'%s' is not a label: use NAME=VALUE, e.g. agent_id=edge-7", argv[i]);
		name = g_strndup (argv[i], (gsize) (eq - argv[i]));
		if (g_hash_table_contains (seen, name))
			return astra_cli_usage (cmd, "label '%s' is given twice", name);
		g_variant_builder_add (&labels, "{ss}", name, eq + 1);
		g_string_append_printf (shown, "%s%s", shown->len > 0 ? "," : "", argv[i]);
		g_hash_table_add (seen, g_steal_pointer (&name));
	}
	ret = astra_cli_connect (cmd, &proxy);
	if (ret != ASTRA_CLI_EXIT_OK)
		return ret;
	if (!astra_dbus_alerts1_call_push_sample_sync (proxy, argv[1], value, g_variant_builder_end (&labels),
						       NULL, &error_local))
		return astra_cli_call_failed (cmd, proxy, error_local);
	value_text = astra_cli_format_number (value);
	if (shown->len > 0)
		return astra_cli_print_done (cmd, NULL, NULL, "pushed %s %s {%s}", argv[1], value_text,
					     shown->str);
	return astra_cli_print_done (cmd, NULL, NULL, "pushed %s %s", argv[1], value_text);
}

/* emit */

int
astra_cli_emit (const AstraCliCommand *cmd, int argc, char **argv)
{
	g_autoptr(GOptionContext) context = NULL;
	g_autoptr(AstraDBusAlerts1) proxy = NULL;
	g_autoptr(GError) error_local = NULL;
	g_autofree char *data = NULL;
	g_autofree char *file = NULL;
	g_autofree char *file_data = NULL;
	g_autofree char *event_id = NULL;
	int ret = ASTRA_CLI_EXIT_OK;
	const GOptionEntry entries[] = {
		{ "data", 'd', 0, G_OPTION_ARG_STRING, &data, "The event's data object, as JSON", "JSON" },
		{ "file", 'f', 0, G_OPTION_ARG_FILENAME, &file,
		  "Read the data object from FILE (- for stdin)", "FILE" },
		{ NULL },
	};

	context = astra_cli_option_context_new (
	    cmd, "Injects an event of TYPE, checked against its schema like any other, and routes\n"
		 "it to the webhooks that want it. Prints the new event's id.\n"
		 "\n"
		 "Example:\n"
		 "  astra-alertctl emit speedtest.completed --data "
		 "'{\"agent_id\":\"edge-7\",\"download_mbps\":93.5}'\n"
		 "\n"
		 "With --json: {\"event_id\": ID}.\n\n" ASTRA_CLI_ADMIN_NOTE);
	g_option_context_add_main_entries (context, entries, NULL);
	if (!astra_cli_parse_args (cmd, context, &argc, &argv, 1, 1))
		return ASTRA_CLI_EXIT_USAGE;
	if (data != NULL && file != NULL)
		return astra_cli_usage (cmd, "use --data or --file, not both");
	if (data == NULL && file == NULL)
		return astra_cli_usage (cmd, "give the event's data with --data JSON or --file FILE");
	if (file != NULL) {
		file_data = astra_cli_read_file (cmd, file, &ret);
		if (file_data == NULL)
			return ret;
	}
	ret = astra_cli_connect (cmd, &proxy);
	if (ret != ASTRA_CLI_EXIT_OK)
		return ret;
	if (!astra_dbus_alerts1_call_emit_event_sync (proxy, argv[1], data != NULL ? data : file_data,
						      &event_id, NULL, &error_local))
		return astra_cli_call_failed (cmd, proxy, error_local);
	return astra_cli_print_done (cmd, "event_id", g_variant_new_string (event_id), "%s", event_id);
}

/* silence add, list, remove */

static int
astra_cli_silence_add (const AstraCliCommand *cmd, int argc, char **argv)
{
	g_autoptr(GOptionContext) context = NULL;
	g_autoptr(AstraDBusAlerts1) proxy = NULL;
	g_autoptr(GError) error_local = NULL;
	g_autofree char *duration = NULL;
	g_autofree char *until = NULL;
	g_autofree char *comment = NULL;
	g_autofree char *author = NULL;
	g_autofree char *id = NULL;
	g_autofree const char **matchers = NULL;
	int ret;
	const GOptionEntry entries[] = {
		{ "for", 'd', 0, G_OPTION_ARG_STRING, &duration, "How long, e.g. 90m, 2h, 1d", "DURATION" },
		{ "until", 'u', 0, G_OPTION_ARG_STRING, &until,
		  "Until an RFC 3339 time, e.g. 2025-12-17T18:00:00+01:00", "TIME" },
		{ "comment", 'c', 0, G_OPTION_ARG_STRING, &comment, "Why (required)", "TEXT" },
		{ "author", 'a', 0, G_OPTION_ARG_STRING, &author, "Who (default: your user name)", "NAME" },
		{ NULL },
	};

	context = astra_cli_option_context_new (
	    cmd, "Holds back the deliveries of events that match every MATCHER until the silence\n"
		 "ends; they are recorded with the state \"silenced\". A matcher is NAME=VALUE,\n"
		 "NAME!=VALUE, with * wildcards and {a,b} alternatives, over an event's labels: its\n"
		 "type (as \"type\"), its severity, its data's string members (agent_id, rule, ...)\n"
		 "and an alert's labels. Prints the silence's id.\n"
		 "\n"
		 "Examples:\n"
		 "  astra-alertctl silence add agent_id=edge-7 --for 2h --comment 'disk swap'\n"
		 "  astra-alertctl silence add 'type=alert.*' 'severity!=critical' \\\n"
		 "      --until 2025-12-17T18:00:00+01:00 --comment 'maintenance window'\n"
		 "\n"
		 "With --json: {\"id\": ID}.\n\n" ASTRA_CLI_ADMIN_NOTE);
	g_option_context_add_main_entries (context, entries, NULL);
	if (!astra_cli_parse_args (cmd, context, &argc, &argv, 1, G_MAXUINT))
		return ASTRA_CLI_EXIT_USAGE;
	if (duration != NULL && until != NULL)
		return astra_cli_usage (cmd, "use --for or --until, not both");
	if (duration == NULL && until == NULL)
		return astra_cli_usage (cmd, "say how long with --for DURATION (e.g. 2h) or --until TIME");
	if (comment == NULL || comment[0] == '\0')
		return astra_cli_usage (cmd, "--comment is required: say why, for whoever finds the silence");
	ret = astra_cli_connect (cmd, &proxy);
	if (ret != ASTRA_CLI_EXIT_OK)
		return ret;
	matchers = g_new0 (const char *, argc);
	for (int i = 1; i < argc; i++)
		matchers[i - 1] = argv[i];
	if (!astra_dbus_alerts1_call_silence_sync (proxy, matchers, duration != NULL ? duration : until,
						   comment, author != NULL ? author : "", &id, NULL,
						   &error_local))
		return astra_cli_call_failed (cmd, proxy, error_local);
	return astra_cli_print_done (cmd, "id", g_variant_new_string (id), "%s", id);
}

static int
astra_cli_silence_remove (const AstraCliCommand *cmd, int argc, char **argv)
{
	g_autoptr(GOptionContext) context = NULL;
	g_autoptr(AstraDBusAlerts1) proxy = NULL;
	g_autoptr(GError) error_local = NULL;
	int ret;

	context = astra_cli_option_context_new (
	    cmd, "Ends the silence ID (see 'astra-alertctl silence list') now.\n\n" ASTRA_CLI_ADMIN_NOTE);
	if (!astra_cli_parse_args (cmd, context, &argc, &argv, 1, 1))
		return ASTRA_CLI_EXIT_USAGE;
	ret = astra_cli_connect (cmd, &proxy);
	if (ret != ASTRA_CLI_EXIT_OK)
		return ret;
	if (!astra_dbus_alerts1_call_unsilence_sync (proxy, argv[1], NULL, &error_local))
		return astra_cli_call_failed (cmd, proxy, error_local);
	return astra_cli_print_done (cmd, NULL, NULL, "silence %s removed", argv[1]);
}

static const AstraCliCommand astra_cli_silence_commands[] = {
	{ "silence add", "MATCHER...", "Silence the events that match every MATCHER for a while",
	  astra_cli_silence_add },
	{ "silence list", NULL, "List the active silences", astra_cli_silence_list },
	{ "silence remove", "ID", "End a silence now", astra_cli_silence_remove },
};

int
astra_cli_silence (const AstraCliCommand *cmd, int argc, char **argv)
{
	return astra_cli_run_subcommand (cmd, astra_cli_silence_commands,
					 G_N_ELEMENTS (astra_cli_silence_commands), argc, argv);
}
