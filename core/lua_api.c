/* The destek module: what a Lua plugin gets from require "destek".
 *
 * Every plugin has its own module table; each function carries the plugin's slot as an upvalue, so the plugin a
 * function acts for (its log name, the tables its SQL may write) is the one whose file required it, whoever calls
 * it (a policy of plugin B decided from plugin A still writes only B's tables).
 *
 * A C function here never raises a Lua error while it holds memory or an SQLite statement: results that need Lua
 * allocations are pushed through lh_protect, the resource is released, then the error (if any) is raised. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bus.h"
#include "db.h"
#include "http.h"
#include "jbuf.h"
#include "log.h"
#include "lua_host_internal.h"
#include "net.h"
#include "plugin.h"
#include "settings.h"
#include "util.h"

static struct lh_state *ctx(lua_State *L, int *slot)
{
  *slot = (int)lua_tointeger(L, lua_upvalueindex(1));
  return lh_state_of(L);
}

static const char *slot_name(struct lh_state *s, int slot) { return s->slots[slot].name; }

/* Grows a declaration array by one zeroed entry (plus a zeroed terminator). */
static void *grow(void *p, int n, size_t size)
{
  char *q = realloc(p, (size_t)(n + 2) * size);
  if (!q) abort();
  memset(q + (size_t)n * size, 0, 2 * size);
  return q;
}

static void require_init(lua_State *L, struct lh_state *s, int slot, const char *fn)
{
  if (s->init_slot != slot) luaL_error(L, "destek.%s: declare it from the plugin's init (or its file's top level)", fn);
}

/* ------------------------------------------------------------------------------------------------ declarations */

static int l_route(lua_State *L)
{
  int slot;
  struct lh_state *s = ctx(L, &slot);
  require_init(L, s, slot, "route");
  const char *method = luaL_checkstring(L, 1);
  const char *path = luaL_checkstring(L, 2);
  const char *access = luaL_checkstring(L, 3);
  luaL_checktype(L, 4, LUA_TFUNCTION);
  const char *params = lua_istable(L, 5) ? NULL : luaL_optstring(L, 5, NULL), *opts = NULL;
  size_t max_body = 0;
  if (lua_istable(L, 5)) opts = lh_route_options(L, 5, &params, &max_body);   /* {params=, max_body=, uploads=} */
  char m[8];
  size_t ml = strlen(method);
  if (ml >= sizeof m) return luaL_error(L, "destek.route: unknown method '%s'", method);
  for (size_t i = 0; i <= ml; i++) m[i] = (char)toupper((unsigned char)method[i]);
  if (strcmp(m, "GET") && strcmp(m, "POST") && strcmp(m, "PUT") && strcmp(m, "PATCH") && strcmp(m, "DELETE"))
    return luaL_error(L, "destek.route: unknown method '%s' (GET, POST, PUT, PATCH or DELETE)", method);
  if (path[0] != '/' || strlen(path) > 200 || strpbrk(path, " ?#\r\n"))
    return luaL_error(L, "destek.route: '%s' is not a path pattern like /api/v1/things/{id}", path);
  if (!*access || strlen(access) > 64)
    return luaL_error(L, "destek.route: access must be \"public\", \"agent\", \"admin\" or a scope name");
  /* One copy is served to everyone who asks: only what anyone may read. */
  if (opts && lh_opt(opts, "cache", 0) && (strcmp(m, "GET") || strcmp(access, "public")))
    return luaL_error(L, "destek.route: only a public GET route (or a page) can be cached");
  /* Kept per role (or user) of the signed-in caller: the route must need one, and only reads. */
  char pmode[8];
  int pcache = opts && lh_opt_text(opts, "pcache", pmode, sizeof pmode);
  if (pcache && (strcmp(m, "GET") || !strcmp(access, "public")))
    return luaL_error(L, "destek.route: private_cache is for a GET route that needs someone signed in (a public one "
                         "takes cache)");
  if (pcache && lh_opt(opts, "cache", 0))
    return luaL_error(L, "destek.route: cache and private_cache exclude each other");
  const char *mi = util_intern(m), *pi = util_intern(path);
  lua_pushvalue(L, 4);
  int ref = luaL_ref(L, LUA_REGISTRYINDEX);
  const struct lh_bind *dup = lh_bind_find(s, LH_ROUTE, mi, pi);
  if (dup) {
    luaL_unref(L, LUA_REGISTRYINDEX, ref);
    return luaL_error(L, "destek.route: %s %s is already declared by plugin %s", m, path, slot_name(s, dup->slot));
  }
  lh_bind_add(s, LH_ROUTE, mi, pi, ref, slot);
  s->binds[s->n_binds - 1]->opts = opts;
  if (pcache && !s->slots[slot].private_owner) {
    char owner[LH_NAME_MAX + 2];
    snprintf(owner, sizeof owner, "@%s", slot_name(s, slot));
    s->slots[slot].private_owner = util_intern(owner);
  }
  if (s->collecting) {
    struct lh_decls *d = &s->slots[slot].decls;
    d->routes = grow(d->routes, d->n_routes, sizeof *d->routes);
    d->routes[d->n_routes++] = (struct destek_route){ mi, pi, lh_route_handler, util_intern(access),
                                                      params ? util_intern(params) : NULL, max_body };
  }
  return 0;
}

static int subscribe(lua_State *L, int mode)
{
  int slot;
  struct lh_state *s = ctx(L, &slot);
  const char *fn = mode == DESTEK_SYNC ? "on" : "on_async";
  require_init(L, s, slot, fn);
  const char *event = luaL_checkstring(L, 1);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  if (!*event || strlen(event) > 100) return luaL_error(L, "destek.%s: '%s' is not an event name", fn, event);
  char key[200];
  snprintf(key, sizeof key, "%s:%s:%s#%d", slot_name(s, slot), fn, event, ++s->slots[slot].n_on);
  const char *ki = util_intern(key);
  lua_pushvalue(L, 2);
  int ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lh_bind_add(s, mode == DESTEK_SYNC ? LH_ON : LH_ON_ASYNC, ki, NULL, ref, slot);
  if (s->collecting) {
    struct lh_decls *d = &s->slots[slot].decls;
    d->subs = grow(d->subs, d->n_subs, sizeof *d->subs);
    d->subs[d->n_subs++] = (struct lh_sub_decl){ util_intern(event), mode, ki };
  }
  return 0;
}

static int l_on(lua_State *L) { return subscribe(L, DESTEK_SYNC); }
static int l_on_async(lua_State *L) { return subscribe(L, DESTEK_ASYNC); }

static int l_every(lua_State *L)
{
  int slot;
  struct lh_state *s = ctx(L, &slot);
  require_init(L, s, slot, "every");
  lua_Integer seconds = luaL_checkinteger(L, 1);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  if (seconds < 1 || seconds > 366 * 86400) return luaL_error(L, "destek.every: seconds must be from 1 to a year");
  int n = ++s->slots[slot].n_every;
  char key[120], job[32];
  snprintf(key, sizeof key, "%s:every#%d", slot_name(s, slot), n);
  snprintf(job, sizeof job, "every_%d", n);
  const char *ki = util_intern(key);
  lua_pushvalue(L, 2);
  lh_bind_add(s, LH_EVERY, ki, NULL, luaL_ref(L, LUA_REGISTRYINDEX), slot);
  if (s->collecting) {
    struct lh_decls *d = &s->slots[slot].decls;
    d->jobs = grow(d->jobs, d->n_jobs, sizeof *d->jobs);
    d->jobs[d->n_jobs++] = (struct lh_job_decl){ util_intern(job), (int)seconds, ki };
  }
  return 0;
}

static int l_policy(lua_State *L)
{
  int slot;
  struct lh_state *s = ctx(L, &slot);
  require_init(L, s, slot, "policy");
  const char *name = luaL_checkstring(L, 1);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  if (!*name || strlen(name) > 100) return luaL_error(L, "destek.policy: '%s' is not a policy name", name);
  lua_pushvalue(L, 2);
  const char *ni = util_intern(name);
  lh_bind_add(s, LH_POLICY, ni, NULL, luaL_ref(L, LUA_REGISTRYINDEX), slot);
  if (s->collecting) {
    struct lh_decls *d = &s->slots[slot].decls;
    d->policies = grow(d->policies, d->n_policies, sizeof *d->policies);
    d->policies[d->n_policies++] = ni;
  }
  return 0;
}

/* decide(name, ...): the values the policy returns, or nothing when no plugin defines it. */
static int l_decide(lua_State *L)
{
  int slot;
  struct lh_state *s = ctx(L, &slot);
  const char *name = luaL_checkstring(L, 1);
  struct lh_bind *b = lh_bind_find(s, LH_POLICY, name, NULL);
  if (!b) return 0;
  lua_rawgeti(L, LUA_REGISTRYINDEX, b->ref);
  lua_replace(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

/* ------------------------------------------------------------------------------------------------ within a call */

static int l_emit(lua_State *L)
{
  int slot;
  struct lh_state *s = ctx(L, &slot);
  const char *event = luaL_checkstring(L, 1);
  int pt = lua_type(L, 2);
  luaL_argexpected(L, pt == LUA_TTABLE || pt == LUA_TNIL || pt == LUA_TNONE, 2, "table");
  const char *subject = luaL_optstring(L, 3, NULL);
  if (!s->call) return luaL_error(L, "destek.emit: not inside a call (a route, event handler, job or policy)");
  const char *owner;
  if (!lh_may_emit(s, slot, event, &owner)) {
    const char *p = slot_name(s, slot);
    char noun[64];
    snprintf(noun, sizeof noun, "%.*s", (int)strcspn(event, "."), event);
    if (owner)   /* luaL_error knows no %.*s */
      return luaL_error(L, "destek.emit: plugin %s may not emit %s (the event noun %s belongs to %s): a plugin emits"
                           " only %s.<verb> and the nouns its table declares in events = {...}", p, event, noun, owner,
                        p);
    return luaL_error(L, "destek.emit: plugin %s may not emit %s: a plugin emits only %s.<verb> and the nouns its"
                         " table declares in events = {...}", p, event, p);
  }
  char err[256];
  cJSON *payload = pt == LUA_TTABLE ? lh_to_json(L, 2, err, sizeof err) : cJSON_CreateObject();
  if (!payload) return luaL_error(L, "destek.emit: the payload %s", err);
  if (!cJSON_IsObject(payload)) {
    cJSON_Delete(payload);
    return luaL_error(L, "destek.emit: the payload must be a table with named fields (a JSON object)");
  }
  lua_State *saved = s->running;
  s->running = L;
  int rc = bus_emit(s->call, event, subject, payload);
  s->running = saved;
  lh_check_killed(L);
  if (rc == 0) return 0;
  char msg[512] = "the event was refused";
  const cJSON *e = cJSON_GetObjectItemCaseSensitive(s->call->out_json, "error");
  const char *m = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "message"));
  if (m) snprintf(msg, sizeof msg, "%s", m);
  if (rc == 422) {
    lh_push_veto(L, msg);
    return lua_error(L);
  }
  return luaL_error(L, "destek.emit %s: %s", event, msg);
}

struct owned_text { char *text; int type; };

static int push_setting(lua_State *L)
{
  struct owned_text *o = lua_touserdata(L, 1);
  if (o->type == DESTEK_SETTING_INT) {
    char *end;
    long long v = strtoll(o->text, &end, 10);
    if (*o->text && !*end) lua_pushinteger(L, (lua_Integer)v);
    else lua_pushnil(L);
  } else if (o->type == DESTEK_SETTING_BOOL) {
    lua_pushboolean(L, !strcmp(o->text, "true") || !strcmp(o->text, "1"));
  } else {
    lua_pushstring(L, o->text);
  }
  return 1;
}

/* setting(name): the value (typed for settings a Lua plugin declared, text otherwise), or nil when unknown. A plugin
 * reads all of its own settings and the settings of others (the core, C modules, other Lua plugins) that are not
 * secret: another owner's secret (mail.smtp_password, a partner's API key) raises an error. */
static int l_setting(lua_State *L)
{
  int slot;
  struct lh_state *s = ctx(L, &slot);
  const char *name = luaL_checkstring(L, 1);
  int secret;
  const char *owner = settings_owner(name, &secret);
  if (owner && secret && strcmp(owner, slot_name(s, slot)) != 0)
    return luaL_error(L, "destek.setting: %s is a secret setting of %s: a plugin reads its own settings and only the"
                         " settings of others that are not secret", name, owner);
  struct owned_text o = { settings_get_new(name), lh_setting_type(s, name) };
  if (!o.text) {
    lua_pushnil(L);
    return 1;
  }
  int rc = lh_protect(L, push_setting, &o, 1);
  free(o.text);
  if (rc != LUA_OK) return lua_error(L);
  return 1;
}

static const char *call_lang(struct lh_state *s) { return http_lang(s->call); }

/* Pushes i18n[lang][key] of the plugin's table when it is a string; returns 1 if it did. */
static int lookup_text(lua_State *L, int i18n, const char *lang, int key)
{
  if (lua_getfield(L, i18n, lang) != LUA_TTABLE) { lua_pop(L, 1); return 0; }
  lua_pushvalue(L, key);
  if (lua_gettable(L, -2) != LUA_TSTRING) { lua_pop(L, 2); return 0; }
  lua_remove(L, -2);
  return 1;
}

/* t(key[, lang]): the plugin's text for key in lang (default: the caller's language), else English, else key. */
static int l_t(lua_State *L)
{
  int slot;
  struct lh_state *s = ctx(L, &slot);
  luaL_checkstring(L, 1);
  const char *lang = luaL_optstring(L, 2, NULL);
  if (!lang) lang = call_lang(s);
  lua_settop(L, 2);
  lua_rawgeti(L, LUA_REGISTRYINDEX, s->slots[slot].spec_ref);
  if (lua_type(L, -1) == LUA_TTABLE && lua_getfield(L, -1, "i18n") == LUA_TTABLE) {
    int i18n = lua_gettop(L);
    if (lookup_text(L, i18n, lang, 1) || lookup_text(L, i18n, "en", 1)) return 1;
  }
  lua_pushvalue(L, 1);
  return 1;
}

/* ------------------------------------------------------------------------------------------------ log */

static int log_at(lua_State *L, enum log_level level)
{
  int slot;
  struct lh_state *s = ctx(L, &slot);
  int n = lua_gettop(L);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (int i = 1; i <= n; i++) {
    if (i > 1) luaL_addchar(&b, ' ');
    luaL_tolstring(L, i, NULL);
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  log_msg(level, slot_name(s, slot), "%.4000s", lua_tostring(L, -1));
  lh_budget_charge(L, LH_HOOK_EVERY);   /* a log line costs a thousand instructions, and the deadline is checked */
  return 0;
}

static int l_log_info(lua_State *L) { return log_at(L, LOG_INFO); }
static int l_log_warn(lua_State *L) { return log_at(L, LOG_WARN); }
static int l_log_error(lua_State *L) { return log_at(L, LOG_ERROR); }

/* ------------------------------------------------------------------------------------------------ json */

static int push_owned_string(lua_State *L)
{
  lua_pushstring(L, lua_touserdata(L, 1));
  return 1;
}

static int l_json_encode(lua_State *L)
{
  luaL_checkany(L, 1);
  char err[256];
  cJSON *j = lh_to_json(L, 1, err, sizeof err);
  if (!j) return luaL_error(L, "json.encode: %s", err);
  char *text = cJSON_PrintUnformatted(j);
  cJSON_Delete(j);
  if (!text) return luaL_error(L, "json.encode: out of memory");
  int rc = lh_protect(L, push_owned_string, text, 1);
  cJSON_free(text);
  if (rc != LUA_OK) return lua_error(L);
  lh_budget_charge(L, LH_HOOK_EVERY);   /* and the deadline is checked */
  return 1;
}

static int push_json_ud(lua_State *L)
{
  lh_push_json(L, lua_touserdata(L, 1));
  return 1;
}

/* An upper bound of the bytes cJSON allocates to parse text: a node per value (a value starts the text, or
 * follows '[', '{', ',' or ':' outside strings, where a key's copy also goes) and copies of the strings. */
static size_t json_parse_cost(const char *text, size_t len)
{
  size_t values = 1;
  int in_string = 0;
  for (size_t i = 0; i < len; i++) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') i++;
      else if (c == '"') in_string = 0;
    } else if (c == '"') {
      in_string = 1;
    } else if (c == ',' || c == '[' || c == '{' || c == ':') {
      values++;
    }
  }
  return values * (sizeof(cJSON) + 32) + len;
}

/* json.decode(text): the value, or nil and a message. JSON null becomes json.null. What cJSON builds (outside the
 * state's allocator) must fit in the memory the state may still use. */
static int l_json_decode(lua_State *L)
{
  int slot;
  struct lh_state *s = ctx(L, &slot);
  size_t len;
  const char *text = luaL_checklstring(L, 1, &len);
  lh_budget_charge(L, (long)(len / 8));
  if (json_parse_cost(text, len) > (s->mem < s->mem_limit ? s->mem_limit - s->mem : 0))
    return luaL_error(L, "json.decode: the text is too big to decode within the %d MiB a plugin state may use",
                      (int)(s->mem_limit >> 20));
  const char *end = NULL;
  cJSON *j = cJSON_ParseWithLengthOpts(text, len, &end, 0);
  if (!j) {
    lua_pushnil(L);
    lua_pushfstring(L, "invalid JSON near byte %d", end ? (int)(end - text) : 0);
    return 2;
  }
  int rc = lh_protect(L, push_json_ud, j, 1);
  cJSON_Delete(j);
  if (rc != LUA_OK) return lua_error(L);
  return 1;
}

/* json.array([t]): marks t (or a new table) to be encoded as a JSON array even when empty. */
static int l_json_array(lua_State *L)
{
  if (lua_isnoneornil(L, 1)) {
    lua_settop(L, 0);
    lua_newtable(L);
  }
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  lh_mark_array(L, 1);
  return 1;
}

/* ------------------------------------------------------------------------------------------------ SQL */

/* The rules (the authorizer) and migrations are lua_sql.c's; here are the functions a plugin calls. */
static __thread sqlite3 *tl_reader_ready;

static int progress(void *ud)
{
  struct lh_state *s = ud;
  return s->depth > 0 && util_mono() > s->deadline && lh_deadline_passed(s);
}

/* Binds arguments first.. as ?1..; 0, or -1 with err filled. */
static int bind_args(lua_State *L, sqlite3_stmt *st, int first, char *err, size_t errlen)
{
  int n = lua_gettop(L) - first + 1, want = sqlite3_bind_parameter_count(st);
  if (n < 0) n = 0;
  if (n != want) {
    snprintf(err, errlen, "the SQL has %d parameter%s, %d value%s given", want, want == 1 ? "" : "s", n,
             n == 1 ? "" : "s");
    return -1;
  }
  for (int i = 0; i < n; i++) {
    int idx = first + i, rc;
    switch (lua_type(L, idx)) {
    case LUA_TNIL: rc = sqlite3_bind_null(st, i + 1); break;
    case LUA_TBOOLEAN: rc = sqlite3_bind_int(st, i + 1, lua_toboolean(L, idx)); break;
    case LUA_TNUMBER:
      rc = lua_isinteger(L, idx) ? sqlite3_bind_int64(st, i + 1, lua_tointeger(L, idx))
                                 : sqlite3_bind_double(st, i + 1, lua_tonumber(L, idx));
      break;
    case LUA_TSTRING: {
      size_t len;
      const char *v = lua_tolstring(L, idx, &len);
      rc = sqlite3_bind_text(st, i + 1, v, (int)len, SQLITE_TRANSIENT);
      break;
    }
    case LUA_TLIGHTUSERDATA:
      if (!lua_touserdata(L, idx)) { rc = sqlite3_bind_null(st, i + 1); break; }
      /* fall through */
    default:
      snprintf(err, errlen, "parameter %d is a %s; bind nil, booleans, numbers or strings", i + 1,
               luaL_typename(L, idx));
      return -1;
    }
    if (rc != SQLITE_OK) {
      snprintf(err, errlen, "cannot bind parameter %d: %s", i + 1, sqlite3_errstr(rc));
      return -1;
    }
  }
  return 0;
}

/* A plugin's statement: where it runs, and its key in the connection's statement cache (db_keyed_take). The tag names
 * the plugin and the rules it was compiled under (db.query's or db.exec's), so a statement is only ever reused by the
 * plugin, and in the mode, that prepared it; the authorizer checked it then, and checks it again whenever SQLite
 * compiles it anew (a schema change), because its rights are in force around every step. */
struct plugin_sql {
  struct db *db;
  const char *sql;
  size_t len;
  unsigned long gen;   /* lh_sql_rules_gen when it was taken or prepared */
  char tag[LH_NAME_MAX + 3];
};

/* Ends a plugin's statement (st may be NULL): back into the cache when keep (it ran to its end, or stopped on a
 * constraint), else finalized; its bounds and rights lifted. On the writer, a statement that SQLite answered by
 * rolling back the whole transaction (an interrupted write, out of memory) leaves the call's batch lost
 * (db_tx_check): nothing the call wrote, or writes after, commits. Returns 1 then. */
static int sql_done(struct plugin_sql *ps, sqlite3_stmt *st, int keep)
{
  if (!keep) sqlite3_finalize(st);
  else sqlite3_reset(st);
  int over = lh_sql_unbound(db_handle(ps->db));
  lh_sql_leave();
  int lost = db_tx_check(ps->db);
  if (keep && st && !over && !lost) db_keyed_put(ps->db, ps->tag, ps->sql, ps->len, ps->gen, st);
  else if (keep) sqlite3_finalize(st);
  return lost;
}

#define LOST_TEXT "; SQLite rolled back the call's transaction, so nothing the call writes is kept"

/* Prepares exactly one statement of sql on ps->db in mode (LH_SQL_QUERY or LH_SQL_EXEC), for the plugin, or takes
 * the one it prepared before from the connection's cache. NULL with err filled on failure. On success the plugin's
 * rights stay in force until the caller has ended the statement with sql_done: sqlite3_step compiles it again after
 * a schema change, and must do so under the same rights. */
static sqlite3_stmt *prepare(struct plugin_sql *ps, const char *plugin, int mode, const char *sql, size_t len,
                             char *err, size_t errlen)
{
  sqlite3 *h = db_handle(ps->db);
  ps->sql = sql;
  ps->len = len;
  snprintf(ps->tag, sizeof ps->tag, "%c:%s", mode == LH_SQL_QUERY ? 'q' : 'x', plugin);
  ps->gen = lh_sql_rules_gen();
  lh_sql_enter(plugin, mode);
  sqlite3_stmt *st = db_keyed_take(ps->db, ps->tag, sql, len, ps->gen);
  lh_sql_bound(h, LH_SQL_MEMORY);
  if (st) return st;
  sqlite3_stmt *extra = NULL;
  const char *tail = NULL;
  int rc = sqlite3_prepare_v3(h, sql, (int)len, SQLITE_PREPARE_PERSISTENT, &st, &tail);
  if (rc == SQLITE_OK && tail && tail < sql + len) {
    int rc2 = sqlite3_prepare_v2(h, tail, (int)(sql + len - tail), &extra, NULL);
    if (rc2 != SQLITE_OK || extra) {
      sqlite3_finalize(extra);
      sql_done(ps, st, 0);
      snprintf(err, errlen, "one SQL statement at a time");
      return NULL;
    }
  }
  if (rc != SQLITE_OK) {
    lh_sql_why(sqlite3_errmsg(h), err, errlen);
    sql_done(ps, st, 0);
    return NULL;
  }
  if (!st) {
    sql_done(ps, NULL, 0);
    snprintf(err, errlen, "no SQL statement");
  }
  return st;
}

static int query_rows(lua_State *L)
{
  sqlite3_stmt *st = lua_touserdata(L, 1);
  int cols = sqlite3_column_count(st), rc;
  lua_newtable(L);
  lua_Integer n = 0;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    lua_createtable(L, 0, cols);
    for (int i = 0; i < cols; i++) {
      switch (sqlite3_column_type(st, i)) {
      case SQLITE_INTEGER: lua_pushinteger(L, (lua_Integer)sqlite3_column_int64(st, i)); break;
      case SQLITE_FLOAT: lua_pushnumber(L, sqlite3_column_double(st, i)); break;
      case SQLITE_NULL: continue;
      default:
        lua_pushlstring(L, (const char *)sqlite3_column_blob(st, i), (size_t)sqlite3_column_bytes(st, i));
        break;
      }
      lua_setfield(L, -2, sqlite3_column_name(st, i));
    }
    lua_rawseti(L, -2, ++n);
  }
  lh_mark_array(L, -1);
  if (rc == SQLITE_INTERRUPT) return luaL_error(L, "db.query ran past the time limit");
  if (rc != SQLITE_DONE) {
    char err[700];
    lh_sql_why(sqlite3_errmsg(sqlite3_db_handle(st)), err, sizeof err);   /* it may have been compiled again */
    return luaL_error(L, "db.query: %s", err);
  }
  return 1;
}

/* db.query(sql, ...): rows as an array of tables keyed by column name (NULL columns are absent). Reads only. */
/* The read statement of db.query / db.json (what: their name in errors): argument 1 prepared on the call's connection
 * (or this thread's reader), refused unless it only reads, the rest bound. Raises a Lua error on any failure. */
static sqlite3_stmt *read_statement(lua_State *L, struct lh_state *s, int slot, const char *what, struct plugin_sql *ps)
{
  size_t len;
  const char *sql = luaL_checklstring(L, 1, &len);
  ps->db = s->call ? http_db(s->call) : db_reader();
  if (!ps->db) luaL_error(L, "%s: the database is not available", what);
  sqlite3 *h = db_handle(ps->db);
  if (!(s->call && s->call->tx) && h != tl_reader_ready) {
    lh_sql_install(h);
    tl_reader_ready = h;
  }
  char err[700];
  sqlite3_stmt *st = prepare(ps, slot_name(s, slot), LH_SQL_QUERY, sql, len, err, sizeof err);
  if (!st) luaL_error(L, "%s: %s", what, err);
  if (!sqlite3_stmt_readonly(st)) {
    sql_done(ps, st, 0);
    luaL_error(L, "%s runs reads only; write with db.exec", what);
  }
  if (bind_args(L, st, 2, err, sizeof err) != 0) {
    sql_done(ps, st, 1);
    luaL_error(L, "%s: %s", what, err);
  }
  return st;
}

static int l_db_query(lua_State *L)
{
  int slot;
  struct lh_state *s = ctx(L, &slot);
  struct plugin_sql ps = { 0 };
  sqlite3_stmt *st = read_statement(L, s, slot, "db.query", &ps);
  sqlite3 *h = db_handle(ps.db);
  sqlite3_progress_handler(h, 1000, progress, s);
  int rc = lh_protect(L, query_rows, st, 1);
  sqlite3_progress_handler(h, 0, NULL, NULL);
  if (sql_done(&ps, st, rc == LUA_OK) && rc != LUA_OK && lua_type(L, -1) == LUA_TSTRING) {
    lua_pushliteral(L, LOST_TEXT);
    lua_concat(L, 2);
  }
  if (rc != LUA_OK) return lua_error(L);
  return 1;
}

/* db.json(sql, ...): the rows as the text of a JSON array of objects, written in one C pass over the statement (no
 * Lua table per row, no json_object() in SQL), its number of rows, and the first column of the last row (nil when
 * there is none): the keyset cursor of a page. Keys are the column names as the statement names them; integers and
 * reals as numbers, text as strings, NULL as null. A column named "name:bool" is written as "name" true/false
 * (0 false, any other number true; NULL null); "name:json" is JSON text put in as it is, after checking that it is
 * one JSON value (NULL null); "name:min" is left out of the objects, and its smallest number over the rows (nil when
 * none) is returned after the last row's first column, one result per such column in order. A blob is refused. The text may be at most what the state's memory has left. */
struct json_rows {
  sqlite3_stmt *st;
  struct jbuf *b;
  size_t max;
  lua_Integer n;
  int last_type;          /* the last row's first column: SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT or SQLITE_NULL */
  int64_t last_int;
  double last_real;
  struct jbuf last_text;
  int n_min;              /* ":min" columns: left out of the objects, their smallest number over the rows returned */
  int min_col[8];
  int min_have[8], min_real[8];
  int64_t min_int[8];
  double min_dbl[8];
  char err[200];
};

enum { JCOL_PLAIN, JCOL_BOOL, JCOL_JSON, JCOL_MIN };

static int json_rows_step(struct json_rows *j)
{
  sqlite3_stmt *st = j->st;
  int cols = sqlite3_column_count(st), rc;
  if (cols > 200) { snprintf(j->err, sizeof j->err, "at most 200 columns"); return SQLITE_ERROR; }
  char *keys[200];
  size_t key_len[200];
  int kind[200];
  struct jbuf names;
  jbuf_init(&names, 512);
  size_t offs[200];
  for (int i = 0; i < cols; i++) {   /* each key as it is written: ",\"name\":" (the first without the comma) */
    const char *name = sqlite3_column_name(st, i);
    size_t len = name ? strlen(name) : 0;
    kind[i] = JCOL_PLAIN;
    if (len > 5 && !strcmp(name + len - 5, ":bool")) { kind[i] = JCOL_BOOL; len -= 5; }
    else if (len > 5 && !strcmp(name + len - 5, ":json")) { kind[i] = JCOL_JSON; len -= 5; }
    else if (len > 4 && !strcmp(name + len - 4, ":min")) {
      if (j->n_min == 8) {
        snprintf(j->err, sizeof j->err, "at most 8 :min columns");
        jbuf_free(&names);
        return SQLITE_ERROR;
      }
      kind[i] = JCOL_MIN;
      j->min_col[j->n_min++] = i;
    }
    offs[i] = names.len;
    JBUF_LIT(&names, ",");
    jbuf_strn(&names, name ? name : "", len);
    JBUF_LIT(&names, ":");
    key_len[i] = names.len - offs[i];
  }
  for (int i = 0; i < cols; i++) keys[i] = names.data + offs[i];
  JBUF_LIT(j->b, "[");
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    struct jbuf *b = j->b;
    if (j->n++) JBUF_LIT(b, ",");
    JBUF_LIT(b, "{");
    int wrote = 0;
    for (int i = 0; i < cols; i++) {
      int type = sqlite3_column_type(st, i);
      if (kind[i] == JCOL_MIN) {
        int m = 0;
        while (j->min_col[m] != i) m++;
        if (type == SQLITE_INTEGER && !j->min_real[m]) {
          int64_t v = (int64_t)sqlite3_column_int64(st, i);
          if (!j->min_have[m] || v < j->min_int[m]) j->min_int[m] = v;
          j->min_have[m] = 1;
        } else if (type == SQLITE_INTEGER || type == SQLITE_FLOAT) {
          double v = sqlite3_column_double(st, i);
          if (!j->min_real[m]) { j->min_dbl[m] = (double)j->min_int[m]; j->min_real[m] = 1; }
          if (!j->min_have[m] || v < j->min_dbl[m]) j->min_dbl[m] = v;
          j->min_have[m] = 1;
        } else if (type != SQLITE_NULL) {
          snprintf(j->err, sizeof j->err, "column %.100s: a :min column must be a number", sqlite3_column_name(st, i));
          rc = SQLITE_ERROR;
          goto out;
        }
        continue;
      }
      if (wrote++) jbuf_raw(b, keys[i], key_len[i]);
      else jbuf_raw(b, keys[i] + 1, key_len[i] - 1);
      if (type == SQLITE_NULL) { jbuf_null(b); continue; }
      if (kind[i] == JCOL_BOOL) {
        if (type == SQLITE_INTEGER || type == SQLITE_FLOAT) { jbuf_bool(b, sqlite3_column_double(st, i) != 0); continue; }
        snprintf(j->err, sizeof j->err, "column %.100s: a :bool column must be a number", sqlite3_column_name(st, i));
        rc = SQLITE_ERROR;
        goto out;
      }
      if (kind[i] == JCOL_JSON) {
        if (type != SQLITE_TEXT) {
          snprintf(j->err, sizeof j->err, "column %.100s: a :json column must be text", sqlite3_column_name(st, i));
          rc = SQLITE_ERROR;
          goto out;
        }
        const char *t = (const char *)sqlite3_column_text(st, i), *end = NULL;
        size_t len = (size_t)sqlite3_column_bytes(st, i);
        cJSON *v = cJSON_ParseWithLengthOpts(t, len, &end, 0);
        int whole = v != NULL;
        if (v) while (end < t + len && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')) end++;
        cJSON_Delete(v);
        if (!whole || end != t + len) {
          snprintf(j->err, sizeof j->err, "column %.100s: not one JSON value", sqlite3_column_name(st, i));
          rc = SQLITE_ERROR;
          goto out;
        }
        jbuf_raw(b, t, len);
        continue;
      }
      switch (type) {
      case SQLITE_INTEGER: jbuf_int(b, (int64_t)sqlite3_column_int64(st, i)); break;
      case SQLITE_FLOAT: {
        double d = sqlite3_column_double(st, i);
        char num[32];
        if (d != d || d > 1.7976931348623157e308 || d < -1.7976931348623157e308) { jbuf_null(b); break; }
        int len = snprintf(num, sizeof num, "%1.15g", d);
        if (strtod(num, NULL) != d) len = snprintf(num, sizeof num, "%1.17g", d);   /* as cJSON prints it */
        jbuf_raw(b, num, (size_t)len);
        break;
      }
      case SQLITE_TEXT:
        jbuf_strn(b, (const char *)sqlite3_column_text(st, i), (size_t)sqlite3_column_bytes(st, i));
        break;
      default:
        snprintf(j->err, sizeof j->err, "column %.100s is a blob: JSON has no bytes", sqlite3_column_name(st, i));
        rc = SQLITE_ERROR;
        goto out;
      }
    }
    JBUF_LIT(b, "}");
    j->last_type = cols ? sqlite3_column_type(st, 0) : SQLITE_NULL;
    if (j->last_type == SQLITE_INTEGER) j->last_int = (int64_t)sqlite3_column_int64(st, 0);
    else if (j->last_type == SQLITE_FLOAT) j->last_real = sqlite3_column_double(st, 0);
    else if (j->last_type == SQLITE_TEXT) {
      j->last_text.len = 0;
      jbuf_raw(&j->last_text, (const char *)sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0));
    }
    if (b->len > j->max) {
      snprintf(j->err, sizeof j->err, "the rows' JSON is larger than the memory the plugin has left");
      rc = SQLITE_ERROR;
      goto out;
    }
  }
  JBUF_LIT(j->b, "]");
out:
  jbuf_free(&names);
  return rc;
}

static int push_json_rows(lua_State *L)
{
  struct json_rows *j = lua_touserdata(L, 1);
  lua_pushlstring(L, j->b->data, j->b->len);
  lua_pushinteger(L, j->n);
  switch (j->last_type) {
  case SQLITE_INTEGER: lua_pushinteger(L, (lua_Integer)j->last_int); break;
  case SQLITE_FLOAT: lua_pushnumber(L, j->last_real); break;
  case SQLITE_TEXT: lua_pushlstring(L, j->last_text.data, j->last_text.len); break;
  default: lua_pushnil(L);
  }
  for (int m = 0; m < j->n_min; m++) {
    if (!j->min_have[m]) lua_pushnil(L);
    else if (j->min_real[m]) lua_pushnumber(L, j->min_dbl[m]);
    else lua_pushinteger(L, (lua_Integer)j->min_int[m]);
  }
  return 3 + j->n_min;
}

static int l_db_json(lua_State *L)
{
  int slot;
  struct lh_state *s = ctx(L, &slot);
  struct plugin_sql ps = { 0 };
  sqlite3_stmt *st = read_statement(L, s, slot, "db.json", &ps);
  sqlite3 *h = db_handle(ps.db);
  char err[700];
  struct jbuf b;
  jbuf_init(&b, 4096);
  struct json_rows j = { .st = st, .b = &b, .max = s->mem < s->mem_limit ? (s->mem_limit - s->mem) / 2 : 0,
                        .last_type = SQLITE_NULL };
  jbuf_init(&j.last_text, 64);
  sqlite3_progress_handler(h, 1000, progress, s);
  int rc = json_rows_step(&j);
  sqlite3_progress_handler(h, 0, NULL, NULL);
  if (rc != SQLITE_DONE) {
    if (!j.err[0] && rc != SQLITE_INTERRUPT) lh_sql_why(sqlite3_errmsg(h), err, sizeof err);
    const char *lost = sql_done(&ps, st, 0) ? LOST_TEXT : "";
    jbuf_free(&b);
    jbuf_free(&j.last_text);
    if (rc == SQLITE_INTERRUPT) return luaL_error(L, "db.json ran past the time limit%s", lost);
    return luaL_error(L, "db.json: %s%s", j.err[0] ? j.err : err, lost);
  }
  sql_done(&ps, st, 1);
  size_t written = b.len;
  rc = lh_protect(L, push_json_rows, &j, 3 + j.n_min);
  jbuf_free(&b);
  jbuf_free(&j.last_text);
  if (rc != LUA_OK) return lua_error(L);
  lh_budget_charge(L, (long)(written / 8) + 100);   /* may raise: nothing of ours is held any more */
  return 3 + j.n_min;
}

/* db.exec(sql, ...): {changes=, last_id=} (last_id for INSERT and REPLACE); nil, message, "constraint" on a constraint violation. Writes go into
 * the call's transaction and only to the plugin's own tables. */
static int l_db_exec(lua_State *L)
{
  int slot;
  struct lh_state *s = ctx(L, &slot);
  size_t len;
  const char *sql = luaL_checklstring(L, 1, &len);
  if (!s->call)
    return luaL_error(L, "db.exec: not inside a call (a route, event handler or job); put fixed data in migrations");
  double t0 = util_mono();
  struct db *w = http_tx(s->call);
  lh_pause_credit(s, util_mono() - t0);
  if (!w) return luaL_error(L, "db.exec: the database is busy");
  sqlite3 *h = db_handle(w);
  char err[700];
  struct plugin_sql ps = { .db = w };
  sqlite3_stmt *st = prepare(&ps, slot_name(s, slot), LH_SQL_EXEC, sql, len, err, sizeof err);
  if (!st) return luaL_error(L, "db.exec: %s", err);
  if (bind_args(L, st, 2, err, sizeof err) != 0) {
    sql_done(&ps, st, 1);
    return luaL_error(L, "db.exec: %s", err);
  }
  const char *p = sql;
  while (isspace((unsigned char)*p)) p++;
  int inserts = !strncasecmp(p, "INSERT", 6) || !strncasecmp(p, "REPLACE", 7);
  sqlite3_progress_handler(h, 1000, progress, s);
  sqlite3_int64 before = sqlite3_total_changes64(h);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {}
  sqlite3_progress_handler(h, 0, NULL, NULL);
  /* rows changed (its triggers' too), even by a statement that failed after: its private_cache answers go */
  if (s->slots[slot].private_owner && sqlite3_total_changes64(h) != before) lh_cache_written(s, slot);
  if (rc != SQLITE_DONE) lh_sql_why(sqlite3_errmsg(h), err, sizeof err);   /* it may have been compiled again */
  const char *lost = sql_done(&ps, st, rc == SQLITE_DONE || (rc & 0xff) == SQLITE_CONSTRAINT) ? LOST_TEXT : "";
  if ((rc & 0xff) == SQLITE_CONSTRAINT) {
    lua_pushnil(L);
    lua_pushstring(L, err);
    lua_pushliteral(L, "constraint");
    return 3;
  }
  if (rc == SQLITE_INTERRUPT) return luaL_error(L, "db.exec ran past the time limit%s", lost);
  if (rc != SQLITE_DONE) return luaL_error(L, "db.exec: %s%s", err, lost);
  lua_createtable(L, 0, 2);
  lua_pushinteger(L, (lua_Integer)sqlite3_changes(h));
  lua_setfield(L, -2, "changes");
  if (inserts) {
    lua_pushinteger(L, (lua_Integer)sqlite3_last_insert_rowid(h));
    lua_setfield(L, -2, "last_id");
  }
  return 1;
}

/* ------------------------------------------------------------------------------------------------ http */

static int push_response(lua_State *L)
{
  const struct net_response *resp = lua_touserdata(L, 1);
  lua_createtable(L, 0, 3);
  lua_pushinteger(L, resp->status);
  lua_setfield(L, -2, "status");
  lua_pushlstring(L, resp->body ? resp->body : "", resp->body ? resp->body_len : 0);
  lua_setfield(L, -2, "body");
  lua_newtable(L);
  for (const char *p = resp->headers; p && *p;) {
    const char *eol = strchr(p, '\n');
    size_t n = eol ? (size_t)(eol - p) : strlen(p);
    const char *colon = memchr(p, ':', n);
    if (colon && colon > p && strncmp(p, "HTTP/", 5) != 0) {
      luaL_Buffer b;
      luaL_buffinit(L, &b);
      for (const char *c = p; c < colon; c++) luaL_addchar(&b, (char)tolower((unsigned char)*c));
      luaL_pushresult(&b);
      const char *v = colon + 1, *end = p + n;
      while (v < end && (*v == ' ' || *v == '\t')) v++;
      while (end > v && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t')) end--;
      lua_pushlstring(L, v, (size_t)(end - v));
      lua_settable(L, -3);
    }
    p += n + (eol ? 1 : 0);
  }
  lua_setfield(L, -2, "headers");
  return 1;
}

static int header_ok(const char *s, int name)
{
  if (!*s && name) return 0;
  for (; *s; s++)
    if (*s == '\r' || *s == '\n' || (name && (*s == ':' || *s == ' '))) return 0;
  return 1;
}

/* http.request{method=, url=, headers={name=value}, body=string|table, timeout=seconds}: {status, body, headers}
 * (header names lower-cased), or nil and a message. A table body is sent as JSON. Not while the call holds the
 * database writer: a slow server would stall every write. */
static int l_http_request(lua_State *L)
{
  int slot;
  struct lh_state *s = ctx(L, &slot);
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  if (s->call && s->call->tx)
    return luaL_error(L, "http.request: not after db.exec or emit in the same call (the database writer would wait"
                         " on the network); call out first, or from destek.on_async");
  lua_getfield(L, 1, "url");                                     /* 2 */
  const char *url = lua_tostring(L, 2);
  if (!url) return luaL_error(L, "http.request: url is required");
  lua_getfield(L, 1, "body");                                    /* 3 */
  int json_body = lua_type(L, 3) == LUA_TTABLE;
  if (json_body) {
    char err[256];
    cJSON *j = lh_to_json(L, 3, err, sizeof err);
    if (!j) return luaL_error(L, "http.request: body %s", err);
    char *text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    int rc = lh_protect(L, push_owned_string, text, 1);
    cJSON_free(text);
    if (rc != LUA_OK) return lua_error(L);
    lua_replace(L, 3);
  } else if (!lua_isnil(L, 3) && lua_type(L, 3) != LUA_TSTRING) {
    return luaL_error(L, "http.request: body must be a string or a table");
  }
  size_t body_len = 0;
  const char *body = lua_tolstring(L, 3, &body_len);
  lua_getfield(L, 1, "method");                                  /* 4 */
  const char *method = lua_tostring(L, 4);
  if (!method) method = body ? "POST" : "GET";
  lua_getfield(L, 1, "timeout");                                 /* 5 */
  double timeout = lua_isnumber(L, 5) ? lua_tonumber(L, 5) : 10;
  if (timeout <= 0 || timeout > 30) return luaL_error(L, "http.request: timeout must be from 0 to 30 seconds");

  /* Header lines as one Lua string "Name: value\n..." at index 7 (nothing is held if building it raises). */
  lua_getfield(L, 1, "headers");                                 /* 6 */
  lua_pushliteral(L, "");                                        /* 7 */
  int has_ct = 0, n_headers = 0;
  if (lua_type(L, 6) == LUA_TTABLE) {
    lua_pushnil(L);
    while (lua_next(L, 6)) {
      if (lua_type(L, -2) != LUA_TSTRING || (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER))
        return luaL_error(L, "http.request: headers must map names to strings");
      lua_pushvalue(L, -1);                                      /* a copy: converting a number must not touch the table */
      const char *name = lua_tostring(L, -3), *value = lua_tostring(L, -1);
      char line[2048];
      if (!header_ok(name, 1) || !header_ok(value, 0) ||
          (size_t)snprintf(line, sizeof line, "%s: %s\n", name, value) >= sizeof line)
        return luaL_error(L, "http.request: header %s is malformed or too long", name);
      if (!strcasecmp(name, "content-type")) has_ct = 1;
      lua_pop(L, 2);
      lua_pushvalue(L, 7);
      lua_pushstring(L, line);
      lua_concat(L, 2);
      lua_replace(L, 7);
      n_headers++;
    }
  } else if (!lua_isnil(L, 6)) {
    return luaL_error(L, "http.request: headers must be a table");
  }
  if (json_body && !has_ct) {
    lua_pushliteral(L, "Content-Type: application/json\n");
    lua_concat(L, 2);
    n_headers++;
  }
  size_t blob_len;
  const char *blob = lua_tolstring(L, 7, &blob_len);

  char *lines = malloc(blob_len + 1);
  const char **headers = calloc((size_t)n_headers + 1, sizeof *headers);
  if (!lines || !headers) abort();
  memcpy(lines, blob, blob_len + 1);
  int k = 0;
  for (char *p = lines; *p && k < n_headers;) {
    char *nl = strchr(p, '\n');
    if (nl) *nl = 0;
    headers[k++] = p;
    if (!nl) break;
    p = nl + 1;
  }
  struct net_request req = { method, url, headers, body, body_len, (long)(timeout * 1000), 0 };
  struct net_response resp = { 0 };
  char err[512] = "";
  double t0 = util_mono();
  int rc = net_request(&req, &resp, err, sizeof err);
  lh_pause_credit(s, util_mono() - t0);
  free(headers);
  free(lines);
  if (rc != 0) {
    net_response_free(&resp);
    lua_pushnil(L);
    lua_pushstring(L, err[0] ? err : "the request failed");
    return 2;
  }
  rc = lh_protect(L, push_response, &resp, 1);
  net_response_free(&resp);
  if (rc != LUA_OK) return lua_error(L);
  return 1;
}

/* ------------------------------------------------------------------------------------------------ the module */

static const luaL_Reg top_fns[] = {
  { "route", l_route }, { "on", l_on }, { "on_async", l_on_async }, { "every", l_every },
  { "policy", l_policy }, { "decide", l_decide }, { "emit", l_emit }, { "setting", l_setting }, { "t", l_t },
  { NULL, NULL }
};
static const luaL_Reg db_fns[] = { { "query", l_db_query }, { "exec", l_db_exec }, { "json", l_db_json }, { NULL, NULL } };
static const luaL_Reg http_fns[] = { { "request", l_http_request }, { NULL, NULL } };
static const luaL_Reg json_fns[] = {
  { "encode", l_json_encode }, { "decode", l_json_decode }, { "array", l_json_array }, { NULL, NULL }
};
static const luaL_Reg log_fns[] = {
  { "info", l_log_info }, { "warn", l_log_warn }, { "error", l_log_error }, { NULL, NULL }
};

static void sub_table(lua_State *L, int slot, const char *name, const luaL_Reg *fns)
{
  lua_newtable(L);
  lua_pushinteger(L, slot);
  luaL_setfuncs(L, fns, 1);
  lua_setfield(L, -2, name);
}

void lh_push_module(lua_State *L, int slot)
{
  lua_createtable(L, 0, 16);
  lua_pushinteger(L, slot);
  luaL_setfuncs(L, top_fns, 1);
  sub_table(L, slot, "db", db_fns);
  sub_table(L, slot, "http", http_fns);
  sub_table(L, slot, "json", json_fns);
  lua_getfield(L, -1, "json");
  lua_pushlightuserdata(L, NULL);
  lua_setfield(L, -2, "null");
  lua_pop(L, 1);
  sub_table(L, slot, "log", log_fns);
  lua_pushliteral(L, DESTEK_VERSION);
  lua_setfield(L, -2, "version");
  lh_page_push(L, slot);      /* what a whole module needs: pages, files, services, timers, ... */
  lh_upload_push(L, slot);
  lh_calls_push(L, slot);
  lh_cache_push(L, slot);
}

/* Called by lua_host_thread_release: the thread's reader may be reopened at another address. */
void lh_sql_thread_release(void);
void lh_sql_thread_release(void) { tl_reader_ready = NULL; }
