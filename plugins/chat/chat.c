/* Live chat — the chat widget's channel in the one inbox (issue 16). A conversation is a ticket of ticketing with the
 * channel "chat": ticketing.open makes it, ticketing.customer_message adds the visitor's messages, and an agent's reply
 * in the ticket view comes back through the service chat.channel_send (ticketing/channels.c). This file holds the
 * plugin declaration, its settings, the origin check (CORS), the rate limits and the availability (agents online,
 * business hours). */
#include "chat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "destek_util.h"

const struct destek_host *chat_host;

extern const struct destek_migration chat_migrations[];
extern const struct destek_file chat_files[];

static const struct destek_setting settings[] = {
  { "chat.hours", DESTEK_SETTING_STRING, "", 0,
    "Business hours of the chat, local time: \"1-5 09:00-18:00\" (ISO weekdays, Monday 1), several joined with"
    " \";\"; empty: always" },
  { "chat.utc_offset_minutes", DESTEK_SETTING_INT, "180", 0, "The shop's time zone as minutes east of UTC (Turkey: 180)" },
  { "chat.require_agent", DESTEK_SETTING_BOOL, "true", 0,
    "The chat is open only while an agent is online; otherwise the widget turns into the contact form" },
  { "chat.visitor_limit", DESTEK_SETTING_INT, "30", 0, "Messages and reports one visitor may send per minute" },
  { "chat.address_limit", DESTEK_SETTING_INT, "120", 0, "Requests of the chat one address may make per minute" },
  { "chat.session_limit", DESTEK_SETTING_INT, "20", 0, "New visitors one address may start per 10 minutes" },
  { "chat.poll_wait_max", DESTEK_SETTING_INT, "20", 0, "The longest a visitor's poll waits for news, seconds" },
  { "chat.suggest_articles", DESTEK_SETTING_BOOL, "true", 0,
    "While a visitor writes the first message, the widget offers up to 3 help-centre articles (when the help centre is there)" },
  { "chat.visitor_sockets", DESTEK_SETTING_INT, "100", 0,
    "Visitors connected by websocket at once (each holds a server thread; beyond them visitors poll); 0: polling only."
    " Takes effect at the next start" },
  { "chat.csat", DESTEK_SETTING_BOOL, "true", 0,
    "At the end of a chat the widget asks \"How did we do?\" (when the feedback module is there)" },
  { 0 }
};

void chat_now(char out[21]) { util_iso_time(time(NULL), out); }

int chat_origin_listed(const char *origins, const char *origin)
{
  size_t n = strlen(origin);
  if (!n) return 0;
  for (const char *p = origins; p && *p;) {
    const char *e = strchr(p, '\n');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    while (len && (p[len - 1] == '\r' || p[len - 1] == ' ' || p[len - 1] == '/')) len--;
    if (len == n && !strncasecmp(p, origin, n)) return 1;
    if (!e) break;
    p = e + 1;
  }
  return 0;
}

int chat_origin_check(struct destek_req *r, const char *origins)
{
  const char *origin = H->header(r, "Origin");
  if (!origin || !*origin) return 0;   /* not a browser's cross-origin request (a shop backend, curl) */
  if (!chat_origin_listed(origins, origin))
    return H->error(r, 403, "origin_not_allowed", "this page's origin is not one of the shop's");
  H->add_header(r, "Access-Control-Allow-Origin", origin);
  H->add_header(r, "Vary", "Origin");
  return 0;
}

int chat_rate(struct destek_req *r, const char *kind, const char *key, const char *setting, long dflt, long window)
{
  long limit = H->setting_int(setting, dflt);
  if (limit <= 0) return 0;
  long wait = 0;
  int64_t hit = H->rate_take(NULL, kind, key, limit, window, &wait);
  if (hit > 0) return 0;
  if (hit < 0) return H->error(r, 503, "db_busy", "try again");
  char secs[24];
  snprintf(secs, sizeof secs, "%ld", wait);
  H->add_header(r, "Retry-After", secs);
  return H->error(r, 429, "rate_limited", "too many requests; try again in %ld seconds", wait);
}

/* The business hours of chat.hours: "d[-d] HH:MM-HH:MM" parts joined with ";" (malformed parts are ignored). */
struct hours_range { int d1, d2, from, to; };

static int hours_parse(const char *spec, struct hours_range *out, int max)
{
  char buf[512];
  snprintf(buf, sizeof buf, "%s", spec);
  char *save = NULL;
  int n = 0;
  for (char *part = strtok_r(buf, ";", &save); part && n < max; part = strtok_r(NULL, ";", &save)) {
    int d1, d2, h1, m1, h2, m2;
    if (sscanf(part, " %d-%d %d:%d-%d:%d", &d1, &d2, &h1, &m1, &h2, &m2) == 6 ||
        (sscanf(part, " %d %d:%d-%d:%d", &d1, &h1, &m1, &h2, &m2) == 5 && (d2 = d1, 1)))
      out[n++] = (struct hours_range){ d1, d2, h1 * 60 + m1, h2 * 60 + m2 };
  }
  return n;
}

/* Whether local time (weekday 1..7, minute of day) falls in one of the ranges. */
static int in_hours(const struct hours_range *r, int n, int wday, int minute)
{
  for (int i = 0; i < n; i++)
    if (wday >= r[i].d1 && wday <= r[i].d2 && minute >= r[i].from && minute < r[i].to) return 1;
  return 0;
}

cJSON *chat_availability_new(struct destek_req *call)
{
  char *hours = H->setting_new("chat.hours");
  int in = 1;
  char next_open[21] = "";
  if (hours && *hours) {
    long offset = H->setting_int("chat.utc_offset_minutes", 180) * 60;
    struct hours_range ranges[32];
    int n_ranges = hours_parse(hours, ranges, 32);
    time_t now = time(NULL);
    for (int minute = 0; minute <= 8 * 24 * 60; minute++) {
      time_t at = now + minute * 60 + offset;
      struct tm tm;
      gmtime_r(&at, &tm);
      int open_then = in_hours(ranges, n_ranges, tm.tm_wday == 0 ? 7 : tm.tm_wday, tm.tm_hour * 60 + tm.tm_min);
      if (minute == 0) in = open_then;
      if (in || open_then) {   /* open now, or the first minute it opens (within the next 8 days) */
        if (!in) util_iso_time(now + minute * 60 - (now % 60), next_open);
        break;
      }
    }
  }
  int online = 0;
  sqlite3_stmt *st = H->db_prepare(H->db_read(call), "SELECT id FROM core_users WHERE active = 1");
  if (st) {
    while (sqlite3_step(st) == SQLITE_ROW)
      if (H->user_online(call, sqlite3_column_int64(st, 0))) online++;
    H->db_done(st);
  }
  int need_agent = H->setting_bool("chat.require_agent", 1);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddBoolToObject(o, "open", in && (!need_agent || online > 0));
  cJSON_AddNumberToObject(o, "agents_online", online);
  cJSON_AddBoolToObject(o, "in_hours", in);
  cJSON_AddStringToObject(o, "hours", hours ? hours : "");
  if (next_open[0]) cJSON_AddStringToObject(o, "next_open", next_open);
  else cJSON_AddNullToObject(o, "next_open");
  free(hours);
  return o;
}

/* GET /chat/widget.js: the widget's script (static/widget.js), for any page to load; revalidated by its ETag. */
static int widget_js(struct destek_req *r)
{
  const struct destek_file *f = chat_files;
  while (f->name && strcmp(f->name, "widget.js")) f++;
  if (!f->name) return H->error(r, 404, "not_found", "no widget");
  char etag[24];
  snprintf(etag, sizeof etag, "\"%s\"", f->etag);
  H->add_header(r, "ETag", etag);
  H->add_header(r, "Cache-Control", "public, max-age=300");
  H->add_header(r, "Cross-Origin-Resource-Policy", "cross-origin");
  const char *inm = H->header(r, "If-None-Match");
  if (inm && !strcmp(inm, etag)) return H->reply_empty(r, 304);
  return H->reply_body(r, 200, "text/javascript; charset=utf-8", f->data, f->size);
}

static const struct destek_route widget_routes[] = {
  { "GET", "/chat/widget.js", widget_js, DESTEK_PUBLIC, NULL, 0 },
  { 0 }
};

int chat_report_init(const struct destek_host *h);   /* report.c: chat.report_facts for the reports module */

static int chat_init(const struct destek_host *host)
{
  chat_host = host;
  if (host->settings(host, settings) != 0 || host->routes(host, chat_shop_routes) != 0 ||
      host->routes(host, chat_visitor_routes) != 0 || host->routes(host, widget_routes) != 0 ||
      host->routes(host, chat_offer_routes) != 0 || host->routes(host, chat_file_routes) != 0)
    return -1;
  return chat_visitor_init(host) || chat_wa_init(host) || chat_wa_notices_init(host) || chat_contacts_init(host) ||
         chat_report_init(host) || chat_socket_init(host);
}

const struct destek_plugin DESTEK_PLUGIN_SYMBOL = {
  DESTEK_PLUGIN_ABI, sizeof(struct destek_plugin), "chat", "0.1.0",
  NULL, chat_migrations, chat_init, chat_socket_fini, NULL
};
