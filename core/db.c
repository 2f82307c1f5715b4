/* Storage: the writer connection, per-thread readers, a statement cache, and migrations. */
#include "db.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "log.h"
#include "util.h"

/* The statement cache: an open-addressing table keyed by the address of the SQL text (the code's string
 * literals), verified against the statement's own text so that a reused address (a plugin reloaded at the same
 * place) never answers with another statement. It grows instead of evicting: the set of SQL texts is the code's, so
 * it is bounded, and an eviction could finalize a statement still being stepped by a caller up the stack. */
#define STMT_CACHE_START 256

struct cached_stmt { const char *sql; sqlite3_stmt *st; };

/* The keyed cache (db_keyed_take/db_keyed_put): statements of SQL texts that are not the code's literals (a Lua
 * plugin's), keyed by their text and a tag that names whose rules compiled them. Bounded: the least recently used is
 * finalized when it is full. A statement is out of the cache while its caller uses it, so an eviction never finalizes
 * one in use, and two uses of the same text at once simply prepare a second one. */
#define KEYED_MAX 32

struct keyed_stmt {
  char *key;            /* tag, NUL, sql (owned) */
  size_t tag_len, sql_len;
  unsigned long hash, used, gen;
  sqlite3_stmt *st;
};

struct db {
  sqlite3 *h;
  struct cached_stmt *cache;   /* cache_cap slots (a power of two), cache_count in use */
  size_t cache_cap, cache_count;
  struct keyed_stmt keyed[KEYED_MAX];
  int n_keyed;
  unsigned long keyed_clock;
  struct db *next_reader;   /* list of all readers, closed at shutdown */
};

static char *database_path;
static int durability_full;
static struct db *writer;
static pthread_mutex_t writer_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t readers_lock = PTHREAD_MUTEX_INITIALIZER;
static struct db *readers;
static pthread_key_t reader_key;
static pthread_once_t reader_key_once = PTHREAD_ONCE_INIT;

static void reader_destroy(void *p);
static void make_reader_key(void) { pthread_key_create(&reader_key, reader_destroy); }

/* ------------------------------------------------------------------------------------------------ memory budgets */

/* SQLite's allocator, wrapped: while this thread has a budget, its allocations are counted (by their real size) and
 * refused past it. The wrapper is installed before SQLite initialises (the first connection); outside a budget it only
 * reads a thread-local flag. */
static sqlite3_mem_methods mem_base;
static int mem_wrapped;
static pthread_once_t mem_once = PTHREAD_ONCE_INIT;
static __thread int tl_budget_on, tl_budget_refused;
static __thread sqlite3_int64 tl_budget_left;

static void *mem_malloc(int n)
{
  if (!tl_budget_on) return mem_base.xMalloc(n);
  if (n > tl_budget_left) { tl_budget_refused = 1; return NULL; }
  void *p = mem_base.xMalloc(n);
  if (p) tl_budget_left -= mem_base.xSize(p);
  return p;
}

static void mem_free(void *p)
{
  if (tl_budget_on && p) tl_budget_left += mem_base.xSize(p);
  mem_base.xFree(p);
}

static void *mem_realloc(void *p, int n)
{
  if (!tl_budget_on) return mem_base.xRealloc(p, n);
  int old = p ? mem_base.xSize(p) : 0;
  if (n - old > tl_budget_left) { tl_budget_refused = 1; return NULL; }
  void *q = mem_base.xRealloc(p, n);
  if (q) tl_budget_left -= mem_base.xSize(q) - old;
  return q;
}

static int mem_size(void *p) { return mem_base.xSize(p); }
static int mem_roundup(int n) { return mem_base.xRoundup(n); }
static int mem_init(void *ud) { (void)ud; return mem_base.xInit(mem_base.pAppData); }
static void mem_shutdown(void *ud) { (void)ud; mem_base.xShutdown(mem_base.pAppData); }

static void mem_setup(void)
{
  static const sqlite3_mem_methods wrapped = { mem_malloc, mem_free, mem_realloc, mem_size, mem_roundup, mem_init,
                                               mem_shutdown, NULL };
  if (sqlite3_config(SQLITE_CONFIG_GETMALLOC, &mem_base) == SQLITE_OK &&
      sqlite3_config(SQLITE_CONFIG_MALLOC, &wrapped) == SQLITE_OK)
    mem_wrapped = 1;
  else
    log_warn("db", "SQLite was initialised before its allocator could be wrapped: plugins' SQL has no memory budget");
}

void db_budget_begin(size_t bytes)
{
  tl_budget_refused = 0;
  tl_budget_left = (sqlite3_int64)bytes;
  tl_budget_on = mem_wrapped;
}

int db_budget_hit(void) { return tl_budget_refused; }

int db_budget_end(void)
{
  tl_budget_on = 0;
  return tl_budget_refused;
}

static int run_pragma(sqlite3 *h, const char *sql)
{
  char *msg = NULL;
  int rc = sqlite3_exec(h, sql, NULL, NULL, &msg);
  if (rc != SQLITE_OK) {
    log_error("db", "%s: %s", sql, msg ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
  }
  return rc;
}

/* What no statement on a server connection needs, taken away before any runs (Lua plugins' SQL is also limited by
 * their authorizer, lua_sql.c; this is the second wall). Debian builds SQLite with FTS3, its fts3_tokenizer() (which
 * hands out and takes function pointers: native code from SQL), R-Tree, dbstat and sqlite_stmt:
 *   - defensive mode: no writable_schema, no direct writes to shadow tables (an FTS5 index's _data rows);
 *   - the two-argument fts3_tokenizer() switched off, and the function itself deleted (the switch does not cover
 *     the one-argument form, which leaks a pointer, nor a pointer passed as a bound parameter);
 *   - every virtual table module dropped except fts5 (the search index) and json_each/json_tree;
 *   - the R-Tree functions that parse raw node blobs deleted. */
static const struct { const char *name; int args; } drop_functions[] = {
  { "fts3_tokenizer", 1 }, { "fts3_tokenizer", 2 }, { "rtreenode", 2 }, { "rtreedepth", 1 }, { "rtreecheck", -1 },
};

int db_function_removed(const char *name)
{
  for (size_t i = 0; name && i < sizeof drop_functions / sizeof *drop_functions; i++)
    if (!strcasecmp(drop_functions[i].name, name)) return 1;
  return 0;
}

/* ------------------------------------------------------------------------------------------------ printf, guarded */

/* SQLite 3.40's printf() (and format()) repeats %c once per unit of precision even after the result has outgrown the
 * length limit, so printf('%.*c', 2000000000, 'x') loops for seconds inside one function call, where no progress
 * handler (no time budget) reaches, and on the writer every other write waits. The guard refuses a width or precision
 * above the connection's length limit as too big, then runs SQLite's own printf, with the same arguments and limit, on
 * a private in-memory connection of the thread (closed by db_reader_release). */
#define FMT_MAX_ARGS 128

static __thread sqlite3 *tl_fmt_db;
/* Statements by argument count, allocated with tl_fmt_db (1 KB in every thread's static TLS otherwise). */
static __thread sqlite3_stmt **tl_fmt_st;

static void fmt_release(void)
{
  for (int i = 0; tl_fmt_st && i <= FMT_MAX_ARGS; i++) sqlite3_finalize(tl_fmt_st[i]);
  free(tl_fmt_st);
  tl_fmt_st = NULL;
  sqlite3_close(tl_fmt_db);
  tl_fmt_db = NULL;
}

/* Whether a width or precision of fmt, written in it or taken from an argument ('*'), is above max. Any argument may
 * be the one a '*' takes, so with a '*' in fmt every argument counts. */
static int fmt_too_big(const char *fmt, int argc, sqlite3_value **argv, sqlite3_int64 max)
{
  int star = 0;
  for (const char *p = fmt; (p = strchr(p, '%'));) {
    p++;
    while (*p && strchr("-+ #!0,", *p)) p++;
    for (int part = 0; part < 2; part++) {
      if (*p == '*') { star = 1; p++; }
      sqlite3_int64 n = 0;
      while (*p >= '0' && *p <= '9') if ((n = n * 10 + (*p++ - '0')) > max) return 1;
      if (part == 0 && *p == '.') p++;
      else break;
    }
    if (*p == '%') p++;
  }
  for (int i = 1; star && i < argc; i++) {
    sqlite3_int64 n = sqlite3_value_int64(argv[i]);
    if (n > max || n < -max) return 1;
  }
  return 0;
}

static void fmt_guarded(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
  sqlite3 *outer = sqlite3_context_db_handle(ctx);
  int max = sqlite3_limit(outer, SQLITE_LIMIT_LENGTH, -1);
  const char *fmt = argc > 0 ? (const char *)sqlite3_value_text(argv[0]) : NULL;
  if (fmt && fmt_too_big(fmt, argc, argv, max)) { sqlite3_result_error_toobig(ctx); return; }
  if (argc > FMT_MAX_ARGS) { sqlite3_result_error(ctx, "too many arguments on function printf", -1); return; }
  if (!tl_fmt_db && (sqlite3_open_v2(":memory:", &tl_fmt_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) ||
                     !(tl_fmt_st = calloc(FMT_MAX_ARGS + 1, sizeof *tl_fmt_st)))) {
    fmt_release();
    sqlite3_result_error_nomem(ctx);
    return;
  }
  sqlite3_limit(tl_fmt_db, SQLITE_LIMIT_LENGTH, max);
  sqlite3_stmt **st = &tl_fmt_st[argc];
  if (!*st) {
    char sql[16 + 5 * FMT_MAX_ARGS] = "SELECT printf(";
    size_t n = strlen(sql);
    for (int i = 1; i <= argc; i++) n += (size_t)snprintf(sql + n, sizeof sql - n, "%s?%d", i > 1 ? "," : "", i);
    snprintf(sql + n, sizeof sql - n, ")");
    if (sqlite3_prepare_v2(tl_fmt_db, sql, -1, st, NULL) != SQLITE_OK) {
      sqlite3_result_error(ctx, sqlite3_errmsg(tl_fmt_db), -1);
      return;
    }
  }
  for (int i = 0; i < argc; i++) sqlite3_bind_value(*st, i + 1, argv[i]);
  int rc = sqlite3_step(*st);
  if (rc == SQLITE_ROW) sqlite3_result_value(ctx, sqlite3_column_value(*st, 0));
  else if (rc == SQLITE_TOOBIG) sqlite3_result_error_toobig(ctx);
  else if (rc == SQLITE_NOMEM) sqlite3_result_error_nomem(ctx);
  else sqlite3_result_error(ctx, sqlite3_errmsg(tl_fmt_db), -1);
  sqlite3_reset(*st);
  sqlite3_clear_bindings(*st);
}

static void conn_harden(sqlite3 *h)
{
  static const char *const keep_modules[] = { "fts5", "json_each", "json_tree", NULL };
  sqlite3_db_config(h, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
  sqlite3_db_config(h, SQLITE_DBCONFIG_ENABLE_FTS3_TOKENIZER, 0, (int *)NULL);
  sqlite3_db_config(h, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, (int *)NULL);
  sqlite3_drop_modules(h, (const char **)keep_modules);
  for (size_t i = 0; i < sizeof drop_functions / sizeof *drop_functions; i++)
    sqlite3_create_function_v2(h, drop_functions[i].name, drop_functions[i].args, SQLITE_UTF8, NULL, NULL, NULL,
                               NULL, NULL);
  static const char *const guarded[] = { "printf", "format" };
  for (size_t i = 0; i < sizeof guarded / sizeof *guarded; i++)
    sqlite3_create_function_v2(h, guarded[i], -1, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
                               fmt_guarded, NULL, NULL, NULL);
}

static struct db *conn_open(int for_writer, char *err, size_t errlen)
{
  pthread_once(&mem_once, mem_setup);
  sqlite3 *h = NULL;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (for_writer ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(database_path, &h, flags, NULL);
  if (rc != SQLITE_OK) {
    snprintf(err, errlen, "cannot open database %s: %s", database_path, h ? sqlite3_errmsg(h) : sqlite3_errstr(rc));
    sqlite3_close(h);
    return NULL;
  }
  sqlite3_busy_timeout(h, 5000);
  sqlite3_extended_result_codes(h, 0);
  sqlite3_limit(h, SQLITE_LIMIT_LENGTH, DB_VALUE_MAX);
  conn_harden(h);
  if (for_writer) {
    if (run_pragma(h, "PRAGMA journal_mode=WAL") ||
        run_pragma(h, durability_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL") ||
        run_pragma(h, "PRAGMA foreign_keys=ON") ||
        run_pragma(h, "PRAGMA journal_size_limit=67108864") ||
        /* Savepoints (one per request in a group commit, one per event) keep the pages they change in a
         * sub-journal: in memory, not a temporary file written for every request. */
        run_pragma(h, "PRAGMA temp_store=MEMORY")) {
      snprintf(err, errlen, "cannot configure database %s: %s", database_path, sqlite3_errmsg(h));
      sqlite3_close(h);
      return NULL;
    }
  } else {
    /* Readers never checkpoint: only the writer may (the WAL-reset race). */
    sqlite3_db_config(h, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)NULL);
    /* A small page cache per reader (128 KiB): there is one per worker thread, and the OS caches the file anyway.
     * Under tests/bench/tickets.sh's 32 connections every worker holds a reader: 512 KiB each was ~12 MiB of the
     * peak RSS (76.5 -> 59.1 MiB with this and ticketing's list reading no message per row); the price is more
     * reads from the OS's cache on a list of 50 tickets (~+20% of its CPU, measured under load). */
    if (run_pragma(h, "PRAGMA wal_autocheckpoint=0") || run_pragma(h, "PRAGMA query_only=1") ||
        run_pragma(h, "PRAGMA cache_size=-128") ||
        run_pragma(h, "PRAGMA foreign_keys=ON")) {
      snprintf(err, errlen, "cannot configure read connection: %s", sqlite3_errmsg(h));
      sqlite3_close(h);
      return NULL;
    }
  }
  struct db *db = calloc(1, sizeof *db);
  if (!db) abort();
  db->h = h;
  db->cache_cap = STMT_CACHE_START;
  db->cache = calloc(db->cache_cap, sizeof *db->cache);
  if (!db->cache) abort();
  return db;
}

static void conn_close(struct db *db)
{
  if (!db) return;
  for (size_t i = 0; i < db->cache_cap; i++)
    if (db->cache[i].st) sqlite3_finalize(db->cache[i].st);
  free(db->cache);
  db_keyed_clear(db);
  int rc = sqlite3_close(db->h);
  if (rc != SQLITE_OK) log_error("db", "close: %s", sqlite3_errstr(rc));
  free(db);
}

int db_open(const char *path, int full, char *err, size_t errlen)
{
  database_path = util_strdup(path);
  durability_full = full;
  writer = conn_open(1, err, errlen);
  if (!writer) return -1;
  chmod(path, 0600);
  return 0;
}

const char *db_path(void) { return database_path; }

void db_close_all(void)
{
  fmt_release();
  pthread_mutex_lock(&readers_lock);
  struct db *r = readers;
  readers = NULL;
  pthread_mutex_unlock(&readers_lock);
  while (r) {
    struct db *next = r->next_reader;
    conn_close(r);
    r = next;
  }
  if (writer) {
    pthread_mutex_lock(&writer_lock);
    conn_close(writer);
    writer = NULL;
    pthread_mutex_unlock(&writer_lock);
  }
  free(database_path);
  database_path = NULL;
}

static void reader_unlink(struct db *db)
{
  pthread_mutex_lock(&readers_lock);
  for (struct db **p = &readers; *p; p = &(*p)->next_reader)
    if (*p == db) { *p = db->next_reader; break; }
  pthread_mutex_unlock(&readers_lock);
}

static void reader_destroy(void *p)
{
  struct db *db = p;
  if (!db) return;
  reader_unlink(db);
  conn_close(db);
}

struct db *db_reader(void)
{
  pthread_once(&reader_key_once, make_reader_key);
  struct db *db = pthread_getspecific(reader_key);
  if (db) return db;
  if (!database_path) return NULL;
  char err[256];
  db = conn_open(0, err, sizeof err);
  if (!db) { log_error("db", "%s", err); return NULL; }
  pthread_mutex_lock(&readers_lock);
  db->next_reader = readers;
  readers = db;
  pthread_mutex_unlock(&readers_lock);
  pthread_setspecific(reader_key, db);
  return db;
}

/* BEGIN and COMMIT of a reader's snapshot, as statements kept in its cache (not parsed again for every request). */
static const char SQL_READ_BEGIN[] = "BEGIN", SQL_READ_COMMIT[] = "COMMIT";

static int reader_step(struct db *db, const char *sql)
{
  sqlite3_stmt *st = db_prepare(db, sql);
  if (!st) return SQLITE_ERROR;
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  if (rc == SQLITE_DONE) return SQLITE_OK;
  log_error("db", "%s: %s", sql, sqlite3_errmsg(db->h));
  return rc;
}

int db_reader_snapshot(void)
{
  struct db *db = db_reader();
  if (!db) return -1;
  if (!sqlite3_get_autocommit(db->h)) return 0;            /* one is open already */
  return reader_step(db, SQL_READ_BEGIN) == SQLITE_OK ? 0 : -1;
}

void db_reader_snapshot_end(void)
{
  pthread_once(&reader_key_once, make_reader_key);
  struct db *db = pthread_getspecific(reader_key);
  if (!db || sqlite3_get_autocommit(db->h)) return;
  /* every statement of the connection is reset when given back (db_done), so nothing is in progress */
  if (reader_step(db, SQL_READ_COMMIT) != SQLITE_OK) {
    sqlite3_stmt *st = NULL;
    while ((st = sqlite3_next_stmt(db->h, st))) sqlite3_reset(st);
    if (reader_step(db, SQL_READ_COMMIT) != SQLITE_OK) log_error("db", "a reader's read transaction could not end: %s",
                                                                sqlite3_errmsg(db->h));
  }
}

void db_reader_release(void)
{
  fmt_release();
  pthread_once(&reader_key_once, make_reader_key);
  struct db *db = pthread_getspecific(reader_key);
  if (!db) return;
  pthread_setspecific(reader_key, NULL);
  reader_destroy(db);
}

/* --- group commit ---
 * Requests write in one shared transaction, each inside its own savepoint (db_tx_begin/db_tx_end). The caller that
 * leaves the batch when nobody else is queued for the writer commits it for everyone, and the others (who wait for
 * that commit before they answer) learn the outcome: one COMMIT, one WAL write of the shared pages and one flush of
 * the search index for many requests. A caller that wants the writer outside a batch (db_writer_acquire: the bus,
 * jobs, tools) first commits the open batch. Everything here runs under writer_lock. */
#define BATCH_MAX 64   /* members per batch: bounds how long the first waits for the commit */

struct batch_waiter {
  struct batch_waiter *next;
  int done, ok;
};

static atomic_int writer_wanted;          /* threads queued on writer_lock (not those waiting for a commit) */
static int batch_open, batch_pending;     /* a batch transaction is open; members waiting for its commit */
static int batch_lost;                    /* SQLite rolled it back under a member (db_tx_check) */
static struct batch_waiter *batch_waiters;
static pthread_cond_t batch_cond = PTHREAD_COND_INITIALIZER;

/* Whether this thread holds writer_lock: taking it again would wait for itself (db_writer_held). */
static __thread int writer_held_here;

static void writer_lock_take(void)
{
  atomic_fetch_add(&writer_wanted, 1);
  pthread_mutex_lock(&writer_lock);
  atomic_fetch_sub(&writer_wanted, 1);
  writer_held_here = 1;
}

static void writer_lock_give(void)
{
  writer_held_here = 0;
  pthread_mutex_unlock(&writer_lock);
}

int db_writer_held(void) { return writer_held_here; }

/* Commits (ok) or rolls back the open batch and tells its waiting members. 0 when committed. */
static int batch_finish(int ok)
{
  int rc = -1;
  if (batch_lost) ok = 0;
  if (ok) rc = db_commit(writer);
  else db_rollback(writer);
  for (struct batch_waiter *w = batch_waiters; w; w = w->next) {
    w->done = 1;
    w->ok = rc == 0;
  }
  batch_waiters = NULL;
  batch_open = batch_pending = batch_lost = 0;
  pthread_cond_broadcast(&batch_cond);
  return rc;
}

struct db *db_writer_acquire(void)
{
  writer_lock_take();
  if (batch_open) batch_finish(1);
  return writer;
}

void db_writer_release(struct db *w)
{
  (void)w;
  writer_lock_give();
}

void db_release_memory(struct db *db)
{
  sqlite3_db_release_memory(db->h);
}

struct db *db_tx_begin(void)
{
  writer_lock_take();
  if (!writer) { writer_lock_give(); return NULL; }
  if (!batch_open) {
    if (db_begin(writer) != 0) { writer_lock_give(); return NULL; }
    batch_open = 1;
  }
  if (db_exec(writer, "SAVEPOINT db_tx", NULL) != SQLITE_OK) {
    /* Members waiting for this batch would wait for the next writer: commit what they wrote now. */
    batch_finish(batch_pending > 0);
    writer_lock_give();
    return NULL;
  }
  return writer;
}

int db_tx_end(struct db *w, int commit)
{
  (void)w;
  int kept = commit && !batch_lost && db_exec(writer, "RELEASE db_tx", NULL) == SQLITE_OK;
  if (!kept && !batch_lost) {
    db_exec(writer, "ROLLBACK TO db_tx", NULL);
    db_exec(writer, "RELEASE db_tx", NULL);
  }
  if (batch_lost || (!batch_pending && !kept)) {   /* nothing of anyone's to keep */
    batch_finish(0);
    writer_lock_give();
    return -1;
  }
  if (kept) batch_pending++;
  if (atomic_load(&writer_wanted) == 0 || batch_pending >= BATCH_MAX) {
    int rc = batch_finish(1);
    writer_lock_give();
    return kept && rc == 0 ? 0 : -1;
  }
  if (!kept) { writer_lock_give(); return -1; }
  /* Someone is queued for the writer: they continue the batch, and whoever leaves it last commits it. */
  struct batch_waiter me = { batch_waiters, 0, 0 };
  batch_waiters = &me;
  writer_held_here = 0;
  while (!me.done) pthread_cond_wait(&batch_cond, &writer_lock);
  pthread_mutex_unlock(&writer_lock);
  return me.ok ? 0 : -1;
}

int db_tx_check(struct db *w)
{
  if (w != writer || !batch_open || !sqlite3_get_autocommit(w->h)) return w == writer && batch_lost;
  if (!batch_lost)
    log_warn("db", "SQLite rolled back the open transaction (a statement was interrupted or ran out of memory):"
                   " the writes of every call in it are lost, and each of those calls fails");
  batch_lost = 1;
  if (db_begin(w) != 0) log_error("db", "cannot begin a transaction after the loss: %s", sqlite3_errmsg(w->h));
  return 1;
}

int db_tx_undo(struct db *w)
{
  return db_exec(w, "ROLLBACK TO db_tx", NULL) == SQLITE_OK ? 0 : -1;
}

void db_checkpoint(void)
{
  struct db *w = db_writer_acquire();
  if (w) sqlite3_wal_checkpoint_v2(w->h, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
  db_writer_release(w);
}

int db_begin(struct db *w) { return run_pragma(w->h, "BEGIN IMMEDIATE") == SQLITE_OK ? 0 : -1; }

#define PRECOMMIT_MAX 16
static struct { int (*before)(struct db *w, void *ud); void (*done)(int committed, void *ud); void *ud; }
  precommit[PRECOMMIT_MAX];
static int n_precommit;

int db_on_commit(int (*before)(struct db *w, void *ud), void (*done)(int committed, void *ud), void *ud)
{
  if (n_precommit == PRECOMMIT_MAX) {
    log_error("db", "too many commit hooks (at most %d)", PRECOMMIT_MAX);
    return -1;
  }
  precommit[n_precommit].before = before;
  precommit[n_precommit].done = done;
  precommit[n_precommit].ud = ud;
  n_precommit++;
  return 0;
}

static void precommit_done(int committed)
{
  for (int i = 0; i < n_precommit; i++) if (precommit[i].done) precommit[i].done(committed, precommit[i].ud);
}

int db_commit(struct db *w)
{
  int rc = 0;
  for (int i = 0; i < n_precommit && rc == 0; i++)
    if (precommit[i].before && precommit[i].before(w, precommit[i].ud) != 0) rc = -1;
  if (rc == 0 && run_pragma(w->h, "COMMIT") == SQLITE_OK) {
    precommit_done(1);
    return 0;
  }
  db_rollback(w);
  return -1;
}

void db_rollback(struct db *w)
{
  if (!sqlite3_get_autocommit(w->h)) sqlite3_exec(w->h, "ROLLBACK", NULL, NULL, NULL);
  precommit_done(0);
}

int db_in_tx(struct db *db) { return !sqlite3_get_autocommit(db->h); }

static size_t slot_of(const char *sql, size_t cap)
{
  uint64_t x = (uint64_t)(uintptr_t)sql;
  x ^= x >> 29;
  x *= 0xbf58476d1ce4e5b9ULL;   /* splitmix64's mixer: literal addresses are close together */
  x ^= x >> 32;
  return (size_t)x & (cap - 1);
}

static void cache_grow(struct db *db)
{
  size_t cap = db->cache_cap * 2;
  struct cached_stmt *grown = calloc(cap, sizeof *grown);
  if (!grown) abort();
  for (size_t i = 0; i < db->cache_cap; i++) {
    if (!db->cache[i].st) continue;
    size_t j = slot_of(db->cache[i].sql, cap);
    while (grown[j].st) j = (j + 1) & (cap - 1);
    grown[j] = db->cache[i];
  }
  free(db->cache);
  db->cache = grown;
  db->cache_cap = cap;
}

static sqlite3_stmt *prepare_new(struct db *db, const char *sql)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v3(db->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
    log_error("db", "prepare failed: %s: %s", sqlite3_errmsg(db->h), sql);
    return NULL;
  }
  return st;
}

sqlite3_stmt *db_prepare(struct db *db, const char *sql)
{
  size_t mask = db->cache_cap - 1, i = slot_of(sql, db->cache_cap);
  struct cached_stmt *c;
  for (; (c = &db->cache[i])->st; i = (i + 1) & mask) {
    if (c->sql != sql) continue;
    if (!strcmp(sqlite3_sql(c->st), sql)) return c->st;
    /* The same address now holds other SQL (a plugin was reloaded): the old statement cannot be in use, its text
     * is gone. Replaced in place, so the probe chain stays whole. */
    sqlite3_stmt *st = prepare_new(db, sql);
    if (!st) return NULL;
    sqlite3_finalize(c->st);
    c->st = st;
    return st;
  }
  sqlite3_stmt *st = prepare_new(db, sql);
  if (!st) return NULL;
  c->sql = sql;
  c->st = st;
  if (++db->cache_count * 2 > db->cache_cap) cache_grow(db);
  return st;
}

/* ------------------------------------------------------------------------------------------------ keyed cache */

static unsigned long keyed_hash(const char *tag, size_t tag_len, const char *sql, size_t sql_len)
{
  unsigned long h = 1469598103934665603UL;   /* FNV-1a */
  for (size_t i = 0; i < tag_len; i++) h = (h ^ (unsigned char)tag[i]) * 1099511628211UL;
  h = (h ^ 0xff) * 1099511628211UL;
  for (size_t i = 0; i < sql_len; i++) h = (h ^ (unsigned char)sql[i]) * 1099511628211UL;
  return h;
}

static void keyed_drop(struct db *db, int i)
{
  sqlite3_finalize(db->keyed[i].st);
  free(db->keyed[i].key);
  db->keyed[i] = db->keyed[--db->n_keyed];
  memset(&db->keyed[db->n_keyed], 0, sizeof db->keyed[db->n_keyed]);
}

sqlite3_stmt *db_keyed_take(struct db *db, const char *tag, const char *sql, size_t sql_len, unsigned long gen)
{
  size_t tag_len = strlen(tag);
  unsigned long h = keyed_hash(tag, tag_len, sql, sql_len);
  for (int i = 0; i < db->n_keyed; i++) {
    struct keyed_stmt *k = &db->keyed[i];
    if (k->hash != h || k->tag_len != tag_len || k->sql_len != sql_len || memcmp(k->key, tag, tag_len) ||
        memcmp(k->key + tag_len + 1, sql, sql_len))
      continue;
    if (k->gen != gen) {   /* compiled under rules that have changed since */
      keyed_drop(db, i);
      return NULL;
    }
    sqlite3_stmt *st = k->st;
    k->st = NULL;
    free(k->key);
    db->keyed[i] = db->keyed[--db->n_keyed];
    memset(&db->keyed[db->n_keyed], 0, sizeof db->keyed[db->n_keyed]);
    return st;
  }
  return NULL;
}

void db_keyed_put(struct db *db, const char *tag, const char *sql, size_t sql_len, unsigned long gen,
                  sqlite3_stmt *st)
{
  if (!st) return;
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  if (db->n_keyed == KEYED_MAX) {
    int old = 0;
    for (int i = 1; i < db->n_keyed; i++)
      if (db->keyed[i].used < db->keyed[old].used) old = i;
    keyed_drop(db, old);
  }
  size_t tag_len = strlen(tag);
  char *key = malloc(tag_len + 1 + sql_len + 1);
  if (!key) abort();
  memcpy(key, tag, tag_len + 1);
  memcpy(key + tag_len + 1, sql, sql_len);
  key[tag_len + 1 + sql_len] = 0;
  db->keyed[db->n_keyed++] = (struct keyed_stmt){ key, tag_len, sql_len, keyed_hash(tag, tag_len, sql, sql_len),
                                                  ++db->keyed_clock, gen, st };
}

void db_keyed_clear(struct db *db)
{
  while (db->n_keyed) keyed_drop(db, db->n_keyed - 1);
}

void db_done(sqlite3_stmt *st)
{
  if (!st) return;
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
}

int db_bindv(sqlite3_stmt *st, const char *types, va_list ap)
{
  int rc = SQLITE_OK;
  for (int i = 1; types && *types && rc == SQLITE_OK; types++, i++) {
    switch (*types) {
    case 't': {
      const char *s = va_arg(ap, const char *);
      rc = s ? sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
      break;
    }
    case 'i': rc = sqlite3_bind_int64(st, i, va_arg(ap, int64_t)); break;
    case 'I': {
      const int64_t *v = va_arg(ap, const int64_t *);
      rc = v ? sqlite3_bind_int64(st, i, *v) : sqlite3_bind_null(st, i);
      break;
    }
    case 'd': rc = sqlite3_bind_double(st, i, va_arg(ap, double)); break;
    case 'b': {
      const void *p = va_arg(ap, const void *);
      int n = va_arg(ap, int);
      rc = sqlite3_bind_blob(st, i, p, n, SQLITE_TRANSIENT);
      break;
    }
    case 'n': rc = sqlite3_bind_null(st, i); break;
    default: abort();  /* a programming error in a type string */
    }
  }
  return rc;
}

int db_bind(sqlite3_stmt *st, const char *types, ...)
{
  va_list ap;
  va_start(ap, types);
  int rc = db_bindv(st, types, ap);
  va_end(ap);
  return rc;
}

int db_execv(struct db *db, const char *sql, const char *types, va_list ap)
{
  sqlite3_stmt *st = db_prepare(db, sql);
  if (!st) return SQLITE_ERROR;
  int rc = db_bindv(st, types, ap);
  if (rc == SQLITE_OK) {
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {}
    if (rc == SQLITE_DONE) rc = SQLITE_OK;
  }
  if (rc != SQLITE_OK && rc != SQLITE_CONSTRAINT)
    log_error("db", "%s: %s", sqlite3_errmsg(db->h), sql);
  db_done(st);
  return rc;
}

int db_exec(struct db *db, const char *sql, const char *types, ...)
{
  va_list ap;
  va_start(ap, types);
  int rc = db_execv(db, sql, types, ap);
  va_end(ap);
  return rc;
}

int64_t db_intv(struct db *db, int64_t dflt, const char *sql, const char *types, va_list ap)
{
  sqlite3_stmt *st = db_prepare(db, sql);
  if (!st) return dflt;
  int rc = db_bindv(st, types, ap);
  int64_t v = dflt;
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) v = sqlite3_column_int64(st, 0);
    else if (rc != SQLITE_ROW && rc != SQLITE_DONE) log_error("db", "%s: %s", sqlite3_errmsg(db->h), sql);
  }
  db_done(st);
  return v;
}

int64_t db_int(struct db *db, int64_t dflt, const char *sql, const char *types, ...)
{
  va_list ap;
  va_start(ap, types);
  int64_t v = db_intv(db, dflt, sql, types, ap);
  va_end(ap);
  return v;
}

char *db_text_newv(struct db *db, const char *sql, const char *types, va_list ap)
{
  sqlite3_stmt *st = db_prepare(db, sql);
  if (!st) return NULL;
  int rc = db_bindv(st, types, ap);
  char *v = NULL;
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) v = util_strdup((const char *)sqlite3_column_text(st, 0));
    else if (rc != SQLITE_DONE) log_error("db", "%s: %s", sqlite3_errmsg(db->h), sql);
  }
  db_done(st);
  return v;
}

char *db_text_new(struct db *db, const char *sql, const char *types, ...)
{
  va_list ap;
  va_start(ap, types);
  char *v = db_text_newv(db, sql, types, ap);
  va_end(ap);
  return v;
}

int64_t db_last_id(struct db *db) { return sqlite3_last_insert_rowid(db->h); }
int db_changes(struct db *db) { return sqlite3_changes(db->h); }
const char *db_errmsg(struct db *db) { return sqlite3_errmsg(db->h); }
sqlite3 *db_handle(struct db *db) { return db->h; }

int64_t db_size_bytes(void)
{
  if (!database_path) return 0;
  struct stat st;
  int64_t total = 0;
  if (stat(database_path, &st) == 0) total += st.st_size;
  char wal[4096];
  snprintf(wal, sizeof wal, "%s-wal", database_path);
  if (stat(wal, &st) == 0) total += st.st_size;
  return total;
}

static const char SQL_MIGRATIONS_TABLE[] =
  "CREATE TABLE IF NOT EXISTS schema_migrations ("
  " owner TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL, applied_at TEXT NOT NULL,"
  " PRIMARY KEY (owner, version))";

int db_schema_version(struct db *db, const char *owner)
{
  if (!db_int(db, 0, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='schema_migrations'", NULL))
    return 0;
  return (int)db_int(db, 0, "SELECT max(version) FROM schema_migrations WHERE owner=?1", "t", owner);
}

static int step_version(const char *name) { return atoi(name); }

/* The first line of a step that must run with foreign keys off (see db_migrate_run). */
#define MIGRATION_FK_OFF "-- destek: foreign_keys off"

int db_migrate(struct db *w, const char *owner, const struct embed_file *steps, char *err, size_t errlen)
{
  return db_migrate_run(w, owner, steps, NULL, err, errlen);
}

int db_migrate_run(struct db *w, const char *owner, const struct embed_file *steps, const struct db_step_runner *runner,
                   char *err, size_t errlen)
{
  /* Versions must rise strictly in name order: two steps with one number (say, from two branches) would have one
   * skipped on a database that already recorded the other. */
  int known = 0;
  for (const struct embed_file *s = steps; s && s->name; s++) {
    if (step_version(s->name) <= known) {
      snprintf(err, errlen, "migration %s of %s does not have a number above the step before it (%d)", s->name, owner,
               known);
      return -1;
    }
    known = step_version(s->name);
  }
  int current = db_schema_version(w, owner);
  if (current > known) {
    snprintf(err, errlen,
             "the database %s was written by a newer Destek (%s schema version %d; this binary knows up to %d): "
             "refusing to open it; run the newer binary or restore a backup", database_path, owner, current, known);
    return -1;
  }
  int applied = 0;
  for (const struct embed_file *s = steps; s && s->name; s++) {
    int version = step_version(s->name);
    if (version <= 0) {
      snprintf(err, errlen, "migration %s of %s has no version number", s->name, owner);
      return -1;
    }
    if (version <= current) continue;
    /* A step that rebuilds a table other tables refer to (SQLite's "12 steps" of ALTER TABLE) runs with foreign keys
     * off, which SQLite allows only outside a transaction, and is checked with foreign_key_check before it commits. */
    int fk_off = !runner && !strncmp((const char *)s->data, MIGRATION_FK_OFF, strlen(MIGRATION_FK_OFF));
    if (fk_off) sqlite3_exec(w->h, "PRAGMA foreign_keys=OFF", NULL, NULL, NULL);
    if (db_begin(w) != 0) {
      snprintf(err, errlen, "cannot begin migration: %s", sqlite3_errmsg(w->h));
      if (fk_off) sqlite3_exec(w->h, "PRAGMA foreign_keys=ON", NULL, NULL, NULL);
      return -1;
    }
    char *msg = NULL, why[1024] = "";
    int rc = sqlite3_exec(w->h, SQL_MIGRATIONS_TABLE, NULL, NULL, &msg);
    if (rc == SQLITE_OK && runner) rc = runner->run(w, owner, s->name, (const char *)s->data, runner->ud, why,
                                                    sizeof why);
    else if (rc == SQLITE_OK) rc = sqlite3_exec(w->h, (const char *)s->data, NULL, NULL, &msg);
    if (rc == SQLITE_OK && fk_off &&
        db_int(w, 0, "SELECT count(*) FROM pragma_foreign_key_check", NULL) != 0) {
      snprintf(why, sizeof why, "it leaves rows whose foreign keys point nowhere (PRAGMA foreign_key_check)");
      rc = SQLITE_CONSTRAINT;
    }
    if (rc != SQLITE_OK) {
      snprintf(err, errlen, "migration %s/%s failed: %s", owner, s->name,
               why[0] ? why : msg ? msg : sqlite3_errmsg(w->h));
      sqlite3_free(msg);
      db_rollback(w);
      if (fk_off) sqlite3_exec(w->h, "PRAGMA foreign_keys=ON", NULL, NULL, NULL);
      return -1;
    }
    char now[21];
    util_iso_time(time(NULL), now);
    if (db_exec(w, "INSERT INTO schema_migrations(owner, version, name, applied_at) VALUES (?1, ?2, ?3, ?4)",
                "titt", owner, (int64_t)version, s->name, now) != SQLITE_OK || db_commit(w) != 0) {
      snprintf(err, errlen, "cannot record migration %s/%s: %s", owner, s->name, sqlite3_errmsg(w->h));
      db_rollback(w);
      if (fk_off) sqlite3_exec(w->h, "PRAGMA foreign_keys=ON", NULL, NULL, NULL);
      return -1;
    }
    if (fk_off) sqlite3_exec(w->h, "PRAGMA foreign_keys=ON", NULL, NULL, NULL);
    log_info("db", "applied migration %s/%s", owner, s->name);
    applied++;
  }
  return applied;
}

sqlite3 *db_open_readonly(const char *path, char *err, size_t errlen)
{
  /* The first open initialises SQLite, after which its allocator can no longer be wrapped: `destek restore` opens the
   * backup with this before the store, and logged "plugins' SQL has no memory budget" on every run. */
  pthread_once(&mem_once, mem_setup);
  sqlite3 *h = NULL;
  int rc = sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK) {
    snprintf(err, errlen, "cannot open %s: %s", path, h ? sqlite3_errmsg(h) : sqlite3_errstr(rc));
    sqlite3_close(h);
    return NULL;
  }
  sqlite3_busy_timeout(h, 10000);
  sqlite3_db_config(h, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)NULL);
  sqlite3_exec(h, "PRAGMA wal_autocheckpoint=0; PRAGMA query_only=1", NULL, NULL, NULL);
  return h;
}
