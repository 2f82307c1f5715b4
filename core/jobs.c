/* Periodic jobs and one-shot timers (see jobs.h). Everything here runs on the bus thread. */
#include "jobs.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "http.h"
#include "log.h"
#include "util.h"

#define MAX_JOBS 128
#define MAX_HANDLERS 128

struct job { const char *owner, *name; int seconds; destek_job_fn fn; void *ud; double next_due; };
struct handler { const char *owner, *kind; destek_timer_fn fn; void *ud; };

static struct job jobs[MAX_JOBS];
static int n_jobs;
static struct handler handlers[MAX_HANDLERS];
static int n_handlers;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

int jobs_every(const char *owner, const char *job, int seconds, destek_job_fn fn, void *ud)
{
  if (seconds < 1 || !fn || !job || !*job) {
    log_error("jobs", "%s: job '%s' refused (needs a name, a function and seconds >= 1)", owner, job ? job : "");
    return -1;
  }
  pthread_mutex_lock(&lock);
  int rc = -1;
  if (n_jobs < MAX_JOBS) {
    jobs[n_jobs++] = (struct job){ util_intern(owner), util_intern(job), seconds, fn, ud, util_mono() + seconds };
    rc = 0;
  }
  pthread_mutex_unlock(&lock);
  if (rc) log_error("jobs", "%s: too many jobs", owner);
  return rc;
}

int jobs_timer_handler(const char *owner, const char *kind, destek_timer_fn fn, void *ud)
{
  if (!fn || !kind || !*kind) return -1;
  pthread_mutex_lock(&lock);
  int rc = -1;
  int dup = 0;
  for (int i = 0; i < n_handlers; i++) if (!strcmp(handlers[i].kind, kind)) dup = 1;
  if (!dup && n_handlers < MAX_HANDLERS) {
    handlers[n_handlers++] = (struct handler){ util_intern(owner), util_intern(kind), fn, ud };
    rc = 0;
  }
  pthread_mutex_unlock(&lock);
  if (rc) log_error("jobs", "%s: timer kind '%s' refused (%s)", owner, kind, dup ? "already handled" : "too many");
  return rc;
}

void jobs_forget_owner(const char *owner)
{
  pthread_mutex_lock(&lock);
  int k = 0;
  for (int i = 0; i < n_jobs; i++) if (strcmp(jobs[i].owner, owner)) jobs[k++] = jobs[i];
  n_jobs = k;
  k = 0;
  for (int i = 0; i < n_handlers; i++) if (strcmp(handlers[i].owner, owner)) handlers[k++] = handlers[i];
  n_handlers = k;
  pthread_mutex_unlock(&lock);
}

int jobs_timer_at(struct destek_req *call, const char *kind, const char *key, int64_t due_unix, cJSON *payload)
{
  struct db *w = http_tx(call);
  if (!w) { cJSON_Delete(payload); return -1; }
  char *text = payload ? cJSON_PrintUnformatted(payload) : NULL;
  cJSON_Delete(payload);
  int rc = db_exec(w, "INSERT INTO core_timers(kind, key, due_at, payload) VALUES (?1, ?2, ?3, ?4)"
                      " ON CONFLICT(kind, key) DO UPDATE SET due_at = excluded.due_at, payload = excluded.payload,"
                      " attempts = 0, last_error = NULL", "ttit", kind, key, due_unix, text ? text : "{}");
  cJSON_free(text);
  if (rc == SQLITE_OK) call->emitted = 1;  /* wake the bus thread: the timer may be due already */
  return rc == SQLITE_OK ? 0 : -1;
}

int jobs_timer_cancel(struct destek_req *call, const char *kind, const char *key)
{
  struct db *w = http_tx(call);
  if (!w) return -1;
  return db_exec(w, "DELETE FROM core_timers WHERE kind = ?1 AND key = ?2", "tt", kind, key) == SQLITE_OK ? 0 : -1;
}

static void run_periodic(double now)
{
  for (int i = 0;; i++) {
    pthread_mutex_lock(&lock);
    if (i >= n_jobs) { pthread_mutex_unlock(&lock); break; }
    struct job j = jobs[i];
    int due = j.next_due <= now;
    if (due) jobs[i].next_due = now + j.seconds;
    pthread_mutex_unlock(&lock);
    if (!due) continue;
    struct destek_req c;
    call_begin(&c, j.owner);
    int rc = j.fn(&c, j.ud);
    if (call_end(&c, rc == 0) != 0 && rc == 0) log_warn("jobs", "%s: job %s could not commit", j.owner, j.name);
    else if (rc != 0) log_warn("jobs", "%s: job %s failed", j.owner, j.name);
  }
}

struct due_timer { int64_t id, due_at; int attempts; char kind[128], key[256]; char *payload; };

static void run_timers(void)
{
  struct due_timer due[32];
  int n = 0;
  struct db *db = db_reader();
  if (!db) return;
  sqlite3_stmt *st = db_prepare(db, "SELECT id, kind, key, payload, attempts, due_at FROM core_timers"
                                    " WHERE due_at <= ?1 ORDER BY due_at, id LIMIT 32");
  if (!st) return;
  db_bind(st, "i", (int64_t)time(NULL));
  while (n < 32 && sqlite3_step(st) == SQLITE_ROW) {
    struct due_timer *t = &due[n++];
    t->id = sqlite3_column_int64(st, 0);
    snprintf(t->kind, sizeof t->kind, "%s", (const char *)sqlite3_column_text(st, 1));
    snprintf(t->key, sizeof t->key, "%s", (const char *)sqlite3_column_text(st, 2));
    t->payload = util_strdup((const char *)sqlite3_column_text(st, 3));
    t->attempts = sqlite3_column_int(st, 4);
    t->due_at = sqlite3_column_int64(st, 5);
  }
  db_done(st);
  for (int i = 0; i < n; i++) {
    struct due_timer *t = &due[i];
    struct handler h = { 0 };
    pthread_mutex_lock(&lock);
    for (int k = 0; k < n_handlers; k++) if (!strcmp(handlers[k].kind, t->kind)) { h = handlers[k]; break; }
    pthread_mutex_unlock(&lock);
    int rc = -1;
    const char *why = "no plugin handles this kind of timer";
    if (h.fn) {
      cJSON *payload = cJSON_Parse(t->payload);
      struct destek_req c;
      call_begin(&c, h.owner);
      rc = h.fn(&c, t->key, payload, h.ud);
      cJSON_Delete(payload);
      why = "the handler failed";
      if (rc == 0) {
        /* Fired timers go in the same transaction as the handler's work; one it moved to later stays. */
        struct db *w = http_tx(&c);
        if (w) db_exec(w, "DELETE FROM core_timers WHERE id = ?1 AND due_at = ?2", "ii", t->id, t->due_at);
        if (!w) call_end(&c, 0);
        if (!w || call_end(&c, 1) != 0) { rc = -1; why = "could not commit"; }
      } else {
        call_end(&c, 0);
      }
    }
    if (rc != 0) {
      int64_t delay = 60;
      for (int a = 0; a < t->attempts && delay < 3600; a++) delay *= 2;
      if (delay > 3600) delay = 3600;
      struct db *w = db_writer_acquire();
      if (db_begin(w) == 0) {
        db_exec(w, "UPDATE core_timers SET attempts = attempts + 1, last_error = ?2, due_at = ?3 WHERE id = ?1",
                "iti", t->id, why, (int64_t)time(NULL) + delay);
        db_commit(w);
      }
      db_writer_release(w);
      log_warn("jobs", "timer %s/%s: %s; retrying in %lld s", t->kind, t->key, why, (long long)delay);
    }
    free(t->payload);
  }
}

double jobs_run_due(void)
{
  double now = util_mono();
  run_periodic(now);
  run_timers();
  double next = 1.0;
  pthread_mutex_lock(&lock);
  for (int i = 0; i < n_jobs; i++)
    if (jobs[i].next_due - util_mono() < next) next = jobs[i].next_due - util_mono();
  pthread_mutex_unlock(&lock);
  return next > 0 ? next : 0;
}
