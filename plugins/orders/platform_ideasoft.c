/* IdeaSoft (apidoc.ideasoft.dev, webhooks; shared/research/wave2-anchors.md §0).
 *
 * A delivery is signed in the header X-Ideashop-Hmac-Sha256: base64 of HMAC-SHA256 of the raw body keyed with the
 * app's client secret (the source's webhook_secret), compared in constant time. IdeaSoft sends only the fields that
 * changed, so the receiver takes the order's id from the body and fetches the whole order from the Admin API
 * (GET <api_url>/admin-api/orders/<id>, Authorization: Bearer <api_key>) through the host's outbound guard before
 * storing it. A fetch that fails is answered 503 refetch_failed: IdeaSoft redelivers until it gets a 200 (and after
 * an unpublished number of failures deletes the subscription). IdeaSoft waits 10 s for an answer, so the fetch has
 * 7 s. No event id is published: the dedupe key is the order's id and its updatedAt as fetched.
 * [U] The topic header's name (X-Ideashop-Topic), the order's field names (transactionId, status words,
 * paymentStatus, finalAmount, shippingAmount, customerEmail, shippingAddress.location / subLocation, orderItems,
 * shippingProviderCode / shippingTrackingCode) are from the public API documentation as summarised in the research
 * notes and were not checked against a live shop; the access token's refresh (OAuth2) is the merchant's to do. */
#include "platform_common.h"

static const char *ideasoft_status(const char *s)
{
  if (!s) return "processing";
  if (!strcmp(s, "waiting_for_payment")) return "pending";
  if (!strcmp(s, "fulfilled")) return "shipped";
  if (!strcmp(s, "delivered")) return "completed";
  if (!strcmp(s, "cancelled") || !strcmp(s, "deleted")) return "cancelled";
  if (!strcmp(s, "refunded")) return "refunded";
  return "processing";         /* waiting_for_approval, approved, being_prepared, on_accumulation, personal_status_N */
}

cJSON *ord_from_ideasoft(const cJSON *is, char *err, size_t errlen)
{
  char id[64], num[64], t[21];
  if (!cJSON_IsObject(is) || pc_id(is, "id", id) != 0) {
    snprintf(err, errlen, "not an IdeaSoft order (no id)");
    return NULL;
  }
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "number", pc_id(is, "transactionId", num) == 0 ? num : id);
  cJSON_AddStringToObject(o, "external_id", id);
  const char *st = pc_str(is, "status"), *pay = pc_str(is, "paymentStatus");
  cJSON_AddStringToObject(o, "status", ideasoft_status(st));
  char source_status[100];
  snprintf(source_status, sizeof source_status, "%s/%s", st ? st : "-", pay ? pay : "-");
  cJSON_AddStringToObject(o, "source_status", source_status);
  cJSON_AddStringToObject(o, "payment_status", st && !strcmp(st, "refunded") ? "refunded"
                                             : pay && !strcmp(pay, "success") ? "paid"
                                             : pay && !strcmp(pay, "failed") ? "failed" : "pending");
  pc_add(o, "currency", pc_str(is, "currency"));
  cJSON_AddNumberToObject(o, "total_minor", (double)pc_money(is, "finalAmount"));
  cJSON_AddNumberToObject(o, "shipping_minor", (double)pc_money(is, "shippingAmount"));
  if (pc_time(is, "createdAt", t) == 0) cJSON_AddStringToObject(o, "placed_at", t);
  if (pc_time(is, "updatedAt", t) == 0 || pc_time(is, "createdAt", t) == 0) cJSON_AddStringToObject(o, "updated_at", t);
  const cJSON *addr = cJSON_GetObjectItemCaseSensitive(is, "shippingAddress");
  cJSON *c = cJSON_AddObjectToObject(o, "customer");
  pc_add(c, "email", pc_str(is, "customerEmail"));
  pc_add(c, "phone", pc_str(is, "customerPhone") ? pc_str(is, "customerPhone") : pc_str(addr, "phoneNumber"));
  char *name = pc_name_new(pc_str(is, "customerFirstname"), pc_str(is, "customerSurname"));
  pc_add(c, "name", name);
  free(name);
  if (cJSON_IsObject(addr)) {
    cJSON *a = cJSON_AddObjectToObject(o, "shipping_address");
    char *an = pc_name_new(pc_str(addr, "firstname"), pc_str(addr, "surname"));
    pc_add(a, "name", an);
    free(an);
    pc_add(a, "province", pc_str(addr, "location"));
    pc_add(a, "district", pc_str(addr, "subLocation"));
    pc_add(a, "address", pc_str(addr, "address"));
    const char *cc = pc_str(addr, "countryCode");
    pc_add(a, "country", cc && strlen(cc) == 2 ? cc : "TR");
  }
  pc_add(o, "shipping_method", pc_str(is, "shippingProviderName") ? pc_str(is, "shippingProviderName")
                                                                   : pc_str(is, "shippingProviderCode"));
  cJSON *items = cJSON_AddArrayToObject(o, "items");
  const cJSON *li;
  cJSON_ArrayForEach(li, cJSON_GetObjectItemCaseSensitive(is, "orderItems")) {
    cJSON *it = cJSON_CreateObject();
    pc_add(it, "sku", pc_str(li, "productSku"));
    cJSON_AddStringToObject(it, "name", pc_str(li, "productName") ? pc_str(li, "productName") : "?");
    pc_add(it, "variant", pc_str(li, "productVariant"));
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(li, "productQuantity");
    cJSON_AddNumberToObject(it, "quantity", cJSON_IsNumber(q) && q->valuedouble >= 1 ? (double)(int64_t)q->valuedouble : 1);
    cJSON_AddNumberToObject(it, "price_minor", (double)pc_money(li, "productPrice"));
    cJSON_AddItemToArray(items, it);
  }
  const char *tn = pc_str(is, "shippingTrackingCode");
  if (tn) {
    cJSON *s = cJSON_CreateObject();
    pc_add(s, "ref", tn);
    pc_add(s, "carrier", pc_str(is, "shippingProviderName") ? pc_str(is, "shippingProviderName")
                                                           : pc_str(is, "shippingProviderCode"));
    pc_add(s, "tracking_number", tn);
    pc_add(s, "status", st && !strcmp(st, "delivered") ? "Delivered" : st && !strcmp(st, "fulfilled") ? "InTransit"
                                                                                                     : "InfoReceived");
    cJSON_AddItemToArray(cJSON_AddArrayToObject(o, "shipments"), s);
  }
  return o;
}

int ord_webhook_ideasoft(struct destek_req *r, int64_t source_id, const char *secret, const char *body, size_t len)
{
  const char *sig = ord_header(r, "X-Ideashop-Hmac-Sha256"), *th = ord_header(r, "X-Ideashop-Topic");
  char topic[64];
  snprintf(topic, sizeof topic, "%s", th && *th ? th : "order/update");
  if (!ord_src_signature_ok(sig, secret, body, len)) {
    ord_src_refused(r, source_id, topic, sig && *sig ? "bad signature" : "no signature");
    return ord_error(r, 401, "bad_signature", "the delivery's signature is missing or wrong");
  }
  cJSON *part = cJSON_ParseWithLength(body, len);
  char id[64];
  if (!cJSON_IsObject(part) || pc_id(part, "id", id) != 0) {
    cJSON_Delete(part);
    ord_src_refused(r, source_id, topic, "the body is not a JSON object with an id");
    return ord_error(r, 400, "invalid_json", "the body is not a JSON object with an id");
  }
  cJSON_Delete(part);
  if (strncmp(topic, "order/", 6)) {
    ord_src_log(r, source_id, topic, NULL, "failed", "topic not handled", NULL);
    return ord_src_answer(r, "failed", NULL, "topic not handled");
  }
  struct destek_db *db = ord_db_read(r);
  char *base = ord_db_text_new(db, "SELECT api_url FROM orders_sources WHERE id = ?1", "i", source_id);
  char *token = ord_db_text_new(db, "SELECT api_key FROM orders_sources WHERE id = ?1", "i", source_id);
  char *url = NULL, *auth = NULL, *enc = NULL;
  size_t bl = base ? strlen(base) : 0;
  while (bl && base[bl - 1] == '/') base[--bl] = 0;
  enc = malloc(strlen(id) * 3 + 1);
  if (!enc) abort();
  char *e = enc;
  for (const unsigned char *p = (const unsigned char *)id; *p; p++)
    e += isalnum(*p) || strchr("-._~", *p) ? sprintf(e, "%c", *p) : sprintf(e, "%%%02X", *p);
  if (asprintf(&url, "%s/admin-api/orders/%s", base ? base : "", enc) < 0 ||
      asprintf(&auth, "Authorization: Bearer %s", token ? token : "") < 0)
    abort();
  free(enc);
  const char *headers[] = { auth, "Accept: application/json", NULL };
  struct destek_http_request req = { "GET", url, headers, NULL, 0, 7000, 4 << 20 };
  struct destek_http_response resp = { 0 };
  char herr[200] = "", why[300] = "";
  int hrc = base && token ? ord_http_request(&req, &resp, herr, sizeof herr) : -1;
  cJSON *order = hrc == 0 && resp.status == 200 ? cJSON_ParseWithLength(resp.body, resp.body_len) : NULL;
  if (!base || !token) snprintf(why, sizeof why, "the source has no api_url or api_key");
  else if (hrc != 0) snprintf(why, sizeof why, "fetching order %s: %s", id, herr);
  else if (resp.status != 200) snprintf(why, sizeof why, "fetching order %s: the shop answered HTTP %ld", id, resp.status);
  else if (!cJSON_IsObject(order)) snprintf(why, sizeof why, "fetching order %s: the answer is not an order", id);
  ord_http_response_free(&resp);
  free(url); free(auth); free(base); free(token);
  if (why[0]) {
    cJSON_Delete(order);
    struct destek_req *c = ord_call_new();
    int ok = ord_src_log(c, source_id, topic, NULL, "failed", why, NULL) == 0;
    ord_call_end(c, ok);
    return ord_error(r, 503, "refetch_failed", "%s; IdeaSoft delivers again", why);
  }
  char key[200], upd[21] = "";
  pc_time(order, "updatedAt", upd);
  snprintf(key, sizeof key, "order:%s:%s", id, upd);
  int rc = ord_src_deliver(r, source_id, "ideasoft", topic, upd[0] ? key : NULL, order);   /* no time: the content decides */
  cJSON_Delete(order);
  return rc;
}
