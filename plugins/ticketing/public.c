/* The customers' side: the public ticket form (rate-limited per address) and a ticket followed through a signed
 * link (GET to read its public thread, POST to reply, GET its files). Internal notes, and the files sent with them,
 * never leave through here; nor does another customer's part of a thread their tickets were merged into (parts.c):
 * a link shows its customer's own part. The customer portal (plugins/ticketing/web/portal/: /contact and /t/{number}) is built on
 * these routes. */
#include "tkt.h"

#include <ctype.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "destek_util.h"

/* The public limits: at most ticketing.public_form_limit forms and ticketing.public_reply_limit replies per
 * client address per ticketing.public_window_seconds, counted as rows of core_rate_hits (kinds "tkt.form",
 * "tkt.reply"). A submission is checked and counted in one step on the writer (the host's rate_take): counted only after the
 * work, fifteen parallel forms with three slots left were all accepted. */
static long rate_limit_of(const char *kind)
{
  return !strcmp(kind, "tkt.form") ? tkt_setting_int("ticketing.public_form_limit", 5)
                                   : tkt_setting_int("ticketing.public_reply_limit", 30);
}

static long rate_window(void) { return tkt_setting_int("ticketing.public_window_seconds", 600); }

/* Sets up the 429 (with Retry-After) of a full limit; returns its status. */
static int rate_refuse(struct destek_req *r, long wait)
{
  char buf[24];
  snprintf(buf, sizeof buf, "%ld", wait > 0 ? wait : 1);
  tkt_add_header(r, "Retry-After", buf);
  return tkt_error(r, 429, "rate_limited", "too many submissions from this address; try again in %s seconds", buf);
}

/* A cheap early refusal, read on this thread's reader, before a request does any work: 0, or the 429 it set up.
 * Only rate_take decides. */
static int rate_check(struct destek_req *r, const char *kind)
{
  long wait = tkt_rate_full(r, kind, tkt_client_ip(r), rate_limit_of(kind), rate_window());
  return wait > 0 ? rate_refuse(r, wait) : 0;
}

/* Takes one `kind` slot of r's address: on w, the request's transaction (kept only if the request succeeds), or,
 * when w is NULL, on the writer alone, kept whatever becomes of the request (the caller must not have opened its
 * transaction yet). check 0 counts without checking. 0 with *hit set, or the 429/500 it set up. */
static int rate_take(struct destek_req *r, struct destek_db *w, const char *kind, int check, int64_t *hit)
{
  long wait = 0, limit = check ? rate_limit_of(kind) : 0;
  int64_t id = tkt_rate_take(w ? r : NULL, kind, tkt_client_ip(r), limit, rate_window(), &wait);
  if (id < 0) return tkt_error(r, 500, "internal", "the submission could not be counted");
  if (id == 0) return rate_refuse(r, wait);
  if (hit) *hit = id;
  return 0;
}

/* A public request body larger than this cannot be an ordinary message (the texts' limits add up to about 21 KB):
 * reading it costs enough to count. */
#define PUBLIC_SMALL_BODY (64 * 1024)

/* Reads the JSON body of a public write and its "attachments" (*atts: NULL when absent, null or empty). A request
 * that carries files or is large (over PUBLIC_SMALL_BODY, or too large to read) counts against the address's
 * `kind` limit at once, whether it is accepted or not, so that big uploads cannot be repeated without end; a large
 * one (by its Content-Length, or without one) is counted before it is read, so that parallel uploads cannot all get
 * in. *counted tells the caller not to count it again. 0, or the error status it set up. */
static int public_body(struct destek_req *r, const char *kind, cJSON **body, const cJSON **atts, int *counted)
{
  *atts = NULL;
  *counted = 0;
  int64_t hit = 0;
  const char *length = tkt_header(r, "Content-Length");
  int rc, large = !length || strtoll(length, NULL, 10) > PUBLIC_SMALL_BODY;
  if (large && (rc = rate_take(r, NULL, kind, 1, &hit))) return rc;
  rc = tkt_body(r, body);
  if (rc == 503 && hit) {    /* the server was too busy to read it: nothing was read, nothing counts */
    tkt_rate_forget(NULL, hit);
    return rc;
  }
  *counted = hit > 0;
  const cJSON *a = rc ? NULL : cJSON_GetObjectItemCaseSensitive(*body, "attachments");
  int has_files = a && !cJSON_IsNull(a) && !(cJSON_IsArray(a) && cJSON_GetArraySize(a) == 0);
  const char *raw;
  size_t body_len = 0;
  tkt_host->body_raw(r, &raw, &body_len);   /* its size as read, whatever its JSON is (413: not read) */
  if (!*counted && (rc == 413 || body_len > PUBLIC_SMALL_BODY || has_files)) {
    /* Too large to read (413) counts whatever the limit says; files are refused once the limit is reached. */
    int rc2 = rate_take(r, NULL, kind, rc != 413, NULL);
    if (rc2 && !rc) return rc2;
    *counted = 1;
  }
  if (rc || !has_files) return rc;
  /* Only the parsed JSON is read from here on: its text goes, and its files are decoded in place. */
  tkt_body_drop(r);
  *atts = a;
  return tkt_attachments_check(r, a);
}

static const char *const LANGS[] = { "tr", "en", NULL };

/* Whether an acknowledgement to email would be mailed now: outgoing mail is set (a web form's ticket has no mailbox:
 * the settings' sender, as mail_out.c's sender_load) and the address has not had its hourly mail.ack_limit. */
static int ack_will_go(struct destek_req *r, const char *email)
{
  char *url = tkt_setting_new("mail.smtp_url"), *from = tkt_setting_new("mail.from");
  int ok = url && *url && from && *from;
  free(url);
  free(from);
  long limit = tkt_setting_int("mail.ack_limit", 3);
  if (ok && limit > 0) {
    char key[256];
    size_t i = 0;
    for (; email[i] && i < sizeof key - 1; i++) key[i] = (char)tolower((unsigned char)email[i]);
    key[i] = 0;
    ok = tkt_rate_full(r, "tkt.ack", key, limit, 3600) == 0;
  }
  return ok;
}

/* POST /api/v1/public/tickets {name, email, subject, body, order_number?, lang?, attachments?}
 *   -> 201 {"reference":"#1042", "confirmation_mailed": bool} (false: no acknowledgement will be mailed, outgoing mail
 *   not being set or the address's hourly allowance used, so the page must not say one was)
 * lang (tr, en) is the language the customer wrote in, for a new customer's mails; without it, Accept-Language.
 * The answer does not carry the signed link: it goes to the address given, which proves it is the customer's. */
static int public_ticket_create(struct destek_req *r)
{
  cJSON *body;
  const cJSON *atts;
  const char *name, *subject, *text, *order_number, *lang;
  char email[256];
  int rc, counted;
  if ((rc = rate_check(r, "tkt.form"))) return rc;
  if ((rc = public_body(r, "tkt.form", &body, &atts, &counted)) ||
      (rc = tkt_field_str(r, body, "name", DESTEK_REQUIRED, TKT_PUBLIC_NAME_MAX, &name)) ||
      (rc = tkt_field_email(r, body, "email", DESTEK_REQUIRED, email)) ||
      (rc = tkt_field_str(r, body, "subject", DESTEK_REQUIRED, TKT_SUBJECT_MAX, &subject)) ||
      (rc = tkt_field_str(r, body, "body", DESTEK_REQUIRED, TKT_PUBLIC_BODY_MAX, &text)) ||
      (rc = tkt_field_str(r, body, "order_number", DESTEK_OPTIONAL, TKT_ORDER_NUMBER_MAX, &order_number)) ||
      (rc = tkt_field_enum(r, body, "lang", DESTEK_OPTIONAL, LANGS, &lang)))
    return rc;
  struct destek_db *w = tkt_db_write(r);
  if (!w) return tkt_status(r);
  if (!counted && (rc = rate_take(r, w, "tkt.form", 1, NULL))) return rc;
  if (!lang) lang = tkt_lang(r);
  int64_t customer_id = tkt_customer_match(r, email, name, NULL, lang);
  if (customer_id <= 0) return tkt_error(r, 500, "internal", "the request could not be saved");
  char actor[48];
  snprintf(actor, sizeof actor, "customer:%lld", (long long)customer_id);
  cJSON *extra = cJSON_CreateObject();
  cJSON_AddBoolToObject(extra, "ack_needed", 1);
  int64_t reference_id = tkt_ticket_create(r, w, subject, customer_id, text, "web", "normal", NULL,
                                           order_number && *order_number ? order_number : NULL, atts, actor, extra);
  if (reference_id < 0) return (int)-reference_id;
  int64_t reference = tkt_db_int(w, 0, "SELECT reference FROM tkt_tickets WHERE id = ?1", "i", reference_id);
  char ref[24];
  snprintf(ref, sizeof ref, "#%lld", (long long)reference);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "reference", ref);
  cJSON_AddBoolToObject(o, "confirmation_mailed", ack_will_go(r, email));
  return tkt_reply_json(r, 201, o);
}

/* GET /api/v1/public/config: what the customer portal needs before it sends anything — the limits the public
 * routes check (so that the page can say what is wrong before uploading) and the name mail to customers carries. */
static int public_config_get(struct destek_req *r)
{
  cJSON *o = cJSON_CreateObject();
  char *from_name = tkt_setting_new("mail.from_name");
  cJSON_AddStringToObject(o, "name", from_name ? from_name : "");
  free(from_name);
  cJSON *l = cJSON_AddObjectToObject(o, "limits");
  cJSON_AddNumberToObject(l, "name_bytes", TKT_PUBLIC_NAME_MAX);
  cJSON_AddNumberToObject(l, "email_bytes", 254);
  cJSON_AddNumberToObject(l, "subject_bytes", TKT_SUBJECT_MAX);
  cJSON_AddNumberToObject(l, "body_bytes", TKT_PUBLIC_BODY_MAX);
  cJSON_AddNumberToObject(l, "order_number_bytes", TKT_ORDER_NUMBER_MAX);
  cJSON_AddNumberToObject(l, "attachments", TKT_ATTACHMENTS_MAX);
  cJSON_AddNumberToObject(l, "attachment_bytes", (double)tkt_attachment_max_bytes());
  cJSON_AddNumberToObject(l, "request_bytes", TKT_UPLOAD_BODY_MAX);
  return tkt_reply_json(r, 200, o);
}

/* The ticket a signed link names: its id, or 0 when the reference or the signature is wrong (the same 404 for
 * both, so a link cannot be used to probe which references exist). */
static int64_t signed_ticket(struct destek_req *r, struct destek_db *db, const char *sig)
{
  int64_t id = tkt_db_int(db, 0, "SELECT id FROM tkt_tickets WHERE reference = ?1", "i", tkt_param_int(r, "ref"));
  if (!id || !sig || strlen(sig) != 64) return 0;
  char want[65];
  tkt_link_sig(db, id, want);
  return util_ct_equal(want, sig, 64) ? id : 0;
}

static int64_t ticket_customer(struct destek_db *db, int64_t ticket_id)
{
  return tkt_db_int(db, 0, "SELECT customer_id FROM tkt_tickets WHERE id = ?1", "i", ticket_id);
}

/* The customer portal's address of a ticket, "/t/1042?sig=...", into out. */
static void portal_link(struct destek_db *db, int64_t ticket_id, int64_t reference, char *out, size_t outlen)
{
  char sig[65];
  tkt_link_sig(db, ticket_id, sig);
  snprintf(out, outlen, "/t/%lld?sig=%s", (long long)reference, sig);
}

/* What the holder of a ticket's link sees: reference, subject, status, dates, the customer's name and language,
 * the customer's own part of the thread (public messages, without the agents' HTML, user ids and file hashes) with
 * signed download URLs for their files. A ticket merged into another of the same customer's says where it went
 * (merged_into, merged_into_link); one merged into another customer's ticket carries on as before, its status that
 * of the thread it is part of now, never naming the other ticket. */
static cJSON *public_view(struct destek_db *db, int64_t id)
{
  int64_t thread = tkt_thread_of(db, id), customer_id = ticket_customer(db, id);
  int own_thread = ticket_customer(db, thread) == customer_id;
  /* In another customer's thread: its status, but updated_at moves only with this customer's part, so that the
   * other customer's activity does not show through it. */
  sqlite3_stmt *st = tkt_db_prepare(db, "SELECT t.reference, t.subject, CASE WHEN ?3 THEN t.status ELSE h.status END,"
                                    " t.created_at, CASE WHEN ?3 THEN t.updated_at ELSE max(t.updated_at,"
                                    "   coalesce((SELECT max(m.created_at) FROM tkt_messages m JOIN tkt_tickets p"
                                    "     ON p.id = coalesce(m.part_ticket_id, m.ticket_id) WHERE m.ticket_id = h.id"
                                    "     AND m.kind <> 'note' AND p.customer_id = t.customer_id), '')) END,"
                                    " c.name, c.lang, h.reference"
                                    " FROM tkt_tickets t JOIN core_contacts c ON c.id = t.customer_id"
                                    " JOIN tkt_tickets h ON h.id = ?2 WHERE t.id = ?1");
  if (!st) return NULL;
  tkt_db_bind(st, "iii", id, thread, (int64_t)own_thread);
  if (sqlite3_step(st) != SQLITE_ROW) { tkt_db_done(st); return NULL; }
  cJSON *o = cJSON_CreateObject();
  int64_t reference = sqlite3_column_int64(st, 0);
  char ref[24], link[128], sig[65];
  snprintf(ref, sizeof ref, "#%lld", (long long)reference);
  cJSON_AddStringToObject(o, "reference", ref);
  cJSON_AddStringToObject(o, "subject", (const char *)sqlite3_column_text(st, 1));
  cJSON_AddStringToObject(o, "status", (const char *)sqlite3_column_text(st, 2));
  cJSON_AddStringToObject(o, "created_at", (const char *)sqlite3_column_text(st, 3));
  cJSON_AddStringToObject(o, "updated_at", (const char *)sqlite3_column_text(st, 4));
  cJSON_AddStringToObject(o, "customer_name", (const char *)sqlite3_column_text(st, 5));
  cJSON_AddStringToObject(o, "lang", (const char *)sqlite3_column_text(st, 6));
  portal_link(db, id, reference, link, sizeof link);
  cJSON_AddStringToObject(o, "link", link);
  if (thread != id && own_thread) {
    int64_t thread_ref = sqlite3_column_int64(st, 7);
    snprintf(ref, sizeof ref, "#%lld", (long long)thread_ref);
    cJSON_AddStringToObject(o, "merged_into", ref);
    portal_link(db, thread, thread_ref, link, sizeof link);
    cJSON_AddStringToObject(o, "merged_into_link", link);
  }
  tkt_db_done(st);
  tkt_link_sig(db, id, sig);
  cJSON *msgs = tkt_customer_messages_json(db, thread, customer_id), *m;
  cJSON_ArrayForEach(m, msgs) {
    cJSON_DeleteItemFromObjectCaseSensitive(m, "body_html");
    cJSON_DeleteItemFromObjectCaseSensitive(m, "part_ticket_id");
    cJSON_DeleteItemFromObjectCaseSensitive(m, "notice");
    cJSON *author = cJSON_GetObjectItemCaseSensitive(m, "author");
    cJSON_DeleteItemFromObjectCaseSensitive(author, "id");
    cJSON *a;
    cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(m, "attachments")) {
      const cJSON *aid = cJSON_GetObjectItemCaseSensitive(a, "id");
      char url[200];
      snprintf(url, sizeof url, "/api/v1/public/tickets/%lld/attachments/%lld?sig=%s", (long long)reference,
               (long long)aid->valuedouble, sig);
      cJSON_DeleteItemFromObjectCaseSensitive(a, "sha256");
      cJSON_DeleteItemFromObjectCaseSensitive(a, "id");
      cJSON_ReplaceItemInObjectCaseSensitive(a, "url", cJSON_CreateString(url));
    }
  }
  cJSON_AddItemToObject(o, "messages", msgs);
  return o;
}

static int public_ticket_get(struct destek_req *r)
{
  char sig[80] = "";
  tkt_query_get(r, "sig", sig, sizeof sig);
  struct destek_db *db = tkt_db_read(r);
  int64_t id = signed_ticket(r, db, sig);
  cJSON *o = id ? public_view(db, id) : NULL;
  if (!o) return tkt_error(r, 404, "not_found", "no such ticket, or the link is not valid");
  return tkt_reply_json(r, 200, o);
}

/* GET /api/v1/public/tickets/{ref}/attachments/{id}?sig=: a file of a public message of the link's customer's part
 * of the thread (what public_view lists). Another ticket's or customer's file, or one sent with an internal note, is
 * the same 404 as a wrong signature. */
static int public_attachment_get(struct destek_req *r)
{
  char sig[80] = "";
  tkt_query_get(r, "sig", sig, sizeof sig);
  struct destek_db *db = tkt_db_read(r);
  int64_t ticket_id = signed_ticket(r, db, sig), attachment_id = tkt_param_int(r, "id");
  if (!ticket_id || !tkt_db_int(db, 0, "SELECT count(*) FROM tkt_attachments a JOIN tkt_messages m ON m.id = a.message_id"
                                   " JOIN tkt_tickets p ON p.id = coalesce(m.part_ticket_id, m.ticket_id)"
                                   " WHERE a.id = ?1 AND m.ticket_id = ?2 AND m.kind <> 'note' AND p.customer_id = ?3",
                            "iii", attachment_id, tkt_thread_of(db, ticket_id), ticket_customer(db, ticket_id)))
    return tkt_error(r, 404, "not_found", "no such file, or the link is not valid");
  return tkt_attachment_send(r, db, attachment_id);
}

/* POST /api/v1/public/tickets/{ref}/messages {body, sig, attachments?}: the customer's reply; reopens a solved,
 * closed or pending ticket. A reply to a merged ticket goes to the thread it was merged into, in the link's part;
 * the answer shows that thread when it is the same customer's, else the one the link names (the customer's part). */
static int public_message_create(struct destek_req *r)
{
  cJSON *body;
  const cJSON *atts;
  const char *text, *sig;
  int rc, counted;
  if ((rc = rate_check(r, "tkt.reply"))) return rc;
  if ((rc = public_body(r, "tkt.reply", &body, &atts, &counted)) ||
      (rc = tkt_field_str(r, body, "sig", DESTEK_OPTIONAL, 80, &sig)))
    return rc;
  char qsig[80] = "";
  if (!sig && tkt_query_get(r, "sig", qsig, sizeof qsig)) sig = qsig;
  int64_t id = signed_ticket(r, tkt_db_read(r), sig);
  if (!id) return tkt_error(r, 404, "not_found", "no such ticket, or the link is not valid");
  if ((rc = tkt_field_str(r, body, "body", DESTEK_REQUIRED, TKT_PUBLIC_BODY_MAX, &text))) return rc;
  struct destek_db *w = tkt_db_write(r);
  if (!w) return tkt_status(r);
  if (!counted && (rc = rate_take(r, w, "tkt.reply", 1, NULL))) return rc;
  int64_t target = tkt_thread_of(w, id), customer_id = ticket_customer(w, id);
  char actor[48];
  snprintf(actor, sizeof actor, "customer:%lld", (long long)customer_id);
  int64_t mid = tkt_message_add(r, w, target, id, "customer", 0, customer_id, text, NULL, atts, actor);
  if (mid < 0) return (int)-mid;
  int64_t show = ticket_customer(w, target) == customer_id ? target : id;
  return tkt_reply_json(r, 201, public_view(w, show));
}

const struct destek_route tkt_public_routes[] = {
  { "GET",  "/api/v1/public/config",                       public_config_get,     DESTEK_PUBLIC, NULL },
  { "POST", "/api/v1/public/tickets",                      public_ticket_create,  DESTEK_PUBLIC, NULL,
    TKT_UPLOAD_BODY_MAX },
  { "GET",  "/api/v1/public/tickets/{ref}",                public_ticket_get,     DESTEK_PUBLIC, "ref:int" },
  { "POST", "/api/v1/public/tickets/{ref}/messages",       public_message_create, DESTEK_PUBLIC, "ref:int",
    TKT_UPLOAD_BODY_MAX },
  { "GET",  "/api/v1/public/tickets/{ref}/attachments/{id}", public_attachment_get, DESTEK_PUBLIC, "ref:int id:int" },
  { 0 }
};
