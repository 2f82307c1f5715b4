/* The colleague directory (see directory.h). */
#include "directory.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "http.h"
#include "live.h"
#include "log.h"
#include "util.h"

#define MAX_EXTENSIONS 8

static struct { const char *owner; destek_directory_fn fn; void *ud; } extensions[MAX_EXTENSIONS];
static int n_extensions;

int directory_extend(const char *owner, destek_directory_fn fn, void *ud)
{
  if (!fn || n_extensions == MAX_EXTENSIONS) {
    log_error("directory", "%s: a directory extension was refused", owner);
    return -1;
  }
  extensions[n_extensions].owner = util_intern(owner);
  extensions[n_extensions].fn = fn;
  extensions[n_extensions++].ud = ud;
  return 0;
}

int directory_user_online(struct db *db, int64_t user_id)
{
  if (live_user_online(user_id)) return 1;
  int64_t now = (int64_t)time(NULL);
  return db && db_int(db, 0, "SELECT EXISTS (SELECT 1 FROM core_sessions WHERE user_id = ?1 AND expires_at > ?2"
                             " AND last_seen_at >= ?3)", "iii", user_id, now, now - DIRECTORY_ONLINE_SECONDS) == 1;
}

/* GET /api/v1/directory?limit=&cursor=: [{id, name, role, active, online, ...what plugins add}] by id. */
static int directory_list(struct destek_req *r)
{
  int limit;
  int64_t after;
  int rc = http_page(r, &limit, &after);
  if (rc) return rc;
  struct db *db = http_db(r);
  sqlite3_stmt *st = db ? db_prepare(db, "SELECT id, name, role, active FROM core_users WHERE id > ?1 ORDER BY id"
                                         " LIMIT ?2") : NULL;
  if (!st) return http_error(r, 500, "internal", "internal error");
  db_bind(st, "ii", after, (int64_t)limit + 1);
  cJSON *items = cJSON_CreateArray();
  int n = 0;
  int64_t last = 0;
  while (sqlite3_step(st) == SQLITE_ROW) {
    if (++n > limit) break;
    cJSON *u = cJSON_CreateObject();
    last = sqlite3_column_int64(st, 0);
    cJSON_AddNumberToObject(u, "id", (double)last);
    cJSON_AddStringToObject(u, "name", (const char *)sqlite3_column_text(st, 1));
    cJSON_AddStringToObject(u, "role", (const char *)sqlite3_column_text(st, 2));
    cJSON_AddBoolToObject(u, "active", sqlite3_column_int(st, 3));
    cJSON_AddItemToArray(items, u);
  }
  db_done(st);
  cJSON *u;
  cJSON_ArrayForEach(u, items) {
    int64_t id = (int64_t)cJSON_GetObjectItemCaseSensitive(u, "id")->valuedouble;
    int online = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(u, "active")) && directory_user_online(db, id);
    cJSON_AddBoolToObject(u, "online", online);
  }
  for (int i = 0; i < n_extensions; i++) {
    const char *was = r->owner;
    r->owner = extensions[i].owner;
    rc = extensions[i].fn(r, items, extensions[i].ud);
    r->owner = was;
    if (rc) {
      cJSON_Delete(items);
      return rc;
    }
  }
  return http_reply_json(r, 200, http_list_new(items, n > limit ? last : 0));
}

static const struct destek_route routes[] = {
  { "GET", "/api/v1/directory", directory_list, DESTEK_AGENT, NULL },
  { 0 }
};

int directory_routes_init(void)
{
  return http_routes_add("core", routes);
}
