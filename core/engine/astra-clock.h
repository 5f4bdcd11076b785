/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/*
 * AstraClock: the engine's one notion of time and its one timer structure.
 *
 * Every deadline (an agent going offline, a rule's `for`, `no-data`,
 * `repeat`, `keep-firing-for`) is an AstraTimer in one indexed binary heap,
 * so 100,000 agents cost 100,000 heap entries and one GSource, not 100,000
 * GSources. A real clock reads the wall clock and arms a single GSource for
 * the earliest deadline; a fake clock only moves when a test calls
 * astra_clock_advance(), which runs the timers that fell due, in deadline
 * order, each seeing astra_clock_now() equal to its deadline.
 *
 * Times are unix microseconds (wall clock): they are compared with sample
 * and heartbeat timestamps, which are wall-clock times.
 */

typedef struct _AstraTimer AstraTimer;
typedef void (*AstraTimerFunc) (AstraTimer *timer, gpointer user_data);

#define ASTRA_TYPE_CLOCK (astra_clock_get_type ())
G_DECLARE_FINAL_TYPE (AstraClock, astra_clock, ASTRA, CLOCK, GObject)

AstraClock *astra_clock_new (void);
AstraClock *astra_clock_new_fake (gint64 now_us);
gboolean astra_clock_is_fake (AstraClock *self);
gint64 astra_clock_now (AstraClock *self);
/* a time (unix microseconds) as events write it: RFC 3339 UTC to the second, "2025-12-17T10:30:00Z" */
char *astra_clock_format_time (gint64 time_us);
/* fake clocks only: moves time forward by delta_us, running every timer that falls due */
void astra_clock_advance (AstraClock *self, gint64 delta_us);
/* fake clocks only: as advance, to an absolute time (never backwards) */
void astra_clock_advance_to (AstraClock *self, gint64 now_us);
guint astra_clock_get_n_scheduled (AstraClock *self);

/* a timer belongs to its creator; it is not scheduled until astra_timer_schedule() */
AstraTimer *astra_timer_new (AstraClock *clock, AstraTimerFunc func, gpointer user_data);
/* (re)arms the timer for an absolute deadline, O(log n); a deadline in the past runs at the next dispatch */
void astra_timer_schedule (AstraTimer *timer, gint64 deadline_us);
void astra_timer_cancel (AstraTimer *timer);
gboolean astra_timer_is_scheduled (AstraTimer *timer);
gint64 astra_timer_get_deadline (AstraTimer *timer);
/* cancels and frees; safe from inside the timer's own callback */
void astra_timer_free (AstraTimer *timer);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AstraTimer, astra_timer_free)

G_END_DECLS
