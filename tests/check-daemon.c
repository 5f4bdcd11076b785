/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The real astra-alertd against loopback receivers: each test writes its own
 * config into a temp folder, starts the daemon, POSTs reports and looks at
 * what the receivers got and what the daemon logged.
 */

#include "config.h"

#include <check.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "astra.h"
#include "astra-check-common.h"
#include "astra-test-util.h"

#define SECRET "s3cr3t-for-check-daemon-9b1f"

/* one per test: every test runs in its own forked process */
typedef struct {
	AstraTestEnv env;
	guint n_files;
} Fixture;

static Fixture fx;

static void
fixture_setup (void)
{
	memset (&fx, 0, sizeof (fx));
	astra_test_env_setup (&fx.env);
}

static void
fixture_teardown (void)
{
	astra_test_env_teardown (&fx.env);
}

/* [webhook NAME] for the generic plugin, to @receiver at @path */
static char *
webhook_group (const char *name, AstraTestReceiver *receiver, const char *path, const char *extra)
{
	g_autofree char *url = astra_test_receiver_get_url (receiver, path);

	return g_strdup_printf ("[webhook %s]\nplugin = generic\nurl = %s\n%s%s", name, url,
				extra != NULL ? extra : "", extra != NULL ? "\n" : "");
}

static void
write_config (const char *plugin_dir, const char *daemon_extra, const char *webhooks)
{
	g_autoptr(GError) error = NULL;

	g_free (fx.env.config_path);
	fx.env.config_path =
	    astra_test_write_config (fx.env.dir, plugin_dir, daemon_extra, webhooks, &error);
	astra_assert_no_error (error);
}

static void
start_daemon_with (const char *plugin_dir, const char *daemon_extra, const char *webhooks,
		   const char *const *args)
{
	g_autoptr(GError) error = NULL;

	write_config (plugin_dir, daemon_extra, webhooks);
	fx.env.daemon = astra_test_daemon_start (fx.env.config_path, args, &error);
	astra_assert_no_error (error);
}

static void
start_daemon (const char *daemon_extra, const char *webhooks)
{
	start_daemon_with (NULL, daemon_extra, webhooks, NULL);
}

/* one webhook "hook" to the fixture's receiver, signed with SECRET */
static void
start_daemon_default (const char *daemon_extra)
{
	g_autofree char *webhooks =
	    webhook_group ("hook", fx.env.receiver, "/hooks/astra", "secret = " SECRET);

	start_daemon (daemon_extra, webhooks);
}

static AstraTestReply *
request (const char *method, const char *path, const char *body, gsize body_len, gboolean chunked)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *url = astra_test_daemon_get_url (fx.env.daemon, path);
	AstraTestReply *reply = astra_test_http (fx.env.session, method, url, "application/json", body,
						 body_len, chunked, &error);

	astra_assert_no_error (error);
	return reply;
}

static AstraTestReply *
post (const char *json)
{
	return request ("POST", "/v1/reports", json, strlen (json), FALSE);
}

static void
assert_healthy (void)
{
	g_autoptr(AstraTestReply) reply = request ("GET", "/healthz", NULL, 0, FALSE);

	ck_assert_uint_eq (reply->status, 200);
}

static JsonNode *
parse_json_bytes (GBytes *bytes)
{
	g_autoptr(JsonParser) parser = json_parser_new ();
	g_autoptr(GError) error = NULL;
	gsize len = 0;
	const char *data = g_bytes_get_data (bytes, &len);

	ck_assert_msg (json_parser_load_from_data (parser, data, (gssize) len, &error),
		       "not JSON (%s): %.*s", error != NULL ? error->message : "", (int) len, data);
	return json_node_ref (json_parser_get_root (parser));
}

/* the reply is a JSON object with an "error" string, as every refusal must be */
static JsonNode *
assert_json_error (AstraTestReply *reply, guint status)
{
	g_autoptr(JsonNode) root = parse_json_bytes (reply->body);
	const char *ctype = soup_message_headers_get_content_type (reply->headers, NULL);
	JsonObject *obj;

	ck_assert_msg (reply->status == status, "expected HTTP %u, got %u: %.*s", status,
		       reply->status, (int) g_bytes_get_size (reply->body),
		       (const char *) g_bytes_get_data (reply->body, NULL));
	ck_assert_str_eq (ctype, "application/json");
	ck_assert (JSON_NODE_HOLDS_OBJECT (root));
	obj = json_node_get_object (root);
	ck_assert (json_object_has_member (obj, "error"));
	ck_assert_msg (strlen (json_object_get_string_member (obj, "error")) > 0,
		       "empty error message");
	return g_steal_pointer (&root);
}

static JsonObject *
reply_result (JsonNode *root, guint index)
{
	JsonArray *results = json_object_get_array_member (json_node_get_object (root), "results");

	ck_assert (results != NULL);
	ck_assert_uint_gt (json_array_get_length (results), index);
	return json_array_get_object_element (results, index);
}

/* the id the 202 reply gives to the one report of a body */
static char *
post_accepted (const char *json)
{
	g_autoptr(AstraTestReply) reply = post (json);
	g_autoptr(JsonNode) root = parse_json_bytes (reply->body);
	JsonObject *result;

	ck_assert_msg (reply->status == 202, "expected 202, got %u: %.*s", reply->status,
		       (int) g_bytes_get_size (reply->body),
		       (const char *) g_bytes_get_data (reply->body, NULL));
	result = reply_result (root, 0);
	ck_assert_str_eq (json_object_get_string_member (result, "status"), "accepted");
	return g_strdup (json_object_get_string_member (result, "id"));
}

static AstraTestRequest *
receiver_wait_nth (AstraTestReceiver *receiver, guint n)
{
	GPtrArray *requests = astra_test_receiver_get_requests (receiver);

	ck_assert_msg (astra_test_receiver_wait (receiver, n + 1, ASTRA_TEST_TIMEOUT_MS),
		       "the receiver got %u requests, expected at least %u; daemon log:\n%s",
		       astra_test_receiver_get_n_requests (receiver), n + 1,
		       astra_test_daemon_get_stderr (fx.env.daemon));
	return g_ptr_array_index (requests, n);
}

static void
assert_body_eq (AstraTestRequest *req, const char *expected)
{
	gsize len = 0;
	const char *data = g_bytes_get_data (req->body, &len);

	ck_assert_msg (len == strlen (expected) && memcmp (data, expected, len) == 0,
		       "body differs:\n got: %.*s\nwant: %s", (int) len, data, expected);
}

static char *
hex_encode (const guint8 *data, gsize len)
{
	GString *str = g_string_new (NULL);

	for (gsize i = 0; i < len; i++)
		g_string_append_printf (str, "%02x", data[i]);
	return g_string_free (str, FALSE);
}

/* OpenSSL's one-shot HMAC(): independent of the SDK's EVP_MAC code */
static GBytes *
openssl_hmac_sha256 (const guint8 *key, gsize key_len, const guint8 *data, gsize len)
{
	guint8 md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;

	ck_assert (HMAC (EVP_sha256 (), key, (int) key_len, data, len, md, &md_len) != NULL);
	ck_assert_uint_eq (md_len, 32);
	return g_bytes_new (md, md_len);
}

static gint64
parse_timestamp_header (AstraTestRequest *req, const char *name)
{
	const char *value = astra_test_request_get_header (req, name);
	guint64 ts = 0;
	gint64 now = g_get_real_time () / G_USEC_PER_SEC;

	ck_assert_msg (value != NULL, "no %s header", name);
	ck_assert_msg (g_ascii_string_to_unsigned (value, 10, 0, G_MAXINT64, &ts, NULL), "%s: %s",
		       name, value);
	ck_assert_msg ((gint64) ts >= now - 5 && (gint64) ts <= now + 1,
		       "%s %" G_GUINT64_FORMAT " is not within a few seconds of %" G_GINT64_FORMAT,
		       name, ts, now);
	return (gint64) ts;
}

static char *
save_body (AstraTestRequest *req)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *name = g_strdup_printf ("body-%u.json", fx.n_files++);
	g_autofree char *path = g_build_filename (fx.env.dir, name, NULL);
	gsize len = 0;
	const char *data = g_bytes_get_data (req->body, &len);

	ck_assert_msg (g_file_set_contents (path, data, (gssize) len, &error), "%s",
		       error != NULL ? error->message : "");
	return g_steal_pointer (&path);
}

/* runs tests/verify/SCRIPT with the interpreter named by ENV: its exit status */
static int
run_verifier (const char *env, const char *script, const char *body_path, const char *signature,
	      const char *secret, char **out_stderr)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *err = NULL;
	g_autofree char *script_path = NULL;
	const char *interpreter = g_getenv (env);
	int status = -1;

	ck_assert_msg (
	    interpreter != NULL && interpreter[0] != '\0',
	    "%s is not set: this test needs %s to run the docs' receiver snippet; install it "
	    "and reconfigure (the test does not skip)",
	    env, g_str_equal (env, "ASTRA_NODE") ? "nodejs" : "python3");
	script_path = astra_check_source_path ("tests", "verify", script, NULL);
	{
		const char *argv[] = {
			interpreter, script_path, body_path, signature, secret, NULL
		};
		ck_assert_msg (
		    astra_test_run (argv, NULL, NULL, 30000, &status, NULL, &err, &error), "%s",
		    error != NULL ? error->message : "");
	}
	if (out_stderr != NULL)
		*out_stderr = g_steal_pointer (&err);
	return status;
}

static const struct {
	const char *env;
	const char *script;
} verifiers[] = {
	{ "ASTRA_PYTHON3", "verify-raw.py" },
	{ "ASTRA_NODE", "verify-json.js" },
};

/* X-Webhook-Signature checked four ways: the SDK, OpenSSL, and the docs' Python and Node snippets
 */
static void
assert_astra_signature (AstraTestRequest *req, const char *secret, const char *msg_id)
{
	g_autoptr(AstraSigner) signer = astra_signer_new (ASTRA_SIGNATURE_SCHEME_ASTRA);
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) mac = NULL;
	g_autofree char *mac_hex = NULL;
	g_autofree char *body_path = NULL;
	const char *sig = astra_test_request_get_header (req, "X-Webhook-Signature");
	gint64 ts = parse_timestamp_header (req, "X-Webhook-Timestamp");
	gsize len = 0;
	const guint8 *data = g_bytes_get_data (req->body, &len);

	ck_assert_msg (sig != NULL, "no X-Webhook-Signature");
	ck_assert_uint_eq (strlen (sig), 64);
	ck_assert_msg (astra_signer_add_secret (signer, secret, &error), "%s",
		       error != NULL ? error->message : "");
	ck_assert_msg (astra_signer_verify (signer, msg_id, ts, data, len, sig, &error),
		       "astra_signer_verify: %s", error != NULL ? error->message : "");

	mac = openssl_hmac_sha256 ((const guint8 *) secret, strlen (secret), data, len);
	mac_hex = hex_encode (g_bytes_get_data (mac, NULL), g_bytes_get_size (mac));
	ck_assert_str_eq (sig, mac_hex);

	body_path = save_body (req);
	for (guint i = 0; i < G_N_ELEMENTS (verifiers); i++) {
		g_autofree char *err = NULL;
		int status = run_verifier (verifiers[i].env, verifiers[i].script, body_path, sig,
					   secret, &err);

		ck_assert_msg (status == 0, "%s exited with %d: %s", verifiers[i].script, status,
			       err);
		g_clear_pointer (&err, g_free);
		/* and the snippet is not just saying yes */
		status = run_verifier (verifiers[i].env, verifiers[i].script, body_path, sig,
				       "wrong", &err);
		ck_assert_msg (status == 1, "%s accepted a wrong secret (exit %d): %s",
			       verifiers[i].script, status, err);
	}
}

START_TEST (test_docs_event)
{
	g_autofree char *id = NULL;
	AstraTestRequest *req;
	const char *ua;

	start_daemon_default (NULL);
	id = post_accepted (ASTRA_TEST_DOCS_EVENT);
	ck_assert (g_str_has_prefix (id, "evt_"));

	req = receiver_wait_nth (fx.env.receiver, 0);
	ck_assert_str_eq (req->method, "POST");
	ck_assert_str_eq (req->path, "/hooks/astra");
	assert_body_eq (req, ASTRA_TEST_DOCS_EVENT);
	ck_assert_str_eq (soup_message_headers_get_content_type (req->headers, NULL),
			  "application/json");
	ua = astra_test_request_get_header (req, "User-Agent");
	ck_assert_msg (ua != NULL && strstr (ua, "astra-alerts/" PACKAGE_VERSION) != NULL,
		       "User-Agent: %s", ua);
	ck_assert_str_eq (astra_test_request_get_header (req, "X-Webhook-Id"), id);
	assert_astra_signature (req, SECRET, id);
	/* the other scheme's headers are not sent alongside */
	ck_assert (astra_test_request_get_header (req, "webhook-signature") == NULL);

	/* exactly one delivery */
	assert_healthy ();
	ck_assert_uint_eq (astra_test_receiver_get_n_requests (fx.env.receiver), 1);
}
END_TEST

static char *
whsec_new (guint8 seed)
{
	guint8 key[24];
	g_autofree char *b64 = NULL;

	for (guint i = 0; i < sizeof (key); i++)
		key[i] = (guint8) (seed * 31 + i * 7);
	b64 = g_base64_encode (key, sizeof (key));
	return g_strdup_printf ("whsec_%s", b64);
}

/* v1,<base64 HMAC(base64-decoded secret, id.timestamp.body)> by OpenSSL */
static char *
standard_signature (const char *whsec, const char *id, gint64 ts, GBytes *body)
{
	g_autofree guint8 *key = NULL;
	g_autofree char *b64 = NULL;
	g_autoptr(GString) content = g_string_new (NULL);
	g_autoptr(GBytes) mac = NULL;
	gsize key_len = 0;

	key = g_base64_decode (whsec + strlen ("whsec_"), &key_len);
	g_string_append_printf (content, "%s.%" G_GINT64_FORMAT ".", id, ts);
	g_string_append_len (content, g_bytes_get_data (body, NULL),
			     (gssize) g_bytes_get_size (body));
	mac = openssl_hmac_sha256 (key, key_len, (const guint8 *) content->str, content->len);
	b64 = g_base64_encode (g_bytes_get_data (mac, NULL), g_bytes_get_size (mac));
	return g_strdup_printf ("v1,%s", b64);
}

START_TEST (test_standard_webhooks)
{
	g_autofree char *secret1 = whsec_new (1);
	g_autofree char *secret2 = whsec_new (2);
	g_autofree char *extra =
	    g_strdup_printf ("signature = standard-webhooks\nsecret = %s %s", secret1, secret2);
	g_autofree char *webhooks = webhook_group ("sw", fx.env.receiver, "/sw", extra);
	g_autofree char *id = NULL;
	g_auto(GStrv) sigs = NULL;
	const char *secrets[] = { secret1, secret2 };
	AstraTestRequest *req;
	const char *header;
	gint64 ts;
	gsize len = 0;
	const guint8 *data;

	start_daemon (NULL, webhooks);
	id = post_accepted (ASTRA_TEST_DOCS_EVENT);
	req = receiver_wait_nth (fx.env.receiver, 0);
	assert_body_eq (req, ASTRA_TEST_DOCS_EVENT);
	data = g_bytes_get_data (req->body, &len);

	ck_assert_str_eq (astra_test_request_get_header (req, "webhook-id"), id);
	ts = parse_timestamp_header (req, "webhook-timestamp");
	header = astra_test_request_get_header (req, "webhook-signature");
	ck_assert_msg (header != NULL, "no webhook-signature");
	ck_assert (astra_test_request_get_header (req, "X-Webhook-Signature") == NULL);

	sigs = g_strsplit (header, " ", -1);
	ck_assert_uint_eq (g_strv_length (sigs), 2);
	for (guint i = 0; i < 2; i++) {
		g_autoptr(AstraSigner) signer =
		    astra_signer_new (ASTRA_SIGNATURE_SCHEME_STANDARD_WEBHOOKS);
		g_autoptr(AstraSigner) other =
		    astra_signer_new (ASTRA_SIGNATURE_SCHEME_STANDARD_WEBHOOKS);
		g_autoptr(GError) error = NULL;
		g_autofree char *expected = standard_signature (secrets[i], id, ts, req->body);

		ck_assert (g_str_has_prefix (sigs[i], "v1,"));
		ck_assert_str_eq (sigs[i], expected);
		ck_assert (astra_signer_add_secret (signer, secrets[i], NULL));
		ck_assert_msg (astra_signer_verify (signer, id, ts, data, len, sigs[i], &error),
			       "signature %u: %s", i, error != NULL ? error->message : "");
		/* each one is the signature of its own secret only */
		ck_assert (astra_signer_add_secret (other, secrets[1 - i], NULL));
		ck_assert (!astra_signer_verify (other, id, ts, data, len, sigs[i], NULL));
	}
}
END_TEST

START_TEST (test_canonical_delivery)
{
	/* spaces, key order, 1.0, 1e2, escapes a JSON.stringify() would not write, a zone offset */
	const char *input =
	    "{ \"timestamp\" : \"2025-12-17T11:30:00+01:00\" ,\n"
	    "  \"data\" : { \"tenant_id\" : \"tenant-abc\", \"hostname\" : \"caf\\u00e9-01\",\n"
	    "    \"agent_id\" : \"agent\\/123\", \"previous_status\" : \"online\",\n"
	    "    \"current_status\" : \"offline\", \"ratio\" : 1.0, \"count\" : 1e2, \"small\" : "
	    "1E-7,\n"
	    "    \"huge\" : 1e21, \"neg\" : -0, \"tab\" : \"a\\tb\\u001f\", \"quote\" : "
	    "\"\\\"\\\\\",\n"
	    "    \"url\" : \"http:\\/\\/example.com\\/x\", \"smile\" : \"\\ud83d\\ude00\", \"10\" "
	    ": \"ten\", \"2\" : \"two\" },\n"
	    "  \"event\" : \"agent.status_changed\" }";
	const char *expected =
	    "{\"event\":\"agent.status_changed\",\"timestamp\":\"2025-12-17T10:30:00Z\",\"data\":{"
	    "\"2\":\"two\",\"10\":\"ten\",\"tenant_id\":\"tenant-abc\",\"hostname\":\"caf\xc3\xa9-"
	    "01\","
	    "\"agent_id\":\"agent/"
	    "123\",\"previous_status\":\"online\",\"current_status\":\"offline\","
	    "\"ratio\":1,\"count\":100,\"small\":1e-7,\"huge\":1e+21,\"neg\":0,\"tab\":"
	    "\"a\\tb\\u001f\","
	    "\"quote\":\"\\\"\\\\\",\"url\":\"http://example.com/"
	    "x\",\"smile\":\"\xf0\x9f\x98\x80\"}}";
	g_autofree char *id = NULL;
	AstraTestRequest *req;

	start_daemon_default (NULL);
	id = post_accepted (input);
	req = receiver_wait_nth (fx.env.receiver, 0);
	assert_body_eq (req, expected);
	ck_assert_str_eq (astra_test_request_get_header (req, "X-Webhook-Id"), id);
	assert_astra_signature (req, SECRET, id);
}
END_TEST

/* a copy of @event_json without data.@field, serialized by json-glib (not canonical: no matter) */
static char *
remove_data_field (const char *event_json, const char *field)
{
	g_autoptr(JsonParser) parser = json_parser_new ();
	g_autoptr(JsonGenerator) generator = json_generator_new ();
	JsonObject *data;

	ck_assert (json_parser_load_from_data (parser, event_json, -1, NULL));
	data = json_object_get_object_member (json_node_get_object (json_parser_get_root (parser)),
					      "data");
	ck_assert_msg (json_object_has_member (data, field), "the example has no %s", field);
	json_object_remove_member (data, field);
	json_generator_set_root (generator, json_parser_get_root (parser));
	return json_generator_to_data (generator, NULL);
}

static void
assert_rejected (AstraTestReply *reply, guint index, const char *field)
{
	g_autoptr(JsonNode) root = assert_json_error (reply, 400);
	JsonObject *result = reply_result (root, index);

	ck_assert_uint_eq (json_object_get_int_member (result, "index"), index);
	ck_assert_str_eq (json_object_get_string_member (result, "status"), "rejected");
	ck_assert_msg (json_object_has_member (result, "field"), "no field named for report %u",
		       index);
	ck_assert_str_eq (json_object_get_string_member (result, "field"), field);
	ck_assert (strlen (json_object_get_string_member (result, "error")) > 0);
}

static void
check_missing_fields (const char *type)
{
	g_autofree char *schema_name = g_strdup_printf ("%s.schema.json", type);
	g_autofree char *schema_path =
	    astra_check_source_path ("data", "schemas", schema_name, NULL);
	g_autofree char *event_json = astra_check_fixture_text (type);
	g_autoptr(JsonParser) parser = json_parser_new ();
	g_autoptr(GError) error = NULL;
	JsonArray *required;

	ck_assert_msg (json_parser_load_from_file (parser, schema_path, &error), "%s",
		       error != NULL ? error->message : "");
	required = json_object_get_array_member (
	    json_node_get_object (json_parser_get_root (parser)), "required");
	ck_assert_uint_gt (json_array_get_length (required), 0);

	/* the example itself is fine */
	{
		g_autofree char *id = post_accepted (event_json);
	}
	for (guint i = 0; i < json_array_get_length (required); i++) {
		const char *field = json_array_get_string_element (required, i);
		g_autofree char *body = remove_data_field (event_json, field);
		g_autofree char *path = g_strdup_printf ("data.%s", field);
		g_autoptr(AstraTestReply) reply = post (body);

		assert_rejected (reply, 0, path);
		assert_healthy ();
	}
}

static void
check_bad_body (const char *body, gsize len, guint status)
{
	g_autoptr(AstraTestReply) reply = request ("POST", "/v1/reports", body, len, FALSE);
	g_autoptr(JsonNode) root = assert_json_error (reply, status);

	assert_healthy ();
}

/* sends @raw as is: the reply must be a 413 with a JSON error, and the daemon's peak RSS
 * must not have grown by anything like the size of the body it refused */
static void
check_raw_too_large (GString *raw, gsize body_size)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *url = astra_test_daemon_get_url (fx.env.daemon, "/");
	g_autoptr(GBytes) reply = NULL;
	g_autofree char *text = NULL;
	guint64 rss_before = astra_test_daemon_get_peak_rss_kib (fx.env.daemon);
	guint64 rss_after;

	ck_assert_uint_gt (rss_before, 0);
	reply = astra_test_raw_http (url, raw->str, raw->len, &error);
	astra_assert_no_error (error);
	text = g_strndup (g_bytes_get_data (reply, NULL), g_bytes_get_size (reply));
	ck_assert_msg (g_str_has_prefix (text, "HTTP/1.1 413"), "%s", text);
	ck_assert_msg (strstr (text, "\r\n\r\n{\"error\":\"") != NULL, "%s", text);
	assert_healthy ();
	rss_after = astra_test_daemon_get_peak_rss_kib (fx.env.daemon);
	ck_assert_msg (rss_after < rss_before + body_size / 1024 / 2,
		       "the daemon's peak RSS grew from %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT
		       " KiB reading a %" G_GSIZE_FORMAT " byte body it refused",
		       rss_before, rss_after, body_size);
}

START_TEST (test_bad_input)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GString) deep = g_string_new (NULL);
	g_autoptr(GString) big = g_string_new ("[");
	g_autofree char *mixed = NULL;
	g_autofree char *bad_utf8 = NULL;
	g_autofree char *id = NULL;
	const char *unknown =
	    "{\"event\":\"agent.exploded\",\"timestamp\":\"2025-12-17T10:30:00Z\",\"data\":{}}";
	const char *valid2 =
	    "{\"event\":\"agent.status_changed\",\"timestamp\":\"2025-12-17T10:30:00Z\",\"data\":{"
	    "\"agent_id\":\"agent-mixed\",\"hostname\":\"server-02\",\"previous_status\":"
	    "\"offline\","
	    "\"current_status\":\"online\",\"tenant_id\":\"tenant-abc\"}}";

	start_daemon_default ("max-body-size = 64K");

	/* not JSON, and no body at all */
	check_bad_body ("this is not json", strlen ("this is not json"), 400);
	check_bad_body ("", 0, 400);
	check_bad_body ("{\"event\":", strlen ("{\"event\":"), 400);

	/* each event type without each of its required fields */
	for (guint i = 0; i < ASTRA_CHECK_N_EVENT_TYPES; i++)
		check_missing_fields (astra_check_event_types[i]);

	/* an unknown type, a report that is not an object, a missing data */
	{
		g_autoptr(AstraTestReply) reply = post (unknown);
		assert_rejected (reply, 0, "event");
		assert_healthy ();
	}
	{
		g_autoptr(AstraTestReply) reply =
		    post ("[" ASTRA_TEST_DOCS_EVENT ",{\"event\":\"agent.registered\"}]");
		g_autoptr(JsonNode) root = NULL;
		assert_rejected (reply, 1, "data");
		root = parse_json_bytes (reply->body);
		ck_assert_str_eq (json_object_get_string_member (reply_result (root, 0), "status"),
				  "accepted");
		assert_healthy ();
	}

	/* invalid UTF-8 inside a string */
	bad_utf8 = g_strdup (ASTRA_TEST_DOCS_EVENT);
	memcpy (strstr (bad_utf8, "server-01"), "\xff\xfe\xc3(", 4);
	check_bad_body (bad_utf8, strlen (bad_utf8), 400);

	/* 10,000 levels of nesting: refused, not a stack overflow */
	for (guint i = 0; i < 10000; i++)
		g_string_append_c (deep, '[');
	for (guint i = 0; i < 10000; i++)
		g_string_append_c (deep, ']');
	check_bad_body (deep->str, deep->len, 400);
	g_string_truncate (deep, 0);
	g_string_append (deep, "{\"event\":\"agent.status_changed\",\"data\":");
	for (guint i = 0; i < 10000; i++)
		g_string_append (deep, "{\"a\":");
	check_bad_body (deep->str, deep->len, 400);

	/* over max-body-size, announced by Content-Length or not (chunked): 413, and the body is
	 * not kept in memory on the way (a client without Expect: 100-continue sends it all anyway)
	 */
	{
		const gsize body_size = 32 * 1024 * 1024;
		g_autoptr(GString) raw = g_string_sized_new (body_size + 4096);
		g_autofree char *chunk = g_malloc (64 * 1024);

		g_string_append_printf (raw,
					"POST /v1/reports HTTP/1.1\r\nHost: 127.0.0.1\r\n"
					"Content-Type: application/json\r\n"
					"Content-Length: %" G_GSIZE_FORMAT "\r\n\r\n",
					body_size);
		memset (chunk, ' ', 64 * 1024);
		for (gsize n = 0; n < body_size; n += 64 * 1024)
			g_string_append_len (raw, chunk, 64 * 1024);
		check_raw_too_large (raw, body_size);

		g_string_truncate (raw, 0);
		g_string_append (
		    raw, "POST /v1/reports HTTP/1.1\r\nHost: 127.0.0.1\r\n"
			 "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
		for (gsize n = 0; n < body_size; n += 64 * 1024) {
			g_string_append (raw, "10000\r\n");
			g_string_append_len (raw, chunk, 64 * 1024);
			g_string_append (raw, "\r\n");
		}
		g_string_append (raw, "0\r\n\r\n");
		check_raw_too_large (raw, body_size);
	}
	/* the same with a real body just over the limit */
	while (big->len <= 64 * 1024)
		g_string_append (big, ASTRA_TEST_DOCS_EVENT ",");
	g_string_append (big, ASTRA_TEST_DOCS_EVENT "]");
	check_bad_body (big->str, big->len, 413);
	/* and with chunked transfer encoding, where no length is announced */
	{
		g_autoptr(AstraTestReply) reply =
		    request ("POST", "/v1/reports", big->str, big->len, TRUE);
		g_autoptr(JsonNode) root = assert_json_error (reply, 413);
		assert_healthy ();
	}
	/* a chunked body under the limit is fine */
	{
		g_autoptr(AstraTestReply) reply =
		    request ("POST", "/v1/reports", ASTRA_TEST_DOCS_EVENT,
			     strlen (ASTRA_TEST_DOCS_EVENT), TRUE);
		ck_assert_uint_eq (reply->status, 202);
	}

	/* wrong method, unknown path */
	{
		g_autoptr(AstraTestReply) reply = request ("GET", "/v1/reports", NULL, 0, FALSE);
		g_autoptr(JsonNode) root = assert_json_error (reply, 405);
		ck_assert_str_eq (soup_message_headers_get_one (reply->headers, "Allow"), "POST");
		assert_healthy ();
	}
	{
		g_autoptr(AstraTestReply) reply =
		    request ("POST", "/v1/nothing-here", ASTRA_TEST_DOCS_EVENT,
			     strlen (ASTRA_TEST_DOCS_EVENT), FALSE);
		g_autoptr(JsonNode) root = assert_json_error (reply, 404);
		assert_healthy ();
	}
	{
		g_autoptr(AstraTestReply) reply = request ("GET", "/nope", NULL, 0, FALSE);
		g_autoptr(JsonNode) root = assert_json_error (reply, 404);
		assert_healthy ();
	}

	/* so far: the seven valid examples, the accepted half of one batch and one chunked event
	 * were delivered */
	ck_assert (astra_test_receiver_wait (fx.env.receiver, 9, ASTRA_TEST_TIMEOUT_MS));

	/* a mixed batch: 400, the reply lists the accepted one, which is delivered */
	mixed = g_strdup_printf ("[%s,%s,%s]", valid2, unknown,
				 "{\"event\":\"agent.status_changed\",\"data\":{}}");
	{
		g_autoptr(AstraTestReply) reply = post (mixed);
		g_autoptr(JsonNode) root = assert_json_error (reply, 400);
		JsonObject *obj = json_node_get_object (root);
		JsonObject *ok = reply_result (root, 0);
		AstraTestRequest *req;

		ck_assert_int_eq (json_object_get_int_member (obj, "accepted"), 1);
		ck_assert_int_eq (json_object_get_int_member (obj, "rejected"), 2);
		ck_assert_str_eq (json_object_get_string_member (ok, "status"), "accepted");
		ck_assert_str_eq (json_object_get_string_member (ok, "event"),
				  "agent.status_changed");
		id = g_strdup (json_object_get_string_member (ok, "id"));
		assert_rejected (reply, 1, "event");
		assert_rejected (reply, 2, "data.agent_id");

		req = receiver_wait_nth (fx.env.receiver, 9);
		assert_body_eq (req, valid2);
		ck_assert_str_eq (astra_test_request_get_header (req, "X-Webhook-Id"), id);
	}
	/* nothing refused was delivered: the mixed batch's event came right after the chunked one
	 */
	assert_healthy ();
	ck_assert_uint_eq (astra_test_receiver_get_n_requests (fx.env.receiver), 10);
}
END_TEST

static guint
count_type (AstraTestReceiver *receiver, const char *type)
{
	GPtrArray *requests = astra_test_receiver_get_requests (receiver);
	g_autofree char *needle = g_strdup_printf ("{\"event\":\"%s\"", type);
	guint n = 0;

	for (guint i = 0; i < requests->len; i++) {
		AstraTestRequest *req = g_ptr_array_index (requests, i);
		g_autofree char *body =
		    g_strndup (g_bytes_get_data (req->body, NULL), g_bytes_get_size (req->body));
		if (g_str_has_prefix (body, needle))
			n++;
	}
	return n;
}

START_TEST (test_routing)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(AstraTestReceiver) alerts = astra_test_receiver_new (&error);
	g_autoptr(AstraTestReceiver) off = astra_test_receiver_new (&error);
	g_autofree char *w1 = webhook_group ("agents", fx.env.receiver, "/agents", "events = agent.*");
	g_autofree char *w2 =
	    webhook_group ("alerts", alerts, "/alerts",
			   "events = alert.triggered; alert.resolved\nsecret = " SECRET);
	g_autofree char *w3 = webhook_group ("off", off, "/off", "enabled = false\nevents = *");
	g_autofree char *w4 = webhook_group ("critical", off, "/critical",
					     "events = alert.*\nmin-severity = critical");
	g_autofree char *webhooks = g_strdup_printf ("%s\n%s\n%s\n%s", w1, w2, w3, w4);
	g_autofree char *triggered = astra_check_fixture_text ("alert.triggered");
	g_autofree char *registered = astra_check_fixture_text ("agent.registered");
	g_autofree char *speedtest = astra_check_fixture_text ("speedtest.completed");
	g_autofree char *warning = NULL;
	g_autofree char *id = NULL;
	char *p;

	astra_assert_no_error (error);
	start_daemon ("", webhooks);
	ck_assert_msg (
	    strstr (astra_test_daemon_get_stderr (fx.env.daemon), "(4 webhooks, 3 enabled,") != NULL,
	    "%s", astra_test_daemon_get_stderr (fx.env.daemon));

	/* a warning-level alert: "alerts" wants it, "critical" does not (min-severity) */
	warning = g_strdup (triggered);
	p = strstr (warning, "\"severity\":\"critical\"");
	ck_assert (p != NULL);
	memcpy (p, "\"severity\":\"warning\" ", strlen ("\"severity\":\"critical\""));

	g_free (post_accepted (ASTRA_TEST_DOCS_EVENT));
	receiver_wait_nth (fx.env.receiver, 0);
	g_free (post_accepted (warning));
	receiver_wait_nth (alerts, 0);
	g_free (post_accepted (speedtest)); /* nobody wants it */
	/* a later event the first receiver gets: anything wrongly routed before it would be in by
	 * now */
	g_free (post_accepted (registered));
	receiver_wait_nth (fx.env.receiver, 1);
	assert_healthy ();

	ck_assert_uint_eq (astra_test_receiver_get_n_requests (fx.env.receiver), 2);
	ck_assert_uint_eq (count_type (fx.env.receiver, "agent.status_changed"), 1);
	ck_assert_uint_eq (count_type (fx.env.receiver, "agent.registered"), 1);
	ck_assert_uint_eq (astra_test_receiver_get_n_requests (alerts), 1);
	ck_assert_uint_eq (count_type (alerts, "alert.triggered"), 1);
	ck_assert_uint_eq (astra_test_receiver_get_n_requests (off), 0);

	/* a critical alert reaches "critical" (on the disabled webhook's receiver, other path) and
	 * "alerts" */
	id = post_accepted (triggered);
	receiver_wait_nth (alerts, 1);
	receiver_wait_nth (off, 0);
	g_free (post_accepted (registered));
	receiver_wait_nth (fx.env.receiver, 2);
	ck_assert_uint_eq (astra_test_receiver_get_n_requests (off), 1);
	ck_assert_str_eq (
	    ((AstraTestRequest *) g_ptr_array_index (astra_test_receiver_get_requests (off), 0))
		->path,
	    "/critical");
	ck_assert_str_eq (
	    astra_test_request_get_header (
		g_ptr_array_index (astra_test_receiver_get_requests (off), 0), "X-Webhook-Id"),
	    id);
	ck_assert_uint_eq (astra_test_receiver_get_n_requests (alerts), 2);
}
END_TEST

/* the latency the daemon logged for @webhook, in ms; fails if there is no such line */
static double
logged_latency (const char *log, const char *webhook, const char *outcome, const char *status,
		const char *id)
{
	g_autofree char *pattern = g_strdup_printf (
	    "webhook %s: %s agent\\.status_changed %s \\(%s, ([0-9]+\\.[0-9]) ms, attempt 1\\)",
	    webhook, outcome, id, status);
	g_autoptr(GRegex) regex = g_regex_new (pattern, 0, 0, NULL);
	g_autoptr(GMatchInfo) match = NULL;
	g_autofree char *ms = NULL;

	ck_assert (regex != NULL);
	ck_assert_msg (g_regex_match (regex, log, 0, &match), "no line matching /%s/ in:\n%s",
		       pattern, log);
	ms = g_match_info_fetch (match, 1);
	return g_ascii_strtod (ms, NULL);
}

START_TEST (test_receiver_errors)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(AstraTestReceiver) gone = astra_test_receiver_new (&error);
	g_autoptr(AstraTestReceiver) slow = astra_test_receiver_new (&error);
	const char *const verbose[] = { "--verbose", NULL };
	g_autofree char *w1 =
	    webhook_group ("fails-500", fx.env.receiver, "/private-path-500-qx7", "secret = " SECRET);
	g_autofree char *w2 =
	    webhook_group ("gone-410", gone, "/private-path-410-qx7", "secret = " SECRET);
	g_autofree char *w3 = webhook_group ("too-slow", slow, "/private-path-slow-qx7",
					     "secret = " SECRET "\ntimeout = 1");
	g_autofree char *webhooks = g_strdup_printf ("%s\n%s\n%s", w1, w2, w3);
	g_autofree char *id = NULL;
	g_autoptr(GPtrArray) forbidden = g_ptr_array_new_with_free_func (g_free);
	AstraTestReceiver *receivers[3];
	const char *log;
	double latency;

	astra_assert_no_error (error);
	astra_test_receiver_set_status (fx.env.receiver, 500);
	astra_test_receiver_set_status (gone, 410);
	astra_test_receiver_set_delay (slow, G_MAXUINT);
	start_daemon_with (NULL, NULL, webhooks, verbose);

	id = post_accepted (ASTRA_TEST_DOCS_EVENT);
	ck_assert (astra_test_daemon_wait_log (fx.env.daemon, "webhook fails-500: ", 1,
					       ASTRA_TEST_TIMEOUT_MS));
	ck_assert (
	    astra_test_daemon_wait_log (fx.env.daemon, "webhook gone-410: ", 1, ASTRA_TEST_TIMEOUT_MS));
	ck_assert (
	    astra_test_daemon_wait_log (fx.env.daemon, "webhook too-slow: ", 1, ASTRA_TEST_TIMEOUT_MS));
	ck_assert_uint_eq (astra_test_receiver_get_n_requests (slow), 1);
	assert_healthy ();

	log = astra_test_daemon_get_stderr (fx.env.daemon);
	logged_latency (log, "fails-500", "retry", "HTTP 500", id);
	logged_latency (log, "gone-410", "gone", "HTTP 410", id);
	latency = logged_latency (log, "too-slow", "retry", "no response", id);
	/* GLib's second timers may fire up to 250 ms early; anything less means no timeout was
	 * waited for */
	ck_assert_msg (latency >= 700.0 && latency < 5000.0,
		       "too-slow took %.1f ms with a 1 s timeout", latency);
	ck_assert_msg (strstr (log, "timed out after 1 s") != NULL, "%s", log);

	/* nothing that could let someone else post to or impersonate the receivers */
	receivers[0] = fx.env.receiver;
	receivers[1] = gone;
	receivers[2] = slow;
	g_ptr_array_add (forbidden, g_strdup (SECRET));
	g_ptr_array_add (forbidden, g_strdup ("private-path"));
	g_ptr_array_add (forbidden, g_strdup ("qx7"));
	for (guint i = 0; i < G_N_ELEMENTS (receivers); i++) {
		AstraTestRequest *req =
		    g_ptr_array_index (astra_test_receiver_get_requests (receivers[i]), 0);
		g_autofree char *url = astra_test_receiver_get_url (receivers[i], NULL);

		g_ptr_array_add (forbidden, g_strdup (astra_test_request_get_header (
						req, "X-Webhook-Signature")));
		g_ptr_array_add (forbidden, g_strdup_printf ("127.0.0.1:%u",
							     (guint) astra_test_receiver_get_port (
								 receivers[i])));
		g_ptr_array_add (forbidden, g_steal_pointer (&url));
	}
	/* everything, including what goes to stdout and what is logged on the way out */
	astra_test_daemon_send_signal (fx.env.daemon, SIGTERM);
	ck_assert (astra_test_daemon_wait_exit (fx.env.daemon, ASTRA_TEST_TIMEOUT_MS));
	for (guint i = 0; i < forbidden->len; i++) {
		const char *needle = g_ptr_array_index (forbidden, i);
		ck_assert_msg (strstr (astra_test_daemon_get_stderr (fx.env.daemon), needle) == NULL,
			       "'%s' is in the log:\n%s", needle,
			       astra_test_daemon_get_stderr (fx.env.daemon));
		ck_assert_msg (strstr (astra_test_daemon_get_stdout (fx.env.daemon), needle) == NULL,
			       "'%s' is on stdout:\n%s", needle,
			       astra_test_daemon_get_stdout (fx.env.daemon));
	}
}
END_TEST

/* the line of @file that holds @needle, 1-based */
static guint
line_of (const char *file, const char *needle)
{
	g_autofree char *contents = NULL;
	const char *p;
	guint line = 1;

	ck_assert (g_file_get_contents (file, &contents, NULL, NULL));
	p = strstr (contents, needle);
	ck_assert_msg (p != NULL, "%s is not in %s", needle, file);
	for (const char *q = contents; q < p; q++) {
		if (*q == '\n')
			line++;
	}
	return line;
}

START_TEST (test_reload)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(AstraTestReceiver) second = astra_test_receiver_new (&error);
	g_autofree char *w1 = webhook_group ("hook", fx.env.receiver, "/first", "secret = " SECRET);
	g_autofree char *w2 = webhook_group ("hook", second, "/second", "secret = " SECRET);
	g_autofree char *w3 =
	    webhook_group ("hook", second, "/third", "secret = " SECRET "\ncolour = blue");
	g_autofree char *where = NULL;
	g_autofree char *id = NULL;
	AstraTestRequest *req;

	astra_assert_no_error (error);
	start_daemon (NULL, w1);
	g_free (post_accepted (ASTRA_TEST_DOCS_EVENT));
	req = receiver_wait_nth (fx.env.receiver, 0);
	ck_assert_str_eq (req->path, "/first");

	/* a new URL, in force after SIGHUP */
	write_config (NULL, NULL, w2);
	astra_test_daemon_send_signal (fx.env.daemon, SIGHUP);
	ck_assert_msg (astra_test_daemon_wait_log (fx.env.daemon, "configuration reloaded", 1,
						   ASTRA_TEST_TIMEOUT_MS),
		       "%s", astra_test_daemon_get_stderr (fx.env.daemon));
	id = post_accepted (ASTRA_TEST_DOCS_EVENT);
	req = receiver_wait_nth (second, 0);
	ck_assert_str_eq (req->path, "/second");
	assert_astra_signature (req, SECRET, id);

	/* an invalid config: refused with file:line, the previous one stays */
	write_config (NULL, NULL, w3);
	astra_test_daemon_send_signal (fx.env.daemon, SIGHUP);
	ck_assert_msg (
	    astra_test_daemon_wait_log (fx.env.daemon, "reload refused", 1, ASTRA_TEST_TIMEOUT_MS),
	    "%s", astra_test_daemon_get_stderr (fx.env.daemon));
	where = g_strdup_printf ("%s:%u: [webhook hook] colour: ", fx.env.config_path,
				 line_of (fx.env.config_path, "colour"));
	ck_assert_msg (strstr (astra_test_daemon_get_stderr (fx.env.daemon), where) != NULL,
		       "no '%s' in:\n%s", where, astra_test_daemon_get_stderr (fx.env.daemon));
	g_free (post_accepted (ASTRA_TEST_DOCS_EVENT));
	req = receiver_wait_nth (second, 1);
	ck_assert_str_eq (req->path, "/second");
	ck_assert_uint_eq (astra_test_receiver_get_n_requests (fx.env.receiver), 1);
	ck_assert_uint_eq (count_type (second, "agent.status_changed"), 2);

	/* fixed again: the reload goes through */
	write_config (NULL, NULL, w1);
	astra_test_daemon_send_signal (fx.env.daemon, SIGHUP);
	ck_assert (astra_test_daemon_wait_log (fx.env.daemon, "configuration reloaded", 2,
					       ASTRA_TEST_TIMEOUT_MS));
	g_free (post_accepted (ASTRA_TEST_DOCS_EVENT));
	req = receiver_wait_nth (fx.env.receiver, 1);
	ck_assert_str_eq (req->path, "/first");
}
END_TEST

static void
run_check_config (const char *config, int *status, char **out, char **err)
{
	g_autoptr(GError) error = NULL;
	const char *alertd = astra_test_getenv ("ASTRA_ALERTD", &error);

	astra_assert_no_error (error);
	{
		const char *argv[] = { alertd, "--check-config", "--config", config, NULL };
		ck_assert_msg (astra_test_run (argv, NULL, NULL, ASTRA_TEST_TIMEOUT_MS, status, out,
					       err, &error),
			       "%s", error != NULL ? error->message : "");
	}
}

START_TEST (test_check_config)
{
	g_autofree char *good =
	    webhook_group ("hook", fx.env.receiver, "/x", "secret = " SECRET "\nevents = agent.*");
	g_autofree char *bad =
	    webhook_group ("hook", fx.env.receiver, "/x", "secret = " SECRET "\ntimeout = forever");
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	g_autofree char *where1 = NULL;
	g_autofree char *where2 = NULL;
	g_autofree char *state = g_build_filename (fx.env.dir, "state", NULL);
	g_auto(GStrv) lines = NULL;
	guint n_lines = 0;
	int status = -1;

	write_config (NULL, NULL, good);
	run_check_config (fx.env.config_path, &status, &out, &err);
	ck_assert_msg (status == 0, "exit %d: %s", status, err);
	ck_assert_msg (strstr (out, "configuration OK") != NULL, "%s", out);
	/* validating starts nothing and writes nothing */
	ck_assert (!g_file_test (state, G_FILE_TEST_EXISTS));
	g_clear_pointer (&out, g_free);
	g_clear_pointer (&err, g_free);

	/* two mistakes, in different groups: both reported, each with file:line */
	write_config (NULL, "colour = blue", bad);
	run_check_config (fx.env.config_path, &status, &out, &err);
	ck_assert_int_eq (status, 1);
	where1 = g_strdup_printf ("%s:%u: [daemon] colour: ", fx.env.config_path,
				  line_of (fx.env.config_path, "colour"));
	where2 = g_strdup_printf ("%s:%u: [webhook hook] timeout: ", fx.env.config_path,
				  line_of (fx.env.config_path, "timeout"));
	ck_assert_msg (strstr (err, where1) != NULL, "no '%s' in:\n%s", where1, err);
	ck_assert_msg (strstr (err, where2) != NULL, "no '%s' in:\n%s", where2, err);
	lines = g_strsplit (err, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		if (g_str_has_prefix (lines[i], fx.env.config_path))
			n_lines++;
	}
	ck_assert_msg (n_lines >= 2, "%s", err);
	ck_assert (!g_file_test (state, G_FILE_TEST_EXISTS));
}
END_TEST

START_TEST (test_sigterm_in_flight)
{
	g_autofree char *webhooks = webhook_group ("hook", fx.env.receiver, "/hang", "timeout = 60");
	gint64 start;
	double elapsed;
	const guint shutdown_timeout = 1;
	g_autofree char *extra = g_strdup_printf ("shutdown-timeout = %u", shutdown_timeout);

	astra_test_receiver_set_delay (fx.env.receiver, G_MAXUINT);
	start_daemon (extra, webhooks);
	g_free (post_accepted (ASTRA_TEST_DOCS_EVENT));
	/* the attempt is in flight: the receiver has it and will never answer */
	receiver_wait_nth (fx.env.receiver, 0);

	start = g_get_monotonic_time ();
	astra_test_daemon_send_signal (fx.env.daemon, SIGTERM);
	ck_assert_msg (astra_test_daemon_wait_exit (fx.env.daemon, (shutdown_timeout + 5) * 1000),
		       "still running %u s after SIGTERM:\n%s", shutdown_timeout + 5,
		       astra_test_daemon_get_stderr (fx.env.daemon));
	elapsed = (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
	ck_assert_msg (astra_test_daemon_get_exit_status (fx.env.daemon) == 0, "exit status %d:\n%s",
		       astra_test_daemon_get_exit_status (fx.env.daemon),
		       astra_test_daemon_get_stderr (fx.env.daemon));
	ck_assert_msg (elapsed <= shutdown_timeout + 2.0, "took %.2f s to stop", elapsed);
	ck_assert (strstr (astra_test_daemon_get_stderr (fx.env.daemon),
			   "shutdown: waiting up to 1 s for 1 attempt in flight") != NULL);
	ck_assert (strstr (astra_test_daemon_get_stderr (fx.env.daemon), "cancelled") != NULL);
	ck_assert (strstr (astra_test_daemon_get_stderr (fx.env.daemon), "stopped") != NULL);
}
END_TEST

START_TEST (test_sigterm_idle)
{
	gint64 start;

	start_daemon_default (NULL);
	assert_healthy ();
	start = g_get_monotonic_time ();
	astra_test_daemon_send_signal (fx.env.daemon, SIGTERM);
	ck_assert (astra_test_daemon_wait_exit (fx.env.daemon, ASTRA_TEST_TIMEOUT_MS));
	ck_assert_int_eq (astra_test_daemon_get_exit_status (fx.env.daemon), 0);
	/* nothing in flight: no reason to wait for the shutdown timeout */
	ck_assert_int_lt (g_get_monotonic_time () - start, G_USEC_PER_SEC);
}
END_TEST

/* clients that keep a connection alive and then go away must not cost the daemon a socket each */
START_TEST (test_idle_connections_closed)
{
	int before;
	int after = -1;

	start_daemon_default (NULL);
	assert_healthy ();
	before = astra_test_daemon_get_n_fds (fx.env.daemon);
	ck_assert_int_gt (before, 0);
	for (guint i = 0; i < 50; i++) {
		g_autoptr(SoupSession) session = astra_test_session_new ();
		g_autofree char *url = astra_test_daemon_get_url (fx.env.daemon, "/healthz");
		g_autoptr(GError) error = NULL;
		g_autoptr(AstraTestReply) reply =
		    astra_test_http (session, "GET", url, NULL, NULL, 0, FALSE, &error);

		astra_assert_no_error (error);
		ck_assert_uint_eq (reply->status, 200);
		/* the session goes, and its kept-alive connection with it */
	}
	for (guint i = 0; i < 50; i++) {
		astra_test_iterate_for (100);
		after = astra_test_daemon_get_n_fds (fx.env.daemon);
		if (after <= before + 2)
			break;
	}
	ck_assert_msg (after <= before + 2,
		       "the daemon had %d fds before 50 clients came and went, %d after "
		       "(connections left in CLOSE_WAIT)",
		       before, after);
	assert_healthy ();
}
END_TEST

/* a service manager may signal the moment the daemon says it listens */
START_TEST (test_signal_at_start)
{
	start_daemon_default (NULL);
	astra_test_daemon_send_signal (fx.env.daemon, SIGHUP);
	ck_assert_msg (astra_test_daemon_wait_log (fx.env.daemon, "configuration reloaded", 1,
						   ASTRA_TEST_TIMEOUT_MS),
		       "no reload after a SIGHUP right after 'listening' (exit status %d):\n%s",
		       astra_test_daemon_get_exit_status (fx.env.daemon),
		       astra_test_daemon_get_stderr (fx.env.daemon));
	assert_healthy ();
	g_clear_pointer (&fx.env.daemon, astra_test_daemon_free);

	start_daemon_default (NULL);
	astra_test_daemon_send_signal (fx.env.daemon, SIGTERM);
	ck_assert (astra_test_daemon_wait_exit (fx.env.daemon, ASTRA_TEST_TIMEOUT_MS));
	ck_assert_msg (
	    astra_test_daemon_get_exit_status (fx.env.daemon) == 0,
	    "SIGTERM right after 'listening': exit status %d (-1: killed by the signal):\n%s",
	    astra_test_daemon_get_exit_status (fx.env.daemon),
	    astra_test_daemon_get_stderr (fx.env.daemon));
}
END_TEST

START_TEST (test_state_lock)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(AstraTestDaemon) second = NULL;
	g_autofree char *state = g_build_filename (fx.env.dir, "state", NULL);
	const char *log;

	start_daemon_default (NULL);
	second = astra_test_daemon_spawn (NULL, fx.env.config_path, NULL, NULL,
					  ASTRA_TEST_DAEMON_FLAG_NONE, &error);
	astra_assert_no_error (error);
	ck_assert (astra_test_daemon_wait_exit (second, ASTRA_TEST_TIMEOUT_MS));
	log = astra_test_daemon_get_stderr (second);
	ck_assert_int_eq (astra_test_daemon_get_exit_status (second), 1);
	ck_assert_msg (strstr (log, "another astra-alertd is using the state folder") != NULL, "%s",
		       log);
	ck_assert_msg (strstr (log, state) != NULL, "%s", log);
	ck_assert (strstr (log, "listening on") == NULL);

	/* the first one is unaffected */
	assert_healthy ();
	g_free (post_accepted (ASTRA_TEST_DOCS_EVENT));
	receiver_wait_nth (fx.env.receiver, 0);
}
END_TEST

START_TEST (test_refused_module)
{
	g_autoptr(GError) error = NULL;
	const char *build_dir = astra_test_getenv ("ASTRA_PLUGIN_BUILD_DIR", &error);
	g_autofree char *plugin_dir = g_build_filename (fx.env.dir, "plugins", NULL);
	g_autofree char *generic = NULL;
	g_autofree char *good = g_build_filename (plugin_dir, "generic.so", NULL);
	g_autofree char *evil = g_build_filename (plugin_dir, "evil.so", NULL);
	g_autofree char *webhooks =
	    webhook_group ("hook", fx.env.receiver, "/hooks", "secret = " SECRET);
	g_autofree char *expected = NULL;
	const char *log;

	astra_assert_no_error (error);
	generic = g_build_filename (build_dir, "generic.so", NULL);
	ck_assert_int_eq (g_mkdir (plugin_dir, 0755), 0);
	ck_assert_int_eq (chmod (plugin_dir, 0755), 0);
	ck_assert_msg (astra_test_copy_file (generic, good, 0755, &error), "%s",
		       error != NULL ? error->message : "");
	ck_assert_msg (astra_test_copy_file (generic, evil, 0757, &error), "%s",
		       error != NULL ? error->message : "");

	start_daemon_with (plugin_dir, NULL, webhooks, NULL);
	log = astra_test_daemon_get_stderr (fx.env.daemon);
	expected =
	    g_strdup_printf ("refusing plugin module %s: file is world-writable (mode 0757)", evil);
	ck_assert_msg (strstr (log, expected) != NULL, "no '%s' in:\n%s", expected, log);

	/* the good module next to it works */
	g_free (post_accepted (ASTRA_TEST_DOCS_EVENT));
	assert_body_eq (receiver_wait_nth (fx.env.receiver, 0), ASTRA_TEST_DOCS_EVENT);
}
END_TEST

static Suite *
daemon_suite (void)
{
	Suite *s = suite_create ("daemon");
	TCase *tc = tcase_create ("daemon");

	tcase_add_checked_fixture (tc, fixture_setup, fixture_teardown);
	tcase_set_timeout (tc, 60);
	tcase_add_test (tc, test_docs_event);
	tcase_add_test (tc, test_standard_webhooks);
	tcase_add_test (tc, test_canonical_delivery);
	tcase_add_test (tc, test_bad_input);
	tcase_add_test (tc, test_routing);
	tcase_add_test (tc, test_receiver_errors);
	tcase_add_test (tc, test_reload);
	tcase_add_test (tc, test_check_config);
	tcase_add_test (tc, test_sigterm_in_flight);
	tcase_add_test (tc, test_sigterm_idle);
	tcase_add_test (tc, test_idle_connections_closed);
	tcase_add_test (tc, test_signal_at_start);
	tcase_add_test (tc, test_state_lock);
	tcase_add_test (tc, test_refused_module);
	suite_add_tcase (s, tc);
	return s;
}

int
main (void)
{
	return astra_check_run_suite (daemon_suite ());
}
