/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What every chat and paging plugin says about an event, decided once so
 * Slack, Discord, Teams and PagerDuty tell people on call the same thing:
 * a title that says what happened, a tone (colour) by state, the fields that
 * matter, the event time, a stable key per problem, and the text helpers
 * that keep any input within a destination's limits. Private to the
 * built-in plugins (a static library), not part of the SDK.
 */

#pragma once

#include <astra.h>

G_BEGIN_DECLS

typedef enum {
	ASTRA_EVENT_TONE_PROBLEM,  /* red: offline, critical, failed */
	ASTRA_EVENT_TONE_WARNING,  /* amber */
	ASTRA_EVENT_TONE_RECOVERY, /* green: online, resolved */
	ASTRA_EVENT_TONE_INFO,     /* blue: registered, speed test, traceroute */
} AstraEventTone;

typedef struct {
	const char *name; /* "Agent", "Hostname", "Value", ... */
	char *value;      /* display text, sanitized (no control characters but \n) */
	gboolean is_short; /* fits side by side with others */
} AstraViewField;

typedef struct {
	AstraEvent *event;
	AstraEventTone tone;
	gboolean is_resolution; /* agent back online, alert resolved */
	char *title;            /* e.g. "Agent offline: server-01"; sanitized, one line, not truncated */
	char *text;             /* one line for notifications (today the title; formats add their own facts) */
	char *detail;           /* longer text (alert summary and description, service test error), may be NULL */
	GPtrArray *fields;      /* AstraViewField, in the order people read them */
	const char *timestamp;  /* the event's RFC 3339 time */
	const char *agent_id;   /* may be NULL (alerts without an agent) */
	const char *hostname;   /* may be NULL */
	char *dedup_key;        /* stable per problem, NULL for informational events */
} AstraEventView;

AstraEventView *astra_event_view_new (AstraEvent *event);
void astra_event_view_free (AstraEventView *view);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AstraEventView, astra_event_view_free)

/* 0xRRGGBB per tone: red E01E5A, amber ECB22E, green 2EB67D, blue 1D9BD1 */
guint32 astra_event_tone_rgb (AstraEventTone tone);
const char *astra_event_tone_to_string (AstraEventTone tone);

/* TEMPLATE with {field} placeholders from the event's data (and {event}, {id}, {timestamp})
 * replaced, URI-escaped as path/query text: for dashboard links. Unknown placeholders become "". */
char *astra_event_view_expand_template (AstraEventView *view, const char *template);

/* characters (code points) in valid UTF-8 */
gsize astra_utf8_length (const char *str);
/* STR cut to at most max_chars characters on a character boundary, ending in "…" when cut */
char *astra_utf8_truncate (const char *str, gsize max_chars);
/* STR with control characters (and invalid UTF-8) replaced: \n kept if keep_newlines, else a space */
char *astra_text_sanitize (const char *str, gboolean keep_newlines);

G_END_DECLS
