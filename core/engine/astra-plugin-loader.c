/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <gmodule.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "astra-plugin-loader.h"

/*
 * Loading a module runs its code (ELF constructors, then whatever the daemon
 * calls), with the daemon's privileges. So everything that can be checked
 * without running the module is checked before dlopen(): the file and its
 * folder must be writable only by root (or, for a daemon not running as
 * root, by its own user). A safe folder also closes the race between the
 * checks and dlopen(): nobody else can replace the file in between.
 *
 * A module that ran its type registration stays mapped even when refused:
 * GType keeps pointers into it (class_init, names) for the life of the
 * process, and unmapping it would crash the next type lookup.
 */

struct _AstraPluginLoader {
	GObject parent_instance;
	GPtrArray *modules; /* of AstraPluginModule, in the order seen */
};

G_DEFINE_FINAL_TYPE (AstraPluginLoader, astra_plugin_loader, G_TYPE_OBJECT)

static void
astra_plugin_module_free (AstraPluginModule *module)
{
	g_free (module->name);
	g_free (module->path);
	g_free (module->error);
	g_free (module);
}

static gboolean
astra_plugin_name_is_valid (const char *name)
{
	if (name == NULL || name[0] == '\0')
		return FALSE;
	for (const char *p = name; *p != '\0'; p++) {
		if (!g_ascii_islower (*p) && !g_ascii_isdigit (*p) && *p != '_' && *p != '-')
			return FALSE;
	}
	return TRUE;
}

static AstraPluginModule *
astra_plugin_loader_find_loaded (AstraPluginLoader *self, const char *name)
{
	for (guint i = 0; i < self->modules->len; i++) {
		AstraPluginModule *module = g_ptr_array_index (self->modules, i);
		if (module->state == ASTRA_PLUGIN_STATE_LOADED && g_strcmp0 (module->name, name) == 0)
			return module;
	}
	return NULL;
}

static AstraPluginModule *
astra_plugin_loader_find_path (AstraPluginLoader *self, const char *path)
{
	for (guint i = 0; i < self->modules->len; i++) {
		AstraPluginModule *module = g_ptr_array_index (self->modules, i);
		if (g_strcmp0 (module->path, path) == 0)
			return module;
	}
	return NULL;
}

/* a rescan updates the entry of a path in place, so the list keeps the order modules were first seen */
static void
astra_plugin_loader_record (AstraPluginLoader *self,
			    const char *name,
			    const char *path,
			    guint32 abi_version,
			    AstraPluginState state,
			    const char *error,
			    GType gtype)
{
	AstraPluginModule *module = path != NULL ? astra_plugin_loader_find_path (self, path) : NULL;

	if (module == NULL) {
		module = g_new0 (AstraPluginModule, 1);
		g_ptr_array_add (self->modules, module);
	}
	g_free (module->name);
	g_free (module->path);
	g_free (module->error);
	module->name = g_strdup (name);
	module->path = g_strdup (path);
	module->abi_version = abi_version;
	module->state = state;
	module->error = g_strdup (error);
	module->gtype = gtype;
}

static gboolean
astra_plugin_loader_refuse (AstraPluginLoader *self,
			    const char *name,
			    const char *path,
			    guint32 abi_version,
			    GError **error,
			    const char *format,
			    ...) G_GNUC_PRINTF (6, 7);

/* records and logs a refused module; always returns FALSE */
static gboolean
astra_plugin_loader_refuse (AstraPluginLoader *self,
			    const char *name,
			    const char *path,
			    guint32 abi_version,
			    GError **error,
			    const char *format,
			    ...)
{
	g_autofree char *reason = NULL;
	AstraPluginModule *previous;
	va_list args;

	va_start (args, format);
	reason = g_strdup_vprintf (format, args);
	va_end (args);

	/* a rescan does not repeat the same warning for the same file */
	previous = astra_plugin_loader_find_path (self, path);
	if (previous != NULL && g_strcmp0 (previous->error, reason) == 0)
		g_debug ("still refusing plugin module %s: %s", path, reason);
	else
		g_warning ("refusing plugin module %s: %s", path, reason);
	astra_plugin_loader_record (self, name, path, abi_version,
				    ASTRA_PLUGIN_STATE_REFUSED, reason, G_TYPE_INVALID);
	g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_PLUGIN, "plugin module %s refused: %s", path, reason);
	return FALSE;
}

/* who may have written @st: root, or the daemon's own user when it is not root */
static gboolean
astra_plugin_loader_check_stat (const struct stat *st, const char *what, GError **error)
{
	uid_t euid = geteuid ();
	guint mode = (guint) (st->st_mode & 07777);

	if (st->st_uid != 0 && (euid == 0 || st->st_uid != euid)) {
		if (euid == 0) {
			g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_PLUGIN,
				     "%s is owned by uid %u, not by root", what, (guint) st->st_uid);
		} else {
			g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_PLUGIN,
				     "%s is owned by uid %u, not by root or uid %u",
				     what, (guint) st->st_uid, (guint) euid);
		}
		return FALSE;
	}
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_PLUGIN,
			     "%s is %s (mode %04o)", what,
			     (st->st_mode & S_IWOTH) != 0 ? "world-writable" : "group-writable", mode);
		return FALSE;
	}
	return TRUE;
}

/* the folder is followed through symlinks: what matters is who can write the real folder */
static gboolean
astra_plugin_loader_check_dir (const char *dir, GError **error)
{
	g_autofree char *what = g_strdup_printf ("folder %s", dir);
	struct stat st;

	if (g_stat (dir, &st) != 0) {
		int errsv = errno;
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_PLUGIN,
			     "cannot read folder %s: %s", dir, g_strerror (errsv));
		return FALSE;
	}
	if (!S_ISDIR (st.st_mode)) {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_PLUGIN, "%s is not a folder", dir);
		return FALSE;
	}
	return astra_plugin_loader_check_stat (&st, what, error);
}

/* lstat: a symlink could point anywhere, to a file in a folder nobody checked */
static gboolean
astra_plugin_loader_check_file (const char *path, GError **error)
{
	struct stat st;

	if (g_lstat (path, &st) != 0) {
		int errsv = errno;
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_PLUGIN,
			     "cannot read file: %s", g_strerror (errsv));
		return FALSE;
	}
	if (S_ISLNK (st.st_mode)) {
		g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_PLUGIN,
				     "file is a symbolic link, not a regular file");
		return FALSE;
	}
	if (!S_ISREG (st.st_mode)) {
		g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_PLUGIN, "not a regular file");
		return FALSE;
	}
	return astra_plugin_loader_check_stat (&st, "file", error);
}

/* the GModule is closed, which unmaps it unless it was made resident */
static gboolean
astra_plugin_loader_refuse_module (AstraPluginLoader *self,
				   GModule *gmodule,
				   const char *name,
				   const char *path,
				   guint32 abi_version,
				   const char *reason,
				   GError **error)
{
	g_module_close (gmodule);
	return astra_plugin_loader_refuse (self, name, path, abi_version, error, "%s", reason);
}

/**
 * astra_plugin_loader_load_file:
 * @self: an #AstraPluginLoader
 * @path: a module file, `<name>.so`
 * @error: return location for a #GError
 *
 * Checks, opens and registers one plugin module. A refused module is logged,
 * recorded with its reason and reported in @error.
 *
 * Returns: %TRUE if the plugin is loaded
 */
gboolean
astra_plugin_loader_load_file (AstraPluginLoader *self, const char *path, GError **error)
{
	g_autoptr(GError) error_local = NULL;
	g_autofree char *filename = NULL;
	g_autofree char *name = NULL;
	g_autofree char *dir = NULL;
	g_autofree char *abspath = NULL;
	const AstraPluginInfo *info = NULL;
	AstraPluginQueryFunc query = NULL;
	AstraPluginModule *previous;
	GModule *gmodule;
	GType gtype;

	g_return_val_if_fail (ASTRA_IS_PLUGIN_LOADER (self), FALSE);
	g_return_val_if_fail (path != NULL, FALSE);
	g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

	abspath = g_canonicalize_filename (path, NULL);
	filename = g_path_get_basename (abspath);
	name = g_strndup (filename, g_str_has_suffix (filename, ".so") ? strlen (filename) - 3 : strlen (filename));

	/* idempotent, so the daemon can rescan its folder; a refused module gets another chance */
	previous = astra_plugin_loader_find_path (self, abspath);
	if (previous != NULL && previous->state == ASTRA_PLUGIN_STATE_LOADED)
		return TRUE;

	if (!g_str_has_suffix (filename, ".so") || !astra_plugin_name_is_valid (name)) {
		return astra_plugin_loader_refuse (self, name, abspath, 0, error,
						   "file name is not <name>.so with a name of [a-z0-9_-]+");
	}

	/* nothing from the module runs before these */
	dir = g_path_get_dirname (abspath);
	if (!astra_plugin_loader_check_dir (dir, &error_local) ||
	    !astra_plugin_loader_check_file (abspath, &error_local))
		return astra_plugin_loader_refuse (self, name, abspath, 0, error, "%s", error_local->message);

	/* no G_MODULE_BIND_LAZY: a module with a missing symbol fails here, not at the first event */
	gmodule = g_module_open_full (abspath, G_MODULE_BIND_LOCAL, &error_local);
	if (gmodule == NULL) {
		return astra_plugin_loader_refuse (self, name, abspath, 0, error,
						   "cannot open module: %s", error_local->message);
	}
	if (!g_module_symbol (gmodule, ASTRA_PLUGIN_QUERY_SYMBOL, (gpointer *) &query) || query == NULL) {
		return astra_plugin_loader_refuse_module (self, gmodule, name, abspath, 0,
							  "module does not export " ASTRA_PLUGIN_QUERY_SYMBOL "()",
							  error);
	}
	info = query ();
	if (info == NULL) {
		return astra_plugin_loader_refuse_module (self, gmodule, name, abspath, 0,
							  ASTRA_PLUGIN_QUERY_SYMBOL "() returned NULL",
							  error);
	}

	/* abi_version is the first field in every ABI; nothing else of @info is read before it matches */
	if (info->abi_version != ASTRA_PLUGIN_ABI_VERSION) {
		g_autofree char *reason = g_strdup_printf ("module has plugin ABI version %u, the daemon needs %u",
							   (guint) info->abi_version,
							   (guint) ASTRA_PLUGIN_ABI_VERSION);
		return astra_plugin_loader_refuse_module (self, gmodule, name, abspath, info->abi_version,
							  reason, error);
	}
	if (!astra_plugin_name_is_valid (info->name)) {
		return astra_plugin_loader_refuse_module (self, gmodule, name, abspath, info->abi_version,
							  "module declares no valid name ([a-z0-9_-]+)", error);
	}
	if (g_strcmp0 (info->name, name) != 0) {
		g_autofree char *reason = g_strdup_printf ("module declares the name '%s', not '%s' as its file name",
							   info->name, name);
		return astra_plugin_loader_refuse_module (self, gmodule, name, abspath, info->abi_version,
							  reason, error);
	}

	/* checked before get_type: a second copy of a module would register its GType names again */
	previous = astra_plugin_loader_find_loaded (self, name);
	if (previous != NULL) {
		g_autofree char *reason = previous->path != NULL
			? g_strdup_printf ("a plugin named '%s' is already loaded from %s", name, previous->path)
			: g_strdup_printf ("a plugin named '%s' is already built in", name);
		return astra_plugin_loader_refuse_module (self, gmodule, name, abspath, info->abi_version,
							  reason, error);
	}
	if (info->get_type == NULL) {
		return astra_plugin_loader_refuse_module (self, gmodule, name, abspath, info->abi_version,
							  "module declares no get_type function", error);
	}

	g_module_make_resident (gmodule);
	gtype = info->get_type ();
	if (gtype == G_TYPE_INVALID) {
		return astra_plugin_loader_refuse (self, name, abspath, info->abi_version, error,
						   "get_type() returned no type");
	}
	if (!g_type_is_a (gtype, ASTRA_TYPE_PLUGIN)) {
		return astra_plugin_loader_refuse (self, name, abspath, info->abi_version, error,
						   "type %s is not an AstraPlugin", g_type_name (gtype));
	}
	if (G_TYPE_IS_ABSTRACT (gtype)) {
		return astra_plugin_loader_refuse (self, name, abspath, info->abi_version, error,
						   "type %s is abstract", g_type_name (gtype));
	}

	g_debug ("loaded plugin %s (%s) from %s", name, g_type_name (gtype), abspath);
	astra_plugin_loader_record (self, name, abspath, info->abi_version,
				    ASTRA_PLUGIN_STATE_LOADED, NULL, gtype);
	return TRUE;
}

static gint
astra_plugin_loader_strcmp_cb (gconstpointer a, gconstpointer b)
{
	return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

/**
 * astra_plugin_loader_load_dir:
 * @self: an #AstraPluginLoader
 * @dir: the plugin folder
 * @error: return location for a #GError
 *
 * Loads every `*.so` in @dir, in sorted order so that logs and conflicts do
 * not depend on the file system. A refused module never stops the others.
 * A folder that does not exist holds no plugins; that is logged, not an
 * error.
 *
 * Returns: %FALSE if @dir cannot be read or is unsafe; its modules are then
 *   all recorded as refused
 */
gboolean
astra_plugin_loader_load_dir (AstraPluginLoader *self, const char *dir, GError **error)
{
	g_autoptr(GError) error_dir = NULL;
	g_autoptr(GDir) gdir = NULL;
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
	const char *entry;
	struct stat st;

	g_return_val_if_fail (ASTRA_IS_PLUGIN_LOADER (self), FALSE);
	g_return_val_if_fail (dir != NULL, FALSE);
	g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

	if (g_stat (dir, &st) != 0 && errno == ENOENT) {
		g_message ("plugin folder %s does not exist: no plugin modules loaded", dir);
		return TRUE;
	}
	/* an unsafe folder still lets each module be recorded, refused for the folder's reason */
	if (!astra_plugin_loader_check_dir (dir, &error_dir) && !g_file_test (dir, G_FILE_TEST_IS_DIR)) {
		g_propagate_error (error, g_steal_pointer (&error_dir));
		return FALSE;
	}

	gdir = g_dir_open (dir, 0, error);
	if (gdir == NULL) {
		g_prefix_error (error, "cannot read plugin folder: ");
		return FALSE;
	}
	while ((entry = g_dir_read_name (gdir)) != NULL) {
		if (g_str_has_suffix (entry, ".so"))
			g_ptr_array_add (names, g_strdup (entry));
	}
	g_ptr_array_sort (names, astra_plugin_loader_strcmp_cb);

	for (guint i = 0; i < names->len; i++) {
		g_autofree char *path = g_build_filename (dir, g_ptr_array_index (names, i), NULL);
		/* load_file logs and records why; the daemon carries on without the module */
		astra_plugin_loader_load_file (self, path, NULL);
	}

	if (error_dir != NULL) {
		g_propagate_prefixed_error (error, g_steal_pointer (&error_dir), "unsafe plugin folder: ");
		return FALSE;
	}
	return TRUE;
}

/**
 * astra_plugin_loader_add_type:
 * @self: an #AstraPluginLoader
 * @name: the plugin name
 * @gtype: a non-abstract subclass of #AstraPlugin
 *
 * Registers a plugin type without a module, as a test linking a plugin's
 * static library does.
 */
void
astra_plugin_loader_add_type (AstraPluginLoader *self, const char *name, GType gtype)
{
	g_return_if_fail (ASTRA_IS_PLUGIN_LOADER (self));
	g_return_if_fail (astra_plugin_name_is_valid (name));
	g_return_if_fail (g_type_is_a (gtype, ASTRA_TYPE_PLUGIN));
	g_return_if_fail (!G_TYPE_IS_ABSTRACT (gtype));
	g_return_if_fail (astra_plugin_loader_find_loaded (self, name) == NULL);

	astra_plugin_loader_record (self, name, NULL, ASTRA_PLUGIN_ABI_VERSION,
				    ASTRA_PLUGIN_STATE_LOADED, NULL, gtype);
}

/**
 * astra_plugin_loader_get_modules:
 * @self: an #AstraPluginLoader
 *
 * Returns: (transfer none) (element-type AstraPluginModule): every module
 *   seen, loaded and refused alike, in the order seen
 */
GPtrArray *
astra_plugin_loader_get_modules (AstraPluginLoader *self)
{
	g_return_val_if_fail (ASTRA_IS_PLUGIN_LOADER (self), NULL);
	return self->modules;
}

/**
 * astra_plugin_loader_lookup:
 * @self: an #AstraPluginLoader
 * @name: a plugin name
 *
 * Returns: (transfer none) (nullable): the loaded module called @name, else
 *   the last refused one, else %NULL
 */
const AstraPluginModule *
astra_plugin_loader_lookup (AstraPluginLoader *self, const char *name)
{
	const AstraPluginModule *refused = NULL;

	g_return_val_if_fail (ASTRA_IS_PLUGIN_LOADER (self), NULL);
	g_return_val_if_fail (name != NULL, NULL);

	for (guint i = 0; i < self->modules->len; i++) {
		const AstraPluginModule *module = g_ptr_array_index (self->modules, i);
		if (g_strcmp0 (module->name, name) != 0)
			continue;
		if (module->state == ASTRA_PLUGIN_STATE_LOADED)
			return module;
		refused = module;
	}
	return refused;
}

static char *
astra_plugin_loader_get_available (AstraPluginLoader *self)
{
	g_autoptr(GPtrArray) names = g_ptr_array_new ();

	for (guint i = 0; i < self->modules->len; i++) {
		AstraPluginModule *module = g_ptr_array_index (self->modules, i);
		if (module->state == ASTRA_PLUGIN_STATE_LOADED)
			g_ptr_array_add (names, module->name);
	}
	if (names->len == 0)
		return g_strdup ("none");
	g_ptr_array_sort (names, astra_plugin_loader_strcmp_cb);
	g_ptr_array_add (names, NULL);
	return g_strjoinv (", ", (char **) names->pdata);
}

/**
 * astra_plugin_loader_create:
 * @self: an #AstraPluginLoader
 * @name: a plugin name
 * @error: return location for a #GError
 *
 * Creates a new, unconfigured instance of the plugin called @name.
 *
 * Returns: (transfer full): the plugin, or %NULL with
 *   %ASTRA_ERROR_NOT_FOUND naming the available plugins, or
 *   %ASTRA_ERROR_PLUGIN with the reason the module was refused
 */
AstraPlugin *
astra_plugin_loader_create (AstraPluginLoader *self, const char *name, GError **error)
{
	const AstraPluginModule *module;

	g_return_val_if_fail (ASTRA_IS_PLUGIN_LOADER (self), NULL);
	g_return_val_if_fail (name != NULL, NULL);
	g_return_val_if_fail (error == NULL || *error == NULL, NULL);

	module = astra_plugin_loader_lookup (self, name);
	if (module == NULL) {
		g_autofree char *available = astra_plugin_loader_get_available (self);
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_NOT_FOUND,
			     "no plugin named '%s' (available: %s)", name, available);
		return NULL;
	}
	if (module->state != ASTRA_PLUGIN_STATE_LOADED) {
		g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_PLUGIN,
			     "plugin '%s' is not available: %s", name, module->error);
		return NULL;
	}
	return ASTRA_PLUGIN (g_object_new (module->gtype, NULL));
}

/**
 * astra_plugin_state_to_string:
 * @state: an #AstraPluginState
 *
 * Returns: (nullable): `loaded` or `refused`, or %NULL if unknown
 */
const char *
astra_plugin_state_to_string (AstraPluginState state)
{
	switch (state) {
	case ASTRA_PLUGIN_STATE_LOADED:
		return "loaded";
	case ASTRA_PLUGIN_STATE_REFUSED:
		return "refused";
	default:
		return NULL;
	}
}

static void
astra_plugin_loader_finalize (GObject *object)
{
	AstraPluginLoader *self = ASTRA_PLUGIN_LOADER (object);

	/* only the records go: the modules themselves stay mapped (see the top of this file) */
	g_ptr_array_unref (self->modules);
	G_OBJECT_CLASS (astra_plugin_loader_parent_class)->finalize (object);
}

static void
astra_plugin_loader_class_init (AstraPluginLoaderClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS (klass);

	object_class->finalize = astra_plugin_loader_finalize;
}

static void
astra_plugin_loader_init (AstraPluginLoader *self)
{
	self->modules = g_ptr_array_new_with_free_func ((GDestroyNotify) astra_plugin_module_free);
}

/**
 * astra_plugin_loader_new:
 *
 * Returns: (transfer full): a new loader with no plugins
 */
AstraPluginLoader *
astra_plugin_loader_new (void)
{
	return g_object_new (ASTRA_TYPE_PLUGIN_LOADER, NULL);
}
