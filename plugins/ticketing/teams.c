/* Teams: a name agents are grouped under and tickets routed to; its members; round-robin assignment among the
 * online members; the teams of each person in the colleague directory. Admins manage teams and members; agents
 * list them.
 *
 * Round-robin. A team with round_robin on gives a ticket that comes to it without an agent (its team is set, by an
 * agent, the API, a mailbox, the triage policy or a trigger, and nobody is assigned) to the next of its members who
 * is an active user, online now (host user_online) and below the team's max_open open tickets (when set). "Next"
 * is by user id after the member who got the last one (tkt_teams.rr_last_user_id), wrapping around: every eligible
 * member gets one in turn whoever joins, leaves or goes offline. The pointer is read and moved on the writer inside
 * the call's transaction: the group commit runs the calls one after another, so two tickets arriving together go to
 * two members, and a call that rolls back leaves the pointer where it was. */
#include "tkt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "destek_util.h"

#define TEAM_MEMBERS_MAX 500
#define MAX_OPEN_LIMIT 10000

static cJSON *team_json(struct destek_db *db, int64_t id)
{
  sqlite3_stmt *st = tkt_db_prepare(db, "SELECT id, name, created_at, updated_at,"
                                    " (SELECT count(*) FROM tkt_tickets WHERE team_id = tkt_teams.id"
                                    "  AND status NOT IN ('solved', 'closed')), round_robin, max_open"
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
    cJSON_AddBoolToObject(o, "round_robin", sqlite3_column_int(st, 5));
    if (sqlite3_column_type(st, 6) == SQLITE_NULL) cJSON_AddNullToObject(o, "max_open");
    else cJSON_AddNumberToObject(o, "max_open", (double)sqlite3_column_int64(st, 6));
  }
  tkt_db_done(st);
  if (!o) return NULL;
  /* Members by name: what the directory shows of them (no e-mail). */
  cJSON *members = cJSON_AddArrayToObject(o, "members");
  st = tkt_db_prepare(db, "SELECT m.user_id, coalesce(u.name, ''), coalesce(u.active, 0) FROM tkt_team_members m"
                      " LEFT JOIN core_users u ON u.id = m.user_id WHERE m.team_id = ?1"
                      " ORDER BY u.name COLLATE NOCASE, m.user_id");
  if (st) {
    tkt_db_bind(st, "i", id);
    while (sqlite3_step(st) == SQLITE_ROW) {
      cJSON *m = cJSON_CreateObject();
      cJSON_AddNumberToObject(m, "id", (double)sqlite3_column_int64(st, 0));
      cJSON_AddStringToObject(m, "name", (const char *)sqlite3_column_text(st, 1));
      cJSON_AddBoolToObject(m, "active", sqlite3_column_int(st, 2));
      cJSON_AddItemToArray(members, m);
    }
    tkt_db_done(st);
  }
  return o;
}

static int team_list(struct destek_req *r)
{
  int limit;
  int64_t after;
  int rc = tkt_page(r, &limit, &after);
  if (rc) return rc;
  char buf[16];
  /* ?member=me: the caller's teams (the inbox's "my teams"). */
  int mine = tkt_query_get(r, "member", buf, sizeof buf) && *buf;
  if (mine && strcmp(buf, "me")) return tkt_field_error(r, "invalid_field", "member", "member must be \"me\"");
  struct destek_db *db = tkt_db_read(r);
  sqlite3_stmt *st = db ? tkt_db_prepare(db, "SELECT id FROM tkt_teams WHERE id > ?1 AND (?3 = 0 OR id IN"
                                         " (SELECT team_id FROM tkt_team_members WHERE user_id = ?3))"
                                         " ORDER BY id LIMIT ?2") : NULL;
  if (!st) return tkt_error(r, 500, "internal", "internal error");
  int64_t member = !mine ? 0 : tkt_user_id(r) > 0 ? tkt_user_id(r) : -1;   /* -1: nobody's teams */
  tkt_db_bind(st, "iii", after, (int64_t)limit + 1, member);
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

/* Reads max_open: absent (*set 0), null (no cap, *max_open 0) or 1..MAX_OPEN_LIMIT. 0 or the 422. */
static int max_open_field(struct destek_req *r, const cJSON *body, int *set, int64_t *max_open)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, "max_open");
  *set = v != NULL;
  *max_open = 0;
  if (!v || cJSON_IsNull(v)) return 0;
  if (!cJSON_IsNumber(v) || v->valuedouble != (double)(int64_t)v->valuedouble || v->valuedouble < 1 ||
      v->valuedouble > MAX_OPEN_LIMIT)
    return tkt_field_error(r, "invalid_field", "max_open", "max_open must be a whole number from 1 to %d, or null",
                           MAX_OPEN_LIMIT);
  *max_open = (int64_t)v->valuedouble;
  return 0;
}

/* Saves a team's fields from body (id 0: a new team). 0, or the error set up; *id_out the team's id. */
static int team_save(struct destek_req *r, int64_t id, int64_t *id_out)
{
  cJSON *body;
  const char *name;
  int rc, round_robin, max_set;
  int64_t max_open;
  if ((rc = tkt_body(r, &body)) ||
      (rc = tkt_field_str(r, body, "name", id ? DESTEK_OPTIONAL : DESTEK_REQUIRED, 100, &name)) ||
      (rc = tkt_field_bool(r, body, "round_robin", DESTEK_OPTIONAL, &round_robin)) ||
      (rc = max_open_field(r, body, &max_set, &max_open)))
    return rc;
  if (name && !*name) return tkt_field_error(r, "invalid_field", "name", "name cannot be empty");
  struct destek_db *w = tkt_db_write(r);
  if (!w) return tkt_status(r);
  if (id && !tkt_db_int(w, 0, "SELECT count(*) FROM tkt_teams WHERE id = ?1", "i", id))
    return tkt_error(r, 404, "not_found", "no such team");
  char now[21];
  tkt_now(now);
  int64_t rr = round_robin;
  if (!id) {
    rc = tkt_db_exec(w, "INSERT INTO tkt_teams(name, created_at, updated_at, round_robin, max_open)"
                        " VALUES (?1, ?2, ?2, max(?3, 0), nullif(?4, 0))", "ttii", name, now, rr, max_open);
    if (rc == SQLITE_OK) id = tkt_db_last_id(w);
  } else {
    rc = tkt_db_exec(w, "UPDATE tkt_teams SET name = coalesce(?2, name), updated_at = ?3,"
                        " round_robin = CASE WHEN ?4 < 0 THEN round_robin ELSE ?4 END,"
                        " max_open = CASE WHEN ?5 THEN nullif(?6, 0) ELSE max_open END WHERE id = ?1",
                     "ittiii", id, name, now, rr, (int64_t)max_set, max_open);
  }
  if (rc == SQLITE_CONSTRAINT) return tkt_error(r, 409, "name_taken", "a team with this name exists");
  if (rc != SQLITE_OK) return tkt_error(r, 500, "internal", "the team could not be saved");
  *id_out = id;
  return 0;
}

static int team_create(struct destek_req *r)
{
  int64_t id = 0;
  int rc = team_save(r, 0, &id);
  if (rc) return rc;
  return tkt_reply_json(r, 201, team_json(tkt_db_write(r), id));
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
  int rc = team_save(r, id, &id);
  if (rc) return rc;
  return tkt_reply_json(r, 200, team_json(tkt_db_write(r), id));
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
  if (tkt_db_exec(w, "DELETE FROM tkt_team_members WHERE team_id = ?1", "i", id) != SQLITE_OK ||
      tkt_db_exec(w, "DELETE FROM tkt_teams WHERE id = ?1", "i", id) != SQLITE_OK)
    return tkt_error(r, 500, "internal", "the team could not be deleted");
  return tkt_reply_empty(r, 204);
}

/* ------------------------------------------------------------------------------------------------ members */

/* An audit line for a change of team_id's members. */
static void members_audit(struct destek_req *r, struct destek_db *w, const char *action, int64_t team_id,
                          cJSON *detail)
{
  char *name = tkt_db_text_new(w, "SELECT name FROM tkt_teams WHERE id = ?1", "i", team_id);
  char target[160];
  snprintf(target, sizeof target, "team:%lld %s", (long long)team_id, name ? name : "");
  free(name);
  tkt_audit(r, action, target, detail);
}

/* 0 when user_id may join a team (an active user), else the 422 set up for field. */
static int member_check(struct destek_req *r, struct destek_db *w, const char *field, int64_t user_id)
{
  if (!tkt_db_int(w, 0, "SELECT count(*) FROM core_users WHERE id = ?1 AND active = 1", "i", user_id))
    return tkt_field_error(r, "invalid_field", field, "user %lld is not an active user", (long long)user_id);
  return 0;
}

static int member_add_one(struct destek_req *r, struct destek_db *w, int64_t team_id, int64_t user_id)
{
  char now[21];
  tkt_now(now);
  if (tkt_db_exec(w, "INSERT OR IGNORE INTO tkt_team_members(team_id, user_id, created_at) VALUES (?1, ?2, ?3)",
                  "iit", team_id, user_id, now) != SQLITE_OK)
    return tkt_error(r, 500, "internal", "the team's members could not be saved");
  return 0;
}

/* PUT /api/v1/teams/{id}/members {user_ids:[...]}: the team's members become exactly these. */
static int members_put(struct destek_req *r)
{
  int64_t team_id = tkt_param_int(r, "id");
  cJSON *body;
  int rc;
  if ((rc = tkt_body(r, &body))) return rc;
  const cJSON *ids = cJSON_GetObjectItemCaseSensitive(body, "user_ids");
  if (!ids) return tkt_field_error(r, "missing_field", "user_ids", "user_ids is required (an array of user ids)");
  if (!cJSON_IsArray(ids) || cJSON_GetArraySize(ids) > TEAM_MEMBERS_MAX)
    return tkt_field_error(r, "invalid_field", "user_ids", "user_ids must be an array of at most %d user ids",
                           TEAM_MEMBERS_MAX);
  struct destek_db *w = tkt_db_write(r);
  if (!w) return tkt_status(r);
  if (!tkt_db_int(w, 0, "SELECT count(*) FROM tkt_teams WHERE id = ?1", "i", team_id))
    return tkt_error(r, 404, "not_found", "no such team");
  const cJSON *v;
  cJSON_ArrayForEach(v, ids) {
    int64_t uid;
    if (!util_json_id(v, &uid)) return tkt_field_error(r, "invalid_field", "user_ids", "user_ids must hold user ids");
    if ((rc = member_check(r, w, "user_ids", uid))) return rc;
  }
  if (tkt_db_exec(w, "DELETE FROM tkt_team_members WHERE team_id = ?1", "i", team_id) != SQLITE_OK)
    return tkt_error(r, 500, "internal", "the team's members could not be saved");
  cJSON_ArrayForEach(v, ids) {
    int64_t uid;
    util_json_id(v, &uid);
    if ((rc = member_add_one(r, w, team_id, uid))) return rc;
  }
  cJSON *d = cJSON_CreateObject();
  cJSON_AddItemToObject(d, "user_ids", cJSON_Duplicate(ids, 1));
  members_audit(r, w, "team.members_set", team_id, d);
  return tkt_reply_json(r, 200, team_json(w, team_id));
}

/* POST /api/v1/teams/{id}/members {user_id}: one more member (already one: no change). */
static int member_add(struct destek_req *r)
{
  int64_t team_id = tkt_param_int(r, "id"), uid;
  cJSON *body;
  int rc;
  if ((rc = tkt_body(r, &body))) return rc;
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, "user_id");
  if (!v) return tkt_field_error(r, "missing_field", "user_id", "user_id is required");
  if (!util_json_id(v, &uid)) return tkt_field_error(r, "invalid_field", "user_id", "user_id must be a user id");
  struct destek_db *w = tkt_db_write(r);
  if (!w) return tkt_status(r);
  if (!tkt_db_int(w, 0, "SELECT count(*) FROM tkt_teams WHERE id = ?1", "i", team_id))
    return tkt_error(r, 404, "not_found", "no such team");
  if ((rc = member_check(r, w, "user_id", uid))) return rc;
  if (tkt_db_int(w, 0, "SELECT count(*) FROM tkt_team_members WHERE team_id = ?1", "i", team_id) >= TEAM_MEMBERS_MAX)
    return tkt_error(r, 409, "team_full", "a team has at most %d members", TEAM_MEMBERS_MAX);
  if ((rc = member_add_one(r, w, team_id, uid))) return rc;
  cJSON *d = cJSON_CreateObject();
  cJSON_AddNumberToObject(d, "user_id", (double)uid);
  members_audit(r, w, "team.member_added", team_id, d);
  return tkt_reply_json(r, 200, team_json(w, team_id));
}

/* DELETE /api/v1/teams/{id}/members/{user_id}. */
static int member_remove(struct destek_req *r)
{
  int64_t team_id = tkt_param_int(r, "id"), uid = tkt_param_int(r, "user_id");
  struct destek_db *w = tkt_db_write(r);
  if (!w) return tkt_status(r);
  if (!tkt_db_int(w, 0, "SELECT count(*) FROM tkt_team_members WHERE team_id = ?1 AND user_id = ?2", "ii", team_id, uid))
    return tkt_error(r, 404, "not_found", "no such member of this team");
  if (tkt_db_exec(w, "DELETE FROM tkt_team_members WHERE team_id = ?1 AND user_id = ?2", "ii", team_id, uid) != SQLITE_OK)
    return tkt_error(r, 500, "internal", "the team's members could not be saved");
  cJSON *d = cJSON_CreateObject();
  cJSON_AddNumberToObject(d, "user_id", (double)uid);
  members_audit(r, w, "team.member_removed", team_id, d);
  return tkt_reply_empty(r, 204);
}

/* ------------------------------------------------------------------------------------------------ round-robin */

int64_t tkt_team_pick(struct destek_req *r, struct destek_db *w, int64_t team_id)
{
  sqlite3_stmt *st = tkt_db_prepare(w, "SELECT coalesce(max_open, 0), coalesce(rr_last_user_id, 0) FROM tkt_teams"
                                       " WHERE id = ?1");
  if (!st) return -1;
  tkt_db_bind(st, "i", team_id);
  int64_t max_open = 0, last = 0;
  int found = sqlite3_step(st) == SQLITE_ROW;
  if (found) {
    max_open = sqlite3_column_int64(st, 0);
    last = sqlite3_column_int64(st, 1);
  }
  tkt_db_done(st);
  if (!found) return 0;
  /* The active members in user-id order with their open tickets; the first eligible one after the pointer wins,
   * else the first eligible one (the wrap). */
  st = tkt_db_prepare(w, "SELECT m.user_id, (SELECT count(*) FROM tkt_tickets t WHERE t.assignee_id = m.user_id"
                         " AND t.status NOT IN ('solved', 'closed')) FROM tkt_team_members m"
                         " JOIN core_users u ON u.id = m.user_id AND u.active = 1 WHERE m.team_id = ?1"
                         " ORDER BY m.user_id LIMIT 500");
  if (!st) return -1;
  tkt_db_bind(st, "i", team_id);
  int64_t ids[500], loads[500];
  int n = 0;
  while (n < 500 && sqlite3_step(st) == SQLITE_ROW) {
    ids[n] = sqlite3_column_int64(st, 0);
    loads[n++] = sqlite3_column_int64(st, 1);
  }
  tkt_db_done(st);
  int64_t first = 0, next = 0;
  for (int i = 0; i < n && !next; i++) {
    if (max_open > 0 && loads[i] >= max_open) continue;
    if (ids[i] <= last && first) continue;   /* a first eligible one is known: only one after the pointer helps */
    if (!tkt_user_online(r, ids[i])) continue;
    if (ids[i] > last) next = ids[i];
    else first = ids[i];
  }
  int64_t pick = next ? next : first;
  if (pick && tkt_db_exec(w, "UPDATE tkt_teams SET rr_last_user_id = ?2 WHERE id = ?1", "ii", team_id, pick) != SQLITE_OK)
    return -1;
  return pick;
}

int tkt_team_round_robin(struct destek_db *w, int64_t team_id)
{
  return team_id > 0 && tkt_db_int(w, 0, "SELECT round_robin FROM tkt_teams WHERE id = ?1", "i", team_id) == 1;
}

/* ------------------------------------------------------------------------------------------------ directory */

/* The colleague directory: each person's teams [{id, name}]. */
static int directory_teams(struct destek_req *r, cJSON *users, void *ud)
{
  (void)ud;
  struct destek_db *db = tkt_db_read(r);
  if (!db) return tkt_error(r, 500, "internal", "internal error");
  cJSON *u;
  cJSON_ArrayForEach(u, users) {
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(u, "id");
    cJSON *teams = cJSON_AddArrayToObject(u, "teams");
    sqlite3_stmt *st = cJSON_IsNumber(id) ? tkt_db_prepare(db, "SELECT t.id, t.name FROM tkt_team_members m"
                                                          " JOIN tkt_teams t ON t.id = m.team_id WHERE m.user_id = ?1"
                                                          " ORDER BY t.name COLLATE NOCASE, t.id") : NULL;
    if (!st) continue;
    tkt_db_bind(st, "i", (int64_t)id->valuedouble);
    while (sqlite3_step(st) == SQLITE_ROW) {
      cJSON *t = cJSON_CreateObject();
      cJSON_AddNumberToObject(t, "id", (double)sqlite3_column_int64(st, 0));
      cJSON_AddStringToObject(t, "name", (const char *)sqlite3_column_text(st, 1));
      cJSON_AddItemToArray(teams, t);
    }
    tkt_db_done(st);
  }
  return 0;
}

const struct destek_route tkt_team_routes[] = {
  { "GET",    "/api/v1/teams",                          team_list,     DESTEK_AGENT, NULL },
  { "POST",   "/api/v1/teams",                          team_create,   DESTEK_ADMIN, NULL },
  { "GET",    "/api/v1/teams/{id}",                     team_get,      DESTEK_AGENT, "id:int" },
  { "PATCH",  "/api/v1/teams/{id}",                     team_update,   DESTEK_ADMIN, "id:int" },
  { "DELETE", "/api/v1/teams/{id}",                     team_delete,   DESTEK_ADMIN, "id:int" },
  { "PUT",    "/api/v1/teams/{id}/members",             members_put,   DESTEK_ADMIN, "id:int" },
  { "POST",   "/api/v1/teams/{id}/members",             member_add,    DESTEK_ADMIN, "id:int" },
  { "DELETE", "/api/v1/teams/{id}/members/{user_id}",   member_remove, DESTEK_ADMIN, "id:int user_id:int" },
  { 0 }
};

int tkt_teams_init(const struct destek_host *host)
{
  if (!DESTEK_HOST_HAS(host, directory_extend)) return 0;   /* an older server: no directory to add to */
  return host->directory_extend(host, directory_teams, NULL);
}
