/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "astra-keyfile-scan.h"

static gboolean
astra_keyfile_key_name_is_valid (const char *key)
{
	const char *p = key;

	while (g_ascii_isalnum (*p) || *p == '-' || *p == '_' || *p == '.')
		p++;
	if (p == key)
		return FALSE;
	if (*p == '\0')
		return TRUE;
	if (*p++ != '[')
		return FALSE;
	if (*p == ']')
		return FALSE;
	while (g_ascii_isalnum (*p) || strchr ("-_.@", *p) != NULL)
		p++;
	return p[0] == ']' && p[1] == '\0';
}

static void
astra_group_lines_free (AstraGroupLines *group)
{
	g_free (group->group);
	g_ptr_array_unref (group->keys);
	g_free (group);
}

static void
astra_key_line_free (AstraKeyLine *kl)
{
	g_free (kl->key);
	g_free (kl);
}

AstraKeyLine *
astra_group_lines_find_key (const AstraGroupLines *group, const char *key)
{
	for (guint i = 0; i < group->keys->len; i++) {
		AstraKeyLine *kl = g_ptr_array_index (group->keys, i);
		if (g_strcmp0 (kl->key, key) == 0)
			return kl;
	}
	return NULL;
}

/* the line of KEY in the group, else of the group's header */
guint
astra_group_lines_get_line (const AstraGroupLines *group, const char *key)
{
	AstraKeyLine *kl = astra_group_lines_find_key (group, key);
	return kl != NULL ? kl->line : group->line;
}

static gboolean
astra_keyfile_group_name_is_valid (const char *group)
{
	if (group[0] == '\0')
		return FALSE;
	for (const char *p = group; *p != '\0'; p++) {
		if (*p == '[' || *p == ']' || g_ascii_iscntrl (*p))
			return FALSE;
	}
	return TRUE;
}

/* every group and key with its line; reports what GKeyFile would refuse or silently take */
GPtrArray *
astra_keyfile_scan (const char *text,
		    const AstraKeyfileDialect *dialect,
		    AstraKeyfileProblemFunc func,
		    gpointer user_data)
{
	g_autoptr(GPtrArray) groups =
		       g_ptr_array_new_with_free_func ((GDestroyNotify) astra_group_lines_free);
	g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
	/* group name -> its first AstraGroupLines: files with thousands of rules stay linear */
	g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
	AstraGroupLines *current = NULL;
	gboolean skipping = FALSE;

	for (guint i = 0; lines[i] != NULL; i++) {
		guint lineno = i + 1;
		char *line = g_strstrip (lines[i]);
		const char *eq;
		g_autofree char *key = NULL;
		AstraKeyLine *kl;

		if (line[0] == '\0' || line[0] == '#')
			continue;
		if (line[0] == '[') {
			const char *end = strchr (line, ']');
			g_autofree char *group = NULL;
			AstraGroupLines *first = NULL;

			if (end != NULL)
				group = g_strndup (line + 1, (gsize) (end - line - 1));
			if (end == NULL || end[1] != '\0' || !astra_keyfile_group_name_is_valid (group)) {
				g_autofree char *msg = g_strdup_printf (
				    "'%s' is not a group header: expected %s alone on its line", line,
				    dialect->group_example);
				func (lineno, NULL, NULL, msg, user_data);
				current = NULL;
				skipping = TRUE;
				continue;
			}
			first = g_hash_table_lookup (seen, group);
			if (first != NULL) {
				g_autofree char *msg = g_strdup_printf (
				    "defined again (first defined on line %u); keep one", first->line);
				func (lineno, group, NULL, msg, user_data);
				first->redefined = TRUE;
				current = NULL;
				skipping = TRUE;
				continue;
			}
			current = g_new0 (AstraGroupLines, 1);
			current->group = g_steal_pointer (&group);
			current->line = lineno;
			current->keys =
			    g_ptr_array_new_with_free_func ((GDestroyNotify) astra_key_line_free);
			g_ptr_array_add (groups, current);
			g_hash_table_insert (seen, current->group, current);
			skipping = FALSE;
			continue;
		}
		eq = strchr (line, '=');
		if (eq == NULL || eq == line) {
			g_autofree char *msg = g_strdup_printf (
			    "'%s' is not a KEY = VALUE line, a %s header or a # comment", line,
			    dialect->group_example);
			func (lineno, NULL, NULL, msg, user_data);
			continue;
		}
		key = g_strchomp (g_strndup (line, (gsize) (eq - line)));
		if (skipping)
			continue;
		if (current == NULL) {
			g_autofree char *msg = g_strdup_printf ("set before the first %s group",
								dialect->group_example);
			func (lineno, NULL, key, msg, user_data);
			continue;
		}
		if (!astra_keyfile_key_name_is_valid (key)) {
			g_autofree char *msg = g_strdup_printf (
			    "'%s' is not a key name: keys are words such as %s", key, dialect->key_example);
			func (lineno, current->group, NULL, msg, user_data);
			continue;
		}
		kl = astra_group_lines_find_key (current, key);
		if (kl != NULL) {
			g_autofree char *msg = g_strdup_printf ("set again (first set on line %u); keep one",
								kl->line);
			func (lineno, current->group, key, msg, user_data);
			kl->repeated = TRUE;
			continue;
		}
		kl = g_new0 (AstraKeyLine, 1);
		kl->key = g_steal_pointer (&key);
		kl->line = lineno;
		g_ptr_array_add (current->keys, kl);
	}
	return g_steal_pointer (&groups);
}

