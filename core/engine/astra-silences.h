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
 * hold; parsed by astra_matcher_parse(), the one matcher parser), an end
 * time, a comment and an author. An event's labels are its type (as
 * "type"), its severity (as "severity", e.g. "critical") and the string
 * members of its data, plus the members of data.labels for alert.* events;
 * when names clash, type and severity win, then data's members, then the
 * alert's labels. A label the event lacks reads as "" (as in rules), so
 * "region!=eu-*" matches an event without a region.
 *
 * Silences live in the state database, table "silences" (module "silences",
 * schema version ASTRA_SILENCES_SCHEMA_VERSION): id TEXT PRIMARY KEY,
 * matchers (a JSON array of the normalised texts), starts_us, ends_us,
 * comment, author, n_silenced; indexed by ends_us. They survive restarts;
 * one AstraTimer at the nearest end drops ended ones from memory, and an
 * idle source deletes ended rows, a batch per main-loop turn. Writes join
 * the state database's batched transaction (astra_state_db_begin): a caller
 * that must know a silence is on disk before answering calls
 * astra_state_db_flush().
 */

#define ASTRA_SILENCES_DB_MODULE "silences"
#define ASTRA_SILENCES_SCHEMA_VERSION 1
#define ASTRA_SILENCES_MAX_ACTIVE 1000
#define ASTRA_SILENCES_MAX_MATCHERS 32
/* bytes of one matcher's text */
#define ASTRA_SILENCES_MAX_MATCHER_LENGTH 2048
#define ASTRA_SILENCES_MAX_COMMENT 1024
#define ASTRA_SILENCES_MAX_AUTHOR 256
/* the farthest end a silence may have, from now */
#define ASTRA_SILENCES_MAX_DURATION_US (366 * G_TIME_SPAN_DAY)

typedef struct {
	char *id;       /* "sil_" + ULID-like, time-ordered */
	GStrv matchers; /* normalised text of each matcher */
	gint64 starts_us;
	gint64 ends_us;
	char *comment;
	char *author;
	guint n_silenced; /* events held back so far */
} AstraSilence;

void astra_silence_free (AstraSilence *silence);
AstraSilence *astra_silence_copy (const AstraSilence *silence);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AstraSilence, astra_silence_free)

#define ASTRA_TYPE_SILENCES (astra_silences_get_type ())
G_DECLARE_FINAL_TYPE (AstraSilences, astra_silences, ASTRA, SILENCES, GObject)

/* creates or migrates the tables and loads the silences that have not ended */
AstraSilences *astra_silences_new (AstraStateDb *db, AstraClock *clock, GError **error);
/* until: a duration ("90m", "2h", as in rule files) from now, or an RFC 3339 time in the
 * future. Errors (ASTRA_ERROR_INVALID_DATA) name the matcher or field at fault: no
 * matchers or more than 32, a bad matcher ("matcher 2 'agent_id=~x': ..."; numbered from 1)
 * or contradictory ones, an empty comment or one over 1 KiB, an author over 256 bytes, an end
 * not in the future or more than 366 days away, too many silences (at most 1000 active).
 * author may be NULL (stored as ""). Returns the new id */
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
/* the id of the oldest active silence matching event (and counts it as held back), or NULL;
 * valid until that silence ends or is removed. For every event: NULL at once without
 * silences, and nothing allocated when none matches */
const char *astra_silences_match (AstraSilences *self, AstraEvent *event);

G_END_DECLS
