/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * collectd's write_http plugin with Format "JSON", as sent to POST /collectd.
 */

#pragma once

#include "astra-line-protocol.h"

G_BEGIN_DECLS

/* parses a JSON array of collectd value lists and gives every value to sink
 * as a sample named <plugin>_<type>, plus _<dsname> when the list has more
 * than one value or the data source is not named "value", labelled host,
 * plugin_instance and type_instance (each only when not empty), at the list's
 * time (seconds; absent or 0: now_us); null (NaN) values are skipped. A bad
 * value list (a wrong shape, more than 64 values) gives no sample.
 * FALSE with ASTRA_ERROR_INVALID_DATA if the body is not such an array, or
 * "value list N: why" naming the first bad one (1-based; stats->first_bad_line
 * is N): the good ones are taken all the same. stats may be NULL. */
gboolean astra_collectd_parse (const char *body,
			       gsize length,
			       gint64 now_us,
			       AstraSampleSinkFunc sink,
			       gpointer user_data,
			       AstraIngestStats *stats,
			       GError **error);

G_END_DECLS
