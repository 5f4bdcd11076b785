/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <check.h>
#include <gmodule.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "astra.h"
#include "astra-check-common.h"

/* the Standard Webhooks library's known-answer vector (libraries/javascript/src/webhook.test.ts) */
#define SW_SECRET    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define SW_MSG_ID    "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define SW_TIMESTAMP G_GINT64_CONSTANT (1614265330)
#define SW_BODY      "{\"test\": 2432232314}"
#define SW_SIGNATURE "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

static AstraSigner *
signer_new_with (AstraSignatureScheme scheme, const char *secret)
{
	g_autoptr(AstraSigner) signer = astra_signer_new (scheme);
	g_autoptr(GError) error = NULL;

	ck_assert_msg (astra_signer_add_secret (signer, secret, &error), "%s",
		       error != NULL ? error->message : "");
	return g_steal_pointer (&signer);
}

static char *
sign_str (AstraSigner *signer, const char *msg_id, gint64 timestamp, const char *body)
{
	return astra_signer_sign (signer, msg_id, timestamp, (const guint8 *) body, strlen (body));
}

static gboolean
verify_str (AstraSigner *signer,
	    const char *msg_id,
	    gint64 timestamp,
	    const char *body,
	    const char *signature,
	    GError **error)
{
	return astra_signer_verify (signer, msg_id, timestamp, (const guint8 *) body, strlen (body),
				    signature, error);
}

static gint64
now_seconds (void)
{
	return g_get_real_time () / G_USEC_PER_SEC;
}

/* checks a failed verify: its code, a fragment of its message, and that it reveals nothing */
static void
assert_verify_fails (AstraSigner *signer,
		     const char *msg_id,
		     gint64 timestamp,
		     const char *body,
		     const char *signature,
		     const char *message_part,
		     const char *expected_sig)
{
	g_autoptr(GError) error = NULL;

	ck_assert_msg (!verify_str (signer, msg_id, timestamp, body, signature, &error),
		       "verify of '%s' unexpectedly passed", signature);
	ck_assert_ptr_nonnull (error);
	ck_assert_msg (g_error_matches (error, ASTRA_ERROR, ASTRA_ERROR_SIGNATURE),
		       "unexpected error %s", error->message);
	ck_assert_msg (strstr (error->message, message_part) != NULL,
		       "'%s' does not contain '%s'", error->message, message_part);
	if (expected_sig != NULL) {
		/* compare without the "v1," prefix: the bare MAC must not leak either */
		const char *bare = g_str_has_prefix (expected_sig, "v1,") ? expected_sig + 3 : expected_sig;
		ck_assert_msg (strstr (error->message, bare) == NULL, "error leaks the expected MAC");
	}
}

/* no 5-character window of the secret may appear in the message (not even a prefix) */
static void
assert_no_secret_in (const char *message, const char *secret)
{
	gsize len;

	/* the prefix is not secret and error messages may name it */
	while (g_str_has_prefix (secret, "whsec_"))
		secret += strlen ("whsec_");
	len = strlen (secret);
	if (len < 5) {
		ck_assert_msg (len == 0 || strstr (message, secret) == NULL, "'%s' leaks the secret", message);
		return;
	}
	for (gsize i = 0; i + 5 <= len; i++) {
		g_autofree char *window = g_strndup (secret + i, 5);
		ck_assert_msg (strstr (message, window) == NULL,
			       "'%s' leaks part of the secret ('%s')", message, window);
	}
}

static char *
whsec_from_bytes (const guint8 *key, gsize len)
{
	g_autofree char *b64 = g_base64_encode (key, len);
	return g_strconcat ("whsec_", b64, NULL);
}

/* g_return_val_if_fail() checks: counted through a handler, with criticals made non-fatal */
static guint n_criticals = 0;

static void
count_critical_cb (const char *log_domain, GLogLevelFlags log_level, const char *message, gpointer user_data)
{
	n_criticals++;
}

typedef struct {
	GLogLevelFlags old_fatal;
	guint handler_id;
} CriticalCatcher;

static void
critical_catcher_begin (CriticalCatcher *catcher)
{
	n_criticals = 0;
	catcher->old_fatal = g_log_set_always_fatal (G_LOG_LEVEL_ERROR);
	catcher->handler_id = g_log_set_handler ("astra-sdk", G_LOG_LEVEL_CRITICAL, count_critical_cb, NULL);
}

static void
critical_catcher_end (CriticalCatcher *catcher)
{
	g_log_remove_handler ("astra-sdk", catcher->handler_id);
	g_log_set_always_fatal (catcher->old_fatal);
}

typedef struct {
	const guint8 *key;
	gsize key_len;
	const char *data;
	gsize data_len;
	const char *hex;
} Rfc4231Case;

START_TEST (test_rfc4231)
{
	guint8 key_0b[20], key_aa20[20], key_0c[20], key_aa131[131], key_01_19[25];
	guint8 data_dd[50], data_cd[50];
	static const char data6[] = "Test Using Larger Than Block-Size Key - Hash Key First";
	static const char data7[] =
	    "This is a test using a larger than block-size key and a larger than block-size data. "
	    "The key needs to be hashed before being used by the HMAC algorithm.";
	Rfc4231Case cases[7];

	memset (key_0b, 0x0b, sizeof (key_0b));
	memset (key_aa20, 0xaa, sizeof (key_aa20));
	memset (key_0c, 0x0c, sizeof (key_0c));
	memset (key_aa131, 0xaa, sizeof (key_aa131));
	for (guint i = 0; i < sizeof (key_01_19); i++)
		key_01_19[i] = (guint8) (i + 1);
	memset (data_dd, 0xdd, sizeof (data_dd));
	memset (data_cd, 0xcd, sizeof (data_cd));

	cases[0] = (Rfc4231Case) {key_0b, sizeof (key_0b), "Hi There", 8,
				  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"};
	cases[1] = (Rfc4231Case) {(const guint8 *) "Jefe", 4, "what do ya want for nothing?", 28,
				  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"};
	cases[2] = (Rfc4231Case) {key_aa20, sizeof (key_aa20), (const char *) data_dd, sizeof (data_dd),
				  "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"};
	cases[3] = (Rfc4231Case) {key_01_19, sizeof (key_01_19), (const char *) data_cd, sizeof (data_cd),
				  "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"};
	/* case 5 specifies only the 128-bit truncation */
	cases[4] = (Rfc4231Case) {key_0c, sizeof (key_0c), "Test With Truncation", 20,
				  "a3b6167473100ee06e0c796c2955552b"};
	cases[5] = (Rfc4231Case) {key_aa131, sizeof (key_aa131), data6, strlen (data6),
				  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"};
	cases[6] = (Rfc4231Case) {key_aa131, sizeof (key_aa131), data7, strlen (data7),
				  "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"};

	/*
	 * The RFC 4231 keys are binary but none contains a NUL byte, so each one
	 * goes through the public API unchanged as a NUL-terminated string in the
	 * astra scheme, which keys HMAC with the secret's bytes as written and
	 * MACs the body alone (a whsec_ route could not be used: it MACs
	 * "id.timestamp.body" and requires 24..64-byte keys).
	 */
	for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
		g_autofree char *secret = g_strndup ((const char *) cases[i].key, cases[i].key_len);
		g_autoptr(AstraSigner) signer = NULL;
		g_autofree char *sig = NULL;

		ck_assert_uint_eq (strlen (secret), cases[i].key_len);
		signer = signer_new_with (ASTRA_SIGNATURE_SCHEME_ASTRA, secret);
		sig = astra_signer_sign (signer, "msg_rfc4231", 0, (const guint8 *) cases[i].data,
					 cases[i].data_len);
		ck_assert_ptr_nonnull (sig);
		ck_assert_uint_eq (strlen (sig), 64);
		ck_assert_msg (strncmp (sig, cases[i].hex, strlen (cases[i].hex)) == 0,
			       "RFC 4231 case %u: got %s, expected %s", i + 1, sig, cases[i].hex);
		ck_assert (astra_signer_verify (signer, NULL, 0, (const guint8 *) cases[i].data,
						cases[i].data_len, sig, NULL));
	}
}
END_TEST

START_TEST (test_github_vector)
{
	g_autoptr(AstraSigner) signer = signer_new_with (ASTRA_SIGNATURE_SCHEME_ASTRA,
							"It's a Secret to Everybody");
	g_autofree char *sig = NULL;
	g_autofree char *upper = NULL;
	g_autofree char *prefixed = NULL;
	g_autoptr(GError) error = NULL;

	ck_assert_int_eq (astra_signer_get_scheme (signer), ASTRA_SIGNATURE_SCHEME_ASTRA);
	ck_assert_uint_eq (astra_signer_get_n_secrets (signer), 1);

	/* the astra scheme signs neither id nor timestamp */
	sig = sign_str (signer, NULL, 0, "Hello, World!");
	ck_assert_str_eq (sig, "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
	g_free (sig);
	sig = sign_str (signer, "msg_x", 1700000000, "Hello, World!");
	ck_assert_str_eq (sig, "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");

	/* as GitHub sends it, and in upper case */
	prefixed = g_strconcat ("sha256=", sig, NULL);
	upper = g_ascii_strup (sig, -1);
	ck_assert (verify_str (signer, NULL, 0, "Hello, World!", sig, &error));
	ck_assert (verify_str (signer, "any", 12345, "Hello, World!", prefixed, &error));
	ck_assert (verify_str (signer, NULL, 0, "Hello, World!", upper, &error));
	ck_assert_ptr_null (error);
}
END_TEST

START_TEST (test_standard_vector)
{
	g_autoptr(AstraSigner) signer = signer_new_with (ASTRA_SIGNATURE_SCHEME_STANDARD_WEBHOOKS, SW_SECRET);
	g_autoptr(AstraSigner) bare = NULL;
	g_autofree char *sig = NULL;
	g_autofree char *sig_bare = NULL;
	g_autoptr(GError) error = NULL;

	ck_assert_int_eq (astra_signer_get_scheme (signer), ASTRA_SIGNATURE_SCHEME_STANDARD_WEBHOOKS);
	sig = sign_str (signer, SW_MSG_ID, SW_TIMESTAMP, SW_BODY);
	ck_assert_str_eq (sig, SW_SIGNATURE);

	/* the whsec_ prefix is optional */
	bare = signer_new_with (ASTRA_SIGNATURE_SCHEME_STANDARD_WEBHOOKS, SW_SECRET + strlen ("whsec_"));
	sig_bare = sign_str (bare, SW_MSG_ID, SW_TIMESTAMP, SW_BODY);
	ck_assert_str_eq (sig_bare, SW_SIGNATURE);

	astra_signer_set_tolerance (signer, 0);
	ck_assert (verify_str (signer, SW_MSG_ID, SW_TIMESTAMP, SW_BODY, SW_SIGNATURE, &error));
	ck_assert_ptr_null (error);

	/* several entries, other versions, stray spaces: any matching v1 entry is enough */
	ck_assert (verify_str (signer, SW_MSG_ID, SW_TIMESTAMP, SW_BODY,
			       "v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg== "
			       "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4= " SW_SIGNATURE,
			       &error));
	ck_assert (verify_str (signer, SW_MSG_ID, SW_TIMESTAMP, SW_BODY, "  " SW_SIGNATURE "  ", &error));
	ck_assert_ptr_null (error);

	/* with the default tolerance the 2021 vector is long expired */
	astra_signer_set_tolerance (signer, ASTRA_SIGNER_DEFAULT_TOLERANCE);
	assert_verify_fails (signer, SW_MSG_ID, SW_TIMESTAMP, SW_BODY, SW_SIGNATURE,
			     "timestamp too old", NULL);
}
END_TEST

START_TEST (test_verify_negative_standard)
{
	g_autoptr(AstraSigner) signer = signer_new_with (ASTRA_SIGNATURE_SCHEME_STANDARD_WEBHOOKS, SW_SECRET);
	g_autoptr(AstraSigner) other = signer_new_with (ASTRA_SIGNATURE_SCHEME_STANDARD_WEBHOOKS,
						       "whsec_c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seS0xMjM0");
	g_autofree char *other_sig = sign_str (other, SW_MSG_ID, SW_TIMESTAMP, SW_BODY);
	const char *body_tampered = "{\"test\": 2432232315}";

	astra_signer_set_tolerance (signer, 0);
	assert_verify_fails (signer, SW_MSG_ID, SW_TIMESTAMP, body_tampered, SW_SIGNATURE,
			     "signature does not match", SW_SIGNATURE);
	assert_verify_fails (signer, SW_MSG_ID, SW_TIMESTAMP, SW_BODY, other_sig,
			     "signature does not match", SW_SIGNATURE);
	assert_verify_fails (signer, "msg_p5jXN8AQM9LWM0D4loKWxJeK", SW_TIMESTAMP, SW_BODY, SW_SIGNATURE,
			     "signature does not match", NULL);
	assert_verify_fails (signer, SW_MSG_ID, SW_TIMESTAMP + 1, SW_BODY, SW_SIGNATURE,
			     "signature does not match", NULL);
	assert_verify_fails (signer, "msg.p5", SW_TIMESTAMP, SW_BODY, SW_SIGNATURE, "contains '.'", NULL);

	/* empty and malformed headers */
	assert_verify_fails (signer, SW_MSG_ID, SW_TIMESTAMP, SW_BODY, "", "no v1 signature in header", NULL);
	assert_verify_fails (signer, SW_MSG_ID, SW_TIMESTAMP, SW_BODY, "   ", "no v1 signature in header", NULL);
	assert_verify_fails (signer, SW_MSG_ID, SW_TIMESTAMP, SW_BODY, "v1", "no v1 signature in header", NULL);
	assert_verify_fails (signer, SW_MSG_ID, SW_TIMESTAMP, SW_BODY,
			     "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", "no v1 signature in header", NULL);
	assert_verify_fails (signer, SW_MSG_ID, SW_TIMESTAMP, SW_BODY,
			     "V1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", "no v1 signature in header", NULL);
	assert_verify_fails (signer, SW_MSG_ID, SW_TIMESTAMP, SW_BODY,
			     "v1=g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", "no v1 signature in header", NULL);
	assert_verify_fails (signer, SW_MSG_ID, SW_TIMESTAMP, SW_BODY,
			     "v1a,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= v2,abc", "no v1 signature in header",
			     NULL);
	assert_verify_fails (signer, SW_MSG_ID, SW_TIMESTAMP, SW_BODY, "v1,", "malformed v1 signature", NULL);
	assert_verify_fails (signer, SW_MSG_ID, SW_TIMESTAMP, SW_BODY, "v1,!!!!", "malformed v1 signature", NULL);
	/* truncated, unpadded, URL-safe alphabet, trailing garbage */
	assert_verify_fails (signer, SW_MSG_ID, SW_TIMESTAMP, SW_BODY,
			     "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE", "malformed v1 signature", NULL);
	assert_verify_fails (signer, SW_MSG_ID, SW_TIMESTAMP, SW_BODY,
			     "v1,g0hM9SsE-OTPJTGt_tmIKtSyZlE3uFJELVlNIOLJ1OE=", "malformed v1 signature", NULL);
	assert_verify_fails (signer, SW_MSG_ID, SW_TIMESTAMP, SW_BODY,
			     "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=x", "malformed v1 signature", NULL);
	assert_verify_fails (signer, SW_MSG_ID, SW_TIMESTAMP, SW_BODY,
			     "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OF=", "malformed v1 signature", NULL);
	/* every byte counts: the first and the last */
	assert_verify_fails (signer, SW_MSG_ID, SW_TIMESTAMP, SW_BODY,
			     "v1,h0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", "signature does not match", NULL);
	assert_verify_fails (signer, SW_MSG_ID, SW_TIMESTAMP, SW_BODY,
			     "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=", "signature does not match", NULL);
	/* a well-formed wrong entry next to malformed ones still reads as a mismatch */
	assert_verify_fails (signer, SW_MSG_ID, SW_TIMESTAMP, SW_BODY,
			     "v1,!!!! v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=", "signature does not match",
			     SW_SIGNATURE);
}
END_TEST

START_TEST (test_verify_tolerance)
{
	g_autoptr(AstraSigner) signer = signer_new_with (ASTRA_SIGNATURE_SCHEME_STANDARD_WEBHOOKS, SW_SECRET);
	gint64 now = now_seconds ();
	/* margins of 100 s either side of the 300 s limit keep this independent of clock ticks */
	gint64 ok[] = {now, now - 200, now + 200};
	gint64 old = now - 400;
	gint64 future = now + 400;
	g_autofree char *sig_old = sign_str (signer, SW_MSG_ID, old, SW_BODY);
	g_autofree char *sig_future = sign_str (signer, SW_MSG_ID, future, SW_BODY);
	g_autofree char *sig_min = sign_str (signer, SW_MSG_ID, G_MININT64, SW_BODY);
	g_autofree char *sig_max = sign_str (signer, SW_MSG_ID, G_MAXINT64, SW_BODY);
	g_autoptr(GError) error = NULL;

	for (guint i = 0; i < G_N_ELEMENTS (ok); i++) {
		g_autofree char *sig = sign_str (signer, SW_MSG_ID, ok[i], SW_BODY);
		ck_assert (verify_str (signer, SW_MSG_ID, ok[i], SW_BODY, sig, &error));
		ck_assert_ptr_null (error);
	}
	assert_verify_fails (signer, SW_MSG_ID, old, SW_BODY, sig_old, "timestamp too old", sig_old);
	assert_verify_fails (signer, SW_MSG_ID, old, SW_BODY, sig_old, "tolerance 300 s", NULL);
	assert_verify_fails (signer, SW_MSG_ID, future, SW_BODY, sig_future, "timestamp too new", sig_future);
	assert_verify_fails (signer, SW_MSG_ID, G_MININT64, SW_BODY, sig_min, "timestamp too old", NULL);
	assert_verify_fails (signer, SW_MSG_ID, G_MAXINT64, SW_BODY, sig_max, "timestamp too new", NULL);

	/* a wider tolerance accepts them, 0 disables the check */
	astra_signer_set_tolerance (signer, 500);
	ck_assert (verify_str (signer, SW_MSG_ID, old, SW_BODY, sig_old, NULL));
	ck_assert (verify_str (signer, SW_MSG_ID, future, SW_BODY, sig_future, NULL));
	astra_signer_set_tolerance (signer, 0);
	ck_assert (verify_str (signer, SW_MSG_ID, G_MININT64, SW_BODY, sig_min, NULL));
	ck_assert (verify_str (signer, SW_MSG_ID, G_MAXINT64, SW_BODY, sig_max, NULL));
	ck_assert (g_str_has_prefix (sig_min, "v1,"));
}
END_TEST

START_TEST (test_verify_negative_astra)
{
	g_autoptr(AstraSigner) signer = signer_new_with (ASTRA_SIGNATURE_SCHEME_ASTRA, "It's a Secret to Everybody");
	g_autoptr(AstraSigner) other = signer_new_with (ASTRA_SIGNATURE_SCHEME_ASTRA, "It's a Secret to Nobody");
	const char *good = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
	g_autofree char *other_sig = sign_str (other, NULL, 0, "Hello, World!");

	assert_verify_fails (signer, NULL, 0, "Hello, World?", good, "signature does not match", good);
	assert_verify_fails (signer, NULL, 0, "Hello, World!", other_sig, "signature does not match", good);
	/* every byte counts: the first and the last */
	assert_verify_fails (signer, NULL, 0, "Hello, World!",
			     "857107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
			     "signature does not match", good);
	assert_verify_fails (signer, NULL, 0, "Hello, World!",
			     "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e18",
			     "signature does not match", good);
	assert_verify_fails (signer, NULL, 0, "Hello, World!", "", "empty", NULL);
	assert_verify_fails (signer, NULL, 0, "Hello, World!", "sha256=", "malformed signature", NULL);
	assert_verify_fails (signer, NULL, 0, "Hello, World!",
			     "sha1=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
			     "malformed signature", NULL);
	assert_verify_fails (signer, NULL, 0, "Hello, World!",
			     "SHA256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
			     "malformed signature", NULL);
	assert_verify_fails (signer, NULL, 0, "Hello, World!",
			     "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e1",
			     "malformed signature", NULL);
	assert_verify_fails (signer, NULL, 0, "Hello, World!",
			     "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e170",
			     "malformed signature", NULL);
	assert_verify_fails (signer, NULL, 0, "Hello, World!",
			     "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e1g",
			     "malformed signature", NULL);
	assert_verify_fails (signer, NULL, 0, "Hello, World!",
			     " 757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
			     "malformed signature", NULL);
	assert_verify_fails (signer, NULL, 0, "Hello, World!",
			     "v1,dXEH6g6yUJ/CESIcznmLSjdXC211hsIsRvQ3nIsEPhc=", "malformed signature", NULL);
}
END_TEST

START_TEST (test_rotation)
{
	g_autoptr(AstraSigner) both = astra_signer_new (ASTRA_SIGNATURE_SCHEME_STANDARD_WEBHOOKS);
	g_autoptr(AstraSigner) old_only = signer_new_with (ASTRA_SIGNATURE_SCHEME_STANDARD_WEBHOOKS, SW_SECRET);
	g_autoptr(AstraSigner) new_only = NULL;
	const char *new_secret = "whsec_c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seS0xMjM0";
	g_autofree char *sig = NULL;
	g_autofree char *sig_new = NULL;
	g_auto(GStrv) parts = NULL;
	g_autoptr(GError) error = NULL;

	ck_assert (astra_signer_add_secret (both, SW_SECRET, &error));
	ck_assert (astra_signer_add_secret (both, new_secret, &error));
	ck_assert_ptr_null (error);
	ck_assert_uint_eq (astra_signer_get_n_secrets (both), 2);
	new_only = signer_new_with (ASTRA_SIGNATURE_SCHEME_STANDARD_WEBHOOKS, new_secret);

	/* one entry per secret, in the order added */
	sig = sign_str (both, SW_MSG_ID, SW_TIMESTAMP, SW_BODY);
	sig_new = sign_str (new_only, SW_MSG_ID, SW_TIMESTAMP, SW_BODY);
	parts = g_strsplit (sig, " ", -1);
	ck_assert_uint_eq (g_strv_length (parts), 2);
	ck_assert_str_eq (parts[0], SW_SIGNATURE);
	ck_assert_str_eq (parts[1], sig_new);
	ck_assert_str_ne (parts[0], parts[1]);

	astra_signer_set_tolerance (both, 0);
	astra_signer_set_tolerance (old_only, 0);
	astra_signer_set_tolerance (new_only, 0);
	/* receivers on either secret accept the combined header; a rotating receiver accepts either */
	ck_assert (verify_str (old_only, SW_MSG_ID, SW_TIMESTAMP, SW_BODY, sig, NULL));
	ck_assert (verify_str (new_only, SW_MSG_ID, SW_TIMESTAMP, SW_BODY, sig, NULL));
	ck_assert (verify_str (both, SW_MSG_ID, SW_TIMESTAMP, SW_BODY, parts[0], NULL));
	ck_assert (verify_str (both, SW_MSG_ID, SW_TIMESTAMP, SW_BODY, parts[1], NULL));
	ck_assert (verify_str (both, SW_MSG_ID, SW_TIMESTAMP, SW_BODY, sig, NULL));
	assert_verify_fails (both, SW_MSG_ID, SW_TIMESTAMP, "{}", sig, "signature does not match", NULL);
}
END_TEST

START_TEST (test_invalid_secrets)
{
	guint8 key[65];
	g_autofree char *short_key = NULL;
	g_autofree char *long_key = NULL;
	g_autofree char *min_key = NULL;
	g_autofree char *max_key = NULL;
	const char *bad[] = {
	    "",
	    "whsec_",
	    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS!",  /* outside the alphabet */
	    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS",   /* truncated */
	    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw ", /* trailing space */
	    "whsec_MfKQ9r8GKYqr TwjUPD8ILPZIo2LaLaSw",
	    "whsec_MfKQ9r8GKYqrTwjU-D8ILPZIo2LaLa_w",  /* URL-safe alphabet */
	    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwQkZ=QkZG", /* misplaced padding */
	    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwQkZGRw=", /* bad padding (one short) */
	    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwQkZGRx==", /* non-canonical pad bits */
	    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwQkZGRw===",
	    "whsec_====",
	    "whsec_whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
	    NULL, /* 23 bytes */
	    NULL, /* 65 bytes */
	};

	for (guint i = 0; i < sizeof (key); i++)
		key[i] = (guint8) (0x5a ^ (i * 37));
	short_key = whsec_from_bytes (key, 23);
	long_key = whsec_from_bytes (key, 65);
	min_key = whsec_from_bytes (key, 24);
	max_key = whsec_from_bytes (key, 64);
	bad[G_N_ELEMENTS (bad) - 2] = short_key;
	bad[G_N_ELEMENTS (bad) - 1] = long_key;

	for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
		g_autoptr(AstraSigner) signer = astra_signer_new (ASTRA_SIGNATURE_SCHEME_STANDARD_WEBHOOKS);
		g_autoptr(GError) error = NULL;

		ck_assert_msg (!astra_signer_add_secret (signer, bad[i], &error), "secret %u was accepted", i);
		ck_assert_msg (g_error_matches (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG),
			       "secret %u: %s", i, error->message);
		ck_assert_uint_eq (astra_signer_get_n_secrets (signer), 0);
		assert_no_secret_in (error->message, bad[i]);
	}
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(AstraSigner) signer = astra_signer_new (ASTRA_SIGNATURE_SCHEME_STANDARD_WEBHOOKS);
		ck_assert (!astra_signer_add_secret (signer, short_key, &error));
		ck_assert_msg (strstr (error->message, "23 bytes") != NULL, "%s", error->message);
		g_clear_error (&error);
		ck_assert (!astra_signer_add_secret (signer, long_key, &error));
		ck_assert_msg (strstr (error->message, "65 bytes") != NULL, "%s", error->message);
	}

	/* the spec's bounds themselves are accepted */
	{
		g_autoptr(AstraSigner) signer = astra_signer_new (ASTRA_SIGNATURE_SCHEME_STANDARD_WEBHOOKS);
		g_autoptr(GError) error = NULL;
		ck_assert (astra_signer_add_secret (signer, min_key, &error));
		ck_assert (astra_signer_add_secret (signer, max_key, &error));
		ck_assert (astra_signer_add_secret (signer, max_key + strlen ("whsec_"), &error));
		ck_assert_ptr_null (error);
		ck_assert_uint_eq (astra_signer_get_n_secrets (signer), 3);
	}

	/* astra scheme: one non-empty secret */
	{
		g_autoptr(AstraSigner) signer = astra_signer_new (ASTRA_SIGNATURE_SCHEME_ASTRA);
		g_autoptr(GError) error = NULL;
		const char *second = "Zq8rT3vXw9Lp2Km7Nc4B";

		ck_assert (!astra_signer_add_secret (signer, "", &error));
		ck_assert (g_error_matches (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG));
		g_clear_error (&error);
		ck_assert_uint_eq (astra_signer_get_n_secrets (signer), 0);

		ck_assert (astra_signer_add_secret (signer, "Hk3mP9sQ2wE7rT5yU1iO", &error));
		ck_assert (!astra_signer_add_secret (signer, second, &error));
		ck_assert (g_error_matches (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG));
		ck_assert_msg (strstr (error->message, "one secret") != NULL, "%s", error->message);
		ck_assert_msg (strstr (error->message, "signature = standard-webhooks") != NULL, "%s",
			       error->message);
		assert_no_secret_in (error->message, second);
		assert_no_secret_in (error->message, "Hk3mP9sQ2wE7rT5yU1iO");
		ck_assert_uint_eq (astra_signer_get_n_secrets (signer), 1);
	}
}
END_TEST

typedef struct {
	GString *all;
	guint n;
} HeaderCollect;

static void
collect_header_cb (const char *name, const char *value, gpointer user_data)
{
	HeaderCollect *collect = user_data;

	g_string_append_printf (collect->all, "%s: %s\n", name, value);
	collect->n++;
}

static char *
request_headers (AstraRequest *request, guint *n)
{
	HeaderCollect collect = {g_string_new (NULL), 0};

	astra_request_foreach_header (request, collect_header_cb, &collect);
	*n = collect.n;
	return g_string_free (collect.all, FALSE);
}

START_TEST (test_sign_request)
{
	g_autoptr(AstraSigner) astra = signer_new_with (ASTRA_SIGNATURE_SCHEME_ASTRA, "It's a Secret to Everybody");
	g_autoptr(AstraSigner) standard = signer_new_with (ASTRA_SIGNATURE_SCHEME_STANDARD_WEBHOOKS, SW_SECRET);
	g_autoptr(AstraSigner) empty = astra_signer_new (ASTRA_SIGNATURE_SCHEME_STANDARD_WEBHOOKS);
	g_autoptr(AstraRequest) request = astra_request_new ();
	g_autoptr(AstraRequest) request2 = astra_request_new ();
	g_autoptr(AstraRequest) request3 = astra_request_new ();
	g_autoptr(GBytes) body = g_bytes_new_static ("Hello, World!", 13);
	g_autoptr(GBytes) sw_body = g_bytes_new_static (SW_BODY, strlen (SW_BODY));
	g_autoptr(GError) error = NULL;
	g_autofree char *headers = NULL;
	guint n = 0;

	astra_request_set_body (request, body, "text/plain");
	ck_assert (astra_signer_sign_request (astra, request, "msg_1", 1700000000, &error));
	ck_assert_ptr_null (error);
	headers = request_headers (request, &n);
	ck_assert_uint_eq (n, 3);
	ck_assert_str_eq (headers,
			  "X-Webhook-Id: msg_1\n"
			  "X-Webhook-Timestamp: 1700000000\n"
			  "X-Webhook-Signature: 757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17\n");
	/* each attempt replaces the previous attempt's headers */
	ck_assert (astra_signer_sign_request (astra, request, "msg_1", 1700000042, &error));
	g_free (headers);
	headers = request_headers (request, &n);
	ck_assert_uint_eq (n, 3);
	ck_assert_str_eq (astra_request_get_header (request, "x-webhook-timestamp"), "1700000042");

	astra_request_set_header (request2, "X-Custom", "kept");
	astra_request_set_body (request2, sw_body, "application/json");
	ck_assert (astra_signer_sign_request (standard, request2, SW_MSG_ID, SW_TIMESTAMP, &error));
	g_free (headers);
	headers = request_headers (request2, &n);
	ck_assert_uint_eq (n, 4);
	ck_assert_str_eq (headers,
			  "X-Custom: kept\n"
			  "webhook-id: " SW_MSG_ID "\n"
			  "webhook-timestamp: 1614265330\n"
			  "webhook-signature: " SW_SIGNATURE "\n");
	ck_assert (g_bytes_equal (astra_request_get_body (request2), sw_body));

	/* an unset body is signed as empty */
	ck_assert (astra_signer_sign_request (astra, request3, "msg_2", 0, &error));
	ck_assert_str_eq (astra_request_get_header (request3, "X-Webhook-Signature"),
			  "66a0c074deaa0f489ead6537e0d32f9a344b90bbeda705b6ed45ecd3b413fb40");
	ck_assert (astra_signer_verify (astra, NULL, 0, NULL, 0,
					astra_request_get_header (request3, "X-Webhook-Signature"), NULL));

	/* no secret: an error, and the request is left alone */
	ck_assert (!astra_signer_sign_request (empty, request3, "msg_3", 0, &error));
	ck_assert (g_error_matches (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG));
	ck_assert_ptr_null (astra_request_get_header (request3, "webhook-id"));
}
END_TEST

START_TEST (test_programmer_errors)
{
	g_autoptr(AstraSigner) empty = astra_signer_new (ASTRA_SIGNATURE_SCHEME_STANDARD_WEBHOOKS);
	g_autoptr(AstraSigner) standard = signer_new_with (ASTRA_SIGNATURE_SCHEME_STANDARD_WEBHOOKS, SW_SECRET);
	g_autoptr(AstraRequest) request = astra_request_new ();
	CriticalCatcher catcher;
	char *sig;

	critical_catcher_begin (&catcher);
	sig = sign_str (empty, SW_MSG_ID, SW_TIMESTAMP, SW_BODY);
	ck_assert_ptr_null (sig);
	ck_assert_uint_eq (n_criticals, 1);
	sig = sign_str (standard, NULL, SW_TIMESTAMP, SW_BODY);
	ck_assert_ptr_null (sig);
	ck_assert_uint_eq (n_criticals, 2);
	sig = sign_str (standard, "msg.1", SW_TIMESTAMP, SW_BODY);
	ck_assert_ptr_null (sig);
	ck_assert_uint_eq (n_criticals, 3);
	ck_assert (!astra_signer_sign_request (standard, request, "msg.1", SW_TIMESTAMP, NULL));
	ck_assert_uint_eq (n_criticals, 4);
	ck_assert (!astra_signer_sign_request (standard, request, NULL, SW_TIMESTAMP, NULL));
	ck_assert_uint_eq (n_criticals, 5);
	critical_catcher_end (&catcher);
	ck_assert_ptr_null (astra_request_get_header (request, "webhook-signature"));
}
END_TEST

/* OpenSSL's one-shot HMAC() is the independent reference the signer must agree with */
static void
reference_hmac (const guint8 *key, gsize key_len, const guint8 *data, gsize data_len, guint8 *out)
{
	unsigned int out_len = 0;

	ck_assert_ptr_nonnull (HMAC (EVP_sha256 (), key, (int) key_len, data, data_len, out, &out_len));
	ck_assert_uint_eq (out_len, 32);
}

START_TEST (test_cross_check)
{
	g_autoptr(GRand) rand = g_rand_new_with_seed (0x5eed2024);

	for (guint i = 0; i < 1000; i++) {
		gsize body_len = (gsize) g_rand_int_range (rand, 0, 4097);
		gsize astra_key_len = (gsize) g_rand_int_range (rand, 1, 129);
		gsize sw_key_len = (gsize) g_rand_int_range (rand, 24, 65);
		g_autofree guint8 *body = g_malloc (body_len + 1);
		g_autofree char *astra_key = g_malloc (astra_key_len + 1);
		guint8 sw_key[64];
		guint8 mac[32];
		gsize mac_len = sizeof (mac);
		g_autofree char *sw_secret = NULL;
		g_autofree char *msg_id = g_strdup_printf ("msg_%u", i);
		gint64 timestamp = (gint64) g_rand_int (rand) * 3;
		g_autofree char *prefix = g_strdup_printf ("%s.%" G_GINT64_FORMAT ".", msg_id, timestamp);
		g_autoptr(GByteArray) content = g_byte_array_new ();
		g_autoptr(AstraSigner) astra = NULL;
		g_autoptr(AstraSigner) standard = NULL;
		g_autofree char *sig_astra = NULL;
		g_autofree char *sig_standard = NULL;
		g_autofree char *b64 = NULL;
		g_autofree char *expected_standard = NULL;
		g_autoptr(GHmac) ghmac = NULL;
		char hex[65];

		for (gsize j = 0; j < body_len; j++)
			body[j] = (guint8) g_rand_int_range (rand, 0, 256);
		for (gsize j = 0; j < astra_key_len; j++)
			astra_key[j] = (char) g_rand_int_range (rand, 1, 256); /* NUL-free */
		astra_key[astra_key_len] = '\0';
		for (gsize j = 0; j < sw_key_len; j++)
			sw_key[j] = (guint8) g_rand_int_range (rand, 0, 256);
		sw_secret = whsec_from_bytes (sw_key, sw_key_len);

		/* astra scheme: HMAC(key, body), hex */
		astra = signer_new_with (ASTRA_SIGNATURE_SCHEME_ASTRA, astra_key);
		sig_astra = astra_signer_sign (astra, msg_id, timestamp, body, body_len);
		reference_hmac ((const guint8 *) astra_key, astra_key_len, body, body_len, mac);
		for (guint j = 0; j < 32; j++)
			g_snprintf (hex + 2 * j, 3, "%02x", mac[j]);
		ck_assert_str_eq (sig_astra, hex);
		/* and GLib's independent implementation */
		ghmac = g_hmac_new (G_CHECKSUM_SHA256, (const guint8 *) astra_key, astra_key_len);
		g_hmac_update (ghmac, body, (gssize) body_len);
		ck_assert_str_eq (sig_astra, g_hmac_get_string (ghmac));

		/* standard webhooks: HMAC(decoded key, "id.timestamp.body"), base64 */
		standard = signer_new_with (ASTRA_SIGNATURE_SCHEME_STANDARD_WEBHOOKS, sw_secret);
		sig_standard = astra_signer_sign (standard, msg_id, timestamp, body, body_len);
		g_byte_array_append (content, (const guint8 *) prefix, (guint) strlen (prefix));
		g_byte_array_append (content, body, (guint) body_len);
		reference_hmac (sw_key, sw_key_len, content->data, content->len, mac);
		b64 = g_base64_encode (mac, mac_len);
		expected_standard = g_strconcat ("v1,", b64, NULL);
		ck_assert_str_eq (sig_standard, expected_standard);

		/* the reused contexts give the same answer again, and verify agrees */
		g_free (sig_astra);
		sig_astra = astra_signer_sign (astra, NULL, 0, body, body_len);
		ck_assert_str_eq (sig_astra, hex);
		astra_signer_set_tolerance (standard, 0);
		ck_assert (astra_signer_verify (standard, msg_id, timestamp, body, body_len, sig_standard, NULL));
		ck_assert (astra_signer_verify (astra, NULL, 0, body, body_len, sig_astra, NULL));
	}
}
END_TEST

static Suite *
signer_suite (void)
{
	Suite *s = suite_create ("signer");
	TCase *tc = tcase_create ("core");

	tcase_add_test (tc, test_rfc4231);
	tcase_add_test (tc, test_github_vector);
	tcase_add_test (tc, test_standard_vector);
	tcase_add_test (tc, test_verify_negative_standard);
	tcase_add_test (tc, test_verify_tolerance);
	tcase_add_test (tc, test_verify_negative_astra);
	tcase_add_test (tc, test_rotation);
	tcase_add_test (tc, test_invalid_secrets);
	tcase_add_test (tc, test_sign_request);
	tcase_add_test (tc, test_programmer_errors);
	tcase_add_test (tc, test_cross_check);
	suite_add_tcase (s, tc);
	return s;
}

int
main (void)
{
	return astra_check_run_suite (signer_suite ());
}
