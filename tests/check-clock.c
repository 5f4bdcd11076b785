/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * AstraClock: the one timer heap every deadline lives in.
 */

#include "config.h"

#include "astra-check-common.h"
#include "astra-clock.h"

typedef struct {
	GArray *fired; /* gint64 deadlines in firing order */
	AstraClock *clock;
	AstraTimer *reschedule; /* a timer that re-arms itself once */
	gboolean free_self;
} Record;

static void
record_cb (AstraTimer *timer, gpointer user_data)
{
	Record *rec = user_data;
	gint64 now = astra_clock_now (rec->clock);

	/* a timer sees the clock at its own deadline (or later, for a deadline already past),
	 * not at the end of the advance: test_fake_order checks the exact times */
	ck_assert_int_ge (now, astra_timer_get_deadline (timer));
	g_array_append_val (rec->fired, now);
	if (timer == rec->reschedule) {
		rec->reschedule = NULL;
		astra_timer_schedule (timer, now + 5);
	}
	if (rec->free_self)
		astra_timer_free (timer);
}

START_TEST (test_fake_order)
{
	g_autoptr(AstraClock) clock = astra_clock_new_fake (1000);
	g_autoptr(GArray) fired = g_array_new (FALSE, FALSE, sizeof (gint64));
	Record rec = {fired, clock, NULL, FALSE};
	const gint64 deadlines[] = {1050, 1010, 1030, 1010, 1100, 1020};
	AstraTimer *timers[G_N_ELEMENTS (deadlines)];
	const gint64 expected[] = {1010, 1010, 1020, 1030, 1050};

	for (guint i = 0; i < G_N_ELEMENTS (deadlines); i++) {
		timers[i] = astra_timer_new (clock, record_cb, &rec);
		astra_timer_schedule (timers[i], deadlines[i]);
	}
	ck_assert_uint_eq (astra_clock_get_n_scheduled (clock), 6);
	astra_clock_advance (clock, 50);
	ck_assert_int_eq (astra_clock_now (clock), 1050);
	ck_assert_uint_eq (fired->len, G_N_ELEMENTS (expected));
	for (guint i = 0; i < fired->len; i++)
		ck_assert_int_eq (g_array_index (fired, gint64, i), expected[i]);
	ck_assert (astra_timer_is_scheduled (timers[4]));
	ck_assert (!astra_timer_is_scheduled (timers[0]));
	for (guint i = 0; i < G_N_ELEMENTS (timers); i++)
		astra_timer_free (timers[i]);
	ck_assert_uint_eq (astra_clock_get_n_scheduled (clock), 0);
}
END_TEST

START_TEST (test_fake_reschedule_cancel)
{
	g_autoptr(AstraClock) clock = astra_clock_new_fake (0);
	g_autoptr(GArray) fired = g_array_new (FALSE, FALSE, sizeof (gint64));
	Record rec = {fired, clock, NULL, FALSE};
	g_autoptr(AstraTimer) a = astra_timer_new (clock, record_cb, &rec);
	g_autoptr(AstraTimer) b = astra_timer_new (clock, record_cb, &rec);

	/* moving a deadline later or earlier keeps one entry per timer */
	astra_timer_schedule (a, 10);
	astra_timer_schedule (a, 30);
	astra_timer_schedule (b, 20);
	astra_timer_schedule (b, 5);
	ck_assert_uint_eq (astra_clock_get_n_scheduled (clock), 2);
	rec.reschedule = b;
	astra_clock_advance (clock, 10);
	/* b fired at 5 and re-armed itself for 10, which is due too */
	ck_assert_uint_eq (fired->len, 2);
	ck_assert_int_eq (g_array_index (fired, gint64, 0), 5);
	ck_assert_int_eq (g_array_index (fired, gint64, 1), 10);
	astra_timer_cancel (a);
	astra_timer_cancel (a);
	astra_clock_advance (clock, 100);
	ck_assert_uint_eq (fired->len, 2);
	/* a deadline in the past runs at the next advance, even of zero */
	astra_timer_schedule (a, 1);
	astra_clock_advance (clock, 0);
	ck_assert_uint_eq (fired->len, 3);
	ck_assert_int_eq (g_array_index (fired, gint64, 2), 110);
}
END_TEST

START_TEST (test_fake_free_in_callback)
{
	g_autoptr(AstraClock) clock = astra_clock_new_fake (0);
	g_autoptr(GArray) fired = g_array_new (FALSE, FALSE, sizeof (gint64));
	Record rec = {fired, clock, NULL, TRUE};

	for (guint i = 0; i < 100; i++)
		astra_timer_schedule (astra_timer_new (clock, record_cb, &rec), (gint64) (i * 7919 % 100));
	astra_clock_advance (clock, 100);
	ck_assert_uint_eq (fired->len, 100);
	for (guint i = 1; i < fired->len; i++)
		ck_assert_int_le (g_array_index (fired, gint64, i - 1), g_array_index (fired, gint64, i));
	ck_assert_uint_eq (astra_clock_get_n_scheduled (clock), 0);
}
END_TEST

static gint
compare_int64 (gconstpointer a, gconstpointer b)
{
	gint64 x = *(const gint64 *) a;
	gint64 y = *(const gint64 *) b;

	return x < y ? -1 : x > y ? 1 : 0;
}

/* the heap against a sorted reference: random schedules, reschedules and cancels */
START_TEST (test_fake_heap_random)
{
	g_autoptr(AstraClock) clock = astra_clock_new_fake (0);
	g_autoptr(GArray) fired = g_array_new (FALSE, FALSE, sizeof (gint64));
	g_autoptr(GRand) rand = g_rand_new_with_seed (42);
	Record rec = {fired, clock, NULL, FALSE};
	g_autoptr(GPtrArray) timers = g_ptr_array_new_with_free_func ((GDestroyNotify) astra_timer_free);
	g_autoptr(GArray) expected = g_array_new (FALSE, FALSE, sizeof (gint64));

	for (guint i = 0; i < 20000; i++)
		g_ptr_array_add (timers, astra_timer_new (clock, record_cb, &rec));
	for (guint i = 0; i < 100000; i++) {
		AstraTimer *t = g_ptr_array_index (timers, g_rand_int_range (rand, 0, 20000));
		if (g_rand_int_range (rand, 0, 4) == 0)
			astra_timer_cancel (t);
		else
			astra_timer_schedule (t, g_rand_int_range (rand, 1, 1000000));
	}
	/* the reference: the deadline of every timer still scheduled, sorted */
	for (guint i = 0; i < timers->len; i++) {
		AstraTimer *t = g_ptr_array_index (timers, i);
		gint64 deadline = astra_timer_get_deadline (t);

		if (astra_timer_is_scheduled (t))
			g_array_append_val (expected, deadline);
	}
	g_array_sort (expected, compare_int64);
	ck_assert_uint_eq (astra_clock_get_n_scheduled (clock), expected->len);
	astra_clock_advance (clock, 1000000);
	/* each fired at its own deadline, earliest first: exactly the reference */
	ck_assert_uint_eq (fired->len, expected->len);
	for (guint i = 0; i < fired->len; i++)
		ck_assert_int_eq (g_array_index (fired, gint64, i), g_array_index (expected, gint64, i));
	ck_assert_uint_eq (astra_clock_get_n_scheduled (clock), 0);
}
END_TEST

static void
quit_cb (AstraTimer *timer, gpointer user_data)
{
	g_main_loop_quit (user_data);
}

START_TEST (test_real_fires)
{
	g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
	g_autoptr(AstraClock) clock = astra_clock_new ();
	g_autoptr(AstraTimer) early = astra_timer_new (clock, quit_cb, loop);
	g_autoptr(AstraTimer) late = astra_timer_new (clock, quit_cb, loop);
	gint64 start = astra_clock_now (clock);

	ck_assert (!astra_clock_is_fake (clock));
	astra_timer_schedule (late, start + 10 * G_USEC_PER_SEC);
	astra_timer_schedule (early, start + 20000);
	g_main_loop_run (loop);
	/* the earliest deadline re-armed the one source */
	ck_assert_int_ge (astra_clock_now (clock), start + 20000);
	ck_assert (!astra_timer_is_scheduled (early));
	ck_assert (astra_timer_is_scheduled (late));
}
END_TEST

START_TEST (test_format_time)
{
	g_autofree char *epoch = astra_clock_format_time (0);
	g_autofree char *docs = astra_clock_format_time (G_GINT64_CONSTANT (1765967400) * G_USEC_PER_SEC + 999999);
	g_autofree char *far = astra_clock_format_time (G_MAXINT64);

	ck_assert_str_eq (epoch, "1970-01-01T00:00:00Z");
	/* to the second, never rounded up */
	ck_assert_str_eq (docs, "2025-12-17T10:30:00Z");
	ck_assert_str_eq (far, "9999-12-31T23:59:59Z");
}
END_TEST

int
main (void)
{
	Suite *s = suite_create ("clock");
	TCase *tc = tcase_create ("clock");

	tcase_add_test (tc, test_fake_order);
	tcase_add_test (tc, test_format_time);
	tcase_add_test (tc, test_fake_reschedule_cancel);
	tcase_add_test (tc, test_fake_free_in_callback);
	tcase_add_test (tc, test_fake_heap_random);
	tcase_add_test (tc, test_real_fires);
	suite_add_tcase (s, tc);
	return astra_check_run_suite (s);
}
