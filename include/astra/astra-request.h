/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(__ASTRA_INSIDE__) && !defined(ASTRA_COMPILATION)
#error "Only <astra/astra.h> can be included directly."
#endif

#include <glib-object.h>

#include "astra-macros.h"

G_BEGIN_DECLS

/**
 * AstraHeaderFunc:
 * @name: the header name, as set
 * @value: the header value
 * @user_data: user data
 *
 * Called for each header of an #AstraRequest or #AstraResponse.
 *
 * Since: 1.0
 */
typedef void (*AstraHeaderFunc) (const char *name, const char *value, gpointer user_data);

/**
 * AstraOutcome:
 * @ASTRA_OUTCOME_DELIVERED: the receiver accepted the request
 * @ASTRA_OUTCOME_RETRY: a transient failure; try again later (after
 *   astra_response_get_retry_after() seconds when that is not negative)
 * @ASTRA_OUTCOME_FAILED: a permanent failure for this delivery (e.g. the
 *   receiver rejected the payload); retrying would not help
 * @ASTRA_OUTCOME_GONE: the destination itself is gone, revoked or refuses
 *   this sender (HTTP 410, Slack `channel_not_found`, Discord unknown
 *   webhook): the webhook is disabled until an admin re-enables it
 *
 * What a delivery attempt came to, decided by the plugin's classify vfunc.
 *
 * Since: 1.0
 */
typedef enum {
	ASTRA_OUTCOME_DELIVERED,
	ASTRA_OUTCOME_RETRY,
	ASTRA_OUTCOME_FAILED,
	ASTRA_OUTCOME_GONE,
} AstraOutcome;

#define ASTRA_TYPE_REQUEST (astra_request_get_type ())
ASTRA_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (AstraRequest, astra_request, ASTRA, REQUEST, GObject)

ASTRA_AVAILABLE_IN_1_0
AstraRequest *astra_request_new (void);
ASTRA_AVAILABLE_IN_1_0
void astra_request_set_method (AstraRequest *self, const char *method);
ASTRA_AVAILABLE_IN_1_0
const char *astra_request_get_method (AstraRequest *self);
ASTRA_AVAILABLE_IN_1_0
void astra_request_set_url (AstraRequest *self, const char *url);
ASTRA_AVAILABLE_IN_1_0
const char *astra_request_get_url (AstraRequest *self);
ASTRA_AVAILABLE_IN_1_0
void astra_request_set_header (AstraRequest *self, const char *name, const char *value);
ASTRA_AVAILABLE_IN_1_0
const char *astra_request_get_header (AstraRequest *self, const char *name);
ASTRA_AVAILABLE_IN_1_0
void astra_request_foreach_header (AstraRequest *self, AstraHeaderFunc func, gpointer user_data);
ASTRA_AVAILABLE_IN_1_0
void astra_request_set_body (AstraRequest *self, GBytes *body, const char *content_type);
ASTRA_AVAILABLE_IN_1_0
GBytes *astra_request_get_body (AstraRequest *self);
ASTRA_AVAILABLE_IN_1_0
const char *astra_request_get_content_type (AstraRequest *self);
ASTRA_AVAILABLE_IN_1_0
gboolean astra_request_validate (AstraRequest *self, GError **error);

#define ASTRA_TYPE_RESPONSE (astra_response_get_type ())
ASTRA_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (AstraResponse, astra_response, ASTRA, RESPONSE, GObject)

ASTRA_AVAILABLE_IN_1_0
AstraResponse *astra_response_new (guint status, GBytes *body);
ASTRA_AVAILABLE_IN_1_0
guint astra_response_get_status (AstraResponse *self);
ASTRA_AVAILABLE_IN_1_0
void astra_response_set_header (AstraResponse *self, const char *name, const char *value);
ASTRA_AVAILABLE_IN_1_0
const char *astra_response_get_header (AstraResponse *self, const char *name);
ASTRA_AVAILABLE_IN_1_0
GBytes *astra_response_get_body (AstraResponse *self);
ASTRA_AVAILABLE_IN_1_0
gint64 astra_response_get_date (AstraResponse *self);
ASTRA_AVAILABLE_IN_1_0
void astra_response_set_date (AstraResponse *self, gint64 unix_seconds);
ASTRA_AVAILABLE_IN_1_0
void astra_response_set_reason (AstraResponse *self, const char *reason);
ASTRA_AVAILABLE_IN_1_0
const char *astra_response_get_reason (AstraResponse *self);
ASTRA_AVAILABLE_IN_1_0
void astra_response_set_retry_after (AstraResponse *self, double seconds);
ASTRA_AVAILABLE_IN_1_0
double astra_response_get_retry_after (AstraResponse *self);
ASTRA_AVAILABLE_IN_1_0
double astra_response_parse_retry_after_header (AstraResponse *self);

ASTRA_AVAILABLE_IN_1_0
const char *astra_outcome_to_string (AstraOutcome outcome);

G_END_DECLS
