/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The agent registry: registration, offline after 3 x the interval (or the
 * default), online again, out-of-order heartbeats, 100,000 agents in the
 * clock's one heap, persistence across a restart. All on a fake clock; every
 * event is compared byte for byte and read back through the SDK, which
 * validates it against its schema again.
 */

#include "config.h"

#include <check.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "astra-agent-registry.h"
#include "astra-check-common.h"

/* 2025-12-17T19:33:20Z */
#define T0    (G_GINT64_CONSTANT (1766000000) * G_USEC_PER_SEC)
#define T0_S  "2025-12-17T19:33:20Z"
#define SEC   G_GINT64_CONSTANT (1000000)
#define N_BIG 100000

typedef struct {
	AstraClock *clock;
	AstraStateDb *db; /* (nullable) */
	AstraAgentRegistry *registry;
	GPtrArray *events; /* (element-type AstraEvent) */
	guint n_events;
	gboolean count_only; /* for the big tests */
} Fixture;

static void
fixture_sink_cb (AstraEvent *event, gpointer user_data)
{
	Fixture *fx = user_data;

	fx->n_events++;
	if (!fx->count_only)
		g_ptr_array_add (fx->events, g_object_ref (event));
}

static void
fixture_open_registry (Fixture *fx)
{
	fx->registry = astra_agent_registry_new (fx->clock, fx->db, fixture_sink_cb, fx);
}

static AstraStateDb *
open_db (const char *path)
{
	g_autoptr(GError) error = NULL;
	AstraStateDb *db = astra_state_db_open (path, &error);

	astra_assert_no_error (error);
	ck_assert_ptr_nonnull (db);
	return db;
}

/* db_path NULL: nothing persisted */
static Fixture *
fixture_new (const char *db_path)
{
	Fixture *fx = g_new0 (Fixture, 1);

	fx->clock = astra_clock_new_fake (T0);
	if (db_path != NULL)
		fx->db = open_db (db_path);
	fx->events = g_ptr_array_new_with_free_func (g_object_unref);
	fixture_open_registry (fx);
	return fx;
}

static void
fixture_free (Fixture *fx)
{
	g_clear_object (&fx->registry);
	g_clear_object (&fx->db);
	g_clear_object (&fx->clock);
	g_ptr_array_unref (fx->events);
	g_free (fx);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Fixture, fixture_free)

/* writes and commits what the registry holds, as at the end of an iteration */
static void
fixture_flush (Fixture *fx)
{
	g_autoptr(GError) error = NULL;

	ck_assert (astra_agent_registry_flush (fx->registry, &error));
	astra_assert_no_error (error);
	ck_assert (astra_state_db_flush (fx->db, &error));
	astra_assert_no_error (error);
}

static void
heartbeat_full (Fixture *fx, const AstraHeartbeat *hb)
{
	g_autoptr(GError) error = NULL;

	ck_assert_msg (astra_agent_registry_heartbeat (fx->registry, hb, &error),
		       "heartbeat of %s refused: %s",
		       hb->agent_id,
		       error != NULL ? error->message : "?");
}

static void
heartbeat (Fixture *fx, const char *agent_id, const char *hostname, gint64 interval_s)
{
	AstraHeartbeat hb = {
	    .agent_id = agent_id,
	    .hostname = hostname,
	    .tenant_id = "tenant-a",
	    .interval_us = interval_s * SEC,
	};
	heartbeat_full (fx, &hb);
}

/* the event's body is exactly @expected, and the SDK reads it back (validating it again) */
static void
assert_event (AstraEvent *event, const char *expected)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(AstraEvent) copy = NULL;
	GBytes *body = astra_event_get_body (event);
	g_autofree char *text = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));

	ck_assert_str_eq (text, expected);
	copy = astra_event_new_from_body (astra_event_get_id (event), body, &error);
	astra_assert_no_error (error);
	ck_assert_ptr_nonnull (copy);
}

static char *
format_time (gint64 us)
{
	g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (us / SEC);
	return g_date_time_format (dt, "%Y-%m-%dT%H:%M:%SZ");
}

/* the body of agent.status_changed for an agent of heartbeat() */
static char *
status_body (const char *agent_id,
	     const char *hostname,
	     const char *previous,
	     const char *current,
	     gint64 last_seen_us,
	     gint64 event_us)
{
	g_autofree char *last_seen = format_time (last_seen_us);
	g_autofree char *timestamp = format_time (event_us);

	return g_strdup_printf ("{\"event\":\"agent.status_changed\",\"timestamp\":\"%s\",\"data\":{"
				"\"agent_id\":\"%s\",\"hostname\":\"%s\",\"previous_status\":\"%s\","
				"\"current_status\":\"%s\",\"tenant_id\":\"tenant-a\",\"last_seen\":\"%s\"}}",
				timestamp,
				agent_id,
				hostname,
				previous,
				current,
				last_seen);
}

static void
assert_status_event (Fixture *fx,
		     guint index,
		     const char *agent_id,
		     const char *previous,
		     const char *current,
		     gint64 last_seen_us,
		     gint64 event_us)
{
	g_autofree char *expected = NULL;

	ck_assert_uint_gt (fx->events->len, index);
	expected = status_body (agent_id, "host-1", previous, current, last_seen_us, event_us);
	assert_event (g_ptr_array_index (fx->events, index), expected);
}

/* registration */

START_TEST (test_register)
{
	g_autoptr(Fixture) fx = fixture_new (NULL);
	AstraHeartbeat hb = {
	    .agent_id = "agent-123",
	    .hostname = "server-01",
	    .tenant_id = "tenant-abc",
	    .version = "2.4.1",
	    .address = "192.0.2.10:5000",
	    .interval_us = 30 * SEC,
	};
	const AstraAgentInfo *info;

	heartbeat_full (fx, &hb);
	ck_assert_uint_eq (fx->events->len, 1);
	assert_event (g_ptr_array_index (fx->events, 0),
		      "{\"event\":\"agent.registered\",\"timestamp\":\"" T0_S "\",\"data\":{"
		      "\"agent_id\":\"agent-123\",\"hostname\":\"server-01\",\"tenant_id\":\"tenant-abc\","
		      "\"version\":\"2.4.1\",\"address\":\"192.0.2.10:5000\"}}");
	ck_assert_int_eq (astra_event_get_severity (g_ptr_array_index (fx->events, 0)), ASTRA_SEVERITY_INFO);

	info = astra_agent_registry_lookup (fx->registry, "agent-123");
	ck_assert_ptr_nonnull (info);
	ck_assert_str_eq (info->agent_id, "agent-123");
	ck_assert_str_eq (info->hostname, "server-01");
	ck_assert_str_eq (info->tenant_id, "tenant-abc");
	ck_assert_str_eq (info->version, "2.4.1");
	ck_assert_str_eq (info->address, "192.0.2.10:5000");
	ck_assert_int_eq (info->interval_us, 30 * SEC);
	ck_assert_int_eq (info->first_seen_us, T0);
	ck_assert_int_eq (info->last_seen_us, T0);
	ck_assert (info->online);
	ck_assert (!astra_agent_registry_is_offline (fx->registry, "agent-123"));
	ck_assert (!astra_agent_registry_is_offline (fx->registry, "nobody"));
	ck_assert_ptr_null (astra_agent_registry_lookup (fx->registry, "nobody"));
	ck_assert_ptr_null (astra_agent_registry_lookup (fx->registry, NULL));
	ck_assert_uint_eq (astra_agent_registry_get_size (fx->registry), 1);
	ck_assert_uint_eq (astra_clock_get_n_scheduled (fx->clock), 1);
	ck_assert_int_eq (astra_agent_registry_get_offline_after (fx->registry, info), 90 * SEC);

	/* the next heartbeats register nothing */
	astra_clock_advance (fx->clock, 10 * SEC);
	heartbeat_full (fx, &hb);
	ck_assert_uint_eq (fx->events->len, 1);
	ck_assert_int_eq (info->first_seen_us, T0);
	ck_assert_int_eq (info->last_seen_us, T0 + 10 * SEC);
	ck_assert_uint_eq (astra_clock_get_n_scheduled (fx->clock), 1);
}
END_TEST

START_TEST (test_register_minimal)
{
	g_autoptr(Fixture) fx = fixture_new (NULL);
	AstraHeartbeat hb = {.agent_id = "a", .hostname = "h"};
	const AstraAgentInfo *info;

	heartbeat_full (fx, &hb);
	/* no tenant: "default"; no version or address: not in the event */
	assert_event (g_ptr_array_index (fx->events, 0),
		      "{\"event\":\"agent.registered\",\"timestamp\":\"" T0_S "\",\"data\":{"
		      "\"agent_id\":\"a\",\"hostname\":\"h\",\"tenant_id\":\"default\"}}");
	info = astra_agent_registry_lookup (fx->registry, "a");
	ck_assert_str_eq (info->tenant_id, "default");
	ck_assert_ptr_null (info->version);
	ck_assert_ptr_null (info->address);
	ck_assert_int_eq (info->interval_us, 0);
	ck_assert_int_eq (astra_agent_registry_get_offline_after (fx->registry, info),
			  ASTRA_AGENT_DEFAULT_OFFLINE_AFTER_US);
}
END_TEST

START_TEST (test_update_known)
{
	g_autoptr(Fixture) fx = fixture_new (NULL);
	AstraHeartbeat first = {.agent_id = "a", .hostname = "h", .tenant_id = "t", .version = "1", .interval_us = 10 * SEC};
	AstraHeartbeat bare = {.agent_id = "a"};
	AstraHeartbeat moved = {.agent_id = "a", .hostname = "h2", .tenant_id = "t2", .version = "2", .address = "x"};
	const AstraAgentInfo *info;

	heartbeat_full (fx, &first);
	/* a known agent needs no hostname: what is left out is kept */
	heartbeat_full (fx, &bare);
	info = astra_agent_registry_lookup (fx->registry, "a");
	ck_assert_str_eq (info->hostname, "h");
	ck_assert_str_eq (info->tenant_id, "t");
	ck_assert_str_eq (info->version, "1");
	ck_assert_int_eq (info->interval_us, 10 * SEC);
	heartbeat_full (fx, &moved);
	ck_assert_str_eq (info->hostname, "h2");
	ck_assert_str_eq (info->tenant_id, "t2");
	ck_assert_str_eq (info->version, "2");
	ck_assert_str_eq (info->address, "x");
	ck_assert_int_eq (info->interval_us, 10 * SEC);
	/* only the registration was an event */
	ck_assert_uint_eq (fx->events->len, 1);
}
END_TEST

static const struct {
	AstraHeartbeat hb;
	const char *message;
} bad_heartbeats[] = {
    {{.agent_id = NULL, .hostname = "h"}, "agent_id: missing required field"},
    {{.agent_id = "", .hostname = "h"}, "agent_id: must not be empty"},
    {{.agent_id = "new"}, "hostname: required for an agent not seen before"},
    {{.agent_id = "new", .hostname = ""}, "hostname: must not be empty"},
    {{.agent_id = "new", .hostname = "h", .tenant_id = ""}, "tenant_id: must not be empty"},
    {{.agent_id = "new", .hostname = "h\xff"}, "hostname: not valid UTF-8"},
    {{.agent_id = "new", .hostname = "h", .interval_us = -1}, "interval_s: must be from 0 to 86400 seconds"},
    {{.agent_id = "new", .hostname = "h", .interval_us = 86401 * SEC}, "interval_s: must be from 0 to 86400 seconds"},
    {{.agent_id = "new", .hostname = "h", .timestamp_us = -1}, "timestamp: before 1970"},
};

START_TEST (test_bad_heartbeat)
{
	g_autoptr(Fixture) fx = fixture_new (NULL);
	g_autoptr(GError) error = NULL;

	ck_assert (!astra_agent_registry_heartbeat (fx->registry, &bad_heartbeats[_i].hb, &error));
	ck_assert (g_error_matches (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA));
	ck_assert_str_eq (error->message, bad_heartbeats[_i].message);
	ck_assert_uint_eq (astra_agent_registry_get_size (fx->registry), 0);
	ck_assert_uint_eq (fx->events->len, 0);
	ck_assert_uint_eq (astra_clock_get_n_scheduled (fx->clock), 0);
}
END_TEST

START_TEST (test_long_strings)
{
	g_autoptr(Fixture) fx = fixture_new (NULL);
	g_autoptr(GError) error = NULL;
	g_autofree char *max = g_strnfill (256, 'x');
	g_autofree char *over = g_strnfill (257, 'x');
	/* 256 characters of two bytes each: the bound is in characters, as in the schemas */
	g_autoptr(GString) wide = g_string_new (NULL);
	AstraHeartbeat hb = {.agent_id = max, .hostname = max, .tenant_id = max, .version = max, .address = max};

	for (guint i = 0; i < 256; i++)
		g_string_append (wide, "\xc3\xa9");
	heartbeat_full (fx, &hb);
	hb.agent_id = wide->str;
	hb.hostname = wide->str;
	heartbeat_full (fx, &hb);
	ck_assert_uint_eq (fx->events->len, 2);

	hb.version = over;
	ck_assert (!astra_agent_registry_heartbeat (fx->registry, &hb, &error));
	ck_assert_str_eq (error->message, "version: must be at most 256 characters long, got 257");
}
END_TEST

/* offline and online */

START_TEST (test_offline_after_interval)
{
	g_autoptr(Fixture) fx = fixture_new (NULL);

	heartbeat (fx, "a", "host-1", 30);
	astra_clock_advance (fx->clock, 90 * SEC - 1);
	ck_assert_uint_eq (fx->events->len, 1);
	ck_assert (!astra_agent_registry_is_offline (fx->registry, "a"));

	astra_clock_advance (fx->clock, 1);
	ck_assert_uint_eq (fx->events->len, 2);
	assert_status_event (fx, 1, "a", "online", "offline", T0, T0 + 90 * SEC);
	ck_assert_int_eq (astra_event_get_severity (g_ptr_array_index (fx->events, 1)), ASTRA_SEVERITY_CRITICAL);
	ck_assert (astra_agent_registry_is_offline (fx->registry, "a"));
	ck_assert_uint_eq (astra_clock_get_n_scheduled (fx->clock), 0);

	/* silence goes on: nothing more */
	astra_clock_advance (fx->clock, 3600 * SEC);
	ck_assert_uint_eq (fx->events->len, 2);
}
END_TEST

START_TEST (test_heartbeat_moves_deadline)
{
	g_autoptr(Fixture) fx = fixture_new (NULL);

	heartbeat (fx, "a", "host-1", 30);
	astra_clock_advance (fx->clock, 60 * SEC);
	heartbeat (fx, "a", NULL, 0);
	/* the deadline is now T0 + 150 s; the interval is remembered */
	astra_clock_advance_to (fx->clock, T0 + 150 * SEC - 1);
	ck_assert_uint_eq (fx->events->len, 1);
	astra_clock_advance (fx->clock, 1);
	ck_assert_uint_eq (fx->events->len, 2);
	assert_status_event (fx, 1, "a", "online", "offline", T0 + 60 * SEC, T0 + 150 * SEC);

	/* a shorter interval takes effect with the heartbeat that reports it */
	heartbeat (fx, "a", NULL, 5);
	astra_clock_advance (fx->clock, 15 * SEC);
	ck_assert_uint_eq (fx->events->len, 4);
	assert_status_event (fx, 3, "a", "online", "offline", T0 + 150 * SEC, T0 + 165 * SEC);
}
END_TEST

START_TEST (test_default_offline_after)
{
	g_autoptr(Fixture) fx = fixture_new (NULL);

	/* no interval: 5 minutes */
	heartbeat (fx, "a", "host-1", 0);
	astra_clock_advance (fx->clock, 300 * SEC - 1);
	ck_assert_uint_eq (fx->events->len, 1);
	astra_clock_advance (fx->clock, 1);
	ck_assert_uint_eq (fx->events->len, 2);
	assert_status_event (fx, 1, "a", "online", "offline", T0, T0 + 300 * SEC);
}
END_TEST

START_TEST (test_configured_offline_after)
{
	g_autoptr(Fixture) fx = fixture_new (NULL);
	const AstraAgentInfo *info;

	astra_agent_registry_set_default_offline_after (fx->registry, 60 * SEC);
	heartbeat (fx, "a", "host-1", 0);
	heartbeat (fx, "b", "host-1", 100);
	info = astra_agent_registry_lookup (fx->registry, "a");
	ck_assert_int_eq (astra_agent_registry_get_offline_after (fx->registry, info), 60 * SEC);

	/* changing it moves the deadlines of online agents without an interval only */
	astra_agent_registry_set_default_offline_after (fx->registry, 120 * SEC);
	astra_clock_advance (fx->clock, 119 * SEC);
	ck_assert_uint_eq (fx->events->len, 2);
	astra_clock_advance (fx->clock, 1 * SEC);
	ck_assert_uint_eq (fx->events->len, 3);
	assert_status_event (fx, 2, "a", "online", "offline", T0, T0 + 120 * SEC);
	astra_clock_advance_to (fx->clock, T0 + 300 * SEC);
	ck_assert_uint_eq (fx->events->len, 4);
	assert_status_event (fx, 3, "b", "online", "offline", T0, T0 + 300 * SEC);
}
END_TEST

START_TEST (test_online_again)
{
	g_autoptr(Fixture) fx = fixture_new (NULL);

	heartbeat (fx, "a", "host-1", 10);
	astra_clock_advance (fx->clock, 45 * SEC);
	ck_assert (astra_agent_registry_is_offline (fx->registry, "a"));

	heartbeat (fx, "a", NULL, 0);
	ck_assert_uint_eq (fx->events->len, 3);
	assert_status_event (fx, 2, "a", "offline", "online", T0 + 45 * SEC, T0 + 45 * SEC);
	ck_assert (!astra_agent_registry_is_offline (fx->registry, "a"));
	ck_assert_uint_eq (astra_clock_get_n_scheduled (fx->clock), 1);

	/* a second heartbeat is not a second change */
	astra_clock_advance (fx->clock, 5 * SEC);
	heartbeat (fx, "a", NULL, 0);
	ck_assert_uint_eq (fx->events->len, 3);

	/* and it goes offline again 30 s after the last one */
	astra_clock_advance (fx->clock, 30 * SEC);
	ck_assert_uint_eq (fx->events->len, 4);
	assert_status_event (fx, 3, "a", "online", "offline", T0 + 50 * SEC, T0 + 80 * SEC);
}
END_TEST

START_TEST (test_out_of_order)
{
	g_autoptr(Fixture) fx = fixture_new (NULL);
	AstraHeartbeat hb = {.agent_id = "a", .hostname = "host-1", .tenant_id = "tenant-a", .interval_us = 10 * SEC};
	const AstraAgentInfo *info;

	hb.timestamp_us = T0 - 2 * SEC;
	heartbeat_full (fx, &hb);
	info = astra_agent_registry_lookup (fx->registry, "a");
	ck_assert_int_eq (info->last_timestamp_us, T0 - 2 * SEC);

	/* an older heartbeat arriving late proves nothing: no new deadline, no change */
	astra_clock_advance (fx->clock, 20 * SEC);
	hb.timestamp_us = T0 - 3 * SEC;
	hb.hostname = "renamed";
	heartbeat_full (fx, &hb);
	ck_assert_str_eq (info->hostname, "host-1");
	ck_assert_int_eq (info->last_seen_us, T0);
	astra_clock_advance (fx->clock, 10 * SEC);
	ck_assert_uint_eq (fx->events->len, 2);
	assert_status_event (fx, 1, "a", "online", "offline", T0, T0 + 30 * SEC);

	/* nor does it bring an offline agent back */
	astra_clock_advance (fx->clock, 10 * SEC);
	heartbeat_full (fx, &hb);
	ck_assert (astra_agent_registry_is_offline (fx->registry, "a"));
	ck_assert_uint_eq (fx->events->len, 2);

	/* the same timestamp again is not older: taken */
	hb.timestamp_us = T0 - 2 * SEC;
	hb.hostname = NULL;
	heartbeat_full (fx, &hb);
	ck_assert (!astra_agent_registry_is_offline (fx->registry, "a"));
	ck_assert_uint_eq (fx->events->len, 3);
	/* last_seen is the arrival on the daemon's clock, whatever the agent's says */
	assert_status_event (fx, 2, "a", "offline", "online", T0 + 40 * SEC, T0 + 40 * SEC);
}
END_TEST

START_TEST (test_clock_skew)
{
	g_autoptr(Fixture) fx = fixture_new (NULL);
	AstraHeartbeat hb = {.agent_id = "a", .hostname = "host-1", .tenant_id = "tenant-a", .interval_us = 10 * SEC};
	const AstraAgentInfo *info;

	/* an agent 10 minutes behind stays online as long as its heartbeats arrive */
	for (guint i = 0; i < 10; i++) {
		hb.timestamp_us = astra_clock_now (fx->clock) - 600 * SEC;
		heartbeat_full (fx, &hb);
		astra_clock_advance (fx->clock, 10 * SEC);
	}
	ck_assert_uint_eq (fx->events->len, 1);

	/* one an hour ahead counts as now, so its later heartbeats are still in order */
	hb.timestamp_us = astra_clock_now (fx->clock) + 3600 * SEC;
	heartbeat_full (fx, &hb);
	info = astra_agent_registry_lookup (fx->registry, "a");
	ck_assert_int_eq (info->last_timestamp_us, astra_clock_now (fx->clock));
	astra_clock_advance (fx->clock, 10 * SEC);
	hb.timestamp_us = astra_clock_now (fx->clock) - 1;
	heartbeat_full (fx, &hb);
	ck_assert_int_eq (info->last_seen_us, astra_clock_now (fx->clock));
	ck_assert_uint_eq (fx->events->len, 1);
}
END_TEST

START_TEST (test_list)
{
	g_autoptr(Fixture) fx = fixture_new (NULL);
	g_autoptr(GPtrArray) list = NULL;
	const char *ids[] = {"m", "b", "z", "a"};

	for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
		heartbeat (fx, ids[i], "host-1", 0);
	list = astra_agent_registry_list (fx->registry);
	ck_assert_uint_eq (list->len, 4);
	ck_assert_str_eq (((AstraAgentInfo *) g_ptr_array_index (list, 0))->agent_id, "a");
	ck_assert_str_eq (((AstraAgentInfo *) g_ptr_array_index (list, 1))->agent_id, "b");
	ck_assert_str_eq (((AstraAgentInfo *) g_ptr_array_index (list, 2))->agent_id, "m");
	ck_assert_str_eq (((AstraAgentInfo *) g_ptr_array_index (list, 3))->agent_id, "z");
	ck_assert_ptr_eq (g_ptr_array_index (list, 0), astra_agent_registry_lookup (fx->registry, "a"));
}
END_TEST

/* many agents: one heap entry each, no GSource */

static char *
big_id (guint i)
{
	return g_strdup_printf ("agent-%06u", i);
}

/* heartbeats from every step-th agent of ids; no check assertion inside the
 * loop: each one writes to check's pipe, slower than the heartbeat */
static guint
beat_all (AstraAgentRegistry *registry, GPtrArray *ids, guint step, const char *hostname)
{
	guint failed = 0;

	for (guint i = 0; i < ids->len; i += step) {
		AstraHeartbeat hb = {
		    .agent_id = g_ptr_array_index (ids, i),
		    .hostname = hostname,
		    .tenant_id = "tenant-a",
		    .interval_us = 60 * SEC,
		};
		if (!astra_agent_registry_heartbeat (registry, &hb, NULL))
			failed++;
	}
	return failed;
}

START_TEST (test_many_agents)
{
	g_autoptr(Fixture) fx = fixture_new (NULL);
	g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);

	fx->count_only = TRUE;
	for (guint i = 0; i < N_BIG; i++)
		g_ptr_array_add (ids, big_id (i));
	ck_assert_uint_eq (beat_all (fx->registry, ids, 1, "host-1"), 0);
	ck_assert_uint_eq (fx->n_events, N_BIG);
	ck_assert_uint_eq (astra_agent_registry_get_size (fx->registry), N_BIG);
	ck_assert_uint_eq (astra_clock_get_n_scheduled (fx->clock), N_BIG);
	ck_assert (!g_main_context_pending (NULL));

	/* half of them keep sending */
	astra_clock_advance (fx->clock, 100 * SEC);
	ck_assert_uint_eq (beat_all (fx->registry, ids, 2, NULL), 0);
	ck_assert_uint_eq (fx->n_events, N_BIG);
	ck_assert_uint_eq (astra_clock_get_n_scheduled (fx->clock), N_BIG);

	astra_clock_advance_to (fx->clock, T0 + 180 * SEC);
	ck_assert_uint_eq (fx->n_events, N_BIG + N_BIG / 2);
	ck_assert_uint_eq (astra_clock_get_n_scheduled (fx->clock), N_BIG / 2);
	ck_assert (astra_agent_registry_is_offline (fx->registry, "agent-000001"));
	ck_assert (!astra_agent_registry_is_offline (fx->registry, "agent-000002"));

	astra_clock_advance_to (fx->clock, T0 + 280 * SEC);
	ck_assert_uint_eq (fx->n_events, 2 * N_BIG);
	ck_assert_uint_eq (astra_clock_get_n_scheduled (fx->clock), 0);
	ck_assert (astra_agent_registry_is_offline (fx->registry, "agent-000002"));
}
END_TEST

/* persistence */

static gint64
db_query_int (AstraStateDb *db, const char *sql)
{
	g_autoptr(GError) error = NULL;
	sqlite3_stmt *stmt = astra_state_db_prepare (db, sql, &error);
	gint64 value;

	astra_assert_no_error (error);
	ck_assert_int_eq (sqlite3_step (stmt), SQLITE_ROW);
	value = sqlite3_column_int64 (stmt, 0);
	sqlite3_reset (stmt);
	return value;
}

START_TEST (test_restart)
{
	g_autofree char *path = astra_check_tmp_path ("state.db");
	g_autoptr(Fixture) fx = fixture_new (path);
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) list = NULL;
	AstraHeartbeat full = {
	    .agent_id = "b",
	    .hostname = "host-1",
	    .tenant_id = "tenant-a",
	    .version = "9.9",
	    .address = "198.51.100.7",
	    .interval_us = 100 * SEC,
	};
	const AstraAgentInfo *info;

	ck_assert (astra_agent_registry_restore (fx->registry, &error));
	astra_assert_no_error (error);
	heartbeat (fx, "a", "host-1", 10);  /* offline at T0 + 30 s, while running */
	heartbeat_full (fx, &full);          /* deadline T0 + 300 s, after the restart */
	heartbeat (fx, "c", "host-1", 60);  /* deadline T0 + 180 s, while down */
	heartbeat (fx, "d", "host-1", 30);  /* deadline T0 + 90 s, while down: reported first */
	astra_clock_advance (fx->clock, 20 * SEC);
	heartbeat (fx, "d", NULL, 0);
	astra_clock_advance (fx->clock, 10 * SEC);
	ck_assert (astra_agent_registry_is_offline (fx->registry, "a"));
	ck_assert_uint_eq (fx->events->len, 5);
	fixture_flush (fx);

	/* down from T0 + 30 s to T0 + 250 s */
	g_clear_object (&fx->registry);
	g_clear_object (&fx->db);
	g_ptr_array_set_size (fx->events, 0);
	astra_clock_advance_to (fx->clock, T0 + 250 * SEC);
	fx->db = open_db (path);
	fixture_open_registry (fx);
	ck_assert (astra_agent_registry_restore (fx->registry, &error));
	astra_assert_no_error (error);

	/* nobody registered again; the two that went silent meanwhile are offline now, in deadline order */
	ck_assert_uint_eq (astra_agent_registry_get_size (fx->registry), 4);
	ck_assert_uint_eq (fx->events->len, 2);
	assert_status_event (fx, 0, "d", "online", "offline", T0 + 20 * SEC, T0 + 250 * SEC);
	assert_status_event (fx, 1, "c", "online", "offline", T0, T0 + 250 * SEC);
	ck_assert (astra_agent_registry_is_offline (fx->registry, "a"));
	ck_assert (!astra_agent_registry_is_offline (fx->registry, "b"));
	ck_assert (astra_agent_registry_is_offline (fx->registry, "c"));
	ck_assert_uint_eq (astra_clock_get_n_scheduled (fx->clock), 1);

	/* everything known survived */
	info = astra_agent_registry_lookup (fx->registry, "b");
	ck_assert_str_eq (info->hostname, "host-1");
	ck_assert_str_eq (info->tenant_id, "tenant-a");
	ck_assert_str_eq (info->version, "9.9");
	ck_assert_str_eq (info->address, "198.51.100.7");
	ck_assert_int_eq (info->interval_us, 100 * SEC);
	ck_assert_int_eq (info->first_seen_us, T0);
	ck_assert_int_eq (info->last_seen_us, T0);
	ck_assert_ptr_null (astra_agent_registry_lookup (fx->registry, "a")->version);
	list = astra_agent_registry_list (fx->registry);
	ck_assert_uint_eq (list->len, 4);

	/* b keeps its deadline */
	astra_clock_advance_to (fx->clock, T0 + 300 * SEC);
	ck_assert_uint_eq (fx->events->len, 3);
	assert_status_event (fx, 2, "b", "online", "offline", T0, T0 + 300 * SEC);

	/* a comes back: online, not registered */
	heartbeat (fx, "a", NULL, 0);
	ck_assert_uint_eq (fx->events->len, 4);
	assert_status_event (fx, 3, "a", "offline", "online", T0 + 300 * SEC, T0 + 300 * SEC);

	/* and a third start remembers that too, with no event at all */
	fixture_flush (fx);
	g_clear_object (&fx->registry);
	g_ptr_array_set_size (fx->events, 0);
	fixture_open_registry (fx);
	ck_assert (astra_agent_registry_restore (fx->registry, &error));
	ck_assert_uint_eq (fx->events->len, 0);
	ck_assert (!astra_agent_registry_is_offline (fx->registry, "a"));
	ck_assert (astra_agent_registry_is_offline (fx->registry, "b"));
	ck_assert_uint_eq (astra_clock_get_n_scheduled (fx->clock), 1);
}
END_TEST

START_TEST (test_writes_coalesced)
{
	g_autofree char *path = astra_check_tmp_path ("state.db");
	g_autoptr(Fixture) fx = fixture_new (path);
	g_autoptr(GError) error = NULL;
	g_autoptr(AstraStateDb) reader = NULL;

	ck_assert (astra_agent_registry_restore (fx->registry, &error));
	for (guint i = 0; i < 5; i++) {
		astra_clock_advance (fx->clock, SEC);
		heartbeat (fx, "a", "host-1", 10);
		heartbeat (fx, "b", "host-1", 10);
	}
	/* nothing written yet: the heartbeats of one iteration make one write per agent */
	ck_assert_int_eq (db_query_int (fx->db, "SELECT count(*) FROM agents"), 0);

	/* the main loop writes and commits by itself, within the commit delay */
	astra_check_iterate_for (100);
	reader = open_db (path);
	ck_assert_int_eq (db_query_int (reader, "SELECT count(*) FROM agents"), 2);
	ck_assert_int_eq (db_query_int (reader, "SELECT last_seen_us FROM agents WHERE id = 'a'"), T0 + 5 * SEC);
	ck_assert_int_eq (db_query_int (reader, "SELECT first_seen_us FROM agents WHERE id = 'b'"), T0 + SEC);

	/* a timer makes a write too */
	astra_clock_advance (fx->clock, 30 * SEC);
	astra_check_iterate_for (100);
	ck_assert_int_eq (db_query_int (reader, "SELECT count(*) FROM agents WHERE online = 0"), 2);
	ck_assert_int_eq (db_query_int (reader, "SELECT version FROM schema WHERE module = 'agents'"), 1);
}
END_TEST

START_TEST (test_restore_once)
{
	g_autoptr(Fixture) plain = fixture_new (NULL);
	g_autoptr(Fixture) fx = NULL;
	g_autoptr(Fixture) fx2 = NULL;
	g_autoptr(GError) error = NULL;

	/* without a database there is nothing to restore, and nothing to write */
	ck_assert (astra_agent_registry_restore (plain->registry, &error));
	heartbeat (plain, "a", "host-1", 0);
	ck_assert (astra_agent_registry_flush (plain->registry, &error));
	ck_assert (!g_main_context_pending (NULL));

	fx = fixture_new (":memory:");
	fx2 = fixture_new (":memory:");
	ck_assert (astra_agent_registry_restore (fx->registry, &error));
	ck_assert (!astra_agent_registry_restore (fx->registry, &error));
	ck_assert_str_eq (error->message, "agents: restoring is only possible once, before any heartbeat");
	g_clear_error (&error);

	heartbeat (fx2, "a", "host-1", 0);
	ck_assert (!astra_agent_registry_restore (fx2->registry, &error));
	ck_assert_str_eq (error->message, "agents: restoring is only possible once, before any heartbeat");
}
END_TEST

START_TEST (test_newer_schema)
{
	g_autoptr(Fixture) fx = fixture_new (":memory:");
	g_autoptr(GError) error = NULL;

	ck_assert (astra_state_db_set_schema_version (fx->db, "agents", 2, &error));
	ck_assert (!astra_agent_registry_restore (fx->registry, &error));
	ck_assert_str_eq (error->message, "agents: the state database has schema version 2, this daemon knows up to 1");
}
END_TEST

/* figures only: the issue asks for them, the machine decides them */

static gsize
heap_in_use (void)
{
	struct mallinfo2 info = mallinfo2 ();
	return info.uordblks + info.hblkhd;
}

START_TEST (test_scale_figures)
{
	g_autofree char *path = astra_check_tmp_path ("state.db");
	g_autoptr(Fixture) fx = NULL;
	g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
	g_autoptr(GError) error = NULL;
	g_autofree char *memory = NULL;
	gsize before, after;
	guint failed = 0;
	gint64 start, elapsed_register, elapsed_beat, elapsed_write;

	for (guint i = 0; i < N_BIG; i++)
		g_ptr_array_add (ids, big_id (i));

	before = heap_in_use ();
	fx = fixture_new (NULL);
	fx->count_only = TRUE;
	start = g_get_monotonic_time ();
	failed += beat_all (fx->registry, ids, 1, "host-1");
	elapsed_register = g_get_monotonic_time () - start;
	after = heap_in_use ();

	start = g_get_monotonic_time ();
	for (guint round = 0; round < 5; round++) {
		astra_clock_advance (fx->clock, SEC);
		failed += beat_all (fx->registry, ids, 1, NULL);
	}
	elapsed_beat = g_get_monotonic_time () - start;
	ck_assert_uint_eq (failed, 0);
	ck_assert_uint_eq (fx->n_events, N_BIG);
	/* sanitizers keep their own heap, which mallinfo2() does not see */
	if (after > before)
		memory = g_strdup_printf ("%.0f bytes/agent", (double) (after - before) / N_BIG);
	else
		memory = g_strdup ("not measurable in this build");
	g_printerr ("agents: %u agents, registration %.0f ns/agent (incl. the agent.registered event), "
		    "heartbeat %.0f ns, memory %s (ids of 12 characters)\n",
		    N_BIG,
		    (double) elapsed_register * 1000 / N_BIG,
		    (double) elapsed_beat * 1000 / (5.0 * N_BIG),
		    memory);
	g_clear_pointer (&fx, fixture_free);

	/* with the database: one row write per changed agent per iteration */
	fx = fixture_new (path);
	fx->count_only = TRUE;
	ck_assert (astra_agent_registry_restore (fx->registry, &error));
	failed += beat_all (fx->registry, ids, 1, "host-1");
	fixture_flush (fx);
	astra_clock_advance (fx->clock, SEC);
	start = g_get_monotonic_time ();
	failed += beat_all (fx->registry, ids, 1, NULL);
	elapsed_beat = g_get_monotonic_time () - start;
	start = g_get_monotonic_time ();
	fixture_flush (fx);
	elapsed_write = g_get_monotonic_time () - start;
	ck_assert_uint_eq (failed, 0);
	g_printerr ("agents: with the state database, heartbeat %.0f ns + write and commit %.0f ns per agent\n",
		    (double) elapsed_beat * 1000 / N_BIG,
		    (double) elapsed_write * 1000 / N_BIG);
}
END_TEST

static Suite *
agents_suite (void)
{
	Suite *s = suite_create ("agents");
	TCase *tc;

	tc = tcase_create ("register");
	tcase_add_test (tc, test_register);
	tcase_add_test (tc, test_register_minimal);
	tcase_add_test (tc, test_update_known);
	tcase_add_loop_test (tc, test_bad_heartbeat, 0, G_N_ELEMENTS (bad_heartbeats));
	tcase_add_test (tc, test_long_strings);
	tcase_add_test (tc, test_list);
	suite_add_tcase (s, tc);

	tc = tcase_create ("status");
	tcase_add_test (tc, test_offline_after_interval);
	tcase_add_test (tc, test_heartbeat_moves_deadline);
	tcase_add_test (tc, test_default_offline_after);
	tcase_add_test (tc, test_configured_offline_after);
	tcase_add_test (tc, test_online_again);
	tcase_add_test (tc, test_out_of_order);
	tcase_add_test (tc, test_clock_skew);
	tcase_add_test (tc, test_many_agents);
	suite_add_tcase (s, tc);

	tc = astra_check_tmpdir_tcase_new ("persistence");
	tcase_add_test (tc, test_restart);
	tcase_add_test (tc, test_writes_coalesced);
	tcase_add_test (tc, test_restore_once);
	tcase_add_test (tc, test_newer_schema);
	suite_add_tcase (s, tc);

	/* prints figures, asserts nothing about them */
	tc = astra_check_tmpdir_tcase_new ("scale");
	tcase_add_test (tc, test_scale_figures);
	suite_add_tcase (s, tc);

	return s;
}

int
main (void)
{
	return astra_check_run_suite (agents_suite ());
}
