/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "config.h"

#include <check.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "astra.h"
#include "astra-check-common.h"

/* sizes of the generated corpora */
#define N_DIFF_NUMBERS 100000
#define N_DIFF_DOCUMENTS 3000
#define N_DIFF_MUTATIONS 5000
#define N_MUTATIONS 50000
#define MAX_REPORTED_ERRORS 10

/* parse then serialize; data is copied to a buffer of exactly len bytes so that ASan sees overreads
 */
static gchar *
canonicalize (const char *data, gssize len, GError **error)
{
	gsize size = len < 0 ? strlen (data) : (gsize)len;
	g_autofree gchar *copy = g_memdup2 (data, size);
	g_autoptr (JsonNode) node = astra_json_parse (copy, size, error);
	g_autoptr (GBytes) bytes = NULL;
	gsize out_len = 0;
	const char *out;

	if (node == NULL)
		return NULL;
	bytes = astra_json_serialize (node, error);
	if (bytes == NULL)
		return NULL;
	out = g_bytes_get_data (bytes, &out_len);
	/* the bytes are documented to be followed by a NUL */
	ck_assert_int_eq (out[out_len], '\0');
	return g_strndup (out, out_len);
}

/* printable and short enough for a libcheck failure message */
static gchar *
excerpt (const char *text)
{
	g_autofree gchar *escaped = g_strescape (text, NULL);
	if (strlen (escaped) <= 160)
		return g_steal_pointer (&escaped);
	return g_strdup_printf ("%.160s...", escaped);
}

/* the part of two texts around where they first differ */
static gchar *
excerpt_diff (const char *text, const char *other)
{
	gsize i = 0;
	while (text[i] != '\0' && text[i] == other[i])
		i++;
	i = i > 40 ? i - 40 : 0;
	/* do not start inside a UTF-8 sequence */
	while (i > 0 && (text[i] & 0xc0) == 0x80)
		i--;
	if (i == 0)
		return excerpt (text);
	{
		g_autofree gchar *tail = excerpt (text + i);
		return g_strdup_printf ("(from byte %zu) ...%s", i, tail);
	}
}

/* libcheck refuses messages longer than a few kilobytes */
static const char *
failures_text (GString *failures)
{
	if (failures->len > 3000) {
		g_string_truncate (failures, 3000);
		g_string_append (failures, "...");
	}
	return failures->str;
}

static gchar *
format_number (double value)
{
	GString *str = g_string_new (NULL);
	astra_json_format_number (str, value);
	return g_string_free (str, FALSE);
}

/* ------------------------------------------------------------------------------------------ */

typedef struct {
	const char *input;
	const char *expected;
} CanonicalCase;

static const CanonicalCase canonical_cases[] = {
	/* numbers */
	{ "-0", "0" },
	{ "-0.0", "0" },
	{ "0", "0" },
	{ "0.1", "0.1" },
	{ "0.30000000000000004", "0.30000000000000004" },
	{ "1e21", "1e+21" },
	{ "1e20", "100000000000000000000" },
	{ "999999999999999900000", "999999999999999900000" },
	{ "1e-7", "1e-7" },
	{ "1.5e-7", "1.5e-7" },
	{ "0.000001", "0.000001" },
	{ "1e-6", "0.000001" },
	{ "0.0000012345", "0.0000012345" },
	{ "5e-324", "5e-324" },
	{ "4.9406564584124654e-324", "5e-324" },
	{ "2.2250738585072014e-308", "2.2250738585072014e-308" },
	{ "9007199254740993", "9007199254740992" },
	{ "-9007199254740993", "-9007199254740992" },
	{ "9007199254740992", "9007199254740992" },
	{ "9007199254740995", "9007199254740996" },
	{ "1.7976931348623157e308", "1.7976931348623157e+308" },
	{ "-1.7976931348623157E+308", "-1.7976931348623157e+308" },
	{ "123456789012345680000", "123456789012345680000" },
	{ "12345678901234567890", "12345678901234567000" },
	{ "1.5", "1.5" },
	{ "-1.5", "-1.5" },
	{ "1.0", "1" },
	{ "100", "100" },
	{ "1E2", "100" },
	{ "1e+2", "100" },
	{ "1e300", "1e+300" },
	{ "1e-300", "1e-300" },
	{ "123.456", "123.456" },
	{ "0.1e1", "1" },
	{ "1e-400", "0" },
	{ "-1e-400", "0" },
	{ "2e-323", "2e-323" },
	{ "1.2345678901234567e-7", "1.2345678901234566e-7" },
	{ "1234567.891", "1234567.891" },
	{ "9.999999999999999e22", "1e+23" },
	{ "1e23", "1e+23" },
	{ "5e-7", "5e-7" },
	{ "0.00001", "0.00001" },
	{ "100000000000000000000000000000000000000000000000000", "1e+50" },
	{ "0.000000000000000000000000000000000000000000000000001", "1e-51" },
	/* strings */
	{ "\"\"", "\"\"" },
	{ "\"\\u0001\\b\\f\\n\\r\\t\\u001f\\u000b\"", "\"\\u0001\\b\\f\\n\\r\\t\\u001f\\u000b\"" },
	{ "\"\\u001F\\u000A\\u0008\"", "\"\\u001f\\n\\b\"" },
	{ "\"\\\"\"", "\"\\\"\"" },
	{ "\"\\\\\"", "\"\\\\\"" },
	{ "\"\\/ /\"", "\"/ /\"" },
	{ "\"\\u2028\\u2029\"", "\"\xe2\x80\xa8\xe2\x80\xa9\"" },
	{ "\"\xe2\x80\xa8\"", "\"\xe2\x80\xa8\"" },
	{ "\"\\ud83d\\ude00\"", "\"\xf0\x9f\x98\x80\"" },
	{ "\"\\uD83D\\uDE00\"", "\"\xf0\x9f\x98\x80\"" },
	{ "\"\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\"", "\"\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\"" },
	{ "\"\\u007f\x7f\"", "\"\x7f\x7f\"" },
	{ "\"\\u00e9\\u0041\"", "\"\xc3\xa9"
				"A\"" },
	{ "\"\\ufeff\\uffff\"", "\"\xef\xbb\xbf\xef\xbf\xbf\"" },
	{ "\"<script>&'\"", "\"<script>&'\"" },
	/* literals and containers */
	{ "true", "true" },
	{ "false", "false" },
	{ "null", "null" },
	{ "{}", "{}" },
	{ "[]", "[]" },
	{ " \t\r\n[ { } , [ ] ]\r\n ", "[{},[]]" },
	{ " { \"a\" : [ 1 , true , false , null ] } ", "{\"a\":[1,true,false,null]}" },
	{ "[[[[[[1]]]]]]", "[[[[[[1]]]]]]" },
	{ "{\"a\":{\"b\":{\"c\":[{\"d\":[]}]}}}", "{\"a\":{\"b\":{\"c\":[{\"d\":[]}]}}}" },
	/* key order: array indices first, in numeric order, then insertion order */
	{ "{\"b\":1,\"2\":2,\"1\":3,\"01\":4}", "{\"1\":3,\"2\":2,\"b\":1,\"01\":4}" },
	{ "{\"4294967295\":1,\"4294967294\":2,\"0\":3,\"-1\":4,\"1.0\":5,\"10\":6,\"9\":7}",
	  "{\"0\":3,\"9\":7,\"10\":6,\"4294967294\":2,\"4294967295\":1,\"-1\":4,\"1.0\":5}" },
	{ "{\"z\":1,\"\\u0031\":2,\"\":3,\"__proto__\":4,\" 1\":5}",
	  "{\"1\":2,\"z\":1,\"\":3,\"__proto__\":4,\" 1\":5}" },
	/* duplicates: first position, last value */
	{ "{\"a\":1,\"b\":2,\"a\":3}", "{\"a\":3,\"b\":2}" },
	{ "{\"a\":1,\"a\":{\"x\":[1]},\"a\":null}", "{\"a\":null}" },
	{ "{\"1\":1,\"b\":2,\"1\":3}", "{\"1\":3,\"b\":2}" },
	{ "{\"a\":{\"x\":1},\"b\":1,\"a\":[1],\"c\":{\"c\":1,\"c\":2},\"a\":\"s\",\"b\":true}",
	  "{\"a\":\"s\",\"b\":true,\"c\":{\"c\":2}}" },
};

START_TEST (test_canonical_table)
{
	const CanonicalCase *tc = &canonical_cases[_i];
	g_autoptr (GError) error = NULL;
	g_autofree gchar *out = canonicalize (tc->input, -1, &error);

	ck_assert_msg (out != NULL, "%s: %s", tc->input, error != NULL ? error->message : "?");
	ck_assert_msg (g_strcmp0 (out, tc->expected) == 0, "%s: expected %s, got %s", tc->input,
		       tc->expected, out);
}
END_TEST

typedef struct {
	double value;
	const char *expected;
} NumberCase;

START_TEST (test_format_number)
{
	const NumberCase cases[] = {
		{ -0.0, "0" },
		{ 0.0, "0" },
		{ 1.0, "1" },
		{ -1.0, "-1" },
		{ 0.1, "0.1" },
		{ 0.1 + 0.2, "0.30000000000000004" },
		{ 1e21, "1e+21" },
		{ 1e21 - 65536.0 * 2, "999999999999999900000" },
		{ 1e-7, "1e-7" },
		{ 1e-6, "0.000001" },
		{ 5e-324, "5e-324" },
		{ -5e-324, "-5e-324" },
		{ 1.7976931348623157e308, "1.7976931348623157e+308" },
		{ 9007199254740992.0, "9007199254740992" },
		{ 9007199254740994.0, "9007199254740994" },
		{ -9007199254740991.0, "-9007199254740991" },
		{ 4503599627370495.5, "4503599627370495.5" },
		{ 0.5, "0.5" },
		{ 2.5e-5, "0.000025" },
		{ 123e-20, "1.23e-18" },
		{ 1.0 / 3.0, "0.3333333333333333" },
		{ 2.0 / 3.0, "0.6666666666666666" },
		{ 100.0 / 3.0, "33.333333333333336" },
		{ 9.5367431640625e-07, "9.5367431640625e-7" },          /* 2^-20 */
		{ 8.98846567431158e307, "8.98846567431158e+307" },      /* 2^1023 */
		{ 2.2250738585072014e-308, "2.2250738585072014e-308" }, /* 2^-1022 */
		{ 1.2089258196146292e24, "1.2089258196146292e+24" },    /* 2^80 */
		{ 3.4028236692093846e38, "3.402823669209385e+38" },     /* 2^128 */
	};
	for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
		g_autofree gchar *out = format_number (cases[i].value);
		ck_assert_msg (g_strcmp0 (out, cases[i].expected) == 0,
			       "%.17g: expected %s, got %s", cases[i].value, cases[i].expected,
			       out);
	}
}
END_TEST

START_TEST (test_format_int64)
{
	const struct {
		gint64 value;
		const char *expected;
	} cases[] = {
		{ 0, "0" },
		{ -1, "-1" },
		{ G_GINT64_CONSTANT (9007199254740993), "9007199254740992" },
		{ -G_GINT64_CONSTANT (9007199254740993), "-9007199254740992" },
		{ G_GINT64_CONSTANT (9007199254740992), "9007199254740992" },
		{ G_MAXINT64, "9223372036854776000" },
		{ G_MININT64, "-9223372036854776000" },
		{ G_GINT64_CONSTANT (1000000000000000000), "1000000000000000000" },
	};
	for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
		g_autoptr (JsonNode) node = json_node_new (JSON_NODE_VALUE);
		g_autoptr (GBytes) bytes = NULL;
		g_autoptr (GError) error = NULL;

		json_node_set_int (node, cases[i].value);
		bytes = astra_json_serialize (node, &error);
		ck_assert_msg (bytes != NULL, "%s", error != NULL ? error->message : "?");
		ck_assert_str_eq (g_bytes_get_data (bytes, NULL), cases[i].expected);
	}
}
END_TEST

/* ------------------------------------------------------------------------------------------ */

typedef struct {
	const char *input;
	gssize len; /* -1: strlen */
	const char *error;
} RejectCase;

static const RejectCase reject_cases[] = {
	{ "", -1, "offset 0: expected a value, found end of data" },
	{ "   ", -1, "offset 3: expected a value, found end of data" },
	{ "// comment\n1", -1, "offset 0: expected a value, found '/' (comments are not allowed)" },
	{ "/* comment */ 1", -1, "comments are not allowed" },
	{ "1 // comment", -1,
	  "offset 2: expected end of data, found '/' (comments are not allowed)" },
	{ "[1 /* c */]", -1, "comments are not allowed" },
	{ "'a'", -1, "strings use double quotes" },
	{ "{'a':1}", -1, "strings use double quotes" },
	{ "0x10", -1, "offset 1: expected end of data, found 'x'" },
	{ "[0x10]", -1, "offset 2: expected ',' or ']', found 'x'" },
	{ "01", -1, "offset 0: leading zeros are not allowed" },
	{ "-01", -1, "leading zeros are not allowed" },
	{ "00", -1, "leading zeros are not allowed" },
	{ "+1", -1, "offset 0: expected a value, found '+'" },
	{ ".5", -1, "offset 0: expected a value, found '.'" },
	{ "1.", -1, "offset 2: expected a digit after '.', found end of data" },
	{ "1.e5", -1, "expected a digit after '.'" },
	{ "1e", -1, "expected a digit in the exponent" },
	{ "1e+", -1, "expected a digit in the exponent" },
	{ "-", -1, "expected a digit after '-'" },
	{ "- 1", -1, "expected a digit after '-'" },
	{ "[1,]", -1, "offset 3: expected a value after ',', found ']'" },
	{ "{\"a\":1,}", -1, "offset 7: expected a string key after ',', found '}'" },
	{ "[1 2]", -1, "expected ',' or ']'" },
	{ "{\"a\" 1}", -1, "expected ':'" },
	{ "{\"a\":1 \"b\":2}", -1, "expected ',' or '}'" },
	{ "{1:2}", -1, "expected a string key or '}'" },
	{ "{\"a\":1", -1, "expected ',' or '}', found end of data" },
	{ "[", -1, "expected a value, found end of data" },
	{ "{", -1, "expected a string key or '}', found end of data" },
	{ "1 2", -1, "offset 2: expected end of data" },
	{ "[] x", -1, "offset 3: expected end of data, found 'x'" },
	{ "[1]]", -1, "expected end of data" },
	{ "NaN", -1, "expected a value, found 'N'" },
	{ "Infinity", -1, "expected a value, found 'I'" },
	{ "-Infinity", -1, "expected a digit after '-'" },
	{ "[undefined]", -1, "expected a value" },
	{ "1e400", -1, "offset 0: number out of range" },
	{ "[-1e400]", -1, "offset 1: number out of range" },
	{ "1.8e308", -1, "number out of range" },
	{ "tru", -1, "expected 'true'" },
	{ "nul", -1, "expected 'null'" },
	{ "True", -1, "expected a value" },
	{ "\"\\ud800\"", -1, "offset 1: lone surrogate" },
	{ "\"\\udc00\"", -1, "lone surrogate" },
	{ "\"\\ud800\\u0041\"", -1, "lone surrogate" },
	{ "\"\\ud800\\ud800\"", -1, "lone surrogate" },
	{ "\"\\ud800\\", -1, "lone surrogate" },
	{ "\"\\u0000\"", -1, "offset 1: NUL characters (\\u0000) are not supported" },
	{ "{\"a\\u0000\":1}", -1, "NUL characters (\\u0000) are not supported" },
	{ "\"\xff\"", -1, "offset 1: invalid UTF-8 in string" },
	{ "\"\xc0\x80\"", -1, "invalid UTF-8" },
	{ "\"\xc1\xbf\"", -1, "invalid UTF-8" },
	{ "\"\xe0\x80\x80\"", -1, "invalid UTF-8" },
	{ "\"\xed\xa0\x80\"", -1, "invalid UTF-8" },
	{ "\"\xf0\x80\x80\x80\"", -1, "invalid UTF-8" },
	{ "\"\xf4\x90\x80\x80\"", -1, "invalid UTF-8" },
	{ "\"\xf5\x80\x80\x80\"", -1, "invalid UTF-8" },
	{ "\"\xe2\x82\"", -1, "invalid UTF-8" },
	{ "\"\xe2\x82", -1, "invalid UTF-8" },
	{ "\"\x80\"", -1, "invalid UTF-8" },
	{ "\"a\nb\"", -1, "offset 2: unescaped control character 0x0a in string" },
	{ "\"\t\"", -1, "unescaped control character 0x09" },
	{ "\"\x1f\"", -1, "unescaped control character 0x1f" },
	{ "\"a\0b\"", 5, "offset 2: NUL byte in string" },
	{ "1\0", 2, "offset 1: expected end of data, found byte 0x00" },
	{ "\0", 1, "expected a value, found byte 0x00" },
	{ "\xef\xbb\xbf{}", -1, "offset 0: expected a value, found byte 0xef" },
	{ "\f1", -1, "found byte 0x0c" },
	{ "[1,\v2]", -1, "found byte 0x0b" },
	{ "\"abc", -1, "expected '\"' to end the string started at offset 0, found end of data" },
	{ "\"abc\\", -1, "expected an escape character, found end of data" },
	{ "\"\\x\"", -1, "expected an escape character" },
	{ "\"\\v\"", -1, "offset 2: expected an escape character (one of \"\\/bfnrtu), found 'v'" },
	{ "\"\\U0041\"", -1, "expected an escape character" },
	{ "\"\\u12\"", -1, "expected four hex digits after \\u" },
	{ "\"\\u12", -1, "expected four hex digits after \\u" },
	{ "\"\\u12g4\"", -1, "expected four hex digits after \\u" },
};

START_TEST (test_parse_reject)
{
	const RejectCase *tc = &reject_cases[_i];
	gsize len = tc->len < 0 ? strlen (tc->input) : (gsize)tc->len;
	g_autofree gchar *copy = g_memdup2 (tc->input, len);
	g_autoptr (GError) error = NULL;
	g_autoptr (JsonNode) node = astra_json_parse (copy, len, &error);

	ck_assert_msg (node == NULL, "case %d was accepted", _i);
	ck_assert_msg (g_error_matches (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA),
		       "case %d: wrong error", _i);
	ck_assert_msg (strstr (error->message, tc->error) != NULL, "case %d: expected '%s' in '%s'",
		       _i, tc->error, error->message);
}
END_TEST

static gchar *
nested_arrays (guint depth)
{
	GString *str = g_string_new (NULL);
	for (guint i = 0; i < depth; i++)
		g_string_append_c (str, '[');
	for (guint i = 0; i < depth; i++)
		g_string_append_c (str, ']');
	return g_string_free (str, FALSE);
}

START_TEST (test_parse_depth)
{
	g_autofree gchar *ok = nested_arrays (ASTRA_JSON_MAX_DEPTH);
	g_autofree gchar *deep = nested_arrays (ASTRA_JSON_MAX_DEPTH + 1);
	g_autofree gchar *out = NULL;
	g_autoptr (GError) error = NULL;
	g_autoptr (JsonNode) node = NULL;
	GString *objects = g_string_new (NULL);
	g_autofree gchar *objects_str = NULL;

	out = canonicalize (ok, -1, &error);
	ck_assert_msg (out != NULL, "%s", error != NULL ? error->message : "?");
	ck_assert_str_eq (out, ok);

	node = astra_json_parse (deep, strlen (deep), &error);
	ck_assert_ptr_null (node);
	ck_assert_msg (strstr (error->message, "offset 64: nesting is deeper than 64 levels") !=
			   NULL,
		       "%s", error->message);
	g_clear_error (&error);

	/* objects count the same, and the limit also holds for a huge input */
	for (guint i = 0; i < 100000; i++)
		g_string_append (objects, "{\"a\":");
	objects_str = g_string_free (objects, FALSE);
	node = astra_json_parse (objects_str, strlen (objects_str), &error);
	ck_assert_ptr_null (node);
	ck_assert_msg (strstr (error->message, "offset 320: nesting is deeper") != NULL, "%s",
		       error->message);
}
END_TEST

static const char *truncation_documents[] = {
	"{\"id\":\"evt_01\",\"type\":\"traceroute.completed\",\"data\":{\"hops\":[{\"hop\":1,"
	"\"address\":\"10.0.0.1\",\"rtt_ms\":0.123},{\"hop\":2,\"rtt_ms\":-1.5e-7}],"
	"\"ok\":true,\"none\":null,\"no\":false},\"s\":\"\\u00e9\\ud83d\\ude00\xc3\xa9\\n\\\"\"}",
	"[1,-0.5e+3,\"\xf0\x9f\x98\x80\",[],{},[[]],{\"\":{}},1E-2,true]",
};

START_TEST (test_parse_truncated)
{
	for (guint d = 0; d < G_N_ELEMENTS (truncation_documents); d++) {
		const char *doc = truncation_documents[d];
		gsize len = strlen (doc);
		g_autofree gchar *full = canonicalize (doc, len, NULL);

		ck_assert_msg (full != NULL, "document %u does not parse", d);
		for (gsize i = 0; i < len; i++) {
			g_autofree gchar *copy = g_memdup2 (doc, i);
			g_autoptr (GError) error = NULL;
			g_autoptr (JsonNode) node = astra_json_parse (copy, i, &error);

			ck_assert_msg (node == NULL, "document %u: prefix of %zu bytes accepted", d,
				       i);
			ck_assert (g_error_matches (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA));
			ck_assert (g_str_has_prefix (error->message, "offset "));
		}
	}
}
END_TEST

START_TEST (test_parse_values)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (JsonNode) node = NULL;
	const char *text =
	    "[123,-0,9007199254740992,9007199254740993,1.0,1e2,-9007199254740992,\"x\\/y\",null,"
	    "{\"k\":1,\"j\":2,\"k\":3}]";
	JsonArray *array;
	JsonObject *object;
	JsonObjectIter iter;
	const char *key;
	JsonNode *member;
	GString *keys = g_string_new (NULL);
	g_autofree gchar *keys_str = NULL;

	node = astra_json_parse (text, strlen (text), &error);
	ck_assert_msg (node != NULL, "%s", error != NULL ? error->message : "?");
	array = json_node_get_array (node);
	ck_assert_int_eq (json_array_get_length (array), 10);

	/* integer literals that are exact doubles are gint64, the rest doubles */
	ck_assert_int_eq (json_node_get_value_type (json_array_get_element (array, 0)),
			  G_TYPE_INT64);
	ck_assert_int_eq (json_array_get_int_element (array, 0), 123);
	ck_assert_int_eq (json_node_get_value_type (json_array_get_element (array, 1)),
			  G_TYPE_INT64);
	ck_assert_int_eq (json_array_get_int_element (array, 1), 0);
	ck_assert_int_eq (json_node_get_value_type (json_array_get_element (array, 2)),
			  G_TYPE_INT64);
	ck_assert (json_array_get_int_element (array, 2) == G_GINT64_CONSTANT (9007199254740992));
	ck_assert_int_eq (json_node_get_value_type (json_array_get_element (array, 3)),
			  G_TYPE_DOUBLE);
	ck_assert (json_array_get_double_element (array, 3) == 9007199254740992.0);
	ck_assert_int_eq (json_node_get_value_type (json_array_get_element (array, 4)),
			  G_TYPE_DOUBLE);
	ck_assert (json_array_get_double_element (array, 4) == 1.0);
	ck_assert_int_eq (json_node_get_value_type (json_array_get_element (array, 5)),
			  G_TYPE_DOUBLE);
	ck_assert_int_eq (json_node_get_value_type (json_array_get_element (array, 6)),
			  G_TYPE_INT64);
	ck_assert (json_array_get_int_element (array, 6) == -G_GINT64_CONSTANT (9007199254740992));
	ck_assert_str_eq (json_array_get_string_element (array, 7), "x/y");
	ck_assert (json_array_get_null_element (array, 8));

	/* a duplicate key keeps its first position and the last value */
	object = json_array_get_object_element (array, 9);
	ck_assert_int_eq (json_object_get_size (object), 2);
	ck_assert_int_eq (json_object_get_int_member (object, "k"), 3);
	json_object_iter_init_ordered (&iter, object);
	while (json_object_iter_next_ordered (&iter, &key, &member))
		g_string_append (keys, key);
	keys_str = g_string_free (keys, FALSE);
	ck_assert_str_eq (keys_str, "kj");
}
END_TEST

START_TEST (test_parse_duplicates_linear)
{
	g_autoptr (GString) text = g_string_new ("{");
	g_autoptr (GError) error = NULL;
	g_autoptr (JsonNode) node = NULL;
	JsonObject *object;
	gint64 start;
	guint n = 40000;

	/* json_object_set_member() finds a duplicate key by a linear search: this took seconds */
	for (guint i = 0; i < n; i++)
		g_string_append_printf (text, "\"k%u\":%u,", i, i);
	for (guint i = 0; i < n; i++)
		g_string_append_printf (text, "\"k%u\":[%u],", n - 1, i);
	g_string_append (text, "\"k0\":null}");
	start = g_get_monotonic_time ();
	node = astra_json_parse (text->str, text->len, &error);
	ck_assert_msg (node != NULL, "%s", error != NULL ? error->message : "?");
	ck_assert_msg (g_get_monotonic_time () - start < 2 * G_USEC_PER_SEC,
		       "%u duplicate keys took %.2f s", n,
		       (g_get_monotonic_time () - start) / (double)G_USEC_PER_SEC);
	object = json_node_get_object (node);
	ck_assert_uint_eq (json_object_get_size (object), n);
	ck_assert (json_object_get_null_member (object, "k0"));
	ck_assert_int_eq (json_object_get_int_member (object, "k1"), 1);
	ck_assert_int_eq (
	    json_array_get_int_element (json_object_get_array_member (object, "k39999"), 0), n - 1);
}
END_TEST

/* ------------------------------------------------------------------------------------------ */

static JsonNode *
node_double (double value)
{
	JsonNode *node = json_node_new (JSON_NODE_VALUE);
	json_node_set_double (node, value);
	return node;
}

static void
assert_write_error (JsonNode *node, const char *message)
{
	g_autoptr (GError) error = NULL;
	g_autoptr (GBytes) bytes = astra_json_serialize (node, &error);
	g_autoptr (GString) out = g_string_new ("prefix");

	ck_assert_ptr_null (bytes);
	ck_assert_msg (g_error_matches (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA),
		       "wrong error for %s", message);
	ck_assert_str_eq (error->message, message);
	g_clear_error (&error);

	/* on error the GString is left as it was */
	ck_assert (!astra_json_append (out, node, &error));
	ck_assert_str_eq (error->message, message);
	ck_assert_str_eq (out->str, "prefix");
	ck_assert_int_eq (out->len, 6);
}

START_TEST (test_write_reject)
{
	g_autoptr (JsonNode) root = NULL;
	g_autoptr (JsonNode) nan = node_double (NAN);
	g_autoptr (JsonNode) inf = node_double (-INFINITY);
	g_autoptr (JsonNode) bad_string = json_node_new (JSON_NODE_VALUE);
	g_autoptr (JsonNode) bad_key = NULL;
	g_autoptr (JsonBuilder) builder = json_builder_new ();
	JsonObject *data;
	JsonArray *hops;

	assert_write_error (nan, "(root): number is not finite");
	assert_write_error (inf, "(root): number is not finite");

	/* the path names the bad value, after members that were written fine */
	json_builder_begin_object (builder);
	json_builder_set_member_name (builder, "id");
	json_builder_add_string_value (builder, "evt");
	json_builder_set_member_name (builder, "data");
	json_builder_begin_object (builder);
	json_builder_set_member_name (builder, "hops");
	json_builder_begin_array (builder);
	for (guint i = 0; i < 3; i++) {
		json_builder_begin_object (builder);
		json_builder_set_member_name (builder, "hop");
		json_builder_add_int_value (builder, i + 1);
		json_builder_set_member_name (builder, "rtt_ms");
		json_builder_add_double_value (builder, i == 2 ? INFINITY : 1.5);
		json_builder_end_object (builder);
	}
	json_builder_end_array (builder);
	json_builder_end_object (builder);
	json_builder_end_object (builder);
	root = json_builder_get_root (builder);
	assert_write_error (root, "data.hops[2].rtt_ms: number is not finite");

	/* fix it, then break a string under a key that is not an identifier */
	data = json_object_get_object_member (json_node_get_object (root), "data");
	hops = json_object_get_array_member (data, "hops");
	json_object_set_double_member (json_array_get_object_element (hops, 2), "rtt_ms", 2.25);
	json_node_set_string (bad_string, "ok \xff\xfe");
	json_object_set_member (data, "a \"b\"", json_node_ref (bad_string));
	assert_write_error (root, "data[\"a \\\"b\\\"\"]: string is not valid UTF-8");
	json_object_remove_member (data, "a \"b\"");

	json_object_set_member (data, "bad\xc3", json_node_ref (nan));
	assert_write_error (root, "data[\"bad\xef\xbf\xbd\"]: object key is not valid UTF-8");
	json_object_remove_member (data, "bad\xc3");

	/* a bad array element at the root */
	bad_key = json_node_new (JSON_NODE_ARRAY);
	json_node_take_array (bad_key, json_array_new ());
	json_array_add_int_element (json_node_get_array (bad_key), 1);
	json_array_add_element (json_node_get_array (bad_key), json_node_ref (bad_string));
	assert_write_error (bad_key, "[1]: string is not valid UTF-8");

	/* and the repaired tree is written */
	{
		g_autoptr (GError) error = NULL;
		g_autoptr (GBytes) bytes = astra_json_serialize (root, &error);
		ck_assert_msg (bytes != NULL, "%s", error != NULL ? error->message : "?");
		ck_assert_str_eq (g_bytes_get_data (bytes, NULL),
				  "{\"id\":\"evt\",\"data\":{\"hops\":[{\"hop\":1,\"rtt_ms\":1.5},"
				  "{\"hop\":2,\"rtt_ms\":1.5},{\"hop\":3,\"rtt_ms\":2.25}]}}");
	}
}
END_TEST

START_TEST (test_write_append)
{
	g_autoptr (GString) out = g_string_new ("x=");
	g_autoptr (GError) error = NULL;
	g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
	g_autoptr (GBytes) bytes = NULL;
	JsonObject *object = json_object_new ();

	/* built in code rather than parsed: the same key order rules */
	json_object_set_string_member (object, "z", "\x01\x7f/\xe2\x80\xa8");
	json_object_set_int_member (object, "10", 10);
	json_object_set_null_member (object, "2");
	json_object_set_boolean_member (object, "a", TRUE);
	json_object_set_double_member (object, "0", -0.0);
	json_object_set_double_member (object, "4294967295", 1e21);
	json_object_set_array_member (object, "arr", json_array_new ());
	json_object_set_int_member (object, "z", 1);
	json_node_take_object (node, object);

	ck_assert (astra_json_append (out, node, &error));
	ck_assert_str_eq (out->str,
			  "x={\"0\":0,\"2\":null,\"10\":10,\"z\":1,\"a\":true,\"4294967295\":1e+21,"
			  "\"arr\":[]}");

	bytes = astra_json_serialize (node, &error);
	ck_assert_ptr_nonnull (bytes);
	ck_assert_int_eq (g_bytes_get_size (bytes), out->len - 2);
	ck_assert (memcmp (g_bytes_get_data (bytes, NULL), out->str + 2, out->len - 2) == 0);
}
END_TEST

/* ------------------------------------------------------------------------------------------ */

static const char *key_pool[] = {
	"\"a\"",  "\"b\"",   "\"id\"",  "\"0\"",          "\"1\"",
	"\"2\"",  "\"10\"",  "\"01\"",  "\"4294967294\"", "\"4294967295\"",
	"\"-1\"", "\"1.5\"", "\"\"",    "\"\\u0031\"",    "\"__proto__\"",
	"\" 1\"", "\"1e3\"", "\"007\"", "\"\\u00e9\"",    "\"x y\"",
};

static void
gen_whitespace (GRand *rand, GString *out)
{
	static const char *ws[] = { "", "", "", "", " ", "\t", " \r ", "  " };
	g_string_append (out, ws[g_rand_int_range (rand, 0, G_N_ELEMENTS (ws))]);
}

static gunichar
gen_codepoint (GRand *rand, gboolean astral)
{
	for (;;) {
		gunichar ch = astral ? (gunichar)g_rand_int_range (rand, 0x10000, 0x110000)
				     : (gunichar)g_rand_int_range (rand, 0x80, 0x10000);
		if (ch < 0xd800 || ch > 0xdfff)
			return ch;
	}
}

static void
gen_string (GRand *rand, GString *out)
{
	guint n = g_rand_int_range (rand, 0, 12);

	g_string_append_c (out, '"');
	for (guint i = 0; i < n; i++) {
		switch (g_rand_int_range (rand, 0, 10)) {
		case 0: {
			char c = (char)g_rand_int_range (rand, 0x20, 0x7f);
			if (c == '"' || c == '\\')
				g_string_append_c (out, '\\');
			g_string_append_c (out, c);
			break;
		}
		case 1:
			g_string_append_c (out, '\\');
			g_string_append_c (out, "\"\\/bfnrt"[g_rand_int_range (rand, 0, 8)]);
			break;
		case 2: {
			static const guint specials[] = { 0x7f, 0x22, 0x5c, 0x2f, 0x20 };
			guint ch =
			    g_rand_boolean (rand)
				? (guint)g_rand_int_range (rand, 1, 0x20)
				: specials[g_rand_int_range (rand, 0, G_N_ELEMENTS (specials))];
			g_string_append_printf (out, g_rand_boolean (rand) ? "\\u%04x" : "\\u%04X",
						ch);
			break;
		}
		case 3:
			g_string_append_printf (out, "\\u%04x", gen_codepoint (rand, FALSE));
			break;
		case 4: {
			gunichar ch = gen_codepoint (rand, TRUE) - 0x10000;
			g_string_append_printf (out, "\\u%04x\\u%04X", 0xd800 + (ch >> 10),
						0xdc00 + (ch & 0x3ff));
			break;
		}
		case 5:
			g_string_append_unichar (out, gen_codepoint (rand, FALSE));
			break;
		case 6:
			g_string_append_unichar (out, gen_codepoint (rand, TRUE));
			break;
		case 7: {
			static const char *raw[] = { "\x7f",         "\xe2\x80\xa8", "\xe2\x80\xa9",
						     "\xef\xbb\xbf", "\xef\xbf\xbf", "\xc2\x80" };
			g_string_append (out, raw[g_rand_int_range (rand, 0, G_N_ELEMENTS (raw))]);
			break;
		}
		default:
			g_string_append (out, "abc");
			break;
		}
	}
	g_string_append_c (out, '"');
}

static double
gen_bits (GRand *rand)
{
	for (;;) {
		guint64 bits = ((guint64)g_rand_int (rand) << 32) | g_rand_int (rand);
		double value;
		memcpy (&value, &bits, sizeof (value));
		if (isfinite (value))
			return value;
	}
}

/* a JSON number text; all kinds of doubles printed with 17 digits, or a random decimal literal */
static void
gen_number (GRand *rand, GString *out)
{
	char buf[G_ASCII_DTOSTR_BUF_SIZE];
	double value = 0;

	switch (g_rand_int_range (rand, 0, 10)) {
	case 0:
	case 1:
		value = gen_bits (rand);
		break;
	case 2:
	case 3: {
		/* a random decimal literal, possibly with more digits than a double holds */
		gsize start = out->len;
		guint n_int = g_rand_int_range (rand, 1, 22);
		if (g_rand_boolean (rand))
			g_string_append_c (out, '-');
		if (g_rand_int_range (rand, 0, 4) == 0) {
			g_string_append_c (out, '0');
		} else {
			g_string_append_c (out, (char)('1' + g_rand_int_range (rand, 0, 9)));
			for (guint i = 1; i < n_int; i++)
				g_string_append_c (out,
						   (char)('0' + g_rand_int_range (rand, 0, 10)));
		}
		if (g_rand_boolean (rand)) {
			guint n_frac = g_rand_int_range (rand, 1, 22);
			g_string_append_c (out, '.');
			for (guint i = 0; i < n_frac; i++)
				g_string_append_c (out,
						   (char)('0' + g_rand_int_range (rand, 0, 10)));
		}
		if (g_rand_boolean (rand)) {
			g_string_append_c (out, "eE"[g_rand_int_range (rand, 0, 2)]);
			if (g_rand_boolean (rand))
				g_string_append_c (out, "+-"[g_rand_int_range (rand, 0, 2)]);
			g_string_append_printf (out, "%d", g_rand_int_range (rand, 0, 330));
		}
		/* overflow is an error for us and Infinity for JavaScript: not a number test */
		if (!isfinite (g_ascii_strtod (out->str + start, NULL))) {
			g_string_truncate (out, start);
			g_string_append (out, "1e308");
		}
		return;
	}
	case 4: {
		/* powers of two and their neighbours */
		double p = ldexp (1.0, g_rand_int_range (rand, -1074, 1024));
		gint side = g_rand_int_range (rand, -1, 2);
		value = side < 0 ? nextafter (p, 0) : side > 0 ? nextafter (p, INFINITY) : p;
		if (!isfinite (value))
			value = p;
		break;
	}
	case 5: {
		/* subnormals */
		guint64 bits = (((guint64)g_rand_int (rand) << 32) | g_rand_int (rand)) &
			       G_GUINT64_CONSTANT (0x000fffffffffffff);
		memcpy (&value, &bits, sizeof (value));
		break;
	}
	case 6: {
		/* integers around 2^53 and around 1e21 */
		double base = g_rand_boolean (rand) ? 9007199254740992.0 : 1e21;
		gint steps = g_rand_int_range (rand, -20, 21);
		value = base;
		for (gint i = 0; i < ABS (steps); i++)
			value = nextafter (value, steps < 0 ? 0 : INFINITY);
		if (g_rand_int_range (rand, 0, 4) == 0)
			value = base + g_rand_int_range (rand, -1000, 1000);
		break;
	}
	case 7: {
		/* powers of ten and their neighbours, and around the exponent-form boundaries */
		gint e = g_rand_int_range (rand, -325, 309);
		char pow[32];
		g_snprintf (pow, sizeof (pow), "1e%d", e);
		value = g_ascii_strtod (pow, NULL);
		if (g_rand_boolean (rand))
			value = nextafter (value, g_rand_boolean (rand) ? 0 : INFINITY);
		if (!isfinite (value))
			value = 1e308;
		break;
	}
	default: {
		/* short decimals, as measurements usually are */
		gint64 m = g_rand_int_range (rand, -10000000, 10000000);
		value = (double)m / pow (10.0, g_rand_int_range (rand, 0, 12));
		break;
	}
	}
	if (g_rand_int_range (rand, 0, 8) == 0)
		value = -value;
	g_ascii_formatd (buf, sizeof (buf), "%.17g", value);
	g_string_append (out, buf);
}

static void
gen_value (GRand *rand, guint depth, GString *out)
{
	guint kind = g_rand_int_range (rand, 0, depth < 5 ? 10 : 6);

	gen_whitespace (rand, out);
	switch (kind) {
	case 0:
	case 1:
		gen_number (rand, out);
		break;
	case 2:
	case 3:
		gen_string (rand, out);
		break;
	case 4:
		g_string_append (out, g_rand_boolean (rand) ? "true" : "false");
		break;
	case 5:
		g_string_append (out, "null");
		break;
	case 6:
	case 7: {
		guint n = g_rand_int_range (rand, 0, 6);
		g_string_append_c (out, '[');
		for (guint i = 0; i < n; i++) {
			if (i > 0)
				g_string_append_c (out, ',');
			gen_value (rand, depth + 1, out);
		}
		gen_whitespace (rand, out);
		g_string_append_c (out, ']');
		break;
	}
	default: {
		guint n = g_rand_int_range (rand, 0, 8);
		g_string_append_c (out, '{');
		for (guint i = 0; i < n; i++) {
			if (i > 0)
				g_string_append_c (out, ',');
			gen_whitespace (rand, out);
			if (g_rand_int_range (rand, 0, 4) == 0)
				gen_string (rand, out);
			else
				g_string_append (
				    out,
				    key_pool[g_rand_int_range (rand, 0, G_N_ELEMENTS (key_pool))]);
			gen_whitespace (rand, out);
			g_string_append_c (out, ':');
			gen_value (rand, depth + 1, out);
		}
		gen_whitespace (rand, out);
		g_string_append_c (out, '}');
		break;
	}
	}
	gen_whitespace (rand, out);
}

static gchar *
gen_document (GRand *rand)
{
	GString *out = g_string_new (NULL);
	/* mostly containers at the root, like events */
	do {
		g_string_truncate (out, 0);
		gen_value (rand, 0, out);
	} while (g_rand_int_range (rand, 0, 4) != 0 &&
		 out->str[strspn (out->str, " \t\r")] != '{' &&
		 out->str[strspn (out->str, " \t\r")] != '[');
	return g_string_free (out, FALSE);
}

static void
mutate (GRand *rand, GString *doc)
{
	static const guchar interesting[] = {
		'{',  '}',  '[',  ']',  ',',  ':',  '"',  '\\', '0',  '1',  '9',
		'-',  '.',  'e',  'E',  '+',  'u',  'n',  't',  'f',  ' ',  '/',
		'\'', 'd',  'D',  'v',  'x',  'a',  'U',  0x00, 0x01, 0x1f, 0x7f,
		0x80, 0xbf, 0xc0, 0xc2, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff,
	};
	guint n = g_rand_int_range (rand, 1, 5);

	for (guint i = 0; i < n; i++) {
		gsize pos = doc->len > 0 ? (gsize)g_rand_int_range (rand, 0, doc->len) : 0;
		guchar c = g_rand_boolean (rand)
			       ? interesting[g_rand_int_range (rand, 0, G_N_ELEMENTS (interesting))]
			       : (guchar)g_rand_int_range (rand, 0, 256);
		switch (g_rand_int_range (rand, 0, 6)) {
		case 0:
			if (doc->len > 0)
				doc->str[pos] = (char)c;
			break;
		case 1:
			g_string_insert_len (doc, pos, (const char *)&c, 1);
			break;
		case 2:
			if (doc->len > 0)
				g_string_erase (doc, pos, 1);
			break;
		case 3: {
			/* duplicate a slice */
			gsize len = MIN (doc->len - pos, (gsize)g_rand_int_range (rand, 1, 16));
			g_autofree gchar *slice = g_strndup (doc->str + pos, len);
			g_string_insert_len (doc, g_rand_int_range (rand, 0, doc->len + 1), slice,
					     len);
			break;
		}
		case 4:
			g_string_truncate (doc, pos);
			break;
		default:
			/* a unicode escape, possibly half of a pair or \u0000 */
			g_string_insert (doc, pos,
					 g_rand_boolean (rand)   ? "\\ud83d"
					 : g_rand_boolean (rand) ? "\\u0000"
								 : "\\ude00");
			break;
		}
	}
}

/* the mutated document must either be rejected or round-trip to a fixpoint */
static gboolean
check_mutation (const char *data, gsize len, GString *failures, gboolean *accepted)
{
	g_autoptr (GError) error = NULL;
	g_autofree gchar *once = canonicalize (data, len, &error);
	g_autofree gchar *twice = NULL;

	*accepted = once != NULL;
	if (once == NULL) {
		if (!g_error_matches (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA) ||
		    !g_str_has_prefix (error->message, "offset ")) {
			g_autofree gchar *input = excerpt (data);
			g_string_append_printf (failures, "%s: bad error '%s'\n", input,
						error->message);
			return FALSE;
		}
		return TRUE;
	}
	twice = canonicalize (once, -1, &error);
	if (g_strcmp0 (once, twice) != 0) {
		g_autofree gchar *input = excerpt (data);
		g_autofree gchar *first = excerpt (once);
		g_autofree gchar *second = excerpt (twice != NULL ? twice : error->message);
		g_string_append_printf (failures, "%s: not a fixpoint: %s -> %s\n", input, first,
					second);
		return FALSE;
	}
	return TRUE;
}

START_TEST (test_mutations)
{
	g_autoptr (GRand) rand = g_rand_new_with_seed (20240521);
	g_autoptr (GPtrArray) seeds = g_ptr_array_new_with_free_func (g_free);
	g_autoptr (GString) failures = g_string_new (NULL);
	guint n_failures = 0;
	guint n_accepted = 0;

	for (guint i = 0; i < G_N_ELEMENTS (truncation_documents); i++)
		g_ptr_array_add (seeds, g_strdup (truncation_documents[i]));
	for (guint i = 0; i < 200; i++)
		g_ptr_array_add (seeds, gen_document (rand));

	for (guint i = 0; i < N_MUTATIONS && n_failures < MAX_REPORTED_ERRORS; i++) {
		const char *seed =
		    g_ptr_array_index (seeds, g_rand_int_range (rand, 0, seeds->len));
		g_autoptr (GString) doc = g_string_new (seed);
		gboolean accepted = FALSE;

		mutate (rand, doc);
		if (!check_mutation (doc->str, doc->len, failures, &accepted))
			n_failures++;
		if (accepted)
			n_accepted++;
	}
	ck_assert_msg (n_failures == 0, "%u failures:\n%s", n_failures, failures_text (failures));
	/* the mutations must exercise both outcomes */
	ck_assert_uint_gt (n_accepted, N_MUTATIONS / 20);
	ck_assert_uint_lt (n_accepted, N_MUTATIONS - N_MUTATIONS / 20);
}
END_TEST

/* ------------------------------------------------------------------------------------------ */

typedef struct {
	const char *data; /* NUL-terminated, but may also contain NUL bytes */
	gsize len;
} Line;

/* splits buf in place */
static GArray *
split_lines (gchar *buf, gsize len)
{
	GArray *lines = g_array_new (FALSE, FALSE, sizeof (Line));
	gchar *p = buf;
	gchar *end = buf + len;

	while (p < end) {
		gchar *nl = memchr (p, '\n', end - p);
		Line line = { p, nl != NULL ? (gsize)(nl - p) : (gsize)(end - p) };
		g_array_append_val (lines, line);
		if (nl == NULL)
			break;
		*nl = '\0';
		p = nl + 1;
	}
	return lines;
}

typedef enum {
	LINE_NUMBER,
	LINE_DOCUMENT,
	LINE_MUTATION,
} LineKind;

/* what JavaScript accepts and we do not, on purpose */
static gboolean
is_deliberate_rejection (const GError *error)
{
	return strstr (error->message, "NUL characters") != NULL ||
	       strstr (error->message, "lone surrogate") != NULL ||
	       strstr (error->message, "nesting is deeper") != NULL ||
	       strstr (error->message, "out of range") != NULL;
}

START_TEST (test_node_differential)
{
	const char *node_path = g_getenv ("ASTRA_NODE");
	g_autoptr (GRand) rand = g_rand_new_with_seed (4242);
	g_autoptr (GString) input = g_string_new (NULL);
	g_autoptr (GArray) kinds = g_array_new (FALSE, FALSE, sizeof (LineKind));
	g_autoptr (GString) failures = g_string_new (NULL);
	g_autoptr (GError) error = NULL;
	g_autofree gchar *tmp_path = NULL;
	g_autofree gchar *script = NULL;
	g_autofree gchar *stdout_buf = NULL;
	g_autofree gchar *stderr_buf = NULL;
	g_autoptr (GArray) lines = NULL;
	g_autoptr (GArray) expected = NULL;
	const char *argv[4];
	gint fd;
	gint status = 0;
	guint n_failures = 0;
	guint n_mutations = 0;
	guint n_checked = 0;

	/* the test command installs nodejs: a missing node is a failure, not a skip */
	ck_assert_msg (node_path != NULL && node_path[0] != '\0',
		       "ASTRA_NODE is not set: node is needed for the canonical JSON reference");
	script = astra_check_source_path ("tests", "js", "canonical.js", NULL);

	for (guint i = 0; i < N_DIFF_NUMBERS; i++) {
		LineKind kind = LINE_NUMBER;
		gen_number (rand, input);
		g_string_append_c (input, '\n');
		g_array_append_val (kinds, kind);
	}
	for (guint i = 0; i < N_DIFF_DOCUMENTS; i++) {
		LineKind kind = LINE_DOCUMENT;
		g_autofree gchar *doc = gen_document (rand);
		g_string_append (input, doc);
		g_string_append_c (input, '\n');
		g_array_append_val (kinds, kind);
	}
	/* mutated documents: JavaScript must accept exactly what we accept, but for deliberate
	 * rejections; only valid UTF-8 as node would replace bad bytes when reading the file */
	while (n_mutations < N_DIFF_MUTATIONS) {
		LineKind kind = LINE_MUTATION;
		g_autofree gchar *seed = gen_document (rand);
		g_autoptr (GString) doc = g_string_new (seed);
		mutate (rand, doc);
		if (memchr (doc->str, '\n', doc->len) != NULL ||
		    !g_utf8_validate_len (doc->str, doc->len, NULL))
			continue;
		g_string_append_len (input, doc->str, doc->len);
		g_string_append_c (input, '\n');
		g_array_append_val (kinds, kind);
		n_mutations++;
	}

	fd = g_file_open_tmp ("astra-check-json-XXXXXX.txt", &tmp_path, &error);
	ck_assert_msg (fd >= 0, "%s", error != NULL ? error->message : "?");
	close (fd);
	ck_assert_msg (g_file_set_contents (tmp_path, input->str, input->len, &error), "%s",
		       error->message);

	argv[0] = node_path;
	argv[1] = script;
	argv[2] = tmp_path;
	argv[3] = NULL;
	ck_assert_msg (g_spawn_sync (NULL, (gchar **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
				     &stdout_buf, &stderr_buf, &status, &error),
		       "cannot run %s: %s", node_path, error != NULL ? error->message : "?");
	g_unlink (tmp_path);
	ck_assert_msg (g_spawn_check_wait_status (status, &error), "%s %s failed: %s\n%s",
		       node_path, script, error->message, stderr_buf);

	/* not g_strsplit(): ASan's strstr() is quadratic; and lines may contain NUL bytes */
	lines = split_lines (input->str, input->len);
	expected = split_lines (stdout_buf, strlen (stdout_buf));
	ck_assert_uint_eq (lines->len, kinds->len);
	ck_assert_msg (expected->len == kinds->len, "node printed %u lines for %u", expected->len,
		       kinds->len);

	for (guint i = 0; i < kinds->len && n_failures < MAX_REPORTED_ERRORS; i++) {
		LineKind kind = g_array_index (kinds, LineKind, i);
		const Line *line_ref = &g_array_index (lines, Line, i);
		const char *line = line_ref->data;
		const char *want = g_array_index (expected, Line, i).data;
		g_autoptr (GError) error_local = NULL;
		g_autofree gchar *got = canonicalize (line, line_ref->len, &error_local);
		g_autofree gchar *escaped = NULL;
		g_autofree gchar *want_excerpt = NULL;
		g_autofree gchar *got_excerpt = NULL;

		if (got == NULL || strcmp (got, want) != 0) {
			escaped = excerpt (line);
			want_excerpt = excerpt (want);
			got_excerpt = excerpt (got != NULL ? got : error_local->message);
		}
		if (kind == LINE_NUMBER) {
			/* the public formatter on the double itself, too */
			g_autofree gchar *formatted = format_number (g_ascii_strtod (line, NULL));
			if (g_strcmp0 (formatted, want) != 0) {
				g_string_append_printf (
				    failures,
				    "line %u: number %s: node %s, astra_json_format_number %s\n",
				    i + 1, line, want, formatted);
				n_failures++;
				continue;
			}
		}
		if (want[0] == '!') {
			if (got != NULL) {
				g_string_append_printf (
				    failures, "line %u: %s: node rejects (%s), we accept: %s\n",
				    i + 1, escaped, want + 1, got_excerpt);
				n_failures++;
			}
		} else if (got == NULL) {
			if (kind != LINE_MUTATION || !is_deliberate_rejection (error_local)) {
				g_string_append_printf (
				    failures, "line %u: %s: node accepts (%s), we reject: %s\n",
				    i + 1, escaped, want_excerpt, got_excerpt);
				n_failures++;
			}
		} else if (strcmp (got, want) != 0) {
			g_autofree gchar *want_diff = excerpt_diff (want, got);
			g_autofree gchar *got_diff = excerpt_diff (got, want);
			g_string_append_printf (failures, "line %u: %s:\n  node  %s\n  astra %s\n",
						i + 1, escaped, want_diff, got_diff);
			n_failures++;
		}
		n_checked++;
	}
	ck_assert_msg (n_failures == 0, "%u mismatches with node (first ones shown):\n%s",
		       n_failures, failures_text (failures));
	ck_assert_uint_eq (n_checked, kinds->len);
}
END_TEST

/* ------------------------------------------------------------------------------------------ */

static Suite *
json_suite (void)
{
	Suite *s = suite_create ("json");
	TCase *tc;

	tc = tcase_create ("format");
	tcase_add_loop_test (tc, test_canonical_table, 0, G_N_ELEMENTS (canonical_cases));
	tcase_add_test (tc, test_format_number);
	tcase_add_test (tc, test_format_int64);
	suite_add_tcase (s, tc);

	tc = tcase_create ("parse");
	tcase_add_loop_test (tc, test_parse_reject, 0, G_N_ELEMENTS (reject_cases));
	tcase_add_test (tc, test_parse_depth);
	tcase_add_test (tc, test_parse_truncated);
	tcase_add_test (tc, test_parse_values);
	tcase_add_test (tc, test_parse_duplicates_linear);
	suite_add_tcase (s, tc);

	tc = tcase_create ("write");
	tcase_add_test (tc, test_write_reject);
	tcase_add_test (tc, test_write_append);
	suite_add_tcase (s, tc);

	tc = tcase_create ("robustness");
	tcase_add_test (tc, test_mutations);
	suite_add_tcase (s, tc);

	tc = tcase_create ("node");
	tcase_add_test (tc, test_node_differential);
	suite_add_tcase (s, tc);

	return s;
}

int
main (void)
{
	return astra_check_run_suite (json_suite ());
}
