/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "astra.h"
#include "astra-agent-registry.h"
#include "astra-clock.h"
#include "astra-rule.h"
#include "astra-series.h"
#include "astra-state-db.h"

G_BEGIN_DECLS

/*
 * The evaluator: every sample of a series is checked against the rules
 * whose metric and matchers fit the series (one alert per rule and series).
 * Lifecycle per alert: inactive -> pending (condition holds, `for` running)
 * -> firing (alert.triggered; again on escalation to critical) -> resolved
 * (alert.resolved when the clear condition holds, after keep-firing-for) ->
 * inactive. Pending and firing alerts are persisted in the state database
 * and restored on start, so a restart neither repeats a trigger nor loses a
 * resolve. Time comes from the AstraClock (fake in tests).
 *
 * alert_id is stable per rule and series: "alrt_" + hex of a hash of the
 * rule name and the series' metric and labels.
 *
 * Cost. Which rules fit a series is worked out once per series and rule set
 * and cached in AstraSeries.rule_state (rebuilt for every series when the
 * rules change), so a sample costs the series' cached list of rules, an O(1)
 * amortized aggregate update and a condition check per rule, and allocates
 * nothing once the series' windows have grown to their steady size.
 *
 * Time. Aggregate windows run on sample timestamps; `for`, keep-firing-for,
 * repeat and no-data run on the engine's clock (conditions are evaluated
 * when a sample arrives, at the clock's now). Nothing is evaluated between
 * samples except the timers: a window does not empty by itself while no
 * samples come (no-data is the tool for silence).
 *
 * Samples. A non-finite value is ignored. A sample older than the newest
 * one of its series is taken as if at that newest timestamp: windows need
 * order, and dropping it would drop the data of an agent whose clock
 * stepped back.
 *
 * Aggregates over a window W, the samples with timestamp in (newest - W,
 * newest] (a sample exactly W old has left), at most
 * ASTRA_RULE_ENGINE_MAX_WINDOW_SAMPLES of them (the newest):
 *   last          the newest value (no window)
 *   avg sum count running sums (compensated, so a huge value leaving the
 *                 window does not swallow the small ones)
 *   min max       a monotonic deque
 *   rate          increase per second between the first and last sample of
 *                 the window; a drop is a counter reset and the new value
 *                 counts as increase (as Prometheus' rate(), without its
 *                 extrapolation); needs two samples at different times
 *   p50..p99      exact, linear interpolation between the closest ranks
 *                 (numpy's default, Prometheus' quantile_over_time) over a
 *                 sorted copy of the window (insertion costs a memmove)
 * A rule has no value for a series until its aggregate has one.
 *
 * Conditions. A value trips critical if the critical condition holds, else
 * warning if the warning condition holds. "Clear" is the rule's clear
 * condition, or by default "no trip condition holds"; a value that neither
 * trips nor clears (the hysteresis band) changes nothing but the
 * keep-firing-for clock.
 *   inactive: a trip makes it pending (since = now); with `for` 0 it fires
 *     at once.
 *   pending: a clear returns it to inactive ("for" interrupted); at since +
 *     `for` it fires if the latest value trips, else it stays pending and
 *     fires with the next value that trips. It fires with the severity of
 *     the value that fires it.
 *   firing: alert.triggered, started_at = now. A critical trip while firing
 *     as warning escalates at once (no `for`), sending alert.triggered again
 *     with severity critical; the severity never goes down while firing.
 *     When the trip stops holding, the keep-firing-for clock starts; it
 *     resolves with the first clear once keep-firing-for has passed since
 *     the trip stopped (a trip in between restarts it): alert.resolved
 *     with resolved_at, duration_s and the highest severity reached.
 *     With `repeat`, alert.triggered is sent again every `repeat` from the
 *     last one while it fires.
 *
 * No-data. A series matching a rule with no-data that gets no sample for
 * that long (on the clock, from its last sample, or from a later restore,
 * agent coming back online, or first rule set to watch it) fires the alert with condition "no data for 10m",
 * threshold the no-data seconds, value the last one, and the highest severity the rule has. A pending alert
 * fires that way too; a firing one just keeps firing. The next sample ends it: if the value trips, the alert
 * keeps firing as a threshold alert (no event unless it escalates), else it resolves at once. While the
 * series' agent (label agent_id) is offline according to the agent lookup, no-data does not fire (unless the
 * rule says inhibit-when-agent-offline = false); an alert already firing stays. Only series seen since start
 * (or restored) are watched.
 *
 * Events carry alert_id, rule, severity, state, metric, value, threshold
 * and condition (of the level that tripped), labels (the series' labels and
 * the rule's, the rule's winning), agent_id, hostname and tenant_id (from
 * the labels agent_id, hostname (else host), tenant_id, else from the agent
 * lookup), summary and description with {label} (any label; a missing one
 * is empty), {value}, {threshold}, {hostname}, {metric}, {rule} and
 * {severity} filled in, started_at, and for alert.resolved resolved_at and
 * duration_s. The event timestamp is the clock's now. They go to the sink
 * with the rule's webhooks.
 *
 * Persistence (module "alerts" of the state database): each pending and
 * firing alert, written when its state changes (not per sample), in the
 * transaction of the current main-loop iteration. Windows are not kept: after
 * a restart aggregates start from the samples received since. Restoring:
 *   - alerts of rules that are gone, disabled, changed (fingerprint) or no
 *     longer match their series are resolved (firing: alert.resolved with the
 *     event data last sent and its webhooks) or dropped (pending);
 *   - the others are attached to their series again (created in the store)
 *     and their timers re-armed against the clock: a repeat that fell due
 *     while down is sent once, a keep-firing-for that passed resolves with
 *     the next clear value;
 *   - a pending alert fires only once a sample received after the restart
 *     confirms it (its value trips) and its `for` has passed: never on the
 *     strength of a value from before the restart.
 * Reloading the rules (set_rules) keeps the state (alerts and windows) of
 * rules whose name and fingerprint are unchanged and resolves or drops the
 * alerts of the others, as a restore does.
 *
 * One engine per series store: the engine owns AstraSeries.rule_state.
 */

/* the most samples a window keeps (the newest); bounds memory and percentile cost */
#define ASTRA_RULE_ENGINE_MAX_WINDOW_SAMPLES 4096

/* where alert events go: the engine routes them, to `webhooks` only when the rule names some */
typedef void (*AstraAlertSinkFunc) (AstraEvent *event, const char *const *webhooks, gpointer user_data);
/* what the registry knows of an agent (NULL if unknown): fills {hostname} and tenant_id, and
 * inhibits no-data alerts on the series of an offline agent */
typedef const AstraAgentInfo *(*AstraAgentLookupFunc) (const char *agent_id, gpointer user_data);

typedef enum {
	ASTRA_ALERT_STATE_INACTIVE,
	ASTRA_ALERT_STATE_PENDING,
	ASTRA_ALERT_STATE_FIRING,
} AstraAlertState;

/* a snapshot of one pending or firing alert, for D-Bus ListAlerts and tests */
typedef struct {
	char *alert_id;
	char *rule;
	AstraAlertState state;
	AstraSeverity severity; /* pending: of the latest trip; firing: the highest reached */
	double value;
	gint64 since_us; /* pending since, or firing since */
	const AstraSeries *series;
	gboolean no_data; /* fired by no-data */
	char *summary;    /* as the alert's events say it (or would, for a pending one) */
} AstraAlertInfo;

void astra_alert_info_free (AstraAlertInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AstraAlertInfo, astra_alert_info_free)

#define ASTRA_TYPE_RULE_ENGINE (astra_rule_engine_get_type ())
G_DECLARE_FINAL_TYPE (AstraRuleEngine, astra_rule_engine, ASTRA, RULE_ENGINE, GObject)

/* state_db may be NULL (nothing persisted) */
AstraRuleEngine *astra_rule_engine_new (AstraClock *clock,
					AstraSeriesStore *series,
					AstraStateDb *state_db,
					AstraAlertSinkFunc sink,
					gpointer sink_data);
void astra_rule_engine_set_agent_lookup_func (AstraRuleEngine *self,
					      AstraAgentLookupFunc func,
					      gpointer user_data);
/* restores persisted alerts (call once, after the first set_rules); alerts of rules that no longer exist are
 * resolved */
gboolean astra_rule_engine_restore (AstraRuleEngine *self, GError **error);
/* swaps in a new rule set; alerts of rules whose fingerprint is unchanged keep their state,
 * alerts of removed or changed rules are resolved */
void astra_rule_engine_set_rules (AstraRuleEngine *self, AstraRuleSet *rules);
AstraRuleSet *astra_rule_engine_get_rules (AstraRuleEngine *self);
/* one sample; timestamp_us is the sample's time (0: now) */
void astra_rule_engine_push (AstraRuleEngine *self, AstraSeries *series, double value, gint64 timestamp_us);
/* the agent came back online: no-data timers of its series restart from now */
void astra_rule_engine_agent_online (AstraRuleEngine *self, const char *agent_id);
/* pending and firing alerts (AstraAlertInfo), sorted by rule then alert_id */
GPtrArray *astra_rule_engine_list_alerts (AstraRuleEngine *self);
guint astra_rule_engine_get_n_firing (AstraRuleEngine *self);
/* (rule, series) evaluations done, one per sample and rule that fits its series */
guint64 astra_rule_engine_get_n_evaluations (AstraRuleEngine *self);
/* the bytes the engine holds for series state (caches, windows, alerts, timers), for the benchmark */
gsize astra_rule_engine_get_memory_size (AstraRuleEngine *self);

/* "10m", "1h30m", "90s", "500ms": the short form of a duration, as in no-data conditions */
/* a value as {value} shows it: "12.35", "1234", "0.0123" */
char *astra_rule_engine_format_value (double value);

G_END_DECLS
