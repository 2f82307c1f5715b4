/* The order store: one canonical shape for an order whatever brought it (README.md, "The canonical order"), the
 * upsert every receiver goes through (idempotent; a stale version never overwrites a newer one), the agents' and
 * integrations' API (GET and PUT /api/v1/orders/{number}; the list is list.c's) and the JSON views. */
#include "orders.h"

#include <stdio.h>
#include <stdlib.h>
#include <ctype.h>
#include <string.h>

#include "destek_util.h"

/* ------------------------------------------------------------------------------------------------ JSON views */

static void add_text(cJSON *o, const char *name, sqlite3_stmt *st, int col)
{
  if (sqlite3_column_type(st, col) == SQLITE_NULL) cJSON_AddNullToObject(o, name);
  else cJSON_AddStringToObject(o, name, (const char *)sqlite3_column_text(st, col));
}

static void add_money(cJSON *o, const char *name, int64_t minor)
{
  char key[48], text[40];
  snprintf(key, sizeof key, "%s_minor", name);
  cJSON_AddNumberToObject(o, key, (double)minor);
  snprintf(text, sizeof text, "%s%lld.%02lld", minor < 0 ? "-" : "", (long long)(llabs(minor) / 100),
           (long long)(llabs(minor) % 100));
  cJSON_AddStringToObject(o, name, text);
}

static cJSON *items_json(struct destek_db *db, int64_t order_id)
{
  cJSON *a = cJSON_CreateArray();
  sqlite3_stmt *st = ord_db_prepare(db, "SELECT sku, name, variant, quantity, price_minor FROM orders_items"
                                        " WHERE order_id = ?1 ORDER BY position");
  if (!st) return a;
  ord_db_bind(st, "i", order_id);
  while (sqlite3_step(st) == SQLITE_ROW) {
    cJSON *it = cJSON_CreateObject();
    add_text(it, "sku", st, 0);
    add_text(it, "name", st, 1);
    add_text(it, "variant", st, 2);
    cJSON_AddNumberToObject(it, "quantity", (double)sqlite3_column_int64(st, 3));
    add_money(it, "price", sqlite3_column_int64(st, 4));
    cJSON_AddItemToArray(a, it);
  }
  ord_db_done(st);
  return a;
}

/* An order's row as its JSON view shows it: from the store (ord_order_json) or, for an order just created, from the
 * values the INSERT bound (upsert_locked), so that the event's payload is built without reading the row back. NULL
 * strings are JSON nulls; has_contact says whether contact_id is set. */
struct order_row {
  int64_t id, source_id, total, shipping, discount, contact_id;
  int has_contact;
  const char *number, *source, *external_id, *status, *source_status, *payment_status, *currency, *placed_at, *paid_at,
    *cancelled_at, *email, *phone, *customer_name, *ship_name, *ship_province, *ship_district, *ship_address,
    *ship_country, *shipping_method, *promised_dispatch_date, *source_updated_at, *created_at, *updated_at;
};

static void add_str(cJSON *o, const char *name, const char *v)
{
  if (v) cJSON_AddStringToObject(o, name, v);
  else cJSON_AddNullToObject(o, name);
}

static cJSON *order_row_json(const struct order_row *r)
{
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "id", (double)r->id);
  add_str(o, "number", r->number);
  add_str(o, "source", r->source);
  if (r->source_id) cJSON_AddNumberToObject(o, "source_id", (double)r->source_id);
  else cJSON_AddNullToObject(o, "source_id");
  add_str(o, "external_id", r->external_id);
  add_str(o, "status", r->status);
  add_str(o, "source_status", r->source_status);
  add_str(o, "payment_status", r->payment_status);
  add_str(o, "currency", r->currency);
  add_money(o, "total", r->total);
  add_money(o, "shipping_total", r->shipping);
  add_money(o, "discount_total", r->discount);
  add_str(o, "placed_at", r->placed_at);
  add_str(o, "paid_at", r->paid_at);
  add_str(o, "cancelled_at", r->cancelled_at);
  cJSON *c = cJSON_AddObjectToObject(o, "customer");
  add_str(c, "email", r->email);
  add_str(c, "phone", r->phone);
  add_str(c, "name", r->customer_name);
  if (!r->has_contact) cJSON_AddNullToObject(c, "contact_id");
  else cJSON_AddNumberToObject(c, "contact_id", (double)r->contact_id);
  cJSON *a = cJSON_AddObjectToObject(o, "shipping_address");
  add_str(a, "name", r->ship_name);
  add_str(a, "province", r->ship_province);
  add_str(a, "district", r->ship_district);
  add_str(a, "address", r->ship_address);
  add_str(a, "country", r->ship_country);
  add_str(o, "shipping_method", r->shipping_method);
  add_str(o, "promised_dispatch_date", r->promised_dispatch_date);
  add_str(o, "source_updated_at", r->source_updated_at);
  add_str(o, "created_at", r->created_at);
  add_str(o, "updated_at", r->updated_at);
  return o;
}

cJSON *ord_order_json(struct destek_db *db, int64_t order_id, int full)
{
  sqlite3_stmt *st = ord_db_prepare(db,
    "SELECT id, number, source, source_id, external_id, status, source_status, payment_status, currency, total_minor,"
    " shipping_minor, discount_minor, placed_at, paid_at, cancelled_at, email, phone, customer_name, contact_id,"
    " ship_name, ship_province, ship_district, ship_address, ship_country, shipping_method, promised_dispatch_date,"
    " source_updated_at, created_at, updated_at FROM orders_orders WHERE id = ?1");
  if (!st) return NULL;
  ord_db_bind(st, "i", order_id);
  cJSON *o = NULL;
  if (sqlite3_step(st) == SQLITE_ROW) {
#define T(i) ((const char *)sqlite3_column_text(st, i))
    struct order_row row = {
      .id = sqlite3_column_int64(st, 0), .number = T(1), .source = T(2), .source_id = sqlite3_column_int64(st, 3),
      .external_id = T(4), .status = T(5), .source_status = T(6), .payment_status = T(7), .currency = T(8),
      .total = sqlite3_column_int64(st, 9), .shipping = sqlite3_column_int64(st, 10),
      .discount = sqlite3_column_int64(st, 11), .placed_at = T(12), .paid_at = T(13), .cancelled_at = T(14),
      .email = T(15), .phone = T(16), .customer_name = T(17),
      .has_contact = sqlite3_column_type(st, 18) != SQLITE_NULL, .contact_id = sqlite3_column_int64(st, 18),
      .ship_name = T(19), .ship_province = T(20), .ship_district = T(21), .ship_address = T(22), .ship_country = T(23),
      .shipping_method = T(24), .promised_dispatch_date = T(25), .source_updated_at = T(26), .created_at = T(27),
      .updated_at = T(28),
    };
#undef T
    o = order_row_json(&row);
  }
  ord_db_done(st);
  if (o && full) {
    cJSON_AddItemToObject(o, "notify", ord_notify_json(db, order_id));
    cJSON_AddItemToObject(o, "items", items_json(db, order_id));
    cJSON_AddItemToObject(o, "shipments", ord_shipments_json(db, order_id));
  }
  return o;
}

/* Customers type "tr9001" for "TR9001" (phones start in lower case): the number as written, else its ASCII letters in
 * upper case, else in lower case. Three lookups of the UNIQUE index, which is binary: never a scan of the orders. */
int64_t ord_order_by_number(struct destek_db *db, const char *number)
{
  static const char sql[] = "SELECT id FROM orders_orders WHERE number = ?1";
  int64_t id = ord_db_int(db, 0, sql, "t", number);
  size_t n = number ? strlen(number) : 0;
  char v[129];
  for (int upper = 1; !id && n && n < sizeof v && upper >= 0; upper--) {
    for (size_t i = 0; i <= n; i++) {
      unsigned char c = (unsigned char)number[i];
      v[i] = (char)(c < 0x80 ? (upper ? toupper(c) : tolower(c)) : c);
    }
    if (strcmp(v, number)) id = ord_db_int(db, 0, sql, "t", v);
  }
  return id;
}

/* ------------------------------------------------------------------------------------------------ validation */

/* The canonical order, read and checked; strings are borrowed from the JSON it came from or held in the buffers. */
struct order_in {
  const char *number, *external_id, *status, *source_status, *payment_status, *currency;
  int64_t total, shipping, discount;
  char placed_at[21], paid_at[21], cancelled_at[21], updated_at[21];
  char email[256], phone[32];
  const char *customer_name, *ship_name, *ship_province, *ship_district, *ship_address, *ship_country;
  const char *shipping_method, *promised_dispatch_date;
  const cJSON *items, *shipments;
};

/* An integer member in [min, max]: 0 with *out (dflt when absent or null), or the 422 set up. */
static int int_field(struct destek_req *r, const cJSON *o, const char *name, int64_t min, int64_t max, int64_t dflt,
                     int64_t *out, const char *path)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  *out = dflt;
  if (!v || cJSON_IsNull(v)) return 0;
  if (!cJSON_IsNumber(v) || v->valuedouble != (double)(int64_t)v->valuedouble || v->valuedouble < (double)min ||
      v->valuedouble > (double)max)
    return ord_field_error(r, "invalid_field", path ? path : name, "%s must be a whole number from %lld to %lld",
                           path ? path : name, (long long)min, (long long)max);
  *out = (int64_t)v->valuedouble;
  return 0;
}

static int time_field(struct destek_req *r, const cJSON *o, const char *name, char out[21])
{
  const char *s = NULL;
  out[0] = 0;
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  if (!v || cJSON_IsNull(v)) return 0;
  int rc = ord_field_str(r, o, name, DESTEK_OPTIONAL, 40, &s);
  if (rc) return rc;
  if (s && ord_time_utc(s, out) != 0)
    return ord_field_error(r, "invalid_field", name, "%s must be an ISO-8601 time (2025-03-01T14:05:11+03:00)", name);
  return 0;
}

static int str_or_null(struct destek_req *r, const cJSON *o, const char *name, size_t max, const char **out)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  *out = NULL;
  if (!v || cJSON_IsNull(v) || (cJSON_IsString(v) && !v->valuestring[strspn(v->valuestring, " \t")])) return 0;
  return ord_field_str(r, o, name, DESTEK_OPTIONAL, max, out);
}

static int order_read(struct destek_req *r, const cJSON *o, struct order_in *in)
{
  int rc;
  memset(in, 0, sizeof *in);
  if (!cJSON_IsObject(o)) return ord_error(r, 400, "invalid_body", "the order must be a JSON object");
  if ((rc = ord_field_str(r, o, "number", DESTEK_REQUIRED, 64, &in->number))) return rc;
  if ((rc = str_or_null(r, o, "external_id", 64, &in->external_id))) return rc;
  if (!in->external_id) in->external_id = in->number;
  if ((rc = ord_field_enum(r, o, "status", DESTEK_REQUIRED, ORD_STATUSES, &in->status))) return rc;
  if ((rc = str_or_null(r, o, "source_status", 64, &in->source_status))) return rc;
  if ((rc = ord_field_enum(r, o, "payment_status", DESTEK_OPTIONAL, ORD_PAYMENT_STATUSES, &in->payment_status)))
    return rc;
  if (!in->payment_status) in->payment_status = "pending";
  if ((rc = str_or_null(r, o, "currency", 3, &in->currency))) return rc;
  if (!in->currency) in->currency = "TRY";
  if (strlen(in->currency) != 3 || strspn(in->currency, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 3)
    return ord_field_error(r, "invalid_field", "currency", "currency must be a three-letter ISO code (TRY)");
  if ((rc = int_field(r, o, "total_minor", 0, 100000000000LL, 0, &in->total, NULL)) ||
      (rc = int_field(r, o, "shipping_minor", 0, 100000000000LL, 0, &in->shipping, NULL)) ||
      (rc = int_field(r, o, "discount_minor", 0, 100000000000LL, 0, &in->discount, NULL)))
    return rc;
  if ((rc = time_field(r, o, "placed_at", in->placed_at)) || (rc = time_field(r, o, "paid_at", in->paid_at)) ||
      (rc = time_field(r, o, "cancelled_at", in->cancelled_at)) ||
      (rc = time_field(r, o, "updated_at", in->updated_at)))
    return rc;
  if ((rc = str_or_null(r, o, "shipping_method", 200, &in->shipping_method))) return rc;
  if ((rc = str_or_null(r, o, "promised_dispatch_date", 10, &in->promised_dispatch_date))) return rc;
  char tmp[21];
  if (in->promised_dispatch_date && (strlen(in->promised_dispatch_date) != 10 ||
                                     ord_time_utc(in->promised_dispatch_date, tmp) != 0))
    return ord_field_error(r, "invalid_field", "promised_dispatch_date", "promised_dispatch_date must be YYYY-MM-DD");
  const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "customer");
  if (c && !cJSON_IsNull(c)) {
    if (!cJSON_IsObject(c)) return ord_field_error(r, "invalid_field", "customer", "customer must be an object");
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(c, "email");
    if (e && !cJSON_IsNull(e) && (!cJSON_IsString(e) || e->valuestring[0])) {
      if ((rc = ord_field_email(r, c, "email", DESTEK_OPTIONAL, in->email))) {
        cJSON *err = ord_error_object(r);
        if (err) cJSON_ReplaceItemInObject(err, "field", cJSON_CreateString("customer.email"));
        return rc;
      }
    }
    const char *phone = NULL;
    if ((rc = str_or_null(r, c, "phone", 40, &phone))) return rc;
    if (phone) ord_phone_norm(phone, in->phone);
    if ((rc = str_or_null(r, c, "name", 200, &in->customer_name))) return rc;
  }
  const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "shipping_address");
  if (a && !cJSON_IsNull(a)) {
    if (!cJSON_IsObject(a))
      return ord_field_error(r, "invalid_field", "shipping_address", "shipping_address must be an object");
    if ((rc = str_or_null(r, a, "name", 200, &in->ship_name)) || (rc = str_or_null(r, a, "province", 100, &in->ship_province)) ||
        (rc = str_or_null(r, a, "district", 100, &in->ship_district)) ||
        (rc = str_or_null(r, a, "address", 500, &in->ship_address)) ||
        (rc = str_or_null(r, a, "country", 2, &in->ship_country)))
      return rc;
  }
  in->items = cJSON_GetObjectItemCaseSensitive(o, "items");
  if (in->items && !cJSON_IsNull(in->items)) {
    if (!cJSON_IsArray(in->items) || cJSON_GetArraySize(in->items) > 500)
      return ord_field_error(r, "invalid_field", "items", "items must be a list of at most 500 line items");
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, in->items) {
      char path[48];
      const char *s;
      int64_t n;
      snprintf(path, sizeof path, "items[%d]", i);
      if (!cJSON_IsObject(it)) return ord_field_error(r, "invalid_field", path, "%s must be an object", path);
      if ((rc = ord_field_str(r, it, "name", DESTEK_REQUIRED, 300, &s)) || (rc = str_or_null(r, it, "sku", 100, &s)) ||
          (rc = str_or_null(r, it, "variant", 200, &s))) {
        cJSON *err = ord_error_object(r);
        const char *f = err ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(err, "field")) : NULL;
        if (f) {
          char full[96];
          snprintf(full, sizeof full, "%s.%s", path, f);
          cJSON_ReplaceItemInObject(err, "field", cJSON_CreateString(full));
        }
        return rc;
      }
      char qpath[64], ppath[64];
      snprintf(qpath, sizeof qpath, "%s.quantity", path);
      snprintf(ppath, sizeof ppath, "%s.price_minor", path);
      if ((rc = int_field(r, it, "quantity", 1, 1000000, 1, &n, qpath)) ||
          (rc = int_field(r, it, "price_minor", 0, 100000000000LL, 0, &n, ppath)))
        return rc;
      i++;
    }
  } else {
    in->items = NULL;
  }
  in->shipments = cJSON_GetObjectItemCaseSensitive(o, "shipments");
  if (in->shipments && !cJSON_IsNull(in->shipments) &&
      (!cJSON_IsArray(in->shipments) || cJSON_GetArraySize(in->shipments) > 50))
    return ord_field_error(r, "invalid_field", "shipments", "shipments must be a list of at most 50 shipments");
  if (in->shipments && !cJSON_IsArray(in->shipments)) in->shipments = NULL;
  return 0;
}

/* SHA-256 of what is stored of an order (its canonical JSON without updated_at and shipments, which are compared
 * on their own), to tell a real change from the same content sent again. */
static void content_sha(const cJSON *order, char out[65])
{
  /* The order's own members printed in order, those two skipped: the text a copy without them would print (the
   * hashes stored before stay comparable), without copying the order. */
  cJSON *list = cJSON_CreateObject();
  const cJSON *m;
  cJSON_ArrayForEach(m, order) {
    if (m->string && (!strcmp(m->string, "updated_at") || !strcmp(m->string, "shipments"))) continue;
    cJSON_AddItemReferenceToObject(list, m->string, (cJSON *)m);
  }
  char *text = cJSON_PrintUnformatted(list);
  ord_host->sha256_hex(text ? text : "", text ? strlen(text) : 0, out);
  cJSON_free(text);
  cJSON_Delete(list);
}

/* The core's contact for the order's e-mail or phone (host->contact_resolve: the one who has either, else a new
 * one), or 0 when the order names neither or the core cannot resolve (the order then keeps its e-mail and phone
 * without a contact; logged). */
static int64_t contact_resolve(struct destek_req *call, const struct order_in *in)
{
  if (!in->email[0] && !in->phone[0]) return 0;
  if (!DESTEK_HOST_HAS(ord_host, contact_resolve)) return 0;   /* a core older than contacts */
  char e164[40] = "";
  if (in->phone[0]) snprintf(e164, sizeof e164, "+%s", in->phone);
  int64_t id = ord_host->contact_resolve(call, in->email[0] ? in->email : NULL, e164[0] ? e164 : NULL, NULL,
                                         in->customer_name, NULL);
  if (id < 0) {
    ord_log(DESTEK_LOG_WARN, "the contact of order %s could not be resolved; kept without one", in->number);
    return 0;
  }
  return id;
}

static const char *nz(const char *s) { return s && *s ? s : NULL; }

static int upsert_locked(struct destek_req *call, const char *source, int64_t source_id, const struct order_in *pin,
                         const char *sha, const char *folded, const char *now, enum ord_outcome *outcome,
                         int64_t *order_id);

/* What ord_upsert works out before it takes the writer: the checked order (borrowing from its JSON), its content hash
 * and its folded search text. */
struct ord_prepared {
  struct order_in in;
  struct ord_notify notify;   /* the customer's choice of channel made at the shop's checkout (notify.c) */
  char now[21], sha[65];
  char *folded;
};

int ord_upsert_prepare(struct destek_req *call, const cJSON *order, struct ord_prepared **out)
{
  *out = NULL;
  struct ord_prepared *p = calloc(1, sizeof *p);
  if (!p) abort();
  int rc = order_read(call, order, &p->in);
  if (rc || (rc = ord_notify_read(call, order, &p->notify))) { free(p); return rc; }
  ord_now(p->now);
  if (!p->in.updated_at[0]) memcpy(p->in.updated_at, p->now, sizeof p->now);
  content_sha(order, p->sha);
  /* the search text (list.c), folded before the writer is taken */
  p->folded = ord_search_text_new(p->in.number, p->in.email, p->in.phone, p->in.customer_name, p->in.ship_name);
  *out = p;
  return 0;
}

void ord_prepared_free(struct ord_prepared *p)
{
  if (!p) return;
  free(p->folded);
  free(p);
}

int ord_upsert_prepared(struct destek_req *call, const char *source, int64_t source_id, const struct ord_prepared *p,
                        enum ord_outcome *outcome, int64_t *order_id)
{
  int rc = upsert_locked(call, source, source_id, &p->in, p->sha, p->folded, p->now, outcome, order_id);
  /* The customer's choice of channel made at the shop's checkout (notify.c). */
  if (!rc && *outcome != ORD_STALE && p->notify.channel[0]) {
    struct destek_db *w = ord_db_write(call);
    rc = w ? ord_notify_store(call, w, *order_id, &p->notify, "checkout") : ord_status(call);
  }
  return rc;
}

int ord_upsert(struct destek_req *call, const char *source, int64_t source_id, const cJSON *order,
               enum ord_outcome *outcome, int64_t *order_id)
{
  struct ord_prepared *p;
  int rc = ord_upsert_prepare(call, order, &p);
  if (rc) return rc;
  rc = ord_upsert_prepared(call, source, source_id, p, outcome, order_id);
  ord_prepared_free(p);
  return rc;
}

/* ord_upsert's part on the writer. */
static int upsert_locked(struct destek_req *call, const char *source, int64_t source_id, const struct order_in *pin,
                         const char *sha, const char *folded, const char *now, enum ord_outcome *outcome,
                         int64_t *order_id)
{
  struct order_in in = *pin;
  int rc;
  struct destek_db *w = ord_db_write(call);
  if (!w) return ord_status(call);

  /* The generic API and CSV name an order by its number; a shop's receiver by its own id. */
  int64_t id = 0, contact_id = 0;
  char stored_at[21] = "", stored_sha[65] = "";
  char *stored_search = NULL;
  sqlite3_stmt *st = source_id
    ? ord_db_prepare(w, "SELECT id, source_updated_at, content_sha, contact_id, email, phone, search_text"
                        " FROM orders_orders WHERE source_id = ?1 AND external_id = ?2")
    : ord_db_prepare(w, "SELECT id, source_updated_at, content_sha, contact_id, email, phone, search_text"
                        " FROM orders_orders WHERE number = ?2 AND ?1 = 0");
  if (!st) return ord_error(call, 500, "internal", "the order could not be read");
  ord_db_bind(st, "it", source_id, source_id ? in.external_id : in.number);
  int same_person = 0;
  if (sqlite3_step(st) == SQLITE_ROW) {
    id = sqlite3_column_int64(st, 0);
    snprintf(stored_at, sizeof stored_at, "%s", (const char *)sqlite3_column_text(st, 1));
    snprintf(stored_sha, sizeof stored_sha, "%s", (const char *)sqlite3_column_text(st, 2));
    contact_id = sqlite3_column_int64(st, 3);
    const char *e = (const char *)sqlite3_column_text(st, 4), *p = (const char *)sqlite3_column_text(st, 5);
    same_person = contact_id && !strcmp(e ? e : "", in.email) && !strcmp(p ? p : "", in.phone);
    const char *t = (const char *)sqlite3_column_text(st, 6);
    stored_search = t ? strdup(t) : NULL;
  }
  ord_db_done(st);
  int search_same = stored_search && !strcmp(stored_search, folded), existed = id != 0;
  free(stored_search);

  if (id && strcmp(in.updated_at, stored_at) < 0) {
    *outcome = ORD_STALE;
    *order_id = id;
    return 0;
  }
  int unchanged = id && !strcmp(sha, stored_sha);
  if (!unchanged) {
    if (!same_person) contact_id = contact_resolve(call, &in);
    int64_t cid = contact_id;
    if (id) {
      rc = ord_db_exec(w,
        "UPDATE orders_orders SET number = ?2, status = ?3, source_status = ?4, payment_status = ?5, currency = ?6,"
        " total_minor = ?7, shipping_minor = ?8, discount_minor = ?9, placed_at = ?10, paid_at = ?11,"
        " cancelled_at = ?12, email = ?13, phone = ?14, customer_name = ?15, contact_id = ?16, ship_name = ?17,"
        " ship_province = ?18, ship_district = ?19, ship_address = ?20, ship_country = ?21, shipping_method = ?22,"
        " promised_dispatch_date = ?23, source_updated_at = ?24, content_sha = ?25, updated_at = ?26,"
        " search_text = ?27 WHERE id = ?1",
        "ittttt" "iiittt" "ttt" "I" "ttttt" "tt" "ttt" "t",
        id, in.number, in.status, in.source_status, in.payment_status, in.currency,
        in.total, in.shipping, in.discount, nz(in.placed_at), nz(in.paid_at), nz(in.cancelled_at),
        nz(in.email), nz(in.phone), in.customer_name, cid ? &cid : NULL,
        in.ship_name, in.ship_province, in.ship_district, in.ship_address, in.ship_country,
        in.shipping_method, in.promised_dispatch_date, in.updated_at, sha, now, folded);
    } else {
      rc = ord_db_exec(w,
        "INSERT INTO orders_orders(number, source, source_id, external_id, status, source_status, payment_status,"
        " currency, total_minor, shipping_minor, discount_minor, placed_at, paid_at, cancelled_at, email, phone,"
        " customer_name, contact_id, ship_name, ship_province, ship_district, ship_address, ship_country,"
        " shipping_method, promised_dispatch_date, source_updated_at, content_sha, created_at, updated_at, search_text)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21,"
        " ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?28, ?29)",
        "ttit" "ttt" "t" "iii" "ttt" "tt" "t" "I" "ttttt" "tt" "tt" "t" "t",
        in.number, source, source_id, in.external_id, in.status, in.source_status, in.payment_status, in.currency,
        in.total, in.shipping, in.discount, nz(in.placed_at), nz(in.paid_at), nz(in.cancelled_at),
        nz(in.email), nz(in.phone), in.customer_name, cid ? &cid : NULL,
        in.ship_name, in.ship_province, in.ship_district, in.ship_address, in.ship_country,
        in.shipping_method, in.promised_dispatch_date, in.updated_at, sha, now, folded);
      if (rc == SQLITE_OK) id = ord_db_last_id(w);
    }
    if (rc == SQLITE_CONSTRAINT)
      return ord_field_error(call, "number_taken", "number", "another order (of another source) has the number %s",
                             in.number);
    if (rc != SQLITE_OK) return ord_error(call, 500, "internal", "the order could not be saved");
    if (!search_same && ord_search_words_write(w, id, folded, !existed) != 0)
      return ord_error(call, 500, "internal", "the order's search words could not be saved");
    if (existed && ord_db_exec(w, "DELETE FROM orders_items WHERE order_id = ?1", "i", id) != SQLITE_OK)
      return ord_error(call, 500, "internal", "the order could not be saved");
    if (in.items) {
      int pos = 0;
      const cJSON *it;
      cJSON_ArrayForEach(it, in.items) {
        const cJSON *q = cJSON_GetObjectItemCaseSensitive(it, "quantity"),
                    *p = cJSON_GetObjectItemCaseSensitive(it, "price_minor");
        int64_t qty = cJSON_IsNumber(q) ? (int64_t)q->valuedouble : 1, price = cJSON_IsNumber(p) ? (int64_t)p->valuedouble : 0;
        const char *sku = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "sku")),
                   *variant = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "variant"));
        if (ord_db_exec(w, "INSERT INTO orders_items(order_id, position, sku, name, variant, quantity, price_minor)"
                           " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", "iittt" "ii", id, (int64_t)pos++, nz(sku),
                        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "name")), nz(variant), qty,
                        price) != SQLITE_OK)
          return ord_error(call, 500, "internal", "the order's items could not be saved");
      }
    }
  } else if (strcmp(in.updated_at, stored_at) > 0) {
    /* The same content, said again later: remember the newer time, so an older version stays refused. */
    ord_db_exec(w, "UPDATE orders_orders SET source_updated_at = ?2 WHERE id = ?1", "it", id, in.updated_at);
  }
  *outcome = !unchanged ? (stored_at[0] ? ORD_UPDATED : ORD_CREATED) : ORD_UNCHANGED;
  *order_id = id;
  if (in.shipments) {
    /* shipments that come with a new order were in their state before the import: no notices (notices.c) */
    if (*outcome == ORD_CREATED) ord_importing_order = id;
    const cJSON *s;
    cJSON_ArrayForEach(s, in.shipments) {
      if ((rc = ord_shipment_put(call, id, source, s, NULL))) break;
    }
    ord_importing_order = 0;
    if (rc) return rc;
  }
  if (*outcome == ORD_UNCHANGED) return 0;
  /* A new order's payload from what the INSERT bound (the row as ord_order_json would read it back), unless its
   * shipments' writes may have touched the row since. */
  cJSON *payload = NULL;
  if (*outcome == ORD_CREATED && !in.shipments) {
    struct order_row row = {
      .id = id, .number = in.number, .source = source, .source_id = source_id, .external_id = in.external_id,
      .status = in.status, .source_status = in.source_status, .payment_status = in.payment_status,
      .currency = in.currency, .total = in.total, .shipping = in.shipping, .discount = in.discount,
      .placed_at = nz(in.placed_at), .paid_at = nz(in.paid_at), .cancelled_at = nz(in.cancelled_at),
      .email = nz(in.email), .phone = nz(in.phone), .customer_name = in.customer_name,
      .has_contact = contact_id != 0, .contact_id = contact_id, .ship_name = in.ship_name,
      .ship_province = in.ship_province, .ship_district = in.ship_district, .ship_address = in.ship_address,
      .ship_country = in.ship_country, .shipping_method = in.shipping_method,
      .promised_dispatch_date = in.promised_dispatch_date, .source_updated_at = in.updated_at, .created_at = now,
      .updated_at = now,
    };
    payload = order_row_json(&row);
  } else {
    payload = ord_order_json(w, id, 0);
  }
  if (!payload) return ord_error(call, 500, "internal", "the order's event could not be built");
  char subject[40];
  snprintf(subject, sizeof subject, "order:%lld", (long long)id);
  return ord_emit(call, *outcome == ORD_CREATED ? "order.created" : "order.updated", subject, payload);
}

/* ------------------------------------------------------------------------------------------------ routes */

/* PUT /api/v1/orders/{number}: creates or updates the order (token scope "orders"); 201 when created, 200 when
 * updated or unchanged, 409 stale when the stored version is newer than updated_at. */
static int order_put(struct destek_req *r)
{
  cJSON *body;
  int rc = ord_body(r, &body);
  if (rc) return rc;
  const char *number = ord_param(r, "number");
  const cJSON *n = cJSON_GetObjectItemCaseSensitive(body, "number");
  if (n && !(cJSON_IsString(n) && !strcmp(n->valuestring, number)))
    return ord_field_error(r, "invalid_field", "number", "number in the body must be the one in the path");
  cJSON *order = cJSON_Duplicate(body, 1);
  if (!n) cJSON_AddStringToObject(order, "number", number);
  enum ord_outcome outcome;
  int64_t id;
  rc = ord_upsert(r, "api", 0, order, &outcome, &id);
  cJSON_Delete(order);
  if (rc) return rc;
  if (outcome == ORD_STALE)
    return ord_error(r, 409, "stale", "the stored order is newer than this version (updated_at)");
  cJSON *o = ord_order_json(ord_db_read(r), id, 1);
  cJSON_AddStringToObject(o, "outcome", outcome == ORD_CREATED ? "created" : outcome == ORD_UPDATED ? "updated"
                                                                                                     : "unchanged");
  return ord_reply_json(r, outcome == ORD_CREATED ? 201 : 200, o);
}

static int order_get(struct destek_req *r)
{
  struct destek_db *db = ord_db_read(r);
  int64_t id = ord_order_by_number(db, ord_param(r, "number"));
  cJSON *o = id ? ord_order_json(db, id, 1) : NULL;
  if (!o) return ord_error(r, 404, "not_found", "no such order");
  return ord_reply_json(r, 200, o);
}

const struct destek_route ord_order_routes[] = {
  /* method pattern                    handler     access          params */
  { "GET", "/api/v1/orders/{number}",  order_get,  DESTEK_AGENT,   "number:text" },
  { "PUT", "/api/v1/orders/{number}",  order_put,  "orders",       "number:text", 512 * 1024 },
  { 0 }
};

/* ------------------------------------------------------------------------------------------------ services */

/* orders.find {number} | {contact_id} | {email} | {phone} -> {items: [order summaries, newest first, at most 20]};
 * with number, the one order in full (items and shipments) or an empty list. */
static int svc_find(struct destek_req *call, const cJSON *args, cJSON **result, void *ud)
{
  (void)ud;
  struct destek_db *db = ord_db_read(call);
  const char *number = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "number"));
  const char *email = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "email"));
  const char *phone_raw = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "phone"));
  const cJSON *cid = cJSON_GetObjectItemCaseSensitive(args, "contact_id");
  cJSON *items = cJSON_CreateArray();
  if (number) {
    if (number[0] == '#') number++;
    int64_t id = ord_order_by_number(db, number);
    cJSON *o = id ? ord_order_json(db, id, 1) : NULL;
    if (o) cJSON_AddItemToArray(items, o);
  } else if ((cJSON_IsNumber(cid) && cid->valuedouble >= 1) || (email && *email) || (phone_raw && *phone_raw)) {
    char mail[256] = "", phone[32] = "";
    if (email) { snprintf(mail, sizeof mail, "%s", email); for (char *p = mail; *p; p++) if (*p >= 'A' && *p <= 'Z') *p += 32; }
    if (phone_raw) ord_phone_norm(phone_raw, phone);
    int64_t contact_id = cJSON_IsNumber(cid) ? (int64_t)cid->valuedouble : 0;
    sqlite3_stmt *st = ord_db_prepare(db,
      "SELECT id FROM orders_orders WHERE (?1 > 0 AND contact_id = ?1) OR (?2 <> '' AND email = ?2)"
      " OR (?3 <> '' AND phone = ?3) ORDER BY id DESC LIMIT 20");
    if (st) {
      ord_db_bind(st, "itt", contact_id, mail, phone);
      while (sqlite3_step(st) == SQLITE_ROW) {
        cJSON *o = ord_order_json(db, sqlite3_column_int64(st, 0), 0);
        if (o) cJSON_AddItemToArray(items, o);
      }
      ord_db_done(st);
    }
  } else {
    cJSON_Delete(items);
    return ord_field_error(call, "missing_field", "number", "give number, contact_id, email or phone");
  }
  *result = cJSON_CreateObject();
  cJSON_AddItemToObject(*result, "items", items);
  return 0;
}

int ord_services_init(const struct destek_host *h)
{
  return h->service(h, "orders.find", svc_find, NULL);
}
