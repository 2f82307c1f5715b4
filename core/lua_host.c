/* The Lua host: plugin sets, one Lua state per thread, loading, registration with the core, reload, and the C
 * entry points through which the core reaches Lua functions.
 *
 * A plugin is a .lua file returning a table:
 *   { name = "kargo_tags", version = "1.0",
 *     migrations = { "CREATE TABLE kargo_tags_seen (...)", ... },   -- step N is "00N_step.sql"; own tables only
 *     settings = { { name = "kargo_tags.tag", type = "string"|"int"|"bool", default = "kargo",
 *                    secret = false, description = "..." } },
 *     events = { "kargo" },        -- nouns of the events it emits besides kargo_tags.<verb>: kargo.found, ...
 *     i18n = { tr = { key = "metin" }, en = { key = "text" } },
 *     init = function(destek) ... destek.route / on / on_async / every / policy ... end }
 * Built-in plugins come from embed_lua[] (plugins/lua/) and embed_luamods[] (module folders plugins/NAME/ with an
 * init.lua), merchants' from <data>/plugins/NAME.lua and <data>/plugins/NAME/init.lua in name order (a folder's files:
 * lua_module.c).
 *
 * How declarations reach the core: a reload (and lua_host_init) reads every source into a new set and loads it in a
 * "collecting" state, which applies migrations, declares settings and records what each plugin's init declared
 * (routes, subscriptions, jobs). Those are registered with the core under the plugin's name, all pointing at the
 * generic functions below, with interned keys as user data. Each thread then builds its own state from the set at
 * its next use (the set's generation tells it the set changed), empty: a plugin is loaded into it when the thread
 * first needs one of its functions (lh_bind_find finds the plugin by the set's declarations), so a worker holds only
 * the plugins it serves. Loading there only binds the functions, by the same keys, in that state. Policies are not
 * registered: each state resolves them by name (the plugins that define one are loaded for it), the last in the set
 * winning. */
#include "lua_host.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "bus.h"
#include "db.h"
#include "embed.h"
#include "http.h"
#include "jobs.h"
#include "log.h"
#include "lua_host_internal.h"
#include "page_cache.h"
#include "plugin.h"
#include "settings.h"
#include "tokens_api.h"
#include "util.h"

#define MAX_SOURCES 128
#define MAX_SOURCE_BYTES (1024 * 1024)

static char *data_dir;
static pthread_mutex_t reload_lock = PTHREAD_MUTEX_INITIALIZER;  /* one reload at a time */
static pthread_mutex_t set_lock = PTHREAD_MUTEX_INITIALIZER;     /* cur_set and every set's refs */
/* One plugin is loaded into a worker's state at a time (slot_load): the first burst of requests
 * after a start or a reload would otherwise load it on every worker thread at once, and on a small machine each load
 * would get a sliver of the CPU and run past its time limit. Loaded one after another, each load has the CPU. */
static pthread_mutex_t build_lock = PTHREAD_MUTEX_INITIALIZER;
static struct lh_set *cur_set;
static atomic_uint cur_gen;
static unsigned gen_counter;
static __thread struct lh_state *tls;

void lh_sql_thread_release(void);

/* ------------------------------------------------------------------------------------------------ binds */

static struct lh_bind *bind_scan(struct lh_state *s, int kind, const char *a, const char *b);
static void lazy_load(struct lh_state *s, int kind, const char *a, const char *b);

int lh_bind_add(struct lh_state *s, int kind, const char *a, const char *b, int ref, int slot)
{
  if (kind != LH_POLICY && bind_scan(s, kind, a, b)) return -1;
  if (s->n_binds == s->cap_binds) {
    s->cap_binds = s->cap_binds ? s->cap_binds * 2 : 16;
    s->binds = realloc(s->binds, (size_t)s->cap_binds * sizeof *s->binds);
    if (!s->binds) abort();
  }
  struct lh_bind *nb = malloc(sizeof *nb);
  if (!nb) abort();
  *nb = (struct lh_bind){ kind, a, b, ref, slot, NULL };
  s->binds[s->n_binds++] = nb;
  return 0;
}

/* Routes and handlers match by address (interned strings); policies by name, the plugin loaded last (the set's
 * order) winning, and within it the last one declared. */
static struct lh_bind *bind_scan(struct lh_state *s, int kind, const char *a, const char *b)
{
  if (kind == LH_POLICY) {
    struct lh_bind *best = NULL;
    for (int i = 0; i < s->n_binds; i++)
      if (s->binds[i]->kind == LH_POLICY && !strcmp(s->binds[i]->a, a) && (!best || s->binds[i]->slot >= best->slot))
        best = s->binds[i];
    return best;
  }
  for (int i = 0; i < s->n_binds; i++)
    if (s->binds[i]->kind == kind && s->binds[i]->a == a && s->binds[i]->b == b) return s->binds[i];
  return NULL;
}

/* In a worker's state, the plugin that declared what is looked for is loaded first if it is not yet (a policy: every
 * plugin that defines one of that name). The returned bind stays valid until the state is freed. */
struct lh_bind *lh_bind_find(struct lh_state *s, int kind, const char *a, const char *b)
{
  if (s->n_unloaded > 0 && !s->collecting && s->init_slot < 0) {
    if (kind == LH_POLICY || !bind_scan(s, kind, a, b)) lazy_load(s, kind, a, b);
  }
  return bind_scan(s, kind, a, b);
}

/* Forgets what slot bound (its init failed in this state). */
static void unbind_slot(struct lh_state *s, int slot)
{
  int keep = 0;
  for (int i = 0; i < s->n_binds; i++) {
    if (s->binds[i]->slot == slot) {
      luaL_unref(s->L, LUA_REGISTRYINDEX, s->binds[i]->ref);
      free(s->binds[i]);
    } else {
      s->binds[keep++] = s->binds[i];
    }
  }
  s->n_binds = keep;
}

int lh_setting_type(struct lh_state *s, const char *name)
{
  for (int i = 0; s->set && i < s->set->n_plugins; i++)
    for (int k = 0; k < s->set->plugins[i].decls.n_settings; k++)
      if (!strcmp(s->set->plugins[i].decls.settings[k].name, name)) return s->set->plugins[i].decls.settings[k].type;
  for (int i = 0; s->collecting && i < s->n_slots; i++)
    for (int k = 0; k < s->slots[i].decls.n_settings; k++)
      if (!strcmp(s->slots[i].decls.settings[k].name, name)) return s->slots[i].decls.settings[k].type;
  return 0;
}

/* The C plugin named name, when one is loaded (interned), or NULL. */
static const char *c_plugin_named(const char *name)
{
  cJSON *all = plugin_list_new();
  const char *found = NULL;
  for (const cJSON *p = all ? all->child : NULL; p && !found; p = p->next) {
    const char *kind = cJSON_GetStringValue(cJSON_GetObjectItem(p, "kind"));
    const char *other = cJSON_GetStringValue(cJSON_GetObjectItem(p, "name"));
    if (kind && other && strncmp(kind, "lua", 3) != 0 && !strcmp(other, name)) found = util_intern(other);
  }
  cJSON_Delete(all);
  return found;
}

/* The declarations of slot's plugin: in a thread's state its set's, while collecting its slot's. */
static const struct lh_decls *decls_of(struct lh_state *s, int slot)
{
  if (s->collecting) return &s->slots[slot].decls;
  return s->set && slot < s->set->n_plugins ? &s->set->plugins[slot].decls : NULL;
}

static int declares(const struct lh_decls *d, const char *noun)
{
  for (int i = 0; d && i < d->n_events; i++)
    if (!strcmp(d->events[i], noun)) return 1;
  return 0;
}

int lh_may_emit(struct lh_state *s, int slot, const char *event, const char **owner)
{
  char noun[64];
  size_t n = strcspn(event, ".");
  *owner = NULL;
  if (n >= sizeof noun) return 0;
  memcpy(noun, event, n);
  noun[n] = 0;
  if (!strcmp(noun, s->slots[slot].name) || declares(decls_of(s, slot), noun)) return 1;
  *owner = bus_event_noun_owner(noun);
  if (!*owner) *owner = c_plugin_named(noun);
  for (int i = 0; !*owner && s->set && i < s->set->n_plugins; i++)
    if (!strcmp(s->set->plugins[i].name, noun) || declares(&s->set->plugins[i].decls, noun))
      *owner = s->set->plugins[i].name;
  return 0;
}

const char *lh_strip_position(const char *msg)
{
  const char *p = msg;
  while (*p && *p != ':' && *p != ' ' && *p != '\n') p++;
  if (*p != ':' || !isdigit((unsigned char)p[1])) return msg;
  p++;
  while (isdigit((unsigned char)*p)) p++;
  return p[0] == ':' && p[1] == ' ' ? p + 2 : msg;
}

/* ------------------------------------------------------------------------------------------------ sets */

static void decls_free(struct lh_decls *d)
{
  free(d->routes);
  free(d->subs);
  free(d->jobs);
  free(d->settings);
  free(d->events);
  free(d->extras);
  free(d->policies);
  memset(d, 0, sizeof *d);
}

static void set_free(struct lh_set *set)
{
  if (!set) return;
  for (int i = 0; i < set->n_sources; i++) {
    struct lh_source *src = &set->sources[i];
    lh_module_free(src);
    if (!src->builtin) free((char *)src->text);
    free(src->origin);
    free(src->stem);
    free(src->chunkname);
  }
  for (int i = 0; i < set->n_plugins; i++) {
    free(set->plugins[i].version);
    decls_free(&set->plugins[i].decls);
  }
  free(set->sources);
  free(set->plugins);
  free(set);
}

static void set_unref(struct lh_set *set)
{
  if (!set) return;
  pthread_mutex_lock(&set_lock);
  int last = --set->refs == 0;
  pthread_mutex_unlock(&set_lock);
  if (last) set_free(set);
}

static char *stem_of(const char *file)
{
  const char *base = strrchr(file, '/');
  base = base ? base + 1 : file;
  size_t n = strlen(base);
  if (n > 4 && !strcmp(base + n - 4, ".lua")) n -= 4;
  char *stem = malloc(n + 1);
  if (!stem) abort();
  memcpy(stem, base, n);
  stem[n] = 0;
  return stem;
}

static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
  FILE *f = fopen(path, "rb");
  if (!f) { snprintf(err, errlen, "%s", strerror(errno)); return NULL; }
  char *buf = malloc(MAX_SOURCE_BYTES + 1);
  if (!buf) abort();
  size_t n = fread(buf, 1, MAX_SOURCE_BYTES + 1, f);
  int bad = ferror(f);
  fclose(f);
  if (bad || n > MAX_SOURCE_BYTES) {
    snprintf(err, errlen, "%s", bad ? "read error" : "larger than 1 MiB");
    free(buf);
    return NULL;
  }
  buf[n] = 0;
  *len = n;
  return buf;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The built-in sources, then <data>/plugins/NAME.lua in name order. NULL when the directory cannot be read. */
static struct lh_set *set_read(void)
{
  struct lh_set *set = calloc(1, sizeof *set);
  if (!set || !(set->sources = calloc(MAX_SOURCES, sizeof *set->sources))) abort();
  for (const struct embed_file *e = embed_lua; e->name && set->n_sources < MAX_SOURCES; e++) {
    size_t n = strlen(e->name);
    if (n < 5 || strcmp(e->name + n - 4, ".lua")) continue;
    struct lh_source *src = &set->sources[set->n_sources++];
    src->builtin = 1;
    src->origin = util_strdup("built-in");
    src->stem = stem_of(e->name);
    if (asprintf(&src->chunkname, "@builtin/%s", e->name) < 0) abort();
    src->text = (const char *)e->data;
    src->len = e->size;
  }
  set->n_sources += lh_module_builtin(set->sources + set->n_sources, MAX_SOURCES - set->n_sources);
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/plugins", data_dir);
  DIR *d = opendir(dir);
  if (!d) {
    if (errno == ENOENT) return set;
    log_error("lua", "cannot read %s: %s", dir, strerror(errno));
    set_free(set);
    return NULL;
  }
  char *names[MAX_SOURCES];
  int n = 0;
  struct dirent *de;
  while ((de = readdir(d))) {
    size_t len = strlen(de->d_name);
    if (de->d_name[0] == '.') continue;
    if (len < 5 || strcmp(de->d_name + len - 4, ".lua")) {   /* a module folder: NAME/init.lua */
      char init[4400];
      struct stat st;
      if ((size_t)snprintf(init, sizeof init, "%s/%s/init.lua", dir, de->d_name) >= sizeof init ||
          stat(init, &st) != 0)
        continue;
    }
    if (n == MAX_SOURCES) { log_error("lua", "%s: more than %d Lua files; the rest are ignored", dir, MAX_SOURCES); break; }
    names[n++] = util_strdup(de->d_name);
  }
  closedir(d);
  qsort(names, (size_t)n, sizeof *names, by_name);
  for (int i = 0; i < n; i++) {
    char path[4352], err[128];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    struct stat st;
    size_t len = 0;
    char *text = NULL;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
      char why[300];
      struct lh_source *src = &set->sources[set->n_sources];
      if (set->n_sources == MAX_SOURCES) {
        log_error("lua", "%s: not loaded: too many Lua plugins", path);
        plugin_failed_note(names[i], "lua", path, "too many Lua plugins");
      } else if (lh_module_read_dir(path, names[i], src, why, sizeof why) != 0) {
        log_error("lua", "%s: not loaded: %s", path, why);
        plugin_failed_note(names[i], "lua", path, "%s", why);
        lh_module_free(src);
        free(src->origin);
        free(src->stem);
        free(src->chunkname);
        memset(src, 0, sizeof *src);
      } else {
        set->n_sources++;
      }
      free(names[i]);
      continue;
    }
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) snprintf(err, sizeof err, "not a regular file");
    else text = read_file(path, &len, err, sizeof err);
    if (!text || set->n_sources == MAX_SOURCES) {
      log_error("lua", "%s: not loaded: %s", path, text ? "too many Lua plugins" : err);
      char *stem = stem_of(names[i]);
      plugin_failed_note(stem, "lua", path, "%s", text ? "too many Lua plugins" : err);
      free(stem);
      free(text);
      free(names[i]);
      continue;
    }
    struct lh_source *src = &set->sources[set->n_sources++];
    src->origin = util_strdup(path);
    src->stem = stem_of(names[i]);
    if (asprintf(&src->chunkname, "@%s", names[i]) < 0) abort();
    src->text = text;
    src->len = len;
    free(names[i]);
  }
  return set;
}

/* ------------------------------------------------------------------------------------------------ loading */

struct load_arg {
  struct lh_state *s;
  int slot;
  const struct lh_source *src;
  struct destek_migration *steps;   /* read_migrations: owned by the caller */
  char (*step_names)[16];
};

static int name_ok(const char *name)
{
  size_t n = strlen(name);
  if (n == 0 || n > LH_NAME_MAX || !strncmp(name, "core", 4) || !strncmp(name, "sqlite", 6)) return 0;
  for (const char *p = name; *p; p++)
    if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '_') return 0;
  return 1;
}

/* Runs the file in a fresh environment and checks the table it returns. */
static int load_chunk(lua_State *L)
{
  struct load_arg *a = lua_touserdata(L, 1);
  struct lh_slot *sl = &a->s->slots[a->slot];
  const char *stem = a->src->stem;
  if (luaL_loadbufferx(L, a->src->text, a->src->len, a->src->chunkname, "t") != LUA_OK) return lua_error(L);
  lh_push_module(L, a->slot);
  lua_pushvalue(L, -1);
  sl->module_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lh_push_env(L, a->slot);
  lh_module_env(L, a->slot, -1);
  lua_remove(L, -2);
  lua_setupvalue(L, -2, 1);
  a->s->init_slot = a->slot;
  lua_call(L, 0, 1);
  a->s->init_slot = -1;
  if (!lua_istable(L, -1))
    return luaL_error(L, "%s: the file must return the plugin table {name=, version=, migrations=, init=}", stem);
  int t = lua_gettop(L);
  /* name and version are read raw: the host reads version again outside any call (set_collect), where a plugin's
   * __index must not run. */
  lua_pushliteral(L, "name");
  if (lua_rawget(L, t) != LUA_TSTRING || !name_ok(lua_tostring(L, -1)))
    return luaL_error(L, "%s: name must be lower-case letters, digits or _ (at most %d, not starting with core"
                         " or sqlite)", stem, LH_NAME_MAX);
  snprintf(sl->name, sizeof sl->name, "%s", lua_tostring(L, -1));
  lua_pushliteral(L, "version");
  if (lua_rawget(L, t) != LUA_TSTRING) return luaL_error(L, "%s: version must be a string", sl->name);
  int ty = lua_getfield(L, t, "init");
  if (ty != LUA_TNIL && ty != LUA_TFUNCTION) return luaL_error(L, "%s: init must be a function", sl->name);
  static const char *const tables[] = { "migrations", "settings", "i18n", "templates", NULL };
  for (const char *const *f = tables; *f; f++) {
    ty = lua_getfield(L, t, *f);
    if (ty != LUA_TNIL && ty != LUA_TTABLE) return luaL_error(L, "%s: %s must be a table", sl->name, *f);
  }
  lua_settop(L, t);
  if (a->src->n_files) lh_module_i18n(L, t, a->src);
  sl->spec_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  return 0;
}

static int run_init(lua_State *L)
{
  struct load_arg *a = lua_touserdata(L, 1);
  struct lh_slot *sl = &a->s->slots[a->slot];
  lua_rawgeti(L, LUA_REGISTRYINDEX, sl->spec_ref);
  if (lua_getfield(L, -1, "init") != LUA_TFUNCTION) return 0;
  lua_rawgeti(L, LUA_REGISTRYINDEX, sl->module_ref);
  a->s->init_slot = a->slot;
  lua_call(L, 1, 0);
  a->s->init_slot = -1;
  return 0;
}

/* Copies the plugin table's settings into the slot's declarations (strings interned). */
static int read_settings(lua_State *L)
{
  struct load_arg *a = lua_touserdata(L, 1);
  struct lh_slot *sl = &a->s->slots[a->slot];
  struct lh_decls *d = &sl->decls;
  lua_rawgeti(L, LUA_REGISTRYINDEX, sl->spec_ref);
  if (lua_getfield(L, -1, "settings") != LUA_TTABLE) return 0;
  int t = lua_gettop(L);
  lua_Integer n = (lua_Integer)lua_rawlen(L, t);
  size_t plen = strlen(sl->name);
  for (lua_Integer i = 1; i <= n; i++) {
    if (lua_rawgeti(L, t, i) != LUA_TTABLE) return luaL_error(L, "%s: settings[%d] must be a table", sl->name, (int)i);
    int e = lua_gettop(L);
    const char *name = lua_getfield(L, e, "name") == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    if (!name || strncmp(name, sl->name, plen) != 0 || name[plen] != '.' || !name[plen + 1])
      return luaL_error(L, "%s: settings[%d].name must be \"%s.<what>\"", sl->name, (int)i, sl->name);
    const char *tn = lua_getfield(L, e, "type") == LUA_TSTRING ? lua_tostring(L, -1) : "?";
    int type = !strcmp(tn, "string") ? DESTEK_SETTING_STRING : !strcmp(tn, "int") ? DESTEK_SETTING_INT
             : !strcmp(tn, "bool") ? DESTEK_SETTING_BOOL : 0;
    if (!type) return luaL_error(L, "%s: %s's type must be \"string\", \"int\" or \"bool\"", sl->name, name);
    char dflt[64];
    const char *dv = NULL;
    switch (lua_getfield(L, e, "default")) {
    case LUA_TSTRING: dv = lua_tostring(L, -1); break;
    case LUA_TBOOLEAN: dv = lua_toboolean(L, -1) ? "true" : "false"; break;
    case LUA_TNUMBER:
      if (!lua_isinteger(L, -1)) return luaL_error(L, "%s: %s's default must be a whole number", sl->name, name);
      snprintf(dflt, sizeof dflt, "%lld", (long long)lua_tointeger(L, -1));
      dv = dflt;
      break;
    case LUA_TNIL: break;
    default: return luaL_error(L, "%s: %s's default must be text, a number or a boolean", sl->name, name);
    }
    lua_getfield(L, e, "secret");
    int secret = lua_toboolean(L, -1);
    const char *desc = lua_getfield(L, e, "description") == LUA_TSTRING ? lua_tostring(L, -1) : "";
    d->settings = realloc(d->settings, (size_t)(d->n_settings + 2) * sizeof *d->settings);
    if (!d->settings) abort();
    d->settings[d->n_settings++] = (struct destek_setting){ util_intern(name), type, dv ? util_intern(dv) : NULL,
                                                            secret, util_intern(desc) };
    memset(&d->settings[d->n_settings], 0, sizeof *d->settings);
    lua_settop(L, t);
  }
  return 0;
}

/* Copies the plugin table's events (the nouns of the events it emits besides <name>.<verb>) into its declarations. */
static int read_events(lua_State *L)
{
  struct load_arg *a = lua_touserdata(L, 1);
  struct lh_slot *sl = &a->s->slots[a->slot];
  struct lh_decls *d = &sl->decls;
  lua_rawgeti(L, LUA_REGISTRYINDEX, sl->spec_ref);
  int ty = lua_getfield(L, -1, "events");
  if (ty == LUA_TNIL) return 0;
  if (ty != LUA_TTABLE)
    return luaL_error(L, "%s: events must be a list of event nouns, such as { \"note\" } for note.added", sl->name);
  int t = lua_gettop(L);
  lua_Integer n = (lua_Integer)lua_rawlen(L, t);
  if (n > 32) return luaL_error(L, "%s: events may name at most 32 nouns", sl->name);
  for (lua_Integer i = 1; i <= n; i++) {
    if (lua_rawgeti(L, t, i) != LUA_TSTRING || !bus_event_noun_ok(lua_tostring(L, -1)))
      return luaL_error(L, "%s: events[%d] must be an event noun (1 to 60 lower-case letters, digits or _), such as"
                           " \"note\" for note.added", sl->name, (int)i);
    d->events = realloc(d->events, (size_t)(d->n_events + 1) * sizeof *d->events);
    if (!d->events) abort();
    d->events[d->n_events++] = util_intern(lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  return 0;
}

/* Fills a->steps from the plugin table's migrations (SQL strings stay anchored in the table). */
static int read_migrations(lua_State *L)
{
  struct load_arg *a = lua_touserdata(L, 1);
  struct lh_slot *sl = &a->s->slots[a->slot];
  lua_rawgeti(L, LUA_REGISTRYINDEX, sl->spec_ref);
  int ty = lua_getfield(L, -1, "migrations");
  if (a->src->n_files) {   /* a folder module: migrations/NNN_name.sql */
    char err[300];
    int n = lh_module_migrations(a->src, &a->steps, err, sizeof err);
    if (n < 0) return luaL_error(L, "%s: %s", sl->name, err);
    if (n > 0 && ty == LUA_TTABLE && lua_rawlen(L, -1) > 0)
      return luaL_error(L, "%s: migrations come from migrations/*.sql or from the plugin table, not both", sl->name);
    if (n > 0 || ty != LUA_TTABLE) return 0;
    free(a->steps);
    a->steps = NULL;
  }
  if (ty != LUA_TTABLE) return 0;
  int t = lua_gettop(L);
  lua_Integer n = (lua_Integer)lua_rawlen(L, t);
  if (n > 999) return luaL_error(L, "%s: too many migrations", sl->name);
  for (lua_Integer i = 1; i <= n; i++) {
    if (lua_rawgeti(L, t, i) != LUA_TSTRING)
      return luaL_error(L, "%s: migrations[%d] must be a string of SQL", sl->name, (int)i);
    lua_pop(L, 1);
  }
  a->steps = calloc((size_t)n + 1, sizeof *a->steps);
  a->step_names = calloc((size_t)n + 1, sizeof *a->step_names);
  if (!a->steps || !a->step_names) abort();
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, t, i);
    snprintf(a->step_names[i - 1], sizeof a->step_names[i - 1], "%03d_step.sql", (int)i);
    a->steps[i - 1] = (struct destek_migration){ a->step_names[i - 1], lua_tostring(L, -1) };
    lua_pop(L, 1);
  }
  return 0;
}

static int prefix_clash(const char *a, const char *b)
{
  size_t n = strlen(a);
  return strncmp(a, b, n) == 0 && b[n] == '_';
}

/* Why a plugin named name may not load next to the ones already accepted, or NULL. */
static const char *name_conflict(struct lh_state *s, int slot, const char *name, char *buf, size_t buflen)
{
  for (int i = 0; i < slot; i++) {
    if (!s->slots[i].ok) continue;
    const char *other = s->slots[i].name;
    if (!strcmp(other, name)) {
      snprintf(buf, buflen, "a Lua plugin named %s is already loaded (from %s)", name,
               s->set->sources[s->slots[i].source].origin);
      return buf;
    }
    if (prefix_clash(name, other) || prefix_clash(other, name)) {
      snprintf(buf, buflen, "its name and that of plugin %s overlap (table prefixes %s_ and %s_)", other, name, other);
      return buf;
    }
  }
  cJSON *all = plugin_list_new();
  const char *why = NULL;
  for (const cJSON *p = all ? all->child : NULL; p && !why; p = p->next) {
    const char *kind = cJSON_GetStringValue(cJSON_GetObjectItem(p, "kind"));
    const char *other = cJSON_GetStringValue(cJSON_GetObjectItem(p, "name"));
    if (!kind || !other || !strncmp(kind, "lua", 3)) continue;
    if (!strcmp(other, name)) snprintf(buf, buflen, "a C plugin named %s is loaded", name), why = buf;
    else if (prefix_clash(name, other) || prefix_clash(other, name))
      snprintf(buf, buflen, "its name and that of C plugin %s overlap", other), why = buf;
  }
  cJSON_Delete(all);
  if (why) return why;
  /* Tables named <name>_* that exist although this plugin never migrated belong to someone else. */
  struct db *db = db_reader();
  if (db && db_schema_version(db, name) == 0) {
    char pattern[2 * LH_NAME_MAX + 8], *o = pattern;
    for (const char *p = name; *p; p++) {
      if (*p == '_' || *p == '%' || *p == '\\') *o++ = '\\';
      *o++ = *p;
    }
    strcpy(o, "\\_%");
    if (db_int(db, 0, "SELECT count(*) FROM sqlite_master WHERE name LIKE ?1 ESCAPE '\\'", "t", pattern) > 0) {
      snprintf(buf, buflen, "tables named %s_* exist and belong to another module", name);
      return buf;
    }
  }
  return NULL;
}

/* Why slot's plugin may not have the event nouns it would own (its name, and those its table declares), or NULL. A
 * noun belongs to the core or the C module that declared it (bus_event_owner), to the C plugin of that name, or to
 * the Lua plugin loaded first that is named so or declares it: events are their emitter's, and no plugin may emit
 * ticket.created or user.updated for the subscribers and webhooks that trust them. */
static const char *noun_conflict(struct lh_state *s, int slot, char *buf, size_t buflen)
{
  struct lh_slot *sl = &s->slots[slot];
  for (int k = -1; k < sl->decls.n_events; k++) {
    const char *noun = k < 0 ? sl->name : sl->decls.events[k];
    const char *owner = bus_event_noun_owner(noun);
    if (!owner) owner = c_plugin_named(noun);
    for (int i = 0; !owner && i < s->set->n_plugins; i++)
      if (!strcmp(s->set->plugins[i].name, noun) || declares(&s->set->plugins[i].decls, noun))
        owner = s->set->plugins[i].name;
    if (!owner || !strcmp(owner, sl->name)) continue;
    if (k < 0)
      snprintf(buf, buflen, "its name is the event noun %s, which belongs to %s: a plugin's events are named after"
               " it (%s.<verb>), so it needs another name", noun, owner, noun);
    else
      snprintf(buf, buflen, "events = {...}: the event noun %s belongs to %s; a plugin declares only nouns that no one"
               " else emits", noun, owner);
    return buf;
  }
  return NULL;
}

/* Logs that a Lua plugin did not load, and notes why for the plugins list (plugin_failed_note). */
static void not_loaded(const char *name, const struct lh_source *src, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));
static void not_loaded(const char *name, const struct lh_source *src, const char *fmt, ...)
{
  char why[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  log_error("lua", "%s (%s): not loaded: %s", name, src->origin, why);
  plugin_failed_note(name, src->builtin ? "lua (built-in)" : "lua", src->origin, "%s", why);
}

/* Collecting: checks, settings, migrations, then init. Returns 0 when the plugin is in. */
static int collect_one(struct lh_state *s, int slot)
{
  struct lh_slot *sl = &s->slots[slot];
  struct load_arg a = { s, slot, &s->set->sources[sl->source], NULL, NULL };
  char err[700], why[300];
  if (lh_run(s, slot, NULL, load_chunk, &a, err, sizeof err) != 0) {
    s->init_slot = -1;
    not_loaded(sl->name, a.src, "%s", err);
    return -1;
  }
  const char *conflict = name_conflict(s, slot, sl->name, why, sizeof why);
  if (conflict) {
    not_loaded(sl->name, a.src, "%s", conflict);
    return -1;
  }
  if (lh_run(s, slot, NULL, read_events, &a, err, sizeof err) != 0 ||
      lh_run(s, slot, NULL, read_settings, &a, err, sizeof err) != 0) {
    not_loaded(sl->name, a.src, "%s", err);
    return -1;
  }
  if ((conflict = noun_conflict(s, slot, why, sizeof why))) {
    not_loaded(sl->name, a.src, "%s", conflict);
    return -1;
  }
  if (sl->decls.n_settings && settings_declare(util_intern(sl->name), sl->decls.settings) != 0) {
    not_loaded(sl->name, a.src, "a setting was refused (see the log)");
    return -1;
  }
  int rc = lh_run(s, slot, NULL, read_migrations, &a, err, sizeof err);
  if (rc == 0 && a.steps && a.steps[0].name) rc = lh_migrate(util_intern(sl->name), a.steps, err, sizeof err);
  free(a.steps);
  free(a.step_names);
  if (rc != 0) {
    not_loaded(sl->name, a.src, "%s", err);
    return -1;
  }
  if (lh_run(s, slot, NULL, run_init, &a, err, sizeof err) != 0) {
    s->init_slot = -1;
    not_loaded(sl->name, a.src, "init failed: %s", err);
    return -1;
  }
  return 0;
}

/* Reads the sources and collects them into a new set (not yet published). NULL when nothing could be read. */
static struct lh_set *set_collect(void)
{
  plugin_failed_forget("lua");   /* what this attempt finds replaces what the last one found */
  struct lh_set *set = set_read();
  if (!set) return NULL;
  char err[300];
  struct lh_state *s = lh_state_new(set, 1, err, sizeof err);
  if (!s) {
    log_error("lua", "%s", err);
    set_free(set);
    return NULL;
  }
  s->slots = calloc((size_t)set->n_sources + 1, sizeof *s->slots);
  set->plugins = calloc((size_t)set->n_sources + 1, sizeof *set->plugins);
  if (!s->slots || !set->plugins) abort();
  s->n_slots = set->n_sources;
  for (int i = 0; i < set->n_sources; i++) {
    struct lh_slot *sl = &s->slots[i];
    sl->source = i;
    snprintf(sl->name, sizeof sl->name, "%s", set->sources[i].stem);
    sl->spec_ref = sl->module_ref = LUA_NOREF;
    if (collect_one(s, i) != 0) {
      unbind_slot(s, i);  /* what its file's top level declared must not block a later plugin */
      continue;
    }
    sl->ok = 1;
    struct lh_plugin *p = &set->plugins[set->n_plugins++];
    p->name = util_intern(sl->name);
    p->source = i;
    lua_rawgeti(s->L, LUA_REGISTRYINDEX, sl->spec_ref);
    lua_pushliteral(s->L, "version");
    lua_rawget(s->L, -2);                    /* raw, outside any call; init may have changed it since load_chunk */
    p->version = util_strdup(lua_type(s->L, -1) == LUA_TSTRING ? lua_tostring(s->L, -1) : "?");
    lua_pop(s->L, 2);
    p->decls = sl->decls;
    memset(&sl->decls, 0, sizeof sl->decls);
    log_info("lua", "loaded %s %s (%s): %d route%s, %d subscription%s, %d job%s", p->name, p->version,
             set->sources[i].origin, p->decls.n_routes, p->decls.n_routes == 1 ? "" : "s", p->decls.n_subs,
             p->decls.n_subs == 1 ? "" : "s", p->decls.n_jobs, p->decls.n_jobs == 1 ? "" : "s");
  }
  s->set = NULL;  /* the collecting state holds no reference */
  lh_state_free(s);
  return set;
}

/* A thread's state for set: its plugins are loaded one by one at their first use (lh_bind_find), so that a worker
 * that never serves a plugin's route, event, job or service does not hold it in memory. NULL if the state cannot be
 * made. */
static struct lh_state *state_build(struct lh_set *set)
{
  char err[700];
  struct lh_state *s = lh_state_new(set, 0, err, sizeof err);
  if (!s) {
    log_error("lua", "%s", err);
    return NULL;
  }
  s->gen = set->gen;
  s->slots = calloc((size_t)set->n_plugins + 1, sizeof *s->slots);
  if (!s->slots) abort();
  s->n_slots = set->n_plugins;
  for (int i = 0; i < set->n_plugins; i++) {
    const struct lh_plugin *p = &set->plugins[i];
    struct lh_slot *sl = &s->slots[i];
    sl->source = p->source;
    snprintf(sl->name, sizeof sl->name, "%s", p->name);
    sl->spec_ref = sl->module_ref = LUA_NOREF;
  }
  s->n_unloaded = set->n_plugins;
  return s;
}

static __thread int tl_loading;   /* this thread holds build_lock */

/* Loads slot i of a worker's state: its file, then its init, binding what it declares. It has the longer limit of a
 * load (LH_BUILD_TIME_LIMIT; it loaded once already, when collected), also inside a running call (a Lua emit, service
 * or decide that reaches a plugin not loaded yet), where the load has a budget of its own and its time is not charged
 * to the call (lh_budget_push). */
static int slot_load(struct lh_state *s, int i)
{
  const struct lh_plugin *p = &s->set->plugins[i];
  struct lh_slot *sl = &s->slots[i];
  sl->loaded = 1;
  s->n_unloaded--;
  int outer = s->depth == 0, locked = 0;
  int saved_init = s->init_slot;
  struct lh_budget saved;
  if (outer) s->building = 1;
  else lh_budget_push(s, &saved);   /* from here the call's clock stands still, the wait for the lock included */
  if (!tl_loading) {
    /* Inside a call the load waits for the lock a while only: the call may hold what another load waits for. */
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 2;
    locked = outer ? pthread_mutex_lock(&build_lock) == 0 : pthread_mutex_timedlock(&build_lock, &until) == 0;
    tl_loading = locked;
    if (!outer) lh_budget_load(s);
  }
  char err[700];
  struct load_arg a = { s, i, &s->set->sources[p->source], NULL, NULL };
  int rc = lh_run(s, i, NULL, load_chunk, &a, err, sizeof err);
  if (rc == 0 && strcmp(sl->name, p->name) != 0) {
    snprintf(err, sizeof err, "it named itself %s this time", sl->name);
    rc = -1;
  }
  if (rc == 0) rc = lh_run(s, i, NULL, run_init, &a, err, sizeof err);
  s->init_slot = saved_init;
  if (outer) s->building = 0;
  else lh_budget_pop(s, &saved);
  if (locked) {
    tl_loading = 0;
    pthread_mutex_unlock(&build_lock);
  }
  if (rc != 0) {
    /* The plugin loaded in the collecting state, so this is most likely its load or init running past the time
     * limit on a busy machine: the state is rebuilt at this thread's next use rather than left without the plugin
     * for good. */
    log_error("lua", "%s: failed to load in a worker's state (its routes answer 500 there until the state is"
              " rebuilt at the next request): %s", p->name, err);
    snprintf(sl->name, sizeof sl->name, "%s", p->name);
    unbind_slot(s, i);
    sl->loaded = -1;
    s->stale = 1;
    return -1;
  }
  sl->ok = 1;
  return 0;
}

static int decls_have(const struct lh_decls *d, int kind, const char *a, const char *b)
{
  switch (kind) {
  case LH_ROUTE:
    for (int k = 0; k < d->n_routes; k++)
      if (d->routes[k].method == a && d->routes[k].pattern == b) return 1;
    return 0;
  case LH_ON: case LH_ON_ASYNC:
    for (int k = 0; k < d->n_subs; k++)
      if (d->subs[k].key == a) return 1;
    return 0;
  case LH_EVERY:
    for (int k = 0; k < d->n_jobs; k++)
      if (d->jobs[k].key == a) return 1;
    return 0;
  case LH_POLICY:
    for (int k = 0; k < d->n_policies; k++)
      if (!strcmp(d->policies[k], a)) return 1;
    return 0;
  default:
    for (int k = 0; k < d->n_extras; k++)
      if (d->extras[k].kind == kind && d->extras[k].key == a) return 1;
    return 0;
  }
}

static void lazy_load(struct lh_state *s, int kind, const char *a, const char *b)
{
  for (int i = 0; i < s->n_slots && s->n_unloaded > 0; i++) {
    if (s->slots[i].loaded || !decls_have(&s->set->plugins[i].decls, kind, a, b)) continue;
    slot_load(s, i);
    if (kind != LH_POLICY) return;
  }
}

static void state_release(struct lh_state *s)
{
  if (!s) return;
  struct lh_set *set = s->set;
  lh_state_free(s);
  set_unref(set);
}

struct lh_state *lh_state_get(void)
{
  unsigned g = atomic_load_explicit(&cur_gen, memory_order_acquire);
  if (tls && ((tls->gen == g && !tls->stale) || tls->depth > 0)) return tls;
  pthread_mutex_lock(&set_lock);
  struct lh_set *set = cur_set;
  if (set) set->refs++;
  pthread_mutex_unlock(&set_lock);
  state_release(tls);
  tls = NULL;
  if (!set) return NULL;
  tls = state_build(set);
  if (!tls) set_unref(set);
  return tls;
}

/* ------------------------------------------------------------------------------------------------ events, jobs */

struct event_arg {
  const struct lh_bind *b;
  const struct destek_event *ev;
  int vetoed;
  char veto[400];
};

static int event_tramp(lua_State *L)
{
  struct event_arg *a = lua_touserdata(L, 1);
  lua_rawgeti(L, LUA_REGISTRYINDEX, a->b->ref);
  if (a->ev->payload) lh_push_json(L, a->ev->payload);
  else lua_newtable(L);
  lua_pushstring(L, a->ev->name);
  lua_createtable(L, 0, 4);
  lua_pushinteger(L, a->ev->id);
  lua_setfield(L, -2, "id");
  lua_pushstring(L, a->ev->name);
  lua_setfield(L, -2, "name");
  lua_pushstring(L, a->ev->subject ? a->ev->subject : "");
  lua_setfield(L, -2, "subject");
  lua_pushinteger(L, a->ev->attempt);
  lua_setfield(L, -2, "attempt");
  lua_call(L, 3, 2);
  int first = lua_type(L, -2);
  if ((first == LUA_TBOOLEAN && !lua_toboolean(L, -2)) || (first == LUA_TNIL && lua_type(L, -1) == LUA_TSTRING)) {
    a->vetoed = 1;
    if (lua_type(L, -1) == LUA_TSTRING) snprintf(a->veto, sizeof a->veto, "%s", lua_tostring(L, -1));
  }
  return 0;
}

/* Sync: a veto (false / nil, "message" / an error) refuses the emit with its message. Async: 0 when delivered,
 * 1 to be retried. */
static int lua_event_fn(struct destek_req *call, const struct destek_event *ev, void *ud, char *err, size_t errlen)
{
  const char *key = ud;
  struct lh_state *s = lh_state_get();
  struct lh_bind *b = s ? lh_bind_find(s, LH_ON, key, NULL) : NULL;
  int sync = b != NULL;
  if (!b && s) b = lh_bind_find(s, LH_ON_ASYNC, key, NULL);
  if (!b) {
    log_error("lua", "%s: the handler for %s is not loaded in this thread", key, ev->name);
    snprintf(err, errlen, "a plugin that handles %s is not available", ev->name);
    return 1;
  }
  const char *plugin = s->slots[b->slot].name;
  struct event_arg a = { b, ev, 0, "" };
  char msg[700];
  int rc = lh_run(s, b->slot, call, event_tramp, &a, msg, sizeof msg);
  if (rc == 0 && !a.vetoed) return 0;
  if (rc == 0) {
    if (a.veto[0]) snprintf(err, errlen, "%s", a.veto);
    else snprintf(err, errlen, "%s refused this change", plugin);
    if (!sync) log_warn(plugin, "%s handler failed: %s", ev->name, err);
    return 1;
  }
  if (sync && rc == LH_VETO) {
    snprintf(err, errlen, "%s", msg);
    return 1;
  }
  log_error(plugin, "%s handler for %s failed: %s", sync ? "sync" : "async", ev->name, msg);
  if (sync && !s->killed) snprintf(err, errlen, "%s", lh_strip_position(msg));
  else if (sync) snprintf(err, errlen, "the plugin %s failed", plugin);
  else snprintf(err, errlen, "%s", msg);
  return 1;
}

struct job_arg { const struct lh_bind *b; int failed; };

static int job_tramp(lua_State *L)
{
  struct job_arg *a = lua_touserdata(L, 1);
  lua_rawgeti(L, LUA_REGISTRYINDEX, a->b->ref);
  lua_call(L, 0, 1);
  a->failed = lua_type(L, -1) == LUA_TBOOLEAN && !lua_toboolean(L, -1);
  return 0;
}

/* A job's writes commit unless it raised an error or returned false. */
static int lua_job_fn(struct destek_req *call, void *ud)
{
  struct lh_state *s = lh_state_get();
  struct lh_bind *b = s ? lh_bind_find(s, LH_EVERY, ud, NULL) : NULL;
  if (!b) {
    log_error("lua", "%s: the job is not loaded in this thread", (const char *)ud);
    return 1;
  }
  struct job_arg a = { b, 0 };
  char err[700];
  int rc = lh_run(s, b->slot, call, job_tramp, &a, err, sizeof err);
  if (rc != 0) log_error(s->slots[b->slot].name, "job every %s failed: %s", (const char *)ud, err);
  return rc != 0 || a.failed;
}

/* ------------------------------------------------------------------------------------------------ policies */

struct decide_arg {
  const struct lh_bind *b;
  const cJSON *args;
  cJSON *out;
  char bad[300];
};

static int decide_tramp(lua_State *L)
{
  struct decide_arg *a = lua_touserdata(L, 1);
  int base = lua_gettop(L);
  lua_rawgeti(L, LUA_REGISTRYINDEX, a->b->ref);
  int n = 0;
  if (cJSON_IsArray(a->args))
    for (const cJSON *c = a->args->child; c; c = c->next, n++) {
      luaL_checkstack(L, 2, "too many policy arguments");
      lh_push_json(L, c);
    }
  lua_call(L, n, LUA_MULTRET);
  a->out = cJSON_CreateArray();
  for (int i = base + 1; i <= lua_gettop(L); i++) {
    cJSON *v = lh_to_json(L, i, a->bad, sizeof a->bad);
    if (!v) return 0;
    cJSON_AddItemToArray(a->out, v);
  }
  return 0;
}

int lua_host_has_policy(const char *policy)
{
  struct lh_state *s = lh_state_get();
  return s && policy && lh_bind_find(s, LH_POLICY, policy, NULL) != NULL;
}

cJSON *lua_host_decide_new(struct destek_req *call, const char *policy, const cJSON *args)
{
  struct lh_state *s = lh_state_get();
  struct lh_bind *b = s && policy ? lh_bind_find(s, LH_POLICY, policy, NULL) : NULL;
  if (!b) return NULL;
  struct decide_arg a = { b, args, NULL, "" };
  char err[700];
  int rc = lh_run(s, b->slot, call, decide_tramp, &a, err, sizeof err);
  if (rc != 0 || a.bad[0]) {
    log_error(s->slots[b->slot].name, "policy %s failed: %s", policy, rc ? err : a.bad);
    cJSON_Delete(a.out);
    return NULL;
  }
  return a.out;
}

/* ------------------------------------------------------------------------------------------------ lifecycle */

static void set_register(const struct lh_set *set)
{
  for (int i = 0; i < set->n_plugins; i++) {
    const struct lh_plugin *p = &set->plugins[i];
    for (int k = 0; k < p->decls.n_routes; k++) {
      const char *access = p->decls.routes[k].access;
      if (strcmp(access, DESTEK_PUBLIC) && strcmp(access, DESTEK_AGENT) && strcmp(access, DESTEK_ADMIN) &&
          tokens_scope_register(access) != 0)
        log_error(p->name, "route %s %s: '%s' is not a valid scope name", p->decls.routes[k].method,
                  p->decls.routes[k].pattern, access);
    }
    if (p->decls.n_routes && http_routes_add(p->name, p->decls.routes) != 0)
      log_error(p->name, "some of its routes were refused (see above)");
    for (int k = 0; k < p->decls.n_subs; k++)
      bus_subscribe(p->name, p->decls.subs[k].event, p->decls.subs[k].mode, lua_event_fn, (void *)p->decls.subs[k].key);
    for (int k = 0; k < p->decls.n_jobs; k++)
      jobs_every(p->name, p->decls.jobs[k].job, p->decls.jobs[k].seconds, lua_job_fn, (void *)p->decls.jobs[k].key);
    lh_calls_register(p->name, &p->decls);
  }
}

static void set_unregister(const struct lh_set *set)
{
  for (int i = 0; i < set->n_plugins; i++) {
    http_routes_remove_owner(set->plugins[i].name);
    bus_unsubscribe_owner(set->plugins[i].name);
    jobs_forget_owner(set->plugins[i].name);
    lh_calls_unregister(set->plugins[i].name);
  }
}

/* Collects a new set and makes it current. first: at start-up, publish whatever loaded. */
static int load_all(int first)
{
  pthread_mutex_lock(&reload_lock);
  struct lh_set *ns = set_collect();
  if (!ns) {
    pthread_mutex_unlock(&reload_lock);
    return -1;
  }
  /* "Failed entirely": there are files in <data>/plugins and not one of them loaded (built-ins always do). */
  int files = 0, files_loaded = 0;
  for (int i = 0; i < ns->n_sources; i++) files += !ns->sources[i].builtin;
  for (int i = 0; i < ns->n_plugins; i++) files_loaded += !ns->sources[ns->plugins[i].source].builtin;
  if (!first && files > 0 && files_loaded == 0) {
    log_error("lua", "reload: none of the %d Lua plugins in %s/plugins loaded; the previous ones keep running", files,
              data_dir);
    set_free(ns);
    pthread_mutex_unlock(&reload_lock);
    return -1;
  }
  pthread_mutex_lock(&set_lock);
  struct lh_set *old = cur_set;
  pthread_mutex_unlock(&set_lock);
  /* Old routes go before the generation changes; new ones come after it, so no request finds a route whose
   * function its thread's state does not have. Lookups wait for the swap (http_routes_swap_begin), so a route in both
   * sets is never missing. */
  http_routes_swap_begin();
  if (old) set_unregister(old);
  pthread_mutex_lock(&set_lock);
  ns->refs = 1;
  ns->gen = ++gen_counter;
  cur_set = ns;
  atomic_store_explicit(&cur_gen, ns->gen, memory_order_release);
  pthread_mutex_unlock(&set_lock);
  set_register(ns);
  http_routes_swap_end();
  set_unref(old);
  /* What the old code rendered or answered (pages, values, private_cache answers) may not be what the new would:
   * dropped, after the new set is current, so that a copy the old code keeps from now on is refused (its generation
   * was read before). */
  if (!first) page_cache_clear(NULL);
  int n = ns->n_plugins;
  pthread_mutex_unlock(&reload_lock);
  return n;
}

int lua_host_init(const char *dir)
{
  free(data_dir);
  data_dir = util_strdup(dir);
  struct db *w = db_writer_acquire();
  lh_sql_start(w);
  lh_calls_start(w);
  db_writer_release(w);
  return load_all(1);
}

int lua_host_reload(void)
{
  if (!data_dir) return -1;
  int n = load_all(0);
  if (n >= 0) log_info("lua", "reloaded: %d Lua plugin%s", n, n == 1 ? "" : "s");
  return n;
}

void lua_host_thread_release(void)
{
  state_release(tls);
  tls = NULL;
  lh_sql_thread_release();
  lh_thread_queued_release();
}

void lua_host_shutdown(void)
{
  lua_host_thread_release();
  pthread_mutex_lock(&reload_lock);
  pthread_mutex_lock(&set_lock);
  struct lh_set *old = cur_set;
  cur_set = NULL;
  atomic_store_explicit(&cur_gen, ++gen_counter, memory_order_release);
  pthread_mutex_unlock(&set_lock);
  set_unref(old);
  pthread_mutex_unlock(&reload_lock);
}

void lua_host_list(cJSON *arr)
{
  pthread_mutex_lock(&set_lock);
  for (int i = 0; cur_set && i < cur_set->n_plugins; i++) {
    const struct lh_plugin *p = &cur_set->plugins[i];
    const struct lh_source *src = &cur_set->sources[p->source];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", p->name);
    cJSON_AddStringToObject(o, "version", p->version);
    cJSON_AddStringToObject(o, "kind", src->builtin ? "lua (built-in)" : "lua");
    cJSON_AddStringToObject(o, "source", src->origin);
    cJSON_AddItemToArray(arr, o);
  }
  pthread_mutex_unlock(&set_lock);
}
