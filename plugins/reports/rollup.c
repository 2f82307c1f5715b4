/* The roll-ups: facts from the modules' <module>.report_facts services, kept in reports_facts and summed per day in
 * reports_daily, refreshed from the modules' events (async, at least once: a refresh asks the source again, so a
 * repeated or late event changes nothing) and rebuilt on demand (CLI, admin button). */
#include "rep.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------------------------------------------ sources */

static void describe(struct destek_req *call, const char *service, struct rep_source *s)
{
  memset(s, 0, sizeof *s);
  cJSON *args = cJSON_CreateObject(), *res = NULL;
  cJSON_AddBoolToObject(args, "describe", 1);
  int rc = H->call_service(call, service, args, &res);
  cJSON_Delete(args);
  const char *kind = rc ? NULL : cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(res, "kind"));
  if (kind && strlen(kind) < 32) {
    snprintf(s->kind, sizeof s->kind, "%s", kind);
    snprintf(s->service, sizeof s->service, "%s", service);
    const cJSON *v;
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(res, "subjects"))
      if (cJSON_IsString(v) && s->nsubjects < 4 && strlen(v->valuestring) < 32)
        snprintf(s->subjects[s->nsubjects++], 32, "%s", v->valuestring);
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(res, "events"))
      if (cJSON_IsString(v) && s->nevents < 8 && strlen(v->string) < 48 && strlen(v->valuestring) < 48) {
        snprintf(s->events[s->nevents][0], 48, "%s", v->string);
        snprintf(s->events[s->nevents++][1], 48, "%s", v->valuestring);
      }
    /* {"only": {"channel": ["chat", "whatsapp"]}}: the events of other entities are not noted at all. */
    const cJSON *only = cJSON_GetObjectItemCaseSensitive(res, "only");
    if (cJSON_IsObject(only) && only->child && only->child->string && strlen(only->child->string) < 24) {
      snprintf(s->only_member, sizeof s->only_member, "%s", only->child->string);
      cJSON_ArrayForEach(v, only->child)
        if (cJSON_IsString(v) && s->nonly < 4 && strlen(v->valuestring) < 24)
          snprintf(s->only_values[s->nonly++], 24, "%s", v->valuestring);
    }
    double ro = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(res, "refresh_open"));
    if (ro >= 60 && ro <= 86400) s->refresh_open = (int)ro;
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(res, "median_by"))
      if (cJSON_IsString(v) && s->nmedian_by < 4 && strlen(v->valuestring) < 24)
        snprintf(s->median_by[s->nmedian_by++], 24, "%s", v->valuestring);
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(res, "watch"))
      if (cJSON_IsString(v) && s->nwatch < REP_MAX_WATCH && strlen(v->valuestring) < 48)
        snprintf(s->watch[s->nwatch++], 48, "%s", v->valuestring);
    /* Without a watch list, the events of each subject's noun ("ticket" -> "ticket.*"). */
    for (int i = 0; !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(res, "watch")) && i < s->nsubjects && s->nwatch < REP_MAX_WATCH; i++)
      snprintf(s->watch[s->nwatch++], 48, "%s.*", s->subjects[i]);
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(res, "durations"))
      if (cJSON_IsString(v) && s->ndurations < 8 && strlen(v->valuestring) < 24)
        snprintf(s->durations[s->ndurations++], 24, "%s", v->valuestring);
  }
  cJSON_Delete(res);
}

/* The sources as last described, kept for every thread while the published services stay the same: describing a
 * Lua module's source would otherwise load that module's state on every worker thread the dashboard meets. */
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rep_source cache[REP_MAX_SOURCES];
static int cache_n = -1;
static char cache_key[2048];

static void services_key(char *key, size_t keylen);

int rep_sources(struct destek_req *call, struct rep_source *out, int max)
{
  char key[2048];
  services_key(key, sizeof key);
  int n = -1;
  pthread_mutex_lock(&cache_lock);
  if (cache_n >= 0 && !strcmp(key, cache_key)) {
    n = cache_n < max ? cache_n : max;
    memcpy(out, cache, (size_t)n * sizeof *out);
  }
  pthread_mutex_unlock(&cache_lock);
  if (n < 0) {
    n = 0;
    cJSON *list = H->services_new("report_facts");
    const cJSON *e;
    cJSON_ArrayForEach(e, list) {
      const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "name"));
      if (!name || n >= max) continue;
      describe(call, name, &out[n]);
      if (out[n].kind[0]) n++;
    }
    cJSON_Delete(list);
    if (max >= REP_MAX_SOURCES) {
      pthread_mutex_lock(&cache_lock);
      memcpy(cache, out, (size_t)n * sizeof *out);
      cache_n = n;
      snprintf(cache_key, sizeof cache_key, "%s", key);
      pthread_mutex_unlock(&cache_lock);
    }
  }
  struct destek_db *db = H->db_read(call);
  for (int i = 0; i < n; i++) {
    snprintf(out[i].store, sizeof out[i].store, "%s", out[i].kind);
    if (db) rep_source_store(db, &out[i]);
  }
  return n;
}

int rep_source_find(struct destek_req *call, const char *kind, struct rep_source *out)
{
  struct rep_source all[REP_MAX_SOURCES];
  int n = rep_sources(call, all, REP_MAX_SOURCES);
  for (int i = 0; i < n; i++)
    if (!strcmp(all[i].kind, kind)) {
      *out = all[i];
      return 0;
    }
  return -1;
}

/* ------------------------------------------------------------------------------------------------ the accumulator */

/* Sums of (day, measure, dim, value) before they are written: one fact's share, or a whole rebuild's. */
#define acc rep_acc
#define acc_entry rep_acc_entry
#define acc_add rep_acc_add
#define acc_free rep_acc_free

static uint64_t hash(int64_t day, const char *k)
{
  uint64_t h = 1469598103934665603ull ^ (uint64_t)day;
  for (; *k; k++) h = (h ^ (unsigned char)*k) * 1099511628211ull;
  return h;
}

void acc_add(struct acc *a, int64_t day, const char *measure, const char *dim, const char *value, int64_t n,
                    double sum)
{
  char key[256];
  snprintf(key, sizeof key, "%s\x1f%s\x1f%s", measure, dim, value);
  if ((a->len + 1) * 2 > a->cap) {
    size_t nc = a->cap ? a->cap * 2 : 256;
    struct acc_entry *ne = calloc(nc, sizeof *ne);
    if (!ne) abort();
    for (size_t i = 0; i < a->cap; i++)
      if (a->e[i].key) {
        size_t j = hash(a->e[i].day, a->e[i].key) & (nc - 1);
        while (ne[j].key) j = (j + 1) & (nc - 1);
        ne[j] = a->e[i];
      }
    free(a->e);
    a->e = ne;
    a->cap = nc;
  }
  size_t j = hash(day, key) & (a->cap - 1);
  while (a->e[j].key && (a->e[j].day != day || strcmp(a->e[j].key, key))) j = (j + 1) & (a->cap - 1);
  if (!a->e[j].key) {
    a->e[j].key = strdup(key);
    a->e[j].day = day;
    a->len++;
  }
  a->e[j].n += n;
  a->e[j].sum += sum;
}

void acc_free(struct acc *a)
{
  for (size_t i = 0; i < a->cap; i++) free(a->e[i].key);
  free(a->e);
  memset(a, 0, sizeof *a);
}

static int is_duration(const struct rep_source *src, const char *m)
{
  for (int i = 0; i < src->ndurations; i++)
    if (!strcmp(src->durations[i], m)) return 1;
  return 0;
}

/* The bucket of a duration in seconds: 0-1 h, 1-4 h, 4-24 h, 24 h+. */
static int bucket_of(double s)
{
  return s < 3600 ? 0 : s < 4 * 3600 ? 1 : s < 24 * 3600 ? 2 : 3;
}

/* A dimension value as text ("email", "3"), or 0 when it is not a string or a number. */
static int dim_text(const cJSON *v, char out[96])
{
  if (cJSON_IsString(v) && strlen(v->valuestring) < 96) snprintf(out, 96, "%s", v->valuestring);
  else if (cJSON_IsNumber(v)) snprintf(out, 96, "%lld", (long long)v->valuedouble);
  else if (cJSON_IsBool(v)) snprintf(out, 96, "%s", cJSON_IsTrue(v) ? "true" : "false");
  else return 0;
  return 1;
}

/* Adds (sign 1) or takes out (sign -1) one fact's share of the daily roll-up. */
static void acc_fact(struct acc *a, const struct rep_source *src, int64_t day, const cJSON *dims, const cJSON *vals,
                     int sign)
{
  /* The total, with the duration buckets. */
  acc_add(a, day, "count", "", "", sign, sign);
  const cJSON *m;
  cJSON_ArrayForEach(m, vals) {
    if (!cJSON_IsNumber(m) || !m->string) continue;
    acc_add(a, day, m->string, "", "", sign, sign * m->valuedouble);
    if (is_duration(src, m->string)) {
      char b[40];
      snprintf(b, sizeof b, "%s:b%d", m->string, bucket_of(m->valuedouble));
      acc_add(a, day, b, "", "", sign, sign);
    }
  }
  /* Each dimension value (every element of a list: a ticket's tags, a return's products). */
  const cJSON *d;
  cJSON_ArrayForEach(d, dims) {
    if (!d->string || !d->string[0]) continue;
    const cJSON *one = cJSON_IsArray(d) ? d->child : d;
    for (; one; one = cJSON_IsArray(d) ? one->next : NULL) {
      char v[96];
      if (!dim_text(one, v)) continue;
      acc_add(a, day, "count", d->string, v, sign, sign);
      cJSON_ArrayForEach(m, vals)
        if (cJSON_IsNumber(m) && m->string) acc_add(a, day, m->string, d->string, v, sign, sign * m->valuedouble);
    }
  }
}

static int upsert(struct destek_db *w, const char *kind, int64_t day, const char *measure, const char *dim,
                  const char *value, int64_t n, double sum)
{
  sqlite3_stmt *st;
  if (!dim[0]) {
    st = H->db_prepare(w, "INSERT INTO reports_totals(kind, day, measure, n, sum) VALUES (?1, ?2, ?3, ?4, ?5)"
                          " ON CONFLICT DO UPDATE SET n = n + excluded.n, sum = sum + excluded.sum");
    if (!st) return -1;
    H->db_bind(st, "titid", kind, day, measure, n, sum);
  } else {
    st = H->db_prepare(w, "INSERT INTO reports_daily(kind, day, dim, value, measure, n, sum) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
                          " ON CONFLICT DO UPDATE SET n = n + excluded.n, sum = sum + excluded.sum");
    if (!st) return -1;
    H->db_bind(st, "titttid", kind, day, dim, value, measure, n, sum);
  }
  int rc = sqlite3_step(st);
  H->db_done(st);
  if (rc != SQLITE_DONE) return -1;
  if (dim[0]) {
    st = H->db_prepare(w, "INSERT INTO reports_monthly(kind, month, dim, value, measure, n, sum) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
                          " ON CONFLICT DO UPDATE SET n = n + excluded.n, sum = sum + excluded.sum");
    if (!st) return -1;
    H->db_bind(st, "titttid", kind, rep_month(day), dim, value, measure, n, sum);
    rc = sqlite3_step(st);
    H->db_done(st);
    if (rc != SQLITE_DONE) return -1;
  }
  if (n >= 0) return 0;
  /* A share taken out may leave an empty row. */
  if (!dim[0])
    return H->db_exec(w, "DELETE FROM reports_totals WHERE kind = ?1 AND day = ?2 AND measure = ?3 AND n = 0", "tit",
                      kind, day, measure) == SQLITE_OK ? 0 : -1;
  if (H->db_exec(w, "DELETE FROM reports_daily WHERE kind = ?1 AND day = ?2 AND dim = ?3 AND value = ?4 AND measure = ?5"
                    " AND n = 0", "titt" "t", kind, day, dim, value, measure) != SQLITE_OK ||
      H->db_exec(w, "DELETE FROM reports_monthly WHERE kind = ?1 AND month = ?2 AND dim = ?3 AND value = ?4"
                    " AND measure = ?5 AND n = 0", "titt" "t", kind, rep_month(day), dim, value, measure) != SQLITE_OK)
    return -1;
  return 0;
}

static int acc_flush(struct destek_db *w, const char *kind, struct acc *a)
{
  for (size_t i = 0; i < a->cap; i++) {
    struct acc_entry *e = &a->e[i];
    if (!e->key || (e->n == 0 && e->sum == 0)) continue;
    char *measure = e->key, *dim = strchr(measure, '\x1f');
    *dim++ = 0;
    char *value = strchr(dim, '\x1f');
    *value++ = 0;
    if (upsert(w, kind, e->day, measure, dim, value, e->n, e->sum) != 0) return -1;
  }
  return 0;
}

/* ------------------------------------------------------------------------------------------------ facts */

static int values_write(struct destek_db *w, const struct rep_source *src, int64_t id, int64_t day, const cJSON *dims,
                        const cJSON *vals, int insert, struct acc *h)
{
  const cJSON *m;
  cJSON_ArrayForEach(m, vals) {
    if (!cJSON_IsNumber(m) || !m->string || !is_duration(src, m->string)) continue;
    int rc = insert ? H->db_exec(w, "INSERT OR IGNORE INTO reports_values(kind, measure, value, day, entity_id)"
                                    " VALUES (?1, ?2, ?3, ?4, ?5)", "ttdii", src->kind, m->string, m->valuedouble, day, id)
                    : H->db_exec(w, "DELETE FROM reports_values WHERE kind = ?1 AND measure = ?2 AND value = ?3"
                                    " AND day = ?4 AND entity_id = ?5", "ttdii", src->kind, m->string, m->valuedouble, day, id);
    if (rc != SQLITE_OK) return -1;
    if (H->db_changes(w) > 0) rep_hist_note(h, day, m->string, "", "", m->valuedouble, insert ? 1 : -1);
    for (int i = 0; i < src->nmedian_by; i++) {
      char v[96];
      if (!dim_text(cJSON_GetObjectItemCaseSensitive(dims, src->median_by[i]), v)) continue;
      rc = insert ? H->db_exec(w, "INSERT OR IGNORE INTO reports_dim_values(kind, measure, dim, dvalue, value, day, entity_id)"
                                  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", "ttttdii", src->kind, m->string, src->median_by[i], v,
                               m->valuedouble, day, id)
                  : H->db_exec(w, "DELETE FROM reports_dim_values WHERE kind = ?1 AND measure = ?2 AND dim = ?3 AND dvalue = ?4"
                                  " AND value = ?5 AND day = ?6 AND entity_id = ?7", "ttttdii", src->kind, m->string,
                               src->median_by[i], v, m->valuedouble, day, id);
      if (rc != SQLITE_OK) return -1;
      if (H->db_changes(w) > 0) rep_hist_note(h, day, m->string, src->median_by[i], v, m->valuedouble, insert ? 1 : -1);
    }
  }
  return 0;
}

/* Takes an entity's stored fact out of the roll-ups (and the table). */
static int fact_remove(struct destek_db *w, const struct rep_source *src, int64_t id, struct acc *a, struct acc *h)
{
  sqlite3_stmt *st = H->db_prepare(w, "SELECT day, dims, vals FROM reports_facts WHERE kind = ?1 AND entity_id = ?2");
  if (!st) return -1;
  H->db_bind(st, "ti", src->kind, id);
  int found = 0, rc = 0;
  if (sqlite3_step(st) == SQLITE_ROW) {
    found = 1;
    int64_t day = sqlite3_column_int64(st, 0);
    cJSON *dims = cJSON_Parse((const char *)sqlite3_column_text(st, 1)), *vals = cJSON_Parse((const char *)sqlite3_column_text(st, 2));
    acc_fact(a, src, day, dims, vals, -1);
    rc = values_write(w, src, id, day, dims, vals, 0, h);
    cJSON_Delete(dims);
    cJSON_Delete(vals);
  }
  H->db_done(st);
  if (found && !rc)
    rc = H->db_exec(w, "DELETE FROM reports_facts WHERE kind = ?1 AND entity_id = ?2", "ti", src->kind, id) == SQLITE_OK ? 0 : -1;
  return rc;
}

/* Stores a fact from the source and adds its share. */
static int fact_put(struct destek_db *w, const struct rep_source *src, const cJSON *f, struct acc *a, struct acc *h)
{
  const cJSON *idv = cJSON_GetObjectItemCaseSensitive(f, "id"), *atv = cJSON_GetObjectItemCaseSensitive(f, "at");
  if (!cJSON_IsNumber(idv) || !cJSON_IsNumber(atv)) return 0;   /* malformed: skipped */
  int64_t id = (int64_t)idv->valuedouble, at = (int64_t)atv->valuedouble, day = rep_day(at);
  const cJSON *dims = cJSON_GetObjectItemCaseSensitive(f, "dims"), *vals = cJSON_GetObjectItemCaseSensitive(f, "values"),
              *labels = cJSON_GetObjectItemCaseSensitive(f, "labels");
  char *dj = cJSON_IsObject(dims) ? cJSON_PrintUnformatted(dims) : strdup("{}");
  char *vj = cJSON_IsObject(vals) ? cJSON_PrintUnformatted(vals) : strdup("{}");
  int rc = H->db_exec(w, "INSERT INTO reports_facts(kind, entity_id, ref, at, day, open, dims, vals)"
                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", "titiiitt", src->kind, id,
                      cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "ref")), at, day,
                      (int64_t)(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(f, "open")) > 0), dj, vj);
  free(dj);
  free(vj);
  if (rc != SQLITE_OK) return -1;
  acc_fact(a, src, day, cJSON_IsObject(dims) ? dims : NULL, cJSON_IsObject(vals) ? vals : NULL, 1);
  if (values_write(w, src, id, day, cJSON_IsObject(dims) ? dims : NULL, vals, 1, h) != 0) return -1;
  const cJSON *l;
  cJSON_ArrayForEach(l, labels) {
    char v[96];
    const cJSON *dv = cJSON_GetObjectItemCaseSensitive(dims, l->string);
    if (cJSON_IsString(l) && dim_text(dv, v) &&
        H->db_exec(w, "INSERT INTO reports_labels(kind, dim, value, label) VALUES (?1, ?2, ?3, ?4)"
                      " ON CONFLICT DO UPDATE SET label = excluded.label WHERE label <> excluded.label",
                   "tttt", src->kind, l->string, v, l->valuestring) != SQLITE_OK)
      return -1;
  }
  return 0;
}

/* Where src's figures are kept now (see rep.h, store), and the rebuild under way: its shadow key and how far it got. */
struct rep_state {
  char store[40], building[40];
  int64_t cursor;
  int hist;   /* hist_store = store */
};

static void state_read(struct destek_db *db, const struct rep_source *src, struct rep_state *st)
{
  memset(st, 0, sizeof *st);
  snprintf(st->store, sizeof st->store, "%s", src->kind);
  sqlite3_stmt *q = H->db_prepare(db, "SELECT coalesce(store, kind), building, coalesce(cursor, 0),"
                                      " hist_store IS coalesce(store, kind) FROM reports_sources WHERE kind = ?1");
  if (!q) return;
  H->db_bind(q, "t", src->kind);
  if (sqlite3_step(q) == SQLITE_ROW) {
    snprintf(st->store, sizeof st->store, "%s", (const char *)sqlite3_column_text(q, 0));
    if (sqlite3_column_type(q, 1) == SQLITE_TEXT) snprintf(st->building, sizeof st->building, "%s", (const char *)sqlite3_column_text(q, 1));
    st->cursor = sqlite3_column_int64(q, 2);
    st->hist = sqlite3_column_int(q, 3);
  }
  H->db_done(q);
}

void rep_source_store(struct destek_db *db, struct rep_source *src)
{
  struct rep_state st;
  state_read(db, src, &st);
  snprintf(src->store, sizeof src->store, "%s", st.store);
  src->hist = st.hist;
}

/* src's facts and roll-ups kept under key (the live one, or a rebuild's shadow). */
static void keyed(struct rep_source *out, const struct rep_source *src, const char *key)
{
  *out = *src;
  snprintf(out->kind, sizeof out->kind, "%s", key);
}

/* Takes out the old facts of ids (at most `upto` when upto > 0) and puts in those of items, under one key. */
static int apply(struct destek_db *w, const struct rep_source *src, const int64_t *ids, int n, const cJSON *items,
                 int64_t upto)
{
  struct acc a = { 0 }, h = { 0 };
  int bad = 0;
  for (int i = 0; i < n && !bad; i++)
    if (!upto || ids[i] <= upto) bad = fact_remove(w, src, ids[i], &a, &h);
  const cJSON *f;
  cJSON_ArrayForEach(f, items) {
    if (bad) break;
    if (upto && cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(f, "id")) > (double)upto) continue;
    bad = fact_put(w, src, f, &a, &h);
  }
  if (!bad) bad = acc_flush(w, src->kind, &a);
  if (!bad) bad = rep_hist_apply(w, src->kind, &h);
  acc_free(&a);
  acc_free(&h);
  return bad;
}

static __thread int refresh_wrote;   /* rep_refresh failed after it began writing */

int rep_refresh(struct destek_req *call, const struct rep_source *src, const int64_t *ids, int n)
{
  cJSON *args = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(args, "ids"), *res = NULL;
  for (int i = 0; i < n; i++) cJSON_AddItemToArray(arr, cJSON_CreateNumber((double)ids[i]));
  int rc = H->call_service(call, src->service, args, &res);
  cJSON_Delete(args);
  if (rc) return rc;
  struct destek_db *w = H->db_write(call);
  if (!w) {
    cJSON_Delete(res);
    return H->status(call);
  }
  /* Read in the write transaction: a rebuild's swap is either all before or all after. */
  struct rep_state st;
  state_read(w, src, &st);
  struct rep_source k;
  const cJSON *items = cJSON_GetObjectItemCaseSensitive(res, "items");
  keyed(&k, src, st.store);
  int bad = apply(w, &k, ids, n, items, 0);
  /* A rebuild under way has built these already when they are at or below its cursor: its copy follows too. */
  if (!bad && st.building[0] && st.cursor > 0) {
    keyed(&k, src, st.building);
    bad = apply(w, &k, ids, n, items, st.cursor);
  }
  cJSON_Delete(res);
  if (bad) refresh_wrote = 1;
  return bad ? H->error(call, 500, "internal", "the reports could not be updated") : 0;
}

static int64_t now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Deletes every row kept under key, a few thousand per short transaction. */
static int clear_key(struct destek_req *call, const char *key)
{
  static const char *const sql[] = {
    "DELETE FROM reports_facts WHERE (kind, entity_id) IN (SELECT kind, entity_id FROM reports_facts WHERE kind = ?1 LIMIT 4000)",
    "DELETE FROM reports_values WHERE (kind, measure, value, day, entity_id) IN"
    " (SELECT kind, measure, value, day, entity_id FROM reports_values WHERE kind = ?1 LIMIT 4000)",
    "DELETE FROM reports_dim_values WHERE (kind, measure, dim, dvalue, value, day, entity_id) IN"
    " (SELECT kind, measure, dim, dvalue, value, day, entity_id FROM reports_dim_values WHERE kind = ?1 LIMIT 4000)",
    "DELETE FROM reports_daily WHERE (kind, day, dim, value, measure) IN"
    " (SELECT kind, day, dim, value, measure FROM reports_daily WHERE kind = ?1 LIMIT 4000)",
    "DELETE FROM reports_monthly WHERE (kind, month, dim, value, measure) IN"
    " (SELECT kind, month, dim, value, measure FROM reports_monthly WHERE kind = ?1 LIMIT 4000)",
    "DELETE FROM reports_totals WHERE (kind, day, measure) IN (SELECT kind, day, measure FROM reports_totals WHERE kind = ?1 LIMIT 4000)",
    "DELETE FROM reports_labels WHERE (kind, dim, value) IN (SELECT kind, dim, value FROM reports_labels WHERE kind = ?1 LIMIT 4000)",
    "DELETE FROM reports_hist WHERE (kind, measure, dim, dvalue, grain, period) IN"
    " (SELECT kind, measure, dim, dvalue, grain, period FROM reports_hist WHERE kind = ?1 LIMIT 4000)",
  };
  for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++)
    for (;;) {
      struct destek_db *w = H->db_write(call);
      if (!w) return H->status(call);
      if (H->db_exec(w, sql[i], "t", key) != SQLITE_OK) return H->error(call, 500, "internal", "the reports could not be cleared");
      int changed = H->db_changes(w);
      if (H->db_commit(call) != 0) return H->status(call);
      if (!changed) break;
    }
  return 0;
}

/* Rebuilds src page by page, each page one short write transaction, into the key the dashboard does not read (a
 * shadow: "<kind>~" or "<kind>"), then swaps the live key in one small transaction and clears the old rows page by
 * page: readers see the old figures whole until the swap, then the new ones whole. Meanwhile the flush refreshes the
 * live copy and the shadow's pages already built (up to the cursor); entities past the cursor wait in
 * reports_pending until the rebuild reaches them. The caller must hold no transaction. */
static pthread_mutex_t rebuild_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int rebuilding;   /* a rebuild runs in this process: the flush leaves what is past its cursor */

int rep_rebuild(struct destek_req *call, const struct rep_source *src, int64_t *facts, int64_t *max_page_ms)
{
  *max_page_ms = 0;
  int64_t t0 = now_ms();
  struct destek_db *db = H->db_read(call);
  if (!db) return H->status(call);
  struct rep_state st;
  state_read(db, src, &st);
  char shadow[40];
  if (!strcmp(st.store, src->kind)) snprintf(shadow, sizeof shadow, "%.32s~", src->kind);
  else snprintf(shadow, sizeof shadow, "%s", src->kind);
  int rc = clear_key(call, shadow);
  if (rc) return rc;
  cJSON *durs = cJSON_CreateArray();
  for (int i = 0; i < src->ndurations; i++) cJSON_AddItemToArray(durs, cJSON_CreateString(src->durations[i]));
  char *dj = cJSON_PrintUnformatted(durs);
  cJSON_Delete(durs);
  struct destek_db *w = H->db_write(call);
  rc = !w ? H->status(call)
          : H->db_exec(w, "INSERT INTO reports_sources(kind, service, durations, store, building, cursor, built, build_started)"
                          " VALUES (?1, ?2, ?3, ?1, ?4, 0, 0, ?5) ON CONFLICT DO UPDATE SET service = excluded.service,"
                          " durations = excluded.durations, building = excluded.building, cursor = 0, built = 0,"
                          " build_started = excluded.build_started", "tttti", src->kind, src->service, dj, shadow,
                    (int64_t)time(NULL)) != SQLITE_OK ? H->error(call, 500, "internal", "the reports could not be rebuilt")
          : H->db_commit(call);
  free(dj);
  if (rc) return rc;
  struct rep_source k;
  keyed(&k, src, shadow);
  int64_t after = 0, count = 0;
  for (;;) {
    cJSON *args = cJSON_CreateObject(), *res = NULL;
    cJSON_AddNumberToObject(args, "after", (double)after);
    cJSON_AddNumberToObject(args, "limit", 250);   /* a page's write transaction stays short */
    rc = H->call_service(call, src->service, args, &res);   /* read before the writer is taken */
    cJSON_Delete(args);
    if (rc) break;
    const cJSON *next = cJSON_GetObjectItemCaseSensitive(res, "next"), *items = cJSON_GetObjectItemCaseSensitive(res, "items");
    int more = cJSON_IsNumber(next) && next->valuedouble > (double)after;
    int64_t upto = more ? (int64_t)next->valuedouble : INT64_MAX;
    /* The page's own ids: the source's, in order; the last one is where the next page starts. */
    struct acc a = { 0 };
    int64_t tp = now_ms();
    w = H->db_write(call);
    if (!w) {
      cJSON_Delete(res);
      rc = H->status(call);
      break;
    }
    int bad = 0, n = 0;
    const cJSON *f;
    cJSON_ArrayForEach(f, items)
      if (!bad) bad = fact_put(w, &k, f, &a, NULL), n++;
    if (!bad) bad = acc_flush(w, shadow, &a);
    acc_free(&a);
    count += n;
    if (!bad)
      bad = H->db_exec(w, "UPDATE reports_sources SET cursor = ?2, built = ?3 WHERE kind = ?1", "tii", src->kind,
                       upto, count) != SQLITE_OK;
    cJSON_Delete(res);
    if (bad) {
      rc = H->error(call, 500, "internal", "the reports could not be rebuilt");
      break;
    }
    if ((rc = H->db_commit(call)) != 0) break;
    if (now_ms() - tp > *max_page_ms) *max_page_ms = now_ms() - tp;   /* the writer's longest hold */
    if (!more) break;
    after = upto;
  }
  if (rc) {
    /* The live figures stay; the shadow is cleared by the next rebuild (and the mark at the next start). */
    struct destek_db *w2 = H->db_write(call);
    if (w2 && H->db_exec(w2, "UPDATE reports_sources SET building = NULL, cursor = NULL WHERE kind = ?1", "t", src->kind) == SQLITE_OK)
      H->db_commit(call);
    return rc;
  }
  /* The shadow's histograms from its values, in one transaction (the flush keeps them from then on), then the swap. */
  if (rep_hist_build(call, &k, shadow, max_page_ms) != 0)
    return H->status(call) >= 400 ? H->status(call) : H->error(call, 500, "internal", "the reports could not be rebuilt");
  int64_t ms = now_ms() - t0;
  w = H->db_write(call);
  if (!w || H->db_exec(w, "UPDATE reports_sources SET store = ?2, hist_store = ?2, building = NULL, cursor = NULL,"
                          " rebuilt_at = ?3, rebuild_ms = ?4, facts = ?5 WHERE kind = ?1", "ttiii", src->kind, shadow,
                       (int64_t)time(NULL), ms, count) != SQLITE_OK)
    return w ? H->error(call, 500, "internal", "the reports could not be rebuilt") : H->status(call);
  if ((rc = H->db_commit(call)) != 0) return rc;
  /* The old figures, no longer read. */
  if ((rc = clear_key(call, st.store)) != 0) return rc;
  *facts = count;
  return 0;
}

cJSON *rep_rebuild_all_new(struct destek_req *call)
{
  if (pthread_mutex_trylock(&rebuild_lock) != 0) {
    H->error(call, 409, "rebuild_running", "a rebuild of the reports is already under way");
    return NULL;
  }
  atomic_store(&rebuilding, 1);
  struct rep_source src[REP_MAX_SOURCES];
  int n = rep_sources(call, src, REP_MAX_SOURCES);
  cJSON *out = cJSON_CreateArray();
  for (int i = 0; i < n; i++) {
    int64_t t0 = now_ms(), facts = 0, page_ms = 0;
    if (rep_rebuild(call, &src[i], &facts, &page_ms) != 0) {
      cJSON_Delete(out);
      atomic_store(&rebuilding, 0);
      pthread_mutex_unlock(&rebuild_lock);
      return NULL;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", src[i].kind);
    cJSON_AddStringToObject(o, "service", src[i].service);
    cJSON_AddNumberToObject(o, "facts", (double)facts);
    cJSON_AddNumberToObject(o, "ms", (double)(now_ms() - t0));
    cJSON_AddNumberToObject(o, "max_page_ms", (double)page_ms);
    cJSON_AddItemToArray(out, o);
  }
  atomic_store(&rebuilding, 0);
  pthread_mutex_unlock(&rebuild_lock);
  return out;
}

/* ------------------------------------------------------------------------------------------------ events */

/* What reports follows: for each source, the events its description names — `watch` (event names or "noun.*"
 * patterns whose subject "<subject>:<id>" names the entity; "<subject>.*" for each subject when it gives none) and
 * `events` (an event name with the payload member holding the id). Subscribed in the start phase (host->started),
 * once every module has initialised, as sync subscribers that only note (kind, id) in reports_pending inside the
 * event's own transaction: one small row per entity, however many events touch it, no delivery row and no work on
 * the writer after the commit. The flush job (every second) refreshes what is noted, a batch per short transaction. */

static pthread_rwlock_t follow_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct rep_source follow[REP_MAX_SOURCES];
static int n_follow;
static char follow_key[2048];
static char followed[64][48];   /* the patterns subscribed (only the start phase and the flush job's thread add) */
static int n_followed;
static atomic_int pending_hint = 1;   /* something may be in reports_pending */

static int pattern_matches(const char *pattern, const char *event)
{
  if (!strcmp(pattern, "*") || !strcmp(pattern, event)) return 1;
  size_t n = strlen(pattern);
  return n >= 2 && pattern[n - 1] == '*' && pattern[n - 2] == '.' && !strncmp(pattern, event, n - 1);
}

/* The ids of src's entities ev names (at most 4), deduplicated. */
static int event_ids(const struct rep_source *src, const struct destek_event *ev, int64_t ids[4])
{
  int nids = 0;
  if (!ev->name) return 0;
  if (src->nonly) {
    const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev->payload, src->only_member));
    int ok = 0;
    for (int j = 0; j < src->nonly && v && !ok; j++) ok = !strcmp(v, src->only_values[j]);
    if (!ok) return 0;
  }
  int watched = 0;
  for (int j = 0; j < src->nwatch && !watched; j++) watched = pattern_matches(src->watch[j], ev->name);
  const char *colon = ev->subject ? strchr(ev->subject, ':') : NULL;
  if (watched && colon && colon != ev->subject) {
    size_t plen = (size_t)(colon - ev->subject);
    char *end;
    long long id = strtoll(colon + 1, &end, 10);
    for (int j = 0; j < src->nsubjects && id > 0 && !*end && !nids; j++)
      if (strlen(src->subjects[j]) == plen && !strncmp(src->subjects[j], ev->subject, plen)) ids[nids++] = id;
    /* A merge: the entity merged away leaves the figures. */
    const cJSON *sid = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(ev->payload, "source"), "id");
    if (nids && cJSON_IsNumber(sid) && sid->valuedouble > 0 && strstr(ev->name, ".merged"))
      ids[nids++] = (int64_t)sid->valuedouble;
  }
  for (int j = 0; j < src->nevents && nids < 4; j++)
    if (!strcmp(src->events[j][0], ev->name)) {
      const cJSON *v = cJSON_GetObjectItemCaseSensitive(ev->payload, src->events[j][1]);
      if (cJSON_IsNumber(v) && v->valuedouble > 0) ids[nids++] = (int64_t)v->valuedouble;
    }
  int uniq = 0;
  for (int a = 0; a < nids; a++) {
    int seen = 0;
    for (int b = 0; b < uniq; b++) seen |= ids[b] == ids[a];
    if (!seen) ids[uniq++] = ids[a];
  }
  return uniq;
}

/* The sync subscriber: notes the entities in the event's transaction. Never vetoes (a figure is not worth refusing
 * a ticket); a failed note is logged and left to the next rebuild. */
static int on_note(struct destek_req *call, const struct destek_event *ev, void *ud, char *err, size_t errlen)
{
  (void)err;
  (void)errlen;
  /* Subscribed once per pattern: an event two of them match ("ticket.created" a source names, "ticket.*" another
   * watches) is noted by the first only, which notes it for every source. */
  int mine = (int)(intptr_t)ud;
  for (int k = 0; k < mine && k < n_followed; k++)
    if (pattern_matches(followed[k], ev->name)) return 0;
  int noted = 0;
  pthread_rwlock_rdlock(&follow_lock);
  for (int i = 0; i < n_follow; i++) {
    int64_t ids[4];
    int n = event_ids(&follow[i], ev, ids);
    struct destek_db *w = n ? H->db_write(call) : NULL;
    for (int j = 0; j < n && w; j++) {
      if (H->db_exec(w, "INSERT INTO reports_pending(kind, entity_id, seq) VALUES (?1, ?2, ?3)"
                        " ON CONFLICT DO UPDATE SET seq = excluded.seq", "tii", follow[i].kind, ids[j], ev->id) != SQLITE_OK)
        H->log(H, DESTEK_LOG_ERROR, "%s %lld could not be noted for the reports", follow[i].kind, (long long)ids[j]);
      else noted = 1;
    }
  }
  pthread_rwlock_unlock(&follow_lock);
  if (noted) atomic_store(&pending_hint, 1);
  return 0;
}

static void services_key(char *key, size_t keylen)
{
  cJSON *list = H->services_new("report_facts");
  size_t kl = 0;
  key[0] = 0;
  const cJSON *e;
  cJSON_ArrayForEach(e, list) {
    const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "name"));
    if (name && kl + strlen(name) + 2 < keylen) kl += (size_t)snprintf(key + kl, keylen - kl, "%s,", name);
  }
  cJSON_Delete(list);
}

/* Describes the sources and subscribes to the events they name that are not followed yet. */
static int follow_sources(struct destek_req *call)
{
  struct rep_source src[REP_MAX_SOURCES];
  char key[2048];
  services_key(key, sizeof key);
  int n = rep_sources(call, src, REP_MAX_SOURCES);
  pthread_rwlock_wrlock(&follow_lock);
  memcpy(follow, src, (size_t)n * sizeof *src);
  n_follow = n;
  snprintf(follow_key, sizeof follow_key, "%s", key);
  pthread_rwlock_unlock(&follow_lock);
  for (int i = 0; i < n; i++) {
    const char *pats[REP_MAX_WATCH + 8];
    int np = 0;
    for (int j = 0; j < src[i].nwatch; j++) pats[np++] = src[i].watch[j];
    for (int j = 0; j < src[i].nevents; j++) pats[np++] = src[i].events[j][0];
    for (int j = 0; j < np; j++) {
      int have = 0;
      for (int k = 0; k < n_followed && !have; k++) have = pattern_matches(followed[k], pats[j]);
      if (have || n_followed == 64) continue;
      snprintf(followed[n_followed], sizeof followed[0], "%s", pats[j]);
      if (H->on(H, pats[j], DESTEK_SYNC, on_note, (void *)(intptr_t)n_followed) != 0) continue;
      n_followed++;
    }
  }
  return 0;
}

static int on_started(struct destek_req *call, void *ud)
{
  (void)ud;
  follow_sources(call);
  /* A rebuild cut short by a stop: the live figures stand; its shadow is cleared by the next one. */
  struct destek_db *w = H->db_write(call);
  if (w) H->db_exec(w, "UPDATE reports_sources SET building = NULL, cursor = NULL WHERE building IS NOT NULL", NULL);
  return 0;
}

/* Refreshes what reports_pending holds, REP_FLUSH_BATCH entities per short transaction (the sources are asked before
 * the writer is taken), for at most half a second a run; the rest waits for the next run. A row noted again while
 * its batch was refreshed (its seq moved) stays for the next batch. */
#define REP_FLUSH_BATCH 256
int rep_flush(struct destek_req *call, int64_t budget_ms)
{
  int64_t t0 = now_ms();
  /* During a rebuild, what is past its cursor waits: the rebuild reads it fresh, the flush refreshes it after. */
  int skip = atomic_load(&rebuilding), failed = 0, left = 0;
  struct destek_db *db = H->db_read(call);
  if (!db) return -1;
  char kinds[REP_MAX_SOURCES][40];
  int nk = 0;
  sqlite3_stmt *st = H->db_prepare(db, "SELECT DISTINCT kind FROM reports_pending");
  if (!st) return -1;
  while (nk < REP_MAX_SOURCES && sqlite3_step(st) == SQLITE_ROW)
    snprintf(kinds[nk++], sizeof kinds[0], "%s", (const char *)sqlite3_column_text(st, 0));
  H->db_done(st);
  /* Kind by kind, so that a source that fails (its service errs) holds back only its own. */
  for (int k = 0; k < nk && !left; k++) {
    struct rep_source src;
    int found = 0;
    pthread_rwlock_rdlock(&follow_lock);
    for (int i = 0; i < n_follow && !found; i++)
      if (!strcmp(follow[i].kind, kinds[k])) src = follow[i], found = 1;
    pthread_rwlock_unlock(&follow_lock);
    for (;;) {
      db = H->db_read(call);
      if (!db) return -1;
      st = H->db_prepare(db, "SELECT p.entity_id, p.seq FROM reports_pending p LEFT JOIN reports_sources s ON s.kind = p.kind"
                             " WHERE p.kind = ?1 AND (?3 = 0 OR s.building IS NULL OR p.entity_id <= coalesce(s.cursor, 0))"
                             " ORDER BY p.entity_id LIMIT ?2");
      if (!st) return -1;
      H->db_bind(st, "tii", kinds[k], (int64_t)REP_FLUSH_BATCH, (int64_t)skip);
      int64_t ids[REP_FLUSH_BATCH], seqs[REP_FLUSH_BATCH];
      int n = 0;
      while (n < REP_FLUSH_BATCH && sqlite3_step(st) == SQLITE_ROW) {
        ids[n] = sqlite3_column_int64(st, 0);
        seqs[n++] = sqlite3_column_int64(st, 1);
      }
      H->db_done(st);
      if (!n) break;
      /* A kind no module publishes any more: its notes go. */
      if (found) {
        refresh_wrote = 0;
        if (rep_refresh(call, &src, ids, n) != 0) {
          if (refresh_wrote) return -1;   /* half applied: the job's transaction is rolled back */
          H->log(H, DESTEK_LOG_WARN, "%s: its source failed to give %d facts; asked again in a second", kinds[k], n);
          failed = 1;
          break;
        }
      }
      struct destek_db *w = H->db_write(call);
      if (!w) return -1;
      for (int i = 0; i < n; i++)
        if (H->db_exec(w, "DELETE FROM reports_pending WHERE kind = ?1 AND entity_id = ?2 AND seq = ?3", "tii",
                       kinds[k], ids[i], seqs[i]) != SQLITE_OK)
          return -1;
      if (H->db_commit(call) != 0) return -1;
      if (n < REP_FLUSH_BATCH) break;
      if (now_ms() - t0 > budget_ms) left = 1;
      if (left) break;
    }
  }
  return failed ? -1 : left || skip ? 1 : 0;
}

static int flush_job(struct destek_req *call, void *ud)
{
  (void)ud;
  char key[2048];
  services_key(key, sizeof key);
  pthread_rwlock_rdlock(&follow_lock);
  int changed = strcmp(key, follow_key) != 0;
  pthread_rwlock_unlock(&follow_lock);
  if (changed) follow_sources(call);   /* the Lua modules were reloaded with other sources */
  /* The open facts of the sources that ask for it, noted again every refresh_open seconds. */
  static int64_t asked[REP_MAX_SOURCES];
  struct rep_source src[REP_MAX_SOURCES];
  pthread_rwlock_rdlock(&follow_lock);
  int n = n_follow;
  memcpy(src, follow, (size_t)n * sizeof *src);
  pthread_rwlock_unlock(&follow_lock);
  for (int i = 0; i < n; i++) {
    if (src[i].refresh_open <= 0 || (asked[i] && now_ms() - asked[i] < src[i].refresh_open * 1000LL)) continue;
    asked[i] = now_ms();
    struct destek_db *w = H->db_write(call);
    if (!w) break;
    rep_source_store(w, &src[i]);
    if (H->db_exec(w, "INSERT INTO reports_pending(kind, entity_id, seq) SELECT ?1, entity_id, 0 FROM reports_facts"
                      " WHERE kind = ?2 AND open = 1 ON CONFLICT DO NOTHING", "tt", src[i].kind, src[i].store) == SQLITE_OK &&
        H->db_changes(w) > 0)
      atomic_store(&pending_hint, 1);
    H->db_commit(call);
  }
  /* Histograms not built for the live key yet (after an upgrade; a kind never rebuilt): built from the values now,
   * in one transaction, unless a rebuild runs (it builds its own). */
  for (int i = 0; i < n && !atomic_load(&rebuilding); i++) {
    struct destek_db *db = H->db_read(call);
    if (!db) break;
    struct rep_state st;
    state_read(db, &src[i], &st);
    if (st.hist || st.building[0]) continue;
    int64_t t0 = now_ms(), longest = 0;
    if (rep_hist_build(call, &src[i], st.store, &longest) != 0) return -1;
    struct destek_db *w = H->db_write(call);
    if (!w) return -1;
    /* Recorded only when the live key is still the one built (a rebuild in another process may have swapped). */
    struct rep_state now;
    state_read(w, &src[i], &now);
    if (strcmp(now.store, st.store)) {
      H->db_commit(call);
      continue;
    }
    if (H->db_exec(w, "INSERT INTO reports_sources(kind, service, store, hist_store) VALUES (?1, ?2, ?3, ?3)"
                      " ON CONFLICT DO UPDATE SET hist_store = excluded.hist_store", "ttt", src[i].kind, src[i].service,
                   st.store) != SQLITE_OK || H->db_commit(call) != 0)
      return -1;
    H->log(H, DESTEK_LOG_INFO, "%s: the medians' histograms built from the values in %lld ms (longest transaction %lld ms)",
           src[i].kind, (long long)(now_ms() - t0), (long long)longest);
  }
  if (!atomic_exchange(&pending_hint, 0)) return 0;
  int rc = rep_flush(call, 500);
  if (rc != 0) atomic_store(&pending_hint, 1);
  if (rc < 0) H->log(H, DESTEK_LOG_WARN, "the reports' pending refreshes failed; retried in a second");
  return rc < 0 ? -1 : 0;
}

int rep_rollup_init(const struct destek_host *h)
{
  return h->started(h, on_started, NULL) | h->every(h, "flush", 1, flush_job, NULL);
}
