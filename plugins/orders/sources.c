/* Sources: the shops that send orders (WooCommerce, Shopify), each with its signing secret, set up by admins; the
 * webhook receivers; WooCommerce REST polling (WooCommerce never redelivers a failed webhook); and the delivery
 * log admins read. A receiver answers only after the delivery and what it changed are committed, so a delivery
 * the platform saw acknowledged survives a crash, and its redelivery is found by its dedupe key and not filed twice. */
#include "orders.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "destek_util.h"

static const char *const KINDS[] = { "woocommerce", "shopify", "ikas", "ideasoft", NULL };

/* ------------------------------------------------------------------------------------------------ the log */

/* A delivery's line in the log, in the call's transaction (kept when the call commits). */
static int log_in(struct destek_req *r, int64_t source_id, const char *topic, const char *key, const char *outcome,
                  const char *detail, const char *number)
{
  struct destek_db *w = ord_db_write(r);
  if (!w) return -1;
  char now[21];
  ord_now(now);
  return ord_db_exec(w, "INSERT INTO orders_deliveries(source_id, topic, dedupe_key, outcome, detail, order_number,"
                        " received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", "itttttt", source_id, topic, key,
                     outcome, detail, number, now) == SQLITE_OK ? 0 : -1;
}

/* A refused delivery's line, written at once in a call of its own (the request's own transaction rolls back with
 * its 4xx). Failures from one address are logged at most 60 a minute, so a stranger cannot fill the log. Only
 * before this thread has taken the writer. */
static void log_refused(struct destek_req *r, int64_t source_id, const char *topic, const char *detail)
{
  long wait = 0;
  if (ord_rate_take(NULL, "orders.refused", ord_client_ip(r), 60, 60, &wait) <= 0) return;
  struct destek_req *c = ord_call_new();
  int ok = log_in(c, source_id, topic, NULL, "failed", detail, NULL) == 0;
  ord_call_end(c, ok);
}

/* ------------------------------------------------------------------------------------------------ signatures */

static int hex_digit(char c)
{
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Whether header (base64 of an HMAC-SHA256) signs body with secret; compared in constant time. */
static int signature_ok(const char *header, const char *secret, const char *body, size_t len)
{
  if (!header || !secret || !*secret) return 0;
  unsigned char sent[64], want[32];
  long n = util_b64_decode(header, strlen(header), sent, sizeof sent);
  if (n != 32) return 0;
  char hex[65];
  ord_hmac_sha256_hex(secret, strlen(secret), body, len, hex);
  for (int i = 0; i < 32; i++) {
    int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return 0;
    want[i] = (unsigned char)(hi << 4 | lo);
  }
  return util_ct_equal(sent, want, 32);
}

/* ------------------------------------------------------------------------------------------------ receivers */

struct source {
  int64_t id;
  char kind[16];
  char *secret;
  int active;
};

static int source_load(struct destek_db *db, int64_t id, struct source *s)
{
  memset(s, 0, sizeof *s);
  sqlite3_stmt *st = ord_db_prepare(db, "SELECT kind, webhook_secret, active FROM orders_sources WHERE id = ?1");
  if (!st) return -1;
  ord_db_bind(st, "i", id);
  int found = sqlite3_step(st) == SQLITE_ROW;
  if (found) {
    s->id = id;
    snprintf(s->kind, sizeof s->kind, "%s", (const char *)sqlite3_column_text(st, 0));
    s->secret = strdup((const char *)sqlite3_column_text(st, 1));
    s->active = sqlite3_column_int(st, 2);
  }
  ord_db_done(st);
  return found ? 0 : -1;
}

/* The answer to a delivery the platform should not send again: 200 {outcome, order_number, detail}. */
static int answer(struct destek_req *r, const char *outcome, const char *number, const char *detail)
{
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "outcome", outcome);
  if (number) cJSON_AddStringToObject(o, "order_number", number);
  if (detail) cJSON_AddStringToObject(o, "detail", detail);
  return ord_reply_json(r, 200, o);
}

/* Stores a signed, parsed delivery: dedupe, convert, upsert, log. The key is NULL when the platform gave none. */
static int deliver(struct destek_req *r, const struct source *src, const char *topic, const char *key,
                   const cJSON *payload)
{
  int is_fulfillment = !strcmp(src->kind, "shopify") && !strncmp(topic, "fulfillments/", 13);
  int64_t order_id = 0;
  if (is_fulfillment) {
    /* Looked up before the writer is taken, so that a refusal can be logged from a call of its own. */
    char ext[32] = "";
    const cJSON *oid = cJSON_GetObjectItemCaseSensitive(payload, "order_id");
    if (cJSON_IsNumber(oid)) snprintf(ext, sizeof ext, "%.0f", oid->valuedouble);
    order_id = ext[0] ? ord_db_int(ord_db_read(r), 0, "SELECT id FROM orders_orders WHERE source_id = ?1 AND"
                                   " external_id = ?2", "it", src->id, ext) : 0;
    if (!order_id) {
      /* The order's own webhook has not come yet (deliveries arrive out of order): ask for a retry, which Shopify
       * makes with the same payload. Nothing is kept but the log line, so the retry is not a duplicate. */
      char detail[120];
      snprintf(detail, sizeof detail, "order %s not known yet; the platform retries", ext[0] ? ext : "(none)");
      struct destek_req *c = ord_call_new();
      int ok = log_in(c, src->id, topic, NULL, "failed", detail, NULL) == 0;
      ord_call_end(c, ok);
      return ord_error(r, 409, "order_unknown", "the fulfillment's order %s has not arrived yet; retry later", ext);
    }
  }
  /* The conversion and the checks of the order (ord_upsert) run before the writer is taken: every other write waits
   * while a request holds it, so only the dedupe check, the upsert and the log happen there. */
  char err[200] = "";
  cJSON *canon = NULL;
  if (is_fulfillment) {
    canon = ord_shipment_from_shopify(payload, err, sizeof err);
  } else if (!strcmp(src->kind, "shopify")) {
    canon = ord_from_shopify(payload, err, sizeof err);
  } else if (!strcmp(src->kind, "ikas")) {
    canon = ord_from_ikas(payload, err, sizeof err);
  } else if (!strcmp(src->kind, "ideasoft")) {
    canon = ord_from_ideasoft(payload, err, sizeof err);
  } else {
    canon = ord_from_woocommerce(payload, err, sizeof err);
  }
  if (!canon) {
    log_in(r, src->id, topic, NULL, "failed", err, NULL);
    return answer(r, "failed", NULL, err);
  }
  /* An order is checked, hashed and folded here too, before the writer (a duplicate's work is wasted, not the
   * writer's time). A refusal is set up on r and logged below as before. */
  struct ord_prepared *prep = NULL;
  int prep_rc = is_fulfillment ? 0 : ord_upsert_prepare(r, canon, &prep);
  struct destek_db *w = ord_db_write(r);
  if (!w) {
    ord_prepared_free(prep);
    cJSON_Delete(canon);
    return ord_status(r);
  }
  if (key && ord_db_int(w, 0, "SELECT count(*) FROM orders_deliveries WHERE source_id = ?1 AND dedupe_key = ?2"
                              " AND outcome IN ('kept', 'stale')", "it", src->id, key)) {
    ord_prepared_free(prep);
    cJSON_Delete(canon);
    log_in(r, src->id, topic, NULL, "duplicate", key, NULL);
    return answer(r, "duplicate", NULL, NULL);
  }
  const char *number = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(canon, "number"));
  char *number_copy = number ? strdup(number) : ord_db_text_new(w, "SELECT number FROM orders_orders WHERE id = ?1",
                                                                "i", order_id);
  enum ord_outcome outcome = ORD_UPDATED;
  int rc = is_fulfillment ? ord_shipment_put(r, order_id, "shopify", canon, NULL)
           : prep_rc ? prep_rc : ord_upsert_prepared(r, src->kind, src->id, prep, &outcome, &order_id);
  ord_prepared_free(prep);
  cJSON_Delete(canon);
  if (rc >= 500) {
    free(number_copy);
    return rc;                      /* rolled back; the platform retries */
  }
  if (rc) {
    /* A signed delivery we cannot use (a member out of range, a number another source has): the platform would
     * send the same again, so it is answered 200 and logged for the admin, with the reason. */
    cJSON *e = ord_error_object(r);
    char detail[300];
    snprintf(detail, sizeof detail, "%s: %s", e ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "code")) : "invalid",
             e ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "message")) : "");
    log_in(r, src->id, topic, NULL, "failed", detail, number_copy);
    rc = answer(r, "failed", number_copy, detail);
    free(number_copy);
    return rc;
  }
  const char *what = outcome == ORD_STALE ? "stale" : "kept";
  const char *detail = outcome == ORD_CREATED ? "created" : outcome == ORD_UPDATED ? "updated"
                     : outcome == ORD_UNCHANGED ? "unchanged" : "a newer version is stored";
  if (log_in(r, src->id, topic, key, what, detail, number_copy) != 0) {
    free(number_copy);
    return ord_error(r, 500, "internal", "the delivery could not be logged");
  }
  rc = answer(r, what, number_copy, detail);
  free(number_copy);
  return rc;
}

/* POST /api/v1/order-sources/{id}/webhook — the URL given to the shop. Public: the platform's signature is the
 * credential. */
static int webhook(struct destek_req *r)
{
  struct source src;
  if (source_load(ord_db_read(r), ord_param_int(r, "id"), &src) != 0 || !src.active) {
    free(src.secret);
    return ord_error(r, 404, "not_found", "no such order source");
  }
  const char *body;
  size_t len;
  int rc = ord_body_raw(r, &body, &len);
  if (rc) { free(src.secret); return rc; }
  if (!strcmp(src.kind, "ikas") || !strcmp(src.kind, "ideasoft")) {   /* platform_ikas.c, platform_ideasoft.c */
    rc = !strcmp(src.kind, "ikas") ? ord_webhook_ikas(r, src.id, src.secret, body, len)
                                   : ord_webhook_ideasoft(r, src.id, src.secret, body, len);
    free(src.secret);
    return rc;
  }
  int shopify = !strcmp(src.kind, "shopify");
  const char *sig = ord_header(r, shopify ? "X-Shopify-Hmac-Sha256" : "X-WC-Webhook-Signature");
  const char *topic = ord_header(r, shopify ? "X-Shopify-Topic" : "X-WC-Webhook-Topic");
  if (!shopify && (!sig || !*sig) && len >= 11 && !strncmp(body, "webhook_id=", 11)) {
    /* WooCommerce's ping when a webhook is saved: unsigned, form-encoded, and it needs exactly 200. */
    free(src.secret);
    char detail[80];
    snprintf(detail, sizeof detail, "%.*s", (int)(len < 60 ? len : 60), body);
    log_in(r, src.id, "ping", NULL, "ping", detail, NULL);
    return answer(r, "ping", NULL, NULL);
  }
  int ok = signature_ok(sig, src.secret, body, len);
  free(src.secret);
  if (!ok) {
    log_refused(r, src.id, topic, sig && *sig ? "bad signature" : "no signature");
    return ord_error(r, 401, "bad_signature", "the delivery's signature is missing or wrong");
  }
  cJSON *payload = cJSON_ParseWithLength(body, len);
  if (!cJSON_IsObject(payload)) {
    cJSON_Delete(payload);
    log_refused(r, src.id, topic, "the body is not a JSON object");
    return ord_error(r, 400, "invalid_json", "the body is not a JSON object");
  }
  char key[200] = "", t[64];
  snprintf(t, sizeof t, "%s", topic && *topic ? topic : shopify ? "orders/updated" : "order.updated");
  if (shopify) {
    const char *ev = ord_header(r, "X-Shopify-Event-Id"), *wid = ord_header(r, "X-Shopify-Webhook-Id");
    if (ev && *ev) snprintf(key, sizeof key, "%s:event:%.120s", t, ev);
    else if (wid && *wid) snprintf(key, sizeof key, "%s:webhook:%.120s", t, wid);
    static const char *const topics[] = { "orders/create", "orders/updated", "orders/cancelled", "orders/fulfilled",
                                          "orders/paid", "orders/partially_fulfilled", "fulfillments/create",
                                          "fulfillments/update", NULL };
    int handled = 0;
    for (int i = 0; topics[i]; i++) handled |= !strcmp(t, topics[i]);
    if (!handled) {
      cJSON_Delete(payload);
      log_in(r, src.id, t, NULL, "failed", "topic not handled", NULL);
      return answer(r, "failed", NULL, "topic not handled");
    }
  } else {
    if (strcmp(t, "order.created") && strcmp(t, "order.updated") && strcmp(t, "order.restored")) {
      cJSON_Delete(payload);
      log_in(r, src.id, t, NULL, "failed", "topic not handled", NULL);
      return answer(r, "failed", NULL, "topic not handled");
    }
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(payload, "id");
    const char *mod = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(payload, "date_modified_gmt"));
    if (cJSON_IsNumber(id) && mod) snprintf(key, sizeof key, "order:%.0f:%.40s", id->valuedouble, mod);
  }
  rc = deliver(r, &src, t, key[0] ? key : NULL, payload);
  cJSON_Delete(payload);
  return rc;
}

/* For the receivers of platform_ikas.c and platform_ideasoft.c. */
int ord_src_log(struct destek_req *r, int64_t source_id, const char *topic, const char *key, const char *outcome,
                const char *detail, const char *number)
{
  return log_in(r, source_id, topic, key, outcome, detail, number);
}
void ord_src_refused(struct destek_req *r, int64_t source_id, const char *topic, const char *detail)
{
  log_refused(r, source_id, topic, detail);
}
int ord_src_answer(struct destek_req *r, const char *outcome, const char *number, const char *detail)
{
  return answer(r, outcome, number, detail);
}
int ord_src_signature_ok(const char *b64, const char *secret, const char *body, size_t len)
{
  return signature_ok(b64, secret, body, len);
}
int ord_src_deliver(struct destek_req *r, int64_t source_id, const char *kind, const char *topic, const char *key,
                    const cJSON *order)
{
  struct source s = { .id = source_id };
  snprintf(s.kind, sizeof s.kind, "%s", kind);
  return deliver(r, &s, topic, key, order);
}

/* ------------------------------------------------------------------------------------------------ admin API */

static void add_text(cJSON *o, const char *name, sqlite3_stmt *st, int col)
{
  if (sqlite3_column_type(st, col) == SQLITE_NULL) cJSON_AddNullToObject(o, name);
  else cJSON_AddStringToObject(o, name, (const char *)sqlite3_column_text(st, col));
}

/* A source as admins see it: never its secrets, only whether they are set; and the URL to give the shop. */
static cJSON *source_json(struct destek_db *db, int64_t id)
{
  sqlite3_stmt *st = ord_db_prepare(db,
    "SELECT id, kind, name, api_url, poll_minutes, poll_cursor, polled_at, poll_error, active, created_at, updated_at,"
    " webhook_secret <> '', coalesce(api_key, '') <> '' AND coalesce(api_secret, '') <> '', poll_page, oauth_client_id,"
    " coalesce(oauth_refresh_token, '') <> '', oauth_refreshed_at FROM orders_sources WHERE id = ?1");
  if (!st) return NULL;
  ord_db_bind(st, "i", id);
  cJSON *o = NULL;
  if (sqlite3_step(st) == SQLITE_ROW) {
    o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)id);
    add_text(o, "kind", st, 1);
    add_text(o, "name", st, 2);
    add_text(o, "api_url", st, 3);
    cJSON_AddNumberToObject(o, "poll_minutes", sqlite3_column_int(st, 4));
    add_text(o, "poll_cursor", st, 5);
    add_text(o, "polled_at", st, 6);
    add_text(o, "poll_error", st, 7);
    cJSON_AddBoolToObject(o, "active", sqlite3_column_int(st, 8));
    add_text(o, "created_at", st, 9);
    add_text(o, "updated_at", st, 10);
    cJSON_AddBoolToObject(o, "has_webhook_secret", sqlite3_column_int(st, 11));
    cJSON_AddBoolToObject(o, "has_api_credentials", sqlite3_column_int(st, 12));
    cJSON_AddNumberToObject(o, "poll_page", sqlite3_column_int(st, 13));   /* > 1: a sweep goes on from there */
    if (!strcmp((const char *)sqlite3_column_text(st, 1), "ideasoft")) {   /* the access token's renewal */
      add_text(o, "client_id", st, 14);
      cJSON_AddBoolToObject(o, "has_refresh_token", sqlite3_column_int(st, 15));
      add_text(o, "token_refreshed_at", st, 16);
    }
    char path[80];
    snprintf(path, sizeof path, "/api/v1/order-sources/%lld/webhook", (long long)id);
    char *url = NULL;
    if (asprintf(&url, "%s%s", ord_base_url(), path) < 0) abort();
    cJSON_AddStringToObject(o, "webhook_url", url);
    free(url);
  }
  ord_db_done(st);
  return o;
}

/* The members of a source's body; for a new one, kind, name and webhook_secret are required. */
struct source_in {
  const char *kind, *name, *secret, *api_url, *api_key, *api_secret, *client_id, *refresh_token;
  int64_t poll;
  int active;
};

static int source_read(struct destek_req *r, const cJSON *b, int create, struct source_in *in)
{
  int rc;
  memset(in, 0, sizeof *in);
  in->poll = -1;
  if ((create && (rc = ord_field_enum(r, b, "kind", DESTEK_REQUIRED, KINDS, &in->kind))) ||
      (rc = ord_field_str(r, b, "name", create, 100, &in->name)) ||
      (rc = ord_field_str(r, b, "webhook_secret", create, 200, &in->secret)) ||
      (rc = ord_field_str(r, b, "api_url", DESTEK_OPTIONAL, 300, &in->api_url)) ||
      (rc = ord_field_str(r, b, "api_key", DESTEK_OPTIONAL, 200, &in->api_key)) ||
      (rc = ord_field_str(r, b, "api_secret", DESTEK_OPTIONAL, 200, &in->api_secret)) ||
      (rc = ord_field_str(r, b, "client_id", DESTEK_OPTIONAL, 200, &in->client_id)) ||
      (rc = ord_field_str(r, b, "refresh_token", DESTEK_OPTIONAL, 1000, &in->refresh_token)) ||
      (rc = ord_field_bool(r, b, "active", DESTEK_OPTIONAL, &in->active)))
    return rc;
  if (!create && cJSON_GetObjectItemCaseSensitive(b, "kind"))
    return ord_field_error(r, "invalid_field", "kind", "a source's kind cannot change");
  if (in->api_url && strncmp(in->api_url, "https://", 8) && strncmp(in->api_url, "http://", 7))
    return ord_field_error(r, "invalid_field", "api_url", "api_url must be the shop's http(s) address");
  const cJSON *p = cJSON_GetObjectItemCaseSensitive(b, "poll_minutes");
  if (p) {
    if (!cJSON_IsNumber(p) || p->valuedouble != (double)(int)p->valuedouble || p->valuedouble < 0 ||
        p->valuedouble > 1440)
      return ord_field_error(r, "invalid_field", "poll_minutes", "poll_minutes must be 0 (off) to 1440");
    in->poll = (int64_t)p->valuedouble;
  }
  return 0;
}

static int source_create(struct destek_req *r)
{
  cJSON *b;
  int rc = ord_body(r, &b);
  if (rc) return rc;
  struct source_in in;
  if ((rc = source_read(r, b, 1, &in))) return rc;
  if (in.poll > 0 && strcmp(in.kind, "woocommerce"))
    return ord_field_error(r, "invalid_field", "poll_minutes", "only WooCommerce sources are polled");
  if (in.poll > 0 && (!in.api_url || !in.api_key || !in.api_secret))
    return ord_field_error(r, "missing_field", "api_url", "polling needs api_url, api_key and api_secret");
  if (!strcmp(in.kind, "ideasoft") && (!in.api_url || !in.api_key))   /* the receiver fetches the whole order */
    return ord_field_error(r, "missing_field", !in.api_url ? "api_url" : "api_key",
                           "an IdeaSoft source needs api_url (the shop's address) and api_key (an Admin API token)");
  struct destek_db *w = ord_db_write(r);
  if (!w) return ord_status(r);
  char now[21];
  ord_now(now);
  if ((in.client_id || in.refresh_token) && strcmp(in.kind, "ideasoft"))
    return ord_field_error(r, "invalid_field", in.client_id ? "client_id" : "refresh_token",
                           "client_id and refresh_token are for IdeaSoft sources");
  if (ord_db_exec(w, "INSERT INTO orders_sources(kind, name, webhook_secret, api_url, api_key, api_secret,"
                     " poll_minutes, active, created_at, updated_at, oauth_client_id, oauth_refresh_token)"
                     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10, ?11)",
                  "tttttt" "iit" "tt", in.kind, in.name, in.secret, in.api_url, in.api_key, in.api_secret,
                  in.poll > 0 ? in.poll : (int64_t)0, (int64_t)(in.active != 0), now, in.client_id,
                  in.refresh_token) != SQLITE_OK)
    return ord_error(r, 500, "internal", "the source could not be saved");
  int64_t id = ord_db_last_id(w);
  char target[40];
  snprintf(target, sizeof target, "order_source:%lld", (long long)id);
  cJSON *detail = cJSON_CreateObject();
  cJSON_AddStringToObject(detail, "kind", in.kind);
  cJSON_AddStringToObject(detail, "name", in.name);
  ord_audit(r, "orders.source_created", target, detail);
  return ord_reply_json(r, 201, source_json(w, id));
}

static int source_update(struct destek_req *r)
{
  cJSON *b;
  int rc = ord_body(r, &b);
  if (rc) return rc;
  struct source_in in;
  if ((rc = source_read(r, b, 0, &in))) return rc;
  int64_t id = ord_param_int(r, "id");
  struct destek_db *w = ord_db_write(r);
  if (!w) return ord_status(r);
  char now[21];
  ord_now(now);
  int64_t poll = in.poll, active = in.active;
  if (ord_db_exec(w, "UPDATE orders_sources SET name = coalesce(?2, name), webhook_secret = coalesce(?3, webhook_secret),"
                     " api_url = coalesce(?4, api_url), api_key = coalesce(?5, api_key),"
                     " api_secret = coalesce(?6, api_secret), poll_minutes = CASE WHEN ?7 < 0 THEN poll_minutes ELSE ?7 END,"
                     " active = CASE WHEN ?8 < 0 THEN active ELSE ?8 END, updated_at = ?9,"
                     " oauth_client_id = coalesce(?10, oauth_client_id),"
                     " oauth_refresh_token = coalesce(?11, oauth_refresh_token) WHERE id = ?1",
                  "itttttiit" "tt", id, in.name, in.secret, in.api_url, in.api_key, in.api_secret, poll, active, now,
                  in.client_id, in.refresh_token)
      != SQLITE_OK)
    return ord_error(r, 500, "internal", "the source could not be saved");
  if (!ord_db_changes(w)) return ord_error(r, 404, "not_found", "no such order source");
  if ((in.client_id || in.refresh_token) &&
      ord_db_int(w, 0, "SELECT count(*) FROM orders_sources WHERE id = ?1 AND kind <> 'ideasoft'", "i", id))
    return ord_field_error(r, "invalid_field", in.client_id ? "client_id" : "refresh_token",
                           "client_id and refresh_token are for IdeaSoft sources");
  if (ord_db_int(w, 0, "SELECT count(*) FROM orders_sources WHERE id = ?1 AND poll_minutes > 0 AND (kind <> 'woocommerce'"
                       " OR coalesce(api_url, '') = '' OR coalesce(api_key, '') = '' OR coalesce(api_secret, '') = '')",
                 "i", id))
    return ord_field_error(r, "invalid_field", "poll_minutes",
                           "polling needs a WooCommerce source with api_url, api_key and api_secret");
  char target[40];
  snprintf(target, sizeof target, "order_source:%lld", (long long)id);
  cJSON *detail = cJSON_CreateObject();
  cJSON *k = cJSON_AddArrayToObject(detail, "changed");
  const cJSON *m;
  cJSON_ArrayForEach(m, b) cJSON_AddItemToArray(k, cJSON_CreateString(m->string));  /* names only, never values */
  ord_audit(r, "orders.source_changed", target, detail);
  return ord_reply_json(r, 200, source_json(w, id));
}

static int source_get(struct destek_req *r)
{
  cJSON *o = source_json(ord_db_read(r), ord_param_int(r, "id"));
  return o ? ord_reply_json(r, 200, o) : ord_error(r, 404, "not_found", "no such order source");
}

static int source_list(struct destek_req *r)
{
  struct destek_db *db = ord_db_read(r);
  sqlite3_stmt *st = ord_db_prepare(db, "SELECT id FROM orders_sources ORDER BY id LIMIT 200");
  if (!st) return ord_error(r, 500, "internal", "the sources could not be read");
  int64_t ids[200];
  int n = 0;
  while (n < 200 && sqlite3_step(st) == SQLITE_ROW) ids[n++] = sqlite3_column_int64(st, 0);
  ord_db_done(st);
  cJSON *items = cJSON_CreateArray();
  for (int i = 0; i < n; i++) {
    cJSON *o = source_json(db, ids[i]);
    if (o) cJSON_AddItemToArray(items, o);
  }
  return ord_reply_json(r, 200, ord_list_new(items, 0));
}

/* DELETE /api/v1/order-sources/{id}: a shop set up by mistake, or never used, goes with its delivery log (ids may be
 * taken again, and a new source must not inherit old dedupe keys). One whose orders are stored stays (they name it):
 * 409 source_in_use; switching it off (active: false) refuses its deliveries instead. */
static int source_delete(struct destek_req *r)
{
  int64_t id = ord_param_int(r, "id");
  struct destek_db *w = ord_db_write(r);
  if (!w) return ord_status(r);
  char *name = ord_db_text_new(w, "SELECT name FROM orders_sources WHERE id = ?1", "i", id);
  if (!name) return ord_error(r, 404, "not_found", "no such order source");
  if (ord_db_int(w, 0, "SELECT EXISTS (SELECT 1 FROM orders_orders WHERE source_id = ?1)", "i", id)) {
    free(name);
    return ord_error(r, 409, "source_in_use", "orders from this shop are stored; switch it off instead");
  }
  if (ord_db_exec(w, "DELETE FROM orders_deliveries WHERE source_id = ?1", "i", id) != SQLITE_OK ||
      ord_db_exec(w, "DELETE FROM orders_sources WHERE id = ?1", "i", id) != SQLITE_OK) {
    free(name);
    return ord_error(r, 500, "internal", "the source could not be deleted");
  }
  char target[40];
  snprintf(target, sizeof target, "order_source:%lld", (long long)id);
  cJSON *detail = cJSON_CreateObject();
  cJSON_AddStringToObject(detail, "name", name);
  free(name);
  ord_audit(r, "orders.source_deleted", target, detail);
  return ord_reply_empty(r, 204);
}

/* POST /api/v1/order-sources/{id}/poll: polls a WooCommerce source now (what the schedule does). */
static int source_poll(struct destek_req *r)
{
  int64_t id = ord_param_int(r, "id");
  struct destek_db *db = ord_db_read(r);
  char *kind = ord_db_text_new(db, "SELECT kind FROM orders_sources WHERE id = ?1", "i", id);
  if (!kind) return ord_error(r, 404, "not_found", "no such order source");
  int woo = !strcmp(kind, "woocommerce");
  free(kind);
  if (!woo) return ord_error(r, 422, "not_pollable", "only WooCommerce sources are polled");
  char err[300] = "";
  int kept = ord_poll_source(id, err, sizeof err);
  if (kept < 0) return ord_error(r, 502, "poll_failed", "%s", err);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "orders", kept);
  cJSON_AddItemToObject(o, "source", source_json(ord_db_read(r), id));
  return ord_reply_json(r, 200, o);
}

/* GET /api/v1/order-deliveries?source_id=&outcome=: newest first. */
static int delivery_list(struct destek_req *r)
{
  int limit;
  int64_t after;
  int rc = ord_page(r, &limit, &after);
  if (rc) return rc;
  char src[24] = "", outcome[16] = "";
  ord_query_get(r, "source_id", src, sizeof src);
  ord_query_get(r, "outcome", outcome, sizeof outcome);
  static const char *const outcomes[] = { "kept", "failed", "duplicate", "stale", "ping", NULL };
  int ok = !outcome[0];
  for (int i = 0; outcomes[i]; i++) ok |= !strcmp(outcome, outcomes[i]);
  if (!ok) return ord_field_error(r, "invalid_field", "outcome", "outcome must be kept, failed, duplicate, stale or ping");
  char *end = NULL;
  int64_t source_id = src[0] ? strtoll(src, &end, 10) : 0;
  if (src[0] && (*end || source_id < 1)) return ord_field_error(r, "invalid_field", "source_id", "source_id must be an id");
  struct destek_db *db = ord_db_read(r);
  sqlite3_stmt *st = ord_db_prepare(db,
    "SELECT id, source_id, topic, dedupe_key, outcome, detail, order_number, received_at FROM orders_deliveries"
    " WHERE (?1 = 0 OR id < ?1) AND (?2 = 0 OR source_id = ?2) AND (?3 = '' OR outcome = ?3) ORDER BY id DESC LIMIT ?4");
  if (!st) return ord_error(r, 500, "internal", "the deliveries could not be read");
  ord_db_bind(st, "iiti", after, source_id, outcome, (int64_t)limit);
  cJSON *items = cJSON_CreateArray();
  int n = 0;
  int64_t last = 0;
  while (sqlite3_step(st) == SQLITE_ROW) {
    cJSON *d = cJSON_CreateObject();
    last = sqlite3_column_int64(st, 0);
    cJSON_AddNumberToObject(d, "id", (double)last);
    cJSON_AddNumberToObject(d, "source_id", (double)sqlite3_column_int64(st, 1));
    add_text(d, "topic", st, 2);
    add_text(d, "dedupe_key", st, 3);
    add_text(d, "outcome", st, 4);
    add_text(d, "detail", st, 5);
    add_text(d, "order_number", st, 6);
    add_text(d, "received_at", st, 7);
    cJSON_AddItemToArray(items, d);
    n++;
  }
  ord_db_done(st);
  return ord_reply_json(r, 200, ord_list_new(items, n == limit ? last : 0));
}

const struct destek_route ord_source_routes[] = {
  { "POST",  "/api/v1/order-sources",              source_create, DESTEK_ADMIN,  NULL },
  { "GET",   "/api/v1/order-sources",              source_list,   DESTEK_ADMIN,  NULL },
  { "GET",   "/api/v1/order-sources/{id}",         source_get,    DESTEK_ADMIN,  "id:int" },
  { "PATCH", "/api/v1/order-sources/{id}",         source_update, DESTEK_ADMIN,  "id:int" },
  { "DELETE", "/api/v1/order-sources/{id}",        source_delete, DESTEK_ADMIN,  "id:int" },
  { "POST",  "/api/v1/order-sources/{id}/poll",    source_poll,   DESTEK_ADMIN,  "id:int" },
  { "POST",  "/api/v1/order-sources/{id}/webhook", webhook,       DESTEK_PUBLIC, "id:int", 4 * 1024 * 1024 },
  { "GET",   "/api/v1/order-deliveries",           delivery_list, DESTEK_ADMIN,  NULL },
  { 0 }
};

/* ------------------------------------------------------------------------------------------------ polling */

#define POLL_PAGE 50
#define POLL_MAX_PAGES 20
#define POLL_MAX_SECONDS 45   /* a run stops paging after this (the job thread runs the bus and other timers too) */

/* Records where a poll stopped, in a call of its own: the cursor moves only when a sweep completed. */
static void poll_record(int64_t source_id, const char *cursor, int64_t page, const char *sweep_start, const char *error)
{
  struct destek_req *c = ord_call_new();
  struct destek_db *w = ord_db_write(c);
  char now[21];
  ord_now(now);
  int ok = w && ord_db_exec(w, "UPDATE orders_sources SET poll_cursor = coalesce(?2, poll_cursor), poll_page = ?3,"
                               " poll_sweep_start = ?4, polled_at = ?5, poll_error = ?6 WHERE id = ?1",
                            "itit" "tt", source_id, cursor, page, sweep_start, now, error) == SQLITE_OK;
  ord_call_end(c, ok);
}

/* The response's Date header (the shop's clock) as ISO UTC into out; 0, or -1 when it has none. */
static int response_date(const char *headers, char out[21])
{
  for (const char *p = headers; p && *p;) {
    const char *eol = strchr(p, '\n');
    size_t n = eol ? (size_t)(eol - p) : strlen(p);
    if (n > 5 && !strncasecmp(p, "Date:", 5)) {
      char line[80];
      snprintf(line, sizeof line, "%.*s", (int)(n - 5 < 79 ? n - 5 : 79), p + 5);
      struct tm tm = { 0 };
      const char *v = line;
      while (*v == ' ') v++;
      if (strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm)) {
        util_iso_time(timegm(&tm), out);
        return 0;
      }
    }
    p += n + (eol != NULL);
  }
  return -1;
}

/* One failed order of a poll, logged for the admin in a call of its own. */
static void poll_failed(int64_t source_id, const char *number, const char *detail)
{
  struct destek_req *c = ord_call_new();
  int ok = log_in(c, source_id, "poll", NULL, "failed", detail, number) == 0;
  ord_call_end(c, ok);
}

/* A sweep asks for every order modified after the cursor, page by page (by creation date; core WooCommerce cannot
 * order by modification), at most POLL_MAX_PAGES pages or POLL_MAX_SECONDS per run; a longer sweep goes on from its
 * page at the next run. The cursor moves only when a sweep is complete, and then to the shop's clock when it began
 * (its first answer's Date, less a minute): an order changed while the sweep ran, on a page already passed, is newer
 * than that and is taken by the next sweep. Without a Date header, the newest modification the sweep saw. Orders
 * seen twice change nothing (the upsert). */
int ord_poll_source(int64_t source_id, char *err, size_t errlen)
{
  struct destek_db *db = ord_db_read(NULL);
  sqlite3_stmt *st = db ? ord_db_prepare(db, "SELECT api_url, api_key, api_secret, poll_cursor, poll_page,"
                                             " poll_sweep_start FROM orders_sources WHERE id = ?1 AND kind = 'woocommerce'")
                        : NULL;
  if (!st) { snprintf(err, errlen, "the source could not be read"); return -1; }
  ord_db_bind(st, "i", source_id);
  char *base = NULL, *key = NULL, *secret = NULL, cursor[21] = "", sweep_start[21] = "";
  int64_t page = 1;
  if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL &&
      sqlite3_column_type(st, 1) != SQLITE_NULL && sqlite3_column_type(st, 2) != SQLITE_NULL) {
    base = strdup((const char *)sqlite3_column_text(st, 0));
    key = strdup((const char *)sqlite3_column_text(st, 1));
    secret = strdup((const char *)sqlite3_column_text(st, 2));
    if (sqlite3_column_type(st, 3) != SQLITE_NULL)
      snprintf(cursor, sizeof cursor, "%s", (const char *)sqlite3_column_text(st, 3));
    page = sqlite3_column_int64(st, 4);
    if (sqlite3_column_type(st, 5) != SQLITE_NULL)
      snprintf(sweep_start, sizeof sweep_start, "%s", (const char *)sqlite3_column_text(st, 5));
  }
  ord_db_done(st);
  if (!base) {
    free(key); free(secret);
    snprintf(err, errlen, "the source has no api_url, api_key and api_secret");
    return -1;
  }
  if (page < 1) page = 1;
  size_t bl = strlen(base);
  while (bl && base[bl - 1] == '/') base[--bl] = 0;
  /* HTTP Basic with the consumer key and secret (WooCommerce REST over HTTPS). */
  char *pair = NULL, *auth = NULL;
  if (asprintf(&pair, "%s:%s", key, secret) < 0) abort();
  char *b64 = malloc(util_b64_len(strlen(pair)) + 1);
  if (!b64) abort();
  util_b64_encode(pair, strlen(pair), b64);
  if (asprintf(&auth, "Authorization: Basic %s", b64) < 0) abort();
  free(pair); free(b64); free(key); free(secret);
  /* modified_after is exclusive: from a second before the cursor. GMT (dates_are_gmt), without the Z. */
  char since[32] = "";
  if (cursor[0]) {
    struct tm tm = { 0 };
    if (strptime(cursor, "%Y-%m-%dT%H:%M:%SZ", &tm)) {
      time_t t = timegm(&tm) - 1;
      gmtime_r(&t, &tm);
      strftime(since, sizeof since, "%Y-%m-%dT%H:%M:%S", &tm);
    }
  }
  char newest[21] = "";
  int kept = 0, complete = 0;
  err[0] = 0;
  int64_t last = page + POLL_MAX_PAGES;
  double started = util_mono();
  for (; page < last && util_mono() - started < POLL_MAX_SECONDS; page++) {
    char *url = NULL;
    if (asprintf(&url, "%s/wp-json/wc/v3/orders?per_page=%d&page=%lld&orderby=date&order=asc&dates_are_gmt=true%s%s",
                 base, POLL_PAGE, (long long)page, since[0] ? "&modified_after=" : "", since) < 0)
      abort();
    const char *headers[] = { auth, "Accept: application/json", NULL };
    struct destek_http_request req = { .method = "GET", .url = url, .headers = headers, .timeout_ms = 20000,
                                       .max_response = 8 * 1024 * 1024 };
    struct destek_http_response resp = { 0 };
    char herr[200] = "";
    int hrc = ord_http_request(&req, &resp, herr, sizeof herr);
    free(url);
    cJSON *list = hrc == 0 && resp.status == 200 ? cJSON_ParseWithLength(resp.body, resp.body_len) : NULL;
    if (!cJSON_IsArray(list)) {
      if (hrc != 0) snprintf(err, errlen, "%s", herr);
      else if (resp.status != 200) snprintf(err, errlen, "the shop answered HTTP %ld", resp.status);
      else snprintf(err, errlen, "the shop's answer is not a list of orders");
      cJSON_Delete(list);
      ord_http_response_free(&resp);
      break;                       /* the sweep goes on from this page next time */
    }
    if (!sweep_start[0]) {
      char date[21];
      if (response_date(resp.headers, date) == 0) {
        struct tm tm = { 0 };
        strptime(date, "%Y-%m-%dT%H:%M:%SZ", &tm);
        util_iso_time(timegm(&tm) - 60, sweep_start);
      } else {
        snprintf(sweep_start, sizeof sweep_start, "-");   /* no Date: the newest modification seen */
      }
    }
    ord_http_response_free(&resp);
    int n = 0;
    const cJSON *wc;
    cJSON_ArrayForEach(wc, list) {
      n++;
      char e[200] = "";
      cJSON *canon = ord_from_woocommerce(wc, e, sizeof e);
      if (!canon) { poll_failed(source_id, NULL, e); continue; }
      const char *mod = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(canon, "updated_at"));
      const char *num = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(canon, "number"));
      char mod_utc[21] = "";
      if (mod) ord_time_utc(mod, mod_utc);
      struct destek_req *c = ord_call_new();
      enum ord_outcome outcome;
      int64_t id;
      int rc = ord_upsert(c, "woocommerce", source_id, canon, &outcome, &id);
      char detail[300] = "";
      if (rc) {
        cJSON *eo = ord_error_object(c);
        snprintf(detail, sizeof detail, "%s", eo ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(eo, "message")) : "");
      } else if (outcome == ORD_CREATED || outcome == ORD_UPDATED) {
        /* logged as a webhook's delivery is, without the key: that change's webhook may still come */
        rc = log_in(c, source_id, "poll", NULL, "kept", outcome == ORD_CREATED ? "created" : "updated", num) ? 500 : 0;
        if (rc == 0) kept++;
      }
      if (ord_call_end(c, rc == 0) != 0 && rc == 0) { rc = 500; snprintf(detail, sizeof detail, "not saved"); }
      if (rc) poll_failed(source_id, num, detail);
      if (mod_utc[0] && strcmp(mod_utc, newest) > 0) memcpy(newest, mod_utc, sizeof newest);
      cJSON_Delete(canon);
    }
    cJSON_Delete(list);
    if (n < POLL_PAGE) { complete = 1; break; }
  }
  free(auth);
  free(base);
  if (complete) {
    const char *next = strcmp(sweep_start, "-") ? sweep_start : newest[0] ? newest : NULL;
    poll_record(source_id, next, 1, NULL, NULL);
  } else {
    poll_record(source_id, NULL, page, sweep_start[0] ? sweep_start : NULL, err[0] ? err : NULL);
  }
  if (err[0] && !kept) return -1;
  return kept;
}

/* The schedule: every minute, each active WooCommerce source whose poll_minutes have passed since its last poll. */
static int poll_job(struct destek_req *call, void *ud)
{
  (void)ud;
  struct destek_db *db = ord_db_read(call);
  sqlite3_stmt *st = db ? ord_db_prepare(db,
    "SELECT id FROM orders_sources WHERE active = 1 AND kind = 'woocommerce' AND poll_minutes > 0 AND"
    " (polled_at IS NULL OR strftime('%s', polled_at) + poll_minutes * 60 <= strftime('%s', 'now')) ORDER BY id LIMIT 50")
    : NULL;
  if (!st) return 0;
  int64_t ids[50];
  int n = 0;
  while (n < 50 && sqlite3_step(st) == SQLITE_ROW) ids[n++] = sqlite3_column_int64(st, 0);
  ord_db_done(st);
  for (int i = 0; i < n; i++) {
    char err[300];
    if (ord_poll_source(ids[i], err, sizeof err) < 0)
      ord_log(DESTEK_LOG_WARN, "polling order source %lld failed: %s", (long long)ids[i], err);
  }
  /* The delivery log keeps orders.delivery_log_days (after the network work: the writer never waits on it). Shopify
   * retries for 4 hours and WooCommerce not at all, so dedupe keys far older than that are not needed. */
  static time_t pruned;   /* the job thread's alone */
  long days = ord_setting_int("orders.delivery_log_days", 90);
  if (time(NULL) - pruned < 3600) return 0;
  pruned = time(NULL);
  char modifier[32];
  snprintf(modifier, sizeof modifier, "-%ld days", days);
  struct destek_db *w = days > 0 ? ord_db_write(call) : NULL;
  if (w) ord_db_exec(w, "DELETE FROM orders_deliveries WHERE received_at < strftime('%Y-%m-%dT%H:%M:%SZ', 'now', ?1)",
                     "t", modifier);
  return 0;
}

int ord_poll_init(const struct destek_host *h)
{
  return h->every(h, "orders.poll", 60, poll_job, NULL);
}
