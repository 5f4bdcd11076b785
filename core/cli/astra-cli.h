/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* the exit codes of every subcommand, documented in `astra-alertctl --help` */
typedef enum {
	ASTRA_CLI_EXIT_OK = 0,
	ASTRA_CLI_EXIT_ERROR = 1,
	ASTRA_CLI_EXIT_USAGE = 2,
	ASTRA_CLI_EXIT_NO_DAEMON = 3,
} AstraCliExit;

typedef struct _AstraCliCommand AstraCliCommand;

/* argv[0] is "astra-alertctl <name>"; returns an AstraCliExit */
typedef int (*AstraCliCommandFunc) (const AstraCliCommand *cmd, int argc, char **argv);

struct _AstraCliCommand {
	const char *name;
	const char *summary; /* one line, no final period */
	AstraCliCommandFunc func;
};

GOptionContext *astra_cli_option_context_new (const AstraCliCommand *cmd, const char *description);
int astra_cli_parse_options (const AstraCliCommand *cmd, GOptionContext *context, int *argc, char ***argv);
void astra_cli_error (const AstraCliCommand *cmd, const char *format, ...) G_GNUC_PRINTF (2, 3);

int astra_cli_listen (const AstraCliCommand *cmd, int argc, char **argv);

G_END_DECLS
