/* CLI commands that plugins add to `destek` (struct destek_plugin.commands): `destek demo`, `destek mail import`.
 * The CLI reads the tables without loading the plugins (built-in ones from the registry, .so ones from
 * <data>/plugins/ without calling their init), so that `destek help` and usage errors need no database. A command
 * runs after its plugin's init: in the server that holds the data directory (DESTEK_COMMAND_SERVER, over the control
 * socket), or in the CLI with the store open and every plugin loaded. */
#ifndef DESTEK_COMMANDS_H
#define DESTEK_COMMANDS_H
#include <stdio.h>

#include "config.h"
#include "destek.h"

/* When argv (the words after "destek") names a plugin's command, runs it and returns the exit code; returns -1 when
 * no plugin has a command of that name (the caller reports an unknown command). cfg->data is the default data
 * directory: a --data among argv replaces it. */
int commands_main(struct config *cfg, int argc, char **argv);

/* Writes the plugins' commands for `destek help`: those of the built-in plugins, and of the .so plugins in
 * data_dir/plugins when that directory exists (nothing is created). */
void commands_help(FILE *out, const char *data_dir);

/* Checks a plugin's command table before the plugin loads: names of one or two lower-case words that no core
 * command and no loaded plugin has, a known `where`, a run function. 0, or -1 (logged, naming the command).
 * taken(name) says whether a loaded plugin has the name already. */
int commands_check(const char *plugin, const struct destek_command *commands,
                   const struct destek_command *(*taken)(const char *name, const char **plugin));

/* Registers the control command "plugin_command" {name, argv, input_base64}: the server side of
 * DESTEK_COMMAND_SERVER. */
void commands_control_init(void);

#endif
