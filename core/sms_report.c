/* SMS delivery reports (see sms_report.h).
 *
 * decide("sms.gateway:<name>", "report", {messages = [{id, ref, to, sent_at}]}) -> {results = [{id, status, at?,
 * error?}]}, status "delivered", "undelivered" (final) or "pending" (ask again later). An SMS the gateway took with a
 * ref (its job or order id) is 'pending' from then; the job asks about those due, REPORT_BATCH at a time, without the
 * writer while the adapter makes its requests, then records the answers in one short transaction. A pending one is
 * asked again after sms.report_after seconds, doubling (at most an hour); after REPORT_GIVE_UP without a final answer it
 * becomes 'unknown'. An adapter without reports (the generic one) gives report = false with the send result, and its
 * messages are never asked about. */
#include "sms_report.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "http.h"
#include "jobs.h"
#include "log.h"
#include "lua_host.h"
#include "settings.h"
#include "util.h"

#define REPORT_BATCH 100
#define REPORT_GIVE_UP (72 * 3600)
#define REPORT_EVERY 2   /* seconds between looks for due reports (an indexed read of nothing when none is due) */

static const struct destek_setting settings[] = {
  { "sms.report_after", DESTEK_SETTING_INT, "60", 0,
    "Seconds after an SMS was sent before its delivery report is asked for (then again at twice the wait, at most an"
    " hour, for 72 hours)" },
  { 0 }
};

int sms_report_after(void)
{
  long v = settings_get_int("sms.report_after", 60);
  return (int)(v < 0 ? 0 : v > 86400 ? 86400 : v);
}

struct row { int64_t id, sent_unix; int tries; };

static time_t iso_unix(const char *s)
{
  struct tm tm;
  memset(&tm, 0, sizeof tm);
  const char *e = s && strlen(s) == 20 ? strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;
  return e && !*e ? timegm(&tm) : (time_t)-1;
}

static int report_job(struct destek_req *call, void *ud)
{
  (void)ud;
  struct db *r = db_reader();
  if (!r) return 0;
  time_t now = time(NULL);
  sqlite3_stmt *st = db_prepare(r, "SELECT id, gateway_ref, to_addr, coalesce(sent_at, created_at), report_tries"
                                   " FROM core_messages WHERE delivery = 'pending' AND report_next_at <= ?1"
                                   " ORDER BY report_next_at, id LIMIT ?2");
  if (!st) return 0;
  db_bind(st, "ii", (int64_t)now, (int64_t)REPORT_BATCH);
  struct row rows[REPORT_BATCH];
  int n = 0;
  cJSON *args = cJSON_CreateArray(), *data = cJSON_CreateObject(), *msgs = cJSON_CreateArray();
  cJSON_AddItemToArray(args, cJSON_CreateString("report"));
  cJSON_AddItemToArray(args, data);
  cJSON_AddItemToObject(data, "messages", msgs);
  while (n < REPORT_BATCH && sqlite3_step(st) == SQLITE_ROW) {
    rows[n].id = sqlite3_column_int64(st, 0);
    rows[n].sent_unix = iso_unix((const char *)sqlite3_column_text(st, 3));
    rows[n].tries = sqlite3_column_int(st, 4);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)rows[n].id);
    cJSON_AddStringToObject(o, "ref", (const char *)sqlite3_column_text(st, 1));
    cJSON_AddStringToObject(o, "to", (const char *)sqlite3_column_text(st, 2));
    cJSON_AddStringToObject(o, "sent_at", (const char *)sqlite3_column_text(st, 3));
    cJSON_AddItemToArray(msgs, o);
    n++;
  }
  db_done(st);
  if (!n) { cJSON_Delete(args); return 0; }
  char *gw = settings_get_new("sms.gateway"), policy[120];
  snprintf(policy, sizeof policy, "sms.gateway:%s", gw && *gw ? gw : "netgsm");
  free(gw);
  cJSON *out = lua_host_has_policy(policy) ? lua_host_decide_new(call, policy, args) : NULL;
  cJSON_Delete(args);
  if (!out) log_warn("consent", "%d SMS delivery reports wait: the adapter %s gave no answer (see the log)", n, policy);
  const cJSON *results = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(out, 0), "results");
  struct db *w = http_tx(call);
  if (!w) { cJSON_Delete(out); return -1; }
  char now_iso[21];
  util_iso_time(now, now_iso);
  int after = sms_report_after();
  if (after < 1) after = 1;
  int done = 0;
  for (int i = 0; i < n; i++) {
    const cJSON *res = NULL, *it;
    cJSON_ArrayForEach(it, results) {
      const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "id");
      if (cJSON_IsNumber(id) && (int64_t)id->valuedouble == rows[i].id) { res = it; break; }
    }
    const char *status = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(res, "status"));
    const char *at = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(res, "at"));
    const char *err = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(res, "error"));
    if (at && iso_unix(at) < 0) at = NULL;
    if (status && (!strcmp(status, "delivered") || !strcmp(status, "undelivered"))) {
      db_exec(w, "UPDATE core_messages SET delivery = ?2, delivery_at = ?3, delivery_error = ?4,"
                 " report_tries = report_tries + 1 WHERE id = ?1 AND delivery = 'pending'", "ittt", rows[i].id, status,
              at ? at : now_iso, !strcmp(status, "undelivered") ? (err && *err ? err : "not delivered") : NULL);
      done++;
    } else if (rows[i].sent_unix >= 0 && now - rows[i].sent_unix > REPORT_GIVE_UP) {
      db_exec(w, "UPDATE core_messages SET delivery = 'unknown', delivery_error = ?2, report_tries = report_tries + 1"
                 " WHERE id = ?1 AND delivery = 'pending'", "it", rows[i].id, "no delivery report within 72 hours");
    } else {
      int t = rows[i].tries < 12 ? rows[i].tries : 12;
      int64_t wait = (int64_t)after << t;
      if (wait > 3600) wait = 3600;
      db_exec(w, "UPDATE core_messages SET report_tries = report_tries + 1, report_next_at = ?2 WHERE id = ?1 AND"
                 " delivery = 'pending'", "ii", rows[i].id, (int64_t)now + wait);
    }
  }
  cJSON_Delete(out);
  if (done) log_info("consent", "SMS delivery reports: %d of %d answered", done, n);
  return 0;
}

int sms_report_init(void)
{
  return settings_declare("core", settings) | jobs_every("core", "sms.reports", REPORT_EVERY, report_job, NULL);
}
