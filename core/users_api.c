/* Admin routes for users: list, create, read, update. */
#include "users_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "auth.h"
#include "bus.h"
#include "db.h"
#include "util.h"

static const char *const ROLES[] = { "admin", "agent", NULL };
static const char *const LANGS[] = { "tr", "en", NULL };

int users_emit(struct destek_req *call, const char *event, int64_t user_id)
{
  cJSON *u = auth_user_json(http_db(call), user_id);
  if (!u) return -1;
  char subject[32];
  snprintf(subject, sizeof subject, "user:%lld", (long long)user_id);
  return bus_emit(call, event, subject, u);
}

int64_t users_add(struct destek_req *call, const char *email, const char *name, const char *role, const char *lang,
                  const char *password_hash, const char *via)
{
  struct db *w = http_tx(call);
  if (!w) return -1;
  int64_t id = auth_user_insert(w, email, name, role, lang, password_hash);
  if (id <= 0) return id;
  cJSON *d = cJSON_CreateObject();
  cJSON_AddStringToObject(d, "role", role);
  if (via) cJSON_AddStringToObject(d, "via", via);
  if (audit_log(w, call, "user.created", email, d) != 0) return -1;
  if (!strcmp(role, "admin") && db_exec(w, "DELETE FROM core_kv WHERE key = 'setup_token_hash'", NULL) != SQLITE_OK)
    return -1;
  return users_emit(call, "user.created", id) == 0 ? id : -1;
}

static int users_list(struct destek_req *r)
{
  int limit;
  int64_t after;
  int rc = http_page(r, &limit, &after);
  if (rc) return rc;
  struct db *db = http_db(r);
  sqlite3_stmt *st = db ? db_prepare(db, "SELECT id FROM core_users WHERE id > ?1 ORDER BY id LIMIT ?2") : NULL;
  if (!st) return http_error(r, 500, "internal", "internal error");
  db_bind(st, "ii", after, (int64_t)limit + 1);
  int64_t ids[201];
  int n = 0;
  while (n < limit + 1 && sqlite3_step(st) == SQLITE_ROW) ids[n++] = sqlite3_column_int64(st, 0);
  db_done(st);
  cJSON *items = cJSON_CreateArray();
  for (int i = 0; i < n && i < limit; i++) {
    cJSON *u = auth_user_json(db, ids[i]);
    if (u) cJSON_AddItemToArray(items, u);
  }
  return http_reply_json(r, 200, http_list_new(items, n > limit ? ids[limit - 1] : 0));
}

static int users_create(struct destek_req *r)
{
  cJSON *body;
  const char *name, *role, *password, *lang;
  char email[256];
  int rc;
  if ((rc = http_body_object(r, &body)) || (rc = http_field_email(r, body, "email", FIELD_REQUIRED, email)) ||
      (rc = http_field_str(r, body, "name", FIELD_REQUIRED, 200, &name)) ||
      (rc = http_field_enum(r, body, "role", FIELD_REQUIRED, ROLES, &role)) ||
      (rc = http_field_str(r, body, "password", FIELD_REQUIRED, AUTH_PASSWORD_MAX, &password)) ||
      (rc = http_field_enum(r, body, "lang", FIELD_OPTIONAL, LANGS, &lang)) ||
      (rc = auth_password_check(r, "password", password)))
    return rc;
  if (db_int(http_db(r), 0, "SELECT count(*) FROM core_users WHERE email = ?1", "t", email))
    return http_error(r, 409, "email_taken", "a user with this e-mail exists");
  char *hash = auth_password_hash_new(password);
  if (!hash) return http_error(r, 429, "rate_limited", "the server is busy checking passwords; try again");
  struct db *w = http_tx(r);
  if (!w) { free(hash); return r->status; }
  int64_t id = auth_user_insert(w, email, name, role, lang, hash);
  free(hash);
  if (id == 0) return http_error(r, 409, "email_taken", "a user with this e-mail exists");
  if (id < 0) return http_error(r, 500, "internal", "the user could not be created");
  cJSON *d = cJSON_CreateObject();
  cJSON_AddStringToObject(d, "role", role);
  audit_log(w, r, "user.created", email, d);
  if ((rc = users_emit(r, "user.created", id))) return rc;
  return http_reply_json(r, 201, auth_user_json(w, id));
}

static int users_get(struct destek_req *r)
{
  cJSON *u = auth_user_json(http_db(r), http_param_int(r, "id"));
  if (!u) return http_error(r, 404, "not_found", "no such user");
  return http_reply_json(r, 200, u);
}

static int users_update(struct destek_req *r)
{
  int64_t id = http_param_int(r, "id");
  cJSON *body;
  const char *name, *role, *password, *lang;
  int active, rc;
  if ((rc = http_body_object(r, &body)) || (rc = http_field_str(r, body, "name", FIELD_OPTIONAL, 200, &name)) ||
      (rc = http_field_enum(r, body, "role", FIELD_OPTIONAL, ROLES, &role)) ||
      (rc = http_field_bool(r, body, "active", FIELD_OPTIONAL, &active)) ||
      (rc = http_field_str(r, body, "password", FIELD_OPTIONAL, AUTH_PASSWORD_MAX, &password)) ||
      (rc = http_field_enum(r, body, "lang", FIELD_OPTIONAL, LANGS, &lang)))
    return rc;
  if (password && (rc = auth_password_check(r, "password", password))) return rc;
  if (!db_int(http_db(r), 0, "SELECT count(*) FROM core_users WHERE id = ?1", "i", id))
    return http_error(r, 404, "not_found", "no such user");
  char *hash = NULL;
  if (password && !(hash = auth_password_hash_new(password)))
    return http_error(r, 429, "rate_limited", "the server is busy checking passwords; try again");
  struct db *w = http_tx(r);
  if (!w) { free(hash); return r->status; }
  char now[21];
  util_iso_time(time(NULL), now);
  int64_t active64 = active;
  rc = db_exec(w, "UPDATE core_users SET name = coalesce(?2, name), role = coalesce(?3, role),"
                  " active = coalesce(?4, active), password_hash = coalesce(?5, password_hash),"
                  " lang = coalesce(?6, lang), updated_at = ?7 WHERE id = ?1",
               "ittIttt", id, name, role, active >= 0 ? &active64 : NULL, hash, lang, now);
  if (rc != SQLITE_OK) { free(hash); return http_error(r, 500, "internal", "the user could not be saved"); }
  if (!auth_admin_exists(w)) {
    free(hash);
    return http_error(r, 409, "last_admin", "this is the last active admin: make someone else admin first");
  }
  if (hash || active == 0) auth_sessions_revoke_user(w, id);
  free(hash);
  char *email = db_text_new(w, "SELECT email FROM core_users WHERE id = ?1", "i", id);
  cJSON *d = cJSON_CreateObject();
  if (name) cJSON_AddStringToObject(d, "name", name);
  if (role) cJSON_AddStringToObject(d, "role", role);
  if (active >= 0) cJSON_AddBoolToObject(d, "active", active);
  if (lang) cJSON_AddStringToObject(d, "lang", lang);
  if (password) cJSON_AddBoolToObject(d, "password_changed", 1);
  audit_log(w, r, "user.updated", email, d);
  free(email);
  if ((rc = users_emit(r, "user.updated", id))) return rc;
  return http_reply_json(r, 200, auth_user_json(w, id));
}

static const struct destek_route routes[] = {
  { "GET",   "/api/v1/users",      users_list,   DESTEK_ADMIN, NULL },
  { "POST",  "/api/v1/users",      users_create, DESTEK_ADMIN, NULL },
  { "GET",   "/api/v1/users/{id}", users_get,    DESTEK_ADMIN, "id:int" },
  { "PATCH", "/api/v1/users/{id}", users_update, DESTEK_ADMIN, "id:int" },
  { 0 }
};

int users_api_init(void) { return http_routes_add("core", routes); }
