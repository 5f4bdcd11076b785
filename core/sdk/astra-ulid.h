/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Private to the SDK (and compiled into the engine too, as the schema
 * validator is): time-ordered ids, a 4-character prefix and a ULID.
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* "evt_" or "sil_", then 26 characters of Crockford base32 */
#define ASTRA_ULID_ID_LEN 30

/* what keeps the ids of one generator increasing within a millisecond */
typedef struct {
	guint64 last_ms;
	guint8 last_random[10];
} AstraUlidState;

/* writes prefix (4 characters) + a ULID of now_ms (unix milliseconds) and
 * fresh random bits into out (ASTRA_ULID_ID_LEN + 1 bytes); ids from one state
 * sort in the order they were made, even within a millisecond or when the
 * clock goes back. Not thread safe: callers share a state under their lock */
void astra_ulid_next (AstraUlidState *state, gint64 now_ms, const char *prefix, char *out);

G_END_DECLS
