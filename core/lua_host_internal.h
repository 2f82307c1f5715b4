/* Shared by the three files of the Lua host; no other module includes it.
 *   lua_host.c     plugin sets (sources + what they declared), per-thread states, loading, registration with the
 *                  core, reload, and the C entry points the core calls (routes, events, jobs, policies).
 *   lua_sandbox.c  a state's allocator (memory cap), its hook (instruction budget and wall-clock deadline), the
 *                  sandboxed environment each plugin runs in, protected runs, and Lua <-> JSON conversion.
 *   lua_limits.c   the library functions whose one call can take long, metered or bounded.
 *   lua_pattern.c  string.find/match/gmatch/gsub: Lua patterns, charged to the call's budget.
 *   lua_api.c      the `destek` module a plugin gets from require "destek".
 *   lua_sql.c      what a plugin's SQL may do: the SQLite authorizer, and the checks of its migrations.
 *   lua_route.c    the generic route handler: the request table and turning return values into the response.
 *
 * Threads: a struct lh_state belongs to the thread that built it (or to the reload that collects declarations)
 * and is never touched by another thread. A struct lh_set is shared, read-only once published, and refcounted. */
#ifndef DESTEK_LUA_HOST_INTERNAL_H
#define DESTEK_LUA_HOST_INTERNAL_H

#include <stddef.h>
#include <sqlite3.h>

#include <cjson/cJSON.h>
#include <lauxlib.h>
#include <lua.h>

#include "destek.h"

/* Limits. A call (route, event, job, policy, a plugin's load and init) ends with an error when it runs longer
 * than LH_TIME_LIMIT seconds of wall clock (time spent waiting on the network or the database writer is not
 * counted) or executes more than LH_INSTRUCTION_LIMIT VM instructions; a state may hold LH_MEMORY_LIMIT bytes. */
#define LH_TIME_LIMIT 0.25
#define LH_INSTRUCTION_LIMIT 200000000L
#define LH_HOOK_EVERY 1000
#define LH_MEMORY_LIMIT ((size_t)64 << 20)
#define LH_NAME_MAX 40
#define LH_CHUNK_MAX ((size_t)1 << 20)      /* load(): the largest chunk of text, like a plugin file */
#define LH_JSON_DEPTH 100                   /* nesting of a table converted to JSON */

/* ------------------------------------------------------------------------------------------------ sets */

/* One .lua file: embedded (builtin) or from <data>/plugins. */
struct lh_source {
  int builtin;
  char *origin;       /* "built-in" or the file's path; owned */
  char *stem;         /* file name without ".lua", the plugin's name in logs until its table names it; owned */
  char *chunkname;    /* "@builtin/x.lua" or "@x.lua"; owned */
  const char *text;   /* owned unless builtin */
  size_t len;
};

struct lh_sub_decl { const char *event; int mode; const char *key; };     /* interned */
struct lh_job_decl { const char *job; int seconds; const char *key; };    /* interned */

/* What a plugin declared while it was collected; every string is interned (lives until exit). */
struct lh_decls {
  struct destek_route *routes;  int n_routes;      /* handler = the generic Lua route handler */
  struct lh_sub_decl *subs;     int n_subs;
  struct lh_job_decl *jobs;     int n_jobs;
  struct destek_setting *settings; int n_settings; /* ends with a zeroed entry when n_settings > 0 */
};

/* A plugin that loaded when the set was collected. */
struct lh_plugin {
  const char *name;   /* interned */
  char *version;      /* owned */
  int source;         /* index into set->sources */
  struct lh_decls decls;
};

struct lh_set {
  int refs;                     /* guarded by the host's set lock */
  unsigned gen;
  int n_sources;
  struct lh_source *sources;
  int n_plugins;
  struct lh_plugin *plugins;
};

/* ------------------------------------------------------------------------------------------------ states */

enum lh_kind { LH_ROUTE = 1, LH_ON, LH_ON_ASYNC, LH_EVERY, LH_POLICY };

/* A Lua function of this state that the core can reach: a route by (method, pattern), a handler by key, a policy
 * by name. Pointers are interned strings, so they compare by address. */
struct lh_bind {
  int kind;
  const char *a, *b;  /* route: method, pattern; policy: name; others: key */
  int ref;            /* the function, in the registry */
  int slot;
};

/* One plugin in one state. */
struct lh_slot {
  int source;
  char name[LH_NAME_MAX + 1];   /* the file stem until the table names it */
  int ok;                       /* its table was accepted (and, once init ran, init succeeded) */
  int spec_ref;                 /* the plugin table */
  int module_ref;               /* its destek module */
  int n_on, n_every;            /* counters that make handler keys */
  struct lh_decls decls;        /* filled while collecting */
};

struct lh_state {
  lua_State *L;
  struct lh_set *set;
  unsigned gen;
  int collecting;               /* the state a reload uses to collect declarations (not a thread's) */
  int stale;                    /* rebuild at next use */

  size_t mem, mem_limit;

  /* the call running now */
  int depth;                    /* nesting of runs: 0 when idle */
  double deadline;
  long ticks;                   /* hook calls left */
  long charged;                 /* work charged by C functions (lh_budget_charge), not yet taken from ticks */
  int killed;                   /* the budget ran out: every pcall rethrows until the outermost run ends */
  char why[200];
  struct destek_req *call;
  lua_State *running;           /* the coroutine a re-entering C function was called on (see lh_run) */
  int init_slot;                /* slot whose chunk/init is running (declarations allowed), or -1 */
  struct destek_req *req;       /* the request whose table is current (its lazy fields) */

  int n_slots;
  struct lh_slot *slots;
  int n_binds, cap_binds;
  struct lh_bind *binds;

  char ctype[128];              /* Content-Type of the current response when a plugin set one */
};

/* ------------------------------------------------------------------------------------------------ lua_sandbox.c */

struct lh_state *lh_state_new(struct lh_set *set, int collecting, char *err, size_t errlen);
void lh_state_free(struct lh_state *s);
struct lh_state *lh_state_of(lua_State *L);

/* Pushes a fresh environment for slot (copies of the safe libraries, require returning module, load/print bound
 * to the plugin). module must be on top of the stack; it stays. May raise (memory). */
void lh_push_env(lua_State *L, int slot);

/* Runs f(arg) protected, as a call of slot's plugin within call (may be NULL). The outermost run starts a fresh
 * budget; nested runs (a Lua emit reaching a Lua subscriber) share it. Returns 0, LH_VETO when the error was a
 * veto raised by destek.emit (and the budget did not run out), or -1 with err filled ("file:line: message"). */
enum { LH_VETO = 1 };
int lh_run(struct lh_state *s, int slot, struct destek_req *call, lua_CFunction f, void *arg, char *err,
           size_t errlen);
/* Runs f(ud) protected on L without touching the budget (a C function that holds a resource converts a result).
 * Returns the lua_pcall status; on error the error value is on the stack. */
int lh_protect(lua_State *L, lua_CFunction f, void *ud, int nresults);
/* Time the call spent waiting outside Lua (network, database writer) does not count against its deadline. */
void lh_pause_credit(struct lh_state *s, double seconds);
/* Raises the kill error again if the call's budget ran out (pcall wrappers, re-entry points). */
void lh_check_killed(lua_State *L);
/* Charges work a C function did (in VM-instruction equivalents) to the running call's budget; raises the budget
 * error when the budget or the deadline has run out. Does nothing outside a call, or on a state that is not a
 * plugin state (a unit test's). */
void lh_budget_charge(lua_State *L, long instructions);

/* JSON: push a cJSON value (objects/arrays become tables, null becomes destek.json.null); may raise. */
void lh_push_json(lua_State *L, const cJSON *j);
/* Converts the Lua value at idx; never raises. NULL with err filled when it cannot be represented. */
cJSON *lh_to_json(lua_State *L, int idx, char *err, size_t errlen);
/* Pushes the table marked as a JSON array (for encode of empty tables). */
void lh_mark_array(lua_State *L, int idx);
/* Registers the veto error metatable and creates a veto error value {code="vetoed", message=msg}. */
void lh_push_veto(lua_State *L, const char *msg);
int lh_is_veto(lua_State *L, int idx);

/* Checks the running call's deadline (a coarse clock: a few nanoseconds) and raises the budget error when it has
 * passed; nothing outside a call. */
void lh_budget_check(lua_State *L);

/* ------------------------------------------------------------------------------------------------ lua_limits.c */

/* Replaces, in the global table at index G (before the environments copy it), the library functions whose one call
 * can take long by metered or bounded versions, and the pattern functions by the host's. */
void lh_limits_install(lua_State *L, int G);

/* ------------------------------------------------------------------------------------------------ lua_pattern.c */

/* Replaces find, match, gmatch and gsub in the string table at index with the host's pattern matcher, which
 * charges its work to the call's budget (lh_budget_charge). */
void lh_pattern_install(lua_State *L, int string_table);

/* ------------------------------------------------------------------------------------------------ lua_api.c */

/* Pushes the destek module for slot. May raise (memory). */
void lh_push_module(lua_State *L, int slot);

/* ------------------------------------------------------------------------------------------------ lua_sql.c */

/* Whose SQL is being compiled on this thread, and under which rules: the core's (off), a plugin's db.query or
 * db.exec, a step of its migrations, or the code of its triggers, views and defaults (checked when made; at run
 * time). */
enum lh_sql_mode { LH_SQL_OFF, LH_SQL_QUERY, LH_SQL_EXEC, LH_SQL_MIGRATE, LH_SQL_CHECK, LH_SQL_OBJECT };

/* The authorizer that limits plugin SQL; installed once per connection. It allows the core's statements, except what
 * a Lua plugin's trigger or view inside them does, which keeps its owner's rules. */
void lh_sql_install(sqlite3 *h);
/* From before plugin's statement is prepared until it is finalized (sqlite3_step may compile it again), the
 * authorizer applies the plugin's rules for mode. plugin must outlive the statement. */
void lh_sql_enter(const char *plugin, int mode);
void lh_sql_leave(void);
/* Between enter and leave, after a prepare or step failed with errmsg: why, for the plugin's author ("refused: plugin
 * P may not ..." when the rules refused something, else SQLite's message). */
void lh_sql_why(const char *errmsg, char *why, size_t whylen);
/* Before any Lua plugin loads, on the writer w (held by the caller): installs the authorizer, learns which Lua
 * plugins own objects and which columns are declared SECRET, and drops the triggers of Lua plugins that would write
 * outside their tables (logged). */
struct db;
int lh_sql_start(struct db *w);
/* Applies a Lua plugin's migrations, each step under the plugin's rights and checked before it commits (its objects,
 * and what it changed of others'). 0, or -1 with err filled. */
int lh_migrate(const char *plugin, const struct destek_migration *steps, char *err, size_t errlen);

/* ------------------------------------------------------------------------------------------------ lua_host.c */

/* This thread's state, rebuilt when the set changed (never in the middle of a call); NULL if none can be made. */
struct lh_state *lh_state_get(void);

/* ------------------------------------------------------------------------------------------------ lua_route.c */

/* The handler every Lua route is registered with: it finds the plugin's function in this thread's state. */
int lh_route_handler(struct destek_req *r);

/* Adds a bind to s; returns -1 when a bind of the same kind and keys exists (routes, handlers). */
int lh_bind_add(struct lh_state *s, int kind, const char *a, const char *b, int ref, int slot);
struct lh_bind *lh_bind_find(struct lh_state *s, int kind, const char *a, const char *b);
/* The declared type of a Lua plugin's setting (DESTEK_SETTING_*), or 0 when not declared by a Lua plugin. */
int lh_setting_type(struct lh_state *s, const char *name);
/* Strips the "chunk.lua:12: " position from an error message meant for a person. */
const char *lh_strip_position(const char *msg);

#endif
