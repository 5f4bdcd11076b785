/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* a module whose type is an AstraPlugin that cannot be instantiated */

#include <astra/astra.h>

#define ASTRA_TYPE_FAKE_ABSTRACT_PLUGIN (astra_fake_abstract_plugin_get_type ())
G_DECLARE_DERIVABLE_TYPE (AstraFakeAbstractPlugin, astra_fake_abstract_plugin, ASTRA, FAKE_ABSTRACT_PLUGIN, AstraPlugin)

struct _AstraFakeAbstractPluginClass {
	AstraPluginClass parent_class;
};

G_DEFINE_ABSTRACT_TYPE (AstraFakeAbstractPlugin, astra_fake_abstract_plugin, ASTRA_TYPE_PLUGIN)

static void
astra_fake_abstract_plugin_class_init (AstraFakeAbstractPluginClass *klass)
{
}

static void
astra_fake_abstract_plugin_init (AstraFakeAbstractPlugin *self)
{
}

ASTRA_PLUGIN_DEFINE ("abstract", astra_fake_abstract_plugin_get_type)
