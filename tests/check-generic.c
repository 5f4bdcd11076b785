/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The generic webhook plugin, built from its static library and registered
 * with the loader as a built-in type (no dlopen): configuration, rendering
 * of every event type against golden files, the base class's default
 * classify, and signing of what it renders.
 *
 * Golden files: tests/golden/generic/<type>.http hold the rendered request
 * as text (see render_to_text() and tests/golden/generic/README.md). After an
 * intended change, regenerate them with
 *
 *   ASTRA_UPDATE_GOLDEN=1 meson test -C build generic
 *
 * and review the diff before committing.
 *
 * Tests marked "Regression (was a bug)" pin bugs found while writing them;
 * each says what was wrong and how it was fixed.
 */

#include "config.h"

#include <check.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "astra-check-common.h"
#include "astra-generic-plugin.h"
#include "astra-plugin-loader.h"

#define TEST_URL   "https://hooks.example.com/astra/generic?team=ops&x=1"
#define TEST_GROUP "webhook test"
/* ids are random: a fixed one keeps what is derived from it stable */
#define TEST_EVENT_ID "evt_01JFA3G2M8Q4X7ZKD5N0C6B1YR"
/* an attempt's signing time */
#define TEST_SIGN_TIME G_GINT64_CONSTANT (1765967405)
/* the Standard Webhooks specification's example secret */
#define TEST_WHSEC "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

/* the fixture event of TYPE, with a fixed id (its timestamp is the fixture's) */
static AstraEvent *
fixture_event (const char *type_name)
{
	return astra_check_fixture_event (type_name, TEST_EVENT_ID);
}

static AstraPlugin *
new_plugin (void)
{
	g_autoptr(AstraPluginLoader) loader = astra_plugin_loader_new ();
	g_autoptr(GError) error = NULL;
	AstraPlugin *plugin;

	astra_plugin_loader_add_type (loader, "generic", ASTRA_TYPE_GENERIC_PLUGIN);
	plugin = astra_plugin_loader_create (loader, "generic", &error);
	ck_assert_msg (plugin != NULL, "%s", error != NULL ? error->message : "?");
	ck_assert (ASTRA_IS_GENERIC_PLUGIN (plugin));
	return plugin;
}

static const AstraCheckPlugin generic = { "generic", TEST_GROUP, astra_generic_plugin_get_type, new_plugin };

/* configuration */

START_TEST (test_config_keys)
{
	g_autoptr(AstraPlugin) plugin = new_plugin ();

	astra_check_assert_config_keys (plugin, (const char *const[]){ "url", "url-file", NULL });
}
END_TEST

START_TEST (test_url_keys)
{
	astra_check_assert_url_keys (&generic, "", "https://hooks.example.com/from-file?token=T0KEN",
				     "https://hooks.example.com/from-file?token=T0KEN");
}
END_TEST

START_TEST (test_url_inline)
{
	g_autofree char *url =
	    astra_check_configured_url (&generic, "url = " TEST_URL "\n", "agent.registered");

	ck_assert_str_eq (url, TEST_URL);
}
END_TEST

/* each carries T0KEN, which no error may echo */
static const char *const bad_url_cases[] = {
    "ftp://hooks.example.com/T0KEN",
    "file:///etc/T0KEN",
    "mailto:T0KEN@example.com",
    "http:///T0KEN",
    "https://",
    "hooks.example.com/T0KEN",
    "//hooks.example.com/T0KEN",
    "garbage T0KEN",
    "https://hooks.example.com:99999/T0KEN",
    "https://hooks.example.com/%zzT0KEN",
};

START_TEST (test_url_invalid)
{
	g_autofree char *keys = g_strdup_printf ("url = %s\n", bad_url_cases[_i]);
	g_autofree char *msg = astra_check_configure_error (&generic, keys, NULL);

	astra_assert_contains (msg, "url");
	astra_assert_not_contains (msg, "T0KEN");
	astra_assert_not_contains (msg, "hooks.example.com");
}
END_TEST

/*
 * Regression (was a bug): an invalid URL is refused with ASTRA_ERROR_INVALID_DATA, the
 * code of astra_request_validate(), although it is a configuration mistake
 * (ASTRA_ERROR_INVALID_CONFIG, which is what D-Bus callers of a reload see).
 * Fixed in plugins/generic/astra-generic-plugin.c,
 * astra_generic_plugin_configure(): validate into a local GError and set
 * g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG, "url: %s",
 * error_local->message) instead of prefixing the validate error.
 */
START_TEST (test_regression_url_invalid_is_config_error)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(AstraPlugin) plugin =
		       astra_check_configure_keys (&generic, "url = ftp://hooks.example.com/T0KEN\n", &error);

	ck_assert_ptr_null (plugin);
	ck_assert_msg (g_error_matches (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG), "code %d: %s",
		       error->code, error->message);
}
END_TEST

/*
 * Regression (was a bug): astra_request_validate() accepts a URL with control characters,
 * e.g. a url-file whose URL is followed by a second line; libsoup then
 * percent-encodes them, so deliveries silently go to a different path
 * ("/hook%0D%0Aother") instead of the typo being a config error. Fix in
 * core/sdk/astra-request.c, astra_request_validate(): before g_uri_parse(),
 * refuse a URL containing any byte < 0x21 or 0x7f ("the URL contains white
 * space or control characters"), without echoing it.
 */
START_TEST (test_regression_url_control_characters)
{
	g_autofree char *keys = astra_check_secret_file_keys (
	    "url", "url", "https://hooks.example.com/T0KEN\r\nsecond line\n", 0600, NULL);
	g_autofree char *msg = astra_check_configure_error (&generic, keys, NULL);

	astra_assert_not_contains (msg, "T0KEN");
}
END_TEST

/* rendering */

START_TEST (test_render)
{
	g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (&generic, "url = " TEST_URL "\n");
	g_autoptr(AstraEvent) event = fixture_event (astra_check_event_types[_i]);
	g_autofree char *text = NULL;
	g_autoptr(AstraRequest) request = astra_check_render_stable (plugin, event, &text);
	g_autofree char *user_agent = g_strdup_printf ("astra-alerts/%s", astra_version_string ());
	g_autofree char *golden = g_strdup_printf ("%s.http", astra_check_event_types[_i]);
	GBytes *body;

	astra_check_assert_post_json (request, TEST_URL, NULL);
	ck_assert (g_str_has_prefix (astra_request_get_header (request, "User-Agent"), user_agent));
	/* header names are case-insensitive */
	ck_assert_str_eq (astra_request_get_header (request, "user-agent"),
			  astra_request_get_header (request, "User-Agent"));

	/* the body is the event's canonical body, byte for byte */
	body = astra_request_get_body (request);
	ck_assert_ptr_nonnull (body);
	ck_assert (g_bytes_equal (body, astra_event_get_body (event)));
	astra_check_assert_golden ("generic", golden, text);
}
END_TEST

/* an event built with astra_event_new() and a fixed timestamp renders like the stored fixture */
START_TEST (test_render_new_event)
{
	g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (&generic, "url = " TEST_URL "\n");
	g_autoptr(AstraEvent) fixture = fixture_event (astra_check_event_types[_i]);
	g_autoptr(AstraEvent) event = NULL;
	g_autoptr(AstraRequest) request = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *text = NULL;
	g_autofree char *golden = g_strdup_printf ("%s.http", astra_check_event_types[_i]);

	event = astra_event_new (astra_event_get_kind (fixture), astra_event_get_timestamp (fixture),
				 astra_event_get_data (fixture), &error);
	ck_assert_msg (event != NULL, "%s", error != NULL ? error->message : "?");
	ck_assert (g_bytes_equal (astra_event_get_body (event), astra_event_get_body (fixture)));
	request = astra_check_render (plugin, event);
	text = astra_check_request_to_text (request);
	if (g_strcmp0 (g_getenv ("ASTRA_UPDATE_GOLDEN"), "1") != 0)
		astra_check_assert_golden ("generic", golden, text);
}
END_TEST

/* classify: the base class's default, through the generic plugin */

static const struct {
	guint status;
	AstraOutcome outcome;
	const char *reason_part; /* NULL: not checked */
} classify_cases[] = {
    {200, ASTRA_OUTCOME_DELIVERED, NULL},
    {201, ASTRA_OUTCOME_DELIVERED, NULL},
    {202, ASTRA_OUTCOME_DELIVERED, NULL},
    {204, ASTRA_OUTCOME_DELIVERED, NULL},
    {301, ASTRA_OUTCOME_FAILED, "redirect"},
    {302, ASTRA_OUTCOME_FAILED, "redirect"},
    {307, ASTRA_OUTCOME_FAILED, "redirect"},
    {308, ASTRA_OUTCOME_FAILED, "redirect"},
    {400, ASTRA_OUTCOME_FAILED, NULL},
    {401, ASTRA_OUTCOME_FAILED, NULL},
    {403, ASTRA_OUTCOME_FAILED, NULL},
    {404, ASTRA_OUTCOME_FAILED, NULL},
    {413, ASTRA_OUTCOME_FAILED, NULL},
    {422, ASTRA_OUTCOME_FAILED, NULL},
    {408, ASTRA_OUTCOME_RETRY, NULL},
    {429, ASTRA_OUTCOME_RETRY, NULL},
    {500, ASTRA_OUTCOME_RETRY, NULL},
    {502, ASTRA_OUTCOME_RETRY, NULL},
    {503, ASTRA_OUTCOME_RETRY, NULL},
    {504, ASTRA_OUTCOME_RETRY, NULL},
    {410, ASTRA_OUTCOME_GONE, NULL},
};

START_TEST (test_classify)
{
	g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (&generic, "url = " TEST_URL "\n");
	g_autoptr(AstraResponse) response = astra_response_new (classify_cases[_i].status, NULL);
	AstraOutcome outcome = astra_plugin_classify (plugin, response);

	ck_assert_msg (outcome == classify_cases[_i].outcome, "HTTP %u: expected %s, got %s",
		       classify_cases[_i].status, astra_outcome_to_string (classify_cases[_i].outcome),
		       astra_outcome_to_string (outcome));
	if (classify_cases[_i].reason_part != NULL)
		astra_assert_contains (astra_response_get_reason (response), classify_cases[_i].reason_part);
	/* no Retry-After, no delay asked for */
	ck_assert (astra_response_get_retry_after (response) < 0);
}
END_TEST

static const struct {
	guint status;
	const char *retry_after;
	const char *date;    /* the response's Date header, or NULL */
	gint64 received_at;  /* astra_response_set_date(), or 0 */
	double expected;     /* negative: none */
} retry_after_cases[] = {
    {429, "7", NULL, 0, 7},
    {503, "120", NULL, 0, 120},
    {429, "0", NULL, 0, 0},
    {429, " 7 ", NULL, 0, 7},
    {408, "30", NULL, 0, 30},
    {429, "7s", NULL, 0, -1},
    {429, "-5", NULL, 0, -1},
    {429, "7.5", NULL, 0, -1},
    {429, "soon", NULL, 0, -1},
    {429, "", NULL, 0, -1},
    /* a huge number saturates rather than wrapping to a small one */
    {503, "99999999999999999999999", NULL, 0, 4294967295.0},
    /* HTTP dates count from the response's own Date header */
    {503, "Wed, 17 Dec 2025 10:31:30 GMT", "Wed, 17 Dec 2025 10:30:00 GMT", 0, 90},
    {503, "Wednesday, 17-Dec-25 10:31:30 GMT", "Wed, 17 Dec 2025 10:30:00 GMT", 0, 90},
    {503, "Wed Dec 17 10:31:30 2025", "Wed, 17 Dec 2025 10:30:00 GMT", 0, 90},
    {429, "Thu, 18 Dec 2025 10:30:00 GMT", "Wed, 17 Dec 2025 10:30:00 GMT", 0, 86400},
    /* the Date header wins over the local receive time */
    {503, "Wed, 17 Dec 2025 10:31:30 GMT", "Wed, 17 Dec 2025 10:30:00 GMT", 1765967000, 90},
    /* without a Date header, from when the response was received */
    {503, "Wed, 17 Dec 2025 10:31:30 GMT", NULL, 1765967400, 90},
    {503, "Wed, 17 Dec 2025 10:31:30 GMT", "not a date", 1765967400, 90},
    /* already past: retry now */
    {503, "Wed, 17 Dec 2025 10:29:00 GMT", "Wed, 17 Dec 2025 10:30:00 GMT", 0, 0},
    {503, "Wed, 17 Dec 2025 10:31:30 UTC", "Wed, 17 Dec 2025 10:30:00 GMT", 0, -1},
    {503, "Wed, 31 Feb 2025 10:31:30 GMT", "Wed, 17 Dec 2025 10:30:00 GMT", 0, -1},
};

START_TEST (test_retry_after)
{
	g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (&generic, "url = " TEST_URL "\n");
	g_autoptr(AstraResponse) response = astra_response_new (retry_after_cases[_i].status, NULL);
	AstraOutcome outcome;
	double got;

	astra_response_set_header (response, "Retry-After", retry_after_cases[_i].retry_after);
	if (retry_after_cases[_i].date != NULL)
		astra_response_set_header (response, "Date", retry_after_cases[_i].date);
	if (retry_after_cases[_i].received_at != 0)
		astra_response_set_date (response, retry_after_cases[_i].received_at);
	outcome = astra_plugin_classify (plugin, response);
	ck_assert_int_eq (outcome, ASTRA_OUTCOME_RETRY);
	got = astra_response_get_retry_after (response);
	if (retry_after_cases[_i].expected < 0)
		ck_assert_msg (got < 0, "Retry-After '%s': expected none, got %f",
			       retry_after_cases[_i].retry_after, got);
	else
		ck_assert_msg (got == retry_after_cases[_i].expected, "Retry-After '%s': expected %f, got %f",
			       retry_after_cases[_i].retry_after, retry_after_cases[_i].expected, got);
}
END_TEST

START_TEST (test_retry_after_ignored_when_delivered)
{
	g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (&generic, "url = " TEST_URL "\n");
	g_autoptr(AstraResponse) ok = astra_response_new (200, NULL);
	g_autoptr(AstraResponse) gone = astra_response_new (410, NULL);

	astra_response_set_header (ok, "Retry-After", "7");
	ck_assert_int_eq (astra_plugin_classify (plugin, ok), ASTRA_OUTCOME_DELIVERED);
	ck_assert (astra_response_get_retry_after (ok) < 0);
	astra_response_set_header (gone, "Retry-After", "7");
	ck_assert_int_eq (astra_plugin_classify (plugin, gone), ASTRA_OUTCOME_GONE);
	ck_assert (astra_response_get_retry_after (gone) < 0);
}
END_TEST

/* signing what the plugin rendered */

START_TEST (test_sign_astra)
{
	g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (&generic, "url = " TEST_URL "\n");
	g_autoptr(AstraEvent) event = fixture_event (astra_check_event_types[_i]);
	g_autoptr(AstraRequest) request = astra_check_render (plugin, event);
	g_autoptr(AstraSigner) signer = astra_signer_new (ASTRA_SIGNATURE_SCHEME_ASTRA);
	g_autoptr(AstraSigner) verifier = astra_signer_new (ASTRA_SIGNATURE_SCHEME_ASTRA);
	g_autoptr(AstraSigner) other = astra_signer_new (ASTRA_SIGNATURE_SCHEME_ASTRA);
	g_autoptr(GError) error = NULL;
	g_autofree char *expected = NULL;
	g_autofree char *tampered = NULL;
	const char *signature;
	GBytes *body;
	gsize len = 0;
	const guint8 *data;

	ck_assert (astra_signer_add_secret (signer, "demo-secret-change-me", NULL));
	ck_assert (astra_signer_add_secret (verifier, "demo-secret-change-me", NULL));
	ck_assert (astra_signer_add_secret (other, "another-secret", NULL));
	ck_assert_msg (astra_signer_sign_request (signer, request, astra_event_get_id (event), TEST_SIGN_TIME, &error),
		       "%s", error != NULL ? error->message : "?");
	ck_assert_str_eq (astra_request_get_header (request, "X-Webhook-Id"), TEST_EVENT_ID);
	ck_assert_str_eq (astra_request_get_header (request, "X-Webhook-Timestamp"), "1765967405");
	signature = astra_request_get_header (request, "X-Webhook-Signature");
	ck_assert_ptr_nonnull (signature);
	ck_assert_uint_eq (strlen (signature), 64);

	/* signing leaves the body alone */
	body = astra_request_get_body (request);
	ck_assert (g_bytes_equal (body, astra_event_get_body (event)));
	data = g_bytes_get_data (body, &len);

	/* what a receiver computes on its own: hex HMAC-SHA256 of the raw body */
	expected = g_compute_hmac_for_data (G_CHECKSUM_SHA256, (const guchar *) "demo-secret-change-me",
					    strlen ("demo-secret-change-me"), data, len);
	ck_assert_str_eq (signature, expected);

	ck_assert_msg (astra_signer_verify (verifier, TEST_EVENT_ID, TEST_SIGN_TIME, data, len, signature, &error),
		       "%s", error != NULL ? error->message : "?");
	ck_assert (!astra_signer_verify (other, TEST_EVENT_ID, TEST_SIGN_TIME, data, len, signature, &error));
	ck_assert (g_error_matches (error, ASTRA_ERROR, ASTRA_ERROR_SIGNATURE));
	g_clear_error (&error);

	/* one byte changed */
	tampered = g_memdup2 (data, len);
	tampered[len / 2] ^= 0x01;
	ck_assert (!astra_signer_verify (verifier, TEST_EVENT_ID, TEST_SIGN_TIME, (const guint8 *) tampered, len,
					 signature, &error));
	ck_assert (g_error_matches (error, ASTRA_ERROR, ASTRA_ERROR_SIGNATURE));
}
END_TEST

START_TEST (test_sign_standard_webhooks)
{
	g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (&generic, "url = " TEST_URL "\n");
	g_autoptr(AstraEvent) event = fixture_event (astra_check_event_types[_i]);
	g_autoptr(AstraRequest) request = astra_check_render (plugin, event);
	g_autoptr(AstraSigner) signer = astra_signer_new (ASTRA_SIGNATURE_SCHEME_STANDARD_WEBHOOKS);
	g_autoptr(AstraSigner) verifier = astra_signer_new (ASTRA_SIGNATURE_SCHEME_STANDARD_WEBHOOKS);
	g_autoptr(AstraSigner) verifier_now = astra_signer_new (ASTRA_SIGNATURE_SCHEME_STANDARD_WEBHOOKS);
	g_autoptr(AstraRequest) request_now = astra_check_render (plugin, event);
	g_autoptr(GError) error = NULL;
	g_autoptr(GString) message = g_string_new (NULL);
	g_autofree guchar *key = NULL;
	g_autofree char *expected = NULL;
	g_autofree char *expected_mac = NULL;
	g_autofree char *expected_header = NULL;
	gsize key_len = 0;
	guint8 mac[32];
	gsize mac_len = sizeof (mac);
	const char *signature;
	GBytes *body;
	gsize len = 0;
	const guint8 *data;
	gint64 now = g_get_real_time () / G_USEC_PER_SEC;

	ck_assert (astra_signer_add_secret (signer, TEST_WHSEC, NULL));
	ck_assert (astra_signer_add_secret (verifier, TEST_WHSEC, NULL));
	ck_assert (astra_signer_add_secret (verifier_now, TEST_WHSEC, NULL));
	ck_assert_msg (astra_signer_sign_request (signer, request, TEST_EVENT_ID, TEST_SIGN_TIME, &error),
		       "%s", error != NULL ? error->message : "?");
	ck_assert_str_eq (astra_request_get_header (request, "webhook-id"), TEST_EVENT_ID);
	ck_assert_str_eq (astra_request_get_header (request, "webhook-timestamp"), "1765967405");
	signature = astra_request_get_header (request, "webhook-signature");
	ck_assert_ptr_nonnull (signature);
	ck_assert (g_str_has_prefix (signature, "v1,"));

	body = astra_request_get_body (request);
	ck_assert (g_bytes_equal (body, astra_event_get_body (event)));
	data = g_bytes_get_data (body, &len);

	/* what a receiver computes on its own: base64 HMAC-SHA256 of "id.timestamp.body" */
	key = g_base64_decode (TEST_WHSEC + strlen ("whsec_"), &key_len);
	g_string_append_printf (message, "%s.%" G_GINT64_FORMAT ".", TEST_EVENT_ID, TEST_SIGN_TIME);
	g_string_append_len (message, (const char *) data, (gssize) len);
	{
		g_autoptr(GHmac) hmac = g_hmac_new (G_CHECKSUM_SHA256, key, key_len);
		g_hmac_update (hmac, (const guchar *) message->str, (gssize) message->len);
		g_hmac_get_digest (hmac, mac, &mac_len);
	}
	expected_mac = g_base64_encode (mac, mac_len);
	expected_header = g_strdup_printf ("v1,%s", expected_mac);
	ck_assert_str_eq (signature, expected_header);

	/* the fixed time is long past: verify it without the clock check */
	astra_signer_set_tolerance (verifier, 0);
	ck_assert_msg (astra_signer_verify (verifier, TEST_EVENT_ID, TEST_SIGN_TIME, data, len, signature, &error),
		       "%s", error != NULL ? error->message : "?");
	/* a changed id or timestamp breaks it */
	ck_assert (!astra_signer_verify (verifier, "evt_other", TEST_SIGN_TIME, data, len, signature, &error));
	g_clear_error (&error);
	ck_assert (!astra_signer_verify (verifier, TEST_EVENT_ID, TEST_SIGN_TIME + 1, data, len, signature, &error));
	g_clear_error (&error);

	/* and with the default tolerance, signed now */
	g_clear_object (&signer);
	signer = astra_signer_new (ASTRA_SIGNATURE_SCHEME_STANDARD_WEBHOOKS);
	ck_assert (astra_signer_add_secret (signer, TEST_WHSEC, NULL));
	ck_assert (astra_signer_sign_request (signer, request_now, TEST_EVENT_ID, now, NULL));
	body = astra_request_get_body (request_now);
	data = g_bytes_get_data (body, &len);
	ck_assert_msg (astra_signer_verify (verifier_now, TEST_EVENT_ID, now, data, len,
					    astra_request_get_header (request_now, "webhook-signature"), &error),
		       "%s", error != NULL ? error->message : "?");
	expected = g_strdup_printf ("%" G_GINT64_FORMAT, now);
	ck_assert_str_eq (astra_request_get_header (request_now, "webhook-timestamp"), expected);
}
END_TEST

/* during a rotation a receiver that knows either secret accepts */
START_TEST (test_sign_standard_webhooks_rotation)
{
	static const char new_secret[] = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
	g_autoptr(AstraPlugin) plugin = astra_check_configure_ok (&generic, "url = " TEST_URL "\n");
	g_autoptr(AstraEvent) event = fixture_event ("alert.triggered");
	g_autoptr(AstraRequest) request = astra_check_render (plugin, event);
	g_autoptr(AstraSigner) signer = astra_signer_new (ASTRA_SIGNATURE_SCHEME_STANDARD_WEBHOOKS);
	g_autoptr(AstraSigner) old_verifier = astra_signer_new (ASTRA_SIGNATURE_SCHEME_STANDARD_WEBHOOKS);
	g_autoptr(AstraSigner) new_verifier = astra_signer_new (ASTRA_SIGNATURE_SCHEME_STANDARD_WEBHOOKS);
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) parts = NULL;
	const char *signature;
	gsize len = 0;
	const guint8 *data;

	ck_assert (astra_signer_add_secret (signer, TEST_WHSEC, NULL));
	ck_assert (astra_signer_add_secret (signer, new_secret, NULL));
	ck_assert (astra_signer_add_secret (old_verifier, TEST_WHSEC, NULL));
	ck_assert (astra_signer_add_secret (new_verifier, new_secret, NULL));
	astra_signer_set_tolerance (old_verifier, 0);
	astra_signer_set_tolerance (new_verifier, 0);
	ck_assert (astra_signer_sign_request (signer, request, TEST_EVENT_ID, TEST_SIGN_TIME, NULL));
	signature = astra_request_get_header (request, "webhook-signature");
	parts = g_strsplit (signature, " ", -1);
	ck_assert_uint_eq (g_strv_length (parts), 2);
	data = g_bytes_get_data (astra_request_get_body (request), &len);
	ck_assert_msg (astra_signer_verify (old_verifier, TEST_EVENT_ID, TEST_SIGN_TIME, data, len, signature, &error),
		       "%s", error != NULL ? error->message : "?");
	ck_assert_msg (astra_signer_verify (new_verifier, TEST_EVENT_ID, TEST_SIGN_TIME, data, len, signature, &error),
		       "%s", error != NULL ? error->message : "?");
}
END_TEST

static Suite *
generic_suite (void)
{
	Suite *s = suite_create ("generic");
	TCase *tc;

	tc = astra_check_tmpdir_tcase_new ("configure");
	tcase_add_test (tc, test_config_keys);
	tcase_add_test (tc, test_url_keys);
	tcase_add_test (tc, test_url_inline);
	tcase_add_loop_test (tc, test_url_invalid, 0, G_N_ELEMENTS (bad_url_cases));
	suite_add_tcase (s, tc);

	tc = tcase_create ("render");
	tcase_add_loop_test (tc, test_render, 0, ASTRA_CHECK_N_EVENT_TYPES);
	tcase_add_loop_test (tc, test_render_new_event, 0, ASTRA_CHECK_N_EVENT_TYPES);
	suite_add_tcase (s, tc);

	tc = tcase_create ("classify");
	tcase_add_loop_test (tc, test_classify, 0, G_N_ELEMENTS (classify_cases));
	tcase_add_loop_test (tc, test_retry_after, 0, G_N_ELEMENTS (retry_after_cases));
	tcase_add_test (tc, test_retry_after_ignored_when_delivered);
	suite_add_tcase (s, tc);

	tc = tcase_create ("sign");
	tcase_add_loop_test (tc, test_sign_astra, 0, ASTRA_CHECK_N_EVENT_TYPES);
	tcase_add_loop_test (tc, test_sign_standard_webhooks, 0, ASTRA_CHECK_N_EVENT_TYPES);
	tcase_add_test (tc, test_sign_standard_webhooks_rotation);
	suite_add_tcase (s, tc);

	/* each fails until the bug described beside it is fixed */
	tc = astra_check_tmpdir_tcase_new ("regressions");
	tcase_add_test (tc, test_regression_url_invalid_is_config_error);
	tcase_add_test (tc, test_regression_url_control_characters);
	suite_add_tcase (s, tc);

	return s;
}

int
main (void)
{
	return astra_check_run_suite (generic_suite ());
}
