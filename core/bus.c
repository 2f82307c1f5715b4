/* The event bus (see bus.h). */
#include "bus.h"

#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "http.h"
#include "jbuf.h"
#include "jobs.h"
#include "live.h"
#include "log.h"
#include "lua_host.h"
#include "settings.h"
#include "util.h"

#define MAX_SUBSCRIBERS 512
#define MAX_SINKS 8
#define MAX_TARGETS 64
#define BATCH 100

struct subscriber {
  const char *owner, *event, *name;   /* interned */
  int mode;
  destek_event_fn fn;
  destek_event_want_fn want;   /* NULL: every event it matches */
  void *ud;
};

static struct subscriber subs[MAX_SUBSCRIBERS];
static int n_subs;
static pthread_rwlock_t subs_lock = PTHREAD_RWLOCK_INITIALIZER;
static const struct bus_sink *sinks[MAX_SINKS];
static int n_sinks;

static pthread_t thread;
static pthread_mutex_t wake_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake_cond = PTHREAD_COND_INITIALIZER;
static int running, woken;

/* ------------------------------------------------------------------------------------------------ registry */

static int event_name_ok(const char *e, int allow_pattern)
{
  if (allow_pattern && !strcmp(e, "*")) return 1;
  size_t n = strlen(e);
  if (n < 3 || n > 100 || !strchr(e, '.') || e[0] == '.' || e[n - 1] == '.') return 0;
  for (const char *p = e; *p; p++) {
    if (allow_pattern && *p == '*' && p[1] == 0 && p > e && p[-1] == '.') continue;
    if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '_' && *p != '.') return 0;
  }
  return 1;
}

static int matches(const char *pattern, const char *event)
{
  if (!strcmp(pattern, "*") || !strcmp(pattern, event)) return 1;
  size_t n = strlen(pattern);
  return n >= 2 && pattern[n - 1] == '*' && pattern[n - 2] == '.' && !strncmp(pattern, event, n - 1);
}

int bus_subscribe(const char *owner, const char *event, int mode, destek_event_fn fn, void *ud)
{
  return bus_subscribe_when(owner, event, mode, fn, NULL, ud);
}

int bus_subscribe_when(const char *owner, const char *event, int mode, destek_event_fn fn, destek_event_want_fn want,
                       void *ud)
{
  if (!event_name_ok(event, 1) || (mode != DESTEK_SYNC && mode != DESTEK_ASYNC) || !fn) {
    log_error("bus", "%s: subscription to '%s' refused (bad event name or mode)", owner, event);
    return -1;
  }
  pthread_rwlock_wrlock(&subs_lock);
  if (n_subs == MAX_SUBSCRIBERS) {
    pthread_rwlock_unlock(&subs_lock);
    log_error("bus", "%s: too many subscriptions", owner);
    return -1;
  }
  char name[200];
  int same = 0;
  for (int i = 0; i < n_subs; i++)
    if (!strcmp(subs[i].owner, owner) && !strcmp(subs[i].event, event) && subs[i].mode == mode) same++;
  if (same) snprintf(name, sizeof name, "%s:%s%s#%d", owner, event, mode == DESTEK_SYNC ? ":sync" : "", same + 1);
  else snprintf(name, sizeof name, "%s:%s%s", owner, event, mode == DESTEK_SYNC ? ":sync" : "");
  subs[n_subs++] = (struct subscriber){ util_intern(owner), util_intern(event), util_intern(name), mode, fn, want, ud };
  pthread_rwlock_unlock(&subs_lock);
  return 0;
}

void bus_unsubscribe_owner(const char *owner)
{
  pthread_rwlock_wrlock(&subs_lock);
  int keep = 0;
  for (int i = 0; i < n_subs; i++)
    if (strcmp(subs[i].owner, owner) != 0) subs[keep++] = subs[i];
  n_subs = keep;
  pthread_rwlock_unlock(&subs_lock);
}

/* ------------------------------------------------------------------------------------------------ event nouns */

#define MAX_NOUNS 128

static struct { const char *noun, *owner; } nouns[MAX_NOUNS];
static int n_nouns;
static pthread_mutex_t nouns_lock = PTHREAD_MUTEX_INITIALIZER;

int bus_event_noun_ok(const char *noun)
{
  size_t n = strlen(noun);
  if (n < 1 || n > 60) return 0;
  for (const char *p = noun; *p; p++)
    if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '_') return 0;
  return 1;
}

int bus_event_owner(const char *noun, const char *owner)
{
  if (!noun || !bus_event_noun_ok(noun)) {
    log_error("bus", "%s: '%s' is not an event noun (lower-case letters, digits and _)", owner, noun ? noun : "");
    return -1;
  }
  const char *taken = NULL;
  int rc = 0;
  pthread_mutex_lock(&nouns_lock);
  for (int i = 0; i < n_nouns && !taken; i++)
    if (!strcmp(nouns[i].noun, noun)) taken = nouns[i].owner;
  if (!taken && n_nouns < MAX_NOUNS) {
    nouns[n_nouns].noun = util_intern(noun);
    nouns[n_nouns++].owner = util_intern(owner);
  } else if (!taken) {
    rc = -1;
  }
  pthread_mutex_unlock(&nouns_lock);
  if (taken && strcmp(taken, owner) != 0) {
    log_error("bus", "%s: the event noun %s is already %s's", owner, noun, taken);
    return -1;
  }
  if (rc) log_error("bus", "%s: too many event nouns", owner);
  return rc;
}

const char *bus_event_noun_owner(const char *noun)
{
  const char *owner = NULL;
  pthread_mutex_lock(&nouns_lock);
  for (int i = 0; i < n_nouns && !owner; i++)
    if (!strcmp(nouns[i].noun, noun)) owner = nouns[i].owner;
  pthread_mutex_unlock(&nouns_lock);
  return owner;   /* entries are never removed */
}

int bus_add_sink(const struct bus_sink *sink)
{
  if (n_sinks == MAX_SINKS) return -1;
  sinks[n_sinks++] = sink;
  return 0;
}

/* ------------------------------------------------------------------------------------------------ emit */

static const char SQL_OUTBOX_INSERT[] =
  "INSERT INTO core_outbox(event, subject, payload, created_at) VALUES (?1, ?2, ?3, ?4)";
static const char SQL_DELIVERY_INSERT[] =
  "INSERT INTO core_deliveries(uid, event_id, subscriber, subject, next_at, created_at, updated_at)"
  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)";

static int add_delivery(struct db *w, int64_t event_id, const char *subscriber, const char *subject, int64_t now,
                        const char *now_iso)
{
  /* The time in milliseconds (12 hex digits, so that they sort as they were made), then 96 random bits: the uid's
   * unique index grows at its end, where a random token wrote one random page of it per delivery (about half the
   * pages a group commit of webhooks wrote besides the tables' tails, tests/bench/orders.sh). */
  char uid[40];
  int n = snprintf(uid, sizeof uid, "%012llx", (unsigned long long)(util_now() * 1000.0) & 0xffffffffffffULL);
  util_token(uid + n, 12);
  return db_exec(w, SQL_DELIVERY_INSERT, "tittit", uid, event_id, subscriber, subject, now, now_iso) == SQLITE_OK ? 0 : -1;
}

/* v as cJSON_PrintUnformatted writes it, byte for byte, without its per-number snprintf + sscanf round trip (the
 * event row's JSON is written inside the writer's transaction): 0, or -1 for an item it does not know (the caller
 * prints with cJSON then). */
static int json_write(struct jbuf *b, const cJSON *v)
{
  switch (v->type & 0xFF) {
  case cJSON_NULL: jbuf_null(b); return 0;
  case cJSON_False: jbuf_bool(b, 0); return 0;
  case cJSON_True: jbuf_bool(b, 1); return 0;
  case cJSON_String:
    if (v->valuestring) jbuf_str(b, v->valuestring);
    else JBUF_LIT(b, "\"\"");
    return 0;
  case cJSON_Raw:
    if (!v->valuestring) return -1;
    jbuf_raw(b, v->valuestring, strlen(v->valuestring));
    return 0;
  case cJSON_Number:
    if (v->valuedouble == (double)v->valueint) {   /* cJSON's own test: "%d" of valueint */
      jbuf_int(b, v->valueint);
    } else {
      char *text = cJSON_PrintUnformatted(v);
      if (!text) return -1;
      jbuf_raw(b, text, strlen(text));
      cJSON_free(text);
    }
    return 0;
  case cJSON_Array:
  case cJSON_Object: {
    int obj = (v->type & 0xFF) == cJSON_Object;
    jbuf_raw(b, obj ? "{" : "[", 1);
    for (const cJSON *c = v->child; c; c = c->next) {
      if (c != v->child) JBUF_LIT(b, ",");
      if (obj) {
        if (!c->string) return -1;
        jbuf_str(b, c->string);
        JBUF_LIT(b, ":");
      }
      if (json_write(b, c) != 0) return -1;
    }
    jbuf_raw(b, obj ? "}" : "]", 1);
    return 0;
  }
  default: return -1;
  }
}

static char *payload_text_new(const cJSON *payload)
{
  struct jbuf b;
  jbuf_init(&b, 1024);
  if (json_write(&b, payload) != 0) {
    jbuf_free(&b);
    return cJSON_PrintUnformatted(payload);
  }
  return jbuf_take(&b, NULL);
}

int bus_emit(struct destek_req *call, const char *event, const char *subject, cJSON *payload)
{
  if (!event_name_ok(event, 0)) {
    cJSON_Delete(payload);
    log_error("bus", "%s emitted a malformed event name '%s'", call->owner, event);
    return http_error(call, 500, "internal", "internal error (bad event name)");
  }
  if (!payload) payload = cJSON_CreateObject();
  if (!cJSON_IsObject(payload)) {
    cJSON_Delete(payload);
    log_error("bus", "%s emitted %s with a payload that is not an object", call->owner, event);
    return http_error(call, 500, "internal", "internal error (bad event payload)");
  }
  if (!subject || !*subject) subject = "-";
  struct db *w = http_tx(call);
  if (!w) { cJSON_Delete(payload); return call->status; }
  char *text = payload_text_new(payload);
  time_t now = time(NULL);
  char now_iso[21];
  util_iso_time(now, now_iso);
  /* A savepoint, so that a veto takes back the event and whatever the sync subscribers wrote. */
  db_exec(w, "SAVEPOINT bus_emit", NULL);
  int64_t event_id = 0;
  if (db_exec(w, SQL_OUTBOX_INSERT, "tttt", event, subject, text, now_iso) == SQLITE_OK) event_id = db_last_id(w);
  free(text);
  if (!event_id) {
    db_exec(w, "ROLLBACK TO bus_emit", NULL);
    db_exec(w, "RELEASE bus_emit", NULL);
    cJSON_Delete(payload);
    return http_error(call, 500, "internal", "the event could not be recorded");
  }
  struct destek_event ev = { event_id, event, subject, payload, 1 };
  /* Noted for the live stream now, sent only if the transaction commits; a veto takes it back with the rest. */
  size_t live_at = live_mark(call);
  live_note(call, &ev);

  /* Snapshot the subscribers, so none is called with the registry locked. */
  struct subscriber sync[64], async_[64];
  int n_sync = 0, n_async = 0;
  pthread_rwlock_rdlock(&subs_lock);
  for (int i = 0; i < n_subs; i++) {
    if (!matches(subs[i].event, event)) continue;
    if (subs[i].mode == DESTEK_SYNC && n_sync < 64) sync[n_sync++] = subs[i];
    else if (subs[i].mode == DESTEK_ASYNC && n_async < 64) async_[n_async++] = subs[i];
  }
  pthread_rwlock_unlock(&subs_lock);

  for (int i = 0; i < n_sync; i++) {
    if (sync[i].want && !sync[i].want(&ev, sync[i].ud)) continue;
    char err[512] = "";
    const char *owner = call->owner;
    call->owner = sync[i].owner;
    int rc = sync[i].fn(call, &ev, sync[i].ud, err, sizeof err);
    call->owner = owner;
    if (rc != 0) {
      live_rewind(call, live_at);
      db_exec(w, "ROLLBACK TO bus_emit", NULL);
      db_exec(w, "RELEASE bus_emit", NULL);
      cJSON_Delete(payload);
      log_info("bus", "%s vetoed %s: %s", sync[i].name, event, err[0] ? err : "(no reason given)");
      return http_error(call, 422, "vetoed", "%s", err[0] ? err : "this change is not allowed");
    }
  }
  int failed = 0, queued = 0;
  for (int i = 0; i < n_async && !failed; i++)
    if (!async_[i].want || async_[i].want(&ev, async_[i].ud)) {
      failed = add_delivery(w, event_id, async_[i].name, subject, now, now_iso);
      queued++;
    }
  for (int s = 0; s < n_sinks && !failed; s++) {
    char names[MAX_TARGETS][64];
    int n = sinks[s]->targets(w, event, names, MAX_TARGETS);
    for (int i = 0; i < n && !failed; i++, queued++) failed = add_delivery(w, event_id, names[i], subject, now, now_iso);
  }
  db_exec(w, "RELEASE bus_emit", NULL);
  cJSON_Delete(payload);
  if (failed) return http_error(call, 500, "internal", "the event could not be queued");
  /* The bus is woken after the commit only for deliveries to make: an event nobody gets asynchronously leaves it
   * asleep (it still wakes for its jobs and timers). */
  if (queued) call->emitted = 1;
  return 0;
}

/* ------------------------------------------------------------------------------------------------ delivery */

void bus_wake(void)
{
  pthread_mutex_lock(&wake_lock);
  woken = 1;
  pthread_cond_signal(&wake_cond);
  pthread_mutex_unlock(&wake_lock);
}

struct due {
  int64_t id, event_id;
  int attempts;
  char uid[40], subscriber[200], subject[200], event[104], created_at[24];
  char *payload;
};

/* Due deliveries, earliest due first: the order of core_deliveries_due, so the scan stops after ?2 rows. (ORDER BY d.id
 * sorted every due row in a temporary B-tree on each batch: 0.8 s a batch with 230k pending after an import.) The
 * order of one subscriber's deliveries for one subject is kept by NOT EXISTS, whatever the scan's order. */
static const char SQL_DUE[] =
  "SELECT d.id, d.uid, d.subscriber, d.subject, d.attempts, o.id, o.event, o.payload, o.created_at"
  " FROM core_deliveries d JOIN core_outbox o ON o.id = d.event_id"
  " WHERE d.status = 'pending' AND d.next_at <= ?1"
  "   AND NOT EXISTS (SELECT 1 FROM core_deliveries p WHERE p.subscriber = d.subscriber AND p.subject = d.subject"
  "                   AND p.status = 'pending' AND p.id < d.id)"
  " ORDER BY d.next_at, d.id LIMIT ?2";

static int load_due(struct due *out, int max)
{
  struct db *db = db_reader();
  if (!db) return 0;
  sqlite3_stmt *st = db_prepare(db, SQL_DUE);
  if (!st) return 0;
  db_bind(st, "ii", (int64_t)time(NULL), (int64_t)max);
  int n = 0;
  while (n < max && sqlite3_step(st) == SQLITE_ROW) {
    struct due *d = &out[n++];
    d->id = sqlite3_column_int64(st, 0);
    snprintf(d->uid, sizeof d->uid, "%s", (const char *)sqlite3_column_text(st, 1));
    snprintf(d->subscriber, sizeof d->subscriber, "%s", (const char *)sqlite3_column_text(st, 2));
    snprintf(d->subject, sizeof d->subject, "%s", (const char *)sqlite3_column_text(st, 3));
    d->attempts = sqlite3_column_int(st, 4);
    d->event_id = sqlite3_column_int64(st, 5);
    snprintf(d->event, sizeof d->event, "%s", (const char *)sqlite3_column_text(st, 6));
    d->payload = util_strdup((const char *)sqlite3_column_text(st, 7));
    snprintf(d->created_at, sizeof d->created_at, "%s", (const char *)sqlite3_column_text(st, 8));
  }
  db_done(st);
  return n;
}

static const char SQL_DELIVERED[] =
  "UPDATE core_deliveries SET status = 'delivered', attempts = attempts + 1, last_error = NULL, updated_at = ?2,"
  " delivered_at = ?2 WHERE id = ?1";
static const char SQL_FAILED[] =
  "UPDATE core_deliveries SET status = ?2, attempts = attempts + 1, last_error = ?3, next_at = ?4, updated_at = ?5"
  " WHERE id = ?1";

/* Records a failed attempt: retried after base·2^(attempts-1) seconds (at most an hour), dead after the limit. */
static void record_failure(struct db *w, const struct due *d, const char *err)
{
  long base = settings_get_int("events.retry_base_seconds", 10), limit = settings_get_int("events.retry_limit", 10);
  if (base < 1) base = 1;
  int attempts = d->attempts + 1;
  long delay = base;
  for (int i = 1; i < attempts && delay < 3600; i++) delay *= 2;
  if (delay > 3600) delay = 3600;
  int dead = attempts >= limit;
  char now[21];
  util_iso_time(time(NULL), now);
  /* Due times are whole seconds: rounded up, so the wait is never shorter than the delay (a failure at x.99 s
   * would otherwise be retried 10 ms later). */
  int64_t due = (int64_t)ceil(util_now() + (double)delay);
  db_exec(w, SQL_FAILED, "ittit", d->id, dead ? "dead" : "pending", err, due, now);
  if (dead) log_warn("bus", "delivery %s of %s to %s is dead after %d attempts: %s", d->uid, d->event, d->subscriber,
                     attempts, err);
}

static void mark_done(struct db *w, int64_t id)
{
  char now[21];
  util_iso_time(time(NULL), now);
  db_exec(w, SQL_DELIVERED, "it", id, now);
}

/* Deliveries whose subscriber wrote nothing (it had nothing to do, or only called out): their "delivered" marks are
 * written together once the batch is through, one transaction instead of one each. A crash before that redelivers
 * them, which at-least-once delivery allows. */
static int64_t quiet_done[BATCH];
static int n_quiet_done;

static void quiet_done_flush(void)
{
  if (!n_quiet_done) return;
  struct db *w = db_tx_begin();
  if (w) {
    for (int i = 0; i < n_quiet_done; i++) mark_done(w, quiet_done[i]);
    db_tx_end(w, 1);
  }
  n_quiet_done = 0;
}

static void deliver_one(struct due *d)
{
  cJSON *payload = cJSON_Parse(d->payload);
  struct destek_event ev = { d->event_id, d->event, d->subject, payload, d->attempts + 1 };
  char err[512] = "";
  const struct bus_sink *sink = NULL;
  for (int s = 0; s < n_sinks && !sink; s++)
    if (!strncmp(d->subscriber, sinks[s]->prefix, strlen(sinks[s]->prefix))) sink = sinks[s];
  if (sink) {
    long response_status = 0;
    int rc = sink->deliver(d->subscriber, d->uid, &ev, &response_status, err, sizeof err);
    struct db *w = db_tx_begin();
    if (w) {
      if (rc == 0) mark_done(w, d->id); else record_failure(w, d, err[0] ? err : "failed");
      /* the last attempt's answer; none (NULL) when there was no HTTP answer */
      db_exec(w, "UPDATE core_deliveries SET response_status = nullif(?2, 0) WHERE id = ?1", "ii", d->id,
              (int64_t)response_status);
      db_tx_end(w, 1);
    }
  } else {
    struct subscriber sub = { 0 };
    pthread_rwlock_rdlock(&subs_lock);
    for (int i = 0; i < n_subs; i++)
      if (!strcmp(subs[i].name, d->subscriber)) { sub = subs[i]; break; }
    pthread_rwlock_unlock(&subs_lock);
    int rc = -1;
    struct destek_req c;
    call_begin(&c, sub.owner ? sub.owner : "core");
    if (!sub.fn) snprintf(err, sizeof err, "no subscriber named %s is loaded", d->subscriber);
    else rc = sub.fn(&c, &ev, sub.ud, err, sizeof err);
    if (rc == 0 && !c.tx && n_quiet_done < BATCH) {
      call_end(&c, 1);
      quiet_done[n_quiet_done++] = d->id;
    } else if (rc == 0) {
      /* The subscriber's writes and the delivery's record commit together. */
      struct db *w = http_tx(&c);
      if (w) mark_done(w, d->id);
      if (!w) call_end(&c, 0);
      if (!w || call_end(&c, 1) != 0) {
        rc = -1;
        snprintf(err, sizeof err, "could not commit the subscriber's work");
      }
    } else {
      call_end(&c, 0);
    }
    if (rc != 0) {
      struct db *w = db_tx_begin();
      if (w) {
        record_failure(w, d, err[0] ? err : "failed");
        db_tx_end(w, 1);
      }
    }
  }
  cJSON_Delete(payload);
}

static int deliver_batch(void)
{
  static struct due batch[BATCH];
  int n = load_due(batch, BATCH);
  for (int i = 0; i < n && running; i++) deliver_one(&batch[i]);
  quiet_done_flush();
  for (int i = 0; i < n; i++) free(batch[i].payload);
  return n;
}

static void *bus_main(void *arg)
{
  (void)arg;
  while (running) {
    double wait = jobs_run_due();
    int n = deliver_batch();
    if (n == BATCH) continue;
    if (n > 0) {
      /* A short batch: wait a moment so that the events of the next few commits go out together (fewer
       * transactions for the delivery marks) rather than one wake-up per commit. */
      struct timespec pause = { 0, 20 * 1000 * 1000 };
      nanosleep(&pause, NULL);
      continue;
    }
    pthread_mutex_lock(&wake_lock);
    if (!woken && running) {
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      long ns = (long)((wait > 0 ? wait : 0.05) * 1e9);
      ts.tv_sec += ns / 1000000000L;
      ts.tv_nsec += ns % 1000000000L;
      if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
      pthread_cond_timedwait(&wake_cond, &wake_lock, &ts);
    }
    woken = 0;
    pthread_mutex_unlock(&wake_lock);
  }
  lua_host_thread_release();
  db_reader_release();
  return NULL;
}

int bus_start(void)
{
  running = 1;
  if (pthread_create(&thread, NULL, bus_main, NULL) != 0) {
    running = 0;
    log_error("bus", "cannot start the delivery thread");
    return -1;
  }
  return 0;
}

void bus_stop(void)
{
  if (!running) return;
  pthread_mutex_lock(&wake_lock);
  running = 0;
  pthread_cond_signal(&wake_cond);
  pthread_mutex_unlock(&wake_lock);
  pthread_join(thread, NULL);
}

/* ------------------------------------------------------------------------------------------------ admin API */

cJSON *bus_delivery_json(void *stmt)
{
  sqlite3_stmt *st = stmt;
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(st, 0));
  cJSON_AddStringToObject(o, "uid", (const char *)sqlite3_column_text(st, 1));
  cJSON_AddStringToObject(o, "subscriber", (const char *)sqlite3_column_text(st, 2));
  cJSON_AddStringToObject(o, "subject", (const char *)sqlite3_column_text(st, 3));
  cJSON_AddStringToObject(o, "status", (const char *)sqlite3_column_text(st, 4));
  cJSON_AddNumberToObject(o, "attempts", sqlite3_column_int(st, 5));
  char next[21];
  util_iso_time((time_t)sqlite3_column_int64(st, 6), next);
  if (!strcmp((const char *)sqlite3_column_text(st, 4), "pending")) cJSON_AddStringToObject(o, "next_attempt_at", next);
  else cJSON_AddNullToObject(o, "next_attempt_at");
  const char *e = (const char *)sqlite3_column_text(st, 7);
  if (e) cJSON_AddStringToObject(o, "last_error", e); else cJSON_AddNullToObject(o, "last_error");
  cJSON_AddStringToObject(o, "created_at", (const char *)sqlite3_column_text(st, 8));
  cJSON_AddStringToObject(o, "updated_at", (const char *)sqlite3_column_text(st, 9));
  const char *dl = (const char *)sqlite3_column_text(st, 10);
  if (dl) cJSON_AddStringToObject(o, "delivered_at", dl); else cJSON_AddNullToObject(o, "delivered_at");
  cJSON_AddNumberToObject(o, "event_id", (double)sqlite3_column_int64(st, 11));
  cJSON_AddStringToObject(o, "event", (const char *)sqlite3_column_text(st, 12));
  if (sqlite3_column_type(st, 13) == SQLITE_NULL) cJSON_AddNullToObject(o, "response_status");
  else cJSON_AddNumberToObject(o, "response_status", sqlite3_column_int(st, 13));
  return o;
}

int bus_retry(struct db *w, int64_t delivery_id)
{
  char now[21];
  util_iso_time(time(NULL), now);
  if (db_exec(w, "UPDATE core_deliveries SET status = 'pending', next_at = ?2, attempts = 0, updated_at = ?3"
                 " WHERE id = ?1", "iit", delivery_id, (int64_t)time(NULL), now) != SQLITE_OK || db_changes(w) == 0)
    return -1;
  return 0;
}

static const char SQL_DELIVERIES_PAGE[] =
  "SELECT " BUS_DELIVERY_COLUMNS " FROM core_deliveries d JOIN core_outbox o ON o.id = d.event_id"
  " WHERE (?1 = 0 OR d.id < ?1) AND (?2 IS NULL OR d.status = ?2) AND (?3 IS NULL OR d.subscriber = ?3)"
  " ORDER BY d.id DESC LIMIT ?4";

static int deliveries_list(struct destek_req *r)
{
  int limit;
  int64_t after;
  int rc = http_page(r, &limit, &after);
  if (rc) return rc;
  char status[16], subscriber[200];
  int has_status = http_query_get(r, "status", status, sizeof status);
  if (has_status && strcmp(status, "pending") && strcmp(status, "delivered") && strcmp(status, "dead"))
    return http_field_error(r, "invalid_field", "status", "status must be pending, delivered or dead");
  int has_sub = http_query_get(r, "subscriber", subscriber, sizeof subscriber);
  struct db *db = http_db(r);
  sqlite3_stmt *st = db ? db_prepare(db, SQL_DELIVERIES_PAGE) : NULL;
  if (!st) return http_error(r, 500, "internal", "internal error");
  db_bind(st, "itti", after, has_status ? status : NULL, has_sub ? subscriber : NULL, (int64_t)limit + 1);
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

static int delivery_retry(struct destek_req *r)
{
  int64_t id = http_param_int(r, "id");
  struct db *w = http_tx(r);
  if (!w) return r->status;
  if (bus_retry(w, id) != 0) return http_error(r, 404, "not_found", "no such delivery");
  r->emitted = 1;  /* wakes the bus after commit */
  sqlite3_stmt *st = db_prepare(w, "SELECT " BUS_DELIVERY_COLUMNS " FROM core_deliveries d JOIN core_outbox o"
                                   " ON o.id = d.event_id WHERE d.id = ?1");
  cJSON *o = NULL;
  if (st) {
    db_bind(st, "i", id);
    if (sqlite3_step(st) == SQLITE_ROW) o = bus_delivery_json(st);
    db_done(st);
  }
  return http_reply_json(r, 202, o);
}

static const char SQL_EVENTS_PAGE[] =
  "SELECT id, event, subject, payload, created_at FROM core_outbox"
  " WHERE (?1 = 0 OR id < ?1) AND (?2 IS NULL OR event = ?2) AND (?3 IS NULL OR subject = ?3)"
  " ORDER BY id DESC LIMIT ?4";

static int events_list(struct destek_req *r)
{
  int limit;
  int64_t after;
  int rc = http_page(r, &limit, &after);
  if (rc) return rc;
  char event[104], subject[200];
  int has_event = http_query_get(r, "event", event, sizeof event);
  int has_subject = http_query_get(r, "subject", subject, sizeof subject);
  struct db *db = http_db(r);
  sqlite3_stmt *st = db ? db_prepare(db, SQL_EVENTS_PAGE) : NULL;
  if (!st) return http_error(r, 500, "internal", "internal error");
  db_bind(st, "itti", after, has_event ? event : NULL, has_subject ? subject : NULL, (int64_t)limit + 1);
  cJSON *items = cJSON_CreateArray();
  int n = 0;
  int64_t last = 0, next = 0;
  while (sqlite3_step(st) == SQLITE_ROW) {
    if (n == limit) { next = last; break; }
    last = sqlite3_column_int64(st, 0);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)last);
    cJSON_AddStringToObject(o, "event", (const char *)sqlite3_column_text(st, 1));
    cJSON_AddStringToObject(o, "subject", (const char *)sqlite3_column_text(st, 2));
    cJSON *p = cJSON_Parse((const char *)sqlite3_column_text(st, 3));
    cJSON_AddItemToObject(o, "payload", p ? p : cJSON_CreateObject());
    cJSON_AddStringToObject(o, "created_at", (const char *)sqlite3_column_text(st, 4));
    cJSON_AddItemToArray(items, o);
    n++;
  }
  db_done(st);
  return http_reply_json(r, 200, http_list_new(items, next));
}

/* Delivered rows and the events they carried are kept a week for the admins' view, then pruned. */
static int prune(struct destek_req *c, void *ud)
{
  (void)ud;
  struct db *w = http_tx(c);
  if (!w) return -1;
  char cutoff[21];
  util_iso_time(time(NULL) - 7 * 24 * 3600, cutoff);
  db_exec(w, "DELETE FROM core_deliveries WHERE status = 'delivered' AND delivered_at < ?1", "t", cutoff);
  db_exec(w, "DELETE FROM core_outbox WHERE created_at < ?1 AND NOT EXISTS"
             " (SELECT 1 FROM core_deliveries d WHERE d.event_id = core_outbox.id)", "t", cutoff);
  return 0;
}

static const struct destek_route routes[] = {
  { "GET",  "/api/v1/events",                       events_list,     DESTEK_ADMIN, NULL },
  { "GET",  "/api/v1/events/deliveries",            deliveries_list, DESTEK_ADMIN, NULL },
  { "POST", "/api/v1/events/deliveries/{id}/retry", delivery_retry,  DESTEK_ADMIN, "id:int" },
  { 0 }
};

static const struct destek_setting bus_settings[] = {
  { "events.retry_base_seconds", DESTEK_SETTING_INT, "10", 0,
    "Seconds before the first retry of a failed event delivery; each retry waits twice as long (at most an hour)" },
  { "events.retry_limit", DESTEK_SETTING_INT, "10", 0,
    "Attempts before a delivery is dead-lettered (admins can retry it)" },
  { 0 }
};

int bus_init(void)
{
  int rc = settings_declare("core", bus_settings) | http_routes_add("core", routes);
  rc |= jobs_every("core", "events.prune", 3600, prune, NULL);
  /* The core's events: user.created, user.updated (users_api.c); "core" is kept for the core's future events. */
  rc |= bus_event_owner("user", "core") | bus_event_owner("core", "core");
  return rc;
}
