/* C plugins: the host function table, the built-in registry, .so loading with ABI checks. */
#include "plugin.h"

#include <ctype.h>
#include <dirent.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assets.h"
#include "bus.h"
#include "control.h"
#include "db.h"
#include "http.h"
#include "jobs.h"
#include "log.h"
#include "lua_host.h"
#include "plugin_registry.h"
#include "settings.h"
#include "tokens_api.h"
#include "util.h"

#define MAX_PLUGINS 64

struct loaded {
  const struct destek_plugin *p;
  const char *kind;              /* "builtin" or "so" */
  char *source;                  /* file for .so */
  void *dl;
};

static struct loaded plugins[MAX_PLUGINS];
static int n_plugins;

/* ------------------------------------------------------------------------------------------------ host table */

static void h_log(const struct destek_host *h, enum destek_log_level level, const char *fmt, ...)
{
  char msg[1500];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  enum log_level l = level == DESTEK_LOG_DEBUG ? LOG_DEBUG : level == DESTEK_LOG_WARN ? LOG_WARN
                   : level == DESTEK_LOG_ERROR ? LOG_ERROR : LOG_INFO;
  log_msg(l, h->plugin, "%s", msg);
}

static int h_routes(const struct destek_host *h, const struct destek_route *routes)
{
  return http_routes_add(h->plugin, routes);
}

static int h_on(const struct destek_host *h, const char *event, int mode, destek_event_fn fn, void *ud)
{
  return bus_subscribe(h->plugin, event, mode, fn, ud);
}

static int h_every(const struct destek_host *h, const char *job, int seconds, destek_job_fn fn, void *ud)
{
  return jobs_every(h->plugin, job, seconds, fn, ud);
}

static int h_timers(const struct destek_host *h, const char *kind, destek_timer_fn fn, void *ud)
{
  return jobs_timer_handler(h->plugin, kind, fn, ud);
}

static int h_settings(const struct destek_host *h, const struct destek_setting *s)
{
  return settings_declare(h->plugin, s);
}

static int h_scope(const struct destek_host *h, const char *scope)
{
  (void)h;
  return tokens_scope_register(scope);
}

static int h_events(const struct destek_host *h, const char *const *nouns)
{
  int rc = 0;
  for (const char *const *n = nouns; n && *n; n++) rc |= bus_event_owner(*n, h->plugin);
  return rc;
}

static cJSON *h_decide_new(struct destek_req *call, const char *policy, const cJSON *args)
{
  return lua_host_decide_new(call, policy, args);
}

static cJSON *h_query_new(struct destek_req *call, const char *sql, const char *types, ...)
{
  struct db *db = http_db(call);
  sqlite3_stmt *st = db ? db_prepare(db, sql) : NULL;
  if (!st) return NULL;
  va_list ap;
  va_start(ap, types);
  int rc = db_bindv(st, types, ap);
  va_end(ap);
  if (rc != SQLITE_OK) { db_done(st); return NULL; }
  cJSON *rows = cJSON_CreateArray();
  int cols = sqlite3_column_count(st);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    cJSON *row = cJSON_CreateObject();
    for (int i = 0; i < cols; i++) {
      const char *name = sqlite3_column_name(st, i);
      switch (sqlite3_column_type(st, i)) {
      case SQLITE_INTEGER: cJSON_AddNumberToObject(row, name, (double)sqlite3_column_int64(st, i)); break;
      case SQLITE_FLOAT: cJSON_AddNumberToObject(row, name, sqlite3_column_double(st, i)); break;
      case SQLITE_NULL: cJSON_AddNullToObject(row, name); break;
      default: cJSON_AddStringToObject(row, name, (const char *)sqlite3_column_text(st, i)); break;
      }
    }
    cJSON_AddItemToArray(rows, row);
  }
  if (rc != SQLITE_DONE) {
    log_error(call->owner, "query failed: %s: %s", db_errmsg(db), sql);
    cJSON_Delete(rows);
    rows = NULL;
  }
  db_done(st);
  return rows;
}

static int h_exec(struct destek_req *call, int64_t *last_id, const char *sql, const char *types, ...)
{
  struct db *w = http_tx(call);
  if (!w) return -1;
  sqlite3_stmt *st = db_prepare(w, sql);
  if (!st) return -1;
  va_list ap;
  va_start(ap, types);
  int rc = db_bindv(st, types, ap);
  va_end(ap);
  if (rc == SQLITE_OK) {
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {}
    if (rc == SQLITE_DONE) rc = SQLITE_OK;
  }
  db_done(st);
  if (rc == SQLITE_CONSTRAINT) return 1;
  if (rc != SQLITE_OK) { log_error(call->owner, "exec failed: %s: %s", db_errmsg(w), sql); return -1; }
  if (last_id) *last_id = db_last_id(w);
  return 0;
}

static int64_t h_user_id(struct destek_req *r) { return r->who.user_id; }
static const char *h_user_role(struct destek_req *r) { return r->who.role; }
static const char *h_user_email(struct destek_req *r) { return r->who.email; }

static const char *h_lang(struct destek_req *r)
{
  if (r->who.lang[0]) return r->who.lang;
  const char *al = r->conn ? http_header(r, "Accept-Language") : NULL;
  return al && (al[0] == 't' || al[0] == 'T') && (al[1] == 'r' || al[1] == 'R') ? "tr" : "en";
}

static int h_reply_body(struct destek_req *r, int status, const char *type, const void *body, size_t len)
{
  char *copy = malloc(len + 1);
  if (!copy) abort();
  memcpy(copy, body, len);
  copy[len] = 0;
  return http_reply_body(r, status, type, copy, len);
}

static int h_error(struct destek_req *r, int status, const char *code, const char *fmt, ...)
{
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return http_error(r, status, code, "%s", msg);
}

static int h_field_error(struct destek_req *r, const char *code, const char *field, const char *fmt, ...)
{
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return http_field_error(r, code, field, "%s", msg);
}

static const char *data_directory = ".";

void plugin_set_data_dir(const char *dir) { data_directory = util_intern(dir); }
static const char *h_data_dir(void) { return data_directory; }

static const struct destek_host host_template = {
  .abi = DESTEK_PLUGIN_ABI,
  .size = sizeof(struct destek_host),
  .log = h_log,
  .routes = h_routes,
  .on = h_on,
  .every = h_every,
  .timers = h_timers,
  .settings = h_settings,
  .scope = h_scope,
  .emit = bus_emit,
  .timer_at = jobs_timer_at,
  .timer_cancel = jobs_timer_cancel,
  .setting_new = settings_get_new,
  .decide_new = h_decide_new,
  .query_new = h_query_new,
  .exec = h_exec,
  .param = http_param,
  .param_int = http_param_int,
  .query_get = http_query_get,
  .header = http_header,
  .body = http_body_object,
  .user_id = h_user_id,
  .user_role = h_user_role,
  .user_email = h_user_email,
  .lang = h_lang,
  .reply_json = http_reply_json,
  .reply_body = h_reply_body,
  .error = h_error,
  .field_error = h_field_error,
  .add_header = http_add_header,
  .data_dir = h_data_dir,
  .events = h_events,
};

const struct destek_host *plugin_host(const char *owner)
{
  static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
  static struct destek_host *hosts[MAX_PLUGINS * 2];
  static int n_hosts;
  const char *name = util_intern(owner);
  pthread_mutex_lock(&lock);
  for (int i = 0; i < n_hosts; i++)
    if (hosts[i]->plugin == name) { pthread_mutex_unlock(&lock); return hosts[i]; }
  struct destek_host *h = malloc(sizeof *h);  /* lives until exit: plugins keep the pointer */
  if (!h) abort();
  *h = host_template;
  h->plugin = name;
  if (n_hosts < MAX_PLUGINS * 2) hosts[n_hosts++] = h;
  pthread_mutex_unlock(&lock);
  return h;
}

/* ------------------------------------------------------------------------------------------------ loading */

int plugin_migrate(const char *owner, const struct destek_migration *steps, char *err, size_t errlen)
{
  return plugin_migrate_run(owner, steps, NULL, err, errlen);
}

int plugin_migrate_run(const char *owner, const struct destek_migration *steps, const struct db_step_runner *runner,
                       char *err, size_t errlen)
{
  int n = 0;
  while (steps && steps[n].name) n++;
  struct embed_file *files = calloc((size_t)n + 1, sizeof *files);
  if (!files) abort();
  for (int i = 0; i < n; i++)
    files[i] = (struct embed_file){ steps[i].name, (const unsigned char *)steps[i].sql, strlen(steps[i].sql), "" };
  struct db *w = db_writer_acquire();
  int rc = db_migrate_run(w, owner, files, runner, err, errlen);
  db_writer_release(w);
  free(files);
  return rc < 0 ? -1 : 0;
}

static int name_ok(const char *name)
{
  if (!name || !*name || strlen(name) > 40 || !strcmp(name, "core")) return 0;
  for (const char *p = name; *p; p++)
    if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '_') return 0;
  return 1;
}

static void forget(const char *name)
{
  http_routes_remove_owner(name);
  assets_portal_pages_remove_owner(name);
  bus_unsubscribe_owner(name);
  jobs_forget_owner(name);
}

/* Checks, migrates, registers and initialises one plugin. 0, or -1 (logged; nothing of it stays registered). */
static int start_plugin(const struct destek_plugin *p, const char *kind, const char *source, void *dl)
{
  if (p->abi != DESTEK_PLUGIN_ABI) {
    log_error("plugin", "%s (%s) was built for plugin ABI %d; this server has ABI %d: refused",
              p->abi > 0 && p->size >= 3 * sizeof(void *) && name_ok(p->name) ? p->name : "?", source, p->abi,
              DESTEK_PLUGIN_ABI);
    return -1;
  }
  if (p->size != sizeof(struct destek_plugin)) {
    log_error("plugin", "%s (%s): plugin struct size %zu, expected %zu: refused", source, kind, p->size,
              sizeof(struct destek_plugin));
    return -1;
  }
  if (!name_ok(p->name) || !p->version) {
    log_error("plugin", "%s: the plugin's name must be lower-case letters, digits or _, with a version: refused", source);
    return -1;
  }
  for (int i = 0; i < n_plugins; i++)
    if (!strcmp(plugins[i].p->name, p->name)) {
      log_error("plugin", "%s (%s): a plugin named %s is already loaded: refused", source, kind, p->name);
      return -1;
    }
  if (n_plugins == MAX_PLUGINS) { log_error("plugin", "%s: too many plugins", p->name); return -1; }
  char err[1024];
  if (p->migrations && plugin_migrate(p->name, p->migrations, err, sizeof err) != 0) {
    log_error("plugin", "%s: %s: not loaded", p->name, err);
    return -1;
  }
  if (p->routes && http_routes_add(p->name, p->routes) != 0) {
    log_error("plugin", "%s: some routes were refused: not loaded", p->name);
    forget(p->name);
    return -1;
  }
  if (p->init && p->init(plugin_host(p->name)) != 0) {
    log_error("plugin", "%s: init failed: not loaded", p->name);
    forget(p->name);
    return -1;
  }
  plugins[n_plugins++] = (struct loaded){ p, kind, util_strdup(source), dl };
  log_info("plugin", "loaded %s %s (%s)", p->name, p->version, kind);
  return 0;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void load_shared_objects(const char *data_dir)
{
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/plugins", data_dir);
  DIR *d = opendir(dir);
  if (!d) return;
  char *names[MAX_PLUGINS];
  int n = 0;
  struct dirent *de;
  while ((de = readdir(d)) && n < MAX_PLUGINS) {
    size_t len = strlen(de->d_name);
    if (len > 3 && !strcmp(de->d_name + len - 3, ".so")) names[n++] = util_strdup(de->d_name);
  }
  closedir(d);
  qsort(names, (size_t)n, sizeof *names, by_name);
  for (int i = 0; i < n; i++) {
    char path[4352];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    free(names[i]);
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!dl) { log_error("plugin", "%s: cannot load: %s", path, dlerror()); continue; }
    const struct destek_plugin *p = dlsym(dl, "destek_plugin");
    if (!p) {
      log_error("plugin", "%s: no destek_plugin symbol: not a Destek plugin", path);
      dlclose(dl);
      continue;
    }
    if (start_plugin(p, "so", path, dl) != 0) dlclose(dl);
  }
}

int plugin_load_all(const char *data_dir)
{
  plugin_set_data_dir(data_dir);
  for (const struct destek_plugin *const *p = plugin_registry; *p; p++) start_plugin(*p, "builtin", "built-in", NULL);
  load_shared_objects(data_dir);
  return n_plugins;
}

void plugin_unload_all(void)
{
  for (int i = n_plugins - 1; i >= 0; i--) {
    if (plugins[i].p->fini) plugins[i].p->fini();
    /* .so files stay mapped: threads may still hold pointers into them until the process exits. */
    free(plugins[i].source);
  }
  n_plugins = 0;
}

cJSON *plugin_list_new(void)
{
  cJSON *arr = cJSON_CreateArray();
  for (int i = 0; i < n_plugins; i++) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", plugins[i].p->name);
    cJSON_AddStringToObject(o, "version", plugins[i].p->version);
    cJSON_AddStringToObject(o, "kind", !strcmp(plugins[i].kind, "so") ? "c (.so)" : "c (built-in)");
    cJSON_AddStringToObject(o, "source", plugins[i].source);
    cJSON_AddItemToArray(arr, o);
  }
  lua_host_list(arr);
  return arr;
}

/* ------------------------------------------------------------------------------------------------ API, control */

static int plugins_get(struct destek_req *r)
{
  cJSON *o = cJSON_CreateObject();
  cJSON_AddItemToObject(o, "items", plugin_list_new());
  cJSON_AddNullToObject(o, "next_cursor");
  return http_reply_json(r, 200, o);
}

static char *list_text_new(void)
{
  cJSON *arr = plugin_list_new();
  size_t cap = 256 + 256 * (size_t)cJSON_GetArraySize(arr), len = 0;
  char *out = malloc(cap);
  if (!out) abort();
  len += (size_t)snprintf(out, cap, "%-20s %-10s %-14s %s\n", "NAME", "VERSION", "KIND", "SOURCE");
  for (cJSON *it = arr->child; it; it = it->next)
    len += (size_t)snprintf(out + len, cap - len, "%-20.20s %-10.10s %-14.14s %.190s\n",
                            cJSON_GetStringValue(cJSON_GetObjectItem(it, "name")),
                            cJSON_GetStringValue(cJSON_GetObjectItem(it, "version")),
                            cJSON_GetStringValue(cJSON_GetObjectItem(it, "kind")),
                            cJSON_GetStringValue(cJSON_GetObjectItem(it, "source")));
  if (len && out[len - 1] == '\n') out[len - 1] = 0;
  cJSON_Delete(arr);
  return out;
}

static int control_list(const cJSON *args, char **message)
{
  (void)args;
  *message = list_text_new();
  return 0;
}

static int control_reload(const cJSON *args, char **message)
{
  (void)args;
  int n = lua_host_reload();
  if (n < 0) { *message = util_strdup("reload failed; the previous Lua plugins keep running (see the server log)"); return 1; }
  if (asprintf(message, "reloaded %d Lua plugin%s", n, n == 1 ? "" : "s") < 0) *message = NULL;
  return 0;
}

static const struct destek_route routes[] = {
  { "GET", "/api/v1/plugins", plugins_get, DESTEK_ADMIN, NULL },
  { 0 }
};

int plugin_routes_init(void)
{
  control_register("plugins_list", control_list);
  control_register("plugins_reload", control_reload);
  return http_routes_add("core", routes);
}
