/* The e-mail channel of ticketing: outbound mail on ticket events (mail_out.c) and its templates
 * (mail_templates.c). Internal to plugins/ticketing. */
#ifndef TKT_MAIL_H
#define TKT_MAIL_H

#include <curl/curl.h>

#include "destek.h"

/* What a template is filled with. Strings are UTF-8; NULL reads as "". */
struct mail_tpl_vars {
  const char *lang;        /* "tr" or "en" (anything else: "tr") */
  const char *name;        /* the customer's name; "" greets without a name (the acknowledgement never uses it) */
  const char *reference;   /* "#1042" */
  const char *subject;     /* the ticket's subject (the acknowledgement has its own) */
  const char *link;        /* the signed link that follows the ticket, or NULL */
  const char *body_text;   /* the agent's reply (kind "reply") */
  const char *body_html;   /* the agent's reply as HTML, or NULL (then body_text is escaped) */
  const char *source_reference; /* kind "merged": the reference of the ticket merged in */
  const char *notice;      /* kind "ack": automatic replies said as the ticket opened (out of hours), or NULL */
};

/* Renders kind ("ack", "reply", "solved", "merged") into a subject with "[#ref]", a text body and an HTML body,
 * each for the caller to free. 0, or -1 for an unknown kind. */
int mail_tpl_render(const char *kind, const struct mail_tpl_vars *v, char **subject, char **text, char **html);

/* Registers the mail settings, the outbound subscribers and the mail-status route. 0 or -1. */
int tkt_mail_init(const struct destek_host *host);

/* Files one raw message (len bytes) in call c's transaction (begun here; the caller commits with call_end): see
 * mail_in.c. source is "cli" or "imap". Returns {"result": "created"|"threaded"|"bounce"|"auto_reply"|"duplicate"|
 * "unparsed", "ticket_id", "reference", "unparsed_id"} for the caller to free, or NULL with err (nothing to
 * commit). A message that cannot be filed is kept raw (result "unparsed"): only a database failure returns NULL. */
cJSON *tkt_mail_ingest(struct destek_req *c, const char *raw, size_t len, const char *source, char *err,
                       size_t errlen);
/* Where an inbound message came from: a saved mailbox routes the tickets it opens (team_id 0: none; tags: an array
 * of checked tags, or NULL). Replies threaded into existing tickets are not rerouted. */
struct tkt_mail_origin {
  int64_t team_id;
  const cJSON *tags;
  int64_t mailbox_id;   /* the saved mailbox (0: the settings mailbox): the tickets it opens are answered from it */
};
/* tkt_mail_ingest for a message from origin (NULL: no routing). */
cJSON *tkt_mail_ingest_from(struct destek_req *c, const char *raw, size_t len, const char *source,
                            const struct tkt_mail_origin *origin, char *err, size_t errlen);
/* mail_in.c: the admin's unparsed-mail routes (`destek mail import` is in commands.c). 0 or -1. */
int tkt_mail_in_init(const struct destek_host *host);
/* mail_imap.c: the IMAP polling job (the settings mailbox and every active row of tkt_mailboxes). 0 or -1. */
int tkt_mail_imap_init(const struct destek_host *host);

/* --- libcurl set-up shared by sending/polling and the connection tests (mail_test.c) --- */
/* How a mail connection uses TLS (mail.smtp_tls, mail.imap_tls, a mailbox's smtp_tls/imap_tls):
 *   "auto"     the URL's scheme decides (smtps/imaps: TLS from the start; else STARTTLS when the server offers it,
 *              for SMTP only when logging in) — what Destek did before the choice existed;
 *   "starttls" STARTTLS, required: a server that does not offer it is refused;
 *   "implicit" TLS from the first byte (the scheme becomes smtps/imaps);
 *   "none"     never TLS; refused for a host that is not loopback unless mail.allow_plaintext is set.
 * TKT_TLS_MODES lists them (NULL-terminated, for tkt_field_enum). */
extern const char *const TKT_TLS_MODES[];
int tkt_tls_mode_ok(const char *tls);
/* Whether tls may be used for url (a known mode; "none" only as above). 0, or -1 with err. */
int tkt_tls_check(const char *url, const char *tls, char *err, size_t errlen);
/* The URL to connect to for tls: url with its scheme set by the mode (implicit: smtps/imaps; starttls, none:
 * smtp/imap; auto or NULL: unchanged). Caller frees. */
char *tkt_tls_url_new(const char *url, const char *tls);
/* CURLOPT_USE_SSL for tls, and the CAs of mail.tls_ca when set; auto_try: what "auto" means here (CURLUSESSL_TRY when set, libcurl's default else). */
void tkt_tls_curl_setup(CURL *c, const char *tls, int auto_try);
/* Options of an SMTP transfer to url with TLS mode tls (NULL: auto): protocols smtp/smtps, the login when user is
 * not empty, no signals. Timeouts are the caller's. */
void tkt_smtp_curl_setup(CURL *c, const char *url, const char *user, const char *password, const char *tls);
/* Sends msg (len bytes, CRLF lines) from from to to through url with the given login and TLS mode (NULL: auto),
 * within timeout seconds. *tls (may be NULL) says whether the connection was encrypted. 0, or -1 with the reason
 * in err (also when the TLS mode is not allowed for url). */
int tkt_smtp_send(const char *url, const char *user, const char *password, const char *tls_mode, const char *from,
                  const char *to, const char *msg, size_t len, long timeout, int *tls, char *err, size_t errlen);
/* Options of an IMAP session: protocols imap/imaps, the login when user is not empty, TLS by mode tls (NULL: auto,
 * STARTTLS when offered). The URL is the caller's (tkt_tls_url_new). */
void tkt_imap_curl_setup(CURL *c, const char *user, const char *password, const char *tls);
/* The mailbox named by url's path ("INBOX", decoded, without ";UIDVALIDITY=..." and the like) and the URL of the
 * server alone. Both for the caller to free; -1 with err when the name cannot be sent in a command. */
int tkt_imap_split_mailbox(const char *url, char **server, char **mailbox, char *err, size_t errlen);
/* Checks an IMAP URL: imap:// or imaps://, a host, no user or password inside it. Returns the URL to use (caller
 * frees): without trailing '/', and ending in "/INBOX" when it names no mailbox; or NULL with err. */
char *tkt_imap_url_new(const char *url, char *err, size_t errlen);
/* Checks an SMTP URL: smtp:// or smtps:// and a host. 0, or -1 with err. */
int tkt_smtp_url_check(const char *url, char *err, size_t errlen);

/* What a connection said, for errors a person can act on: the server's last refusal (SMTP "535 ...", IMAP
 * "A002 NO ...", "* BYE ...") and whether TLS was used. Attach before curl_easy_perform; the handle must outlive nothing else.
 * Lines we send are never looked at (they carry the login). */
struct tkt_curl_probe {
  char last[300];
  int tls;
};
void tkt_curl_probe_attach(CURL *c, struct tkt_curl_probe *p);
/* A failed transfer as one line of text: libcurl's error buffer (or the code's text), then the server's last reply
 * when that adds something; password (may be NULL) is blanked out wherever it appears. */
void tkt_curl_error_text(CURLcode rc, const char *errbuf, const struct tkt_curl_probe *p, const char *password,
                         char *out, size_t outlen);

/* A server's answer collected in memory by CURLOPT_WRITEFUNCTION tkt_curl_answer_write (WRITEDATA the struct):
 * NUL-terminated, at most max bytes; past that the transfer stops and too_big is set. The caller frees data. */
struct tkt_curl_answer {
  char *data;
  size_t len, max;
  int too_big;
};
size_t tkt_curl_answer_write(char *p, size_t size, size_t n, void *answer);

#define TKT_MAILBOXES_MAX 50

/* --- mail_status.c: what the channel last did (tkt_mail_status) --- */
/* Records an attempt on channel ("smtp", "imap", "mailbox:<id>"): ok, or failed with error (kept without
 * passwords by the caller). Writes in a transaction of its own: call it without holding the writer. */
void tkt_mail_status_record(const char *channel, int ok, const char *error);
/* Adds one to channel's count in w's open transaction (a message filed commits with its count). 0 or -1. */
int tkt_mail_status_bump(struct destek_db *w, const char *channel);
/* {last_attempt_at, ok, last_success_at, last_error, last_error_at, <count_name>} of channel (nulls and 0 when
 * nothing happened yet). */
cJSON *tkt_mail_status_json(struct destek_db *db, const char *channel, const char *attempt_name, const char *count_name);

/* mail_imap.c: adds the UIDVALIDITY bookkeeping of channel to o: {uidvalidity, uidvalidity_previous,
 * uidvalidity_changed_at, uidvalidity_changes, resyncing} (nulls, 0 and false before the first poll). */
void tkt_mail_imap_state_add(struct destek_db *db, const char *channel, cJSON *o);

/* --- mail_test.c: "test connection" --- */
/* Logs in to the IMAP server and examines the mailbox of url (checked by tkt_imap_url_new). Fills out with
 * {"ok":true,"mailbox","messages","unseen","tls"} or {"ok":false,"error"}. Returns within about 15 s. */
void tkt_imap_test(const char *url, const char *user, const char *password, const char *tls, cJSON *out);
/* Connects to the SMTP server (EHLO, STARTTLS, AUTH when user is set) without sending; with send_to, sends a test
 * mail from from in lang instead. Fills out like tkt_imap_test ({"ok":true,"tls","auth"[,"sent_to"]}). */
void tkt_smtp_test(const char *url, const char *user, const char *password, const char *tls, const char *from,
                   const char *from_name, const char *send_to, const char *lang, cJSON *out);
/* mailboxes.c: /api/v1/mailboxes, /api/v1/mail/status, /api/v1/mail/test. 0 or -1. */
int tkt_mailboxes_init(const struct destek_host *host);

#endif
