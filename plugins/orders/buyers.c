/* buyers.c — the service `orders.buyers`: the people who bought in a window, for a module that asks them something
 * (feedback's NPS surveys). One row per contact, paged by contact id.
 *
 *   orders.buyers {from, to, after?, limit?} -> {items: [{contact_id, email, name, orders, last_placed_at}],
 *                                                next_after}
 *     from / to: UTC times as the orders keep them ("2026-11-01T00:00:00Z"; placed_at in [from, to)); after: the
 *     last contact_id of the previous page (0: the first); limit 1..500 (100). Orders cancelled, refunded or failed
 *     do not count; an order without a contact (no e-mail nor phone) is no one to ask. */
#include <stdio.h>
#include <string.h>

#include "host.h"
#include "orders.h"

static int svc_buyers(struct destek_req *call, const cJSON *args, cJSON **result, void *ud)
{
  (void)ud;
  const char *from = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "from"));
  const char *to = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "to"));
  const cJSON *after_j = cJSON_GetObjectItemCaseSensitive(args, "after"), *limit_j = cJSON_GetObjectItemCaseSensitive(args, "limit");
  if (!from || strlen(from) < 10 || strlen(from) > 40)
    return ord_field_error(call, "invalid_field", "from", "from is a UTC time (2026-11-01T00:00:00Z)");
  if (!to || strlen(to) < 10 || strlen(to) > 40)
    return ord_field_error(call, "invalid_field", "to", "to is a UTC time (2026-12-01T00:00:00Z)");
  int64_t after = cJSON_IsNumber(after_j) && after_j->valuedouble > 0 ? (int64_t)after_j->valuedouble : 0;
  int64_t limit = cJSON_IsNumber(limit_j) ? (int64_t)limit_j->valuedouble : 100;
  if (limit < 1 || limit > 500) return ord_field_error(call, "invalid_field", "limit", "limit is 1 to 500");
  struct destek_db *db = ord_db_read(call);
  sqlite3_stmt *st = db ? ord_db_prepare(db,
    "SELECT o.contact_id, c.email, c.name, count(*), max(o.placed_at) FROM orders_orders o"
    " JOIN core_contacts c ON c.id = o.contact_id"
    " WHERE o.contact_id > ?3 AND o.placed_at >= ?1 AND o.placed_at < ?2"
    " AND o.status NOT IN ('cancelled', 'refunded', 'failed') AND c.merged_into IS NULL AND c.erased_at IS NULL"
    " GROUP BY o.contact_id ORDER BY o.contact_id LIMIT ?4") : NULL;
  if (!st) return ord_error(call, 500, "internal", "internal error");
  ord_db_bind(st, "ttii", from, to, after, limit + 1);
  cJSON *items = cJSON_CreateArray();
  int64_t n = 0, last = 0, next_after = 0;
  while (sqlite3_step(st) == SQLITE_ROW) {
    if (n == limit) { next_after = last; break; }
    cJSON *o = cJSON_CreateObject();
    last = sqlite3_column_int64(st, 0);
    cJSON_AddNumberToObject(o, "contact_id", (double)last);
    if (sqlite3_column_type(st, 1) != SQLITE_NULL) cJSON_AddStringToObject(o, "email", (const char *)sqlite3_column_text(st, 1));
    else cJSON_AddNullToObject(o, "email");
    cJSON_AddStringToObject(o, "name", sqlite3_column_text(st, 2) ? (const char *)sqlite3_column_text(st, 2) : "");
    cJSON_AddNumberToObject(o, "orders", (double)sqlite3_column_int64(st, 3));
    cJSON_AddStringToObject(o, "last_placed_at", (const char *)sqlite3_column_text(st, 4));
    cJSON_AddItemToArray(items, o);
    n++;
  }
  ord_db_done(st);
  *result = cJSON_CreateObject();
  cJSON_AddItemToObject(*result, "items", items);
  if (next_after) cJSON_AddNumberToObject(*result, "next_after", (double)next_after);
  else cJSON_AddNullToObject(*result, "next_after");
  return 0;
}

int ord_buyers_init(const struct destek_host *h)
{
  return h->service(h, "orders.buyers", svc_buyers, NULL);
}
