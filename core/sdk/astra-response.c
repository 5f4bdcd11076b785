/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "astra-headers.h"

/**
 * AstraResponse:
 *
 * A receiver's HTTP answer to one delivery attempt, as the core received it
 * (the body is bounded by the core), for a plugin's classify vfunc to judge.
 * The plugin records its judgement's details on it: a short reason and when to
 * retry.
 *
 * Since: 1.0
 */
struct _AstraResponse {
	GObject parent_instance;
	guint status;
	AstraHeaders *headers;
	GBytes *body;
	gint64 date;
	char *reason;
	double retry_after;
};

G_DEFINE_FINAL_TYPE (AstraResponse, astra_response, G_TYPE_OBJECT)

static void
astra_response_finalize (GObject *object)
{
	AstraResponse *self = ASTRA_RESPONSE (object);

	astra_headers_free (self->headers);
	g_bytes_unref (self->body);
	g_free (self->reason);
	G_OBJECT_CLASS (astra_response_parent_class)->finalize (object);
}

static void
astra_response_class_init (AstraResponseClass *klass)
{
	G_OBJECT_CLASS (klass)->finalize = astra_response_finalize;
}

static void
astra_response_init (AstraResponse *self)
{
	self->headers = astra_headers_new ();
	self->retry_after = -1;
}

/**
 * astra_response_new:
 * @status: the HTTP status code
 * @body: (nullable): the body received, or %NULL for none
 *
 * Creates a response; the core does this for each attempt, tests do it to
 * exercise classify vfuncs.
 *
 * Returns: (transfer full): a new #AstraResponse
 *
 * Since: 1.0
 */
AstraResponse *
astra_response_new (guint status, GBytes *body)
{
	AstraResponse *self = g_object_new (ASTRA_TYPE_RESPONSE, NULL);

	self->status = status;
	self->body = body != NULL ? g_bytes_ref (body) : g_bytes_new_static ("", 0);
	return self;
}

/**
 * astra_response_get_status:
 * @self: an #AstraResponse
 *
 * Returns: the HTTP status code
 *
 * Since: 1.0
 */
guint
astra_response_get_status (AstraResponse *self)
{
	g_return_val_if_fail (ASTRA_IS_RESPONSE (self), 0);
	return self->status;
}

/**
 * astra_response_set_header:
 * @self: an #AstraResponse
 * @name: a header name
 * @value: its value
 *
 * Adds a received header; a repeated name keeps every value and
 * astra_response_get_header() returns the first.
 *
 * Since: 1.0
 */
void
astra_response_set_header (AstraResponse *self, const char *name, const char *value)
{
	g_return_if_fail (ASTRA_IS_RESPONSE (self));
	g_return_if_fail (name != NULL);
	g_return_if_fail (value != NULL);
	astra_headers_append (self->headers, name, value);
}

/**
 * astra_response_get_header:
 * @self: an #AstraResponse
 * @name: a header name; compared without regard to case
 *
 * Returns: (nullable): the first value of the header, or %NULL
 *
 * Since: 1.0
 */
const char *
astra_response_get_header (AstraResponse *self, const char *name)
{
	g_return_val_if_fail (ASTRA_IS_RESPONSE (self), NULL);
	g_return_val_if_fail (name != NULL, NULL);
	return astra_headers_get (self->headers, name);
}

/**
 * astra_response_get_body:
 * @self: an #AstraResponse
 *
 * Returns the body as received, possibly cut short by the core's bound on
 * response sizes. It comes from outside: parse it with astra_json_parse().
 *
 * Returns: (transfer none): the body, empty if there was none
 *
 * Since: 1.0
 */
GBytes *
astra_response_get_body (AstraResponse *self)
{
	g_return_val_if_fail (ASTRA_IS_RESPONSE (self), NULL);
	return self->body;
}

/**
 * astra_response_set_date:
 * @self: an #AstraResponse
 * @unix_seconds: when the response was received
 *
 * Records the time of receipt, against which an HTTP-date `Retry-After` is
 * measured.
 *
 * Since: 1.0
 */
void
astra_response_set_date (AstraResponse *self, gint64 unix_seconds)
{
	g_return_if_fail (ASTRA_IS_RESPONSE (self));
	self->date = unix_seconds;
}

/**
 * astra_response_get_date:
 * @self: an #AstraResponse
 *
 * Returns: when the response was received, in unix seconds; 0 if unknown
 *
 * Since: 1.0
 */
gint64
astra_response_get_date (AstraResponse *self)
{
	g_return_val_if_fail (ASTRA_IS_RESPONSE (self), 0);
	return self->date;
}

/**
 * astra_response_set_reason:
 * @self: an #AstraResponse
 * @reason: (nullable): a short reason, e.g. Slack's `invalid_payload`
 *
 * Records why the attempt came to its outcome, for logs and the delivery
 * history. Must not contain secrets.
 *
 * Since: 1.0
 */
void
astra_response_set_reason (AstraResponse *self, const char *reason)
{
	g_return_if_fail (ASTRA_IS_RESPONSE (self));
	g_free (self->reason);
	self->reason = g_strdup (reason);
}

/**
 * astra_response_get_reason:
 * @self: an #AstraResponse
 *
 * Returns: (nullable): the reason set by classify, or %NULL
 *
 * Since: 1.0
 */
const char *
astra_response_get_reason (AstraResponse *self)
{
	g_return_val_if_fail (ASTRA_IS_RESPONSE (self), NULL);
	return self->reason;
}

/**
 * astra_response_set_retry_after:
 * @self: an #AstraResponse
 * @seconds: how long the receiver asked us to wait, or a negative value for
 *   no preference
 *
 * Records when to retry; the core obeys it exactly for the whole webhook.
 *
 * Since: 1.0
 */
void
astra_response_set_retry_after (AstraResponse *self, double seconds)
{
	g_return_if_fail (ASTRA_IS_RESPONSE (self));
	self->retry_after = seconds;
}

/**
 * astra_response_get_retry_after:
 * @self: an #AstraResponse
 *
 * Returns: the delay set by classify in seconds, or a negative value if none
 *
 * Since: 1.0
 */
double
astra_response_get_retry_after (AstraResponse *self)
{
	g_return_val_if_fail (ASTRA_IS_RESPONSE (self), -1);
	return self->retry_after;
}

static gint
astra_month_from_name (const char *name)
{
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

	for (guint i = 0; i < G_N_ELEMENTS (months); i++) {
		if (strncmp (name, months[i], 3) == 0 && name[3] == '\0')
			return (gint) i + 1;
	}
	return 0;
}

/* RFC 9110 section 5.6.7: IMF-fixdate, and the obsolete RFC 850 and asctime forms */
static gint64
astra_parse_http_date (const char *str)
{
	char wkday[16] = "", month[4] = "", zone[4] = "";
	gint day = 0, year = 0, hour = 0, minute = 0, second = 0;
	gint consumed = 0;
	g_autoptr(GDateTime) dt = NULL;

	if (sscanf (str, "%15[A-Za-z], %2d %3s %4d %2d:%2d:%2d %3s%n",
		    wkday, &day, month, &year, &hour, &minute, &second, zone, &consumed) == 8 &&
	    str[consumed] == '\0' && g_strcmp0 (zone, "GMT") == 0) {
		/* IMF-fixdate */
	} else if (sscanf (str, "%15[A-Za-z], %2d-%3s-%2d %2d:%2d:%2d %3s%n",
			   wkday, &day, month, &year, &hour, &minute, &second, zone, &consumed) == 8 &&
		   str[consumed] == '\0' && g_strcmp0 (zone, "GMT") == 0) {
		/* RFC 850: two-digit years are taken as within 50 years of now, which here means 20xx */
		year += year < 70 ? 2000 : 1900;
	} else if (sscanf (str, "%3s %3s %2d %2d:%2d:%2d %4d%n",
			   wkday, month, &day, &hour, &minute, &second, &year, &consumed) == 7 &&
		   str[consumed] == '\0') {
		/* asctime */
	} else {
		return -1;
	}
	if (astra_month_from_name (month) == 0)
		return -1;
	dt = g_date_time_new_utc (year, astra_month_from_name (month), day, hour, minute, second);
	if (dt == NULL)
		return -1;
	return g_date_time_to_unix (dt);
}

/**
 * astra_response_parse_retry_after_header:
 * @self: an #AstraResponse
 *
 * Reads the `Retry-After` header: delay-seconds or an HTTP-date, the latter
 * measured from the response's `Date` header if it has one, else from the
 * time of receipt (astra_response_set_date()), else from now.
 *
 * Returns: the delay in seconds (0 for a date in the past), or -1 if the
 *   header is absent or malformed
 *
 * Since: 1.0
 */
double
astra_response_parse_retry_after_header (AstraResponse *self)
{
	const char *value;
	gint64 when;
	gint64 now;

	g_return_val_if_fail (ASTRA_IS_RESPONSE (self), -1);

	value = astra_response_get_header (self, "Retry-After");
	if (value == NULL)
		return -1;
	while (g_ascii_isspace (*value))
		value++;
	if (g_ascii_isdigit (*value)) {
		guint64 seconds = 0;
		const char *p = value;

		for (; g_ascii_isdigit (*p); p++) {
			/* a huge value is still "much later": saturate rather than wrap */
			seconds = seconds >= G_MAXUINT32 ? G_MAXUINT32 : seconds * 10 + (guint64) (*p - '0');
		}
		while (g_ascii_isspace (*p))
			p++;
		return *p == '\0' ? (double) seconds : -1;
	}
	when = astra_parse_http_date (value);
	if (when < 0)
		return -1;
	now = -1;
	if (astra_response_get_header (self, "Date") != NULL)
		now = astra_parse_http_date (astra_response_get_header (self, "Date"));
	if (now < 0)
		now = self->date > 0 ? self->date : g_get_real_time () / G_USEC_PER_SEC;
	return when > now ? (double) (when - now) : 0;
}

/**
 * astra_outcome_to_string:
 * @outcome: an #AstraOutcome
 *
 * Returns: `delivered`, `retry`, `failed` or `gone`
 *
 * Since: 1.0
 */
const char *
astra_outcome_to_string (AstraOutcome outcome)
{
	switch (outcome) {
	case ASTRA_OUTCOME_DELIVERED:
		return "delivered";
	case ASTRA_OUTCOME_RETRY:
		return "retry";
	case ASTRA_OUTCOME_FAILED:
		return "failed";
	case ASTRA_OUTCOME_GONE:
		return "gone";
	default:
		return "unknown";
	}
}
