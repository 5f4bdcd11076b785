/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "astra-engine.h"

G_BEGIN_DECLS

/*
 * The daemon's side of org.astranetmon.Alerts1 (data/org.astranetmon.Alerts1.xml):
 * the gdbus-codegen skeleton at /org/astranetmon/Alerts1, every method answered
 * from the main loop, the properties kept up to date from the engine's signals
 * (the skeleton sends PropertiesChanged), and EventEmitted, AlertChanged and
 * DeliveryFailed sent as the engine reports them.
 *
 * Read-only methods are open to every caller. The methods the XML marks
 * "changes" first ask the bus who is calling (GetConnectionUnixUser, or the
 * peer's credentials on a peer-to-peer connection) and go ahead only for uid 0
 * or a member of [dbus] admin-group (astra_config_check_admin()); others get
 * AccessDenied, and the refusal is logged with the uid, never the arguments.
 */

#define ASTRA_DBUS_SERVICE_NAME "org.astranetmon.Alerts1"
#define ASTRA_DBUS_SERVICE_PATH "/org/astranetmon/Alerts1"

#define ASTRA_TYPE_DBUS_SERVICE (astra_dbus_service_get_type ())
G_DECLARE_FINAL_TYPE (AstraDbusService, astra_dbus_service, ASTRA, DBUS_SERVICE, GObject)

/* for a started engine */
AstraDbusService *astra_dbus_service_new (AstraEngine *engine);
/* exports the object on connection (owning the name is the caller's business) */
gboolean astra_dbus_service_export (AstraDbusService *self, GDBusConnection *connection, GError **error);
void astra_dbus_service_unexport (AstraDbusService *self);

G_END_DECLS
