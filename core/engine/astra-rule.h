/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib-object.h>

#include "astra.h"
#include "astra-series.h"

G_BEGIN_DECLS

/*
 * A threshold rule as parsed from one [rule NAME] group of a rules.d/ file.
 * Immutable once the set is built; the evaluator (astra-rule-engine.c)
 * keeps all per-series state.
 *
 *   [rule high-latency]
 *   metric = latency_ms
 *   match = target=8.8.8.8, agent_id=edge-*, region!=eu-*, env={prod,staging}
 *   aggregate = avg 5m            # last (default) | avg | min | max | sum | count | rate | p50 | p90 | p95 | p99, window
 *   warning = > 100               # > >= < <= == != , or: outside LOW..HIGH / inside LOW..HIGH
 *   critical = > 200
 *   clear = < 80                  # default: the trip condition no longer holds
 *   for = 2m
 *   keep-firing-for = 5m
 *   no-data = 10m
 *   repeat = 1h
 *   labels = team=netops, page=yes
 *   summary = Latency from {hostname} to {target} is {value} ms
 *   description = ...
 *   webhooks = ops-slack; oncall  # default: every webhook subscribed to alert events
 *   enabled = true
 *   inhibit-when-agent-offline = true
 *
 * What the parser (astra-rule.c) holds to, beyond the syntax above:
 * - Unknown, repeated and empty keys are errors, so is any group but [rule NAME]
 *   (NAME: 1 to 128 of A-Z a-z 0-9 . _ -, unique across all files). A # comment
 *   is a line of its own: GKeyFile has no comments after a value.
 * - metric is required, and warning or critical; or no-data (> 0) alone: a pure
 *   no-data rule, which fires when a matching series stops reporting, and in
 *   which aggregate, clear and for are errors (they would do nothing).
 * - clear must exclude every trip condition: no value may satisfy clear and
 *   warning (or critical) at once, checked exactly for every operator; and
 *   warning must not imply critical (it could never be seen).
 * - match: all matchers must hold. A label the series lacks reads as "" (as in
 *   Prometheus). A value with * or ? is a glob; {a,b} values are exact (a
 *   wildcard there is an error); { and } only surround a whole set; values
 *   cannot hold a comma. Matchers are stored sorted; contradictory ones
 *   (a=x, a=y) and repeated ones are errors.
 * - Numbers are finite decimals (no inf, nan or hex); condition texts are
 *   normalized ("> 1e3" -> "> 1000", the shortest text that reads back exactly).
 * - Durations: see astra_parse_duration(); at most ASTRA_RULE_MAX_DURATION_US;
 *   an aggregate window must be longer than 0.
 * - summary, description: {value} {threshold} {hostname} {metric} {rule}
 *   {severity} or {LABEL} (any valid label name, "" when the series lacks it);
 *   {{ is a literal {; an unclosed { and {} are errors. See astra_rule_render_text().
 * - labels: NAME=VALUE pairs, names unique, values not empty; stored sorted.
 * - webhooks: separated by ';' or ','; stored sorted. Booleans: true/false,
 *   yes/no, 1/0.
 */

typedef enum {
	ASTRA_MATCH_EQUAL,    /* label=value */
	ASTRA_MATCH_NOT_EQUAL, /* label!=value */
	ASTRA_MATCH_GLOB,     /* label=edge-* (value has * or ?) */
	ASTRA_MATCH_NOT_GLOB, /* label!=eu-* */
	ASTRA_MATCH_IN,       /* label={a,b,c} */
	ASTRA_MATCH_NOT_IN,   /* label!={a,b} */
} AstraMatchOp;

typedef struct {
	char *label;
	AstraMatchOp op;
	char *value;        /* EQUAL, NOT_EQUAL, and the glob text */
	GPatternSpec *glob; /* GLOB, NOT_GLOB */
	GStrv values;       /* IN, NOT_IN */
} AstraMatcher;

/* what the messages about a bad matcher say is expected, for the rules' and the silences' alike */
#define ASTRA_MATCHER_EXAMPLE "expected label=value, label!=value, label=glob* or label={a,b,c}"

/* the one matcher parser of the project (rules' match = and silences): one matcher such as
 * "agent_id=edge-*" or "env!={a,b}"; NULL with ASTRA_ERROR_INVALID_CONFIG quoting text */
AstraMatcher *astra_matcher_parse (const char *text, GError **error);
void astra_matcher_free (AstraMatcher *matcher);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AstraMatcher, astra_matcher_free)
/* value is the label's value, "" for a label that is absent. Allocates nothing for values up to 1 KiB */
gboolean astra_matcher_accepts (const AstraMatcher *matcher, const char *value);
/* the normalised text ("env={prod,staging}"), which parses back to the same matcher */
char *astra_matcher_to_string (const AstraMatcher *matcher);
/* sorts (label, operator, text) and refuses a repeated matcher or contradictory ones (label=a
 * with a matcher of that label refusing a): ASTRA_ERROR_INVALID_CONFIG "'a=x' and 'a=y' never
 * both hold: CONSEQUENCE" */
gboolean astra_matchers_sort_and_check (GPtrArray *matchers, const char *consequence, GError **error);

typedef enum {
	ASTRA_COMPARE_NONE, /* condition not set */
	ASTRA_COMPARE_GT,
	ASTRA_COMPARE_GE,
	ASTRA_COMPARE_LT,
	ASTRA_COMPARE_LE,
	ASTRA_COMPARE_EQ,
	ASTRA_COMPARE_NE,
	ASTRA_COMPARE_OUTSIDE, /* value < low || value > high */
	ASTRA_COMPARE_INSIDE,  /* low <= value <= high */
} AstraCompareOp;

typedef struct {
	AstraCompareOp op;
	double threshold; /* the bound, or low for OUTSIDE/INSIDE */
	double high;      /* OUTSIDE/INSIDE only */
	char *text;       /* as written, normalized, e.g. "> 200", "outside 10..20": the event's condition */
} AstraCondition;

typedef enum {
	ASTRA_AGGREGATE_LAST,
	ASTRA_AGGREGATE_AVG,
	ASTRA_AGGREGATE_MIN,
	ASTRA_AGGREGATE_MAX,
	ASTRA_AGGREGATE_SUM,
	ASTRA_AGGREGATE_COUNT,
	ASTRA_AGGREGATE_RATE, /* per second, from the first and last sample of the window; counter resets handled */
	ASTRA_AGGREGATE_P50,
	ASTRA_AGGREGATE_P90,
	ASTRA_AGGREGATE_P95,
	ASTRA_AGGREGATE_P99,
} AstraAggregate;

typedef struct {
	char *name;
	char *file;
	guint line; /* of the [rule NAME] header */
	char *metric;
	GPtrArray *matchers; /* AstraMatcher, all must hold */
	AstraAggregate aggregate;
	gint64 window_us; /* 0 with LAST */
	AstraCondition warning;
	AstraCondition critical;
	AstraCondition clear; /* op NONE: resolves when no trip condition holds */
	gint64 for_us;
	gint64 keep_firing_for_us;
	gint64 no_data_us; /* 0: off */
	gint64 repeat_us;  /* 0: off */
	GPtrArray *extra_labels; /* AstraLabel with owned strings, sorted by name */
	char *summary;
	char *description;
	GStrv webhooks; /* NULL: every webhook that wants the event */
	gboolean enabled;
	gboolean inhibit_when_agent_offline;
	char *fingerprint; /* hash of everything above but name/file/line: "unchanged" across reloads */
} AstraRule;

void astra_rule_free (AstraRule *rule);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AstraRule, astra_rule_free)

/* the series has the rule's metric and every matcher holds; a label the series lacks
 * reads as "" (as in Prometheus), so label= and label!=x, label!=glob* and label!={a,b}
 * match it. Allocates nothing (for label values up to 1 KiB) */
gboolean astra_rule_matches (const AstraRule *rule, const AstraSeries *series);
/* FALSE for ASTRA_COMPARE_NONE and for a NaN value, whatever the operator */
gboolean astra_condition_holds (const AstraCondition *condition, double value);

/* every rule of every *.rules file of a folder */
#define ASTRA_TYPE_RULE_SET (astra_rule_set_get_type ())
G_DECLARE_FINAL_TYPE (AstraRuleSet, astra_rule_set, ASTRA, RULE_SET, GObject)

AstraRuleSet *astra_rule_set_new (void);
/* parses every *.rules file in dir (sorted); each problem is appended to errors as
 * "FILE:LINE: rule NAME: KEY: what is wrong". A missing folder is an empty set.
 * known_webhooks, if not NULL, is checked against each rule's webhooks. Returns NULL if any error. */
AstraRuleSet *astra_rule_set_load_dir (const char *dir, const char *const *known_webhooks, GPtrArray *errors);
/* one file's text, for tests */
gboolean astra_rule_set_add_file (AstraRuleSet *self,
				  const char *path,
				  const char *text,
				  const char *const *known_webhooks,
				  GPtrArray *errors);
GPtrArray *astra_rule_set_get_rules (AstraRuleSet *self);
/* the enabled rules for a metric (possibly empty, never NULL) */
GPtrArray *astra_rule_set_lookup_metric (AstraRuleSet *self, const char *metric);
/* appends the enabled rules that could match series (exact matchers indexed), in file order */
void astra_rule_set_collect_candidates (AstraRuleSet *self, const AstraSeries *series, GPtrArray *out);
const AstraRule *astra_rule_set_lookup (AstraRuleSet *self, const char *name);

/* "5m", "90s", "1h30m", "500ms", "2d": FALSE if malformed or negative */
gboolean astra_parse_duration (const char *text, gint64 *out_us);
/* the other way: `10m`, `1h30m`, `1s500ms`, `0s` */
char *astra_format_duration (gint64 duration_us);

/* the longest for, keep-firing-for, no-data, repeat and aggregate window a rule may have */
#define ASTRA_RULE_MAX_DURATION_US (30 * G_TIME_SPAN_DAY)

/* "last", "avg", ..., "p99", as written in rule files */
const char *astra_aggregate_to_string (AstraAggregate aggregate);

/* a summary or description with each {NAME} replaced by what func returns for NAME
 * ("" for NULL: a label the series lacks) and each {{ by a literal {; func is asked
 * for value, threshold, hostname, metric, rule, severity and label names alike */
typedef const char *(*AstraRulePlaceholderFunc) (const char *name, gpointer user_data);
char *astra_rule_render_text (const char *text, AstraRulePlaceholderFunc func, gpointer user_data);

G_END_DECLS
