/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Signing throughput: astra_signer_sign() in both schemes against OpenSSL's
 * one-shot HMAC() and the two ways of reusing a keyed EVP_MAC context, then
 * canonical serialization + signing of an event envelope.
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "astra.h"

#define BENCH_BODY_SIZE	  512
#define BENCH_TARGET_USEC G_USEC_PER_SEC /* per measurement */

typedef struct {
	AstraSigner *signer;
	EVP_MAC_CTX *ctx;
	const guint8 *key;
	gsize key_len;
	const guint8 *body;
	gsize body_len;
	JsonNode *event;
	gsize last_size;
} BenchData;

typedef void (*BenchFunc) (BenchData *data);

static volatile guint8 bench_sink;

static void
bench_signer_sign (BenchData *data)
{
	char *sig = astra_signer_sign (data->signer, "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", 1717171717,
				       data->body, data->body_len);
	bench_sink ^= (guint8) sig[0];
	g_free (sig);
}

static void
bench_hmac_oneshot (BenchData *data)
{
	guint8 mac[32];
	unsigned int mac_len = 0;

	HMAC (EVP_sha256 (), data->key, (int) data->key_len, data->body, data->body_len, mac, &mac_len);
	bench_sink ^= mac[0];
}

static void
bench_mac_reinit (BenchData *data)
{
	guint8 mac[32];
	size_t mac_len = 0;

	EVP_MAC_init (data->ctx, NULL, 0, NULL);
	EVP_MAC_update (data->ctx, data->body, data->body_len);
	EVP_MAC_final (data->ctx, mac, &mac_len, sizeof (mac));
	bench_sink ^= mac[0];
}

static void
bench_mac_dup (BenchData *data)
{
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_dup (data->ctx);
	guint8 mac[32];
	size_t mac_len = 0;

	EVP_MAC_update (ctx, data->body, data->body_len);
	EVP_MAC_final (ctx, mac, &mac_len, sizeof (mac));
	EVP_MAC_CTX_free (ctx);
	bench_sink ^= mac[0];
}

static void
bench_serialize_sign (BenchData *data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) bytes = astra_json_serialize (data->event, &error);
	gsize len = 0;
	const guint8 *buf;
	char *sig;

	if (bytes == NULL) {
		g_printerr ("astra_json_serialize failed: %s\n", error->message);
		exit (EXIT_FAILURE);
	}
	buf = g_bytes_get_data (bytes, &len);
	data->last_size = len;
	sig = astra_signer_sign (data->signer, "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", 1717171717, buf, len);
	bench_sink ^= (guint8) sig[0];
	g_free (sig);
}

/* runs func for about BENCH_TARGET_USEC and returns ns per call */
static double
bench_run (BenchFunc func, BenchData *data)
{
	guint64 iters = 64;
	gint64 elapsed;

	/* warm up, and grow the batch until it takes a measurable time */
	for (;;) {
		gint64 start = g_get_monotonic_time ();
		for (guint64 i = 0; i < iters; i++)
			func (data);
		elapsed = g_get_monotonic_time () - start;
		if (elapsed >= 20000)
			break;
		iters *= 4;
	}
	iters = (guint64) ((double) iters * BENCH_TARGET_USEC / (double) elapsed) + 1;
	{
		gint64 start = g_get_monotonic_time ();
		for (guint64 i = 0; i < iters; i++)
			func (data);
		elapsed = g_get_monotonic_time () - start;
	}
	return (double) elapsed * 1000.0 / (double) iters;
}

static void
print_row (const char *what, gsize bytes, double ns)
{
	g_print ("  %-52s %6" G_GSIZE_FORMAT " B %10.1f ns/op %12.0f ops/s\n", what, bytes, ns, 1e9 / ns);
}

static JsonNode *
build_event (void)
{
	g_autoptr(JsonBuilder) b = json_builder_new ();

	json_builder_begin_object (b);
	json_builder_set_member_name (b, "event");
	json_builder_add_string_value (b, "agent.status_changed");
	json_builder_set_member_name (b, "timestamp");
	json_builder_add_string_value (b, "2024-06-01T12:34:56.789Z");
	json_builder_set_member_name (b, "data");
	json_builder_begin_object (b);
	json_builder_set_member_name (b, "agent_id");
	json_builder_add_string_value (b, "8f14e45f-ceea-467f-a0e6-2b1c3d4e5f60");
	json_builder_set_member_name (b, "hostname");
	json_builder_add_string_value (b, "edge-router-07.dc2.example.net");
	json_builder_set_member_name (b, "previous_status");
	json_builder_add_string_value (b, "online");
	json_builder_set_member_name (b, "current_status");
	json_builder_add_string_value (b, "offline");
	json_builder_set_member_name (b, "tenant_id");
	json_builder_add_string_value (b, "tenant-3c9a1f");
	json_builder_set_member_name (b, "last_seen");
	json_builder_add_string_value (b, "2024-06-01T12:31:02.114Z");
	json_builder_set_member_name (b, "offline_seconds");
	json_builder_add_int_value (b, 234);
	json_builder_set_member_name (b, "missed_heartbeats");
	json_builder_add_int_value (b, 4);
	json_builder_set_member_name (b, "heartbeat_interval");
	json_builder_add_double_value (b, 60.0);
	json_builder_set_member_name (b, "cpu_percent");
	json_builder_add_double_value (b, 87.25);
	json_builder_set_member_name (b, "uptime_seconds");
	json_builder_add_int_value (b, 1209600);
	json_builder_set_member_name (b, "packet_loss");
	json_builder_add_double_value (b, 0.125);
	json_builder_end_object (b);
	json_builder_end_object (b);
	return json_builder_get_root (b);
}

int
main (void)
{
	guint8 body[BENCH_BODY_SIZE];
	guint8 key[32];
	g_autofree char *whsec = NULL;
	g_autofree char *b64 = NULL;
	g_autoptr(AstraSigner) astra = astra_signer_new (ASTRA_SIGNATURE_SCHEME_ASTRA);
	g_autoptr(AstraSigner) standard = astra_signer_new (ASTRA_SIGNATURE_SCHEME_STANDARD_WEBHOOKS);
	g_autoptr(AstraSigner) rotating = astra_signer_new (ASTRA_SIGNATURE_SCHEME_STANDARD_WEBHOOKS);
	g_autoptr(GError) error = NULL;
	g_autoptr(GError) error_json = NULL;
	g_autoptr(GBytes) probe = NULL;
	EVP_MAC *mac = EVP_MAC_fetch (NULL, OSSL_MAC_NAME_HMAC, NULL);
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_utf8_string (OSSL_MAC_PARAM_DIGEST, (char *) "SHA256", 0),
	    OSSL_PARAM_construct_end (),
	};
	BenchData data = {0};
	double ns;

	for (guint i = 0; i < sizeof (body); i++)
		body[i] = (guint8) ('a' + i % 26);
	for (guint i = 0; i < sizeof (key); i++)
		key[i] = (guint8) (i * 7 + 1);
	b64 = g_base64_encode (key, sizeof (key));
	whsec = g_strconcat ("whsec_", b64, NULL);
	/* the astra scheme keys with the text as written: use the same 44 bytes in the one-shot row */
	if (!astra_signer_add_secret (astra, whsec, &error) ||
	    !astra_signer_add_secret (standard, whsec, &error) ||
	    !astra_signer_add_secret (rotating, whsec, &error) ||
	    !astra_signer_add_secret (rotating, "whsec_c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seS0xMjM0", &error)) {
		g_printerr ("add_secret failed: %s\n", error->message);
		return EXIT_FAILURE;
	}

	g_print ("HMAC-SHA256 signing, %d-byte body, single thread (%s)\n",
		 BENCH_BODY_SIZE, OpenSSL_version (OPENSSL_VERSION));
	g_print ("  %-52s %8s %16s %18s\n", "", "body", "time", "rate");

	data.body = body;
	data.body_len = sizeof (body);
	data.signer = astra;
	ns = bench_run (bench_signer_sign, &data);
	print_row ("astra_signer_sign, astra scheme (hex)", sizeof (body), ns);
	data.signer = standard;
	ns = bench_run (bench_signer_sign, &data);
	print_row ("astra_signer_sign, standard-webhooks (1 secret)", sizeof (body), ns);
	data.signer = rotating;
	ns = bench_run (bench_signer_sign, &data);
	print_row ("astra_signer_sign, standard-webhooks (2 secrets)", sizeof (body), ns);

	g_print ("OpenSSL directly, same key and body\n");
	data.key = (const guint8 *) whsec;
	data.key_len = strlen (whsec);
	ns = bench_run (bench_hmac_oneshot, &data);
	print_row ("HMAC() one-shot", sizeof (body), ns);
	data.ctx = EVP_MAC_CTX_new (mac);
	EVP_MAC_init (data.ctx, data.key, data.key_len, params);
	ns = bench_run (bench_mac_reinit, &data);
	print_row ("EVP_MAC_init(NULL key) on a keyed ctx (signer's way)", sizeof (body), ns);
	ns = bench_run (bench_mac_dup, &data);
	print_row ("EVP_MAC_CTX_dup of a keyed template", sizeof (body), ns);
	EVP_MAC_CTX_free (data.ctx);
	EVP_MAC_free (mac);

	g_print ("Event envelope: astra_json_serialize + astra_signer_sign\n");
	data.event = build_event ();
	probe = astra_json_serialize (data.event, &error_json);
	if (probe == NULL || g_bytes_get_size (probe) == 0) {
		g_print ("  skipped: astra_json_serialize is not available yet (%s)\n",
			 error_json != NULL ? error_json->message : "returned nothing");
	} else {
		g_print ("  body: %s\n", (const char *) g_bytes_get_data (probe, NULL));
		data.signer = astra;
		ns = bench_run (bench_serialize_sign, &data);
		print_row ("serialize + sign, astra scheme", data.last_size, ns);
		g_print ("  %-52s %8s %13.0f events/s per core\n", "", "", 1e9 / ns);
		data.signer = standard;
		ns = bench_run (bench_serialize_sign, &data);
		print_row ("serialize + sign, standard-webhooks", data.last_size, ns);
		g_print ("  %-52s %8s %13.0f events/s per core\n", "", "", 1e9 / ns);
	}
	json_node_unref (data.event);
	return EXIT_SUCCESS;
}
