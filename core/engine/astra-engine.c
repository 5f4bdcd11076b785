/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "astra-engine.h"
#include "astra-http-server.h"
#include "astra-webhook.h"

struct _AstraEngine {
	GObject parent_instance;
	AstraConfig *config;
	AstraPluginLoader *loader;
	AstraDispatcher *dispatcher;
	AstraRouter *router;
	AstraHttpServer *http;
	int lock_fd;
};

G_DEFINE_FINAL_TYPE (AstraEngine, astra_engine, G_TYPE_OBJECT)

static void
astra_engine_dispose (GObject *object)
{
	AstraEngine *self = ASTRA_ENGINE (object);

	g_clear_object (&self->http);
	g_clear_object (&self->router);
	g_clear_object (&self->dispatcher);
	g_clear_object (&self->loader);
	g_clear_object (&self->config);
	if (self->lock_fd >= 0) {
		g_close (self->lock_fd, NULL);
		self->lock_fd = -1;
	}
	G_OBJECT_CLASS (astra_engine_parent_class)->dispose (object);
}

static void
astra_engine_class_init (AstraEngineClass *klass)
{
	G_OBJECT_CLASS (klass)->dispose = astra_engine_dispose;
}

static void
astra_engine_init (AstraEngine *self)
{
	self->lock_fd = -1;
	self->loader = astra_plugin_loader_new ();
	self->dispatcher = astra_dispatcher_new ();
	self->router = astra_router_new (self->dispatcher);
}

static void
astra_engine_sink_cb (AstraEvent *event, gpointer user_data)
{
	astra_engine_emit (ASTRA_ENGINE (user_data), event);
}

AstraEngine *
astra_engine_new (AstraConfig *config)
{
	AstraEngine *self = g_object_new (ASTRA_TYPE_ENGINE, NULL);

	self->config = g_object_ref (config);
	self->http = astra_http_server_new (astra_config_get_max_body_size (config), astra_engine_sink_cb, self);
	return self;
}

static void
astra_engine_load_plugins (AstraPluginLoader *loader, AstraConfig *config, GPtrArray *errors)
{
	g_autoptr(GError) error_local = NULL;

	/* a refused module is logged by the loader and skipped: only an unusable folder stops us */
	if (!astra_plugin_loader_load_dir (loader, astra_config_get_plugin_dir (config), &error_local))
		g_ptr_array_add (errors, g_strdup_printf ("plugin folder %s: %s",
							  astra_config_get_plugin_dir (config),
							  error_local->message));
}

gboolean
astra_engine_check_config (AstraConfig *config, GPtrArray *errors)
{
	g_autoptr(AstraPluginLoader) loader = astra_plugin_loader_new ();
	g_autoptr(GPtrArray) webhooks = NULL;
	guint n_errors = errors->len;

	astra_engine_load_plugins (loader, config, errors);
	webhooks = astra_webhook_build_all (config, loader, errors);
	return webhooks != NULL && errors->len == n_errors;
}

static gboolean
astra_engine_prepare_state_dir (AstraEngine *self, GError **error)
{
	const char *dir = astra_config_get_state_dir (self->config);
	g_autofree char *lock_path = g_build_filename (dir, "astra-alertd.lock", NULL);
	g_autofree char *pid = NULL;

	if (g_mkdir_with_parents (dir, 0750) != 0) {
		int errsv = errno;
		g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
			     "cannot create state folder %s: %s", dir, g_strerror (errsv));
		return FALSE;
	}
	/* two daemons on one state folder would deliver everything twice */
	self->lock_fd = g_open (lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (self->lock_fd < 0) {
		int errsv = errno;
		g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
			     "cannot open %s: %s", lock_path, g_strerror (errsv));
		return FALSE;
	}
	if (flock (self->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		g_set_error (error, G_IO_ERROR, G_IO_ERROR_BUSY,
			     "another astra-alertd is using the state folder %s", dir);
		return FALSE;
	}
	pid = g_strdup_printf ("%d\n", (int) getpid ());
	if (ftruncate (self->lock_fd, 0) != 0 || write (self->lock_fd, pid, strlen (pid)) < 0)
		g_debug ("cannot write the pid to %s: %s", lock_path, g_strerror (errno));
	return TRUE;
}

gboolean
astra_engine_start (AstraEngine *self, GPtrArray *errors)
{
	g_autoptr(GPtrArray) webhooks = NULL;
	g_autoptr(GError) error_local = NULL;
	g_autofree char *address = NULL;
	GInetSocketAddress *bound;
	guint n_errors = errors->len;
	guint n_enabled = 0;

	if (!astra_engine_prepare_state_dir (self, &error_local)) {
		g_ptr_array_add (errors, g_strdup (error_local->message));
		return FALSE;
	}
	astra_engine_load_plugins (self->loader, self->config, errors);
	webhooks = astra_webhook_build_all (self->config, self->loader, errors);
	if (webhooks == NULL || errors->len > n_errors)
		return FALSE;
	astra_router_set_webhooks (self->router, webhooks);

	if (!astra_http_server_listen (self->http, astra_config_get_listen_address (self->config), &error_local)) {
		g_ptr_array_add (errors, g_strdup_printf ("%s: [daemon] listen: %s",
							  astra_config_get_path (self->config),
							  error_local->message));
		return FALSE;
	}
	for (guint i = 0; i < webhooks->len; i++)
		n_enabled += astra_webhook_get_enabled (g_ptr_array_index (webhooks, i)) ? 1 : 0;
	bound = astra_http_server_get_address (self->http);
	address = g_socket_connectable_to_string (G_SOCKET_CONNECTABLE (bound));
	g_message ("listening on http://%s/ (%u webhooks, %u enabled; state in %s)",
		   address, webhooks->len, n_enabled, astra_config_get_state_dir (self->config));
	return TRUE;
}

gboolean
astra_engine_reload (AstraEngine *self, AstraConfig *config, GPtrArray *errors)
{
	g_autoptr(GPtrArray) webhooks = NULL;
	g_autoptr(GSocketConnectable) old_listen = NULL;
	guint n_errors = errors->len;
	g_autofree char *old_address = NULL;
	g_autofree char *new_address = NULL;

	webhooks = astra_webhook_build_all (config, self->loader, errors);
	if (webhooks == NULL || errors->len > n_errors)
		return FALSE;

	/* these are bound or opened once; say so rather than pretend */
	old_address = g_socket_connectable_to_string (G_SOCKET_CONNECTABLE (astra_config_get_listen_address (self->config)));
	new_address = g_socket_connectable_to_string (G_SOCKET_CONNECTABLE (astra_config_get_listen_address (config)));
	if (g_strcmp0 (old_address, new_address) != 0)
		g_warning ("[daemon] listen changed to %s: that takes a restart", new_address);
	if (g_strcmp0 (astra_config_get_state_dir (self->config), astra_config_get_state_dir (config)) != 0)
		g_warning ("[daemon] state-dir changed: that takes a restart");
	if (g_strcmp0 (astra_config_get_plugin_dir (self->config), astra_config_get_plugin_dir (config)) != 0)
		g_warning ("[daemon] plugin-dir changed: that takes a restart");

	astra_http_server_set_max_body_size (self->http, astra_config_get_max_body_size (config));
	astra_router_set_webhooks (self->router, webhooks);
	g_set_object (&self->config, config);
	g_message ("configuration reloaded: %u webhooks", webhooks->len);
	return TRUE;
}

void
astra_engine_emit (AstraEngine *self, AstraEvent *event)
{
	g_return_if_fail (ASTRA_IS_ENGINE (self));
	g_return_if_fail (ASTRA_IS_EVENT (event));

	g_debug ("event %s %s", astra_event_get_type_name (event), astra_event_get_id (event));
	astra_router_route (self->router, event);
}

static void
astra_engine_router_shutdown_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK (user_data);
	g_autoptr(GError) error_local = NULL;

	if (!astra_router_shutdown_finish (ASTRA_ROUTER (source), result, &error_local)) {
		g_task_return_error (task, g_steal_pointer (&error_local));
		return;
	}
	g_task_return_boolean (task, TRUE);
}

void
astra_engine_shutdown_async (AstraEngine *self, GAsyncReadyCallback callback, gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new (self, NULL, callback, user_data);

	g_task_set_source_tag (task, astra_engine_shutdown_async);
	astra_http_server_disconnect (self->http);
	astra_router_shutdown_async (self->router, astra_config_get_shutdown_timeout (self->config),
				     astra_engine_router_shutdown_cb, g_steal_pointer (&task));
}

gboolean
astra_engine_shutdown_finish (AstraEngine *self, GAsyncResult *result, GError **error)
{
	g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
	return g_task_propagate_boolean (G_TASK (result), error);
}

AstraConfig *
astra_engine_get_config (AstraEngine *self)
{
	return self->config;
}

AstraPluginLoader *
astra_engine_get_loader (AstraEngine *self)
{
	return self->loader;
}

AstraDispatcher *
astra_engine_get_dispatcher (AstraEngine *self)
{
	return self->dispatcher;
}

AstraRouter *
astra_engine_get_router (AstraEngine *self)
{
	return self->router;
}

GInetSocketAddress *
astra_engine_get_http_address (AstraEngine *self)
{
	return astra_http_server_get_address (self->http);
}
