/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "astra-headers.h"

/**
 * AstraRequest:
 *
 * The HTTP request a plugin renders for one event: method, URL, headers and
 * body. The core adds signature headers, sends it and never logs the URL
 * (for chat services the URL is the credential).
 *
 * Since: 1.0
 */
struct _AstraRequest {
	GObject parent_instance;
	char *method;
	char *url;
	AstraHeaders *headers;
	GBytes *body;
	char *content_type;
};

G_DEFINE_FINAL_TYPE (AstraRequest, astra_request, G_TYPE_OBJECT)

static void
astra_request_finalize (GObject *object)
{
	AstraRequest *self = ASTRA_REQUEST (object);

	g_free (self->method);
	g_free (self->url);
	astra_headers_free (self->headers);
	g_clear_pointer (&self->body, g_bytes_unref);
	g_free (self->content_type);
	G_OBJECT_CLASS (astra_request_parent_class)->finalize (object);
}

static void
astra_request_class_init (AstraRequestClass *klass)
{
	G_OBJECT_CLASS (klass)->finalize = astra_request_finalize;
}

static void
astra_request_init (AstraRequest *self)
{
	self->method = g_strdup ("POST");
	self->headers = astra_headers_new ();
}

/**
 * astra_request_new:
 *
 * Creates an empty request: method `POST`, no URL, headers or body.
 *
 * Returns: (transfer full): a new #AstraRequest
 *
 * Since: 1.0
 */
AstraRequest *
astra_request_new (void)
{
	return g_object_new (ASTRA_TYPE_REQUEST, NULL);
}

/**
 * astra_request_set_method:
 * @self: an #AstraRequest
 * @method: an HTTP method, e.g. `POST`
 *
 * Sets the HTTP method.
 *
 * Since: 1.0
 */
void
astra_request_set_method (AstraRequest *self, const char *method)
{
	g_return_if_fail (ASTRA_IS_REQUEST (self));
	g_return_if_fail (method != NULL);
	g_free (self->method);
	self->method = g_strdup (method);
}

/**
 * astra_request_get_method:
 * @self: an #AstraRequest
 *
 * Returns: the HTTP method
 *
 * Since: 1.0
 */
const char *
astra_request_get_method (AstraRequest *self)
{
	g_return_val_if_fail (ASTRA_IS_REQUEST (self), NULL);
	return self->method;
}

/**
 * astra_request_set_url:
 * @self: an #AstraRequest
 * @url: an absolute `http` or `https` URL
 *
 * Sets the URL. It is treated as a secret: the core never logs it.
 *
 * Since: 1.0
 */
void
astra_request_set_url (AstraRequest *self, const char *url)
{
	g_return_if_fail (ASTRA_IS_REQUEST (self));
	g_free (self->url);
	self->url = g_strdup (url);
}

/**
 * astra_request_get_url:
 * @self: an #AstraRequest
 *
 * Returns: (nullable): the URL, or %NULL if unset
 *
 * Since: 1.0
 */
const char *
astra_request_get_url (AstraRequest *self)
{
	g_return_val_if_fail (ASTRA_IS_REQUEST (self), NULL);
	return self->url;
}

/**
 * astra_request_set_header:
 * @self: an #AstraRequest
 * @name: a header name; compared without regard to case
 * @value: (nullable): the value, or %NULL to remove the header
 *
 * Sets, replaces or removes a header. `Content-Type` is set with
 * astra_request_set_body() instead.
 *
 * Since: 1.0
 */
void
astra_request_set_header (AstraRequest *self, const char *name, const char *value)
{
	g_return_if_fail (ASTRA_IS_REQUEST (self));
	g_return_if_fail (name != NULL);
	astra_headers_set (self->headers, name, value);
}

/**
 * astra_request_get_header:
 * @self: an #AstraRequest
 * @name: a header name; compared without regard to case
 *
 * Returns: (nullable): the header's value, or %NULL
 *
 * Since: 1.0
 */
const char *
astra_request_get_header (AstraRequest *self, const char *name)
{
	g_return_val_if_fail (ASTRA_IS_REQUEST (self), NULL);
	g_return_val_if_fail (name != NULL, NULL);
	return astra_headers_get (self->headers, name);
}

/**
 * astra_request_foreach_header:
 * @self: an #AstraRequest
 * @func: (scope call): called for each header, in the order set
 * @user_data: data for @func
 *
 * Calls @func for each header (not including `Content-Type`).
 *
 * Since: 1.0
 */
void
astra_request_foreach_header (AstraRequest *self, AstraHeaderFunc func, gpointer user_data)
{
	g_return_if_fail (ASTRA_IS_REQUEST (self));
	g_return_if_fail (func != NULL);
	astra_headers_foreach (self->headers, func, user_data);
}

/**
 * astra_request_set_body:
 * @self: an #AstraRequest
 * @body: (nullable): the exact bytes to send
 * @content_type: (nullable): the media type, e.g. `application/json`
 *
 * Sets the body. These bytes are what gets signed and sent, unchanged.
 *
 * Since: 1.0
 */
void
astra_request_set_body (AstraRequest *self, GBytes *body, const char *content_type)
{
	g_return_if_fail (ASTRA_IS_REQUEST (self));

	g_clear_pointer (&self->body, g_bytes_unref);
	if (body != NULL)
		self->body = g_bytes_ref (body);
	g_free (self->content_type);
	self->content_type = g_strdup (content_type);
}

/**
 * astra_request_get_body:
 * @self: an #AstraRequest
 *
 * Returns: (transfer none) (nullable): the body, or %NULL if unset
 *
 * Since: 1.0
 */
GBytes *
astra_request_get_body (AstraRequest *self)
{
	g_return_val_if_fail (ASTRA_IS_REQUEST (self), NULL);
	return self->body;
}

/**
 * astra_request_get_content_type:
 * @self: an #AstraRequest
 *
 * Returns: (nullable): the body's media type, or %NULL
 *
 * Since: 1.0
 */
const char *
astra_request_get_content_type (AstraRequest *self)
{
	g_return_val_if_fail (ASTRA_IS_REQUEST (self), NULL);
	return self->content_type;
}

/**
 * astra_request_validate:
 * @self: an #AstraRequest
 * @error: return location for a #GError
 *
 * Checks that the request can be sent as is: an absolute `http` or `https`
 * URL with a host, a token method, header names that are tokens and values
 * without control characters. The core calls this after render; errors never
 * include the URL.
 *
 * Returns: %TRUE if the request is valid
 *
 * Since: 1.0
 */
gboolean
astra_request_validate (AstraRequest *self, GError **error)
{
	g_autoptr(GUri) uri = NULL;
	const char *scheme;

	g_return_val_if_fail (ASTRA_IS_REQUEST (self), FALSE);

	if (!astra_header_name_is_valid (self->method)) {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA,
			     "invalid HTTP method");
		return FALSE;
	}
	if (self->url == NULL) {
		g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA,
				     "no URL was set");
		return FALSE;
	}
	/* the URL is a credential for several destinations: say what is wrong, not what it is */
	for (const char *p = self->url; *p != '\0'; p++) {
		if ((guchar) *p <= 0x20 || (guchar) *p == 0x7f) {
			g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA,
					     "the URL contains white space or control characters");
			return FALSE;
		}
	}
	uri = g_uri_parse (self->url, G_URI_FLAGS_ENCODED, NULL);
	if (uri == NULL) {
		g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA,
				     "the URL is not a valid absolute URL");
		return FALSE;
	}
	scheme = g_uri_get_scheme (uri);
	if (g_ascii_strcasecmp (scheme, "http") != 0 && g_ascii_strcasecmp (scheme, "https") != 0) {
		g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA,
				     "the URL scheme must be http or https");
		return FALSE;
	}
	if (g_uri_get_host (uri) == NULL || g_uri_get_host (uri)[0] == '\0') {
		g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA,
				     "the URL has no host");
		return FALSE;
	}
	if (!astra_headers_validate (self->headers, error))
		return FALSE;
	if (self->content_type != NULL && !astra_header_value_is_valid (self->content_type)) {
		g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA,
				     "content type contains control characters");
		return FALSE;
	}
	return TRUE;
}
