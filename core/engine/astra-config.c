/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include "astra.h"
#include "astra-agent-registry.h"
#include "astra-config.h"
#include "astra-keyfile-scan.h"
#include "astra-rule.h"
#include "astra-series.h"

/* config files are written by hand: anything bigger is a mistake */
#define ASTRA_CONFIG_MAX_FILE_SIZE (4 * 1024 * 1024)
#define ASTRA_WEBHOOK_GROUP_PREFIX "webhook "

static const char *const astra_daemon_keys[] = {
    "listen",
    "state-dir",
    "plugin-dir",
    "webhooks-dir",
    "max-body-size",
    "shutdown-timeout",
    "rules-dir",
    NULL,
};

static const char *const astra_agents_keys[] = {"offline-after", NULL};
static const char *const astra_ingest_keys[] = {"max-series", "max-labels", "max-label-length", NULL};
static const char *const astra_delivery_keys[] = {"retention", "retention-count", NULL};
static const char *const astra_dbus_keys[] = {"bus", "admin-group", NULL};

/* where each group and key was written, for messages an admin can act on */
typedef struct {
	char *path;
	GPtrArray *groups; /* AstraGroupLines, as the scan found them */
} AstraConfigFile;

struct _AstraConfig {
	GObject parent_instance;
	char *path;
	char *dir;
	GInetSocketAddress *listen;
	char *state_dir;
	char *plugin_dir;
	gsize max_body_size;
	guint shutdown_timeout;
	char *rules_dir;
	gint64 offline_after_us;
	guint max_series;
	guint max_labels;
	guint max_label_length;
	gint64 retention_us;
	guint retention_count;
	AstraConfigBus bus;
	char *admin_group;
	GPtrArray *webhooks; /* AstraWebhookConfig */
	GHashTable *files;   /* path -> AstraConfigFile */
	/* the command line's overrides, applied again when the file is read again */
	char *override_listen;
	char *override_state_dir;
	char *override_plugin_dir;
	int override_bus; /* AstraConfigBus, -1 if not overridden */
};

G_DEFINE_FINAL_TYPE (AstraConfig, astra_config, G_TYPE_OBJECT)

static void
astra_config_file_free (AstraConfigFile *file)
{
	g_free (file->path);
	g_clear_pointer (&file->groups, g_ptr_array_unref);
	g_free (file);
}

static void
astra_webhook_config_free (AstraWebhookConfig *wc)
{
	g_free (wc->name);
	g_free (wc->group);
	g_free (wc->file);
	g_key_file_unref (wc->keyfile);
	g_free (wc);
}

static void
astra_config_finalize (GObject *object)
{
	AstraConfig *self = ASTRA_CONFIG (object);

	g_free (self->path);
	g_free (self->dir);
	g_clear_object (&self->listen);
	g_free (self->state_dir);
	g_free (self->plugin_dir);
	g_free (self->rules_dir);
	g_free (self->admin_group);
	g_free (self->override_listen);
	g_free (self->override_state_dir);
	g_free (self->override_plugin_dir);
	g_ptr_array_unref (self->webhooks);
	g_hash_table_unref (self->files);
	G_OBJECT_CLASS (astra_config_parent_class)->finalize (object);
}

static void
astra_config_class_init (AstraConfigClass *klass)
{
	G_OBJECT_CLASS (klass)->finalize = astra_config_finalize;
}

static void
astra_config_init (AstraConfig *self)
{
	self->max_body_size = ASTRA_CONFIG_DEFAULT_MAX_BODY_SIZE;
	self->shutdown_timeout = ASTRA_CONFIG_DEFAULT_SHUTDOWN_TIMEOUT;
	self->offline_after_us = ASTRA_AGENT_DEFAULT_OFFLINE_AFTER_US;
	self->max_series = ASTRA_SERIES_DEFAULT_MAX_SERIES;
	self->max_labels = ASTRA_SERIES_DEFAULT_MAX_LABELS;
	self->max_label_length = ASTRA_SERIES_DEFAULT_MAX_VALUE_LENGTH;
	self->retention_us = ASTRA_CONFIG_DEFAULT_RETENTION_DAYS * G_TIME_SPAN_DAY;
	self->retention_count = ASTRA_CONFIG_DEFAULT_RETENTION_COUNT;
	self->bus = ASTRA_CONFIG_BUS_NONE;
	self->admin_group = g_strdup (ASTRA_CONFIG_DEFAULT_ADMIN_GROUP);
	self->override_bus = -1;
	self->webhooks = g_ptr_array_new_with_free_func ((GDestroyNotify) astra_webhook_config_free);
	self->files = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
					     (GDestroyNotify) astra_config_file_free);
}

/* "FILE:LINE: [GROUP] KEY", without the parts that are 0 or NULL */
static GString *
astra_config_location_new (const char *file, guint line, const char *group, const char *key)
{
	GString *str = g_string_new (file);

	if (line > 0)
		g_string_append_printf (str, ":%u", line);
	if (group != NULL)
		g_string_append_printf (str, ": [%s]", group);
	if (key != NULL)
		g_string_append_printf (str, " %s", key);
	return str;
}

char *
astra_config_locate (AstraConfig *self, const char *file, const char *group, const char *key)
{
	AstraConfigFile *cf = g_hash_table_lookup (self->files, file);
	guint line = 0;

	/* the line of the key, else of the group's header */
	for (guint i = 0; cf != NULL && group != NULL && i < cf->groups->len; i++) {
		const AstraGroupLines *lines = g_ptr_array_index (cf->groups, i);

		if (g_strcmp0 (lines->group, group) == 0) {
			line = astra_group_lines_get_line (lines, key);
			break;
		}
	}
	return g_string_free (astra_config_location_new (file, line, group, key), FALSE);
}

void
astra_config_add_error (AstraConfig *self,
			GPtrArray *errors,
			const char *file,
			const char *group,
			const char *key,
			const char *format,
			...)
{
	g_autofree char *location = astra_config_locate (self, file, group, key);
	g_autofree char *message = NULL;
	va_list args;

	va_start (args, format);
	message = g_strdup_vprintf (format, args);
	va_end (args);
	g_ptr_array_add (errors, g_strdup_printf ("%s: %s", location, message));
}

static const AstraKeyfileDialect astra_config_dialect = {
    .group_example = "[daemon] or [webhook NAME]",
    .key_example = "'listen' or 'secret-file'",
};

typedef struct {
	AstraConfigFile *cf;
	GPtrArray *errors;
} AstraConfigScan;

static void
astra_config_scan_problem_cb (guint line, const char *group, const char *key, const char *message, gpointer user_data)
{
	AstraConfigScan *scan = user_data;
	GString *str = astra_config_location_new (scan->cf->path, line, group, key);

	g_string_append_printf (str, ": %s", message);
	g_ptr_array_add (scan->errors, g_string_free (str, FALSE));
}

/* GKeyFile forgets line numbers and merges repeated keys and groups silently: the scan remembers and says */
static void
astra_config_scan_lines (AstraConfig *self, AstraConfigFile *cf, const char *text, GPtrArray *errors)
{
	AstraConfigScan scan = {cf, errors};

	cf->groups = astra_keyfile_scan (text, &astra_config_dialect, astra_config_scan_problem_cb, &scan);
	for (guint i = 0; i < cf->groups->len; i++) {
		AstraGroupLines *group = g_ptr_array_index (cf->groups, i);

		for (guint j = 0; j < group->keys->len; j++) {
			AstraKeyLine *kl = g_ptr_array_index (group->keys, j);

			/* GKeyFile would keep key[locale] aside and never show it to anyone */
			if (strchr (kl->key, '[') != NULL)
				astra_config_scan_problem_cb (kl->line, group->group, kl->key,
							      "unknown key: keys have no translations", &scan);
		}
	}
}

static GKeyFile *
astra_config_read_file (AstraConfig *self, const char *path, GPtrArray *errors)
{
	g_autoptr(GKeyFile) keyfile = g_key_file_new ();
	g_autoptr(GError) error_local = NULL;
	g_autofree char *text = NULL;
	AstraConfigFile *cf;
	gsize len = 0;
	guint n_errors;

	if (!g_file_get_contents (path, &text, &len, &error_local)) {
		g_ptr_array_add (errors, g_strdup_printf ("%s: %s", path, error_local->message));
		return NULL;
	}
	if (len > ASTRA_CONFIG_MAX_FILE_SIZE) {
		g_ptr_array_add (errors, g_strdup_printf ("%s: larger than %u bytes", path,
							  (guint) ASTRA_CONFIG_MAX_FILE_SIZE));
		return NULL;
	}
	if (memchr (text, '\0', len) != NULL || !g_utf8_validate (text, (gssize) len, NULL)) {
		g_ptr_array_add (errors, g_strdup_printf ("%s: not a UTF-8 text file", path));
		return NULL;
	}
	cf = g_new0 (AstraConfigFile, 1);
	cf->path = g_strdup (path);
	g_hash_table_replace (self->files, cf->path, cf);
	n_errors = errors->len;
	astra_config_scan_lines (self, cf, text, errors);

	if (!g_key_file_load_from_data (keyfile, text, len, G_KEY_FILE_NONE, &error_local)) {
		/* the scan has said why, with the line, unless it missed what GKeyFile refused */
		if (errors->len == n_errors)
			g_ptr_array_add (errors, g_strdup_printf ("%s: %s", path, error_local->message));
		return NULL;
	}
	return g_steal_pointer (&keyfile);
}

static char *
astra_config_resolve_path (const char *base_dir, const char *path)
{
	if (g_path_is_absolute (path))
		return g_canonicalize_filename (path, NULL);
	return g_canonicalize_filename (path, base_dir);
}

static gboolean
astra_webhook_name_is_valid (const char *name)
{
	gsize len = strlen (name);

	if (len == 0 || len > 64)
		return FALSE;
	for (const char *p = name; *p != '\0'; p++) {
		if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_' && *p != '.')
			return FALSE;
	}
	return TRUE;
}

static void
astra_config_add_webhook (AstraConfig *self,
			  GKeyFile *keyfile,
			  const char *path,
			  const char *group,
			  GPtrArray *errors)
{
	const char *name = group + strlen (ASTRA_WEBHOOK_GROUP_PREFIX);
	g_autofree char *dir = g_path_get_dirname (path);
	g_auto(GStrv) keys = NULL;
	AstraWebhookConfig *wc;

	if (!astra_webhook_name_is_valid (name)) {
		astra_config_add_error (self, errors, path, group, NULL,
					"webhook names are 1 to 64 characters from A-Z a-z 0-9 . _ -");
		return;
	}
	for (guint i = 0; i < self->webhooks->len; i++) {
		AstraWebhookConfig *other = g_ptr_array_index (self->webhooks, i);
		if (g_strcmp0 (other->name, name) == 0) {
			g_autofree char *first = astra_config_locate (self, other->file, other->group, NULL);
			astra_config_add_error (self, errors, path, group, NULL,
						"webhook '%s' is already defined at %s", name, first);
			return;
		}
	}

	/* a *-file path means the same thing whichever folder the daemon runs from */
	keys = g_key_file_get_keys (keyfile, group, NULL, NULL);
	for (guint i = 0; keys != NULL && keys[i] != NULL; i++) {
		g_autofree char *value = NULL;
		g_autofree char *resolved = NULL;

		if (!g_str_has_suffix (keys[i], "-file"))
			continue;
		value = g_key_file_get_string (keyfile, group, keys[i], NULL);
		if (value == NULL || value[0] == '\0') {
			astra_config_add_error (self, errors, path, group, keys[i], "empty path");
			continue;
		}
		resolved = astra_config_resolve_path (dir, value);
		g_key_file_set_string (keyfile, group, keys[i], resolved);
	}

	wc = g_new0 (AstraWebhookConfig, 1);
	wc->name = g_strdup (name);
	wc->group = g_strdup (group);
	wc->file = g_strdup (path);
	wc->keyfile = g_key_file_ref (keyfile);
	g_ptr_array_add (self->webhooks, wc);
}

static gboolean
astra_config_parse_size (const char *value, gsize *out)
{
	guint64 number = 0;
	guint64 multiplier = 1;
	char *end = NULL;

	if (!g_ascii_isdigit (value[0]))
		return FALSE;
	errno = 0;
	number = g_ascii_strtoull (value, &end, 10);
	if (g_ascii_strcasecmp (end, "k") == 0 || g_ascii_strcasecmp (end, "KiB") == 0)
		multiplier = 1024;
	else if (g_ascii_strcasecmp (end, "M") == 0 || g_ascii_strcasecmp (end, "MiB") == 0)
		multiplier = 1024 * 1024;
	else if (*end != '\0')
		return FALSE;
	if (errno == ERANGE || number > G_MAXUINT64 / multiplier)
		return FALSE;
	*out = (gsize) (number * multiplier);
	return TRUE;
}

static GInetSocketAddress *
astra_config_parse_listen (const char *value, GError **error)
{
	g_autofree char *host = NULL;
	g_autoptr(GInetAddress) address = NULL;
	const char *colon;
	guint64 port = 0;

	/* an address, not a name: binding must not depend on DNS at boot */
	if (value[0] == '[') {
		const char *end = strchr (value, ']');
		if (end == NULL || end[1] != ':') {
			g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
				     "expected ADDRESS:PORT, e.g. 127.0.0.1:8470 or [::1]:8470");
			return NULL;
		}
		host = g_strndup (value + 1, (gsize) (end - value - 1));
		colon = end + 1;
	} else {
		colon = strrchr (value, ':');
		if (colon == NULL) {
			g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
				     "expected ADDRESS:PORT, e.g. 127.0.0.1:8470 or [::1]:8470");
			return NULL;
		}
		if (strchr (value, ':') != colon) {
			g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
				     "an IPv6 address must be in brackets, e.g. [::1]:8470");
			return NULL;
		}
		host = g_strndup (value, (gsize) (colon - value));
	}
	address = g_inet_address_new_from_string (host);
	if (address == NULL) {
		g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			     "'%s' is not an IP address", host);
		return NULL;
	}
	if (!g_ascii_string_to_unsigned (colon + 1, 10, 0, 65535, &port, NULL)) {
		g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			     "'%s' is not a port number (0-65535; 0 picks a free port)", colon + 1);
		return NULL;
	}
	return G_INET_SOCKET_ADDRESS (g_inet_socket_address_new (address, (guint16) port));
}

static void
astra_config_read_daemon_group (AstraConfig *self, GKeyFile *keyfile, GPtrArray *errors, char **webhooks_dir)
{
	g_auto(GStrv) keys = g_key_file_get_keys (keyfile, "daemon", NULL, NULL);

	for (guint i = 0; keys != NULL && keys[i] != NULL; i++) {
		const char *key = keys[i];
		g_autofree char *value = g_key_file_get_string (keyfile, "daemon", key, NULL);

		if (!g_strv_contains (astra_daemon_keys, key)) {
			g_autofree char *known = g_strjoinv (", ", (GStrv) astra_daemon_keys);
			astra_config_add_error (self, errors, self->path, "daemon", key,
						"unknown key (known keys: %s)", known);
			continue;
		}
		if (value == NULL || value[0] == '\0') {
			astra_config_add_error (self, errors, self->path, "daemon", key, "empty value");
			continue;
		}
		if (g_strcmp0 (key, "listen") == 0) {
			g_autoptr(GError) error_local = NULL;
			g_clear_object (&self->listen);
			self->listen = astra_config_parse_listen (value, &error_local);
			if (self->listen == NULL)
				astra_config_add_error (self, errors, self->path, "daemon", key,
							"%s", error_local->message);
		} else if (g_strcmp0 (key, "state-dir") == 0) {
			g_free (self->state_dir);
			self->state_dir = astra_config_resolve_path (self->dir, value);
		} else if (g_strcmp0 (key, "plugin-dir") == 0) {
			g_free (self->plugin_dir);
			self->plugin_dir = astra_config_resolve_path (self->dir, value);
		} else if (g_strcmp0 (key, "rules-dir") == 0) {
			g_free (self->rules_dir);
			self->rules_dir = astra_config_resolve_path (self->dir, value);
		} else if (g_strcmp0 (key, "webhooks-dir") == 0) {
			g_free (*webhooks_dir);
			*webhooks_dir = astra_config_resolve_path (self->dir, value);
		} else if (g_strcmp0 (key, "max-body-size") == 0) {
			gsize size = 0;
			if (!astra_config_parse_size (value, &size) || size < 1024 || size > 64 * 1024 * 1024)
				astra_config_add_error (self, errors, self->path, "daemon", key,
							"'%s' is not a size from 1K to 64M (bytes, or with a K or M suffix)",
							value);
			else
				self->max_body_size = size;
		} else if (g_strcmp0 (key, "shutdown-timeout") == 0) {
			guint64 seconds = 0;
			if (!g_ascii_string_to_unsigned (value, 10, 0, 300, &seconds, NULL))
				astra_config_add_error (self, errors, self->path, "daemon", key,
							"'%s' is not a number of seconds from 0 to 300", value);
			else
				self->shutdown_timeout = (guint) seconds;
		}
	}
}

static gboolean
astra_config_check_keys (AstraConfig *self, GKeyFile *keyfile, const char *group, const char *const *known,
			 GPtrArray *errors)
{
	g_auto(GStrv) keys = g_key_file_get_keys (keyfile, group, NULL, NULL);
	gboolean ok = TRUE;

	for (guint i = 0; keys != NULL && keys[i] != NULL; i++) {
		if (!g_strv_contains (known, keys[i])) {
			g_autofree char *list = g_strjoinv (", ", (GStrv) known);
			astra_config_add_error (self, errors, self->path, group, keys[i],
						"unknown key (known keys: %s)", list);
			ok = FALSE;
		}
	}
	return ok;
}

/* a positive count with a bound; the key is optional */
static void
astra_config_read_count (AstraConfig *self, GKeyFile *keyfile, const char *group, const char *key,
			 guint64 min, guint64 max, guint *out, GPtrArray *errors)
{
	g_autofree char *value = g_key_file_get_string (keyfile, group, key, NULL);
	guint64 number = 0;

	if (value == NULL)
		return;
	if (!g_ascii_string_to_unsigned (value, 10, min, max, &number, NULL)) {
		astra_config_add_error (self, errors, self->path, group, key,
					"'%s' is not a whole number from %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT,
					value, min, max);
		return;
	}
	*out = (guint) number;
}

static void
astra_config_read_agents_group (AstraConfig *self, GKeyFile *keyfile, GPtrArray *errors)
{
	g_autofree char *value = g_key_file_get_string (keyfile, "agents", "offline-after", NULL);
	gint64 us = 0;

	astra_config_check_keys (self, keyfile, "agents", astra_agents_keys, errors);
	if (value == NULL)
		return;
	if (!astra_parse_duration (value, &us) || us < G_USEC_PER_SEC || us > (gint64) 7 * 24 * 3600 * G_USEC_PER_SEC) {
		astra_config_add_error (self, errors, self->path, "agents", "offline-after",
					"'%s' is not a duration from 1s to 7d (e.g. 90s, 5m, 1h)", value);
		return;
	}
	self->offline_after_us = us;
}

static void
astra_config_read_ingest_group (AstraConfig *self, GKeyFile *keyfile, GPtrArray *errors)
{
	astra_config_check_keys (self, keyfile, "ingest", astra_ingest_keys, errors);
	astra_config_read_count (self, keyfile, "ingest", "max-series", 1, 100000000, &self->max_series, errors);
	astra_config_read_count (self, keyfile, "ingest", "max-labels", 1, 255, &self->max_labels, errors);
	astra_config_read_count (self, keyfile, "ingest", "max-label-length", 1, 65536, &self->max_label_length,
				 errors);
}

static void
astra_config_read_delivery_group (AstraConfig *self, GKeyFile *keyfile, GPtrArray *errors)
{
	g_autofree char *value = g_key_file_get_string (keyfile, "delivery", "retention", NULL);
	gint64 us = 0;

	astra_config_check_keys (self, keyfile, "delivery", astra_delivery_keys, errors);
	astra_config_read_count (self, keyfile, "delivery", "retention-count", 1000, 1000000000,
				 &self->retention_count, errors);
	if (value == NULL)
		return;
	if (!astra_parse_duration (value, &us) || us < G_TIME_SPAN_HOUR || us > 365 * G_TIME_SPAN_DAY) {
		astra_config_add_error (self, errors, self->path, "delivery", "retention",
					"'%s' is not a duration from 1h to 365d (e.g. 7d)", value);
		return;
	}
	self->retention_us = us;
}

const char *
astra_config_bus_to_string (AstraConfigBus bus)
{
	switch (bus) {
	case ASTRA_CONFIG_BUS_SYSTEM:
		return "system";
	case ASTRA_CONFIG_BUS_SESSION:
		return "session";
	case ASTRA_CONFIG_BUS_NONE:
	default:
		return "none";
	}
}

gboolean
astra_config_bus_from_string (const char *str, AstraConfigBus *bus)
{
	if (g_strcmp0 (str, "system") == 0)
		*bus = ASTRA_CONFIG_BUS_SYSTEM;
	else if (g_strcmp0 (str, "session") == 0)
		*bus = ASTRA_CONFIG_BUS_SESSION;
	else if (g_strcmp0 (str, "none") == 0)
		*bus = ASTRA_CONFIG_BUS_NONE;
	else
		return FALSE;
	return TRUE;
}

/* what useradd and systemd-sysusers accept, give or take: no spaces, colons or a leading '-' */
static gboolean
astra_config_group_name_is_valid (const char *name)
{
	gsize len = strlen (name);

	if (len == 0 || len > 64 || name[0] == '-')
		return FALSE;
	for (const char *p = name; *p != '\0'; p++) {
		if (!g_ascii_isalnum (*p) && *p != '_' && *p != '-' && *p != '.')
			return FALSE;
	}
	return TRUE;
}

static void
astra_config_read_dbus_group (AstraConfig *self, GKeyFile *keyfile, GPtrArray *errors)
{
	g_autofree char *bus = g_key_file_get_string (keyfile, "dbus", "bus", NULL);
	g_autofree char *group = g_key_file_get_string (keyfile, "dbus", "admin-group", NULL);

	astra_config_check_keys (self, keyfile, "dbus", astra_dbus_keys, errors);
	if (bus != NULL && !astra_config_bus_from_string (g_strstrip (bus), &self->bus))
		astra_config_add_error (self, errors, self->path, "dbus", "bus",
					"'%s' is not a bus (system, session or none)", bus);
	if (group != NULL) {
		g_strstrip (group);
		if (!astra_config_group_name_is_valid (group)) {
			astra_config_add_error (self, errors, self->path, "dbus", "admin-group",
						"'%s' is not a group name (at most 64 of A-Z a-z 0-9 . _ -, "
						"not starting with -)",
						group);
		} else {
			g_free (self->admin_group);
			self->admin_group = g_steal_pointer (&group);
		}
	}
}

static gint
astra_str_compare (gconstpointer a, gconstpointer b)
{
	return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

static void
astra_config_read_webhooks_dir (AstraConfig *self, const char *dir_path, GPtrArray *errors)
{
	g_autoptr(GDir) dir = NULL;
	g_autoptr(GError) error_local = NULL;
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
	const char *name;

	if (!g_file_test (dir_path, G_FILE_TEST_EXISTS))
		return;
	dir = g_dir_open (dir_path, 0, &error_local);
	if (dir == NULL) {
		g_ptr_array_add (errors, g_strdup_printf ("%s: %s", dir_path, error_local->message));
		return;
	}
	/* only *.conf: editor backups and package manager leftovers must not become webhooks */
	while ((name = g_dir_read_name (dir)) != NULL) {
		if (g_str_has_suffix (name, ".conf") && name[0] != '.')
			g_ptr_array_add (names, g_strdup (name));
	}
	g_ptr_array_sort (names, astra_str_compare);

	for (guint i = 0; i < names->len; i++) {
		g_autofree char *path = g_build_filename (dir_path, g_ptr_array_index (names, i), NULL);
		g_autoptr(GKeyFile) keyfile = astra_config_read_file (self, path, errors);
		g_auto(GStrv) groups = NULL;

		if (keyfile == NULL)
			continue;
		groups = g_key_file_get_groups (keyfile, NULL);
		for (guint j = 0; groups[j] != NULL; j++) {
			if (!g_str_has_prefix (groups[j], ASTRA_WEBHOOK_GROUP_PREFIX)) {
				astra_config_add_error (self, errors, path, groups[j], NULL,
							"only [webhook NAME] groups belong in %s", dir_path);
				continue;
			}
			astra_config_add_webhook (self, keyfile, path, groups[j], errors);
		}
	}
}

AstraConfig *
astra_config_load (const char *path, GPtrArray *errors)
{
	g_autoptr(AstraConfig) self = g_object_new (ASTRA_TYPE_CONFIG, NULL);
	g_autoptr(GKeyFile) keyfile = NULL;
	g_autofree char *webhooks_dir = NULL;
	g_auto(GStrv) groups = NULL;
	g_return_val_if_fail (path != NULL, NULL);

	self->path = astra_config_resolve_path (NULL, path);
	self->dir = g_path_get_dirname (self->path);
	self->state_dir = g_strdup (ASTRA_STATE_DIR);
	self->plugin_dir = g_strdup (ASTRA_PLUGIN_DIR);
	self->listen = astra_config_parse_listen (ASTRA_CONFIG_DEFAULT_LISTEN, NULL);
	webhooks_dir = g_build_filename (self->dir, "webhooks.d", NULL);
	self->rules_dir = g_build_filename (self->dir, "rules.d", NULL);

	keyfile = astra_config_read_file (self, self->path, errors);
	if (keyfile == NULL)
		return NULL;

	groups = g_key_file_get_groups (keyfile, NULL);
	for (guint i = 0; groups[i] != NULL; i++) {
		if (g_strcmp0 (groups[i], "daemon") == 0)
			astra_config_read_daemon_group (self, keyfile, errors, &webhooks_dir);
		else if (g_strcmp0 (groups[i], "agents") == 0)
			astra_config_read_agents_group (self, keyfile, errors);
		else if (g_strcmp0 (groups[i], "ingest") == 0)
			astra_config_read_ingest_group (self, keyfile, errors);
		else if (g_strcmp0 (groups[i], "delivery") == 0)
			astra_config_read_delivery_group (self, keyfile, errors);
		else if (g_strcmp0 (groups[i], "dbus") == 0)
			astra_config_read_dbus_group (self, keyfile, errors);
		else if (g_str_has_prefix (groups[i], ASTRA_WEBHOOK_GROUP_PREFIX))
			astra_config_add_webhook (self, keyfile, self->path, groups[i], errors);
		else
			astra_config_add_error (self, errors, self->path, groups[i], NULL,
						"unknown group (expected [daemon], [agents], [ingest], [delivery], [dbus] "
						"or [webhook NAME])");
	}
	astra_config_read_webhooks_dir (self, webhooks_dir, errors);
	return g_steal_pointer (&self);
}

AstraConfig *
astra_config_load_again (AstraConfig *self, GPtrArray *errors)
{
	g_autoptr(AstraConfig) config = NULL;
	g_autoptr(GError) error_local = NULL;

	g_return_val_if_fail (ASTRA_IS_CONFIG (self), NULL);

	config = astra_config_load (self->path, errors);
	if (config == NULL)
		return NULL;
	/* the same command line as on start: a reload must not undo --listen or --state-dir */
	if (self->override_listen != NULL && !astra_config_set_listen (config, self->override_listen, &error_local))
		g_ptr_array_add (errors, g_strdup_printf ("--listen: %s", error_local->message));
	if (self->override_state_dir != NULL)
		astra_config_set_state_dir (config, self->override_state_dir);
	if (self->override_plugin_dir != NULL)
		astra_config_set_plugin_dir (config, self->override_plugin_dir);
	if (self->override_bus >= 0)
		astra_config_set_bus (config, (AstraConfigBus) self->override_bus);
	return g_steal_pointer (&config);
}

const char *
astra_config_get_path (AstraConfig *self)
{
	return self->path;
}

GInetSocketAddress *
astra_config_get_listen_address (AstraConfig *self)
{
	return self->listen;
}

const char *
astra_config_get_state_dir (AstraConfig *self)
{
	return self->state_dir;
}

const char *
astra_config_get_plugin_dir (AstraConfig *self)
{
	return self->plugin_dir;
}

gsize
astra_config_get_max_body_size (AstraConfig *self)
{
	return self->max_body_size;
}

guint
astra_config_get_shutdown_timeout (AstraConfig *self)
{
	return self->shutdown_timeout;
}

GPtrArray *
astra_config_get_webhooks (AstraConfig *self)
{
	return self->webhooks;
}

gboolean
astra_config_set_listen (AstraConfig *self, const char *listen, GError **error)
{
	GInetSocketAddress *address = astra_config_parse_listen (listen, error);

	if (address == NULL)
		return FALSE;
	g_clear_object (&self->listen);
	self->listen = address;
	g_free (self->override_listen);
	self->override_listen = g_strdup (listen);
	return TRUE;
}

void
astra_config_set_state_dir (AstraConfig *self, const char *dir)
{
	g_free (self->state_dir);
	self->state_dir = astra_config_resolve_path (NULL, dir);
	g_free (self->override_state_dir);
	self->override_state_dir = g_strdup (self->state_dir);
}

void
astra_config_set_plugin_dir (AstraConfig *self, const char *dir)
{
	g_free (self->plugin_dir);
	self->plugin_dir = astra_config_resolve_path (NULL, dir);
	g_free (self->override_plugin_dir);
	self->override_plugin_dir = g_strdup (self->plugin_dir);
}

void
astra_config_set_bus (AstraConfig *self, AstraConfigBus bus)
{
	self->bus = bus;
	self->override_bus = (int) bus;
}

const char *
astra_config_get_rules_dir (AstraConfig *self)
{
	return self->rules_dir;
}

gint64
astra_config_get_offline_after (AstraConfig *self)
{
	return self->offline_after_us;
}

void
astra_config_get_series_limits (AstraConfig *self, guint *max_series, guint *max_labels, guint *max_label_length)
{
	*max_series = self->max_series;
	*max_labels = self->max_labels;
	*max_label_length = self->max_label_length;
}

gint64
astra_config_get_retention (AstraConfig *self)
{
	return self->retention_us;
}

guint
astra_config_get_retention_count (AstraConfig *self)
{
	return self->retention_count;
}

AstraConfigBus
astra_config_get_bus (AstraConfig *self)
{
	return self->bus;
}

const char *
astra_config_get_admin_group (AstraConfig *self)
{
	return self->admin_group;
}

/* getpwuid_r and getgrnam_r want a buffer whose size they only hint at */
static gsize
astra_config_nss_buffer_size (int name)
{
	long size = sysconf (name);

	return size > 0 ? (gsize) size : 16384;
}

static gboolean
astra_config_uid_in_group (guint32 uid, const char *group_name)
{
	struct passwd pw;
	struct passwd *pw_result = NULL;
	struct group gr;
	struct group *gr_result = NULL;
	gsize pw_size = astra_config_nss_buffer_size (_SC_GETPW_R_SIZE_MAX);
	gsize gr_size = astra_config_nss_buffer_size (_SC_GETGR_R_SIZE_MAX);
	g_autofree char *pw_buf = NULL;
	g_autofree char *gr_buf = NULL;
	g_autofree gid_t *groups = NULL;
	int n_groups = 64;
	int rc;

	/* ERANGE: a user or group with many members needs a larger buffer */
	for (;;) {
		pw_buf = g_malloc (pw_size);
		rc = getpwuid_r ((uid_t) uid, &pw, pw_buf, pw_size, &pw_result);
		if (rc != ERANGE || pw_size > 1024 * 1024)
			break;
		g_clear_pointer (&pw_buf, g_free);
		pw_size *= 2;
	}
	if (rc != 0 || pw_result == NULL)
		return FALSE;
	for (;;) {
		gr_buf = g_malloc (gr_size);
		rc = getgrnam_r (group_name, &gr, gr_buf, gr_size, &gr_result);
		if (rc != ERANGE || gr_size > 1024 * 1024)
			break;
		g_clear_pointer (&gr_buf, g_free);
		gr_size *= 2;
	}
	if (rc != 0 || gr_result == NULL)
		return FALSE;

	if (pw.pw_gid == gr.gr_gid)
		return TRUE;
	for (guint i = 0; gr.gr_mem != NULL && gr.gr_mem[i] != NULL; i++) {
		if (g_strcmp0 (gr.gr_mem[i], pw.pw_name) == 0)
			return TRUE;
	}
	/* memberships the group file does not list (LDAP, sssd) come through the user database */
	groups = g_new (gid_t, n_groups);
	if (getgrouplist (pw.pw_name, pw.pw_gid, groups, &n_groups) < 0) {
		if (n_groups <= 64 || n_groups > 65536)
			return FALSE;
		g_free (groups);
		groups = g_new (gid_t, n_groups);
		if (getgrouplist (pw.pw_name, pw.pw_gid, groups, &n_groups) < 0)
			return FALSE;
	}
	for (int i = 0; i < n_groups; i++) {
		if (groups[i] == gr.gr_gid)
			return TRUE;
	}
	return FALSE;
}

gboolean
astra_config_check_admin (AstraConfig *self, guint32 uid, GError **error)
{
	g_return_val_if_fail (ASTRA_IS_CONFIG (self), FALSE);

	if (uid == 0 || astra_config_uid_in_group (uid, self->admin_group))
		return TRUE;
	g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_ACCESS_DENIED,
		     "changing astra-alertd needs root or membership of group '%s' ([dbus] admin-group)",
		     self->admin_group);
	return FALSE;
}
