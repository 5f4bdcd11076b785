/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * org.astranetmon.Alerts1 end to end: each test starts a private bus
 * (dbus-daemon with tests/dbus/session.conf on an abstract socket of its
 * own) and the real astra-alertd on it (--bus=session), then calls every
 * method, reads every property and waits for every signal through the
 * gdbus-codegen proxy, and calls some as an outside client with `gdbus call`.
 * Webhooks deliver to a loopback receiver; every reply is checked for the
 * webhook's secret and URL path, which must never cross the bus.
 *
 * Calls that make the daemon deliver to our receiver while they run
 * (TestWebhook) are made asynchronously: the receiver answers from this
 * process's main loop.
 */

#include "config.h"

#include <check.h>
#include <glib/gstdio.h>
#include <grp.h>
#include <math.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "astra.h"
#include "astra-check-common.h"
#include "astra-dbus-generated.h"
#include "astra-test-util.h"

#define BUS_NAME "org.astranetmon.Alerts1"
#define OBJECT_PATH "/org/astranetmon/Alerts1"
#define SECRET "s3cr3t-for-check-dbus-71c2"
/* the path of the webhook's URL, a credential for Slack and the like: never shown either */
#define URL_PATH "/hooks/p4th-T0KEN-8c1e"
#define ROUTING_KEY "R0utingKey0123456789abcdefABCDEF"
#define OWNED_LOG "D-Bus: " BUS_NAME " on the session bus"

#define RULES                                                                                                \
	"[rule high-latency]\nmetric = latency_ms\nwarning = > 100\nlabels = team=netops\n"                  \
	"summary = Latency on {agent_id} is {value} ms\n"

typedef struct {
	AstraTestEnv env;
	GSubprocess *bus;
	char *address;
	GDBusConnection *connection;
	AstraDBusAlerts1 *proxy;
	char *extra_webhooks;
	/* signals seen, as printed variants and as values */
	GPtrArray *emitted;  /* GVariant (sssa{sv}): type, id, summary */
	GPtrArray *alerts;   /* GVariant a{sv} */
	GPtrArray *failures; /* GVariant a{sv} */
	GPtrArray *changed;  /* property names from PropertiesChanged, g_strdup'd */
} Fixture;

static Fixture fx;

/* the private bus */

static void
child_setup_cb (gpointer user_data)
{
	prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static void
start_bus (void)
{
	g_autofree char *conf = astra_check_source_path ("tests", "dbus", "session.conf", NULL);
	g_autofree char *listen =
	    g_strdup_printf ("unix:abstract=/astra-check-dbus/%d-%08x", (int) getpid (), g_random_int ());
	g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (
	    G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
	g_autoptr(GDataInputStream) out = NULL;
	g_autoptr(GError) error = NULL;
	const char *argv[] = { "dbus-daemon", "--config-file",     conf,       "--address",
			       listen,        "--print-address=1", "--nofork", NULL };

	g_subprocess_launcher_set_child_setup (launcher, child_setup_cb, NULL, NULL);
	fx.bus = g_subprocess_launcher_spawnv (launcher, argv, &error);
	ck_assert_msg (fx.bus != NULL, "dbus-daemon (package dbus-daemon) cannot be started: %s",
		       error != NULL ? error->message : "");
	/* it prints its address once it listens */
	out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (fx.bus));
	fx.address = g_data_input_stream_read_line (out, NULL, NULL, &error);
	ck_assert_msg (fx.address != NULL, "dbus-daemon did not say its address: %s",
		       error != NULL ? error->message : "it exited");
	fx.connection = g_dbus_connection_new_for_address_sync (
	    fx.address,
	    G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
	    NULL, NULL, &error);
	astra_assert_no_error (error);
}

static void
fixture_setup (void)
{
	memset (&fx, 0, sizeof (fx));
	/* the client registers the error names too, so errors come back in ASTRA_ERROR */
	(void) ASTRA_ERROR;
	astra_test_env_setup (&fx.env);
	fx.emitted = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
	fx.alerts = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
	fx.failures = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
	fx.changed = g_ptr_array_new_with_free_func (g_free);
	start_bus ();
}

static void
fixture_teardown (void)
{
	if (fx.proxy != NULL)
		g_signal_handlers_disconnect_by_data (fx.proxy, &fx);
	g_clear_object (&fx.proxy);
	g_clear_pointer (&fx.env.daemon, astra_test_daemon_free);
	if (fx.connection != NULL)
		g_dbus_connection_close_sync (fx.connection, NULL, NULL);
	g_clear_object (&fx.connection);
	if (fx.bus != NULL) {
		g_subprocess_force_exit (fx.bus);
		g_subprocess_wait (fx.bus, NULL, NULL);
	}
	g_clear_object (&fx.bus);
	g_free (fx.address);
	g_free (fx.extra_webhooks);
	g_ptr_array_unref (fx.emitted);
	g_ptr_array_unref (fx.alerts);
	g_ptr_array_unref (fx.failures);
	g_ptr_array_unref (fx.changed);
	astra_test_env_teardown (&fx.env);
}

/* every reply and signal: the secret and the URL's path must not be in it */
static void
assert_no_secret (GVariant *value)
{
	g_autofree char *text = g_variant_print (value, FALSE);

	astra_assert_not_contains (text, SECRET);
	astra_assert_not_contains (text, URL_PATH);
	astra_assert_not_contains (text, ROUTING_KEY);
}

/* the daemon */

static char *
webhook_groups (const char *extra)
{
	g_autofree char *url = astra_test_receiver_get_url (fx.env.receiver, URL_PATH);

	return g_strdup_printf ("[webhook hook]\nplugin = generic\nurl = %s\nsecret = %s\n\n%s", url, SECRET,
				extra != NULL ? extra : "");
}

static void
write_config (const char *extra)
{
	g_autofree char *webhooks = webhook_groups (extra);
	g_autofree char *rules_dir = g_build_filename (fx.env.dir, "rules.d", NULL);
	g_autoptr(GError) error = NULL;
	g_autofree char *rules = NULL;

	g_free (fx.env.config_path);
	fx.env.config_path = astra_test_write_config (fx.env.dir, NULL, NULL, webhooks, &error);
	astra_assert_no_error (error);
	ck_assert_int_eq (g_mkdir_with_parents (rules_dir, 0700), 0);
	rules = astra_test_write_file (rules_dir, "latency.rules", RULES, &error);
	astra_assert_no_error (error);
}

static void
emitted_cb (AstraDBusAlerts1 *proxy, const char *type, const char *id, GVariant *summary, gpointer user_data)
{
	GVariant *value = g_variant_ref_sink (g_variant_new ("(ss@a{sv})", type, id, summary));

	assert_no_secret (value);
	g_ptr_array_add (fx.emitted, value);
}

static void
alert_changed_cb (AstraDBusAlerts1 *proxy, GVariant *alert, gpointer user_data)
{
	assert_no_secret (alert);
	g_ptr_array_add (fx.alerts, g_variant_ref (alert));
}

static void
delivery_failed_cb (AstraDBusAlerts1 *proxy, GVariant *delivery, gpointer user_data)
{
	assert_no_secret (delivery);
	g_ptr_array_add (fx.failures, g_variant_ref (delivery));
}

static void
properties_changed_cb (GDBusProxy *proxy, GVariant *changed, GStrv invalidated, gpointer user_data)
{
	GVariantIter iter;
	const char *key;

	g_variant_iter_init (&iter, changed);
	while (g_variant_iter_next (&iter, "{&sv}", &key, NULL))
		g_ptr_array_add (fx.changed, g_strdup (key));
}

static void
make_proxy (void)
{
	g_autoptr(GError) error = NULL;

	g_clear_object (&fx.proxy);
	fx.proxy = astra_dbus_alerts1_proxy_new_sync (fx.connection, G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START,
						      BUS_NAME, OBJECT_PATH, NULL, &error);
	astra_assert_no_error (error);
	g_signal_connect (fx.proxy, "event-emitted", G_CALLBACK (emitted_cb), &fx);
	g_signal_connect (fx.proxy, "alert-changed", G_CALLBACK (alert_changed_cb), &fx);
	g_signal_connect (fx.proxy, "delivery-failed", G_CALLBACK (delivery_failed_cb), &fx);
	g_signal_connect (fx.proxy, "g-properties-changed", G_CALLBACK (properties_changed_cb), &fx);
	/* EventEmitted and DeliveryFailed go out only to subscribers */
	astra_dbus_alerts1_call_subscribe_sync (fx.proxy, NULL, &error);
	astra_assert_no_error (error);
}

static char *
env_address (void)
{
	return g_strdup_printf ("DBUS_SESSION_BUS_ADDRESS=%s", fx.address);
}

/* the daemon on the private bus, once it owns its name */
static void
start_daemon_args (const char *const *more_args)
{
	g_autofree char *env = env_address ();
	const char *const extra_env[] = { env, NULL };
	g_autoptr(GPtrArray) args = g_ptr_array_new ();
	g_autoptr(GError) error = NULL;

	g_ptr_array_add (args, (gpointer) "--bus=session");
	for (guint i = 0; more_args != NULL && more_args[i] != NULL; i++)
		g_ptr_array_add (args, (gpointer) more_args[i]);
	g_ptr_array_add (args, NULL);
	fx.env.daemon = astra_test_daemon_spawn (NULL, fx.env.config_path, (const char *const *) args->pdata,
						 extra_env, ASTRA_TEST_DAEMON_FLAG_NONE, &error);
	astra_assert_no_error (error);
	ck_assert_msg (astra_test_daemon_wait_listening (fx.env.daemon, ASTRA_TEST_TIMEOUT_MS, &error), "%s",
		       error != NULL ? error->message : astra_test_daemon_get_stderr (fx.env.daemon));
	ck_assert_msg (astra_test_daemon_wait_log (fx.env.daemon, OWNED_LOG, 1, ASTRA_TEST_TIMEOUT_MS),
		       "the daemon did not take its name:\n%s", astra_test_daemon_get_stderr (fx.env.daemon));
	make_proxy ();
}

static void
start_daemon (const char *extra_webhooks)
{
	write_config (extra_webhooks);
	start_daemon_args (NULL);
}

static void
stop_daemon (void)
{
	astra_test_daemon_send_signal (fx.env.daemon, SIGTERM);
	ck_assert (astra_test_daemon_wait_exit (fx.env.daemon, ASTRA_TEST_TIMEOUT_MS));
	/* under ASan a leak or an error changes the exit status, and says why */
	ck_assert_msg (astra_test_daemon_get_exit_status (fx.env.daemon) == 0,
		       "astra-alertd exited with %d:\n%s", astra_test_daemon_get_exit_status (fx.env.daemon),
		       astra_test_daemon_get_stderr (fx.env.daemon));
	astra_assert_not_contains (astra_test_daemon_get_stderr (fx.env.daemon), "runtime error");
	astra_assert_not_contains (astra_test_daemon_get_stderr (fx.env.daemon), SECRET);
	g_clear_pointer (&fx.env.daemon, astra_test_daemon_free);
}

/* replies */

static void
result_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
	*(GAsyncResult **) user_data = g_object_ref (result);
}

static gboolean
result_ready_cb (gpointer user_data)
{
	return *(GAsyncResult **) user_data != NULL;
}

/* waits (iterating) for an async call's result */
static GAsyncResult *
wait_result (GAsyncResult **slot)
{
	ck_assert_msg (astra_test_wait_until (result_ready_cb, slot, ASTRA_TEST_TIMEOUT_MS),
		       "no reply in time");
	return *slot;
}

/* ERROR is ASTRA_ERROR CODE from the daemon, with a message that contains NEEDLE */
static void
assert_dbus_error (GError *error, int code, const char *needle)
{
	ck_assert_msg (error != NULL, "the call succeeded; expected error %d", code);
	ck_assert_msg (g_dbus_error_is_remote_error (error), "not from the daemon: %s", error->message);
	g_dbus_error_strip_remote_error (error);
	ck_assert_msg (g_error_matches (error, ASTRA_ERROR, code), "expected code %d, got %s %d: %s", code,
		       g_quark_to_string (error->domain), error->code, error->message);
	astra_assert_not_contains (error->message, SECRET);
	astra_assert_not_contains (error->message, URL_PATH);
	if (needle != NULL)
		astra_assert_contains (error->message, needle);
}

static const char *
dict_str (GVariant *dict, const char *key)
{
	const char *value = NULL;

	ck_assert_msg (g_variant_lookup (dict, key, "&s", &value), "no string '%s' in %s", key,
		       g_variant_print (dict, FALSE));
	return value;
}

static guint32
dict_u (GVariant *dict, const char *key)
{
	guint32 value = 0;

	ck_assert_msg (g_variant_lookup (dict, key, "u", &value), "no uint32 '%s'", key);
	return value;
}

static gint64
dict_x (GVariant *dict, const char *key)
{
	gint64 value = 0;

	ck_assert_msg (g_variant_lookup (dict, key, "x", &value), "no int64 '%s'", key);
	return value;
}

static double
dict_d (GVariant *dict, const char *key)
{
	double value = 0;

	ck_assert_msg (g_variant_lookup (dict, key, "d", &value), "no double '%s'", key);
	return value;
}

static gboolean
dict_b (GVariant *dict, const char *key)
{
	gboolean value = FALSE;

	ck_assert_msg (g_variant_lookup (dict, key, "b", &value), "no boolean '%s'", key);
	return value;
}

/* the element of an aa{sv} whose KEY is VALUE */
static GVariant *
find_item (GVariant *list, const char *key, const char *value)
{
	for (gsize i = 0; i < g_variant_n_children (list); i++) {
		g_autoptr(GVariant) item = g_variant_get_child_value (list, i);
		const char *got = NULL;

		if (g_variant_lookup (item, key, "&s", &got) && g_strcmp0 (got, value) == 0)
			return g_steal_pointer (&item);
	}
	ck_abort_msg ("no item with %s = %s in %s", key, value, g_variant_print (list, FALSE));
	return NULL;
}

static GVariant *
list_deliveries (GVariant *filter)
{
	g_autoptr(GVariant) out = NULL;
	g_autoptr(GError) error = NULL;

	ck_assert (astra_dbus_alerts1_call_list_deliveries_sync (fx.proxy, filter, &out, NULL, &error));
	astra_assert_no_error (error);
	assert_no_secret (out);
	return g_steal_pointer (&out);
}

static GVariant *
filter_new (const char *webhook, const char *state, guint32 limit)
{
	GVariantBuilder builder;

	g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
	if (webhook != NULL)
		g_variant_builder_add (&builder, "{sv}", "webhook", g_variant_new_string (webhook));
	if (state != NULL)
		g_variant_builder_add (&builder, "{sv}", "state", g_variant_new_string (state));
	if (limit > 0)
		g_variant_builder_add (&builder, "{sv}", "limit", g_variant_new_uint32 (limit));
	return g_variant_builder_end (&builder);
}

static gboolean
n_emitted_cb (gpointer user_data)
{
	return fx.emitted->len >= GPOINTER_TO_UINT (user_data);
}

static gboolean
n_alerts_cb (gpointer user_data)
{
	return fx.alerts->len >= GPOINTER_TO_UINT (user_data);
}

static gboolean
n_failures_cb (gpointer user_data)
{
	return fx.failures->len >= GPOINTER_TO_UINT (user_data);
}

static gboolean
generation_cb (gpointer user_data)
{
	return astra_dbus_alerts1_get_config_generation (fx.proxy) == GPOINTER_TO_UINT (user_data);
}

static gboolean
agent_count_cb (gpointer user_data)
{
	return astra_dbus_alerts1_get_agent_count (fx.proxy) == GPOINTER_TO_UINT (user_data);
}

static gboolean
firing_count_cb (gpointer user_data)
{
	return astra_dbus_alerts1_get_firing_alert_count (fx.proxy) == GPOINTER_TO_UINT (user_data);
}

static gboolean
changed_has (const char *name)
{
	for (guint i = 0; i < fx.changed->len; i++) {
		if (g_strcmp0 (g_ptr_array_index (fx.changed, i), name) == 0)
			return TRUE;
	}
	return FALSE;
}

static char *
emit_event (const char *type, const char *data)
{
	g_autoptr(GError) error = NULL;
	char *id = NULL;

	ck_assert_msg (astra_dbus_alerts1_call_emit_event_sync (fx.proxy, type, data, &id, NULL, &error),
		       "%s", error != NULL ? error->message : "");
	ck_assert (g_str_has_prefix (id, "evt_"));
	return id;
}

#define SPEEDTEST_DATA                                                                                       \
	"{\"agent_id\":\"agent-9\",\"hostname\":\"edge-9\",\"tenant_id\":\"t1\",\"download_mbps\":94.5,"     \
	"\"upload_mbps\":11,\"ping_ms\":12,\"jitter_ms\":1.5,\"server\":\"speed.example.net\",\"isp\":"      \
	"\"ISP\"}"

/* properties and status */

START_TEST (test_status_and_properties)
{
	g_autoptr(GVariant) status = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *listen = NULL;
	g_autofree char *url = NULL;
	gint64 started_at;

	start_daemon (NULL);
	ck_assert (astra_dbus_alerts1_call_get_status_sync (fx.proxy, &status, NULL, &error));
	astra_assert_no_error (error);
	assert_no_secret (status);

	ck_assert_str_eq (dict_str (status, "version"), PACKAGE_VERSION);
	started_at = dict_x (status, "started_at");
	ck_assert (started_at > g_get_real_time () - 60 * G_USEC_PER_SEC && started_at <= g_get_real_time ());
	ck_assert_str_eq (dict_str (status, "config_path"), fx.env.config_path);
	ck_assert_uint_eq (dict_u (status, "config_generation"), 1);
	url = astra_test_daemon_get_url (fx.env.daemon, "/");
	listen = g_strdup_printf ("http://%s/", dict_str (status, "listen"));
	ck_assert_str_eq (listen, url);
	astra_assert_contains (dict_str (status, "state_dir"), fx.env.dir);
	ck_assert_uint_eq (dict_u (status, "rules"), 1);
	ck_assert_uint_eq (dict_u (status, "webhooks"), 1);
	ck_assert_uint_eq (dict_u (status, "agents"), 0);
	ck_assert_uint_eq (dict_u (status, "agents_offline"), 0);
	ck_assert_uint_eq (dict_u (status, "alerts_firing"), 0);
	ck_assert_uint_eq (dict_u (status, "alerts_pending"), 0);
	ck_assert_uint_eq (dict_u (status, "silences"), 0);
	ck_assert_uint_eq (dict_u (status, "deliveries_pending"), 0);
	ck_assert_uint_eq (dict_u (status, "deliveries_dead"), 0);
	ck_assert_uint_eq (dict_u (status, "in_flight"), 0);

	/* every property, as the proxy read them when it was made */
	ck_assert_str_eq (astra_dbus_alerts1_get_version (fx.proxy), PACKAGE_VERSION);
	ck_assert_int_eq (astra_dbus_alerts1_get_started_at (fx.proxy), started_at);
	ck_assert_uint_eq (astra_dbus_alerts1_get_config_generation (fx.proxy), 1);
	ck_assert_uint_eq (astra_dbus_alerts1_get_rule_count (fx.proxy), 1);
	ck_assert_uint_eq (astra_dbus_alerts1_get_webhook_count (fx.proxy), 1);
	ck_assert_uint_eq (astra_dbus_alerts1_get_agent_count (fx.proxy), 0);
	ck_assert_uint_eq (astra_dbus_alerts1_get_firing_alert_count (fx.proxy), 0);
	stop_daemon ();
}
END_TEST

START_TEST (test_list_plugins_webhooks_rules)
{
	g_autoptr(GVariant) plugins = NULL;
	g_autoptr(GVariant) webhooks = NULL;
	g_autoptr(GVariant) rules = NULL;
	g_autoptr(GVariant) generic = NULL;
	g_autoptr(GVariant) hook = NULL;
	g_autoptr(GVariant) only = NULL;
	g_autoptr(GVariant) rule = NULL;
	g_autoptr(GVariant) events = NULL;
	g_autoptr(GVariant) rule_hooks = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *rules_file = g_build_filename (fx.env.dir, "rules.d", "latency.rules", NULL);

	start_daemon ("[webhook only]\nplugin = generic\nurl = http://127.0.0.1:9/x\nevents = alert.*\n"
		      "min-severity = warning\nenabled = false\n");

	ck_assert (astra_dbus_alerts1_call_list_plugins_sync (fx.proxy, &plugins, NULL, &error));
	astra_assert_no_error (error);
	generic = find_item (plugins, "name", "generic");
	ck_assert (g_str_has_suffix (dict_str (generic, "file"), "/generic.so"));
	ck_assert_uint_eq (dict_u (generic, "abi"), ASTRA_PLUGIN_ABI_VERSION);
	ck_assert_str_eq (dict_str (generic, "state"), "loaded");
	ck_assert_str_eq (dict_str (generic, "error"), "");
	ck_assert (strlen (dict_str (generic, "description")) > 0);
	g_clear_pointer (&generic, g_variant_unref);
	generic = find_item (plugins, "name", "pagerduty");
	ck_assert_str_eq (dict_str (generic, "state"), "loaded");

	ck_assert (astra_dbus_alerts1_call_list_webhooks_sync (fx.proxy, &webhooks, NULL, &error));
	astra_assert_no_error (error);
	assert_no_secret (webhooks);
	ck_assert_uint_eq (g_variant_n_children (webhooks), 2);
	hook = find_item (webhooks, "name", "hook");
	ck_assert_str_eq (dict_str (hook, "plugin"), "generic");
	ck_assert (dict_b (hook, "enabled"));
	ck_assert_str_eq (dict_str (hook, "disabled_reason"), "");
	ck_assert_str_eq (dict_str (hook, "min_severity"), "info");
	ck_assert_str_eq (dict_str (hook, "circuit"), "closed");
	ck_assert_uint_eq (dict_u (hook, "pending"), 0);
	ck_assert_uint_eq (dict_u (hook, "dead"), 0);
	ck_assert_uint_eq (dict_u (hook, "in_flight"), 0);
	ck_assert_uint_eq (dict_u (hook, "last_status"), 0);
	ck_assert_str_eq (dict_str (hook, "last_error"), "");
	/* no URL in any form */
	ck_assert (!g_variant_lookup (hook, "url", "&s", NULL));
	only = find_item (webhooks, "name", "only");
	ck_assert (!dict_b (only, "enabled"));
	ck_assert_str_eq (dict_str (only, "min_severity"), "warning");
	events = g_variant_lookup_value (only, "events", G_VARIANT_TYPE_STRING_ARRAY);
	ck_assert_uint_eq (g_variant_n_children (events), 1);
	{
		g_autofree const char **strv = g_variant_get_strv (events, NULL);
		ck_assert_str_eq (strv[0], "alert.*");
	}
	{
		g_autofree char *text = g_variant_print (webhooks, FALSE);
		astra_assert_not_contains (text, "127.0.0.1:9");
	}

	ck_assert (astra_dbus_alerts1_call_list_rules_sync (fx.proxy, &rules, NULL, &error));
	astra_assert_no_error (error);
	rule = find_item (rules, "name", "high-latency");
	ck_assert_str_eq (dict_str (rule, "file"), rules_file);
	ck_assert_str_eq (dict_str (rule, "metric"), "latency_ms");
	ck_assert_str_eq (dict_str (rule, "severity"), "warning");
	ck_assert_str_eq (dict_str (rule, "expression"), "warning > 100");
	ck_assert (g_variant_lookup (rule, "for", "t", NULL));
	rule_hooks = g_variant_lookup_value (rule, "webhooks", G_VARIANT_TYPE_STRING_ARRAY);
	ck_assert_uint_eq (g_variant_n_children (rule_hooks), 0);
	stop_daemon ();
}
END_TEST

/* the number of the line of PATH that holds NEEDLE */
static guint
line_of (const char *path, const char *needle)
{
	g_autofree char *text = astra_check_read_file (path, NULL);
	g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

	for (guint i = 0; lines[i] != NULL; i++) {
		if (strstr (lines[i], needle) != NULL)
			return i + 1;
	}
	ck_abort_msg ("%s has no line with %s", path, needle);
	return 0;
}

/* Reload: a new generation, with PropertiesChanged; a refused one names FILE:LINE and changes nothing */
START_TEST (test_reload)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *bad_timeout = NULL;
	g_autofree char *bad_bus = NULL;
	guint generation = 0;

	start_daemon (NULL);
	write_config ("[webhook second]\nplugin = generic\nurl = http://127.0.0.1:9/x\n");
	ck_assert (astra_dbus_alerts1_call_reload_sync (fx.proxy, &generation, NULL, &error));
	astra_assert_no_error (error);
	ck_assert_uint_eq (generation, 2);
	ck_assert (astra_test_wait_until (generation_cb, GUINT_TO_POINTER (2), ASTRA_TEST_TIMEOUT_MS));
	ck_assert (changed_has ("ConfigGeneration"));
	ck_assert (changed_has ("WebhookCount"));
	ck_assert_uint_eq (astra_dbus_alerts1_get_webhook_count (fx.proxy), 2);

	/* two mistakes: both reported, one per line, located; the running set stays */
	write_config ("[webhook second]\nplugin = generic\nurl = http://127.0.0.1:9/x\ntimeout = 0\n"
		      "[dbus]\nbus = sometimes\n");
	ck_assert (!astra_dbus_alerts1_call_reload_sync (fx.proxy, &generation, NULL, &error));
	bad_timeout = g_strdup_printf ("%s:%u: [webhook second] timeout: ", fx.env.config_path,
				       line_of (fx.env.config_path, "timeout = 0"));
	assert_dbus_error (error, ASTRA_ERROR_INVALID_CONFIG, bad_timeout);
	bad_bus = g_strdup_printf ("%s:%u: [dbus] bus: 'sometimes' is not a bus", fx.env.config_path,
				   line_of (fx.env.config_path, "bus = sometimes"));
	astra_assert_contains (error->message, bad_bus);
	/* one per line */
	{
		g_auto(GStrv) lines = g_strsplit (error->message, "\n", -1);
		ck_assert_uint_eq (g_strv_length (lines), 2);
	}
	g_clear_error (&error);
	ck_assert_uint_eq (astra_dbus_alerts1_get_config_generation (fx.proxy), 2);

	/* SIGHUP takes the same path */
	astra_test_daemon_send_signal (fx.env.daemon, SIGHUP);
	ck_assert (
	    astra_test_daemon_wait_log (fx.env.daemon, "reload refused: 2 errors", 2, ASTRA_TEST_TIMEOUT_MS));
	write_config (NULL);
	astra_test_daemon_send_signal (fx.env.daemon, SIGHUP);
	ck_assert (astra_test_wait_until (generation_cb, GUINT_TO_POINTER (3), ASTRA_TEST_TIMEOUT_MS));
	ck_assert_uint_eq (astra_dbus_alerts1_get_webhook_count (fx.proxy), 1);
	stop_daemon ();
}
END_TEST

/* signals */

START_TEST (test_event_emitted_and_agents)
{
	g_autofree char *url = NULL;
	g_autoptr(AstraTestReply) reply = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) summary = NULL;
	g_autoptr(GVariant) agents = NULL;
	g_autoptr(GVariant) agent = NULL;
	const char *type = NULL;
	const char *id = NULL;

	start_daemon (NULL);
	url = astra_test_daemon_get_url (fx.env.daemon, "/v1/reports");
	reply = astra_test_post_json (
	    fx.env.session, url,
	    "{\"type\":\"heartbeat\",\"agent_id\":\"edge-1\",\"hostname\":\"edge-1.example\","
	    "\"tenant_id\":\"t1\",\"version\":\"2.1.0\",\"interval_s\":30}",
	    &error);
	astra_assert_no_error (error);
	ck_assert_uint_eq (reply->status, 202);

	ck_assert (astra_test_wait_until (n_emitted_cb, GUINT_TO_POINTER (1), ASTRA_TEST_TIMEOUT_MS));
	g_variant_get (g_ptr_array_index (fx.emitted, 0), "(&s&s@a{sv})", &type, &id, &summary);
	ck_assert_str_eq (type, "agent.registered");
	ck_assert (g_str_has_prefix (id, "evt_"));
	ck_assert_str_eq (dict_str (summary, "agent_id"), "edge-1");
	ck_assert_str_eq (dict_str (summary, "severity"), "info");
	ck_assert_str_eq (dict_str (summary, "rule"), "");
	ck_assert_uint_eq (dict_u (summary, "webhooks"), 1);
	ck_assert (!dict_b (summary, "silenced"));
	ck_assert (dict_x (summary, "timestamp") > 0);
	ck_assert_int_eq (dict_x (summary, "timestamp") % G_USEC_PER_SEC, 0);

	/* the delivery goes out with the same id */
	ck_assert (astra_test_receiver_wait (fx.env.receiver, 1, ASTRA_TEST_TIMEOUT_MS));
	ck_assert_str_eq (
	    astra_test_request_get_header (
		g_ptr_array_index (astra_test_receiver_get_requests (fx.env.receiver), 0), "X-Webhook-Id"),
	    id);

	/* AgentCount follows, with PropertiesChanged */
	ck_assert (astra_test_wait_until (agent_count_cb, GUINT_TO_POINTER (1), ASTRA_TEST_TIMEOUT_MS));
	ck_assert (changed_has ("AgentCount"));

	ck_assert (astra_dbus_alerts1_call_list_agents_sync (fx.proxy, &agents, NULL, &error));
	astra_assert_no_error (error);
	agent = find_item (agents, "agent_id", "edge-1");
	ck_assert_str_eq (dict_str (agent, "hostname"), "edge-1.example");
	ck_assert_str_eq (dict_str (agent, "tenant"), "t1");
	ck_assert_str_eq (dict_str (agent, "status"), "online");
	ck_assert (dict_x (agent, "last_seen") >= dict_x (agent, "registered_at"));
	ck_assert (dict_x (agent, "registered_at") > 0);
	{
		guint64 interval = 0;
		ck_assert (g_variant_lookup (agent, "interval", "t", &interval));
		ck_assert_uint_eq (interval, 30);
	}
	stop_daemon ();
}
END_TEST

static guint
status_subscribers (void)
{
	g_autoptr(GVariant) status = NULL;
	g_autoptr(GError) error = NULL;

	astra_dbus_alerts1_call_get_status_sync (fx.proxy, &status, NULL, &error);
	astra_assert_no_error (error);
	return dict_u (status, "subscribers");
}

static gboolean
n_subscribers_cb (gpointer user_data)
{
	return status_subscribers () == GPOINTER_TO_UINT (user_data);
}

/* no subscriber, no EventEmitted: a flood must not cost a signal per event */
START_TEST (test_signals_need_a_subscriber)
{
	g_autofree char *url = NULL;
	g_autoptr(AstraTestReply) reply = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GDBusConnection) other = NULL;
	g_autoptr(AstraDBusAlerts1) other_proxy = NULL;
	g_autoptr(GVariant) agents = NULL;

	start_daemon (NULL);
	ck_assert_uint_eq (status_subscribers (), 1);
	/* twice is one subscription */
	astra_dbus_alerts1_call_subscribe_sync (fx.proxy, NULL, &error);
	astra_assert_no_error (error);
	ck_assert_uint_eq (status_subscribers (), 1);

	astra_dbus_alerts1_call_unsubscribe_sync (fx.proxy, NULL, &error);
	astra_assert_no_error (error);
	ck_assert_uint_eq (status_subscribers (), 0);
	astra_dbus_alerts1_call_unsubscribe_sync (fx.proxy, NULL, &error);
	assert_dbus_error (error, ASTRA_ERROR_NOT_FOUND, "not subscribed");
	g_clear_error (&error);

	url = astra_test_daemon_get_url (fx.env.daemon, "/v1/reports");
	reply = astra_test_post_json (fx.env.session, url,
				      "{\"type\":\"heartbeat\",\"agent_id\":\"edge-9\",\"hostname\":\"edge-9.example\",\"interval_s\":30}", &error);
	astra_assert_no_error (error);
	ck_assert_uint_eq (reply->status, 202);
	/* the event was routed (the agent is known) and no signal came, nor comes */
	astra_dbus_alerts1_call_list_agents_sync (fx.proxy, &agents, NULL, &error);
	astra_assert_no_error (error);
	ck_assert_uint_eq (g_variant_n_children (agents), 1);
	astra_test_iterate_for (300);
	ck_assert_uint_eq (fx.emitted->len, 0);

	/* a subscriber that leaves the bus without unsubscribing is forgotten */
	other = g_dbus_connection_new_for_address_sync (fx.address,
							G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
							    G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
							NULL, NULL, &error);
	astra_assert_no_error (error);
	other_proxy = astra_dbus_alerts1_proxy_new_sync (other, G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START, BUS_NAME,
							 OBJECT_PATH, NULL, &error);
	astra_assert_no_error (error);
	astra_dbus_alerts1_call_subscribe_sync (other_proxy, NULL, &error);
	astra_assert_no_error (error);
	ck_assert_uint_eq (status_subscribers (), 1);
	g_clear_object (&other_proxy);
	g_dbus_connection_close_sync (other, NULL, &error);
	astra_assert_no_error (error);
	ck_assert (astra_test_wait_until (n_subscribers_cb, GUINT_TO_POINTER (0), ASTRA_TEST_TIMEOUT_MS));
	stop_daemon ();
}
END_TEST

/* PushSample trips the rule: AlertChanged firing, ListAlerts, then resolved */
START_TEST (test_push_sample_alert_changed)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) labels = NULL;
	g_autoptr(GVariant) alerts = NULL;
	g_autoptr(GVariant) firing = NULL;
	g_autoptr(GVariant) alert_labels = NULL;
	GVariant *changed;
	const char *agent = NULL;
	GVariantBuilder builder;

	start_daemon (NULL);
	g_variant_builder_init (&builder, G_VARIANT_TYPE ("a{ss}"));
	g_variant_builder_add (&builder, "{ss}", "agent_id", "edge-7");
	labels = g_variant_ref_sink (g_variant_builder_end (&builder));

	ck_assert (
	    astra_dbus_alerts1_call_push_sample_sync (fx.proxy, "latency_ms", 150.5, labels, NULL, &error));
	astra_assert_no_error (error);
	ck_assert (astra_test_wait_until (n_alerts_cb, GUINT_TO_POINTER (1), ASTRA_TEST_TIMEOUT_MS));
	changed = g_ptr_array_index (fx.alerts, 0);
	ck_assert_str_eq (dict_str (changed, "rule"), "high-latency");
	ck_assert_str_eq (dict_str (changed, "state"), "firing");
	ck_assert_str_eq (dict_str (changed, "severity"), "warning");
	ck_assert (dict_d (changed, "value") == 150.5);
	ck_assert (dict_x (changed, "since") > 0);
	ck_assert (g_str_has_prefix (dict_str (changed, "event_id"), "evt_"));
	alert_labels = g_variant_lookup_value (changed, "labels", G_VARIANT_TYPE ("a{ss}"));
	ck_assert (g_variant_lookup (alert_labels, "agent_id", "&s", &agent));
	ck_assert_str_eq (agent, "edge-7");

	ck_assert (astra_test_wait_until (firing_count_cb, GUINT_TO_POINTER (1), ASTRA_TEST_TIMEOUT_MS));
	ck_assert (changed_has ("FiringAlertCount"));
	ck_assert (astra_dbus_alerts1_call_list_alerts_sync (fx.proxy, &alerts, NULL, &error));
	astra_assert_no_error (error);
	firing = find_item (alerts, "rule", "high-latency");
	ck_assert_str_eq (dict_str (firing, "state"), "firing");
	ck_assert_str_eq (dict_str (firing, "severity"), "warning");
	ck_assert (dict_d (firing, "value") == 150.5);
	ck_assert (dict_x (firing, "since") > 0);
	ck_assert_str_eq (dict_str (firing, "summary"), "Latency on edge-7 is 150.5 ms");
	{
		g_autoptr(GVariant) list_labels =
			       g_variant_lookup_value (firing, "labels", G_VARIANT_TYPE ("a{ss}"));
		const char *team = NULL;

		/* the series' labels and the rule's, as in AlertChanged */
		ck_assert_uint_eq (g_variant_n_children (list_labels), 2);
		ck_assert (g_variant_lookup (list_labels, "agent_id", "&s", &agent));
		ck_assert_str_eq (agent, "edge-7");
		ck_assert (g_variant_lookup (list_labels, "team", "&s", &team));
		ck_assert_str_eq (team, "netops");
		ck_assert (g_variant_lookup (alert_labels, "team", "&s", &team));
		ck_assert_str_eq (team, "netops");
	}

	ck_assert (
	    astra_dbus_alerts1_call_push_sample_sync (fx.proxy, "latency_ms", 20, labels, NULL, &error));
	astra_assert_no_error (error);
	ck_assert (astra_test_wait_until (n_alerts_cb, GUINT_TO_POINTER (2), ASTRA_TEST_TIMEOUT_MS));
	ck_assert_str_eq (dict_str (g_ptr_array_index (fx.alerts, 1), "state"), "resolved");
	ck_assert (astra_test_wait_until (firing_count_cb, GUINT_TO_POINTER (0), ASTRA_TEST_TIMEOUT_MS));

	/* a sample the series store refuses, and a value that is not a number */
	ck_assert (
	    !astra_dbus_alerts1_call_push_sample_sync (fx.proxy, "bad metric!", 1, labels, NULL, &error));
	assert_dbus_error (error, ASTRA_ERROR_INVALID_DATA, "bad metric!");
	g_clear_error (&error);
	ck_assert (
	    !astra_dbus_alerts1_call_push_sample_sync (fx.proxy, "latency_ms", NAN, labels, NULL, &error));
	assert_dbus_error (error, ASTRA_ERROR_INVALID_DATA, "value");
	stop_daemon ();
}
END_TEST

static void
reply_500_cb (AstraTestReceiver *receiver, AstraTestRequest *request, gpointer user_data)
{
	request->reply_status = 500;
	request->reply_body = g_bytes_new_static ("{\"error\":\"boom\"}", 16);
}

/* the dead letter failed again, on its second attempt */
static gboolean
dead_again_cb (gpointer user_data)
{
	for (guint i = 0; i < fx.failures->len; i++) {
		GVariant *failure = g_ptr_array_index (fx.failures, i);
		if (dict_x (failure, "id") == *(gint64 *) user_data && dict_u (failure, "attempt") == 2 &&
		    dict_b (failure, "final"))
			return TRUE;
	}
	return FALSE;
}

/* DeliveryFailed for a retry and for a dead letter; ListDeliveries; Redeliver */
START_TEST (test_delivery_failed_and_redeliver)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) pending = NULL;
	g_autoptr(GVariant) dead = NULL;
	g_autoptr(GVariant) delivered = NULL;
	g_autoptr(GVariant) webhooks = NULL;
	g_autoptr(GVariant) hook = NULL;
	g_autofree char *id = NULL;
	GVariant *retry = NULL;
	GVariant *final = NULL;
	gint64 dead_id;

	start_daemon ("[webhook once]\nplugin = generic\nurl = http://127.0.0.1:9/x\nretry-schedule = none\n"
		      "events = speedtest.completed\n");
	astra_test_receiver_set_func (fx.env.receiver, reply_500_cb, NULL);
	id = emit_event ("speedtest.completed", SPEEDTEST_DATA);

	/* "hook" is answered 500 (retried later), "once" cannot connect and has no retries: dead */
	ck_assert (astra_test_wait_until (n_failures_cb, GUINT_TO_POINTER (2), ASTRA_TEST_TIMEOUT_MS));
	for (guint i = 0; i < fx.failures->len; i++) {
		GVariant *failure = g_ptr_array_index (fx.failures, i);
		if (g_strcmp0 (dict_str (failure, "webhook"), "hook") == 0)
			retry = failure;
		else
			final = failure;
	}
	ck_assert_ptr_nonnull (retry);
	ck_assert_ptr_nonnull (final);
	ck_assert_str_eq (dict_str (retry, "event_id"), id);
	ck_assert_str_eq (dict_str (retry, "event_type"), "speedtest.completed");
	ck_assert_uint_eq (dict_u (retry, "attempt"), 1);
	ck_assert_uint_eq (dict_u (retry, "status"), 500);
	ck_assert (!dict_b (retry, "final"));
	ck_assert (dict_x (retry, "id") > 0);
	ck_assert_str_eq (dict_str (final, "webhook"), "once");
	ck_assert_uint_eq (dict_u (final, "status"), 0);
	ck_assert (strlen (dict_str (final, "reason")) > 0);
	ck_assert (dict_b (final, "final"));
	dead_id = dict_x (final, "id");

	/* the history, filtered */
	pending = list_deliveries (filter_new ("hook", "pending", 10));
	ck_assert_uint_eq (g_variant_n_children (pending), 1);
	{
		g_autoptr(GVariant) row = g_variant_get_child_value (pending, 0);
		ck_assert_str_eq (dict_str (row, "event_id"), id);
		ck_assert_str_eq (dict_str (row, "event_type"), "speedtest.completed");
		ck_assert_str_eq (dict_str (row, "webhook"), "hook");
		ck_assert_str_eq (dict_str (row, "state"), "pending");
		ck_assert_uint_eq (dict_u (row, "attempts"), 1);
		ck_assert_uint_eq (dict_u (row, "last_status"), 500);
		ck_assert (dict_d (row, "last_latency_ms") > 0);
		ck_assert (dict_x (row, "created_at") > 0);
		ck_assert (dict_x (row, "last_attempt_at") >= dict_x (row, "created_at"));
		ck_assert (dict_x (row, "next_attempt_at") > dict_x (row, "last_attempt_at"));
	}
	dead = list_deliveries (filter_new (NULL, "dead", 0));
	ck_assert_uint_eq (g_variant_n_children (dead), 1);
	{
		g_autoptr(GVariant) row = g_variant_get_child_value (dead, 0);
		ck_assert_int_eq (dict_x (row, "id"), dead_id);
		ck_assert (!g_variant_lookup (row, "next_attempt_at", "x", NULL));
	}

	/* ListWebhooks says how the last attempt went */
	ck_assert (astra_dbus_alerts1_call_list_webhooks_sync (fx.proxy, &webhooks, NULL, &error));
	astra_assert_no_error (error);
	hook = find_item (webhooks, "name", "hook");
	ck_assert_uint_eq (dict_u (hook, "last_status"), 500);
	ck_assert (strlen (dict_str (hook, "last_error")) > 0);
	ck_assert_uint_eq (dict_u (hook, "pending"), 1);

	/* bad filters */
	{
		GVariantBuilder builder;
		g_autoptr(GVariant) out = NULL;

		g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
		g_variant_builder_add (&builder, "{sv}", "colour", g_variant_new_string ("red"));
		ck_assert (!astra_dbus_alerts1_call_list_deliveries_sync (
		    fx.proxy, g_variant_builder_end (&builder), &out, NULL, &error));
		assert_dbus_error (error, ASTRA_ERROR_INVALID_DATA, "unknown key 'colour'");
		g_clear_error (&error);
		g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
		g_variant_builder_add (&builder, "{sv}", "limit", g_variant_new_int32 (5));
		ck_assert (!astra_dbus_alerts1_call_list_deliveries_sync (
		    fx.proxy, g_variant_builder_end (&builder), &out, NULL, &error));
		assert_dbus_error (error, ASTRA_ERROR_INVALID_DATA, "limit");
		g_clear_error (&error);
		ck_assert (!astra_dbus_alerts1_call_list_deliveries_sync (
		    fx.proxy, filter_new (NULL, NULL, 1001), &out, NULL, &error));
		assert_dbus_error (error, ASTRA_ERROR_INVALID_DATA, "1000");
		g_clear_error (&error);
		ck_assert (!astra_dbus_alerts1_call_list_deliveries_sync (
		    fx.proxy, filter_new (NULL, "lost", 0), &out, NULL, &error));
		assert_dbus_error (error, ASTRA_ERROR_INVALID_DATA, "state");
		g_clear_error (&error);
	}

	/* the dead letter goes again; its webhook's receiver is still not there: dead again */
	ck_assert (astra_dbus_alerts1_call_redeliver_sync (fx.proxy, dead_id, NULL, &error));
	astra_assert_no_error (error);
	ck_assert (astra_test_wait_until (dead_again_cb, &dead_id, ASTRA_TEST_TIMEOUT_MS));
	ck_assert (!astra_dbus_alerts1_call_redeliver_sync (fx.proxy, 999999, NULL, &error));
	assert_dbus_error (error, ASTRA_ERROR_NOT_FOUND, "999999");
	g_clear_error (&error);

	/* the pending one goes now, to a receiver that takes it */
	astra_test_receiver_set_func (fx.env.receiver, NULL, NULL);
	ck_assert (astra_dbus_alerts1_call_redeliver_sync (fx.proxy, dict_x (retry, "id"), NULL, &error));
	astra_assert_no_error (error);
	ck_assert (astra_test_receiver_wait (fx.env.receiver, 2, ASTRA_TEST_TIMEOUT_MS));
	for (guint i = 0; i < 100; i++) {
		g_clear_pointer (&delivered, g_variant_unref);
		delivered = list_deliveries (filter_new ("hook", "delivered", 0));
		if (g_variant_n_children (delivered) == 1)
			break;
		astra_test_iterate_for (20);
	}
	ck_assert_uint_eq (g_variant_n_children (delivered), 1);

	/* the history outlives the webhook: its reasons were blanked of credentials when they were
	 * recorded, so with "once" gone from the config they still show, unchanged */
	{
		g_autoptr(GVariant) row = NULL;
		g_autofree char *reason = NULL;
		guint generation = 0;

		g_clear_pointer (&dead, g_variant_unref);
		dead = list_deliveries (filter_new ("once", "dead", 0));
		ck_assert_uint_eq (g_variant_n_children (dead), 1);
		row = g_variant_get_child_value (dead, 0);
		reason = g_strdup (dict_str (row, "last_reason"));
		ck_assert (strlen (reason) > 0);
		astra_assert_not_contains (reason, SECRET);
		g_clear_pointer (&row, g_variant_unref);
		write_config (NULL);
		ck_assert (astra_dbus_alerts1_call_reload_sync (fx.proxy, &generation, NULL, &error));
		astra_assert_no_error (error);
		g_clear_pointer (&dead, g_variant_unref);
		dead = list_deliveries (filter_new ("once", "dead", 0));
		ck_assert_uint_eq (g_variant_n_children (dead), 1);
		row = g_variant_get_child_value (dead, 0);
		ck_assert_int_eq (dict_x (row, "id"), dead_id);
		ck_assert_str_eq (dict_str (row, "last_reason"), reason);
	}
	stop_daemon ();
}
END_TEST

static void
reply_echo_cb (AstraTestReceiver *receiver, AstraTestRequest *request, gpointer user_data)
{
	/* a receiver whose answer holds the secret (an echo of its configuration, say), and then some */
	g_autofree char *padding = astra_check_repeat ("x", 4000);
	g_autofree char *body = g_strdup_printf ("got it, with secret " SECRET " %s", padding);

	request->reply_status = GPOINTER_TO_UINT (user_data);
	request->reply_body = g_bytes_new (body, strlen (body));
}

static GVariant *
test_webhook (const char *webhook, const char *type, GError **error)
{
	g_autoptr(GAsyncResult) result = NULL;
	GVariant *out = NULL;

	astra_dbus_alerts1_call_test_webhook (fx.proxy, webhook, type, NULL, result_cb, &result);
	if (!astra_dbus_alerts1_call_test_webhook_finish (fx.proxy, &out, wait_result (&result), error))
		return NULL;
	assert_no_secret (out);
	return out;
}

START_TEST (test_test_webhook)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) ok = NULL;
	g_autoptr(GVariant) failed = NULL;
	g_autoptr(GVariant) history = NULL;
	AstraTestRequest *request;

	start_daemon (NULL);
	astra_test_receiver_set_func (fx.env.receiver, reply_echo_cb, GUINT_TO_POINTER (200));
	ok = test_webhook ("hook", "alert.triggered", &error);
	astra_assert_no_error (error);
	ck_assert_str_eq (dict_str (ok, "outcome"), "delivered");
	ck_assert_uint_eq (dict_u (ok, "status"), 200);
	ck_assert (dict_d (ok, "latency_ms") > 0);
	ck_assert_str_eq (dict_str (ok, "reason"), "");
	/* the receiver's answer, bounded, the secret blanked out */
	astra_assert_contains (dict_str (ok, "response_excerpt"), "with secret [redacted]");
	ck_assert_uint_le (strlen (dict_str (ok, "response_excerpt")), 1024);

	/* the sample event went out signed, once, with the id reported */
	ck_assert_uint_eq (astra_test_receiver_get_n_requests (fx.env.receiver), 1);
	request = g_ptr_array_index (astra_test_receiver_get_requests (fx.env.receiver), 0);
	ck_assert_str_eq (request->path, URL_PATH);
	ck_assert_str_eq (astra_test_request_get_header (request, "X-Webhook-Id"), dict_str (ok, "event_id"));
	ck_assert_ptr_nonnull (astra_test_request_get_header (request, "X-Webhook-Signature"));
	astra_assert_contains (g_bytes_get_data (request->body, NULL), "\"event\":\"alert.triggered\"");

	/* outside the outbox: no history */
	history = list_deliveries (filter_new (NULL, NULL, 0));
	ck_assert_uint_eq (g_variant_n_children (history), 0);

	/* a failure is reported, not retried */
	astra_test_receiver_set_func (fx.env.receiver, reply_echo_cb, GUINT_TO_POINTER (503));
	failed = test_webhook ("hook", "agent.status_changed", &error);
	astra_assert_no_error (error);
	ck_assert_str_eq (dict_str (failed, "outcome"), "retry");
	ck_assert_uint_eq (dict_u (failed, "status"), 503);
	astra_test_iterate_for (300);
	ck_assert_uint_eq (astra_test_receiver_get_n_requests (fx.env.receiver), 2);

	ck_assert_ptr_null (test_webhook ("nope", "alert.triggered", &error));
	assert_dbus_error (error, ASTRA_ERROR_NOT_FOUND, "no webhook 'nope'");
	g_clear_error (&error);
	ck_assert_ptr_null (test_webhook ("hook", "alert.exploded", &error));
	assert_dbus_error (error, ASTRA_ERROR_INVALID_DATA, "alert.exploded");
	stop_daemon ();
}
END_TEST

START_TEST (test_render_event)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) sample = NULL;
	g_autoptr(GVariant) given = NULL;
	g_autoptr(GVariant) headers = NULL;
	g_autoptr(GVariant) pd = NULL;
	g_autofree char *url = NULL;
	g_autofree char *pd_url = NULL;
	g_autofree char *extra = NULL;
	g_autofree char *event_json = astra_check_fixture_text ("speedtest.completed");
	const char *value = NULL;

	pd_url = astra_test_receiver_get_url (fx.env.receiver, "/pd");
	extra = g_strdup_printf ("[webhook pd]\nplugin = pagerduty\nurl = %s\nrouting-key = %s\n", pd_url,
				 ROUTING_KEY);
	start_daemon (extra);

	ck_assert (astra_dbus_alerts1_call_render_event_sync (fx.proxy, "hook", "alert.triggered", "",
							      &sample, NULL, &error));
	astra_assert_no_error (error);
	assert_no_secret (sample);
	ck_assert_str_eq (dict_str (sample, "method"), "POST");
	url = g_strdup_printf ("http://127.0.0.1:%u", astra_test_receiver_get_port (fx.env.receiver));
	ck_assert_str_eq (dict_str (sample, "url"), url);
	astra_assert_contains (dict_str (sample, "body"), "{\"event\":\"alert.triggered\",\"timestamp\":\"");
	ck_assert (g_str_has_prefix (dict_str (sample, "event_id"), "evt_"));
	headers = g_variant_lookup_value (sample, "headers", G_VARIANT_TYPE ("a{ss}"));
	ck_assert (g_variant_lookup (headers, "X-Webhook-Signature", "&s", &value));
	ck_assert_str_eq (value, "[redacted]");
	ck_assert (g_variant_lookup (headers, "X-Webhook-Id", "&s", &value));
	ck_assert_str_eq (value, dict_str (sample, "event_id"));
	ck_assert (g_variant_lookup (headers, "Content-Type", "&s", &value));
	astra_assert_contains (value, "application/json");
	/* nothing was sent */
	astra_test_iterate_for (100);
	ck_assert_uint_eq (astra_test_receiver_get_n_requests (fx.env.receiver), 0);

	/* a sample for every type, each its own type, made now */
	for (guint i = 0; i < ASTRA_CHECK_N_EVENT_TYPES; i++) {
		g_autoptr(GVariant) out = NULL;
		g_autofree char *expected =
		    g_strdup_printf ("{\"event\":\"%s\",\"timestamp\":\"", astra_check_event_types[i]);

		ck_assert_msg (astra_dbus_alerts1_call_render_event_sync (
				   fx.proxy, "hook", astra_check_event_types[i], "", &out, NULL, &error),
			       "%s: %s", astra_check_event_types[i], error != NULL ? error->message : "");
		ck_assert (g_str_has_prefix (dict_str (out, "body"), expected));
		astra_assert_not_contains (dict_str (out, "body"), "\"timestamp\":\"2025-12-17");
	}

	/* an event given whole: its data and timestamp as given, a new id */
	ck_assert (astra_dbus_alerts1_call_render_event_sync (fx.proxy, "hook", "", event_json, &given, NULL,
							      &error));
	astra_assert_no_error (error);
	astra_assert_contains (dict_str (given, "body"), "\"timestamp\":\"2025-12-17T10:00:00Z\"");
	astra_assert_contains (dict_str (given, "body"), "\"isp\":\"Example Telecom\"");

	/* PagerDuty carries its routing key in the body: blanked out */
	ck_assert (astra_dbus_alerts1_call_render_event_sync (fx.proxy, "pd", "alert.triggered", "", &pd,
							      NULL, &error));
	astra_assert_no_error (error);
	assert_no_secret (pd);
	astra_assert_contains (dict_str (pd, "body"), "\"routing_key\":\"[redacted]\"");

	/* errors: no such webhook, a bad event, types that disagree, an event the plugin declines */
	ck_assert (!astra_dbus_alerts1_call_render_event_sync (fx.proxy, "nope", "alert.triggered", "",
							       &sample, NULL, &error));
	assert_dbus_error (error, ASTRA_ERROR_NOT_FOUND, "configured: hook, pd");
	g_clear_error (&error);
	ck_assert (!astra_dbus_alerts1_call_render_event_sync (
	    fx.proxy, "hook", "", "{\"event\":\"speedtest.completed\"}", &sample, NULL, &error));
	assert_dbus_error (error, ASTRA_ERROR_INVALID_DATA, "event_json: ");
	g_clear_error (&error);
	ck_assert (!astra_dbus_alerts1_call_render_event_sync (fx.proxy, "hook", "alert.resolved", event_json,
							       &sample, NULL, &error));
	assert_dbus_error (error, ASTRA_ERROR_INVALID_DATA, "speedtest.completed");
	g_clear_error (&error);
	ck_assert (!astra_dbus_alerts1_call_render_event_sync (fx.proxy, "pd", "agent.registered", "",
							       &sample, NULL, &error));
	assert_dbus_error (error, ASTRA_ERROR_NOT_SUPPORTED, "agent.registered");
	stop_daemon ();
}
END_TEST

START_TEST (test_emit_event)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *id = NULL;
	g_autofree char *huge = NULL;
	AstraTestRequest *request;
	char *out = NULL;

	start_daemon (NULL);
	id = emit_event ("speedtest.completed", SPEEDTEST_DATA);
	ck_assert (astra_test_receiver_wait (fx.env.receiver, 1, ASTRA_TEST_TIMEOUT_MS));
	request = g_ptr_array_index (astra_test_receiver_get_requests (fx.env.receiver), 0);
	ck_assert_str_eq (astra_test_request_get_header (request, "X-Webhook-Id"), id);
	astra_assert_contains (g_bytes_get_data (request->body, NULL), "\"download_mbps\":94.5");
	ck_assert (astra_test_wait_until (n_emitted_cb, GUINT_TO_POINTER (1), ASTRA_TEST_TIMEOUT_MS));

	/* checked against the schema, the field named */
	ck_assert (!astra_dbus_alerts1_call_emit_event_sync (fx.proxy, "speedtest.completed",
							     "{\"agent_id\":\"a\"}", &out, NULL, &error));
	assert_dbus_error (error, ASTRA_ERROR_INVALID_DATA, "hostname");
	g_clear_error (&error);
	ck_assert (!astra_dbus_alerts1_call_emit_event_sync (fx.proxy, "speedtest.completed", "{not json",
							     &out, NULL, &error));
	assert_dbus_error (error, ASTRA_ERROR_INVALID_DATA, "data_json");
	g_clear_error (&error);
	ck_assert (!astra_dbus_alerts1_call_emit_event_sync (fx.proxy, "speedtest.completed", "[1]", &out,
							     NULL, &error));
	assert_dbus_error (error, ASTRA_ERROR_INVALID_DATA, "object");
	g_clear_error (&error);
	ck_assert (
	    !astra_dbus_alerts1_call_emit_event_sync (fx.proxy, "disk.full", "{}", &out, NULL, &error));
	assert_dbus_error (error, ASTRA_ERROR_INVALID_DATA, "'disk.full' is not an event type");
	g_clear_error (&error);
	{
		g_autofree char *padding = astra_check_repeat ("y", 300 * 1024);
		huge = g_strdup_printf ("{\"x\":\"%s\"}", padding);
	}
	ck_assert (!astra_dbus_alerts1_call_emit_event_sync (fx.proxy, "speedtest.completed", huge, &out,
							     NULL, &error));
	assert_dbus_error (error, ASTRA_ERROR_TOO_LARGE, "data_json");
	g_clear_error (&error);
	ck_assert_uint_eq (astra_test_receiver_get_n_requests (fx.env.receiver), 1);
	stop_daemon ();
}
END_TEST

static void
reply_gone_cb (AstraTestReceiver *receiver, AstraTestRequest *request, gpointer user_data)
{
	request->reply_status = 410;
}

START_TEST (test_enable_webhook)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) webhooks = NULL;
	g_autoptr(GVariant) hook = NULL;
	g_autofree char *id = NULL;

	start_daemon (NULL);
	astra_test_receiver_set_func (fx.env.receiver, reply_gone_cb, NULL);
	id = emit_event ("speedtest.completed", SPEEDTEST_DATA);
	ck_assert (astra_test_wait_until (n_failures_cb, GUINT_TO_POINTER (1), ASTRA_TEST_TIMEOUT_MS));
	ck_assert (dict_b (g_ptr_array_index (fx.failures, 0), "final"));
	ck_assert (astra_dbus_alerts1_call_list_webhooks_sync (fx.proxy, &webhooks, NULL, &error));
	hook = find_item (webhooks, "name", "hook");
	ck_assert (!dict_b (hook, "enabled"));
	ck_assert (strlen (dict_str (hook, "disabled_reason")) > 0);

	/* back on: the delivery that waited goes out */
	astra_test_receiver_set_func (fx.env.receiver, NULL, NULL);
	ck_assert (astra_dbus_alerts1_call_enable_webhook_sync (fx.proxy, "hook", NULL, &error));
	astra_assert_no_error (error);
	ck_assert (astra_test_receiver_wait (fx.env.receiver, 2, ASTRA_TEST_TIMEOUT_MS));
	g_clear_pointer (&webhooks, g_variant_unref);
	g_clear_pointer (&hook, g_variant_unref);
	ck_assert (astra_dbus_alerts1_call_list_webhooks_sync (fx.proxy, &webhooks, NULL, &error));
	hook = find_item (webhooks, "name", "hook");
	ck_assert (dict_b (hook, "enabled"));

	ck_assert (!astra_dbus_alerts1_call_enable_webhook_sync (fx.proxy, "nope", NULL, &error));
	assert_dbus_error (error, ASTRA_ERROR_NOT_FOUND, "nope");
	stop_daemon ();
}
END_TEST

/* silences */

static char *
silence (
    const char *const *matchers, const char *until, const char *comment, const char *author, GError **error)
{
	char *id = NULL;

	if (!astra_dbus_alerts1_call_silence_sync (fx.proxy, matchers, until, comment, author, &id, NULL,
						   error))
		return NULL;
	return id;
}

static GVariant *
list_silences (void)
{
	g_autoptr(GError) error = NULL;
	GVariant *out = NULL;

	ck_assert (astra_dbus_alerts1_call_list_silences_sync (fx.proxy, &out, NULL, &error));
	astra_assert_no_error (error);
	return out;
}

START_TEST (test_silence_unsilence)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) silences = NULL;
	g_autoptr(GVariant) item = NULL;
	g_autoptr(GVariant) held = NULL;
	g_autoptr(GVariant) summary = NULL;
	g_autoptr(GVariant) row = NULL;
	g_autofree char *id = NULL;
	g_autofree char *held_id = NULL;
	g_autofree char *sent_id = NULL;
	g_autofree char *reason = NULL;
	g_autofree const char **matchers = NULL;
	const char *const speedtests[] = { "type=speedtest.*", "agent_id=agent-*", NULL };

	start_daemon (NULL);
	id = silence (speedtests, "2h", "ISP maintenance", "", &error);
	astra_assert_no_error (error);
	ck_assert (g_str_has_prefix (id, "sil_"));

	silences = list_silences ();
	ck_assert_uint_eq (g_variant_n_children (silences), 1);
	item = find_item (silences, "id", id);
	ck_assert_str_eq (dict_str (item, "comment"), "ISP maintenance");
	/* no author given: the caller's user name */
	ck_assert_str_eq (dict_str (item, "author"), g_get_user_name ());
	ck_assert (dict_x (item, "ends_at") - dict_x (item, "starts_at") == 2 * G_TIME_SPAN_HOUR);
	ck_assert (g_variant_lookup (item, "matchers", "^a&s", &matchers));
	ck_assert_uint_eq (g_strv_length ((GStrv) matchers), 2);
	ck_assert_uint_eq (dict_u (item, "silenced"), 0);

	/* a matching event is held back: recorded as silenced, not sent */
	held_id = emit_event ("speedtest.completed", SPEEDTEST_DATA);
	ck_assert (astra_test_wait_until (n_emitted_cb, GUINT_TO_POINTER (1), ASTRA_TEST_TIMEOUT_MS));
	g_variant_get (g_ptr_array_index (fx.emitted, 0), "(&s&s@a{sv})", NULL, NULL, &summary);
	ck_assert (dict_b (summary, "silenced"));
	held = list_deliveries (filter_new ("hook", "silenced", 0));
	ck_assert_uint_eq (g_variant_n_children (held), 1);
	row = g_variant_get_child_value (held, 0);
	ck_assert_str_eq (dict_str (row, "event_id"), held_id);
	reason = g_strdup_printf ("silenced by %s", id);
	ck_assert_str_eq (dict_str (row, "last_reason"), reason);
	ck_assert_uint_eq (dict_u (row, "attempts"), 0);
	g_clear_pointer (&silences, g_variant_unref);
	g_clear_pointer (&item, g_variant_unref);
	silences = list_silences ();
	item = find_item (silences, "id", id);
	ck_assert_uint_eq (dict_u (item, "silenced"), 1);
	astra_test_iterate_for (300);
	ck_assert_uint_eq (astra_test_receiver_get_n_requests (fx.env.receiver), 0);
	/* and counted */
	{
		g_autofree char *url = astra_test_daemon_get_url (fx.env.daemon, "/metrics");
		g_autoptr(AstraTestReply) reply =
			       astra_test_http (fx.env.session, "GET", url, NULL, NULL, 0, FALSE, &error);
		g_autofree char *text = NULL;

		astra_assert_no_error (error);
		text = g_strndup (g_bytes_get_data (reply->body, NULL), g_bytes_get_size (reply->body));
		astra_assert_contains (text, "astra_events_silenced_total{type=\"speedtest.completed\"} 1\n");
	}

	/* ended: the next one goes out */
	ck_assert (astra_dbus_alerts1_call_unsilence_sync (fx.proxy, id, NULL, &error));
	astra_assert_no_error (error);
	g_clear_pointer (&silences, g_variant_unref);
	silences = list_silences ();
	ck_assert_uint_eq (g_variant_n_children (silences), 0);
	sent_id = emit_event ("speedtest.completed", SPEEDTEST_DATA);
	ck_assert (astra_test_receiver_wait (fx.env.receiver, 1, ASTRA_TEST_TIMEOUT_MS));
	ck_assert_str_eq (
	    astra_test_request_get_header (
		g_ptr_array_index (astra_test_receiver_get_requests (fx.env.receiver), 0), "X-Webhook-Id"),
	    sent_id);

	/* errors: ended already, a bad matcher, no comment */
	ck_assert (!astra_dbus_alerts1_call_unsilence_sync (fx.proxy, id, NULL, &error));
	assert_dbus_error (error, ASTRA_ERROR_NOT_FOUND, id);
	g_clear_error (&error);
	ck_assert_ptr_null (
	    silence ((const char *const[]){ "not a matcher", NULL }, "1h", "why", "me", &error));
	assert_dbus_error (error, ASTRA_ERROR_INVALID_DATA, "matcher 1");
	g_clear_error (&error);
	ck_assert_ptr_null (silence (speedtests, "1h", "", "me", &error));
	assert_dbus_error (error, ASTRA_ERROR_INVALID_DATA, "comment");
	stop_daemon ();
}
END_TEST

/* silences and what they held back survive a restart */
START_TEST (test_silence_persists)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) silences = NULL;
	g_autoptr(GVariant) item = NULL;
	g_autoptr(GVariant) held = NULL;
	g_autofree char *id = NULL;
	g_autofree char *event = NULL;
	const char *const matchers[] = { "type=speedtest.completed", NULL };

	start_daemon (NULL);
	id = silence (matchers, "1h", "planned", "ops@example", &error);
	astra_assert_no_error (error);
	event = emit_event ("speedtest.completed", SPEEDTEST_DATA);
	stop_daemon ();

	start_daemon_args (NULL);
	silences = list_silences ();
	item = find_item (silences, "id", id);
	ck_assert_str_eq (dict_str (item, "author"), "ops@example");
	ck_assert_uint_eq (dict_u (item, "silenced"), 1);
	held = list_deliveries (filter_new (NULL, "silenced", 0));
	ck_assert_uint_eq (g_variant_n_children (held), 1);
	g_free (emit_event ("speedtest.completed", SPEEDTEST_DATA));
	astra_test_iterate_for (300);
	ck_assert_uint_eq (astra_test_receiver_get_n_requests (fx.env.receiver), 0);
	g_clear_pointer (&held, g_variant_unref);
	held = list_deliveries (filter_new (NULL, "silenced", 0));
	ck_assert_uint_eq (g_variant_n_children (held), 2);
	stop_daemon ();
}
END_TEST

/* an outside client: gdbus call */

static void
run_gdbus (const char *const *method_and_args, int expect_status, char **out, char **err)
{
	g_autofree char *env = env_address ();
	const char *const extra_env[] = { env, NULL };
	g_autoptr(GPtrArray) argv = g_ptr_array_new ();
	g_autoptr(GError) error = NULL;
	g_autofree char *method = g_strdup_printf (BUS_NAME ".%s", method_and_args[0]);
	int status = -1;
	const char *const base[] = { "gdbus",         "call",      "--session", "--dest", BUS_NAME,
				     "--object-path", OBJECT_PATH, "--method",  method,   NULL };

	for (guint i = 0; base[i] != NULL; i++)
		g_ptr_array_add (argv, (gpointer) base[i]);
	for (guint i = 1; method_and_args[i] != NULL; i++)
		g_ptr_array_add (argv, (gpointer) method_and_args[i]);
	g_ptr_array_add (argv, NULL);
	ck_assert (astra_test_run ((const char *const *) argv->pdata, extra_env, NULL, ASTRA_TEST_TIMEOUT_MS,
				   &status, out, err, &error));
	astra_assert_no_error (error);
	ck_assert_msg (status == expect_status, "gdbus call %s: exit %d, expected %d; stderr: %s", method,
		       status, expect_status, *err);
	/* an empty stream may come back as NULL */
	if (*out == NULL)
		*out = g_strdup ("");
	if (*err == NULL)
		*err = g_strdup ("");
	astra_assert_not_contains (*out, SECRET);
	astra_assert_not_contains (*out, URL_PATH);
}

START_TEST (test_gdbus_outside_client)
{
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;

	start_daemon (NULL);
	run_gdbus ((const char *const[]){ "GetStatus", NULL }, 0, &out, &err);
	astra_assert_contains (out, "'version': <'" PACKAGE_VERSION "'>");
	astra_assert_contains (out, "'webhooks': <uint32 1>");
	g_clear_pointer (&out, g_free);
	g_clear_pointer (&err, g_free);

	run_gdbus ((const char *const[]){ "ListWebhooks", NULL }, 0, &out, &err);
	astra_assert_contains (out, "'name': <'hook'>");
	astra_assert_contains (out, "'plugin': <'generic'>");
	g_clear_pointer (&out, g_free);
	g_clear_pointer (&err, g_free);

	run_gdbus ((const char *const[]){ "Silence", "['agent_id=edge-*', 'severity!=info']", "90m",
					  "router swap", "gdbus", NULL },
		   0, &out, &err);
	astra_assert_contains (out, "('sil_");
	g_clear_pointer (&out, g_free);
	g_clear_pointer (&err, g_free);
	run_gdbus ((const char *const[]){ "ListSilences", NULL }, 0, &out, &err);
	astra_assert_contains (out, "'comment': <'router swap'>");
	astra_assert_contains (out, "'agent_id=edge-*'");
	g_clear_pointer (&out, g_free);
	g_clear_pointer (&err, g_free);

	/* refused: the error's name and message reach an outside client as they are */
	run_gdbus ((const char *const[]){ "Unsilence", "sil_nothing", NULL }, 1, &out, &err);
	astra_assert_contains (err, "org.astranetmon.Alerts1.Error.NotFound");
	g_clear_pointer (&out, g_free);
	g_clear_pointer (&err, g_free);
	write_config ("[webhook broken]\nplugin = nothing-like-it\n");
	run_gdbus ((const char *const[]){ "Reload", NULL }, 1, &out, &err);
	astra_assert_contains (err, "org.astranetmon.Alerts1.Error.InvalidConfig");
	astra_assert_contains (err, "[webhook broken] plugin");
	stop_daemon ();
}
END_TEST

/* access control: a caller who is neither root nor in admin-group may read, not change */

static void
as_nobody_cb (gpointer user_data)
{
	struct passwd *pw = user_data;

	prctl (PR_SET_PDEATHSIG, SIGKILL);
	if (setgroups (0, NULL) != 0 || setgid (pw->pw_gid) != 0 || setuid (pw->pw_uid) != 0)
		_exit (99);
}

/* gdbus call as nobody: its exit status, stdout and stderr */
static int
gdbus_as_nobody (struct passwd *pw, const char *method, const char *const *args, char **out, char **err)
{
	g_autofree char *env = env_address ();
	g_autofree char *full = g_strdup_printf (BUS_NAME ".%s", method);
	g_autoptr(GPtrArray) argv = g_ptr_array_new ();
	g_autoptr(GError) error = NULL;
	const char *envp[] = { env, "PATH=/usr/bin:/bin", "HOME=/", NULL };
	int status = -1;

	g_ptr_array_add (argv, (gpointer) "gdbus");
	g_ptr_array_add (argv, (gpointer) "call");
	g_ptr_array_add (argv, (gpointer) "--session");
	g_ptr_array_add (argv, (gpointer) "--dest");
	g_ptr_array_add (argv, (gpointer) BUS_NAME);
	g_ptr_array_add (argv, (gpointer) "--object-path");
	g_ptr_array_add (argv, (gpointer) OBJECT_PATH);
	g_ptr_array_add (argv, (gpointer) "--method");
	g_ptr_array_add (argv, full);
	for (guint i = 0; args != NULL && args[i] != NULL; i++)
		g_ptr_array_add (argv, (gpointer) args[i]);
	g_ptr_array_add (argv, NULL);
	/* the daemon answers on its own: blocking here is fine */
	ck_assert (g_spawn_sync ("/", (char **) argv->pdata, (char **) envp, G_SPAWN_SEARCH_PATH_FROM_ENVP,
				 as_nobody_cb, pw, out, err, &status, &error));
	astra_assert_no_error (error);
	ck_assert_msg (WIFEXITED (status) && WEXITSTATUS (status) != 99, "could not become uid %u",
		       pw->pw_uid);
	return WEXITSTATUS (status);
}

START_TEST (test_access_control)
{
	struct passwd *nobody = NULL;
	struct group *group = NULL;
	g_autofree char *group_name = NULL;
	g_autofree char *extra = NULL;
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	g_autofree char *refusal = NULL;
	g_autoptr(GError) error = NULL;
	guint generation = 0;

	if (geteuid () != 0) {
		g_print ("check-dbus: access control skipped: it calls as another user, which needs root\n");
		return;
	}
	nobody = getpwnam ("nobody");
	ck_assert_msg (nobody != NULL, "no user nobody to call as");
	group = getgrgid (nobody->pw_gid);
	ck_assert_msg (group != NULL, "nobody's primary group has no name");
	group_name = g_strdup (group->gr_name);

	start_daemon (NULL);
	/* reading is open */
	ck_assert_int_eq (gdbus_as_nobody (nobody, "GetStatus", NULL, &out, &err), 0);
	astra_assert_contains (out, "'version'");
	g_clear_pointer (&out, g_free);
	g_clear_pointer (&err, g_free);
	ck_assert_int_eq (gdbus_as_nobody (nobody, "ListWebhooks", NULL, &out, &err), 0);
	g_clear_pointer (&out, g_free);
	g_clear_pointer (&err, g_free);

	/* changing is not */
	ck_assert_int_eq (gdbus_as_nobody (nobody, "Reload", NULL, &out, &err), 1);
	astra_assert_contains (err, "org.astranetmon.Alerts1.Error.AccessDenied");
	astra_assert_contains (err, "needs root or membership of group 'astra-alerts'");
	g_clear_pointer (&out, g_free);
	g_clear_pointer (&err, g_free);
	ck_assert_int_eq (
	    gdbus_as_nobody (nobody, "Silence",
			     (const char *const[]){ "['type=*']", "1h", "sneaky " SECRET, "", NULL }, &out,
			     &err),
	    1);
	astra_assert_contains (err, "AccessDenied");
	g_clear_pointer (&out, g_free);
	g_clear_pointer (&err, g_free);
	ck_assert_uint_eq (astra_dbus_alerts1_get_config_generation (fx.proxy), 1);
	/* logged with the uid, never the arguments */
	refusal = g_strdup_printf ("refused Silence from uid %u", (guint) nobody->pw_uid);
	ck_assert (astra_test_daemon_wait_log (fx.env.daemon, refusal, 1, ASTRA_TEST_TIMEOUT_MS));
	astra_assert_not_contains (astra_test_daemon_get_stderr (fx.env.daemon), SECRET);

	/* in admin-group (its primary group counts), it may */
	extra = g_strdup_printf ("[dbus]\nadmin-group = %s\n", group_name);
	write_config (extra);
	ck_assert (astra_dbus_alerts1_call_reload_sync (fx.proxy, &generation, NULL, &error));
	astra_assert_no_error (error);
	ck_assert_int_eq (
	    gdbus_as_nobody (nobody, "Silence",
			     (const char *const[]){ "['type=agent.*']", "1h", "allowed", "", NULL }, &out,
			     &err),
	    0);
	astra_assert_contains (out, "('sil_");
	g_clear_pointer (&out, g_free);
	g_clear_pointer (&err, g_free);
	ck_assert_int_eq (gdbus_as_nobody (nobody, "ListSilences", NULL, &out, &err), 0);
	/* the author is the caller's user name */
	astra_assert_contains (out, "'author': <'nobody'>");
	stop_daemon ();
}
END_TEST

/* a bus that is not there, and a name another daemon has: one line, exit 1, nothing half-started */
START_TEST (test_bus_errors)
{
	g_autoptr(AstraTestDaemon) second = NULL;
	g_autoptr(AstraTestDaemon) nobus = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *other_conf = NULL;
	g_autofree char *other_dir = NULL;
	g_autofree char *env = env_address ();
	const char *const bad_env[] = {
		"DBUS_SESSION_BUS_ADDRESS=unix:abstract=/astra-check-dbus/nothing-here", NULL
	};
	const char *const good_env[] = { env, NULL };
	const char *const session_args[] = { "--bus=session", NULL };
	const char *const none_args[] = { "--bus=none", NULL };
	g_autoptr(GVariant) has_owner = NULL;
	const char *text;

	start_daemon (NULL);

	/* a second daemon (its own state folder) on the same bus */
	other_dir = g_build_filename (fx.env.dir, "other", NULL);
	ck_assert_int_eq (g_mkdir (other_dir, 0700), 0);
	other_conf = astra_test_write_config (other_dir, NULL, NULL, NULL, &error);
	astra_assert_no_error (error);
	second = astra_test_daemon_spawn (NULL, other_conf, session_args, good_env,
					  ASTRA_TEST_DAEMON_FLAG_NONE, &error);
	astra_assert_no_error (error);
	ck_assert (astra_test_daemon_wait_exit (second, ASTRA_TEST_TIMEOUT_MS));
	ck_assert_int_eq (astra_test_daemon_get_exit_status (second), 1);
	text = astra_test_daemon_get_stderr (second);
	astra_assert_contains (text,
			       "astra-alertd: cannot own org.astranetmon.Alerts1 on the session bus: another "
			       "astra-alertd has it");
	/* the first one is unharmed */
	ck_assert_uint_eq (astra_dbus_alerts1_get_config_generation (fx.proxy), 1);
	g_clear_pointer (&second, astra_test_daemon_free);

	/* no bus at all */
	second = astra_test_daemon_spawn (NULL, other_conf, session_args, bad_env,
					  ASTRA_TEST_DAEMON_FLAG_NONE, &error);
	astra_assert_no_error (error);
	ck_assert (astra_test_daemon_wait_exit (second, ASTRA_TEST_TIMEOUT_MS));
	ck_assert_int_eq (astra_test_daemon_get_exit_status (second), 1);
	text = astra_test_daemon_get_stderr (second);
	astra_assert_contains (text, "astra-alertd: cannot connect to the session bus");
	astra_assert_contains (text, "--bus=none");
	/* it did not get as far as listening */
	astra_assert_not_contains (text, "listening on");

	/* bus = none: runs, and is not on the bus (the first daemon stopped, so the name is free) */
	stop_daemon ();
	nobus = astra_test_daemon_spawn (NULL, other_conf, none_args, good_env, ASTRA_TEST_DAEMON_FLAG_NONE,
					 &error);
	astra_assert_no_error (error);
	ck_assert (astra_test_daemon_wait_listening (nobus, ASTRA_TEST_TIMEOUT_MS, &error));
	has_owner = g_dbus_connection_call_sync (
	    fx.connection, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
	    "NameHasOwner", g_variant_new ("(s)", BUS_NAME), G_VARIANT_TYPE ("(b)"), G_DBUS_CALL_FLAGS_NONE,
	    -1, NULL, &error);
	astra_assert_no_error (error);
	{
		gboolean owned = TRUE;
		g_variant_get (has_owner, "(b)", &owned);
		ck_assert (!owned);
	}
}
END_TEST

static Suite *
dbus_suite (void)
{
	Suite *s = suite_create ("dbus");
	TCase *tc;

	tc = tcase_create ("read");
	tcase_add_checked_fixture (tc, fixture_setup, fixture_teardown);
	tcase_add_test (tc, test_status_and_properties);
	tcase_add_test (tc, test_list_plugins_webhooks_rules);
	tcase_add_test (tc, test_render_event);
	suite_add_tcase (s, tc);

	tc = tcase_create ("change");
	tcase_add_checked_fixture (tc, fixture_setup, fixture_teardown);
	tcase_add_test (tc, test_reload);
	tcase_add_test (tc, test_emit_event);
	tcase_add_test (tc, test_test_webhook);
	tcase_add_test (tc, test_enable_webhook);
	suite_add_tcase (s, tc);

	tc = tcase_create ("signals");
	tcase_add_checked_fixture (tc, fixture_setup, fixture_teardown);
	tcase_add_test (tc, test_event_emitted_and_agents);
	tcase_add_test (tc, test_signals_need_a_subscriber);
	tcase_add_test (tc, test_push_sample_alert_changed);
	tcase_add_test (tc, test_delivery_failed_and_redeliver);
	suite_add_tcase (s, tc);

	tc = tcase_create ("silences");
	tcase_add_checked_fixture (tc, fixture_setup, fixture_teardown);
	tcase_add_test (tc, test_silence_unsilence);
	tcase_add_test (tc, test_silence_persists);
	suite_add_tcase (s, tc);

	tc = tcase_create ("outside");
	tcase_add_checked_fixture (tc, fixture_setup, fixture_teardown);
	tcase_add_test (tc, test_gdbus_outside_client);
	tcase_add_test (tc, test_access_control);
	tcase_add_test (tc, test_bus_errors);
	suite_add_tcase (s, tc);

	return s;
}

int
main (void)
{
	return astra_check_run_suite (dbus_suite ());
}
