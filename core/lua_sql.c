/* What a Lua plugin's SQL may do: the SQLite authorizer that keeps its db.query, db.exec and migrations (and whatever
 * its triggers and views do later, whoever fires them) within the plugin's rights, and the checks of each step of its
 * migrations. (db.query and db.exec themselves are lua_api.c's.)
 *
 * A plugin named P:
 *   - reads any table, but credentials of other owners read as NULL: columns whose declared type carries the word
 *     SECRET (`imap_password TEXT SECRET`; the affinity stays TEXT) and columns named like one (see credential_name);
 *   - writes only its own tables (P_*), and changes schemas only in its migrations;
 *   - calls only the SQL functions of allowed_functions, and creates only ordinary tables, indexes, triggers and
 *     views and fts5 virtual tables, all named P_*;
 *   - makes foreign keys that point only at its own tables, triggers and views that use only its own tables, column
 *     defaults and fts5 content= within the same rights: checked after each migration step, inside the step's
 *     transaction, by compiling under P's rights what would fire each trigger, each view and each default (so that
 *     SQLite itself resolves their bodies);
 *   - never writes schema_migrations (the host records each step), nor SQLite's bookkeeping rows (sqlite_sequence,
 *     sqlite_stat1, sqlite_stat4) of tables it does not own, nor creates or renames anything outside P_*.
 *
 * SQLite calls the authorizer while it compiles a statement (also when sqlite3_step recompiles one after a schema
 * change, and for the statements a virtual table prepares inside a step). A thread-local mode says whose statement is
 * being compiled: it is set from before a plugin's statement is prepared until it is finalized, and nothing of the
 * core runs on the thread meanwhile, so a plugin's statement never runs under the core's rights nor the reverse. When
 * the code being compiled comes from a plugin's trigger or view (SQLite names the innermost one as the authorizer's
 * last argument), that plugin's rules apply too, even inside the core's own statements: a plugin's objects never run
 * with the core's rights. There a read of another owner's table reads NULL rather than failing, so that the core's
 * statement still compiles; a write would fail it, which is why such triggers are refused when they are made (and
 * dropped at start-up if an older version let one in).
 *
 * Connections are also hardened for everyone in db.c (conn_harden): no fts3_tokenizer(), no virtual table modules
 * but fts5 and json_each/json_tree, defensive mode. */
#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db.h"
#include "log.h"
#include "lua_host_internal.h"
#include "plugin.h"
#include "util.h"

static __thread int tl_mode;
static __thread const char *tl_plugin;
static __thread char tl_denied[512];   /* why the first refused action was refused: "plugin P may not ..." */
static __thread char tl_denied_in[128];   /* the trigger or view it came from, or "" */
static __thread const char *const *tl_kinds;   /* while checking: pairs name, "trigger"/"view", ..., NULL */
/* Changes whenever the rules' inputs below change (a new owner, a new SECRET column): a plugin's statement prepared
 * before then is not reused from a cache (lh_sql_rules_gen). */
static atomic_ulong rules_gen = 1;

unsigned long lh_sql_rules_gen(void) { return atomic_load_explicit(&rules_gen, memory_order_acquire); }

/* ------------------------------------------------------------------------------------------------ registry */

/* Shared by every thread's authorizer; it only grows while the process runs (a column that a rolled-back migration
 * dropped must stay hidden). */
static pthread_rwlock_t registry_lock = PTHREAD_RWLOCK_INITIALIZER;
static char **lua_owners;                 /* Lua plugins that have migrated (own objects in the schema) */
static int n_owners, cap_owners;
struct secret_column { char *table, *column; };
static struct secret_column *secret_columns;   /* declared SECRET, whoever owns them */
static int n_secrets, cap_secrets;

static int is(const char *a, const char *b) { return a && strcasecmp(a, b) == 0; }

/* name is one of plugin's: "<plugin>_<something>" (case-insensitive, like SQLite's names). The host's
 * schema_migrations is nobody's (the Lua host refuses a plugin named after a prefix of existing tables, but this one
 * is not to depend on that). */
static int own_by(const char *plugin, const char *name)
{
  size_t n = strlen(plugin);
  return name && strncasecmp(name, plugin, n) == 0 && name[n] == '_' && name[n + 1] &&
         strcasecmp(name, "schema_migrations") != 0;
}

static void owner_add(const char *plugin)
{
  pthread_rwlock_wrlock(&registry_lock);
  int known = 0;
  for (int i = 0; i < n_owners && !known; i++) known = !strcmp(lua_owners[i], plugin);
  if (!known) {
    if (n_owners == cap_owners) {
      cap_owners = cap_owners ? cap_owners * 2 : 16;
      lua_owners = realloc(lua_owners, (size_t)cap_owners * sizeof *lua_owners);
      if (!lua_owners) abort();
    }
    lua_owners[n_owners++] = util_strdup(plugin);
    atomic_fetch_add_explicit(&rules_gen, 1, memory_order_acq_rel);
  }
  pthread_rwlock_unlock(&registry_lock);
}

/* The Lua plugin that owns the object called name (the longest matching prefix), or NULL for the core's, a C
 * plugin's or nobody's. The returned string lives until exit. */
static const char *owner_of(const char *name)
{
  const char *best = NULL;
  pthread_rwlock_rdlock(&registry_lock);
  for (int i = 0; i < n_owners; i++)
    if (own_by(lua_owners[i], name) && (!best || strlen(lua_owners[i]) > strlen(best))) best = lua_owners[i];
  pthread_rwlock_unlock(&registry_lock);
  return best;
}

static void secret_add(const char *table, const char *column)
{
  pthread_rwlock_wrlock(&registry_lock);
  int known = 0;
  for (int i = 0; i < n_secrets && !known; i++)
    known = is(secret_columns[i].table, table) && is(secret_columns[i].column, column);
  if (!known) {
    if (n_secrets == cap_secrets) {
      cap_secrets = cap_secrets ? cap_secrets * 2 : 16;
      secret_columns = realloc(secret_columns, (size_t)cap_secrets * sizeof *secret_columns);
      if (!secret_columns) abort();
    }
    secret_columns[n_secrets++] = (struct secret_column){ util_strdup(table), util_strdup(column) };
    atomic_fetch_add_explicit(&rules_gen, 1, memory_order_acq_rel);
  }
  pthread_rwlock_unlock(&registry_lock);
}

static int declared_secret(const char *table, const char *column)
{
  int found = 0;
  pthread_rwlock_rdlock(&registry_lock);
  for (int i = 0; i < n_secrets && !found; i++)
    found = is(secret_columns[i].table, table) && is(secret_columns[i].column, column);
  pthread_rwlock_unlock(&registry_lock);
  return found;
}

static int ends_with(const char *s, const char *suffix)
{
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

static int contains(const char *s, const char *word)
{
  for (size_t m = strlen(word); *s; s++)
    if (strncasecmp(s, word, m) == 0) return 1;
  return 0;
}

/* The naming safety net, for every owner: a credential whose table forgot to declare it SECRET. */
static int credential_name(const char *column)
{
  return contains(column, "password") || contains(column, "passwd") || contains(column, "secret") ||
         ends_with(column, "token") || ends_with(column, "token_hash") || ends_with(column, "api_key") ||
         ends_with(column, "private_key");
}

/* A column a plugin that does not own it reads as NULL. */
static int secret(const char *table, const char *column)
{
  if (!table || !column) return 0;
  if (credential_name(column) || declared_secret(table, column)) return 1;
  if (is(table, "core_webhooks") && is(column, "url")) return 1;   /* a chat's incoming-webhook URL is its credential */
  return is(table, "sqlite_stat4") && is(column, "sample");   /* index keys, which may be a SECRET column's */
}

/* The declared type says SECRET: a word of its own, in any case ("TEXT SECRET", "secret text"). */
static int type_says_secret(const char *type)
{
  for (const char *p = type; p && *p;) {
    while (*p && !isalnum((unsigned char)*p) && *p != '_') p++;
    const char *w = p;
    while (*p && (isalnum((unsigned char)*p) || *p == '_')) p++;
    if (p - w == 6 && strncasecmp(w, "secret", 6) == 0) return 1;
  }
  return 0;
}

/* Adds every column declared SECRET in the schema h sees now (inside a migration: what the step made). */
static void secrets_scan(sqlite3 *h)
{
  sqlite3_stmt *tables = NULL;
  if (sqlite3_prepare_v2(h, "SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL%'",
                         -1, &tables, NULL) != SQLITE_OK) {
    log_error("lua", "cannot read the schema for SECRET columns: %s", sqlite3_errmsg(h));
    return;
  }
  while (sqlite3_step(tables) == SQLITE_ROW) {
    const char *table = (const char *)sqlite3_column_text(tables, 0);
    sqlite3_stmt *cols = NULL;
    if (sqlite3_prepare_v2(h, "SELECT name, type FROM pragma_table_xinfo(?1)", -1, &cols, NULL) != SQLITE_OK) break;
    sqlite3_bind_text(cols, 1, table, -1, SQLITE_TRANSIENT);
    while (sqlite3_step(cols) == SQLITE_ROW)
      if (type_says_secret((const char *)sqlite3_column_text(cols, 1)))
        secret_add(table, (const char *)sqlite3_column_text(cols, 0));
    sqlite3_finalize(cols);
  }
  sqlite3_finalize(tables);
}

/* ------------------------------------------------------------------------------------------------ the rules */

/* SQL functions a plugin's SQL may call: SQLite's ordinary scalar, aggregate, window, math, date and time, JSON and
 * FTS5 functions (names of later SQLite versions included). Not: load_extension, fts3_tokenizer, fts5 (hands out a
 * pointer), the FTS3 and R-Tree functions, sqlite_log, sqlite_compileoption_*. */
static const char *const allowed_functions[] = {
  /* scalar */
  "abs", "changes", "char", "coalesce", "concat", "concat_ws", "format", "glob", "hex", "ifnull", "iif", "instr",
  "last_insert_rowid", "length", "like", "likelihood", "likely", "lower", "ltrim", "max", "min", "nullif",
  "octet_length", "printf", "quote", "random", "randomblob", "replace", "round", "rtrim", "sign", "soundex",
  "sqlite_source_id", "sqlite_version", "substr", "substring", "total_changes", "trim", "typeof", "unhex", "unicode",
  "unlikely", "upper", "zeroblob",
  /* math */
  "acos", "acosh", "asin", "asinh", "atan", "atan2", "atanh", "ceil", "ceiling", "cos", "cosh", "degrees", "exp",
  "floor", "ln", "log", "log10", "log2", "mod", "pi", "pow", "power", "radians", "sin", "sinh", "sqrt", "tan", "tanh",
  "trunc",
  /* aggregate and window */
  "avg", "count", "group_concat", "string_agg", "sum", "total", "row_number", "rank", "dense_rank", "percent_rank",
  "cume_dist", "ntile", "lag", "lead", "first_value", "last_value", "nth_value",
  /* date and time */
  "date", "time", "datetime", "julianday", "unixepoch", "strftime", "timediff", "current_date", "current_time",
  "current_timestamp",
  /* JSON */
  "json", "json_array", "json_array_length", "json_error_position", "json_extract", "json_insert", "json_object",
  "json_patch", "json_pretty", "json_quote", "json_remove", "json_replace", "json_set", "json_type", "json_valid",
  "json_group_array", "json_group_object", "->", "->>",
  /* FTS5 (match is the MATCH operator) */
  "bm25", "highlight", "snippet", "match",
  NULL
};

static int function_allowed(const char *name)
{
  for (const char *const *f = allowed_functions; *f; f++)
    if (is(name, *f)) return 1;
  return 0;
}

/* SQLite's own helpers of ALTER TABLE, which plain SQL cannot call: they show up while a migration renames. */
static int alter_helper(const char *name)
{
  return name && (strncasecmp(name, "sqlite_rename_", 14) == 0 || is(name, "sqlite_drop_column"));
}

/* The schema table: changed only by CREATE/DROP/ALTER, which are authorized by their own action codes (direct writes
 * need writable_schema, which the defensive mode and the pragma rule refuse). */
static int schema_table(const char *t)
{
  return is(t, "sqlite_master") || is(t, "sqlite_schema") || is(t, "sqlite_temp_master") ||
         is(t, "sqlite_temp_schema");
}

static int bookkeeping_table(const char *t)
{
  return is(t, "sqlite_sequence") || is(t, "sqlite_stat1") || is(t, "sqlite_stat4");
}

/* Virtual tables that expose the file itself or the connection (dropped in db.c; refused here too). */
static int internal_vtab(const char *t)
{
  return is(t, "sqlite_dbpage") || is(t, "dbstat") || is(t, "sqlite_stmt") || is(t, "sqlite_dbdata") ||
         is(t, "sqlite_dbptr");
}

static int schema_pragma(const char *name)
{
  static const char *const allowed[] = { "table_info", "table_xinfo", "table_list", "index_list", "index_info",
                                         "index_xinfo", "foreign_key_list", "data_version", NULL };
  for (const char *const *p = allowed; *p; p++)
    if (is(name, *p)) return 1;
  return 0;
}

/* What kind of object name is (known while a plugin's objects are checked), for messages. */
static const char *kind_of(const char *name)
{
  for (const char *const *k = tl_kinds; k && *k; k += 2)
    if (is(k[0], name)) return k[1];
  return "trigger or view";
}

/* Refuses the action: records why (the first refusal of the statement) and returns SQLITE_DENY. When the core's own
 * statement is being compiled nobody else would say why, so it is logged. */
static int deny(const char *inner, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int deny(const char *inner, const char *fmt, ...)
{
  char why[sizeof tl_denied];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  if (tl_mode == LH_SQL_OFF) {
    log_error("lua", "refused inside a statement of the core: %s", why);
    return SQLITE_DENY;
  }
  if (!tl_denied[0]) {
    snprintf(tl_denied, sizeof tl_denied, "%s", why);
    snprintf(tl_denied_in, sizeof tl_denied_in, "%s", inner ? inner : "");
  }
  return SQLITE_DENY;
}

/* A trigger or view of p (or a default) reads or writes a table it does not own: verb is "read" or "write to". */
static int deny_object(const char *p, const char *inner, const char *verb, const char *table)
{
  int writes = !strcmp(verb, "write to");
  if (!inner)
    return deny(NULL, "plugin %s may not %s %s here: a plugin's triggers, views and defaults use only its own tables"
                " (%s_*)", p, verb, table, p);
  return deny(inner, "plugin %s's %s %s %s %s, a table it does not own: a plugin's triggers and views may use only"
              " its own tables (%s_*)", p, kind_of(inner), inner, writes ? "writes to" : "reads", table, p);
}

static int deny_schema(int mode, const char *p, const char *inner, const char *what, const char *name)
{
  if (mode != LH_SQL_MIGRATE)
    return deny(inner, "plugin %s may not change the schema outside its migrations (it tried to %s %s)", p, what,
                name ? name : "");
  return deny(inner, "plugin %s may create, change and drop only its own tables, indexes, triggers and views (named"
              " %s_*); it tried to %s %s", p, p, what, name ? name : "");
}

/* The rules for plugin p's SQL in mode (not LH_SQL_OFF). inner: the trigger or view the action comes from, or NULL. */
static int rules(int mode, const char *p, int action, const char *a, const char *b, const char *inner)
{
  int object = mode == LH_SQL_CHECK || mode == LH_SQL_OBJECT;
  int migrate = mode == LH_SQL_MIGRATE;
  switch (action) {
  case SQLITE_READ:
    if (own_by(p, a)) return SQLITE_OK;
    if (object) {
      /* json_each/json_tree; the schema, which SQLite reads itself when it connects a virtual table */
      if (is(a, "json_each") || is(a, "json_tree") || schema_table(a)) return SQLITE_OK;
      return mode == LH_SQL_OBJECT ? SQLITE_IGNORE : deny_object(p, inner, "read", a);
    }
    if (internal_vtab(a))
      return deny(inner, "plugin %s may not read %s: SQLite's internal virtual tables are not available to plugins",
                  p, a);
    return secret(a, b) ? SQLITE_IGNORE : SQLITE_OK;
  case SQLITE_SELECT: case SQLITE_RECURSIVE:
    return SQLITE_OK;
  case SQLITE_FUNCTION:
    if (function_allowed(b) || (migrate && alter_helper(b))) return SQLITE_OK;
    return deny(inner, "plugin %s may not call the SQL function %s(): a plugin's SQL calls only SQLite's ordinary"
                " scalar, aggregate, window, math, date and time, JSON and FTS5 (bm25, highlight, snippet) functions",
                p, b);
  case SQLITE_INSERT: case SQLITE_UPDATE: case SQLITE_DELETE:
    if (schema_table(a)) return SQLITE_OK;
    if (mode == LH_SQL_QUERY)
      return deny(inner, "plugin %s may not write with db.query, which only reads (write with db.exec, to its own"
                  " tables %s_*); it tried to write to %s", p, p, a);
    if (own_by(p, a)) return SQLITE_OK;
    if (object) return deny_object(p, inner, "write to", a);
    if (is(a, "schema_migrations"))
      return deny(inner, "plugin %s may not write to schema_migrations: the host records each migration step itself",
                  p);
    if (bookkeeping_table(a)) {
      if (migrate) return SQLITE_OK;   /* its own tables' rows; the others' are compared after the step */
      return deny(inner, "plugin %s may not write to %s: SQLite keeps its bookkeeping itself", p, a);
    }
    return deny(inner, "plugin %s may write to only its own tables (%s_*)%s; it tried to write to %s", p, p,
                mode == LH_SQL_EXEC ? " and changes schemas only in its migrations" : "", a);
  case SQLITE_TRANSACTION:
    return deny(inner, "plugin %s may not begin, commit or roll back a transaction: the host commits a call's writes,"
                " and each migration step, itself", p);
  case SQLITE_SAVEPOINT:
    return migrate ? SQLITE_OK : deny(inner, "plugin %s may not begin, commit or roll back a transaction or a"
                                      " savepoint: the host commits a call's writes itself", p);
  case SQLITE_CREATE_TABLE:
    if (migrate && (own_by(p, a) || bookkeeping_table(a))) return SQLITE_OK;
    if (bookkeeping_table(a))   /* only SQLite makes these: an ANALYZE (or AUTOINCREMENT) outside a migration */
      return deny(inner, "plugin %s may analyze only its own tables, in its migrations (ANALYZE %s_table)", p, p);
    return deny_schema(mode, p, inner, "create table", a);
  case SQLITE_CREATE_INDEX: case SQLITE_DROP_INDEX:
    /* UNIQUE and PRIMARY KEY constraints make indexes named sqlite_autoindex_<table>_N */
    if (migrate && own_by(p, b) && (own_by(p, a) || !strncasecmp(a, "sqlite_autoindex_", 17))) return SQLITE_OK;
    return deny_schema(mode, p, inner, action == SQLITE_CREATE_INDEX ? "create index" : "drop index", a);
  case SQLITE_CREATE_TRIGGER: case SQLITE_DROP_TRIGGER:
    if (migrate && own_by(p, a) && own_by(p, b)) return SQLITE_OK;
    return deny_schema(mode, p, inner, action == SQLITE_CREATE_TRIGGER ? "create trigger" : "drop trigger", a);
  case SQLITE_CREATE_VIEW: case SQLITE_DROP_VIEW: case SQLITE_DROP_TABLE: case SQLITE_DROP_VTABLE:
    if (migrate && own_by(p, a)) return SQLITE_OK;
    return deny_schema(mode, p, inner, action == SQLITE_CREATE_VIEW ? "create view" : "drop", a);
  case SQLITE_CREATE_VTABLE:
    if (!is(b, "fts5"))
      return deny(inner, "plugin %s may not create a virtual table using %s (%s): fts5 is the only virtual table"
                  " module plugins may use", p, b, a);
    if (migrate && own_by(p, a)) return SQLITE_OK;
    return deny_schema(mode, p, inner, "create virtual table", a);
  case SQLITE_ALTER_TABLE:
    if (migrate && own_by(p, b)) return SQLITE_OK;
    return deny_schema(mode, p, inner, "alter table", b);
  case SQLITE_REINDEX:   /* also what CREATE INDEX does to fill the new index */
    return migrate ? SQLITE_OK : deny_schema(mode, p, inner, "reindex", a);
  case SQLITE_ANALYZE:
    if (migrate && own_by(p, a)) return SQLITE_OK;
    return deny(inner, "plugin %s may analyze only its own tables, in its migrations (ANALYZE %s_table); it tried to"
                " analyze %s", p, p, a);
  case SQLITE_ATTACH: case SQLITE_DETACH:
    return deny(inner, "plugin %s may not attach or detach a database", p);
  case SQLITE_PRAGMA:
    if (schema_pragma(a)) return SQLITE_OK;
    return deny(inner, "plugin %s may not run pragma %s: only the read-only schema pragmas are available (table_info,"
                " table_xinfo, table_list, index_list, index_info, index_xinfo, foreign_key_list)", p, a);
  default:
    return deny(inner, "plugin %s may not run this kind of statement (authorizer action %d)", p, action);
  }
}

static int authorizer(void *ud, int action, const char *a, const char *b, const char *dbname, const char *inner)
{
  (void)ud; (void)dbname;
  if (tl_mode == LH_SQL_OFF && !inner) return SQLITE_OK;
  int rc = tl_mode == LH_SQL_OFF ? SQLITE_OK : rules(tl_mode, tl_plugin, action, a, b, inner);
  const char *owner = inner ? owner_of(inner) : NULL;
  if (owner && rc != SQLITE_DENY && (tl_mode == LH_SQL_OFF || strcasecmp(owner, tl_plugin) != 0)) {
    /* A plugin's trigger or view inside someone else's statement: its owner's rules hold as well. */
    int r = rules(tl_mode == LH_SQL_CHECK ? LH_SQL_CHECK : LH_SQL_OBJECT, owner, action, a, b, inner);
    if (r != SQLITE_OK) rc = r;
  }
  return rc;
}

void lh_sql_install(sqlite3 *h) { sqlite3_set_authorizer(h, authorizer, NULL); }

/* ------------------------------------------------------------------------------------------------ SQL text */

/* The next token of an SQL text: a word or a quoted name ("x", [x], `x`, 'x', unquoted into tok), or one character.
 * Skips blanks and comments. Returns 0 at the end; *quoted tells a quoted name from a keyword. */
static int next_token(const char **pp, char *tok, size_t n, int *quoted)
{
  const char *p = *pp;
  for (;;) {
    while (isspace((unsigned char)*p)) p++;
    if (p[0] == '-' && p[1] == '-') { while (*p && *p != '\n') p++; continue; }
    if (p[0] == '/' && p[1] == '*') {
      const char *end = strstr(p + 2, "*/");
      p = end ? end + 2 : p + strlen(p);
      continue;
    }
    break;
  }
  size_t k = 0;
  *quoted = 0;
  if (!*p) { *pp = p; tok[0] = 0; return 0; }
  if (*p == '"' || *p == '\'' || *p == '`' || *p == '[') {
    char close = *p == '[' ? ']' : *p;
    *quoted = 1;
    for (p++; *p; p++) {
      if (*p == close) {
        if (close != ']' && p[1] == close) p++;   /* a doubled quote is one quote */
        else { p++; break; }
      }
      if (k + 1 < n) tok[k++] = *p;
    }
  } else if (isalnum((unsigned char)*p) || *p == '_' || (unsigned char)*p >= 0x80) {
    while (isalnum((unsigned char)*p) || *p == '_' || *p == '$' || (unsigned char)*p >= 0x80) {
      if (k + 1 < n) tok[k++] = *p;
      p++;
    }
  } else {
    tok[k++] = *p++;
  }
  tok[k] = 0;
  *pp = p;
  return 1;
}

static int keyword(const char *tok, int quoted, const char *word) { return !quoted && is(tok, word); }

/* "DELETE", "INSERT" or "UPDATE": the event of a CREATE TRIGGER text; NULL when it cannot be read. */
static const char *trigger_event(const char *sql)
{
  char tok[256];
  int q;
  const char *p = sql;
  while (next_token(&p, tok, sizeof tok, &q)) {
    if (keyword(tok, q, "TRIGGER")) break;
  }
  if (!next_token(&p, tok, sizeof tok, &q)) return NULL;
  if (keyword(tok, q, "IF")) {   /* IF NOT EXISTS */
    next_token(&p, tok, sizeof tok, &q);
    next_token(&p, tok, sizeof tok, &q);
    if (!next_token(&p, tok, sizeof tok, &q)) return NULL;
  }
  const char *save = p;   /* tok is the name, or the schema before ".name" */
  if (next_token(&p, tok, sizeof tok, &q) && !strcmp(tok, ".")) next_token(&p, tok, sizeof tok, &q);
  else p = save;
  while (next_token(&p, tok, sizeof tok, &q)) {
    if (keyword(tok, q, "DELETE")) return "DELETE";
    if (keyword(tok, q, "INSERT")) return "INSERT";
    if (keyword(tok, q, "UPDATE")) return "UPDATE";
    if (!keyword(tok, q, "BEFORE") && !keyword(tok, q, "AFTER") && !keyword(tok, q, "INSTEAD") &&
        !keyword(tok, q, "OF"))
      return NULL;
  }
  return NULL;
}

/* The table an fts5 table takes its content from (content=...; "" when none or contentless), into out. */
static void fts5_content(const char *sql, char *out, size_t n)
{
  char tok[256], key[256] = "";
  int q, depth = 0, want_value = 0;
  const char *p = sql;
  out[0] = 0;
  while (next_token(&p, tok, sizeof tok, &q) && !(!q && !strcmp(tok, "("))) {}
  depth = 1;
  int first = 1;   /* at the start of an argument */
  while (depth > 0 && next_token(&p, tok, sizeof tok, &q)) {
    if (!q && !strcmp(tok, "(")) { depth++; continue; }
    if (!q && !strcmp(tok, ")")) { depth--; continue; }
    if (depth != 1) continue;
    if (!q && !strcmp(tok, ",")) { first = 1; want_value = 0; continue; }
    if (first) { snprintf(key, sizeof key, "%s", tok); first = 0; continue; }
    if (!q && !strcmp(tok, "=")) { want_value = 1; continue; }
    if (want_value && is(key, "content")) snprintf(out, n, "%s", tok);
    want_value = 0;
  }
}

/* ------------------------------------------------------------------------------------------------ checks */

void lh_sql_enter(const char *plugin, int mode)
{
  tl_mode = mode;
  tl_plugin = plugin;
  tl_denied[0] = tl_denied_in[0] = 0;
}

void lh_sql_leave(void) { tl_mode = LH_SQL_OFF; }

static __thread int tl_length_saved = -1;
static __thread size_t tl_memory;

void lh_sql_bound(sqlite3 *h, size_t memory)
{
  tl_length_saved = sqlite3_limit(h, SQLITE_LIMIT_LENGTH, LH_SQL_VALUE_MAX);
  tl_memory = memory;
  db_budget_begin(memory);
}

int lh_sql_unbound(sqlite3 *h)
{
  if (tl_length_saved >= 0) sqlite3_limit(h, SQLITE_LIMIT_LENGTH, tl_length_saved);
  tl_length_saved = -1;
  return db_budget_end();
}

/* Why SQLite refused a plugin's statement (prepare or step failed with errmsg): the authorizer's reason when it
 * refused something (SQLite's own text for that is "not authorized..."), a function every connection has deleted
 * named as refused, else SQLite's message. */
static void refusal(const char *p, const char *errmsg, char *why, size_t whylen)
{
  if (tl_denied[0] && tl_denied_in[0] && !strstr(tl_denied, tl_denied_in))
    snprintf(why, whylen, "refused: %s (in its %s %s)", tl_denied, kind_of(tl_denied_in), tl_denied_in);
  else if (tl_denied[0])
    snprintf(why, whylen, "refused: %s", tl_denied);
  else if (!strcmp(errmsg, "string or blob too big"))
    snprintf(why, whylen, "a string, blob or row in plugin %s's SQL may be at most %d MiB (string or blob too big)", p,
             LH_SQL_VALUE_MAX >> 20);
  else if (!strcmp(errmsg, "out of memory") && db_budget_hit())
    snprintf(why, whylen, "the statement needed more than the %zu MiB of memory SQLite may use for one of plugin %s's"
             " statements (out of memory)", tl_memory >> 20, p);
  else if (!strncmp(errmsg, "no such function: ", 18) && db_function_removed(errmsg + 18))
    snprintf(why, whylen, "refused: plugin %s may not call the SQL function %s(): a plugin's SQL calls only SQLite's"
             " ordinary scalar, aggregate, window, math, date and time, JSON and FTS5 (bm25, highlight, snippet)"
             " functions", p, errmsg + 18);
  else
    snprintf(why, whylen, "%s", errmsg);
}

void lh_sql_why(const char *errmsg, char *why, size_t whylen) { refusal(tl_plugin, errmsg, why, whylen); }

/* Compiles sql (never runs it) as the code of plugin p's objects in mode (LH_SQL_CHECK or LH_SQL_OBJECT). SQLITE_OK, or the
 * error with why filled ("refused: ..." for a refusal, SQLite's message otherwise). */
static int compile_as(sqlite3 *h, const char *p, int mode, const char *sql, char *why, size_t whylen)
{
  lh_sql_enter(p, mode);
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(h, sql, -1, &st, NULL);
  sqlite3_finalize(st);
  lh_sql_leave();
  if (rc == SQLITE_OK) return SQLITE_OK;
  refusal(p, sqlite3_errmsg(h), why, whylen);
  return tl_denied[0] ? SQLITE_AUTH : SQLITE_ERROR;
}

/* The statement that fires a trigger of event on table (for compiling, not running); NULL when none can be made. */
static char *firing_sql_new(sqlite3 *h, const char *table, const char *event)
{
  if (!strcmp(event, "DELETE")) return sqlite3_mprintf("DELETE FROM \"%w\"", table);
  if (!strcmp(event, "INSERT")) return sqlite3_mprintf("INSERT INTO \"%w\" DEFAULT VALUES", table);
  /* UPDATE: every column that can be set, so that UPDATE OF any of them fires too */
  sqlite3_str *s = sqlite3_str_new(h);
  sqlite3_str_appendf(s, "UPDATE \"%w\" SET ", table);
  sqlite3_stmt *cols = NULL;
  int n = 0;
  if (sqlite3_prepare_v2(h, "SELECT name FROM pragma_table_xinfo(?1) WHERE hidden = 0", -1, &cols, NULL) == SQLITE_OK) {
    sqlite3_bind_text(cols, 1, table, -1, SQLITE_TRANSIENT);
    while (sqlite3_step(cols) == SQLITE_ROW) {
      const char *c = (const char *)sqlite3_column_text(cols, 0);
      sqlite3_str_appendf(s, "%s\"%w\" = \"%w\"", n++ ? ", " : "", c, c);
    }
  }
  sqlite3_finalize(cols);
  char *sql = sqlite3_str_finish(s);
  if (!n) { sqlite3_free(sql); return NULL; }
  return sql;
}

struct object { char *type, *name, *tbl, *sql; };

static void objects_free(struct object *o, int n)
{
  for (int i = 0; i < n; i++) { free(o[i].type); free(o[i].name); free(o[i].tbl); free(o[i].sql); }
  free(o);
}

/* Every row of the schema table (type, name, tbl_name, sql); *n set. */
static struct object *objects_new(sqlite3 *h, int *n)
{
  struct object *o = NULL;
  int cap = 0;
  *n = 0;
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(h, "SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_master ORDER BY type, name",
                         -1, &st, NULL) != SQLITE_OK)
    return NULL;
  while (sqlite3_step(st) == SQLITE_ROW) {
    if (*n == cap) {
      cap = cap ? cap * 2 : 64;
      o = realloc(o, (size_t)cap * sizeof *o);
      if (!o) abort();
    }
    o[(*n)++] = (struct object){ util_strdup((const char *)sqlite3_column_text(st, 0)),
                                 util_strdup((const char *)sqlite3_column_text(st, 1)),
                                 util_strdup((const char *)sqlite3_column_text(st, 2)),
                                 util_strdup((const char *)sqlite3_column_text(st, 3)) };
  }
  sqlite3_finalize(st);
  return o;
}

/* The names and kinds of p's triggers and views among o, for tl_kinds (caller frees; the strings are o's). */
static const char **kinds_new(const char *p, const struct object *o, int n)
{
  const char **kinds = calloc((size_t)n * 2 + 2, sizeof *kinds);
  if (!kinds) abort();
  int k = 0;
  for (int i = 0; i < n; i++)
    if (own_by(p, o[i].name) && (!strcmp(o[i].type, "trigger") || !strcmp(o[i].type, "view"))) {
      kinds[k++] = o[i].name;
      kinds[k++] = o[i].type;
    }
  return kinds;
}

/* Checks every object of plugin p (after a step of its migrations, inside the step's transaction). For each of its
 * tables: foreign keys point at its own tables, defaults compile under its rights, an fts5 table's content= is one of
 * its tables; each of its views, and what fires each of its triggers, compiles under its rights. SQLITE_OK, or an
 * error with why filled. */
static int check_objects(sqlite3 *h, const char *p, char *why, size_t whylen)
{
  int n;
  struct object *o = objects_new(h, &n);
  const char **kinds = kinds_new(p, o, n);
  tl_kinds = kinds;
  int rc = SQLITE_OK;
  for (int i = 0; i < n && rc == SQLITE_OK; i++) {
    const struct object *ob = &o[i];
    if (!own_by(p, ob->name)) continue;
    char *sql = NULL;
    if (!strcmp(ob->type, "table") && !strncasecmp(ob->sql, "CREATE VIRTUAL", 14)) {
      char content[256];
      fts5_content(ob->sql, content, sizeof content);
      if (content[0] && !own_by(p, content)) {
        snprintf(why, whylen, "refused: plugin %s's fts5 table %s takes its content from %s, a table it does not"
                 " own: content= must name one of the plugin's own tables (%s_*)", p, ob->name, content, p);
        rc = SQLITE_AUTH;
      }
    } else if (!strcmp(ob->type, "table")) {
      sqlite3_stmt *st = NULL;
      if (sqlite3_prepare_v2(h, "SELECT \"table\" FROM pragma_foreign_key_list(?1)", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, ob->name, -1, SQLITE_TRANSIENT);
        while (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
          const char *target = (const char *)sqlite3_column_text(st, 0);
          if (own_by(p, target)) continue;
          snprintf(why, whylen, "refused: plugin %s's table %s has a foreign key to %s, a table it does not own:"
                   " foreign keys may point only at the plugin's own tables (%s_*)", p, ob->name, target, p);
          rc = SQLITE_AUTH;
        }
      }
      sqlite3_finalize(st);
      st = NULL;
      if (rc == SQLITE_OK &&
          sqlite3_prepare_v2(h, "SELECT name, dflt_value FROM pragma_table_xinfo(?1) WHERE dflt_value IS NOT NULL",
                             -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, ob->name, -1, SQLITE_TRANSIENT);
        while (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
          /* SQLite authorizes a default nowhere (not where it is made, not where an INSERT uses it): compile it */
          char *expr = sqlite3_mprintf("SELECT (%s)", (const char *)sqlite3_column_text(st, 1));
          char inner[700];
          rc = compile_as(h, p, LH_SQL_CHECK, expr, inner, sizeof inner);
          if (rc != SQLITE_OK)
            snprintf(why, whylen, "%s (in the default value of %s.%s)", inner, ob->name,
                     (const char *)sqlite3_column_text(st, 0));
          sqlite3_free(expr);
        }
      }
      sqlite3_finalize(st);
    } else if (!strcmp(ob->type, "view")) {
      sql = sqlite3_mprintf("SELECT * FROM \"%w\"", ob->name);
    } else if (!strcmp(ob->type, "trigger")) {
      const char *event = trigger_event(ob->sql);
      sql = event ? firing_sql_new(h, ob->tbl, event) : NULL;
      if (!sql) {
        snprintf(why, whylen, "refused: plugin %s's trigger %s cannot be checked (its event or its table's columns"
                 " could not be read)", p, ob->name);
        rc = SQLITE_ERROR;
      }
    }
    if (sql) {
      char inner[700];
      rc = compile_as(h, p, LH_SQL_CHECK, sql, inner, sizeof inner);
      if (rc == SQLITE_AUTH) snprintf(why, whylen, "%s", inner);
      else if (rc != SQLITE_OK)   /* SQLite does not say which of the triggers it compiled along failed */
        snprintf(why, whylen, "refused: plugin %s's %s %s%s cannot be compiled: %s", p, ob->type, ob->name,
                 !strcmp(ob->type, "trigger") ? ", or a trigger it fires," : "", inner);
      sqlite3_free(sql);
    }
  }
  tl_kinds = NULL;
  free(kinds);
  objects_free(o, n);
  return rc;
}

/* SQLite's bookkeeping rows of tables plugin p does not own, one string per row (first field: the table). */
struct rows { char **row; int n; };

static void rows_free(struct rows *r)
{
  for (int i = 0; i < r->n; i++) free(r->row[i]);
  free(r->row);
  memset(r, 0, sizeof *r);
}

static void rows_read(sqlite3 *h, const char *p, struct rows *r)
{
  static const char *const queries[] = {
    "SELECT name, quote(seq) FROM sqlite_sequence ORDER BY 1, 2",
    "SELECT tbl, quote(idx), quote(stat) FROM sqlite_stat1 ORDER BY 1, 2, 3",
    "SELECT tbl, quote(idx), quote(neq), quote(nlt), quote(ndlt), quote(sample) FROM sqlite_stat4 ORDER BY 1, 2, 3, 4",
  };
  static const char *const tables[] = { "sqlite_sequence", "sqlite_stat1", "sqlite_stat4" };
  int cap = 0;
  memset(r, 0, sizeof *r);
  for (size_t q = 0; q < sizeof queries / sizeof *queries; q++) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(h, queries[q], -1, &st, NULL) != SQLITE_OK) continue;   /* the table is not there */
    while (sqlite3_step(st) == SQLITE_ROW) {
      if (own_by(p, (const char *)sqlite3_column_text(st, 0))) continue;
      sqlite3_str *s = sqlite3_str_new(h);
      sqlite3_str_appendf(s, "%s\t%s", (const char *)sqlite3_column_text(st, 0), tables[q]);
      for (int c = 1; c < sqlite3_column_count(st); c++)
        sqlite3_str_appendf(s, "\t%s", (const char *)sqlite3_column_text(st, c));
      char *text = sqlite3_str_finish(s);
      if (r->n == cap) {
        cap = cap ? cap * 2 : 32;
        r->row = realloc(r->row, (size_t)cap * sizeof *r->row);
        if (!r->row) abort();
      }
      r->row[r->n++] = util_strdup(text ? text : "");
      sqlite3_free(text);
    }
    sqlite3_finalize(st);
  }
}

/* The first row that differs (a row of before missing after, or a row after that was not before), or NULL. */
static const char *rows_diff(const struct rows *before, const struct rows *after)
{
  for (int i = 0; i < before->n || i < after->n; i++) {
    if (i >= before->n) return after->row[i];
    if (i >= after->n) return before->row[i];
    if (strcmp(before->row[i], after->row[i])) return before->row[i];
  }
  return NULL;
}

static int object_is_plugins(const char *p, const struct object *o)
{
  if (own_by(p, o->name)) return 1;
  return !strncasecmp(o->name, "sqlite_autoindex_", 17) && own_by(p, o->tbl);
}

/* What a migration step of p changed outside p's objects: every object it made or dropped is p's, every other object
 * keeps its type and table (its SQL may change: renaming p's table rewrites references to it), and the bookkeeping
 * rows of tables p does not own are as they were. */
static int check_changes(const char *p, const struct object *before, int n_before, const struct object *after,
                         int n_after, const struct rows *rows_before, const struct rows *rows_after, char *why,
                         size_t whylen)
{
  for (int i = 0; i < n_after; i++) {
    const struct object *a = &after[i];
    const struct object *was = NULL;
    for (int j = 0; j < n_before && !was; j++)
      if (!strcmp(before[j].type, a->type) && !strcmp(before[j].name, a->name)) was = &before[j];
    if (was && !strcmp(was->tbl, a->tbl)) continue;                  /* the same (its SQL may differ) */
    if (object_is_plugins(p, a) && own_by(p, a->tbl)) continue;        /* p's own, new or changed */
    if (!was && bookkeeping_table(a->name)) continue;   /* SQLite makes sqlite_sequence and sqlite_stat1 itself */
    snprintf(why, whylen, "refused: plugin %s's migration made or renamed %s %s (on %s): a plugin's migrations make"
             " and change only objects named %s_*", p, a->type, a->name, a->tbl, p);
    return SQLITE_AUTH;
  }
  for (int j = 0; j < n_before; j++) {
    const struct object *b = &before[j];
    int kept = 0;
    for (int i = 0; i < n_after && !kept; i++) kept = !strcmp(after[i].type, b->type) && !strcmp(after[i].name, b->name);
    if (kept || object_is_plugins(p, b)) continue;
    snprintf(why, whylen, "refused: plugin %s's migration dropped %s %s, which is not its own", p, b->type, b->name);
    return SQLITE_AUTH;
  }
  const char *row = rows_diff(rows_before, rows_after);
  if (row) {
    char table[200], book[40] = "";
    sscanf(row, "%199[^\t]\t%39[^\t]", table, book);
    snprintf(why, whylen, "refused: plugin %s's migration changed %s's row for %s, a table it does not own: a plugin"
             " changes SQLite's bookkeeping only for its own tables", p, book, table);
    return SQLITE_AUTH;
  }
  return SQLITE_OK;
}

/* db_migrate's runner for a Lua plugin's step: the step's SQL under the plugin's rights, then the checks, all inside
 * the step's transaction (a refusal rolls the whole step back). */
static int run_step(struct db *w, const char *owner, const char *step, const char *sql, void *ud, char *err,
                    size_t errlen)
{
  (void)ud; (void)step;
  sqlite3 *h = db_handle(w);
  int n_before, n_after;
  struct object *before = objects_new(h, &n_before);
  struct rows rows_before, rows_after;
  rows_read(h, owner, &rows_before);

  lh_sql_enter(owner, LH_SQL_MIGRATE);
  lh_sql_bound(h, LH_SQL_MIGRATION_MEMORY);
  char *msg = NULL;
  int rc = sqlite3_exec(h, sql, NULL, NULL, &msg);
  if (rc != SQLITE_OK) refusal(owner, msg ? msg : sqlite3_errmsg(h), err, errlen);
  lh_sql_unbound(h);
  lh_sql_leave();
  if (rc != SQLITE_OK) {
    sqlite3_free(msg);
    objects_free(before, n_before);
    rows_free(&rows_before);
    return rc == SQLITE_OK ? SQLITE_ERROR : rc;
  }
  struct object *after = objects_new(h, &n_after);
  rows_read(h, owner, &rows_after);
  rc = check_changes(owner, before, n_before, after, n_after, &rows_before, &rows_after, err, errlen);
  if (rc == SQLITE_OK) rc = check_objects(h, owner, err, errlen);
  if (rc == SQLITE_OK) secrets_scan(h);
  objects_free(before, n_before);
  objects_free(after, n_after);
  rows_free(&rows_before);
  rows_free(&rows_after);
  return rc;
}

int lh_migrate(const char *plugin, const struct destek_migration *steps, char *err, size_t errlen)
{
  owner_add(plugin);   /* before its first step: its triggers are its own from the start */
  const struct db_step_runner runner = { run_step, NULL };
  return plugin_migrate_run(plugin, steps, &runner, err, errlen);
}

/* At start-up: triggers an older version let plugin p make that would write outside its tables (or call what it may
 * not) are dropped, since left in place they would make the core's statements that fire them fail to compile (reads
 * outside its tables only read NULL); foreign keys to others' tables are reported. */
static void audit_plugin(sqlite3 *h, const char *p)
{
  for (int pass = 0; pass < 100; pass++) {
    int n, dropped = 0;
    struct object *o = objects_new(h, &n);
    const char **kinds = kinds_new(p, o, n);
    tl_kinds = kinds;
    for (int i = 0; i < n && !dropped; i++) {
      const struct object *ob = &o[i];
      if (!own_by(p, ob->name) || strcmp(ob->type, "trigger")) continue;
      const char *event = trigger_event(ob->sql);
      char *sql = event ? firing_sql_new(h, ob->tbl, event) : NULL, why[700];
      if (!sql || compile_as(h, p, LH_SQL_OBJECT, sql, why, sizeof why) != SQLITE_AUTH) {
        sqlite3_free(sql);
        continue;
      }
      sqlite3_free(sql);
      char culprit[128];
      snprintf(culprit, sizeof culprit, "%s", tl_denied_in[0] ? tl_denied_in : ob->name);
      char *drop = sqlite3_mprintf("DROP TRIGGER IF EXISTS \"%w\"", culprit);
      if (sqlite3_exec(h, drop, NULL, NULL, NULL) == SQLITE_OK) {
        log_error("lua", "trigger %s of plugin %s dropped: %s", culprit, p, why);
        dropped = 1;
      } else {
        log_error("lua", "trigger %s of plugin %s could not be dropped (%s): %s", culprit, p, sqlite3_errmsg(h), why);
      }
      sqlite3_free(drop);
    }
    if (!dropped) {
      for (int i = 0; i < n; i++) {
        if (!own_by(p, o[i].name) || strcmp(o[i].type, "table")) continue;
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(h, "SELECT \"table\" FROM pragma_foreign_key_list(?1)", -1, &st, NULL) != SQLITE_OK)
          continue;
        sqlite3_bind_text(st, 1, o[i].name, -1, SQLITE_TRANSIENT);
        while (sqlite3_step(st) == SQLITE_ROW)
          if (!own_by(p, (const char *)sqlite3_column_text(st, 0)))
            log_warn("lua", "plugin %s's table %s has a foreign key to %s, a table it does not own (made before"
                     " plugins were refused that); it may keep the core from deleting rows there", p, o[i].name,
                     (const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
      }
    }
    tl_kinds = NULL;
    free(kinds);
    objects_free(o, n);
    if (!dropped) return;
  }
}

int lh_sql_start(struct db *w)
{
  sqlite3 *h = db_handle(w);
  lh_sql_install(h);
  /* The Lua plugins that own objects: owners of migrations that are neither the core nor a C plugin. */
  cJSON *c_plugins = plugin_list_new();
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(h, "SELECT DISTINCT owner FROM schema_migrations WHERE owner <> 'core'", -1, &st, NULL) ==
      SQLITE_OK) {
    while (sqlite3_step(st) == SQLITE_ROW) {
      const char *owner = (const char *)sqlite3_column_text(st, 0);
      int c = 0;
      for (const cJSON *p = c_plugins ? c_plugins->child : NULL; p && !c; p = p->next)
        c = !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(p, "name")), owner);
      if (!c) owner_add(owner);
    }
  }
  sqlite3_finalize(st);
  cJSON_Delete(c_plugins);
  secrets_scan(h);
  pthread_rwlock_rdlock(&registry_lock);
  int n = n_owners;
  char **owners = malloc((size_t)(n + 1) * sizeof *owners);
  if (!owners) abort();
  for (int i = 0; i < n; i++) owners[i] = util_strdup(lua_owners[i]);
  pthread_rwlock_unlock(&registry_lock);
  for (int i = 0; i < n; i++) {
    audit_plugin(h, owners[i]);
    free(owners[i]);
  }
  free(owners);
  return 0;
}
