/* SLAs: business calendars (admin API), SLA policies (admin API) and each ticket's SLA clock. The clock follows a
 * ticket through sync subscribers of ticket.created, ticket.updated and message.added, so the rest of the plugin
 * needs no calls into this file; it is evaluated with sla_evaluate, stored in tkt_sla and kept awake by one
 * one-shot timer per ticket ("ticketing.sla", key = ticket id) at its next warning or due instant. */
#include "sla.h"
#include "destek_jbuf.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fold.h"
#include "tkt.h"
#include "destek_util.h"

/* ------------------------------------------------------------------------------------------------ the clock */

static int test_clock_on;                 /* DESTEK_TEST_CLOCK=1 at start-up; never on otherwise */
static _Atomic int64_t fake_now;          /* 0: not set */

int64_t tkt_sla_now(void)
{
  if (test_clock_on) {
    int64_t f = atomic_load(&fake_now);
    if (f > 0) return f;
  }
  return (int64_t)time(NULL);
}

/* The real instant at which to fire a timer for SLA instant `at`: `at` itself, except under the test clock where
 * the timer is due after the same delay from the real clock as `at` is from the fake one. */
static int64_t timer_due(int64_t at)
{
  if (!test_clock_on) return at;
  int64_t d = at - tkt_sla_now();
  return (int64_t)time(NULL) + (d > 0 ? d : 0);
}

static void iso(int64_t t, char out[21]) { util_iso_time((time_t)t, out); }

/* "YYYY-MM-DDTHH:MM:SSZ" to unix seconds; -1 if it is not that. */
static int64_t parse_iso(const char *s)
{
  int y, mo, d, h, mi, sec;
  char z;
  if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &sec, &z) != 7 || z != 'Z' || h > 23 || mi > 59 ||
      sec > 59)
    return -1;
  int64_t m = sla_local_minute(y, mo, d, h, mi);   /* in UTC, local minutes are UTC minutes */
  return m == INT64_MIN ? -1 : m * 60 + sec;
}

/* ------------------------------------------------------------------------------------------------ calendars */

/* Zones read from the zone files, by name: a trigger or SLA evaluation on every new ticket read and parsed
 * /usr/share/zoneinfo/<zone> each time. Zone files change only with a tzdata upgrade, which a restart picks up. */
#define TZ_CACHE 16
static struct { char name[128]; struct sla_tz *tz; } tz_cache[TZ_CACHE];
static pthread_mutex_t tz_cache_lock = PTHREAD_MUTEX_INITIALIZER;

static struct sla_tz *tz_load_new(const char *name, char *err)
{
  struct sla_tz *tz = NULL;
  pthread_mutex_lock(&tz_cache_lock);
  int i = 0;
  for (; i < TZ_CACHE && tz_cache[i].tz; i++)
    if (!strcmp(tz_cache[i].name, name)) {
      if (!(tz = sla_tz_dup(tz_cache[i].tz))) abort();   /* out of memory */
      break;
    }
  if (!tz) {
    tz = sla_tz_load(name, err);
    if (tz && i < TZ_CACHE && strlen(name) < sizeof tz_cache[i].name) {
      if (!(tz_cache[i].tz = sla_tz_dup(tz))) abort();
      snprintf(tz_cache[i].name, sizeof tz_cache[i].name, "%s", name);
    }
  }
  pthread_mutex_unlock(&tz_cache_lock);
  return tz;
}

struct sla_calendar *tkt_calendar_load_new(struct destek_db *db, int64_t calendar_id, char *err)
{
  sqlite3_stmt *st = tkt_db_prepare(db, "SELECT time_zone, hours, holidays FROM tkt_calendars WHERE id = ?1");
  if (!st) { snprintf(err, SLA_ERR_MAX, "database error"); return NULL; }
  tkt_db_bind(st, "i", calendar_id);
  struct sla_calendar *cal = NULL;
  if (sqlite3_step(st) == SQLITE_ROW) {
    struct sla_tz *tz = tz_load_new((const char *)sqlite3_column_text(st, 0), err);
    cal = tz ? sla_calendar_new(tz) : NULL;
    if (cal && (sla_calendar_parse_hours(cal, (const char *)sqlite3_column_text(st, 1), err) != 0 ||
                sla_calendar_parse_holidays(cal, (const char *)sqlite3_column_text(st, 2), err) != 0)) {
      sla_calendar_free(cal);
      cal = NULL;
    }
  } else {
    snprintf(err, SLA_ERR_MAX, "no calendar %lld", (long long)calendar_id);
  }
  tkt_db_done(st);
  return cal;
}

int64_t tkt_calendar_default_id(struct destek_db *db)
{
  return tkt_db_int(db, 0, "SELECT id FROM tkt_calendars WHERE is_default = 1", "");
}

static cJSON *calendar_json(struct destek_db *db, int64_t id)
{
  sqlite3_stmt *st = tkt_db_prepare(db, "SELECT name, time_zone, hours, holidays, is_default, created_at, updated_at"
                                    " FROM tkt_calendars WHERE id = ?1");
  if (!st) return NULL;
  tkt_db_bind(st, "i", id);
  cJSON *o = NULL;
  if (sqlite3_step(st) == SQLITE_ROW) {
    o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)id);
    cJSON_AddStringToObject(o, "name", (const char *)sqlite3_column_text(st, 0));
    cJSON_AddStringToObject(o, "time_zone", (const char *)sqlite3_column_text(st, 1));
    cJSON_AddStringToObject(o, "hours", (const char *)sqlite3_column_text(st, 2));
    cJSON_AddStringToObject(o, "holidays", (const char *)sqlite3_column_text(st, 3));
    cJSON_AddBoolToObject(o, "is_default", sqlite3_column_int(st, 4));
    cJSON_AddStringToObject(o, "created_at", (const char *)sqlite3_column_text(st, 5));
    cJSON_AddStringToObject(o, "updated_at", (const char *)sqlite3_column_text(st, 6));
  }
  tkt_db_done(st);
  if (!o) return NULL;
  cJSON *teams = cJSON_AddArrayToObject(o, "team_ids");
  st = tkt_db_prepare(db, "SELECT team_id FROM tkt_team_calendars WHERE calendar_id = ?1 ORDER BY team_id");
  if (st) {
    tkt_db_bind(st, "i", id);
    while (sqlite3_step(st) == SQLITE_ROW) cJSON_AddItemToArray(teams, cJSON_CreateNumber((double)sqlite3_column_int64(st, 0)));
    tkt_db_done(st);
  }
  return o;
}

/* Reads and checks a calendar's fields from body; with `old` (PATCH) absent fields keep their values. The text
 * fields are parsed by sla_clock; an error is a 422 naming the field with the parser's message. 0 or the status. */
struct calendar_fields { const char *name, *time_zone, *hours, *holidays; int is_default; };

static int calendar_fields_read(struct destek_req *r, const cJSON *body, int required, struct calendar_fields *f)
{
  int rc;
  const char *name, *tz, *hours, *holidays = NULL;
  if ((rc = tkt_field_str(r, body, "name", required, 100, &name)) ||
      (rc = tkt_field_str(r, body, "time_zone", required, 100, &tz)) ||
      (rc = tkt_field_str(r, body, "hours", required, 2000, &hours)) ||
      (rc = tkt_field_bool(r, body, "is_default", DESTEK_OPTIONAL, &f->is_default)))
    return rc;
  const cJSON *h = cJSON_GetObjectItemCaseSensitive(body, "holidays");
  if (h && !cJSON_IsNull(h)) {
    if (!cJSON_IsString(h) || strlen(h->valuestring) > 20000)
      return tkt_field_error(r, "invalid_field", "holidays", "holidays must be text of at most 20000 bytes");
    holidays = h->valuestring;
  } else if (h) {
    holidays = "";
  }
  if (name) f->name = name;
  if (tz) f->time_zone = tz;
  if (hours) f->hours = hours;
  if (holidays) f->holidays = holidays;
  char err[SLA_ERR_MAX] = "";
  struct sla_tz *zone = sla_tz_load(f->time_zone, err);
  if (!zone) return tkt_field_error(r, "invalid_field", "time_zone", "time_zone: %s", err);
  struct sla_calendar *cal = sla_calendar_new(zone);
  if (!cal) abort();
  if (sla_calendar_parse_hours(cal, f->hours, err) != 0) rc = tkt_field_error(r, "invalid_field", "hours", "hours: %s", err);
  else if (sla_calendar_parse_holidays(cal, f->holidays, err) != 0)
    rc = tkt_field_error(r, "invalid_field", "holidays", "holidays: %s", err);
  sla_calendar_free(cal);
  return rc;
}

static int calendar_list(struct destek_req *r)
{
  int limit;
  int64_t after;
  int rc = tkt_page(r, &limit, &after);
  if (rc) return rc;
  struct destek_db *db = tkt_db_read(r);
  sqlite3_stmt *st = db ? tkt_db_prepare(db, "SELECT id FROM tkt_calendars WHERE id > ?1 ORDER BY id LIMIT ?2") : NULL;
  if (!st) return tkt_error(r, 500, "internal", "internal error");
  tkt_db_bind(st, "ii", after, (int64_t)limit + 1);
  int64_t ids[201];
  int n = 0;
  while (n < limit + 1 && sqlite3_step(st) == SQLITE_ROW) ids[n++] = sqlite3_column_int64(st, 0);
  tkt_db_done(st);
  cJSON *items = cJSON_CreateArray();
  for (int i = 0; i < n && i < limit; i++) {
    cJSON *c = calendar_json(db, ids[i]);
    if (c) cJSON_AddItemToArray(items, c);
  }
  return tkt_reply_json(r, 200, tkt_list_new(items, n > limit ? ids[limit - 1] : 0));
}

static int calendar_save(struct destek_req *r, struct destek_db *w, int64_t id, const struct calendar_fields *f)
{
  char now[21];
  tkt_now(now);
  if (f->is_default == 1 && tkt_db_exec(w, "UPDATE tkt_calendars SET is_default = 0 WHERE is_default = 1 AND id <> ?1",
                                    "i", id) != SQLITE_OK)
    return tkt_error(r, 500, "internal", "the calendar could not be saved");
  int rc;
  if (id == 0)
    rc = tkt_db_exec(w, "INSERT INTO tkt_calendars(name, time_zone, hours, holidays, is_default, created_at, updated_at)"
                    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)", "ttttit", f->name, f->time_zone, f->hours, f->holidays,
                 (int64_t)(f->is_default == 1), now);
  else
    rc = tkt_db_exec(w, "UPDATE tkt_calendars SET name = ?2, time_zone = ?3, hours = ?4, holidays = ?5,"
                    " is_default = CASE WHEN ?6 = 1 THEN 1 WHEN ?6 = 0 THEN 0 ELSE is_default END, updated_at = ?7"
                    " WHERE id = ?1", "ittttit", id, f->name, f->time_zone, f->hours, f->holidays,
                 (int64_t)f->is_default, now);
  if (rc == SQLITE_CONSTRAINT) return tkt_error(r, 409, "name_taken", "a calendar with this name exists");
  if (rc != SQLITE_OK) return tkt_error(r, 500, "internal", "the calendar could not be saved");
  return 0;
}

static int calendar_create(struct destek_req *r)
{
  cJSON *body;
  int rc;
  struct calendar_fields f = { NULL, NULL, NULL, "", -1 };
  if ((rc = tkt_body(r, &body)) || (rc = calendar_fields_read(r, body, DESTEK_REQUIRED, &f))) return rc;
  struct destek_db *w = tkt_db_write(r);
  if (!w) return tkt_status(r);
  if ((rc = calendar_save(r, w, 0, &f))) return rc;
  return tkt_reply_json(r, 201, calendar_json(w, tkt_db_last_id(w)));
}

static int calendar_get(struct destek_req *r)
{
  cJSON *c = calendar_json(tkt_db_read(r), tkt_param_int(r, "id"));
  if (!c) return tkt_error(r, 404, "not_found", "no such calendar");
  return tkt_reply_json(r, 200, c);
}

static int calendar_update(struct destek_req *r)
{
  int64_t id = tkt_param_int(r, "id");
  cJSON *body;
  int rc;
  if ((rc = tkt_body(r, &body))) return rc;
  struct destek_db *w = tkt_db_write(r);
  if (!w) return tkt_status(r);
  cJSON *old = calendar_json(w, id);
  if (!old) return tkt_error(r, 404, "not_found", "no such calendar");
  struct calendar_fields f = {
    cJSON_GetObjectItem(old, "name")->valuestring, cJSON_GetObjectItem(old, "time_zone")->valuestring,
    cJSON_GetObjectItem(old, "hours")->valuestring, cJSON_GetObjectItem(old, "holidays")->valuestring, -1 };
  rc = calendar_fields_read(r, body, DESTEK_OPTIONAL, &f);
  if (!rc && f.is_default == 0 && cJSON_IsTrue(cJSON_GetObjectItem(old, "is_default")))
    rc = tkt_field_error(r, "invalid_field", "is_default", "make another calendar the default instead");
  if (!rc) rc = calendar_save(r, w, id, &f);
  cJSON_Delete(old);
  if (rc) return rc;
  return tkt_reply_json(r, 200, calendar_json(w, id));
}

static int calendar_delete(struct destek_req *r)
{
  int64_t id = tkt_param_int(r, "id");
  struct destek_db *w = tkt_db_write(r);
  if (!w) return tkt_status(r);
  if (!tkt_db_int(w, 0, "SELECT count(*) FROM tkt_calendars WHERE id = ?1", "i", id))
    return tkt_error(r, 404, "not_found", "no such calendar");
  if (tkt_db_int(w, 0, "SELECT is_default FROM tkt_calendars WHERE id = ?1", "i", id))
    return tkt_error(r, 409, "calendar_in_use", "the default calendar cannot be deleted: make another the default");
  if (tkt_db_int(w, 0, "SELECT (SELECT count(*) FROM tkt_team_calendars WHERE calendar_id = ?1)"
                   " + (SELECT count(*) FROM tkt_sla_policies WHERE calendar_id = ?1)", "i", id))
    return tkt_error(r, 409, "calendar_in_use", "teams or SLA policies use this calendar");
  if (tkt_db_exec(w, "DELETE FROM tkt_calendars WHERE id = ?1", "i", id) != SQLITE_OK)
    return tkt_error(r, 500, "internal", "the calendar could not be deleted");
  return tkt_reply_empty(r, 204);
}

/* PUT /api/v1/teams/{id}/calendar {calendar_id: id|null}: the team's business calendar (null: the default). */
static int team_calendar_put(struct destek_req *r)
{
  int64_t team_id = tkt_param_int(r, "id");
  cJSON *body;
  int rc;
  if ((rc = tkt_body(r, &body))) return rc;
  const cJSON *c = cJSON_GetObjectItemCaseSensitive(body, "calendar_id");
  if (!c || !(cJSON_IsNull(c) || (cJSON_IsNumber(c) && c->valuedouble >= 1 && c->valuedouble < 9e15)))
    return tkt_field_error(r, "invalid_field", "calendar_id", "calendar_id must be a calendar id or null");
  struct destek_db *w = tkt_db_write(r);
  if (!w) return tkt_status(r);
  if (!tkt_db_int(w, 0, "SELECT count(*) FROM tkt_teams WHERE id = ?1", "i", team_id))
    return tkt_error(r, 404, "not_found", "no such team");
  int64_t cal = cJSON_IsNull(c) ? 0 : (int64_t)c->valuedouble;
  if (cal && !tkt_db_int(w, 0, "SELECT count(*) FROM tkt_calendars WHERE id = ?1", "i", cal))
    return tkt_field_error(r, "invalid_field", "calendar_id", "no such calendar");
  rc = cal ? tkt_db_exec(w, "INSERT INTO tkt_team_calendars(team_id, calendar_id) VALUES (?1, ?2)"
                        " ON CONFLICT(team_id) DO UPDATE SET calendar_id = excluded.calendar_id", "ii", team_id, cal)
           : tkt_db_exec(w, "DELETE FROM tkt_team_calendars WHERE team_id = ?1", "i", team_id);
  if (rc != SQLITE_OK) return tkt_error(r, 500, "internal", "the team's calendar could not be saved");
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "team_id", (double)team_id);
  if (cal) cJSON_AddNumberToObject(o, "calendar_id", (double)cal);
  else cJSON_AddNullToObject(o, "calendar_id");
  return tkt_reply_json(r, 200, o);
}

/* ------------------------------------------------------------------------------------------------ policies */

static const char POLICY_COLUMNS[] =
  "SELECT id, name, position, active, priority, channel, tag, first_response_minutes, resolution_minutes,"
  " warn_percent, pause_on_hold, calendar_id, created_at, updated_at FROM tkt_sla_policies";

static cJSON *policy_json(struct destek_db *db, int64_t id)
{
  char sql[sizeof POLICY_COLUMNS + 32];
  snprintf(sql, sizeof sql, "%s WHERE id = ?1", POLICY_COLUMNS);
  sqlite3_stmt *st = tkt_db_prepare(db, sql);
  if (!st) return NULL;
  tkt_db_bind(st, "i", id);
  cJSON *o = NULL;
  if (sqlite3_step(st) == SQLITE_ROW) {
    static const char *const names[] = { "id", "name", "position", "active", "priority", "channel", "tag",
      "first_response_minutes", "resolution_minutes", "warn_percent", "pause_on_hold", "calendar_id", "created_at",
      "updated_at" };
    o = cJSON_CreateObject();
    for (int i = 0; i < 14; i++) {
      int t = sqlite3_column_type(st, i);
      if (i == 3 || i == 10) cJSON_AddBoolToObject(o, names[i], sqlite3_column_int(st, i));
      else if (t == SQLITE_NULL) cJSON_AddNullToObject(o, names[i]);
      else if (t == SQLITE_INTEGER) cJSON_AddNumberToObject(o, names[i], (double)sqlite3_column_int64(st, i));
      else cJSON_AddStringToObject(o, names[i], (const char *)sqlite3_column_text(st, i));
    }
  }
  tkt_db_done(st);
  return o;
}

/* A whole number in [lo, hi] or null (when nullable). 0 and *out (0 for null, unchanged when absent), or the 422. */
static int int_field(struct destek_req *r, const cJSON *obj, const char *name, int64_t lo, int64_t hi, int nullable,
                     int64_t *out)
{
  const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
  if (!it) return 0;
  if (nullable && cJSON_IsNull(it)) { *out = 0; return 0; }
  if (!cJSON_IsNumber(it) || it->valuedouble < (double)lo || it->valuedouble > (double)hi ||
      it->valuedouble != (double)(int64_t)it->valuedouble)
    return tkt_field_error(r, "invalid_field", name, "%s must be a whole number from %lld to %lld%s", name,
                            (long long)lo, (long long)hi, nullable ? ", or null" : "");
  *out = (int64_t)it->valuedouble;
  return 0;
}

/* A nullable enum/text condition: absent leaves *out, null clears it. */
static int cond_field(struct destek_req *r, const cJSON *obj, const char *name, const char *const *choices,
                      const char **out)
{
  const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
  if (!it) return 0;
  if (cJSON_IsNull(it)) { *out = NULL; return 0; }
  const char *v;
  int rc = choices ? tkt_field_enum(r, obj, name, DESTEK_REQUIRED, choices, &v)
                   : tkt_field_str(r, obj, name, DESTEK_REQUIRED, TKT_TAG_MAX, &v);
  if (rc) return rc;
  /* A tag condition compares with tickets' tags, which are kept lower-case (the body's string, ours to change). */
  if (!choices) tkt_tag_lower((char *)v);
  *out = v;
  return 0;
}

struct policy_fields {
  const char *name, *priority, *channel, *tag;
  int64_t position, frt, res, warn, calendar_id;
  int active, pause_on_hold;
};

static int policy_fields_read(struct destek_req *r, struct destek_db *w, const cJSON *body, int required,
                              struct policy_fields *f)
{
  int rc, b;
  const char *name;
  if ((rc = tkt_field_str(r, body, "name", required, 100, &name))) return rc;
  if (name) f->name = name;
  if ((rc = cond_field(r, body, "priority", TKT_PRIORITIES, &f->priority)) ||
      (rc = cond_field(r, body, "channel", TKT_CHANNELS, &f->channel)) ||
      (rc = cond_field(r, body, "tag", NULL, &f->tag)) ||
      (rc = int_field(r, body, "position", 0, 1000000, 0, &f->position)) ||
      (rc = int_field(r, body, "first_response_minutes", 1, 5256000, 1, &f->frt)) ||
      (rc = int_field(r, body, "resolution_minutes", 1, 5256000, 1, &f->res)) ||
      (rc = int_field(r, body, "warn_percent", 0, 100, 0, &f->warn)) ||
      (rc = int_field(r, body, "calendar_id", 1, INT64_MAX / 2, 1, &f->calendar_id)))
    return rc;
  if ((rc = tkt_field_bool(r, body, "active", DESTEK_OPTIONAL, &b))) return rc;
  if (b >= 0) f->active = b;
  if ((rc = tkt_field_bool(r, body, "pause_on_hold", DESTEK_OPTIONAL, &b))) return rc;
  if (b >= 0) f->pause_on_hold = b;
  if (!f->frt && !f->res)
    return tkt_field_error(r, "invalid_field", "first_response_minutes",
                            "a policy needs first_response_minutes or resolution_minutes");
  if (f->calendar_id && !tkt_db_int(w, 0, "SELECT count(*) FROM tkt_calendars WHERE id = ?1", "i", f->calendar_id))
    return tkt_field_error(r, "invalid_field", "calendar_id", "no such calendar");
  return 0;
}

static int policy_save(struct destek_req *r, struct destek_db *w, int64_t id, const struct policy_fields *f)
{
  char now[21];
  tkt_now(now);
  int rc;
  if (id == 0)
    rc = tkt_db_exec(w, "INSERT INTO tkt_sla_policies(name, position, active, priority, channel, tag,"
                    " first_response_minutes, resolution_minutes, warn_percent, pause_on_hold, calendar_id, created_at,"
                    " updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, nullif(?7, 0), nullif(?8, 0), ?9, ?10,"
                    " nullif(?11, 0), ?12, ?12)", "tiitttiiiiit", f->name, f->position, (int64_t)f->active,
                 f->priority, f->channel, f->tag, f->frt, f->res, f->warn, (int64_t)f->pause_on_hold, f->calendar_id,
                 now);
  else
    rc = tkt_db_exec(w, "UPDATE tkt_sla_policies SET name = ?2, position = ?3, active = ?4, priority = ?5, channel = ?6,"
                    " tag = ?7, first_response_minutes = nullif(?8, 0), resolution_minutes = nullif(?9, 0),"
                    " warn_percent = ?10, pause_on_hold = ?11, calendar_id = nullif(?12, 0), updated_at = ?13"
                    " WHERE id = ?1", "itiitttiiiiit", id, f->name, f->position, (int64_t)f->active, f->priority,
                 f->channel, f->tag, f->frt, f->res, f->warn, (int64_t)f->pause_on_hold, f->calendar_id, now);
  if (rc != SQLITE_OK) return tkt_error(r, 500, "internal", "the policy could not be saved");
  return 0;
}

static const struct tkt_admin_table POLICY_TABLE = {
  "SLA policy", policy_json,
  "SELECT id FROM tkt_sla_policies ORDER BY position, id LIMIT 1000",
  "SELECT count(*) FROM tkt_sla_policies WHERE id = ?1",
  "DELETE FROM tkt_sla_policies WHERE id = ?1",
};

static int policy_list(struct destek_req *r) { return tkt_admin_list(r, &POLICY_TABLE); }

static int policy_create(struct destek_req *r)
{
  cJSON *body;
  int rc;
  if ((rc = tkt_body(r, &body))) return rc;
  struct destek_db *w = tkt_db_write(r);
  if (!w) return tkt_status(r);
  struct policy_fields f = { NULL, NULL, NULL, NULL, 0, 0, 0, 80, 0, 1, 0 };
  f.position = tkt_db_int(w, 0, "SELECT coalesce(max(position), 0) + 1 FROM tkt_sla_policies", "");
  if ((rc = policy_fields_read(r, w, body, DESTEK_REQUIRED, &f)) || (rc = policy_save(r, w, 0, &f))) return rc;
  return tkt_admin_saved(r, &POLICY_TABLE, 0);
}

static int policy_get(struct destek_req *r) { return tkt_admin_get(r, &POLICY_TABLE); }

static int policy_update(struct destek_req *r)
{
  int64_t id = tkt_param_int(r, "id");
  cJSON *body;
  int rc;
  if ((rc = tkt_body(r, &body))) return rc;
  struct destek_db *w = tkt_db_write(r);
  if (!w) return tkt_status(r);
  cJSON *old = policy_json(w, id);
  if (!old) return tkt_error(r, 404, "not_found", "no such SLA policy");
#define S(k) (cJSON_IsString(cJSON_GetObjectItem(old, k)) ? cJSON_GetObjectItem(old, k)->valuestring : NULL)
#define N(k) (cJSON_IsNumber(cJSON_GetObjectItem(old, k)) ? (int64_t)cJSON_GetObjectItem(old, k)->valuedouble : 0)
  struct policy_fields f = { S("name"), S("priority"), S("channel"), S("tag"), N("position"),
                             N("first_response_minutes"), N("resolution_minutes"), N("warn_percent"), N("calendar_id"),
                             cJSON_IsTrue(cJSON_GetObjectItem(old, "active")),
                             cJSON_IsTrue(cJSON_GetObjectItem(old, "pause_on_hold")) };
#undef S
#undef N
  rc = policy_fields_read(r, w, body, DESTEK_OPTIONAL, &f);
  if (!rc) rc = policy_save(r, w, id, &f);
  cJSON_Delete(old);
  return rc ? rc : tkt_admin_saved(r, &POLICY_TABLE, id);
}

static int policy_delete(struct destek_req *r) { return tkt_admin_delete(r, &POLICY_TABLE); }

/* ------------------------------------------------------------------------------------------------ evaluation */

static const char *const STATE_NAMES[] = { "ok", "warning", "breached" };
static const char *const CLOCK_NAMES[] = { "running", "paused", "stopped" };

static int status_index(const char *s)
{
  for (int i = 0; TKT_STATUSES[i]; i++) if (!strcmp(TKT_STATUSES[i], s)) return i;
  return -1;
}

/* Appends (now, status) to the ticket's SLA timeline, never before its last entry. */
static int timeline_add(struct destek_db *w, int64_t ticket_id, const char *status)
{
  int64_t now = tkt_sla_now();
  int64_t last = tkt_db_int(w, 0, "SELECT coalesce(max(at), 0) FROM tkt_sla_timeline WHERE ticket_id = ?1", "i", ticket_id);
  if (last > now) now = last;
  return tkt_db_exec(w, "INSERT INTO tkt_sla_timeline(ticket_id, at, status) VALUES (?1, ?2, ?3)", "iit", ticket_id, now,
                 status) == SQLITE_OK ? 0 : -1;
}

/* The ticket's timeline; a ticket older than the SLA tables gets one from its creation and current status. */
static int timeline_load(struct destek_db *w, int64_t ticket_id, struct sla_event **out, size_t *n)
{
  if (!tkt_db_int(w, 0, "SELECT count(*) FROM tkt_sla_timeline WHERE ticket_id = ?1", "i", ticket_id) &&
      tkt_db_exec(w, "INSERT INTO tkt_sla_timeline(ticket_id, at, status) SELECT id, CAST(strftime('%s', created_at) AS"
                 " INTEGER), status FROM tkt_tickets WHERE id = ?1", "i", ticket_id) != SQLITE_OK)
    return -1;
  sqlite3_stmt *st = tkt_db_prepare(w, "SELECT at, status FROM tkt_sla_timeline WHERE ticket_id = ?1 ORDER BY id");
  if (!st) return -1;
  tkt_db_bind(st, "i", ticket_id);
  size_t cap = 8;
  *n = 0;
  *out = malloc(cap * sizeof **out);
  if (!*out) abort();
  while (sqlite3_step(st) == SQLITE_ROW) {
    int s = status_index((const char *)sqlite3_column_text(st, 1));
    if (s < 0) continue;
    if (*n == cap && !(*out = realloc(*out, (cap *= 2) * sizeof **out))) abort();
    (*out)[(*n)++] = (struct sla_event){ sqlite3_column_int64(st, 0), (enum sla_status)s };
  }
  tkt_db_done(st);
  return 0;
}

struct target_eval {
  int64_t minutes;          /* 0: no such target */
  struct sla_result res;
  int warned, breached;     /* events already emitted */
};

static int emit_sla(struct destek_req *r, const char *event, int64_t ticket_id, const char *target,
                    const struct target_eval *t, int64_t policy_id)
{
  cJSON *x = cJSON_CreateObject();
  cJSON *s = cJSON_AddObjectToObject(x, "sla");
  char buf[21];
  cJSON_AddStringToObject(s, "target", target);
  if (policy_id) cJSON_AddNumberToObject(s, "policy_id", (double)policy_id);
  else cJSON_AddNullToObject(s, "policy_id");
  cJSON_AddNumberToObject(s, "target_minutes", (double)t->minutes);
  if (t->res.warn_at != SLA_NEVER) { iso(t->res.warn_at, buf); cJSON_AddStringToObject(s, "warn_at", buf); }
  if (t->res.due_at != SLA_NEVER) { iso(t->res.due_at, buf); cJSON_AddStringToObject(s, "due_at", buf); }
  return tkt_emit(r, event, ticket_id, x);
}

/* Applies the sla.targets Lua policy, when a plugin defines one: it gets (ticket, {first_response_minutes,
 * resolution_minutes}) and may return a table replacing either (a positive number) or dropping it (false). */
static void lua_targets(struct destek_req *r, struct destek_db *w, int64_t ticket_id, int64_t *frt, int64_t *res)
{
  if (!tkt_host->has_policy("sla.targets")) return;   /* none by default: no ticket JSON to build */
  cJSON *args = cJSON_CreateArray();
  cJSON *t = tkt_ticket_json(w, ticket_id, 0);
  cJSON_AddItemToArray(args, t ? t : cJSON_CreateObject());
  cJSON *cur = cJSON_CreateObject();
  if (*frt) cJSON_AddNumberToObject(cur, "first_response_minutes", (double)*frt);
  if (*res) cJSON_AddNumberToObject(cur, "resolution_minutes", (double)*res);
  cJSON_AddItemToArray(args, cur);
  cJSON *out = tkt_decide_new(r, "sla.targets", args);
  cJSON_Delete(args);
  const cJSON *o = out ? cJSON_GetArrayItem(out, 0) : NULL;
  if (cJSON_IsObject(o)) {
    const char *names[2] = { "first_response_minutes", "resolution_minutes" };
    int64_t *vals[2] = { frt, res };
    for (int i = 0; i < 2; i++) {
      const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, names[i]);
      if (cJSON_IsFalse(v)) *vals[i] = 0;
      else if (cJSON_IsNumber(v) && v->valuedouble >= 1 && v->valuedouble <= 5256000) *vals[i] = (int64_t)v->valuedouble;
    }
  }
  cJSON_Delete(out);
}

int tkt_sla_update(struct destek_req *r, struct destek_db *w, int64_t ticket_id)
{
  int64_t now = tkt_sla_now();
  sqlite3_stmt *st = tkt_db_prepare(w, "SELECT priority, channel, coalesce(team_id, 0) FROM tkt_tickets WHERE id = ?1");
  if (!st) return tkt_error(r, 500, "internal", "internal error");
  tkt_db_bind(st, "i", ticket_id);
  if (sqlite3_step(st) != SQLITE_ROW) { tkt_db_done(st); return 0; }
  char priority[16], channel[16];
  snprintf(priority, sizeof priority, "%s", (const char *)sqlite3_column_text(st, 0));
  snprintf(channel, sizeof channel, "%s", (const char *)sqlite3_column_text(st, 1));
  int64_t team_id = sqlite3_column_int64(st, 2);
  tkt_db_done(st);

  int64_t policy_id = 0, frt = 0, res = 0, warn = 80, pause_on_hold = 0, calendar_id = 0;
  st = tkt_db_prepare(w, "SELECT id, coalesce(first_response_minutes, 0), coalesce(resolution_minutes, 0), warn_percent,"
                     " pause_on_hold, coalesce(calendar_id, 0) FROM tkt_sla_policies p WHERE active = 1"
                     " AND (priority IS NULL OR priority = ?2) AND (channel IS NULL OR channel = ?3)"
                     " AND (tag IS NULL OR EXISTS (SELECT 1 FROM tkt_ticket_tags g WHERE g.ticket_id = ?1"
                     " AND g.tag = p.tag)) ORDER BY position, id LIMIT 1");
  if (!st) return tkt_error(r, 500, "internal", "internal error");
  tkt_db_bind(st, "itt", ticket_id, priority, channel);
  if (sqlite3_step(st) == SQLITE_ROW) {
    policy_id = sqlite3_column_int64(st, 0);
    frt = sqlite3_column_int64(st, 1);
    res = sqlite3_column_int64(st, 2);
    warn = sqlite3_column_int64(st, 3);
    pause_on_hold = sqlite3_column_int64(st, 4);
    calendar_id = sqlite3_column_int64(st, 5);
  }
  tkt_db_done(st);
  lua_targets(r, w, ticket_id, &frt, &res);
  if (!calendar_id && team_id)
    calendar_id = tkt_db_int(w, 0, "SELECT calendar_id FROM tkt_team_calendars WHERE team_id = ?1", "i", team_id);
  if (!calendar_id) calendar_id = tkt_calendar_default_id(w);

  if (tkt_db_exec(w, "INSERT OR IGNORE INTO tkt_sla(ticket_id) VALUES (?1)", "i", ticket_id) != SQLITE_OK)
    return tkt_error(r, 500, "internal", "internal error");
  struct target_eval t[2] = { { frt, { 0 }, 0, 0 }, { res, { 0 }, 0, 0 } };
  int64_t stop = SLA_NEVER;
  st = tkt_db_prepare(w, "SELECT coalesce(first_response_minutes, 0), coalesce(resolution_minutes, 0), frt_warned,"
                     " frt_breached, res_warned, res_breached, first_response_stop FROM tkt_sla WHERE ticket_id = ?1");
  if (!st) return tkt_error(r, 500, "internal", "internal error");
  tkt_db_bind(st, "i", ticket_id);
  if (sqlite3_step(st) == SQLITE_ROW) {
    /* A changed target starts its events afresh. */
    if (sqlite3_column_int64(st, 0) == frt) { t[0].warned = sqlite3_column_int(st, 2); t[0].breached = sqlite3_column_int(st, 3); }
    if (sqlite3_column_int64(st, 1) == res) { t[1].warned = sqlite3_column_int(st, 4); t[1].breached = sqlite3_column_int(st, 5); }
    if (sqlite3_column_type(st, 6) != SQLITE_NULL) stop = sqlite3_column_int64(st, 6);
  }
  tkt_db_done(st);

  struct sla_calendar *cal = NULL;
  if ((frt || res) && calendar_id) {
    char err[SLA_ERR_MAX] = "";
    cal = tkt_calendar_load_new(w, calendar_id, err);
    if (!cal) tkt_log(DESTEK_LOG_WARN, "ticket %lld: calendar %lld unusable (%s): counting 24/7",
                            (long long)ticket_id, (long long)calendar_id, err);
  }
  struct sla_event *events = NULL;
  size_t n = 0;
  if ((frt || res) && timeline_load(w, ticket_id, &events, &n) != 0) {
    sla_calendar_free(cal);
    return tkt_error(r, 500, "internal", "internal error");
  }
  int64_t next = SLA_NEVER;
  int rc = 0;
  const char *target_names[2] = { "first_response", "resolution" };
  for (int i = 0; i < 2; i++) {
    if (!t[i].minutes) continue;
    struct sla_target tg = { t[i].minutes * 60, (int)warn * 10,
                             SLA_PAUSE_DEFAULT | (pause_on_hold ? SLA_PAUSE(SLA_ON_HOLD) : 0u) };
    if (sla_evaluate(cal, events, n, i == 0 ? stop : SLA_NEVER, now, &tg, &t[i].res) != 0) {
      tkt_log(DESTEK_LOG_ERROR, "ticket %lld: its SLA timeline does not evaluate", (long long)ticket_id);
      t[i].minutes = 0;
      continue;
    }
    const struct sla_result *s = &t[i].res;
    if (s->state == SLA_WARNING && !t[i].warned && !rc) rc = emit_sla(r, "sla.warning", ticket_id, target_names[i], &t[i], policy_id);
    if (s->state == SLA_BREACHED && !t[i].breached && !rc)
      rc = emit_sla(r, "sla.breached", ticket_id, target_names[i], &t[i], policy_id);
    t[i].warned = s->state != SLA_OK;
    t[i].breached = s->state == SLA_BREACHED;
    if (s->clock == SLA_RUNNING) {
      if (s->state == SLA_OK && s->warn_at != SLA_NEVER && s->warn_at > now && s->warn_at < next) next = s->warn_at;
      if (s->state != SLA_BREACHED && s->due_at != SLA_NEVER && s->due_at < next) next = s->due_at;
    }
  }
  free(events);
  sla_calendar_free(cal);
  if (rc) return rc;

#define INST(x) ((x) == SLA_NEVER ? (int64_t)-1 : (x))
  int64_t nx = next == SLA_NEVER ? -1 : next;
  if (tkt_db_exec(w, "UPDATE tkt_sla SET policy_id = nullif(?2, 0), calendar_id = nullif(?3, 0),"
                 " first_response_minutes = nullif(?4, 0), resolution_minutes = nullif(?5, 0), warn_percent = ?6,"
                 " pause_on_hold = ?7,"
                 " frt_state = CASE WHEN ?4 THEN ?8 END, frt_clock = CASE WHEN ?4 THEN ?9 END,"
                 " frt_warn_at = CASE WHEN ?4 THEN nullif(?10, -1) END, frt_due_at = CASE WHEN ?4 THEN nullif(?11, -1) END,"
                 " frt_elapsed = CASE WHEN ?4 THEN ?12 END, frt_warned = ?13, frt_breached = ?14,"
                 " res_state = CASE WHEN ?5 THEN ?15 END, res_clock = CASE WHEN ?5 THEN ?16 END,"
                 " res_warn_at = CASE WHEN ?5 THEN nullif(?17, -1) END, res_due_at = CASE WHEN ?5 THEN nullif(?18, -1) END,"
                 " res_elapsed = CASE WHEN ?5 THEN ?19 END, res_warned = ?20, res_breached = ?21,"
                 " next_check_at = nullif(?22, -1), evaluated_at = ?23 WHERE ticket_id = ?1",
              "iiiiiiittiiiiittiiiiiii", ticket_id, policy_id, calendar_id, t[0].minutes, t[1].minutes, warn,
              pause_on_hold, STATE_NAMES[t[0].res.state], CLOCK_NAMES[t[0].res.clock], INST(t[0].res.warn_at),
              INST(t[0].res.due_at), t[0].res.elapsed, (int64_t)t[0].warned, (int64_t)t[0].breached,
              STATE_NAMES[t[1].res.state], CLOCK_NAMES[t[1].res.clock], INST(t[1].res.warn_at), INST(t[1].res.due_at),
              t[1].res.elapsed, (int64_t)t[1].warned, (int64_t)t[1].breached, nx, now) != SQLITE_OK)
    return tkt_error(r, 500, "internal", "the ticket's SLA could not be saved");
#undef INST
  char key[24];
  snprintf(key, sizeof key, "%lld", (long long)ticket_id);
  int trc = next == SLA_NEVER ? tkt_timer_cancel(r, "ticketing.sla", key)
                              : tkt_timer_at(r, "ticketing.sla", key, timer_due(next), NULL);
  if (trc != 0) return tkt_error(r, 500, "internal", "the ticket's SLA timer could not be set");
  return 0;
}

/* ------------------------------------------------------------------------------------------------ JSON view */

static void write_target(struct jbuf *b, sqlite3_stmt *st, int col, int64_t now)
{
  /* columns from col: minutes, state, clock, warn_at, due_at, elapsed */
  if (sqlite3_column_type(st, col) == SQLITE_NULL) { jbuf_null(b); return; }
  const char *state = (const char *)sqlite3_column_text(st, col + 1);
  const char *clock = (const char *)sqlite3_column_text(st, col + 2);
  int has_warn = sqlite3_column_type(st, col + 3) != SQLITE_NULL, has_due = sqlite3_column_type(st, col + 4) != SQLITE_NULL;
  int64_t warn_at = sqlite3_column_int64(st, col + 3), due_at = sqlite3_column_int64(st, col + 4);
  /* The stored state is as of the last evaluation; a running clock has moved on since. */
  if (clock && !strcmp(clock, "running")) {
    if (has_due && now >= due_at) state = "breached";
    else if (has_warn && now >= warn_at && (!state || strcmp(state, "breached"))) state = "warning";
  }
  char buf[21];
  JBUF_LIT(b, "{\"target_minutes\":");
  jbuf_int(b, sqlite3_column_int64(st, col));
  JBUF_LIT(b, ",\"state\":");
  jbuf_str(b, state ? state : "ok");
  JBUF_LIT(b, ",\"clock\":");
  jbuf_str(b, clock ? clock : "running");
  JBUF_LIT(b, ",\"warn_at\":");
  if (has_warn) { iso(warn_at, buf); jbuf_str(b, buf); } else jbuf_null(b);
  JBUF_LIT(b, ",\"due_at\":");
  if (has_due) { iso(due_at, buf); jbuf_str(b, buf); } else jbuf_null(b);
  JBUF_LIT(b, ",\"elapsed_minutes\":");
  jbuf_int(b, sqlite3_column_int64(st, col + 5) / 60);
  JBUF_LIT(b, "}");
}

void tkt_sla_write(struct jbuf *b, sqlite3_stmt *st, int col, int64_t now)
{
  if (sqlite3_column_type(st, col + 2) == SQLITE_NULL && sqlite3_column_type(st, col + 8) == SQLITE_NULL) {
    jbuf_null(b);
    return;
  }
  JBUF_LIT(b, "{\"policy_id\":");
  if (sqlite3_column_type(st, col) == SQLITE_NULL) jbuf_null(b); else jbuf_int(b, sqlite3_column_int64(st, col));
  JBUF_LIT(b, ",\"calendar_id\":");
  if (sqlite3_column_type(st, col + 1) == SQLITE_NULL) jbuf_null(b); else jbuf_int(b, sqlite3_column_int64(st, col + 1));
  JBUF_LIT(b, ",\"first_response\":");
  write_target(b, st, col + 2, now);
  JBUF_LIT(b, ",\"resolution\":");
  write_target(b, st, col + 8, now);
  JBUF_LIT(b, "}");
}

cJSON *tkt_sla_json(struct destek_db *db, int64_t ticket_id)
{
  sqlite3_stmt *st = tkt_db_prepare(db, "SELECT " TKT_SLA_COLUMNS " FROM tkt_sla s WHERE s.ticket_id = ?1");
  if (!st) return cJSON_CreateNull();
  tkt_db_bind(st, "i", ticket_id);
  cJSON *o = NULL;
  if (sqlite3_step(st) == SQLITE_ROW) {
    struct jbuf b;
    jbuf_init(&b, 512);
    tkt_sla_write(&b, st, 0, tkt_sla_now());
    char *text = jbuf_take(&b, NULL);
    o = cJSON_Parse(text);
    free(text);
  }
  tkt_db_done(st);
  return o ? o : cJSON_CreateNull();
}

/* ------------------------------------------------------------------------------------------------ hooks */

static int64_t event_ticket_id(const struct destek_event *ev)
{
  const cJSON *id = cJSON_GetObjectItemCaseSensitive(ev->payload, "id");
  return cJSON_IsNumber(id) ? (int64_t)id->valuedouble : 0;
}

static int veto_on_error(struct destek_req *call, int rc, char *err, size_t errlen)
{
  if (rc) snprintf(err, errlen, "the ticket's SLA could not be updated");
  (void)call;
  return rc;
}

static int on_ticket_created(struct destek_req *call, const struct destek_event *ev, void *ud, char *err, size_t errlen)
{
  (void)ud;
  int64_t id = event_ticket_id(ev);
  struct destek_db *w = tkt_db_write(call);
  if (!id || !w) return 0;
  if (!tkt_db_int(w, 0, "SELECT count(*) FROM tkt_sla_timeline WHERE ticket_id = ?1", "i", id) &&
      timeline_add(w, id, "new") != 0)
    return veto_on_error(call, -1, err, errlen);
  return veto_on_error(call, tkt_sla_update(call, w, id), err, errlen);
}

static int on_ticket_updated(struct destek_req *call, const struct destek_event *ev, void *ud, char *err, size_t errlen)
{
  (void)ud;
  int64_t id = event_ticket_id(ev);
  struct destek_db *w = tkt_db_write(call);
  if (!id || !w) return 0;
  const cJSON *changes = cJSON_GetObjectItemCaseSensitive(ev->payload, "changes");
  const cJSON *status = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(changes, "status"), "new");
  if (cJSON_IsString(status)) {
    /* A ticket older than the SLA tables gets its timeline seeded before the change is added. */
    if (!tkt_db_int(w, 0, "SELECT count(*) FROM tkt_sla_timeline WHERE ticket_id = ?1", "i", id)) {
      struct sla_event *e = NULL;
      size_t n;
      if (timeline_load(w, id, &e, &n) != 0) return veto_on_error(call, -1, err, errlen);
      free(e);
    }
    if (timeline_add(w, id, status->valuestring) != 0) return veto_on_error(call, -1, err, errlen);
  }
  return veto_on_error(call, tkt_sla_update(call, w, id), err, errlen);
}

static int on_message_added(struct destek_req *call, const struct destek_event *ev, void *ud, char *err, size_t errlen)
{
  (void)ud;
  int64_t id = event_ticket_id(ev);
  struct destek_db *w = tkt_db_write(call);
  const cJSON *kind = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(ev->payload, "message"), "kind");
  const cJSON *author = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(ev->payload, "message"),
                                                        "author_user_id");
  /* Only an agent's reply answers the customer: an automatic one (a trigger's) does not stop the clock. */
  if (!id || !w || !cJSON_IsString(kind) || strcmp(kind->valuestring, "reply") || !cJSON_IsNumber(author)) return 0;
  if (tkt_db_exec(w, "INSERT OR IGNORE INTO tkt_sla(ticket_id) VALUES (?1)", "i", id) != SQLITE_OK ||
      tkt_db_exec(w, "UPDATE tkt_sla SET first_response_stop = coalesce(first_response_stop, ?2) WHERE ticket_id = ?1",
              "ii", id, tkt_sla_now()) != SQLITE_OK)
    return veto_on_error(call, -1, err, errlen);
  return veto_on_error(call, tkt_sla_update(call, w, id), err, errlen);
}

static int on_timer(struct destek_req *call, const char *key, const cJSON *payload, void *ud)
{
  (void)payload;
  (void)ud;
  int64_t id = strtoll(key, NULL, 10);
  struct destek_db *w = tkt_db_write(call);
  if (id <= 0 || !w) return -1;
  return tkt_sla_update(call, w, id) ? -1 : 0;
}

/* ------------------------------------------------------------------------------------------------ test clock */

/* POST /api/v1/test/clock {"now": "2026-10-30T07:00:00Z" | unix seconds | null}: sets the fake clock (null: the
 * real one) and moves every SLA timer so that those now due fire at once. Registered only under
 * DESTEK_TEST_CLOCK=1. */
static int test_clock_set(struct destek_req *r)
{
  cJSON *body;
  int rc;
  if ((rc = tkt_body(r, &body))) return rc;
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, "now");
  int64_t t = -1;
  if (cJSON_IsNull(v)) t = 0;
  else if (cJSON_IsString(v)) t = parse_iso(v->valuestring);
  else if (cJSON_IsNumber(v) && v->valuedouble >= 1 && v->valuedouble < 9e15) t = (int64_t)v->valuedouble;
  if (t < 0) return tkt_field_error(r, "invalid_field", "now", "now must be an ISO UTC time, unix seconds or null");
  atomic_store(&fake_now, t);
  struct destek_db *w = tkt_db_write(r);
  if (!w) return tkt_status(r);
  sqlite3_stmt *st = tkt_db_prepare(w, "SELECT ticket_id, next_check_at FROM tkt_sla WHERE next_check_at IS NOT NULL");
  if (!st) return tkt_error(r, 500, "internal", "internal error");
  int64_t (*due)[2] = NULL;
  size_t n = 0, cap = 0;
  while (sqlite3_step(st) == SQLITE_ROW) {
    if (n == cap && !(due = realloc(due, (cap = cap ? cap * 2 : 64) * sizeof *due))) abort();
    due[n][0] = sqlite3_column_int64(st, 0);
    due[n++][1] = sqlite3_column_int64(st, 1);
  }
  tkt_db_done(st);
  for (size_t i = 0; i < n && !rc; i++) {
    char key[24];
    snprintf(key, sizeof key, "%lld", (long long)due[i][0]);
    if (tkt_timer_at(r, "ticketing.sla", key, timer_due(due[i][1]), NULL) != 0)
      rc = tkt_error(r, 500, "internal", "a timer could not be moved");
  }
  free(due);
  if (rc) return rc;
  cJSON *o = cJSON_CreateObject();
  char buf[21];
  iso(tkt_sla_now(), buf);
  cJSON_AddStringToObject(o, "now", buf);
  return tkt_reply_json(r, 200, o);
}

static const struct destek_route test_routes[] = {
  { "POST", "/api/v1/test/clock", test_clock_set, DESTEK_ADMIN, NULL },
  { 0 }
};

/* ------------------------------------------------------------------------------------------------ registration */

const struct destek_route tkt_sla_routes[] = {
  { "GET",    "/api/v1/calendars",           calendar_list,     DESTEK_AGENT, NULL },
  { "POST",   "/api/v1/calendars",           calendar_create,   DESTEK_ADMIN, NULL },
  { "GET",    "/api/v1/calendars/{id}",      calendar_get,      DESTEK_AGENT, "id:int" },
  { "PATCH",  "/api/v1/calendars/{id}",      calendar_update,   DESTEK_ADMIN, "id:int" },
  { "DELETE", "/api/v1/calendars/{id}",      calendar_delete,   DESTEK_ADMIN, "id:int" },
  { "PUT",    "/api/v1/teams/{id}/calendar", team_calendar_put, DESTEK_ADMIN, "id:int" },
  { "GET",    "/api/v1/sla-policies",        policy_list,       DESTEK_AGENT, NULL },
  { "POST",   "/api/v1/sla-policies",        policy_create,     DESTEK_ADMIN, NULL },
  { "GET",    "/api/v1/sla-policies/{id}",   policy_get,        DESTEK_AGENT, "id:int" },
  { "PATCH",  "/api/v1/sla-policies/{id}",   policy_update,     DESTEK_ADMIN, "id:int" },
  { "DELETE", "/api/v1/sla-policies/{id}",   policy_delete,     DESTEK_ADMIN, "id:int" },
  { 0 }
};

int tkt_sla_init(const struct destek_host *host)
{
  const char *tc = getenv("DESTEK_TEST_CLOCK");
  test_clock_on = tc && !strcmp(tc, "1");
  if (host->routes(host, tkt_sla_routes) != 0 ||
      host->on(host, "ticket.created", DESTEK_SYNC, on_ticket_created, NULL) != 0 ||
      host->on(host, "ticket.updated", DESTEK_SYNC, on_ticket_updated, NULL) != 0 ||
      host->on(host, "message.added", DESTEK_SYNC, on_message_added, NULL) != 0 ||
      host->timers(host, "ticketing.sla", on_timer, NULL) != 0)
    return -1;
  if (test_clock_on) {
    host->log(host, DESTEK_LOG_WARN, "DESTEK_TEST_CLOCK=1: the SLA clock can be set through POST /api/v1/test/clock");
    if (host->routes(host, test_routes) != 0) return -1;
  }
  return 0;
}
