/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Small types shared by the engine's parts.
 */

#pragma once

#include "astra.h"

G_BEGIN_DECLS

/* receives each event a part produces, in order; the engine routes it */
typedef void (*AstraEventSinkFunc) (AstraEvent *event, gpointer user_data);

G_END_DECLS

#include "astra-series.h"

G_BEGIN_DECLS

/* takes one sample of metric{labels} (labels need not be sorted); FALSE, with the
 * reason in *reject, if a bound refused it */
typedef gboolean (*AstraSampleSinkFunc) (const char *metric,
					 const AstraLabel *labels,
					 guint n_labels,
					 double value,
					 gint64 timestamp_us,
					 AstraSeriesReject *reject,
					 gpointer user_data);

G_END_DECLS
