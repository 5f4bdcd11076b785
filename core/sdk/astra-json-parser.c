/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "config.h"

#include <math.h>
#include <string.h>

#include "astra.h"

/* 2^53: integer literals up to this are exact doubles, and stored as gint64 */
#define ASTRA_JSON_SAFE_INTEGER 9007199254740992.0

typedef struct {
	const guchar *data;
	gsize length;
	gsize pos;
	guint depth;
	GString *scratch; /* the decoded string being read */
	GError **error;
} AstraJsonParser;

static JsonNode *astra_json_parser_value (AstraJsonParser *self);

static gboolean astra_json_parser_fail (AstraJsonParser *self, gsize offset, const char *format,
					...) G_GNUC_PRINTF (3, 4);

static gboolean
astra_json_parser_fail (AstraJsonParser *self, gsize offset, const char *format, ...)
{
	va_list args;
	g_autofree gchar *what = NULL;

	va_start (args, format);
	what = g_strdup_vprintf (format, args);
	va_end (args);
	g_set_error (self->error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA,
		     "offset %" G_GSIZE_FORMAT ": %s", offset, what);
	return FALSE;
}

/* "expected X, found Y" at the current position */
static gboolean
astra_json_parser_expected (AstraJsonParser *self, const char *what)
{
	guchar c;

	if (self->pos >= self->length)
		return astra_json_parser_fail (self, self->pos, "expected %s, found end of data",
					       what);
	c = self->data[self->pos];
	if (c == '/')
		return astra_json_parser_fail (
		    self, self->pos, "expected %s, found '/' (comments are not allowed)", what);
	if (c == '\'')
		return astra_json_parser_fail (
		    self, self->pos, "expected %s, found \"'\" (strings use double quotes)", what);
	if (c > 0x20 && c < 0x7f)
		return astra_json_parser_fail (self, self->pos, "expected %s, found '%c'", what, c);
	return astra_json_parser_fail (self, self->pos, "expected %s, found byte 0x%02x", what, c);
}

static void
astra_json_parser_skip_whitespace (AstraJsonParser *self)
{
	while (self->pos < self->length) {
		guchar c = self->data[self->pos];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			return;
		self->pos++;
	}
}

static gboolean
astra_json_parser_is_digit (AstraJsonParser *self)
{
	return self->pos < self->length && g_ascii_isdigit (self->data[self->pos]);
}

static gboolean
astra_json_parser_depth_push (AstraJsonParser *self)
{
	if (self->depth >= ASTRA_JSON_MAX_DEPTH)
		return astra_json_parser_fail (self, self->pos, "nesting is deeper than %u levels",
					       (guint)ASTRA_JSON_MAX_DEPTH);
	self->depth++;
	return TRUE;
}

static gint
astra_json_parser_hex4 (AstraJsonParser *self, gsize offset)
{
	gint value = 0;

	if (self->length - offset < 4)
		return -1;
	for (gsize i = offset; i < offset + 4; i++) {
		gint digit = g_ascii_xdigit_value (self->data[i]);
		if (digit < 0)
			return -1;
		value = value * 16 + digit;
	}
	return value;
}

/* pos is just after the backslash of a \u escape */
static gboolean
astra_json_parser_unicode_escape (AstraJsonParser *self)
{
	gsize start = self->pos - 1;
	gint unit = astra_json_parser_hex4 (self, self->pos + 1);
	gunichar ch;
	char utf8[6];

	if (unit < 0)
		return astra_json_parser_fail (self, start, "expected four hex digits after \\u");
	self->pos += 5;
	if (unit == 0)
		return astra_json_parser_fail (self, start,
					       "NUL characters (\\u0000) are not supported");
	if (unit >= 0xdc00 && unit <= 0xdfff)
		return astra_json_parser_fail (
		    self, start, "lone surrogate \\u%04x (a low surrogate without a high one)",
		    (guint)unit);
	if (unit >= 0xd800 && unit <= 0xdbff) {
		gint low = -1;
		if (self->length - self->pos >= 2 && self->data[self->pos] == '\\' &&
		    self->data[self->pos + 1] == 'u')
			low = astra_json_parser_hex4 (self, self->pos + 2);
		if (low < 0xdc00 || low > 0xdfff)
			return astra_json_parser_fail (
			    self, start,
			    "lone surrogate \\u%04x (a high surrogate not followed by a low one)",
			    (guint)unit);
		self->pos += 6;
		ch = 0x10000 + (((gunichar)unit - 0xd800) << 10) + ((gunichar)low - 0xdc00);
	} else {
		ch = (gunichar)unit;
	}
	g_string_append_len (self->scratch, utf8, g_unichar_to_utf8 (ch, utf8));
	return TRUE;
}

/* the length of the well-formed UTF-8 sequence at pos (RFC 3629), or 0 */
static gsize
astra_json_parser_utf8_sequence (AstraJsonParser *self)
{
	const guchar *p = self->data + self->pos;
	gsize avail = self->length - self->pos;
	guchar lo = 0x80;
	guchar hi = 0xbf;
	gsize len;

	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		if (p[0] == 0xe0)
			lo = 0xa0; /* overlong */
		else if (p[0] == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		if (p[0] == 0xf0)
			lo = 0x90; /* overlong */
		else if (p[0] == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
	} else {
		return 0;
	}
	if (avail < len)
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (gsize i = 2; i < len; i++) {
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	}
	return len;
}

/* decodes the string at pos into scratch */
static gboolean
astra_json_parser_string (AstraJsonParser *self)
{
	gsize start = self->pos;

	g_string_truncate (self->scratch, 0);
	self->pos++;
	for (;;) {
		gsize run = self->pos;
		guchar c;

		while (self->pos < self->length) {
			c = self->data[self->pos];
			if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\')
				break;
			self->pos++;
		}
		if (self->pos > run)
			g_string_append_len (self->scratch, (const char *)self->data + run,
					     self->pos - run);
		if (self->pos >= self->length)
			return astra_json_parser_fail (
			    self, self->pos,
			    "expected '\"' to end the string started at offset %" G_GSIZE_FORMAT
			    ", found end of data",
			    start);
		c = self->data[self->pos];
		if (c == '"') {
			self->pos++;
			return TRUE;
		}
		if (c == '\\') {
			char unescaped;
			if (self->pos + 1 >= self->length)
				return astra_json_parser_fail (
				    self, self->pos + 1,
				    "expected an escape character, found end of data");
			self->pos++;
			switch (self->data[self->pos]) {
			case '"':
				unescaped = '"';
				break;
			case '\\':
				unescaped = '\\';
				break;
			case '/':
				unescaped = '/';
				break;
			case 'b':
				unescaped = '\b';
				break;
			case 'f':
				unescaped = '\f';
				break;
			case 'n':
				unescaped = '\n';
				break;
			case 'r':
				unescaped = '\r';
				break;
			case 't':
				unescaped = '\t';
				break;
			case 'u':
				if (!astra_json_parser_unicode_escape (self))
					return FALSE;
				continue;
			default:
				return astra_json_parser_expected (
				    self, "an escape character (one of \"\\/bfnrtu)");
			}
			g_string_append_c (self->scratch, unescaped);
			self->pos++;
			continue;
		}
		if (c < 0x20) {
			if (c == 0)
				return astra_json_parser_fail (
				    self, self->pos,
				    "NUL byte in string (NUL characters are not supported)");
			return astra_json_parser_fail (
			    self, self->pos, "unescaped control character 0x%02x in string", c);
		}
		{
			gsize len = astra_json_parser_utf8_sequence (self);
			if (len == 0)
				return astra_json_parser_fail (self, self->pos,
							       "invalid UTF-8 in string");
			g_string_append_len (self->scratch, (const char *)self->data + self->pos,
					     len);
			self->pos += len;
		}
	}
}

/* the digits of a gint64 are the literal's digits: then the literal is an exact double */
static gboolean
astra_json_parser_integer_is_exact (const char *lexeme, gsize len, double value)
{
	char buf[24];

	if (lexeme[0] == '-') {
		lexeme++;
		len--;
	}
	if (len <= 15)
		return TRUE;
	g_snprintf (buf, sizeof (buf), "%" G_GUINT64_FORMAT, (guint64)fabs (value));
	return strlen (buf) == len && memcmp (buf, lexeme, len) == 0;
}

static JsonNode *
astra_json_parser_number (AstraJsonParser *self)
{
	gsize start = self->pos;
	gboolean integer = TRUE;
	char stack_buf[64];
	g_autofree gchar *heap_buf = NULL;
	char *lexeme;
	gsize len;
	gchar *end = NULL;
	double value;
	JsonNode *node;

	if (self->data[self->pos] == '-')
		self->pos++;
	if (!astra_json_parser_is_digit (self)) {
		astra_json_parser_expected (self, "a digit after '-'");
		return NULL;
	}
	if (self->data[self->pos] == '0') {
		self->pos++;
		if (astra_json_parser_is_digit (self)) {
			astra_json_parser_fail (self, start,
						"leading zeros are not allowed in numbers");
			return NULL;
		}
	} else {
		while (astra_json_parser_is_digit (self))
			self->pos++;
	}
	if (self->pos < self->length && self->data[self->pos] == '.') {
		integer = FALSE;
		self->pos++;
		if (!astra_json_parser_is_digit (self)) {
			astra_json_parser_expected (self, "a digit after '.'");
			return NULL;
		}
		while (astra_json_parser_is_digit (self))
			self->pos++;
	}
	if (self->pos < self->length &&
	    (self->data[self->pos] == 'e' || self->data[self->pos] == 'E')) {
		integer = FALSE;
		self->pos++;
		if (self->pos < self->length &&
		    (self->data[self->pos] == '+' || self->data[self->pos] == '-'))
			self->pos++;
		if (!astra_json_parser_is_digit (self)) {
			astra_json_parser_expected (self, "a digit in the exponent");
			return NULL;
		}
		while (astra_json_parser_is_digit (self))
			self->pos++;
	}

	/* the data is not NUL-terminated: convert a copy of exactly the lexeme */
	len = self->pos - start;
	if (len < sizeof (stack_buf)) {
		lexeme = stack_buf;
		memcpy (lexeme, self->data + start, len);
		lexeme[len] = '\0';
	} else {
		heap_buf = g_strndup ((const char *)self->data + start, len);
		lexeme = heap_buf;
	}
	value = g_ascii_strtod (lexeme, &end);
	if (end != lexeme + len) {
		astra_json_parser_fail (self, start, "invalid number");
		return NULL;
	}
	if (!isfinite (value)) {
		astra_json_parser_fail (self, start, "number out of range");
		return NULL;
	}

	node = json_node_new (JSON_NODE_VALUE);
	if (integer && fabs (value) <= ASTRA_JSON_SAFE_INTEGER &&
	    astra_json_parser_integer_is_exact (lexeme, len, value))
		json_node_set_int (node, (gint64)value);
	else
		json_node_set_double (node, value);
	return node;
}

static JsonNode *
astra_json_parser_literal (AstraJsonParser *self, const char *word)
{
	gsize len = strlen (word);
	JsonNode *node;

	if (self->length - self->pos < len || memcmp (self->data + self->pos, word, len) != 0) {
		astra_json_parser_fail (self, self->pos, "expected '%s'", word);
		return NULL;
	}
	self->pos += len;
	if (word[0] == 'n')
		return json_node_new (JSON_NODE_NULL);
	node = json_node_new (JSON_NODE_VALUE);
	json_node_set_boolean (node, word[0] == 't');
	return node;
}

static JsonNode *
astra_json_parser_array (AstraJsonParser *self)
{
	g_autoptr (JsonArray) array = json_array_new ();
	JsonNode *node;

	if (!astra_json_parser_depth_push (self))
		return NULL;
	self->pos++;
	astra_json_parser_skip_whitespace (self);
	if (self->pos < self->length && self->data[self->pos] == ']') {
		self->pos++;
	} else {
		for (;;) {
			JsonNode *element;

			astra_json_parser_skip_whitespace (self);
			if (self->pos < self->length && self->data[self->pos] == ']') {
				astra_json_parser_expected (self, "a value after ','");
				return NULL;
			}
			element = astra_json_parser_value (self);
			if (element == NULL)
				return NULL;
			json_array_add_element (array, element);
			astra_json_parser_skip_whitespace (self);
			if (self->pos < self->length && self->data[self->pos] == ',') {
				self->pos++;
				continue;
			}
			if (self->pos < self->length && self->data[self->pos] == ']') {
				self->pos++;
				break;
			}
			astra_json_parser_expected (self, "',' or ']'");
			return NULL;
		}
	}
	self->depth--;
	node = json_node_new (JSON_NODE_ARRAY);
	json_node_take_array (node, g_steal_pointer (&array));
	return node;
}

/* an object with duplicate keys, rebuilt in the first keys' order with the last values */
static JsonObject *
astra_json_parser_rebuild (JsonObject *object, GHashTable *latest)
{
	JsonObject *rebuilt = json_object_new ();
	JsonObjectIter iter;
	const char *key;
	JsonNode *member;

	json_object_iter_init_ordered (&iter, object);
	while (json_object_iter_next_ordered (&iter, &key, &member)) {
		JsonNode *last = g_hash_table_lookup (latest, key);
		json_object_set_member (rebuilt, key, json_node_ref (last != NULL ? last : member));
	}
	return rebuilt;
}

static JsonNode *
astra_json_parser_object (AstraJsonParser *self)
{
	g_autoptr (JsonObject) object = json_object_new ();
	g_autoptr (GHashTable) latest = NULL; /* key -> last value of duplicate keys */
	JsonNode *node;

	if (!astra_json_parser_depth_push (self))
		return NULL;
	self->pos++;
	astra_json_parser_skip_whitespace (self);
	if (self->pos < self->length && self->data[self->pos] == '}') {
		self->pos++;
	} else {
		gboolean first = TRUE;
		for (;;) {
			char key_stack[64];
			g_autofree gchar *key_heap = NULL;
			const char *key;
			JsonNode *member;

			astra_json_parser_skip_whitespace (self);
			if (self->pos >= self->length || self->data[self->pos] != '"') {
				astra_json_parser_expected (self, first ? "a string key or '}'"
									: "a string key after ','");
				return NULL;
			}
			first = FALSE;
			if (!astra_json_parser_string (self))
				return NULL;
			/* the value reuses scratch */
			if (self->scratch->len < sizeof (key_stack)) {
				memcpy (key_stack, self->scratch->str, self->scratch->len + 1);
				key = key_stack;
			} else {
				key_heap = g_strndup (self->scratch->str, self->scratch->len);
				key = key_heap;
			}
			astra_json_parser_skip_whitespace (self);
			if (self->pos >= self->length || self->data[self->pos] != ':') {
				astra_json_parser_expected (self, "':'");
				return NULL;
			}
			self->pos++;
			member = astra_json_parser_value (self);
			if (member == NULL)
				return NULL;
			/* a duplicate keeps its first position and takes the last value; not with
			 * json_object_set_member(), which finds the position by a linear search:
			 * many duplicates would take quadratic time */
			if (json_object_has_member (object, key)) {
				if (latest == NULL)
					latest =
					    g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
								   (GDestroyNotify)json_node_unref);
				g_hash_table_replace (latest, g_strdup (key), member);
			} else {
				json_object_set_member (object, key, member);
			}
			astra_json_parser_skip_whitespace (self);
			if (self->pos < self->length && self->data[self->pos] == ',') {
				self->pos++;
				continue;
			}
			if (self->pos < self->length && self->data[self->pos] == '}') {
				self->pos++;
				break;
			}
			astra_json_parser_expected (self, "',' or '}'");
			return NULL;
		}
	}
	self->depth--;
	if (latest != NULL) {
		JsonObject *rebuilt = astra_json_parser_rebuild (object, latest);
		json_object_unref (object);
		object = rebuilt;
	}
	node = json_node_new (JSON_NODE_OBJECT);
	json_node_take_object (node, g_steal_pointer (&object));
	return node;
}

static JsonNode *
astra_json_parser_value (AstraJsonParser *self)
{
	astra_json_parser_skip_whitespace (self);
	if (self->pos >= self->length) {
		astra_json_parser_expected (self, "a value");
		return NULL;
	}
	switch (self->data[self->pos]) {
	case '{':
		return astra_json_parser_object (self);
	case '[':
		return astra_json_parser_array (self);
	case '"': {
		JsonNode *node;
		if (!astra_json_parser_string (self))
			return NULL;
		node = json_node_new (JSON_NODE_VALUE);
		json_node_set_string (node, self->scratch->str);
		return node;
	}
	case 't':
		return astra_json_parser_literal (self, "true");
	case 'f':
		return astra_json_parser_literal (self, "false");
	case 'n':
		return astra_json_parser_literal (self, "null");
	case '-':
	case '0':
	case '1':
	case '2':
	case '3':
	case '4':
	case '5':
	case '6':
	case '7':
	case '8':
	case '9':
		return astra_json_parser_number (self);
	default:
		astra_json_parser_expected (self, "a value");
		return NULL;
	}
}

/**
 * astra_json_parse:
 * @data: (array length=length): JSON text, UTF-8
 * @length: length of @data in bytes
 * @error: return location for a #GError
 *
 * Parses strict RFC 8259 JSON from an untrusted source, with the number
 * semantics of JavaScript's `JSON.parse()`: every number is an IEEE 754
 * double (integer literals that are exact doubles are stored as gint64
 * values for convenience). Unlike json-glib's parser, this never silently
 * changes a value: integers beyond 2^53 are rounded exactly as JavaScript
 * rounds them, numbers that overflow to infinity, `\u0000`, lone surrogates,
 * invalid UTF-8, comments, single quotes, hex and leading-zero numbers,
 * trailing data and nesting deeper than %ASTRA_JSON_MAX_DEPTH are rejected
 * with %ASTRA_ERROR_INVALID_DATA naming the byte offset. Duplicate object
 * keys keep the first key's position and the last value, as `JSON.parse()`.
 *
 * Returns: (transfer full): the root node, or %NULL on error
 *
 * Since: 1.0
 */
JsonNode *
astra_json_parse (const char *data, gsize length, GError **error)
{
	g_autoptr (GString) scratch = NULL;
	g_autoptr (JsonNode) root = NULL;
	AstraJsonParser self = {
		.data = (const guchar *)data,
		.length = length,
		.error = error,
	};

	g_return_val_if_fail (data != NULL || length == 0, NULL);
	g_return_val_if_fail (error == NULL || *error == NULL, NULL);

	scratch = g_string_sized_new (64);
	self.scratch = scratch;
	root = astra_json_parser_value (&self);
	if (root == NULL)
		return NULL;
	astra_json_parser_skip_whitespace (&self);
	if (self.pos < self.length) {
		astra_json_parser_expected (&self, "end of data");
		return NULL;
	}
	return g_steal_pointer (&root);
}
