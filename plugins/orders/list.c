/* The orders list of the agents' orders screen and the integrations (GET /api/v1/orders): filters by status, payment,
 * source, shipment status and carrier, "not shipped" and "late to ship", the date placed, a ticket's linked orders,
 * the customer, and a search by number, e-mail, phone or name (README.md, "The orders screen"). Newest first, paged
 * by id.
 *
 * Each page is one prepared statement. All of them hold the same optional filters (a filter given as '' or 0 is off);
 * what differs is the condition they lead with, chosen from the most selective filter given, so that SQLite starts
 * from an index (status, payment, source, contact, e-mail, phone, number, shipments, links) rather than walking every
 * order. The search matches search_text, the Turkish-folded number, e-mail, phone and names of an order: ord_upsert
 * (store.c) folds it before it takes the writer and stores it with the order, rewriting the words only when it
 * changed; for orders stored before the column existed or scrubbed by a KVKK erasure (contacts.c sets it NULL), a
 * background job fills it. */
#include "orders.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "destek_text.h"
#include "destek_util.h"

/* ------------------------------------------------------------------------------------------------ search text */

/* A byte of a search word: ASCII letters and digits, and every byte of a non-ASCII character. */
static int word_byte(char c) { return isalnum((unsigned char)c) || (unsigned char)c >= 0x80; }

/* The folded search text of an order: its number, e-mail, phone and names (NULL ones as empty), Turkish-folded
 * (new). Pure: ord_upsert builds it before it takes the writer. */
char *ord_search_text_new(const char *number, const char *email, const char *phone, const char *customer_name,
                          const char *ship_name)
{
  char *text = NULL;
  if (asprintf(&text, "%s %s %s %s %s", number ? number : "", email ? email : "", phone ? phone : "",
               customer_name ? customer_name : "", ship_name ? ship_name : "") < 0)
    abort();
  char *folded = destek_fold_new(text, strlen(text));
  free(text);
  return folded;
}

/* Writes the words of folded (an order's search text, already in its row) into the words index; with fresh, the
 * order had none before (no DELETE). Each word once: runs of letters and digits ('@', '.', '-' and spaces split
 * them), at least 2 bytes, at most 64. 0, or -1. */
int ord_search_words_write(struct destek_db *w, int64_t order_id, const char *folded, int fresh)
{
  int rc = fresh ? SQLITE_OK : ord_db_exec(w, "DELETE FROM orders_search_words WHERE order_id = ?1", "i", order_id);
  if (rc != SQLITE_OK) return -1;
  /* The words as a JSON array (their bytes need no escaping), written in one statement. */
  size_t len = strlen(folded);
  char *list = malloc(len * 3 + 3), *o = list;
  if (!list) abort();
  *o++ = '[';
  int n = 0;
  for (const char *p = folded; *p;) {
    while (*p && !word_byte(*p)) p++;
    const char *start = p;
    while (word_byte(*p)) p++;
    size_t wl = (size_t)(p - start);
    if (wl < 2 || wl > 64) continue;
    if (n++) *o++ = ',';
    *o++ = '"';
    memcpy(o, start, wl);
    o += wl;
    *o++ = '"';
  }
  *o++ = ']';
  *o = 0;
  if (n)
    rc = ord_db_exec(w, "INSERT OR IGNORE INTO orders_search_words(word, order_id) SELECT value, ?2 FROM json_each(?1)",
                     "ti", list, order_id);
  free(list);
  return rc == SQLITE_OK ? 0 : -1;
}

/* The folded search text of an order from its stored columns, written into the row with its words. 0, or -1. */
static int search_text_write(struct destek_db *w, int64_t order_id)
{
  sqlite3_stmt *st = ord_db_prepare(w, "SELECT number, email, phone, customer_name, ship_name FROM orders_orders"
                                       " WHERE id = ?1");
  if (!st) return -1;
  ord_db_bind(st, "i", order_id);
  char *folded = NULL;
  if (sqlite3_step(st) == SQLITE_ROW)
    folded = ord_search_text_new((const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
                                 (const char *)sqlite3_column_text(st, 2), (const char *)sqlite3_column_text(st, 3),
                                 (const char *)sqlite3_column_text(st, 4));
  ord_db_done(st);
  if (!folded) return 0;
  int rc = ord_db_exec(w, "UPDATE orders_orders SET search_text = ?2 WHERE id = ?1", "it", order_id, folded) == SQLITE_OK
           ? ord_search_words_write(w, order_id, folded, 0) : -1;
  free(folded);
  return rc;
}

/* Every 10 s: up to 2,000 orders without a search text get one (after the upgrade that added it, after an erasure). */
static int search_fill_job(struct destek_req *call, void *ud)
{
  (void)ud;
  struct destek_db *db = ord_db_read(call);
  if (!ord_db_int(db, 0, "SELECT count(*) FROM (SELECT 1 FROM orders_orders WHERE search_text IS NULL LIMIT 1)", ""))
    return 0;
  struct destek_db *w = ord_db_write(call);
  if (!w) return -1;
  sqlite3_stmt *st = ord_db_prepare(w, "SELECT id FROM orders_orders WHERE search_text IS NULL ORDER BY id LIMIT 2000");
  if (!st) return -1;
  int64_t *ids = malloc(2000 * sizeof *ids);
  if (!ids) abort();
  int n = 0;
  while (n < 2000 && sqlite3_step(st) == SQLITE_ROW) ids[n++] = sqlite3_column_int64(st, 0);
  ord_db_done(st);
  int rc = 0;
  for (int i = 0; i < n && !rc; i++) rc = search_text_write(w, ids[i]);
  free(ids);
  return rc;
}

/* ------------------------------------------------------------------------------------------------ the list */

/* The optional filters every statement holds. ?1 the cursor (an id), ?2 status, ?3 payment_status, ?4 e-mail,
 * ?5 phone (normalised), ?6 number, ?7 contact id, ?8 source, ?9 shipment status, ?10 carrier, ?11 not shipped (1),
 * ?12 late to ship: today's date ('' off), ?13/?14 placed from/before (UTC), ?15 folded search words ('' off),
 * ?16 ticket id, ?17 the limit, ?18/?19 a search word's prefix range ('' off), ?20 delayed: "any", "past_eta", "no_scan"
 * or "not_shipped" ('' off), an order with that delay notice (notices.c) still open: a shipment's past_eta / no_scan
 * while it is not delivered (nor expired), not_shipped while the order is still not shipped. "Not shipped": an open order (pending,
 * processing, on hold) none of whose shipments has left (every one Pending or InfoReceived, or none). */
#define NOT_SHIPPED \
  "(o.status IN ('pending', 'processing', 'on_hold') AND NOT EXISTS (SELECT 1 FROM orders_shipments s" \
  " WHERE s.order_id = o.id AND s.status NOT IN ('Pending', 'InfoReceived')))"
#define FILTERS \
  " (?1 = 0 OR o.id < ?1) AND (?2 = '' OR o.status = ?2) AND (?3 = '' OR o.payment_status = ?3)" \
  " AND (?4 = '' OR o.email = ?4) AND (?5 = '' OR o.phone = ?5) AND (?6 = '' OR o.number = ?6)" \
  " AND (?7 = 0 OR o.contact_id = ?7) AND (?8 = '' OR o.source = ?8)" \
  " AND ((?9 = '' AND ?10 = '') OR EXISTS (SELECT 1 FROM orders_shipments s WHERE s.order_id = o.id" \
  " AND (?9 = '' OR s.status = ?9) AND (?10 = '' OR s.carrier = ?10)))" \
  " AND (?11 = 0 OR " NOT_SHIPPED ")" \
  " AND (?12 = '' OR (o.promised_dispatch_date < ?12 AND " NOT_SHIPPED "))" \
  " AND (?13 = '' OR o.placed_at >= ?13) AND (?14 = '' OR o.placed_at < ?14)" \
  " AND (?15 = '' OR instr(o.search_text, ?15) > 0)" \
  " AND (?18 = '' OR o.id IN (SELECT order_id FROM orders_search_words WHERE word >= ?18 AND word < ?19))" \
  " AND (?16 = 0 OR EXISTS (SELECT 1 FROM orders_ticket_links l WHERE l.ticket_id = ?16 AND l.order_id = o.id))" \
  " AND (?20 = '' OR EXISTS (SELECT 1 FROM orders_notices n WHERE n.order_id = o.id AND (" \
  "   (n.kind = 'not_shipped' AND (?20 = 'any' OR ?20 = 'not_shipped') AND " NOT_SHIPPED ")" \
  "   OR ((n.kind = 'past_eta' OR n.kind = 'no_scan') AND (?20 = 'any' OR ?20 = n.kind) AND EXISTS (SELECT 1" \
  "       FROM orders_shipments ds WHERE ds.id = n.shipment_id AND ds.status <> 'Delivered' AND ds.status <> 'Expired')))))" \
  " ORDER BY o.id DESC LIMIT ?17"
#define SELECT_IDS "SELECT o.id FROM orders_orders o "
#define DENSE 5000   /* matches from which walking the orders newest first finds a page sooner than an index */

enum lead { BY_ID, BY_DELAYED, BY_WORD, BY_SHIP_STATUS, BY_CARRIER, BY_NUMBER, BY_TICKET, BY_CONTACT, BY_EMAIL, BY_PHONE, BY_STATUS, BY_PAYMENT, BY_SOURCE,
            BY_PLACED };
static const char *const SQL[] = {
  [BY_ID] = SELECT_IDS "WHERE" FILTERS,
  [BY_WORD] = SELECT_IDS "WHERE o.id IN (SELECT order_id FROM orders_search_words WHERE word >= ?18 AND word < ?19)"
              " AND" FILTERS,
  [BY_NUMBER] = SELECT_IDS "WHERE o.number = ?6 AND" FILTERS,
  [BY_DELAYED] = SELECT_IDS "WHERE o.id IN (SELECT order_id FROM orders_notices WHERE kind = 'past_eta'"
                 " OR kind = 'no_scan' OR kind = 'not_shipped') AND" FILTERS,
  [BY_TICKET] = SELECT_IDS "WHERE o.id IN (SELECT order_id FROM orders_ticket_links WHERE ticket_id = ?16) AND" FILTERS,
  [BY_CONTACT] = SELECT_IDS "WHERE o.contact_id = ?7 AND" FILTERS,
  [BY_EMAIL] = SELECT_IDS "WHERE o.email = ?4 AND" FILTERS,
  [BY_PHONE] = SELECT_IDS "WHERE o.phone = ?5 AND" FILTERS,
  [BY_SHIP_STATUS] = SELECT_IDS "WHERE o.id IN (SELECT order_id FROM orders_shipments WHERE status = ?9) AND" FILTERS,
  [BY_CARRIER] = SELECT_IDS "WHERE o.id IN (SELECT order_id FROM orders_shipments WHERE carrier = ?10) AND" FILTERS,
  [BY_STATUS] = SELECT_IDS "WHERE o.status = ?2 AND" FILTERS,
  [BY_PAYMENT] = SELECT_IDS "WHERE o.payment_status = ?3 AND" FILTERS,
  [BY_SOURCE] = SELECT_IDS "WHERE o.source = ?8 AND" FILTERS,
  [BY_PLACED] = SELECT_IDS "WHERE o.placed_at >= ?13 AND o.placed_at < ?14 AND" FILTERS,
};

struct filters {
  char status[32], payment[32], email[256], phone[32], number[72], source[32], ship_status[32], carrier[40];
  char late_today[11], from[21], to[21], q[200], word[72], word_end[72], delayed[16];
  int64_t contact_id, ticket_id;
  int not_shipped;
};

static const char *const *one_of(const char *const *set, const char *s)
{
  for (; *set; set++) if (!strcmp(*set, s)) return set;
  return NULL;
}

/* A YYYY-MM-DD day in Turkey's time (UTC+3, no summer time since 2016) as the UTC instant it starts; with next, the
 * instant the day after starts. 0, or -1 when it is not such a date. */
static int day_start(const char *day, int next, char out[21])
{
  char text[40], utc[21];
  if (strlen(day) != 10) return -1;
  snprintf(text, sizeof text, "%sT00:00:00+03:00", day);
  if (ord_time_utc(text, utc) != 0) return -1;
  struct tm tm = { 0 };
  if (sscanf(utc, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
             &tm.tm_sec) != 6)
    return -1;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  util_iso_time(timegm(&tm) + (next ? 86400 : 0), out);
  return 0;
}

static int flag(struct destek_req *r, const char *name, int *out)
{
  char buf[8] = "";
  *out = 0;
  if (!ord_query_get(r, name, buf, sizeof buf) || !buf[0]) return 0;
  if (!strcmp(buf, "1") || !strcmp(buf, "true")) *out = 1;
  else if (strcmp(buf, "0") && strcmp(buf, "false"))
    return ord_field_error(r, "invalid_field", name, "%s must be true or false", name);
  return 0;
}

static int positive(struct destek_req *r, const char *name, int64_t *out)
{
  char buf[24] = "", *end = NULL;
  *out = 0;
  if (!ord_query_get(r, name, buf, sizeof buf) || !buf[0]) return 0;
  long long v = strtoll(buf, &end, 10);
  if (*end || v < 1) return ord_field_error(r, "invalid_field", name, "%s must be an id", name);
  *out = v;
  return 0;
}

/* Reads the filters of the query string: 0, or the 422 set up naming the parameter. */
static int filters_read(struct destek_req *r, struct filters *f)
{
  memset(f, 0, sizeof *f);
  int rc;
  ord_query_get(r, "status", f->status, sizeof f->status);
  if (f->status[0] && !one_of(ORD_STATUSES, f->status))
    return ord_field_error(r, "invalid_field", "status", "status must be one of the order statuses");
  ord_query_get(r, "payment_status", f->payment, sizeof f->payment);
  if (f->payment[0] && !one_of(ORD_PAYMENT_STATUSES, f->payment))
    return ord_field_error(r, "invalid_field", "payment_status", "payment_status must be one of the payment statuses");
  ord_query_get(r, "shipment_status", f->ship_status, sizeof f->ship_status);
  if (f->ship_status[0] && !one_of(ORD_SHIPMENT_STATUSES, f->ship_status))
    return ord_field_error(r, "invalid_field", "shipment_status", "shipment_status must be one of the shipment statuses");
  ord_query_get(r, "source", f->source, sizeof f->source);
  ord_query_get(r, "carrier", f->carrier, sizeof f->carrier);
  char email[256] = "", phone[48] = "";
  ord_query_get(r, "email", email, sizeof email);
  for (char *p = email; *p; p++) if (*p >= 'A' && *p <= 'Z') *p += 32;
  memcpy(f->email, email, sizeof email);
  ord_query_get(r, "phone", phone, sizeof phone);
  if (phone[0]) ord_phone_norm(phone, f->phone);
  ord_query_get(r, "number", f->number, sizeof f->number);
  if ((rc = positive(r, "contact_id", &f->contact_id)) || (rc = positive(r, "ticket_id", &f->ticket_id)) ||
      (rc = flag(r, "not_shipped", &f->not_shipped)))
    return rc;
  char delayed[16] = "";
  if (ord_query_get(r, "delayed", delayed, sizeof delayed) && delayed[0] && strcmp(delayed, "false") && strcmp(delayed, "0")) {
    static const char *const DELAYS[] = { "past_eta", "no_scan", "not_shipped", NULL };
    if (!strcmp(delayed, "true") || !strcmp(delayed, "1")) snprintf(f->delayed, sizeof f->delayed, "any");
    else if (one_of(DELAYS, delayed)) snprintf(f->delayed, sizeof f->delayed, "%s", delayed);
    else
      return ord_field_error(r, "invalid_field", "delayed", "delayed must be true, past_eta, no_scan or not_shipped");
  }
  int late = 0;
  if ((rc = flag(r, "late", &late))) return rc;
  if (late) {
    /* Today in Turkey's time: a promised dispatch date before it has passed. */
    char now[21];
    util_iso_time(time(NULL) + 3 * 3600, now);
    memcpy(f->late_today, now, 10);
    f->late_today[10] = 0;
  }
  char day[16] = "";
  if (ord_query_get(r, "from", day, sizeof day) && day[0] && day_start(day, 0, f->from) != 0)
    return ord_field_error(r, "invalid_field", "from", "from must be a date (YYYY-MM-DD)");
  day[0] = 0;
  if (ord_query_get(r, "to", day, sizeof day) && day[0] && day_start(day, 1, f->to) != 0)
    return ord_field_error(r, "invalid_field", "to", "to must be a date (YYYY-MM-DD)");
  char q[200] = "";
  if (ord_query_get(r, "q", q, sizeof q) && q[0]) {
    /* A search: the order's number, else an e-mail address, else a phone number, else words of names. */
    char *s = q;
    while (*s == ' ' || *s == '#') s++;
    size_t len = strlen(s);
    while (len && s[len - 1] == ' ') s[--len] = 0;
    size_t digits = 0, other = 0;
    for (const char *p = s; *p; p++) {
      if (isdigit((unsigned char)*p)) digits++;
      else if (!strchr(" +-().", *p)) other++;
    }
    if (!len) {
      /* nothing to search for */
    } else if (ord_order_by_number(ord_db_read(r), s)) {
      if (!f->number[0] && len < sizeof f->number) memcpy(f->number, s, len + 1);   /* an order's number fits */
    } else if (strchr(s, '@')) {
      if (!f->email[0]) {
        snprintf(f->email, sizeof f->email, "%s", s);
        for (char *p = f->email; *p; p++) if (*p >= 'A' && *p <= 'Z') *p += 32;
      }
    } else if (digits >= 7 && !other) {
      if (!f->phone[0]) ord_phone_norm(s, f->phone);
    } else {
      char *folded = destek_fold_new(s, len);
      snprintf(f->q, sizeof f->q, "%s", folded);
      free(folded);
      /* Its rarest word (of the first four) leads, as a prefix of the words index (prefix "ays": from "ays" up to
       * "ayt"), when fewer than DENSE orders have it; the whole text must still be in search_text (instr). A word
       * most orders have is better found walking the orders newest first: the page fills at once. */
      struct destek_db *db = ord_db_read(r);
      int64_t best = DENSE;
      int words = 0;
      for (char *p = f->q; *p && words < 4;) {
        while (*p && !word_byte(*p)) p++;
        char *start = p;
        while (word_byte(*p)) p++;
        size_t wl = (size_t)(p - start);
        if (!wl || wl >= sizeof f->word || (unsigned char)start[wl - 1] == 0xff) continue;
        words++;
        char w[72], end[72];
        memcpy(w, start, wl);
        w[wl] = 0;
        memcpy(end, w, wl + 1);
        end[wl - 1]++;
        int64_t n = ord_db_int(db, DENSE, "SELECT count(*) FROM (SELECT 1 FROM orders_search_words"
                                          " WHERE word >= ?1 AND word < ?2 LIMIT 5000)", "tt", w, end);
        if (n < best) {
          best = n;
          memcpy(f->word, w, wl + 1);
          memcpy(f->word_end, end, wl + 1);
        }
      }
    }
  }
  return 0;
}

/* How many of the orders having a shipment of this status / carrier (at most DENSE counted): a few lead from the
 * shipments' index, many are better found walking the orders newest first. */
static int64_t shipments_with(struct destek_db *db, const char *status, const char *carrier)
{
  if (status[0])
    return ord_db_int(db, DENSE, "SELECT count(*) FROM (SELECT 1 FROM orders_shipments WHERE status = ?1 LIMIT 5000)",
                      "t", status);
  return ord_db_int(db, DENSE, "SELECT count(*) FROM (SELECT 1 FROM orders_shipments WHERE carrier = ?1 LIMIT 5000)",
                    "t", carrier);
}

static enum lead lead_of(struct destek_db *db, const struct filters *f)
{
  if (f->number[0]) return BY_NUMBER;
  if (f->word[0]) return BY_WORD;
  if (f->ticket_id) return BY_TICKET;
  if (f->contact_id) return BY_CONTACT;
  if (f->email[0]) return BY_EMAIL;
  if (f->phone[0]) return BY_PHONE;
  if (f->delayed[0]) return BY_DELAYED;   /* delays are few: their notices lead */
  if ((f->ship_status[0] || f->carrier[0]) && shipments_with(db, f->ship_status, f->carrier) < DENSE)
    return f->ship_status[0] ? BY_SHIP_STATUS : BY_CARRIER;
  if (f->status[0]) return BY_STATUS;
  if (f->from[0] && f->to[0]) return BY_PLACED;
  if (f->payment[0] && strcmp(f->payment, "paid")) return BY_PAYMENT;   /* "paid" is most orders: a scan is quicker */
  if (f->source[0]) return BY_SOURCE;
  return BY_ID;
}

/* The latest shipment of an order, {id, carrier, carrier_name, tracking_number, status, shipped_at, delivered_at},
 * or NULL: what the orders screen shows in a row. */
static cJSON *latest_shipment(struct destek_db *db, int64_t order_id)
{
  sqlite3_stmt *st = ord_db_prepare(db, "SELECT s.id, s.carrier, coalesce(c.name, s.carrier_name), s.tracking_number,"
                                        " s.status, s.shipped_at, s.delivered_at FROM orders_shipments s"
                                        " LEFT JOIN orders_carriers c ON c.code = s.carrier"
                                        " WHERE s.order_id = ?1 ORDER BY s.id DESC LIMIT 1");
  if (!st) return NULL;
  ord_db_bind(st, "i", order_id);
  cJSON *s = NULL;
  if (sqlite3_step(st) == SQLITE_ROW) {
    s = cJSON_CreateObject();
    cJSON_AddNumberToObject(s, "id", (double)sqlite3_column_int64(st, 0));
    const char *names[] = { NULL, "carrier", "carrier_name", "tracking_number", "status", "shipped_at", "delivered_at" };
    for (int i = 1; i < 7; i++) {
      if (sqlite3_column_type(st, i) == SQLITE_NULL) cJSON_AddNullToObject(s, names[i]);
      else cJSON_AddStringToObject(s, names[i], (const char *)sqlite3_column_text(st, i));
    }
  }
  ord_db_done(st);
  return s;
}

/* GET /api/v1/orders: README.md, "The orders screen". */
static int order_list(struct destek_req *r)
{
  int limit, rc;
  int64_t after;
  struct filters f;
  if ((rc = ord_page(r, &limit, &after)) || (rc = filters_read(r, &f))) return rc;
  struct destek_db *db = ord_db_read(r);
  enum lead lead = db ? lead_of(db, &f) : BY_ID;
  sqlite3_stmt *st = db ? ord_db_prepare(db, SQL[lead]) : NULL;
  if (!st) return ord_error(r, 500, "internal", "the orders could not be read");
  ord_db_bind(st, "itttttitttittttiitt" "t", after, f.status, f.payment, f.email, f.phone, f.number, f.contact_id,
              f.source, f.ship_status, f.carrier, (int64_t)f.not_shipped, f.late_today, f.from, f.to, f.q, f.ticket_id,
              (int64_t)limit, f.word, f.word_end, f.delayed);
  int64_t ids[200];
  int n = 0;
  while (n < limit && sqlite3_step(st) == SQLITE_ROW) ids[n++] = sqlite3_column_int64(st, 0);
  ord_db_done(st);
  cJSON *items = cJSON_CreateArray();
  for (int i = 0; i < n; i++) {
    cJSON *o = ord_order_json(db, ids[i], 0);
    if (!o) continue;
    cJSON *s = latest_shipment(db, ids[i]);
    cJSON_AddItemToObject(o, "latest_shipment", s ? s : cJSON_CreateNull());
    cJSON_AddItemToArray(items, o);
  }
  return ord_reply_json(r, 200, ord_list_new(items, n == limit ? ids[n - 1] : 0));
}

const struct destek_route ord_list_routes[] = {
  { "GET", "/api/v1/orders", order_list, DESTEK_AGENT, NULL },
  { 0 }
};

int ord_list_init(const struct destek_host *h)
{
  return h->every(h, "orders.search_fill", 10, search_fill_job, NULL);
}
