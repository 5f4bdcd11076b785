/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(__ASTRA_INSIDE__) && !defined(ASTRA_COMPILATION)
#error "Only <astra/astra.h> can be included directly."
#endif

#include <json-glib/json-glib.h>

#include "astra-macros.h"

G_BEGIN_DECLS

/**
 * ASTRA_JSON_MAX_DEPTH:
 *
 * The deepest nesting of arrays and objects astra_json_parse() accepts.
 *
 * Since: 1.0
 */
#define ASTRA_JSON_MAX_DEPTH 64

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
ASTRA_AVAILABLE_IN_1_0
JsonNode *astra_json_parse (const char *data, gsize length, GError **error);

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
ASTRA_AVAILABLE_IN_1_0
GBytes *astra_json_serialize (JsonNode *node, GError **error);

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
ASTRA_AVAILABLE_IN_1_0
gboolean astra_json_append (GString *out, JsonNode *node, GError **error);

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
ASTRA_AVAILABLE_IN_1_0
void astra_json_format_number (GString *out, double value);

G_END_DECLS
