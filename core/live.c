/* Live updates over a websocket (see live.h).
 *
 * Threads. CivetWeb gives each socket a worker thread, which runs its read loop and calls ws_data for every
 * message; writes that may block must not run there, nor on the thread that committed an event. So each socket
 * also has a small sender thread that drains its queue: a client that stops reading blocks only its own sender
 * (CivetWeb's write gives up after request_timeout_ms), its queue fills up to QUEUE_MAX frames / QUEUE_BYTES, and
 * then the queue is dropped and the client told to resync. One housekeeping thread expires presence, sends
 * heartbeats and re-checks every socket's session or token.
 *
 * Locks. One mutex (lock) guards the sockets, their queues and the presence reports. It is taken while the
 * writer is held (after_commit, the commit hook), never the other way round: nothing here touches the writer with
 * lock held. */
#include "live.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <civetweb.h>

#include "auth.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "util.h"

#define MAX_STREAMS 32
#define MAX_SUBJECT_KINDS 16
#define SUBJECT_MAX 64
#define NAME_MAX_ 256                  /* as auth_who.name: a cut name could end mid-UTF-8, which ends a socket */
#define QUEUE_MAX 256                  /* frames waiting for one socket */
#define QUEUE_BYTES (256 * 1024)
#define MESSAGE_MAX 4096               /* a client's message */
#define RATE_WINDOW 10.0               /* seconds ... */
#define RATE_MAX 100                   /* ... and messages a client may send in them */
#define PER_USER_MAX 8                 /* sockets one user may hold (tabs, devices) */
#define HEARTBEAT_SECONDS 25
#define REVALIDATE_SECONDS 10             /* two cheap lookups per socket */
#define TYPING_TTL 8.0                 /* a socket's "typing" lasts this long unless repeated */
#define REPORTS_MAX 512                /* HTTP presence reports */
#define SENDER_STACK (256 * 1024)
#define GOODBYE_WAIT 0.3               /* seconds live_stop waits for close frames to go out */

/* ------------------------------------------------------------------------------------------------ declarations */

/* Declarations change while requests run only when Lua plugins are reloaded; readers copy what they need under the
 * read lock and call the functions after releasing it. */
struct stream { const char *owner, *pattern; live_summary_fn fn; live_summary_ud_fn fn_ud; void *ud; };
struct subject_kind { const char *owner, *prefix; live_subject_fn fn; live_subject_ud_fn fn_ud; void *ud; };
static struct stream streams[MAX_STREAMS];
static int n_streams;
static struct subject_kind subject_kinds[MAX_SUBJECT_KINDS];
static int n_subject_kinds;
static pthread_rwlock_t decl_lock = PTHREAD_RWLOCK_INITIALIZER;

static int stream_add(const char *owner, const char *pattern, live_summary_fn fn, live_summary_ud_fn fn_ud, void *ud)
{
  pthread_rwlock_wrlock(&decl_lock);
  int ok = n_streams < MAX_STREAMS && pattern && *pattern && (fn || fn_ud);
  if (ok) streams[n_streams++] = (struct stream){ util_intern(owner), util_intern(pattern), fn, fn_ud, ud };
  pthread_rwlock_unlock(&decl_lock);
  if (!ok) log_error("live", "%s: streaming %s refused", owner, pattern ? pattern : "?");
  return ok ? 0 : -1;
}

int live_stream_events(const char *owner, const char *pattern, live_summary_fn summarize)
{
  return stream_add(owner, pattern, summarize, NULL, NULL);
}

int live_stream_events_ud(const char *owner, const char *pattern, live_summary_ud_fn summarize, void *ud)
{
  return stream_add(owner, pattern, NULL, summarize, ud);
}

static int subjects_add(const char *owner, const char *prefix, live_subject_fn fn, live_subject_ud_fn fn_ud, void *ud)
{
  pthread_rwlock_wrlock(&decl_lock);
  int ok = n_subject_kinds < MAX_SUBJECT_KINDS && prefix && *prefix && !strchr(prefix, ':') && (fn || fn_ud);
  if (ok)
    subject_kinds[n_subject_kinds++] = (struct subject_kind){ util_intern(owner), util_intern(prefix), fn, fn_ud, ud };
  pthread_rwlock_unlock(&decl_lock);
  if (!ok) log_error("live", "%s: presence on %s refused", owner, prefix ? prefix : "?");
  return ok ? 0 : -1;
}

int live_subjects(const char *owner, const char *prefix, live_subject_fn check)
{
  return subjects_add(owner, prefix, check, NULL, NULL);
}

int live_subjects_ud(const char *owner, const char *prefix, live_subject_ud_fn check, void *ud)
{
  return subjects_add(owner, prefix, NULL, check, ud);
}

void live_forget_owner(const char *owner)
{
  pthread_rwlock_wrlock(&decl_lock);
  int k = 0;
  for (int i = 0; i < n_streams; i++)
    if (strcmp(streams[i].owner, owner) != 0) streams[k++] = streams[i];
  n_streams = k;
  k = 0;
  for (int i = 0; i < n_subject_kinds; i++)
    if (strcmp(subject_kinds[i].owner, owner) != 0) subject_kinds[k++] = subject_kinds[i];
  n_subject_kinds = k;
  pthread_rwlock_unlock(&decl_lock);
}

/* "*", an exact name, or "noun.*". */
static int pattern_matches(const char *pattern, const char *event)
{
  if (!strcmp(pattern, "*") || !strcmp(pattern, event)) return 1;
  size_t n = strlen(pattern);
  return n >= 2 && pattern[n - 1] == '*' && pattern[n - 2] == '.' && !strncmp(pattern, event, n - 1);
}

/* ------------------------------------------------------------------------------------------------ frames */

/* A frame as queued: shared by every socket it goes to, freed when the last one is done with it. */
struct frame {
  int refs;                  /* guarded by lock */
  size_t len;
  char data[];
};

static struct frame *frame_new(const char *data, size_t len)
{
  struct frame *f = malloc(sizeof *f + len + 1);
  if (!f) abort();
  f->refs = 0;
  f->len = len;
  memcpy(f->data, data, len);
  f->data[len] = 0;
  return f;
}

/* The frame for o (which stays the caller's). */
static struct frame *frame_json(const cJSON *o)
{
  char *text = cJSON_PrintUnformatted(o);
  if (!text) abort();
  struct frame *f = frame_new(text, strlen(text));
  cJSON_free(text);
  return f;
}

/* With lock held. */
static void frame_unref(struct frame *f)
{
  if (--f->refs <= 0) free(f);
}

/* ------------------------------------------------------------------------------------------------ sockets */

struct conn {
  struct conn *next;
  uint64_t serial;                 /* unique for the process: the housekeeper refers to sockets by it */
  struct mg_connection *mg;
  int open;                        /* handshake done (before: admitted, counted, not yet sent to) */
  enum auth_via via;
  int64_t user_id, session_id, token_id;
  char name[NAME_MAX_], email[256], ip[48];
  double opened;

  struct frame *q[QUEUE_MAX];      /* a ring */
  int q_head, q_len;
  size_t q_bytes;
  int resync;                      /* frames were dropped: say so before the next one */
  int close_code;                  /* a close frame to send (0: none) */
  char close_reason[64];
  int close_sent, write_failed, closing;
  pthread_t sender;
  int has_sender;
  pthread_cond_t cond;             /* signals the sender */

  char subject[SUBJECT_MAX];       /* presence: what it views ("" for nothing) */
  int typing;
  double typing_at;

  double window_at;                /* rate limit of the client's messages */
  int window_n;
};

struct report {                    /* an HTTP presence report */
  char subject[SUBJECT_MAX];
  int64_t user_id;
  char name[NAME_MAX_];
  int typing;
  double seen;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t keeper_cond = PTHREAD_COND_INITIALIZER;
static struct conn *conns;
static int n_conns, max_conns = 40, stopping, keeper_running;
static uint64_t next_serial = 1;
static uint64_t seq;                              /* of the last event frame */
static unsigned long long frames_total, dropped_total;
static struct report reports[REPORTS_MAX];
static pthread_t keeper;

/* Queues f for c (lock held). A full queue is emptied instead, and the client told to resync. */
static void enqueue(struct conn *c, struct frame *f)
{
  if (!c->open || c->close_code || c->close_sent || c->write_failed || c->closing) return;
  if (c->q_len == QUEUE_MAX || c->q_bytes + f->len > QUEUE_BYTES) {
    for (int i = 0; i < c->q_len; i++) frame_unref(c->q[(c->q_head + i) % QUEUE_MAX]);
    dropped_total += (unsigned long long)c->q_len + 1;
    c->q_len = 0;
    c->q_bytes = 0;
    if (!c->resync) log_warn("live", "%s (%s) reads too slowly: its queue was dropped, it will resync", c->email, c->ip);
    c->resync = 1;
    pthread_cond_signal(&c->cond);
    return;
  }
  f->refs++;
  c->q[(c->q_head + c->q_len) % QUEUE_MAX] = f;
  c->q_len++;
  c->q_bytes += f->len;
  frames_total++;
  pthread_cond_signal(&c->cond);
}

/* Queues o for c alone, or for everyone (c NULL) (lock held). o stays the caller's. */
static void send_json(struct conn *c, const cJSON *o)
{
  struct frame *f = frame_json(o);
  f->refs++;                       /* held while it is being queued */
  if (c) enqueue(c, f);
  else for (struct conn *k = conns; k; k = k->next) enqueue(k, f);
  frame_unref(f);
}

static void send_error(struct conn *c, const char *code, const char *message)
{
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "type", "error");
  cJSON_AddStringToObject(o, "code", code);
  cJSON_AddStringToObject(o, "message", message);
  send_json(c, o);
  cJSON_Delete(o);
}

/* Asks c's sender to close the socket with code and reason (lock held). */
static void request_close(struct conn *c, int code, const char *reason)
{
  if (c->close_code || c->close_sent) return;
  c->close_code = code;
  snprintf(c->close_reason, sizeof c->close_reason, "%s", reason);
  pthread_cond_signal(&c->cond);
}

static void *sender_main(void *arg)
{
  struct conn *c = arg;
  pthread_mutex_lock(&lock);
  for (;;) {
    if (c->close_code && !c->close_sent && !c->write_failed) {
      unsigned char buf[2 + sizeof c->close_reason];
      buf[0] = (unsigned char)(c->close_code >> 8);
      buf[1] = (unsigned char)(c->close_code & 0xff);
      size_t n = strlen(c->close_reason);
      memcpy(buf + 2, c->close_reason, n);
      c->close_sent = 1;
      pthread_mutex_unlock(&lock);
      int rc = mg_websocket_write(c->mg, MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE, (const char *)buf, n + 2);
      pthread_mutex_lock(&lock);
      if (rc <= 0) c->write_failed = 1;
      continue;
    }
    if (c->closing) break;
    if (c->close_sent || c->write_failed || (!c->resync && c->q_len == 0)) {
      pthread_cond_wait(&c->cond, &lock);
      continue;
    }
    struct frame *f;
    if (c->resync) {
      c->resync = 0;
      char text[96];
      int n = snprintf(text, sizeof text, "{\"type\":\"resync\",\"seq\":%llu,\"reason\":\"overflow\"}",
                       (unsigned long long)seq);
      f = frame_new(text, (size_t)n);
      f->refs = 1;
    } else {
      f = c->q[c->q_head];
      c->q_head = (c->q_head + 1) % QUEUE_MAX;
      c->q_len--;
      c->q_bytes -= f->len;
    }
    pthread_mutex_unlock(&lock);
    int rc = mg_websocket_write(c->mg, MG_WEBSOCKET_OPCODE_TEXT, f->data, f->len);
    pthread_mutex_lock(&lock);
    frame_unref(f);
    if (rc <= 0) {
      c->write_failed = 1;
      log_info("live", "%s (%s): a write failed; the socket is given up", c->email, c->ip);
    }
  }
  pthread_mutex_unlock(&lock);
  return NULL;
}

static struct conn *conn_by_mg(const struct mg_connection *mg)
{
  for (struct conn *c = conns; c; c = c->next)
    if (c->mg == mg) return c;
  return NULL;
}

static void conn_unlink(struct conn *c)
{
  for (struct conn **p = &conns; *p; p = &(*p)->next)
    if (*p == c) { *p = c->next; n_conns--; return; }
}

static void conn_free(struct conn *c)
{
  for (int i = 0; i < c->q_len; i++) frame_unref(c->q[(c->q_head + i) % QUEUE_MAX]);
  pthread_cond_destroy(&c->cond);
  free(c);
}

/* ------------------------------------------------------------------------------------------------ presence */

struct viewer { int64_t user_id; const char *name; int typing; double seen; };

/* Who views subject (lock held): one entry per user, typing when any of their sockets or reports is. */
static int viewers_of(const char *subject, struct viewer *out, int max, double now)
{
  int n = 0;
  for (struct conn *c = conns; c; c = c->next) {
    if (!c->open || c->closing || strcmp(c->subject, subject)) continue;
    int i = 0;
    while (i < n && out[i].user_id != c->user_id) i++;
    if (i == n) {
      if (n == max) continue;
      out[n++] = (struct viewer){ c->user_id, c->name, 0, now };
    }
    out[i].typing |= c->typing;
    out[i].seen = now;
  }
  for (int r = 0; r < REPORTS_MAX; r++) {
    struct report *p = &reports[r];
    if (!p->subject[0] || now - p->seen > LIVE_PRESENCE_TTL || strcmp(p->subject, subject)) continue;
    int i = 0;
    while (i < n && out[i].user_id != p->user_id) i++;
    if (i == n) {
      if (n == max) continue;
      out[n++] = (struct viewer){ p->user_id, p->name, 0, p->seen };
    }
    out[i].typing |= p->typing;
    if (p->seen > out[i].seen) out[i].seen = p->seen;
  }
  return n;
}

/* The presence frame for subject. */
static cJSON *presence_frame_new(const char *subject, double now)
{
  struct viewer v[64];
  int n = viewers_of(subject, v, 64, now);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "type", "presence");
  cJSON_AddStringToObject(o, "subject", subject);
  cJSON *arr = cJSON_AddArrayToObject(o, "viewers");
  for (int i = 0; i < n; i++) {
    cJSON *x = cJSON_CreateObject();
    cJSON_AddNumberToObject(x, "user_id", (double)v[i].user_id);
    cJSON_AddStringToObject(x, "name", v[i].name);
    cJSON_AddBoolToObject(x, "typing", v[i].typing);
    cJSON_AddItemToArray(arr, x);
  }
  return o;
}

/* Tells every socket viewing subject who views it (lock held). */
static void presence_broadcast(const char *subject, double now)
{
  if (!subject[0]) return;
  struct frame *f = NULL;
  for (struct conn *c = conns; c; c = c->next) {
    if (!c->open || strcmp(c->subject, subject)) continue;
    if (!f) {
      cJSON *o = presence_frame_new(subject, now);
      f = frame_json(o);
      cJSON_Delete(o);
      f->refs++;
    }
    enqueue(c, f);
  }
  if (f) frame_unref(f);
}

void live_presence_touch(const char *subject, int64_t user_id, const char *name, int typing)
{
  double now = util_mono();
  pthread_mutex_lock(&lock);
  int slot = -1, oldest = 0;
  for (int i = 0; i < REPORTS_MAX; i++) {
    if (reports[i].subject[0] && reports[i].user_id == user_id && !strcmp(reports[i].subject, subject)) { slot = i; break; }
    if (slot < 0 && (!reports[i].subject[0] || now - reports[i].seen > LIVE_PRESENCE_TTL)) slot = i;
    if (reports[i].seen < reports[oldest].seen) oldest = i;
  }
  if (slot < 0) slot = oldest;   /* full: the stalest report goes */
  struct report *p = &reports[slot];
  int changed = strcmp(p->subject, subject) || p->user_id != user_id || now - p->seen > LIVE_PRESENCE_TTL ||
                p->typing != (typing != 0);
  if (strcmp(p->subject, subject) && p->subject[0] && now - p->seen <= LIVE_PRESENCE_TTL) {
    char was[SUBJECT_MAX];
    snprintf(was, sizeof was, "%s", p->subject);
    p->subject[0] = 0;
    presence_broadcast(was, now);
  }
  snprintf(p->subject, sizeof p->subject, "%s", subject);
  p->user_id = user_id;
  snprintf(p->name, sizeof p->name, "%s", name);
  p->typing = typing != 0;
  p->seen = now;
  if (changed) presence_broadcast(subject, now);
  pthread_mutex_unlock(&lock);
}

cJSON *live_presence_items_new(const char *subject, int64_t except_user_id)
{
  double now = util_mono();
  cJSON *items = cJSON_CreateArray();
  pthread_mutex_lock(&lock);
  struct viewer v[64];
  int n = viewers_of(subject, v, 64, now);
  for (int i = 0; i < n; i++) {
    if (v[i].user_id == except_user_id) continue;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "user_id", (double)v[i].user_id);
    cJSON_AddStringToObject(o, "name", v[i].name);
    cJSON_AddBoolToObject(o, "typing", v[i].typing);
    cJSON_AddNumberToObject(o, "seconds_ago", (int)(now - v[i].seen));
    cJSON_AddItemToArray(items, o);
  }
  pthread_mutex_unlock(&lock);
  return items;
}

int live_user_online(int64_t user_id)
{
  double now = util_mono();
  int online = 0;
  pthread_mutex_lock(&lock);
  for (struct conn *c = conns; c && !online; c = c->next)
    online = c->open && !c->closing && c->user_id == user_id;
  for (int i = 0; i < REPORTS_MAX && !online; i++)
    online = reports[i].subject[0] && reports[i].user_id == user_id && now - reports[i].seen <= LIVE_PRESENCE_TTL;
  pthread_mutex_unlock(&lock);
  return online;
}

void live_presence_forget(const char *subject)
{
  pthread_mutex_lock(&lock);
  int had = 0;
  for (int i = 0; i < REPORTS_MAX; i++)
    if (!strcmp(reports[i].subject, subject)) { reports[i].subject[0] = 0; had = 1; }
  if (had) presence_broadcast(subject, util_mono());
  pthread_mutex_unlock(&lock);
}

/* Whether a client may watch subject: well formed, of a declared kind, and that kind's check agrees. */
static int subject_ok(const char *subject)
{
  size_t n = strlen(subject);
  if (n < 3 || n >= SUBJECT_MAX) return 0;
  for (const char *p = subject; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '.' || *p == ':'))
      return 0;
  const char *colon = strchr(subject, ':');
  if (!colon || colon == subject || !colon[1]) return 0;
  struct subject_kind kind = { 0 };
  pthread_rwlock_rdlock(&decl_lock);
  for (int i = 0; i < n_subject_kinds && !kind.prefix; i++) {
    size_t pl = strlen(subject_kinds[i].prefix);
    if (pl == (size_t)(colon - subject) && !strncmp(subject, subject_kinds[i].prefix, pl)) kind = subject_kinds[i];
  }
  pthread_rwlock_unlock(&decl_lock);
  if (!kind.prefix) return 0;
  return (kind.fn ? kind.fn(subject) : kind.fn_ud(subject, kind.ud)) == 1;
}

/* ------------------------------------------------------------------------------------------------ events */

struct live_batch {
  size_t n, cap;
  cJSON **frames;
};

size_t live_mark(struct destek_req *call) { return call->live ? call->live->n : 0; }

void live_note(struct destek_req *call, const struct destek_event *ev)
{
  cJSON *frame = NULL;
  struct stream match[MAX_STREAMS];
  int n_match = 0;
  pthread_rwlock_rdlock(&decl_lock);
  for (int i = 0; i < n_streams; i++)
    if (pattern_matches(streams[i].pattern, ev->name)) match[n_match++] = streams[i];
  pthread_rwlock_unlock(&decl_lock);
  for (int i = 0; i < n_match; i++) {
    if (!frame) {
      frame = cJSON_CreateObject();
      cJSON_AddStringToObject(frame, "type", "event");
      cJSON_AddStringToObject(frame, "name", ev->name);
      cJSON_AddStringToObject(frame, "subject", ev->subject);
      cJSON_AddNumberToObject(frame, "event_id", (double)ev->id);
    }
    if (match[i].fn) match[i].fn(ev, frame);
    else match[i].fn_ud(ev, frame, match[i].ud);
  }
  if (!frame) return;
  struct live_batch *b = call->live;
  if (!b) {
    b = call->live = calloc(1, sizeof *b);
    if (!b) abort();
  }
  if (b->n == b->cap) {
    b->cap = b->cap ? 2 * b->cap : 8;
    b->frames = realloc(b->frames, b->cap * sizeof *b->frames);
    if (!b->frames) abort();
  }
  b->frames[b->n++] = frame;
}

void live_rewind(struct destek_req *call, size_t mark)
{
  struct live_batch *b = call->live;
  if (!b) return;
  while (b->n > mark) cJSON_Delete(b->frames[--b->n]);
}

void live_discard(struct destek_req *call)
{
  struct live_batch *b = call->live;
  if (!b) return;
  live_rewind(call, 0);
  free(b->frames);
  free(b);
  call->live = NULL;
}

/* Frames of calls whose writes wait in the open group-commit batch, in the order the calls left it. Touched only
 * with the writer held (live_stage before db_tx_end, after_commit from the commit). */
static struct live_batch staged;
static int staging;   /* the commit hook is registered: a server, not a CLI command */

void live_stage(struct destek_req *call)
{
  struct live_batch *b = call->live;
  if (!b) return;
  if (staging) {
    for (size_t i = 0; i < b->n; i++) {
      if (staged.n == staged.cap) {
        staged.cap = staged.cap ? staged.cap * 2 : 64;
        staged.frames = realloc(staged.frames, staged.cap * sizeof *staged.frames);
        if (!staged.frames) abort();
      }
      staged.frames[staged.n++] = b->frames[i];
    }
    b->n = 0;
  }
  live_discard(call);
}

static void after_commit(int committed, void *ud)
{
  if (!staged.n) return;
  if (committed) {
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < staged.n; i++) {
      cJSON_AddNumberToObject(staged.frames[i], "seq", (double)++seq);
      if (conns) send_json(NULL, staged.frames[i]);
    }
    pthread_mutex_unlock(&lock);
  }
  for (size_t i = 0; i < staged.n; i++) cJSON_Delete(staged.frames[i]);
  staged.n = 0;
}

/* ------------------------------------------------------------------------------------------------ housekeeping */

struct cred { uint64_t serial; enum auth_via via; int64_t session_id, token_id; };

static const char SQL_SESSION_ALIVE[] =
  "SELECT count(*) FROM core_sessions s JOIN core_users u ON u.id = s.user_id"
  " WHERE s.id = ?1 AND u.active = 1 AND s.expires_at > ?2 AND s.last_seen_at > ?3";
static const char SQL_TOKEN_ALIVE[] =
  "SELECT count(*) FROM core_tokens t JOIN core_users u ON u.id = t.user_id"
  " WHERE t.id = ?1 AND t.revoked_at IS NULL AND u.active = 1";

/* Closes (4401) the sockets whose session ended or whose token was revoked. Called without lock. */
static void revalidate(void)
{
  struct cred creds[256];
  int n = 0;
  pthread_mutex_lock(&lock);
  for (struct conn *c = conns; c && n < 256; c = c->next)
    if (c->open && !c->close_code) creds[n++] = (struct cred){ c->serial, c->via, c->session_id, c->token_id };
  pthread_mutex_unlock(&lock);
  if (!n) return;
  struct db *db = db_reader();
  if (!db) return;
  int64_t now = time(NULL);
  for (int i = 0; i < n; i++) {
    int64_t alive = 1;
    if (creds[i].via == AUTH_COOKIE)
      alive = db_int(db, 1, SQL_SESSION_ALIVE, "iii", creds[i].session_id, now, now - AUTH_SESSION_IDLE_SECONDS);
    else if (creds[i].via == AUTH_BEARER)
      alive = db_int(db, 1, SQL_TOKEN_ALIVE, "i", creds[i].token_id);
    if (alive) continue;
    pthread_mutex_lock(&lock);
    for (struct conn *c = conns; c; c = c->next)
      if (c->serial == creds[i].serial) {
        log_info("live", "%s (%s): the %s ended; closing its socket", c->email, c->ip,
                 c->via == AUTH_COOKIE ? "session" : "token");
        request_close(c, 4401, "session ended");
      }
    pthread_mutex_unlock(&lock);
  }
}

/* Typing that was not repeated and HTTP reports that aged out (lock held): tells the viewers. */
static void expire_presence(double now)
{
  char dirty[32][SUBJECT_MAX];
  int n = 0;
  for (struct conn *c = conns; c; c = c->next)
    if (c->typing && now - c->typing_at > TYPING_TTL) {
      c->typing = 0;
      if (n < 32) memcpy(dirty[n++], c->subject, SUBJECT_MAX);
    }
  for (int i = 0; i < REPORTS_MAX; i++)
    if (reports[i].subject[0] && now - reports[i].seen > LIVE_PRESENCE_TTL) {
      if (n < 32) memcpy(dirty[n++], reports[i].subject, SUBJECT_MAX);
      reports[i].subject[0] = 0;
    }
  for (int i = 0; i < n; i++) {
    int seen = 0;
    for (int j = 0; j < i && !seen; j++) seen = !strcmp(dirty[i], dirty[j]);
    if (!seen) presence_broadcast(dirty[i], now);
  }
}

static void *keeper_main(void *arg)
{
  (void)arg;
  double next_beat = util_mono() + HEARTBEAT_SECONDS, next_check = util_mono() + REVALIDATE_SECONDS;
  pthread_mutex_lock(&lock);
  while (keeper_running) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 1;
    pthread_cond_timedwait(&keeper_cond, &lock, &ts);
    if (!keeper_running) break;
    double now = util_mono();
    expire_presence(now);
    if (now >= next_beat) {
      next_beat = now + HEARTBEAT_SECONDS;
      if (conns) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "type", "heartbeat");
        cJSON_AddNumberToObject(o, "seq", (double)seq);
        send_json(NULL, o);
        cJSON_Delete(o);
      }
    }
    if (now >= next_check) {
      next_check = now + REVALIDATE_SECONDS;
      pthread_mutex_unlock(&lock);
      revalidate();
      pthread_mutex_lock(&lock);
    }
  }
  pthread_mutex_unlock(&lock);
  db_reader_release();
  return NULL;
}

/* ------------------------------------------------------------------------------------------------ the websocket */

/* Before the handshake, after http_upgrade_admit has identified the caller: counts the socket in, or refuses. */
static int admit(struct destek_req *r, void *ud)
{
  (void)ud;
  if (strcmp(r->path, "/api/v1/stream") != 0) return http_error(r, 404, "not_found", "no such page or API route");
  if (r->who.user_id <= 0) return http_error(r, 403, "forbidden", "live updates are for agents");
  pthread_mutex_lock(&lock);
  /* A socket admitted on this worker whose handshake then failed never reached ws_close: it is stale now. */
  struct conn *stale = conn_by_mg(r->conn);
  if (stale && !stale->open) {
    conn_unlink(stale);
    conn_free(stale);
  }
  int mine = 0;
  for (struct conn *c = conns; c; c = c->next) mine += c->user_id == r->who.user_id;
  int refuse = stopping ? 1 : n_conns >= max_conns ? 2 : mine >= PER_USER_MAX ? 3 : 0;
  if (!refuse) {
    struct conn *c = calloc(1, sizeof *c);
    if (!c) abort();
    c->serial = next_serial++;
    c->mg = r->conn;
    c->via = r->who.via;
    c->user_id = r->who.user_id;
    c->session_id = r->who.session_id;
    c->token_id = r->who.token_id;
    snprintf(c->name, sizeof c->name, "%s", r->who.name);
    snprintf(c->email, sizeof c->email, "%s", r->who.email);
    snprintf(c->ip, sizeof c->ip, "%s", r->ip);
    c->opened = util_mono();
    c->window_at = c->opened;
    pthread_cond_init(&c->cond, NULL);
    c->next = conns;
    conns = c;
    n_conns++;
    mg_set_user_connection_data(r->conn, c);
  }
  pthread_mutex_unlock(&lock);
  if (refuse == 1) return http_error(r, 503, "shutting_down", "the server is restarting; try again in a moment");
  if (refuse == 2) {
    http_add_header(r, "Retry-After", "30");
    log_warn("live", "refused a socket for %s: %d are open, the most this server takes", r->who.email, max_conns);
    return http_error(r, 503, "stream_full", "too many live connections are open; the page refreshes by itself");
  }
  if (refuse == 3) {
    http_add_header(r, "Retry-After", "30");
    return http_error(r, 429, "too_many_streams", "you have %d live connections open already; close a tab",
                      PER_USER_MAX);
  }
  return 0;
}

static int ws_connect(const struct mg_connection *mg, void *ud)
{
  (void)ud;
  /* The const is CivetWeb's way of saying "no reads"; answering a refusal is a write, which it allows here. */
  return http_upgrade_admit((struct mg_connection *)mg, "/api/v1/stream", DESTEK_AGENT, admit, NULL) ? 1 : 0;
}

static void ws_ready(struct mg_connection *mg, void *ud)
{
  (void)ud;
  struct conn *c = mg_get_user_connection_data(mg);
  if (!c) return;
  pthread_mutex_lock(&lock);
  c->open = 1;
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "type", "hello");
  cJSON_AddNumberToObject(o, "seq", (double)seq);
  cJSON_AddNumberToObject(o, "user_id", (double)c->user_id);
  cJSON_AddNumberToObject(o, "heartbeat_seconds", HEARTBEAT_SECONDS);
  send_json(c, o);
  cJSON_Delete(o);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, SENDER_STACK);
  c->has_sender = pthread_create(&c->sender, &attr, sender_main, c) == 0;
  pthread_attr_destroy(&attr);
  int open = n_conns;
  if (!c->has_sender) c->write_failed = 1;   /* nothing can be sent: ws_data closes on the first message */
  pthread_mutex_unlock(&lock);
  if (!c->has_sender) log_error("live", "cannot start a sender thread for %s", c->email);
  log_info("live", "socket opened for %s (%s), %d open", c->email, c->ip, open);
}

/* {"type":"presence","subject":"ticket:42"|null,"typing":bool} */
static void on_presence(struct conn *c, const cJSON *msg)
{
  const cJSON *s = cJSON_GetObjectItemCaseSensitive(msg, "subject");
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(msg, "typing");
  if ((s && !cJSON_IsString(s) && !cJSON_IsNull(s)) || (t && !cJSON_IsBool(t) && !cJSON_IsNull(t))) {
    pthread_mutex_lock(&lock);
    send_error(c, "invalid_message", "subject must be a string or null, typing true or false");
    pthread_mutex_unlock(&lock);
    return;
  }
  const char *subject = cJSON_IsString(s) ? s->valuestring : "";
  int typing = cJSON_IsTrue(t) && *subject;
  int known = !*subject || subject_ok(subject);    /* may read the database: outside the lock */
  double now = util_mono();
  pthread_mutex_lock(&lock);
  if (!known) {
    send_error(c, "unknown_subject", "there is nothing to watch by that name");
    subject = "";
    typing = 0;
  }
  char was[SUBJECT_MAX];
  snprintf(was, sizeof was, "%s", c->subject);
  int changed = strcmp(was, subject) != 0 || c->typing != typing;
  /* The socket speaks for its agent now: a report the page made by HTTP before its socket opened (or while it
   * was down) must not keep them on a ticket they left. */
  for (int i = 0; i < REPORTS_MAX; i++)
    if (reports[i].subject[0] && reports[i].user_id == c->user_id &&
        (!strcmp(reports[i].subject, was) || !strcmp(reports[i].subject, subject))) {
      reports[i].subject[0] = 0;
      changed = 1;
    }
  snprintf(c->subject, sizeof c->subject, "%s", subject);
  c->typing = typing;
  if (typing) c->typing_at = now;
  if (strcmp(was, subject)) presence_broadcast(was, now);
  if (changed) {
    presence_broadcast(c->subject, now);
  } else if (c->subject[0]) {         /* nothing new: this client alone learns who is there */
    cJSON *o = presence_frame_new(c->subject, now);
    send_json(c, o);
    cJSON_Delete(o);
  }
  pthread_mutex_unlock(&lock);
}

static void on_message(struct conn *c, const char *data, size_t len)
{
  cJSON *msg = cJSON_ParseWithLength(data, len);
  const cJSON *type = cJSON_GetObjectItemCaseSensitive(msg, "type");
  if (!cJSON_IsObject(msg) || !cJSON_IsString(type)) {
    pthread_mutex_lock(&lock);
    send_error(c, "invalid_message", "a message is a JSON object with a \"type\"");
    pthread_mutex_unlock(&lock);
  } else if (!strcmp(type->valuestring, "presence")) {
    on_presence(c, msg);
  } else if (!strcmp(type->valuestring, "ping")) {
    pthread_mutex_lock(&lock);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "pong");
    cJSON_AddNumberToObject(o, "seq", (double)seq);
    send_json(c, o);
    cJSON_Delete(o);
    pthread_mutex_unlock(&lock);
  } else {
    pthread_mutex_lock(&lock);
    send_error(c, "unknown_type", "messages are of type presence or ping");
    pthread_mutex_unlock(&lock);
  }
  cJSON_Delete(msg);
}

/* Every message the client sends. Returns 0 to end the read loop (the close handshake is over, or the socket is
 * beyond use), 1 to go on reading (also after asking for a close: the client's answer ends it). */
static int ws_data(struct mg_connection *mg, int bits, char *data, size_t len, void *ud)
{
  (void)ud;
  struct conn *c = mg_get_user_connection_data(mg);
  if (!c) return 0;
  int opcode = bits & 0x0f;
  pthread_mutex_lock(&lock);
  int done = c->close_sent || c->write_failed;
  if (opcode == MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE) {
    if (!done && !c->close_code) {    /* the client closes: answer with its code, as RFC 6455 asks */
      int code = len >= 2 ? ((unsigned char)data[0] << 8 | (unsigned char)data[1]) : 1000;
      request_close(c, code >= 1000 && code < 5000 && code != 1005 && code != 1006 ? code : 1000, "");
    }
    pthread_mutex_unlock(&lock);
    return 0;
  }
  if (done) {
    pthread_mutex_unlock(&lock);
    return 0;
  }
  if (c->close_code) {                /* waiting for the client's answer to our close */
    pthread_mutex_unlock(&lock);
    return 1;
  }
  double now = util_mono();
  if (now - c->window_at > RATE_WINDOW) {
    c->window_at = now;
    c->window_n = 0;
  }
  int over = ++c->window_n > RATE_MAX;
  if (opcode == MG_WEBSOCKET_OPCODE_PING || opcode == MG_WEBSOCKET_OPCODE_PONG) over = 0;
  else if (over) request_close(c, 1008, "too many messages");
  else if (!(bits & 0x80) || opcode == MG_WEBSOCKET_OPCODE_CONTINUATION)
    request_close(c, 1003, "fragmented messages are not supported");
  else if (opcode != MG_WEBSOCKET_OPCODE_TEXT) request_close(c, 1003, "only text messages");
  else if (len > MESSAGE_MAX) request_close(c, 1009, "message too big");
  int handle = !c->close_code && opcode == MG_WEBSOCKET_OPCODE_TEXT;
  pthread_mutex_unlock(&lock);
  if (handle) on_message(c, data, len);
  return 1;
}

static void ws_close(const struct mg_connection *mg, void *ud)
{
  (void)ud;
  struct conn *c = mg_get_user_connection_data(mg);
  if (!c) return;
  mg_set_user_connection_data(mg, NULL);
  pthread_mutex_lock(&lock);
  conn_unlink(c);
  c->closing = 1;
  pthread_cond_signal(&c->cond);
  if (c->subject[0]) presence_broadcast(c->subject, util_mono());
  int open = n_conns;
  pthread_mutex_unlock(&lock);
  /* The sender may be writing (a close answer, say): it must be done with the connection before CivetWeb
   * reuses it. A blocked write ends within request_timeout_ms, or at once when the server stops. */
  if (c->has_sender) pthread_join(c->sender, NULL);
  log_info("live", "socket closed for %s (%s) after %.0f s, %d open", c->email, c->ip, util_mono() - c->opened, open);
  conn_free(c);
}

/* ------------------------------------------------------------------------------------------------ lifecycle */

static int stream_plain(struct destek_req *r)
{
  http_add_header(r, "Upgrade", "websocket");
  return http_error(r, 426, "upgrade_required", "this is a websocket: connect with Upgrade: websocket");
}

static const struct destek_route routes[] = {
  { "GET", "/api/v1/stream", stream_plain, DESTEK_AGENT, NULL },
  { 0 }
};

int live_routes_init(void)
{
  if (!staging) {
    db_on_commit(NULL, after_commit, NULL);
    staging = 1;
  }
  return http_routes_add("core", routes);
}

int live_start(struct mg_context *ctx, int max_connections)
{
  pthread_mutex_lock(&lock);
  max_conns = max_connections > 0 ? max_connections : 1;
  stopping = 0;
  keeper_running = 1;
  pthread_mutex_unlock(&lock);
  if (pthread_create(&keeper, NULL, keeper_main, NULL) != 0) {
    keeper_running = 0;
    log_error("live", "cannot start the housekeeping thread");
    return -1;
  }
  mg_set_websocket_handler(ctx, "/api/v1/stream", ws_connect, ws_ready, ws_data, ws_close, NULL);
  return 0;
}

void live_stop(void)
{
  pthread_mutex_lock(&lock);
  stopping = 1;
  int was_running = keeper_running;
  keeper_running = 0;
  pthread_cond_signal(&keeper_cond);
  for (struct conn *c = conns; c; c = c->next)
    if (c->open) request_close(c, 1001, "server restarting");
  pthread_mutex_unlock(&lock);
  if (was_running) pthread_join(keeper, NULL);
  /* A moment for the close frames to go out, so that clients know to reconnect rather than see a dead socket. */
  double until = util_mono() + GOODBYE_WAIT;
  for (;;) {
    pthread_mutex_lock(&lock);
    int pending = 0;
    for (struct conn *c = conns; c; c = c->next) pending += c->open && !c->close_sent && !c->write_failed;
    pthread_mutex_unlock(&lock);
    if (!pending || util_mono() > until) break;
    struct timespec ts = { 0, 10 * 1000 * 1000 };
    nanosleep(&ts, NULL);
  }
}

void live_stats(int *connections, unsigned long long *frames, unsigned long long *dropped)
{
  pthread_mutex_lock(&lock);
  *connections = 0;
  for (struct conn *c = conns; c; c = c->next) *connections += c->open;
  *frames = frames_total;
  *dropped = dropped_total;
  pthread_mutex_unlock(&lock);
}
