/* The e-mail channel, inbound: one raw message becomes a customer message on the ticket it answers (by
 * In-Reply-To/References against the Message-IDs of tkt_mail_ids, or by "[#1042]" in the subject) when its author —
 * the From address, never Reply-To — is a customer of that ticket; otherwise a new e-mail ticket (with a note on the
 * ticket it referred to, when it came from another address). Automatic mail (mail.h's MAIL_AUTO_HEADER) never opens a
 * ticket and is never answered; a bounce becomes a note on the ticket of the message that bounced. Whatever does not
 * become part of a ticket is kept raw in tkt_mail_unparsed and listed by GET /api/v1/mail/unparsed.
 *
 * Entry points: the control command "mail_import" (destek mail import, from an MTA pipe) and the IMAP poller
 * (mail_imap.c), both through tkt_mail_ingest. */
#include "mail_tkt.h"
#include "tkt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "destek_mail.h"
#include "destek_util.h"

static int keep_raw(struct destek_db *w, const char *reason, const char *source, const char *raw, size_t len,
                    int64_t *id)
{
  char now[21];
  tkt_now(now);
  sqlite3_stmt *st = tkt_db_prepare(w, "INSERT INTO tkt_mail_unparsed(reason, source, raw, created_at)"
                                   " VALUES (?1, ?2, ?3, ?4)");
  if (!st) return -1;
  tkt_db_bind(st, "tt", reason, source);
  sqlite3_bind_blob(st, 3, raw, (int)len, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 4, now, -1, SQLITE_TRANSIENT);
  int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
  tkt_db_done(st);
  if (rc == 0 && id) *id = tkt_db_last_id(w);
  return rc;
}

/* The ticket a Message-ID was recorded for (not following merges), or 0. */
static int64_t ticket_of_message_id(struct destek_db *w, const char *mid)
{
  if (!mid || !*mid) return 0;
  return tkt_db_int(w, 0, "SELECT ticket_id FROM tkt_mail_ids WHERE message_id_header = ?1", "t", mid);
}

/* A bounce of a message that is not a ticket's may be one of the core's own (a campaign's mail, a consent
 * confirmation: core_messages, which this module does not read): the core's service consent.bounce is told, with the
 * delivery-status part's text when there is one, and says whether it was its message. 1 when it was. */
static int core_bounce(struct destek_req *c, const struct mail_message *m)
{
  if (!m->bounce_message_id || !*m->bounce_message_id || !DESTEK_HOST_HAS(tkt_host, call_service)) return 0;
  cJSON *args = cJSON_CreateObject(), *res = NULL;
  cJSON_AddStringToObject(args, "message_id", m->bounce_message_id);
  for (size_t i = 0; i < m->attachments_count; i++) {
    const struct mail_attachment *a = &m->attachments[i];
    if (a->content_type && !strcmp(a->content_type, "message/delivery-status") && a->data && a->size < 65536) {
      char *t = malloc(a->size + 1);
      if (!t) abort();
      memcpy(t, a->data, a->size);
      t[a->size] = 0;
      cJSON_AddStringToObject(args, "report", t);
      free(t);
      break;
    }
  }
  int rc = tkt_call_service(c, "consent.bounce", args, &res);
  int matched = rc == 0 && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "matched"));
  if (rc) tkt_log(DESTEK_LOG_WARN, "consent.bounce failed (%d) for the bounce of %s", rc, m->bounce_message_id);
  cJSON_Delete(args);
  cJSON_Delete(res);
  return matched;
}

/* Cuts s to at most max bytes at a UTF-8 boundary (in place). */
static void utf8_cut(char *s, size_t max)
{
  size_t n = strlen(s);
  if (n <= max) return;
  while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80) max--;
  s[max] = 0;
}

/* The message's files as the ticketing API's attachment array: at most 10, each within the size limit; the rest
 * are named in *skipped (caller frees, may stay NULL). map[i] is the array index of m's attachment i, or -1. */
static cJSON *attachments_json_new(const struct mail_message *m, int *map, char **skipped)
{
  cJSON *list = cJSON_CreateArray();
  long cap = tkt_setting_int("ticketing.attachment_max_bytes", 10485760);
  int n = 0;
  for (size_t i = 0; i < m->attachments_count; i++) {
    const struct mail_attachment *a = &m->attachments[i];
    map[i] = -1;
    if (n >= 10 || (long)a->size > cap || a->size == 0) {
      char *prev = *skipped;
      if (asprintf(skipped, "%s%s%s", prev ? prev : "", prev ? ", " : "", a->filename) < 0) abort();
      free(prev);
      continue;
    }
    char name[201];
    snprintf(name, sizeof name, "%s", a->filename && *a->filename ? a->filename : "attachment");
    utf8_cut(name, 200);
    for (char *p = name; *p; p++)
      if ((unsigned char)*p < 0x20 || *p == '"' || *p == '/' || *p == '\\' || *p == 0x7f) *p = '_';
    const char *type = a->content_type;
    int type_ok = type && strlen(type) <= 100 && strchr(type, '/');
    for (const char *p = type; type_ok && *p; p++)
      if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || strchr("/.+-_", *p))) type_ok = 0;
    char *b64 = malloc(util_b64_len(a->size) + 1);
    if (!b64) abort();
    util_b64_encode(a->data, a->size, b64);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "filename", name);
    cJSON_AddStringToObject(o, "content_type", type_ok ? type : "application/octet-stream");
    cJSON_AddStringToObject(o, "data_base64", b64);
    free(b64);
    cJSON_AddItemToArray(list, o);
    map[i] = n++;
  }
  return list;
}

/* Points the inline images of message_id's HTML at its stored attachments. */
static void bind_inline_images(struct destek_db *w, int64_t message_id, const struct mail_message *m, const int *map)
{
  if (!m->html || !m->attachments_count) return;
  int64_t ids[10];
  int n = 0;
  sqlite3_stmt *st = tkt_db_prepare(w, "SELECT id FROM tkt_attachments WHERE message_id = ?1 ORDER BY id");
  if (!st) return;
  tkt_db_bind(st, "i", message_id);
  while (n < 10 && sqlite3_step(st) == SQLITE_ROW) ids[n++] = sqlite3_column_int64(st, 0);
  tkt_db_done(st);
  char **urls = calloc(m->attachments_count, sizeof *urls);
  if (!urls) abort();
  for (size_t i = 0; i < m->attachments_count; i++)
    if (map[i] >= 0 && map[i] < n && asprintf(&urls[i], "/api/v1/attachments/%lld", (long long)ids[map[i]]) < 0) abort();
  char *html = mail_html_bind_attachments_new(m->html, (const char *const *)urls, m->attachments_count);
  if (html && strlen(html) <= TKT_HTML_MAX)
    tkt_db_exec(w, "UPDATE tkt_messages SET body_html = ?2 WHERE id = ?1", "it", message_id, html);
  free(html);
  for (size_t i = 0; i < m->attachments_count; i++) free(urls[i]);
  free(urls);
}

static void record_ids(struct destek_db *w, const struct mail_message *m, int64_t ticket_id, int64_t message_id)
{
  if (!m->message_id || !*m->message_id) return;
  char now[21];
  tkt_now(now);
  tkt_db_exec(w, "INSERT OR IGNORE INTO tkt_mail_ids(message_id_header, ticket_id, message_id, direction, created_at)"
             " VALUES (?1, ?2, ?3, 'in', ?4)", "tiit", m->message_id, ticket_id, message_id, now);
}

/* The note on referred_id that mail referring to it came from address, not from a customer of it, and was filed as
 * ticket_id. Its text is fixed (nothing the sender wrote): the agents' app shows it in the agent's language from
 * its notice, the body is a plain copy in both. 0, or -1 (the call's error is set up). */
static int note_other_sender(struct destek_req *c, struct destek_db *w, int64_t referred_id, const char *address,
                             int64_t ticket_id)
{
  /* A closed ticket takes no more notes (closed is final); the new ticket's subject names it anyway. */
  if (tkt_db_int(w, 0, "SELECT status = 'closed' FROM tkt_tickets WHERE id = ?1", "i", referred_id)) return 0;
  char ref[24], *body = NULL;
  snprintf(ref, sizeof ref, "#%lld",
           (long long)tkt_db_int(w, 0, "SELECT reference FROM tkt_tickets WHERE id = ?1", "i", ticket_id));
  if (asprintf(&body, "Bu talebe atıf yapan bir e-posta, talebin müşterisinin olmayan bir adresten (%s) geldi; yeni"
                      " talep %s olarak açıldı.\n\nMail referring to this ticket came from an address that is not its"
                      " customer's (%s); it was filed as a new ticket, %s.", address, ref, address, ref) < 0)
    abort();
  int64_t mid = tkt_message_add(c, w, referred_id, 0, "note", 0, 0, body, NULL, NULL, "system");
  free(body);
  if (mid <= 0) return -1;
  cJSON *notice = cJSON_CreateObject();
  cJSON_AddStringToObject(notice, "code", "mail_other_sender");
  cJSON_AddStringToObject(notice, "address", address);
  cJSON_AddNumberToObject(notice, "ticket_id", (double)ticket_id);
  cJSON_AddStringToObject(notice, "reference", ref);
  char *text = cJSON_PrintUnformatted(notice);
  cJSON_Delete(notice);
  int rc = tkt_db_exec(w, "UPDATE tkt_messages SET notice = ?2 WHERE id = ?1", "it", mid, text) == SQLITE_OK ? 0 : -1;
  cJSON_free(text);
  return rc;
}

/* The saved mailbox whose From address m was sent to (its To addresses first, then Cc), or 0. */
static int64_t mailbox_of_recipients(struct destek_db *w, const struct mail_message *m)
{
  for (int pass = 0; pass < 2; pass++) {
    const struct mail_address *list = pass ? m->cc : m->to;
    size_t n = pass ? m->cc_count : m->to_count;
    for (size_t i = 0; i < n; i++) {
      if (!list[i].address || !*list[i].address) continue;
      int64_t id = tkt_db_int(w, 0, "SELECT id FROM tkt_mailboxes WHERE from_address <> '' AND from_address = ?1"
                              " COLLATE NOCASE ORDER BY id LIMIT 1", "t", list[i].address);
      if (id > 0) return id;
    }
  }
  return 0;
}

/* Records the raw hash of a message without a Message-ID as filed (ticket_id 0: kept raw). 0 or -1. */
static int raw_seen_record(struct destek_db *w, const char *sha, int64_t ticket_id)
{
  char now[21];
  tkt_now(now);
  return tkt_db_exec(w, "INSERT OR IGNORE INTO tkt_mail_raw_seen(sha256, ticket_id, created_at)"
                     " VALUES (?1, nullif(?2, 0), ?3)", "tit", sha, ticket_id, now) == SQLITE_OK ? 0 : -1;
}

static cJSON *result_new(const char *result, struct destek_db *w, int64_t ticket_id)
{
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "result", result);
  if (ticket_id) {
    cJSON_AddNumberToObject(o, "ticket_id", (double)ticket_id);
    char ref[24];
    snprintf(ref, sizeof ref, "#%lld",
             (long long)tkt_db_int(w, 0, "SELECT reference FROM tkt_tickets WHERE id = ?1", "i", ticket_id));
    cJSON_AddStringToObject(o, "reference", ref);
  }
  return o;
}

cJSON *tkt_mail_ingest(struct destek_req *c, const char *raw, size_t len, const char *source, char *err,
                       size_t errlen)
{
  return tkt_mail_ingest_from(c, raw, len, source, NULL, err, errlen);
}

cJSON *tkt_mail_ingest_from(struct destek_req *c, const char *raw, size_t len, const char *source,
                            const struct tkt_mail_origin *origin, char *err, size_t errlen)
{
  struct destek_db *w = tkt_db_write(c);
  if (!w) { snprintf(err, errlen, "the database is busy"); return NULL; }
  char perr[256] = "";
  struct mail_message *m = mail_parse_new(raw, len, perr, sizeof perr);
  int64_t kept = 0;
  /* A message without a Message-ID is known by the sha256 of its bytes: the same bytes fetched again (after an
   * IMAP mailbox was replaced and is re-synced, an MTA's retry) are not filed twice. */
  char sha[65] = "";
  if (!m || !m->message_id || !*m->message_id) {
    tkt_sha256_hex(raw, len, sha);
    sqlite3_stmt *st = tkt_db_prepare(w, "SELECT coalesce(ticket_id, 0) FROM tkt_mail_raw_seen WHERE sha256 = ?1");
    int64_t seen_ticket = -1;
    if (st) {
      tkt_db_bind(st, "t", sha);
      if (sqlite3_step(st) == SQLITE_ROW) seen_ticket = sqlite3_column_int64(st, 0);
      tkt_db_done(st);
    }
    if (seen_ticket >= 0) {
      mail_message_free(m);
      return result_new("duplicate", w, seen_ticket ? tkt_thread_of(w, seen_ticket) : 0);
    }
  }
  if (!m) {
    char reason[300];
    snprintf(reason, sizeof reason, "unparsable: %s", perr[0] ? perr : "not a mail message");
    if (keep_raw(w, reason, source, raw, len, &kept) != 0 || raw_seen_record(w, sha, 0) != 0) {
      snprintf(err, errlen, "cannot keep the message");
      return NULL;
    }
    cJSON *o = result_new("unparsed", w, 0);
    cJSON_AddNumberToObject(o, "unparsed_id", (double)kept);
    return o;
  }
  cJSON *out = NULL;
  /* The same message twice (an IMAP fetch whose \Seen flag was lost, an MTA retry): already done. */
  if (m->message_id && *m->message_id &&
      tkt_db_int(w, 0, "SELECT count(*) FROM tkt_mail_ids WHERE message_id_header = ?1 AND direction = 'in'", "t",
             m->message_id)) {
    out = result_new("duplicate", w, tkt_thread_of(w, ticket_of_message_id(w, m->message_id)));
    goto done;
  }

  if (m->is_bounce) {
    int64_t ticket_id = tkt_thread_of(w, ticket_of_message_id(w, m->bounce_message_id));
    if (!ticket_id) ticket_id = tkt_thread_of(w, ticket_of_message_id(w, m->in_reply_to));
    if (ticket_id) {
      char *body = NULL;
      if (asprintf(&body, "Mail delivery failed (bounce from %s):\n\n%s", m->from.address ? m->from.address : "?",
                   m->text) < 0) abort();
      utf8_cut(body, TKT_BODY_MAX);
      char actor[48] = "system";
      int64_t mid = tkt_message_add(c, w, ticket_id, 0, "note", 0, 0, body, NULL, NULL, actor);
      free(body);
      if (mid <= 0) { snprintf(err, errlen, "cannot add the bounce to the ticket"); goto done; }
      record_ids(w, m, ticket_id, mid);
      out = result_new("bounce", w, ticket_id);
    } else if (core_bounce(c, m)) {
      out = result_new("core_bounce", w, 0);   /* one of the core's own messages (a campaign's): recorded there */
    } else {
      if (keep_raw(w, "bounce of an unknown message", source, raw, len, &kept) != 0) goto fail_keep;
      out = result_new("unparsed", w, 0);
      cJSON_AddNumberToObject(out, "unparsed_id", (double)kept);
    }
    goto done;
  }

  /* Who wrote it is From, and only From: Reply-To is where a sender wants answers, which anyone can set to anyone's
   * address, so it never makes a message someone else's. */
  const char *from = m->from.address;
  if (!from || !strchr(from, '@') || strlen(from) > 254) {
    if (keep_raw(w, "no sender address", source, raw, len, &kept) != 0) goto fail_keep;
    out = result_new("unparsed", w, 0);
    cJSON_AddNumberToObject(out, "unparsed_id", (double)kept);
    goto done;
  }

  /* The ticket it refers to: by the ids it answers (newest first), else by the reference in its subject. */
  int64_t referred = ticket_of_message_id(w, m->in_reply_to);
  for (size_t i = m->references_count; !referred && i > 0; i--)
    referred = ticket_of_message_id(w, m->references[i - 1]);
  if (!referred) {
    char *ref = mail_ticket_ref_new(m->subject);
    if (ref) referred = tkt_db_int(w, 0, "SELECT id FROM tkt_tickets WHERE reference = ?1", "t", ref);
    free(ref);
  }
  /* It joins that ticket's thread only when its author is a customer of it (the referred ticket's, or one whose
   * ticket was merged into the thread): ids and references travel with forwarded and quoted mail and a reference is
   * guessable, so none of them says who is writing. part is the author's conversation in the thread (parts.c). */
  int64_t ticket_id = tkt_thread_of(w, referred), part = 0;
  int64_t author_id = tkt_contact_find(c, "email", from);
  if (ticket_id && author_id)
    part = tkt_db_int(w, 0, "SELECT customer_id FROM tkt_tickets WHERE id = ?1", "i", referred) == author_id
           ? referred : tkt_part_of(w, ticket_id, author_id);

  if (m->is_auto_reply == MAIL_AUTO_HEADER) {
    /* An out-of-office or list mail: filed as a note where it belongs, so it neither reopens the ticket nor
     * reaches the customer; without a ticket it opens nothing and is kept for an admin. */
    if (ticket_id) {
      char *body = NULL;
      if (asprintf(&body, "Automatic reply from %s:\n\n%s", from, m->text) < 0) abort();
      utf8_cut(body, TKT_BODY_MAX);
      int64_t mid = tkt_message_add(c, w, ticket_id, 0, "note", 0, 0, body, NULL, NULL, "system");
      free(body);
      if (mid <= 0) { snprintf(err, errlen, "cannot add the automatic reply to the ticket"); goto done; }
      record_ids(w, m, ticket_id, mid);
      out = result_new("auto_reply", w, ticket_id);
    } else {
      if (keep_raw(w, "automatic message (opens no ticket)", source, raw, len, &kept) != 0) goto fail_keep;
      out = result_new("unparsed", w, 0);
      cJSON_AddNumberToObject(out, "unparsed_id", (double)kept);
    }
    goto done;
  }

  /* From someone who is not a customer of the ticket it refers to: their own new ticket (acknowledged to them, about
   * what they wrote only), and a note on the referred one so that agents see the connection. */
  int64_t noted = part ? 0 : ticket_id;
  if (!part) ticket_id = 0;
  int64_t customer_id = tkt_customer_match(c, from, m->from.name ? m->from.name : "", NULL, NULL);
  if (customer_id <= 0) { snprintf(err, errlen, "cannot match the customer"); goto done; }
  char actor[48];
  snprintf(actor, sizeof actor, "customer:%lld", (long long)customer_id);

  char *text = ticket_id ? mail_strip_quoted_new(m->text) : strdup(m->text);
  if (!text) abort();
  utf8_cut(text, TKT_BODY_MAX);
  const char *body = *text ? text : "(no text)";
  char *html = m->html && strlen(m->html) <= TKT_HTML_MAX ? m->html : NULL;
  int *map = calloc(m->attachments_count + 1, sizeof *map);
  if (!map) abort();
  char *skipped = NULL;
  cJSON *atts = attachments_json_new(m, map, &skipped);
  char *body_full = NULL;
  if (skipped) {
    if (asprintf(&body_full, "%s\n\n[not stored, too large or too many: %s]", body, skipped) < 0) abort();
    utf8_cut(body_full, TKT_BODY_MAX);
    body = body_full;
  }
  int64_t message_id = 0;
  if (ticket_id) {
    message_id = tkt_message_add(c, w, ticket_id, part, "customer", 0, customer_id, body, html,
                                 cJSON_GetArraySize(atts) ? atts : NULL, actor);
    if (message_id > 0) out = result_new("threaded", w, ticket_id);
  } else {
    char subject[TKT_SUBJECT_MAX + 1];
    snprintf(subject, sizeof subject, "%s", *m->subject ? m->subject : "(no subject)");
    utf8_cut(subject, TKT_SUBJECT_MAX);
    cJSON *extra = NULL;
    if (m->is_auto_reply == MAIL_AUTO_NONE) {   /* a human wrote it: acknowledge it */
      extra = cJSON_CreateObject();
      cJSON_AddBoolToObject(extra, "ack_needed", 1);
    }
    /* The mailbox's routing: its team (unless deleted meanwhile) and tags. */
    int64_t team_id = origin && origin->team_id
      ? tkt_db_int(w, 0, "SELECT id FROM tkt_teams WHERE id = ?1", "i", origin->team_id) : 0;
    const cJSON *tags = origin && cJSON_GetArraySize(origin->tags) ? origin->tags : NULL;
    ticket_id = tkt_ticket_create_in_team(c, w, subject, customer_id, body, "email", "normal", tags, NULL,
                                          cJSON_GetArraySize(atts) ? atts : NULL, actor, team_id, extra);
    /* Answered from the mailbox it came in on (mail_out.c); a mailbox deleted meanwhile leaves the default. Mail
     * piped in by an MTA came in on the mailbox whose From address it was sent to (To, then Cc), if any. */
    int64_t mailbox_id = origin ? origin->mailbox_id : 0;
    if (!mailbox_id && !strcmp(source, "cli")) mailbox_id = mailbox_of_recipients(w, m);
    if (ticket_id > 0 && mailbox_id &&
        tkt_db_exec(w, "UPDATE tkt_tickets SET mailbox_id = (SELECT id FROM tkt_mailboxes WHERE id = ?2) WHERE id = ?1",
                    "ii", ticket_id, mailbox_id) != SQLITE_OK)
      ticket_id = -500;
    if (ticket_id > 0) {
      message_id = tkt_db_int(w, 0, "SELECT min(id) FROM tkt_messages WHERE ticket_id = ?1", "i", ticket_id);
      if (html) tkt_db_exec(w, "UPDATE tkt_messages SET body_html = ?2 WHERE id = ?1", "it", message_id, html);
      out = result_new("created", w, ticket_id);
      if (noted && note_other_sender(c, w, noted, from, ticket_id) != 0) {
        cJSON_Delete(out);
        out = NULL;
      }
    } else {
      ticket_id = 0;
    }
  }
  if (out) {
    bind_inline_images(w, message_id, m, map);
    record_ids(w, m, ticket_id, message_id);
  } else {
    snprintf(err, errlen, "the ticket could not be written (%d)", tkt_status(c));
  }
  cJSON_Delete(atts);
  free(skipped);
  free(body_full);
  free(map);
  free(text);
  goto done;
fail_keep:
  snprintf(err, errlen, "cannot keep the message");
done:
  if (out && sha[0]) {
    const char *result = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(out, "result"));
    const cJSON *tid = cJSON_GetObjectItemCaseSensitive(out, "ticket_id");
    if (result && strcmp(result, "duplicate") &&
        raw_seen_record(w, sha, cJSON_IsNumber(tid) ? (int64_t)tid->valuedouble : 0) != 0) {
      cJSON_Delete(out);
      out = NULL;
      snprintf(err, errlen, "cannot record the message");
    }
  }
  mail_message_free(m);
  return out;
}

/* GET /api/v1/mail/unparsed: what the inbound channel kept for an admin, newest first. */
static int unparsed_list(struct destek_req *r)
{
  int limit;
  int64_t after;
  int rc = tkt_page(r, &limit, &after);
  if (rc) return rc;
  struct destek_db *db = tkt_db_read(r);
  sqlite3_stmt *st = tkt_db_prepare(db, "SELECT id, reason, source, length(raw), substr(raw, 1, 2000), created_at"
                                    " FROM tkt_mail_unparsed WHERE (?1 = 0 OR id < ?1) ORDER BY id DESC LIMIT ?2");
  if (!st) return tkt_error(r, 500, "internal", "internal error");
  tkt_db_bind(st, "ii", after, (int64_t)limit + 1);
  cJSON *items = cJSON_CreateArray();
  int n = 0;
  int64_t last = 0, next = 0;
  while (sqlite3_step(st) == SQLITE_ROW) {
    if (n == limit) { next = last; break; }
    cJSON *o = cJSON_CreateObject();
    last = sqlite3_column_int64(st, 0);
    cJSON_AddNumberToObject(o, "id", (double)last);
    cJSON_AddStringToObject(o, "reason", (const char *)sqlite3_column_text(st, 1));
    cJSON_AddStringToObject(o, "source", (const char *)sqlite3_column_text(st, 2));
    cJSON_AddNumberToObject(o, "size", sqlite3_column_int(st, 3));
    /* The start of the raw text, bytes that are not UTF-8 shown as U+FFFD by cJSON's reader on the other side:
     * replace them here so the JSON stays valid. */
    const unsigned char *p = sqlite3_column_blob(st, 4);
    int plen = sqlite3_column_bytes(st, 4);
    char *excerpt = malloc((size_t)plen + 1);
    if (!excerpt) abort();
    for (int i = 0; i < plen; i++) excerpt[i] = (p[i] >= 0x20 && p[i] < 0x7f) || p[i] == '\n' || p[i] == '\r' ||
                                                p[i] == '\t' ? (char)p[i] : '?';
    excerpt[plen] = 0;
    cJSON_AddStringToObject(o, "raw_excerpt", excerpt);
    free(excerpt);
    cJSON_AddStringToObject(o, "created_at", (const char *)sqlite3_column_text(st, 5));
    cJSON_AddItemToArray(items, o);
    n++;
  }
  tkt_db_done(st);
  return tkt_reply_json(r, 200, tkt_list_new(items, next));
}

/* GET /api/v1/mail/unparsed/{id}/raw: the message as it came, for an admin to read or re-import. */
static int unparsed_raw(struct destek_req *r)
{
  struct destek_db *db = tkt_db_read(r);
  sqlite3_stmt *st = tkt_db_prepare(db, "SELECT raw FROM tkt_mail_unparsed WHERE id = ?1");
  if (!st) return tkt_error(r, 500, "internal", "internal error");
  tkt_db_bind(st, "i", tkt_param_int(r, "id"));
  if (sqlite3_step(st) != SQLITE_ROW) { tkt_db_done(st); return tkt_error(r, 404, "not_found", "no such message"); }
  size_t len = (size_t)sqlite3_column_bytes(st, 0);
  char *copy = malloc(len + 1);
  if (!copy) abort();
  if (len) memcpy(copy, sqlite3_column_blob(st, 0), len);
  tkt_db_done(st);
  int rc = tkt_reply_take(r, 200, "text/plain; charset=us-ascii", copy, len);
  return rc;
}

static const struct destek_route mail_in_routes[] = {
  { "GET", "/api/v1/mail/unparsed", unparsed_list, DESTEK_ADMIN, NULL, 0 },
  { "GET", "/api/v1/mail/unparsed/{id}/raw", unparsed_raw, DESTEK_ADMIN, "id:int", 0 },
  { 0 }
};

int tkt_mail_in_init(const struct destek_host *host)
{
  return host->routes(host, mail_in_routes);
}
