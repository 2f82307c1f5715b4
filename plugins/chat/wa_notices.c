/* WhatsApp templates other modules send to a customer: the service chat.whatsapp_template_send (an order's shipping
 * notice from the orders module, for one). The message goes out as an agent's template does (whatsapp.c: queued, sent
 * on the chat.wa_send timer after the commit, delivery statuses from the webhook), on the customer's WhatsApp thread,
 * where agents see it; a permanent failure is announced with the event whatsapp.message_failed so that the module that
 * asked can tell the customer another way (the orders module mails instead).
 *
 *   {op: "send" (default), contact_id, phone, template: {name, language, parameters: [text, ...]}, ref, summary?,
 *    commercial?: false}
 *     -> {id, status: "queued", ticket_id | null, duplicate}
 *     phone: the customer's WhatsApp number (any form the core normalises: "+90 532 ...", "0532 ..."). name and
 *     language must be one of the shop's approved templates (chat.wa_templates). ref: the caller's key for this message
 *     ("orders.notice:12", at most 100 bytes): a second request with it answers the first's message (the bus delivers
 *     at least once). summary: what agents read on the thread (default: the template and its parameters).
 *     commercial (the core's consent terms, law 6563): false, the default, is a service message (order and shipping
 *     updates as UTILITY templates; nothing promotional in them) that needs no consent; true needs the contact's
 *     current ONAY for "whatsapp" (409 no_consent otherwise). Errors: 409 whatsapp_not_configured (no access token or
 *     number id), 422 invalid_field (phone, template, ref), 404 not_found (contact).
 *     The customer's thread is found by the number or made for contact_id; when its current ticket is open, the
 *     summary becomes an internal note on it (the message is listed with the ticket); otherwise the message waits on
 *     the thread and joins the ticket the customer's next message opens.
 *   {op: "status", id} -> {id, status (queued, sent, delivered, read, failed), error_code, error_title, ref, ticket_id}
 *
 * Event whatsapp.message_failed {id, ref, origin, contact_id, error_code, error_title}: a message sent for another
 * module (one with a ref) failed for good: the Graph API refused it (4xx, e.g. 131026 undeliverable, 131047), or a
 * status "failed" arrived on the webhook after it was sent. Emitted once per message, in the call that recorded it. */
#include "chat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "destek_util.h"

static const char *arg_str(const cJSON *o, const char *k)
{
  return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

static int setting_set(const char *name)
{
  char *v = H->setting_new(name);
  int set = v && *v;
  free(v);
  return set;
}

/* The status of message id as {id, status, ...} (new), or NULL when there is none. */
static cJSON *message_status_new(struct destek_db *db, int64_t id)
{
  sqlite3_stmt *st = H->db_prepare(db, "SELECT status, error_code, error_title, ref, ticket_id FROM chat_wa_messages"
                                       " WHERE id = ?1 AND direction = 'out'");
  if (!st) return NULL;
  H->db_bind(st, "i", id);
  cJSON *o = NULL;
  if (sqlite3_step(st) == SQLITE_ROW) {
    o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)id);
    cJSON_AddStringToObject(o, "status", (const char *)sqlite3_column_text(st, 0));
    if (sqlite3_column_type(st, 1) == SQLITE_NULL) cJSON_AddNullToObject(o, "error_code");
    else cJSON_AddNumberToObject(o, "error_code", (double)sqlite3_column_int64(st, 1));
    const char *t = (const char *)sqlite3_column_text(st, 2);
    if (t) cJSON_AddStringToObject(o, "error_title", t); else cJSON_AddNullToObject(o, "error_title");
    t = (const char *)sqlite3_column_text(st, 3);
    if (t) cJSON_AddStringToObject(o, "ref", t); else cJSON_AddNullToObject(o, "ref");
    if (sqlite3_column_type(st, 4) == SQLITE_NULL) cJSON_AddNullToObject(o, "ticket_id");
    else cJSON_AddNumberToObject(o, "ticket_id", (double)sqlite3_column_int64(st, 4));
  }
  H->db_done(st);
  return o;
}

/* The thread of wa_id, made for contact_id when there is none: 0 and *thread_id, *ticket_id (0: none), or the error. */
static int thread_of(struct destek_req *call, struct destek_db *w, const char *wa_id, const char *phone,
                     int64_t contact_id, int64_t *thread_id, int64_t *ticket_id)
{
  int rc = chat_wa_thread_find(call, w, wa_id, thread_id, ticket_id);
  if (rc || *thread_id) return rc;
  /* The number is the contact's WhatsApp from now on (unless someone else holds it: then the thread is still theirs). */
  if (H->contact_identity_add(call, contact_id, "whatsapp", phone) < 0)
    return H->error(call, 404, "not_found", "no such contact");
  return chat_wa_thread_add(call, w, wa_id, contact_id, thread_id);
}

/* Whether ticket_id is open (not solved, closed or merged), through ticketing. */
static int ticket_open(struct destek_req *call, int64_t ticket_id)
{
  if (!ticket_id) return 0;
  cJSON *args = cJSON_CreateObject(), *res = NULL;
  cJSON_AddNumberToObject(args, "ticket_id", (double)ticket_id);
  int rc = H->call_service(call, "ticketing.get", args, &res);
  cJSON_Delete(args);
  const char *status = rc ? NULL : arg_str(res, "status");
  int open = status && strcmp(status, "solved") && strcmp(status, "closed") && strcmp(status, "merged") &&
             !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(res, "merged_into"));
  cJSON_Delete(res);
  return open;
}

static int send_op(struct destek_req *call, const cJSON *args, cJSON **result)
{
  const cJSON *cid = cJSON_GetObjectItemCaseSensitive(args, "contact_id");
  const cJSON *tpl = cJSON_GetObjectItemCaseSensitive(args, "template");
  const char *phone_in = arg_str(args, "phone"), *ref = arg_str(args, "ref"), *summary = arg_str(args, "summary");
  const char *name = arg_str(tpl, "name"), *language = arg_str(tpl, "language");
  const cJSON *params = cJSON_GetObjectItemCaseSensitive(tpl, "parameters"), *p;
  int commercial = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(args, "commercial"));
  if (!cJSON_IsNumber(cid) || cid->valuedouble < 1)
    return H->field_error(call, "invalid_field", "contact_id", "contact_id must be a contact id");
  int64_t contact_id = (int64_t)cid->valuedouble;
  char phone[40];
  if (!phone_in || H->contact_normalise("whatsapp", phone_in, phone, sizeof phone) != 0 || phone[0] != '+')
    return H->field_error(call, "invalid_field", "phone", "not a WhatsApp number");
  if (!ref || !*ref || strlen(ref) > 100)
    return H->field_error(call, "invalid_field", "ref", "ref is the caller's key of 1 to 100 bytes");
  if (!name || !language || (params && !cJSON_IsArray(params)) || cJSON_GetArraySize(params) > 20)
    return H->field_error(call, "invalid_field", "template", "template is {name, language, parameters: [text, ...]}");
  cJSON_ArrayForEach(p, params)
    if (!cJSON_IsString(p) || !*p->valuestring || strlen(p->valuestring) > 1000)
      return H->field_error(call, "invalid_field", "template", "each parameter is a text of 1 to 1000 bytes");
  if (!chat_wa_template_approved(name, language))
    return H->field_error(call, "invalid_field", "template", "%s (%s) is not one of the shop's approved templates"
                          " (chat.wa_templates)", name, language);
  if (!setting_set("chat.wa_access_token") || !setting_set("chat.wa_phone_number_id"))
    return H->error(call, 409, "whatsapp_not_configured", "WhatsApp sending is not set up (chat.wa_access_token,"
                    " chat.wa_phone_number_id)");
  if (commercial && H->consent_state(call, contact_id, "whatsapp") != 1)
    return H->error(call, 409, "no_consent", "a commercial WhatsApp message needs the customer's consent (ONAY)");

  struct destek_db *w = H->db_write(call);
  if (!w) return H->status(call);
  int64_t kept = H->db_int(w, 0, "SELECT id FROM chat_wa_messages WHERE ref = ?1", "t", ref);
  if (kept) {
    *result = message_status_new(w, kept);
    cJSON_AddBoolToObject(*result, "duplicate", 1);
    return 0;
  }
  int64_t thread_id, ticket_id;
  int rc = thread_of(call, w, phone + 1, phone, contact_id, &thread_id, &ticket_id);
  if (rc) return rc;
  char note[2400];
  if (summary && *summary) snprintf(note, sizeof note, "%s", summary);
  else {
    size_t n = (size_t)snprintf(note, sizeof note, "WhatsApp template / şablonu: %s (%s)", name, language);
    cJSON_ArrayForEach(p, params)
      if (n < sizeof note) n += (size_t)snprintf(note + n, sizeof note - n, "\n- %s", p->valuestring);
  }
  /* On the conversation agents see: a note on the open ticket; else it waits for the ticket the reply opens. */
  int64_t message_id = 0;
  if (ticket_open(call, ticket_id)) {
    cJSON *na = cJSON_CreateObject(), *res = NULL;
    cJSON_AddNumberToObject(na, "ticket_id", (double)ticket_id);
    cJSON_AddStringToObject(na, "body", note);
    rc = H->call_service(call, "ticketing.note", na, &res);
    cJSON_Delete(na);
    const cJSON *mid = cJSON_GetObjectItemCaseSensitive(res, "message_id");
    if (!rc && cJSON_IsNumber(mid)) message_id = (int64_t)mid->valuedouble;
    cJSON_Delete(res);
    if (rc) return rc;
  } else {
    ticket_id = 0;
  }
  cJSON *body = cJSON_CreateObject();
  cJSON_AddStringToObject(body, "name", name);
  cJSON_AddStringToObject(body, "language", language);
  cJSON_AddItemToObject(body, "parameters", params ? cJSON_Duplicate(params, 1) : cJSON_CreateArray());
  cJSON_AddStringToObject(body, "summary", note);
  char *text = cJSON_PrintUnformatted(body);
  cJSON_Delete(body);
  char origin[48];
  snprintf(origin, sizeof origin, "%.*s", (int)strcspn(ref, ".:"), ref);
  char now[21];
  chat_now(now);
  rc = H->db_exec(w, "INSERT INTO chat_wa_messages(thread_id, direction, kind, body, ticket_id, ticket_message_id, status,"
                     " created_at, ref, origin, commercial) VALUES (?1, 'out', 'template', ?2, ?3, ?4, 'queued', ?5,"
                     " ?6, ?7, ?8)", "itIIt" "tti", thread_id, text, ticket_id ? &ticket_id : NULL,
                  message_id ? &message_id : NULL, now, ref, origin, (int64_t)commercial);
  free(text);
  if (rc != SQLITE_OK) return H->error(call, 500, "internal", "the template could not be queued");
  int64_t id = H->db_last_id(w);
  if (chat_wa_send_queue(call, id, (int64_t)time(NULL)) != 0)
    return H->error(call, 500, "internal", "the template could not be queued");
  *result = message_status_new(w, id);
  cJSON_AddBoolToObject(*result, "duplicate", 0);
  return 0;
}

static int svc_template_send(struct destek_req *call, const cJSON *args, cJSON **result, void *ud)
{
  (void)ud;
  const char *op = arg_str(args, "op");
  if (!op || !strcmp(op, "send")) return send_op(call, args, result);
  if (strcmp(op, "status")) return H->field_error(call, "invalid_field", "op", "op is send or status");
  const cJSON *id = cJSON_GetObjectItemCaseSensitive(args, "id");
  *result = cJSON_IsNumber(id) ? message_status_new(H->db_read(call), (int64_t)id->valuedouble) : NULL;
  if (!*result) return H->error(call, 404, "not_found", "no such WhatsApp message");
  return 0;
}

int chat_wa_failed_emit(struct destek_req *call, struct destek_db *w, int64_t id)
{
  sqlite3_stmt *st = H->db_prepare(w, "SELECT m.ref, m.origin, t.contact_id, m.error_code, m.error_title"
                                      " FROM chat_wa_messages m JOIN chat_wa_threads t ON t.id = m.thread_id"
                                      " WHERE m.id = ?1 AND m.ref IS NOT NULL AND m.status = 'failed'");
  if (!st) return -1;
  H->db_bind(st, "i", id);
  cJSON *p = NULL;
  if (sqlite3_step(st) == SQLITE_ROW) {
    p = cJSON_CreateObject();
    cJSON_AddNumberToObject(p, "id", (double)id);
    cJSON_AddStringToObject(p, "ref", (const char *)sqlite3_column_text(st, 0));
    const char *o = (const char *)sqlite3_column_text(st, 1);
    cJSON_AddStringToObject(p, "origin", o ? o : "");
    cJSON_AddNumberToObject(p, "contact_id", (double)sqlite3_column_int64(st, 2));
    cJSON_AddNumberToObject(p, "error_code", (double)sqlite3_column_int64(st, 3));
    const char *e = (const char *)sqlite3_column_text(st, 4);
    cJSON_AddStringToObject(p, "error_title", e ? e : "");
  }
  H->db_done(st);
  if (!p) return 0;
  char subject[40];
  snprintf(subject, sizeof subject, "whatsapp:%lld", (long long)id);
  return H->emit(call, "whatsapp.message_failed", subject, p);
}

int chat_wa_notices_init(const struct destek_host *h)
{
  static const char *const nouns[] = { "whatsapp", NULL };
  return h->events(h, nouns) || h->service(h, "chat.whatsapp_template_send", svc_template_send, NULL);
}
