/* Storage: SQLite in WAL mode. One writer connection, shared and serialised by a mutex, which alone checkpoints
 * the WAL; one read connection per thread (query_only, never checkpoints). See ARCHITECTURE.md for why: Debian's
 * SQLite 3.40.1 has the WAL-reset race that two checkpointing connections can hit. */
#ifndef DESTEK_DB_H
#define DESTEK_DB_H
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "embed.h"

struct db;  /* one connection and its statement cache */

/* Opens (creating if needed) the database file at path and the writer connection. durability_full selects
 * synchronous=FULL instead of NORMAL. Returns 0, or -1 with err filled. */
int db_open(const char *path, int durability_full, char *err, size_t errlen);
/* Closes every connection this module opened (the writer last, so that it checkpoints). */
void db_close_all(void);
/* The database file's path, as given to db_open. */
const char *db_path(void);

/* Whether name is one of the SQL functions every connection has deleted (fts3_tokenizer, the R-Tree blob parsers):
 * "no such function" then means "taken away", for messages. */
int db_function_removed(const char *name);

/* This thread's read connection, opened on first use; NULL if it cannot be opened (logged). */
struct db *db_reader(void);
/* Closes this thread's read connection, if any (threads call it before they exit). */
void db_reader_release(void);
/* A read transaction on this thread's reader, so that a series of reads sees one snapshot and pays for one read lock
 * (and at most one refill of the reader's page cache after other commits) instead of one per statement: 0, or -1.
 * db_reader_snapshot_end ends it (a no-op when none is open). */
int db_reader_snapshot(void);
void db_reader_snapshot_end(void);

/* The writer connection, locked for the caller until db_writer_release, with no transaction open (an open group
 * commit batch is committed first). Never NULL while the database is open. */
struct db *db_writer_acquire(void);
void db_writer_release(struct db *w);
/* Gives back the pages db's cache holds and no statement uses (sqlite3_db_release_memory). */
void db_release_memory(struct db *db);
/* Runs a passive checkpoint on the writer (it holds the lock meanwhile). */
void db_checkpoint(void);

/* A write transaction for one request, in a group commit: the writer, locked, inside a savepoint of its own within
 * the shared batch transaction. NULL (nothing held) when no transaction can be started. End it with db_tx_end. */
struct db *db_tx_begin(void);
/* Keeps (commit) or takes back the caller's writes and releases the writer. Returns once they are committed —
 * 0 — or known lost or taken back — -1. May wait for another member of the batch to commit. */
int db_tx_end(struct db *w, int commit);
/* After a statement failed on w inside a call's transaction: SQLite rolls back the whole transaction when a write is
 * interrupted (a plugin's time budget) or a statement runs out of memory, which takes every member's savepoint with it
 * and leaves the connection in autocommit mode, where each later statement would commit at once. Then this begins a
 * new transaction, so that nothing commits early, and marks the batch lost: it is rolled back, and every member (the
 * caller too) fails, when the caller ends its transaction. Returns 1 when the batch was lost, 0 otherwise. */
int db_tx_check(struct db *w);

/* Bounds on SQLite for a statement of a plugin (lua_sql.c). Every connection refuses a string, blob or row longer than
 * DB_VALUE_MAX bytes (SQLITE_TOOBIG), more than the core ever stores: mail bodies are at most 700 KiB, request
 * bodies 16 MiB, attachments are files. Between db_budget_begin and db_budget_end, what SQLite allocates on this
 * thread, net of what it frees there, may grow by at most bytes; an allocation past that fails (SQLITE_NOMEM), and
 * the statement with it. db_budget_hit tells whether one did; db_budget_end returns it too. Budgets do not nest. */
#define DB_VALUE_MAX (256 << 20)
void db_budget_begin(size_t bytes);
int db_budget_hit(void);
int db_budget_end(void);

/* Takes back everything the caller wrote since db_tx_begin, keeping its transaction open (a service that failed
 * after it began the call's transaction). 0 or -1. */
int db_tx_undo(struct db *w);
/* 1 when this thread holds the writer (inside db_tx_begin..db_tx_end or db_writer_acquire..release): taking it
 * again from the same thread would wait for itself. */
int db_writer_held(void);

/* A hook pair around every commit of the writer: before runs inside the transaction just before COMMIT (non-zero
 * makes the commit fail and roll back), done after the transaction ends either way; ud is given to both. For work a
 * transaction should do once however many changes it holds (the search index). At most 16, registered at
 * start-up (plugins' init). 0, or -1 when the table is full (logged). */
int db_on_commit(int (*before)(struct db *w, void *ud), void (*done)(int committed, void *ud), void *ud);

/* Transactions on the writer: BEGIN IMMEDIATE / COMMIT / ROLLBACK. 0 on success. */
int db_begin(struct db *w);
int db_commit(struct db *w);
void db_rollback(struct db *w);
int db_in_tx(struct db *db);

/* A prepared statement from the connection's cache, reset and with its bindings cleared. The SQL must be a string
 * that outlives the connection (a literal). Return it with db_done. NULL on error (logged). */
sqlite3_stmt *db_prepare(struct db *db, const char *sql);
void db_done(sqlite3_stmt *st);

/* A cache for SQL texts that are not literals (a Lua plugin's), keyed by tag (whose rules compiled the statement) and
 * the text, at most a few dozen per connection (the least recently used is finalized). db_keyed_take hands out a
 * statement prepared earlier and removes it from the cache (NULL when there is none, or when it was stored under
 * another gen, the caller's version of the rules: then it is finalized); db_keyed_put resets it, clears its bindings
 * and stores it. Only the thread that may use db's connection calls these (the writer: while holding it). The
 * connection finalizes what is cached when it closes; db_keyed_clear does so now. */
sqlite3_stmt *db_keyed_take(struct db *db, const char *tag, const char *sql, size_t sql_len, unsigned long gen);
void db_keyed_put(struct db *db, const char *tag, const char *sql, size_t sql_len, unsigned long gen,
                  sqlite3_stmt *st);
void db_keyed_clear(struct db *db);

/* Binds parameters 1..n from a type string: 't' text (const char *, NULL binds NULL), 'i' int64_t, 'I' const int64_t * (NULL binds NULL), 'd' double,
 * 'b' blob (const void *, int len), 'n' NULL (no argument). Returns SQLITE_OK or the first error. */
int db_bind(sqlite3_stmt *st, const char *types, ...);
int db_bindv(sqlite3_stmt *st, const char *types, va_list ap);

/* Runs a statement that returns no rows. Returns SQLITE_OK, or the SQLite error code (constraint violations are
 * returned quietly for the caller to handle; other errors are logged). */
int db_exec(struct db *db, const char *sql, const char *types, ...);
int db_execv(struct db *db, const char *sql, const char *types, va_list ap);
/* First column of the first row as an integer, or dflt when there is no row or on error (logged). */
int64_t db_int(struct db *db, int64_t dflt, const char *sql, const char *types, ...);
int64_t db_intv(struct db *db, int64_t dflt, const char *sql, const char *types, va_list ap);
/* First column of the first row as a new string (caller frees), or NULL. */
char *db_text_new(struct db *db, const char *sql, const char *types, ...);
char *db_text_newv(struct db *db, const char *sql, const char *types, va_list ap);

int64_t db_last_id(struct db *db);
int db_changes(struct db *db);
const char *db_errmsg(struct db *db);
sqlite3 *db_handle(struct db *db);

/* Size of the database in bytes: the main file plus its WAL. */
int64_t db_size_bytes(void);

/* Applies the owner's numbered migrations (files named NNN_description.sql, in name order) on the writer, each step
 * in its own transaction, recording them in schema_migrations. Refuses (-1, err filled, nothing changed) a database
 * that has a step of this owner newer than the binary knows. Returns the number of steps applied, or -1.
 * A step whose text begins with the line "-- destek: foreign_keys off" runs with foreign keys off (to rebuild a
 * table others refer to, SQLite's ALTER TABLE procedure) and fails unless PRAGMA foreign_key_check is clean. */
int db_migrate(struct db *w, const char *owner, const struct embed_file *steps, char *err, size_t errlen);

/* db_migrate with a hook for the step's SQL: runner->run executes sql (the step's text) on w inside the step's
 * transaction, after the host made schema_migrations and before it records the step, and returns SQLITE_OK or an
 * error code with err filled (the step is then rolled back and db_migrate_run returns -1). A NULL runner runs the
 * SQL as it is. */
struct db_step_runner {
  int (*run)(struct db *w, const char *owner, const char *step, const char *sql, void *ud, char *err, size_t errlen);
  void *ud;
};
int db_migrate_run(struct db *w, const char *owner, const struct embed_file *steps, const struct db_step_runner *runner,
                   char *err, size_t errlen);

/* Highest migration version recorded for owner (0 if none), read on the given connection. */
int db_schema_version(struct db *db, const char *owner);

/* Opens a separate, read-only connection to path for tools (backup); it never checkpoints. Caller closes with
 * sqlite3_close. NULL with err filled on failure. */
sqlite3 *db_open_readonly(const char *path, char *err, size_t errlen);

#endif
