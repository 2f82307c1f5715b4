/* Shipments: per order, a carrier, a tracking number, a status on AfterShip's model with a timeline of
 * checkpoints, and a tracking URL made from the carrier's template (orders_carriers, which admins edit: carriers
 * change their pages without notice). Set from Shopify fulfilments, WooCommerce tracking meta, or an agent. */
#include "orders.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "destek_text.h"

static int status_rank(const char *s)
{
  for (int i = 0; ORD_SHIPMENT_STATUSES[i]; i++)
    if (!strcmp(s, ORD_SHIPMENT_STATUSES[i])) return i;
  return -1;
}

char *ord_carrier_match(struct destek_db *db, const char *name)
{
  if (!name || !*name) return NULL;
  char *folded = destek_fold_new(name, strlen(name));
  /* "Yurtiçi Kargo A.Ş." -> "yurtici kargo a.s.": trim spaces and a trailing "a.s." */
  size_t n = strlen(folded);
  while (n && (folded[n - 1] == ' ' || folded[n - 1] == '.')) folded[--n] = 0;
  if (n > 4 && !strcmp(folded + n - 4, " a.s")) folded[n -= 4] = 0;
  char *code = NULL;
  sqlite3_stmt *st = ord_db_prepare(db, "SELECT code, aliases FROM orders_carriers ORDER BY code");
  if (st) {
    while (!code && sqlite3_step(st) == SQLITE_ROW) {
      const char *c = (const char *)sqlite3_column_text(st, 0), *aliases = (const char *)sqlite3_column_text(st, 1);
      if (!strcmp(folded, c)) { code = strdup(c); break; }
      for (const char *p = aliases; p && *p;) {
        size_t len = strcspn(p, "|");
        if (len == n && !strncmp(p, folded, n)) { code = strdup(c); break; }
        p += len + (p[len] == '|');
      }
    }
    ord_db_done(st);
  }
  free(folded);
  return code;
}

/* The tracking URL of a shipment from its carrier's template tpl (NULL: none): the template with the number, else the
 * URL the source sent when it is http(s), else NULL. New string; caller frees. */
char *ord_tracking_url_new(const char *tpl, const char *number, const char *source_url)
{
  if (tpl && number) {
    const char *at = strstr(tpl, "{n}");
    size_t nl = strlen(number);
    char *enc = malloc(nl * 3 + 1), *q = enc;
    if (!enc) abort();
    for (const unsigned char *p = (const unsigned char *)number; *p; p++) {
      if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.') *q++ = (char)*p;
      else q += sprintf(q, "%%%02X", *p);
    }
    *q = 0;
    char *url = NULL;
    if (at && asprintf(&url, "%.*s%s%s", (int)(at - tpl), tpl, enc, at + 3) < 0) url = NULL;
    free(enc);
    if (url) return url;
  }
  if (source_url && (!strncmp(source_url, "https://", 8) || !strncmp(source_url, "http://", 7))) return strdup(source_url);
  return NULL;
}

/* The same with the template read from orders_carriers. */
static char *tracking_url_new(struct destek_db *db, const char *carrier, const char *number, const char *source_url)
{
  char *tpl = carrier && number ? ord_db_text_new(db, "SELECT url_template FROM orders_carriers WHERE code = ?1", "t",
                                                  carrier) : NULL;
  char *url = ord_tracking_url_new(tpl, number, source_url);
  free(tpl);
  return url;
}

static void add_text(cJSON *o, const char *name, sqlite3_stmt *st, int col)
{
  if (sqlite3_column_type(st, col) == SQLITE_NULL) cJSON_AddNullToObject(o, name);
  else cJSON_AddStringToObject(o, name, (const char *)sqlite3_column_text(st, col));
}

static cJSON *checkpoints_json(struct destek_db *db, int64_t shipment_id)
{
  cJSON *a = cJSON_CreateArray();
  sqlite3_stmt *st = ord_db_prepare(db, "SELECT at, status, message, location FROM orders_checkpoints"
                                        " WHERE shipment_id = ?1 ORDER BY at, id");
  if (!st) return a;
  ord_db_bind(st, "i", shipment_id);
  while (sqlite3_step(st) == SQLITE_ROW) {
    cJSON *c = cJSON_CreateObject();
    add_text(c, "at", st, 0);
    add_text(c, "status", st, 1);
    add_text(c, "message", st, 2);
    add_text(c, "location", st, 3);
    cJSON_AddItemToArray(a, c);
  }
  ord_db_done(st);
  return a;
}

static cJSON *shipment_row_json(struct destek_db *db, sqlite3_stmt *st)
{
  cJSON *s = cJSON_CreateObject();
  int64_t id = sqlite3_column_int64(st, 0);
  cJSON_AddNumberToObject(s, "id", (double)id);
  add_text(s, "ref", st, 1);
  add_text(s, "carrier", st, 2);
  add_text(s, "carrier_name", st, 3);
  add_text(s, "tracking_number", st, 4);
  char *url = tracking_url_new(db, (const char *)sqlite3_column_text(st, 2), (const char *)sqlite3_column_text(st, 4),
                               (const char *)sqlite3_column_text(st, 5));
  if (url) cJSON_AddStringToObject(s, "tracking_url", url);
  else cJSON_AddNullToObject(s, "tracking_url");
  free(url);
  add_text(s, "status", st, 6);
  add_text(s, "shipped_at", st, 7);
  add_text(s, "delivered_at", st, 8);
  add_text(s, "source", st, 9);
  add_text(s, "created_at", st, 10);
  add_text(s, "updated_at", st, 11);
  cJSON_AddItemToObject(s, "checkpoints", checkpoints_json(db, id));
  return s;
}

#define SHIPMENT_COLUMNS \
  "s.id, s.ref, s.carrier, coalesce(c.name, s.carrier_name), s.tracking_number, s.source_url, s.status," \
  " s.shipped_at, s.delivered_at, s.source, s.created_at, s.updated_at" \
  " FROM orders_shipments s LEFT JOIN orders_carriers c ON c.code = s.carrier"

cJSON *ord_shipments_json(struct destek_db *db, int64_t order_id)
{
  cJSON *a = cJSON_CreateArray();
  sqlite3_stmt *st = ord_db_prepare(db, "SELECT " SHIPMENT_COLUMNS " WHERE s.order_id = ?1 ORDER BY s.id");
  if (!st) return a;
  ord_db_bind(st, "i", order_id);
  int64_t ids[64];
  int n = 0;
  while (n < 64 && sqlite3_step(st) == SQLITE_ROW) ids[n++] = sqlite3_column_int64(st, 0);
  ord_db_done(st);
  /* One statement at a time: the JSON of a row reads the checkpoints and carriers with statements of its own. */
  for (int i = 0; i < n; i++) {
    sqlite3_stmt *one = ord_db_prepare(db, "SELECT " SHIPMENT_COLUMNS " WHERE s.id = ?1");
    if (!one) break;
    ord_db_bind(one, "i", ids[i]);
    if (sqlite3_step(one) == SQLITE_ROW) {
      cJSON *s = shipment_row_json(db, one);
      ord_db_done(one);
      ord_shipment_extras(db, order_id, ids[i], s);   /* eta and tracking (eta.c) */
      cJSON_AddItemToArray(a, s);
    } else {
      ord_db_done(one);
    }
  }
  return a;
}

static const char *str_member(const cJSON *o, const char *name)
{
  const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, name));
  return s && *s ? s : NULL;
}

int ord_shipment_put(struct destek_req *call, int64_t order_id, const char *source, const cJSON *in,
                     int64_t *shipment_id)
{
  if (!cJSON_IsObject(in)) return ord_field_error(call, "invalid_field", "shipments", "a shipment must be an object");
  const char *number = str_member(in, "tracking_number"), *ref = str_member(in, "ref");
  const char *carrier_name = str_member(in, "carrier"), *status = str_member(in, "status");
  const char *source_url = str_member(in, "tracking_url"), *message = str_member(in, "message");
  const char *location = str_member(in, "location");
  if (!ref) ref = number;
  if (!ref) return ord_field_error(call, "missing_field", "tracking_number", "a shipment needs a tracking_number");
  if (strlen(ref) > 100 || (number && strlen(number) > 100) || (carrier_name && strlen(carrier_name) > 100) ||
      (source_url && strlen(source_url) > 1000) || (message && strlen(message) > 1000) ||
      (location && strlen(location) > 200))
    return ord_field_error(call, "invalid_field", "tracking_number", "a shipment's text is too long");
  if (status && status_rank(status) < 0)
    return ord_field_error(call, "invalid_field", "status", "status must be one of %s", "Pending, InfoReceived, "
                           "InTransit, OutForDelivery, AttemptFail, Delivered, AvailableForPickup, Exception, Expired");
  char now[21], at[21], updated[21];
  ord_now(now);
  const char *at_text = str_member(in, "at"), *upd_text = str_member(in, "updated_at");
  if (at_text && ord_time_utc(at_text, at) != 0)
    return ord_field_error(call, "invalid_field", "at", "at must be an ISO-8601 time");
  if (!at_text) memcpy(at, now, sizeof now);
  if (upd_text && ord_time_utc(upd_text, updated) != 0)
    return ord_field_error(call, "invalid_field", "updated_at", "updated_at must be an ISO-8601 time");
  if (!upd_text) memcpy(updated, now, sizeof now);

  struct destek_db *w = ord_db_write(call);
  if (!w) return ord_status(call);
  char *carrier = ord_carrier_match(w, carrier_name);
  int64_t id = 0;
  char old_status[24] = "", old_updated[21] = "";
  sqlite3_stmt *st = ord_db_prepare(w, "SELECT id, status, coalesce(source_updated_at, '') FROM orders_shipments"
                                       " WHERE order_id = ?1 AND ref = ?2");
  if (!st) { free(carrier); return ord_error(call, 500, "internal", "the shipment could not be read"); }
  ord_db_bind(st, "it", order_id, ref);
  if (sqlite3_step(st) == SQLITE_ROW) {
    id = sqlite3_column_int64(st, 0);
    snprintf(old_status, sizeof old_status, "%s", (const char *)sqlite3_column_text(st, 1));
    snprintf(old_updated, sizeof old_updated, "%s", (const char *)sqlite3_column_text(st, 2));
  }
  ord_db_done(st);
  if (id && upd_text && strcmp(updated, old_updated) < 0) {   /* an older version of the shipment: keep the newer */
    free(carrier);
    if (shipment_id) *shipment_id = id;
    return 0;
  }
  const char *new_status = status ? status : id ? old_status : number ? "InfoReceived" : "Pending";
  int changed = !id || strcmp(new_status, old_status) != 0;
  int rc;
  int reached_transit = status_rank(new_status) >= status_rank("InTransit") && strcmp(new_status, "Expired") != 0;
  if (!id) {
    rc = ord_db_exec(w, "INSERT INTO orders_shipments(order_id, ref, carrier, carrier_name, tracking_number, source_url,"
                        " status, shipped_at, delivered_at, source, source_updated_at, created_at, updated_at)"
                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)",
                     "itttttt" "ttttt", order_id, ref, carrier, carrier_name, number, source_url, new_status,
                     reached_transit ? at : NULL, !strcmp(new_status, "Delivered") ? at : NULL, source, updated, now);
    if (rc == SQLITE_OK) id = ord_db_last_id(w);
  } else {
    rc = ord_db_exec(w, "UPDATE orders_shipments SET carrier = coalesce(?2, carrier),"
                        " carrier_name = coalesce(?3, carrier_name), tracking_number = coalesce(?4, tracking_number),"
                        " source_url = coalesce(?5, source_url), status = ?6,"
                        " shipped_at = coalesce(shipped_at, ?7), delivered_at = coalesce(delivered_at, ?8),"
                        " source_updated_at = max(coalesce(source_updated_at, ''), ?9), updated_at = ?10 WHERE id = ?1",
                     "ittttt" "tttt", id, carrier, carrier_name, number, source_url, new_status,
                     reached_transit ? at : NULL, !strcmp(new_status, "Delivered") ? at : NULL, updated, now);
  }
  free(carrier);
  if (rc != SQLITE_OK) return ord_error(call, 500, "internal", "the shipment could not be saved");
  if (shipment_id) *shipment_id = id;
  if (!changed && !message) return 0;
  if (ord_db_exec(w, "INSERT INTO orders_checkpoints(shipment_id, at, status, message, location, created_at)"
                     " VALUES (?1, ?2, ?3, ?4, ?5, ?6)", "itttt" "t", id, at, new_status, message, location, now)
      != SQLITE_OK)
    return ord_error(call, 500, "internal", "the shipment's checkpoint could not be saved");
  cJSON *payload = NULL;
  cJSON *all = ord_shipments_json(w, order_id), *s;
  cJSON_ArrayForEach(s, all) {
    if ((int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(s, "id")) == id) {
      payload = cJSON_DetachItemViaPointer(all, s);
      break;
    }
  }
  cJSON_Delete(all);
  if (!payload) return ord_error(call, 500, "internal", "the shipment's event could not be built");
  cJSON_DeleteItemFromObjectCaseSensitive(payload, "checkpoints");
  cJSON_AddNumberToObject(payload, "order_id", (double)order_id);
  char *onum = ord_db_text_new(w, "SELECT number FROM orders_orders WHERE id = ?1", "i", order_id);
  cJSON_AddStringToObject(payload, "order_number", onum ? onum : "");
  free(onum);
  if (old_status[0]) cJSON_AddStringToObject(payload, "previous_status", old_status);
  char subject[40];
  snprintf(subject, sizeof subject, "order:%lld", (long long)order_id);
  return ord_emit(call, !old_status[0] ? "shipment.created" : "shipment.updated", subject, payload);
}

/* ------------------------------------------------------------------------------------------------ routes */

/* POST /api/v1/orders/{number}/shipments {carrier, tracking_number, status, message, location, at}: an agent (or an
 * integration) adds a shipment or moves one on; 201 with the order's shipments. */
static int shipment_post(struct destek_req *r)
{
  cJSON *body;
  int rc = ord_body(r, &body);
  if (rc) return rc;
  int64_t order_id = ord_order_by_number(ord_db_read(r), ord_param(r, "number"));
  if (!order_id) return ord_error(r, 404, "not_found", "no such order");
  const char *s;
  if ((rc = ord_field_str(r, body, "tracking_number", DESTEK_REQUIRED, 100, &s)) ||
      (rc = ord_field_str(r, body, "carrier", DESTEK_OPTIONAL, 100, &s)) ||
      (rc = ord_field_enum(r, body, "status", DESTEK_OPTIONAL, ORD_SHIPMENT_STATUSES, &s)) ||
      (rc = ord_field_str(r, body, "message", DESTEK_OPTIONAL, 1000, &s)) ||
      (rc = ord_field_str(r, body, "location", DESTEK_OPTIONAL, 200, &s)))
    return rc;
  cJSON *in = cJSON_Duplicate(body, 1);
  cJSON_DeleteItemFromObjectCaseSensitive(in, "ref");
  cJSON_DeleteItemFromObjectCaseSensitive(in, "updated_at");
  int64_t sid = 0;
  rc = ord_shipment_put(r, order_id, "agent", in, &sid);
  cJSON_Delete(in);
  if (rc) return rc;
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "shipment_id", (double)sid);
  cJSON_AddItemToObject(o, "shipments", ord_shipments_json(ord_db_read(r), order_id));
  return ord_reply_json(r, 201, o);
}

static int carriers_list(struct destek_req *r)
{
  struct destek_db *db = ord_db_read(r);
  sqlite3_stmt *st = ord_db_prepare(db, "SELECT code, name, url_template, verified, aliases, updated_at"
                                        " FROM orders_carriers ORDER BY code");
  if (!st) return ord_error(r, 500, "internal", "the carriers could not be read");
  cJSON *items = cJSON_CreateArray();
  while (sqlite3_step(st) == SQLITE_ROW) {
    cJSON *c = cJSON_CreateObject();
    add_text(c, "code", st, 0);
    add_text(c, "name", st, 1);
    add_text(c, "url_template", st, 2);
    cJSON_AddBoolToObject(c, "verified", sqlite3_column_int(st, 3));
    cJSON *aliases = cJSON_AddArrayToObject(c, "aliases");
    const char *p = (const char *)sqlite3_column_text(st, 4);
    while (p && *p) {
      size_t len = strcspn(p, "|");
      char *a = strndup(p, len);
      cJSON_AddItemToArray(aliases, cJSON_CreateString(a));
      free(a);
      p += len + (p[len] == '|');
    }
    add_text(c, "updated_at", st, 5);
    cJSON_AddItemToArray(items, c);
  }
  ord_db_done(st);
  return ord_reply_json(r, 200, ord_list_new(items, 0));
}

/* PATCH /api/v1/order-carriers/{code} {name, url_template}: the template is an http(s) URL holding {n} once. */
static int carrier_patch(struct destek_req *r)
{
  cJSON *body;
  int rc = ord_body(r, &body);
  if (rc) return rc;
  const char *code = ord_param(r, "code"), *name = NULL, *tpl = NULL;
  if ((rc = ord_field_str(r, body, "name", DESTEK_OPTIONAL, 100, &name)) ||
      (rc = ord_field_str(r, body, "url_template", DESTEK_OPTIONAL, 500, &tpl)))
    return rc;
  if (tpl) {
    const char *at = strstr(tpl, "{n}");
    if ((strncmp(tpl, "https://", 8) && strncmp(tpl, "http://", 7)) || !at || strstr(at + 3, "{n}") ||
        strpbrk(tpl, " \"'<>"))
      return ord_field_error(r, "invalid_field", "url_template",
                             "url_template must be an http(s) URL with {n} (the tracking number) once");
  }
  struct destek_db *w = ord_db_write(r);
  if (!w) return ord_status(r);
  char now[21];
  ord_now(now);
  if (ord_db_exec(w, "UPDATE orders_carriers SET name = coalesce(?2, name), url_template = coalesce(?3, url_template),"
                     " verified = CASE WHEN ?3 IS NULL THEN verified ELSE 1 END, updated_at = ?4 WHERE code = ?1",
                  "tttt", code, name, tpl, now) != SQLITE_OK)
    return ord_error(r, 500, "internal", "the carrier could not be saved");
  if (!ord_db_changes(w)) return ord_error(r, 404, "not_found", "no such carrier");
  cJSON *detail = cJSON_CreateObject();
  if (name) cJSON_AddStringToObject(detail, "name", name);
  if (tpl) cJSON_AddStringToObject(detail, "url_template", tpl);
  char target[80];
  snprintf(target, sizeof target, "carrier:%s", code);
  ord_audit(r, "orders.carrier_changed", target, detail);
  return carriers_list(r);
}

const struct destek_route ord_shipment_routes[] = {
  { "POST",  "/api/v1/orders/{number}/shipments",  shipment_post, DESTEK_AGENT, "number:text" },
  { "GET",   "/api/v1/order-carriers",             carriers_list, DESTEK_AGENT, NULL },
  { "PATCH", "/api/v1/order-carriers/{code}",      carrier_patch, DESTEK_ADMIN, "code:text" },
  { 0 }
};
