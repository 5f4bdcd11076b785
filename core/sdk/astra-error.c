/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <gio/gio.h>

#include "astra-error.h"

static const GDBusErrorEntry astra_error_entries[] = {
    {ASTRA_ERROR_FAILED, "org.astranetmon.Alerts1.Error.Failed"},
    {ASTRA_ERROR_INVALID_DATA, "org.astranetmon.Alerts1.Error.InvalidData"},
    {ASTRA_ERROR_INVALID_CONFIG, "org.astranetmon.Alerts1.Error.InvalidConfig"},
    {ASTRA_ERROR_NOT_FOUND, "org.astranetmon.Alerts1.Error.NotFound"},
    {ASTRA_ERROR_NOT_SUPPORTED, "org.astranetmon.Alerts1.Error.NotSupported"},
    {ASTRA_ERROR_ACCESS_DENIED, "org.astranetmon.Alerts1.Error.AccessDenied"},
    {ASTRA_ERROR_TOO_LARGE, "org.astranetmon.Alerts1.Error.TooLarge"},
    {ASTRA_ERROR_SIGNATURE, "org.astranetmon.Alerts1.Error.Signature"},
    {ASTRA_ERROR_PLUGIN, "org.astranetmon.Alerts1.Error.Plugin"},
};

/* a code added to the enum without a D-Bus name would cross the bus as a generic error */
G_STATIC_ASSERT (G_N_ELEMENTS (astra_error_entries) == ASTRA_ERROR_LAST);

/**
 * astra_error_quark:
 *
 * Returns the #GQuark of %ASTRA_ERROR, registering its D-Bus error names on
 * first use.
 *
 * Returns: the quark
 *
 * Since: 1.0
 */
GQuark
astra_error_quark (void)
{
	static gsize quark = 0;

	g_dbus_error_register_error_domain ("astra-error-quark",
					    &quark,
					    astra_error_entries,
					    G_N_ELEMENTS (astra_error_entries));
	return (GQuark) quark;
}
