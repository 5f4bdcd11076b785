/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "astra.h"

/* 2^53: above this not every integer is a double */
#define ASTRA_JSON_SAFE_INTEGER 9007199254740992.0
/* the largest array index: JavaScript enumerates keys 0 .. 2^32 - 2 first, in numeric order */
#define ASTRA_JSON_MAX_ARRAY_INDEX G_GUINT64_CONSTANT (4294967294)

/* a decimal value 0.d1d2...dk x 10^n, d1 != 0 */
typedef struct {
	char digits[24];
	gint k;
	gint n;
} AstraJsonDecimal;

/* where a value sits in the tree; only turned into a string when there is an error */
typedef struct AstraJsonPath AstraJsonPath;
struct AstraJsonPath {
	const AstraJsonPath *parent;
	const char *key; /* NULL for an array element */
	guint index;
};

typedef struct {
	guint32 index;
	const char *key;
	JsonNode *node;
} AstraJsonIndexMember;

/* g_ascii_formatd() wants a literal format: one per precision, "%.{p-1}e" gives p digits */
static const char *astra_json_exp_formats[] = {
	"%.0e", "%.1e",  "%.2e",  "%.3e",  "%.4e",  "%.5e",  "%.6e",  "%.7e",  "%.8e",
	"%.9e", "%.10e", "%.11e", "%.12e", "%.13e", "%.14e", "%.15e", "%.16e",
};

/* 0: copied as is, 'u': \u00XX, anything else: a backslash and that character */
/* clang-format off */
static const char astra_json_escapes[256] = {
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'b', 't', 'n', 'u', 'f', 'r', 'u', 'u',
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
    ['"'] = '"',
    ['\\'] = '\\',
};
/* clang-format on */

static gint
astra_json_uint_to_digits (guint64 value, char *digits)
{
	char tmp[24];
	gint len = 0;

	do {
		tmp[len++] = (char)('0' + value % 10);
		value /= 10;
	} while (value > 0);
	for (gint i = 0; i < len; i++)
		digits[i] = tmp[len - 1 - i];
	return len;
}

/* Number::toString's layout of the digits, ECMA-262 6.1.6.1.20 */
static void
astra_json_append_decimal (GString *out, gboolean negative, const AstraJsonDecimal *dec)
{
	char buf[48];
	gsize len = 0;
	gint k = dec->k;
	gint n = dec->n;

	if (negative)
		buf[len++] = '-';
	if (k <= n && n <= 21) {
		memcpy (buf + len, dec->digits, k);
		len += k;
		memset (buf + len, '0', n - k);
		len += n - k;
	} else if (0 < n && n <= 21) {
		memcpy (buf + len, dec->digits, n);
		len += n;
		buf[len++] = '.';
		memcpy (buf + len, dec->digits + n, k - n);
		len += k - n;
	} else if (-6 < n && n <= 0) {
		buf[len++] = '0';
		buf[len++] = '.';
		memset (buf + len, '0', -n);
		len += -n;
		memcpy (buf + len, dec->digits, k);
		len += k;
	} else {
		gint e = n - 1;
		buf[len++] = dec->digits[0];
		if (k > 1) {
			buf[len++] = '.';
			memcpy (buf + len, dec->digits + 1, k - 1);
			len += k - 1;
		}
		buf[len++] = 'e';
		buf[len++] = e < 0 ? '-' : '+';
		e = ABS (e);
		if (e >= 100)
			buf[len++] = (char)('0' + e / 100);
		if (e >= 10)
			buf[len++] = (char)('0' + (e / 10) % 10);
		buf[len++] = (char)('0' + e % 10);
	}
	g_string_append_len (out, buf, len);
}

static void
astra_json_append_integer (GString *out, gint64 value)
{
	char buf[24];
	gsize len = 0;
	guint64 magnitude = value < 0 ? (guint64)0 - (guint64)value : (guint64)value;

	if (value < 0)
		buf[len++] = '-';
	len += astra_json_uint_to_digits (magnitude, buf + len);
	g_string_append_len (out, buf, len);
}

static void
astra_json_decimal_strip (AstraJsonDecimal *dec)
{
	while (dec->k > 1 && dec->digits[dec->k - 1] == '0')
		dec->k--;
}

#ifdef __SIZEOF_INT128__
__extension__ typedef unsigned __int128 AstraJsonUint128;

/*
 * Exact shortest digits with 128-bit integers, for 2^-73 <= v < 2^53 and up to 21 decimals,
 * which covers what measurements look like. In units of 2^(E-2), v = 4M, and the halfway points
 * to its neighbours, the ends of its rounding interval, are integers: 4M - 2 (or 4M - 1 just
 * above a power of two, where the gap below is half as wide) and 4M + 2; they belong to the
 * interval when M is even (ties round to even). The first number of decimals e with an integer
 * q such that q / 10^e is in the interval gives the shortest digits; of those, the closest to v.
 */
static gboolean
astra_json_decimal_exact (AstraJsonDecimal *dec, double v)
{
	AstraJsonUint128 lo, mid, hi, mask, half;
	guint64 bits;
	guint64 mantissa;
	gint exponent;
	gint shift;
	gboolean inclusive;

	memcpy (&bits, &v, sizeof (bits));
	mantissa = bits & G_GUINT64_CONSTANT (0xfffffffffffff);
	exponent = (gint)((bits >> 52) & 0x7ff);
	if (exponent == 0)
		return FALSE; /* subnormal */
	mantissa |= G_GUINT64_CONSTANT (1) << 52;
	exponent -= 1075;
	shift = 2 - exponent;
	if (exponent > 0 || shift > 127)
		return FALSE;

	mid = (AstraJsonUint128)mantissa << 2;
	hi = mid + 2;
	lo = mantissa == G_GUINT64_CONSTANT (1) << 52 ? mid - 1 : mid - 2;
	inclusive = (mantissa & 1) == 0;
	mask = ((AstraJsonUint128)1 << shift) - 1;
	half = (AstraJsonUint128)1 << (shift - 1);

	/* hi * 10^21 < 2^55 * 2^70 */
	for (gint e = 0; e <= 21; e++) {
		AstraJsonUint128 qmin = (lo >> shift) + ((lo & mask) != 0 ? 1 : 0);
		AstraJsonUint128 qmax = hi >> shift;

		if (!inclusive && (lo & mask) == 0)
			qmin++;
		if (!inclusive && (hi & mask) == 0)
			qmax--;
		if (qmin <= qmax) {
			AstraJsonUint128 q = mid >> shift;
			AstraJsonUint128 rem = mid & mask;
			if (rem > half || (rem == half && (q & 1) != 0))
				q++;
			q = MAX (q, qmin);
			q = MIN (q, qmax);
			/* the shortest has at most 17 digits */
			dec->k = astra_json_uint_to_digits ((guint64)q, dec->digits);
			dec->n = dec->k - e;
			astra_json_decimal_strip (dec);
			return TRUE;
		}
		lo *= 10;
		mid *= 10;
		hi *= 10;
	}
	return FALSE;
}
#endif

static gboolean
astra_json_decimal_roundtrips (const AstraJsonDecimal *dec, double v)
{
	char buf[40];
	gint len = dec->k;
	gint e = dec->n - dec->k;

	memcpy (buf, dec->digits, dec->k);
	buf[len++] = 'e';
	if (e < 0) {
		buf[len++] = '-';
		e = -e;
	}
	len += astra_json_uint_to_digits ((guint64)e, buf + len);
	buf[len] = '\0';
	return g_ascii_strtod (buf, NULL) == v;
}

/* moves to the next p-digit decimal above */
static void
astra_json_decimal_increment (AstraJsonDecimal *dec)
{
	gint i = dec->k - 1;

	while (i >= 0 && dec->digits[i] == '9')
		dec->digits[i--] = '0';
	if (i >= 0) {
		dec->digits[i]++;
	} else {
		dec->digits[0] = '1';
		dec->n++;
	}
}

/* the closest p-digit decimal that round-trips, if there is one */
static gboolean
astra_json_decimal_try (AstraJsonDecimal *dec, double v, gint p)
{
	AstraJsonDecimal other;
	char buf[G_ASCII_DTOSTR_BUF_SIZE];
	const char *s;

	/* correctly rounded: "d.ddde+XX" */
	g_ascii_formatd (buf, sizeof (buf), astra_json_exp_formats[p - 1], v);
	s = buf;
	dec->k = 0;
	dec->digits[dec->k++] = *s++;
	if (*s == '.') {
		for (s++; g_ascii_isdigit (*s); s++)
			dec->digits[dec->k++] = *s;
	}
	dec->n = (gint)strtol (s + 1, NULL, 10) + 1;
	if (p == 17 || astra_json_decimal_roundtrips (dec, v))
		return TRUE;

	/* at a power of two the rounding interval is half as wide below v as above: the nearest
	 * decimal can be below and outside while the next one above is inside; the other way
	 * round cannot happen */
	other = *dec;
	astra_json_decimal_increment (&other);
	if (astra_json_decimal_roundtrips (&other, v)) {
		*dec = other;
		return TRUE;
	}
	return FALSE;
}

/* shortest round-trip digits of a finite v > 0; which precisions work is monotonic */
static void
astra_json_decimal_shortest (AstraJsonDecimal *dec, double v)
{
	AstraJsonDecimal cand;
	gint lo = 1;
	gint hi = 15;

#ifdef __SIZEOF_INT128__
	if (astra_json_decimal_exact (dec, v))
		return;
#endif

	/* what is left is mostly 16 or 17 digits */
	if (!astra_json_decimal_try (dec, v, 15)) {
		if (!astra_json_decimal_try (dec, v, 16))
			astra_json_decimal_try (dec, v, 17);
		astra_json_decimal_strip (dec);
		return;
	}
	while (lo < hi) {
		gint mid = (lo + hi) / 2;
		if (astra_json_decimal_try (&cand, v, mid)) {
			*dec = cand;
			hi = mid;
		} else {
			lo = mid + 1;
		}
	}
	astra_json_decimal_strip (dec);
}

/**
 * astra_json_format_number:
 * @out: a #GString to append to
 * @value: a finite double
 *
 * Appends @value as JavaScript's Number::toString prints it, e.g. `0.1`,
 * `1e+21`, `1e-7`, `5e-324`. The caller must check the value is finite.
 *
 * Since: 1.0
 */
void
astra_json_format_number (GString *out, double value)
{
	AstraJsonDecimal dec;
	gboolean negative = value < 0;
	double magnitude = fabs (value);

	g_return_if_fail (out != NULL);
	g_return_if_fail (isfinite (value));

	/* also turns -0 into 0 */
	if (magnitude < ASTRA_JSON_SAFE_INTEGER && magnitude == (double)(gint64)magnitude) {
		astra_json_append_integer (out, (gint64)value);
		return;
	}
	astra_json_decimal_shortest (&dec, magnitude);
	astra_json_append_decimal (out, negative, &dec);
}

static void
astra_json_append_escaped (GString *out, const char *str, gsize len)
{
	static const char hex[] = "0123456789abcdef";
	const guchar *p = (const guchar *)str;
	const guchar *end = p + len;
	const guchar *run = p;

	g_string_append_c (out, '"');
	for (; p < end; p++) {
		char esc = astra_json_escapes[*p];
		if (G_LIKELY (esc == 0))
			continue;
		if (p > run)
			g_string_append_len (out, (const char *)run, p - run);
		if (esc == 'u') {
			char buf[6] = { '\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 0xf] };
			g_string_append_len (out, buf, sizeof (buf));
		} else {
			char buf[2] = { '\\', esc };
			g_string_append_len (out, buf, sizeof (buf));
		}
		run = p + 1;
	}
	if (p > run)
		g_string_append_len (out, (const char *)run, p - run);
	g_string_append_c (out, '"');
}

static gboolean
astra_json_is_identifier (const char *key)
{
	if (!g_ascii_isalpha (key[0]) && key[0] != '_' && key[0] != '$')
		return FALSE;
	for (const char *p = key + 1; *p != '\0'; p++) {
		if (!g_ascii_isalnum (*p) && *p != '_' && *p != '$')
			return FALSE;
	}
	return TRUE;
}

static void
astra_json_path_append (GString *str, const AstraJsonPath *path)
{
	g_autofree gchar *valid = NULL;

	if (path == NULL)
		return;
	astra_json_path_append (str, path->parent);
	if (path->key == NULL) {
		g_string_append_printf (str, "[%u]", path->index);
		return;
	}
	if (astra_json_is_identifier (path->key)) {
		if (str->len > 0)
			g_string_append_c (str, '.');
		g_string_append (str, path->key);
		return;
	}
	valid = g_utf8_make_valid (path->key, -1);
	g_string_append_c (str, '[');
	astra_json_append_escaped (str, valid, strlen (valid));
	g_string_append_c (str, ']');
}

static gboolean
astra_json_path_error (const AstraJsonPath *path, GError **error, const char *what)
{
	g_autoptr (GString) str = g_string_new (NULL);

	astra_json_path_append (str, path);
	if (str->len == 0)
		g_string_append (str, "(root)");
	g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA, "%s: %s", str->str, what);
	return FALSE;
}

static gboolean
astra_json_append_string (GString *out, const char *str, const AstraJsonPath *path, GError **error)
{
	gsize len = strlen (str);

	if (!g_utf8_validate_len (str, len, NULL))
		return astra_json_path_error (path, error, "string is not valid UTF-8");
	astra_json_append_escaped (out, str, len);
	return TRUE;
}

/* canonical decimal strings of 0 .. 2^32 - 2: no sign, no leading zeros */
static gboolean
astra_json_key_to_index (const char *key, guint32 *index)
{
	guint64 value = 0;
	gint i;

	if (key[0] == '0') {
		*index = 0;
		return key[1] == '\0';
	}
	for (i = 0; key[i] != '\0'; i++) {
		if (key[i] < '0' || key[i] > '9' || i >= 10)
			return FALSE;
		value = value * 10 + (guint64)(key[i] - '0');
	}
	if (i == 0 || value > ASTRA_JSON_MAX_ARRAY_INDEX)
		return FALSE;
	*index = (guint32)value;
	return TRUE;
}

static gint
astra_json_index_member_cmp (const void *a, const void *b)
{
	const AstraJsonIndexMember *ma = a;
	const AstraJsonIndexMember *mb = b;
	return ma->index < mb->index ? -1 : ma->index > mb->index ? 1 : 0;
}

static gboolean astra_json_write_node (GString *out, JsonNode *node, const AstraJsonPath *path,
				       GError **error);

static gboolean
astra_json_write_member (GString *out, const char *key, JsonNode *node, gboolean *first,
			 const AstraJsonPath *path, GError **error)
{
	AstraJsonPath child = { path, key, 0 };
	gsize len = strlen (key);

	if (!g_utf8_validate_len (key, len, NULL))
		return astra_json_path_error (&child, error, "object key is not valid UTF-8");
	if (!*first)
		g_string_append_c (out, ',');
	*first = FALSE;
	astra_json_append_escaped (out, key, len);
	g_string_append_c (out, ':');
	return astra_json_write_node (out, node, &child, error);
}

static gboolean
astra_json_write_object (GString *out, JsonObject *object, const AstraJsonPath *path,
			 GError **error)
{
	AstraJsonIndexMember members_stack[16];
	g_autofree AstraJsonIndexMember *members_heap = NULL;
	AstraJsonIndexMember *members = members_stack;
	JsonObjectIter iter;
	const char *key;
	JsonNode *node;
	guint n_index = 0;
	guint i = 0;
	gboolean first = TRUE;

	/* JavaScript enumerates array-index keys first, in numeric order */
	json_object_iter_init_ordered (&iter, object);
	while (json_object_iter_next_ordered (&iter, &key, NULL)) {
		guint32 index;
		if (key[0] >= '0' && key[0] <= '9' && astra_json_key_to_index (key, &index))
			n_index++;
	}
	if (n_index > G_N_ELEMENTS (members_stack)) {
		members_heap = g_new (AstraJsonIndexMember, n_index);
		members = members_heap;
	}
	if (n_index > 0) {
		json_object_iter_init_ordered (&iter, object);
		while (json_object_iter_next_ordered (&iter, &key, &node)) {
			guint32 index;
			if (key[0] >= '0' && key[0] <= '9' &&
			    astra_json_key_to_index (key, &index)) {
				members[i].index = index;
				members[i].key = key;
				members[i].node = node;
				i++;
			}
		}
		qsort (members, n_index, sizeof (AstraJsonIndexMember),
		       astra_json_index_member_cmp);
	}

	g_string_append_c (out, '{');
	for (i = 0; i < n_index; i++) {
		if (!astra_json_write_member (out, members[i].key, members[i].node, &first, path,
					      error))
			return FALSE;
	}
	json_object_iter_init_ordered (&iter, object);
	while (json_object_iter_next_ordered (&iter, &key, &node)) {
		guint32 index;
		if (n_index > 0 && key[0] >= '0' && key[0] <= '9' &&
		    astra_json_key_to_index (key, &index))
			continue;
		if (!astra_json_write_member (out, key, node, &first, path, error))
			return FALSE;
	}
	g_string_append_c (out, '}');
	return TRUE;
}

static gboolean
astra_json_write_array (GString *out, JsonArray *array, const AstraJsonPath *path, GError **error)
{
	guint len = json_array_get_length (array);

	g_string_append_c (out, '[');
	for (guint i = 0; i < len; i++) {
		AstraJsonPath child = { path, NULL, i };
		if (i > 0)
			g_string_append_c (out, ',');
		if (!astra_json_write_node (out, json_array_get_element (array, i), &child, error))
			return FALSE;
	}
	g_string_append_c (out, ']');
	return TRUE;
}

static gboolean
astra_json_write_value (GString *out, JsonNode *node, const AstraJsonPath *path, GError **error)
{
	GType gtype = json_node_get_value_type (node);

	switch (gtype) {
	case G_TYPE_INT64: {
		gint64 value = json_node_get_int (node);
		/* JavaScript only has doubles: 2^53 + 1 is 2^53 */
		if (value >= -(gint64)ASTRA_JSON_SAFE_INTEGER &&
		    value <= (gint64)ASTRA_JSON_SAFE_INTEGER)
			astra_json_append_integer (out, value);
		else
			astra_json_format_number (out, (double)value);
		return TRUE;
	}
	case G_TYPE_DOUBLE: {
		double value = json_node_get_double (node);
		if (!isfinite (value))
			return astra_json_path_error (path, error, "number is not finite");
		astra_json_format_number (out, value);
		return TRUE;
	}
	case G_TYPE_BOOLEAN:
		if (json_node_get_boolean (node))
			g_string_append_len (out, "true", 4);
		else
			g_string_append_len (out, "false", 5);
		return TRUE;
	case G_TYPE_STRING: {
		const char *str = json_node_get_string (node);
		if (str == NULL)
			return astra_json_path_error (path, error, "string value is not set");
		return astra_json_append_string (out, str, path, error);
	}
	case G_TYPE_INVALID:
		return astra_json_path_error (path, error, "value is not set");
	default: {
		g_autofree gchar *what =
		    g_strdup_printf ("unsupported value type %s", g_type_name (gtype));
		return astra_json_path_error (path, error, what);
	}
	}
}

static gboolean
astra_json_write_node (GString *out, JsonNode *node, const AstraJsonPath *path, GError **error)
{
	switch (json_node_get_node_type (node)) {
	case JSON_NODE_NULL:
		g_string_append_len (out, "null", 4);
		return TRUE;
	case JSON_NODE_VALUE:
		return astra_json_write_value (out, node, path, error);
	case JSON_NODE_ARRAY: {
		JsonArray *array = json_node_get_array (node);
		if (array == NULL)
			return astra_json_path_error (path, error, "array is not set");
		return astra_json_write_array (out, array, path, error);
	}
	case JSON_NODE_OBJECT: {
		JsonObject *object = json_node_get_object (node);
		if (object == NULL)
			return astra_json_path_error (path, error, "object is not set");
		return astra_json_write_object (out, object, path, error);
	}
	default:
		return astra_json_path_error (path, error, "unknown node type");
	}
}

/**
 * astra_json_append:
 * @out: a #GString to append to
 * @node: a #JsonNode
 * @error: return location for a #GError
 *
 * Like astra_json_serialize(), appending to @out. On error @out is left as
 * it was.
 *
 * Returns: %TRUE on success
 *
 * Since: 1.0
 */
gboolean
astra_json_append (GString *out, JsonNode *node, GError **error)
{
	gsize len;

	g_return_val_if_fail (out != NULL, FALSE);
	g_return_val_if_fail (node != NULL, FALSE);
	g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

	len = out->len;
	if (!astra_json_write_node (out, node, NULL, error)) {
		g_string_truncate (out, len);
		return FALSE;
	}
	return TRUE;
}

/**
 * astra_json_serialize:
 * @node: a #JsonNode
 * @error: return location for a #GError
 *
 * Writes @node as canonical JSON: byte-identical to JavaScript's
 * `JSON.stringify(JSON.parse(text))`. Compact; numbers in the shortest form
 * that round-trips, printed as JavaScript's Number::toString (integral
 * values without `.0`, `-0` as `0`, exponent form from 1e21 and below 1e-6);
 * strings escaped as `JSON.stringify()` does (only `"`, `\` and control
 * characters, UTF-8 passed through); object keys that are array indices
 * first in ascending order, then the others in insertion order, as
 * JavaScript objects enumerate them.
 *
 * Non-finite numbers and strings that are not valid UTF-8 fail with
 * %ASTRA_ERROR_INVALID_DATA naming the path of the bad value.
 *
 * Returns: (transfer full): the bytes, not NUL-terminated in the #GBytes
 *   length (the data is followed by a NUL for convenience), or %NULL on error
 *
 * Since: 1.0
 */
GBytes *
astra_json_serialize (JsonNode *node, GError **error)
{
	g_autoptr (GString) out = NULL;

	g_return_val_if_fail (node != NULL, NULL);
	g_return_val_if_fail (error == NULL || *error == NULL, NULL);

	out = g_string_sized_new (256);
	if (!astra_json_write_node (out, node, NULL, error))
		return NULL;
	return g_string_free_to_bytes (g_steal_pointer (&out));
}
