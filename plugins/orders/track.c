/* The public tracking page, /track: a customer gives the order number and the e-mail or phone on the order and
 * sees its status, shipments with their timeline and carrier link, and the items. Server-rendered HTML (no script),
 * Turkish and English, readable on a 360 px phone; every value from the store is escaped. Nothing of an order is
 * shown without both the number and the matching e-mail or phone, and lookups are rate-limited per address and per
 * order number (so one order's e-mail cannot be guessed from many addresses either). */
#include "orders.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct words {
  const char *title, *intro, *number, *contact, *contact_hint, *submit, *not_found, *missing, *limited, *status,
    *placed, *shipments, *no_shipments, *track_link, *items, *qty, *again, *timeline, *tracking_no, *privacy;
  const char *order_status[8];
  const char *ship_status[9];
};

static const struct words TR = {
  "Sipariş takibi", "Siparişinizin durumunu görmek için sipariş numaranızı ve siparişte kullandığınız e-posta adresini ya da telefon numarasını girin.",
  "Sipariş numarası", "E-posta veya telefon", "Siparişte kullandığınız e-posta ya da telefon", "Sorgula",
  "Bu bilgilerle eşleşen bir sipariş bulunamadı. Numarayı ve e-posta/telefonu kontrol edin.",
  "Sipariş numarasını ve e-posta ya da telefonu girin.", "Çok fazla deneme yapıldı. Lütfen biraz sonra tekrar deneyin.",
  "Durum", "Sipariş tarihi", "Kargo", "Siparişiniz henüz kargoya verilmedi.", "Kargo firmasında takip et",
  "Ürünler", "adet", "Başka bir sipariş sorgula", "Hareketler", "Takip no",
  "Kişisel verilerin işlenmesine ilişkin aydınlatma metni (KVKK)",
  { "Ödeme bekleniyor", "Hazırlanıyor", "Beklemede", "Kargoya verildi", "Tamamlandı", "İptal edildi", "İade edildi",
    "Başarısız" },
  { "Bekleniyor", "Kargo bilgisi alındı", "Yolda", "Dağıtımda", "Teslim edilemedi", "Teslim edildi",
    "Şubede teslim alınabilir", "Sorun var", "Süresi doldu" },
};

static const struct words EN = {
  "Order tracking", "To see your order's status, enter your order number and the e-mail address or phone number you used for the order.",
  "Order number", "E-mail or phone", "The e-mail or phone on your order", "Track",
  "No order matches these details. Check the number and the e-mail or phone.",
  "Enter the order number and the e-mail or phone.", "Too many attempts. Please try again in a little while.",
  "Status", "Ordered on", "Shipping", "Your order has not been shipped yet.", "Track with the carrier",
  "Items", "pcs", "Track another order", "Updates", "Tracking no",
  "How we process your personal data (KVKK notice)",
  { "Awaiting payment", "Being prepared", "On hold", "Shipped", "Completed", "Cancelled", "Refunded", "Failed" },
  { "Pending", "Info received", "In transit", "Out for delivery", "Delivery attempt failed", "Delivered",
    "Ready for pickup", "Exception", "Expired" },
};

static const char *word_of(const char *const *names, const char *const *words, const char *value)
{
  for (int i = 0; names[i]; i++)
    if (value && !strcmp(value, names[i])) return words[i];
  return value ? value : "";
}

/* Appends s to f, HTML-escaped (text and attribute values alike): the runs between special bytes in one write each. */
static void esc(FILE *f, const char *s)
{
  if (!s) return;
  for (;;) {
    size_t run = strcspn(s, "&<>\"'");
    if (run) fwrite(s, 1, run, f);
    s += run;
    switch (*s) {
    case 0: return;
    case '&': fputs("&amp;", f); break;
    case '<': fputs("&lt;", f); break;
    case '>': fputs("&gt;", f); break;
    case '"': fputs("&quot;", f); break;
    default: fputs("&#39;", f); break;
    }
    s++;
  }
}

static void page_start(FILE *f, const struct words *w, const char *lang)
{
  fprintf(f, "<!doctype html><html lang=\"%s\"><head><meta charset=\"utf-8\">"
             "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
             "<meta name=\"robots\" content=\"noindex\"><title>", lang);
  esc(f, w->title);
  /* The shop's face (the core's shop.* settings): its colour through /shop/theme.css, its logo and name. */
  fputs("</title><link rel=\"stylesheet\" href=\"/track/style.css\"><link rel=\"stylesheet\" href=\"/shop/theme.css\">"
        "</head><body><main>", f);
  char *shop = ord_host->setting_new("orders.shop_name");
  if (!shop || !*shop) { free(shop); shop = ord_host->setting_new("shop.name"); }
  char *logo = ord_host->setting_new("shop.logo_url");
  if ((shop && *shop) || (logo && *logo)) {
    fputs("<p class=\"shop\">", f);
    if (logo && *logo) { fputs("<img class=\"logo\" alt=\"\" src=\"", f); esc(f, logo); fputs("\">", f); }
    if (shop) esc(f, shop);
    fputs("</p>", f);
  }
  free(shop);
  free(logo);
  fputs("<h1>", f);
  esc(f, w->title);
  fprintf(f, "</h1><nav class=\"lang\"><a href=\"/track?lang=tr\"%s>Türkçe</a> · <a href=\"/track?lang=en\"%s>English</a></nav>",
          !strcmp(lang, "tr") ? " aria-current=\"true\"" : "", !strcmp(lang, "en") ? " aria-current=\"true\"" : "");
}

static void form(FILE *f, const struct words *w, const char *lang, const char *number, const char *message)
{
  if (message) { fputs("<p class=\"error\" role=\"alert\">", f); esc(f, message); fputs("</p>", f); }
  fputs("<p>", f);
  esc(f, w->intro);
  fprintf(f, "</p><form method=\"post\" action=\"/track\"><input type=\"hidden\" name=\"lang\" value=\"%s\">", lang);
  fputs("<label for=\"number\">", f);
  esc(f, w->number);
  fputs("</label><input id=\"number\" name=\"number\" required maxlength=\"64\" autocomplete=\"off\" inputmode=\"text\" value=\"", f);
  esc(f, number ? number : "");
  fputs("\"><label for=\"contact\">", f);
  esc(f, w->contact);
  fputs("</label><input id=\"contact\" name=\"contact\" required maxlength=\"200\" placeholder=\"", f);
  esc(f, w->contact_hint);
  fputs("\"><button type=\"submit\">", f);
  esc(f, w->submit);
  fputs("</button></form>", f);
  /* The form takes an e-mail or phone: the shop's KVKK notice beside it. */
  char *notice = ord_host->setting_new("shop.privacy_url");
  if (notice && *notice) {
    fputs("<p class=\"privacy\"><a rel=\"noopener\" data-link=\"privacy\" href=\"", f);
    esc(f, notice);
    fputs("\">", f);
    esc(f, w->privacy);
    fputs("</a></p>", f);
  }
  free(notice);
}

/* Ends the page written to f (an open_memstream of *text and *len, which are set only once f is closed) and
 * answers it. */
static int send_page(struct destek_req *r, int status, FILE *f, char **text, size_t *len)
{
  fputs("</main></body></html>", f);
  fclose(f);
  ord_add_header(r, "Cache-Control", "no-store");
  ord_add_header(r, "X-Robots-Tag", "noindex, nofollow");
  return ord_reply_take(r, status, "text/html; charset=utf-8", *text, *len);
}

static const char *lang_of(struct destek_req *r, const char *asked)
{
  if (asked && (!strcmp(asked, "tr") || !strcmp(asked, "en"))) return asked;
  const char *l = ord_lang(r);
  return l && !strcmp(l, "en") ? "en" : "tr";
}

static int track_form(struct destek_req *r)
{
  char lang_q[8] = "";
  ord_query_get(r, "lang", lang_q, sizeof lang_q);
  const char *lang = lang_of(r, lang_q);
  const struct words *w = !strcmp(lang, "en") ? &EN : &TR;
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  if (!f) abort();
  page_start(f, w, lang);
  form(f, w, lang, NULL, NULL);
  return send_page(r, 200, f, &text, &len);
}

/* Decodes one application/x-www-form-urlencoded value of name from body into out (at most cap-1 bytes). */
static void form_value(const char *body, size_t len, const char *name, char *out, size_t cap)
{
  size_t nl = strlen(name), o = 0;
  out[0] = 0;
  const char *p = body, *end = body + len;
  while (p < end) {
    const char *amp = memchr(p, '&', (size_t)(end - p));
    const char *stop = amp ? amp : end;
    if ((size_t)(stop - p) > nl && !strncmp(p, name, nl) && p[nl] == '=') {
      for (const char *q = p + nl + 1; q < stop && o + 1 < cap; q++) {
        if (*q == '+') out[o++] = ' ';
        else if (*q == '%' && stop - q >= 3 && isxdigit((unsigned char)q[1]) && isxdigit((unsigned char)q[2])) {
          char hex[3] = { q[1], q[2], 0 };
          out[o++] = (char)strtol(hex, NULL, 16);
          q += 2;
        } else out[o++] = *q;
      }
      out[o] = 0;
      return;
    }
    p = stop + 1;
  }
}

static void trim(char *s)
{
  size_t n = strlen(s);
  while (n && isspace((unsigned char)s[n - 1])) s[--n] = 0;
  size_t lead = strspn(s, " \t\r\n");
  memmove(s, s + lead, n - lead + 1);
}

static const char *col(sqlite3_stmt *st, int i) { return (const char *)sqlite3_column_text(st, i); }

/* A shipment of the page, read before its checkpoints and ETA are (one statement at a time on the reader). */
struct track_ship {
  int64_t id;
  char *carrier, *carrier_name, *number, *status, *shipped_at, *url;
};

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

static int ship_by_id(const void *a, const void *b)
{
  int64_t x = ((const struct track_ship *)a)->id, y = ((const struct track_ship *)b)->id;
  return x < y ? -1 : x > y;
}

/* The order's part of the page, read straight from the store (no JSON between): the order row the lookup matched
 * (number, status, placed_at, province), its parcels with their timelines and ETAs, its items. */
static void result(FILE *f, const struct words *w, const char *lang, struct destek_db *db, int64_t id,
                   const char *number, const char *status, const char *placed, const char *province)
{
  fputs("<section class=\"order\"><h2>#", f);
  esc(f, number);
  fputs("</h2><dl><dt>", f);
  esc(f, w->status);
  fputs("</dt><dd class=\"status\">", f);
  esc(f, word_of(ORD_STATUSES, w->order_status, status));
  fputs("</dd>", f);
  if (placed) {
    fputs("<dt>", f);
    esc(f, w->placed);
    fputs("</dt><dd>", f);
    fprintf(f, "%.10s", placed);
    fputs("</dd>", f);
  }
  fputs("</dl></section><section><h2>", f);
  esc(f, w->shipments);
  fputs("</h2>", f);
  struct track_ship ships[64];
  int n = 0;
  /* In the index's order (order_id, ref), put in id order here: an ORDER BY s.id would build a temporary B-tree for
   * every page. The first 64 by id, as the ORDER BY gave. */
  sqlite3_stmt *st = ord_db_prepare(db,
    "SELECT s.id, s.carrier, coalesce(c.name, s.carrier_name), s.tracking_number, s.status, s.shipped_at, s.source_url,"
    " c.url_template FROM orders_shipments s LEFT JOIN orders_carriers c ON c.code = s.carrier"
    " WHERE s.order_id = ?1");
  if (st) {
    ord_db_bind(st, "i", id);
    while (sqlite3_step(st) == SQLITE_ROW) {
      int64_t sid = sqlite3_column_int64(st, 0);
      struct track_ship *t = NULL;
      if (n < 64) {
        t = &ships[n++];
      } else {
        int top = 0;
        for (int k = 1; k < n; k++) if (ships[k].id > ships[top].id) top = k;
        if (ships[top].id < sid) continue;
        t = &ships[top];
        free(t->carrier); free(t->carrier_name); free(t->number); free(t->status); free(t->shipped_at); free(t->url);
      }
      t->id = sid;
      t->carrier = dup_or_null(col(st, 1));
      t->carrier_name = dup_or_null(col(st, 2));
      t->number = dup_or_null(col(st, 3));
      t->status = dup_or_null(col(st, 4));
      t->shipped_at = dup_or_null(col(st, 5));
      t->url = ord_tracking_url_new(col(st, 7), col(st, 3), col(st, 6));
    }
    ord_db_done(st);
  }
  qsort(ships, (size_t)n, sizeof *ships, ship_by_id);
  if (!n) { fputs("<p>", f); esc(f, w->no_shipments); fputs("</p>", f); }
  for (int k = 0; k < n; k++) {
    struct track_ship *t = &ships[k];
    fputs("<article class=\"shipment\"><p><strong>", f);
    esc(f, t->carrier_name ? t->carrier_name : "");
    fputs("</strong> <span class=\"badge\">", f);
    esc(f, word_of(ORD_SHIPMENT_STATUSES, w->ship_status, t->status));
    fputs("</span></p>", f);
    if (t->number) {
      fputs("<p>", f);
      esc(f, w->tracking_no);
      fputs(": <code>", f);
      esc(f, t->number);
      fputs("</code></p>", f);
    }
    char eta[11];
    if (t->status && strcmp(t->status, "Delivered") && strcmp(t->status, "Expired") &&   /* eta.c */
        ord_eta_date(db, t->carrier, province, t->shipped_at, eta) == 0) {
      fputs(!strcmp(lang, "en") ? "<p>Expected delivery: <time>" : "<p>Tahmini teslim: <time>", f);
      esc(f, eta);
      fputs("</time></p>", f);
    }
    if (t->url && (!strncmp(t->url, "https://", 8) || !strncmp(t->url, "http://", 7))) {
      fputs("<p><a class=\"button\" rel=\"noopener noreferrer nofollow\" target=\"_blank\" href=\"", f);
      esc(f, t->url);
      fputs("\">", f);
      esc(f, w->track_link);
      fputs("</a></p>", f);
    }
    st = ord_db_prepare(db, "SELECT at, status, location, message FROM orders_checkpoints WHERE shipment_id = ?1"
                            " ORDER BY at DESC, id DESC");   /* newest first */
    if (st) {
      ord_db_bind(st, "i", t->id);
      int any = 0;
      while (sqlite3_step(st) == SQLITE_ROW) {
        if (!any++) {
          fputs("<h3>", f);
          esc(f, w->timeline);
          fputs("</h3><ol class=\"timeline\">", f);
        }
        fputs("<li><time>", f);
        const char *at = col(st, 0);
        if (at) fprintf(f, "%.10s %.5s", at, strlen(at) >= 16 ? at + 11 : "");
        fputs("</time> <strong>", f);
        esc(f, word_of(ORD_SHIPMENT_STATUSES, w->ship_status, col(st, 1)));
        fputs("</strong>", f);
        if (col(st, 2)) { fputs(" · ", f); esc(f, col(st, 2)); }
        if (col(st, 3)) { fputs("<br>", f); esc(f, col(st, 3)); }
        fputs("</li>", f);
      }
      if (any) fputs("</ol>", f);
      ord_db_done(st);
    }
    fputs("</article>", f);
    free(t->carrier); free(t->carrier_name); free(t->number); free(t->status); free(t->shipped_at); free(t->url);
  }
  fputs("</section><section><h2>", f);
  esc(f, w->items);
  fputs("</h2><ul class=\"items\">", f);
  st = ord_db_prepare(db, "SELECT name, variant, quantity FROM orders_items WHERE order_id = ?1 ORDER BY position");
  if (st) {
    ord_db_bind(st, "i", id);
    while (sqlite3_step(st) == SQLITE_ROW) {
      fputs("<li>", f);
      esc(f, col(st, 0));
      if (col(st, 1)) { fputs(" <small>(", f); esc(f, col(st, 1)); fputs(")</small>", f); }
      fprintf(f, " × %d ", (int)sqlite3_column_int64(st, 2));
      esc(f, w->qty);
      fputs("</li>", f);
    }
    ord_db_done(st);
  }
  fputs("</ul></section>", f);
}

/* The notices' channel on the page (notify.c): WhatsApp at the order's number when the customer looked the order up
 * with that number, else how to; saved says the choice was just recorded. The form repeats the lookup's fields: the
 * choice is made by whoever could look the order up, and by no one else. */
static void notify_part(FILE *f, const char *lang, const char *number, const char *contact, const char *phone,
                        int by_phone, const char *channel, int saved)
{
  int en = !strcmp(lang, "en"), on_wa = channel && !strcmp(channel, "whatsapp");
  fputs(en ? "<section class=\"notify\"><h2>Notifications</h2>" : "<section class=\"notify\"><h2>Bildirimler</h2>", f);
  if (saved) fputs(en ? "<p role=\"status\">Your choice is saved.</p>" : "<p role=\"status\">Tercihiniz kaydedildi.</p>", f);
  if (!by_phone && !on_wa) {
    fputs(en ? "<p>To get this order's shipping updates on WhatsApp, look it up with the phone number on the order.</p>"
             : "<p>Bu siparişin kargo bildirimlerini WhatsApp'tan almak için siparişi, siparişteki telefon numarasıyla"
               " sorgulayın.</p>", f);
    fputs("</section>", f);
    return;
  }
  char shown[40] = "";
  if (phone && strlen(phone) > 4)
    snprintf(shown, sizeof shown, "+%.*s…%s", (int)(strlen(phone) > 7 ? 5 : 2), phone, phone + strlen(phone) - 2);
  fputs("<p>", f);
  if (on_wa) fprintf(f, en ? "Shipping updates for this order come on WhatsApp (%s)." : "Bu siparişin kargo bildirimleri"
                             " WhatsApp'tan geliyor (%s).", shown);
  else fprintf(f, en ? "Get this order's shipping updates on WhatsApp at %s instead of e-mail?" : "Bu siparişin kargo"
                       " bildirimleri e-posta yerine WhatsApp'tan %s numarasına gelsin mi?", shown);
  fprintf(f, "</p><form method=\"post\" action=\"/track\"><input type=\"hidden\" name=\"lang\" value=\"%s\">", lang);
  fputs("<input type=\"hidden\" name=\"number\" value=\"", f);
  esc(f, number);
  fputs("\"><input type=\"hidden\" name=\"contact\" value=\"", f);
  esc(f, contact);
  fprintf(f, "\"><input type=\"hidden\" name=\"notify\" value=\"%s\"><button type=\"submit\">%s</button></form>",
          on_wa ? "email" : "whatsapp", on_wa ? (en ? "Send them by e-mail" : "E-postayla gönderilsin")
                                              : (en ? "Send them on WhatsApp" : "WhatsApp'tan gönderilsin"));
  fputs("</section>", f);
}

static int track_lookup(struct destek_req *r)
{
  const char *body;
  size_t len;
  int rc = ord_body_raw(r, &body, &len);
  if (rc) return rc;
  char number[72], contact[208], lang_q[8], notify[12];
  form_value(body, len, "number", number, sizeof number);
  form_value(body, len, "contact", contact, sizeof contact);
  form_value(body, len, "lang", lang_q, sizeof lang_q);
  form_value(body, len, "notify", notify, sizeof notify);
  if (notify[0] && strcmp(notify, "whatsapp") && strcmp(notify, "email")) notify[0] = 0;
  trim(number);
  trim(contact);
  const char *lang = lang_of(r, lang_q);
  const struct words *w = !strcmp(lang, "en") ? &EN : &TR;
  char *text = NULL;
  size_t tlen = 0;
  FILE *f = open_memstream(&text, &tlen);
  if (!f) abort();
  page_start(f, w, lang);
  const char *num = number[0] == '#' ? number + 1 : number;
  if (!*num || !contact[0]) {
    form(f, w, lang, number, w->missing);
    return send_page(r, 422, f, &text, &tlen);
  }
  long window = ord_setting_int("orders.track_window_seconds", 600), wait = 0;
  char nkey[80];
  snprintf(nkey, sizeof nkey, "n:%s", num);
  /* Both hits counted in memory (host->rate_take_memory): a lookup never waits for the writer, and a wrong guess
   * counts as much as a right one. A restart forgets them (one window more of guesses at most); when the core's table
   * is full of live keys, they are counted on the writer as before, in a call of their own. */
  long ip_limit = ord_setting_int("orders.track_limit", 10), number_limit = ord_setting_int("orders.track_number_limit", 20);
  const char *ip = ord_client_ip(r);
  int64_t by_ip = -1, by_number = -1;
  if (DESTEK_HOST_HAS(ord_host, rate_take_memory)) {
    by_ip = ord_host->rate_take_memory("orders.track", ip, ip_limit, window, &wait);
    if (by_ip > 0) by_number = ord_host->rate_take_memory("orders.track", nkey, number_limit, window, &wait);
  }
  if (by_ip < 0 || (by_ip > 0 && by_number < 0)) {
    struct destek_req *hits = ord_call_new();
    if (by_ip < 0) by_ip = ord_rate_take(hits, "orders.track", ip, ip_limit, window, &wait);
    if (by_ip > 0 && by_number < 0)
      by_number = ord_rate_take(hits, "orders.track", nkey, number_limit, window, &wait);
    if (ord_call_end(hits, 1) != 0) by_ip = 0;
  }
  if (by_ip <= 0 || by_number <= 0) {
    char after[24];
    snprintf(after, sizeof after, "%ld", wait > 0 ? wait : 1);
    ord_add_header(r, "Retry-After", after);
    form(f, w, lang, number, w->limited);
    return send_page(r, 429, f, &text, &tlen);
  }
  /* Every read of the page (the order, its items, parcels, checkpoints, ETAs) in one read transaction; not when the
   * customer also records a choice (the call then writes). */
  if (!notify[0] && DESTEK_HOST_HAS(ord_host, db_read_snapshot)) ord_host->db_read_snapshot(r);
  struct destek_db *db = ord_db_read(r);
  int64_t id = 0;
  int match = 0, by_phone = 0;
  int64_t found = db ? ord_order_by_number(db, num) : 0;   /* "tr9001" finds "TR9001" */
  sqlite3_stmt *st = found ? ord_db_prepare(db, "SELECT id, email, phone, number, status, placed_at, ship_province"
                                                    " FROM orders_orders WHERE id = ?1") : NULL;
  if (st) {
    ord_db_bind(st, "i", found);
    if (sqlite3_step(st) == SQLITE_ROW) {
      id = sqlite3_column_int64(st, 0);
      const char *email = col(st, 1), *phone = col(st, 2);
      if (strchr(contact, '@')) {
        for (char *p = contact; *p; p++) *p = (char)tolower((unsigned char)*p);
        match = email && !strcmp(email, contact);
      } else {
        char norm[32];
        ord_phone_norm(contact, norm);
        match = by_phone = phone && strlen(norm) >= 7 && !strcmp(phone, norm);
      }
    }
  }
  if (!match) {
    if (st) ord_db_done(st);
    form(f, w, lang, number, w->not_found);
    return send_page(r, 404, f, &text, &tlen);
  }
  /* copied: the page reads the rest with other statements of the same reader */
  char *onum = dup_or_null(col(st, 3)), *ostatus = dup_or_null(col(st, 4)), *placed = dup_or_null(col(st, 5)),
       *province = dup_or_null(col(st, 6)), *ophone = dup_or_null(col(st, 2));
  ord_db_done(st);
  /* The notices' channel (notify.c): WhatsApp only to the number the order holds and the customer typed. */
  int offered = ord_notify_offered(), saved = 0, status = 200;
  if (notify[0] && offered && (by_phone || !strcmp(notify, "email"))) {
    if (ord_notify_from_page(r, id, notify, ophone) != 0) {
      free(onum); free(ostatus); free(placed); free(province); free(ophone);
      fclose(f);
      free(text);
      return ord_error(r, 500, "internal", "the choice could not be saved");
    }
    saved = 1;
  } else if (notify[0]) {
    status = 422;   /* not offered, or WhatsApp asked for without the phone */
  }
  char *channel = ord_db_text_new(ord_db_read(r), "SELECT channel FROM orders_notify_choices WHERE order_id = ?1", "i", id);
  if (saved) { free(channel); channel = strdup(notify); }
  result(f, w, lang, db, id, onum, ostatus, placed, province);
  if (offered) notify_part(f, lang, onum, contact, ophone, by_phone, channel, saved);
  fprintf(f, "<p><a href=\"/track?lang=%s\">", lang);
  esc(f, w->again);
  fputs("</a></p>", f);
  free(onum); free(ostatus); free(placed); free(province); free(ophone); free(channel);
  if (status != 200) return send_page(r, status, f, &text, &tlen);
  return send_page(r, 200, f, &text, &tlen);
}

static const char STYLE[] =
  "*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif;"
  "color:#1f2328;background:#f6f7f9}main{max-width:40rem;margin:0 auto;padding:1rem}h1{font-size:1.5rem;margin:.5rem 0}"
  "h2{font-size:1.15rem;margin:1.25rem 0 .5rem}h3{font-size:1rem;margin:.75rem 0 .25rem}"
  ".shop{color:#57606a;margin:0}.lang{font-size:.9rem;margin-bottom:1rem}.lang a[aria-current]{font-weight:600}"
  "form{display:flex;flex-direction:column;gap:.5rem;background:#fff;padding:1rem;border-radius:8px;border:1px solid #d0d7de}"
  "label{font-weight:600}input{font:inherit;padding:.6rem;border:1px solid #8c959f;border-radius:6px;width:100%}"
  "button,.button{font:inherit;display:inline-block;padding:.6rem 1rem;border:0;border-radius:6px;background:#0a6c74;"
  "color:#fff;text-decoration:none;text-align:center}button{margin-top:.5rem}button,.button{background:var(--shop-colour,#0a6c74)}"
  ".shop{display:flex;align-items:center;gap:.5rem}.logo{height:2rem;width:auto;max-width:10rem}.privacy{font-size:.9rem}"
  ".error{background:#fff1f0;border:1px solid #cf222e;color:#82071e;padding:.6rem;border-radius:6px}"
  ".order,.shipment{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:.75rem 1rem;margin:.5rem 0}"
  "dl{display:grid;grid-template-columns:auto 1fr;gap:.25rem 1rem;margin:0}dt{color:#57606a}dd{margin:0}"
  ".status{font-weight:600}.badge{background:#ddf4ff;color:#0550ae;border-radius:1rem;padding:.1rem .6rem;"
  "font-size:.9rem;white-space:nowrap}code{word-break:break-all}.timeline{padding-left:1.2rem;margin:0}"
  ".timeline li{margin:.35rem 0}time{color:#57606a;font-size:.9rem}.items{padding-left:1.2rem}"
  "a{color:#0a6c74;color:var(--shop-colour,#0a6c74);overflow-wrap:anywhere}";

static int track_style(struct destek_req *r)
{
  ord_add_header(r, "Cache-Control", "public, max-age=3600");
  return ord_reply_body(r, 200, "text/css; charset=utf-8", STYLE, sizeof STYLE - 1);
}

const struct destek_route ord_track_routes[] = {
  { "GET",  "/track",           track_form,   DESTEK_PUBLIC, NULL },
  { "POST", "/track",           track_lookup, DESTEK_PUBLIC, NULL, 16 * 1024 },
  { "GET",  "/track/style.css", track_style,  DESTEK_PUBLIC, NULL },
  { 0 }
};
