/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * InfluxDB v1 line protocol, one point per line:
 *
 *   measurement[,tag=value...] field=value[,field=value...] [timestamp]
 *
 * Lines end at \n (a \r before it is dropped); blank lines and lines whose
 * first non-blank character is '#' are skipped. A backslash escapes ',' and
 * ' ' in the measurement, and ',', '=' and ' ' in tag keys, tag values and
 * field keys; before any other character it is a literal backslash, as in
 * InfluxDB 1.x (so Windows paths and UNC names survive as Telegraf sends them
 * unescaped); at the end of a line it is a bad escape. String field values
 * are "quoted", with \" and \\ inside; unlike InfluxDB they cannot span lines:
 * a newline always ends the line (Telegraf escapes newlines in strings).
 *
 * Field values: floats (1, -1.5, .5, 1., 1e3, 1.5E-7), integers (12i),
 * unsigned integers (12u), booleans (t T true True TRUE f F false False
 * FALSE) and strings. Every field but a string becomes one sample named
 * <measurement>_<field>, or <measurement> for a field named "value";
 * booleans are 1 and 0; integers beyond 2^53 lose precision as doubles.
 * String fields are skipped. Tags become labels. The timestamp is an
 * integer in the request's precision; without one, the sample is taken at
 * now_us.
 *
 * A line is checked whole (length, UTF-8, no NUL, syntax, numbers, a tag key
 * given twice) before any of its samples goes to the sink, so a bad line
 * gives none. The hot path does not allocate: each line is copied once into
 * a buffer of the call, tokens are unescaped and NUL-terminated in place
 * there, the labels point into it, and metric names are built in a second
 * buffer. Numbers take an exact fast path (at most 2^53 in the mantissa, a
 * power of ten up to 22) before falling back to g_ascii_strtod().
 */

#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "astra-line-protocol.h"

/* character classes for the token scanner */
#define ASTRA_LP_END (1 << 0)       /* the NUL after the line's copy */
#define ASTRA_LP_SEPARATOR (1 << 1) /* ',' and ' ' */
#define ASTRA_LP_EQUALS (1 << 2)
#define ASTRA_LP_BACKSLASH (1 << 3)

/* what ends a token; what a backslash escapes is the same minus the end */
#define ASTRA_LP_STOP_MEASUREMENT (ASTRA_LP_END | ASTRA_LP_SEPARATOR | ASTRA_LP_BACKSLASH)
#define ASTRA_LP_STOP_KEY (ASTRA_LP_END | ASTRA_LP_SEPARATOR | ASTRA_LP_EQUALS | ASTRA_LP_BACKSLASH)
#define ASTRA_LP_STOP_VALUE (ASTRA_LP_END | ASTRA_LP_SEPARATOR)

static const guint8 astra_lp_class[256] = {
	['\0'] = ASTRA_LP_END,   [','] = ASTRA_LP_SEPARATOR,  [' '] = ASTRA_LP_SEPARATOR,
	['='] = ASTRA_LP_EQUALS, ['\\'] = ASTRA_LP_BACKSLASH,
};

/* powers of ten that are exact doubles */
static const double astra_lp_pow10[] = {
	1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* up to this many tags, a duplicate key is looked for by comparing each with the others */
#define ASTRA_LP_LINEAR_TAGS 16

/* excerpts of bad tokens in messages are cut to this many bytes */
#define ASTRA_LP_EXCERPT_MAX 40

typedef struct {
	const char *key; /* NUL-terminated, in the line's copy */
	gsize key_len;
	double value;
} AstraLpField;

typedef struct {
	AstraPrecision precision;
	gint64 now_us;
	AstraSampleSinkFunc sink;
	gpointer user_data;
	AstraIngestStats stats;
	guint lineno;
	char *line; /* the current line's copy, unescaped in place */
	char *name; /* the metric name of the current sample */
	AstraLpField *fields;
	guint fields_size;
	char *error_msg; /* "line N: why" for the first bad line */
	AstraLpField fields_stack[64];
	AstraLabel labels[ASTRA_LINE_PROTOCOL_MAX_TAGS];
} AstraLpParser;

/**
 * astra_precision_from_string:
 * @str: (nullable): the `precision` parameter of `/write`
 * @out: (out): the precision
 *
 * Reads a timestamp precision as InfluxDB's `/write` takes it: `n`, `u`,
 * `ms`, `s`, `m` or `h` (v1), also `ns` and `us` (v2). %NULL or an empty
 * string is nanoseconds.
 *
 * Returns: %TRUE if @str is a precision
 *
 * Since: 1.0
 */
gboolean
astra_precision_from_string (const char *str, AstraPrecision *out)
{
	static const struct {
		const char *name;
		AstraPrecision precision;
	} names[] = {
		{ "", ASTRA_PRECISION_NS },  { "n", ASTRA_PRECISION_NS },  { "ns", ASTRA_PRECISION_NS },
		{ "u", ASTRA_PRECISION_US }, { "us", ASTRA_PRECISION_US }, { "ms", ASTRA_PRECISION_MS },
		{ "s", ASTRA_PRECISION_S },  { "m", ASTRA_PRECISION_M },   { "h", ASTRA_PRECISION_H },
	};

	g_return_val_if_fail (out != NULL, FALSE);

	if (str == NULL) {
		*out = ASTRA_PRECISION_NS;
		return TRUE;
	}
	for (guint i = 0; i < G_N_ELEMENTS (names); i++) {
		if (strcmp (str, names[i].name) == 0) {
			*out = names[i].precision;
			return TRUE;
		}
	}
	return FALSE;
}

static gboolean astra_lp_fail (AstraLpParser *self, const char *format, ...) G_GNUC_PRINTF (2, 3);

/* records why the current line is bad if it is the first bad one; always FALSE */
static gboolean
astra_lp_fail (AstraLpParser *self, const char *format, ...)
{
	g_autofree char *why = NULL;
	va_list args;

	if (self->error_msg != NULL)
		return FALSE;
	va_start (args, format);
	why = g_strdup_vprintf (format, args);
	va_end (args);
	self->error_msg = g_strdup_printf ("line %u: %s", self->lineno, why);
	return FALSE;
}

/* s[0..len) quoted for a message, cut at a character boundary if long */
static char *
astra_lp_quote (const char *s, gsize len)
{
	gsize cut = ASTRA_LP_EXCERPT_MAX;

	if (len <= ASTRA_LP_EXCERPT_MAX)
		return g_strdup_printf ("'%.*s'", (int) len, s);
	while (cut > 0 && ((guchar) s[cut] & 0xc0) == 0x80)
		cut--;
	return g_strdup_printf ("'%.*s...'", (int) cut, s);
}

/* the index of the first NUL or non-ASCII byte, or len; eight bytes at a time */
static gsize
astra_lp_ascii_prefix (const char *s, gsize len)
{
	const guint64 ones = G_GUINT64_CONSTANT (0x0101010101010101);
	const guint64 highs = G_GUINT64_CONSTANT (0x8080808080808080);
	gsize i = 0;

	/* (w - ones) sets the high bit of a zero byte (borrows start only at zero bytes) */
	for (; i + 8 <= len; i += 8) {
		guint64 w;
		memcpy (&w, s + i, sizeof (w));
		if (((w - ones) | w) & highs)
			break;
	}
	for (; i < len; i++) {
		if ((guchar) s[i] == 0 || (guchar) s[i] >= 0x80)
			break;
	}
	return i;
}

/*
 * Scans the token at *pp up to an unescaped character of class @stop,
 * unescaping it in place and NUL-terminating it. Returns its start, its
 * length in *len and the character that ended it in *sep ('\0' at the end
 * of the line), and leaves *pp after that character. NULL for a backslash
 * at the end of the line.
 */
static char *
astra_lp_scan (char **pp, guint8 stop, gsize *len, char *sep)
{
	char *start = *pp;
	char *p = start;
	char *w;

	while ((astra_lp_class[(guchar) *p] & stop) == 0)
		p++;
	if (*p != '\\') {
		*sep = *p;
		*len = (gsize) (p - start);
		*p = '\0';
		*pp = *sep != '\0' ? p + 1 : p;
		return start;
	}

	/* escapes: copy down over the backslashes */
	w = p;
	for (;;) {
		guchar c = (guchar) *p;
		if (c == '\\') {
			guchar next = (guchar) p[1];
			if (next == '\0')
				return NULL;
			if ((astra_lp_class[next] & stop & ~ASTRA_LP_END & ~ASTRA_LP_BACKSLASH) != 0) {
				*w++ = (char) next;
				p += 2;
			} else {
				*w++ = '\\';
				p++;
			}
			continue;
		}
		if ((astra_lp_class[c] & stop) != 0)
			break;
		*w++ = (char) c;
		p++;
	}
	*sep = *p;
	*len = (gsize) (w - start);
	*w = '\0';
	*pp = *sep != '\0' ? p + 1 : p;
	return start;
}

/* digits only, at least one; FALSE on overflow past max */
static gboolean
astra_lp_parse_digits (const char *s, gsize len, guint64 max, guint64 *out)
{
	guint64 v = 0;

	for (gsize i = 0; i < len; i++) {
		guint d = (guchar) s[i] - '0';
		if (v > (max - d) / 10)
			return FALSE;
		v = v * 10 + d;
	}
	*out = v;
	return TRUE;
}

static gboolean
astra_lp_all_digits (const char *s, gsize len)
{
	if (len == 0)
		return FALSE;
	for (gsize i = 0; i < len; i++) {
		if (!g_ascii_isdigit (s[i]))
			return FALSE;
	}
	return TRUE;
}

typedef enum {
	ASTRA_LP_NUMBER_OK,
	ASTRA_LP_NUMBER_SYNTAX,
	ASTRA_LP_NUMBER_RANGE,
} AstraLpNumber;

/* -?(digits)?(.digits?)?([eE][+-]?digits)? with at least one mantissa digit;
 * s[len] must be a character that cannot continue a number */
static AstraLpNumber
astra_lp_parse_float (const char *s, gsize len, double *out)
{
	gsize i = 0;
	gsize n_digits = 0;
	guint64 mantissa = 0;
	gboolean inexact = FALSE;
	gboolean negative = FALSE;
	gint64 exp10 = 0;
	double v;

	if (i < len && s[i] == '-') {
		negative = TRUE;
		i++;
	}
	for (; i < len && g_ascii_isdigit (s[i]); i++, n_digits++) {
		/* past 2^60 the fast path is out anyway: strtod takes over */
		if (mantissa >= G_GUINT64_CONSTANT (1) << 60)
			inexact = TRUE;
		else
			mantissa = mantissa * 10 + (guint) (s[i] - '0');
	}
	if (i < len && s[i] == '.') {
		i++;
		for (; i < len && g_ascii_isdigit (s[i]); i++, n_digits++) {
			if (mantissa >= G_GUINT64_CONSTANT (1) << 60) {
				inexact = TRUE;
				continue;
			}
			mantissa = mantissa * 10 + (guint) (s[i] - '0');
			exp10--;
		}
	}
	if (n_digits == 0)
		return ASTRA_LP_NUMBER_SYNTAX;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		gboolean exp_negative = FALSE;
		gint64 e = 0;
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-')) {
			exp_negative = s[i] == '-';
			i++;
		}
		if (i >= len || !g_ascii_isdigit (s[i]))
			return ASTRA_LP_NUMBER_SYNTAX;
		for (; i < len && g_ascii_isdigit (s[i]); i++) {
			if (e < 1000000)
				e = e * 10 + (s[i] - '0');
		}
		exp10 += exp_negative ? -e : e;
	}
	if (i != len)
		return ASTRA_LP_NUMBER_SYNTAX;

	if (!inexact && mantissa <= G_GUINT64_CONSTANT (1) << 53 && exp10 >= -22 && exp10 <= 22) {
		/* both operands exact: one correctly rounded operation */
		v = (double) mantissa;
		v = exp10 < 0 ? v / astra_lp_pow10[-exp10] : v * astra_lp_pow10[exp10];
		if (negative)
			v = -v;
	} else {
		char *end = NULL;
		/* the syntax is a subset of strtod's and s[len] cannot continue it */
		v = g_ascii_strtod (s, &end);
		if (end != s + len)
			return ASTRA_LP_NUMBER_SYNTAX;
	}
	if (!isfinite (v))
		return ASTRA_LP_NUMBER_RANGE;
	*out = v;
	return ASTRA_LP_NUMBER_OK;
}

static gboolean
astra_lp_token_equal (const char *s, gsize len, const char *word)
{
	return strlen (word) == len && memcmp (s, word, len) == 0;
}

/* a numeric or boolean field value, s[0..len) */
static gboolean
astra_lp_parse_value (AstraLpParser *self, const char *key, const char *s, gsize len, double *out)
{
	g_autofree char *quoted = NULL;
	char last = s[len - 1];

	/* 12i, -12i, 12u; "tu" and "i" are words, not numbers */
	if ((last == 'i' || last == 'u') && !g_ascii_isalpha (s[0])) {
		gboolean negative = s[0] == '-';
		const char *digits = negative ? s + 1 : s;
		gsize n = len - 1 - (negative ? 1 : 0);
		guint64 v = 0;

		if (!astra_lp_all_digits (digits, n) || (negative && last == 'u')) {
			quoted = astra_lp_quote (s, len);
			return astra_lp_fail (self, "field '%s': invalid %s %s", key,
					      last == 'i' ? "integer" : "unsigned integer", quoted);
		}
		if (last == 'u') {
			if (!astra_lp_parse_digits (digits, n, G_MAXUINT64, &v)) {
				quoted = astra_lp_quote (s, len);
				return astra_lp_fail (self, "field '%s': unsigned integer out of range %s",
						      key, quoted);
			}
			*out = (double) v;
			return TRUE;
		}
		if (!astra_lp_parse_digits (digits, n, negative ? (guint64) G_MAXINT64 + 1 : G_MAXINT64,
					    &v)) {
			quoted = astra_lp_quote (s, len);
			return astra_lp_fail (self, "field '%s': integer out of range %s", key, quoted);
		}
		*out = negative ? -(double) v : (double) v;
		return TRUE;
	}

	switch (s[0]) {
	case 't':
	case 'T':
		if (len == 1 || astra_lp_token_equal (s, len, "true") ||
		    astra_lp_token_equal (s, len, "True") || astra_lp_token_equal (s, len, "TRUE")) {
			*out = 1;
			return TRUE;
		}
		break;
	case 'f':
	case 'F':
		if (len == 1 || astra_lp_token_equal (s, len, "false") ||
		    astra_lp_token_equal (s, len, "False") || astra_lp_token_equal (s, len, "FALSE")) {
			*out = 0;
			return TRUE;
		}
		break;
	default:
		switch (astra_lp_parse_float (s, len, out)) {
		case ASTRA_LP_NUMBER_OK:
			return TRUE;
		case ASTRA_LP_NUMBER_RANGE:
			quoted = astra_lp_quote (s, len);
			return astra_lp_fail (self, "field '%s': number out of range %s", key, quoted);
		default:
			break;
		}
		break;
	}
	quoted = astra_lp_quote (s, len);
	return astra_lp_fail (
	    self, "field '%s': invalid value %s (expected a number, 12i, 12u, true, false or a \"string\")",
	    key, quoted);
}

/* the timestamp token s[0..len) in microseconds */
static gboolean
astra_lp_parse_timestamp (AstraLpParser *self, const char *s, gsize len, gint64 *out)
{
	static const gint64 factor[] = {
		[ASTRA_PRECISION_US] = 1,
		[ASTRA_PRECISION_MS] = 1000,
		[ASTRA_PRECISION_S] = G_GINT64_CONSTANT (1000000),
		[ASTRA_PRECISION_M] = G_GINT64_CONSTANT (60000000),
		[ASTRA_PRECISION_H] = G_GINT64_CONSTANT (3600000000),
	};
	g_autofree char *quoted = NULL;
	gboolean negative = s[0] == '-';
	const char *digits = negative ? s + 1 : s;
	gsize n = negative ? len - 1 : len;
	guint64 magnitude = 0;
	gint64 t;

	if (!astra_lp_all_digits (digits, n)) {
		quoted = astra_lp_quote (s, len);
		return astra_lp_fail (self, "invalid timestamp %s (expected an integer)", quoted);
	}
	if (!astra_lp_parse_digits (digits, n, negative ? (guint64) G_MAXINT64 + 1 : G_MAXINT64,
				    &magnitude)) {
		quoted = astra_lp_quote (s, len);
		return astra_lp_fail (self, "timestamp out of range %s", quoted);
	}
	t = negative ? (gint64) (0 - magnitude) : (gint64) magnitude;

	if (self->precision == ASTRA_PRECISION_NS) {
		/* floor, so that times before 1970 round the same way as after */
		gint64 q = t / 1000;
		if (t % 1000 < 0)
			q--;
		*out = q;
		return TRUE;
	}
	if (__builtin_mul_overflow (t, factor[self->precision], out)) {
		quoted = astra_lp_quote (s, len);
		return astra_lp_fail (self, "timestamp out of range %s", quoted);
	}
	return TRUE;
}

/* the string field value at *pp (after its opening quote); leaves *pp after the closing one */
static gboolean
astra_lp_skip_string (AstraLpParser *self, const char *key, char **pp)
{
	char *p = *pp;

	for (;;) {
		char c = *p;
		if (c == '"')
			break;
		if (c == '\0' || (c == '\\' && p[1] == '\0'))
			return astra_lp_fail (self, "field '%s': unterminated string", key);
		p += c == '\\' ? 2 : 1;
	}
	*pp = p + 1;
	return TRUE;
}

static void
astra_lp_add_field (AstraLpParser *self, guint n_fields, const char *key, gsize key_len, double value)
{
	if (n_fields == self->fields_size) {
		self->fields_size *= 2;
		if (self->fields == self->fields_stack) {
			self->fields = g_new (AstraLpField, self->fields_size);
			memcpy (self->fields, self->fields_stack, sizeof (self->fields_stack));
		} else {
			self->fields = g_renew (AstraLpField, self->fields, self->fields_size);
		}
	}
	self->fields[n_fields].key = key;
	self->fields[n_fields].key_len = key_len;
	self->fields[n_fields].value = value;
}

static int
astra_lp_compare_names (gconstpointer a, gconstpointer b)
{
	return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* a tag key given twice among many, found by sorting (n log n, not n^2); NULL if none */
static const char *
astra_lp_find_duplicate (AstraLpParser *self, guint n_labels)
{
	const char *names[ASTRA_LINE_PROTOCOL_MAX_TAGS];

	for (guint i = 0; i < n_labels; i++)
		names[i] = self->labels[i].name;
	qsort (names, n_labels, sizeof (names[0]), astra_lp_compare_names);
	for (guint i = 1; i < n_labels; i++) {
		if (strcmp (names[i - 1], names[i]) == 0)
			return names[i];
	}
	return NULL;
}

/* gives every sample of the line to the sink; FALSE if it refused one */
static gboolean
astra_lp_emit (AstraLpParser *self,
	       const char *measurement,
	       gsize measurement_len,
	       guint n_labels,
	       guint n_fields,
	       gint64 timestamp_us)
{
	gboolean ok = TRUE;

	memcpy (self->name, measurement, measurement_len);
	self->name[measurement_len] = '_';
	for (guint i = 0; i < n_fields; i++) {
		const AstraLpField *field = &self->fields[i];
		AstraSeriesReject reject = ASTRA_SERIES_REJECT_NONE;
		const char *metric = measurement;

		if (!astra_lp_token_equal (field->key, field->key_len, "value")) {
			memcpy (self->name + measurement_len + 1, field->key, field->key_len + 1);
			metric = self->name;
		}
		if (self->sink (metric, self->labels, n_labels, field->value, timestamp_us, &reject,
				self->user_data)) {
			self->stats.n_samples++;
			continue;
		}
		self->stats.n_rejected++;
		if (ok) {
			ok = FALSE;
			astra_lp_fail (self, "%s (metric '%s')",
				       reject != ASTRA_SERIES_REJECT_NONE
					   ? astra_series_reject_to_string (reject)
					   : "sample rejected",
				       metric);
		}
	}
	return ok;
}

/* one line, already copied to self->line, NUL-terminated, without leading blanks */
static gboolean
astra_lp_parse_line (AstraLpParser *self)
{
	char *p = self->line;
	char *measurement;
	gsize measurement_len = 0;
	gint64 timestamp_us = self->now_us;
	guint n_labels = 0;
	guint n_fields = 0;
	char sep = '\0';

	measurement = astra_lp_scan (&p, ASTRA_LP_STOP_MEASUREMENT, &measurement_len, &sep);
	if (measurement == NULL)
		return astra_lp_fail (self, "bad escape: backslash at the end of the line");
	if (measurement_len == 0)
		return astra_lp_fail (self, "missing measurement");

	/* tags */
	while (sep == ',') {
		char *key;
		char *value;
		gsize key_len = 0;
		gsize value_len = 0;

		key = astra_lp_scan (&p, ASTRA_LP_STOP_KEY, &key_len, &sep);
		if (key == NULL)
			return astra_lp_fail (self, "bad escape: backslash at the end of the line");
		if (key_len == 0)
			return astra_lp_fail (self, "empty tag key");
		if (sep != '=')
			return astra_lp_fail (self, "tag '%s' has no '=' and value", key);
		value = astra_lp_scan (&p, ASTRA_LP_STOP_KEY, &value_len, &sep);
		if (value == NULL)
			return astra_lp_fail (self, "bad escape: backslash at the end of the line");
		if (sep == '=')
			return astra_lp_fail (self, "tag '%s': unescaped '=' in the value", key);
		if (value_len == 0)
			return astra_lp_fail (self, "tag '%s' has an empty value", key);
		for (guint i = 0; i < n_labels && n_labels < ASTRA_LP_LINEAR_TAGS; i++) {
			if (strcmp (self->labels[i].name, key) == 0)
				return astra_lp_fail (self, "duplicate tag key '%s'", key);
		}
		if (n_labels == ASTRA_LINE_PROTOCOL_MAX_TAGS)
			return astra_lp_fail (self, "more than %u tags",
					      (guint) ASTRA_LINE_PROTOCOL_MAX_TAGS);
		self->labels[n_labels].name = key;
		self->labels[n_labels].value = value;
		n_labels++;
	}
	if (n_labels > ASTRA_LP_LINEAR_TAGS) {
		const char *duplicate = astra_lp_find_duplicate (self, n_labels);
		if (duplicate != NULL)
			return astra_lp_fail (self, "duplicate tag key '%s'", duplicate);
	}
	if (sep != ' ')
		return astra_lp_fail (self, "missing fields");
	while (*p == ' ')
		p++;
	if (*p == '\0')
		return astra_lp_fail (self, "missing fields");

	/* fields */
	for (;;) {
		char *key;
		gsize key_len = 0;

		key = astra_lp_scan (&p, ASTRA_LP_STOP_KEY, &key_len, &sep);
		if (key == NULL)
			return astra_lp_fail (self, "bad escape: backslash at the end of the line");
		if (key_len == 0)
			return astra_lp_fail (self,
					      sep == '=' ? "empty field key" : "missing field after ','");
		if (sep != '=')
			return astra_lp_fail (self, "field '%s' has no '=' and value", key);
		if (*p == '"') {
			p++;
			if (!astra_lp_skip_string (self, key, &p))
				return FALSE;
			sep = *p;
			if (sep != ',' && sep != ' ' && sep != '\0')
				return astra_lp_fail (self, "field '%s': unexpected text after the string",
						      key);
		} else {
			const char *value = p;
			double v = 0;

			while ((astra_lp_class[(guchar) *p] & ASTRA_LP_STOP_VALUE) == 0)
				p++;
			sep = *p;
			if (p == value)
				return astra_lp_fail (self, "field '%s' has no value", key);
			if (!astra_lp_parse_value (self, key, value, (gsize) (p - value), &v))
				return FALSE;
			astra_lp_add_field (self, n_fields++, key, key_len, v);
		}
		if (sep != '\0')
			p++;
		if (sep != ',')
			break;
	}

	/* the timestamp, if any */
	while (*p == ' ')
		p++;
	if (*p != '\0') {
		const char *ts = p;
		while (*p != ' ' && *p != '\0')
			p++;
		if (!astra_lp_parse_timestamp (self, ts, (gsize) (p - ts), &timestamp_us))
			return FALSE;
		while (*p == ' ')
			p++;
		if (*p != '\0') {
			g_autofree char *quoted = astra_lp_quote (p, strlen (p));
			return astra_lp_fail (self, "unexpected text after the timestamp: %s", quoted);
		}
	}

	return astra_lp_emit (self, measurement, measurement_len, n_labels, n_fields, timestamp_us);
}

/* the physical line s[0..len) (without its \n); FALSE if bad */
static gboolean
astra_lp_handle_line (AstraLpParser *self, const char *s, gsize len)
{
	const char *line_start = s;
	gsize ascii;

	if (len > 0 && s[len - 1] == '\r')
		len--;
	while (len > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	if (len == 0 || *s == '#')
		return TRUE;

	self->stats.n_lines++;
	if (len > ASTRA_LINE_PROTOCOL_MAX_LINE_LENGTH)
		return astra_lp_fail (self, "longer than %u bytes",
				      (guint) ASTRA_LINE_PROTOCOL_MAX_LINE_LENGTH);
	ascii = astra_lp_ascii_prefix (s, len);
	if (ascii < len) {
		const char *end = NULL;
		if (!g_utf8_validate_len (s, len, &end)) {
			gsize column = (gsize) (end - line_start) + 1;
			if (*end == '\0')
				return astra_lp_fail (self, "NUL byte at column %" G_GSIZE_FORMAT, column);
			return astra_lp_fail (self, "invalid UTF-8 at column %" G_GSIZE_FORMAT, column);
		}
	}
	memcpy (self->line, s, len);
	self->line[len] = '\0';
	return astra_lp_parse_line (self);
}

/**
 * astra_line_protocol_parse:
 * @body: (array length=length): the request body, not NUL-terminated
 * @length: its length in bytes
 * @precision: the unit of the timestamps
 * @now_us: the time, in unix microseconds, of samples without a timestamp
 * @sink: takes each sample
 * @user_data: for @sink
 * @stats: (out caller-allocates) (optional): what the body gave
 * @error: return location for a #GError
 *
 * Parses InfluxDB v1 line protocol and gives every sample of every good
 * line to @sink, in order. A bad line gives no sample; a line with a sample
 * @sink refuses is bad too (its other samples are still offered).
 *
 * Returns: %TRUE if every line was good; else %FALSE with
 *   %ASTRA_ERROR_INVALID_DATA "line N: why" naming the first bad line (the
 *   good lines are taken all the same)
 *
 * Since: 1.0
 */
gboolean
astra_line_protocol_parse (const char *body,
			   gsize length,
			   AstraPrecision precision,
			   gint64 now_us,
			   AstraSampleSinkFunc sink,
			   gpointer user_data,
			   AstraIngestStats *stats,
			   GError **error)
{
	AstraLpParser self = {
		.precision = precision,
		.now_us = now_us,
		.sink = sink,
		.user_data = user_data,
		.fields_size = G_N_ELEMENTS (self.fields_stack),
	};
	g_autofree char *buffers = NULL;
	gsize max_line = MIN (length, (gsize) ASTRA_LINE_PROTOCOL_MAX_LINE_LENGTH);
	const char *p = body;
	const char *end = body + length;

	g_return_val_if_fail (body != NULL || length == 0, FALSE);
	g_return_val_if_fail (precision <= ASTRA_PRECISION_H, FALSE);
	g_return_val_if_fail (sink != NULL, FALSE);
	g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

	/* the line's copy, then the name: measurement + '_' + field key + NUL */
	buffers = g_malloc (2 * (max_line + 2));
	self.line = buffers;
	self.name = buffers + max_line + 2;
	self.fields = self.fields_stack;

	while (p < end) {
		const char *nl = memchr (p, '\n', (gsize) (end - p));
		const char *eol = nl != NULL ? nl : end;

		self.lineno++;
		if (!astra_lp_handle_line (&self, p, (gsize) (eol - p)) && self.stats.first_bad_line == 0)
			self.stats.first_bad_line = self.lineno;
		p = nl != NULL ? nl + 1 : end;
	}

	if (self.fields != self.fields_stack)
		g_free (self.fields);
	if (stats != NULL)
		*stats = self.stats;
	if (self.error_msg != NULL) {
		g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA, self.error_msg);
		g_free (self.error_msg);
		return FALSE;
	}
	return TRUE;
}
