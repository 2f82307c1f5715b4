/* Commands other than `serve`: admin add, backup, restore, migrate. Each returns the process exit code. */
#ifndef DESTEK_CLI_H
#define DESTEK_CLI_H

#include "config.h"

int cli_admin_add(const struct config *cfg, const char *email, const char *name, const char *role);
int cli_backup(const struct config *cfg, const char *file);
int cli_restore(const struct config *cfg, const char *file);
int cli_migrate(const struct config *cfg);
/* action: "list" or "reload" (reload needs a running server). */
int cli_plugins(const struct config *cfg, const char *action);

/* Fills DIR with the demo shop (size 0) or size bench tickets; refuses a desk with tickets unless force. */
int cli_demo(const struct config *cfg, int force, long size);

/* Reads one raw mail message from standard input and files it (the ticketing plugin's "mail_import"). */
int cli_mail_import(const struct config *cfg);

/* Registers the commands a running server performs for the CLI (control.h). */
void cli_control_init(void);

#endif
