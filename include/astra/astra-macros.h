/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(__ASTRA_INSIDE__) && !defined(ASTRA_COMPILATION)
#error "Only <astra/astra.h> can be included directly."
#endif

#include <glib.h>

/* the SDK is built with hidden visibility: only what is marked here is exported */
#if defined(ASTRA_COMPILATION) && defined(__GNUC__)
#define ASTRA_AVAILABLE_IN_1_0 __attribute__ ((visibility ("default"))) extern
#else
#define ASTRA_AVAILABLE_IN_1_0 extern
#endif
