/* Teams: a name agents can be grouped under and tickets routed to. Admins manage them; agents list them. */
#include "tkt.h"

#include <stdio.h>

static cJSON *team_json(struct destek_db *db, int64_t id)
{
  sqlite3_stmt *st = tkt_db_prepare(db, "SELECT id, name, created_at, updated_at,"
                                    " (SELECT count(*) FROM tkt_tickets WHERE team_id = tkt_teams.id"
                                    "  AND status NOT IN ('solved', 'closed'))"
                                    " FROM tkt_teams WHERE id = ?1");
  if (!st) return NULL;
  tkt_db_bind(st, "i", id);
  cJSON *o = NULL;
  if (sqlite3_step(st) == SQLITE_ROW) {
    o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(st, 0));
    cJSON_AddStringToObject(o, "name", (const char *)sqlite3_column_text(st, 1));
    cJSON_AddStringToObject(o, "created_at", (const char *)sqlite3_column_text(st, 2));
    cJSON_AddStringToObject(o, "updated_at", (const char *)sqlite3_column_text(st, 3));
    cJSON_AddNumberToObject(o, "open_tickets", (double)sqlite3_column_int64(st, 4));
  }
  tkt_db_done(st);
  return o;
}

static int team_list(struct destek_req *r)
{
  int limit;
  int64_t after;
  int rc = tkt_page(r, &limit, &after);
  if (rc) return rc;
  struct destek_db *db = tkt_db_read(r);
  sqlite3_stmt *st = db ? tkt_db_prepare(db, "SELECT id FROM tkt_teams WHERE id > ?1 ORDER BY id LIMIT ?2") : NULL;
  if (!st) return tkt_error(r, 500, "internal", "internal error");
  tkt_db_bind(st, "ii", after, (int64_t)limit + 1);
  int64_t ids[201];
  int n = 0;
  while (n < limit + 1 && sqlite3_step(st) == SQLITE_ROW) ids[n++] = sqlite3_column_int64(st, 0);
  tkt_db_done(st);
  cJSON *items = cJSON_CreateArray();
  for (int i = 0; i < n && i < limit; i++) {
    cJSON *t = team_json(db, ids[i]);
    if (t) cJSON_AddItemToArray(items, t);
  }
  return tkt_reply_json(r, 200, tkt_list_new(items, n > limit ? ids[limit - 1] : 0));
}

static int team_create(struct destek_req *r)
{
  cJSON *body;
  const char *name;
  int rc;
  if ((rc = tkt_body(r, &body)) || (rc = tkt_field_str(r, body, "name", DESTEK_REQUIRED, 100, &name)))
    return rc;
  struct destek_db *w = tkt_db_write(r);
  if (!w) return tkt_status(r);
  char now[21];
  tkt_now(now);
  rc = tkt_db_exec(w, "INSERT INTO tkt_teams(name, created_at, updated_at) VALUES (?1, ?2, ?2)", "tt", name, now);
  if (rc == SQLITE_CONSTRAINT) return tkt_error(r, 409, "name_taken", "a team with this name exists");
  if (rc != SQLITE_OK) return tkt_error(r, 500, "internal", "the team could not be saved");
  return tkt_reply_json(r, 201, team_json(w, tkt_db_last_id(w)));
}

static int team_get(struct destek_req *r)
{
  cJSON *t = team_json(tkt_db_read(r), tkt_param_int(r, "id"));
  if (!t) return tkt_error(r, 404, "not_found", "no such team");
  return tkt_reply_json(r, 200, t);
}

static int team_update(struct destek_req *r)
{
  int64_t id = tkt_param_int(r, "id");
  cJSON *body;
  const char *name;
  int rc;
  if ((rc = tkt_body(r, &body)) || (rc = tkt_field_str(r, body, "name", DESTEK_OPTIONAL, 100, &name)))
    return rc;
  if (name && !*name) return tkt_field_error(r, "invalid_field", "name", "name cannot be empty");
  struct destek_db *w = tkt_db_write(r);
  if (!w) return tkt_status(r);
  if (!tkt_db_int(w, 0, "SELECT count(*) FROM tkt_teams WHERE id = ?1", "i", id))
    return tkt_error(r, 404, "not_found", "no such team");
  char now[21];
  tkt_now(now);
  rc = tkt_db_exec(w, "UPDATE tkt_teams SET name = coalesce(?2, name), updated_at = ?3 WHERE id = ?1", "itt", id, name, now);
  if (rc == SQLITE_CONSTRAINT) return tkt_error(r, 409, "name_taken", "a team with this name exists");
  if (rc != SQLITE_OK) return tkt_error(r, 500, "internal", "the team could not be saved");
  return tkt_reply_json(r, 200, team_json(w, id));
}

static int team_delete(struct destek_req *r)
{
  int64_t id = tkt_param_int(r, "id");
  struct destek_db *w = tkt_db_write(r);
  if (!w) return tkt_status(r);
  if (!tkt_db_int(w, 0, "SELECT count(*) FROM tkt_teams WHERE id = ?1", "i", id))
    return tkt_error(r, 404, "not_found", "no such team");
  if (tkt_db_int(w, 0, "SELECT count(*) FROM tkt_tickets WHERE team_id = ?1", "i", id))
    return tkt_error(r, 409, "team_in_use", "tickets belong to this team: move them to another team first");
  if (tkt_db_exec(w, "DELETE FROM tkt_teams WHERE id = ?1", "i", id) != SQLITE_OK)
    return tkt_error(r, 500, "internal", "the team could not be deleted");
  return tkt_reply_empty(r, 204);
}

const struct destek_route tkt_team_routes[] = {
  { "GET",    "/api/v1/teams",      team_list,   DESTEK_AGENT, NULL },
  { "POST",   "/api/v1/teams",      team_create, DESTEK_ADMIN, NULL },
  { "GET",    "/api/v1/teams/{id}", team_get,    DESTEK_AGENT, "id:int" },
  { "PATCH",  "/api/v1/teams/{id}", team_update, DESTEK_ADMIN, "id:int" },
  { "DELETE", "/api/v1/teams/{id}", team_delete, DESTEK_ADMIN, "id:int" },
  { 0 }
};
