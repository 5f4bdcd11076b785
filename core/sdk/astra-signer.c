/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "astra.h"

#define ASTRA_SIGNER_MAC_SIZE 32 /* SHA-256 */
#define ASTRA_SIGNER_B64_MAC_SIZE 44 /* base64 of 32 bytes, with one '=' */
#define ASTRA_SIGNER_HEX_MAC_SIZE 64
#define ASTRA_SIGNER_KEY_MIN 24 /* Standard Webhooks: "between 24 bytes and 64 bytes" */
#define ASTRA_SIGNER_KEY_MAX 64
#define ASTRA_SIGNER_WHSEC_PREFIX "whsec_"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_MAC_CTX, EVP_MAC_CTX_free)

/**
 * AstraSigner:
 *
 * Signs outgoing webhook requests and verifies incoming ones, with
 * HMAC-SHA256 in one of the #AstraSignatureScheme schemes.
 *
 * Each secret is keyed into its own OpenSSL MAC context once, when it is
 * added; every signature re-initializes that context, which reuses the
 * prepared key instead of hashing it again. A signer therefore holds mutable
 * state even when it only signs: it is not thread-safe, and must be used from
 * one thread (the daemon's main loop), or guarded by the caller.
 *
 * Since: 1.0
 */
struct _AstraSigner {
	GObject parent_instance;
	AstraSignatureScheme scheme;
	guint tolerance;
	EVP_MAC *mac;
	GPtrArray *ctxs; /* of EVP_MAC_CTX, keyed, one per secret, in the order added */
};

G_DEFINE_FINAL_TYPE (AstraSigner, astra_signer, G_TYPE_OBJECT)

static void
astra_signer_set_openssl_error (GError **error, const char *what)
{
	unsigned long code = ERR_get_error ();
	char buf[256] = "unknown OpenSSL error";

	if (code != 0)
		ERR_error_string_n (code, buf, sizeof (buf));
	ERR_clear_error ();
	g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_FAILED, "%s: %s", what, buf);
}

static gint
astra_signer_base64_value (char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Strict RFC 4648 base64 (standard alphabet, padding required, zero pad bits):
 * g_base64_decode() skips invalid characters and would accept almost anything.
 * On failure *why is a static reason that never quotes the input.
 */
static gboolean
astra_signer_base64_decode (const char *text,
			    gsize len,
			    guint8 *out,
			    gsize out_size,
			    gsize *out_len,
			    const char **why)
{
	gsize pad = 0;
	gsize j = 0;

	if (len == 0 || len % 4 != 0) {
		*why = "its length is not a multiple of 4";
		return FALSE;
	}
	if (text[len - 1] == '=')
		pad = text[len - 2] == '=' ? 2 : 1;
	for (gsize i = 0; i < len - pad; i++) {
		if (astra_signer_base64_value (text[i]) < 0) {
			*why = text[i] == '=' ? "it has misplaced padding"
					      : "it has a character outside the base64 alphabet";
			return FALSE;
		}
	}
	/* the bits the last character carries beyond the data must be zero, so one key has one spelling */
	if ((pad == 1 && (astra_signer_base64_value (text[len - 2]) & 0x03) != 0) ||
	    (pad == 2 && (astra_signer_base64_value (text[len - 3]) & 0x0f) != 0)) {
		*why = "it is not canonical (non-zero bits before the padding)";
		return FALSE;
	}
	*out_len = len / 4 * 3 - pad;
	if (*out_len > out_size) {
		*why = "it is too long";
		return FALSE;
	}
	for (gsize i = 0; i < len; i += 4) {
		guint32 v = 0;
		for (gsize k = 0; k < 4; k++) {
			gint d = text[i + k] == '=' ? 0 : astra_signer_base64_value (text[i + k]);
			v = (v << 6) | (guint32) d;
		}
		out[j++] = (guint8) (v >> 16);
		if (j < *out_len)
			out[j++] = (guint8) (v >> 8);
		if (j < *out_len)
			out[j++] = (guint8) v;
	}
	return TRUE;
}

/* decimal, without the locale or printf machinery: this is on the per-request path */
static gsize
astra_signer_format_timestamp (gint64 value, char *buf /* 21 bytes at least */)
{
	char tmp[20];
	guint64 u = value < 0 ? (guint64) 0 - (guint64) value : (guint64) value;
	gsize n = 0;
	gsize len = 0;

	do {
		tmp[n++] = (char) ('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (value < 0)
		buf[len++] = '-';
	while (n > 0)
		buf[len++] = tmp[--n];
	buf[len] = '\0';
	return len;
}

static gboolean
astra_signer_mac (AstraSigner *self,
		  EVP_MAC_CTX *ctx,
		  const char *msg_id,
		  const char *timestamp,
		  gsize timestamp_len,
		  const guint8 *body,
		  gsize body_len,
		  guint8 *out,
		  GError **error)
{
	size_t out_len = 0;

	/* a NULL key re-initializes the context with the key it already holds */
	if (EVP_MAC_init (ctx, NULL, 0, NULL) != 1) {
		astra_signer_set_openssl_error (error, "failed to initialize HMAC");
		return FALSE;
	}
	/* "<id>.<timestamp>.<body>" fed piecewise: the body is never copied */
	if (self->scheme == ASTRA_SIGNATURE_SCHEME_STANDARD_WEBHOOKS) {
		if (EVP_MAC_update (ctx, (const guint8 *) msg_id, strlen (msg_id)) != 1 ||
		    EVP_MAC_update (ctx, (const guint8 *) ".", 1) != 1 ||
		    EVP_MAC_update (ctx, (const guint8 *) timestamp, timestamp_len) != 1 ||
		    EVP_MAC_update (ctx, (const guint8 *) ".", 1) != 1) {
			astra_signer_set_openssl_error (error, "failed to compute HMAC");
			return FALSE;
		}
	}
	if (body_len > 0 && EVP_MAC_update (ctx, body, body_len) != 1) {
		astra_signer_set_openssl_error (error, "failed to compute HMAC");
		return FALSE;
	}
	if (EVP_MAC_final (ctx, out, &out_len, ASTRA_SIGNER_MAC_SIZE) != 1 ||
	    out_len != ASTRA_SIGNER_MAC_SIZE) {
		astra_signer_set_openssl_error (error, "failed to finish HMAC");
		return FALSE;
	}
	return TRUE;
}

static char *
astra_signer_sign_internal (AstraSigner *self,
			    const char *msg_id,
			    gint64 timestamp,
			    const guint8 *body,
			    gsize body_len,
			    GError **error)
{
	static const char hexdigits[] = "0123456789abcdef";
	guint8 mac[ASTRA_SIGNER_MAC_SIZE];
	char ts[24];
	gsize ts_len = 0;
	gsize pos = 0;
	g_autofree char *sig = NULL;

	if (self->scheme == ASTRA_SIGNATURE_SCHEME_ASTRA) {
		EVP_MAC_CTX *ctx = g_ptr_array_index (self->ctxs, 0);

		if (!astra_signer_mac (self, ctx, NULL, NULL, 0, body, body_len, mac, error))
			return NULL;
		sig = g_malloc (ASTRA_SIGNER_HEX_MAC_SIZE + 1);
		for (gsize i = 0; i < sizeof (mac); i++) {
			sig[pos++] = hexdigits[mac[i] >> 4];
			sig[pos++] = hexdigits[mac[i] & 0x0f];
		}
		sig[pos] = '\0';
		return g_steal_pointer (&sig);
	}

	/* "v1,<44 base64 chars>" per secret, each followed by a space or the final NUL */
	ts_len = astra_signer_format_timestamp (timestamp, ts);
	sig = g_malloc (self->ctxs->len * (3 + ASTRA_SIGNER_B64_MAC_SIZE + 1));
	for (guint i = 0; i < self->ctxs->len; i++) {
		EVP_MAC_CTX *ctx = g_ptr_array_index (self->ctxs, i);
		gint state = 0;
		gint save = 0;

		if (!astra_signer_mac (self, ctx, msg_id, ts, ts_len, body, body_len, mac, error))
			return NULL;
		if (i > 0)
			sig[pos++] = ' ';
		memcpy (sig + pos, "v1,", 3);
		pos += 3;
		pos += g_base64_encode_step (mac, sizeof (mac), FALSE, sig + pos, &state, &save);
		pos += g_base64_encode_close (FALSE, sig + pos, &state, &save);
	}
	sig[pos] = '\0';
	return g_steal_pointer (&sig);
}

static void
astra_signer_finalize (GObject *object)
{
	AstraSigner *self = ASTRA_SIGNER (object);

	/* EVP_MAC_CTX_free() cleanses the key material the contexts hold */
	g_ptr_array_unref (self->ctxs);
	EVP_MAC_free (self->mac);
	G_OBJECT_CLASS (astra_signer_parent_class)->finalize (object);
}

static void
astra_signer_class_init (AstraSignerClass *klass)
{
	G_OBJECT_CLASS (klass)->finalize = astra_signer_finalize;
}

static void
astra_signer_init (AstraSigner *self)
{
	self->tolerance = ASTRA_SIGNER_DEFAULT_TOLERANCE;
	self->ctxs = g_ptr_array_new_with_free_func ((GDestroyNotify) EVP_MAC_CTX_free);
}

/**
 * astra_signer_new:
 * @scheme: an #AstraSignatureScheme
 *
 * Creates a signer without secrets; add them with astra_signer_add_secret().
 * The timestamp tolerance of astra_signer_verify() starts at
 * %ASTRA_SIGNER_DEFAULT_TOLERANCE.
 *
 * Returns: (transfer full): a new #AstraSigner
 *
 * Since: 1.0
 */
AstraSigner *
astra_signer_new (AstraSignatureScheme scheme)
{
	AstraSigner *self;

	g_return_val_if_fail (scheme == ASTRA_SIGNATURE_SCHEME_ASTRA ||
				  scheme == ASTRA_SIGNATURE_SCHEME_STANDARD_WEBHOOKS,
			      NULL);

	self = g_object_new (ASTRA_TYPE_SIGNER, NULL);
	self->scheme = scheme;
	return self;
}

/**
 * astra_signer_get_scheme:
 * @self: an #AstraSigner
 *
 * Returns: the signature scheme
 *
 * Since: 1.0
 */
AstraSignatureScheme
astra_signer_get_scheme (AstraSigner *self)
{
	g_return_val_if_fail (ASTRA_IS_SIGNER (self), ASTRA_SIGNATURE_SCHEME_ASTRA);
	return self->scheme;
}

/**
 * astra_signer_get_n_secrets:
 * @self: an #AstraSigner
 *
 * Returns: the number of secrets added
 *
 * Since: 1.0
 */
guint
astra_signer_get_n_secrets (AstraSigner *self)
{
	g_return_val_if_fail (ASTRA_IS_SIGNER (self), 0);
	return self->ctxs->len;
}

static gboolean
astra_signer_add_key (AstraSigner *self, const guint8 *key, gsize key_len, GError **error)
{
	g_autoptr(EVP_MAC_CTX) ctx = NULL;
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_utf8_string (OSSL_MAC_PARAM_DIGEST, (char *) "SHA256", 0),
	    OSSL_PARAM_construct_end (),
	};

	if (self->mac == NULL) {
		self->mac = EVP_MAC_fetch (NULL, OSSL_MAC_NAME_HMAC, NULL);
		if (self->mac == NULL) {
			astra_signer_set_openssl_error (error, "HMAC is not available");
			return FALSE;
		}
	}
	ctx = EVP_MAC_CTX_new (self->mac);
	if (ctx == NULL) {
		astra_signer_set_openssl_error (error, "failed to create HMAC context");
		return FALSE;
	}
	if (EVP_MAC_init (ctx, key, key_len, params) != 1) {
		astra_signer_set_openssl_error (error, "failed to set HMAC-SHA256 key");
		return FALSE;
	}
	g_ptr_array_add (self->ctxs, g_steal_pointer (&ctx));
	return TRUE;
}

/* errors here name the problem, never any part of the secret */
static gboolean
astra_signer_decode_whsec (const char *secret, guint8 *key, gsize *key_len, GError **error)
{
	const char *why = NULL;

	if (g_str_has_prefix (secret, ASTRA_SIGNER_WHSEC_PREFIX))
		secret += strlen (ASTRA_SIGNER_WHSEC_PREFIX);
	if (secret[0] == '\0') {
		g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
				     "the standard-webhooks secret is empty");
		return FALSE;
	}
	if (!astra_signer_base64_decode (secret, strlen (secret), key, ASTRA_SIGNER_KEY_MAX, key_len, &why)) {
		if (*key_len > ASTRA_SIGNER_KEY_MAX) {
			g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
				     "the standard-webhooks secret decodes to %" G_GSIZE_FORMAT " bytes; "
				     "it must be %d to %d bytes",
				     *key_len, ASTRA_SIGNER_KEY_MIN, ASTRA_SIGNER_KEY_MAX);
			return FALSE;
		}
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
			     "the standard-webhooks secret must be base64 after an optional "
			     "`whsec_` prefix, but %s", why);
		return FALSE;
	}
	if (*key_len < ASTRA_SIGNER_KEY_MIN) {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
			     "the standard-webhooks secret decodes to %" G_GSIZE_FORMAT " bytes; "
			     "it must be %d to %d bytes",
			     *key_len, ASTRA_SIGNER_KEY_MIN, ASTRA_SIGNER_KEY_MAX);
		return FALSE;
	}
	return TRUE;
}

/**
 * astra_signer_add_secret:
 * @self: an #AstraSigner
 * @secret: the secret, NUL-terminated
 * @error: return location for a #GError
 *
 * Adds a signing secret.
 *
 * For %ASTRA_SIGNATURE_SCHEME_ASTRA the key is the bytes of @secret as
 * written; it must not be empty, and the scheme takes exactly one secret.
 *
 * For %ASTRA_SIGNATURE_SCHEME_STANDARD_WEBHOOKS @secret is `whsec_`
 * (optional) followed by strict, padded base64 of a 24 to 64 byte key.
 * Several secrets may be added to rotate keys without downtime: each one
 * produces its own signature.
 *
 * Error messages never contain any part of @secret. No copy of the secret
 * is kept outside the OpenSSL context, which cleanses it when the signer is
 * finalized.
 *
 * Returns: %TRUE if the secret was added
 *
 * Since: 1.0
 */
gboolean
astra_signer_add_secret (AstraSigner *self, const char *secret, GError **error)
{
	guint8 key[ASTRA_SIGNER_KEY_MAX];
	gsize key_len = 0;
	gboolean ret;

	g_return_val_if_fail (ASTRA_IS_SIGNER (self), FALSE);
	g_return_val_if_fail (secret != NULL, FALSE);
	g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

	if (self->scheme == ASTRA_SIGNATURE_SCHEME_ASTRA) {
		if (self->ctxs->len > 0) {
			g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
					     "the astra signature scheme takes one secret; "
					     "`signature = standard-webhooks` supports several "
					     "for rotation");
			return FALSE;
		}
		if (secret[0] == '\0') {
			g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
					     "the signing secret is empty");
			return FALSE;
		}
		return astra_signer_add_key (self, (const guint8 *) secret, strlen (secret), error);
	}

	ret = astra_signer_decode_whsec (secret, key, &key_len, error) &&
	      astra_signer_add_key (self, key, key_len, error);
	OPENSSL_cleanse (key, sizeof (key));
	return ret;
}

/**
 * astra_signer_set_tolerance:
 * @self: an #AstraSigner
 * @seconds: the largest accepted distance, either way, between a Standard
 *   Webhooks timestamp and the local clock; 0 disables the check
 *
 * Sets the timestamp tolerance of astra_signer_verify(). The default is
 * %ASTRA_SIGNER_DEFAULT_TOLERANCE.
 *
 * Since: 1.0
 */
void
astra_signer_set_tolerance (AstraSigner *self, guint seconds)
{
	g_return_if_fail (ASTRA_IS_SIGNER (self));
	self->tolerance = seconds;
}

/**
 * astra_signer_sign:
 * @self: an #AstraSigner with at least one secret
 * @msg_id: (nullable): the message id; it must not contain `.` in the
 *   Standard Webhooks scheme; the astra scheme does not sign it and allows
 *   %NULL
 * @timestamp: Unix seconds of this attempt; not signed by the astra scheme
 * @body: (array length=body_len) (nullable): the exact body bytes
 * @body_len: length of @body
 *
 * Signs a message.
 *
 * For %ASTRA_SIGNATURE_SCHEME_ASTRA this returns the 64 lowercase hex
 * digits of HMAC-SHA256 over @body. For
 * %ASTRA_SIGNATURE_SCHEME_STANDARD_WEBHOOKS it returns
 * `v1,<base64 HMAC-SHA256 of "msg_id.timestamp.body">` for each secret, in
 * the order the secrets were added, separated by single spaces: during a
 * rotation the old secret stays first, so a receiver that (wrongly) only
 * checks the first entry keeps working until the old secret is removed.
 *
 * Returns: (transfer full): the signature header value, or %NULL if OpenSSL
 *   failed (which is logged)
 *
 * Since: 1.0
 */
char *
astra_signer_sign (AstraSigner *self,
		   const char *msg_id,
		   gint64 timestamp,
		   const guint8 *body,
		   gsize body_len)
{
	g_autoptr(GError) error_local = NULL;
	char *sig;

	g_return_val_if_fail (ASTRA_IS_SIGNER (self), NULL);
	g_return_val_if_fail (self->ctxs->len > 0, NULL);
	g_return_val_if_fail (body != NULL || body_len == 0, NULL);
	if (self->scheme == ASTRA_SIGNATURE_SCHEME_STANDARD_WEBHOOKS) {
		g_return_val_if_fail (msg_id != NULL, NULL);
		g_return_val_if_fail (strchr (msg_id, '.') == NULL, NULL);
	}

	sig = astra_signer_sign_internal (self, msg_id, timestamp, body, body_len, &error_local);
	if (sig == NULL)
		g_warning ("failed to sign: %s", error_local->message);
	return sig;
}

/**
 * astra_signer_sign_request:
 * @self: an #AstraSigner
 * @request: an #AstraRequest whose body is final
 * @msg_id: the message id, the same on every attempt; no `.` in the
 *   Standard Webhooks scheme
 * @timestamp: Unix seconds of this attempt
 * @error: return location for a #GError
 *
 * Signs the current body of @request (an unset body is signed as empty) and
 * sets the scheme's headers, replacing earlier values: `X-Webhook-Id`,
 * `X-Webhook-Timestamp` and `X-Webhook-Signature` for
 * %ASTRA_SIGNATURE_SCHEME_ASTRA; `webhook-id`, `webhook-timestamp` and
 * `webhook-signature` for %ASTRA_SIGNATURE_SCHEME_STANDARD_WEBHOOKS. The
 * timestamp is sent as decimal Unix seconds. Call this for each attempt,
 * after the body is set.
 *
 * Returns: %TRUE on success; %FALSE with %ASTRA_ERROR_INVALID_CONFIG if the
 *   signer has no secret
 *
 * Since: 1.0
 */
gboolean
astra_signer_sign_request (AstraSigner *self,
			   AstraRequest *request,
			   const char *msg_id,
			   gint64 timestamp,
			   GError **error)
{
	GBytes *body;
	const guint8 *data = NULL;
	gsize len = 0;
	char ts[24];
	g_autofree char *sig = NULL;
	gboolean standard;

	g_return_val_if_fail (ASTRA_IS_SIGNER (self), FALSE);
	g_return_val_if_fail (ASTRA_IS_REQUEST (request), FALSE);
	g_return_val_if_fail (msg_id != NULL, FALSE);
	g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
	standard = self->scheme == ASTRA_SIGNATURE_SCHEME_STANDARD_WEBHOOKS;
	if (standard)
		g_return_val_if_fail (strchr (msg_id, '.') == NULL, FALSE);

	if (self->ctxs->len == 0) {
		g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
				     "no signing secret is configured");
		return FALSE;
	}
	body = astra_request_get_body (request);
	if (body != NULL)
		data = g_bytes_get_data (body, &len);
	sig = astra_signer_sign_internal (self, msg_id, timestamp, data, len, error);
	if (sig == NULL)
		return FALSE;
	astra_signer_format_timestamp (timestamp, ts);
	astra_request_set_header (request, standard ? "webhook-id" : "X-Webhook-Id", msg_id);
	astra_request_set_header (request, standard ? "webhook-timestamp" : "X-Webhook-Timestamp", ts);
	astra_request_set_header (request, standard ? "webhook-signature" : "X-Webhook-Signature", sig);
	return TRUE;
}

static gboolean
astra_signer_verify_astra (AstraSigner *self,
			   const guint8 *body,
			   gsize body_len,
			   const char *signature,
			   GError **error)
{
	guint8 expected[ASTRA_SIGNER_MAC_SIZE];
	guint8 given[ASTRA_SIGNER_MAC_SIZE];

	if (signature[0] == '\0') {
		g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_SIGNATURE,
				     "signature header is empty");
		return FALSE;
	}
	if (g_str_has_prefix (signature, "sha256="))
		signature += strlen ("sha256=");
	if (strlen (signature) != ASTRA_SIGNER_HEX_MAC_SIZE) {
		g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_SIGNATURE,
				     "malformed signature: expected 64 hex digits");
		return FALSE;
	}
	for (gsize i = 0; i < sizeof (given); i++) {
		gint hi = g_ascii_xdigit_value (signature[2 * i]);
		gint lo = g_ascii_xdigit_value (signature[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_SIGNATURE,
					     "malformed signature: expected 64 hex digits");
			return FALSE;
		}
		given[i] = (guint8) (hi << 4 | lo);
	}
	if (!astra_signer_mac (self, g_ptr_array_index (self->ctxs, 0), NULL, NULL, 0,
			       body, body_len, expected, error))
		return FALSE;
	if (CRYPTO_memcmp (expected, given, sizeof (expected)) != 0) {
		g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_SIGNATURE,
				     "signature does not match");
		return FALSE;
	}
	return TRUE;
}

static gboolean
astra_signer_verify_standard (AstraSigner *self,
			      const char *msg_id,
			      gint64 timestamp,
			      const guint8 *body,
			      gsize body_len,
			      const char *signature,
			      GError **error)
{
	g_autofree guint8 *expected = NULL;
	char ts[24];
	gsize ts_len;
	guint n_v1 = 0;
	guint n_v1_valid = 0;

	/* the id is joined with '.', so one containing '.' makes the signed content ambiguous */
	if (strchr (msg_id, '.') != NULL) {
		g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_SIGNATURE,
				     "invalid webhook id: it contains '.'");
		return FALSE;
	}

	/* like the reference libraries: the timestamp first, both directions */
	if (self->tolerance > 0) {
		gint64 now = g_get_real_time () / G_USEC_PER_SEC;
		if (timestamp < now - (gint64) self->tolerance) {
			g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_SIGNATURE,
				     "timestamp too old (%" G_GUINT64_FORMAT " s, tolerance %u s)",
				     (guint64) now - (guint64) timestamp, self->tolerance);
			return FALSE;
		}
		if (timestamp > now + (gint64) self->tolerance) {
			g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_SIGNATURE,
				     "timestamp too new (%" G_GUINT64_FORMAT " s in the future, tolerance %u s)",
				     (guint64) timestamp - (guint64) now, self->tolerance);
			return FALSE;
		}
	}

	ts_len = astra_signer_format_timestamp (timestamp, ts);
	for (const char *p = signature; *p != '\0';) {
		const char *end = strchr (p, ' ');
		gsize len = end != NULL ? (gsize) (end - p) : strlen (p);
		const char *comma = memchr (p, ',', len);
		guint8 given[ASTRA_SIGNER_MAC_SIZE + 3];
		gsize given_len = 0;
		const char *why = NULL;

		/* only v1 entries count; other versions (e.g. v1a, ed25519) are skipped */
		if (comma != NULL && comma - p == 2 && memcmp (p, "v1", 2) == 0) {
			const char *value = comma + 1;
			gsize value_len = len - 3;

			n_v1++;
			if (value_len == ASTRA_SIGNER_B64_MAC_SIZE &&
			    astra_signer_base64_decode (value, value_len, given, sizeof (given),
							&given_len, &why) &&
			    given_len == ASTRA_SIGNER_MAC_SIZE) {
				n_v1_valid++;
				/* computed once, for the first well-formed entry */
				if (expected == NULL) {
					expected = g_malloc (self->ctxs->len * ASTRA_SIGNER_MAC_SIZE);
					for (guint i = 0; i < self->ctxs->len; i++) {
						if (!astra_signer_mac (self, g_ptr_array_index (self->ctxs, i),
								       msg_id, ts, ts_len, body, body_len,
								       expected + i * ASTRA_SIGNER_MAC_SIZE,
								       error))
							return FALSE;
					}
				}
				for (guint i = 0; i < self->ctxs->len; i++) {
					if (CRYPTO_memcmp (expected + i * ASTRA_SIGNER_MAC_SIZE, given,
							   ASTRA_SIGNER_MAC_SIZE) == 0)
						return TRUE;
				}
			}
		}
		p += len;
		while (*p == ' ')
			p++;
	}

	if (n_v1 == 0) {
		g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_SIGNATURE,
				     "no v1 signature in header");
		return FALSE;
	}
	if (n_v1_valid == 0) {
		g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_SIGNATURE,
				     "malformed v1 signature in header: expected base64 of 32 bytes");
		return FALSE;
	}
	g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_SIGNATURE,
			     "signature does not match");
	return FALSE;
}

/**
 * astra_signer_verify:
 * @self: an #AstraSigner
 * @msg_id: (nullable): the received message id; a Standard Webhooks
 *   message without one fails verification; ignored in the astra scheme
 * @timestamp: the received timestamp, Unix seconds; ignored in the astra
 *   scheme, where it is not signed
 * @body: (array length=body_len) (nullable): the raw received body bytes
 * @body_len: length of @body
 * @signature: (nullable): the received signature header value; %NULL if
 *   the request had none
 * @error: return location for a #GError
 *
 * Verifies a received webhook in constant time (the MACs are compared
 * decoded, with CRYPTO_memcmp()).
 *
 * For %ASTRA_SIGNATURE_SCHEME_ASTRA @signature is 64 hex digits of either
 * case, optionally prefixed with `sha256=` as GitHub sends them.
 *
 * For %ASTRA_SIGNATURE_SCHEME_STANDARD_WEBHOOKS @signature is a
 * space-separated list of `version,signature` entries; entries of versions
 * other than `v1` are ignored and the message is accepted if any `v1` entry
 * matches any secret. @timestamp must also be within the tolerance (see
 * astra_signer_set_tolerance()) of the local clock, in the past or in the
 * future.
 *
 * Errors are %ASTRA_ERROR_SIGNATURE (or %ASTRA_ERROR_INVALID_CONFIG if the
 * signer has no secret) and never contain the expected signature.
 *
 * Returns: %TRUE if the signature is valid
 *
 * Since: 1.0
 */
gboolean
astra_signer_verify (AstraSigner *self,
		     const char *msg_id,
		     gint64 timestamp,
		     const guint8 *body,
		     gsize body_len,
		     const char *signature,
		     GError **error)
{
	g_return_val_if_fail (ASTRA_IS_SIGNER (self), FALSE);
	g_return_val_if_fail (body != NULL || body_len == 0, FALSE);
	g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

	if (self->ctxs->len == 0) {
		g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
				     "no signing secret is configured");
		return FALSE;
	}
	/* the values come from the network: a missing header is a bad request, not a programming error */
	if (signature == NULL) {
		g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_SIGNATURE, "no signature header");
		return FALSE;
	}
	if (self->scheme == ASTRA_SIGNATURE_SCHEME_ASTRA)
		return astra_signer_verify_astra (self, body, body_len, signature, error);
	if (msg_id == NULL) {
		g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_SIGNATURE, "no webhook-id header");
		return FALSE;
	}
	return astra_signer_verify_standard (self, msg_id, timestamp, body, body_len, signature, error);
}
