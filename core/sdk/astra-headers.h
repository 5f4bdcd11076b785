/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * An ordered, case-insensitive header list shared by AstraRequest and
 * AstraResponse. Private to the SDK.
 */

#pragma once

#include "astra.h"

typedef struct _AstraHeaders AstraHeaders;

AstraHeaders *astra_headers_new (void);
void astra_headers_free (AstraHeaders *self);
void astra_headers_set (AstraHeaders *self, const char *name, const char *value);
void astra_headers_append (AstraHeaders *self, const char *name, const char *value);
const char *astra_headers_get (AstraHeaders *self, const char *name);
void astra_headers_foreach (AstraHeaders *self, AstraHeaderFunc func, gpointer user_data);
gboolean astra_headers_validate (AstraHeaders *self, GError **error);
gboolean astra_header_name_is_valid (const char *name);
gboolean astra_header_value_is_valid (const char *value);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AstraHeaders, astra_headers_free)
