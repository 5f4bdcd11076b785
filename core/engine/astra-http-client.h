/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A lean HTTP/1.1 keep-alive client for sending webhooks: one buffer and
 * normally one write per request, connections pooled per scheme://host:port,
 * one client-wide timer for every deadline. Private to the engine.
 */

#pragma once

#include <gio/gio.h>

#include "astra.h"

G_BEGIN_DECLS

#define ASTRA_TYPE_HTTP_CLIENT (astra_http_client_get_type ())
G_DECLARE_FINAL_TYPE (AstraHttpClient, astra_http_client, ASTRA, HTTP_CLIENT, GObject)

/* a response body that is longer than this (or max_body, if larger) is not read to
 * its end: the excerpt is returned and the connection is closed instead of reused */
#define ASTRA_HTTP_CLIENT_MAX_DISCARD (1024 * 1024)

AstraHttpClient *astra_http_client_new (void);
void astra_http_client_set_max_conns_per_host (AstraHttpClient *self, guint n);
void astra_http_client_set_idle_timeout (AstraHttpClient *self, guint seconds);
/* trust @database instead of the system's for https; for tests (NULL: the default) */
void astra_http_client_set_tls_database (AstraHttpClient *self, GTlsDatabase *database);
void astra_http_client_send_async (AstraHttpClient *self,
				   AstraRequest *request,
				   guint timeout_ms,
				   gsize max_body,
				   GCancellable *cancellable,
				   GAsyncReadyCallback callback,
				   gpointer user_data);
AstraResponse *astra_http_client_send_finish (AstraHttpClient *self, GAsyncResult *result, GError **error);
void astra_http_client_abort (AstraHttpClient *self);
guint astra_http_client_get_n_connections (AstraHttpClient *self);
guint64 astra_http_client_get_n_connects (AstraHttpClient *self);

G_END_DECLS
