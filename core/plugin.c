/* C plugins: the built-in registry, .so loading with ABI checks, the plugins list. The host function table they
 * receive is in plugin_host.c; their CLI commands are run by commands.c. */
#include "plugin.h"

#include <ctype.h>
#include <dirent.h>
#include <stddef.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assets.h"
#include "bus.h"
#include "commands.h"
#include "contacts.h"
#include "control.h"
#include "db.h"
#include "http.h"
#include "jobs.h"
#include "log.h"
#include "lua_host.h"
#include "plugin_registry.h"
#include "services.h"
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

/* Plugins that did not load, C and Lua, with why: for the admins' plugins screen. Lua's are replaced on each
 * (re)load; C's stay from start-up. Guarded by failed_lock (a reload runs beside requests reading the list). */
#define MAX_FAILED 64
#define FAILED_REASON_MAX 400           /* bytes of a reason kept (cut at a character boundary) */
struct failed {
  char *name, *kind, *source, *error;
};
static struct failed failed[MAX_FAILED];
static int n_failed;
static pthread_mutex_t failed_lock = PTHREAD_MUTEX_INITIALIZER;

/* A copy of s of at most max bytes, cut at a UTF-8 character boundary, "…" added when cut. */
static char *bounded_dup(const char *s, size_t max)
{
  size_t n = strlen(s);
  if (n <= max) return util_strdup(s);
  while (n > 0 && (n > max || ((unsigned char)s[n] & 0xC0) == 0x80)) n--;
  char *out = malloc(n + 4);
  if (!out) abort();
  memcpy(out, s, n);
  memcpy(out + n, "\xe2\x80\xa6", 4);
  return out;
}

void plugin_failed_note(const char *name, const char *kind, const char *source, const char *fmt, ...)
{
  char why[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  pthread_mutex_lock(&failed_lock);
  if (n_failed < MAX_FAILED) {
    struct failed *f = &failed[n_failed++];
    f->name = bounded_dup(name && *name ? name : "?", 64);
    f->kind = util_strdup(kind);
    f->source = bounded_dup(source ? source : "", 300);
    f->error = bounded_dup(why, FAILED_REASON_MAX);
  }
  pthread_mutex_unlock(&failed_lock);
}

void plugin_failed_forget(const char *kind_prefix)
{
  pthread_mutex_lock(&failed_lock);
  int k = 0;
  for (int i = 0; i < n_failed; i++) {
    if (!strncmp(failed[i].kind, kind_prefix, strlen(kind_prefix))) {
      free(failed[i].name); free(failed[i].kind); free(failed[i].source); free(failed[i].error);
      continue;
    }
    failed[k++] = failed[i];
  }
  n_failed = k;
  pthread_mutex_unlock(&failed_lock);
}

cJSON *plugin_failed_list_new(void)
{
  cJSON *arr = cJSON_CreateArray();
  pthread_mutex_lock(&failed_lock);
  for (int i = 0; i < n_failed; i++) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", failed[i].name);
    cJSON_AddStringToObject(o, "kind", failed[i].kind);
    cJSON_AddStringToObject(o, "source", failed[i].source);
    cJSON_AddStringToObject(o, "error", failed[i].error);
    cJSON_AddItemToArray(arr, o);
  }
  pthread_mutex_unlock(&failed_lock);
  return arr;
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
  services_forget_owner(name);
  contacts_hooks_forget(name);
  plugin_started_forget(name);
}

/* The size of struct destek_plugin as ABI 1 was first published (before `commands`): older plugins are that big. */
#define PLUGIN_SIZE_ABI1 offsetof(struct destek_plugin, commands)

const struct destek_command *plugin_struct_commands(const struct destek_plugin *p)
{
  return p->size >= offsetof(struct destek_plugin, commands) + sizeof p->commands ? p->commands : NULL;
}

/* The built-in plugins switched off by DESTEK_NO_BUILTIN ("ticketing,other"): 1 when name is one of them. */
int plugin_builtin_off(const char *name)
{
  const char *list = getenv("DESTEK_NO_BUILTIN");
  size_t n = strlen(name);
  for (const char *p = list; p && *p;) {
    size_t len = strcspn(p, ", ");
    if (len == n && !strncmp(p, name, n)) return 1;
    p += len;
    p += strspn(p, ", ");
  }
  return 0;
}

static const char *kind_label(const char *kind) { return !strcmp(kind, "so") ? "c (.so)" : "c (built-in)"; }

/* Logs why a C plugin did not load, and keeps the reason for the plugins list. */
static void refused(const char *name, const char *kind, const char *source, const char *fmt, ...)
  __attribute__((format(printf, 4, 5)));
static void refused(const char *name, const char *kind, const char *source, const char *fmt, ...)
{
  char why[1536];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  log_error("plugin", "%s (%s): %s", name, source, why);
  char stem[64];
  if (!strcmp(name, "?") && !strcmp(kind, "so")) {   /* no name to trust: the file's */
    const char *base = strrchr(source, '/');
    base = base ? base + 1 : source;
    size_t n = strlen(base);
    snprintf(stem, sizeof stem, "%.*s", (int)(n > 3 ? n - 3 : n), base);
    name = stem;
  }
  plugin_failed_note(name, kind_label(kind), source, "%s", why);
}

/* Checks, migrates, registers and initialises one plugin. 0, or -1 (logged and noted; nothing of it stays
 * registered). */
static int start_plugin(const struct destek_plugin *p, const char *kind, const char *source, void *dl)
{
  if (p->abi != DESTEK_PLUGIN_ABI) {
    refused(p->abi > 0 && p->size >= 3 * sizeof(void *) && name_ok(p->name) ? p->name : "?", kind, source,
            "was built for plugin ABI %d; this server has ABI %d: refused", p->abi, DESTEK_PLUGIN_ABI);
    return -1;
  }
  if (p->size < PLUGIN_SIZE_ABI1 || p->size > sizeof(struct destek_plugin)) {
    refused("?", kind, source, "plugin struct size %zu, expected %zu to %zu: refused", p->size,
            (size_t)PLUGIN_SIZE_ABI1, sizeof(struct destek_plugin));
    return -1;
  }
  if (!name_ok(p->name) || !p->version) {
    refused("?", kind, source, "the plugin's name must be lower-case letters, digits or _, with a version: refused");
    return -1;
  }
  for (int i = 0; i < n_plugins; i++)
    if (!strcmp(plugins[i].p->name, p->name)) {
      refused(p->name, kind, source, "a plugin named %s is already loaded: refused", p->name);
      return -1;
    }
  if (n_plugins == MAX_PLUGINS) { refused(p->name, kind, source, "too many plugins"); return -1; }
  if (commands_check(p->name, plugin_struct_commands(p), plugin_command_find) != 0) {
    refused(p->name, kind, source, "its command table was refused (see the log): not loaded");
    return -1;
  }
  char err[1024];
  if (p->migrations && plugin_migrate(p->name, p->migrations, err, sizeof err) != 0) {
    refused(p->name, kind, source, "%s: not loaded", err);
    return -1;
  }
  if (p->routes && http_routes_add(p->name, p->routes) != 0) {
    refused(p->name, kind, source, "some routes were refused (see the log): not loaded");
    forget(p->name);
    return -1;
  }
  if (p->init && p->init(plugin_host(p->name)) != 0) {
    refused(p->name, kind, source, "init failed (see the log): not loaded");
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
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!dl) {
      const char *why = dlerror();
      const char *undefined = why ? strstr(why, "undefined symbol: ") : NULL;
      char stem[64];
      snprintf(stem, sizeof stem, "%.*s", (int)(strlen(names[i]) - 3), names[i]);
      if (undefined) {  /* it calls something the binary does not export: a private function of the core */
        log_error("plugin", "%s: cannot load: it uses %s, which is not part of the plugin API (include/destek.h; the "
                  "binary exports only the host table, sqlite3_* and cJSON_*): %s", path,
                  undefined + strlen("undefined symbol: "), why);
        plugin_failed_note(stem, "c (.so)", path, "cannot load: it uses %s, which is not part of the plugin API",
                           undefined + strlen("undefined symbol: "));
      } else {
        log_error("plugin", "%s: cannot load: %s", path, why ? why : "unknown error");
        plugin_failed_note(stem, "c (.so)", path, "cannot load: %s", why ? why : "unknown error");
      }
      free(names[i]);
      continue;
    }
    const struct destek_plugin *p = dlsym(dl, "destek_plugin");
    if (!p) {
      log_error("plugin", "%s: no destek_plugin symbol: not a Destek plugin", path);
      plugin_failed_note(names[i], "c (.so)", path, "no destek_plugin symbol: not a Destek plugin");
      free(names[i]);
      dlclose(dl);
      continue;
    }
    free(names[i]);
    if (start_plugin(p, "so", path, dl) != 0) dlclose(dl);
  }
}

int plugin_load_all(const char *data_dir)
{
  plugin_set_data_dir(data_dir);
  for (const struct destek_plugin *const *p = plugin_registry; *p; p++) {
    if (plugin_builtin_off((*p)->name)) {
      log_info("plugin", "built-in %s switched off by DESTEK_NO_BUILTIN", (*p)->name);
      continue;
    }
    start_plugin(*p, "builtin", "built-in", NULL);
  }
  load_shared_objects(data_dir);
  return n_plugins;
}

const struct destek_command *plugin_command_find(const char *name, const char **plugin)
{
  for (int i = 0; i < n_plugins; i++)
    for (const struct destek_command *c = plugin_struct_commands(plugins[i].p); c && c->name; c++)
      if (!strcmp(c->name, name)) {
        if (plugin) *plugin = plugins[i].p->name;
        return c;
      }
  return NULL;
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
  cJSON_AddItemToObject(o, "failed", plugin_failed_list_new());
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
  cJSON *bad = plugin_failed_list_new();
  if (bad->child) {
    cap += 1024 * (size_t)cJSON_GetArraySize(bad);
    if (!(out = realloc(out, cap))) abort();
    len += (size_t)snprintf(out + len, cap - len, "not loaded:\n");
    for (cJSON *it = bad->child; it; it = it->next)
      len += (size_t)snprintf(out + len, cap - len, "%-20.20s %-10.10s %-14.14s %.190s\n  %.400s\n",
                              cJSON_GetStringValue(cJSON_GetObjectItem(it, "name")), "-",
                              cJSON_GetStringValue(cJSON_GetObjectItem(it, "kind")),
                              cJSON_GetStringValue(cJSON_GetObjectItem(it, "source")),
                              cJSON_GetStringValue(cJSON_GetObjectItem(it, "error")));
  }
  cJSON_Delete(bad);
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
