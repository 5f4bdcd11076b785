/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "astra-cli.h"

static int astra_cli_help (const AstraCliCommand *cmd, int argc, char **argv);

/* sorted by name; later issues add the D-Bus commands here */
static const AstraCliCommand astra_cli_commands[] = {
    {"help", "Show the help of a command", astra_cli_help},
    {"listen", "Receive webhooks on this machine, verify their signatures and print them",
     astra_cli_listen},
};

static const AstraCliCommand *
astra_cli_lookup (const char *name)
{
	for (gsize i = 0; i < G_N_ELEMENTS (astra_cli_commands); i++) {
		if (g_strcmp0 (astra_cli_commands[i].name, name) == 0)
			return &astra_cli_commands[i];
	}
	return NULL;
}

static void
astra_cli_print_help (void)
{
	g_autoptr(GString) str = g_string_new (NULL);
	gsize width = 0;

	for (gsize i = 0; i < G_N_ELEMENTS (astra_cli_commands); i++)
		width = MAX (width, strlen (astra_cli_commands[i].name));

	g_string_append (str,
			 "Usage:\n"
			 "  astra-alertctl COMMAND [OPTION...]\n"
			 "\n"
			 "Control astra-alertd and test webhook receivers.\n"
			 "\n"
			 "Commands:\n");
	for (gsize i = 0; i < G_N_ELEMENTS (astra_cli_commands); i++)
		g_string_append_printf (str, "  %-*s  %s\n", (int) width, astra_cli_commands[i].name,
					astra_cli_commands[i].summary);
	g_string_append (str,
			 "\n"
			 "Options:\n"
			 "  -h, --help     Show this help\n"
			 "  --version      Show the version\n"
			 "\n"
			 "Run 'astra-alertctl COMMAND --help' for the options of a command, e.g.\n"
			 "  astra-alertctl listen --port 8471 --secret demo-secret-change-me\n"
			 "\n"
			 "Exit status: 0 success, 1 error, 2 usage error, 3 daemon not reachable.\n");
	fputs (str->str, stdout);
}

/**
 * astra_cli_error:
 * @cmd: (nullable): the command that failed
 * @format: printf-style format of one line, saying what to do
 * @...: arguments
 *
 * Prints `astra-alertctl [COMMAND]: MESSAGE` on stderr.
 */
void
astra_cli_error (const AstraCliCommand *cmd, const char *format, ...)
{
	g_autofree char *msg = NULL;
	va_list args;

	va_start (args, format);
	msg = g_strdup_vprintf (format, args);
	va_end (args);
	if (cmd != NULL)
		g_printerr ("astra-alertctl %s: %s\n", cmd->name, msg);
	else
		g_printerr ("astra-alertctl: %s\n", msg);
}

/**
 * astra_cli_option_context_new:
 * @cmd: the command
 * @description: (nullable): text shown after the options, e.g. examples
 *
 * Returns: (transfer full): an option context for @cmd, its summary set
 */
GOptionContext *
astra_cli_option_context_new (const AstraCliCommand *cmd, const char *description)
{
	GOptionContext *context = g_option_context_new (NULL);

	g_option_context_set_summary (context, cmd->summary);
	if (description != NULL)
		g_option_context_set_description (context, description);
	return context;
}

/**
 * astra_cli_parse_options:
 * @cmd: the command
 * @context: its option context
 * @argc: (inout): the argument count
 * @argv: (inout): the arguments, argv[0] being the command
 *
 * Parses the options of @cmd; `--help` prints the help and exits 0. Any
 * argument left over is an error, as no command takes one yet.
 *
 * Returns: %TRUE on success; %FALSE after printing the error (exit with
 *   %ASTRA_CLI_EXIT_USAGE)
 */
gboolean
astra_cli_parse_options (const AstraCliCommand *cmd, GOptionContext *context, int *argc, char ***argv)
{
	g_autoptr(GError) error_local = NULL;

	if (!g_option_context_parse (context, argc, argv, &error_local)) {
		astra_cli_error (cmd, "%s; run 'astra-alertctl %s --help' for the options",
				 error_local->message, cmd->name);
		return FALSE;
	}
	if (*argc > 1) {
		astra_cli_error (cmd, "unexpected argument '%s'; run 'astra-alertctl %s --help' for the usage",
				 (*argv)[1], cmd->name);
		return FALSE;
	}
	return TRUE;
}

static int
astra_cli_run (const AstraCliCommand *cmd, int argc, char **argv)
{
	g_autofree char *prgname = g_strdup_printf ("astra-alertctl %s", cmd->name);
	g_autofree char **args = g_new0 (char *, argc + 1);

	/* the option parser's "Usage:" line then names the command; set once per process */
	g_set_prgname (prgname);
	args[0] = prgname;
	for (int i = 1; i < argc; i++)
		args[i] = argv[i];
	/* the parser only reorders the array, never frees the strings */
	return cmd->func (cmd, argc, args);
}

static int
astra_cli_help (const AstraCliCommand *cmd, int argc, char **argv)
{
	const AstraCliCommand *target;
	char *args[] = {NULL, (char *) "--help", NULL};

	if (argc < 2) {
		astra_cli_print_help ();
		return ASTRA_CLI_EXIT_OK;
	}
	if (argc > 2) {
		astra_cli_error (cmd, "takes one command name, e.g. 'astra-alertctl help listen'");
		return ASTRA_CLI_EXIT_USAGE;
	}
	target = astra_cli_lookup (argv[1]);
	if (target == NULL) {
		astra_cli_error (cmd, "'%s' is not a command; run 'astra-alertctl --help' to list them",
				 argv[1]);
		return ASTRA_CLI_EXIT_USAGE;
	}
	if (target == cmd) {
		astra_cli_print_help ();
		return ASTRA_CLI_EXIT_OK;
	}
	args[0] = argv[1];
	return astra_cli_run (target, 2, args);
}

int
main (int argc, char **argv)
{
	const AstraCliCommand *cmd;
	const char *first;

	setlocale (LC_ALL, "");
	if (argc < 2) {
		astra_cli_error (NULL, "no command given; run 'astra-alertctl --help' to list the commands");
		return ASTRA_CLI_EXIT_USAGE;
	}
	first = argv[1];
	if (g_strcmp0 (first, "--help") == 0 || g_strcmp0 (first, "-h") == 0 ||
	    g_strcmp0 (first, "-?") == 0) {
		astra_cli_print_help ();
		return ASTRA_CLI_EXIT_OK;
	}
	if (g_strcmp0 (first, "--version") == 0) {
		g_print ("astra-alertctl %s\n", PACKAGE_VERSION);
		return ASTRA_CLI_EXIT_OK;
	}
	if (first[0] == '-') {
		astra_cli_error (NULL, "unknown option '%s'; options go after the command, "
				       "e.g. 'astra-alertctl listen --port 8471'",
				 first);
		return ASTRA_CLI_EXIT_USAGE;
	}
	cmd = astra_cli_lookup (first);
	if (cmd == NULL) {
		astra_cli_error (NULL, "'%s' is not a command; run 'astra-alertctl --help' to list them", first);
		return ASTRA_CLI_EXIT_USAGE;
	}
	/* help dispatches to another command, which sets the program name */
	if (cmd->func == astra_cli_help)
		return astra_cli_help (cmd, argc - 1, argv + 1);
	return astra_cli_run (cmd, argc - 1, argv + 1);
}
