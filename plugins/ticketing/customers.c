/* Customers: the core's contacts (host->contact_*, core_contacts) as the desk shows them; list, read with their
 * tickets, merge. The routes keep the paths and shapes they had when ticketing kept its own customers. */
#include "tkt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fold.h"

int tkt_phone_normalise(const char *in, char out[24])
{
  return tkt_contact_normalise("phone", in, out, 24);
}

int64_t tkt_customer_match(struct destek_req *call, const char *email, const char *name, const char *phone,
                           const char *lang)
{
  int64_t id = tkt_contact_resolve(call, email, phone, NULL, name, lang);
  return id > 0 ? id : -1;
}

#define CUSTOMER_COLUMNS "id, name, email, phone, lang, merged_into, created_at, updated_at, erased_at"

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
  if (sqlite3_column_type(st, 8) == SQLITE_NULL) cJSON_AddNullToObject(o, "erased_at");
  else cJSON_AddStringToObject(o, "erased_at", (const char *)sqlite3_column_text(st, 8));
  return o;
}

cJSON *tkt_customer_json(struct destek_db *db, int64_t customer_id)
{
  sqlite3_stmt *st = tkt_db_prepare(db, "SELECT " CUSTOMER_COLUMNS " FROM core_contacts WHERE id = ?1");
  if (!st) return NULL;
  tkt_db_bind(st, "i", customer_id);
  cJSON *o = sqlite3_step(st) == SQLITE_ROW ? customer_row_json(st) : NULL;
  tkt_db_done(st);
  return o;
}

/* GET /api/v1/customers?q=: by id, newest first; q matches the name or an identity (case-insensitive substring), or
 * is a phone number one holds. */
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
  sqlite3_stmt *st = db ? tkt_db_prepare(db, "SELECT " CUSTOMER_COLUMNS " FROM core_contacts c"
                                         " WHERE merged_into IS NULL AND (?1 = 0 OR id < ?1)"
                                         " AND (?2 IS NULL OR name LIKE ?2 ESCAPE '\\' OR EXISTS"
                                         "      (SELECT 1 FROM core_contact_identities i WHERE i.contact_id = c.id"
                                         "       AND (i.value LIKE ?2 ESCAPE '\\' OR i.value = ?4)))"
                                         " ORDER BY id DESC LIMIT ?3") : NULL;
  if (!st) return tkt_error(r, 500, "internal", "internal error");
  /* A phone number written the way people write it ("0532 123 45 67") finds the number stored in E.164. */
  char phone[24];
  int has_phone = has_q && tkt_contact_normalise("phone", q, phone, sizeof phone) == 0;
  tkt_db_bind(st, "itit", after, has_q ? like : NULL, (int64_t)limit + 1, has_phone ? phone : NULL);
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
  /* First seen: the contact's record or their first ticket, whichever is older (tickets imported or back-dated
   * before the contact was recorded here). */
  char *first = tkt_db_text_new(db, "SELECT min(coalesce(min(t.created_at), c.created_at), c.created_at) FROM core_contacts c"
                                    " LEFT JOIN tkt_tickets t ON t.customer_id = c.id WHERE c.id = ?1", "i", id);
  cJSON_AddStringToObject(c, "first_seen_at", first ? first : cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "created_at")));
  free(first);
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

/* POST /api/v1/customers/{id}/merge {source_id}: the core merges the contacts (identities move, every module
 * re-points its references: ticketing's in contacts.c), and customer.merged tells ticketing's listeners. */
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
  if ((rc = tkt_contact_merge(r, target, source))) {
    cJSON *err = tkt_error_object(r);
    cJSON *msg = err ? cJSON_GetObjectItemCaseSensitive(err, "message") : NULL;
    if (rc == 404 && msg) cJSON_SetValuestring(msg, "no such customer");
    return rc;
  }
  cJSON *payload = cJSON_CreateObject();
  cJSON_AddNumberToObject(payload, "id", (double)target);
  cJSON_AddNumberToObject(payload, "source_id", (double)source);
  char subject[40];
  snprintf(subject, sizeof subject, "customer:%lld", (long long)target);
  if ((rc = tkt_host->emit(r, "customer.merged", subject, payload))) return rc;
  struct destek_db *w = tkt_db_write(r);
  if (!w) return tkt_status(r);
  return tkt_reply_json(r, 200, tkt_customer_json(w, target));
}

const struct destek_route tkt_customer_routes[] = {
  { "GET",  "/api/v1/customers",            customer_list,  DESTEK_AGENT, NULL },
  { "GET",  "/api/v1/customers/{id}",       customer_get,   DESTEK_AGENT, "id:int" },
  { "POST", "/api/v1/customers/{id}/merge", customer_merge, DESTEK_AGENT, "id:int" },
  { 0 }
};
