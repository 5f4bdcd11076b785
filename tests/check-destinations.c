/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The destination plugins through the real daemon: one event of each type
 * goes to a loopback stand-in for Slack, Discord, Teams and PagerDuty, each
 * answering as the real service does and checking the request's shape; a
 * 429 with Retry-After pauses the webhook and the event is delivered after it.
 */

#include "config.h"

#include <json-glib/json-glib.h>
#include <signal.h>

#include "astra.h"
#include "astra-check-common.h"
#include "astra-test-util.h"

#define ROUTING_KEY "R0123456789abcdefABCDEF012345678"

typedef enum {
	DEST_SLACK,
	DEST_DISCORD,
	DEST_TEAMS,
	DEST_PAGERDUTY,
	DEST_LAST,
} Dest;

static const char *const dest_names[] = {"slack", "discord", "teams", "pagerduty"};

typedef struct {
	Dest dest;
	AstraTestReceiver *receiver;
	guint n_bad;        /* requests whose shape was wrong */
	char *first_bad;    /* why the first one was */
	guint n_throttle;   /* answer this many requests with 429 first */
	gboolean echo_url;  /* refuse with an error message that quotes the webhook URL's path */
	GPtrArray *seen;    /* event types seen in order, from the payloads */
} Stand;

static Stand stands[DEST_LAST];
static SoupSession *session;
static AstraTestDaemon *daemon_proc;
static char *dir;

static void
stand_bad (Stand *stand, const char *why)
{
	if (stand->n_bad++ == 0)
		stand->first_bad = g_strdup (why);
}

static JsonObject *
object_member (JsonObject *object, const char *name)
{
	JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;

	return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

static JsonArray *
array_member (JsonObject *object, const char *name)
{
	JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;

	return node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

static void
stand_reply (AstraTestRequest *request, guint status, const char *content_type, const char *body)
{
	request->reply_status = status;
	request->reply_content_type = g_strdup (content_type);
	request->reply_body = g_bytes_new (body, strlen (body));
}

/* checks a request as the real service would, then answers like it */
static void
stand_cb (AstraTestReceiver *receiver, AstraTestRequest *request, gpointer user_data)
{
	Stand *stand = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) root = NULL;
	JsonObject *body;
	const char *type = NULL;

	root = astra_json_parse (g_bytes_get_data (request->body, NULL), g_bytes_get_size (request->body), &error);
	if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
		stand_bad (stand, "the body is not a JSON object");
		stand_reply (request, 400, "text/plain", "invalid_payload");
		return;
	}
	body = json_node_get_object (root);
	if (g_strcmp0 (request->method, "POST") != 0 ||
	    !g_str_has_prefix (astra_test_request_get_header (request, "Content-Type"), "application/json"))
		stand_bad (stand, "not a JSON POST");

	switch (stand->dest) {
	case DEST_SLACK:
		if (!json_object_has_member (body, "text") ||
		    (array_member (body, "blocks") == NULL && array_member (body, "attachments") == NULL))
			stand_bad (stand, "slack: no text or no blocks");
		break;
	case DEST_DISCORD: {
		JsonArray *embeds = array_member (body, "embeds");
		if (embeds == NULL || json_array_get_length (embeds) == 0 ||
		    object_member (body, "allowed_mentions") == NULL)
			stand_bad (stand, "discord: no embeds or no allowed_mentions");
		if (embeds != NULL && json_array_get_length (embeds) > 0) {
			JsonObject *embed = json_array_get_object_element (embeds, 0);
			type = json_object_get_string_member_with_default (object_member (embed, "footer"), "text", NULL);
		}
		break;
	}
	case DEST_TEAMS: {
		JsonArray *attachments = array_member (body, "attachments");
		JsonObject *first = attachments != NULL && json_array_get_length (attachments) > 0
					? json_array_get_object_element (attachments, 0)
					: NULL;
		if (g_strcmp0 (json_object_get_string_member_with_default (body, "type", NULL), "message") != 0 ||
		    first == NULL ||
		    g_strcmp0 (json_object_get_string_member_with_default (first, "contentType", NULL),
			       "application/vnd.microsoft.card.adaptive") != 0 ||
		    g_strcmp0 (json_object_get_string_member_with_default (object_member (first, "content"), "type",
									       NULL),
			       "AdaptiveCard") != 0)
			stand_bad (stand, "teams: not a Workflows message with an Adaptive Card");
		if (g_bytes_get_size (request->body) >= 28 * 1024)
			stand_bad (stand, "teams: 28 KB or more");
		break;
	}
	case DEST_PAGERDUTY: {
		const char *action = json_object_get_string_member_with_default (body, "event_action", NULL);
		if (g_strcmp0 (json_object_get_string_member_with_default (body, "routing_key", NULL), ROUTING_KEY) != 0 ||
		    (g_strcmp0 (action, "trigger") != 0 && g_strcmp0 (action, "resolve") != 0) ||
		    !json_object_has_member (body, "dedup_key") ||
		    (g_strcmp0 (action, "trigger") == 0 && object_member (body, "payload") == NULL))
			stand_bad (stand, "pagerduty: not an Events API v2 event");
		if (g_strcmp0 (request->path, "/v2/enqueue") != 0)
			stand_bad (stand, "pagerduty: not /v2/enqueue");
		break;
	}
	default:
		break;
	}
	if (type != NULL)
		g_ptr_array_add (stand->seen, g_strdup (type));

	if (stand->n_throttle > 0) {
		stand->n_throttle--;
		request->reply_headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_RESPONSE);
		soup_message_headers_replace (request->reply_headers, "Retry-After", "1");
		stand_reply (request, 429, "text/plain", "rate_limited");
		return;
	}
	if (stand->echo_url) {
		g_autofree char *reply = g_strdup_printf ("{\"message\":\"no such webhook: %s\",\"code\":10015}",
							  request->path);
		stand_reply (request, 400, "application/json", reply);
		return;
	}
	switch (stand->dest) {
	case DEST_SLACK:
		stand_reply (request, 200, "text/plain", "ok");
		break;
	case DEST_DISCORD:
		/* ?wait=true: the created message comes back */
		stand_reply (request, 200, "application/json", "{\"id\":\"1\",\"type\":0}");
		break;
	case DEST_TEAMS:
		/* Workflows answers as soon as the flow is queued */
		stand_reply (request, 202, "text/plain", "");
		break;
	case DEST_PAGERDUTY:
		stand_reply (request, 202, "application/json",
			     "{\"status\":\"success\",\"message\":\"Event processed\",\"dedup_key\":\"k\"}");
		break;
	default:
		break;
	}
}

static void
setup (void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GString) webhooks = g_string_new (NULL);
	g_autofree char *config = NULL;

	dir = astra_test_mkdtemp (&error);
	astra_assert_no_error (error);
	session = astra_test_session_new ();
	for (guint i = 0; i < DEST_LAST; i++) {
		g_autofree char *url = NULL;

		memset (&stands[i], 0, sizeof (Stand));
		stands[i].dest = i;
		stands[i].seen = g_ptr_array_new_with_free_func (g_free);
		stands[i].receiver = astra_test_receiver_new (&error);
		astra_assert_no_error (error);
		astra_test_receiver_set_func (stands[i].receiver, stand_cb, &stands[i]);
		url = astra_test_receiver_get_url (stands[i].receiver, i == DEST_PAGERDUTY ? "/v2/enqueue" : "/hook/T000/B000/secretpath");
		if (i == DEST_PAGERDUTY)
			g_string_append_printf (webhooks, "[webhook pd]\nplugin = pagerduty\nurl = %s\nrouting-key = %s\n\n", url,
						ROUTING_KEY);
		else
			g_string_append_printf (webhooks, "[webhook %s]\nplugin = %s\nurl = %s\ndashboard-url = https://grafana.example/d/agents?var-agent={agent_id}\n\n",
						dest_names[i], dest_names[i], url);
	}
	config = astra_test_write_config (dir, NULL, NULL, webhooks->str, &error);
	astra_assert_no_error (error);
	daemon_proc = astra_test_daemon_start (config, NULL, &error);
	astra_assert_no_error (error);
}

static void
teardown (void)
{
	g_clear_pointer (&daemon_proc, astra_test_daemon_free);
	for (guint i = 0; i < DEST_LAST; i++) {
		g_clear_pointer (&stands[i].receiver, astra_test_receiver_free);
		g_clear_pointer (&stands[i].seen, g_ptr_array_unref);
		g_clear_pointer (&stands[i].first_bad, g_free);
	}
	g_clear_object (&session);
	astra_check_tmpdir_clear (&dir);
}

static void
post_fixture (const char *type)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *url = astra_test_daemon_get_url (daemon_proc, "/v1/reports");
	g_autofree char *body = astra_check_fixture_text (type);
	g_autoptr(AstraTestReply) reply = astra_test_post_json (session, url, body, &error);

	astra_assert_no_error (error);
	ck_assert_msg (reply->status == 202, "%s: HTTP %u", type, reply->status);
}

START_TEST (test_every_event_to_every_destination)
{
	/* PagerDuty pages people: the three informational types are declined by default */
	const guint expected[DEST_LAST] = {7, 7, 7, 4};

	for (guint i = 0; i < ASTRA_CHECK_N_EVENT_TYPES; i++)
		post_fixture (astra_check_event_types[i]);
	for (guint d = 0; d < DEST_LAST; d++) {
		ck_assert_msg (astra_test_receiver_wait (stands[d].receiver, expected[d], ASTRA_TEST_TIMEOUT_MS),
			       "%s got %u of %u requests; log:\n%s", dest_names[d],
			       astra_test_receiver_get_n_requests (stands[d].receiver), expected[d],
			       astra_test_daemon_get_stderr (daemon_proc));
		ck_assert_msg (stands[d].n_bad == 0, "%s: %u bad requests, the first: %s", dest_names[d], stands[d].n_bad,
			       stands[d].first_bad);
	}
	/* every delivery was logged as delivered, the three PagerDuty declined as skipped; none failed */
	ck_assert (astra_test_daemon_wait_log (daemon_proc, ": delivered ", 7 + 7 + 7 + 4, ASTRA_TEST_TIMEOUT_MS));
	ck_assert (astra_test_daemon_wait_log (daemon_proc, "webhook pd: skipped ", 3, ASTRA_TEST_TIMEOUT_MS));
	astra_assert_not_contains (astra_test_daemon_get_stderr (daemon_proc), "secretpath");
	astra_assert_not_contains (astra_test_daemon_get_stderr (daemon_proc), ROUTING_KEY);
	/* nothing more than expected arrives later */
	astra_test_iterate_for (200);
	for (guint d = 0; d < DEST_LAST; d++)
		ck_assert_uint_eq (astra_test_receiver_get_n_requests (stands[d].receiver), expected[d]);
}
END_TEST

START_TEST (test_retry_after_is_obeyed)
{
	gint64 first;
	gint64 second;
	GPtrArray *requests;

	/* Slack says "slow down, 1 s": the same event must come again, no sooner */
	stands[DEST_SLACK].n_throttle = 1;
	post_fixture ("agent.status_changed");
	ck_assert_msg (astra_test_receiver_wait (stands[DEST_SLACK].receiver, 2, ASTRA_TEST_TIMEOUT_MS), "%s",
		       astra_test_daemon_get_stderr (daemon_proc));
	requests = astra_test_receiver_get_requests (stands[DEST_SLACK].receiver);
	first = ((AstraTestRequest *) g_ptr_array_index (requests, 0))->received_mono;
	second = ((AstraTestRequest *) g_ptr_array_index (requests, 1))->received_mono;
	ck_assert_int_ge (second - first, 1000 * 1000 - 20000);
	ck_assert_str_eq (astra_test_request_get_header (g_ptr_array_index (requests, 0), "X-Webhook-Id"),
			  astra_test_request_get_header (g_ptr_array_index (requests, 1), "X-Webhook-Id"));
	ck_assert (g_bytes_equal (((AstraTestRequest *) g_ptr_array_index (requests, 0))->body,
				  ((AstraTestRequest *) g_ptr_array_index (requests, 1))->body));
	astra_assert_contains (astra_test_daemon_get_stderr (daemon_proc), "webhook slack: the receiver asked for a pause of 1.000 s");
	ck_assert (astra_test_daemon_wait_log (daemon_proc, "webhook slack: delivered", 1, ASTRA_TEST_TIMEOUT_MS));
}
END_TEST

/* a receiver that quotes the credential (Discord's URL path) in its error: the reason is
 * blanked out before it reaches the log and the history */
START_TEST (test_reason_quoting_the_url_is_redacted)
{
	stands[DEST_DISCORD].echo_url = TRUE;
	post_fixture ("agent.status_changed");
	ck_assert_msg (astra_test_daemon_wait_log (daemon_proc, "webhook discord: failed", 1, ASTRA_TEST_TIMEOUT_MS), "%s",
		       astra_test_daemon_get_stderr (daemon_proc));
	astra_assert_contains (astra_test_daemon_get_stderr (daemon_proc), "no such webhook: [redacted]");
	astra_assert_not_contains (astra_test_daemon_get_stderr (daemon_proc), "secretpath");
}
END_TEST

int
main (void)
{
	Suite *s = suite_create ("destinations");
	TCase *tc = tcase_create ("destinations");

	/* the daemon logs a delivery at info level: these cases wait for those lines */
	g_setenv ("ASTRA_TEST_DAEMON_MESSAGES_DEBUG", "astra-engine", TRUE);

	tcase_add_checked_fixture (tc, setup, teardown);
	tcase_set_timeout (tc, 60);
	tcase_add_test (tc, test_every_event_to_every_destination);
	tcase_add_test (tc, test_retry_after_is_obeyed);
	tcase_add_test (tc, test_reason_quoting_the_url_is_redacted);
	suite_add_tcase (s, tc);
	return astra_check_run_suite (s);
}
