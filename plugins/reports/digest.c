/* The weekly digest: on Monday mornings (the shop's time) every active admin gets the last seven days' figures
 * beside the seven before (and the change), in their language, by e-mail: HTML with its text part through the desk's
 * mail (ticketing.mail_send), or text through the core's queue (host->message_send) in a shop without the desk; a
 * service message either way (no promotion, so no consent is needed). One digest per week, recorded in
 * reports_digests. */
#include "rep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "destek_jbuf.h"

static const char *kind_name(const char *kind, int tr)
{
  static const char *const names[][3] = {
    { "ticket", "Talepler", "Tickets" }, { "return", "İadeler", "Returns" }, { "order", "Siparişler", "Orders" },
    { "rating", "Memnuniyet (CSAT/NPS)", "Satisfaction (CSAT/NPS)" }, { "csat", "Memnuniyet (CSAT)", "Satisfaction (CSAT)" },
    { "nps", "Tavsiye (NPS)", "Recommendation (NPS)" }, { "conversation", "Canlı sohbet ve WhatsApp", "Live chat and WhatsApp" },
    { "campaign", "Kampanyalar", "Campaigns" },
  };
  for (size_t i = 0; i < sizeof names / sizeof *names; i++)
    if (!strcmp(names[i][0], kind)) return names[i][tr ? 1 : 2];
  return kind;
}

static const char *duration_name(const char *m, int tr)
{
  if (!strcmp(m, "frt")) return tr ? "İlk yanıt süresi (medyan)" : "First response time (median)";
  if (!strcmp(m, "res")) return tr ? "Çözüm süresi (medyan)" : "Resolution time (median)";
  if (!strcmp(m, "ship")) return tr ? "Kargoya verme süresi (medyan)" : "Time to ship (median)";
  if (!strcmp(m, "deliver")) return tr ? "Teslim süresi (medyan)" : "Time to deliver (median)";
  if (!strcmp(m, "refund")) return tr ? "İade ödeme süresi (medyan)" : "Time to refund (median)";
  return m;
}

/* A duration in the reader's language: "45 dk", "3,5 sa" (Turkish decimal comma), "-" when there is none. */
static void hours_str(double s, int tr, char out[32])
{
  if (s < 0) snprintf(out, 32, "-");
  else if (s < 3600) snprintf(out, 32, tr ? "%.0f dk" : "%.0f min", s / 60);
  else snprintf(out, 32, tr ? "%.1f sa" : "%.1f h", s / 3600);
  if (tr)
    for (char *p = out; *p; p++)
      if (*p == '.') *p = ',';
}

static double dur_median(const cJSON *fig, const char *d)
{
  const cJSON *x = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(fig, "durations"), d);
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(x, "median");
  return cJSON_IsNumber(m) ? m->valuedouble : -1;
}

static double measure_n(const cJSON *fig, const char *m)
{
  const cJSON *x = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(fig, "measures"), m);
  return x ? cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(x, "n")) : 0;
}

static void html_esc(struct jbuf *b, const char *s)
{
  for (; *s; s++) {
    switch (*s) {
    case '&': JBUF_LIT(b, "&amp;"); break;
    case '<': JBUF_LIT(b, "&lt;"); break;
    case '>': JBUF_LIT(b, "&gt;"); break;
    case '"': JBUF_LIT(b, "&quot;"); break;
    case '\'': JBUF_LIT(b, "&#39;"); break;
    default: jbuf_raw(b, s, 1);
    }
  }
}

static void put(struct jbuf *b, const char *s)
{
  jbuf_raw(b, s, strlen(s));
}

/* The change from prev to cur: "+12 %", "-3 %", "" when there was nothing before. lower_better: a fall is good
 * (durations); the colour says whether the change is good. */
static void change_cell(struct jbuf *h, double cur, double prev, int lower_better, int tr)
{
  char t[32] = "";
  const char *colour = "#52606d";
  if (prev > 0 && cur >= 0) {
    double pct = 100 * (cur - prev) / prev;
    snprintf(t, sizeof t, tr ? "%s%%%.0f" : "%s%.0f %%", pct > 0 ? "+" : pct < 0 ? "-" : "", pct < 0 ? -pct : pct);
    if (pct != 0 && lower_better >= 0) colour = ((pct < 0) == (lower_better == 1)) ? "#0b6e4f" : "#b42318";
  }
  put(h, "<td align=\"right\" style=\"padding:4px 8px;color:");
  put(h, colour);
  put(h, "\">");
  html_esc(h, t[0] ? t : "–");
  put(h, "</td></tr>\n");
}

/* One row: the text line "  label: cur (prev)" and the HTML row. */
static void row(struct jbuf *t, struct jbuf *h, const char *label, const char *cur, const char *prev, double cv, double pv,
                int lower_better, int tr, int heading)
{
  char line[300];
  snprintf(line, sizeof line, heading ? "%.60s: %s (%s)\n" : "  %.60s: %s (%s)\n", label, cur, prev);
  put(t, line);
  put(h, heading ? "<tr><td style=\"padding:10px 8px 4px;font-weight:bold;border-top:1px solid #d9e2ec\">"
                 : "<tr><td style=\"padding:4px 8px 4px 20px\">");
  html_esc(h, label);
  put(h, heading ? "</td><td align=\"right\" style=\"padding:10px 8px 4px;font-weight:bold;border-top:1px solid #d9e2ec\">"
                 : "</td><td align=\"right\" style=\"padding:4px 8px\">");
  html_esc(h, cur);
  put(h, heading ? "</td><td align=\"right\" style=\"padding:10px 8px 4px;color:#52606d;border-top:1px solid #d9e2ec\">"
                 : "</td><td align=\"right\" style=\"padding:4px 8px;color:#52606d\">");
  html_esc(h, prev);
  put(h, "</td>");
  change_cell(h, cv, pv, lower_better, tr);
}

/* The digest of the 7 days before `today` in one language: the text (*text) and the HTML (*html), both new; 0, or -1
 * when no module publishes figures. */
static int digest_new(struct destek_req *call, int64_t today, int tr, char **text, char **html)
{
  struct rep_source src[REP_MAX_SOURCES];
  int n = rep_sources(call, src, REP_MAX_SOURCES);
  if (!n) return -1;
  int64_t to = today - 1, from = today - 7;
  char f[11], t[11], pf[11], pt[11], line[400];
  rep_day_str(from, f);
  rep_day_str(to, t);
  rep_day_str(from - 7, pf);
  rep_day_str(to - 7, pt);
  struct jbuf b, h;
  jbuf_init(&b, 1024);
  jbuf_init(&h, 4096);
  snprintf(line, sizeof line, tr ? "Destek haftalık özet: %s – %s (önceki 7 gün parantez içinde)\n\n"
                                 : "Destek weekly digest: %s – %s (the 7 days before in brackets)\n\n", f, t);
  put(&b, line);
  put(&h, tr ? "<!doctype html><html lang=\"tr\">" : "<!doctype html><html lang=\"en\">");
  put(&h, "<head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>");
  put(&h, tr ? "Destek haftalık özet" : "Destek weekly digest");
  put(&h, "</title></head><body style=\"margin:0;padding:16px;font-family:sans-serif;color:#1f2933;line-height:1.4\">\n<h1 style=\"font-size:20px;margin:0 0 4px\">");
  put(&h, tr ? "Haftalık özet" : "Weekly digest");
  snprintf(line, sizeof line, tr ? "</h1>\n<p style=\"margin:0 0 12px;color:#52606d\">%s – %s, önceki 7 gün (%s – %s) ile</p>\n"
                                 : "</h1>\n<p style=\"margin:0 0 12px;color:#52606d\">%s – %s, beside the 7 days before (%s – %s)</p>\n",
           f, t, pf, pt);
  put(&h, line);
  put(&h, "<table role=\"presentation\" style=\"border-collapse:collapse;font-size:14px\">\n<tr><th align=\"left\" style=\"padding:4px 8px\"></th><th align=\"right\" style=\"padding:4px 8px\">");
  put(&h, tr ? "Bu hafta" : "This week");
  put(&h, "</th><th align=\"right\" style=\"padding:4px 8px\">");
  put(&h, tr ? "Önceki hafta" : "Week before");
  put(&h, "</th><th align=\"right\" style=\"padding:4px 8px\">");
  put(&h, tr ? "Değişim" : "Change");
  put(&h, "</th></tr>\n");
  for (int i = 0; i < n; i++) {
    cJSON *cur = rep_kind_figures_new(call, &src[i], from, to, 0, 0),
          *pv = rep_kind_figures_new(call, &src[i], from - 7, to - 7, 0, 0);
    if (!cur || !pv) {
      cJSON_Delete(cur);
      cJSON_Delete(pv);
      continue;
    }
    double cc = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(cur, "count")),
           pc = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(pv, "count"));
    char cs[32], ps[32];
    snprintf(cs, sizeof cs, "%.0f", cc);
    snprintf(ps, sizeof ps, "%.0f", pc);
    row(&b, &h, kind_name(src[i].kind, tr), cs, ps, cc, pc, -1, tr, 1);
    for (int k = 0; k < src[i].ndurations; k++) {
      const char *d = src[i].durations[k];
      if (strstr(d, "_bh")) continue;
      double cm = dur_median(cur, d), pm = dur_median(pv, d);
      hours_str(cm, tr, cs);
      hours_str(pm, tr, ps);
      row(&b, &h, duration_name(d, tr), cs, ps, cm, pm, 1, tr, 0);
    }
    double met = measure_n(cur, "sla_met"), br = measure_n(cur, "sla_breached");
    double pmet = measure_n(pv, "sla_met"), pbr = measure_n(pv, "sla_breached");
    if (met + br > 0 || pmet + pbr > 0) {
      double c = met + br > 0 ? 100 * met / (met + br) : -1, p = pmet + pbr > 0 ? 100 * pmet / (pmet + pbr) : -1;
      if (c >= 0) snprintf(cs, sizeof cs, tr ? "%%%.0f" : "%.0f%%", c);
      else snprintf(cs, sizeof cs, "-");
      if (p >= 0) snprintf(ps, sizeof ps, tr ? "%%%.0f" : "%.0f%%", p);
      else snprintf(ps, sizeof ps, "-");
      row(&b, &h, tr ? "SLA karşılanma" : "SLA met", cs, ps, c, p, 0, tr, 0);
    }
    cJSON_Delete(cur);
    cJSON_Delete(pv);
  }
  put(&h, "</table>\n");
  const char *base = H->base_url();
  put(&b, tr ? "\nAyrıntılar: " : "\nDetails: ");
  put(&b, base);
  put(&b, "/app/reports\n");
  put(&h, "<p style=\"margin:16px 0 0\"><a href=\"");
  html_esc(&h, base);
  put(&h, "/app/reports\" style=\"display:inline-block;padding:10px 14px;border:1px solid #0b6e4f;border-radius:6px;color:#0b6e4f;text-decoration:none\">");
  put(&h, tr ? "Raporları aç" : "Open the reports");
  put(&h, "</a></p>\n</body></html>\n");
  *text = jbuf_take(&b, NULL);
  *html = jbuf_take(&h, NULL);
  return 0;
}

/* Whether a module publishes the service named exactly name. */
static int has_service(const char *name)
{
  cJSON *list = H->services_new(strrchr(name, '.') + 1);
  int found = 0;
  const cJSON *e;
  cJSON_ArrayForEach(e, list) {
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "name"));
    if (s && !strcmp(s, name)) found = 1;
  }
  cJSON_Delete(list);
  return found;
}

int rep_digest_send(struct destek_req *call, int64_t today, const char *key_suffix)
{
  char *text[2] = { NULL, NULL }, *html[2] = { NULL, NULL };
  if (digest_new(call, today, 0, &text[0], &html[0]) != 0 || digest_new(call, today, 1, &text[1], &html[1]) != 0) {
    free(text[0]);
    free(html[0]);
    return 0;
  }
  /* HTML with its text part (multipart/alternative) through the desk's mail (ticketing.mail_send: queued in this
   * transaction, retried); without the desk, the core's message queue, in text. */
  int mail = has_service("ticketing.mail_send");
  if (!mail && !DESTEK_HOST_HAS(H, message_send)) {
    for (int i = 0; i < 2; i++) free(text[i]), free(html[i]);
    return 0;
  }
  cJSON *admins = H->query_new(call, "SELECT id, email, name, lang FROM core_users WHERE role = 'admin' AND active = 1 ORDER BY id", "");
  int sent = 0;
  const cJSON *a;
  char day[11];
  rep_day_str(today, day);
  cJSON_ArrayForEach(a, admins) {
    const char *email = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "email")),
               *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "name")),
               *lang = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "lang"));
    int tr = !lang || strcmp(lang, "en");
    const char *subject = tr ? "Destek haftalık özet" : "Destek weekly digest";
    if (!email) continue;
    if (mail) {
      char key[160];
      snprintf(key, sizeof key, "reports:digest:%s:%lld%s", day,
               (long long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(a, "id")), key_suffix ? key_suffix : "");
      cJSON *args = cJSON_CreateObject(), *res = NULL;
      cJSON_AddStringToObject(args, "key", key);
      cJSON_AddStringToObject(args, "to", email);
      if (name && *name) cJSON_AddStringToObject(args, "to_name", name);
      cJSON_AddStringToObject(args, "subject", subject);
      cJSON_AddStringToObject(args, "text", text[tr]);
      cJSON_AddStringToObject(args, "html", html[tr]);
      cJSON_AddBoolToObject(args, "auto_submitted", 1);
      int rc = H->call_service(call, "ticketing.mail_send", args, &res);
      cJSON_Delete(args);
      cJSON_Delete(res);
      if (rc == 0) {
        sent++;
        continue;
      }
      H->log(H, DESTEK_LOG_WARN, "the weekly digest to admin %s was not queued by the desk's mail (%d)", email, rc);
    }
    int64_t cid = H->contact_resolve(call, email, NULL, NULL, name, tr ? "tr" : "en");
    if (cid > 0 && H->message_send(call, cid, subject, text[tr], 0) > 0) sent++;
  }
  cJSON_Delete(admins);
  for (int i = 0; i < 2; i++) free(text[i]), free(html[i]);
  return sent;
}

/* Hourly: on Monday from 08:00 (the shop's time), once per week. */
static int digest_job(struct destek_req *call, void *ud)
{
  (void)ud;
  if (!H->setting_bool("reports.digest", 1)) return 0;
  int64_t local = (int64_t)time(NULL) + (int64_t)H->setting_int("reports.utc_offset_minutes", 180) * 60;
  int64_t day = local / 86400, weekday = (day + 4) % 7;   /* 1970-01-01 was a Thursday; 1 = Monday */
  if (weekday != 1 || local % 86400 < 8 * 3600) return 0;
  char week[11];
  rep_day_str(day, week);
  struct destek_db *w = H->db_write(call);
  if (!w) return -1;
  if (H->db_int(w, 0, "SELECT count(*) FROM reports_digests WHERE week = ?1", "t", week)) return 0;
  int sent = rep_digest_send(call, day, NULL);
  if (sent < 0) return -1;
  return H->db_exec(w, "INSERT INTO reports_digests(week, sent_at, sent_to) VALUES (?1, ?2, ?3)", "tii", week,
                    (int64_t)time(NULL), (int64_t)sent) == SQLITE_OK ? 0 : -1;
}

int rep_digest_init(const struct destek_host *h)
{
  return h->every(h, "reports.digest", 3600, digest_job, NULL);
}
