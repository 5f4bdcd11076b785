/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "astra-headers.h"

struct _AstraHeaders {
	GPtrArray *names; /* parallel to values */
	GPtrArray *values;
};

AstraHeaders *
astra_headers_new (void)
{
	AstraHeaders *self = g_new0 (AstraHeaders, 1);

	self->names = g_ptr_array_new_with_free_func (g_free);
	self->values = g_ptr_array_new_with_free_func (g_free);
	return self;
}

void
astra_headers_free (AstraHeaders *self)
{
	if (self == NULL)
		return;
	g_ptr_array_unref (self->names);
	g_ptr_array_unref (self->values);
	g_free (self);
}

static gint
astra_headers_find (AstraHeaders *self, const char *name)
{
	for (guint i = 0; i < self->names->len; i++) {
		if (g_ascii_strcasecmp (g_ptr_array_index (self->names, i), name) == 0)
			return (gint) i;
	}
	return -1;
}

/* replaces every earlier value; NULL removes the header */
void
astra_headers_set (AstraHeaders *self, const char *name, const char *value)
{
	gint idx;

	while ((idx = astra_headers_find (self, name)) >= 0) {
		g_ptr_array_remove_index (self->names, (guint) idx);
		g_ptr_array_remove_index (self->values, (guint) idx);
	}
	if (value != NULL)
		astra_headers_append (self, name, value);
}

void
astra_headers_append (AstraHeaders *self, const char *name, const char *value)
{
	g_ptr_array_add (self->names, g_strdup (name));
	g_ptr_array_add (self->values, g_strdup (value));
}

/* the first value, as HTTP lookups of single-valued headers expect */
const char *
astra_headers_get (AstraHeaders *self, const char *name)
{
	gint idx = astra_headers_find (self, name);

	return idx >= 0 ? g_ptr_array_index (self->values, idx) : NULL;
}

void
astra_headers_foreach (AstraHeaders *self, AstraHeaderFunc func, gpointer user_data)
{
	for (guint i = 0; i < self->names->len; i++)
		func (g_ptr_array_index (self->names, i), g_ptr_array_index (self->values, i), user_data);
}

gboolean
astra_header_name_is_valid (const char *name)
{
	/* RFC 9110 token characters */
	static const char tchar_extra[] = "!#$%&'*+-.^_`|~";

	if (name == NULL || name[0] == '\0')
		return FALSE;
	for (const char *p = name; *p != '\0'; p++) {
		if (!g_ascii_isalnum (*p) && strchr (tchar_extra, *p) == NULL)
			return FALSE;
	}
	return TRUE;
}

gboolean
astra_header_value_is_valid (const char *value)
{
	/* no CR, LF or other controls but tab: a header can never split in two */
	for (const guchar *p = (const guchar *) value; *p != '\0'; p++) {
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			return FALSE;
	}
	return TRUE;
}

gboolean
astra_headers_validate (AstraHeaders *self, GError **error)
{
	for (guint i = 0; i < self->names->len; i++) {
		const char *name = g_ptr_array_index (self->names, i);

		if (!astra_header_name_is_valid (name)) {
			g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA,
					     "invalid header name");
			return FALSE;
		}
		if (!astra_header_value_is_valid (g_ptr_array_index (self->values, i))) {
			g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA,
				     "header %s: value contains control characters", name);
			return FALSE;
		}
	}
	return TRUE;
}
