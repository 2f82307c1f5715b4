/* Commands other than `serve`: admin add, backup, restore, migrate, plugins. Each returns the process exit code.
 * Plugins' commands (destek demo, destek mail import) are run by commands.c. */
#ifndef DESTEK_CLI_H
#define DESTEK_CLI_H

#include <cjson/cJSON.h>

#include "config.h"

int cli_admin_add(const struct config *cfg, const char *email, const char *name, const char *role);
int cli_backup(const struct config *cfg, const char *file);
int cli_restore(const struct config *cfg, const char *file);
int cli_migrate(const struct config *cfg);
/* action: "list" or "reload" (reload needs a running server). */
int cli_plugins(const struct config *cfg, const char *action);

/* Runs the control command name (control.h) with args in the server that holds the data directory, or here under
 * the lock with the store open and the plugins loaded; prints its message (stdout on 0, else stderr). The exit code. */
int cli_run_writer(const struct config *cfg, const char *name, cJSON *args);

/* Registers the commands a running server performs for the CLI (control.h). */
void cli_control_init(void);

#endif
