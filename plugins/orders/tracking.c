/* Carrier adapters and tracking polling (issue 12, second part).
 *
 * An adapter answers "where is this parcel?" for one carrier, in AfterShip's terms:
 *   {status: "InTransit", checkpoints: [{at, status, message, location}], error?}
 * Two kinds, tried in this order:
 *   - a Lua policy `tracking.carrier:<code>` a merchant's plugin defines (destek.policy), called with
 *     ({carrier, tracking_number, order_number, status}); it fetches with destek.http.request and maps;
 *   - the generic JSON adapter, the carrier's `adapter` column (PUT /api/v1/order-carriers/{code}/adapter):
 *     GET url (with {n} the tracking number, URL-encoded) and read the answer with dot paths.
 * Polling: a shipment with a tracking number whose carrier has an adapter is enrolled in orders_tracking (state in
 * the database, so it survives a restart). The job `orders.tracking` runs every minute on the job thread (never a
 * request thread) and asks about each due shipment for at most 20 seconds per run (the job thread also runs the bus); the
 * rest wait for the next run.
 * Each batch's calls run on worker threads, several carriers at once (fetch_all): the generic adapter's requests a few at
 * a time per carrier, a Lua policy one at a time per carrier; the answers are stored on the job thread. After a poll
 * that changed something the next one is 3 hours later; each poll that changes nothing (or fails) doubles the wait, up to 24 hours. Tracking stops at
 * Delivered or Expired ('final') and 30 days after it began ('expired'). Outbound calls go through the host's guard
 * (host->http_request, destek.http.request): private and loopback addresses need --allow-private-net. */
#include "orders.h"

#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "destek_util.h"

#define TRACK_FIRST_WAIT 10800      /* 3 h after a change */
#define TRACK_MAX_WAIT 86400        /* 24 h */
#define TRACK_DAYS 30

static int final_status(const char *s) { return s && (!strcmp(s, "Delivered") || !strcmp(s, "Expired")); }

static int known_status(const char *s)
{
  for (int i = 0; s && ORD_SHIPMENT_STATUSES[i]; i++) if (!strcmp(ORD_SHIPMENT_STATUSES[i], s)) return 1;
  return 0;
}

static void policy_name(const char *code, char out[80]) { snprintf(out, 80, "tracking.carrier:%s", code); }

cJSON *ord_tracking_json(struct destek_db *db, int64_t shipment_id)
{
  sqlite3_stmt *st = ord_db_prepare(db, "SELECT next_at, interval_s, started_at, changed_at, polled_at, polls, failures,"
                                        " last_error, stopped FROM orders_tracking WHERE shipment_id = ?1");
  if (!st) return NULL;
  ord_db_bind(st, "i", shipment_id);
  cJSON *o = NULL;
  if (sqlite3_step(st) == SQLITE_ROW) {
    o = cJSON_CreateObject();
    char t[21];
    const char *names[] = { "next_poll_at", NULL, "started_at", "changed_at", "polled_at" };
    for (int i = 0; i < 5; i++) {
      if (!names[i]) continue;
      if (sqlite3_column_type(st, i) == SQLITE_NULL) { cJSON_AddNullToObject(o, names[i]); continue; }
      util_iso_time((time_t)sqlite3_column_int64(st, i), t);
      cJSON_AddStringToObject(o, names[i], t);
    }
    cJSON_AddNumberToObject(o, "interval_seconds", (double)sqlite3_column_int64(st, 1));
    cJSON_AddNumberToObject(o, "polls", sqlite3_column_int(st, 5));
    cJSON_AddNumberToObject(o, "failures", sqlite3_column_int(st, 6));
    if (sqlite3_column_type(st, 7) == SQLITE_NULL) cJSON_AddNullToObject(o, "last_error");
    else cJSON_AddStringToObject(o, "last_error", (const char *)sqlite3_column_text(st, 7));
    if (sqlite3_column_type(st, 8) == SQLITE_NULL) cJSON_AddNullToObject(o, "stopped");
    else cJSON_AddStringToObject(o, "stopped", (const char *)sqlite3_column_text(st, 8));
  }
  ord_db_done(st);
  return o;
}

/* ------------------------------------------------------------------------------------------------ adapters */

/* A member by dot path ("data.events", "items.0.status"); NULL when absent. */
static const cJSON *json_path(const cJSON *root, const char *path)
{
  if (!path || !*path) return root;
  const cJSON *cur = root;
  char part[128];
  while (cur && *path) {
    size_t len = strcspn(path, ".");
    if (len >= sizeof part) return NULL;
    memcpy(part, path, len);
    part[len] = 0;
    path += len + (path[len] == '.');
    if (cJSON_IsArray(cur)) {
      char *end;
      long i = strtol(part, &end, 10);
      cur = *end || end == part ? NULL : cJSON_GetArrayItem(cur, (int)i);
    } else {
      cur = cJSON_GetObjectItemCaseSensitive(cur, part);
    }
  }
  return cur;
}

static const char *cfg_str(const cJSON *o, const char *name)
{
  const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, name));
  return s && *s ? s : NULL;
}

/* A carrier's word for a status mapped through status_map (exact, then case-insensitive); else the word itself when it
 * is one of AfterShip's tags; else NULL. */
static const char *map_status(const cJSON *map, const char *word)
{
  if (!word) return NULL;
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(map, word);
  if (!m) m = cJSON_GetObjectItem(map, word);
  const char *s = cJSON_GetStringValue(m);
  if (s && known_status(s)) return s;
  return known_status(word) ? word : NULL;
}

static void scalar_text(const cJSON *v, char *out, size_t n)
{
  if (cJSON_IsString(v)) snprintf(out, n, "%s", v->valuestring);
  else if (cJSON_IsNumber(v)) snprintf(out, n, "%.0f", v->valuedouble);
  else out[0] = 0;
}

static char *url_encode_new(const char *s)
{
  char *out = malloc(strlen(s) * 3 + 1), *o = out;
  if (!out) abort();
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (isalnum(*p) || strchr("-._~", *p)) *o++ = (char)*p;
    else o += sprintf(o, "%%%02X", *p);
  }
  *o = 0;
  return out;
}

/* The generic JSON adapter: cfg {url, headers, status_path, status_map, checkpoints_path, checkpoint}. */
static cJSON *json_adapter_new(const cJSON *cfg, const char *number, char *err, size_t errlen)
{
  const char *tpl = cfg_str(cfg, "url");
  const char *at = tpl ? strstr(tpl, "{n}") : NULL;
  if (!at) { snprintf(err, errlen, "the adapter has no url with {n}"); return NULL; }
  char *enc = url_encode_new(number);
  char *url = NULL;
  if (asprintf(&url, "%.*s%s%s", (int)(at - tpl), tpl, enc, at + 3) < 0) abort();
  free(enc);
  const char *hdrs[17] = { "Accept: application/json" };
  int nh = 1;
  const cJSON *h;
  cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(cfg, "headers")) {
    if (nh < 16 && cJSON_IsString(h)) hdrs[nh++] = h->valuestring;
  }
  hdrs[nh] = NULL;
  struct destek_http_request req = { "GET", url, hdrs, NULL, 0, 15000, 1 << 20 };
  struct destek_http_response resp = { 0 };
  char herr[200] = "";
  int rc = ord_http_request(&req, &resp, herr, sizeof herr);
  free(url);
  cJSON *doc = NULL;
  if (rc != 0) snprintf(err, errlen, "%s", herr);
  else if (resp.status != 200) snprintf(err, errlen, "the carrier answered HTTP %ld", resp.status);
  else if (!(doc = cJSON_ParseWithLength(resp.body, resp.body_len))) snprintf(err, errlen, "the carrier's answer is not JSON");
  ord_http_response_free(&resp);
  if (!doc) return NULL;
  const cJSON *map = cJSON_GetObjectItemCaseSensitive(cfg, "status_map");
  const cJSON *cp = cJSON_GetObjectItemCaseSensitive(cfg, "checkpoint");
  cJSON *out = cJSON_CreateObject();
  char word[200];
  scalar_text(json_path(doc, cfg_str(cfg, "status_path")), word, sizeof word);
  const char *status = map_status(map, word[0] ? word : NULL);
  if (status) cJSON_AddStringToObject(out, "status", status);
  cJSON *cps = cJSON_AddArrayToObject(out, "checkpoints");
  const cJSON *list = cfg_str(cfg, "checkpoints_path") ? json_path(doc, cfg_str(cfg, "checkpoints_path")) : NULL;
  const cJSON *e, *arr = cJSON_IsArray(list) ? list : NULL;
  cJSON_ArrayForEach(e, arr) {
    cJSON *c = cJSON_CreateObject();
    const char *fields[] = { "at", "status", "message", "location" };
    for (int i = 0; i < 4; i++) {
      const char *p = cfg_str(cp, fields[i]);
      if (!p) continue;
      scalar_text(json_path(e, p), word, sizeof word);
      if (!word[0]) continue;
      if (i == 1) {
        const char *s = map_status(map, word);
        if (s) cJSON_AddStringToObject(c, "status", s);
      } else {
        cJSON_AddStringToObject(c, fields[i], word);
      }
    }
    cJSON_AddItemToArray(cps, c);
  }
  cJSON_Delete(doc);
  return out;
}

/* Asks the carrier's adapter about one parcel, in call (which has written nothing yet). The answer (new) or NULL with
 * err. */
static cJSON *adapter_ask_new(struct destek_req *call, const char *carrier, const char *number, const char *order_number,
                              const char *status, char *err, size_t errlen)
{
  char policy[80];
  policy_name(carrier, policy);
  if (ord_host->has_policy(policy)) {
    cJSON *args = cJSON_CreateArray(), *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "carrier", carrier);
    cJSON_AddStringToObject(a, "tracking_number", number);
    cJSON_AddStringToObject(a, "order_number", order_number ? order_number : "");
    cJSON_AddStringToObject(a, "status", status ? status : "Pending");
    cJSON_AddItemToArray(args, a);
    cJSON *res = ord_host->decide_new(call, policy, args);
    cJSON_Delete(args);
    const cJSON *first = res ? cJSON_GetArrayItem(res, 0) : NULL;
    cJSON *out = NULL;
    if (cJSON_IsObject(first) && !cfg_str(first, "error")) {
      out = cJSON_Duplicate(first, 1);
    } else {
      const char *why = cJSON_IsObject(first) ? cfg_str(first, "error") : cJSON_GetStringValue(cJSON_GetArrayItem(res, 1));
      snprintf(err, errlen, "%s: %s", policy, why ? why : "the policy gave no answer (see the log)");
    }
    cJSON_Delete(res);
    return out;
  }
  char *cfg_text = ord_db_text_new(ord_db_read(call), "SELECT adapter FROM orders_carriers WHERE code = ?1", "t", carrier);
  cJSON *cfg = cfg_text ? cJSON_Parse(cfg_text) : NULL;
  free(cfg_text);
  if (!cfg) { snprintf(err, errlen, "the carrier %s has no adapter", carrier); return NULL; }
  cJSON *out = json_adapter_new(cfg, number, err, errlen);
  cJSON_Delete(cfg);
  return out;
}

/* ------------------------------------------------------------------------------------------------ polling */

/* Carriers with an adapter (a policy or the column), into codes (at most n). */
static int adapter_carriers(struct destek_db *db, char codes[][41], int n)
{
  sqlite3_stmt *st = ord_db_prepare(db, "SELECT code, adapter IS NOT NULL FROM orders_carriers ORDER BY code");
  if (!st) return 0;
  int k = 0;
  while (k < n && sqlite3_step(st) == SQLITE_ROW) {
    const char *code = (const char *)sqlite3_column_text(st, 0);
    char policy[80];
    policy_name(code, policy);
    if (sqlite3_column_int(st, 1) || ord_host->has_policy(policy)) snprintf(codes[k++], 41, "%s", code);
  }
  ord_db_done(st);
  return k;
}

/* Enrols the open shipments of carriers with an adapter and stops those past 30 days. */
static void enrol(int64_t now)
{
  struct destek_req *c = ord_call_new();
  char codes[64][41];
  int n = adapter_carriers(ord_db_read(c), codes, 64);
  struct destek_db *w = n ? ord_db_write(c) : NULL;
  char since[21];
  util_iso_time((time_t)(now - TRACK_DAYS * 86400LL), since);
  for (int i = 0; w && i < n; i++)
    ord_db_exec(w, "INSERT OR IGNORE INTO orders_tracking(shipment_id, carrier, next_at, started_at)"
                   " SELECT id, carrier, ?2, ?2 FROM orders_shipments WHERE carrier = ?1 AND tracking_number IS NOT NULL"
                   " AND status NOT IN ('Delivered', 'Expired') AND created_at >= ?3",
                "tit", codes[i], now, since);
  w = ord_db_write(c);
  if (w) ord_db_exec(w, "UPDATE orders_tracking SET stopped = 'expired' WHERE stopped IS NULL AND started_at <= ?1",
                     "i", now - TRACK_DAYS * 86400LL);
  ord_call_end(c, 1);
}

struct due {
  int64_t shipment_id, order_id, interval;
  char carrier[41], number[101], ref[101], status[24], order_number[101];
  /* the answer, fetched on a worker thread (fetch_all): the generic adapter's config, or lua for a Lua policy */
  const cJSON *cfg;
  int lua, group;
  cJSON *ans;
  char err[300];
  int prefetched;
};

/* The adapters' calls of a batch run on short-lived worker threads, several carriers at once: a carrier's generic JSON
 * adapter a few at a time (orders.tracking_per_carrier, 1 to 8, default 4), a carrier's Lua policy one at a time (a
 * merchant's script may hold one session with the carrier). Workers only ask (an HTTP request and its parsing, or the
 * policy in the worker's own Lua state, each call within the policy's budget and the request's timeout); the answers
 * are stored afterwards on the calling thread, one shipment at a time through the writer. A worker takes no new
 * shipment after the pass's deadline; those left wait for the next run. */
#define FETCH_THREADS 16

struct fetch_job {
  struct due **items;
  int n, taken_n, per, deadline_passed;
  double deadline;
  char taken[50];
  int inflight[50];                /* per group (carrier) */
  pthread_mutex_t lock;
  pthread_cond_t cond;
};

static void fetch_one(struct due *d)
{
  if (d->lua) {
    struct destek_req *c = ord_call_new();
    d->ans = adapter_ask_new(c, d->carrier, d->number, d->order_number, d->status, d->err, sizeof d->err);
    ord_call_end(c, 1);
  } else if (d->cfg) {
    d->ans = json_adapter_new(d->cfg, d->number, d->err, sizeof d->err);
  } else {
    snprintf(d->err, sizeof d->err, "the carrier %s has no adapter", d->carrier);
  }
  d->prefetched = 1;
}

static void fetch_work(struct fetch_job *j)
{
  pthread_mutex_lock(&j->lock);
  for (;;) {
    if (j->taken_n == j->n || j->deadline_passed) break;
    if (util_mono() >= j->deadline) { j->deadline_passed = 1; pthread_cond_broadcast(&j->cond); break; }
    int pick = -1;
    for (int i = 0; i < j->n && pick < 0; i++) {
      if (j->taken[i]) continue;
      const struct due *d = j->items[i];
      if (j->inflight[d->group] < (d->lua ? 1 : j->per)) pick = i;
    }
    if (pick < 0) { pthread_cond_wait(&j->cond, &j->lock); continue; }
    struct due *d = j->items[pick];
    j->taken[pick] = 1;
    j->taken_n++;
    j->inflight[d->group]++;
    pthread_mutex_unlock(&j->lock);
    fetch_one(d);
    pthread_mutex_lock(&j->lock);
    j->inflight[d->group]--;
    pthread_cond_broadcast(&j->cond);
  }
  pthread_mutex_unlock(&j->lock);
}

static void *fetch_worker(void *arg)
{
  fetch_work(arg);
  if (DESTEK_HOST_HAS(ord_host, thread_release)) ord_host->thread_release();   /* its Lua state and reader */
  return NULL;
}

static void fetch_all(struct due **items, int n, int per, double deadline)
{
  struct fetch_job j;
  memset(&j, 0, sizeof j);
  j.items = items;
  j.n = n;
  j.per = per;
  j.deadline = deadline;
  pthread_mutex_init(&j.lock, NULL);
  pthread_cond_init(&j.cond, NULL);
  /* as many workers as can be busy at once: per carrier, 1 (Lua) or per (generic), at most FETCH_THREADS */
  int want = 0, seen[50] = { 0 };
  for (int i = 0; i < n; i++) {
    if (seen[items[i]->group]) continue;
    seen[items[i]->group] = 1;
    int g = 0;
    for (int k = i; k < n; k++) g += items[k]->group == items[i]->group;
    want += items[i]->lua ? 1 : (g < per ? g : per);
  }
  if (want > FETCH_THREADS) want = FETCH_THREADS;
  pthread_t t[FETCH_THREADS];
  int started = 0;
  for (int i = 1; i < want; i++)
    if (pthread_create(&t[started], NULL, fetch_worker, &j) == 0) started++;
  fetch_work(&j);                  /* this thread works too (its own Lua state and reader stay) */
  for (int i = 0; i < started; i++) pthread_join(t[i], NULL);
  pthread_cond_destroy(&j.cond);
  pthread_mutex_destroy(&j.lock);
}

/* Polls one shipment: asks its adapter, adds the new checkpoints and status, and sets the next poll. 1 when something
 * changed, 0 when nothing did, -1 when the poll failed. */
static int poll_one(const struct due *d, int64_t now, cJSON *fetched, const char *fetch_err, int prefetched)
{
  struct destek_req *c = ord_call_new();
  char err[300] = "";
  cJSON *ans = fetched;            /* taken */
  if (prefetched) snprintf(err, sizeof err, "%s", fetch_err ? fetch_err : "");
  else ans = adapter_ask_new(c, d->carrier, d->number, d->order_number, d->status, err, sizeof err);
  int changed = 0, failed = !ans;
  char status[24];
  snprintf(status, sizeof status, "%s", d->status);
  if (ans) {
    /* New checkpoints (not stored with the same time and message), oldest first: all but the newest are added to the
     * timeline as they are; the newest and the overall status go through ord_shipment_put, so one poll makes one
     * shipment.updated (and at most one notice) however many scans it brings. */
    cJSON *cps = cJSON_GetObjectItemCaseSensitive(ans, "checkpoints");
    int n = cJSON_GetArraySize(cps);
    struct { char at[21]; const cJSON *cp; } *list = calloc((size_t)n + 1, sizeof *list);
    int k = 0;
    const cJSON *cp, *arr = cJSON_IsArray(cps) ? cps : NULL;
    struct destek_db *rdb = ord_db_read(c);
    cJSON_ArrayForEach(cp, arr) {
      char at[21];
      const char *msg = cfg_str(cp, "message");
      if (ord_time_utc(cfg_str(cp, "at"), at) != 0) continue;
      if (ord_db_int(rdb, 0, "SELECT count(*) FROM orders_checkpoints WHERE shipment_id = ?1 AND at = ?2"
                             " AND coalesce(message, '') = ?3", "itt", d->shipment_id, at, msg ? msg : ""))
        continue;
      memcpy(list[k].at, at, sizeof at);
      list[k++].cp = cp;
    }
    for (int i = 1; i < k; i++)          /* insertion sort by time: carriers list newest or oldest first */
      for (int j = i; j > 0 && strcmp(list[j].at, list[j - 1].at) < 0; j--) {
        __typeof__(*list) t = list[j]; list[j] = list[j - 1]; list[j - 1] = t;
      }
    int rc = 0;
    const char *overall = cfg_str(ans, "status");
    if (overall && !known_status(overall)) overall = NULL;
    char now_iso[21];
    ord_now(now_iso);
    for (int i = 0; i < k && !rc; i++) {
      const char *s = cfg_str(list[i].cp, "status");
      if (!s || !known_status(s)) s = status;
      if (i < k - 1) {
        struct destek_db *w = ord_db_write(c);
        rc = !w || ord_db_exec(w, "INSERT INTO orders_checkpoints(shipment_id, at, status, message, location, created_at)"
                                  " VALUES (?1, ?2, ?3, ?4, ?5, ?6)", "itttt" "t", d->shipment_id, list[i].at, s,
                               cfg_str(list[i].cp, "message"), cfg_str(list[i].cp, "location"), now_iso) != SQLITE_OK;
        if (rc) ord_error(c, 500, "internal", "a checkpoint could not be saved");
        continue;
      }
      const char *final = overall ? overall : s;
      cJSON *in = cJSON_CreateObject();
      cJSON_AddStringToObject(in, "ref", d->ref);
      cJSON_AddStringToObject(in, "status", final);
      cJSON_AddStringToObject(in, "at", list[i].at);
      cJSON_AddStringToObject(in, "message", cfg_str(list[i].cp, "message") ? cfg_str(list[i].cp, "message") : final);
      if (cfg_str(list[i].cp, "location")) cJSON_AddStringToObject(in, "location", cfg_str(list[i].cp, "location"));
      rc = ord_shipment_put(c, d->order_id, "carrier", in, NULL);
      cJSON_Delete(in);
      snprintf(status, sizeof status, "%s", final);
    }
    changed = k > 0;
    free(list);
    if (!rc && overall && strcmp(overall, status)) {
      cJSON *in = cJSON_CreateObject();
      cJSON_AddStringToObject(in, "ref", d->ref);
      cJSON_AddStringToObject(in, "status", overall);
      rc = ord_shipment_put(c, d->order_id, "carrier", in, NULL);
      cJSON_Delete(in);
      snprintf(status, sizeof status, "%s", overall);
      changed = 1;
    }
    if (rc) {
      cJSON *eo = ord_error_object(c);
      snprintf(err, sizeof err, "the answer could not be stored: %s",
               eo ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(eo, "message")) : "");
      ord_call_end(c, 0);
      c = ord_call_new();
      failed = 1;
      changed = 0;
    }
    cJSON_Delete(ans);
  }
  int64_t interval = changed ? TRACK_FIRST_WAIT : d->interval * 2;
  if (interval > TRACK_MAX_WAIT) interval = TRACK_MAX_WAIT;
  if (interval < TRACK_FIRST_WAIT) interval = TRACK_FIRST_WAIT;
  struct destek_db *w = ord_db_write(c);
  if (w)
    ord_db_exec(w, "UPDATE orders_tracking SET next_at = ?2, interval_s = ?3, polled_at = ?4, polls = polls + 1,"
                   " failures = CASE WHEN ?5 THEN failures + 1 ELSE 0 END, last_error = ?6,"
                   " changed_at = CASE WHEN ?7 THEN ?4 ELSE changed_at END,"
                   " stopped = CASE WHEN ?8 THEN 'final' ELSE stopped END WHERE shipment_id = ?1",
                "iiii" "iti" "i", d->shipment_id, now + interval, interval, now, (int64_t)failed, failed ? err : NULL,
                (int64_t)changed, (int64_t)final_status(status));
  if (ord_call_end(c, 1) != 0) return -1;
  if (failed) ord_log(DESTEK_LOG_INFO, "tracking %s %s: %s", d->carrier, d->number, err);
  return failed ? -1 : changed;
}

static _Atomic int64_t last_sweep;   /* mono seconds of the last full enrolment sweep */

int ord_tracking_pass(int budget_s, int *delays)
{
  int64_t now = ord_clock_now();
  /* New shipments are enrolled as they come (on_shipment); the sweep catches those of a carrier whose adapter came
   * later (a Lua plugin installed, an adapter set) every 10 minutes, and at an admin's run. */
  int64_t mono = (int64_t)util_mono();
  int64_t last = atomic_load(&last_sweep);
  if (!last || mono - last >= 600) {
    atomic_store(&last_sweep, mono);
    enrol(now);
  }
  double start = util_mono();
  int polled = 0;
  for (int round = 0; round < 100 && util_mono() - start < budget_s; round++) {
    struct due batch[50];
    int n = 0;
    struct destek_db *db = ord_db_read(NULL);
    sqlite3_stmt *st = db ? ord_db_prepare(db,
      "SELECT t.shipment_id, s.order_id, t.interval_s, t.carrier, s.tracking_number, s.ref, s.status, o.number"
      " FROM orders_tracking t JOIN orders_shipments s ON s.id = t.shipment_id JOIN orders_orders o ON o.id = s.order_id"
      " WHERE t.stopped IS NULL AND t.next_at <= ?1 ORDER BY t.next_at, t.shipment_id LIMIT 50") : NULL;
    if (!st) break;
    ord_db_bind(st, "i", now);
    while (n < 50 && sqlite3_step(st) == SQLITE_ROW) {
      struct due *d = &batch[n++];
      d->shipment_id = sqlite3_column_int64(st, 0);
      d->order_id = sqlite3_column_int64(st, 1);
      d->interval = sqlite3_column_int64(st, 2);
      snprintf(d->carrier, sizeof d->carrier, "%s", (const char *)sqlite3_column_text(st, 3));
      snprintf(d->number, sizeof d->number, "%s", (const char *)sqlite3_column_text(st, 4));
      snprintf(d->ref, sizeof d->ref, "%s", (const char *)sqlite3_column_text(st, 5));
      snprintf(d->status, sizeof d->status, "%s", (const char *)sqlite3_column_text(st, 6));
      snprintf(d->order_number, sizeof d->order_number, "%s", (const char *)sqlite3_column_text(st, 7));
    }
    ord_db_done(st);
    if (!n) break;
    /* every carrier's calls at once, a few (generic adapter) or one (Lua policy) at a time per carrier */
    long per = ord_setting_int("orders.tracking_per_carrier", 4);
    if (per < 1) per = 1;
    if (per > 8) per = 8;
    cJSON *cfgs[50] = { 0 };
    struct due *items[50];
    for (int i = 0; i < n; i++) {
      char policy[80];
      policy_name(batch[i].carrier, policy);
      batch[i].cfg = NULL; batch[i].ans = NULL; batch[i].prefetched = 0; batch[i].err[0] = 0;
      batch[i].lua = ord_host->has_policy(policy);
      items[i] = &batch[i];
      int k;
      for (k = 0; k < i; k++) if (!strcmp(batch[k].carrier, batch[i].carrier)) break;
      batch[i].group = k;
      if (k < i) { batch[i].cfg = batch[k].cfg; continue; }
      if (batch[i].lua) continue;
      char *text = ord_db_text_new(db, "SELECT adapter FROM orders_carriers WHERE code = ?1", "t", batch[i].carrier);
      cfgs[i] = text ? cJSON_Parse(text) : NULL;
      free(text);
      batch[i].cfg = cfgs[i];
    }
    fetch_all(items, n, (int)per, start + budget_s);
    for (int i = 0; i < n; i++) {
      if (!batch[i].prefetched) continue;       /* past the deadline: the next run asks */
      poll_one(&batch[i], now, batch[i].ans, batch[i].err, 1);
      batch[i].ans = NULL;
      polled++;
    }
    for (int i = 0; i < n; i++) { cJSON_Delete(batch[i].ans); cJSON_Delete(cfgs[i]); }
    if (util_mono() - start >= budget_s) break;
  }
  int d = ord_delay_scan();
  if (delays) *delays = d;
  return polled;
}

/* Whether carrier code has an adapter (a Lua policy or the generic one). */
static int has_adapter(struct destek_db *db, const char *code)
{
  char policy[80];
  policy_name(code, policy);
  return ord_host->has_policy(policy) ||
         ord_db_int(db, 0, "SELECT adapter IS NOT NULL FROM orders_carriers WHERE code = ?1", "t", code) == 1;
}

/* Keeps the schedule in step with the shipments, inside the emitting transaction: a new shipment with a tracking
 * number whose carrier has an adapter is enrolled (polled at the next run); a final status stops the polling; any
 * other change of status from elsewhere (a webhook, an agent) waits 3 hours before the next poll. */
static int on_shipment(struct destek_req *call, const struct destek_event *ev, void *ud, char *err, size_t errlen)
{
  (void)ud; (void)err; (void)errlen;
  const char *status = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev->payload, "status"));
  const char *prev = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev->payload, "previous_status"));
  const char *carrier = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev->payload, "carrier"));
  const char *number = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev->payload, "tracking_number"));
  int64_t sid = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(ev->payload, "id"));
  if (!status || (prev && !strcmp(prev, status))) return 0;
  struct destek_db *w = ord_db_write(call);
  if (!w) return 0;
  int64_t now = ord_clock_now();
  if (!prev) {
    if (carrier && number && *number && !final_status(status) && has_adapter(w, carrier))
      ord_db_exec(w, "INSERT OR IGNORE INTO orders_tracking(shipment_id, carrier, next_at, started_at) VALUES (?1, ?2, ?3, ?3)",
                  "iti", sid, carrier, now);
    return 0;
  }
  if (final_status(status))
    ord_db_exec(w, "UPDATE orders_tracking SET stopped = 'final' WHERE shipment_id = ?1 AND stopped IS NULL", "i", sid);
  else
    ord_db_exec(w, "UPDATE orders_tracking SET next_at = max(next_at, ?2), interval_s = ?3 WHERE shipment_id = ?1"
                   " AND stopped IS NULL", "iii", sid, now + TRACK_FIRST_WAIT, (int64_t)TRACK_FIRST_WAIT);
  return 0;
}

static int tracking_job(struct destek_req *call, void *ud)
{
  (void)call; (void)ud;
  ord_tracking_pass(20, NULL);   /* the job thread also runs the bus: leave it most of each minute */
  return 0;
}

/* ------------------------------------------------------------------------------------------------ routes */

/* POST /api/v1/order-tracking/run -> {polled, delays}: a pass now (admin), as the job makes every minute, for at most
 * 20 s (it holds a request thread; the rest waits for the job). */
static int tracking_run(struct destek_req *r)
{
  int delays = 0;
  enrol(ord_clock_now());
  atomic_store(&last_sweep, (int64_t)util_mono());
  int polled = ord_tracking_pass(20, &delays);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "polled", polled);
  cJSON_AddNumberToObject(o, "delays", delays);
  return ord_reply_json(r, 200, o);
}

/* GET /api/v1/order-tracking?carrier=&state=running|stopped|failing&limit=&cursor= (admin): the tracked shipments,
 * newest first, with their order number and polling state. */
static int tracking_list(struct destek_req *r)
{
  int limit;
  int64_t after;
  int rc = ord_page(r, &limit, &after);
  if (rc) return rc;
  char carrier[41] = "", state[16] = "";
  ord_query_get(r, "carrier", carrier, sizeof carrier);
  ord_query_get(r, "state", state, sizeof state);
  if (state[0] && strcmp(state, "running") && strcmp(state, "stopped") && strcmp(state, "failing"))
    return ord_field_error(r, "invalid_field", "state", "state must be running, stopped or failing");
  struct destek_db *db = ord_db_read(r);
  sqlite3_stmt *st = ord_db_prepare(db,
    "SELECT t.shipment_id, o.number, s.carrier, s.tracking_number, s.status FROM orders_tracking t"
    " JOIN orders_shipments s ON s.id = t.shipment_id JOIN orders_orders o ON o.id = s.order_id"
    " WHERE (?1 = 0 OR t.shipment_id < ?1) AND (?2 = '' OR t.carrier = ?2)"
    " AND (?3 = '' OR (?3 = 'running' AND t.stopped IS NULL) OR (?3 = 'stopped' AND t.stopped IS NOT NULL)"
    "      OR (?3 = 'failing' AND t.stopped IS NULL AND t.failures > 0))"
    " ORDER BY t.shipment_id DESC LIMIT ?4");
  if (!st) return ord_error(r, 500, "internal", "the tracking list could not be read");
  ord_db_bind(st, "itti", after, carrier, state, (int64_t)limit + 1);
  int64_t ids[201];
  cJSON *rows[201];
  int n = 0;
  while (n <= limit && sqlite3_step(st) == SQLITE_ROW) {
    cJSON *o = cJSON_CreateObject();
    ids[n] = sqlite3_column_int64(st, 0);
    cJSON_AddNumberToObject(o, "shipment_id", (double)ids[n]);
    cJSON_AddStringToObject(o, "order_number", (const char *)sqlite3_column_text(st, 1));
    cJSON_AddStringToObject(o, "carrier", (const char *)sqlite3_column_text(st, 2));
    cJSON_AddStringToObject(o, "tracking_number", (const char *)sqlite3_column_text(st, 3));
    cJSON_AddStringToObject(o, "status", (const char *)sqlite3_column_text(st, 4));
    rows[n++] = o;
  }
  ord_db_done(st);
  cJSON *items = cJSON_CreateArray();
  int64_t next = 0;
  for (int i = 0; i < n; i++) {
    if (i == limit) { next = ids[i - 1]; cJSON_Delete(rows[i]); break; }
    cJSON *t = ord_tracking_json(db, ids[i]);
    cJSON_AddItemToObject(rows[i], "tracking", t ? t : cJSON_CreateNull());
    cJSON_AddItemToArray(items, rows[i]);
  }
  return ord_reply_json(r, 200, ord_list_new(items, next));
}

/* GET /api/v1/order-carriers/{code}/adapter (admin): the generic adapter without header values, and whether a Lua
 * policy (which wins) exists. */
static int adapter_get(struct destek_req *r)
{
  const char *code = ord_param(r, "code");
  struct destek_db *db = ord_db_read(r);
  if (!ord_db_int(db, 0, "SELECT count(*) FROM orders_carriers WHERE code = ?1", "t", code))
    return ord_error(r, 404, "not_found", "no such carrier");
  char *text = ord_db_text_new(db, "SELECT adapter FROM orders_carriers WHERE code = ?1", "t", code);
  cJSON *cfg = text ? cJSON_Parse(text) : NULL;
  free(text);
  cJSON *o = cJSON_CreateObject();
  char policy[80];
  policy_name(code, policy);
  cJSON_AddStringToObject(o, "policy", policy);
  cJSON_AddBoolToObject(o, "has_policy", ord_host->has_policy(policy));
  if (cfg) {
    cJSON *hn = cJSON_CreateArray(), *h;
    cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(cfg, "headers")) {
      const char *v = cJSON_GetStringValue(h);
      if (v) {
        char name[100];
        snprintf(name, sizeof name, "%.*s", (int)strcspn(v, ":"), v);
        cJSON_AddItemToArray(hn, cJSON_CreateString(name));
      }
    }
    cJSON_DeleteItemFromObjectCaseSensitive(cfg, "headers");
    cJSON_AddItemToObject(cfg, "header_names", hn);
    cJSON_AddItemToObject(o, "adapter", cfg);
  } else {
    cJSON_AddNullToObject(o, "adapter");
  }
  return ord_reply_json(r, 200, o);
}

/* PUT /api/v1/order-carriers/{code}/adapter {adapter: {...} | null} (admin, audited). */
static int adapter_put(struct destek_req *r)
{
  cJSON *body;
  int rc = ord_body(r, &body);
  if (rc) return rc;
  const char *code = ord_param(r, "code");
  if (!ord_db_int(ord_db_read(r), 0, "SELECT count(*) FROM orders_carriers WHERE code = ?1", "t", code))
    return ord_error(r, 404, "not_found", "no such carrier");
  const cJSON *a = cJSON_GetObjectItemCaseSensitive(body, "adapter");
  if (!a) return ord_field_error(r, "missing_field", "adapter", "adapter is required (null removes it)");
  char *text = NULL;
  if (!cJSON_IsNull(a)) {
    if (!cJSON_IsObject(a)) return ord_field_error(r, "invalid_field", "adapter", "adapter must be an object or null");
    const char *url = cfg_str(a, "url");
    const char *n1 = url ? strstr(url, "{n}") : NULL;
    if (!url || (strncmp(url, "https://", 8) && strncmp(url, "http://", 7)) || !n1 || strstr(n1 + 3, "{n}") ||
        strlen(url) > 500 || strpbrk(url, " \"'<>"))
      return ord_field_error(r, "invalid_field", "adapter.url", "url must be an http(s) URL holding {n} once");
    const char *paths[] = { "status_path", "checkpoints_path" };
    for (int i = 0; i < 2; i++) {
      const cJSON *p = cJSON_GetObjectItemCaseSensitive(a, paths[i]);
      if (p && (!cJSON_IsString(p) || strlen(p->valuestring) > 200)) {
        char f[40];
        snprintf(f, sizeof f, "adapter.%s", paths[i]);
        return ord_field_error(r, "invalid_field", f, "%s must be a dot path (\"data.events\")", paths[i]);
      }
    }
    if (!cfg_str(a, "status_path") && !cfg_str(a, "checkpoints_path"))
      return ord_field_error(r, "missing_field", "adapter.status_path", "status_path or checkpoints_path is required");
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(a, "headers"), *e;
    if (h && (!cJSON_IsArray(h) || cJSON_GetArraySize(h) > 15))
      return ord_field_error(r, "invalid_field", "adapter.headers", "headers must be a list of \"Name: value\" lines");
    cJSON_ArrayForEach(e, h) {
      const char *v = cJSON_GetStringValue(e);
      if (!v || !strchr(v, ':') || strpbrk(v, "\r\n") || strlen(v) > 1000)
        return ord_field_error(r, "invalid_field", "adapter.headers", "headers must be a list of \"Name: value\" lines");
    }
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(a, "status_map");
    if (m && !cJSON_IsObject(m))
      return ord_field_error(r, "invalid_field", "adapter.status_map", "status_map must map the carrier's words to statuses");
    cJSON_ArrayForEach(e, m) {
      if (!known_status(cJSON_GetStringValue(e)))
        return ord_field_error(r, "invalid_field", "adapter.status_map", "status_map values must be one of %s",
                               "Pending, InfoReceived, InTransit, OutForDelivery, AttemptFail, Delivered, "
                               "AvailableForPickup, Exception, Expired");
    }
    const cJSON *cp = cJSON_GetObjectItemCaseSensitive(a, "checkpoint");
    if (cp && !cJSON_IsObject(cp))
      return ord_field_error(r, "invalid_field", "adapter.checkpoint", "checkpoint must name the paths of at, status, message, location");
    text = cJSON_PrintUnformatted(a);
  }
  struct destek_db *w = ord_db_write(r);
  if (!w) { free(text); return ord_status(r); }
  char now[21];
  ord_now(now);
  rc = ord_db_exec(w, "UPDATE orders_carriers SET adapter = ?2, updated_at = ?3 WHERE code = ?1", "ttt", code, text, now);
  free(text);
  if (rc != SQLITE_OK) return ord_error(r, 500, "internal", "the adapter could not be saved");
  cJSON *detail = cJSON_CreateObject();
  cJSON_AddBoolToObject(detail, "adapter", !cJSON_IsNull(a));
  ord_audit(r, "orders.carrier_adapter_changed", code, detail);
  return adapter_get(r);
}

static const struct destek_setting tracking_settings[] = {
  { "orders.tracking_per_carrier", DESTEK_SETTING_INT, "4", 0,
    "Requests at most in flight at once to one carrier's tracking API (the generic JSON adapter; 1 to 8)" },
  { 0 }
};

static const struct destek_route tracking_routes[] = {
  { "POST", "/api/v1/order-tracking/run", tracking_run, DESTEK_ADMIN, NULL, 0 },
  { "GET", "/api/v1/order-tracking", tracking_list, DESTEK_ADMIN, NULL, 0 },
  { "GET", "/api/v1/order-carriers/{code}/adapter", adapter_get, DESTEK_ADMIN, "code:text", 0 },
  { "PUT", "/api/v1/order-carriers/{code}/adapter", adapter_put, DESTEK_ADMIN, "code:text", 0 },
  { 0 }
};

int ord_tracking_init(const struct destek_host *h)
{
  return h->settings(h, tracking_settings) | h->routes(h, tracking_routes) | h->every(h, "orders.tracking", 60, tracking_job, NULL) |
         h->on(h, "shipment.created", DESTEK_SYNC, on_shipment, NULL) | h->on(h, "shipment.updated", DESTEK_SYNC, on_shipment, NULL);
}
