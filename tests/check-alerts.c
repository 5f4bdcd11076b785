/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Integration of the threshold engine: the real astra-alertd fed over
 * /write, /collectd and /v1/reports, with rules in rules.d/, delivering
 * alert and agent events to a loopback receiver; restarts on the same state.
 */

#include "config.h"

#include <json-glib/json-glib.h>
#include <signal.h>

#include "astra.h"
#include "astra-check-common.h"
#include "astra-test-util.h"

typedef struct {
	AstraTestEnv env;
} Fixture;

static Fixture fx;

static void
fixture_setup (void)
{
	memset (&fx, 0, sizeof (fx));
	astra_test_env_setup (&fx.env);
}

static void
fixture_teardown (void)
{
	astra_test_env_teardown (&fx.env);
}

static void
write_rules (const char *name, const char *text)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *rules_dir = g_build_filename (fx.env.dir, "rules.d", NULL);
	g_autofree char *path = NULL;

	ck_assert_int_eq (g_mkdir_with_parents (rules_dir, 0700), 0);
	path = astra_test_write_file (rules_dir, name, text, &error);
	astra_assert_no_error (error);
}

/* a daemon with one webhook "hook" to the receiver, subscribed to everything */
static void
start_daemon (const char *daemon_extra)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *url = astra_test_receiver_get_url (fx.env.receiver, "/hook");
	g_autofree char *webhooks = g_strdup_printf ("[webhook hook]\nplugin = generic\nurl = %s\n", url);

	if (fx.env.config_path == NULL) {
		fx.env.config_path = astra_test_write_config (fx.env.dir, NULL, daemon_extra, webhooks, &error);
		astra_assert_no_error (error);
	}
	fx.env.daemon = astra_test_daemon_start (fx.env.config_path, NULL, &error);
	astra_assert_no_error (error);
}

static void
stop_daemon (void)
{
	astra_test_daemon_send_signal (fx.env.daemon, SIGTERM);
	ck_assert (astra_test_daemon_wait_exit (fx.env.daemon, ASTRA_TEST_TIMEOUT_MS));
	ck_assert_int_eq (astra_test_daemon_get_exit_status (fx.env.daemon), 0);
	g_clear_pointer (&fx.env.daemon, astra_test_daemon_free);
}

static AstraTestReply *
post (const char *path, const char *content_type, const char *body)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *url = astra_test_daemon_get_url (fx.env.daemon, path);
	AstraTestReply *reply = astra_test_http (fx.env.session, "POST", url, content_type, body, strlen (body),
						 FALSE, &error);

	astra_assert_no_error (error);
	return reply;
}

static void
post_expect (const char *path, const char *body, guint status)
{
	g_autoptr(AstraTestReply) reply = post (path, "text/plain", body);

	ck_assert_msg (reply->status == status, "POST %s: %u, expected %u: %.*s", path, reply->status, status,
		       (int) g_bytes_get_size (reply->body), (const char *) g_bytes_get_data (reply->body, NULL));
}

/* the n-th (from 0) request the receiver got, as an event body, after waiting for it */
static JsonObject *
received_event (guint n, const char *expected_type)
{
	GPtrArray *requests;
	AstraTestRequest *request;
	JsonObject *root;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;

	ck_assert_msg (astra_test_receiver_wait (fx.env.receiver, n + 1, ASTRA_TEST_TIMEOUT_MS),
		       "only %u events arrived, waiting for %s; log:\n%s",
		       astra_test_receiver_get_n_requests (fx.env.receiver), expected_type,
		       astra_test_daemon_get_stderr (fx.env.daemon));
	requests = astra_test_receiver_get_requests (fx.env.receiver);
	request = g_ptr_array_index (requests, n);
	node = astra_json_parse (g_bytes_get_data (request->body, NULL), g_bytes_get_size (request->body), &error);
	astra_assert_no_error (error);
	root = json_node_get_object (node);
	ck_assert_str_eq (json_object_get_string_member (root, "event"), expected_type);
	return json_object_ref (json_object_get_object_member (root, "data"));
}

static const char latency_rule[] = "[rule high-latency]\n"
				   "metric = ping_average_response_ms\n"
				   "match = url=8.8.8.8\n"
				   "warning = > 100\n"
				   "critical = > 200\n"
				   "clear = < 80\n"
				   "summary = Latency from {host} to {url} is {value} ms\n"
				   "webhooks = hook\n";

START_TEST (test_write_triggers_escalates_and_resolves)
{
	g_autoptr(JsonObject) triggered = NULL;
	g_autoptr(JsonObject) escalated = NULL;
	g_autoptr(JsonObject) resolved = NULL;
	g_autoptr(AstraTestReply) ping = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *ping_url = NULL;

	write_rules ("latency.rules", latency_rule);
	start_daemon (NULL);

	/* Influx clients look for the version header before writing */
	ping_url = astra_test_daemon_get_url (fx.env.daemon, "/ping");
	ping = astra_test_http (fx.env.session, "GET", ping_url, NULL, NULL, 0, FALSE, &error);
	astra_assert_no_error (error);
	ck_assert_uint_eq (ping->status, 204);
	ck_assert_ptr_nonnull (soup_message_headers_get_one (ping->headers, "X-Influxdb-Version"));

	/* a series the rule does not match, and one it does */
	post_expect ("/write?db=telegraf&precision=s", "ping,host=agent-7,url=1.1.1.1 average_response_ms=500\n", 204);
	post_expect ("/write?db=telegraf&precision=s",
		     "ping,host=agent-7,url=8.8.8.8 average_response_ms=150,packets_transmitted=5i\n", 204);
	triggered = received_event (0, "alert.triggered");
	ck_assert_str_eq (json_object_get_string_member (triggered, "rule"), "high-latency");
	ck_assert_str_eq (json_object_get_string_member (triggered, "severity"), "warning");
	ck_assert_str_eq (json_object_get_string_member (triggered, "state"), "firing");
	ck_assert_double_eq (json_object_get_double_member (triggered, "value"), 150);
	ck_assert_double_eq (json_object_get_double_member (triggered, "threshold"), 100);
	astra_assert_contains (json_object_get_string_member (triggered, "summary"), "agent-7 to 8.8.8.8 is 150");

	post_expect ("/write?precision=s", "ping,host=agent-7,url=8.8.8.8 average_response_ms=250\n", 204);
	escalated = received_event (1, "alert.triggered");
	ck_assert_str_eq (json_object_get_string_member (escalated, "severity"), "critical");
	ck_assert_str_eq (json_object_get_string_member (escalated, "alert_id"),
			  json_object_get_string_member (triggered, "alert_id"));

	/* hysteresis: 90 is below the trip but above the clear */
	post_expect ("/write?precision=s", "ping,host=agent-7,url=8.8.8.8 average_response_ms=90\n", 204);
	post_expect ("/write?precision=s", "ping,host=agent-7,url=8.8.8.8 average_response_ms=70\n", 204);
	resolved = received_event (2, "alert.resolved");
	ck_assert_str_eq (json_object_get_string_member (resolved, "state"), "resolved");
	ck_assert_str_eq (json_object_get_string_member (resolved, "alert_id"),
			  json_object_get_string_member (triggered, "alert_id"));
	ck_assert_uint_eq (astra_test_receiver_get_n_requests (fx.env.receiver), 3);
}
END_TEST

START_TEST (test_write_bad_lines_keep_good_ones)
{
	g_autoptr(AstraTestReply) reply = NULL;
	g_autoptr(JsonObject) triggered = NULL;

	write_rules ("latency.rules", latency_rule);
	start_daemon (NULL);
	reply = post ("/write?precision=s", "text/plain",
		      "this is not a line\nping,host=a,url=8.8.8.8 average_response_ms=300\n");
	ck_assert_uint_eq (reply->status, 400);
	astra_assert_contains (g_bytes_get_data (reply->body, NULL), "line 1");
	/* the good second line was kept */
	triggered = received_event (0, "alert.triggered");
	ck_assert_str_eq (json_object_get_string_member (triggered, "severity"), "critical");
	post_expect ("/write?precision=fortnight", "ping,host=a,url=8.8.8.8 average_response_ms=1\n", 400);
}
END_TEST

START_TEST (test_samples_report_and_collectd)
{
	g_autoptr(JsonObject) first = NULL;
	g_autoptr(JsonObject) second = NULL;

	write_rules ("mixed.rules", "[rule loss]\nmetric = packet_loss_pct\ncritical = >= 50\n\n"
				    "[rule load]\nmetric = load_load_shortterm\nwarning = > 4\n");
	start_daemon (NULL);
	post_expect ("/v1/reports",
		     "{\"type\":\"samples\",\"agent_id\":\"a1\",\"samples\":"
		     "[{\"metric\":\"packet_loss_pct\",\"labels\":{\"target\":\"9.9.9.9\"},\"value\":60}]}",
		     202);
	first = received_event (0, "alert.triggered");
	ck_assert_str_eq (json_object_get_string_member (first, "rule"), "loss");
	ck_assert_str_eq (json_object_get_string_member (first, "metric"), "packet_loss_pct");

	post_expect ("/collectd",
		     "[{\"values\":[5.5,3.0,2.0],\"dstypes\":[\"gauge\",\"gauge\",\"gauge\"],"
		     "\"dsnames\":[\"shortterm\",\"midterm\",\"longterm\"],\"time\":1700000000.0,\"interval\":10,"
		     "\"host\":\"h1\",\"plugin\":\"load\",\"plugin_instance\":\"\",\"type\":\"load\","
		     "\"type_instance\":\"\"}]",
		     204);
	second = received_event (1, "alert.triggered");
	ck_assert_str_eq (json_object_get_string_member (second, "rule"), "load");
}
END_TEST

START_TEST (test_agent_registered_offline_online_and_restart)
{
	g_autoptr(JsonObject) registered = NULL;
	g_autoptr(JsonObject) offline = NULL;
	g_autoptr(JsonObject) online = NULL;
	g_autoptr(JsonObject) offline_again = NULL;
	g_autoptr(JsonObject) online_again = NULL;
	const char *heartbeat = "{\"type\":\"heartbeat\",\"agent_id\":\"edge-1\",\"hostname\":\"edge-1.example\","
				"\"tenant_id\":\"t1\",\"version\":\"2.1.0\"}";

	start_daemon ("\n[agents]\noffline-after = 1s\n");
	post_expect ("/v1/reports", heartbeat, 202);
	registered = received_event (0, "agent.registered");
	ck_assert_str_eq (json_object_get_string_member (registered, "agent_id"), "edge-1");
	ck_assert_str_eq (json_object_get_string_member (registered, "version"), "2.1.0");

	/* heartbeats stop: offline after a second */
	offline = received_event (1, "agent.status_changed");
	ck_assert_str_eq (json_object_get_string_member (offline, "current_status"), "offline");
	ck_assert_str_eq (json_object_get_string_member (offline, "previous_status"), "online");

	post_expect ("/v1/reports", heartbeat, 202);
	online = received_event (2, "agent.status_changed");
	ck_assert_str_eq (json_object_get_string_member (online, "current_status"), "online");

	/* silent through a restart: reported offline at start, and known, so not registered again */
	stop_daemon ();
	astra_test_iterate_for (1500);
	start_daemon (NULL);
	offline_again = received_event (3, "agent.status_changed");
	ck_assert_str_eq (json_object_get_string_member (offline_again, "current_status"), "offline");
	post_expect ("/v1/reports", heartbeat, 202);
	online_again = received_event (4, "agent.status_changed");
	ck_assert_str_eq (json_object_get_string_member (online_again, "current_status"), "online");
	ck_assert_uint_eq (astra_test_receiver_get_n_requests (fx.env.receiver), 5);
}
END_TEST

START_TEST (test_firing_alert_survives_restart)
{
	g_autoptr(JsonObject) triggered = NULL;
	g_autoptr(JsonObject) resolved = NULL;

	write_rules ("latency.rules", latency_rule);
	start_daemon (NULL);
	post_expect ("/write?precision=s", "ping,host=a,url=8.8.8.8 average_response_ms=150\n", 204);
	triggered = received_event (0, "alert.triggered");
	stop_daemon ();

	start_daemon (NULL);
	/* still above the trip: still firing, and not announced twice */
	post_expect ("/write?precision=s", "ping,host=a,url=8.8.8.8 average_response_ms=160\n", 204);
	post_expect ("/write?precision=s", "ping,host=a,url=8.8.8.8 average_response_ms=10\n", 204);
	resolved = received_event (1, "alert.resolved");
	ck_assert_str_eq (json_object_get_string_member (resolved, "alert_id"),
			  json_object_get_string_member (triggered, "alert_id"));
	ck_assert_uint_eq (astra_test_receiver_get_n_requests (fx.env.receiver), 2);
}
END_TEST

START_TEST (test_rules_reload_on_change)
{
	g_autoptr(JsonObject) triggered = NULL;

	write_rules ("latency.rules", latency_rule);
	start_daemon (NULL);
	/* a broken edit is refused and the old rules stay */
	write_rules ("latency.rules", "[rule high-latency]\nmetric = ping_average_response_ms\nwarnign = > 1\n");
	ck_assert (astra_test_daemon_wait_log (fx.env.daemon, "rules not reloaded", 1, ASTRA_TEST_TIMEOUT_MS));
	astra_assert_contains (astra_test_daemon_get_stderr (fx.env.daemon), "latency.rules:3: rule high-latency: warnign");
	/* a valid edit takes effect without a signal */
	write_rules ("latency.rules", "[rule high-latency]\nmetric = ping_average_response_ms\nwarning = > 10\n");
	ck_assert (astra_test_daemon_wait_log (fx.env.daemon, "rules reloaded", 1, ASTRA_TEST_TIMEOUT_MS));
	post_expect ("/write?precision=s", "ping,host=a,url=1.1.1.1 average_response_ms=20\n", 204);
	triggered = received_event (0, "alert.triggered");
	ck_assert_double_eq (json_object_get_double_member (triggered, "threshold"), 10);
}
END_TEST

START_TEST (test_check_config_reports_rule_errors)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	g_autofree char *url = astra_test_receiver_get_url (fx.env.receiver, "/hook");
	g_autofree char *webhooks = g_strdup_printf ("[webhook hook]\nplugin = generic\nurl = %s\n", url);
	const char *binary = astra_test_getenv ("ASTRA_ALERTD", &error);
	int status = -1;

	astra_assert_no_error (error);
	write_rules ("bad.rules", "[rule a]\nmetric = m\nwarning = >> 5\n\n[rule b]\nmetric = m\ncritical = > 1\n"
				  "webhooks = nowhere\n");
	fx.env.config_path = astra_test_write_config (fx.env.dir, NULL, NULL, webhooks, &error);
	astra_assert_no_error (error);
	{
		const char *argv[] = {binary, "--check-config", "-c", fx.env.config_path, NULL};
		ck_assert (astra_test_run (argv, NULL, NULL, ASTRA_TEST_TIMEOUT_MS, &status, &out, &err, &error));
	}
	astra_assert_no_error (error);
	ck_assert_int_eq (status, 1);
	astra_assert_contains (err, "bad.rules:3: rule a: warning:");
	astra_assert_contains (err, "bad.rules:8: rule b: webhooks:");
}
END_TEST

int
main (void)
{
	Suite *s = suite_create ("alerts");
	TCase *tc = tcase_create ("alerts");

	tcase_add_checked_fixture (tc, fixture_setup, fixture_teardown);
	tcase_set_timeout (tc, 60);
	tcase_add_test (tc, test_write_triggers_escalates_and_resolves);
	tcase_add_test (tc, test_write_bad_lines_keep_good_ones);
	tcase_add_test (tc, test_samples_report_and_collectd);
	tcase_add_test (tc, test_agent_registered_offline_online_and_restart);
	tcase_add_test (tc, test_firing_alert_survives_restart);
	tcase_add_test (tc, test_rules_reload_on_change);
	tcase_add_test (tc, test_check_config_reports_rule_errors);
	suite_add_tcase (s, tc);
	return astra_check_run_suite (s);
}
