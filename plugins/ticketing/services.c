/* The services ticketing publishes for other modules (include/destek.h: host->service, host->call_service). Each
 * runs inside the caller's call and transaction, as ticketing, for the call's user (or the system); arguments and
 * results are JSON objects; errors are set up on the call as a handler's are (422 naming the member, 404 for an
 * unknown ticket). plugins/ticketing/README.md lists them for module authors.
 *
 *   ticketing.open  {subject, body, customer: {email | phone, name, lang}, channel, priority, tags, order_number}
 *                   -> {id, reference, link}: a new ticket (the customer matched or created, triage, SLA, triggers,
 *                   ticket.created, as POST /api/v1/tickets does; channel defaults to "api").
 *   ticketing.note  {ticket_id, body} -> {message_id}: an internal note on the ticket (agents see it; the customer
 *                   never does; message.added).
 *   ticketing.get   {ticket_id[, with_body]} -> the ticket's summary as the agents' API shows it (GET
 *                   /api/v1/tickets/{id} without messages and history); with_body: true adds body, the first message.
 *   ticketing.link  {ticket_id} -> {url, sig}: the customer's signed link to the ticket's page in the portal.
 *   ticketing.open_tickets {contact_id, order_number?} -> {items: [{id, reference, status, order_number}]}: the
 *                   contact's tickets that are not solved, closed or merged, those about order_number first, then
 *                   the newest (at most 20). */
#include "tkt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The ticket_id member of args: 0 and *id, or the 422/404 set up. */
static int ticket_arg(struct destek_req *call, const cJSON *args, int64_t *id)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(args, "ticket_id");
  if (!v) return tkt_field_error(call, "missing_field", "ticket_id", "ticket_id is required");
  if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble != (double)(int64_t)v->valuedouble)
    return tkt_field_error(call, "invalid_field", "ticket_id", "ticket_id must be a ticket id");
  *id = (int64_t)v->valuedouble;
  if (!tkt_db_int(tkt_db_read(call), 0, "SELECT count(*) FROM tkt_tickets WHERE id = ?1", "i", *id))
    return tkt_error(call, 404, "not_found", "no such ticket");
  return 0;
}

/* The ticket's number for links: "1042". */
static void reference_of(struct destek_req *call, int64_t ticket_id, char out[24])
{
  int64_t ref = tkt_db_int(tkt_db_read(call), 0, "SELECT reference FROM tkt_tickets WHERE id = ?1", "i", ticket_id);
  snprintf(out, 24, "%lld", (long long)ref);
}

static int svc_open(struct destek_req *call, const cJSON *args, cJSON **result, void *ud)
{
  (void)ud;
  int64_t id = 0;
  int rc = tkt_ticket_open(call, args, &id);
  if (rc) return rc;
  char ref[24], hash_ref[26];
  reference_of(call, id, ref);
  snprintf(hash_ref, sizeof hash_ref, "#%s", ref);
  char *link = tkt_ticket_link_new(tkt_db_read(call), id, ref);
  *result = cJSON_CreateObject();
  cJSON_AddNumberToObject(*result, "id", (double)id);
  cJSON_AddStringToObject(*result, "reference", hash_ref);
  cJSON_AddStringToObject(*result, "link", link);
  free(link);
  return 0;
}

static int svc_note(struct destek_req *call, const cJSON *args, cJSON **result, void *ud)
{
  (void)ud;
  int64_t id = 0;
  const char *body;
  int rc;
  if ((rc = ticket_arg(call, args, &id)) ||
      (rc = tkt_field_str(call, args, "body", DESTEK_REQUIRED, TKT_BODY_MAX, &body)))
    return rc;
  struct destek_db *w = tkt_db_write(call);
  if (!w) return tkt_status(call);
  char actor[48];
  tkt_actor(call, actor);
  int64_t mid = tkt_message_add(call, w, id, 0, "note", tkt_user_id(call), 0, body, NULL, NULL, actor);
  if (mid < 0) return (int)-mid;
  *result = cJSON_CreateObject();
  cJSON_AddNumberToObject(*result, "message_id", (double)mid);
  return 0;
}

static int svc_get(struct destek_req *call, const cJSON *args, cJSON **result, void *ud)
{
  (void)ud;
  int64_t id = 0;
  int rc = ticket_arg(call, args, &id);
  if (rc) return rc;
  struct destek_db *db = tkt_db_read(call);
  *result = tkt_ticket_json(db, id, 0);
  if (!*result) return tkt_error(call, 404, "not_found", "no such ticket");
  if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(args, "with_body"))) {
    char *body = tkt_db_text_new(db, "SELECT body FROM tkt_messages WHERE ticket_id = ?1 ORDER BY id LIMIT 1", "i", id);
    cJSON_AddStringToObject(*result, "body", body ? body : "");
    free(body);
  }
  return 0;
}

static int svc_link(struct destek_req *call, const cJSON *args, cJSON **result, void *ud)
{
  (void)ud;
  int64_t id = 0;
  int rc = ticket_arg(call, args, &id);
  if (rc) return rc;
  char ref[24], sig[65];
  reference_of(call, id, ref);
  tkt_link_sig(tkt_db_read(call), id, sig);
  char *link = tkt_ticket_link_new(tkt_db_read(call), id, ref);
  *result = cJSON_CreateObject();
  cJSON_AddStringToObject(*result, "url", link);
  cJSON_AddStringToObject(*result, "sig", sig);
  free(link);
  return 0;
}

static int svc_open_tickets(struct destek_req *call, const cJSON *args, cJSON **result, void *ud)
{
  (void)ud;
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(args, "contact_id");
  if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble != (double)(int64_t)v->valuedouble)
    return tkt_field_error(call, "invalid_field", "contact_id", "contact_id must be a contact id");
  const char *order = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "order_number"));
  sqlite3_stmt *st = tkt_db_prepare(tkt_db_read(call),
    "SELECT id, reference, status, order_number FROM tkt_tickets WHERE customer_id = ?1 AND merged_into IS NULL"
    " AND status NOT IN ('solved', 'closed') ORDER BY coalesce(order_number = ?2, 0) DESC, seq DESC LIMIT 20");
  if (!st) return tkt_error(call, 500, "internal", "internal error");
  tkt_db_bind(st, "it", (int64_t)v->valuedouble, order);
  cJSON *items = cJSON_CreateArray();
  while (sqlite3_step(st) == SQLITE_ROW) {
    cJSON *t = cJSON_CreateObject();
    cJSON_AddNumberToObject(t, "id", (double)sqlite3_column_int64(st, 0));
    char ref[26];
    snprintf(ref, sizeof ref, "#%lld", (long long)sqlite3_column_int64(st, 1));
    cJSON_AddStringToObject(t, "reference", ref);
    cJSON_AddStringToObject(t, "status", (const char *)sqlite3_column_text(st, 2));
    if (sqlite3_column_type(st, 3) == SQLITE_NULL) cJSON_AddNullToObject(t, "order_number");
    else cJSON_AddStringToObject(t, "order_number", (const char *)sqlite3_column_text(st, 3));
    cJSON_AddItemToArray(items, t);
  }
  tkt_db_done(st);
  *result = cJSON_CreateObject();
  cJSON_AddItemToObject(*result, "items", items);
  return 0;
}

int tkt_services_init(const struct destek_host *h)
{
  return h->service(h, "ticketing.open", svc_open, NULL) | h->service(h, "ticketing.note", svc_note, NULL) |
         h->service(h, "ticketing.get", svc_get, NULL) | h->service(h, "ticketing.link", svc_link, NULL) |
         h->service(h, "ticketing.open_tickets", svc_open_tickets, NULL);
}
