/* Histograms of the duration series (reports_hist, migration 004): what makes a median over a year read a row per
 * month and series instead of a row per ticket.
 *
 * A value's bucket: 0 below one second (and anything negative), then 16 buckets per doubling, each an equal slice of
 * it ([1, 2) in sixteenths, [2, 4) in eighths ...), so a bucket is 3-6 % of its values wide and its bounds are exact
 * doubles (bucket_lo). A row holds one series' (kind, measure, and a dimension value or none) counts for a day or a
 * month. The median of a range: the rank (n - 1) / 2 of the values in order (the lower median, as before), found by
 * summing the months wholly inside the range and the days at its ends into one histogram, walking it to the bucket
 * that holds the rank, then reading the exact value inside that bucket from reports_values (or reports_dim_values) in
 * value order: the same answer as walking every value, at the cost of a few hundred rows. Exact to the value stored,
 * whatever the resolution of the buckets: they only choose where to start the walk.
 *
 * Kept up to date by the refreshes (rep_hist_note, rep_hist_apply: the deltas of a batch, one read-modify-write per
 * row touched) and built whole from the values (rep_hist_build) at the end of a rebuild and after an upgrade. */
#include "rep.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HIST_MAX 16400   /* buckets: 16 per doubling up to 2^1024 */

int rep_hist_bucket(double v)
{
  if (!(v >= 1)) return 0;
  int e;
  double m = frexp(v, &e);   /* v = m * 2^e, m in [0.5, 1), e >= 1 */
  int b = (e - 1) * 16 + (int)((m - 0.5) * 32) + 1;
  return b < HIST_MAX ? b : HIST_MAX - 1;
}

/* The least value of bucket b (-HUGE_VAL for bucket 0). */
static double bucket_lo(int b)
{
  if (b <= 0) return -HUGE_VAL;
  if (b >= HIST_MAX) return HUGE_VAL;
  int e = (b - 1) / 16 + 1, s = (b - 1) % 16;
  return ldexp(0.5 + s / 32.0, e);
}

/* ------------------------------------------------------------------------------------------------ the packing */

/* A sparse histogram, buckets ascending. */
struct hist {
  int32_t *b;
  int64_t *c;
  size_t len, cap;
};

static void hist_push(struct hist *h, int32_t b, int64_t c)
{
  if (h->len == h->cap) {
    h->cap = h->cap ? h->cap * 2 : 64;
    h->b = realloc(h->b, h->cap * sizeof *h->b);
    h->c = realloc(h->c, h->cap * sizeof *h->c);
    if (!h->b || !h->c) abort();
  }
  h->b[h->len] = b;
  h->c[h->len++] = c;
}

static void hist_free(struct hist *h)
{
  free(h->b);
  free(h->c);
  memset(h, 0, sizeof *h);
}

static size_t put_varint(unsigned char *p, uint64_t v)
{
  size_t n = 0;
  while (v >= 0x80) {
    p[n++] = (unsigned char)(v | 0x80);
    v >>= 7;
  }
  p[n++] = (unsigned char)v;
  return n;
}

static int get_varint(const unsigned char *p, size_t len, size_t *off, uint64_t *v)
{
  uint64_t x = 0;
  for (int shift = 0; *off < len && shift < 64; shift += 7) {
    unsigned char c = p[(*off)++];
    x |= (uint64_t)(c & 0x7f) << shift;
    if (!(c & 0x80)) {
      *v = x;
      return 0;
    }
  }
  return -1;
}

/* Packs the positive counts of h: (bucket - previous bucket, count) varint pairs. Returns the length (buf must hold
 * h->len * 20 bytes); *total: the sum of the counts. */
static size_t hist_pack(const struct hist *h, unsigned char *buf, int64_t *total)
{
  size_t n = 0;
  int32_t prev = 0;
  *total = 0;
  for (size_t i = 0; i < h->len; i++) {
    if (h->c[i] <= 0) continue;
    n += put_varint(buf + n, (uint64_t)(h->b[i] - prev));
    n += put_varint(buf + n, (uint64_t)h->c[i]);
    prev = h->b[i];
    *total += h->c[i];
  }
  return n;
}

/* Calls fn(bucket, count, ud) for each pair of a packed row, in bucket order. -1 when the row is damaged. */
static int hist_each(const unsigned char *p, size_t len, void (*fn)(int32_t, int64_t, void *), void *ud)
{
  size_t off = 0;
  uint64_t step, c, b = 0;
  while (off < len) {
    if (get_varint(p, len, &off, &step) || get_varint(p, len, &off, &c)) return -1;
    b += step;
    if (b >= HIST_MAX) return -1;
    fn((int32_t)b, (int64_t)c, ud);
  }
  return 0;
}

static void push_cb(int32_t b, int64_t c, void *ud)
{
  hist_push(ud, b, c);
}

/* ------------------------------------------------------------------------------------------------ writing */

/* One delta or one value, before it is written: a series key ("measure\x1f dim\x1f dvalue"), a period, a bucket. */
struct hd {
  const char *series;
  int64_t period;
  int32_t bucket;
  int64_t n;
};

static int hd_cmp(const void *x, const void *y)
{
  const struct hd *a = x, *b = y;
  int c = a->series == b->series ? 0 : strcmp(a->series, b->series);
  if (c) return c;
  if (a->period != b->period) return a->period < b->period ? -1 : 1;
  return a->bucket < b->bucket ? -1 : a->bucket > b->bucket;
}

/* Writes the groups of sorted deltas d[0..n) of one grain under key: each (series, period) row read, changed, written
 * (or deleted when empty). replace: the rows are known absent (a build), nothing is read. */
static int hd_write(struct destek_db *w, const char *key, int grain, struct hd *d, size_t n, int replace)
{
  qsort(d, n, sizeof *d, hd_cmp);
  struct hist cur = { 0 }, out = { 0 };
  unsigned char *buf = NULL;
  size_t bufcap = 0;
  int bad = 0;
  for (size_t i = 0; i < n && !bad;) {
    size_t j = i;
    while (j < n && !strcmp(d[j].series, d[i].series) && d[j].period == d[i].period) j++;
    char series[256];
    snprintf(series, sizeof series, "%s", d[i].series);
    char *measure = series, *dim = strchr(measure, '\x1f'), *dvalue = dim ? strchr(dim + 1, '\x1f') : NULL;
    if (!dvalue) {
      i = j;
      continue;
    }
    *dim++ = 0;
    *dvalue++ = 0;
    cur.len = out.len = 0;
    if (!replace) {
      sqlite3_stmt *st = H->db_prepare(w, "SELECT counts FROM reports_hist WHERE kind = ?1 AND measure = ?2 AND dim = ?3"
                                          " AND dvalue = ?4 AND grain = ?5 AND period = ?6");
      if (!st) {
        bad = 1;
        break;
      }
      H->db_bind(st, "ttttii", key, measure, dim, dvalue, (int64_t)grain, d[i].period);
      if (sqlite3_step(st) == SQLITE_ROW)
        hist_each(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0), push_cb, &cur);
      H->db_done(st);
    }
    /* Merge the row's counts with the deltas (both in bucket order). */
    size_t a = 0;
    for (size_t k = i; k < j;) {
      int32_t b = d[k].bucket;
      int64_t c = 0;
      while (k < j && d[k].bucket == b) c += d[k++].n;
      while (a < cur.len && cur.b[a] < b) hist_push(&out, cur.b[a], cur.c[a]), a++;
      if (a < cur.len && cur.b[a] == b) c += cur.c[a++];
      hist_push(&out, b, c);
    }
    while (a < cur.len) hist_push(&out, cur.b[a], cur.c[a]), a++;
    if (bufcap < out.len * 20 + 1) {
      bufcap = out.len * 20 + 64;
      buf = realloc(buf, bufcap);
      if (!buf) abort();
    }
    int64_t total;
    size_t len = hist_pack(&out, buf, &total);
    int rc;
    if (total > 0) {
      sqlite3_stmt *st = H->db_prepare(w, "INSERT OR REPLACE INTO reports_hist(kind, measure, dim, dvalue, grain, period, n, counts)"
                                          " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
      if (!st) {
        bad = 1;
        break;
      }
      H->db_bind(st, "ttttiii", key, measure, dim, dvalue, (int64_t)grain, d[i].period, total);
      sqlite3_bind_blob(st, 8, buf, (int)len, SQLITE_TRANSIENT);
      rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
      H->db_done(st);
    } else {
      rc = replace ? SQLITE_OK
                   : H->db_exec(w, "DELETE FROM reports_hist WHERE kind = ?1 AND measure = ?2 AND dim = ?3 AND dvalue = ?4"
                                   " AND grain = ?5 AND period = ?6", "ttttii", key, measure, dim, dvalue, (int64_t)grain,
                                d[i].period);
    }
    if (rc != SQLITE_OK) bad = 1;
    i = j;
  }
  hist_free(&cur);
  hist_free(&out);
  free(buf);
  return bad ? -1 : 0;
}

/* Writes deltas (day grain given) as day rows and month rows. */
static int hd_write_both(struct destek_db *w, const char *key, struct hd *d, size_t n, int replace)
{
  if (hd_write(w, key, 0, d, n, replace) != 0) return -1;
  for (size_t i = 0; i < n; i++) d[i].period = rep_month(d[i].period);
  return hd_write(w, key, 1, d, n, replace);
}

void rep_hist_note(struct rep_acc *h, int64_t day, const char *measure, const char *dim, const char *dvalue, double v,
                   int sign)
{
  if (!h) return;
  char val[128];
  snprintf(val, sizeof val, "%s\x1f%d", dvalue, rep_hist_bucket(v));
  rep_acc_add(h, day, measure, dim, val, sign, 0);
}

int rep_hist_apply(struct destek_db *w, const char *key, struct rep_acc *h)
{
  struct hd *d = calloc(h->len + 1, sizeof *d);
  char **keys = calloc(h->len + 1, sizeof *keys);
  if (!d || !keys) abort();
  size_t n = 0;
  for (size_t i = 0; i < h->cap; i++) {
    struct rep_acc_entry *e = &h->e[i];
    if (!e->key || !e->n) continue;
    /* "measure\x1f dim\x1f dvalue\x1f bucket" */
    char *last = strrchr(e->key, '\x1f');
    if (!last) continue;
    keys[n] = strndup(e->key, (size_t)(last - e->key));
    d[n].series = keys[n];
    d[n].period = e->day;
    d[n].bucket = atoi(last + 1);
    d[n].n = e->n;
    n++;
  }
  int rc = n ? hd_write_both(w, key, d, n, 0) : 0;
  for (size_t i = 0; i < n; i++) free(keys[i]);
  free(keys);
  free(d);
  return rc;
}

/* One series' values (rows of (value, day) in value order) into d, then written. */
struct build {
  struct hd *d;
  size_t len, cap;
};

static void build_push(struct build *b, const char *series, int64_t day, double v)
{
  if (b->len == b->cap) {
    b->cap = b->cap ? b->cap * 2 : 4096;
    b->d = realloc(b->d, b->cap * sizeof *b->d);
    if (!b->d) abort();
  }
  b->d[b->len++] = (struct hd){ series, day, rep_hist_bucket(v), 1 };
}

/* One step of a build: the counts of one series (measure, and dim = dvalue, or dim "" for the kind's whole series) in
 * the buckets [lo, hi) made equal to its values there, whatever the rows held in that range (a refresh since the build
 * began may have put deltas in): the rows' counts in the range are taken out (as negative deltas) and the values'
 * put in, merged into the rows. In w's transaction. */
static int build_step(struct destek_db *w, const char *key, const char *m, const char *dim, const char *dvalue, int lo,
                      int hi)
{
  char series[256];
  snprintf(series, sizeof series, "%s\x1f%s\x1f%s", m, dim, dvalue);
  struct build b = { 0 };
  /* What the day rows hold in the range (the month rows hold the same sums: both always take the same deltas). */
  sqlite3_stmt *st = H->db_prepare(w, "SELECT period, counts FROM reports_hist WHERE kind = ?1 AND measure = ?2 AND dim = ?3"
                                      " AND dvalue = ?4 AND grain = 0");
  if (!st) return -1;
  H->db_bind(st, "tttt", key, m, dim, dvalue);
  struct hist h = { 0 };
  while (sqlite3_step(st) == SQLITE_ROW) {
    h.len = 0;
    hist_each(sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1), push_cb, &h);
    for (size_t i = 0; i < h.len; i++)
      if (h.b[i] >= lo && h.b[i] < hi) {
        build_push(&b, series, sqlite3_column_int64(st, 0), 0);
        b.d[b.len - 1].bucket = h.b[i];
        b.d[b.len - 1].n = -h.c[i];
      }
  }
  H->db_done(st);
  hist_free(&h);
  st = dim[0] ? H->db_prepare(w, "SELECT value, day FROM reports_dim_values WHERE kind = ?1 AND measure = ?2 AND dim = ?3"
                                 " AND dvalue = ?4 AND value >= ?5 AND value < ?6")
              : H->db_prepare(w, "SELECT value, day FROM reports_values WHERE kind = ?1 AND measure = ?2 AND ?3 = ?3"
                                 " AND ?4 = ?4 AND value >= ?5 AND value < ?6");
  if (!st) {
    free(b.d);
    return -1;
  }
  H->db_bind(st, "ttttdd", key, m, dim, dvalue, bucket_lo(lo), bucket_lo(hi));
  while (sqlite3_step(st) == SQLITE_ROW) build_push(&b, series, sqlite3_column_int64(st, 1), sqlite3_column_double(st, 0));
  H->db_done(st);
  int bad = b.len ? hd_write_both(w, key, b.d, b.len, 0) : 0;
  free(b.d);
  return bad ? -1 : 0;
}

/* The bucket after the first ~REP_HIST_STEP values of a series from bucket lo on (HIST_MAX when fewer are left): a
 * step's end. One bucket at least, however many values it holds. */
#define REP_HIST_STEP 20000
static int step_end(struct destek_db *db, const char *key, const char *m, const char *dim, const char *dvalue, int lo)
{
  sqlite3_stmt *st = dim[0] ? H->db_prepare(db, "SELECT value FROM reports_dim_values WHERE kind = ?1 AND measure = ?2"
                                                " AND dim = ?3 AND dvalue = ?4 AND value >= ?5 ORDER BY value LIMIT 1 OFFSET ?6")
                            : H->db_prepare(db, "SELECT value FROM reports_values WHERE kind = ?1 AND measure = ?2 AND ?3 = ?3"
                                                " AND ?4 = ?4 AND value >= ?5 ORDER BY value LIMIT 1 OFFSET ?6");
  if (!st) return HIST_MAX;
  H->db_bind(st, "ttttdi", key, m, dim, dvalue, bucket_lo(lo), (int64_t)REP_HIST_STEP);
  int end = HIST_MAX;
  if (sqlite3_step(st) == SQLITE_ROW) {
    end = rep_hist_bucket(sqlite3_column_double(st, 0));
    if (end <= lo) end = lo + 1;
  }
  H->db_done(st);
  return end;
}

/* The next value of dim after `after` among the durations measure of key (one index seek), into out[96]; 0, or -1. */
static int next_dvalue(struct destek_db *db, const char *key, const char *m, const char *dim, const char *after, char out[96])
{
  sqlite3_stmt *st = H->db_prepare(db, "SELECT dvalue FROM reports_dim_values WHERE kind = ?1 AND measure = ?2 AND dim = ?3"
                                       " AND dvalue > ?4 ORDER BY dvalue LIMIT 1");
  if (!st) return -1;
  H->db_bind(st, "tttt", key, m, dim, after);
  int rc = -1;
  if (sqlite3_step(st) == SQLITE_ROW) {
    snprintf(out, 96, "%s", (const char *)sqlite3_column_text(st, 0));
    rc = 0;
  }
  H->db_done(st);
  return rc;
}

static int64_t mono_ms(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Builds every step of one series, each a short write transaction. */
static int build_series(struct destek_req *call, const char *key, const char *m, const char *dim, const char *dvalue,
                        int64_t *max_ms)
{
  for (int lo = 0; lo < HIST_MAX;) {
    struct destek_db *w = H->db_write(call);
    if (!w) return -1;
    int64_t t0 = mono_ms();
    int hi = step_end(w, key, m, dim, dvalue, lo);
    if (build_step(w, key, m, dim, dvalue, lo, hi) != 0 || H->db_commit(call) != 0) return -1;
    if (max_ms && mono_ms() - t0 > *max_ms) *max_ms = mono_ms() - t0;
    lo = hi;
  }
  return 0;
}

int rep_hist_build(struct destek_req *call, const struct rep_source *src, const char *key, int64_t *max_ms)
{
  /* Step by step, each a short write transaction of ~REP_HIST_STEP values of one series: a refresh between two steps
   * changes the rows by its deltas and the values the later steps read; each step makes its own bucket range of its
   * series equal to the values, whatever deltas the rows took meanwhile. The rows are read only once the whole key is
   * built (reports_sources.hist_store, set by the caller). */
  struct destek_db *w = H->db_write(call);
  if (!w) return -1;
  /* Every row first (measures the source no longer names go too). */
  if (H->db_exec(w, "DELETE FROM reports_hist WHERE kind = ?1", "t", key) != SQLITE_OK || H->db_commit(call) != 0) return -1;
  for (int i = 0; i < src->ndurations; i++) {
    if (build_series(call, key, src->durations[i], "", "", max_ms) != 0) return -1;
    for (int d = 0; d < src->nmedian_by; d++) {
      char v[96] = "";
      for (;;) {
        struct destek_db *db = H->db_read(call);
        if (!db || next_dvalue(db, key, src->durations[i], src->median_by[d], v, v) != 0) break;
        if (build_series(call, key, src->durations[i], src->median_by[d], v, max_ms) != 0) return -1;
      }
    }
  }
  return 0;
}

/* ------------------------------------------------------------------------------------------------ reading */

struct sum {
  int64_t *c;
  int lo, hi;   /* buckets touched */
  int64_t total;
};

static void sum_cb(int32_t b, int64_t c, void *ud)
{
  struct sum *s = ud;
  s->c[b] += c;
  if (b < s->lo) s->lo = b;
  if (b > s->hi) s->hi = b;
  s->total += c;
}

double rep_hist_median(struct destek_db *db, const char *key, const char *measure, const char *dim, const char *dvalue,
                       int64_t from, int64_t to)
{
  /* The months wholly inside the range, and the days at its two ends. */
  struct rep_span sp = rep_span_split(from, to);
  int64_t m1 = sp.m1, m2 = sp.m2, a1 = sp.a1, a2 = sp.a2, b1 = sp.b1, b2 = sp.b2;
  int64_t *counts = calloc(HIST_MAX, sizeof *counts);   /* mapped zero pages: only the buckets touched cost */
  if (!counts) return -1;
  struct sum s = { counts, HIST_MAX, -1, 0 };
  sqlite3_stmt *st = H->db_prepare(db,
    "SELECT counts FROM reports_hist WHERE kind = ?1 AND measure = ?2 AND dim = ?3 AND dvalue = ?4 AND grain = 0"
    " AND period BETWEEN ?5 AND ?6"
    " UNION ALL SELECT counts FROM reports_hist WHERE kind = ?1 AND measure = ?2 AND dim = ?3 AND dvalue = ?4 AND grain = 1"
    " AND period BETWEEN ?7 AND ?8"
    " UNION ALL SELECT counts FROM reports_hist WHERE kind = ?1 AND measure = ?2 AND dim = ?3 AND dvalue = ?4 AND grain = 0"
    " AND period BETWEEN ?9 AND ?10");
  if (!st) {
    free(counts);
    return -1;
  }
  H->db_bind(st, "ttttiiiiii", key, measure, dim, dvalue, a1, a2, m1, m2, b1, b2);
  while (sqlite3_step(st) == SQLITE_ROW)
    hist_each(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0), sum_cb, &s);
  H->db_done(st);
  double v = -1;
  if (s.total > 0) {
    int64_t rank = (s.total - 1) / 2, below = 0;
    int b = s.lo;
    for (; b <= s.hi; b++) {
      if (below + s.c[b] > rank) break;
      below += s.c[b];
    }
    /* The exact value: the (rank - below)th of the range's values inside bucket b, in value order. A bucket holding
     * one value only (business seconds are often 0: every answer out of hours) answers at once: two index seeks. */
    double lo = bucket_lo(b), hi = bucket_lo(b + 1), ends[2] = { 0, 1 };
    for (int e = 0; e < 2; e++) {
      st = dim[0] ? H->db_prepare(db, e ? "SELECT value FROM reports_dim_values WHERE kind = ?1 AND measure = ?2 AND dim = ?3"
                                          " AND dvalue = ?4 AND value >= ?5 AND value < ?6 ORDER BY value DESC LIMIT 1"
                                        : "SELECT value FROM reports_dim_values WHERE kind = ?1 AND measure = ?2 AND dim = ?3"
                                          " AND dvalue = ?4 AND value >= ?5 AND value < ?6 ORDER BY value LIMIT 1")
                  : H->db_prepare(db, e ? "SELECT value FROM reports_values WHERE kind = ?1 AND measure = ?2 AND ?3 = ?3"
                                          " AND ?4 = ?4 AND value >= ?5 AND value < ?6 ORDER BY value DESC LIMIT 1"
                                        : "SELECT value FROM reports_values WHERE kind = ?1 AND measure = ?2 AND ?3 = ?3"
                                          " AND ?4 = ?4 AND value >= ?5 AND value < ?6 ORDER BY value LIMIT 1");
      if (!st) break;
      H->db_bind(st, "ttttdd", key, measure, dim, dvalue, lo, hi);
      if (sqlite3_step(st) == SQLITE_ROW) ends[e] = sqlite3_column_double(st, 0);
      H->db_done(st);
    }
    if (ends[0] == ends[1]) {
      v = ends[0];
      st = NULL;
    } else if (dim[0]) {
      st = H->db_prepare(db, "SELECT value FROM reports_dim_values WHERE kind = ?1 AND measure = ?2 AND dim = ?3 AND dvalue = ?4"
                             " AND value >= ?5 AND value < ?6 AND day BETWEEN ?7 AND ?8 ORDER BY value LIMIT 1 OFFSET ?9");
      if (st) H->db_bind(st, "ttttddiii", key, measure, dim, dvalue, lo, hi, from, to, rank - below);
    } else {
      st = H->db_prepare(db, "SELECT value FROM reports_values INDEXED BY sqlite_autoindex_reports_values_1"
                             " WHERE kind = ?1 AND measure = ?2 AND value >= ?3 AND value < ?4 AND day BETWEEN ?5 AND ?6"
                             " ORDER BY value LIMIT 1 OFFSET ?7");
      if (st) H->db_bind(st, "ttddiii", key, measure, lo, hi, from, to, rank - below);
    }
    if (st) {
      if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_double(st, 0);
      H->db_done(st);
    }
  }
  free(counts);
  return v;
}
