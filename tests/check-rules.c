/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Rule files: astra_rule_set_add_file() and astra_rule_set_load_dir() over
 * good rules (every key and syntax, checked field by field), broken files
 * (every error line checked exactly), duplicate names across files, the
 * matchers' semantics on hand-built series, durations, conditions, the
 * fingerprint, placeholders, and the example files of data/rules.d/.
 */

#include "config.h"

#include <check.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "astra-check-common.h"
#include "astra-rule.h"

#define KNOWN_KEYS                                                                                           \
	"metric, match, aggregate, warning, critical, clear, for, keep-firing-for, no-data, repeat, "        \
	"labels, "                                                                                           \
	"summary, description, webhooks, enabled, inhibit-when-agent-offline"
#define CONDITION_HELP "expected a condition such as '> 200' or 'outside 10..20'"
#define DURATION_HELP "expected a duration such as '30s', '5m' or '1h30m' (units: ms s m h d)"
#define MATCHER_HELP "expected label=value, label!=value, label=glob* or label={a,b,c}"
#define LABEL_HELP "expected 1 to 128 characters from a-z A-Z 0-9 _ : . -, starting with a letter, _ or :"
#define PLACEHOLDERS "{value}, {threshold}, {hostname}, {metric}, {rule}, {severity} or {LABEL}"
#define NO_EFFECT                                                                                            \
	"has no effect without warning or critical (a rule with no-data alone fires when its series stop "   \
	"reporting)"

static char *
join_errors (GPtrArray *errors)
{
	g_autoptr(GString) str = g_string_new (NULL);

	for (guint i = 0; i < errors->len; i++)
		g_string_append_printf (str, "%s%s", i > 0 ? "\n" : "",
					(const char *) g_ptr_array_index (errors, i));
	return g_string_free (g_steal_pointer (&str), FALSE);
}

/* TEXT as the file t.rules of a new set; every error joined by newlines in *errors_out */
static AstraRuleSet *
parse_text (const char *text, const char *const *known_webhooks, char **errors_out)
{
	g_autoptr(AstraRuleSet) set = astra_rule_set_new ();
	g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func (g_free);
	gboolean ok = astra_rule_set_add_file (set, "t.rules", text, known_webhooks, errors);

	ck_assert_msg (ok == (errors->len == 0), "add_file returned %d with %u errors", ok, errors->len);
	*errors_out = join_errors (errors);
	return g_steal_pointer (&set);
}

/* BODY as the keys of [rule r], which must parse without error */
static AstraRuleSet *
parse_good (const char *body, const AstraRule **rule_out)
{
	g_autofree char *text = g_strdup_printf ("[rule r]\n%s", body);
	g_autofree char *errors = NULL;
	g_autoptr(AstraRuleSet) set = parse_text (text, NULL, &errors);

	ck_assert_msg (errors[0] == '\0', "unexpected errors for\n%s\n%s", text, errors);
	*rule_out = astra_rule_set_lookup (set, "r");
	ck_assert_ptr_nonnull (*rule_out);
	return g_steal_pointer (&set);
}

static const char *
match_op_name (AstraMatchOp op)
{
	static const char *const names[] = { "EQUAL", "NOT_EQUAL", "GLOB", "NOT_GLOB", "IN", "NOT_IN" };
	return names[op];
}

/* "label OP value" for each matcher, joined by " | ", asserting which fields each op sets */
static char *
describe_matchers (const AstraRule *rule)
{
	g_autoptr(GString) str = g_string_new (NULL);

	for (guint i = 0; i < rule->matchers->len; i++) {
		const AstraMatcher *m = g_ptr_array_index (rule->matchers, i);
		gboolean is_glob = m->op == ASTRA_MATCH_GLOB || m->op == ASTRA_MATCH_NOT_GLOB;
		gboolean is_set = m->op == ASTRA_MATCH_IN || m->op == ASTRA_MATCH_NOT_IN;

		ck_assert_msg ((m->glob != NULL) == is_glob, "glob set for %s", match_op_name (m->op));
		ck_assert_msg ((m->values != NULL) == is_set, "values set for %s", match_op_name (m->op));
		ck_assert_msg ((m->value != NULL) == !is_set, "value set for %s", match_op_name (m->op));
		if (i > 0)
			g_string_append (str, " | ");
		if (is_set) {
			g_autofree char *values = g_strjoinv (",", m->values);
			g_string_append_printf (str, "%s %s %s", m->label, match_op_name (m->op), values);
		} else {
			g_string_append_printf (str, "%s %s %s", m->label, match_op_name (m->op), m->value);
		}
	}
	return g_string_free (g_steal_pointer (&str), FALSE);
}

/* "OP THRESHOLD HIGH 'TEXT'", or NULL when the condition is not set */
static char *
describe_condition (const AstraCondition *c)
{
	static const char *const names[] = {
		"NONE", "GT", "GE", "LT", "LE", "EQ", "NE", "OUTSIDE", "INSIDE"
	};

	if (c->op == ASTRA_COMPARE_NONE) {
		ck_assert_ptr_null (c->text);
		return NULL;
	}
	return g_strdup_printf ("%s %.17g %.17g '%s'", names[c->op], c->threshold, c->high, c->text);
}

static char *
describe_labels (const AstraRule *rule)
{
	g_autoptr(GString) str = g_string_new (NULL);

	for (guint i = 0; i < rule->extra_labels->len; i++) {
		const AstraLabel *label = g_ptr_array_index (rule->extra_labels, i);
		g_string_append_printf (str, "%s%s=%s", i > 0 ? "," : "", label->name, label->value);
	}
	return str->len > 0 ? g_string_free (g_steal_pointer (&str), FALSE) : NULL;
}

/* ---- good rules, field by field ---- */

typedef struct {
	const char *body;
	const char *metric;   /* NULL: "m" */
	const char *matchers; /* NULL: none */
	AstraAggregate aggregate;
	gint64 window_us;
	const char *warning;
	const char *critical;
	const char *clear;
	gint64 for_us;
	gint64 keep_firing_for_us;
	gint64 no_data_us;
	gint64 repeat_us;
	const char *labels;
	const char *summary;
	const char *description;
	const char *webhooks; /* joined by ";" */
	gboolean disabled;
	gboolean not_inhibited;
} GoodRule;

#define S G_TIME_SPAN_SECOND
#define MN G_TIME_SPAN_MINUTE
#define H G_TIME_SPAN_HOUR
#define D G_TIME_SPAN_DAY

static const GoodRule good_rules[] = {
	/* the least a rule may be */
	{ .body = "metric = m\nwarning = > 100\n", .warning = "GT 100 0 '> 100'" },
	/* every key at once */
	{ .body = "metric = latency_ms\n"
		  "match = target=8.8.8.8, agent_id=edge-*, region!=eu-*, env={prod,staging}, "
		  "tier!={test,dev}, zone!=a\n"
		  "aggregate = avg 5m\n"
		  "warning = > 100\n"
		  "critical = >= 200.5\n"
		  "clear = < 80\n"
		  "for = 2m\n"
		  "keep-firing-for = 5m\n"
		  "no-data = 10m\n"
		  "repeat = 1h\n"
		  "labels = team=netops, page=yes\n"
		  "summary = Latency from {hostname} to {target} is {value} ms\n"
		  "description = Rule {rule} on {metric}: {severity} above {threshold}\n"
		  "webhooks = ops-slack; oncall\n"
		  "enabled = true\n"
		  "inhibit-when-agent-offline = false\n",
	  .metric = "latency_ms",
	  .matchers =
	      "agent_id GLOB edge-* | env IN prod,staging | region NOT_GLOB eu-* | target EQUAL 8.8.8.8 | "
	      "tier NOT_IN dev,test | zone NOT_EQUAL a",
	  .aggregate = ASTRA_AGGREGATE_AVG,
	  .window_us = 5 * MN,
	  .warning = "GT 100 0 '> 100'",
	  .critical = "GE 200.5 0 '>= 200.5'",
	  .clear = "LT 80 0 '< 80'",
	  .for_us = 2 * MN,
	  .keep_firing_for_us = 5 * MN,
	  .no_data_us = 10 * MN,
	  .repeat_us = H,
	  .labels = "page=yes,team=netops",
	  .summary = "Latency from {hostname} to {target} is {value} ms",
	  .description = "Rule {rule} on {metric}: {severity} above {threshold}",
	  .webhooks = "oncall;ops-slack",
	  .not_inhibited = TRUE },
	/* each operator, normalized */
	{ .body = "metric = m\nwarning = <= 0\n", .warning = "LE 0 0 '<= 0'" },
	{ .body = "metric = m\nwarning = == 0\n", .warning = "EQ 0 0 '== 0'" },
	{ .body = "metric = m\nwarning = != 1\n", .warning = "NE 1 0 '!= 1'" },
	{ .body = "metric = m\nwarning = < -5\n", .warning = "LT -5 0 '< -5'" },
	{ .body = "metric = m\nwarning = >5\n", .warning = "GT 5 0 '> 5'" },
	{ .body = "metric = m\nwarning = >   +7.50\n", .warning = "GT 7.5 0 '> 7.5'" },
	{ .body = "metric = m\nwarning = > 1e3\n", .warning = "GT 1000 0 '> 1000'" },
	{ .body = "metric = m\nwarning = > 0.1\n", .warning = "GT 0.10000000000000001 0 '> 0.1'" },
	{ .body = "metric = m\nwarning = >= -0\n", .warning = "GE 0 0 '>= 0'" },
	{ .body = "metric = m\nwarning = > .5\n", .warning = "GT 0.5 0 '> 0.5'" },
	{ .body = "metric = m\nwarning = outside 10..20\n", .warning = "OUTSIDE 10 20 'outside 10..20'" },
	{ .body = "metric = m\nwarning = outside 10 .. 20\n", .warning = "OUTSIDE 10 20 'outside 10..20'" },
	{ .body = "metric = m\nwarning = inside -1.5..2.5\n",
	  .warning = "INSIDE -1.5 2.5 'inside -1.5..2.5'" },
	{ .body = "metric = m\nwarning = inside 5..5\n", .warning = "INSIDE 5 5 'inside 5..5'" },
	{ .body = "metric = m\nwarning = outside -20..-10\n",
	  .warning = "OUTSIDE -20 -10 'outside -20..-10'" },
	/* hysteresis at the edge: > 100 trips, <= 100 clears */
	{ .body = "metric = m\nwarning = > 100\nclear = <= 100\n",
	  .warning = "GT 100 0 '> 100'",
	  .clear = "LE 100 0 '<= 100'" },
	/* critical only, with a clear that excludes it */
	{ .body = "metric = service_up\ncritical = == 0\nclear = == 1\n",
	  .metric = "service_up",
	  .critical = "EQ 0 0 '== 0'",
	  .clear = "EQ 1 0 '== 1'" },
	/* downward thresholds: warning < 50, critical < 10 */
	{ .body = "metric = m\nwarning = < 50\ncritical = < 10\nclear = > 60\n",
	  .warning = "LT 50 0 '< 50'",
	  .critical = "LT 10 0 '< 10'",
	  .clear = "GT 60 0 '> 60'" },
	/* a band: outside warns, a wider outside is critical, inside clears */
	{ .body = "metric = m\nwarning = outside 10..20\ncritical = outside 0..30\nclear = inside 12..18\n",
	  .warning = "OUTSIDE 10 20 'outside 10..20'",
	  .critical = "OUTSIDE 0 30 'outside 0..30'",
	  .clear = "INSIDE 12 18 'inside 12..18'" },
	/* every aggregate */
	{ .body = "metric = m\naggregate = last\nwarning = > 1\n", .warning = "GT 1 0 '> 1'" },
	{ .body = "metric = m\naggregate = min 30s\nwarning = > 1\n",
	  .aggregate = ASTRA_AGGREGATE_MIN,
	  .window_us = 30 * S,
	  .warning = "GT 1 0 '> 1'" },
	{ .body = "metric = m\naggregate = max 1h\nwarning = > 1\n",
	  .aggregate = ASTRA_AGGREGATE_MAX,
	  .window_us = H,
	  .warning = "GT 1 0 '> 1'" },
	{ .body = "metric = m\naggregate = sum 1m\nwarning = > 1\n",
	  .aggregate = ASTRA_AGGREGATE_SUM,
	  .window_us = MN,
	  .warning = "GT 1 0 '> 1'" },
	{ .body = "metric = m\naggregate = count   10m\nwarning = > 1\n",
	  .aggregate = ASTRA_AGGREGATE_COUNT,
	  .window_us = 10 * MN,
	  .warning = "GT 1 0 '> 1'" },
	{ .body = "metric = m\naggregate = rate 5m\nwarning = > 1\n",
	  .aggregate = ASTRA_AGGREGATE_RATE,
	  .window_us = 5 * MN,
	  .warning = "GT 1 0 '> 1'" },
	{ .body = "metric = m\naggregate = p50 1m\nwarning = > 1\n",
	  .aggregate = ASTRA_AGGREGATE_P50,
	  .window_us = MN,
	  .warning = "GT 1 0 '> 1'" },
	{ .body = "metric = m\naggregate = p90 1h30m\nwarning = > 1\n",
	  .aggregate = ASTRA_AGGREGATE_P90,
	  .window_us = H + 30 * MN,
	  .warning = "GT 1 0 '> 1'" },
	{ .body = "metric = m\naggregate = p95 500ms\nwarning = > 1\n",
	  .aggregate = ASTRA_AGGREGATE_P95,
	  .window_us = 500 * G_TIME_SPAN_MILLISECOND,
	  .warning = "GT 1 0 '> 1'" },
	{ .body = "metric = m\naggregate = p99 30d\nwarning = > 1\n",
	  .aggregate = ASTRA_AGGREGATE_P99,
	  .window_us = 30 * D,
	  .warning = "GT 1 0 '> 1'" },
	/* durations: 0, combinations and the maximum */
	{ .body = "metric = m\nwarning = > 1\nfor = 0\nkeep-firing-for = 1h30m\nno-data = 30d\nrepeat = 0s\n",
	  .warning = "GT 1 0 '> 1'",
	  .keep_firing_for_us = H + 30 * MN,
	  .no_data_us = 30 * D },
	/* a pure no-data rule: neither warning nor critical */
	{ .body = "metric = m\nno-data = 10m\nkeep-firing-for = 1m\nrepeat = 2h\n",
	  .no_data_us = 10 * MN,
	  .keep_firing_for_us = MN,
	  .repeat_us = 2 * H },
	/* matchers: empty values, spaces, ?, sets with spaces */
	{ .body = "metric = m\nmatch = target=, host!=\nwarning = > 1\n",
	  .matchers = "host NOT_EQUAL  | target EQUAL ",
	  .warning = "GT 1 0 '> 1'" },
	{ .body = "metric = m\nmatch =  env = { staging , prod } ,host=db?  \nwarning = > 1\n",
	  .matchers = "env IN prod,staging | host GLOB db?",
	  .warning = "GT 1 0 '> 1'" },
	{ .body = "metric = m\nmatch = host=edge-*, host!=edge-test*, __name__:x.y-z=1\nwarning = > 1\n",
	  .matchers = "__name__:x.y-z EQUAL 1 | host GLOB edge-* | host NOT_GLOB edge-test*",
	  .warning = "GT 1 0 '> 1'" },
	/* webhooks: commas, a GKeyFile list's trailing ';', sorted */
	{ .body = "metric = m\nwarning = > 1\nwebhooks = b, a;\n",
	  .warning = "GT 1 0 '> 1'",
	  .webhooks = "a;b" },
	/* booleans */
	{ .body = "metric = m\nwarning = > 1\nenabled = no\ninhibit-when-agent-offline = 0\n",
	  .warning = "GT 1 0 '> 1'",
	  .disabled = TRUE,
	  .not_inhibited = TRUE },
	{ .body = "metric = m\nwarning = > 1\nenabled = yes\ninhibit-when-agent-offline = 1\n",
	  .warning = "GT 1 0 '> 1'" },
	{ .body = "metric = m\nwarning = > 1\nenabled = false\n",
	  .warning = "GT 1 0 '> 1'",
	  .disabled = TRUE },
	/* labels sorted by name */
	{ .body = "metric = m\nwarning = > 1\nlabels = z=1 ,a = two words\n",
	  .warning = "GT 1 0 '> 1'",
	  .labels = "a=two words,z=1" },
	/* texts: {{, unknown label names, GKeyFile escapes, a # that is text */
	{ .body = "metric = m\nwarning = > 1\nsummary = {{literal}} {value} {no_such_label} #1\n"
		  "description = a\\tb\\nc \\\\ d\n",
	  .warning = "GT 1 0 '> 1'",
	  .summary = "{{literal}} {value} {no_such_label} #1",
	  .description = "a\tb\nc \\ d" },
	/* comments, blank lines, indentation, CRLF */
	{ .body = "# comment\r\n\r\n   metric=m   \r\n\t# another\r\n  warning   =   >   3  \r\n",
	  .warning = "GT 3 0 '> 3'" },
};

START_TEST (test_good_rule)
{
	const GoodRule *t = &good_rules[_i];
	const AstraRule *rule = NULL;
	g_autoptr(AstraRuleSet) set = parse_good (t->body, &rule);
	g_autofree char *matchers = describe_matchers (rule);
	g_autofree char *warning = describe_condition (&rule->warning);
	g_autofree char *critical = describe_condition (&rule->critical);
	g_autofree char *clear = describe_condition (&rule->clear);
	g_autofree char *labels = describe_labels (rule);
	g_autofree char *webhooks = rule->webhooks != NULL ? g_strjoinv (";", rule->webhooks) : NULL;

	ck_assert_str_eq (rule->name, "r");
	ck_assert_str_eq (rule->file, "t.rules");
	ck_assert_uint_eq (rule->line, 1);
	ck_assert_str_eq (rule->metric, t->metric != NULL ? t->metric : "m");
	ck_assert_str_eq (matchers, t->matchers != NULL ? t->matchers : "");
	ck_assert_int_eq (rule->aggregate, t->aggregate);
	ck_assert_int_eq (rule->window_us, t->window_us);
	ck_assert_pstr_eq (warning, t->warning);
	ck_assert_pstr_eq (critical, t->critical);
	ck_assert_pstr_eq (clear, t->clear);
	ck_assert_int_eq (rule->for_us, t->for_us);
	ck_assert_int_eq (rule->keep_firing_for_us, t->keep_firing_for_us);
	ck_assert_int_eq (rule->no_data_us, t->no_data_us);
	ck_assert_int_eq (rule->repeat_us, t->repeat_us);
	ck_assert_pstr_eq (labels, t->labels);
	ck_assert_pstr_eq (rule->summary, t->summary);
	ck_assert_pstr_eq (rule->description, t->description);
	ck_assert_pstr_eq (webhooks, t->webhooks);
	ck_assert_int_eq (rule->enabled, !t->disabled);
	ck_assert_int_eq (rule->inhibit_when_agent_offline, !t->not_inhibited);
	ck_assert_uint_eq (strlen (rule->fingerprint), 64);
}
END_TEST

START_TEST (test_good_file)
{
	/* a byte order mark, several rules, their lines and order */
	const char *text = "\xef\xbb\xbf# rules\n"
			   "[rule b-second.name_1]\n"
			   "metric = m\n"
			   "warning = > 1\n"
			   "\n"
			   "[rule a]\n"
			   "metric = n\n"
			   "critical = < 0\n";
	g_autofree char *errors = NULL;
	g_autoptr(AstraRuleSet) set = parse_text (text, NULL, &errors);
	GPtrArray *rules = astra_rule_set_get_rules (set);
	const AstraRule *rule;

	ck_assert_str_eq (errors, "");
	ck_assert_uint_eq (rules->len, 2);
	rule = g_ptr_array_index (rules, 0);
	ck_assert_str_eq (rule->name, "b-second.name_1");
	ck_assert_uint_eq (rule->line, 2);
	rule = g_ptr_array_index (rules, 1);
	ck_assert_str_eq (rule->name, "a");
	ck_assert_uint_eq (rule->line, 6);
	ck_assert_str_eq (rule->metric, "n");
}
END_TEST

/* ---- broken files, each with its exact errors ---- */

typedef struct {
	const char *text;
	const char *errors;
} BrokenFile;

#define R "[rule r]\nmetric = m\n"
#define W "warning = > 1\n"

static const BrokenFile broken_files[] = {
	/* keys */
	{ R W "critcal = > 2\n",
	  "t.rules:4: rule r: critcal: unknown key; did you mean 'critical'? (known keys: " KNOWN_KEYS ")" },
	{ R W "no_data = 5m\n",
	  "t.rules:4: rule r: no_data: unknown key; did you mean 'no-data'? (known keys: " KNOWN_KEYS ")" },
	{ R W "colour = red\n", "t.rules:4: rule r: colour: unknown key (known keys: " KNOWN_KEYS ")" },
	{ R W "summary[de] = Hallo\n",
	  "t.rules:4: rule r: summary[de]: unknown key: keys have no translations (known keys: " KNOWN_KEYS
	  ")" },
	{ R W "warning = > 2\n", "t.rules:4: rule r: warning: set again (first set on line 3); keep one" },
	{ R W "no data = 5m\n",
	  "t.rules:4: rule r: 'no data' is not a key name: keys are words such as 'warning' or 'no-data'" },
	{ "[rule r]\n" W, "t.rules:1: rule r: metric: missing: every rule names the metric it watches, e.g. "
			  "'metric = latency_ms'" },
	{ R, "t.rules:1: rule r: warning: missing: a rule needs warning or critical (e.g. 'warning = > "
	     "100'), or no-data "
	     "alone to watch for series that stop reporting" },
	{ R "warning =\n", "t.rules:3: rule r: warning: empty value: expected e.g. 'warning = > 100'" },
	{ "[rule r]\nmetric = 1abc\n" W, "t.rules:2: rule r: metric: '1abc' is not a metric name: expected 1 "
					 "to 128 characters from a-z A-Z 0-9 _ : . -, "
					 "starting with a letter, _ or :, e.g. latency_ms" },
	{ R W "summary = a\\d\n", "t.rules:4: rule r: summary: invalid escape sequence: write \\\\ for a "
				  "backslash (escapes: \\s \\n \\t \\r "
				  "\\\\)" },
	/* conditions */
	{ R "warning = 100\n", "t.rules:3: rule r: warning: '100' is not a condition: " CONDITION_HELP
			       " (operators: > >= < <= == !=, outside LOW..HIGH, inside LOW..HIGH)" },
	{ R "warning = => 5\n", "t.rules:3: rule r: warning: '=> 5' is not a condition: " CONDITION_HELP
				" (operators: > >= < <= == !=, outside LOW..HIGH, inside LOW..HIGH)" },
	{ R "critical = > abc\n",
	  "t.rules:3: rule r: critical: 'abc' is not a finite number: " CONDITION_HELP },
	{ R "warning = > inf\n",
	  "t.rules:3: rule r: warning: 'inf' is not a finite number: " CONDITION_HELP },
	{ R "warning = > nan\n",
	  "t.rules:3: rule r: warning: 'nan' is not a finite number: " CONDITION_HELP },
	{ R "warning = > 0x10\n",
	  "t.rules:3: rule r: warning: '0x10' is not a finite number: " CONDITION_HELP },
	{ R "warning = > 1e999\n",
	  "t.rules:3: rule r: warning: '1e999' is not a finite number: " CONDITION_HELP },
	{ R "warning = > 1,5\n",
	  "t.rules:3: rule r: warning: '1,5' is not a finite number: " CONDITION_HELP },
	{ R "warning = >\n", "t.rules:3: rule r: warning: '>' has no number: " CONDITION_HELP },
	{ R "warning = > 100 # ms\n",
	  "t.rules:3: rule r: warning: '100 # ms' is not a finite number: " CONDITION_HELP
	  " (a # comment must be on a line of its own)" },
	{ R "warning = outside 10\n", "t.rules:3: rule r: warning: 'outside 10' has no range: expected "
				      "'outside LOW..HIGH', e.g. 'outside 10..20'" },
	{ R "warning = inside 20..10\n", "t.rules:3: rule r: warning: the range 20..10 is empty: LOW must "
					 "not be greater than HIGH, e.g. 'inside "
					 "10..20'" },
	{ R "warning = outside a..b\n", "t.rules:3: rule r: warning: 'outside a..b' is not a range of two "
					"finite numbers: expected e.g. 'outside "
					"10..20'" },
	{ R "warning = outsides 1..2\n",
	  "t.rules:3: rule r: warning: 'outsides 1..2' is not a condition: " CONDITION_HELP
	  " (operators: > >= < <= == !=, outside LOW..HIGH, inside LOW..HIGH)" },
	/* conditions that contradict each other */
	{ R "warning = > 100\nclear = > 120\n", "t.rules:4: rule r: clear: clear = > 120 holds while warning "
						"= > 100 holds: it could never resolve" },
	{ R "critical = == 0\nclear = inside -1..1\n",
	  "t.rules:4: rule r: clear: clear = inside -1..1 and critical = == 0 hold together for some values: "
	  "the clear "
	  "condition must exclude the alert's, e.g. 'clear = < 80' with 'warning = > 100'" },
	{ R "critical = outside 0..10\nclear = < 5\n",
	  "t.rules:4: rule r: clear: clear = < 5 and critical = outside 0..10 hold together for some values: "
	  "the clear "
	  "condition must exclude the alert's, e.g. 'clear = < 80' with 'warning = > 100'" },
	{ R "critical = inside 0..10\nclear = inside 2..3\n",
	  "t.rules:4: rule r: clear: clear = inside 2..3 holds while critical = inside 0..10 holds: it could "
	  "never "
	  "resolve" },
	{ R "warning = > 100\nclear = < 120\n",
	  "t.rules:4: rule r: clear: clear = < 120 and warning = > 100 hold together for some values: the "
	  "clear "
	  "condition must exclude the alert's, e.g. 'clear = < 80' with 'warning = > 100'" },
	{ R "warning = >= 100\nclear = <= 100\n",
	  "t.rules:4: rule r: clear: clear = <= 100 and warning = >= 100 hold together for some values: the "
	  "clear "
	  "condition must exclude the alert's, e.g. 'clear = < 80' with 'warning = > 100'" },
	{ R "warning = > 100\ncritical = > 200\nclear = < 150\n",
	  "t.rules:5: rule r: clear: clear = < 150 and warning = > 100 hold together for some values: the "
	  "clear "
	  "condition must exclude the alert's, e.g. 'clear = < 80' with 'warning = > 100'" },
	{ R "warning = != 1\nclear = > 5\n",
	  "t.rules:4: rule r: clear: clear = > 5 holds while warning = != 1 holds: it could never resolve" },
	{ R "warning = > 100\ncritical = > 50\n", "t.rules:3: rule r: warning: warning = > 100 could never "
						  "fire: critical = > 50 holds whenever it does "
						  "(critical must be the stricter condition)" },
	{ R "warning = == 0\ncritical = == 0\n", "t.rules:3: rule r: warning: warning = == 0 could never "
						 "fire: critical = == 0 holds whenever it does "
						 "(critical must be the stricter condition)" },
	/* aggregates */
	{ R W "aggregate = mean 5m\n", "t.rules:4: rule r: aggregate: 'mean 5m' is not an aggregate: "
				       "expected 'last' or FUNCTION WINDOW such as 'avg "
				       "5m' (functions: avg min max sum count rate p50 p90 p95 p99)" },
	{ R W "aggregate = avg\n",
	  "t.rules:4: rule r: aggregate: 'avg' needs a window: expected e.g. 'avg 5m'" },
	{ R W "aggregate = last 5m\n", "t.rules:4: rule r: aggregate: 'last' takes no window: write 'last', "
				       "or e.g. 'avg 5m' to aggregate over 5m" },
	{ R W "aggregate = p95 5 minutes\n",
	  "t.rules:4: rule r: aggregate: '5 minutes' is not a window: " DURATION_HELP },
	{ R W "aggregate = rate 0s\n",
	  "t.rules:4: rule r: aggregate: the window must be longer than 0: expected e.g. 'rate 5m'" },
	{ R W "aggregate = avg 31d\n",
	  "t.rules:4: rule r: aggregate: the window '31d' is longer than the maximum of 30d" },
	/* durations */
	{ R W "for = 5\n", "t.rules:4: rule r: for: '5' is not a duration: " DURATION_HELP },
	{ R W "for = -5m\n", "t.rules:4: rule r: for: '-5m' is not a duration: " DURATION_HELP },
	{ R W "keep-firing-for = 30m1h\n",
	  "t.rules:4: rule r: keep-firing-for: '30m1h' is not a duration: " DURATION_HELP },
	{ R W "repeat = 1.5h\n", "t.rules:4: rule r: repeat: '1.5h' is not a duration: " DURATION_HELP },
	{ R W "no-data = 31d\n", "t.rules:4: rule r: no-data: '31d' is longer than the maximum of 30d" },
	{ R W "no-data = 99999999999999999999d\n",
	  "t.rules:4: rule r: no-data: '99999999999999999999d' is longer than the maximum of 30d" },
	/* pure no-data rules */
	{ R "no-data = 0\n", "t.rules:3: rule r: no-data: 0 turns no-data off, and the rule has neither "
			     "warning nor critical: it could "
			     "never fire" },
	{ R "no-data = 5m\naggregate = avg 5m\nfor = 1m\nclear = < 1\n",
	  "t.rules:4: rule r: aggregate: " NO_EFFECT "\n"
	  "t.rules:5: rule r: for: " NO_EFFECT "\n"
	  "t.rules:6: rule r: clear: " NO_EFFECT },
	/* matchers */
	{ R W "match = target\n", "t.rules:4: rule r: match: 'target' is not a matcher: " MATCHER_HELP },
	{ R W "match = 1x=y\n", "t.rules:4: rule r: match: '1x' is not a label name in '1x=y': " LABEL_HELP },
	{ R W "match = a=b,\n",
	  "t.rules:4: rule r: match: an empty matcher (a stray ','): " MATCHER_HELP ", separated by commas" },
	{ R W "match = env={prod,staging\n", "t.rules:4: rule r: match: 'env={prod,staging' has an unclosed "
					     "'{': a set is written label={a,b,c}" },
	{ R W "match = env={}\n",
	  "t.rules:4: rule r: match: 'env={}' has an empty set: expected label={a,b,c}" },
	{ R W "match = env={a,,b}\n",
	  "t.rules:4: rule r: match: 'env={a,,b}' has an empty value in its set: expected label={a,b,c}" },
	{ R W "match = env={prod*,dev}\n", "t.rules:4: rule r: match: 'env={prod*,dev}': a set holds exact "
					   "values, 'prod*' has a wildcard: write a glob "
					   "as a matcher of its own, e.g. label=edge-*" },
	{ R W "match = env={a,a}\n", "t.rules:4: rule r: match: 'env={a,a}' lists 'a' twice" },
	{ R W "match = host=~web.*\n", "t.rules:4: rule r: match: 'host=~web.*' is not a matcher (no == and "
				       "no regular expressions): " MATCHER_HELP },
	{ R W "match = host==web\n", "t.rules:4: rule r: match: 'host==web' is not a matcher (no == and no "
				     "regular expressions): " MATCHER_HELP },
	{ R W "match = a=x{y}\n",
	  "t.rules:4: rule r: match: 'a=x{y}': '{' and '}' only surround a whole set: " MATCHER_HELP },
	{ R W "match = a=x, a=y\n",
	  "t.rules:4: rule r: match: 'a=x' and 'a=y' never both hold: the rule would match no series" },
	{ R W "match = host!=web*, host=web1\n", "t.rules:4: rule r: match: 'host=web1' and 'host!=web*' "
						 "never both hold: the rule would match no series" },
	{ R W "match = a={x,y}, a=z\n",
	  "t.rules:4: rule r: match: 'a=z' and 'a={x,y}' never both hold: the rule would match no series" },
	{ R W "match = a!=x, a!=x\n", "t.rules:4: rule r: match: 'a!=x' is listed twice" },
	/* labels */
	{ R W "labels = team\n", "t.rules:4: rule r: labels: 'team' is not a label: expected NAME=VALUE "
				 "pairs separated by commas, e.g. "
				 "'team=netops, page=yes'" },
	{ R W "labels = 9=x\n", "t.rules:4: rule r: labels: '9' is not a label name: " LABEL_HELP },
	{ R W "labels = team=\n",
	  "t.rules:4: rule r: labels: the label 'team' has an empty value: expected e.g. 'team=yes'" },
	{ R W "labels = a=1, a=2\n", "t.rules:4: rule r: labels: the label 'a' is set twice" },
	{ R W "labels = a=1,,b=2\n", "t.rules:4: rule r: labels: an empty label (a stray ','): expected "
				     "NAME=VALUE pairs separated by commas, e.g. "
				     "'team=netops, page=yes'" },
	/* texts */
	{ R W "summary = Latency {value\n",
	  "t.rules:4: rule r: summary: unclosed '{' in '{value': placeholders are " PLACEHOLDERS
	  "; write {{ for a literal {" },
	{ R W "description = a {value {target}\n",
	  "t.rules:4: rule r: description: unclosed '{' in '{value {target}': placeholders are " PLACEHOLDERS
	  "; write {{ for a literal {" },
	{ R W "summary = x {} y\n",
	  "t.rules:4: rule r: summary: empty placeholder '{}': placeholders are " PLACEHOLDERS
	  "; write {{ for a literal {" },
	{ R W "summary = {target host}\n",
	  "t.rules:4: rule r: summary: '{target host}' is not a placeholder: placeholders are " PLACEHOLDERS
	  ", LABEL a label name" },
	/* webhooks and booleans */
	{ R W "webhooks = ops slack\n",
	  "t.rules:4: rule r: webhooks: 'ops slack' is not a webhook name: expected names of 1 to 64 "
	  "characters from "
	  "A-Z a-z 0-9 . _ - separated by ';' or ',', e.g. 'ops-slack; oncall'" },
	{ R W "webhooks = a; a\n", "t.rules:4: rule r: webhooks: the webhook 'a' is listed twice" },
	{ R W "webhooks = ;\n", "t.rules:4: rule r: webhooks: no webhook named: expected names separated by "
				"';' or ',', e.g. 'ops-slack; "
				"oncall'" },
	{ R W "enabled = maybe\n",
	  "t.rules:4: rule r: enabled: 'maybe' is not a boolean: expected true or false (or yes/no, 1/0)" },
	{ R W "inhibit-when-agent-offline = TRUE\n", "t.rules:4: rule r: inhibit-when-agent-offline: 'TRUE' "
						     "is not a boolean: expected true or false (or yes/no, "
						     "1/0)" },
	/* groups and lines */
	{ "[rule bad name!]\nmetric = m\n" W,
	  "t.rules:1: rule bad name!: not a rule name: expected 1 to 128 characters from A-Z a-z 0-9 . _ -" },
	{ "[daemon]\nlisten = 127.0.0.1:1\n",
	  "t.rules:1: [daemon]: unknown group: a rules file holds only [rule NAME] groups" },
	{ "[rule]\nmetric = m\n",
	  "t.rules:1: [rule]: unknown group: a rules file holds only [rule NAME] groups" },
	{ R W "[rule r]\nmetric = n\n",
	  "t.rules:4: rule r: defined again (first defined on line 1); keep one" },
	{ "metric = m\n" R W, "t.rules:1: metric: set before the first [rule NAME] group" },
	{ "[rule r]\nmetric m\n" W,
	  "t.rules:2: 'metric m' is not a KEY = VALUE line, a [rule NAME] header or a # comment" },
	{ "[rule r] # latency\nmetric = m\n" W,
	  "t.rules:1: '[rule r] # latency' is not a group header: expected [rule NAME] alone on its line" },
	{ "[rule r\nmetric = m\n" W,
	  "t.rules:1: '[rule r' is not a group header: expected [rule NAME] alone on its line" },
	{ "[rule r]\n= m\n" W,
	  "t.rules:2: '= m' is not a KEY = VALUE line, a [rule NAME] header or a # comment" },
	{ "[rule r]\nmetric = \xff\n", "t.rules: not a UTF-8 text file" },
	/* several errors in one file come in the order of their lines */
	{ "[rule a]\nmetric = m\nwarning = bad\nfor = bad\n[rule b]\ncritical = < 0\n",
	  "t.rules:3: rule a: warning: 'bad' is not a condition: " CONDITION_HELP
	  " (operators: > >= < <= == !=, outside LOW..HIGH, inside LOW..HIGH)\n"
	  "t.rules:4: rule a: for: 'bad' is not a duration: " DURATION_HELP "\n"
	  "t.rules:5: rule b: metric: missing: every rule names the metric it watches, e.g. 'metric = "
	  "latency_ms'" },
};

START_TEST (test_broken_file)
{
	const BrokenFile *t = &broken_files[_i];
	g_autofree char *errors = NULL;
	g_autoptr(AstraRuleSet) set = parse_text (t->text, NULL, &errors);

	ck_assert_msg (g_strcmp0 (errors, t->errors) == 0, "for\n%s\nexpected\n%s\ngot\n%s", t->text,
		       t->errors, errors);
}
END_TEST

START_TEST (test_rule_name_length)
{
	g_autofree char *name128 = g_strnfill (128, 'n');
	g_autofree char *name129 = g_strnfill (129, 'n');
	g_autofree char *good = g_strdup_printf ("[rule %s]\nmetric = m\nwarning = > 1\n", name128);
	g_autofree char *bad = g_strdup_printf ("[rule %s]\nmetric = m\nwarning = > 1\n", name129);
	g_autofree char *expected = g_strdup_printf (
	    "t.rules:1: rule %s: not a rule name: expected 1 to 128 characters from A-Z a-z 0-9 . _ -",
	    name129);
	g_autofree char *errors_good = NULL;
	g_autofree char *errors_bad = NULL;
	g_autoptr(AstraRuleSet) set_good = parse_text (good, NULL, &errors_good);
	g_autoptr(AstraRuleSet) set_bad = parse_text (bad, NULL, &errors_bad);

	ck_assert_str_eq (errors_good, "");
	ck_assert_ptr_nonnull (astra_rule_set_lookup (set_good, name128));
	ck_assert_str_eq (errors_bad, expected);
	ck_assert_uint_eq (astra_rule_set_get_rules (set_bad)->len, 0);
}
END_TEST

START_TEST (test_bounds)
{
	g_autofree char *long_value = g_strnfill (1025, 'v');
	g_autofree char *long_summary = g_strnfill (1025, 's');
	g_autofree char *text = g_strdup_printf ("[rule a]\nmetric = m\nwarning = > 1\nmatch = x=%s\n"
						 "[rule b]\nmetric = m\nwarning = > 1\nsummary = %s\n"
						 "[rule c]\nmetric = m\nwarning = > 1\nlabels = x=%s\n",
						 long_value, long_summary, long_value);
	g_autofree char *errors = NULL;
	g_autoptr(AstraRuleSet) set = parse_text (text, NULL, &errors);
	g_autofree char *expected =
	    g_strdup_printf ("t.rules:4: rule a: match: 'x=%s': the value is longer than 1024 bytes\n"
			     "t.rules:8: rule b: summary: longer than 1024 bytes\n"
			     "t.rules:12: rule c: labels: the value of label 'x' is longer than 1024 bytes",
			     long_value);

	ck_assert_str_eq (errors, expected);
}
END_TEST

START_TEST (test_known_webhooks)
{
	const char *const known[] = { "ops-slack", "oncall", NULL };
	const char *const none[] = { NULL };
	const char *text = "[rule r]\nmetric = m\nwarning = > 1\nwebhooks = oncall; pager\n";
	g_autofree char *errors = NULL;
	g_autofree char *errors_none = NULL;
	g_autofree char *errors_unchecked = NULL;
	g_autoptr(AstraRuleSet) set = parse_text (text, known, &errors);
	g_autoptr(AstraRuleSet) set_none = parse_text (text, none, &errors_none);
	g_autoptr(AstraRuleSet) set_unchecked = parse_text (text, NULL, &errors_unchecked);
	g_autoptr(AstraRuleSet) set_good = NULL;
	g_autofree char *errors_good = NULL;

	ck_assert_str_eq (
	    errors,
	    "t.rules:4: rule r: webhooks: unknown webhook 'pager' (configured webhooks: ops-slack, oncall)");
	ck_assert_str_eq (
	    errors_none,
	    "t.rules:4: rule r: webhooks: unknown webhook 'oncall' (no webhooks are configured)");
	ck_assert_str_eq (errors_unchecked, "");

	set_good = parse_text ("[rule r]\nmetric = m\nwarning = > 1\nwebhooks = oncall,ops-slack\n", known,
			       &errors_good);
	ck_assert_str_eq (errors_good, "");
}
END_TEST

/* ---- folders ---- */

START_TEST (test_load_dir)
{
	g_autofree char *dir = astra_check_tmp_path ("rules.d");
	g_autofree char *a =
	    astra_check_tmp_write ("rules.d/a.rules", "[rule from-a]\nmetric = m\nwarning = > 1\n", 0600);
	g_autofree char *b =
	    astra_check_tmp_write ("rules.d/b.rules", "[rule from-b]\nmetric = m\ncritical = > 1\n", 0600);
	g_autofree char *backup = astra_check_tmp_write ("rules.d/b.rules~", "garbage", 0600);
	g_autofree char *hidden = astra_check_tmp_write ("rules.d/.c.rules", "garbage", 0600);
	g_autofree char *other = astra_check_tmp_write ("rules.d/README", "garbage", 0600);
	g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func (g_free);
	g_autoptr(AstraRuleSet) set = astra_rule_set_load_dir (dir, NULL, errors);
	g_autofree char *joined = join_errors (errors);
	GPtrArray *rules;

	ck_assert_msg (set != NULL, "%s", joined);
	rules = astra_rule_set_get_rules (set);
	ck_assert_uint_eq (rules->len, 2);
	ck_assert_str_eq (((const AstraRule *) g_ptr_array_index (rules, 0))->name, "from-a");
	ck_assert_str_eq (((const AstraRule *) g_ptr_array_index (rules, 0))->file, a);
	ck_assert_str_eq (((const AstraRule *) g_ptr_array_index (rules, 1))->name, "from-b");
	ck_assert_str_eq (((const AstraRule *) g_ptr_array_index (rules, 1))->file, b);
}
END_TEST

START_TEST (test_load_dir_missing)
{
	g_autofree char *dir = astra_check_tmp_path ("no-such-folder");
	g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func (g_free);
	g_autoptr(AstraRuleSet) set = astra_rule_set_load_dir (dir, NULL, errors);

	ck_assert_ptr_nonnull (set);
	ck_assert_uint_eq (errors->len, 0);
	ck_assert_uint_eq (astra_rule_set_get_rules (set)->len, 0);
	ck_assert_uint_eq (astra_rule_set_lookup_metric (set, "m")->len, 0);
}
END_TEST

START_TEST (test_duplicate_across_files)
{
	g_autofree char *dir = astra_check_tmp_path ("rules.d");
	g_autofree char *a =
	    astra_check_tmp_write ("rules.d/10-a.rules", "[rule latency]\nmetric = m\nwarning = > 1\n", 0600);
	g_autofree char *b = astra_check_tmp_write (
	    "rules.d/20-b.rules", "# the same name again\n\n[rule latency]\nmetric = n\nwarning = > 2\n",
	    0600);
	g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func (g_free);
	g_autoptr(AstraRuleSet) set = astra_rule_set_load_dir (dir, NULL, errors);
	g_autofree char *joined = join_errors (errors);
	g_autofree char *expected = g_strdup_printf (
	    "%s:3: rule latency: already defined at %s:1; rule names are unique across rules.d", b, a);

	ck_assert_ptr_null (set);
	ck_assert_str_eq (joined, expected);
}
END_TEST

START_TEST (test_load_dir_errors)
{
	g_autofree char *dir = astra_check_tmp_path ("rules.d");
	g_autofree char *a =
	    astra_check_tmp_write ("rules.d/a.rules", "[rule a]\nmetric = m\nwarning = >> 1\n", 0600);
	g_autofree char *nul = astra_check_tmp_write ("rules.d/b.rules", "", 0600);
	g_autofree char *sub = astra_check_tmp_path ("rules.d/c.rules");
	g_autofree char *ok =
	    astra_check_tmp_write ("rules.d/d.rules", "[rule d]\nmetric = m\nwarning = > 1\n", 0600);
	g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func (g_free);
	g_autoptr(AstraRuleSet) set = NULL;
	g_autofree char *joined = NULL;
	g_autofree char *expected = NULL;

	/* a file with a NUL byte, and a folder with a .rules name */
	ck_assert (g_file_set_contents (nul, "[rule b]\0x", 10, NULL));
	ck_assert_int_eq (g_mkdir (sub, 0700), 0);
	set = astra_rule_set_load_dir (dir, NULL, errors);
	joined = join_errors (errors);
	expected =
	    g_strdup_printf ("%s:3: rule a: warning: '> 1' is not a finite number: " CONDITION_HELP "\n"
			     "%s: not a UTF-8 text file\n"
			     "%s: not a regular file",
			     a, nul, sub);
	ck_assert_ptr_null (set);
	ck_assert_str_eq (joined, expected);
}
END_TEST

START_TEST (test_example_files)
{
	g_autofree char *dir = astra_check_source_path ("data", "rules.d", NULL);
	const char *const webhooks[] = { "demo", NULL };
	const char *const files[] = { "agents.rules", "latency.rules", "services.rules", "speedtest.rules",
				      NULL };
	g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func (g_free);
	g_autoptr(AstraRuleSet) set = astra_rule_set_load_dir (dir, webhooks, errors);
	g_autofree char *joined = join_errors (errors);
	GPtrArray *rules;

	ck_assert_msg (set != NULL && errors->len == 0, "%s", joined);
	rules = astra_rule_set_get_rules (set);
	/* every example file holds rules, and the metrics are those the engine makes */
	for (guint i = 0; files[i] != NULL; i++) {
		guint n = 0;
		for (guint j = 0; j < rules->len; j++) {
			const AstraRule *rule = g_ptr_array_index (rules, j);
			if (g_str_has_suffix (rule->file, files[i]))
				n++;
		}
		ck_assert_msg (n > 0, "no rule in %s", files[i]);
	}
	ck_assert_str_eq (astra_rule_set_lookup (set, "high-latency")->metric, "latency_ms");
	ck_assert_str_eq (astra_rule_set_lookup (set, "slow-download")->metric, "speedtest_download_mbps");
	ck_assert_str_eq (astra_rule_set_lookup (set, "service-down")->metric, "service_up");
	ck_assert_str_eq (astra_rule_set_lookup (set, "service-slow")->metric, "service_response_ms");
	ck_assert_int_eq (astra_rule_set_lookup (set, "agent-not-measuring")->warning.op, ASTRA_COMPARE_NONE);
	ck_assert_int_gt (astra_rule_set_lookup (set, "agent-not-measuring")->no_data_us, 0);
	ck_assert (!astra_rule_set_lookup (set, "long-route")->enabled);
}
END_TEST

/* ---- the set ---- */

START_TEST (test_lookup)
{
	const char *text = "[rule a]\nmetric = m\nwarning = > 1\n"
			   "[rule b]\nmetric = n\nwarning = > 1\n"
			   "[rule c]\nmetric = m\nwarning = > 2\nenabled = false\n"
			   "[rule d]\nmetric = m\nwarning = > 3\n";
	g_autofree char *errors = NULL;
	g_autoptr(AstraRuleSet) set = parse_text (text, NULL, &errors);
	GPtrArray *m;
	GPtrArray *none;

	ck_assert_str_eq (errors, "");
	ck_assert_uint_eq (astra_rule_set_get_rules (set)->len, 4);
	m = astra_rule_set_lookup_metric (set, "m");
	ck_assert_uint_eq (m->len, 2);
	ck_assert_str_eq (((const AstraRule *) g_ptr_array_index (m, 0))->name, "a");
	ck_assert_str_eq (((const AstraRule *) g_ptr_array_index (m, 1))->name, "d");
	ck_assert_uint_eq (astra_rule_set_lookup_metric (set, "n")->len, 1);
	none = astra_rule_set_lookup_metric (set, "other");
	ck_assert_ptr_nonnull (none);
	ck_assert_uint_eq (none->len, 0);
	/* disabled rules are found by name */
	ck_assert_ptr_nonnull (astra_rule_set_lookup (set, "c"));
	ck_assert (!astra_rule_set_lookup (set, "c")->enabled);
	ck_assert_ptr_null (astra_rule_set_lookup (set, "e"));
}
END_TEST

START_TEST (test_add_file_keeps_good_rules)
{
	g_autoptr(AstraRuleSet) set = astra_rule_set_new ();
	g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func (g_free);
	const char *text = "[rule good]\nmetric = m\nwarning = > 1\n[rule bad]\nmetric = m\nwarning = oops\n";

	ck_assert (!astra_rule_set_add_file (set, "t.rules", text, NULL, errors));
	ck_assert_uint_eq (errors->len, 1);
	ck_assert_ptr_nonnull (astra_rule_set_lookup (set, "good"));
	ck_assert_ptr_null (astra_rule_set_lookup (set, "bad"));
	/* errors may be NULL; a name seen before is a duplicate even when that rule was broken */
	ck_assert (
	    !astra_rule_set_add_file (set, "u.rules", "[rule bad]\nmetric = m\nwarning = > 1\n", NULL, NULL));
	ck_assert_ptr_null (astra_rule_set_lookup (set, "bad"));
	ck_assert (astra_rule_set_add_file (set, "v.rules", "# nothing\n", NULL, NULL));
	ck_assert (astra_rule_set_add_file (set, "w.rules", "", NULL, NULL));
}
END_TEST

/* ---- matchers ---- */

typedef struct {
	const char *match;  /* NULL: no match key */
	const char *labels; /* "a=1,b=2" ("a=" an empty value), NULL: none */
	gboolean expected;
} MatchCase;

static const MatchCase match_cases[] = {
	{ NULL, NULL, TRUE },
	{ NULL, "a=1", TRUE },
	/* EQUAL */
	{ "a=1", "a=1", TRUE },
	{ "a=1", "a=2", FALSE },
	{ "a=1", "a=11", FALSE },
	{ "a=1", NULL, FALSE },
	{ "a=1", "b=1", FALSE },
	/* an absent label reads as "" */
	{ "a=", NULL, TRUE },
	{ "a=", "b=1", TRUE },
	{ "a=", "a=", TRUE },
	{ "a=", "a=1", FALSE },
	/* NOT_EQUAL */
	{ "a!=1", NULL, TRUE },
	{ "a!=1", "a=1", FALSE },
	{ "a!=1", "a=2", TRUE },
	{ "a!=", NULL, FALSE },
	{ "a!=", "a=x", TRUE },
	/* GLOB */
	{ "a=edge-*", "a=edge-1", TRUE },
	{ "a=edge-*", "a=edge-", TRUE },
	{ "a=edge-*", "a=core-1", FALSE },
	{ "a=edge-*", NULL, FALSE },
	{ "a=*-edge", "a=x-edge", TRUE },
	{ "a=*-edge", "a=x-edgy", FALSE },
	{ "a=*", NULL, TRUE },
	{ "a=?", NULL, FALSE },
	{ "a=?", "a=x", TRUE },
	{ "a=?", "a=\xc3\xa9", TRUE }, /* one character, two bytes */
	{ "a=?", "a=xy", FALSE },
	{ "a=*ab?c",
	  "a=\xc3\xa9\xc3\xa9"
	  "ab\xc3\xa9"
	  "c",
	  TRUE },
	{ "a=*ab?c", "a=abcc", TRUE },
	{ "a=*ab?c", "a=abc", FALSE },
	{ "a=?*x*y", "a=1x2y", TRUE },
	{ "a=?*x*y", "a=x2y", FALSE },
	{ "a=a*b*c", "a=aXbYc", TRUE },
	{ "a=a*b*c", "a=aXbYd", FALSE },
	/* NOT_GLOB */
	{ "a!=eu-*", NULL, TRUE },
	{ "a!=eu-*", "a=eu-west", FALSE },
	{ "a!=eu-*", "a=us-east", TRUE },
	/* IN and NOT_IN: exact values */
	{ "a={x,y}", "a=x", TRUE },
	{ "a={x,y}", "a=y", TRUE },
	{ "a={x,y}", "a=z", FALSE },
	{ "a={x,y}", "a=xy", FALSE },
	{ "a={x,y}", NULL, FALSE },
	{ "a!={x,y}", NULL, TRUE },
	{ "a!={x,y}", "a=x", FALSE },
	{ "a!={x,y}", "a=z", TRUE },
	/* every matcher must hold */
	{ "a=1, b=2", "a=1,b=2", TRUE },
	{ "a=1, b=2", "a=1", FALSE },
	{ "a=1, b=2", "a=1,b=3", FALSE },
	{ "a=1, b=2", "a=1,b=2,c=3", TRUE },
	{ "host=edge-*, host!=edge-test*", "host=edge-1", TRUE },
	{ "host=edge-*, host!=edge-test*", "host=edge-test-1", FALSE },
	{ "c=3, env={prod,staging}, region!=eu-*", "a=0,c=3,env=staging,region=us", TRUE },
	{ "c=3, env={prod,staging}, region!=eu-*", "a=0,c=3,env=staging,region=eu-1", FALSE },
};

/* a series as the store would make it: labels sorted by name */
static AstraLabel *
make_labels (const char *text, guint *n_labels, GStrv *owned)
{
	g_autoptr(GPtrArray) pairs = g_ptr_array_new ();
	AstraLabel *labels;

	*owned = text != NULL ? g_strsplit (text, ",", -1) : g_new0 (char *, 1);
	for (guint i = 0; (*owned)[i] != NULL; i++) {
		char *eq = strchr ((*owned)[i], '=');
		*eq = '\0';
		g_ptr_array_add (pairs, (*owned)[i]);
	}
	*n_labels = pairs->len;
	labels = g_new0 (AstraLabel, pairs->len + 1);
	for (guint i = 0; i < pairs->len; i++) {
		labels[i].name = g_ptr_array_index (pairs, i);
		labels[i].value = labels[i].name + strlen (labels[i].name) + 1;
	}
	return labels;
}

START_TEST (test_matches)
{
	const MatchCase *t = &match_cases[_i];
	g_autofree char *body =
	    g_strdup_printf ("metric = m\nwarning = > 1\n%s%s\n", t->match != NULL ? "match = " : "",
			     t->match != NULL ? t->match : "");
	const AstraRule *rule = NULL;
	g_autoptr(AstraRuleSet) set = parse_good (body, &rule);
	g_auto(GStrv) owned = NULL;
	guint n_labels = 0;
	g_autofree AstraLabel *labels = make_labels (t->labels, &n_labels, &owned);
	AstraSeries series = { .id = 1, .metric = "m", .n_labels = n_labels, .labels = labels };
	AstraSeries other_metric = { .id = 2, .metric = "n", .n_labels = n_labels, .labels = labels };

	ck_assert_msg (astra_rule_matches (rule, &series) == t->expected, "match = %s on {%s}: expected %d",
		       t->match, t->labels != NULL ? t->labels : "", t->expected);
	ck_assert (!astra_rule_matches (rule, &other_metric));
}
END_TEST

START_TEST (test_matches_long_value)
{
	/* longer than the stack buffer for reversed strings: GPatternSpec's own path */
	g_autofree char *value = g_strnfill (5000, 'x');
	g_autofree char *edge = g_strconcat ("y", value, "-edge", NULL);
	const AstraRule *rule = NULL;
	g_autoptr(AstraRuleSet) set = parse_good ("metric = m\nwarning = > 1\nmatch = a=?*x*-edge\n", &rule);
	AstraLabel labels[] = { { "a", edge } };
	AstraLabel labels_no[] = { { "a", value } };
	AstraSeries yes = { .id = 1, .metric = "m", .n_labels = 1, .labels = labels };
	AstraSeries no = { .id = 2, .metric = "m", .n_labels = 1, .labels = labels_no };

	ck_assert (astra_rule_matches (rule, &yes));
	ck_assert (!astra_rule_matches (rule, &no));
}
END_TEST

/* ---- durations ---- */

typedef struct {
	const char *text;
	gboolean ok;
	gint64 us;
} DurationCase;

static const DurationCase duration_cases[] = {
	{ "0", TRUE, 0 },
	{ "0s", TRUE, 0 },
	{ "0ms", TRUE, 0 },
	{ "500ms", TRUE, 500 * G_TIME_SPAN_MILLISECOND },
	{ "30s", TRUE, 30 * S },
	{ "90s", TRUE, 90 * S },
	{ "5m", TRUE, 5 * MN },
	{ "2h", TRUE, 2 * H },
	{ "1d", TRUE, D },
	{ "2d", TRUE, 2 * D },
	{ "1h30m", TRUE, H + 30 * MN },
	{ "1d2h3m4s5ms", TRUE, D + 2 * H + 3 * MN + 4 * S + 5 * G_TIME_SPAN_MILLISECOND },
	{ "1m500ms", TRUE, MN + 500 * G_TIME_SPAN_MILLISECOND },
	{ "007s", TRUE, 7 * S },
	{ "99999999999999999999d", TRUE, G_MAXINT64 }, /* saturates: too long, not malformed */
	{ "106751991d", TRUE, 106751991 * D },
	{ "106751992d", TRUE, G_MAXINT64 },
	{ "106751991d23h", TRUE, G_MAXINT64 },
	{ "", FALSE, 0 },
	{ "5", FALSE, 0 },
	{ "00", FALSE, 0 },
	{ "m", FALSE, 0 },
	{ "5x", FALSE, 0 },
	{ "5M", FALSE, 0 },
	{ "5S", FALSE, 0 },
	{ "-5m", FALSE, 0 },
	{ "+5m", FALSE, 0 },
	{ "1.5h", FALSE, 0 },
	{ "5 m", FALSE, 0 },
	{ " 5m", FALSE, 0 },
	{ "5m ", FALSE, 0 },
	{ "30m1h", FALSE, 0 },
	{ "1h1h", FALSE, 0 },
	{ "1s1ms1s", FALSE, 0 },
	{ "5ms1s", FALSE, 0 },
	{ "1m0", FALSE, 0 },
	{ "5mm", FALSE, 0 },
	{ "ms5", FALSE, 0 },
	{ "1w", FALSE, 0 },
};

START_TEST (test_duration)
{
	const DurationCase *t = &duration_cases[_i];
	gint64 us = -1;
	gboolean ok = astra_parse_duration (t->text, &us);

	ck_assert_msg (ok == t->ok, "'%s': expected %d", t->text, t->ok);
	if (ok)
		ck_assert_int_eq (us, t->us);
	else
		ck_assert_int_eq (us, -1);
}
END_TEST

/* ---- conditions ---- */

typedef struct {
	const char *condition;
	double value;
	gboolean expected;
} HoldsCase;

static const HoldsCase holds_cases[] = {
	{ "> 100", 100.5, TRUE },
	{ "> 100", 100, FALSE },
	{ ">= 100", 100, TRUE },
	{ ">= 100", 99.9, FALSE },
	{ "< 80", 79, TRUE },
	{ "< 80", 80, FALSE },
	{ "<= 0", 0, TRUE },
	{ "<= 0", 0.001, FALSE },
	{ "== 0", 0, TRUE },
	{ "== 0", -0.0, TRUE },
	{ "== 0", 1, FALSE },
	{ "!= 1", 0, TRUE },
	{ "!= 1", 1, FALSE },
	{ "outside 10..20", 9, TRUE },
	{ "outside 10..20", 10, FALSE },
	{ "outside 10..20", 15, FALSE },
	{ "outside 10..20", 20, FALSE },
	{ "outside 10..20", 21, TRUE },
	{ "inside 10..20", 10, TRUE },
	{ "inside 10..20", 20, TRUE },
	{ "inside 10..20", 9.99, FALSE },
	{ "inside 10..20", 20.01, FALSE },
	{ "> -5", -4, TRUE },
	{ "> 1e3", 1001, TRUE },
};

START_TEST (test_condition_holds)
{
	const HoldsCase *t = &holds_cases[_i];
	g_autofree char *body = g_strdup_printf ("metric = m\nwarning = %s\n", t->condition);
	const AstraRule *rule = NULL;
	g_autoptr(AstraRuleSet) set = parse_good (body, &rule);

	ck_assert_msg (astra_condition_holds (&rule->warning, t->value) == t->expected,
		       "%s at %g: expected %d", t->condition, t->value, t->expected);
	/* a NaN never holds, not even for != */
	ck_assert (!astra_condition_holds (&rule->warning, NAN));
	/* an unset condition never holds */
	ck_assert (!astra_condition_holds (&rule->critical, t->value));
}
END_TEST

/* ---- fingerprints ---- */

static char *
fingerprint_of (const char *text, const char *name)
{
	g_autofree char *errors = NULL;
	g_autoptr(AstraRuleSet) set = parse_text (text, NULL, &errors);
	const AstraRule *rule;

	ck_assert_msg (errors[0] == '\0', "unexpected errors for\n%s\n%s", text, errors);
	rule = astra_rule_set_lookup (set, name);
	ck_assert_ptr_nonnull (rule);
	return g_strdup (rule->fingerprint);
}

#define FP_BASE                                                                                              \
	"metric = latency_ms\nmatch = target=8.8.8.8, env={prod,staging}, host!=edge-*\naggregate = avg "    \
	"5m\n"                                                                                               \
	"warning = > 100\ncritical = > 200\nclear = < 80\nfor = 2m\nkeep-firing-for = 5m\nno-data = 10m\n"   \
	"repeat = 1h\nlabels = team=netops, page=yes\nsummary = Latency is {value}\ndescription = d\n"       \
	"webhooks = a; b\nenabled = true\ninhibit-when-agent-offline = true\n"

START_TEST (test_fingerprint_stable)
{
	g_autofree char *base = fingerprint_of ("[rule r]\n" FP_BASE, "r");
	/* the same rule: keys in another order, other spacing and spelling, another name, file position and
	 * defaults written out or not */
	const char *same[] = {
		"[rule other-name]\n" FP_BASE,
		"# moved down\n\n\n[rule r]\n" FP_BASE,
		"[rule r]\n"
		"inhibit-when-agent-offline = yes\nenabled = 1\nwebhooks = b,a;\ndescription = d\n"
		"summary =   Latency is {value}   \nlabels = page=yes,team=netops\nrepeat = 60m\nno-data = "
		"600s\n"
		"keep-firing-for = 300000ms\nfor = 120s\nclear = <80.0\ncritical = >2e2\nwarning = >   100\n"
		"aggregate = avg   5m\nmatch = host!=edge-*,env={staging, prod},target=8.8.8.8\nmetric = "
		"latency_ms\n",
	};

	ck_assert_uint_eq (strlen (base), 64);
	for (guint i = 0; i < G_N_ELEMENTS (same); i++) {
		const char *name = g_str_has_prefix (same[i], "[rule other-name]") ? "other-name" : "r";
		g_autofree char *fp = fingerprint_of (same[i], name);
		ck_assert_msg (g_strcmp0 (fp, base) == 0, "variant %u differs", i);
	}
}
END_TEST

START_TEST (test_fingerprint_changes)
{
	/* each is FP_BASE with one thing changed */
	static const char *const changes[][2] = {
		{ "metric = latency_ms\n", "metric = latency_us\n" },
		{ "target=8.8.8.8", "target=8.8.4.4" },
		{ "target=8.8.8.8", "target!=8.8.8.8" },
		{ "env={prod,staging}", "env={prod,staging,dev}" },
		{ "env={prod,staging}", "env!={prod,staging}" },
		{ "host!=edge-*", "host=edge-*" },
		{ "host!=edge-*", "host!=edge-?" },
		{ "avg 5m", "avg 6m" },
		{ "avg 5m", "p95 5m" },
		{ "warning = > 100", "warning = >= 100" },
		{ "warning = > 100", "warning = > 101" },
		{ "warning = > 100", "warning = > 100.000001" },
		{ "critical = > 200", "critical = >= 200" },
		{ "clear = < 80", "clear = < 79" },
		{ "for = 2m", "for = 3m" },
		{ "keep-firing-for = 5m", "keep-firing-for = 0" },
		{ "no-data = 10m", "no-data = 0" },
		{ "repeat = 1h", "repeat = 2h" },
		{ "team=netops", "team=ops" },
		{ "page=yes", "pager=yes" },
		{ "summary = Latency is {value}", "summary = Latency: {value}" },
		{ "description = d", "description = e" },
		{ "webhooks = a; b", "webhooks = a" },
		{ "enabled = true", "enabled = false" },
		{ "inhibit-when-agent-offline = true", "inhibit-when-agent-offline = false" },
	};
	g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

	g_hash_table_add (seen, fingerprint_of ("[rule r]\n" FP_BASE, "r"));
	for (guint i = 0; i < G_N_ELEMENTS (changes); i++) {
		g_autoptr(GString) text = g_string_new ("[rule r]\n" FP_BASE);
		char *fp;

		ck_assert_uint_eq (g_string_replace (text, changes[i][0], changes[i][1], 1), 1);
		fp = fingerprint_of (text->str, "r");
		ck_assert_msg (!g_hash_table_contains (seen, fp), "'%s' -> '%s' keeps the fingerprint",
			       changes[i][0], changes[i][1]);
		g_hash_table_add (seen, fp);
	}
	/* leaving out a key that has no default of the same meaning changes it too */
	{
		g_autoptr(GString) text = g_string_new ("[rule r]\n" FP_BASE);
		char *fp;

		g_string_replace (text, "clear = < 80\n", "", 1);
		fp = fingerprint_of (text->str, "r");
		ck_assert (!g_hash_table_contains (seen, fp));
		g_hash_table_add (seen, fp);
	}
}
END_TEST

/* ---- rendering ---- */

static const char *
render_lookup_cb (const char *name, gpointer user_data)
{
	GHashTable *values = user_data;
	return g_hash_table_lookup (values, name);
}

START_TEST (test_render_text)
{
	g_autoptr(GHashTable) values = g_hash_table_new (g_str_hash, g_str_equal);
	static const char *const cases[][2] = {
		{ "Latency from {hostname} to {target} is {value} ms",
		  "Latency from edge-1 to 8.8.8.8 is 250 ms" },
		{ "{severity}: {rule} on {metric} over {threshold}", "critical: r on latency_ms over 200" },
		{ "{{literal}} {value}", "{literal}} 250" },
		{ "missing [{no_such_label}]", "missing []" },
		{ "no placeholders", "no placeholders" },
		{ "", "" },
		{ "unclosed {value", "unclosed {value" },
		{ "empty {} stays", "empty {} stays" },
		{ "{value}{value}", "250250" },
		{ "caf\xc3\xa9 {target}", "caf\xc3\xa9 8.8.8.8" },
	};

	g_hash_table_insert (values, (gpointer) "hostname", (gpointer) "edge-1");
	g_hash_table_insert (values, (gpointer) "target", (gpointer) "8.8.8.8");
	g_hash_table_insert (values, (gpointer) "value", (gpointer) "250");
	g_hash_table_insert (values, (gpointer) "severity", (gpointer) "critical");
	g_hash_table_insert (values, (gpointer) "rule", (gpointer) "r");
	g_hash_table_insert (values, (gpointer) "metric", (gpointer) "latency_ms");
	g_hash_table_insert (values, (gpointer) "threshold", (gpointer) "200");
	for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
		g_autofree char *text = astra_rule_render_text (cases[i][0], render_lookup_cb, values);
		ck_assert_str_eq (text, cases[i][1]);
	}
}
END_TEST

START_TEST (test_aggregate_names)
{
	static const char *const names[] = { "last", "avg", "min", "max", "sum", "count",
					     "rate", "p50", "p90", "p95", "p99" };

	for (guint i = 0; i < G_N_ELEMENTS (names); i++)
		ck_assert_str_eq (astra_aggregate_to_string ((AstraAggregate) i), names[i]);
	ck_assert_ptr_null (astra_aggregate_to_string ((AstraAggregate) G_N_ELEMENTS (names)));
}
END_TEST

static Suite *
rules_suite (void)
{
	Suite *s = suite_create ("rules");
	TCase *tc;

	tc = tcase_create ("parse");
	tcase_add_loop_test (tc, test_good_rule, 0, G_N_ELEMENTS (good_rules));
	tcase_add_test (tc, test_good_file);
	tcase_add_loop_test (tc, test_broken_file, 0, G_N_ELEMENTS (broken_files));
	tcase_add_test (tc, test_rule_name_length);
	tcase_add_test (tc, test_bounds);
	tcase_add_test (tc, test_known_webhooks);
	tcase_add_test (tc, test_lookup);
	tcase_add_test (tc, test_add_file_keeps_good_rules);
	suite_add_tcase (s, tc);

	tc = astra_check_tmpdir_tcase_new ("folders");
	tcase_add_test (tc, test_load_dir);
	tcase_add_test (tc, test_load_dir_missing);
	tcase_add_test (tc, test_duplicate_across_files);
	tcase_add_test (tc, test_load_dir_errors);
	tcase_add_test (tc, test_example_files);
	suite_add_tcase (s, tc);

	tc = tcase_create ("semantics");
	tcase_add_loop_test (tc, test_matches, 0, G_N_ELEMENTS (match_cases));
	tcase_add_test (tc, test_matches_long_value);
	tcase_add_loop_test (tc, test_duration, 0, G_N_ELEMENTS (duration_cases));
	tcase_add_loop_test (tc, test_condition_holds, 0, G_N_ELEMENTS (holds_cases));
	tcase_add_test (tc, test_fingerprint_stable);
	tcase_add_test (tc, test_fingerprint_changes);
	tcase_add_test (tc, test_render_text);
	tcase_add_test (tc, test_aggregate_names);
	suite_add_tcase (s, tc);

	return s;
}

int
main (void)
{
	return astra_check_run_suite (rules_suite ());
}
