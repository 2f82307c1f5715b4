/* ticketing.report_facts — the help desk's figures for the reports module, by the module-neutral contract every
 * module with figures follows (plugins/reports/README.md, "The contract"): one fact per ticket, computed here from
 * ticketing's own tables, so reports never reads them.
 *
 *   {"describe": true} -> {kind: "ticket", subjects: ["ticket"], watch: [events about a ticket], durations: [...]}
 *   {"after": id, "limit": n}  -> {items: [fact...], next: id | null}    (ids in order; limit 1..2000, default 500)
 *   {"ids": [id, ...]}          -> {items: [fact...]}                     (at most 500; an id absent from items has no
 *                                                                            fact: merged away or gone)
 * A fact: {id, ref, at (creation, unix seconds), open (0/1), dims: {channel, priority, team, agent, tag: [...]},
 *          labels: {team, agent} (display names), values: {frt, frt_bh, res, res_bh, sla_met, sla_breached}}
 *   frt / res: seconds from creation to the first agent reply / to the solve (absent until they happen; res only for
 *   a ticket that is solved or closed now); *_bh: the same in business seconds of the ticket's calendar (its SLA
 *   policy's, else its team's, else the default calendar: hours and holidays); sla_met: 1 when every SLA target the
 *   ticket has was met, sla_breached: 1 when one was missed (neither while a target is still running unmissed, or
 *   without targets). */
#include "tkt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sla.h"

/* The calendars one call has loaded, by id (a handful: the default and those of teams and policies). */
struct cal_cache {
  int64_t id[16];
  struct sla_calendar *cal[16];
  int n;
};

static const struct sla_calendar *cal_get(struct destek_db *db, struct cal_cache *cc, int64_t id)
{
  if (!id) return NULL;
  for (int i = 0; i < cc->n; i++)
    if (cc->id[i] == id) return cc->cal[i];
  char err[SLA_ERR_MAX];
  struct sla_calendar *c = tkt_calendar_load_new(db, id, err);
  if (cc->n < 16) {
    cc->id[cc->n] = id;
    cc->cal[cc->n++] = c;
  }
  return c;
}

static void cal_free(struct cal_cache *cc)
{
  for (int i = 0; i < cc->n; i++) sla_calendar_free(cc->cal[i]);
}

#define FACT_SQL \
  "SELECT t.id, t.reference, unixepoch(t.created_at), t.status, t.channel, t.priority, t.team_id, t.assignee_id," \
  " t.tags_json, unixepoch(t.first_response_at), CASE WHEN t.status IN ('solved', 'closed')" \
  " THEN unixepoch(coalesce(t.solved_at, t.closed_at)) END," \
  " coalesce(s.calendar_id, (SELECT calendar_id FROM tkt_team_calendars WHERE team_id = t.team_id), ?3)," \
  " s.first_response_minutes, s.frt_state, s.frt_clock, s.resolution_minutes, s.res_state, s.res_clock," \
  " (SELECT name FROM tkt_teams WHERE id = t.team_id), (SELECT name FROM core_users WHERE id = t.assignee_id)" \
  " FROM tkt_tickets t LEFT JOIN tkt_sla s ON s.ticket_id = t.id WHERE t.merged_into IS NULL"

static cJSON *fact_new(sqlite3_stmt *st, struct destek_db *db, struct cal_cache *cc)
{
  cJSON *o = cJSON_CreateObject(), *dims = cJSON_CreateObject(), *labels = cJSON_CreateObject(),
        *vals = cJSON_CreateObject();
  char buf[32];
  int64_t created = sqlite3_column_int64(st, 2);
  cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(st, 0));
  snprintf(buf, sizeof buf, "#%lld", (long long)sqlite3_column_int64(st, 1));
  cJSON_AddStringToObject(o, "ref", buf);
  cJSON_AddNumberToObject(o, "at", (double)created);
  const char *status = (const char *)sqlite3_column_text(st, 3);
  cJSON_AddNumberToObject(o, "open", strcmp(status, "solved") && strcmp(status, "closed") ? 1 : 0);
  cJSON_AddStringToObject(dims, "channel", (const char *)sqlite3_column_text(st, 4));
  cJSON_AddStringToObject(dims, "priority", (const char *)sqlite3_column_text(st, 5));
  if (sqlite3_column_type(st, 6) != SQLITE_NULL) {
    snprintf(buf, sizeof buf, "%lld", (long long)sqlite3_column_int64(st, 6));
    cJSON_AddStringToObject(dims, "team", buf);
    if (sqlite3_column_type(st, 18) != SQLITE_NULL)
      cJSON_AddStringToObject(labels, "team", (const char *)sqlite3_column_text(st, 18));
  } else {
    cJSON_AddStringToObject(dims, "team", "none");
  }
  if (sqlite3_column_type(st, 7) != SQLITE_NULL) {
    snprintf(buf, sizeof buf, "%lld", (long long)sqlite3_column_int64(st, 7));
    cJSON_AddStringToObject(dims, "agent", buf);
    if (sqlite3_column_type(st, 19) != SQLITE_NULL)
      cJSON_AddStringToObject(labels, "agent", (const char *)sqlite3_column_text(st, 19));
  } else {
    cJSON_AddStringToObject(dims, "agent", "none");
  }
  cJSON *tags = cJSON_Parse((const char *)sqlite3_column_text(st, 8));
  if (!cJSON_IsArray(tags)) {
    cJSON_Delete(tags);
    tags = cJSON_CreateArray();
  }
  cJSON_AddItemToObject(dims, "tag", tags);
  const struct sla_calendar *cal = cal_get(db, cc, sqlite3_column_int64(st, 11));
  if (sqlite3_column_type(st, 9) != SQLITE_NULL) {
    int64_t fr = sqlite3_column_int64(st, 9);
    cJSON_AddNumberToObject(vals, "frt", (double)(fr > created ? fr - created : 0));
    cJSON_AddNumberToObject(vals, "frt_bh", (double)(cal ? sla_business_seconds(cal, created, fr) : 0));
  }
  if (sqlite3_column_type(st, 10) != SQLITE_NULL) {
    int64_t so = sqlite3_column_int64(st, 10);
    cJSON_AddNumberToObject(vals, "res", (double)(so > created ? so - created : 0));
    cJSON_AddNumberToObject(vals, "res_bh", (double)(cal ? sla_business_seconds(cal, created, so) : 0));
  }
  /* SLA: met when every target the ticket has stopped in time, breached when one was missed. */
  /* A solved or closed ticket's clocks are stopped whatever the stored clock says (it reads "paused" for the
   * resolution target of a solved ticket, which a reopening resumes). */
  int targets = 0, met = 0, breached = 0, done = !cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, "open"));
  for (int k = 0; k < 2; k++) {
    int c = 12 + 3 * k;
    if (sqlite3_column_type(st, c) == SQLITE_NULL) continue;
    targets++;
    const char *state = (const char *)sqlite3_column_text(st, c + 1), *clock = (const char *)sqlite3_column_text(st, c + 2);
    if (state && !strcmp(state, "breached")) breached = 1;
    else if (done || (clock && !strcmp(clock, "stopped"))) met++;
  }
  if (targets) {
    if (breached) cJSON_AddNumberToObject(vals, "sla_breached", 1);
    else if (met == targets) cJSON_AddNumberToObject(vals, "sla_met", 1);
  }
  cJSON_AddItemToObject(o, "dims", dims);
  cJSON_AddItemToObject(o, "labels", labels);
  cJSON_AddItemToObject(o, "values", vals);
  return o;
}

static int svc_report_facts(struct destek_req *call, const cJSON *args, cJSON **result, void *ud)
{
  (void)ud;
  if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(args, "describe"))) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", "ticket");
    cJSON *subjects = cJSON_AddArrayToObject(o, "subjects");
    cJSON_AddItemToArray(subjects, cJSON_CreateString("ticket"));
    const char *watch[] = { "ticket.*", "message.added", "sla.*" };   /* the events about a ticket its fact follows */
    cJSON_AddItemToObject(o, "watch", cJSON_CreateStringArray(watch, 3));
    const char *median_by[] = { "agent", "team" };   /* medians of the durations per agent and per team */
    cJSON_AddItemToObject(o, "median_by", cJSON_CreateStringArray(median_by, 2));
    const char *d[] = { "frt", "frt_bh", "res", "res_bh" };
    cJSON_AddItemToObject(o, "durations", cJSON_CreateStringArray(d, 4));
    *result = o;
    return 0;
  }
  struct destek_db *db = tkt_db_read(call);
  if (!db) return tkt_error(call, 503, "db_busy", "the database is busy");
  int64_t def = tkt_calendar_default_id(db);
  struct cal_cache cc = { .n = 0 };
  cJSON *items = cJSON_CreateArray();
  const cJSON *ids = cJSON_GetObjectItemCaseSensitive(args, "ids");
  cJSON *out = cJSON_CreateObject();
  if (ids) {
    if (!cJSON_IsArray(ids) || cJSON_GetArraySize(ids) > 500) {
      cJSON_Delete(items);
      cJSON_Delete(out);
      return tkt_field_error(call, "invalid_field", "ids", "ids must be an array of at most 500 ticket ids");
    }
    sqlite3_stmt *st = tkt_db_prepare(db, FACT_SQL " AND t.id = ?1");
    const cJSON *v;
    cJSON_ArrayForEach(v, ids) {
      if (!st || !cJSON_IsNumber(v)) continue;
      tkt_db_bind(st, "iin", (int64_t)v->valuedouble, (int64_t)0);
      sqlite3_bind_int64(st, 3, def);
      if (sqlite3_step(st) == SQLITE_ROW) cJSON_AddItemToArray(items, fact_new(st, db, &cc));
      sqlite3_reset(st);
    }
    if (st) tkt_db_done(st);
  } else {
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(args, "after"), *l = cJSON_GetObjectItemCaseSensitive(args, "limit");
    int64_t after = cJSON_IsNumber(a) ? (int64_t)a->valuedouble : 0;
    int limit = cJSON_IsNumber(l) ? (int)l->valuedouble : 500;
    if (limit < 1 || limit > 2000) limit = 500;
    sqlite3_stmt *st = tkt_db_prepare(db, FACT_SQL " AND t.id > ?1 ORDER BY t.id LIMIT ?2");
    int n = 0;
    int64_t last = 0;
    if (st) {
      tkt_db_bind(st, "ii", after, (int64_t)limit);
      sqlite3_bind_int64(st, 3, def);
      while (sqlite3_step(st) == SQLITE_ROW) {
        last = sqlite3_column_int64(st, 0);
        cJSON_AddItemToArray(items, fact_new(st, db, &cc));
        n++;
      }
      tkt_db_done(st);
    }
    if (n == limit) cJSON_AddNumberToObject(out, "next", (double)last);
    else cJSON_AddNullToObject(out, "next");
  }
  cal_free(&cc);
  cJSON_AddItemToObject(out, "items", items);
  *result = out;
  return 0;
}

int tkt_report_init(const struct destek_host *h)
{
  return h->service(h, "ticketing.report_facts", svc_report_facts, NULL);
}
