/* The data directory and its lock. */
#include "datadir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static int lock_fd = -1;

void datadir_path(const char *dir, const char *name, char *out, size_t outlen)
{
  snprintf(out, outlen, "%s/%s", dir, name);
}

int datadir_ensure(const char *dir, char *err, size_t errlen)
{
  char path[4096];
  if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) {
    snprintf(err, errlen, "data directory path is too long");
    return -1;
  }
  for (char *p = path + 1; *p; p++) {
    if (*p != '/') continue;
    *p = 0;
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
      snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
      return -1;
    }
    *p = '/';
  }
  if (mkdir(path, 0700) != 0 && errno != EEXIST) {
    snprintf(err, errlen, "cannot create data directory %s: %s", path, strerror(errno));
    return -1;
  }
  struct stat st;
  if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
    snprintf(err, errlen, "data directory %s is not a directory", path);
    return -1;
  }
  if (st.st_mode & 077)
    fprintf(stderr, "destek: warning: the data directory %s can be read by other users (mode %03o); it holds the "
                    "database and secrets: chmod 700 %s\n", path, (unsigned)(st.st_mode & 0777), path);
  if (access(path, W_OK | X_OK) != 0) {
    snprintf(err, errlen, "data directory %s is not writable: %s", path, strerror(errno));
    return -1;
  }
  return 0;
}

int datadir_lock(const char *dir, char *err, size_t errlen)
{
  char path[4096];
  datadir_path(dir, "destek.lock", path, sizeof path);
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    snprintf(err, errlen, "cannot open lock file %s: %s", path, strerror(errno));
    return -1;
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int busy = errno == EWOULDBLOCK;
    if (!busy) snprintf(err, errlen, "cannot lock %s: %s", path, strerror(errno));
    close(fd);
    return busy ? 1 : -1;
  }
  char pid[32];
  int n = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
  if (ftruncate(fd, 0) == 0 && pwrite(fd, pid, (size_t)n, 0) < 0) { /* the pid is informational only */ }
  lock_fd = fd;
  return 0;
}
