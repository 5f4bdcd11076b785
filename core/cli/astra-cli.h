/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "astra-dbus-generated.h"

G_BEGIN_DECLS

/* the exit codes of every subcommand, documented in `astra-alertctl --help` */
typedef enum {
	ASTRA_CLI_EXIT_OK = 0,
	ASTRA_CLI_EXIT_ERROR = 1,
	ASTRA_CLI_EXIT_USAGE = 2,
	ASTRA_CLI_EXIT_NO_DAEMON = 3,
} AstraCliExit;

#define ASTRA_CLI_BUS_NAME    "org.astranetmon.Alerts1"
#define ASTRA_CLI_OBJECT_PATH "/org/astranetmon/Alerts1"

#define ASTRA_CLI_COLOR_BOLD  "\033[1m"
#define ASTRA_CLI_COLOR_DIM   "\033[2m"
#define ASTRA_CLI_COLOR_GREEN "\033[32m"
#define ASTRA_CLI_COLOR_RED   "\033[1;31m"
#define ASTRA_CLI_COLOR_AMBER "\033[33m"
#define ASTRA_CLI_COLOR_RESET "\033[0m"

typedef struct _AstraCliCommand AstraCliCommand;

/* argv[0] is "astra-alertctl <name>"; returns an AstraCliExit */
typedef int (*AstraCliCommandFunc) (const AstraCliCommand *cmd, int argc, char **argv);

typedef enum {
	ASTRA_CLI_COMMAND_FLAG_NONE = 0,
	/* takes no bus and has a --json of its own (listen) */
	ASTRA_CLI_COMMAND_FLAG_LOCAL = 1 << 0,
} AstraCliCommandFlags;

struct _AstraCliCommand {
	const char *name;    /* "deliveries", "silence add" */
	const char *args;    /* the positional arguments for the usage line, NULL: none */
	const char *summary; /* one line, no final period */
	AstraCliCommandFunc func;
	AstraCliCommandFlags flags;
};

/* the options every command takes, before or after its name */
typedef struct {
	gboolean json;
	gboolean system;
	gboolean session;
} AstraCliGlobal;

AstraCliGlobal *astra_cli_get_global (void);

/* astra-alertctl.c */
GOptionContext *astra_cli_option_context_new (const AstraCliCommand *cmd, const char *description);
gboolean astra_cli_parse_options (const AstraCliCommand *cmd, GOptionContext *context, int *argc, char ***argv);
gboolean astra_cli_parse_args (const AstraCliCommand *cmd,
			       GOptionContext *context,
			       int *argc,
			       char ***argv,
			       guint min_args,
			       guint max_args);
void astra_cli_error (const AstraCliCommand *cmd, const char *format, ...) G_GNUC_PRINTF (2, 3);
int astra_cli_usage (const AstraCliCommand *cmd, const char *format, ...) G_GNUC_PRINTF (2, 3);
int astra_cli_run_subcommand (const AstraCliCommand *parent,
			      const AstraCliCommand *subs,
			      gsize n_subs,
			      int argc,
			      char **argv);

/* astra-cli-output.c: colour, JSON, tables, times */
gboolean astra_cli_use_color (void);
JsonNode *astra_cli_variant_to_json (GVariant *value);
int astra_cli_print_json (const AstraCliCommand *cmd, GVariant *value);
int astra_cli_print_json_node (const AstraCliCommand *cmd, JsonNode *node);
int astra_cli_print (const AstraCliCommand *cmd, GString *str);
gboolean astra_cli_is_invisible (gunichar c);
void astra_cli_append_safe (GString *out, const char *text, gboolean newlines);
char *astra_cli_format_time (gint64 usec, gint64 now_usec);
char *astra_cli_format_duration (guint64 seconds);
char *astra_cli_format_number (double value);
const char *astra_cli_state_color (const char *state);

const char *astra_cli_lookup_string (GVariant *dict, const char *key);
gboolean astra_cli_lookup_int (GVariant *dict, const char *key, gint64 *value);
gboolean astra_cli_lookup_double (GVariant *dict, const char *key, double *value);
gboolean astra_cli_lookup_bool (GVariant *dict, const char *key, gboolean *value);
char *astra_cli_lookup_joined (GVariant *dict, const char *key, const char *separator);
char *astra_cli_lookup_int_string (GVariant *dict, const char *key);

typedef struct _AstraCliTable AstraCliTable;

AstraCliTable *astra_cli_table_new (const char *first_header, ...) G_GNUC_NULL_TERMINATED;
void astra_cli_table_free (AstraCliTable *self);
void astra_cli_table_set_right (AstraCliTable *self, guint column);
void astra_cli_table_add_row (AstraCliTable *self);
void astra_cli_table_add (AstraCliTable *self, const char *color, const char *text);
void astra_cli_table_add_printf (AstraCliTable *self, const char *color, const char *format, ...)
    G_GNUC_PRINTF (3, 4);
void astra_cli_table_append (AstraCliTable *self, GString *out, gboolean color);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AstraCliTable, astra_cli_table_free)

/* astra-cli-bus.c: the proxy and what its errors mean */
int astra_cli_connect (const AstraCliCommand *cmd, AstraDBusAlerts1 **proxy);
int astra_cli_call_failed (const AstraCliCommand *cmd, AstraDBusAlerts1 *proxy, GError *error);
const char *astra_cli_bus_name (AstraDBusAlerts1 *proxy);

/* the commands */
int astra_cli_listen (const AstraCliCommand *cmd, int argc, char **argv);
int astra_cli_status (const AstraCliCommand *cmd, int argc, char **argv);
int astra_cli_plugins (const AstraCliCommand *cmd, int argc, char **argv);
int astra_cli_webhooks (const AstraCliCommand *cmd, int argc, char **argv);
int astra_cli_rules (const AstraCliCommand *cmd, int argc, char **argv);
int astra_cli_alerts (const AstraCliCommand *cmd, int argc, char **argv);
int astra_cli_agents (const AstraCliCommand *cmd, int argc, char **argv);
int astra_cli_deliveries (const AstraCliCommand *cmd, int argc, char **argv);
int astra_cli_silence (const AstraCliCommand *cmd, int argc, char **argv);
int astra_cli_silence_list (const AstraCliCommand *cmd, int argc, char **argv);
int astra_cli_reload (const AstraCliCommand *cmd, int argc, char **argv);
int astra_cli_enable (const AstraCliCommand *cmd, int argc, char **argv);
int astra_cli_test (const AstraCliCommand *cmd, int argc, char **argv);
int astra_cli_render (const AstraCliCommand *cmd, int argc, char **argv);
int astra_cli_redeliver (const AstraCliCommand *cmd, int argc, char **argv);
int astra_cli_push (const AstraCliCommand *cmd, int argc, char **argv);
int astra_cli_emit (const AstraCliCommand *cmd, int argc, char **argv);
int astra_cli_monitor (const AstraCliCommand *cmd, int argc, char **argv);

G_END_DECLS
