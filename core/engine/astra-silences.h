/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "astra.h"
#include "astra-clock.h"
#include "astra-state-db.h"

G_BEGIN_DECLS

/*
 * AstraSilences: admin-set silences that hold back deliveries of matching
 * events for a while (maintenance windows, known outages).
 *
 * A silence is a list of label matchers in the rule-file syntax (all must
 * hold), an end time, a comment and an author. An event's labels are its
 * type (as "type"), its severity (as "severity") and the string members of
 * its data, plus the members of data.labels for alert events. Silences live
 * in the state database (module "silences"), so they survive restarts;
 * expired ones are dropped from memory when they end and from the database
 * in the background.
 */

typedef struct {
	char *id;        /* "sil_" + ULID-like, time-ordered */
	GStrv matchers;  /* normalised text of each matcher */
	gint64 starts_us;
	gint64 ends_us;
	char *comment;
	char *author;
	guint n_silenced; /* events held back so far */
} AstraSilence;

void astra_silence_free (AstraSilence *silence);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AstraSilence, astra_silence_free)

#define ASTRA_TYPE_SILENCES (astra_silences_get_type ())
G_DECLARE_FINAL_TYPE (AstraSilences, astra_silences, ASTRA, SILENCES, GObject)

/* creates or migrates the tables and loads the silences that have not ended */
AstraSilences *astra_silences_new (AstraStateDb *db, AstraClock *clock, GError **error);
/* until: a duration ("90m", "2h", as in rule files) from now, or an RFC 3339 time in the
 * future. Errors (ASTRA_ERROR_INVALID_DATA) name the matcher or field at fault: no
 * matchers, a bad matcher, an empty comment, an end in the past or more than a year away,
 * too many silences (at most 1000 active). Returns the new id */
char *astra_silences_add (AstraSilences *self,
			  const char *const *matchers,
			  const char *until,
			  const char *comment,
			  const char *author,
			  GError **error);
/* ends a silence now; ASTRA_ERROR_NOT_FOUND if there is no active one with that id */
gboolean astra_silences_remove (AstraSilences *self, const char *id, GError **error);
/* the active silences (AstraSilence copies), oldest first */
GPtrArray *astra_silences_list (AstraSilences *self);
guint astra_silences_get_n_active (AstraSilences *self);
/* the id of an active silence matching event (and counts it as held back), or NULL */
const char *astra_silences_match (AstraSilences *self, AstraEvent *event);

G_END_DECLS
