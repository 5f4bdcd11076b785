/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * A libFuzzer target for astra_json_parse() and astra_json_serialize(); not built by meson.
 * Every input must be parsed or rejected without a crash, and whatever is accepted must
 * serialize, and the serialization must be a fixpoint of parse + serialize.
 *
 *   cd /work/main
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -DASTRA_COMPILATION -Ibuild -Iinclude \
 *     -Iinclude/astra $(pkg-config --cflags gio-2.0 json-glib-1.0) -o /tmp/fuzz-json \
 *     tests/fuzz-json.c core/sdk/astra-json.c core/sdk/astra-json-parser.c core/sdk/astra-error.c \
 *     $(pkg-config --libs gio-2.0 json-glib-1.0) -lm
 *   /tmp/fuzz-json -max_len=4096 -max_total_time=300
 */

#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "astra.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
	g_autoptr (JsonNode) node = astra_json_parse ((const char *)data, size, NULL);
	g_autoptr (JsonNode) again = NULL;
	g_autoptr (GBytes) first = NULL;
	g_autoptr (GBytes) second = NULL;
	g_autoptr (GError) error = NULL;
	gsize len = 0;
	const char *text;

	if (node == NULL)
		return 0;
	first = astra_json_serialize (node, &error);
	if (first == NULL) {
		g_printerr ("accepted input does not serialize: %s\n", error->message);
		abort ();
	}
	text = g_bytes_get_data (first, &len);
	again = astra_json_parse (text, len, &error);
	if (again == NULL) {
		g_printerr ("own output does not parse: %s\n", error->message);
		abort ();
	}
	second = astra_json_serialize (again, &error);
	if (second == NULL || !g_bytes_equal (first, second)) {
		g_printerr ("not a fixpoint: %s\n", text);
		abort ();
	}
	return 0;
}
