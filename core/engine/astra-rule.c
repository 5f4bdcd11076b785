/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>

#include "astra-keyfile-scan.h"
#include "astra-rule.h"

/*
 * Rule files are GKeyFiles, but GKeyFile forgets line numbers, silently lets a
 * repeated key win, merges a repeated group and ignores localized keys
 * ("summary[de]"): every file is first scanned line by line, like
 * astra-config.c does, so that each problem is reported where it was written.
 * GKeyFile then reads the values (and their escapes).
 */

#define ASTRA_RULE_GROUP_PREFIX "rule "
#define ASTRA_RULE_MAX_FILE_SIZE (4 * 1024 * 1024)
#define ASTRA_RULE_MAX_NAME_LENGTH 128
#define ASTRA_RULE_MAX_WEBHOOK_LENGTH 64
#define ASTRA_RULE_MAX_MATCHERS 64
#define ASTRA_RULE_MAX_SET_VALUES 256
#define ASTRA_RULE_MAX_EXTRA_LABELS ASTRA_SERIES_DEFAULT_MAX_LABELS
#define ASTRA_RULE_MAX_LABEL_NAME ASTRA_SERIES_DEFAULT_MAX_NAME_LENGTH
#define ASTRA_RULE_MAX_LABEL_VALUE ASTRA_SERIES_DEFAULT_MAX_VALUE_LENGTH
#define ASTRA_RULE_MAX_SUMMARY 1024
#define ASTRA_RULE_MAX_DESCRIPTION 16384
#define ASTRA_RULE_CONDITION_EXAMPLE "expected a condition such as '> 200' or 'outside 10..20'"
#define ASTRA_RULE_DURATION_EXAMPLE "expected a duration such as '30s', '5m' or '1h30m' (units: ms s m h d)"
#define ASTRA_RULE_PLACEHOLDERS "{value}, {threshold}, {hostname}, {metric}, {rule}, {severity} or {LABEL}"

/* one problem of one file, sorted by line before it is reported */
typedef struct {
	guint line;
	guint seq;
	char *text;
} AstraRuleError;

/* one file being parsed */
typedef struct {
	const char *path;
	GKeyFile *keyfile;
	const char *const *known_webhooks;
	GPtrArray *errors; /* AstraRuleError */
} AstraRuleFile;

/* one [rule NAME] group being parsed */
typedef struct {
	AstraRuleFile *file;
	AstraGroupLines *group;
	AstraRule *rule;
} AstraRuleParser;

typedef gboolean (*AstraRuleKeyFunc) (AstraRuleParser *parser, const char *value, GError **error);

struct _AstraRuleSet {
	GObject parent_instance;
	GPtrArray *rules;      /* AstraRule, in the order of the files and of their groups */
	GHashTable *by_name;   /* name -> AstraRule */
	GHashTable *index;     /* metric -> AstraRuleIndex over its enabled rules */
	GHashTable *defined;   /* name -> "FILE:LINE" of every group seen, valid or not */
	GPtrArray *empty;      /* what lookup_metric() returns for a metric without rules */
};

G_DEFINE_FINAL_TYPE (AstraRuleSet, astra_rule_set, G_TYPE_OBJECT)

static const char *const astra_aggregate_names[] = {
	[ASTRA_AGGREGATE_LAST] = "last", [ASTRA_AGGREGATE_AVG] = "avg", [ASTRA_AGGREGATE_MIN] = "min",
	[ASTRA_AGGREGATE_MAX] = "max",   [ASTRA_AGGREGATE_SUM] = "sum", [ASTRA_AGGREGATE_COUNT] = "count",
	[ASTRA_AGGREGATE_RATE] = "rate", [ASTRA_AGGREGATE_P50] = "p50", [ASTRA_AGGREGATE_P90] = "p90",
	[ASTRA_AGGREGATE_P95] = "p95",   [ASTRA_AGGREGATE_P99] = "p99",
};

static const char *const astra_rule_builtin_placeholders[] = {
	"value", "threshold", "hostname", "metric", "rule", "severity", NULL,
};

/* ---- errors ---- */

static void
astra_rule_error_free (AstraRuleError *error)
{
	g_free (error->text);
	g_free (error);
}

static char *
astra_rule_describe_group (const char *group)
{
	if (g_str_has_prefix (group, ASTRA_RULE_GROUP_PREFIX))
		return g_strdup (group);
	return g_strdup_printf ("[%s]", group);
}

/* "PATH:LINE: rule NAME: KEY: message", without the parts that are NULL or 0 */
static void astra_rule_file_add_error (
    AstraRuleFile *file, guint line, const char *group, const char *key, const char *format, ...)
    G_GNUC_PRINTF (5, 6);

static void
astra_rule_file_add_error (
    AstraRuleFile *file, guint line, const char *group, const char *key, const char *format, ...)
{
	AstraRuleError *error = g_new0 (AstraRuleError, 1);
	GString *str = g_string_new (file->path);
	va_list args;

	if (line > 0)
		g_string_append_printf (str, ":%u", line);
	if (group != NULL) {
		g_autofree char *describe = astra_rule_describe_group (group);
		g_string_append_printf (str, ": %s", describe);
	}
	if (key != NULL)
		g_string_append_printf (str, ": %s", key);
	g_string_append (str, ": ");
	va_start (args, format);
	g_string_append_vprintf (str, format, args);
	va_end (args);

	error->line = line;
	error->seq = file->errors->len;
	error->text = g_string_free (str, FALSE);
	g_ptr_array_add (file->errors, error);
}

static const AstraKeyfileDialect astra_rule_dialect = {
    .group_example = "[rule NAME]",
    .key_example = "'warning' or 'no-data'",
};

static void
astra_rule_scan_problem_cb (guint line, const char *group, const char *key, const char *message, gpointer user_data)
{
	astra_rule_file_add_error (user_data, line, group, key, "%s", message);
}

static gint
astra_rule_error_compare (gconstpointer a, gconstpointer b)
{
	const AstraRuleError *ea = *(const AstraRuleError *const *) a;
	const AstraRuleError *eb = *(const AstraRuleError *const *) b;

	if (ea->line != eb->line)
		return ea->line < eb->line ? -1 : 1;
	return ea->seq < eb->seq ? -1 : ea->seq > eb->seq ? 1 : 0;
}

/* ---- names ---- */

/* rule and webhook names: [A-Za-z0-9._-]{1,max} */
static gboolean
astra_rule_word_is_valid (const char *name, gsize max)
{
	gsize len = strlen (name);

	if (len == 0 || len > max)
		return FALSE;
	for (const char *p = name; *p != '\0'; p++) {
		if (!g_ascii_isalnum (*p) && *p != '.' && *p != '_' && *p != '-')
			return FALSE;
	}
	return TRUE;
}

/* ---- durations and numbers ---- */

/**
 * astra_parse_duration:
 * @text: a duration such as "500ms", "30s", "5m", "2h", "1d" or "1h30m"
 * @out_us: (out): the duration in microseconds
 *
 * Parses a duration: whole numbers each followed by a unit (`d`, `h`, `m`,
 * `s`, `ms`), larger units first, each unit at most once, no spaces; "0"
 * alone is zero. A duration too long for a #gint64 saturates at %G_MAXINT64,
 * so that callers report it as too long rather than as malformed.
 *
 * Returns: %FALSE if @text is malformed or negative
 *
 * Since: 1.0
 */
gboolean
astra_parse_duration (const char *text, gint64 *out_us)
{
	/* in the order they must be written */
	static const struct {
		const char *unit;
		gint64 us;
	} units[] = {
		{ "d", G_TIME_SPAN_DAY },    { "h", G_TIME_SPAN_HOUR },   { "ms", G_TIME_SPAN_MILLISECOND },
		{ "m", G_TIME_SPAN_MINUTE }, { "s", G_TIME_SPAN_SECOND },
	};
	/* "ms" is checked before "m" but comes after "s" */
	static const guint rank[] = { 0, 1, 4, 2, 3 };
	const char *p = text;
	gint64 total = 0;
	gint last_rank = -1;

	g_return_val_if_fail (out_us != NULL, FALSE);

	if (text == NULL || text[0] == '\0')
		return FALSE;
	if (g_strcmp0 (text, "0") == 0) {
		*out_us = 0;
		return TRUE;
	}
	while (*p != '\0') {
		guint64 number = 0;
		gboolean saturated = FALSE;
		guint u;

		if (!g_ascii_isdigit (*p))
			return FALSE;
		for (; g_ascii_isdigit (*p); p++) {
			if (number > (G_MAXUINT64 - 9) / 10)
				saturated = TRUE;
			else
				number = number * 10 + (guint64) (*p - '0');
		}
		for (u = 0; u < G_N_ELEMENTS (units); u++) {
			if (g_str_has_prefix (p, units[u].unit))
				break;
		}
		if (u == G_N_ELEMENTS (units) || (gint) rank[u] <= last_rank)
			return FALSE;
		last_rank = (gint) rank[u];
		p += strlen (units[u].unit);
		if (saturated || number > (guint64) (G_MAXINT64 / units[u].us) ||
		    (gint64) number * units[u].us > G_MAXINT64 - total)
			total = G_MAXINT64;
		else
			total += (gint64) number * units[u].us;
	}
	*out_us = total;
	return TRUE;
}

/**
 * astra_format_duration:
 * @duration_us: a duration in microseconds, not negative
 *
 * Formats a duration the way rule files write them, largest unit first and
 * zero parts left out: `10m`, `1h30m`, `2d`, `1s500ms`, `0s`.
 *
 * Returns: (transfer full): the text
 *
 * Since: 1.0
 */
char *
astra_format_duration (gint64 duration_us)
{
	static const struct {
		const char *unit;
		gint64 us;
	} units[] = {
		{ "d", G_GINT64_CONSTANT (86400000000) }, { "h", G_GINT64_CONSTANT (3600000000) },
		{ "m", G_GINT64_CONSTANT (60000000) },    { "s", G_GINT64_CONSTANT (1000000) },
		{ "ms", G_GINT64_CONSTANT (1000) },       { "us", 1 },
	};
	GString *str = g_string_new (NULL);

	if (duration_us <= 0)
		return g_string_free (g_string_append (str, "0s"), FALSE);
	for (guint i = 0; i < G_N_ELEMENTS (units); i++) {
		gint64 n = duration_us / units[i].us;
		if (n == 0)
			continue;
		g_string_append_printf (str, "%" G_GINT64_FORMAT "%s", n, units[i].unit);
		duration_us -= n * units[i].us;
	}
	return g_string_free (str, FALSE);
}

/* a finite decimal number: [+-]DIGITS[.DIGITS][e[+-]DIGITS]; no hex, inf or nan */
static gboolean
astra_rule_parse_number (const char *text, double *out)
{
	const char *p = text;
	gboolean digits = FALSE;
	char *end = NULL;
	double value;

	if (*p == '+' || *p == '-')
		p++;
	for (; g_ascii_isdigit (*p); p++)
		digits = TRUE;
	if (*p == '.') {
		for (p++; g_ascii_isdigit (*p); p++)
			digits = TRUE;
	}
	if (!digits)
		return FALSE;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!g_ascii_isdigit (*p))
			return FALSE;
		while (g_ascii_isdigit (*p))
			p++;
	}
	if (*p != '\0')
		return FALSE;
	value = g_ascii_strtod (text, &end);
	if (end != p || !isfinite (value))
		return FALSE;
	*out = value == 0 ? 0 : value; /* no "-0" */
	return TRUE;
}

/* the shortest text that reads back as the same double */
static char *
astra_rule_format_number (double value)
{
	char buf[G_ASCII_DTOSTR_BUF_SIZE];

	g_ascii_formatd (buf, sizeof (buf), "%.15g", value);
	if (g_ascii_strtod (buf, NULL) != value)
		g_ascii_formatd (buf, sizeof (buf), "%.17g", value);
	return g_strdup (buf);
}

/* ---- conditions ---- */

static const struct {
	const char *token;
	AstraCompareOp op;
} astra_compare_ops[] = {
	/* two-character operators first: ">=" is not "> =" */
	{ ">=", ASTRA_COMPARE_GE }, { "<=", ASTRA_COMPARE_LE }, { "==", ASTRA_COMPARE_EQ },
	{ "!=", ASTRA_COMPARE_NE }, { ">", ASTRA_COMPARE_GT },  { "<", ASTRA_COMPARE_LT },
};

static void
astra_condition_clear (AstraCondition *condition)
{
	g_clear_pointer (&condition->text, g_free);
	condition->op = ASTRA_COMPARE_NONE;
	condition->threshold = 0;
	condition->high = 0;
}

static gboolean
astra_condition_parse (const char *text, AstraCondition *condition, GError **error)
{
	gboolean outside =
	    g_str_has_prefix (text, "outside") && (text[7] == '\0' || g_ascii_isspace (text[7]));
	gboolean inside = g_str_has_prefix (text, "inside") && (text[6] == '\0' || g_ascii_isspace (text[6]));

	if (outside || inside) {
		const char *rest = text + (outside ? strlen ("outside") : strlen ("inside"));
		const char *dots;
		g_autofree char *low_text = NULL;
		g_autofree char *high_text = NULL;
		g_autofree char *low_str = NULL;
		g_autofree char *high_str = NULL;
		double low = 0;
		double high = 0;

		dots = strstr (rest, "..");
		if (dots == NULL) {
			g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
				     "'%s' has no range: expected '%s LOW..HIGH', e.g. '%s 10..20'", text,
				     outside ? "outside" : "inside", outside ? "outside" : "inside");
			return FALSE;
		}
		low_text = g_strstrip (g_strndup (rest, (gsize) (dots - rest)));
		high_text = g_strstrip (g_strdup (dots + 2));
		if (!astra_rule_parse_number (low_text, &low) ||
		    !astra_rule_parse_number (high_text, &high)) {
			g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
				     "'%s' is not a range of two finite numbers: expected e.g. '%s 10..20'",
				     text, outside ? "outside" : "inside");
			return FALSE;
		}
		low_str = astra_rule_format_number (low);
		high_str = astra_rule_format_number (high);
		if (low > high) {
			g_set_error (
			    error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
			    "the range %s..%s is empty: LOW must not be greater than HIGH, e.g. '%s %s..%s'",
			    low_str, high_str, outside ? "outside" : "inside", high_str, low_str);
			return FALSE;
		}
		astra_condition_clear (condition);
		condition->op = outside ? ASTRA_COMPARE_OUTSIDE : ASTRA_COMPARE_INSIDE;
		condition->threshold = low;
		condition->high = high;
		condition->text =
		    g_strdup_printf ("%s %s..%s", outside ? "outside" : "inside", low_str, high_str);
		return TRUE;
	}

	for (guint i = 0; i < G_N_ELEMENTS (astra_compare_ops); i++) {
		const char *rest;
		g_autofree char *number_text = NULL;
		g_autofree char *number_str = NULL;
		double number = 0;

		if (!g_str_has_prefix (text, astra_compare_ops[i].token))
			continue;
		rest = text + strlen (astra_compare_ops[i].token);
		number_text = g_strstrip (g_strdup (rest));
		if (number_text[0] == '\0') {
			g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG, "'%s' has no number: %s",
				     text, ASTRA_RULE_CONDITION_EXAMPLE);
			return FALSE;
		}
		if (!astra_rule_parse_number (number_text, &number)) {
			g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
				     "'%s' is not a finite number: %s", number_text,
				     ASTRA_RULE_CONDITION_EXAMPLE);
			return FALSE;
		}
		number_str = astra_rule_format_number (number);
		astra_condition_clear (condition);
		condition->op = astra_compare_ops[i].op;
		condition->threshold = number;
		condition->text = g_strdup_printf ("%s %s", astra_compare_ops[i].token, number_str);
		return TRUE;
	}
	g_set_error (
	    error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
	    "'%s' is not a condition: %s (operators: > >= < <= == !=, outside LOW..HIGH, inside LOW..HIGH)",
	    text, ASTRA_RULE_CONDITION_EXAMPLE);
	return FALSE;
}

/**
 * astra_condition_holds:
 * @condition: a condition
 * @value: a value
 *
 * Whether @value satisfies @condition. `outside LOW..HIGH` holds below LOW
 * or above HIGH, `inside LOW..HIGH` from LOW to HIGH included.
 *
 * Returns: %FALSE for %ASTRA_COMPARE_NONE and for a NaN @value
 *
 * Since: 1.0
 */
gboolean
astra_condition_holds (const AstraCondition *condition, double value)
{
	if (isnan (value))
		return FALSE;
	switch (condition->op) {
	case ASTRA_COMPARE_GT:
		return value > condition->threshold;
	case ASTRA_COMPARE_GE:
		return value >= condition->threshold;
	case ASTRA_COMPARE_LT:
		return value < condition->threshold;
	case ASTRA_COMPARE_LE:
		return value <= condition->threshold;
	case ASTRA_COMPARE_EQ:
		return value == condition->threshold;
	case ASTRA_COMPARE_NE:
		return value != condition->threshold;
	case ASTRA_COMPARE_OUTSIDE:
		return value < condition->threshold || value > condition->high;
	case ASTRA_COMPARE_INSIDE:
		return value >= condition->threshold && value <= condition->high;
	case ASTRA_COMPARE_NONE:
	default:
		return FALSE;
	}
}

/* the values where a condition holds, as at most two intervals of the real line */
typedef struct {
	double low;
	double high;
	gboolean low_open;
	gboolean high_open;
} AstraInterval;

static guint
astra_condition_to_intervals (const AstraCondition *c, AstraInterval out[2])
{
	const AstraInterval below_open = { -INFINITY, c->threshold, TRUE, TRUE };
	const AstraInterval above_open = { c->threshold, INFINITY, TRUE, TRUE };

	switch (c->op) {
	case ASTRA_COMPARE_GT:
		out[0] = above_open;
		return 1;
	case ASTRA_COMPARE_GE:
		out[0] = above_open;
		out[0].low_open = FALSE;
		return 1;
	case ASTRA_COMPARE_LT:
		out[0] = below_open;
		return 1;
	case ASTRA_COMPARE_LE:
		out[0] = below_open;
		out[0].high_open = FALSE;
		return 1;
	case ASTRA_COMPARE_EQ:
		out[0] = (AstraInterval){ c->threshold, c->threshold, FALSE, FALSE };
		return 1;
	case ASTRA_COMPARE_NE:
		out[0] = below_open;
		out[1] = above_open;
		return 2;
	case ASTRA_COMPARE_OUTSIDE:
		out[0] = below_open;
		out[1] = (AstraInterval){ c->high, INFINITY, TRUE, TRUE };
		return 2;
	case ASTRA_COMPARE_INSIDE:
		out[0] = (AstraInterval){ c->threshold, c->high, FALSE, FALSE };
		return 1;
	case ASTRA_COMPARE_NONE:
	default:
		return 0;
	}
}

static gboolean
astra_interval_intersects (const AstraInterval *a, const AstraInterval *b)
{
	double low = MAX (a->low, b->low);
	double high = MIN (a->high, b->high);
	gboolean low_open = (a->low == low && a->low_open) || (b->low == low && b->low_open);
	gboolean high_open = (a->high == high && a->high_open) || (b->high == high && b->high_open);

	return low < high || (low == high && !low_open && !high_open);
}

static gboolean
astra_interval_contains (const AstraInterval *outer, const AstraInterval *inner)
{
	gboolean low_ok =
	    outer->low < inner->low || (outer->low == inner->low && (!outer->low_open || inner->low_open));
	gboolean high_ok = outer->high > inner->high ||
			   (outer->high == inner->high && (!outer->high_open || inner->high_open));
	return low_ok && high_ok;
}

/* some value satisfies both */
static gboolean
astra_condition_overlaps (const AstraCondition *a, const AstraCondition *b)
{
	AstraInterval ia[2];
	AstraInterval ib[2];
	guint na = astra_condition_to_intervals (a, ia);
	guint nb = astra_condition_to_intervals (b, ib);

	for (guint i = 0; i < na; i++) {
		for (guint j = 0; j < nb; j++) {
			if (astra_interval_intersects (&ia[i], &ib[j]))
				return TRUE;
		}
	}
	return FALSE;
}

/* every value that satisfies a satisfies b; the intervals of one condition are
 * separated by a gap, so each interval of a must lie within one of b's */
static gboolean
astra_condition_implies (const AstraCondition *a, const AstraCondition *b)
{
	AstraInterval ia[2];
	AstraInterval ib[2];
	guint na = astra_condition_to_intervals (a, ia);
	guint nb = astra_condition_to_intervals (b, ib);

	if (na == 0 || nb == 0)
		return FALSE;
	for (guint i = 0; i < na; i++) {
		gboolean contained = FALSE;
		for (guint j = 0; j < nb && !contained; j++)
			contained = astra_interval_contains (&ib[j], &ia[i]);
		if (!contained)
			return FALSE;
	}
	return TRUE;
}

/* ---- matchers ---- */

/**
 * astra_matcher_free:
 * @matcher: (nullable): a matcher
 *
 * Frees a matcher and what it owns.
 *
 * Since: 1.0
 */
void
astra_matcher_free (AstraMatcher *matcher)
{
	if (matcher == NULL)
		return;
	g_free (matcher->label);
	g_free (matcher->value);
	if (matcher->glob != NULL)
		g_pattern_spec_free (matcher->glob);
	g_strfreev (matcher->values);
	g_free (matcher);
}

/**
 * astra_matcher_to_string:
 * @matcher: a matcher
 *
 * Gets the normalised text of a matcher: no spaces around the operator, the
 * values of a set sorted. It parses back to the same matcher.
 *
 * Returns: (transfer full): the text, e.g. "env={prod,staging}"
 *
 * Since: 1.0
 */
char *
astra_matcher_to_string (const AstraMatcher *matcher)
{
	gboolean negated = matcher->op == ASTRA_MATCH_NOT_EQUAL || matcher->op == ASTRA_MATCH_NOT_GLOB ||
			   matcher->op == ASTRA_MATCH_NOT_IN;

	if (matcher->op == ASTRA_MATCH_IN || matcher->op == ASTRA_MATCH_NOT_IN) {
		g_autofree char *set = g_strjoinv (",", matcher->values);
		return g_strdup_printf ("%s%s={%s}", matcher->label, negated ? "!" : "", set);
	}
	return g_strdup_printf ("%s%s=%s", matcher->label, negated ? "!" : "", matcher->value);
}

/* GPatternSpec matches some patterns against the string reversed, which it
 * allocates unless given: reverse it on the stack instead */
static gboolean
astra_matcher_glob_match (GPatternSpec *glob, const char *value)
{
	char reversed[ASTRA_SERIES_DEFAULT_MAX_VALUE_LENGTH + 1];
	gsize len = strlen (value);

	if (len >= sizeof (reversed))
		return g_pattern_spec_match (glob, len, value, NULL);
	for (gsize i = 0; i < len;) {
		gsize n = (gsize) g_utf8_skip[(guchar) value[i]];
		if (n > len - i)
			n = len - i;
		memcpy (reversed + len - i - n, value + i, n);
		i += n;
	}
	reversed[len] = '\0';
	return g_pattern_spec_match (glob, len, value, reversed);
}

/**
 * astra_matcher_accepts:
 * @matcher: a matcher
 * @value: the value of the matcher's label; "" for a label that is absent
 *
 * Whether a label value satisfies a matcher. Globs use #GPatternSpec (`*`
 * and `?`), sets are exact values. Nothing is allocated for values up to
 * the series store's default length bound (1 KiB).
 *
 * Returns: %TRUE if it does
 *
 * Since: 1.0
 */
gboolean
astra_matcher_accepts (const AstraMatcher *matcher, const char *value)
{
	switch (matcher->op) {
	case ASTRA_MATCH_EQUAL:
		return strcmp (value, matcher->value) == 0;
	case ASTRA_MATCH_NOT_EQUAL:
		return strcmp (value, matcher->value) != 0;
	case ASTRA_MATCH_GLOB:
		return astra_matcher_glob_match (matcher->glob, value);
	case ASTRA_MATCH_NOT_GLOB:
		return !astra_matcher_glob_match (matcher->glob, value);
	case ASTRA_MATCH_IN:
	case ASTRA_MATCH_NOT_IN: {
		gboolean found = FALSE;
		for (guint i = 0; matcher->values[i] != NULL && !found; i++)
			found = strcmp (value, matcher->values[i]) == 0;
		return matcher->op == ASTRA_MATCH_IN ? found : !found;
	}
	default:
		return FALSE;
	}
}

static gint
astra_rule_strcmp (gconstpointer a, gconstpointer b)
{
	return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* label={a,b,c}: exact values, sorted */
static GStrv
astra_matcher_parse_set (const char *item, const char *set, GError **error)
{
	g_autoptr(GPtrArray) values = g_ptr_array_new_with_free_func (g_free);
	g_autofree char *inner = NULL;
	g_auto(GStrv) parts = NULL;
	gsize len = strlen (set);

	if (len < 2 || set[len - 1] != '}') {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
			     "'%s' has an unclosed '{': a set is written label={a,b,c}", item);
		return NULL;
	}
	inner = g_strndup (set + 1, len - 2);
	if (g_strstrip (inner)[0] == '\0') {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
			     "'%s' has an empty set: expected label={a,b,c}", item);
		return NULL;
	}
	parts = g_strsplit (inner, ",", -1);
	for (guint i = 0; parts[i] != NULL; i++) {
		char *value = g_strstrip (parts[i]);

		if (value[0] == '\0') {
			g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
				     "'%s' has an empty value in its set: expected label={a,b,c}", item);
			return NULL;
		}
		if (strpbrk (value, "{}") != NULL) {
			g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
				     "'%s': sets do not nest: expected label={a,b,c}", item);
			return NULL;
		}
		if (strpbrk (value, "*?") != NULL) {
			g_set_error (
			    error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
			    "'%s': a set holds exact values, '%s' has a wildcard: write a glob as a matcher "
			    "of its own, e.g. label=edge-*",
			    item, value);
			return NULL;
		}
		if (strlen (value) > ASTRA_RULE_MAX_LABEL_VALUE) {
			g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
				     "'%s': a value is longer than %u bytes", item,
				     (guint) ASTRA_RULE_MAX_LABEL_VALUE);
			return NULL;
		}
		for (guint j = 0; j < values->len; j++) {
			if (strcmp (g_ptr_array_index (values, j), value) == 0) {
				g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
					     "'%s' lists '%s' twice", item, value);
				return NULL;
			}
		}
		if (values->len >= ASTRA_RULE_MAX_SET_VALUES) {
			g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
				     "'%s' has more than %u values", item, (guint) ASTRA_RULE_MAX_SET_VALUES);
			return NULL;
		}
		g_ptr_array_add (values, g_strdup (value));
	}
	g_ptr_array_sort (values, astra_rule_strcmp);
	g_ptr_array_add (values, NULL);
	return (GStrv) g_ptr_array_free (g_steal_pointer (&values), FALSE);
}

/**
 * astra_matcher_parse:
 * @item: one matcher: `label=value`, `label!=value`, `label=glob*`,
 *   `label!=glob*`, `label={a,b}` or `label!={a,b}`; spaces around the
 *   label and the value are ignored
 * @error: return location for a #GError
 *
 * Parses one label matcher, as a rule's `match =` lists them and as
 * silences take them. The one parser of matchers in the project.
 *
 * Returns: (transfer full): the matcher; %NULL with
 *   %ASTRA_ERROR_INVALID_CONFIG and a message quoting @item if it is not one
 *
 * Since: 1.0
 */
AstraMatcher *
astra_matcher_parse (const char *item, GError **error)
{
	g_autoptr(AstraMatcher) matcher = g_new0 (AstraMatcher, 1);
	const char *eq = strchr (item, '=');
	gboolean negated;
	g_autofree char *value = NULL;

	if (eq == NULL) {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG, "'%s' is not a matcher: %s",
			     item, ASTRA_MATCHER_EXAMPLE);
		return NULL;
	}
	negated = eq > item && eq[-1] == '!';
	matcher->label = g_strstrip (g_strndup (item, (gsize) (eq - item - (negated ? 1 : 0))));
	value = g_strstrip (g_strdup (eq + 1));
	if (!astra_series_name_is_valid (matcher->label, ASTRA_RULE_MAX_LABEL_NAME)) {
		g_set_error (
		    error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
		    "'%s' is not a label name in '%s': expected 1 to %u characters from a-z A-Z 0-9 _ : . -, "
		    "starting with a letter, _ or :",
		    matcher->label, item, (guint) ASTRA_RULE_MAX_LABEL_NAME);
		return NULL;
	}
	if (value[0] == '=' || value[0] == '~') {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
			     "'%s' is not a matcher (no == and no regular expressions): %s", item,
			     ASTRA_MATCHER_EXAMPLE);
		return NULL;
	}
	if (value[0] == '{') {
		matcher->values = astra_matcher_parse_set (item, value, error);
		if (matcher->values == NULL)
			return NULL;
		matcher->op = negated ? ASTRA_MATCH_NOT_IN : ASTRA_MATCH_IN;
		return g_steal_pointer (&matcher);
	}
	if (strpbrk (value, "{}") != NULL) {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
			     "'%s': '{' and '}' only surround a whole set: %s", item, ASTRA_MATCHER_EXAMPLE);
		return NULL;
	}
	if (strlen (value) > ASTRA_RULE_MAX_LABEL_VALUE) {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
			     "'%s': the value is longer than %u bytes", item,
			     (guint) ASTRA_RULE_MAX_LABEL_VALUE);
		return NULL;
	}
	if (strpbrk (value, "*?") != NULL) {
		matcher->glob = g_pattern_spec_new (value);
		matcher->op = negated ? ASTRA_MATCH_NOT_GLOB : ASTRA_MATCH_GLOB;
	} else {
		matcher->op = negated ? ASTRA_MATCH_NOT_EQUAL : ASTRA_MATCH_EQUAL;
	}
	matcher->value = g_steal_pointer (&value);
	return g_steal_pointer (&matcher);
}

static gint
astra_matcher_compare (gconstpointer a, gconstpointer b)
{
	const AstraMatcher *ma = *(const AstraMatcher *const *) a;
	const AstraMatcher *mb = *(const AstraMatcher *const *) b;
	g_autofree char *sa = NULL;
	g_autofree char *sb = NULL;
	gint rc = strcmp (ma->label, mb->label);

	if (rc != 0)
		return rc;
	if (ma->op != mb->op)
		return ma->op < mb->op ? -1 : 1;
	sa = astra_matcher_to_string (ma);
	sb = astra_matcher_to_string (mb);
	return strcmp (sa, sb);
}

/**
 * astra_matchers_sort_and_check:
 * @matchers: (element-type AstraMatcher): matchers that must all hold
 * @consequence: what would follow from contradictory matchers, e.g. "the rule would match no series"
 * @error: return location for a #GError
 *
 * Sorts matchers by label, then operator and text, and refuses a matcher
 * listed twice (a typo) and a `label=a` with another matcher of the same
 * label that refuses `a` (nothing could match both).
 *
 * Returns: %TRUE if the matchers are usable; %FALSE with
 *   %ASTRA_ERROR_INVALID_CONFIG quoting the matchers at fault
 *
 * Since: 1.0
 */
gboolean
astra_matchers_sort_and_check (GPtrArray *matchers, const char *consequence, GError **error)
{
	g_return_val_if_fail (matchers != NULL, FALSE);
	g_return_val_if_fail (consequence != NULL, FALSE);

	g_ptr_array_sort (matchers, astra_matcher_compare);

	/* a repeated matcher is a typo; label=a with anything that refuses a matches nothing */
	for (guint i = 0; i < matchers->len; i++) {
		const AstraMatcher *m = g_ptr_array_index (matchers, i);
		g_autofree char *text = astra_matcher_to_string (m);

		for (guint j = i + 1; j < matchers->len; j++) {
			const AstraMatcher *other = g_ptr_array_index (matchers, j);
			g_autofree char *other_text = NULL;

			if (strcmp (m->label, other->label) != 0)
				break;
			other_text = astra_matcher_to_string (other);
			if (strcmp (text, other_text) == 0) {
				g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
					     "'%s' is listed twice", text);
				return FALSE;
			}
		}
		if (m->op != ASTRA_MATCH_EQUAL)
			continue;
		for (guint j = 0; j < matchers->len; j++) {
			const AstraMatcher *other = g_ptr_array_index (matchers, j);
			g_autofree char *other_text = NULL;

			if (j == i || strcmp (m->label, other->label) != 0 ||
			    astra_matcher_accepts (other, m->value))
				continue;
			other_text = astra_matcher_to_string (other);
			g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
				     "'%s' and '%s' never both hold: %s", text, other_text, consequence);
			return FALSE;
		}
	}
	return TRUE;
}

/* ---- the keys of a rule ---- */

static gboolean
astra_rule_parse_metric (AstraRuleParser *parser, const char *value, GError **error)
{
	if (!astra_series_name_is_valid (value, ASTRA_RULE_MAX_LABEL_NAME)) {
		g_set_error (
		    error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
		    "'%s' is not a metric name: expected 1 to %u characters from a-z A-Z 0-9 _ : . -, "
		    "starting with a letter, _ or :, e.g. latency_ms",
		    value, (guint) ASTRA_RULE_MAX_LABEL_NAME);
		return FALSE;
	}
	parser->rule->metric = g_strdup (value);
	return TRUE;
}

static gboolean
astra_rule_parse_match (AstraRuleParser *parser, const char *value, GError **error)
{
	GPtrArray *matchers = parser->rule->matchers;
	g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func (g_free);
	const char *start = value;
	guint depth = 0;

	/* commas inside {...} belong to the set */
	for (const char *p = value;; p++) {
		if (*p == '{')
			depth++;
		else if (*p == '}' && depth > 0)
			depth--;
		if ((*p == ',' && depth == 0) || *p == '\0') {
			g_ptr_array_add (items, g_strstrip (g_strndup (start, (gsize) (p - start))));
			start = p + 1;
		}
		if (*p == '\0')
			break;
	}
	for (guint i = 0; i < items->len; i++) {
		const char *item = g_ptr_array_index (items, i);
		AstraMatcher *matcher;

		if (item[0] == '\0') {
			g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
				     "an empty matcher (a stray ','): %s, separated by commas",
				     ASTRA_MATCHER_EXAMPLE);
			return FALSE;
		}
		if (matchers->len >= ASTRA_RULE_MAX_MATCHERS) {
			g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG, "more than %u matchers",
				     (guint) ASTRA_RULE_MAX_MATCHERS);
			return FALSE;
		}
		matcher = astra_matcher_parse (item, error);
		if (matcher == NULL)
			return FALSE;
		g_ptr_array_add (matchers, matcher);
	}
	return astra_matchers_sort_and_check (matchers, "the rule would match no series", error);
}

static gboolean
astra_rule_parse_aggregate (AstraRuleParser *parser, const char *value, GError **error)
{
	AstraRule *rule = parser->rule;
	gsize func_len = strcspn (value, " \t");
	g_autofree char *func = g_strndup (value, func_len);
	g_autofree char *window = g_strstrip (g_strdup (value + func_len));
	g_autofree char *max = NULL;
	guint aggregate;
	gint64 window_us = 0;

	for (aggregate = 0; aggregate < G_N_ELEMENTS (astra_aggregate_names); aggregate++) {
		if (g_strcmp0 (func, astra_aggregate_names[aggregate]) == 0)
			break;
	}
	if (aggregate == G_N_ELEMENTS (astra_aggregate_names)) {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
			     "'%s' is not an aggregate: expected 'last' or FUNCTION WINDOW such as 'avg 5m' "
			     "(functions: avg min max sum count rate p50 p90 p95 p99)",
			     value);
		return FALSE;
	}
	if (aggregate == ASTRA_AGGREGATE_LAST) {
		if (window[0] != '\0') {
			g_set_error (
			    error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
			    "'last' takes no window: write 'last', or e.g. 'avg %s' to aggregate over %s",
			    window, window);
			return FALSE;
		}
		rule->aggregate = ASTRA_AGGREGATE_LAST;
		rule->window_us = 0;
		return TRUE;
	}
	if (window[0] == '\0') {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
			     "'%s' needs a window: expected e.g. '%s 5m'", func, func);
		return FALSE;
	}
	if (!astra_parse_duration (window, &window_us)) {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG, "'%s' is not a window: %s",
			     window, ASTRA_RULE_DURATION_EXAMPLE);
		return FALSE;
	}
	if (window_us == 0) {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
			     "the window must be longer than 0: expected e.g. '%s 5m'", func);
		return FALSE;
	}
	max = astra_format_duration (ASTRA_RULE_MAX_DURATION_US);
	if (window_us > ASTRA_RULE_MAX_DURATION_US) {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
			     "the window '%s' is longer than the maximum of %s", window, max);
		return FALSE;
	}
	rule->aggregate = (AstraAggregate) aggregate;
	rule->window_us = window_us;
	return TRUE;
}

static gboolean
astra_rule_parse_warning (AstraRuleParser *parser, const char *value, GError **error)
{
	return astra_condition_parse (value, &parser->rule->warning, error);
}

static gboolean
astra_rule_parse_critical (AstraRuleParser *parser, const char *value, GError **error)
{
	return astra_condition_parse (value, &parser->rule->critical, error);
}

static gboolean
astra_rule_parse_clear (AstraRuleParser *parser, const char *value, GError **error)
{
	return astra_condition_parse (value, &parser->rule->clear, error);
}

static gboolean
astra_rule_parse_duration_key (const char *value, gint64 *out_us, GError **error)
{
	g_autofree char *max = NULL;
	gint64 us = 0;

	if (!astra_parse_duration (value, &us)) {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG, "'%s' is not a duration: %s",
			     value, ASTRA_RULE_DURATION_EXAMPLE);
		return FALSE;
	}
	if (us > ASTRA_RULE_MAX_DURATION_US) {
		max = astra_format_duration (ASTRA_RULE_MAX_DURATION_US);
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
			     "'%s' is longer than the maximum of %s", value, max);
		return FALSE;
	}
	*out_us = us;
	return TRUE;
}

static gboolean
astra_rule_parse_for (AstraRuleParser *parser, const char *value, GError **error)
{
	return astra_rule_parse_duration_key (value, &parser->rule->for_us, error);
}

static gboolean
astra_rule_parse_keep_firing_for (AstraRuleParser *parser, const char *value, GError **error)
{
	return astra_rule_parse_duration_key (value, &parser->rule->keep_firing_for_us, error);
}

static gboolean
astra_rule_parse_no_data (AstraRuleParser *parser, const char *value, GError **error)
{
	return astra_rule_parse_duration_key (value, &parser->rule->no_data_us, error);
}

static gboolean
astra_rule_parse_repeat (AstraRuleParser *parser, const char *value, GError **error)
{
	return astra_rule_parse_duration_key (value, &parser->rule->repeat_us, error);
}

static void
astra_rule_label_free (AstraLabel *label)
{
	g_free ((char *) label->name);
	g_free ((char *) label->value);
	g_free (label);
}

static gint
astra_rule_label_compare (gconstpointer a, gconstpointer b)
{
	const AstraLabel *la = *(const AstraLabel *const *) a;
	const AstraLabel *lb = *(const AstraLabel *const *) b;
	return strcmp (la->name, lb->name);
}

static gboolean
astra_rule_parse_labels (AstraRuleParser *parser, const char *value, GError **error)
{
	GPtrArray *labels = parser->rule->extra_labels;
	g_auto(GStrv) items = g_strsplit (value, ",", -1);

	for (guint i = 0; items[i] != NULL; i++) {
		char *item = g_strstrip (items[i]);
		const char *eq = strchr (item, '=');
		g_autofree char *name = NULL;
		g_autofree char *label_value = NULL;
		AstraLabel *label;

		if (item[0] == '\0') {
			g_set_error (
			    error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
			    "an empty label (a stray ','): expected NAME=VALUE pairs separated by commas, "
			    "e.g. 'team=netops, page=yes'");
			return FALSE;
		}
		if (eq == NULL) {
			g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
				     "'%s' is not a label: expected NAME=VALUE pairs separated by commas, "
				     "e.g. 'team=netops, page=yes'",
				     item);
			return FALSE;
		}
		name = g_strstrip (g_strndup (item, (gsize) (eq - item)));
		label_value = g_strstrip (g_strdup (eq + 1));
		if (!astra_series_name_is_valid (name, ASTRA_RULE_MAX_LABEL_NAME)) {
			g_set_error (
			    error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
			    "'%s' is not a label name: expected 1 to %u characters from a-z A-Z 0-9 _ : . -, "
			    "starting with a letter, _ or :",
			    name, (guint) ASTRA_RULE_MAX_LABEL_NAME);
			return FALSE;
		}
		if (label_value[0] == '\0') {
			g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
				     "the label '%s' has an empty value: expected e.g. '%s=yes'", name, name);
			return FALSE;
		}
		if (strlen (label_value) > ASTRA_RULE_MAX_LABEL_VALUE) {
			g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
				     "the value of label '%s' is longer than %u bytes", name,
				     (guint) ASTRA_RULE_MAX_LABEL_VALUE);
			return FALSE;
		}
		for (guint j = 0; j < labels->len; j++) {
			const AstraLabel *other = g_ptr_array_index (labels, j);
			if (strcmp (other->name, name) == 0) {
				g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
					     "the label '%s' is set twice", name);
				return FALSE;
			}
		}
		if (labels->len >= ASTRA_RULE_MAX_EXTRA_LABELS) {
			g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG, "more than %u labels",
				     (guint) ASTRA_RULE_MAX_EXTRA_LABELS);
			return FALSE;
		}
		label = g_new0 (AstraLabel, 1);
		label->name = g_steal_pointer (&name);
		label->value = g_steal_pointer (&label_value);
		g_ptr_array_add (labels, label);
	}
	g_ptr_array_sort (labels, astra_rule_label_compare);
	return TRUE;
}

/* {NAME} placeholders: closed, not empty, a known name or a label name; {{ is a literal { */
static gboolean
astra_rule_check_text (const char *text, gsize max, GError **error)
{
	if (strlen (text) > max) {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG, "longer than %u bytes",
			     (guint) max);
		return FALSE;
	}
	for (const char *p = text; *p != '\0'; p++) {
		const char *end;
		g_autofree char *name = NULL;

		if (*p != '{')
			continue;
		if (p[1] == '{') {
			p++;
			continue;
		}
		end = p + 1;
		while (*end != '\0' && *end != '}' && *end != '{')
			end++;
		if (*end != '}') {
			g_autofree char *context = g_utf8_substring (p, 0, MIN (g_utf8_strlen (p, -1), 24));
			g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
				     "unclosed '{' in '%s': placeholders are %s; write {{ for a literal {",
				     context, ASTRA_RULE_PLACEHOLDERS);
			return FALSE;
		}
		if (end == p + 1) {
			g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
				     "empty placeholder '{}': placeholders are %s; write {{ for a literal {",
				     ASTRA_RULE_PLACEHOLDERS);
			return FALSE;
		}
		name = g_strndup (p + 1, (gsize) (end - p - 1));
		if (!g_strv_contains (astra_rule_builtin_placeholders, name) &&
		    !astra_series_name_is_valid (name, ASTRA_RULE_MAX_LABEL_NAME)) {
			g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
				     "'{%s}' is not a placeholder: placeholders are %s, LABEL a label name",
				     name, ASTRA_RULE_PLACEHOLDERS);
			return FALSE;
		}
		p = end;
	}
	return TRUE;
}

static gboolean
astra_rule_parse_summary (AstraRuleParser *parser, const char *value, GError **error)
{
	if (!astra_rule_check_text (value, ASTRA_RULE_MAX_SUMMARY, error))
		return FALSE;
	parser->rule->summary = g_strdup (value);
	return TRUE;
}

static gboolean
astra_rule_parse_description (AstraRuleParser *parser, const char *value, GError **error)
{
	if (!astra_rule_check_text (value, ASTRA_RULE_MAX_DESCRIPTION, error))
		return FALSE;
	parser->rule->description = g_strdup (value);
	return TRUE;
}

static gboolean
astra_rule_parse_webhooks (AstraRuleParser *parser, const char *value, GError **error)
{
	const char *const *known = parser->file->known_webhooks;
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
	g_auto(GStrv) items = g_strsplit_set (value, ";,", -1);

	for (guint i = 0; items[i] != NULL; i++) {
		const char *name = g_strstrip (items[i]);

		/* GKeyFile lists end with ';' */
		if (name[0] == '\0')
			continue;
		if (!astra_rule_word_is_valid (name, ASTRA_RULE_MAX_WEBHOOK_LENGTH)) {
			g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
				     "'%s' is not a webhook name: expected names of 1 to %u characters from "
				     "A-Z a-z 0-9 . _ - separated by ';' or ',', e.g. 'ops-slack; oncall'",
				     name, (guint) ASTRA_RULE_MAX_WEBHOOK_LENGTH);
			return FALSE;
		}
		for (guint j = 0; j < names->len; j++) {
			if (strcmp (g_ptr_array_index (names, j), name) == 0) {
				g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
					     "the webhook '%s' is listed twice", name);
				return FALSE;
			}
		}
		if (known != NULL && !g_strv_contains (known, name)) {
			g_autofree char *list = g_strjoinv (", ", (GStrv) known);
			if (known[0] == NULL)
				g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
					     "unknown webhook '%s' (no webhooks are configured)", name);
			else
				g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
					     "unknown webhook '%s' (configured webhooks: %s)", name, list);
			return FALSE;
		}
		g_ptr_array_add (names, g_strdup (name));
	}
	if (names->len == 0) {
		g_set_error (
		    error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
		    "no webhook named: expected names separated by ';' or ',', e.g. 'ops-slack; oncall'");
		return FALSE;
	}
	g_ptr_array_sort (names, astra_rule_strcmp);
	g_ptr_array_add (names, NULL);
	g_strfreev (parser->rule->webhooks);
	parser->rule->webhooks = (GStrv) g_ptr_array_free (g_steal_pointer (&names), FALSE);
	return TRUE;
}

static gboolean
astra_rule_parse_boolean (const char *value, gboolean *out, GError **error)
{
	static const char *const yes[] = { "true", "yes", "1", NULL };
	static const char *const no[] = { "false", "no", "0", NULL };

	if (g_strv_contains (yes, value)) {
		*out = TRUE;
		return TRUE;
	}
	if (g_strv_contains (no, value)) {
		*out = FALSE;
		return TRUE;
	}
	g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
		     "'%s' is not a boolean: expected true or false (or yes/no, 1/0)", value);
	return FALSE;
}

static gboolean
astra_rule_parse_enabled (AstraRuleParser *parser, const char *value, GError **error)
{
	return astra_rule_parse_boolean (value, &parser->rule->enabled, error);
}

static gboolean
astra_rule_parse_inhibit (AstraRuleParser *parser, const char *value, GError **error)
{
	return astra_rule_parse_boolean (value, &parser->rule->inhibit_when_agent_offline, error);
}

typedef enum {
	ASTRA_RULE_KEY_METRIC,
	ASTRA_RULE_KEY_MATCH,
	ASTRA_RULE_KEY_AGGREGATE,
	ASTRA_RULE_KEY_WARNING,
	ASTRA_RULE_KEY_CRITICAL,
	ASTRA_RULE_KEY_CLEAR,
	ASTRA_RULE_KEY_FOR,
	ASTRA_RULE_KEY_KEEP_FIRING_FOR,
	ASTRA_RULE_KEY_NO_DATA,
	ASTRA_RULE_KEY_REPEAT,
	ASTRA_RULE_KEY_LABELS,
	ASTRA_RULE_KEY_SUMMARY,
	ASTRA_RULE_KEY_DESCRIPTION,
	ASTRA_RULE_KEY_WEBHOOKS,
	ASTRA_RULE_KEY_ENABLED,
	ASTRA_RULE_KEY_INHIBIT,
	ASTRA_RULE_KEY_LAST,
} AstraRuleKey;

static const struct {
	const char *name;
	AstraRuleKeyFunc func;
	const char *example;
} astra_rule_keys[] = {
	[ASTRA_RULE_KEY_METRIC] = { "metric", astra_rule_parse_metric, "latency_ms" },
	[ASTRA_RULE_KEY_MATCH] = { "match", astra_rule_parse_match, "target=8.8.8.8, agent_id=edge-*" },
	[ASTRA_RULE_KEY_AGGREGATE] = { "aggregate", astra_rule_parse_aggregate, "avg 5m" },
	[ASTRA_RULE_KEY_WARNING] = { "warning", astra_rule_parse_warning, "> 100" },
	[ASTRA_RULE_KEY_CRITICAL] = { "critical", astra_rule_parse_critical, "> 200" },
	[ASTRA_RULE_KEY_CLEAR] = { "clear", astra_rule_parse_clear, "< 80" },
	[ASTRA_RULE_KEY_FOR] = { "for", astra_rule_parse_for, "2m" },
	[ASTRA_RULE_KEY_KEEP_FIRING_FOR] = { "keep-firing-for", astra_rule_parse_keep_firing_for, "5m" },
	[ASTRA_RULE_KEY_NO_DATA] = { "no-data", astra_rule_parse_no_data, "10m" },
	[ASTRA_RULE_KEY_REPEAT] = { "repeat", astra_rule_parse_repeat, "1h" },
	[ASTRA_RULE_KEY_LABELS] = { "labels", astra_rule_parse_labels, "team=netops, page=yes" },
	[ASTRA_RULE_KEY_SUMMARY] = { "summary", astra_rule_parse_summary,
				     "Latency to {target} is {value} ms" },
	[ASTRA_RULE_KEY_DESCRIPTION] = { "description", astra_rule_parse_description,
					 "Seen from {hostname}" },
	[ASTRA_RULE_KEY_WEBHOOKS] = { "webhooks", astra_rule_parse_webhooks, "ops-slack; oncall" },
	[ASTRA_RULE_KEY_ENABLED] = { "enabled", astra_rule_parse_enabled, "false" },
	[ASTRA_RULE_KEY_INHIBIT] = { "inhibit-when-agent-offline", astra_rule_parse_inhibit, "false" },
};
G_STATIC_ASSERT (G_N_ELEMENTS (astra_rule_keys) == ASTRA_RULE_KEY_LAST);

/* edit distance, for "did you mean"; keys are short */
static guint
astra_rule_edit_distance (const char *a, const char *b)
{
	guint row[33];
	gsize la = strlen (a);
	gsize lb = strlen (b);

	if (la > 32 || lb > 32)
		return G_MAXUINT;
	for (gsize j = 0; j <= lb; j++)
		row[j] = (guint) j;
	for (gsize i = 1; i <= la; i++) {
		guint diag = row[0];
		row[0] = (guint) i;
		for (gsize j = 1; j <= lb; j++) {
			guint up = row[j];
			guint best = diag + (a[i - 1] == b[j - 1] ? 0 : 1);
			best = MIN (best, up + 1);
			best = MIN (best, row[j - 1] + 1);
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

static void
astra_rule_report_unknown_key (AstraRuleParser *parser, const AstraKeyLine *kl)
{
	g_autoptr(GString) known = g_string_new (NULL);
	const char *closest = NULL;
	guint closest_distance = 3;

	for (guint i = 0; i < G_N_ELEMENTS (astra_rule_keys); i++) {
		guint distance = astra_rule_edit_distance (kl->key, astra_rule_keys[i].name);
		if (distance < closest_distance) {
			closest = astra_rule_keys[i].name;
			closest_distance = distance;
		}
		g_string_append_printf (known, "%s%s", i > 0 ? ", " : "", astra_rule_keys[i].name);
	}
	if (strchr (kl->key, '[') != NULL)
		astra_rule_file_add_error (parser->file, kl->line, parser->group->group, kl->key,
					   "unknown key: keys have no translations (known keys: %s)",
					   known->str);
	else if (closest != NULL)
		astra_rule_file_add_error (parser->file, kl->line, parser->group->group, kl->key,
					   "unknown key; did you mean '%s'? (known keys: %s)", closest,
					   known->str);
	else
		astra_rule_file_add_error (parser->file, kl->line, parser->group->group, kl->key,
					   "unknown key (known keys: %s)", known->str);
}

static void astra_rule_key_error (AstraRuleParser *parser, AstraRuleKey key, const char *format, ...)
    G_GNUC_PRINTF (3, 4);

/* an error about what a key says, on the line of that key (of the group if the key is absent) */
static void
astra_rule_key_error (AstraRuleParser *parser, AstraRuleKey key, const char *format, ...)
{
	const char *name = astra_rule_keys[key].name;
	g_autofree char *message = NULL;
	va_list args;

	va_start (args, format);
	message = g_strdup_vprintf (format, args);
	va_end (args);
	astra_rule_file_add_error (parser->file, astra_group_lines_get_line (parser->group, name),
				   parser->group->group, name, "%s", message);
}

/* ---- the fingerprint ---- */

static void
astra_rule_canon_add (GString *str, const char *key, const char *value)
{
	if (value == NULL)
		g_string_append_printf (str, "%s-\n", key);
	else
		g_string_append_printf (str, "%s=%" G_GSIZE_FORMAT ":%s\n", key, strlen (value), value);
}

static void
astra_rule_canon_add_int (GString *str, const char *key, gint64 value)
{
	g_string_append_printf (str, "%s=%" G_GINT64_FORMAT "\n", key, value);
}

/* everything that decides what the rule does, in a fixed order; the
 * conditions' texts are normalized and round-trip exactly */
static char *
astra_rule_compute_fingerprint (const AstraRule *rule)
{
	g_autoptr(GString) str = g_string_new ("astra-rule 1\n");

	astra_rule_canon_add (str, "metric", rule->metric);
	for (guint i = 0; i < rule->matchers->len; i++) {
		g_autofree char *text = astra_matcher_to_string (g_ptr_array_index (rule->matchers, i));
		astra_rule_canon_add (str, "match", text);
	}
	astra_rule_canon_add (str, "aggregate", astra_aggregate_to_string (rule->aggregate));
	astra_rule_canon_add_int (str, "window", rule->window_us);
	astra_rule_canon_add (str, "warning", rule->warning.text);
	astra_rule_canon_add (str, "critical", rule->critical.text);
	astra_rule_canon_add (str, "clear", rule->clear.text);
	astra_rule_canon_add_int (str, "for", rule->for_us);
	astra_rule_canon_add_int (str, "keep-firing-for", rule->keep_firing_for_us);
	astra_rule_canon_add_int (str, "no-data", rule->no_data_us);
	astra_rule_canon_add_int (str, "repeat", rule->repeat_us);
	for (guint i = 0; i < rule->extra_labels->len; i++) {
		const AstraLabel *label = g_ptr_array_index (rule->extra_labels, i);
		astra_rule_canon_add (str, "label", label->name);
		astra_rule_canon_add (str, "label-value", label->value);
	}
	astra_rule_canon_add (str, "summary", rule->summary);
	astra_rule_canon_add (str, "description", rule->description);
	if (rule->webhooks == NULL)
		astra_rule_canon_add (str, "webhooks", NULL);
	for (guint i = 0; rule->webhooks != NULL && rule->webhooks[i] != NULL; i++)
		astra_rule_canon_add (str, "webhook", rule->webhooks[i]);
	astra_rule_canon_add_int (str, "enabled", rule->enabled ? 1 : 0);
	astra_rule_canon_add_int (str, "inhibit-when-agent-offline",
				  rule->inhibit_when_agent_offline ? 1 : 0);
	return g_compute_checksum_for_string (G_CHECKSUM_SHA256, str->str, (gssize) str->len);
}

/* ---- one rule ---- */

static AstraRule *
astra_rule_new (const char *name, const char *file, guint line)
{
	AstraRule *rule = g_new0 (AstraRule, 1);

	rule->name = g_strdup (name);
	rule->file = g_strdup (file);
	rule->line = line;
	rule->matchers = g_ptr_array_new_with_free_func ((GDestroyNotify) astra_matcher_free);
	rule->aggregate = ASTRA_AGGREGATE_LAST;
	rule->extra_labels = g_ptr_array_new_with_free_func ((GDestroyNotify) astra_rule_label_free);
	rule->enabled = TRUE;
	rule->inhibit_when_agent_offline = TRUE;
	return rule;
}

/**
 * astra_rule_free:
 * @rule: (nullable): a rule
 *
 * Frees a rule and everything it holds.
 *
 * Since: 1.0
 */
void
astra_rule_free (AstraRule *rule)
{
	if (rule == NULL)
		return;
	g_free (rule->name);
	g_free (rule->file);
	g_free (rule->metric);
	g_clear_pointer (&rule->matchers, g_ptr_array_unref);
	astra_condition_clear (&rule->warning);
	astra_condition_clear (&rule->critical);
	astra_condition_clear (&rule->clear);
	g_clear_pointer (&rule->extra_labels, g_ptr_array_unref);
	g_free (rule->summary);
	g_free (rule->description);
	g_strfreev (rule->webhooks);
	g_free (rule->fingerprint);
	g_free (rule);
}

/* a GKeyFile value that reads as one of its own comments */
static gboolean
astra_rule_value_has_comment (const char *value)
{
	for (const char *p = strchr (value, '#'); p != NULL; p = strchr (p + 1, '#')) {
		if (p > value && g_ascii_isspace (p[-1]))
			return TRUE;
	}
	return FALSE;
}

/* the checks that need more than one key */
static void
astra_rule_check (AstraRuleParser *parser, guint32 seen, guint32 parsed)
{
	AstraRule *rule = parser->rule;
	gboolean has_trip = rule->warning.op != ASTRA_COMPARE_NONE || rule->critical.op != ASTRA_COMPARE_NONE;
	const struct {
		AstraRuleKey key;
		const AstraCondition *condition;
	} trips[] = { { ASTRA_RULE_KEY_WARNING, &rule->warning },
		      { ASTRA_RULE_KEY_CRITICAL, &rule->critical } };

	if ((seen & (1u << ASTRA_RULE_KEY_METRIC)) == 0)
		astra_rule_key_error (
		    parser, ASTRA_RULE_KEY_METRIC,
		    "missing: every rule names the metric it watches, e.g. 'metric = latency_ms'");

	if ((seen & ((1u << ASTRA_RULE_KEY_WARNING) | (1u << ASTRA_RULE_KEY_CRITICAL))) == 0) {
		/* a pure no-data rule: it fires when its series go silent, nothing else */
		static const AstraRuleKey trip_only[] = { ASTRA_RULE_KEY_AGGREGATE, ASTRA_RULE_KEY_CLEAR,
							  ASTRA_RULE_KEY_FOR };

		if ((seen & (1u << ASTRA_RULE_KEY_NO_DATA)) == 0) {
			astra_rule_key_error (
			    parser, ASTRA_RULE_KEY_WARNING,
			    "missing: a rule needs warning or critical (e.g. 'warning = > 100'), "
			    "or no-data alone to watch for series that stop reporting");
		} else if ((parsed & (1u << ASTRA_RULE_KEY_NO_DATA)) != 0 && rule->no_data_us == 0) {
			astra_rule_key_error (
			    parser, ASTRA_RULE_KEY_NO_DATA,
			    "0 turns no-data off, and the rule has neither warning nor critical: "
			    "it could never fire");
		}
		for (guint i = 0; i < G_N_ELEMENTS (trip_only); i++) {
			if ((parsed & (1u << trip_only[i])) == 0)
				continue;
			astra_rule_key_error (
			    parser, trip_only[i],
			    "has no effect without warning or critical (a rule with no-data alone "
			    "fires when its series stop reporting)");
		}
	}

	/* hysteresis: the clear condition must exclude every trip condition */
	if (has_trip && rule->clear.op != ASTRA_COMPARE_NONE) {
		for (guint i = 0; i < G_N_ELEMENTS (trips); i++) {
			const char *name = astra_rule_keys[trips[i].key].name;

			if (trips[i].condition->op == ASTRA_COMPARE_NONE)
				continue;
			if (astra_condition_implies (&rule->clear, trips[i].condition)) {
				astra_rule_key_error (
				    parser, ASTRA_RULE_KEY_CLEAR,
				    "clear = %s holds while %s = %s holds: it could never resolve",
				    rule->clear.text, name, trips[i].condition->text);
			} else if (astra_condition_overlaps (&rule->clear, trips[i].condition)) {
				astra_rule_key_error (
				    parser, ASTRA_RULE_KEY_CLEAR,
				    "clear = %s and %s = %s hold together for some values: the clear "
				    "condition must exclude the alert's, e.g. 'clear = < 80' with "
				    "'warning = > 100'",
				    rule->clear.text, name, trips[i].condition->text);
			}
		}
	}

	/* a warning that holds only where critical does too would never be seen */
	if (rule->warning.op != ASTRA_COMPARE_NONE && rule->critical.op != ASTRA_COMPARE_NONE &&
	    astra_condition_implies (&rule->warning, &rule->critical)) {
		astra_rule_key_error (parser, ASTRA_RULE_KEY_WARNING,
				      "warning = %s could never fire: critical = %s holds whenever it does "
				      "(critical must be the stricter condition)",
				      rule->warning.text, rule->critical.text);
	}
}

static AstraRule *
astra_rule_parse (AstraRuleFile *file, AstraGroupLines *group, const char *name)
{
	g_autoptr(AstraRule) rule = astra_rule_new (name, file->path, group->line);
	AstraRuleParser parser = { .file = file, .group = group, .rule = rule };
	guint n_errors = file->errors->len;
	guint32 seen = 0;
	guint32 parsed = 0;

	for (guint i = 0; i < group->keys->len; i++) {
		const AstraKeyLine *kl = g_ptr_array_index (group->keys, i);
		g_autoptr(GError) error_local = NULL;
		g_autofree char *value = NULL;
		guint key;

		for (key = 0; key < G_N_ELEMENTS (astra_rule_keys); key++) {
			if (g_strcmp0 (kl->key, astra_rule_keys[key].name) == 0)
				break;
		}
		if (key == G_N_ELEMENTS (astra_rule_keys)) {
			astra_rule_report_unknown_key (&parser, kl);
			continue;
		}
		seen |= 1u << key;
		if (kl->repeated)
			continue;
		/* on a bad escape GKeyFile sets the error but still returns a string */
		value = g_key_file_get_string (file->keyfile, group->group, kl->key, &error_local);
		if (value == NULL || error_local != NULL) {
			astra_rule_file_add_error (file, kl->line, group->group, kl->key,
						   "invalid escape sequence: write \\\\ for a backslash "
						   "(escapes: \\s \\n \\t \\r \\\\)");
			continue;
		}
		g_strstrip (value);
		if (value[0] == '\0') {
			astra_rule_file_add_error (file, kl->line, group->group, kl->key,
						   "empty value: expected e.g. '%s = %s'", kl->key,
						   astra_rule_keys[key].example);
			continue;
		}
		if (!astra_rule_keys[key].func (&parser, value, &error_local)) {
			astra_rule_file_add_error (file, kl->line, group->group, kl->key, "%s%s",
						   error_local->message,
						   astra_rule_value_has_comment (value)
						       ? " (a # comment must be on a line of its own)"
						       : "");
			continue;
		}
		parsed |= 1u << key;
	}
	astra_rule_check (&parser, seen, parsed);
	if (file->errors->len > n_errors)
		return NULL;
	rule->fingerprint = astra_rule_compute_fingerprint (rule);
	return g_steal_pointer (&rule);
}

/* ---- matching and rendering ---- */

/**
 * astra_rule_matches:
 * @rule: a rule
 * @series: a series
 *
 * Whether @rule applies to @series: the metric is the rule's and every
 * matcher holds. A label the series does not have reads as the empty string,
 * as in Prometheus: `label=` matches a series without the label, and so do
 * `label!=x`, `label!=glob*`, `label!={a,b}` and `label=*`. Globs use
 * #GPatternSpec (`*` and `?`); sets are exact values. Nothing is allocated
 * for label values up to the store's default length bound.
 *
 * Returns: %TRUE if the rule applies to the series
 *
 * Since: 1.0
 */
gboolean
astra_rule_matches (const AstraRule *rule, const AstraSeries *series)
{
	if (g_strcmp0 (rule->metric, series->metric) != 0)
		return FALSE;
	for (guint i = 0; i < rule->matchers->len; i++) {
		const AstraMatcher *matcher = g_ptr_array_index (rule->matchers, i);
		const char *value = astra_series_get_label (series, matcher->label);

		if (!astra_matcher_accepts (matcher, value != NULL ? value : ""))
			return FALSE;
	}
	return TRUE;
}

/**
 * astra_aggregate_to_string:
 * @aggregate: an aggregate
 *
 * Returns: the aggregate's name as written in rule files, e.g. "p95"
 *
 * Since: 1.0
 */
const char *
astra_aggregate_to_string (AstraAggregate aggregate)
{
	if ((guint) aggregate >= G_N_ELEMENTS (astra_aggregate_names))
		return NULL;
	return astra_aggregate_names[aggregate];
}

/**
 * astra_rule_render_text:
 * @text: a summary or description, as the rule holds it
 * @func: (scope call): gives the text of a placeholder, or %NULL
 * @user_data: passed to @func
 *
 * Replaces each `{NAME}` of @text by what @func returns for NAME, the empty
 * string when it returns %NULL (a label the series does not have), and each
 * `{{` by `{`. The rule file parser has already refused unclosed and empty
 * placeholders; should one reach here it is copied as it is.
 *
 * Returns: (transfer full): the rendered text
 *
 * Since: 1.0
 */
char *
astra_rule_render_text (const char *text, AstraRulePlaceholderFunc func, gpointer user_data)
{
	GString *str;

	g_return_val_if_fail (text != NULL, NULL);
	g_return_val_if_fail (func != NULL, NULL);

	str = g_string_sized_new (strlen (text) + 32);
	for (const char *p = text; *p != '\0'; p++) {
		const char *end;

		if (*p != '{') {
			g_string_append_c (str, *p);
			continue;
		}
		if (p[1] == '{') {
			g_string_append_c (str, '{');
			p++;
			continue;
		}
		end = p + 1;
		while (*end != '\0' && *end != '}' && *end != '{')
			end++;
		if (*end != '}' || end == p + 1) {
			g_string_append_c (str, *p);
			continue;
		}
		{
			g_autofree char *name = g_strndup (p + 1, (gsize) (end - p - 1));
			const char *value = func (name, user_data);
			if (value != NULL)
				g_string_append (str, value);
		}
		p = end;
	}
	return g_string_free (str, FALSE);
}

/* ---- the set ---- */

/*
 * Which rules a new series could match, without trying them all: a rule with
 * an exact matcher (label=value, or label={a,b}) is filed under that label and
 * each value, so 10,000 per-agent rules on one metric cost a new series a few
 * hash lookups instead of 10,000 matcher checks. Positions are the rules'
 * places in the set, to hand candidates out in file order.
 */
typedef struct {
	GPtrArray *rules;     /* the metric's enabled AstraRule, in file order */
	GArray *unindexed;    /* guint positions */
	GHashTable *by_label; /* label name -> GHashTable (value -> GArray of guint positions) */
} AstraRuleIndex;

static AstraRuleIndex *
astra_rule_index_new (void)
{
	AstraRuleIndex *index = g_new0 (AstraRuleIndex, 1);

	index->rules = g_ptr_array_new ();
	index->unindexed = g_array_new (FALSE, FALSE, sizeof (guint));
	index->by_label =
	    g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) g_hash_table_unref);
	return index;
}

static void
astra_rule_index_free (AstraRuleIndex *index)
{
	g_ptr_array_unref (index->rules);
	g_array_unref (index->unindexed);
	g_hash_table_unref (index->by_label);
	g_free (index);
}

static void
astra_rule_index_array_free (gpointer array)
{
	g_array_unref (array);
}

static void
astra_rule_index_file (AstraRuleIndex *index, const char *label, const char *value, guint position)
{
	GHashTable *by_value = g_hash_table_lookup (index->by_label, label);
	GArray *positions;

	if (by_value == NULL) {
		by_value = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, astra_rule_index_array_free);
		g_hash_table_insert (index->by_label, (gpointer) label, by_value);
	}
	positions = g_hash_table_lookup (by_value, value);
	if (positions == NULL) {
		positions = g_array_new (FALSE, FALSE, sizeof (guint));
		g_hash_table_insert (by_value, (gpointer) value, positions);
	}
	g_array_append_val (positions, position);
}

static void
astra_rule_index_add (AstraRuleIndex *index, AstraRule *rule, guint position)
{
	g_ptr_array_add (index->rules, rule);
	/* an exact matcher narrows best; a set of values is the next best */
	for (guint i = 0; i < rule->matchers->len; i++) {
		const AstraMatcher *m = g_ptr_array_index (rule->matchers, i);
		if (m->op == ASTRA_MATCH_EQUAL && m->value[0] != '\0') {
			astra_rule_index_file (index, m->label, m->value, position);
			return;
		}
	}
	for (guint i = 0; i < rule->matchers->len; i++) {
		const AstraMatcher *m = g_ptr_array_index (rule->matchers, i);
		if (m->op == ASTRA_MATCH_IN) {
			for (guint j = 0; m->values[j] != NULL; j++)
				astra_rule_index_file (index, m->label, m->values[j], position);
			return;
		}
	}
	g_array_append_val (index->unindexed, position);
}

static gint
astra_rule_position_compare (gconstpointer a, gconstpointer b)
{
	guint x = *(const guint *) a;
	guint y = *(const guint *) b;

	return x < y ? -1 : x > y ? 1 : 0;
}

static void
astra_rule_set_finalize (GObject *object)
{
	AstraRuleSet *self = ASTRA_RULE_SET (object);

	g_hash_table_unref (self->index);
	g_hash_table_unref (self->by_name);
	g_hash_table_unref (self->defined);
	g_ptr_array_unref (self->rules);
	g_ptr_array_unref (self->empty);
	G_OBJECT_CLASS (astra_rule_set_parent_class)->finalize (object);
}

static void
astra_rule_set_class_init (AstraRuleSetClass *klass)
{
	G_OBJECT_CLASS (klass)->finalize = astra_rule_set_finalize;
}

static void
astra_rule_set_init (AstraRuleSet *self)
{
	self->rules = g_ptr_array_new_with_free_func ((GDestroyNotify) astra_rule_free);
	self->by_name = g_hash_table_new (g_str_hash, g_str_equal);
	self->index = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) astra_rule_index_free);
	self->defined = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
	self->empty = g_ptr_array_new ();
}

/**
 * astra_rule_set_new:
 *
 * Returns: (transfer full): an empty rule set
 *
 * Since: 1.0
 */
AstraRuleSet *
astra_rule_set_new (void)
{
	return g_object_new (ASTRA_TYPE_RULE_SET, NULL);
}

static void
astra_rule_set_add_rule (AstraRuleSet *self, AstraRule *rule)
{
	guint position = self->rules->len;

	g_ptr_array_add (self->rules, rule);
	g_hash_table_insert (self->by_name, rule->name, rule);
	if (rule->enabled) {
		AstraRuleIndex *index = g_hash_table_lookup (self->index, rule->metric);

		if (index == NULL) {
			index = astra_rule_index_new ();
			g_hash_table_insert (self->index, rule->metric, index);
		}
		astra_rule_index_add (index, rule, position);
	}
}

/**
 * astra_rule_set_collect_candidates:
 * @self: a rule set
 * @series: a series
 * @out: (element-type AstraRule): where to append
 *
 * Appends, in file order, the enabled rules of the series' metric that could
 * match it: those whose exact matcher agrees with one of its labels, and
 * those without one. The caller still checks astra_rule_matches(); this only
 * spares it the rules that cannot.
 *
 * Since: 1.0
 */
void
astra_rule_set_collect_candidates (AstraRuleSet *self, const AstraSeries *series, GPtrArray *out)
{
	AstraRuleIndex *index = g_hash_table_lookup (self->index, series->metric);
	g_autoptr(GArray) positions = NULL;

	if (index == NULL)
		return;
	positions = g_array_new (FALSE, FALSE, sizeof (guint));
	g_array_append_vals (positions, index->unindexed->data, index->unindexed->len);
	for (guint i = 0; i < series->n_labels; i++) {
		GHashTable *by_value = g_hash_table_lookup (index->by_label, series->labels[i].name);
		GArray *filed;

		if (by_value == NULL)
			continue;
		filed = g_hash_table_lookup (by_value, series->labels[i].value);
		if (filed != NULL)
			g_array_append_vals (positions, filed->data, filed->len);
	}
	/* a rule is filed under one label only, so no position comes twice */
	g_array_sort (positions, astra_rule_position_compare);
	for (guint i = 0; i < positions->len; i++)
		g_ptr_array_add (out, g_ptr_array_index (self->rules, g_array_index (positions, guint, i)));
}

/**
 * astra_rule_set_add_file:
 * @self: a rule set
 * @path: the file's name, as errors should show it
 * @text: the file's contents
 * @known_webhooks: (nullable): the names a rule's `webhooks` may use, or %NULL not to check them
 * @errors: (element-type utf8) (nullable): where problems are appended
 *
 * Parses one rules file and adds its rules. Each problem is appended to
 * @errors as "FILE:LINE: rule NAME: KEY: what is wrong" (without the parts
 * that do not apply), sorted by line. A rule name already defined, in this
 * file or an earlier one, is an error naming both places. The rules without
 * problems are added even when others have some: a caller that must not use
 * a partly valid set discards it when this returns %FALSE.
 *
 * Returns: %TRUE if the file has no problem
 *
 * Since: 1.0
 */
gboolean
astra_rule_set_add_file (AstraRuleSet *self,
			 const char *path,
			 const char *text,
			 const char *const *known_webhooks,
			 GPtrArray *errors)
{
	g_autoptr(GKeyFile) keyfile = g_key_file_new ();
	g_autoptr(GPtrArray) file_errors =
		       g_ptr_array_new_with_free_func ((GDestroyNotify) astra_rule_error_free);
	g_autoptr(GPtrArray) groups = NULL;
	g_autoptr(GError) error_local = NULL;
	AstraRuleFile file = {
		.path = path,
		.keyfile = keyfile,
		.known_webhooks = known_webhooks,
		.errors = file_errors,
	};

	g_return_val_if_fail (ASTRA_IS_RULE_SET (self), FALSE);
	g_return_val_if_fail (path != NULL, FALSE);
	g_return_val_if_fail (text != NULL, FALSE);

	if (!g_utf8_validate (text, -1, NULL)) {
		astra_rule_file_add_error (&file, 0, NULL, NULL, "not a UTF-8 text file");
	} else {
		/* GKeyFile refuses a byte order mark that editors on other systems write */
		if (g_str_has_prefix (text, "\xef\xbb\xbf"))
			text += 3;
		groups = astra_keyfile_scan (text, &astra_rule_dialect, astra_rule_scan_problem_cb, &file);
		if (!g_key_file_load_from_data (keyfile, text, (gsize) -1, G_KEY_FILE_NONE, &error_local)) {
			/* the scan has said why, with lines, unless it missed what GKeyFile refused */
			if (file_errors->len == 0)
				astra_rule_file_add_error (&file, 0, NULL, NULL, "%s", error_local->message);
			g_clear_pointer (&groups, g_ptr_array_unref);
		}
	}

	for (guint i = 0; groups != NULL && i < groups->len; i++) {
		AstraGroupLines *group = g_ptr_array_index (groups, i);
		g_autofree char *location = g_strdup_printf ("%s:%u", path, group->line);
		g_autoptr(AstraRule) rule = NULL;
		const char *name;
		const char *first;
		gboolean valid_name;

		if (!g_str_has_prefix (group->group, ASTRA_RULE_GROUP_PREFIX)) {
			astra_rule_file_add_error (
			    &file, group->line, group->group, NULL,
			    "unknown group: a rules file holds only [rule NAME] groups");
			continue;
		}
		name = group->group + strlen (ASTRA_RULE_GROUP_PREFIX);
		valid_name = astra_rule_word_is_valid (name, ASTRA_RULE_MAX_NAME_LENGTH);
		if (!valid_name)
			astra_rule_file_add_error (
			    &file, group->line, group->group, NULL,
			    "not a rule name: expected 1 to %u characters from A-Z a-z 0-9 . _ -",
			    (guint) ASTRA_RULE_MAX_NAME_LENGTH);
		first = g_hash_table_lookup (self->defined, name);
		if (first != NULL)
			astra_rule_file_add_error (
			    &file, group->line, group->group, NULL,
			    "already defined at %s; rule names are unique across rules.d", first);
		else
			g_hash_table_insert (self->defined, g_strdup (name), g_steal_pointer (&location));
		/* GKeyFile merged it with its second definition, reported by the scan */
		if (group->redefined)
			continue;
		rule = astra_rule_parse (&file, group, name);
		if (rule != NULL && valid_name && first == NULL)
			astra_rule_set_add_rule (self, g_steal_pointer (&rule));
	}

	g_ptr_array_sort (file_errors, astra_rule_error_compare);
	for (guint i = 0; errors != NULL && i < file_errors->len; i++) {
		AstraRuleError *error = g_ptr_array_index (file_errors, i);
		g_ptr_array_add (errors, g_steal_pointer (&error->text));
	}
	return file_errors->len == 0;
}

/**
 * astra_rule_set_load_dir:
 * @dir: a folder, e.g. /etc/astra-alerts/rules.d
 * @known_webhooks: (nullable): the names a rule's `webhooks` may use, or %NULL not to check them
 * @errors: (element-type utf8) (nullable): where problems are appended
 *
 * Reads every `*.rules` file of @dir, in the order of their names; other
 * names (editor backups, hidden files) are ignored. A folder that does not
 * exist is an empty set. Each problem is appended to @errors, as
 * astra_rule_set_add_file() says.
 *
 * Returns: (transfer full) (nullable): the rules, or %NULL if there was any problem
 *
 * Since: 1.0
 */
AstraRuleSet *
astra_rule_set_load_dir (const char *dir, const char *const *known_webhooks, GPtrArray *errors)
{
	g_autoptr(AstraRuleSet) self = astra_rule_set_new ();
	g_autoptr(GPtrArray) errors_local = NULL;
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
	g_autoptr(GDir) gdir = NULL;
	g_autoptr(GError) error_local = NULL;
	const char *name;
	guint n_errors;

	g_return_val_if_fail (dir != NULL, NULL);

	if (errors == NULL)
		errors = errors_local = g_ptr_array_new_with_free_func (g_free);
	n_errors = errors->len;
	if (!g_file_test (dir, G_FILE_TEST_EXISTS))
		return g_steal_pointer (&self);
	gdir = g_dir_open (dir, 0, &error_local);
	if (gdir == NULL) {
		g_ptr_array_add (errors, g_strdup_printf ("%s: %s", dir, error_local->message));
		return NULL;
	}
	while ((name = g_dir_read_name (gdir)) != NULL) {
		if (g_str_has_suffix (name, ".rules") && name[0] != '.')
			g_ptr_array_add (names, g_strdup (name));
	}
	g_ptr_array_sort (names, astra_rule_strcmp);

	for (guint i = 0; i < names->len; i++) {
		g_autofree char *path = g_build_filename (dir, g_ptr_array_index (names, i), NULL);
		g_autofree char *text = NULL;
		GStatBuf st;
		gsize len = 0;

		/* a FIFO would block the daemon, a huge file would fill its memory */
		if (g_stat (path, &st) != 0) {
			g_ptr_array_add (errors, g_strdup_printf ("%s: %s", path, g_strerror (errno)));
			continue;
		}
		if (!S_ISREG (st.st_mode)) {
			g_ptr_array_add (errors, g_strdup_printf ("%s: not a regular file", path));
			continue;
		}
		if (st.st_size > ASTRA_RULE_MAX_FILE_SIZE) {
			g_ptr_array_add (errors, g_strdup_printf ("%s: larger than %u bytes", path,
								  (guint) ASTRA_RULE_MAX_FILE_SIZE));
			continue;
		}
		if (!g_file_get_contents (path, &text, &len, &error_local)) {
			g_ptr_array_add (errors, g_strdup_printf ("%s: %s", path, error_local->message));
			g_clear_error (&error_local);
			continue;
		}
		if (memchr (text, '\0', len) != NULL) {
			g_ptr_array_add (errors, g_strdup_printf ("%s: not a UTF-8 text file", path));
			continue;
		}
		astra_rule_set_add_file (self, path, text, known_webhooks, errors);
	}
	if (errors->len > n_errors)
		return NULL;
	return g_steal_pointer (&self);
}

/**
 * astra_rule_set_get_rules:
 * @self: a rule set
 *
 * Returns: (transfer none) (element-type AstraRule): every rule, disabled ones too,
 *   in the order of the files and of their groups
 *
 * Since: 1.0
 */
GPtrArray *
astra_rule_set_get_rules (AstraRuleSet *self)
{
	g_return_val_if_fail (ASTRA_IS_RULE_SET (self), NULL);
	return self->rules;
}

/**
 * astra_rule_set_lookup_metric:
 * @self: a rule set
 * @metric: a metric name
 *
 * The enabled rules that watch @metric: one hash lookup, nothing
 * allocated.
 *
 * Returns: (transfer none) (element-type AstraRule): the rules, possibly
 *   none, never %NULL; not to be modified
 *
 * Since: 1.0
 */
GPtrArray *
astra_rule_set_lookup_metric (AstraRuleSet *self, const char *metric)
{
	AstraRuleIndex *index;

	g_return_val_if_fail (ASTRA_IS_RULE_SET (self), NULL);
	g_return_val_if_fail (metric != NULL, NULL);

	index = g_hash_table_lookup (self->index, metric);
	return index != NULL ? index->rules : self->empty;
}

/**
 * astra_rule_set_lookup:
 * @self: a rule set
 * @name: a rule name
 *
 * Returns: (transfer none) (nullable): the rule named @name, enabled or not
 *
 * Since: 1.0
 */
const AstraRule *
astra_rule_set_lookup (AstraRuleSet *self, const char *name)
{
	g_return_val_if_fail (ASTRA_IS_RULE_SET (self), NULL);
	g_return_val_if_fail (name != NULL, NULL);
	return g_hash_table_lookup (self->by_name, name);
}
