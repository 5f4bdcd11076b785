/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <glib-unix.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#include "astra-http-client.h"

/* what a receiver may send before the body: status line and headers (interim responses included) */
#define ASTRA_HTTP_MAX_HEAD	  (64 * 1024)
#define ASTRA_HTTP_MAX_LINES	  100
/* a chunk-size line with its extensions */
#define ASTRA_HTTP_MAX_CHUNK_LINE 4096
#define ASTRA_HTTP_READ_SIZE	  16384
#define ASTRA_HTTP_MAX_HOST_NAME  255
/* cancellables no request uses any more that stay watched, for the next request to use */
#define ASTRA_HTTP_MAX_IDLE_WATCHES 4

typedef struct _AstraHttpHost AstraHttpHost;
typedef struct _AstraHttpConn AstraHttpConn;
typedef struct _AstraHttpJob AstraHttpJob;

typedef enum {
	ASTRA_HTTP_CONN_CONNECTING,
	ASTRA_HTTP_CONN_IDLE,
	ASTRA_HTTP_CONN_WRITING,
	ASTRA_HTTP_CONN_READING,
	ASTRA_HTTP_CONN_CLOSED,
} AstraHttpConnState;

typedef enum {
	ASTRA_HTTP_PARSE_HEAD,
	ASTRA_HTTP_PARSE_LENGTH,
	ASTRA_HTTP_PARSE_UNTIL_EOF,
	ASTRA_HTTP_PARSE_CHUNK_SIZE,
	ASTRA_HTTP_PARSE_CHUNK_DATA,
	ASTRA_HTTP_PARSE_CHUNK_END,
	ASTRA_HTTP_PARSE_TRAILER,
	ASTRA_HTTP_PARSE_DONE,
} AstraHttpParse;

typedef enum {
	ASTRA_HTTP_STEP_MORE, /* needs more bytes */
	ASTRA_HTTP_STEP_NEXT, /* made progress: go on */
	ASTRA_HTTP_STEP_ERROR,
} AstraHttpStep;

/* one scheme://host:port and its pool */
struct _AstraHttpHost {
	AstraHttpClient *client;
	char *key;
	char *label;		/* host:port, for messages */
	char *host_header;	/* the value of Host */
	gsize host_header_len;
	GSocketConnectable *address;
	gboolean tls;
	GQueue idle;		/* AstraHttpConn; head: the most recently used */
	GQueue waiting;		/* AstraHttpJob waiting for a free connection, oldest first */
	guint n_conns;		/* connecting, busy and idle */
	guint n_jobs;		/* pending jobs for this host */
};

struct _AstraHttpConn {
	AstraHttpHost *host;	/* NULL once closed */
	AstraHttpJob *job;	/* the request on it, or the one it is being made for */
	AstraHttpConnState state;
	GSocketConnection *connection;
	GPollableInputStream *in;
	GPollableOutputStream *out;
	GSource *in_source;	/* while connected and not blocked on writing */
	GSource *out_source;	/* only while a write would block */
	GCancellable *connect_cancellable;
	GList link;		/* in host->idle */
	gboolean tls;
	guint n_requests;	/* sent on it; more than one: it was reused */
	gint64 idle_since;

	/* read buffer: the final response's header block at [0, hdr_len), unparsed bytes at [pos, len) */
	char *buf;
	gsize cap;
	gsize len;
	gsize pos;
	gsize hdr_len;

	/* the response being read */
	AstraHttpParse parse;
	gboolean got_bytes;
	gsize scan;		/* where the search for the end of the header block goes on */
	guint n_lines;
	gsize head_used;	/* by interim responses */
	guint status;
	gboolean keep_alive;
	guint n_headers;
	guint32 hdr_name[ASTRA_HTTP_MAX_LINES];
	guint32 hdr_value[ASTRA_HTTP_MAX_LINES];
	guint64 content_length;
	gboolean have_length;
	guint64 remaining;	/* of the body or the chunk */
	guint64 body_total;
	gsize trailer_bytes;
	guint trailer_lines;
	guint8 *body;		/* the excerpt */
	gsize body_len;
	gsize body_cap;
};

/* a GCancellable the client watches for its jobs, once however many use it */
typedef struct {
	GCancellable *cancellable;
	gulong handler_id;
	guint n_jobs;
} AstraHttpWatch;

struct _AstraHttpJob {
	GTask *task;		/* owned while pending */
	AstraHttpHost *host;
	AstraHttpConn *conn;
	AstraHttpWatch *watch;
	GList link;		/* in client->jobs */
	GList wait_link;	/* in host->waiting */
	gboolean waiting;
	gboolean detached;
	gboolean retried;
	gboolean head;		/* a HEAD request: no response body */
	guint heap_index;	/* G_MAXUINT: not in the heap */
	gint64 deadline;
	guint timeout_ms;
	gsize max_body;
	gsize req_len;
	gsize req_off;
	char req[];		/* request line, headers and body, as sent */
};

struct _AstraHttpClient {
	GObject parent_instance;
	GMainContext *context;
	GSocketClient *plain_client;
	GSocketClient *tls_client;
	GTlsDatabase *tls_database;
	gulong tls_event_id;
	GHashTable *hosts;	/* key -> AstraHttpHost */
	GHashTable *watches;	/* GCancellable -> AstraHttpWatch */
	guint n_idle_watches;	/* watches no job uses */
	GQueue jobs;		/* AstraHttpJob, every pending one */
	AstraHttpJob **heap;	/* jobs with a deadline, earliest first */
	guint heap_len;
	guint heap_cap;
	GSource *timer;		/* one for every deadline and the idle sweep */
	gint64 next_sweep;	/* 0: none planned */
	guint max_conns_per_host;
	guint idle_timeout;
	guint n_open;
	guint64 n_connects;
};

G_DEFINE_FINAL_TYPE (AstraHttpClient, astra_http_client, G_TYPE_OBJECT)

static void astra_http_conn_start (AstraHttpConn *conn, AstraHttpJob *job);
static void astra_http_conn_connect (AstraHttpHost *host, AstraHttpJob *job);
static void astra_http_conn_watch_input (AstraHttpConn *conn);

/* RFC 9110 token characters */
static gboolean
astra_http_is_tchar (guchar c)
{
	return g_ascii_isalnum (c) || (c != '\0' && strchr ("!#$%&'*+-.^_`|~", c) != NULL);
}

static gboolean
astra_http_is_token (const char *s, gsize len)
{
	if (len == 0)
		return FALSE;
	for (gsize i = 0; i < len; i++) {
		if (!astra_http_is_tchar ((guchar) s[i]))
			return FALSE;
	}
	return TRUE;
}

/* no CR, LF, NUL or other controls but tab: a header can never split in two */
static gboolean
astra_http_is_field_value (const char *s, gsize len)
{
	for (gsize i = 0; i < len; i++) {
		guchar c = (guchar) s[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return FALSE;
	}
	return TRUE;
}

/* the next element of a comma-separated list, trimmed; FALSE at the end */
static gboolean
astra_http_list_next (const char **p, const char **elem, gsize *elem_len)
{
	const char *s = *p;
	const char *e;

	if (*s == '\0')
		return FALSE;
	e = s + strcspn (s, ",");
	*p = *e == ',' ? e + 1 : e;
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	*elem = s;
	*elem_len = (gsize) (e - s);
	return TRUE;
}

static gboolean
astra_http_elem_is (const char *elem, gsize elem_len, const char *token)
{
	return elem_len == strlen (token) && g_ascii_strncasecmp (elem, token, elem_len) == 0;
}

/* timer heap */

static void
astra_http_heap_set (AstraHttpClient *self, guint i, AstraHttpJob *job)
{
	self->heap[i] = job;
	job->heap_index = i;
}

static void
astra_http_heap_up (AstraHttpClient *self, guint i)
{
	AstraHttpJob *job = self->heap[i];

	while (i > 0) {
		guint parent = (i - 1) / 2;
		if (self->heap[parent]->deadline <= job->deadline)
			break;
		astra_http_heap_set (self, i, self->heap[parent]);
		i = parent;
	}
	astra_http_heap_set (self, i, job);
}

static void
astra_http_heap_down (AstraHttpClient *self, guint i)
{
	AstraHttpJob *job = self->heap[i];

	for (;;) {
		guint child = 2 * i + 1;
		if (child >= self->heap_len)
			break;
		if (child + 1 < self->heap_len && self->heap[child + 1]->deadline < self->heap[child]->deadline)
			child++;
		if (job->deadline <= self->heap[child]->deadline)
			break;
		astra_http_heap_set (self, i, self->heap[child]);
		i = child;
	}
	astra_http_heap_set (self, i, job);
}

static void
astra_http_heap_push (AstraHttpClient *self, AstraHttpJob *job)
{
	if (self->heap_len == self->heap_cap) {
		self->heap_cap = MAX (self->heap_cap * 2, 64);
		self->heap = g_renew (AstraHttpJob *, self->heap, self->heap_cap);
	}
	astra_http_heap_set (self, self->heap_len++, job);
	astra_http_heap_up (self, self->heap_len - 1);
}

static void
astra_http_heap_remove (AstraHttpClient *self, AstraHttpJob *job)
{
	guint i = job->heap_index;
	AstraHttpJob *last = self->heap[--self->heap_len];

	job->heap_index = G_MAXUINT;
	if (i == self->heap_len)
		return;
	astra_http_heap_set (self, i, last);
	astra_http_heap_up (self, i);
	astra_http_heap_down (self, last->heap_index);
}

static gint64
astra_http_client_next_wakeup (AstraHttpClient *self)
{
	gint64 when = self->heap_len > 0 ? self->heap[0]->deadline : -1;

	if (self->next_sweep > 0 && (when < 0 || self->next_sweep < when))
		when = self->next_sweep;
	return when;
}

/* moving the timer later is left to its next dispatch: outside of it every change
 * wakes the loop up (a write to its eventfd), while an early dispatch costs little */
static void
astra_http_client_schedule (AstraHttpClient *self)
{
	gint64 when = astra_http_client_next_wakeup (self);
	gint64 current;

	if (when < 0 || self->timer == NULL)
		return;
	current = g_source_get_ready_time (self->timer);
	if (current >= 0 && current <= when)
		return;
	g_source_set_ready_time (self->timer, when);
}

static void
astra_http_client_plan_sweep (AstraHttpClient *self, gint64 at)
{
	if (self->next_sweep > 0 && self->next_sweep <= at)
		return;
	self->next_sweep = at;
	astra_http_client_schedule (self);
}

/* hosts and watches */

static void
astra_http_host_free (AstraHttpHost *host)
{
	g_free (host->key);
	g_free (host->label);
	g_free (host->host_header);
	g_clear_object (&host->address);
	g_free (host);
}

static void
astra_http_watch_free (AstraHttpWatch *watch)
{
	/* a cancellable that fired may be emitting right now, on this thread: disconnecting
	 * would wait for that emission forever. Its handler only holds a weak reference,
	 * freed with the cancellable */
	if (!g_cancellable_is_cancelled (watch->cancellable))
		g_cancellable_disconnect (watch->cancellable, watch->handler_id);
	g_object_unref (watch->cancellable);
	g_free (watch);
}

static void
astra_http_weak_ref_free (gpointer data)
{
	g_weak_ref_clear (data);
	g_free (data);
}

/* jobs */

static void
astra_http_job_free (AstraHttpJob *job)
{
	g_assert (job->task == NULL);
	g_free (job);
}

/* takes a job out of the client's books; its connection is the caller's business */
static void
astra_http_job_detach (AstraHttpJob *job)
{
	AstraHttpHost *host = job->host;
	AstraHttpClient *self = host->client;

	if (job->detached)
		return;
	job->detached = TRUE;
	if (job->heap_index != G_MAXUINT)
		astra_http_heap_remove (self, job);
	if (job->waiting) {
		g_queue_unlink (&host->waiting, &job->wait_link);
		job->waiting = FALSE;
	}
	g_queue_unlink (&self->jobs, &job->link);
	if (job->watch != NULL && --job->watch->n_jobs == 0) {
		/* a cancellable per request would pile up: only a few are kept for reuse */
		if (self->n_idle_watches >= ASTRA_HTTP_MAX_IDLE_WATCHES) {
			g_hash_table_remove (self->watches, job->watch->cancellable);
		} else {
			self->n_idle_watches++;
			astra_http_client_plan_sweep (self, g_get_monotonic_time () +
							      (gint64) MAX (self->idle_timeout, 1) * G_USEC_PER_SEC);
		}
	}
	job->watch = NULL;
	host->n_jobs--;
}

static void
astra_http_job_return (AstraHttpJob *job, AstraResponse *response, GError *error)
{
	GTask *task = g_steal_pointer (&job->task);

	/* the callback may run now, and do anything: nothing is touched after this */
	if (error != NULL)
		g_task_return_error (task, error);
	else
		g_task_return_pointer (task, response, g_object_unref);
	g_object_unref (task);
}

/* connections */

static void
astra_http_source_clear (GSource **source)
{
	if (*source == NULL)
		return;
	g_source_destroy (*source);
	g_clear_pointer (source, g_source_unref);
}

/* closes a connection that has no job any more; frees it unless a connect is still running */
static void
astra_http_conn_close (AstraHttpConn *conn)
{
	AstraHttpHost *host = conn->host;

	g_assert (conn->job == NULL);
	if (conn->state == ASTRA_HTTP_CONN_IDLE)
		g_queue_unlink (&host->idle, &conn->link);
	host->n_conns--;
	conn->host = NULL;
	if (conn->state == ASTRA_HTTP_CONN_CONNECTING) {
		/* the connect callback frees it */
		conn->state = ASTRA_HTTP_CONN_CLOSED;
		g_cancellable_cancel (conn->connect_cancellable);
		return;
	}
	host->client->n_open--;
	conn->state = ASTRA_HTTP_CONN_CLOSED;
	astra_http_source_clear (&conn->in_source);
	astra_http_source_clear (&conn->out_source);
	/* the socket first: closing a TLS stream would try to write close_notify, and block */
	g_socket_close (g_socket_connection_get_socket (conn->connection), NULL);
	g_object_unref (conn->connection);
	g_free (conn->buf);
	g_free (conn->body);
	g_free (conn);
}

/* starts connections for waiting jobs while the host has room */
static void
astra_http_host_pump (AstraHttpHost *host)
{
	while (host->waiting.head != NULL && host->n_conns < host->client->max_conns_per_host) {
		AstraHttpJob *job = host->waiting.head->data;

		g_queue_unlink (&host->waiting, &job->wait_link);
		job->waiting = FALSE;
		astra_http_conn_connect (host, job);
	}
}

/* the job fails: its connection is closed, waiting jobs move up, the caller hears of it */
static void
astra_http_job_fail (AstraHttpJob *job, GError *error)
{
	AstraHttpHost *host = job->host;
	AstraHttpConn *conn = job->conn;

	astra_http_job_detach (job);
	if (conn != NULL) {
		conn->job = NULL;
		job->conn = NULL;
		astra_http_conn_close (conn);
	}
	astra_http_host_pump (host);
	astra_http_job_return (job, NULL, error);
}

static gboolean
astra_http_error_is_closed (const GError *error)
{
	return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED) ||
	       g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED) ||
	       g_error_matches (error, G_TLS_ERROR, G_TLS_ERROR_EOF);
}

/* the connection broke before any byte of the answer came: on a reused connection the receiver
 * most likely closed it as idle while the request was on its way, and never saw the request */
static void
astra_http_conn_fail_unanswered (AstraHttpConn *conn, GError *error)
{
	AstraHttpJob *job = conn->job;
	AstraHttpHost *host = conn->host;

	if (conn->n_requests > 1 && !job->retried) {
		g_debug ("%s: the connection was closed under a request, sending it again on a new one",
			 host->label);
		job->retried = TRUE;
		conn->job = NULL;
		job->conn = NULL;
		astra_http_conn_close (conn);
		g_error_free (error);
		/* in the slot of the closed connection */
		astra_http_conn_connect (host, job);
		return;
	}
	astra_http_job_fail (job, error);
}

/* a connection whose response was read to its end, for the next job or the idle list */
static void
astra_http_conn_release (AstraHttpConn *conn)
{
	AstraHttpHost *host = conn->host;
	AstraHttpClient *self = host->client;

	if (host->waiting.head != NULL) {
		AstraHttpJob *job = host->waiting.head->data;

		g_queue_unlink (&host->waiting, &job->wait_link);
		job->waiting = FALSE;
		astra_http_conn_start (conn, job);
		return;
	}
	if (self->idle_timeout == 0) {
		astra_http_conn_close (conn);
		return;
	}
	conn->state = ASTRA_HTTP_CONN_IDLE;
	conn->idle_since = g_get_monotonic_time ();
	g_queue_push_head_link (&host->idle, &conn->link);
	if (self->next_sweep == 0)
		astra_http_client_plan_sweep (self, conn->idle_since + (gint64) self->idle_timeout * G_USEC_PER_SEC);
}

static void
astra_http_conn_reset (AstraHttpConn *conn)
{
	conn->len = 0;
	conn->pos = 0;
	conn->hdr_len = 0;
	conn->parse = ASTRA_HTTP_PARSE_HEAD;
	conn->got_bytes = FALSE;
	conn->scan = 0;
	conn->n_lines = 0;
	conn->head_used = 0;
	conn->status = 0;
	conn->keep_alive = FALSE;
	conn->n_headers = 0;
	conn->content_length = 0;
	conn->have_length = FALSE;
	conn->remaining = 0;
	conn->body_total = 0;
	conn->trailer_bytes = 0;
	conn->trailer_lines = 0;
	g_clear_pointer (&conn->body, g_free);
	conn->body_len = 0;
	conn->body_cap = 0;
	/* a receiver that once sent huge headers does not keep the memory */
	if (conn->cap > ASTRA_HTTP_READ_SIZE) {
		conn->cap = ASTRA_HTTP_READ_SIZE;
		conn->buf = g_realloc (conn->buf, conn->cap);
	}
}

static gboolean
astra_http_conn_writable_cb (GObject *stream, gpointer user_data);

static void
astra_http_conn_write (AstraHttpConn *conn)
{
	AstraHttpJob *job = conn->job;

	while (job->req_off < job->req_len) {
		g_autoptr(GError) error_local = NULL;
		gssize n = g_pollable_output_stream_write_nonblocking (conn->out, job->req + job->req_off,
								       job->req_len - job->req_off, NULL,
								       &error_local);
		if (n < 0) {
			if (g_error_matches (error_local, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
				/* rare (a big body, a full socket buffer): wait for room, and
				 * do not listen while writing */
				astra_http_source_clear (&conn->in_source);
				if (conn->out_source == NULL) {
					conn->out_source = g_pollable_output_stream_create_source (conn->out, NULL);
					g_source_set_callback (conn->out_source,
							       G_SOURCE_FUNC (astra_http_conn_writable_cb), conn,
							       NULL);
					g_source_attach (conn->out_source, conn->host->client->context);
				}
				return;
			}
			if (astra_http_error_is_closed (error_local)) {
				astra_http_conn_fail_unanswered (
				    conn, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
							       "the receiver closed the connection before answering"));
				return;
			}
			astra_http_job_fail (job, g_error_new (G_IO_ERROR, G_IO_ERROR_FAILED,
							       "sending the request to %s failed: %s",
							       conn->host->label, error_local->message));
			return;
		}
		job->req_off += (gsize) n;
	}
	conn->state = ASTRA_HTTP_CONN_READING;
	astra_http_source_clear (&conn->out_source);
	if (conn->in_source == NULL)
		astra_http_conn_watch_input (conn);
}

static gboolean
astra_http_conn_writable_cb (GObject *stream, gpointer user_data)
{
	astra_http_conn_write (user_data);
	return G_SOURCE_CONTINUE;
}

static void
astra_http_conn_start (AstraHttpConn *conn, AstraHttpJob *job)
{
	conn->job = job;
	job->conn = conn;
	job->req_off = 0;
	conn->n_requests++;
	astra_http_conn_reset (conn);
	conn->state = ASTRA_HTTP_CONN_WRITING;
	astra_http_conn_write (conn);
}

/* response parsing */

static gboolean
astra_http_set_malformed (GError **error, const char *what)
{
	g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "malformed response: %s", what);
	return FALSE;
}

static void
astra_http_conn_take_body (AstraHttpConn *conn, const char *data, gsize n)
{
	gsize max_body = conn->job->max_body;

	conn->body_total += n;
	if (conn->body_len >= max_body)
		return;
	n = MIN (n, max_body - conn->body_len);
	if (conn->body_len + n > conn->body_cap) {
		conn->body_cap = MIN (MAX (conn->body_cap * 2, MAX (conn->body_len + n, 1024)), max_body);
		conn->body = g_realloc (conn->body, conn->body_cap);
	}
	memcpy (conn->body + conn->body_len, data, n);
	conn->body_len += n;
}

/* the excerpt is complete and the rest would be more than is worth reading to keep the connection */
static gboolean
astra_http_conn_over_limit (AstraHttpConn *conn)
{
	gsize max_body = conn->job->max_body;
	guint64 limit = MAX (max_body, ASTRA_HTTP_CLIENT_MAX_DISCARD);

	if (conn->body_len < max_body && conn->body_total < limit)
		return FALSE;
	if (conn->body_total > limit)
		return TRUE;
	return conn->parse == ASTRA_HTTP_PARSE_LENGTH && conn->content_length > limit;
}

static gboolean
astra_http_parse_content_length (AstraHttpConn *conn, const char *value, GError **error)
{
	const char *p = value;
	const char *elem;
	gsize elem_len;
	gboolean any = FALSE;

	/* a list of one value ("5, 5") is what some intermediaries make of a repeated header */
	while (astra_http_list_next (&p, &elem, &elem_len)) {
		guint64 v = 0;

		if (elem_len == 0 || elem_len > 18)
			return astra_http_set_malformed (error, "bad Content-Length");
		for (gsize i = 0; i < elem_len; i++) {
			if (!g_ascii_isdigit (elem[i]))
				return astra_http_set_malformed (error, "bad Content-Length");
			v = v * 10 + (guint64) (elem[i] - '0');
		}
		if (conn->have_length && v != conn->content_length)
			return astra_http_set_malformed (error, "conflicting Content-Length");
		conn->content_length = v;
		conn->have_length = TRUE;
		any = TRUE;
	}
	if (!any)
		return astra_http_set_malformed (error, "bad Content-Length");
	return TRUE;
}

static gboolean
astra_http_conn_parse_status_line (AstraHttpConn *conn, const char *line, gsize len, guint *minor, GError **error)
{
	if (len < 12 || memcmp (line, "HTTP/1.", 7) != 0)
		return astra_http_set_malformed (error, "bad status line");
	if ((line[7] != '0' && line[7] != '1') || line[8] != ' ')
		return astra_http_set_malformed (error, "bad status line");
	if (!g_ascii_isdigit (line[9]) || !g_ascii_isdigit (line[10]) || !g_ascii_isdigit (line[11]))
		return astra_http_set_malformed (error, "bad status line");
	if (len > 12 && line[12] != ' ')
		return astra_http_set_malformed (error, "bad status line");
	if (!astra_http_is_field_value (line + 12, len - 12))
		return astra_http_set_malformed (error, "bad status line");
	conn->status = (guint) ((line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0'));
	if (conn->status < 100 || conn->status > 599)
		return astra_http_set_malformed (error, "bad status line");
	*minor = (guint) (line[7] - '0');
	return TRUE;
}

/* the header lines of [line_start, block_end): checked, split in place and indexed */
static gboolean
astra_http_conn_parse_header_lines (AstraHttpConn *conn, gsize start, gsize block_end, GError **error)
{
	while (start < block_end) {
		char *line = conn->buf + start;
		char *nl = memchr (line, '\n', block_end - start);
		gsize line_len = (gsize) (nl - line);
		char *colon;
		char *value;
		char *value_end;

		if (line_len > 0 && line[line_len - 1] == '\r')
			line_len--;
		if (line_len == 0)
			break;
		if (line[0] == ' ' || line[0] == '\t')
			return astra_http_set_malformed (error, "folded header line");
		colon = memchr (line, ':', line_len);
		if (colon == NULL || !astra_http_is_token (line, (gsize) (colon - line)))
			return astra_http_set_malformed (error, "bad header line");
		value = colon + 1;
		value_end = line + line_len;
		while (value < value_end && (*value == ' ' || *value == '\t'))
			value++;
		while (value_end > value && (value_end[-1] == ' ' || value_end[-1] == '\t'))
			value_end--;
		if (!astra_http_is_field_value (value, (gsize) (value_end - value)))
			return astra_http_set_malformed (error, "bad header line");
		*colon = '\0';
		*value_end = '\0';
		conn->hdr_name[conn->n_headers] = (guint32) start;
		conn->hdr_value[conn->n_headers] = (guint32) (value - conn->buf);
		conn->n_headers++;
		start = (gsize) (nl - conn->buf) + 1;
	}
	return TRUE;
}

/* a complete header block at [0, block_end) */
static AstraHttpStep
astra_http_conn_parse_block (AstraHttpConn *conn, gsize block_end, GError **error)
{
	char *nl = memchr (conn->buf, '\n', block_end);
	gsize line_len = (gsize) (nl - conn->buf);
	gboolean have_te = FALSE;
	gboolean chunked = FALSE;
	gboolean close = FALSE;
	gboolean keep_alive = FALSE;
	guint minor = 1;

	if (line_len > 0 && conn->buf[line_len - 1] == '\r')
		line_len--;
	if (!astra_http_conn_parse_status_line (conn, conn->buf, line_len, &minor, error))
		return ASTRA_HTTP_STEP_ERROR;
	conn->n_headers = 0;
	conn->have_length = FALSE;
	conn->content_length = 0;
	if (!astra_http_conn_parse_header_lines (conn, (gsize) (nl - conn->buf) + 1, block_end, error))
		return ASTRA_HTTP_STEP_ERROR;

	if (conn->status >= 100 && conn->status < 200) {
		if (conn->status == 101) {
			g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
					     "malformed response: unexpected 101 Switching Protocols");
			return ASTRA_HTTP_STEP_ERROR;
		}
		/* an interim response (100 Continue, 103 Early Hints): the real one follows */
		memmove (conn->buf, conn->buf + block_end, conn->len - block_end);
		conn->len -= block_end;
		conn->head_used += block_end;
		conn->scan = 0;
		conn->n_lines = 0;
		conn->n_headers = 0;
		return ASTRA_HTTP_STEP_NEXT;
	}

	for (guint i = 0; i < conn->n_headers; i++) {
		const char *name = conn->buf + conn->hdr_name[i];
		const char *value = conn->buf + conn->hdr_value[i];
		const char *elem;
		gsize elem_len;

		if (g_ascii_strcasecmp (name, "Content-Length") == 0) {
			if (!astra_http_parse_content_length (conn, value, error))
				return ASTRA_HTTP_STEP_ERROR;
		} else if (g_ascii_strcasecmp (name, "Transfer-Encoding") == 0) {
			/* the body is chunked when chunked is the last coding applied */
			have_te = TRUE;
			chunked = FALSE;
			while (astra_http_list_next (&value, &elem, &elem_len)) {
				if (elem_len > 0)
					chunked = astra_http_elem_is (elem, elem_len, "chunked");
			}
		} else if (g_ascii_strcasecmp (name, "Connection") == 0) {
			while (astra_http_list_next (&value, &elem, &elem_len)) {
				if (astra_http_elem_is (elem, elem_len, "close"))
					close = TRUE;
				else if (astra_http_elem_is (elem, elem_len, "keep-alive"))
					keep_alive = TRUE;
			}
		}
	}

	conn->keep_alive = !close && (minor == 1 || keep_alive);
	conn->hdr_len = block_end;
	conn->pos = block_end;
	if (conn->job->head || conn->status == 204 || conn->status == 304) {
		conn->parse = ASTRA_HTTP_PARSE_DONE;
	} else if (have_te) {
		/* Transfer-Encoding overrides Content-Length, but a response with both (or a coding
		 * that is not chunked last, or an HTTP/1.0 one) is not trusted to end where it says */
		if (chunked && minor == 1) {
			conn->parse = ASTRA_HTTP_PARSE_CHUNK_SIZE;
			if (conn->have_length)
				conn->keep_alive = FALSE;
		} else {
			conn->parse = ASTRA_HTTP_PARSE_UNTIL_EOF;
			conn->keep_alive = FALSE;
		}
		conn->have_length = FALSE;
	} else if (conn->have_length) {
		conn->remaining = conn->content_length;
		conn->parse = conn->remaining > 0 ? ASTRA_HTTP_PARSE_LENGTH : ASTRA_HTTP_PARSE_DONE;
		/* the excerpt is known to be this size: no growing (a length the receiver claims
		 * only reserves what a body that big is read for anyway) */
		if (conn->remaining > 0 && conn->job->max_body > 0) {
			conn->body_cap = (gsize) MIN (MIN (conn->content_length, (guint64) conn->job->max_body),
						      ASTRA_HTTP_CLIENT_MAX_DISCARD);
			conn->body = g_malloc (conn->body_cap);
		}
	} else {
		conn->parse = ASTRA_HTTP_PARSE_UNTIL_EOF;
		conn->keep_alive = FALSE;
	}
	return ASTRA_HTTP_STEP_NEXT;
}

static AstraHttpStep
astra_http_conn_parse_head (AstraHttpConn *conn, GError **error)
{
	gsize budget = ASTRA_HTTP_MAX_HEAD - MIN (conn->head_used, ASTRA_HTTP_MAX_HEAD);

	for (;;) {
		char *nl = memchr (conn->buf + conn->scan, '\n', conn->len - conn->scan);
		gsize line_end;
		gsize content_end;

		if (nl == NULL) {
			if (conn->len > budget) {
				astra_http_set_malformed (error, "headers too large");
				return ASTRA_HTTP_STEP_ERROR;
			}
			return ASTRA_HTTP_STEP_MORE;
		}
		line_end = (gsize) (nl - conn->buf);
		if (line_end + 1 > budget) {
			astra_http_set_malformed (error, "headers too large");
			return ASTRA_HTTP_STEP_ERROR;
		}
		content_end = line_end;
		if (content_end > conn->scan && conn->buf[content_end - 1] == '\r')
			content_end--;
		if (content_end == conn->scan) {
			if (conn->scan == 0) {
				astra_http_set_malformed (error, "bad status line");
				return ASTRA_HTTP_STEP_ERROR;
			}
			return astra_http_conn_parse_block (conn, line_end + 1, error);
		}
		/* the status line and at most ASTRA_HTTP_MAX_LINES headers */
		if (++conn->n_lines > ASTRA_HTTP_MAX_LINES + 1) {
			astra_http_set_malformed (error, "too many headers");
			return ASTRA_HTTP_STEP_ERROR;
		}
		conn->scan = line_end + 1;
	}
}

static AstraHttpStep
astra_http_conn_parse_chunk_size (AstraHttpConn *conn, GError **error)
{
	const char *line = conn->buf + conn->pos;
	gsize avail = conn->len - conn->pos;
	const char *nl = memchr (line, '\n', avail);
	gsize line_len;
	guint64 size = 0;
	gsize i = 0;

	if (nl == NULL) {
		if (avail > ASTRA_HTTP_MAX_CHUNK_LINE) {
			astra_http_set_malformed (error, "bad chunk size");
			return ASTRA_HTTP_STEP_ERROR;
		}
		return ASTRA_HTTP_STEP_MORE;
	}
	line_len = (gsize) (nl - line);
	if (line_len > 0 && line[line_len - 1] == '\r')
		line_len--;
	for (; i < line_len && g_ascii_isxdigit (line[i]); i++) {
		if (i >= 15) {
			astra_http_set_malformed (error, "chunk too large");
			return ASTRA_HTTP_STEP_ERROR;
		}
		size = size * 16 + (guint64) g_ascii_xdigit_value (line[i]);
	}
	if (i == 0) {
		astra_http_set_malformed (error, "bad chunk size");
		return ASTRA_HTTP_STEP_ERROR;
	}
	while (i < line_len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	/* chunk extensions are allowed and ignored */
	if ((i < line_len && line[i] != ';') || !astra_http_is_field_value (line + i, line_len - i)) {
		astra_http_set_malformed (error, "bad chunk size");
		return ASTRA_HTTP_STEP_ERROR;
	}
	conn->pos = (gsize) (nl - conn->buf) + 1;
	if (size == 0) {
		conn->parse = ASTRA_HTTP_PARSE_TRAILER;
	} else {
		conn->remaining = size;
		conn->parse = ASTRA_HTTP_PARSE_CHUNK_DATA;
	}
	return ASTRA_HTTP_STEP_NEXT;
}

static AstraHttpStep
astra_http_conn_parse_chunk_end (AstraHttpConn *conn, GError **error)
{
	gsize avail = conn->len - conn->pos;
	const char *p = conn->buf + conn->pos;

	if (avail == 0)
		return ASTRA_HTTP_STEP_MORE;
	if (p[0] == '\n') {
		conn->pos++;
	} else if (p[0] == '\r') {
		if (avail < 2)
			return ASTRA_HTTP_STEP_MORE;
		if (p[1] != '\n') {
			astra_http_set_malformed (error, "bad chunk");
			return ASTRA_HTTP_STEP_ERROR;
		}
		conn->pos += 2;
	} else {
		astra_http_set_malformed (error, "bad chunk");
		return ASTRA_HTTP_STEP_ERROR;
	}
	conn->parse = ASTRA_HTTP_PARSE_CHUNK_SIZE;
	return ASTRA_HTTP_STEP_NEXT;
}

/* trailer fields are read, bounded like headers, and dropped */
static AstraHttpStep
astra_http_conn_parse_trailer (AstraHttpConn *conn, GError **error)
{
	const char *line = conn->buf + conn->pos;
	gsize avail = conn->len - conn->pos;
	const char *nl = memchr (line, '\n', avail);
	gsize line_len;

	if (nl == NULL) {
		if (conn->trailer_bytes + avail > ASTRA_HTTP_MAX_HEAD) {
			astra_http_set_malformed (error, "trailers too large");
			return ASTRA_HTTP_STEP_ERROR;
		}
		return ASTRA_HTTP_STEP_MORE;
	}
	line_len = (gsize) (nl - line);
	conn->pos = (gsize) (nl - conn->buf) + 1;
	conn->trailer_bytes += line_len + 1;
	if (line_len > 0 && line[line_len - 1] == '\r')
		line_len--;
	if (line_len == 0) {
		conn->parse = ASTRA_HTTP_PARSE_DONE;
		return ASTRA_HTTP_STEP_NEXT;
	}
	if (conn->trailer_bytes > ASTRA_HTTP_MAX_HEAD || ++conn->trailer_lines > ASTRA_HTTP_MAX_LINES) {
		astra_http_set_malformed (error, "trailers too large");
		return ASTRA_HTTP_STEP_ERROR;
	}
	if (!astra_http_is_field_value (line, line_len) || memchr (line, ':', line_len) == NULL) {
		astra_http_set_malformed (error, "bad trailer line");
		return ASTRA_HTTP_STEP_ERROR;
	}
	return ASTRA_HTTP_STEP_NEXT;
}

static AstraHttpStep
astra_http_conn_parse_data (AstraHttpConn *conn)
{
	gsize avail = conn->len - conn->pos;
	gsize n;

	if (avail == 0)
		return ASTRA_HTTP_STEP_MORE;
	if (conn->parse == ASTRA_HTTP_PARSE_UNTIL_EOF) {
		astra_http_conn_take_body (conn, conn->buf + conn->pos, avail);
		conn->pos = conn->len;
		return ASTRA_HTTP_STEP_NEXT;
	}
	n = (gsize) MIN ((guint64) avail, conn->remaining);
	astra_http_conn_take_body (conn, conn->buf + conn->pos, n);
	conn->pos += n;
	conn->remaining -= n;
	if (conn->remaining == 0) {
		conn->parse = conn->parse == ASTRA_HTTP_PARSE_LENGTH ? ASTRA_HTTP_PARSE_DONE
								     : ASTRA_HTTP_PARSE_CHUNK_END;
	}
	return ASTRA_HTTP_STEP_NEXT;
}

/* parses what is buffered; TRUE unless the response is malformed */
static gboolean
astra_http_conn_parse (AstraHttpConn *conn, GError **error)
{
	AstraHttpStep step = ASTRA_HTTP_STEP_NEXT;

	while (step == ASTRA_HTTP_STEP_NEXT) {
		switch (conn->parse) {
		case ASTRA_HTTP_PARSE_HEAD:
			step = astra_http_conn_parse_head (conn, error);
			break;
		case ASTRA_HTTP_PARSE_LENGTH:
		case ASTRA_HTTP_PARSE_UNTIL_EOF:
		case ASTRA_HTTP_PARSE_CHUNK_DATA:
		case ASTRA_HTTP_PARSE_CHUNK_SIZE:
		case ASTRA_HTTP_PARSE_CHUNK_END:
		case ASTRA_HTTP_PARSE_TRAILER:
			if (astra_http_conn_over_limit (conn)) {
				conn->parse = ASTRA_HTTP_PARSE_DONE;
				conn->keep_alive = FALSE;
				return TRUE;
			}
			if (conn->parse == ASTRA_HTTP_PARSE_CHUNK_SIZE)
				step = astra_http_conn_parse_chunk_size (conn, error);
			else if (conn->parse == ASTRA_HTTP_PARSE_CHUNK_END)
				step = astra_http_conn_parse_chunk_end (conn, error);
			else if (conn->parse == ASTRA_HTTP_PARSE_TRAILER)
				step = astra_http_conn_parse_trailer (conn, error);
			else
				step = astra_http_conn_parse_data (conn);
			break;
		case ASTRA_HTTP_PARSE_DONE:
			return TRUE;
		default:
			g_assert_not_reached ();
		}
	}
	if (step == ASTRA_HTTP_STEP_ERROR)
		return FALSE;

	/* body bytes are consumed in place: what is left (part of a line) moves back to the window's start */
	if (conn->parse != ASTRA_HTTP_PARSE_HEAD && conn->pos > conn->hdr_len) {
		gsize rest = conn->len - conn->pos;

		if (rest > 0)
			memmove (conn->buf + conn->hdr_len, conn->buf + conn->pos, rest);
		conn->len = conn->hdr_len + rest;
		conn->pos = conn->hdr_len;
	}
	return TRUE;
}

static AstraResponse *
astra_http_conn_build_response (AstraHttpConn *conn)
{
	g_autoptr(GBytes) body = NULL;
	AstraResponse *response;

	if (conn->body_len > 0) {
		if (conn->body_cap > conn->body_len + 1024)
			conn->body = g_realloc (conn->body, conn->body_len);
		body = g_bytes_new_take (g_steal_pointer (&conn->body), conn->body_len);
	}
	g_clear_pointer (&conn->body, g_free);
	conn->body_len = 0;
	conn->body_cap = 0;
	response = astra_response_new (conn->status, body);
	for (guint i = 0; i < conn->n_headers; i++)
		astra_response_set_header (response, conn->buf + conn->hdr_name[i], conn->buf + conn->hdr_value[i]);
	astra_response_set_date (response, g_get_real_time () / G_USEC_PER_SEC);
	return response;
}

static void
astra_http_conn_complete (AstraHttpConn *conn)
{
	AstraHttpJob *job = conn->job;
	AstraHttpHost *host = conn->host;
	AstraResponse *response = astra_http_conn_build_response (conn);
	/* bytes after the end of the response were never asked for: the connection is out of step */
	gboolean reuse = conn->keep_alive && conn->pos == conn->len;

	astra_http_job_detach (job);
	conn->job = NULL;
	job->conn = NULL;
	conn->len = 0;
	conn->pos = 0;
	conn->hdr_len = 0;
	if (reuse) {
		astra_http_conn_release (conn);
	} else {
		astra_http_conn_close (conn);
		astra_http_host_pump (host);
	}
	astra_http_job_return (job, response, NULL);
}

static void
astra_http_conn_eof (AstraHttpConn *conn)
{
	if (conn->parse == ASTRA_HTTP_PARSE_UNTIL_EOF) {
		conn->parse = ASTRA_HTTP_PARSE_DONE;
		conn->keep_alive = FALSE;
		astra_http_conn_complete (conn);
		return;
	}
	if (!conn->got_bytes) {
		astra_http_conn_fail_unanswered (
		    conn, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
					       "the receiver closed the connection before answering"));
		return;
	}
	astra_http_job_fail (conn->job, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT,
							     "the receiver closed the connection mid-response"));
}

static void
astra_http_conn_read (AstraHttpConn *conn)
{
	for (;;) {
		g_autoptr(GError) error_local = NULL;
		gsize want;
		gssize n;

		if (conn->cap - conn->len < 1024) {
			conn->cap = conn->len + ASTRA_HTTP_READ_SIZE;
			conn->buf = g_realloc (conn->buf, conn->cap);
		}
		want = conn->cap - conn->len;
		n = g_pollable_input_stream_read_nonblocking (conn->in, conn->buf + conn->len, want, NULL, &error_local);
		if (n < 0) {
			if (g_error_matches (error_local, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
				return;
			/* many TLS servers close without close_notify: for HTTP that is an EOF */
			if (g_error_matches (error_local, G_TLS_ERROR, G_TLS_ERROR_EOF)) {
				astra_http_conn_eof (conn);
				return;
			}
			if (astra_http_error_is_closed (error_local) && !conn->got_bytes) {
				astra_http_conn_fail_unanswered (
				    conn, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
							       "the receiver closed the connection before answering"));
				return;
			}
			astra_http_job_fail (conn->job, g_error_new (G_IO_ERROR, G_IO_ERROR_FAILED,
								     "receiving the response from %s failed: %s",
								     conn->host->label, error_local->message));
			return;
		}
		if (n == 0) {
			astra_http_conn_eof (conn);
			return;
		}
		conn->got_bytes = TRUE;
		conn->len += (gsize) n;
		if (!astra_http_conn_parse (conn, &error_local)) {
			astra_http_job_fail (conn->job, g_steal_pointer (&error_local));
			return;
		}
		if (conn->parse == ASTRA_HTTP_PARSE_DONE) {
			astra_http_conn_complete (conn);
			return;
		}
		/* a short read drained a plain socket; TLS may hold decrypted records back,
		 * which no poll shows, so it is read until it would block */
		if (!conn->tls && (gsize) n < want)
			return;
	}
}

/* an idle connection became readable: the receiver closed it (or sent what nobody asked for) */
static void
astra_http_conn_idle_read (AstraHttpConn *conn)
{
	g_autoptr(GError) error_local = NULL;
	AstraHttpHost *host = conn->host;
	gssize n = g_pollable_input_stream_read_nonblocking (conn->in, conn->buf, conn->cap, NULL, &error_local);

	/* TLS session tickets and the like arrive this way */
	if (n < 0 && g_error_matches (error_local, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
		return;
	astra_http_conn_close (conn);
	astra_http_host_pump (host);
}

static void
astra_http_conn_readable (AstraHttpConn *conn)
{
	if (conn->state == ASTRA_HTTP_CONN_READING)
		astra_http_conn_read (conn);
	else if (conn->state == ASTRA_HTTP_CONN_IDLE)
		astra_http_conn_idle_read (conn);
	/* the connection may be gone: nothing touches it after this */
}

static gboolean
astra_http_conn_readable_cb (GObject *stream, gpointer user_data)
{
	astra_http_conn_readable (user_data);
	return G_SOURCE_CONTINUE;
}

static gboolean
astra_http_conn_fd_readable_cb (gint fd, GIOCondition condition, gpointer user_data)
{
	astra_http_conn_readable (user_data);
	return G_SOURCE_CONTINUE;
}

/* one source per connection for its life, watching for the answer and, while idle, for the
 * receiver closing it: no probe per request.
 *
 * GLib takes the descriptors of a source that cannot recurse out of the poll set while it
 * dispatches and puts them back after, and each change wakes the loop (an eventfd write): two
 * per dispatch, four with the child source of a pollable stream. These callbacks may recurse (they
 * finish their work before any caller's callback runs), and a plain socket is watched on its
 * descriptor directly: the socket stream is read until a short read, so nothing can hide behind a
 * quiet descriptor. TLS keeps its pollable source, whose readiness the TLS layer decides */
static void
astra_http_conn_watch_input (AstraHttpConn *conn)
{
	if (conn->tls) {
		conn->in_source = g_pollable_input_stream_create_source (conn->in, NULL);
		g_source_set_callback (conn->in_source, G_SOURCE_FUNC (astra_http_conn_readable_cb), conn, NULL);
	} else {
		GSocket *socket = g_socket_connection_get_socket (conn->connection);

		conn->in_source = g_unix_fd_source_new (g_socket_get_fd (socket), G_IO_IN);
		g_source_set_callback (conn->in_source, G_SOURCE_FUNC (astra_http_conn_fd_readable_cb), conn, NULL);
	}
	g_source_set_can_recurse (conn->in_source, TRUE);
	g_source_attach (conn->in_source, conn->host->client->context);
}

static GError *
astra_http_connect_error (AstraHttpHost *host, const GError *error)
{
	if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
		return g_error_new (G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED, "connection refused by %s", host->label);
	if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_HOST_UNREACHABLE) ||
	    g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE))
		return g_error_new (G_IO_ERROR, error->code, "%s is unreachable", host->label);
	if (error->domain == G_RESOLVER_ERROR)
		return g_error_new (G_IO_ERROR, G_IO_ERROR_HOST_NOT_FOUND, "could not resolve %s: %s", host->label,
				    error->message);
	if (error->domain == G_TLS_ERROR)
		return g_error_new (G_IO_ERROR, G_IO_ERROR_FAILED, "TLS handshake with %s failed: %s", host->label,
				    error->message);
	return g_error_new (G_IO_ERROR, error->domain == G_IO_ERROR ? error->code : G_IO_ERROR_FAILED,
			    "could not connect to %s: %s", host->label, error->message);
}

static gboolean
astra_http_stream_can_poll (GIOStream *stream)
{
	GInputStream *in = g_io_stream_get_input_stream (stream);
	GOutputStream *out = g_io_stream_get_output_stream (stream);

	return G_IS_POLLABLE_INPUT_STREAM (in) && G_IS_POLLABLE_OUTPUT_STREAM (out) &&
	       g_pollable_input_stream_can_poll (G_POLLABLE_INPUT_STREAM (in)) &&
	       g_pollable_output_stream_can_poll (G_POLLABLE_OUTPUT_STREAM (out));
}

static void
astra_http_conn_connect_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
	AstraHttpConn *conn = user_data;
	g_autoptr(GError) error_local = NULL;
	g_autoptr(GSocketConnection) connection = NULL;
	AstraHttpHost *host;
	AstraHttpClient *self;
	AstraHttpJob *job;
	GIOStream *stream;
	GError *error = NULL;

	connection = g_socket_client_connect_finish (G_SOCKET_CLIENT (source), result, &error_local);
	if (conn->state == ASTRA_HTTP_CONN_CLOSED) {
		/* its job timed out or was cancelled meanwhile */
		g_object_unref (conn->connect_cancellable);
		g_free (conn);
		return;
	}
	g_clear_object (&conn->connect_cancellable);
	host = conn->host;
	self = host->client;
	job = conn->job;
	if (connection == NULL)
		error = astra_http_connect_error (host, error_local);
	else if (!astra_http_stream_can_poll (G_IO_STREAM (connection)))
		error = g_error_new (G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "the connection to %s cannot be polled",
				     host->label);
	if (error != NULL) {
		conn->job = NULL;
		job->conn = NULL;
		host->n_conns--;
		g_free (conn);
		astra_http_job_fail (job, error);
		return;
	}
	stream = G_IO_STREAM (connection);
	/* one write per request, but a TLS record split over two must not wait for an ACK */
	g_socket_set_option (g_socket_connection_get_socket (connection), IPPROTO_TCP, TCP_NODELAY, 1, NULL);
	conn->connection = g_steal_pointer (&connection);
	conn->in = G_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream (stream));
	conn->out = G_POLLABLE_OUTPUT_STREAM (g_io_stream_get_output_stream (stream));
	conn->tls = host->tls;
	conn->cap = ASTRA_HTTP_READ_SIZE;
	conn->buf = g_malloc (conn->cap);
	self->n_open++;
	self->n_connects++;
	astra_http_conn_watch_input (conn);
	astra_http_conn_start (conn, job);
}

/* a new connection for @job, which the caller has made room for */
static void
astra_http_conn_connect (AstraHttpHost *host, AstraHttpJob *job)
{
	AstraHttpClient *self = host->client;
	AstraHttpConn *conn = g_new0 (AstraHttpConn, 1);

	conn->host = host;
	conn->job = job;
	conn->link.data = conn;
	conn->state = ASTRA_HTTP_CONN_CONNECTING;
	conn->connect_cancellable = g_cancellable_new ();
	job->conn = conn;
	host->n_conns++;
	g_socket_client_connect_async (host->tls ? self->tls_client : self->plain_client, host->address,
				       conn->connect_cancellable, astra_http_conn_connect_cb, conn);
}

static void
astra_http_host_submit (AstraHttpHost *host, AstraHttpJob *job)
{
	if (host->idle.head != NULL) {
		AstraHttpConn *conn = host->idle.head->data;

		/* the most recently used: the least likely to have been closed by the receiver,
		 * and the others may time out when fewer are needed */
		g_queue_unlink (&host->idle, &conn->link);
		astra_http_conn_start (conn, job);
		return;
	}
	if (host->n_conns < host->client->max_conns_per_host) {
		astra_http_conn_connect (host, job);
		return;
	}
	g_queue_push_tail_link (&host->waiting, &job->wait_link);
	job->waiting = TRUE;
}

/* URLs */

typedef struct {
	gboolean tls;
	const char *host; /* without brackets */
	gsize host_len;
	gboolean ipv6;
	guint port;
	const char *path; /* path and query, without the fragment; may be empty */
	gsize path_len;
} AstraHttpUrl;

static gboolean
astra_http_url_error (GError **error, const char *what)
{
	/* the URL is a credential for several destinations: say what is wrong, not what it is */
	g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "invalid URL: %s", what);
	return FALSE;
}

static gboolean
astra_http_url_parse (const char *url, AstraHttpUrl *out, GError **error)
{
	const char *authority;
	const char *end;
	const char *p;

	memset (out, 0, sizeof (*out));
	if (url == NULL)
		return astra_http_url_error (error, "the request has no URL");
	if (g_ascii_strncasecmp (url, "http://", 7) == 0) {
		authority = url + 7;
	} else if (g_ascii_strncasecmp (url, "https://", 8) == 0) {
		authority = url + 8;
		out->tls = TRUE;
	} else {
		return astra_http_url_error (error, "only http and https URLs are supported");
	}
	end = authority + strcspn (authority, "/?#");
	if (memchr (authority, '@', (gsize) (end - authority)) != NULL)
		return astra_http_url_error (error, "user information (user@host) is not supported");

	if (*authority == '[') {
		const char *close = memchr (authority, ']', (gsize) (end - authority));

		if (close == NULL || close == authority + 1)
			return astra_http_url_error (error, "bad IPv6 address");
		out->host = authority + 1;
		out->host_len = (gsize) (close - out->host);
		out->ipv6 = TRUE;
		for (gsize i = 0; i < out->host_len; i++) {
			if (!g_ascii_isxdigit (out->host[i]) && out->host[i] != ':' && out->host[i] != '.')
				return astra_http_url_error (error, "bad IPv6 address");
		}
		p = close + 1;
		if (p < end && *p != ':')
			return astra_http_url_error (error, "bad host");
	} else {
		const char *colon = memchr (authority, ':', (gsize) (end - authority));

		p = colon != NULL ? colon : end;
		out->host = authority;
		out->host_len = (gsize) (p - authority);
		if (out->host_len == 0)
			return astra_http_url_error (error, "no host");
		for (gsize i = 0; i < out->host_len; i++) {
			guchar c = (guchar) out->host[i];
			if (!g_ascii_isalnum (c) && c != '-' && c != '.' && c != '_' && c < 0x80)
				return astra_http_url_error (error, "bad host");
		}
	}
	if (out->host_len > ASTRA_HTTP_MAX_HOST_NAME)
		return astra_http_url_error (error, "host name too long");

	out->port = out->tls ? 443 : 80;
	if (p < end && *p == ':' && p + 1 < end) {
		guint port = 0;

		for (p++; p < end; p++) {
			if (!g_ascii_isdigit (*p) || port > 65535)
				return astra_http_url_error (error, "bad port");
			port = port * 10 + (guint) (*p - '0');
		}
		if (port == 0 || port > 65535)
			return astra_http_url_error (error, "bad port");
		out->port = port;
	}

	out->path = end;
	out->path_len = strcspn (end, "#");
	for (gsize i = 0; i < out->path_len; i++) {
		guchar c = (guchar) out->path[i];
		if (c <= 0x20 || c == 0x7f)
			return astra_http_url_error (error, "white space or control characters");
	}
	return TRUE;
}

/* scheme://host:port in lower case, in @buf of at least ASTRA_HTTP_MAX_HOST_NAME + 32 bytes */
static void
astra_http_url_key (const AstraHttpUrl *url, char *buf)
{
	char *o = buf;

	o = g_stpcpy (o, url->tls ? "https://" : "http://");
	if (url->ipv6)
		*o++ = '[';
	for (gsize i = 0; i < url->host_len; i++)
		*o++ = g_ascii_tolower (url->host[i]);
	if (url->ipv6)
		*o++ = ']';
	g_snprintf (o, 16, ":%u", url->port);
}

static AstraHttpHost *
astra_http_client_get_host (AstraHttpClient *self, const AstraHttpUrl *url, GError **error)
{
	char key[ASTRA_HTTP_MAX_HOST_NAME + 32];
	g_autofree char *name = NULL;
	g_autofree char *bracketed = NULL;
	AstraHttpHost *host;

	astra_http_url_key (url, key);
	host = g_hash_table_lookup (self->hosts, key);
	if (host != NULL)
		return host;

	/* a new host: its name is checked and converted once */
	name = g_ascii_strdown (url->host, (gssize) url->host_len);
	if (url->ipv6) {
		if (!g_hostname_is_ip_address (name)) {
			astra_http_url_error (error, "bad IPv6 address");
			return NULL;
		}
	} else if (g_hostname_is_non_ascii (name)) {
		g_autofree char *ascii = g_utf8_validate (name, -1, NULL) ? g_hostname_to_ascii (name) : NULL;

		if (ascii == NULL) {
			astra_http_url_error (error, "bad host");
			return NULL;
		}
		g_free (name);
		name = g_steal_pointer (&ascii);
	}
	bracketed = url->ipv6 ? g_strdup_printf ("[%s]", name) : g_strdup (name);

	host = g_new0 (AstraHttpHost, 1);
	host->client = self;
	host->key = g_strdup (key);
	host->tls = url->tls;
	host->label = g_strdup_printf ("%s:%u", bracketed, url->port);
	/* the default port goes without saying, as browsers and libsoup send it */
	host->host_header = url->port == (url->tls ? 443u : 80u) ? g_strdup (bracketed) : g_strdup (host->label);
	host->host_header_len = strlen (host->host_header);
	/* the scheme lets the proxy resolver choose as for a URL */
	host->address = g_object_new (G_TYPE_NETWORK_ADDRESS, "hostname", name, "port", url->port, "scheme",
				      url->tls ? "https" : "http", NULL);
	g_hash_table_insert (self->hosts, host->key, host);
	return host;
}

/* the request, as one buffer */

typedef struct {
	gsize len;
	char *out; /* NULL while measuring */
	GError *error;
} AstraHttpHeaderCtx;

static void
astra_http_measure_header_cb (const char *name, const char *value, gpointer user_data)
{
	AstraHttpHeaderCtx *ctx = user_data;
	gsize name_len = strlen (name);
	gsize value_len = strlen (value);
	static const char *const reserved[] = { "Host", "Content-Length", "Transfer-Encoding", "Connection" };

	if (ctx->error != NULL)
		return;
	if (!astra_http_is_token (name, name_len)) {
		g_set_error_literal (&ctx->error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
				     "invalid request header name");
		return;
	}
	if (!astra_http_is_field_value (value, value_len)) {
		g_set_error (&ctx->error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			     "request header %s: the value contains control characters", name);
		return;
	}
	/* the framing and the connection are the client's: a plugin's own would contradict the
	 * message actually sent (or smuggle a second one), so it is refused, not silently dropped */
	for (guint i = 0; i < G_N_ELEMENTS (reserved); i++) {
		if (g_ascii_strcasecmp (name, reserved[i]) == 0) {
			g_set_error (&ctx->error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
				     "request header %s is set by the HTTP client", reserved[i]);
			return;
		}
	}
	ctx->len += name_len + 2 + value_len + 2;
}

static void
astra_http_write_header_cb (const char *name, const char *value, gpointer user_data)
{
	AstraHttpHeaderCtx *ctx = user_data;

	ctx->out = g_stpcpy (ctx->out, name);
	*ctx->out++ = ':';
	*ctx->out++ = ' ';
	ctx->out = g_stpcpy (ctx->out, value);
	*ctx->out++ = '\r';
	*ctx->out++ = '\n';
}

static char *
astra_http_append (char *o, const char *s, gsize len)
{
	memcpy (o, s, len);
	return o + len;
}

#define ASTRA_HTTP_APPEND_LITERAL(o, s) astra_http_append ((o), (s), sizeof (s) - 1)

static AstraHttpJob *
astra_http_job_new (AstraRequest *request, AstraHttpHost *host, const AstraHttpUrl *url, GError **error)
{
	static const char hex[] = "0123456789ABCDEF";
	AstraHttpHeaderCtx ctx = { 0 };
	const char *method = astra_request_get_method (request);
	const char *content_type = astra_request_get_content_type (request);
	GBytes *body = astra_request_get_body (request);
	gsize method_len = method != NULL ? strlen (method) : 0;
	gsize ct_len = content_type != NULL ? strlen (content_type) : 0;
	gsize body_len = body != NULL ? g_bytes_get_size (body) : 0;
	gboolean with_length;
	char length_str[24] = "";
	gsize length_len = 0;
	gsize path_out = url->path_len;
	gsize total;
	AstraHttpJob *job;
	char *o;

	if (!astra_http_is_token (method, method_len)) {
		g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "invalid HTTP method");
		return NULL;
	}
	if (content_type != NULL && !astra_http_is_field_value (content_type, ct_len)) {
		g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
				     "the content type contains control characters");
		return NULL;
	}
	astra_request_foreach_header (request, astra_http_measure_header_cb, &ctx);
	if (ctx.error != NULL) {
		g_propagate_error (error, ctx.error);
		return NULL;
	}
	/* bytes outside ASCII go percent-encoded; an empty path is "/" */
	for (gsize i = 0; i < url->path_len; i++) {
		if ((guchar) url->path[i] >= 0x80)
			path_out += 2;
	}
	if (url->path_len == 0 || url->path[0] != '/')
		path_out++;
	/* a POST without a body still says so: receivers may answer 411 otherwise */
	with_length = body != NULL || g_strcmp0 (method, "POST") == 0 || g_strcmp0 (method, "PUT") == 0 ||
		      g_strcmp0 (method, "PATCH") == 0;
	if (with_length)
		length_len = (gsize) g_snprintf (length_str, sizeof (length_str), "%" G_GSIZE_FORMAT, body_len);

	total = method_len + 1 + path_out + sizeof (" HTTP/1.1\r\nHost: ") - 1 + host->host_header_len + 2;
	if (content_type != NULL)
		total += sizeof ("Content-Type: ") - 1 + ct_len + 2;
	if (with_length)
		total += sizeof ("Content-Length: ") - 1 + length_len + 2;
	total += ctx.len + 2 + body_len;

	job = g_malloc (sizeof (AstraHttpJob) + total);
	memset (job, 0, sizeof (AstraHttpJob));
	job->link.data = job;
	job->wait_link.data = job;
	job->heap_index = G_MAXUINT;
	job->req_len = total;
	job->head = g_strcmp0 (method, "HEAD") == 0;

	o = astra_http_append (job->req, method, method_len);
	*o++ = ' ';
	if (url->path_len == 0 || url->path[0] != '/')
		*o++ = '/';
	for (gsize i = 0; i < url->path_len; i++) {
		guchar c = (guchar) url->path[i];
		if (c >= 0x80) {
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 0xf];
		} else {
			*o++ = (char) c;
		}
	}
	o = ASTRA_HTTP_APPEND_LITERAL (o, " HTTP/1.1\r\nHost: ");
	o = astra_http_append (o, host->host_header, host->host_header_len);
	o = ASTRA_HTTP_APPEND_LITERAL (o, "\r\n");
	if (content_type != NULL) {
		o = ASTRA_HTTP_APPEND_LITERAL (o, "Content-Type: ");
		o = astra_http_append (o, content_type, ct_len);
		o = ASTRA_HTTP_APPEND_LITERAL (o, "\r\n");
	}
	if (with_length) {
		o = ASTRA_HTTP_APPEND_LITERAL (o, "Content-Length: ");
		o = astra_http_append (o, length_str, length_len);
		o = ASTRA_HTTP_APPEND_LITERAL (o, "\r\n");
	}
	ctx.out = o;
	astra_request_foreach_header (request, astra_http_write_header_cb, &ctx);
	o = ASTRA_HTTP_APPEND_LITERAL (ctx.out, "\r\n");
	if (body_len > 0)
		o = astra_http_append (o, g_bytes_get_data (body, NULL), body_len);
	g_assert ((gsize) (o - job->req) == total);
	return job;
}

/* timers, cancellation, sweeping */

static void
astra_http_client_sweep (AstraHttpClient *self, gint64 now)
{
	gint64 idle_us = (gint64) self->idle_timeout * G_USEC_PER_SEC;
	gint64 next = 0;
	GHashTableIter iter;
	gpointer value;

	g_hash_table_iter_init (&iter, self->hosts);
	while (g_hash_table_iter_next (&iter, NULL, &value)) {
		AstraHttpHost *host = value;

		/* the idle list is in order of use: the oldest are at its tail */
		while (host->idle.tail != NULL) {
			AstraHttpConn *conn = host->idle.tail->data;
			gint64 expires = conn->idle_since + idle_us;

			if (expires > now) {
				next = next == 0 ? expires : MIN (next, expires);
				break;
			}
			astra_http_conn_close (conn);
		}
		if (host->n_conns == 0 && host->n_jobs == 0)
			g_hash_table_iter_remove (&iter);
	}
	g_hash_table_iter_init (&iter, self->watches);
	while (g_hash_table_iter_next (&iter, NULL, &value)) {
		if (((AstraHttpWatch *) value)->n_jobs == 0)
			g_hash_table_iter_remove (&iter);
	}
	self->n_idle_watches = 0;
	self->next_sweep = next;
}

static gboolean
astra_http_client_timer_cb (gpointer user_data)
{
	g_autoptr(AstraHttpClient) self = g_object_ref (ASTRA_HTTP_CLIENT (user_data));
	gint64 now = g_get_monotonic_time ();

	if (self->next_sweep > 0 && now >= self->next_sweep)
		astra_http_client_sweep (self, now);
	while (self->heap_len > 0 && self->heap[0]->deadline <= now) {
		AstraHttpJob *job = self->heap[0];

		astra_http_job_fail (job, g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "timed out after %u ms",
						       job->timeout_ms));
	}
	/* within its own dispatch the change wakes nothing up */
	if (self->timer != NULL)
		g_source_set_ready_time (self->timer, astra_http_client_next_wakeup (self));
	return G_SOURCE_CONTINUE;
}

static gboolean
astra_http_timer_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
	return callback (user_data);
}

static GSourceFuncs astra_http_timer_funcs = {
	.dispatch = astra_http_timer_dispatch,
};

typedef struct {
	AstraHttpClient *client;
	GCancellable *cancellable;
} AstraHttpCancelData;

static void
astra_http_cancel_data_free (AstraHttpCancelData *data)
{
	g_object_unref (data->client);
	g_object_unref (data->cancellable);
	g_free (data);
}

static gboolean
astra_http_client_cancelled_idle_cb (gpointer user_data)
{
	AstraHttpCancelData *data = user_data;
	AstraHttpClient *self = data->client;
	g_autoptr(GPtrArray) tasks = g_ptr_array_new_with_free_func (g_object_unref);

	for (GList *l = self->jobs.head; l != NULL; l = l->next) {
		AstraHttpJob *job = l->data;
		if (job->watch != NULL && job->watch->cancellable == data->cancellable)
			g_ptr_array_add (tasks, g_object_ref (job->task));
	}
	for (guint i = 0; i < tasks->len; i++) {
		AstraHttpJob *job = g_task_get_task_data (g_ptr_array_index (tasks, i));

		/* a callback of an earlier one may have finished it */
		if (job->task != NULL)
			astra_http_job_fail (job, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
								       "the request was cancelled"));
	}
	return G_SOURCE_REMOVE;
}

/* may run on any thread, inside g_cancellable_cancel(): the work is done from the client's context */
static void
astra_http_client_cancelled_cb (GCancellable *cancellable, gpointer user_data)
{
	g_autoptr(AstraHttpClient) self = g_weak_ref_get (user_data);
	g_autoptr(GSource) source = NULL;
	AstraHttpCancelData *data;

	if (self == NULL)
		return;
	data = g_new0 (AstraHttpCancelData, 1);
	data->client = g_object_ref (self);
	data->cancellable = g_object_ref (cancellable);
	source = g_idle_source_new ();
	g_source_set_priority (source, G_PRIORITY_DEFAULT);
	g_source_set_callback (source, astra_http_client_cancelled_idle_cb, data,
			       (GDestroyNotify) astra_http_cancel_data_free);
	g_source_attach (source, self->context);
}

/* callers share a cancellable for many requests (a shutdown): it is watched once, not per request */
static AstraHttpWatch *
astra_http_client_watch (AstraHttpClient *self, GCancellable *cancellable)
{
	AstraHttpWatch *watch = g_hash_table_lookup (self->watches, cancellable);
	GWeakRef *ref;

	if (watch != NULL) {
		if (watch->n_jobs == 0)
			self->n_idle_watches--;
		return watch;
	}
	watch = g_new0 (AstraHttpWatch, 1);
	watch->cancellable = g_object_ref (cancellable);
	ref = g_new0 (GWeakRef, 1);
	g_weak_ref_init (ref, self);
	watch->handler_id = g_cancellable_connect (cancellable, G_CALLBACK (astra_http_client_cancelled_cb), ref,
						   astra_http_weak_ref_free);
	g_hash_table_insert (self->watches, cancellable, watch);
	return watch;
}

static void
astra_http_client_socket_event_cb (GSocketClient *client,
				   GSocketClientEvent event,
				   GSocketConnectable *connectable,
				   GIOStream *connection,
				   gpointer user_data)
{
	AstraHttpClient *self = ASTRA_HTTP_CLIENT (user_data);

	if (event == G_SOCKET_CLIENT_TLS_HANDSHAKING && G_IS_TLS_CONNECTION (connection))
		g_tls_connection_set_database (G_TLS_CONNECTION (connection), self->tls_database);
}

/* public API */

/**
 * astra_http_client_send_async:
 * @self: an #AstraHttpClient
 * @request: the request to send
 * @timeout_ms: how long connecting, sending and receiving may take together; 0 for no limit
 * @max_body: how many bytes of the response body to keep
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the response was read or the request failed
 * @user_data: user data for @callback
 *
 * Sends @request on a pooled connection to its host, or a new one. The
 * callback runs on the thread-default main context the client was made on,
 * never before this returns.
 *
 * Since: 1.0
 */
void
astra_http_client_send_async (AstraHttpClient *self,
			      AstraRequest *request,
			      guint timeout_ms,
			      gsize max_body,
			      GCancellable *cancellable,
			      GAsyncReadyCallback callback,
			      gpointer user_data)
{
	g_autoptr(GTask) task = NULL;
	GError *error = NULL;
	AstraHttpUrl url;
	AstraHttpHost *host;
	AstraHttpJob *job;

	g_return_if_fail (ASTRA_IS_HTTP_CLIENT (self));
	g_return_if_fail (ASTRA_IS_REQUEST (request));
	g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

	task = g_task_new (self, cancellable, callback, user_data);
	g_task_set_source_tag (task, astra_http_client_send_async);
	/* the client fails a cancelled job itself; a response read before that is the answer, and
	 * must not turn into CANCELLED (a delivered webhook would be sent again) */
	g_task_set_check_cancellable (task, FALSE);
	if (g_cancellable_set_error_if_cancelled (cancellable, &error) ||
	    !astra_http_url_parse (astra_request_get_url (request), &url, &error) ||
	    (host = astra_http_client_get_host (self, &url, &error)) == NULL ||
	    (job = astra_http_job_new (request, host, &url, &error)) == NULL) {
		g_task_return_error (task, error);
		return;
	}
	g_task_set_task_data (task, job, (GDestroyNotify) astra_http_job_free);
	job->task = g_steal_pointer (&task);
	job->host = host;
	job->max_body = max_body;
	job->timeout_ms = timeout_ms;
	host->n_jobs++;
	g_queue_push_tail_link (&self->jobs, &job->link);
	if (cancellable != NULL) {
		job->watch = astra_http_client_watch (self, cancellable);
		job->watch->n_jobs++;
	}
	if (timeout_ms > 0) {
		job->deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
		astra_http_heap_push (self, job);
		astra_http_client_schedule (self);
	}
	astra_http_host_submit (host, job);
}

/**
 * astra_http_client_send_finish:
 * @self: an #AstraHttpClient
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError (in the %G_IO_ERROR domain)
 *
 * Gets the response: its status, every header and the first max_body bytes of its body.
 *
 * Returns: (transfer full): the response, or %NULL with @error set
 *
 * Since: 1.0
 */
AstraResponse *
astra_http_client_send_finish (AstraHttpClient *self, GAsyncResult *result, GError **error)
{
	g_return_val_if_fail (ASTRA_IS_HTTP_CLIENT (self), NULL);
	g_return_val_if_fail (g_task_is_valid (result, self), NULL);
	return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * astra_http_client_abort:
 * @self: an #AstraHttpClient
 *
 * Fails every request that is waiting or in flight with %G_IO_ERROR_CANCELLED
 * and closes every connection.
 *
 * Since: 1.0
 */
void
astra_http_client_abort (AstraHttpClient *self)
{
	g_autoptr(AstraHttpClient) keep = NULL;
	g_autoptr(GPtrArray) jobs = g_ptr_array_new ();
	GHashTableIter iter;
	gpointer value;

	g_return_if_fail (ASTRA_IS_HTTP_CLIENT (self));

	keep = g_object_ref (self);
	/* everything is taken apart before the first callback runs */
	while (self->jobs.head != NULL) {
		AstraHttpJob *job = self->jobs.head->data;
		AstraHttpConn *conn = job->conn;

		astra_http_job_detach (job);
		if (conn != NULL) {
			conn->job = NULL;
			job->conn = NULL;
			astra_http_conn_close (conn);
		}
		g_ptr_array_add (jobs, job);
	}
	g_hash_table_iter_init (&iter, self->hosts);
	while (g_hash_table_iter_next (&iter, NULL, &value)) {
		AstraHttpHost *host = value;
		while (host->idle.head != NULL)
			astra_http_conn_close (host->idle.head->data);
	}
	for (guint i = 0; i < jobs->len; i++)
		astra_http_job_return (g_ptr_array_index (jobs, i), NULL,
				       g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
							    "the request was aborted"));
}

/**
 * astra_http_client_set_max_conns_per_host:
 * @self: an #AstraHttpClient
 * @n: connections to one scheme://host:port at most, in use and idle; at least 1
 *
 * Requests beyond that wait, in the order they came, for a free connection.
 *
 * Since: 1.0
 */
void
astra_http_client_set_max_conns_per_host (AstraHttpClient *self, guint n)
{
	GHashTableIter iter;
	gpointer value;

	g_return_if_fail (ASTRA_IS_HTTP_CLIENT (self));
	g_return_if_fail (n > 0);

	self->max_conns_per_host = n;
	g_hash_table_iter_init (&iter, self->hosts);
	while (g_hash_table_iter_next (&iter, NULL, &value))
		astra_http_host_pump (value);
}

/**
 * astra_http_client_set_idle_timeout:
 * @self: an #AstraHttpClient
 * @seconds: how long an unused connection stays open; 0 closes it at once
 *
 * Since: 1.0
 */
void
astra_http_client_set_idle_timeout (AstraHttpClient *self, guint seconds)
{
	g_return_if_fail (ASTRA_IS_HTTP_CLIENT (self));
	self->idle_timeout = seconds;
	if (self->next_sweep > 0) {
		self->next_sweep = 0;
		astra_http_client_plan_sweep (self, g_get_monotonic_time () + (gint64) seconds * G_USEC_PER_SEC);
	}
}

/**
 * astra_http_client_set_tls_database:
 * @self: an #AstraHttpClient
 * @database: (nullable): the certificate authorities to trust, or %NULL for the system's
 *
 * For tests: trusts a private certificate authority. Connections already
 * made are not affected.
 *
 * Since: 1.0
 */
void
astra_http_client_set_tls_database (AstraHttpClient *self, GTlsDatabase *database)
{
	g_return_if_fail (ASTRA_IS_HTTP_CLIENT (self));
	g_return_if_fail (database == NULL || G_IS_TLS_DATABASE (database));

	g_set_object (&self->tls_database, database);
	if (database != NULL && self->tls_event_id == 0)
		self->tls_event_id = g_signal_connect (self->tls_client, "event",
						       G_CALLBACK (astra_http_client_socket_event_cb), self);
	else if (database == NULL)
		g_clear_signal_handler (&self->tls_event_id, self->tls_client);
}

/**
 * astra_http_client_get_n_connections:
 * @self: an #AstraHttpClient
 *
 * Returns: the number of connections open now, busy or idle
 *
 * Since: 1.0
 */
guint
astra_http_client_get_n_connections (AstraHttpClient *self)
{
	g_return_val_if_fail (ASTRA_IS_HTTP_CLIENT (self), 0);
	return self->n_open;
}

/**
 * astra_http_client_get_n_connects:
 * @self: an #AstraHttpClient
 *
 * Returns: the number of connections made so far
 *
 * Since: 1.0
 */
guint64
astra_http_client_get_n_connects (AstraHttpClient *self)
{
	g_return_val_if_fail (ASTRA_IS_HTTP_CLIENT (self), 0);
	return self->n_connects;
}

static void
astra_http_client_dispose (GObject *object)
{
	AstraHttpClient *self = ASTRA_HTTP_CLIENT (object);

	/* pending requests hold a reference: this only finds work after g_object_run_dispose() */
	if (self->jobs.head != NULL || g_hash_table_size (self->hosts) > 0)
		astra_http_client_abort (self);
	g_hash_table_remove_all (self->hosts);
	g_hash_table_remove_all (self->watches);
	if (self->timer != NULL) {
		g_source_destroy (self->timer);
		g_clear_pointer (&self->timer, g_source_unref);
	}
	if (self->tls_client != NULL)
		g_clear_signal_handler (&self->tls_event_id, self->tls_client);
	g_clear_object (&self->plain_client);
	g_clear_object (&self->tls_client);
	g_clear_object (&self->tls_database);
	G_OBJECT_CLASS (astra_http_client_parent_class)->dispose (object);
}

static void
astra_http_client_finalize (GObject *object)
{
	AstraHttpClient *self = ASTRA_HTTP_CLIENT (object);

	g_hash_table_unref (self->hosts);
	g_hash_table_unref (self->watches);
	g_free (self->heap);
	g_main_context_unref (self->context);
	G_OBJECT_CLASS (astra_http_client_parent_class)->finalize (object);
}

static void
astra_http_client_class_init (AstraHttpClientClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS (klass);

	object_class->dispose = astra_http_client_dispose;
	object_class->finalize = astra_http_client_finalize;
}

static void
astra_http_client_init (AstraHttpClient *self)
{
	self->context = g_main_context_ref_thread_default ();
	self->max_conns_per_host = 16;
	self->idle_timeout = 60;
	self->hosts = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) astra_http_host_free);
	self->watches = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) astra_http_watch_free);
	/* deadlines are ours: the sockets' own timeouts stay off */
	self->plain_client = g_socket_client_new ();
	self->tls_client = g_socket_client_new ();
	g_socket_client_set_tls (self->tls_client, TRUE);
	self->timer = g_source_new (&astra_http_timer_funcs, sizeof (GSource));
	g_source_set_callback (self->timer, astra_http_client_timer_cb, self, NULL);
	g_source_attach (self->timer, self->context);
}

/**
 * astra_http_client_new:
 *
 * Creates an HTTP/1.1 client for webhooks: keep-alive connections pooled per
 * scheme://host:port (16 at most per host, closed after 60 s unused), no
 * redirects followed. It must be used from the thread whose thread-default
 * main context was current when it was made.
 *
 * Returns: (transfer full): a new #AstraHttpClient
 *
 * Since: 1.0
 */
AstraHttpClient *
astra_http_client_new (void)
{
	return g_object_new (ASTRA_TYPE_HTTP_CLIENT, NULL);
}
