/* C plugins: built-in ones from the registry table, and .so files from <data>/plugins/. */
#ifndef DESTEK_PLUGIN_H
#define DESTEK_PLUGIN_H

#include <cjson/cJSON.h>

#include "destek.h"

/* Loads the built-in plugins (but those DESTEK_NO_BUILTIN switches off), then <data>/plugins/NAME.so: checks the ABI
 * number and struct size, applies migrations, registers routes, calls init. A refused or failing plugin is logged by name and the server runs on without it.
 * Returns the number loaded. */
int plugin_load_all(const char *data_dir);
void plugin_unload_all(void);
/* The data directory plugins see through host->data_dir (set by plugin_load_all). */
void plugin_set_data_dir(const char *dir);

/* Every loaded plugin, C and Lua: [{name, version, kind, source}] (caller frees). */
cJSON *plugin_list_new(void);

/* Plugins that did not load: noted with their name (or file stem), kind ("c (.so)", "c (built-in)", "lua",
 * "lua (built-in)"), source and reason (cut to a few hundred bytes). plugin_failed_forget drops the notes whose kind
 * starts with kind_prefix (the Lua host, before each reload). The list: [{name, kind, source, error}] (caller frees). */
void plugin_failed_note(const char *name, const char *kind, const char *source, const char *fmt, ...)
  __attribute__((format(printf, 4, 5)));
void plugin_failed_forget(const char *kind_prefix);
cJSON *plugin_failed_list_new(void);

/* The host function table for owner (a plugin name, or "core"). Never NULL; lives until exit. */
const struct destek_host *plugin_host(const char *owner);

/* The plugin's CLI commands (NULL for a plugin whose struct predates the field, or that has none). */
const struct destek_command *plugin_struct_commands(const struct destek_plugin *p);
/* 1 when DESTEK_NO_BUILTIN ("ticketing,other") switches the built-in plugin name off: it is not loaded, so that a
 * .so of the same module in <data>/plugins/ can stand in for it (the tests of a module built as a .so). */
int plugin_builtin_off(const char *name);
/* The command of a loaded plugin (init succeeded) named name ("mail import"); *plugin (may be NULL) its plugin. */
const struct destek_command *plugin_command_find(const char *name, const char **plugin);

/* Applies a plugin's migrations (owner = plugin name). 0, or -1 with err filled. */
int plugin_migrate(const char *owner, const struct destek_migration *steps, char *err, size_t errlen);
/* The same, each step's SQL run by runner (db.h; NULL: as it is). */
struct db_step_runner;
int plugin_migrate_run(const char *owner, const struct destek_migration *steps, const struct db_step_runner *runner,
                       char *err, size_t errlen);

/* Runs the start-phase functions plugins registered with host->started (once every plugin has been initialised);
 * plugin_started_forget drops a plugin's (one that failed or was unloaded). */
void plugin_started_run(void);
void plugin_started_forget(const char *owner);

/* GET /api/v1/plugins (admin) and the control commands plugins_list / plugins_reload. */
int plugin_routes_init(void);

#endif
