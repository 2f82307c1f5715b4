/* orders.report_facts — the orders' and shipments' figures for the reports module, by its module-neutral contract
 * (plugins/reports/README.md, "The contract"): one fact per order, computed here from the module's own tables.
 *
 *   {"describe": true} -> {kind: "order", subjects: ["order"], durations: ["ship", "delivery"]}
 *   {"after": id, "limit": n} -> {items, next};  {"ids": [...]} -> {items}
 * A fact: {id, ref (the order's number), at (placed, else received; unix), open (not yet delivered, cancelled,
 *   refunded or failed), dims: {carrier (the latest shipment's; "none"), province ("none"), status, product: [names]},
 *   values: {delayed (1 when a delay was found: not shipped by the promised date, no scan, past the ETA; else 0),
 *   exception (1 when a shipment failed a delivery or had an exception; else 0), ship (seconds placed -> shipped),
 *   delivery (seconds shipped -> delivered)}}. Averages of delayed and exception are their rates. */
#include "orders.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FACT_SQL \
  "SELECT o.id, o.number, unixepoch(coalesce(o.placed_at, o.created_at)), o.status, coalesce(nullif(o.ship_province, ''), 'none')," \
  " (SELECT coalesce(s.carrier, nullif(s.carrier_name, ''), 'none') FROM orders_shipments s WHERE s.order_id = o.id ORDER BY s.id DESC LIMIT 1)," \
  " (SELECT json_group_array(name) FROM (SELECT DISTINCT name FROM orders_items i WHERE i.order_id = o.id))," \
  " EXISTS (SELECT 1 FROM orders_notices n WHERE n.order_id = o.id AND n.kind IN ('not_shipped', 'no_scan', 'past_eta'))," \
  " EXISTS (SELECT 1 FROM orders_shipments s WHERE s.order_id = o.id AND s.status IN ('Exception', 'AttemptFail'))" \
  "   OR EXISTS (SELECT 1 FROM orders_notices n WHERE n.order_id = o.id AND n.kind = 'exception')," \
  " (SELECT min(unixepoch(s.shipped_at)) FROM orders_shipments s WHERE s.order_id = o.id)," \
  " (SELECT max(unixepoch(s.delivered_at)) FROM orders_shipments s WHERE s.order_id = o.id)"

static cJSON *fact_new(sqlite3_stmt *st)
{
  cJSON *o = cJSON_CreateObject(), *dims = cJSON_CreateObject(), *vals = cJSON_CreateObject();
  int64_t at = sqlite3_column_int64(st, 2);
  cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(st, 0));
  cJSON_AddStringToObject(o, "ref", (const char *)sqlite3_column_text(st, 1));
  cJSON_AddNumberToObject(o, "at", (double)at);
  const char *status = (const char *)sqlite3_column_text(st, 3);
  int final = !strcmp(status, "completed") || !strcmp(status, "cancelled") || !strcmp(status, "refunded") ||
              !strcmp(status, "failed") || sqlite3_column_type(st, 10) != SQLITE_NULL;
  cJSON_AddNumberToObject(o, "open", final ? 0 : 1);
  cJSON_AddStringToObject(dims, "carrier", sqlite3_column_type(st, 5) == SQLITE_NULL ? "none" : (const char *)sqlite3_column_text(st, 5));
  cJSON_AddStringToObject(dims, "province", (const char *)sqlite3_column_text(st, 4));
  cJSON_AddStringToObject(dims, "status", status);
  cJSON *products = cJSON_Parse((const char *)sqlite3_column_text(st, 6));
  cJSON_AddItemToObject(dims, "product", cJSON_IsArray(products) ? products : cJSON_CreateArray());
  if (!cJSON_IsArray(products)) cJSON_Delete(products);
  cJSON_AddNumberToObject(vals, "delayed", sqlite3_column_int(st, 7));
  cJSON_AddNumberToObject(vals, "exception", sqlite3_column_int(st, 8));
  if (sqlite3_column_type(st, 9) != SQLITE_NULL) {
    int64_t shipped = sqlite3_column_int64(st, 9);
    cJSON_AddNumberToObject(vals, "ship", (double)(shipped > at ? shipped - at : 0));
    if (sqlite3_column_type(st, 10) != SQLITE_NULL) {
      int64_t delivered = sqlite3_column_int64(st, 10);
      cJSON_AddNumberToObject(vals, "delivery", (double)(delivered > shipped ? delivered - shipped : 0));
    }
  }
  cJSON_AddItemToObject(o, "dims", dims);
  cJSON_AddItemToObject(o, "values", vals);
  return o;
}

static int svc_report_facts(struct destek_req *call, const cJSON *args, cJSON **result, void *ud)
{
  (void)ud;
  if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(args, "describe"))) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", "order");
    const char *subjects[] = { "order" }, *durations[] = { "ship", "delivery" };
    cJSON_AddItemToObject(o, "subjects", cJSON_CreateStringArray(subjects, 1));
    const char *watch[] = { "order.*", "shipment.*" };   /* the events about an order (subject order:<id>) */
    cJSON_AddItemToObject(o, "watch", cJSON_CreateStringArray(watch, 2));
    cJSON_AddItemToObject(o, "durations", cJSON_CreateStringArray(durations, 2));
    *result = o;
    return 0;
  }
  struct destek_db *db = ord_db_read(call);
  if (!db) return ord_error(call, 503, "db_busy", "the database is busy");
  cJSON *items = cJSON_CreateArray(), *out = cJSON_CreateObject();
  const cJSON *ids = cJSON_GetObjectItemCaseSensitive(args, "ids");
  if (ids) {
    if (!cJSON_IsArray(ids) || cJSON_GetArraySize(ids) > 500) {
      cJSON_Delete(items);
      cJSON_Delete(out);
      return ord_field_error(call, "invalid_field", "ids", "ids must be an array of at most 500 order ids");
    }
    /* One statement for the whole list, in the list's order: a statement per id began a read transaction per id,
     * and with the writer committing meanwhile (the reports' flush runs while orders come in) each one found the
     * database changed, dropped the reader's page cache and read its pages again, and opened and closed the
     * DISTINCT's temporary b-tree once per id: 17.6% of the server's CPU during tests/bench/orders.sh's webhook
     * run. Numbers only, cut to whole numbers, as the loop did. */
    sqlite3_stmt *st = ord_db_prepare(db, FACT_SQL " FROM json_each(?1) j CROSS JOIN orders_orders o"
                                          " ON o.id = CAST(j.value AS INTEGER) WHERE j.type IN ('integer', 'real')"
                                          " ORDER BY j.key");
    char *list = st ? cJSON_PrintUnformatted(ids) : NULL;
    if (list) {
      ord_db_bind(st, "t", list);
      while (sqlite3_step(st) == SQLITE_ROW) cJSON_AddItemToArray(items, fact_new(st));
    }
    cJSON_free(list);
    if (st) ord_db_done(st);
  } else {
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(args, "after"), *l = cJSON_GetObjectItemCaseSensitive(args, "limit");
    int64_t after = cJSON_IsNumber(a) ? (int64_t)a->valuedouble : 0;
    int limit = cJSON_IsNumber(l) ? (int)l->valuedouble : 500, n = 0;
    if (limit < 1 || limit > 2000) limit = 500;
    int64_t last = 0;
    sqlite3_stmt *st = ord_db_prepare(db, FACT_SQL " FROM orders_orders o WHERE o.id > ?1 ORDER BY o.id LIMIT ?2");
    if (st) {
      ord_db_bind(st, "ii", after, (int64_t)limit);
      while (sqlite3_step(st) == SQLITE_ROW) {
        last = sqlite3_column_int64(st, 0);
        cJSON_AddItemToArray(items, fact_new(st));
        n++;
      }
      ord_db_done(st);
    }
    if (n == limit) cJSON_AddNumberToObject(out, "next", (double)last);
    else cJSON_AddNullToObject(out, "next");
  }
  cJSON_AddItemToObject(out, "items", items);
  *result = out;
  return 0;
}

int ord_report_init(const struct destek_host *h)
{
  return h->service(h, "orders.report_facts", svc_report_facts, NULL);
}
