/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <string.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "astra.h"

/* a secret or URL file larger than this is a mistake, not a credential */
#define ASTRA_SECRET_FILE_MAX_SIZE (64 * 1024)

/**
 * AstraPlugin:
 *
 * The base class of delivery plugins. A plugin renders events into HTTP
 * requests for one kind of destination and classifies the responses; the
 * core owns transport, signing, retries and persistence.
 *
 * Since: 1.0
 */
G_DEFINE_ABSTRACT_TYPE (AstraPlugin, astra_plugin, G_TYPE_OBJECT)

static gboolean
astra_plugin_real_configure (AstraPlugin *self, GKeyFile *keyfile, const char *group, GError **error)
{
	return TRUE;
}

static AstraOutcome
astra_plugin_real_classify (AstraPlugin *self, AstraResponse *response)
{
	guint status = astra_response_get_status (response);

	if (status >= 200 && status < 300)
		return ASTRA_OUTCOME_DELIVERED;
	if (status == 408 || status == 429 || status >= 500) {
		astra_response_set_retry_after (response, astra_response_parse_retry_after_header (response));
		return ASTRA_OUTCOME_RETRY;
	}
	if (status == 410) {
		astra_response_set_reason (response, "gone");
		return ASTRA_OUTCOME_GONE;
	}
	/* a redirect is never followed: the receiver must be configured with its real URL */
	if (status >= 300 && status < 400) {
		astra_response_set_reason (response, "redirect not followed");
		return ASTRA_OUTCOME_FAILED;
	}
	return ASTRA_OUTCOME_FAILED;
}

static void
astra_plugin_class_init (AstraPluginClass *klass)
{
	klass->configure = astra_plugin_real_configure;
	klass->classify = astra_plugin_real_classify;
}

static void
astra_plugin_init (AstraPlugin *self)
{
}

/**
 * astra_plugin_configure:
 * @self: an #AstraPlugin
 * @keyfile: the webhook's configuration
 * @group: the webhook's group in @keyfile, e.g. `webhook ops-slack`
 * @error: return location for a #GError
 *
 * Calls the configure vfunc.
 *
 * Returns: %TRUE if the configuration is valid
 *
 * Since: 1.0
 */
gboolean
astra_plugin_configure (AstraPlugin *self, GKeyFile *keyfile, const char *group, GError **error)
{
	g_return_val_if_fail (ASTRA_IS_PLUGIN (self), FALSE);
	g_return_val_if_fail (keyfile != NULL, FALSE);
	g_return_val_if_fail (group != NULL, FALSE);
	g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
	return ASTRA_PLUGIN_GET_CLASS (self)->configure (self, keyfile, group, error);
}

/**
 * astra_plugin_render:
 * @self: an #AstraPlugin
 * @event: the event to deliver
 * @request: an empty request to fill in
 * @error: return location for a #GError
 *
 * Calls the render vfunc.
 *
 * Returns: %TRUE if @request is ready to send; %FALSE with
 *   %ASTRA_ERROR_NOT_SUPPORTED if the plugin declines @event
 *
 * Since: 1.0
 */
gboolean
astra_plugin_render (AstraPlugin *self, AstraEvent *event, AstraRequest *request, GError **error)
{
	AstraPluginClass *klass;

	g_return_val_if_fail (ASTRA_IS_PLUGIN (self), FALSE);
	g_return_val_if_fail (ASTRA_IS_EVENT (event), FALSE);
	g_return_val_if_fail (ASTRA_IS_REQUEST (request), FALSE);
	g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

	klass = ASTRA_PLUGIN_GET_CLASS (self);
	if (klass->render == NULL) {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_PLUGIN,
			     "plugin type %s does not implement render",
			     G_OBJECT_TYPE_NAME (self));
		return FALSE;
	}
	return klass->render (self, event, request, error);
}

/**
 * astra_plugin_classify:
 * @self: an #AstraPlugin
 * @response: the receiver's response
 *
 * Calls the classify vfunc.
 *
 * Returns: what the attempt came to
 *
 * Since: 1.0
 */
AstraOutcome
astra_plugin_classify (AstraPlugin *self, AstraResponse *response)
{
	g_return_val_if_fail (ASTRA_IS_PLUGIN (self), ASTRA_OUTCOME_FAILED);
	g_return_val_if_fail (ASTRA_IS_RESPONSE (response), ASTRA_OUTCOME_FAILED);
	return ASTRA_PLUGIN_GET_CLASS (self)->classify (self, response);
}

/**
 * astra_plugin_get_config_keys:
 * @self: an #AstraPlugin
 *
 * Returns: (transfer none) (nullable): the plugin's own config keys, or
 *   %NULL if it does not declare them
 *
 * Since: 1.0
 */
const char *const *
astra_plugin_get_config_keys (AstraPlugin *self)
{
	g_return_val_if_fail (ASTRA_IS_PLUGIN (self), NULL);
	return ASTRA_PLUGIN_GET_CLASS (self)->config_keys;
}

static char *
astra_read_secret_file (const char *key, const char *path, GError **error)
{
	g_autofree char *contents = NULL;
	struct stat st;
	gsize len = 0;
	int fd;

	/* O_NOFOLLOW would refuse the symlinks Kubernetes and systemd credentials use; check the target.
	 * O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused as not a regular file) */
	fd = g_open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0);
	if (fd < 0) {
		int errsv = errno;
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
			     "%s-file: cannot open %s: %s", key, path, g_strerror (errsv));
		return NULL;
	}
	if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode)) {
		g_close (fd, NULL);
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
			     "%s-file: %s is not a regular file", key, path);
		return NULL;
	}
	if ((st.st_mode & S_IROTH) != 0) {
		g_close (fd, NULL);
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
			     "%s-file: %s is readable by others (mode %04o); run chmod o-rwx on it",
			     key, path, (guint) (st.st_mode & 07777));
		return NULL;
	}
	if (st.st_size > ASTRA_SECRET_FILE_MAX_SIZE) {
		g_close (fd, NULL);
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
			     "%s-file: %s is larger than %u bytes", key, path, ASTRA_SECRET_FILE_MAX_SIZE);
		return NULL;
	}
	/* from the descriptor that was checked, not the path again (it may have been swapped
	 * since); one byte more than allowed tells a file that grew meanwhile */
	contents = g_malloc (ASTRA_SECRET_FILE_MAX_SIZE + 2);
	while (len < ASTRA_SECRET_FILE_MAX_SIZE + 1) {
		gssize n = read (fd, contents + len, ASTRA_SECRET_FILE_MAX_SIZE + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int errsv = errno;
			g_close (fd, NULL);
			g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
				     "%s-file: cannot read %s: %s", key, path, g_strerror (errsv));
			return NULL;
		}
		if (n == 0)
			break;
		len += (gsize) n;
	}
	g_close (fd, NULL);
	contents[len] = '\0';
	if (len > ASTRA_SECRET_FILE_MAX_SIZE || memchr (contents, '\0', len) != NULL) {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
			     "%s-file: %s is not a text file of at most %u bytes",
			     key, path, ASTRA_SECRET_FILE_MAX_SIZE);
		return NULL;
	}
	/* editors and `echo` add a final newline that is not part of the secret */
	g_strchomp (contents);
	return g_steal_pointer (&contents);
}

/**
 * astra_key_file_get_secret:
 * @keyfile: a #GKeyFile
 * @group: the group
 * @key: the key, e.g. `secret`, `url` or `routing-key`
 * @error: return location for a #GError
 *
 * Reads a credential that may be written inline as `KEY = value` or, better,
 * kept in a file named by `KEY-file = /path`. The file must be a regular file
 * that others cannot read; its trailing whitespace is dropped. Relative
 * paths have been made absolute by the daemon, against the folder of the
 * file that set them. Setting both keys, an empty value, or an unsafe file is
 * an error with %ASTRA_ERROR_INVALID_CONFIG naming the key, never the value.
 *
 * Returns: (transfer full) (nullable): the value; %NULL without an error if
 *   neither key is set
 *
 * Since: 1.0
 */
char *
astra_key_file_get_secret (GKeyFile *keyfile, const char *group, const char *key, GError **error)
{
	g_autofree char *file_key = NULL;
	g_autofree char *value = NULL;
	g_autofree char *path = NULL;

	g_return_val_if_fail (keyfile != NULL, NULL);
	g_return_val_if_fail (group != NULL, NULL);
	g_return_val_if_fail (key != NULL, NULL);

	file_key = g_strdup_printf ("%s-file", key);
	if (g_key_file_has_key (keyfile, group, key, NULL) &&
	    g_key_file_has_key (keyfile, group, file_key, NULL)) {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
			     "%s and %s are both set; keep one", key, file_key);
		return NULL;
	}
	if (g_key_file_has_key (keyfile, group, file_key, NULL)) {
		path = g_key_file_get_string (keyfile, group, file_key, error);
		if (path == NULL)
			return NULL;
		value = astra_read_secret_file (key, path, error);
		if (value == NULL)
			return NULL;
		if (value[0] == '\0') {
			g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG,
				     "%s: %s is empty", file_key, path);
			return NULL;
		}
		return g_steal_pointer (&value);
	}
	if (!g_key_file_has_key (keyfile, group, key, NULL))
		return NULL;
	/* g_key_file_get_value keeps the value raw: escapes like \s must not change a secret */
	value = g_key_file_get_value (keyfile, group, key, NULL);
	if (value == NULL || value[0] == '\0') {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG, "%s is empty", key);
		return NULL;
	}
	return g_steal_pointer (&value);
}

/**
 * astra_version_string:
 *
 * Returns: the version of the SDK library, e.g. `0.1.0`
 *
 * Since: 1.0
 */
const char *
astra_version_string (void)
{
	return PACKAGE_VERSION;
}
