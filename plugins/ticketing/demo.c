/* `destek demo`: a small online towel and bathrobe shop, Anadolu Tekstil, with agents, customers and a few hundred
 * tickets in Turkish (and some English), written through the plugin's own functions (tkt_ticket_create,
 * tkt_message_add, tkt_apply_changes) so history, events and the search index are exactly what the API makes;
 * only the timestamps are moved back afterwards to spread the tickets over the last four weeks.
 * With a size, a bench database instead: size tickets of 5 messages each, inserted in bulk (search index too). */
#include "demo.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "fold.h"
#include "sla.h"
#include "tkt.h"
#include "destek_util.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static unsigned rnd(unsigned n)
{
  rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
  return n ? (unsigned)(rng % n) : 0;
}
#define PICK(a) (a[rnd(sizeof a / sizeof a[0])])
#define COUNT(a) (sizeof a / sizeof a[0])

static const char *const FIRST_TR[] = {
  "Ayşe", "Mehmet", "Fatma", "Mustafa", "Emine", "Ahmet", "Hatice", "Ali", "Zeynep", "Hüseyin", "Elif", "Hasan",
  "Merve", "İbrahim", "Özlem", "Murat", "Şule", "Emre", "Gülşen", "Burak", "Çiğdem", "Oğuz", "Derya", "Serkan",
  "Büşra", "Kemal", "Nur", "Tuğba", "Yasin", "İrem", "Gökhan", "Sevgi", "Ümit", "Esra", "Cem", "Dilek",
};
static const char *const LAST_TR[] = {
  "Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Yıldırım", "Öztürk", "Aydın", "Özdemir", "Arslan",
  "Doğan", "Kılıç", "Aslan", "Çetin", "Kara", "Koç", "Kurt", "Özkan", "Şimşek", "Polat", "Erdoğan", "Güneş", "Aksoy",
};
static const char *const FIRST_EN[] = { "Emma", "James", "Olivia", "Lucas", "Sophie", "Daniel", "Hannah", "Thomas" };
static const char *const LAST_EN[] = { "Smith", "Müller", "Brown", "Taylor", "Wilson", "Schneider", "Evans" };
static const char *const PRODUCTS_TR[] = {
  "pamuklu bornoz", "peştemal", "banyo havlusu seti", "el havlusu", "çocuk bornozu", "plaj havlusu",
  "nevresim takımı", "bambu havlu", "otel tipi bornoz", "mutfak havlusu",
};
static const char *const PRODUCTS_EN[] = { "cotton bathrobe", "peshtemal towel", "bath towel set", "beach towel" };

/* One kind of question: subject, the customer's first message, the agent's reply, the customer's answer, an
 * internal note; %s is the product, %d the order number. */
struct scenario {
  const char *tag, *subject, *body, *reply, *follow, *note;
};
static const struct scenario TR[] = {
  { "kargo", "Siparişim hâlâ gelmedi (#%d)",
    "Merhaba, %d numaralı siparişimi 6 gün önce verdim, %s. Kargo takip numarası hâlâ 'hazırlanıyor' görünüyor. "
    "Ne zaman elime ulaşır?",
    "Merhaba, beklettiğimiz için özür dileriz. Siparişiniz dün Yurtiçi Kargo'ya teslim edildi; takip numaranız "
    "SMS ile gönderildi. 1-2 iş günü içinde adresinizde olur.",
    "Teşekkürler, takip numarası geldi. Kargo şubede bekliyormuş, gidip alacağım.",
    "Depo gecikmesi: bu hafta kargo firması toplamaya geç geldi." },
  { "iade", "İade talebi - %s",
    "Merhaba, aldığım %s beklediğimden ince çıktı. İade etmek istiyorum, nasıl yapabilirim? Sipariş no: %d",
    "Merhaba, 14 gün içinde koşulsuz iade hakkınız var. Ürünü etiketiyle, anlaşmalı kargo kodumuzla (AT-IADE) "
    "ücretsiz gönderebilirsiniz. Ürün depomuza ulaştıktan sonra 3 iş günü içinde ücret iadeniz yapılır.",
    "Kargoya verdim, iade kodu ile gönderdim. Paramı ne zaman alırım?",
    "İade kabul edildi, depo kontrolünden sonra ödeme iadesi yapılacak." },
  { "hasarli-urun", "Hasarlı ürün geldi",
    "Merhaba, bugün teslim aldığım %s paketi yırtık geldi ve üründe leke var. Fotoğrafını ekledim. Sipariş: %d. "
    "Ne yapmam gerekiyor?",
    "Merhaba, yaşadığınız sorun için çok üzgünüz. Hiç beklemeden yenisini gönderiyoruz; hasarlı ürünü geri "
    "göndermenize gerek yok. Yeni kargo takip numaranızı yarın ileteceğiz.",
    "Çok teşekkür ederim, hızlı çözüm için sağ olun.",
    "Kargo firmasına hasar tutanağı açıldı." },
  { "beden", "Yanlış beden gönderilmiş",
    "Merhaba, %s için L beden sipariş ettim ama M beden geldi. Değişim yapabilir miyiz? Sipariş no %d.",
    "Merhaba, hata bizden kaynaklı, özür dileriz. Değişim ücretsizdir: kurye yarın ürünü adresinizden alacak ve "
    "doğru bedeni aynı gün kargoya vereceğiz.",
    "Tamam, yarın evde olacağım.",
    "Depoda etiket karışıklığı: M/L rafları kontrol edilsin." },
  { "kargo-ucreti", "Ücretsiz kargo yazıyordu ama kargo ücreti alındı",
    "Merhaba, sitede 500 TL üzeri ücretsiz kargo yazıyor. Sepetim 640 TL idi ama kartımdan 39,90 TL kargo ücreti "
    "çekildi. Sipariş %d, %s. Bu ücretin iadesini rica ediyorum.",
    "Merhaba, haklısınız; indirim kuponu sepet tutarını 500 TL'nin altına düşürdüğü için sistem kargo ücreti "
    "eklemiş. Bu bizim hatamız sayılır, 39,90 TL kartınıza iade edildi, 2-5 iş günü içinde yansır.",
    "Anladım, teşekkürler.",
    "Kupon + ücretsiz kargo eşiği hatası, yazılım ekibine iletildi." },
  { "fatura", "Fatura talebi",
    "Merhaba, %d numaralı siparişim için şirket adına e-fatura kesilmesini istiyorum. Vergi numaramı "
    "ekte gönderiyorum. Ürün: %s.",
    "Merhaba, e-faturanız şirket bilgilerinizle düzenlendi ve e-posta adresinize gönderildi.",
    "Faturayı aldım, teşekkürler.",
    "Muhasebeye iletildi, e-fatura kesildi." },
  { "kupon", "İndirim kuponu çalışmıyor",
    "Merhaba, bülten ile gelen HOSGELDIN10 kuponunu %s alırken kullanmaya çalıştım ama 'geçersiz kupon' diyor. "
    "Yardımcı olur musunuz?",
    "Merhaba, kupon 300 TL ve üzeri sepetlerde geçerli. Sepetiniz bu tutarın altında kaldığı için kabul "
    "edilmemiş. İsterseniz siparişinize manuel olarak %10 indirim tanımlayabiliriz.",
    "Olur, tanımlarsanız hemen sipariş vereceğim.",
    "Manuel indirim tanımlandı." },
  { "siparis-degisikligi", "Adres değişikliği",
    "Merhaba, %d numaralı siparişimin teslimat adresini değiştirmem gerekiyor, taşındım. Ürün %s. Henüz kargoya "
    "verilmediyse yeni adresi yazabilir miyim?",
    "Merhaba, siparişiniz henüz kargoya verilmedi; yeni adresinizi bu mesaja yanıt olarak yazmanız yeterli.",
    "Yeni adresim: Bağdat Cad. No: 12 D: 5, Kadıköy / İstanbul.",
    "Adres güncellendi, depoya bilgi verildi." },
  { "urun-bilgisi", "Ürün hakkında soru",
    "Merhaba, %s 60 derecede yıkanabiliyor mu? Çeken bir kumaş mı? Hediye paketi yapıyor musunuz?",
    "Merhaba, ürünlerimiz %100 pamuktur, 40 derecede yıkamanızı öneririz; ön yıkamalı olduğu için çekme yapmaz. "
    "Siparişe not düşerseniz ücretsiz hediye paketi yapıyoruz.",
    "Harika, hemen sipariş veriyorum.",
    NULL },
};
static const struct scenario EN[] = {
  { "kargo", "Where is my order #%d?",
    "Hello, I ordered a %s to Germany ten days ago (order %d) and tracking has not changed since. Can you check?",
    "Hello, sorry for the wait. International parcels pass customs in Istanbul; yours cleared yesterday and should "
    "arrive within 3-4 working days.",
    "Thanks, it arrived today.", "Customs delay, normal for EU shipments." },
  { "iade", "Return request",
    "Hi, the %s I received is lovely but too small. How can I return it? Order %d.",
    "Hi, you can return it within 14 days; we will e-mail you a prepaid return label. The refund follows within "
    "3 working days of it reaching us.",
    "Label received, parcel sent back.", "Return label sent (international)." },
  { "hasarli-urun", "Damaged item",
    "Hello, my %s arrived with a torn seam. Order %d. Photos attached.",
    "Hello, we are very sorry. A replacement is on its way; there is no need to send the damaged one back.",
    "Thank you for the quick help!", NULL },
};

static const char *const CHANNELS[] = { "email", "email", "email", "web", "web", "chat", "whatsapp", "whatsapp",
                                        "phone", "api" };
static const char *const PRIORITIES[] = { "low", "normal", "normal", "normal", "normal", "high", "urgent" };

struct agent { const char *email, *name, *role, *password; int64_t id; };
static struct agent AGENTS[] = {
  { "admin@anadolutekstil.example", "Selin Arslan", "admin", "demo-admin-2026", 0 },
  { "ayse@anadolutekstil.example", "Ayşe Demir", "agent", "demo-ayse-2026", 0 },
  { "mehmet@anadolutekstil.example", "Mehmet Kaya", "agent", "demo-mehmet-2026", 0 },
  { "zeynep@anadolutekstil.example", "Zeynep Öztürk", "agent", "demo-zeynep-2026", 0 },
  { "can@anadolutekstil.example", "Can Yıldız", "agent", "demo-can-2026", 0 },
};

static void ascii_slug(const char *in, char *out, size_t cap)
{
  static const char *const map[][2] = { { "ç", "c" }, { "Ç", "c" }, { "ğ", "g" }, { "ı", "i" }, { "İ", "i" },
                                        { "ö", "o" }, { "Ö", "o" }, { "ş", "s" }, { "Ş", "s" }, { "ü", "u" },
                                        { "Ü", "u" } };
  size_t n = 0;
  while (*in && n + 1 < cap) {
    int done = 0;
    for (size_t i = 0; i < COUNT(map) && !done; i++) {
      size_t l = strlen(map[i][0]);
      if (!strncmp(in, map[i][0], l)) { out[n++] = map[i][1][0]; in += l; done = 1; }
    }
    if (done) continue;
    unsigned char ch = (unsigned char)*in++;
    if (ch >= 'A' && ch <= 'Z') ch = (unsigned char)(ch - 'A' + 'a');
    if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) out[n++] = (char)ch;
  }
  out[n] = 0;
}

/* Formats a scenario text: %s (product) and %d (order) in either order. */
static void fill(char *out, size_t cap, const char *fmt, const char *product, int order)
{
  size_t n = 0;
  for (const char *p = fmt; *p && n + 1 < cap; p++) {
    if (p[0] == '%' && p[1] == 's') { n += (size_t)snprintf(out + n, cap - n, "%s", product); p++; }
    else if (p[0] == '%' && p[1] == 'd') { n += (size_t)snprintf(out + n, cap - n, "%d", order); p++; }
    else if (p[0] == '%' && p[1] == '%') { out[n++] = '%'; p++; }
    else out[n++] = *p;
    if (n >= cap) n = cap - 1;
  }
  out[n] = 0;
}

/* The agent's user, created in c's transaction (audited, user.created; an admin retires the setup link) unless a
 * user with that e-mail exists. Its id, or -1. */
static int64_t ensure_user(struct destek_req *c, struct agent *a)
{
  int64_t id = tkt_db_int(tkt_db_read(c), 0, "SELECT id FROM core_users WHERE email = ?1 COLLATE NOCASE", "t", a->email);
  if (id > 0) { a->password = NULL; return id; }  /* already there: its password is left alone */
  id = tkt_user_create(c, a->email, a->name, a->role, "tr", a->password);
  return id > 0 ? id : -1;
}

/* Moves a ticket's timestamps to start at base (unix time), a message every step seconds. */
static void retime(struct destek_db *w, int64_t ticket_id, time_t base, int step)
{
  int64_t first_msg = tkt_db_int(w, 0, "SELECT min(id) FROM tkt_messages WHERE ticket_id = ?1", "i", ticket_id);
  int64_t first_hist = tkt_db_int(w, 0, "SELECT min(id) FROM tkt_history WHERE ticket_id = ?1", "i", ticket_id);
  tkt_db_exec(w, "UPDATE tkt_messages SET created_at = strftime('%Y-%m-%dT%H:%M:%SZ', ?2 + (id - ?3) * ?4, 'unixepoch')"
             " WHERE ticket_id = ?1", "iiii", ticket_id, (int64_t)base, first_msg, (int64_t)step);
  /* History rows follow the message they came with, roughly: spread over the same span. */
  int64_t n_msg = tkt_db_int(w, 1, "SELECT count(*) FROM tkt_messages WHERE ticket_id = ?1", "i", ticket_id);
  int64_t n_hist = tkt_db_int(w, 1, "SELECT count(*) FROM tkt_history WHERE ticket_id = ?1", "i", ticket_id);
  int64_t hstep = n_hist > 1 ? (n_msg * step) / n_hist : step;
  tkt_db_exec(w, "UPDATE tkt_history SET created_at = strftime('%Y-%m-%dT%H:%M:%SZ', ?2 + (id - ?3) * ?4, 'unixepoch')"
             " WHERE ticket_id = ?1", "iiii", ticket_id, (int64_t)base, first_hist, hstep);
  tkt_db_exec(w,
          "UPDATE tkt_tickets SET created_at = strftime('%Y-%m-%dT%H:%M:%SZ', ?2, 'unixepoch'),"
          " updated_at = (SELECT max(created_at) FROM tkt_messages WHERE ticket_id = ?1),"
          " first_response_at = CASE WHEN first_response_at IS NULL THEN NULL ELSE"
          "   (SELECT min(created_at) FROM tkt_messages WHERE ticket_id = ?1 AND kind = 'reply') END,"
          " solved_at = CASE WHEN solved_at IS NULL THEN NULL ELSE"
          "   (SELECT max(created_at) FROM tkt_messages WHERE ticket_id = ?1) END,"
          " closed_at = CASE WHEN closed_at IS NULL THEN NULL ELSE"
          "   (SELECT max(created_at) FROM tkt_messages WHERE ticket_id = ?1) END"
          " WHERE id = ?1", "ii", ticket_id, (int64_t)base);
}

static int demo_shop(FILE *out)
{
  struct destek_req *c = tkt_call_new();
  for (size_t i = 0; i < COUNT(AGENTS); i++) {
    AGENTS[i].id = ensure_user(c, &AGENTS[i]);
    if (AGENTS[i].id <= 0) { fprintf(stderr, "destek: could not create %s\n", AGENTS[i].email); tkt_call_end(c, 0); return 1; }
  }
  struct destek_db *w = tkt_db_write(c);
  if (!w) { tkt_call_end(c, 0); return 1; }
  char now[21];
  tkt_now(now);
  tkt_db_exec(w, "INSERT OR IGNORE INTO tkt_teams(name, created_at, updated_at) VALUES ('Kargo ve Teslimat', ?1, ?1),"
             " ('İade ve Değişim', ?1, ?1)", "t", now);
  int64_t team_ship = tkt_db_int(w, 0, "SELECT id FROM tkt_teams WHERE name = 'Kargo ve Teslimat'", "");
  int64_t team_ret = tkt_db_int(w, 0, "SELECT id FROM tkt_teams WHERE name = 'İade ve Değişim'", "");
  /* Members: Ayşe and Mehmet handle shipping, Zeynep and Can returns. */
  for (size_t i = 1; i < COUNT(AGENTS); i++)
    tkt_db_exec(w, "INSERT OR IGNORE INTO tkt_team_members(team_id, user_id, created_at) VALUES (?1, ?2, ?3)", "iit",
                i <= 2 ? team_ship : team_ret, AGENTS[i].id, now);
  if (tkt_call_end(c, 1) != 0) { fprintf(stderr, "destek: could not save the agents\n"); return 1; }

  /* ~120 customers: some with a phone (WhatsApp), a few English-speaking. */
  enum { N_CUST = 120, N_TICKETS = 320, BATCH = 40 };
  struct { char name[64], email[96], phone[24]; int en; } cust[N_CUST];
  for (int i = 0; i < N_CUST; i++) {
    int en = i % 12 == 11;
    const char *f = en ? PICK(FIRST_EN) : PICK(FIRST_TR), *l = en ? PICK(LAST_EN) : PICK(LAST_TR);
    snprintf(cust[i].name, sizeof cust[i].name, "%s %s", f, l);
    char sf[32], sl[32];
    ascii_slug(f, sf, sizeof sf);
    ascii_slug(l, sl, sizeof sl);
    static const char *const DOMAINS[] = { "gmail.example", "hotmail.example", "yandex.example", "outlook.example" };
    snprintf(cust[i].email, sizeof cust[i].email, "%s.%s%d@%s", sf, sl, i + 1, PICK(DOMAINS));
    snprintf(cust[i].phone, sizeof cust[i].phone, "+90532%07d", 1000000 + i * 7919 % 9000000);
    cust[i].en = en;
  }

  time_t t_now = time(NULL), span = 28 * 86400;
  int made = 0;
  struct destek_db *rd = tkt_db_read(NULL);
  int64_t first_id = tkt_db_int(rd, 0, "SELECT coalesce(max(id), 0) FROM tkt_tickets", "") + 1;
  for (int b = 0; b < N_TICKETS; b += BATCH) {
    c = tkt_call_new();
    w = tkt_db_write(c);
    int ok = w != NULL;
    for (int k = b; ok && k < b + BATCH && k < N_TICKETS; k++) {
      int ci = (int)rnd(N_CUST);
      int en = cust[ci].en;
      const struct scenario *s = en ? &EN[rnd(COUNT(EN))] : &TR[rnd(COUNT(TR))];
      const char *product = en ? PICK(PRODUCTS_EN) : PICK(PRODUCTS_TR);
      int order = 100000 + (int)rnd(90000);
      const char *channel = PICK(CHANNELS);
      int with_phone = !strcmp(channel, "whatsapp") || !strcmp(channel, "phone");
      int64_t cid = tkt_customer_match(c, cust[ci].email, cust[ci].name, with_phone ? cust[ci].phone : NULL,
                                       en ? "en" : "tr");
      if (cid <= 0) { ok = 0; break; }
      char subject[256], body[1024], reply[1024], follow[512], actor[48];
      fill(subject, sizeof subject, s->subject, product, order);
      fill(body, sizeof body, s->body, product, order);
      fill(reply, sizeof reply, s->reply, product, order);
      fill(follow, sizeof follow, s->follow, product, order);
      cJSON *tags = cJSON_CreateArray();
      cJSON_AddItemToArray(tags, cJSON_CreateString(s->tag));
      cJSON_AddItemToArray(tags, cJSON_CreateString("demo"));
      if (en) cJSON_AddItemToArray(tags, cJSON_CreateString("international"));
      if (!strcmp(channel, "whatsapp")) cJSON_AddItemToArray(tags, cJSON_CreateString("whatsapp"));
      snprintf(actor, sizeof actor, "customer:%lld", (long long)cid);
      char order_s[16];
      snprintf(order_s, sizeof order_s, "%d", order);
      int64_t id = tkt_ticket_create(c, w, subject, cid, body, channel, PICK(PRIORITIES), tags,
                                     strcmp(s->tag, "kupon") && strcmp(s->tag, "urun-bilgisi") ? order_s : NULL,
                                     NULL, actor, NULL);
      cJSON_Delete(tags);
      if (id <= 0) { ok = 0; break; }
      /* How far the conversation got: the newest tickets are mostly new or open, older ones solved or closed. */
      double age = (double)(N_TICKETS - k) / N_TICKETS;  /* 1 = four weeks ago, 0 = now */
      unsigned r100 = rnd(100);
      int stage = age > 0.5 ? (r100 < 60 ? 5 : r100 < 85 ? 4 : 3) : age > 0.15 ? (r100 < 20 ? 1 : r100 < 50 ? 2 : r100 < 70 ? 3 : 4)
                                                                   : (r100 < 45 ? 0 : r100 < 75 ? 1 : r100 < 90 ? 2 : 3);
      struct agent *ag = &AGENTS[1 + rnd(COUNT(AGENTS) - 1)];
      char agent_actor[48];
      snprintf(agent_actor, sizeof agent_actor, "user:%lld", (long long)ag->id);
      tkt_act_as(c, ag->id);
      if (stage >= 1) {
        struct tkt_changes ch = { .set_assignee = 1, .assignee_id = ag->id };
        if (!strcmp(s->tag, "kargo") || !strcmp(s->tag, "hasarli-urun")) { ch.set_team = 1; ch.team_id = team_ship; }
        else if (!strcmp(s->tag, "iade") || !strcmp(s->tag, "beden")) { ch.set_team = 1; ch.team_id = team_ret; }
        if (stage == 1) ch.status = "open";
        if (tkt_apply_changes(c, w, id, &ch, agent_actor) != 0) { ok = 0; break; }
        if (s->note && rnd(3) == 0 &&
            tkt_message_add(c, w, id, 0, "note", ag->id, 0, s->note, NULL, NULL, agent_actor) < 0) { ok = 0; break; }
      }
      if (stage >= 2 && tkt_message_add(c, w, id, 0, "reply", ag->id, 0, reply, NULL, NULL, agent_actor) < 0) { ok = 0; break; }
      if (stage == 2) {
        struct tkt_changes ch = { .status = rnd(3) ? "pending" : "on_hold" };
        if (tkt_apply_changes(c, w, id, &ch, agent_actor) != 0) { ok = 0; break; }
      }
      if (stage >= 3 && tkt_message_add(c, w, id, 0, "customer", 0, cid, follow, NULL, NULL, actor) < 0) { ok = 0; break; }
      if (stage >= 4) {
        struct tkt_changes ch = { .status = "solved" };
        if (tkt_apply_changes(c, w, id, &ch, agent_actor) != 0) { ok = 0; break; }
      }
      if (stage >= 5) {
        struct tkt_changes ch = { .status = "closed" };
        if (tkt_apply_changes(c, w, id, &ch, "system") != 0) { ok = 0; break; }
      }
      tkt_act_as(c, 0);
      time_t base = t_now - (time_t)(age * (double)span) + (time_t)rnd(3600);
      int step = 600 + (int)rnd(4 * 3600);
      if (base + 6 * step > t_now) step = (int)((t_now - base) / 6) + 1;
      retime(w, id, base, step);
      made++;
    }
    if (tkt_call_end(c, ok) != 0 || !ok) {
      fprintf(stderr, "destek: the demo tickets could not be saved (after %d)\n", made - (made % BATCH));
      return 1;
    }
  }

  /* The list is ordered by seq (the order of changes): renumber the demo tickets by their moved updated_at. */
  c = tkt_call_new();
  w = tkt_db_write(c);
  int64_t top = w ? tkt_db_int(w, 0, "SELECT coalesce(max(seq), 0) FROM tkt_tickets", "") : 0;
  int ok = w && tkt_db_exec(w, "UPDATE tkt_tickets SET seq = -id WHERE id >= ?1", "i", first_id) == SQLITE_OK &&
           tkt_db_exec(w, "UPDATE tkt_tickets AS t SET seq = ?2 + r.n FROM (SELECT id, row_number() OVER"
                      " (ORDER BY updated_at, id) AS n FROM tkt_tickets WHERE id >= ?1) AS r WHERE t.id = r.id",
                   "ii", first_id, top) == SQLITE_OK;
  if (tkt_call_end(c, ok) != 0 || !ok) { fprintf(stderr, "destek: the demo tickets could not be ordered\n"); return 1; }

  /* SLA policies, when this desk has them (migrations/002_sla.sql), added after the tickets and then applied to them:
   * their clocks start at their back-dated creation, so older unanswered ones read as breached and the newest as
   * due soon: the "SLA at risk" view and the reports have something to show. */
  int sla = 0;
  c = tkt_call_new();
  w = tkt_db_write(c);
  if (w && tkt_db_int(w, 0, "SELECT count(*) FROM sqlite_schema WHERE name = 'tkt_sla_policies'", "") &&
      tkt_db_int(w, 0, "SELECT count(*) FROM tkt_sla_policies", "") == 0) {
    tkt_now(now);
    sla = tkt_db_exec(w, "INSERT INTO tkt_sla_policies(name, position, priority, first_response_minutes,"
                     " resolution_minutes, created_at, updated_at) VALUES"
                     " ('Acil talepler', 1, 'urgent', 60, 480, ?1, ?1),"
                     " ('Standart', 2, NULL, 240, 2880, ?1, ?1)", "t", now) == SQLITE_OK;
    sqlite3_stmt *ids = sla ? tkt_db_prepare(w, "SELECT id FROM tkt_tickets WHERE id >= ?1 ORDER BY id") : NULL;
    int64_t *list = NULL;
    size_t n = 0, cap = 0;
    if (ids) {
      tkt_db_bind(ids, "i", first_id);
      while (sqlite3_step(ids) == SQLITE_ROW) {
        if (n == cap) { cap = cap ? cap * 2 : 512; list = realloc(list, cap * sizeof *list); if (!list) abort(); }
        list[n++] = sqlite3_column_int64(ids, 0);
      }
      tkt_db_done(ids);
    }
    /* The status timelines were written at the real time the tickets were made: rebuilt from their back-dated
     * creation and current status (sla.c's timeline_load), so that the clocks count from then. */
    if (sla && tkt_db_int(w, 0, "SELECT count(*) FROM sqlite_schema WHERE name = 'tkt_sla_timeline'", ""))
      sla = tkt_db_exec(w, "DELETE FROM tkt_sla_timeline WHERE ticket_id >= ?1", "i", first_id) == SQLITE_OK;
    for (size_t i = 0; i < n && sla; i++) sla = tkt_sla_update(c, w, list[i]) == 0;
    free(list);
  }
  if (tkt_call_end(c, sla) != 0) sla = 0;

  /* Macros, when this desk has them (migrations/005_macros.sql): the replies agents of such a shop keep. */
  int macros = 0;
  c = tkt_call_new();
  w = tkt_db_write(c);
  if (w && tkt_db_int(w, 0, "SELECT count(*) FROM sqlite_schema WHERE name = 'tkt_macros'", "")) {
    static const char *const M[][4] = {
      { "Kargo gecikmesi: özür ve takip",
        "Merhaba {{customer.first_name}}, {{order_number}} numaralı siparişiniz için beklettiğimiz için özür dileriz. "
        "Siparişiniz kargoya verildi; takip numaranız SMS ile gönderildi. İyi günler dileriz, {{agent.name}}",
        "Hello {{customer.first_name}}, sorry for the wait with order {{order_number}}. It has been shipped; the tracking "
        "number was sent by text message. Best regards, {{agent.name}}",
        "{\"status\":\"pending\",\"add_tags\":[\"kargo\"]}" },
      { "İade nasıl yapılır",
        "Merhaba {{customer.first_name}}, 14 gün içinde koşulsuz iade hakkınız var. Ürünü etiketiyle, AT-IADE kargo "
        "koduyla ücretsiz gönderebilirsiniz; ücret iadeniz ürün depomuza ulaştıktan sonra 3 iş günü içinde yapılır.",
        "Hello {{customer.first_name}}, you can return the item within 14 days; we will e-mail you a prepaid label. The "
        "refund follows within 3 working days of it reaching us.",
        "{\"status\":\"pending\",\"add_tags\":[\"iade\"]}" },
      { "Hasarlı ürün: yenisi gönderiliyor",
        "Merhaba {{customer.first_name}}, yaşadığınız sorun için çok üzgünüz. Yenisini hemen gönderiyoruz; hasarlı ürünü "
        "geri göndermenize gerek yok. {{ticket.reference}} numaralı talebinizden takip edebilirsiniz.",
        "Hello {{customer.first_name}}, we are very sorry. A replacement is on its way; no need to send the damaged "
        "item back.",
        "{\"status\":\"solved\",\"add_tags\":[\"hasarli-urun\"]}" },
      { "Kargo ücreti iade edildi",
        "Merhaba {{customer.first_name}}, haklısınız: ücretsiz kargo eşiğini geçen siparişinizden alınan kargo ücreti "
        "kartınıza iade edildi, 2-5 iş günü içinde yansır.",
        "", "{\"status\":\"solved\",\"add_tags\":[\"kargo-ucreti\"]}" },
    };
    tkt_now(now);
    macros = 1;
    for (size_t i = 0; i < COUNT(M) && macros; i++)
      macros = tkt_db_exec(w, "INSERT OR IGNORE INTO tkt_macros(name, body_tr, body_en, changes, created_at, updated_at)"
                          " VALUES (?1, ?2, ?3, ?4, ?5, ?5)", "ttttt", M[i][0], M[i][1], M[i][2], M[i][3], now)
               == SQLITE_OK;
  }
  if (tkt_call_end(c, macros) != 0) macros = 0;

  fprintf(out,
          "Demo desk ready: Anadolu Tekstil (towels and bathrobes, online), %d customers, %d tickets.\n"
          "This is demo data; start it with `destek serve --data DIR` and sign in as:\n", N_CUST, made);
  for (size_t i = 0; i < COUNT(AGENTS); i++) {
    if (AGENTS[i].password)
      fprintf(out, "  %-6s %-32s password: %s\n", AGENTS[i].role, AGENTS[i].email, AGENTS[i].password);
    else
      fprintf(out, "  %-6s %-32s (existed already: password unchanged)\n", AGENTS[i].role, AGENTS[i].email);
  }
  if (sla)
    fprintf(out, "SLA policies added: 'Acil talepler' (urgent: first reply 1 h, solved in 8 h) and 'Standart'\n"
                 "(first reply 4 h, solved in 2 days), in business hours, applied to the demo tickets.\n");
  fprintf(out, macros ? "Macros added: kargo gecikmesi, iade süreci, hasarlı ürün, kargo ücreti iadesi.\n"
                      : "No macros are added (this version of the desk has none).\n");
  return 0;
}

/* ---------------------------------------------------------------------------------------------- bench bulk */

static int bulk(long size, FILE *out)
{
  struct destek_req *c = tkt_call_new();
  struct destek_db *w = tkt_db_write(c);
  if (!w) { tkt_call_end(c, 0); return 1; }
  int64_t seq0 = tkt_db_int(w, 0, "SELECT coalesce(max(seq), 0) FROM tkt_tickets", "");
  int64_t ref0 = tkt_db_int(w, 1000, "SELECT coalesce(max(reference), 1000) FROM tkt_tickets", "");
  int64_t cust0 = tkt_db_int(w, 0, "SELECT coalesce(max(id), 0) FROM core_contacts", "");
  int64_t tick0 = tkt_db_int(w, 0, "SELECT coalesce(max(id), 0) FROM tkt_tickets", "");
  long n_cust = size / 20 + 1;
  /* The writer's cached statements, stepped directly: the bulk path of a bench desk. */
  sqlite3_stmt *st = tkt_db_prepare(w, "INSERT INTO tkt_tickets(id, reference, subject, status, priority, channel,"
                                       " customer_id, assignee_id, order_number, created_at, updated_at, seq, tags_json)"
                                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, json_array(?13))");
  sqlite3_stmt *sm = tkt_db_prepare(w, "INSERT INTO tkt_messages(ticket_id, kind, author_user_id, author_customer_id,"
                                       " body, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  sqlite3_stmt *ss = tkt_db_prepare(w, "INSERT INTO tkt_search(rowid, subject, body, customer) VALUES (?1, ?2, ?3, ?4)");
  sqlite3_stmt *sg = tkt_db_prepare(w, "INSERT INTO tkt_ticket_tags(ticket_id, tag) VALUES (?1, ?2)");
  if (!st || !sm || !ss || !sg) { fprintf(stderr, "destek: %s\n", tkt_db_errmsg(w)); goto fail; }
  int64_t agent = tkt_db_int(w, 0, "SELECT min(id) FROM core_users", "");
  time_t t_now = time(NULL), span = 90 * 86400;
  char ts[21];
  for (long i = 0; i < n_cust; i++) {
    char name[64], email[128], sf[32], sl[32];
    int en = i % 12 == 11;
    const char *f = en ? PICK(FIRST_EN) : PICK(FIRST_TR), *l = en ? PICK(LAST_EN) : PICK(LAST_TR);
    snprintf(name, sizeof name, "%s %s", f, l);
    ascii_slug(f, sf, sizeof sf);
    ascii_slug(l, sl, sizeof sl);
    snprintf(email, sizeof email, "%s.%s.%ld@bench.example", sf, sl, cust0 + i + 1);
    /* Contacts are the core's: made through its API, in this transaction, so their ids follow one another. */
    if (tkt_contact_resolve(c, email, NULL, NULL, name, en ? "en" : "tr") != cust0 + i + 1) {
      fprintf(stderr, "destek: the demo's contacts could not be written: %s\n", tkt_db_errmsg(w));
      goto fail;
    }
  }
  static const char *const STATUSES[] = { "new", "open", "open", "pending", "on_hold", "solved", "closed", "closed",
                                          "closed", "closed" };
  char *bodies = malloc(16384);
  for (long i = 0; i < size; i++) {
    int64_t id = tick0 + i + 1, cid = cust0 + 1 + (int64_t)rnd((unsigned)n_cust);
    int en = rnd(12) == 0;
    const struct scenario *s = en ? &EN[rnd(COUNT(EN))] : &TR[rnd(COUNT(TR))];
    const char *product = en ? PICK(PRODUCTS_EN) : PICK(PRODUCTS_TR);
    int order = 100000 + (int)rnd(900000);
    char subject[256], msg[5][1024], cname[200];
    fill(subject, sizeof subject, s->subject, product, order);
    fill(msg[0], sizeof msg[0], s->body, product, order);
    fill(msg[1], sizeof msg[1], s->reply, product, order);
    fill(msg[2], sizeof msg[2], s->follow, product, order);
    fill(msg[3], sizeof msg[3], s->note ? s->note : "Müşteri arandı, bilgi verildi.", product, order);
    snprintf(msg[4], sizeof msg[4], en ? "Thank you, best regards." : "Teşekkür ederiz, iyi günler dileriz.");
    time_t base = t_now - span + (time_t)((double)span * (double)i / (double)size);
    util_iso_time(base, ts);
    char upd[21], order_s[16];
    util_iso_time(base + 5 * 1800, upd);
    snprintf(order_s, sizeof order_s, "%d", order);
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, ref0 + i + 1);
    sqlite3_bind_text(st, 3, subject, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, i > size - size / 20 ? STATUSES[rnd(5)] : PICK(STATUSES), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, PICK(PRIORITIES), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, PICK(CHANNELS), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, cid);
    if (agent > 0 && rnd(4)) sqlite3_bind_int64(st, 8, agent); else sqlite3_bind_null(st, 8);
    sqlite3_bind_text(st, 9, order_s, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 10, ts, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 11, upd, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 12, seq0 + i + 1);
    sqlite3_bind_text(st, 13, s->tag, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) { fprintf(stderr, "destek: %s\n", tkt_db_errmsg(w)); free(bodies); goto fail; }
    sqlite3_reset(st);
    size_t bl = 0;
    static const char *const KINDS[] = { "customer", "reply", "customer", "note", "reply" };
    for (int m = 0; m < 5; m++) {
      char mts[21];
      util_iso_time(base + m * 1800, mts);
      sqlite3_bind_int64(sm, 1, id);
      sqlite3_bind_text(sm, 2, KINDS[m], -1, SQLITE_STATIC);
      if (KINDS[m][0] == 'c') { sqlite3_bind_null(sm, 3); sqlite3_bind_int64(sm, 4, cid); }
      else { if (agent > 0) sqlite3_bind_int64(sm, 3, agent); else sqlite3_bind_null(sm, 3); sqlite3_bind_null(sm, 4); }
      sqlite3_bind_text(sm, 5, msg[m], -1, SQLITE_STATIC);
      sqlite3_bind_text(sm, 6, mts, -1, SQLITE_TRANSIENT);
      if (sqlite3_step(sm) != SQLITE_DONE) { fprintf(stderr, "destek: %s\n", tkt_db_errmsg(w)); free(bodies); goto fail; }
      sqlite3_reset(sm);
      size_t l = strlen(msg[m]);
      memcpy(bodies + bl, msg[m], l);
      bl += l;
      bodies[bl++] = '\n';
    }
    bodies[bl ? bl - 1 : 0] = 0;
    sqlite3_bind_int64(sg, 1, id);
    sqlite3_bind_text(sg, 2, s->tag, -1, SQLITE_STATIC);
    sqlite3_step(sg);
    sqlite3_reset(sg);
    char *cn = tkt_db_text_new(w, "SELECT name || ' ' || coalesce(email, '') FROM core_contacts WHERE id = ?1", "i", cid);
    snprintf(cname, sizeof cname, "%s", cn ? cn : "");
    free(cn);
    char *fs = tkt_fold_new(subject, strlen(subject)), *fb = tkt_fold_new(bodies, strlen(bodies)),
         *fc = tkt_fold_new(cname, strlen(cname));
    sqlite3_bind_int64(ss, 1, id);
    sqlite3_bind_text(ss, 2, fs, -1, free);
    sqlite3_bind_text(ss, 3, fb, -1, free);
    sqlite3_bind_text(ss, 4, fc, -1, free);
    if (sqlite3_step(ss) != SQLITE_DONE) { fprintf(stderr, "destek: %s\n", tkt_db_errmsg(w)); free(bodies); goto fail; }
    sqlite3_reset(ss);
  }
  free(bodies);
  tkt_db_done(st); tkt_db_done(sm); tkt_db_done(ss); tkt_db_done(sg);
  if (tkt_call_end(c, 1) != 0) { fprintf(stderr, "destek: the bench data could not be saved\n"); return 1; }
  fprintf(out, "bench data: %ld tickets, %ld messages, %ld customers\n", size, size * 5, n_cust);
  return 0;
fail:
  tkt_db_done(st); tkt_db_done(sm); tkt_db_done(ss); tkt_db_done(sg);
  tkt_call_end(c, 0);
  return 1;
}

int tkt_demo_fill(int force, long size, FILE *out)
{
  struct destek_db *r = tkt_db_read(NULL);
  int64_t n = r ? tkt_db_int(r, 0, "SELECT count(*) FROM tkt_tickets", "") : 0;
  if (n > 0 && !force) {
    fprintf(stderr, "destek: this desk already has %lld tickets; the demo only fills an empty desk "
                    "(use a new --data directory, or --force to add demo data anyway)\n", (long long)n);
    return 1;
  }
  rng ^= (uint64_t)time(NULL) * 0x2545F4914F6CDD1DULL;
  return size > 0 ? bulk(size, out) : demo_shop(out);
}
