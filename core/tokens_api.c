/* API tokens: created by admins, shown once, stored hashed, scoped, revocable. */
#include "tokens_api.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "auth.h"
#include "db.h"
#include "http.h"
#include "util.h"

#define MAX_SCOPES 64
static char *scopes[MAX_SCOPES] = { "admin", "agent", "metrics" };
static int n_scopes = 3;
static pthread_mutex_t scopes_lock = PTHREAD_MUTEX_INITIALIZER;

int tokens_scope_register(const char *scope)
{
  size_t n = strlen(scope);
  if (n == 0 || n > 64) return -1;
  for (const char *p = scope; *p; p++)
    if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && !strchr(":._-", *p)) return -1;
  pthread_mutex_lock(&scopes_lock);
  int rc = 0;
  int i;
  for (i = 0; i < n_scopes; i++) if (!strcmp(scopes[i], scope)) break;
  if (i == n_scopes) {
    if (n_scopes == MAX_SCOPES) rc = -1;
    else scopes[n_scopes++] = util_strdup(scope);
  }
  pthread_mutex_unlock(&scopes_lock);
  return rc;
}

static int scope_known(const char *scope)
{
  pthread_mutex_lock(&scopes_lock);
  int found = 0;
  for (int i = 0; i < n_scopes && !found; i++) found = !strcmp(scopes[i], scope);
  pthread_mutex_unlock(&scopes_lock);
  return found;
}


static cJSON *token_json(sqlite3_stmt *st)
{
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(st, 0));
  cJSON_AddStringToObject(o, "name", (const char *)sqlite3_column_text(st, 1));
  cJSON_AddStringToObject(o, "prefix", (const char *)sqlite3_column_text(st, 2));
  cJSON *sc = cJSON_Parse((const char *)sqlite3_column_text(st, 3));
  if (!sc) sc = cJSON_CreateArray();
  cJSON_AddItemToObject(o, "scopes", sc);
  cJSON_AddStringToObject(o, "created_at", (const char *)sqlite3_column_text(st, 4));
  const char *used = (const char *)sqlite3_column_text(st, 5);
  if (used) cJSON_AddStringToObject(o, "last_used_at", used); else cJSON_AddNullToObject(o, "last_used_at");
  cJSON_AddBoolToObject(o, "revoked", sqlite3_column_type(st, 6) != SQLITE_NULL);
  cJSON_AddNumberToObject(o, "user_id", (double)sqlite3_column_int64(st, 7));
  /* What the token can do now is its scopes as far as its owner's current role allows (auth_token_scopes_new): the
   * admin's screen shows both, so that a token made by an admin who was demoted since is seen for what it is. */
  const char *role = (const char *)sqlite3_column_text(st, 8);
  int active = sqlite3_column_int(st, 9);
  cJSON_AddItemToObject(o, "effective_scopes", auth_token_scopes_new(sc, role, active));
  cJSON *owner = cJSON_AddObjectToObject(o, "owner");
  cJSON_AddNumberToObject(owner, "id", (double)sqlite3_column_int64(st, 7));
  cJSON_AddStringToObject(owner, "role", role ? role : "");
  cJSON_AddBoolToObject(owner, "active", active);
  return o;
}

#define TOKEN_COLUMNS "t.id, t.name, t.prefix, t.scopes, t.created_at, t.last_used_at, t.revoked_at, t.user_id," \
                      " u.role, u.active"

static int tokens_list(struct destek_req *r)
{
  int limit;
  int64_t after;
  int rc = http_page(r, &limit, &after);
  if (rc) return rc;
  struct db *db = http_db(r);
  sqlite3_stmt *st = db ? db_prepare(db, "SELECT " TOKEN_COLUMNS " FROM core_tokens t"
                                         " JOIN core_users u ON u.id = t.user_id WHERE t.id > ?1 ORDER BY t.id LIMIT ?2")
                        : NULL;
  if (!st) return http_error(r, 500, "internal", "internal error");
  db_bind(st, "ii", after, (int64_t)limit + 1);
  cJSON *items = cJSON_CreateArray();
  int n = 0;
  int64_t last = 0, next = 0;
  while (sqlite3_step(st) == SQLITE_ROW) {
    if (n == limit) { next = last; break; }
    last = sqlite3_column_int64(st, 0);
    cJSON_AddItemToArray(items, token_json(st));
    n++;
  }
  db_done(st);
  return http_reply_json(r, 200, http_list_new(items, next));
}

static int tokens_create(struct destek_req *r)
{
  cJSON *body;
  const char *name;
  int rc;
  if ((rc = http_body_object(r, &body)) || (rc = http_field_str(r, body, "name", FIELD_REQUIRED, 200, &name)))
    return rc;
  cJSON *sc = cJSON_GetObjectItemCaseSensitive(body, "scopes");
  if (!sc) return http_field_error(r, "missing_field", "scopes", "scopes is required, e.g. [\"agent\"]");
  if (!cJSON_IsArray(sc) || cJSON_GetArraySize(sc) == 0)
    return http_field_error(r, "invalid_field", "scopes", "scopes must be a non-empty array of scope names");
  cJSON *clean = cJSON_CreateArray();
  for (cJSON *s = sc->child; s; s = s->next) {
    if (!cJSON_IsString(s) || !scope_known(s->valuestring)) {
      cJSON_Delete(clean);
      return http_field_error(r, "invalid_field", "scopes", "unknown scope %s",
                              cJSON_IsString(s) ? s->valuestring : "(not a string)");
    }
    cJSON_AddItemToArray(clean, cJSON_CreateString(s->valuestring));
  }
  char *scopes_text = cJSON_PrintUnformatted(clean);
  cJSON_Delete(clean);
  char secret[64], raw[48], hash[65], prefix[12], now[21];
  util_token(raw, 32);
  snprintf(secret, sizeof secret, "dtk_%s", raw);
  snprintf(prefix, sizeof prefix, "%.10s", secret);
  util_sha256_hex(secret, strlen(secret), hash);
  util_iso_time(time(NULL), now);
  struct db *w = http_tx(r);
  if (!w) { cJSON_free(scopes_text); return r->status; }
  rc = db_exec(w, "INSERT INTO core_tokens(user_id, name, token_hash, prefix, scopes, created_at)"
                  " VALUES (?1, ?2, ?3, ?4, ?5, ?6)", "itttt" "t", r->who.user_id, name, hash, prefix, scopes_text, now);
  cJSON_free(scopes_text);
  if (rc != SQLITE_OK) return http_error(r, 500, "internal", "the token could not be created");
  int64_t id = db_last_id(w);
  char target[32];
  snprintf(target, sizeof target, "token:%lld", (long long)id);
  cJSON *d = cJSON_CreateObject();
  cJSON_AddStringToObject(d, "name", name);
  audit_log(w, r, "token.created", target, d);
  sqlite3_stmt *st = db_prepare(w, "SELECT " TOKEN_COLUMNS " FROM core_tokens t JOIN core_users u ON u.id = t.user_id"
                                   " WHERE t.id = ?1");
  cJSON *o = cJSON_CreateObject();
  if (st) {
    db_bind(st, "i", id);
    if (sqlite3_step(st) == SQLITE_ROW) cJSON_AddItemToObject(o, "token", token_json(st));
    db_done(st);
  }
  cJSON_AddStringToObject(o, "secret", secret);
  return http_reply_json(r, 201, o);
}

static int tokens_revoke(struct destek_req *r)
{
  int64_t id = http_param_int(r, "id");
  struct db *w = http_tx(r);
  if (!w) return r->status;
  char now[21];
  util_iso_time(time(NULL), now);
  if (!db_int(w, 0, "SELECT count(*) FROM core_tokens WHERE id = ?1", "i", id))
    return http_error(r, 404, "not_found", "no such token");
  db_exec(w, "UPDATE core_tokens SET revoked_at = coalesce(revoked_at, ?2) WHERE id = ?1", "it", id, now);
  char target[32];
  snprintf(target, sizeof target, "token:%lld", (long long)id);
  audit_log(w, r, "token.revoked", target, NULL);
  return http_reply_empty(r, 204);
}

/* GET /api/v1/tokens/scopes: every scope a token may carry (the core's and those plugins declared), in the order
 * they were registered, for the admin's token form. */
static int tokens_scopes(struct destek_req *r)
{
  cJSON *items = cJSON_CreateArray();
  pthread_mutex_lock(&scopes_lock);
  for (int i = 0; i < n_scopes; i++) cJSON_AddItemToArray(items, cJSON_CreateString(scopes[i]));
  pthread_mutex_unlock(&scopes_lock);
  return http_reply_json(r, 200, http_list_new(items, 0));
}

static const struct destek_route routes[] = {
  { "GET",    "/api/v1/tokens",        tokens_list,   DESTEK_ADMIN, NULL },
  { "GET",    "/api/v1/tokens/scopes", tokens_scopes, DESTEK_ADMIN, NULL },
  { "POST",   "/api/v1/tokens",      tokens_create, DESTEK_ADMIN, NULL },
  { "DELETE", "/api/v1/tokens/{id}", tokens_revoke, DESTEK_ADMIN, "id:int" },
  { 0 }
};

int tokens_api_init(void) { return http_routes_add("core", routes); }
