/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What the built-in plugins do alike around the event view: read their keys,
 * check a URL now the way the core checks it before sending, try a
 * dashboard-url template on a made-up event and expand it per event, post
 * JSON, and read a hostile response body within bounds. Private to the
 * built-in plugins (a static library), not part of the SDK.
 */

#pragma once

#include <astra.h>

#include "astra-event-view.h"

G_BEGIN_DECLS

/* configuration */

typedef enum {
	ASTRA_PLUGIN_KEY_FLAG_NONE = 0,
	ASTRA_PLUGIN_KEY_FLAG_RAW = 1 << 0,   /* as written: no \s escapes, no GKeyFile error quoting it */
	ASTRA_PLUGIN_KEY_FLAG_STRIP = 1 << 1, /* white space at either end removed */
	ASTRA_PLUGIN_KEY_FLAG_NOT_EMPTY = 1 << 2, /* "KEY: is empty" when nothing is left */
} AstraPluginKeyFlags;

/* KEY of GROUP into *VALUE, NULL when it is not set; FALSE with a config error naming KEY */
gboolean astra_plugin_key_file_get_optional (GKeyFile *keyfile,
					     const char *group,
					     const char *key,
					     AstraPluginKeyFlags flags,
					     char **value,
					     GError **error);
/* astra_key_file_get_secret(), with "KEY (or KEY-file) is required" when neither is set */
char *astra_plugin_key_file_get_required_secret (GKeyFile *keyfile,
						 const char *group,
						 const char *key,
						 GError **error);
/* the required `url` (or `url-file`), checked by astra_plugin_check_url() */
char *astra_plugin_key_file_get_url (GKeyFile *keyfile, const char *group, GError **error);

/* whether the core would send to URL (astra_request_validate() on a probe request), as a
 * config error "KEY: why" that never quotes URL (often the credential) */
gboolean astra_plugin_check_url (const char *key, const char *url, GError **error);

/* dashboard-url: a template checked at configure time, expanded at render time */

/* the optional `dashboard-url` of GROUP into *TEMPLATE, NULL when it is not set: as written
 * (no GKeyFile escapes), white space at either end removed, not empty, valid UTF-8, and, expanded
 * for a made-up alert, a URL that passes astra_plugin_check_url() of at most MAX_BYTES */
gboolean astra_plugin_key_file_get_dashboard_url (GKeyFile *keyfile,
						  const char *group,
						  gsize max_bytes,
						  char **template,
						  GError **error);

typedef enum {
	ASTRA_PLUGIN_LINK_NONE,     /* no template configured */
	ASTRA_PLUGIN_LINK_OK,       /* the link */
	ASTRA_PLUGIN_LINK_TOO_LONG, /* longer than allowed: a cut URL is broken, so none */
	ASTRA_PLUGIN_LINK_INVALID,  /* this event's values made it something the core would not send to */
} AstraPluginLink;

/* TEMPLATE (may be NULL) expanded for VIEW, or NULL when there is none, it is longer than
 * MAX_BYTES or it is not a valid URL (checked in that order); what came of it in *RESULT */
char *astra_plugin_dashboard_link (AstraEventView *view,
				   const char *template,
				   gsize max_bytes,
				   AstraPluginLink *result);

/* rendering and classification */

/* REQUEST as the built-in plugins send it: a POST of the JSON BODY to URL with USER_AGENT */
void
astra_plugin_request_post_json (AstraRequest *request, const char *url, const char *user_agent, GBytes *body);

/* the body of RESPONSE as a JSON object, parsed strictly, or NULL: not parsed at all when it
 * is empty or larger than MAX_BYTES (it is hostile), nor when it is not an object */
JsonObject *astra_plugin_response_json_object (AstraResponse *response, gsize max_bytes);
/* MEMBER of OBJECT (which may be NULL) if it is a string, else NULL */
const char *astra_plugin_json_get_string (JsonObject *object, const char *member);

/* STR on one line (astra_text_sanitize()) cut to MAX_CHARS characters; with STRIP, the white
 * space at either end removed first and NULL when nothing is left; NULL if STR is NULL */
char *astra_text_line (const char *str, gboolean strip, gsize max_chars);

G_END_DECLS
