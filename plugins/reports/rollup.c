/* The roll-ups: facts from the modules' <module>.report_facts services, kept in reports_facts and summed per day in
 * reports_daily, refreshed from the modules' events (async, at least once: a refresh asks the source again, so a
 * repeated or late event changes nothing) and rebuilt on demand (CLI, admin button). */
#include "rep.h"

#include <pthread.h>
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
  if (kind && strlen(kind) < sizeof s->kind) {
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

int rep_sources(struct destek_req *call, struct rep_source *out, int max)
{
  cJSON *list = H->services_new("report_facts");
  char key[2048] = "";
  size_t kl = 0;
  const cJSON *e;
  cJSON_ArrayForEach(e, list) {
    const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "name"));
    if (name && kl + strlen(name) + 2 < sizeof key) kl += (size_t)snprintf(key + kl, sizeof key - kl, "%s,", name);
  }
  pthread_mutex_lock(&cache_lock);
  if (cache_n >= 0 && !strcmp(key, cache_key)) {
    int n = cache_n < max ? cache_n : max;
    memcpy(out, cache, (size_t)n * sizeof *out);
    pthread_mutex_unlock(&cache_lock);
    cJSON_Delete(list);
    return n;
  }
  pthread_mutex_unlock(&cache_lock);
  int n = 0;
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

static int values_write(struct destek_db *w, const struct rep_source *src, int64_t id, int64_t day, const cJSON *vals,
                        int insert)
{
  const cJSON *m;
  cJSON_ArrayForEach(m, vals) {
    if (!cJSON_IsNumber(m) || !m->string || !is_duration(src, m->string)) continue;
    int rc = insert ? H->db_exec(w, "INSERT OR IGNORE INTO reports_values(kind, measure, value, day, entity_id)"
                                    " VALUES (?1, ?2, ?3, ?4, ?5)", "ttdii", src->kind, m->string, m->valuedouble, day, id)
                    : H->db_exec(w, "DELETE FROM reports_values WHERE kind = ?1 AND measure = ?2 AND value = ?3"
                                    " AND day = ?4 AND entity_id = ?5", "ttdii", src->kind, m->string, m->valuedouble, day, id);
    if (rc != SQLITE_OK) return -1;
  }
  return 0;
}

/* Takes an entity's stored fact out of the roll-ups (and the table). */
static int fact_remove(struct destek_db *w, const struct rep_source *src, int64_t id, struct acc *a)
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
    rc = values_write(w, src, id, day, vals, 0);
    cJSON_Delete(dims);
    cJSON_Delete(vals);
  }
  H->db_done(st);
  if (found && !rc)
    rc = H->db_exec(w, "DELETE FROM reports_facts WHERE kind = ?1 AND entity_id = ?2", "ti", src->kind, id) == SQLITE_OK ? 0 : -1;
  return rc;
}

/* Stores a fact from the source and adds its share. */
static int fact_put(struct destek_db *w, const struct rep_source *src, const cJSON *f, struct acc *a)
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
  if (values_write(w, src, id, day, vals, 1) != 0) return -1;
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
  struct acc a = { 0 };
  int bad = 0;
  for (int i = 0; i < n && !bad; i++) bad = fact_remove(w, src, ids[i], &a);
  const cJSON *f;
  cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(res, "items"))
    if (!bad) bad = fact_put(w, src, f, &a);
  if (!bad) bad = acc_flush(w, src->kind, &a);
  acc_free(&a);
  cJSON_Delete(res);
  return bad ? H->error(call, 500, "internal", "the reports could not be updated") : 0;
}

static int64_t now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int rep_rebuild(struct destek_req *call, const struct rep_source *src, int64_t *facts)
{
  int64_t t0 = now_ms();
  struct destek_db *w = H->db_write(call);
  if (!w) return H->status(call);
  if (H->db_exec(w, "DELETE FROM reports_facts WHERE kind = ?1", "t", src->kind) != SQLITE_OK ||
      H->db_exec(w, "DELETE FROM reports_daily WHERE kind = ?1", "t", src->kind) != SQLITE_OK ||
      H->db_exec(w, "DELETE FROM reports_totals WHERE kind = ?1", "t", src->kind) != SQLITE_OK ||
      H->db_exec(w, "DELETE FROM reports_monthly WHERE kind = ?1", "t", src->kind) != SQLITE_OK ||
      H->db_exec(w, "DELETE FROM reports_values WHERE kind = ?1", "t", src->kind) != SQLITE_OK)
    return H->error(call, 500, "internal", "the reports could not be cleared");
  struct acc a = { 0 };
  int64_t after = 0, count = 0;
  int rc = 0;
  for (;;) {
    cJSON *args = cJSON_CreateObject(), *res = NULL;
    cJSON_AddNumberToObject(args, "after", (double)after);
    cJSON_AddNumberToObject(args, "limit", 2000);
    rc = H->call_service(call, src->service, args, &res);
    cJSON_Delete(args);
    if (rc) break;
    const cJSON *f;
    cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(res, "items")) {
      if (fact_put(w, src, f, &a) != 0) {
        rc = H->error(call, 500, "internal", "the reports could not be rebuilt");
        break;
      }
      count++;
    }
    const cJSON *next = cJSON_GetObjectItemCaseSensitive(res, "next");
    int more = !rc && cJSON_IsNumber(next) && next->valuedouble > (double)after;
    if (more) after = (int64_t)next->valuedouble;
    cJSON_Delete(res);
    if (!more) break;
  }
  if (!rc && acc_flush(w, src->kind, &a) != 0) rc = H->error(call, 500, "internal", "the reports could not be rebuilt");
  acc_free(&a);
  if (rc) return rc;
  cJSON *durs = cJSON_CreateArray();
  for (int i = 0; i < src->ndurations; i++) cJSON_AddItemToArray(durs, cJSON_CreateString(src->durations[i]));
  char *dj = cJSON_PrintUnformatted(durs);
  cJSON_Delete(durs);
  int64_t ms = now_ms() - t0;
  rc = H->db_exec(w, "INSERT INTO reports_sources(kind, service, durations, rebuilt_at, rebuild_ms, facts)"
                     " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO UPDATE SET service = excluded.service,"
                     " durations = excluded.durations, rebuilt_at = excluded.rebuilt_at,"
                     " rebuild_ms = excluded.rebuild_ms, facts = excluded.facts",
                  "tttiii", src->kind, src->service, dj, (int64_t)time(NULL), ms, count);
  free(dj);
  if (rc != SQLITE_OK) return H->error(call, 500, "internal", "the reports could not be rebuilt");
  *facts = count;
  return 0;
}

cJSON *rep_rebuild_all_new(struct destek_req *call)
{
  struct rep_source src[REP_MAX_SOURCES];
  int n = rep_sources(call, src, REP_MAX_SOURCES);
  cJSON *out = cJSON_CreateArray();
  for (int i = 0; i < n; i++) {
    int64_t t0 = now_ms(), facts = 0;
    if (rep_rebuild(call, &src[i], &facts) != 0) {
      cJSON_Delete(out);
      return NULL;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", src[i].kind);
    cJSON_AddStringToObject(o, "service", src[i].service);
    cJSON_AddNumberToObject(o, "facts", (double)facts);
    cJSON_AddNumberToObject(o, "ms", (double)(now_ms() - t0));
    cJSON_AddItemToArray(out, o);
  }
  return out;
}

/* ------------------------------------------------------------------------------------------------ events */

/* Every event: when its subject is "<prefix>:<id>" for a prefix a source declared, or its name is one a source
 * declared with the payload member holding the entity's id, that entity's fact is asked again. After commit, at
 * least once, in order per subject; a failure is retried by the bus. */
static int on_event(struct destek_req *call, const struct destek_event *ev, void *ud, char *err, size_t errlen)
{
  (void)ud;
  cJSON *list = H->services_new("report_facts");
  int any = cJSON_GetArraySize(list) > 0;
  cJSON_Delete(list);
  if (!any) return 0;
  char prefix[32] = "";
  long long subject_id = 0;
  const char *colon = ev->subject ? strchr(ev->subject, ':') : NULL;
  if (colon && colon != ev->subject && (size_t)(colon - ev->subject) < sizeof prefix) {
    memcpy(prefix, ev->subject, (size_t)(colon - ev->subject));
    prefix[colon - ev->subject] = 0;
    char *end;
    subject_id = strtoll(colon + 1, &end, 10);
    if (*end) subject_id = 0;
  }
  struct rep_source src[REP_MAX_SOURCES];
  int n = rep_sources(call, src, REP_MAX_SOURCES);
  for (int i = 0; i < n; i++) {
    int64_t ids[4];
    int nids = 0;
    for (int j = 0; j < src[i].nsubjects && subject_id > 0; j++)
      if (!strcmp(src[i].subjects[j], prefix)) ids[nids++] = subject_id;
    /* A merge: the ticket merged away leaves the figures. */
    const cJSON *source = cJSON_GetObjectItemCaseSensitive(ev->payload, "source");
    const cJSON *sid = cJSON_GetObjectItemCaseSensitive(source, "id");
    if (nids && cJSON_IsNumber(sid) && sid->valuedouble > 0 && ev->name && strstr(ev->name, ".merged"))
      ids[nids++] = (int64_t)sid->valuedouble;
    for (int j = 0; j < src[i].nevents && ev->name; j++)
      if (!strcmp(src[i].events[j][0], ev->name)) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(ev->payload, src[i].events[j][1]);
        if (cJSON_IsNumber(v) && v->valuedouble > 0 && nids < 4) ids[nids++] = (int64_t)v->valuedouble;
      }
    int uniq = 0;
    for (int a = 0; a < nids; a++) {
      int seen = 0;
      for (int b = 0; b < uniq; b++) seen |= ids[b] == ids[a];
      if (!seen) ids[uniq++] = ids[a];
    }
    nids = uniq;
    if (nids && rep_refresh(call, &src[i], ids, nids) != 0) {
      snprintf(err, errlen, "%s: %s could not be refreshed", src[i].kind, ev->subject ? ev->subject : ev->name);
      return 1;
    }
  }
  return 0;
}

int rep_rollup_init(const struct destek_host *h)
{
  return h->on(h, "*", DESTEK_ASYNC, on_event, NULL);
}
