/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Shared helpers for the integration suites and benchmarks: see astra-test-util.h.
 */

#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "astra-check-common.h"
#include "astra-test-util.h"

const char *
astra_test_getenv (const char *name, GError **error)
{
	const char *value = g_getenv (name);

	if (value == NULL || value[0] == '\0') {
		g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
			     "%s is not set: run the test through meson test", name);
		return NULL;
	}
	return value;
}

char *
astra_test_mkdtemp (GError **error)
{
	return g_dir_make_tmp ("astra-test-XXXXXX", error);
}

char *
astra_test_write_file (const char *dir, const char *name, const char *contents, GError **error)
{
	g_autofree char *path = g_build_filename (dir, name, NULL);

	if (!g_file_set_contents (path, contents, -1, error))
		return NULL;
	return g_steal_pointer (&path);
}

gboolean
astra_test_copy_file (const char *src, const char *dest, guint mode, GError **error)
{
	g_autofree char *data = NULL;
	gsize len = 0;

	if (!g_file_get_contents (src, &data, &len, error))
		return FALSE;
	if (!g_file_set_contents_full (dest, data, (gssize) len, G_FILE_SET_CONTENTS_NONE,
				       (int) mode, error))
		return FALSE;
	/* the umask may have taken bits the caller asked for (e.g. o+w) */
	if (g_chmod (dest, (int) mode) != 0) {
		int errsv = errno;
		g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv), "%s: %s", dest,
			     g_strerror (errsv));
		return FALSE;
	}
	return TRUE;
}

char *
astra_test_write_config (const char *dir, const char *plugin_dir, const char *daemon_extra,
			 const char *webhooks, GError **error)
{
	g_autoptr(GString) str = g_string_new (NULL);
	g_autofree char *state_dir = g_build_filename (dir, "state", NULL);

	if (plugin_dir == NULL) {
		plugin_dir = astra_test_getenv ("ASTRA_PLUGIN_BUILD_DIR", error);
		if (plugin_dir == NULL)
			return NULL;
	}
	g_string_append (str, "[daemon]\n");
	g_string_append (str, "listen = 127.0.0.1:0\n");
	g_string_append_printf (str, "state-dir = %s\n", state_dir);
	g_string_append_printf (str, "plugin-dir = %s\n", plugin_dir);
	if (daemon_extra != NULL)
		g_string_append_printf (str, "%s\n", daemon_extra);
	if (webhooks != NULL)
		g_string_append_printf (str, "\n%s\n", webhooks);
	return astra_test_write_file (dir, "astra-alertd.conf", str->str, error);
}

/* waiting */

static gboolean
astra_test_flag_cb (gpointer user_data)
{
	*(gboolean *) user_data = TRUE;
	return G_SOURCE_REMOVE;
}

static gboolean
astra_test_tick_cb (gpointer user_data)
{
	return G_SOURCE_CONTINUE;
}

/* @poll_ms > 0 wakes the loop that often, for conditions no event source reports (a file growing)
 */
static gboolean
astra_test_wait_until_full (AstraTestCondFunc func, gpointer user_data, guint timeout_ms,
			    guint poll_ms)
{
	g_autoptr(GMainContext) context = g_main_context_ref_thread_default ();
	g_autoptr(GSource) deadline = g_timeout_source_new (timeout_ms);
	g_autoptr(GSource) ticker = NULL;
	gboolean expired = FALSE;
	gboolean ok;

	g_source_set_callback (deadline, astra_test_flag_cb, &expired, NULL);
	g_source_attach (deadline, context);
	if (poll_ms > 0) {
		ticker = g_timeout_source_new (poll_ms);
		g_source_set_callback (ticker, astra_test_tick_cb, NULL, NULL);
		g_source_attach (ticker, context);
	}
	while (!(ok = func (user_data)) && !expired)
		g_main_context_iteration (context, TRUE);
	g_source_destroy (deadline);
	if (ticker != NULL)
		g_source_destroy (ticker);
	return ok;
}

gboolean
astra_test_wait_until (AstraTestCondFunc func, gpointer user_data, guint timeout_ms)
{
	return astra_test_wait_until_full (func, user_data, timeout_ms, 0);
}

static gboolean
astra_test_never_cb (gpointer user_data)
{
	return FALSE;
}

void
astra_test_iterate_for (guint ms)
{
	astra_test_wait_until (astra_test_never_cb, NULL, ms);
}

/* the receiver */

struct _AstraTestReceiver {
	SoupServer *server;
	guint16 port;
	guint status;
	guint delay_ms;
	gboolean keep;
	guint n_received;
	GHashTable *peers;   /* "ADDR:PORT" of each connection seen */
	GPtrArray *requests; /* AstraTestRequest */
	GPtrArray *delayed;  /* AstraTestDelayed, answers still to send */
	AstraTestReceiverFunc func;
	gpointer func_data;
};

typedef struct {
	AstraTestReceiver *receiver;
	SoupServerMessage *msg;
	GSource *source;
	gulong disconnected_id;
} AstraTestDelayed;

void
astra_test_request_free (AstraTestRequest *request)
{
	if (request == NULL)
		return;
	g_free (request->method);
	g_free (request->path);
	g_clear_pointer (&request->headers, soup_message_headers_unref);
	g_clear_pointer (&request->body, g_bytes_unref);
	g_free (request->reply_content_type);
	g_clear_pointer (&request->reply_body, g_bytes_unref);
	g_clear_pointer (&request->reply_headers, soup_message_headers_unref);
	g_free (request);
}

const char *
astra_test_request_get_header (AstraTestRequest *request, const char *name)
{
	return soup_message_headers_get_one (request->headers, name);
}

static void
astra_test_delayed_free (AstraTestDelayed *delayed)
{
	if (delayed->source != NULL) {
		g_source_destroy (delayed->source);
		g_source_unref (delayed->source);
	}
	g_clear_signal_handler (&delayed->disconnected_id, delayed->msg);
	g_object_unref (delayed->msg);
	g_free (delayed);
}

static gboolean
astra_test_delayed_cb (gpointer user_data)
{
	AstraTestDelayed *delayed = user_data;

	soup_server_message_unpause (delayed->msg);
	/* removing frees it, source included: tell the free function it is gone */
	g_clear_pointer (&delayed->source, g_source_unref);
	g_ptr_array_remove (delayed->receiver->delayed, delayed);
	return G_SOURCE_REMOVE;
}

/* the client gave up: the answer has nowhere to go */
static void
astra_test_delayed_disconnected_cb (SoupServerMessage *msg, gpointer user_data)
{
	AstraTestDelayed *delayed = user_data;

	g_ptr_array_remove (delayed->receiver->delayed, delayed);
}

static void
astra_test_receiver_handler_cb (SoupServer *server, SoupServerMessage *msg, const char *path,
				GHashTable *query, gpointer user_data)
{
	AstraTestReceiver *self = user_data;
	SoupMessageBody *body = soup_server_message_get_request_body (msg);
	AstraTestRequest *request = g_new0 (AstraTestRequest, 1);
	static const char reply[] = "ok\n";

	request->received_mono = g_get_monotonic_time ();
	request->received_real = g_get_real_time ();
	request->method = g_strdup (soup_server_message_get_method (msg));
	request->path = g_strdup (path);
	request->headers = soup_message_headers_ref (soup_server_message_get_request_headers (msg));
	request->body = soup_message_body_flatten (body);
	self->n_received++;
	if (self->func != NULL)
		self->func (self, request, self->func_data);

	if (request->reply_status != 0) {
		/* the func speaks for a destination: its status, body and headers */
		SoupMessageHeadersIter iter;
		const char *name;
		const char *value;
		gsize len = 0;
		const char *data = request->reply_body != NULL ? g_bytes_get_data (request->reply_body, &len) : "";

		soup_server_message_set_status (msg, request->reply_status, NULL);
		if (request->reply_headers != NULL) {
			soup_message_headers_iter_init (&iter, request->reply_headers);
			while (soup_message_headers_iter_next (&iter, &name, &value))
				soup_message_headers_append (soup_server_message_get_response_headers (msg), name, value);
		}
		soup_server_message_set_response (msg, request->reply_content_type != NULL ? request->reply_content_type
											: "text/plain",
						  SOUP_MEMORY_COPY, data, len);
	} else {
		soup_server_message_set_status (msg, self->status, NULL);
		soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_STATIC, reply,
						  sizeof (reply) - 1);
	}
	if (self->delay_ms > 0) {
		AstraTestDelayed *delayed = g_new0 (AstraTestDelayed, 1);

		delayed->receiver = self;
		delayed->msg = g_object_ref (msg);
		soup_server_message_pause (msg);
		if (self->delay_ms != G_MAXUINT) {
			delayed->source = g_timeout_source_new (self->delay_ms);
			g_source_set_callback (delayed->source, astra_test_delayed_cb, delayed,
					       NULL);
			g_source_attach (delayed->source, g_main_context_get_thread_default ());
		}
		delayed->disconnected_id = g_signal_connect (
		    msg, "disconnected", G_CALLBACK (astra_test_delayed_disconnected_cb), delayed);
		g_ptr_array_add (self->delayed, delayed);
	}
	if (self->keep)
		g_ptr_array_add (self->requests, request);
	else
		astra_test_request_free (request);
}

static void
astra_test_receiver_request_started_cb (SoupServer *server, SoupServerMessage *msg,
					gpointer user_data)
{
	AstraTestReceiver *self = user_data;
	GSocketAddress *remote = soup_server_message_get_remote_address (msg);

	if (remote != NULL)
		g_hash_table_add (self->peers,
				  g_socket_connectable_to_string (G_SOCKET_CONNECTABLE (remote)));
}

AstraTestReceiver *
astra_test_receiver_new (GError **error)
{
	AstraTestReceiver *self = g_new0 (AstraTestReceiver, 1);
	g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
	g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
	g_autoptr(GSocket) socket = NULL;
	GSList *uris;

	self->status = SOUP_STATUS_OK;
	self->keep = TRUE;
	self->requests = g_ptr_array_new_with_free_func ((GDestroyNotify) astra_test_request_free);
	self->delayed = g_ptr_array_new_with_free_func ((GDestroyNotify) astra_test_delayed_free);
	self->peers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
	self->server = soup_server_new ("server-header", "astra-test-receiver", NULL);
	soup_server_add_handler (self->server, NULL, astra_test_receiver_handler_cb, self, NULL);
	g_signal_connect (self->server, "request-started",
			  G_CALLBACK (astra_test_receiver_request_started_cb), self);
	/* soup_server_listen() keeps GLib's backlog of 10: a burst of connections would
	 * see SYNs dropped and retried a second later */
	socket =
	    g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, error);
	if (socket == NULL) {
		astra_test_receiver_free (self);
		return NULL;
	}
	g_socket_set_listen_backlog (socket, 128);
	if (!g_socket_bind (socket, address, TRUE, error) || !g_socket_listen (socket, error) ||
	    !soup_server_listen_socket (self->server, socket, 0, error)) {
		astra_test_receiver_free (self);
		return NULL;
	}
	uris = soup_server_get_uris (self->server);
	if (uris == NULL) {
		g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED,
				     "the receiver listens nowhere");
		astra_test_receiver_free (self);
		return NULL;
	}
	self->port = (guint16) g_uri_get_port (uris->data);
	g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
	return self;
}

void
astra_test_receiver_free (AstraTestReceiver *self)
{
	if (self == NULL)
		return;
	/* hanging answers first: disconnecting emits ::disconnected on them */
	g_ptr_array_set_size (self->delayed, 0);
	g_signal_handlers_disconnect_by_data (self->server, self);
	soup_server_disconnect (self->server);
	g_object_unref (self->server);
	g_ptr_array_unref (self->delayed);
	g_ptr_array_unref (self->requests);
	g_hash_table_unref (self->peers);
	g_free (self);
}

guint16
astra_test_receiver_get_port (AstraTestReceiver *self)
{
	return self->port;
}

char *
astra_test_receiver_get_url (AstraTestReceiver *self, const char *path)
{
	return g_strdup_printf ("http://127.0.0.1:%u%s", (guint) self->port,
				path != NULL ? path : "/");
}

void
astra_test_receiver_set_status (AstraTestReceiver *self, guint status)
{
	self->status = status;
}

void
astra_test_receiver_set_delay (AstraTestReceiver *self, guint ms)
{
	self->delay_ms = ms;
}

void
astra_test_receiver_set_keep (AstraTestReceiver *self, gboolean keep)
{
	self->keep = keep;
}

void
astra_test_receiver_set_func (AstraTestReceiver *self, AstraTestReceiverFunc func,
			      gpointer user_data)
{
	self->func = func;
	self->func_data = user_data;
}

GPtrArray *
astra_test_receiver_get_requests (AstraTestReceiver *self)
{
	return self->requests;
}

guint
astra_test_receiver_get_n_connections (AstraTestReceiver *self)
{
	return g_hash_table_size (self->peers);
}

guint
astra_test_receiver_get_n_requests (AstraTestReceiver *self)
{
	return self->n_received;
}

typedef struct {
	AstraTestReceiver *receiver;
	guint n;
} AstraTestReceiverWait;

static gboolean
astra_test_receiver_wait_cb (gpointer user_data)
{
	AstraTestReceiverWait *wait = user_data;
	return wait->receiver->n_received >= wait->n;
}

gboolean
astra_test_receiver_wait (AstraTestReceiver *self, guint n, guint timeout_ms)
{
	AstraTestReceiverWait wait = { self, n };
	return astra_test_wait_until (astra_test_receiver_wait_cb, &wait, timeout_ms);
}

/* the daemon */

typedef struct {
	GInputStream *stream;
	GString *data;
	gboolean eof;
} AstraTestPipe;

struct _AstraTestDaemon {
	GSubprocess *subprocess;
	GPid pid;
	GCancellable *cancellable;
	AstraTestPipe out;
	AstraTestPipe err;
	char *log_path; /* stderr goes here with ASTRA_TEST_DAEMON_FLAG_LOG_TO_FILE */
	char *address;  /* ADDR:PORT from the "listening on" line */
	gboolean exited;
	int exit_status;
};

static void astra_test_pipe_read (AstraTestDaemon *self, AstraTestPipe *pipe);

static void
astra_test_pipe_read_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
	AstraTestDaemon *self = user_data;
	g_autoptr(GError) error_local = NULL;
	g_autoptr(GBytes) bytes =
	    g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result, &error_local);
	AstraTestPipe *pipe;

	/* cancelled only when the daemon object is going away without waiting */
	if (g_error_matches (error_local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	pipe = G_INPUT_STREAM (source) == self->out.stream ? &self->out : &self->err;
	if (bytes == NULL || g_bytes_get_size (bytes) == 0) {
		pipe->eof = TRUE;
		return;
	}
	g_string_append_len (pipe->data, g_bytes_get_data (bytes, NULL),
			     (gssize) g_bytes_get_size (bytes));
	astra_test_pipe_read (self, pipe);
}

static void
astra_test_pipe_read (AstraTestDaemon *self, AstraTestPipe *pipe)
{
	g_input_stream_read_bytes_async (pipe->stream, 64 * 1024, G_PRIORITY_DEFAULT,
					 self->cancellable, astra_test_pipe_read_cb, self);
}

static void
astra_test_daemon_wait_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
	AstraTestDaemon *self = user_data;
	g_autoptr(GError) error_local = NULL;

	if (!g_subprocess_wait_finish (G_SUBPROCESS (source), result, &error_local)) {
		if (g_error_matches (error_local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			return;
	}
	self->exited = TRUE;
	self->exit_status = g_subprocess_get_if_exited (G_SUBPROCESS (source))
				? g_subprocess_get_exit_status (G_SUBPROCESS (source))
				: -1;
}

/* a daemon must not outlive a test that failed before it could clean up */
static void
astra_test_child_setup (gpointer user_data)
{
	prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static void
astra_test_launcher_setenv (GSubprocessLauncher *launcher, const char *const *extra_env)
{
	for (guint i = 0; extra_env != NULL && extra_env[i] != NULL; i++) {
		const char *eq = strchr (extra_env[i], '=');
		g_autofree char *name = NULL;

		if (eq == NULL) {
			g_subprocess_launcher_unsetenv (launcher, extra_env[i]);
			continue;
		}
		name = g_strndup (extra_env[i], (gsize) (eq - extra_env[i]));
		g_subprocess_launcher_setenv (launcher, name, eq + 1, TRUE);
	}
}

AstraTestDaemon *
astra_test_daemon_spawn (const char *binary, const char *config_path, const char *const *extra_args,
			 const char *const *extra_env, AstraTestDaemonFlags flags, GError **error)
{
	g_autoptr(GSubprocessLauncher) launcher = NULL;
	g_autoptr(GPtrArray) argv = g_ptr_array_new ();
	AstraTestDaemon *self;
	GSubprocessFlags spawn_flags = G_SUBPROCESS_FLAGS_STDOUT_PIPE;

	if (binary == NULL) {
		binary = astra_test_getenv ("ASTRA_ALERTD", error);
		if (binary == NULL)
			return NULL;
	}
	g_ptr_array_add (argv, (gpointer) binary);
	if (config_path != NULL) {
		g_ptr_array_add (argv, (gpointer) "--config");
		g_ptr_array_add (argv, (gpointer) config_path);
	}
	for (guint i = 0; extra_args != NULL && extra_args[i] != NULL; i++)
		g_ptr_array_add (argv, (gpointer) extra_args[i]);
	g_ptr_array_add (argv, NULL);

	self = g_new0 (AstraTestDaemon, 1);
	self->out.data = g_string_new (NULL);
	self->err.data = g_string_new (NULL);
	self->exit_status = -1;
	self->cancellable = g_cancellable_new ();
	if ((flags & ASTRA_TEST_DAEMON_FLAG_LOG_TO_FILE) != 0) {
		g_autofree char *dir =
		    g_path_get_dirname (config_path != NULL ? config_path : g_get_tmp_dir ());
		self->log_path = g_build_filename (dir, "astra-alertd.log", NULL);
		self->err.eof = TRUE;
	} else {
		spawn_flags |= G_SUBPROCESS_FLAGS_STDERR_PIPE;
	}

	launcher = g_subprocess_launcher_new (spawn_flags);
	if (self->log_path != NULL)
		g_subprocess_launcher_set_stderr_file_path (launcher, self->log_path);
	g_subprocess_launcher_set_child_setup (launcher, astra_test_child_setup, NULL, NULL);
	/* the daemon's own messages only: no debug from GLib unless a test asks
	 * (ASTRA_TEST_DAEMON_MESSAGES_DEBUG becomes the daemon's G_MESSAGES_DEBUG) */
	if (g_getenv ("ASTRA_TEST_DAEMON_MESSAGES_DEBUG") != NULL)
		g_subprocess_launcher_setenv (launcher, "G_MESSAGES_DEBUG",
					      g_getenv ("ASTRA_TEST_DAEMON_MESSAGES_DEBUG"), TRUE);
	else
		g_subprocess_launcher_unsetenv (launcher, "G_MESSAGES_DEBUG");
	astra_test_launcher_setenv (launcher, extra_env);
	self->subprocess =
	    g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, error);
	if (self->subprocess == NULL) {
		self->exited = TRUE;
		self->out.eof = TRUE;
		self->err.eof = TRUE;
		astra_test_daemon_free (self);
		return NULL;
	}
	self->pid =
	    (GPid) g_ascii_strtoll (g_subprocess_get_identifier (self->subprocess), NULL, 10);
	self->out.stream = g_object_ref (g_subprocess_get_stdout_pipe (self->subprocess));
	astra_test_pipe_read (self, &self->out);
	if (self->log_path == NULL) {
		self->err.stream = g_object_ref (g_subprocess_get_stderr_pipe (self->subprocess));
		astra_test_pipe_read (self, &self->err);
	}
	g_subprocess_wait_async (self->subprocess, self->cancellable, astra_test_daemon_wait_cb,
				 self);
	return self;
}

/* with a log file, stderr is whatever the file holds now */
static void
astra_test_daemon_refresh_log (AstraTestDaemon *self)
{
	g_autofree char *contents = NULL;
	gsize len = 0;

	if (self->log_path == NULL)
		return;
	if (!g_file_get_contents (self->log_path, &contents, &len, NULL))
		return;
	g_string_truncate (self->err.data, 0);
	g_string_append_len (self->err.data, contents, (gssize) len);
}

static gboolean
astra_test_daemon_listening_cb (gpointer user_data)
{
	AstraTestDaemon *self = user_data;
	const char *prefix = "listening on http://";
	const char *start;
	const char *end;

	astra_test_daemon_refresh_log (self);
	start = strstr (self->err.data->str, prefix);
	if (start == NULL)
		return self->exited;
	start += strlen (prefix);
	end = strstr (start, "/ ");
	if (end == NULL)
		end = strchr (start, '/');
	if (end == NULL)
		return self->exited;
	g_free (self->address);
	self->address = g_strndup (start, (gsize) (end - start));
	return TRUE;
}

gboolean
astra_test_daemon_wait_listening (AstraTestDaemon *self, guint timeout_ms, GError **error)
{
	astra_test_wait_until_full (astra_test_daemon_listening_cb, self, timeout_ms,
				    self->log_path != NULL ? 10 : 0);
	if (self->address != NULL)
		return TRUE;
	/* let the last of its output arrive for the message */
	astra_test_daemon_wait_exit (self, 1000);
	astra_test_daemon_refresh_log (self);
	if (self->exited) {
		g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
			     "astra-alertd exited with status %d before listening; stderr:\n%s",
			     self->exit_status, self->err.data->str);
	} else {
		g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
			     "astra-alertd did not log that it listens within %u ms; stderr:\n%s",
			     timeout_ms, self->err.data->str);
	}
	return FALSE;
}

AstraTestDaemon *
astra_test_daemon_start (const char *config_path, const char *const *extra_args, GError **error)
{
	g_autoptr(AstraTestDaemon) self = astra_test_daemon_spawn (
	    NULL, config_path, extra_args, NULL, ASTRA_TEST_DAEMON_FLAG_NONE, error);

	if (self == NULL)
		return NULL;
	if (!astra_test_daemon_wait_listening (self, ASTRA_TEST_TIMEOUT_MS, error))
		return NULL;
	return g_steal_pointer (&self);
}

static gboolean
astra_test_daemon_done_cb (gpointer user_data)
{
	AstraTestDaemon *self = user_data;
	return self->exited && self->out.eof && self->err.eof;
}

void
astra_test_daemon_free (AstraTestDaemon *self)
{
	if (self == NULL)
		return;
	if (!self->exited)
		g_subprocess_force_exit (self->subprocess);
	/* the callbacks hold a plain pointer to self: let them all finish first */
	if (!astra_test_wait_until (astra_test_daemon_done_cb, self, 5000)) {
		g_printerr ("astra-test: astra-alertd %d did not go away; leaking its watcher\n",
			    (int) self->pid);
		return;
	}
	g_object_unref (self->cancellable);
	g_clear_object (&self->out.stream);
	g_clear_object (&self->err.stream);
	g_string_free (self->out.data, TRUE);
	g_string_free (self->err.data, TRUE);
	g_clear_object (&self->subprocess);
	g_free (self->log_path);
	g_free (self->address);
	g_free (self);
}

GPid
astra_test_daemon_get_pid (AstraTestDaemon *self)
{
	return self->pid;
}

char *
astra_test_daemon_get_url (AstraTestDaemon *self, const char *path)
{
	g_return_val_if_fail (self->address != NULL, NULL);
	return g_strdup_printf ("http://%s%s", self->address, path != NULL ? path : "/");
}

const char *
astra_test_daemon_get_stderr (AstraTestDaemon *self)
{
	astra_test_daemon_refresh_log (self);
	return self->err.data->str;
}

const char *
astra_test_daemon_get_stdout (AstraTestDaemon *self)
{
	return self->out.data->str;
}

guint
astra_test_daemon_count_log (AstraTestDaemon *self, const char *needle)
{
	const char *p;
	guint n = 0;

	astra_test_daemon_refresh_log (self);
	p = self->err.data->str;
	while ((p = strstr (p, needle)) != NULL) {
		n++;
		p += strlen (needle);
	}
	return n;
}

typedef struct {
	AstraTestDaemon *daemon;
	const char *needle;
	guint n;
} AstraTestLogWait;

static gboolean
astra_test_daemon_log_cb (gpointer user_data)
{
	AstraTestLogWait *wait = user_data;
	return astra_test_daemon_count_log (wait->daemon, wait->needle) >= wait->n;
}

gboolean
astra_test_daemon_wait_log (AstraTestDaemon *self, const char *needle, guint n, guint timeout_ms)
{
	AstraTestLogWait wait = { self, needle, n };
	return astra_test_wait_until_full (astra_test_daemon_log_cb, &wait, timeout_ms,
					   self->log_path != NULL ? 10 : 0);
}

void
astra_test_daemon_send_signal (AstraTestDaemon *self, int signum)
{
	if (!self->exited)
		g_subprocess_send_signal (self->subprocess, signum);
}

gboolean
astra_test_daemon_has_exited (AstraTestDaemon *self)
{
	return self->exited;
}

gboolean
astra_test_daemon_wait_exit (AstraTestDaemon *self, guint timeout_ms)
{
	return astra_test_wait_until (astra_test_daemon_done_cb, self, timeout_ms);
}

int
astra_test_daemon_get_exit_status (AstraTestDaemon *self)
{
	return self->exit_status;
}

int
astra_test_daemon_get_n_fds (AstraTestDaemon *self)
{
	g_autofree char *path = g_strdup_printf ("/proc/%d/fd", (int) self->pid);
	g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
	int n = 0;

	if (dir == NULL)
		return -1;
	while (g_dir_read_name (dir) != NULL)
		n++;
	return n;
}

guint64
astra_test_daemon_get_peak_rss_kib (AstraTestDaemon *self)
{
	g_autofree char *path = g_strdup_printf ("/proc/%d/status", (int) self->pid);
	g_autofree char *contents = NULL;
	const char *line;

	if (!g_file_get_contents (path, &contents, NULL, NULL))
		return 0;
	line = strstr (contents, "VmHWM:");
	if (line == NULL)
		return 0;
	return g_ascii_strtoull (line + strlen ("VmHWM:"), NULL, 10);
}

/* running programs */

typedef struct {
	gboolean done;
	GBytes *out;
	GBytes *err;
	GError *error;
} AstraTestRun;

static void
astra_test_run_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
	AstraTestRun *run = user_data;

	g_subprocess_communicate_finish (G_SUBPROCESS (source), result, &run->out, &run->err,
					 &run->error);
	run->done = TRUE;
}

static gboolean
astra_test_run_done_cb (gpointer user_data)
{
	AstraTestRun *run = user_data;
	return run->done;
}

static char *
astra_test_bytes_to_string (GBytes *bytes)
{
	/* an empty GBytes has no data pointer, and g_strndup (NULL, 0) is NULL, not "" */
	if (bytes == NULL || g_bytes_get_size (bytes) == 0)
		return g_strdup ("");
	return g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
}

gboolean
astra_test_run (const char *const *argv, const char *const *extra_env, const char *cwd,
		guint timeout_ms, int *exit_status, char **out_stdout, char **out_stderr,
		GError **error)
{
	g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (
	    G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
	g_autoptr(GSubprocess) subprocess = NULL;
	g_autoptr(GCancellable) cancellable = g_cancellable_new ();
	AstraTestRun run = { 0 };
	gboolean ok = TRUE;

	g_subprocess_launcher_set_child_setup (launcher, astra_test_child_setup, NULL, NULL);
	if (cwd != NULL)
		g_subprocess_launcher_set_cwd (launcher, cwd);
	astra_test_launcher_setenv (launcher, extra_env);
	subprocess = g_subprocess_launcher_spawnv (launcher, argv, error);
	if (subprocess == NULL)
		return FALSE;
	g_subprocess_communicate_async (subprocess, NULL, cancellable, astra_test_run_cb, &run);
	if (!astra_test_wait_until (astra_test_run_done_cb, &run, timeout_ms)) {
		g_autofree char *cmd = g_strjoinv (" ", (GStrv) argv);

		g_subprocess_force_exit (subprocess);
		g_cancellable_cancel (cancellable);
		/* the callback points into this frame: it must have run before we return */
		astra_test_wait_until (astra_test_run_done_cb, &run, 5000);
		g_clear_error (&run.error);
		g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
			     "%s: still running after %u ms", cmd, timeout_ms);
		ok = FALSE;
	} else if (run.error != NULL) {
		g_propagate_error (error, g_steal_pointer (&run.error));
		ok = FALSE;
	} else {
		g_subprocess_wait (subprocess, NULL, NULL);
		if (exit_status != NULL)
			*exit_status = g_subprocess_get_if_exited (subprocess)
					   ? g_subprocess_get_exit_status (subprocess)
					   : -1;
		if (out_stdout != NULL)
			*out_stdout = astra_test_bytes_to_string (run.out);
		if (out_stderr != NULL)
			*out_stderr = astra_test_bytes_to_string (run.err);
	}
	g_clear_pointer (&run.out, g_bytes_unref);
	g_clear_pointer (&run.err, g_bytes_unref);
	return ok;
}

/* HTTP clients */

void
astra_test_reply_free (AstraTestReply *reply)
{
	if (reply == NULL)
		return;
	g_clear_pointer (&reply->headers, soup_message_headers_unref);
	g_clear_pointer (&reply->body, g_bytes_unref);
	g_free (reply);
}

SoupSession *
astra_test_session_new (void)
{
	return g_object_new (SOUP_TYPE_SESSION, "max-conns", 128, "max-conns-per-host", 64,
			     "timeout", 30, NULL);
}

typedef struct {
	gboolean done;
	GBytes *body;
	GError *error;
} AstraTestHttp;

static void
astra_test_http_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
	AstraTestHttp *http = user_data;

	http->body =
	    soup_session_send_and_read_finish (SOUP_SESSION (source), result, &http->error);
	http->done = TRUE;
}

static gboolean
astra_test_http_done_cb (gpointer user_data)
{
	AstraTestHttp *http = user_data;
	return http->done;
}

AstraTestReply *
astra_test_http (SoupSession *session, const char *method, const char *url,
		 const char *content_type, const void *body, gsize body_len, gboolean chunked,
		 GError **error)
{
	g_autoptr(SoupMessage) msg = soup_message_new (method, url);
	g_autoptr(GCancellable) cancellable = g_cancellable_new ();
	AstraTestHttp http = { 0 };
	AstraTestReply *reply;

	if (msg == NULL) {
		g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "cannot use URL %s",
			     url);
		return NULL;
	}
	if (body != NULL) {
		g_autoptr(GBytes) bytes = g_bytes_new (body, body_len);
		if (chunked) {
			g_autoptr(GInputStream) stream =
			    g_memory_input_stream_new_from_bytes (bytes);
			soup_message_set_request_body (msg, content_type, stream, -1);
			soup_message_headers_set_encoding (soup_message_get_request_headers (msg),
							   SOUP_ENCODING_CHUNKED);
		} else {
			soup_message_set_request_body_from_bytes (msg, content_type, bytes);
		}
	}
	soup_session_send_and_read_async (session, msg, G_PRIORITY_DEFAULT, cancellable,
					  astra_test_http_cb, &http);
	if (!astra_test_wait_until (astra_test_http_done_cb, &http, ASTRA_TEST_TIMEOUT_MS)) {
		g_cancellable_cancel (cancellable);
		/* the callback points into this frame */
		astra_test_wait_until (astra_test_http_done_cb, &http, 5000);
		g_clear_pointer (&http.body, g_bytes_unref);
		g_clear_error (&http.error);
		g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
			     "%s %s: no reply within %u ms", method, url,
			     (guint) ASTRA_TEST_TIMEOUT_MS);
		return NULL;
	}
	if (http.body == NULL) {
		g_propagate_error (error, http.error);
		return NULL;
	}
	reply = g_new0 (AstraTestReply, 1);
	reply->status = soup_message_get_status (msg);
	reply->headers = soup_message_headers_ref (soup_message_get_response_headers (msg));
	reply->body = http.body;
	return reply;
}

AstraTestReply *
astra_test_post_json (SoupSession *session, const char *url, const char *json, GError **error)
{
	return astra_test_http (session, "POST", url, "application/json", json, strlen (json),
				FALSE, error);
}

GBytes *
astra_test_raw_http (const char *url, const char *request, gsize request_len, GError **error)
{
	g_autoptr(GSocketClient) client = g_socket_client_new ();
	g_autoptr(GSocketConnection) connection = NULL;
	g_autoptr(GByteArray) buf = g_byte_array_new ();
	g_autoptr(GError) error_write = NULL;
	GInputStream *input;
	GOutputStream *output;

	g_socket_client_set_timeout (client, ASTRA_TEST_TIMEOUT_MS / 1000);
	connection = g_socket_client_connect_to_uri (client, url, 80, NULL, error);
	if (connection == NULL)
		return NULL;
	output = g_io_stream_get_output_stream (G_IO_STREAM (connection));
	input = g_io_stream_get_input_stream (G_IO_STREAM (connection));
	/* a server may answer and close before taking all of it: read what it said */
	g_output_stream_write_all (output, request, request_len, NULL, NULL, &error_write);
	for (;;) {
		guint8 chunk[4096];
		g_autoptr(GError) error_local = NULL;
		gssize n = g_input_stream_read (input, chunk, sizeof (chunk), NULL, &error_local);

		if (n < 0) {
			/* a reset after the reply still leaves the reply */
			if (buf->len > 0)
				break;
			g_propagate_error (error, error_write != NULL
						      ? g_steal_pointer (&error_write)
						      : g_steal_pointer (&error_local));
			return NULL;
		}
		if (n == 0)
			break;
		g_byte_array_append (buf, chunk, (guint) n);
	}
	return g_byte_array_free_to_bytes (g_steal_pointer (&buf));
}

void
astra_test_env_setup (AstraTestEnv *env)
{
	g_autoptr(GError) error = NULL;

	memset (env, 0, sizeof (*env));
	env->dir = astra_test_mkdtemp (&error);
	ck_assert_msg (env->dir != NULL, "%s", error != NULL ? error->message : "");
	env->session = astra_test_session_new ();
	env->receiver = astra_test_receiver_new (&error);
	ck_assert_msg (env->receiver != NULL, "%s", error != NULL ? error->message : "");
}

void
astra_test_env_teardown (AstraTestEnv *env)
{
	g_clear_pointer (&env->daemon, astra_test_daemon_free);
	g_clear_pointer (&env->receiver, astra_test_receiver_free);
	g_clear_object (&env->session);
	astra_check_tmpdir_clear (&env->dir);
	g_clear_pointer (&env->config_path, g_free);
}
