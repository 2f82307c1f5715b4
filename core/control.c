/* The control socket (see control.h). One connection at a time: commands are rare and short. */
#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "db.h"
#include "log.h"
#include "lua_host.h"
#include "util.h"

#define MAX_COMMANDS 16
#define MAX_MESSAGE (1024 * 1024)

static struct { const char *name; control_fn fn; } commands[MAX_COMMANDS];
static int n_commands;
static int listen_fd = -1, stop_pipe[2] = { -1, -1 }, dir_fd = -1;
static pthread_t thread;
static char sock_path[4096];

void control_register(const char *name, control_fn fn)
{
  if (n_commands < MAX_COMMANDS) commands[n_commands++] = (typeof(commands[0])){ name, fn };
}

int control_run_local(const char *name, const cJSON *args, char **message)
{
  for (int i = 0; i < n_commands; i++)
    if (!strcmp(commands[i].name, name)) return commands[i].fn(args, message);
  if (asprintf(message, "unknown command %s", name) < 0) *message = NULL;
  return 2;
}

/* Fills addr for dir/control.sock; paths too long for sun_path go through /proc/self/fd of an open directory. */
static int make_addr(const char *dir, struct sockaddr_un *addr, int *opened_fd)
{
  memset(addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  *opened_fd = -1;
  if (snprintf(addr->sun_path, sizeof addr->sun_path, "%s/control.sock", dir) < (int)sizeof addr->sun_path) return 0;
  int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  *opened_fd = fd;
  snprintf(addr->sun_path, sizeof addr->sun_path, "/proc/self/fd/%d/control.sock", fd);
  return 0;
}

static char *read_all(int fd, size_t cap)
{
  size_t len = 0, size = 4096;
  char *buf = malloc(size);
  if (!buf) abort();
  for (;;) {
    if (len + 1 >= size) {
      if (size >= cap) { free(buf); return NULL; }
      size *= 2;
      buf = realloc(buf, size);
      if (!buf) abort();
    }
    ssize_t n = read(fd, buf + len, size - len - 1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) { free(buf); return NULL; }
    if (n == 0) break;
    len += (size_t)n;
  }
  buf[len] = 0;
  return buf;
}

static int write_all(int fd, const char *p, size_t len)
{
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

static void serve_one(int fd)
{
  struct timeval tv = { .tv_sec = 30 };
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || (cred.uid != getuid() && cred.uid != 0)) {
    log_warn("control", "refused a connection from uid %d", (int)cred.uid);
    return;
  }
  char *text = read_all(fd, MAX_MESSAGE);
  cJSON *req = text ? cJSON_Parse(text) : NULL;
  free(text);
  char *message = NULL;
  int code;
  cJSON *cmd = cJSON_GetObjectItemCaseSensitive(req, "cmd");
  if (!cJSON_IsString(cmd)) {
    code = 2;
    message = util_strdup("malformed control request");
  } else {
    log_info("control", "running '%s' for the command line", cmd->valuestring);
    code = control_run_local(cmd->valuestring, req, &message);
  }
  cJSON *resp = cJSON_CreateObject();
  cJSON_AddNumberToObject(resp, "exit", code);
  cJSON_AddStringToObject(resp, "message", message ? message : "");
  char *out = cJSON_PrintUnformatted(resp);
  if (write_all(fd, out, strlen(out)) != 0) log_warn("control", "the command line went away before the answer");
  cJSON_free(out);
  cJSON_Delete(resp);
  cJSON_Delete(req);
  free(message);
}

static void *control_main(void *arg)
{
  (void)arg;
  struct pollfd fds[2] = { { .fd = listen_fd, .events = POLLIN }, { .fd = stop_pipe[0], .events = POLLIN } };
  for (;;) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[1].revents) break;
    if (fds[0].revents & POLLIN) {
      int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
      if (fd >= 0) {
        serve_one(fd);
        close(fd);
      }
    }
  }
  /* Commands run plugin code on this thread: its Lua state and read connection go with it. */
  lua_host_thread_release();
  db_reader_release();
  return NULL;
}

int control_start(const char *dir, char *err, size_t errlen)
{
  struct sockaddr_un addr;
  if (make_addr(dir, &addr, &dir_fd) != 0) {
    snprintf(err, errlen, "cannot open %s: %s", dir, strerror(errno));
    return -1;
  }
  snprintf(sock_path, sizeof sock_path, "%s", addr.sun_path);
  unlink(sock_path);  /* a stale socket from a crash: we hold the lock, so nobody else owns it */
  listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  mode_t old = umask(0077);
  int rc = listen_fd < 0 ? -1 : bind(listen_fd, (struct sockaddr *)&addr, sizeof addr);
  umask(old);
  if (rc != 0 || listen(listen_fd, 8) != 0 || pipe2(stop_pipe, O_CLOEXEC) != 0) {
    snprintf(err, errlen, "cannot listen on %s/control.sock: %s", dir, strerror(errno));
    return -1;
  }
  if (pthread_create(&thread, NULL, control_main, NULL) != 0) {
    snprintf(err, errlen, "cannot start the control thread");
    return -1;
  }
  return 0;
}

void control_stop(void)
{
  if (listen_fd < 0) return;
  if (write(stop_pipe[1], "x", 1) == 1) pthread_join(thread, NULL);
  close(listen_fd);
  listen_fd = -1;
  unlink(sock_path);
  close(stop_pipe[0]);
  close(stop_pipe[1]);
  if (dir_fd >= 0) close(dir_fd);
}

int control_call(const char *dir, const char *name, const cJSON *args, char **message, char *err, size_t errlen)
{
  *message = NULL;
  struct sockaddr_un addr;
  int tmp_fd;
  if (make_addr(dir, &addr, &tmp_fd) != 0) {
    snprintf(err, errlen, "cannot open %s: %s", dir, strerror(errno));
    return -1;
  }
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int rc = fd < 0 ? -1 : connect(fd, (struct sockaddr *)&addr, sizeof addr);
  if (tmp_fd >= 0) close(tmp_fd);
  if (rc != 0) {
    snprintf(err, errlen, "the server holding %s does not answer on its control socket: %s", dir, strerror(errno));
    if (fd >= 0) close(fd);
    return -1;
  }
  cJSON *req = args ? cJSON_Duplicate(args, 1) : cJSON_CreateObject();
  cJSON_DeleteItemFromObject(req, "cmd");
  cJSON_AddStringToObject(req, "cmd", name);
  char *text = cJSON_PrintUnformatted(req);
  cJSON_Delete(req);
  int ok = write_all(fd, text, strlen(text)) == 0 && shutdown(fd, SHUT_WR) == 0;
  cJSON_free(text);
  char *answer = ok ? read_all(fd, MAX_MESSAGE) : NULL;
  close(fd);
  cJSON *resp = answer ? cJSON_Parse(answer) : NULL;
  free(answer);
  cJSON *code = cJSON_GetObjectItemCaseSensitive(resp, "exit");
  cJSON *msg = cJSON_GetObjectItemCaseSensitive(resp, "message");
  if (!cJSON_IsNumber(code)) {
    cJSON_Delete(resp);
    snprintf(err, errlen, "the server gave no answer to '%s'", name);
    return -1;
  }
  if (cJSON_IsString(msg)) *message = util_strdup(msg->valuestring);
  int exit_code = code->valueint;
  cJSON_Delete(resp);
  return exit_code;
}
