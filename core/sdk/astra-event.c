/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "astra.h"

#include "astra-event-schema.h"
#include "astra-ulid.h"

/* 2025-12-17T10:30:00Z */
#define ASTRA_EVENT_TIMESTAMP_LEN 20
/* 9999-12-31T23:59:59Z */
#define ASTRA_EVENT_TIMESTAMP_MAX G_GINT64_CONSTANT (253402300799)
#define ASTRA_EVENT_ID_MAX_LEN	  128

/**
 * AstraEvent:
 *
 * One event of the public contract: its kind, a unique id, the time it
 * happened, and its canonical JSON body
 * `{"event":"<type>","timestamp":"<RFC 3339>","data":{...}}`. Immutable:
 * the data object plugins read is sealed and is exactly what the body
 * carries to receivers.
 *
 * Since: 1.0
 */
struct _AstraEvent {
	GObject parent_instance;
	AstraEventKind kind;
	AstraSeverity severity;
	gint64 timestamp;
	char timestamp_str[ASTRA_EVENT_TIMESTAMP_LEN + 1];
	char *id;
	const char *tenant; /* (nullable): points into the sealed data */
	JsonNode *data;	    /* sealed object node */
	GBytes *body;
};

G_DEFINE_FINAL_TYPE (AstraEvent, astra_event, G_TYPE_OBJECT)

static const char *const astra_event_kind_names[] = {
    [ASTRA_EVENT_KIND_UNKNOWN] = NULL,
    [ASTRA_EVENT_KIND_AGENT_STATUS_CHANGED] = "agent.status_changed",
    [ASTRA_EVENT_KIND_AGENT_REGISTERED] = "agent.registered",
    [ASTRA_EVENT_KIND_SPEEDTEST_COMPLETED] = "speedtest.completed",
    [ASTRA_EVENT_KIND_TRACEROUTE_COMPLETED] = "traceroute.completed",
    [ASTRA_EVENT_KIND_SERVICE_TEST_FAILED] = "service_test.failed",
    [ASTRA_EVENT_KIND_ALERT_TRIGGERED] = "alert.triggered",
    [ASTRA_EVENT_KIND_ALERT_RESOLVED] = "alert.resolved",
};
G_STATIC_ASSERT (G_N_ELEMENTS (astra_event_kind_names) == ASTRA_EVENT_KIND_LAST);

static const char *const astra_severity_names[] = {
    [ASTRA_SEVERITY_INFO] = "info",
    [ASTRA_SEVERITY_WARNING] = "warning",
    [ASTRA_SEVERITY_ERROR] = "error",
    [ASTRA_SEVERITY_CRITICAL] = "critical",
};

static void
astra_event_finalize (GObject *object)
{
	AstraEvent *self = ASTRA_EVENT (object);

	g_free (self->id);
	g_clear_pointer (&self->data, json_node_unref);
	g_clear_pointer (&self->body, g_bytes_unref);

	G_OBJECT_CLASS (astra_event_parent_class)->finalize (object);
}

static void
astra_event_class_init (AstraEventClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS (klass);
	object_class->finalize = astra_event_finalize;
}

static void
astra_event_init (AstraEvent *self)
{
}

/* timestamps: proleptic Gregorian calendar, UTC */

static gint64
astra_event_days_from_civil (gint64 year, guint month, guint day)
{
	gint64 era;
	gint64 year_of_era;
	gint64 day_of_year;
	gint64 day_of_era;

	year -= month <= 2;
	era = (year >= 0 ? year : year - 399) / 400;
	year_of_era = year - era * 400;
	day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
	day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
	return era * 146097 + day_of_era - 719468;
}

/* writes exactly ASTRA_EVENT_TIMESTAMP_LEN characters and a NUL */
static void
astra_event_format_timestamp (gint64 timestamp, char *out)
{
	gint64 days = timestamp / 86400;
	gint64 secs = timestamp % 86400;
	gint64 day_of_era, year_of_era, day_of_year, year;
	guint month, day, month_index;

	/* the caller guarantees 0 <= timestamp <= ASTRA_EVENT_TIMESTAMP_MAX */
	days += 719468;
	day_of_era = days % 146097;
	year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
	year = year_of_era + (days / 146097) * 400;
	day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
	month_index = (guint) ((5 * day_of_year + 2) / 153);
	day = (guint) (day_of_year - (153 * month_index + 2) / 5 + 1);
	month = month_index < 10 ? month_index + 3 : month_index - 9;
	if (month <= 2)
		year++;
	g_snprintf (out,
		    ASTRA_EVENT_TIMESTAMP_LEN + 1,
		    "%04d-%02u-%02uT%02d:%02d:%02dZ",
		    (gint) year,
		    month,
		    day,
		    (gint) (secs / 3600),
		    (gint) (secs / 60 % 60),
		    (gint) (secs % 60));
}

static gboolean
astra_event_parse_digits (const char *str, guint n, guint *value)
{
	guint result = 0;
	for (guint i = 0; i < n; i++) {
		if (!g_ascii_isdigit (str[i]))
			return FALSE;
		result = result * 10 + (guint) (str[i] - '0');
	}
	*value = result;
	return TRUE;
}

/* only the canonical form, e.g. 2025-12-17T10:30:00Z */
static gboolean
astra_event_parse_timestamp (const char *str, gint64 *timestamp)
{
	guint year, month, day, hour, minute, second;
	char check[ASTRA_EVENT_TIMESTAMP_LEN + 1];
	gint64 value;

	if (strlen (str) != ASTRA_EVENT_TIMESTAMP_LEN)
		return FALSE;
	if (!astra_event_parse_digits (str, 4, &year) || str[4] != '-' ||
	    !astra_event_parse_digits (str + 5, 2, &month) || str[7] != '-' ||
	    !astra_event_parse_digits (str + 8, 2, &day) || str[10] != 'T' ||
	    !astra_event_parse_digits (str + 11, 2, &hour) || str[13] != ':' ||
	    !astra_event_parse_digits (str + 14, 2, &minute) || str[16] != ':' ||
	    !astra_event_parse_digits (str + 17, 2, &second) || str[19] != 'Z')
		return FALSE;
	if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59)
		return FALSE;
	value = astra_event_days_from_civil (year, month, day) * 86400 + hour * 3600 +
		minute * 60 + second;
	if (value < 0 || value > ASTRA_EVENT_TIMESTAMP_MAX)
		return FALSE;
	/* rejects dates that do not exist, like February 30 */
	astra_event_format_timestamp (value, check);
	if (memcmp (check, str, ASTRA_EVENT_TIMESTAMP_LEN) != 0)
		return FALSE;
	*timestamp = value;
	return TRUE;
}

/* ids: "evt_" + a ULID (48-bit unix milliseconds, 80 random bits),
 * increasing within the process */

static GMutex astra_event_id_mutex;
static AstraUlidState astra_event_id_state;

static void
astra_event_generate_id (char *out)
{
	g_mutex_lock (&astra_event_id_mutex);
	astra_ulid_next (&astra_event_id_state, g_get_real_time () / 1000, "evt_", out);
	g_mutex_unlock (&astra_event_id_mutex);
}

static gboolean
astra_event_check_id (const char *id, GError **error)
{
	gsize len = strlen (id);

	if (len == 0) {
		g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA, "event id is empty");
		return FALSE;
	}
	if (len > ASTRA_EVENT_ID_MAX_LEN) {
		g_set_error (error,
			     ASTRA_ERROR,
			     ASTRA_ERROR_INVALID_DATA,
			     "event id is longer than %u characters",
			     (guint) ASTRA_EVENT_ID_MAX_LEN);
		return FALSE;
	}
	for (gsize i = 0; i < len; i++) {
		if (!g_ascii_isalnum (id[i]) && id[i] != '_' && id[i] != '-') {
			g_set_error_literal (error,
					     ASTRA_ERROR,
					     ASTRA_ERROR_INVALID_DATA,
					     "event id may only contain A-Z, a-z, 0-9, _ and -");
			return FALSE;
		}
	}
	return TRUE;
}

/* sets everything but the id and the body */
static void
astra_event_fill (AstraEvent *self, AstraEventKind kind, gint64 timestamp, JsonNode *data)
{
	JsonObject *object = json_node_get_object (data);

	self->kind = kind;
	self->timestamp = timestamp;
	astra_event_format_timestamp (timestamp, self->timestamp_str);
	self->data = json_node_ref (data);
	self->tenant = json_object_get_string_member_with_default (object, "tenant_id", NULL);

	switch (kind) {
	case ASTRA_EVENT_KIND_AGENT_STATUS_CHANGED:
		/* both directions: the recovery ends a critical problem */
		self->severity = ASTRA_SEVERITY_CRITICAL;
		break;
	case ASTRA_EVENT_KIND_SERVICE_TEST_FAILED:
		self->severity = ASTRA_SEVERITY_ERROR;
		break;
	case ASTRA_EVENT_KIND_ALERT_TRIGGERED:
	case ASTRA_EVENT_KIND_ALERT_RESOLVED:
		/* the schema only allows known values; were it ever to allow
		 * more, err on the side of telling everyone */
		self->severity = ASTRA_SEVERITY_CRITICAL;
		astra_severity_from_string (json_object_get_string_member (object, "severity"),
					    &self->severity);
		break;
	default:
		self->severity = ASTRA_SEVERITY_INFO;
		break;
	}
}

/**
 * astra_event_new:
 * @kind: the event type
 * @timestamp: when the event happened, in seconds since the Unix epoch
 *   (from 1970 to the end of year 9999)
 * @data: the event's data, as the JSON Schema of @kind describes it
 * @error: return location for a #GError
 *
 * Creates an event with a new unique id. @data is validated against the
 * schema of @kind (`data/schemas/<type>.schema.json`); fields the schema
 * does not describe are kept, in their order. The body is built once, in
 * canonical form, and the data the event returns is read back from it and
 * sealed, so it is exactly what receivers get. @data itself is not
 * modified or kept.
 *
 * Returns: (transfer full): a new #AstraEvent, or %NULL with
 *   %ASTRA_ERROR_INVALID_DATA naming the offending field, e.g.
 *   `data.hostname: missing required field`
 *
 * Since: 1.0
 */
AstraEvent *
astra_event_new (AstraEventKind kind, gint64 timestamp, JsonObject *data, GError **error)
{
	g_autoptr(AstraEvent) self = NULL;
	g_autoptr(GString) body = NULL;
	g_autoptr(JsonNode) data_node = NULL;
	g_autoptr(JsonNode) parsed = NULL;
	g_autoptr(GError) error_local = NULL;
	char timestamp_str[ASTRA_EVENT_TIMESTAMP_LEN + 1];
	const char *type_name = astra_event_kind_to_string (kind);
	gsize data_offset;

	g_return_val_if_fail (data != NULL, NULL);
	g_return_val_if_fail (error == NULL || *error == NULL, NULL);

	if (type_name == NULL) {
		g_set_error (error,
			     ASTRA_ERROR,
			     ASTRA_ERROR_INVALID_DATA,
			     "unknown event kind %d",
			     (gint) kind);
		return NULL;
	}
	if (timestamp < 0 || timestamp > ASTRA_EVENT_TIMESTAMP_MAX) {
		g_set_error (error,
			     ASTRA_ERROR,
			     ASTRA_ERROR_INVALID_DATA,
			     "timestamp %" G_GINT64_FORMAT " is out of range",
			     timestamp);
		return NULL;
	}
	if (!astra_event_schema_validate_data (kind, data, error))
		return NULL;

	astra_event_format_timestamp (timestamp, timestamp_str);
	body = g_string_sized_new (512);
	g_string_append (body, "{\"event\":\"");
	g_string_append (body, type_name);
	g_string_append (body, "\",\"timestamp\":\"");
	g_string_append_len (body, timestamp_str, ASTRA_EVENT_TIMESTAMP_LEN);
	g_string_append (body, "\",\"data\":");
	data_offset = body->len;
	data_node = json_node_init_object (json_node_alloc (), data);
	if (!astra_json_append (body, data_node, &error_local)) {
		/* the writer's paths are relative to the data object */
		g_propagate_prefixed_error (error,
					    g_steal_pointer (&error_local),
					    "data%s",
					    error_local->message[0] == '[' ? "" : ".");
		return NULL;
	}
	g_string_append_c (body, '}');

	parsed = astra_json_parse (body->str + data_offset, body->len - data_offset - 1, error);
	if (parsed == NULL) {
		g_prefix_error (error, "reading back the event data: ");
		return NULL;
	}
	json_node_seal (parsed);

	self = g_object_new (ASTRA_TYPE_EVENT, NULL);
	astra_event_fill (self, kind, timestamp, parsed);
	self->id = g_malloc (ASTRA_ULID_ID_LEN + 1);
	astra_event_generate_id (self->id);
	self->body = g_string_free_to_bytes (g_steal_pointer (&body));
	return g_steal_pointer (&self);
}

/**
 * astra_event_new_from_body:
 * @id: the event's id: 1 to 128 characters of `A-Z`, `a-z`, `0-9`, `_`, `-`
 * @body: a canonical event body, as astra_event_get_body() returns it
 * @error: return location for a #GError
 *
 * Restores an event, e.g. one stored in the outbox. @body must be exactly
 * what astra_event_new() writes: a JSON object with the keys `event` (a
 * known type), `timestamp` (like `2025-12-17T10:30:00Z`) and `data` (valid
 * against the type's schema) in this order, in canonical form.
 *
 * Returns: (transfer full): the event, or %NULL with
 *   %ASTRA_ERROR_INVALID_DATA
 *
 * Since: 1.0
 */
AstraEvent *
astra_event_new_from_body (const char *id, GBytes *body, GError **error)
{
	static const char *const envelope_keys[] = {"event", "timestamp", "data"};
	g_autoptr(AstraEvent) self = NULL;
	g_autoptr(JsonNode) root = NULL;
	g_autoptr(GBytes) canonical = NULL;
	JsonObject *object;
	JsonObjectIter iter;
	const char *name;
	JsonNode *member;
	const char *type_name;
	const char *timestamp_str;
	AstraEventKind kind;
	gint64 timestamp = 0;
	guint n_keys = 0;
	gsize len = 0;
	const char *data;

	g_return_val_if_fail (id != NULL, NULL);
	g_return_val_if_fail (body != NULL, NULL);
	g_return_val_if_fail (error == NULL || *error == NULL, NULL);

	if (!astra_event_check_id (id, error))
		return NULL;

	data = g_bytes_get_data (body, &len);
	root = astra_json_parse (data != NULL ? data : "", len, error);
	if (root == NULL) {
		g_prefix_error (error, "event body: ");
		return NULL;
	}
	if (!JSON_NODE_HOLDS_OBJECT (root)) {
		g_set_error_literal (error,
				     ASTRA_ERROR,
				     ASTRA_ERROR_INVALID_DATA,
				     "event body is not a JSON object");
		return NULL;
	}
	object = json_node_get_object (root);
	json_object_iter_init_ordered (&iter, object);
	while (json_object_iter_next_ordered (&iter, &name, &member)) {
		if (n_keys >= G_N_ELEMENTS (envelope_keys) || g_strcmp0 (name, envelope_keys[n_keys]) != 0)
			break;
		n_keys++;
	}
	if (n_keys != G_N_ELEMENTS (envelope_keys) ||
	    json_object_get_size (object) != G_N_ELEMENTS (envelope_keys)) {
		g_set_error_literal (error,
				     ASTRA_ERROR,
				     ASTRA_ERROR_INVALID_DATA,
				     "event body must have exactly the keys event, timestamp and data, in this order");
		return NULL;
	}

	type_name = json_object_get_string_member_with_default (object, "event", NULL);
	kind = astra_event_kind_from_string (type_name);
	if (kind == ASTRA_EVENT_KIND_UNKNOWN) {
		g_autofree char *escaped = type_name != NULL ? g_strescape (type_name, NULL) : NULL;
		g_set_error (error,
			     ASTRA_ERROR,
			     ASTRA_ERROR_INVALID_DATA,
			     "unknown event type %s%s%s",
			     escaped != NULL ? "\"" : "",
			     escaped != NULL ? escaped : "(not a string)",
			     escaped != NULL ? "\"" : "");
		return NULL;
	}
	timestamp_str = json_object_get_string_member_with_default (object, "timestamp", NULL);
	if (timestamp_str == NULL || !astra_event_parse_timestamp (timestamp_str, &timestamp)) {
		g_set_error_literal (error,
				     ASTRA_ERROR,
				     ASTRA_ERROR_INVALID_DATA,
				     "timestamp: must be an RFC 3339 UTC time in seconds like 2025-12-17T10:30:00Z");
		return NULL;
	}
	member = json_object_get_member (object, "data");
	if (!JSON_NODE_HOLDS_OBJECT (member)) {
		g_set_error_literal (error,
				     ASTRA_ERROR,
				     ASTRA_ERROR_INVALID_DATA,
				     "data: expected object");
		return NULL;
	}
	if (!astra_event_schema_validate_data (kind, json_node_get_object (member), error))
		return NULL;

	/* the stored bytes are what was signed and sent: they must be exactly
	 * what astra_event_new() would have written */
	canonical = astra_json_serialize (root, error);
	if (canonical == NULL)
		return NULL;
	if (!g_bytes_equal (canonical, body)) {
		g_set_error_literal (error,
				     ASTRA_ERROR,
				     ASTRA_ERROR_INVALID_DATA,
				     "body is not canonical");
		return NULL;
	}

	json_node_seal (root);
	self = g_object_new (ASTRA_TYPE_EVENT, NULL);
	astra_event_fill (self, kind, timestamp, member);
	self->id = g_strdup (id);
	self->body = g_steal_pointer (&canonical);
	return g_steal_pointer (&self);
}

/**
 * astra_event_get_kind:
 * @self: an #AstraEvent
 *
 * Gets the event type.
 *
 * Returns: the kind
 *
 * Since: 1.0
 */
AstraEventKind
astra_event_get_kind (AstraEvent *self)
{
	g_return_val_if_fail (ASTRA_IS_EVENT (self), ASTRA_EVENT_KIND_UNKNOWN);
	return self->kind;
}

/**
 * astra_event_get_type_name:
 * @self: an #AstraEvent
 *
 * Gets the event type as it appears in the body, e.g. `agent.status_changed`.
 *
 * Returns: the type name
 *
 * Since: 1.0
 */
const char *
astra_event_get_type_name (AstraEvent *self)
{
	g_return_val_if_fail (ASTRA_IS_EVENT (self), NULL);
	return astra_event_kind_to_string (self->kind);
}

/**
 * astra_event_get_id:
 * @self: an #AstraEvent
 *
 * Gets the event's unique id, sent as `X-Webhook-Id` (`webhook-id`) and the
 * same on every attempt. New events get `evt_` followed by a ULID, so ids
 * sort by creation time and contain no `.`.
 *
 * Returns: the id
 *
 * Since: 1.0
 */
const char *
astra_event_get_id (AstraEvent *self)
{
	g_return_val_if_fail (ASTRA_IS_EVENT (self), NULL);
	return self->id;
}

/**
 * astra_event_get_timestamp:
 * @self: an #AstraEvent
 *
 * Gets when the event happened.
 *
 * Returns: seconds since the Unix epoch
 *
 * Since: 1.0
 */
gint64
astra_event_get_timestamp (AstraEvent *self)
{
	g_return_val_if_fail (ASTRA_IS_EVENT (self), 0);
	return self->timestamp;
}

/**
 * astra_event_get_timestamp_string:
 * @self: an #AstraEvent
 *
 * Gets when the event happened as the body carries it: RFC 3339, UTC,
 * whole seconds, e.g. `2025-12-17T10:30:00Z`.
 *
 * Returns: the timestamp
 *
 * Since: 1.0
 */
const char *
astra_event_get_timestamp_string (AstraEvent *self)
{
	g_return_val_if_fail (ASTRA_IS_EVENT (self), NULL);
	return self->timestamp_str;
}

/**
 * astra_event_get_tenant:
 * @self: an #AstraEvent
 *
 * Gets the tenant the event belongs to: `data.tenant_id`.
 *
 * Returns: (nullable): the tenant id, or %NULL when the event has none
 *
 * Since: 1.0
 */
const char *
astra_event_get_tenant (AstraEvent *self)
{
	g_return_val_if_fail (ASTRA_IS_EVENT (self), NULL);
	return self->tenant;
}

/**
 * astra_event_get_severity:
 * @self: an #AstraEvent
 *
 * Gets the event's severity: %ASTRA_SEVERITY_CRITICAL for
 * `agent.status_changed` in both directions, %ASTRA_SEVERITY_ERROR for
 * `service_test.failed`, `data.severity` for `alert.triggered` and
 * `alert.resolved`, and %ASTRA_SEVERITY_INFO for the others.
 *
 * Returns: the severity
 *
 * Since: 1.0
 */
AstraSeverity
astra_event_get_severity (AstraEvent *self)
{
	g_return_val_if_fail (ASTRA_IS_EVENT (self), ASTRA_SEVERITY_INFO);
	return self->severity;
}

/**
 * astra_event_get_data:
 * @self: an #AstraEvent
 *
 * Gets the event's data. The object is sealed (see json_object_seal()):
 * it, and every object and array in it, cannot be modified.
 *
 * Returns: (transfer none): the data object
 *
 * Since: 1.0
 */
JsonObject *
astra_event_get_data (AstraEvent *self)
{
	g_return_val_if_fail (ASTRA_IS_EVENT (self), NULL);
	return json_node_get_object (self->data);
}

/**
 * astra_event_get_body:
 * @self: an #AstraEvent
 *
 * Gets the canonical JSON body of the event, exactly the bytes a generic
 * webhook receives (and signs). The data is followed by a NUL byte that is
 * not part of the #GBytes length.
 *
 * Returns: (transfer none): the body
 *
 * Since: 1.0
 */
GBytes *
astra_event_get_body (AstraEvent *self)
{
	g_return_val_if_fail (ASTRA_IS_EVENT (self), NULL);
	return self->body;
}

/**
 * astra_event_kind_from_string:
 * @type_name: (nullable): an event type, e.g. `alert.triggered`
 *
 * Converts an event type name to its kind.
 *
 * Returns: the kind, or %ASTRA_EVENT_KIND_UNKNOWN
 *
 * Since: 1.0
 */
AstraEventKind
astra_event_kind_from_string (const char *type_name)
{
	if (type_name == NULL)
		return ASTRA_EVENT_KIND_UNKNOWN;
	for (guint i = ASTRA_EVENT_KIND_UNKNOWN + 1; i < ASTRA_EVENT_KIND_LAST; i++) {
		if (strcmp (astra_event_kind_names[i], type_name) == 0)
			return (AstraEventKind) i;
	}
	return ASTRA_EVENT_KIND_UNKNOWN;
}

/**
 * astra_event_kind_to_string:
 * @kind: an event kind
 *
 * Converts an event kind to its type name, e.g. `alert.triggered`.
 *
 * Returns: (nullable): the type name, or %NULL for
 *   %ASTRA_EVENT_KIND_UNKNOWN and values that are not kinds
 *
 * Since: 1.0
 */
const char *
astra_event_kind_to_string (AstraEventKind kind)
{
	if (kind <= ASTRA_EVENT_KIND_UNKNOWN || kind >= ASTRA_EVENT_KIND_LAST)
		return NULL;
	return astra_event_kind_names[kind];
}

/**
 * astra_severity_to_string:
 * @severity: a severity
 *
 * Converts a severity to its name: `info`, `warning`, `error` or
 * `critical`.
 *
 * Returns: (nullable): the name, or %NULL for values that are not
 *   severities
 *
 * Since: 1.0
 */
const char *
astra_severity_to_string (AstraSeverity severity)
{
	if ((guint) severity >= G_N_ELEMENTS (astra_severity_names))
		return NULL;
	return astra_severity_names[severity];
}

/**
 * astra_severity_from_string:
 * @str: (nullable): a severity name: `info`, `warning`, `error` or
 *   `critical`
 * @severity: (out) (optional): return location for the severity
 *
 * Converts a severity name to its value. @severity is left alone when @str
 * is not a severity.
 *
 * Returns: %TRUE if @str is a severity
 *
 * Since: 1.0
 */
gboolean
astra_severity_from_string (const char *str, AstraSeverity *severity)
{
	if (str == NULL)
		return FALSE;
	for (guint i = 0; i < G_N_ELEMENTS (astra_severity_names); i++) {
		if (strcmp (astra_severity_names[i], str) == 0) {
			if (severity != NULL)
				*severity = (AstraSeverity) i;
			return TRUE;
		}
	}
	return FALSE;
}
