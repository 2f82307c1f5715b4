/* Request metrics: counters by method, route and status, one latency histogram, database size. */
#include "metrics.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "http.h"
#include "live.h"
#include "util.h"
#include "wspub.h"

#define MAX_SERIES 512

static const double buckets[] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
#define N_BUCKETS (sizeof buckets / sizeof buckets[0])

struct series { const char *method; const char *route; int status; unsigned long long count; };

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct series series[MAX_SERIES];
static size_t n_series;
static unsigned long long overflow;
static unsigned long long bucket_counts[N_BUCKETS + 1];
static double latency_sum;
static unsigned long long latency_count;
static double started_at;

static const char *method_name(const char *m)
{
  static const char *const known[] = { "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", NULL };
  for (const char *const *k = known; *k; k++) if (!strcmp(*k, m)) return *k;
  return "OTHER";
}

void metrics_record(const char *method, const char *route, int status, double seconds)
{
  method = method_name(method);
  pthread_mutex_lock(&lock);
  if (started_at == 0) started_at = util_mono();
  size_t i;
  for (i = 0; i < n_series; i++)
    if (series[i].route == route && series[i].method == method && series[i].status == status) break;
  if (i == n_series) {
    if (n_series < MAX_SERIES) series[n_series++] = (struct series){ method, route, status, 0 };
    else i = MAX_SERIES;
  }
  if (i < MAX_SERIES) series[i].count++;
  else overflow++;
  size_t b = 0;
  while (b < N_BUCKETS && seconds > buckets[b]) b++;
  bucket_counts[b]++;
  latency_sum += seconds;
  latency_count++;
  pthread_mutex_unlock(&lock);
}

struct buf { char *p; size_t len, cap; };

static void appendf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void appendf(struct buf *b, const char *fmt, ...)
{
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < b->cap - b->len) { b->len += (size_t)n; return; }
    b->cap = b->cap * 2 + (size_t)(n > 0 ? n : 0);
    b->p = realloc(b->p, b->cap);
    if (!b->p) abort();
  }
}

char *metrics_render_new(void)
{
  struct buf b = { malloc(8192), 0, 8192 };
  if (!b.p) abort();
  pthread_mutex_lock(&lock);
  appendf(&b, "# HELP destek_http_requests_total HTTP requests by method, route and status.\n"
              "# TYPE destek_http_requests_total counter\n");
  for (size_t i = 0; i < n_series; i++)
    appendf(&b, "destek_http_requests_total{method=\"%s\",route=\"%s\",status=\"%d\"} %llu\n", series[i].method,
            series[i].route, series[i].status, series[i].count);
  if (overflow) appendf(&b, "destek_http_requests_total{method=\"OTHER\",route=\"other\",status=\"0\"} %llu\n", overflow);
  appendf(&b, "# HELP destek_http_request_duration_seconds Time from request to response.\n"
              "# TYPE destek_http_request_duration_seconds histogram\n");
  unsigned long long cum = 0;
  for (size_t i = 0; i < N_BUCKETS; i++) {
    cum += bucket_counts[i];
    appendf(&b, "destek_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n", buckets[i], cum);
  }
  cum += bucket_counts[N_BUCKETS];
  appendf(&b, "destek_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n", cum);
  appendf(&b, "destek_http_request_duration_seconds_sum %.6f\ndestek_http_request_duration_seconds_count %llu\n",
          latency_sum, latency_count);
  double up = started_at ? util_mono() - started_at : 0;
  pthread_mutex_unlock(&lock);
  appendf(&b, "# HELP destek_db_size_bytes Size of the database file and its WAL.\n# TYPE destek_db_size_bytes gauge\n"
              "destek_db_size_bytes %lld\n", (long long)db_size_bytes());
  int live_n;
  unsigned long long live_frames, live_dropped;
  live_stats(&live_n, &live_frames, &live_dropped);
  appendf(&b, "# HELP destek_live_connections Open live-updates websockets.\n# TYPE destek_live_connections gauge\n"
              "destek_live_connections %d\n", live_n);
  appendf(&b, "# HELP destek_live_frames_total Frames queued to live-updates websockets.\n"
              "# TYPE destek_live_frames_total counter\ndestek_live_frames_total %llu\n", live_frames);
  appendf(&b, "# HELP destek_live_dropped_total Frames dropped because a client read too slowly (it resyncs).\n"
              "# TYPE destek_live_dropped_total counter\ndestek_live_dropped_total %llu\n", live_dropped);
  int pub_n;
  unsigned long long pub_frames, pub_overflows;
  wspub_stats(&pub_n, &pub_frames, &pub_overflows);
  appendf(&b, "# HELP destek_public_sockets Open public websockets of modules (chat visitors).\n"
              "# TYPE destek_public_sockets gauge\ndestek_public_sockets %d\n", pub_n);
  appendf(&b, "# HELP destek_public_socket_frames_total Frames queued to public websockets.\n"
              "# TYPE destek_public_socket_frames_total counter\ndestek_public_socket_frames_total %llu\n", pub_frames);
  appendf(&b, "# HELP destek_public_socket_overflows_total Public websockets closed because their client read too slowly.\n"
              "# TYPE destek_public_socket_overflows_total counter\ndestek_public_socket_overflows_total %llu\n",
          pub_overflows);
  size_t body_held, body_peak, body_budget;
  unsigned long long body_refused;
  http_body_stats(&body_held, &body_peak, &body_budget, &body_refused);
  appendf(&b, "# HELP destek_http_body_memory_bytes Memory reserved by large request bodies being read now.\n"
              "# TYPE destek_http_body_memory_bytes gauge\ndestek_http_body_memory_bytes %zu\n", body_held);
  appendf(&b, "# HELP destek_http_body_memory_peak_bytes The most large request bodies held at once since start.\n"
              "# TYPE destek_http_body_memory_peak_bytes gauge\ndestek_http_body_memory_peak_bytes %zu\n", body_peak);
  appendf(&b, "# HELP destek_http_body_memory_limit_bytes What they may hold at once (--body-memory).\n"
              "# TYPE destek_http_body_memory_limit_bytes gauge\ndestek_http_body_memory_limit_bytes %zu\n", body_budget);
  appendf(&b, "# HELP destek_http_body_refused_total Large bodies answered 503 because that memory was in use.\n"
              "# TYPE destek_http_body_refused_total counter\ndestek_http_body_refused_total %llu\n", body_refused);
  appendf(&b, "# HELP destek_uptime_seconds Seconds since the first request.\n# TYPE destek_uptime_seconds gauge\n"
              "destek_uptime_seconds %.0f\n", up);
  return b.p;
}

static int metrics_get(struct destek_req *r)
{
  char *text = metrics_render_new();
  return http_reply_body(r, 200, "text/plain; version=0.0.4; charset=utf-8", text, strlen(text));
}

static const struct destek_route routes[] = {
  { "GET", "/metrics", metrics_get, "metrics", NULL },
  { 0 }
};

int metrics_routes_init(void)
{
  started_at = util_mono();
  return http_routes_add("core", routes);
}
