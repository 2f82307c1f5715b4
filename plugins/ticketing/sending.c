/* How an agent's reply leaves: the undo window, and the channel it goes out on.
 *
 * Undo. POST /api/v1/tickets/{id}/messages with "hold": true (the composer's) is checked in full, then kept as a row
 * of tkt_scheduled_replies with a persisted timer (ticketing.send_reply) at now + ticketing.undo_seconds, and
 * answered 202 {scheduled}. Nothing is written to the thread or mailed yet. The timer writes the reply — message,
 * history, events, mail through the usual subscribers — in the same transaction that deletes the row, as the agent
 * who sent it. DELETE /api/v1/tickets/{id}/scheduled/{sid} deletes the row and the timer and answers with the request,
 * for the composer to take the text back; once the reply was written it answers 409 already_sent. Both run on the
 * one writer, so exactly one of them wins, and both commit before they answer: a reply the agent was told is
 * underway is sent after a kill -9 (the timer is in the database and fires on restart, late), and one whose undo was
 * answered is never sent. A reply that can no longer be written when its time comes (the ticket was closed
 * meanwhile) keeps its row with the reason (GET …/scheduled shows it; its undo gives the text back).
 *
 * Channels. A reply goes out on the ticket's channel: e-mail for email, web (the form), api and phone tickets; for
 * another channel (chat, whatsapp) a module that sends on it publishes the service "<module>.channel_send", which
 * answers {"op": "channels"} with {"channels": ["chat", ...]} and {"op": "send", channel, ticket_id, message_id,
 * customer_id, body, author_user_id} by sending (non-zero: retried by the bus), and may refuse a reply before it is written with an
 * error to {"op": "check", channel, ticket_id} (its reason is the agent's answer). Ticketing asks the services by name (host
 * services_new), knowing none of them. A reply on a channel nobody sends on is refused (409 channel_unavailable)
 * rather than mailed behind the agent's back; "via": "email" sends it by mail instead when the customer has an
 * address. GET /api/v1/tickets/{id}/channels tells the composer which. tkt_messages.via records a channel that is
 * not e-mail (mail_out.c mails only replies without one). */
#include "tkt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "destek_util.h"
#include "triggers.h"

#define SUFFIX ".channel_send"

static const struct destek_setting sending_settings[] = {
  { "ticketing.undo_seconds", DESTEK_SETTING_INT, "5", 0,
    "Seconds an agent's reply waits before it is sent, during which it can be undone (0: sent at once)" },
  { 0 }
};

long tkt_undo_seconds(void)
{
  long s = tkt_setting_int("ticketing.undo_seconds", 5);
  return s < 0 ? 0 : s > 60 ? 60 : s;
}

static int mail_channel(const char *channel)
{
  return !strcmp(channel, "email") || !strcmp(channel, "web") || !strcmp(channel, "api") || !strcmp(channel, "phone");
}

/* The service that sends on channel ("<module>.channel_send"), copied into name; 0 when found, -1 when none. */
static int sender_find(struct destek_req *call, const char *channel, char name[128])
{
  if (!DESTEK_HOST_HAS(tkt_host, services_new) || !DESTEK_HOST_HAS(tkt_host, call_service)) return -1;
  cJSON *list = tkt_host->services_new(SUFFIX);
  cJSON *ask = cJSON_CreateObject();
  cJSON_AddStringToObject(ask, "op", "channels");
  int found = -1;
  const cJSON *svc;
  cJSON_ArrayForEach(svc, list) {
    const char *n = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(svc, "name"));
    size_t len = n ? strlen(n) : 0;
    if (len <= sizeof SUFFIX - 1 || len >= 128 || strcmp(n + len - (sizeof SUFFIX - 1), SUFFIX) ||
        !strncmp(n, "ticketing.", 10))
      continue;
    cJSON *res = NULL;
    if (tkt_call_service(call, n, ask, &res) == 0) {
      const cJSON *c;
      cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(res, "channels"))
        if (cJSON_IsString(c) && !strcmp(c->valuestring, channel)) found = 0;
    }
    cJSON_Delete(res);
    if (!found) {
      snprintf(name, 128, "%s", n);
      break;
    }
  }
  cJSON_Delete(ask);
  cJSON_Delete(list);
  return found;
}

int tkt_reply_via(struct destek_req *r, struct destek_db *db, int64_t ticket_id, const cJSON *obj, char via[24])
{
  sqlite3_stmt *st = tkt_db_prepare(db, "SELECT t.channel, c.email FROM tkt_tickets t"
                                        " JOIN core_contacts c ON c.id = t.customer_id WHERE t.id = ?1");
  if (!st) return tkt_error(r, 500, "internal", "internal error");
  tkt_db_bind(st, "i", ticket_id);
  char channel[24] = "";
  int has_email = 0;
  if (sqlite3_step(st) == SQLITE_ROW) {
    snprintf(channel, sizeof channel, "%s", (const char *)sqlite3_column_text(st, 0));
    has_email = sqlite3_column_type(st, 1) != SQLITE_NULL && *(const char *)sqlite3_column_text(st, 1);
  }
  tkt_db_done(st);
  if (!*channel) return tkt_error(r, 404, "not_found", "no such ticket");
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "via");
  const char *want = cJSON_IsString(v) ? v->valuestring : NULL;
  if (v && !cJSON_IsNull(v) && !want) return tkt_field_error(r, "invalid_field", "via", "via must be a channel name");
  if (want && strcmp(want, "email") && strcmp(want, channel))
    return tkt_field_error(r, "invalid_field", "via", "via must be \"email\" or the ticket's channel (%s)", channel);
  if (!want) want = mail_channel(channel) ? "email" : channel;
  if (!strcmp(want, "email")) {
    if (!mail_channel(channel) && !has_email)
      return tkt_field_error(r, "invalid_field", "via", "the customer has no e-mail address");
    snprintf(via, 24, "email");
    return 0;
  }
  char name[128];
  if (sender_find(r, want, name) != 0) {
    int rc = tkt_error(r, 409, "channel_unavailable", "nothing sends replies on the %s channel here%s", want,
                       has_email ? "; send it by e-mail (\"via\": \"email\") instead" : "");
    cJSON *e = tkt_error_object(r);
    if (e) {
      cJSON_AddStringToObject(e, "field", "via");
      cJSON_AddStringToObject(e, "channel", want);
    }
    return rc;
  }
  /* The sender may refuse this reply now, with its reason (WhatsApp: free text only within 24 hours of the
   * customer's last message): {"op": "check", channel, ticket_id} answers {} to let it go, or an error. */
  cJSON *check = cJSON_CreateObject(), *res = NULL;
  cJSON_AddStringToObject(check, "op", "check");
  cJSON_AddStringToObject(check, "channel", want);
  cJSON_AddNumberToObject(check, "ticket_id", (double)ticket_id);
  int rc = tkt_call_service(r, name, check, &res);
  cJSON_Delete(check);
  cJSON_Delete(res);
  if (rc) return rc;
  snprintf(via, 24, "%s", want);
  return 0;
}

/* GET /api/v1/tickets/{id}/channels: {channel (the ticket's), default (what a reply uses now, null when nothing
 * can send it), options: [{via, available, sender?}]}, e-mail offered when the customer has an address. */
static int channels_get(struct destek_req *r)
{
  int64_t id = tkt_param_int(r, "id");
  struct destek_db *db = tkt_db_read(r);
  sqlite3_stmt *st = tkt_db_prepare(db, "SELECT t.channel, coalesce(c.email, '') FROM tkt_tickets t"
                                        " JOIN core_contacts c ON c.id = t.customer_id WHERE t.id = ?1");
  if (!st) return tkt_error(r, 500, "internal", "internal error");
  tkt_db_bind(st, "i", id);
  char channel[24] = "", email[256] = "";
  if (sqlite3_step(st) == SQLITE_ROW) {
    snprintf(channel, sizeof channel, "%s", (const char *)sqlite3_column_text(st, 0));
    snprintf(email, sizeof email, "%s", (const char *)sqlite3_column_text(st, 1));
  }
  tkt_db_done(st);
  if (!*channel) return tkt_error(r, 404, "not_found", "no such ticket");
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "channel", channel);
  cJSON *opts = cJSON_CreateArray();
  const char *dflt = NULL;
  if (!mail_channel(channel)) {
    char name[128];
    int ok = sender_find(r, channel, name) == 0;
    char reason[300] = "";
    if (ok) {   /* the sender may refuse this ticket now (no conversation of its own, a closed window) */
      cJSON *check = cJSON_CreateObject(), *res = NULL;
      cJSON_AddStringToObject(check, "op", "check");
      cJSON_AddStringToObject(check, "channel", channel);
      cJSON_AddNumberToObject(check, "ticket_id", (double)id);
      if (tkt_call_service(r, name, check, &res) != 0) {
        const cJSON *e = tkt_error_object(r);
        const char *msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "message"));
        snprintf(reason, sizeof reason, "%s", msg ? msg : "");
        ok = 0;
      }
      cJSON_Delete(check);
      cJSON_Delete(res);
    }
    cJSON *x = cJSON_CreateObject();
    cJSON_AddStringToObject(x, "via", channel);
    cJSON_AddBoolToObject(x, "available", ok);
    if (*reason) cJSON_AddStringToObject(x, "reason", reason);
    if (ok) { cJSON_AddStringToObject(x, "sender", name); dflt = channel; }
    cJSON_AddItemToArray(opts, x);
  }
  if (mail_channel(channel) || *email) {
    cJSON *x = cJSON_CreateObject();
    cJSON_AddStringToObject(x, "via", "email");
    cJSON_AddBoolToObject(x, "available", *email != 0 || mail_channel(channel));
    if (*email) cJSON_AddStringToObject(x, "address", email);
    cJSON_AddItemToArray(opts, x);
    if (mail_channel(channel)) dflt = "email";
  }
  if (dflt) cJSON_AddStringToObject(o, "default", dflt);
  else cJSON_AddNullToObject(o, "default");
  cJSON_AddItemToObject(o, "options", opts);
  return tkt_reply_json(r, 200, o);
}

/* The bus: a reply written for a channel that is not e-mail goes to that channel's sender. */
/* Only replies go out on a channel: other messages cost no delivery (decided as the event is emitted). */
static int wants_reply(const struct destek_event *ev, void *ud)
{
  (void)ud;
  const cJSON *kind = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(ev->payload, "message"), "kind");
  return cJSON_IsString(kind) && !strcmp(kind->valuestring, "reply");
}

static int on_message_added(struct destek_req *call, const struct destek_event *ev, void *ud, char *err, size_t errlen)
{
  (void)ud;
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(ev->payload, "message");
  const cJSON *idj = cJSON_GetObjectItemCaseSensitive(m, "id");
  const cJSON *tid = cJSON_GetObjectItemCaseSensitive(ev->payload, "id");
  if (!cJSON_IsNumber(idj) || !cJSON_IsNumber(tid)) return 0;
  int64_t mid = (int64_t)idj->valuedouble;
  struct destek_db *db = tkt_db_read(call);
  char *via = tkt_db_text_new(db, "SELECT via FROM tkt_messages WHERE id = ?1 AND kind = 'reply'", "i", mid);
  if (!via) return 0;
  char name[128];
  int rc = 0;
  if (sender_find(call, via, name) != 0) {
    snprintf(err, errlen, "nothing sends on the %s channel now", via);
    rc = -1;
  } else {
    cJSON *args = cJSON_CreateObject();
    cJSON_AddStringToObject(args, "op", "send");
    cJSON_AddStringToObject(args, "channel", via);
    cJSON_AddNumberToObject(args, "ticket_id", tid->valuedouble);
    cJSON_AddNumberToObject(args, "message_id", (double)mid);
    int64_t part = tkt_db_int(db, 0, "SELECT part_ticket_id FROM tkt_messages WHERE id = ?1", "i", mid);
    cJSON_AddNumberToObject(args, "customer_id",
                            (double)tkt_db_int(db, 0, "SELECT customer_id FROM tkt_tickets WHERE id = ?1", "i", part));
    char *body = tkt_db_text_new(db, "SELECT body FROM tkt_messages WHERE id = ?1", "i", mid);
    cJSON_AddStringToObject(args, "body", body ? body : "");
    cJSON_AddItemToObject(args, "attachments", tkt_attachments_json(db, mid));   /* ticketing.attachment_read reads them */
    int64_t author = tkt_db_int(db, 0, "SELECT author_user_id FROM tkt_messages WHERE id = ?1", "i", mid);
    if (author > 0) cJSON_AddNumberToObject(args, "author_user_id", (double)author);
    else cJSON_AddNullToObject(args, "author_user_id");
    free(body);
    cJSON *res = NULL;
    if (tkt_call_service(call, name, args, &res) != 0) {
      snprintf(err, errlen, "%s failed", name);
      rc = -1;
    }
    cJSON_Delete(res);
    cJSON_Delete(args);
  }
  free(via);
  return rc;
}

/* ---------------------------------------------------------------------------------------------------- undo */

static cJSON *scheduled_json(struct destek_db *db, int64_t sid)
{
  sqlite3_stmt *st = tkt_db_prepare(db, "SELECT ticket_id, request, send_at, error, created_at FROM tkt_scheduled_replies"
                                        " WHERE id = ?1");
  if (!st) return NULL;
  tkt_db_bind(st, "i", sid);
  cJSON *o = NULL;
  if (sqlite3_step(st) == SQLITE_ROW) {
    o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)sid);
    cJSON_AddNumberToObject(o, "ticket_id", (double)sqlite3_column_int64(st, 0));
    cJSON *req = cJSON_Parse((const char *)sqlite3_column_text(st, 1));
    const char *kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(req, "kind"));
    cJSON_AddStringToObject(o, "kind", kind ? kind : "reply");
    cJSON_AddItemToObject(o, "request", req ? req : cJSON_CreateObject());
    int64_t at = sqlite3_column_int64(st, 2);
    char iso[21];
    util_iso_time((time_t)at, iso);
    cJSON_AddStringToObject(o, "send_at", iso);
    int64_t left = at - (int64_t)time(NULL);
    cJSON_AddNumberToObject(o, "seconds_left", (double)(left > 0 ? left : 0));
    if (sqlite3_column_type(st, 3) == SQLITE_NULL) cJSON_AddNullToObject(o, "error");
    else {
      cJSON *e = cJSON_Parse((const char *)sqlite3_column_text(st, 3));
      cJSON_AddItemToObject(o, "error", e ? e : cJSON_CreateNull());
    }
    cJSON_AddStringToObject(o, "created_at", (const char *)sqlite3_column_text(st, 4));
  }
  tkt_db_done(st);
  return o;
}

int tkt_message_hold(struct destek_req *r, int64_t ticket_id, const cJSON *body)
{
  int64_t none;
  int rc = tkt_message_request(r, ticket_id, body, 1, &none);
  if (rc) return rc;
  struct destek_db *w = tkt_db_write(r);
  if (!w) return tkt_status(r);
  cJSON *req = cJSON_Duplicate(body, 1);
  cJSON_DeleteItemFromObjectCaseSensitive(req, "hold");
  char *text = cJSON_PrintUnformatted(req);
  cJSON_Delete(req);
  long undo = tkt_undo_seconds();
  int64_t send_at = (int64_t)time(NULL) + undo;
  char now[21];
  tkt_now(now);
  rc = tkt_db_exec(w, "INSERT INTO tkt_scheduled_replies(ticket_id, user_id, request, send_at, created_at)"
                      " VALUES (?1, ?2, ?3, ?4, ?5)", "iitit", ticket_id, tkt_user_id(r), text, send_at, now);
  cJSON_free(text);
  if (rc != SQLITE_OK) return tkt_error(r, 500, "internal", "the reply could not be kept");
  int64_t sid = tkt_db_last_id(w);
  char key[24];
  snprintf(key, sizeof key, "%lld", (long long)sid);
  if (tkt_timer_at(r, "ticketing.send_reply", key, send_at, NULL) != 0)
    return tkt_error(r, 500, "internal", "the reply could not be scheduled");
  cJSON *o = cJSON_CreateObject();
  cJSON *s = scheduled_json(w, sid);
  cJSON_AddNumberToObject(s, "undo_seconds", (double)undo);
  cJSON_AddItemToObject(o, "scheduled", s);
  return tkt_reply_json(r, 202, o);
}

/* GET /api/v1/tickets/{id}/scheduled: the caller's replies still waiting (or that could not be sent). */
static int scheduled_list(struct destek_req *r)
{
  int64_t id = tkt_param_int(r, "id");
  struct destek_db *db = tkt_db_read(r);
  sqlite3_stmt *st = tkt_db_prepare(db, "SELECT id FROM tkt_scheduled_replies WHERE ticket_id = ?1 AND user_id = ?2"
                                        " ORDER BY id");
  if (!st) return tkt_error(r, 500, "internal", "internal error");
  tkt_db_bind(st, "ii", id, tkt_user_id(r));
  int64_t ids[100];
  int n = 0;
  while (n < 100 && sqlite3_step(st) == SQLITE_ROW) ids[n++] = sqlite3_column_int64(st, 0);
  tkt_db_done(st);
  cJSON *items = cJSON_CreateArray();
  for (int i = 0; i < n; i++) {
    cJSON *s = scheduled_json(db, ids[i]);
    if (s) cJSON_AddItemToArray(items, s);
  }
  return tkt_reply_json(r, 200, tkt_list_new(items, 0));
}

/* DELETE /api/v1/tickets/{id}/scheduled/{sid}: undo. 200 with the reply (its request, for the composer), or 409
 * already_sent once it was written. */
static int scheduled_undo(struct destek_req *r)
{
  int64_t id = tkt_param_int(r, "id"), sid = tkt_param_int(r, "sid");
  struct destek_db *w = tkt_db_write(r);
  if (!w) return tkt_status(r);
  cJSON *s = scheduled_json(w, sid);
  if (!s || (int64_t)cJSON_GetObjectItem(s, "ticket_id")->valuedouble != id ||
      tkt_db_int(w, 0, "SELECT user_id FROM tkt_scheduled_replies WHERE id = ?1", "i", sid) != tkt_user_id(r)) {
    cJSON_Delete(s);
    return tkt_error(r, 409, "already_sent", "the reply has been sent: it can no longer be undone");
  }
  char key[24];
  snprintf(key, sizeof key, "%lld", (long long)sid);
  if (tkt_db_exec(w, "DELETE FROM tkt_scheduled_replies WHERE id = ?1", "i", sid) != SQLITE_OK ||
      tkt_timer_cancel(r, "ticketing.send_reply", key) != 0) {
    cJSON_Delete(s);
    return tkt_error(r, 500, "internal", "the reply could not be undone");
  }
  return tkt_reply_json(r, 200, s);
}

/* The timer: writes the held reply as its agent, in the transaction that deletes its row (see the top). */
static int send_reply_timer(struct destek_req *call, const char *key, const cJSON *payload, void *ud)
{
  (void)payload;
  (void)ud;
  int64_t sid = strtoll(key, NULL, 10);
  struct destek_db *db = tkt_db_read(NULL);
  sqlite3_stmt *st = db ? tkt_db_prepare(db, "SELECT ticket_id, user_id, request FROM tkt_scheduled_replies"
                                             " WHERE id = ?1 AND error IS NULL") : NULL;
  if (!st) return -1;
  tkt_db_bind(st, "i", sid);
  int64_t ticket_id = 0, user_id = 0;
  cJSON *req = NULL;
  if (sqlite3_step(st) == SQLITE_ROW) {
    ticket_id = sqlite3_column_int64(st, 0);
    user_id = sqlite3_column_int64(st, 1);
    req = cJSON_Parse((const char *)sqlite3_column_text(st, 2));
  }
  tkt_db_done(st);
  if (!ticket_id) return 0;   /* undone */
  /* Checked first in a call of its own that writes nothing, so that a reply that cannot be written any more
   * leaves its reason behind instead of failing (and being retried) for ever. */
  char *why = NULL;
  struct destek_req *dc = tkt_call_new();
  if (!req) why = strdup("{\"code\":\"internal\",\"message\":\"the reply could not be read\"}");
  else if (tkt_act_as(dc, user_id) != 0)
    why = strdup("{\"code\":\"user_inactive\",\"message\":\"the agent who sent it is no longer active\"}");
  else {
    int64_t none;
    if (tkt_message_request(dc, ticket_id, req, 1, &none) != 0) {
      cJSON *e = tkt_error_object(dc);
      why = e ? cJSON_PrintUnformatted(e) : strdup("{\"code\":\"internal\",\"message\":\"refused\"}");
    }
  }
  tkt_call_end(dc, 0);
  struct destek_db *w = tkt_db_write(call);
  int rc = -1;
  if (!w) goto out;
  if (!tkt_db_int(w, 0, "SELECT count(*) FROM tkt_scheduled_replies WHERE id = ?1 AND error IS NULL", "i", sid)) {
    rc = 0;                   /* undone meanwhile */
    goto out;
  }
  if (why) {
    tkt_log(DESTEK_LOG_WARN, "a held reply (%lld) on ticket %lld could not be sent: %s", (long long)sid,
            (long long)ticket_id, why);
    rc = tkt_db_exec(w, "UPDATE tkt_scheduled_replies SET error = ?2 WHERE id = ?1", "it", sid, why) == SQLITE_OK ? 0 : -1;
    goto out;
  }
  int64_t mid;
  if (tkt_act_as(call, user_id) != 0 ||
      tkt_db_exec(w, "DELETE FROM tkt_scheduled_replies WHERE id = ?1", "i", sid) != SQLITE_OK ||
      tkt_message_request(call, ticket_id, req, 0, &mid) != 0)
    goto out;
  rc = 0;
out:
  free(why);
  cJSON_Delete(req);
  return rc;
}


/* ------------------------------------------------------------------------------------------- cc, signatures */

static int address_ok(const char *a)
{
  const char *at = a ? strchr(a, '@') : NULL;
  return at && at != a && at[1] && strlen(a) <= 254 && !strpbrk(a, " <>\r\n,;\"()[]\\") && strchr(at + 1, '.') &&
         !strchr(at + 1, '@');
}

int tkt_address_list_field(struct destek_req *r, const cJSON *obj, const char *name, char **out)
{
  *out = NULL;
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
  if (!v || cJSON_IsNull(v)) return 0;
  if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) > 10)
    return tkt_field_error(r, "invalid_field", name, "%s must be a list of at most 10 e-mail addresses", name);
  const cJSON *it;
  cJSON_ArrayForEach(it, v)
    if (!cJSON_IsString(it) || !address_ok(it->valuestring))
      return tkt_field_error(r, "invalid_field", name, "%s: \"%.80s\" is not an e-mail address", name,
                             cJSON_IsString(it) ? it->valuestring : "?");
  if (cJSON_GetArraySize(v)) *out = cJSON_PrintUnformatted(v);
  return 0;
}

char *tkt_signed_text_new(struct destek_req *r, struct destek_db *db, int64_t ticket_id, const char *text)
{
  char *mine = tkt_db_text_new(db, "SELECT text FROM tkt_signatures WHERE user_id = ?1 AND text <> ''", "i", tkt_user_id(r));
  char *box = tkt_db_text_new(db, "SELECT b.signature FROM tkt_tickets t JOIN tkt_mailboxes b ON b.id = t.mailbox_id"
                                  " WHERE t.id = ?1 AND b.signature <> ''", "i", ticket_id);
  char *box_text = box ? tkt_template_expand_new(r, db, box, ticket_id, tkt_user_id(r)) : NULL;
  char *out = NULL;
  if (mine || box_text) {
    size_t n = strlen(text) + (mine ? strlen(mine) : 0) + (box_text ? strlen(box_text) : 0) + 8;
    out = malloc(n);
    if (!out) abort();
    snprintf(out, n, "%s\n\n%s%s%s", text, mine ? mine : "", mine && box_text ? "\n" : "", box_text ? box_text : "");
  }
  free(mine);
  free(box);
  free(box_text);
  return out;
}

#define SIGNATURE_MAX 2000

/* GET/PUT /api/v1/me/signature {text}: the caller's own signature. */
static int my_signature_get(struct destek_req *r)
{
  char *text = tkt_db_text_new(tkt_db_read(r), "SELECT text FROM tkt_signatures WHERE user_id = ?1", "i", tkt_user_id(r));
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "text", text ? text : "");
  free(text);
  return tkt_reply_json(r, 200, o);
}

static int my_signature_put(struct destek_req *r)
{
  cJSON *body;
  const char *text;
  int rc;
  if ((rc = tkt_body(r, &body)) || (rc = tkt_field_str(r, body, "text", DESTEK_REQUIRED, SIGNATURE_MAX, &text))) return rc;
  struct destek_db *w = tkt_db_write(r);
  if (!w) return tkt_status(r);
  char now[21];
  tkt_now(now);
  if (tkt_db_exec(w, "INSERT INTO tkt_signatures(user_id, text, updated_at) VALUES (?1, ?2, ?3)"
                     " ON CONFLICT(user_id) DO UPDATE SET text = ?2, updated_at = ?3", "itt", tkt_user_id(r), text, now) != SQLITE_OK)
    return tkt_error(r, 500, "internal", "the signature could not be saved");
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "text", text);
  return tkt_reply_json(r, 200, o);
}

/* GET (agents) / PUT (admins) /api/v1/mailboxes/{id}/signature {text}: a mailbox's signature ({{agent.name}} and
 * the other template variables expand). */
static int box_signature_get(struct destek_req *r)
{
  char *text = tkt_db_text_new(tkt_db_read(r), "SELECT signature FROM tkt_mailboxes WHERE id = ?1", "i", tkt_param_int(r, "id"));
  if (!text) return tkt_error(r, 404, "not_found", "no such mailbox");
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "text", text);
  free(text);
  return tkt_reply_json(r, 200, o);
}

static int box_signature_put(struct destek_req *r)
{
  cJSON *body;
  const char *text;
  int rc;
  int64_t id = tkt_param_int(r, "id");
  if ((rc = tkt_body(r, &body)) || (rc = tkt_field_str(r, body, "text", DESTEK_REQUIRED, SIGNATURE_MAX, &text))) return rc;
  struct destek_db *w = tkt_db_write(r);
  if (!w) return tkt_status(r);
  if (tkt_db_exec(w, "UPDATE tkt_mailboxes SET signature = ?2 WHERE id = ?1", "it", id, text) != SQLITE_OK)
    return tkt_error(r, 500, "internal", "the signature could not be saved");
  if (!tkt_db_changes(w)) return tkt_error(r, 404, "not_found", "no such mailbox");
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "text", text);
  return tkt_reply_json(r, 200, o);
}

/* GET /api/v1/tickets/{id}/signature: what an agent's reply on this ticket gets under it now ("" for nothing). */
static int ticket_signature_get(struct destek_req *r)
{
  struct destek_db *db = tkt_db_read(r);
  if (!tkt_db_int(db, 0, "SELECT count(*) FROM tkt_tickets WHERE id = ?1", "i", tkt_param_int(r, "id")))
    return tkt_error(r, 404, "not_found", "no such ticket");
  char *t = tkt_signed_text_new(r, db, tkt_param_int(r, "id"), "");
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "text", t ? t + 2 : "");
  free(t);
  return tkt_reply_json(r, 200, o);
}

/* ---------------------------------------------------------------------------------------------- forward */

/* POST /api/v1/tickets/{id}/forward {to, note?, attachments?} → 202 {queued: true, attached}: the thread's public
 * messages (never the notes) mailed to an outside address, with the agent's note on top, and their files attached
 * (attachments: false leaves them out; past FORWARD_FILES_MAX in all, the rest are named in the text instead),
 * through the durable queue of ticketing.mail_send (a persisted timer, retried); the history says who forwarded it
 * to whom. */
#define FORWARD_FILES_MAX (20 * 1024 * 1024)
static int ticket_forward(struct destek_req *r)
{
  int64_t id = tkt_param_int(r, "id");
  cJSON *body;
  const char *to, *note;
  int rc, with_files = 1;
  if ((rc = tkt_body(r, &body)) || (rc = tkt_field_str(r, body, "to", DESTEK_REQUIRED, 254, &to)) ||
      (rc = tkt_field_str(r, body, "note", DESTEK_OPTIONAL, 20000, &note)) ||
      (rc = tkt_field_bool(r, body, "attachments", DESTEK_OPTIONAL, &with_files)))
    return rc;
  with_files = !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(body, "attachments"));
  if (!address_ok(to)) return tkt_field_error(r, "invalid_field", "to", "to must be one e-mail address");
  struct destek_db *w = tkt_db_write(r);
  if (!w) return tkt_status(r);
  char *subject = tkt_db_text_new(w, "SELECT '[#' || reference || '] ' || subject FROM tkt_tickets WHERE id = ?1", "i", id);
  if (!subject) return tkt_error(r, 404, "not_found", "no such ticket");
  struct jbuf_text { char *p; size_t len, cap; } out = { NULL, 0, 0 };
#define OUT_ADD(s) do { const char *s_ = (s); size_t l_ = strlen(s_); \
    if (out.len + l_ + 1 > out.cap) { out.cap = (out.len + l_ + 1) * 2; out.p = realloc(out.p, out.cap); if (!out.p) abort(); } \
    memcpy(out.p + out.len, s_, l_ + 1); out.len += l_; } while (0)
  OUT_ADD("");
  if (note && *note) { OUT_ADD(note); OUT_ADD("\n\n"); }
  OUT_ADD("---------- ");
  OUT_ADD(subject);
  OUT_ADD(" ----------\n");
  sqlite3_stmt *st = tkt_db_prepare(w, "SELECT m.created_at, coalesce(u.name, c.name, ''), m.body FROM tkt_messages m"
                                       " LEFT JOIN core_users u ON u.id = m.author_user_id"
                                       " LEFT JOIN core_contacts c ON c.id = m.author_customer_id"
                                       " WHERE m.ticket_id = ?1 AND m.kind <> 'note' ORDER BY m.id");
  if (!st) { free(subject); free(out.p); return tkt_error(r, 500, "internal", "internal error"); }
  tkt_db_bind(st, "i", id);
  while (sqlite3_step(st) == SQLITE_ROW) {
    OUT_ADD("\n");
    OUT_ADD((const char *)sqlite3_column_text(st, 1));
    OUT_ADD(" (");
    OUT_ADD((const char *)sqlite3_column_text(st, 0));
    OUT_ADD("):\n");
    OUT_ADD((const char *)sqlite3_column_text(st, 2));
    OUT_ADD("\n");
  }
  tkt_db_done(st);
  /* The public messages' files, oldest first, while they fit; the rest named. */
  cJSON *files = cJSON_CreateArray();
  if (with_files && (st = tkt_db_prepare(w, "SELECT a.id, a.size, a.filename FROM tkt_attachments a"
                                            " JOIN tkt_messages m ON m.id = a.message_id"
                                            " WHERE m.ticket_id = ?1 AND m.kind <> 'note' ORDER BY a.id"))) {
    tkt_db_bind(st, "i", id);
    int64_t total = 0, left_out = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
      int64_t size = sqlite3_column_int64(st, 1);
      if (total + size <= FORWARD_FILES_MAX && cJSON_GetArraySize(files) < 50) {
        total += size;
        cJSON_AddItemToArray(files, cJSON_CreateNumber((double)sqlite3_column_int64(st, 0)));
        continue;
      }
      OUT_ADD(left_out++ ? ", " : "\n(too large to attach: ");
      OUT_ADD((const char *)sqlite3_column_text(st, 2));
    }
    if (left_out) OUT_ADD(")\n");
    tkt_db_done(st);
  }
#undef OUT_ADD
  char key[80], rnd[12];
  tkt_token(rnd, 6);
  snprintf(key, sizeof key, "ticketing:forward:%lld:%s", (long long)id, rnd);
  char fsubject[600];
  snprintf(fsubject, sizeof fsubject, "Fwd: %s", subject);
  free(subject);
  cJSON *args = cJSON_CreateObject();
  cJSON_AddStringToObject(args, "key", key);
  cJSON_AddStringToObject(args, "to", to);
  cJSON_AddStringToObject(args, "subject", fsubject);
  cJSON_AddStringToObject(args, "text", out.len > 190000 ? "(the thread is too long to forward)" : out.p);
  cJSON_AddBoolToObject(args, "auto_submitted", 0);
  free(out.p);
  cJSON *res = NULL;
  rc = tkt_mail_queue(r, args, files, &res);
  int attached = cJSON_GetArraySize(files);
  cJSON_Delete(files);
  cJSON_Delete(args);
  cJSON_Delete(res);
  if (rc) return rc;
  char actor[48];
  tkt_actor(r, actor);
  if (tkt_history(w, id, actor, "forwarded", NULL, to) != 0) return tkt_error(r, 500, "internal", "internal error");
  cJSON *o = cJSON_CreateObject();
  cJSON_AddBoolToObject(o, "queued", 1);
  cJSON_AddNumberToObject(o, "attached", attached);
  return tkt_reply_json(r, 202, o);
}

/* GET /api/v1/ticket-references/{number}: the ticket with that number (#1255) — a summary — or 404; for the
 * inbox's search (a number opens its ticket) and the merge field. */
static int reference_get(struct destek_req *r)
{
  struct destek_db *db = tkt_db_read(r);
  int64_t id = tkt_db_int(db, 0, "SELECT id FROM tkt_tickets WHERE reference = ?1", "i", tkt_param_int(r, "number"));
  if (!id) return tkt_error(r, 404, "not_found", "no ticket has this number");
  return tkt_ticket_reply(r, 200, db, id, 0);
}

static const struct destek_route sending_routes[] = {
  { "GET",    "/api/v1/ticket-references/{number}",   reference_get,        DESTEK_AGENT, "number:int" },
  { "GET",    "/api/v1/me/signature",                 my_signature_get,     DESTEK_AGENT, NULL },
  { "PUT",    "/api/v1/me/signature",                 my_signature_put,     DESTEK_AGENT, NULL },
  { "GET",    "/api/v1/mailboxes/{id}/signature",     box_signature_get,    DESTEK_AGENT, "id:int" },
  { "PUT",    "/api/v1/mailboxes/{id}/signature",     box_signature_put,    DESTEK_ADMIN, "id:int" },
  { "GET",    "/api/v1/tickets/{id}/signature",       ticket_signature_get, DESTEK_AGENT, "id:int" },
  { "POST",   "/api/v1/tickets/{id}/forward",         ticket_forward,       DESTEK_AGENT, "id:int" },
  { "GET",    "/api/v1/tickets/{id}/channels",        channels_get,   DESTEK_AGENT, "id:int" },
  { "GET",    "/api/v1/tickets/{id}/scheduled",       scheduled_list, DESTEK_AGENT, "id:int" },
  { "DELETE", "/api/v1/tickets/{id}/scheduled/{sid}", scheduled_undo, DESTEK_AGENT, "id:int sid:int" },
  { 0 }
};

int tkt_sending_init(const struct destek_host *h)
{
  if (h->settings(h, sending_settings) != 0 || h->routes(h, sending_routes) != 0 ||
      h->timers(h, "ticketing.send_reply", send_reply_timer, NULL) != 0 ||
      (DESTEK_HOST_HAS(h, on_when) ? h->on_when(h, "message.added", DESTEK_ASYNC, on_message_added, wants_reply, NULL)
                                   : h->on(h, "message.added", DESTEK_ASYNC, on_message_added, NULL)) != 0)
    return -1;
  return 0;
}
