/* The shops that embed the chat widget (admins): a site key for the page's <script> tag, the allowed page origins,
 * and the secret the shop's backend signs its signed-in customers' identity with (shown when made or rotated, never
 * again).
 *
 *   GET   /api/v1/chat/shops                 -> {items: [{id, name, site_key, origins, snippet, created_at, updated_at}]}
 *   POST  /api/v1/chat/shops {name, origins} -> 201, the shop with identity_secret
 *   PATCH /api/v1/chat/shops/{id} {name?, origins?}
 *   POST  /api/v1/chat/shops/{id}/secret     -> the shop with a new identity_secret (the old one stops working)
 *   DELETE /api/v1/chat/shops/{id}           -> 204; 409 shop_in_use once anyone has chatted on it */
#include "chat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* origins (a JSON array of "scheme://host[:port]") as lines into out: 0, or the 422 set up. */
static int origins_arg(struct destek_req *r, const cJSON *v, char *out, size_t outlen)
{
  size_t used = 0;
  out[0] = 0;
  if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) > 20)
    return H->field_error(r, "invalid_field", "origins", "origins must be a list of at most 20 page origins");
  const cJSON *o;
  cJSON_ArrayForEach(o, v) {
    const char *s = cJSON_GetStringValue(o);
    size_t n = s ? strlen(s) : 0;
    while (n && s[n - 1] == '/') n--;
    const char *host = s && !strncmp(s, "https://", 8) ? s + 8 : s && !strncmp(s, "http://", 7) ? s + 7 : NULL;
    int ok = host && n > (size_t)(host - s) && n < 200;
    for (size_t i = host ? (size_t)(host - s) : 0; ok && i < n; i++) {
      char c = s[i];
      ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
           c == ':' || c == '[' || c == ']';
    }
    if (!ok || used + n + 2 > outlen)
      return H->field_error(r, "invalid_field", "origins", "each origin is scheme://host[:port], such as https://shop.example");
    memcpy(out + used, s, n);
    used += n;
    out[used++] = '\n';
    out[used] = 0;
  }
  if (used) out[--used] = 0;
  return 0;
}

static cJSON *shop_json(struct destek_db *db, int64_t id)
{
  sqlite3_stmt *st = H->db_prepare(db, "SELECT id, name, site_key, origins, created_at, updated_at FROM chat_shops"
                                       " WHERE id = ?1");
  if (!st) return NULL;
  H->db_bind(st, "i", id);
  cJSON *o = NULL;
  if (sqlite3_step(st) == SQLITE_ROW) {
    o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(st, 0));
    cJSON_AddStringToObject(o, "name", (const char *)sqlite3_column_text(st, 1));
    cJSON_AddStringToObject(o, "site_key", (const char *)sqlite3_column_text(st, 2));
    cJSON *arr = cJSON_AddArrayToObject(o, "origins");
    char *list = strdup((const char *)sqlite3_column_text(st, 3));
    char *save = NULL;
    for (char *p = list ? strtok_r(list, "\n", &save) : NULL; p; p = strtok_r(NULL, "\n", &save))
      cJSON_AddItemToArray(arr, cJSON_CreateString(p));
    free(list);
    cJSON_AddStringToObject(o, "created_at", (const char *)sqlite3_column_text(st, 4));
    cJSON_AddStringToObject(o, "updated_at", (const char *)sqlite3_column_text(st, 5));
    /* The tag to paste into the shop's pages, every time it is shown (the admin screen copies it from the list). */
    char snippet[512];
    snprintf(snippet, sizeof snippet, "<script src=\"%s/chat/widget.js\" data-site-key=\"%s\" async></script>",
             H->base_url(), (const char *)sqlite3_column_text(st, 2));
    cJSON_AddStringToObject(o, "snippet", snippet);
  }
  H->db_done(st);
  return o;
}

static int shops_list(struct destek_req *r)
{
  struct destek_db *db = H->db_read(r);
  cJSON *items = cJSON_CreateArray();
  sqlite3_stmt *st = H->db_prepare(db, "SELECT id FROM chat_shops ORDER BY id");
  if (!st) { cJSON_Delete(items); return H->error(r, 500, "internal", "internal error"); }
  int64_t ids[200];
  int n = 0;
  while (n < 200 && sqlite3_step(st) == SQLITE_ROW) ids[n++] = sqlite3_column_int64(st, 0);
  H->db_done(st);
  for (int i = 0; i < n; i++) {
    cJSON *o = shop_json(db, ids[i]);
    if (o) cJSON_AddItemToArray(items, o);
  }
  return H->reply_json(r, 200, H->list_new(items, 0));
}

static int reply_with_secret(struct destek_req *r, int status, int64_t id, const char *secret)
{
  cJSON *o = shop_json(H->db_read(r), id);
  if (!o) return H->error(r, 404, "not_found", "no such shop");
  cJSON_AddStringToObject(o, "identity_secret", secret);
  return H->reply_json(r, status, o);
}

static int shop_create(struct destek_req *r)
{
  cJSON *body;
  const char *name;
  char origins[4096];
  int rc;
  if ((rc = H->body(r, &body)) || (rc = H->field_str(r, body, "name", DESTEK_REQUIRED, 200, &name))) return rc;
  const cJSON *ov = cJSON_GetObjectItemCaseSensitive(body, "origins");
  if (ov && (rc = origins_arg(r, ov, origins, sizeof origins))) return rc;
  if (!ov) origins[0] = 0;
  char key[64], secret[64], now[21];
  strcpy(key, "ck_");
  H->token(key + 3, 18);
  H->token(secret, 32);
  chat_now(now);
  struct destek_db *w = H->db_write(r);
  if (!w) return H->status(r);
  if (H->db_exec(w, "INSERT INTO chat_shops(site_key, name, identity_secret, origins, created_at, updated_at)"
                    " VALUES (?1, ?2, ?3, ?4, ?5, ?5)", "ttttt", key, name, secret, origins, now) != SQLITE_OK)
    return H->error(r, 500, "internal", "the shop could not be saved");
  int64_t id = H->db_last_id(w);
  cJSON *detail = cJSON_CreateObject();
  cJSON_AddStringToObject(detail, "name", name);
  char target[32];
  snprintf(target, sizeof target, "chat_shop:%lld", (long long)id);
  H->audit(r, "chat.shop_created", target, detail);
  return reply_with_secret(r, 201, id, secret);
}

static int shop_update(struct destek_req *r)
{
  int64_t id = H->param_int(r, "id");
  cJSON *body;
  const char *name = NULL;
  char origins[4096];
  int rc;
  if ((rc = H->body(r, &body)) || (rc = H->field_str(r, body, "name", DESTEK_OPTIONAL, 200, &name))) return rc;
  const cJSON *ov = cJSON_GetObjectItemCaseSensitive(body, "origins");
  if (ov && (rc = origins_arg(r, ov, origins, sizeof origins))) return rc;
  struct destek_db *w = H->db_write(r);
  if (!w) return H->status(r);
  if (!H->db_int(w, 0, "SELECT count(*) FROM chat_shops WHERE id = ?1", "i", id))
    return H->error(r, 404, "not_found", "no such shop");
  char now[21];
  chat_now(now);
  if (H->db_exec(w, "UPDATE chat_shops SET name = coalesce(?2, name), origins = coalesce(?3, origins), updated_at = ?4"
                    " WHERE id = ?1", "ittt", id, name, ov ? origins : NULL, now) != SQLITE_OK)
    return H->error(r, 500, "internal", "the shop could not be saved");
  return H->reply_json(r, 200, shop_json(w, id));
}

static int shop_secret(struct destek_req *r)
{
  int64_t id = H->param_int(r, "id");
  struct destek_db *w = H->db_write(r);
  if (!w) return H->status(r);
  if (!H->db_int(w, 0, "SELECT count(*) FROM chat_shops WHERE id = ?1", "i", id))
    return H->error(r, 404, "not_found", "no such shop");
  char secret[64], now[21];
  H->token(secret, 32);
  chat_now(now);
  if (H->db_exec(w, "UPDATE chat_shops SET identity_secret = ?2, updated_at = ?3 WHERE id = ?1", "itt", id, secret,
                 now) != SQLITE_OK)
    return H->error(r, 500, "internal", "the shop could not be saved");
  char target[32];
  snprintf(target, sizeof target, "chat_shop:%lld", (long long)id);
  H->audit(r, "chat.secret_rotated", target, NULL);
  return reply_with_secret(r, 200, id, secret);
}

/* A shop nobody has chatted on yet (one made by mistake) goes; one with visitors stays, because their conversations
 * (tickets) and KVKK exports name it: removing its origins stops the widget on every page instead. */
static int shop_delete(struct destek_req *r)
{
  int64_t id = H->param_int(r, "id");
  struct destek_db *w = H->db_write(r);
  if (!w) return H->status(r);
  if (!H->db_int(w, 0, "SELECT count(*) FROM chat_shops WHERE id = ?1", "i", id))
    return H->error(r, 404, "not_found", "no such shop");
  if (H->db_int(w, 0, "SELECT EXISTS (SELECT 1 FROM chat_visitors WHERE shop_id = ?1)"
                      " OR EXISTS (SELECT 1 FROM chat_conversations WHERE shop_id = ?1)", "i", id))
    return H->error(r, 409, "shop_in_use", "visitors have chatted on this shop; remove its origins to stop the widget");
  char *name = H->db_text_new(w, "SELECT name FROM chat_shops WHERE id = ?1", "i", id);
  if (H->db_exec(w, "DELETE FROM chat_shops WHERE id = ?1", "i", id) != SQLITE_OK) {
    free(name);
    return H->error(r, 500, "internal", "the shop could not be deleted");
  }
  cJSON *detail = cJSON_CreateObject();
  cJSON_AddStringToObject(detail, "name", name ? name : "");
  free(name);
  char target[32];
  snprintf(target, sizeof target, "chat_shop:%lld", (long long)id);
  H->audit(r, "chat.shop_deleted", target, detail);
  return H->reply_empty(r, 204);
}

const struct destek_route chat_shop_routes[] = {
  { "GET", "/api/v1/chat/shops", shops_list, DESTEK_ADMIN, NULL, 0 },
  { "POST", "/api/v1/chat/shops", shop_create, DESTEK_ADMIN, NULL, 0 },
  { "PATCH", "/api/v1/chat/shops/{id}", shop_update, DESTEK_ADMIN, "id:int", 0 },
  { "POST", "/api/v1/chat/shops/{id}/secret", shop_secret, DESTEK_ADMIN, "id:int", 0 },
  { "DELETE", "/api/v1/chat/shops/{id}", shop_delete, DESTEK_ADMIN, "id:int", 0 },
  { 0 }
};
