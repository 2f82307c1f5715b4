/* rating.c — the service `ticketing.rate`: a module that asked a customer how a ticket went (feedback's CSAT, a chat
 * rating) tells the ticket, which emits `ticket.rated` and runs the admins' triggers for that event. Ticketing keeps
 * no score itself (the module that asked owns it); the event is what triggers, webhooks and the history see.
 *
 *   ticketing.rate {ticket_id, score, max, source, comment?} -> {ticket_id}
 *     score 1..max (max 2..10), source "<module>" (who asked: "feedback"), comment the customer's (at most 2000
 *     bytes; not put in the event: the event carries `has_comment`). The event's payload is the common one plus
 *     `rating: {score, max, source, has_comment}`, actor "customer:<id>".
 *
 * Triggers on `ticket.rated` take the conditions `score_max` / `score_min` (the score at most / at least n) besides
 * the usual ones, and every action, including `status` ("open" reopens a solved ticket) — "a bad score reopens the
 * ticket" or "assigns it to the team lead" is a trigger an admin writes (triggers.c).
 *
 *   ticketing.link_check {number, sig} -> {ticket_id, reference, status, customer_id}
 *     whether sig is the customer's link signature of ticket number (the portal's /t/{number}?sig=); 404 not_found
 *     for a wrong number or signature alike. A module that offers something on the ticket's portal page (feedback's
 *     CSAT) checks the caller with it. */
#include "tkt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "destek_util.h"

static int svc_rate(struct destek_req *call, const cJSON *args, cJSON **result, void *ud)
{
  (void)ud;
  const cJSON *idj = cJSON_GetObjectItemCaseSensitive(args, "ticket_id");
  const cJSON *sj = cJSON_GetObjectItemCaseSensitive(args, "score"), *mj = cJSON_GetObjectItemCaseSensitive(args, "max");
  const cJSON *src = cJSON_GetObjectItemCaseSensitive(args, "source");
  const cJSON *comment = cJSON_GetObjectItemCaseSensitive(args, "comment");
  if (!cJSON_IsNumber(idj) || idj->valuedouble < 1 || idj->valuedouble != (double)(int64_t)idj->valuedouble)
    return tkt_field_error(call, "invalid_field", "ticket_id", "ticket_id must be a ticket id");
  int64_t ticket_id = (int64_t)idj->valuedouble;
  if (!cJSON_IsNumber(mj) || mj->valuedouble < 2 || mj->valuedouble > 10 || mj->valuedouble != (int)mj->valuedouble)
    return tkt_field_error(call, "invalid_field", "max", "max must be a whole number from 2 to 10");
  int max = (int)mj->valuedouble;
  if (!cJSON_IsNumber(sj) || sj->valuedouble < 1 || sj->valuedouble > max || sj->valuedouble != (int)sj->valuedouble)
    return tkt_field_error(call, "invalid_field", "score", "score must be a whole number from 1 to max");
  if (!cJSON_IsString(src) || !*src->valuestring || strlen(src->valuestring) > 40)
    return tkt_field_error(call, "invalid_field", "source", "source is the name of the module that asked");
  if (comment && !cJSON_IsNull(comment) && (!cJSON_IsString(comment) || strlen(comment->valuestring) > 2000))
    return tkt_field_error(call, "invalid_field", "comment", "comment must be text of at most 2000 bytes");
  struct destek_db *w = tkt_db_write(call);
  if (!w) return tkt_status(call);
  int64_t customer_id = tkt_db_int(w, -1, "SELECT customer_id FROM tkt_tickets WHERE id = ?1", "i", ticket_id);
  if (customer_id < 0) return tkt_error(call, 404, "not_found", "no such ticket");
  char detail[80];
  snprintf(detail, sizeof detail, "%d/%d", (int)sj->valuedouble, max);
  char actor[48];
  snprintf(actor, sizeof actor, "customer:%lld", (long long)customer_id);
  tkt_history(w, ticket_id, actor, "rated", NULL, detail);
  cJSON *extra = cJSON_CreateObject(), *rating = cJSON_AddObjectToObject(extra, "rating");
  cJSON_AddNumberToObject(rating, "score", (int)sj->valuedouble);
  cJSON_AddNumberToObject(rating, "max", max);
  cJSON_AddStringToObject(rating, "source", src->valuestring);
  cJSON_AddBoolToObject(rating, "has_comment", cJSON_IsString(comment) && *comment->valuestring);
  cJSON_AddStringToObject(extra, "actor", actor);
  int rc = tkt_emit(call, "ticket.rated", ticket_id, extra);
  if (rc) return rc;
  *result = cJSON_CreateObject();
  cJSON_AddNumberToObject(*result, "ticket_id", (double)ticket_id);
  return 0;
}

static int svc_link_check(struct destek_req *call, const cJSON *args, cJSON **result, void *ud)
{
  (void)ud;
  const cJSON *nj = cJSON_GetObjectItemCaseSensitive(args, "number"), *sj = cJSON_GetObjectItemCaseSensitive(args, "sig");
  int64_t number = cJSON_IsNumber(nj) ? (int64_t)nj->valuedouble : cJSON_IsString(nj) ? strtoll(nj->valuestring, NULL, 10) : 0;
  if (number < 1) return tkt_field_error(call, "invalid_field", "number", "number is the ticket's number");
  struct destek_db *db = tkt_db_read(call);
  int64_t id = tkt_db_int(db, 0, "SELECT id FROM tkt_tickets WHERE reference = ?1", "i", number);
  char want[65];
  if (id) tkt_link_sig(db, id, want);
  if (!id || !cJSON_IsString(sj) || strlen(sj->valuestring) != 64 || !util_ct_equal(want, sj->valuestring, 64))
    return tkt_error(call, 404, "not_found", "no such ticket");
  char *status = tkt_db_text_new(db, "SELECT status FROM tkt_tickets WHERE id = ?1", "i", id);
  *result = cJSON_CreateObject();
  cJSON_AddNumberToObject(*result, "ticket_id", (double)id);
  char ref[24];
  snprintf(ref, sizeof ref, "#%lld", (long long)number);
  cJSON_AddStringToObject(*result, "reference", ref);
  cJSON_AddStringToObject(*result, "status", status ? status : "");
  cJSON_AddNumberToObject(*result, "customer_id", (double)tkt_db_int(db, 0, "SELECT customer_id FROM tkt_tickets WHERE id = ?1", "i", id));
  free(status);
  return 0;
}

int tkt_rating_init(const struct destek_host *h)
{
  return h->service(h, "ticketing.rate", svc_rate, NULL) | h->service(h, "ticketing.link_check", svc_link_check, NULL);
}
