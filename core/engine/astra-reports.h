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
 * the registry when the report leaves them out.
 */

#define ASTRA_TYPE_REPORTS (astra_reports_get_type ())
G_DECLARE_FINAL_TYPE (AstraReports, astra_reports, ASTRA, REPORTS, GObject)

/* state_db may be NULL (traceroute paths then last until restart) */
AstraReports *astra_reports_new (AstraClock *clock,
				 AstraAgentRegistry *agents,
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

G_END_DECLS
