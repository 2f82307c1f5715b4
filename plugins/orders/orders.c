/* Orders — the shop's orders and their shipments beside every ticket (issue 12). This file holds the plugin
 * declaration, its settings, and the small parsers every receiver shares (times, money, phone numbers). */
#include "orders.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "destek_util.h"

const struct destek_host *ord_host;

const char *const ORD_STATUSES[] = { "pending", "processing", "on_hold", "shipped", "completed", "cancelled",
                                     "refunded", "failed", NULL };
const char *const ORD_PAYMENT_STATUSES[] = { "pending", "authorized", "partially_paid", "paid", "partially_refunded",
                                             "refunded", "voided", "failed", NULL };
const char *const ORD_SHIPMENT_STATUSES[] = { "Pending", "InfoReceived", "InTransit", "OutForDelivery", "AttemptFail",
                                              "Delivered", "AvailableForPickup", "Exception", "Expired", NULL };

extern const struct destek_migration orders_migrations[];

static const struct destek_setting settings[] = {
  { "orders.track_limit", DESTEK_SETTING_INT, "10", 0,
    "Tracking-page lookups one address may make per window" },
  { "orders.track_number_limit", DESTEK_SETTING_INT, "20", 0,
    "Tracking-page lookups of one order number per window, from any address" },
  { "orders.track_window_seconds", DESTEK_SETTING_INT, "600", 0, "The window of the tracking page's limits, seconds" },
  { "orders.shop_name", DESTEK_SETTING_STRING, "", 0, "The shop's name on the tracking page" },
  { "orders.delivery_log_days", DESTEK_SETTING_INT, "90", 0,
    "Days the receivers' delivery log is kept (0: for ever)" },
  { 0 }
};

void ord_now(char out[21]) { util_iso_time((time_t)ord_clock_now(), out); }

static int digits(const char *s, int n, int *out)
{
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (!isdigit((unsigned char)s[i])) return -1;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return 0;
}

int ord_time_utc(const char *in, char out[21])
{
  if (!in) return -1;
  size_t len = strlen(in);
  struct tm tm = { 0 };
  int y, mo, d, h = 0, mi = 0, s = 0;
  if (len < 10 || digits(in, 4, &y) || in[4] != '-' || digits(in + 5, 2, &mo) || in[7] != '-' ||
      digits(in + 8, 2, &d))
    return -1;
  const char *p = in + 10;
  long offset = 0;
  if (*p == 'T' || *p == ' ') {
    if (strlen(p) < 9 || digits(p + 1, 2, &h) || p[3] != ':' || digits(p + 4, 2, &mi) || p[6] != ':' ||
        digits(p + 7, 2, &s))
      return -1;
    p += 9;
    if (*p == '.') { p++; while (isdigit((unsigned char)*p)) p++; }
    if (*p == 'Z') p++;
    else if (*p == '+' || *p == '-') {
      int oh, om;
      if (strlen(p) < 6 || digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om)) return -1;
      offset = (oh * 3600L + om * 60L) * (*p == '+' ? 1 : -1);
      p += 6;
    }
  }
  if (*p || y < 1970 || y > 2200 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return -1;
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  time_t t = timegm(&tm);
  if (t == (time_t)-1) return -1;
  util_iso_time(t - offset, out);
  return 0;
}

int ord_money_minor(const char *text, int64_t *out)
{
  if (!text) return -1;
  const char *p = text;
  while (*p == ' ') p++;
  int neg = 0;
  if (*p == '-') { neg = 1; p++; }
  if (!isdigit((unsigned char)*p)) return -1;
  int64_t whole = 0;
  while (isdigit((unsigned char)*p)) {
    if (whole > 100000000000LL) return -1;
    whole = whole * 10 + (*p++ - '0');
  }
  int64_t frac = 0;
  int places = 0;
  if (*p == '.') {
    p++;
    while (isdigit((unsigned char)*p)) {
      if (places < 2) frac = frac * 10 + (*p - '0');
      else if (*p != '0') return -1;            /* 5.999: not an amount of kuruş */
      places++;
      p++;
    }
    if (!places) return -1;
  }
  while (*p == ' ') p++;
  if (*p) return -1;
  if (places == 1) frac *= 10;
  *out = (whole * 100 + frac) * (neg ? -1 : 1);
  return 0;
}

void ord_phone_norm(const char *in, char out[32])
{
  char d[24];
  size_t n = 0;
  for (const char *p = in ? in : ""; *p && n < sizeof d - 1; p++)
    if (isdigit((unsigned char)*p)) d[n++] = *p;
  d[n] = 0;
  /* Turkish mobiles: 05321234567, 5321234567, 905321234567 all become 905321234567. */
  if (n == 11 && d[0] == '0' && d[1] == '5') snprintf(out, 32, "90%s", d + 1);
  else if (n == 10 && d[0] == '5') snprintf(out, 32, "90%s", d);
  else if (n == 12 && !strncmp(d, "905", 3)) snprintf(out, 32, "%s", d);
  else if (n >= 14 && !strncmp(d, "00", 2)) memcpy(out, d + 2, n - 1);
  else memcpy(out, d, n + 1);
}

static int orders_init(const struct destek_host *host)
{
  ord_host = host;
  static const char *const nouns[] = { "order", "shipment", NULL };
  if (host->events(host, nouns) != 0 || host->settings(host, settings) != 0) return -1;
  if (host->scope(host, "orders") != 0) return -1;
  const struct destek_route *tables[] = { ord_order_routes, ord_list_routes, ord_link_routes, ord_source_routes,
                                          ord_shipment_routes, ord_track_routes };
  for (size_t i = 0; i < sizeof tables / sizeof *tables; i++)
    if (host->routes(host, tables[i]) != 0) return -1;
  if (ord_services_init(host) != 0 || ord_buyers_init(host) != 0 || ord_poll_init(host) != 0 || ord_contacts_init(host) != 0 ||
      ord_demo_init(host) != 0 || ord_list_init(host) != 0 || ord_links_init(host) != 0 ||
      ord_services_returns_init(host) != 0 || ord_report_init(host) != 0)
    return -1;
  if (ord_clock_init(host) != 0 || ord_eta_init(host) != 0 || ord_tracking_init(host) != 0 ||
      ord_notices_init(host) != 0 || ord_notify_init(host) != 0)
    return -1;
  return 0;
}

const struct destek_plugin DESTEK_PLUGIN_SYMBOL = {
  DESTEK_PLUGIN_ABI, sizeof(struct destek_plugin), "orders", "0.1.0",
  NULL, orders_migrations, orders_init, NULL, ord_commands
};
