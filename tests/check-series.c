/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * AstraSeriesStore: interning, label order, bounds and the cardinality limit.
 */

#include "config.h"

#include "astra-check-common.h"
#include "astra-series.h"

START_TEST (test_intern)
{
	g_autoptr(AstraSeriesStore) store = astra_series_store_new ();
	const AstraLabel ab[] = {{"agent_id", "a1"}, {"target", "8.8.8.8"}};
	const AstraLabel ba[] = {{"target", "8.8.8.8"}, {"agent_id", "a1"}};
	const AstraLabel other[] = {{"target", "1.1.1.1"}, {"agent_id", "a1"}};
	AstraSeries *s1 = astra_series_store_lookup (store, "latency_ms", ab, 2, NULL);
	AstraSeries *s2 = astra_series_store_lookup (store, "latency_ms", ba, 2, NULL);
	AstraSeries *s3 = astra_series_store_lookup (store, "latency_ms", other, 2, NULL);
	AstraSeries *s4 = astra_series_store_lookup (store, "jitter_ms", ab, 2, NULL);
	AstraSeries *s5 = astra_series_store_lookup (store, "latency_ms", NULL, 0, NULL);

	/* label order does not make another series */
	ck_assert_ptr_eq (s1, s2);
	ck_assert_ptr_ne (s1, s3);
	ck_assert_ptr_ne (s1, s4);
	ck_assert_ptr_ne (s1, s5);
	ck_assert_uint_eq (astra_series_store_get_size (store), 4);
	ck_assert_uint_eq (s1->id, 1);
	ck_assert_uint_eq (s5->id, 4);
	ck_assert_str_eq (s1->metric, "latency_ms");
	ck_assert_uint_eq (s1->n_labels, 2);
	ck_assert_str_eq (s1->labels[0].name, "agent_id");
	ck_assert_str_eq (s1->labels[1].name, "target");
	ck_assert_str_eq (astra_series_get_label (s3, "target"), "1.1.1.1");
	ck_assert_ptr_null (astra_series_get_label (s3, "host"));
	/* the store copied the strings */
	ck_assert_ptr_ne (s1->labels[0].value, ab[0].value);
	ck_assert_uint_gt (astra_series_store_get_memory_size (store), 0);
}
END_TEST

/* "a"+"bc" and "ab"+"c" hash apart, and collisions still compare whole keys */
START_TEST (test_ambiguous_keys)
{
	g_autoptr(AstraSeriesStore) store = astra_series_store_new ();
	const AstraLabel x[] = {{"a", "bc"}};
	const AstraLabel y[] = {{"ab", "c"}};
	AstraSeries *sx = astra_series_store_lookup (store, "m", x, 1, NULL);
	AstraSeries *sy = astra_series_store_lookup (store, "m", y, 1, NULL);

	ck_assert_ptr_ne (sx, sy);
	ck_assert_ptr_eq (astra_series_store_lookup (store, "m", x, 1, NULL), sx);
	ck_assert_ptr_eq (astra_series_store_lookup (store, "m", y, 1, NULL), sy);
}
END_TEST

START_TEST (test_rejections)
{
	g_autoptr(AstraSeriesStore) store = astra_series_store_new ();
	g_autofree char *long_value = g_strnfill (20, 'v');
	const AstraLabel dup[] = {{"a", "1"}, {"a", "2"}};
	const AstraLabel bad_name[] = {{"9lives", "1"}};
	const AstraLabel bad_utf8[] = {{"a", "\xff"}};
	const AstraLabel too_long[] = {{"a", long_value}};
	const AstraLabel three[] = {{"a", "1"}, {"b", "2"}, {"c", "3"}};
	const struct {
		const char *metric;
		const AstraLabel *labels;
		guint n_labels;
		AstraSeriesReject reason;
	} cases[] = {
	    {"", NULL, 0, ASTRA_SERIES_REJECT_NAME},
	    {"has space", NULL, 0, ASTRA_SERIES_REJECT_NAME},
	    {"0starts_with_digit", NULL, 0, ASTRA_SERIES_REJECT_NAME},
	    {"waytoolongmetricname", NULL, 0, ASTRA_SERIES_REJECT_NAME},
	    {"m", dup, 2, ASTRA_SERIES_REJECT_DUPLICATE_LABEL},
	    {"m", bad_name, 1, ASTRA_SERIES_REJECT_NAME},
	    {"m", bad_utf8, 1, ASTRA_SERIES_REJECT_VALUE},
	    {"m", too_long, 1, ASTRA_SERIES_REJECT_VALUE},
	    {"m", three, 3, ASTRA_SERIES_REJECT_TOO_MANY_LABELS},
	};

	astra_series_store_set_limits (store, 3, 2, 16, 16);
	for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
		AstraSeriesReject reject = ASTRA_SERIES_REJECT_NONE;
		ck_assert_msg (astra_series_store_lookup (store, cases[i].metric, cases[i].labels, cases[i].n_labels,
							  &reject) == NULL,
			       "case %u accepted", i);
		ck_assert_int_eq (reject, cases[i].reason);
		ck_assert_str_ne (astra_series_reject_to_string (reject), "accepted");
	}
	ck_assert_uint_eq (astra_series_store_get_size (store), 0);
	ck_assert_uint_eq (astra_series_store_get_rejected (store, ASTRA_SERIES_REJECT_NAME), 5);

	/* the cardinality limit refuses new series and keeps serving known ones */
	ck_assert_ptr_nonnull (astra_series_store_lookup (store, "m1", NULL, 0, NULL));
	ck_assert_ptr_nonnull (astra_series_store_lookup (store, "m2", NULL, 0, NULL));
	ck_assert_ptr_nonnull (astra_series_store_lookup (store, "m:3.x-y", NULL, 0, NULL));
	for (guint i = 0; i < 1000; i++) {
		g_autofree char *name = g_strdup_printf ("n%u", i);
		AstraSeriesReject reject = ASTRA_SERIES_REJECT_NONE;
		ck_assert_ptr_null (astra_series_store_lookup (store, name, NULL, 0, &reject));
		ck_assert_int_eq (reject, ASTRA_SERIES_REJECT_CARDINALITY);
	}
	ck_assert_ptr_nonnull (astra_series_store_lookup (store, "m2", NULL, 0, NULL));
	ck_assert_uint_eq (astra_series_store_get_size (store), 3);
	ck_assert_uint_eq (astra_series_store_get_rejected (store, ASTRA_SERIES_REJECT_CARDINALITY), 1000);
}
END_TEST

static void
count_cb (AstraSeries *series, gpointer user_data)
{
	guint *next = user_data;

	ck_assert_uint_eq (series->id, *next);
	(*next)++;
}

START_TEST (test_many)
{
	g_autoptr(AstraSeriesStore) store = astra_series_store_new ();
	guint next = 1;

	for (guint round = 0; round < 2; round++) {
		for (guint i = 0; i < 100000; i++) {
			char agent[32];
			AstraLabel labels[] = {{"target", "8.8.8.8"}, {"agent_id", agent}};
			AstraSeries *series;

			g_snprintf (agent, sizeof (agent), "agent-%u", i);
			series = astra_series_store_lookup (store, "latency_ms", labels, 2, NULL);
			ck_assert_uint_eq (series->id, i + 1);
		}
	}
	ck_assert_uint_eq (astra_series_store_get_size (store), 100000);
	astra_series_store_foreach (store, count_cb, &next);
	ck_assert_uint_eq (next, 100001);
	g_print ("series store: %" G_GSIZE_FORMAT " bytes per series\n",
		 astra_series_store_get_memory_size (store));
}
END_TEST

int
main (void)
{
	Suite *s = suite_create ("series");
	TCase *tc = tcase_create ("series");

	tcase_add_test (tc, test_intern);
	tcase_add_test (tc, test_ambiguous_keys);
	tcase_add_test (tc, test_rejections);
	tcase_add_test (tc, test_many);
	suite_add_tcase (s, tc);
	return astra_check_run_suite (s);
}
