/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(__ASTRA_INSIDE__) && !defined(ASTRA_COMPILATION)
#error "Only <astra/astra.h> can be included directly."
#endif

#include "astra-macros.h"

G_BEGIN_DECLS

/**
 * ASTRA_ERROR:
 *
 * The one error domain of astra-alerts. Each code is also registered as the
 * D-Bus error `org.astranetmon.Alerts1.Error.<Name>`, so errors cross the bus
 * without conversion.
 *
 * Since: 1.0
 */
#define ASTRA_ERROR (astra_error_quark ())

/**
 * AstraError:
 * @ASTRA_ERROR_FAILED: a failure that fits no other code
 * @ASTRA_ERROR_INVALID_DATA: input (JSON, a report, an event field) is malformed
 * @ASTRA_ERROR_INVALID_CONFIG: a config file, group or key is invalid
 * @ASTRA_ERROR_NOT_FOUND: the named object does not exist
 * @ASTRA_ERROR_NOT_SUPPORTED: the operation is not supported (e.g. a plugin
 *   has nothing to render for an event type)
 * @ASTRA_ERROR_ACCESS_DENIED: the caller may not do this
 * @ASTRA_ERROR_TOO_LARGE: input exceeds a configured or documented limit
 * @ASTRA_ERROR_SIGNATURE: a webhook signature is missing, malformed or wrong
 * @ASTRA_ERROR_PLUGIN: a plugin module cannot be used (ABI, symbol, type)
 * @ASTRA_ERROR_LAST: the number of codes; not a code itself
 *
 * Error codes in %ASTRA_ERROR. New codes are only ever appended.
 *
 * Since: 1.0
 */
typedef enum {
	ASTRA_ERROR_FAILED,
	ASTRA_ERROR_INVALID_DATA,
	ASTRA_ERROR_INVALID_CONFIG,
	ASTRA_ERROR_NOT_FOUND,
	ASTRA_ERROR_NOT_SUPPORTED,
	ASTRA_ERROR_ACCESS_DENIED,
	ASTRA_ERROR_TOO_LARGE,
	ASTRA_ERROR_SIGNATURE,
	ASTRA_ERROR_PLUGIN,
	/*< private >*/
	ASTRA_ERROR_LAST
} AstraError;

ASTRA_AVAILABLE_IN_1_0
GQuark astra_error_quark (void);

G_END_DECLS
