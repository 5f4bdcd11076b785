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
 */

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
	AstraSeverity severity;
	double value;
	gint64 since_us; /* pending since, or firing since */
	const AstraSeries *series;
} AstraAlertInfo;

void astra_alert_info_free (AstraAlertInfo *info);

#define ASTRA_TYPE_RULE_ENGINE (astra_rule_engine_get_type ())
G_DECLARE_FINAL_TYPE (AstraRuleEngine, astra_rule_engine, ASTRA, RULE_ENGINE, GObject)

/* state_db may be NULL (nothing persisted) */
AstraRuleEngine *astra_rule_engine_new (AstraClock *clock,
					AstraSeriesStore *series,
					AstraStateDb *state_db,
					AstraAlertSinkFunc sink,
					gpointer sink_data);
void astra_rule_engine_set_agent_lookup_func (AstraRuleEngine *self, AstraAgentLookupFunc func, gpointer user_data);
/* restores persisted alerts (call once, after the first set_rules); alerts of rules that no longer exist are resolved */
gboolean astra_rule_engine_restore (AstraRuleEngine *self, GError **error);
/* swaps in a new rule set; alerts of rules whose fingerprint is unchanged keep their state,
 * alerts of removed or changed rules are resolved */
void astra_rule_engine_set_rules (AstraRuleEngine *self, AstraRuleSet *rules);
AstraRuleSet *astra_rule_engine_get_rules (AstraRuleEngine *self);
/* one sample; timestamp_us is the sample's time (0: now) */
void astra_rule_engine_push (AstraRuleEngine *self, AstraSeries *series, double value, gint64 timestamp_us);
/* the agent came back online: no-data timers of its series restart from now */
void astra_rule_engine_agent_online (AstraRuleEngine *self, const char *agent_id);
/* pending and firing alerts (AstraAlertInfo) */
GPtrArray *astra_rule_engine_list_alerts (AstraRuleEngine *self);
guint astra_rule_engine_get_n_firing (AstraRuleEngine *self);
guint64 astra_rule_engine_get_n_evaluations (AstraRuleEngine *self);

G_END_DECLS
