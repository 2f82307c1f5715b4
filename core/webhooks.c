/* Webhooks: admins register URLs for events; the bus delivers each matching event to each as a signed POST.
 *
 * A webhook is a bus sink target named "webhook:<id>". When an event is emitted, targets() picks the active
 * webhooks whose patterns match its name, and the bus writes one core_deliveries row per webhook in the emitting
 * transaction; the bus thread then calls deliver(), retries with backoff and dead-letters after the limit. So the
 * deliveries API here is a view of core_deliveries, and a retry is bus_retry.
 *
 * The body is {"id","event","subject","payload","created_at","delivery","attempt"}; the receiver checks
 * X-Destek-Signature = "sha256=" + hex HMAC-SHA256(secret, the body's exact bytes) and can drop duplicates by
 * X-Destek-Delivery, which is the same on every attempt (delivery is at least once). */
#include "webhooks.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "bus.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "net.h"
#include "util.h"

#define WEBHOOK_PREFIX "webhook:"
#define WEBHOOK_URL_MAX 2048
#define WEBHOOK_SECRET_MAX 256
#define WEBHOOK_DESCRIPTION_MAX 500
#define WEBHOOK_EVENTS_MAX 50
#define WEBHOOK_PATTERN_MAX 100
#define WEBHOOK_TIMEOUT_MS 10000L
#define WEBHOOK_RESPONSE_KEPT 4096   /* of the receiver's answer, for the error text */

/* ------------------------------------------------------------------------------------------------ JSON */

#define WEBHOOK_COLUMNS "id, url, events, description, active, created_at, updated_at, secret <> ''"

static cJSON *webhook_json(sqlite3_stmt *st)
{
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(st, 0));
  cJSON_AddStringToObject(o, "url", (const char *)sqlite3_column_text(st, 1));
  cJSON *ev = cJSON_Parse((const char *)sqlite3_column_text(st, 2));
  cJSON_AddItemToObject(o, "events", ev ? ev : cJSON_CreateArray());
  cJSON_AddStringToObject(o, "description", (const char *)sqlite3_column_text(st, 3));
  cJSON_AddBoolToObject(o, "active", sqlite3_column_int(st, 4));
  cJSON_AddBoolToObject(o, "has_secret", sqlite3_column_int(st, 7));
  cJSON_AddStringToObject(o, "created_at", (const char *)sqlite3_column_text(st, 5));
  cJSON_AddStringToObject(o, "updated_at", (const char *)sqlite3_column_text(st, 6));
  return o;
}

/* The webhook as JSON, read on db; NULL when there is none. */
static cJSON *webhook_load(struct db *db, int64_t id)
{
  sqlite3_stmt *st = db_prepare(db, "SELECT " WEBHOOK_COLUMNS " FROM core_webhooks WHERE id = ?1");
  if (!st) return NULL;
  db_bind(st, "i", id);
  cJSON *o = sqlite3_step(st) == SQLITE_ROW ? webhook_json(st) : NULL;
  db_done(st);
  return o;
}

static int webhook_exists(struct db *db, int64_t id)
{
  return db_int(db, 0, "SELECT count(*) FROM core_webhooks WHERE id = ?1", "i", id) > 0;
}

static void webhook_target(int64_t id, char *out, size_t outlen)
{
  snprintf(out, outlen, "webhook:%lld", (long long)id);
}

/* ------------------------------------------------------------------------------------------------ validation */

/* An event name or pattern: "*", or dot-separated segments of [a-z0-9_], the last of which may be "*"
 * ("ticket.*" matches every event whose name starts with "ticket."). */
static int pattern_valid(const char *p)
{
  size_t n = strlen(p);
  if (n == 0 || n > WEBHOOK_PATTERN_MAX) return 0;
  if (!strcmp(p, "*")) return 1;
  size_t seg = 0;
  for (size_t i = 0; i < n; i++) {
    char c = p[i];
    if (c == '.') {
      if (seg == 0) return 0;
      seg = 0;
    } else if (c == '*') {
      /* only as a whole last segment after at least one other */
      if (seg != 0 || i != n - 1 || i < 2) return 0;
      seg = 1;
    } else if (islower((unsigned char)c) || isdigit((unsigned char)c) || c == '_') {
      seg++;
    } else {
      return 0;
    }
  }
  return seg > 0;
}

/* Reads "events": a non-empty array of patterns. *out_json gets the cleaned array as text (caller frees with
 * cJSON_free), or NULL when absent and not required. Returns 0 or the 422 status it set up. */
static int field_events(struct destek_req *r, const cJSON *body, int required, char **out_json)
{
  *out_json = NULL;
  const cJSON *ev = cJSON_GetObjectItemCaseSensitive(body, "events");
  if (!ev || cJSON_IsNull(ev)) {
    if (!required) return 0;
    return http_field_error(r, "missing_field", "events", "events is required, e.g. [\"ticket.created\"] or [\"*\"]");
  }
  if (!cJSON_IsArray(ev) || cJSON_GetArraySize(ev) == 0)
    return http_field_error(r, "invalid_field", "events",
                            "events must be a non-empty array of event names or patterns such as \"ticket.*\"");
  if (cJSON_GetArraySize(ev) > WEBHOOK_EVENTS_MAX)
    return http_field_error(r, "invalid_field", "events", "at most %d event patterns per webhook", WEBHOOK_EVENTS_MAX);
  cJSON *clean = cJSON_CreateArray();
  for (const cJSON *e = ev->child; e; e = e->next) {
    if (!cJSON_IsString(e) || !pattern_valid(e->valuestring)) {
      cJSON_Delete(clean);
      return http_field_error(r, "invalid_field", "events",
                              "%s%s%s is not an event name or pattern (like \"ticket.created\", \"ticket.*\" or \"*\")",
                              cJSON_IsString(e) ? "\"" : "", cJSON_IsString(e) ? e->valuestring : "a non-string",
                              cJSON_IsString(e) ? "\"" : "");
    }
    int dup = 0;
    for (const cJSON *c = clean->child; c && !dup; c = c->next) dup = !strcmp(c->valuestring, e->valuestring);
    if (!dup) cJSON_AddItemToArray(clean, cJSON_CreateString(e->valuestring));
  }
  *out_json = cJSON_PrintUnformatted(clean);
  cJSON_Delete(clean);
  return 0;
}

static int field_url(struct destek_req *r, const cJSON *body, int required, const char **url)
{
  int rc = http_field_str(r, body, "url", required, WEBHOOK_URL_MAX, url);
  if (rc || !*url) return rc;
  char err[256];
  if (net_url_check(*url, err, sizeof err) != 0)
    return http_field_error(r, "invalid_field", "url", "url is not usable: %s", err);
  return 0;
}

/* ------------------------------------------------------------------------------------------------ handlers */

static int webhooks_list(struct destek_req *r)
{
  int limit;
  int64_t after;
  int rc = http_page(r, &limit, &after);
  if (rc) return rc;
  struct db *db = http_db(r);
  sqlite3_stmt *st = db ? db_prepare(db, "SELECT " WEBHOOK_COLUMNS " FROM core_webhooks WHERE id > ?1"
                                         " ORDER BY id LIMIT ?2") : NULL;
  if (!st) return http_error(r, 500, "internal", "internal error");
  db_bind(st, "ii", after, (int64_t)limit + 1);
  cJSON *items = cJSON_CreateArray();
  int n = 0;
  int64_t last = 0, next = 0;
  while (sqlite3_step(st) == SQLITE_ROW) {
    if (n == limit) { next = last; break; }
    last = sqlite3_column_int64(st, 0);
    cJSON_AddItemToArray(items, webhook_json(st));
    n++;
  }
  db_done(st);
  return http_reply_json(r, 200, http_list_new(items, next));
}

static int webhooks_get(struct destek_req *r)
{
  struct db *db = http_db(r);
  cJSON *o = db ? webhook_load(db, http_param_int(r, "id")) : NULL;
  if (!o) return http_error(r, 404, "not_found", "no such webhook");
  return http_reply_json(r, 200, o);
}

static int webhooks_create(struct destek_req *r)
{
  cJSON *body;
  const char *url, *secret, *description;
  int active, rc;
  if ((rc = http_body_object(r, &body)) || (rc = field_url(r, body, FIELD_REQUIRED, &url)) ||
      (rc = http_field_str(r, body, "secret", FIELD_OPTIONAL, WEBHOOK_SECRET_MAX, &secret)) ||
      (rc = http_field_str(r, body, "description", FIELD_OPTIONAL, WEBHOOK_DESCRIPTION_MAX, &description)) ||
      (rc = http_field_bool(r, body, "active", FIELD_OPTIONAL, &active)))
    return rc;
  char *events;
  if ((rc = field_events(r, body, FIELD_REQUIRED, &events))) return rc;
  char generated[64];
  if (!secret) {
    util_token(generated, 32);
    secret = generated;
  }
  char now[21];
  util_iso_time(time(NULL), now);
  struct db *w = http_tx(r);
  if (!w) { cJSON_free(events); return r->status; }
  rc = db_exec(w, "INSERT INTO core_webhooks(url, events, secret, description, active, created_at, updated_at)"
                  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
               "ttttit", url, events, secret, description ? description : "", (int64_t)(active != 0), now);
  if (rc != SQLITE_OK) { cJSON_free(events); return http_error(r, 500, "internal", "the webhook could not be saved"); }
  int64_t id = db_last_id(w);
  char target[32];
  webhook_target(id, target, sizeof target);
  cJSON *d = cJSON_CreateObject();
  cJSON_AddStringToObject(d, "url", url);
  cJSON_AddRawToObject(d, "events", events);
  cJSON_free(events);
  audit_log(w, r, "webhook.created", target, d);
  cJSON *o = webhook_load(w, id);
  if (!o) return http_error(r, 500, "internal", "the webhook could not be read back");
  /* the only time the secret is shown */
  cJSON_AddStringToObject(o, "secret", secret);
  return http_reply_json(r, 201, o);
}

static int webhooks_update(struct destek_req *r)
{
  int64_t id = http_param_int(r, "id");
  cJSON *body;
  const char *url, *secret, *description;
  int active, rc;
  if ((rc = http_body_object(r, &body)) || (rc = field_url(r, body, FIELD_OPTIONAL, &url)) ||
      (rc = http_field_str(r, body, "secret", FIELD_OPTIONAL, WEBHOOK_SECRET_MAX, &secret)) ||
      (rc = http_field_bool(r, body, "active", FIELD_OPTIONAL, &active)))
    return rc;
  /* description may be set to "" to clear it, which http_field_str refuses: read it by hand */
  const cJSON *dj = cJSON_GetObjectItemCaseSensitive(body, "description");
  description = NULL;
  if (cJSON_IsString(dj) && dj->valuestring[0] == 0) description = "";
  else if ((rc = http_field_str(r, body, "description", FIELD_OPTIONAL, WEBHOOK_DESCRIPTION_MAX, &description)))
    return rc;
  char *events;
  if ((rc = field_events(r, body, FIELD_OPTIONAL, &events))) return rc;
  struct db *w = http_tx(r);
  if (!w) { cJSON_free(events); return r->status; }
  if (!webhook_exists(w, id)) { cJSON_free(events); return http_error(r, 404, "not_found", "no such webhook"); }
  char now[21];
  util_iso_time(time(NULL), now);
  int64_t active64 = active;
  rc = db_exec(w, "UPDATE core_webhooks SET url = coalesce(?2, url), events = coalesce(?3, events),"
                  " secret = coalesce(?4, secret), description = coalesce(?5, description),"
                  " active = coalesce(?6, active), updated_at = ?7 WHERE id = ?1",
               "ittttIt", id, url, events, secret, description, active >= 0 ? &active64 : NULL, now);
  if (rc != SQLITE_OK) { cJSON_free(events); return http_error(r, 500, "internal", "the webhook could not be saved"); }
  char target[32];
  webhook_target(id, target, sizeof target);
  cJSON *d = cJSON_CreateObject();
  if (url) cJSON_AddStringToObject(d, "url", url);
  if (events) cJSON_AddRawToObject(d, "events", events);
  if (description) cJSON_AddStringToObject(d, "description", description);
  if (active >= 0) cJSON_AddBoolToObject(d, "active", active);
  if (secret) cJSON_AddBoolToObject(d, "secret_changed", 1);
  cJSON_free(events);
  audit_log(w, r, "webhook.updated", target, d);
  cJSON *o = webhook_load(w, id);
  if (!o) return http_error(r, 500, "internal", "the webhook could not be read back");
  return http_reply_json(r, 200, o);
}

static int webhooks_delete(struct destek_req *r)
{
  int64_t id = http_param_int(r, "id");
  struct db *w = http_tx(r);
  if (!w) return r->status;
  char *url = db_text_new(w, "SELECT url FROM core_webhooks WHERE id = ?1", "i", id);
  if (!url) return http_error(r, 404, "not_found", "no such webhook");
  char target[32], now[21];
  webhook_target(id, target, sizeof target);
  util_iso_time(time(NULL), now);
  int rc = db_exec(w, "DELETE FROM core_webhooks WHERE id = ?1", "i", id);
  /* what was still waiting has nowhere to go; the rows stay for the record (and the event log) */
  if (rc == SQLITE_OK)
    rc = db_exec(w, "UPDATE core_deliveries SET status = 'dead', last_error = 'the webhook was deleted',"
                    " updated_at = ?2 WHERE subscriber = ?1 AND status = 'pending'", "tt", target, now);
  if (rc != SQLITE_OK) { free(url); return http_error(r, 500, "internal", "the webhook could not be deleted"); }
  cJSON *d = cJSON_CreateObject();
  cJSON_AddStringToObject(d, "url", url);
  free(url);
  audit_log(w, r, "webhook.deleted", target, d);
  return http_reply_empty(r, 204);
}

static const char SQL_DELIVERIES_PAGE[] =
  "SELECT " BUS_DELIVERY_COLUMNS " FROM core_deliveries d JOIN core_outbox o ON o.id = d.event_id"
  " WHERE d.subscriber = ?1 AND (?2 = 0 OR d.id < ?2) AND (?3 IS NULL OR d.status = ?3)"
  " ORDER BY d.id DESC LIMIT ?4";

/* Newest first; the cursor is the last id of the page, and the next page holds smaller ids. */
static int webhooks_deliveries(struct destek_req *r)
{
  int64_t id = http_param_int(r, "id");
  int limit;
  int64_t before;
  int rc = http_page(r, &limit, &before);
  if (rc) return rc;
  char status[16];
  int has_status = http_query_get(r, "status", status, sizeof status);
  if (has_status && strcmp(status, "pending") && strcmp(status, "delivered") && strcmp(status, "dead"))
    return http_field_error(r, "invalid_field", "status", "status must be pending, delivered or dead");
  struct db *db = http_db(r);
  if (!db) return http_error(r, 500, "internal", "internal error");
  if (!webhook_exists(db, id)) return http_error(r, 404, "not_found", "no such webhook");
  char target[32];
  webhook_target(id, target, sizeof target);
  sqlite3_stmt *st = db_prepare(db, SQL_DELIVERIES_PAGE);
  if (!st) return http_error(r, 500, "internal", "internal error");
  db_bind(st, "titi", target, before, has_status ? status : NULL, (int64_t)limit + 1);
  cJSON *items = cJSON_CreateArray();
  int n = 0;
  int64_t last = 0, next = 0;
  while (sqlite3_step(st) == SQLITE_ROW) {
    if (n == limit) { next = last; break; }
    last = sqlite3_column_int64(st, 0);
    cJSON_AddItemToArray(items, bus_delivery_json(st));
    n++;
  }
  db_done(st);
  return http_reply_json(r, 200, http_list_new(items, next));
}

/* {delivery} is the delivery's id, or its uid (the X-Destek-Delivery a receiver saw). */
static int webhooks_delivery_retry(struct destek_req *r)
{
  int64_t id = http_param_int(r, "id");
  const char *which = http_param(r, "delivery");
  char target[32];
  webhook_target(id, target, sizeof target);
  struct db *w = http_tx(r);
  if (!w) return r->status;
  if (!webhook_exists(w, id)) return http_error(r, 404, "not_found", "no such webhook");
  int numeric = which && *which && strspn(which, "0123456789") == strlen(which) && strlen(which) < 19;
  int64_t delivery_id = numeric
    ? db_int(w, 0, "SELECT id FROM core_deliveries WHERE id = ?1 AND subscriber = ?2", "it",
             (int64_t)strtoll(which, NULL, 10), target)
    : db_int(w, 0, "SELECT id FROM core_deliveries WHERE uid = ?1 AND subscriber = ?2", "tt", which, target);
  if (delivery_id <= 0 || bus_retry(w, delivery_id) != 0)
    return http_error(r, 404, "not_found", "no such delivery for this webhook");
  r->emitted = 1;  /* wakes the bus after commit: the delivery is due now */
  sqlite3_stmt *st = db_prepare(w, "SELECT " BUS_DELIVERY_COLUMNS " FROM core_deliveries d JOIN core_outbox o"
                                   " ON o.id = d.event_id WHERE d.id = ?1");
  cJSON *o = NULL;
  if (st) {
    db_bind(st, "i", delivery_id);
    if (sqlite3_step(st) == SQLITE_ROW) o = bus_delivery_json(st);
    db_done(st);
  }
  if (!o) return http_error(r, 500, "internal", "the delivery could not be read back");
  cJSON *d = cJSON_CreateObject();
  cJSON_AddNumberToObject(d, "delivery_id", (double)delivery_id);
  cJSON *uid = cJSON_GetObjectItemCaseSensitive(o, "uid");
  if (cJSON_IsString(uid)) cJSON_AddStringToObject(d, "uid", uid->valuestring);
  audit_log(w, r, "webhook.delivery_retried", target, d);
  return http_reply_json(r, 202, o);
}

static const struct destek_route routes[] = {
  { "GET",    "/api/v1/webhooks",                                    webhooks_list,           DESTEK_ADMIN, NULL },
  { "POST",   "/api/v1/webhooks",                                    webhooks_create,         DESTEK_ADMIN, NULL },
  { "GET",    "/api/v1/webhooks/{id}",                               webhooks_get,            DESTEK_ADMIN, "id:int" },
  { "PATCH",  "/api/v1/webhooks/{id}",                               webhooks_update,         DESTEK_ADMIN, "id:int" },
  { "DELETE", "/api/v1/webhooks/{id}",                               webhooks_delete,         DESTEK_ADMIN, "id:int" },
  { "GET",    "/api/v1/webhooks/{id}/deliveries",                    webhooks_deliveries,     DESTEK_ADMIN, "id:int" },
  { "POST",   "/api/v1/webhooks/{id}/deliveries/{delivery}/retry",   webhooks_delivery_retry, DESTEK_ADMIN,
    "id:int delivery:text" },
  { 0 }
};

/* ------------------------------------------------------------------------------------------------ the sink */

/* Active webhooks whose patterns match event: the name itself, "*", or "prefix.*" for names under prefix. */
static const char SQL_TARGETS[] =
  "SELECT h.id FROM core_webhooks h WHERE h.active = 1 AND EXISTS ("
  "  SELECT 1 FROM json_each(h.events) e WHERE e.value = ?1 OR e.value = '*'"
  "    OR (substr(e.value, -2) = '.*' AND substr(?1, 1, length(e.value) - 1) = substr(e.value, 1, length(e.value) - 1)))"
  " ORDER BY h.id LIMIT ?2";

static int sink_targets(struct db *w, const char *event, char (*names)[64], int max)
{
  sqlite3_stmt *st = db_prepare(w, SQL_TARGETS);
  if (!st) return 0;
  db_bind(st, "ti", event, (int64_t)max + 1);
  int n = 0;
  while (sqlite3_step(st) == SQLITE_ROW) {
    if (n == max) {
      log_warn("webhooks", "more than %d webhooks want %s: the rest are skipped", max, event);
      break;
    }
    webhook_target(sqlite3_column_int64(st, 0), names[n], sizeof names[n]);
    n++;
  }
  db_done(st);
  return n;
}

/* The receiver's answer, cut to one printable line, for last_error. */
static void answer_snippet(const char *body, size_t len, char *out, size_t outlen)
{
  size_t j = 0;
  for (size_t i = 0; i < len && j + 1 < outlen && j < 120; i++) {
    unsigned char c = (unsigned char)body[i];
    if (c == '\r' || c == '\n') break;
    out[j++] = c >= 0x20 && c < 0x7F ? (char)c : '?';
  }
  out[j] = 0;
}

static int sink_deliver(const char *subscriber, const char *uid, const struct destek_event *ev, long *response_status,
                        char *err, size_t errlen)
{
  int64_t id = strtoll(subscriber + strlen(WEBHOOK_PREFIX), NULL, 10);
  struct db *db = db_reader();
  if (!db) { snprintf(err, errlen, "cannot read the webhook"); return -1; }
  sqlite3_stmt *st = db_prepare(db, "SELECT url, secret, active, (SELECT created_at FROM core_outbox WHERE id = ?2)"
                                    " FROM core_webhooks WHERE id = ?1");
  if (!st) { snprintf(err, errlen, "cannot read the webhook"); return -1; }
  db_bind(st, "ii", id, ev->id);
  if (sqlite3_step(st) != SQLITE_ROW) {
    db_done(st);
    snprintf(err, errlen, "the webhook was deleted");
    return -1;
  }
  char *url = util_strdup((const char *)sqlite3_column_text(st, 0));
  char *secret = util_strdup((const char *)sqlite3_column_text(st, 1));
  int active = sqlite3_column_int(st, 2);
  char *created_at = util_strdup((const char *)sqlite3_column_text(st, 3));
  db_done(st);
  int rc = -1;
  if (!active) {
    snprintf(err, errlen, "the webhook is inactive");
    goto out;
  }

  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "id", (double)ev->id);
  cJSON_AddStringToObject(o, "event", ev->name);
  cJSON_AddStringToObject(o, "subject", ev->subject ? ev->subject : "");
  cJSON_AddItemToObject(o, "payload", ev->payload ? cJSON_Duplicate(ev->payload, 1) : cJSON_CreateObject());
  if (created_at) cJSON_AddStringToObject(o, "created_at", created_at); else cJSON_AddNullToObject(o, "created_at");
  cJSON_AddStringToObject(o, "delivery", uid);
  cJSON_AddNumberToObject(o, "attempt", ev->attempt);
  char *body = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  if (!body) { snprintf(err, errlen, "out of memory"); goto out; }

  char sig[65];
  util_hmac_sha256_hex(secret, strlen(secret), body, strlen(body), sig);
  char h_event[160], h_delivery[96], h_sig[100], h_attempt[40];
  snprintf(h_event, sizeof h_event, "X-Destek-Event: %s", ev->name);
  snprintf(h_delivery, sizeof h_delivery, "X-Destek-Delivery: %s", uid);
  snprintf(h_sig, sizeof h_sig, "X-Destek-Signature: sha256=%s", sig);
  snprintf(h_attempt, sizeof h_attempt, "X-Destek-Attempt: %d", ev->attempt);
  const char *headers[] = {
    "Content-Type: application/json", "User-Agent: Destek/" DESTEK_VERSION, h_event, h_delivery, h_sig, h_attempt,
    NULL
  };
  struct net_request req = {
    .method = "POST", .url = url, .headers = headers, .body = body, .body_len = strlen(body),
    .timeout_ms = WEBHOOK_TIMEOUT_MS, .max_response = WEBHOOK_RESPONSE_KEPT,
  };
  struct net_response resp;
  char nerr[400];
  int answered = net_request(&req, &resp, nerr, sizeof nerr) == 0;
  if (answered) *response_status = resp.status;
  if (!answered) {
    snprintf(err, errlen, "%s", nerr);
  } else if (resp.status >= 200 && resp.status < 300) {
    rc = 0;
  } else {
    char snippet[128];
    answer_snippet(resp.body, resp.body_len, snippet, sizeof snippet);
    if (snippet[0]) snprintf(err, errlen, "HTTP %ld: %s", resp.status, snippet);
    else snprintf(err, errlen, "HTTP %ld", resp.status);
  }
  net_response_free(&resp);
  cJSON_free(body);
out:
  free(url);
  free(secret);
  free(created_at);
  return rc;
}

static const struct bus_sink sink = { WEBHOOK_PREFIX, sink_targets, sink_deliver };

int webhooks_init(void)
{
  int rc = http_routes_add("core", routes);
  if (bus_add_sink(&sink) != 0) {
    log_error("webhooks", "cannot register the webhook sink with the bus");
    rc = -1;
  }
  return rc;
}
