/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The one type behind every fake module that has a type, and behind
 * check-loader's built-in plugin type. meson.build compiles it once per
 * module, built like a third-party plugin (only the public SDK), with
 * defines for what tells them apart:
 *
 *   FAKE_TYPE               the type's name; unique, as modules load side by side
 *   FAKE_NAME               the plugin name it declares, also the last part of its URL
 *   FAKE_ABI_VERSION        declare this plugin ABI instead of the SDK's
 *   FAKE_RENDER_EVENT       render the event type into the URL and the event as the body
 *   FAKE_RENDER_UNRESOLVED  render through a function that exists nowhere
 *   FAKE_ABSTRACT           an abstract AstraPlugin, that cannot be instantiated
 *   FAKE_NOT_A_PLUGIN       a plain GObject, not an AstraPlugin
 *   FAKE_BUILTIN            no entry point: linked into a test as a built-in type
 */

#include <astra/astra.h>

#include "fake-plugin.h"

#if defined(FAKE_NOT_A_PLUGIN)
typedef GObject AstraFakePluginParent;
typedef GObjectClass AstraFakePluginParentClass;
#define FAKE_PARENT_TYPE G_TYPE_OBJECT
#else
typedef AstraPlugin AstraFakePluginParent;
typedef AstraPluginClass AstraFakePluginParentClass;
#define FAKE_PARENT_TYPE ASTRA_TYPE_PLUGIN
#define FAKE_RENDERS
#endif

#if defined(FAKE_ABSTRACT)
#define FAKE_TYPE_FLAGS G_TYPE_FLAG_ABSTRACT
#undef FAKE_RENDERS
#else
#define FAKE_TYPE_FLAGS G_TYPE_FLAG_FINAL
#endif

typedef struct {
	AstraFakePluginParent parent_instance;
} AstraFakePlugin;

typedef struct {
	AstraFakePluginParentClass parent_class;
} AstraFakePluginClass;

/* G_DEFINE_TYPE_EXTENDED() names the type after its first argument and its
 * class after that with "Class": give both names to the structs above */
#define FAKE_PASTE_(a, b) a##b
#define FAKE_PASTE(a, b)  FAKE_PASTE_ (a, b)
typedef AstraFakePlugin FAKE_TYPE;
typedef AstraFakePluginClass FAKE_PASTE (FAKE_TYPE, Class);

G_DEFINE_TYPE_EXTENDED (FAKE_TYPE, astra_fake_plugin, FAKE_PARENT_TYPE, FAKE_TYPE_FLAGS, {})

#if defined(FAKE_RENDERS)
#if defined(FAKE_RENDER_UNRESOLVED)
/* default visibility: an undefined reference the dynamic linker must resolve;
 * lazy binding would load the module and crash at the first render */
extern gboolean astra_fake_symbol_that_does_not_exist (AstraRequest *request);
#endif

static gboolean
astra_fake_plugin_render (AstraPlugin *plugin, AstraEvent *event, AstraRequest *request,
			  GError **error)
{
#if defined(FAKE_RENDER_UNRESOLVED)
	return astra_fake_symbol_that_does_not_exist (request);
#elif defined(FAKE_RENDER_EVENT)
	g_autofree char *url = g_strdup_printf ("https://receiver.invalid/" FAKE_NAME "/%s",
						astra_event_get_type_name (event));

	astra_request_set_url (request, url);
	astra_request_set_body (request, astra_event_get_body (event), "application/json");
	return TRUE;
#else
	astra_request_set_url (request, "https://receiver.invalid/" FAKE_NAME);
	return TRUE;
#endif
}
#endif

static void
astra_fake_plugin_class_init (AstraFakePluginClass *klass)
{
#if defined(FAKE_RENDERS)
	ASTRA_PLUGIN_CLASS (klass)->render = astra_fake_plugin_render;
#endif
}

static void
astra_fake_plugin_init (AstraFakePlugin *self)
{
}

#if defined(FAKE_BUILTIN)
/* linked into a test: no entry point */
#elif defined(FAKE_ABI_VERSION)
/* ASTRA_PLUGIN_DEFINE() always declares the SDK's ABI: spell the entry point out */
G_MODULE_EXPORT const AstraPluginInfo *astra_plugin_query (void);

G_MODULE_EXPORT const AstraPluginInfo *
astra_plugin_query (void)
{
	static const AstraPluginInfo info = {
		.abi_version = FAKE_ABI_VERSION,
		.name = FAKE_NAME,
		.get_type = astra_fake_plugin_get_type,
	};
	return &info;
}
#else
ASTRA_PLUGIN_DEFINE (FAKE_NAME, astra_fake_plugin_get_type)
#endif
