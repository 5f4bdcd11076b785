/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(__ASTRA_INSIDE__) && !defined(ASTRA_COMPILATION)
#error "Only <astra/astra.h> can be included directly."
#endif

#include <glib-object.h>

#include "astra-macros.h"
#include "astra-request.h"

G_BEGIN_DECLS

/**
 * AstraSignatureScheme:
 * @ASTRA_SIGNATURE_SCHEME_ASTRA: the AstraNetmon scheme: `X-Webhook-Signature`
 *   is the lowercase hex HMAC-SHA256 of the exact body bytes, keyed with the
 *   secret's bytes as written; `X-Webhook-Id` and `X-Webhook-Timestamp` go
 *   along unsigned. One secret.
 * @ASTRA_SIGNATURE_SCHEME_STANDARD_WEBHOOKS: Standard Webhooks 1.0:
 *   `webhook-signature: v1,<base64 HMAC-SHA256(key, id.timestamp.body)>`,
 *   keyed with the base64-decoded bytes of a `whsec_` secret; one signature
 *   per secret, space-separated, for rotation.
 *
 * Since: 1.0
 */
typedef enum {
	ASTRA_SIGNATURE_SCHEME_ASTRA,
	ASTRA_SIGNATURE_SCHEME_STANDARD_WEBHOOKS,
} AstraSignatureScheme;

/**
 * ASTRA_SIGNER_DEFAULT_TOLERANCE:
 *
 * How far, in seconds, a Standard Webhooks timestamp may be from the
 * verifier's clock, as in the reference libraries.
 *
 * Since: 1.0
 */
#define ASTRA_SIGNER_DEFAULT_TOLERANCE 300

#define ASTRA_TYPE_SIGNER (astra_signer_get_type ())
ASTRA_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (AstraSigner, astra_signer, ASTRA, SIGNER, GObject)

ASTRA_AVAILABLE_IN_1_0
AstraSigner *astra_signer_new (AstraSignatureScheme scheme);
ASTRA_AVAILABLE_IN_1_0
AstraSignatureScheme astra_signer_get_scheme (AstraSigner *self);
ASTRA_AVAILABLE_IN_1_0
gboolean astra_signer_add_secret (AstraSigner *self, const char *secret, GError **error);
ASTRA_AVAILABLE_IN_1_0
guint astra_signer_get_n_secrets (AstraSigner *self);
ASTRA_AVAILABLE_IN_1_0
void astra_signer_set_tolerance (AstraSigner *self, guint seconds);
ASTRA_AVAILABLE_IN_1_0
char *astra_signer_sign (AstraSigner *self,
			 const char *msg_id,
			 gint64 timestamp,
			 const guint8 *body,
			 gsize body_len);
ASTRA_AVAILABLE_IN_1_0
gboolean astra_signer_sign_request (AstraSigner *self,
				    AstraRequest *request,
				    const char *msg_id,
				    gint64 timestamp,
				    GError **error);
ASTRA_AVAILABLE_IN_1_0
gboolean astra_signer_verify (AstraSigner *self,
			      const char *msg_id,
			      gint64 timestamp,
			      const guint8 *body,
			      gsize body_len,
			      const char *signature,
			      GError **error);

G_END_DECLS
