/* The visitors' websocket: GET /api/v1/chat/socket?token=TOKEN&after=SEQ (a public websocket of the core's,
 * host->socket_endpoint; the widget falls back to polling when it cannot open one or it closes).
 *
 * Before the handshake the page's Origin must be one of the token's shop's (a browser always sends one; a client with
 * none is not a browser page), and the token a visitor's; the address's limit counts the handshake.
 *
 * Server -> visitor (JSON text frames):
 *   {"type":"hello","visitor_id","heartbeat_seconds"}
 *   {"type":"messages", conversation, items, agent_typing}   what GET /messages answers, for messages after the
 *        last pushed (after= at first), whenever the conversation changed (a message, a read mark, the end) or the
 *        agent's typing did
 *   {"type":"ack","ref",conversation_id,seq,client_id,created_at,duplicate}   a message kept (after its commit)
 *   {"type":"error","ref",code,message[,field]}   a message refused (as the HTTP route would)
 *   {"type":"pong"}
 * Visitor -> server:
 *   {"type":"message","ref"?,client_id,body,email?,name?}   as POST /messages (files go by HTTP)
 *   {"type":"typing","typing":bool}, {"type":"read","seq":N}, {"type":"ping"}
 *
 * Pushing. message_append and the other writes mark their conversation dirty with the writer held; the commit hook
 * hands the marks to one pusher thread, which reads each dirty conversation once and queues a frame for each socket
 * on it (the core's per-socket queues: a slow socket never holds the pusher). Every 500 ms the pusher also looks at
 * the agents' typing (the core's presence, memory only) for the conversations that have a socket. */
#include "chat.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "destek_util.h"

#define SOCKETS_MAX 600
#define DIRTY_MAX 4096
#define TICK_MS 500

struct vsock {
  struct vsock *next;
  uint64_t id;
  int64_t visitor_id, shop_id, conv, ticket_id, sent_seq, sent_read;
  int sent_typing, sent_open, fresh;
  char ip[48];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static struct vsock *vsocks;
static int running;
static pthread_t pusher;

/* Marks of the writer's open transaction (staged) and of committed ones (ready): {conv, visitor} pairs. */
struct mark { int64_t conv, visitor; };
static struct mark staged[DIRTY_MAX], ready[DIRTY_MAX];
static int n_staged, n_ready, ready_all;

void chat_socket_dirty(int64_t conv, int64_t visitor_id)
{
  pthread_mutex_lock(&lock);
  if (vsocks) {
    if (n_staged < DIRTY_MAX) staged[n_staged++] = (struct mark){ conv, visitor_id };
    else ready_all = 1;
  }
  pthread_mutex_unlock(&lock);
}

static void on_commit(int committed, void *ud)
{
  (void)ud;
  pthread_mutex_lock(&lock);
  if (committed && n_staged) {
    for (int i = 0; i < n_staged; i++) {
      if (n_ready < DIRTY_MAX) ready[n_ready++] = staged[i];
      else ready_all = 1;
    }
    pthread_cond_signal(&wake);
  }
  n_staged = 0;
  pthread_mutex_unlock(&lock);
}

/* ------------------------------------------------------------------------------------------------ pushing */

static void send_json(uint64_t sock, cJSON *o)
{
  char *text = cJSON_PrintUnformatted(o);
  if (text) H->socket_send(sock, text, strlen(text));
  free(text);
  cJSON_Delete(o);
}

struct snap { uint64_t id; int64_t visitor_id, conv, ticket_id, sent_seq, sent_read; int sent_typing, sent_open, dirty; };

/* One round: every socket whose conversation is dirty (or all, at a tick, for typing) hears what is new. */
static void push_round(struct mark *marks, int n_marks, int all_dirty, int tick)
{
  static struct snap snaps[SOCKETS_MAX];
  int n = 0;
  pthread_mutex_lock(&lock);
  for (struct vsock *s = vsocks; s && n < SOCKETS_MAX; s = s->next) {
    int dirty = all_dirty || s->fresh;
    for (int i = 0; i < n_marks && !dirty; i++)
      dirty = (marks[i].conv && marks[i].conv == s->conv) || (marks[i].visitor && marks[i].visitor == s->visitor_id);
    if (!dirty && !(tick && s->conv && s->sent_open)) continue;
    s->fresh = 0;
    snaps[n++] = (struct snap){ s->id, s->visitor_id, s->conv, s->ticket_id, s->sent_seq, s->sent_read, s->sent_typing, s->sent_open,
                                dirty };
  }
  pthread_mutex_unlock(&lock);
  if (!n) return;
  struct destek_req *call = H->call_new(H);
  struct destek_db *db = H->db_read(call);
  for (int i = 0; i < n && db; i++) {
    struct snap *p = &snaps[i];
    int64_t conv = p->conv, ticket_id = 0, last_seq = 0, read = 0;
    int open = 0;
    if (p->dirty) conv = chat_latest_conversation(db, p->visitor_id, &open);
    if (!conv) continue;
    if (!p->dirty) {
      /* a tick: only the agent's typing may have changed (memory) */
      if (chat_agent_typing(call, p->ticket_id) == p->sent_typing) continue;
      open = p->sent_open;
    }
    sqlite3_stmt *st = H->db_prepare(db, "SELECT ticket_id, last_seq, agent_read_seq, status = 'open'"
                                         " FROM chat_conversations WHERE id = ?1");
    if (!st) continue;
    H->db_bind(st, "i", conv);
    if (sqlite3_step(st) == SQLITE_ROW) {
      ticket_id = sqlite3_column_int64(st, 0);
      last_seq = sqlite3_column_int64(st, 1);
      read = sqlite3_column_int64(st, 2);
      open = sqlite3_column_int(st, 3);
    }
    H->db_done(st);
    int64_t after = conv == p->conv ? p->sent_seq : 0;
    if (conv != p->conv && p->conv == 0) after = p->sent_seq;   /* the first conversation: after= counts */
    int typing = ticket_id && open ? chat_agent_typing(call, ticket_id) : 0;
    if (conv == p->conv && last_seq <= after && read == p->sent_read && typing == p->sent_typing && open == p->sent_open)
      continue;
    cJSON *o = chat_messages_json_new(call, db, conv, after, ticket_id, open);
    cJSON_AddStringToObject(o, "type", "messages");
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(o, "items");
    const cJSON *lastm = cJSON_GetArrayItem(items, cJSON_GetArraySize(items) - 1);
    int64_t sent = lastm ? (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(lastm, "seq")) : after;
    send_json(p->id, o);
    pthread_mutex_lock(&lock);
    for (struct vsock *s = vsocks; s; s = s->next)
      if (s->id == p->id) {
        s->conv = conv;
        s->ticket_id = ticket_id;
        s->sent_seq = sent;
        s->sent_read = read;
        s->sent_typing = typing;
        s->sent_open = open;
        break;
      }
    pthread_mutex_unlock(&lock);
  }
  H->call_end(call, 0);
}

static void *pusher_main(void *arg)
{
  (void)arg;
  static struct mark marks[DIRTY_MAX];
  double next_tick = util_mono() + TICK_MS / 1000.0;
  pthread_mutex_lock(&lock);
  while (running) {
    if (!n_ready && !ready_all) {
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      ts.tv_nsec += 100 * 1000000L;
      ts.tv_sec += ts.tv_nsec / 1000000000L;
      ts.tv_nsec %= 1000000000L;
      pthread_cond_timedwait(&wake, &lock, &ts);
    }
    if (!running) break;
    int n = n_ready, all = ready_all;
    memcpy(marks, ready, (size_t)n * sizeof *marks);
    n_ready = 0;
    ready_all = 0;
    int fresh = 0;
    for (struct vsock *s = vsocks; s && !fresh; s = s->next) fresh = s->fresh;
    pthread_mutex_unlock(&lock);
    double now = util_mono();
    int tick = now >= next_tick;
    if (tick) next_tick = now + TICK_MS / 1000.0;
    if (n || all || fresh || tick) push_round(marks, n, all, tick);
    pthread_mutex_lock(&lock);
  }
  pthread_mutex_unlock(&lock);
  H->thread_release();
  return NULL;
}

/* ------------------------------------------------------------------------------------------------ the socket */

static int admit(struct destek_req *r, void **sock_ud, void *ud)
{
  (void)ud;
  char token[160], buf[24];
  if (H->query_get(r, "token", token, sizeof token) <= 0 || strlen(token) > 128)
    return H->error(r, 401, "unauthenticated", "token is required (POST /api/v1/chat/session gives one)");
  int rc = chat_rate(r, "chat.address", H->client_ip(r), "chat.address_limit", 120, 60);
  if (rc) return rc;
  struct chat_visitor v;
  memset(&v, 0, sizeof v);
  char hash[65];
  H->sha256_hex(token, strlen(token), hash);
  if (chat_visitor_load(H->db_read(r), hash, &v) != 1)
    return H->error(r, 401, "unauthenticated", "the chat token is not known");
  const char *origin = H->header(r, "Origin");
  if (origin && *origin && !chat_origin_listed(v.origins, origin))
    return H->error(r, 403, "origin_not_allowed", "this page's origin is not one of the shop's");
  struct vsock *s = calloc(1, sizeof *s);
  if (!s) return H->error(r, 503, "busy", "out of memory");
  s->visitor_id = v.id;
  s->shop_id = v.shop_id;
  if (H->query_get(r, "after", buf, sizeof buf) > 0) s->sent_seq = strtoll(buf, NULL, 10);
  if (s->sent_seq < 0) s->sent_seq = 0;
  s->sent_read = -1;
  snprintf(s->ip, sizeof s->ip, "%s", H->client_ip(r));
  *sock_ud = s;
  return 0;
}

static void opened(uint64_t sock, void *sock_ud, void *ud)
{
  (void)ud;
  struct vsock *s = sock_ud;
  s->id = sock;
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "type", "hello");
  cJSON_AddNumberToObject(o, "visitor_id", (double)s->visitor_id);
  cJSON_AddNumberToObject(o, "heartbeat_seconds", 25);
  send_json(sock, o);
  pthread_mutex_lock(&lock);
  s->fresh = 1;                  /* the pusher sends what came after after= */
  s->next = vsocks;
  vsocks = s;
  pthread_cond_signal(&wake);
  pthread_mutex_unlock(&lock);
}

static void closed(uint64_t sock, void *sock_ud, void *ud)
{
  (void)sock; (void)ud;
  struct vsock *s = sock_ud;
  if (!s) return;
  pthread_mutex_lock(&lock);
  for (struct vsock **p = &vsocks; *p; p = &(*p)->next)
    if (*p == s) { *p = s->next; break; }
  pthread_mutex_unlock(&lock);
  free(s);
}

static void send_error(uint64_t sock, const cJSON *ref, struct destek_req *call, const char *code, const char *message)
{
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "type", "error");
  if (ref) cJSON_AddItemToObject(o, "ref", cJSON_Duplicate(ref, 1));
  const cJSON *e = call ? H->error_object(call) : NULL;
  if (e) {
    const cJSON *x;
    cJSON_ArrayForEach(x, e) cJSON_AddItemToObject(o, x->string, cJSON_Duplicate(x, 1));
  } else {
    cJSON_AddStringToObject(o, "code", code);
    cJSON_AddStringToObject(o, "message", message);
  }
  send_json(sock, o);
}

/* The visitor of the socket as it is now (the token may have been erased since, say): 1, or 0 (closed). */
static int visitor_now(struct destek_req *call, const struct vsock *s, struct chat_visitor *v)
{
  memset(v, 0, sizeof *v);
  sqlite3_stmt *st = H->db_prepare(H->db_read(call), "SELECT v.id, v.shop_id, v.contact_id, v.email, v.name, v.lang,"
                                                     " v.external_id IS NOT NULL FROM chat_visitors v WHERE v.id = ?1");
  if (!st) return 0;
  H->db_bind(st, "i", s->visitor_id);
  int found = 0;
  if (sqlite3_step(st) == SQLITE_ROW) {
    found = 1;
    v->id = sqlite3_column_int64(st, 0);
    v->shop_id = sqlite3_column_int64(st, 1);
    v->contact_id = sqlite3_column_int64(st, 2);
    snprintf(v->email, sizeof v->email, "%s", sqlite3_column_text(st, 3) ? (const char *)sqlite3_column_text(st, 3) : "");
    snprintf(v->name, sizeof v->name, "%s", sqlite3_column_text(st, 4) ? (const char *)sqlite3_column_text(st, 4) : "");
    snprintf(v->lang, sizeof v->lang, "%s", sqlite3_column_text(st, 5) ? (const char *)sqlite3_column_text(st, 5) : "");
    v->identified = sqlite3_column_int(st, 6);
  }
  H->db_done(st);
  return found;
}

static void on_visitor_message(uint64_t sock, const struct vsock *s, const cJSON *msg)
{
  const cJSON *ref = cJSON_GetObjectItemCaseSensitive(msg, "ref");
  if (cJSON_GetObjectItemCaseSensitive(msg, "attachments")) {
    send_error(sock, ref, NULL, "invalid_field", "files go by HTTP (POST /api/v1/chat/messages)");
    return;
  }
  struct destek_req *call = H->call_new(H);
  struct chat_visitor v;
  char key[32];
  snprintf(key, sizeof key, "%lld", (long long)s->visitor_id);
  int rc;
  if (!visitor_now(call, s, &v)) {
    H->call_end(call, 0);
    H->socket_close(sock, 4401, "unknown visitor");
    return;
  }
  cJSON *out = NULL;
  int status = 0;
  if ((rc = chat_rate(call, "chat.address", s->ip, "chat.address_limit", 120, 60)) ||
      (rc = chat_rate(call, "chat.visitor", key, "chat.visitor_limit", 30, 60)) ||
      (rc = chat_message_post(call, &v, msg, &out, &status))) {
    send_error(sock, ref, call, "invalid", "the message was refused");
    cJSON_Delete(out);
    H->call_end(call, 0);
    return;
  }
  if (H->call_end(call, 1) != 0) {
    cJSON_Delete(out);
    send_error(sock, ref, NULL, "db_busy", "the message could not be kept; send it again");
    return;
  }
  /* Kept: only now is it acknowledged. */
  cJSON_AddStringToObject(out, "type", "ack");
  if (ref) cJSON_AddItemToObject(out, "ref", cJSON_Duplicate(ref, 1));
  send_json(sock, out);
}

/* Messages and read marks are written by two threads of the module's, each with its database reader kept: a
 * socket's worker thread gives its reader back after every message (core/wspub.c), and opening one costs more than
 * the message itself. A socket's messages always go to the same thread, in order. */
#define WORKERS 2
#define JOBS_MAX 1024
struct job { struct job *next; uint64_t sock; struct vsock copy; cJSON *msg; };
static struct { struct job *head, *tail; int n; pthread_cond_t cond; pthread_t thread; int started; } workers[WORKERS];

static void read_mark(const struct vsock *s, const cJSON *msg)
{
  const cJSON *seq = cJSON_GetObjectItemCaseSensitive(msg, "seq");
  if (!s->conv || !cJSON_IsNumber(seq) || seq->valuedouble < 0) return;
  struct destek_req *call = H->call_new(H);
  struct destek_db *w = H->db_write(call);
  if (w) H->db_exec(w, "UPDATE chat_conversations SET visitor_read_seq = min(last_seq, max(visitor_read_seq, ?2))"
                       " WHERE id = ?1", "ii", s->conv, (int64_t)seq->valuedouble);
  H->call_end(call, w != NULL);
}

static void *worker_main(void *arg)
{
  int k = (int)(intptr_t)arg;
  pthread_mutex_lock(&lock);
  for (;;) {
    while (running && !workers[k].head) pthread_cond_wait(&workers[k].cond, &lock);
    struct job *j = workers[k].head;
    if (!j) break;
    workers[k].head = j->next;
    if (!workers[k].head) workers[k].tail = NULL;
    workers[k].n--;
    pthread_mutex_unlock(&lock);
    const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j->msg, "type"));
    if (!strcmp(type, "message")) on_visitor_message(j->sock, &j->copy, j->msg);
    else read_mark(&j->copy, j->msg);
    cJSON_Delete(j->msg);
    free(j);
    pthread_mutex_lock(&lock);
  }
  pthread_mutex_unlock(&lock);
  H->thread_release();
  return NULL;
}

/* Hands msg (taken) to the socket's worker: 0, or -1 when the queue is full. */
static int hand_off(uint64_t sock, const struct vsock *s, cJSON *msg)
{
  struct job *j = calloc(1, sizeof *j);
  if (!j) return -1;
  j->sock = sock;
  j->msg = msg;
  int k = (int)(sock % WORKERS);
  pthread_mutex_lock(&lock);
  j->copy = *s;
  j->copy.next = NULL;
  if (!running || workers[k].n >= JOBS_MAX) {
    pthread_mutex_unlock(&lock);
    free(j);
    return -1;
  }
  if (workers[k].tail) workers[k].tail->next = j; else workers[k].head = j;
  workers[k].tail = j;
  workers[k].n++;
  pthread_cond_signal(&workers[k].cond);
  pthread_mutex_unlock(&lock);
  return 0;
}

static void message(uint64_t sock, void *sock_ud, const char *data, size_t len, void *ud)
{
  (void)ud;
  struct vsock *s = sock_ud;
  cJSON *msg = cJSON_ParseWithLength(data, len);
  const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(msg, "type"));
  if (!cJSON_IsObject(msg) || !type) {
    send_error(sock, NULL, NULL, "invalid_message", "a message is a JSON object with a \"type\"");
  } else if (!strcmp(type, "ping")) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "pong");
    send_json(sock, o);
  } else if (!strcmp(type, "message") || !strcmp(type, "read")) {
    if (hand_off(sock, s, msg) == 0) return;
    send_error(sock, cJSON_GetObjectItemCaseSensitive(msg, "ref"), NULL, "busy", "too many messages wait; try again");
  } else if (!strcmp(type, "typing")) {
    pthread_mutex_lock(&lock);
    int64_t conv = s->conv;
    int open = s->sent_open;
    pthread_mutex_unlock(&lock);
    if (conv && open) chat_typing_set(conv, cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(msg, "typing")));
  } else {
    send_error(sock, NULL, NULL, "unknown_type", "messages are of type message, typing, read or ping");
  }
  cJSON_Delete(msg);
}

int chat_socket_init(const struct destek_host *h)
{
  if (!DESTEK_HOST_HAS(h, socket_close)) {
    h->log(h, DESTEK_LOG_WARN, "this server has no public websockets: visitors poll");
    return 0;
  }
  /* Each socket holds one of the server's worker threads, started with the server whether a visitor comes or not
   * (512 of them: start-up 69 -> 158 ms, idle RSS +9 MB): a small shop's default is 100, a busy one raises it. */
  long want = h->setting_int("chat.visitor_sockets", 100);
  if (want <= 0) {
    h->log(h, DESTEK_LOG_INFO, "chat.visitor_sockets is 0: visitors poll");
    return 0;
  }
  struct destek_socket_ops ops = {
    .admit = admit, .opened = opened, .message = message, .closed = closed,
    .max_sockets = want > 2000 ? 2000 : (int)want, .max_message = 16 * 1024, .queue_bytes = 64 * 1024,
  };
  if (h->socket_endpoint(h, "/api/v1/chat/socket", &ops) != 0 || h->on_commit(h, NULL, on_commit, NULL) != 0) return -1;
  running = 1;
  if (pthread_create(&pusher, NULL, pusher_main, NULL) != 0) {
    running = 0;
    h->log(h, DESTEK_LOG_ERROR, "cannot start the chat's pusher thread");
    return -1;
  }
  for (int k = 0; k < WORKERS; k++) {
    pthread_cond_init(&workers[k].cond, NULL);
    workers[k].started = pthread_create(&workers[k].thread, NULL, worker_main, (void *)(intptr_t)k) == 0;
    if (!workers[k].started) h->log(h, DESTEK_LOG_ERROR, "cannot start a chat worker thread");
  }
  return 0;
}

void chat_socket_fini(void)
{
  pthread_mutex_lock(&lock);
  int was = running;
  running = 0;
  pthread_cond_signal(&wake);
  pthread_mutex_unlock(&lock);
  if (was) pthread_join(pusher, NULL);
  pthread_mutex_lock(&lock);
  for (int k = 0; k < WORKERS; k++) pthread_cond_signal(&workers[k].cond);
  pthread_mutex_unlock(&lock);
  for (int k = 0; k < WORKERS; k++)
    if (workers[k].started) pthread_join(workers[k].thread, NULL);
}
