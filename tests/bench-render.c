/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What rendering costs: every built-in destination plugin renders each of
 * the seven event types (the fixtures of data/events/) many times on one
 * core; prints us per event and the largest body each produced.
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "astra-check-common.h"
#include "astra-discord-plugin.h"
#include "astra-generic-plugin.h"
#include "astra-pagerduty-plugin.h"
#include "astra-slack-plugin.h"
#include "astra-teams-plugin.h"

#define BENCH_ROUNDS 20000

typedef struct {
	const char *name;
	GType (*get_type) (void);
	const char *keys;
} BenchPlugin;

int
main (void)
{
	const BenchPlugin plugins[] = {
	    {"generic", astra_generic_plugin_get_type, "url = https://hooks.example.net/astra\n"},
	    {"slack", astra_slack_plugin_get_type,
	     "url = https://hooks.slack.com/services/T000/B000/XXXX\nmention = <!here>\n"
	     "dashboard-url = https://netmon.example.com/agents/{agent_id}\n"},
	    {"discord", astra_discord_plugin_get_type,
	     "url = https://discord.com/api/webhooks/1/xyz\ndashboard-url = https://netmon.example.com/agents/{agent_id}\n"},
	    {"teams", astra_teams_plugin_get_type,
	     "url = https://prod-00.westeurope.logic.azure.com/workflows/x\n"
	     "dashboard-url = https://netmon.example.com/agents/{agent_id}\n"},
	    {"pagerduty", astra_pagerduty_plugin_get_type,
	     "routing-key = R0123456789abcdefABCDEF012345678\nsend-info-events = true\n"},
	};
	AstraEvent *events[ASTRA_CHECK_N_EVENT_TYPES];

	/* check's helpers assert, which only works inside a test: load the fixtures plainly */
	for (guint i = 0; i < ASTRA_CHECK_N_EVENT_TYPES; i++) {
		g_autofree char *name = g_strdup_printf ("%s.json", astra_check_event_types[i]);
		g_autofree char *path = g_build_filename (g_getenv ("ASTRA_SOURCE_DIR"), "data", "events", name, NULL);
		g_autofree char *text = NULL;
		g_autoptr(GBytes) body = NULL;
		g_autoptr(GError) error = NULL;
		gsize len = 0;

		if (!g_file_get_contents (path, &text, &len, &error)) {
			g_printerr ("bench-render: %s\n", error->message);
			return EXIT_FAILURE;
		}
		body = g_bytes_new (text, len);
		events[i] = astra_event_new_from_body ("evt_01JFA3G2M8Q4X7ZKD5N0C6B1YR", body, &error);
		if (events[i] == NULL) {
			g_printerr ("bench-render: %s: %s\n", path, error->message);
			return EXIT_FAILURE;
		}
	}

	g_print ("render: us per event (one core), %u rounds of the 7 fixture events\n", BENCH_ROUNDS);
	g_print ("  %-10s %10s %16s\n", "plugin", "us/event", "largest body");
	for (guint p = 0; p < G_N_ELEMENTS (plugins); p++) {
		g_autoptr(GKeyFile) keyfile = g_key_file_new ();
		g_autoptr(AstraPlugin) plugin = g_object_new (plugins[p].get_type (), NULL);
		g_autoptr(GError) error = NULL;
		g_autofree char *text = g_strdup_printf ("[webhook bench]\n%s", plugins[p].keys);
		gsize largest = 0;
		gint64 start;
		double us;

		if (!g_key_file_load_from_data (keyfile, text, (gsize) -1, G_KEY_FILE_NONE, &error) ||
		    !astra_plugin_configure (plugin, keyfile, "webhook bench", &error)) {
			g_printerr ("bench-render: %s: %s\n", plugins[p].name, error->message);
			return EXIT_FAILURE;
		}
		start = g_get_monotonic_time ();
		for (guint r = 0; r < BENCH_ROUNDS; r++) {
			for (guint i = 0; i < ASTRA_CHECK_N_EVENT_TYPES; i++) {
				g_autoptr(AstraRequest) request = astra_request_new ();
				if (!astra_plugin_render (plugin, events[i], request, NULL))
					continue;
				largest = MAX (largest, g_bytes_get_size (astra_request_get_body (request)));
			}
		}
		us = (double) (g_get_monotonic_time () - start) / (BENCH_ROUNDS * ASTRA_CHECK_N_EVENT_TYPES);
		g_print ("  %-10s %10.2f %12" G_GSIZE_FORMAT " B\n", plugins[p].name, us, largest);
	}
	for (guint i = 0; i < ASTRA_CHECK_N_EVENT_TYPES; i++)
		g_object_unref (events[i]);
	return EXIT_SUCCESS;
}
