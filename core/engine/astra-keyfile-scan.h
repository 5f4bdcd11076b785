/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * The files admins edit are GKeyFiles, and GKeyFile forgets line numbers and
 * quietly accepts what is almost always a mistake: a key set twice (the last
 * wins), a group written twice (merged), a key before the first group. One
 * scan over the text finds every group and key with its line and reports
 * those, so every error can say FILE:LINE, for the daemon's config and
 * webhooks as for rules.
 */

typedef struct {
	char *key;         /* as written, "key" or "key[locale]" */
	guint line;
	gboolean repeated; /* set again in the same group: reported, the value GKeyFile keeps is the last */
} AstraKeyLine;

typedef struct {
	char *group; /* as written between [ and ] */
	guint line;
	GPtrArray *keys;    /* AstraKeyLine, in file order */
	gboolean redefined; /* a second [GROUP] in the file, which GKeyFile merges into this one */
} AstraGroupLines;

/* how problems are worded for a kind of file: e.g. "[rule NAME]" and "'warning' or 'no-data'" */
typedef struct {
	const char *group_example;
	const char *key_example;
} AstraKeyfileDialect;

/* a problem on LINE, in GROUP and at KEY when they apply (NULL otherwise) */
typedef void (*AstraKeyfileProblemFunc) (guint line,
					 const char *group,
					 const char *key,
					 const char *message,
					 gpointer user_data);

/* every group (AstraGroupLines, in file order) of TEXT; problems go to func */
GPtrArray *astra_keyfile_scan (const char *text,
			       const AstraKeyfileDialect *dialect,
			       AstraKeyfileProblemFunc func,
			       gpointer user_data);
AstraKeyLine *astra_group_lines_find_key (const AstraGroupLines *group, const char *key);
/* the line of KEY in the group, else of the group's header */
guint astra_group_lines_get_line (const AstraGroupLines *group, const char *key);

G_END_DECLS
