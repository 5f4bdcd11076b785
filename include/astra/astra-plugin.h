/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(__ASTRA_INSIDE__) && !defined(ASTRA_COMPILATION)
#error "Only <astra/astra.h> can be included directly."
#endif

#include <gio/gio.h>
#include <gmodule.h>

#include "astra-event.h"
#include "astra-macros.h"
#include "astra-request.h"

G_BEGIN_DECLS

/**
 * ASTRA_PLUGIN_ABI_VERSION:
 *
 * The plugin ABI this SDK implements. The daemon refuses a plugin whose
 * #AstraPluginInfo carries another value; it changes whenever a public
 * struct layout or vfunc signature changes, and names the plugin folder
 * (`$libdir/astra-alerts/plugins-<abi>`).
 *
 * Since: 1.0
 */
#define ASTRA_PLUGIN_ABI_VERSION 1

#define ASTRA_TYPE_PLUGIN (astra_plugin_get_type ())
ASTRA_AVAILABLE_IN_1_0
G_DECLARE_DERIVABLE_TYPE (AstraPlugin, astra_plugin, ASTRA, PLUGIN, GObject)

/**
 * AstraPluginClass:
 * @parent_class: the parent class
 * @config_keys: %NULL-terminated list of the keys the plugin reads from its
 *   webhook group, besides the core's (`plugin`, `events`, `enabled`,
 *   `min-severity`, `timeout`, `secret`, `secret-file`, `signature`, and
 *   any later core key). The daemon reports any other key as an error, so a
 *   typo never goes unnoticed. %NULL disables the check.
 * @configure: reads and validates this webhook's keys from @group of
 *   @keyfile. Called once, before any other vfunc, on a new instance per
 *   webhook. Errors should name the key; the daemon adds the file and group.
 *   The default accepts any configuration.
 * @render: builds the HTTP request for @event into @request: method (POST
 *   by default), URL, headers and body in the destination's native format,
 *   within its documented limits. Must not block or do I/O; it is a plain
 *   function of the event and the configuration, so it can be tested with
 *   golden files. Fails with %ASTRA_ERROR_NOT_SUPPORTED to decline an event
 *   the destination has nothing to say about (it is then recorded as
 *   skipped, not failed). The core signs the request afterwards when the
 *   webhook has a secret. Required.
 * @classify: decides what an HTTP response means: delivered, retry (setting
 *   astra_response_set_retry_after() when the receiver says when), failed,
 *   or gone; it may set a short reason with astra_response_set_reason().
 *   Only called for HTTP responses; transport errors (timeouts, refused
 *   connections) are always retried by the core. The default treats 2xx as
 *   delivered; 408, 429 and 5xx as retry (honouring `Retry-After`); 410 as
 *   gone; 3xx and other 4xx as failed. Plugins usually chain up for what
 *   they do not special-case.
 *
 * The class of a delivery plugin. One instance exists per configured
 * webhook. All vfuncs are called from the daemon's main thread.
 *
 * Since: 1.0
 */
struct _AstraPluginClass {
	GObjectClass parent_class;

	const char *const *config_keys;

	gboolean (*configure) (AstraPlugin *self,
			       GKeyFile *keyfile,
			       const char *group,
			       GError **error);
	gboolean (*render) (AstraPlugin *self,
			    AstraEvent *event,
			    AstraRequest *request,
			    GError **error);
	AstraOutcome (*classify) (AstraPlugin *self, AstraResponse *response);

	/*< private >*/
	gpointer _astra_reserved[12];
};

/**
 * AstraPluginInfo:
 * @abi_version: must be %ASTRA_PLUGIN_ABI_VERSION
 * @name: the plugin name: `[a-z0-9_-]+`, equal to the module's file name
 *   without `.so`, and what webhooks name in `plugin =`
 * @get_type: returns the plugin's #GType, a subclass of #AstraPlugin
 *
 * What a plugin module describes itself with. The module exports exactly one
 * symbol, `astra_plugin_query()`, returning a pointer to a static, constant
 * #AstraPluginInfo; ASTRA_PLUGIN_DEFINE() writes it.
 *
 * Since: 1.0
 */
typedef struct {
	guint32 abi_version;
	const char *name;
	GType (*get_type) (void);
	/*< private >*/
	gpointer _astra_reserved[4];
} AstraPluginInfo;

/**
 * AstraPluginQueryFunc:
 *
 * The type of `astra_plugin_query()`, the one symbol a plugin module exports.
 *
 * Returns: (transfer none): the plugin's description
 *
 * Since: 1.0
 */
typedef const AstraPluginInfo *(*AstraPluginQueryFunc) (void);

/**
 * ASTRA_PLUGIN_QUERY_SYMBOL:
 *
 * The name of the symbol the daemon looks up in a plugin module.
 *
 * Since: 1.0
 */
#define ASTRA_PLUGIN_QUERY_SYMBOL "astra_plugin_query"

/**
 * ASTRA_PLUGIN_DEFINE:
 * @plugin_name: the plugin name, a string literal
 * @get_type_func: the plugin type's `_get_type` function
 *
 * Defines and exports `astra_plugin_query()` for a plugin module. Use it once,
 * in a file compiled only into the shared module (so the plugin's static
 * library can be linked into tests beside others).
 *
 * Since: 1.0
 */
#define ASTRA_PLUGIN_DEFINE(plugin_name, get_type_func)                               \
	G_MODULE_EXPORT const AstraPluginInfo *astra_plugin_query (void);            \
	G_MODULE_EXPORT const AstraPluginInfo *astra_plugin_query (void)             \
	{                                                                            \
		static const AstraPluginInfo info = {                                \
		    .abi_version = ASTRA_PLUGIN_ABI_VERSION,                         \
		    .name = (plugin_name),                                           \
		    .get_type = (get_type_func),                                     \
		};                                                                   \
		return &info;                                                        \
	}

ASTRA_AVAILABLE_IN_1_0
gboolean astra_plugin_configure (AstraPlugin *self,
				 GKeyFile *keyfile,
				 const char *group,
				 GError **error);
ASTRA_AVAILABLE_IN_1_0
gboolean astra_plugin_render (AstraPlugin *self,
			      AstraEvent *event,
			      AstraRequest *request,
			      GError **error);
ASTRA_AVAILABLE_IN_1_0
AstraOutcome astra_plugin_classify (AstraPlugin *self, AstraResponse *response);
ASTRA_AVAILABLE_IN_1_0
const char *const *astra_plugin_get_config_keys (AstraPlugin *self);

ASTRA_AVAILABLE_IN_1_0
char *astra_key_file_get_secret (GKeyFile *keyfile,
				 const char *group,
				 const char *key,
				 GError **error);

ASTRA_AVAILABLE_IN_1_0
const char *astra_version_string (void);

G_END_DECLS
