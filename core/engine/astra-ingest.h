/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "astra.h"
#include "astra-engine-types.h"
#include "astra-reports.h"

G_BEGIN_DECLS

/* a batch larger than this is refused whole (413), whatever its byte size */
#define ASTRA_INGEST_MAX_REPORTS 10000

/* the fate of one report of a batch */
typedef struct {
	guint index;
	gboolean accepted;
	char *type;        /* the report's type ("heartbeat", ...) or NULL for an event report */
	AstraEvent *event; /* the event of an accepted event report */
	char *field;       /* the offending field, e.g. "data.hostname"; NULL if none applies */
	char *error;       /* why it was rejected; NULL if accepted */
} AstraReportResult;

void astra_report_result_free (AstraReportResult *result);

/* parses a POST /v1/reports body: one report object, an array of them, or
 * {"reports": [...]}. Fails as a whole only if the body is not JSON or has
 * none of those shapes (ASTRA_ERROR_INVALID_DATA) or too many reports
 * (ASTRA_ERROR_TOO_LARGE); each report's own problems are in its result. */
GPtrArray *astra_ingest_parse_reports (const char *body, gsize length, gint64 now, GError **error);
/* as above, applying each report in batch order as it is parsed: an event report's event goes
 * to event_sink, a typed report ({"type": "heartbeat", ...}) to reports; either may be NULL
 * (typed reports are then refused) */
GPtrArray *astra_ingest_parse_reports_full (const char *body,
					    gsize length,
					    gint64 now_us,
					    AstraReports *reports,
					    AstraEventSinkFunc event_sink,
					    gpointer user_data,
					    GError **error);

/* the JSON reply for results, and its HTTP status: 202 if all were accepted, else 400 */
GBytes *astra_ingest_build_reply (GPtrArray *results, guint *status);
/* {"error": message} */
GBytes *astra_ingest_build_error (const char *message);

G_END_DECLS
