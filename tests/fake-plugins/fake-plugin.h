/* SPDX-License-Identifier: LGPL-2.1-or-later */

#pragma once

#include <astra/astra.h>

G_BEGIN_DECLS

/* the type fake-plugin.c defines, whatever name FAKE_TYPE gives it */
GType astra_fake_plugin_get_type (void);

G_END_DECLS
