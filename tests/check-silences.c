/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * AstraSilences: adding, listing and removing silences, every validation
 * error, matching events by type, severity, data members and alert labels,
 * ends on a fake clock, background pruning, persistence across a restart.
 */

#include "config.h"

#include <string.h>

#include "astra-check-common.h"
#include "astra-silences.h"

/* 2025-12-17T19:33:20Z */
#define T0 (G_GINT64_CONSTANT (1766000000) * G_USEC_PER_SEC)
#define T0_S "2025-12-17T19:33:20Z"
#define SEC G_GINT64_CONSTANT (1000000)
#define MINUTE (60 * SEC)
#define HOUR (60 * MINUTE)
#define DAY (24 * HOUR)

typedef struct {
	AstraClock *clock;
	AstraStateDb *db;
	AstraSilences *silences;
} Fixture;

static void
fixture_open (Fixture *fx, const char *path, gint64 now_us)
{
	g_autoptr(GError) error = NULL;

	fx->clock = astra_clock_new_fake (now_us);
	fx->db = astra_state_db_open (path, &error);
	astra_assert_no_error (error);
	fx->silences = astra_silences_new (fx->db, fx->clock, &error);
	astra_assert_no_error (error);
	ck_assert_ptr_nonnull (fx->silences);
}

static void
fixture_close (Fixture *fx)
{
	g_clear_object (&fx->silences);
	g_clear_object (&fx->db);
	g_clear_object (&fx->clock);
}

/* runs what is ready on the main context: the background prune */
static void
run_idle (void)
{
	while (g_main_context_iteration (NULL, FALSE))
		;
}

static gint64
sql_int (AstraStateDb *db, const char *sql)
{
	sqlite3_stmt *stmt = NULL;
	gint64 value;

	ck_assert_int_eq (sqlite3_prepare_v2 (astra_state_db_get_handle (db), sql, -1, &stmt, NULL),
			  SQLITE_OK);
	ck_assert_int_eq (sqlite3_step (stmt), SQLITE_ROW);
	value = sqlite3_column_int64 (stmt, 0);
	sqlite3_finalize (stmt);
	return value;
}

static gint64
n_rows (Fixture *fx)
{
	return sql_int (fx->db, "SELECT COUNT(*) FROM silences");
}

static char *
add_full (
    Fixture *fx, const char *const *matchers, const char *until, const char *comment, const char *author)
{
	g_autoptr(GError) error = NULL;
	char *id = astra_silences_add (fx->silences, matchers, until, comment, author, &error);

	astra_assert_no_error (error);
	ck_assert_ptr_nonnull (id);
	return id;
}

/* one silence of one matcher */
static char *
add1 (Fixture *fx, const char *matcher, const char *until)
{
	const char *matchers[] = { matcher, NULL };

	return add_full (fx, matchers, until, "maintenance", "ops");
}

static AstraSilence *
list_index (Fixture *fx, GPtrArray **list, guint index)
{
	if (*list != NULL)
		g_ptr_array_unref (*list);
	*list = astra_silences_list (fx->silences);
	ck_assert_uint_gt ((*list)->len, index);
	return g_ptr_array_index (*list, index);
}

static AstraEvent *
event_new (const char *body)
{
	g_autoptr(GBytes) bytes = g_bytes_new (body, strlen (body));
	g_autoptr(GError) error = NULL;
	AstraEvent *event = astra_event_new_from_body ("evt_test", bytes, &error);

	astra_assert_no_error (error);
	ck_assert_ptr_nonnull (event);
	return event;
}

/* an alert.triggered event of @severity, with extra data members and these labels */
static AstraEvent *
alert_new (const char *severity, const char *extra, const char *labels)
{
	g_autofree char *body = g_strdup_printf (
	    "{\"event\":\"alert.triggered\",\"timestamp\":\"2025-12-17T10:20:00Z\",\"data\":{"
	    "\"alert_id\":\"alt_1\",\"rule\":\"high-latency\",\"severity\":\"%s\",\"state\":\"firing\","
	    "\"metric\":\"latency_ms\",\"value\":231.4,\"threshold\":200,\"condition\":\"> 200\","
	    "\"labels\":{%s},\"summary\":\"s\",\"started_at\":\"2025-12-17T10:18:00Z\"%s%s}}",
	    severity, labels, extra[0] != '\0' ? "," : "", extra);

	return event_new (body);
}

/* whether a silence of @matchers (NULL-terminated) holds @event back; the silence is removed again */
static gboolean
silences_event (Fixture *fx, const char *const *matchers, AstraEvent *event)
{
	g_autofree char *id = add_full (fx, matchers, "1h", "test", NULL);
	g_autoptr(GError) error = NULL;
	const char *got = astra_silences_match (fx->silences, event);

	if (got != NULL)
		ck_assert_str_eq (got, id);
	ck_assert (astra_silences_remove (fx->silences, id, &error));
	astra_assert_no_error (error);
	return got != NULL;
}

#define assert_silences(fx, event, ...)                                                                      \
	do {                                                                                                 \
		const char *_m[] = { __VA_ARGS__, NULL };                                                    \
		ck_assert_msg (silences_event ((fx), _m, (event)), "'%s' did not match", _m[0]);             \
	} while (0)
#define assert_not_silences(fx, event, ...)                                                                  \
	do {                                                                                                 \
		const char *_m[] = { __VA_ARGS__, NULL };                                                    \
		ck_assert_msg (!silences_event ((fx), _m, (event)), "'%s' matched", _m[0]);                  \
	} while (0)

/* the milliseconds a ULID-style id starts with */
static guint64
id_time_ms (const char *id)
{
	static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
	guint64 ms = 0;

	ck_assert (g_str_has_prefix (id, "sil_"));
	ck_assert_uint_eq (strlen (id), 30);
	for (guint i = 0; i < 26; i++)
		ck_assert_ptr_nonnull (strchr (alphabet, id[4 + i]));
	/* 10 digits: 2 zero bits and 48 bits of time */
	for (guint i = 0; i < 10; i++)
		ms = ms * 32 + (guint64) (strchr (alphabet, id[4 + i]) - alphabet);
	return ms;
}

START_TEST (test_add_list_remove)
{
	Fixture fx = { 0 };
	g_autoptr(GPtrArray) list = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *id1 = NULL;
	g_autofree char *id2 = NULL;
	g_autofree char *id3 = NULL;
	const char *matchers[] = { " type = alert.* ", "agent_id=edge-*", "env!={staging, prod}", NULL };
	AstraSilence *s;

	fixture_open (&fx, ":memory:", T0);
	ck_assert_uint_eq (astra_silences_get_n_active (fx.silences), 0);
	list = astra_silences_list (fx.silences);
	ck_assert_uint_eq (list->len, 0);

	id1 = add_full (&fx, matchers, "90m", "router maintenance", "alice");
	ck_assert_uint_eq (id_time_ms (id1), (guint64) (T0 / 1000));
	astra_clock_advance (fx.clock, 1000);
	id2 = add_full (&fx, (const char *[]){ "severity=info", NULL }, "2h", "noisy", NULL);
	/* the same millisecond: still increasing */
	id3 = add_full (&fx, (const char *[]){ "rule=cpu", NULL }, "3h", "known", "bob");
	ck_assert_int_lt (strcmp (id1, id2), 0);
	ck_assert_int_lt (strcmp (id2, id3), 0);
	ck_assert_uint_eq (id_time_ms (id3), (guint64) (T0 / 1000 + 1));
	ck_assert_uint_eq (astra_silences_get_n_active (fx.silences), 3);
	ck_assert_int_eq (n_rows (&fx), 3);
	/* written in the state database's batched transaction */
	ck_assert_uint_ne (astra_state_db_get_transaction (fx.db), 0);

	/* oldest first, matchers normalised and sorted */
	s = list_index (&fx, &list, 0);
	ck_assert_uint_eq (list->len, 3);
	ck_assert_str_eq (s->id, id1);
	ck_assert_uint_eq (g_strv_length (s->matchers), 3);
	ck_assert_str_eq (s->matchers[0], "agent_id=edge-*");
	ck_assert_str_eq (s->matchers[1], "env!={prod,staging}");
	ck_assert_str_eq (s->matchers[2], "type=alert.*");
	ck_assert_int_eq (s->starts_us, T0);
	ck_assert_int_eq (s->ends_us, T0 + 90 * MINUTE);
	ck_assert_str_eq (s->comment, "router maintenance");
	ck_assert_str_eq (s->author, "alice");
	ck_assert_uint_eq (s->n_silenced, 0);
	s = list_index (&fx, &list, 1);
	ck_assert_str_eq (s->id, id2);
	ck_assert_str_eq (s->author, "");
	ck_assert_int_eq (s->starts_us, T0 + 1000);
	ck_assert_int_eq (s->ends_us, T0 + 1000 + 2 * HOUR);
	/* a copy */
	{
		g_autoptr(AstraSilence) copy = astra_silence_copy (s);
		ck_assert_ptr_ne (copy->id, s->id);
		ck_assert_str_eq (copy->id, s->id);
		ck_assert_str_eq (copy->matchers[0], "severity=info");
	}

	ck_assert (astra_silences_remove (fx.silences, id2, &error));
	astra_assert_no_error (error);
	ck_assert_uint_eq (astra_silences_get_n_active (fx.silences), 2);
	ck_assert_int_eq (n_rows (&fx), 2);
	ck_assert_str_eq (list_index (&fx, &list, 0)->id, id1);
	ck_assert_str_eq (list_index (&fx, &list, 1)->id, id3);

	/* gone, or never there */
	ck_assert (!astra_silences_remove (fx.silences, id2, &error));
	ck_assert (g_error_matches (error, ASTRA_ERROR, ASTRA_ERROR_NOT_FOUND));
	astra_assert_contains (error->message, id2);
	g_clear_error (&error);
	ck_assert (!astra_silences_remove (fx.silences, "sil_nope", &error));
	ck_assert (g_error_matches (error, ASTRA_ERROR, ASTRA_ERROR_NOT_FOUND));
	g_clear_error (&error);
	ck_assert_uint_eq (astra_silences_get_n_active (fx.silences), 2);
	astra_silence_free (NULL);
	fixture_close (&fx);
}
END_TEST

/* until, comment and author that are fine, unless a case says otherwise */
static const struct {
	const char *matchers[4];
	const char *until;
	const char *comment;
	const char *author;
	const char *message;
} bad_silences[] = {
	{ { NULL }, "1h", "c", NULL, "matchers: at least one is needed" },
	{ { "type=alert.triggered", "agent_id=~x" }, "1h", "c", NULL, "matcher 2 'agent_id=~x': " },
	{ { "agent_id=~x" }, "1h", "c", NULL, "no == and no regular expressions" },
	{ { "novalue" }, "1h", "c", NULL, "matcher 1 'novalue': 'novalue' is not a matcher" },
	{ { "a=b", "" }, "1h", "c", NULL, "matcher 2: empty: expected label=value" },
	{ { "  " }, "1h", "c", NULL, "matcher 1: empty" },
	{ { "a={x,y" }, "1h", "c", NULL, "matcher 1 'a={x,y': 'a={x,y' has an unclosed '{'" },
	{ { "a={x*,y}" }, "1h", "c", NULL, "has a wildcard" },
	{ { "9lives=x" }, "1h", "c", NULL, "matcher 1 '9lives=x': '9lives' is not a label name" },
	{ { "a=x}" }, "1h", "c", NULL, "only surround a whole set" },
	{ { "a=\xff" }, "1h", "c", NULL, "matcher 1: not valid UTF-8" },
	{ { "a=x", "a=x" }, "1h", "c", NULL, "matchers: 'a=x' is listed twice" },
	{ { "a=x", "a=y" },
	  "1h",
	  "c",
	  NULL,
	  "matchers: 'a=x' and 'a=y' never both hold: the silence would match no event" },
	{ { "a=x", "a!={x,y}" }, "1h", "c", NULL, "never both hold" },
	/* type and severity have known values: a typo would silence nothing, or everything */
	{ { "type=alert.trigered" },
	  "1h",
	  "c",
	  NULL,
	  "matcher 1 'type=alert.trigered': 'alert.trigered' is not an event type: expected one of "
	  "agent.status_changed, agent.registered, speedtest.completed, traceroute.completed, "
	  "service_test.failed, alert.triggered, alert.resolved" },
	{ { "type!=alert.trigered" }, "1h", "c", NULL, "'alert.trigered' is not an event type" },
	{ { "type=" }, "1h", "c", NULL, "'' is not an event type" },
	{ { "type={alert.triggered,alert.resolve}" },
	  "1h",
	  "c",
	  NULL,
	  "'alert.resolve' is not an event type" },
	{ { "type=alrt.*" }, "1h", "c", NULL, "matcher 1 'type=alrt.*': 'alrt.*' matches no event type" },
	{ { "type!=alrt.*" }, "1h", "c", NULL, "'alrt.*' matches no event type" },
	{ { "a=b", "severity=crit" },
	  "1h",
	  "c",
	  NULL,
	  "matcher 2 'severity=crit': 'crit' is not a severity: expected one of info, warning, error, "
	  "critical" },
	{ { "severity!={info,debug}" }, "1h", "c", NULL, "'debug' is not a severity" },
	{ { "severity=c*x" }, "1h", "c", NULL, "'c*x' matches no severity" },
	{ { "a=x" }, "", "c", NULL, "until: empty: expected a duration" },
	{ { "a=x" }, NULL, "c", NULL, "until: empty" },
	{ { "a=x" }, "0", "c", NULL, "until: '0' would end the silence at once" },
	{ { "a=x" }, "367d", "c", NULL, "until: '367d' is more than 366 days away" },
	{ { "a=x" }, "366d1ms", "c", NULL, "more than 366 days away" },
	{ { "a=x" }, "99999999999999999999d", "c", NULL, "more than 366 days away" },
	{ { "a=x" }, "soon", "c", NULL, "until: 'soon' is neither a duration such as '90m'" },
	{ { "a=x" }, "-5m", "c", NULL, "until: '-5m' is neither" },
	{ { "a=x" }, "5 m", "c", NULL, "is neither" },
	{ { "a=x" },
	  "2020-01-01T00:00:00Z",
	  "c",
	  NULL,
	  "until: 2020-01-01T00:00:00Z is not in the future (it is " T0_S " now)" },
	{ { "a=x" }, T0_S, "c", NULL, "is not in the future" },
	{ { "a=x" }, "2025-12-17T20:33:20+02:00", "c", NULL, "is not in the future" },
	{ { "a=x" },
	  "2027-01-01T00:00:00Z",
	  "c",
	  NULL,
	  "until: 2027-01-01T00:00:00Z is more than 366 days away" },
	{ { "a=x" },
	  "2026-13-01T00:00:00Z",
	  "c",
	  NULL,
	  "until: '2026-13-01T00:00:00Z': not an RFC 3339 date-time" },
	{ { "a=x" }, "2026-01-01T00:00:00", "c", NULL, "not an RFC 3339 date-time with a zone" },
	{ { "a=x" }, "2026-01-01", "c", NULL, "not an RFC 3339" },
	{ { "a=x" }, "1h", "", NULL, "comment: empty" },
	{ { "a=x" }, "1h", " \t\n", NULL, "comment: empty" },
	{ { "a=x" }, "1h", NULL, NULL, "comment: empty" },
	{ { "a=x" }, "1h", "\xc3", NULL, "comment: not valid UTF-8" },
	{ { "a=x" }, "1h", "c", "\xff", "author: not valid UTF-8" },
};

START_TEST (test_bad_silence)
{
	Fixture fx = { 0 };
	g_autoptr(GError) error = NULL;
	g_autofree char *id = NULL;

	fixture_open (&fx, ":memory:", T0);
	id = astra_silences_add (fx.silences, bad_silences[_i].matchers, bad_silences[_i].until,
				 bad_silences[_i].comment, bad_silences[_i].author, &error);
	ck_assert_ptr_null (id);
	ck_assert_msg (g_error_matches (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA), "case %d: %s", _i,
		       error != NULL ? error->message : "no error");
	astra_assert_contains (error->message, bad_silences[_i].message);
	ck_assert_uint_eq (astra_silences_get_n_active (fx.silences), 0);
	ck_assert_int_eq (n_rows (&fx), 0);
	fixture_close (&fx);
}
END_TEST

START_TEST (test_bounds)
{
	Fixture fx = { 0 };
	g_autoptr(GPtrArray) many = g_ptr_array_new_with_free_func (g_free);
	g_autoptr(GPtrArray) list = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *long_value = g_strnfill (1000, 'v');
	g_autofree char *long_matcher = NULL;
	g_autofree char *too_long_matcher = NULL;
	g_autofree char *comment = g_strnfill (ASTRA_SILENCES_MAX_COMMENT, 'c');
	g_autofree char *long_comment = g_strnfill (ASTRA_SILENCES_MAX_COMMENT + 1, 'c');
	g_autofree char *author = g_strnfill (ASTRA_SILENCES_MAX_AUTHOR, 'a');
	g_autofree char *long_author = g_strnfill (ASTRA_SILENCES_MAX_AUTHOR + 1, 'a');
	g_autofree char *id = NULL;

	fixture_open (&fx, ":memory:", T0);

	/* 32 matchers, and one more */
	for (guint i = 0; i < ASTRA_SILENCES_MAX_MATCHERS; i++)
		g_ptr_array_add (many, g_strdup_printf ("l%02u=v", i));
	g_ptr_array_add (many, NULL);
	g_free (add_full (&fx, (const char *const *) many->pdata, "1h", "c", NULL));
	g_ptr_array_index (many, ASTRA_SILENCES_MAX_MATCHERS) = g_strdup ("l99=v");
	g_ptr_array_add (many, NULL);
	id = astra_silences_add (fx.silences, (const char *const *) many->pdata, "1h", "c", NULL, &error);
	ck_assert_ptr_null (id);
	ck_assert (g_error_matches (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA));
	astra_assert_contains (error->message, "matchers: 33 given, at most 32 may be");
	g_clear_error (&error);

	/* a matcher of 2048 bytes and one longer, quoted only in part */
	long_matcher = g_strdup_printf ("label=%s", long_value);
	g_free (add_full (&fx, (const char *[]){ long_matcher, NULL }, "1h", "c", NULL));
	too_long_matcher = g_strdup_printf ("label={%s,%s,%s}", long_value, long_value, long_value);
	ck_assert_uint_gt (strlen (too_long_matcher), ASTRA_SILENCES_MAX_MATCHER_LENGTH);
	id = astra_silences_add (fx.silences, (const char *[]){ "a=b", too_long_matcher, NULL }, "1h", "c",
				 NULL, &error);
	ck_assert_ptr_null (id);
	astra_assert_contains (error->message, "matcher 2 'label={vvvv");
	astra_assert_contains (error->message, "...': longer than 2048 bytes");
	ck_assert_uint_lt (strlen (error->message), 200);
	g_clear_error (&error);

	/* comment and author at their bounds, and over */
	g_free (add_full (&fx, (const char *[]){ "a=b", NULL }, "366d", comment, author));
	id = astra_silences_add (fx.silences, (const char *[]){ "a=b", NULL }, "1h", long_comment, NULL,
				 &error);
	ck_assert_ptr_null (id);
	astra_assert_contains (error->message, "comment: longer than 1024 bytes");
	g_clear_error (&error);
	id =
	    astra_silences_add (fx.silences, (const char *[]){ "a=b", NULL }, "1h", "c", long_author, &error);
	ck_assert_ptr_null (id);
	astra_assert_contains (error->message, "author: longer than 256 bytes");
	g_clear_error (&error);

	ck_assert_uint_eq (astra_silences_get_n_active (fx.silences), 3);
	list = astra_silences_list (fx.silences);
	ck_assert_int_eq (((AstraSilence *) g_ptr_array_index (list, 2))->ends_us, T0 + 366 * DAY);
	fixture_close (&fx);
}
END_TEST

START_TEST (test_too_many)
{
	Fixture fx = { 0 };
	g_autoptr(GError) error = NULL;
	g_autofree char *first = NULL;
	g_autofree char *id = NULL;

	fixture_open (&fx, ":memory:", T0);
	for (guint i = 0; i < ASTRA_SILENCES_MAX_ACTIVE; i++) {
		g_autofree char *matcher = g_strdup_printf ("agent_id=a%u", i);
		char *added = add1 (&fx, matcher, "1h");

		if (i == 0)
			first = added;
		else
			g_free (added);
	}
	ck_assert_uint_eq (astra_silences_get_n_active (fx.silences), 1000);
	id = astra_silences_add (fx.silences, (const char *[]){ "a=b", NULL }, "1h", "c", NULL, &error);
	ck_assert_ptr_null (id);
	ck_assert (g_error_matches (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA));
	astra_assert_contains (error->message, "too many silences: 1000 are active");
	g_clear_error (&error);
	ck_assert_int_eq (n_rows (&fx), 1000);

	/* room again once one is removed */
	ck_assert (astra_silences_remove (fx.silences, first, &error));
	g_free (add1 (&fx, "a=b", "1h"));
	ck_assert_uint_eq (astra_silences_get_n_active (fx.silences), 1000);
	fixture_close (&fx);
}
END_TEST

START_TEST (test_until)
{
	static const struct {
		const char *until;
		gint64 ends_us;
	} cases[] = {
		{ "90m", T0 + 90 * MINUTE },
		{ "1h30m", T0 + 90 * MINUTE },
		{ "1d", T0 + DAY },
		{ "500ms", T0 + 500 * 1000 },
		{ "366d", T0 + 366 * DAY },
		{ "2025-12-18T00:00:00Z", G_GINT64_CONSTANT (1766016000) * SEC },
		{ "2025-12-18t00:00:00z", G_GINT64_CONSTANT (1766016000) * SEC },
		{ "2025-12-18T02:00:00+02:00", G_GINT64_CONSTANT (1766016000) * SEC },
		{ "2025-12-17T19:33:20.25Z", T0 + SEC / 4 },
		{ "2025-12-17T19:33:20.000001Z", T0 + 1 },
	};
	Fixture fx = { 0 };
	g_autoptr(GPtrArray) list = NULL;

	fixture_open (&fx, ":memory:", T0);
	for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
		g_free (add1 (&fx, "a=b", cases[i].until));
	list = astra_silences_list (fx.silences);
	for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
		AstraSilence *s = g_ptr_array_index (list, i);
		ck_assert_msg (s->ends_us == cases[i].ends_us, "%s: %" G_GINT64_FORMAT, cases[i].until,
			       s->ends_us);
	}
	fixture_close (&fx);
}
END_TEST

START_TEST (test_match_labels)
{
	Fixture fx = { 0 };
	g_autoptr(AstraEvent) status = astra_check_fixture_event ("agent.status_changed", "evt_1");
	g_autoptr(AstraEvent) registered = astra_check_fixture_event ("agent.registered", "evt_2");
	g_autoptr(AstraEvent) failed = astra_check_fixture_event ("service_test.failed", "evt_3");
	g_autoptr(AstraEvent) triggered = astra_check_fixture_event ("alert.triggered", "evt_4");
	g_autoptr(AstraEvent) resolved = astra_check_fixture_event ("alert.resolved", "evt_5");
	g_autoptr(AstraEvent) warning =
		       alert_new ("warning", "\"hostname\":\"server-01\"",
				  "\"hostname\":\"other\",\"type\":\"icmp\",\"site\":\"fra-1\"");

	fixture_open (&fx, ":memory:", T0);

	/* type, exact and glob */
	assert_silences (&fx, status, "type=agent.status_changed");
	assert_not_silences (&fx, registered, "type=agent.status_changed");
	assert_silences (&fx, triggered, "type=alert.*");
	assert_silences (&fx, resolved, "type=alert.*");
	assert_not_silences (&fx, status, "type=alert.*");
	assert_silences (&fx, status, "type!=alert.*");
	assert_silences (&fx, failed, "type={service_test.failed,speedtest.completed}");
	assert_not_silences (&fx, failed, "type!={service_test.failed,speedtest.completed}");

	/* severity: the event's, by name */
	assert_silences (&fx, status, "severity=critical");
	assert_silences (&fx, registered, "severity=info");
	assert_silences (&fx, failed, "severity=error");
	assert_silences (&fx, warning, "severity=warning");
	assert_not_silences (&fx, warning, "severity=critical");
	assert_silences (&fx, triggered, "severity!={info,warning}");
	assert_silences (&fx, registered, "severity!=critical");

	/* the data's string members */
	assert_silences (&fx, status, "agent_id=agent-123");
	assert_silences (&fx, status, "agent_id=agent-*", "current_status=offline");
	assert_not_silences (&fx, status, "agent_id=agent-*", "current_status=online");
	assert_silences (&fx, failed, "test=intranet-login", "kind=http", "tenant_id=tenant-?bc");
	assert_silences (&fx, triggered, "rule=high-latency", "metric=latency_ms");
	assert_not_silences (&fx, registered, "agent_id=edge-*");
	assert_silences (&fx, registered, "agent_id!=edge-*");
	assert_silences (&fx, registered, "hostname={db-01,server-01}");
	/* numbers are not labels: they read as "" */
	assert_not_silences (&fx, failed, "status_code=503");
	assert_silences (&fx, failed, "status_code=");
	assert_not_silences (&fx, triggered, "value=231.4");

	/* an alert's labels */
	assert_silences (&fx, triggered, "target=8.8.8.8");
	assert_silences (&fx, resolved, "target=8.8.*", "agent_id=agent-123");
	assert_not_silences (&fx, triggered, "target=1.1.1.1");
	assert_silences (&fx, warning, "site=fra-*");
	/* a clash: type and severity are the event's (the labels' type=icmp is hidden), then the
	 * data's members win over labels */
	assert_silences (&fx, warning, "type=alert.triggered");
	assert_silences (&fx, warning, "hostname=server-01");
	assert_not_silences (&fx, warning, "hostname=other");
	/* other events have no alert labels */
	assert_not_silences (&fx, status, "target=8.8.8.8");

	/* a label the event lacks reads as "" */
	assert_silences (&fx, status, "region=");
	assert_silences (&fx, status, "region!=eu-*");
	assert_silences (&fx, status, "region!=eu");
	assert_silences (&fx, status, "region!={eu,us}");
	assert_not_silences (&fx, status, "region=eu-*");
	assert_not_silences (&fx, status, "region={eu,us}");
	assert_silences (&fx, status, "region=*");
	assert_not_silences (&fx, status, "agent_id=");

	/* all matchers must hold */
	assert_silences (&fx, triggered, "type=alert.triggered", "severity=critical", "target=8.8.8.8",
			 "agent_id=agent-123", "env!=prod");
	assert_not_silences (&fx, triggered, "type=alert.triggered", "severity=critical", "target=8.8.8.8",
			     "agent_id=agent-124");
	ck_assert_uint_eq (astra_silences_get_n_active (fx.silences), 0);
	fixture_close (&fx);
}
END_TEST

START_TEST (test_match_counts)
{
	Fixture fx = { 0 };
	g_autoptr(AstraEvent) status = astra_check_fixture_event ("agent.status_changed", "evt_1");
	g_autoptr(AstraEvent) triggered = astra_check_fixture_event ("alert.triggered", "evt_2");
	g_autoptr(AstraEvent) registered = astra_check_fixture_event ("agent.registered", "evt_3");
	g_autoptr(GPtrArray) list = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *broad = NULL;
	g_autofree char *narrow = NULL;

	fixture_open (&fx, ":memory:", T0);
	/* none: NULL at once */
	ck_assert_ptr_null (astra_silences_match (fx.silences, status));

	narrow = add1 (&fx, "agent_id=agent-123", "2h");
	broad = add1 (&fx, "severity=critical", "1h");
	/* the oldest of those that match */
	ck_assert_str_eq (astra_silences_match (fx.silences, status), narrow);
	ck_assert_str_eq (astra_silences_match (fx.silences, triggered), narrow);
	ck_assert_str_eq (astra_silences_match (fx.silences, registered), narrow);
	ck_assert (astra_silences_remove (fx.silences, narrow, &error));
	ck_assert_str_eq (astra_silences_match (fx.silences, status), broad);
	ck_assert_ptr_null (astra_silences_match (fx.silences, registered));
	ck_assert_str_eq (astra_silences_match (fx.silences, triggered), broad);

	list = astra_silences_list (fx.silences);
	ck_assert_uint_eq (list->len, 1);
	ck_assert_uint_eq (((AstraSilence *) g_ptr_array_index (list, 0))->n_silenced, 2);
	ck_assert_int_eq (sql_int (fx.db, "SELECT n_silenced FROM silences"), 2);

	/* many events, none matching: no count moves */
	for (guint i = 0; i < 10000; i++)
		ck_assert_ptr_null (astra_silences_match (fx.silences, registered));
	ck_assert_int_eq (sql_int (fx.db, "SELECT n_silenced FROM silences"), 2);
	fixture_close (&fx);
}
END_TEST

START_TEST (test_expiry)
{
	Fixture fx = { 0 };
	g_autoptr(AstraEvent) status = astra_check_fixture_event ("agent.status_changed", "evt_1");
	g_autoptr(GPtrArray) list = NULL;
	g_autofree char *a = NULL;
	g_autofree char *b = NULL;
	g_autofree char *c = NULL;

	fixture_open (&fx, ":memory:", T0);
	run_idle ();
	ck_assert_uint_eq (astra_clock_get_n_scheduled (fx.clock), 0);
	c = add1 (&fx, "agent_id=agent-123", "1h");
	a = add1 (&fx, "severity=critical", "10m");
	b = add1 (&fx, "type=agent.*", "20m");
	/* one timer, at the nearest end */
	ck_assert_uint_eq (astra_clock_get_n_scheduled (fx.clock), 1);

	astra_clock_advance (fx.clock, 10 * MINUTE - 1);
	ck_assert_uint_eq (astra_silences_get_n_active (fx.silences), 3);
	ck_assert_str_eq (astra_silences_match (fx.silences, status), c);
	/* ends at its end time exactly */
	astra_clock_advance (fx.clock, 1);
	ck_assert_uint_eq (astra_silences_get_n_active (fx.silences), 2);
	list = astra_silences_list (fx.silences);
	ck_assert_str_eq (((AstraSilence *) g_ptr_array_index (list, 0))->id, c);
	ck_assert_str_eq (((AstraSilence *) g_ptr_array_index (list, 1))->id, b);

	astra_clock_advance (fx.clock, 10 * MINUTE);
	ck_assert_uint_eq (astra_silences_get_n_active (fx.silences), 1);
	ck_assert_str_eq (astra_silences_match (fx.silences, status), c);
	/* the rows go in the background */
	ck_assert_int_eq (n_rows (&fx), 3);
	run_idle ();
	ck_assert_int_eq (n_rows (&fx), 1);

	astra_clock_advance (fx.clock, HOUR);
	ck_assert_uint_eq (astra_silences_get_n_active (fx.silences), 0);
	ck_assert_uint_eq (astra_clock_get_n_scheduled (fx.clock), 0);
	ck_assert_ptr_null (astra_silences_match (fx.silences, status));
	run_idle ();
	ck_assert_int_eq (n_rows (&fx), 0);

	/* a removed silence takes its timer along */
	g_free (a);
	a = add1 (&fx, "a=b", "5m");
	ck_assert_uint_eq (astra_clock_get_n_scheduled (fx.clock), 1);
	ck_assert (astra_silences_remove (fx.silences, a, NULL));
	ck_assert_uint_eq (astra_clock_get_n_scheduled (fx.clock), 0);
	fixture_close (&fx);
}
END_TEST

START_TEST (test_prune_batches)
{
	Fixture fx = { 0 };

	fixture_open (&fx, ":memory:", T0);
	for (guint i = 0; i < 250; i++)
		g_free (add1 (&fx, "a=b", i < 240 ? "1m" : "1h"));
	astra_clock_advance (fx.clock, 2 * MINUTE);
	ck_assert_uint_eq (astra_silences_get_n_active (fx.silences), 10);
	ck_assert_int_eq (n_rows (&fx), 250);
	/* at most 100 rows a turn */
	ck_assert (g_main_context_iteration (NULL, FALSE));
	ck_assert_int_eq (n_rows (&fx), 150);
	ck_assert (g_main_context_iteration (NULL, FALSE));
	ck_assert_int_eq (n_rows (&fx), 50);
	ck_assert (g_main_context_iteration (NULL, FALSE));
	ck_assert_int_eq (n_rows (&fx), 10);
	run_idle ();
	ck_assert_int_eq (n_rows (&fx), 10);
	fixture_close (&fx);
}
END_TEST

START_TEST (test_persistence)
{
	g_autofree char *path = astra_check_tmp_path ("state.db");
	g_autoptr(AstraEvent) status = astra_check_fixture_event ("agent.status_changed", "evt_1");
	g_autoptr(AstraEvent) triggered = astra_check_fixture_event ("alert.triggered", "evt_2");
	g_autoptr(GPtrArray) before = NULL;
	g_autoptr(GPtrArray) after = NULL;
	g_autoptr(GError) error = NULL;
	Fixture fx = { 0 };
	g_autofree char *soon = NULL;
	g_autofree char *later = NULL;
	g_autofree char *removed = NULL;
	g_autofree char *latest = NULL;

	fixture_open (&fx, path, T0);
	soon = add1 (&fx, "agent_id=agent-123", "5m");
	later = add_full (&fx, (const char *[]){ "type=alert.*", "target={1.1.1.1,8.8.8.8}", NULL }, "1h",
			  "dns checks", "carol");
	removed = add1 (&fx, "a=b", "1h");
	latest = add1 (&fx, "severity!=info", "2h");
	ck_assert_str_eq (astra_silences_match (fx.silences, status), soon);
	ck_assert_str_eq (astra_silences_match (fx.silences, triggered), soon);
	astra_clock_advance (fx.clock, MINUTE);
	/* removed ones are deleted, or they would be back */
	ck_assert (astra_silences_remove (fx.silences, soon, &error));
	ck_assert (astra_silences_remove (fx.silences, removed, &error));
	g_free (soon);
	soon = add1 (&fx, "agent_id=agent-123", "5m");
	ck_assert_str_eq (astra_silences_match (fx.silences, triggered), later);
	ck_assert_str_eq (astra_silences_match (fx.silences, status), latest);
	ck_assert_str_eq (astra_silences_match (fx.silences, status), latest);
	before = astra_silences_list (fx.silences);
	ck_assert_uint_eq (before->len, 3);
	fixture_close (&fx);

	/* ten minutes later: the 5-minute silence ended while the daemon was stopped */
	fixture_open (&fx, path, T0 + 10 * MINUTE);
	ck_assert_uint_eq (astra_state_db_get_schema_version (fx.db, ASTRA_SILENCES_DB_MODULE), 1);
	after = astra_silences_list (fx.silences);
	ck_assert_uint_eq (after->len, 2);
	for (guint i = 0; i < after->len; i++) {
		AstraSilence *was = g_ptr_array_index (before, i);
		AstraSilence *now = g_ptr_array_index (after, i);

		ck_assert_str_eq (now->id, was->id);
		ck_assert (
		    g_strv_equal ((const char *const *) now->matchers, (const char *const *) was->matchers));
		ck_assert_int_eq (now->starts_us, was->starts_us);
		ck_assert_int_eq (now->ends_us, was->ends_us);
		ck_assert_str_eq (now->comment, was->comment);
		ck_assert_str_eq (now->author, was->author);
		ck_assert_uint_eq (now->n_silenced, was->n_silenced);
	}
	ck_assert_str_eq (((AstraSilence *) g_ptr_array_index (after, 0))->id, later);
	ck_assert_uint_eq (((AstraSilence *) g_ptr_array_index (after, 0))->n_silenced, 1);
	ck_assert_uint_eq (((AstraSilence *) g_ptr_array_index (after, 1))->n_silenced, 2);
	ck_assert_str_eq (((AstraSilence *) g_ptr_array_index (after, 0))->author, "carol");
	ck_assert_str_eq (((AstraSilence *) g_ptr_array_index (after, 1))->id, latest);
	/* the matchers work as before */
	ck_assert_str_eq (astra_silences_match (fx.silences, triggered), later);
	ck_assert_str_eq (astra_silences_match (fx.silences, status), latest);
	/* the ended row goes in the background; the timer is at the nearest end */
	ck_assert_int_eq (n_rows (&fx), 3);
	run_idle ();
	ck_assert_int_eq (n_rows (&fx), 2);
	ck_assert_uint_eq (astra_clock_get_n_scheduled (fx.clock), 1);
	astra_clock_advance_to (fx.clock, T0 + HOUR);
	ck_assert_uint_eq (astra_silences_get_n_active (fx.silences), 1);
	fixture_close (&fx);

	/* three hours on, nothing is left to load */
	fixture_open (&fx, path, T0 + 3 * HOUR);
	ck_assert_uint_eq (astra_silences_get_n_active (fx.silences), 0);
	ck_assert_ptr_null (astra_silences_match (fx.silences, status));
	run_idle ();
	ck_assert_int_eq (n_rows (&fx), 0);
	fixture_close (&fx);
}
END_TEST

START_TEST (test_schema)
{
	Fixture fx = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(AstraSilences) again = NULL;
	g_autoptr(AstraSilences) newer = NULL;

	fixture_open (&fx, ":memory:", T0);
	ck_assert_uint_eq (astra_state_db_get_schema_version (fx.db, "silences"),
			   ASTRA_SILENCES_SCHEMA_VERSION);
	g_free (add1 (&fx, "a=b", "1h"));
	/* rows this daemon cannot read are left out, not fatal */
	ck_assert (astra_state_db_exec (
	    fx.db,
	    "INSERT INTO silences VALUES ('sil_bad1', '[\"a=~x\"]', 0, 9e15, 'c', '', 0);"
	    "INSERT INTO silences VALUES ('sil_bad2', 'not json', 0, 9e15, 'c', '', 0);"
	    "INSERT INTO silences VALUES ('sil_bad3', '[]', 0, 9e15, 'c', '', 0);"
	    "INSERT INTO silences VALUES ('sil_bad4', '[1]', 0, 9e15, 'c', '', 0);"
	    "INSERT INTO silences VALUES ('sil_bad5', '[\"a=x\",\"a=y\"]', 0, 9e15, 'c', '', 0);"
	    "INSERT INTO silences VALUES ('sil_ok', '[\"b=c\"]', 1, 9e15, 'c', 'x', 7);",
	    &error));
	astra_assert_no_error (error);
	again = astra_silences_new (fx.db, fx.clock, &error);
	astra_assert_no_error (error);
	ck_assert_uint_eq (astra_silences_get_n_active (again), 2);
	{
		g_autoptr(GPtrArray) list = astra_silences_list (again);
		AstraSilence *s = g_ptr_array_index (list, 0);

		ck_assert_str_eq (s->id, "sil_ok");
		ck_assert_uint_eq (s->n_silenced, 7);
	}
	/* a database from a newer daemon is refused, not misread */
	ck_assert (astra_state_db_set_schema_version (fx.db, ASTRA_SILENCES_DB_MODULE, 2, &error));
	newer = astra_silences_new (fx.db, fx.clock, &error);
	ck_assert_ptr_null (newer);
	astra_assert_contains (error->message, "schema version 2");
	fixture_close (&fx);
}
END_TEST

static Suite *
silences_suite (void)
{
	Suite *s = suite_create ("silences");
	TCase *tc;

	tc = tcase_create ("add");
	tcase_add_test (tc, test_add_list_remove);
	tcase_add_loop_test (tc, test_bad_silence, 0, G_N_ELEMENTS (bad_silences));
	tcase_add_test (tc, test_bounds);
	tcase_add_test (tc, test_too_many);
	tcase_add_test (tc, test_until);
	suite_add_tcase (s, tc);

	tc = tcase_create ("match");
	tcase_add_test (tc, test_match_labels);
	tcase_add_test (tc, test_match_counts);
	suite_add_tcase (s, tc);

	tc = tcase_create ("end");
	tcase_add_test (tc, test_expiry);
	tcase_add_test (tc, test_prune_batches);
	suite_add_tcase (s, tc);

	tc = astra_check_tmpdir_tcase_new ("persistence");
	tcase_add_test (tc, test_persistence);
	tcase_add_test (tc, test_schema);
	suite_add_tcase (s, tc);

	return s;
}

int
main (void)
{
	return astra_check_run_suite (silences_suite ());
}
