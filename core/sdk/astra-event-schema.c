/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "astra.h"

#include "astra-event-schema.h"

/*
 * The validator understands exactly the keywords below. Anything else in a
 * schema is an error when the schema is compiled, so a keyword added to
 * data/schemas/ can never be silently ignored: teach it here first.
 */

typedef enum {
	ASTRA_SCHEMA_TYPE_NULL = 1 << 0,
	ASTRA_SCHEMA_TYPE_BOOLEAN = 1 << 1,
	ASTRA_SCHEMA_TYPE_INTEGER = 1 << 2,
	ASTRA_SCHEMA_TYPE_NUMBER = 1 << 3,
	ASTRA_SCHEMA_TYPE_STRING = 1 << 4,
	ASTRA_SCHEMA_TYPE_ARRAY = 1 << 5,
	ASTRA_SCHEMA_TYPE_OBJECT = 1 << 6,
} AstraSchemaType;

static const struct {
	const char *name;
	AstraSchemaType type;
} astra_schema_type_names[] = {
    {"null", ASTRA_SCHEMA_TYPE_NULL},
    {"boolean", ASTRA_SCHEMA_TYPE_BOOLEAN},
    {"integer", ASTRA_SCHEMA_TYPE_INTEGER},
    {"number", ASTRA_SCHEMA_TYPE_NUMBER},
    {"string", ASTRA_SCHEMA_TYPE_STRING},
    {"array", ASTRA_SCHEMA_TYPE_ARRAY},
    {"object", ASTRA_SCHEMA_TYPE_OBJECT},
};

#define ASTRA_SCHEMA_DIALECT "https://json-schema.org/draft/2020-12/schema"

/* a compiled (sub)schema */
struct _AstraEventSchema {
	gboolean reject_all; /* the `false` schema */
	guint types;	     /* AstraSchemaType flags, 0 for any */
	char *types_desc;    /* e.g. "number or null", in the schema's order */
	GPtrArray *required; /* (element-type utf8) (nullable) */
	GHashTable *properties; /* (nullable): name -> AstraEventSchema */
	AstraEventSchema *additional; /* (nullable): anything goes */
	AstraEventSchema *items;      /* (nullable): anything goes */
	GPtrArray *enum_values;	      /* (element-type JsonNode) (nullable) */
	JsonNode *const_value;	      /* (nullable) */
	gboolean has_minimum;
	double minimum;
	gint64 min_length; /* -1 when unset */
	gint64 max_length; /* -1 when unset */
	gboolean date_time;
};

/* where a validator is in the instance; lives on the stack and is only
 * turned into text when there is an error to report */
typedef struct _AstraSchemaPath AstraSchemaPath;
struct _AstraSchemaPath {
	const AstraSchemaPath *parent;
	const char *name; /* member name, or the root name; NULL for an array element */
	guint index;
};

typedef struct {
	AstraEventSchema *schema; /* (nullable): NULL when the built-in schema is broken */
	GError *error;
} AstraSchemaCacheEntry;

static AstraSchemaCacheEntry *astra_schema_cache[ASTRA_EVENT_KIND_LAST];

void
astra_event_schema_free (AstraEventSchema *self)
{
	if (self == NULL)
		return;
	g_free (self->types_desc);
	g_clear_pointer (&self->required, g_ptr_array_unref);
	g_clear_pointer (&self->properties, g_hash_table_unref);
	g_clear_pointer (&self->additional, astra_event_schema_free);
	g_clear_pointer (&self->items, astra_event_schema_free);
	g_clear_pointer (&self->enum_values, g_ptr_array_unref);
	g_clear_pointer (&self->const_value, json_node_unref);
	g_free (self);
}

static AstraEventSchema *
astra_event_schema_new (void)
{
	AstraEventSchema *self = g_new0 (AstraEventSchema, 1);
	self->min_length = -1;
	self->max_length = -1;
	return self;
}

/* compiling */

static gboolean
astra_schema_node_is_number (JsonNode *node)
{
	GType type;

	if (!JSON_NODE_HOLDS_VALUE (node))
		return FALSE;
	type = json_node_get_value_type (node);
	if (type == G_TYPE_INT64)
		return TRUE;
	return type == G_TYPE_DOUBLE && isfinite (json_node_get_double (node));
}

static double
astra_schema_node_get_number (JsonNode *node)
{
	if (json_node_get_value_type (node) == G_TYPE_INT64)
		return (double) json_node_get_int (node);
	return json_node_get_double (node);
}

static gboolean
astra_schema_node_is_scalar (JsonNode *node)
{
	if (JSON_NODE_HOLDS_NULL (node))
		return TRUE;
	if (!JSON_NODE_HOLDS_VALUE (node))
		return FALSE;
	if (json_node_get_value_type (node) == G_TYPE_STRING)
		return json_node_get_string (node) != NULL;
	return json_node_get_value_type (node) == G_TYPE_BOOLEAN ||
	       astra_schema_node_is_number (node);
}

static const char *
astra_schema_node_get_string (JsonNode *node)
{
	if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
		return NULL;
	return json_node_get_string (node);
}

static gboolean
astra_schema_set_compile_error (GError **error, const char *where, const char *format, ...)
    G_GNUC_PRINTF (3, 4);

static gboolean
astra_schema_set_compile_error (GError **error, const char *where, const char *format, ...)
{
	va_list args;
	g_autoptr(GString) msg = g_string_new (NULL);

	if (where[0] != '\0')
		g_string_append_printf (msg, "%s: ", where);
	va_start (args, format);
	g_string_append_vprintf (msg, format, args);
	va_end (args);
	g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA, msg->str);
	return FALSE;
}

static char *
astra_schema_where (const char *where, const char *keyword, const char *name)
{
	return g_strdup_printf ("%s%s%s%s%s",
				where,
				where[0] != '\0' ? "." : "",
				keyword,
				name != NULL ? "." : "",
				name != NULL ? name : "");
}

static AstraEventSchema *
astra_schema_compile (JsonNode *node, const char *where, GError **error);

static gboolean
astra_schema_compile_type (AstraEventSchema *self,
			   JsonNode *value,
			   const char *where,
			   GError **error)
{
	g_autoptr(GPtrArray) names = g_ptr_array_new ();
	g_autoptr(GString) desc = g_string_new (NULL);

	if (JSON_NODE_HOLDS_ARRAY (value)) {
		JsonArray *array = json_node_get_array (value);
		for (guint i = 0; i < json_array_get_length (array); i++)
			g_ptr_array_add (names, json_array_get_element (array, i));
		if (names->len == 0)
			return astra_schema_set_compile_error (error, where, "\"type\" is an empty array");
	} else {
		g_ptr_array_add (names, value);
	}
	for (guint i = 0; i < names->len; i++) {
		const char *name = astra_schema_node_get_string (g_ptr_array_index (names, i));
		AstraSchemaType type = 0;

		if (name == NULL)
			return astra_schema_set_compile_error (error, where, "\"type\" must be a string or an array of strings");
		for (guint j = 0; j < G_N_ELEMENTS (astra_schema_type_names); j++) {
			if (g_strcmp0 (astra_schema_type_names[j].name, name) == 0)
				type = astra_schema_type_names[j].type;
		}
		if (type == 0)
			return astra_schema_set_compile_error (error, where, "unknown type \"%s\"", name);
		if (self->types & type)
			return astra_schema_set_compile_error (error, where, "type \"%s\" is listed twice", name);
		self->types |= type;
		if (i > 0)
			g_string_append (desc, i + 1 == names->len ? " or " : ", ");
		g_string_append (desc, name);
	}
	self->types_desc = g_string_free (g_steal_pointer (&desc), FALSE);
	return TRUE;
}

static gboolean
astra_schema_compile_required (AstraEventSchema *self,
			       JsonNode *value,
			       const char *where,
			       GError **error)
{
	JsonArray *array;

	if (!JSON_NODE_HOLDS_ARRAY (value))
		return astra_schema_set_compile_error (error, where, "\"required\" must be an array of strings");
	array = json_node_get_array (value);
	self->required = g_ptr_array_new_with_free_func (g_free);
	for (guint i = 0; i < json_array_get_length (array); i++) {
		const char *name = astra_schema_node_get_string (json_array_get_element (array, i));
		if (name == NULL)
			return astra_schema_set_compile_error (error, where, "\"required\" must be an array of strings");
		for (guint j = 0; j < self->required->len; j++) {
			if (g_strcmp0 (g_ptr_array_index (self->required, j), name) == 0)
				return astra_schema_set_compile_error (error, where, "\"%s\" is required twice", name);
		}
		g_ptr_array_add (self->required, g_strdup (name));
	}
	return TRUE;
}

static gboolean
astra_schema_compile_properties (AstraEventSchema *self,
				 JsonNode *value,
				 const char *where,
				 GError **error)
{
	JsonObjectIter iter;
	const char *name;
	JsonNode *member;

	if (!JSON_NODE_HOLDS_OBJECT (value))
		return astra_schema_set_compile_error (error, where, "\"properties\" must be an object");
	self->properties = g_hash_table_new_full (g_str_hash,
						  g_str_equal,
						  g_free,
						  (GDestroyNotify) astra_event_schema_free);
	json_object_iter_init_ordered (&iter, json_node_get_object (value));
	while (json_object_iter_next_ordered (&iter, &name, &member)) {
		g_autofree char *child_where = astra_schema_where (where, "properties", name);
		AstraEventSchema *child = astra_schema_compile (member, child_where, error);
		if (child == NULL)
			return FALSE;
		g_hash_table_insert (self->properties, g_strdup (name), child);
	}
	return TRUE;
}

static gboolean
astra_schema_compile_enum (AstraEventSchema *self,
			   JsonNode *value,
			   const char *where,
			   GError **error)
{
	JsonArray *array;

	if (!JSON_NODE_HOLDS_ARRAY (value) || json_array_get_length (json_node_get_array (value)) == 0)
		return astra_schema_set_compile_error (error, where, "\"enum\" must be a non-empty array");
	array = json_node_get_array (value);
	self->enum_values = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
	for (guint i = 0; i < json_array_get_length (array); i++) {
		JsonNode *element = json_array_get_element (array, i);
		/* comparing objects and arrays is not needed by any schema yet */
		if (!astra_schema_node_is_scalar (element))
			return astra_schema_set_compile_error (error, where, "\"enum\" values must be strings, numbers, booleans or null");
		g_ptr_array_add (self->enum_values, json_node_copy (element));
	}
	return TRUE;
}

static gboolean
astra_schema_compile_length (gint64 *out,
			     const char *keyword,
			     JsonNode *value,
			     const char *where,
			     GError **error)
{
	double number;

	if (!astra_schema_node_is_number (value))
		return astra_schema_set_compile_error (error, where, "\"%s\" must be a non-negative integer", keyword);
	number = astra_schema_node_get_number (value);
	if (number < 0 || number != floor (number) || number > G_MAXINT32)
		return astra_schema_set_compile_error (error, where, "\"%s\" must be a non-negative integer", keyword);
	*out = (gint64) number;
	return TRUE;
}

static gboolean
astra_schema_compile_keyword (AstraEventSchema *self,
			      const char *keyword,
			      JsonNode *value,
			      const char *where,
			      GError **error)
{
	/* annotations: the validator ignores them on purpose */
	if (g_strcmp0 (keyword, "$id") == 0 || g_strcmp0 (keyword, "title") == 0 ||
	    g_strcmp0 (keyword, "description") == 0 || g_strcmp0 (keyword, "$comment") == 0) {
		if (astra_schema_node_get_string (value) == NULL)
			return astra_schema_set_compile_error (error, where, "\"%s\" must be a string", keyword);
		return TRUE;
	}
	if (g_strcmp0 (keyword, "$schema") == 0) {
		if (g_strcmp0 (astra_schema_node_get_string (value), ASTRA_SCHEMA_DIALECT) != 0)
			return astra_schema_set_compile_error (error, where, "\"$schema\" must be \"%s\"", ASTRA_SCHEMA_DIALECT);
		return TRUE;
	}
	if (g_strcmp0 (keyword, "examples") == 0) {
		if (!JSON_NODE_HOLDS_ARRAY (value))
			return astra_schema_set_compile_error (error, where, "\"examples\" must be an array");
		return TRUE;
	}

	/* assertions and applicators */
	if (g_strcmp0 (keyword, "type") == 0)
		return astra_schema_compile_type (self, value, where, error);
	if (g_strcmp0 (keyword, "required") == 0)
		return astra_schema_compile_required (self, value, where, error);
	if (g_strcmp0 (keyword, "properties") == 0)
		return astra_schema_compile_properties (self, value, where, error);
	if (g_strcmp0 (keyword, "additionalProperties") == 0) {
		g_autofree char *child_where = astra_schema_where (where, keyword, NULL);
		self->additional = astra_schema_compile (value, child_where, error);
		return self->additional != NULL;
	}
	if (g_strcmp0 (keyword, "items") == 0) {
		g_autofree char *child_where = astra_schema_where (where, keyword, NULL);
		self->items = astra_schema_compile (value, child_where, error);
		return self->items != NULL;
	}
	if (g_strcmp0 (keyword, "enum") == 0)
		return astra_schema_compile_enum (self, value, where, error);
	if (g_strcmp0 (keyword, "const") == 0) {
		if (!astra_schema_node_is_scalar (value))
			return astra_schema_set_compile_error (error, where, "\"const\" must be a string, number, boolean or null");
		self->const_value = json_node_copy (value);
		return TRUE;
	}
	if (g_strcmp0 (keyword, "minimum") == 0) {
		if (!astra_schema_node_is_number (value))
			return astra_schema_set_compile_error (error, where, "\"minimum\" must be a number");
		self->has_minimum = TRUE;
		self->minimum = astra_schema_node_get_number (value);
		return TRUE;
	}
	if (g_strcmp0 (keyword, "minLength") == 0)
		return astra_schema_compile_length (&self->min_length, keyword, value, where, error);
	if (g_strcmp0 (keyword, "maxLength") == 0)
		return astra_schema_compile_length (&self->max_length, keyword, value, where, error);
	if (g_strcmp0 (keyword, "format") == 0) {
		const char *format = astra_schema_node_get_string (value);
		if (g_strcmp0 (format, "date-time") != 0)
			return astra_schema_set_compile_error (error,
							       where,
							       "unsupported format \"%s\"",
							       format != NULL ? format : "(not a string)");
		self->date_time = TRUE;
		return TRUE;
	}
	return astra_schema_set_compile_error (error, where, "unknown keyword \"%s\"", keyword);
}

static AstraEventSchema *
astra_schema_compile (JsonNode *node, const char *where, GError **error)
{
	g_autoptr(AstraEventSchema) self = astra_event_schema_new ();
	JsonObjectIter iter;
	const char *keyword;
	JsonNode *value;

	if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_BOOLEAN) {
		self->reject_all = !json_node_get_boolean (node);
		return g_steal_pointer (&self);
	}
	if (!JSON_NODE_HOLDS_OBJECT (node)) {
		astra_schema_set_compile_error (error, where, "a schema must be an object or a boolean");
		return NULL;
	}
	json_object_iter_init_ordered (&iter, json_node_get_object (node));
	while (json_object_iter_next_ordered (&iter, &keyword, &value)) {
		if (!astra_schema_compile_keyword (self, keyword, value, where, error))
			return NULL;
	}
	if (self->min_length >= 0 && self->max_length >= 0 && self->min_length > self->max_length) {
		astra_schema_set_compile_error (error, where, "\"minLength\" is greater than \"maxLength\"");
		return NULL;
	}
	return g_steal_pointer (&self);
}

/**
 * astra_event_schema_new_from_bytes:
 * @bytes: the text of a JSON Schema
 * @error: return location for a #GError
 *
 * Compiles a schema. Keywords the validator does not implement are an error
 * (%ASTRA_ERROR_INVALID_DATA naming the keyword and where it is), so none is
 * ever silently ignored.
 *
 * Returns: (transfer full): the schema, or %NULL on error
 */
AstraEventSchema *
astra_event_schema_new_from_bytes (GBytes *bytes, GError **error)
{
	gsize len = 0;
	const char *data = g_bytes_get_data (bytes, &len);
	g_autoptr(JsonNode) root = astra_json_parse (data != NULL ? data : "", len, error);

	if (root == NULL)
		return NULL;
	return astra_schema_compile (root, "", error);
}

/* validating */

static gboolean
astra_schema_name_is_simple (const char *name)
{
	if (!g_ascii_isalpha (name[0]) && name[0] != '_')
		return FALSE;
	for (const char *p = name; *p != '\0'; p++) {
		if (!g_ascii_isalnum (*p) && *p != '_')
			return FALSE;
	}
	return TRUE;
}

static void
astra_schema_path_append (GString *str, const AstraSchemaPath *path)
{
	if (path->parent == NULL) {
		g_string_append (str, path->name);
		return;
	}
	astra_schema_path_append (str, path->parent);
	if (path->name == NULL) {
		g_string_append_printf (str, "[%u]", path->index);
		return;
	}
	if (astra_schema_name_is_simple (path->name)) {
		g_string_append_c (str, '.');
		g_string_append (str, path->name);
		return;
	}
	/* e.g. data.labels["app.kubernetes.io/name"] */
	g_string_append (str, "[\"");
	for (const char *p = path->name; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			g_string_append_c (str, '\\');
		if ((guchar) *p < 0x20)
			g_string_append_printf (str, "\\u%04x", (guint) (guchar) *p);
		else
			g_string_append_c (str, *p);
	}
	g_string_append (str, "\"]");
}

static gboolean
astra_schema_set_error (GError **error, const AstraSchemaPath *path, const char *format, ...)
    G_GNUC_PRINTF (3, 4);

static gboolean
astra_schema_set_error (GError **error, const AstraSchemaPath *path, const char *format, ...)
{
	va_list args;
	g_autoptr(GString) msg = g_string_new (NULL);

	astra_schema_path_append (msg, path);
	g_string_append (msg, ": ");
	va_start (args, format);
	g_string_append_vprintf (msg, format, args);
	va_end (args);
	g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA, msg->str);
	return FALSE;
}

/* the JSON type of an instance: INTEGER for numbers with an integral value,
 * NUMBER for the others, 0 for what JSON cannot carry */
static AstraSchemaType
astra_schema_instance_type (JsonNode *node)
{
	GType type;

	switch (json_node_get_node_type (node)) {
	case JSON_NODE_OBJECT:
		return json_node_get_object (node) != NULL ? ASTRA_SCHEMA_TYPE_OBJECT : 0;
	case JSON_NODE_ARRAY:
		return json_node_get_array (node) != NULL ? ASTRA_SCHEMA_TYPE_ARRAY : 0;
	case JSON_NODE_NULL:
		return ASTRA_SCHEMA_TYPE_NULL;
	case JSON_NODE_VALUE:
		break;
	default:
		return 0;
	}
	type = json_node_get_value_type (node);
	if (type == G_TYPE_INT64)
		return ASTRA_SCHEMA_TYPE_INTEGER;
	if (type == G_TYPE_DOUBLE) {
		double value = json_node_get_double (node);
		if (!isfinite (value))
			return 0;
		return value == floor (value) ? ASTRA_SCHEMA_TYPE_INTEGER : ASTRA_SCHEMA_TYPE_NUMBER;
	}
	if (type == G_TYPE_BOOLEAN)
		return ASTRA_SCHEMA_TYPE_BOOLEAN;
	if (type == G_TYPE_STRING)
		return json_node_get_string (node) != NULL ? ASTRA_SCHEMA_TYPE_STRING : 0;
	return 0;
}

static const char *
astra_schema_instance_type_name (guint schema_types, AstraSchemaType type)
{
	switch (type) {
	case ASTRA_SCHEMA_TYPE_NULL:
		return "null";
	case ASTRA_SCHEMA_TYPE_BOOLEAN:
		return "boolean";
	case ASTRA_SCHEMA_TYPE_INTEGER:
		return "number";
	case ASTRA_SCHEMA_TYPE_NUMBER:
		return (schema_types & ASTRA_SCHEMA_TYPE_INTEGER) ? "non-integral number" : "number";
	case ASTRA_SCHEMA_TYPE_STRING:
		return "string";
	case ASTRA_SCHEMA_TYPE_ARRAY:
		return "array";
	case ASTRA_SCHEMA_TYPE_OBJECT:
		return "object";
	default:
		return "unsupported value";
	}
}

static gboolean
astra_schema_type_matches (guint schema_types, AstraSchemaType type)
{
	if (schema_types & type)
		return TRUE;
	/* every integer is a number */
	return type == ASTRA_SCHEMA_TYPE_INTEGER && (schema_types & ASTRA_SCHEMA_TYPE_NUMBER);
}

static gboolean
astra_schema_scalar_equal (JsonNode *expected, JsonNode *node, AstraSchemaType type)
{
	if (JSON_NODE_HOLDS_NULL (expected))
		return type == ASTRA_SCHEMA_TYPE_NULL;
	switch (json_node_get_value_type (expected)) {
	case G_TYPE_STRING:
		return type == ASTRA_SCHEMA_TYPE_STRING &&
		       g_strcmp0 (json_node_get_string (expected), json_node_get_string (node)) == 0;
	case G_TYPE_BOOLEAN:
		return type == ASTRA_SCHEMA_TYPE_BOOLEAN &&
		       json_node_get_boolean (expected) == json_node_get_boolean (node);
	default:
		return (type == ASTRA_SCHEMA_TYPE_INTEGER || type == ASTRA_SCHEMA_TYPE_NUMBER) &&
		       astra_schema_node_get_number (expected) == astra_schema_node_get_number (node);
	}
}

static gboolean
astra_schema_enum_contains (AstraEventSchema *self, JsonNode *node, AstraSchemaType type)
{
	for (guint i = 0; i < self->enum_values->len; i++) {
		if (astra_schema_scalar_equal (g_ptr_array_index (self->enum_values, i), node, type))
			return TRUE;
	}
	return FALSE;
}

static void
astra_schema_append_scalar (GString *str, JsonNode *node)
{
	if (JSON_NODE_HOLDS_NULL (node)) {
		g_string_append (str, "null");
		return;
	}
	switch (json_node_get_value_type (node)) {
	case G_TYPE_STRING:
		g_string_append (str, json_node_get_string (node));
		break;
	case G_TYPE_BOOLEAN:
		g_string_append (str, json_node_get_boolean (node) ? "true" : "false");
		break;
	default:
		astra_json_format_number (str, astra_schema_node_get_number (node));
		break;
	}
}

static gboolean
astra_schema_validate_node (AstraEventSchema *self,
			    JsonNode *node,
			    const AstraSchemaPath *path,
			    GError **error);

static gboolean
astra_schema_validate_string (AstraEventSchema *self,
			      const char *str,
			      const AstraSchemaPath *path,
			      GError **error)
{
	glong len;

	if (self->min_length < 0 && self->max_length < 0 && !self->date_time)
		return TRUE;
	/* g_utf8_strlen() would read past the end of a truncated sequence */
	if (!g_utf8_validate (str, -1, NULL))
		return astra_schema_set_error (error, path, "not valid UTF-8");
	len = g_utf8_strlen (str, -1);
	if (self->min_length >= 0 && len < self->min_length) {
		if (self->min_length == 1)
			return astra_schema_set_error (error, path, "must not be empty");
		return astra_schema_set_error (error,
					       path,
					       "must be at least %" G_GINT64_FORMAT " characters long, got %ld",
					       self->min_length,
					       len);
	}
	if (self->max_length >= 0 && len > self->max_length) {
		return astra_schema_set_error (error,
					       path,
					       "must be at most %" G_GINT64_FORMAT " characters long, got %ld",
					       self->max_length,
					       len);
	}
	if (self->date_time && !astra_event_schema_is_date_time (str)) {
		return astra_schema_set_error (error,
					       path,
					       "must be an RFC 3339 date-time like 2025-12-17T10:30:00Z");
	}
	return TRUE;
}

static gboolean
astra_schema_validate_object (AstraEventSchema *self,
			      JsonObject *object,
			      const AstraSchemaPath *path,
			      GError **error)
{
	JsonObjectIter iter;
	const char *name;
	JsonNode *member;

	if (self->required != NULL) {
		for (guint i = 0; i < self->required->len; i++) {
			const char *required = g_ptr_array_index (self->required, i);
			if (!json_object_has_member (object, required)) {
				AstraSchemaPath child = {path, required, 0};
				return astra_schema_set_error (error, &child, "missing required field");
			}
		}
	}
	if (self->properties == NULL && self->additional == NULL)
		return TRUE;
	json_object_iter_init_ordered (&iter, object);
	while (json_object_iter_next_ordered (&iter, &name, &member)) {
		AstraSchemaPath child = {path, name, 0};
		AstraEventSchema *schema = NULL;

		if (self->properties != NULL)
			schema = g_hash_table_lookup (self->properties, name);
		if (schema == NULL) {
			schema = self->additional;
			if (schema == NULL)
				continue;
			if (schema->reject_all)
				return astra_schema_set_error (error, &child, "unexpected field");
		}
		if (!astra_schema_validate_node (schema, member, &child, error))
			return FALSE;
	}
	return TRUE;
}

static gboolean
astra_schema_validate_node (AstraEventSchema *self,
			    JsonNode *node,
			    const AstraSchemaPath *path,
			    GError **error)
{
	AstraSchemaType type = astra_schema_instance_type (node);

	if (self->reject_all)
		return astra_schema_set_error (error, path, "not allowed here");
	if (type == 0) {
		if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_DOUBLE)
			return astra_schema_set_error (error, path, "not a finite number");
		return astra_schema_set_error (error, path, "not a JSON value");
	}
	if (self->types != 0 && !astra_schema_type_matches (self->types, type)) {
		return astra_schema_set_error (error,
					       path,
					       "expected %s, got %s",
					       self->types_desc,
					       astra_schema_instance_type_name (self->types, type));
	}
	if (self->const_value != NULL && !astra_schema_scalar_equal (self->const_value, node, type)) {
		g_autoptr(GString) expected = g_string_new (NULL);
		astra_schema_append_scalar (expected, self->const_value);
		return astra_schema_set_error (error, path, "must be %s", expected->str);
	}
	if (self->enum_values != NULL && !astra_schema_enum_contains (self, node, type)) {
		g_autoptr(GString) expected = g_string_new (NULL);
		for (guint i = 0; i < self->enum_values->len; i++) {
			if (i > 0)
				g_string_append (expected, ", ");
			astra_schema_append_scalar (expected, g_ptr_array_index (self->enum_values, i));
		}
		return astra_schema_set_error (error, path, "must be one of %s", expected->str);
	}

	switch (type) {
	case ASTRA_SCHEMA_TYPE_STRING:
		return astra_schema_validate_string (self, json_node_get_string (node), path, error);
	case ASTRA_SCHEMA_TYPE_INTEGER:
	case ASTRA_SCHEMA_TYPE_NUMBER:
		if (self->has_minimum && astra_schema_node_get_number (node) < self->minimum) {
			g_autoptr(GString) msg = g_string_new ("must be >= ");
			astra_json_format_number (msg, self->minimum);
			g_string_append (msg, ", got ");
			astra_json_format_number (msg, astra_schema_node_get_number (node));
			return astra_schema_set_error (error, path, "%s", msg->str);
		}
		return TRUE;
	case ASTRA_SCHEMA_TYPE_ARRAY:
		if (self->items != NULL) {
			JsonArray *array = json_node_get_array (node);
			for (guint i = 0; i < json_array_get_length (array); i++) {
				AstraSchemaPath child = {path, NULL, i};
				if (!astra_schema_validate_node (self->items,
								 json_array_get_element (array, i),
								 &child,
								 error))
					return FALSE;
			}
		}
		return TRUE;
	case ASTRA_SCHEMA_TYPE_OBJECT:
		return astra_schema_validate_object (self, json_node_get_object (node), path, error);
	default:
		return TRUE;
	}
}

/**
 * astra_event_schema_validate:
 * @self: a compiled schema
 * @node: the instance
 * @root_name: what to call @node in error messages, e.g. `data`
 * @error: return location for a #GError
 *
 * Validates @node. The first violation found is reported as
 * %ASTRA_ERROR_INVALID_DATA with its path, e.g.
 * `data.hops[1].rtt_ms: expected number or null, got string`.
 *
 * Returns: %TRUE if @node is valid
 */
gboolean
astra_event_schema_validate (AstraEventSchema *self,
			     JsonNode *node,
			     const char *root_name,
			     GError **error)
{
	AstraSchemaPath path = {NULL, root_name, 0};

	g_return_val_if_fail (self != NULL, FALSE);
	g_return_val_if_fail (node != NULL, FALSE);
	g_return_val_if_fail (root_name != NULL, FALSE);
	return astra_schema_validate_node (self, node, &path, error);
}

/* the built-in schemas */

static AstraEventSchema *
astra_event_schema_load (AstraEventKind kind, GError **error)
{
	g_autofree char *path = g_strconcat (ASTRA_EVENT_SCHEMA_RESOURCE_PREFIX,
					     astra_event_kind_to_string (kind),
					     ".schema.json",
					     NULL);
	g_autoptr(GBytes) bytes = NULL;
	AstraEventSchema *schema;

	bytes = g_resources_lookup_data (path, G_RESOURCE_LOOKUP_FLAGS_NONE, error);
	if (bytes == NULL)
		return NULL;
	schema = astra_event_schema_new_from_bytes (bytes, error);
	if (schema == NULL) {
		g_prefix_error (error, "%s: ", path);
		return NULL;
	}
	return schema;
}

/**
 * astra_event_schema_get:
 * @kind: an event kind
 * @error: return location for a #GError
 *
 * Gets the compiled schema of @kind's data, loading it from the SDK's
 * resources the first time. A built-in schema that does not compile is a
 * build-time bug: it is reported with g_critical() once, and every later
 * call fails with %ASTRA_ERROR_FAILED.
 *
 * Returns: (transfer none): the schema, or %NULL on error
 */
AstraEventSchema *
astra_event_schema_get (AstraEventKind kind, GError **error)
{
	AstraSchemaCacheEntry *entry;

	if (kind <= ASTRA_EVENT_KIND_UNKNOWN || kind >= ASTRA_EVENT_KIND_LAST) {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA, "unknown event kind %d", (gint) kind);
		return NULL;
	}
	if (g_once_init_enter (&astra_schema_cache[kind])) {
		g_autoptr(GError) error_local = NULL;

		entry = g_new0 (AstraSchemaCacheEntry, 1);
		entry->schema = astra_event_schema_load (kind, &error_local);
		if (entry->schema == NULL) {
			g_critical ("the built-in schema of %s is invalid: %s",
				    astra_event_kind_to_string (kind),
				    error_local->message);
			entry->error = g_steal_pointer (&error_local);
		}
		g_once_init_leave (&astra_schema_cache[kind], entry);
	}
	entry = astra_schema_cache[kind];
	if (entry->schema == NULL) {
		g_set_error (error,
			     ASTRA_ERROR,
			     ASTRA_ERROR_FAILED,
			     "the built-in schema of %s is invalid: %s",
			     astra_event_kind_to_string (kind),
			     entry->error->message);
		return NULL;
	}
	return entry->schema;
}

/**
 * astra_event_schema_validate_data:
 * @kind: an event kind
 * @data: the data object of an event
 * @error: return location for a #GError
 *
 * Validates @data against the schema of @kind; paths in errors start at
 * `data`.
 *
 * Returns: %TRUE if @data is valid
 */
gboolean
astra_event_schema_validate_data (AstraEventKind kind, JsonObject *data, GError **error)
{
	AstraEventSchema *schema = astra_event_schema_get (kind, error);
	g_autoptr(JsonNode) node = NULL;

	if (schema == NULL)
		return FALSE;
	node = json_node_init_object (json_node_alloc (), data);
	return astra_event_schema_validate (schema, node, "data", error);
}

/* date-time */

static gboolean
astra_schema_read_digits (const char **p, guint n, guint *value)
{
	guint result = 0;

	for (guint i = 0; i < n; i++) {
		/* stops at the NUL, never reads past it */
		if (!g_ascii_isdigit ((*p)[i]))
			return FALSE;
		result = result * 10 + (guint) ((*p)[i] - '0');
	}
	*p += n;
	*value = result;
	return TRUE;
}

static gboolean
astra_schema_read_char (const char **p, char c1, char c2)
{
	if (**p == '\0' || (**p != c1 && **p != c2))
		return FALSE;
	*p += 1;
	return TRUE;
}

/**
 * astra_event_schema_is_date_time:
 * @str: a string
 *
 * Checks @str is an RFC 3339 `date-time` (section 5.6): a full date, `T`,
 * a time with optional fraction of a second, and `Z` or a numeric offset.
 * Dates must exist (no February 30); a leap second is only accepted at
 * 23:59:60 UTC.
 *
 * Returns: %TRUE if it is
 */
gboolean
astra_event_schema_is_date_time (const char *str)
{
	static const guint8 days_in_month[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	const char *p = str;
	guint year, month, day, hour, minute, second;
	guint offset_hour = 0;
	guint offset_minute = 0;
	gint offset_sign = 0;
	guint max_day;

	if (!astra_schema_read_digits (&p, 4, &year) || !astra_schema_read_char (&p, '-', '-') ||
	    !astra_schema_read_digits (&p, 2, &month) || !astra_schema_read_char (&p, '-', '-') ||
	    !astra_schema_read_digits (&p, 2, &day) || !astra_schema_read_char (&p, 'T', 't') ||
	    !astra_schema_read_digits (&p, 2, &hour) || !astra_schema_read_char (&p, ':', ':') ||
	    !astra_schema_read_digits (&p, 2, &minute) || !astra_schema_read_char (&p, ':', ':') ||
	    !astra_schema_read_digits (&p, 2, &second))
		return FALSE;
	if (astra_schema_read_char (&p, '.', '.')) {
		if (!g_ascii_isdigit (*p))
			return FALSE;
		while (g_ascii_isdigit (*p))
			p++;
	}
	if (astra_schema_read_char (&p, 'Z', 'z')) {
		offset_sign = 0;
	} else if (astra_schema_read_char (&p, '+', '+')) {
		offset_sign = 1;
	} else if (astra_schema_read_char (&p, '-', '-')) {
		offset_sign = -1;
	} else {
		return FALSE;
	}
	if (offset_sign != 0) {
		if (!astra_schema_read_digits (&p, 2, &offset_hour) ||
		    !astra_schema_read_char (&p, ':', ':') ||
		    !astra_schema_read_digits (&p, 2, &offset_minute))
			return FALSE;
		if (offset_hour > 23 || offset_minute > 59)
			return FALSE;
	}
	if (*p != '\0')
		return FALSE;

	if (month < 1 || month > 12)
		return FALSE;
	max_day = days_in_month[month - 1];
	if (month == 2 && year % 4 == 0 && (year % 100 != 0 || year % 400 == 0))
		max_day = 29;
	if (day < 1 || day > max_day)
		return FALSE;
	if (hour > 23 || minute > 59 || second > 60)
		return FALSE;
	if (second == 60) {
		gint utc = (gint) (hour * 60 + minute) -
			   offset_sign * (gint) (offset_hour * 60 + offset_minute);
		if (((utc % 1440) + 1440) % 1440 != 23 * 60 + 59)
			return FALSE;
	}
	return TRUE;
}

char *
astra_event_schema_list_types (void)
{
	GString *types = g_string_new (NULL);

	for (guint kind = ASTRA_EVENT_KIND_UNKNOWN + 1; kind < ASTRA_EVENT_KIND_LAST; kind++)
		g_string_append_printf (types, "%s%s", types->len > 0 ? ", " : "", astra_event_kind_to_string (kind));
	return g_string_free (types, FALSE);
}
