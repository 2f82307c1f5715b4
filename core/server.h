/* The server process, and the storage set-up every command shares. */
#ifndef DESTEK_SERVER_H
#define DESTEK_SERVER_H
#include <stddef.h>

#include "config.h"

/* Creates the data directory if needed, opens the database and applies migrations. The caller holds the data
 * directory's lock. 0, or -1 with err filled (a database newer than the binary is refused untouched). */
int server_open_store(const char *data, int durability_full, char *err, size_t errlen);

/* Registers the core's routes, settings and event sinks, then loads the C and Lua plugins. 0 or -1. */
int server_core_init(const char *data_dir);

/* Undoes server_core_init and server_open_store: unloads plugins, closes Lua states and the database. */
void server_core_shutdown(void);

/* Runs the server until SIGINT/SIGTERM. Returns the process exit code. */
int server_run(const struct config *cfg);

#endif
