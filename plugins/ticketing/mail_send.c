/* mail_send.c — the service `ticketing.mail_send`: mail another module asks the desk to send to a customer (a
 * survey, a review request), through the desk's own mail settings (mail.from, mail.from_name, mail.smtp_*).
 *
 * Ticketing owns the SMTP settings and the libcurl set-up, so a module that mails a customer asks it here instead of
 * keeping SMTP of its own. The service only queues: it schedules a one-shot timer of kind "ticketing.mail_send"
 * keyed by the caller's key, in the caller's transaction, so the mail exists exactly when the caller's change
 * commits, and the same key queued twice is one mail. The timer sends on the background thread, outside any
 * transaction (the writer never waits on the SMTP server), and is retried with backoff when the server fails.
 * A crash between the server's "250 OK" and the timer's end sends it once more (at least once).
 *
 * Arguments: {key, to, to_name?, subject, text, html?, auto_submitted?}; key is "<module>:<what>" (at most 200
 * bytes), to an e-mail address. Answer: {queued: true, key}. 422 invalid_field for a bad argument; 503
 * mail_not_configured when mail.smtp_url or mail.from is empty (nothing is queued: the caller decides). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host.h"
#include "destek_mail.h"
#include "mail_tkt.h"
#include "tkt.h"

static const char *str_arg(const cJSON *o, const char *name)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static char *setting_str(const char *name)
{
  char *v = tkt_setting_new(name);
  if (!v) v = strdup("");
  if (!v) abort();
  return v;
}

/* Queues args (the service's arguments) with the files attachment_ids (tkt_attachments ids; NULL: none), which only
 * ticketing's own callers give (the forward): the service never takes ids from its arguments. */
int tkt_mail_queue(struct destek_req *call, const cJSON *args, const cJSON *attachment_ids, cJSON **result)
{
  const char *key = str_arg(args, "key"), *to = str_arg(args, "to"), *subject = str_arg(args, "subject");
  const char *text = str_arg(args, "text"), *html = str_arg(args, "html"), *to_name = str_arg(args, "to_name");
  if (!key || !*key || strlen(key) > 200 || !strchr(key, ':'))
    return tkt_field_error(call, "invalid_field", "key", "key must be \"<module>:<what>\" (at most 200 bytes)");
  if (!to || !*to || strlen(to) > 254 || !strchr(to, '@') || strpbrk(to, " <>\r\n,;\""))
    return tkt_field_error(call, "invalid_field", "to", "to must be one e-mail address");
  if (!subject || !*subject || strlen(subject) > 500 || strpbrk(subject, "\r\n"))
    return tkt_field_error(call, "invalid_field", "subject", "subject is required (one line, at most 500 bytes)");
  if (!text || !*text || strlen(text) > 200000)
    return tkt_field_error(call, "invalid_field", "text", "text is required (at most 200 kB)");
  if (html && strlen(html) > 400000)
    return tkt_field_error(call, "invalid_field", "html", "html may be at most 400 kB");
  if (to_name && (strlen(to_name) > 200 || strpbrk(to_name, "\r\n")))
    return tkt_field_error(call, "invalid_field", "to_name", "to_name is one line of at most 200 bytes");
  char *url = setting_str("mail.smtp_url"), *from = setting_str("mail.from");
  int configured = *url && *from;
  free(url);
  free(from);
  if (!configured)
    return tkt_error(call, 503, "mail_not_configured", "mail.smtp_url and mail.from must be set to send mail");
  cJSON *payload = cJSON_CreateObject();
  cJSON_AddStringToObject(payload, "to", to);
  if (to_name && *to_name) cJSON_AddStringToObject(payload, "to_name", to_name);
  cJSON_AddStringToObject(payload, "subject", subject);
  cJSON_AddStringToObject(payload, "text", text);
  if (html && *html) cJSON_AddStringToObject(payload, "html", html);
  const cJSON *auto_sub = cJSON_GetObjectItemCaseSensitive(args, "auto_submitted");
  cJSON_AddBoolToObject(payload, "auto_submitted", !cJSON_IsFalse(auto_sub));
  if (attachment_ids && cJSON_GetArraySize(attachment_ids))
    cJSON_AddItemToObject(payload, "attachment_ids", cJSON_Duplicate(attachment_ids, 1));
  if (tkt_timer_at(call, "ticketing.mail_send", key, (int64_t)time(NULL), payload) != 0)
    return tkt_error(call, 503, "unavailable", "the mail could not be queued");
  *result = cJSON_CreateObject();
  cJSON_AddBoolToObject(*result, "queued", 1);
  cJSON_AddStringToObject(*result, "key", key);
  return 0;
}

static int svc_mail_send(struct destek_req *call, const cJSON *args, cJSON **result, void *ud)
{
  (void)ud;
  return tkt_mail_queue(call, args, NULL, result);
}

/* The files named by ids (tkt_attachments ids) read from disk into *out; a file gone meanwhile (erased) is left
 * out, logged. */
static void files_load(struct destek_db *db, const cJSON *ids, struct mail_attachment **out, size_t *count)
{
  *out = NULL;
  *count = 0;
  sqlite3_stmt *st = db ? tkt_db_prepare(db, "SELECT filename, content_type, storage, size FROM tkt_attachments WHERE id = ?1") : NULL;
  if (!st) return;
  const cJSON *v;
  cJSON_ArrayForEach(v, ids) {
    if (!cJSON_IsNumber(v)) continue;
    sqlite3_reset(st);
    tkt_db_bind(st, "i", (int64_t)v->valuedouble);
    if (sqlite3_step(st) != SQLITE_ROW) continue;
    size_t size = (size_t)sqlite3_column_int64(st, 3);
    char path[4200];
    snprintf(path, sizeof path, "%s/attachments/%s", tkt_data_dir(), (const char *)sqlite3_column_text(st, 2));
    unsigned char *data = malloc(size + 1);
    if (!data) abort();
    FILE *f = fopen(path, "rb");
    int ok = f && fread(data, 1, size, f) == size;
    if (f) fclose(f);
    if (!ok) {
      tkt_log(DESTEK_LOG_WARN, "mail: attachment %s cannot be read; sent without it", (const char *)sqlite3_column_text(st, 0));
      free(data);
      continue;
    }
    struct mail_attachment *grown = realloc(*out, (*count + 1) * sizeof **out);
    if (!grown) abort();
    *out = grown;
    struct mail_attachment *a = &(*out)[(*count)++];
    memset(a, 0, sizeof *a);
    a->filename = strdup((const char *)sqlite3_column_text(st, 0));
    a->content_type = strdup((const char *)sqlite3_column_text(st, 1));
    if (!a->filename || !a->content_type) abort();
    a->data = data;
    a->size = size;
  }
  tkt_db_done(st);
}

/* Sends one queued mail (no transaction is open: nothing here writes). Non-zero: retried later. */
static int mail_send_timer(struct destek_req *call, const char *key, const cJSON *payload, void *ud)
{
  (void)ud;
  char *url = setting_str("mail.smtp_url"), *user = setting_str("mail.smtp_user");
  char *password = setting_str("mail.smtp_password"), *tls = setting_str("mail.smtp_tls");
  char *from = setting_str("mail.from"), *from_name = setting_str("mail.from_name");
  int rc = 0;
  if (!*url || !*from) {
    tkt_log(DESTEK_LOG_WARN, "mail: %s not sent: mail.smtp_url or mail.from is empty (dropped)", key);
    goto out;
  }
  struct mail_address to_addr = { (char *)str_arg(payload, "to_name"), (char *)str_arg(payload, "to") };
  if (!to_addr.address) goto out;
  struct mail_outgoing m = { 0 };
  m.from.name = *from_name ? from_name : NULL;
  m.from.address = from;
  m.to = &to_addr;
  m.to_count = 1;
  m.subject = str_arg(payload, "subject");
  m.text = str_arg(payload, "text");
  m.html = str_arg(payload, "html");
  m.auto_submitted = !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(payload, "auto_submitted"));
  struct mail_attachment *files = NULL;
  size_t files_count = 0;
  const cJSON *ids = cJSON_GetObjectItemCaseSensitive(payload, "attachment_ids");
  if (cJSON_IsArray(ids)) files_load(tkt_db_read(call), ids, &files, &files_count);
  m.attachments = files;
  m.attachments_count = files_count;
  size_t len = 0;
  char *msg = mail_compose_new(&m, &len);
  for (size_t i = 0; i < files_count; i++) {
    free(files[i].filename);
    free(files[i].content_type);
    free(files[i].data);
  }
  free(files);
  if (!msg) {
    tkt_log(DESTEK_LOG_WARN, "mail: %s could not be composed (dropped)", key);
    goto out;
  }
  char err[700] = "";
  if (tkt_smtp_send(url, user, password, *tls ? tls : NULL, from, to_addr.address, msg, len, 30, NULL, err,
                    sizeof err) != 0) {
    tkt_log(DESTEK_LOG_WARN, "mail: %s to %s failed, will retry: %s", key, to_addr.address, err);
    rc = -1;
  }
  free(msg);
out:
  free(url);
  free(user);
  free(password);
  free(tls);
  free(from);
  free(from_name);
  return rc;
}

int tkt_mail_send_init(const struct destek_host *h)
{
  return h->service(h, "ticketing.mail_send", svc_mail_send, NULL) |
         h->timers(h, "ticketing.mail_send", mail_send_timer, NULL);
}
