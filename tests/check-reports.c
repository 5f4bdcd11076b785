/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Typed reports (astra_reports_handle): each type good and bad, hostname
 * and tenant from the registry, traceroute path changes across targets and
 * restarts, service tests that pass and fail, samples with labels,
 * timestamps and refusals. Events are compared byte for byte and read back
 * through the SDK (validating them again); samples are recorded as text
 * "metric{labels sorted by name} value @microseconds".
 */

#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "astra-check-common.h"
#include "astra-reports.h"
#include "astra-series.h"

/* 2025-12-17T19:33:20Z */
#define T0   (G_GINT64_CONSTANT (1766000000) * SEC)
#define T0_S "2025-12-17T19:33:20Z"
#define SEC  G_GINT64_CONSTANT (1000000)

typedef struct {
	AstraClock *clock;
	AstraStateDb *db; /* (nullable) */
	AstraAgentRegistry *agents;
	AstraReports *reports;
	GPtrArray *events;  /* (element-type AstraEvent) */
	GPtrArray *samples; /* (element-type utf8): what the sink took */
	guint n_refused;
	/* the fake sink refuses metrics starting with "bad" (a name) and, past
	 * max_accepted samples, everything (the series limit) */
	guint max_accepted;
	AstraSeriesStore *store; /* (nullable): the real store as the sink instead */
} Fixture;

static void
fixture_event_cb (AstraEvent *event, gpointer user_data)
{
	Fixture *fx = user_data;
	g_ptr_array_add (fx->events, g_object_ref (event));
}

static gint
compare_label (gconstpointer a, gconstpointer b)
{
	return strcmp (((const AstraLabel *) a)->name, ((const AstraLabel *) b)->name);
}

static char *
format_sample (const char *metric, const AstraLabel *labels, guint n_labels, double value, gint64 timestamp_us)
{
	g_autoptr(GArray) sorted = g_array_sized_new (FALSE, FALSE, sizeof (AstraLabel), n_labels);
	g_autoptr(GString) str = g_string_new (metric);

	g_array_append_vals (sorted, labels, n_labels);
	g_array_sort (sorted, compare_label);
	g_string_append_c (str, '{');
	for (guint i = 0; i < sorted->len; i++) {
		AstraLabel *label = &g_array_index (sorted, AstraLabel, i);
		g_string_append_printf (str, "%s%s=%s", i > 0 ? "," : "", label->name, label->value);
	}
	g_string_append (str, "} ");
	astra_json_format_number (str, value);
	g_string_append_printf (str, " @%" G_GINT64_FORMAT, timestamp_us);
	return g_string_free (g_steal_pointer (&str), FALSE);
}

static gboolean
fixture_sample_cb (const char *metric,
		   const AstraLabel *labels,
		   guint n_labels,
		   double value,
		   gint64 timestamp_us,
		   AstraSeriesReject *reject,
		   gpointer user_data)
{
	Fixture *fx = user_data;

	if (fx->store != NULL) {
		if (astra_series_store_lookup (fx->store, metric, labels, n_labels, reject) == NULL) {
			fx->n_refused++;
			return FALSE;
		}
	} else if (g_str_has_prefix (metric, "bad")) {
		*reject = ASTRA_SERIES_REJECT_NAME;
		fx->n_refused++;
		return FALSE;
	} else if (fx->samples->len >= fx->max_accepted) {
		*reject = ASTRA_SERIES_REJECT_CARDINALITY;
		fx->n_refused++;
		return FALSE;
	}
	g_ptr_array_add (fx->samples, format_sample (metric, labels, n_labels, value, timestamp_us));
	return TRUE;
}

static void
fixture_open (Fixture *fx)
{
	fx->agents = astra_agent_registry_new (fx->clock, fx->db, fixture_event_cb, fx);
	fx->reports = astra_reports_new (fx->agents, fx->db, fixture_event_cb, fixture_sample_cb, fx);
}

static void
fixture_close (Fixture *fx)
{
	g_clear_object (&fx->reports);
	g_clear_object (&fx->agents);
}

static Fixture *
fixture_new (const char *db_path)
{
	Fixture *fx = g_new0 (Fixture, 1);

	fx->clock = astra_clock_new_fake (T0);
	if (db_path != NULL) {
		g_autoptr(GError) error = NULL;
		fx->db = astra_state_db_open (db_path, &error);
		astra_assert_no_error (error);
	}
	fx->events = g_ptr_array_new_with_free_func (g_object_unref);
	fx->samples = g_ptr_array_new_with_free_func (g_free);
	fx->max_accepted = G_MAXUINT;
	fixture_open (fx);
	return fx;
}

static void
fixture_free (Fixture *fx)
{
	fixture_close (fx);
	g_clear_object (&fx->db);
	g_clear_object (&fx->store);
	g_clear_object (&fx->clock);
	g_ptr_array_unref (fx->events);
	g_ptr_array_unref (fx->samples);
	g_free (fx);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Fixture, fixture_free)

static void
fixture_reset (Fixture *fx)
{
	g_ptr_array_set_size (fx->events, 0);
	g_ptr_array_set_size (fx->samples, 0);
	fx->n_refused = 0;
}

static JsonObject *
parse_report (const char *json)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = astra_json_parse (json, strlen (json), &error);

	ck_assert_msg (node != NULL, "not JSON: %s: %s", json, error != NULL ? error->message : "?");
	ck_assert (JSON_NODE_HOLDS_OBJECT (node));
	return json_object_ref (json_node_get_object (node));
}

static void
handle_ok (Fixture *fx, const char *json)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonObject) report = parse_report (json);

	ck_assert_msg (astra_reports_handle (fx->reports, report, astra_clock_now (fx->clock), &error),
		       "refused: %s: %s",
		       json,
		       error != NULL ? error->message : "?");
}

/* refused with exactly @message */
static void
handle_fail (Fixture *fx, const char *json, const char *message)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonObject) report = parse_report (json);

	ck_assert_msg (!astra_reports_handle (fx->reports, report, astra_clock_now (fx->clock), &error),
		       "accepted: %s",
		       json);
	ck_assert (g_error_matches (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA));
	ck_assert_msg (g_strcmp0 (error->message, message) == 0,
		       "%s: expected '%s', got '%s'",
		       json,
		       message,
		       error->message);
}

/* a malformed report has no effect at all */
static void
handle_bad (Fixture *fx, const char *json, const char *message)
{
	guint n_events = fx->events->len;
	guint n_samples = fx->samples->len;
	guint n_agents = astra_agent_registry_get_size (fx->agents);

	handle_fail (fx, json, message);
	ck_assert_uint_eq (fx->events->len, n_events);
	ck_assert_uint_eq (fx->samples->len, n_samples);
	ck_assert_uint_eq (fx->n_refused, 0);
	ck_assert_uint_eq (astra_agent_registry_get_size (fx->agents), n_agents);
}

static void
assert_event (Fixture *fx, guint index, const char *expected)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(AstraEvent) copy = NULL;
	AstraEvent *event;
	GBytes *body;
	g_autofree char *text = NULL;

	ck_assert_msg (fx->events->len > index, "only %u events", fx->events->len);
	event = g_ptr_array_index (fx->events, index);
	body = astra_event_get_body (event);
	text = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
	ck_assert_str_eq (text, expected);
	copy = astra_event_new_from_body (astra_event_get_id (event), body, &error);
	astra_assert_no_error (error);
}

/* the recorded samples are exactly @expected, NULL-terminated, in order */
static void
assert_samples (Fixture *fx, const char *const *expected)
{
	guint n = g_strv_length ((char **) expected);

	for (guint i = 0; i < MIN (n, fx->samples->len); i++)
		ck_assert_str_eq (g_ptr_array_index (fx->samples, i), expected[i]);
	ck_assert_uint_eq (fx->samples->len, n);
}

static void
register_agent (Fixture *fx, const char *agent_id)
{
	g_autofree char *json = g_strdup_printf ("{\"type\":\"heartbeat\",\"agent_id\":\"%s\",\"hostname\":\"server-01\","
						 "\"tenant_id\":\"tenant-abc\",\"interval_s\":30}",
						 agent_id);
	handle_ok (fx, json);
}

/* the type */

START_TEST (test_types)
{
	const char *const *types = astra_reports_get_types ();

	ck_assert_uint_eq (g_strv_length ((char **) types), 5);
	ck_assert_str_eq (types[0], "heartbeat");
	ck_assert_str_eq (types[1], "speedtest");
	ck_assert_str_eq (types[2], "traceroute");
	ck_assert_str_eq (types[3], "service_test");
	ck_assert_str_eq (types[4], "samples");
}
END_TEST

START_TEST (test_type_bad)
{
	g_autoptr(Fixture) fx = fixture_new (NULL);

	handle_bad (fx, "{\"agent_id\":\"a\"}", "type: missing required field");
	handle_bad (fx, "{\"type\":1}", "type: expected string, got number");
	handle_bad (fx, "{\"type\":null}", "type: expected string, got null");
	handle_bad (fx, "{\"type\":[\"heartbeat\"]}", "type: expected string, got array");
	handle_bad (fx,
		    "{\"type\":\"Heartbeat\"}",
		    "type: unknown report type (known: heartbeat, speedtest, traceroute, service_test, samples)");
	handle_bad (fx,
		    "{\"type\":\"agent.registered\"}",
		    "type: unknown report type (known: heartbeat, speedtest, traceroute, service_test, samples)");
}
END_TEST

/* heartbeat */

START_TEST (test_heartbeat)
{
	g_autoptr(Fixture) fx = fixture_new (NULL);
	const AstraAgentInfo *info;

	handle_ok (fx,
		   "{\"type\":\"heartbeat\",\"agent_id\":\"agent-123\",\"hostname\":\"server-01\","
		   "\"tenant_id\":\"tenant-abc\",\"version\":\"2.4.1\",\"address\":\"192.0.2.10\","
		   "\"interval_s\":30,\"timestamp\":\"2025-12-17T19:33:19.5+01:00\",\"extra\":[1,2]}");
	ck_assert_uint_eq (fx->events->len, 1);
	assert_event (fx,
		      0,
		      "{\"event\":\"agent.registered\",\"timestamp\":\"" T0_S "\",\"data\":{"
		      "\"agent_id\":\"agent-123\",\"hostname\":\"server-01\",\"tenant_id\":\"tenant-abc\","
		      "\"version\":\"2.4.1\",\"address\":\"192.0.2.10\"}}");
	info = astra_agent_registry_lookup (fx->agents, "agent-123");
	ck_assert_ptr_nonnull (info);
	ck_assert_int_eq (info->interval_us, 30 * SEC);
	ck_assert_int_eq (info->last_timestamp_us, T0 - 3600 * SEC - SEC / 2);
	ck_assert_uint_eq (fx->samples->len, 0);

	/* a fractional interval; then a bare heartbeat */
	handle_ok (fx, "{\"type\":\"heartbeat\",\"agent_id\":\"agent-123\",\"interval_s\":2.5}");
	ck_assert_int_eq (info->interval_us, 2500 * 1000);
	ck_assert_int_eq (info->last_timestamp_us, T0);
	astra_clock_advance (fx->clock, 7500 * 1000);
	ck_assert_uint_eq (fx->events->len, 2);
	ck_assert (astra_agent_registry_is_offline (fx->agents, "agent-123"));
	handle_ok (fx, "{\"type\":\"heartbeat\",\"agent_id\":\"agent-123\"}");
	ck_assert_uint_eq (fx->events->len, 3);
	ck_assert (!astra_agent_registry_is_offline (fx->agents, "agent-123"));
}
END_TEST

static const struct {
	const char *json;
	const char *message;
} bad_heartbeats[] = {
    {"{\"type\":\"heartbeat\",\"hostname\":\"h\"}", "agent_id: missing required field"},
    {"{\"type\":\"heartbeat\",\"agent_id\":7,\"hostname\":\"h\"}", "agent_id: expected string, got number"},
    {"{\"type\":\"heartbeat\",\"agent_id\":\"\",\"hostname\":\"h\"}", "agent_id: must not be empty"},
    {"{\"type\":\"heartbeat\",\"agent_id\":\"a\"}", "hostname: required for an agent not seen before"},
    {"{\"type\":\"heartbeat\",\"agent_id\":\"a\",\"hostname\":null}", "hostname: expected string, got null"},
    {"{\"type\":\"heartbeat\",\"agent_id\":\"a\",\"hostname\":\"\"}", "hostname: must not be empty"},
    {"{\"type\":\"heartbeat\",\"agent_id\":\"a\",\"hostname\":\"h\",\"tenant_id\":\"\"}", "tenant_id: must not be empty"},
    {"{\"type\":\"heartbeat\",\"agent_id\":\"a\",\"hostname\":\"h\",\"version\":2}", "version: expected string, got number"},
    {"{\"type\":\"heartbeat\",\"agent_id\":\"a\",\"hostname\":\"h\",\"address\":true}", "address: expected string, got boolean"},
    {"{\"type\":\"heartbeat\",\"agent_id\":\"a\",\"hostname\":\"h\",\"interval_s\":\"30\"}", "interval_s: expected number, got string"},
    {"{\"type\":\"heartbeat\",\"agent_id\":\"a\",\"hostname\":\"h\",\"interval_s\":0}", "interval_s: must be >= 1, got 0"},
    {"{\"type\":\"heartbeat\",\"agent_id\":\"a\",\"hostname\":\"h\",\"interval_s\":86401}", "interval_s: must be at most 86400"},
    {"{\"type\":\"heartbeat\",\"agent_id\":\"a\",\"hostname\":\"h\",\"timestamp\":1766000000}", "timestamp: expected string, got number"},
    {"{\"type\":\"heartbeat\",\"agent_id\":\"a\",\"hostname\":\"h\",\"timestamp\":\"2025-12-17T10:30:00\"}",
     "timestamp: must be an RFC 3339 date-time like 2025-12-17T10:30:00Z"},
    {"{\"type\":\"heartbeat\",\"agent_id\":\"a\",\"hostname\":\"h\",\"timestamp\":\"1969-12-31T23:59:59Z\"}",
     "timestamp: before 1970"},
};

START_TEST (test_heartbeat_bad)
{
	g_autoptr(Fixture) fx = fixture_new (NULL);
	handle_bad (fx, bad_heartbeats[_i].json, bad_heartbeats[_i].message);
}
END_TEST

START_TEST (test_heartbeat_long)
{
	g_autoptr(Fixture) fx = fixture_new (NULL);
	g_autofree char *max = g_strnfill (256, 'h');
	g_autofree char *over = g_strnfill (257, 'h');
	g_autofree char *ok = g_strdup_printf ("{\"type\":\"heartbeat\",\"agent_id\":\"%s\",\"hostname\":\"%s\"}", max, max);
	g_autofree char *bad = g_strdup_printf ("{\"type\":\"heartbeat\",\"agent_id\":\"a\",\"hostname\":\"%s\"}", over);

	handle_ok (fx, ok);
	handle_bad (fx, bad, "hostname: must be at most 256 characters long, got 257");
}
END_TEST

/* speedtest */

START_TEST (test_speedtest)
{
	g_autoptr(Fixture) fx = fixture_new (NULL);
	const char *const samples[] = {
	    "speedtest_download_mbps{agent_id=agent-123} 941.2 @1765999800000000",
	    "speedtest_upload_mbps{agent_id=agent-123} 40 @1765999800000000",
	    "speedtest_ping_ms{agent_id=agent-123} 8.25 @1765999800000000",
	    "speedtest_jitter_ms{agent_id=agent-123} 0.5 @1765999800000000",
	    NULL,
	};

	register_agent (fx, "agent-123");
	fixture_reset (fx);
	/* hostname and tenant from the registry */
	handle_ok (fx,
		   "{\"type\":\"speedtest\",\"agent_id\":\"agent-123\",\"download_mbps\":941.2,\"upload_mbps\":40,"
		   "\"ping_ms\":8.25,\"jitter_ms\":0.5,\"server\":\"speedtest.example.net\",\"isp\":\"Example ISP\","
		   "\"timestamp\":\"2025-12-17T19:30:00Z\",\"ignored\":{}}");
	ck_assert_uint_eq (fx->events->len, 1);
	assert_event (fx,
		      0,
		      "{\"event\":\"speedtest.completed\",\"timestamp\":\"2025-12-17T19:30:00Z\",\"data\":{"
		      "\"agent_id\":\"agent-123\",\"hostname\":\"server-01\",\"tenant_id\":\"tenant-abc\","
		      "\"download_mbps\":941.2,\"upload_mbps\":40,\"ping_ms\":8.25,\"jitter_ms\":0.5,"
		      "\"server\":\"speedtest.example.net\",\"isp\":\"Example ISP\"}}");
	assert_samples (fx, samples);
	/* a result is not a heartbeat */
	ck_assert_int_eq (astra_agent_registry_lookup (fx->agents, "agent-123")->last_seen_us, T0);
}
END_TEST

START_TEST (test_speedtest_minimal)
{
	g_autoptr(Fixture) fx = fixture_new (NULL);
	const char *const samples[] = {
	    "speedtest_download_mbps{agent_id=agent-9} 0 @1766000000000000",
	    "speedtest_upload_mbps{agent_id=agent-9} 1e-7 @1766000000000000",
	    "speedtest_ping_ms{agent_id=agent-9} 12 @1766000000000000",
	    NULL,
	};

	/* not registered, but the report names its hostname: the tenant is "default" */
	handle_ok (fx,
		   "{\"type\":\"speedtest\",\"agent_id\":\"agent-9\",\"hostname\":\"lab\",\"download_mbps\":0,"
		   "\"upload_mbps\":1e-7,\"ping_ms\":12}");
	assert_event (fx,
		      0,
		      "{\"event\":\"speedtest.completed\",\"timestamp\":\"" T0_S "\",\"data\":{"
		      "\"agent_id\":\"agent-9\",\"hostname\":\"lab\",\"tenant_id\":\"default\","
		      "\"download_mbps\":0,\"upload_mbps\":1e-7,\"ping_ms\":12}}");
	assert_samples (fx, samples);
	/* results register nobody */
	ck_assert_uint_eq (astra_agent_registry_get_size (fx->agents), 0);
}
END_TEST

START_TEST (test_speedtest_report_wins)
{
	g_autoptr(Fixture) fx = fixture_new (NULL);

	register_agent (fx, "agent-123");
	fixture_reset (fx);
	handle_ok (fx,
		   "{\"type\":\"speedtest\",\"agent_id\":\"agent-123\",\"hostname\":\"other\",\"tenant_id\":\"t2\","
		   "\"download_mbps\":1,\"upload_mbps\":2,\"ping_ms\":3}");
	assert_event (fx,
		      0,
		      "{\"event\":\"speedtest.completed\",\"timestamp\":\"" T0_S "\",\"data\":{"
		      "\"agent_id\":\"agent-123\",\"hostname\":\"other\",\"tenant_id\":\"t2\","
		      "\"download_mbps\":1,\"upload_mbps\":2,\"ping_ms\":3}}");
	/* the registry is not changed by results */
	ck_assert_str_eq (astra_agent_registry_lookup (fx->agents, "agent-123")->hostname, "server-01");

	/* a registered agent's own tenant fills in when only the hostname is given */
	fixture_reset (fx);
	handle_ok (fx,
		   "{\"type\":\"speedtest\",\"agent_id\":\"agent-123\",\"hostname\":\"other\","
		   "\"download_mbps\":1,\"upload_mbps\":2,\"ping_ms\":3}");
	astra_assert_contains (g_bytes_get_data (astra_event_get_body (g_ptr_array_index (fx->events, 0)), NULL),
			       "\"tenant_id\":\"tenant-abc\"");
}
END_TEST

#define SPEEDTEST_HEAD "{\"type\":\"speedtest\",\"agent_id\":\"agent-123\","

static const struct {
	const char *json;
	const char *message;
} bad_speedtests[] = {
    {"{\"type\":\"speedtest\",\"download_mbps\":1,\"upload_mbps\":2,\"ping_ms\":3}", "agent_id: missing required field"},
    {SPEEDTEST_HEAD "\"upload_mbps\":2,\"ping_ms\":3}", "download_mbps: missing required field"},
    {SPEEDTEST_HEAD "\"download_mbps\":1,\"ping_ms\":3}", "upload_mbps: missing required field"},
    {SPEEDTEST_HEAD "\"download_mbps\":1,\"upload_mbps\":2}", "ping_ms: missing required field"},
    {SPEEDTEST_HEAD "\"download_mbps\":\"1\",\"upload_mbps\":2,\"ping_ms\":3}", "download_mbps: expected number, got string"},
    {SPEEDTEST_HEAD "\"download_mbps\":1,\"upload_mbps\":null,\"ping_ms\":3}", "upload_mbps: expected number, got null"},
    {SPEEDTEST_HEAD "\"download_mbps\":1,\"upload_mbps\":2,\"ping_ms\":-3}", "ping_ms: must be >= 0, got -3"},
    {SPEEDTEST_HEAD "\"download_mbps\":1,\"upload_mbps\":2,\"ping_ms\":3,\"jitter_ms\":\"x\"}", "jitter_ms: expected number, got string"},
    {SPEEDTEST_HEAD "\"download_mbps\":1,\"upload_mbps\":2,\"ping_ms\":3,\"server\":1}", "server: expected string, got number"},
    {SPEEDTEST_HEAD "\"download_mbps\":1,\"upload_mbps\":2,\"ping_ms\":3,\"isp\":[]}", "isp: expected string, got array"},
    {SPEEDTEST_HEAD "\"download_mbps\":1,\"upload_mbps\":2,\"ping_ms\":3,\"hostname\":\"\"}", "hostname: must not be empty"},
    {SPEEDTEST_HEAD "\"download_mbps\":1,\"upload_mbps\":2,\"ping_ms\":3,\"tenant_id\":5}", "tenant_id: expected string, got number"},
    {SPEEDTEST_HEAD "\"download_mbps\":1,\"upload_mbps\":2,\"ping_ms\":3,\"timestamp\":\"yesterday\"}",
     "timestamp: must be an RFC 3339 date-time like 2025-12-17T10:30:00Z"},
    /* a well-formed report from an agent nobody knows, without a hostname */
    {SPEEDTEST_HEAD "\"download_mbps\":1,\"upload_mbps\":2,\"ping_ms\":3}", "hostname: required, agent agent-123 is not registered"},
};

START_TEST (test_speedtest_bad)
{
	g_autoptr(Fixture) fx = fixture_new (NULL);
	handle_bad (fx, bad_speedtests[_i].json, bad_speedtests[_i].message);
}
END_TEST

/* traceroute */

static char *
traceroute_json (const char *target, const char *const *addresses)
{
	g_autoptr(GString) json = g_string_new (NULL);

	g_string_append_printf (json,
				"{\"type\":\"traceroute\",\"agent_id\":\"agent-123\",\"target\":\"%s\","
				"\"destination_reached\":true,\"hops\":[",
				target);
	for (guint i = 0; addresses[i] != NULL; i++) {
		if (i > 0)
			g_string_append_c (json, ',');
		if (g_strcmp0 (addresses[i], "*") == 0)
			g_string_append_printf (json, "{\"hop\":%u,\"address\":null,\"rtt_ms\":null}", i + 1);
		else
			g_string_append_printf (json, "{\"hop\":%u,\"address\":\"%s\",\"rtt_ms\":%u.5}", i + 1, addresses[i], i);
	}
	g_string_append (json, "]}");
	return g_string_free (g_steal_pointer (&json), FALSE);
}

/* sends the traceroute and returns path_changed of its event */
static gboolean
traceroute (Fixture *fx, const char *target, const char *const *addresses)
{
	g_autofree char *json = traceroute_json (target, addresses);
	AstraEvent *event;
	JsonObject *data;

	g_ptr_array_set_size (fx->events, 0);
	handle_ok (fx, json);
	ck_assert_uint_eq (fx->events->len, 1);
	event = g_ptr_array_index (fx->events, 0);
	ck_assert_int_eq (astra_event_get_kind (event), ASTRA_EVENT_KIND_TRACEROUTE_COMPLETED);
	data = astra_event_get_data (event);
	ck_assert_str_eq (json_object_get_string_member (data, "target"), target);
	ck_assert_int_eq (json_object_get_int_member (data, "hop_count"), g_strv_length ((char **) addresses));
	return json_object_get_boolean_member (data, "path_changed");
}

static const char *const path_a[] = {"10.0.0.1", "192.0.2.1", "198.51.100.9", NULL};
static const char *const path_b[] = {"10.0.0.1", "192.0.2.2", "198.51.100.9", NULL};
static const char *const path_short[] = {"10.0.0.1", "198.51.100.9", NULL};
static const char *const path_star[] = {"10.0.0.1", "*", "198.51.100.9", NULL};

START_TEST (test_traceroute)
{
	g_autoptr(Fixture) fx = fixture_new (NULL);
	const char *const samples[] = {
	    "traceroute_hop_count{agent_id=agent-123,target=example.com} 3 @1766000000000000",
	    NULL,
	};

	register_agent (fx, "agent-123");
	fixture_reset (fx);
	handle_ok (fx,
		   "{\"type\":\"traceroute\",\"agent_id\":\"agent-123\",\"target\":\"example.com\","
		   "\"destination_reached\":true,\"hops\":[{\"hop\":1,\"address\":\"10.0.0.1\",\"rtt_ms\":0.4},"
		   "{\"hop\":2,\"address\":null,\"rtt_ms\":null},{\"hop\":3,\"address\":\"93.184.216.34\",\"rtt_ms\":11,"
		   "\"asn\":15133}]}");
	assert_event (fx,
		      0,
		      "{\"event\":\"traceroute.completed\",\"timestamp\":\"" T0_S "\",\"data\":{"
		      "\"agent_id\":\"agent-123\",\"hostname\":\"server-01\",\"tenant_id\":\"tenant-abc\","
		      "\"target\":\"example.com\",\"destination_reached\":true,\"hop_count\":3,\"hops\":["
		      "{\"hop\":1,\"address\":\"10.0.0.1\",\"rtt_ms\":0.4},{\"hop\":2,\"address\":null,\"rtt_ms\":null},"
		      "{\"hop\":3,\"address\":\"93.184.216.34\",\"rtt_ms\":11,\"asn\":15133}],\"path_changed\":false}}");
	assert_samples (fx, samples);

	/* no hops at all is a path too */
	fixture_reset (fx);
	handle_ok (fx,
		   "{\"type\":\"traceroute\",\"agent_id\":\"agent-123\",\"hostname\":\"h\",\"target\":\"t\","
		   "\"destination_reached\":false,\"hops\":[],\"timestamp\":\"2025-12-17T19:00:00Z\"}");
	assert_event (fx,
		      0,
		      "{\"event\":\"traceroute.completed\",\"timestamp\":\"2025-12-17T19:00:00Z\",\"data\":{"
		      "\"agent_id\":\"agent-123\",\"hostname\":\"h\",\"tenant_id\":\"tenant-abc\",\"target\":\"t\","
		      "\"destination_reached\":false,\"hop_count\":0,\"hops\":[],\"path_changed\":false}}");
}
END_TEST

static void
check_path_sequence (Fixture *fx)
{
	register_agent (fx, "agent-123");
	/* the first path ever seen has nothing to differ from */
	ck_assert (!traceroute (fx, "example.com", path_a));
	ck_assert (!traceroute (fx, "example.com", path_a));
	ck_assert (traceroute (fx, "example.com", path_b));
	ck_assert (!traceroute (fx, "example.com", path_b));
	/* another target has its own history */
	ck_assert (!traceroute (fx, "example.org", path_a));
	ck_assert (traceroute (fx, "example.com", path_a));
	ck_assert (!traceroute (fx, "example.org", path_a));
	/* a missing hop, a hop that does not answer */
	ck_assert (traceroute (fx, "example.org", path_short));
	ck_assert (traceroute (fx, "example.org", path_star));
	ck_assert (!traceroute (fx, "example.org", path_star));
}

START_TEST (test_path_changed)
{
	g_autoptr(Fixture) fx = fixture_new (NULL);
	check_path_sequence (fx);
}
END_TEST

START_TEST (test_path_changed_other_agent)
{
	g_autoptr(Fixture) fx = fixture_new (NULL);

	register_agent (fx, "agent-123");
	ck_assert (!traceroute (fx, "example.com", path_a));
	/* another agent to the same target has its own history */
	handle_ok (fx,
		   "{\"type\":\"traceroute\",\"agent_id\":\"agent-2\",\"hostname\":\"h\",\"target\":\"example.com\","
		   "\"destination_reached\":true,\"hops\":[{\"hop\":1,\"address\":\"10.9.9.9\"}]}");
	ck_assert (!json_object_get_boolean_member (astra_event_get_data (g_ptr_array_index (fx->events, 1)),
						   "path_changed"));
	ck_assert (!traceroute (fx, "example.com", path_a));
	/* ids that could run into each other when joined stay apart */
	handle_ok (fx,
		   "{\"type\":\"traceroute\",\"agent_id\":\"agent-12\",\"hostname\":\"h\",\"target\":\"3example.com\","
		   "\"destination_reached\":true,\"hops\":[{\"hop\":1,\"address\":\"10.9.9.9\"}]}");
	ck_assert (!json_object_get_boolean_member (astra_event_get_data (g_ptr_array_index (fx->events, 1)),
						   "path_changed"));
}
END_TEST

START_TEST (test_path_changed_restart)
{
	g_autofree char *path = astra_check_tmp_path ("state.db");
	g_autoptr(Fixture) fx = fixture_new (path);
	g_autoptr(GError) error = NULL;

	check_path_sequence (fx);
	ck_assert (astra_agent_registry_flush (fx->agents, &error));
	ck_assert (astra_state_db_flush (fx->db, &error));

	/* a new process: the last paths are remembered */
	fixture_close (fx);
	g_clear_object (&fx->db);
	fx->db = astra_state_db_open (path, &error);
	astra_assert_no_error (error);
	fixture_open (fx);
	ck_assert (astra_agent_registry_restore (fx->agents, &error));
	ck_assert (!traceroute (fx, "example.com", path_a));
	ck_assert (!traceroute (fx, "example.org", path_star));
	ck_assert (traceroute (fx, "example.org", path_a));
	ck_assert (!traceroute (fx, "example.net", path_b));
}
END_TEST

#define TRACEROUTE_HEAD "{\"type\":\"traceroute\",\"agent_id\":\"agent-123\",\"hostname\":\"h\","

static const struct {
	const char *json;
	const char *message;
} bad_traceroutes[] = {
    {TRACEROUTE_HEAD "\"destination_reached\":true,\"hops\":[]}", "target: missing required field"},
    {TRACEROUTE_HEAD "\"target\":\"t\",\"hops\":[]}", "destination_reached: missing required field"},
    {TRACEROUTE_HEAD "\"target\":\"t\",\"destination_reached\":true}", "hops: missing required field"},
    {TRACEROUTE_HEAD "\"target\":\"\",\"destination_reached\":true,\"hops\":[]}", "target: must not be empty"},
    {TRACEROUTE_HEAD "\"target\":\"t\",\"destination_reached\":1,\"hops\":[]}", "destination_reached: expected boolean, got number"},
    {TRACEROUTE_HEAD "\"target\":\"t\",\"destination_reached\":true,\"hops\":{}}", "hops: expected array, got object"},
    {TRACEROUTE_HEAD "\"target\":\"t\",\"destination_reached\":true,\"hops\":[\"10.0.0.1\"]}", "hops[0]: expected object, got string"},
    {TRACEROUTE_HEAD "\"target\":\"t\",\"destination_reached\":true,\"hops\":[{\"hop\":1},{\"address\":\"x\"}]}", "hops[1].hop: missing required field"},
    {TRACEROUTE_HEAD "\"target\":\"t\",\"destination_reached\":true,\"hops\":[{\"hop\":0}]}", "hops[0].hop: must be >= 1, got 0"},
    {TRACEROUTE_HEAD "\"target\":\"t\",\"destination_reached\":true,\"hops\":[{\"hop\":1.5}]}", "hops[0].hop: expected integer, got non-integral number"},
    {TRACEROUTE_HEAD "\"target\":\"t\",\"destination_reached\":true,\"hops\":[{\"hop\":1,\"address\":5}]}", "hops[0].address: expected string or null, got number"},
    {TRACEROUTE_HEAD "\"target\":\"t\",\"destination_reached\":true,\"hops\":[{\"hop\":1,\"rtt_ms\":\"5\"}]}", "hops[0].rtt_ms: expected number or null, got string"},
    {TRACEROUTE_HEAD "\"target\":\"t\",\"destination_reached\":true,\"hops\":[{\"hop\":1,\"rtt_ms\":-1}]}", "hops[0].rtt_ms: must be >= 0, got -1"},
    {"{\"type\":\"traceroute\",\"agent_id\":\"nobody\",\"target\":\"t\",\"destination_reached\":true,\"hops\":[]}",
     "hostname: required, agent nobody is not registered"},
};

START_TEST (test_traceroute_bad)
{
	g_autoptr(Fixture) fx = fixture_new (NULL);
	handle_bad (fx, bad_traceroutes[_i].json, bad_traceroutes[_i].message);
}
END_TEST

START_TEST (test_traceroute_too_many_hops)
{
	g_autoptr(Fixture) fx = fixture_new (NULL);
	g_autoptr(GString) json = g_string_new (TRACEROUTE_HEAD "\"target\":\"t\",\"destination_reached\":false,\"hops\":[");
	g_autofree char *ok = NULL;

	for (guint i = 1; i <= 256; i++) {
		g_string_append_printf (json, "%s{\"hop\":%u}", i > 1 ? "," : "", i);
		if (i == 255)
			ok = g_strconcat (json->str, "]}", NULL);
	}
	g_string_append (json, "]}");
	handle_bad (fx, json->str, "hops: at most 255 hops, got 256");
	handle_ok (fx, ok);
}
END_TEST

/* service_test */

#define SERVICE_HEAD                                                                                          \
	"{\"type\":\"service_test\",\"agent_id\":\"agent-123\",\"test\":\"api\",\"kind\":\"http\","        \
	"\"target\":\"https://api.example.com/health\","

START_TEST (test_service_test_success)
{
	g_autoptr(Fixture) fx = fixture_new (NULL);
	const char *const samples[] = {
	    "service_up{agent_id=agent-123,kind=http,target=https://api.example.com/health,test=api} 1 @1766000000000000",
	    "service_response_ms{agent_id=agent-123,kind=http,target=https://api.example.com/health,test=api} 42.5 "
	    "@1766000000000000",
	    NULL,
	};
	const char *const up_only[] = {
	    "service_up{agent_id=agent-123,kind=http,target=https://api.example.com/health,test=api} 1 @1765999990000000",
	    NULL,
	};

	/* a success needs no registered agent: there is no event to name its host in */
	handle_ok (fx, SERVICE_HEAD "\"success\":true,\"status_code\":200,\"response_ms\":42.5}");
	ck_assert_uint_eq (fx->events->len, 0);
	assert_samples (fx, samples);

	fixture_reset (fx);
	handle_ok (fx, SERVICE_HEAD "\"success\":true,\"response_ms\":null,\"timestamp\":\"2025-12-17T19:33:10Z\"}");
	assert_samples (fx, up_only);
}
END_TEST

START_TEST (test_service_test_failure)
{
	g_autoptr(Fixture) fx = fixture_new (NULL);
	const char *const samples[] = {
	    "service_up{agent_id=agent-123,kind=http,target=https://api.example.com/health,test=api} 0 @1766000000000000",
	    "service_response_ms{agent_id=agent-123,kind=http,target=https://api.example.com/health,test=api} 5000 "
	    "@1766000000000000",
	    NULL,
	};
	const char *const samples_tcp[] = {
	    "service_up{agent_id=agent-123,kind=tcp,target=db:5432,test=db} 0 @1766000000000000",
	    NULL,
	};

	register_agent (fx, "agent-123");
	fixture_reset (fx);
	handle_ok (fx,
		   SERVICE_HEAD "\"success\":false,\"error\":\"HTTP 503 Service Unavailable\",\"status_code\":503,"
				"\"response_ms\":5000}");
	ck_assert_uint_eq (fx->events->len, 1);
	assert_event (fx,
		      0,
		      "{\"event\":\"service_test.failed\",\"timestamp\":\"" T0_S "\",\"data\":{"
		      "\"agent_id\":\"agent-123\",\"hostname\":\"server-01\",\"tenant_id\":\"tenant-abc\","
		      "\"test\":\"api\",\"kind\":\"http\",\"target\":\"https://api.example.com/health\","
		      "\"error\":\"HTTP 503 Service Unavailable\",\"status_code\":503,\"response_ms\":5000}}");
	ck_assert_int_eq (astra_event_get_severity (g_ptr_array_index (fx->events, 0)), ASTRA_SEVERITY_ERROR);
	assert_samples (fx, samples);

	/* nulls are passed on as they came; no response time, no sample of it */
	fixture_reset (fx);
	handle_ok (fx,
		   "{\"type\":\"service_test\",\"agent_id\":\"agent-123\",\"test\":\"db\",\"kind\":\"tcp\","
		   "\"target\":\"db:5432\",\"success\":false,\"error\":\"connection refused\",\"status_code\":null,"
		   "\"response_ms\":null}");
	assert_event (fx,
		      0,
		      "{\"event\":\"service_test.failed\",\"timestamp\":\"" T0_S "\",\"data\":{"
		      "\"agent_id\":\"agent-123\",\"hostname\":\"server-01\",\"tenant_id\":\"tenant-abc\","
		      "\"test\":\"db\",\"kind\":\"tcp\",\"target\":\"db:5432\",\"error\":\"connection refused\","
		      "\"status_code\":null,\"response_ms\":null}}");
	assert_samples (fx, samples_tcp);
}
END_TEST

static const struct {
	const char *json;
	const char *message;
} bad_service_tests[] = {
    {SERVICE_HEAD "\"success\":false}", "error: required when success is false"},
    {SERVICE_HEAD "\"success\":false,\"error\":null}", "error: expected string, got null"},
    {SERVICE_HEAD "\"error\":\"x\"}", "success: missing required field"},
    {SERVICE_HEAD "\"success\":\"false\",\"error\":\"x\"}", "success: expected boolean, got string"},
    {SERVICE_HEAD "\"success\":0}", "success: expected boolean, got number"},
    {"{\"type\":\"service_test\",\"agent_id\":\"agent-123\",\"kind\":\"http\",\"target\":\"t\",\"success\":true}", "test: missing required field"},
    {"{\"type\":\"service_test\",\"agent_id\":\"agent-123\",\"test\":\"x\",\"target\":\"t\",\"success\":true}", "kind: missing required field"},
    {"{\"type\":\"service_test\",\"agent_id\":\"agent-123\",\"test\":\"x\",\"kind\":\"tcp\",\"success\":true}", "target: missing required field"},
    {"{\"type\":\"service_test\",\"test\":\"x\",\"kind\":\"tcp\",\"target\":\"t\",\"success\":true}", "agent_id: missing required field"},
    {"{\"type\":\"service_test\",\"agent_id\":\"a\",\"test\":\"x\",\"kind\":\"smtp\",\"target\":\"t\",\"success\":true}",
     "kind: must be one of http, tcp, dns, icmp, tls"},
    {SERVICE_HEAD "\"success\":true,\"status_code\":200.5}", "status_code: expected integer or null, got non-integral number"},
    {SERVICE_HEAD "\"success\":true,\"status_code\":\"200\"}", "status_code: expected integer or null, got string"},
    {SERVICE_HEAD "\"success\":true,\"response_ms\":-1}", "response_ms: must be >= 0, got -1"},
    {SERVICE_HEAD "\"success\":true,\"response_ms\":\"1\"}", "response_ms: expected number or null, got string"},
    {SERVICE_HEAD "\"success\":true,\"timestamp\":\"2025-12-17 19:33:10Z\"}",
     "timestamp: must be an RFC 3339 date-time like 2025-12-17T10:30:00Z"},
    /* the event needs a hostname, and nobody knows this agent */
    {SERVICE_HEAD "\"success\":false,\"error\":\"timeout\"}", "hostname: required, agent agent-123 is not registered"},
};

START_TEST (test_service_test_bad)
{
	g_autoptr(Fixture) fx = fixture_new (NULL);
	handle_bad (fx, bad_service_tests[_i].json, bad_service_tests[_i].message);
}
END_TEST

/* samples */

START_TEST (test_samples_labels)
{
	g_autoptr(Fixture) fx = fixture_new (NULL);
	const char *const samples[] = {
	    /* report labels, agent_id, sample labels winning over both */
	    "ping_latency_ms{a=report,agent_id=agent-1,b=sample,c=sample} 12.5 @1766000000000000",
	    "ping_latency_ms{a=report,agent_id=agent-1,b=report} 13 @1766000000000000",
	    "packet_loss{a=report,agent_id=other,b=report} 0 @1766000000000000",
	    NULL,
	};
	const char *const bare[] = {
	    "cpu{} -1.5 @1766000000000000",
	    "cpu{agent_id=from-labels} 2 @1766000000000000",
	    NULL,
	};

	handle_ok (fx,
		   "{\"type\":\"samples\",\"agent_id\":\"agent-1\",\"labels\":{\"a\":\"report\",\"b\":\"report\"},"
		   "\"samples\":[{\"metric\":\"ping_latency_ms\",\"labels\":{\"b\":\"sample\",\"c\":\"sample\"},\"value\":12.5},"
		   "{\"metric\":\"ping_latency_ms\",\"value\":13},"
		   "{\"metric\":\"packet_loss\",\"labels\":{\"agent_id\":\"other\"},\"value\":0}]}");
	assert_samples (fx, samples);
	ck_assert_uint_eq (fx->events->len, 0);

	/* no agent_id, no labels; labels may name the agent themselves */
	fixture_reset (fx);
	handle_ok (fx,
		   "{\"type\":\"samples\",\"samples\":[{\"metric\":\"cpu\",\"value\":-1.5},"
		   "{\"metric\":\"cpu\",\"labels\":{},\"value\":2}],\"labels\":{\"agent_id\":\"from-labels\"}}");
	/* the report's labels apply to every sample: both have them */
	ck_assert_uint_eq (fx->samples->len, 2);
	ck_assert_str_eq (g_ptr_array_index (fx->samples, 0), "cpu{agent_id=from-labels} -1.5 @1766000000000000");
	ck_assert_str_eq (g_ptr_array_index (fx->samples, 1), bare[1]);

	fixture_reset (fx);
	handle_ok (fx, "{\"type\":\"samples\",\"samples\":[{\"metric\":\"cpu\",\"value\":-1.5}]}");
	ck_assert_str_eq (g_ptr_array_index (fx->samples, 0), bare[0]);

	/* an empty report is fine and does nothing */
	fixture_reset (fx);
	handle_ok (fx, "{\"type\":\"samples\",\"samples\":[]}");
	ck_assert_uint_eq (fx->samples->len, 0);
}
END_TEST

START_TEST (test_samples_timestamps)
{
	g_autoptr(Fixture) fx = fixture_new (NULL);
	const char *const samples[] = {
	    "m{} 1 @1765970000000000",
	    "m{} 2 @1765967400123456",
	    "m{} 3 @1766000000000000",
	    "m{} 4 @1766000000250000",
	    "m{} 5 @0",
	    "m{} 6 @1766000100000000",
	    NULL,
	};
	const char *const report_default[] = {
	    "m{} 1 @1765999000000000",
	    "m{} 2 @1765999900500000",
	    NULL,
	};

	handle_ok (fx,
		   "{\"type\":\"samples\",\"samples\":["
		   "{\"metric\":\"m\",\"value\":1,\"timestamp\":\"2025-12-17T11:13:20Z\"},"
		   "{\"metric\":\"m\",\"value\":2,\"timestamp\":\"2025-12-17t12:30:00.123456+02:00\"},"
		   "{\"metric\":\"m\",\"value\":3,\"timestamp\":1766000000},"
		   "{\"metric\":\"m\",\"value\":4,\"timestamp\":1766000000.25},"
		   "{\"metric\":\"m\",\"value\":5,\"timestamp\":0},"
		   "{\"metric\":\"m\",\"value\":6,\"timestamp\":\"2025-12-17T19:35:00Z\"}]}");
	assert_samples (fx, samples);

	/* the report's timestamp is the default of its samples */
	fixture_reset (fx);
	handle_ok (fx,
		   "{\"type\":\"samples\",\"timestamp\":\"2025-12-17T19:16:40Z\",\"samples\":["
		   "{\"metric\":\"m\",\"value\":1},{\"metric\":\"m\",\"value\":2,\"timestamp\":1765999900.5}]}");
	assert_samples (fx, report_default);
}
END_TEST

static const struct {
	const char *json;
	const char *message;
} bad_samples[] = {
    {"{\"type\":\"samples\"}", "samples: missing required field"},
    {"{\"type\":\"samples\",\"samples\":{}}", "samples: expected array, got object"},
    {"{\"type\":\"samples\",\"samples\":[1]}", "samples[0]: expected object, got number"},
    {"{\"type\":\"samples\",\"samples\":[{\"metric\":\"m\",\"value\":1},{\"value\":1}]}", "samples[1].metric: missing required field"},
    {"{\"type\":\"samples\",\"samples\":[{\"metric\":\"m\"}]}", "samples[0].value: missing required field"},
    {"{\"type\":\"samples\",\"samples\":[{\"metric\":\"m\",\"value\":1},{\"metric\":\"m\",\"value\":1},"
     "{\"metric\":\"m\",\"value\":1},{\"metric\":\"m\",\"value\":\"1\"}]}",
     "samples[3].value: expected number, got string"},
    {"{\"type\":\"samples\",\"samples\":[{\"metric\":\"m\",\"value\":null}]}", "samples[0].value: expected number, got null"},
    {"{\"type\":\"samples\",\"samples\":[{\"metric\":\"\",\"value\":1}]}", "samples[0].metric: must not be empty"},
    {"{\"type\":\"samples\",\"samples\":[{\"metric\":3,\"value\":1}]}", "samples[0].metric: expected string, got number"},
    {"{\"type\":\"samples\",\"samples\":[{\"metric\":\"m\",\"value\":1,\"labels\":[]}]}", "samples[0].labels: expected object, got array"},
    {"{\"type\":\"samples\",\"samples\":[{\"metric\":\"m\",\"value\":1,\"labels\":{\"host\":1}}]}",
     "samples[0].labels.host: expected string, got number"},
    {"{\"type\":\"samples\",\"samples\":[{\"metric\":\"m\",\"value\":1,\"labels\":{\"a b\":null}}]}",
     "samples[0].labels[\"a b\"]: expected string, got null"},
    {"{\"type\":\"samples\",\"labels\":{\"site\":true},\"samples\":[]}", "labels.site: expected string, got boolean"},
    {"{\"type\":\"samples\",\"labels\":\"site=x\",\"samples\":[]}", "labels: expected object, got string"},
    {"{\"type\":\"samples\",\"agent_id\":\"\",\"samples\":[]}", "agent_id: must not be empty"},
    {"{\"type\":\"samples\",\"agent_id\":1,\"samples\":[]}", "agent_id: expected string, got number"},
    {"{\"type\":\"samples\",\"timestamp\":true,\"samples\":[]}", "timestamp: expected string or number, got boolean"},
    {"{\"type\":\"samples\",\"timestamp\":-1,\"samples\":[]}", "timestamp: before 1970"},
    {"{\"type\":\"samples\",\"samples\":[{\"metric\":\"m\",\"value\":1},{\"metric\":\"m\",\"value\":1,\"timestamp\":\"now\"}]}",
     "samples[1].timestamp: must be an RFC 3339 date-time like 2025-12-17T10:30:00Z"},
    {"{\"type\":\"samples\",\"samples\":[{\"metric\":\"m\",\"value\":1},{\"metric\":\"m\",\"value\":1,\"timestamp\":1766000000000}]}",
     "samples[1].timestamp: after 9999-12-31T23:59:59Z (unix seconds are expected)"},
    {"{\"type\":\"samples\",\"samples\":[{\"metric\":\"m\",\"value\":1},{\"metric\":\"m\",\"value\":1,\"timestamp\":-0.5}]}",
     "samples[1].timestamp: before 1970"},
    {"{\"type\":\"samples\",\"samples\":[{\"metric\":\"m\",\"value\":1,\"timestamp\":\"1969-12-31T23:59:59Z\"}]}",
     "samples[0].timestamp: before 1970"},
    {"{\"type\":\"samples\",\"samples\":[{\"metric\":\"m\",\"value\":1,\"timestamp\":\"2025-02-30T00:00:00Z\"}]}",
     "samples[0].timestamp: must be an RFC 3339 date-time like 2025-12-17T10:30:00Z"},
};

START_TEST (test_samples_bad)
{
	g_autoptr(Fixture) fx = fixture_new (NULL);
	handle_bad (fx, bad_samples[_i].json, bad_samples[_i].message);
}
END_TEST

START_TEST (test_samples_refused)
{
	g_autoptr(Fixture) fx = fixture_new (NULL);
	const char *const samples[] = {
	    "a{agent_id=x} 0 @1766000000000000",
	    "c{agent_id=x} 2 @1766000000000000",
	    "e{agent_id=x} 4 @1766000000000000",
	    NULL,
	};

	/* every valid sample is passed, the first refused one is named */
	handle_fail (fx,
		     "{\"type\":\"samples\",\"agent_id\":\"x\",\"samples\":[{\"metric\":\"a\",\"value\":0},"
		     "{\"metric\":\"bad-b\",\"value\":1},{\"metric\":\"c\",\"value\":2},{\"metric\":\"bad-d\",\"value\":3},"
		     "{\"metric\":\"e\",\"value\":4}]}",
		     "samples[1]: invalid metric or label name (expected [a-zA-Z_:][a-zA-Z0-9_:.-]*, not too long)");
	assert_samples (fx, samples);
	ck_assert_uint_eq (fx->n_refused, 2);

	/* the series limit */
	fixture_reset (fx);
	fx->max_accepted = 2;
	handle_fail (fx,
		     "{\"type\":\"samples\",\"samples\":[{\"metric\":\"a\",\"value\":0},{\"metric\":\"b\",\"value\":1},"
		     "{\"metric\":\"c\",\"value\":2},{\"metric\":\"d\",\"value\":3}]}",
		     "samples[2]: series limit reached");
	ck_assert_uint_eq (fx->samples->len, 2);
	ck_assert_uint_eq (fx->n_refused, 2);
}
END_TEST

START_TEST (test_results_refused)
{
	g_autoptr(Fixture) fx = fixture_new (NULL);
	g_autofree char *traceroute = traceroute_json ("t", path_a);

	register_agent (fx, "agent-123");
	fixture_reset (fx);
	fx->max_accepted = 2;
	/* the event goes out and the samples that fit are passed; the report says what was refused */
	handle_fail (fx,
		     "{\"type\":\"speedtest\",\"agent_id\":\"agent-123\",\"download_mbps\":1,\"upload_mbps\":2,"
		     "\"ping_ms\":3,\"jitter_ms\":4}",
		     "speedtest_ping_ms: series limit reached");
	ck_assert_uint_eq (fx->events->len, 1);
	ck_assert_uint_eq (fx->samples->len, 2);
	ck_assert_uint_eq (fx->n_refused, 2);

	fixture_reset (fx);
	fx->max_accepted = 0;
	handle_fail (fx,
		     SERVICE_HEAD "\"success\":false,\"error\":\"timeout\",\"response_ms\":10000}",
		     "service_up: series limit reached");
	ck_assert_uint_eq (fx->events->len, 1);
	ck_assert_uint_eq (fx->n_refused, 2);

	fixture_reset (fx);
	handle_fail (fx, traceroute, "traceroute_hop_count: series limit reached");
	ck_assert_uint_eq (fx->events->len, 1);
}
END_TEST

START_TEST (test_samples_series_store)
{
	g_autoptr(Fixture) fx = fixture_new (NULL);

	/* the real store as the sink: its own bounds and messages */
	fx->store = astra_series_store_new ();
	astra_series_store_set_limits (fx->store, 2, 3, 16, 8);
	handle_fail (fx,
		     "{\"type\":\"samples\",\"agent_id\":\"a\",\"samples\":[{\"metric\":\"ok\",\"value\":1},"
		     "{\"metric\":\"9lives\",\"value\":1},{\"metric\":\"ok\",\"labels\":{\"v\":\"123456789\"},\"value\":1},"
		     "{\"metric\":\"ok\",\"labels\":{\"x\":\"1\",\"y\":\"2\",\"z\":\"3\"},\"value\":1},"
		     "{\"metric\":\"ok\",\"value\":2},{\"metric\":\"ok2\",\"value\":1},{\"metric\":\"ok3\",\"value\":1}]}",
		     "samples[1]: invalid metric or label name (expected [a-zA-Z_:][a-zA-Z0-9_:.-]*, not too long)");
	ck_assert_uint_eq (fx->samples->len, 3);
	ck_assert_uint_eq (fx->n_refused, 4);
	ck_assert_uint_eq (astra_series_store_get_size (fx->store), 2);
	ck_assert_uint_eq (astra_series_store_get_rejected (fx->store, ASTRA_SERIES_REJECT_NAME), 1);
	ck_assert_uint_eq (astra_series_store_get_rejected (fx->store, ASTRA_SERIES_REJECT_VALUE), 1);
	ck_assert_uint_eq (astra_series_store_get_rejected (fx->store, ASTRA_SERIES_REJECT_TOO_MANY_LABELS), 1);
	ck_assert_uint_eq (astra_series_store_get_rejected (fx->store, ASTRA_SERIES_REJECT_CARDINALITY), 1);
}
END_TEST

START_TEST (test_no_sinks)
{
	g_autoptr(AstraClock) clock = astra_clock_new_fake (T0);
	g_autoptr(AstraAgentRegistry) agents = astra_agent_registry_new (clock, NULL, NULL, NULL);
	g_autoptr(AstraReports) reports = astra_reports_new (agents, NULL, NULL, NULL, NULL);
	g_autoptr(JsonObject) heartbeat = parse_report ("{\"type\":\"heartbeat\",\"agent_id\":\"a\",\"hostname\":\"h\"}");
	g_autoptr(JsonObject) speedtest = parse_report ("{\"type\":\"speedtest\",\"agent_id\":\"a\",\"download_mbps\":1,"
							"\"upload_mbps\":2,\"ping_ms\":3}");
	g_autoptr(JsonObject) samples = parse_report ("{\"type\":\"samples\",\"samples\":[{\"metric\":\"m\",\"value\":1}]}");
	g_autoptr(GError) error = NULL;

	ck_assert (astra_reports_handle (reports, heartbeat, T0, &error));
	ck_assert (astra_reports_handle (reports, speedtest, T0, &error));
	ck_assert (astra_reports_handle (reports, samples, T0, &error));
	astra_assert_no_error (error);
}
END_TEST

/* timestamps */

static const struct {
	const char *json;
	gboolean allow_number;
	gint64 expected; /* -1: refused */
	const char *message;
} timestamp_cases[] = {
    {"\"1970-01-01T00:00:00Z\"", FALSE, 0, NULL},
    {"\"2025-12-17T19:33:20Z\"", FALSE, T0, NULL},
    {"\"2025-12-17T19:33:20.000001Z\"", FALSE, T0 + 1, NULL},
    {"\"2025-12-17T21:33:20+02:00\"", FALSE, T0, NULL},
    {"\"2025-12-17T17:03:20-02:30\"", FALSE, T0, NULL},
    {"\"2025-12-17t19:33:20z\"", FALSE, T0, NULL},
    {"\"9999-12-31T23:59:59Z\"", FALSE, G_GINT64_CONSTANT (253402300799) * SEC, NULL},
    {"1766000000", TRUE, T0, NULL},
    {"1766000000.5", TRUE, T0 + SEC / 2, NULL},
    {"253402300799", TRUE, G_GINT64_CONSTANT (253402300799) * SEC, NULL},
    {"1766000000", FALSE, -1, "expected an RFC 3339 string, got number"},
    {"null", TRUE, -1, "expected an RFC 3339 string or unix seconds, got null"},
    {"253402300800", TRUE, -1, "after 9999-12-31T23:59:59Z (unix seconds are expected)"},
    {"-1", TRUE, -1, "before 1970"},
    {"\"2025-12-17T19:33:20\"", FALSE, -1, "not an RFC 3339 date-time with a zone, e.g. 2025-12-17T10:30:00Z"},
    {"\"2025-12-17 19:33:20Z\"", FALSE, -1, "not an RFC 3339 date-time with a zone, e.g. 2025-12-17T10:30:00Z"},
    {"\"2025-12-17T19:33Z\"", FALSE, -1, "not an RFC 3339 date-time with a zone, e.g. 2025-12-17T10:30:00Z"},
    {"\"2025-W51-3T19:33:20Z\"", FALSE, -1, "not an RFC 3339 date-time with a zone, e.g. 2025-12-17T10:30:00Z"},
    {"\"1969-12-31T23:59:59Z\"", FALSE, -1, "before 1970"},
    {"\"0000-01-01T00:00:00+00:01\"", FALSE, -1, "before 1970"},
    {"\"9999-12-31T23:59:59-01:00\"", FALSE, -1, "after 9999-12-31T23:59:59Z"},
    /* a leap second is the second before it, as GDateTime has it */
    {"\"2016-12-31T23:59:60Z\"", FALSE, G_GINT64_CONSTANT (1483228799) * SEC, NULL},
    {"\"2016-12-31T23:59:60.5Z\"", FALSE, G_GINT64_CONSTANT (1483228799) * SEC + SEC / 2, NULL},
    {"\"2016-12-31T23:59:59.999999999Z\"", FALSE, G_GINT64_CONSTANT (1483228799999999), NULL},
};

START_TEST (test_parse_timestamp)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;
	const char *json = timestamp_cases[_i].json;
	gint64 value = -1;
	gboolean ok;

	node = astra_json_parse (json, strlen (json), &error);
	astra_assert_no_error (error);
	ok = astra_reports_parse_timestamp (node, timestamp_cases[_i].allow_number, &value, &error);
	if (timestamp_cases[_i].expected >= 0) {
		ck_assert_msg (ok, "%s: %s", json, error != NULL ? error->message : "?");
		ck_assert_int_eq (value, timestamp_cases[_i].expected);
	} else {
		ck_assert_msg (!ok, "%s: accepted as %" G_GINT64_FORMAT, json, value);
		ck_assert_str_eq (error->message, timestamp_cases[_i].message);
	}
}
END_TEST

static Suite *
reports_suite (void)
{
	Suite *s = suite_create ("reports");
	TCase *tc;

	tc = tcase_create ("type");
	tcase_add_test (tc, test_types);
	tcase_add_test (tc, test_type_bad);
	tcase_add_test (tc, test_no_sinks);
	tcase_add_loop_test (tc, test_parse_timestamp, 0, G_N_ELEMENTS (timestamp_cases));
	suite_add_tcase (s, tc);

	tc = tcase_create ("heartbeat");
	tcase_add_test (tc, test_heartbeat);
	tcase_add_loop_test (tc, test_heartbeat_bad, 0, G_N_ELEMENTS (bad_heartbeats));
	tcase_add_test (tc, test_heartbeat_long);
	suite_add_tcase (s, tc);

	tc = tcase_create ("speedtest");
	tcase_add_test (tc, test_speedtest);
	tcase_add_test (tc, test_speedtest_minimal);
	tcase_add_test (tc, test_speedtest_report_wins);
	tcase_add_loop_test (tc, test_speedtest_bad, 0, G_N_ELEMENTS (bad_speedtests));
	suite_add_tcase (s, tc);

	tc = astra_check_tmpdir_tcase_new ("traceroute");
	tcase_add_test (tc, test_traceroute);
	tcase_add_test (tc, test_path_changed);
	tcase_add_test (tc, test_path_changed_other_agent);
	tcase_add_test (tc, test_path_changed_restart);
	tcase_add_loop_test (tc, test_traceroute_bad, 0, G_N_ELEMENTS (bad_traceroutes));
	tcase_add_test (tc, test_traceroute_too_many_hops);
	suite_add_tcase (s, tc);

	tc = tcase_create ("service_test");
	tcase_add_test (tc, test_service_test_success);
	tcase_add_test (tc, test_service_test_failure);
	tcase_add_loop_test (tc, test_service_test_bad, 0, G_N_ELEMENTS (bad_service_tests));
	suite_add_tcase (s, tc);

	tc = tcase_create ("samples");
	tcase_add_test (tc, test_samples_labels);
	tcase_add_test (tc, test_samples_timestamps);
	tcase_add_loop_test (tc, test_samples_bad, 0, G_N_ELEMENTS (bad_samples));
	tcase_add_test (tc, test_samples_refused);
	tcase_add_test (tc, test_results_refused);
	tcase_add_test (tc, test_samples_series_store);
	suite_add_tcase (s, tc);

	return s;
}

int
main (void)
{
	return astra_check_run_suite (reports_suite ());
}
