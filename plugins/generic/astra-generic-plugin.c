/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The generic webhook: the event's canonical body as is, so receivers can
 * verify the signature over the raw bytes or over JSON.stringify(req.body).
 */

#include "config.h"

#include "astra-generic-plugin.h"
#include "astra-plugin-util.h"

struct _AstraGenericPlugin {
	AstraPlugin parent_instance;
	char *url;
	char *user_agent;
};

G_DEFINE_FINAL_TYPE (AstraGenericPlugin, astra_generic_plugin, ASTRA_TYPE_PLUGIN)

static const char *const astra_generic_keys[] = {"url", "url-file", NULL};

static gboolean
astra_generic_plugin_configure (AstraPlugin *plugin, GKeyFile *keyfile, const char *group, GError **error)
{
	AstraGenericPlugin *self = ASTRA_GENERIC_PLUGIN (plugin);
	g_autofree char *url = astra_plugin_key_file_get_url (keyfile, group, error);

	if (url == NULL)
		return FALSE;
	g_free (self->url);
	self->url = g_steal_pointer (&url);
	return TRUE;
}

static gboolean
astra_generic_plugin_render (AstraPlugin *plugin, AstraEvent *event, AstraRequest *request, GError **error)
{
	AstraGenericPlugin *self = ASTRA_GENERIC_PLUGIN (plugin);

	astra_plugin_request_post_json (request, self->url, self->user_agent, astra_event_get_body (event));
	return TRUE;
}

static void
astra_generic_plugin_finalize (GObject *object)
{
	AstraGenericPlugin *self = ASTRA_GENERIC_PLUGIN (object);

	g_free (self->url);
	g_free (self->user_agent);
	G_OBJECT_CLASS (astra_generic_plugin_parent_class)->finalize (object);
}

static void
astra_generic_plugin_class_init (AstraGenericPluginClass *klass)
{
	AstraPluginClass *plugin_class = ASTRA_PLUGIN_CLASS (klass);

	G_OBJECT_CLASS (klass)->finalize = astra_generic_plugin_finalize;
	plugin_class->config_keys = astra_generic_keys;
	plugin_class->configure = astra_generic_plugin_configure;
	plugin_class->render = astra_generic_plugin_render;
}

static void
astra_generic_plugin_init (AstraGenericPlugin *self)
{
	self->user_agent = g_strdup_printf ("astra-alerts/%s (generic)", astra_version_string ());
}
