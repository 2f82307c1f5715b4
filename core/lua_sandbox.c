/* The Lua sandbox: a state's allocator (memory cap), its count hook (instruction budget and wall-clock deadline),
 * the environment each plugin runs in, protected runs, and the conversion between Lua values and JSON.
 *
 * What a plugin can reach: the base functions without dofile/loadfile/collectgarbage's mode switches, load for text
 * chunks only, string (without dump), table, math, utf8, coroutine, os.time/os.clock/os.date, and the destek module.
 * No io, no debug, no package: require returns only "destek". Each plugin gets its own environment with its own
 * copies of the library tables, so one plugin cannot change what another sees, and the string metatable is locked.
 *
 * Budgets cannot be caught: once a call has run out of time or instructions, the hook raises again every
 * LH_HOOK_EVERY instructions, and the pcall/xpcall/coroutine.resume/coroutine.close a plugin sees re-raise the
 * error, so the call ends at the boundary in lh_run. */
#include <malloc.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lualib.h>

#include "log.h"
#include "lua_host.h"
#include "lua_host_internal.h"
#include "util.h"

/* Registry keys (addresses of these bytes). */
static const char KEY_ARRAY_MT, KEY_VETO_MT, KEY_ENV_FACTORY;

struct lh_state *lh_state_of(lua_State *L) { return *(struct lh_state **)lua_getextraspace(L); }

/* ------------------------------------------------------------------------------------------------ allocator */

/* Counts every byte the state holds and refuses growth past the cap; Lua turns the refusal into a memory error
 * (after one emergency collection). Shrinking and freeing never fail. */
static void *lh_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
  struct lh_state *s = ud;
  if (nsize == 0) {
    if (ptr) {
      free(ptr);
      s->mem -= osize;
    }
    return NULL;
  }
  size_t old = ptr ? osize : 0;
  if (nsize > old && s->mem + (nsize - old) > s->mem_limit) return NULL;
  void *p = realloc(ptr, nsize);
  if (!p) return NULL;
  s->mem = s->mem - old + nsize;
  return p;
}

/* ------------------------------------------------------------------------------------------------ budget */

/* CLOCK_MONOTONIC_COARSE: a few nanoseconds instead of a few tens, ticking every few milliseconds; good enough for a
 * 250 ms deadline where it is read after every metered library call. */
static double coarse_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double thread_cpu(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

double lh_thread_cpu(void) { return thread_cpu(); }

void lh_credit(struct lh_state *s, double wall, double cpu)
{
  if (s->depth <= 0) return;
  double room = LH_CREDIT_LIMIT - s->credited;
  if (room <= 0) return;
  if (wall > room) wall = room;
  if (cpu > room) cpu = room;
  if (wall > 0) { s->deadline += wall; s->wall_deadline += wall; s->credited += wall; }
  if (cpu > 0) s->cpu_start += cpu;
}

int lh_deadline_passed(struct lh_state *s)
{
  double now = util_mono();
  if (now < s->deadline) return 0;
  double used = thread_cpu() - s->cpu_start, limit = s->building || lh_offline ? LH_BUILD_TIME_LIMIT : LH_TIME_LIMIT;
  if (used >= limit || now >= s->wall_deadline) return 1;
  double next = now + (limit - used);   /* it cannot use up its CPU before then */
  s->deadline = next < s->wall_deadline ? next : s->wall_deadline;
  return 0;
}

/* Has the running call used up its instructions or its time? Marks it killed (once, with why) if so. Never raises. */
static int budget_expired(lua_State *L, struct lh_state *s)
{
  if (s->killed) return 1;
  if (s->ticks > 0 && !lh_deadline_passed(s)) return 0;
  s->killed = 1;
  char where[120] = "";
  lua_Debug d;
  for (int level = 0; level < 8 && L && lua_getstack(L, level, &d); level++)
    if (lua_getinfo(L, "Sl", &d) && d.currentline > 0 && strcmp(d.short_src, "sandbox") != 0) {
      snprintf(where, sizeof where, "%s:%d: ", d.short_src, d.currentline);
      break;
    }
  if (s->ticks <= 0)
    snprintf(s->why, sizeof s->why, "%sran out of its instruction budget (%ld million)", where,
             LH_INSTRUCTION_LIMIT / 1000000);
  else
    snprintf(s->why, sizeof s->why, "%sran past its time limit (%d ms)", where, (int)(LH_TIME_LIMIT * 1000));
  return 1;
}

static int raise_why(lua_State *L, struct lh_state *s)
{
  lua_pushstring(L, s->why);
  return lua_error(L);
}

/* The count hook. Within a call: every LH_HOOK_EVERY instructions, the budget. Outside any call (depth 0) no plugin
 * code may run at all, and the hook counts every instruction there (see lh_run): host code never calls into a
 * plugin outside a run, and finalizers, the one way Lua could, are refused to plugins (sb_setmetatable, locked host
 * metatables; Lua 5.4 runs finalizers with hooks off, so no budget could stop one). */
static void hook(lua_State *L, lua_Debug *ar)
{
  (void)ar;
  struct lh_state *s = lh_state_of(L);
  if (s->depth == 0) {
    lua_pushliteral(L, "plugin code cannot run outside a call");
    lua_error(L);
  }
  if (!s->killed && --s->ticks > 0 && util_mono() < s->deadline) return;
  if (budget_expired(L, s)) raise_why(L, s);
}

void lh_budget_charge(lua_State *L, long instructions)
{
  struct lh_state *s = lh_state_of(L);
  if (!s || s->depth == 0) return;
  s->charged += instructions;
  if (s->charged < LH_HOOK_EVERY && !s->killed) return;
  s->ticks -= s->charged / LH_HOOK_EVERY;
  s->charged %= LH_HOOK_EVERY;
  if (budget_expired(L, s)) raise_why(L, s);
}

void lh_budget_check(lua_State *L)
{
  struct lh_state *s = lh_state_of(L);
  if (s && s->depth > 0 && (s->killed || coarse_now() >= s->deadline) && budget_expired(L, s)) raise_why(L, s);
}

void lh_check_killed(lua_State *L)
{
  struct lh_state *s = lh_state_of(L);
  if (s->killed && s->depth > 0) raise_why(L, s);
}

void lh_pause_credit(struct lh_state *s, double seconds)
{
  if (s->depth > 0 && seconds > 0) {
    s->deadline += seconds;
    s->wall_deadline += seconds;
  }
}

void lh_budget_load(struct lh_state *s)
{
  s->building = 1;
  s->deadline = s->wall_deadline = util_mono() + LH_BUILD_TIME_LIMIT;
  s->cpu_start = thread_cpu();
  s->ticks = LH_INSTRUCTION_LIMIT / LH_HOOK_EVERY;
  s->charged = 0;
}

void lh_budget_push(struct lh_state *s, struct lh_budget *saved)
{
  *saved = (struct lh_budget){ s->deadline, s->wall_deadline, s->cpu_start, util_mono(), thread_cpu(), s->ticks,
                               s->charged, s->building, s->killed };
  lh_budget_load(s);
}

void lh_budget_pop(struct lh_state *s, const struct lh_budget *saved)
{
  double wall = util_mono() - saved->t0, cpu = thread_cpu() - saved->c0;
  s->deadline = saved->deadline + (wall > 0 ? wall : 0);
  s->wall_deadline = saved->wall_deadline + (wall > 0 ? wall : 0);
  s->cpu_start = saved->cpu_start + (cpu > 0 ? cpu : 0);
  s->ticks = saved->ticks;
  s->charged = saved->charged;
  s->building = saved->building;
  s->killed = saved->killed;
}

/* check(...): the wrappers' tail: re-raises a budget error a plugin tried to catch, else returns its arguments. */
static int sb_check(lua_State *L)
{
  lh_check_killed(L);
  return lua_gettop(L);
}

/* ------------------------------------------------------------------------------------------------ safe library */

/* setmetatable without __gc: a finalizer would run outside any call's budget (during collection or lua_close). */
static int sb_setmetatable(lua_State *L)
{
  int t = lua_type(L, 2);
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_argexpected(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table");
  if (t == LUA_TTABLE && lua_getfield(L, 2, "__gc") != LUA_TNIL)
    return luaL_error(L, "setmetatable: __gc metamethods are not available to plugins");
  if (t == LUA_TTABLE) lua_pop(L, 1);
  if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL) return luaL_error(L, "cannot change a protected metatable");
  lua_settop(L, 2);
  lua_setmetatable(L, 1);
  return 1;
}

/* collectgarbage limited to options that do not change how the collector runs. */
static int sb_collectgarbage(lua_State *L)
{
  static const char *const opts[] = { "collect", "count", "step", "isrunning", NULL };
  int o = luaL_checkoption(L, 1, "collect", opts);
  switch (o) {
  case 0: lua_gc(L, LUA_GCCOLLECT); lua_pushinteger(L, 0); return 1;
  case 1: {
    int kb = lua_gc(L, LUA_GCCOUNT), b = lua_gc(L, LUA_GCCOUNTB);
    lua_pushnumber(L, (lua_Number)kb + (lua_Number)b / 1024);
    return 1;
  }
  case 2: lua_pushboolean(L, lua_gc(L, LUA_GCSTEP, (int)luaL_optinteger(L, 2, 0))); return 1;
  default: lua_pushboolean(L, lua_gc(L, LUA_GCISRUNNING)); return 1;
  }
}

/* Wraps what can catch errors, makes each plugin's environment. Arguments: base, libs, and the originals. */
static const char PRELUDE[] =
  "local base, libs, pcall, xpcall, resume, close, check, load, select, pairs, error, tostring, type, CHUNK_MAX = ...\n"
  "local TOO_BIG = 'load: a chunk may be at most ' .. CHUNK_MAX // 1048576 .. ' MiB'\n"
  "base.pcall = function(f, ...) return check(pcall(f, ...)) end\n"
  "base.xpcall = function(f, h, ...) return check(xpcall(f, h, ...)) end\n"
  "libs.coroutine.resume = function(co, ...) return check(resume(co, ...)) end\n"
  "libs.coroutine.close = function(co) return check(close(co)) end\n"
  "return function(module, print)\n"
  "  local env = {}\n"
  "  for k, v in pairs(base) do env[k] = v end\n"
  "  for name, lib in pairs(libs) do\n"
  "    local copy = {}\n"
  "    for k, v in pairs(lib) do copy[k] = v end\n"
  "    env[name] = copy\n"
  "  end\n"
  "  env._G = env\n"
  "  env.print = print\n"
  "  env.require = function(name)\n"
  "    if name == 'destek' then return module end\n"
  "    error(\"module '\" .. tostring(name) .. \"' is not available: a plugin can require only \\\"destek\\\"\", 2)\n"
  "  end\n"
  "  env.load = function(chunk, chunkname, mode, ...)\n"
  "    if type(mode) == 'string' and not mode:find('t', 1, true) then\n"
  "      return nil, 'binary chunks are not allowed'\n"
  "    end\n"
  "    if type(chunk) == 'string' and #chunk > CHUNK_MAX then return nil, TOO_BIG end\n"
  "    if type(chunk) == 'function' then\n"
  "      local read, total = chunk, 0\n"
  "      chunk = function()\n"
  "        local piece = read()\n"
  "        if type(piece) == 'string' then\n"
  "          total = total + #piece\n"
  "          if total > CHUNK_MAX then error(TOO_BIG, 0) end\n"
  "        end\n"
  "        return piece\n"
  "      end\n"
  "    end\n"
  "    if select('#', ...) > 0 then return load(chunk, chunkname, 't', (...)) end\n"
  "    return load(chunk, chunkname, 't', env)\n"
  "  end\n"
  "  return env\n"
  "end\n";

/* Copies the named fields of the table at src into a new table pushed on the stack. */
static void copy_fields(lua_State *L, int src, const char *const *names)
{
  lua_newtable(L);
  for (const char *const *n = names; *n; n++) {
    lua_getfield(L, src, *n);
    lua_setfield(L, -2, *n);
  }
}

static int open_sandbox(lua_State *L)
{
  static const luaL_Reg libs[] = {
    { LUA_GNAME, luaopen_base }, { LUA_STRLIBNAME, luaopen_string }, { LUA_TABLIBNAME, luaopen_table },
    { LUA_MATHLIBNAME, luaopen_math }, { LUA_UTF8LIBNAME, luaopen_utf8 }, { LUA_COLIBNAME, luaopen_coroutine },
    { LUA_OSLIBNAME, luaopen_os }, { NULL, NULL }
  };
  for (const luaL_Reg *l = libs; l->name; l++) {
    luaL_requiref(L, l->name, l->func, 1);
    lua_pop(L, 1);
  }
  lua_pushglobaltable(L);
  int G = lua_gettop(L);

  /* string.dump is gone from the real table too: ("").dump would reach it through the string metatable. */
  lua_getfield(L, G, "string");
  lua_pushnil(L);
  lua_setfield(L, -2, "dump");
  lua_pop(L, 1);
  /* getmetatable("") answers "string" instead of the metatable, so the shared string table cannot be changed. */
  lua_pushliteral(L, "");
  lua_getmetatable(L, -1);
  lua_pushliteral(L, "string");
  lua_setfield(L, -2, "__metatable");
  lua_pop(L, 2);
  lua_pushcfunction(L, sb_collectgarbage);
  lua_setfield(L, G, "collectgarbage");
  lh_limits_install(L, G);

  static const char *const base_names[] = {
    "assert", "error", "ipairs", "next", "pairs", "rawequal", "rawget", "rawlen", "rawset", "select",
    "tonumber", "tostring", "type", "getmetatable", "_VERSION", "collectgarbage", NULL
  };
  copy_fields(L, G, base_names);
  int base = lua_gettop(L);
  lua_pushcfunction(L, sb_setmetatable);
  lua_setfield(L, base, "setmetatable");

  lua_newtable(L);
  int libt = lua_gettop(L);
  static const char *const full[] = { "string", "table", "math", "utf8", "coroutine", NULL };
  for (const char *const *n = full; *n; n++) {
    lua_getfield(L, G, *n);
    lua_setfield(L, libt, *n);
  }
  static const char *const os_names[] = { "time", "clock", "date", NULL };
  lua_getfield(L, G, "os");
  copy_fields(L, lua_gettop(L), os_names);
  lua_setfield(L, libt, "os");
  lua_pop(L, 1);
  /* The coroutine table is shared by the state's libs: the prelude replaces resume/close in a copy. */
  lua_getfield(L, libt, "coroutine");
  static const char *const co_names[] = { "create", "isyieldable", "running", "status", "wrap", "yield",
                                          "resume", "close", NULL };
  copy_fields(L, lua_gettop(L), co_names);
  lua_setfield(L, libt, "coroutine");
  lua_pop(L, 1);

  if (luaL_loadbufferx(L, PRELUDE, sizeof PRELUDE - 1, "=sandbox", "t") != LUA_OK) return lua_error(L);
  lua_pushvalue(L, base);
  lua_pushvalue(L, libt);
  static const char *const originals[] = { "pcall", "xpcall", NULL };
  for (const char *const *n = originals; *n; n++) lua_getfield(L, G, *n);
  lua_getfield(L, G, "coroutine");
  lua_getfield(L, -1, "resume");
  lua_getfield(L, -2, "close");
  lua_remove(L, -3);
  lua_pushcfunction(L, sb_check);
  static const char *const more[] = { "load", "select", "pairs", "error", "tostring", "type", NULL };
  for (const char *const *n = more; *n; n++) lua_getfield(L, G, *n);
  lua_pushinteger(L, (lua_Integer)LH_CHUNK_MAX);
  lua_call(L, 14, 1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &KEY_ENV_FACTORY);

  /* Nothing reaches the real globals any more; replace them with an empty table all the same. */
  lua_newtable(L);
  lua_rawseti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);

  /* Every JSON array of the state (json.array(), db.query rows, decoded arrays) shares this metatable: locked, so
   * that no plugin can read or change it (an __index there would forge another plugin's rows, a __gc would run
   * unbudgeted). The host's metatables hold no state of their own, so one per state is enough once locked. */
  lua_newtable(L);
  lua_pushliteral(L, "array");
  lua_setfield(L, -2, "__name");
  lua_pushliteral(L, "json.array");
  lua_setfield(L, -2, "__metatable");
  lua_rawsetp(L, LUA_REGISTRYINDEX, &KEY_ARRAY_MT);
  return 0;
}

static int veto_tostring(lua_State *L)
{
  lua_getfield(L, 1, "message");
  return 1;
}

static int open_veto(lua_State *L)
{
  lua_newtable(L);
  lua_pushcfunction(L, veto_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushliteral(L, "veto");
  lua_setfield(L, -2, "__name");
  lua_pushliteral(L, "veto");
  lua_setfield(L, -2, "__metatable");   /* locked, as the array metatable */
  lua_rawsetp(L, LUA_REGISTRYINDEX, &KEY_VETO_MT);
  return 0;
}

void lh_push_veto(lua_State *L, const char *msg)
{
  lua_createtable(L, 0, 2);
  lua_pushliteral(L, "vetoed");
  lua_setfield(L, -2, "code");
  lua_pushstring(L, msg);
  lua_setfield(L, -2, "message");
  lua_rawgetp(L, LUA_REGISTRYINDEX, &KEY_VETO_MT);
  lua_setmetatable(L, -2);
}

int lh_is_veto(lua_State *L, int idx)
{
  if (!lua_istable(L, idx) || !lua_getmetatable(L, idx)) return 0;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &KEY_VETO_MT);
  int yes = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  return yes;
}

void lh_push_env(lua_State *L, int slot)
{
  (void)slot;
  int module = lua_gettop(L);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &KEY_ENV_FACTORY);
  lua_pushvalue(L, module);
  lua_getfield(L, module, "log");
  lua_getfield(L, -1, "info");
  lua_remove(L, -2);
  lua_call(L, 2, 1);
}

/* ------------------------------------------------------------------------------------------------ states */

static int on_panic(lua_State *L)
{
  const char *msg = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "?";
  log_error("lua", "unprotected Lua error (a bug in the Lua host): %s", msg);
  abort();
}

struct lh_state *lh_state_new(struct lh_set *set, int collecting, char *err, size_t errlen)
{
  struct lh_state *s = calloc(1, sizeof *s);
  if (!s) abort();
  s->set = set;
  s->collecting = collecting;
  s->init_slot = -1;
  s->mem_limit = LH_MEMORY_LIMIT;
  s->L = lua_newstate(lh_alloc, s);
  if (!s->L) {
    snprintf(err, errlen, "cannot create a Lua state");
    free(s);
    return NULL;
  }
  *(struct lh_state **)lua_getextraspace(s->L) = s;
  lua_atpanic(s->L, on_panic);
  lua_gc(s->L, LUA_GCGEN, 0, 0);
  if (lh_protect(s->L, open_sandbox, NULL, 0) != LUA_OK || lh_protect(s->L, open_veto, NULL, 0) != LUA_OK) {
    snprintf(err, errlen, "cannot set up the Lua sandbox: %s",
             lua_type(s->L, -1) == LUA_TSTRING ? lua_tostring(s->L, -1) : "?");
    lua_close(s->L);
    free(s);
    return NULL;
  }
  lua_sethook(s->L, hook, LUA_MASKCOUNT, 1);   /* idle: no plugin instruction runs outside a call */
  return s;
}

void lh_state_free(struct lh_state *s)
{
  if (!s) return;
  lua_close(s->L);
  for (int i = 0; i < s->n_slots; i++) {
    struct lh_decls *d = &s->slots[i].decls;
    free(d->routes);
    free(d->subs);
    free(d->jobs);
    free(d->settings);
    free(d->events);
    free(d->extras);
    free(d->policies);
  }
  free(s->slots);
  for (int i = 0; i < s->n_binds; i++) free(s->binds[i]);
  free(s->binds);
  free(s);
}

/* ------------------------------------------------------------------------------------------------ runs */

int lh_protect(lua_State *L, lua_CFunction f, void *ud, int nresults)
{
  if (!lua_checkstack(L, 2)) {
    lua_pushliteral(L, "Lua stack overflow");  /* cannot fail: LUA_MINSTACK slots are always free */
    return LUA_ERRMEM;
  }
  lua_pushcfunction(L, f);
  lua_pushlightuserdata(L, ud);
  return lua_pcall(L, 1, nresults, 0);
}

int lh_offline;

void lua_host_offline(int on) { lh_offline = on; }

int lh_run(struct lh_state *s, int slot, struct destek_req *call, lua_CFunction f, void *arg, char *err,
           size_t errlen)
{
  (void)slot;
  lua_State *L = s->running ? s->running : s->L;
  int outermost = s->depth == 0;
  if (outermost) {
    /* Loading plugins into a worker's state (they loaded once already) and offline commands get the longer limit,
     * of CPU and of wall clock alike. */
    double limit = s->building || lh_offline ? LH_BUILD_TIME_LIMIT : LH_TIME_LIMIT;
    s->deadline = util_mono() + limit;
    s->wall_deadline = util_mono() + (s->building || lh_offline ? LH_BUILD_TIME_LIMIT : LH_WALL_LIMIT);
    s->cpu_start = thread_cpu();
    s->credited = 0;
    s->ticks = LH_INSTRUCTION_LIMIT / LH_HOOK_EVERY;
    s->charged = 0;
    s->killed = 0;
    s->why[0] = 0;
    lua_sethook(s->L, hook, LUA_MASKCOUNT, LH_HOOK_EVERY);
  }
  struct destek_req *saved_call = s->call;
  s->call = call;
  s->depth++;
  int rc = lh_protect(L, f, arg, 0);
  s->depth--;
  s->call = saved_call;
  if (outermost) lua_sethook(s->L, hook, LUA_MASKCOUNT, 1);
  if (rc == LUA_OK && !s->killed) return 0;

  int result = -1;
  int oom = rc == LUA_ERRMEM && !s->killed;
  if (oom) {
    s->killed = 1;
    snprintf(s->why, sizeof s->why, "ran out of memory (a plugin state may use %zu MiB)", s->mem_limit >> 20);
  }
  if (s->killed) {
    snprintf(err, errlen, "%s", s->why);
  } else if (lh_is_veto(L, -1)) {
    lua_getfield(L, -1, "message");
    snprintf(err, errlen, "%s", lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "vetoed");
    lua_pop(L, 1);
    result = LH_VETO;
  } else if (lua_type(L, -1) == LUA_TSTRING) {
    snprintf(err, errlen, "%s", lua_tostring(L, -1));
  } else if (lua_type(L, -1) == LUA_TNUMBER) {
    snprintf(err, errlen, "(error object is the number %.14g)", (double)lua_tonumber(L, -1));
  } else if (rc == LUA_OK) {
    snprintf(err, errlen, "%s", s->why);
  } else {
    snprintf(err, errlen, "(error object is a %s value)", luaL_typename(L, -1));
  }
  if (rc != LUA_OK) lua_pop(L, 1);
  if (outermost && s->killed) {
    /* Memory a killed call held is garbage now; a state that stays near its cap is rebuilt before next use. */
    lua_gc(L, LUA_GCCOLLECT);
    if (s->mem > s->mem_limit / 4 * 3) s->stale = 1;
    if (oom) malloc_trim(0);  /* give the memory back to the system, not just to malloc */
  }
  return result;
}

/* ------------------------------------------------------------------------------------------------ JSON */

void lh_mark_array(lua_State *L, int idx)
{
  idx = lua_absindex(L, idx);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &KEY_ARRAY_MT);
  lua_setmetatable(L, idx);
}

static void push_json(lua_State *L, const cJSON *j, int depth)
{
  if (depth > 200) luaL_error(L, "JSON nested too deeply");
  luaL_checkstack(L, 4, "JSON nested too deeply");
  lh_budget_charge(L, 8);
  if (cJSON_IsObject(j)) {
    lua_createtable(L, 0, cJSON_GetArraySize(j));
    for (const cJSON *c = j->child; c; c = c->next) {
      if (!c->string) continue;
      push_json(L, c, depth + 1);
      lua_setfield(L, -2, c->string);
    }
  } else if (cJSON_IsArray(j)) {
    lua_createtable(L, cJSON_GetArraySize(j), 0);
    lua_Integer i = 0;
    for (const cJSON *c = j->child; c; c = c->next) {
      push_json(L, c, depth + 1);
      lua_rawseti(L, -2, ++i);
    }
    lh_mark_array(L, -1);
  } else if (cJSON_IsString(j)) {
    lua_pushstring(L, j->valuestring);
  } else if (cJSON_IsNumber(j)) {
    double v = j->valuedouble;
    if (v == floor(v) && fabs(v) < 9007199254740992.0) lua_pushinteger(L, (lua_Integer)v);
    else lua_pushnumber(L, v);
  } else if (cJSON_IsBool(j)) {
    lua_pushboolean(L, cJSON_IsTrue(j));
  } else if (cJSON_IsNull(j)) {
    lua_pushlightuserdata(L, NULL);
  } else {
    lua_pushnil(L);
  }
}

void lh_push_json(lua_State *L, const cJSON *j) { push_json(L, j, 0); }

static int has_array_mt(lua_State *L, int idx)
{
  if (!lua_getmetatable(L, idx)) return 0;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &KEY_ARRAY_MT);
  int yes = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  return yes;
}

/* Converting a Lua value to cJSON builds memory outside the state's allocator, and a table that holds the same
 * table twice per level doubles the work at every level: so the conversion refuses cycles, counts what it builds
 * (and what printing it will take) against the memory the state may still use, and watches the call's deadline. */
struct to_json_ctx {
  lua_State *L;
  struct lh_state *s;         /* NULL outside a plugin state (then only cycles and depth are checked) */
  size_t room;                /* bytes the result may still take */
  long nodes;
  int depth;
  const void *path[LH_JSON_DEPTH + 1];   /* the tables being converted, outermost first */
  char *err;
  size_t errlen;
};

/* What one value costs: its cJSON node and, for text, the copy and its printed (escaped, quoted) form. */
#define JSON_NODE_COST (sizeof(cJSON) + 48)

static size_t json_text_cost(const char *v, size_t len)
{
  size_t printed = len + 2, i = 0;
  /* Eight bytes at a time; only a word that may hold an escaped byte (below 0x20, '"' or '\\') is looked at
   * byte by byte. */
  const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
  size_t end = len;
  for (; i + 8 <= len; i += 8) {
    uint64_t w, q, b;
    memcpy(&w, v + i, 8);
    q = w ^ (ones * '"');
    b = w ^ (ones * '\\');
    if (!((((w - ones * 0x20) & ~w) | ((q - ones) & ~q) | ((b - ones) & ~b)) & highs)) continue;
    for (size_t k = i; k < i + 8; k++) {
      unsigned char c = (unsigned char)v[k];
      printed += c < 32 ? 5 : c == '"' || c == '\\';
    }
  }
  for (; i < end; i++) {
    unsigned char c = (unsigned char)v[i];
    printed += c < 32 ? 5 : c == '"' || c == '\\';
  }
  return len + 17 + printed;
}

static int json_charge(struct to_json_ctx *c, size_t bytes)
{
  if (bytes > c->room) {
    snprintf(c->err, c->errlen, "the JSON would be too big: a plugin state may use %zu MiB",
             (c->s ? c->s->mem_limit : LH_MEMORY_LIMIT) >> 20);
    return -1;
  }
  c->room -= bytes;
  if (c->s && (++c->nodes & 4095) == 0 && c->s->depth > 0) {
    c->s->charged += 4096;
    if (c->s->charged >= LH_HOOK_EVERY) {
      c->s->ticks -= c->s->charged / LH_HOOK_EVERY;
      c->s->charged %= LH_HOOK_EVERY;
    }
    if (budget_expired(c->L, c->s)) {
      snprintf(c->err, c->errlen, "%s", c->s->why);
      return -1;
    }
  }
  return 0;
}

static cJSON *to_json(struct to_json_ctx *c, int idx)
{
  lua_State *L = c->L;
  if (json_charge(c, JSON_NODE_COST) != 0) return NULL;
  switch (lua_type(L, idx)) {
  case LUA_TNIL: return cJSON_CreateNull();
  case LUA_TBOOLEAN: return cJSON_CreateBool(lua_toboolean(L, idx));
  case LUA_TNUMBER:
    if (lua_isinteger(L, idx)) return cJSON_CreateNumber((double)lua_tointeger(L, idx));
    return isfinite(lua_tonumber(L, idx)) ? cJSON_CreateNumber(lua_tonumber(L, idx)) : cJSON_CreateNull();
  case LUA_TSTRING: {
    size_t len;
    const char *v = lua_tolstring(L, idx, &len);
    if (json_charge(c, json_text_cost(v, len)) != 0) return NULL;
    return cJSON_CreateString(v);
  }
  case LUA_TLIGHTUSERDATA:
    if (!lua_touserdata(L, idx)) return cJSON_CreateNull();
    break;
  case LUA_TTABLE: {
    const void *me = lua_topointer(L, idx);
    for (int i = 0; i < c->depth; i++)
      if (c->path[i] == me) {
        snprintf(c->err, c->errlen, "a table that contains itself (a cycle) cannot become JSON");
        return NULL;
      }
    if (c->depth >= LH_JSON_DEPTH) {
      snprintf(c->err, c->errlen, "a table nested more than %d levels deep cannot become JSON", LH_JSON_DEPTH);
      return NULL;
    }
    if (!lua_checkstack(L, 4)) { snprintf(c->err, c->errlen, "Lua stack overflow"); return NULL; }
    c->path[c->depth++] = me;
    cJSON *out = NULL;
    lua_Integer n = 0, max = 0;
    int all_int = 1;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
      lua_pop(L, 1);
      if (lua_isinteger(L, -1) && lua_tointeger(L, -1) > 0) {
        if (lua_tointeger(L, -1) > max) max = lua_tointeger(L, -1);
      } else {
        all_int = 0;
      }
      n++;
    }
    if (all_int && ((n > 0 && max == n) || (n == 0 && has_array_mt(L, idx)))) {
      out = cJSON_CreateArray();
      for (lua_Integer i = 1; i <= max; i++) {
        lua_rawgeti(L, idx, i);
        cJSON *v = to_json(c, lua_gettop(L));
        lua_pop(L, 1);
        if (!v) { cJSON_Delete(out); out = NULL; break; }
        cJSON_AddItemToArray(out, v);
      }
    } else {
      out = cJSON_CreateObject();
      lua_pushnil(L);
      while (lua_next(L, idx)) {
        char keybuf[32];
        const char *key;
        size_t keylen;
        if (lua_type(L, -2) == LUA_TSTRING) {
          key = lua_tolstring(L, -2, &keylen);
        } else if (lua_isinteger(L, -2)) {
          keylen = (size_t)snprintf(keybuf, sizeof keybuf, "%lld", (long long)lua_tointeger(L, -2));
          key = keybuf;
        } else {
          snprintf(c->err, c->errlen, "a table with a %s key cannot become a JSON object", luaL_typename(L, -2));
          lua_pop(L, 2);
          cJSON_Delete(out);
          out = NULL;
          break;
        }
        cJSON *v = json_charge(c, json_text_cost(key, keylen)) == 0 ? to_json(c, lua_gettop(L)) : NULL;
        lua_pop(L, 1);
        if (!v) { lua_pop(L, 1); cJSON_Delete(out); out = NULL; break; }
        cJSON_AddItemToObject(out, key, v);
      }
    }
    c->depth--;
    return out;
  }
  default: break;
  }
  snprintf(c->err, c->errlen, "a %s value cannot become JSON", luaL_typename(L, idx));
  return NULL;
}

cJSON *lh_to_json(lua_State *L, int idx, char *err, size_t errlen)
{
  struct to_json_ctx c = { .L = L, .s = lh_state_of(L), .err = err, .errlen = errlen };
  c.room = !c.s ? (size_t)LH_MEMORY_LIMIT : c.s->mem < c.s->mem_limit ? c.s->mem_limit - c.s->mem : 0;
  return to_json(&c, lua_absindex(L, idx));
}
