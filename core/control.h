/* The control socket: CLI commands that write hand their work to the running server through
 * <data>/control.sock (a Unix socket in the 0700 data directory), so that there is never a second writer. */
#ifndef DESTEK_CONTROL_H
#define DESTEK_CONTROL_H
#include <stddef.h>

#include <cjson/cJSON.h>

/* Runs a command in the server. Returns the CLI exit code; *message (caller frees) says what happened. */
typedef int (*control_fn)(const cJSON *args, char **message);

/* Registers a command by name (before control_start). */
void control_register(const char *name, control_fn fn);
/* Starts listening on dir/control.sock in a thread of its own. 0, or -1 with err filled. */
int control_start(const char *dir, char *err, size_t errlen);
void control_stop(void);

/* Client side: sends {"cmd":name, ...args} to the server owning dir and waits for its answer. Returns the exit code
 * the server chose, or -1 when no server answers (err filled); *message is the server's text (caller frees). */
int control_call(const char *dir, const char *name, const cJSON *args, char **message, char *err, size_t errlen);

/* Runs a registered command in this process (used when no server runs and the CLI holds the lock itself). */
int control_run_local(const char *name, const cJSON *args, char **message);

#endif
