/* The e-mail channel, outbound: the mail settings, the async bus subscribers that mail the customer (the
 * acknowledgement of a web-form ticket, an agent's reply, the solved notice, a merge notice), SMTP through libcurl,
 * and GET /api/v1/tickets/{id}/mail-status.
 *
 * Delivery: each mail is one row of tkt_mail_out, keyed by (event id, kind), written before the first attempt with
 * the Message-ID it will carry, so a retried send keeps that id and a send that already succeeded is not repeated.
 * A failed send returns non-zero and the bus retries it with backoff; on the bus's last attempt the row becomes
 * "dead", which the mail-status route shows beside the message.
 *
 * Mail servers: the SMTP URL is set by an admin (mail.smtp_url), so unlike net.c's webhooks it is not checked
 * against private addresses — a relay on localhost or the LAN is the usual setup. Only smtp:// and smtps:// are
 * accepted, and libcurl is limited to those protocols. */
#include "mail_tkt.h"
#include "tkt.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "destek_mail.h"

static const struct destek_setting mail_settings[] = {
  { "mail.smtp_url", DESTEK_SETTING_STRING, "", 0, "Outgoing mail server: smtp://host:port or smtps://host:port" },
  { "mail.smtp_user", DESTEK_SETTING_STRING, "", 0, "User name for the SMTP server (empty: no login)" },
  { "mail.smtp_password", DESTEK_SETTING_STRING, "", 1, "Password for the SMTP server" },
  { "mail.smtp_tls", DESTEK_SETTING_STRING, "auto", 0,
    "TLS to the SMTP server: auto (the URL decides; STARTTLS when offered), starttls (required), implicit, none" },
  { "mail.imap_tls", DESTEK_SETTING_STRING, "auto", 0,
    "TLS to the IMAP server: auto (the URL decides; STARTTLS when offered), starttls (required), implicit, none" },
  { "mail.tls_ca", DESTEK_SETTING_STRING, "", 0,
    "PEM certificates of a private CA that signed the mail servers' certificates (empty: the system's CAs);"
    " when set, mail servers are verified against these instead" },
  { "mail.allow_plaintext", DESTEK_SETTING_BOOL, "false", 0,
    "Allow TLS \"none\" (passwords and mail in the clear) for mail servers that are not on loopback" },
  { "mail.from", DESTEK_SETTING_STRING, "", 0, "The address mail to customers comes from (and replies go to)" },
  { "mail.from_name", DESTEK_SETTING_STRING, "", 0, "The display name of mail.from" },
  { "mail.imap_url", DESTEK_SETTING_STRING, "", 0, "Mailbox to poll: imap://host:port/INBOX or imaps://host/INBOX" },
  { "mail.imap_user", DESTEK_SETTING_STRING, "", 0, "User name for the IMAP server" },
  { "mail.imap_password", DESTEK_SETTING_STRING, "", 1, "Password for the IMAP server" },
  { "mail.poll_seconds", DESTEK_SETTING_INT, "60", 0, "How often the mailbox is polled, in seconds; 0 disables" },
  { "mail.ack_limit", DESTEK_SETTING_INT, "3", 0,
    "Acknowledgements mailed to one address per hour; tickets beyond it are still filed, unacknowledged (0: no limit)" },
  { "mail.public_url", DESTEK_SETTING_STRING, "", 0,
    "The address customers reach this desk at, for links in mail (e.g. https://destek.example.com); empty: the"
    " server's listening address" },
  { 0 }
};

/* --- SMTP --- */

struct upload {
  const char *data;
  size_t len, pos;
};

static size_t upload_read(char *buf, size_t size, size_t n, void *ud)
{
  struct upload *u = ud;
  size_t want = size * n, left = u->len - u->pos;
  if (want > left) want = left;
  memcpy(buf, u->data + u->pos, want);
  u->pos += want;
  return want;
}

/* --- TLS choices --- */

const char *const TKT_TLS_MODES[] = { "auto", "starttls", "implicit", "none", NULL };

int tkt_tls_mode_ok(const char *tls)
{
  for (const char *const *m = TKT_TLS_MODES; *m; m++)
    if (tls && !strcmp(tls, *m)) return 1;
  return 0;
}

/* Whether url's host is a loopback address (127.0.0.0/8, ::1, localhost). */
static int host_is_loopback(const char *url)
{
  CURLU *u = curl_url();
  if (!u) abort();
  char *host = NULL;
  int yes = 0;
  if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
    yes = !strncmp(host, "127.", 4) || !strcmp(host, "[::1]") || !strcasecmp(host, "localhost");
  curl_free(host);
  curl_url_cleanup(u);
  return yes;
}

int tkt_tls_check(const char *url, const char *tls, char *err, size_t errlen)
{
  if (!tkt_tls_mode_ok(tls)) {
    snprintf(err, errlen, "tls must be auto, starttls, implicit or none");
    return -1;
  }
  if (!strcmp(tls, "none") && !host_is_loopback(url) && !tkt_setting_bool("mail.allow_plaintext", 0)) {
    snprintf(err, errlen, "tls \"none\" sends passwords and mail in the clear: only for a server on loopback,"
             " unless an admin sets mail.allow_plaintext");
    return -1;
  }
  return 0;
}

char *tkt_tls_url_new(const char *url, const char *tls)
{
  const char *rest = strstr(url, "://");
  char *out = NULL;
  if (!rest || !tls || !strcmp(tls, "auto")) {
    out = strdup(url);
  } else {
    size_t scheme = (size_t)(rest - url);
    int imap = scheme >= 4 && !strncasecmp(url, "imap", 4);
    if (asprintf(&out, "%s%s", !strcmp(tls, "implicit") ? (imap ? "imaps" : "smtps") : (imap ? "imap" : "smtp"),
                 rest) < 0) out = NULL;
  }
  if (!out) abort();
  return out;
}

void tkt_tls_curl_setup(CURL *c, const char *tls, int auto_try)
{
  char *ca = tkt_setting_new("mail.tls_ca");
  if (ca && *ca) {
    struct curl_blob blob = { ca, strlen(ca), CURL_BLOB_COPY };
    curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &blob);
  }
  free(ca);
  if (tls && (!strcmp(tls, "starttls") || !strcmp(tls, "implicit")))
    curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
  else if (tls && !strcmp(tls, "none"))
    curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_NONE);
  else if (auto_try)
    curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
}

void tkt_smtp_curl_setup(CURL *c, const char *url, const char *user, const char *password, const char *tls)
{
  char *conn = tkt_tls_url_new(url, tls);
  curl_easy_setopt(c, CURLOPT_URL, conn);   /* libcurl keeps its own copy */
  free(conn);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  if (user && *user) {
    curl_easy_setopt(c, CURLOPT_USERNAME, user);
    curl_easy_setopt(c, CURLOPT_PASSWORD, password ? password : "");
  }
  /* auto: a password is not sent in the clear to a server that offers STARTTLS. */
  tkt_tls_curl_setup(c, tls, user && *user);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
}

int tkt_smtp_url_check(const char *url, char *err, size_t errlen)
{
  if (!url || !*url) { snprintf(err, errlen, "the SMTP URL is empty"); return -1; }
  if (tkt_curl_ready() != 0) { snprintf(err, errlen, "libcurl cannot start"); return -1; }
  CURLU *u = curl_url();
  if (!u) abort();
  char *scheme = NULL, *host = NULL;
  int rc = -1;
  if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
      curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK)
    snprintf(err, errlen, "not a URL: use smtp://host:port or smtps://host:port");
  else if (strcmp(scheme, "smtp") && strcmp(scheme, "smtps"))
    snprintf(err, errlen, "the URL must start with smtp:// or smtps://");
  else if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host)
    snprintf(err, errlen, "the URL names no host");
  else
    rc = 0;
  curl_free(scheme);
  curl_free(host);
  curl_url_cleanup(u);
  return rc;
}

/* tkt_smtp_send to `to` and the n_extra addresses extra too (a reply's CC and BCC: envelope recipients). */
static int smtp_send_all(const char *url, const char *user, const char *password, const char *tls_mode, const char *from,
                         const char *to, const char *const *extra, size_t n_extra, const char *msg, size_t len,
                         long timeout, int *tls, char *err, size_t errlen);

int tkt_smtp_send(const char *url, const char *user, const char *password, const char *tls_mode, const char *from,
                  const char *to, const char *msg, size_t len, long timeout, int *tls, char *err, size_t errlen)
{
  return smtp_send_all(url, user, password, tls_mode, from, to, NULL, 0, msg, len, timeout, tls, err, errlen);
}

static int smtp_send_all(const char *url, const char *user, const char *password, const char *tls_mode, const char *from,
                         const char *to, const char *const *extra, size_t n_extra, const char *msg, size_t len,
                         long timeout, int *tls, char *err, size_t errlen)
{
  if (strncmp(url, "smtp://", 7) && strncmp(url, "smtps://", 8)) {
    snprintf(err, errlen, "mail.smtp_url must start with smtp:// or smtps://");
    return -1;
  }
  if (tkt_curl_ready() != 0) {
    snprintf(err, errlen, "libcurl cannot start");
    return -1;
  }
  if (tkt_tls_check(url, tls_mode ? tls_mode : "auto", err, errlen) != 0) return -1;
  CURL *c = curl_easy_init();
  if (!c) abort();
  char from_angle[300], errbuf[CURL_ERROR_SIZE] = "";
  snprintf(from_angle, sizeof from_angle, "<%s>", from);
  struct curl_slist *rcpt = curl_slist_append(NULL, to);
  for (size_t i = 0; i < n_extra; i++) rcpt = curl_slist_append(rcpt, extra[i]);
  struct upload up = { msg, len, 0 };
  struct tkt_curl_probe probe;
  tkt_smtp_curl_setup(c, url, user, password, tls_mode);
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, from_angle);
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, upload_read);
  curl_easy_setopt(c, CURLOPT_READDATA, &up);
  curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, timeout < 10 ? timeout : 10L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  tkt_curl_probe_attach(c, &probe);
  CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    char why[600];
    tkt_curl_error_text(rc, errbuf, &probe, password, why, sizeof why);
    snprintf(err, errlen, "SMTP: %s", why);
  }
  if (tls) *tls = probe.tls || !strncmp(url, "smtps://", 8) || (tls_mode && !strcmp(tls_mode, "implicit"));
  curl_slist_free_all(rcpt);
  curl_easy_cleanup(c);
  return rc == CURLE_OK ? 0 : -1;
}

/* Whom mail about a ticket comes from, and through which server: the mailbox the ticket came in on (its From,
 * its name, its SMTP server when it has one), else the settings (mail.from, mail.from_name, mail.smtp_*). A
 * mailbox without its own From address sends as mail.from; without a name, with mail.from_name. Strings owned. */
struct sender {
  int64_t mailbox_id;   /* 0: the settings */
  char *from, *from_name, *smtp_url, *smtp_user, *smtp_password, *smtp_tls;
};

static char *dup_or_empty(const char *v)
{
  char *d = strdup(v ? v : "");
  if (!d) abort();
  return d;
}

static char *setting_or_empty(const char *name)
{
  char *v = tkt_setting_new(name);
  if (!v) v = strdup("");
  if (!v) abort();
  return v;
}

/* Loads the sender of mail about ticket_id (its mailbox's, else the settings'). */
static void sender_load(struct destek_db *db, int64_t ticket_id, struct sender *s)
{
  memset(s, 0, sizeof *s);
  sqlite3_stmt *st = tkt_db_prepare(db, "SELECT b.id, b.from_address, b.from_name, b.smtp_url, b.smtp_user,"
                                    " b.smtp_password, b.smtp_tls FROM tkt_tickets t"
                                    " JOIN tkt_mailboxes b ON b.id = t.mailbox_id WHERE t.id = ?1");
  if (st) {
    tkt_db_bind(st, "i", ticket_id);
    if (sqlite3_step(st) == SQLITE_ROW) {
      s->mailbox_id = sqlite3_column_int64(st, 0);
      const char *from = (const char *)sqlite3_column_text(st, 1), *name = (const char *)sqlite3_column_text(st, 2);
      if (from && *from) s->from = dup_or_empty(from);
      if (name && *name) s->from_name = dup_or_empty(name);
      const char *url = (const char *)sqlite3_column_text(st, 3);
      if (url && *url) {
        s->smtp_url = dup_or_empty(url);
        s->smtp_user = dup_or_empty((const char *)sqlite3_column_text(st, 4));
        s->smtp_password = dup_or_empty((const char *)sqlite3_column_text(st, 5));
        s->smtp_tls = dup_or_empty((const char *)sqlite3_column_text(st, 6));
      }
    }
    tkt_db_done(st);
  }
  if (!s->from) s->from = setting_or_empty("mail.from");
  if (!s->from_name) s->from_name = setting_or_empty("mail.from_name");
  if (!s->smtp_url) {
    s->smtp_url = setting_or_empty("mail.smtp_url");
    s->smtp_user = setting_or_empty("mail.smtp_user");
    s->smtp_password = setting_or_empty("mail.smtp_password");
    s->smtp_tls = setting_or_empty("mail.smtp_tls");
  }
}

static void sender_free(struct sender *s)
{
  free(s->from);
  free(s->from_name);
  free(s->smtp_url);
  free(s->smtp_user);
  free(s->smtp_password);
  free(s->smtp_tls);
}

/* --- composing --- */

/* The Message-IDs threading a mail about ticket_id: In-Reply-To is the customer's last message (else our last
 * mail), References the ticket's ids oldest first (at most 20, the newest). The arrays are the caller's. */
struct thread_ids {
  char *in_reply_to;
  char *refs[20];
  size_t refs_count;
};

/* The Message-IDs of a thread with several customers (parts.c) that are customer_id's: of the mail they sent, and
 * of the mail sent to them (a message of their part, or another mail sent to email), in the thread's tickets. */
#define PART_MAIL_IDS \
  "WITH RECURSIVE tree(id) AS (SELECT ?1 UNION SELECT t.id FROM tkt_tickets t JOIN tree ON t.merged_into = tree.id)" \
  " SELECT i.message_id_header, i.id, i.direction FROM tree JOIN tkt_mail_ids i ON i.ticket_id = tree.id" \
  " LEFT JOIN tkt_messages m ON m.id = i.message_id" \
  " LEFT JOIN tkt_tickets p ON p.id = coalesce(m.part_ticket_id, m.ticket_id)" \
  " WHERE i.message_id_header <> ?2 AND (p.customer_id = ?3 OR (m.id IS NULL AND EXISTS (SELECT 1" \
  "   FROM tkt_mail_out o WHERE o.ticket_id = i.ticket_id AND o.message_id_header = i.message_id_header" \
  "   AND o.to_address = ?4 COLLATE NOCASE)))"

/* Loads the ids of a mail about ticket_id to customer_id (at email). In a thread with several customers only that
 * customer's mail counts, so that nothing of another customer's part (not even its Message-IDs) reaches them. */
static void thread_ids_load(struct destek_db *db, int64_t ticket_id, int64_t customer_id, const char *email,
                            const char *except, struct thread_ids *t)
{
  memset(t, 0, sizeof *t);
  int several = tkt_thread_customers(db, ticket_id) > 1;
  sqlite3_stmt *st;
  if (several) {
    t->in_reply_to = tkt_db_text_new(db, "SELECT message_id_header FROM (" PART_MAIL_IDS ")"
                                     " ORDER BY direction = 'in' DESC, id DESC LIMIT 1", "itit", ticket_id, except,
                                 customer_id, email);
    st = tkt_db_prepare(db, "SELECT message_id_header FROM (SELECT message_id_header, id FROM (" PART_MAIL_IDS ")"
                        " ORDER BY id DESC LIMIT 20) ORDER BY id");
  } else {
    t->in_reply_to = tkt_db_text_new(db, "SELECT message_id_header FROM tkt_mail_ids WHERE ticket_id = ?1 AND"
                                     " message_id_header <> ?2 ORDER BY direction = 'in' DESC, id DESC LIMIT 1", "it",
                                 ticket_id, except);
    st = tkt_db_prepare(db, "SELECT message_id_header FROM (SELECT message_id_header, id FROM"
                        " tkt_mail_ids WHERE ticket_id = ?1 AND message_id_header <> ?2"
                        " ORDER BY id DESC LIMIT 20) ORDER BY id");
  }
  if (!st) return;
  if (several) tkt_db_bind(st, "itit", ticket_id, except, customer_id, email);
  else tkt_db_bind(st, "it", ticket_id, except);
  while (t->refs_count < 20 && sqlite3_step(st) == SQLITE_ROW) {
    t->refs[t->refs_count] = strdup((const char *)sqlite3_column_text(st, 0));
    if (!t->refs[t->refs_count]) abort();
    t->refs_count++;
  }
  tkt_db_done(st);
}

static void thread_ids_free(struct thread_ids *t)
{
  free(t->in_reply_to);
  for (size_t i = 0; i < t->refs_count; i++) free(t->refs[i]);
}

static void attachments_dir(char *out, size_t outlen)
{
  snprintf(out, outlen, "%s/attachments", tkt_data_dir());
}

/* The files of message_id as outgoing attachments (data read from disk). Fills *count; NULL when none.
 * 0, or -1 (err) when a file cannot be read. Free with attachments_free. */
static int attachments_load(struct destek_db *db, int64_t message_id, struct mail_attachment **out, size_t *count,
                            char *err, size_t errlen)
{
  *out = NULL;
  *count = 0;
  sqlite3_stmt *st = tkt_db_prepare(db, "SELECT filename, content_type, storage, size FROM tkt_attachments"
                                    " WHERE message_id = ?1 ORDER BY id");
  if (!st) { snprintf(err, errlen, "cannot read the attachments"); return -1; }
  tkt_db_bind(st, "i", message_id);
  char dir[4096];
  attachments_dir(dir, sizeof dir);
  int rc = 0;
  while (sqlite3_step(st) == SQLITE_ROW) {
    struct mail_attachment *grown = realloc(*out, (*count + 1) * sizeof **out);
    if (!grown) abort();
    *out = grown;
    struct mail_attachment *a = &(*out)[*count];
    memset(a, 0, sizeof *a);
    (*count)++;
    a->filename = strdup((const char *)sqlite3_column_text(st, 0));
    a->content_type = strdup((const char *)sqlite3_column_text(st, 1));
    if (!a->filename || !a->content_type) abort();
    size_t size = (size_t)sqlite3_column_int64(st, 3);
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, (const char *)sqlite3_column_text(st, 2));
    a->data = malloc(size + 1);
    if (!a->data) abort();
    FILE *f = fopen(path, "rb");
    if (!f || fread(a->data, 1, size, f) != size) {
      snprintf(err, errlen, "attachment %s cannot be read", a->filename);
      rc = -1;
    }
    if (f) fclose(f);
    a->size = size;
    if (rc) break;
  }
  tkt_db_done(st);
  return rc;
}

static void attachments_free(struct mail_attachment *a, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    free(a[i].filename);
    free(a[i].content_type);
    free(a[i].data);
  }
  free(a);
}

/* --- delivery --- */

static const char *json_str(const cJSON *o, const char *name)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Whom a mail goes to and what it is about, when that is not the event's ticket and its customer: a message in
 * another customer's part of a thread (parts.c) goes to that customer, about their own ticket. Strings: the
 * caller frees them (part_mail_free). */
struct part_mail {
  int64_t ticket_id, customer_id;
  char *email, *name, *lang, *reference, *subject;
};

/* Fills pm when message_id belongs to the part of a customer other than ticket_id's; 0 when it does, else -1. */
static int part_mail_load(struct destek_db *db, int64_t ticket_id, int64_t message_id, struct part_mail *pm)
{
  memset(pm, 0, sizeof *pm);
  sqlite3_stmt *st = tkt_db_prepare(db, "SELECT p.id, c.id, c.email, c.name, c.lang, '#' || p.reference, p.subject"
                                    " FROM tkt_messages m"
                                    " JOIN tkt_tickets p ON p.id = coalesce(m.part_ticket_id, m.ticket_id)"
                                    " JOIN core_contacts c ON c.id = p.customer_id WHERE m.id = ?1"
                                    " AND p.customer_id <> (SELECT customer_id FROM tkt_tickets WHERE id = ?2)");
  if (!st) return -1;
  tkt_db_bind(st, "ii", message_id, ticket_id);
  int rc = -1;
  if (sqlite3_step(st) == SQLITE_ROW) {
    pm->ticket_id = sqlite3_column_int64(st, 0);
    pm->customer_id = sqlite3_column_int64(st, 1);
    char **fields[] = { &pm->email, &pm->name, &pm->lang, &pm->reference, &pm->subject };
    for (int i = 0; i < 5; i++) {
      const char *v = (const char *)sqlite3_column_text(st, 2 + i);
      *fields[i] = v ? strdup(v) : NULL;
      if (v && !*fields[i]) abort();
    }
    rc = 0;
  }
  tkt_db_done(st);
  return rc;
}

static void part_mail_free(struct part_mail *pm)
{
  free(pm->email);
  free(pm->name);
  free(pm->lang);
  free(pm->reference);
  free(pm->subject);
}

/* An acknowledgement goes to an address anyone may type into the web form (or forge as a mail's sender): at most
 * mail.ack_limit of them an hour go to one address, counted as core_rate_hits of kind "tkt.ack". */
#define ACK_WINDOW 3600

/* Records the first attempt of a mail: its tkt_mail_out row with the Message-ID it will carry, and that id for
 * threading, in one transaction on the writer. For an acknowledgement the address's hourly allowance is taken in
 * the same step (so that one burst cannot get past it, and a retry never counts twice); without one the row is
 * "withheld" and *withheld set. 0, or -1 with err. */
static int first_attempt_record(const struct destek_event *ev, const char *kind, int64_t ticket_id,
                                int64_t message_id, const char *to, const char *mid, int *withheld, char *err,
                                size_t errlen)
{
  *withheld = 0;
  long limit = !strcmp(kind, "ack") ? tkt_setting_int("mail.ack_limit", 3) : 0, wait = 0;
  char now[21], why[200] = "";
  tkt_now(now);
  struct destek_req *c = tkt_call_new();   /* a transaction of its own: it stays when the bus call rolls back */
  struct destek_db *w = tkt_db_write(c);
  int rc = w ? 0 : -1;
  if (rc == 0 && limit > 0) {
    char key[256];   /* one mailbox, however its address is capitalised */
    size_t i = 0;
    for (; to[i] && i < sizeof key - 1; i++) key[i] = (char)tolower((unsigned char)to[i]);
    key[i] = 0;
    int64_t hit = tkt_rate_take(c, "tkt.ack", key, limit, ACK_WINDOW, &wait);
    if (hit < 0) rc = -1;
    if (hit == 0) {
      *withheld = 1;
      snprintf(why, sizeof why, "not sent: %ld acknowledgements went to this address in the last hour (mail.ack_limit)",
               limit);
    }
  }
  if (rc == 0 &&
      tkt_db_exec(w, "INSERT INTO tkt_mail_out(event_id, kind, ticket_id, message_id, to_address, message_id_header,"
                 " status, last_error, created_at, updated_at) VALUES (?1, ?2, ?3, nullif(?4, 0), ?5, ?6, ?7,"
                 " nullif(?8, ''), ?9, ?9)", "itiittttt", ev->id, kind, ticket_id, message_id, to, mid,
              *withheld ? "withheld" : "sending", why, now) != SQLITE_OK)
    rc = -1;
  if (rc == 0 && !*withheld &&
      tkt_db_exec(w, "INSERT OR IGNORE INTO tkt_mail_ids(message_id_header, ticket_id, message_id, direction, created_at)"
                 " VALUES (?1, ?2, nullif(?3, 0), 'out', ?4)", "tiit", mid, ticket_id, message_id, now) != SQLITE_OK)
    rc = -1;
  if (rc) tkt_log(DESTEK_LOG_ERROR, "mail: cannot record a delivery: %s", w ? tkt_db_errmsg(w) : "no writer");
  if (tkt_call_end(c, rc == 0) != 0 && rc == 0) {
    tkt_log(DESTEK_LOG_ERROR, "mail: cannot record a delivery: the commit failed");
    rc = -1;
  }
  if (rc) snprintf(err, errlen, "cannot record the mail");
  return rc;
}

/* Mails the customer of the event's ticket: kind is ack, reply, solved or merged; message_id the reply's message
 * (0 otherwise), which goes to the customer whose part of the thread it is. The bus contract: 0 when done (or
 * nothing to do), non-zero with err to be retried. */
static int mail_deliver(struct destek_req *call, const struct destek_event *ev, const char *kind,
                        int64_t message_id, int automatic, char *err, size_t errlen)
{
  const cJSON *p = ev->payload;
  const cJSON *customer = cJSON_GetObjectItemCaseSensitive(p, "customer");
  const cJSON *idj = cJSON_GetObjectItemCaseSensitive(p, "id"), *cidj = cJSON_GetObjectItemCaseSensitive(customer, "id");
  if (!cJSON_IsNumber(idj)) return 0;
  int64_t ticket_id = (int64_t)idj->valuedouble;
  struct destek_db *db = tkt_db_read(call);
  struct part_mail pm;
  int in_part = message_id && part_mail_load(db, ticket_id, message_id, &pm) == 0;
  const char *to = in_part ? pm.email : json_str(customer, "email");
  const char *reference = in_part ? pm.reference : json_str(p, "reference") ? json_str(p, "reference") : "";
  int64_t about = in_part ? pm.ticket_id : ticket_id;
  int64_t to_customer = in_part ? pm.customer_id : cJSON_IsNumber(cidj) ? (int64_t)cidj->valuedouble : 0;
  /* From the mailbox the ticket came in on (the part's ticket after a merge, else the thread's). */
  struct sender snd;
  int64_t sender_ticket = about;
  if (in_part && !tkt_db_int(db, 0, "SELECT mailbox_id IS NOT NULL FROM tkt_tickets WHERE id = ?1", "i", about))
    sender_ticket = ticket_id;
  sender_load(db, sender_ticket, &snd);
  const char *smtp_url = snd.smtp_url, *from = snd.from;
  int rc = 0;
  if (!to || !*to) goto out;   /* a customer without an address is not mailed */
  if (!*smtp_url || !*from) {
    tkt_log(DESTEK_LOG_INFO, "mail: not configured (mail.smtp_url, mail.from); %s for %s not sent",
                  kind, *reference ? reference : "?");
    goto out;
  }
  char *mid = tkt_db_text_new(db, "SELECT message_id_header FROM tkt_mail_out WHERE event_id = ?1 AND kind = ?2",
                          "it", ev->id, kind);
  if (mid && tkt_db_int(db, 0, "SELECT status IN ('sent', 'withheld') FROM tkt_mail_out WHERE event_id = ?1 AND kind = ?2",
                    "it", ev->id, kind)) {
    free(mid);
    goto out;   /* sent (or withheld) by an earlier attempt whose bookkeeping was lost */
  }
  char now[21];
  if (!mid) {
    mid = mail_message_id_new(from);
    if (!mid) abort();
    int withheld;
    if (first_attempt_record(ev, kind, ticket_id, message_id, to, mid, &withheld, err, errlen) != 0) {
      free(mid);
      rc = -1;
      goto out;
    }
    if (withheld) {
      tkt_log(DESTEK_LOG_WARN, "mail: %s for %s to %s withheld: mail.ack_limit reached for the hour",
                    kind, json_str(p, "reference") ? json_str(p, "reference") : "?", to);
      free(mid);
      goto out;
    }
  }

  char *link = tkt_ticket_link_new(db, about, reference);
  char *body = NULL, *body_html_raw = NULL, *body_html = NULL;
  struct mail_attachment *atts = NULL;
  size_t atts_count = 0;
  if (message_id) {
    body = tkt_db_text_new(db, "SELECT body FROM tkt_messages WHERE id = ?1", "i", message_id);
    body_html_raw = tkt_db_text_new(db, "SELECT body_html FROM tkt_messages WHERE id = ?1", "i", message_id);
    if (body_html_raw && *body_html_raw) body_html = mail_html_sanitize_new(body_html_raw, NULL, 0);
    rc = attachments_load(db, message_id, &atts, &atts_count, err, errlen);
  }
  const cJSON *source = cJSON_GetObjectItemCaseSensitive(p, "source");
  char *notice = !strcmp(kind, "ack")
    ? tkt_db_text_new(db, "SELECT group_concat(body, char(10) || char(10)) FROM (SELECT body FROM tkt_messages"
                      " WHERE ticket_id = ?1 AND mail_with_ack = 1 ORDER BY id)", "i", ticket_id)
    : NULL;
  struct mail_tpl_vars vars = {
    in_part ? pm.lang : json_str(customer, "lang"), in_part ? pm.name : json_str(customer, "name"), reference,
    in_part ? pm.subject : json_str(p, "subject"), link, body, body_html, json_str(source, "reference"), notice
  };
  char *subject = NULL, *text = NULL, *html = NULL;
  char *msg = NULL;
  size_t msg_len = 0;
  struct thread_ids th;
  thread_ids_load(db, ticket_id, to_customer, to, mid, &th);
  /* A reply's CC (in the header and the envelope) and BCC (the envelope only). */
  cJSON *ccj = NULL, *bccj = NULL;
  if (message_id && !strcmp(kind, "reply")) {
    char *c1 = tkt_db_text_new(db, "SELECT cc FROM tkt_messages WHERE id = ?1", "i", message_id);
    char *c2 = tkt_db_text_new(db, "SELECT bcc FROM tkt_messages WHERE id = ?1", "i", message_id);
    ccj = c1 ? cJSON_Parse(c1) : NULL;
    bccj = c2 ? cJSON_Parse(c2) : NULL;
    free(c1);
    free(c2);
  }
  struct mail_address cc_addr[10];
  const char *extra[20];
  size_t n_cc = 0, n_extra = 0;
  const cJSON *ca;
  cJSON_ArrayForEach(ca, ccj)
    if (cJSON_IsString(ca) && n_cc < 10) {
      cc_addr[n_cc].name = NULL;
      cc_addr[n_cc++].address = ca->valuestring;
      extra[n_extra++] = ca->valuestring;
    }
  cJSON_ArrayForEach(ca, bccj)
    if (cJSON_IsString(ca) && n_extra < 20) extra[n_extra++] = ca->valuestring;
  if (rc == 0 && mail_tpl_render(kind, &vars, &subject, &text, &html) == 0) {
    const char *from_name = snd.from_name;
    /* An acknowledgement carries nothing the sender typed, not even as the recipient's display name. */
    struct mail_address to_addr = { strcmp(kind, "ack") ? (char *)(in_part ? pm.name : json_str(customer, "name")) : NULL,
                                    (char *)to };
    if (to_addr.name && !*to_addr.name) to_addr.name = NULL;
    struct mail_outgoing out = { 0 };
    out.from.name = *from_name ? (char *)from_name : NULL;
    out.from.address = (char *)from;
    out.to = &to_addr;
    out.to_count = 1;
    out.cc = n_cc ? cc_addr : NULL;
    out.cc_count = n_cc;
    out.subject = subject;
    out.message_id = mid;
    out.in_reply_to = th.in_reply_to;
    out.references = (const char *const *)th.refs;
    out.references_count = th.refs_count;
    out.text = text;
    out.html = html;
    out.attachments = atts;
    out.attachments_count = atts_count;
    out.auto_submitted = automatic;
    msg = mail_compose_new(&out, &msg_len);
    if (!msg) { snprintf(err, errlen, "the mail could not be composed"); rc = -1; }
  } else if (rc == 0) {
    snprintf(err, errlen, "no template for %s", kind);
    rc = -1;
  }
  if (rc == 0) {
    rc = smtp_send_all(smtp_url, snd.smtp_user, snd.smtp_password, snd.smtp_tls, from, to, extra, n_extra, msg, msg_len,
                       120L, NULL, err, errlen);
    tkt_mail_status_record("smtp", rc == 0, err);
  }

  tkt_now(now);
  if (rc == 0) {
    tkt_write_now("UPDATE tkt_mail_out SET status = 'sent', attempts = attempts + 1, last_error = NULL, updated_at = ?3,"
              " sent_at = ?3 WHERE event_id = ?1 AND kind = ?2", "itt", ev->id, kind, now);
    struct destek_req *sc = tkt_call_new();   /* a count of its own: the bus call may yet roll back */
    struct destek_db *sw = tkt_db_write(sc);
    tkt_call_end(sc, sw && tkt_mail_status_bump(sw, "smtp") == 0);
  } else {
    long limit = tkt_setting_int("events.retry_limit", 10);
    int dead = ev->attempt >= limit;
    tkt_write_now("UPDATE tkt_mail_out SET status = ?3, attempts = attempts + 1, last_error = ?4, updated_at = ?5"
              " WHERE event_id = ?1 AND kind = ?2", "ittt" "t", ev->id, kind, dead ? "dead" : "sending", err, now);
    tkt_log(dead ? DESTEK_LOG_ERROR : DESTEK_LOG_WARN, "mail: %s for %s to %s failed (attempt %d%s): %s",
                  kind, reference, to, ev->attempt, dead ? ", giving up" : "", err);
  }
  thread_ids_free(&th);
  cJSON_Delete(ccj);
  cJSON_Delete(bccj);
  free(msg);
  free(subject);
  free(text);
  free(html);
  attachments_free(atts, atts_count);
  free(body);
  free(body_html_raw);
  free(body_html);
  free(notice);
  free(link);
  free(mid);
out:
  if (in_part) part_mail_free(&pm);
  sender_free(&snd);
  return rc;
}

/* Which emissions the mail subscribers act on, decided from the payload as the event is emitted: the others cost
 * no delivery row and no delivery (most new tickets come with no acknowledgement to send, most messages are not
 * replies). The subscribers check the same again. */
static int wants_ack(const struct destek_event *ev, void *ud)
{
  (void)ud;
  return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ev->payload, "ack_needed"));
}

static int wants_reply(const struct destek_event *ev, void *ud)
{
  (void)ud;
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(ev->payload, "message");
  const cJSON *kind = cJSON_GetObjectItemCaseSensitive(m, "kind");
  return cJSON_IsString(kind) && !strcmp(kind->valuestring, "reply") &&
         cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(m, "id"));
}

static int wants_merged(const struct destek_event *ev, void *ud)
{
  (void)ud;
  return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ev->payload, "notify_customer"));
}

static int on_ticket_created(struct destek_req *call, const struct destek_event *ev, void *ud, char *err,
                             size_t errlen)
{
  (void)ud;
  if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ev->payload, "ack_needed"))) return 0;
  return mail_deliver(call, ev, "ack", 0, 1, err, errlen);
}

static int on_message_added(struct destek_req *call, const struct destek_event *ev, void *ud, char *err,
                            size_t errlen)
{
  (void)ud;
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(ev->payload, "message");
  const cJSON *id = cJSON_GetObjectItemCaseSensitive(m, "id");
  const char *kind = json_str(m, "kind");
  if (!kind || strcmp(kind, "reply") || !cJSON_IsNumber(id)) return 0;
  /* A reply on another channel (chat, WhatsApp) goes through that channel's sender (sending.c), not by mail. */
  if (tkt_db_int(tkt_db_read(call), 0, "SELECT via IS NOT NULL FROM tkt_messages WHERE id = ?1", "i",
                 (int64_t)id->valuedouble))
    return 0;
  /* A reply no agent wrote (a trigger's automatic answer) is marked Auto-Submitted, so that the customer's own
   * auto-responder does not answer it (RFC 3834). */
  int automatic = !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(m, "author_user_id"));
  /* An automatic reply said as the ticket opened is in the acknowledgement already. */
  if (automatic && tkt_db_int(tkt_db_read(call), 0, "SELECT mail_with_ack FROM tkt_messages WHERE id = ?1", "i",
                          (int64_t)id->valuedouble))
    return 0;
  return mail_deliver(call, ev, "reply", (int64_t)id->valuedouble, automatic, err, errlen);
}

static int on_ticket_solved(struct destek_req *call, const struct destek_event *ev, void *ud, char *err,
                            size_t errlen)
{
  (void)ud;
  return mail_deliver(call, ev, "solved", 0, 1, err, errlen);
}

static int on_ticket_merged(struct destek_req *call, const struct destek_event *ev, void *ud, char *err,
                            size_t errlen)
{
  (void)ud;
  if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ev->payload, "notify_customer"))) return 0;
  return mail_deliver(call, ev, "merged", 0, 1, err, errlen);
}

/* GET /api/v1/tickets/{id}/mail-status: every mail sent (or being sent) about the ticket, oldest first. */
static int mail_status_get(struct destek_req *r)
{
  int64_t ticket_id = tkt_param_int(r, "id");
  struct destek_db *db = tkt_db_read(r);
  if (!tkt_db_int(db, 0, "SELECT count(*) FROM tkt_tickets WHERE id = ?1", "i", ticket_id))
    return tkt_error(r, 404, "not_found", "no such ticket");
  sqlite3_stmt *st = tkt_db_prepare(db, "SELECT id, kind, message_id, to_address, message_id_header, status, attempts,"
                                    " last_error, created_at, updated_at, sent_at FROM tkt_mail_out"
                                    " WHERE ticket_id = ?1 ORDER BY id");
  if (!st) return tkt_error(r, 500, "internal", "internal error");
  tkt_db_bind(st, "i", ticket_id);
  cJSON *items = cJSON_CreateArray();
  while (sqlite3_step(st) == SQLITE_ROW) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(st, 0));
    cJSON_AddStringToObject(o, "kind", (const char *)sqlite3_column_text(st, 1));
    if (sqlite3_column_type(st, 2) == SQLITE_NULL || !sqlite3_column_int64(st, 2)) cJSON_AddNullToObject(o, "message_id");
    else cJSON_AddNumberToObject(o, "message_id", (double)sqlite3_column_int64(st, 2));
    cJSON_AddStringToObject(o, "to", (const char *)sqlite3_column_text(st, 3));
    cJSON_AddStringToObject(o, "message_id_header", (const char *)sqlite3_column_text(st, 4));
    cJSON_AddStringToObject(o, "status", (const char *)sqlite3_column_text(st, 5));
    cJSON_AddNumberToObject(o, "attempts", sqlite3_column_int(st, 6));
    if (sqlite3_column_type(st, 7) == SQLITE_NULL) cJSON_AddNullToObject(o, "last_error");
    else cJSON_AddStringToObject(o, "last_error", (const char *)sqlite3_column_text(st, 7));
    cJSON_AddStringToObject(o, "created_at", (const char *)sqlite3_column_text(st, 8));
    cJSON_AddStringToObject(o, "updated_at", (const char *)sqlite3_column_text(st, 9));
    if (sqlite3_column_type(st, 10) == SQLITE_NULL) cJSON_AddNullToObject(o, "sent_at");
    else cJSON_AddStringToObject(o, "sent_at", (const char *)sqlite3_column_text(st, 10));
    cJSON_AddItemToArray(items, o);
  }
  tkt_db_done(st);
  return tkt_reply_json(r, 200, tkt_list_new(items, 0));
}

static const struct destek_route mail_routes[] = {
  { "GET", "/api/v1/tickets/{id}/mail-status", mail_status_get, DESTEK_AGENT, "id:int", 0 },
  { 0 }
};

int tkt_mail_init(const struct destek_host *host)
{
  if (host->settings(host, mail_settings) != 0 || host->routes(host, mail_routes) != 0) return -1;
  int filtered = DESTEK_HOST_HAS(host, on_when);
  if ((filtered ? host->on_when(host, "ticket.created", DESTEK_ASYNC, on_ticket_created, wants_ack, NULL)
                : host->on(host, "ticket.created", DESTEK_ASYNC, on_ticket_created, NULL)) != 0 ||
      (filtered ? host->on_when(host, "message.added", DESTEK_ASYNC, on_message_added, wants_reply, NULL)
                : host->on(host, "message.added", DESTEK_ASYNC, on_message_added, NULL)) != 0 ||
      host->on(host, "ticket.solved", DESTEK_ASYNC, on_ticket_solved, NULL) != 0 ||
      (filtered ? host->on_when(host, "ticket.merged", DESTEK_ASYNC, on_ticket_merged, wants_merged, NULL)
                : host->on(host, "ticket.merged", DESTEK_ASYNC, on_ticket_merged, NULL)) != 0)
    return -1;
  return tkt_mail_in_init(host) != 0 || tkt_mail_imap_init(host) != 0 || tkt_mailboxes_init(host) != 0 ? -1 : 0;
}
