/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * astra-alertctl: the command table, the global options and the parsing that
 * every command shares.
 */

#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "astra.h"
#include "astra-cli.h"

static int astra_cli_help (const AstraCliCommand *cmd, int argc, char **argv);

/* in the order `astra-alertctl --help` lists them */
static const AstraCliCommand astra_cli_commands[] = {
    {"status", NULL, "Show the daemon's version, configuration and counts", astra_cli_status},
    {"plugins", NULL, "List the plugin modules and whether they loaded", astra_cli_plugins},
    {"webhooks", NULL, "List the webhooks, their health and queues", astra_cli_webhooks},
    {"rules", NULL, "List the alert rules", astra_cli_rules},
    {"alerts", NULL, "List the pending and firing alerts", astra_cli_alerts},
    {"agents", NULL, "List the agents that reported", astra_cli_agents},
    {"deliveries", NULL, "List recent deliveries, newest first", astra_cli_deliveries},
    {"silence", "add|list|remove", "Hold back deliveries of matching events for a while",
     astra_cli_silence},
    {"reload", NULL, "Reload the configuration, plugins' settings and rules", astra_cli_reload},
    {"enable", "WEBHOOK", "Re-enable a webhook the daemon disabled", astra_cli_enable},
    {"test", "WEBHOOK", "Send a sample event to a webhook now and show the answer", astra_cli_test},
    {"render", "WEBHOOK", "Show the exact request a webhook would send, without sending it",
     astra_cli_render},
    {"redeliver", "ID", "Send a delivery (e.g. a dead letter) again now", astra_cli_redeliver},
    {"push", "METRIC VALUE [LABEL=VALUE...]", "Add a metric sample, as if an agent had sent it",
     astra_cli_push},
    {"emit", "TYPE", "Inject an event of TYPE and route it to the webhooks that want it", astra_cli_emit},
    {"monitor", NULL, "Print events, alert changes and failed deliveries as they happen",
     astra_cli_monitor},
    {"listen", NULL, "Receive webhooks on this machine, verify their signatures and print them",
     astra_cli_listen, ASTRA_CLI_COMMAND_FLAG_LOCAL},
    {"help", "[COMMAND]", "Show the help of a command", astra_cli_help, ASTRA_CLI_COMMAND_FLAG_LOCAL},
};

static AstraCliGlobal astra_cli_global = {0};

/**
 * astra_cli_get_global:
 *
 * Returns: (transfer none): the global options, set by the parsing of the
 *   arguments before and after the command's name
 */
AstraCliGlobal *
astra_cli_get_global (void)
{
	return &astra_cli_global;
}

static const AstraCliCommand *
astra_cli_lookup (const char *name)
{
	for (gsize i = 0; i < G_N_ELEMENTS (astra_cli_commands); i++) {
		if (g_strcmp0 (astra_cli_commands[i].name, name) == 0)
			return &astra_cli_commands[i];
	}
	return NULL;
}

static char *
astra_cli_command_label (const AstraCliCommand *cmd)
{
	if (cmd->args == NULL)
		return g_strdup (cmd->name);
	return g_strdup_printf ("%s %s", cmd->name, cmd->args);
}

static void
astra_cli_print_help (void)
{
	g_autoptr(GString) str = g_string_new (NULL);
	gsize width = 0;

	for (gsize i = 0; i < G_N_ELEMENTS (astra_cli_commands); i++) {
		g_autofree char *label = astra_cli_command_label (&astra_cli_commands[i]);
		width = MAX (width, strlen (label));
	}

	g_string_append (str,
			 "Usage:\n"
			 "  astra-alertctl [--system|--session] [--json] COMMAND [OPTION...]\n"
			 "\n"
			 "Control astra-alertd over D-Bus and test webhook receivers.\n"
			 "\n"
			 "Commands:\n");
	for (gsize i = 0; i < G_N_ELEMENTS (astra_cli_commands); i++) {
		g_autofree char *label = astra_cli_command_label (&astra_cli_commands[i]);
		g_string_append_printf (str, "  %-*s  %s\n", (int) width, label, astra_cli_commands[i].summary);
	}
	g_string_append (str,
			 "\n"
			 "Options (before or after the command):\n"
			 "  --json         Print one JSON document for scripts instead of tables\n"
			 "  --system       Talk to astra-alertd on the system bus (the default)\n"
			 "  --session      Talk to astra-alertd on the session bus\n"
			 "  -h, --help     Show this help, or a command's with COMMAND --help\n"
			 "  --version      Show the version\n"
			 "\n"
			 "Run 'astra-alertctl COMMAND --help' for the options of a command, e.g.\n"
			 "  astra-alertctl deliveries --help\n"
			 "\n"
			 "Environment:\n"
			 "  ASTRA_ALERTCTL_BUS  'system' or 'session': the bus when neither option is given\n"
			 "  NO_COLOR            set and not empty: no colour, even on a terminal\n"
			 "\n"
			 "Exit status: 0 success, 1 error (the daemon refused or failed), 2 usage error,\n"
			 "3 daemon not reachable.\n");
	fputs (str->str, stdout);
}

/**
 * astra_cli_error:
 * @cmd: (nullable): the command that failed
 * @format: printf-style format of one line, saying what to do
 * @...: arguments
 *
 * Prints `astra-alertctl [COMMAND]: MESSAGE` on stderr. The lines after the
 * first of a message that has several are indented.
 */
void
astra_cli_error (const AstraCliCommand *cmd, const char *format, ...)
{
	g_autofree char *msg = NULL;
	g_autoptr(GString) str = g_string_new ("astra-alertctl");
	va_list args;

	va_start (args, format);
	msg = g_strdup_vprintf (format, args);
	va_end (args);
	if (cmd != NULL)
		g_string_append_printf (str, " %s", cmd->name);
	g_string_append (str, ": ");
	g_string_append (str, g_strchomp (msg));
	g_string_replace (str, "\n", "\n  ", 0);
	g_printerr ("%s\n", str->str);
}

/**
 * astra_cli_usage:
 * @cmd: the command
 * @format: printf-style format of what is wrong
 * @...: arguments
 *
 * Prints a usage error as one line that ends with where to read the usage.
 *
 * Returns: %ASTRA_CLI_EXIT_USAGE
 */
int
astra_cli_usage (const AstraCliCommand *cmd, const char *format, ...)
{
	g_autofree char *msg = NULL;
	va_list args;

	va_start (args, format);
	msg = g_strdup_vprintf (format, args);
	va_end (args);
	astra_cli_error (cmd, "%s; try 'astra-alertctl %s --help'", msg, cmd->name);
	return ASTRA_CLI_EXIT_USAGE;
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
	GOptionContext *context = g_option_context_new (cmd->args);

	g_option_context_set_summary (context, cmd->summary);
	if (description != NULL)
		g_option_context_set_description (context, description);
	return context;
}

static gboolean
astra_cli_is_number (const char *text)
{
	char *end = NULL;

	if (text[0] == '\0' || g_ascii_isspace (text[0]))
		return FALSE;
	g_ascii_strtod (text, &end);
	return end != NULL && *end == '\0';
}

/* after the command's own, so they are listed last */
static void
astra_cli_add_global_entries (const AstraCliCommand *cmd, GOptionContext *context)
{
	const GOptionEntry bus_entries[] = {
	    {"json", 0, 0, G_OPTION_ARG_NONE, &astra_cli_global.json,
	     "Print one JSON document for scripts instead of tables", NULL},
	    {"system", 0, 0, G_OPTION_ARG_NONE, &astra_cli_global.system,
	     "Talk to astra-alertd on the system bus (the default)", NULL},
	    {"session", 0, 0, G_OPTION_ARG_NONE, &astra_cli_global.session,
	     "Talk to astra-alertd on the session bus", NULL},
	    {NULL},
	};
	/* accepted wherever they are, so a script can always pass them */
	const GOptionEntry local_entries[] = {
	    {"system", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &astra_cli_global.system, NULL, NULL},
	    {"session", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &astra_cli_global.session, NULL, NULL},
	    {NULL},
	};

	g_option_context_add_main_entries (context,
					   (cmd->flags & ASTRA_CLI_COMMAND_FLAG_LOCAL) ? local_entries
										     : bus_entries,
					   NULL);
}

/**
 * astra_cli_parse_args:
 * @cmd: the command
 * @context: its option context
 * @argc: (inout): the argument count
 * @argv: (inout): the arguments, argv[0] being the command
 * @min_args: how many positional arguments there must be
 * @max_args: how many there may be (%G_MAXUINT: any number)
 *
 * Parses the options of @cmd and the global ones; `--help` prints the help
 * and exits 0. The positional arguments are left in @argv[1..].
 *
 * Returns: %TRUE on success; %FALSE after printing the error (exit with
 *   %ASTRA_CLI_EXIT_USAGE)
 */
gboolean
astra_cli_parse_args (const AstraCliCommand *cmd,
		      GOptionContext *context,
		      int *argc,
		      char ***argv,
		      guint min_args,
		      guint max_args)
{
	g_autoptr(GError) error_local = NULL;
	guint n_args;

	astra_cli_add_global_entries (cmd, context);
	if (!g_option_context_parse (context, argc, argv, &error_local)) {
		astra_cli_usage (cmd, "%s", error_local->message);
		return FALSE;
	}
	/* the parser leaves "--" in; what follows it is positional whatever it looks like */
	for (int i = 1; i < *argc; i++) {
		if (g_strcmp0 ((*argv)[i], "--") == 0) {
			memmove (*argv + i, *argv + i + 1, sizeof (char *) * (gsize) (*argc - i));
			(*argc)--;
			break;
		}
		/* with unknown options ignored (for negative numbers), the others are still errors */
		if (g_option_context_get_ignore_unknown_options (context) && (*argv)[i][0] == '-' &&
		    !astra_cli_is_number ((*argv)[i])) {
			astra_cli_usage (cmd, "Unknown option %s", (*argv)[i]);
			return FALSE;
		}
	}
	n_args = *argc > 0 ? (guint) (*argc - 1) : 0;
	if (n_args < min_args) {
		astra_cli_usage (cmd, "expects %s", cmd->args);
		return FALSE;
	}
	if (n_args > max_args) {
		astra_cli_usage (cmd, "unexpected argument '%s'", (*argv)[max_args + 1]);
		return FALSE;
	}
	return TRUE;
}

/**
 * astra_cli_parse_options:
 * @cmd: the command
 * @context: its option context
 * @argc: (inout): the argument count
 * @argv: (inout): the arguments, argv[0] being the command
 *
 * Like astra_cli_parse_args() for a command without positional arguments.
 *
 * Returns: %TRUE on success; %FALSE after printing the error
 */
gboolean
astra_cli_parse_options (const AstraCliCommand *cmd, GOptionContext *context, int *argc, char ***argv)
{
	return astra_cli_parse_args (cmd, context, argc, argv, 0, 0);
}

static int
astra_cli_run (const AstraCliCommand *cmd, int argc, char **argv)
{
	g_autofree char *prgname = g_strdup_printf ("astra-alertctl %s", cmd->name);
	g_autofree char **args = g_new0 (char *, argc + 1);

	/* the option parser's "Usage:" line then names the command */
	g_set_prgname (prgname);
	args[0] = prgname;
	for (int i = 1; i < argc; i++)
		args[i] = argv[i];
	/* the parser only reorders the array, never frees the strings */
	return cmd->func (cmd, argc, args);
}

/* --json, --system or --session before a command name; FALSE for anything else */
static gboolean
astra_cli_take_global (const char *arg)
{
	if (g_strcmp0 (arg, "--json") == 0)
		astra_cli_global.json = TRUE;
	else if (g_strcmp0 (arg, "--system") == 0)
		astra_cli_global.system = TRUE;
	else if (g_strcmp0 (arg, "--session") == 0)
		astra_cli_global.session = TRUE;
	else
		return FALSE;
	return TRUE;
}

static gboolean
astra_cli_is_help (const char *arg)
{
	return g_strcmp0 (arg, "--help") == 0 || g_strcmp0 (arg, "-h") == 0 || g_strcmp0 (arg, "-?") == 0;
}

static void
astra_cli_print_subcommand_help (const AstraCliCommand *parent, const AstraCliCommand *subs, gsize n_subs)
{
	g_autoptr(GString) str = g_string_new (NULL);
	gsize width = 0;
	gsize skip = strlen (parent->name) + 1;

	for (gsize i = 0; i < n_subs; i++) {
		g_autofree char *label = astra_cli_command_label (&subs[i]);
		width = MAX (width, strlen (label) - skip);
	}
	g_string_append_printf (str, "Usage:\n  astra-alertctl %s COMMAND [OPTION...]\n\n%s\n\nCommands:\n",
				parent->name, parent->summary);
	for (gsize i = 0; i < n_subs; i++) {
		g_autofree char *label = astra_cli_command_label (&subs[i]);
		g_string_append_printf (str, "  %-*s  %s\n", (int) width, label + skip, subs[i].summary);
	}
	g_string_append_printf (str, "\nRun 'astra-alertctl %s COMMAND --help' for the options of a command.\n",
				parent->name);
	fputs (str->str, stdout);
}

/**
 * astra_cli_run_subcommand:
 * @parent: the command that has subcommands, e.g. `silence`
 * @subs: (array length=n_subs): its subcommands, named "PARENT SUB"
 * @n_subs: their number
 * @argc: the argument count
 * @argv: the arguments, argv[0] being @parent
 *
 * Runs the subcommand named by the first argument that is not a global
 * option; `--help` before it lists the subcommands.
 *
 * Returns: an #AstraCliExit
 */
int
astra_cli_run_subcommand (const AstraCliCommand *parent,
			  const AstraCliCommand *subs,
			  gsize n_subs,
			  int argc,
			  char **argv)
{
	g_autofree char *names = NULL;
	g_autoptr(GString) list = g_string_new (NULL);
	int i = 1;

	for (gsize j = 0; j < n_subs; j++) {
		if (j > 0)
			g_string_append (list, j + 1 == n_subs ? " or " : ", ");
		g_string_append (list, subs[j].name + strlen (parent->name) + 1);
	}
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (astra_cli_is_help (argv[i])) {
			astra_cli_print_subcommand_help (parent, subs, n_subs);
			return ASTRA_CLI_EXIT_OK;
		}
		if (!astra_cli_take_global (argv[i]))
			return astra_cli_usage (parent, "unknown option '%s' before %s", argv[i], list->str);
	}
	if (i >= argc)
		return astra_cli_usage (parent, "expects %s", list->str);
	for (gsize j = 0; j < n_subs; j++) {
		g_autofree char *name = g_strdup_printf ("%s %s", parent->name, argv[i]);
		if (g_strcmp0 (subs[j].name, name) == 0)
			return astra_cli_run (&subs[j], argc - i, argv + i);
	}
	return astra_cli_usage (parent, "'%s' is not a command of '%s'; use %s", argv[i], parent->name, list->str);
}

static int
astra_cli_help (const AstraCliCommand *cmd, int argc, char **argv)
{
	const AstraCliCommand *target;
	g_autofree char **args = NULL;

	if (argc < 2 || astra_cli_is_help (argv[1])) {
		astra_cli_print_help ();
		return ASTRA_CLI_EXIT_OK;
	}
	if (argc > 3) {
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
	/* `help silence add` is `silence add --help` */
	args = g_new0 (char *, argc + 1);
	for (int i = 1; i < argc; i++)
		args[i - 1] = argv[i];
	args[argc - 1] = (char *) "--help";
	return astra_cli_run (target, argc, args);
}

int
main (int argc, char **argv)
{
	const AstraCliCommand *cmd;
	int i = 1;

	setlocale (LC_ALL, "");
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (astra_cli_is_help (argv[i])) {
			astra_cli_print_help ();
			return ASTRA_CLI_EXIT_OK;
		}
		if (g_strcmp0 (argv[i], "--version") == 0) {
			g_print ("astra-alertctl %s\n", PACKAGE_VERSION);
			return ASTRA_CLI_EXIT_OK;
		}
		if (!astra_cli_take_global (argv[i])) {
			astra_cli_error (NULL,
					 "unknown option '%s'; the options of a command go after it, "
					 "e.g. 'astra-alertctl deliveries --state dead' (see 'astra-alertctl --help')",
					 argv[i]);
			return ASTRA_CLI_EXIT_USAGE;
		}
	}
	if (i >= argc) {
		astra_cli_error (NULL, "no command given; run 'astra-alertctl --help' to list the commands");
		return ASTRA_CLI_EXIT_USAGE;
	}
	cmd = astra_cli_lookup (argv[i]);
	if (cmd == NULL) {
		astra_cli_error (NULL, "'%s' is not a command; run 'astra-alertctl --help' to list them", argv[i]);
		return ASTRA_CLI_EXIT_USAGE;
	}
	/* help dispatches to another command, which sets the program name */
	if (cmd->func == astra_cli_help)
		return astra_cli_help (cmd, argc - i, argv + i);
	return astra_cli_run (cmd, argc - i, argv + i);
}
