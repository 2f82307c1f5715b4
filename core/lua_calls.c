/* What crosses between a Lua module and the rest of Destek, mirroring the C host table (include/destek.h):
 *
 *   services     destek.service(name, fn) publishes "<plugin>.<verb>" through core/services.c, for C and Lua modules
 *                alike; destek.call(name, args) calls any module's service in the caller's transaction (a savepoint
 *                around it: a failing service leaves nothing), returning its result or nil and an error value.
 *   timers       destek.timer(kind, fn) handles one-shot timers "<plugin>.<kind>", destek.timer_at(kind, key, when,
 *                payload) schedules one (persisted in core_timers: one that came due while the server was down fires
 *                after the restart), destek.timer_cancel(kind, key) drops it.
 *   live         destek.live.events(pattern, summarize) streams the plugin's events to agents' sockets,
 *                destek.live.subjects(prefix, check) lets them watch "<prefix>:<id>", touch/presence/forget.
 *   audit        destek.audit(action, target, detail): the core's audit log, in the call's transaction.
 *   links        destek.sign(text[, expires]) / destek.verify(text, sig): HMAC-SHA256 with a key of the plugin's own,
 *                derived from an install secret kept in core_kv (a SECRET column: no plugin reads it), so one plugin
 *                cannot forge another's links.
 *   rate limits  destek.rate(kind, key, limit, window): "at most limit of (kind, key) per window seconds", counted on
 *                the writer in the call's transaction (core/ratelimit.c); kinds are the plugin's own and keys are kept
 *                as an HMAC with the plugin's link key, so a visitor's address used as a key is not stored.
 *   errors       destek.error(status, code, message[, field]): an error value; raised (or returned) from a route or a
 *                service, it becomes the standard {"error": {...}} answer.
 *   lists        destek.cursor(req) reads ?limit and ?cursor as the core's lists do; destek.list(items, next_after)
 *                writes {items, next_cursor}.
 *   text         destek.text.fold / fts_query / snippet (the helper library's, shared with ticketing's search),
 *                destek.base64.encode / decode.
 *
 * The core reaches a Lua service, timer, summarizer or presence check through one C function per kind, with the
 * interned key "<plugin>:<kind>:<name>" as user data; each thread's state binds that key to the plugin's function. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "db.h"
#include "destek_text.h"
#include "http.h"
#include "jobs.h"
#include "live.h"
#include "log.h"
#include "lua_host_internal.h"
#include "ratelimit.h"
#include "services.h"
#include "util.h"

static const char KEY_ERROR_MT;

static struct lh_state *ctx(lua_State *L, int *slot)
{
  *slot = (int)lua_tointeger(L, lua_upvalueindex(1));
  return lh_state_of(L);
}

static const char *plugin_name(lua_State *L)
{
  int slot;
  struct lh_state *s = ctx(L, &slot);
  return s->slots[slot].name;
}

static int push_owned_string(lua_State *L)
{
  size_t *len = lua_touserdata(L, 2);
  lua_pushlstring(L, lua_touserdata(L, 1), *len);
  return 1;
}

/* Pushes p (len bytes, malloc'd) as a string and frees it, also when pushing fails. */
static void push_owned(lua_State *L, char *p, size_t len)
{
  lua_pushcfunction(L, push_owned_string);
  lua_pushlightuserdata(L, p);
  lua_pushlightuserdata(L, &len);
  int rc = lua_pcall(L, 2, 1, 0);
  free(p);
  if (rc != LUA_OK) lua_error(L);
}

static int push_json_ud(lua_State *L)
{
  lh_push_json(L, lua_touserdata(L, 1));
  return 1;
}

/* Pushes j (taken) as a Lua value. */
static void push_json_owned(lua_State *L, cJSON *j)
{
  int rc = lh_protect(L, push_json_ud, j, 1);
  cJSON_Delete(j);
  if (rc != LUA_OK) lua_error(L);
}

/* ------------------------------------------------------------------------------------------------ error values */

static void error_mt(lua_State *L);

static int error_tostring(lua_State *L)
{
  lua_getfield(L, 1, "message");
  return 1;
}

static void error_mt(lua_State *L)
{
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &KEY_ERROR_MT) == LUA_TTABLE) return;
  lua_pop(L, 1);
  lua_createtable(L, 0, 3);
  lua_pushcfunction(L, error_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushliteral(L, "error");
  lua_setfield(L, -2, "__name");
  lua_pushliteral(L, "error");
  lua_setfield(L, -2, "__metatable");
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &KEY_ERROR_MT);
}

void lh_push_error(lua_State *L, int status, const char *code, const char *message, const char *field)
{
  lua_createtable(L, 0, 4);
  lua_pushinteger(L, status);
  lua_setfield(L, -2, "status");
  lua_pushstring(L, code ? code : "error");
  lua_setfield(L, -2, "code");
  lua_pushstring(L, message ? message : "");
  lua_setfield(L, -2, "message");
  if (field) {
    lua_pushstring(L, field);
    lua_setfield(L, -2, "field");
  }
  error_mt(L);
  lua_setmetatable(L, -2);
}

static int is_error(lua_State *L, int idx)
{
  if (lua_type(L, idx) != LUA_TTABLE || !lua_getmetatable(L, idx)) return 0;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &KEY_ERROR_MT);
  int yes = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  return yes;
}

int lh_error_apply(lua_State *L, int idx, struct destek_req *r)
{
  if (!is_error(L, idx)) return 0;
  idx = lua_absindex(L, idx);
  lua_pushliteral(L, "status");
  lua_rawget(L, idx);
  int status = (int)lua_tointeger(L, -1);
  lua_pushliteral(L, "code");
  lua_rawget(L, idx);
  lua_pushliteral(L, "message");
  lua_rawget(L, idx);
  lua_pushliteral(L, "field");
  lua_rawget(L, idx);
  const char *code = lua_tostring(L, -3), *message = lua_tostring(L, -2), *field = lua_tostring(L, -1);
  if (status < 400 || status > 599) status = 500;
  http_error(r, status, code ? code : "error", "%s", message ? message : "");
  cJSON *e = cJSON_GetObjectItemCaseSensitive(r->out_json, "error");
  if (field && e) cJSON_AddStringToObject(e, "field", field);
  lua_pop(L, 4);
  return status;
}

int lh_pcall_errors(lua_State *L, int nargs, int nresults)
{
  int rc = lua_pcall(L, nargs, nresults, 0);
  if (rc == LUA_OK) return 0;
  lh_check_killed(L);
  if (rc == LUA_ERRMEM) {   /* as lh_run would say it, had the error not passed through here */
    struct lh_state *s = lh_state_of(L);
    s->killed = 1;
    snprintf(s->why, sizeof s->why, "ran out of memory (a plugin state may use %zu MiB)", s->mem_limit >> 20);
    return lua_error(L);
  }
  if (is_error(L, -1)) return 1;
  return lua_error(L);
}

/* error(status, code, message[, field]): an error value (raise it, or return it from a route). */
static int l_error(lua_State *L)
{
  lua_Integer status = luaL_checkinteger(L, 1);
  const char *code = luaL_checkstring(L, 2), *message = luaL_optstring(L, 3, ""), *field = luaL_optstring(L, 4, NULL);
  if (status < 400 || status > 599) return luaL_argerror(L, 1, "an HTTP error status (400 to 599)");
  for (const char *p = code; *p; p++)
    if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '_')
      return luaL_argerror(L, 2, "a snake_case code such as \"not_found\"");
  lh_push_error(L, (int)status, code, message, field);
  return 1;
}

/* ------------------------------------------------------------------------------------------------ declarations */

/* Whether noun is the plugin's: its name, or one of the nouns its table declares in events = {...}. */
/* Whether noun (n bytes) is slot's plugin's: its name or a noun its table declares (the same rule as emit). */
static int noun_owned(lua_State *L, struct lh_state *s, int slot, const char *noun, size_t n)
{
  (void)L;
  char event[80];
  const char *owner;
  if (n == 0 || n > 60) return 0;
  snprintf(event, sizeof event, "%.*s.x", (int)n, noun);
  return lh_may_emit(s, slot, event, &owner);
}

static int word_ok(const char *p, size_t n)
{
  if (!n) return 0;
  for (size_t i = 0; i < n; i++)
    if (!islower((unsigned char)p[i]) && !isdigit((unsigned char)p[i]) && p[i] != '_') return 0;
  return 1;
}

/* "<plugin>.<name>" of [a-z0-9_.], at most 64 bytes (services, timer kinds). */
static int owned_name(struct lh_state *s, int slot, const char *name)
{
  const char *p = s->slots[slot].name;
  size_t pl = strlen(p), n = strlen(name);
  if (n > 64 || n <= pl + 1 || strncmp(name, p, pl) || name[pl] != '.' || name[n - 1] == '.') return 0;
  for (const char *c = name; *c; c++)
    if (!islower((unsigned char)*c) && !isdigit((unsigned char)*c) && *c != '_' && *c != '.') return 0;
  return 1;
}

/* Binds the function at fn to "<plugin>:<what>:<name>" in this state and, while collecting, declares it. */
static void declare(lua_State *L, const char *fn_name, int kind, const char *what, const char *name, int fn)
{
  int slot;
  struct lh_state *s = ctx(L, &slot);
  if (s->init_slot != slot)
    luaL_error(L, "destek.%s: declare it from the plugin's init (or its file's top level)", fn_name);
  luaL_checktype(L, fn, LUA_TFUNCTION);
  char key[200];
  snprintf(key, sizeof key, "%s:%s:%s", s->slots[slot].name, what, name);
  const char *ki = util_intern(key);
  if (lh_bind_find(s, kind, ki, NULL)) luaL_error(L, "destek.%s: %s is already declared", fn_name, name);
  lua_pushvalue(L, fn);
  lh_bind_add(s, kind, ki, NULL, luaL_ref(L, LUA_REGISTRYINDEX), slot);
  if (s->collecting) {
    struct lh_decls *d = &s->slots[slot].decls;
    d->extras = realloc(d->extras, (size_t)(d->n_extras + 1) * sizeof *d->extras);
    if (!d->extras) abort();
    d->extras[d->n_extras++] = (struct lh_extra_decl){ kind, util_intern(name), ki };
  }
}

/* service(name, fn): publishes "<plugin>.<verb>"; fn(args) returns the result (a table; nil is {}), or raises (or
 * returns) an error value. */
static int l_service(lua_State *L)
{
  int slot;
  struct lh_state *s = ctx(L, &slot);
  const char *name = luaL_checkstring(L, 1);
  if (!owned_name(s, slot, name))
    return luaL_error(L, "destek.service: '%s' is not a name of this plugin's: \"%s.<verb>\" in lower case", name,
                      s->slots[slot].name);
  declare(L, "service", LH_SERVICE, "service", name, 2);
  return 0;
}

/* timer(kind, fn): handles the timers of kind "<plugin>.<what>": fn(key, payload, {kind}) in a call of its own;
 * raising an error or returning false has it retried later. */
static int l_timer(lua_State *L)
{
  int slot;
  struct lh_state *s = ctx(L, &slot);
  const char *kind = luaL_checkstring(L, 1);
  if (!owned_name(s, slot, kind))
    return luaL_error(L, "destek.timer: '%s' is not a timer kind of this plugin's: \"%s.<what>\" in lower case", kind,
                      s->slots[slot].name);
  declare(L, "timer", LH_TIMER, "timer", kind, 2);
  return 0;
}

/* live.events(pattern, summarize): streams the plugin's events ("note.*", "note.added") to agents' sockets;
 * summarize(payload, name, {id, subject}) returns the few members a client needs (ids, status: never text a person
 * wrote). */
static int l_live_events(lua_State *L)
{
  int slot;
  struct lh_state *s = ctx(L, &slot);
  const char *pattern = luaL_checkstring(L, 1);
  const char *dot = strchr(pattern, '.');
  size_t n = dot ? (size_t)(dot - pattern) : 0;
  if (!dot || !word_ok(pattern, n) || !(strcmp(dot + 1, "*") == 0 || word_ok(dot + 1, strlen(dot + 1))))
    return luaL_error(L, "destek.live.events: '%s' is not an event pattern (\"noun.*\" or \"noun.verb\")", pattern);
  if (!noun_owned(L, s, slot, pattern, n))
    return luaL_error(L, "destek.live.events: %s names events that are not this plugin's (its name, or a noun its"
                         " table declares in events = {...})", pattern);
  declare(L, "live.events", LH_LIVE, "live", pattern, 2);
  return 0;
}

/* live.subjects(prefix, check): clients may watch "<prefix>:<id>" for presence when check(subject) returns true. */
static int l_live_subjects(lua_State *L)
{
  int slot;
  struct lh_state *s = ctx(L, &slot);
  const char *prefix = luaL_checkstring(L, 1);
  if (!word_ok(prefix, strlen(prefix)) || !noun_owned(L, s, slot, prefix, strlen(prefix)))
    return luaL_error(L, "destek.live.subjects: '%s' is not a subject kind of this plugin's (its name, or a noun its"
                         " table declares in events = {...})", prefix);
  declare(L, "live.subjects", LH_SUBJECT, "subject", prefix, 2);
  return 0;
}

/* ------------------------------------------------------------------------------------------------ the core calls */

/* The key's name part: "<plugin>:<what>:<name>" -> name. */
static const char *key_name(const char *key)
{
  const char *c = strchr(key, ':');
  c = c ? strchr(c + 1, ':') : NULL;
  return c ? c + 1 : key;
}

struct svc_arg {
  const struct lh_bind *b;
  const cJSON *args;
  struct destek_req *call;
  cJSON *out;
  int status;            /* an error value's, set up on call */
  char bad[300];
};

static int svc_tramp(lua_State *L)
{
  struct svc_arg *a = lua_touserdata(L, 1);
  lua_rawgeti(L, LUA_REGISTRYINDEX, a->b->ref);
  lh_push_json(L, a->args);
  if (lh_pcall_errors(L, 1, 2)) {
    a->status = lh_error_apply(L, -1, a->call);
    return 0;
  }
  if (is_error(L, -2)) {   /* returned rather than raised */
    a->status = lh_error_apply(L, -2, a->call);
    return 0;
  }
  if (lua_isnil(L, -2)) a->out = cJSON_CreateObject();
  else a->out = lh_to_json(L, -2, a->bad, sizeof a->bad);
  return 0;
}

static int lua_service_fn(struct destek_req *call, const cJSON *args, cJSON **result, void *ud)
{
  const char *key = ud, *name = key_name(key);
  struct lh_state *s = lh_state_get();
  struct lh_bind *b = s ? lh_bind_find(s, LH_SERVICE, key, NULL) : NULL;
  if (!b) {
    log_error("lua", "%s: the service is not loaded in this thread", key);
    return http_error(call, 500, "service_failed", "the service %s is not available", name);
  }
  const char *plugin = s->slots[b->slot].name;
  struct svc_arg a = { b, args, call, NULL, 0, "" };
  char err[700];
  int rc = lh_run(s, b->slot, call, svc_tramp, &a, err, sizeof err);
  if (rc == LH_VETO && call->status == 422) {
    cJSON_Delete(a.out);
    return 422;
  }
  if (rc != 0 || a.bad[0]) {
    log_error(plugin, "service %s failed: %s", name, rc ? err : a.bad);
    cJSON_Delete(a.out);
    return http_error(call, 500, "service_failed", "the service %s failed; the server log says why", name);
  }
  if (a.status) return a.status;
  *result = a.out;
  return 0;
}

struct timer_arg {
  const struct lh_bind *b;
  const char *kind, *key;
  const cJSON *payload;
  int failed;
};

static int timer_tramp(lua_State *L)
{
  struct timer_arg *a = lua_touserdata(L, 1);
  lua_rawgeti(L, LUA_REGISTRYINDEX, a->b->ref);
  lua_pushstring(L, a->key);
  if (a->payload) lh_push_json(L, a->payload);
  else lua_newtable(L);
  lua_createtable(L, 0, 1);
  lua_pushstring(L, a->kind);
  lua_setfield(L, -2, "kind");
  lua_call(L, 3, 1);
  a->failed = lua_type(L, -1) == LUA_TBOOLEAN && !lua_toboolean(L, -1);
  return 0;
}

static int lua_timer_fn(struct destek_req *call, const char *key, const cJSON *payload, void *ud)
{
  const char *bkey = ud;
  struct lh_state *s = lh_state_get();
  struct lh_bind *b = s ? lh_bind_find(s, LH_TIMER, bkey, NULL) : NULL;
  if (!b) {
    log_error("lua", "%s: the timer handler is not loaded in this thread", bkey);
    return 1;
  }
  struct timer_arg a = { b, key_name(bkey), key, payload, 0 };
  char err[700];
  int rc = lh_run(s, b->slot, call, timer_tramp, &a, err, sizeof err);
  if (rc != 0) log_error(s->slots[b->slot].name, "timer %s/%s failed: %s", a.kind, key, err);
  return rc != 0 || a.failed;
}

struct live_arg {
  const struct lh_bind *b;
  const struct destek_event *ev;
  cJSON *out;
  char bad[300];
};

static int live_tramp(lua_State *L)
{
  struct live_arg *a = lua_touserdata(L, 1);
  lua_rawgeti(L, LUA_REGISTRYINDEX, a->b->ref);
  if (a->ev->payload) lh_push_json(L, a->ev->payload);
  else lua_newtable(L);
  lua_pushstring(L, a->ev->name);
  lua_createtable(L, 0, 2);
  lua_pushinteger(L, a->ev->id);
  lua_setfield(L, -2, "id");
  lua_pushstring(L, a->ev->subject ? a->ev->subject : "");
  lua_setfield(L, -2, "subject");
  lua_call(L, 3, 1);
  if (lua_type(L, -1) == LUA_TTABLE) a->out = lh_to_json(L, -1, a->bad, sizeof a->bad);
  return 0;
}

static void lua_live_fn(const struct destek_event *ev, cJSON *frame, void *ud)
{
  const char *key = ud;
  struct lh_state *s = lh_state_get();
  struct lh_bind *b = s ? lh_bind_find(s, LH_LIVE, key, NULL) : NULL;
  if (!b) return;
  struct live_arg a = { b, ev, NULL, "" };
  char err[700];
  int rc = lh_run(s, b->slot, NULL, live_tramp, &a, err, sizeof err);
  if (rc != 0 || a.bad[0])
    log_error(s->slots[b->slot].name, "live summary of %s failed: %s", ev->name, rc ? err : a.bad);
  static const char *const reserved[] = { "type", "name", "subject", "event_id", NULL };
  for (cJSON *c = cJSON_IsObject(a.out) ? a.out->child : NULL; c; c = c->next) {
    int taken = 0;
    for (const char *const *k = reserved; *k && !taken; k++) taken = !strcmp(c->string, *k);
    if (!taken && !cJSON_GetObjectItemCaseSensitive(frame, c->string))
      cJSON_AddItemToObject(frame, c->string, cJSON_Duplicate(c, 1));
  }
  cJSON_Delete(a.out);
}

struct subject_arg { const struct lh_bind *b; const char *subject; int ok; };

static int subject_tramp(lua_State *L)
{
  struct subject_arg *a = lua_touserdata(L, 1);
  lua_rawgeti(L, LUA_REGISTRYINDEX, a->b->ref);
  lua_pushstring(L, a->subject);
  lua_call(L, 1, 1);
  a->ok = lua_toboolean(L, -1);
  return 0;
}

static int lua_subject_fn(const char *subject, void *ud)
{
  struct lh_state *s = lh_state_get();
  struct lh_bind *b = s ? lh_bind_find(s, LH_SUBJECT, ud, NULL) : NULL;
  if (!b) return 0;
  struct subject_arg a = { b, subject, 0 };
  char err[700];
  if (lh_run(s, b->slot, NULL, subject_tramp, &a, err, sizeof err) != 0) {
    log_error(s->slots[b->slot].name, "presence check of %s failed: %s", subject, err);
    return 0;
  }
  return a.ok ? 1 : 0;
}

void lh_calls_register(const char *plugin, const struct lh_decls *d)
{
  for (int i = 0; i < d->n_extras; i++) {
    const struct lh_extra_decl *e = &d->extras[i];
    void *key = (void *)e->key;
    int rc = 0;
    switch (e->kind) {
    case LH_SERVICE: rc = services_publish(plugin, e->a, lua_service_fn, key); break;
    case LH_TIMER: rc = jobs_timer_handler(plugin, e->a, lua_timer_fn, key); break;
    case LH_LIVE: rc = live_stream_events_ud(plugin, e->a, lua_live_fn, key); break;
    case LH_SUBJECT: rc = live_subjects_ud(plugin, e->a, lua_subject_fn, key); break;
    default: break;
    }
    if (rc != 0) log_error(plugin, "%s was refused (see above)", e->a);
  }
}

void lh_calls_unregister(const char *plugin)
{
  services_forget_owner(plugin);
  live_forget_owner(plugin);   /* timer handlers go with jobs_forget_owner */
}

/* ------------------------------------------------------------------------------------------------ within a call */

static struct destek_req *need_call(lua_State *L, const char *fn)
{
  int slot;
  struct lh_state *s = ctx(L, &slot);
  if (!s->call) luaL_error(L, "destek.%s: not inside a call (a route, event handler, job, timer or service)", fn);
  return s->call;
}

/* The writer of the call's transaction (the wait for it is not the plugin's running time). */
static struct db *writer(lua_State *L, const char *fn)
{
  struct lh_state *s = lh_state_of(L);
  struct destek_req *call = need_call(L, fn);
  double t0 = util_mono();
  struct db *w = http_tx(call);
  lh_pause_credit(s, util_mono() - t0);
  if (!w) luaL_error(L, "destek.%s: the database is busy", fn);
  return w;
}

/* call(name, args): the service's result, or nil and an error value {status, code, message} (501
 * service_unavailable when no loaded module publishes name). */
static int l_call(lua_State *L)
{
  int slot;
  struct lh_state *s = ctx(L, &slot);
  const char *name = luaL_checkstring(L, 1);
  int at = lua_type(L, 2);
  luaL_argexpected(L, at == LUA_TTABLE || at == LUA_TNIL || at == LUA_TNONE, 2, "table");
  struct destek_req *call = need_call(L, "call");
  char err[256];
  cJSON *args = at == LUA_TTABLE ? lh_to_json(L, 2, err, sizeof err) : cJSON_CreateObject();
  if (!args) return luaL_error(L, "destek.call: the arguments %s", err);
  if (!cJSON_IsObject(args)) {
    cJSON_Delete(args);
    return luaL_error(L, "destek.call: the arguments must be a table with named fields (a JSON object)");
  }
  cJSON *result = NULL;
  lua_State *saved = s->running;
  s->running = L;
  int unmetered = services_unmetered(name);
  double t0 = unmetered ? util_mono() : 0, c0 = unmetered ? lh_thread_cpu() : 0;
  int rc = services_call(call, name, args, &result);
  if (unmetered) lh_credit(s, util_mono() - t0, lh_thread_cpu() - c0);
  s->running = saved;
  cJSON_Delete(args);
  lh_check_killed(L);
  if (rc == 0) {
    push_json_owned(L, result);
    return 1;
  }
  cJSON_Delete(result);
  const cJSON *e = cJSON_GetObjectItemCaseSensitive(call->out_json, "error");
  lua_pushnil(L);
  lh_push_error(L, rc, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "code")),
                cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "message")),
                cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "field")));
  return 2;
}

/* timer_at(kind, key, when, payload): schedules (or moves) the one-shot timer kind/key at when (Unix seconds), in the
 * call's transaction. */
static int l_timer_at(lua_State *L)
{
  int slot;
  struct lh_state *s = ctx(L, &slot);
  const char *kind = luaL_checkstring(L, 1), *key = luaL_checkstring(L, 2);
  lua_Integer when = luaL_checkinteger(L, 3);
  int pt = lua_type(L, 4);
  luaL_argexpected(L, pt == LUA_TTABLE || pt == LUA_TNIL || pt == LUA_TNONE, 4, "table");
  if (!owned_name(s, slot, kind))
    return luaL_error(L, "destek.timer_at: '%s' is not a timer kind of this plugin's (\"%s.<what>\")", kind,
                      s->slots[slot].name);
  if (!*key || strlen(key) > 200) return luaL_argerror(L, 2, "a key of 1 to 200 bytes");
  struct destek_req *call = need_call(L, "timer_at");
  char err[256];
  cJSON *payload = pt == LUA_TTABLE ? lh_to_json(L, 4, err, sizeof err) : NULL;
  if (pt == LUA_TTABLE && !payload) return luaL_error(L, "destek.timer_at: the payload %s", err);
  writer(L, "timer_at");
  if (jobs_timer_at(call, kind, key, (int64_t)when, payload) != 0)
    return luaL_error(L, "destek.timer_at: the timer could not be scheduled");
  return 0;
}

static int l_timer_cancel(lua_State *L)
{
  int slot;
  struct lh_state *s = ctx(L, &slot);
  const char *kind = luaL_checkstring(L, 1), *key = luaL_checkstring(L, 2);
  if (!owned_name(s, slot, kind))
    return luaL_error(L, "destek.timer_cancel: '%s' is not a timer kind of this plugin's", kind);
  struct destek_req *call = need_call(L, "timer_cancel");
  writer(L, "timer_cancel");
  if (jobs_timer_cancel(call, kind, key) != 0)
    return luaL_error(L, "destek.timer_cancel: the timer could not be dropped");
  return 0;
}

/* audit(action, target[, detail]): an entry of the audit log by the call's user, in the call's transaction. action is
 * "<plugin>.<what>". */
static int l_audit(lua_State *L)
{
  int slot;
  struct lh_state *s = ctx(L, &slot);
  const char *action = luaL_checkstring(L, 1), *target = luaL_optstring(L, 2, NULL);
  int dt = lua_type(L, 3);
  luaL_argexpected(L, dt == LUA_TTABLE || dt == LUA_TNIL || dt == LUA_TNONE, 3, "table");
  if (!owned_name(s, slot, action))
    return luaL_error(L, "destek.audit: the action '%s' must be \"%s.<what>\" in lower case", action,
                      s->slots[slot].name);
  if (target && strlen(target) > 300) return luaL_argerror(L, 2, "a target of at most 300 bytes");
  struct destek_req *call = need_call(L, "audit");
  struct db *w = writer(L, "audit");
  char err[256];
  cJSON *detail = dt == LUA_TTABLE ? lh_to_json(L, 3, err, sizeof err) : NULL;
  if (dt == LUA_TTABLE && !detail) return luaL_error(L, "destek.audit: the detail %s", err);
  if (audit_log(w, call, action, target, detail) != 0) return luaL_error(L, "destek.audit: not recorded");
  return 0;
}

/* ------------------------------------------------------------------------------------------------ rate limits */

/* rate_now(kind, key, limit, window): takes one of the `limit` slots (kind, key) has per `window` seconds, counted at once
 * (kept whatever becomes of the call: a refused lookup counts too); kind is "<plugin>.<what>". true, or false and the
 * seconds until a slot frees. Before the call writes (the count commits on its own). */
static int l_rate_now(lua_State *L)
{
  int slot;
  struct lh_state *s = ctx(L, &slot);
  const char *kind = luaL_checkstring(L, 1), *key = luaL_checkstring(L, 2);
  lua_Integer limit = luaL_checkinteger(L, 3), window = luaL_checkinteger(L, 4);
  if (!owned_name(s, slot, kind))
    return luaL_error(L, "destek.rate_now: the kind '%s' must be \"%s.<what>\" in lower case", kind, s->slots[slot].name);
  if (strlen(key) > 200) return luaL_argerror(L, 2, "a key of at most 200 bytes");
  if (limit < 1 || limit > 1000000) return luaL_argerror(L, 3, "a limit of 1 to 1000000");
  if (window < 1 || window > 31L * 86400) return luaL_argerror(L, 4, "a window of 1 s to 31 days");
  need_call(L, "rate_now");
  if (db_writer_held())
    return luaL_error(L, "destek.rate_now: call it before the call writes (the count is committed at once, on its own)");
  long wait = 0;
  int64_t id = ratelimit_take_now(kind, key, (long)limit, (long)window, &wait);
  if (id < 0) return luaL_error(L, "destek.rate_now: not recorded");
  lua_pushboolean(L, id > 0);
  if (id > 0) return 1;
  lua_pushinteger(L, wait);
  return 2;
}

/* ------------------------------------------------------------------------------------------------ signed links */

static char link_master[65];   /* hex; written once at start-up, before any thread reads it */

int lh_calls_start(struct db *w)
{
  char raw[32], hex[65];
  util_random(raw, sizeof raw);
  util_hex(raw, sizeof raw, hex);
  db_exec(w, "INSERT OR IGNORE INTO core_kv(key, value) VALUES ('lua_link_key', ?1)", "t", hex);
  char *key = db_text_new(w, "SELECT value FROM core_kv WHERE key = 'lua_link_key'", NULL);
  if (!key || strlen(key) != 64) {
    log_error("lua", "the key of signed links could not be kept; links signed now stop working at the next restart");
    snprintf(link_master, sizeof link_master, "%s", hex);
    free(key);
    return -1;
  }
  snprintf(link_master, sizeof link_master, "%s", key);
  free(key);
  return 0;
}

/* The plugin's signature of text that expires at exp (0: never), as 32 hex digits. */
static void link_mac(const char *plugin, long long exp, const char *text, size_t len, char out[33])
{
  char info[80], key[65], full[65];
  int n = snprintf(info, sizeof info, "destek lua link key\n%s", plugin);
  util_hmac_sha256_hex(link_master, strlen(link_master), info, (size_t)n, key);
  char head[32];
  int hn = snprintf(head, sizeof head, "%lld\n", exp);
  char *data = malloc((size_t)hn + len);
  if (!data) abort();
  memcpy(data, head, (size_t)hn);
  memcpy(data + hn, text, len);
  util_hmac_sha256_hex(key, strlen(key), data, (size_t)hn + len, full);
  free(data);
  memcpy(out, full, 32);
  out[32] = 0;
}

/* sign(text[, expires_at]): a signature of text by this plugin ("<hex>", or "<expires_at>-<hex>"). */
static int l_sign(lua_State *L)
{
  size_t len;
  const char *text = luaL_checklstring(L, 1, &len);
  lua_Integer exp = luaL_optinteger(L, 2, 0);
  if (exp < 0) return luaL_argerror(L, 2, "a time in Unix seconds");
  char mac[33];
  link_mac(plugin_name(L), (long long)exp, text, len, mac);
  lh_budget_charge(L, (long)(len / 8) + 100);
  if (exp) lua_pushfstring(L, "%I-%s", exp, mac);
  else lua_pushstring(L, mac);
  return 1;
}

/* rate(kind, key, limit, window): takes one of the limit slots (kind, key) has per window seconds, in the call's
 * transaction (the hit is kept only if the call commits): true, or false and the seconds until a slot frees. */
static int l_rate(lua_State *L)
{
  const char *kind = luaL_checkstring(L, 1);
  size_t len;
  const char *key = luaL_checklstring(L, 2, &len);
  lua_Integer limit = luaL_checkinteger(L, 3), window = luaL_checkinteger(L, 4);
  luaL_argcheck(L, strlen(kind) > 0 && strlen(kind) <= 60, 1, "a kind of 1 to 60 bytes");
  luaL_argcheck(L, limit >= 1 && limit <= 1000000, 3, "a limit from 1 to a million");
  luaL_argcheck(L, window >= 1 && window <= 366 * 86400, 4, "a window from a second to a year");
  struct lh_state *s = lh_state_of(L);
  if (!s->call) return luaL_error(L, "destek.rate: not inside a call");
  char full[130], mac[33];
  snprintf(full, sizeof full, "%s.%s", plugin_name(L), kind);
  link_mac(plugin_name(L), 0, key, len, mac);
  lh_budget_charge(L, (long)(len / 8) + 100);
  double t0 = util_mono();
  struct db *w = http_tx(s->call);
  lh_pause_credit(s, util_mono() - t0);
  if (!w) return luaL_error(L, "destek.rate: the database is busy");
  long wait = 0;
  int64_t hit = ratelimit_take(w, full, mac, (long)limit, (long)window, &wait);
  if (hit < 0) return luaL_error(L, "destek.rate: the database failed");
  lua_pushboolean(L, hit > 0);
  if (hit > 0) return 1;
  lua_pushinteger(L, wait);
  return 2;
}

/* verify(text, sig): true when sig is this plugin's signature of text and has not expired; else false and "bad" or
 * "expired". */
static int l_verify(lua_State *L)
{
  size_t len;
  const char *text = luaL_checklstring(L, 1, &len);
  const char *sig = luaL_optstring(L, 2, "");
  long long exp = 0;
  const char *dash = strchr(sig, '-');
  if (dash) {
    char *end;
    exp = strtoll(sig, &end, 10);
    if (end != dash || exp <= 0) exp = -1;
    sig = dash + 1;
  }
  char mac[33];
  link_mac(plugin_name(L), exp > 0 ? exp : 0, text, len, mac);
  lh_budget_charge(L, (long)(len / 8) + 100);
  int ok = exp >= 0 && strlen(sig) == 32 && util_ct_equal(sig, mac, 32);
  if (ok && exp > 0 && (long long)time(NULL) > exp) {
    lua_pushboolean(L, 0);
    lua_pushliteral(L, "expired");
    return 2;
  }
  lua_pushboolean(L, ok);
  if (ok) return 1;
  lua_pushliteral(L, "bad");
  return 2;
}

/* ------------------------------------------------------------------------------------------------ lists */

/* cursor(req): limit (1..200, default 50) and the id after which the page starts (0: the first page), from ?limit
 * and ?cursor; a bad one raises a 422 error value. */
static int l_cursor(lua_State *L)
{
  struct destek_req *call = need_call(L, "cursor");
  int limit;
  int64_t after;
  if (!call->conn) {
    lua_pushinteger(L, 50);
    lua_pushinteger(L, 0);
    return 2;
  }
  if (http_page(call, &limit, &after) != 0) {
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(call->out_json, "error");
    lh_push_error(L, 422, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "code")),
                  cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "message")),
                  cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "field")));
    return lua_error(L);
  }
  lua_pushinteger(L, limit);
  lua_pushinteger(L, (lua_Integer)after);
  return 2;
}

/* list(items[, next_after]): {items = items (a JSON array), next_cursor = the cursor after next_after, or null}. */
static int l_list(lua_State *L)
{
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_Integer next = luaL_optinteger(L, 2, 0);
  lua_settop(L, 1);
  if (!lua_getmetatable(L, 1)) lh_mark_array(L, 1);   /* an empty list is [] (a plugin's own metatable stays) */
  lua_settop(L, 1);
  lua_createtable(L, 0, 2);
  lua_pushvalue(L, 1);
  lua_setfield(L, -2, "items");
  if (next > 0) {
    char raw[32], enc[48];
    int n = snprintf(raw, sizeof raw, "i:%lld", (long long)next);
    util_b64url_encode(raw, (size_t)n, enc);
    lua_pushstring(L, enc);
  } else {
    lua_pushlightuserdata(L, NULL);   /* json.null */
  }
  lua_setfield(L, -2, "next_cursor");
  return 1;
}

/* ------------------------------------------------------------------------------------------------ live */

static const char *own_subject(lua_State *L, int arg)
{
  int slot;
  struct lh_state *s = ctx(L, &slot);
  const char *subject = luaL_checkstring(L, arg);
  const char *colon = strchr(subject, ':');
  if (!colon || !colon[1] || strlen(subject) > 120 || !noun_owned(L, s, slot, subject, (size_t)(colon - subject)))
    luaL_argerror(L, arg, "a subject \"<kind>:<id>\" of this plugin's (its name, or a noun of its events = {...})");
  return subject;
}

/* live.touch(subject[, typing]): the call's signed-in user views subject (for 20 seconds). */
static int l_live_touch(lua_State *L)
{
  const char *subject = own_subject(L, 1);
  int typing = lua_toboolean(L, 2);
  struct destek_req *call = need_call(L, "live.touch");
  if (call->who.user_id > 0) live_presence_touch(subject, call->who.user_id, call->who.name, typing);
  return 0;
}

/* live.presence(subject): who else views it, [{user_id, name, typing, seconds_ago}]. */
static int l_live_presence(lua_State *L)
{
  const char *subject = own_subject(L, 1);
  struct destek_req *call = need_call(L, "live.presence");
  push_json_owned(L, live_presence_items_new(subject, call->who.user_id));
  return 1;
}

static int l_live_forget(lua_State *L)
{
  live_presence_forget(own_subject(L, 1));
  return 0;
}

/* ------------------------------------------------------------------------------------------------ text */

static int l_fold(lua_State *L)
{
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  lh_budget_charge(L, (long)(len / 4));
  char *f = destek_fold_new(s, len);
  push_owned(L, f, strlen(f));
  return 1;
}

/* text.fts_query(text[, max_terms]): an FTS5 query of the folded words of text (prefixes from 3 characters), safe to
 * bind to MATCH; nil when text has no word. */
static int l_fts_query(lua_State *L)
{
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  lua_Integer max = luaL_optinteger(L, 2, 10);
  if (max < 1 || max > 32) return luaL_argerror(L, 2, "from 1 to 32 terms");
  lh_budget_charge(L, (long)(len / 4));
  char *f = destek_fold_new(s, len), out[32 * 72 + 8];
  int n = destek_fts_query(f, out, sizeof out, (int)max);
  free(f);
  if (!n) lua_pushnil(L);
  else lua_pushstring(L, out);
  return 1;
}

/* text.snippet(text, query[, words]): text around the first word the query (what the person typed) finds,
 * escaped, found words in <mark>, as an HTML value; nil when no word matches. */
static int l_snippet(lua_State *L)
{
  size_t len, qlen;
  const char *text = luaL_checklstring(L, 1, &len), *q = luaL_checklstring(L, 2, &qlen);
  lua_Integer words = luaL_optinteger(L, 3, 24);
  if (words < 1 || words > 200) return luaL_argerror(L, 3, "from 1 to 200 words");
  lh_budget_charge(L, (long)(len + qlen) / 2);
  char *fq = destek_fold_new(q, qlen);
  char *snip = destek_snippet_new(text, fq, (int)words);
  free(fq);
  if (!snip) {
    lua_pushnil(L);
    return 1;
  }
  push_owned(L, snip, strlen(snip));
  size_t n;
  const char *h = lua_tolstring(L, -1, &n);
  lh_push_html(L, h, n);
  return 1;
}

static int l_b64_encode(lua_State *L)
{
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  luaL_Buffer b;
  char *out = luaL_buffinitsize(L, &b, util_b64_len(len) + 1);
  size_t n = util_b64_encode(s, len, out);
  luaL_pushresultsize(&b, n);
  lh_budget_charge(L, (long)(len / 8));
  return 1;
}

/* base64.decode(text): the bytes, or nil and a message. */
static int l_b64_decode(lua_State *L)
{
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  long n = util_b64_decode(s, len, NULL, 0);
  if (n < 0) {
    lua_pushnil(L);
    lua_pushliteral(L, "not base64");
    return 2;
  }
  luaL_Buffer b;
  char *out = luaL_buffinitsize(L, &b, (size_t)n + 1);
  util_b64_decode(s, len, out, (size_t)n + 1);
  luaL_pushresultsize(&b, (size_t)n);
  lh_budget_charge(L, (long)(len / 8));
  return 1;
}

/* ------------------------------------------------------------------------------------------------ the functions */

static void sub(lua_State *L, int slot, const char *name, const luaL_Reg *fns)
{
  if (lua_getfield(L, -1, name) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
  }
  lua_pushinteger(L, slot);
  luaL_setfuncs(L, fns, 1);
  lua_setfield(L, -2, name);
}

void lh_calls_push(lua_State *L, int slot)
{
  static const luaL_Reg top[] = {
    { "service", l_service }, { "call", l_call }, { "timer", l_timer }, { "timer_at", l_timer_at },
    { "timer_cancel", l_timer_cancel }, { "audit", l_audit }, { "sign", l_sign }, { "verify", l_verify }, { "rate", l_rate }, { "rate_now", l_rate_now },
    { "error", l_error }, { "cursor", l_cursor }, { "list", l_list }, { NULL, NULL }
  };
  static const luaL_Reg live[] = {
    { "events", l_live_events }, { "subjects", l_live_subjects }, { "touch", l_live_touch },
    { "presence", l_live_presence }, { "forget", l_live_forget }, { NULL, NULL }
  };
  static const luaL_Reg text[] = { { "fold", l_fold }, { "fts_query", l_fts_query }, { "snippet", l_snippet },
                                   { NULL, NULL } };
  static const luaL_Reg base64[] = { { "encode", l_b64_encode }, { "decode", l_b64_decode }, { NULL, NULL } };
  lua_pushinteger(L, slot);
  luaL_setfuncs(L, top, 1);
  sub(L, slot, "live", live);
  sub(L, slot, "text", text);
  sub(L, slot, "base64", base64);
}
