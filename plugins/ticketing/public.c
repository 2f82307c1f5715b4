/* The customers' side: the public ticket form (rate-limited per address) and a ticket followed through a signed
 * link (GET to read its public thread, POST to reply). Internal notes never leave through here. */
#include "tkt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "settings.h"
#include "util.h"

/* 0 when ip may make another `kind` submission, else the 429 it set up (with Retry-After). */
static int rate_check(struct destek_req *r, const char *kind, const char *limit_setting, long dflt)
{
  long limit = settings_get_int(limit_setting, dflt);
  long window = settings_get_int("ticketing.public_window_seconds", 600);
  int64_t now = (int64_t)time(NULL);
  struct db *db = http_db(r);
  int64_t n = db_int(db, 0, "SELECT count(*) FROM tkt_public_hits WHERE ip = ?1 AND kind = ?2 AND at > ?3", "tti",
                     r->ip, kind, now - window);
  if (n < limit) return 0;
  int64_t oldest = db_int(db, now, "SELECT min(at) FROM tkt_public_hits WHERE ip = ?1 AND kind = ?2 AND at > ?3",
                          "tti", r->ip, kind, now - window);
  int64_t wait = oldest + window - now;
  char buf[24];
  snprintf(buf, sizeof buf, "%lld", (long long)(wait > 0 ? wait : 1));
  http_add_header(r, "Retry-After", buf);
  return http_error(r, 429, "rate_limited", "too many submissions from this address; try again in %s seconds", buf);
}

static int rate_record(struct db *w, struct destek_req *r, const char *kind)
{
  int64_t now = (int64_t)time(NULL);
  long window = settings_get_int("ticketing.public_window_seconds", 600);
  db_exec(w, "DELETE FROM tkt_public_hits WHERE ip = ?1 AND kind = ?2 AND at <= ?3", "tti", r->ip, kind,
          now - window);
  return db_exec(w, "INSERT INTO tkt_public_hits(ip, kind, at) VALUES (?1, ?2, ?3)", "tti", r->ip, kind, now)
         == SQLITE_OK ? 0 : -1;
}

/* POST /api/v1/public/tickets {name, email, subject, body, order_number?} -> 201 {"reference":"#1042"} */
static int public_ticket_create(struct destek_req *r)
{
  cJSON *body;
  const char *name, *subject, *text, *order_number;
  char email[256];
  int rc;
  if ((rc = rate_check(r, "form", "ticketing.public_form_limit", 5))) return rc;
  if ((rc = http_body_object(r, &body)) || (rc = http_field_str(r, body, "name", FIELD_REQUIRED, 200, &name)) ||
      (rc = http_field_email(r, body, "email", FIELD_REQUIRED, email)) ||
      (rc = http_field_str(r, body, "subject", FIELD_REQUIRED, TKT_SUBJECT_MAX, &subject)) ||
      (rc = http_field_str(r, body, "body", FIELD_REQUIRED, 20000, &text)) ||
      (rc = http_field_str(r, body, "order_number", FIELD_OPTIONAL, 64, &order_number)))
    return rc;
  struct db *w = http_tx(r);
  if (!w) return r->status;
  const char *lang = tkt_host->lang(r);
  int64_t customer_id = tkt_customer_match(w, email, name, NULL, lang);
  if (customer_id <= 0) return http_error(r, 500, "internal", "the request could not be saved");
  char actor[48];
  snprintf(actor, sizeof actor, "customer:%lld", (long long)customer_id);
  cJSON *extra = cJSON_CreateObject();
  cJSON_AddBoolToObject(extra, "ack_needed", 1);
  int64_t reference_id = tkt_ticket_create(r, w, subject, customer_id, text, "web", "normal", NULL,
                                           order_number && *order_number ? order_number : NULL, NULL, actor, extra);
  if (reference_id < 0) return (int)-reference_id;
  if (rate_record(w, r, "form") != 0) return http_error(r, 500, "internal", "the request could not be saved");
  int64_t reference = db_int(w, 0, "SELECT reference FROM tkt_tickets WHERE id = ?1", "i", reference_id);
  char ref[24];
  snprintf(ref, sizeof ref, "#%lld", (long long)reference);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "reference", ref);
  return http_reply_json(r, 201, o);
}

/* The ticket a signed link names: its id, or 0 when the reference or the signature is wrong (the same 404 for
 * both, so a link cannot be used to probe which references exist). */
static int64_t signed_ticket(struct destek_req *r, struct db *db, const char *sig)
{
  int64_t id = db_int(db, 0, "SELECT id FROM tkt_tickets WHERE reference = ?1", "i", http_param_int(r, "ref"));
  if (!id || !sig || strlen(sig) != 64) return 0;
  char want[65];
  tkt_link_sig(db, id, want);
  return util_ct_equal(want, sig, 64) ? id : 0;
}

static cJSON *public_view(struct db *db, int64_t id)
{
  sqlite3_stmt *st = db_prepare(db, "SELECT t.reference, t.subject, t.status, t.created_at, t.updated_at, c.name,"
                                    " (SELECT reference FROM tkt_tickets WHERE id = t.merged_into)"
                                    " FROM tkt_tickets t JOIN tkt_customers c ON c.id = t.customer_id WHERE t.id = ?1");
  if (!st) return NULL;
  db_bind(st, "i", id);
  if (sqlite3_step(st) != SQLITE_ROW) { db_done(st); return NULL; }
  cJSON *o = cJSON_CreateObject();
  char ref[24];
  snprintf(ref, sizeof ref, "#%lld", (long long)sqlite3_column_int64(st, 0));
  cJSON_AddStringToObject(o, "reference", ref);
  cJSON_AddStringToObject(o, "subject", (const char *)sqlite3_column_text(st, 1));
  cJSON_AddStringToObject(o, "status", (const char *)sqlite3_column_text(st, 2));
  cJSON_AddStringToObject(o, "created_at", (const char *)sqlite3_column_text(st, 3));
  cJSON_AddStringToObject(o, "updated_at", (const char *)sqlite3_column_text(st, 4));
  cJSON_AddStringToObject(o, "customer_name", (const char *)sqlite3_column_text(st, 5));
  if (sqlite3_column_type(st, 6) != SQLITE_NULL) {
    snprintf(ref, sizeof ref, "#%lld", (long long)sqlite3_column_int64(st, 6));
    cJSON_AddStringToObject(o, "merged_into", ref);
  }
  db_done(st);
  /* Public messages only, without what is for agents: HTML as received, attachment URLs and user ids. */
  cJSON *msgs = tkt_messages_json(db, id, 1), *m;
  cJSON_ArrayForEach(m, msgs) {
    cJSON_DeleteItemFromObjectCaseSensitive(m, "body_html");
    cJSON *author = cJSON_GetObjectItemCaseSensitive(m, "author");
    cJSON_DeleteItemFromObjectCaseSensitive(author, "id");
    cJSON *a;
    cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(m, "attachments")) {
      cJSON_DeleteItemFromObjectCaseSensitive(a, "url");
      cJSON_DeleteItemFromObjectCaseSensitive(a, "sha256");
      cJSON_DeleteItemFromObjectCaseSensitive(a, "id");
    }
  }
  cJSON_AddItemToObject(o, "messages", msgs);
  return o;
}

static int public_ticket_get(struct destek_req *r)
{
  char sig[80] = "";
  http_query_get(r, "sig", sig, sizeof sig);
  struct db *db = http_db(r);
  int64_t id = signed_ticket(r, db, sig);
  cJSON *o = id ? public_view(db, id) : NULL;
  if (!o) return http_error(r, 404, "not_found", "no such ticket, or the link is not valid");
  return http_reply_json(r, 200, o);
}

/* POST /api/v1/public/tickets/{ref}/messages {body, sig}: the customer's reply; reopens a solved or closed ticket.
 * A reply to a merged ticket goes to the ticket it was merged into. */
static int public_message_create(struct destek_req *r)
{
  cJSON *body;
  const char *text, *sig;
  int rc;
  if ((rc = rate_check(r, "reply", "ticketing.public_reply_limit", 30))) return rc;
  if ((rc = http_body_object(r, &body)) || (rc = http_field_str(r, body, "sig", FIELD_OPTIONAL, 80, &sig)))
    return rc;
  char qsig[80] = "";
  if (!sig && http_query_get(r, "sig", qsig, sizeof qsig)) sig = qsig;
  int64_t id = signed_ticket(r, http_db(r), sig);
  if (!id) return http_error(r, 404, "not_found", "no such ticket, or the link is not valid");
  if ((rc = http_field_str(r, body, "body", FIELD_REQUIRED, 20000, &text))) return rc;
  struct db *w = http_tx(r);
  if (!w) return r->status;
  for (int hops = 0; hops < 16; hops++) {
    int64_t next = db_int(w, 0, "SELECT coalesce(merged_into, 0) FROM tkt_tickets WHERE id = ?1", "i", id);
    if (!next) break;
    id = next;
  }
  int64_t customer_id = db_int(w, 0, "SELECT customer_id FROM tkt_tickets WHERE id = ?1", "i", id);
  char actor[48];
  snprintf(actor, sizeof actor, "customer:%lld", (long long)customer_id);
  int64_t mid = tkt_message_add(r, w, id, "customer", 0, customer_id, text, NULL, NULL, actor);
  if (mid < 0) return (int)-mid;
  if (rate_record(w, r, "reply") != 0) return http_error(r, 500, "internal", "the reply could not be saved");
  return http_reply_json(r, 201, public_view(w, id));
}

const struct destek_route tkt_public_routes[] = {
  { "POST", "/api/v1/public/tickets",                      public_ticket_create,  DESTEK_PUBLIC, NULL },
  { "GET",  "/api/v1/public/tickets/{ref}",                public_ticket_get,     DESTEK_PUBLIC, "ref:int" },
  { "POST", "/api/v1/public/tickets/{ref}/messages",       public_message_create, DESTEK_PUBLIC, "ref:int" },
  { 0 }
};
