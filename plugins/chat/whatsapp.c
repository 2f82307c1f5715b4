/* WhatsApp Business through the Cloud API (shared/research wave2-facts §3). A WhatsApp user is a thread whose current
 * ticket has the channel "whatsapp"; their messages arrive on the webhook and become the ticket's customer messages,
 * and an agent's reply on the ticket goes out through the Graph API (chat.channel_send, from ticketing/channels.c).
 *
 *   GET  /api/v1/chat/whatsapp/webhook?hub.mode=subscribe&hub.verify_token=T&hub.challenge=N -> 200 N when T is
 *        chat.wa_verify_token, else 403.
 *   POST /api/v1/chat/whatsapp/webhook: X-Hub-Signature-256 "sha256=<hex>" must be the HMAC-SHA256 of the raw body
 *        with chat.wa_app_secret (401 otherwise). Messages are kept once by their wamid (Meta delivers at least once);
 *        statuses move a message only forward (sent < delivered < read; failed unless already read), so late or
 *        repeated deliveries change nothing.
 *   GET  /api/v1/chat/whatsapp/tickets/{id} (agents) -> {wa_id, window_open, window_closes_at, messages: [{id,
 *        direction, kind, body, ticket_message_id, status, error_code, error_title, created_at}]}.
 *
 * Free text goes out only inside the 24 hours after the user's last message: outside it, the reply is refused with
 * the reason (422 whatsapp_window_closed) and nothing is kept. Sends run on a timer after the reply commits (the
 * network never waits inside a transaction), through the core's guard against private addresses; the Graph API's
 * base URL is a setting (tests point it at a loopback mock with --allow-private-net). A 4xx answer (131047
 * re-engagement, a bad number) marks the message failed with Meta's code and title; a 5xx or no answer is retried. */
#include "chat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "destek_util.h"

#define WINDOW_SECONDS (24 * 3600)

static const struct destek_setting wa_settings[] = {
  { "chat.wa_verify_token", DESTEK_SETTING_STRING, "", 1, "WhatsApp webhook: the verify token set in Meta's app dashboard" },
  { "chat.wa_app_secret", DESTEK_SETTING_STRING, "", 1, "WhatsApp webhook: the app secret that signs deliveries" },
  { "chat.wa_access_token", DESTEK_SETTING_STRING, "", 1, "WhatsApp Cloud API access token (sending)" },
  { "chat.wa_phone_number_id", DESTEK_SETTING_STRING, "", 0, "WhatsApp Cloud API: the business number's id" },
  { "chat.wa_templates", DESTEK_SETTING_STRING, "", 0,
    "The shop's approved WhatsApp message templates agents may send (outside the 24-hour window too), as"
    " name:language pairs separated by commas: \"kargo_guncelleme:tr,order_update:en\"" },
  { "chat.wa_notice_attempts", DESTEK_SETTING_INT, "6", 0,
    "Tries of a template sent for another module (an order's notice) while the Graph API does not answer or answers"
    " 5xx (1, 2, 4, ... minutes apart) before it counts as failed and that module tells the customer by mail" },
  { "chat.wa_graph_url", DESTEK_SETTING_STRING, "https://graph.facebook.com/v21.0", 0,
    "The Graph API's base URL (tests: a mock on loopback, with --allow-private-net)" },
  { 0 }
};

/* ------------------------------------------------------------------------------------------------ webhook */

static int verify_get(struct destek_req *r)
{
  char mode[32], token[256], challenge[256];
  char *want = H->setting_new("chat.wa_verify_token");
  int ok = H->query_get(r, "hub.mode", mode, sizeof mode) > 0 && !strcmp(mode, "subscribe") &&
           H->query_get(r, "hub.verify_token", token, sizeof token) > 0 && want && *want &&
           strlen(want) == strlen(token) && util_ct_equal(want, token, strlen(want)) &&
           H->query_get(r, "hub.challenge", challenge, sizeof challenge) > 0;
  free(want);
  if (!ok) return H->error(r, 403, "forbidden", "the verify token does not match");
  return H->reply_body(r, 200, "text/plain; charset=utf-8", challenge, strlen(challenge));
}

static const char *str(const cJSON *o, const char *k) { return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k)); }

/* The text an agent reads for an inbound message of any type (new; the caller frees). */
static char *inbound_text_new(const cJSON *m, const char *type)
{
  char buf[4600];
  const cJSON *part = cJSON_GetObjectItemCaseSensitive(m, type);
  if (!strcmp(type, "text")) snprintf(buf, sizeof buf, "%s", str(part, "body") ? str(part, "body") : "");
  else if (!strcmp(type, "interactive")) {
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(part, "button_reply");
    if (!b) b = cJSON_GetObjectItemCaseSensitive(part, "list_reply");
    snprintf(buf, sizeof buf, "%s", str(b, "title") ? str(b, "title") : "[interactive]");
  } else if (!strcmp(type, "button")) snprintf(buf, sizeof buf, "%s", str(part, "text") ? str(part, "text") : "[button]");
  else if (!strcmp(type, "location")) {
    const cJSON *la = cJSON_GetObjectItemCaseSensitive(part, "latitude"), *lo = cJSON_GetObjectItemCaseSensitive(part, "longitude");
    snprintf(buf, sizeof buf, "[location] %s%s%s https://www.openstreetmap.org/?mlat=%.6f&mlon=%.6f",
             str(part, "name") ? str(part, "name") : "", str(part, "address") ? " " : "",
             str(part, "address") ? str(part, "address") : "", cJSON_IsNumber(la) ? la->valuedouble : 0.0,
             cJSON_IsNumber(lo) ? lo->valuedouble : 0.0);
  } else {
    /* Media (image, document, audio, video, sticker): the file is the message's attachment (media_fetch_new). */
    snprintf(buf, sizeof buf, "[%s]%s%s", type, str(part, "caption") ? " " : "", str(part, "caption") ? str(part, "caption") : "");
  }
  return strdup(buf[0] ? buf : "[empty]");
}

static int is_media(const char *type)
{
  return !strcmp(type, "image") || !strcmp(type, "document") || !strcmp(type, "audio") || !strcmp(type, "video") ||
         !strcmp(type, "sticker");
}

#define MEDIA_MAX (8 * 1024 * 1024)

/* The media of an inbound message, fetched through the Graph API (GET /{media-id} gives its url and type; the url is
 * read with the same token) as ticketing's attachments [{filename, content_type, data_base64}] (new), or NULL with
 * why set. Network only: it runs before the writer is taken, through the core's guard against private addresses. */
static cJSON *media_fetch_new(const cJSON *m, const char *type, char *why, size_t whylen)
{
  const cJSON *part = cJSON_GetObjectItemCaseSensitive(m, type);
  const char *media_id = str(part, "id");
  if (!media_id || strlen(media_id) > 128 || strchr(media_id, '/') || strchr(media_id, '?')) {
    snprintf(why, whylen, "no media id");
    return NULL;
  }
  char *base = H->setting_new("chat.wa_graph_url"), *token = H->setting_new("chat.wa_access_token");
  char url[700], auth[700];
  snprintf(url, sizeof url, "%s/%s", base ? base : "", media_id);
  snprintf(auth, sizeof auth, "Authorization: Bearer %s", token ? token : "");
  free(base);
  free(token);
  const char *headers[] = { auth, NULL };
  struct destek_http_request rq = { "GET", url, headers, NULL, 0, 15000, 64 * 1024 };
  struct destek_http_response resp = { 0 };
  cJSON *out = NULL, *meta = NULL;
  if (H->http_request(&rq, &resp, why, whylen) != 0) goto done;
  if (resp.status != 200 || !(meta = cJSON_Parse(resp.body ? resp.body : "")) || !str(meta, "url")) {
    snprintf(why, whylen, "the Graph API answered %ld for the media", resp.status);
    goto done;
  }
  char mime[100];
  snprintf(mime, sizeof mime, "%s", str(meta, "mime_type") ? str(meta, "mime_type") : str(part, "mime_type") ? str(part, "mime_type") : "application/octet-stream");
  char *semi = strchr(mime, ';');
  if (semi) *semi = 0;
  H->http_response_free(&resp);
  memset(&resp, 0, sizeof resp);
  struct destek_http_request fq = { "GET", str(meta, "url"), headers, NULL, 0, 30000, MEDIA_MAX + 1 };
  if (H->http_request(&fq, &resp, why, whylen) != 0) goto done;
  if (resp.status != 200 || resp.body_len > MEDIA_MAX) {
    snprintf(why, whylen, resp.status != 200 ? "the media download answered %ld" : "the file is over 8 MiB", resp.status);
    goto done;
  }
  static const char *const EXT[][2] = { { "image/jpeg", "jpg" }, { "image/png", "png" }, { "image/webp", "webp" },
                                        { "audio/ogg", "ogg" }, { "audio/mpeg", "mp3" }, { "audio/mp4", "m4a" },
                                        { "video/mp4", "mp4" }, { "application/pdf", "pdf" } };
  const char *ext = "bin";
  for (size_t i = 0; i < sizeof EXT / sizeof *EXT; i++) if (!strcmp(mime, EXT[i][0])) ext = EXT[i][1];
  char name[220];
  const char *given = str(part, "filename");
  if (given && *given && strlen(given) <= 200 && !strpbrk(given, "/\\\"")) snprintf(name, sizeof name, "%s", given);
  else snprintf(name, sizeof name, "whatsapp-%s.%s", type, ext);
  char *b64 = malloc(util_b64_len(resp.body_len) + 1);
  if (!b64) { snprintf(why, whylen, "out of memory"); goto done; }
  util_b64_encode(resp.body, resp.body_len, b64);
  out = cJSON_CreateArray();
  cJSON *a = cJSON_CreateObject();
  cJSON_AddStringToObject(a, "filename", name);
  cJSON_AddStringToObject(a, "content_type", mime);
  cJSON_AddStringToObject(a, "data_base64", b64);
  free(b64);
  cJSON_AddItemToArray(out, a);
done:
  H->http_response_free(&resp);
  cJSON_Delete(meta);
  return out;
}

int chat_wa_thread_find(struct destek_req *r, struct destek_db *w, const char *wa_id, int64_t *thread_id,
                        int64_t *ticket_id)
{
  sqlite3_stmt *st = H->db_prepare(w, "SELECT id, coalesce(ticket_id, 0) FROM chat_wa_threads WHERE wa_id = ?1");
  if (!st) return H->error(r, 500, "internal", "internal error");
  H->db_bind(st, "t", wa_id);
  *thread_id = *ticket_id = 0;
  if (sqlite3_step(st) == SQLITE_ROW) {
    *thread_id = sqlite3_column_int64(st, 0);
    *ticket_id = sqlite3_column_int64(st, 1);
  }
  H->db_done(st);
  return 0;
}

int chat_wa_thread_add(struct destek_req *r, struct destek_db *w, const char *wa_id, int64_t contact_id,
                       int64_t *thread_id)
{
  char now[21];
  chat_now(now);
  if (H->db_exec(w, "INSERT INTO chat_wa_threads(wa_id, contact_id, created_at) VALUES (?1, ?2, ?3)", "tit", wa_id,
                 contact_id, now) != SQLITE_OK)
    return H->error(r, 500, "internal", "the thread could not be saved");
  *thread_id = H->db_last_id(w);
  return 0;
}

static int thread_for(struct destek_req *r, struct destek_db *w, const char *wa_id, const char *name, int64_t *thread_id,
                      int64_t *ticket_id)
{
  int rc = chat_wa_thread_find(r, w, wa_id, thread_id, ticket_id);
  if (rc || *thread_id) return rc;
  char phone[40];
  snprintf(phone, sizeof phone, "+%s", wa_id);
  /* The number as a phone too: ticketing finds the customer by it, and the person is one contact. */
  int64_t contact_id = H->contact_resolve(r, NULL, phone, wa_id, name, "tr");
  if (contact_id <= 0) return H->field_error(r, "invalid_field", "from", "not a WhatsApp number");
  return chat_wa_thread_add(r, w, wa_id, contact_id, thread_id);
}

static int inbound_message(struct destek_req *r, struct destek_db *w, const cJSON *m, const cJSON *contacts,
                           const cJSON *media)
{
  const char *wamid = str(m, "id"), *from = str(m, "from"), *type = str(m, "type"), *ts = str(m, "timestamp");
  if (!wamid || !from || !type) return 0;   /* business-scoped ids without a number: not answerable here */
  if (H->db_int(w, 0, "SELECT count(*) FROM chat_wa_messages WHERE wamid = ?1", "t", wamid)) return 0;   /* again */
  const char *name = NULL;
  const cJSON *c;
  cJSON_ArrayForEach(c, contacts)
    if (str(c, "wa_id") && !strcmp(str(c, "wa_id"), from)) name = str(cJSON_GetObjectItemCaseSensitive(c, "profile"), "name");
  int64_t thread_id = 0, ticket_id = 0;
  int rc = thread_for(r, w, from, name, &thread_id, &ticket_id);
  if (rc) return rc;
  char *text = inbound_text_new(m, type);
  const cJSON *files = cJSON_GetObjectItemCaseSensitive(media, wamid);
  if (cJSON_IsString(files)) {   /* the file could not be fetched: say so in the message */
    char *more = NULL;
    if (asprintf(&more, "%s (%s)", text, files->valuestring) > 0) { free(text); text = more; }
    files = NULL;
  }
  int64_t message_id = 0;
  if (ticket_id) {
    cJSON *args = cJSON_CreateObject(), *res = NULL;
    cJSON_AddNumberToObject(args, "ticket_id", (double)ticket_id);
    cJSON_AddStringToObject(args, "body", text);
    if (files) cJSON_AddItemToObject(args, "attachments", cJSON_Duplicate(files, 1));
    rc = H->call_service(r, "ticketing.customer_message", args, &res);
    cJSON_Delete(args);
    const cJSON *mid = cJSON_GetObjectItemCaseSensitive(res, "message_id");
    if (!rc && cJSON_IsNumber(mid)) message_id = (int64_t)mid->valuedouble;
    cJSON_Delete(res);
    if (rc == 409) { ticket_id = 0; rc = 0; }   /* a closed ticket: the conversation starts a new one */
    if (rc) { free(text); return rc; }
  }
  if (!ticket_id) {
    char subject[120], phone[32];
    snprintf(subject, sizeof subject, "WhatsApp: %.80s", text);
    for (char *p = subject; *p; p++) if (*p == '\n' || *p == '\r') *p = ' ';
    snprintf(phone, sizeof phone, "+%s", from);
    cJSON *args = cJSON_CreateObject(), *res = NULL;
    cJSON_AddStringToObject(args, "subject", subject);
    cJSON_AddStringToObject(args, "body", text);
    cJSON_AddStringToObject(args, "channel", "whatsapp");
    if (files) cJSON_AddItemToObject(args, "attachments", cJSON_Duplicate(files, 1));
    cJSON *cust = cJSON_AddObjectToObject(args, "customer");
    cJSON_AddStringToObject(cust, "phone", phone);
    if (name) cJSON_AddStringToObject(cust, "name", name);
    rc = H->call_service(r, "ticketing.open", args, &res);
    cJSON_Delete(args);
    const cJSON *tid = cJSON_GetObjectItemCaseSensitive(res, "id");
    if (!rc && cJSON_IsNumber(tid)) ticket_id = (int64_t)tid->valuedouble;
    cJSON_Delete(res);
    if (rc) { free(text); return rc; }
    H->db_exec(w, "UPDATE chat_wa_threads SET ticket_id = ?2 WHERE id = ?1", "ii", thread_id, ticket_id);
    /* What went out while no ticket was open (an order's notice: wa_notices.c) joins the conversation it answers. */
    H->db_exec(w, "UPDATE chat_wa_messages SET ticket_id = ?2 WHERE thread_id = ?1 AND ticket_id IS NULL", "ii",
               thread_id, ticket_id);
  }
  int64_t at = ts ? strtoll(ts, NULL, 10) : (int64_t)time(NULL);
  char now[21];
  chat_now(now);
  H->db_exec(w, "UPDATE chat_wa_threads SET last_inbound_unix = max(last_inbound_unix, ?2) WHERE id = ?1", "ii",
             thread_id, at);
  rc = H->db_exec(w, "INSERT INTO chat_wa_messages(thread_id, direction, wamid, kind, body, ticket_id, ticket_message_id,"
                     " status, status_unix, created_at) VALUES (?1, 'in', ?2, ?3, ?4, ?5, ?6, 'received', ?7, ?8)",
                  "itttiIit", thread_id, wamid, type, text, ticket_id, message_id ? &message_id : NULL, at, now);
  free(text);
  return rc == SQLITE_OK ? 0 : H->error(r, 500, "internal", "the message could not be saved");
}

static int status_rank(const char *s)
{
  return !strcmp(s, "queued") ? 0 : !strcmp(s, "sent") ? 1 : !strcmp(s, "delivered") ? 2 : !strcmp(s, "read") ? 3
       : !strcmp(s, "failed") ? 4 : -1;
}

static void status_update(struct destek_req *r, struct destek_db *w, const cJSON *s)
{
  const char *wamid = str(s, "id"), *status = str(s, "status"), *ts = str(s, "timestamp");
  if (!wamid || !status || status_rank(status) < 1) return;
  char *cur = H->db_text_new(w, "SELECT status FROM chat_wa_messages WHERE wamid = ?1 AND direction = 'out'", "t", wamid);
  if (!cur) return;
  int from = status_rank(cur), to = status_rank(status);
  free(cur);
  /* Forward only: a late "sent" after "read" changes nothing; "failed" wins unless the message was read. */
  if (!(to > from && !(to == 4 && from == 3))) return;
  const cJSON *err = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(s, "errors"), 0);
  const cJSON *code = cJSON_GetObjectItemCaseSensitive(err, "code");
  int64_t code_v = cJSON_IsNumber(code) ? (int64_t)code->valuedouble : 0;
  H->db_exec(w, "UPDATE chat_wa_messages SET status = ?2, status_unix = ?3, error_code = ?4, error_title = ?5"
                " WHERE wamid = ?1", "ttiIt", wamid, status,
             ts ? strtoll(ts, NULL, 10) : (int64_t)time(NULL), code_v ? &code_v : NULL,
             err ? (str(err, "title") ? str(err, "title") : str(err, "message")) : NULL);
  /* A message sent for another module failed after all: it may tell the customer another way. */
  if (to == 4)
    chat_wa_failed_emit(r, w, H->db_int(w, 0, "SELECT id FROM chat_wa_messages WHERE wamid = ?1 AND direction = 'out'",
                                         "t", wamid));
}

static int webhook_post(struct destek_req *r)
{
  const char *raw;
  size_t len;
  int rc = H->body_raw(r, &raw, &len);
  if (rc) return rc;
  char *secret = H->setting_new("chat.wa_app_secret");
  const char *sig = H->header(r, "X-Hub-Signature-256");
  char want[65];
  int ok = secret && *secret && sig && !strncmp(sig, "sha256=", 7) && strlen(sig + 7) == 64;
  if (ok) {
    H->hmac_sha256_hex(secret, strlen(secret), raw, len, want);
    ok = util_ct_equal(want, sig + 7, 64);
  }
  free(secret);
  if (!ok) return H->error(r, 401, "bad_signature", "X-Hub-Signature-256 does not verify with the app secret");
  cJSON *body;
  if ((rc = H->body(r, &body))) return rc;
  /* Media first, over the network, before the writer is taken: {wamid: attachments, or why not}. */
  cJSON *media = cJSON_CreateObject();
  const cJSON *entry, *change;
  cJSON_ArrayForEach(entry, cJSON_GetObjectItemCaseSensitive(body, "entry")) {
    cJSON_ArrayForEach(change, cJSON_GetObjectItemCaseSensitive(entry, "changes")) {
      const cJSON *m;
      cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(change, "value"), "messages")) {
        const char *wamid = str(m, "id"), *type = str(m, "type");
        if (!wamid || !type || !is_media(type) || cJSON_GetObjectItemCaseSensitive(media, wamid) ||
            H->db_int(H->db_read(r), 0, "SELECT count(*) FROM chat_wa_messages WHERE wamid = ?1", "t", wamid))
          continue;
        char why[256] = "";
        cJSON *files = media_fetch_new(m, type, why, sizeof why);
        if (!files) H->log(H, DESTEK_LOG_WARN, "whatsapp: the media of %s was not fetched: %s", wamid, why);
        cJSON_AddItemToObject(media, wamid, files ? files : cJSON_CreateString("the file could not be fetched"));
      }
    }
  }
  struct destek_db *w = H->db_write(r);
  if (!w) { cJSON_Delete(media); return H->status(r); }
  cJSON_ArrayForEach(entry, cJSON_GetObjectItemCaseSensitive(body, "entry")) {
    cJSON_ArrayForEach(change, cJSON_GetObjectItemCaseSensitive(entry, "changes")) {
      const cJSON *value = cJSON_GetObjectItemCaseSensitive(change, "value"), *m, *s;
      const cJSON *contacts = cJSON_GetObjectItemCaseSensitive(value, "contacts");
      cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(value, "messages"))
        if ((rc = inbound_message(r, w, m, contacts, media))) { cJSON_Delete(media); return rc; }
      cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(value, "statuses")) status_update(r, w, s);
    }
  }
  cJSON_Delete(media);
  return H->reply_json(r, 200, cJSON_CreateObject());
}

/* ------------------------------------------------------------------------------------------------ sending */

int chat_wa_check(struct destek_req *call, int64_t ticket_id)
{
  sqlite3_stmt *st = H->db_prepare(H->db_read(call), "SELECT last_inbound_unix FROM chat_wa_threads WHERE ticket_id = ?1");
  if (!st) return H->error(call, 500, "internal", "internal error");
  H->db_bind(st, "i", ticket_id);
  int found = sqlite3_step(st) == SQLITE_ROW;
  int64_t last_in = found ? sqlite3_column_int64(st, 0) : 0;
  H->db_done(st);
  if (!found) {
    int rc = H->error(call, 409, "channel_unavailable", "this WhatsApp ticket has no conversation the desk can answer"
                      " (no WhatsApp message opened it); reply by e-mail (\"via\": \"email\")");
    cJSON *e = H->error_object(call);
    if (e) cJSON_AddStringToObject(e, "field", "via");
    return rc;
  }
  if ((int64_t)time(NULL) - last_in > WINDOW_SECONDS)
    return H->error(call, 422, "whatsapp_window_closed",
                    "WhatsApp allows free text only within 24 hours of the customer's last message; send an approved"
                    " template instead / WhatsApp serbest metne yalnızca müşterinin son mesajından sonraki 24 saat"
                    " içinde izin verir; onaylı bir şablon gönderin");
  return 0;
}

int chat_wa_channel_send(struct destek_req *call, const cJSON *args, cJSON **result)
{
  (void)result;
  const cJSON *tid = cJSON_GetObjectItemCaseSensitive(args, "ticket_id");
  const cJSON *mid = cJSON_GetObjectItemCaseSensitive(args, "message_id");
  const char *body = str(args, "body");
  struct destek_db *w = H->db_write(call);
  if (!w) return H->status(call);
  sqlite3_stmt *st = H->db_prepare(w, "SELECT id, last_inbound_unix FROM chat_wa_threads WHERE ticket_id = ?1");
  if (!st) return H->error(call, 500, "internal", "internal error");
  H->db_bind(st, "i", (int64_t)tid->valuedouble);
  int64_t thread_id = 0, last_in = 0;
  if (sqlite3_step(st) == SQLITE_ROW) { thread_id = sqlite3_column_int64(st, 0); last_in = sqlite3_column_int64(st, 1); }
  H->db_done(st);
  if (!thread_id) return 0;   /* not a thread of the webhook's: nothing to send to */
  int64_t tmid = cJSON_IsNumber(mid) ? (int64_t)mid->valuedouble : 0;
  if (tmid && H->db_int(w, 0, "SELECT count(*) FROM chat_wa_messages WHERE ticket_message_id = ?1 AND direction = 'out'",
                        "i", tmid))
    return 0;   /* queued already (the bus delivers at least once) */
  char now[21];
  chat_now(now);
  /* Checked when the reply was written (op "check"); a window that closed since is recorded as the failure. */
  int closed = (int64_t)time(NULL) - last_in > WINDOW_SECONDS;
  int too_long = strlen(body) > 4096;
  if (H->db_exec(w, "INSERT INTO chat_wa_messages(thread_id, direction, kind, body, ticket_id, ticket_message_id, status,"
                    " error_code, error_title, created_at) VALUES (?1, 'out', 'text', ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                 "itiitIt" "t", thread_id, body, (int64_t)tid->valuedouble, tmid,
                 closed || too_long ? "failed" : "queued", closed ? &(int64_t){ 131047 } : NULL,
                 closed ? "the 24-hour window closed before the reply went out"
                        : too_long ? "a WhatsApp message holds at most 4096 characters" : NULL,
                 now) != SQLITE_OK)
    return H->error(call, 500, "internal", "the message could not be queued");
  if (closed || too_long) return 0;
  if (chat_wa_send_queue(call, H->db_last_id(w), (int64_t)time(NULL)) != 0)
    return H->error(call, 500, "internal", "the message could not be queued");
  return 0;
}

/* A message for another module that found no answer (or a 5xx, 429): tried again after 1, 2, 4, ... minutes (at most
 * an hour), or failed once it was tried chat.wa_notice_attempts times (whatsapp.message_failed). 0, or 1 to let the
 * core's timer retry when the database failed. */
static int notice_retry(struct destek_req *call, int64_t id, int attempts, long answered,
                        const char *err)
{
  struct destek_db *w = H->db_write(call);
  if (!w) return 1;
  long limit = H->setting_int("chat.wa_notice_attempts", 6);
  if (attempts >= limit) {
    char title[300];
    snprintf(title, sizeof title, "not sent after %d tries (%s%s%ld)", attempts, err, err[0] ? "; " : "", answered);
    if (H->db_exec(w, "UPDATE chat_wa_messages SET status = 'failed', attempts = ?2, error_code = ?3, error_title = ?4,"
                      " status_unix = ?5 WHERE id = ?1 AND status = 'queued'", "iiiti", id, (int64_t)attempts,
                   (int64_t)answered, title, (int64_t)time(NULL)) != SQLITE_OK ||
        chat_wa_failed_emit(call, w, id) != 0)
      return 1;
    return 0;
  }
  int64_t delay = 60;
  for (int a = 1; a < attempts && delay < 3600; a++) delay *= 2;
  if (delay > 3600) delay = 3600;
  if (H->db_exec(w, "UPDATE chat_wa_messages SET attempts = ?2 WHERE id = ?1", "ii", id, (int64_t)attempts) != SQLITE_OK ||
      chat_wa_send_queue(call, id, (int64_t)time(NULL) + delay) != 0)
    return 1;
  return 0;
}

/* Sends one queued message. The network first, with nothing of the database held; then its outcome. */
static int send_timer(struct destek_req *call, const char *key, const cJSON *payload, void *ud)
{
  (void)ud;
  (void)payload;
  int64_t id = strtoll(key, NULL, 10);
  struct destek_db *db = H->db_read(call);
  sqlite3_stmt *st = H->db_prepare(db, "SELECT m.body, t.wa_id, m.status, m.kind = 'template', m.ref IS NOT NULL,"
                                       " m.attempts FROM chat_wa_messages m"
                                       " JOIN chat_wa_threads t ON t.id = m.thread_id WHERE m.id = ?1");
  if (!st) return 1;
  H->db_bind(st, "i", id);
  char *body = NULL, wa_id[40] = "";
  int queued = 0, is_template = 0, for_module = 0, attempts = 0;
  if (sqlite3_step(st) == SQLITE_ROW) {
    is_template = sqlite3_column_int(st, 3);
    for_module = sqlite3_column_int(st, 4);
    attempts = sqlite3_column_int(st, 5);
    body = strdup((const char *)sqlite3_column_text(st, 0));
    snprintf(wa_id, sizeof wa_id, "%s", (const char *)sqlite3_column_text(st, 1));
    queued = !strcmp((const char *)sqlite3_column_text(st, 2), "queued");
  }
  H->db_done(st);
  if (!body || !queued) { free(body); return 0; }   /* gone, or sent already */
  char *base = H->setting_new("chat.wa_graph_url"), *phone_id = H->setting_new("chat.wa_phone_number_id");
  char *token = H->setting_new("chat.wa_access_token");
  char url[600], auth[700];
  snprintf(url, sizeof url, "%s/%s/messages", base ? base : "", phone_id ? phone_id : "");
  snprintf(auth, sizeof auth, "Authorization: Bearer %s", token ? token : "");
  free(base);
  free(phone_id);
  free(token);
  cJSON *msg = cJSON_CreateObject();
  cJSON_AddStringToObject(msg, "messaging_product", "whatsapp");
  cJSON_AddStringToObject(msg, "recipient_type", "individual");
  cJSON_AddStringToObject(msg, "to", wa_id);
  if (is_template) {
    /* body holds {name, language, parameters} as the agent chose them. */
    cJSON *tpl = cJSON_Parse(body);
    cJSON_AddStringToObject(msg, "type", "template");
    cJSON *t = cJSON_AddObjectToObject(msg, "template");
    cJSON_AddStringToObject(t, "name", str(tpl, "name") ? str(tpl, "name") : "");
    cJSON *lang = cJSON_AddObjectToObject(t, "language");
    cJSON_AddStringToObject(lang, "code", str(tpl, "language") ? str(tpl, "language") : "tr");
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(tpl, "parameters"), *p;
    if (cJSON_GetArraySize(params) > 0) {
      cJSON *comp = cJSON_CreateObject();
      cJSON_AddStringToObject(comp, "type", "body");
      cJSON *ps = cJSON_AddArrayToObject(comp, "parameters");
      cJSON_ArrayForEach(p, params) {
        cJSON *one = cJSON_CreateObject();
        cJSON_AddStringToObject(one, "type", "text");
        cJSON_AddStringToObject(one, "text", cJSON_GetStringValue(p) ? cJSON_GetStringValue(p) : "");
        cJSON_AddItemToArray(ps, one);
      }
      cJSON_AddItemToArray(cJSON_AddArrayToObject(t, "components"), comp);
    }
    cJSON_Delete(tpl);
  } else {
    cJSON_AddStringToObject(msg, "type", "text");
    cJSON *text = cJSON_AddObjectToObject(msg, "text");
    cJSON_AddFalseToObject(text, "preview_url");
    cJSON_AddStringToObject(text, "body", body);
  }
  free(body);
  char *json = cJSON_PrintUnformatted(msg);
  cJSON_Delete(msg);
  const char *headers[] = { "Content-Type: application/json", auth, NULL };
  struct destek_http_request rq = { "POST", url, headers, json, strlen(json), 15000, 64 * 1024 };
  struct destek_http_response resp = { 0 };
  char err[256] = "";
  int rc = H->http_request(&rq, &resp, err, sizeof err);
  free(json);
  if (rc != 0 || resp.status >= 500 || resp.status == 429) {
    H->log(H, DESTEK_LOG_WARN, "whatsapp: message %lld not sent (%s%ld); retried later", (long long)id, err, resp.status);
    long answered = resp.status;
    H->http_response_free(&resp);
    /* An agent's message: the core's timer retries it (backoff up to an hour). One sent for another module (an
     * order's notice) is worth less every hour: after chat.wa_notice_attempts tries it fails, and that module tells
     * the customer another way. Its tries are counted here, so the retry is scheduled here too. */
    return for_module ? notice_retry(call, id, attempts + 1, answered, err) : 1;
  }
  cJSON *answer = cJSON_Parse(resp.body ? resp.body : "");
  long status = resp.status;
  H->http_response_free(&resp);
  struct destek_db *w = H->db_write(call);
  if (!w) { cJSON_Delete(answer); return 1; }
  if (status >= 200 && status < 300) {
    const char *wamid = str(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(answer, "messages"), 0), "id");
    H->db_exec(w, "UPDATE chat_wa_messages SET status = 'sent', wamid = ?2, status_unix = ?3 WHERE id = ?1"
                  " AND status = 'queued'", "iti", id, wamid, (int64_t)time(NULL));
  } else {
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(answer, "error");
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
    int64_t code_v = cJSON_IsNumber(code) ? (int64_t)code->valuedouble : status;
    const char *title = str(e, "message") ? str(e, "message") : "the Graph API refused the message";
    H->db_exec(w, "UPDATE chat_wa_messages SET status = 'failed', error_code = ?2, error_title = ?3, status_unix = ?4"
                  " WHERE id = ?1", "iiti", id, code_v, title, (int64_t)time(NULL));
    H->log(H, DESTEK_LOG_WARN, "whatsapp: message %lld refused: %lld %s", (long long)id, (long long)code_v, title);
    if (chat_wa_failed_emit(call, w, id) != 0) { cJSON_Delete(answer); return 1; }
  }
  cJSON_Delete(answer);
  return 0;
}

/* ------------------------------------------------------------------------------------------------ agents */

static int ticket_wa_get(struct destek_req *r)
{
  int64_t ticket_id = H->param_int(r, "id");
  struct destek_db *db = H->db_read(r);
  sqlite3_stmt *st = H->db_prepare(db, "SELECT id, wa_id, last_inbound_unix, contact_id FROM chat_wa_threads WHERE ticket_id = ?1");
  if (!st) return H->error(r, 500, "internal", "internal error");
  H->db_bind(st, "i", ticket_id);
  if (sqlite3_step(st) != SQLITE_ROW) { H->db_done(st); return H->error(r, 404, "not_found", "the ticket is not a WhatsApp thread"); }
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "wa_id", (const char *)sqlite3_column_text(st, 1));
  cJSON_AddNumberToObject(o, "contact_id", (double)sqlite3_column_int64(st, 3));
  int64_t last_in = sqlite3_column_int64(st, 2);
  H->db_done(st);
  char closes[21];
  util_iso_time((time_t)(last_in + WINDOW_SECONDS), closes);
  cJSON_AddBoolToObject(o, "window_open", (int64_t)time(NULL) - last_in <= WINDOW_SECONDS);
  cJSON_AddStringToObject(o, "window_closes_at", closes);
  cJSON *items = cJSON_AddArrayToObject(o, "messages");
  st = H->db_prepare(db, "SELECT id, direction, kind, body, ticket_message_id, status, error_code, error_title, created_at"
                         " FROM chat_wa_messages WHERE ticket_id = ?1 ORDER BY id");
  if (st) {
    H->db_bind(st, "i", ticket_id);
    while (sqlite3_step(st) == SQLITE_ROW) {
      cJSON *m = cJSON_CreateObject();
      cJSON_AddNumberToObject(m, "id", (double)sqlite3_column_int64(st, 0));
      cJSON_AddStringToObject(m, "direction", (const char *)sqlite3_column_text(st, 1));
      cJSON_AddStringToObject(m, "kind", (const char *)sqlite3_column_text(st, 2));
      cJSON_AddStringToObject(m, "body", (const char *)sqlite3_column_text(st, 3));
      if (sqlite3_column_type(st, 4) == SQLITE_NULL) cJSON_AddNullToObject(m, "ticket_message_id");
      else cJSON_AddNumberToObject(m, "ticket_message_id", (double)sqlite3_column_int64(st, 4));
      cJSON_AddStringToObject(m, "status", (const char *)sqlite3_column_text(st, 5));
      if (sqlite3_column_type(st, 6) == SQLITE_NULL) cJSON_AddNullToObject(m, "error_code");
      else cJSON_AddNumberToObject(m, "error_code", (double)sqlite3_column_int64(st, 6));
      if (sqlite3_column_type(st, 7) == SQLITE_NULL) cJSON_AddNullToObject(m, "error_title");
      else cJSON_AddStringToObject(m, "error_title", (const char *)sqlite3_column_text(st, 7));
      cJSON_AddStringToObject(m, "created_at", (const char *)sqlite3_column_text(st, 8));
      cJSON_AddItemToArray(items, m);
    }
    H->db_done(st);
  }
  return H->reply_json(r, 200, o);
}

cJSON *chat_wa_templates_new(void)
{
  char *list = H->setting_new("chat.wa_templates");
  cJSON *items = cJSON_CreateArray();
  char *save = NULL;
  for (char *p = list ? strtok_r(list, ", ", &save) : NULL; p; p = strtok_r(NULL, ", ", &save)) {
    char *colon = strchr(p, ':');
    cJSON *t = cJSON_CreateObject();
    if (colon) *colon = 0;
    cJSON_AddStringToObject(t, "name", p);
    cJSON_AddStringToObject(t, "language", colon && colon[1] ? colon + 1 : "tr");
    cJSON_AddItemToArray(items, t);
  }
  free(list);
  return items;
}

static int templates_get(struct destek_req *r)
{
  return H->reply_json(r, 200, H->list_new(chat_wa_templates_new(), 0));
}

int chat_wa_send_queue(struct destek_req *call, int64_t id, int64_t due_unix)
{
  char key[24];
  snprintf(key, sizeof key, "%lld", (long long)id);
  cJSON *payload = cJSON_CreateObject();
  cJSON_AddNumberToObject(payload, "id", (double)id);
  return H->timer_at(call, "chat.wa_send", key, due_unix, payload) != 0 ? -1 : 0;
}

int chat_wa_template_approved(const char *name, const char *language)
{
  cJSON *approved = chat_wa_templates_new();
  int ok = 0;
  const cJSON *t;
  cJSON_ArrayForEach(t, approved) ok |= !strcmp(str(t, "name"), name) && !strcmp(str(t, "language"), language);
  cJSON_Delete(approved);
  return ok;
}

/* POST /api/v1/chat/whatsapp/tickets/{id}/template {name, language, parameters: [text, ...]}: one of the approved
 * templates, which WhatsApp delivers outside the 24-hour window too; the thread keeps a note of what was sent. */
static int template_send(struct destek_req *r)
{
  int64_t ticket_id = H->param_int(r, "id");
  cJSON *body;
  const char *name, *language;
  int rc;
  if ((rc = H->body(r, &body)) || (rc = H->field_str(r, body, "name", DESTEK_REQUIRED, 512, &name)) ||
      (rc = H->field_str(r, body, "language", DESTEK_REQUIRED, 16, &language)))
    return rc;
  const cJSON *params = cJSON_GetObjectItemCaseSensitive(body, "parameters"), *p;
  if (params && (!cJSON_IsArray(params) || cJSON_GetArraySize(params) > 20))
    return H->field_error(r, "invalid_field", "parameters", "parameters is a list of at most 20 texts");
  cJSON_ArrayForEach(p, params)
    if (!cJSON_IsString(p) || !*p->valuestring || strlen(p->valuestring) > 1000)
      return H->field_error(r, "invalid_field", "parameters", "each parameter is a text of 1 to 1000 bytes");
  if (!chat_wa_template_approved(name, language)) return H->field_error(r, "invalid_field", "name", "not one of the shop's approved templates (chat.wa_templates)");
  struct destek_db *w = H->db_write(r);
  if (!w) return H->status(r);
  int64_t thread_id = H->db_int(w, 0, "SELECT id FROM chat_wa_threads WHERE ticket_id = ?1", "i", ticket_id);
  if (!thread_id) return H->error(r, 404, "not_found", "the ticket is not a WhatsApp thread");
  /* What was sent, for the agents' thread (a note: the customer gets the template, not this text). */
  char note[2400];
  size_t n = (size_t)snprintf(note, sizeof note, "WhatsApp template / şablonu: %s (%s)", name, language);
  cJSON_ArrayForEach(p, params) if (n < sizeof note) n += (size_t)snprintf(note + n, sizeof note - n, "\n- %s", p->valuestring);
  cJSON *args = cJSON_CreateObject(), *res = NULL;
  cJSON_AddNumberToObject(args, "ticket_id", (double)ticket_id);
  cJSON_AddStringToObject(args, "body", note);
  rc = H->call_service(r, "ticketing.note", args, &res);
  cJSON_Delete(args);
  const cJSON *mid = cJSON_GetObjectItemCaseSensitive(res, "message_id");
  int64_t message_id = cJSON_IsNumber(mid) ? (int64_t)mid->valuedouble : 0;
  cJSON_Delete(res);
  if (rc) return rc;
  cJSON *tpl = cJSON_CreateObject();
  cJSON_AddStringToObject(tpl, "name", name);
  cJSON_AddStringToObject(tpl, "language", language);
  cJSON_AddItemToObject(tpl, "parameters", params ? cJSON_Duplicate(params, 1) : cJSON_CreateArray());
  char *tpl_text = cJSON_PrintUnformatted(tpl);
  cJSON_Delete(tpl);
  char now[21];
  chat_now(now);
  rc = H->db_exec(w, "INSERT INTO chat_wa_messages(thread_id, direction, kind, body, ticket_id, ticket_message_id, status,"
                     " created_at) VALUES (?1, 'out', 'template', ?2, ?3, ?4, 'queued', ?5)", "itiit", thread_id, tpl_text,
                  ticket_id, message_id, now);
  free(tpl_text);
  if (rc != SQLITE_OK) return H->error(r, 500, "internal", "the template could not be queued");
  int64_t id = H->db_last_id(w);
  if (chat_wa_send_queue(r, id, (int64_t)time(NULL)) != 0)
    return H->error(r, 500, "internal", "the template could not be queued");
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "id", (double)id);
  cJSON_AddStringToObject(o, "status", "queued");
  cJSON_AddNumberToObject(o, "ticket_message_id", (double)message_id);
  return H->reply_json(r, 201, o);
}

static const struct destek_route wa_routes[] = {
  { "GET", "/api/v1/chat/whatsapp/templates", templates_get, DESTEK_AGENT, NULL, 0 },
  { "POST", "/api/v1/chat/whatsapp/tickets/{id}/template", template_send, DESTEK_AGENT, "id:int", 64 * 1024 },
  { "GET", "/api/v1/chat/whatsapp/webhook", verify_get, DESTEK_PUBLIC, NULL, 0 },
  { "POST", "/api/v1/chat/whatsapp/webhook", webhook_post, DESTEK_PUBLIC, NULL, 1024 * 1024 },
  { "GET", "/api/v1/chat/whatsapp/tickets/{id}", ticket_wa_get, DESTEK_AGENT, "id:int", 0 },
  { 0 }
};

int chat_wa_init(const struct destek_host *h)
{
  return h->settings(h, wa_settings) || h->routes(h, wa_routes) || h->timers(h, "chat.wa_send", send_timer, NULL);
}
