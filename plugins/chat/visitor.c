/* The visitor's side of the chat (the widget calls these from the shop's pages, another origin) and the channel
 * service ticketing offers agents' replies to.
 *
 *   POST /api/v1/chat/session {site_key, token?, identity?: {id, email, name?, expires, signature}, lang?}
 *        -> {token, visitor: {id, name, email, identified}, availability}. Without identity: the token's visitor, or a
 *        new anonymous one. identity is trusted only when signature is the hex HMAC-SHA256, with the shop's identity
 *        secret, of "<id>\n<email>\n<expires>" and expires (Unix seconds) is still ahead: then the visitor is the
 *        shop's customer id (the same history on every device) and the contact is matched by the e-mail. An unsigned
 *        or badly signed claim is refused (401 bad_signature), never taken as it is.
 *   GET  /api/v1/chat/availability?site_key= -> {open, agents_online, in_hours, hours}
 *   POST /api/v1/chat/messages {client_id, body, email?, name?, attachments?} -> {conversation_id, seq, client_id, created_at,
 *        duplicate}: the first message opens a ticket (channel chat; an anonymous visitor gives an e-mail with it),
 *        later ones are the ticket's customer messages. A retry with the same client_id answers the message already
 *        kept (duplicate: true) and adds nothing. attachments: up to 3 files as the portal takes them ([{filename,
 *        content_type, data_base64}], within ticketing.attachment_max_bytes), kept as the ticket message's files.
 *   GET  /api/v1/chat/messages?after=SEQ&wait=SECONDS -> {conversation, items: [{seq, sender, body, client_id,
 *        created_at, author}], agent_typing}: the visitor's latest conversation after SEQ; with wait, the answer waits
 *        (up to chat.poll_wait_max) for news.
 *   POST /api/v1/chat/typing {typing}, POST /api/v1/chat/read {seq}: the visitor's typing and read marks.
 *   POST /api/v1/chat/end {transcript?}, POST /api/v1/chat/transcript: ends the conversation / mails its transcript.
 *   POST /api/v1/chat/offline {site_key, name?, email, body}: the contact form the widget turns into when the chat is
 *        closed: a ticket of the web form's channel, answered by mail.
 * Every visitor route checks the page's Origin against the shop's origins (CORS; OPTIONS answers the preflight) and
 * counts against the visitor's and the address's limits. The visitor's token travels in X-Chat-Token.
 *
 *   GET  /api/v1/chat/tickets/{id} (agents) -> the ticket's conversation: {conversation_id, status, visitor,
 *        visitor_typing, visitor_read_seq, last_seq} (404 when the ticket is not a chat).
 *   service chat.channel_send (ticketing/channels.c): an agent's reply on a chat ticket becomes the conversation's
 *        next message. */
#include "chat.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "destek_util.h"

/* ------------------------------------------------------------------------------------------ typing (memory only) */

/* Who is typing is news for a few seconds and not worth a write: a small table shared by the worker threads. */
#define TYPING_SLOTS 1024
static struct { int64_t conversation_id; double until; } typing[TYPING_SLOTS];
static pthread_mutex_t typing_lock = PTHREAD_MUTEX_INITIALIZER;

void chat_typing_set(int64_t conversation_id, int on)
{
  pthread_mutex_lock(&typing_lock);
  size_t i = (size_t)conversation_id % TYPING_SLOTS;
  typing[i].conversation_id = conversation_id;
  typing[i].until = on ? util_mono() + 6.0 : 0;
  pthread_mutex_unlock(&typing_lock);
}

int chat_typing_get(int64_t conversation_id)
{
  pthread_mutex_lock(&typing_lock);
  size_t i = (size_t)conversation_id % TYPING_SLOTS;
  int on = typing[i].conversation_id == conversation_id && typing[i].until > util_mono();
  pthread_mutex_unlock(&typing_lock);
  return on;
}

/* ------------------------------------------------------------------------------------------------- helpers */

int chat_preflight(struct destek_req *r)
{
  const char *origin = H->header(r, "Origin");
  if (!origin || !*origin) return H->reply_empty(r, 204);
  /* The preflight carries no token: the origin must be one of some shop's. */
  int listed = 0;
  sqlite3_stmt *st = H->db_prepare(H->db_read(r), "SELECT origins FROM chat_shops");
  if (st) {
    while (!listed && sqlite3_step(st) == SQLITE_ROW)
      listed = chat_origin_listed((const char *)sqlite3_column_text(st, 0), origin);
    H->db_done(st);
  }
  if (!listed) return H->error(r, 403, "origin_not_allowed", "this page's origin is not one of a shop's");
  H->add_header(r, "Access-Control-Allow-Origin", origin);
  H->add_header(r, "Access-Control-Allow-Methods", "GET, POST");
  H->add_header(r, "Access-Control-Allow-Headers", "Content-Type, X-Chat-Token");
  H->add_header(r, "Access-Control-Max-Age", "600");
  H->add_header(r, "Vary", "Origin");
  return H->reply_empty(r, 204);
}

/* The shop of site_key: its id and origins, 0 when none. */
static int64_t shop_by_key(struct destek_req *r, const char *site_key, char *origins, size_t len)
{
  sqlite3_stmt *st = H->db_prepare(H->db_read(r), "SELECT id, origins FROM chat_shops WHERE site_key = ?1");
  if (!st) return 0;
  H->db_bind(st, "t", site_key);
  int64_t id = 0;
  if (sqlite3_step(st) == SQLITE_ROW) {
    id = sqlite3_column_int64(st, 0);
    snprintf(origins, len, "%s", (const char *)sqlite3_column_text(st, 1));
  }
  H->db_done(st);
  return id;
}

static void copy_col(sqlite3_stmt *st, int col, char *out, size_t len)
{
  const unsigned char *s = sqlite3_column_text(st, col);
  snprintf(out, len, "%s", s ? (const char *)s : "");
}

int chat_visitor_load(struct destek_db *db, const char *token_hash, struct chat_visitor *v)
{
  sqlite3_stmt *st = H->db_prepare(db, "SELECT v.id, v.shop_id, v.contact_id, v.email, v.name, v.lang, s.origins,"
                                       " v.external_id IS NOT NULL FROM chat_tokens t"
                                       " JOIN chat_visitors v ON v.id = t.visitor_id JOIN chat_shops s ON s.id = v.shop_id"
                                       " WHERE t.token_hash = ?1");
  if (!st) return -1;
  H->db_bind(st, "t", token_hash);
  int found = 0;
  if (sqlite3_step(st) == SQLITE_ROW) {
    found = 1;
    v->id = sqlite3_column_int64(st, 0);
    v->shop_id = sqlite3_column_int64(st, 1);
    v->contact_id = sqlite3_column_int64(st, 2);
    copy_col(st, 3, v->email, sizeof v->email);
    copy_col(st, 4, v->name, sizeof v->name);
    copy_col(st, 5, v->lang, sizeof v->lang);
    copy_col(st, 6, v->origins, sizeof v->origins);
    v->identified = sqlite3_column_int(st, 7);
  }
  H->db_done(st);
  return found;
}

/* The visitor of the request's X-Chat-Token, its origin checked and its limits counted: 0, or the error set up. */
int chat_visitor_auth(struct destek_req *r, struct chat_visitor *v, int counted)
{
  memset(v, 0, sizeof *v);
  int rc = chat_rate(r, "chat.address", H->client_ip(r), "chat.address_limit", 120, 60);
  if (rc) return rc;
  const char *token = H->header(r, "X-Chat-Token");
  if (!token || !*token || strlen(token) > 128)
    return H->error(r, 401, "unauthenticated", "X-Chat-Token is required (POST /api/v1/chat/session gives one)");
  char hash[65];
  H->sha256_hex(token, strlen(token), hash);
  if (chat_visitor_load(H->db_read(r), hash, v) != 1)
    return H->error(r, 401, "unauthenticated", "the chat token is not known");
  if ((rc = chat_origin_check(r, v->origins))) return rc;
  if (counted) {
    char key[32];
    snprintf(key, sizeof key, "%lld", (long long)v->id);
    if ((rc = chat_rate(r, "chat.visitor", key, "chat.visitor_limit", 30, 60))) return rc;
  }
  return 0;
}

/* The visitor's latest conversation (open first), 0 when none; *open whether it is open. */
int64_t chat_latest_conversation(struct destek_db *db, int64_t visitor_id, int *open)
{
  sqlite3_stmt *st = H->db_prepare(db, "SELECT id, status = 'open' FROM chat_conversations WHERE visitor_id = ?1"
                                       " ORDER BY status = 'open' DESC, id DESC LIMIT 1");
  if (!st) return 0;
  H->db_bind(st, "i", visitor_id);
  int64_t id = 0;
  if (sqlite3_step(st) == SQLITE_ROW) {
    id = sqlite3_column_int64(st, 0);
    if (open) *open = sqlite3_column_int(st, 1);
  }
  H->db_done(st);
  return id;
}

static int digits_only(const char *s, size_t max)
{
  size_t n = strlen(s);
  if (!n || n > max) return 0;
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
          s[i] == '-' || s[i] == '_' || s[i] == '.' || s[i] == '@'))
      return 0;
  return 1;
}

/* ------------------------------------------------------------------------------------------------- session */

static int session_start(struct destek_req *r)
{
  cJSON *body;
  const char *site_key, *token_in = NULL, *lang = NULL;
  int rc;
  static const char *const LANGS[] = { "tr", "en", NULL };
  if ((rc = H->body(r, &body)) || (rc = H->field_str(r, body, "site_key", DESTEK_REQUIRED, 100, &site_key)) ||
      (rc = H->field_str(r, body, "token", DESTEK_OPTIONAL, 128, &token_in)) ||
      (rc = H->field_enum(r, body, "lang", DESTEK_OPTIONAL, LANGS, &lang)))
    return rc;
  char origins[2048];
  int64_t shop_id = shop_by_key(r, site_key, origins, sizeof origins);
  if (!shop_id) return H->field_error(r, "invalid_field", "site_key", "no shop has this site key");
  if ((rc = chat_origin_check(r, origins))) return rc;
  if ((rc = chat_rate(r, "chat.address", H->client_ip(r), "chat.address_limit", 120, 60))) return rc;

  /* The identity the shop's backend signed. */
  const cJSON *idn = cJSON_GetObjectItemCaseSensitive(body, "identity");
  const char *ext_id = NULL, *ext_name = NULL, *sig = NULL;
  char ext_email[256] = "";
  if (idn && !cJSON_IsNull(idn)) {
    if (!cJSON_IsObject(idn)) return H->field_error(r, "invalid_field", "identity", "identity must be an object");
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(idn, "expires");
    if ((rc = H->field_str(r, idn, "id", DESTEK_REQUIRED, 100, &ext_id)) ||
        (rc = H->field_email(r, idn, "email", DESTEK_REQUIRED, ext_email)) ||
        (rc = H->field_str(r, idn, "name", DESTEK_OPTIONAL, 200, &ext_name)) ||
        (rc = H->field_str(r, idn, "signature", DESTEK_REQUIRED, 64, &sig)))
      return rc;
    if (!cJSON_IsNumber(exp)) return H->field_error(r, "invalid_field", "identity.expires", "expires is a Unix time");
    char *secret = H->db_text_new(H->db_read(r), "SELECT identity_secret FROM chat_shops WHERE id = ?1", "i", shop_id);
    char msg[512], want[65];
    snprintf(msg, sizeof msg, "%s\n%s\n%lld", ext_id, ext_email, (long long)exp->valuedouble);
    H->hmac_sha256_hex(secret ? secret : "", secret ? strlen(secret) : 0, msg, strlen(msg), want);
    free(secret);
    if (strlen(sig) != 64 || !util_ct_equal(want, sig, 64))
      return H->error(r, 401, "bad_signature", "the identity's signature does not verify with the shop's secret");
    if (exp->valuedouble < (double)time(NULL))
      return H->error(r, 401, "bad_signature", "the identity's signature has expired");
  }

  struct chat_visitor prev = { 0 };
  int have_prev = 0;
  if (token_in) {
    char hash[65];
    H->sha256_hex(token_in, strlen(token_in), hash);
    have_prev = chat_visitor_load(H->db_read(r), hash, &prev) == 1 && prev.shop_id == shop_id;
  }
  /* New anonymous visitors are counted per address (before the writer is taken: the count commits on its own). */
  if (!ext_id && !have_prev && (rc = chat_rate(r, "chat.session", H->client_ip(r), "chat.session_limit", 20, 600)))
    return rc;
  struct destek_db *w = H->db_write(r);
  if (!w) return H->status(r);
  char now[21];
  chat_now(now);
  int64_t visitor_id = 0;
  int new_token = 1;
  if (ext_id) {
    visitor_id = H->db_int(w, 0, "SELECT id FROM chat_visitors WHERE shop_id = ?1 AND external_id = ?2", "it", shop_id,
                           ext_id);
    int64_t contact_id = H->contact_resolve(r, ext_email, NULL, NULL, ext_name, lang);
    if (!visitor_id) {
      if (H->db_exec(w, "INSERT INTO chat_visitors(shop_id, external_id, contact_id, email, name, lang, created_at)"
                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", "itittt" "t", shop_id, ext_id,
                     contact_id > 0 ? contact_id : 0, ext_email, ext_name, lang ? lang : "tr", now) != SQLITE_OK)
        return H->error(r, 500, "internal", "the visitor could not be saved");
      visitor_id = H->db_last_id(w);
    } else {
      H->db_exec(w, "UPDATE chat_visitors SET email = ?2, name = coalesce(?3, name), contact_id = ?4 WHERE id = ?1",
                 "itti", visitor_id, ext_email, ext_name, contact_id > 0 ? contact_id : 0);
    }
    /* What this browser said before signing in follows the customer. */
    if (have_prev && !prev.identified && prev.id != visitor_id)
      H->db_exec(w, "UPDATE chat_conversations SET visitor_id = ?2 WHERE visitor_id = ?1", "ii", prev.id, visitor_id);
    new_token = !(have_prev && prev.id == visitor_id);
  } else if (have_prev) {
    visitor_id = prev.id;
    new_token = 0;
  } else {
    if (H->db_exec(w, "INSERT INTO chat_visitors(shop_id, lang, created_at) VALUES (?1, ?2, ?3)", "itt", shop_id,
                   lang ? lang : "tr", now) != SQLITE_OK)
      return H->error(r, 500, "internal", "the visitor could not be saved");
    visitor_id = H->db_last_id(w);
  }
  char token[64];
  if (new_token) {
    H->token(token, 32);
    char hash[65];
    H->sha256_hex(token, strlen(token), hash);
    if (H->db_exec(w, "INSERT INTO chat_tokens(token_hash, visitor_id, created_at) VALUES (?1, ?2, ?3)", "tit", hash,
                   visitor_id, now) != SQLITE_OK)
      return H->error(r, 500, "internal", "the visitor could not be saved");
  } else {
    snprintf(token, sizeof token, "%s", token_in);
  }
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "token", token);
  cJSON *v = cJSON_AddObjectToObject(o, "visitor");
  sqlite3_stmt *st = H->db_prepare(w, "SELECT name, email, external_id IS NOT NULL FROM chat_visitors WHERE id = ?1");
  if (st) {
    H->db_bind(st, "i", visitor_id);
    if (sqlite3_step(st) == SQLITE_ROW) {
      cJSON_AddNumberToObject(v, "id", (double)visitor_id);
      if (sqlite3_column_type(st, 0) == SQLITE_NULL) cJSON_AddNullToObject(v, "name");
      else cJSON_AddStringToObject(v, "name", (const char *)sqlite3_column_text(st, 0));
      if (sqlite3_column_type(st, 1) == SQLITE_NULL) cJSON_AddNullToObject(v, "email");
      else cJSON_AddStringToObject(v, "email", (const char *)sqlite3_column_text(st, 1));
      cJSON_AddBoolToObject(v, "identified", sqlite3_column_int(st, 2));
    }
    H->db_done(st);
  }
  cJSON_AddItemToObject(o, "availability", chat_availability_new(r));
  cJSON_AddItemToObject(o, "features", chat_features_new());
  return H->reply_json(r, new_token ? 201 : 200, o);
}

static int availability(struct destek_req *r)
{
  char key[101], origins[2048];
  if (H->query_get(r, "site_key", key, sizeof key) <= 0 || !shop_by_key(r, key, origins, sizeof origins))
    return H->field_error(r, "invalid_field", "site_key", "no shop has this site key");
  int rc = chat_origin_check(r, origins);
  if (rc || (rc = chat_rate(r, "chat.address", H->client_ip(r), "chat.address_limit", 120, 60))) return rc;
  return H->reply_json(r, 200, chat_availability_new(r));
}

/* ------------------------------------------------------------------------------------------------ messages */

static cJSON *message_ref_new(struct destek_db *db, int64_t conversation_id, const char *client_id, int duplicate)
{
  sqlite3_stmt *st = H->db_prepare(db, "SELECT seq, created_at FROM chat_messages WHERE conversation_id = ?1"
                                       " AND client_id = ?2");
  if (!st) return NULL;
  H->db_bind(st, "it", conversation_id, client_id);
  cJSON *o = NULL;
  if (sqlite3_step(st) == SQLITE_ROW) {
    o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "conversation_id", (double)conversation_id);
    cJSON_AddNumberToObject(o, "seq", (double)sqlite3_column_int64(st, 0));
    cJSON_AddStringToObject(o, "client_id", client_id);
    cJSON_AddStringToObject(o, "created_at", (const char *)sqlite3_column_text(st, 1));
    cJSON_AddBoolToObject(o, "duplicate", duplicate);
  }
  H->db_done(st);
  return o;
}

/* Appends a message to the conversation with the next sequence number, in the call's transaction: the seq, or -1. */
static int64_t message_append(struct destek_db *w, int64_t conversation_id, const char *sender, const char *client_id,
                              const char *body, int64_t ticket_message_id, int64_t author_user_id)
{
  char now[21];
  chat_now(now);
  if (H->db_exec(w, "UPDATE chat_conversations SET last_seq = last_seq + 1 WHERE id = ?1", "i", conversation_id) !=
      SQLITE_OK)
    return -1;
  int64_t seq = H->db_int(w, -1, "SELECT last_seq FROM chat_conversations WHERE id = ?1", "i", conversation_id);
  if (seq < 0 || H->db_exec(w, "INSERT INTO chat_messages(conversation_id, seq, sender, client_id, body,"
                               " ticket_message_id, author_user_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                            "iittt" "IIt", conversation_id, seq, sender, client_id, body,
                            ticket_message_id > 0 ? &ticket_message_id : NULL,
                            author_user_id > 0 ? &author_user_id : NULL, now) != SQLITE_OK)
    return -1;
  chat_socket_dirty(conversation_id, 0);
  return seq;
}

/* A visitor's message (body: {client_id, body, email?, name?, attachments?}) in r's transaction: 0 and *out
 * ({conversation_id, seq, client_id, created_at, duplicate}; 201 or 200 in *status), or the error set up. Over the
 * HTTP route and the visitor's websocket alike. */
int chat_message_post(struct destek_req *r, const struct chat_visitor *vp, const cJSON *body, cJSON **out, int *status)
{
  struct chat_visitor v = *vp;
  const char *client_id, *text, *name = NULL;
  char email[256];
  int rc;
  *out = NULL;
  /* Files, as the portal takes them ([{filename, content_type, data_base64}], ticketing checks count and size). */
  const cJSON *atts = cJSON_GetObjectItemCaseSensitive(body, "attachments");
  if (atts && cJSON_IsNull(atts)) atts = NULL;
  if (atts) H->body_drop(r);   /* only the parsed JSON is read from here on (the server's body memory) */
  if (atts && (!cJSON_IsArray(atts) || cJSON_GetArraySize(atts) < 1 || cJSON_GetArraySize(atts) > 3))
    return H->field_error(r, "invalid_field", "attachments", "at most 3 files a message");
  char names[1024] = "";
  const cJSON *a;
  cJSON_ArrayForEach(a, atts) {
    const char *fn = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "filename"));
    if (!fn) return H->field_error(r, "invalid_field", "attachments.filename", "each file has a filename");
    size_t n = strlen(names);
    snprintf(names + n, sizeof names - n, "%s%s", n ? ", " : "", fn);
  }
  if ((rc = H->field_str(r, body, "client_id", DESTEK_REQUIRED, CHAT_CLIENT_ID_MAX, &client_id)) ||
      (rc = H->field_str(r, body, "body", atts ? DESTEK_OPTIONAL : DESTEK_REQUIRED, CHAT_BODY_MAX, &text)) ||
      (rc = H->field_email(r, body, "email", DESTEK_OPTIONAL, email)) ||
      (rc = H->field_str(r, body, "name", DESTEK_OPTIONAL, 200, &name)))
    return rc;
  if (!text) text = names;   /* files alone: their names are the message's text */
  if (!digits_only(client_id, CHAT_CLIENT_ID_MAX))
    return H->field_error(r, "invalid_field", "client_id", "client_id is letters, digits and - _ . @");
  struct destek_db *w = H->db_write(r);
  if (!w) return H->status(r);
  /* A retry: the message is kept already, in whichever of the visitor's conversations. */
  int64_t dup_conv = H->db_int(w, 0, "SELECT m.conversation_id FROM chat_messages m JOIN chat_conversations c"
                                     " ON c.id = m.conversation_id WHERE c.visitor_id = ?1 AND m.client_id = ?2",
                               "it", v.id, client_id);
  if (dup_conv) {
    *out = message_ref_new(w, dup_conv, client_id, 1);
    *status = 200;
    return 0;
  }

  int open = 0;
  int64_t conv = chat_latest_conversation(w, v.id, &open);
  int64_t ticket_message_id = 0;
  char now[21];
  chat_now(now);
  if (!conv || !open) {
    /* A new conversation: a new ticket of the channel chat, for a visitor with an e-mail. */
    const char *use_email = v.email[0] ? v.email : email;
    if (!v.identified && email[0]) use_email = email;
    if (!*use_email)
      return H->field_error(r, "missing_field", "email", "an e-mail address is needed to start the chat");
    const char *use_name = v.identified && v.name[0] ? v.name : name;
    int64_t contact_id = H->contact_resolve(r, use_email, NULL, NULL, use_name, v.lang[0] ? v.lang : "tr");
    if (contact_id <= 0) return H->error(r, 500, "internal", "the contact could not be saved");
    H->db_exec(w, "UPDATE chat_visitors SET email = ?2, name = coalesce(?3, name), contact_id = ?4 WHERE id = ?1",
               "itti", v.id, use_email, use_name, contact_id);
    char subject[120];
    size_t n = strlen(text);
    if (n > 80) {
      n = 80;
      while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80) n--;   /* not inside a UTF-8 sequence */
    }
    snprintf(subject, sizeof subject, "%.*s%s", (int)n, text, n < strlen(text) ? "…" : "");
    for (char *p = subject; *p; p++) if (*p == '\n' || *p == '\r' || *p == '\t') *p = ' ';
    cJSON *args = cJSON_CreateObject();
    cJSON_AddStringToObject(args, "subject", subject);
    cJSON_AddStringToObject(args, "body", text);
    cJSON_AddStringToObject(args, "channel", "chat");
    if (atts) cJSON_AddItemToObject(args, "attachments", cJSON_Duplicate(atts, 1));
    cJSON *cust = cJSON_AddObjectToObject(args, "customer");
    cJSON_AddStringToObject(cust, "email", use_email);
    if (use_name && *use_name) cJSON_AddStringToObject(cust, "name", use_name);
    cJSON_AddStringToObject(cust, "lang", v.lang[0] ? v.lang : "tr");
    cJSON *res = NULL;
    rc = H->call_service(r, "ticketing.open", args, &res);
    cJSON_Delete(args);
    if (rc) { cJSON_Delete(res); return rc; }
    const cJSON *tid = cJSON_GetObjectItemCaseSensitive(res, "id");
    int64_t ticket_id = cJSON_IsNumber(tid) ? (int64_t)tid->valuedouble : 0;
    cJSON_Delete(res);
    if (ticket_id <= 0) return H->error(r, 500, "internal", "the ticket could not be opened");
    if (H->db_exec(w, "INSERT INTO chat_conversations(shop_id, visitor_id, ticket_id, created_at) VALUES (?1, ?2, ?3, ?4)",
                   "iiit", v.shop_id, v.id, ticket_id, now) != SQLITE_OK)
      return H->error(r, 500, "internal", "the conversation could not be saved");
    conv = H->db_last_id(w);
  } else {
    int64_t ticket_id = H->db_int(w, 0, "SELECT ticket_id FROM chat_conversations WHERE id = ?1", "i", conv);
    cJSON *args = cJSON_CreateObject();
    cJSON_AddNumberToObject(args, "ticket_id", (double)ticket_id);
    cJSON_AddStringToObject(args, "body", text);
    if (atts) cJSON_AddItemToObject(args, "attachments", cJSON_Duplicate(atts, 1));
    cJSON *res = NULL;
    rc = H->call_service(r, "ticketing.customer_message", args, &res);
    cJSON_Delete(args);
    if (rc) { cJSON_Delete(res); return rc; }
    const cJSON *mid = cJSON_GetObjectItemCaseSensitive(res, "message_id");
    if (cJSON_IsNumber(mid)) ticket_message_id = (int64_t)mid->valuedouble;
    cJSON_Delete(res);
  }
  int64_t seq = message_append(w, conv, "visitor", client_id, text, ticket_message_id, 0);
  if (seq < 0) return H->error(r, 500, "internal", "the message could not be saved");
  if (atts) {
    cJSON *list = cJSON_CreateArray();
    cJSON_ArrayForEach(a, atts)
      cJSON_AddItemToArray(list, cJSON_CreateString(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "filename"))));
    char *json = cJSON_PrintUnformatted(list);
    cJSON_Delete(list);
    H->db_exec(w, "UPDATE chat_messages SET files = ?3 WHERE conversation_id = ?1 AND seq = ?2", "iit", conv, seq, json);
    free(json);
  }
  chat_typing_set(conv, 0);
  chat_socket_dirty(conv, v.id);
  *out = message_ref_new(w, conv, client_id, 0);
  *status = 201;
  return 0;
}

static int message_send(struct destek_req *r)
{
  struct chat_visitor v;
  cJSON *body, *out = NULL;
  int rc, status = 0;
  if ((rc = chat_visitor_auth(r, &v, 1)) || (rc = H->body(r, &body))) return rc;
  if ((rc = chat_message_post(r, &v, body, &out, &status))) return rc;
  return H->reply_json(r, status, out);
}

/* Whether an agent viewing the ticket is typing (the core's presence of "ticket:<id>"). */
int chat_agent_typing(struct destek_req *r, int64_t ticket_id)
{
  char subject[40];
  snprintf(subject, sizeof subject, "ticket:%lld", (long long)ticket_id);
  cJSON *who = H->presence_new(r, subject);
  int typing_now = 0;
  const cJSON *p;
  cJSON_ArrayForEach(p, who) if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "typing"))) typing_now = 1;
  cJSON_Delete(who);
  return typing_now;
}

static int long_polls;   /* visitors' polls waiting now (a worker thread each) */

/* Waiting polls sleep until the writer commits (whatever it wrote) or 250 ms pass, then look again: a reply reaches
 * the visitor as soon as its transaction is in, without a poll of the database every few milliseconds. */
static pthread_mutex_t commit_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t commit_cond = PTHREAD_COND_INITIALIZER;
static unsigned long commit_gen;

static void on_commit_done(int committed, void *ud)
{
  (void)ud;
  if (!committed) return;
  pthread_mutex_lock(&commit_lock);
  commit_gen++;
  pthread_cond_broadcast(&commit_cond);
  pthread_mutex_unlock(&commit_lock);
}

static void wait_commit(unsigned long *seen, long max_ms)
{
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_nsec += max_ms * 1000000L;
  until.tv_sec += until.tv_nsec / 1000000000L;
  until.tv_nsec %= 1000000000L;
  pthread_mutex_lock(&commit_lock);
  while (commit_gen == *seen && pthread_cond_timedwait(&commit_cond, &commit_lock, &until) == 0) {}
  *seen = commit_gen;
  pthread_mutex_unlock(&commit_lock);
}
#define LONG_POLLS_MAX 8

/* The conversation's state and its messages after seq after, as GET /messages answers and the websocket pushes:
 * {conversation: {id, status, last_seq, visitor_read_seq, agent_read_seq, created_at} | null, items, agent_typing}. */
cJSON *chat_messages_json_new(struct destek_req *r, struct destek_db *db, int64_t conv, int64_t after, int64_t ticket_id,
                              int open)
{
  cJSON *o = cJSON_CreateObject();
  cJSON *items = cJSON_CreateArray();
  if (conv) {
    sqlite3_stmt *st = H->db_prepare(db, "SELECT id, ticket_id, status, last_seq, visitor_read_seq, agent_read_seq,"
                                         " created_at, ended_at FROM chat_conversations WHERE id = ?1");
    if (st) {
      H->db_bind(st, "i", conv);
      if (sqlite3_step(st) == SQLITE_ROW) {
        cJSON *c = cJSON_AddObjectToObject(o, "conversation");
        cJSON_AddNumberToObject(c, "id", (double)conv);
        cJSON_AddStringToObject(c, "status", (const char *)sqlite3_column_text(st, 2));
        cJSON_AddNumberToObject(c, "last_seq", (double)sqlite3_column_int64(st, 3));
        cJSON_AddNumberToObject(c, "visitor_read_seq", (double)sqlite3_column_int64(st, 4));
        cJSON_AddNumberToObject(c, "agent_read_seq", (double)sqlite3_column_int64(st, 5));
        cJSON_AddStringToObject(c, "created_at", (const char *)sqlite3_column_text(st, 6));
      }
      H->db_done(st);
    }
    st = H->db_prepare(db, "SELECT m.seq, m.sender, m.body, m.client_id, m.created_at, u.name, m.files FROM chat_messages m"
                           " LEFT JOIN core_users u ON u.id = m.author_user_id"
                           " WHERE m.conversation_id = ?1 AND m.seq > ?2 ORDER BY m.seq LIMIT 200");
    if (st) {
      H->db_bind(st, "ii", conv, after);
      while (sqlite3_step(st) == SQLITE_ROW) {
        cJSON *m = cJSON_CreateObject();
        cJSON_AddNumberToObject(m, "seq", (double)sqlite3_column_int64(st, 0));
        cJSON_AddStringToObject(m, "sender", (const char *)sqlite3_column_text(st, 1));
        cJSON_AddStringToObject(m, "body", (const char *)sqlite3_column_text(st, 2));
        if (sqlite3_column_type(st, 3) == SQLITE_NULL) cJSON_AddNullToObject(m, "client_id");
        else cJSON_AddStringToObject(m, "client_id", (const char *)sqlite3_column_text(st, 3));
        cJSON_AddStringToObject(m, "created_at", (const char *)sqlite3_column_text(st, 4));
        if (sqlite3_column_type(st, 5) == SQLITE_NULL) cJSON_AddNullToObject(m, "author");
        else cJSON_AddStringToObject(m, "author", (const char *)sqlite3_column_text(st, 5));
        cJSON *files = sqlite3_column_type(st, 6) == SQLITE_NULL ? NULL : cJSON_Parse((const char *)sqlite3_column_text(st, 6));
        cJSON_AddItemToObject(m, "files", cJSON_IsArray(files) ? files : (cJSON_Delete(files), cJSON_CreateArray()));
        cJSON_AddItemToArray(items, m);
      }
      H->db_done(st);
    }
  } else {
    cJSON_AddNullToObject(o, "conversation");
  }
  cJSON_AddItemToObject(o, "items", items);
  cJSON_AddBoolToObject(o, "agent_typing", ticket_id && open ? chat_agent_typing(r, ticket_id) : 0);
  return o;
}

static int messages_get(struct destek_req *r)
{
  struct chat_visitor v;
  int rc = chat_visitor_auth(r, &v, 0);
  if (rc) return rc;
  char buf[24];
  int64_t after = 0;
  long wait = 0;
  if (H->query_get(r, "after", buf, sizeof buf) > 0) after = strtoll(buf, NULL, 10);
  if (H->query_get(r, "wait", buf, sizeof buf) > 0) wait = strtol(buf, NULL, 10);
  long wait_max = H->setting_int("chat.poll_wait_max", 20);
  if (wait > wait_max) wait = wait_max;
  if (after < 0) after = 0;
  struct destek_db *db = H->db_read(r);
  int open = 0;
  int64_t conv = chat_latest_conversation(db, v.id, &open);
  int64_t ticket_id = conv ? H->db_int(db, 0, "SELECT ticket_id FROM chat_conversations WHERE id = ?1", "i", conv) : 0;
  int waited = 0;
  if (conv && wait > 0 && __atomic_add_fetch(&long_polls, 1, __ATOMIC_SEQ_CST) <= LONG_POLLS_MAX) {
    waited = 1;
    int64_t read0 = H->db_int(db, 0, "SELECT agent_read_seq FROM chat_conversations WHERE id = ?1", "i", conv);
    int typing0 = chat_agent_typing(r, ticket_id);
    double until = util_mono() + (double)wait;
    pthread_mutex_lock(&commit_lock);
    unsigned long seen = commit_gen;
    pthread_mutex_unlock(&commit_lock);
    while (util_mono() < until) {
      if (H->db_int(db, 0, "SELECT last_seq FROM chat_conversations WHERE id = ?1", "i", conv) > after ||
          H->db_int(db, 0, "SELECT agent_read_seq FROM chat_conversations WHERE id = ?1", "i", conv) != read0 ||
          chat_agent_typing(r, ticket_id) != typing0)
        break;
      wait_commit(&seen, 250);
    }
    __atomic_sub_fetch(&long_polls, 1, __ATOMIC_SEQ_CST);
  } else if (conv && wait > 0) {
    __atomic_sub_fetch(&long_polls, 1, __ATOMIC_SEQ_CST);
  }
  cJSON *o = chat_messages_json_new(r, db, conv, after, ticket_id, open);
  /* When to ask again: at once after a poll that waited, a few seconds when every waiting place was taken. */
  cJSON_AddNumberToObject(o, "retry_ms", wait > 0 && !waited ? 3000 : 300);
  return H->reply_json(r, 200, o);
}

static int typing_post(struct destek_req *r)
{
  struct chat_visitor v;
  cJSON *body;
  int on, rc;
  if ((rc = chat_visitor_auth(r, &v, 0)) || (rc = H->body(r, &body)) ||
      (rc = H->field_bool(r, body, "typing", DESTEK_REQUIRED, &on)))
    return rc;
  int open = 0;
  int64_t conv = chat_latest_conversation(H->db_read(r), v.id, &open);
  if (conv && open) chat_typing_set(conv, on);
  return H->reply_empty(r, 204);
}

static int read_post(struct destek_req *r)
{
  struct chat_visitor v;
  cJSON *body;
  int rc;
  if ((rc = chat_visitor_auth(r, &v, 1)) || (rc = H->body(r, &body))) return rc;
  const cJSON *seq = cJSON_GetObjectItemCaseSensitive(body, "seq");
  if (!cJSON_IsNumber(seq) || seq->valuedouble < 0)
    return H->field_error(r, "invalid_field", "seq", "seq is the last message the visitor has seen");
  int64_t conv = chat_latest_conversation(H->db_read(r), v.id, NULL);
  if (!conv) return H->reply_empty(r, 204);
  struct destek_db *w = H->db_write(r);
  if (!w) return H->status(r);
  if (H->db_exec(w, "UPDATE chat_conversations SET visitor_read_seq = min(last_seq, max(visitor_read_seq, ?2))"
                    " WHERE id = ?1", "ii", conv, (int64_t)seq->valuedouble) != SQLITE_OK)
    return H->error(r, 500, "internal", "the read mark could not be saved");
  return H->reply_empty(r, 204);
}

/* ------------------------------------------------------------------------------------------------ transcript */

/* Queues the conversation's transcript to the visitor's contact by mail (a service message): 0, or the error set up. */
static int transcript_send(struct destek_req *r, struct destek_db *w, int64_t conv, const char *lang)
{
  int64_t contact_id = H->db_int(w, 0, "SELECT v.contact_id FROM chat_conversations c JOIN chat_visitors v"
                                       " ON v.id = c.visitor_id WHERE c.id = ?1", "i", conv);
  if (contact_id <= 0) return H->error(r, 409, "no_email", "the visitor gave no e-mail address");
  int en = lang && !strcmp(lang, "en");
  size_t cap = 4096, len = 0;
  char *text = malloc(cap);
  if (!text) return H->error(r, 500, "internal", "out of memory");
  len = (size_t)snprintf(text, cap, "%s\n\n", en ? "The transcript of your chat with us:" : "Bizimle yaptığınız sohbetin dökümü:");
  sqlite3_stmt *st = H->db_prepare(w, "SELECT m.sender, m.body, m.created_at, u.name FROM chat_messages m"
                                      " LEFT JOIN core_users u ON u.id = m.author_user_id WHERE m.conversation_id = ?1"
                                      " ORDER BY m.seq");
  if (st) {
    H->db_bind(st, "i", conv);
    while (sqlite3_step(st) == SQLITE_ROW) {
      const char *sender = (const char *)sqlite3_column_text(st, 0), *body = (const char *)sqlite3_column_text(st, 1);
      const char *at = (const char *)sqlite3_column_text(st, 2), *agent = (const char *)sqlite3_column_text(st, 3);
      const char *who = !strcmp(sender, "visitor") ? (en ? "You" : "Siz") : agent ? agent : (en ? "Support" : "Destek");
      size_t need = strlen(body) + strlen(who) + 64;
      if (len + need >= cap) {
        while (len + need >= cap) cap *= 2;
        char *more = realloc(text, cap);
        if (!more) { free(text); H->db_done(st); return H->error(r, 500, "internal", "out of memory"); }
        text = more;
      }
      len += (size_t)snprintf(text + len, cap - len, "[%.5s UTC] %s: %s\n", at + 11, who, body);
    }
    H->db_done(st);
  }
  int64_t id = H->message_send(r, contact_id, en ? "Your chat transcript" : "Sohbet dökümünüz", text, 0);
  free(text);
  if (id == DESTEK_SEND_NO_ADDRESS || id == DESTEK_SEND_NO_CONTACT)
    return H->error(r, 409, "no_email", "the visitor has no e-mail address");
  if (id <= 0) return H->error(r, 500, "internal", "the transcript could not be queued");
  char now[21];
  chat_now(now);
  H->db_exec(w, "UPDATE chat_conversations SET transcript_sent_at = ?2 WHERE id = ?1", "it", conv, now);
  return 0;
}

static int end_post(struct destek_req *r)
{
  struct chat_visitor v;
  cJSON *body;
  int transcript = 0, rc;
  if ((rc = chat_visitor_auth(r, &v, 1)) || (rc = H->body(r, &body)) ||
      (rc = H->field_bool(r, body, "transcript", DESTEK_OPTIONAL, &transcript)))
    return rc;
  int open = 0;
  int64_t conv = chat_latest_conversation(H->db_read(r), v.id, &open);
  if (!conv || !open) return H->error(r, 409, "no_conversation", "there is no open conversation");
  struct destek_db *w = H->db_write(r);
  if (!w) return H->status(r);
  char now[21];
  chat_now(now);
  if (H->db_exec(w, "UPDATE chat_conversations SET status = 'ended', ended_at = ?2 WHERE id = ?1", "it", conv, now) !=
      SQLITE_OK)
    return H->error(r, 500, "internal", "the conversation could not be ended");
  if (transcript == 1 && (rc = transcript_send(r, w, conv, v.lang))) return rc;
  chat_typing_set(conv, 0);
  chat_socket_dirty(conv, v.id);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "conversation_id", (double)conv);
  cJSON_AddStringToObject(o, "status", "ended");
  cJSON_AddBoolToObject(o, "transcript", transcript == 1);
  return H->reply_json(r, 200, o);
}

static int transcript_post(struct destek_req *r)
{
  struct chat_visitor v;
  int rc = chat_visitor_auth(r, &v, 1);
  if (rc) return rc;
  int64_t conv = chat_latest_conversation(H->db_read(r), v.id, NULL);
  if (!conv) return H->error(r, 409, "no_conversation", "there is no conversation");
  struct destek_db *w = H->db_write(r);
  if (!w) return H->status(r);
  if ((rc = transcript_send(r, w, conv, v.lang))) return rc;
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "conversation_id", (double)conv);
  cJSON_AddBoolToObject(o, "transcript", 1);
  return H->reply_json(r, 200, o);
}

/* ------------------------------------------------------------------------------------------------ offline form */

static int offline_post(struct destek_req *r)
{
  cJSON *body;
  const char *site_key, *name = NULL, *text;
  char email[256];
  int rc;
  if ((rc = H->body(r, &body)) || (rc = H->field_str(r, body, "site_key", DESTEK_REQUIRED, 100, &site_key)) ||
      (rc = H->field_str(r, body, "name", DESTEK_OPTIONAL, 200, &name)) ||
      (rc = H->field_email(r, body, "email", DESTEK_REQUIRED, email)) ||
      (rc = H->field_str(r, body, "body", DESTEK_REQUIRED, CHAT_BODY_MAX, &text)))
    return rc;
  char origins[2048];
  if (!shop_by_key(r, site_key, origins, sizeof origins))
    return H->field_error(r, "invalid_field", "site_key", "no shop has this site key");
  if ((rc = chat_origin_check(r, origins))) return rc;
  if ((rc = chat_rate(r, "chat.offline", H->client_ip(r), "chat.session_limit", 20, 600))) return rc;
  const char *lang = H->lang(r);
  cJSON *args = cJSON_CreateObject();
  cJSON_AddStringToObject(args, "subject", lang && !strcmp(lang, "en") ? "Message left on the chat" : "Sohbetten bırakılan mesaj");
  cJSON_AddStringToObject(args, "body", text);
  cJSON_AddStringToObject(args, "channel", "web");
  cJSON *tags = cJSON_AddArrayToObject(args, "tags");
  cJSON_AddItemToArray(tags, cJSON_CreateString("chat_offline"));
  cJSON *cust = cJSON_AddObjectToObject(args, "customer");
  cJSON_AddStringToObject(cust, "email", email);
  if (name) cJSON_AddStringToObject(cust, "name", name);
  cJSON *res = NULL;
  rc = H->call_service(r, "ticketing.open", args, &res);
  cJSON_Delete(args);
  if (rc) { cJSON_Delete(res); return rc; }
  cJSON *o = cJSON_CreateObject();
  cJSON_AddItemToObject(o, "reference", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(res, "reference"), 1));
  cJSON_Delete(res);
  return H->reply_json(r, 201, o);
}

/* ------------------------------------------------------------------------------------------------ agents */

static int ticket_chat_get(struct destek_req *r)
{
  int64_t ticket_id = H->param_int(r, "id");
  struct destek_db *db = H->db_read(r);
  sqlite3_stmt *st = H->db_prepare(db, "SELECT c.id, c.status, c.last_seq, c.visitor_read_seq, c.agent_read_seq,"
                                       " v.name, v.email, v.external_id IS NOT NULL, s.name FROM chat_conversations c"
                                       " JOIN chat_visitors v ON v.id = c.visitor_id JOIN chat_shops s ON s.id = c.shop_id"
                                       " WHERE c.ticket_id = ?1");
  if (!st) return H->error(r, 500, "internal", "internal error");
  H->db_bind(st, "i", ticket_id);
  if (sqlite3_step(st) != SQLITE_ROW) {
    H->db_done(st);
    return H->error(r, 404, "not_found", "the ticket is not a chat");
  }
  cJSON *o = cJSON_CreateObject();
  int64_t conv = sqlite3_column_int64(st, 0);
  cJSON_AddNumberToObject(o, "conversation_id", (double)conv);
  cJSON_AddStringToObject(o, "status", (const char *)sqlite3_column_text(st, 1));
  cJSON_AddNumberToObject(o, "last_seq", (double)sqlite3_column_int64(st, 2));
  cJSON_AddNumberToObject(o, "visitor_read_seq", (double)sqlite3_column_int64(st, 3));
  cJSON_AddNumberToObject(o, "agent_read_seq", (double)sqlite3_column_int64(st, 4));
  cJSON *v = cJSON_AddObjectToObject(o, "visitor");
  if (sqlite3_column_type(st, 5) == SQLITE_NULL) cJSON_AddNullToObject(v, "name");
  else cJSON_AddStringToObject(v, "name", (const char *)sqlite3_column_text(st, 5));
  if (sqlite3_column_type(st, 6) == SQLITE_NULL) cJSON_AddNullToObject(v, "email");
  else cJSON_AddStringToObject(v, "email", (const char *)sqlite3_column_text(st, 6));
  cJSON_AddBoolToObject(v, "identified", sqlite3_column_int(st, 7));
  cJSON_AddStringToObject(o, "shop", (const char *)sqlite3_column_text(st, 8));
  H->db_done(st);
  cJSON_AddBoolToObject(o, "visitor_typing", chat_typing_get(conv));
  return H->reply_json(r, 200, o);
}

/* An agent has seen the conversation up to its last message. */
static int ticket_chat_read(struct destek_req *r)
{
  int64_t ticket_id = H->param_int(r, "id");
  struct destek_db *w = H->db_write(r);
  if (!w) return H->status(r);
  if (H->db_exec(w, "UPDATE chat_conversations SET agent_read_seq = last_seq WHERE ticket_id = ?1", "i", ticket_id) !=
      SQLITE_OK)
    return H->error(r, 500, "internal", "internal error");
  if (!H->db_changes(w)) return H->error(r, 404, "not_found", "the ticket is not a chat");
  chat_socket_dirty(H->db_int(w, 0, "SELECT id FROM chat_conversations WHERE ticket_id = ?1", "i", ticket_id), 0);
  return H->reply_empty(r, 204);
}

/* chat.channel_send (plugins/ticketing/sending.c): {"op": "channels"} names the channels this module sends on;
 * {"op": "check", channel, ticket_id} may refuse a reply before it is written (WhatsApp's 24-hour window);
 * {"op": "send", channel, ticket_id, message_id, body, author_user_id} delivers a written reply, on the bus after
 * its commit, at least once: a message already delivered is not delivered again. */
static int svc_channel_send(struct destek_req *call, const cJSON *args, cJSON **result, void *ud)
{
  (void)ud;
  const char *op = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "op"));
  const char *channel = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "channel"));
  const cJSON *tid = cJSON_GetObjectItemCaseSensitive(args, "ticket_id");
  const cJSON *mid = cJSON_GetObjectItemCaseSensitive(args, "message_id");
  const cJSON *author = cJSON_GetObjectItemCaseSensitive(args, "author_user_id");
  const char *body = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "body"));
  *result = cJSON_CreateObject();
  if (op && !strcmp(op, "channels")) {
    cJSON *list = cJSON_AddArrayToObject(*result, "channels");
    cJSON_AddItemToArray(list, cJSON_CreateString("chat"));
    cJSON_AddItemToArray(list, cJSON_CreateString("whatsapp"));
    return 0;
  }
  if (!op || !channel || !cJSON_IsNumber(tid)) return 0;
  if (!strcmp(channel, "whatsapp")) {
    if (!strcmp(op, "check")) return chat_wa_check(call, (int64_t)tid->valuedouble);
    if (!strcmp(op, "send") && body) return chat_wa_channel_send(call, args, result);
    return 0;
  }
  if (strcmp(channel, "chat")) return 0;
  if (!strcmp(op, "check")) {
    if (H->db_int(H->db_read(call), 0, "SELECT count(*) FROM chat_conversations WHERE ticket_id = ?1", "i",
                  (int64_t)tid->valuedouble))
      return 0;
    int rc = H->error(call, 409, "channel_unavailable", "this chat ticket has no conversation of the widget's to answer"
                      " in; reply by e-mail (\"via\": \"email\")");
    cJSON *e = H->error_object(call);
    if (e) cJSON_AddStringToObject(e, "field", "via");
    return rc;
  }
  if (strcmp(op, "send") || !body) return 0;
  struct destek_db *w = H->db_write(call);
  if (!w) return H->status(call);
  int64_t conv = H->db_int(w, 0, "SELECT id FROM chat_conversations WHERE ticket_id = ?1", "i", (int64_t)tid->valuedouble);
  int64_t message_id = cJSON_IsNumber(mid) ? (int64_t)mid->valuedouble : 0;
  if (!conv) return 0;   /* not a conversation of the widget's (a chat ticket made by hand): nothing to deliver to */
  if (message_id && H->db_int(w, 0, "SELECT count(*) FROM chat_messages WHERE conversation_id = ?1"
                                    " AND ticket_message_id = ?2", "ii", conv, message_id))
    return 0;   /* delivered already (the bus delivers at least once) */
  int64_t seq = message_append(w, conv, "agent", NULL, body, message_id,
                               cJSON_IsNumber(author) ? (int64_t)author->valuedouble : 0);
  if (seq < 0 || chat_files_record(call, w, conv, seq, message_id, cJSON_GetObjectItemCaseSensitive(args, "attachments")))
    return H->error(call, 500, "internal", "the chat message could not be saved");
  /* The agent who answers has read what came before. */
  H->db_exec(w, "UPDATE chat_conversations SET agent_read_seq = ?2 - 1 WHERE id = ?1 AND agent_read_seq < ?2 - 1", "ii",
             conv, seq);
  cJSON_AddNumberToObject(*result, "seq", (double)seq);
  return 0;
}

const struct destek_route chat_visitor_routes[] = {
  { "OPTIONS", "/api/v1/chat/session", chat_preflight, DESTEK_PUBLIC, NULL, 0 },
  { "OPTIONS", "/api/v1/chat/availability", chat_preflight, DESTEK_PUBLIC, NULL, 0 },
  { "OPTIONS", "/api/v1/chat/messages", chat_preflight, DESTEK_PUBLIC, NULL, 0 },
  { "OPTIONS", "/api/v1/chat/typing", chat_preflight, DESTEK_PUBLIC, NULL, 0 },
  { "OPTIONS", "/api/v1/chat/read", chat_preflight, DESTEK_PUBLIC, NULL, 0 },
  { "OPTIONS", "/api/v1/chat/end", chat_preflight, DESTEK_PUBLIC, NULL, 0 },
  { "OPTIONS", "/api/v1/chat/transcript", chat_preflight, DESTEK_PUBLIC, NULL, 0 },
  { "OPTIONS", "/api/v1/chat/offline", chat_preflight, DESTEK_PUBLIC, NULL, 0 },
  { "POST", "/api/v1/chat/session", session_start, DESTEK_PUBLIC, NULL, 16 * 1024 },
  { "GET", "/api/v1/chat/availability", availability, DESTEK_PUBLIC, NULL, 0 },
  { "POST", "/api/v1/chat/messages", message_send, DESTEK_PUBLIC, NULL, 16 << 20 },
  { "GET", "/api/v1/chat/messages", messages_get, DESTEK_PUBLIC, NULL, 0 },
  { "POST", "/api/v1/chat/typing", typing_post, DESTEK_PUBLIC, NULL, 1024 },
  { "POST", "/api/v1/chat/read", read_post, DESTEK_PUBLIC, NULL, 1024 },
  { "POST", "/api/v1/chat/end", end_post, DESTEK_PUBLIC, NULL, 1024 },
  { "POST", "/api/v1/chat/transcript", transcript_post, DESTEK_PUBLIC, NULL, 1024 },
  { "POST", "/api/v1/chat/offline", offline_post, DESTEK_PUBLIC, NULL, 32 * 1024 },
  { "GET", "/api/v1/chat/tickets/{id}", ticket_chat_get, DESTEK_AGENT, "id:int", 0 },
  { "POST", "/api/v1/chat/tickets/{id}/read", ticket_chat_read, DESTEK_AGENT, "id:int", 0 },
  { 0 }
};

int chat_visitor_init(const struct destek_host *h)
{
  return h->service(h, "chat.channel_send", svc_channel_send, NULL) || h->on_commit(h, NULL, on_commit_done, NULL);
}
