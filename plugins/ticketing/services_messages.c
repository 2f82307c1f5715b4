/* Two services for modules that keep a conversation of their own beside a ticket (returns: a return's page and its
 * notices). Each runs inside the caller's call and transaction, as ticketing, like those of services.c.
 *
 *   ticketing.reply            {ticket_id, body} -> {message_id}: a public reply the customer is mailed (as an agent's
 *                              reply is). By the call's user when it has one, else an automatic reply by the system
 *                              (which, as a trigger's, neither opens the ticket nor counts as its first response).
 *   ticketing.customer_message {ticket_id, body, attachments?} -> {message_id}: a message from the ticket's customer
 *                              (written on another module's page the customer reached by a signed link, or on another
 *                              channel: chat, WhatsApp); attachments as POST /api/v1/tickets takes them ([{filename,
 *                              content_type, data_base64}]). It reopens a pending, solved or closed ticket as the
 *                              customer's mail does. */
#include "tkt.h"

#include <stdio.h>
#include <string.h>

/* ticket_id and body of args: 0, or the 422/404 set up. */
static int message_args(struct destek_req *call, const cJSON *args, int64_t *id, const char **body)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(args, "ticket_id");
  if (!v) return tkt_field_error(call, "missing_field", "ticket_id", "ticket_id is required");
  if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble != (double)(int64_t)v->valuedouble)
    return tkt_field_error(call, "invalid_field", "ticket_id", "ticket_id must be a ticket id");
  *id = (int64_t)v->valuedouble;
  int rc = tkt_field_str(call, args, "body", DESTEK_REQUIRED, TKT_BODY_MAX, body);
  if (rc) return rc;
  if (!tkt_db_int(tkt_db_read(call), 0, "SELECT count(*) FROM tkt_tickets WHERE id = ?1", "i", *id))
    return tkt_error(call, 404, "not_found", "no such ticket");
  return 0;
}

static int svc_reply(struct destek_req *call, const cJSON *args, cJSON **result, void *ud)
{
  (void)ud;
  int64_t id = 0;
  const char *body;
  int rc = message_args(call, args, &id, &body);
  if (rc) return rc;
  struct destek_db *w = tkt_db_write(call);
  if (!w) return tkt_status(call);
  char actor[48];
  int64_t user_id = tkt_user_id(call);
  if (user_id > 0) tkt_actor(call, actor);
  else snprintf(actor, sizeof actor, "system");
  int64_t mid = tkt_message_add(call, w, id, 0, "reply", user_id, 0, body, NULL, NULL, actor);
  if (mid < 0) return (int)-mid;
  *result = cJSON_CreateObject();
  cJSON_AddNumberToObject(*result, "message_id", (double)mid);
  return 0;
}

static int svc_customer_message(struct destek_req *call, const cJSON *args, cJSON **result, void *ud)
{
  (void)ud;
  int64_t id = 0;
  const char *body;
  int rc = message_args(call, args, &id, &body);
  if (rc) return rc;
  const cJSON *atts = cJSON_GetObjectItemCaseSensitive(args, "attachments");
  if (atts && cJSON_IsNull(atts)) atts = NULL;
  if (atts && (rc = tkt_attachments_check(call, atts))) return rc;
  struct destek_db *w = tkt_db_write(call);
  if (!w) return tkt_status(call);
  int64_t customer_id = tkt_db_int(w, 0, "SELECT customer_id FROM tkt_tickets WHERE id = ?1", "i", id);
  char actor[48];
  snprintf(actor, sizeof actor, "customer:%lld", (long long)customer_id);
  int64_t mid = tkt_message_add(call, w, id, 0, "customer", 0, customer_id, body, NULL, atts, actor);
  if (mid < 0) return (int)-mid;
  *result = cJSON_CreateObject();
  cJSON_AddNumberToObject(*result, "message_id", (double)mid);
  return 0;
}

int tkt_services_messages_init(const struct destek_host *h)
{
  return h->service(h, "ticketing.reply", svc_reply, NULL) |
         h->service(h, "ticketing.customer_message", svc_customer_message, NULL) | tkt_attachments_services_init(h);
}
