/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The evaluator on a fake clock: lifecycles, aggregates, matching, no-data,
 * events, persistence across restarts and reloads.
 */

#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "astra-check-common.h"
#include "astra-rule-engine.h"

/* 2025-12-17T09:50:00Z */
#define T0_S G_GINT64_CONSTANT (1765965000)
#define T0_US (T0_S * G_TIME_SPAN_SECOND)
#define AT(s) (T0_US + (gint64) ((s) * (double) G_TIME_SPAN_SECOND))

typedef struct {
	AstraClock *clock;
	AstraSeriesStore *store;
	AstraStateDb *db;
	AstraRuleEngine *engine;
	GPtrArray *events;   /* AstraEvent, everything sent */
	GPtrArray *webhooks; /* char *, what each event was routed to: "a;b", or "*" for every webhook */
	guint taken;         /* events already looked at by fx_take() */
	GHashTable *agents;  /* agent_id -> AstraAgentInfo */
} Fx;

static void
fx_sink_cb (AstraEvent *event, const char *const *webhooks, gpointer user_data)
{
	Fx *fx = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(AstraEvent) copy = NULL;

	/* what receivers get validates again from its bytes */
	copy = astra_event_new_from_body (astra_event_get_id (event), astra_event_get_body (event), &error);
	astra_assert_no_error (error);
	ck_assert_ptr_nonnull (copy);
	g_ptr_array_add (fx->events, g_object_ref (event));
	g_ptr_array_add (fx->webhooks,
			 webhooks != NULL ? g_strjoinv (";", (char **) webhooks) : g_strdup ("*"));
}

static const AstraAgentInfo *
fx_agent_lookup_cb (const char *agent_id, gpointer user_data)
{
	Fx *fx = user_data;
	return g_hash_table_lookup (fx->agents, agent_id);
}

static void
fx_agent_info_free (AstraAgentInfo *info)
{
	g_free (info->agent_id);
	g_free (info->hostname);
	g_free (info->tenant_id);
	g_free (info);
}

static void
fx_set_agent (Fx *fx, const char *agent_id, const char *hostname, const char *tenant_id, gboolean online)
{
	AstraAgentInfo *info = g_new0 (AstraAgentInfo, 1);

	info->agent_id = g_strdup (agent_id);
	info->hostname = g_strdup (hostname);
	info->tenant_id = g_strdup (tenant_id);
	info->online = online;
	g_hash_table_replace (fx->agents, g_strdup (agent_id), info);
}

static AstraRuleSet *
fx_parse_rules (const char *text)
{
	g_autoptr(AstraRuleSet) rules = astra_rule_set_new ();
	g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func (g_free);

	astra_rule_set_add_file (rules, "test.rules", text, NULL, errors);
	ck_assert_msg (errors->len == 0, "rules do not parse: %s",
		       errors->len > 0 ? (const char *) g_ptr_array_index (errors, 0) : "");
	return g_steal_pointer (&rules);
}

/* a new engine (and series store, as a new process has) on the clock and database of fx */
static void
fx_start_engine (Fx *fx, const char *rules_text)
{
	g_autoptr(AstraRuleSet) rules = fx_parse_rules (rules_text);
	g_autoptr(GError) error = NULL;

	g_clear_object (&fx->engine);
	g_clear_object (&fx->store);
	fx->store = astra_series_store_new ();
	fx->engine = astra_rule_engine_new (fx->clock, fx->store, fx->db, fx_sink_cb, fx);
	astra_rule_engine_set_agent_lookup_func (fx->engine, fx_agent_lookup_cb, fx);
	astra_rule_engine_set_rules (fx->engine, rules);
	ck_assert (astra_rule_engine_restore (fx->engine, &error));
	astra_assert_no_error (error);
}

/* db_path NULL: nothing persisted; ":memory:" or a file otherwise */
static Fx *
fx_new (const char *rules_text, const char *db_path)
{
	Fx *fx = g_new0 (Fx, 1);

	fx->clock = astra_clock_new_fake (T0_US);
	fx->events = g_ptr_array_new_with_free_func (g_object_unref);
	fx->webhooks = g_ptr_array_new_with_free_func (g_free);
	fx->agents =
	    g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) fx_agent_info_free);
	if (db_path != NULL) {
		g_autoptr(GError) error = NULL;
		fx->db = astra_state_db_open (db_path, &error);
		astra_assert_no_error (error);
	}
	fx_start_engine (fx, rules_text);
	return fx;
}

static void
fx_free (Fx *fx)
{
	g_clear_object (&fx->engine);
	g_clear_object (&fx->store);
	g_clear_object (&fx->db);
	g_clear_object (&fx->clock);
	g_ptr_array_unref (fx->events);
	g_ptr_array_unref (fx->webhooks);
	g_hash_table_unref (fx->agents);
	g_free (fx);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Fx, fx_free)

/* commits what the engine wrote, as the end of a main-loop iteration would */
static void
fx_flush (Fx *fx)
{
	g_autoptr(GError) error = NULL;

	if (fx->db == NULL)
		return;
	ck_assert (astra_state_db_flush (fx->db, &error));
	astra_assert_no_error (error);
}

/* "metric" or "metric{a=b,c=d}" */
static AstraSeries *
fx_series (Fx *fx, const char *spec)
{
	g_autofree char *metric = NULL;
	g_auto(GStrv) pairs = NULL;
	g_autoptr(GArray) labels = g_array_new (FALSE, FALSE, sizeof (AstraLabel));
	g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
	const char *brace = strchr (spec, '{');
	AstraSeriesReject reject = ASTRA_SERIES_REJECT_NONE;
	AstraSeries *series;

	if (brace == NULL) {
		metric = g_strdup (spec);
	} else {
		g_autofree char *inner = g_strndup (brace + 1, strlen (brace + 1) - 1);
		metric = g_strndup (spec, brace - spec);
		pairs = g_strsplit (inner, ",", -1);
		for (guint i = 0; pairs[i] != NULL; i++) {
			char **kv = g_strsplit (pairs[i], "=", 2);
			AstraLabel label = { kv[0], kv[1] };
			g_ptr_array_add (parts, kv);
			g_array_append_val (labels, label);
		}
	}
	series =
	    astra_series_store_lookup (fx->store, metric, (AstraLabel *) labels->data, labels->len, &reject);
	ck_assert_msg (series != NULL, "series %s refused: %s", spec, astra_series_reject_to_string (reject));
	return series;
}

static void
fx_push_at (Fx *fx, const char *spec, double value, gint64 ts_us)
{
	astra_rule_engine_push (fx->engine, fx_series (fx, spec), value, ts_us);
}

static void
fx_push (Fx *fx, const char *spec, double value)
{
	fx_push_at (fx, spec, value, 0);
}

/* the events since the last call, as "T:warning R:critical" (triggered/resolved:severity) */
static char *
fx_take (Fx *fx)
{
	GString *str = g_string_new (NULL);

	for (; fx->taken < fx->events->len; fx->taken++) {
		AstraEvent *event = g_ptr_array_index (fx->events, fx->taken);
		JsonObject *data = astra_event_get_data (event);

		if (str->len > 0)
			g_string_append_c (str, ' ');
		g_string_append_printf (
		    str, "%s:%s",
		    astra_event_get_kind (event) == ASTRA_EVENT_KIND_ALERT_TRIGGERED ? "T" : "R",
		    json_object_get_string_member (data, "severity"));
	}
	return g_string_free (str, FALSE);
}

static JsonObject *
fx_event_data (Fx *fx, guint index)
{
	ck_assert_uint_lt (index, fx->events->len);
	return astra_event_get_data (g_ptr_array_index (fx->events, index));
}

static const char *
fx_state_name (AstraAlertState state)
{
	switch (state) {
	case ASTRA_ALERT_STATE_PENDING:
		return "pending";
	case ASTRA_ALERT_STATE_FIRING:
		return "firing";
	default:
		return "inactive";
	}
}

/* the state of the one alert of rule (any rule if NULL) on series spec (any if NULL) */
static const char *
fx_state (Fx *fx, const char *rule, const char *spec)
{
	g_autoptr(GPtrArray) alerts = astra_rule_engine_list_alerts (fx->engine);
	AstraSeries *series = spec != NULL ? fx_series (fx, spec) : NULL;
	const char *state = "inactive";
	guint n = 0;

	for (guint i = 0; i < alerts->len; i++) {
		AstraAlertInfo *info = g_ptr_array_index (alerts, i);
		if (rule != NULL && g_strcmp0 (info->rule, rule) != 0)
			continue;
		if (series != NULL && info->series != series)
			continue;
		state = fx_state_name (info->state);
		n++;
	}
	ck_assert_uint_le (n, 1);
	return state;
}

static AstraAlertInfo *
fx_alert (Fx *fx, const char *rule)
{
	g_autoptr(GPtrArray) alerts = astra_rule_engine_list_alerts (fx->engine);

	for (guint i = 0; i < alerts->len; i++) {
		AstraAlertInfo *info = g_ptr_array_index (alerts, i);
		if (g_strcmp0 (info->rule, rule) == 0)
			return g_ptr_array_steal_index (alerts, i);
	}
	return NULL;
}

static gint64
fx_db_count (Fx *fx)
{
	sqlite3_stmt *stmt = NULL;
	gint64 n;

	ck_assert_int_eq (sqlite3_prepare_v2 (astra_state_db_get_handle (fx->db),
					      "SELECT COUNT(*) FROM alerts", -1, &stmt, NULL),
			  SQLITE_OK);
	ck_assert_int_eq (sqlite3_step (stmt), SQLITE_ROW);
	n = sqlite3_column_int64 (stmt, 0);
	sqlite3_finalize (stmt);
	return n;
}

#define ck_assert_double_near(a, b)                                                                          \
	do {                                                                                                 \
		double _a = (a);                                                                             \
		double _b = (b);                                                                             \
		ck_assert_msg (fabs (_a - _b) <= 1e-9 * MAX (1.0, fabs (_b)), "%.17g != %.17g", _a, _b);     \
	} while (0)

/* ---- lifecycles, table-driven ---- */

typedef struct {
	double at_s;        /* seconds after T0: the clock moves there first, running the timers */
	double value;       /* the sample pushed then (NAN: none) */
	const char *events; /* what the step sends: "T:warning", "R:critical", "" for nothing */
	const char *state;  /* the alert afterwards */
} Step;

typedef struct {
	const char *name;
	const char *keys; /* of [rule r] with metric = m */
	Step steps[16];   /* up to the first with events NULL */
} LifecycleCase;

#define END                                                                                                  \
	{                                                                                                    \
		0, 0, NULL, NULL                                                                             \
	}

/* clang-format off */
static const LifecycleCase lifecycle_cases[] = {
    {"for 0 fires at once, escalates at once, never de-escalates, resolves with the highest",
     "warning = > 100\ncritical = > 200\n",
     {{0, 50, "", "inactive"},
      {10, 150, "T:warning", "firing"},
      {20, 150, "", "firing"},
      {30, 250, "T:critical", "firing"},
      {40, 150, "", "firing"},
      {50, 50, "R:critical", "inactive"},
      END}},
    {"exactly at a > threshold does not trip", "warning = > 100\n",
     {{0, 100, "", "inactive"},
      {10, 100.000001, "T:warning", "firing"},
      {20, 100, "R:warning", "inactive"},
      END}},
    {"exactly at a >= threshold trips", "warning = >= 100\n",
     {{0, 99.999, "", "inactive"},
      {10, 100, "T:warning", "firing"},
      {20, 99.999, "R:warning", "inactive"},
      END}},
    {"< conditions", "warning = < 10\ncritical = <= 5\n",
     {{0, 10, "", "inactive"}, {10, 9, "T:warning", "firing"}, {20, 5, "T:critical", "firing"},
      {30, 10, "R:critical", "inactive"}, END}},
    {"outside a range, bounds included in the range", "warning = outside 10..20\n",
     {{0, 10, "", "inactive"}, {10, 20, "", "inactive"}, {20, 20.5, "T:warning", "firing"},
      {30, 15, "R:warning", "inactive"}, {40, 9.5, "T:warning", "firing"}, END}},
    {"hysteresis: the band between trip and clear changes nothing, the clear bound is exact",
     "warning = > 100\nclear = < 80\n",
     {{0, 150, "T:warning", "firing"},
      {10, 90, "", "firing"},
      {20, 100, "", "firing"},
      {30, 80, "", "firing"},
      {40, 79.999, "R:warning", "inactive"},
      {50, 90, "", "inactive"},
      END}},
    {"for: fires at since + for when the trip still holds", "warning = > 100\nfor = 2m\n",
     {{0, 150, "", "pending"},
      {60, 160, "", "pending"},
      {119, NAN, "", "pending"},
      {120, NAN, "T:warning", "firing"},
      END}},
    {"for interrupted by a clear, then pending again from the new trip", "warning = > 100\nfor = 2m\n",
     {{0, 150, "", "pending"},
      {60, 50, "", "inactive"},
      {70, 150, "", "pending"},
      {120, NAN, "", "pending"},
      {189, NAN, "", "pending"},
      {190, NAN, "T:warning", "firing"},
      END}},
    {"for with hysteresis: a value in the band keeps it pending; it fires with the next trip",
     "warning = > 100\nclear = < 80\nfor = 2m\n",
     {{0, 150, "", "pending"},
      {60, 90, "", "pending"},
      {120, NAN, "", "pending"},
      {130, 90, "", "pending"},
      {140, 150, "T:warning", "firing"},
      END}},
    {"pending escalates silently and fires with the severity of the latest value",
     "warning = > 100\ncritical = > 200\nfor = 1m\n",
     {{0, 150, "", "pending"}, {30, 250, "", "pending"}, {60, NAN, "T:critical", "firing"}, END}},
    {"pending fires with the latest value's severity, not the highest seen",
     "warning = > 100\ncritical = > 200\nfor = 1m\n",
     {{0, 250, "", "pending"}, {30, 150, "", "pending"}, {60, NAN, "T:warning", "firing"},
      {70, 250, "T:critical", "firing"}, END}},
    {"escalation ignores for", "warning = > 100\ncritical = > 200\nfor = 1m\n",
     {{0, 150, "", "pending"}, {60, NAN, "T:warning", "firing"}, {61, 250, "T:critical", "firing"},
      {62, 50, "R:critical", "inactive"}, END}},
    {"keep-firing-for: the clear waits, a trip restarts it", "warning = > 100\nkeep-firing-for = 5m\n",
     {{0, 150, "T:warning", "firing"},
      {60, 50, "", "firing"},
      {200, 150, "", "firing"},
      {210, 50, "", "firing"},
      {509, NAN, "", "firing"},
      {510, NAN, "R:warning", "inactive"},
      END}},
    {"keep-firing-for passed: the next clear resolves at once", "warning = > 100\nkeep-firing-for = 1m\n",
     {{0, 150, "T:warning", "firing"},
      {10, 50, "", "firing"},
      {30, 40, "", "firing"},
      {70, NAN, "R:warning", "inactive"},
      END}},
    {"keep-firing-for with hysteresis: counts from the trip stopping, resolves on a clear",
     "warning = > 100\nclear = < 80\nkeep-firing-for = 1m\n",
     {{0, 150, "T:warning", "firing"},
      {10, 90, "", "firing"},
      {100, 90, "", "firing"},
      {110, 70, "R:warning", "inactive"},
      END}},
    {"keep-firing-for with hysteresis: a clear inside keep-firing-for then the band does not resolve",
     "warning = > 100\nclear = < 80\nkeep-firing-for = 1m\n",
     {{0, 150, "T:warning", "firing"},
      {10, 70, "", "firing"},
      {20, 90, "", "firing"},
      {80, NAN, "", "firing"},
      {90, 70, "R:warning", "inactive"},
      END}},
    {"repeat: re-sent every repeat from the last one; escalation restarts it",
     "warning = > 100\ncritical = > 200\nrepeat = 10m\n",
     {{0, 150, "T:warning", "firing"},
      {599, NAN, "", "firing"},
      {600, NAN, "T:warning", "firing"},
      {900, 250, "T:critical", "firing"},
      {1200, NAN, "", "firing"},
      {1500, NAN, "T:critical", "firing"},
      {1600, 50, "R:critical", "inactive"},
      {2200, NAN, "", "inactive"},
      END}},
    {"repeat over a long silence sends each one once, in order", "warning = > 100\nrepeat = 1m\n",
     {{0, 150, "T:warning", "firing"}, {180, NAN, "T:warning T:warning T:warning", "firing"}, END}},
    {"no-data fires with the highest severity the rule has, data returning resolves",
     "warning = > 100\ncritical = > 200\nno-data = 5m\n",
     {{0, 50, "", "inactive"},
      {299, NAN, "", "inactive"},
      {300, NAN, "T:critical", "firing"},
      {400, 50, "R:critical", "inactive"},
      {699, NAN, "", "inactive"},
      {700, NAN, "T:critical", "firing"},
      END}},
    {"no-data counts from the last sample", "warning = > 100\nno-data = 5m\n",
     {{0, 50, "", "inactive"},
      {200, 50, "", "inactive"},
      {300, NAN, "", "inactive"},
      {499, NAN, "", "inactive"},
      {500, NAN, "T:warning", "firing"},
      END}},
    {"no-data, then a tripping value keeps it firing", "warning = > 100\nno-data = 5m\n",
     {{0, 50, "", "inactive"},
      {300, NAN, "T:warning", "firing"},
      {310, 150, "", "firing"},
      {320, 50, "R:warning", "inactive"},
      END}},
    {"no-data on a pending alert fires it", "warning = > 100\nfor = 10m\nno-data = 5m\n",
     {{0, 150, "", "pending"}, {300, NAN, "T:warning", "firing"}, {310, 50, "R:warning", "inactive"}, END}},
    {"no-data on a firing alert keeps it firing, silently; data that does not trip ends it",
     "warning = > 100\nclear = < 80\nno-data = 5m\n",
     {{0, 150, "T:warning", "firing"}, {300, NAN, "", "firing"}, {600, NAN, "", "firing"},
      {610, 90, "R:warning", "inactive"}, END}},
    {"no-data alerts repeat too", "warning = > 100\nno-data = 1m\nrepeat = 5m\n",
     {{0, 50, "", "inactive"}, {60, NAN, "T:warning", "firing"}, {360, NAN, "T:warning", "firing"},
      {370, 50, "R:warning", "inactive"}, END}},
};
/* clang-format on */

START_TEST (test_lifecycle)
{
	const LifecycleCase *c = &lifecycle_cases[_i];
	g_autofree char *text = g_strdup_printf ("[rule r]\nmetric = m\n%s", c->keys);
	g_autoptr(Fx) fx = fx_new (text, ":memory:");

	for (guint i = 0; c->steps[i].events != NULL; i++) {
		const Step *step = &c->steps[i];
		g_autofree char *events = NULL;
		const char *state;

		astra_clock_advance_to (fx->clock, AT (step->at_s));
		if (!isnan (step->value))
			fx_push (fx, "m{agent_id=a1}", step->value);
		events = fx_take (fx);
		state = fx_state (fx, "r", NULL);
		ck_assert_msg (g_strcmp0 (events, step->events) == 0,
			       "%s: step %u (t=%g): sent '%s', expected '%s'", c->name, i, step->at_s, events,
			       step->events);
		ck_assert_msg (g_strcmp0 (state, step->state) == 0, "%s: step %u (t=%g): %s, expected %s",
			       c->name, i, step->at_s, state, step->state);
		/* what is on disk follows */
		fx_flush (fx);
		ck_assert_int_eq (fx_db_count (fx), g_strcmp0 (state, "inactive") == 0 ? 0 : 1);
	}
	ck_assert_uint_eq (astra_rule_engine_get_n_firing (fx->engine),
			   g_strcmp0 (fx_state (fx, "r", NULL), "firing") == 0 ? 1 : 0);
}
END_TEST

/* ---- aggregates, table-driven ---- */

typedef struct {
	double ts_s;
	double value;
} Point;

typedef struct {
	const char *aggregate;
	Point points[12]; /* up to the first with ts_s < 0 */
	double expected;  /* the aggregate after the last point; NAN: none yet */
} AggregateCase;

#define P_END                                                                                                \
	{                                                                                                    \
		-1, 0                                                                                        \
	}

/* clang-format off */
static const AggregateCase aggregate_cases[] = {
    {"last", {{0, 5}, {10, 7}, P_END}, 7},
    {"avg 1m", {{0, 10}, {20, 20}, {40, 30}, P_END}, 20},
    /* a sample exactly a window old has left */
    {"avg 1m", {{0, 10}, {30, 20}, {60, 30}, P_END}, 25},
    {"avg 1m", {{0, 10}, {30, 20}, {59.999, 30}, P_END}, 20},
    {"sum 1m", {{0, 1}, {10, 2}, {20, 3}, P_END}, 6},
    {"sum 1m", {{0, 100}, {61, 1}, P_END}, 1},
    /* a huge value leaving the window does not swallow the small ones */
    {"sum 1m", {{0, 1e20}, {1, 1}, {60.5, 0}, P_END}, 1},
    {"avg 1m", {{0, 1e20}, {1, 1}, {2, 2}, {60.5, 3}, P_END}, 2},
    {"avg 1m", {{0, 1e20}, {1, 1}, {2, 2}, {61, 3}, P_END}, 2.5},
    {"count 1m", {{0, 7}, {10, 7}, {20, 7}, P_END}, 3},
    {"count 30s", {{0, 7}, {10, 7}, {20, 7}, {40, 7}, P_END}, 2},
    {"min 1m", {{0, 5}, {10, 3}, {20, 8}, P_END}, 3},
    {"min 1m", {{0, 5}, {10, 3}, {20, 8}, {71, 9}, P_END}, 8},
    {"min 1m", {{0, 3}, {10, 3}, {20, 3}, {65, 4}, P_END}, 3},
    {"max 1m", {{0, 9}, {10, 3}, {20, 5}, P_END}, 9},
    {"max 1m", {{0, 9}, {10, 3}, {20, 5}, {61, 1}, P_END}, 5},
    {"max 10s", {{0, 1}, {1, 2}, {2, 3}, {3, 4}, {4, 5}, {5, 6}, {6, 7}, {7, 8}, {8, 9}, {20, 0}, P_END}, 0},
    {"rate 1m", {{0, 100}, P_END}, NAN},
    {"rate 1m", {{0, 100}, {10, 110}, {20, 130}, P_END}, 1.5},
    /* a counter reset: the drop counts the new value as increase */
    {"rate 1m", {{0, 100}, {10, 110}, {20, 5}, {30, 15}, P_END}, 25.0 / 30},
    /* only the samples in the window count: the reset at 20 is from 110, which has left */
    {"rate 1m", {{0, 100}, {10, 110}, {20, 5}, {30, 15}, {70, 25}, P_END}, 20.0 / 50},
    {"rate 1m", {{0, 0}, {20, 60}, {50, 240}, P_END}, 4.8},
    {"rate 1m", {{0, 7}, {0, 9}, P_END}, NAN},
    {"p50 1m", {{0, 1}, {1, 2}, {2, 3}, {3, 4}, P_END}, 2.5},
    {"p50 1m", {{0, 4}, {1, 1}, {2, 3}, P_END}, 3},
    {"p90 1m", {{0, 10}, {1, 9}, {2, 8}, {3, 7}, {4, 6}, {5, 5}, {6, 4}, {7, 3}, {8, 2}, {9, 1}, P_END}, 9.1},
    {"p95 1m", {{0, 5}, P_END}, 5},
    {"p99 1m", {{0, 1}, {1, 2}, P_END}, 1.99},
    {"p50 1m", {{0, 100}, {30, 1}, {60, 2}, P_END}, 1.5},
    /* a late sample counts at the newest timestamp: here it stays in the window */
    {"avg 1m", {{0, 10}, {50, 20}, {5, 60}, {70, 40}, P_END}, 40},
};
/* clang-format on */

START_TEST (test_aggregate)
{
	const AggregateCase *c = &aggregate_cases[_i];
	g_autofree char *text = g_strdup_printf (
	    "[rule r]\nmetric = m\naggregate = %s\nwarning = >= -1000000000\n", c->aggregate);
	g_autoptr(Fx) fx = fx_new (text, NULL);
	g_autoptr(AstraAlertInfo) info = NULL;

	for (guint i = 0; c->points[i].ts_s >= 0; i++)
		fx_push_at (fx, "m", c->points[i].value, AT (c->points[i].ts_s));
	info = fx_alert (fx, "r");
	if (isnan (c->expected)) {
		ck_assert_msg (info == NULL, "%s (case %d): has the value %g, expected none", c->aggregate,
			       _i, info->value);
		return;
	}
	ck_assert_msg (info != NULL, "%s (case %d): no value", c->aggregate, _i);
	ck_assert_msg (fabs (info->value - c->expected) <= 1e-9 * MAX (1.0, fabs (c->expected)),
		       "%s (case %d): %.17g, expected %.17g", c->aggregate, _i, info->value, c->expected);
}
END_TEST

static gint
compare_double (gconstpointer a, gconstpointer b)
{
	double x = *(const double *) a;
	double y = *(const double *) b;
	return x < y ? -1 : x > y ? 1 : 0;
}

/* every aggregate against a brute force over the window, on random samples */
static const char *const brute_aggregates[] = { "avg",  "sum", "count", "min", "max",
						"rate", "p50", "p90",   "p95", "p99" };

static gboolean
brute_force (
    const char *aggregate, const gint64 *ts, const double *values, guint n, gint64 window_us, double *out)
{
	g_autoptr(GArray) w = g_array_new (FALSE, FALSE, sizeof (double));
	gint64 newest = ts[n - 1];
	guint first = n;
	double sum = 0;

	for (guint i = 0; i < n; i++) {
		if (ts[i] > newest - window_us && n - i <= ASTRA_RULE_ENGINE_MAX_WINDOW_SAMPLES) {
			if (first == n)
				first = i;
			g_array_append_val (w, values[i]);
			sum += values[i];
		}
	}
	if (g_strcmp0 (aggregate, "avg") == 0) {
		*out = sum / w->len;
	} else if (g_strcmp0 (aggregate, "sum") == 0) {
		*out = sum;
	} else if (g_strcmp0 (aggregate, "count") == 0) {
		*out = w->len;
	} else if (g_strcmp0 (aggregate, "rate") == 0) {
		double increase = 0;
		if (w->len < 2 || ts[n - 1] == ts[first])
			return FALSE;
		for (guint i = first + 1; i < n; i++)
			increase += values[i] >= values[i - 1] ? values[i] - values[i - 1] : values[i];
		*out = increase / ((double) (ts[n - 1] - ts[first]) / G_TIME_SPAN_SECOND);
	} else {
		g_array_sort (w, compare_double);
		if (g_strcmp0 (aggregate, "min") == 0) {
			*out = g_array_index (w, double, 0);
		} else if (g_strcmp0 (aggregate, "max") == 0) {
			*out = g_array_index (w, double, w->len - 1);
		} else {
			double q = g_ascii_strtod (aggregate + 1, NULL) / 100;
			double rank = q * (w->len - 1);
			guint lo = (guint) rank;
			if (lo + 1 >= w->len)
				*out = g_array_index (w, double, w->len - 1);
			else
				*out = g_array_index (w, double, lo) +
				       (g_array_index (w, double, lo + 1) - g_array_index (w, double, lo)) *
					   (rank - lo);
		}
	}
	return TRUE;
}

START_TEST (test_aggregate_brute_force)
{
	const char *aggregate = brute_aggregates[_i];
	g_autofree char *text = g_strdup_printf (
	    "[rule r]\nmetric = m\naggregate = %s 10s\nwarning = >= -1000000000\n", aggregate);
	g_autoptr(Fx) fx = fx_new (text, NULL);
	g_autoptr(GRand) rand = g_rand_new_with_seed (7 + _i);
	g_autoptr(GArray) ts = g_array_new (FALSE, FALSE, sizeof (gint64));
	g_autoptr(GArray) values = g_array_new (FALSE, FALSE, sizeof (double));
	gint64 now = T0_US;

	for (guint n = 0; n < 2000; n++) {
		g_autoptr(AstraAlertInfo) info = NULL;
		/* counters for rate (with resets now and then), anything for the others */
		double v = g_strcmp0 (aggregate, "rate") == 0
			       ? (n > 0 && g_rand_int_range (rand, 0, 20) > 0
				      ? g_array_index (values, double, n - 1) + g_rand_int_range (rand, 0, 50)
				      : g_rand_int_range (rand, 0, 50))
			       : g_rand_double_range (rand, -500, 500);
		double expected = 0;
		gboolean has;

		/* bursts and gaps, so windows fill, grow, shrink and empty */
		now += (n / 300) % 2 == 0 ? g_rand_int_range (rand, 0, 50) * 1000
					  : g_rand_int_range (rand, 0, 4000) * 1000;
		g_array_append_val (ts, now);
		g_array_append_val (values, v);
		fx_push_at (fx, "m", v, now);
		has = brute_force (aggregate, (gint64 *) ts->data, (double *) values->data, ts->len,
				   10 * G_TIME_SPAN_SECOND, &expected);
		info = fx_alert (fx, "r");
		ck_assert_msg ((info != NULL) == has, "%s: sample %u: value %s, expected %s", aggregate, n,
			       info != NULL ? "present" : "absent", has ? "one" : "none");
		if (has)
			ck_assert_msg (fabs (info->value - expected) <= 1e-6 * MAX (1.0, fabs (expected)),
				       "%s: sample %u: %.17g, expected %.17g", aggregate, n, info->value,
				       expected);
	}
}
END_TEST

START_TEST (test_aggregate_window_cap)
{
	g_autoptr(Fx) fx = fx_new ("[rule r]\nmetric = m\naggregate = count 1h\nwarning = >= 0\n"
				    "[rule s]\nmetric = m\naggregate = min 1h\nwarning = >= -1000000000\n",
				    NULL);
	g_autoptr(AstraAlertInfo) count = NULL;
	g_autoptr(AstraAlertInfo) min = NULL;

	/* 5000 samples in 500 s: the window keeps the newest 4096 */
	for (guint i = 0; i < 5000; i++)
		fx_push_at (fx, "m", i, T0_US + i * 100000);
	count = fx_alert (fx, "r");
	min = fx_alert (fx, "s");
	ck_assert_double_near (count->value, ASTRA_RULE_ENGINE_MAX_WINDOW_SAMPLES);
	ck_assert_double_near (min->value, 5000 - ASTRA_RULE_ENGINE_MAX_WINDOW_SAMPLES);
}
END_TEST

START_TEST (test_non_finite_ignored)
{
	g_autoptr(Fx) fx = fx_new ("[rule r]\nmetric = m\naggregate = avg 1m\nwarning = > 100\n", NULL);
	g_autofree char *events = NULL;

	fx_push (fx, "m", 50);
	fx_push (fx, "m", NAN);
	fx_push (fx, "m", INFINITY);
	fx_push (fx, "m", -INFINITY);
	events = fx_take (fx);
	ck_assert_str_eq (events, "");
	ck_assert_uint_eq (astra_rule_engine_get_n_evaluations (fx->engine), 1);
	ck_assert_str_eq (fx_state (fx, "r", NULL), "inactive");
}
END_TEST

/* ---- matching ---- */

START_TEST (test_matchers)
{
	g_autoptr(Fx) fx =
		       fx_new ("[rule r]\nmetric = latency_ms\n"
			       "match = target=8.8.8.8, agent_id=edge-*, region!=eu-*, env={prod,staging}\n"
			       "warning = > 100\n",
			       NULL);
	static const struct {
		const char *series;
		gboolean fires;
	} cases[] = {
		{ "latency_ms{target=8.8.8.8,agent_id=edge-1,region=us-east,env=prod}", TRUE },
		{ "latency_ms{target=8.8.8.8,agent_id=edge-2,env=staging}", TRUE },
		{ "latency_ms{target=1.1.1.1,agent_id=edge-3,region=us-east,env=prod}", FALSE },
		{ "latency_ms{target=8.8.8.8,agent_id=core-1,region=us-east,env=prod}", FALSE },
		{ "latency_ms{target=8.8.8.8,agent_id=edge-4,region=eu-west,env=prod}", FALSE },
		{ "latency_ms{target=8.8.8.8,agent_id=edge-5,region=us-east,env=dev}", FALSE },
		{ "latency_ms{target=8.8.8.8,agent_id=edge-6,region=us-east}", FALSE },
		{ "jitter_ms{target=8.8.8.8,agent_id=edge-1,region=us-east,env=prod}", FALSE },
	};

	for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
		g_autofree char *events = NULL;
		fx_push (fx, cases[i].series, 500);
		events = fx_take (fx);
		ck_assert_msg (g_strcmp0 (events, cases[i].fires ? "T:warning" : "") == 0, "%s: sent '%s'",
			       cases[i].series, events);
	}
	ck_assert_uint_eq (astra_rule_engine_get_n_firing (fx->engine), 2);
	ck_assert_uint_eq (astra_rule_engine_get_n_evaluations (fx->engine), 2);
}
END_TEST

START_TEST (test_one_alert_per_series_and_rule)
{
	g_autoptr(Fx) fx = fx_new ("[rule warn]\nmetric = m\nwarning = > 100\n"
				    "[rule crit]\nmetric = m\ncritical = > 150\nfor = 1m\n"
				    "[rule off]\nmetric = m\nwarning = > 0\nenabled = false\n",
				    NULL);
	g_autoptr(GPtrArray) alerts = NULL;
	g_autofree char *events = NULL;
	const char *ids[4];

	fx_push (fx, "m{host=a}", 200);
	fx_push (fx, "m{host=b}", 200);
	events = fx_take (fx);
	ck_assert_str_eq (events, "T:warning T:warning");
	ck_assert_str_eq (fx_state (fx, "warn", "m{host=a}"), "firing");
	ck_assert_str_eq (fx_state (fx, "crit", "m{host=a}"), "pending");
	ck_assert_str_eq (fx_state (fx, "off", "m{host=a}"), "inactive");
	astra_clock_advance (fx->clock, 60 * G_TIME_SPAN_SECOND);
	g_free (events);
	events = fx_take (fx);
	ck_assert_str_eq (events, "T:critical T:critical");

	/* four alerts, four ids */
	alerts = astra_rule_engine_list_alerts (fx->engine);
	ck_assert_uint_eq (alerts->len, 4);
	for (guint i = 0; i < alerts->len; i++) {
		AstraAlertInfo *info = g_ptr_array_index (alerts, i);
		ids[i] = info->alert_id;
		ck_assert_int_eq (info->state, ASTRA_ALERT_STATE_FIRING);
		for (guint j = 0; j < i; j++)
			ck_assert_str_ne (ids[i], ids[j]);
	}
	ck_assert_str_eq (((AstraAlertInfo *) g_ptr_array_index (alerts, 0))->rule, "crit");
	ck_assert_str_eq (((AstraAlertInfo *) g_ptr_array_index (alerts, 3))->rule, "warn");
	ck_assert_uint_eq (astra_rule_engine_get_n_firing (fx->engine), 4);

	fx_push (fx, "m{host=a}", 120);
	g_free (events);
	events = fx_take (fx);
	ck_assert_str_eq (events, "R:critical");
	ck_assert_str_eq (fx_state (fx, "warn", "m{host=a}"), "firing");
	ck_assert_str_eq (fx_state (fx, "crit", "m{host=b}"), "firing");
}
END_TEST

/* ---- events ---- */

static void
assert_alert_id (const char *alert_id)
{
	ck_assert_int_eq (strlen (alert_id), 5 + 32);
	ck_assert (g_str_has_prefix (alert_id, "alrt_"));
	for (const char *p = alert_id + 5; *p != '\0'; p++)
		ck_assert (g_ascii_isxdigit (*p) && !g_ascii_isupper (*p));
}

START_TEST (test_event_fields)
{
	g_autoptr(Fx) fx = fx_new (
	    "[rule high-latency]\nmetric = latency_ms\nmatch = target=8.8.8.8\n"
	    "warning = > 100\ncritical = > 200\nclear = < 80\n"
	    "labels = team=netops, env=test\n"
	    "summary = Latency from {hostname} to {target} is {value} ms ({severity}, {threshold}, "
	    "{metric}, {rule}, {team}, {missing}|{{literal})\n"
	    "description = Team {team}, agent {agent_id}.\n"
	    "webhooks = ops-slack; oncall\n",
	    NULL);
	const char *series = "latency_ms{agent_id=a1,env=prod,target=8.8.8.8}";
	g_autofree char *events = NULL;
	AstraEvent *event;
	JsonObject *data;
	JsonObject *labels;
	const char *alert_id;

	fx_set_agent (fx, "a1", "server-01", "tenant-abc", TRUE);
	fx_push (fx, series, 123.456);
	events = fx_take (fx);
	ck_assert_str_eq (events, "T:warning");
	event = g_ptr_array_index (fx->events, 0);
	ck_assert_int_eq (astra_event_get_kind (event), ASTRA_EVENT_KIND_ALERT_TRIGGERED);
	ck_assert_int_eq (astra_event_get_timestamp (event), T0_S);
	ck_assert_int_eq (astra_event_get_severity (event), ASTRA_SEVERITY_WARNING);
	ck_assert_str_eq (astra_event_get_tenant (event), "tenant-abc");
	/* the parser keeps them sorted */
	ck_assert_str_eq (g_ptr_array_index (fx->webhooks, 0), "oncall;ops-slack");
	data = astra_event_get_data (event);
	alert_id = json_object_get_string_member (data, "alert_id");
	assert_alert_id (alert_id);
	ck_assert_str_eq (json_object_get_string_member (data, "rule"), "high-latency");
	ck_assert_str_eq (json_object_get_string_member (data, "severity"), "warning");
	ck_assert_str_eq (json_object_get_string_member (data, "state"), "firing");
	ck_assert_str_eq (json_object_get_string_member (data, "metric"), "latency_ms");
	ck_assert_double_near (json_object_get_double_member (data, "value"), 123.456);
	ck_assert_double_near (json_object_get_double_member (data, "threshold"), 100);
	ck_assert_str_eq (json_object_get_string_member (data, "condition"), "> 100");
	ck_assert_str_eq (json_object_get_string_member (data, "agent_id"), "a1");
	ck_assert_str_eq (json_object_get_string_member (data, "hostname"), "server-01");
	ck_assert_str_eq (json_object_get_string_member (data, "tenant_id"), "tenant-abc");
	ck_assert_str_eq (
	    json_object_get_string_member (data, "summary"),
	    "Latency from server-01 to 8.8.8.8 is 123.5 ms (warning, 100, latency_ms, high-latency, "
	    "netops, |{literal})");
	ck_assert_str_eq (json_object_get_string_member (data, "description"), "Team netops, agent a1.");
	{
		/* the alert list says what the event said */
		g_autoptr(AstraAlertInfo) info = fx_alert (fx, "high-latency");
		ck_assert_str_eq (info->summary, json_object_get_string_member (data, "summary"));
	}
	ck_assert_str_eq (json_object_get_string_member (data, "started_at"), "2025-12-17T09:50:00Z");
	ck_assert (!json_object_has_member (data, "resolved_at"));
	/* the series' labels and the rule's, the rule's winning */
	labels = json_object_get_object_member (data, "labels");
	ck_assert_uint_eq (json_object_get_size (labels), 4);
	ck_assert_str_eq (json_object_get_string_member (labels, "agent_id"), "a1");
	ck_assert_str_eq (json_object_get_string_member (labels, "env"), "test");
	ck_assert_str_eq (json_object_get_string_member (labels, "target"), "8.8.8.8");
	ck_assert_str_eq (json_object_get_string_member (labels, "team"), "netops");

	/* escalation: the critical level's threshold and condition, the same start */
	astra_clock_advance (fx->clock, 30 * G_TIME_SPAN_SECOND);
	fx_push (fx, series, 250);
	g_free (events);
	events = fx_take (fx);
	ck_assert_str_eq (events, "T:critical");
	data = fx_event_data (fx, 1);
	ck_assert_str_eq (json_object_get_string_member (data, "alert_id"), alert_id);
	ck_assert_double_near (json_object_get_double_member (data, "threshold"), 200);
	ck_assert_str_eq (json_object_get_string_member (data, "condition"), "> 200");
	ck_assert_str_eq (json_object_get_string_member (data, "started_at"), "2025-12-17T09:50:00Z");
	ck_assert_int_eq (astra_event_get_timestamp (g_ptr_array_index (fx->events, 1)), T0_S + 30);

	/* resolved: the highest severity, how long it fired */
	astra_clock_advance (fx->clock, 60500 * 1000);
	fx_push (fx, series, 50);
	g_free (events);
	events = fx_take (fx);
	ck_assert_str_eq (events, "R:critical");
	event = g_ptr_array_index (fx->events, 2);
	ck_assert_int_eq (astra_event_get_kind (event), ASTRA_EVENT_KIND_ALERT_RESOLVED);
	ck_assert_int_eq (astra_event_get_severity (event), ASTRA_SEVERITY_CRITICAL);
	ck_assert_str_eq (g_ptr_array_index (fx->webhooks, 2), "oncall;ops-slack");
	data = astra_event_get_data (event);
	ck_assert_str_eq (json_object_get_string_member (data, "alert_id"), alert_id);
	ck_assert_str_eq (json_object_get_string_member (data, "state"), "resolved");
	ck_assert_str_eq (json_object_get_string_member (data, "severity"), "critical");
	ck_assert_double_near (json_object_get_double_member (data, "value"), 50);
	ck_assert_double_near (json_object_get_double_member (data, "threshold"), 200);
	ck_assert_str_eq (json_object_get_string_member (data, "condition"), "> 200");
	ck_assert_str_eq (json_object_get_string_member (data, "started_at"), "2025-12-17T09:50:00Z");
	ck_assert_str_eq (json_object_get_string_member (data, "resolved_at"), "2025-12-17T09:51:30Z");
	ck_assert_double_near (json_object_get_double_member (data, "duration_s"), 90.5);
	astra_assert_contains (json_object_get_string_member (data, "summary"), "is 50 ms (critical, 200,");
}
END_TEST

START_TEST (test_event_hostname_and_tenant_sources)
{
	g_autoptr(Fx) fx = fx_new ("[rule r]\nmetric = m\nwarning = > 1\nsummary = on {hostname}\n", NULL);
	static const struct {
		const char *series;
		const char *hostname; /* NULL: none */
		const char *tenant_id;
		const char *agent_id;
	} cases[] = {
		/* the labels first, then the registry, then a host label */
		{ "m{agent_id=a1,hostname=from-label,tenant_id=t-label}", "from-label", "t-label", "a1" },
		{ "m{agent_id=a1}", "server-01", "tenant-abc", "a1" },
		{ "m{agent_id=unknown,host=h1}", "h1", NULL, "unknown" },
		{ "m{host=h2}", "h2", NULL, NULL },
		{ "m{x=y}", NULL, NULL, NULL },
	};

	fx_set_agent (fx, "a1", "server-01", "tenant-abc", TRUE);
	for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
		JsonObject *data;
		g_autofree char *summary =
		    g_strdup_printf ("on %s", cases[i].hostname != NULL ? cases[i].hostname : "");

		fx_push (fx, cases[i].series, 5);
		data = fx_event_data (fx, i);
		ck_assert_str_eq (json_object_get_string_member_with_default (data, "hostname", "(none)"),
				  cases[i].hostname != NULL ? cases[i].hostname : "(none)");
		ck_assert_str_eq (json_object_get_string_member_with_default (data, "tenant_id", "(none)"),
				  cases[i].tenant_id != NULL ? cases[i].tenant_id : "(none)");
		ck_assert_str_eq (json_object_get_string_member_with_default (data, "agent_id", "(none)"),
				  cases[i].agent_id != NULL ? cases[i].agent_id : "(none)");
		ck_assert_str_eq (json_object_get_string_member (data, "summary"), summary);
	}
	/* every webhook that wants it, when the rule names none */
	ck_assert_str_eq (g_ptr_array_index (fx->webhooks, 0), "*");
}
END_TEST

START_TEST (test_event_no_data)
{
	g_autoptr(Fx) fx = fx_new ("[rule r]\nmetric = m\nwarning = > 100\nno-data = 1h30m\n"
				    "summary = silent: {value} {threshold}\n",
				    NULL);
	JsonObject *data;

	fx_push (fx, "m{agent_id=a1}", 42.5);
	astra_clock_advance (fx->clock, 90 * 60 * G_TIME_SPAN_SECOND);
	ck_assert_uint_eq (fx->events->len, 1);
	data = fx_event_data (fx, 0);
	ck_assert_str_eq (json_object_get_string_member (data, "condition"), "no data for 1h30m");
	ck_assert_double_near (json_object_get_double_member (data, "threshold"), 5400);
	ck_assert_double_near (json_object_get_double_member (data, "value"), 42.5);
	ck_assert_str_eq (json_object_get_string_member (data, "severity"), "warning");
	ck_assert_str_eq (json_object_get_string_member (data, "summary"), "silent: 42.5 5400");
	ck_assert_str_eq (json_object_get_string_member (data, "started_at"), "2025-12-17T11:20:00Z");
	{
		g_autoptr(AstraAlertInfo) info = fx_alert (fx, "r");
		ck_assert (info->no_data);
		ck_assert_str_eq (info->summary, "silent: 42.5 5400");
	}
	astra_clock_advance (fx->clock, 10 * G_TIME_SPAN_SECOND);
	fx_push (fx, "m{agent_id=a1}", 7);
	ck_assert_uint_eq (fx->events->len, 2);
	data = fx_event_data (fx, 1);
	ck_assert_str_eq (json_object_get_string_member (data, "state"), "resolved");
	ck_assert_str_eq (json_object_get_string_member (data, "condition"), "no data for 1h30m");
	ck_assert_double_near (json_object_get_double_member (data, "value"), 7);
	ck_assert_double_near (json_object_get_double_member (data, "duration_s"), 10);
}
END_TEST

START_TEST (test_event_outside_threshold)
{
	g_autoptr(Fx) fx = fx_new ("[rule r]\nmetric = m\nwarning = outside 10..20\n", NULL);

	fx_push (fx, "m{a=1}", 25);
	fx_push (fx, "m{a=1}", 15);
	fx_push (fx, "m{a=2}", 5);
	fx_push (fx, "m{a=2}", 15);
	ck_assert_uint_eq (fx->events->len, 4);
	/* the bound it went beyond, for both halves */
	ck_assert_double_near (json_object_get_double_member (fx_event_data (fx, 0), "threshold"), 20);
	ck_assert_double_near (json_object_get_double_member (fx_event_data (fx, 1), "threshold"), 20);
	ck_assert_double_near (json_object_get_double_member (fx_event_data (fx, 2), "threshold"), 10);
	ck_assert_double_near (json_object_get_double_member (fx_event_data (fx, 3), "threshold"), 10);
	ck_assert_str_eq (json_object_get_string_member (fx_event_data (fx, 0), "condition"),
			  "outside 10..20");
}
END_TEST

START_TEST (test_format)
{
	static const struct {
		double value;
		const char *text;
	} values[] = {
		{ 0, "0" },        { -0.0, "0" },        { 1234, "1234" },
		{ -5, "-5" },      { 12.3456, "12.35" }, { 123.456, "123.5" },
		{ 100.04, "100" }, { 1.5, "1.5" },       { 0.012345, "0.0123" },
		{ 0.5, "0.5" },    { 2.999, "3" },       { 1e15, "1e+15" },
		{ 1e-7, "1e-07" }, { 99.999, "100" },    { -0.25, "-0.25" },
	};
	static const struct {
		gint64 us;
		const char *text;
	} durations[] = {
		{ 0, "0s" },
		{ 600 * G_TIME_SPAN_SECOND, "10m" },
		{ 5400 * G_TIME_SPAN_SECOND, "1h30m" },
		{ 2 * G_TIME_SPAN_DAY, "2d" },
		{ 1500 * 1000, "1s500ms" },
		{ 90 * G_TIME_SPAN_SECOND, "1m30s" },
	};

	for (guint i = 0; i < G_N_ELEMENTS (values); i++) {
		g_autofree char *text = astra_rule_engine_format_value (values[i].value);
		ck_assert_msg (g_strcmp0 (text, values[i].text) == 0, "%.17g: '%s', expected '%s'",
			       values[i].value, text, values[i].text);
	}
	for (guint i = 0; i < G_N_ELEMENTS (durations); i++) {
		g_autofree char *text = astra_format_duration (durations[i].us);
		ck_assert_str_eq (text, durations[i].text);
	}
}
END_TEST

/* ---- no-data and agents ---- */

START_TEST (test_no_data_agent_offline)
{
	g_autoptr(Fx) fx = fx_new (
	    "[rule inhibited]\nmetric = m\nwarning = > 100\nno-data = 5m\n"
	    "[rule loud]\nmetric = m\nwarning = > 100\nno-data = 5m\ninhibit-when-agent-offline = false\n",
	    NULL);
	g_autofree char *events = NULL;

	fx_set_agent (fx, "a1", "server-01", "tenant-abc", TRUE);
	fx_push (fx, "m{agent_id=a1}", 50);
	fx_push (fx, "m{agent_id=a2}", 50); /* an agent the registry does not know: never inhibited */
	/* the agent goes offline before no-data falls due */
	astra_clock_advance_to (fx->clock, AT (200));
	fx_set_agent (fx, "a1", "server-01", "tenant-abc", FALSE);
	astra_clock_advance_to (fx->clock, AT (300));
	events = fx_take (fx);
	ck_assert_str_eq (events, "T:warning T:warning T:warning");
	ck_assert_str_eq (fx_state (fx, "inhibited", "m{agent_id=a1}"), "inactive");
	ck_assert_str_eq (fx_state (fx, "loud", "m{agent_id=a1}"), "firing");
	ck_assert_str_eq (fx_state (fx, "inhibited", "m{agent_id=a2}"), "firing");

	/* still offline: nothing, however long */
	astra_clock_advance_to (fx->clock, AT (3600));
	g_free (events);
	events = fx_take (fx);
	ck_assert_str_eq (events, "");
	ck_assert_str_eq (fx_state (fx, "inhibited", "m{agent_id=a1}"), "inactive");

	/* back online: no-data counts from now */
	fx_set_agent (fx, "a1", "server-01", "tenant-abc", TRUE);
	astra_rule_engine_agent_online (fx->engine, "a1");
	astra_clock_advance_to (fx->clock, AT (3600 + 299));
	g_free (events);
	events = fx_take (fx);
	ck_assert_str_eq (events, "");
	astra_clock_advance_to (fx->clock, AT (3600 + 300));
	g_free (events);
	events = fx_take (fx);
	ck_assert_str_eq (events, "T:warning");
	ck_assert_str_eq (fx_state (fx, "inhibited", "m{agent_id=a1}"), "firing");
}
END_TEST

START_TEST (test_no_data_agent_online_restarts)
{
	g_autoptr(Fx) fx = fx_new ("[rule r]\nmetric = m\nwarning = > 100\nno-data = 5m\n", NULL);
	g_autofree char *events = NULL;

	fx_set_agent (fx, "a1", "server-01", "tenant-abc", TRUE);
	fx_push (fx, "m{agent_id=a1}", 50);
	fx_push (fx, "m{agent_id=a2}", 50);
	/* a1 came back online (after a short outage) at 200: its series get until 500 */
	astra_clock_advance_to (fx->clock, AT (200));
	astra_rule_engine_agent_online (fx->engine, "a1");
	astra_clock_advance_to (fx->clock, AT (300));
	events = fx_take (fx);
	ck_assert_str_eq (events, "T:warning");
	ck_assert_str_eq (fx_state (fx, "r", "m{agent_id=a2}"), "firing");
	astra_clock_advance_to (fx->clock, AT (499));
	ck_assert_str_eq (fx_state (fx, "r", "m{agent_id=a1}"), "inactive");
	astra_clock_advance_to (fx->clock, AT (500));
	ck_assert_str_eq (fx_state (fx, "r", "m{agent_id=a1}"), "firing");
}
END_TEST

/* one timer per series, armed lazily: samples do not touch the heap */
START_TEST (test_no_data_timers)
{
	g_autoptr(Fx) fx = fx_new ("[rule r]\nmetric = m\nwarning = > 100\nno-data = 5m\n"
				    "[rule s]\nmetric = m\nwarning = > 100\nno-data = 10m\n"
				    "[rule t]\nmetric = m\nwarning = > 100\n",
				    NULL);

	for (guint i = 0; i < 100; i++) {
		g_autofree char *spec = g_strdup_printf ("m{i=%u}", i);
		fx_push (fx, spec, 1);
	}
	ck_assert_uint_eq (astra_clock_get_n_scheduled (fx->clock), 100);
	for (guint s = 1; s < 290; s++) {
		astra_clock_advance_to (fx->clock, AT (s));
		for (guint i = 0; i < 100; i++) {
			g_autofree char *spec = g_strdup_printf ("m{i=%u}", i);
			fx_push (fx, spec, 1);
		}
	}
	ck_assert_uint_eq (fx->events->len, 0);
	ck_assert_uint_eq (astra_clock_get_n_scheduled (fx->clock), 100);
	/* all silent: every series fires r at 289 + 5m, then s at 289 + 10m, and its timer rests */
	astra_clock_advance_to (fx->clock, AT (289 + 300));
	ck_assert_uint_eq (fx->events->len, 100);
	astra_clock_advance_to (fx->clock, AT (289 + 600));
	ck_assert_uint_eq (fx->events->len, 200);
	ck_assert_uint_eq (astra_clock_get_n_scheduled (fx->clock), 0);
	ck_assert_uint_eq (astra_rule_engine_get_n_firing (fx->engine), 200);
}
END_TEST

/* ---- restarts ---- */

static const char *restart_rules = "[rule r]\nmetric = m\nwarning = > 100\ncritical = > 200\nfor = 2m\n"
				   "webhooks = ops\nsummary = {agent_id} at {value}\n";

static Fx *
fx_new_on_file (const char *rules)
{
	g_autofree char *path = astra_check_tmp_path ("state.db");
	return fx_new (rules, path);
}

/* a restart: the process dies (what was committed stays), a new one starts later on the same database */
static void
fx_restart (Fx *fx, const char *rules, double at_s)
{
	g_autofree char *path = astra_check_tmp_path ("state.db");
	g_autoptr(GError) error = NULL;

	fx_flush (fx);
	g_clear_object (&fx->engine);
	g_clear_object (&fx->db);
	astra_clock_advance_to (fx->clock, AT (at_s));
	fx->db = astra_state_db_open (path, &error);
	astra_assert_no_error (error);
	fx_start_engine (fx, rules);
}

START_TEST (test_restart_pending_confirmed)
{
	g_autoptr(Fx) fx = fx_new_on_file (restart_rules);
	g_autoptr(AstraAlertInfo) info = NULL;
	g_autofree char *events = NULL;

	fx_push (fx, "m{agent_id=a1}", 150);
	ck_assert_str_eq (fx_state (fx, "r", NULL), "pending");
	fx_restart (fx, restart_rules, 60);
	info = fx_alert (fx, "r");
	ck_assert_ptr_nonnull (info);
	ck_assert_int_eq (info->state, ASTRA_ALERT_STATE_PENDING);
	ck_assert_int_eq (info->since_us, T0_US);
	ck_assert_str_eq (info->series->metric, "m");
	ck_assert_str_eq (astra_series_get_label (info->series, "agent_id"), "a1");
	/* a value after the restart confirms it: it fires when `for` ends, from the first trip */
	astra_clock_advance_to (fx->clock, AT (90));
	fx_push (fx, "m{agent_id=a1}", 160);
	astra_clock_advance_to (fx->clock, AT (119));
	ck_assert_uint_eq (fx->events->len, 0);
	astra_clock_advance_to (fx->clock, AT (120));
	events = fx_take (fx);
	ck_assert_str_eq (events, "T:warning");
	ck_assert_str_eq (json_object_get_string_member (fx_event_data (fx, 0), "started_at"),
			  "2025-12-17T09:52:00Z");
	ck_assert_str_eq (g_ptr_array_index (fx->webhooks, 0), "ops");
}
END_TEST

START_TEST (test_restart_pending_unconfirmed)
{
	g_autoptr(Fx) fx = fx_new_on_file (restart_rules);
	g_autofree char *events = NULL;

	fx_push (fx, "m{agent_id=a1}", 150);
	fx_restart (fx, restart_rules, 60);
	/* `for` ends with no value seen since the restart: it waits for one */
	astra_clock_advance_to (fx->clock, AT (200));
	ck_assert_uint_eq (fx->events->len, 0);
	ck_assert_str_eq (fx_state (fx, "r", NULL), "pending");
	fx_push (fx, "m{agent_id=a1}", 250);
	events = fx_take (fx);
	ck_assert_str_eq (events, "T:critical");
	ck_assert_str_eq (json_object_get_string_member (fx_event_data (fx, 0), "started_at"),
			  "2025-12-17T09:53:20Z");
}
END_TEST

START_TEST (test_restart_pending_for_elapsed_while_down)
{
	g_autoptr(Fx) fx = fx_new_on_file (restart_rules);

	fx_push (fx, "m{agent_id=a1}", 150);
	fx_restart (fx, restart_rules, 300);
	astra_clock_advance (fx->clock, 0);
	ck_assert_uint_eq (fx->events->len, 0);
	ck_assert_str_eq (fx_state (fx, "r", NULL), "pending");
	/* a clear: it never fired, and it is gone here and on disk */
	fx_push (fx, "m{agent_id=a1}", 50);
	ck_assert_uint_eq (fx->events->len, 0);
	ck_assert_str_eq (fx_state (fx, "r", NULL), "inactive");
	fx_flush (fx);
	ck_assert_int_eq (fx_db_count (fx), 0);
}
END_TEST

START_TEST (test_restart_firing)
{
	g_autoptr(Fx) fx = fx_new_on_file (restart_rules);
	g_autofree char *events = NULL;
	g_autofree char *alert_id = NULL;
	JsonObject *data;

	fx_push (fx, "m{agent_id=a1}", 250);
	astra_clock_advance_to (fx->clock, AT (120));
	events = fx_take (fx);
	ck_assert_str_eq (events, "T:critical");
	alert_id = g_strdup (json_object_get_string_member (fx_event_data (fx, 0), "alert_id"));

	/* no repeat of the trigger across the restart */
	fx_restart (fx, restart_rules, 600);
	astra_clock_advance_to (fx->clock, AT (900));
	ck_assert_uint_eq (fx->events->len, 1);
	ck_assert_str_eq (fx_state (fx, "r", NULL), "firing");
	ck_assert_uint_eq (astra_rule_engine_get_n_firing (fx->engine), 1);
	/* and the resolve is not lost: the same id, the whole duration, the highest severity */
	fx_push (fx, "m{agent_id=a1}", 50);
	g_free (events);
	events = fx_take (fx);
	ck_assert_str_eq (events, "R:critical");
	data = fx_event_data (fx, 1);
	ck_assert_str_eq (json_object_get_string_member (data, "alert_id"), alert_id);
	ck_assert_str_eq (json_object_get_string_member (data, "started_at"), "2025-12-17T09:52:00Z");
	ck_assert_double_near (json_object_get_double_member (data, "duration_s"), 780);
	ck_assert_double_near (json_object_get_double_member (data, "threshold"), 200);
	ck_assert_str_eq (json_object_get_string_member (data, "summary"), "a1 at 50");
	ck_assert_str_eq (g_ptr_array_index (fx->webhooks, 1), "ops");
	fx_flush (fx);
	ck_assert_int_eq (fx_db_count (fx), 0);

	/* and nothing is left for a third start */
	fx_restart (fx, restart_rules, 1000);
	ck_assert_uint_eq (fx->events->len, 2);
	ck_assert_str_eq (fx_state (fx, "r", NULL), "inactive");
}
END_TEST

START_TEST (test_restart_firing_escalates_and_keep_firing_for)
{
	const char *rules = "[rule r]\nmetric = m\nwarning = > 100\ncritical = > 200\nkeep-firing-for = 5m\n";
	g_autoptr(Fx) fx = fx_new_on_file (rules);
	g_autofree char *events = NULL;

	fx_push (fx, "m{agent_id=a1}", 150);
	astra_clock_advance_to (fx->clock, AT (60));
	fx_push (fx, "m{agent_id=a1}", 50); /* the trip stopped at 60 */
	fx_restart (fx, rules, 100);
	/* it remembers warning (escalation still means something) and when the trip stopped */
	fx_push (fx, "m{agent_id=a1}", 250);
	events = fx_take (fx);
	ck_assert_str_eq (events, "T:warning T:critical");
	astra_clock_advance_to (fx->clock, AT (110));
	fx_push (fx, "m{agent_id=a1}", 50);
	astra_clock_advance_to (fx->clock, AT (409));
	ck_assert_str_eq (fx_state (fx, "r", NULL), "firing");
	astra_clock_advance_to (fx->clock, AT (410));
	g_free (events);
	events = fx_take (fx);
	ck_assert_str_eq (events, "R:critical");
}
END_TEST

START_TEST (test_restart_keep_firing_for_passed_while_down)
{
	const char *rules = "[rule r]\nmetric = m\nwarning = > 100\nkeep-firing-for = 1m\n";
	g_autoptr(Fx) fx = fx_new_on_file (rules);
	g_autofree char *events = NULL;

	fx_push (fx, "m", 150);
	astra_clock_advance_to (fx->clock, AT (10));
	fx_push (fx, "m", 50);
	fx_restart (fx, rules, 30);
	astra_clock_advance_to (fx->clock, AT (300));
	ck_assert_str_eq (fx_state (fx, "r", NULL), "firing");
	fx_push (fx, "m", 50);
	events = fx_take (fx);
	ck_assert_str_eq (events, "T:warning R:warning");
}
END_TEST

START_TEST (test_restart_repeat_due_while_down)
{
	const char *rules = "[rule r]\nmetric = m\nwarning = > 100\nrepeat = 10m\n";
	g_autoptr(Fx) fx = fx_new_on_file (rules);
	g_autofree char *events = NULL;

	fx_push (fx, "m", 150);
	/* down from 60 to 1h: one repeat now, not six */
	fx_restart (fx, rules, 3600);
	astra_clock_advance (fx->clock, 0);
	events = fx_take (fx);
	ck_assert_str_eq (events, "T:warning T:warning");
	ck_assert_int_eq (astra_event_get_timestamp (g_ptr_array_index (fx->events, 1)), T0_S + 3600);
	astra_clock_advance_to (fx->clock, AT (3600 + 599));
	ck_assert_uint_eq (fx->events->len, 2);
	astra_clock_advance_to (fx->clock, AT (3600 + 600));
	ck_assert_uint_eq (fx->events->len, 3);
}
END_TEST

START_TEST (test_restart_no_data)
{
	const char *rules = "[rule r]\nmetric = m\nwarning = > 100\nno-data = 5m\n";
	g_autoptr(Fx) fx = fx_new_on_file (rules);
	g_autofree char *events = NULL;

	fx_push (fx, "m{a=1}", 50);
	fx_push (fx, "m{a=2}", 50);
	astra_clock_advance_to (fx->clock, AT (300));
	events = fx_take (fx);
	ck_assert_str_eq (events, "T:warning T:warning");
	fx_restart (fx, rules, 400);
	/* still silent: no second trigger; data back: resolved */
	astra_clock_advance_to (fx->clock, AT (2000));
	ck_assert_uint_eq (fx->events->len, 2);
	fx_push (fx, "m{a=1}", 50);
	g_free (events);
	events = fx_take (fx);
	ck_assert_str_eq (events, "R:warning");
	ck_assert_str_eq (json_object_get_string_member (fx_event_data (fx, 2), "condition"),
			  "no data for 5m");
	ck_assert_str_eq (fx_state (fx, "r", "m{a=2}"), "firing");
}
END_TEST

START_TEST (test_restart_rule_gone_or_changed)
{
	const char *before = "[rule gone]\nmetric = m\nwarning = > 100\nwebhooks = pager\nlabels = team=x\n"
			     "summary = {a} gone at {value}\n"
			     "[rule changed]\nmetric = m\nwarning = > 100\n"
			     "[rule pending]\nmetric = m\nwarning = > 100\nfor = 1h\n"
			     "[rule same]\nmetric = m\nwarning = > 100\n";
	const char *after = "[rule changed]\nmetric = m\nwarning = > 120\n"
			    "[rule same]\nmetric = m\nwarning = > 100\n";
	g_autoptr(Fx) fx = fx_new_on_file (before);
	g_autofree char *events = NULL;
	g_autofree char *gone_id = NULL;
	JsonObject *data;

	fx_push (fx, "m{a=1}", 150);
	events = fx_take (fx);
	ck_assert_str_eq (events, "T:warning T:warning T:warning");
	gone_id = g_strdup (json_object_get_string_member (fx_event_data (fx, 0), "alert_id"));
	ck_assert_str_eq (json_object_get_string_member (fx_event_data (fx, 0), "rule"), "gone");

	fx_restart (fx, after, 100);
	g_free (events);
	events = fx_take (fx);
	/* sorted by alert id: the two rules that went resolve, the pending one goes quietly */
	ck_assert_str_eq (events, "R:warning R:warning");
	for (guint i = 3; i < 5; i++) {
		data = fx_event_data (fx, i);
		ck_assert_str_eq (json_object_get_string_member (data, "state"), "resolved");
		if (g_strcmp0 (json_object_get_string_member (data, "rule"), "gone") != 0)
			continue;
		/* from the data last sent: labels, summary and routing as the trigger had them */
		ck_assert_str_eq (json_object_get_string_member (data, "alert_id"), gone_id);
		ck_assert_str_eq (
		    json_object_get_string_member (json_object_get_object_member (data, "labels"), "team"),
		    "x");
		ck_assert_str_eq (json_object_get_string_member (data, "summary"), "1 gone at 150");
		ck_assert_str_eq (json_object_get_string_member (data, "resolved_at"),
				  "2025-12-17T09:51:40Z");
		ck_assert_double_near (json_object_get_double_member (data, "duration_s"), 100);
		ck_assert_str_eq (g_ptr_array_index (fx->webhooks, i), "pager");
	}
	ck_assert_str_eq (fx_state (fx, "same", NULL), "firing");
	ck_assert_str_eq (fx_state (fx, "changed", NULL), "inactive");
	ck_assert_uint_eq (astra_rule_engine_get_n_firing (fx->engine), 1);
	fx_flush (fx);
	ck_assert_int_eq (fx_db_count (fx), 1);
	/* the changed rule starts over on the next value */
	fx_push (fx, "m{a=1}", 150);
	g_free (events);
	events = fx_take (fx);
	ck_assert_str_eq (events, "T:warning");
}
END_TEST

START_TEST (test_restart_alert_id_stable)
{
	const char *rules = "[rule r]\nmetric = m\nwarning = > 100\n";
	g_autoptr(Fx) fx = fx_new_on_file (rules);
	g_autofree char *first = NULL;

	/* the labels in another order are the same series */
	fx_push (fx, "m{b=2,a=1}", 150);
	fx_push (fx, "m{a=1,b=2}", 50);
	ck_assert_uint_eq (fx->events->len, 2);
	first = g_strdup (json_object_get_string_member (fx_event_data (fx, 0), "alert_id"));
	ck_assert_str_eq (json_object_get_string_member (fx_event_data (fx, 1), "alert_id"), first);
	fx_restart (fx, rules, 100);
	fx_push (fx, "m{a=1,b=2}", 150);
	ck_assert_str_eq (json_object_get_string_member (fx_event_data (fx, 2), "alert_id"), first);
	/* another series, another id */
	fx_push (fx, "m{a=1,b=3}", 150);
	ck_assert_str_ne (json_object_get_string_member (fx_event_data (fx, 3), "alert_id"), first);
}
END_TEST

START_TEST (test_restore_damaged_rows)
{
	const char *rules = "[rule r]\nmetric = m\nwarning = > 100\n";
	g_autoptr(Fx) fx = fx_new_on_file (rules);
	g_autoptr(GError) error = NULL;

	fx_push (fx, "m{a=1}", 150);
	fx_flush (fx);
	/* a second row that names a series the store refuses, and one with labels that are not JSON */
	ck_assert (astra_state_db_exec (
	    fx->db,
	    "INSERT INTO alerts SELECT 'alrt_x', rule, fingerprint, 'bad metric!', labels, "
	    "state, severity, no_data, silent, since_us, started_us, last_sent_us, "
	    "trip_stopped_us, value, above_high, data, webhooks FROM alerts;"
	    "INSERT INTO alerts SELECT 'alrt_y', rule, fingerprint, metric, '{', "
	    "state, severity, no_data, silent, since_us, started_us, last_sent_us, "
	    "trip_stopped_us, value, above_high, NULL, webhooks FROM alerts WHERE alert_id != 'alrt_x';",
	    &error));
	astra_assert_no_error (error);
	fx_restart (fx, rules, 10);
	/* the good one is back, the damaged ones are resolved from their saved data if they have some, and
	 * gone */
	ck_assert_str_eq (fx_state (fx, "r", "m{a=1}"), "firing");
	ck_assert_uint_eq (fx->events->len, 2);
	ck_assert_str_eq (json_object_get_string_member (fx_event_data (fx, 1), "state"), "resolved");
	fx_flush (fx);
	ck_assert_int_eq (fx_db_count (fx), 1);
}
END_TEST

START_TEST (test_restore_needs_rules)
{
	g_autofree char *path = astra_check_tmp_path ("state.db");
	g_autoptr(AstraClock) clock = astra_clock_new_fake (T0_US);
	g_autoptr(AstraSeriesStore) store = astra_series_store_new ();
	g_autoptr(AstraStateDb) db = astra_state_db_open (path, NULL);
	g_autoptr(AstraRuleEngine) engine = astra_rule_engine_new (clock, store, db, NULL, NULL);
	g_autoptr(GError) error = NULL;

	ck_assert (!astra_rule_engine_restore (engine, &error));
	ck_assert_ptr_nonnull (error);
	astra_assert_contains (error->message, "once the rules are set");
	ck_assert_ptr_null (astra_rule_engine_get_rules (engine));
}
END_TEST

/* ---- reloads ---- */

START_TEST (test_reload)
{
	const char *before = "[rule keep]\nmetric = m\naggregate = avg 10m\nwarning = > 100\nclear = < 50\n"
			     "[rule change]\nmetric = m\nwarning = > 100\ncritical = > 140\n"
			     "[rule remove]\nmetric = m\nwarning = > 100\nwebhooks = pager\n"
			     "[rule pending]\nmetric = m\nwarning = > 100\nfor = 1h\n"
			     "[rule disable]\nmetric = m\nwarning = > 100\n";
	const char *after = "[rule keep]\nmetric = m\naggregate = avg 10m\nwarning = > 100\nclear = < 50\n"
			    "[rule change]\nmetric = m\nwarning = > 100\ncritical = > 300\n"
			    "[rule pending]\nmetric = m\nwarning = > 100\nfor = 2h\n"
			    "[rule disable]\nmetric = m\nwarning = > 100\nenabled = false\n"
			    "[rule added]\nmetric = m\nwarning = > 0\nno-data = 5m\n";
	g_autoptr(Fx) fx = fx_new (before, ":memory:");
	g_autoptr(AstraRuleSet) rules = fx_parse_rules (after);
	g_autoptr(AstraAlertInfo) keep = NULL;
	g_autofree char *events = NULL;

	fx_push (fx, "m", 150);
	events = fx_take (fx);
	ck_assert_str_eq (events, "T:warning T:critical T:warning T:warning");
	astra_clock_advance_to (fx->clock, AT (60));
	astra_rule_engine_set_rules (fx->engine, rules);
	ck_assert_ptr_eq (astra_rule_engine_get_rules (fx->engine), rules);
	g_free (events);
	events = fx_take (fx);
	ck_assert_str_eq (events, "R:critical R:warning R:warning");
	ck_assert_str_eq (g_ptr_array_index (fx->webhooks, 5), "pager");
	ck_assert_str_eq (fx_state (fx, "keep", NULL), "firing");
	ck_assert_str_eq (fx_state (fx, "change", NULL), "inactive");
	ck_assert_str_eq (fx_state (fx, "pending", NULL), "inactive");
	ck_assert_str_eq (fx_state (fx, "disable", NULL), "inactive");
	ck_assert_uint_eq (astra_rule_engine_get_n_firing (fx->engine), 1);
	fx_flush (fx);
	ck_assert_int_eq (fx_db_count (fx), 1);

	/* the kept rule kept its window: avg(150, 50) = 100 is in its band; the changed rule starts
	 * over and trips nothing with 50; the added one fires */
	fx_push (fx, "m", 50);
	keep = fx_alert (fx, "keep");
	ck_assert_double_near (keep->value, 100);
	g_free (events);
	events = fx_take (fx);
	ck_assert_str_eq (events, "T:warning");
	ck_assert_str_eq (json_object_get_string_member (fx_event_data (fx, 7), "rule"), "added");
	/* avg(150, 50, -250) clears */
	fx_push (fx, "m", -250);
	g_free (events);
	events = fx_take (fx);
	ck_assert_str_eq (events, "R:warning R:warning");
	ck_assert_str_eq (json_object_get_string_member (fx_event_data (fx, 8), "rule"), "keep");
	ck_assert_str_eq (json_object_get_string_member (fx_event_data (fx, 9), "rule"), "added");
}
END_TEST

/* a no-data rule added by a reload watches the series known before it */
START_TEST (test_reload_adds_no_data)
{
	const char *before = "[rule r]\nmetric = m\nwarning = > 100\n";
	const char *after = "[rule r]\nmetric = m\nwarning = > 100\n"
			    "[rule nd]\nmetric = m\nwarning = > 100\nno-data = 5m\n";
	g_autoptr(Fx) fx = fx_new (before, NULL);
	g_autoptr(AstraRuleSet) rules = fx_parse_rules (after);
	g_autofree char *events = NULL;

	fx_push (fx, "m{a=1}", 50);
	fx_push (fx, "other", 50);
	astra_clock_advance_to (fx->clock, AT (100));
	astra_rule_engine_set_rules (fx->engine, rules);
	/* watched before: silent since 0; watched by nothing before: from the reload on */
	astra_clock_advance_to (fx->clock, AT (300));
	events = fx_take (fx);
	ck_assert_str_eq (events, "T:warning");
	ck_assert_str_eq (fx_state (fx, "nd", "m{a=1}"), "firing");
	fx_push (fx, "m{b=1}", 50);
	astra_clock_advance_to (fx->clock, AT (599));
	g_free (events);
	events = fx_take (fx);
	ck_assert_str_eq (events, "");
	astra_clock_advance_to (fx->clock, AT (600));
	g_free (events);
	events = fx_take (fx);
	ck_assert_str_eq (events, "T:warning");
}
END_TEST

START_TEST (test_reload_keeps_pending_and_timers)
{
	const char *rules_text = "[rule r]\nmetric = m\nwarning = > 100\nfor = 2m\nno-data = 10m\n";
	g_autoptr(Fx) fx = fx_new (rules_text, NULL);
	g_autofree char *events = NULL;

	fx_push (fx, "m", 150);
	astra_clock_advance_to (fx->clock, AT (60));
	for (guint i = 0; i < 3; i++) {
		g_autoptr(AstraRuleSet) rules = fx_parse_rules (rules_text);
		astra_rule_engine_set_rules (fx->engine, rules);
	}
	ck_assert_str_eq (fx_state (fx, "r", NULL), "pending");
	astra_clock_advance_to (fx->clock, AT (120));
	events = fx_take (fx);
	ck_assert_str_eq (events, "T:warning");
	/* and no-data still counts from the last sample */
	astra_clock_advance_to (fx->clock, AT (599));
	ck_assert_uint_eq (astra_clock_get_n_scheduled (fx->clock), 1);
	fx_push (fx, "m", 50);
	g_free (events);
	events = fx_take (fx);
	ck_assert_str_eq (events, "R:warning");
	/* reloads free what they replace: one timer left, for no-data */
	ck_assert_uint_eq (astra_clock_get_n_scheduled (fx->clock), 1);
}
END_TEST

START_TEST (test_no_rules)
{
	g_autoptr(Fx) fx = fx_new ("", NULL);

	fx_push (fx, "m", 150);
	ck_assert_uint_eq (astra_rule_engine_get_n_evaluations (fx->engine), 0);
	ck_assert_uint_eq (astra_rule_engine_get_memory_size (fx->engine), 0);
	ck_assert_ptr_null (fx_series (fx, "m")->rule_state);
}
END_TEST

START_TEST (test_memory_accounting)
{
	g_autoptr(Fx) fx =
		       fx_new ("[rule r]\nmetric = m\naggregate = p99 1h\nwarning = > 100\nno-data = 1h\n"
			       "[rule s]\nmetric = m\nwarning = > 100\n",
			       NULL);
	gsize small;
	gsize big;

	fx_push_at (fx, "m", 1, AT (0));
	small = astra_rule_engine_get_memory_size (fx->engine);
	ck_assert_uint_gt (small, 0);
	for (guint i = 1; i < 3000; i++)
		fx_push_at (fx, "m", 1, AT (i));
	big = astra_rule_engine_get_memory_size (fx->engine);
	/* 4096 samples and as many sorted values */
	ck_assert_uint_ge (big, small + 3000 * 24);
	/* the window empties out: it shrinks back */
	for (guint i = 0; i < 100; i++)
		fx_push_at (fx, "m", 1, AT (10000 + i));
	ck_assert_uint_lt (astra_rule_engine_get_memory_size (fx->engine), small + 256 * 24);
}
END_TEST

static Suite *
rule_engine_suite (void)
{
	Suite *s = suite_create ("rule-engine");
	TCase *tc;

	tc = tcase_create ("lifecycle");
	tcase_add_loop_test (tc, test_lifecycle, 0, G_N_ELEMENTS (lifecycle_cases));
	suite_add_tcase (s, tc);

	tc = tcase_create ("aggregates");
	tcase_add_loop_test (tc, test_aggregate, 0, G_N_ELEMENTS (aggregate_cases));
	tcase_add_loop_test (tc, test_aggregate_brute_force, 0, G_N_ELEMENTS (brute_aggregates));
	tcase_add_test (tc, test_aggregate_window_cap);
	tcase_add_test (tc, test_non_finite_ignored);
	suite_add_tcase (s, tc);

	tc = tcase_create ("matching");
	tcase_add_test (tc, test_matchers);
	tcase_add_test (tc, test_one_alert_per_series_and_rule);
	tcase_add_test (tc, test_no_rules);
	suite_add_tcase (s, tc);

	tc = tcase_create ("events");
	tcase_add_test (tc, test_event_fields);
	tcase_add_test (tc, test_event_hostname_and_tenant_sources);
	tcase_add_test (tc, test_event_no_data);
	tcase_add_test (tc, test_event_outside_threshold);
	tcase_add_test (tc, test_format);
	suite_add_tcase (s, tc);

	tc = tcase_create ("no-data");
	tcase_add_test (tc, test_no_data_agent_offline);
	tcase_add_test (tc, test_no_data_agent_online_restarts);
	tcase_add_test (tc, test_no_data_timers);
	suite_add_tcase (s, tc);

	tc = astra_check_tmpdir_tcase_new ("restart");
	tcase_add_test (tc, test_restart_pending_confirmed);
	tcase_add_test (tc, test_restart_pending_unconfirmed);
	tcase_add_test (tc, test_restart_pending_for_elapsed_while_down);
	tcase_add_test (tc, test_restart_firing);
	tcase_add_test (tc, test_restart_firing_escalates_and_keep_firing_for);
	tcase_add_test (tc, test_restart_keep_firing_for_passed_while_down);
	tcase_add_test (tc, test_restart_repeat_due_while_down);
	tcase_add_test (tc, test_restart_no_data);
	tcase_add_test (tc, test_restart_rule_gone_or_changed);
	tcase_add_test (tc, test_restart_alert_id_stable);
	tcase_add_test (tc, test_restore_damaged_rows);
	tcase_add_test (tc, test_restore_needs_rules);
	suite_add_tcase (s, tc);

	tc = tcase_create ("reload");
	tcase_add_test (tc, test_reload);
	tcase_add_test (tc, test_reload_adds_no_data);
	tcase_add_test (tc, test_reload_keeps_pending_and_timers);
	tcase_add_test (tc, test_memory_accounting);
	suite_add_tcase (s, tc);

	return s;
}

int
main (void)
{
	return astra_check_run_suite (rule_engine_suite ());
}
