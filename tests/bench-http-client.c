/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Client-side cost of sending webhooks: N POSTs (default 20,000) with C in
 * flight (default 16) to a loopback receiver answering
 * "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", through AstraHttpClient and
 * through a libsoup 3 SoupSession set up as the dispatcher had it. The
 * receiver is a forked single-threaded epoll loop, so getrusage(RUSAGE_SELF)
 * counts the client alone.
 *
 *   bench-http-client [N [C [astra|soup]]]
 */

#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libsoup/soup.h>

#include "astra-http-client.h"

#define BENCH_WARMUP	 500
#define BENCH_MAX_FDS	 4096
#define BENCH_CONN_BUF	 65536
#define BENCH_ANSWER	 "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
#define BENCH_TIMEOUT_MS 10000

/* the receiver, in the child process: no GLib */

typedef struct {
	char buf[BENCH_CONN_BUF];
	size_t len;
} ServerConn;

static size_t
server_content_length (const char *head, size_t len)
{
	for (size_t i = 0; i + 16 < len; i++) {
		if ((head[i] == 'c' || head[i] == 'C') && strncasecmp (head + i, "content-length:", 15) == 0)
			return (size_t) strtoul (head + i + 15, NULL, 10);
	}
	return 0;
}

static void
server_serve (ServerConn *c, int fd)
{
	char out[BENCH_CONN_BUF];
	size_t out_len = 0;
	size_t pos = 0;

	for (;;) {
		char *end = g_strstr_len (c->buf + pos, (gssize) (c->len - pos), "\r\n\r\n");
		size_t head;
		size_t total;

		if (end == NULL)
			break;
		head = (size_t) (end - (c->buf + pos)) + 4;
		total = head + server_content_length (c->buf + pos, head);
		if (c->len - pos < total)
			break;
		pos += total;
		if (out_len + sizeof (BENCH_ANSWER) < sizeof (out)) {
			memcpy (out + out_len, BENCH_ANSWER, sizeof (BENCH_ANSWER) - 1);
			out_len += sizeof (BENCH_ANSWER) - 1;
		}
	}
	memmove (c->buf, c->buf + pos, c->len - pos);
	c->len -= pos;
	for (size_t done = 0; done < out_len;) {
		ssize_t n = write (fd, out + done, out_len - done);
		if (n <= 0)
			return;
		done += (size_t) n;
	}
}

static void G_GNUC_NORETURN
server_run (int listen_fd)
{
	static ServerConn *conns[BENCH_MAX_FDS];
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = listen_fd };
	struct epoll_event events[64];
	int ep = epoll_create1 (0);

	epoll_ctl (ep, EPOLL_CTL_ADD, listen_fd, &ev);
	for (;;) {
		int n = epoll_wait (ep, events, 64, -1);

		for (int i = 0; i < n; i++) {
			int fd = events[i].data.fd;

			if (fd == listen_fd) {
				int cfd = accept (listen_fd, NULL, NULL);
				if (cfd < 0 || cfd >= BENCH_MAX_FDS) {
					if (cfd >= 0)
						close (cfd);
					continue;
				}
				conns[cfd] = calloc (1, sizeof (ServerConn));
				ev.events = EPOLLIN;
				ev.data.fd = cfd;
				epoll_ctl (ep, EPOLL_CTL_ADD, cfd, &ev);
				continue;
			}
			{
				ServerConn *c = conns[fd];
				ssize_t r = read (fd, c->buf + c->len, sizeof (c->buf) - c->len);

				if (r <= 0) {
					epoll_ctl (ep, EPOLL_CTL_DEL, fd, NULL);
					close (fd);
					free (c);
					conns[fd] = NULL;
					continue;
				}
				c->len += (size_t) r;
				server_serve (c, fd);
			}
		}
	}
}

/* the clients */

typedef struct {
	const char *name;
	AstraHttpClient *client;
	SoupSession *session;
	AstraRequest *request;
	GCancellable *cancellable;
	GMainLoop *loop;
	guint to_send;
	guint in_flight;
	guint done;
	guint failed;
} Bench;

static void bench_send (Bench *b);

static void
bench_finished (Bench *b, gboolean ok)
{
	b->in_flight--;
	b->done++;
	if (!ok)
		b->failed++;
	if (b->to_send > 0)
		bench_send (b);
	else if (b->in_flight == 0)
		g_main_loop_quit (b->loop);
}

static void
bench_ours_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
	Bench *b = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(AstraResponse) response = astra_http_client_send_finish (ASTRA_HTTP_CLIENT (source), result, &error);

	if (response == NULL && b->failed == 0)
		g_printerr ("%s: %s\n", b->name, error->message);
	bench_finished (b, response != NULL && astra_response_get_status (response) == 200);
}

static void
bench_soup_header_cb (const char *name, const char *value, gpointer user_data)
{
	soup_message_headers_replace (user_data, name, value);
}

static void
bench_soup_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
	Bench *b = user_data;
	SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (source), result);
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);

	if (body == NULL && b->failed == 0)
		g_printerr ("%s: %s\n", b->name, error->message);
	bench_finished (b, body != NULL && soup_message_get_status (msg) == 200);
	g_object_unref (msg);
}

static void
bench_send (Bench *b)
{
	b->to_send--;
	b->in_flight++;
	if (b->client != NULL) {
		astra_http_client_send_async (b->client, b->request, BENCH_TIMEOUT_MS, 64 * 1024, b->cancellable,
					      bench_ours_cb, b);
		return;
	}
	{
		/* what the dispatcher does with libsoup for each attempt */
		g_autoptr(GUri) uri = g_uri_parse (astra_request_get_url (b->request), SOUP_HTTP_URI_FLAGS, NULL);
		SoupMessage *msg = soup_message_new_from_uri (astra_request_get_method (b->request), uri);

		soup_message_add_flags (msg, SOUP_MESSAGE_NO_REDIRECT | SOUP_MESSAGE_IDEMPOTENT);
		astra_request_foreach_header (b->request, bench_soup_header_cb, soup_message_get_request_headers (msg));
		soup_message_set_request_body_from_bytes (msg, astra_request_get_content_type (b->request),
							  astra_request_get_body (b->request));
		soup_session_send_and_read_async (b->session, msg, G_PRIORITY_DEFAULT, b->cancellable, bench_soup_cb, b);
	}
}

static void
bench_run (Bench *b, guint n, guint concurrency)
{
	b->to_send = n;
	b->done = 0;
	b->failed = 0;
	for (guint i = 0; i < concurrency && b->to_send > 0; i++)
		bench_send (b);
	g_main_loop_run (b->loop);
}

static double
bench_cpu_us (const struct rusage *ru)
{
	return (double) ru->ru_utime.tv_sec * 1e6 + (double) ru->ru_utime.tv_usec + (double) ru->ru_stime.tv_sec * 1e6 +
	       (double) ru->ru_stime.tv_usec;
}

static void
bench_measure (Bench *b, guint n, guint concurrency)
{
	struct rusage before;
	struct rusage after;
	gint64 start;
	double wall_s;
	double cpu_us;

	bench_run (b, BENCH_WARMUP, concurrency);
	getrusage (RUSAGE_SELF, &before);
	start = g_get_monotonic_time ();
	bench_run (b, n, concurrency);
	wall_s = (double) (g_get_monotonic_time () - start) / 1e6;
	getrusage (RUSAGE_SELF, &after);
	cpu_us = bench_cpu_us (&after) - bench_cpu_us (&before);
	printf ("%-26s %6u requests, %2u in flight: %7.1f µs CPU/request (user+sys), %8.0f requests/s, %u failed\n",
		b->name, n, concurrency, cpu_us / n, n / wall_s, b->failed);
}

static AstraRequest *
bench_request_new (guint16 port)
{
	static const char body[] =
	    "{\"event\":\"alert.triggered\",\"timestamp\":\"2025-12-17T10:30:00Z\",\"data\":{\"rule\":\"cpu-high\","
	    "\"series\":\"host=server-01\",\"value\":97.5,\"threshold\":90,\"severity\":\"critical\","
	    "\"summary\":\"CPU usage on server-01 is 97.5% (threshold 90%)\",\"tenant_id\":\"tenant-abc\"}}";
	AstraRequest *request = astra_request_new ();
	g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u/hooks/generic?token=abcdef0123456789", port);
	g_autoptr(GBytes) bytes = g_bytes_new_static (body, sizeof (body) - 1);

	astra_request_set_method (request, "POST");
	astra_request_set_url (request, url);
	astra_request_set_body (request, bytes, "application/json");
	astra_request_set_header (request, "User-Agent", "astra-alerts/1.0");
	astra_request_set_header (request, "webhook-id", "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W");
	astra_request_set_header (request, "webhook-timestamp", "1765967400");
	astra_request_set_header (request, "webhook-signature", "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=");
	return request;
}

int
main (int argc, char **argv)
{
	guint n = argc > 1 ? (guint) g_ascii_strtoull (argv[1], NULL, 10) : 20000;
	guint concurrency = argc > 2 ? (guint) g_ascii_strtoull (argv[2], NULL, 10) : 16;
	const char *only = argc > 3 ? argv[3] : NULL;
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
	socklen_t addr_len = sizeof (addr);
	int listen_fd = socket (AF_INET, SOCK_STREAM, 0);
	int one = 1;
	pid_t server;
	g_autoptr(AstraRequest) request = NULL;
	g_autoptr(GMainLoop) loop = NULL;
	g_autoptr(GCancellable) cancellable = NULL;
	int status = 0;

	if (n == 0 || concurrency == 0)
		return EXIT_FAILURE;
	/* the receiver is forked before GLib starts any thread */
	setsockopt (listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof (one));
	if (bind (listen_fd, (struct sockaddr *) &addr, sizeof (addr)) != 0 || listen (listen_fd, 1024) != 0 ||
	    getsockname (listen_fd, (struct sockaddr *) &addr, &addr_len) != 0) {
		perror ("receiver socket");
		return EXIT_FAILURE;
	}
	server = fork ();
	if (server < 0) {
		perror ("fork");
		return EXIT_FAILURE;
	}
	if (server == 0)
		server_run (listen_fd);
	close (listen_fd);

	g_unsetenv ("http_proxy");
	g_unsetenv ("HTTP_PROXY");
	g_unsetenv ("all_proxy");
	g_unsetenv ("ALL_PROXY");
	request = bench_request_new (ntohs (addr.sin_port));
	loop = g_main_loop_new (NULL, FALSE);
	/* like the deliverer's: one cancellable for every attempt */
	cancellable = g_cancellable_new ();

	if (only == NULL || g_strcmp0 (only, "astra") == 0) {
		g_autoptr(AstraHttpClient) client = astra_http_client_new ();
		Bench b = { "AstraHttpClient", client, NULL, request, cancellable, loop };

		astra_http_client_set_max_conns_per_host (client, 16);
		bench_measure (&b, n, concurrency);
		printf ("%-26s %" G_GUINT64_FORMAT " connections made\n", "", astra_http_client_get_n_connects (client));
		if (b.failed > 0)
			status = 1;
	}
	if (only == NULL || g_strcmp0 (only, "soup") == 0) {
		/* as the dispatcher set it up before it used AstraHttpClient */
		g_autoptr(SoupSession) session = g_object_new (SOUP_TYPE_SESSION, "max-conns", 256, "max-conns-per-host", 16,
							       "idle-timeout", 60, "timeout", 0, NULL);
		Bench b = { "SoupSession (libsoup 3)", NULL, session, request, cancellable, loop };

		soup_session_remove_feature_by_type (session, SOUP_TYPE_CONTENT_DECODER);
		bench_measure (&b, n, concurrency);
		if (b.failed > 0)
			status = 1;
	}

	kill (server, SIGTERM);
	waitpid (server, NULL, 0);
	return status == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
