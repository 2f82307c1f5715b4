/* The list, read, delete and "saved" answers shared by the tables admins edit one row at a time (macros, triggers,
 * SLA policies): each table differs only in its SQL, its row's JSON and its noun. */
#include "tkt.h"

int tkt_admin_list(struct destek_req *r, const struct tkt_admin_table *t)
{
  struct destek_db *db = tkt_db_read(r);
  sqlite3_stmt *st = db ? tkt_db_prepare(db, t->list_sql) : NULL;
  if (!st) return tkt_error(r, 500, "internal", "internal error");
  cJSON *items = cJSON_CreateArray();
  while (sqlite3_step(st) == SQLITE_ROW) {
    cJSON *o = t->json(db, sqlite3_column_int64(st, 0));
    if (o) cJSON_AddItemToArray(items, o);
  }
  tkt_db_done(st);
  return tkt_reply_json(r, 200, tkt_list_new(items, 0));
}

int tkt_admin_get(struct destek_req *r, const struct tkt_admin_table *t)
{
  cJSON *o = t->json(tkt_db_read(r), tkt_param_int(r, "id"));
  if (!o) return tkt_error(r, 404, "not_found", "no such %s", t->noun);
  return tkt_reply_json(r, 200, o);
}

int tkt_admin_saved(struct destek_req *r, const struct tkt_admin_table *t, int64_t id)
{
  struct destek_db *w = tkt_db_write(r);
  return tkt_reply_json(r, id ? 200 : 201, t->json(w, id ? id : tkt_db_last_id(w)));
}

int tkt_admin_delete(struct destek_req *r, const struct tkt_admin_table *t)
{
  int64_t id = tkt_param_int(r, "id");
  struct destek_db *w = tkt_db_write(r);
  if (!w) return tkt_status(r);
  if (!tkt_db_int(w, 0, t->exists_sql, "i", id)) return tkt_error(r, 404, "not_found", "no such %s", t->noun);
  if (tkt_db_exec(w, t->delete_sql, "i", id) != SQLITE_OK)
    return tkt_error(r, 500, "internal", "the %s could not be deleted", t->noun);
  return tkt_reply_empty(r, 204);
}
