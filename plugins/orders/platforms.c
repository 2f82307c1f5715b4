/* The platforms' orders in the canonical shape (store.c): WooCommerce's REST order (what its webhooks send, and
 * GET /wp-json/wc/v3/orders), Shopify's order and fulfillment (orders/create and /updated, fulfillments/create and /update webhooks). Pure functions
 * of the JSON they are given. Field names as the platforms document them (shared/research/wave2-facts.md §1, §2). */
#include "orders.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *str_of(const cJSON *o, const char *name)
{
  const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, name));
  return s && *s ? s : NULL;
}

/* A member that is an id (number or string) as text into out; 0, or -1 when absent. */
static int id_of(const cJSON *o, const char *name, char out[32])
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 9007199254740992.0) {
    snprintf(out, 32, "%.0f", v->valuedouble);
    return 0;
  }
  if (cJSON_IsString(v) && v->valuestring[0] && strlen(v->valuestring) < 32) {
    snprintf(out, 32, "%s", v->valuestring);
    return 0;
  }
  return -1;
}

/* An amount member ("549.90" or 549.9) in minor units; 0 when absent or not an amount. */
static int64_t money_of(const cJSON *o, const char *name)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  int64_t m = 0;
  if (cJSON_IsString(v) && ord_money_minor(v->valuestring, &m) == 0) return m < 0 ? 0 : m;
  if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 1e11) return (int64_t)(v->valuedouble * 100 + 0.5);
  return 0;
}

static void add_str(cJSON *o, const char *name, const char *value)
{
  if (value) cJSON_AddStringToObject(o, name, value);
}

/* "first last" of two members, or NULL; caller frees. */
static char *full_name_new(const cJSON *o, const char *first, const char *last)
{
  const char *f = str_of(o, first), *l = str_of(o, last);
  if (!f && !l) return NULL;
  char *s = NULL;
  if (asprintf(&s, "%s%s%s", f ? f : "", f && l ? " " : "", l ? l : "") < 0) abort();
  return s;
}

/* ------------------------------------------------------------------------------------------------ WooCommerce */

/* WooCommerce's Turkish states are the plate codes "TR01".."TR81" (woocommerce i18n/states.php); the tracking page
 * and the agents want the province's name. */
const char *const ORD_TR_PROVINCES[81] = {
  "Adana", "Adıyaman", "Afyonkarahisar", "Ağrı", "Amasya", "Ankara", "Antalya", "Artvin", "Aydın", "Balıkesir",
  "Bilecik", "Bingöl", "Bitlis", "Bolu", "Burdur", "Bursa", "Çanakkale", "Çankırı", "Çorum", "Denizli", "Diyarbakır",
  "Edirne", "Elazığ", "Erzincan", "Erzurum", "Eskişehir", "Gaziantep", "Giresun", "Gümüşhane", "Hakkari", "Hatay",
  "Isparta", "Mersin", "İstanbul", "İzmir", "Kars", "Kastamonu", "Kayseri", "Kırklareli", "Kırşehir", "Kocaeli",
  "Konya", "Kütahya", "Malatya", "Manisa", "Kahramanmaraş", "Mardin", "Muğla", "Muş", "Nevşehir", "Niğde", "Ordu",
  "Rize", "Sakarya", "Samsun", "Siirt", "Sinop", "Sivas", "Tekirdağ", "Tokat", "Trabzon", "Tunceli", "Şanlıurfa",
  "Uşak", "Van", "Yozgat", "Zonguldak", "Aksaray", "Bayburt", "Karaman", "Kırıkkale", "Batman", "Şırnak", "Bartın",
  "Ardahan", "Iğdır", "Yalova", "Karabük", "Kilis", "Osmaniye", "Düzce",
};

static const char *wc_province(const char *state, const char *country)
{
  if (state && strlen(state) == 4 && !strncmp(state, "TR", 2) && (!country || !strcmp(country, "TR")) &&
      state[2] >= '0' && state[2] <= '9' && state[3] >= '0' && state[3] <= '9') {
    int n = (state[2] - '0') * 10 + (state[3] - '0');
    if (n >= 1 && n <= 81) return ORD_TR_PROVINCES[n - 1];
  }
  return state;
}


static const char *wc_status(const char *s)
{
  static const char *const map[][2] = {
    { "pending", "pending" }, { "processing", "processing" }, { "on-hold", "on_hold" }, { "completed", "completed" },
    { "cancelled", "cancelled" }, { "refunded", "refunded" }, { "failed", "failed" }, { "trash", "cancelled" },
    { "checkout-draft", "pending" },
    /* Kargo Takip Türkiye's "shipped" status (github unbelievable-digital/kargo-takip-turkiye) */
    { "kargo-verildi", "shipped" }, { "wc-kargo-verildi", "shipped" }, { "shipped", "shipped" },
  };
  for (size_t i = 0; s && i < sizeof map / sizeof *map; i++)
    if (!strcmp(s, map[i][0])) return map[i][1];
  return "processing";   /* a plugin's own status: the order exists and is being handled */
}

cJSON *ord_from_woocommerce(const cJSON *wc, char *err, size_t errlen)
{
  char id[32];
  if (!cJSON_IsObject(wc) || id_of(wc, "id", id) != 0) {
    snprintf(err, errlen, "not a WooCommerce order (no id)");
    return NULL;
  }
  const char *status = str_of(wc, "status");
  const char *modified = str_of(wc, "date_modified_gmt");
  cJSON *o = cJSON_CreateObject();
  const char *number = str_of(wc, "number");
  cJSON_AddStringToObject(o, "number", number ? number : id);
  cJSON_AddStringToObject(o, "external_id", id);
  cJSON_AddStringToObject(o, "status", wc_status(status));
  add_str(o, "source_status", status);
  const char *paid = str_of(wc, "date_paid_gmt");
  const char *pay = status && !strcmp(status, "refunded") ? "refunded"
                  : status && !strcmp(status, "failed") ? "failed"
                  : paid ? "paid" : status && !strcmp(status, "cancelled") ? "voided" : "pending";
  cJSON_AddStringToObject(o, "payment_status", pay);
  add_str(o, "currency", str_of(wc, "currency"));
  cJSON_AddNumberToObject(o, "total_minor", (double)money_of(wc, "total"));
  cJSON_AddNumberToObject(o, "shipping_minor", (double)money_of(wc, "shipping_total"));
  cJSON_AddNumberToObject(o, "discount_minor", (double)money_of(wc, "discount_total"));
  add_str(o, "placed_at", str_of(wc, "date_created_gmt"));
  add_str(o, "paid_at", paid);
  if (status && !strcmp(status, "cancelled")) add_str(o, "cancelled_at", modified);
  add_str(o, "updated_at", modified ? modified : str_of(wc, "date_created_gmt"));

  const cJSON *billing = cJSON_GetObjectItemCaseSensitive(wc, "billing");
  const cJSON *shipping = cJSON_GetObjectItemCaseSensitive(wc, "shipping");
  cJSON *c = cJSON_AddObjectToObject(o, "customer");
  add_str(c, "email", str_of(billing, "email"));
  add_str(c, "phone", str_of(billing, "phone") ? str_of(billing, "phone") : str_of(shipping, "phone"));
  char *name = full_name_new(billing, "first_name", "last_name");
  add_str(c, "name", name);
  free(name);
  if (cJSON_IsObject(shipping)) {
    cJSON *a = cJSON_AddObjectToObject(o, "shipping_address");
    char *sname = full_name_new(shipping, "first_name", "last_name");
    add_str(a, "name", sname);
    free(sname);
    add_str(a, "province", wc_province(str_of(shipping, "state"), str_of(shipping, "country")));
    add_str(a, "district", str_of(shipping, "city"));
    const char *a1 = str_of(shipping, "address_1"), *a2 = str_of(shipping, "address_2");
    if (a1 || a2) {
      char *addr = NULL;
      if (asprintf(&addr, "%s%s%s", a1 ? a1 : "", a1 && a2 ? ", " : "", a2 ? a2 : "") < 0) abort();
      add_str(a, "address", addr);
      free(addr);
    }
    const char *cc = str_of(shipping, "country");
    if (cc && strlen(cc) == 2) add_str(a, "country", cc);
  }
  const cJSON *lines = cJSON_GetObjectItemCaseSensitive(wc, "shipping_lines");
  add_str(o, "shipping_method", str_of(cJSON_GetArrayItem(lines, 0), "method_title"));

  cJSON *items = cJSON_AddArrayToObject(o, "items");
  const cJSON *li;
  cJSON_ArrayForEach(li, cJSON_GetObjectItemCaseSensitive(wc, "line_items")) {
    cJSON *it = cJSON_CreateObject();
    add_str(it, "sku", str_of(li, "sku"));
    cJSON_AddStringToObject(it, "name", str_of(li, "name") ? str_of(li, "name") : "?");
    /* The variation's attributes are the line's visible meta (display_key: display_value). */
    char variant[200] = "";
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(li, "meta_data")) {
      const char *key = str_of(m, "key"), *val = str_of(m, "display_value");
      if (!val) val = str_of(m, "value");
      if (!key || key[0] == '_' || !val) continue;
      size_t n = strlen(variant);
      snprintf(variant + n, sizeof variant - n, "%s%s", n ? ", " : "", val);
    }
    if (variant[0]) cJSON_AddStringToObject(it, "variant", variant);
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(li, "quantity");
    cJSON_AddNumberToObject(it, "quantity", cJSON_IsNumber(q) && q->valuedouble >= 1 ? (double)(int64_t)q->valuedouble : 1);
    cJSON_AddNumberToObject(it, "price_minor", (double)money_of(li, "price"));
    cJSON_AddItemToArray(items, it);
  }

  /* Kargo Takip Türkiye's order meta: tracking_company, tracking_code. */
  const char *company = NULL, *code = NULL;
  const cJSON *m;
  cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(wc, "meta_data")) {
    const char *key = str_of(m, "key");
    if (!key) continue;
    if (!strcmp(key, "tracking_company")) company = str_of(m, "value");
    else if (!strcmp(key, "tracking_code")) code = str_of(m, "value");
  }
  if (code) {
    cJSON *ships = cJSON_AddArrayToObject(o, "shipments"), *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "tracking_number", code);
    add_str(s, "carrier", company);
    add_str(s, "updated_at", modified);
    cJSON_AddItemToArray(ships, s);
  }
  return o;
}

/* ------------------------------------------------------------------------------------------------ Shopify */

/* Shopify's shipment_status (FulfillmentEventStatus, lower case) on AfterShip's model. */
static const char *shopify_shipment_status(const char *s, const char *fulfillment_status, int has_number)
{
  static const char *const map[][2] = {
    { "label_printed", "InfoReceived" }, { "label_purchased", "InfoReceived" }, { "confirmed", "InfoReceived" },
    { "carrier_picked_up", "InTransit" }, { "in_transit", "InTransit" }, { "delayed", "InTransit" },
    { "out_for_delivery", "OutForDelivery" }, { "attempted_delivery", "AttemptFail" },
    { "ready_for_pickup", "AvailableForPickup" }, { "picked_up", "Delivered" }, { "delivered", "Delivered" },
    { "failure", "Exception" },
  };
  for (size_t i = 0; s && i < sizeof map / sizeof *map; i++)
    if (!strcmp(s, map[i][0])) return map[i][1];
  if (fulfillment_status && (!strcmp(fulfillment_status, "cancelled") || !strcmp(fulfillment_status, "error") ||
                             !strcmp(fulfillment_status, "failure")))
    return "Exception";
  return has_number ? "InfoReceived" : "Pending";
}

cJSON *ord_shipment_from_shopify(const cJSON *f, char *err, size_t errlen)
{
  char id[32];
  if (!cJSON_IsObject(f) || id_of(f, "id", id) != 0) {
    snprintf(err, errlen, "not a Shopify fulfillment (no id)");
    return NULL;
  }
  const char *number = str_of(f, "tracking_number");
  if (!number) number = cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(f, "tracking_numbers"), 0));
  const char *url = str_of(f, "tracking_url");
  if (!url) url = cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(f, "tracking_urls"), 0));
  const char *shipment_status = str_of(f, "shipment_status"), *status = str_of(f, "status");
  cJSON *s = cJSON_CreateObject();
  cJSON_AddStringToObject(s, "ref", id);
  add_str(s, "tracking_number", number && *number ? number : NULL);
  add_str(s, "carrier", str_of(f, "tracking_company"));
  add_str(s, "tracking_url", url && *url ? url : NULL);
  cJSON_AddStringToObject(s, "status", shopify_shipment_status(shipment_status, status, number && *number));
  add_str(s, "message", shipment_status && !strcmp(shipment_status, "delayed") ? "delayed" : NULL);
  add_str(s, "updated_at", str_of(f, "updated_at") ? str_of(f, "updated_at") : str_of(f, "created_at"));
  add_str(s, "at", str_of(f, "updated_at") ? str_of(f, "updated_at") : str_of(f, "created_at"));
  return s;
}

cJSON *ord_from_shopify(const cJSON *sh, char *err, size_t errlen)
{
  char id[32], num[32];
  if (!cJSON_IsObject(sh) || id_of(sh, "id", id) != 0) {
    snprintf(err, errlen, "not a Shopify order (no id)");
    return NULL;
  }
  cJSON *o = cJSON_CreateObject();
  if (id_of(sh, "order_number", num) == 0) cJSON_AddStringToObject(o, "number", num);
  else {
    const char *name = str_of(sh, "name");
    cJSON_AddStringToObject(o, "number", name ? (name[0] == '#' ? name + 1 : name) : id);
  }
  cJSON_AddStringToObject(o, "external_id", id);
  const char *fin = str_of(sh, "financial_status"), *ful = str_of(sh, "fulfillment_status");
  const char *cancelled = str_of(sh, "cancelled_at");
  const char *status = cancelled ? "cancelled"
                     : fin && !strcmp(fin, "refunded") ? "refunded"
                     : ful && !strcmp(ful, "fulfilled") ? (str_of(sh, "closed_at") ? "completed" : "shipped")
                     : fin && !strcmp(fin, "pending") ? "pending" : "processing";
  cJSON_AddStringToObject(o, "status", status);
  char source_status[80];
  snprintf(source_status, sizeof source_status, "%s/%s", fin ? fin : "-", ful ? ful : "unfulfilled");
  cJSON_AddStringToObject(o, "source_status", source_status);
  int known = 0;
  for (int i = 0; fin && ORD_PAYMENT_STATUSES[i]; i++) known |= !strcmp(fin, ORD_PAYMENT_STATUSES[i]);
  cJSON_AddStringToObject(o, "payment_status", known ? fin : "pending");
  add_str(o, "currency", str_of(sh, "currency"));
  cJSON_AddNumberToObject(o, "total_minor", (double)money_of(sh, "total_price"));
  int64_t ship = 0;
  const cJSON *sl;
  cJSON_ArrayForEach(sl, cJSON_GetObjectItemCaseSensitive(sh, "shipping_lines")) ship += money_of(sl, "price");
  cJSON_AddNumberToObject(o, "shipping_minor", (double)ship);
  cJSON_AddNumberToObject(o, "discount_minor", (double)money_of(sh, "total_discounts"));
  add_str(o, "placed_at", str_of(sh, "created_at"));
  if (fin && (!strcmp(fin, "paid") || !strcmp(fin, "partially_refunded") || !strcmp(fin, "refunded")))
    add_str(o, "paid_at", str_of(sh, "processed_at") ? str_of(sh, "processed_at") : str_of(sh, "created_at"));
  add_str(o, "cancelled_at", cancelled);
  add_str(o, "updated_at", str_of(sh, "updated_at") ? str_of(sh, "updated_at") : str_of(sh, "created_at"));

  const cJSON *addr = cJSON_GetObjectItemCaseSensitive(sh, "shipping_address");
  const cJSON *cust = cJSON_GetObjectItemCaseSensitive(sh, "customer");
  cJSON *c = cJSON_AddObjectToObject(o, "customer");
  add_str(c, "email", str_of(sh, "email") ? str_of(sh, "email") : str_of(sh, "contact_email"));
  const char *phone = str_of(sh, "phone");
  if (!phone) phone = str_of(cust, "phone");
  if (!phone) phone = str_of(addr, "phone");
  add_str(c, "phone", phone);
  char *name = full_name_new(cust, "first_name", "last_name");
  add_str(c, "name", name ? name : str_of(addr, "name"));
  free(name);
  if (cJSON_IsObject(addr)) {
    cJSON *a = cJSON_AddObjectToObject(o, "shipping_address");
    add_str(a, "name", str_of(addr, "name"));
    add_str(a, "province", str_of(addr, "province"));
    add_str(a, "district", str_of(addr, "city"));
    const char *a1 = str_of(addr, "address1"), *a2 = str_of(addr, "address2");
    if (a1 || a2) {
      char *line = NULL;
      if (asprintf(&line, "%s%s%s", a1 ? a1 : "", a1 && a2 ? ", " : "", a2 ? a2 : "") < 0) abort();
      add_str(a, "address", line);
      free(line);
    }
    const char *cc = str_of(addr, "country_code");
    if (cc && strlen(cc) == 2) add_str(a, "country", cc);
  }
  add_str(o, "shipping_method", str_of(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(sh, "shipping_lines"), 0),
                                       "title"));
  cJSON *items = cJSON_AddArrayToObject(o, "items");
  const cJSON *li;
  cJSON_ArrayForEach(li, cJSON_GetObjectItemCaseSensitive(sh, "line_items")) {
    cJSON *it = cJSON_CreateObject();
    add_str(it, "sku", str_of(li, "sku"));
    const char *title = str_of(li, "title") ? str_of(li, "title") : str_of(li, "name");
    cJSON_AddStringToObject(it, "name", title ? title : "?");
    add_str(it, "variant", str_of(li, "variant_title"));
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(li, "quantity");
    cJSON_AddNumberToObject(it, "quantity", cJSON_IsNumber(q) && q->valuedouble >= 1 ? (double)(int64_t)q->valuedouble : 1);
    cJSON_AddNumberToObject(it, "price_minor", (double)money_of(li, "price"));
    cJSON_AddItemToArray(items, it);
  }
  const cJSON *fs = cJSON_GetObjectItemCaseSensitive(sh, "fulfillments");
  if (cJSON_GetArraySize(fs) > 0) {
    cJSON *ships = cJSON_AddArrayToObject(o, "shipments");
    const cJSON *f;
    cJSON_ArrayForEach(f, fs) {
      char e[80];
      cJSON *s = ord_shipment_from_shopify(f, e, sizeof e);
      if (s) cJSON_AddItemToArray(ships, s);
    }
  }
  return o;
}
