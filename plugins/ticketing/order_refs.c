/* Finding an order's tickets for the agents' search ("AT-10405" in the inbox's search box).
 *
 *   GET /api/v1/order-references/{number} → {number, contact_id, ticket_ids}: the order's customer (null: none
 *       known) and its tickets, newest first: the ones the orders module linked (service orders.order_tickets) and the
 *       ones whose form named the order (tkt_tickets.order_number), merged-away tickets left out. 404 when no module
 *       knows the order (or no orders module is installed) and no ticket names it.
 *
 * Ticketing never reads the orders module's tables: it asks its service. */
#include "tkt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_IDS 50

static int has_id(const int64_t *ids, int n, int64_t id)
{
  for (int i = 0; i < n; i++) if (ids[i] == id) return 1;
  return 0;
}

static int cmp_desc(const void *a, const void *b)
{
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? 1 : x > y ? -1 : 0;
}

static int order_refs_get(struct destek_req *r)
{
  const char *raw = tkt_param(r, "number");
  while (*raw == '#' || *raw == ' ') raw++;
  char number[72];
  snprintf(number, sizeof number, "%s", raw);
  if (!*number) return tkt_error(r, 404, "not_found", "no such order");
  int64_t ids[MAX_IDS * 2], contact_id = 0;
  int n = 0, known = 0;
  char shown[72];
  snprintf(shown, sizeof shown, "%s", number);

  cJSON *args = cJSON_CreateObject(), *res = NULL;
  cJSON_AddStringToObject(args, "number", number);
  if (tkt_call_service(r, "orders.order_tickets", args, &res) == 0 && res) {
    known = 1;
    const char *num = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(res, "number"));
    if (num) snprintf(shown, sizeof shown, "%s", num);
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(res, "contact_id");
    if (cJSON_IsNumber(c)) contact_id = (int64_t)c->valuedouble;
    const cJSON *v;
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(res, "ticket_ids"))
      if (cJSON_IsNumber(v) && n < MAX_IDS) ids[n++] = (int64_t)v->valuedouble;
  }
  cJSON_Delete(args);
  cJSON_Delete(res);
  /* A failed call (404 from the orders module, 501 without one) set up its error on r; the answer below replaces it. */

  struct destek_db *db = tkt_db_read(r);
  sqlite3_stmt *st = db ? tkt_db_prepare(db, "SELECT id FROM tkt_tickets WHERE order_number = ?1 COLLATE NOCASE"
                                             " AND order_number IS NOT NULL AND merged_into IS NULL ORDER BY id DESC LIMIT 50") : NULL;
  if (!st) return tkt_error(r, 500, "internal", "internal error");
  tkt_db_bind(st, "t", shown);
  int own = 0;
  while (sqlite3_step(st) == SQLITE_ROW) {
    int64_t id = sqlite3_column_int64(st, 0);
    own = 1;
    if (!has_id(ids, n, id)) ids[n++] = id;
  }
  tkt_db_done(st);
  if (!known && !own) return tkt_error(r, 404, "not_found", "no such order");

  cJSON *o = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(o, "ticket_ids");
  cJSON_AddStringToObject(o, "number", shown);
  if (contact_id > 0) cJSON_AddNumberToObject(o, "contact_id", (double)contact_id);
  else cJSON_AddNullToObject(o, "contact_id");
  qsort(ids, (size_t)n, sizeof *ids, cmp_desc);
  st = tkt_db_prepare(db, "SELECT coalesce(merged_into, id) FROM tkt_tickets WHERE id = ?1");
  if (!st) { cJSON_Delete(o); return tkt_error(r, 500, "internal", "internal error"); }
  int64_t out[MAX_IDS * 2];
  int m = 0;
  for (int i = 0; i < n; i++) {
    sqlite3_reset(st);
    tkt_db_bind(st, "i", ids[i]);
    if (sqlite3_step(st) != SQLITE_ROW) continue;   /* a link to a ticket that is gone */
    int64_t id = sqlite3_column_int64(st, 0);
    if (!has_id(out, m, id)) out[m++] = id;
  }
  tkt_db_done(st);
  for (int i = 0; i < m; i++) cJSON_AddItemToArray(list, cJSON_CreateNumber((double)out[i]));
  return tkt_reply_json(r, 200, o);
}

static const struct destek_route order_refs_routes[] = {
  { "GET", "/api/v1/order-references/{number}", order_refs_get, DESTEK_AGENT, "number:text" },
  { 0 }
};

int tkt_order_refs_init(const struct destek_host *h)
{
  return h->routes(h, order_refs_routes);
}
