/* Tickets and their orders (README.md, "Tickets and orders"). A new ticket is linked to an order of its own customer:
 * the order number the form asked for, or an order number written in its subject or first message. Only an order
 * whose contact is the ticket's customer is linked, so a stranger who types someone else's order number gets no link
 * (an agent can link any order by hand, and unlink). Ticketing is reached only through its events (ticket.created,
 * ticket.merged) and services (ticketing.get); its tickets are named here by id.
 *
 * The service orders.ticket_context answers ticketing's "what do you know about this ticket" (ticketing/README.md,
 * "Ticket context"): the ticket's linked order (else the customer's latest) and its latest shipment, as macro
 * variables ({{order.number}}, {{shipment.tracking_url}}, {{shipment.eta}}, ...) and as facts for the ticket.triage
 * policy (ticket.order, ticket.shipment). */
#include "orders.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CANDIDATES 40
#define MAX_TEXT_LINKS 5

/* ------------------------------------------------------------------------------------------------ finding numbers */

/* The order of customer_id with this number (a leading '#' and spaces ignored; as written, then in capitals), or 0. */
static int64_t customer_order(struct destek_db *db, int64_t customer_id, const char *number)
{
  while (*number == '#' || *number == ' ') number++;
  char word[72];
  snprintf(word, sizeof word, "%s", number);
  size_t n = strlen(word);
  while (n && word[n - 1] == ' ') word[--n] = 0;
  if (!n || customer_id <= 0) return 0;
  int64_t id = ord_db_int(db, 0, "SELECT id FROM orders_orders WHERE number = ?1 AND contact_id = ?2", "ti", word,
                          customer_id);
  if (id) return id;
  int lower = 0;
  for (char *p = word; *p; p++)
    if (*p >= 'a' && *p <= 'z') { *p -= 32; lower = 1; }
  return lower ? ord_db_int(db, 0, "SELECT id FROM orders_orders WHERE number = ?1 AND contact_id = ?2", "ti", word,
                            customer_id)
               : 0;
}

/* Orders of customer_id whose numbers appear in text as words ("#1042", "SP-1001", "sipariş 100234"): up to max ids
 * into ids (no repeats), the count. A word is letters, digits, '-', '_' and '/' with at least one digit. */
static int orders_in_text(struct destek_db *db, int64_t customer_id, const char *text, int64_t *ids, int n, int max)
{
  int candidates = 0;
  for (const char *p = text ? text : ""; *p && n < max && candidates < MAX_CANDIDATES;) {
    if (!(isalnum((unsigned char)*p))) { p++; continue; }
    const char *start = p;
    int digit = 0;
    while (isalnum((unsigned char)*p) || *p == '-' || *p == '_' || *p == '/') digit |= isdigit((unsigned char)*p++);
    size_t len = (size_t)(p - start);
    while (len && strchr("-_/", start[len - 1])) len--;
    if (!digit || len < 3 || len > 64) continue;
    char word[72];
    memcpy(word, start, len);
    word[len] = 0;
    candidates++;
    int64_t id = customer_order(db, customer_id, word);
    int seen = 0;
    for (int i = 0; i < n; i++) seen |= ids[i] == id;
    if (id && !seen) ids[n++] = id;
  }
  return n;
}

/* ------------------------------------------------------------------------------------------------ links */

static int link_event(struct destek_req *call, struct destek_db *db, const char *event, int64_t order_id,
                      int64_t ticket_id, const char *how)
{
  cJSON *payload = ord_order_json(db, order_id, 0);
  if (!payload) return ord_error(call, 500, "internal", "the order could not be read");
  cJSON_AddNumberToObject(payload, "ticket_id", (double)ticket_id);
  if (how) cJSON_AddStringToObject(payload, "how", how);
  char subject[40];
  snprintf(subject, sizeof subject, "order:%lld", (long long)order_id);
  return ord_emit(call, event, subject, payload);
}

/* Links ticket_id to order_id (how: form, text, agent) in the call's transaction and emits order.linked. 0 (also
 * when they were linked already: *added 0), or the error status set up. */
static int link_add(struct destek_req *call, struct destek_db *w, int64_t ticket_id, int64_t order_id, const char *how,
                    int *added)
{
  char now[21];
  ord_now(now);
  int64_t uid = ord_user_id(call);
  *added = 0;
  if (ord_db_exec(w, "INSERT OR IGNORE INTO orders_ticket_links(ticket_id, order_id, how, user_id, created_at)"
                     " VALUES (?1, ?2, ?3, ?4, ?5)", "iitIt", ticket_id, order_id, how, uid > 0 ? &uid : NULL, now)
      != SQLITE_OK)
    return ord_error(call, 500, "internal", "the link could not be saved");
  if (!ord_db_changes(w)) return 0;
  *added = 1;
  return link_event(call, w, "order.linked", order_id, ticket_id, how);
}

/* The orders a new ticket names, as link_add would link them: the form's number first, then numbers in the text.
 * n ids and their hows (static strings) into ids/hows. */
static int detect(struct destek_db *db, int64_t customer_id, const char *order_number, const char *subject,
                  const char *body, int64_t ids[], const char *hows[])
{
  int n = 0;
  if (customer_id <= 0) return 0;
  if (order_number && *order_number) {
    int64_t id = customer_order(db, customer_id, order_number);
    if (id) { ids[n] = id; hows[n++] = "form"; }
  }
  int before = n;
  n = orders_in_text(db, customer_id, subject, ids, n, MAX_TEXT_LINKS);
  n = orders_in_text(db, customer_id, body, ids, n, MAX_TEXT_LINKS);
  for (int i = before; i < n; i++) hows[i] = "text";
  return n;
}

/* ticket.created (sync, in the ticket's transaction): links the orders the ticket names. Never a veto: a ticket is
 * worth more than its link (a failure is logged, and an agent can link by hand). */
static int on_ticket_created(struct destek_req *call, const struct destek_event *ev, void *ud, char *err,
                             size_t errlen)
{
  (void)ud; (void)err; (void)errlen;
  const cJSON *p = ev->payload;
  const cJSON *tid = cJSON_GetObjectItemCaseSensitive(p, "id");
  const cJSON *cid = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(p, "customer"), "id");
  if (!cJSON_IsNumber(tid) || !cJSON_IsNumber(cid)) return 0;
  int64_t ticket_id = (int64_t)tid->valuedouble, customer_id = (int64_t)cid->valuedouble;
  struct destek_db *db = ord_db_read(call);
  /* A customer without orders is most tickets of a desk without a shop: one indexed look and done. */
  if (!ord_db_int(db, 0, "SELECT count(*) FROM (SELECT 1 FROM orders_orders WHERE contact_id = ?1 LIMIT 1)", "i",
                  customer_id))
    return 0;
  cJSON *args = cJSON_CreateObject(), *ticket = NULL;
  cJSON_AddNumberToObject(args, "ticket_id", (double)ticket_id);
  cJSON_AddBoolToObject(args, "with_body", 1);
  int rc = ord_call_service(call, "ticketing.get", args, &ticket);
  cJSON_Delete(args);
  const char *body = rc ? NULL : cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ticket, "body"));
  int64_t ids[MAX_TEXT_LINKS + 1];
  const char *hows[MAX_TEXT_LINKS + 1];
  int n = detect(db, customer_id, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "order_number")),
                 cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "subject")), body, ids, hows);
  cJSON_Delete(ticket);
  struct destek_db *w = n ? ord_db_write(call) : NULL;
  for (int i = 0; i < n && w; i++) {
    int added;
    if (link_add(call, w, ticket_id, ids[i], hows[i], &added) != 0)
      ord_log(DESTEK_LOG_WARN, "ticket %lld could not be linked to order %lld", (long long)ticket_id, (long long)ids[i]);
  }
  return 0;
}

/* ticket.merged (sync): the merged-away ticket's orders are the thread's now. */
static int on_ticket_merged(struct destek_req *call, const struct destek_event *ev, void *ud, char *err, size_t errlen)
{
  (void)ud;
  const cJSON *tid = cJSON_GetObjectItemCaseSensitive(ev->payload, "id");
  const cJSON *sid = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(ev->payload, "source"), "id");
  if (!cJSON_IsNumber(tid) || !cJSON_IsNumber(sid)) return 0;
  struct destek_db *db = ord_db_read(call);
  if (!ord_db_int(db, 0, "SELECT count(*) FROM orders_ticket_links WHERE ticket_id = ?1", "i", (int64_t)sid->valuedouble))
    return 0;
  struct destek_db *w = ord_db_write(call);
  if (!w || ord_db_exec(w, "INSERT OR IGNORE INTO orders_ticket_links(ticket_id, order_id, how, user_id, created_at)"
                           " SELECT ?1, order_id, how, user_id, created_at FROM orders_ticket_links WHERE ticket_id = ?2",
                        "ii", (int64_t)tid->valuedouble, (int64_t)sid->valuedouble) != SQLITE_OK ||
      ord_db_exec(w, "DELETE FROM orders_ticket_links WHERE ticket_id = ?1", "i", (int64_t)sid->valuedouble) != SQLITE_OK) {
    snprintf(err, errlen, "the orders of the merged ticket could not follow it");
    return -1;
  }
  return 0;
}

/* ------------------------------------------------------------------------------------------------ routes */

static int64_t order_of_path(struct destek_req *r)
{
  const char *number = ord_param(r, "number");
  while (*number == '#') number++;
  return ord_order_by_number(ord_db_read(r), number);
}

/* GET /api/v1/orders/{number}/tickets: the tickets linked to the order, newest link first, each the ticket's summary
 * (ticketing.get) with link: {how, user_id, created_at}. */
static int order_tickets(struct destek_req *r)
{
  int64_t order_id = order_of_path(r);
  if (!order_id) return ord_error(r, 404, "not_found", "no such order");
  struct destek_db *db = ord_db_read(r);
  sqlite3_stmt *st = ord_db_prepare(db, "SELECT ticket_id, how, user_id, created_at FROM orders_ticket_links"
                                        " WHERE order_id = ?1 ORDER BY created_at DESC, ticket_id DESC LIMIT 100");
  if (!st) return ord_error(r, 500, "internal", "the tickets could not be read");
  ord_db_bind(st, "i", order_id);
  cJSON *links = cJSON_CreateArray();
  while (sqlite3_step(st) == SQLITE_ROW) {
    cJSON *l = cJSON_CreateObject();
    cJSON_AddNumberToObject(l, "ticket_id", (double)sqlite3_column_int64(st, 0));
    cJSON_AddStringToObject(l, "how", (const char *)sqlite3_column_text(st, 1));
    if (sqlite3_column_type(st, 2) == SQLITE_NULL) cJSON_AddNullToObject(l, "user_id");
    else cJSON_AddNumberToObject(l, "user_id", (double)sqlite3_column_int64(st, 2));
    cJSON_AddStringToObject(l, "created_at", (const char *)sqlite3_column_text(st, 3));
    cJSON_AddItemToArray(links, l);
  }
  ord_db_done(st);
  cJSON *items = cJSON_CreateArray();
  cJSON *l;
  cJSON_ArrayForEach(l, links) {
    cJSON *args = cJSON_CreateObject(), *ticket = NULL;
    cJSON_AddItemToObject(args, "ticket_id", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(l, "ticket_id"), 0));
    int rc = ord_call_service(r, "ticketing.get", args, &ticket);
    cJSON_Delete(args);
    if (rc == 501) { cJSON_Delete(links); cJSON_Delete(items); return rc; }   /* no ticketing on this desk */
    if (rc || !ticket) { cJSON_Delete(ticket); continue; }                     /* a ticket that is gone */
    cJSON *t = cJSON_CreateObject();
    const char *keep[] = { "id", "reference", "subject", "status", "priority", "channel", "created_at", "updated_at" };
    for (size_t i = 0; i < sizeof keep / sizeof *keep; i++) {
      cJSON *v = cJSON_GetObjectItemCaseSensitive(ticket, keep[i]);
      if (v) cJSON_AddItemToObject(t, keep[i], cJSON_Duplicate(v, 1));
    }
    cJSON *link = cJSON_Duplicate(l, 1);
    cJSON_DeleteItemFromObjectCaseSensitive(link, "ticket_id");
    cJSON_AddItemToObject(t, "link", link);
    cJSON_AddItemToArray(items, t);
    cJSON_Delete(ticket);
  }
  cJSON_Delete(links);
  return ord_reply_json(r, 200, ord_list_new(items, 0));
}

/* POST /api/v1/orders/{number}/tickets {ticket_id}: an agent links the order to a ticket (any order, any ticket).
 * 201 {ticket_id, order_number, how: "agent"}; 200 when they were linked already; 404 for an unknown order or
 * ticket. */
static int ticket_link(struct destek_req *r)
{
  cJSON *body;
  int rc = ord_body(r, &body);
  if (rc) return rc;
  const cJSON *tid = cJSON_GetObjectItemCaseSensitive(body, "ticket_id");
  if (!tid) return ord_field_error(r, "missing_field", "ticket_id", "ticket_id is required");
  if (!cJSON_IsNumber(tid) || tid->valuedouble < 1 || tid->valuedouble != (double)(int64_t)tid->valuedouble)
    return ord_field_error(r, "invalid_field", "ticket_id", "ticket_id must be a ticket id");
  int64_t order_id = order_of_path(r);
  if (!order_id) return ord_error(r, 404, "not_found", "no such order");
  cJSON *args = cJSON_CreateObject(), *ticket = NULL;
  cJSON_AddNumberToObject(args, "ticket_id", tid->valuedouble);
  rc = ord_call_service(r, "ticketing.get", args, &ticket);
  cJSON_Delete(args);
  cJSON_Delete(ticket);
  if (rc) return rc;   /* 404 not_found (no such ticket), 501 (no ticketing) */
  struct destek_db *w = ord_db_write(r);
  if (!w) return ord_status(r);
  int added;
  if ((rc = link_add(r, w, (int64_t)tid->valuedouble, order_id, "agent", &added))) return rc;
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "ticket_id", tid->valuedouble);
  char *number = ord_db_text_new(w, "SELECT number FROM orders_orders WHERE id = ?1", "i", order_id);
  cJSON_AddStringToObject(o, "order_number", number ? number : "");
  free(number);
  char *how = ord_db_text_new(w, "SELECT how FROM orders_ticket_links WHERE ticket_id = ?1 AND order_id = ?2", "ii",
                              (int64_t)tid->valuedouble, order_id);
  cJSON_AddStringToObject(o, "how", how ? how : "agent");
  free(how);
  return ord_reply_json(r, added ? 201 : 200, o);
}

/* DELETE /api/v1/orders/{number}/tickets/{ticket_id}: 204, or 404 when they are not linked. */
static int ticket_unlink(struct destek_req *r)
{
  int64_t order_id = order_of_path(r), ticket_id = ord_param_int(r, "ticket_id");
  if (!order_id) return ord_error(r, 404, "not_found", "no such order");
  struct destek_db *w = ord_db_write(r);
  if (!w) return ord_status(r);
  char *how = ord_db_text_new(w, "SELECT how FROM orders_ticket_links WHERE ticket_id = ?1 AND order_id = ?2", "ii",
                              ticket_id, order_id);
  if (!how) return ord_error(r, 404, "not_found", "the ticket is not linked to this order");
  int rc = ord_db_exec(w, "DELETE FROM orders_ticket_links WHERE ticket_id = ?1 AND order_id = ?2", "ii", ticket_id,
                       order_id) == SQLITE_OK
             ? link_event(r, w, "order.unlinked", order_id, ticket_id, how)
             : ord_error(r, 500, "internal", "the link could not be removed");
  free(how);
  return rc ? rc : ord_reply_empty(r, 204);
}

const struct destek_route ord_link_routes[] = {
  /* method    pattern                                        handler        access        params */
  { "GET",    "/api/v1/orders/{number}/tickets",             order_tickets, DESTEK_AGENT, "number:text" },
  { "POST",   "/api/v1/orders/{number}/tickets",             ticket_link,   DESTEK_AGENT, "number:text" },
  { "DELETE", "/api/v1/orders/{number}/tickets/{ticket_id}", ticket_unlink, DESTEK_AGENT, "number:text ticket_id:int" },
  { 0 }
};

/* ------------------------------------------------------------------------------------------------ ticket context */

/* "2026-12-07" as the customer reads it: "07.12.2026" in Turkish, "7 Dec 2026" in English; else as it is. */
static void date_for(const char *iso, const char *lang, char out[32])
{
  static const char *const MONTHS[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                                        "Dec" };
  int y, m, d;
  if (!iso || sscanf(iso, "%4d-%2d-%2d", &y, &m, &d) != 3 || m < 1 || m > 12) {
    snprintf(out, 32, "%s", iso ? iso : "");
    return;
  }
  if (!strcmp(lang, "en")) snprintf(out, 32, "%d %s %d", d, MONTHS[m - 1], y);
  else snprintf(out, 32, "%02d.%02d.%04d", d, m, y);
}

static void var(cJSON *vars, const char *name, const char *value)
{
  cJSON_AddStringToObject(vars, name, value ? value : "");
}

/* orders.ticket_context {ticket_id, customer_id, order_number, subject, lang, purpose[, body]} -> {variables, facts}:
 * the ticket's order (linked: the newest link; for the triage of a ticket not linked yet, the order it names; else the
 * customer's latest, with linked false) and that order's latest shipment. Variables are always answered (empty when
 * there is no order), so that a reply never shows "{{order.number}}" to a customer. */
static int svc_ticket_context(struct destek_req *call, const cJSON *args, cJSON **result, void *ud)
{
  (void)ud;
  struct destek_db *db = ord_db_read(call);
  const cJSON *tid = cJSON_GetObjectItemCaseSensitive(args, "ticket_id");
  const cJSON *cid = cJSON_GetObjectItemCaseSensitive(args, "customer_id");
  int64_t ticket_id = cJSON_IsNumber(tid) ? (int64_t)tid->valuedouble : 0;
  int64_t customer_id = cJSON_IsNumber(cid) ? (int64_t)cid->valuedouble : 0;
  const char *lang = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "lang"));
  const char *purpose = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "purpose"));
  if (!lang) lang = "tr";
  int64_t order_id = 0;
  const char *how = NULL;
  char how_buf[8] = "";
  sqlite3_stmt *st = ord_db_prepare(db, "SELECT order_id, how FROM orders_ticket_links WHERE ticket_id = ?1"
                                        " ORDER BY created_at DESC, order_id DESC LIMIT 1");
  if (st) {
    ord_db_bind(st, "i", ticket_id);
    if (sqlite3_step(st) == SQLITE_ROW) {
      order_id = sqlite3_column_int64(st, 0);
      snprintf(how_buf, sizeof how_buf, "%s", (const char *)sqlite3_column_text(st, 1));
      how = how_buf;
    }
    ord_db_done(st);
  }
  if (!order_id && purpose && !strcmp(purpose, "triage")) {
    int64_t ids[MAX_TEXT_LINKS + 1];
    const char *hows[MAX_TEXT_LINKS + 1];
    if (detect(db, customer_id, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "order_number")),
               cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "subject")),
               cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "body")), ids, hows) > 0) {
      order_id = ids[0];
      how = hows[0];
    }
  }
  int linked = order_id != 0;
  if (!order_id && customer_id > 0)
    order_id = ord_db_int(db, 0, "SELECT id FROM orders_orders WHERE contact_id = ?1 ORDER BY id DESC LIMIT 1", "i",
                          customer_id);

  *result = cJSON_CreateObject();
  cJSON *vars = cJSON_AddObjectToObject(*result, "variables"), *facts = cJSON_AddObjectToObject(*result, "facts");
  cJSON *order = order_id ? ord_order_json(db, order_id, 1) : NULL;
  cJSON *ship = NULL;
  if (order) {
    cJSON *ships = cJSON_GetObjectItemCaseSensitive(order, "shipments");
    int n = cJSON_GetArraySize(ships);
    if (n) ship = cJSON_DetachItemFromArray(ships, n - 1);
  }
  var(vars, "order.number", order ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(order, "number")) : NULL);
  var(vars, "order.status", order ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(order, "status")) : NULL);
  var(vars, "shipment.carrier", ship ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ship, "carrier_name")) : NULL);
  var(vars, "shipment.tracking_number",
      ship ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ship, "tracking_number")) : NULL);
  var(vars, "shipment.tracking_url", ship ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ship, "tracking_url")) : NULL);
  const char *eta = ship ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ship, "eta")) : NULL;
  char eta_text[32] = "";
  if (eta) date_for(eta, lang, eta_text);
  var(vars, "shipment.eta", eta_text);

  if (order) {
    cJSON *o = cJSON_AddObjectToObject(facts, "order");
    const char *keep[] = { "number", "source", "status", "payment_status", "currency", "total", "total_minor",
                           "placed_at", "paid_at", "cancelled_at", "shipping_method", "promised_dispatch_date" };
    for (size_t i = 0; i < sizeof keep / sizeof *keep; i++) {
      cJSON *v = cJSON_GetObjectItemCaseSensitive(order, keep[i]);
      if (v) cJSON_AddItemToObject(o, keep[i], cJSON_Duplicate(v, 1));
    }
    cJSON *province = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(order, "shipping_address"),
                                                       "province");
    if (province) cJSON_AddItemToObject(o, "province", cJSON_Duplicate(province, 1));
    cJSON_AddBoolToObject(o, "linked", linked);
    if (how) cJSON_AddStringToObject(o, "how", how);
    else cJSON_AddNullToObject(o, "how");
    cJSON_AddBoolToObject(o, "shipped", ship != NULL);
  }
  if (ship) {
    /* The shipment as the API shows it (with what other parts of the module add, the ETA), its timeline cut to the
     * last checkpoint. */
    cJSON *cps = cJSON_DetachItemFromObjectCaseSensitive(ship, "checkpoints");
    int n = cJSON_GetArraySize(cps);
    cJSON *last = n ? cJSON_DetachItemFromArray(cps, n - 1) : NULL;
    cJSON_AddItemToObject(ship, "last_checkpoint", last ? last : cJSON_CreateNull());
    cJSON_Delete(cps);
    cJSON_AddItemToObject(facts, "shipment", ship);
  }
  cJSON_Delete(order);
  return 0;
}

/* orders.order_tickets {number} -> {order_id, number, contact_id (null: none), ticket_ids (linked, newest first, at
 * most 50)}: what the agents' search needs to find an order's tickets ("#AT-10405", "at-10405": a leading '#' and
 * spaces ignored, then as written or in capitals). 404 not_found for an unknown number. */
static int svc_order_tickets(struct destek_req *call, const cJSON *args, cJSON **result, void *ud)
{
  (void)ud;
  const char *raw = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "number"));
  if (!raw) return ord_field_error(call, "missing_field", "number", "number is required");
  while (*raw == '#' || *raw == ' ') raw++;
  char word[72];
  snprintf(word, sizeof word, "%s", raw);
  size_t n = strlen(word);
  while (n && word[n - 1] == ' ') word[--n] = 0;
  struct destek_db *db = ord_db_read(call);
  int64_t id = n ? ord_order_by_number(db, word) : 0;
  if (!id && n) {
    for (char *p = word; *p; p++) if (*p >= 'a' && *p <= 'z') *p -= 32;
    id = ord_order_by_number(db, word);
  }
  if (!id) return ord_error(call, 404, "not_found", "no such order");
  sqlite3_stmt *st = ord_db_prepare(db, "SELECT number, contact_id FROM orders_orders WHERE id = ?1");
  if (!st) return ord_error(call, 500, "internal", "internal error");
  ord_db_bind(st, "i", id);
  *result = cJSON_CreateObject();
  cJSON_AddNumberToObject(*result, "order_id", (double)id);
  if (sqlite3_step(st) == SQLITE_ROW) {
    cJSON_AddStringToObject(*result, "number", (const char *)sqlite3_column_text(st, 0));
    if (sqlite3_column_type(st, 1) == SQLITE_NULL) cJSON_AddNullToObject(*result, "contact_id");
    else cJSON_AddNumberToObject(*result, "contact_id", (double)sqlite3_column_int64(st, 1));
  }
  ord_db_done(st);
  cJSON *ids = cJSON_AddArrayToObject(*result, "ticket_ids");
  st = ord_db_prepare(db, "SELECT ticket_id FROM orders_ticket_links WHERE order_id = ?1 ORDER BY ticket_id DESC LIMIT 50");
  if (st) {
    ord_db_bind(st, "i", id);
    while (sqlite3_step(st) == SQLITE_ROW) cJSON_AddItemToArray(ids, cJSON_CreateNumber((double)sqlite3_column_int64(st, 0)));
    ord_db_done(st);
  }
  return 0;
}

int ord_links_init(const struct destek_host *h)
{
  if (h->on(h, "ticket.created", DESTEK_SYNC, on_ticket_created, NULL) != 0 ||
      h->on(h, "ticket.merged", DESTEK_SYNC, on_ticket_merged, NULL) != 0)
    return -1;
  return h->service(h, "orders.ticket_context", svc_ticket_context, NULL) ||
         h->service(h, "orders.order_tickets", svc_order_tickets, NULL);
}
