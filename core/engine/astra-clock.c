/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "astra-clock.h"

struct _AstraTimer {
	AstraClock *clock; /* not owned: a clock outlives its timers */
	AstraTimerFunc func;
	gpointer user_data;
	gint64 deadline;
	guint64 seq; /* ties between equal deadlines run in scheduling order */
	gint heap_index; /* -1 when not scheduled */
};

struct _AstraClock {
	GObject parent_instance;
	gboolean fake;
	gint64 fake_now;
	GPtrArray *heap; /* AstraTimer, a binary min-heap on (deadline, seq) */
	guint64 next_seq;
	GSource *source; /* real clocks: one source, ready at the earliest deadline */
	gint64 armed;    /* the wall-clock deadline the source is set for, G_MAXINT64 if none */
	gboolean running; /* inside run_due: dispatch rearms once when it is done */
};

G_DEFINE_FINAL_TYPE (AstraClock, astra_clock, G_TYPE_OBJECT)

static gboolean
astra_timer_before (const AstraTimer *a, const AstraTimer *b)
{
	return a->deadline < b->deadline || (a->deadline == b->deadline && a->seq < b->seq);
}

static void
astra_clock_heap_set (AstraClock *self, guint index, AstraTimer *timer)
{
	g_ptr_array_index (self->heap, index) = timer;
	timer->heap_index = (gint) index;
}

static void
astra_clock_heap_up (AstraClock *self, guint index)
{
	AstraTimer *timer = g_ptr_array_index (self->heap, index);

	while (index > 0) {
		guint parent = (index - 1) / 2;
		AstraTimer *p = g_ptr_array_index (self->heap, parent);
		if (!astra_timer_before (timer, p))
			break;
		astra_clock_heap_set (self, index, p);
		index = parent;
	}
	astra_clock_heap_set (self, index, timer);
}

static void
astra_clock_heap_down (AstraClock *self, guint index)
{
	AstraTimer *timer = g_ptr_array_index (self->heap, index);
	guint len = self->heap->len;

	for (;;) {
		guint child = 2 * index + 1;
		AstraTimer *c;

		if (child >= len)
			break;
		if (child + 1 < len &&
		    astra_timer_before (g_ptr_array_index (self->heap, child + 1), g_ptr_array_index (self->heap, child)))
			child++;
		c = g_ptr_array_index (self->heap, child);
		if (!astra_timer_before (c, timer))
			break;
		astra_clock_heap_set (self, index, c);
		index = child;
	}
	astra_clock_heap_set (self, index, timer);
}

static void
astra_clock_heap_remove (AstraClock *self, AstraTimer *timer)
{
	guint index = (guint) timer->heap_index;
	AstraTimer *last = g_ptr_array_steal_index (self->heap, self->heap->len - 1);

	timer->heap_index = -1;
	if (last == timer)
		return;
	astra_clock_heap_set (self, index, last);
	/* the moved timer may belong above or below its new place */
	astra_clock_heap_up (self, index);
	astra_clock_heap_down (self, (guint) last->heap_index);
}

static AstraTimer *
astra_clock_peek (AstraClock *self)
{
	return self->heap->len > 0 ? g_ptr_array_index (self->heap, 0) : NULL;
}

static void
astra_clock_rearm (AstraClock *self)
{
	AstraTimer *first;
	gint64 wait;

	gint64 deadline;
	gint64 now;

	/* every g_source_set_ready_time() wakes the main context up (an eventfd write), and
	 * deliveries schedule due-now timers by the thousand: only touch the source when what
	 * it waits for changes */
	if (self->source == NULL || self->running)
		return;
	first = astra_clock_peek (self);
	deadline = first != NULL ? first->deadline : G_MAXINT64;
	if (deadline == self->armed)
		return;
	if (first == NULL) {
		self->armed = G_MAXINT64;
		g_source_set_ready_time (self->source, -1);
		return;
	}
	now = g_get_real_time ();
	/* already due, and the source already fires on the next iteration */
	if (deadline <= now && self->armed <= now)
		return;
	self->armed = deadline;
	/* the deadline is wall-clock time; the source sleeps on the monotonic clock */
	wait = MAX (deadline - now, 0);
	g_source_set_ready_time (self->source, g_get_monotonic_time () + wait);
}

/* runs every timer due at now, earliest first; each may schedule, cancel or free timers */
static void
astra_clock_run_due (AstraClock *self, gint64 now)
{
	AstraTimer *timer;

	while ((timer = astra_clock_peek (self)) != NULL && timer->deadline <= now) {
		astra_clock_heap_remove (self, timer);
		if (self->fake)
			self->fake_now = MAX (self->fake_now, timer->deadline);
		timer->func (timer, timer->user_data);
	}
}

static gboolean
astra_clock_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
	AstraClock *self = ASTRA_CLOCK (user_data);

	self->running = TRUE;
	astra_clock_run_due (self, g_get_real_time ());
	self->running = FALSE;
	astra_clock_rearm (self);
	return G_SOURCE_CONTINUE;
}

static GSourceFuncs astra_clock_source_funcs = {
    .dispatch = astra_clock_dispatch,
};

static void
astra_clock_finalize (GObject *object)
{
	AstraClock *self = ASTRA_CLOCK (object);

	/* timers still scheduled belong to their owners: just forget them */
	for (guint i = 0; i < self->heap->len; i++)
		((AstraTimer *) g_ptr_array_index (self->heap, i))->heap_index = -1;
	g_ptr_array_unref (self->heap);
	if (self->source != NULL) {
		g_source_destroy (self->source);
		g_source_unref (self->source);
	}
	G_OBJECT_CLASS (astra_clock_parent_class)->finalize (object);
}

static void
astra_clock_class_init (AstraClockClass *klass)
{
	G_OBJECT_CLASS (klass)->finalize = astra_clock_finalize;
}

static void
astra_clock_init (AstraClock *self)
{
	self->heap = g_ptr_array_new ();
	self->armed = G_MAXINT64;
}

AstraClock *
astra_clock_new (void)
{
	AstraClock *self = g_object_new (ASTRA_TYPE_CLOCK, NULL);

	self->source = g_source_new (&astra_clock_source_funcs, sizeof (GSource));
	g_source_set_name (self->source, "AstraClock");
	/* the source must not keep the clock alive: the clock destroys it on finalize */
	g_source_set_callback (self->source, NULL, self, NULL);
	g_source_set_ready_time (self->source, -1);
	g_source_attach (self->source, g_main_context_get_thread_default ());
	return self;
}

AstraClock *
astra_clock_new_fake (gint64 now_us)
{
	AstraClock *self = g_object_new (ASTRA_TYPE_CLOCK, NULL);

	self->fake = TRUE;
	self->fake_now = now_us;
	return self;
}

gboolean
astra_clock_is_fake (AstraClock *self)
{
	return self->fake;
}

gint64
astra_clock_now (AstraClock *self)
{
	return self->fake ? self->fake_now : g_get_real_time ();
}

void
astra_clock_advance_to (AstraClock *self, gint64 now_us)
{
	g_return_if_fail (self->fake);

	now_us = MAX (now_us, self->fake_now);
	astra_clock_run_due (self, now_us);
	self->fake_now = now_us;
}

void
astra_clock_advance (AstraClock *self, gint64 delta_us)
{
	g_return_if_fail (self->fake);
	g_return_if_fail (delta_us >= 0);

	astra_clock_advance_to (self, self->fake_now + delta_us);
}

guint
astra_clock_get_n_scheduled (AstraClock *self)
{
	return self->heap->len;
}

AstraTimer *
astra_timer_new (AstraClock *clock, AstraTimerFunc func, gpointer user_data)
{
	AstraTimer *timer;

	g_return_val_if_fail (ASTRA_IS_CLOCK (clock), NULL);
	timer = g_new0 (AstraTimer, 1);
	timer->clock = clock;
	timer->func = func;
	timer->user_data = user_data;
	timer->heap_index = -1;
	return timer;
}

void
astra_timer_schedule (AstraTimer *timer, gint64 deadline_us)
{
	AstraClock *self = timer->clock;
	gboolean was_first = timer->heap_index == 0;

	timer->deadline = deadline_us;
	timer->seq = self->next_seq++;
	if (timer->heap_index < 0) {
		g_ptr_array_add (self->heap, timer);
		timer->heap_index = (gint) self->heap->len - 1;
		astra_clock_heap_up (self, (guint) timer->heap_index);
	} else {
		astra_clock_heap_up (self, (guint) timer->heap_index);
		astra_clock_heap_down (self, (guint) timer->heap_index);
	}
	if (was_first || timer->heap_index == 0)
		astra_clock_rearm (self);
}

void
astra_timer_cancel (AstraTimer *timer)
{
	gboolean was_first;

	if (timer == NULL || timer->heap_index < 0)
		return;
	was_first = timer->heap_index == 0;
	astra_clock_heap_remove (timer->clock, timer);
	if (was_first)
		astra_clock_rearm (timer->clock);
}

gboolean
astra_timer_is_scheduled (AstraTimer *timer)
{
	return timer->heap_index >= 0;
}

gint64
astra_timer_get_deadline (AstraTimer *timer)
{
	return timer->deadline;
}

void
astra_timer_free (AstraTimer *timer)
{
	if (timer == NULL)
		return;
	astra_timer_cancel (timer);
	g_free (timer);
}

char *
astra_clock_format_time (gint64 time_us)
{
	g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (MAX (time_us, 0) / G_USEC_PER_SEC);

	/* beyond year 9999 */
	if (dt == NULL)
		return g_strdup ("9999-12-31T23:59:59Z");
	return g_date_time_format (dt, "%Y-%m-%dT%H:%M:%SZ");
}
