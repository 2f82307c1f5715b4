/* Reports — the shop's after-sales numbers as a dashboard, CSV exports and a weekly digest (issue 18). This file
 * holds the plugin declaration, its settings, its CLI command and the day arithmetic the others share. */
#include "rep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const struct destek_host *rep_host;

extern const struct destek_migration reports_migrations[];

static const struct destek_setting settings[] = {
  { "reports.utc_offset_minutes", DESTEK_SETTING_INT, "180", 0,
    "The shop's offset from UTC in minutes, for the days the figures are counted on (Türkiye: 180)" },
  { "reports.agents", DESTEK_SETTING_BOOL, "true", 0, "Agents may see the reports (admins always do)" },
  { "reports.digest", DESTEK_SETTING_BOOL, "true", 0, "Send admins the weekly digest on Monday mornings" },
  { 0 }
};

int64_t rep_day(int64_t at)
{
  int64_t t = at + (int64_t)H->setting_int("reports.utc_offset_minutes", 180) * 60;
  return t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
}

int rep_parse_day(const char *s, int64_t *day)
{
  int y, m, d;
  char tail;
  if (!s || strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || y < 1970 || y > 9999 || m < 1 ||
      m > 12 || d < 1 || d > 31)
    return -1;
  struct tm tm = { .tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d, .tm_hour = 12 };
  time_t t = timegm(&tm);
  struct tm back;
  gmtime_r(&t, &back);
  if (back.tm_mday != d) return -1;   /* 2026-02-30 */
  *day = (int64_t)t / 86400;
  return 0;
}

int64_t rep_month(int64_t day)
{
  time_t t = (time_t)(day * 86400);
  struct tm tm;
  gmtime_r(&t, &tm);
  return (int64_t)(tm.tm_year + 1900) * 12 + tm.tm_mon;
}

int64_t rep_month_start(int64_t month)
{
  struct tm tm = { .tm_year = (int)(month / 12) - 1900, .tm_mon = (int)(month % 12), .tm_mday = 1, .tm_hour = 12 };
  return (int64_t)timegm(&tm) / 86400;
}

struct rep_span rep_span_split(int64_t from, int64_t to)
{
  struct rep_span s = { rep_month(from), rep_month(to), from, to, 1, 0 };
  if (rep_month_start(s.m1) < from) s.m1++;
  if (rep_month_start(s.m2 + 1) - 1 > to) s.m2--;
  if (s.m1 <= s.m2) {
    s.a2 = rep_month_start(s.m1) - 1;
    s.b1 = rep_month_start(s.m2 + 1);
    s.b2 = to;
  } else {
    s.m1 = 1;
    s.m2 = 0;
  }
  return s;
}

void rep_day_str(int64_t day, char out[11])
{
  time_t t = (time_t)(day * 86400);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, 11, "%Y-%m-%d", &tm);
}

/* destek reports rebuild: every roll-up again from the modules' services. */
static int cmd_rebuild(int argc, const char *const *argv, const char *input, size_t input_len, char **message)
{
  (void)argv;
  (void)input;
  (void)input_len;
  if (argc > 0) {
    *message = strdup("usage: destek reports rebuild");
    return 2;
  }
  struct destek_req *call = H->call_new(H);
  cJSON *done = rep_rebuild_all_new(call);
  if (!done || H->call_end(call, 1) != 0) {
    if (done) cJSON_Delete(done);
    else H->call_end(call, 0);
    *message = strdup("the reports could not be rebuilt (see the log)");
    return 1;
  }
  size_t cap = 1024, len = 0;
  char *out = malloc(cap);
  out[0] = 0;
  const cJSON *k;
  cJSON_ArrayForEach(k, done) {
    char line[160];
    int n = snprintf(line, sizeof line, "%s%s: %lld facts in %lld ms (longest page %lld ms)", len ? "\n" : "",
                     cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(k, "kind")),
                     (long long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(k, "facts")),
                     (long long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(k, "ms")),
                     (long long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(k, "max_page_ms")));
    if (len + (size_t)n + 1 > cap) out = realloc(out, cap = (len + n + 1) * 2);
    memcpy(out + len, line, (size_t)n + 1);
    len += (size_t)n;
  }
  if (!len) snprintf(out, cap, "no module publishes figures (no <module>.report_facts service)");
  cJSON_Delete(done);
  *message = out;
  return 0;
}

static const struct destek_command commands[] = {
  { "reports rebuild", "", "rebuild the reports' daily roll-ups from every module",
    "Asks every module that publishes figures (<module>.report_facts) for all of its facts and rebuilds the\n"
    "reports' daily roll-ups from them, page by page (each page a short transaction) into a copy the dashboard does\n"
    "not read, swapped in when done; prints each kind's count, time and longest page.\n",
    DESTEK_COMMAND_SERVER, 0, cmd_rebuild },
  { 0 }
};

static int reports_init(const struct destek_host *host)
{
  rep_host = host;
  if (host->settings(host, settings) != 0 || host->routes(host, rep_api_routes) != 0) return -1;
  if (rep_rollup_init(host) != 0 || rep_digest_init(host) != 0) return -1;
  return 0;
}

const struct destek_plugin DESTEK_PLUGIN_SYMBOL = {
  DESTEK_PLUGIN_ABI, sizeof(struct destek_plugin), "reports", "0.1.0",
  NULL, reports_migrations, reports_init, NULL, commands
};
