/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define ASTRA_CONFIG_DEFAULT_LISTEN "127.0.0.1:8470"
#define ASTRA_CONFIG_DEFAULT_MAX_BODY_SIZE (1024 * 1024)
#define ASTRA_CONFIG_DEFAULT_SHUTDOWN_TIMEOUT 5
#define ASTRA_CONFIG_DEFAULT_OFFLINE_AFTER 300 /* seconds, for agents that report no interval */
#define ASTRA_CONFIG_DEFAULT_RETENTION_DAYS 7  /* how long delivered deliveries stay in the history */
#define ASTRA_CONFIG_DEFAULT_RETENTION_COUNT 1000000

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

/* command-line overrides, applied after loading */
gboolean astra_config_set_listen (AstraConfig *self, const char *listen, GError **error);
void astra_config_set_state_dir (AstraConfig *self, const char *dir);
void astra_config_set_plugin_dir (AstraConfig *self, const char *dir);

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
