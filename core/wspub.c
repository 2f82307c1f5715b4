/* Public websockets a module declares (see wspub.h; host->socket_endpoint in destek.h).
 *
 * Threads. CivetWeb gives each socket a worker thread, which runs its read loop and calls ws_data for every message
 * (the module's message callback runs there). Writes never run on a module's thread: socket_send copies the frame
 * into the socket's queue and signals the socket's sender thread (small stack), which writes. A client that stops
 * reading blocks only its own sender; its queue grows to QUEUE_MAX frames or the endpoint's queue_bytes, and then the
 * queue is dropped and the socket closed with 4008 "too slow" (the client catches up by other means).
 *
 * Memory. A thread parked on a socket for minutes should not hold a database connection or a Lua state: the
 * thread's reader and Lua state are given back after the handshake and after each message. With CivetWeb's
 * ALTERNATIVE_QUEUE (third_party/deps.cmake) a new connection goes to the idle worker with the lowest index, so the
 * few hundred extra threads a public endpoint adds stay idle, holding nothing, while requests keep reusing the first.
 *
 * Locks. One mutex (lock) guards the sockets and their queues; module callbacks run without it. */
#include "wspub.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <civetweb.h>

#include "destek.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "lua_host.h"
#include "util.h"

#define MAX_ENDPOINTS 8
#define CAPACITY_MAX 4096
#define QUEUE_MAX 128                  /* frames waiting for one socket */
#define QUEUE_BYTES_DEFAULT (64 * 1024)
#define MESSAGE_DEFAULT (16 * 1024)
#define RATE_WINDOW 10.0
#define RATE_MAX 60
#define SENDER_STACK (128 * 1024)
#define GOODBYE_WAIT 0.3
#define BUCKETS 1024

struct endpoint {
  const char *owner, *path;
  struct destek_socket_ops ops;
  int open;                            /* sockets admitted and not yet closed (lock) */
};

static struct endpoint endpoints[MAX_ENDPOINTS];
static int n_endpoints, started;

struct frame { size_t len; char data[]; };

struct sock {
  struct sock *next, *bucket_next;
  uint64_t id;
  struct mg_connection *mg;
  struct endpoint *ep;
  void *ud;
  int open;
  char ip[48];
  double opened;

  struct frame *q[QUEUE_MAX];
  int q_head, q_len;
  size_t q_bytes;
  int close_code, close_sent, write_failed, closing, drain_first;
  char close_reason[64];
  pthread_t sender;
  int has_sender;
  pthread_cond_t cond;

  double window_at;
  int window_n;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct sock *socks;
static struct sock *buckets[BUCKETS];
static int n_open, stopping;
static uint64_t next_id = 1;
static unsigned long long frames_total, overflows_total;

int wspub_add(const char *owner, const char *path, const struct destek_socket_ops *ops)
{
  int ok = !started && n_endpoints < MAX_ENDPOINTS && path && path[0] == '/' && !strchr(path, '{') && ops &&
           ops->admit && ops->message && ops->max_sockets > 0;
  for (int i = 0; ok && i < n_endpoints; i++) ok = strcmp(endpoints[i].path, path) != 0;
  int total = 0;
  for (int i = 0; i < n_endpoints; i++) total += endpoints[i].ops.max_sockets;
  if (ok && total + ops->max_sockets > CAPACITY_MAX) ok = 0;
  if (!ok) {
    log_error("wspub", "%s: the public websocket %s was refused (malformed, taken, too many, or too late)", owner,
              path ? path : "?");
    return -1;
  }
  struct endpoint *e = &endpoints[n_endpoints++];
  e->owner = util_intern(owner);
  e->path = util_intern(path);
  e->ops = *ops;
  if (!e->ops.max_message) e->ops.max_message = MESSAGE_DEFAULT;
  if (!e->ops.queue_bytes) e->ops.queue_bytes = QUEUE_BYTES_DEFAULT;
  return 0;
}

int wspub_capacity(void)
{
  int total = 0;
  for (int i = 0; i < n_endpoints; i++) total += endpoints[i].ops.max_sockets;
  return total;
}

/* ------------------------------------------------------------------------------------------------ sockets */

static struct sock *sock_find(uint64_t id)
{
  for (struct sock *s = buckets[id % BUCKETS]; s; s = s->bucket_next)
    if (s->id == id) return s;
  return NULL;
}

static void sock_unlink(struct sock *s)
{
  for (struct sock **p = &socks; *p; p = &(*p)->next)
    if (*p == s) { *p = s->next; break; }
  for (struct sock **p = &buckets[s->id % BUCKETS]; *p; p = &(*p)->bucket_next)
    if (*p == s) { *p = s->bucket_next; break; }
}

static void queue_drop(struct sock *s)
{
  for (int i = 0; i < s->q_len; i++) free(s->q[(s->q_head + i) % QUEUE_MAX]);
  s->q_len = 0;
  s->q_bytes = 0;
}

static void sock_free(struct sock *s)
{
  queue_drop(s);
  pthread_cond_destroy(&s->cond);
  free(s);
}

/* Asks the sender to close s (lock held); drain: after what is queued. */
static void request_close(struct sock *s, int code, const char *reason, int drain)
{
  if (s->close_code || s->close_sent) return;
  s->close_code = code;
  s->drain_first = drain;
  snprintf(s->close_reason, sizeof s->close_reason, "%s", reason);
  pthread_cond_signal(&s->cond);
}

static void *sender_main(void *arg)
{
  struct sock *s = arg;
  pthread_mutex_lock(&lock);
  for (;;) {
    if (s->close_code && !s->close_sent && !s->write_failed && !(s->drain_first && s->q_len)) {
      unsigned char buf[2 + sizeof s->close_reason];
      buf[0] = (unsigned char)(s->close_code >> 8);
      buf[1] = (unsigned char)(s->close_code & 0xff);
      size_t n = strlen(s->close_reason);
      memcpy(buf + 2, s->close_reason, n);
      s->close_sent = 1;
      queue_drop(s);
      pthread_mutex_unlock(&lock);
      int rc = mg_websocket_write(s->mg, MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE, (const char *)buf, n + 2);
      pthread_mutex_lock(&lock);
      if (rc <= 0) s->write_failed = 1;
      continue;
    }
    if (s->closing) break;
    if (s->close_sent || s->write_failed || s->q_len == 0) {
      pthread_cond_wait(&s->cond, &lock);
      continue;
    }
    struct frame *f = s->q[s->q_head];
    s->q_head = (s->q_head + 1) % QUEUE_MAX;
    s->q_len--;
    s->q_bytes -= f->len;
    pthread_mutex_unlock(&lock);
    int rc = mg_websocket_write(s->mg, MG_WEBSOCKET_OPCODE_TEXT, f->data, f->len);
    free(f);
    pthread_mutex_lock(&lock);
    if (rc <= 0) s->write_failed = 1;
  }
  pthread_mutex_unlock(&lock);
  return NULL;
}

int wspub_send(uint64_t id, const char *text, size_t len)
{
  pthread_mutex_lock(&lock);
  struct sock *s = sock_find(id);
  if (!s || !s->open || s->closing || s->close_code || s->close_sent || s->write_failed) {
    pthread_mutex_unlock(&lock);
    return -1;
  }
  /* One frame larger than the bound still goes when nothing waits (a long backlog); behind others it overflows. */
  if (s->q_len == QUEUE_MAX || (s->q_len && s->q_bytes + len > s->ep->ops.queue_bytes)) {
    queue_drop(s);
    overflows_total++;
    log_warn("wspub", "%s (%s) reads too slowly: its queue overflowed, it is closed", s->ep->path, s->ip);
    request_close(s, 4008, "too slow", 0);
    pthread_mutex_unlock(&lock);
    return 1;
  }
  struct frame *f = malloc(sizeof *f + len);
  if (!f) abort();
  f->len = len;
  memcpy(f->data, text, len);
  s->q[(s->q_head + s->q_len) % QUEUE_MAX] = f;
  s->q_len++;
  s->q_bytes += len;
  frames_total++;
  pthread_cond_signal(&s->cond);
  pthread_mutex_unlock(&lock);
  return 0;
}

void wspub_close(uint64_t id, int code, const char *reason)
{
  if (code != 1000 && (code < 4000 || code > 4999)) code = 1000;
  pthread_mutex_lock(&lock);
  struct sock *s = sock_find(id);
  if (s && s->open) request_close(s, code, reason ? reason : "", 1);
  pthread_mutex_unlock(&lock);
}

void wspub_stats(int *open, unsigned long long *frames, unsigned long long *overflows)
{
  pthread_mutex_lock(&lock);
  *open = n_open;
  *frames = frames_total;
  *overflows = overflows_total;
  pthread_mutex_unlock(&lock);
}

/* ------------------------------------------------------------------------------------------------ CivetWeb */

/* A thread about to sit on a socket, or back from a module's message, holds no database connection or Lua state. */
static void thread_lighten(void)
{
  db_reader_release();
  lua_host_thread_release();
}

static int admit(struct destek_req *r, void *ud)
{
  struct endpoint *e = ud;
  pthread_mutex_lock(&lock);
  int refuse = stopping ? 1 : e->open >= e->ops.max_sockets ? 2 : 0;
  if (!refuse) e->open++;          /* held while the module decides */
  pthread_mutex_unlock(&lock);
  if (refuse == 1) return http_error(r, 503, "shutting_down", "the server is restarting; try again in a moment");
  if (refuse == 2) {
    http_add_header(r, "Retry-After", "30");
    log_warn("wspub", "%s: refused a socket, %d are open (the most it takes)", e->path, e->ops.max_sockets);
    return http_error(r, 503, "sockets_full", "too many sockets are open; poll instead");
  }
  void *sock_ud = NULL;
  int rc = e->ops.admit(r, &sock_ud, e->ops.ud);
  pthread_mutex_lock(&lock);
  if (rc) {
    e->open--;
    pthread_mutex_unlock(&lock);
    return rc;
  }
  struct sock *s = calloc(1, sizeof *s);
  if (!s) abort();
  s->id = next_id++;
  s->mg = r->conn;
  s->ep = e;
  s->ud = sock_ud;
  snprintf(s->ip, sizeof s->ip, "%s", r->ip);
  s->opened = s->window_at = util_mono();
  pthread_cond_init(&s->cond, NULL);
  s->next = socks;
  socks = s;
  s->bucket_next = buckets[s->id % BUCKETS];
  buckets[s->id % BUCKETS] = s;
  mg_set_user_connection_data(r->conn, s);
  pthread_mutex_unlock(&lock);
  return 0;
}

/* A socket admitted on this worker's connection whose handshake then failed (CivetWeb calls no close handler for
 * it): forgotten before the connection serves another. Found in our own list, not by the connection's user data
 * (the agents' websocket keeps its own there). */
static void forget_unopened(struct mg_connection *mg)
{
  pthread_mutex_lock(&lock);
  struct sock *s = socks;
  while (s && !(s->mg == mg && !s->open)) s = s->next;
  if (s) {
    sock_unlink(s);
    s->ep->open--;
  }
  pthread_mutex_unlock(&lock);
  if (s) {
    if (s->ep->ops.closed) s->ep->ops.closed(s->id, s->ud, s->ep->ops.ud);
    sock_free(s);
  }
}

static int ws_connect(const struct mg_connection *mg, void *ud)
{
  struct endpoint *e = ud;
  struct mg_connection *c = (struct mg_connection *)mg;
  forget_unopened(c);
  int rc = http_upgrade_public(c, e->path, admit, e);
  thread_lighten();
  return rc ? 1 : 0;
}

static void ws_ready(struct mg_connection *mg, void *ud)
{
  (void)ud;
  pthread_mutex_lock(&lock);
  struct sock *s = mg_get_user_connection_data(mg);
  if (!s) {
    pthread_mutex_unlock(&lock);
    return;
  }
  s->open = 1;
  n_open++;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, SENDER_STACK);
  s->has_sender = pthread_create(&s->sender, &attr, sender_main, s) == 0;
  pthread_attr_destroy(&attr);
  if (!s->has_sender) s->write_failed = 1;
  uint64_t id = s->id;
  void *sud = s->ud;
  struct endpoint *e = s->ep;
  pthread_mutex_unlock(&lock);
  if (!s->has_sender) log_error("wspub", "%s: cannot start a sender thread", e->path);
  if (e->ops.opened) e->ops.opened(id, sud, e->ops.ud);
  thread_lighten();
}

static int ws_data(struct mg_connection *mg, int bits, char *data, size_t len, void *ud)
{
  (void)ud;
  pthread_mutex_lock(&lock);
  struct sock *s = mg_get_user_connection_data(mg);
  if (!s || !s->open) {
    pthread_mutex_unlock(&lock);
    return 0;
  }
  int opcode = bits & 0x0f;
  int done = s->close_sent || s->write_failed;
  if (opcode == MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE) {
    if (!done && !s->close_code) {
      int code = len >= 2 ? ((unsigned char)data[0] << 8 | (unsigned char)data[1]) : 1000;
      request_close(s, code >= 1000 && code < 5000 && code != 1005 && code != 1006 ? code : 1000, "", 0);
    }
    pthread_mutex_unlock(&lock);
    return 0;
  }
  if (done) {
    pthread_mutex_unlock(&lock);
    return 0;
  }
  if (s->close_code || opcode == MG_WEBSOCKET_OPCODE_PING || opcode == MG_WEBSOCKET_OPCODE_PONG) {
    pthread_mutex_unlock(&lock);
    return 1;
  }
  double now = util_mono();
  if (now - s->window_at > RATE_WINDOW) {
    s->window_at = now;
    s->window_n = 0;
  }
  if (++s->window_n > RATE_MAX) request_close(s, 1008, "too many messages", 0);
  else if (!(bits & 0x80) || opcode == MG_WEBSOCKET_OPCODE_CONTINUATION)
    request_close(s, 1003, "fragmented messages are not supported", 0);
  else if (opcode != MG_WEBSOCKET_OPCODE_TEXT) request_close(s, 1003, "only text messages", 0);
  else if (len > s->ep->ops.max_message) request_close(s, 1009, "message too big", 0);
  int handle = !s->close_code;
  uint64_t id = s->id;
  void *sud = s->ud;
  struct endpoint *e = s->ep;
  pthread_mutex_unlock(&lock);
  if (handle) {
    e->ops.message(id, sud, data, len, e->ops.ud);
    thread_lighten();
  }
  return 1;
}

static void ws_close(const struct mg_connection *mg, void *ud)
{
  (void)ud;
  struct mg_connection *c = (struct mg_connection *)mg;
  pthread_mutex_lock(&lock);
  struct sock *s = mg_get_user_connection_data(c);
  if (!s) {
    pthread_mutex_unlock(&lock);
    return;
  }
  mg_set_user_connection_data(c, NULL);
  sock_unlink(s);
  s->closing = 1;
  if (s->open) n_open--;
  s->ep->open--;
  pthread_cond_signal(&s->cond);
  pthread_mutex_unlock(&lock);
  /* The sender must be done with the connection before CivetWeb reuses it. */
  if (s->has_sender) pthread_join(s->sender, NULL);
  if (s->ep->ops.closed) s->ep->ops.closed(s->id, s->ud, s->ep->ops.ud);
  thread_lighten();
  sock_free(s);
}

void wspub_start(struct mg_context *ctx)
{
  started = 1;
  pthread_mutex_lock(&lock);
  stopping = 0;
  pthread_mutex_unlock(&lock);
  for (int i = 0; i < n_endpoints; i++)
    mg_set_websocket_handler(ctx, endpoints[i].path, ws_connect, ws_ready, ws_data, ws_close, &endpoints[i]);
}

void wspub_stop(void)
{
  pthread_mutex_lock(&lock);
  stopping = 1;
  for (struct sock *s = socks; s; s = s->next)
    if (s->open) request_close(s, 1001, "server restarting", 0);
  pthread_mutex_unlock(&lock);
  double until = util_mono() + GOODBYE_WAIT;
  for (;;) {
    pthread_mutex_lock(&lock);
    int pending = 0;
    for (struct sock *s = socks; s; s = s->next) pending += s->open && !s->close_sent && !s->write_failed;
    pthread_mutex_unlock(&lock);
    if (!pending || util_mono() > until) break;
    struct timespec ts = { 0, 10 * 1000 * 1000 };
    nanosleep(&ts, NULL);
  }
}
