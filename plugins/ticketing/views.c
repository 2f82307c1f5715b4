/* Saved views of the inbox: a filter with a name, personal or shared.
 *
 *   GET    /api/v1/views                 {items: [{id, name, query, shared, mine}]}: the caller's and the shared ones
 *   POST   /api/v1/views {name, query, shared?}   → 201 the view (shared: admins only, else 403)
 *   DELETE /api/v1/views/{id}            → 204 (one's own; a shared one: admins)
 *
 * query is the inbox's address query (status=open&tag=kargo): the list's filters only, at most 500 bytes. */
#include "tkt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cJSON *view_json(sqlite3_stmt *st, int64_t me)
{
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(st, 0));
  cJSON_AddStringToObject(o, "name", (const char *)sqlite3_column_text(st, 1));
  cJSON_AddStringToObject(o, "query", (const char *)sqlite3_column_text(st, 2));
  int shared = sqlite3_column_type(st, 3) == SQLITE_NULL;
  cJSON_AddBoolToObject(o, "shared", shared);
  cJSON_AddBoolToObject(o, "mine", !shared && sqlite3_column_int64(st, 3) == me);
  return o;
}

static int views_list(struct destek_req *r)
{
  int64_t me = tkt_user_id(r);
  struct destek_db *db = tkt_db_read(r);
  sqlite3_stmt *st = tkt_db_prepare(db, "SELECT id, name, query, user_id FROM tkt_views WHERE user_id IS NULL OR user_id = ?1"
                                        " ORDER BY user_id IS NOT NULL, name, id LIMIT 200");
  if (!st) return tkt_error(r, 500, "internal", "internal error");
  tkt_db_bind(st, "i", me);
  cJSON *items = cJSON_CreateArray();
  while (sqlite3_step(st) == SQLITE_ROW) cJSON_AddItemToArray(items, view_json(st, me));
  tkt_db_done(st);
  return tkt_reply_json(r, 200, tkt_list_new(items, 0));
}

static int query_ok(const char *q)
{
  for (const char *p = q; *p; p++)
    if ((unsigned char)*p < 0x21 || *p == '#' || *p == '<' || *p == '>' || *p == '"') return 0;
  return 1;
}

static int views_create(struct destek_req *r)
{
  cJSON *body;
  const char *name, *query;
  int rc, shared = 0;
  if ((rc = tkt_body(r, &body)) || (rc = tkt_field_str(r, body, "name", DESTEK_REQUIRED, 60, &name)) ||
      (rc = tkt_field_str(r, body, "query", DESTEK_REQUIRED, 500, &query)) ||
      (rc = tkt_field_bool(r, body, "shared", DESTEK_OPTIONAL, &shared)))
    return rc;
  shared = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(body, "shared"));   /* absent: personal */
  if (!*name) return tkt_field_error(r, "invalid_field", "name", "a view needs a name");
  if (!*query || !query_ok(query)) return tkt_field_error(r, "invalid_field", "query", "query must be the inbox's filters");
  const char *role = tkt_host->user_role(r);
  if (shared && (!role || strcmp(role, "admin"))) return tkt_error(r, 403, "forbidden", "only admins share views");
  struct destek_db *w = tkt_db_write(r);
  if (!w) return tkt_status(r);
  int64_t me = tkt_user_id(r);
  char now[21];
  tkt_now(now);
  if (tkt_db_int(w, 0, "SELECT count(*) FROM tkt_views WHERE user_id = ?1", "i", me) >= 50)
    return tkt_error(r, 409, "too_many_views", "at most 50 views each");
  if (tkt_db_exec(w, "INSERT INTO tkt_views(user_id, name, query, created_at) VALUES (?1, ?2, ?3, ?4)", "Ittt",
                  shared ? NULL : &me, name, query, now) != SQLITE_OK)
    return tkt_error(r, 500, "internal", "the view could not be saved");
  sqlite3_stmt *st = tkt_db_prepare(w, "SELECT id, name, query, user_id FROM tkt_views WHERE id = ?1");
  if (!st) return tkt_error(r, 500, "internal", "internal error");
  tkt_db_bind(st, "i", tkt_db_last_id(w));
  cJSON *o = sqlite3_step(st) == SQLITE_ROW ? view_json(st, me) : NULL;
  tkt_db_done(st);
  return o ? tkt_reply_json(r, 201, o) : tkt_error(r, 500, "internal", "internal error");
}

static int views_delete(struct destek_req *r)
{
  int64_t id = tkt_param_int(r, "id"), me = tkt_user_id(r);
  struct destek_db *w = tkt_db_write(r);
  if (!w) return tkt_status(r);
  int64_t owner = tkt_db_int(w, -1, "SELECT coalesce(user_id, 0) FROM tkt_views WHERE id = ?1", "i", id);
  const char *role = tkt_host->user_role(r);
  if (owner < 0 || (owner > 0 && owner != me)) return tkt_error(r, 404, "not_found", "no such view");
  if (owner == 0 && (!role || strcmp(role, "admin"))) return tkt_error(r, 403, "forbidden", "only admins delete shared views");
  if (tkt_db_exec(w, "DELETE FROM tkt_views WHERE id = ?1", "i", id) != SQLITE_OK)
    return tkt_error(r, 500, "internal", "the view could not be deleted");
  return tkt_reply_empty(r, 204);
}

static const struct destek_route views_routes[] = {
  { "GET",    "/api/v1/views",      views_list,   DESTEK_AGENT, NULL },
  { "POST",   "/api/v1/views",      views_create, DESTEK_AGENT, NULL },
  { "DELETE", "/api/v1/views/{id}", views_delete, DESTEK_AGENT, "id:int" },
  { 0 }
};

int tkt_views_init(const struct destek_host *h)
{
  return h->routes(h, views_routes) || tkt_seen_init(h) || tkt_order_refs_init(h);   /* seen.c, order_refs.c */
}
