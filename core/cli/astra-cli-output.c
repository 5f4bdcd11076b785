/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What astra-alertctl prints: tables sized to their content, times, colour
 * only on a terminal, and the daemon's answers as JSON.
 */

#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "astra.h"
#include "astra-cli.h"

/* times closer to now than this are shown as "5m ago" or "in 2h" */
#define ASTRA_CLI_RELATIVE_MAX_USEC (G_USEC_PER_SEC * G_GINT64_CONSTANT (86400))

/**
 * astra_cli_use_color:
 *
 * Returns: %TRUE when stdout is a terminal and colour is not turned off with
 *   NO_COLOR (https://no-color.org) or TERM=dumb
 */
gboolean
astra_cli_use_color (void)
{
	const char *no_color = g_getenv ("NO_COLOR");

	if (no_color != NULL && no_color[0] != '\0')
		return FALSE;
	if (g_strcmp0 (g_getenv ("TERM"), "dumb") == 0)
		return FALSE;
	return isatty (STDOUT_FILENO);
}

/**
 * astra_cli_is_invisible:
 * @c: a character
 *
 * Returns: %TRUE for what must be shown escaped though it is not below
 *   U+0020: DEL, the C1 controls (some terminals act on them) and the bidi
 *   controls (they reorder what is shown)
 */
gboolean
astra_cli_is_invisible (gunichar c)
{
	return c == 0x7f || (c >= 0x80 && c < 0xa0) || c == 0x061c || c == 0x200e || c == 0x200f ||
	       (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

/**
 * astra_cli_append_safe:
 * @out: where to append
 * @text: (nullable): text from the daemon, which may hold anything a sender put there
 * @newlines: keep newlines (and tabs) as they are
 *
 * Appends @text with control characters and invalid UTF-8 escaped, so that
 * nothing it holds can act on the terminal.
 */
void
astra_cli_append_safe (GString *out, const char *text, gboolean newlines)
{
	const char *p = text;

	if (text == NULL)
		return;
	while (*p != '\0') {
		gunichar c = g_utf8_get_char_validated (p, -1);

		if (c == (gunichar) -1 || c == (gunichar) -2) {
			g_string_append_printf (out, "\\x%02x", (guint) (guchar) *p);
			p++;
			continue;
		}
		if (newlines && (c == '\n' || c == '\t'))
			g_string_append_c (out, (char) c);
		else if (c == '\n')
			g_string_append (out, "\\n");
		else if (c == '\t')
			g_string_append (out, "\\t");
		else if (c == '\r')
			g_string_append (out, "\\r");
		else if (c < 0x20)
			g_string_append_printf (out, "\\x%02x", (guint) c);
		else if (astra_cli_is_invisible (c))
			g_string_append_printf (out, "\\u%04x", (guint) c);
		else
			g_string_append_len (out, p, g_utf8_next_char (p) - p);
		p = g_utf8_next_char (p);
	}
}

/* JSON */

static JsonNode *
astra_cli_dict_to_json (GVariant *value)
{
	g_autoptr(JsonObject) object = json_object_new ();
	GVariantIter iter;
	GVariant *entry;

	g_variant_iter_init (&iter, value);
	while ((entry = g_variant_iter_next_value (&iter)) != NULL) {
		g_autoptr(GVariant) key = g_variant_get_child_value (entry, 0);
		g_autoptr(GVariant) member = g_variant_get_child_value (entry, 1);
		g_autofree char *name = NULL;

		if (g_variant_is_of_type (key, G_VARIANT_TYPE_STRING) ||
		    g_variant_is_of_type (key, G_VARIANT_TYPE_OBJECT_PATH) ||
		    g_variant_is_of_type (key, G_VARIANT_TYPE_SIGNATURE))
			name = g_variant_dup_string (key, NULL);
		else
			name = g_variant_print (key, FALSE);
		json_object_set_member (object, name, astra_cli_variant_to_json (member));
		g_variant_unref (entry);
	}
	return json_node_init_object (json_node_alloc (), object);
}

static JsonNode *
astra_cli_children_to_json (GVariant *value)
{
	g_autoptr(JsonArray) array = json_array_new ();
	gsize n = g_variant_n_children (value);

	for (gsize i = 0; i < n; i++) {
		g_autoptr(GVariant) child = g_variant_get_child_value (value, i);
		json_array_add_element (array, astra_cli_variant_to_json (child));
	}
	return json_node_init_array (json_node_alloc (), array);
}

/**
 * astra_cli_variant_to_json:
 * @value: a #GVariant, e.g. an `aa{sv}` the daemon returned
 *
 * Converts @value to JSON faithfully: every integer type (the `x` times
 * included) to a JSON integer, `d` to a number (`null` if not finite),
 * strings to strings, variants to what they hold, dictionaries to objects
 * (keys in their order), other arrays and tuples to arrays, an empty maybe
 * to `null`.
 *
 * Returns: (transfer full): the JSON node
 */
JsonNode *
astra_cli_variant_to_json (GVariant *value)
{
	JsonNode *node = json_node_alloc ();

	switch (g_variant_classify (value)) {
	case G_VARIANT_CLASS_BOOLEAN:
		return json_node_init_boolean (node, g_variant_get_boolean (value));
	case G_VARIANT_CLASS_BYTE:
		return json_node_init_int (node, g_variant_get_byte (value));
	case G_VARIANT_CLASS_INT16:
		return json_node_init_int (node, g_variant_get_int16 (value));
	case G_VARIANT_CLASS_UINT16:
		return json_node_init_int (node, g_variant_get_uint16 (value));
	case G_VARIANT_CLASS_INT32:
		return json_node_init_int (node, g_variant_get_int32 (value));
	case G_VARIANT_CLASS_UINT32:
		return json_node_init_int (node, g_variant_get_uint32 (value));
	case G_VARIANT_CLASS_INT64:
		return json_node_init_int (node, g_variant_get_int64 (value));
	case G_VARIANT_CLASS_HANDLE:
		return json_node_init_int (node, g_variant_get_handle (value));
	case G_VARIANT_CLASS_UINT64: {
		guint64 v = g_variant_get_uint64 (value);
		if (v > (guint64) G_MAXINT64)
			return json_node_init_double (node, (double) v);
		return json_node_init_int (node, (gint64) v);
	}
	case G_VARIANT_CLASS_DOUBLE: {
		double v = g_variant_get_double (value);
		if (!isfinite (v))
			return json_node_init_null (node);
		return json_node_init_double (node, v);
	}
	case G_VARIANT_CLASS_STRING:
	case G_VARIANT_CLASS_OBJECT_PATH:
	case G_VARIANT_CLASS_SIGNATURE:
		return json_node_init_string (node, g_variant_get_string (value, NULL));
	case G_VARIANT_CLASS_VARIANT: {
		g_autoptr(GVariant) inner = g_variant_get_variant (value);
		json_node_unref (node);
		return astra_cli_variant_to_json (inner);
	}
	case G_VARIANT_CLASS_MAYBE: {
		g_autoptr(GVariant) inner = g_variant_get_maybe (value);
		if (inner == NULL)
			return json_node_init_null (node);
		json_node_unref (node);
		return astra_cli_variant_to_json (inner);
	}
	case G_VARIANT_CLASS_ARRAY:
		json_node_unref (node);
		if (g_variant_type_is_dict_entry (g_variant_type_element (g_variant_get_type (value))))
			return astra_cli_dict_to_json (value);
		return astra_cli_children_to_json (value);
	case G_VARIANT_CLASS_TUPLE:
	case G_VARIANT_CLASS_DICT_ENTRY:
	default:
		json_node_unref (node);
		return astra_cli_children_to_json (value);
	}
}

/**
 * astra_cli_print:
 * @cmd: the command printing
 * @str: what to print on stdout
 *
 * Returns: %ASTRA_CLI_EXIT_OK, or %ASTRA_CLI_EXIT_ERROR after saying that
 *   stdout could not be written
 */
int
astra_cli_print (const AstraCliCommand *cmd, GString *str)
{
	if (fwrite (str->str, 1, str->len, stdout) == str->len && fflush (stdout) == 0)
		return ASTRA_CLI_EXIT_OK;
	astra_cli_error (cmd, "cannot write to stdout: %s", g_strerror (errno));
	return ASTRA_CLI_EXIT_ERROR;
}

/**
 * astra_cli_print_json_node:
 * @cmd: the command printing
 * @node: the document
 *
 * Prints @node as canonical JSON (astra_json_serialize()) and a newline.
 *
 * Returns: an #AstraCliExit
 */
int
astra_cli_print_json_node (const AstraCliCommand *cmd, JsonNode *node)
{
	g_autoptr(GString) str = g_string_new (NULL);
	g_autoptr(GError) error_local = NULL;

	if (!astra_json_append (str, node, &error_local)) {
		astra_cli_error (cmd, "cannot write the daemon's answer as JSON: %s", error_local->message);
		return ASTRA_CLI_EXIT_ERROR;
	}
	g_string_append_c (str, '\n');
	return astra_cli_print (cmd, str);
}

/**
 * astra_cli_print_json:
 * @cmd: the command printing
 * @value: the daemon's answer
 *
 * Prints @value as one JSON document (astra_cli_variant_to_json()).
 *
 * Returns: an #AstraCliExit
 */
int
astra_cli_print_json (const AstraCliCommand *cmd, GVariant *value)
{
	g_autoptr(JsonNode) node = astra_cli_variant_to_json (value);
	return astra_cli_print_json_node (cmd, node);
}

/* times and numbers */

static char *
astra_cli_format_span (gint64 seconds)
{
	if (seconds < 60)
		return g_strdup_printf ("%" G_GINT64_FORMAT "s", seconds);
	if (seconds < 3600)
		return g_strdup_printf ("%" G_GINT64_FORMAT "m", seconds / 60);
	return g_strdup_printf ("%" G_GINT64_FORMAT "h", seconds / 3600);
}

/**
 * astra_cli_format_time:
 * @usec: a time in microseconds since the epoch; 0 or less: none
 * @now_usec: the time now, likewise
 *
 * Returns: (transfer full): "5m ago" or "in 2h" within a day of @now_usec,
 *   else the local time in RFC 3339, e.g. "2025-12-17T10:30:00+01:00"; "-"
 *   for none
 */
char *
astra_cli_format_time (gint64 usec, gint64 now_usec)
{
	g_autoptr(GDateTime) dt = NULL;
	gint64 diff = now_usec - usec;

	if (usec <= 0)
		return g_strdup ("-");
	if (diff >= 0 && diff < ASTRA_CLI_RELATIVE_MAX_USEC) {
		g_autofree char *span = NULL;
		if (diff < G_USEC_PER_SEC)
			return g_strdup ("just now");
		span = astra_cli_format_span (diff / G_USEC_PER_SEC);
		return g_strdup_printf ("%s ago", span);
	}
	if (diff < 0 && -diff < ASTRA_CLI_RELATIVE_MAX_USEC) {
		/* rounded up: a silence ending in 59.5 s is "in 60s", never "in 0s" */
		g_autofree char *span = astra_cli_format_span ((-diff + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC);
		return g_strdup_printf ("in %s", span);
	}
	dt = g_date_time_new_from_unix_local (usec / G_USEC_PER_SEC);
	if (dt == NULL)
		return g_strdup_printf ("%" G_GINT64_FORMAT, usec);
	return g_date_time_format (dt, "%Y-%m-%dT%H:%M:%S%:z");
}

/**
 * astra_cli_format_duration:
 * @seconds: a duration
 *
 * Returns: (transfer full): e.g. "90s", "5m", "1h30m", "2d"
 */
char *
astra_cli_format_duration (guint64 seconds)
{
	g_autoptr(GString) str = g_string_new (NULL);
	const struct {
		guint64 size;
		char unit;
	} units[] = { { 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' } };

	if (seconds == 0)
		return g_strdup ("0s");
	for (gsize i = 0; i < G_N_ELEMENTS (units); i++) {
		if (seconds >= units[i].size) {
			g_string_append_printf (str, "%" G_GUINT64_FORMAT "%c", seconds / units[i].size,
						units[i].unit);
			seconds %= units[i].size;
		}
	}
	return g_string_free (g_steal_pointer (&str), FALSE);
}

/**
 * astra_cli_format_number:
 * @value: a number
 *
 * Returns: (transfer full): @value as JavaScript prints it ("0.1", "97.5", "3")
 */
char *
astra_cli_format_number (double value)
{
	GString *str = g_string_new (NULL);

	if (!isfinite (value))
		g_string_append (str, isnan (value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity");
	else
		astra_json_format_number (str, value);
	return g_string_free (str, FALSE);
}

/* a{sv} look-ups that tolerate missing keys and other integer widths */

/**
 * astra_cli_lookup_string:
 * @dict: an `a{sv}`
 * @key: a key
 *
 * Returns: (transfer none) (nullable): the string, owned by @dict; %NULL if
 *   @key is missing or not a string
 */
const char *
astra_cli_lookup_string (GVariant *dict, const char *key)
{
	const char *value = NULL;

	if (!g_variant_lookup (dict, key, "&s", &value))
		return NULL;
	return value;
}

/**
 * astra_cli_lookup_int:
 * @dict: an `a{sv}`
 * @key: a key
 * @value: (out): its value
 *
 * Returns: %TRUE if @key holds an integer of any width
 */
gboolean
astra_cli_lookup_int (GVariant *dict, const char *key, gint64 *value)
{
	g_autoptr(GVariant) v = g_variant_lookup_value (dict, key, NULL);

	if (v == NULL)
		return FALSE;
	switch (g_variant_classify (v)) {
	case G_VARIANT_CLASS_BYTE:
		*value = g_variant_get_byte (v);
		return TRUE;
	case G_VARIANT_CLASS_INT16:
		*value = g_variant_get_int16 (v);
		return TRUE;
	case G_VARIANT_CLASS_UINT16:
		*value = g_variant_get_uint16 (v);
		return TRUE;
	case G_VARIANT_CLASS_INT32:
		*value = g_variant_get_int32 (v);
		return TRUE;
	case G_VARIANT_CLASS_UINT32:
		*value = g_variant_get_uint32 (v);
		return TRUE;
	case G_VARIANT_CLASS_INT64:
		*value = g_variant_get_int64 (v);
		return TRUE;
	case G_VARIANT_CLASS_UINT64:
		*value = (gint64) MIN (g_variant_get_uint64 (v), (guint64) G_MAXINT64);
		return TRUE;
	default:
		return FALSE;
	}
}

/**
 * astra_cli_lookup_double:
 * @dict: an `a{sv}`
 * @key: a key
 * @value: (out): its value
 *
 * Returns: %TRUE if @key holds a number
 */
gboolean
astra_cli_lookup_double (GVariant *dict, const char *key, double *value)
{
	gint64 i = 0;

	if (g_variant_lookup (dict, key, "d", value))
		return TRUE;
	if (!astra_cli_lookup_int (dict, key, &i))
		return FALSE;
	*value = (double) i;
	return TRUE;
}

/**
 * astra_cli_lookup_bool:
 * @dict: an `a{sv}`
 * @key: a key
 * @value: (out): its value
 *
 * Returns: %TRUE if @key holds a boolean
 */
gboolean
astra_cli_lookup_bool (GVariant *dict, const char *key, gboolean *value)
{
	return g_variant_lookup (dict, key, "b", value);
}

/**
 * astra_cli_lookup_int_string:
 * @dict: an `a{sv}`
 * @key: a key
 *
 * Returns: (transfer full): the integer @key holds in decimal, or "-"
 */
char *
astra_cli_lookup_int_string (GVariant *dict, const char *key)
{
	gint64 value = 0;

	if (!astra_cli_lookup_int (dict, key, &value))
		return g_strdup ("-");
	return g_strdup_printf ("%" G_GINT64_FORMAT, value);
}

/**
 * astra_cli_lookup_joined:
 * @dict: an `a{sv}`
 * @key: a key holding an `as` or an `a{ss}`
 * @separator: what goes between two items
 *
 * Returns: (transfer full): the strings joined ("a,b"), a dictionary as
 *   "k=v" items in the order sent; "" if @key is missing or empty
 */
char *
astra_cli_lookup_joined (GVariant *dict, const char *key, const char *separator)
{
	g_autoptr(GVariant) v = g_variant_lookup_value (dict, key, NULL);
	g_autoptr(GString) str = g_string_new (NULL);
	GVariantIter iter;

	if (v == NULL)
		return g_strdup ("");
	if (g_variant_is_of_type (v, G_VARIANT_TYPE_STRING_ARRAY)) {
		const char *item;
		g_variant_iter_init (&iter, v);
		while (g_variant_iter_next (&iter, "&s", &item)) {
			if (str->len > 0)
				g_string_append (str, separator);
			g_string_append (str, item);
		}
	} else if (g_variant_is_of_type (v, G_VARIANT_TYPE ("a{ss}"))) {
		const char *name;
		const char *value;
		g_variant_iter_init (&iter, v);
		while (g_variant_iter_next (&iter, "{&s&s}", &name, &value)) {
			if (str->len > 0)
				g_string_append (str, separator);
			g_string_append_printf (str, "%s=%s", name, value);
		}
	}
	return g_string_free (g_steal_pointer (&str), FALSE);
}

/* tables */

typedef struct {
	char *text;  /* made safe for the terminal */
	char *color; /* NULL: none */
} AstraCliCell;

struct _AstraCliTable {
	GPtrArray *headers; /* of char * */
	GArray *right;      /* of gboolean, per column */
	GPtrArray *rows;    /* of GPtrArray of AstraCliCell */
};

static void
astra_cli_cell_free (AstraCliCell *cell)
{
	g_free (cell->text);
	g_free (cell->color);
	g_free (cell);
}

/**
 * astra_cli_table_new:
 * @first_header: (nullable): the first column's header; %NULL: no header row
 * @...: the others, then %NULL
 *
 * Returns: (transfer full): a table whose columns are as wide as their
 *   widest cell
 */
AstraCliTable *
astra_cli_table_new (const char *first_header, ...)
{
	AstraCliTable *self = g_new0 (AstraCliTable, 1);
	va_list args;

	self->headers = g_ptr_array_new_with_free_func (g_free);
	self->right = g_array_new (FALSE, TRUE, sizeof (gboolean));
	self->rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
	va_start (args, first_header);
	for (const char *h = first_header; h != NULL; h = va_arg (args, const char *))
		g_ptr_array_add (self->headers, g_strdup (h));
	va_end (args);
	return self;
}

void
astra_cli_table_free (AstraCliTable *self)
{
	g_ptr_array_unref (self->headers);
	g_array_unref (self->right);
	g_ptr_array_unref (self->rows);
	g_free (self);
}

/* numbers line up on the right */
void
astra_cli_table_set_right (AstraCliTable *self, guint column)
{
	gboolean yes = TRUE;

	if (column >= self->right->len)
		g_array_set_size (self->right, column + 1);
	g_array_index (self->right, gboolean, column) = yes;
}

void
astra_cli_table_add_row (AstraCliTable *self)
{
	g_ptr_array_add (self->rows, g_ptr_array_new_with_free_func ((GDestroyNotify) astra_cli_cell_free));
}

/* a cell in the last row; @color is used only on a terminal */
void
astra_cli_table_add (AstraCliTable *self, const char *color, const char *text)
{
	GPtrArray *row = g_ptr_array_index (self->rows, self->rows->len - 1);
	AstraCliCell *cell = g_new0 (AstraCliCell, 1);
	GString *safe = g_string_new (NULL);

	astra_cli_append_safe (safe, text != NULL && text[0] != '\0' ? text : "-", FALSE);
	cell->text = g_string_free (safe, FALSE);
	cell->color = g_strdup (color);
	g_ptr_array_add (row, cell);
}

void
astra_cli_table_add_printf (AstraCliTable *self, const char *color, const char *format, ...)
{
	g_autofree char *text = NULL;
	va_list args;

	va_start (args, format);
	text = g_strdup_vprintf (format, args);
	va_end (args);
	astra_cli_table_add (self, color, text);
}

static gsize
astra_cli_width (const char *text)
{
	return (gsize) g_utf8_strlen (text, -1);
}

static void
astra_cli_table_append_line (AstraCliTable *self,
			     GString *out,
			     GPtrArray *cells,
			     const gsize *widths,
			     gsize n_columns,
			     gboolean color,
			     const char *line_color)
{
	gsize start = out->len;

	for (gsize c = 0; c < cells->len && c < n_columns; c++) {
		AstraCliCell *cell = g_ptr_array_index (cells, c);
		gsize pad = widths[c] - astra_cli_width (cell->text);
		gboolean right = c < self->right->len && g_array_index (self->right, gboolean, c);
		const char *cell_color = line_color != NULL ? line_color : cell->color;
		gboolean last = c + 1 == cells->len;

		if (c > 0)
			g_string_append (out, "  ");
		if (right)
			g_string_append_printf (out, "%*s", (int) pad, "");
		if (color && cell_color != NULL)
			g_string_append_printf (out, "%s%s%s", cell_color, cell->text, ASTRA_CLI_COLOR_RESET);
		else
			g_string_append (out, cell->text);
		if (!right && !last)
			g_string_append_printf (out, "%*s", (int) pad, "");
	}
	/* no trailing blanks */
	while (out->len > start && out->str[out->len - 1] == ' ')
		g_string_truncate (out, out->len - 1);
	g_string_append_c (out, '\n');
}

/**
 * astra_cli_table_append:
 * @self: the table
 * @out: where to append it
 * @color: colour the header and the cells that have one
 */
void
astra_cli_table_append (AstraCliTable *self, GString *out, gboolean color)
{
	gsize n_columns = self->headers->len;
	g_autofree gsize *widths = NULL;

	for (guint r = 0; r < self->rows->len; r++) {
		GPtrArray *row = g_ptr_array_index (self->rows, r);
		n_columns = MAX (n_columns, row->len);
	}
	widths = g_new0 (gsize, n_columns);
	for (guint c = 0; c < self->headers->len; c++)
		widths[c] = astra_cli_width (g_ptr_array_index (self->headers, c));
	for (guint r = 0; r < self->rows->len; r++) {
		GPtrArray *row = g_ptr_array_index (self->rows, r);
		for (guint c = 0; c < row->len; c++) {
			AstraCliCell *cell = g_ptr_array_index (row, c);
			widths[c] = MAX (widths[c], astra_cli_width (cell->text));
		}
	}
	if (self->headers->len > 0) {
		g_autoptr(GPtrArray) cells =
			       g_ptr_array_new_with_free_func ((GDestroyNotify) astra_cli_cell_free);
		for (guint c = 0; c < self->headers->len; c++) {
			AstraCliCell *cell = g_new0 (AstraCliCell, 1);
			cell->text = g_strdup (g_ptr_array_index (self->headers, c));
			g_ptr_array_add (cells, cell);
		}
		astra_cli_table_append_line (self, out, cells, widths, n_columns, color,
					     ASTRA_CLI_COLOR_BOLD);
	}
	for (guint r = 0; r < self->rows->len; r++)
		astra_cli_table_append_line (self, out, g_ptr_array_index (self->rows, r), widths, n_columns,
					     color, NULL);
}

/**
 * astra_cli_state_color:
 * @state: (nullable): a state, outcome or severity the daemon reported
 *
 * Returns: (nullable): the colour it is shown in on a terminal: red for what
 *   needs attention, amber for what is waiting, green for what is well
 */
const char *
astra_cli_state_color (const char *state)
{
	const char *const red[] = { "firing", "dead",     "refused", "offline",  "open", "failed",
				    "gone",   "critical", "error",   "disabled", NULL };
	const char *const amber[] = {
		"pending", "half-open", "retry", "warning", "skipped", "silenced", NULL
	};
	const char *const green[] = {
		"loaded", "online", "delivered", "closed", "enabled", "resolved", NULL
	};

	if (state == NULL)
		return NULL;
	if (g_strv_contains (red, state))
		return ASTRA_CLI_COLOR_RED;
	if (g_strv_contains (amber, state))
		return ASTRA_CLI_COLOR_AMBER;
	if (g_strv_contains (green, state))
		return ASTRA_CLI_COLOR_GREEN;
	return NULL;
}
