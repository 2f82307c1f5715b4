/* A Lua module that is a folder, like a C module:
 *
 *   plugins/<name>/                  built in: its files embedded by the build (CMakeLists.txt, "Lua modules")
 *   <data>/plugins/<name>/           a merchant's
 *     init.lua                       returns the plugin table, as a single-file plugin does
 *     NAME.lua, lib/NAME.lua         its own code: require "store", require "lib.text" (not under web/)
 *     migrations/NNN_name.sql        its migrations, applied in name order under its SQL rules
 *     templates/NAME.html            its templates and partials (destek.render, lua_page.c)
 *     i18n/<lang>.json               its strings for destek.t: {"key": "text"}
 *     static/FILE                    files its pages use (destek.asset: CSS, images, fonts)
 *     web/, i18n/agent/, i18n/portal/  its screens, gathered into the web bundles by scripts/build-web.mjs
 *
 * Everything a folder holds is read once, when the plugin set is read (a reload reads it again), so every thread's
 * state sees the same files and nothing is read from disk while a call runs. A plugin never sees a path: require
 * takes a module name, render a template name, asset a file name, all looked up in what was read. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "embed.h"
#include "lua_host_internal.h"
#include "util.h"

extern const struct embed_file embed_luamods[];   /* plugins/<name>/ of the Lua modules: "<name>/<file>" */

#define MODULE_FILES_MAX 512
#define MODULE_FILE_MAX ((size_t)1 << 20)          /* like a single-file plugin */
#define MODULE_STATIC_MAX ((size_t)4 << 20)        /* a file of static/ (an image, a font) */
#define MODULE_BYTES_MAX ((size_t)32 << 20)
#define MODULE_DEPTH_MAX 6

/* ------------------------------------------------------------------------------------------------ reading */

static int ends_with(const char *s, const char *suffix)
{
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && !strcmp(s + n - m, suffix);
}

/* Whether the host keeps the file rel of a module folder (a path with "/" separators). */
static int wanted(const char *rel)
{
  if (!strncmp(rel, "web/", 4)) return 0;
  if (!strncmp(rel, "templates/", 10) || !strncmp(rel, "static/", 7)) return 1;
  if (!strncmp(rel, "migrations/", 11)) return ends_with(rel, ".sql") && !strchr(rel + 11, '/');
  if (!strncmp(rel, "i18n/", 5)) return ends_with(rel, ".json") && !strchr(rel + 5, '/');
  return ends_with(rel, ".lua");
}

struct reading {
  struct lh_file *files;
  int n;
  size_t bytes;
  char *err;
  size_t errlen;
};

static int by_file_name(const void *a, const void *b)
{
  return strcmp(((const struct lh_file *)a)->name, ((const struct lh_file *)b)->name);
}

static int read_one(struct reading *rd, const char *path, const char *rel, size_t size)
{
  size_t cap = !strncmp(rel, "static/", 7) ? MODULE_STATIC_MAX : MODULE_FILE_MAX;
  if (size > cap) {
    snprintf(rd->err, rd->errlen, "%s is larger than %zu MiB", rel, cap >> 20);
    return -1;
  }
  if (rd->n == MODULE_FILES_MAX || rd->bytes + size > MODULE_BYTES_MAX) {
    snprintf(rd->err, rd->errlen, "more than %d files or %zu MiB", MODULE_FILES_MAX, MODULE_BYTES_MAX >> 20);
    return -1;
  }
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(rd->err, rd->errlen, "%s: %s", rel, strerror(errno));
    return -1;
  }
  char *buf = malloc(size + 1);
  if (!buf) abort();
  size_t got = fread(buf, 1, size + 1, f);
  int bad = ferror(f) || got != size;
  fclose(f);
  if (bad) {
    free(buf);
    snprintf(rd->err, rd->errlen, "%s: read error (changed while read?)", rel);
    return -1;
  }
  buf[size] = 0;
  rd->files[rd->n++] = (struct lh_file){ util_strdup(rel), buf, size };
  rd->bytes += size;
  return 0;
}

/* Reads the wanted files under dir (rel: its name inside the module, "" at the top). Symbolic links and dot-files are
 * skipped: a module is what its folder holds. */
static int walk(struct reading *rd, const char *dir, const char *rel, int depth)
{
  DIR *d = opendir(dir);
  if (!d) {
    snprintf(rd->err, rd->errlen, "cannot read %s: %s", dir, strerror(errno));
    return -1;
  }
  int rc = 0;
  struct dirent *de;
  while (rc == 0 && (de = readdir(d))) {
    if (de->d_name[0] == '.') continue;
    char path[4352], sub[1024];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >= sizeof path ||
        (size_t)snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", de->d_name) >= sizeof sub)
      continue;
    struct stat st;
    if (lstat(path, &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      if (depth < MODULE_DEPTH_MAX && strcmp(sub, "web") != 0) rc = walk(rd, path, sub, depth + 1);
    } else if (S_ISREG(st.st_mode) && wanted(sub)) {
      rc = read_one(rd, path, sub, (size_t)st.st_size);
    }
  }
  closedir(d);
  return rc;
}

/* Fills what src's folder says about itself once its files are in: init.lua is its text. */
static int source_finish(struct lh_source *src, const char *name, char *err, size_t errlen)
{
  qsort(src->files, (size_t)src->n_files, sizeof *src->files, by_file_name);
  const struct lh_file *init = lh_module_file(src, "init.lua");
  if (!init) {
    snprintf(err, errlen, "a module folder needs an init.lua");
    return -1;
  }
  src->text = init->text;
  src->len = init->len;
  src->stem = util_strdup(name);
  if (asprintf(&src->chunkname, "@%s%s/init.lua", src->builtin ? "builtin/" : "", name) < 0) abort();
  return 0;
}

int lh_module_read_dir(const char *dir, const char *name, struct lh_source *src, char *err, size_t errlen)
{
  struct reading rd = { calloc(MODULE_FILES_MAX, sizeof *rd.files), 0, 0, err, errlen };
  if (!rd.files) abort();
  memset(src, 0, sizeof *src);
  src->origin = util_strdup(dir);
  src->files = rd.files;
  int rc = walk(&rd, dir, "", 0);
  src->n_files = rd.n;
  if (rc == 0) rc = source_finish(src, name, err, errlen);
  return rc;
}

int lh_module_builtin(struct lh_source *sources, int max)
{
  int added = 0;
  for (const struct embed_file *e = embed_luamods; e->name && added < max;) {
    const char *slash = strchr(e->name, '/');
    size_t n = slash ? (size_t)(slash - e->name) : 0;
    const struct embed_file *first = e;
    while (e->name && slash && !strncmp(e->name, first->name, n) && e->name[n] == '/') e++;
    if (!slash) { e++; continue; }
    struct lh_source *src = &sources[added];
    memset(src, 0, sizeof *src);
    src->builtin = 1;
    src->origin = util_strdup("built-in");
    src->files = calloc((size_t)(e - first) + 1, sizeof *src->files);
    if (!src->files) abort();
    for (const struct embed_file *f = first; f < e; f++)
      src->files[src->n_files++] = (struct lh_file){ util_strdup(f->name + n + 1), (const char *)f->data, f->size };
    char name[128], err[200];
    snprintf(name, sizeof name, "%.*s", (int)n, first->name);
    if (source_finish(src, name, err, sizeof err) != 0) {
      lh_module_free(src);
      free(src->origin);
      free(src->stem);
      memset(src, 0, sizeof *src);
      continue;
    }
    added++;
  }
  return added;
}

void lh_module_free(struct lh_source *src)
{
  for (int i = 0; i < src->n_files; i++) {
    free(src->files[i].name);
    if (!src->builtin) free((char *)src->files[i].text);
  }
  free(src->files);
  if (src->n_files) src->text = NULL;   /* it was one of the files */
  src->files = NULL;
  src->n_files = 0;
}

const struct lh_file *lh_module_file(const struct lh_source *src, const char *name)
{
  int lo = 0, hi = src ? src->n_files - 1 : -1;
  while (lo <= hi) {
    int mid = (lo + hi) / 2, c = strcmp(src->files[mid].name, name);
    if (c == 0) return &src->files[mid];
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return NULL;
}

/* ------------------------------------------------------------------------------------------------ require */

/* "store" or "lib.text": lower-case words of [a-z0-9_] joined by dots, into the file name "lib/text.lua". */
static int module_path(const char *name, char *out, size_t outlen)
{
  size_t n = strlen(name);
  if (n == 0 || n > 100 || name[0] == '.' || name[n - 1] == '.' || strstr(name, "..")) return -1;
  for (const char *p = name; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '.')) return -1;
  if (n + 5 > outlen) return -1;
  for (size_t i = 0; i < n; i++) out[i] = name[i] == '.' ? '/' : name[i];
  strcpy(out + n, ".lua");
  return 0;
}

/* require(name), with upvalues: the slot, the destek module, the environment, the table of loaded modules. */
static int mod_require(lua_State *L)
{
  const char *name = luaL_checkstring(L, 1);
  if (!strcmp(name, "destek")) {
    lua_pushvalue(L, lua_upvalueindex(2));
    return 1;
  }
  int loaded = lua_upvalueindex(4);
  lua_settop(L, 1);
  lua_pushvalue(L, 1);
  if (lua_rawget(L, loaded) != LUA_TNIL) {   /* [1] name, [2] the module or the marker of one being loaded */
    if (lua_rawequal(L, -1, loaded)) return luaL_error(L, "require: module '%s' requires itself (a loop)", name);
    return 1;
  }
  lua_pop(L, 1);
  struct lh_state *s = lh_state_of(L);
  int slot = (int)lua_tointeger(L, lua_upvalueindex(1));
  const struct lh_source *src = s->set ? &s->set->sources[s->slots[slot].source] : NULL;
  char path[128];
  const struct lh_file *f = module_path(name, path, sizeof path) == 0 && strcmp(path, "init.lua") != 0
                          ? lh_module_file(src, path) : NULL;
  if (!f)
    return luaL_error(L, "module '%s' is not available: a plugin can require only \"destek\" and the .lua files of"
                         " its own folder", name);
  lua_pushvalue(L, 1);
  lua_pushvalue(L, loaded);
  lua_rawset(L, loaded);                     /* being loaded */
  lh_budget_charge(L, (long)(f->len / 16));
  char chunkname[300];
  snprintf(chunkname, sizeof chunkname, "@%s%s/%s", src->builtin ? "builtin/" : "", src->stem, f->name);
  if (luaL_loadbufferx(L, f->text, f->len, chunkname, "t") != LUA_OK) {
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    lua_rawset(L, loaded);
    return lua_error(L);
  }
  lua_pushvalue(L, lua_upvalueindex(3));
  lua_setupvalue(L, -2, 1);                  /* its _ENV: the plugin's environment */
  lua_pushvalue(L, 1);
  lua_call(L, 1, 1);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_pushboolean(L, 1);
  }
  lua_pushvalue(L, 1);
  lua_pushvalue(L, -2);
  lua_rawset(L, loaded);
  return 1;
}

void lh_module_env(lua_State *L, int slot, int env)
{
  struct lh_state *s = lh_state_of(L);
  env = lua_absindex(L, env);
  lua_pushinteger(L, slot);
  lua_rawgeti(L, LUA_REGISTRYINDEX, s->slots[slot].module_ref);
  lua_pushvalue(L, env);
  lua_newtable(L);
  lua_pushcclosure(L, mod_require, 4);
  lua_setfield(L, env, "require");
}

/* ------------------------------------------------------------------------------------------------ migrations */

/* "001_notes.sql": three digits, "_", a name of [a-z0-9_]. */
static int step_name_ok(const char *n)
{
  if (strlen(n) < 9 || n[0] < '0' || n[0] > '9' || n[1] < '0' || n[1] > '9' || n[2] < '0' || n[2] > '9' ||
      n[3] != '_' || !ends_with(n, ".sql"))
    return 0;
  for (const char *p = n + 4; p < n + strlen(n) - 4; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-')) return 0;
  return 1;
}

int lh_module_migrations(const struct lh_source *src, struct destek_migration **steps, char *err, size_t errlen)
{
  *steps = calloc((size_t)src->n_files + 1, sizeof **steps);
  if (!*steps) abort();
  int n = 0;
  for (int i = 0; i < src->n_files; i++) {
    const struct lh_file *f = &src->files[i];
    if (strncmp(f->name, "migrations/", 11) != 0) continue;
    if (!step_name_ok(f->name + 11)) {
      snprintf(err, errlen, "%s: a migration is named NNN_name.sql (001_notes.sql)", f->name);
      return -1;
    }
    (*steps)[n++] = (struct destek_migration){ f->name + 11, f->text };
  }
  return n;
}

/* ------------------------------------------------------------------------------------------------ strings */

static int push_strings(lua_State *L)
{
  const cJSON *j = lua_touserdata(L, 1);
  const char *lang = lua_touserdata(L, 2);
  int i18n = 3;   /* the plugin table's i18n */
  if (lua_getfield(L, i18n, lang) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_setfield(L, i18n, lang);
  }
  for (const cJSON *c = j->child; c; c = c->next) {
    if (!cJSON_IsString(c)) return luaL_error(L, "i18n/%s.json: \"%s\" is not a string", lang, c->string);
    if (lua_getfield(L, -1, c->string) == LUA_TNIL) {   /* the plugin table's own strings win */
      lua_pushstring(L, c->valuestring);
      lua_setfield(L, -3, c->string);
    }
    lua_pop(L, 1);
  }
  return 0;
}

void lh_module_i18n(lua_State *L, int spec, const struct lh_source *src)
{
  spec = lua_absindex(L, spec);
  int i18n = 0;
  for (int i = 0; i < src->n_files; i++) {
    const struct lh_file *f = &src->files[i];
    if (strncmp(f->name, "i18n/", 5) != 0) continue;
    char lang[16];
    size_t n = strlen(f->name + 5) - 5;
    if (n == 0 || n >= sizeof lang) luaL_error(L, "%s: name the file after its language (tr.json, en.json)", f->name);
    memcpy(lang, f->name + 5, n);
    lang[n] = 0;
    if (!i18n) {
      if (lua_getfield(L, spec, "i18n") != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_setfield(L, spec, "i18n");
      }
      i18n = lua_gettop(L);
    }
    cJSON *j = cJSON_ParseWithLength(f->text, f->len);
    if (!cJSON_IsObject(j)) {
      cJSON_Delete(j);
      luaL_error(L, "%s is not a JSON object of strings", f->name);
    }
    lua_pushcfunction(L, push_strings);
    lua_pushlightuserdata(L, j);
    lua_pushlightuserdata(L, lang);
    lua_pushvalue(L, i18n);
    int rc = lua_pcall(L, 3, 0, 0);
    cJSON_Delete(j);
    if (rc != LUA_OK) lua_error(L);
  }
  if (i18n) lua_pop(L, 1);
}
