/* The weekly digest: on Monday mornings (the shop's time) every active admin gets the last seven days' figures
 * beside the seven before, by e-mail through the core (host->message_send, a service message: no promotion, so no
 * consent is needed). One digest per week, recorded in reports_digests. */
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
    { "rating", "Memnuniyet (CSAT/NPS)", "Satisfaction (CSAT/NPS)" },
  };
  for (size_t i = 0; i < sizeof names / sizeof *names; i++)
    if (!strcmp(names[i][0], kind)) return names[i][tr ? 1 : 2];
  return kind;
}

static const char *duration_name(const char *m, int tr)
{
  if (!strcmp(m, "frt")) return tr ? "İlk yanıt süresi (medyan)" : "First response time (median)";
  if (!strcmp(m, "res")) return tr ? "Çözüm süresi (medyan)" : "Resolution time (median)";
  return m;
}

static void hours_text(struct jbuf *b, double s, int tr)
{
  char t[48];
  if (s < 0) snprintf(t, sizeof t, "-");
  else if (s < 3600) snprintf(t, sizeof t, tr ? "%.0f dk" : "%.0f min", s / 60);
  else snprintf(t, sizeof t, tr ? "%.1f sa" : "%.1f h", s / 3600);
  jbuf_raw(b, t, strlen(t));
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

/* The digest's text in one language, or NULL when no module publishes figures. */
static char *digest_text_new(struct destek_req *call, int64_t today, int tr)
{
  struct rep_source src[REP_MAX_SOURCES];
  int n = rep_sources(call, src, REP_MAX_SOURCES);
  if (!n) return NULL;
  int64_t to = today - 1, from = today - 7;
  char f[11], t[11], line[256];
  rep_day_str(from, f);
  rep_day_str(to, t);
  struct jbuf b;
  jbuf_init(&b, 1024);
  snprintf(line, sizeof line, tr ? "Destek haftalık özet: %s – %s (önceki 7 gün parantez içinde)\n\n"
                                 : "Destek weekly digest: %s – %s (the 7 days before in brackets)\n\n", f, t);
  jbuf_raw(&b, line, strlen(line));
  for (int i = 0; i < n; i++) {
    cJSON *cur = rep_kind_figures_new(call, &src[i], from, to, 0, 0),
          *pv = rep_kind_figures_new(call, &src[i], from - 7, to - 7, 0, 0);
    if (!cur || !pv) {
      cJSON_Delete(cur);
      cJSON_Delete(pv);
      continue;
    }
    snprintf(line, sizeof line, "%.60s: %.0f (%.0f)\n", kind_name(src[i].kind, tr),
             cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(cur, "count")),
             cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(pv, "count")));
    jbuf_raw(&b, line, strlen(line));
    for (int k = 0; k < src[i].ndurations; k++) {
      const char *d = src[i].durations[k];
      if (strstr(d, "_bh")) continue;
      snprintf(line, sizeof line, "  %.60s: ", duration_name(d, tr));
      jbuf_raw(&b, line, strlen(line));
      hours_text(&b, dur_median(cur, d), tr);
      JBUF_LIT(&b, " (");
      hours_text(&b, dur_median(pv, d), tr);
      JBUF_LIT(&b, ")\n");
    }
    double met = measure_n(cur, "sla_met"), br = measure_n(cur, "sla_breached");
    if (met + br > 0) {
      snprintf(line, sizeof line, tr ? "  SLA karşılanma: %%%.0f\n" : "  SLA met: %.0f%%\n", 100 * met / (met + br));
      jbuf_raw(&b, line, strlen(line));
    }
    cJSON_Delete(cur);
    cJSON_Delete(pv);
  }
  const char *base = H->base_url();
  snprintf(line, sizeof line, "%s", tr ? "\nAyrıntılar: " : "\nDetails: ");
  jbuf_raw(&b, line, strlen(line));
  jbuf_raw(&b, base, strlen(base));
  JBUF_LIT(&b, "/app/reports\n");
  return jbuf_take(&b, NULL);
}

int rep_digest_send(struct destek_req *call, int64_t today)
{
  if (!DESTEK_HOST_HAS(H, message_send)) return 0;
  char *text[2] = { digest_text_new(call, today, 0), digest_text_new(call, today, 1) };
  if (!text[0] || !text[1]) {
    free(text[0]);
    free(text[1]);
    return 0;
  }
  struct destek_db *db = H->db_read(call);
  cJSON *admins = H->query_new(call, "SELECT email, name, lang FROM core_users WHERE role = 'admin' AND active = 1 ORDER BY id", "");
  int sent = 0;
  const cJSON *a;
  cJSON_ArrayForEach(a, admins) {
    const char *email = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "email")),
               *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "name")),
               *lang = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "lang"));
    int tr = !lang || strcmp(lang, "en");
    int64_t cid = H->contact_resolve(call, email, NULL, NULL, name, tr ? "tr" : "en");
    if (cid <= 0) continue;
    if (H->message_send(call, cid, tr ? "Destek haftalık özet" : "Destek weekly digest", text[tr], 0) > 0) sent++;
  }
  (void)db;
  cJSON_Delete(admins);
  free(text[0]);
  free(text[1]);
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
  int sent = rep_digest_send(call, day);
  if (sent < 0) return -1;
  return H->db_exec(w, "INSERT INTO reports_digests(week, sent_at, sent_to) VALUES (?1, ?2, ?3)", "tii", week,
                    (int64_t)time(NULL), (int64_t)sent) == SQLITE_OK ? 0 : -1;
}

int rep_digest_init(const struct destek_host *h)
{
  return h->every(h, "reports.digest", 3600, digest_job, NULL);
}
