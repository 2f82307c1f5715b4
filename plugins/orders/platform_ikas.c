/* ikas (ikas.dev, Admin API webhooks; shared/research/wave2-anchors.md §0).
 *
 * A delivery is a JSON body {id, createdAt, scope, merchantId, data: "<the order as a JSON string>", signature,
 * authorizedAppId}. The signature is inside the body: hex HMAC-SHA256 of the `data` string keyed with the app's client
 * secret (the source's webhook_secret), compared in constant time. Scopes store/order/created and store/order/updated
 * are stored; others are answered 200 and logged "topic not handled". The delivery's id is the dedupe key. ikas
 * retries a non-200 answer 3 times, then stops.
 * The order is the Admin API's Order (GraphQL): orderNumber, status, orderPaymentStatus, orderPackageStatus,
 * currencyCode, totalFinalPrice, orderedAt/updatedAt/cancelledAt (milliseconds), customer, shippingAddress (city and
 * district as {name}), orderLineItems (variant {sku, name}, quantity, finalPrice), shippingLines, orderPackages
 * (trackingInfo {trackingNumber, cargoCompany, trackingLink}, orderPackageFulfillStatus). [U] The field names are
 * read from the GraphQL schema as public clients use it, not from a captured delivery; the mapping of statuses is
 * an inference (README). */
#include "platform_common.h"

static const char *ikas_payment(const char *s, const char *status)
{
  if (status && !strcmp(status, "REFUNDED")) return "refunded";
  if (status && !strcmp(status, "PARTIALLY_REFUNDED")) return "partially_refunded";
  if (!s) return "pending";
  if (!strcmp(s, "PAID")) return "paid";
  if (!strcmp(s, "PARTIALLY_PAID")) return "partially_paid";
  if (!strcmp(s, "FAILED")) return "failed";
  return "pending";
}

static const char *package_status(const char *s)
{
  if (!s) return "InfoReceived";
  if (!strcmp(s, "DELIVERED")) return "Delivered";
  if (!strcmp(s, "UNABLE_TO_DELIVER")) return "Exception";
  if (!strcmp(s, "READY_FOR_SHIPMENT") || !strcmp(s, "UNFULFILLED")) return "InfoReceived";
  return "InTransit";              /* FULFILLED with a tracking number: handed to the carrier [I] */
}

cJSON *ord_from_ikas(const cJSON *ik, char *err, size_t errlen)
{
  char id[64], num[64], t[21];
  if (!cJSON_IsObject(ik) || pc_id(ik, "id", id) != 0) {
    snprintf(err, errlen, "not an ikas order (no id)");
    return NULL;
  }
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "number", pc_id(ik, "orderNumber", num) == 0 ? num : id);
  cJSON_AddStringToObject(o, "external_id", id);
  const char *st = pc_str(ik, "status"), *pay = pc_str(ik, "orderPaymentStatus"), *pkg = pc_str(ik, "orderPackageStatus");
  int tracked = 0;
  const cJSON *p;
  cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(ik, "orderPackages"))
    tracked |= pc_str(cJSON_GetObjectItemCaseSensitive(p, "trackingInfo"), "trackingNumber") != NULL;
  const char *status = st && (!strcmp(st, "CANCELLED")) ? "cancelled"
                     : st && !strcmp(st, "REFUNDED") ? "refunded"
                     : st && !strcmp(st, "DRAFT") ? "pending"
                     : pkg && !strcmp(pkg, "DELIVERED") ? "completed"
                     : tracked ? "shipped"
                     : pay && !strcmp(pay, "WAITING") ? "pending" : "processing";
  cJSON_AddStringToObject(o, "status", status);
  char source_status[100];
  snprintf(source_status, sizeof source_status, "%s/%s/%s", st ? st : "-", pay ? pay : "-", pkg ? pkg : "-");
  cJSON_AddStringToObject(o, "source_status", source_status);
  cJSON_AddStringToObject(o, "payment_status", ikas_payment(pay, st));
  pc_add(o, "currency", pc_str(ik, "currencyCode"));
  cJSON_AddNumberToObject(o, "total_minor", (double)pc_money(ik, "totalFinalPrice"));
  int64_t ship = 0;
  const cJSON *sl;
  cJSON_ArrayForEach(sl, cJSON_GetObjectItemCaseSensitive(ik, "shippingLines")) ship += pc_money(sl, "price");
  cJSON_AddNumberToObject(o, "shipping_minor", (double)ship);
  if (pc_time(ik, "orderedAt", t) == 0) cJSON_AddStringToObject(o, "placed_at", t);
  if (pc_time(ik, "cancelledAt", t) == 0) cJSON_AddStringToObject(o, "cancelled_at", t);
  if (pc_time(ik, "updatedAt", t) == 0 || pc_time(ik, "orderedAt", t) == 0) cJSON_AddStringToObject(o, "updated_at", t);
  const cJSON *cust = cJSON_GetObjectItemCaseSensitive(ik, "customer");
  const cJSON *addr = cJSON_GetObjectItemCaseSensitive(ik, "shippingAddress");
  cJSON *c = cJSON_AddObjectToObject(o, "customer");
  pc_add(c, "email", pc_str(cust, "email"));
  pc_add(c, "phone", pc_str(cust, "phone") ? pc_str(cust, "phone") : pc_str(addr, "phone"));
  char *name = pc_name_new(pc_str(cust, "firstName"), pc_str(cust, "lastName"));
  if (!name) name = pc_str(cust, "fullName") ? strdup(pc_str(cust, "fullName")) : NULL;
  pc_add(c, "name", name);
  free(name);
  if (cJSON_IsObject(addr)) {
    cJSON *a = cJSON_AddObjectToObject(o, "shipping_address");
    char *an = pc_name_new(pc_str(addr, "firstName"), pc_str(addr, "lastName"));
    pc_add(a, "name", an);
    free(an);
    /* In Turkey ikas's city is the province (il) and district the ilçe [U]. */
    pc_add(a, "province", pc_str(cJSON_GetObjectItemCaseSensitive(addr, "city"), "name"));
    pc_add(a, "district", pc_str(cJSON_GetObjectItemCaseSensitive(addr, "district"), "name"));
    char *line = pc_name_new(pc_str(addr, "addressLine1"), pc_str(addr, "addressLine2"));
    pc_add(a, "address", line);
    free(line);
    const char *cc = pc_str(cJSON_GetObjectItemCaseSensitive(addr, "country"), "code");
    if (cc && strlen(cc) == 2) pc_add(a, "country", cc);
  }
  pc_add(o, "shipping_method", pc_str(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(ik, "shippingLines"), 0), "title"));
  cJSON *items = cJSON_AddArrayToObject(o, "items");
  const cJSON *li;
  cJSON_ArrayForEach(li, cJSON_GetObjectItemCaseSensitive(ik, "orderLineItems")) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(li, "variant");
    cJSON *it = cJSON_CreateObject();
    pc_add(it, "sku", pc_str(v, "sku"));
    cJSON_AddStringToObject(it, "name", pc_str(v, "name") ? pc_str(v, "name") : "?");
    const cJSON *vv;
    char variant[200] = "";
    cJSON_ArrayForEach(vv, cJSON_GetObjectItemCaseSensitive(v, "variantValues")) {
      const char *n = pc_str(vv, "variantValueName");
      if (n && strlen(variant) + strlen(n) + 3 < sizeof variant)
        snprintf(variant + strlen(variant), sizeof variant - strlen(variant), "%s%s", variant[0] ? " / " : "", n);
    }
    if (variant[0]) cJSON_AddStringToObject(it, "variant", variant);
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(li, "quantity");
    cJSON_AddNumberToObject(it, "quantity", cJSON_IsNumber(q) && q->valuedouble >= 1 ? (double)(int64_t)q->valuedouble : 1);
    cJSON_AddNumberToObject(it, "price_minor", (double)(pc_money(li, "finalPrice") ? pc_money(li, "finalPrice") : pc_money(li, "price")));
    cJSON_AddItemToArray(items, it);
  }
  cJSON *ships = NULL;
  cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(ik, "orderPackages")) {
    const cJSON *ti = cJSON_GetObjectItemCaseSensitive(p, "trackingInfo");
    const char *tn = pc_str(ti, "trackingNumber");
    if (!tn) continue;
    if (!ships) ships = cJSON_AddArrayToObject(o, "shipments");
    cJSON *s = cJSON_CreateObject();
    char pid[64];
    pc_add(s, "ref", pc_id(p, "id", pid) == 0 ? pid : tn);
    pc_add(s, "carrier", pc_str(ti, "cargoCompany"));
    pc_add(s, "tracking_number", tn);
    const char *link = pc_str(ti, "trackingLink");
    if (link && (!strncmp(link, "https://", 8) || !strncmp(link, "http://", 7))) pc_add(s, "tracking_url", link);
    pc_add(s, "status", package_status(pc_str(p, "orderPackageFulfillStatus")));
    if (pc_time(p, "updatedAt", t) == 0) cJSON_AddStringToObject(s, "at", t);
    cJSON_AddItemToArray(ships, s);
  }
  return o;
}

int ord_webhook_ikas(struct destek_req *r, int64_t source_id, const char *secret, const char *body, size_t len)
{
  cJSON *env = cJSON_ParseWithLength(body, len);
  const char *data = pc_str(env, "data"), *sig = pc_str(env, "signature"), *scope = pc_str(env, "scope");
  char topic[64];
  snprintf(topic, sizeof topic, "%s", scope ? scope : "ikas");
  if (!cJSON_IsObject(env) || !data) {
    cJSON_Delete(env);
    ord_src_refused(r, source_id, topic, "not an ikas delivery ({data, signature, ...})");
    return ord_error(r, 400, "invalid_json", "the body is not an ikas webhook delivery");
  }
  char want[65];
  int ok = 0;
  if (sig && secret && *secret && strlen(sig) == 64) {
    ord_hmac_sha256_hex(secret, strlen(secret), data, strlen(data), want);
    unsigned char diff = 0;
    for (int i = 0; i < 64; i++) diff |= (unsigned char)(tolower((unsigned char)sig[i]) ^ want[i]);
    ok = diff == 0;
  }
  if (!ok) {
    cJSON_Delete(env);
    ord_src_refused(r, source_id, topic, sig ? "bad signature" : "no signature");
    return ord_error(r, 401, "bad_signature", "the delivery's signature is missing or wrong");
  }
  if (strcmp(topic, "store/order/created") && strcmp(topic, "store/order/updated")) {
    cJSON_Delete(env);
    ord_src_log(r, source_id, topic, NULL, "failed", "topic not handled", NULL);
    return ord_src_answer(r, "failed", NULL, "topic not handled");
  }
  char eid[64], key[120] = "";
  if (pc_id(env, "id", eid) == 0) snprintf(key, sizeof key, "ikas:%s", eid);
  cJSON *order = cJSON_Parse(data);
  cJSON_Delete(env);
  if (!cJSON_IsObject(order)) {
    cJSON_Delete(order);
    ord_src_log(r, source_id, topic, NULL, "failed", "data is not a JSON object", NULL);
    return ord_src_answer(r, "failed", NULL, "data is not a JSON object");
  }
  int rc = ord_src_deliver(r, source_id, "ikas", topic, key[0] ? key : NULL, order);
  cJSON_Delete(order);
  return rc;
}
