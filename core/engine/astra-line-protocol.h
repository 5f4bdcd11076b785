/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * InfluxDB v1 line protocol, as collectors (Telegraf) send it to POST /write.
 */

#pragma once

#include "astra-engine-types.h"

G_BEGIN_DECLS

/* a longer line is bad (the body as a whole is bounded by the HTTP layer) */
#define ASTRA_LINE_PROTOCOL_MAX_LINE_LENGTH 65536
/* a line with more tags is bad; the series store's own bound (max-labels) is usually lower */
#define ASTRA_LINE_PROTOCOL_MAX_TAGS 256

/* the unit of line-protocol timestamps: the precision= parameter of /write */
typedef enum {
	ASTRA_PRECISION_NS,
	ASTRA_PRECISION_US,
	ASTRA_PRECISION_MS,
	ASTRA_PRECISION_S,
	ASTRA_PRECISION_M,
	ASTRA_PRECISION_H,
} AstraPrecision;

/* what one body gave; shared by the line protocol and collectd parsers */
typedef struct {
	guint n_lines;        /* lines holding a point (not blank, not a comment), good or bad;
			       * collectd: value lists */
	guint n_samples;      /* samples the sink took */
	guint n_rejected;     /* samples the sink refused (a bound, e.g. the series limit) */
	guint first_bad_line; /* 1-based line number of the first bad line, 0 if none;
			       * collectd: 1-based index of the first bad value list */
} AstraIngestStats;

/* n, u, ms, s, m, h as InfluxDB v1's /write takes them (also ns and us, as v2's);
 * NULL or "" is nanoseconds. FALSE for anything else. */
gboolean astra_precision_from_string (const char *str, AstraPrecision *out);

/* parses a body of line protocol and gives every sample of every good line to
 * sink; a bad line gives none. FALSE with ASTRA_ERROR_INVALID_DATA "line N: why"
 * naming the first bad line (or the first line whose sample the sink refused)
 * if any was bad; the good lines are taken all the same. stats may be NULL. */
gboolean astra_line_protocol_parse (const char *body,
				    gsize length,
				    AstraPrecision precision,
				    gint64 now_us,
				    AstraSampleSinkFunc sink,
				    gpointer user_data,
				    AstraIngestStats *stats,
				    GError **error);

G_END_DECLS
