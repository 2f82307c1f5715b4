/* The audit log. */
#include "audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "db.h"
#include "http.h"
#include "log.h"
#include "util.h"

static const char SQL_AUDIT_INSERT[] =
  "INSERT INTO core_audit(at, at_unix, actor_id, actor, action, target, ip, detail)"
  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

static int insert(struct db *w, int64_t actor_id, const char *actor, const char *action, const char *target,
                  const char *ip, cJSON *detail)
{
  time_t now = time(NULL);
  char at[21];
  util_iso_time(now, at);
  char *detail_text = detail ? cJSON_PrintUnformatted(detail) : NULL;
  sqlite3_stmt *st = db_prepare(w, SQL_AUDIT_INSERT);
  int rc = SQLITE_ERROR;
  if (st) {
    db_bind(st, "ti", at, (int64_t)now);
    if (actor_id) sqlite3_bind_int64(st, 3, actor_id);
    sqlite3_bind_text(st, 4, actor, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, action, -1, SQLITE_STATIC);
    if (target) sqlite3_bind_text(st, 6, target, -1, SQLITE_TRANSIENT);
    if (ip) sqlite3_bind_text(st, 7, ip, -1, SQLITE_TRANSIENT);
    if (detail_text) sqlite3_bind_text(st, 8, detail_text, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    if (rc != SQLITE_OK) log_error("audit", "cannot record %s: %s", action, db_errmsg(w));
    db_done(st);
  }
  cJSON_free(detail_text);
  cJSON_Delete(detail);
  return rc == SQLITE_OK ? 0 : -1;
}

static const char *actor_of(struct destek_req *r)
{
  if (r->who.email[0]) return r->who.email;
  return r->who.via == AUTH_CONTROL ? "cli" : "anonymous";
}

int audit_log(struct db *w, struct destek_req *r, const char *action, const char *target, cJSON *detail)
{
  return insert(w, r->who.user_id, actor_of(r), action, target, r->ip, detail);
}

int audit_log_now(struct destek_req *r, const char *actor, const char *action, const char *target, cJSON *detail)
{
  struct db *w = db_writer_acquire();
  int rc = -1;
  if (db_begin(w) == 0) {
    rc = insert(w, r->who.user_id, actor ? actor : actor_of(r), action, target, r->ip, detail);
    detail = NULL;
    if (rc == 0) rc = db_commit(w); else db_rollback(w);
  }
  cJSON_Delete(detail);
  db_writer_release(w);
  return rc;
}

static const char SQL_AUDIT_PAGE[] =
  "SELECT id, at, actor, action, target, ip, detail FROM core_audit WHERE (?1 = 0 OR id < ?1)"
  " ORDER BY id DESC LIMIT ?2";

static int audit_list(struct destek_req *r)
{
  int limit;
  int64_t after;
  int rc = http_page(r, &limit, &after);
  if (rc) return rc;
  struct db *db = http_db(r);
  sqlite3_stmt *st = db ? db_prepare(db, SQL_AUDIT_PAGE) : NULL;
  if (!st) return http_error(r, 500, "internal", "internal error");
  db_bind(st, "ii", after, (int64_t)limit + 1);
  cJSON *items = cJSON_CreateArray();
  int n = 0;
  int64_t last = 0, next = 0;
  while (sqlite3_step(st) == SQLITE_ROW) {
    if (n == limit) { next = last; break; }
    cJSON *o = cJSON_CreateObject();
    last = sqlite3_column_int64(st, 0);
    cJSON_AddNumberToObject(o, "id", (double)last);
    cJSON_AddStringToObject(o, "at", (const char *)sqlite3_column_text(st, 1));
    cJSON_AddStringToObject(o, "actor", (const char *)sqlite3_column_text(st, 2));
    cJSON_AddStringToObject(o, "action", (const char *)sqlite3_column_text(st, 3));
    const char *target = (const char *)sqlite3_column_text(st, 4), *ip = (const char *)sqlite3_column_text(st, 5);
    const char *detail = (const char *)sqlite3_column_text(st, 6);
    if (target) cJSON_AddStringToObject(o, "target", target); else cJSON_AddNullToObject(o, "target");
    if (ip) cJSON_AddStringToObject(o, "ip", ip); else cJSON_AddNullToObject(o, "ip");
    cJSON *d = detail ? cJSON_Parse(detail) : NULL;
    cJSON_AddItemToObject(o, "detail", d ? d : cJSON_CreateObject());
    cJSON_AddItemToArray(items, o);
    n++;
  }
  db_done(st);
  return http_reply_json(r, 200, http_list_new(items, next));
}

static const struct destek_route routes[] = {
  { "GET", "/api/v1/audit", audit_list, DESTEK_ADMIN, NULL },
  { 0 }
};

int audit_routes_init(void) { return http_routes_add("core", routes); }
