/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "astra.h"

G_BEGIN_DECLS

/**
 * AstraPluginState:
 * @ASTRA_PLUGIN_STATE_LOADED: usable
 * @ASTRA_PLUGIN_STATE_REFUSED: not loaded; see the module's error
 *
 * Why a module is or is not available, for logs and D-Bus `ListPlugins`.
 */
typedef enum {
	ASTRA_PLUGIN_STATE_LOADED,
	ASTRA_PLUGIN_STATE_REFUSED,
} AstraPluginState;

/* one entry per module file seen (or per built-in type); owned by the loader */
typedef struct {
	char *name;      /* plugin name (file name without .so) */
	char *path;      /* NULL for types registered with astra_plugin_loader_add_type() */
	guint32 abi_version; /* 0 if unknown */
	AstraPluginState state;
	char *error;     /* why it was refused, NULL if loaded */
	GType gtype;     /* G_TYPE_INVALID unless loaded */
} AstraPluginModule;

#define ASTRA_TYPE_PLUGIN_LOADER (astra_plugin_loader_get_type ())
G_DECLARE_FINAL_TYPE (AstraPluginLoader, astra_plugin_loader, ASTRA, PLUGIN_LOADER, GObject)

AstraPluginLoader *astra_plugin_loader_new (void);
/* loads every *.so in dir, in sorted order; refused modules are recorded and logged, never fatal;
 * a missing dir is logged and returns TRUE; FALSE only if dir is unreadable or unsafe (its modules are
 * then all recorded as refused) */
gboolean astra_plugin_loader_load_dir (AstraPluginLoader *self, const char *dir, GError **error);
/* loads one module file; FALSE with ASTRA_ERROR_PLUGIN and the reason (also recorded) if refused;
 * loading a path that is already loaded is a no-op */
gboolean astra_plugin_loader_load_file (AstraPluginLoader *self, const char *path, GError **error);
/* registers a plugin type without a module, for tests and built-ins */
void astra_plugin_loader_add_type (AstraPluginLoader *self, const char *name, GType gtype);
/* (transfer none) AstraPluginModule entries in the order seen, loaded and refused alike */
GPtrArray *astra_plugin_loader_get_modules (AstraPluginLoader *self);
/* the loaded module of that name, else the last refused one, else NULL */
const AstraPluginModule *astra_plugin_loader_lookup (AstraPluginLoader *self, const char *name);
/* a new, unconfigured instance of the named plugin; ASTRA_ERROR_NOT_FOUND names the plugins available,
 * ASTRA_ERROR_PLUGIN gives the reason a module was refused */
AstraPlugin *astra_plugin_loader_create (AstraPluginLoader *self, const char *name, GError **error);
const char *astra_plugin_state_to_string (AstraPluginState state);

G_END_DECLS
