/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "astra-rule-engine.h"

#define ASTRA_RULE_ENGINE_DB_MODULE "alerts"
#define ASTRA_RULE_ENGINE_DB_VERSION 1

#define ASTRA_WINDOW_MIN_CAPACITY 4

/* what the memory figure counts for an AstraTimer (opaque here) and its place in the clock's heap */
#define ASTRA_TIMER_SIZE 48

/* what a value trips: the warning and critical severities, or nothing */
#define ASTRA_TRIP_NONE ASTRA_SEVERITY_INFO

/* the schemas' bounds on strings the events carry */
#define ASTRA_EVENT_MAX_NAME_CHARS 256
#define ASTRA_EVENT_MAX_LABEL_CHARS 1024
#define ASTRA_EVENT_MAX_SUMMARY_CHARS 4096

/* a running sum that stays exact when large values come and go (Neumaier) */
typedef struct {
	double sum;
	double compensation;
} AstraSum;

typedef struct {
	gint64 ts;
	double value;
} AstraSample;

/* the samples of one (rule, series) window: a ring indexed by sequence number */
typedef struct {
	AstraSample *ring; /* capacity entries, a power of two */
	guint64 *deque;    /* min/max: sequence numbers of a monotonic deque, a ring as well */
	double *sorted;    /* percentiles: the window's values, sorted */
	guint64 head;      /* sequence number of the oldest sample */
	guint64 tail;      /* sequence number after the newest */
	guint64 dq_head;
	guint64 dq_tail;
	guint capacity;
	AstraSum sum; /* avg, sum: of the values; rate: of the increases */
} AstraWindow;

typedef struct _AstraAlert AstraAlert;
typedef struct _AstraSeriesState AstraSeriesState;

/* one rule fitting one series */
typedef struct {
	const AstraRule *rule;
	AstraWindow *window; /* NULL with last */
	AstraAlert *alert;   /* NULL while inactive */
	double value;        /* the latest aggregate */
	gboolean has_value;
} AstraEval;

/* AstraSeries.rule_state: the rules that fit the series, in one allocation */
struct _AstraSeriesState {
	AstraRuleEngine *engine;
	AstraSeries *series;
	AstraTimer *nodata_timer; /* NULL if no rule has no-data; armed lazily */
	gint64 newest_ts;         /* newest sample timestamp */
	gint64 nodata_base_us;    /* when the series was last heard of */
	guint n_silent;           /* alerts waiting for data to return */
	guint n_evals;
	AstraEval evals[];
};

struct _AstraAlert {
	AstraSeriesState *sstate;
	guint eval_index;
	AstraTimer *timer;
	char *alert_id;
	AstraAlertState state;
	AstraSeverity severity; /* pending: of the latest trip; firing: the highest reached */
	gint64 since_us;        /* pending since */
	gint64 started_us;      /* firing since */
	gint64 last_sent_us;
	gint64 trip_stopped_us; /* firing: when the trip stopped holding, 0 while it holds */
	double value;
	gboolean trip_holds;  /* the latest value trips */
	gboolean clear_holds; /* the latest value clears */
	gboolean confirmed;   /* a value this process saw tripped (restored pending alerts wait for one) */
	gboolean no_data;     /* fired by no-data: the event's condition is the no-data one */
	gboolean silent;      /* no-data seen: the next sample decides */
	gboolean above_high;  /* outside LOW..HIGH: it went above HIGH (the threshold is HIGH) */
	gboolean above_high_known;
};

struct _AstraRuleEngine {
	GObject parent_instance;
	AstraClock *clock;
	AstraSeriesStore *store;
	AstraStateDb *db; /* nullable */
	gboolean db_ready;
	AstraAlertSinkFunc sink;
	gpointer sink_data;
	AstraAgentLookupFunc agent_lookup;
	gpointer agent_lookup_data;
	AstraRuleSet *rules;
	guint generation;
	GHashTable *alerts;       /* alert_id -> AstraAlert (owned by its eval) */
	GHashTable *agent_online; /* agent_id -> gint64 *: when it last came back online */
	guint n_firing;
	guint64 n_evaluations;
	gsize memory;
	GPtrArray *scratch_rules; /* set_rules/rebuild: the rules fitting a series */
};

G_DEFINE_FINAL_TYPE (AstraRuleEngine, astra_rule_engine, G_TYPE_OBJECT)

/* every engine's generations differ, so a cache is never taken for another engine's */
static guint astra_rule_engine_generation_counter = 0;

static void astra_rule_engine_alert_timer_cb (AstraTimer *timer, gpointer user_data);
static void astra_rule_engine_nodata_timer_cb (AstraTimer *timer, gpointer user_data);

/* ---- running sums and windows ---- */

static inline void
astra_sum_add (AstraSum *sum, double value)
{
	double t = sum->sum + value;

	if (fabs (sum->sum) >= fabs (value))
		sum->compensation += (sum->sum - t) + value;
	else
		sum->compensation += (value - t) + sum->sum;
	sum->sum = t;
}

static inline double
astra_sum_get (const AstraSum *sum)
{
	return sum->sum + sum->compensation;
}

/* a counter's increase from a to b: a drop is a reset, and b counts from zero */
static inline double
astra_counter_increase (double a, double b)
{
	return b >= a ? b - a : b;
}

static gboolean
astra_aggregate_is_percentile (AstraAggregate aggregate)
{
	return aggregate == ASTRA_AGGREGATE_P50 || aggregate == ASTRA_AGGREGATE_P90 ||
	       aggregate == ASTRA_AGGREGATE_P95 || aggregate == ASTRA_AGGREGATE_P99;
}

static gsize
astra_window_get_size (AstraWindow *w)
{
	gsize size = sizeof (AstraWindow) + w->capacity * sizeof (AstraSample);

	if (w->deque != NULL)
		size += w->capacity * sizeof (guint64);
	if (w->sorted != NULL)
		size += w->capacity * sizeof (double);
	return size;
}

static AstraWindow *
astra_window_new (AstraAggregate aggregate)
{
	AstraWindow *w = g_new0 (AstraWindow, 1);

	w->capacity = ASTRA_WINDOW_MIN_CAPACITY;
	w->ring = g_new (AstraSample, w->capacity);
	if (aggregate == ASTRA_AGGREGATE_MIN || aggregate == ASTRA_AGGREGATE_MAX)
		w->deque = g_new (guint64, w->capacity);
	if (astra_aggregate_is_percentile (aggregate))
		w->sorted = g_new (double, w->capacity);
	return w;
}

static void
astra_window_free (AstraWindow *w)
{
	g_free (w->ring);
	g_free (w->deque);
	g_free (w->sorted);
	g_free (w);
}

static inline guint
astra_window_get_length (const AstraWindow *w)
{
	return (guint) (w->tail - w->head);
}

static inline AstraSample *
astra_window_at (const AstraWindow *w, guint64 seq)
{
	return &w->ring[seq & (w->capacity - 1)];
}

/* re-lays the rings out for a new capacity (a power of two, >= the length) */
static void
astra_window_resize (AstraWindow *w, guint capacity)
{
	AstraSample *ring = g_new (AstraSample, capacity);

	for (guint64 seq = w->head; seq < w->tail; seq++)
		ring[seq & (capacity - 1)] = *astra_window_at (w, seq);
	g_free (w->ring);
	w->ring = ring;
	if (w->deque != NULL) {
		guint64 *deque = g_new (guint64, capacity);
		for (guint64 pos = w->dq_head; pos < w->dq_tail; pos++)
			deque[pos & (capacity - 1)] = w->deque[pos & (w->capacity - 1)];
		g_free (w->deque);
		w->deque = deque;
	}
	if (w->sorted != NULL)
		w->sorted = g_renew (double, w->sorted, capacity);
	w->capacity = capacity;
}

/* the index of value in the sorted array, or where it goes */
static guint
astra_window_sorted_search (const AstraWindow *w, guint len, double value)
{
	guint lo = 0;
	guint hi = len;

	while (lo < hi) {
		guint mid = lo + (hi - lo) / 2;
		if (w->sorted[mid] < value)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void
astra_window_evict (AstraWindow *w, AstraAggregate aggregate)
{
	guint len = astra_window_get_length (w);
	const AstraSample *oldest = astra_window_at (w, w->head);

	switch (aggregate) {
	case ASTRA_AGGREGATE_AVG:
	case ASTRA_AGGREGATE_SUM:
		astra_sum_add (&w->sum, -oldest->value);
		break;
	case ASTRA_AGGREGATE_RATE:
		if (len >= 2)
			astra_sum_add (&w->sum, -astra_counter_increase (
						    oldest->value, astra_window_at (w, w->head + 1)->value));
		break;
	case ASTRA_AGGREGATE_MIN:
	case ASTRA_AGGREGATE_MAX:
		if (w->dq_head < w->dq_tail && w->deque[w->dq_head & (w->capacity - 1)] == w->head)
			w->dq_head++;
		break;
	case ASTRA_AGGREGATE_P50:
	case ASTRA_AGGREGATE_P90:
	case ASTRA_AGGREGATE_P95:
	case ASTRA_AGGREGATE_P99: {
		guint i = astra_window_sorted_search (w, len, oldest->value);
		memmove (&w->sorted[i], &w->sorted[i + 1], (len - i - 1) * sizeof (double));
		break;
	}
	default:
		break;
	}
	w->head++;
	/* an empty window forgets the rounding its sums gathered */
	if (w->head == w->tail) {
		w->sum.sum = 0;
		w->sum.compensation = 0;
	}
}

static void
astra_window_append (AstraWindow *w, AstraAggregate aggregate, gint64 ts, double value)
{
	guint len = astra_window_get_length (w);
	AstraSample *sample;

	switch (aggregate) {
	case ASTRA_AGGREGATE_AVG:
	case ASTRA_AGGREGATE_SUM:
		astra_sum_add (&w->sum, value);
		break;
	case ASTRA_AGGREGATE_RATE:
		if (len >= 1)
			astra_sum_add (
			    &w->sum, astra_counter_increase (astra_window_at (w, w->tail - 1)->value, value));
		break;
	case ASTRA_AGGREGATE_MIN:
	case ASTRA_AGGREGATE_MAX: {
		guint mask = w->capacity - 1;
		while (w->dq_head < w->dq_tail) {
			double back = astra_window_at (w, w->deque[(w->dq_tail - 1) & mask])->value;
			if (aggregate == ASTRA_AGGREGATE_MIN ? back < value : back > value)
				break;
			w->dq_tail--;
		}
		w->deque[w->dq_tail & mask] = w->tail;
		w->dq_tail++;
		break;
	}
	case ASTRA_AGGREGATE_P50:
	case ASTRA_AGGREGATE_P90:
	case ASTRA_AGGREGATE_P95:
	case ASTRA_AGGREGATE_P99: {
		guint i = astra_window_sorted_search (w, len, value);
		memmove (&w->sorted[i + 1], &w->sorted[i], (len - i) * sizeof (double));
		w->sorted[i] = value;
		break;
	}
	default:
		break;
	}
	sample = astra_window_at (w, w->tail);
	sample->ts = ts;
	sample->value = value;
	w->tail++;
}

static double
astra_window_percentile (const AstraWindow *w, guint len, double q)
{
	double rank = q * (double) (len - 1);
	guint lo = (guint) rank;
	double frac = rank - (double) lo;

	if (lo + 1 >= len)
		return w->sorted[len - 1];
	return w->sorted[lo] + (w->sorted[lo + 1] - w->sorted[lo]) * frac;
}

/* adds a sample (ts never older than the newest) and computes the aggregate; FALSE if it has no value */
static gboolean
astra_window_push (AstraWindow *w,
		   AstraAggregate aggregate,
		   gint64 window_us,
		   gint64 ts,
		   double value,
		   double *out,
		   gsize *memory)
{
	guint len;

	if (astra_window_get_length (w) >= ASTRA_RULE_ENGINE_MAX_WINDOW_SAMPLES)
		astra_window_evict (w, aggregate);
	while (w->head < w->tail && astra_window_at (w, w->head)->ts <= ts - window_us)
		astra_window_evict (w, aggregate);
	len = astra_window_get_length (w);
	if (len == w->capacity || (w->capacity > 4 * ASTRA_WINDOW_MIN_CAPACITY && len < w->capacity / 4)) {
		gsize before = astra_window_get_size (w);
		astra_window_resize (w, len == w->capacity ? w->capacity * 2 : w->capacity / 2);
		*memory += astra_window_get_size (w) - before;
	}
	astra_window_append (w, aggregate, ts, value);
	len++;

	switch (aggregate) {
	case ASTRA_AGGREGATE_AVG:
		*out = astra_sum_get (&w->sum) / len;
		break;
	case ASTRA_AGGREGATE_SUM:
		*out = astra_sum_get (&w->sum);
		break;
	case ASTRA_AGGREGATE_COUNT:
		*out = len;
		break;
	case ASTRA_AGGREGATE_MIN:
	case ASTRA_AGGREGATE_MAX:
		*out = astra_window_at (w, w->deque[w->dq_head & (w->capacity - 1)])->value;
		break;
	case ASTRA_AGGREGATE_RATE: {
		gint64 dt = astra_window_at (w, w->tail - 1)->ts - astra_window_at (w, w->head)->ts;
		if (len < 2 || dt <= 0)
			return FALSE;
		*out = astra_sum_get (&w->sum) / ((double) dt / G_USEC_PER_SEC);
		break;
	}
	case ASTRA_AGGREGATE_P50:
		*out = astra_window_percentile (w, len, 0.50);
		break;
	case ASTRA_AGGREGATE_P90:
		*out = astra_window_percentile (w, len, 0.90);
		break;
	case ASTRA_AGGREGATE_P95:
		*out = astra_window_percentile (w, len, 0.95);
		break;
	case ASTRA_AGGREGATE_P99:
		*out = astra_window_percentile (w, len, 0.99);
		break;
	default:
		*out = value;
		break;
	}
	return isfinite (*out);
}

/* ---- formatting ---- */

/**
 * astra_rule_engine_format_value:
 * @value: a finite value
 *
 * Formats a value briefly, for summaries: integers as they are (below
 * 1e15), else two decimals from 1 up, one from 100 up, and three significant
 * digits below 1, without trailing zeros: `1234`, `12.35`, `123.5`, `0.0123`.
 *
 * Returns: (transfer full): the text
 *
 * Since: 1.0
 */
char *
astra_rule_engine_format_value (double value)
{
	double a = fabs (value);
	char *str;
	char *dot;

	if (value == 0)
		return g_strdup ("0");
	if (!isfinite (value) || a >= 1e15)
		return g_strdup_printf ("%g", value);
	if (value == floor (value))
		return g_strdup_printf ("%.0f", value);
	if (a >= 100)
		str = g_strdup_printf ("%.1f", value);
	else if (a >= 1)
		str = g_strdup_printf ("%.2f", value);
	else
		str = g_strdup_printf ("%.3g", value);
	/* %g may choose an exponent form for tiny values: leave those alone */
	if (strchr (str, 'e') != NULL)
		return str;
	dot = strchr (str, '.');
	if (dot != NULL) {
		char *end = str + strlen (str) - 1;
		while (end > dot && *end == '0')
			*end-- = '\0';
		if (end == dot)
			*end = '\0';
	}
	return str;
}

/* at most max_chars characters of a UTF-8 string */
static char *
astra_utf8_truncate (const char *str, glong max_chars)
{
	if (g_utf8_strlen (str, -1) <= max_chars)
		return g_strdup (str);
	return g_utf8_substring (str, 0, max_chars);
}

static gboolean
astra_is_short_name (const char *str)
{
	return str != NULL && str[0] != '\0' && g_utf8_strlen (str, -1) <= ASTRA_EVENT_MAX_NAME_CHARS;
}

/* ---- the engine ---- */

static void
astra_rule_engine_memory_add (AstraRuleEngine *self, gssize delta)
{
	self->memory += delta;
}

static gsize
astra_alert_get_size (const char *alert_id)
{
	return sizeof (AstraAlert) + strlen (alert_id) + 1 + ASTRA_TIMER_SIZE;
}

static gsize
astra_series_state_get_size (guint n_evals)
{
	return sizeof (AstraSeriesState) + n_evals * sizeof (AstraEval);
}

static gboolean
astra_rule_engine_db_ensure (AstraRuleEngine *self, GError **error)
{
	if (self->db == NULL || self->db_ready)
		return TRUE;
	if (!astra_state_db_ensure_schema (self->db, ASTRA_RULE_ENGINE_DB_MODULE, ASTRA_RULE_ENGINE_DB_VERSION,
					   "CREATE TABLE IF NOT EXISTS alerts ("
					   "alert_id TEXT PRIMARY KEY,"
					   "rule TEXT NOT NULL,"
					   "fingerprint TEXT NOT NULL,"
					   "metric TEXT NOT NULL,"
					   "labels TEXT NOT NULL,"
					   "state INTEGER NOT NULL,"
					   "severity INTEGER NOT NULL,"
					   "no_data INTEGER NOT NULL,"
					   "silent INTEGER NOT NULL,"
					   "since_us INTEGER NOT NULL,"
					   "started_us INTEGER NOT NULL,"
					   "last_sent_us INTEGER NOT NULL,"
					   "trip_stopped_us INTEGER NOT NULL,"
					   "value REAL NOT NULL,"
					   "above_high INTEGER NOT NULL,"
					   "data TEXT,"
					   "webhooks TEXT)",
					   error))
		return FALSE;
	self->db_ready = TRUE;
	return TRUE;
}

static inline AstraEval *
astra_alert_get_eval (AstraAlert *alert)
{
	return &alert->sstate->evals[alert->eval_index];
}

/* the canonical text of node, which it takes */
static char *
astra_json_node_to_string (JsonNode *node)
{
	g_autoptr(JsonNode) owned = node;
	g_autoptr(GString) str = g_string_new (NULL);

	if (!astra_json_append (str, owned, NULL))
		return NULL;
	return g_string_free (g_steal_pointer (&str), FALSE);
}

static char *
astra_json_object_to_string (JsonObject *object)
{
	return astra_json_node_to_string (json_node_init_object (json_node_alloc (), object));
}

static char *
astra_json_strv_to_string (const char *const *strv)
{
	g_autoptr(JsonArray) array = json_array_new ();

	for (guint i = 0; strv[i] != NULL; i++)
		json_array_add_string_element (array, strv[i]);
	return astra_json_node_to_string (json_node_init_array (json_node_alloc (), array));
}

static char *
astra_series_labels_to_string (const AstraSeries *series)
{
	g_autoptr(JsonObject) object = json_object_new ();

	for (guint i = 0; i < series->n_labels; i++)
		json_object_set_string_member (object, series->labels[i].name, series->labels[i].value);
	return astra_json_object_to_string (object);
}

/* writes the alert's row (or deletes it) in this main-loop iteration's transaction */
static void
astra_rule_engine_persist (AstraRuleEngine *self, AstraAlert *alert, JsonObject *sent_data)
{
	g_autoptr(GError) error_local = NULL;
	const AstraRule *rule = astra_alert_get_eval (alert)->rule;
	g_autofree char *labels = NULL;
	g_autofree char *data = NULL;
	g_autofree char *webhooks = NULL;
	sqlite3_stmt *stmt;
	int rc;

	if (self->db == NULL)
		return;
	if (!astra_rule_engine_db_ensure (self, &error_local)) {
		g_warning ("%s", error_local->message);
		return;
	}
	astra_state_db_begin (self->db);
	labels = astra_series_labels_to_string (alert->sstate->series);
	if (sent_data != NULL)
		data = astra_json_object_to_string (sent_data);
	if (rule->webhooks != NULL)
		webhooks = astra_json_strv_to_string ((const char *const *) rule->webhooks);
	/* the last event data is kept unless a new one is given */
	stmt = astra_state_db_prepare (
	    self->db,
	    "INSERT INTO alerts (alert_id, rule, fingerprint, metric, labels, state, "
	    "severity, no_data, silent, since_us, started_us, last_sent_us, "
	    "trip_stopped_us, value, above_high, data, webhooks) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17) "
	    "ON CONFLICT (alert_id) DO UPDATE SET rule = excluded.rule, "
	    "fingerprint = excluded.fingerprint, metric = excluded.metric, "
	    "labels = excluded.labels, state = excluded.state, severity = excluded.severity, "
	    "no_data = excluded.no_data, silent = excluded.silent, since_us = excluded.since_us, "
	    "started_us = excluded.started_us, last_sent_us = excluded.last_sent_us, "
	    "trip_stopped_us = excluded.trip_stopped_us, value = excluded.value, "
	    "above_high = excluded.above_high, "
	    "data = COALESCE (excluded.data, alerts.data), webhooks = excluded.webhooks",
	    &error_local);
	if (stmt == NULL) {
		g_warning ("%s", error_local->message);
		return;
	}
	sqlite3_bind_text (stmt, 1, alert->alert_id, -1, SQLITE_STATIC);
	sqlite3_bind_text (stmt, 2, rule->name, -1, SQLITE_STATIC);
	sqlite3_bind_text (stmt, 3, rule->fingerprint != NULL ? rule->fingerprint : "", -1, SQLITE_STATIC);
	sqlite3_bind_text (stmt, 4, alert->sstate->series->metric, -1, SQLITE_STATIC);
	sqlite3_bind_text (stmt, 5, labels, -1, SQLITE_STATIC);
	sqlite3_bind_int (stmt, 6, alert->state);
	sqlite3_bind_int (stmt, 7, alert->severity);
	sqlite3_bind_int (stmt, 8, alert->no_data);
	sqlite3_bind_int (stmt, 9, alert->silent);
	sqlite3_bind_int64 (stmt, 10, alert->since_us);
	sqlite3_bind_int64 (stmt, 11, alert->started_us);
	sqlite3_bind_int64 (stmt, 12, alert->last_sent_us);
	sqlite3_bind_int64 (stmt, 13, alert->trip_stopped_us);
	sqlite3_bind_double (stmt, 14, alert->value);
	sqlite3_bind_int (stmt, 15, alert->above_high);
	if (data != NULL)
		sqlite3_bind_text (stmt, 16, data, -1, SQLITE_STATIC);
	if (webhooks != NULL)
		sqlite3_bind_text (stmt, 17, webhooks, -1, SQLITE_STATIC);
	rc = sqlite3_step (stmt);
	sqlite3_reset (stmt);
	sqlite3_clear_bindings (stmt);
	if (!astra_state_db_check (self->db, rc, &error_local))
		g_warning ("saving alert %s: %s", alert->alert_id, error_local->message);
}

static void
astra_rule_engine_unpersist (AstraRuleEngine *self, const char *alert_id)
{
	g_autoptr(GError) error_local = NULL;
	sqlite3_stmt *stmt;
	int rc;

	if (self->db == NULL)
		return;
	if (!astra_rule_engine_db_ensure (self, &error_local)) {
		g_warning ("%s", error_local->message);
		return;
	}
	astra_state_db_begin (self->db);
	stmt = astra_state_db_prepare (self->db, "DELETE FROM alerts WHERE alert_id = ?1", &error_local);
	if (stmt == NULL) {
		g_warning ("%s", error_local->message);
		return;
	}
	sqlite3_bind_text (stmt, 1, alert_id, -1, SQLITE_STATIC);
	rc = sqlite3_step (stmt);
	sqlite3_reset (stmt);
	sqlite3_clear_bindings (stmt);
	if (!astra_state_db_check (self->db, rc, &error_local))
		g_warning ("removing alert %s: %s", alert_id, error_local->message);
}

static char *
astra_rule_engine_make_alert_id (const AstraRule *rule, const AstraSeries *series)
{
	g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
	guint8 digest[32];
	gsize digest_len = sizeof (digest);
	GString *str = g_string_sized_new (40);

	/* each part with its terminator, so ("ab","c") and ("a","bc") differ */
	g_checksum_update (checksum, (const guchar *) rule->name, strlen (rule->name) + 1);
	g_checksum_update (checksum, (const guchar *) series->metric, strlen (series->metric) + 1);
	for (guint i = 0; i < series->n_labels; i++) {
		g_checksum_update (checksum, (const guchar *) series->labels[i].name,
				   strlen (series->labels[i].name) + 1);
		g_checksum_update (checksum, (const guchar *) series->labels[i].value,
				   strlen (series->labels[i].value) + 1);
	}
	g_checksum_get_digest (checksum, digest, &digest_len);
	g_string_append (str, "alrt_");
	for (guint i = 0; i < 16; i++)
		g_string_append_printf (str, "%02x", digest[i]);
	return g_string_free (str, FALSE);
}

static const AstraAgentInfo *
astra_rule_engine_lookup_agent (AstraRuleEngine *self, const char *agent_id)
{
	if (self->agent_lookup == NULL || agent_id == NULL)
		return NULL;
	return self->agent_lookup (agent_id, self->agent_lookup_data);
}

/* the severity a no-data alert fires with: the highest the rule has */
static AstraSeverity
astra_rule_get_top_severity (const AstraRule *rule)
{
	return rule->critical.op != ASTRA_COMPARE_NONE ? ASTRA_SEVERITY_CRITICAL : ASTRA_SEVERITY_WARNING;
}

static const AstraCondition *
astra_rule_get_condition (const AstraRule *rule, AstraSeverity severity)
{
	if (severity == ASTRA_SEVERITY_CRITICAL && rule->critical.op != ASTRA_COMPARE_NONE)
		return &rule->critical;
	if (rule->warning.op != ASTRA_COMPARE_NONE)
		return &rule->warning;
	return &rule->critical;
}

static inline AstraSeverity
astra_rule_trip (const AstraRule *rule, double value)
{
	if (rule->critical.op != ASTRA_COMPARE_NONE && astra_condition_holds (&rule->critical, value))
		return ASTRA_SEVERITY_CRITICAL;
	if (rule->warning.op != ASTRA_COMPARE_NONE && astra_condition_holds (&rule->warning, value))
		return ASTRA_SEVERITY_WARNING;
	return ASTRA_TRIP_NONE;
}

static inline gboolean
astra_rule_clears (const AstraRule *rule, AstraSeverity trip, double value)
{
	if (rule->clear.op == ASTRA_COMPARE_NONE)
		return trip == ASTRA_TRIP_NONE;
	return trip == ASTRA_TRIP_NONE && astra_condition_holds (&rule->clear, value);
}

/* what an alert's texts (event data, summary, description) say of it */
typedef struct {
	const AstraRule *rule;
	const AstraSeries *series;
	const AstraAgentInfo *agent; /* (nullable): the series' agent, if the lookup knows it */
	const char *hostname;
	const char *severity;
	char *value;
	char *threshold;
	char *condition; /* "> 100", "no data for 5m" */
	double threshold_value;
} AstraTemplateContext;

static void
astra_template_context_clear (AstraTemplateContext *ctx)
{
	g_free (ctx->value);
	g_free (ctx->threshold);
	g_free (ctx->condition);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (AstraTemplateContext, astra_template_context_clear)

static const char *
astra_template_lookup_cb (const char *name, gpointer user_data)
{
	const AstraTemplateContext *ctx = user_data;

	if (g_strcmp0 (name, "value") == 0)
		return ctx->value;
	if (g_strcmp0 (name, "threshold") == 0)
		return ctx->threshold;
	if (g_strcmp0 (name, "hostname") == 0)
		return ctx->hostname;
	if (g_strcmp0 (name, "metric") == 0)
		return ctx->series->metric;
	if (g_strcmp0 (name, "rule") == 0)
		return ctx->rule->name;
	if (g_strcmp0 (name, "severity") == 0)
		return ctx->severity;
	/* the rule's own labels win, as in the event's labels */
	if (ctx->rule->extra_labels != NULL) {
		for (guint i = 0; i < ctx->rule->extra_labels->len; i++) {
			const AstraLabel *label = g_ptr_array_index (ctx->rule->extra_labels, i);
			if (g_strcmp0 (label->name, name) == 0)
				return label->value;
		}
	}
	return astra_series_get_label (ctx->series, name);
}

typedef enum {
	ASTRA_ALERT_EVENT_TRIGGERED,
	ASTRA_ALERT_EVENT_RESOLVED,
} AstraAlertEventKind;

/* the condition an alert is in as text ("> 100", "no data for 5m"), and the threshold it crossed;
 * an outside LOW..HIGH condition names the bound the value went beyond */
static char *
astra_alert_describe_condition (AstraAlert *alert, const AstraRule *rule, double *threshold)
{
	const AstraCondition *condition;
	gboolean above_high;

	if (alert->no_data) {
		g_autofree char *duration = astra_format_duration (rule->no_data_us);
		*threshold = (double) rule->no_data_us / G_USEC_PER_SEC;
		return g_strdup_printf ("no data for %s", duration);
	}
	condition = astra_rule_get_condition (rule, alert->severity);
	above_high = alert->above_high_known
			 ? alert->above_high
			 : condition->op == ASTRA_COMPARE_OUTSIDE && alert->value > condition->high;
	*threshold = above_high ? condition->high : condition->threshold;
	return g_strdup (condition->text != NULL ? condition->text : "?");
}

/* the host an alert is about: the series' hostname, else its agent's, else its host label */
static const char *
astra_rule_engine_alert_hostname (AstraRuleEngine *self, const AstraSeries *series, const AstraAgentInfo **agent)
{
	const char *agent_id = astra_series_get_label (series, "agent_id");
	const char *hostname = astra_series_get_label (series, "hostname");

	*agent = NULL;
	if (agent_id != NULL && agent_id[0] != '\0')
		*agent = astra_rule_engine_lookup_agent (self, agent_id);
	if ((hostname == NULL || hostname[0] == '\0') && *agent != NULL)
		hostname = (*agent)->hostname;
	if (hostname == NULL || hostname[0] == '\0')
		hostname = astra_series_get_label (series, "host");
	return hostname;
}

/* the alert as its texts show it now */
static void
astra_template_context_init (AstraTemplateContext *ctx, AstraRuleEngine *self, AstraAlert *alert)
{
	ctx->rule = astra_alert_get_eval (alert)->rule;
	ctx->series = alert->sstate->series;
	ctx->hostname = astra_rule_engine_alert_hostname (self, ctx->series, &ctx->agent);
	ctx->severity = astra_severity_to_string (alert->severity);
	ctx->condition = astra_alert_describe_condition (alert, ctx->rule, &ctx->threshold_value);
	ctx->value = astra_rule_engine_format_value (alert->value);
	ctx->threshold = astra_rule_engine_format_value (ctx->threshold_value);
}

/* the summary the alert's events carry: the rule's template, or a line of its own */
static char *
astra_rule_engine_render_summary (const AstraTemplateContext *ctx)
{
	g_autofree char *text = NULL;

	if (ctx->rule->summary == NULL)
		return g_strdup_printf ("%s %s on %s: %s %s", ctx->rule->name, ctx->severity, ctx->series->metric,
					ctx->value, ctx->condition);
	text = astra_rule_render_text (ctx->rule->summary, astra_template_lookup_cb, (gpointer) ctx);
	return astra_utf8_truncate (text, ASTRA_EVENT_MAX_SUMMARY_CHARS);
}

/* builds and sends alert.triggered or alert.resolved; returns the data sent (for persistence) */
static JsonObject *
astra_rule_engine_emit (AstraRuleEngine *self, AstraAlert *alert, AstraAlertEventKind kind)
{
	AstraEval *eval = astra_alert_get_eval (alert);
	const AstraRule *rule = eval->rule;
	const AstraSeries *series = alert->sstate->series;
	gint64 now = astra_clock_now (self->clock);
	g_autoptr(JsonObject) data = json_object_new ();
	g_autoptr(JsonObject) labels = json_object_new ();
	g_autoptr(GError) error_local = NULL;
	g_autoptr(AstraEvent) event = NULL;
	g_autofree char *started_at = NULL;
	g_autofree char *summary = NULL;
	const char *agent_id = astra_series_get_label (series, "agent_id");
	const char *tenant_id = astra_series_get_label (series, "tenant_id");
	g_auto(AstraTemplateContext) ctx = { 0 };
	guint j = 0;

	if (!alert->no_data) {
		const AstraCondition *condition = astra_rule_get_condition (rule, alert->severity);
		/* outside LOW..HIGH: the bound the value went beyond when it was sent, kept for the resolve */
		if (kind == ASTRA_ALERT_EVENT_TRIGGERED || !alert->above_high_known)
			alert->above_high =
			    condition->op == ASTRA_COMPARE_OUTSIDE && alert->value > condition->high;
		alert->above_high_known = TRUE;
	}
	astra_template_context_init (&ctx, self, alert);

	if ((tenant_id == NULL || tenant_id[0] == '\0') && ctx.agent != NULL)
		tenant_id = ctx.agent->tenant_id;

	/* the series' labels and the rule's, both sorted by name, the rule's winning */
	for (guint i = 0;
	     i < series->n_labels || (rule->extra_labels != NULL && j < rule->extra_labels->len);) {
		const AstraLabel *a = i < series->n_labels ? &series->labels[i] : NULL;
		const AstraLabel *b = rule->extra_labels != NULL && j < rule->extra_labels->len
					  ? g_ptr_array_index (rule->extra_labels, j)
					  : NULL;
		const AstraLabel *take;
		g_autofree char *value = NULL;
		int cmp = a == NULL ? 1 : b == NULL ? -1 : strcmp (a->name, b->name);

		if (cmp < 0) {
			take = a;
			i++;
		} else {
			take = b;
			j++;
			if (cmp == 0)
				i++;
		}
		value = astra_utf8_truncate (take->value, ASTRA_EVENT_MAX_LABEL_CHARS);
		json_object_set_string_member (labels, take->name, value);
	}

	started_at = astra_clock_format_time (alert->started_us);

	json_object_set_string_member (data, "alert_id", alert->alert_id);
	json_object_set_string_member (data, "rule", rule->name);
	json_object_set_string_member (data, "severity", ctx.severity);
	json_object_set_string_member (data, "state",
				       kind == ASTRA_ALERT_EVENT_TRIGGERED ? "firing" : "resolved");
	json_object_set_string_member (data, "metric", series->metric);
	json_object_set_double_member (data, "value", alert->value);
	json_object_set_double_member (data, "threshold", ctx.threshold_value);
	json_object_set_string_member (data, "condition", ctx.condition);
	json_object_set_object_member (data, "labels", json_object_ref (labels));
	if (astra_is_short_name (agent_id))
		json_object_set_string_member (data, "agent_id", agent_id);
	if (astra_is_short_name (ctx.hostname))
		json_object_set_string_member (data, "hostname", ctx.hostname);
	if (astra_is_short_name (tenant_id))
		json_object_set_string_member (data, "tenant_id", tenant_id);
	summary = astra_rule_engine_render_summary (&ctx);
	json_object_set_string_member (data, "summary", summary);
	if (rule->description != NULL) {
		g_autofree char *description =
		    astra_rule_render_text (rule->description, astra_template_lookup_cb, &ctx);
		json_object_set_string_member (data, "description", description);
	}
	json_object_set_string_member (data, "started_at", started_at);
	if (kind == ASTRA_ALERT_EVENT_RESOLVED) {
		g_autofree char *resolved_at = astra_clock_format_time (now);
		json_object_set_string_member (data, "resolved_at", resolved_at);
		json_object_set_double_member (data, "duration_s",
					       (double) MAX (now - alert->started_us, 0) / G_USEC_PER_SEC);
	}

	event = astra_event_new (kind == ASTRA_ALERT_EVENT_TRIGGERED ? ASTRA_EVENT_KIND_ALERT_TRIGGERED
								     : ASTRA_EVENT_KIND_ALERT_RESOLVED,
				 now / G_USEC_PER_SEC, data, &error_local);
	if (event == NULL) {
		g_warning ("rule %s: alert %s: cannot build the event: %s", rule->name, alert->alert_id,
			   error_local->message);
		return NULL;
	}
	if (self->sink != NULL)
		self->sink (event, (const char *const *) rule->webhooks, self->sink_data);
	return g_steal_pointer (&data);
}

/* arms the alert's one timer for its next deadline, or disarms it */
static void
astra_rule_engine_alert_rearm (AstraRuleEngine *self, AstraAlert *alert)
{
	const AstraRule *rule = astra_alert_get_eval (alert)->rule;
	gint64 now = astra_clock_now (self->clock);
	gint64 deadline = G_MAXINT64;

	if (alert->state == ASTRA_ALERT_STATE_PENDING) {
		if (alert->since_us + rule->for_us > now)
			deadline = alert->since_us + rule->for_us;
	} else if (alert->state == ASTRA_ALERT_STATE_FIRING) {
		if (rule->repeat_us > 0)
			deadline = alert->last_sent_us + rule->repeat_us;
		if (!alert->silent && alert->trip_stopped_us != 0 && alert->clear_holds)
			deadline = MIN (deadline, alert->trip_stopped_us + rule->keep_firing_for_us);
	}
	if (deadline == G_MAXINT64) {
		astra_timer_cancel (alert->timer);
		return;
	}
	if (!astra_timer_is_scheduled (alert->timer) || astra_timer_get_deadline (alert->timer) != deadline)
		astra_timer_schedule (alert->timer, deadline);
}

static AstraAlert *
astra_rule_engine_alert_new (AstraRuleEngine *self,
			     AstraSeriesState *sstate,
			     guint eval_index,
			     char *alert_id)
{
	AstraAlert *alert = g_new0 (AstraAlert, 1);

	alert->sstate = sstate;
	alert->eval_index = eval_index;
	alert->alert_id = alert_id;
	alert->timer = astra_timer_new (self->clock, astra_rule_engine_alert_timer_cb, alert);
	sstate->evals[eval_index].alert = alert;
	g_hash_table_insert (self->alerts, alert->alert_id, alert);
	astra_rule_engine_memory_add (self, astra_alert_get_size (alert_id));
	return alert;
}

/* forgets the alert (no event): the caller sent what had to be sent */
static void
astra_rule_engine_alert_free (AstraRuleEngine *self, AstraAlert *alert)
{
	astra_alert_get_eval (alert)->alert = NULL;
	if (alert->state == ASTRA_ALERT_STATE_FIRING)
		self->n_firing--;
	if (alert->silent)
		alert->sstate->n_silent--;
	g_hash_table_remove (self->alerts, alert->alert_id);
	astra_rule_engine_memory_add (self, -(gssize) astra_alert_get_size (alert->alert_id));
	astra_timer_free (alert->timer);
	g_free (alert->alert_id);
	g_free (alert);
}

/* sends alert.resolved if it fired, and forgets it here and on disk */
static void
astra_rule_engine_alert_end (AstraRuleEngine *self, AstraAlert *alert)
{
	g_autoptr(JsonObject) sent = NULL;

	if (alert->state == ASTRA_ALERT_STATE_FIRING)
		sent = astra_rule_engine_emit (self, alert, ASTRA_ALERT_EVENT_RESOLVED);
	astra_rule_engine_unpersist (self, alert->alert_id);
	astra_rule_engine_alert_free (self, alert);
}

static void
astra_rule_engine_alert_fire (AstraRuleEngine *self, AstraAlert *alert, AstraSeverity severity)
{
	g_autoptr(JsonObject) sent = NULL;
	gint64 now = astra_clock_now (self->clock);

	alert->state = ASTRA_ALERT_STATE_FIRING;
	alert->severity = severity;
	alert->started_us = now;
	alert->last_sent_us = now;
	alert->trip_stopped_us = 0;
	alert->clear_holds = FALSE;
	self->n_firing++;
	sent = astra_rule_engine_emit (self, alert, ASTRA_ALERT_EVENT_TRIGGERED);
	astra_rule_engine_persist (self, alert, sent);
	astra_rule_engine_alert_rearm (self, alert);
}

/* firing again: escalation or repeat */
static void
astra_rule_engine_alert_resend (AstraRuleEngine *self, AstraAlert *alert)
{
	g_autoptr(JsonObject) sent = NULL;

	alert->last_sent_us = astra_clock_now (self->clock);
	sent = astra_rule_engine_emit (self, alert, ASTRA_ALERT_EVENT_TRIGGERED);
	astra_rule_engine_persist (self, alert, sent);
	astra_rule_engine_alert_rearm (self, alert);
}

static void
astra_rule_engine_alert_timer_cb (AstraTimer *timer, gpointer user_data)
{
	AstraAlert *alert = user_data;
	AstraSeriesState *sstate = alert->sstate;
	AstraRuleEngine *self = sstate->engine;
	const AstraRule *rule = astra_alert_get_eval (alert)->rule;
	gint64 now = astra_clock_now (self->clock);

	if (alert->state == ASTRA_ALERT_STATE_PENDING) {
		/* `for` has passed: fire if the latest value still trips, else with the next that does */
		if (alert->trip_holds && alert->confirmed && now >= alert->since_us + rule->for_us)
			astra_rule_engine_alert_fire (self, alert, alert->severity);
		return;
	}
	if (!alert->silent && alert->trip_stopped_us != 0 && alert->clear_holds &&
	    now >= alert->trip_stopped_us + rule->keep_firing_for_us) {
		astra_rule_engine_alert_end (self, alert);
		return;
	}
	if (rule->repeat_us > 0 && now >= alert->last_sent_us + rule->repeat_us) {
		astra_rule_engine_alert_resend (self, alert);
		return;
	}
	astra_rule_engine_alert_rearm (self, alert);
}

/* the time no-data counts from: the last sample, or later, the agent coming back */
static gint64
astra_series_state_get_nodata_base (AstraSeriesState *sstate)
{
	AstraRuleEngine *self = sstate->engine;
	gint64 base = sstate->nodata_base_us;
	const char *agent_id;
	gint64 *online;

	if (g_hash_table_size (self->agent_online) == 0)
		return base;
	agent_id = astra_series_get_label (sstate->series, "agent_id");
	if (agent_id == NULL)
		return base;
	online = g_hash_table_lookup (self->agent_online, agent_id);
	return online != NULL ? MAX (base, *online) : base;
}

static gboolean
astra_series_state_is_inhibited (AstraSeriesState *sstate, const AstraRule *rule)
{
	const AstraAgentInfo *agent;

	if (!rule->inhibit_when_agent_offline)
		return FALSE;
	agent = astra_rule_engine_lookup_agent (sstate->engine,
						astra_series_get_label (sstate->series, "agent_id"));
	return agent != NULL && !agent->online;
}

static void
astra_rule_engine_fire_no_data (AstraRuleEngine *self, AstraSeriesState *sstate, guint index)
{
	AstraEval *eval = &sstate->evals[index];
	AstraAlert *alert = eval->alert;

	if (alert == NULL) {
		alert = astra_rule_engine_alert_new (
		    self, sstate, index, astra_rule_engine_make_alert_id (eval->rule, sstate->series));
		alert->since_us = astra_clock_now (self->clock);
	}
	alert->silent = TRUE;
	sstate->n_silent++;
	alert->value = eval->has_value ? eval->value : 0;
	if (alert->state == ASTRA_ALERT_STATE_FIRING) {
		/* already firing: it says so; the next sample decides whether it ends */
		astra_rule_engine_persist (self, alert, NULL);
		astra_rule_engine_alert_rearm (self, alert);
		return;
	}
	alert->no_data = TRUE;
	astra_rule_engine_alert_fire (self, alert, astra_rule_get_top_severity (eval->rule));
}

/* checks every no-data rule of the series and arms the timer for the next deadline */
static void
astra_series_state_check_no_data (AstraSeriesState *sstate, gboolean may_fire)
{
	AstraRuleEngine *self = sstate->engine;
	gint64 now = astra_clock_now (self->clock);
	gint64 base = astra_series_state_get_nodata_base (sstate);
	gint64 next = G_MAXINT64;

	for (guint i = 0; i < sstate->n_evals; i++) {
		AstraEval *eval = &sstate->evals[i];
		gint64 due;

		if (eval->rule->no_data_us <= 0 || (eval->alert != NULL && eval->alert->silent))
			continue;
		due = base + eval->rule->no_data_us;
		if (due > now || !may_fire) {
			next = MIN (next, due);
			continue;
		}
		/* the agent's own status event says it: look again later */
		if (astra_series_state_is_inhibited (sstate, eval->rule)) {
			next = MIN (next, now + eval->rule->no_data_us);
			continue;
		}
		astra_rule_engine_fire_no_data (self, sstate, i);
	}
	if (next == G_MAXINT64)
		astra_timer_cancel (sstate->nodata_timer);
	else
		astra_timer_schedule (sstate->nodata_timer, next);
}

static void
astra_rule_engine_nodata_timer_cb (AstraTimer *timer, gpointer user_data)
{
	astra_series_state_check_no_data (user_data, TRUE);
}

/* one rule's verdict on one value of its series */
static void
astra_rule_engine_evaluate (AstraRuleEngine *self, AstraSeriesState *sstate, guint index, gint64 now)
{
	AstraEval *eval = &sstate->evals[index];
	const AstraRule *rule = eval->rule;
	AstraAlert *alert = eval->alert;
	double value = eval->value;
	AstraSeverity trip = astra_rule_trip (rule, value);
	gboolean clear;

	/* the steady path: nothing trips, nothing to end */
	if (alert == NULL) {
		if (G_LIKELY (trip == ASTRA_TRIP_NONE))
			return;
		alert = astra_rule_engine_alert_new (self, sstate, index,
						     astra_rule_engine_make_alert_id (rule, sstate->series));
		alert->state = ASTRA_ALERT_STATE_PENDING;
		alert->since_us = now;
		alert->severity = trip;
		alert->value = value;
		alert->trip_holds = TRUE;
		alert->confirmed = TRUE;
		if (rule->for_us <= 0) {
			astra_rule_engine_alert_fire (self, alert, trip);
			return;
		}
		astra_rule_engine_persist (self, alert, NULL);
		astra_rule_engine_alert_rearm (self, alert);
		return;
	}

	alert->value = value;
	clear = astra_rule_clears (rule, trip, value);

	/* data is back after no-data: a trip keeps it firing, anything else ends it */
	if (alert->silent) {
		alert->silent = FALSE;
		sstate->n_silent--;
		if (trip == ASTRA_TRIP_NONE) {
			astra_rule_engine_alert_end (self, alert);
			return;
		}
		alert->no_data = FALSE;
		alert->trip_holds = TRUE;
		alert->trip_stopped_us = 0;
		if (trip > alert->severity) {
			alert->severity = trip;
			astra_rule_engine_alert_resend (self, alert);
			return;
		}
		astra_rule_engine_persist (self, alert, NULL);
		astra_rule_engine_alert_rearm (self, alert);
		return;
	}

	if (alert->state == ASTRA_ALERT_STATE_PENDING) {
		if (trip != ASTRA_TRIP_NONE) {
			alert->severity = trip;
			alert->trip_holds = TRUE;
			alert->confirmed = TRUE;
			if (now >= alert->since_us + rule->for_us)
				astra_rule_engine_alert_fire (self, alert, trip);
		} else if (clear) {
			/* `for` interrupted */
			astra_rule_engine_alert_end (self, alert);
		} else {
			alert->trip_holds = FALSE;
		}
		return;
	}

	/* firing */
	if (trip != ASTRA_TRIP_NONE) {
		gboolean was_stopped = alert->trip_stopped_us != 0;

		alert->trip_holds = TRUE;
		alert->clear_holds = FALSE;
		alert->trip_stopped_us = 0;
		if (trip > alert->severity) {
			alert->severity = trip;
			astra_rule_engine_alert_resend (self, alert);
		} else if (was_stopped) {
			astra_rule_engine_persist (self, alert, NULL);
			astra_rule_engine_alert_rearm (self, alert);
		}
		return;
	}
	alert->trip_holds = FALSE;
	alert->clear_holds = clear;
	if (alert->trip_stopped_us == 0) {
		alert->trip_stopped_us = now;
		if (!clear || now < alert->trip_stopped_us + rule->keep_firing_for_us)
			astra_rule_engine_persist (self, alert, NULL);
	}
	if (clear && now >= alert->trip_stopped_us + rule->keep_firing_for_us) {
		astra_rule_engine_alert_end (self, alert);
		return;
	}
	astra_rule_engine_alert_rearm (self, alert);
}

static void
astra_series_state_free (AstraRuleEngine *self, AstraSeriesState *sstate)
{
	for (guint i = 0; i < sstate->n_evals; i++) {
		AstraEval *eval = &sstate->evals[i];
		if (eval->alert != NULL)
			astra_rule_engine_alert_free (self, eval->alert);
		if (eval->window != NULL) {
			astra_rule_engine_memory_add (self, -(gssize) astra_window_get_size (eval->window));
			astra_window_free (eval->window);
		}
	}
	if (sstate->nodata_timer != NULL) {
		astra_rule_engine_memory_add (self, -(gssize) ASTRA_TIMER_SIZE);
		astra_timer_free (sstate->nodata_timer);
	}
	astra_rule_engine_memory_add (self, -(gssize) astra_series_state_get_size (sstate->n_evals));
	g_free (sstate);
}

/* the rules of the current set that fit the series, into self->scratch_rules */
static void
astra_rule_engine_collect_rules (AstraRuleEngine *self, const AstraSeries *series)
{
	guint n = 0;

	g_ptr_array_set_size (self->scratch_rules, 0);
	if (self->rules == NULL)
		return;
	/* the index narrows the rules to those that could match; the matchers decide */
	astra_rule_set_collect_candidates (self->rules, series, self->scratch_rules);
	for (guint i = 0; i < self->scratch_rules->len; i++) {
		const AstraRule *rule = g_ptr_array_index (self->scratch_rules, i);
		if (rule->enabled && astra_rule_matches (rule, series))
			g_ptr_array_index (self->scratch_rules, n++) = (gpointer) rule;
	}
	g_ptr_array_set_size (self->scratch_rules, n);
}

/*
 * (Re)builds the cache of one series for the current rules. Evaluations of
 * the old cache whose rule maps (through @kept, old rule -> new rule; NULL:
 * none kept) to a rule of the new one move over with their window and
 * alert; the alerts of the others end.
 */
static AstraSeriesState *
astra_rule_engine_build_state (AstraRuleEngine *self, AstraSeries *series, GHashTable *kept)
{
	AstraSeriesState *old = series->rule_state;
	AstraSeriesState *sstate = NULL;
	gint64 now = astra_clock_now (self->clock);
	gboolean has_no_data = FALSE;
	guint n;

	astra_rule_engine_collect_rules (self, series);
	n = self->scratch_rules->len;
	series->rule_generation = self->generation;
	series->rule_state = NULL;

	if (n > 0) {
		sstate = g_malloc0 (astra_series_state_get_size (n));
		astra_rule_engine_memory_add (self, astra_series_state_get_size (n));
		sstate->engine = self;
		sstate->series = series;
		sstate->n_evals = n;
		sstate->newest_ts = old != NULL ? old->newest_ts : G_MININT64;
		sstate->nodata_base_us = old != NULL ? old->nodata_base_us : now;
		for (guint i = 0; i < n; i++) {
			const AstraRule *rule = g_ptr_array_index (self->scratch_rules, i);
			AstraEval *eval = &sstate->evals[i];

			eval->rule = rule;
			if (rule->no_data_us > 0)
				has_no_data = TRUE;
			/* the same rule (unchanged name and fingerprint) keeps what it had */
			for (guint k = 0; old != NULL && kept != NULL && k < old->n_evals; k++) {
				AstraEval *prev = &old->evals[k];
				if (prev->rule == NULL || g_hash_table_lookup (kept, prev->rule) != rule)
					continue;
				eval->window = g_steal_pointer (&prev->window);
				eval->alert = g_steal_pointer (&prev->alert);
				eval->value = prev->value;
				eval->has_value = prev->has_value;
				prev->rule = NULL;
				if (eval->alert != NULL) {
					eval->alert->sstate = sstate;
					eval->alert->eval_index = i;
					if (eval->alert->silent) {
						old->n_silent--;
						sstate->n_silent++;
					}
				}
				break;
			}
			if (eval->window == NULL && rule->aggregate != ASTRA_AGGREGATE_LAST) {
				eval->window = astra_window_new (rule->aggregate);
				astra_rule_engine_memory_add (self, astra_window_get_size (eval->window));
			}
		}
		series->rule_state = sstate;
	}

	/* what did not move over ends; the old rules are still alive for the events */
	if (old != NULL) {
		for (guint k = 0; k < old->n_evals; k++) {
			AstraEval *prev = &old->evals[k];
			if (prev->rule == NULL || prev->alert == NULL)
				continue;
			astra_rule_engine_alert_end (self, prev->alert);
		}
		astra_series_state_free (self, old);
	}

	if (has_no_data) {
		sstate->nodata_timer =
		    astra_timer_new (self->clock, astra_rule_engine_nodata_timer_cb, sstate);
		astra_rule_engine_memory_add (self, ASTRA_TIMER_SIZE);
		astra_series_state_check_no_data (sstate, FALSE);
	}
	return sstate;
}

/**
 * astra_rule_engine_push:
 * @self: an #AstraRuleEngine
 * @series: the sample's series, from the engine's store
 * @value: the value
 * @timestamp_us: the sample's time in unix microseconds, or 0 for now
 *
 * Evaluates one sample against every rule that fits its series: updates
 * each rule's aggregate, then its alert, sending alert events through the
 * sink. Non-finite values are ignored.
 *
 * Since: 1.0
 */
void
astra_rule_engine_push (AstraRuleEngine *self, AstraSeries *series, double value, gint64 timestamp_us)
{
	AstraSeriesState *sstate;
	gint64 now;
	guint n_silent;

	g_return_if_fail (ASTRA_IS_RULE_ENGINE (self));
	g_return_if_fail (series != NULL);

	sstate = series->rule_state;
	if (G_UNLIKELY (series->rule_generation != self->generation))
		sstate = astra_rule_engine_build_state (self, series, NULL);
	if (sstate == NULL || G_UNLIKELY (!isfinite (value)))
		return;

	now = astra_clock_now (self->clock);
	if (timestamp_us == 0)
		timestamp_us = now;
	/* windows need order: a late sample counts as at the newest time */
	if (timestamp_us < sstate->newest_ts)
		timestamp_us = sstate->newest_ts;
	sstate->newest_ts = timestamp_us;
	sstate->nodata_base_us = now;
	n_silent = sstate->n_silent;
	self->n_evaluations += sstate->n_evals;

	for (guint i = 0; i < sstate->n_evals; i++) {
		AstraEval *eval = &sstate->evals[i];
		const AstraRule *rule = eval->rule;

		if (eval->window == NULL) {
			eval->value = value;
			eval->has_value = TRUE;
		} else {
			eval->has_value =
			    astra_window_push (eval->window, rule->aggregate, rule->window_us, timestamp_us,
					       value, &eval->value, &self->memory);
			if (!eval->has_value)
				continue;
		}
		astra_rule_engine_evaluate (self, sstate, i, now);
	}

	/* the no-data timer only sleeps while every no-data rule waits for data: it is back */
	if (G_UNLIKELY (n_silent > 0) && sstate->nodata_timer != NULL)
		astra_series_state_check_no_data (sstate, FALSE);
}

typedef struct {
	AstraRuleEngine *self;
	GHashTable *kept;
} AstraRebuildHelper;

static void
astra_rule_engine_rebuild_cb (AstraSeries *series, gpointer user_data)
{
	AstraRebuildHelper *helper = user_data;

	astra_rule_engine_build_state (helper->self, series, helper->kept);
}

/**
 * astra_rule_engine_set_rules:
 * @self: an #AstraRuleEngine
 * @rules: the new rules
 *
 * Swaps in a new rule set and rebuilds every series' cache at once. Alerts
 * (and windows) of rules whose name and fingerprint are unchanged are kept;
 * the alerts of rules removed, disabled or changed end: alert.resolved for
 * the firing ones.
 *
 * Since: 1.0
 */
void
astra_rule_engine_set_rules (AstraRuleEngine *self, AstraRuleSet *rules)
{
	g_autoptr(AstraRuleSet) old = NULL;
	g_autoptr(GHashTable) kept = g_hash_table_new (NULL, NULL);
	AstraRebuildHelper helper = { self, kept };

	g_return_if_fail (ASTRA_IS_RULE_ENGINE (self));
	g_return_if_fail (ASTRA_IS_RULE_SET (rules));

	old = g_steal_pointer (&self->rules);
	self->rules = g_object_ref (rules);
	self->generation = ++astra_rule_engine_generation_counter;

	if (old != NULL) {
		GPtrArray *old_rules = astra_rule_set_get_rules (old);
		for (guint i = 0; i < old_rules->len; i++) {
			const AstraRule *rule = g_ptr_array_index (old_rules, i);
			const AstraRule *next = astra_rule_set_lookup (rules, rule->name);
			if (next != NULL && next->enabled &&
			    g_strcmp0 (next->fingerprint, rule->fingerprint) == 0)
				g_hash_table_insert (kept, (gpointer) rule, (gpointer) next);
		}
	}
	astra_series_store_foreach (self->store, astra_rule_engine_rebuild_cb, &helper);
}

/**
 * astra_rule_engine_get_rules:
 * @self: an #AstraRuleEngine
 *
 * Gets the current rule set.
 *
 * Returns: (transfer none) (nullable): the rules, %NULL before the first
 *   astra_rule_engine_set_rules()
 *
 * Since: 1.0
 */
AstraRuleSet *
astra_rule_engine_get_rules (AstraRuleEngine *self)
{
	g_return_val_if_fail (ASTRA_IS_RULE_ENGINE (self), NULL);
	return self->rules;
}

/* ---- restore ---- */

typedef struct {
	char *alert_id;
	char *rule;
	char *fingerprint;
	char *metric;
	char *labels;
	AstraAlertState state;
	AstraSeverity severity;
	gboolean no_data;
	gboolean silent;
	gint64 since_us;
	gint64 started_us;
	gint64 last_sent_us;
	gint64 trip_stopped_us;
	double value;
	gboolean above_high;
	char *data;
	char *webhooks;
} AstraAlertRow;

static void
astra_alert_row_free (AstraAlertRow *row)
{
	g_free (row->alert_id);
	g_free (row->rule);
	g_free (row->fingerprint);
	g_free (row->metric);
	g_free (row->labels);
	g_free (row->data);
	g_free (row->webhooks);
	g_free (row);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AstraAlertRow, astra_alert_row_free)

static GPtrArray *
astra_rule_engine_load_rows (AstraRuleEngine *self, GError **error)
{
	g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) astra_alert_row_free);
	sqlite3_stmt *stmt;
	int rc;

	stmt = astra_state_db_prepare (
	    self->db,
	    "SELECT alert_id, rule, fingerprint, metric, labels, state, severity, no_data, "
	    "silent, since_us, started_us, last_sent_us, trip_stopped_us, value, above_high, "
	    "data, webhooks FROM alerts ORDER BY alert_id",
	    error);
	if (stmt == NULL)
		return NULL;
	while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
		AstraAlertRow *row = g_new0 (AstraAlertRow, 1);
		row->alert_id = astra_state_db_column_strdup (stmt, 0);
		row->rule = astra_state_db_column_strdup (stmt, 1);
		row->fingerprint = astra_state_db_column_strdup (stmt, 2);
		row->metric = astra_state_db_column_strdup (stmt, 3);
		row->labels = astra_state_db_column_strdup (stmt, 4);
		row->state = sqlite3_column_int (stmt, 5);
		row->severity = sqlite3_column_int (stmt, 6);
		row->no_data = sqlite3_column_int (stmt, 7) != 0;
		row->silent = sqlite3_column_int (stmt, 8) != 0;
		row->since_us = sqlite3_column_int64 (stmt, 9);
		row->started_us = sqlite3_column_int64 (stmt, 10);
		row->last_sent_us = sqlite3_column_int64 (stmt, 11);
		row->trip_stopped_us = sqlite3_column_int64 (stmt, 12);
		row->value = sqlite3_column_double (stmt, 13);
		row->above_high = sqlite3_column_int (stmt, 14) != 0;
		row->data = astra_state_db_column_strdup (stmt, 15);
		row->webhooks = astra_state_db_column_strdup (stmt, 16);
		g_ptr_array_add (rows, row);
	}
	sqlite3_reset (stmt);
	if (!astra_state_db_check (self->db, rc, error))
		return NULL;
	return g_steal_pointer (&rows);
}

/* the series a row names, created in the store if need be; NULL if the row is damaged or refused */
static AstraSeries *
astra_rule_engine_row_series (AstraRuleEngine *self, const AstraAlertRow *row)
{
	g_autoptr(JsonNode) node = NULL;
	g_autoptr(GArray) labels = g_array_new (FALSE, FALSE, sizeof (AstraLabel));
	g_autoptr(GList) members = NULL;
	JsonObject *object;

	if (row->metric == NULL || row->labels == NULL)
		return NULL;
	node = astra_json_parse (row->labels, strlen (row->labels), NULL);
	if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
		return NULL;
	object = json_node_get_object (node);
	members = json_object_get_members (object);
	for (GList *l = members; l != NULL; l = l->next) {
		JsonNode *value = json_object_get_member (object, l->data);
		AstraLabel label = { l->data, NULL };
		if (!JSON_NODE_HOLDS_VALUE (value) || json_node_get_value_type (value) != G_TYPE_STRING)
			return NULL;
		label.value = json_node_get_string (value);
		g_array_append_val (labels, label);
	}
	return astra_series_store_lookup (self->store, row->metric, (const AstraLabel *) labels->data,
					  labels->len, NULL);
}

/* a firing alert whose rule is gone: alert.resolved from the data it was last sent with */
static void
astra_rule_engine_resolve_row (AstraRuleEngine *self, const AstraAlertRow *row)
{
	gint64 now = astra_clock_now (self->clock);
	g_autoptr(JsonNode) node = NULL;
	g_autoptr(JsonObject) data = json_object_new ();
	g_autoptr(AstraEvent) event = NULL;
	g_autoptr(GError) error_local = NULL;
	g_autoptr(GPtrArray) webhooks = NULL;
	g_autofree char *resolved_at = astra_clock_format_time (now);
	g_autoptr(GList) members = NULL;
	JsonObject *sent;

	if (row->data == NULL)
		return;
	node = astra_json_parse (row->data, strlen (row->data), NULL);
	if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node)) {
		g_warning ("alert %s: the saved event data is damaged: alert.resolved not sent",
			   row->alert_id);
		return;
	}
	sent = json_node_get_object (node);
	members = json_object_get_members (sent);
	for (GList *l = members; l != NULL; l = l->next) {
		const char *name = l->data;
		if (g_strcmp0 (name, "resolved_at") == 0 || g_strcmp0 (name, "duration_s") == 0)
			continue;
		json_object_set_member (data, name, json_node_copy (json_object_get_member (sent, name)));
	}
	json_object_set_string_member (data, "state", "resolved");
	json_object_set_double_member (data, "value", row->value);
	json_object_set_string_member (data, "resolved_at", resolved_at);
	json_object_set_double_member (data, "duration_s",
				       (double) MAX (now - row->started_us, 0) / G_USEC_PER_SEC);

	if (row->webhooks != NULL) {
		g_autoptr(JsonNode) wnode = astra_json_parse (row->webhooks, strlen (row->webhooks), NULL);
		webhooks = g_ptr_array_new_with_free_func (g_free);
		if (wnode != NULL && JSON_NODE_HOLDS_ARRAY (wnode)) {
			JsonArray *array = json_node_get_array (wnode);
			for (guint i = 0; i < json_array_get_length (array); i++) {
				const char *name = json_array_get_string_element (array, i);
				if (name != NULL)
					g_ptr_array_add (webhooks, g_strdup (name));
			}
		}
		g_ptr_array_add (webhooks, NULL);
	}

	event = astra_event_new (ASTRA_EVENT_KIND_ALERT_RESOLVED, now / G_USEC_PER_SEC, data, &error_local);
	if (event == NULL) {
		g_warning ("alert %s: cannot build alert.resolved: %s", row->alert_id, error_local->message);
		return;
	}
	if (self->sink != NULL)
		self->sink (event, webhooks != NULL ? (const char *const *) webhooks->pdata : NULL,
			    self->sink_data);
}

/* puts a saved alert back on its series; FALSE if its rule no longer fits */
static gboolean
astra_rule_engine_restore_row (AstraRuleEngine *self, const AstraAlertRow *row)
{
	const AstraRule *rule;
	AstraSeries *series;
	AstraSeriesState *sstate;
	AstraAlert *alert;
	guint index = G_MAXUINT;

	if (row->state != ASTRA_ALERT_STATE_PENDING && row->state != ASTRA_ALERT_STATE_FIRING)
		return FALSE;
	if (row->severity != ASTRA_SEVERITY_WARNING && row->severity != ASTRA_SEVERITY_CRITICAL)
		return FALSE;
	rule = self->rules != NULL ? astra_rule_set_lookup (self->rules, row->rule) : NULL;
	if (rule == NULL || !rule->enabled || g_strcmp0 (rule->fingerprint, row->fingerprint) != 0)
		return FALSE;
	series = astra_rule_engine_row_series (self, row);
	if (series == NULL)
		return FALSE;
	sstate = series->rule_state;
	if (series->rule_generation != self->generation)
		sstate = astra_rule_engine_build_state (self, series, NULL);
	if (sstate == NULL)
		return FALSE;
	for (guint i = 0; i < sstate->n_evals; i++) {
		if (sstate->evals[i].rule == rule) {
			index = i;
			break;
		}
	}
	if (index == G_MAXUINT || sstate->evals[index].alert != NULL)
		return FALSE;

	alert = astra_rule_engine_alert_new (self, sstate, index, g_strdup (row->alert_id));
	alert->state = row->state;
	alert->severity = row->severity;
	alert->since_us = row->since_us;
	alert->started_us = row->started_us;
	alert->last_sent_us = row->last_sent_us;
	alert->trip_stopped_us = row->trip_stopped_us;
	alert->value = row->value;
	alert->no_data = row->no_data;
	alert->above_high = row->above_high;
	alert->above_high_known = row->state == ASTRA_ALERT_STATE_FIRING;
	alert->trip_holds = row->trip_stopped_us == 0;
	/* a restored pending alert fires only on a value this process sees */
	alert->confirmed = FALSE;
	if (alert->state == ASTRA_ALERT_STATE_FIRING)
		self->n_firing++;
	if (row->silent && alert->state == ASTRA_ALERT_STATE_FIRING) {
		alert->silent = TRUE;
		sstate->n_silent++;
	}
	sstate->evals[index].value = row->value;
	sstate->evals[index].has_value = TRUE;
	astra_rule_engine_alert_rearm (self, alert);
	/* no-data counts from now: the restart itself is no silence of the series */
	sstate->nodata_base_us = astra_clock_now (self->clock);
	if (sstate->nodata_timer != NULL)
		astra_series_state_check_no_data (sstate, FALSE);
	return TRUE;
}

/**
 * astra_rule_engine_restore:
 * @self: an #AstraRuleEngine
 * @error: return location for a #GError
 *
 * Restores the pending and firing alerts saved in the state database: call
 * it once, after the first astra_rule_engine_set_rules(). Each goes back on
 * its series (created in the store) with its timers re-armed against the
 * clock; a restored pending alert fires only when a sample received after
 * the restore confirms it. Alerts whose rule is gone, disabled or changed
 * end: alert.resolved for the firing ones, from the data they were sent with.
 *
 * Returns: %TRUE on success
 *
 * Since: 1.0
 */
gboolean
astra_rule_engine_restore (AstraRuleEngine *self, GError **error)
{
	g_autoptr(GPtrArray) rows = NULL;

	g_return_val_if_fail (ASTRA_IS_RULE_ENGINE (self), FALSE);
	g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

	if (self->db == NULL)
		return TRUE;
	/* without rules every saved alert would look orphaned and be resolved */
	if (self->rules == NULL) {
		g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_FAILED,
				     "alerts can only be restored once the rules are set");
		return FALSE;
	}
	if (!astra_rule_engine_db_ensure (self, error))
		return FALSE;
	rows = astra_rule_engine_load_rows (self, error);
	if (rows == NULL)
		return FALSE;
	for (guint i = 0; i < rows->len; i++) {
		const AstraAlertRow *row = g_ptr_array_index (rows, i);

		if (g_hash_table_contains (self->alerts, row->alert_id))
			continue;
		if (astra_rule_engine_restore_row (self, row))
			continue;
		if (row->state == ASTRA_ALERT_STATE_FIRING)
			astra_rule_engine_resolve_row (self, row);
		astra_rule_engine_unpersist (self, row->alert_id);
	}
	return TRUE;
}

/**
 * astra_rule_engine_agent_online:
 * @self: an #AstraRuleEngine
 * @agent_id: the agent that came back
 *
 * Restarts the no-data clocks of the series labelled with @agent_id from
 * now: while it was offline its series' no-data alerts were held back, and
 * its samples need time to arrive again.
 *
 * Since: 1.0
 */
void
astra_rule_engine_agent_online (AstraRuleEngine *self, const char *agent_id)
{
	gint64 *when;

	g_return_if_fail (ASTRA_IS_RULE_ENGINE (self));
	g_return_if_fail (agent_id != NULL);

	/* each series' timer reads this when it falls due: nothing to walk now */
	when = g_new (gint64, 1);
	*when = astra_clock_now (self->clock);
	g_hash_table_replace (self->agent_online, g_strdup (agent_id), when);
}

/**
 * astra_alert_info_free:
 * @info: (nullable): an #AstraAlertInfo
 *
 * Frees a snapshot returned by astra_rule_engine_list_alerts().
 *
 * Since: 1.0
 */
void
astra_alert_info_free (AstraAlertInfo *info)
{
	if (info == NULL)
		return;
	g_free (info->alert_id);
	g_free (info->rule);
	g_free (info->summary);
	g_free (info);
}

static gint
astra_alert_info_compare (gconstpointer a, gconstpointer b)
{
	const AstraAlertInfo *x = *(const AstraAlertInfo *const *) a;
	const AstraAlertInfo *y = *(const AstraAlertInfo *const *) b;
	int cmp = strcmp (x->rule, y->rule);

	return cmp != 0 ? cmp : strcmp (x->alert_id, y->alert_id);
}

/* the summary an alert's events carry (or would, for a pending one), as of now */
static char *
astra_rule_engine_alert_summary (AstraRuleEngine *self, AstraAlert *alert)
{
	g_auto(AstraTemplateContext) ctx = { 0 };

	astra_template_context_init (&ctx, self, alert);
	return astra_rule_engine_render_summary (&ctx);
}

/**
 * astra_rule_engine_list_alerts:
 * @self: an #AstraRuleEngine
 *
 * Lists the pending and firing alerts, sorted by rule then alert id.
 *
 * Returns: (transfer container) (element-type AstraAlertInfo): snapshots
 *
 * Since: 1.0
 */
GPtrArray *
astra_rule_engine_list_alerts (AstraRuleEngine *self)
{
	GPtrArray *list = g_ptr_array_new_with_free_func ((GDestroyNotify) astra_alert_info_free);
	GHashTableIter iter;
	AstraAlert *alert;

	g_return_val_if_fail (ASTRA_IS_RULE_ENGINE (self), list);

	g_hash_table_iter_init (&iter, self->alerts);
	while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &alert)) {
		AstraAlertInfo *info = g_new0 (AstraAlertInfo, 1);
		info->alert_id = g_strdup (alert->alert_id);
		info->rule = g_strdup (astra_alert_get_eval (alert)->rule->name);
		info->state = alert->state;
		info->severity = alert->severity;
		info->value = alert->value;
		info->since_us =
		    alert->state == ASTRA_ALERT_STATE_FIRING ? alert->started_us : alert->since_us;
		info->series = alert->sstate->series;
		info->no_data = alert->no_data;
		info->summary = astra_rule_engine_alert_summary (self, alert);
		g_ptr_array_add (list, info);
	}
	g_ptr_array_sort (list, astra_alert_info_compare);
	return list;
}

/**
 * astra_rule_engine_get_n_firing:
 * @self: an #AstraRuleEngine
 *
 * Returns: the number of firing alerts
 *
 * Since: 1.0
 */
guint
astra_rule_engine_get_n_firing (AstraRuleEngine *self)
{
	g_return_val_if_fail (ASTRA_IS_RULE_ENGINE (self), 0);
	return self->n_firing;
}

/**
 * astra_rule_engine_get_n_evaluations:
 * @self: an #AstraRuleEngine
 *
 * Returns: the (rule, series) evaluations done so far: one per sample and
 *   rule that fits its series
 *
 * Since: 1.0
 */
guint64
astra_rule_engine_get_n_evaluations (AstraRuleEngine *self)
{
	g_return_val_if_fail (ASTRA_IS_RULE_ENGINE (self), 0);
	return self->n_evaluations;
}

/**
 * astra_rule_engine_get_memory_size:
 * @self: an #AstraRuleEngine
 *
 * Counts the bytes the engine holds for its series: caches, windows,
 * alerts and timers (allocator overhead not included).
 *
 * Returns: bytes
 *
 * Since: 1.0
 */
gsize
astra_rule_engine_get_memory_size (AstraRuleEngine *self)
{
	g_return_val_if_fail (ASTRA_IS_RULE_ENGINE (self), 0);
	return self->memory;
}

/**
 * astra_rule_engine_set_agent_lookup_func:
 * @self: an #AstraRuleEngine
 * @func: (nullable): tells what the registry knows of an agent
 * @user_data: data for @func
 *
 * Sets how the engine learns an agent's hostname, tenant and status: for
 * the events' hostname and tenant_id, and to hold back no-data alerts of
 * offline agents.
 *
 * Since: 1.0
 */
void
astra_rule_engine_set_agent_lookup_func (AstraRuleEngine *self, AstraAgentLookupFunc func, gpointer user_data)
{
	g_return_if_fail (ASTRA_IS_RULE_ENGINE (self));
	self->agent_lookup = func;
	self->agent_lookup_data = user_data;
}

static void
astra_rule_engine_release_cb (AstraSeries *series, gpointer user_data)
{
	AstraRuleEngine *self = ASTRA_RULE_ENGINE (user_data);

	if (series->rule_state != NULL && series->rule_generation == self->generation)
		astra_series_state_free (self, series->rule_state);
	if (series->rule_generation == self->generation) {
		series->rule_state = NULL;
		series->rule_generation = 0;
	}
}

static void
astra_rule_engine_finalize (GObject *object)
{
	AstraRuleEngine *self = ASTRA_RULE_ENGINE (object);

	/* the store may outlive the engine: take the caches back (alerts stay on disk) */
	if (self->generation != 0)
		astra_series_store_foreach (self->store, astra_rule_engine_release_cb, self);
	g_hash_table_unref (self->alerts);
	g_hash_table_unref (self->agent_online);
	g_ptr_array_unref (self->scratch_rules);
	g_clear_object (&self->rules);
	g_clear_object (&self->db);
	g_object_unref (self->store);
	g_object_unref (self->clock);
	G_OBJECT_CLASS (astra_rule_engine_parent_class)->finalize (object);
}

static void
astra_rule_engine_class_init (AstraRuleEngineClass *klass)
{
	G_OBJECT_CLASS (klass)->finalize = astra_rule_engine_finalize;
}

static void
astra_rule_engine_init (AstraRuleEngine *self)
{
	self->alerts = g_hash_table_new (g_str_hash, g_str_equal);
	self->agent_online = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
	self->scratch_rules = g_ptr_array_new ();
}

/**
 * astra_rule_engine_new:
 * @clock: the clock for every deadline
 * @series: the series store the samples' series come from
 * @state_db: (nullable): where pending and firing alerts are saved, or %NULL
 * @sink: (scope notified) (nullable): receives each alert event
 * @sink_data: data for @sink
 *
 * Creates an evaluator with no rules: set them with
 * astra_rule_engine_set_rules(), then call astra_rule_engine_restore().
 *
 * Returns: (transfer full): a new #AstraRuleEngine
 *
 * Since: 1.0
 */
AstraRuleEngine *
astra_rule_engine_new (AstraClock *clock,
		       AstraSeriesStore *series,
		       AstraStateDb *state_db,
		       AstraAlertSinkFunc sink,
		       gpointer sink_data)
{
	AstraRuleEngine *self;

	g_return_val_if_fail (ASTRA_IS_CLOCK (clock), NULL);
	g_return_val_if_fail (ASTRA_IS_SERIES_STORE (series), NULL);
	g_return_val_if_fail (state_db == NULL || ASTRA_IS_STATE_DB (state_db), NULL);

	self = g_object_new (ASTRA_TYPE_RULE_ENGINE, NULL);
	self->clock = g_object_ref (clock);
	self->store = g_object_ref (series);
	self->db = state_db != NULL ? g_object_ref (state_db) : NULL;
	self->sink = sink;
	self->sink_data = sink_data;
	return self;
}
