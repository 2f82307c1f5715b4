/* Commands other than `serve`. A command that writes runs in the server when one holds the data directory
 * (through the control socket), and otherwise here, holding the lock that keeps a server from starting. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "auth.h"
#include "control.h"
#include "datadir.h"
#include "db.h"
#include "http.h"
#include "server.h"
#include "users_api.h"
#include "util.h"

/* ------------------------------------------------------------------------------------------------ admin add */

/* Runs in whichever process owns the database. args: {email,name,role,password}. */
static int admin_add_exec(const cJSON *args, char **message)
{
  const char *email = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "email"));
  const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "name"));
  const char *role = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "role"));
  const char *password = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "password"));
  if (!email || !name || !role || !password) {
    *message = util_strdup("admin add: incomplete request");
    return 2;
  }
  char *hash = auth_password_hash_new(password);
  if (!hash) { *message = util_strdup("the server is busy checking passwords; try again"); return 1; }
  struct destek_req c;
  call_begin(&c, "core");
  c.who.via = AUTH_CONTROL;
  int64_t id = users_add(&c, email, name, role, NULL, hash, "cli");
  free(hash);
  if (id > 0 && call_end(&c, 1) == 0) {
    if (asprintf(message, "created %s %s (id %lld)", role, email, (long long)id) < 0) *message = NULL;
    return 0;
  }
  if (id > 0) {
    *message = util_strdup("could not save the user");
    return 1;
  }
  call_end(&c, 0);
  if (asprintf(message, id == 0 ? "a user with e-mail %s already exists" : "could not create %s", email) < 0)
    *message = NULL;
  return 1;
}

static char *read_password(void)
{
  int tty = isatty(STDIN_FILENO);
  struct termios old, quiet;
  if (tty) {
    fprintf(stderr, "Password: ");
    tcgetattr(STDIN_FILENO, &old);
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  char *line = NULL;
  size_t cap = 0;
  ssize_t n = getline(&line, &cap, stdin);
  if (tty) {
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    fprintf(stderr, "\n");
  }
  if (n < 0) { free(line); return NULL; }
  while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
  return line;
}

static int email_ok(const char *v)
{
  const char *at = strchr(v, '@');
  if (!at || at == v || !at[1] || strchr(at + 1, '@') || !strchr(at + 1, '.') || strlen(v) > 254) return 0;
  for (const char *p = v; *p; p++)
    if ((unsigned char)*p <= ' ' || strchr("<>\",;", *p)) return 0;
  return 1;
}

int cli_run_writer(const struct config *cfg, const char *name, cJSON *args)
{
  char err[1024];
  char *message = NULL;
  int code;
  if (datadir_ensure(cfg->data, err, sizeof err) != 0) { fprintf(stderr, "destek: %s\n", err); return 1; }
  for (int attempt = 0;; attempt++) {
    int lk = datadir_lock(cfg->data, err, sizeof err);
    if (lk < 0) { fprintf(stderr, "destek: %s\n", err); return 1; }
    if (lk == 0) {
      if (server_open_store(cfg->data, 0, err, sizeof err) != 0) { fprintf(stderr, "destek: %s\n", err); return 1; }
      /* Plugins are loaded so that events this command emits reach their subscribers and webhooks. */
      if (server_core_init(cfg->data) != 0) { fprintf(stderr, "destek: the core could not start\n"); server_core_shutdown(); return 1; }
      code = control_run_local(name, args, &message);
      server_core_shutdown();
      break;
    }
    code = control_call(cfg->data, name, args, &message, err, sizeof err);
    if (code >= 0) break;
    if (attempt == 20) {  /* a server that is starting has the lock before its socket: give it a few seconds */
      fprintf(stderr, "destek: %s\n", err);
      return 1;
    }
    usleep(250 * 1000);
  }
  if (message && *message) fprintf(code == 0 ? stdout : stderr, "%s%s\n", code == 0 ? "" : "destek: ", message);
  free(message);
  return code;
}

int cli_plugins(const struct config *cfg, const char *action)
{
  if (!strcmp(action, "reload")) {
    char err[1024], *message = NULL;
    int lk = datadir_lock(cfg->data, err, sizeof err);
    if (lk == 0) {
      fprintf(stderr, "destek plugins reload: no server is running on %s; plugins are loaded when it starts\n", cfg->data);
      return 1;
    }
    int code = control_call(cfg->data, "plugins_reload", NULL, &message, err, sizeof err);
    if (code < 0) { fprintf(stderr, "destek plugins reload: %s\n", err); return 1; }
    if (message) fprintf(code ? stderr : stdout, "%s\n", message);
    free(message);
    return code;
  }
  return cli_run_writer(cfg, "plugins_list", NULL);
}

int cli_admin_add(const struct config *cfg, const char *email, const char *name, const char *role)
{
  if (!email_ok(email)) { fprintf(stderr, "destek admin add: '%s' is not an e-mail address\n", email); return 2; }
  if (!*name || strlen(name) > 200) { fprintf(stderr, "destek admin add: --name must be 1 to 200 characters\n"); return 2; }
  if (strcmp(role, "admin") && strcmp(role, "agent")) {
    fprintf(stderr, "destek admin add: --role must be admin or agent, not '%s'\n", role);
    return 2;
  }
  char *password = read_password();
  if (!password) { fprintf(stderr, "destek admin add: give the password on standard input\n"); return 2; }
  size_t plen = strlen(password);
  if (plen < AUTH_PASSWORD_MIN || plen > AUTH_PASSWORD_MAX) {
    fprintf(stderr, "destek admin add: the password must be %d to %d characters\n", AUTH_PASSWORD_MIN, AUTH_PASSWORD_MAX);
    free(password);
    return 2;
  }
  char lower[256];
  size_t i = 0;
  for (; email[i] && i < sizeof lower - 1; i++) lower[i] = (char)(email[i] >= 'A' && email[i] <= 'Z' ? email[i] + 32 : email[i]);
  lower[i] = 0;
  cJSON *args = cJSON_CreateObject();
  cJSON_AddStringToObject(args, "email", lower);
  cJSON_AddStringToObject(args, "name", name);
  cJSON_AddStringToObject(args, "role", role);
  cJSON_AddStringToObject(args, "password", password);
  memset(password, 0, plen);
  free(password);
  int code = cli_run_writer(cfg, "admin_add", args);
  cJSON_Delete(args);
  return code;
}

void cli_control_init(void) { control_register("admin_add", admin_add_exec); }

/* ------------------------------------------------------------------------------------------------ migrate */

int cli_migrate(const struct config *cfg)
{
  char err[1024], dbpath[4096];
  if (datadir_ensure(cfg->data, err, sizeof err) != 0) { fprintf(stderr, "destek migrate: %s\n", err); return 1; }
  int lk = datadir_lock(cfg->data, err, sizeof err);
  datadir_path(cfg->data, "destek.db", dbpath, sizeof dbpath);
  if (lk == 1) {
    sqlite3 *h = db_open_readonly(dbpath, err, sizeof err);
    int version = 0;
    if (h) {
      sqlite3_stmt *st = NULL;
      if (sqlite3_prepare_v2(h, "SELECT max(version) FROM schema_migrations WHERE owner = 'core'", -1, &st, NULL) == SQLITE_OK &&
          sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
      sqlite3_finalize(st);
      sqlite3_close(h);
    }
    printf("a server is running on %s and applied every migration when it started (core schema version %d)\n",
           cfg->data, version);
    return 0;
  }
  if (lk < 0) { fprintf(stderr, "destek migrate: %s\n", err); return 1; }
  if (server_open_store(cfg->data, 0, err, sizeof err) != 0) { fprintf(stderr, "destek migrate: %s\n", err); return 1; }
  struct db *w = db_writer_acquire();
  int version = db_schema_version(w, "core");
  db_writer_release(w);
  db_close_all();
  printf("database %s is up to date (core schema version %d)\n", dbpath, version);
  return 0;
}
