/* Customers (contacts): one record per person across channels, matched by e-mail or phone; list, read with their
 * tickets, merge. */
#include "tkt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fold.h"

int tkt_phone_normalise(const char *in, char out[24])
{
  size_t o = 0;
  for (const char *p = in; *p; p++) {
    if (*p >= '0' && *p <= '9') {
      if (o >= 22) return -1;
      out[o++] = *p;
    } else if (*p == '+' && o == 0) {
      out[o++] = '+';
    } else if (!strchr(" -().", *p)) {
      return -1;
    }
  }
  out[o] = 0;
  size_t digits = out[0] == '+' ? o - 1 : o;
  return digits >= 7 && digits <= 20 ? 0 : -1;
}

int64_t tkt_customer_match(struct destek_db *w, const char *email, const char *name, const char *phone, const char *lang)
{
  int64_t id = 0;
  if (email) id = tkt_db_int(w, 0, "SELECT id FROM tkt_customers WHERE email = ?1", "t", email);
  if (!id && phone) id = tkt_db_int(w, 0, "SELECT id FROM tkt_customers WHERE phone = ?1", "t", phone);
  char now[21];
  tkt_now(now);
  if (!id) {
    if (tkt_db_exec(w, "INSERT INTO tkt_customers(name, email, phone, lang, created_at, updated_at)"
                   " VALUES (?1, ?2, ?3, ?4, ?5, ?5)", "ttttt", name ? name : "", email, phone, lang ? lang : "tr",
                now) != SQLITE_OK)
      return -1;
    return tkt_db_last_id(w);
  }
  /* Fill in what the record lacks; never overwrite what a customer or agent set before. */
  tkt_db_exec(w, "UPDATE tkt_customers SET"
             " name = CASE WHEN name = '' AND ?2 IS NOT NULL THEN ?2 ELSE name END,"
             " email = CASE WHEN email IS NULL AND ?3 IS NOT NULL"
             "   AND NOT EXISTS (SELECT 1 FROM tkt_customers WHERE email = ?3) THEN ?3 ELSE email END,"
             " phone = CASE WHEN phone IS NULL AND ?4 IS NOT NULL"
             "   AND NOT EXISTS (SELECT 1 FROM tkt_customers WHERE phone = ?4) THEN ?4 ELSE phone END,"
             " updated_at = ?5 WHERE id = ?1 AND ((name = '' AND ?2 IS NOT NULL) OR (email IS NULL AND ?3 IS NOT NULL)"
             " OR (phone IS NULL AND ?4 IS NOT NULL))", "itttt", id, name, email, phone, now);
  return id;
}

#define CUSTOMER_COLUMNS "id, name, email, phone, lang, merged_into, created_at, updated_at"

static cJSON *customer_row_json(sqlite3_stmt *st)
{
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(st, 0));
  cJSON_AddStringToObject(o, "name", (const char *)sqlite3_column_text(st, 1));
  for (int col = 2; col <= 3; col++) {
    const char *name = col == 2 ? "email" : "phone";
    if (sqlite3_column_type(st, col) == SQLITE_NULL) cJSON_AddNullToObject(o, name);
    else cJSON_AddStringToObject(o, name, (const char *)sqlite3_column_text(st, col));
  }
  cJSON_AddStringToObject(o, "lang", (const char *)sqlite3_column_text(st, 4));
  if (sqlite3_column_type(st, 5) == SQLITE_NULL) cJSON_AddNullToObject(o, "merged_into");
  else cJSON_AddNumberToObject(o, "merged_into", (double)sqlite3_column_int64(st, 5));
  cJSON_AddStringToObject(o, "created_at", (const char *)sqlite3_column_text(st, 6));
  cJSON_AddStringToObject(o, "updated_at", (const char *)sqlite3_column_text(st, 7));
  return o;
}

cJSON *tkt_customer_json(struct destek_db *db, int64_t customer_id)
{
  sqlite3_stmt *st = tkt_db_prepare(db, "SELECT " CUSTOMER_COLUMNS " FROM tkt_customers WHERE id = ?1");
  if (!st) return NULL;
  tkt_db_bind(st, "i", customer_id);
  cJSON *o = sqlite3_step(st) == SQLITE_ROW ? customer_row_json(st) : NULL;
  tkt_db_done(st);
  return o;
}

/* GET /api/v1/customers?q=: by id, newest first; q matches name, e-mail or phone (case-insensitive substring). */
static int customer_list(struct destek_req *r)
{
  int limit;
  int64_t after;
  int rc = tkt_page(r, &limit, &after);
  if (rc) return rc;
  char q[200], like[420];
  int has_q = tkt_query_get(r, "q", q, sizeof q) && *q;
  if (has_q) {
    /* A LIKE pattern with the user's %, _ and \ escaped. */
    size_t o = 0;
    like[o++] = '%';
    for (const char *p = q; *p && o < sizeof like - 3; p++) {
      if (*p == '%' || *p == '_' || *p == '\\') like[o++] = '\\';
      like[o++] = *p;
    }
    like[o++] = '%';
    like[o] = 0;
  }
  struct destek_db *db = tkt_db_read(r);
  sqlite3_stmt *st = db ? tkt_db_prepare(db, "SELECT " CUSTOMER_COLUMNS " FROM tkt_customers"
                                         " WHERE merged_into IS NULL AND (?1 = 0 OR id < ?1)"
                                         " AND (?2 IS NULL OR name LIKE ?2 ESCAPE '\\' OR email LIKE ?2 ESCAPE '\\'"
                                         "      OR phone LIKE ?2 ESCAPE '\\')"
                                         " ORDER BY id DESC LIMIT ?3") : NULL;
  if (!st) return tkt_error(r, 500, "internal", "internal error");
  tkt_db_bind(st, "iti", after, has_q ? like : NULL, (int64_t)limit + 1);
  cJSON *items = cJSON_CreateArray();
  int n = 0;
  int64_t last = 0, next = 0;
  while (sqlite3_step(st) == SQLITE_ROW) {
    if (n == limit) { next = last; break; }
    last = sqlite3_column_int64(st, 0);
    cJSON_AddItemToArray(items, customer_row_json(st));
    n++;
  }
  tkt_db_done(st);
  return tkt_reply_json(r, 200, tkt_list_new(items, next));
}

static int customer_get(struct destek_req *r)
{
  struct destek_db *db = tkt_db_read(r);
  int64_t id = tkt_param_int(r, "id");
  cJSON *c = tkt_customer_json(db, id);
  if (!c) return tkt_error(r, 404, "not_found", "no such customer");
  cJSON *tickets = cJSON_AddArrayToObject(c, "tickets");
  sqlite3_stmt *st = tkt_db_prepare(db, "SELECT id FROM tkt_tickets WHERE customer_id = ?1 ORDER BY seq DESC LIMIT 200");
  if (st) {
    tkt_db_bind(st, "i", id);
    int64_t ids[200];
    int n = 0;
    while (n < 200 && sqlite3_step(st) == SQLITE_ROW) ids[n++] = sqlite3_column_int64(st, 0);
    tkt_db_done(st);
    for (int i = 0; i < n; i++) {
      cJSON *t = tkt_ticket_json(db, ids[i], 0);
      if (t) cJSON_AddItemToArray(tickets, t);
    }
  }
  return tkt_reply_json(r, 200, c);
}

/* POST /api/v1/customers/{id}/merge {source_id}: the source's tickets move to this customer, which takes the
 * source's e-mail and phone where it has none; the source stays as a pointer (merged_into). */
static int customer_merge(struct destek_req *r)
{
  int64_t target = tkt_param_int(r, "id");
  cJSON *body;
  int rc = tkt_body(r, &body);
  if (rc) return rc;
  cJSON *src = cJSON_GetObjectItemCaseSensitive(body, "source_id");
  if (!src || cJSON_IsNull(src)) return tkt_field_error(r, "missing_field", "source_id", "source_id is required");
  int64_t source;
  if (!util_json_id(src, &source))
    return tkt_field_error(r, "invalid_field", "source_id", "source_id must be a customer id");
  struct destek_db *w = tkt_db_write(r);
  if (!w) return tkt_status(r);
  if (!tkt_db_int(w, 0, "SELECT count(*) FROM tkt_customers WHERE id = ?1 AND merged_into IS NULL", "i", target))
    return tkt_error(r, 404, "not_found", "no such customer");
  if (source == target)
    return tkt_field_error(r, "invalid_field", "source_id", "a customer cannot be merged into itself");
  if (!tkt_db_int(w, 0, "SELECT count(*) FROM tkt_customers WHERE id = ?1", "i", source))
    return tkt_field_error(r, "invalid_field", "source_id", "source_id is not a customer");
  if (tkt_db_int(w, 0, "SELECT count(*) FROM tkt_customers WHERE id = ?1 AND merged_into IS NOT NULL", "i", source))
    return tkt_error(r, 409, "already_merged", "that customer was already merged into another");
  char now[21], actor[48];
  tkt_now(now);
  tkt_actor(r, actor);
  char *email = tkt_db_text_new(w, "SELECT email FROM tkt_customers WHERE id = ?1", "i", source);
  char *phone = tkt_db_text_new(w, "SELECT phone FROM tkt_customers WHERE id = ?1", "i", source);
  int ok = tkt_db_exec(w, "UPDATE tkt_customers SET email = NULL, phone = NULL, merged_into = ?2, updated_at = ?3"
                      " WHERE id = ?1", "iit", source, target, now) == SQLITE_OK &&
           tkt_db_exec(w, "UPDATE tkt_customers SET email = coalesce(email, ?2), phone = coalesce(phone, ?3),"
                      " name = CASE WHEN name = '' THEN (SELECT name FROM tkt_customers WHERE id = ?4) ELSE name END,"
                      " updated_at = ?5 WHERE id = ?1", "ittit", target, email, phone, source, now) == SQLITE_OK;
  free(email);
  free(phone);
  if (!ok) return tkt_error(r, 500, "internal", "the customers could not be merged");
  /* Their tickets follow, each with a history line and a fresh search row (the customer's name is indexed). */
  sqlite3_stmt *st = tkt_db_prepare(w, "SELECT id FROM tkt_tickets WHERE customer_id = ?1");
  if (!st) return tkt_error(r, 500, "internal", "internal error");
  tkt_db_bind(st, "i", source);
  int64_t *ids = NULL;
  size_t n = 0, cap = 0;
  while (sqlite3_step(st) == SQLITE_ROW) {
    if (n == cap) { cap = cap ? cap * 2 : 16; ids = realloc(ids, cap * sizeof *ids); if (!ids) abort(); }
    ids[n++] = sqlite3_column_int64(st, 0);
  }
  tkt_db_done(st);
  char a[24], b[24];
  snprintf(a, sizeof a, "%lld", (long long)source);
  snprintf(b, sizeof b, "%lld", (long long)target);
  for (size_t i = 0; i < n; i++) {
    if (tkt_db_exec(w, "UPDATE tkt_tickets SET customer_id = ?2, updated_at = ?3, seq = ?4 WHERE id = ?1", "iiti",
                ids[i], target, now, tkt_next_seq(w)) != SQLITE_OK ||
        tkt_db_exec(w, "UPDATE tkt_messages SET author_customer_id = ?2 WHERE ticket_id = ?1 AND author_customer_id = ?3",
                "iii", ids[i], target, source) != SQLITE_OK ||
        tkt_history(w, ids[i], actor, "customer_id", a, b) != 0 || tkt_search_refresh(w, ids[i]) != 0) {
      free(ids);
      return tkt_error(r, 500, "internal", "the customers could not be merged");
    }
    cJSON *extra = cJSON_CreateObject();
    cJSON *changes = cJSON_AddObjectToObject(extra, "changes");
    cJSON *ch = cJSON_AddObjectToObject(changes, "customer_id");
    cJSON_AddNumberToObject(ch, "old", (double)source);
    cJSON_AddNumberToObject(ch, "new", (double)target);
    cJSON_AddStringToObject(extra, "actor", actor);
    if ((rc = tkt_emit(r, "ticket.updated", ids[i], extra))) { free(ids); return rc; }
  }
  free(ids);
  cJSON *payload = cJSON_CreateObject();
  cJSON_AddNumberToObject(payload, "id", (double)target);
  cJSON_AddNumberToObject(payload, "source_id", (double)source);
  char subject[40];
  snprintf(subject, sizeof subject, "customer:%lld", (long long)target);
  if ((rc = tkt_host->emit(r, "customer.merged", subject, payload))) return rc;
  return tkt_reply_json(r, 200, tkt_customer_json(w, target));
}

const struct destek_route tkt_customer_routes[] = {
  { "GET",  "/api/v1/customers",            customer_list,  DESTEK_AGENT, NULL },
  { "GET",  "/api/v1/customers/{id}",       customer_get,   DESTEK_AGENT, "id:int" },
  { "POST", "/api/v1/customers/{id}/merge", customer_merge, DESTEK_AGENT, "id:int" },
  { 0 }
};
