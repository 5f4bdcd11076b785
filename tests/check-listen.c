/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * `astra-alertctl listen` as a user runs it: the built binary, spawned with
 * --port 0, fed over loopback HTTP by a SoupSession.
 */

#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "astra.h"
#include "astra-check-common.h"

#define LISTEN_SECRET	    "demo-secret-change-me"
#define LISTEN_WHSEC	    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define LISTEN_WHSEC_NEW    "whsec_YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXowMTIzNDU="
#define LISTEN_TIMEOUT_MS   5000
#define LISTEN_MAX_BODY	    (1024 * 1024)
#define LISTEN_MAX_CHILDREN 8
#define LISTEN_EVENT                                                                               \
	"{\"event\":\"alert.triggered\",\"timestamp\":\"2024-05-01T12:00:00Z\",\"data\":{"         \
	"\"alert_id\":\"a1\",\"hostname\":\"edge-7\",\"value\":0.1,\"labels\":{}}}"

/* one end of the child's stdout or stderr, read with a deadline */
typedef struct {
	int fd;
	GString *pending; /* read, not yet returned as a line */
	GString *all;	  /* everything read so far */
} ListenPipe;

typedef struct {
	GSubprocess *proc;
	ListenPipe out;
	ListenPipe err;
	char *url; /* as printed on the "listening on" line */
	int status;
	gboolean finished;
} ListenChild;

/* created inside each (forked) test, released by the teardown even when a test fails */
static ListenChild listen_children[LISTEN_MAX_CHILDREN];
static SoupSession *listen_session;
static char *listen_tmpdir;

static void
listen_pipe_clear (ListenPipe *p)
{
	if (p->fd >= 0)
		g_close (p->fd, NULL);
	p->fd = -1;
	if (p->pending != NULL)
		g_string_free (p->pending, TRUE);
	if (p->all != NULL)
		g_string_free (p->all, TRUE);
	p->pending = NULL;
	p->all = NULL;
}

static void
listen_setup (void)
{
	memset (listen_children, 0, sizeof (listen_children));
	for (guint i = 0; i < LISTEN_MAX_CHILDREN; i++) {
		listen_children[i].out.fd = -1;
		listen_children[i].err.fd = -1;
	}
}

/* kills the child if it still runs, and frees the slot */
static void
listen_child_clear (ListenChild *c)
{
	if (c->proc != NULL) {
		if (!c->finished) {
			g_subprocess_force_exit (c->proc);
			g_subprocess_wait (c->proc, NULL, NULL);
		}
		g_clear_object (&c->proc);
	}
	listen_pipe_clear (&c->out);
	listen_pipe_clear (&c->err);
	g_clear_pointer (&c->url, g_free);
	c->finished = FALSE;
	c->status = 0;
}

static void
listen_teardown (void)
{
	for (guint i = 0; i < LISTEN_MAX_CHILDREN; i++)
		listen_child_clear (&listen_children[i]);
	g_clear_object (&listen_session);
	astra_check_tmpdir_clear (&listen_tmpdir);
}

/* reads until a full line is buffered; NULL at EOF or after @timeout_ms */
static char *
listen_pipe_read_line (ListenPipe *p, guint timeout_ms)
{
	gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

	for (;;) {
		char *nl = memchr (p->pending->str, '\n', p->pending->len);
		struct pollfd pfd = {.fd = p->fd, .events = POLLIN};
		gint64 remaining;
		char buf[4096];
		gssize n;
		int rc;

		if (nl != NULL) {
			gsize len = (gsize) (nl - p->pending->str);
			char *line = g_strndup (p->pending->str, len);
			g_string_erase (p->pending, 0, (gssize) len + 1);
			return line;
		}
		remaining = (deadline - g_get_monotonic_time ()) / 1000;
		if (remaining <= 0)
			return NULL;
		rc = poll (&pfd, 1, (int) remaining);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0)
			return NULL;
		n = read (p->fd, buf, sizeof (buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return NULL;
		g_string_append_len (p->pending, buf, n);
		g_string_append_len (p->all, buf, n);
	}
}

/* reads to EOF (the child exited), or until @timeout_ms; TRUE at EOF */
static gboolean
listen_pipe_read_all (ListenPipe *p, guint timeout_ms)
{
	gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

	for (;;) {
		struct pollfd pfd = {.fd = p->fd, .events = POLLIN};
		gint64 remaining = (deadline - g_get_monotonic_time ()) / 1000;
		char buf[4096];
		gssize n;
		int rc;

		if (remaining <= 0)
			return FALSE;
		rc = poll (&pfd, 1, (int) remaining);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0)
			return FALSE;
		n = read (p->fd, buf, sizeof (buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return FALSE;
		if (n == 0)
			return TRUE;
		g_string_append_len (p->pending, buf, n);
		g_string_append_len (p->all, buf, n);
	}
}

/* reads lines until one contains @needle; fails the test, showing the output, if none does */
static char *
listen_pipe_expect (ListenPipe *p, const char *needle)
{
	for (;;) {
		char *line = listen_pipe_read_line (p, LISTEN_TIMEOUT_MS);

		ck_assert_msg (line != NULL, "no line with '%s' in the output:\n%s", needle, p->all->str);
		if (strstr (line, needle) != NULL)
			return line;
		g_free (line);
	}
}

static void
listen_pipe_init (ListenPipe *p, int fd)
{
	p->fd = fd;
	p->pending = g_string_new (NULL);
	p->all = g_string_new (NULL);
}

static ListenChild *
listen_spawn_argv (GPtrArray *args)
{
	g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
	g_autoptr(GError) error = NULL;
	const char *alertctl = g_getenv ("ASTRA_ALERTCTL");
	ListenChild *c = NULL;
	int out_fds[2];
	int err_fds[2];

	ck_assert_msg (alertctl != NULL, "ASTRA_ALERTCTL is not set; run the test with meson test");
	for (guint i = 0; i < LISTEN_MAX_CHILDREN && c == NULL; i++) {
		if (listen_children[i].proc == NULL)
			c = &listen_children[i];
	}
	ck_assert (c != NULL);
	g_ptr_array_insert (args, 0, (gpointer) alertctl);
	g_ptr_array_add (args, NULL);

	ck_assert (g_unix_open_pipe (out_fds, FD_CLOEXEC, NULL));
	ck_assert (g_unix_open_pipe (err_fds, FD_CLOEXEC, NULL));
	g_subprocess_launcher_take_stdout_fd (launcher, out_fds[1]);
	g_subprocess_launcher_take_stderr_fd (launcher, err_fds[1]);
	/* colours only go to terminals, but make sure a developer's environment cannot change that */
	g_subprocess_launcher_unsetenv (launcher, "NO_COLOR");
	c->proc = g_subprocess_launcher_spawnv (launcher, (const char *const *) args->pdata, &error);
	/* the launcher holds the write ends until it is freed: EOF then means the child is gone */
	g_clear_object (&launcher);
	listen_pipe_init (&c->out, out_fds[0]);
	listen_pipe_init (&c->err, err_fds[0]);
	ck_assert_msg (c->proc != NULL, "cannot run %s: %s", alertctl, error != NULL ? error->message : "");
	return c;
}

/* `listen --port 0 ARGS...`, returning once it printed where it listens */
static ListenChild *
listen_start (const char *first, ...);

static ListenChild *
listen_start (const char *first, ...)
{
	g_autoptr(GPtrArray) args = g_ptr_array_new ();
	g_autofree char *line = NULL;
	g_auto(GStrv) words = NULL;
	gboolean json = FALSE;
	ListenChild *c;
	va_list ap;

	g_ptr_array_add (args, (gpointer) "listen");
	g_ptr_array_add (args, (gpointer) "--port");
	g_ptr_array_add (args, (gpointer) "0");
	va_start (ap, first);
	for (const char *arg = first; arg != NULL; arg = va_arg (ap, const char *)) {
		if (g_strcmp0 (arg, "--json") == 0)
			json = TRUE;
		g_ptr_array_add (args, (gpointer) arg);
	}
	va_end (ap);
	c = listen_spawn_argv (args);

	/* with --json stdout carries bodies only, so the URL goes to stderr */
	line = listen_pipe_read_line (json ? &c->err : &c->out, LISTEN_TIMEOUT_MS);
	if (line == NULL)
		listen_pipe_read_all (&c->err, 100);
	ck_assert_msg (line != NULL, "no 'listening on' line; stderr:\n%s", c->err.all->str);
	ck_assert_msg (g_str_has_prefix (line, "listening on http://127.0.0.1:"), "%s", line);
	words = g_strsplit (line, " ", 4);
	ck_assert (g_strv_length (words) == 4);
	c->url = g_strdup (words[2]);
	return c;
}

/* waits for the child to exit by itself; its exit status, or -1 if it did not */
static int
listen_finish (ListenChild *c, guint timeout_ms)
{
	g_autoptr(GError) error = NULL;

	if (!listen_pipe_read_all (&c->out, timeout_ms))
		return -1;
	listen_pipe_read_all (&c->err, 1000);
	ck_assert (g_subprocess_wait (c->proc, NULL, &error));
	c->finished = TRUE;
	if (g_subprocess_get_if_exited (c->proc))
		c->status = g_subprocess_get_exit_status (c->proc);
	else
		c->status = 128 + g_subprocess_get_term_sig (c->proc);
	return c->status;
}

/* runs a short-lived command: its exit status, its output in c->out.all and c->err.all */
static ListenChild *
listen_run (int *status, const char *first, ...);

static ListenChild *
listen_run (int *status, const char *first, ...)
{
	g_autoptr(GPtrArray) args = g_ptr_array_new ();
	ListenChild *c;
	va_list ap;

	va_start (ap, first);
	for (const char *arg = first; arg != NULL; arg = va_arg (ap, const char *))
		g_ptr_array_add (args, (gpointer) arg);
	va_end (ap);
	c = listen_spawn_argv (args);
	*status = listen_finish (c, LISTEN_TIMEOUT_MS);
	ck_assert_msg (*status >= 0, "the command did not exit; stdout:\n%s\nstderr:\n%s",
		       c->out.all->str, c->err.all->str);
	return c;
}

/* the error of a failed command: exactly one line on stderr */
static void
listen_assert_one_error_line (ListenChild *c, const char *needle)
{
	const char *err = c->err.all->str;
	const char *nl = strchr (err, '\n');

	ck_assert_msg (nl != NULL && nl[1] == '\0', "expected one line on stderr, got:\n%s", err);
	ck_assert_msg (g_str_has_prefix (err, "astra-alertctl"), "%s", err);
	ck_assert_msg (strstr (err, needle) != NULL, "no '%s' in: %s", needle, err);
}

static SoupSession *
listen_get_session (void)
{
	if (listen_session == NULL)
		listen_session = soup_session_new_with_options ("timeout", 10, "proxy-resolver", NULL, NULL);
	return listen_session;
}

/*
 * POSTs @body (chunked when @chunked) to the child's URL plus @path with the
 * NULL-terminated name/value @headers; returns the status, the body in @reply.
 */
static guint
listen_send (ListenChild *c,
	     const char *method,
	     const char *path,
	     GBytes *body,
	     gboolean chunked,
	     char **reply,
	     const char *const *headers)
{
	g_autofree char *url = g_strconcat (c->url, path != NULL ? path : "", NULL);
	g_autoptr(SoupMessage) msg = soup_message_new (method, url);
	g_autoptr(GBytes) response = NULL;
	g_autoptr(GError) error = NULL;
	SoupMessageHeaders *request_headers;

	ck_assert_msg (msg != NULL, "bad URL %s", url);
	request_headers = soup_message_get_request_headers (msg);
	for (guint i = 0; headers != NULL && headers[i] != NULL; i += 2)
		soup_message_headers_append (request_headers, headers[i], headers[i + 1]);
	if (body != NULL && chunked) {
		g_autoptr(GInputStream) stream = g_memory_input_stream_new_from_bytes (body);
		soup_message_set_request_body (msg, "application/json", stream, -1);
	} else if (body != NULL) {
		soup_message_set_request_body_from_bytes (msg, "application/json", body);
	}
	response = soup_session_send_and_read (listen_get_session (), msg, NULL, &error);
	ck_assert_msg (response != NULL, "%s %s: %s", method, url, error->message);
	if (reply != NULL)
		*reply = g_strndup (g_bytes_get_data (response, NULL), g_bytes_get_size (response));
	return soup_message_get_status (msg);
}

static guint
listen_post (ListenChild *c, const char *body, char **reply, const char *first_header, ...);

static guint
listen_post (ListenChild *c, const char *body, char **reply, const char *first_header, ...)
{
	g_autoptr(GPtrArray) headers = g_ptr_array_new ();
	g_autoptr(GBytes) bytes = g_bytes_new (body, strlen (body));
	va_list ap;

	va_start (ap, first_header);
	for (const char *h = first_header; h != NULL; h = va_arg (ap, const char *))
		g_ptr_array_add (headers, (gpointer) h);
	va_end (ap);
	g_ptr_array_add (headers, NULL);
	return listen_send (c, "POST", NULL, bytes, FALSE, reply, (const char *const *) headers->pdata);
}

static char *
listen_sign_astra (const char *secret, const char *body)
{
	g_autoptr(AstraSigner) signer = astra_signer_new (ASTRA_SIGNATURE_SCHEME_ASTRA);

	ck_assert (astra_signer_add_secret (signer, secret, NULL));
	return astra_signer_sign (signer, NULL, 0, (const guint8 *) body, strlen (body));
}

static char *
listen_sign_standard (const char *secret, const char *msg_id, gint64 timestamp, const char *body)
{
	g_autoptr(AstraSigner) signer = astra_signer_new (ASTRA_SIGNATURE_SCHEME_STANDARD_WEBHOOKS);

	ck_assert (astra_signer_add_secret (signer, secret, NULL));
	return astra_signer_sign (signer, msg_id, timestamp, (const guint8 *) body, strlen (body));
}

static char *
listen_write_secret_file (const char *name, const char *contents, int mode)
{
	if (listen_tmpdir == NULL)
		listen_tmpdir = astra_check_tmpdir_new (NULL, "astra-listen", 0700);
	return astra_check_write_file (listen_tmpdir, name, contents, mode);
}

static void
listen_stop (ListenChild *c, int signum, int expected_status)
{
	int status;

	g_subprocess_send_signal (c->proc, signum);
	status = listen_finish (c, LISTEN_TIMEOUT_MS);
	ck_assert_msg (status == expected_status, "exit status %d after signal %d, expected %d; stderr:\n%s",
		       status, signum, expected_status, c->err.all->str);
}

START_TEST (test_listen_signed)
{
	ListenChild *c = listen_start ("--secret", LISTEN_SECRET, "--path", "/events", NULL);
	g_autofree char *sig = listen_sign_astra (LISTEN_SECRET, LISTEN_EVENT);
	g_autofree char *reply = NULL;
	g_autofree char *reply404 = NULL;
	g_autofree char *header = NULL;
	g_autofree char *line = NULL;
	g_autofree char *url = NULL;

	ck_assert_str_eq (g_strrstr (c->url, "/events"), "/events");
	url = g_strdup (c->url);
	/* the daemon's generic plugin posts exactly this */
	ck_assert_uint_eq (listen_post (c, LISTEN_EVENT, &reply, "X-Webhook-Signature", sig,
					"X-Webhook-Id", "evt_listen_1", "X-Webhook-Timestamp",
					"1714564800", NULL),
			   200);
	ck_assert_str_eq (reply, "{\"status\":\"ok\"}");
	header = listen_pipe_expect (&c->out, "id=evt_listen_1");
	ck_assert_msg (strstr (header, "alert.triggered") != NULL, "%s", header);
	ck_assert_msg (strstr (header, "signature OK") != NULL, "%s", header);
	ck_assert_msg (strstr (header, "200") != NULL, "%s", header);
	/* the body, pretty-printed, numbers as sent */
	line = listen_pipe_expect (&c->out, "\"hostname\": \"edge-7\"");
	g_clear_pointer (&line, g_free);
	line = listen_pipe_expect (&c->out, "\"value\": 0.1");

	/* a GitHub-style sha256= prefix is accepted too */
	{
		g_autofree char *prefixed = g_strconcat ("sha256=", sig, NULL);
		ck_assert_uint_eq (listen_post (c, LISTEN_EVENT, NULL, "X-Webhook-Signature", prefixed, NULL), 200);
	}

	/* only POST, only on --path */
	g_free (c->url);
	c->url = g_strndup (url, strlen (url) - strlen ("events"));
	ck_assert_uint_eq (listen_send (c, "POST", "other", NULL, FALSE, &reply404, NULL), 404);
	ck_assert_msg (strstr (reply404, "\"error\"") != NULL, "%s", reply404);
	g_free (c->url);
	c->url = g_strdup (url);
	ck_assert_uint_eq (listen_send (c, "GET", NULL, NULL, FALSE, NULL, NULL), 405);

	listen_stop (c, SIGTERM, 0);
	/* no colour on a pipe, and the secret is never printed */
	ck_assert (strchr (c->out.all->str, '\033') == NULL);
	ck_assert (strstr (c->out.all->str, LISTEN_SECRET) == NULL);
	ck_assert (strstr (c->err.all->str, LISTEN_SECRET) == NULL);
}
END_TEST

START_TEST (test_listen_bad_signature)
{
	ListenChild *c = listen_start ("--secret", LISTEN_SECRET, NULL);
	g_autofree char *expected = listen_sign_astra (LISTEN_SECRET, LISTEN_EVENT);
	g_autofree char *wrong = listen_sign_astra ("not-the-secret", LISTEN_EVENT);
	g_autofree char *reply_wrong = NULL;
	g_autofree char *reply_missing = NULL;
	g_autofree char *reply_malformed = NULL;
	g_autofree char *reply_tampered = NULL;
	g_autofree char *line = NULL;
	g_autofree char *tampered = g_strdup (LISTEN_EVENT);

	ck_assert_uint_eq (listen_post (c, LISTEN_EVENT, &reply_wrong, "X-Webhook-Signature", wrong,
					"X-Webhook-Id", "evt_wrong", NULL),
			   401);
	ck_assert_str_eq (reply_wrong, "{\"error\":\"signature does not match\"}");
	line = listen_pipe_expect (&c->out, "id=evt_wrong");
	ck_assert_msg (strstr (line, "BAD SIGNATURE") != NULL, "%s", line);
	ck_assert_msg (strstr (line, "does not match") != NULL, "%s", line);
	ck_assert_msg (strstr (line, "401") != NULL, "%s", line);

	ck_assert_uint_eq (listen_post (c, LISTEN_EVENT, &reply_missing, "X-Webhook-Id", "evt_missing", NULL),
			   401);
	ck_assert_msg (strstr (reply_missing, "missing X-Webhook-Signature") != NULL, "%s", reply_missing);
	g_clear_pointer (&line, g_free);
	line = listen_pipe_expect (&c->out, "id=evt_missing");
	ck_assert_msg (strstr (line, "BAD SIGNATURE (missing X-Webhook-Signature header)") != NULL, "%s", line);

	ck_assert_uint_eq (listen_post (c, LISTEN_EVENT, &reply_malformed, "X-Webhook-Signature", "zz", NULL),
			   401);
	ck_assert_msg (strstr (reply_malformed, "malformed") != NULL, "%s", reply_malformed);

	/* the right signature over other bytes */
	tampered[strlen (tampered) - 3] = '2';
	ck_assert_uint_eq (listen_post (c, tampered, &reply_tampered, "X-Webhook-Signature", expected,
					"X-Webhook-Id", "evt_tampered", NULL),
			   401);
	g_clear_pointer (&line, g_free);
	line = listen_pipe_expect (&c->out, "id=evt_tampered");
	ck_assert_msg (strstr (line, "BAD SIGNATURE") != NULL, "%s", line);

	/* still serving after all that */
	ck_assert_uint_eq (listen_post (c, LISTEN_EVENT, NULL, "X-Webhook-Signature", expected, NULL), 200);
	listen_stop (c, SIGINT, 0);

	/* neither the secret nor the signature it expected is ever shown */
	for (guint i = 0; i < 2; i++) {
		const char *text = i == 0 ? c->out.all->str : c->err.all->str;
		ck_assert (strstr (text, LISTEN_SECRET) == NULL);
		ck_assert (strstr (text, expected) == NULL);
	}
	ck_assert (strstr (reply_wrong, expected) == NULL);
	ck_assert (strstr (reply_tampered, expected) == NULL);
}
END_TEST

START_TEST (test_listen_unsigned)
{
	ListenChild *c = listen_start (NULL);
	g_autoptr(GString) deep = g_string_new (NULL);
	g_autofree char *line = NULL;
	static const char hostile_text[] = "not json \033[2J\033]0;owned\007 \xc2\x9b" "31m \xe2\x80\xae evil \xff\xfe";
	static const char hostile_json[] = "{\"event\":\"x\\u001b[31mred\\u2028\",\"data\":\"\xc2\x85\xe2\x80\xae\"}";
	g_autoptr(GBytes) nul_body = g_bytes_new ("{\"a\":1}\0tail", 12);

	ck_assert_msg (strstr (c->url, "/") != NULL, "%s", c->url);
	ck_assert_uint_eq (listen_post (c, LISTEN_EVENT, NULL, "X-Webhook-Id", "evt_unsigned", NULL), 200);
	line = listen_pipe_expect (&c->out, "id=evt_unsigned");
	ck_assert_msg (strstr (line, "unsigned") != NULL, "%s", line);

	/* hostile input: answered, and nothing reaches the terminal raw */
	ck_assert_uint_eq (listen_post (c, hostile_text, NULL, "X-Webhook-Id", "\xe2\x80\xae" "di", NULL), 200);
	ck_assert_uint_eq (listen_post (c, hostile_json, NULL, NULL), 200);
	ck_assert_uint_eq (listen_post (c, "", NULL, NULL), 200);
	ck_assert_uint_eq (listen_send (c, "POST", NULL, nul_body, FALSE, NULL, NULL), 200);
	for (guint i = 0; i < 100000; i++)
		g_string_append_c (deep, '[');
	ck_assert_uint_eq (listen_post (c, deep->str, NULL, NULL), 200);
	ck_assert_uint_eq (listen_post (c, "[1e999, -0, 12345678901234567890]", NULL, NULL), 200);
	ck_assert_uint_eq (listen_post (c, "{\"event\":{\"nested\":true},\"data\":[]}", NULL, NULL), 200);
	g_clear_pointer (&line, g_free);
	line = listen_pipe_expect (&c->out, "\"nested\": true");
	listen_stop (c, SIGTERM, 0);

	ck_assert_msg (strchr (c->out.all->str, '\033') == NULL, "raw escape in:\n%s", c->out.all->str);
	ck_assert (strstr (c->out.all->str, "\xc2\x9b") == NULL);
	ck_assert (strstr (c->out.all->str, "\xc2\x85") == NULL);
	ck_assert (strstr (c->out.all->str, "\xe2\x80\xae") == NULL);
	ck_assert (strstr (c->out.all->str, "\007") == NULL);
	ck_assert (g_utf8_validate (c->out.all->str, (gssize) c->out.all->len, NULL));
	ck_assert_msg (strstr (c->out.all->str, "\\x1b[2J") != NULL, "%s", c->out.all->str);
	ck_assert_msg (strstr (c->out.all->str, "(not JSON") != NULL, "%s", c->out.all->str);
	ck_assert_msg (strstr (c->out.all->str, "(empty body)") != NULL, "%s", c->out.all->str);
	ck_assert_msg (strstr (c->out.all->str, "more bytes)") != NULL, "%s", c->out.all->str);
}
END_TEST

START_TEST (test_listen_standard)
{
	ListenChild *c = listen_start ("--standard-webhooks", "--secret", LISTEN_WHSEC, "--secret",
				       LISTEN_WHSEC_NEW, NULL);
	gint64 now = g_get_real_time () / G_USEC_PER_SEC;
	g_autofree char *now_str = g_strdup_printf ("%" G_GINT64_FORMAT, now);
	g_autofree char *stale_str = g_strdup_printf ("%" G_GINT64_FORMAT, now - 3600);
	g_autofree char *sig_old = listen_sign_standard (LISTEN_WHSEC, "msg_1", now, LISTEN_EVENT);
	g_autofree char *sig_new = listen_sign_standard (LISTEN_WHSEC_NEW, "msg_2", now, LISTEN_EVENT);
	g_autofree char *sig_stale = listen_sign_standard (LISTEN_WHSEC, "msg_3", now - 3600, LISTEN_EVENT);
	g_autofree char *sig_astra = listen_sign_astra (LISTEN_SECRET, LISTEN_EVENT);
	g_autofree char *reply = NULL;
	g_autofree char *reply_stale = NULL;
	g_autofree char *line = NULL;

	ck_assert_msg (strstr (c->out.all->str, "Standard Webhooks v1, 2 secrets") != NULL, "%s",
		       c->out.all->str);
	/* either secret of a rotation */
	ck_assert_uint_eq (listen_post (c, LISTEN_EVENT, &reply, "webhook-id", "msg_1", "webhook-timestamp",
					now_str, "webhook-signature", sig_old, NULL),
			   200);
	ck_assert_str_eq (reply, "{\"status\":\"ok\"}");
	line = listen_pipe_expect (&c->out, "id=msg_1");
	ck_assert_msg (strstr (line, "signature OK") != NULL, "%s", line);
	ck_assert_uint_eq (listen_post (c, LISTEN_EVENT, NULL, "webhook-id", "msg_2", "webhook-timestamp",
					now_str, "webhook-signature", sig_new, NULL),
			   200);

	/* correctly signed, but too old to be anything but a replay */
	ck_assert_uint_eq (listen_post (c, LISTEN_EVENT, &reply_stale, "webhook-id", "msg_3",
					"webhook-timestamp", stale_str, "webhook-signature", sig_stale, NULL),
			   401);
	ck_assert_msg (strstr (reply_stale, "timestamp too old") != NULL, "%s", reply_stale);
	g_clear_pointer (&line, g_free);
	line = listen_pipe_expect (&c->out, "id=msg_3");
	ck_assert_msg (strstr (line, "BAD SIGNATURE (timestamp too old") != NULL, "%s", line);

	/* a signature for another id; missing, malformed and ambiguous headers */
	ck_assert_uint_eq (listen_post (c, LISTEN_EVENT, NULL, "webhook-id", "msg_other", "webhook-timestamp",
					now_str, "webhook-signature", sig_old, NULL),
			   401);
	ck_assert_uint_eq (listen_post (c, LISTEN_EVENT, NULL, "webhook-timestamp", now_str,
					"webhook-signature", sig_old, NULL),
			   401);
	ck_assert_uint_eq (listen_post (c, LISTEN_EVENT, NULL, "webhook-id", "msg_1", "webhook-signature",
					sig_old, NULL),
			   401);
	ck_assert_uint_eq (listen_post (c, LISTEN_EVENT, NULL, "webhook-id", "msg_1", "webhook-timestamp",
					"yesterday", "webhook-signature", sig_old, NULL),
			   401);
	ck_assert_uint_eq (listen_post (c, LISTEN_EVENT, NULL, "webhook-id", "msg_1", "webhook-timestamp",
					"-1", "webhook-signature", sig_old, NULL),
			   401);
	ck_assert_uint_eq (listen_post (c, LISTEN_EVENT, NULL, "webhook-id", "a.b", "webhook-timestamp",
					now_str, "webhook-signature", sig_old, NULL),
			   401);
	ck_assert_uint_eq (listen_post (c, LISTEN_EVENT, NULL, "webhook-id", "msg_1", "webhook-timestamp",
					now_str, "webhook-signature", "v1,garbage v2,x", NULL),
			   401);
	/* the other scheme's header means nothing here */
	ck_assert_uint_eq (listen_post (c, LISTEN_EVENT, NULL, "X-Webhook-Signature", sig_astra, NULL), 401);
	listen_stop (c, SIGTERM, 0);
	ck_assert (strstr (c->out.all->str, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") == NULL);
	ck_assert (strstr (c->err.all->str, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") == NULL);
}
END_TEST

START_TEST (test_listen_secret_file)
{
	g_autofree char *good = listen_write_secret_file ("rotation.key",
							  LISTEN_WHSEC "\n" LISTEN_WHSEC_NEW "\n", 0600);
	g_autofree char *plain = listen_write_secret_file ("plain.key", LISTEN_SECRET "\n", 0640);
	g_autofree char *open = listen_write_secret_file ("open.key", LISTEN_SECRET "\n", 0644);
	g_autofree char *empty = listen_write_secret_file ("empty.key", "\n", 0600);
	g_autofree char *missing = g_build_filename (listen_tmpdir, "missing.key", NULL);
	gint64 now = g_get_real_time () / G_USEC_PER_SEC;
	g_autofree char *now_str = g_strdup_printf ("%" G_GINT64_FORMAT, now);
	g_autofree char *sig_new = listen_sign_standard (LISTEN_WHSEC_NEW, "msg_f", now, LISTEN_EVENT);
	g_autofree char *sig_astra = listen_sign_astra (LISTEN_SECRET, LISTEN_EVENT);
	ListenChild *c;
	int status = 0;

	/* several secrets in one file, for a rotation */
	c = listen_start ("--standard-webhooks", "--secret-file", good, NULL);
	ck_assert_uint_eq (listen_post (c, LISTEN_EVENT, NULL, "webhook-id", "msg_f", "webhook-timestamp",
					now_str, "webhook-signature", sig_new, NULL),
			   200);
	listen_stop (c, SIGTERM, 0);

	/* the astra scheme: the file's one line, without its newline */
	c = listen_start ("--secret-file", plain, NULL);
	ck_assert_uint_eq (listen_post (c, LISTEN_EVENT, NULL, "X-Webhook-Signature", sig_astra, NULL), 200);
	listen_stop (c, SIGTERM, 0);

	/* the SDK's rule: a secret others can read is refused, with what to do */
	c = listen_run (&status, "listen", "--port", "0", "--secret-file", open, NULL);
	ck_assert_int_eq (status, 1);
	listen_assert_one_error_line (c, "readable by others");
	listen_assert_one_error_line (c, "chmod");
	ck_assert (strstr (c->err.all->str, LISTEN_SECRET) == NULL);
	ck_assert_str_eq (c->out.all->str, "");

	c = listen_run (&status, "listen", "--port", "0", "--secret-file", missing, NULL);
	ck_assert_int_eq (status, 1);
	listen_assert_one_error_line (c, "missing.key");

	c = listen_run (&status, "listen", "--port", "0", "--secret-file", empty, NULL);
	ck_assert_int_eq (status, 1);
	listen_assert_one_error_line (c, "empty");
}
END_TEST

START_TEST (test_listen_too_large)
{
	ListenChild *c = listen_start (NULL);
	g_autofree char *big_data = g_malloc (LISTEN_MAX_BODY + 1);
	g_autoptr(GBytes) big = NULL;
	g_autoptr(GBytes) limit = NULL;
	g_autofree char *reply = NULL;
	static const char *const expect[] = {"Expect", "100-continue", NULL};

	memset (big_data, ' ', LISTEN_MAX_BODY + 1);
	big = g_bytes_new_static (big_data, LISTEN_MAX_BODY + 1);
	limit = g_bytes_new_static (big_data, LISTEN_MAX_BODY);

	/* refused from the Content-Length, before the body is sent */
	ck_assert_uint_eq (listen_send (c, "POST", NULL, big, FALSE, &reply, expect), 413);
	ck_assert_msg (strstr (reply, "\"error\"") != NULL, "%s", reply);
	/* chunked: refused once it grows past the limit */
	ck_assert_uint_eq (listen_send (c, "POST", NULL, big, TRUE, NULL, NULL), 413);
	/* exactly the limit is fine, either way */
	ck_assert_uint_eq (listen_send (c, "POST", NULL, limit, FALSE, NULL, NULL), 200);
	ck_assert_uint_eq (listen_send (c, "POST", NULL, limit, TRUE, NULL, NULL), 200);
	g_free (listen_pipe_expect (&c->out, "413"));
	listen_stop (c, SIGTERM, 0);
	ck_assert_msg (strstr (c->out.all->str, "body over 1 MiB") != NULL, "%s", c->out.all->str);
}
END_TEST

START_TEST (test_listen_count)
{
	ListenChild *c = listen_start ("--secret", LISTEN_SECRET, "--count", "2", "--quiet", NULL);
	g_autofree char *sig = listen_sign_astra (LISTEN_SECRET, LISTEN_EVENT);
	g_autofree char *reply = NULL;

	ck_assert_uint_eq (listen_post (c, LISTEN_EVENT, NULL, "X-Webhook-Signature", sig, NULL), 200);
	/* rejected requests do not count */
	ck_assert_uint_eq (listen_post (c, LISTEN_EVENT, NULL, "X-Webhook-Signature", "0", NULL), 401);
	ck_assert_uint_eq (listen_send (c, "GET", NULL, NULL, FALSE, NULL, NULL), 405);
	ck_assert_uint_eq (listen_post (c, LISTEN_EVENT, &reply, "X-Webhook-Signature", sig, NULL), 200);
	/* the last one was answered in full before the exit */
	ck_assert_str_eq (reply, "{\"status\":\"ok\"}");
	ck_assert_int_eq (listen_finish (c, LISTEN_TIMEOUT_MS), 0);
	/* --quiet: one line per request, no body */
	ck_assert (strstr (c->out.all->str, "edge-7") == NULL);
	ck_assert_msg (strstr (c->out.all->str, "signature OK") != NULL, "%s", c->out.all->str);

	/* stopped before the count was reached: not a success */
	c = listen_start ("--count", "3", NULL);
	ck_assert_uint_eq (listen_post (c, LISTEN_EVENT, NULL, NULL), 200);
	listen_stop (c, SIGTERM, 1);
	listen_assert_one_error_line (c, "1 of the 3");
}
END_TEST

START_TEST (test_listen_json)
{
	ListenChild *c = listen_start ("--json", "--secret", LISTEN_SECRET, "--count", "2", NULL);
	static const char multi_line[] = "{\n  \"event\": \"agent.registered\",\n  \"data\": {\"n\": 1.50}\n}";
	g_autofree char *sig1 = listen_sign_astra (LISTEN_SECRET, LISTEN_EVENT);
	g_autofree char *sig2 = listen_sign_astra (LISTEN_SECRET, multi_line);
	g_autofree char *expected = NULL;

	ck_assert_uint_eq (listen_post (c, LISTEN_EVENT, NULL, "X-Webhook-Signature", sig1, NULL), 200);
	ck_assert_uint_eq (listen_post (c, LISTEN_EVENT, NULL, "X-Webhook-Signature", sig2, NULL), 401);
	ck_assert_uint_eq (listen_post (c, multi_line, NULL, "X-Webhook-Signature", sig2, NULL), 200);
	ck_assert_int_eq (listen_finish (c, LISTEN_TIMEOUT_MS), 0);
	/* only the accepted bodies, one per line: as sent, or compact if they spanned lines */
	expected = g_strconcat (LISTEN_EVENT, "\n",
				"{\"event\":\"agent.registered\",\"data\":{\"n\":1.5}}\n", NULL);
	ck_assert_str_eq (c->out.all->str, expected);
	ck_assert_msg (strstr (c->err.all->str, "BAD SIGNATURE") != NULL, "%s", c->err.all->str);
}
END_TEST

START_TEST (test_listen_port_in_use)
{
	ListenChild *first = listen_start ("--quiet", NULL);
	const char *port_start = strrchr (first->url, ':') + 1;
	g_autofree char *port = g_strndup (port_start, strspn (port_start, "0123456789"));
	ListenChild *second;
	int status = 0;

	second = listen_run (&status, "listen", "--port", port, NULL);
	ck_assert_int_eq (status, 1);
	listen_assert_one_error_line (second, "--port");
	listen_stop (first, SIGTERM, 0);
}
END_TEST

START_TEST (test_listen_usage)
{
	struct {
		const char *args[6];
		int status;
		const char *needle; /* in stdout for 0, in the one stderr line otherwise */
	} cases[] = {
	    {{"--help"}, 0, "listen"},
	    {{"-h"}, 0, "Exit status"},
	    {{"help"}, 0, "Commands:"},
	    {{"help", "listen"}, 0, "Examples:"},
	    {{"listen", "--help"}, 0, "astra-alertctl listen --port 8471 --secret demo-secret-change-me"},
	    {{"--version"}, 0, PACKAGE_VERSION},
	    {{NULL}, 2, "--help"},
	    {{"frobnicate"}, 2, "'frobnicate' is not a command"},
	    {{"help", "frobnicate"}, 2, "not a command"},
	    {{"--frobnicate"}, 2, "unknown option"},
	    {{"listen", "--frobnicate"}, 2, "--help"},
	    {{"listen", "extra"}, 2, "unexpected argument"},
	    {{"listen", "--port", "70000"}, 2, "0 to 65535"},
	    {{"listen", "--port", "-1"}, 2, "--port"},
	    {{"listen", "--address", "example.org"}, 2, "not an IP address"},
	    {{"listen", "--count", "0"}, 2, "--count"},
	    {{"listen", "--path", "events"}, 2, "starting with '/'"},
	    {{"listen", "--json", "--quiet"}, 2, "--json"},
	    {{"listen", "--standard-webhooks"}, 2, "--secret"},
	    {{"listen", "--secret", "a", "--secret", "b"}, 2, "--standard-webhooks"},
	    {{"listen", "--secret", "a", "--secret-file", "/dev/null"}, 2, "not both"},
	    {{"listen", "--secret", ""}, 2, "empty"},
	    {{"listen", "--standard-webhooks", "--secret", "whsec_not*base64"}, 2, "base64"},
	};

	for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
		g_autoptr(GPtrArray) args = g_ptr_array_new ();
		ListenChild *c;
		int status;

		for (guint j = 0; cases[i].args[j] != NULL; j++)
			g_ptr_array_add (args, (gpointer) cases[i].args[j]);
		c = listen_spawn_argv (args);
		status = listen_finish (c, LISTEN_TIMEOUT_MS);
		ck_assert_msg (status == cases[i].status, "case %u (%s): exit %d, expected %d; stderr: %s", i,
			       cases[i].args[0] != NULL ? cases[i].args[0] : "(none)", status, cases[i].status,
			       c->err.all->str);
		if (cases[i].status == 0) {
			ck_assert_msg (strstr (c->out.all->str, cases[i].needle) != NULL, "case %u: %s", i,
				       c->out.all->str);
			ck_assert_str_eq (c->err.all->str, "");
		} else {
			listen_assert_one_error_line (c, cases[i].needle);
			ck_assert_str_eq (c->out.all->str, "");
		}
		listen_child_clear (c);
	}
}
END_TEST

static Suite *
listen_suite (void)
{
	Suite *s = suite_create ("listen");
	TCase *tc = tcase_create ("listen");

	tcase_add_checked_fixture (tc, listen_setup, listen_teardown);
	tcase_set_timeout (tc, 30);
	tcase_add_test (tc, test_listen_signed);
	tcase_add_test (tc, test_listen_bad_signature);
	tcase_add_test (tc, test_listen_unsigned);
	tcase_add_test (tc, test_listen_standard);
	tcase_add_test (tc, test_listen_secret_file);
	tcase_add_test (tc, test_listen_too_large);
	tcase_add_test (tc, test_listen_count);
	tcase_add_test (tc, test_listen_json);
	tcase_add_test (tc, test_listen_port_in_use);
	tcase_add_test (tc, test_listen_usage);
	suite_add_tcase (s, tc);
	return s;
}

int
main (void)
{
	return astra_check_run_suite (listen_suite ());
}
