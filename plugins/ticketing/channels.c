/* Channels with a sender of their own. A ticket's channel is where its customer wrote from; for e-mail, the web form,
 * the API and phone notes the desk answers by mail (mail_out.c). A module that carries another channel (chat,
 * WhatsApp) publishes the service "<module>.channel_send", and a public reply on such a ticket is offered to it, inside
 * the reply's transaction, before any mail is considered:
 *
 *   <module>.channel_send {channel, ticket_id, message_id, body, author_user_id, customer_id}
 *                         -> {taken: true} when the module delivers the reply on its channel (it queues or records it
 *                         in the same transaction), {taken: false} when the ticket is not one of its conversations.
 *                         An error (e.g. 422 outside a channel's service window) refuses the reply: nothing of it
 *                         stays and the agent sees the module's reason.
 *
 * The module that took a reply is recorded in tkt_messages.sent_via; the mail subscriber skips such replies. No
 * module names another here: a channel without a provider is answered by mail as before. */
#include "tkt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUFFIX ".channel_send"

static int is_mail_channel(const char *channel)
{
  return !channel || !strcmp(channel, "email") || !strcmp(channel, "web") || !strcmp(channel, "api") ||
         !strcmp(channel, "phone");
}

static int on_message_added(struct destek_req *call, const struct destek_event *ev, void *ud, char *err, size_t errlen)
{
  (void)ud;
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(ev->payload, "message");
  const char *kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "kind"));
  const cJSON *mid = cJSON_GetObjectItemCaseSensitive(m, "id");
  const cJSON *tid = cJSON_GetObjectItemCaseSensitive(ev->payload, "id");
  const char *channel = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev->payload, "channel"));
  if (!kind || strcmp(kind, "reply") || !cJSON_IsNumber(mid) || !cJSON_IsNumber(tid) || is_mail_channel(channel))
    return 0;
  if (!DESTEK_HOST_HAS(tkt_host, services_new)) return 0;
  cJSON *list = tkt_host->services_new(SUFFIX);
  if (!cJSON_GetArraySize(list)) { cJSON_Delete(list); return 0; }
  struct destek_db *w = tkt_db_write(call);
  if (!w) { cJSON_Delete(list); snprintf(err, errlen, "the database is busy"); return 1; }
  char *body = tkt_db_text_new(w, "SELECT body FROM tkt_messages WHERE id = ?1", "i", (int64_t)mid->valuedouble);
  cJSON *args = cJSON_CreateObject();
  cJSON_AddStringToObject(args, "channel", channel);
  cJSON_AddNumberToObject(args, "ticket_id", tid->valuedouble);
  cJSON_AddNumberToObject(args, "message_id", mid->valuedouble);
  cJSON_AddStringToObject(args, "body", body ? body : "");
  const cJSON *author = cJSON_GetObjectItemCaseSensitive(m, "author_user_id");
  if (cJSON_IsNumber(author)) cJSON_AddNumberToObject(args, "author_user_id", author->valuedouble);
  else cJSON_AddNullToObject(args, "author_user_id");
  const cJSON *part = cJSON_GetObjectItemCaseSensitive(m, "part");
  const cJSON *cust = cJSON_GetObjectItemCaseSensitive(part, "customer_id");
  if (cJSON_IsNumber(cust)) cJSON_AddNumberToObject(args, "customer_id", cust->valuedouble);
  free(body);
  int rc = 0;
  const cJSON *svc;
  cJSON_ArrayForEach(svc, list) {
    const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(svc, "name"));
    const char *plugin = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(svc, "plugin"));
    size_t n = name ? strlen(name) : 0;
    if (n <= sizeof SUFFIX - 1 || strcmp(name + n - (sizeof SUFFIX - 1), SUFFIX) || !strncmp(name, "ticketing.", 10))
      continue;
    cJSON *res = NULL;
    int st = tkt_call_service(call, name, args, &res);
    if (st) {
      const cJSON *eo = tkt_host->error_object(call);
      const char *msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(eo, "message"));
      snprintf(err, errlen, "%s", msg ? msg : "the reply could not be sent on the ticket's channel");
      cJSON_Delete(res);
      rc = 1;
      break;
    }
    int taken = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "taken"));
    cJSON_Delete(res);
    if (taken) {
      if (tkt_db_exec(w, "UPDATE tkt_messages SET sent_via = ?2 WHERE id = ?1", "it", (int64_t)mid->valuedouble,
                      plugin ? plugin : name) != SQLITE_OK) {
        snprintf(err, errlen, "the database failed");
        rc = 1;
      }
      break;
    }
  }
  cJSON_Delete(args);
  cJSON_Delete(list);
  return rc;
}

int tkt_channels_init(const struct destek_host *h)
{
  return h->on(h, "message.added", DESTEK_SYNC, on_message_added, NULL);
}

/* 1 when the reply message_id went out through a channel module (mail_out.c leaves it alone). */
int tkt_channel_sent(struct destek_db *db, int64_t message_id)
{
  return tkt_db_int(db, 0, "SELECT sent_via IS NOT NULL FROM tkt_messages WHERE id = ?1", "i", message_id) == 1;
}
