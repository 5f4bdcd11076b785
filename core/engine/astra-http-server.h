/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "astra.h"
#include "astra-engine-types.h"
#include "astra-metrics.h"
#include "astra-reports.h"

G_BEGIN_DECLS

#define ASTRA_TYPE_HTTP_SERVER (astra_http_server_get_type ())
G_DECLARE_FINAL_TYPE (AstraHttpServer, astra_http_server, ASTRA, HTTP_SERVER, GObject)

AstraHttpServer *astra_http_server_new (gsize max_body_size, AstraEventSinkFunc sink, gpointer user_data);
gboolean astra_http_server_listen (AstraHttpServer *self, GInetSocketAddress *address, GError **error);
/* the address actually bound (the port is chosen by the kernel when 0 was asked for) */
GInetSocketAddress *astra_http_server_get_address (AstraHttpServer *self);
/* where typed reports and samples (/write, /collectd, samples reports) go; same user_data as the event sink */
void astra_http_server_set_ingest (AstraHttpServer *self, AstraReports *reports, AstraSampleSinkFunc sample_sink);
/* makes what a request produced durable before it is answered (the engine commits its state database) */
typedef gboolean (*AstraCommitFunc) (gpointer user_data, GError **error);
void astra_http_server_set_commit_func (AstraHttpServer *self, AstraCommitFunc func);
/* serves GET /metrics from the registry and counts requests by endpoint and status into it */
void astra_http_server_set_metrics (AstraHttpServer *self, AstraMetrics *metrics);
void astra_http_server_set_max_body_size (AstraHttpServer *self, gsize max_body_size);
void astra_http_server_disconnect (AstraHttpServer *self);

G_END_DECLS
