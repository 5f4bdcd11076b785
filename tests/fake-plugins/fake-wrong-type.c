/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* a module whose type is a GObject but not an AstraPlugin */

#include <astra/astra.h>

#define ASTRA_TYPE_FAKE_WRONG_TYPE (astra_fake_wrong_type_get_type ())
G_DECLARE_FINAL_TYPE (AstraFakeWrongType, astra_fake_wrong_type, ASTRA, FAKE_WRONG_TYPE, GObject)

struct _AstraFakeWrongType {
	GObject parent_instance;
};

G_DEFINE_FINAL_TYPE (AstraFakeWrongType, astra_fake_wrong_type, G_TYPE_OBJECT)

static void
astra_fake_wrong_type_class_init (AstraFakeWrongTypeClass *klass)
{
}

static void
astra_fake_wrong_type_init (AstraFakeWrongType *self)
{
}

ASTRA_PLUGIN_DEFINE ("wrong-type", astra_fake_wrong_type_get_type)
