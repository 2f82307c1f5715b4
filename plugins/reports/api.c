/* The reports' HTTP API: the dashboard's figures (this period and the one before), the list behind a chart
 * (drill-down), CSV exports, the sources' state and the rebuild button. Everything is read from the module's own
 * roll-ups (rollup.c); a kind no module publishes is simply absent. */
#include "rep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "destek_jbuf.h"

/* Agents see the reports unless reports.agents is off; admins always do. 0, or the 403 set up. */
static int may_see(struct destek_req *r)
{
  const char *role = H->user_role(r);
  if (role && !strcmp(role, "admin")) return 0;
  if (H->setting_bool("reports.agents", 1)) return 0;
  return H->error(r, 403, "forbidden", "only admins may see the reports");
}

/* ?from=YYYY-MM-DD&to=YYYY-MM-DD (default: the last 30 days up to today), ?hours=business|calendar. */
static int range_read(struct destek_req *r, int64_t *from, int64_t *to, int *business)
{
  char buf[32];
  int64_t today = rep_day((int64_t)time(NULL));
  *to = today;
  *from = today - 29;
  if (H->query_get(r, "to", buf, sizeof buf) && buf[0] && rep_parse_day(buf, to) != 0)
    return H->field_error(r, "invalid_field", "to", "to must be a date (YYYY-MM-DD)");
  if (H->query_get(r, "from", buf, sizeof buf) && buf[0]) {
    if (rep_parse_day(buf, from) != 0) return H->field_error(r, "invalid_field", "from", "from must be a date (YYYY-MM-DD)");
  } else {
    *from = *to - 29;
  }
  if (*from > *to) return H->field_error(r, "invalid_field", "from", "from must not be after to");
  if (*to - *from > 3 * 366) return H->field_error(r, "invalid_field", "from", "a range may be at most three years");
  *business = 0;
  if (business && H->query_get(r, "hours", buf, sizeof buf) && buf[0]) {
    if (!strcmp(buf, "business")) *business = 1;
    else if (strcmp(buf, "calendar")) return H->field_error(r, "invalid_field", "hours", "hours must be business or calendar");
  }
  return 0;
}

/* The measure a duration is read from: "frt_bh" for "frt" in business hours when the source has it. */
static const char *variant(const struct rep_source *src, const char *m, int business, char out[24])
{
  snprintf(out, 24, "%s", m);
  if (!business) return out;
  char bh[40];
  snprintf(bh, sizeof bh, "%.30s_bh", m);
  for (int i = 0; i < src->ndurations; i++)
    if (!strcmp(src->durations[i], bh)) memcpy(out, src->durations[i], 24);
  return out;
}

static int ends_bh(const char *m)
{
  size_t n = strlen(m);
  return n > 3 && !strcmp(m + n - 3, "_bh");
}

static double median_of(struct destek_db *db, const struct rep_source *src, const char *measure, int64_t from, int64_t to,
                        int64_t n)
{
  if (n <= 0) return -1;
  if (src->hist) return rep_hist_median(db, src->store, measure, "", "", from, to);
  const char *kind = src->store;
  sqlite3_stmt *st = H->db_prepare(db, "SELECT value FROM reports_values INDEXED BY sqlite_autoindex_reports_values_1"
                                       " WHERE kind = ?1 AND measure = ?2 AND day BETWEEN ?3 AND ?4"
                                       " ORDER BY value LIMIT 1 OFFSET ?5");
  if (!st) return -1;
  H->db_bind(st, "ttiii", kind, measure, from, to, (n - 1) / 2);
  double v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_double(st, 0) : -1;
  H->db_done(st);
  return v;
}

/* The median of measure over the facts of [from, to] whose dim is dvalue (n of them), or -1. */
static double dim_median_of(struct destek_db *db, const struct rep_source *src, const char *measure, const char *dim,
                            const char *dvalue, int64_t from, int64_t to, int64_t n)
{
  if (n <= 0) return -1;
  if (src->hist) return rep_hist_median(db, src->store, measure, dim, dvalue, from, to);
  const char *kind = src->store;
  sqlite3_stmt *st = H->db_prepare(db, "SELECT value FROM reports_dim_values WHERE kind = ?1 AND measure = ?2 AND dim = ?3"
                                       " AND dvalue = ?4 AND day BETWEEN ?5 AND ?6 ORDER BY value LIMIT 1 OFFSET ?7");
  if (!st) return -1;
  H->db_bind(st, "ttttiii", kind, measure, dim, dvalue, from, to, (n - 1) / 2);
  double v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_double(st, 0) : -1;
  H->db_done(st);
  return v;
}

static cJSON *measure_obj(int64_t n, double sum)
{
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "n", (double)n);
  cJSON_AddNumberToObject(o, "sum", sum);
  if (n) cJSON_AddNumberToObject(o, "avg", sum / (double)n);
  else cJSON_AddNullToObject(o, "avg");
  return o;
}

/* One period's figures: {count, measures: {m: {n, sum, avg}}, durations: {d: {n, avg, median, buckets[4]}},
 * by: {dim: [{value, label, count, measures}]}, series: {days: [...], count: [...], <duration>: [avg or null]}}.
 * Durations are named without _bh; with business set, their business variants are read. */
cJSON *rep_kind_figures_new(struct destek_req *call, const struct rep_source *src, int64_t from, int64_t to, int business,
                            int medians)
{
  struct destek_db *db = H->db_read(call);
  if (!db) return NULL;
  cJSON *o = cJSON_CreateObject(), *measures = cJSON_AddObjectToObject(o, "measures"),
        *durs = cJSON_AddObjectToObject(o, "durations"), *by = cJSON_AddObjectToObject(o, "by");
  int64_t count = 0;
  /* Totals. */
  /* One scan of the totals in the table's order (day, measure) gives the period's sums and the daily series; summed
   * and put in measure order here: SQL's GROUP BY and ORDER BY would sort every row. */
  struct msum { char m[48]; int64_t n; double sum; double *dn, *ds; } ms[64];
  int nms = 0;
  int64_t nd = to - from + 1;
  sqlite3_stmt *st = H->db_prepare(db, "SELECT day, measure, n, sum FROM reports_totals WHERE kind = ?1 AND day BETWEEN ?2 AND ?3");
  if (st) {
    H->db_bind(st, "tii", src->store, from, to);
    int last = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
      const char *m = (const char *)sqlite3_column_text(st, 1);
      int k = last < nms && !strcmp(ms[last].m, m) ? last : -1;
      for (int j = 0; k < 0 && j < nms; j++)
        if (!strcmp(ms[j].m, m)) k = j;
      if (k < 0) {
        if (nms == 64 || strlen(m) >= sizeof ms[0].m) continue;
        k = nms++;
        snprintf(ms[k].m, sizeof ms[k].m, "%s", m);
        ms[k].n = 0;
        ms[k].sum = 0;
        ms[k].dn = ms[k].ds = NULL;
        if (!strchr(m, ':')) {   /* a series: not the duration buckets */
          ms[k].dn = calloc((size_t)nd, sizeof *ms[k].dn);
          ms[k].ds = calloc((size_t)nd, sizeof *ms[k].ds);
          if (!ms[k].dn || !ms[k].ds) abort();
        }
      }
      int64_t day = sqlite3_column_int64(st, 0), n = sqlite3_column_int64(st, 2);
      double sum = sqlite3_column_double(st, 3);
      ms[k].n += n;
      ms[k].sum += sum;
      if (ms[k].dn && day >= from && day <= to) {
        ms[k].dn[day - from] += (double)n;
        ms[k].ds[day - from] += sum;
      }
      last = k + 1;
    }
    H->db_done(st);
  }
  for (int i = 1; i < nms; i++)   /* insertion sort by name: a few dozen measures */
    for (int j = i; j > 0 && strcmp(ms[j - 1].m, ms[j].m) > 0; j--) {
      struct msum x = ms[j];
      ms[j] = ms[j - 1];
      ms[j - 1] = x;
    }
  for (int i = 0; i < nms; i++) {
    if (!strcmp(ms[i].m, "count")) count = ms[i].n;
    cJSON_AddItemToObject(measures, ms[i].m, measure_obj(ms[i].n, ms[i].sum));
  }
  cJSON_AddNumberToObject(o, "count", (double)count);
  /* Durations: average, exact median, buckets. */
  for (int i = 0; i < src->ndurations; i++) {
    const char *d = src->durations[i];
    if (ends_bh(d)) continue;
    char m[24], key[40];
    variant(src, d, business, m);
    const cJSON *mo = cJSON_GetObjectItemCaseSensitive(measures, m);
    int64_t n = mo ? (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(mo, "n")) : 0;
    double sum = mo ? cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(mo, "sum")) : 0;
    cJSON *x = measure_obj(n, sum);
    double med = median_of(db, src, m, from, to, n);
    if (med >= 0) cJSON_AddNumberToObject(x, "median", med);
    else cJSON_AddNullToObject(x, "median");
    cJSON *b = cJSON_AddArrayToObject(x, "buckets");
    for (int k = 0; k < 4; k++) {
      snprintf(key, sizeof key, "%s:b%d", m, k);
      const cJSON *bo = cJSON_GetObjectItemCaseSensitive(measures, key);
      cJSON_AddItemToArray(b, cJSON_CreateNumber(bo ? cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(bo, "n")) : 0));
    }
    cJSON_AddItemToObject(durs, d, x);
  }
  /* By dimension. */
  /* The months wholly inside the range from the monthly roll-up, the days at its ends from the daily one. */
  struct rep_span sp = rep_span_split(from, to);
  int64_t m1 = sp.m1, m2 = sp.m2, a1 = sp.a1, a2 = sp.a2, b1 = sp.b1, b2 = sp.b2;
  /* Summed here rather than by SQL's GROUP BY, which sorts every row first. */
  st = H->db_prepare(db, "SELECT dim, value, measure, n, sum FROM reports_daily WHERE kind = ?1 AND day BETWEEN ?2 AND ?3"
                         " UNION ALL SELECT dim, value, measure, n, sum FROM reports_monthly WHERE kind = ?1 AND month BETWEEN ?4 AND ?5"
                         " UNION ALL SELECT dim, value, measure, n, sum FROM reports_daily WHERE kind = ?1 AND day BETWEEN ?6 AND ?7");
  if (st) {
    struct rep_acc a = { 0 };
    H->db_bind(st, "tiiiiii", src->store, a1, a2, m1, m2, b1, b2);
    while (sqlite3_step(st) == SQLITE_ROW)
      rep_acc_add(&a, 0, (const char *)sqlite3_column_text(st, 2), (const char *)sqlite3_column_text(st, 0),
                  (const char *)sqlite3_column_text(st, 1), sqlite3_column_int64(st, 3), sqlite3_column_double(st, 4));
    H->db_done(st);
    /* Rows by dimension and value: "dim\x1f value\x1f measure" sorted. */
    char **keys = calloc(a.len + 1, sizeof *keys);
    struct rep_acc_entry **ents = calloc(a.len + 1, sizeof *ents);
    size_t nk = 0;
    for (size_t i = 0; i < a.cap; i++) {
      if (!a.e[i].key) continue;
      char *m = a.e[i].key, *d = strchr(m, '\x1f'), *v = d ? strchr(d + 1, '\x1f') : NULL;
      if (!v) continue;
      size_t len = strlen(m) + 3;
      keys[nk] = malloc(len);
      /* dim, value, measure */
      int dl = (int)(v - d - 1), ml = (int)(d - m);
      snprintf(keys[nk], len, "%.*s\x1f%s\x1f%.*s", dl, d + 1, v + 1, ml, m);
      ents[nk++] = &a.e[i];
    }
    size_t *order = malloc((nk + 1) * sizeof *order);
    for (size_t i = 0; i < nk; i++) order[i] = i;
    for (size_t i = 1; i < nk; i++) {            /* insertion sort: a few hundred keys */
      size_t x = order[i], j = i;
      while (j > 0 && strcmp(keys[order[j - 1]], keys[x]) > 0) { order[j] = order[j - 1]; j--; }
      order[j] = x;
    }
    cJSON *cur = NULL;
    char cur_dim[64] = "", cur_val[96] = "";
    for (size_t q = 0; q < nk; q++) {
      char *k = keys[order[q]], *val = strchr(k, '\x1f'), *m = val ? strchr(val + 1, '\x1f') : NULL;
      if (!m) continue;
      *val++ = 0;
      *m++ = 0;
      const char *dim = k;
      if (!cur || strcmp(dim, cur_dim) || strcmp(val, cur_val)) {
        snprintf(cur_dim, sizeof cur_dim, "%s", dim);
        snprintf(cur_val, sizeof cur_val, "%s", val);
        cJSON *arr = cJSON_GetObjectItemCaseSensitive(by, dim);
        if (!arr) arr = cJSON_AddArrayToObject(by, dim);
        cur = cJSON_CreateObject();
        cJSON_AddStringToObject(cur, "value", val);
        char *label = H->db_text_new(db, "SELECT label FROM reports_labels WHERE kind = ?1 AND dim = ?2 AND value = ?3",
                                     "ttt", src->store, dim, val);
        if (label) cJSON_AddStringToObject(cur, "label", label);
        free(label);
        cJSON_AddNumberToObject(cur, "count", 0);
        cJSON_AddObjectToObject(cur, "measures");
        cJSON_AddItemToArray(arr, cur);
      }
      const struct rep_acc_entry *e = ents[order[q]];
      if (e->n == 0 && e->sum == 0) continue;
      if (!strcmp(m, "count")) cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(cur, "count"), (double)e->n);
      cJSON_AddItemToObject(cJSON_GetObjectItemCaseSensitive(cur, "measures"), m, measure_obj(e->n, e->sum));
    }
    /* Exact medians of the durations (calendar or business, as asked) per value of the dimensions the source names. */
    for (int i = 0; medians && i < src->nmedian_by; i++) {
      const cJSON *row;
      cJSON_ArrayForEach(row, cJSON_GetObjectItemCaseSensitive(by, src->median_by[i])) {
        const char *val = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(row, "value"));
        const cJSON *ms = cJSON_GetObjectItemCaseSensitive(row, "measures");
        for (int d = 0; d < src->ndurations && val; d++) {
          const char *m = src->durations[d];
          char bh[24];
          /* The variant shown: the business one when asked and the source has it. */
          if (ends_bh(m)) continue;
          const char *shown = variant(src, m, business, bh);
          cJSON *mo = cJSON_GetObjectItemCaseSensitive(ms, shown);
          int64_t nv = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(mo, "n"));
          double med = mo && nv > 0 ? dim_median_of(db, src, shown, src->median_by[i], val, from, to, nv) : -1;
          if (med >= 0) cJSON_AddNumberToObject(mo, "median", med);
        }
      }
    }
    for (size_t i = 0; i < nk; i++) free(keys[i]);
    free(keys);
    free(ents);
    free(order);
    rep_acc_free(&a);
  }
  /* Series per day, from the totals' scan: the count, and every measure's daily average (durations, scores, rates),
   * null on a day without it. */
  cJSON *series = cJSON_AddObjectToObject(o, "series"), *days = cJSON_AddArrayToObject(series, "days");
  cJSON *cnt = cJSON_AddArrayToObject(series, "count");
  for (int64_t d = 0; d < nd; d++) {
    char s[11];
    rep_day_str(from + d, s);
    cJSON_AddItemToArray(days, cJSON_CreateString(s));
  }
  const struct msum *cm = NULL;
  for (int i = 0; i < nms; i++)
    if (!strcmp(ms[i].m, "count")) cm = &ms[i];
  for (int64_t d = 0; d < nd; d++) cJSON_AddItemToArray(cnt, cJSON_CreateNumber(cm ? cm->dn[d] : 0));
  for (int i = 0; i < nms; i++) {
    if (!ms[i].dn || &ms[i] == cm) continue;
    cJSON *arr = cJSON_AddArrayToObject(series, ms[i].m);
    for (int64_t d = 0; d < nd; d++)
      cJSON_AddItemToArray(arr, ms[i].dn[d] != 0 ? cJSON_CreateNumber(ms[i].ds[d] / ms[i].dn[d]) : cJSON_CreateNull());
  }
  for (int i = 0; i < nms; i++) {
    free(ms[i].dn);
    free(ms[i].ds);
  }
  return o;
}

/* The open facts now: how many and their ages (0-1, 1-3, 3-7, 7+ days), or NULL when the kind has none open. Counted on
 * the (kind, open, at) index: the whole count, three short ranges (the facts younger than 1, 3 and 7 days) and the
 * oldest (one seek), rather than an expression per open fact. */
static cJSON *backlog_new(struct destek_db *db, const char *kind)
{
  int64_t now = (int64_t)time(NULL), c[4] = { 0, 0, 0, 0 }, oldest = 0;
  static const int64_t after[4] = { 0, 86400, 3 * 86400, 7 * 86400 };
  for (int i = 0; i < 4; i++) {
    /* i = 0: every open fact; else those with now - at < after[i]. */
    sqlite3_stmt *st = H->db_prepare(db, i ? "SELECT count(*) FROM reports_facts WHERE kind = ?1 AND open = 1 AND at > ?2"
                                           : "SELECT count(*) FROM reports_facts WHERE kind = ?1 AND open = 1 AND ?2 = ?2");
    if (!st) return NULL;
    H->db_bind(st, "ti", kind, now - after[i]);
    if (sqlite3_step(st) == SQLITE_ROW) c[i] = sqlite3_column_int64(st, 0);
    H->db_done(st);
  }
  if (c[0]) {
    sqlite3_stmt *st = H->db_prepare(db, "SELECT min(at) FROM reports_facts WHERE kind = ?1 AND open = 1");
    if (!st) return NULL;
    H->db_bind(st, "t", kind);
    if (sqlite3_step(st) == SQLITE_ROW) oldest = sqlite3_column_int64(st, 0);
    H->db_done(st);
  }
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "open", (double)c[0]);
  if (c[0]) cJSON_AddNumberToObject(o, "oldest_seconds", (double)(now - oldest));
  else cJSON_AddNullToObject(o, "oldest_seconds");
  cJSON *ages = cJSON_AddArrayToObject(o, "ages");
  int64_t v[4] = { c[1], c[2] - c[1], c[3] - c[2], c[0] - c[3] };
  for (int k = 0; k < 4; k++) cJSON_AddItemToArray(ages, cJSON_CreateNumber((double)v[k]));
  return o;
}

/* GET /api/v1/reports/dashboard?from&to&hours -> {from, to, previous: {from, to}, hours, kinds: {kind: {current,
 * previous, backlog}}}: only the kinds some module publishes now. */
static int dashboard(struct destek_req *r)
{
  int rc = may_see(r);
  int64_t from, to;
  int business;
  if (rc || (rc = range_read(r, &from, &to, &business))) return rc;
  int64_t len = to - from + 1, pfrom = from - len, pto = from - 1;
  H->db_read_snapshot(r);   /* one snapshot: a rebuild's swap falls wholly before or after */
  struct rep_source src[REP_MAX_SOURCES];
  int n = rep_sources(r, src, REP_MAX_SOURCES);
  cJSON *o = cJSON_CreateObject(), *prev = cJSON_CreateObject(), *kinds;
  char s[11];
  rep_day_str(from, s);
  cJSON_AddStringToObject(o, "from", s);
  rep_day_str(to, s);
  cJSON_AddStringToObject(o, "to", s);
  rep_day_str(pfrom, s);
  cJSON_AddStringToObject(prev, "from", s);
  rep_day_str(pto, s);
  cJSON_AddStringToObject(prev, "to", s);
  cJSON_AddItemToObject(o, "previous", prev);
  cJSON_AddStringToObject(o, "hours", business ? "business" : "calendar");
  kinds = cJSON_AddObjectToObject(o, "kinds");
  for (int i = 0; i < n; i++) {
    cJSON *k = cJSON_CreateObject(), *cur = rep_kind_figures_new(r, &src[i], from, to, business, 1),
          *pv = rep_kind_figures_new(r, &src[i], pfrom, pto, business, 0);
    if (!cur || !pv) {
      cJSON_Delete(cur);
      cJSON_Delete(pv);
      cJSON_Delete(k);
      cJSON_Delete(o);
      return H->error(r, 503, "db_busy", "the database is busy");
    }
    cJSON_DeleteItemFromObject(pv, "series");
    cJSON_AddItemToObject(k, "current", cur);
    cJSON_AddItemToObject(k, "previous", pv);
    cJSON *bl = backlog_new(H->db_read(r), src[i].store);
    if (bl) cJSON_AddItemToObject(k, "backlog", bl);
    cJSON_AddItemToObject(kinds, src[i].kind, k);
  }
  return H->reply_json(r, 200, o);
}

/* The kind named by ?kind, published now: 0 and *src, or the 404/422 set up. */
static int kind_read(struct destek_req *r, struct rep_source *src)
{
  char kind[32];
  if (!H->query_get(r, "kind", kind, sizeof kind) || !kind[0]) return H->field_error(r, "missing_field", "kind", "kind is required");
  if (rep_source_find(r, kind, src) != 0) return H->error(r, 404, "not_found", "no module publishes figures of that kind");
  return 0;
}

#define DRILL_SQL \
  "SELECT entity_id, ref, at, open, dims, vals FROM reports_facts WHERE kind = ?1 AND day BETWEEN ?2 AND ?3" \
  " AND entity_id > ?4 AND (?9 < 0 OR open = ?9)" \
  " AND (?5 = '' OR EXISTS (SELECT 1 FROM json_each(dims, '$.' || ?5) j WHERE CAST(j.value AS TEXT) = ?6))" \
  " AND (?7 = '' OR (json_extract(vals, '$.' || ?7) IS NOT NULL AND (?8 < 0 OR ?8 = CASE" \
  "   WHEN json_extract(vals, '$.' || ?7) < 3600 THEN 0 WHEN json_extract(vals, '$.' || ?7) < 14400 THEN 1" \
  "   WHEN json_extract(vals, '$.' || ?7) < 86400 THEN 2 ELSE 3 END)))" \
  " ORDER BY entity_id LIMIT ?10"

/* The drill-down filters: ?dim&value (a dimension value), ?measure (facts that have it; a duration's business
 * variant with hours=business) and ?bucket (0..3), ?open=1 (only open ones, any date unless from/to are given). */
struct drill {
  int64_t from, to;
  char dim[64], value[96], measure[24];
  int64_t bucket, open;
};

static int is_name(const char *s)
{
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_')) return 0;
  return 1;
}

static int drill_read(struct destek_req *r, const struct rep_source *src, struct drill *d)
{
  char buf[32], m[24] = "";
  int business, rc;
  memset(d, 0, sizeof *d);
  d->bucket = d->open = -1;
  if (H->query_get(r, "open", buf, sizeof buf) && !strcmp(buf, "1")) d->open = 1;
  int dated = H->query_get(r, "from", buf, sizeof buf) && buf[0];
  if ((rc = range_read(r, &d->from, &d->to, &business))) return rc;
  if (d->open == 1 && !dated) {
    d->from = -1000000;
    d->to = 10000000;
  }
  H->query_get(r, "dim", d->dim, sizeof d->dim);
  H->query_get(r, "value", d->value, sizeof d->value);
  H->query_get(r, "measure", m, sizeof m);
  if (!is_name(d->dim)) return H->field_error(r, "invalid_field", "dim", "dim must be a dimension's name");
  if (!is_name(m)) return H->field_error(r, "invalid_field", "measure", "measure must be a measure's name");
  variant(src, m, business, d->measure);
  if (H->query_get(r, "bucket", buf, sizeof buf) && buf[0]) {
    if (strlen(buf) != 1 || buf[0] < '0' || buf[0] > '3') return H->field_error(r, "invalid_field", "bucket", "bucket must be 0 to 3");
    d->bucket = buf[0] - '0';
  }
  return 0;
}

static sqlite3_stmt *drill_stmt(struct destek_db *db, const char *kind, const struct drill *d, int64_t after, int64_t limit)
{
  sqlite3_stmt *st = H->db_prepare(db, DRILL_SQL);
  if (st) H->db_bind(st, "tiiitttiii", kind, d->from, d->to, after, d->dim, d->value, d->measure, d->bucket, d->open, limit);
  return st;
}

/* GET /api/v1/reports/drill?kind&from&to&dim&value&measure&bucket&open -> {items: [{id, ref, at, open, dims,
 * values}], next_cursor}: the facts behind a chart, for the app to link to (a ticket's page, a return's). */
static int drill(struct destek_req *r)
{
  struct rep_source src;
  struct drill d;
  int limit, rc = may_see(r);
  int64_t after;
  if (rc || (rc = kind_read(r, &src)) || (rc = drill_read(r, &src, &d)) || (rc = H->page(r, &limit, &after))) return rc;
  struct destek_db *db = H->db_read(r);
  sqlite3_stmt *st = db ? drill_stmt(db, src.store, &d, after, limit) : NULL;
  if (!st) return H->error(r, 503, "db_busy", "the database is busy");
  cJSON *items = cJSON_CreateArray();
  int64_t last = 0;
  int n = 0;
  while (sqlite3_step(st) == SQLITE_ROW) {
    cJSON *o = cJSON_CreateObject();
    last = sqlite3_column_int64(st, 0);
    cJSON_AddNumberToObject(o, "id", (double)last);
    if (sqlite3_column_type(st, 1) != SQLITE_NULL) cJSON_AddStringToObject(o, "ref", (const char *)sqlite3_column_text(st, 1));
    cJSON_AddNumberToObject(o, "at", (double)sqlite3_column_int64(st, 2));
    cJSON_AddBoolToObject(o, "open", sqlite3_column_int(st, 3));
    cJSON_AddItemToObject(o, "dims", cJSON_Parse((const char *)sqlite3_column_text(st, 4)));
    cJSON_AddItemToObject(o, "values", cJSON_Parse((const char *)sqlite3_column_text(st, 5)));
    cJSON_AddItemToArray(items, o);
    n++;
  }
  H->db_done(st);
  return H->reply_json(r, 200, H->list_new(items, n == limit ? last : 0));
}

/* One CSV field: quoted when it holds a separator, a quote or a line break; a leading = + - @ is defused with a
 * quote mark so that a spreadsheet does not run it as a formula. */
static void csv_field(struct jbuf *b, const char *s)
{
  int quote = strpbrk(s, ",\"\r\n;") != NULL || (s[0] && strchr("=+-@\t", s[0]));
  if (!quote) {
    jbuf_raw(b, s, strlen(s));
    return;
  }
  JBUF_LIT(b, "\"");
  if (s[0] && strchr("=+-@\t", s[0])) JBUF_LIT(b, "'");
  for (; *s; s++) {
    if (*s == '"') JBUF_LIT(b, "\"\"");
    else jbuf_raw(b, s, 1);
  }
  JBUF_LIT(b, "\"");
}

static void csv_value(struct jbuf *b, const cJSON *v)
{
  char num[48];
  if (!v || cJSON_IsNull(v)) return;
  if (cJSON_IsNumber(v)) {
    if (v->valuedouble == (double)(int64_t)v->valuedouble) snprintf(num, sizeof num, "%lld", (long long)v->valuedouble);
    else snprintf(num, sizeof num, "%.4f", v->valuedouble);
    jbuf_raw(b, num, strlen(num));
  } else if (cJSON_IsString(v)) {
    csv_field(b, v->valuestring);
  } else if (cJSON_IsArray(v)) {
    struct jbuf inner;
    jbuf_init(&inner, 64);
    const cJSON *e;
    cJSON_ArrayForEach(e, v) {
      if (inner.len) JBUF_LIT(&inner, "|");
      if (cJSON_IsString(e)) jbuf_raw(&inner, e->valuestring, strlen(e->valuestring));
      else if (cJSON_IsNumber(e)) {
        snprintf(num, sizeof num, "%lld", (long long)e->valuedouble);
        jbuf_raw(&inner, num, strlen(num));
      }
    }
    char *joined = jbuf_take(&inner, NULL);     /* NUL-terminated */
    csv_field(b, joined);
    free(joined);
  } else if (cJSON_IsBool(v)) {
    if (cJSON_IsTrue(v)) JBUF_LIT(b, "true");
    else JBUF_LIT(b, "false");
  }
}

static void add_key(cJSON *keys, const char *k)
{
  const cJSON *e;
  cJSON_ArrayForEach(e, keys) if (!strcmp(e->valuestring, k)) return;
  cJSON_AddItemToArray(keys, cJSON_CreateString(k));
}

static int csv_reply(struct destek_req *r, struct jbuf *b, const char *name)
{
  char disp[160];
  snprintf(disp, sizeof disp, "attachment; filename=\"%s.csv\"", name);
  H->add_header(r, "Content-Disposition", disp);
  size_t len;
  char *body = jbuf_take(b, &len);
  return H->reply_take(r, 200, "text/csv; charset=utf-8", body, len);
}

/* GET /api/v1/reports/export.csv?kind&from&to[&dim&value&measure&bucket&open] -> one row per fact (a ticket, a
 * return, an order): id, ref, created (UTC), open, then its dimensions and measures. */
static int export_csv(struct destek_req *r)
{
  struct rep_source src;
  struct drill d;
  int rc = may_see(r);
  if (rc || (rc = kind_read(r, &src)) || (rc = drill_read(r, &src, &d))) return rc;
  struct destek_db *db = H->db_read(r);
  cJSON *dkeys = cJSON_CreateArray(), *vkeys = cJSON_CreateArray(), *rows = cJSON_CreateArray();
  int64_t after = 0;
  for (int more = 1; more;) {
    sqlite3_stmt *st = db ? drill_stmt(db, src.store, &d, after, 5000) : NULL;
    if (!st) {
      cJSON_Delete(dkeys);
      cJSON_Delete(vkeys);
      cJSON_Delete(rows);
      return H->error(r, 503, "db_busy", "the database is busy");
    }
    int n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
      cJSON *row = cJSON_CreateArray();
      after = sqlite3_column_int64(st, 0);
      cJSON_AddItemToArray(row, cJSON_CreateNumber((double)after));
      cJSON_AddItemToArray(row, cJSON_CreateString(sqlite3_column_type(st, 1) == SQLITE_NULL ? "" : (const char *)sqlite3_column_text(st, 1)));
      cJSON_AddItemToArray(row, cJSON_CreateNumber((double)sqlite3_column_int64(st, 2)));
      cJSON_AddItemToArray(row, cJSON_CreateNumber(sqlite3_column_int(st, 3)));
      cJSON *dims = cJSON_Parse((const char *)sqlite3_column_text(st, 4)), *vals = cJSON_Parse((const char *)sqlite3_column_text(st, 5));
      const cJSON *e;
      cJSON_ArrayForEach(e, dims) add_key(dkeys, e->string);
      cJSON_ArrayForEach(e, vals) add_key(vkeys, e->string);
      cJSON_AddItemToArray(row, dims);
      cJSON_AddItemToArray(row, vals);
      cJSON_AddItemToArray(rows, row);
      n++;
    }
    H->db_done(st);
    more = n == 5000;
  }
  struct jbuf b;
  jbuf_init(&b, 4096);
  JBUF_LIT(&b, "id,ref,created_at,open");
  const cJSON *k;
  cJSON_ArrayForEach(k, dkeys) { JBUF_LIT(&b, ","); csv_field(&b, k->valuestring); }
  cJSON_ArrayForEach(k, vkeys) { JBUF_LIT(&b, ","); csv_field(&b, k->valuestring); }
  JBUF_LIT(&b, "\r\n");
  const cJSON *row;
  cJSON_ArrayForEach(row, rows) {
    char t[32];
    csv_value(&b, cJSON_GetArrayItem(row, 0));
    JBUF_LIT(&b, ",");
    csv_value(&b, cJSON_GetArrayItem(row, 1));
    time_t at = (time_t)cJSON_GetArrayItem(row, 2)->valuedouble;
    struct tm tm;
    gmtime_r(&at, &tm);
    strftime(t, sizeof t, ",%Y-%m-%dT%H:%M:%SZ,", &tm);
    jbuf_raw(&b, t, strlen(t));
    csv_value(&b, cJSON_GetArrayItem(row, 3));
    cJSON_ArrayForEach(k, dkeys) { JBUF_LIT(&b, ","); csv_value(&b, cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(row, 4), k->valuestring)); }
    cJSON_ArrayForEach(k, vkeys) { JBUF_LIT(&b, ","); csv_value(&b, cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(row, 5), k->valuestring)); }
    JBUF_LIT(&b, "\r\n");
  }
  cJSON_Delete(dkeys);
  cJSON_Delete(vkeys);
  cJSON_Delete(rows);
  char name[64];
  snprintf(name, sizeof name, "%s-facts", src.kind);
  return csv_reply(r, &b, name);
}

/* GET /api/v1/reports/table.csv?kind&dim&from&to&hours -> the dashboard's table of one dimension: value, label,
 * count, the previous period's count, then each measure's count and average. */
static int table_csv(struct destek_req *r)
{
  struct rep_source src;
  int64_t from, to;
  int business, rc = may_see(r);
  char dim[64];
  if (rc || (rc = kind_read(r, &src)) || (rc = range_read(r, &from, &to, &business))) return rc;
  if (!H->query_get(r, "dim", dim, sizeof dim) || !dim[0] || !is_name(dim))
    return H->field_error(r, "invalid_field", "dim", "dim must be a dimension's name");
  cJSON *cur = rep_kind_figures_new(r, &src, from, to, business, 1),
        *pv = rep_kind_figures_new(r, &src, from - (to - from + 1), from - 1, business, 0);
  if (!cur || !pv) {
    cJSON_Delete(cur);
    cJSON_Delete(pv);
    return H->error(r, 503, "db_busy", "the database is busy");
  }
  const cJSON *rows = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(cur, "by"), dim),
              *prows = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(pv, "by"), dim), *row, *m;
  cJSON *mkeys = cJSON_CreateArray();
  cJSON_ArrayForEach(row, rows) cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(row, "measures"))
    if (strcmp(m->string, "count") && (!business || !ends_bh(m->string) || 1)) add_key(mkeys, m->string);
  struct jbuf b;
  jbuf_init(&b, 4096);
  JBUF_LIT(&b, "value,label,count,previous_count");
  const cJSON *k;
  cJSON_ArrayForEach(k, mkeys) {
    char h[80];
    snprintf(h, sizeof h, ",%s_n,%s_avg", k->valuestring, k->valuestring);
    jbuf_raw(&b, h, strlen(h));
  }
  JBUF_LIT(&b, "\r\n");
  cJSON_ArrayForEach(row, rows) {
    const char *value = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(row, "value"));
    csv_field(&b, value);
    JBUF_LIT(&b, ",");
    csv_value(&b, cJSON_GetObjectItemCaseSensitive(row, "label"));
    JBUF_LIT(&b, ",");
    csv_value(&b, cJSON_GetObjectItemCaseSensitive(row, "count"));
    JBUF_LIT(&b, ",");
    double pc = 0;
    const cJSON *p;
    cJSON_ArrayForEach(p, prows)
      if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "value")), value))
        pc = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(p, "count"));
    cJSON *pcj = cJSON_CreateNumber(pc);
    csv_value(&b, pcj);
    cJSON_Delete(pcj);
    cJSON_ArrayForEach(k, mkeys) {
      const cJSON *mo = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(row, "measures"), k->valuestring);
      JBUF_LIT(&b, ",");
      csv_value(&b, cJSON_GetObjectItemCaseSensitive(mo, "n"));
      JBUF_LIT(&b, ",");
      csv_value(&b, cJSON_GetObjectItemCaseSensitive(mo, "avg"));
    }
    JBUF_LIT(&b, "\r\n");
  }
  cJSON_Delete(mkeys);
  cJSON_Delete(cur);
  cJSON_Delete(pv);
  char name[128];
  snprintf(name, sizeof name, "%s-by-%s", src.kind, dim);
  return csv_reply(r, &b, name);
}

/* GET /api/v1/reports/status -> {items: [{kind, service, facts, rebuilt_at, rebuild_ms, rebuilding: {built, started_at}
 * or null, pending (entities noted, not refreshed yet)}]} */
static int status(struct destek_req *r)
{
  int rc = may_see(r);
  if (rc) return rc;
  struct rep_source src[REP_MAX_SOURCES];
  int n = rep_sources(r, src, REP_MAX_SOURCES);
  struct destek_db *db = H->db_read(r);
  cJSON *items = cJSON_CreateArray();
  for (int i = 0; i < n; i++) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", src[i].kind);
    cJSON_AddStringToObject(o, "service", src[i].service);
    cJSON_AddNumberToObject(o, "facts", (double)H->db_int(db, 0, "SELECT count(*) FROM reports_facts WHERE kind = ?1", "t", src[i].store));
    /* Medians read the histograms (hist.c) once they are built for the live figures; before, they walk the values. */
    cJSON_AddBoolToObject(o, "histograms", src[i].hist);
    int64_t at = H->db_int(db, 0, "SELECT rebuilt_at FROM reports_sources WHERE kind = ?1", "t", src[i].kind);
    if (at) cJSON_AddNumberToObject(o, "rebuilt_at", (double)at);
    else cJSON_AddNullToObject(o, "rebuilt_at");
    int64_t ms = H->db_int(db, -1, "SELECT rebuild_ms FROM reports_sources WHERE kind = ?1", "t", src[i].kind);
    if (ms >= 0) cJSON_AddNumberToObject(o, "rebuild_ms", (double)ms);
    else cJSON_AddNullToObject(o, "rebuild_ms");
    /* A rebuild under way: how many facts it has built so far and since when (the figures shown are the old ones
     * until it ends). */
    int64_t built = H->db_int(db, -1, "SELECT built FROM reports_sources WHERE kind = ?1 AND building IS NOT NULL", "t", src[i].kind);
    if (built >= 0) {
      cJSON *b = cJSON_AddObjectToObject(o, "rebuilding");
      cJSON_AddNumberToObject(b, "built", (double)built);
      cJSON_AddNumberToObject(b, "started_at", (double)H->db_int(db, 0, "SELECT build_started FROM reports_sources WHERE kind = ?1", "t", src[i].kind));
    } else {
      cJSON_AddNullToObject(o, "rebuilding");
    }
    cJSON_AddNumberToObject(o, "pending", (double)H->db_int(db, 0, "SELECT count(*) FROM reports_pending WHERE kind = ?1", "t", src[i].kind));
    cJSON_AddItemToArray(items, o);
  }
  cJSON *o = cJSON_CreateObject();
  cJSON_AddItemToObject(o, "items", items);
  return H->reply_json(r, 200, o);
}

/* POST /api/v1/reports/rebuild (admins) -> {items: [{kind, service, facts, ms}]}: every roll-up again. */
static int rebuild(struct destek_req *r)
{
  cJSON *done = rep_rebuild_all_new(r);
  if (!done) return H->status(r) >= 400 ? H->status(r) : H->error(r, 500, "internal", "the reports could not be rebuilt");
  H->audit(r, "reports.rebuilt", "reports", NULL);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddItemToObject(o, "items", done);
  return H->reply_json(r, 200, o);
}

/* POST /api/v1/reports/digest[?to=YYYY-MM-DD] (admins) -> {sent}: the weekly digest of the 7 days up to `to` (default:
 * yesterday), now. */
static int digest_now(struct destek_req *r)
{
  char buf[32], suffix[48];
  int64_t today = rep_day((int64_t)time(NULL)), to;
  if (H->query_get(r, "to", buf, sizeof buf) && buf[0]) {
    if (rep_parse_day(buf, &to) != 0) return H->field_error(r, "invalid_field", "to", "to must be a date (YYYY-MM-DD)");
    today = to + 1;
  }
  static _Atomic long asked;
  snprintf(suffix, sizeof suffix, ":now:%lld:%ld", (long long)time(NULL), ++asked);
  int n = rep_digest_send(r, today, suffix);
  if (n < 0) return H->status(r) >= 400 ? H->status(r) : H->error(r, 500, "internal", "the digest could not be sent");
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "sent", n);
  return H->reply_json(r, 200, o);
}

const struct destek_route rep_api_routes[] = {
  { "GET",  "/api/v1/reports/dashboard",  dashboard,  DESTEK_AGENT, NULL, 0 },
  { "GET",  "/api/v1/reports/drill",      drill,      DESTEK_AGENT, NULL, 0 },
  { "GET",  "/api/v1/reports/export.csv", export_csv, DESTEK_AGENT, NULL, 0 },
  { "GET",  "/api/v1/reports/table.csv",  table_csv,  DESTEK_AGENT, NULL, 0 },
  { "GET",  "/api/v1/reports/status",     status,     DESTEK_AGENT, NULL, 0 },
  { "POST", "/api/v1/reports/rebuild",    rebuild,    DESTEK_ADMIN, NULL, 0 },
  { "POST", "/api/v1/reports/digest",     digest_now, DESTEK_ADMIN, NULL, 0 },
  { 0 }
};
