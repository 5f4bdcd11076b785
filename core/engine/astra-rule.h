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

gboolean astra_rule_matches (const AstraRule *rule, const AstraSeries *series);
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
const AstraRule *astra_rule_set_lookup (AstraRuleSet *self, const char *name);

/* "5m", "90s", "1h30m", "500ms", "2d": FALSE if malformed or negative */
gboolean astra_parse_duration (const char *text, gint64 *out_us);

G_END_DECLS
