/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * astra-alertctl as a user runs it, against a fake astra-alertd: each test
 * starts a private bus (GTestDBus), exports the generated skeleton under
 * org.astranetmon.Alerts1 in this process with handlers that answer fixed
 * data and record what they were asked, and runs the built binary with
 * --session (or the environment) pointing at that bus.
 */

#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <gio/gio.h>
#include <gio/gunixinputstream.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "astra.h"
#include "astra-check-common.h"
#include "astra-dbus-generated.h"
#include "astra-test-util.h"

#define CLI_BUS_NAME "org.astranetmon.Alerts1"
#define CLI_OBJECT_PATH "/org/astranetmon/Alerts1"
#define CLI_TIMEOUT_MS 15000
/* 2025-12-17T10:30:00Z, and what the fake's fixed times are built from */
#define CLI_T0 G_GINT64_CONSTANT (1765967400000000)
#define CLI_SEC G_GINT64_CONSTANT (1000000)

typedef struct {
	GTestDBus *bus;
	GDBusConnection *connection;
	AstraDBusAlerts1 *skeleton;
	GPtrArray *calls; /* "Method (arguments as GVariant text)" */
	gboolean empty;   /* the lists are empty */
	gboolean recent;  /* agents' and silences' times are near now */
	gboolean refuse_reload; /* Reload answers InvalidConfig */
} Fake;

/* created inside each (forked) test's fixture */
static Fake fake;

/* the fake daemon */

static GVariant *
fake_answer_list (const char *method)
{
	if (fake.empty)
		return g_variant_new_parsed ("(@aa{sv} [],)");
	if (g_strcmp0 (method, "ListPlugins") == 0)
		return g_variant_new_parsed (
		    "([{'name': <'generic'>, 'file': <'/usr/lib/astra-alerts/plugins-1/libastra-generic.so'>,"
		    "   'abi': <uint32 1>, 'state': <'loaded'>, 'error': <''>,"
		    "   'description': <'Signed JSON webhooks'>},"
		    "  {'name': <'slack'>, 'file': <'/usr/lib/astra-alerts/plugins-1/libastra-slack.so'>,"
		    "   'abi': <uint32 1>, 'state': <'loaded'>, 'error': <''>,"
		    "   'description': <'Slack incoming webhooks'>},"
		    "  {'name': <'old'>, 'file': <'/usr/lib/astra-alerts/plugins-1/libastra-old.so'>,"
		    "   'abi': <uint32 0>, 'state': <'refused'>,"
		    "   'error': <'built for ABI 0, this daemon loads ABI 1: rebuild it'>,"
		    "   'description': <''>}],)");
	if (g_strcmp0 (method, "ListWebhooks") == 0)
		return g_variant_new_parsed (
		    "([{'name': <'ops-slack'>, 'plugin': <'slack'>,"
		    "   'events': <['alert.triggered', 'alert.resolved']>, 'enabled': <true>,"
		    "   'disabled_reason': <''>, 'min_severity': <'warning'>, 'circuit': <'closed'>,"
		    "   'pending': <uint32 0>, 'dead': <uint32 0>, 'in_flight': <uint32 1>,"
		    "   'last_status': <uint32 200>, 'last_error': <''>},"
		    "  {'name': <'pager'>, 'plugin': <'pagerduty'>, 'events': <@as []>, 'enabled': <true>,"
		    "   'disabled_reason': <''>, 'min_severity': <''>, 'circuit': <'open'>,"
		    "   'pending': <uint32 4>, 'dead': <uint32 2>, 'in_flight': <uint32 0>,"
		    "   'last_status': <uint32 503>, 'last_error': <'503 Service Unavailable'>},"
		    "  {'name': <'old-hook'>, 'plugin': <'generic'>, 'events': <['agent.*']>,"
		    "   'enabled': <false>, 'disabled_reason': <'410 Gone'>, 'min_severity': <''>,"
		    "   'circuit': <'closed'>, 'pending': <uint32 0>, 'dead': <uint32 0>,"
		    "   'in_flight': <uint32 0>, 'last_status': <uint32 410>, 'last_error': <''>}],)");
	if (g_strcmp0 (method, "ListRules") == 0)
		return g_variant_new_parsed (
		    "([{'name': <'cpu-high'>, 'file': <'/etc/astra-alerts/rules.d/cpu.rules'>,"
		    "   'metric': <'cpu_percent'>, 'severity': <'critical'>, 'expression': <'avg(5m) > 90'>,"
		    "   'for': <uint64 300>, 'webhooks': <['ops-slack', 'pager']>},"
		    "  {'name': <'latency'>, 'file': <'/etc/astra-alerts/rules.d/net.rules'>,"
		    "   'metric': <'latency_ms'>, 'severity': <'warning'>, 'expression': <'> 250'>,"
		    "   'for': <uint64 0>, 'webhooks': <@as []>}],)");
	if (g_strcmp0 (method, "ListAlerts") == 0)
		return g_variant_new_parsed (
		    "([{'rule': <'cpu-high'>, 'state': <'firing'>, 'severity': <'critical'>,"
		    "   'labels': <{'agent_id': 'edge-7', 'host': 'web-1'}>, 'value': <97.5>,"
		    "   'since': <%x>, 'summary': <'CPU at 97.5% on web-1'>},"
		    "  {'rule': <'latency'>, 'state': <'pending'>, 'severity': <'warning'>,"
		    "   'labels': <@a{ss} {}>, 'value': <3.0>, 'since': <%x>,"
		    "   'summary': <''>}],)",
		    CLI_T0, CLI_T0 + 90 * CLI_SEC);
	if (g_strcmp0 (method, "ListAgents") == 0) {
		gint64 seen = fake.recent ? g_get_real_time () - 330 * CLI_SEC : CLI_T0;
		return g_variant_new_parsed (
		    "([{'agent_id': <'edge-7'>, 'hostname': <'web-1'>, 'tenant': <'acme'>,"
		    "   'status': <'online'>, 'last_seen': <%x>, 'registered_at': <%x>,"
		    "   'interval': <uint64 60>},"
		    "  {'agent_id': <'edge-8'>, 'hostname': <'db-1'>, 'tenant': <''>,"
		    "   'status': <'offline'>, 'last_seen': <%x>, 'registered_at': <%x>,"
		    "   'interval': <uint64 5400>}],)",
		    seen, CLI_T0 - 86400 * CLI_SEC, CLI_T0 - 3600 * CLI_SEC, CLI_T0 - 86400 * CLI_SEC);
	}
	if (g_strcmp0 (method, "ListDeliveries") == 0)
		return g_variant_new_parsed (
		    "([{'id': <int64 43>, 'event_id': <'evt_0003'>, 'event_type': <'alert.triggered'>,"
		    "   'webhook': <'pager'>, 'state': <'pending'>, 'attempts': <uint32 2>, 'created_at': "
		    "<%x>,"
		    "   'last_attempt_at': <%x>, 'last_status': <uint32 503>, 'last_latency_ms': <12.25>,"
		    "   'last_reason': <'503 Service Unavailable'>, 'next_attempt_at': <%x>},"
		    "  {'id': <int64 42>, 'event_id': <'evt_0002'>, 'event_type': <'alert.triggered'>,"
		    "   'webhook': <'ops-slack'>, 'state': <'delivered'>, 'attempts': <uint32 1>,"
		    "   'created_at': <%x>, 'last_attempt_at': <%x>, 'last_status': <uint32 200>,"
		    "   'last_latency_ms': <83.0>, 'last_reason': <''>},"
		    "  {'id': <int64 7>, 'event_id': <'evt_0001'>, 'event_type': <'agent.status_changed'>,"
		    "   'webhook': <'old-hook'>, 'state': <'dead'>, 'attempts': <uint32 1>, 'created_at': "
		    "<%x>,"
		    "   'last_attempt_at': <%x>, 'last_status': <uint32 410>, 'last_latency_ms': <40.5>,"
		    "   'last_reason': <'410 Gone: the webhook was disabled'>}],)",
		    CLI_T0, CLI_T0 + CLI_SEC, CLI_T0 + 31 * CLI_SEC, CLI_T0, CLI_T0 + CLI_SEC,
		    CLI_T0 - 3600 * CLI_SEC, CLI_T0 - 3599 * CLI_SEC);
	if (g_strcmp0 (method, "ListSilences") == 0) {
		gint64 ends =
		    fake.recent ? g_get_real_time () + (7200 + 30) * CLI_SEC : CLI_T0 + 7200 * CLI_SEC;
		return g_variant_new_parsed (
		    "([{'id': <'sil_01TEST'>, 'matchers': <['agent_id=edge-*', 'severity!=info']>,"
		    "   'starts_at': <%x>, 'ends_at': <%x>, 'comment': <'disk swap'>,"
		    "   'author': <'alice'>, 'silenced': <uint32 3>}],)",
		    CLI_T0, ends);
	}
	return NULL;
}

static void
fake_return_error (GDBusMethodInvocation *invocation, AstraError code, const char *message)
{
	g_dbus_method_invocation_return_error_literal (invocation, ASTRA_ERROR, (gint) code, message);
}

/*
 * Connected swapped to every handle-* signal: the fake is the first argument,
 * the invocation the second, and the typed arguments that follow are read
 * from the invocation instead.
 */
static gboolean
fake_handle_cb (Fake *self, GDBusMethodInvocation *invocation)
{
	const char *method = g_dbus_method_invocation_get_method_name (invocation);
	GVariant *params = g_dbus_method_invocation_get_parameters (invocation);
	g_autofree char *printed = g_variant_print (params, TRUE);
	GVariant *answer = fake_answer_list (method);
	const char *arg0 = NULL;

	g_ptr_array_add (self->calls, g_strdup_printf ("%s %s", method, printed));
	/* the first argument, when it is a string (a webhook's name, a silence's id) */
	if (g_variant_n_children (params) > 0 &&
	    g_variant_type_equal (g_variant_type_first (g_variant_get_type (params)), G_VARIANT_TYPE_STRING))
		g_variant_get_child (params, 0, "&s", &arg0);

	if (answer != NULL) {
		g_dbus_method_invocation_return_value (invocation, answer);
	} else if (g_strcmp0 (method, "GetStatus") == 0) {
		g_dbus_method_invocation_return_value (
		    invocation,
		    g_variant_new_parsed (
			"({'version': <'1.0.0'>, 'started_at': <%x>,"
			"  'config_path': <'/etc/astra-alerts/astra-alertd.conf'>,"
			"  'config_generation': <uint32 3>, 'listen': <'127.0.0.1:8080'>,"
			"  'state_dir': <'/var/lib/astra-alerts'>, 'rules': <uint32 2>,"
			"  'webhooks': <uint32 3>, 'agents': <uint32 2>, 'agents_offline': <uint32 1>,"
			"  'alerts_firing': <uint32 1>, 'alerts_pending': <uint32 1>,"
			"  'silences': <uint32 1>, 'deliveries_pending': <uint32 4>,"
			"  'deliveries_dead': <uint32 2>, 'in_flight': <uint32 1>},)",
			CLI_T0));
	} else if (g_strcmp0 (arg0, "nope") == 0) {
		fake_return_error (invocation, ASTRA_ERROR_NOT_FOUND,
				   "no webhook named 'nope'; run 'astra-alertctl webhooks' to list them");
	} else if (g_strcmp0 (method, "RenderEvent") == 0) {
		const char *event_type = NULL;
		g_autofree char *body = NULL;

		g_variant_get (params, "(&s&s&s)", NULL, &event_type, NULL);
		body = g_strdup_printf ("{\"text\":\"%s on edge-7\"}", event_type);
		g_dbus_method_invocation_return_value (
		    invocation,
		    g_variant_new_parsed ("({'method': <'POST'>, 'url': <'https://hooks.slack.com:443'>,"
					  "  'headers': <{'User-Agent': 'astra-alerts/1.0.0',"
					  "               'Content-Type': 'application/json',"
					  "               'X-Webhook-Signature': '[redacted]'}>,"
					  "  'body': <%s>, 'event_id': <'evt_sample'>},)",
					  body));
	} else if (g_strcmp0 (method, "TestWebhook") == 0) {
		gboolean down = g_strcmp0 (arg0, "down") == 0;
		g_dbus_method_invocation_return_value (
		    invocation,
		    g_variant_new_parsed (
			"({'outcome': <%s>, 'status': <%u>, 'latency_ms': <%d>, 'reason': <%s>,"
			"  'response_excerpt': <%s>, 'event_id': <'evt_test'>},)",
			down ? "failed" : "delivered", down ? 503 : 200, down ? 1500.0 : 83.25,
			down ? "503 Service Unavailable" : "", down ? "upstream down\nretry later" : "ok"));
	} else if (g_strcmp0 (method, "Reload") == 0) {
		if (self->refuse_reload)
			fake_return_error (invocation, ASTRA_ERROR_INVALID_CONFIG,
					   "/etc/astra-alerts/webhooks.d/a.conf:3: url: not a URL\n"
					   "/etc/astra-alerts/rules.d/b.rules:7: unknown function 'avgg'");
		else
			g_dbus_method_invocation_return_value (invocation, g_variant_new ("(u)", 4));
	} else if (g_strcmp0 (method, "Silence") == 0) {
		const char *comment = NULL;
		g_variant_get (params, "(^a&s&s&s&s)", NULL, NULL, &comment, NULL);
		if (g_strcmp0 (comment, "deny") == 0)
			fake_return_error (invocation, ASTRA_ERROR_ACCESS_DENIED,
					   "only root or members of 'astra-alerts' may add silences");
		else
			g_dbus_method_invocation_return_value (invocation,
							       g_variant_new ("(s)", "sil_01TEST"));
	} else if (g_strcmp0 (method, "Unsilence") == 0 && g_strcmp0 (arg0, "sil_missing") == 0) {
		fake_return_error (invocation, ASTRA_ERROR_NOT_FOUND, "no active silence 'sil_missing'");
	} else if (g_strcmp0 (method, "EmitEvent") == 0) {
		const char *data = NULL;
		g_variant_get (params, "(&s&s)", NULL, &data);
		if (g_strcmp0 (data, "not json") == 0)
			fake_return_error (invocation, ASTRA_ERROR_INVALID_DATA,
					   "data: not JSON at byte 0: unexpected 'n'");
		else
			g_dbus_method_invocation_return_value (invocation,
							       g_variant_new ("(s)", "evt_01EMIT"));
	} else {
		/* EnableWebhook, Unsilence, Redeliver, PushSample, Subscribe: nothing to return */
		g_dbus_method_invocation_return_value (invocation, NULL);
	}
	return TRUE;
}

static void
fake_own_name (void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = g_dbus_connection_call_sync (
	    fake.connection, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
	    "RequestName", g_variant_new ("(su)", CLI_BUS_NAME, 0), G_VARIANT_TYPE ("(u)"),
	    G_DBUS_CALL_FLAGS_NONE, CLI_TIMEOUT_MS, NULL, &error);
	guint32 result = 0;

	astra_assert_no_error (error);
	g_variant_get (reply, "(u)", &result);
	ck_assert_uint_eq (result, 1); /* DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER */
}

static void
fake_release_name (void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = g_dbus_connection_call_sync (
	    fake.connection, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
	    "ReleaseName", g_variant_new ("(s)", CLI_BUS_NAME), G_VARIANT_TYPE ("(u)"),
	    G_DBUS_CALL_FLAGS_NONE, CLI_TIMEOUT_MS, NULL, &error);

	astra_assert_no_error (error);
}

static void
fake_setup (void)
{
	const char *const handlers[] = {
		"handle-get-status",      "handle-list-plugins", "handle-list-webhooks",
		"handle-list-rules",      "handle-list-alerts",  "handle-list-agents",
		"handle-list-deliveries", "handle-render-event", "handle-reload",
		"handle-enable-webhook",  "handle-test-webhook", "handle-silence",
		"handle-list-silences",   "handle-unsilence",    "handle-redeliver",
		"handle-push-sample",     "handle-emit-event",   "handle-subscribe",
		"handle-unsubscribe",
	};
	g_autoptr(GError) error = NULL;

	memset (&fake, 0, sizeof (fake));
	fake.calls = g_ptr_array_new_with_free_func (g_free);
	fake.bus = g_test_dbus_new (G_TEST_DBUS_NONE);
	g_test_dbus_up (fake.bus);
	fake.connection = g_dbus_connection_new_for_address_sync (
	    g_test_dbus_get_bus_address (fake.bus),
	    G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
	    NULL, NULL, &error);
	astra_assert_no_error (error);
	fake.skeleton = astra_dbus_alerts1_skeleton_new ();
	for (gsize i = 0; i < G_N_ELEMENTS (handlers); i++)
		g_signal_connect_swapped (fake.skeleton, handlers[i], G_CALLBACK (fake_handle_cb), &fake);
	ck_assert (g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (fake.skeleton),
						     fake.connection, CLI_OBJECT_PATH, &error));
	fake_own_name ();
}

static void cli_child_clear (void);

static void
fake_teardown (void)
{
	if (fake.skeleton != NULL)
		g_dbus_interface_skeleton_unexport (G_DBUS_INTERFACE_SKELETON (fake.skeleton));
	g_clear_object (&fake.skeleton);
	if (fake.connection != NULL)
		g_dbus_connection_close_sync (fake.connection, NULL, NULL);
	g_clear_object (&fake.connection);
	cli_child_clear ();
	if (fake.bus != NULL)
		g_test_dbus_down (fake.bus);
	g_clear_object (&fake.bus);
	g_clear_pointer (&fake.calls, g_ptr_array_unref);
}

/* the last call the fake received, which must be there */
static const char *
fake_last_call (void)
{
	ck_assert_msg (fake.calls->len > 0, "the fake daemon was not called");
	return g_ptr_array_index (fake.calls, fake.calls->len - 1);
}

/* running astra-alertctl */

typedef struct {
	int status;
	char *out;
	char *err;
	char *cmdline; /* for the messages */
} CliResult;

static void
cli_result_clear (CliResult *r)
{
	g_clear_pointer (&r->cmdline, g_free);
	g_clear_pointer (&r->out, g_free);
	g_clear_pointer (&r->err, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CliResult, cli_result_clear)

static const char *
cli_binary (void)
{
	const char *binary = g_getenv ("ASTRA_ALERTCTL");
	ck_assert_msg (binary != NULL, "ASTRA_ALERTCTL is not set: run the test through meson test");
	return binary;
}

/* the environment every run gets: the private bus as the session bus, no system bus */
static GPtrArray *
cli_env_new (void)
{
	GPtrArray *env = g_ptr_array_new_with_free_func (g_free);

	g_ptr_array_add (
	    env, g_strdup_printf ("DBUS_SESSION_BUS_ADDRESS=%s", g_test_dbus_get_bus_address (fake.bus)));
	g_ptr_array_add (env, g_strdup ("DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent/astra-check-cli"));
	g_ptr_array_add (env, g_strdup ("TZ=UTC"));
	g_ptr_array_add (env, g_strdup ("LC_ALL=C.UTF-8"));
	g_ptr_array_add (env, g_strdup ("ASTRA_ALERTCTL_BUS"));
	g_ptr_array_add (env, g_strdup ("NO_COLOR"));
	return env;
}

/* runs astra-alertctl with @args (NULL-terminated) and the extra environment @extra_env */
static void
cli_run_env (CliResult *r, const char *const *extra_env, const char *const *args)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new ();
	g_autoptr(GPtrArray) env = cli_env_new ();
	g_autoptr(GError) error = NULL;

	for (guint i = 0; extra_env != NULL && extra_env[i] != NULL; i++)
		g_ptr_array_add (env, g_strdup (extra_env[i]));
	g_ptr_array_add (env, NULL);
	g_ptr_array_add (argv, (gpointer) cli_binary ());
	for (guint i = 0; args[i] != NULL; i++)
		g_ptr_array_add (argv, (gpointer) args[i]);
	g_ptr_array_add (argv, NULL);
	cli_result_clear (r);
	r->cmdline = g_strjoinv (" ", (char **) argv->pdata + 1);
	ck_assert_msg (astra_test_run ((const char *const *) argv->pdata, (const char *const *) env->pdata,
				       NULL, CLI_TIMEOUT_MS, &r->status, &r->out, &r->err, &error),
		       "%s", error != NULL ? error->message : "?");
	/* astra_test_run() gives NULL for an empty output */
	if (r->out == NULL)
		r->out = g_strdup ("");
	if (r->err == NULL)
		r->err = g_strdup ("");
}

static void cli_run (CliResult *r, const char *first, ...) G_GNUC_NULL_TERMINATED;

static void
cli_run (CliResult *r, const char *first, ...)
{
	g_autoptr(GPtrArray) args = g_ptr_array_new ();
	va_list ap;

	va_start (ap, first);
	for (const char *a = first; a != NULL; a = va_arg (ap, const char *))
		g_ptr_array_add (args, (gpointer) a);
	va_end (ap);
	g_ptr_array_add (args, NULL);
	cli_run_env (r, NULL, (const char *const *) args->pdata);
}

static void
cli_assert_ok (CliResult *r)
{
	ck_assert_msg (r->status == 0, "%s: exit %d, stderr: %s", r->cmdline, r->status, r->err);
	ck_assert_msg (g_strcmp0 (r->err, "") == 0, "%s: stderr: %s", r->cmdline, r->err);
}

/* exit @status with exactly one line on stderr that contains @needle, nothing on stdout */
static void
cli_assert_fails (CliResult *r, int status, const char *needle)
{
	const char *nl = strchr (r->err, '\n');

	ck_assert_msg (r->status == status, "%s: exit %d, expected %d; stderr: %s", r->cmdline, r->status,
		       status, r->err);
	ck_assert_msg (nl != NULL && nl[1] == '\0', "%s: expected one line on stderr, got:\n%s", r->cmdline,
		       r->err);
	ck_assert_msg (g_str_has_prefix (r->err, "astra-alertctl"), "%s", r->err);
	astra_assert_contains (r->err, needle);
	ck_assert_msg (g_strcmp0 (r->out, "") == 0, "stdout: %s", r->out);
}

/* --json goldens */

START_TEST (test_cli_json_golden)
{
	struct {
		const char *golden;
		const char *args[12];
	} cases[] = {
		{ "status.json", { "--session", "--json", "status" } },
		{ "plugins.json", { "--json", "plugins", "--session" } },
		{ "webhooks.json", { "webhooks", "--json", "--session" } },
		{ "rules.json", { "--session", "rules", "--json" } },
		{ "alerts.json", { "--session", "--json", "alerts" } },
		{ "agents.json", { "--session", "--json", "agents" } },
		{ "deliveries.json", { "--session", "--json", "deliveries" } },
		{ "silence-list.json", { "--session", "--json", "silence", "list" } },
		{ "test.json", { "--session", "test", "ops-slack", "--json" } },
		{ "render.json",
		  { "--session", "--json", "render", "ops-slack", "--event", "alert.resolved" } },
		{ "silence-add.json",
		  { "--session", "silence", "add", "agent_id=edge-7", "--for", "2h", "--comment", "disk swap",
		    "--json" } },
		{ "reload.json", { "--session", "--json", "reload" } },
		{ "emit.json", { "--session", "--json", "emit", "speedtest.completed", "--data", "{}" } },
		{ "enable.json", { "--session", "--json", "enable", "old-hook" } },
	};

	for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
		g_auto(CliResult) r = { 0 };
		g_autoptr(GError) error = NULL;
		g_autoptr(JsonNode) root = NULL;
		const char *nl;

		cli_run_env (&r, NULL, cases[i].args);
		cli_assert_ok (&r);
		/* one document on one line, strict JSON */
		nl = strchr (r.out, '\n');
		ck_assert_msg (nl != NULL && nl[1] == '\0', "%s: not one line: %s", cases[i].golden, r.out);
		root = astra_json_parse (r.out, strlen (r.out) - 1, &error);
		ck_assert_msg (root != NULL, "%s: %s", cases[i].golden, error != NULL ? error->message : "?");
		astra_check_assert_golden ("cli", cases[i].golden, r.out);
	}
}
END_TEST

/* what the JSON keeps of the daemon's types */
START_TEST (test_cli_json_types)
{
	g_auto(CliResult) r = { 0 };
	g_autoptr(JsonNode) root = NULL;
	JsonObject *first;
	JsonNode *member;

	cli_run (&r, "--session", "--json", "alerts", NULL);
	cli_assert_ok (&r);
	root = astra_json_parse (r.out, strlen (r.out), NULL);
	ck_assert (root != NULL && JSON_NODE_HOLDS_ARRAY (root));
	first = json_array_get_object_element (json_node_get_array (root), 0);
	/* x times stay integers, exactly */
	member = json_object_get_member (first, "since");
	ck_assert (json_node_get_value_type (member) == G_TYPE_INT64);
	ck_assert_int_eq (json_node_get_int (member), CLI_T0);
	/* a{ss} is an object, d a number */
	ck_assert (JSON_NODE_HOLDS_OBJECT (json_object_get_member (first, "labels")));
	ck_assert_str_eq (
	    json_object_get_string_member (json_object_get_object_member (first, "labels"), "host"), "web-1");
	ck_assert (json_object_get_double_member (first, "value") == 97.5);
	astra_assert_contains (r.out, "\"since\":1765967400000000");
	/* a double that is integral prints as JavaScript does */
	astra_assert_contains (r.out, "\"value\":3,");

	/* empty lists are empty arrays */
	fake.empty = TRUE;
	cli_run (&r, "--session", "--json", "webhooks", NULL);
	cli_assert_ok (&r);
	ck_assert_str_eq (r.out, "[]\n");
}
END_TEST

/* human output */

START_TEST (test_cli_tables)
{
	struct {
		const char *golden;
		const char *args[8];
	} cases[] = {
		{ "status.txt", { "--session", "status" } },
		{ "webhooks.txt", { "--session", "webhooks" } },
		{ "deliveries.txt", { "--session", "deliveries" } },
		{ "alerts.txt", { "--session", "alerts" } },
		{ "agents.txt", { "--session", "agents" } },
		{ "plugins.txt", { "--session", "plugins" } },
		{ "rules.txt", { "--session", "rules" } },
		{ "silence-list.txt", { "--session", "silence", "list" } },
		{ "render.txt", { "--session", "render", "ops-slack" } },
		{ "test.txt", { "--session", "test", "ops-slack" } },
	};

	for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
		g_auto(CliResult) r = { 0 };

		cli_run_env (&r, NULL, cases[i].args);
		cli_assert_ok (&r);
		/* on a pipe: no colour */
		ck_assert_msg (strchr (r.out, '\033') == NULL, "%s: %s", cases[i].golden, r.out);
		astra_check_assert_golden ("cli", cases[i].golden, r.out);
	}
}
END_TEST

START_TEST (test_cli_empty)
{
	struct {
		const char *args[4];
		const char *expected;
	} cases[] = {
		{ { "plugins" }, "no plugins found\n" },
		{ { "webhooks" }, "no webhooks configured\n" },
		{ { "rules" }, "no rules loaded\n" },
		{ { "alerts" }, "no alerts pending or firing\n" },
		{ { "agents" }, "no agents registered\n" },
		{ { "deliveries" }, "no deliveries\n" },
		{ { "deliveries", "--state", "dead" }, "no deliveries match\n" },
		{ { "silence", "list" }, "no active silences\n" },
	};

	fake.empty = TRUE;
	for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
		g_auto(CliResult) r = { 0 };
		const char *args[6] = { "--session" };

		for (guint j = 0; cases[i].args[j] != NULL; j++)
			args[j + 1] = cases[i].args[j];
		cli_run_env (&r, NULL, args);
		cli_assert_ok (&r);
		ck_assert_str_eq (r.out, cases[i].expected);
	}
}
END_TEST

START_TEST (test_cli_relative_times)
{
	g_auto(CliResult) r = { 0 };

	fake.recent = TRUE;
	cli_run (&r, "--session", "agents", NULL);
	cli_assert_ok (&r);
	/* seen 5.5 minutes ago; the older times stay absolute, in local time (TZ=UTC) */
	astra_assert_contains (r.out, "5m ago");
	astra_assert_contains (r.out, "2025-12-16T10:30:00+00:00");
	cli_run (&r, "--session", "silence", "list", NULL);
	cli_assert_ok (&r);
	astra_assert_contains (r.out, "in 2h");
}
END_TEST

/* what reaches the daemon */

START_TEST (test_cli_forwarded)
{
	struct {
		const char *args[14];
		const char *call;
		const char *out; /* NULL: not checked */
	} cases[] = {
		{ { "deliveries", "--webhook", "ops-slack", "--state", "dead", "--limit", "5" },
		  "ListDeliveries ({'limit': <uint32 5>, 'webhook': <'ops-slack'>, 'state': <'dead'>},)" },
		{ { "deliveries" }, "ListDeliveries (@a{sv} {},)" },
		{ { "push", "latency_ms", "250", "agent_id=edge-7", "host=web-1" },
		  "PushSample ('latency_ms', 250.0, {'agent_id': 'edge-7', 'host': 'web-1'})",
		  "pushed latency_ms 250 {agent_id=edge-7,host=web-1}\n" },
		{ { "push", "temperature", "-4.5", "--", "room=a=b" },
		  "PushSample ('temperature', -4.5, {'room': 'a=b'})" },
		{ { "push", "up", "1" }, "PushSample ('up', 1.0, @a{ss} {})", "pushed up 1\n" },
		{ { "silence", "add", "agent_id=edge-*", "severity!=info", "--for", "90m", "--comment",
		    "disk swap", "--author", "alice" },
		  "Silence (['agent_id=edge-*', 'severity!=info'], '90m', 'disk swap', 'alice')",
		  "sil_01TEST\n" },
		{ { "silence", "add", "type=alert.*", "--until", "2025-12-17T18:00:00+01:00", "--comment",
		    "window" },
		  "Silence (['type=alert.*'], '2025-12-17T18:00:00+01:00', 'window', '')" },
		{ { "silence", "remove", "sil_01TEST" },
		  "Unsilence ('sil_01TEST',)",
		  "silence sil_01TEST removed\n" },
		{ { "test", "ops-slack" }, "TestWebhook ('ops-slack', 'alert.triggered')" },
		{ { "test", "ops-slack", "--event", "agent.registered" },
		  "TestWebhook ('ops-slack', 'agent.registered')" },
		{ { "render", "ops-slack" }, "RenderEvent ('ops-slack', 'alert.triggered', '')" },
		{ { "render", "--event", "speedtest.completed", "ops-slack" },
		  "RenderEvent ('ops-slack', 'speedtest.completed', '')" },
		{ { "enable", "old-hook" }, "EnableWebhook ('old-hook',)", "webhook old-hook enabled\n" },
		{ { "redeliver", "42" }, "Redeliver (int64 42,)", "delivery 42 is being sent again\n" },
		{ { "reload" }, "Reload ()", "configuration reloaded: generation 4\n" },
		{ { "emit", "speedtest.completed", "--data", "{\"agent_id\":\"edge-7\"}" },
		  "EmitEvent ('speedtest.completed', '{\"agent_id\":\"edge-7\"}')",
		  "evt_01EMIT\n" },
		{ { "status" }, "GetStatus ()" },
	};

	for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
		g_auto(CliResult) r = { 0 };
		const char *args[16] = { "--session" };

		for (guint j = 0; cases[i].args[j] != NULL; j++)
			args[j + 1] = cases[i].args[j];
		cli_run_env (&r, NULL, args);
		cli_assert_ok (&r);
		ck_assert_str_eq (fake_last_call (), cases[i].call);
		if (cases[i].out != NULL)
			ck_assert_str_eq (r.out, cases[i].out);
	}
}
END_TEST

START_TEST (test_cli_forwarded_files)
{
	g_auto(CliResult) r = { 0 };
	g_autofree char *dir = astra_check_tmpdir_new (NULL, "astra-cli", 0700);
	g_autofree char *event_text = astra_check_fixture_text ("agent.registered");
	g_autofree char *event_path = astra_check_write_file (dir, "event.json", event_text, 0600);
	g_autofree char *data_path = astra_check_write_file (dir, "data.json", "{\"a\":1}\n", 0600);
	g_autoptr(GVariant) expected = NULL;
	g_autofree char *printed = NULL;
	g_autofree char *call = NULL;

	/* the event type comes from the file, the file goes as it is */
	cli_run (&r, "--session", "render", "ops-slack", "--file", event_path, NULL);
	cli_assert_ok (&r);
	expected = g_variant_ref_sink (g_variant_new ("(sss)", "ops-slack", "agent.registered", event_text));
	printed = g_variant_print (expected, TRUE);
	call = g_strdup_printf ("RenderEvent %s", printed);
	ck_assert_str_eq (fake_last_call (), call);
	astra_assert_contains (r.out, "{\"text\":\"agent.registered on edge-7\"}");

	cli_run (&r, "--session", "emit", "speedtest.completed", "--file", data_path, NULL);
	cli_assert_ok (&r);
	ck_assert_str_eq (fake_last_call (), "EmitEvent ('speedtest.completed', '{\"a\":1}\\n')");
	astra_check_tmpdir_clear (&dir);
}
END_TEST

static GSubprocessLauncher *cli_launcher_new (GSubprocessFlags flags);

static void
cli_stdin_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
	CliResult *r = user_data;
	g_autoptr(GError) error = NULL;

	ck_assert (
	    g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), result, &r->out, &r->err, &error));
	r->status = g_subprocess_get_if_exited (G_SUBPROCESS (source))
			? g_subprocess_get_exit_status (G_SUBPROCESS (source))
			: -1;
	r->cmdline = g_strdup ("(stdin)");
}

static gboolean
cli_stdin_finished_cb (gpointer user_data)
{
	CliResult *r = user_data;
	return r->cmdline != NULL;
}

/* --file - reads stdin */
START_TEST (test_cli_stdin)
{
	g_autoptr(GSubprocessLauncher) launcher = NULL;
	g_autoptr(GSubprocess) proc = NULL;
	g_autoptr(GError) error = NULL;
	g_auto(CliResult) r = { 0 };

	launcher = cli_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
				     G_SUBPROCESS_FLAGS_STDERR_PIPE);
	proc = g_subprocess_launcher_spawn (launcher, &error, cli_binary (), "--session", "emit",
					    "speedtest.completed", "--file", "-", NULL);
	astra_assert_no_error (error);
	g_subprocess_communicate_utf8_async (proc, "{\"from\":\"stdin\"}", NULL, cli_stdin_done_cb, &r);
	ck_assert (astra_test_wait_until (cli_stdin_finished_cb, &r, CLI_TIMEOUT_MS));
	cli_assert_ok (&r);
	ck_assert_str_eq (r.out, "evt_01EMIT\n");
	ck_assert_str_eq (fake_last_call (), "EmitEvent ('speedtest.completed', '{\"from\":\"stdin\"}')");
}
END_TEST

/* exit codes */

START_TEST (test_cli_daemon_errors)
{
	g_auto(CliResult) r = { 0 };

	/* the daemon's message, without the D-Bus error name */
	cli_run (&r, "--session", "enable", "nope", NULL);
	cli_assert_fails (&r, 1, "astra-alertctl enable: no webhook named 'nope'");
	astra_assert_not_contains (r.err, "org.astranetmon");
	astra_assert_not_contains (r.err, "GDBus");

	cli_run (&r, "--session", "render", "nope", NULL);
	cli_assert_fails (&r, 1, "astra-alertctl render: no webhook named 'nope'");
	cli_run (&r, "--session", "silence", "remove", "sil_missing", NULL);
	cli_assert_fails (&r, 1, "astra-alertctl silence remove: no active silence 'sil_missing'");
	cli_run (&r, "--session", "silence", "add", "a=b", "--for", "1h", "--comment", "deny", NULL);
	cli_assert_fails (&r, 1, "only root or members of 'astra-alerts' may add silences");
	cli_run (&r, "--session", "--json", "emit", "x.y", "--data", "not json", NULL);
	cli_assert_fails (&r, 1, "data: not JSON");

	/* a refused reload lists every problem, one per line */
	fake.refuse_reload = TRUE;
	cli_run (&r, "--session", "reload", NULL);
	ck_assert_int_eq (r.status, 1);
	ck_assert_str_eq (r.err,
			  "astra-alertctl reload: /etc/astra-alerts/webhooks.d/a.conf:3: url: not a URL\n"
			  "  /etc/astra-alerts/rules.d/b.rules:7: unknown function 'avgg'\n");
	ck_assert_str_eq (r.out, "");

	/* a test the receiver refused: the answer is shown, and the exit status says so */
	cli_run (&r, "--session", "test", "down", NULL);
	ck_assert_int_eq (r.status, 1);
	astra_assert_contains (r.out, "failed");
	astra_assert_contains (r.out, "503");
	astra_assert_contains (r.out, "response:\n  upstream down\n  retry later\n");
	astra_assert_contains (r.err, "down did not accept the test event (failed)");
	cli_run (&r, "--session", "--json", "test", "down", NULL);
	ck_assert_int_eq (r.status, 1);
	astra_assert_contains (r.out, "\"outcome\":\"failed\"");
}
END_TEST

START_TEST (test_cli_usage)
{
	struct {
		const char *args[10];
		const char *env;
		const char *needle;
	} cases[] = {
		{ { "frobnicate" }, NULL, "'frobnicate' is not a command" },
		{ { "--frobnicate", "status" }, NULL, "unknown option '--frobnicate'" },
		{ { NULL }, NULL, "no command given" },
		{ { "status", "--frobnicate" }, NULL, "try 'astra-alertctl status --help'" },
		{ { "status", "extra" }, NULL, "unexpected argument 'extra'" },
		{ { "webhooks", "extra" }, NULL, "try 'astra-alertctl webhooks --help'" },
		{ { "deliveries", "--limit", "many" }, NULL, "--limit: 'many' is not a positive number" },
		{ { "deliveries", "--limit", "0" }, NULL, "--limit" },
		{ { "deliveries", "--state" }, NULL, "try 'astra-alertctl deliveries --help'" },
		{ { "enable" }, NULL, "expects WEBHOOK; try 'astra-alertctl enable --help'" },
		{ { "test" }, NULL, "astra-alertctl test: expects WEBHOOK" },
		{ { "test", "a", "b" }, NULL, "unexpected argument 'b'" },
		{ { "render" }, NULL, "expects WEBHOOK" },
		{ { "render", "a", "--event", "x", "--file", "y" }, NULL, "use --event or --file, not both" },
		{ { "render", "a", "--file", "/nonexistent/event.json" }, NULL, "/nonexistent/event.json" },
		{ { "redeliver" }, NULL, "expects ID" },
		{ { "redeliver", "abc" }, NULL, "'abc' is not a delivery id" },
		{ { "redeliver", "-3" }, NULL, "try 'astra-alertctl redeliver --help'" },
		{ { "push", "m" }, NULL, "expects METRIC VALUE" },
		{ { "push", "m", "abc" }, NULL, "VALUE 'abc' is not a number" },
		{ { "push", "m", "nan" }, NULL, "is not a number" },
		{ { "push", "m", "1", "novalue" }, NULL, "'novalue' is not a label" },
		{ { "push", "m", "1", "a=1", "a=2" }, NULL, "label 'a' is given twice" },
		{ { "push", "m", "1", "--frobnicate" }, NULL, "Unknown option --frobnicate" },
		{ { "emit", "x.y" }, NULL, "--data JSON or --file FILE" },
		{ { "emit", "x.y", "--data", "{}", "--file", "f" }, NULL, "not both" },
		{ { "emit" }, NULL, "expects TYPE" },
		{ { "silence" }, NULL, "astra-alertctl silence: expects add, list or remove" },
		{ { "silence", "frob" }, NULL, "'frob' is not a command of 'silence'" },
		{ { "silence", "add", "--for", "1h", "--comment", "c" }, NULL, "expects MATCHER..." },
		{ { "silence", "add", "a=b", "--comment", "c" }, NULL, "--for DURATION" },
		{ { "silence", "add", "a=b", "--for", "1h", "--until", "2030-01-01T00:00:00Z", "--comment",
		    "c" },
		  NULL,
		  "use --for or --until, not both" },
		{ { "silence", "add", "a=b", "--for", "1h" }, NULL, "--comment is required" },
		{ { "silence", "list", "x" }, NULL, "unexpected argument 'x'" },
		{ { "silence", "remove" }, NULL, "expects ID" },
		{ { "--system", "--session", "status" }, NULL, "use --system or --session, not both" },
		{ { "status", "--system", "--session" }, NULL, "not both" },
		{ { "status" }, "ASTRA_ALERTCTL_BUS=bus", "ASTRA_ALERTCTL_BUS is 'bus'" },
		{ { "help", "frobnicate" }, NULL, "not a command" },
		/* listen takes the global options too: --json is its own, the bus ones are ignored */
		{ { "--json", "listen", "--quiet" }, NULL, "--json and --quiet do not go together" },
		{ { "listen", "--system", "--port", "x" }, NULL, "--port: 'x' is not a port" },
	};

	for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
		g_auto(CliResult) r = { 0 };
		const char *env[] = { cases[i].env, NULL };
		const char *args[12] = { NULL };
		guint n = 0;

		/* --session unless the case is about the options themselves */
		if (cases[i].args[0] != NULL && cases[i].args[0][0] != '-' && cases[i].env == NULL &&
		    !g_strv_contains (cases[i].args, "--system"))
			args[n++] = "--session";
		for (guint j = 0; cases[i].args[j] != NULL; j++)
			args[n++] = cases[i].args[j];
		cli_run_env (&r, env, args);
		cli_assert_fails (&r, 2, cases[i].needle);
	}
	/* none of them reached the daemon */
	ck_assert_uint_eq (fake.calls->len, 0);
}
END_TEST

START_TEST (test_cli_no_daemon)
{
	g_auto(CliResult) r = { 0 };
	g_autofree char *system_env =
	    g_strdup_printf ("DBUS_SYSTEM_BUS_ADDRESS=%s", g_test_dbus_get_bus_address (fake.bus));
	const char *system[] = { system_env, NULL };
	const char *by_env[] = { "ASTRA_ALERTCTL_BUS=session", NULL };

	/* the name has an owner: the system bus is the default, ASTRA_ALERTCTL_BUS=session picks the other */
	cli_run_env (&r, system, (const char *[]){ "status", NULL });
	cli_assert_ok (&r);
	cli_run_env (&r, by_env, (const char *[]){ "--json", "status", NULL });
	cli_assert_ok (&r);
	cli_run_env (&r, by_env, (const char *[]){ "--system", "status", NULL });
	cli_assert_fails (&r, 3, "cannot connect to the system bus");
	astra_assert_contains (r.err, "use --session");

	/* no owner of the name */
	fake_release_name ();
	cli_run (&r, "--session", "status", NULL);
	cli_assert_fails (
	    &r, 3,
	    "astra-alertctl status: astra-alertd is not running on the session bus (start it with "
	    "'astra-alertd --bus=session', or use --system)");
	cli_run_env (&r, system, (const char *[]){ "webhooks", "--json", NULL });
	cli_assert_fails (
	    &r, 3,
	    "astra-alertctl webhooks: astra-alertd is not running on the system bus (start it with "
	    "'systemctl start astra-alertd', or use --session)");
	cli_run (&r, "--session", "silence", "add", "a=b", "--for", "1h", "--comment", "c", NULL);
	cli_assert_fails (&r, 3, "astra-alertctl silence add: astra-alertd is not running");
	cli_run (&r, "--session", "monitor", NULL);
	cli_assert_fails (&r, 3, "not running on the session bus");

	/* no bus at all */
	cli_run (&r, "--system", "status", NULL);
	cli_assert_fails (&r, 3, "cannot connect to the system bus");
	ck_assert_uint_eq (fake.calls->len, 2);
}
END_TEST

/* --help */

START_TEST (test_cli_help)
{
	const char *const commands[] = { "status",     "plugins", "webhooks", "rules",   "alerts", "agents",
					 "deliveries", "silence", "reload",   "enable",  "test",   "render",
					 "redeliver",  "push",    "emit",     "monitor", "listen", "help" };
	const char *const silence[] = { "add", "list", "remove" };
	g_auto(CliResult) r = { 0 };

	for (gsize i = 0; i < G_N_ELEMENTS (commands); i++) {
		/* `help --help` is the tool's help */
		g_autofree char *usage = g_strcmp0 (commands[i], "help") == 0
					     ? g_strdup ("Commands:")
					     : g_strdup_printf ("astra-alertctl %s", commands[i]);

		cli_run (&r, commands[i], "--help", NULL);
		cli_assert_ok (&r);
		astra_assert_contains (r.out, "Usage:");
		astra_assert_contains (r.out, usage);
		cli_run (&r, "--session", commands[i], "-h", NULL);
		cli_assert_ok (&r);
		astra_assert_contains (r.out, usage);
		cli_run (&r, "help", commands[i], NULL);
		cli_assert_ok (&r);
		astra_assert_contains (r.out, usage);
		/* the D-Bus commands list the global options */
		if (g_strcmp0 (commands[i], "listen") != 0 && g_strcmp0 (commands[i], "help") != 0 &&
		    g_strcmp0 (commands[i], "silence") != 0) {
			cli_run (&r, commands[i], "--help", NULL);
			astra_assert_contains (r.out, "--session");
			astra_assert_contains (r.out, "--json");
		}
	}
	for (gsize i = 0; i < G_N_ELEMENTS (silence); i++) {
		g_autofree char *usage = g_strdup_printf ("astra-alertctl silence %s", silence[i]);

		cli_run (&r, "silence", silence[i], "--help", NULL);
		cli_assert_ok (&r);
		astra_assert_contains (r.out, usage);
		cli_run (&r, "help", "silence", silence[i], NULL);
		cli_assert_ok (&r);
		astra_assert_contains (r.out, usage);
	}
	cli_run (&r, "silence", "--help", NULL);
	cli_assert_ok (&r);
	astra_assert_contains (r.out, "add MATCHER...");
	astra_assert_contains (r.out, "remove ID");
	cli_run (&r, "--help", NULL);
	cli_assert_ok (&r);
	for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
		astra_assert_contains (r.out, commands[i]);
	astra_assert_contains (r.out, "3 daemon not reachable");
	cli_run (&r, "--session", "--json", "--help", NULL);
	cli_assert_ok (&r);
	astra_assert_contains (r.out, "ASTRA_ALERTCTL_BUS");
	/* nothing asked the daemon */
	ck_assert_uint_eq (fake.calls->len, 0);
}
END_TEST

/* children read as they run: monitor, and runs on a terminal */

typedef struct {
	GString *buf;
	guint id;
} CliStream;

typedef struct {
	GSubprocess *proc;
	CliStream out;
	CliStream err;
	gboolean exited;
} CliChild;

/* cleared by the teardown even when a test fails */
static CliChild cli_child;

static gboolean
cli_stream_read_cb (gint fd, GIOCondition condition, gpointer user_data)
{
	CliStream *stream = user_data;
	char chunk[4096];
	gssize n = read (fd, chunk, sizeof (chunk));

	if (n > 0) {
		g_string_append_len (stream->buf, chunk, n);
		return G_SOURCE_CONTINUE;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return G_SOURCE_CONTINUE;
	/* end of file, or EIO from a terminal whose other end is closed */
	stream->id = 0;
	return G_SOURCE_REMOVE;
}

static void
cli_stream_watch (CliStream *stream, int fd)
{
	stream->buf = g_string_new (NULL);
	g_unix_set_fd_nonblocking (fd, TRUE, NULL);
	stream->id = g_unix_fd_add (fd, G_IO_IN | G_IO_HUP | G_IO_ERR, cli_stream_read_cb, stream);
}

static void
cli_stream_clear (CliStream *stream)
{
	g_clear_handle_id (&stream->id, g_source_remove);
	if (stream->buf != NULL)
		g_string_free (stream->buf, TRUE);
	stream->buf = NULL;
}

static void
cli_child_exited_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
	cli_child.exited = TRUE;
}

static gboolean
cli_child_done_cb (gpointer user_data)
{
	return cli_child.exited && cli_child.out.id == 0 && cli_child.err.id == 0;
}

static void
cli_child_clear (void)
{
	if (cli_child.proc != NULL && !cli_child.exited) {
		g_subprocess_force_exit (cli_child.proc);
		astra_test_wait_until (cli_child_done_cb, NULL, CLI_TIMEOUT_MS);
	}
	cli_stream_clear (&cli_child.out);
	cli_stream_clear (&cli_child.err);
	g_clear_object (&cli_child.proc);
	memset (&cli_child, 0, sizeof (cli_child));
}

static GSubprocessLauncher *
cli_launcher_new (GSubprocessFlags flags)
{
	GSubprocessLauncher *launcher = g_subprocess_launcher_new (flags);
	g_autoptr(GPtrArray) env = cli_env_new ();

	for (guint i = 0; i < env->len; i++) {
		const char *item = g_ptr_array_index (env, i);
		const char *eq = strchr (item, '=');
		g_autofree char *name = eq != NULL ? g_strndup (item, (gsize) (eq - item)) : g_strdup (item);

		if (eq != NULL)
			g_subprocess_launcher_setenv (launcher, name, eq + 1, TRUE);
		else
			g_subprocess_launcher_unsetenv (launcher, name);
	}
	return launcher;
}

static void
cli_monitor_start (const char *json)
{
	g_autoptr(GSubprocessLauncher) launcher =
		       cli_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
	g_autoptr(GError) error = NULL;

	cli_child.proc =
	    g_subprocess_launcher_spawn (launcher, &error, cli_binary (), "--session", "monitor", json, NULL);
	astra_assert_no_error (error);
	cli_stream_watch (&cli_child.out, g_unix_input_stream_get_fd (G_UNIX_INPUT_STREAM (
					      g_subprocess_get_stdout_pipe (cli_child.proc))));
	cli_stream_watch (&cli_child.err, g_unix_input_stream_get_fd (G_UNIX_INPUT_STREAM (
					      g_subprocess_get_stderr_pipe (cli_child.proc))));
	g_subprocess_wait_async (cli_child.proc, NULL, cli_child_exited_cb, NULL);
}

static gboolean
cli_monitor_ready_cb (gpointer user_data)
{
	return strstr (cli_child.err.buf->str, "press Ctrl-C") != NULL || cli_child.exited;
}

static gboolean
cli_monitor_lines_cb (gpointer user_data)
{
	guint n = 0;

	for (const char *p = cli_child.out.buf->str; *p != '\0'; p++)
		n += *p == '\n';
	return n >= GPOINTER_TO_UINT (user_data) || cli_child.exited;
}

static void
cli_monitor_emit (void)
{
	astra_dbus_alerts1_emit_event_emitted (
	    fake.skeleton, "alert.triggered", "evt_0003",
	    g_variant_new_parsed ("{'timestamp': <%x>, 'severity': <'critical'>, 'agent_id': <'edge-7'>,"
				  " 'rule': <'cpu-high'>, 'webhooks': <uint32 2>, 'silenced': <false>}",
				  CLI_T0));
	astra_dbus_alerts1_emit_alert_changed (
	    fake.skeleton,
	    g_variant_new_parsed ("{'rule': <'cpu-high'>, 'state': <'firing'>, 'severity': <'critical'>,"
				  " 'labels': <{'host': 'web-1'}>, 'value': <97.5>, 'since': <%x>,"
				  " 'event_id': <'evt_0003'>}",
				  CLI_T0));
	astra_dbus_alerts1_emit_delivery_failed (
	    fake.skeleton,
	    g_variant_new_parsed (
		"{'id': <int64 43>, 'event_id': <'evt_0003'>, 'event_type': <'alert.triggered'>,"
		" 'webhook': <'pager'>, 'attempt': <uint32 2>, 'status': <uint32 503>,"
		" 'reason': <'503 Service Unavailable'>, 'final': <true>}"));
}

static void
cli_monitor_run (const char *json)
{
	cli_monitor_start (json);
	ck_assert (astra_test_wait_until (cli_monitor_ready_cb, NULL, CLI_TIMEOUT_MS));
	ck_assert_msg (!cli_child.exited, "monitor exited: %s", cli_child.err.buf->str);
	ck_assert_str_eq (cli_child.err.buf->str,
			  "monitoring astra-alertd on the session bus; press Ctrl-C to stop\n");
	cli_monitor_emit ();
	ck_assert_msg (astra_test_wait_until (cli_monitor_lines_cb, GUINT_TO_POINTER (3), CLI_TIMEOUT_MS),
		       "got: %s", cli_child.out.buf->str);
	/* like journalctl -f: it runs until stopped, and a stop is a success */
	ck_assert (!cli_child.exited);
	g_subprocess_send_signal (cli_child.proc, SIGTERM);
	ck_assert (astra_test_wait_until (cli_child_done_cb, NULL, CLI_TIMEOUT_MS));
	ck_assert (g_subprocess_get_if_exited (cli_child.proc));
	ck_assert_int_eq (g_subprocess_get_exit_status (cli_child.proc), 0);
}

START_TEST (test_cli_monitor)
{
	g_auto(GStrv) lines = NULL;
	gboolean subscribed = FALSE;

	cli_monitor_run (NULL);
	/* the daemon sends events and failed deliveries to subscribers only */
	for (guint i = 0; i < fake.calls->len; i++)
		subscribed = subscribed || g_str_has_prefix (g_ptr_array_index (fake.calls, i), "Subscribe ");
	ck_assert (subscribed);
	lines = g_strsplit (cli_child.out.buf->str, "\n", -1);
	ck_assert_uint_eq (g_strv_length (lines), 4);
	/* each line starts with the local time it arrived (TZ=UTC) */
	for (guint i = 0; i < 3; i++)
		ck_assert_msg (g_regex_match_simple ("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\+00:00 ",
						     lines[i], 0, 0),
			       "%s", lines[i]);
	astra_assert_contains (lines[0], " event alert.triggered evt_0003 severity=critical agent_id=edge-7 "
					 "rule=cpu-high webhooks=2");
	astra_assert_not_contains (lines[0], "silenced");
	astra_assert_contains (lines[1], " alert cpu-high firing severity=critical value=97.5 {host=web-1} "
					 "event_id=evt_0003");
	astra_assert_contains (lines[2],
			       " delivery 43 failed webhook=pager event_type=alert.triggered "
			       "event_id=evt_0003 attempt=2 status=503 final: 503 Service Unavailable");
	ck_assert_str_eq (lines[3], "");
}
END_TEST

START_TEST (test_cli_monitor_json)
{
	cli_monitor_run ("--json");
	/* one object per line, the payloads as sent */
	astra_check_assert_golden ("cli", "monitor.json", cli_child.out.buf->str);
}
END_TEST

/* a reader that is gone (here a full disk) ends monitor: exit 1, saying why once */
START_TEST (test_cli_monitor_write_error)
{
	g_autoptr(GSubprocessLauncher) launcher = NULL;
	g_autoptr(GError) error = NULL;

	if (!g_file_test ("/dev/full", G_FILE_TEST_EXISTS)) {
		g_print ("check-cli: monitor write error skipped: no /dev/full\n");
		return;
	}
	launcher = cli_launcher_new (G_SUBPROCESS_FLAGS_STDERR_PIPE);
	g_subprocess_launcher_set_stdout_file_path (launcher, "/dev/full");
	cli_child.proc =
	    g_subprocess_launcher_spawn (launcher, &error, cli_binary (), "--session", "monitor", NULL);
	astra_assert_no_error (error);
	cli_stream_watch (&cli_child.err, g_unix_input_stream_get_fd (G_UNIX_INPUT_STREAM (
					      g_subprocess_get_stderr_pipe (cli_child.proc))));
	g_subprocess_wait_async (cli_child.proc, NULL, cli_child_exited_cb, NULL);
	ck_assert (astra_test_wait_until (cli_monitor_ready_cb, NULL, CLI_TIMEOUT_MS));
	ck_assert_msg (!cli_child.exited, "monitor exited: %s", cli_child.err.buf->str);
	cli_monitor_emit ();
	ck_assert (astra_test_wait_until (cli_child_done_cb, NULL, CLI_TIMEOUT_MS));
	ck_assert (g_subprocess_get_if_exited (cli_child.proc));
	ck_assert_int_eq (g_subprocess_get_exit_status (cli_child.proc), 1);
	ck_assert_str_eq (cli_child.err.buf->str,
			  "monitoring astra-alertd on the session bus; press Ctrl-C to stop\n"
			  "astra-alertctl monitor: cannot write to stdout: No space left on device\n");
}
END_TEST

/* colour only on a terminal */

/* the output of `webhooks` on a terminal, NULL if this machine has no pseudo-terminals */
static char *
cli_run_on_pty (const char *no_color)
{
	g_autoptr(GSubprocessLauncher) launcher = cli_launcher_new (G_SUBPROCESS_FLAGS_STDERR_PIPE);
	g_autoptr(GError) error = NULL;
	char *out;
	int master = -1;
	int slave = -1;

	cli_child_clear ();
	if (openpty (&master, &slave, NULL, NULL, NULL) != 0)
		return NULL;
	g_subprocess_launcher_setenv (launcher, "TERM", "xterm", TRUE);
	if (no_color != NULL)
		g_subprocess_launcher_setenv (launcher, "NO_COLOR", no_color, TRUE);
	g_subprocess_launcher_take_stdout_fd (launcher, slave);
	cli_child.proc =
	    g_subprocess_launcher_spawn (launcher, &error, cli_binary (), "--session", "webhooks", NULL);
	astra_assert_no_error (error);
	/* the launcher holds our copy of the terminal's end: it must go, or reading never ends */
	g_clear_object (&launcher);
	cli_stream_watch (&cli_child.out, master);
	cli_stream_watch (&cli_child.err, g_unix_input_stream_get_fd (G_UNIX_INPUT_STREAM (
					      g_subprocess_get_stderr_pipe (cli_child.proc))));
	g_subprocess_wait_async (cli_child.proc, NULL, cli_child_exited_cb, NULL);
	ck_assert (astra_test_wait_until (cli_child_done_cb, NULL, CLI_TIMEOUT_MS));
	close (master);
	ck_assert_msg (g_subprocess_get_if_exited (cli_child.proc) &&
			   g_subprocess_get_exit_status (cli_child.proc) == 0,
		       "stderr: %s", cli_child.err.buf->str);
	out = g_strdup (cli_child.out.buf->str);
	cli_child_clear ();
	return out;
}

START_TEST (test_cli_color)
{
	g_autofree char *colored = cli_run_on_pty (NULL);
	g_autofree char *plain = NULL;
	g_autofree char *empty = NULL;

	/* a chroot or container without /dev/pts: nothing here can be a terminal */
	if (colored == NULL) {
		printf ("test_cli_color: skipped, openpty() failed: no pseudo-terminals (is /dev/pts mounted?)\n");
		return;
	}
	plain = cli_run_on_pty ("1");
	empty = cli_run_on_pty ("");
	ck_assert (plain != NULL && empty != NULL);
	astra_assert_contains (colored, "\033[1mNAME");
	astra_assert_contains (colored, "\033[32menabled\033[0m");
	astra_assert_contains (colored, "\033[1;31mdisabled\033[0m");
	/* the columns line up as without colour: the codes do not count as width */
	astra_assert_contains (colored, "ops-slack  slack      \033[32menabled\033[0m ");

	ck_assert_msg (strchr (plain, '\033') == NULL, "%s", plain);
	astra_assert_contains (plain, "ops-slack  slack      enabled ");

	/* an empty NO_COLOR does not count (no-color.org) */
	astra_assert_contains (empty, "\033[1mNAME");
}
END_TEST

/* bash completion */

static char *
cli_complete (const char *words)
{
	g_autofree char *script_path =
	    astra_check_source_path ("core", "cli", "astra-alertctl.bash-completion", NULL);
	g_autofree char *script =
	    g_strdup_printf ("source '%s' && COMP_WORDS=('%s' %s) && "
			     "COMP_CWORD=$((${#COMP_WORDS[@]} - 1)) && "
			     "COMP_LINE=\"${COMP_WORDS[*]}\" && COMP_POINT=${#COMP_LINE} && "
			     "_astra_alertctl && printf '%%s\\n' \"${COMPREPLY[@]}\" | sort",
			     script_path, cli_binary (), words);
	const char *args[] = { "bash", "--norc", "--noprofile", "-c", script, NULL };
	g_autoptr(GPtrArray) env = cli_env_new ();
	g_autoptr(GError) error = NULL;
	g_autofree char *err = NULL;
	char *out = NULL;
	int status = -1;

	g_ptr_array_add (env, NULL);
	ck_assert_msg (astra_test_run (args, (const char *const *) env->pdata, NULL, CLI_TIMEOUT_MS, &status,
				       &out, &err, &error),
		       "%s", error != NULL ? error->message : "?");
	ck_assert_msg (status == 0, "bash exit %d: %s", status, err);
	ck_assert_msg (err == NULL || err[0] == '\0', "stderr: %s", err);
	return out != NULL ? out : g_strdup ("");
}

START_TEST (test_cli_completion)
{
	g_autofree char *commands = cli_complete ("''");
	g_autofree char *de = cli_complete ("de");
	g_autofree char *silence = cli_complete ("silence ''");
	g_autofree char *options = cli_complete ("deliveries --");
	g_autofree char *states = cli_complete ("deliveries --state ''");
	g_autofree char *webhooks = cli_complete ("--session test ''");
	g_autofree char *webhook_o = cli_complete ("--session deliveries --webhook o");
	g_autofree char *events = cli_complete ("--session render ops-slack --event alert.");
	g_autofree char *silences = cli_complete ("--session silence remove ''");
	g_autofree char *files = NULL;
	g_autofree char *no_daemon = NULL;

	astra_assert_contains (commands, "deliveries\n");
	astra_assert_contains (commands, "monitor\n");
	astra_assert_contains (commands, "silence\n");
	ck_assert_str_eq (de, "deliveries\n");
	ck_assert_str_eq (silence, "add\nlist\nremove\n");
	astra_assert_contains (options, "--limit\n");
	astra_assert_contains (options, "--state\n");
	astra_assert_contains (options, "--webhook\n");
	astra_assert_contains (options, "--json\n");
	ck_assert_str_eq (states, "dead\ndelivered\npending\nsilenced\nskipped\n");
	/* webhook names, from the (fake) daemon */
	ck_assert_str_eq (webhooks, "old-hook\nops-slack\npager\n");
	ck_assert_str_eq (webhook_o, "old-hook\nops-slack\n");
	ck_assert_str_eq (events, "alert.resolved\nalert.triggered\n");
	ck_assert_str_eq (silences, "sil_01TEST\n");
	/* file names, spaces and all */
	{
		g_autofree char *dir = astra_check_tmpdir_new (NULL, "astra-cli", 0700);
		g_autofree char *path = astra_check_write_file (dir, "my event.json", "{}", 0600);
		g_autofree char *words = g_strdup_printf ("render ops-slack --file '%s/my'", dir);
		g_autofree char *expected = g_strdup_printf ("%s\n", path);

		files = cli_complete (words);
		ck_assert_str_eq (files, expected);
		astra_check_tmpdir_clear (&dir);
	}

	/* silent when the daemon is not there */
	fake_release_name ();
	no_daemon = cli_complete ("--session test ''");
	ck_assert_str_eq (no_daemon, "\n");
}
END_TEST

static Suite *
cli_suite (void)
{
	Suite *s = suite_create ("cli");
	TCase *tc = tcase_create ("cli");

	tcase_add_checked_fixture (tc, fake_setup, fake_teardown);
	tcase_set_timeout (tc, 120);
	tcase_add_test (tc, test_cli_json_golden);
	tcase_add_test (tc, test_cli_json_types);
	tcase_add_test (tc, test_cli_tables);
	tcase_add_test (tc, test_cli_empty);
	tcase_add_test (tc, test_cli_relative_times);
	tcase_add_test (tc, test_cli_forwarded);
	tcase_add_test (tc, test_cli_forwarded_files);
	tcase_add_test (tc, test_cli_stdin);
	tcase_add_test (tc, test_cli_daemon_errors);
	tcase_add_test (tc, test_cli_usage);
	tcase_add_test (tc, test_cli_no_daemon);
	tcase_add_test (tc, test_cli_help);
	tcase_add_test (tc, test_cli_monitor);
	tcase_add_test (tc, test_cli_monitor_json);
	tcase_add_test (tc, test_cli_monitor_write_error);
	tcase_add_test (tc, test_cli_color);
	tcase_add_test (tc, test_cli_completion);
	suite_add_tcase (s, tc);
	return s;
}

int
main (void)
{
	return astra_check_run_suite (cli_suite ());
}
