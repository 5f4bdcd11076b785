/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "astra-ulid.h"

void
astra_ulid_next (AstraUlidState *state, gint64 now_ms, const char *prefix, char *out)
{
	static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
	guint64 ms = now_ms > 0 ? (guint64) now_ms : 0;
	guint8 raw[16];

	g_return_if_fail (strlen (prefix) == 4);

	if (ms > state->last_ms) {
		state->last_ms = ms;
		for (guint i = 0; i < sizeof (state->last_random); i += 4) {
			guint32 r = g_random_int ();
			for (guint j = 0; j < 4 && i + j < sizeof (state->last_random); j++)
				state->last_random[i + j] = (guint8) (r >> (8 * j));
		}
	} else {
		/* same millisecond (or the clock went back): count up, so ids
		 * never sort before earlier ones */
		gint i;
		for (i = sizeof (state->last_random) - 1; i >= 0; i--) {
			if (++state->last_random[i] != 0)
				break;
		}
		if (i < 0)
			state->last_ms++;
	}
	/* 48 bits of milliseconds, then 80 random bits */
	for (guint i = 0; i < 6; i++)
		raw[i] = (guint8) (state->last_ms >> (8 * (5 - i)));
	memcpy (raw + 6, state->last_random, sizeof (state->last_random));

	/* 128 bits as 26 five-bit digits: two leading zero bits make 130 */
	memcpy (out, prefix, 4);
	for (guint i = 0; i < 26; i++) {
		guint digit = 0;
		for (guint b = 0; b < 5; b++) {
			gint bit = (gint) (i * 5 + b) - 2;
			digit <<= 1;
			if (bit >= 0)
				digit |= (raw[bit / 8] >> (7 - bit % 8)) & 1;
		}
		out[4 + i] = alphabet[digit];
	}
	out[ASTRA_ULID_ID_LEN] = '\0';
}
