/* Proactive notices and delay detection (issue 12, second part).
 *
 * Status notices: when a shipment's status changes to InTransit (shipped), OutForDelivery, Delivered, or Exception /
 * AttemptFail (exception), a row of orders_notices is written once per (order, shipment, kind) and the event
 * shipment.shipped / shipment.out_for_delivery / shipment.delivered / shipment.exception is emitted, in the
 * transaction that changed the status. A shipment that arrives with the order it belongs to (the order was imported
 * with it) records its status as 'baseline': statuses that passed before the import are never announced.
 * Delays (the scan runs with each tracking pass, every minute):
 *   not_shipped  an order in processing or on_hold with a promised_dispatch_date before today (Istanbul) and no
 *                shipment that has shipped -> order.delayed {reason: "not_shipped"};
 *   no_scan      a shipment InTransit whose last checkpoint is older than orders.no_scan_hours -> shipment.delayed;
 *   past_eta     a shipment not yet delivered whose ETA (eta.c) is before today -> shipment.delayed.
 * Each once per order / shipment, and only when the date or the silence began after the order was imported.
 * The customer: an async subscriber of those events queues a mail to the order's contact through the core
 * (host->message_send, a service message: nothing promotional; Turkish or English by the contact's language; the core
 * sends it over the mail.* server after the commit and retries), and, for a
 * delay or an exception, adds an internal note to the contact's open ticket through ticketing's services
 * (ticketing.open_tickets, ticketing.note). orders.notice_* switch each mail off; orders.delay_note the notes. */
#include "orders.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "destek_util.h"

_Thread_local int64_t ord_importing_order;

static const struct destek_setting notice_settings[] = {
  { "orders.notice_shipped", DESTEK_SETTING_BOOL, "true", 0, "Mail the customer when a shipment is on its way" },
  { "orders.notice_out_for_delivery", DESTEK_SETTING_BOOL, "true", 0, "Mail the customer when it is out for delivery" },
  { "orders.notice_delivered", DESTEK_SETTING_BOOL, "true", 0, "Mail the customer when it is delivered" },
  { "orders.notice_exception", DESTEK_SETTING_BOOL, "true", 0, "Mail the customer when the carrier reports a problem" },
  { "orders.notice_delay", DESTEK_SETTING_BOOL, "true", 0,
    "Mail the customer about delays (not shipped by the promised date, no scan, past the ETA)" },
  { "orders.delay_note", DESTEK_SETTING_BOOL, "true", 0,
    "Add an internal note about a delay or an exception to the customer's open ticket" },
  { "orders.no_scan_hours", DESTEK_SETTING_INT, "48", 0, "Hours in transit without a carrier scan before it is a delay" },
  { 0 }
};

static const char *str_of(const cJSON *o, const char *name)
{
  const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, name));
  return s && *s ? s : NULL;
}

static const char *kind_of_status(const char *s)
{
  if (!s) return NULL;
  if (!strcmp(s, "InTransit")) return "shipped";
  if (!strcmp(s, "OutForDelivery")) return "out_for_delivery";
  if (!strcmp(s, "Delivered")) return "delivered";
  if (!strcmp(s, "Exception") || !strcmp(s, "AttemptFail")) return "exception";
  return NULL;
}

/* Status notices, inside the transaction that changed the status. */
static int on_shipment(struct destek_req *call, const struct destek_event *ev, void *ud, char *err, size_t errlen)
{
  (void)ud; (void)err; (void)errlen;
  const char *status = str_of(ev->payload, "status"), *prev = str_of(ev->payload, "previous_status");
  const char *kind = kind_of_status(status);
  if (!kind || (prev && !strcmp(prev, status))) return 0;
  int64_t sid = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(ev->payload, "id"));
  int64_t oid = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(ev->payload, "order_id"));
  struct destek_db *w = ord_db_write(call);
  if (!w) return 0;
  /* Stored with the new order it came with: the order was imported in this state. */
  int baseline = ord_importing_order == oid;
  char now[21];
  ord_now(now);
  if (ord_db_exec(w, "INSERT OR IGNORE INTO orders_notices(order_id, shipment_id, kind, state, created_at)"
                     " VALUES (?1, ?2, ?3, ?4, ?5)", "iitt" "t", oid, sid, kind, baseline ? "baseline" : "pending", now)
      != SQLITE_OK || ord_db_changes(w) != 1 || baseline)
    return 0;
  cJSON *p = cJSON_Duplicate(ev->payload, 1);
  cJSON_AddNumberToObject(p, "notice_id", (double)ord_db_last_id(w));
  char name[48];
  snprintf(name, sizeof name, "shipment.%s", kind);
  return ord_emit(call, name, ev->subject, p);
}

/* ------------------------------------------------------------------------------------------------ delays */

static cJSON *shipment_payload(struct destek_db *db, int64_t order_id, int64_t sid)
{
  cJSON *all = ord_shipments_json(db, order_id), *s, *out = NULL;
  cJSON_ArrayForEach(s, all) {
    if ((int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(s, "id")) == sid) {
      out = cJSON_DetachItemViaPointer(all, s);
      break;
    }
  }
  cJSON_Delete(all);
  if (!out) return NULL;
  cJSON_DeleteItemFromObjectCaseSensitive(out, "checkpoints");
  cJSON_AddNumberToObject(out, "order_id", (double)order_id);
  char *num = ord_db_text_new(db, "SELECT number FROM orders_orders WHERE id = ?1", "i", order_id);
  cJSON_AddStringToObject(out, "order_number", num ? num : "");
  free(num);
  return out;
}

/* Records a delay notice and emits its event in a call of its own. 1 when it was new. */
static int delay_record(int64_t order_id, int64_t sid, const char *reason, const char *detail)
{
  struct destek_req *c = ord_call_new();
  struct destek_db *w = ord_db_write(c);
  int fresh = 0;
  char now[21];
  ord_now(now);
  if (w && ord_db_exec(w, "INSERT OR IGNORE INTO orders_notices(order_id, shipment_id, kind, detail, created_at)"
                          " VALUES (?1, ?2, ?3, ?4, ?5)", "iitt" "t", order_id, sid, reason, detail, now) == SQLITE_OK &&
      ord_db_changes(w) == 1) {
    int64_t nid = ord_db_last_id(w);
    cJSON *p = sid ? shipment_payload(w, order_id, sid) : ord_order_json(w, order_id, 0);
    if (p) {
      cJSON_AddStringToObject(p, "reason", reason);
      if (detail) cJSON_AddStringToObject(p, "detail", detail);
      cJSON_AddNumberToObject(p, "notice_id", (double)nid);
      char subject[40];
      snprintf(subject, sizeof subject, "order:%lld", (long long)order_id);
      fresh = ord_emit(c, sid ? "shipment.delayed" : "order.delayed", subject, p) == 0;
    }
  }
  if (ord_call_end(c, fresh) != 0) fresh = 0;
  return fresh;
}

int ord_delay_scan(void)
{
  int64_t now = ord_clock_now();
  char today[11], since[21], silent[21];
  ord_local_date(now, today);
  util_iso_time((time_t)(now - 60 * 86400LL), since);
  long hours = ord_setting_int("orders.no_scan_hours", 48);
  if (hours < 1) hours = 1;
  util_iso_time((time_t)(now - hours * 3600), silent);
  struct destek_db *db = ord_db_read(NULL);
  if (!db) return 0;
  int found = 0;
  int64_t ids[100][2];
  char details[100][24];
  int n = 0;

  sqlite3_stmt *st = ord_db_prepare(db,
    "SELECT o.id, o.promised_dispatch_date FROM orders_orders o WHERE o.status IN ('processing', 'on_hold')"
    " AND o.promised_dispatch_date IS NOT NULL AND o.promised_dispatch_date < ?1"
    " AND o.promised_dispatch_date >= substr(o.created_at, 1, 10)"
    " AND NOT EXISTS (SELECT 1 FROM orders_shipments s WHERE s.order_id = o.id AND s.shipped_at IS NOT NULL)"
    " AND NOT EXISTS (SELECT 1 FROM orders_notices n WHERE n.order_id = o.id AND n.shipment_id = 0"
    "                 AND n.kind = 'not_shipped') ORDER BY o.id LIMIT 100");
  if (st) {
    ord_db_bind(st, "t", today);
    while (n < 100 && sqlite3_step(st) == SQLITE_ROW) {
      ids[n][0] = sqlite3_column_int64(st, 0);
      snprintf(details[n++], 24, "%s", (const char *)sqlite3_column_text(st, 1));
    }
    ord_db_done(st);
  }
  for (int i = 0; i < n; i++) found += delay_record(ids[i][0], 0, "not_shipped", details[i]);

  n = 0;
  st = ord_db_prepare(db,
    "SELECT s.id, s.order_id, x.last FROM orders_shipments s"
    " JOIN (SELECT s2.id AS sid, coalesce((SELECT max(at) FROM orders_checkpoints c WHERE c.shipment_id = s2.id),"
    "       s2.shipped_at) AS last FROM orders_shipments s2 WHERE s2.status = 'InTransit') x ON x.sid = s.id"
    " WHERE x.last < ?1 AND CAST(strftime('%s', x.last) AS INTEGER) + ?2 * 3600 > CAST(strftime('%s', s.created_at) AS INTEGER)"
    " AND NOT EXISTS (SELECT 1 FROM orders_notices n WHERE n.order_id = s.order_id AND n.shipment_id = s.id"
    "                 AND n.kind = 'no_scan') ORDER BY s.id LIMIT 100");
  if (st) {
    ord_db_bind(st, "ti", silent, (int64_t)hours);
    while (n < 100 && sqlite3_step(st) == SQLITE_ROW) {
      ids[n][0] = sqlite3_column_int64(st, 1);
      ids[n][1] = sqlite3_column_int64(st, 0);
      snprintf(details[n++], 24, "%s", (const char *)sqlite3_column_text(st, 2));
    }
    ord_db_done(st);
  }
  for (int i = 0; i < n; i++) found += delay_record(ids[i][0], ids[i][1], "no_scan", details[i]);

  /* past_eta: a shipment can be late only once its calendar days since shipping reach the table's smallest figure;
   * candidates are read in pages by id so that those not late yet never hide the others. */
  int64_t min_days = ord_db_int(db, 0, "SELECT min(days) FROM orders_eta", "");
  char latest[21];
  util_iso_time((time_t)(now - min_days * 86400LL), latest);
  struct cand { int64_t sid, oid; char carrier[41], province[64], shipped[21], created[11]; } *c = calloc(500, sizeof *c);
  int64_t after = 0;
  for (int page = 0; c && page < 20; page++) {
    int nc = 0;
    st = ord_db_prepare(db,
      "SELECT s.id, s.order_id, s.carrier, o.ship_province, s.shipped_at, s.created_at FROM orders_shipments s"
      " JOIN orders_orders o ON o.id = s.order_id WHERE s.id > ?3 AND s.status NOT IN ('Pending', 'Delivered', 'Expired')"
      " AND s.shipped_at IS NOT NULL AND s.shipped_at >= ?1 AND s.shipped_at <= ?2"
      " AND NOT EXISTS (SELECT 1 FROM orders_notices n WHERE n.order_id = s.order_id AND n.shipment_id = s.id"
      "                 AND n.kind = 'past_eta') ORDER BY s.id LIMIT 500");
    if (!st) break;
    ord_db_bind(st, "tti", since, latest, after);
    while (nc < 500 && sqlite3_step(st) == SQLITE_ROW) {
      c[nc].sid = sqlite3_column_int64(st, 0);
      c[nc].oid = sqlite3_column_int64(st, 1);
      const char *t;
      snprintf(c[nc].carrier, sizeof c[nc].carrier, "%s", (t = (const char *)sqlite3_column_text(st, 2)) ? t : "*");
      snprintf(c[nc].province, sizeof c[nc].province, "%s", (t = (const char *)sqlite3_column_text(st, 3)) ? t : "*");
      snprintf(c[nc].shipped, sizeof c[nc].shipped, "%s", (const char *)sqlite3_column_text(st, 4));
      snprintf(c[nc].created, sizeof c[nc].created, "%.10s", (const char *)sqlite3_column_text(st, 5));
      nc++;
    }
    ord_db_done(st);
    for (int i = 0; i < nc; i++) {
      char eta[11];
      after = c[i].sid;
      if (ord_eta_date(db, c[i].carrier, c[i].province, c[i].shipped, eta) != 0) continue;
      if (strcmp(eta, today) < 0 && strcmp(eta, c[i].created) >= 0)
        found += delay_record(c[i].oid, c[i].sid, "past_eta", eta);
    }
    if (nc < 500) break;
  }
  free(c);
  return found;
}

/* ------------------------------------------------------------------------------------------------ mail */

struct notice_text { const char *kind, *subject_tr, *subject_en, *body_tr, *body_en; };

/* %1$s order number, %2$s carrier, %3$s tracking number, %4$s ETA or the promised date */
static const struct notice_text TEXTS[] = {
  { "shipped", "Siparişiniz kargoya verildi (#%s)", "Your order is on its way (#%s)",
    "#%1$s numaralı siparişiniz %2$s ile yola çıktı. Takip numarası: %3$s. Tahmini teslim: %4$s.",
    "Your order #%1$s is on its way with %2$s. Tracking number: %3$s. Expected delivery: %4$s." },
  { "out_for_delivery", "Siparişiniz bugün dağıtımda (#%s)", "Your order is out for delivery (#%s)",
    "#%1$s numaralı siparişiniz bugün dağıtıma çıktı (%2$s, takip numarası %3$s).",
    "Your order #%1$s is out for delivery today (%2$s, tracking number %3$s)." },
  { "delivered", "Siparişiniz teslim edildi (#%s)", "Your order has been delivered (#%s)",
    "#%1$s numaralı siparişiniz teslim edildi (%2$s, takip numarası %3$s). Bir sorun varsa bu e-postayı yanıtlayın.",
    "Your order #%1$s has been delivered (%2$s, tracking number %3$s). If anything is wrong, reply to this mail." },
  { "exception", "Gönderinizle ilgili bir sorun var (#%s)", "There is a problem with your delivery (#%s)",
    "%2$s, #%1$s numaralı siparişinizin gönderisinde bir sorun bildirdi (takip numarası %3$s). İnceliyoruz ve size "
    "döneceğiz.",
    "%2$s reported a problem with the delivery of your order #%1$s (tracking number %3$s). We are looking into it and "
    "will get back to you." },
  { "not_shipped", "Siparişiniz gecikti (#%s)", "Your order is delayed (#%s)",
    "#%1$s numaralı siparişinizi söz verdiğimiz %4$s tarihinde kargoya veremedik. Özür dileriz; en kısa sürede "
    "gönderiyoruz.",
    "We could not ship your order #%1$s by %4$s as promised. We are sorry; it will leave as soon as possible." },
  { "no_scan", "Gönderiniz gecikebilir (#%s)", "Your delivery may be late (#%s)",
    "#%1$s numaralı siparişinizin gönderisi bir süredir %2$s tarafından işlem görmedi (takip numarası %3$s). Kargo "
    "firmasıyla görüşüyoruz.",
    "The delivery of your order #%1$s has had no scan from %2$s for a while (tracking number %3$s). We are checking "
    "with the carrier." },
  { "past_eta", "Gönderiniz gecikti (#%s)", "Your delivery is late (#%s)",
    "#%1$s numaralı siparişinizin %4$s tarihinde teslim edilmesi bekleniyordu (%2$s, takip numarası %3$s). Kargo "
    "firmasıyla görüşüyoruz.",
    "Your order #%1$s was expected by %4$s (%2$s, tracking number %3$s). We are checking with the carrier." },
};

static const struct notice_text *text_of(const char *kind)
{
  for (size_t i = 0; i < sizeof TEXTS / sizeof *TEXTS; i++) if (!strcmp(TEXTS[i].kind, kind)) return &TEXTS[i];
  return NULL;
}

int ord_notice_is_delay(const char *kind)
{
  return !strcmp(kind, "not_shipped") || !strcmp(kind, "no_scan") || !strcmp(kind, "past_eta");
}

/* The subject and text of a notice's mail (new, into *subject and *text), or -1. The sender is the core's mail.from
 * (mail.from_name): the shop's name (orders.shop_name) signs the text. */
static int mail_text(const char *kind, const char *lang, const char *name, const char *number, const char *carrier,
                     const char *tracking, const char *date, const char *url, char **subject, char **text)
{
  const struct notice_text *t = text_of(kind);
  if (!t) return -1;
  char *shop = ord_host->setting_new("orders.shop_name");
  if (!shop || !*shop) { free(shop); shop = ord_host->setting_new("mail.from_name"); }
  int en = lang && !strcmp(lang, "en");
  char line[1200];
  snprintf(line, sizeof line, en ? t->body_en : t->body_tr, number, carrier && *carrier ? carrier : "-",
           tracking && *tracking ? tracking : "-", date && *date ? date : "-");
  int signed_off = shop && *shop;
  if (asprintf(subject, en ? t->subject_en : t->subject_tr, number) < 0 ||
      asprintf(text, en ? "Hello%s%s,\n\n%s\n\n%s%s%s%s%s%s\nThis is a service message about your order.\n"
                        : "Merhaba%s%s,\n\n%s\n\n%s%s%s%s%s%s\nBu e-posta siparişinizle ilgili bir bilgilendirmedir.\n",
               name && *name ? " " : "", name && *name ? name : "", line,
               url && *url ? (en ? "Track it: " : "Takip edin: ") : "", url && *url ? url : "", url && *url ? "\n" : "",
               signed_off ? "--\n" : "", signed_off ? shop : "", signed_off ? "\n" : "") < 0)
    abort();
  free(shop);
  return 0;
}

/* Tells the customer about notice nid (its event's payload: the shipment or the order): on WhatsApp when they chose it
 * and a template is mapped (notify.c), else by mail; a delay or an exception is noted on their open ticket. With
 * fallback (WhatsApp refused the notice's template for good: why), the notice that went to WhatsApp is mailed now. */
static int notice_deliver(struct destek_req *call, int64_t nid, const cJSON *payload, const char *fallback, char *err,
                          size_t errlen)
{
  struct destek_db *db = ord_db_read(call);
  char *state = ord_db_text_new(db, "SELECT state || '/' || channel FROM orders_notices WHERE id = ?1", "i", nid);
  int go = state && !strcmp(state, fallback ? "queued/whatsapp" : "pending/email");
  free(state);
  if (!go) return 0;
  char *kind = ord_db_text_new(db, "SELECT kind FROM orders_notices WHERE id = ?1", "i", nid);
  int64_t oid = ord_db_int(db, 0, "SELECT order_id FROM orders_notices WHERE id = ?1", "i", nid);
  char *number = ord_db_text_new(db, "SELECT number FROM orders_orders WHERE id = ?1", "i", oid);
  char *name = ord_db_text_new(db, "SELECT coalesce(customer_name, ship_name) FROM orders_orders WHERE id = ?1", "i", oid);
  char *promised = ord_db_text_new(db, "SELECT promised_dispatch_date FROM orders_orders WHERE id = ?1", "i", oid);
  int64_t contact = ord_db_int(db, 0, "SELECT contact_id FROM orders_orders WHERE id = ?1", "i", oid);
  char lang[8] = "tr";
  cJSON *cj = contact ? ord_host->contact_json_new(call, contact) : NULL;
  const char *cl = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cj, "lang"));
  if (cl && !strcmp(cl, "en")) snprintf(lang, sizeof lang, "en");
  cJSON_Delete(cj);
  const char *carrier = str_of(payload, "carrier_name"), *tracking = str_of(payload, "tracking_number");
  const char *eta = str_of(payload, "eta");
  const char *date = !strcmp(kind, "not_shipped") ? promised : eta;
  char setting[48];
  snprintf(setting, sizeof setting, "orders.notice_%s", ord_notice_is_delay(kind) ? "delay" : kind);
  char new_state[16] = "queued", detail[300] = "";
  int64_t message_id = 0;
  char *pub = ord_host->setting_new("mail.public_url");
  char url[600];
  snprintf(url, sizeof url, "%s/track?lang=%s", pub && *pub ? pub : ord_base_url(), lang);
  free(pub);
  int rc = 0;
  int64_t wa_message_id = 0;
  int whatsapp = 0;
  if (fallback) {
    snprintf(detail, sizeof detail, "%.290s", fallback);
    ord_log(DESTEK_LOG_WARN, "orders: notice %lld: %s", (long long)nid, detail);
  }
  if (!fallback && ord_host->setting_bool(setting, 1) && contact) {
    char *shop = ord_host->setting_new("orders.shop_name");
    const char *turl = str_of(payload, "tracking_url");
    struct ord_notice_fields f = { number, carrier, tracking, turl ? turl : url, date, name, shop };
    char why[300] = "";
    whatsapp = ord_notice_whatsapp(call, nid, oid, contact, kind, lang, &f, &wa_message_id, why, sizeof why) == 1;
    if (why[0]) snprintf(detail, sizeof detail, "%s", why);
    free(shop);
  }
  if (whatsapp) {
    snprintf(new_state, sizeof new_state, "queued");
  } else if (!ord_host->setting_bool(setting, 1)) {
    snprintf(new_state, sizeof new_state, "skipped");
    snprintf(detail, sizeof detail, "%s is off", setting);
  } else if (!contact) {
    snprintf(new_state, sizeof new_state, "skipped");
    snprintf(detail, sizeof detail, "the order has no contact to mail");
  } else {
    /* Queued in this call's transaction through the core (a service message: no consent needed, nothing promotional
     * in it); the core sends it after the commit and retries. */
    char *subject = NULL, *text = NULL;
    if (mail_text(kind, lang, name, number, carrier, tracking, date, url, &subject, &text) != 0) {
      snprintf(new_state, sizeof new_state, "skipped");
      snprintf(detail, sizeof detail, "no text for the notice %s", kind);
    } else {
      message_id = ord_host->message_send(call, contact, subject, text, 0);
      if (message_id > 0) {
        snprintf(new_state, sizeof new_state, "queued");
        /* WhatsApp's reason, when there is one, and what became of the notice */
        if (detail[0] && strlen(detail) + 16 < sizeof detail) strcat(detail, fallback ? ": mailed instead" : ": mailed");
      } else if (message_id == DESTEK_SEND_ERROR) {
        snprintf(err, errlen, "the mail could not be queued");   /* the bus retries the event */
        rc = -1;
      } else {
        snprintf(new_state, sizeof new_state, "skipped");
        /* after WhatsApp's reason, when there is one: why neither reached the customer */
        char why_whatsapp[300];
        snprintf(why_whatsapp, sizeof why_whatsapp, "%s", detail);
        snprintf(detail, sizeof detail, "%.180s%s%s", why_whatsapp, why_whatsapp[0] ? "; " : "",
                 message_id == DESTEK_SEND_NO_ADDRESS ? "the customer has no e-mail address"
                 : message_id == DESTEK_SEND_NO_CONTACT ? "the customer was erased" : "the mail was refused by the core");
      }
    }
    free(subject);
    free(text);
  }
  int64_t ticket = 0;
  if (!rc && !fallback && (ord_notice_is_delay(kind) || !strcmp(kind, "exception")) && contact &&
      ord_host->setting_bool("orders.delay_note", 1)) {
    cJSON *args = cJSON_CreateObject(), *res = NULL;
    cJSON_AddNumberToObject(args, "contact_id", (double)contact);
    cJSON_AddStringToObject(args, "order_number", number ? number : "");
    if (ord_call_service(call, "ticketing.open_tickets", args, &res) == 0) {
      ticket = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(res, "items"), 0), "id"));
    }
    cJSON_Delete(res);
    cJSON_Delete(args);
    if (ticket > 0) {
      static const char *const why_tr[][2] = {
        { "not_shipped", "söz verilen gönderim tarihinde (%s) kargoya verilmedi" },
        { "no_scan", "kargo firması bir süredir işlem yapmadı (son hareket %s)" },
        { "past_eta", "tahmini teslim tarihini (%s) geçti" },
        { "exception", "kargo firması bir sorun bildirdi%s" },
      };
      const char *what = "";
      for (size_t i = 0; i < 4; i++) if (!strcmp(why_tr[i][0], kind)) what = why_tr[i][1];
      const char *dt = str_of(payload, "detail");
      char reason[200], body[900];
      snprintf(reason, sizeof reason, what, !strcmp(kind, "exception") ? "" : dt ? dt : date ? date : "-");
      static const char *const why_en[][2] = {
        { "not_shipped", "not shipped by the promised dispatch date (%s)" },
        { "no_scan", "no carrier scan for a while (last %s)" },
        { "past_eta", "past the expected delivery date (%s)" },
        { "exception", "the carrier reported a problem%s" },
      };
      const char *what_en = "";
      for (size_t i = 0; i < 4; i++) if (!strcmp(why_en[i][0], kind)) what_en = why_en[i][1];
      char reason_en[200];
      snprintf(reason_en, sizeof reason_en, what_en, !strcmp(kind, "exception") ? "" : dt ? dt : date ? date : "-");
      int mailed = !strcmp(new_state, "queued");
      snprintf(body, sizeof body, "Sipariş #%s: %s. Müşteriye %s. (%s %s)\nOrder #%s: %s. The customer %s.",
               number ? number : "", reason, whatsapp ? "WhatsApp ile bilgi verildi" : mailed ? "e-posta ile bilgi verildi"
               : "e-posta gönderilmedi", carrier ? carrier : "", tracking ? tracking : "", number ? number : "", reason_en,
               whatsapp ? "was told on WhatsApp" : mailed ? "was told by mail" : "was not mailed");
      cJSON *na = cJSON_CreateObject(), *nr = NULL;
      cJSON_AddNumberToObject(na, "ticket_id", (double)ticket);
      cJSON_AddStringToObject(na, "body", body);
      if (ord_call_service(call, "ticketing.note", na, &nr) != 0) ticket = 0;
      cJSON_Delete(nr);
      cJSON_Delete(na);
    }
  }
  if (!rc) {
    struct destek_db *w = ord_db_write(call);
    char now[21];
    ord_now(now);
    if (!w || ord_db_exec(w, "UPDATE orders_notices SET state = ?2, detail = coalesce(?3, detail),"
                             " note_ticket_id = coalesce(?4, note_ticket_id), message_id = ?5, channel = ?6,"
                             " wa_message_id = coalesce(?7, wa_message_id) WHERE id = ?1",
                          "itt" "II" "tI", nid, new_state, detail[0] ? detail : NULL, ticket > 0 ? &ticket : NULL,
                          message_id > 0 ? &message_id : NULL, whatsapp ? "whatsapp" : "email",
                          wa_message_id > 0 ? &wa_message_id : NULL) != SQLITE_OK) {
      snprintf(err, errlen, "the notice could not be recorded");
      rc = -1;
    }
  }
  free(kind); free(number); free(name); free(promised);
  return rc;
}

static int on_notice(struct destek_req *call, const struct destek_event *ev, void *ud, char *err, size_t errlen)
{
  (void)ud;
  int64_t nid = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(ev->payload, "notice_id"));
  return notice_deliver(call, nid, ev->payload, NULL, err, errlen);
}

/* whatsapp.message_failed (the chat module): a notice's template that WhatsApp refused for good is mailed now, with the
 * reason kept on the notice and logged. Other modules' messages are not ours. */
static int on_whatsapp_failed(struct destek_req *call, const struct destek_event *ev, void *ud, char *err, size_t errlen)
{
  (void)ud;
  const char *ref = str_of(ev->payload, "ref");
  long long nid = 0;
  if (!ref || sscanf(ref, "orders.notice:%lld", &nid) != 1 || nid <= 0) return 0;
  struct destek_db *db = ord_db_read(call);
  int64_t oid = ord_db_int(db, 0, "SELECT order_id FROM orders_notices WHERE id = ?1", "i", (int64_t)nid);
  int64_t sid = ord_db_int(db, 0, "SELECT shipment_id FROM orders_notices WHERE id = ?1", "i", (int64_t)nid);
  if (!oid) return 0;
  cJSON *p = sid ? shipment_payload(db, oid, sid) : ord_order_json(db, oid, 0);
  if (!p) return 0;
  const cJSON *code = cJSON_GetObjectItemCaseSensitive(ev->payload, "error_code");
  const char *title = str_of(ev->payload, "error_title");
  char why[300];
  snprintf(why, sizeof why, "WhatsApp refused the template (%lld %.200s)",
           cJSON_IsNumber(code) ? (long long)code->valuedouble : 0LL, title ? title : "");
  int rc = notice_deliver(call, (int64_t)nid, p, why, err, errlen);
  cJSON_Delete(p);
  return rc;
}

/* GET /api/v1/orders/{number}/notices (agent): what the customer was told, and when. A notice queued with the core
 * reads as the core's message stands: "queued" while it waits (or retries), "mailed" (mailed_at) once the mail server
 * took it, "failed" (detail: the last error) when the core gave up or withheld it. */
static int notices_list(struct destek_req *r)
{
  struct destek_db *db = ord_db_read(r);
  int64_t oid = ord_order_by_number(db, ord_param(r, "number"));
  if (!oid) return ord_error(r, 404, "not_found", "no such order");
  sqlite3_stmt *st = ord_db_prepare(db, "SELECT id, shipment_id, kind, state, detail, note_ticket_id, created_at,"
                                        " mailed_at, message_id, channel, wa_message_id FROM orders_notices"
                                        " WHERE order_id = ?1 ORDER BY id");
  if (!st) return ord_error(r, 500, "internal", "the notices could not be read");
  ord_db_bind(st, "i", oid);
  cJSON *items = cJSON_CreateArray();
  while (sqlite3_step(st) == SQLITE_ROW) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(st, 0));
    if (sqlite3_column_int64(st, 1)) cJSON_AddNumberToObject(o, "shipment_id", (double)sqlite3_column_int64(st, 1));
    else cJSON_AddNullToObject(o, "shipment_id");
    const char *names[] = { NULL, NULL, "kind", "state", "detail", NULL, "created_at", "mailed_at" };
    for (int i = 2; i < 8; i++) {
      if (!names[i]) continue;
      if (sqlite3_column_type(st, i) == SQLITE_NULL) cJSON_AddNullToObject(o, names[i]);
      else cJSON_AddStringToObject(o, names[i], (const char *)sqlite3_column_text(st, i));
    }
    if (sqlite3_column_type(st, 5) == SQLITE_NULL) cJSON_AddNullToObject(o, "note_ticket_id");
    else cJSON_AddNumberToObject(o, "note_ticket_id", (double)sqlite3_column_int64(st, 5));
    int64_t mid = sqlite3_column_int64(st, 8);
    cJSON *m = mid && DESTEK_HOST_HAS(ord_host, message_json_new) ? ord_host->message_json_new(r, mid) : NULL;
    const char *ms = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "status"));
    if (ms && !strcmp(ms, "sent")) {
      cJSON_ReplaceItemInObjectCaseSensitive(o, "state", cJSON_CreateString("mailed"));
      cJSON_ReplaceItemInObjectCaseSensitive(o, "mailed_at", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(m, "sent_at"), 1));
    } else if (ms && (!strcmp(ms, "failed") || !strcmp(ms, "withheld"))) {
      cJSON_ReplaceItemInObjectCaseSensitive(o, "state", cJSON_CreateString("failed"));
      cJSON_ReplaceItemInObjectCaseSensitive(o, "detail", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(m, "last_error"), 1));
    }
    cJSON_Delete(m);
    cJSON_AddStringToObject(o, "channel", (const char *)sqlite3_column_text(st, 9));
    /* On WhatsApp: the delivery as the chat module records it (sent, delivered, read, failed). */
    int64_t wid = sqlite3_column_int64(st, 10);
    cJSON *wa = wid ? ord_notice_whatsapp_status_new(r, wid) : NULL;
    if (wa && !strcmp((const char *)sqlite3_column_text(st, 9), "whatsapp")) {
      const char *ws = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(wa, "status"));
      if (ws) cJSON_ReplaceItemInObjectCaseSensitive(o, "state", cJSON_CreateString(ws));
    }
    if (wa) cJSON_AddItemToObject(o, "whatsapp", wa);
    else cJSON_AddNullToObject(o, "whatsapp");
    cJSON_AddItemToArray(items, o);
  }
  ord_db_done(st);
  return ord_reply_json(r, 200, ord_list_new(items, 0));
}

static const struct destek_route notice_routes[] = {
  { "GET", "/api/v1/orders/{number}/notices", notices_list, DESTEK_AGENT, "number:text", 0 },
  { 0 }
};

int ord_notices_init(const struct destek_host *h)
{
  static const char *const events[] = { "shipment.shipped", "shipment.out_for_delivery", "shipment.delivered",
                                        "shipment.exception", "shipment.delayed", "order.delayed", NULL };
  int rc = h->settings(h, notice_settings) | h->routes(h, notice_routes) |
           h->on(h, "shipment.created", DESTEK_SYNC, on_shipment, NULL) |
           h->on(h, "shipment.updated", DESTEK_SYNC, on_shipment, NULL);
  for (int i = 0; events[i]; i++) rc |= h->on(h, events[i], DESTEK_ASYNC, on_notice, NULL);
  rc |= h->on(h, "whatsapp.message_failed", DESTEK_ASYNC, on_whatsapp_failed, NULL);
  return rc;
}
