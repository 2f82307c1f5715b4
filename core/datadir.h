/* The data directory: created 0700, owned by one process at a time through a lock file. */
#ifndef DESTEK_DATADIR_H
#define DESTEK_DATADIR_H
#include <stddef.h>

/* Creates dir (and parents) with mode 0700 if missing. 0, or -1 with err filled. */
int datadir_ensure(const char *dir, char *err, size_t errlen);
/* Takes the exclusive lock on dir/destek.lock, held until the process exits. 0 when taken, 1 when another process
 * holds it, -1 on error (err filled). */
int datadir_lock(const char *dir, char *err, size_t errlen);
/* "dir/name" into out. */
void datadir_path(const char *dir, const char *name, char *out, size_t outlen);

#endif
