/* Per-agent seen marks: what an agent last saw of a ticket, so the inbox marks, for that agent alone, the tickets
 * whose customer wrote since they last looked.
 *
 *   POST /api/v1/tickets/{id}/seen         → 204: the caller has seen the ticket as it is now (its newest message)
 *   GET  /api/v1/tickets/seen?ids=1,2,...  {items: [{id, seen_at, unread}]}: for each ticket (at most 200), when the
 *        caller last opened it (null: never) and whether a customer message came after that (never opened: whether
 *        the customer wrote at all). Unknown ids are left out. */
#include "tkt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEEN_MAX 200

static int seen_mark(struct destek_req *r)
{
  int64_t id = tkt_param_int(r, "id"), me = tkt_user_id(r);
  if (me <= 0) return tkt_error(r, 403, "forbidden", "only agents have seen marks");
  struct destek_db *w = tkt_db_write(r);
  if (!w) return tkt_status(r);
  if (!tkt_db_int(w, 0, "SELECT count(*) FROM tkt_tickets WHERE id = ?1", "i", id))
    return tkt_error(r, 404, "not_found", "no such ticket");
  char now[21];
  tkt_now(now);
  if (tkt_db_exec(w, "INSERT INTO tkt_seen(user_id, ticket_id, message_id, seen_at)"
                     " VALUES (?1, ?2, (SELECT coalesce(max(id), 0) FROM tkt_messages WHERE ticket_id = ?2), ?3)"
                     " ON CONFLICT(user_id, ticket_id) DO UPDATE SET message_id = excluded.message_id,"
                     " seen_at = excluded.seen_at", "iit", me, id, now) != SQLITE_OK)
    return tkt_error(r, 500, "internal", "the seen mark could not be saved");
  return tkt_reply_empty(r, 204);
}

static int seen_list(struct destek_req *r)
{
  char ids[SEEN_MAX * 21];
  int64_t me = tkt_user_id(r);
  if (!tkt_query_get(r, "ids", ids, sizeof ids) || !*ids)
    return tkt_field_error(r, "missing_field", "ids", "ids: the tickets' ids, separated by commas");
  cJSON *items = cJSON_CreateArray();
  struct destek_db *db = tkt_db_read(r);
  sqlite3_stmt *st = db ? tkt_db_prepare(db,
    "SELECT t.id, s.seen_at, EXISTS (SELECT 1 FROM tkt_messages m WHERE m.ticket_id = t.id AND m.kind = 'customer'"
    "  AND m.id > coalesce(s.message_id, 0))"
    " FROM tkt_tickets t LEFT JOIN tkt_seen s ON s.user_id = ?1 AND s.ticket_id = t.id WHERE t.id = ?2") : NULL;
  if (!st) { cJSON_Delete(items); return tkt_error(r, 500, "internal", "internal error"); }
  int n = 0;
  for (char *p = ids; *p;) {
    char *end;
    long long id = strtoll(p, &end, 10);
    if (end == p || id <= 0 || (*end && *end != ',') || ++n > SEEN_MAX) {
      tkt_db_done(st);
      cJSON_Delete(items);
      return tkt_field_error(r, "invalid_field", "ids", "ids: at most 200 ticket ids, separated by commas");
    }
    p = *end ? end + 1 : end;
    sqlite3_reset(st);
    tkt_db_bind(st, "ii", me, (int64_t)id);
    if (sqlite3_step(st) != SQLITE_ROW) continue;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)id);
    if (sqlite3_column_type(st, 1) == SQLITE_NULL) cJSON_AddNullToObject(o, "seen_at");
    else cJSON_AddStringToObject(o, "seen_at", (const char *)sqlite3_column_text(st, 1));
    cJSON_AddBoolToObject(o, "unread", sqlite3_column_int(st, 2));
    cJSON_AddItemToArray(items, o);
  }
  tkt_db_done(st);
  return tkt_reply_json(r, 200, tkt_list_new(items, 0));
}

static const struct destek_route seen_routes[] = {
  { "GET",  "/api/v1/tickets/seen",      seen_list, DESTEK_AGENT, NULL },
  { "POST", "/api/v1/tickets/{id}/seen", seen_mark, DESTEK_AGENT, "id:int" },
  { 0 }
};

int tkt_seen_init(const struct destek_host *h)
{
  return h->routes(h, seen_routes);
}
