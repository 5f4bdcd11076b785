/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The read-only commands: status, plugins, webhooks, rules, alerts, agents,
 * deliveries and silence list, each one call of the generated proxy shown as
 * a table or, with --json, as the daemon's answer in JSON.
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "astra.h"
#include "astra-cli.h"

typedef gboolean (*AstraCliListCall) (AstraDBusAlerts1 *proxy,
				      GVariant **out,
				      GCancellable *cancellable,
				      GError **error);
/* appends the human form of the answer to @out */
typedef void (*AstraCliListFormat) (GVariant *answer, GString *out, gboolean color, gint64 now);

#define ASTRA_CLI_JSON_NOTE                                                                                  \
	"With --json the daemon's answer is printed as one JSON array of objects, with every\n"              \
	"field it sent (times as microseconds since the epoch); fields may be added later.\n"

static int
astra_cli_list (const AstraCliCommand *cmd,
		int argc,
		char **argv,
		const char *description,
		AstraCliListCall call,
		AstraCliListFormat format)
{
	g_autoptr(GOptionContext) context = astra_cli_option_context_new (cmd, description);
	g_autoptr(AstraDBusAlerts1) proxy = NULL;
	g_autoptr(GVariant) answer = NULL;
	g_autoptr(GError) error_local = NULL;
	g_autoptr(GString) out = g_string_new (NULL);
	int ret;

	if (!astra_cli_parse_options (cmd, context, &argc, &argv))
		return ASTRA_CLI_EXIT_USAGE;
	ret = astra_cli_connect (cmd, &proxy);
	if (ret != ASTRA_CLI_EXIT_OK)
		return ret;
	if (!call (proxy, &answer, NULL, &error_local))
		return astra_cli_call_failed (cmd, proxy, error_local);
	if (astra_cli_get_global ()->json)
		return astra_cli_print_json (cmd, answer);
	format (answer, out, astra_cli_use_color (), g_get_real_time ());
	return astra_cli_print (cmd, out);
}

static void
astra_cli_add_time (AstraCliTable *table, GVariant *dict, const char *key, gint64 now)
{
	gint64 usec = 0;
	g_autofree char *text = NULL;

	if (!astra_cli_lookup_int (dict, key, &usec))
		usec = 0;
	text = astra_cli_format_time (usec, now);
	astra_cli_table_add (table, NULL, text);
}

static void
astra_cli_add_int (AstraCliTable *table, GVariant *dict, const char *key, const char *color_if_nonzero)
{
	gint64 value = 0;

	if (!astra_cli_lookup_int (dict, key, &value)) {
		astra_cli_table_add (table, NULL, "-");
		return;
	}
	astra_cli_table_add_printf (table, value != 0 ? color_if_nonzero : NULL, "%" G_GINT64_FORMAT, value);
}

static void
astra_cli_add_string (AstraCliTable *table, GVariant *dict, const char *key)
{
	astra_cli_table_add (table, NULL, astra_cli_lookup_string (dict, key));
}

static void
astra_cli_add_state (AstraCliTable *table, GVariant *dict, const char *key)
{
	const char *state = astra_cli_lookup_string (dict, key);
	astra_cli_table_add (table, astra_cli_state_color (state), state);
}

static void
astra_cli_add_joined (AstraCliTable *table, GVariant *dict, const char *key, const char *separator)
{
	g_autofree char *text = astra_cli_lookup_joined (dict, key, separator);
	astra_cli_table_add (table, NULL, text);
}

/* seconds as "1h30m"; "-" for none or 0 */
static void
astra_cli_add_duration (AstraCliTable *table, GVariant *dict, const char *key)
{
	gint64 seconds = 0;
	g_autofree char *text = NULL;

	if (astra_cli_lookup_int (dict, key, &seconds) && seconds > 0)
		text = astra_cli_format_duration ((guint64) seconds);
	astra_cli_table_add (table, NULL, text);
}

/* an HTTP status, red unless 2xx; "-" for none (0: no answer) */
static void
astra_cli_add_http_status (AstraCliTable *table, GVariant *dict, const char *key)
{
	gint64 status = 0;

	if (!astra_cli_lookup_int (dict, key, &status) || status == 0) {
		astra_cli_table_add (table, NULL, "-");
		return;
	}
	astra_cli_table_add_printf (table, status >= 200 && status < 300 ? NULL : ASTRA_CLI_COLOR_RED,
				    "%" G_GINT64_FORMAT, status);
}

/* status */

static gint64
astra_cli_status_int (GVariant *status, const char *key)
{
	gint64 value = 0;
	return astra_cli_lookup_int (status, key, &value) ? value : 0;
}

static void
astra_cli_status_row (AstraCliTable *table, const char *name, const char *color, const char *value)
{
	if (value == NULL || value[0] == '\0')
		return;
	astra_cli_table_add_row (table);
	astra_cli_table_add (table, NULL, name);
	astra_cli_table_add (table, color, value);
}

static void
astra_cli_status_format (GVariant *status, GString *out, gboolean color, gint64 now)
{
	g_autoptr(AstraCliTable) table = astra_cli_table_new (NULL, NULL);
	g_autofree char *started = NULL;
	g_autofree char *config = NULL;
	g_autofree char *agents = NULL;
	g_autofree char *alerts = NULL;
	g_autofree char *deliveries = NULL;
	g_autofree char *rules = NULL;
	g_autofree char *webhooks = NULL;
	g_autofree char *silences = NULL;
	const char *config_path = astra_cli_lookup_string (status, "config_path");
	gint64 started_at = 0;
	gint64 generation = 0;
	gint64 value = 0;

	astra_cli_status_row (table, "version", NULL, astra_cli_lookup_string (status, "version"));
	if (astra_cli_lookup_int (status, "started_at", &started_at)) {
		started = astra_cli_format_time (started_at, now);
		astra_cli_status_row (table, "started", NULL, started);
	}
	if (config_path != NULL && astra_cli_lookup_int (status, "config_generation", &generation))
		config = g_strdup_printf ("%s (generation %" G_GINT64_FORMAT ")", config_path, generation);
	astra_cli_status_row (table, "config", NULL, config != NULL ? config : config_path);
	astra_cli_status_row (table, "listen", NULL, astra_cli_lookup_string (status, "listen"));
	astra_cli_status_row (table, "state", NULL, astra_cli_lookup_string (status, "state_dir"));
	if (astra_cli_lookup_int (status, "rules", &value))
		rules = g_strdup_printf ("%" G_GINT64_FORMAT, value);
	astra_cli_status_row (table, "rules", NULL, rules);
	if (astra_cli_lookup_int (status, "webhooks", &value))
		webhooks = g_strdup_printf ("%" G_GINT64_FORMAT, value);
	astra_cli_status_row (table, "webhooks", NULL, webhooks);
	if (astra_cli_lookup_int (status, "silences", &value))
		silences = g_strdup_printf ("%" G_GINT64_FORMAT, value);
	if (astra_cli_lookup_int (status, "agents", &value))
		agents = g_strdup_printf ("%" G_GINT64_FORMAT " (%" G_GINT64_FORMAT " offline)", value,
					  astra_cli_status_int (status, "agents_offline"));
	astra_cli_status_row (
	    table, "agents",
	    astra_cli_status_int (status, "agents_offline") > 0 ? ASTRA_CLI_COLOR_AMBER : NULL, agents);
	if (astra_cli_lookup_int (status, "alerts_firing", &value))
		alerts = g_strdup_printf ("%" G_GINT64_FORMAT " firing, %" G_GINT64_FORMAT " pending", value,
					  astra_cli_status_int (status, "alerts_pending"));
	astra_cli_status_row (table, "alerts", value > 0 ? ASTRA_CLI_COLOR_RED : NULL, alerts);
	astra_cli_status_row (table, "silences", NULL, silences);
	if (astra_cli_lookup_int (status, "deliveries_pending", &value))
		deliveries = g_strdup_printf ("%" G_GINT64_FORMAT " pending, %" G_GINT64_FORMAT
					      " dead, %" G_GINT64_FORMAT " in flight",
					      value, astra_cli_status_int (status, "deliveries_dead"),
					      astra_cli_status_int (status, "in_flight"));
	astra_cli_status_row (
	    table, "deliveries",
	    astra_cli_status_int (status, "deliveries_dead") > 0 ? ASTRA_CLI_COLOR_RED : NULL, deliveries);
	astra_cli_table_append (table, out, color);
}

int
astra_cli_status (const AstraCliCommand *cmd, int argc, char **argv)
{
	return astra_cli_list (cmd, argc, argv,
			       "With --json the daemon's answer is printed as one JSON object with every\n"
			       "field it sent (times as microseconds since the epoch).\n",
			       astra_dbus_alerts1_call_get_status_sync, astra_cli_status_format);
}

/* plugins */

static void
astra_cli_plugins_format (GVariant *plugins, GString *out, gboolean color, gint64 now)
{
	g_autoptr(AstraCliTable) table =
		       astra_cli_table_new ("NAME", "STATE", "ABI", "FILE", "DETAILS", NULL);
	gsize n = g_variant_n_children (plugins);

	if (n == 0) {
		g_string_append (out, "no plugins found\n");
		return;
	}
	astra_cli_table_set_right (table, 2);
	for (gsize i = 0; i < n; i++) {
		g_autoptr(GVariant) p = g_variant_get_child_value (plugins, i);
		const char *error = astra_cli_lookup_string (p, "error");

		astra_cli_table_add_row (table);
		astra_cli_add_string (table, p, "name");
		astra_cli_add_state (table, p, "state");
		astra_cli_add_int (table, p, "abi", NULL);
		astra_cli_add_string (table, p, "file");
		if (error != NULL && error[0] != '\0')
			astra_cli_table_add (table, ASTRA_CLI_COLOR_RED, error);
		else
			astra_cli_add_string (table, p, "description");
	}
	astra_cli_table_append (table, out, color);
}

int
astra_cli_plugins (const AstraCliCommand *cmd, int argc, char **argv)
{
	return astra_cli_list (
	    cmd, argc, argv,
	    "DETAILS is why a refused plugin was refused, else its description.\n\n" ASTRA_CLI_JSON_NOTE,
	    astra_dbus_alerts1_call_list_plugins_sync, astra_cli_plugins_format);
}

/* webhooks */

static void
astra_cli_webhooks_format (GVariant *webhooks, GString *out, gboolean color, gint64 now)
{
	g_autoptr(AstraCliTable) table =
		       astra_cli_table_new ("NAME", "PLUGIN", "STATE", "CIRCUIT", "PENDING", "DEAD",
					    "SENDING", "LAST", "MIN SEVERITY", "EVENTS", NULL);
	g_autoptr(GString) notes = g_string_new (NULL);
	gsize n = g_variant_n_children (webhooks);

	if (n == 0) {
		g_string_append (out, "no webhooks configured\n");
		return;
	}
	for (guint c = 4; c <= 7; c++)
		astra_cli_table_set_right (table, c);
	for (gsize i = 0; i < n; i++) {
		g_autoptr(GVariant) w = g_variant_get_child_value (webhooks, i);
		const char *name = astra_cli_lookup_string (w, "name");
		const char *reason = astra_cli_lookup_string (w, "disabled_reason");
		const char *last_error = astra_cli_lookup_string (w, "last_error");
		gboolean enabled = TRUE;

		astra_cli_lookup_bool (w, "enabled", &enabled);
		astra_cli_table_add_row (table);
		astra_cli_table_add (table, NULL, name);
		astra_cli_add_string (table, w, "plugin");
		astra_cli_table_add (table, enabled ? ASTRA_CLI_COLOR_GREEN : ASTRA_CLI_COLOR_RED,
				     enabled ? "enabled" : "disabled");
		astra_cli_add_state (table, w, "circuit");
		astra_cli_add_int (table, w, "pending", NULL);
		astra_cli_add_int (table, w, "dead", ASTRA_CLI_COLOR_RED);
		astra_cli_add_int (table, w, "in_flight", NULL);
		astra_cli_add_http_status (table, w, "last_status");
		astra_cli_add_string (table, w, "min_severity");
		astra_cli_add_joined (table, w, "events", ",");

		/* what a table cell cannot hold, under it */
		if (!enabled) {
			g_string_append (notes, "\n");
			astra_cli_append_safe (notes, name, FALSE);
			g_string_append (notes, " is disabled");
			if (reason != NULL && reason[0] != '\0') {
				g_string_append (notes, ": ");
				astra_cli_append_safe (notes, reason, FALSE);
			}
			g_string_append (notes, "; once fixed, run 'astra-alertctl enable ");
			astra_cli_append_safe (notes, name, FALSE);
			g_string_append (notes, "'");
		}
		if (last_error != NULL && last_error[0] != '\0') {
			g_string_append (notes, "\n");
			astra_cli_append_safe (notes, name, FALSE);
			g_string_append (notes, ": last error: ");
			astra_cli_append_safe (notes, last_error, FALSE);
		}
	}
	astra_cli_table_append (table, out, color);
	if (notes->len > 0) {
		g_string_append (out, notes->str);
		g_string_append_c (out, '\n');
	}
}

int
astra_cli_webhooks (const AstraCliCommand *cmd, int argc, char **argv)
{
	return astra_cli_list (
	    cmd, argc, argv,
	    "PENDING, DEAD and SENDING count the webhook's deliveries waiting for an attempt,\n"
	    "given up on (see 'astra-alertctl deliveries --state dead') and being sent; LAST is\n"
	    "the HTTP status of the last attempt. URLs and secrets are never shown.\n\n" ASTRA_CLI_JSON_NOTE,
	    astra_dbus_alerts1_call_list_webhooks_sync, astra_cli_webhooks_format);
}

/* rules */

static void
astra_cli_rules_format (GVariant *rules, GString *out, gboolean color, gint64 now)
{
	g_autoptr(AstraCliTable) table = astra_cli_table_new ("NAME", "SEVERITY", "METRIC", "CONDITION",
							       "FOR", "WEBHOOKS", "FILE", NULL);
	gsize n = g_variant_n_children (rules);

	if (n == 0) {
		g_string_append (out, "no rules loaded\n");
		return;
	}
	for (gsize i = 0; i < n; i++) {
		g_autoptr(GVariant) r = g_variant_get_child_value (rules, i);

		astra_cli_table_add_row (table);
		astra_cli_add_string (table, r, "name");
		astra_cli_add_state (table, r, "severity");
		astra_cli_add_string (table, r, "metric");
		astra_cli_add_string (table, r, "expression");
		astra_cli_add_duration (table, r, "for");
		astra_cli_add_joined (table, r, "webhooks", ",");
		astra_cli_add_string (table, r, "file");
	}
	astra_cli_table_append (table, out, color);
}

int
astra_cli_rules (const AstraCliCommand *cmd, int argc, char **argv)
{
	return astra_cli_list (
	    cmd, argc, argv,
	    "FOR is how long the condition must hold before the alert fires.\n\n" ASTRA_CLI_JSON_NOTE,
	    astra_dbus_alerts1_call_list_rules_sync, astra_cli_rules_format);
}

/* alerts */

static void
astra_cli_alerts_format (GVariant *alerts, GString *out, gboolean color, gint64 now)
{
	g_autoptr(AstraCliTable) table = astra_cli_table_new ("RULE", "STATE", "SEVERITY", "VALUE", "SINCE",
							       "LABELS", "SUMMARY", NULL);
	gsize n = g_variant_n_children (alerts);

	if (n == 0) {
		g_string_append (out, "no alerts pending or firing\n");
		return;
	}
	astra_cli_table_set_right (table, 3);
	for (gsize i = 0; i < n; i++) {
		g_autoptr(GVariant) a = g_variant_get_child_value (alerts, i);
		double value = 0;

		astra_cli_table_add_row (table);
		astra_cli_add_string (table, a, "rule");
		astra_cli_add_state (table, a, "state");
		astra_cli_add_state (table, a, "severity");
		if (astra_cli_lookup_double (a, "value", &value)) {
			g_autofree char *text = astra_cli_format_number (value);
			astra_cli_table_add (table, NULL, text);
		} else {
			astra_cli_table_add (table, NULL, "-");
		}
		astra_cli_add_time (table, a, "since", now);
		astra_cli_add_joined (table, a, "labels", ",");
		astra_cli_add_string (table, a, "summary");
	}
	astra_cli_table_append (table, out, color);
}

int
astra_cli_alerts (const AstraCliCommand *cmd, int argc, char **argv)
{
	return astra_cli_list (cmd, argc, argv, ASTRA_CLI_JSON_NOTE, astra_dbus_alerts1_call_list_alerts_sync,
			       astra_cli_alerts_format);
}

/* agents */

static void
astra_cli_agents_format (GVariant *agents, GString *out, gboolean color, gint64 now)
{
	g_autoptr(AstraCliTable) table = astra_cli_table_new ("AGENT", "HOSTNAME", "TENANT", "STATUS",
							       "LAST SEEN", "INTERVAL", "REGISTERED", NULL);
	gsize n = g_variant_n_children (agents);

	if (n == 0) {
		g_string_append (out, "no agents registered\n");
		return;
	}
	astra_cli_table_set_right (table, 5);
	for (gsize i = 0; i < n; i++) {
		g_autoptr(GVariant) a = g_variant_get_child_value (agents, i);

		astra_cli_table_add_row (table);
		astra_cli_add_string (table, a, "agent_id");
		astra_cli_add_string (table, a, "hostname");
		astra_cli_add_string (table, a, "tenant");
		astra_cli_add_state (table, a, "status");
		astra_cli_add_time (table, a, "last_seen", now);
		astra_cli_add_duration (table, a, "interval");
		astra_cli_add_time (table, a, "registered_at", now);
	}
	astra_cli_table_append (table, out, color);
}

int
astra_cli_agents (const AstraCliCommand *cmd, int argc, char **argv)
{
	return astra_cli_list (cmd, argc, argv, ASTRA_CLI_JSON_NOTE, astra_dbus_alerts1_call_list_agents_sync,
			       astra_cli_agents_format);
}

/* deliveries */

static void
astra_cli_deliveries_format (
    GVariant *deliveries, GString *out, gboolean color, gint64 now, gboolean filtered)
{
	g_autoptr(AstraCliTable) table =
		       astra_cli_table_new ("ID", "WEBHOOK", "EVENT", "STATE", "ATTEMPTS", "STATUS",
					    "LATENCY", "CREATED", "NEXT", "REASON", NULL);
	gsize n = g_variant_n_children (deliveries);

	if (n == 0) {
		g_string_append (out, filtered ? "no deliveries match\n" : "no deliveries\n");
		return;
	}
	astra_cli_table_set_right (table, 0);
	astra_cli_table_set_right (table, 4);
	astra_cli_table_set_right (table, 5);
	astra_cli_table_set_right (table, 6);
	for (gsize i = 0; i < n; i++) {
		g_autoptr(GVariant) d = g_variant_get_child_value (deliveries, i);
		gint64 attempts = 0;
		double latency = 0;

		astra_cli_table_add_row (table);
		astra_cli_add_int (table, d, "id", NULL);
		astra_cli_add_string (table, d, "webhook");
		astra_cli_add_string (table, d, "event_type");
		astra_cli_add_state (table, d, "state");
		astra_cli_add_int (table, d, "attempts", NULL);
		astra_cli_add_http_status (table, d, "last_status");
		if (astra_cli_lookup_int (d, "attempts", &attempts) && attempts > 0 &&
		    astra_cli_lookup_double (d, "last_latency_ms", &latency)) {
			g_autofree char *text = astra_cli_format_number (round (latency * 10) / 10);
			astra_cli_table_add_printf (table, NULL, "%s ms", text);
		} else {
			astra_cli_table_add (table, NULL, "-");
		}
		astra_cli_add_time (table, d, "created_at", now);
		astra_cli_add_time (table, d, "next_attempt_at", now);
		astra_cli_add_string (table, d, "last_reason");
	}
	astra_cli_table_append (table, out, color);
}

int
astra_cli_deliveries (const AstraCliCommand *cmd, int argc, char **argv)
{
	g_autoptr(GOptionContext) context = NULL;
	g_autoptr(AstraDBusAlerts1) proxy = NULL;
	g_autoptr(GVariant) answer = NULL;
	g_autoptr(GError) error_local = NULL;
	g_autoptr(GString) out = g_string_new (NULL);
	g_autofree char *webhook = NULL;
	g_autofree char *state = NULL;
	g_autofree char *limit_str = NULL;
	g_auto(GVariantBuilder) filter = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
	gboolean filtered = FALSE;
	int ret;
	const GOptionEntry entries[] = {
		{ "webhook", 'w', 0, G_OPTION_ARG_STRING, &webhook, "Only the deliveries to WEBHOOK",
		  "WEBHOOK" },
		{ "state", 's', 0, G_OPTION_ARG_STRING, &state,
		  "Only those in STATE: pending, delivered, dead, skipped or silenced", "STATE" },
		{ "limit", 'n', 0, G_OPTION_ARG_STRING, &limit_str,
		  "At most N, newest first (default 50, at most 1000)", "N" },
		{ NULL },
	};

	context = astra_cli_option_context_new (
	    cmd, "Examples:\n"
		 "  # the dead letters of one webhook, to send again with 'astra-alertctl redeliver ID'\n"
		 "  astra-alertctl deliveries --webhook ops-slack --state dead\n"
		 "\n" ASTRA_CLI_JSON_NOTE);
	g_option_context_add_main_entries (context, entries, NULL);
	if (!astra_cli_parse_options (cmd, context, &argc, &argv))
		return ASTRA_CLI_EXIT_USAGE;
	if (limit_str != NULL) {
		guint64 limit = 0;
		if (!g_ascii_string_to_unsigned (limit_str, 10, 1, G_MAXUINT32, &limit, NULL))
			return astra_cli_usage (cmd, "--limit: '%s' is not a positive number", limit_str);
		g_variant_builder_add (&filter, "{sv}", "limit", g_variant_new_uint32 ((guint32) limit));
	}
	if (webhook != NULL) {
		g_variant_builder_add (&filter, "{sv}", "webhook", g_variant_new_string (webhook));
		filtered = TRUE;
	}
	if (state != NULL) {
		g_variant_builder_add (&filter, "{sv}", "state", g_variant_new_string (state));
		filtered = TRUE;
	}
	ret = astra_cli_connect (cmd, &proxy);
	if (ret != ASTRA_CLI_EXIT_OK)
		return ret;
	if (!astra_dbus_alerts1_call_list_deliveries_sync (proxy, g_variant_builder_end (&filter), &answer,
							   NULL, &error_local))
		return astra_cli_call_failed (cmd, proxy, error_local);
	if (astra_cli_get_global ()->json)
		return astra_cli_print_json (cmd, answer);
	astra_cli_deliveries_format (answer, out, astra_cli_use_color (), g_get_real_time (), filtered);
	return astra_cli_print (cmd, out);
}

/* silence list */

static void
astra_cli_silence_list_format (GVariant *silences, GString *out, gboolean color, gint64 now)
{
	g_autoptr(AstraCliTable) table = astra_cli_table_new ("ID", "MATCHERS", "STARTED", "ENDS", "AUTHOR",
							       "SILENCED", "COMMENT", NULL);
	gsize n = g_variant_n_children (silences);

	if (n == 0) {
		g_string_append (out, "no active silences\n");
		return;
	}
	astra_cli_table_set_right (table, 5);
	for (gsize i = 0; i < n; i++) {
		g_autoptr(GVariant) s = g_variant_get_child_value (silences, i);

		astra_cli_table_add_row (table);
		astra_cli_add_string (table, s, "id");
		astra_cli_add_joined (table, s, "matchers", " ");
		astra_cli_add_time (table, s, "starts_at", now);
		astra_cli_add_time (table, s, "ends_at", now);
		astra_cli_add_string (table, s, "author");
		astra_cli_add_int (table, s, "silenced", NULL);
		astra_cli_add_string (table, s, "comment");
	}
	astra_cli_table_append (table, out, color);
}

int
astra_cli_silence_list (const AstraCliCommand *cmd, int argc, char **argv)
{
	return astra_cli_list (cmd, argc, argv,
			       "SILENCED counts the events held back so far.\n"
			       "With --json: the daemon's answer as one JSON array of objects.\n",
			       astra_dbus_alerts1_call_list_silences_sync, astra_cli_silence_list_format);
}
