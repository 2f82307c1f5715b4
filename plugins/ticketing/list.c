/* The ticket list: GET /api/v1/tickets (filters, sorts, keyset cursors, full-text search with snippets) and
 * GET /api/v1/tickets/count. The hot path of the agents' inbox: each page is one prepared statement whose rows are
 * written straight into the response as JSON (tkt_summary_write), with no per-ticket queries or cJSON trees.
 *
 * Search (q): results come in three groups — every word in the subject, then every word in the customer's name or
 * e-mail, then the rest (words anywhere in the subject, thread and customer together) — and newest ticket first
 * within a group. FTS5 reads each group in rowid order and stops at the page size, so a word that matches most of
 * the desk ("kargo") costs no more than a rare one: ranking every match by bm25 had to score them all. */
#include "tkt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fold.h"
#include "destek_jbuf.h"
#include "sla.h"
#include "destek_util.h"

#define LIST_MAX 200

/* The filters every list, search and count shares, on tkt_tickets t. Bound by bind_filters: ?1 (non-NULL: filter
 * by status, the statuses in ?14..?19), ?2 priority, ?3 assignee (0 any, -1 nobody, else the user), ?4 tag,
 * ?5 channel, ?6 customer, ?7 team (0 any, -1 the teams the caller ?20 belongs to, else the team), ?8/?9 SLA at
 * risk (TKT_SLA_AT_RISK_SQL). */
#define FILTERS \
  " AND (?1 IS NULL OR t.status IN (?14, ?15, ?16, ?17, ?18, ?19))" \
  " AND (?2 IS NULL OR t.priority = ?2)" \
  " AND (?3 = 0 OR (?3 = -1 AND t.assignee_id IS NULL) OR t.assignee_id = ?3)" \
  " AND (?4 IS NULL OR EXISTS (SELECT 1 FROM tkt_ticket_tags g WHERE g.ticket_id = t.id AND g.tag = ?4))" \
  " AND (?5 IS NULL OR t.channel = ?5)" \
  " AND (?6 = 0 OR t.customer_id = ?6)" \
  " AND (?7 = 0 OR t.team_id = ?7 OR (?7 = -1 AND t.team_id IN" \
  "  (SELECT m.team_id FROM tkt_team_members m WHERE m.user_id = ?20)))" \
  TKT_SLA_AT_RISK_SQL

/* The priority as a number, the same expression as the index tkt_tickets_priority_rank (migration 009). */
#define PRIORITY_RANK "(CASE t.priority WHEN 'urgent' THEN 3 WHEN 'high' THEN 2 WHEN 'normal' THEN 1 ELSE 0 END)"

/* The earliest due instant of a clock still counting (running or paused); tickets without one sort last. */
#define SLA_DUE \
  "coalesce(CASE WHEN s.frt_clock IN ('running', 'paused') AND s.frt_due_at IS NOT NULL" \
  " AND (s.res_clock NOT IN ('running', 'paused') OR s.res_due_at IS NULL OR s.frt_due_at <= s.res_due_at)" \
  " THEN s.frt_due_at WHEN s.res_clock IN ('running', 'paused') THEN s.res_due_at END, 9223372036854775807)"

/* One statement per sort. Keys after the summary columns: key1 (and key2) for the cursor. ?10 the limit, ?11/?12
 * the cursor's keys (?11 NULL: the first page). */
static const char SQL_BY_UPDATED[] =
  TKT_SUMMARY_SELECT_KEYS(", t.seq, 0")
  " WHERE (?11 IS NULL OR t.seq < ?11)" FILTERS " ORDER BY t.seq DESC LIMIT ?10";
static const char SQL_BY_CREATED[] =
  TKT_SUMMARY_SELECT_KEYS(", t.id, 0")
  " WHERE (?11 IS NULL OR t.id < ?11)" FILTERS " ORDER BY t.id DESC LIMIT ?10";
static const char SQL_BY_PRIORITY[] =
  TKT_SUMMARY_SELECT_KEYS(", " PRIORITY_RANK ", t.seq")
  " WHERE (?11 IS NULL OR (" PRIORITY_RANK ", t.seq) < (?11, ?12))" FILTERS
  " ORDER BY " PRIORITY_RANK " DESC, t.seq DESC LIMIT ?10";
static const char SQL_BY_SLA_DUE[] =
  TKT_SUMMARY_SELECT_KEYS(", " SLA_DUE ", t.seq")
  " WHERE (?11 IS NULL OR " SLA_DUE " > ?11 OR (" SLA_DUE " = ?11 AND t.seq < ?12))" FILTERS
  " ORDER BY " SLA_DUE ", t.seq DESC LIMIT ?10";

/* Search: ?13 the FTS5 query of one group; ?11 the rowid to continue below (NULL: from the newest). */
static const char SQL_SEARCH[] =
  TKT_SUMMARY_SELECT_FROM(", t.id, 0", "tkt_search JOIN tkt_tickets t ON t.id = tkt_search.rowid")
  " WHERE tkt_search MATCH ?13 AND (?11 IS NULL OR tkt_search.rowid < ?11)" FILTERS
  " ORDER BY tkt_search.rowid DESC LIMIT ?10";

/* Counting: with a status filter the status index answers (no OR around the IN list). */
static const char SQL_COUNT_BY_STATUS[] =
  "SELECT count(*) FROM tkt_tickets t WHERE t.status IN (?14, ?15, ?16, ?17, ?18, ?19) AND ?1 IS NOT NULL" FILTERS;
static const char SQL_COUNT[] = "SELECT count(*) FROM tkt_tickets t WHERE ?1 IS NULL" FILTERS;
static const char SQL_COUNT_SEARCH[] =
  "SELECT count(*) FROM tkt_search JOIN tkt_tickets t ON t.id = tkt_search.rowid WHERE tkt_search MATCH ?13" FILTERS;

enum sort { SORT_UPDATED, SORT_CREATED, SORT_PRIORITY, SORT_SLA_DUE };
static const char *const SORTS[] = { "updated", "created", "priority", "sla_due", NULL };
/* The cursor's tag per sort, and 's' for a search page. */
static const char CURSOR_TAG[] = { 'i', 'c', 'p', 'd' };

struct filters {
  const char *statuses[6];   /* members of TKT_STATUSES */
  int n_statuses;
  const char *priority, *channel;   /* members of TKT_PRIORITIES, TKT_CHANNELS, or NULL */
  char tag[TKT_TAG_MAX + 1];
  int has_tag;
  int64_t assignee_id, customer_id, team_id, member_id;
  int sla_at_risk;
  char q[2048];
  int has_q;
};

static void log_failure(struct destek_db *db, const char *what)
{
  tkt_log(DESTEK_LOG_ERROR, "ticket %s failed: %s", what, db ? tkt_db_errmsg(db) : "no database");
}

static int64_t positive_id(const char *s)
{
  char *end;
  long long v = strtoll(s, &end, 10);
  return (*s && !*end && v > 0) ? v : 0;
}

/* The member of set equal to s, or NULL. */
static const char *one_of(const char *const *set, const char *s)
{
  for (; *set; set++) if (!strcmp(*set, s)) return *set;
  return NULL;
}

/* Reads the filters of the query string. 0, or the 422 it set up. */
static int filters_read(struct destek_req *r, struct filters *f)
{
  memset(f, 0, sizeof *f);
  /* Buffers as large as a request line can be: a value too long for its buffer would read as absent. */
  char buf[8192];
  if (tkt_query_get(r, "status", buf, sizeof buf) && *buf) {
    /* "open" or "open,pending": each must be a status. */
    for (char *save, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
      const char *status = one_of(TKT_STATUSES, tok);
      if (!status)
        return tkt_field_error(r, "invalid_field", "status", "status must be one or more of: new, open, pending,"
                                " on_hold, solved, closed (comma-separated)");
      int dup = 0;
      for (int i = 0; i < f->n_statuses; i++) dup |= f->statuses[i] == status;
      if (!dup) f->statuses[f->n_statuses++] = status;   /* six statuses: at most six distinct */
    }
  }
  if (tkt_query_get(r, "priority", buf, sizeof buf) && *buf) {
    if (!(f->priority = one_of(TKT_PRIORITIES, buf)))
      return tkt_field_error(r, "invalid_field", "priority", "priority must be one of: low, normal, high, urgent");
  }
  if (tkt_query_get(r, "channel", buf, sizeof buf) && *buf) {
    if (!(f->channel = one_of(TKT_CHANNELS, buf)))
      return tkt_field_error(r, "invalid_field", "channel",
                              "channel must be one of: email, web, api, chat, whatsapp, phone");
  }
  if (tkt_query_get(r, "assignee", buf, sizeof buf) && *buf) {
    if (!strcmp(buf, "me")) f->assignee_id = tkt_user_id(r) > 0 ? tkt_user_id(r) : -2;   /* -2: nobody's */
    else if (!strcmp(buf, "none")) f->assignee_id = -1;
    else if (!(f->assignee_id = positive_id(buf)))
      return tkt_field_error(r, "invalid_field", "assignee", "assignee must be a user id, \"me\" or \"none\"");
  }
  if (tkt_query_get(r, "customer", buf, sizeof buf) && *buf && !(f->customer_id = positive_id(buf)))
    return tkt_field_error(r, "invalid_field", "customer", "customer must be a customer id");
  if (tkt_query_get(r, "team", buf, sizeof buf) && *buf) {
    if (!strcmp(buf, "mine")) {
      f->team_id = -1;
      f->member_id = tkt_user_id(r) > 0 ? tkt_user_id(r) : -2;   /* a token without a user belongs to no team */
    } else if (!(f->team_id = positive_id(buf))) {
      return tkt_field_error(r, "invalid_field", "team", "team must be a team id or \"mine\"");
    }
  }
  if (tkt_query_get(r, "tag", buf, sizeof buf) && *buf) {
    if (strlen(buf) > TKT_TAG_MAX) {
      f->has_tag = 2;   /* longer than any tag: matches nothing */
    } else {
      memcpy(f->tag, buf, strlen(buf) + 1);
      tkt_tag_lower(f->tag);
      f->has_tag = 1;
    }
  }
  if (tkt_query_get(r, "sla_at_risk", buf, sizeof buf) && *buf) {
    if (!strcmp(buf, "1") || !strcmp(buf, "true")) f->sla_at_risk = 1;
    else if (strcmp(buf, "0") && strcmp(buf, "false"))
      return tkt_field_error(r, "invalid_field", "sla_at_risk", "sla_at_risk must be true or false");
  }
  if (tkt_query_get(r, "q", buf, sizeof buf) && *buf) {
    if (strlen(buf) >= sizeof f->q)
      return tkt_field_error(r, "invalid_field", "q", "q is longer than %zu bytes", sizeof f->q - 1);
    memcpy(f->q, buf, strlen(buf) + 1);   /* fits: checked above */
    f->has_q = 1;
  }
  return 0;
}

static void bind_filters(sqlite3_stmt *st, const struct filters *f)
{
  if (f->n_statuses) sqlite3_bind_int(st, 1, 1);
  for (int i = 0; i < f->n_statuses; i++) sqlite3_bind_text(st, 14 + i, f->statuses[i], -1, SQLITE_STATIC);
  if (f->priority) sqlite3_bind_text(st, 2, f->priority, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 3, f->assignee_id);
  if (f->has_tag == 1) sqlite3_bind_text(st, 4, f->tag, -1, SQLITE_STATIC);
  else if (f->has_tag == 2) sqlite3_bind_text(st, 4, "\x01", -1, SQLITE_STATIC);  /* no tag holds a control byte */
  if (f->channel) sqlite3_bind_text(st, 5, f->channel, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 6, f->customer_id);
  sqlite3_bind_int64(st, 7, f->team_id);
  sqlite3_bind_int64(st, 20, f->member_id);
  sqlite3_bind_int(st, 8, f->sla_at_risk);
  sqlite3_bind_int64(st, 9, tkt_sla_now());
}

/* --- cursors: base64url of "<tag>:<key1>[:<key2>]" --- */

static void cursor_write(struct jbuf *b, char tag, int64_t key1, int64_t key2, int two)
{
  char raw[64], enc[96];
  int n = two ? snprintf(raw, sizeof raw, "%c:%lld:%lld", tag, (long long)key1, (long long)key2)
              : snprintf(raw, sizeof raw, "%c:%lld", tag, (long long)key1);
  util_b64url_encode(raw, (size_t)n, enc);
  jbuf_str(b, enc);
}

/* Reads ?cursor= for a page with this tag. 0 (*has: whether there was one), or the 422 it set up. */
static int cursor_read(struct destek_req *r, char tag, int two, int *has, int64_t *key1, int64_t *key2)
{
  char buf[128];
  *has = 0;
  if (!tkt_query_get(r, "cursor", buf, sizeof buf) || !*buf) return 0;
  char raw[96];
  long n = util_b64url_decode(buf, raw, sizeof raw - 1);
  if (n > 2 && raw[0] == tag && raw[1] == ':') {
    raw[n] = 0;
    char *end;
    long long a = strtoll(raw + 2, &end, 10), b = 0;
    int ok = end != raw + 2;
    if (ok && two) {
      ok = *end == ':';
      char *p = end + 1;
      b = ok ? strtoll(p, &end, 10) : 0;
      ok = ok && end != p;
    }
    if (ok && !*end) {
      *has = 1;
      *key1 = a;
      *key2 = b;
      return 0;
    }
  }
  return tkt_field_error(r, "invalid_field", "cursor", "cursor is not one this server gave out for this list");
}

static int limit_read(struct destek_req *r, int *limit)
{
  char buf[32];
  *limit = 50;
  if (!tkt_query_get(r, "limit", buf, sizeof buf)) return 0;
  char *end;
  long v = strtol(buf, &end, 10);
  if (!*buf || *end || v < 1 || v > LIST_MAX)
    return tkt_field_error(r, "invalid_field", "limit", "limit must be a whole number from 1 to %d", LIST_MAX);
  *limit = (int)v;
  return 0;
}

static int reply_list(struct destek_req *r, struct jbuf *b)
{
  size_t len;
  char *text = jbuf_take(b, &len);
  tkt_reply_take(r, 200, "application/json; charset=utf-8", text, len);
  return 200;
}

/* --- search --- */

/* Writes the search member of a hit: the subject if it matches, else the first matching message, else the
 * customer's name (the row is st's current one, columns of TKT_SUMMARY_SELECT). */
static void write_snippet(struct jbuf *b, struct destek_db *db, sqlite3_stmt *row, const char *folded_query)
{
  const char *field = "subject";
  char *s = tkt_snippet_new((const char *)sqlite3_column_text(row, 2), folded_query, 24);
  if (!s) {
    field = "body";
    sqlite3_stmt *st = tkt_db_prepare(db, "SELECT body FROM tkt_messages WHERE ticket_id = ?1 ORDER BY id");
    if (st) {
      tkt_db_bind(st, "i", sqlite3_column_int64(row, 0));
      while (!s && sqlite3_step(st) == SQLITE_ROW)
        s = tkt_snippet_new((const char *)sqlite3_column_text(st, 0), folded_query, 24);
      tkt_db_done(st);
    }
  }
  if (!s) {
    field = "customer";
    const char *name = (const char *)sqlite3_column_text(row, 7);
    s = tkt_snippet_new(name ? name : "", folded_query, 24);
  }
  JBUF_LIT(b, ",\"search\":{\"field\":");
  jbuf_str(b, field);
  JBUF_LIT(b, ",\"snippet_html\":");
  jbuf_str(b, s);
  JBUF_LIT(b, "}");
  free(s);
}

/* The three groups' FTS5 queries for terms (an FTS5 expression of quoted prefix terms). */
static void search_groups(const char *terms, char out[3][3300])
{
  snprintf(out[0], sizeof out[0], "{subject} : (%s)", terms);
  snprintf(out[1], sizeof out[1], "({customer} : (%s)) NOT ({subject} : (%s))", terms, terms);
  snprintf(out[2], sizeof out[2], "(%s) NOT ({subject} : (%s)) NOT ({customer} : (%s))", terms, terms, terms);
}

static int search_list(struct destek_req *r, const struct filters *f, int limit)
{
  char terms[1024];
  char *folded = tkt_fold_new(f->q, strlen(f->q));
  struct jbuf b;
  jbuf_init(&b, 32768);
  JBUF_LIT(&b, "{\"items\":[");
  if (!tkt_fts_query(folded, terms, sizeof terms, 10)) {
    free(folded);
    JBUF_LIT(&b, "],\"next_cursor\":null}");
    return reply_list(r, &b);
  }
  /* The cursor: the group and the last rowid shown in it. */
  int has = 0;
  int64_t group = 0, below = 0;
  int rc = cursor_read(r, 's', 1, &has, &group, &below);
  if (rc) { free(folded); jbuf_free(&b); return rc; }
  if (has && (group < 0 || group > 2)) {
    free(folded);
    jbuf_free(&b);
    return tkt_field_error(r, "invalid_field", "cursor", "cursor is not one this server gave out for this list");
  }
  char groups[3][3300];
  search_groups(terms, groups);
  struct destek_db *db = tkt_db_read(r);
  int shown = 0, more = 0;
  int64_t last_group = 0, last_rowid = 0, now = tkt_sla_now();
  for (int g = (int)group; g < 3 && !more; g++) {
    sqlite3_stmt *st = db ? tkt_db_prepare(db, SQL_SEARCH) : NULL;
    if (!st) { free(folded); jbuf_free(&b); return tkt_error(r, 500, "internal", "internal error"); }
    bind_filters(st, f);
    sqlite3_bind_int(st, 10, limit - shown + 1);
    if (has && g == group) sqlite3_bind_int64(st, 11, below);
    sqlite3_bind_text(st, 13, groups[g], -1, SQLITE_STATIC);
    int step;
    /* The snippet may read the thread: its statement differs from this one, so the cache keeps both. */
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
      if (shown == limit) { more = 1; break; }
      if (shown++) JBUF_LIT(&b, ",");
      tkt_summary_write(&b, st, now);
      b.len--;   /* reopen the item for its search member */
      write_snippet(&b, db, st, folded);
      JBUF_LIT(&b, "}");
      last_group = g;
      last_rowid = sqlite3_column_int64(st, 0);
    }
    int failed = step != SQLITE_ROW && step != SQLITE_DONE;
    if (failed) log_failure(db, "search");
    tkt_db_done(st);
    if (failed) { free(folded); jbuf_free(&b); return tkt_error(r, 500, "internal", "the search failed"); }
  }
  free(folded);
  JBUF_LIT(&b, "],\"next_cursor\":");
  if (more) cursor_write(&b, 's', last_group, last_rowid, 1);
  else jbuf_null(&b);
  JBUF_LIT(&b, "}");
  return reply_list(r, &b);
}

/* --- handlers --- */

/* GET /api/v1/tickets: filters, sort=updated (newest change first, the default)|created|priority|sla_due, or the
 * search groups when q is given. */
static int ticket_list(struct destek_req *r)
{
  int limit, rc;
  struct filters f;
  if ((rc = limit_read(r, &limit)) || (rc = filters_read(r, &f))) return rc;
  char sort_name[32] = "";
  enum sort sort = SORT_UPDATED;
  if (tkt_query_get(r, "sort", sort_name, sizeof sort_name) && *sort_name) {
    int i = 0;
    while (SORTS[i] && strcmp(SORTS[i], sort_name)) i++;
    if (!SORTS[i])
      return tkt_field_error(r, "invalid_field", "sort", "sort must be one of: updated, created, priority, sla_due");
    sort = (enum sort)i;
  }
  if (f.has_q) return search_list(r, &f, limit);

  int two = sort == SORT_PRIORITY || sort == SORT_SLA_DUE, has;
  int64_t key1 = 0, key2 = 0;
  if ((rc = cursor_read(r, CURSOR_TAG[sort], two, &has, &key1, &key2))) return rc;
  static const char *const sql[] = { SQL_BY_UPDATED, SQL_BY_CREATED, SQL_BY_PRIORITY, SQL_BY_SLA_DUE };
  struct destek_db *db = tkt_db_read(r);
  sqlite3_stmt *st = db ? tkt_db_prepare(db, sql[sort]) : NULL;
  if (!st) return tkt_error(r, 500, "internal", "internal error");
  bind_filters(st, &f);
  sqlite3_bind_int(st, 10, limit + 1);
  if (has) {
    sqlite3_bind_int64(st, 11, key1);
    sqlite3_bind_int64(st, 12, key2);
  }
  struct jbuf b;
  jbuf_init(&b, 32768);
  JBUF_LIT(&b, "{\"items\":[");
  int shown = 0, more = 0, step;
  int64_t last1 = 0, last2 = 0, now = tkt_sla_now();
  while ((step = sqlite3_step(st)) == SQLITE_ROW) {
    if (shown == limit) { more = 1; break; }
    if (shown++) JBUF_LIT(&b, ",");
    tkt_summary_write(&b, st, now);
    last1 = sqlite3_column_int64(st, TKT_SUMMARY_NCOLS);
    last2 = sqlite3_column_int64(st, TKT_SUMMARY_NCOLS + 1);
  }
  int failed = step != SQLITE_ROW && step != SQLITE_DONE;
  if (failed) log_failure(db, "list");
  tkt_db_done(st);
  if (failed) { jbuf_free(&b); return tkt_error(r, 500, "internal", "the list failed"); }
  JBUF_LIT(&b, "],\"next_cursor\":");
  if (more) cursor_write(&b, CURSOR_TAG[sort], last1, last2, two);
  else jbuf_null(&b);
  JBUF_LIT(&b, "}");
  return reply_list(r, &b);
}

/* GET /api/v1/tickets/count: how many tickets the same filters (and q) would list. */
static int ticket_count(struct destek_req *r)
{
  struct filters f;
  int rc = filters_read(r, &f);
  if (rc) return rc;
  char terms[1024] = "";
  if (f.has_q) {
    char *folded = tkt_fold_new(f.q, strlen(f.q));
    int n = tkt_fts_query(folded, terms, sizeof terms, 10);
    free(folded);
    if (!n) {
      cJSON *o = cJSON_CreateObject();
      cJSON_AddNumberToObject(o, "count", 0);
      return tkt_reply_json(r, 200, o);
    }
  }
  struct destek_db *db = tkt_db_read(r);
  const char *sql = f.has_q ? SQL_COUNT_SEARCH : f.n_statuses ? SQL_COUNT_BY_STATUS : SQL_COUNT;
  sqlite3_stmt *st = db ? tkt_db_prepare(db, sql) : NULL;
  if (!st) return tkt_error(r, 500, "internal", "internal error");
  bind_filters(st, &f);
  if (f.has_q) sqlite3_bind_text(st, 13, terms, -1, SQLITE_STATIC);
  int step = sqlite3_step(st);
  int64_t n = step == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
  if (step != SQLITE_ROW) log_failure(db, "count");
  tkt_db_done(st);
  if (n < 0) return tkt_error(r, 500, "internal", "the count failed");
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "count", (double)n);
  return tkt_reply_json(r, 200, o);
}

const struct destek_route tkt_list_routes[] = {
  { "GET", "/api/v1/tickets",       ticket_list,  DESTEK_AGENT, NULL },
  { "GET", "/api/v1/tickets/count", ticket_count, DESTEK_AGENT, NULL },
  { 0 }
};
