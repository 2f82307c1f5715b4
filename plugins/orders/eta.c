/* ETAs: a transit-time table in business days per carrier and destination province (orders_eta; '*' for any), the
 * days carriers do not count (orders_holidays: Turkish public holidays, arife half days as whole days), and the
 * admin API that edits both. The expected delivery date of a shipment is its shipped date in Istanbul plus the
 * table's days, counting Monday to Friday only (orders.eta_saturday counts Saturdays too) and skipping holidays.
 * The migration's figures are defaults for the merchant to change, not measured transit times. */
#include "orders.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "destek_util.h"

static const struct destek_setting eta_settings[] = {
  { "orders.eta_saturday", DESTEK_SETTING_BOOL, "false", 0,
    "Count Saturdays as business days in ETAs (many Turkish carriers deliver on Saturdays)" },
  { 0 }
};

void ord_local_date(int64_t t, char out[11])
{
  time_t lt = (time_t)(t + 3 * 3600);      /* Europe/Istanbul: UTC+3 all year since 2016 */
  struct tm tm;
  gmtime_r(&lt, &tm);
  strftime(out, 11, "%Y-%m-%d", &tm);
}

static int parse_day(const char *day, struct tm *tm)
{
  memset(tm, 0, sizeof *tm);
  const char *end = day ? strptime(day, "%Y-%m-%d", tm) : NULL;
  if (!end || *end || strlen(day) != 10) return -1;
  tm->tm_hour = 12;
  return 0;
}

static int is_business(struct destek_db *db, const struct tm *tm, const char *day, int saturday)
{
  if (tm->tm_wday == 0 || (tm->tm_wday == 6 && !saturday)) return 0;
  return !ord_db_int(db, 0, "SELECT count(*) FROM orders_holidays WHERE day = ?1", "t", day);
}

void ord_add_business_days(struct destek_db *db, const char *day, int n, char out[11])
{
  struct tm tm;
  if (parse_day(day, &tm) != 0) { snprintf(out, 11, "%s", day ? day : ""); return; }
  time_t t = timegm(&tm);
  int saturday = ord_host->setting_bool("orders.eta_saturday", 0);
  /* The holidays of the next weeks in one read (a shipment's page asks this for every parcel): n business days are
   * within 2n + 21 calendar days unless the calendar is crowded, and past that window each day is asked alone. */
  char window_end[11], holidays[48][11];
  int n_holidays = 0, span = 2 * (n > 0 ? n : 0) + 21;
  time_t end_t = t + (time_t)span * 86400;
  struct tm end_tm;
  gmtime_r(&end_t, &end_tm);
  strftime(window_end, sizeof window_end, "%Y-%m-%d", &end_tm);
  sqlite3_stmt *st = n > 0 ? ord_db_prepare(db, "SELECT day FROM orders_holidays WHERE day > ?1 AND day <= ?2"
                                                " ORDER BY day LIMIT 48") : NULL;
  if (st) {
    ord_db_bind(st, "tt", day, window_end);
    while (n_holidays < 48 && sqlite3_step(st) == SQLITE_ROW)
      snprintf(holidays[n_holidays++], 11, "%s", (const char *)sqlite3_column_text(st, 0));
    ord_db_done(st);
  } else if (n > 0) {
    window_end[0] = 0;            /* no window: every day is asked */
  }
  if (n_holidays == 48) window_end[0] = 0;
  char d[11];
  for (int guard = 0; n > 0 && guard < 400; guard++) {
    t += 86400;
    struct tm cur;
    gmtime_r(&t, &cur);
    strftime(d, sizeof d, "%Y-%m-%d", &cur);
    int business;
    if (window_end[0] && strcmp(d, window_end) <= 0) {
      business = cur.tm_wday != 0 && (cur.tm_wday != 6 || saturday);
      for (int i = 0; business && i < n_holidays; i++) business = strcmp(holidays[i], d) != 0;
    } else {
      business = is_business(db, &cur, d, saturday);
    }
    if (business) n--;
  }
  struct tm res;
  gmtime_r(&t, &res);
  strftime(out, 11, "%Y-%m-%d", &res);
}

static int eta_days(struct destek_db *db, const char *carrier, const char *province)
{
  /* The most specific row wins: (carrier, province), (carrier, *), (*, province), (*, *). Four key lookups, the
   * first found wins (an ORDER BY over the matches would build a temporary B-tree for every ETA: most of a tracking
   * page's time). */
  return (int)ord_db_int(db, 2,
    "SELECT coalesce((SELECT days FROM orders_eta WHERE carrier = ?1 AND province = ?2),"
    " (SELECT days FROM orders_eta WHERE carrier = ?1 AND province = '*'),"
    " (SELECT days FROM orders_eta WHERE carrier = '*' AND province = ?2),"
    " (SELECT days FROM orders_eta WHERE carrier = '*' AND province = '*'))",
    "tt", carrier ? carrier : "*", province ? province : "*");
}

int ord_eta_date(struct destek_db *db, const char *carrier, const char *province, const char *shipped_at, char out[11])
{
  char utc[21];
  struct tm tm = { 0 };
  if (!shipped_at || ord_time_utc(shipped_at, utc) != 0 || !strptime(utc, "%Y-%m-%dT%H:%M:%SZ", &tm)) return -1;
  char day[11];
  ord_local_date((int64_t)timegm(&tm), day);
  ord_add_business_days(db, day, eta_days(db, carrier, province), out);
  return 0;
}

void ord_shipment_extras(struct destek_db *db, int64_t order_id, int64_t shipment_id, cJSON *s)
{
  const char *carrier = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "carrier"));
  const char *shipped = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "shipped_at"));
  char *province = ord_db_text_new(db, "SELECT ship_province FROM orders_orders WHERE id = ?1", "i", order_id);
  char eta[11];
  if (ord_eta_date(db, carrier, province, shipped, eta) == 0) cJSON_AddStringToObject(s, "eta", eta);
  else cJSON_AddNullToObject(s, "eta");
  free(province);
  cJSON *t = ord_tracking_json(db, shipment_id);
  if (t) cJSON_AddItemToObject(s, "tracking", t);
  else cJSON_AddNullToObject(s, "tracking");
}

/* ------------------------------------------------------------------------------------------------ routes */

static int province_ok(const char *p)
{
  if (!strcmp(p, "*")) return 1;
  for (int i = 0; i < 81; i++) if (!strcmp(ORD_TR_PROVINCES[i], p)) return 1;
  return 0;
}

/* GET /api/v1/order-eta -> {items: [{carrier, province, days}], provinces: [81 names], default_days} */
static int eta_list(struct destek_req *r)
{
  struct destek_db *db = ord_db_read(r);
  sqlite3_stmt *st = ord_db_prepare(db, "SELECT carrier, province, days, updated_at FROM orders_eta"
                                        " ORDER BY carrier <> '*', carrier, province <> '*', province");
  if (!st) return ord_error(r, 500, "internal", "the ETA table could not be read");
  cJSON *items = cJSON_CreateArray();
  while (sqlite3_step(st) == SQLITE_ROW) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "carrier", (const char *)sqlite3_column_text(st, 0));
    cJSON_AddStringToObject(o, "province", (const char *)sqlite3_column_text(st, 1));
    cJSON_AddNumberToObject(o, "days", sqlite3_column_int(st, 2));
    if (sqlite3_column_type(st, 3) == SQLITE_NULL) cJSON_AddNullToObject(o, "updated_at");
    else cJSON_AddStringToObject(o, "updated_at", (const char *)sqlite3_column_text(st, 3));
    cJSON_AddItemToArray(items, o);
  }
  ord_db_done(st);
  cJSON *o = ord_list_new(items, 0);
  cJSON_AddNumberToObject(o, "default_days", eta_days(db, "*", "*"));
  cJSON_AddBoolToObject(o, "saturday", ord_host->setting_bool("orders.eta_saturday", 0));
  cJSON *prov = cJSON_AddArrayToObject(o, "provinces");
  for (int i = 0; i < 81; i++) cJSON_AddItemToArray(prov, cJSON_CreateString(ORD_TR_PROVINCES[i]));
  return ord_reply_json(r, 200, o);
}

/* PUT /api/v1/order-eta {carrier: code|"*", province: name|"*", days: 0..60 | null}: sets (null: removes) a row.
 * The ('*', '*') row is the default and can be changed, not removed. */
static int eta_put(struct destek_req *r)
{
  cJSON *body;
  int rc = ord_body(r, &body);
  if (rc) return rc;
  const char *carrier, *province;
  if ((rc = ord_field_str(r, body, "carrier", DESTEK_REQUIRED, 40, &carrier)) ||
      (rc = ord_field_str(r, body, "province", DESTEK_REQUIRED, 60, &province)))
    return rc;
  struct destek_db *db = ord_db_read(r);
  if (strcmp(carrier, "*") && !ord_db_int(db, 0, "SELECT count(*) FROM orders_carriers WHERE code = ?1", "t", carrier))
    return ord_field_error(r, "invalid_field", "carrier", "carrier must be a carrier's code or \"*\"");
  if (!province_ok(province))
    return ord_field_error(r, "invalid_field", "province", "province must be one of the 81 provinces or \"*\"");
  const cJSON *d = cJSON_GetObjectItemCaseSensitive(body, "days");
  if (!d) return ord_field_error(r, "missing_field", "days", "days is required (null removes the row)");
  int remove = cJSON_IsNull(d);
  if (!remove && (!cJSON_IsNumber(d) || d->valuedouble < 0 || d->valuedouble > 60 || d->valuedouble != (int)d->valuedouble))
    return ord_field_error(r, "invalid_field", "days", "days must be a whole number of business days, 0 to 60");
  if (remove && !strcmp(carrier, "*") && !strcmp(province, "*"))
    return ord_field_error(r, "invalid_field", "days", "the default row can be changed, not removed");
  struct destek_db *w = ord_db_write(r);
  if (!w) return ord_status(r);
  char now[21];
  ord_now(now);
  int erc = remove ? ord_db_exec(w, "DELETE FROM orders_eta WHERE carrier = ?1 AND province = ?2", "tt", carrier, province)
                   : ord_db_exec(w, "INSERT INTO orders_eta(carrier, province, days, updated_at) VALUES (?1, ?2, ?3, ?4)"
                                    " ON CONFLICT(carrier, province) DO UPDATE SET days = ?3, updated_at = ?4",
                                 "tti" "t", carrier, province, (int64_t)d->valuedouble, now);
  if (erc != SQLITE_OK) return ord_error(r, 500, "internal", "the ETA table could not be saved");
  cJSON *detail = cJSON_CreateObject();
  cJSON_AddStringToObject(detail, "carrier", carrier);
  cJSON_AddStringToObject(detail, "province", province);
  if (remove) cJSON_AddNullToObject(detail, "days");
  else cJSON_AddNumberToObject(detail, "days", d->valuedouble);
  ord_audit(r, "orders.eta_changed", carrier, detail);
  return eta_list(r);
}

static int holidays_list(struct destek_req *r)
{
  struct destek_db *db = ord_db_read(r);
  sqlite3_stmt *st = ord_db_prepare(db, "SELECT day, name FROM orders_holidays ORDER BY day");
  if (!st) return ord_error(r, 500, "internal", "the holidays could not be read");
  cJSON *items = cJSON_CreateArray();
  while (sqlite3_step(st) == SQLITE_ROW) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "day", (const char *)sqlite3_column_text(st, 0));
    cJSON_AddStringToObject(o, "name", (const char *)sqlite3_column_text(st, 1));
    cJSON_AddItemToArray(items, o);
  }
  ord_db_done(st);
  return ord_reply_json(r, 200, ord_list_new(items, 0));
}

/* PUT /api/v1/order-holidays/{day} {name}; DELETE /api/v1/order-holidays/{day} */
static int holiday_put(struct destek_req *r)
{
  cJSON *body;
  int rc = ord_body(r, &body);
  if (rc) return rc;
  const char *day = ord_param(r, "day"), *name;
  struct tm tm;
  if (parse_day(day, &tm) != 0) return ord_error(r, 404, "not_found", "a holiday is a date, YYYY-MM-DD");
  if ((rc = ord_field_str(r, body, "name", DESTEK_REQUIRED, 100, &name))) return rc;
  struct destek_db *w = ord_db_write(r);
  if (!w) return ord_status(r);
  if (ord_db_exec(w, "INSERT INTO orders_holidays(day, name) VALUES (?1, ?2) ON CONFLICT(day) DO UPDATE SET name = ?2",
                  "tt", day, name) != SQLITE_OK)
    return ord_error(r, 500, "internal", "the holiday could not be saved");
  ord_audit(r, "orders.holiday_set", day, NULL);
  return holidays_list(r);
}

static int holiday_delete(struct destek_req *r)
{
  const char *day = ord_param(r, "day");
  struct destek_db *w = ord_db_write(r);
  if (!w) return ord_status(r);
  if (ord_db_exec(w, "DELETE FROM orders_holidays WHERE day = ?1", "t", day) != SQLITE_OK)
    return ord_error(r, 500, "internal", "the holiday could not be removed");
  if (!ord_db_changes(w)) return ord_error(r, 404, "not_found", "no such holiday");
  ord_audit(r, "orders.holiday_removed", day, NULL);
  return ord_reply_empty(r, 204);
}

static const struct destek_route eta_routes[] = {
  { "GET", "/api/v1/order-eta", eta_list, DESTEK_AGENT, NULL, 0 },
  { "PUT", "/api/v1/order-eta", eta_put, DESTEK_ADMIN, NULL, 0 },
  { "GET", "/api/v1/order-holidays", holidays_list, DESTEK_AGENT, NULL, 0 },
  { "PUT", "/api/v1/order-holidays/{day}", holiday_put, DESTEK_ADMIN, "day:text", 0 },
  { "DELETE", "/api/v1/order-holidays/{day}", holiday_delete, DESTEK_ADMIN, "day:text", 0 },
  { 0 }
};

int ord_eta_init(const struct destek_host *h)
{
  return h->settings(h, eta_settings) | h->routes(h, eta_routes);
}
