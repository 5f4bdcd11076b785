/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Helpers for the integration suites and benchmarks that run the real
 * astra-alertd: temp folders, configs, the daemon as a subprocess, loopback
 * receivers and HTTP requests, all driven from the thread-default main
 * context with bounded waits instead of sleeps.
 *
 * Nothing here may run in check's parent process: call these from test
 * functions or checked fixtures (they start GLib worker threads).
 */

#pragma once

#include <gio/gio.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

/* how long any one wait may take before a test gives up */
#define ASTRA_TEST_TIMEOUT_MS 10000

/* the AstraNetmon documentation's example event; already canonical */
#define ASTRA_TEST_DOCS_EVENT                                                                      \
	"{\"event\":\"agent.status_changed\",\"timestamp\":\"2025-12-17T10:30:00Z\",\"data\":{"    \
	"\"agent_id\":\"agent-123\",\"hostname\":\"server-01\",\"previous_status\":\"online\","    \
	"\"current_status\":\"offline\",\"tenant_id\":\"tenant-abc\"}}"

/* environment: the value of NAME, or NULL with @error set naming the variable */
const char *astra_test_getenv (const char *name, GError **error);

/* folders and files (removing them: astra_check_rmtree() in astra-check-common.h) */
char *astra_test_mkdtemp (GError **error);
char *astra_test_write_file (const char *dir, const char *name, const char *contents,
			     GError **error);
gboolean astra_test_copy_file (const char *src, const char *dest, guint mode, GError **error);

/* writes DIR/astra-alertd.conf: a [daemon] group listening on 127.0.0.1:0 with
 * its state in DIR/state and plugins from ASTRA_PLUGIN_BUILD_DIR (or
 * @plugin_dir), then @daemon_extra lines (may be NULL) and @webhooks verbatim */
char *astra_test_write_config (const char *dir, const char *plugin_dir, const char *daemon_extra,
			       const char *webhooks, GError **error);

/* waiting: iterates the thread-default context until @func returns TRUE or
 * @timeout_ms pass; returns the last value of @func */
typedef gboolean (*AstraTestCondFunc) (gpointer user_data);
gboolean astra_test_wait_until (AstraTestCondFunc func, gpointer user_data, guint timeout_ms);
/* iterates for @ms at most, returning early never: for bounded "nothing happens" windows */
void astra_test_iterate_for (guint ms);

/* one request a receiver got */
typedef struct {
	char *method;
	char *path;
	SoupMessageHeaders *headers;
	GBytes *body;
	gint64 received_mono; /* g_get_monotonic_time() when the body was complete */
	gint64 received_real; /* g_get_real_time() likewise */
	/* a receiver func may set the reply: status (0: the receiver's), body and extra headers */
	guint reply_status;
	char *reply_content_type;
	GBytes *reply_body;
	SoupMessageHeaders *reply_headers;
} AstraTestRequest;

void astra_test_request_free (AstraTestRequest *request);
const char *astra_test_request_get_header (AstraTestRequest *request, const char *name);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AstraTestRequest, astra_test_request_free)

/* a loopback SoupServer on 127.0.0.1 and a kernel-chosen port, answering
 * every request with a configurable status (200 by default) and recording it */
typedef struct _AstraTestReceiver AstraTestReceiver;

/* called for each request as it is recorded; the request stays owned by the receiver */
typedef void (*AstraTestReceiverFunc) (AstraTestReceiver *receiver, AstraTestRequest *request,
				       gpointer user_data);

AstraTestReceiver *astra_test_receiver_new (GError **error);
void astra_test_receiver_free (AstraTestReceiver *self);
guint16 astra_test_receiver_get_port (AstraTestReceiver *self);
/* http://127.0.0.1:PORT + @path */
char *astra_test_receiver_get_url (AstraTestReceiver *self, const char *path);
void astra_test_receiver_set_status (AstraTestReceiver *self, guint status);
/* delays each answer by @ms; G_MAXUINT never answers (the connection hangs until freed) */
void astra_test_receiver_set_delay (AstraTestReceiver *self, guint ms);
/* FALSE stops keeping requests (the callback still sees them): for benchmarks */
void astra_test_receiver_set_keep (AstraTestReceiver *self, gboolean keep);
void astra_test_receiver_set_func (AstraTestReceiver *self, AstraTestReceiverFunc func,
				   gpointer user_data);
GPtrArray *astra_test_receiver_get_requests (AstraTestReceiver *self);
guint astra_test_receiver_get_n_requests (AstraTestReceiver *self);
/* how many TCP connections requests came on (distinct client ADDR:PORT) */
guint astra_test_receiver_get_n_connections (AstraTestReceiver *self);
/* waits until at least @n requests were received (kept or not) */
gboolean astra_test_receiver_wait (AstraTestReceiver *self, guint n, guint timeout_ms);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AstraTestReceiver, astra_test_receiver_free)

/* astra-alertd (ASTRA_ALERTD, or @binary) as a subprocess, its stdout and
 * stderr read as they come */
typedef struct _AstraTestDaemon AstraTestDaemon;

typedef enum {
	ASTRA_TEST_DAEMON_FLAG_NONE = 0,
	/* stderr goes to a file beside the config instead of being kept in memory */
	ASTRA_TEST_DAEMON_FLAG_LOG_TO_FILE = 1 << 0,
} AstraTestDaemonFlags;

/* spawns and returns at once; argv is the binary, "--config" @config_path and @extra_args */
AstraTestDaemon *astra_test_daemon_spawn (const char *binary, const char *config_path,
					  const char *const *extra_args,
					  const char *const *extra_env, AstraTestDaemonFlags flags,
					  GError **error);
/* spawn, then wait for its "listening on http://ADDR:PORT/" line */
AstraTestDaemon *astra_test_daemon_start (const char *config_path, const char *const *extra_args,
					  GError **error);
gboolean astra_test_daemon_wait_listening (AstraTestDaemon *self, guint timeout_ms, GError **error);
void astra_test_daemon_free (AstraTestDaemon *self);
GPid astra_test_daemon_get_pid (AstraTestDaemon *self);
/* http://ADDR:PORT + @path, once listening */
char *astra_test_daemon_get_url (AstraTestDaemon *self, const char *path);
/* everything written so far (stderr, and stdout after it is all read) */
const char *astra_test_daemon_get_stderr (AstraTestDaemon *self);
const char *astra_test_daemon_get_stdout (AstraTestDaemon *self);
/* the number of times @needle occurs in stderr so far */
guint astra_test_daemon_count_log (AstraTestDaemon *self, const char *needle);
/* waits until stderr holds @needle at least @n times */
gboolean astra_test_daemon_wait_log (AstraTestDaemon *self, const char *needle, guint n,
				     guint timeout_ms);
void astra_test_daemon_send_signal (AstraTestDaemon *self, int signum);
gboolean astra_test_daemon_has_exited (AstraTestDaemon *self);
/* waits for the exit and for both pipes to be read to the end; FALSE on timeout */
gboolean astra_test_daemon_wait_exit (AstraTestDaemon *self, guint timeout_ms);
/* the exit status when it exited normally, else -1 (killed by a signal) */
int astra_test_daemon_get_exit_status (AstraTestDaemon *self);
/* the number of file descriptors it has open, -1 if unknown */
int astra_test_daemon_get_n_fds (AstraTestDaemon *self);
/* VmHWM from /proc/PID/status in KiB, 0 if unknown */
guint64 astra_test_daemon_get_peak_rss_kib (AstraTestDaemon *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AstraTestDaemon, astra_test_daemon_free)

/* runs a program to completion with a deadline, capturing its output */
gboolean astra_test_run (const char *const *argv, const char *const *extra_env, const char *cwd,
			 guint timeout_ms, int *exit_status, char **out_stdout, char **out_stderr,
			 GError **error);

/* HTTP client side */
typedef struct {
	guint status;
	SoupMessageHeaders *headers;
	GBytes *body;
} AstraTestReply;

void astra_test_reply_free (AstraTestReply *reply);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AstraTestReply, astra_test_reply_free)

SoupSession *astra_test_session_new (void);
/* sends one request and waits (iterating the context) for the whole reply;
 * @body may be NULL; with @chunked the body is sent with chunked transfer
 * encoding instead of a Content-Length */
AstraTestReply *astra_test_http (SoupSession *session, const char *method, const char *url,
				 const char *content_type, const void *body, gsize body_len,
				 gboolean chunked, GError **error);
AstraTestReply *astra_test_post_json (SoupSession *session, const char *url, const char *json,
				      GError **error);
/* writes @request as is to a TCP connection to @url's host and port and
 * reads until the server closes (10 s at most): for requests libsoup would
 * not send, e.g. a Content-Length with no body */
GBytes *astra_test_raw_http (const char *url, const char *request, gsize request_len,
			     GError **error);

/* what every daemon-driving test starts from: a temp folder, a session, one receiver,
 * and (once started) the daemon and its config */
typedef struct {
	char *dir;
	char *config_path;
	SoupSession *session;
	AstraTestReceiver *receiver;
	AstraTestDaemon *daemon;
} AstraTestEnv;

void astra_test_env_setup (AstraTestEnv *env);
void astra_test_env_teardown (AstraTestEnv *env);

G_END_DECLS
