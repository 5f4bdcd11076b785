/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What every libcheck suite shares: assertions, temp folders and files, the
 * source and build trees (ASTRA_SOURCE_DIR, ASTRA_BUILD_DIR, set by meson
 * test), the event fixtures of data/events/ and main()'s runner. Only GLib,
 * json-glib, the public SDK and check, so the suites over the SDK alone can
 * link it as well as the engine and integration suites.
 *
 * The helpers that assert are for test functions and checked fixtures;
 * astra_check_rmtree(), astra_check_tmpdir_clear() and
 * astra_check_run_suite() never do, and are safe in check's parent process.
 */

#pragma once

#include <check.h>
#include <string.h>

#include "astra.h"

G_BEGIN_DECLS

/* HAYSTACK (which may be NULL, failing) has NEEDLE in it */
#define astra_assert_contains(haystack, needle)                                                       \
	do {                                                                                       \
		const char *_h = (haystack);                                                       \
		const char *_n = (needle);                                                         \
		ck_assert_msg (_h != NULL && strstr (_h, _n) != NULL, "'%s' does not contain '%s'", \
			       _h != NULL ? _h : "(null)", _n);                                    \
	} while (0)

/* HAYSTACK (which may not be NULL) does not have NEEDLE in it */
#define astra_assert_not_contains(haystack, needle)                                                   \
	do {                                                                                       \
		const char *_h = (haystack);                                                       \
		const char *_n = (needle);                                                         \
		ck_assert_msg (_h != NULL && strstr (_h, _n) == NULL, "'%s' contains '%s'",         \
			       _h != NULL ? _h : "(null)", _n);                                    \
	} while (0)

/* ERROR, a GError *, is NULL; its message otherwise */
#define astra_assert_no_error(error)                                                                  \
	ck_assert_msg ((error) == NULL, "%s", (error) != NULL ? (error)->message : "")

/* every event type, in the order of the documentation and of AstraEventKind:
 * written out on purpose, not taken from the SDK, so that a type the SDK
 * loses or renames fails the suites */
#define ASTRA_CHECK_N_EVENT_TYPES 7
extern const char *const astra_check_event_types[ASTRA_CHECK_N_EVENT_TYPES];

/* the path of the parts below the folder the environment variable @var names */
char *astra_check_env_path (const char *var, const char *first, ...) G_GNUC_NULL_TERMINATED;
/* the same below the source and the build tree */
#define astra_check_source_path(...) astra_check_env_path ("ASTRA_SOURCE_DIR", __VA_ARGS__)
#define astra_check_build_path(...)  astra_check_env_path ("ASTRA_BUILD_DIR", __VA_ARGS__)

/* the contents of PATH, which must be readable; its length in @len if not NULL */
char *astra_check_read_file (const char *path, gsize *len);
/* the contents of REL ("data/astra-alertd.conf") below the source tree */
char *astra_check_read_source_file (const char *rel);

/* data/events/TYPE.json as it is on disk */
GBytes *astra_check_fixture_bytes (const char *type_name);
/* likewise, without a final newline */
char *astra_check_fixture_text (const char *type_name);
/* the fixture as an event with the id @id (its timestamp is the fixture's) */
AstraEvent *astra_check_fixture_event (const char *type_name, const char *id);

/* a fresh folder PARENT/NAME-XXXXXX (PARENT NULL: the temp folder) with exactly
 * @mode, whatever the umask; its canonical path, to compare with paths the code
 * under test resolves */
char *astra_check_tmpdir_new (const char *parent, const char *name, int mode);
/* removes the folder *@path if not NULL, then frees and clears *@path; says on
 * stderr what it could not remove */
void astra_check_tmpdir_clear (char **path);
/* removes PATH and everything below it, never following a symlink out of the
 * tree and giving folders back the permissions tests took from them */
gboolean astra_check_rmtree (const char *path, GError **error);

/* writes DIR/REL (parent folders created, 0700) with exactly @mode; returns its path */
char *astra_check_write_file (const char *dir, const char *rel, const char *text, int mode);

/* a checked fixture giving each test a fresh folder of its own (0700, canonical),
 * removed after it: tcase_add_checked_fixture (tc, astra_check_tmpdir_setup,
 * astra_check_tmpdir_teardown); or call both from a suite's own fixture */
void astra_check_tmpdir_setup (void);
void astra_check_tmpdir_teardown (void);
/* a test case with that fixture */
TCase *astra_check_tmpdir_tcase_new (const char *name);
/* the test's folder */
const char *astra_check_get_tmpdir (void);
/* the path of REL in it */
char *astra_check_tmp_path (const char *rel);
/* writes REL in it, like astra_check_write_file() */
char *astra_check_tmp_write (const char *rel, const char *text, int mode);

/*
 * Golden files, tests/golden/SUITE/NAME: a rendered request as stable text
 * ("METHOD URL", the headers sorted by name with Content-Type among them, a
 * blank line, the exact body bytes, one final newline that is not part of
 * the body; the SDK version in a User-Agent written as @VERSION@ so a
 * release does not change every file). With ASTRA_UPDATE_GOLDEN=1 in the
 * environment the files are (re)written instead of compared.
 */
char *astra_check_request_to_text (AstraRequest *request);
void astra_check_assert_golden (const char *suite, const char *name, const char *got);

/*
 * Destination plugins, through the public SDK: each plugin suite describes
 * its plugin once and configures, renders and classifies with these.
 */

/* how a suite makes the plugin it tests */
typedef struct {
	const char *name;                  /* what `plugin =` says */
	const char *group;                 /* the webhook's group */
	GType (*get_type) (void);          /* the plugin's type */
	AstraPlugin *(*new_plugin) (void); /* makes an instance, if not g_object_new() */
} AstraCheckPlugin;

/* a new, unconfigured instance of the plugin, which must be of its type */
AstraPlugin *astra_check_plugin_new (const AstraCheckPlugin *plugin);

/* a new plugin configured from a key file of one group, `plugin = NAME` and the
 * lines KEYS; NULL with @error if the plugin refused them */
AstraPlugin *astra_check_configure_keys (const AstraCheckPlugin *plugin, const char *keys, GError **error);
/* the same, which must succeed */
AstraPlugin *astra_check_configure_ok (const AstraCheckPlugin *plugin, const char *keys);
/* KEYS must be refused as invalid configuration (ASTRA_ERROR_INVALID_CONFIG),
 * with a message that starts with @key unless it is NULL; returns the message */
char *astra_check_configure_error (const AstraCheckPlugin *plugin, const char *keys, const char *key);
/* the plugin's own config keys are exactly @expected (NULL-terminated), in any order */
void astra_check_assert_config_keys (AstraPlugin *plugin, const char *const *expected);

/* "KEY-file = PATH" and a newline, PATH a file @name in the test's folder holding
 * @text with @mode (astra_check_tmp_write()); PATH in @path unless it is NULL */
char *
astra_check_secret_file_keys (const char *key, const char *name, const char *text, int mode, char **path);
/* the URL of the request the plugin configured from KEYS renders for the fixture of @type_name */
char *astra_check_configured_url (const AstraCheckPlugin *plugin, const char *keys, const char *type_name);
/* the `url` and `url-file` keys as every plugin sending to a configured URL reads them
 * (required, not empty, inline or from a file others cannot read, not both, checked), with
 * errors that name the key and never the URL: PLUGIN configured from @other_keys (what else it
 * needs, "" for nothing) and those keys; @url holds "T0KEN" and the plugin sends to @sent_url */
void astra_check_assert_url_keys (const AstraCheckPlugin *plugin,
				  const char *other_keys,
				  const char *url,
				  const char *sent_url);

/* EVENT rendered by PLUGIN into a request that must be valid */
AstraRequest *astra_check_render (AstraPlugin *plugin, AstraEvent *event);
/* the same, rendered twice to the same text (a plain function of the event and
 * the configuration); the text (astra_check_request_to_text()) in @text */
AstraRequest *astra_check_render_stable (AstraPlugin *plugin, AstraEvent *event, char **text);
/* REQUEST is a POST of JSON to @url, with @user_agent unless it is NULL */
void astra_check_assert_post_json (AstraRequest *request, const char *url, const char *user_agent);
/* the body of REQUEST, which must be valid UTF-8 and strict JSON: an object */
JsonNode *astra_check_parse_body (AstraRequest *request);

/* members of a rendered body that must be there and of that type */
const char *astra_check_get_string (JsonObject *object, const char *member);
JsonArray *astra_check_get_array (JsonObject *object, const char *member);
JsonObject *astra_check_get_object (JsonObject *object, const char *member);

/* the time of events built from changed fixture data: 2025-12-17T10:30:00Z */
#define ASTRA_CHECK_EVENT_TIME G_GINT64_CONSTANT (1765967400)
/* a copy of the data of data/events/TYPE.json, to change */
JsonObject *astra_check_fixture_data (const char *type_name);
/* the event of @type_name with @data at ASTRA_CHECK_EVENT_TIME, which the schema must accept */
AstraEvent *astra_check_event_new (const char *type_name, JsonObject *data);

/* a row of a suite's table of answers and what the plugin must make of them */
typedef struct {
	guint status;
	const char *body;        /* NULL: none */
	const char *retry_after; /* the Retry-After header, NULL: none */
	AstraOutcome outcome;
	double retry;       /* the delay asked for, exactly; negative: none */
	const char *reason; /* the exact reason; NULL: none */
} AstraCheckClassifyCase;

/* a response of @status with @body (NULL: none) */
AstraResponse *astra_check_response_new (guint status, const char *body);
/* PLUGIN classifies the answer of @c as it says */
void astra_check_assert_classify (AstraPlugin *plugin, const AstraCheckClassifyCase *c);

/* hostile input */

/* @n copies of @unit */
char *astra_check_repeat (const char *unit, gsize n);
/* @n_chars characters: those of @units in turn, and a newline instead of every
 * @newline_every-th one unless it is 0 */
char *astra_check_cycle_text (const char *const *units, gsize n_units, gsize n_chars, gsize newline_every);
/* TEXT is valid UTF-8 without control characters (but newlines if @newlines) or
 * bidi controls: nothing a reader could be fooled by; @what names it */
void astra_check_assert_clean_text (const char *what, const char *text, gboolean newlines);

/* runs the default main context for ms milliseconds (timers such as the state database's
 * commit included); for code under test that finishes its work from the loop */
void astra_check_iterate_for (guint ms);

typedef enum {
	ASTRA_CHECK_RUN_FLAG_NONE = 0,
	/* every test in its own process even under CK_FORK=no (valgrind), for
	 * tests that leave what cannot be undone, like loaded modules */
	ASTRA_CHECK_RUN_FLAG_ALWAYS_FORK = 1 << 0,
} AstraCheckRunFlags;

/* main() of a suite: runs every test of @suite (taking it) and returns the
 * exit status, EXIT_FAILURE if any failed. The run gets a folder of its own
 * as $TMPDIR, removed afterwards: what a failed test could not clean up goes
 * with it. Building @suite must not ask GLib for the temp folder before. */
int astra_check_run_suite (Suite *suite);
int astra_check_run_suite_full (Suite *suite, AstraCheckRunFlags flags);

G_END_DECLS
