/* Shared by the files of the Lua host; no other module includes it.
 *   lua_host.c     plugin sets (sources + what they declared), per-thread states, loading, registration with the
 *                  core, reload, and the C entry points the core calls (routes, events, jobs, policies).
 *   lua_sandbox.c  a state's allocator (memory cap), its hook (instruction budget and wall-clock deadline), the
 *                  sandboxed environment each plugin runs in, protected runs, and Lua <-> JSON conversion.
 *   lua_limits.c   the library functions whose one call can take long, metered or bounded.
 *   lua_pattern.c  string.find/match/gmatch/gsub: Lua patterns, charged to the call's budget.
 *   lua_api.c      the `destek` module a plugin gets from require "destek".
 *   lua_sql.c      what a plugin's SQL may do: the SQLite authorizer, and the checks of its migrations.
 *   lua_route.c    the generic route handler: the request table and turning return values into the response.
 *   lua_module.c   a module that is a folder: its files (require, migrations/NNN_name.sql, templates/, i18n/,
 *                  static/).
 *   lua_page.c     server-rendered pages: HTML values, the template engine (destek.render), destek.page.
 *   lua_upload.c   request forms and file uploads (multipart/form-data), files kept under the data directory.
 *   lua_calls.c    what crosses between a Lua module and the rest: services, one-shot timers, live updates, audit,
 *                  signed links, structured errors, cursors, and destek.text (folding, search queries, snippets).
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

/* Limits. A call (route, event, job, policy, a plugin's load and init) ends with an error when it has run for
 * LH_TIME_LIMIT seconds of its thread's CPU, or LH_WALL_LIMIT seconds of wall clock however little CPU the machine
 * gave it (time spent waiting on the network or the database writer is not counted in either), or executes more than
 * LH_INSTRUCTION_LIMIT VM instructions; a state may hold LH_MEMORY_LIMIT bytes. CPU rather than wall clock alone:
 * on a loaded machine a thread may wait for a core longer than a page takes to render, and that is not the
 * plugin's doing. */
#define LH_TIME_LIMIT 0.25
#define LH_WALL_LIMIT 0.5
/* A worker's state loads plugins that already loaded once at start (or reload) within LH_TIME_LIMIT: there a busy
 * machine, not the plugin, makes the wall clock run, so the worker's load has this longer limit (the instruction
 * budget still ends a loop). */
#define LH_BUILD_TIME_LIMIT 3.0
/* Time a call spends inside unmetered core services (lh_credit: a consent import of 10,000 rows) is given back to
 * its budget, up to this many seconds in all per outermost call: a plugin calling one in a loop still ends. */
#define LH_CREDIT_LIMIT 20.0
extern int lh_offline;          /* lua_host_offline(): the longer limit for every call */
#define LH_INSTRUCTION_LIMIT 200000000L
#define LH_HOOK_EVERY 1000
#define LH_MEMORY_LIMIT ((size_t)64 << 20)
#define LH_NAME_MAX 40
#define LH_CHUNK_MAX ((size_t)1 << 20)      /* load(): the largest chunk of text, like a plugin file */
#define LH_JSON_DEPTH 100                   /* nesting of a table converted to JSON */
/* A plugin's SQL: the longest string, blob or row a statement may make or read, and how much memory SQLite may take
 * for one statement (outside the state's LH_MEMORY_LIMIT), and for one step of its migrations (sorts on the writer,
 * CREATE INDEX among them, happen in memory). */
#define LH_SQL_VALUE_MAX (16 << 20)
#define LH_SQL_MEMORY ((size_t)64 << 20)
#define LH_SQL_MIGRATION_MEMORY ((size_t)256 << 20)

/* ------------------------------------------------------------------------------------------------ sets */

/* A file of a folder module: its name inside the folder ("init.lua", "migrations/001_notes.sql"), its text
 * (NUL-terminated). */
struct lh_file {
  char *name;         /* owned */
  const char *text;   /* owned unless the source is builtin */
  size_t len;
};

/* One .lua file, or a module folder: embedded (builtin) or from <data>/plugins. */
struct lh_source {
  int builtin;
  char *origin;       /* "built-in" or the file's (folder's) path; owned */
  char *stem;         /* file name without ".lua" (the folder's name), the plugin's name in logs until its table
                       * names it; owned */
  char *chunkname;    /* "@builtin/x.lua" or "@x.lua" ("@notes/init.lua" for a folder); owned */
  const char *text;   /* owned unless builtin (a folder's: its init.lua, one of files) */
  size_t len;
  int n_files;        /* a folder module's files, sorted by name (0 for a single-file plugin) */
  struct lh_file *files;
};

struct lh_sub_decl { const char *event; int mode; const char *key; };     /* interned */
struct lh_job_decl { const char *job; int seconds; const char *key; };    /* interned */
/* A timer handler (a: its kind), a service (a: its name), a live stream (a: its event pattern) or a presence subject
 * prefix (a: the prefix), bound to key in each state (kind LH_TIMER, LH_SERVICE, LH_LIVE, LH_SUBJECT). Interned. */
struct lh_extra_decl { int kind; const char *a; const char *key; };

/* What a plugin declared while it was collected; every string is interned (lives until exit). */
struct lh_decls {
  struct destek_route *routes;  int n_routes;      /* handler = the generic Lua route handler */
  struct lh_sub_decl *subs;     int n_subs;
  struct lh_job_decl *jobs;     int n_jobs;
  struct destek_setting *settings; int n_settings; /* ends with a zeroed entry when n_settings > 0 */
  const char **events;          int n_events;      /* the event nouns its table declares (events = {...}) */
  struct lh_extra_decl *extras; int n_extras;      /* lua_calls.c registers them */
  const char **policies;        int n_policies;    /* the policy names it defines (a worker loads it for them) */
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

enum lh_kind { LH_ROUTE = 1, LH_ON, LH_ON_ASYNC, LH_EVERY, LH_POLICY, LH_TIMER, LH_SERVICE, LH_LIVE, LH_SUBJECT };

/* A Lua function of this state that the core can reach: a route by (method, pattern), a handler by key, a policy
 * by name. Pointers are interned strings, so they compare by address. */
struct lh_bind {
  int kind;
  const char *a, *b;  /* route: method, pattern; policy: name; others: key */
  int ref;            /* the function, in the registry */
  int slot;
  const char *opts;   /* a route's options (lua_upload.c, lua_page.c), interned "key=value ..." text, or NULL */
};

/* One plugin in one state. */
struct lh_slot {
  int source;
  char name[LH_NAME_MAX + 1];   /* the file stem until the table names it */
  int ok;                       /* its table was accepted (and, once init ran, init succeeded) */
  int loaded;                   /* a worker's state: 0 not yet (loaded at first use), 1 loading or loaded, -1 failed */
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
  double deadline;              /* when to look at the call's time again: its CPU may not be all used yet */
  double wall_deadline;         /* the LH_WALL_LIMIT */
  double cpu_start;             /* the thread's CPU time when the outermost run began */
  double credited;              /* wall seconds given back by lh_credit in this outermost run (LH_CREDIT_LIMIT) */
  int building;                 /* state_build is loading plugins into this worker's state: LH_BUILD_TIME_LIMIT */
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
  struct lh_bind **binds;       /* each allocated on its own: a bind stays put while a load adds others */
  int n_unloaded;               /* a worker's state: slots not loaded yet */

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
/* 1 when the running call has used up its time (lh_deadline_passed moves s->deadline on while its thread's CPU
 * time is under LH_TIME_LIMIT and its wall clock under LH_WALL_LIMIT). */
int lh_deadline_passed(struct lh_state *s);
/* Time the call spent waiting outside Lua (network, database writer) does not count against its deadline. */
void lh_pause_credit(struct lh_state *s, double seconds);
/* Takes back from the running call's budget the wall-clock and CPU seconds an unmetered core service ran for
 * (services_publish_unmetered). */
void lh_credit(struct lh_state *s, double wall, double cpu);
double lh_thread_cpu(void);
/* Loading a plugin into a worker's state inside a running call (lua_host.c) runs on a budget of its own, a worker
 * load's (LH_BUILD_TIME_LIMIT, a fresh instruction count), and the time it takes is not charged to the call:
 * lh_budget_push saves the call's budget and starts the load's, lh_budget_pop gives the call its own back (a load
 * that ran out of its budget failed, logged; the call goes on without the plugin). */
struct lh_budget { double deadline, wall_deadline, cpu_start, t0, c0; long ticks, charged; int building, killed; };
void lh_budget_push(struct lh_state *s, struct lh_budget *saved);
/* Starts the load's budget again (after waiting for the load lock). */
void lh_budget_load(struct lh_state *s);
void lh_budget_pop(struct lh_state *s, const struct lh_budget *saved);
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
/* The version of the rules' inputs (the owners and SECRET columns known): a statement a plugin prepared under an
 * older one is prepared again rather than reused from a cache. */
unsigned long lh_sql_rules_gen(void);
/* From before a plugin's statement on h is prepared until it is finalized: a string, blob or row of at most
 * LH_SQL_VALUE_MAX bytes, and SQLite's memory on this thread bounded by memory bytes (db_budget_begin). Not nested.
 * lh_sql_unbound restores h's limit and returns 1 when the memory budget refused an allocation. */
void lh_sql_bound(sqlite3 *h, size_t memory);
int lh_sql_unbound(sqlite3 *h);
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

/* ------------------------------------------------------------------------------------------------ lua_module.c */

/* Reads the folder dir (a merchant's <data>/plugins/NAME/, with an init.lua) into src: its *.lua files (not under
 * web/), migrations/NNN_name.sql, templates/, i18n/LANG.json and static/. 0, or -1 with err filled. */
int lh_module_read_dir(const char *dir, const char *name, struct lh_source *src, char *err, size_t errlen);
/* Adds the built-in folder modules (plugins/NAME/ with an init.lua, embedded by the build) to sources; returns how
 * many it added (at most max). */
int lh_module_builtin(struct lh_source *sources, int max);
/* Frees a folder module's files (the rest of src is the caller's). */
void lh_module_free(struct lh_source *src);
/* Adds the strings of a folder module's i18n/<lang>.json files to the plugin table at spec (its i18n, where the
 * table's own strings win). May raise (a malformed file, memory). */
void lh_module_i18n(lua_State *L, int spec, const struct lh_source *src);
/* The file name of src's folder ("templates/page.html"), or NULL. */
const struct lh_file *lh_module_file(const struct lh_source *src, const char *name);
/* The environment at env (of slot's plugin) gets its require: "destek", or a .lua file of the plugin's own folder
 * ("store" is store.lua, "lib.text" lib/text.lua), run once in the same environment. May raise (memory). */
void lh_module_env(lua_State *L, int slot, int env);
/* The migration steps of a folder module's migrations/NNN_name.sql files into *steps (a zeroed entry ends them;
 * caller frees the array, the texts are src's): the number of steps, or -1 with err filled. */
int lh_module_migrations(const struct lh_source *src, struct destek_migration **steps, char *err, size_t errlen);

/* ------------------------------------------------------------------------------------------------ extensions */

/* Each adds its functions to the destek module table on top of the stack (slot's). May raise (memory). */
void lh_page_push(lua_State *L, int slot);      /* lua_page.c */
/* destek.markdown (lua_markdown.c); lh_url_ok: whether u may be a link (image: an image's src) on a page. */
int lh_markdown(lua_State *L);
int lh_markdown_text(lua_State *L);
int lh_url_ok(const char *u, int image);
void lh_upload_push(lua_State *L, int slot);    /* lua_upload.c */
void lh_calls_push(lua_State *L, int slot);     /* lua_calls.c */
void lh_cache_push(lua_State *L, int slot);     /* lua_cache.c: destek.cache, destek.counter */
/* Turns the string on top of the stack into an HTML value whose ETag is known (lua_page.c; a kept page's). */
void lh_html_from_string(lua_State *L, const char *etag);
/* The caller's language as destek.lang() answers it: a signed-in user's, else "tr" when Accept-Language starts with
 * Turkish, else "en" (lua_page.c). */
const char *lh_caller_lang(struct destek_req *r);
/* The text value of key in an options text ("cache_query=lang,voted"), copied into out (outlen bytes): 1, or 0 when
 * absent. */
int lh_opt_text(const char *opts, const char *key, char *out, size_t outlen);

/* lua_route.c's hooks into lua_route's request and response (lua_upload.c, lua_page.c, lua_calls.c). */
/* Reads a route's options table at idx (destek.route's fifth argument): params, max_body, uploads, page. Fills
 * *params and *max_body and returns the interned options text (NULL when none). Raises on a bad option. */
const char *lh_route_options(lua_State *L, int idx, const char **params, size_t *max_body);
/* The value of key in an options text ("files=5 images=1"), or dflt. */
long lh_opt(const char *opts, const char *key, long dflt);
/* Before the handler: r is the request whose form and files req.form and req.files read, under the route's options. */
void lh_upload_begin(struct destek_req *r, const char *opts);
/* Reads r's body if it is not read yet; the time the client takes to send it does not count against the call. */
void lh_read_body(lua_State *L, struct destek_req *r);
/* req.form and req.files (pushes the value and returns 1), or 0 for another key. */
int lh_upload_index(lua_State *L, struct destek_req *r, const char *key);
/* Forgets what lh_upload_check parsed for r (after the handler). */
void lh_upload_done(struct destek_req *r);
/* A handler's body that is an HTML value or a file: sets up the response (and returns 1), or 0 for another value.
 * May set up an error (a file that is gone). */
int lh_page_reply(lua_State *L, int idx, struct destek_req *r, int status, const char *opts);
int lh_file_reply(lua_State *L, int idx, struct destek_req *r, int status);   /* files.serve, asset */
/* Pushes an HTML value holding text (safe HTML the host made). May raise (memory). */
void lh_push_html(lua_State *L, const char *text, size_t len);
/* The text of the HTML value at idx, or NULL when it is not one. */
const char *lh_html_text(lua_State *L, int idx, size_t *len);
/* Pushes an error value {status, code, message[, field]} (destek.error); raising it from a route answers with it. */
void lh_push_error(lua_State *L, int status, const char *code, const char *message, const char *field);
/* lua_pcall, except that an error value (destek.error) is caught: 0 when the call returned, 1 with the error value on
 * the stack; any other error, and the budget's, is raised again (a memory error as lh_run reports one). */
int lh_pcall_errors(lua_State *L, int nargs, int nresults);
/* An error value made by destek.error (or destek.call's second result) at idx: sets it up on r, returns its status;
 * 0 when the value is not one. */
int lh_error_apply(lua_State *L, int idx, struct destek_req *r);
/* Registers / forgets what lh_decls.extras declares (timers, services, live streams and subjects). */
void lh_calls_register(const char *plugin, const struct lh_decls *d);
void lh_calls_unregister(const char *plugin);
/* At start-up, on the writer (held): makes sure the key signed links derive from exists. */
int lh_calls_start(struct db *w);

/* ------------------------------------------------------------------------------------------------ lua_route.c */

/* The handler every Lua route is registered with: it finds the plugin's function in this thread's state. */
int lh_route_handler(struct destek_req *r);

/* Adds a bind to s; returns -1 when a bind of the same kind and keys exists (routes, handlers). */
int lh_bind_add(struct lh_state *s, int kind, const char *a, const char *b, int ref, int slot);
struct lh_bind *lh_bind_find(struct lh_state *s, int kind, const char *a, const char *b);
/* The declared type of a Lua plugin's setting (DESTEK_SETTING_*), or 0 when not declared by a Lua plugin. */
int lh_setting_type(struct lh_state *s, const char *name);
/* Whether slot's plugin may emit event: its noun (the part before the first '.') is the plugin's name or one its
 * table declares in events = {...}. When not, *owner is who owns the noun (the core, a C module, another Lua
 * plugin), or NULL when nobody does. */
int lh_may_emit(struct lh_state *s, int slot, const char *event, const char **owner);
/* Strips the "chunk.lua:12: " position from an error message meant for a person. */
const char *lh_strip_position(const char *msg);

#endif
