/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <json-glib/json-glib.h>

#include "astra.h"
#include "astra-agent-registry.h"
#include "astra-clock.h"
#include "astra-engine-types.h"
#include "astra-state-db.h"

G_BEGIN_DECLS

/*
 * Typed reports from agents (the `"type": ...` reports of POST /v1/reports):
 *
 *   heartbeat    -> the agent registry (agent.registered / agent.status_changed)
 *   speedtest    -> speedtest.completed + samples speedtest_download_mbps, _upload_mbps, _ping_ms, _jitter_ms
 *   traceroute   -> traceroute.completed (path_changed against the previous path from the same agent
 *                   to the same target, persisted) + sample traceroute_hop_count
 *   service_test -> samples service_response_ms and service_up (0/1) always; service_test.failed when it failed
 *   samples      -> one sample per entry of "samples": [{metric, labels, value, timestamp}]
 *
 * Each type's fields are defined by data/schemas/reports/<type>.schema.json
 * and validated with the same validator as events, so errors name the field
 * the same way ("samples[3].value: expected number, got string"). Results
 * and heartbeats carry agent_id; hostname and tenant_id are filled in from
 * the registry when the report leaves them out (an agent that never sent a
 * heartbeat needs a hostname in a report that makes an event; its tenant
 * is then "default"). Results do not count as heartbeats. Members a schema
 * does not describe are allowed and ignored.
 *
 * A report is checked whole before anything happens: a malformed one has no
 * effect. Only the sample sink may refuse single samples (a bound of the
 * series store): the others are still passed, the event is still sent, and
 * the report fails naming the first refused one ("samples[3]: ...", or the
 * metric name for the samples of a result, "speedtest_ping_ms: ...").
 *
 * Timestamps are RFC 3339 with a zone (samples also take unix seconds, which
 * may be fractional); a report without one happened at now_us. Samples of
 * results are labelled agent_id only (speedtest), agent_id and target
 * (traceroute), agent_id, test, kind and target (service_test): the tenant
 * and hostname of an agent are the registry's business, so a change of
 * tenant never splits a series.
 */

/* more hops than a TTL can count are refused */
#define ASTRA_REPORTS_MAX_HOPS 255

#define ASTRA_TYPE_REPORTS (astra_reports_get_type ())
G_DECLARE_FINAL_TYPE (AstraReports, astra_reports, ASTRA, REPORTS, GObject)

/* state_db may be NULL (traceroute paths then last until restart) */
AstraReports *astra_reports_new (AstraAgentRegistry *agents,
				 AstraStateDb *state_db,
				 AstraEventSinkFunc event_sink,
				 AstraSampleSinkFunc sample_sink,
				 gpointer user_data);
/* the report types handled, NULL-terminated, for error messages */
const char *const *astra_reports_get_types (void);
/* handles one report whose "type" member names its type. FALSE with ASTRA_ERROR_INVALID_DATA
 * and a message "FIELD: what is wrong" (FIELD relative to the report, e.g. "samples[2].labels")
 * when it is rejected; a samples report keeps its valid samples even when one is rejected */
gboolean astra_reports_handle (AstraReports *self, JsonObject *report, gint64 now_us, GError **error);
/* a report timestamp: an RFC 3339 string with a zone, or (allow_number) unix seconds, from 1970
 * to 9999; FALSE with ASTRA_ERROR_INVALID_DATA and a message without a field name */
gboolean astra_reports_parse_timestamp (JsonNode *node, gboolean allow_number, gint64 *timestamp_us, GError **error);

G_END_DECLS
