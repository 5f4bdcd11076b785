/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define ASTRA_CONFIG_DEFAULT_LISTEN "127.0.0.1:8470"
#define ASTRA_CONFIG_DEFAULT_MAX_BODY_SIZE (1024 * 1024)
#define ASTRA_CONFIG_DEFAULT_SHUTDOWN_TIMEOUT 5
#define ASTRA_CONFIG_DEFAULT_RETENTION_DAYS 7  /* how long delivered deliveries stay in the history */
#define ASTRA_CONFIG_DEFAULT_RETENTION_COUNT 1000000
/* who may call the changing D-Bus methods, besides root */
#define ASTRA_CONFIG_DEFAULT_ADMIN_GROUP "astra-alerts"

/* [dbus] bus: where org.astranetmon.Alerts1 is offered (none when the key is absent) */
typedef enum {
	ASTRA_CONFIG_BUS_NONE,
	ASTRA_CONFIG_BUS_SYSTEM,
	ASTRA_CONFIG_BUS_SESSION,
} AstraConfigBus;

const char *astra_config_bus_to_string (AstraConfigBus bus);
gboolean astra_config_bus_from_string (const char *str, AstraConfigBus *bus);

/* one [webhook NAME] group, wherever it was written */
typedef struct {
	char *name;
	char *group; /* "webhook NAME" */
	char *file;  /* absolute path of the file that defines it */
	GKeyFile *keyfile; /* that file, with relative *-file paths made absolute */
} AstraWebhookConfig;

#define ASTRA_TYPE_CONFIG (astra_config_get_type ())
G_DECLARE_FINAL_TYPE (AstraConfig, astra_config, ASTRA, CONFIG, GObject)

/* reads PATH and the .conf files in webhooks.d beside it; every problem is appended
 * to errors as "FILE:LINE: [GROUP] KEY: what is wrong". NULL only if PATH itself
 * cannot be read; otherwise the config is returned even when errors were appended,
 * so that astra_webhook_build_all() can report the webhooks' errors in the same run:
 * callers compare errors->len before using it */
AstraConfig *astra_config_load (const char *path, GPtrArray *errors);
/* the same file read again (a reload), with the command-line overrides that were set on
 * self; like astra_config_load(), errors are appended and the config is returned anyway
 * unless the file itself cannot be read */
AstraConfig *astra_config_load_again (AstraConfig *self, GPtrArray *errors);

const char *astra_config_get_path (AstraConfig *self);
GInetSocketAddress *astra_config_get_listen_address (AstraConfig *self);
const char *astra_config_get_state_dir (AstraConfig *self);
const char *astra_config_get_plugin_dir (AstraConfig *self);
gsize astra_config_get_max_body_size (AstraConfig *self);
guint astra_config_get_shutdown_timeout (AstraConfig *self);
GPtrArray *astra_config_get_webhooks (AstraConfig *self);
const char *astra_config_get_rules_dir (AstraConfig *self);
gint64 astra_config_get_offline_after (AstraConfig *self);
gint64 astra_config_get_retention (AstraConfig *self);
guint astra_config_get_retention_count (AstraConfig *self);
void astra_config_get_series_limits (AstraConfig *self, guint *max_series, guint *max_labels, guint *max_label_length);
AstraConfigBus astra_config_get_bus (AstraConfig *self);
const char *astra_config_get_admin_group (AstraConfig *self);
/* whether uid may change the daemon (D-Bus methods marked "changes"): uid 0, or a member of
 * admin-group (its primary group, the group's member list, or any group the system's
 * user database gives it). FALSE with ASTRA_ERROR_ACCESS_DENIED saying what is needed */
gboolean astra_config_check_admin (AstraConfig *self, guint32 uid, GError **error);

/* command-line overrides, applied after loading */
gboolean astra_config_set_listen (AstraConfig *self, const char *listen, GError **error);
void astra_config_set_state_dir (AstraConfig *self, const char *dir);
void astra_config_set_plugin_dir (AstraConfig *self, const char *dir);
void astra_config_set_bus (AstraConfig *self, AstraConfigBus bus);

/* "FILE:LINE: [GROUP] KEY" (line and key when known) for messages about a setting */
char *astra_config_locate (AstraConfig *self, const char *file, const char *group, const char *key);
/* appends "FILE:LINE: [GROUP] KEY: message" to errors */
void astra_config_add_error (AstraConfig *self,
			     GPtrArray *errors,
			     const char *file,
			     const char *group,
			     const char *key,
			     const char *format,
			     ...) G_GNUC_PRINTF (6, 7);

G_END_DECLS
