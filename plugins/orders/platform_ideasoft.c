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
 * notes and were not checked against a live shop.
 * The access token expires: when the fetch is answered 401 and the source has a client_id and a refresh_token, the
 * receiver renews it once with the OAuth2 refresh grant at <api_url>/oauth/v2/token (the address IdeaSoft's
 * documentation gives for tokens, shared/research/wave2-anchors.md; grant_type=refresh_token with client_id,
 * client_secret and refresh_token as several public IdeaSoft clients send it [U: not checked against a live shop;
 * sent form-encoded as RFC 6749 section 6 says]) and keeps the new tokens. */
#include "platform_common.h"

#include <pthread.h>

/* s percent-encoded for a URL's path or a form (new). */
static char *url_enc_new(const char *s)
{
  char *enc = malloc(strlen(s) * 3 + 1);
  if (!enc) abort();
  char *e = enc;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    e += isalnum(*p) || strchr("-._~", *p) ? sprintf(e, "%c", *p) : sprintf(e, "%%%02X", *p);
  *e = 0;
  return enc;
}

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

/* GET <base>/admin-api/orders/<id> with token: the HTTP status (0 when none came), and *order (new) when it is 200
 * with an order; else why says what went wrong. */
static long fetch_order(const char *base, const char *token, const char *id, cJSON **order, char *why, size_t whylen)
{
  char *url = NULL, *auth = NULL, *enc = url_enc_new(id);
  if (asprintf(&url, "%s/admin-api/orders/%s", base, enc) < 0 || asprintf(&auth, "Authorization: Bearer %s", token) < 0)
    abort();
  free(enc);
  const char *headers[] = { auth, "Accept: application/json", NULL };
  struct destek_http_request req = { "GET", url, headers, NULL, 0, 7000, 4 << 20 };
  struct destek_http_response resp = { 0 };
  char herr[200] = "";
  int hrc = ord_http_request(&req, &resp, herr, sizeof herr);
  long status = hrc == 0 ? resp.status : 0;
  *order = hrc == 0 && resp.status == 200 ? cJSON_ParseWithLength(resp.body, resp.body_len) : NULL;
  if (hrc != 0) snprintf(why, whylen, "fetching order %s: %s", id, herr);
  else if (resp.status != 200) snprintf(why, whylen, "fetching order %s: the shop answered HTTP %ld", id, resp.status);
  else if (!cJSON_IsObject(*order)) snprintf(why, whylen, "fetching order %s: the answer is not an order", id);
  if (why[0]) { cJSON_Delete(*order); *order = NULL; }
  ord_http_response_free(&resp);
  free(url); free(auth);
  return status;
}

/* One renewal at a time: a second delivery that met the same expired token uses the first one's new token. */
static pthread_mutex_t refresh_lock = PTHREAD_MUTEX_INITIALIZER;

/* Renews the source's access token with the OAuth2 refresh grant (RFC 6749 section 6) at <base>/oauth/v2/token:
 * grant_type=refresh_token, client_id, client_secret (the source's webhook_secret) and refresh_token, form-encoded.
 * The answer's access_token (and refresh_token, when the shop rotates it) is committed at once in a call of its own,
 * whatever becomes of the delivery: a rotated refresh token must never be lost. The new access token (new), or NULL
 * with why. expired is the token that was refused. */
static char *token_refresh_new(int64_t source_id, const char *base, const char *client_secret, const char *expired,
                               char *why, size_t whylen)
{
  pthread_mutex_lock(&refresh_lock);
  struct destek_db *db = ord_db_read(NULL);
  char *current = ord_db_text_new(db, "SELECT api_key FROM orders_sources WHERE id = ?1", "i", source_id);
  if (current && *current && strcmp(current, expired)) {   /* renewed meanwhile */
    pthread_mutex_unlock(&refresh_lock);
    return current;
  }
  free(current);
  char *client_id = ord_db_text_new(db, "SELECT oauth_client_id FROM orders_sources WHERE id = ?1", "i", source_id);
  char *refresh = ord_db_text_new(db, "SELECT oauth_refresh_token FROM orders_sources WHERE id = ?1", "i", source_id);
  char *access = NULL;
  if (!client_id || !*client_id || !refresh || !*refresh) {
    snprintf(why, whylen, "the access token was refused and the source has no client_id and refresh_token to renew it");
  } else {
    char *e_id = url_enc_new(client_id), *e_secret = url_enc_new(client_secret), *e_refresh = url_enc_new(refresh);
    char *form = NULL, *url = NULL;
    if (asprintf(&form, "grant_type=refresh_token&client_id=%s&client_secret=%s&refresh_token=%s", e_id, e_secret,
                 e_refresh) < 0 ||
        asprintf(&url, "%s/oauth/v2/token", base) < 0)
      abort();
    free(e_id); free(e_secret); free(e_refresh);
    const char *headers[] = { "Content-Type: application/x-www-form-urlencoded", "Accept: application/json", NULL };
    struct destek_http_request req = { "POST", url, headers, form, strlen(form), 3000, 64 << 10 };
    struct destek_http_response resp = { 0 };
    char herr[200] = "";
    int hrc = ord_http_request(&req, &resp, herr, sizeof herr);
    cJSON *answer = hrc == 0 && resp.status == 200 ? cJSON_ParseWithLength(resp.body, resp.body_len) : NULL;
    const char *at = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(answer, "access_token"));
    const char *rt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(answer, "refresh_token"));
    if (hrc != 0) snprintf(why, whylen, "renewing the access token: %s", herr);
    else if (resp.status != 200) snprintf(why, whylen, "renewing the access token: the shop answered HTTP %ld", resp.status);
    else if (!at || !*at || strlen(at) > 2000) snprintf(why, whylen, "renewing the access token: no access_token in the answer");
    else {
      struct destek_req *c = ord_call_new();
      struct destek_db *w = ord_db_write(c);
      char now[21];
      ord_now(now);
      int ok = w && ord_db_exec(w, "UPDATE orders_sources SET api_key = ?2, oauth_refresh_token = coalesce(?3,"
                                   " oauth_refresh_token), oauth_refreshed_at = ?4 WHERE id = ?1", "ittt", source_id,
                                at, rt && *rt && strlen(rt) <= 1000 ? rt : NULL, now) == SQLITE_OK;
      if (ord_call_end(c, ok) == 0 && ok) {
        access = strdup(at);
        if (!access) abort();
        ord_log(DESTEK_LOG_INFO, "IdeaSoft source %lld: the access token was renewed", (long long)source_id);
      } else {
        snprintf(why, whylen, "renewing the access token: the new token could not be stored");
      }
    }
    cJSON_Delete(answer);
    ord_http_response_free(&resp);
    free(form); free(url);
  }
  free(client_id); free(refresh);
  pthread_mutex_unlock(&refresh_lock);
  return access;
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
  size_t bl = base ? strlen(base) : 0;
  while (bl && base[bl - 1] == '/') base[--bl] = 0;
  char why[300] = "";
  cJSON *order = NULL;
  if (!base || !token) {
    snprintf(why, sizeof why, "the source has no api_url or api_key");
  } else {
    long status = fetch_order(base, token, id, &order, why, sizeof why);
    if (status == 401) {
      /* The access token expired: renewed once with the refresh grant, then asked again. */
      char rwhy[200] = "";
      char *fresh = token_refresh_new(source_id, base, secret, token, rwhy, sizeof rwhy);
      if (fresh) {
        why[0] = 0;
        fetch_order(base, fresh, id, &order, why, sizeof why);
        free(fresh);
      } else {
        size_t wl = strlen(why);
        snprintf(why + wl, sizeof why - wl, "; %s", rwhy);
      }
    }
  }
  free(base); free(token);
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
