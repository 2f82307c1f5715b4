/* The consent ledger and the core's send path (see consent.h). */
#include "consent.h"
#include "sms_report.h"

#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "bus.h"
#include "destek_text.h"
#include "contacts.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "lua_host.h"
#include "mail.h"
#include "net.h"
#include "services.h"
#include "settings.h"
#include "util.h"

#define error_set(r) ((r)->status >= 400)

static const char *const CHANNELS[] = { "email", "sms", "call", "whatsapp", NULL };
static const char *const STATUSES[] = { "ONAY", "RET", NULL };
static const char *const SOURCES[] = { "web_form", "checkout", "call_centre", "import", "iys", "unsubscribe_link",
                                       "reply", NULL };

#define SEND_BATCH 500
#define SMS_TEXT_MAX 800   /* bytes of an SMS's text before the refusal line (a long SMS of a few parts) */
#define SMS_CHUNK 25
#define IMPORT_MAX 10000   /* rows of one consent.import */       /* SMS handed to the gateway adapter in one call, their outcomes committed after it */
#define SEND_MAX_ATTEMPTS 8

static int one_of(const char *v, const char *const *list)
{
  if (!v) return 0;
  for (int i = 0; list[i]; i++) if (!strcmp(v, list[i])) return 1;
  return 0;
}

/* "2026-12-04T20:45:47Z" -> time_t, or -1. */
static time_t iso_parse(const char *s)
{
  struct tm tm;
  memset(&tm, 0, sizeof tm);
  if (!s || strlen(s) != 20) return -1;
  const char *end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (!end || *end) return -1;
  return timegm(&tm);
}

/* Turkey time (UTC+3 all year since 2016) for people to read: "04.12.2026 23:45:47 (UTC+03:00)". */
static void tr_time(const char *iso, char out[40])
{
  time_t t = iso_parse(iso);
  if (t < 0) { snprintf(out, 40, "%s", iso ? iso : ""); return; }
  t += 3 * 3600;
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, 40, "%d.%m.%Y %H:%M:%S (UTC+03:00)", &tm);
}

/* --- the state --- */

static int state_on(struct db *db, int64_t contact_id, const char *channel)
{
  if (!db || !one_of(channel, CHANNELS)) return 0;
  if (db_int(db, 0, "SELECT count(*) FROM core_contacts WHERE id = ?1 AND erased_at IS NULL AND merged_into IS NULL",
             "i", contact_id) != 1)
    return 0;
  char *s = db_text_new(db, "SELECT status FROM core_consent WHERE channel = ?2 AND contact_id IN"
                            " (SELECT id FROM core_contacts WHERE id = ?1 OR merged_into = ?1)"
                            " ORDER BY at DESC, status = 'RET' DESC, id DESC LIMIT 1", "it", contact_id, channel);
  int on = s && !strcmp(s, "ONAY");
  free(s);
  return on;
}

int consent_state(struct destek_req *call, int64_t contact_id, const char *channel)
{
  struct db *db = call ? http_db(call) : db_reader();
  return state_on(db, contact_id, channel);
}

static cJSON *record_json(sqlite3_stmt *st)
{
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(st, 0));
  cJSON_AddNumberToObject(o, "contact_id", (double)sqlite3_column_int64(st, 1));
  const char *names[] = { "channel", "status", "source", "text_shown", "address", "ip", "recorded_by", "at",
                          "recorded_at", "erased_at" };
  for (int i = 0; i < 10; i++) {
    if (sqlite3_column_type(st, 2 + i) == SQLITE_NULL) cJSON_AddNullToObject(o, names[i]);
    else cJSON_AddStringToObject(o, names[i], (const char *)sqlite3_column_text(st, 2 + i));
  }
  char tr[40];
  tr_time((const char *)sqlite3_column_text(st, 9), tr);
  cJSON_AddStringToObject(o, "at_tr", tr);
  return o;
}

cJSON *consent_export_new(struct db *db, int64_t contact_id)
{
  cJSON *arr = cJSON_CreateArray();
  sqlite3_stmt *st = db ? db_prepare(db, "SELECT id, contact_id, channel, status, source, text_shown, address, ip,"
                                         " recorded_by, at, recorded_at, erased_at FROM core_consent WHERE contact_id IN"
                                         " (SELECT id FROM core_contacts WHERE id = ?1 OR merged_into = ?1)"
                                         " ORDER BY at, id") : NULL;
  if (!st) return arr;
  db_bind(st, "i", contact_id);
  while (sqlite3_step(st) == SQLITE_ROW) cJSON_AddItemToArray(arr, record_json(st));
  db_done(st);
  return arr;
}

/* {email: {status, at, at_tr, source} | null, sms: ..., call: ..., whatsapp: ...}: the latest record of each. */
static cJSON *state_json(struct db *db, int64_t contact_id)
{
  cJSON *o = cJSON_CreateObject();
  int live = db_int(db, 0, "SELECT count(*) FROM core_contacts WHERE id = ?1 AND erased_at IS NULL", "i",
                    contact_id) == 1;
  for (int i = 0; CHANNELS[i]; i++) {
    sqlite3_stmt *st = db_prepare(db, "SELECT status, at, source FROM core_consent WHERE channel = ?2 AND contact_id IN"
                                      " (SELECT id FROM core_contacts WHERE id = ?1 OR merged_into = ?1)"
                                      " ORDER BY at DESC, status = 'RET' DESC, id DESC LIMIT 1");
    if (!st) continue;
    db_bind(st, "it", contact_id, CHANNELS[i]);
    if (sqlite3_step(st) == SQLITE_ROW) {
      cJSON *c = cJSON_CreateObject();
      const char *status = (const char *)sqlite3_column_text(st, 0);
      cJSON_AddStringToObject(c, "status", live ? status : "RET");
      cJSON_AddBoolToObject(c, "may_send_commercial", live && !strcmp(status, "ONAY"));
      cJSON_AddStringToObject(c, "at", (const char *)sqlite3_column_text(st, 1));
      char tr[40];
      tr_time((const char *)sqlite3_column_text(st, 1), tr);
      cJSON_AddStringToObject(c, "at_tr", tr);
      cJSON_AddStringToObject(c, "source", (const char *)sqlite3_column_text(st, 2));
      cJSON_AddItemToObject(o, CHANNELS[i], c);
    } else {
      cJSON_AddNullToObject(o, CHANNELS[i]);
    }
    db_done(st);
  }
  return o;
}

/* --- recording --- */

static char *sms_footer_new(int en);

/* The same-day confirmation of an SMS consent given electronically: a service SMS to the number, with the free way to
 * refuse (RET to 3338). Without the sms.* settings the refusal line needs, it is not queued (logged). 0 or -1. */
static int confirm_sms(struct db *w, int64_t contact_id, const char *phone, time_t now)
{
  char *lang = db_text_new(w, "SELECT lang FROM core_contacts WHERE id = ?1", "i", contact_id);
  int en = lang && !strcmp(lang, "en");
  free(lang);
  char *footer = sms_footer_new(en);
  if (!footer) {
    log_warn("consent", "no confirmation SMS for contact %lld's consent: set sms.trade_name, sms.mersis and"
             " sms.ret_keyword", (long long)contact_id);
    return 0;
  }
  char *body = NULL, now_iso[21];
  if (asprintf(&body, en ? "We recorded your consent to receive commercial SMS from us at this number.\n%s"
                         : "Bu numaraya ticari SMS gönderilmesine onay verdiğinizi kaydettik.\n%s", footer) < 0)
    abort();
  free(footer);
  util_iso_time(now, now_iso);
  int rc = db_exec(w, "INSERT INTO core_messages(contact_id, channel, to_addr, subject, body, commercial, sender,"
                      " created_at) VALUES (?1, 'sms', ?2, '', ?3, 0, 'core', ?4)", "ittt", contact_id, phone, body,
                   now_iso);
  free(body);
  return rc == SQLITE_OK ? 0 : -1;
}

/* Consent collected electronically (a web form, the checkout) for e-mail gets a confirmation the same day, saying what
 * was agreed to and how to refuse, free (a service message with its own one-click unsubscribe link). Not for a record
 * of an older ONAY (an import of the past). 0 or -1. */
static int confirm_queue(struct db *w, int64_t contact_id, const char *channel, const char *status, const char *source,
                         const char *text_shown, const char *address, const char *at, time_t now)
{
  if (strcmp(status, "ONAY") || (strcmp(channel, "email") && strcmp(channel, "sms")) ||
      (strcmp(source, "web_form") && strcmp(source, "checkout")) || !address || !*address || iso_parse(at) < now - 86400)
    return 0;
  if (!strcmp(channel, "sms")) return confirm_sms(w, contact_id, address, now);
  char token[48], now_iso[21], url[600];
  util_token(token, 24);
  util_iso_time(now, now_iso);
  const char *base = http_base_url();
  snprintf(url, sizeof url, "%s/u/%s", base ? base : "", token);
  char *lang = db_text_new(w, "SELECT lang FROM core_contacts WHERE id = ?1", "i", contact_id);
  int en = lang && !strcmp(lang, "en");
  free(lang);
  char *body = NULL;
  if (en ? asprintf(&body, "Hello,\n\nwe recorded your consent to receive commercial e-mail from us at %s. The text"
                           " you agreed to:\n\n\"%s\"\n\nIf this was not you, or you changed your mind, refuse free"
                           " of charge with one click: %s\n", address, text_shown ? text_shown : "", url)
         : asprintf(&body, "Merhaba,\n\n%s adresine ticari elektronik ileti gönderilmesine onay verdiğinizi kaydettik."
                           " Onayladığınız metin:\n\n\"%s\"\n\nBu onayı siz vermediyseniz ya da fikrinizi"
                           " değiştirdiyseniz, tek tıkla ve ücretsiz olarak ret hakkınızı kullanabilirsiniz: %s\n",
                           address, text_shown ? text_shown : "", url) < 0)
    abort();
  int rc = db_exec(w, "INSERT INTO core_messages(contact_id, channel, to_addr, subject, body, commercial, unsub_token,"
                      " sender, created_at) VALUES (?1, 'email', ?2, ?3, ?4, 0, ?5, 'core', ?6)", "itttt" "t",
                   contact_id, address, en ? "Your consent to commercial e-mail" : "Ticari ileti onayınız alındı",
                   body, token, now_iso);
  free(body);
  return rc == SQLITE_OK ? 0 : -1;
}

int64_t consent_record(struct destek_req *call, int64_t contact_id, const char *channel, const char *status,
                       const char *source, const char *text_shown, const char *address, const char *ip,
                       const char *at)
{
  if (!one_of(channel, CHANNELS))
    return http_field_error(call, "invalid_field", "channel", "channel is email, sms, call or whatsapp"), 0;
  if (!one_of(status, STATUSES)) return http_field_error(call, "invalid_field", "status", "status is ONAY or RET"), 0;
  if (!one_of(source, SOURCES))
    return http_field_error(call, "invalid_field", "source",
                            "source is web_form, checkout, call_centre, import, iys, unsubscribe_link or reply"), 0;
  if (!strcmp(status, "ONAY") && (!text_shown || !*text_shown))
    return http_field_error(call, "missing_field", "text_shown", "an ONAY needs the text the person was shown"), 0;
  if (text_shown && strlen(text_shown) > 20000)
    return http_field_error(call, "invalid_field", "text_shown", "text_shown is at most 20000 bytes"), 0;
  if (ip && (strlen(ip) > 45 || strspn(ip, "0123456789abcdefABCDEF.:") != strlen(ip)))
    return http_field_error(call, "invalid_field", "ip", "ip is an IPv4 or IPv6 address"), 0;
  time_t now = time(NULL);
  char now_iso[21];
  util_iso_time(now, now_iso);
  if (at && *at) {
    time_t t = iso_parse(at);
    if (t < 0) return http_field_error(call, "invalid_field", "at", "at is a UTC time like 2026-12-04T20:45:47Z"), 0;
    if (t > now + 300) return http_field_error(call, "invalid_field", "at", "at is in the future"), 0;
  } else {
    at = now_iso;
  }
  struct db *w = http_tx(call);
  if (!w) return 0;
  if (!db_int(w, 0, "SELECT count(*) FROM core_contacts WHERE id = ?1", "i", contact_id))
    return http_error(call, 404, "not_found", "no such contact"), 0;
  if (db_int(w, 0, "SELECT count(*) FROM core_contacts WHERE id = ?1 AND erased_at IS NOT NULL", "i", contact_id))
    return http_error(call, 409, "contact_erased", "this person was erased"), 0;
  int64_t into = db_int(w, 0, "SELECT merged_into FROM core_contacts WHERE id = ?1", "i", contact_id);
  if (into) contact_id = into;   /* a merged-away contact's consent is the survivor's */
  char norm[256];
  if (address && *address) {
    const char *kind = !strcmp(channel, "email") ? "email" : "phone";
    if (contacts_normalise(kind, address, norm, sizeof norm) != 0)
      return http_field_error(call, "invalid_field", "address",
                              !strcmp(kind, "email") ? "address is not an e-mail address" : "address is not a phone number"),
             0;
    address = norm;
  } else {
    char *a = db_text_new(w, !strcmp(channel, "email") ? "SELECT email FROM core_contacts WHERE id = ?1"
                                                        : "SELECT phone FROM core_contacts WHERE id = ?1", "i", contact_id);
    snprintf(norm, sizeof norm, "%s", a ? a : "");
    free(a);
    address = *norm ? norm : NULL;
  }
  char by[300];
  if (call->who.user_id) snprintf(by, sizeof by, "user:%lld", (long long)call->who.user_id);
  else if (!strcmp(source, "unsubscribe_link")) snprintf(by, sizeof by, "unsubscribe_link");
  else snprintf(by, sizeof by, "plugin:%s", call->service_caller ? call->service_caller
                                            : call->owner ? call->owner : "core");
  if (db_exec(w, "INSERT INTO core_consent(contact_id, channel, status, source, text_shown, address, ip, recorded_by,"
                 " at, recorded_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)", "itttttttt" "t", contact_id,
              channel, status, source, text_shown ? text_shown : "", address, ip && *ip ? ip : NULL, by, at,
              now_iso) != SQLITE_OK)
    return http_error(call, 500, "internal", "the consent could not be recorded"), 0;
  int64_t id = db_last_id(w);
  if (confirm_queue(w, contact_id, channel, status, source, text_shown, address, at, now) != 0)
    return http_error(call, 500, "internal", "the consent could not be recorded"), 0;
  call->emitted = 1;
  cJSON *payload = cJSON_CreateObject();
  cJSON_AddNumberToObject(payload, "id", (double)id);
  cJSON_AddNumberToObject(payload, "contact_id", (double)contact_id);
  cJSON_AddStringToObject(payload, "channel", channel);
  cJSON_AddStringToObject(payload, "source", source);
  cJSON_AddStringToObject(payload, "at", at);
  char subject[40];
  snprintf(subject, sizeof subject, "contact:%lld", (long long)contact_id);
  if (bus_emit(call, !strcmp(status, "ONAY") ? "consent.granted" : "consent.revoked", subject, payload) != 0)
    return error_set(call) ? 0 : (http_error(call, 500, "internal", "the consent could not be recorded"), 0);
  return id;
}

/* --- KVKK erasure --- */

int consent_erase(struct db *w, int64_t contact_id, const char *now)
{
  return db_exec(w, "UPDATE core_consent SET address = NULL, ip = NULL, erased_at = ?2 WHERE erased_at IS NULL AND"
                    " contact_id IN (SELECT id FROM core_contacts WHERE id = ?1 OR merged_into = ?1)", "it",
                 contact_id, now) == SQLITE_OK &&
                 db_exec(w, "DELETE FROM core_mail_bounces WHERE contact_id IN"
                            " (SELECT id FROM core_contacts WHERE id = ?1 OR merged_into = ?1)", "i", contact_id)
                   == SQLITE_OK &&
                 db_exec(w, "UPDATE core_messages SET to_addr = '', subject = '', body = '', body_html = NULL,"
                            " bounce_error = NULL, status = CASE status"
                            " WHEN 'pending' THEN 'withheld' ELSE status END, last_error = CASE status WHEN 'pending'"
                            " THEN 'the person was erased' ELSE last_error END WHERE contact_id IN"
                            " (SELECT id FROM core_contacts WHERE id = ?1 OR merged_into = ?1)", "i", contact_id)
                   == SQLITE_OK
           ? 0 : -1;
}

/* --- the send path --- */

/* The refusal every commercial SMS carries (law 6563 art. 8; the SMS content rules: the trade name, MERSİS number and a
 * free way to refuse, here İYS's 3338 short number with the brand's keyword), in the contact's language. NULL when
 * the sms.* settings it needs are not set. */
static char *sms_footer_new(int en)
{
  char *trade = settings_get_new("sms.trade_name"), *mersis = settings_get_new("sms.mersis"),
       *kw = settings_get_new("sms.ret_keyword"), *out = NULL;
  if (trade && *trade && mersis && *mersis && kw && *kw &&
      (en ? asprintf(&out, "%s Mersis: %s. To stop these messages, free: text RET %s to 3338.", trade, mersis, kw)
          : asprintf(&out, "%s Mersis: %s. Ret için RET %s yazıp 3338'e ücretsiz SMS gönderin.", trade, mersis, kw)) < 0)
    abort();
  free(trade); free(mersis); free(kw);
  return out;
}

/* Queues a message on channel ("email" or "sms") to the contact's address of that channel; html: its sanitised HTML
 * alternative or NULL. */
static int64_t message_queue_clean(struct destek_req *call, const char *who, int64_t contact_id, const char *channel,
                                   int sms, const char *subject, const char *body, const char *html, int commercial)
{
  if (!call || !subject || (!sms && !*subject) || !body || !*body || strlen(subject) > 998 ||
      strlen(body) > (sms ? SMS_TEXT_MAX : (1u << 20)) || !util_utf8_valid(subject, strlen(subject)) ||
      !util_utf8_valid(body, strlen(body)) || strpbrk(subject, "\r\n"))
    return DESTEK_SEND_INVALID;
  struct db *w = http_tx(call);
  if (!w) return DESTEK_SEND_ERROR;
  int64_t into = db_int(w, 0, "SELECT merged_into FROM core_contacts WHERE id = ?1", "i", contact_id);
  if (into) contact_id = into;
  if (!db_int(w, 0, "SELECT count(*) FROM core_contacts WHERE id = ?1 AND erased_at IS NULL", "i", contact_id))
    return DESTEK_SEND_NO_CONTACT;
  char *to = db_text_new(w, sms ? "SELECT phone FROM core_contacts WHERE id = ?1"
                                : "SELECT email FROM core_contacts WHERE id = ?1", "i", contact_id);
  if (!to || !*to) { free(to); return DESTEK_SEND_NO_ADDRESS; }
  if (commercial && !state_on(w, contact_id, channel)) {
    log_warn("consent", "%s: a commercial %s to contact %lld was refused: no current ONAY for %s", who,
             sms ? "SMS" : "e-mail", (long long)contact_id, channel);
    free(to);
    return DESTEK_SEND_NO_CONSENT;
  }
  char *text = NULL;
  if (sms && commercial) {   /* the stored text is the text sent: the refusal is part of it */
    char *lang = db_text_new(w, "SELECT lang FROM core_contacts WHERE id = ?1", "i", contact_id);
    char *footer = sms_footer_new(lang && !strcmp(lang, "en"));
    free(lang);
    if (!footer) {
      log_warn("consent", "%s: a commercial SMS was refused: set sms.trade_name, sms.mersis and sms.ret_keyword", who);
      free(to);
      return DESTEK_SEND_NOT_CONFIGURED;
    }
    if (asprintf(&text, "%s\n%s", body, footer) < 0) abort();
    free(footer);
  }
  char token[48] = "", now[21];
  if (commercial && !sms) util_token(token, 24);
  util_iso_time(time(NULL), now);
  int rc = db_exec(w, "INSERT INTO core_messages(contact_id, channel, to_addr, subject, body, commercial, unsub_token,"
                      " sender, created_at, body_html) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)", "ittttitt" "tt",
                   contact_id, channel, to, subject, text ? text : body, (int64_t)(commercial ? 1 : 0),
                   *token ? token : NULL, who, now, html);
  free(to);
  free(text);
  if (rc != SQLITE_OK) return DESTEK_SEND_ERROR;
  call->emitted = 1;
  return db_last_id(w);
}

#define HTML_MAX (1u << 20)   /* bytes of an e-mail's HTML part as given */

/* As message_queue_clean; html (e-mail only, may be NULL) is the HTML alternative as given, sanitised here whoever
 * gives it (no script, no event handlers, no javascript: links); without a text body the text part is the
 * sanitised HTML's text rendering. */
static int64_t message_queue(struct destek_req *call, int64_t contact_id, const char *channel, const char *subject,
                             const char *body, const char *html, int commercial)
{
  const char *who = !call ? "core" : call->service_caller ? call->service_caller : call->owner ? call->owner : "core";
  int sms = !strcmp(channel, "sms");
  if (html && (sms || !*html || strlen(html) > HTML_MAX || !util_utf8_valid(html, strlen(html))))
    return DESTEK_SEND_INVALID;
  char *clean = html ? mail_html_sanitize_mail_new(html) : NULL, *derived = NULL;
  if (clean && (!body || !*body)) {   /* only HTML given: the text part is its rendering */
    derived = mail_html_to_text_new(clean);
    body = derived;
  }
  int64_t id = clean && strspn(clean, " \t\r\n") == strlen(clean)   /* nothing was left of it */
               ? DESTEK_SEND_INVALID
               : message_queue_clean(call, who, contact_id, channel, sms, subject, body, clean, commercial);
  free(clean);
  free(derived);
  return id;
}

int64_t consent_message_send(struct destek_req *call, int64_t contact_id, const char *subject, const char *body,
                             int commercial)
{
  return message_queue(call, contact_id, "email", subject, body, NULL, commercial);
}

int64_t consent_message_send_html(struct destek_req *call, int64_t contact_id, const char *subject, const char *body,
                                  const char *html, int commercial)
{
  return message_queue(call, contact_id, "email", subject, body, html, commercial);
}

int64_t consent_message_send_sms(struct destek_req *call, int64_t contact_id, const char *text, int commercial)
{
  return message_queue(call, contact_id, "sms", "", text, NULL, commercial);
}

/* {id, status, attempts, created_at, sent_at, last_error} of a message the calling module queued (new), or NULL. */
cJSON *consent_message_json_new(struct destek_req *call, int64_t message_id)
{
  const char *who = !call ? "core" : call->service_caller ? call->service_caller : call->owner ? call->owner : "core";
  struct db *db = call ? http_db(call) : db_reader();
  if (!db) return NULL;
  sqlite3_stmt *st = db_prepare(db, "SELECT status, attempts, created_at, sent_at, last_error, channel, gateway_ref,"
                                    " delivery, delivery_at, delivery_error FROM core_messages WHERE id = ?1 AND sender = ?2");
  if (!st) return NULL;
  db_bind(st, "it", message_id, who);
  cJSON *o = NULL;
  if (sqlite3_step(st) == SQLITE_ROW) {
    o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)message_id);
    cJSON_AddStringToObject(o, "status", (const char *)sqlite3_column_text(st, 0));
    cJSON_AddNumberToObject(o, "attempts", sqlite3_column_int(st, 1));
    const char *names[] = { NULL, NULL, "created_at", "sent_at", "last_error" };
    for (int i = 2; i < 5; i++) {
      if (sqlite3_column_type(st, i) == SQLITE_NULL) cJSON_AddNullToObject(o, names[i]);
      else cJSON_AddStringToObject(o, names[i], (const char *)sqlite3_column_text(st, i));
    }
    cJSON_AddStringToObject(o, "channel", (const char *)sqlite3_column_text(st, 5));
    if (sqlite3_column_type(st, 6) == SQLITE_NULL) cJSON_AddNullToObject(o, "gateway_ref");
    else cJSON_AddStringToObject(o, "gateway_ref", (const char *)sqlite3_column_text(st, 6));
    const char *dnames[] = { "delivery", "delivery_at", "delivery_error" };   /* SMS delivery reports (sms_report.c) */
    for (int i = 0; i < 3; i++) {
      if (sqlite3_column_type(st, 7 + i) == SQLITE_NULL) cJSON_AddNullToObject(o, dnames[i]);
      else cJSON_AddStringToObject(o, dnames[i], (const char *)sqlite3_column_text(st, 7 + i));
    }
  }
  db_done(st);
  return o;
}

struct sbuf { char *p; size_t n, cap; };

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
  if (b->n + n + 1 > b->cap) {
    b->cap = (b->n + n + 1) * 2;
    b->p = realloc(b->p, b->cap);
    if (!b->p) abort();
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = 0;
}
static void sb_str(struct sbuf *b, const char *s) { sb_add(b, s, strlen(s)); }

/* Subject and names as RFC 2047 encoded words of whole UTF-8 characters. */
static void sb_encoded_words(struct sbuf *b, const char *s)
{
  size_t n = strlen(s), i = 0;
  int ascii = 1;
  for (size_t k = 0; k < n; k++) if ((unsigned char)s[k] >= 0x80 || (unsigned char)s[k] < 0x20 || s[k] == '=' || s[k] == '?') ascii = 0;
  if (ascii && n < 900) { sb_str(b, s); return; }
  while (i < n) {
    size_t j = i + 45 < n ? i + 45 : n;
    while (j < n && j > i && ((unsigned char)s[j] & 0xC0) == 0x80) j--;
    char enc[80];
    size_t m = util_b64_encode(s + i, j - i, enc);
    enc[m] = 0;
    if (i) sb_str(b, "\r\n ");
    sb_str(b, "=?UTF-8?B?");
    sb_str(b, enc);
    sb_str(b, "?=");
    i = j;
  }
}

/* s with &, <, >, " escaped (a URL in the HTML part's refusal text). */
static char *html_escape_new(const char *s)
{
  struct sbuf b = { 0 };
  sb_add(&b, "", 0);
  for (; *s; s++) {
    switch (*s) {
    case '&': sb_str(&b, "&amp;"); break;
    case '<': sb_str(&b, "&lt;"); break;
    case '>': sb_str(&b, "&gt;"); break;
    case '"': sb_str(&b, "&quot;"); break;
    default: sb_add(&b, s, 1);
    }
  }
  return b.p;
}

static void sb_base64_lines(struct sbuf *b, const char *s, size_t n)
{
  for (size_t i = 0; i < n; i += 57) {
    size_t k = n - i < 57 ? n - i : 57;
    char enc[80];
    size_t m = util_b64_encode(s + i, k, enc);
    sb_add(b, enc, m);
    sb_str(b, "\r\n");
  }
}

struct pending {
  int64_t id, contact_id;
  int attempts, commercial, sms;
  char *to, *subject, *body, *token, *html;   /* html: NULL for text only */
  int en;               /* the contact's language is English (the refusal text's first language) */
  int result;           /* 0 sent, 1 failed (retry), 2 withheld (no consent any more), 3 not tried, 4 refused for
                         * good (an SMS gateway's final answer: failed without more attempts) */
  char ref[80];         /* SMS: the gateway's id for it */
  int recorded;         /* the outcome is written (record_outcomes) */
  int no_report;        /* SMS: the adapter has no delivery reports for it (report = false) */
  char created[16];     /* created_at's digits: with the id, a Message-ID that stays the same when it is re-sent */
  char error[300];
};

struct upload { const char *p; size_t len, at; };

static size_t upload_read(char *buf, size_t size, size_t n, void *ud)
{
  struct upload *u = ud;
  size_t left = u->len - u->at, want = size * n;
  if (want > left) want = left;
  memcpy(buf, u->p + u->at, want);
  u->at += want;
  return want;
}

static int loopback_url(const char *url)
{
  const char *h = strstr(url, "://");
  if (!h) return 0;
  h += 3;
  return !strncmp(h, "127.", 4) || !strncmp(h, "[::1]", 5) || !strncasecmp(h, "localhost", 9);
}

/* Writes the outcomes of p[0..n) not yet written and commits them at once: a crash re-sends only what the SMTP server
 * accepted since the last commit (at least once; the Message-ID stays the same, so a receiver can tell). */
static void record_outcomes(struct destek_req *call, struct pending *p, int n)
{
  struct db *w = http_tx(call);
  if (!w) return;
  char now[21];
  util_iso_time(time(NULL), now);
  for (int i = 0; i < n; i++) {
    struct pending *m = &p[i];
    if (m->recorded || m->result == 3) continue;
    m->recorded = 1;
    if (m->result == 0 && m->sms && *m->ref && !m->no_report)   /* its delivery report is asked for later (sms_report.c) */
      db_exec(w, "UPDATE core_messages SET status = 'sent', sent_at = ?2, attempts = attempts + 1, last_error = NULL,"
                 " gateway_ref = ?3, delivery = 'pending', report_next_at = ?4 WHERE id = ?1 AND status = 'pending'",
              "itti", m->id, now, m->ref, (int64_t)time(NULL) + sms_report_after());
    else if (m->result == 0)
      db_exec(w, "UPDATE core_messages SET status = 'sent', sent_at = ?2, attempts = attempts + 1, last_error = NULL,"
                 " gateway_ref = ?3 WHERE id = ?1 AND status = 'pending'", "itt", m->id, now, *m->ref ? m->ref : NULL);
    else if (m->result == 4)
      db_exec(w, "UPDATE core_messages SET status = 'failed', attempts = attempts + 1, last_error = ?2 WHERE id = ?1"
                 " AND status = 'pending'", "it", m->id, m->error);
    else if (m->result == 2)
      db_exec(w, "UPDATE core_messages SET status = 'withheld', last_error = ?2 WHERE id = ?1 AND status = 'pending'",
              "it", m->id, m->error);
    else if (m->result == 1) {
      int a = m->attempts + 1;
      int64_t next = (int64_t)time(NULL) + (a < 10 ? (1 << a) * 5 : 3600);
      db_exec(w, "UPDATE core_messages SET attempts = ?2, next_at = ?3, last_error = ?4,"
                 " status = CASE WHEN ?2 >= ?5 THEN 'failed' ELSE 'pending' END WHERE id = ?1 AND status = 'pending'",
              "iiiti", m->id, (int64_t)a, next, m->error, (int64_t)SEND_MAX_ATTEMPTS);
    }
  }
  http_commit(call);
}

/* The sender's SMTP connections (the sender thread only): SEND_CONNECTIONS libcurl handles in one multi handle, kept across
 * the messages of a backlog, so that a message costs one MAIL FROM/RCPT TO/DATA exchange on an open connection instead
 * of a TCP connection, greeting, EHLO, STARTTLS and QUIT each, and several messages are in flight at once (a server
 * answers one while it waits on another's round trip). Closed when the queue is drained, after a failure, and when the
 * mail.* settings change. Eight: a loopback aiosmtpd on a loaded 2-core box delivered ~300/s over 4, ~500/s over 8;
 * providers allow about this many concurrent connections per account. */
#define SEND_CONNECTIONS 8

struct smtp_pool {
  CURLM *multi;
  CURL *c[SEND_CONNECTIONS];
  char errbuf[SEND_CONNECTIONS][CURL_ERROR_SIZE];
  char *url, *user, *password, *tls;
};
static struct smtp_pool smtp;

static void smtp_close(void)
{
  for (int i = 0; i < SEND_CONNECTIONS; i++) {
    if (!smtp.c[i]) continue;
    if (smtp.multi) curl_multi_remove_handle(smtp.multi, smtp.c[i]);
    curl_easy_cleanup(smtp.c[i]);
  }
  if (smtp.multi) curl_multi_cleanup(smtp.multi);
  free(smtp.url); free(smtp.user); free(smtp.password); free(smtp.tls);
  memset(&smtp, 0, sizeof smtp);
}

static int same(const char *a, const char *b) { return !strcmp(a ? a : "", b ? b : ""); }

/* Opens (or keeps) the pool for the current mail.* settings: 0, or -1 with err set. */
static int smtp_open(char *err, size_t errlen)
{
  char *url = settings_get_new("mail.smtp_url"), *user = settings_get_new("mail.smtp_user"),
       *password = settings_get_new("mail.smtp_password"), *tls = settings_get_new("mail.smtp_tls");
  if (smtp.multi && same(url, smtp.url) && same(user, smtp.user) && same(password, smtp.password) &&
      same(tls, smtp.tls)) {
    free(url); free(user); free(password); free(tls);
    return 0;
  }
  smtp_close();
  if (!url || (strncmp(url, "smtp://", 7) && strncmp(url, "smtps://", 8))) {
    snprintf(err, errlen, "no SMTP server is set (mail.smtp_url)");
    free(url); free(user); free(password); free(tls);
    return -1;
  }
  if (net_curl_ready() != 0) {
    snprintf(err, errlen, "libcurl cannot start");
    free(url); free(user); free(password); free(tls);
    return -1;
  }
  smtp.url = url; smtp.user = user; smtp.password = password; smtp.tls = tls;
  smtp.multi = curl_multi_init();
  if (!smtp.multi) abort();
  curl_multi_setopt(smtp.multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)SEND_CONNECTIONS);
  int plain_ok = (tls && !strcmp(tls, "none")) || loopback_url(url);
  for (int i = 0; i < SEND_CONNECTIONS; i++) {
    CURL *c = smtp.c[i] = curl_easy_init();
    if (!c) abort();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    if (user && *user) {
      curl_easy_setopt(c, CURLOPT_USERNAME, user);
      curl_easy_setopt(c, CURLOPT_PASSWORD, password ? password : "");
    }
    curl_easy_setopt(c, CURLOPT_USE_SSL, plain_ok ? (long)CURLUSESSL_TRY : (long)CURLUSESSL_ALL);
    if (plain_ok && tls && !strcmp(tls, "none")) curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_NONE);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, upload_read);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(c, CURLOPT_MAXAGE_CONN, 30L);   /* a connection idle longer is not reused (servers drop them) */
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, smtp.errbuf[i]);
  }
  return 0;
}

/* One message for a handle of the pool. */
struct outgoing {
  struct pending *m;
  char *msg;
  struct upload up;
  struct curl_slist *rcpt;
  char from_angle[300];
};

static void outgoing_start(int slot, struct outgoing *o, const char *from)
{
  CURL *c = smtp.c[slot];
  snprintf(o->from_angle, sizeof o->from_angle, "<%s>", from);
  o->rcpt = curl_slist_append(NULL, o->m->to);
  smtp.errbuf[slot][0] = 0;
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, o->from_angle);
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, o->rcpt);
  curl_easy_setopt(c, CURLOPT_READDATA, &o->up);
  curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)o->up.len);
  curl_easy_setopt(c, CURLOPT_PRIVATE, (void *)(intptr_t)slot);
  curl_multi_add_handle(smtp.multi, c);
}

/* Sends the messages out[0..n) over the pool, up to SEND_CONNECTIONS at once; each message's result is 0 (sent) or 1
 * (failed, its error set). After the first failure no new message is started (they stay 3, not tried): an unreachable
 * server must not hold the sender long. Returns 0, or -1 when a message failed. */
#define RECORD_EVERY 16   /* outcomes written and committed every this many messages */

static int smtp_send_all(struct destek_req *call, struct pending *p, int np, struct outgoing *out, int n,
                         const char *from)
{
  int since = 0;
  char err[300];
  if (smtp_open(err, sizeof err) != 0) {
    for (int i = 0; i < n; i++) { out[i].m->result = 1; snprintf(out[i].m->error, sizeof out[i].m->error, "%s", err); }
    return n ? -1 : 0;
  }
  struct outgoing *busy[SEND_CONNECTIONS] = { 0 };
  int next = 0, running = 0, failed = 0;
  for (int s = 0; s < SEND_CONNECTIONS && next < n; s++) { busy[s] = &out[next++]; outgoing_start(s, busy[s], from); running++; }
  while (running > 0) {
    int still;
    if (curl_multi_perform(smtp.multi, &still) != CURLM_OK) break;
    CURLMsg *cm;
    int left;
    while ((cm = curl_multi_info_read(smtp.multi, &left))) {
      if (cm->msg != CURLMSG_DONE) continue;
      void *priv = NULL;
      curl_easy_getinfo(cm->easy_handle, CURLINFO_PRIVATE, &priv);
      int slot = (int)(intptr_t)priv;
      CURLcode cc = cm->data.result;
      curl_multi_remove_handle(smtp.multi, cm->easy_handle);
      struct outgoing *o = busy[slot];
      busy[slot] = NULL;
      running--;
      curl_easy_setopt(smtp.c[slot], CURLOPT_MAIL_RCPT, NULL);
      curl_slist_free_all(o->rcpt);
      o->rcpt = NULL;
      if (cc == CURLE_OK) {
        o->m->result = 0;
      } else {
        o->m->result = 1;
        snprintf(o->m->error, sizeof o->m->error, "SMTP: %s", *smtp.errbuf[slot] ? smtp.errbuf[slot] : curl_easy_strerror(cc));
        failed = 1;
      }
      if (!failed && next < n) { busy[slot] = &out[next++]; outgoing_start(slot, busy[slot], from); running++; }
      if (++since >= RECORD_EVERY) { record_outcomes(call, p, np); since = 0; }
    }
    if (running > 0 && curl_multi_poll(smtp.multi, NULL, 0, 1000, NULL) != CURLM_OK) break;
  }
  if (running > 0) {   /* the multi handle failed: what is in flight counts as failed */
    for (int s = 0; s < SEND_CONNECTIONS; s++) {
      if (!busy[s]) continue;
      busy[s]->m->result = 1;
      snprintf(busy[s]->m->error, sizeof busy[s]->m->error, "SMTP: the transfer was interrupted");
      curl_slist_free_all(busy[s]->rcpt);
      failed = 1;
    }
  }
  if (failed) smtp_close();   /* fresh connections for the next try */
  return failed ? -1 : 0;
}

static char *message_build(const struct pending *m, const char *from, const char *from_name, size_t *len)
{
  struct sbuf b = { 0 };
  char date[64], now_iso[21];
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  util_iso_time(now, now_iso);
  sb_str(&b, "From: ");
  if (from_name && *from_name) { sb_encoded_words(&b, from_name); sb_str(&b, " "); }
  sb_str(&b, "<"); sb_str(&b, from); sb_str(&b, ">\r\nTo: <"); sb_str(&b, m->to); sb_str(&b, ">\r\nSubject: ");
  sb_encoded_words(&b, m->subject);
  sb_str(&b, "\r\nDate: "); sb_str(&b, date);
  char mid[200];
  const char *dom = strchr(from, '@');
  snprintf(mid, sizeof mid, "\r\nMessage-ID: <msg-%lld-%s@%s>", (long long)m->id, m->created,
           dom ? dom + 1 : "destek.invalid");
  sb_str(&b, mid);
  /* multipart/alternative when there is HTML: the boundary is made of the Message-ID's parts (base64 cannot contain
   * "=_", so no body line can be the boundary) */
  char boundary[80];
  snprintf(boundary, sizeof boundary, "=_destek_%lld_%s", (long long)m->id, m->created);
  if (m->html) {
    sb_str(&b, "\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"");
    sb_str(&b, boundary);
    sb_str(&b, "\"\r\n");
  } else {
    sb_str(&b, "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n");
  }
  struct sbuf text = { 0 }, html = { 0 };
  sb_str(&text, m->body);
  if (m->html) sb_str(&html, m->html);
  const char *base = http_base_url();
  char url[600];
  snprintf(url, sizeof url, "%s/u/%s", base ? base : "", m->token);
  if (*m->token) {
    sb_str(&b, "List-Unsubscribe: <"); sb_str(&b, url); sb_str(&b, ">\r\n");
    sb_str(&b, "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n");
  }
  if (m->commercial) {
    sb_str(&b, "X-Destek-Message-Type: commercial\r\n");
    /* The free refusal (law 6563 art. 8) in both parts, the contact's language first. */
    static const char TR[] = "Bu ticari ileti onayınıza dayanarak gönderildi. Almak istemiyorsanız ücretsiz olarak"
                             " ret hakkınızı kullanabilirsiniz: ";
    static const char EN[] = "This commercial message was sent with your consent. To stop receiving them, free of charge: ";
    const char *first = m->en ? EN : TR, *second = m->en ? TR : EN;
    sb_str(&text, "\n\n--\n"); sb_str(&text, first); sb_str(&text, url);
    sb_str(&text, "\n"); sb_str(&text, second); sb_str(&text, url); sb_str(&text, "\n");
    if (m->html) {   /* the token is base64url and the base URL a setting: escaped all the same */
      char *eu = html_escape_new(url);
      sb_str(&html, "<hr><p style=\"font-size:12px;color:#555\" lang=\""); sb_str(&html, m->en ? "en" : "tr");
      sb_str(&html, "\">"); sb_str(&html, first);
      sb_str(&html, "<a href=\""); sb_str(&html, eu); sb_str(&html, "\">"); sb_str(&html, eu); sb_str(&html, "</a></p>");
      sb_str(&html, "<p style=\"font-size:12px;color:#555\" lang=\""); sb_str(&html, m->en ? "tr" : "en");
      sb_str(&html, "\">"); sb_str(&html, second);
      sb_str(&html, "<a href=\""); sb_str(&html, eu); sb_str(&html, "\">"); sb_str(&html, eu); sb_str(&html, "</a></p>");
      free(eu);
    }
  } else {
    /* RFC 3834: sent by a program, not a person (and no reply to one): out-of-office robots do not answer it */
    sb_str(&b, "X-Destek-Message-Type: service\r\nAuto-Submitted: auto-generated\r\n");
  }
  sb_str(&b, "\r\n");
  if (m->html) {
    sb_str(&b, "This is a multi-part message in MIME format.\r\n\r\n--"); sb_str(&b, boundary);
    sb_str(&b, "\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n");
    sb_base64_lines(&b, text.p, text.n);
    sb_str(&b, "\r\n--"); sb_str(&b, boundary);
    sb_str(&b, "\r\nContent-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n");
    struct sbuf doc = { 0 };
    sb_str(&doc, "<!doctype html><html lang=\""); sb_str(&doc, m->en ? "en" : "tr");
    sb_str(&doc, "\"><head><meta charset=\"utf-8\"></head><body>"); sb_add(&doc, html.p, html.n);
    sb_str(&doc, "</body></html>\n");
    sb_base64_lines(&b, doc.p, doc.n);
    free(doc.p);
    sb_str(&b, "\r\n--"); sb_str(&b, boundary); sb_str(&b, "--\r\n");
  } else {
    sb_base64_lines(&b, text.p, text.n);
  }
  free(text.p);
  free(html.p);
  *len = b.n;
  return b.p;
}

static void pending_free(struct pending *p, int n)
{
  for (int i = 0; i < n; i++) { free(p[i].to); free(p[i].subject); free(p[i].body); free(p[i].token); free(p[i].html); }
}

static char *col_dup(sqlite3_stmt *st, int i)
{
  const unsigned char *t = sqlite3_column_text(st, i);
  return util_strdup(t ? (const char *)t : "");
}

/* SMS through the gateway adapter, the Lua policy "sms.gateway:<sms.gateway>" (plugins/campaigns/sms.lua ships Netgsm;
 * a merchant's plugin may define another), SMS_CHUNK at a time: decide(name, "send", {messages = [{id, to, text,
 * commercial}]}) -> {results = [{id, ok, ref?, error?, final?}]}. The outcomes of each call are committed before the
 * next: a crash re-sends at most the messages of the call in flight (at least once; gateways take no idempotency key).
 * A message the adapter gives no answer for, or a failed adapter, is tried again later with backoff; final = true is
 * the gateway's refusal for good (a bad number, no İYS consent on the provider's side). 0, or -1 when the gateway
 * failed. The sender thread only, holding no transaction (the adapter makes HTTP requests). */
static int sms_send_all(struct destek_req *call, struct pending *p, int np, struct pending **t, int n)
{
  char *gw = settings_get_new("sms.gateway"), policy[120];
  snprintf(policy, sizeof policy, "sms.gateway:%s", gw && *gw ? gw : "netgsm");
  free(gw);
  if (!lua_host_has_policy(policy)) {
    for (int i = 0; i < n; i++) {
      t[i]->result = 1;
      snprintf(t[i]->error, sizeof t[i]->error, "no SMS gateway adapter %s is loaded (the sms.gateway setting)", policy);
    }
    log_warn("consent", "%d SMS wait: no SMS gateway adapter %s is loaded", n, policy);
    return -1;
  }
  int failed = 0;
  for (int at = 0; at < n && !failed; at += SMS_CHUNK) {
    int k = n - at < SMS_CHUNK ? n - at : SMS_CHUNK;
    cJSON *args = cJSON_CreateArray(), *data = cJSON_CreateObject(), *msgs = cJSON_CreateArray();
    cJSON_AddItemToArray(args, cJSON_CreateString("send"));
    cJSON_AddItemToArray(args, data);
    cJSON_AddItemToObject(data, "messages", msgs);
    for (int i = 0; i < k; i++) {
      struct pending *m = t[at + i];
      cJSON *o = cJSON_CreateObject();
      cJSON_AddNumberToObject(o, "id", (double)m->id);
      cJSON_AddStringToObject(o, "to", m->to);
      cJSON_AddStringToObject(o, "text", m->body);
      cJSON_AddBoolToObject(o, "commercial", m->commercial);
      cJSON_AddItemToArray(msgs, o);
    }
    cJSON *out = lua_host_decide_new(call, policy, args);
    cJSON_Delete(args);
    const cJSON *results = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(out, 0), "results");
    for (int i = 0; i < k; i++) {
      struct pending *m = t[at + i];
      const cJSON *r = NULL, *it;
      cJSON_ArrayForEach(it, results) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "id");
        if (cJSON_IsNumber(id) && (int64_t)id->valuedouble == m->id) { r = it; break; }
      }
      if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "ok"))) {
        const char *ref = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "ref"));
        m->result = 0;
        m->no_report = cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(r, "report"));
        snprintf(m->ref, sizeof m->ref, "%s", ref ? ref : "");
        continue;
      }
      const char *e = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "error"));
      m->result = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "final")) ? 4 : 1;
      snprintf(m->error, sizeof m->error, "SMS: %s", e ? e : !out ? "the gateway adapter failed (see the log)"
                                                          : "the gateway adapter gave no answer for it");
      if (!r) failed = 1;
    }
    cJSON_Delete(out);
    record_outcomes(call, p, np);
  }
  return failed ? -1 : 0;
}

/* The sender (its own thread, below): reads due messages without the writer, checks a commercial one's consent
 * again, sends over SMTP, then records every outcome in one short transaction. A crash between the send and the
 * record sends that message again (at least once). */
/* One round: up to SEND_BATCH due messages. The number handled, or -1 when the SMTP server failed (wait). */
static int send_round(struct destek_req *call)
{
  struct db *r = db_reader();
  if (!r) return 0;
  struct pending p[SEND_BATCH];
  int n = 0;
  sqlite3_stmt *st = db_prepare(r, "SELECT id, contact_id, attempts, commercial, to_addr, subject, body,"
                                   " coalesce(unsub_token, ''), created_at, channel = 'sms', body_html,"
                                   " (SELECT lang = 'en' FROM core_contacts WHERE id = core_messages.contact_id)"
                                   " FROM core_messages WHERE status = 'pending'"
                                   " AND next_at <= ?1 ORDER BY next_at, id LIMIT ?2");
  if (!st) return 0;
  db_bind(st, "ii", (int64_t)time(NULL), (int64_t)SEND_BATCH);
  while (n < SEND_BATCH && sqlite3_step(st) == SQLITE_ROW) {
    struct pending *m = &p[n++];
    memset(m, 0, sizeof *m);
    m->id = sqlite3_column_int64(st, 0);
    m->contact_id = sqlite3_column_int64(st, 1);
    m->attempts = sqlite3_column_int(st, 2);
    m->commercial = sqlite3_column_int(st, 3);
    m->to = col_dup(st, 4); m->subject = col_dup(st, 5); m->body = col_dup(st, 6); m->token = col_dup(st, 7);
    m->sms = sqlite3_column_int(st, 9);
    m->html = sqlite3_column_type(st, 10) == SQLITE_NULL ? NULL : col_dup(st, 10);
    m->en = sqlite3_column_int(st, 11);
    const char *c = (const char *)sqlite3_column_text(st, 8);
    size_t d = 0;
    for (; c && *c && d + 1 < sizeof m->created; c++) if (*c >= '0' && *c <= '9') m->created[d++] = *c;
    m->created[d] = 0;
  }
  db_done(st);
  if (!n) return 0;
  char *from = settings_get_new("mail.from"), *from_name = settings_get_new("mail.from_name");
  static struct outgoing out[SEND_BATCH];   /* the sender thread's alone */
  static struct pending *texts[SEND_BATCH];
  int k = 0, nt = 0;
  for (int i = 0; i < n; i++) {
    struct pending *m = &p[i];
    const char *channel = m->sms ? "sms" : "email";
    if (m->commercial && !state_on(r, m->contact_id, channel)) {
      m->result = 2;
      snprintf(m->error, sizeof m->error, "no current ONAY for %s when it was due", channel);
      log_warn("consent", "message %lld withheld: the contact's ONAY for %s is gone", (long long)m->id, channel);
      continue;
    }
    if (m->sms) { m->result = 3; texts[nt++] = m; continue; }
    if (m->commercial && db_int(r, 0, "SELECT count(*) FROM core_mail_bounces WHERE address = lower(?1)", "t", m->to)) {
      m->result = 2;   /* a hard bounce: the mailbox does not take mail; not tried again */
      snprintf(m->error, sizeof m->error, "the address bounced for good (a hard bounce): not tried again");
      continue;
    }
    if (!from || !*from) { m->result = 1; snprintf(m->error, sizeof m->error, "no sender address is set (mail.from)"); continue; }
    m->result = 3;
    struct outgoing *o = &out[k++];
    memset(o, 0, sizeof *o);
    o->m = m;
    o->msg = message_build(m, from, from_name, &o->up.len);
    o->up.p = o->msg;
  }
  int down = k ? smtp_send_all(call, p, n, out, k, from) != 0 : 0;
  if (nt) down |= sms_send_all(call, p, n, texts, nt) != 0;
  for (int i = 0; i < k; i++) {
    if (out[i].m->result == 1) log_warn("consent", "message %lld: %s", (long long)out[i].m->id, out[i].m->error);
    free(out[i].msg);
  }
  free(from); free(from_name);
  record_outcomes(call, p, n);
  pending_free(p, n);
  return down ? -1 : n;
}

/* The sender's own thread: rounds back to back, each committed, while there is something to send; when the queue is
 * drained it closes the SMTP connections and looks again every quarter of a second (an indexed read of nothing). Off
 * the bus thread, so a campaign's backlog neither delays event delivery nor waits behind it, and the module
 * queuing a campaign (a bus-thread timer) runs beside the sending on the other core. */
static pthread_t sender;
static int sender_running;
static pthread_mutex_t sender_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sender_cond = PTHREAD_COND_INITIALIZER;

/* The sender is background work: on a busy machine the desk's requests go first. Its thread runs at nice
 * SENDER_NICE (Linux applies setpriority to one thread by its id): CFS gives it about a tenth of a request worker's
 * share when both want the CPU, and all of an idle core otherwise. Measured (tests/bench/campaigns.mjs, 2 cores, a
 * loopback aiosmtpd taking about one of them): GET /api/v1/me's p99 while a campaign sends went from ~4.6x idle to
 * the figures in the commit; the writer is taken only for the short outcome commits, so the lower priority holds it
 * no longer in practice. */
#define SENDER_NICE 10

static void *sender_main(void *arg)
{
  (void)arg;
  if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), SENDER_NICE) != 0)
    log_warn("consent", "the sender thread keeps the normal priority (setpriority failed)");
  for (;;) {
    pthread_mutex_lock(&sender_lock);
    int run = sender_running;
    pthread_mutex_unlock(&sender_lock);
    if (!run) break;
    struct destek_req c;
    call_begin(&c, "core");
    int n = send_round(&c);
    call_end(&c, 1);
    if (n > 0) continue;        /* more may have come meanwhile: look again at once */
    smtp_close();               /* drained (or the server failed) */
    pthread_mutex_lock(&sender_lock);
    if (sender_running) {
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      ts.tv_nsec += (n < 0 ? 1000 : 250) * 1000000L;   /* a failed server: a second before the next round */
      while (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
      pthread_cond_timedwait(&sender_cond, &sender_lock, &ts);
    }
    pthread_mutex_unlock(&sender_lock);
  }
  smtp_close();
  lua_host_thread_release();
  db_reader_release();
  return NULL;
}

int consent_sender_start(void)
{
  sender_running = 1;
  if (pthread_create(&sender, NULL, sender_main, NULL) != 0) {
    sender_running = 0;
    log_error("consent", "cannot start the sender thread: messages to contacts stay queued");
    return -1;
  }
  return 0;
}

void consent_sender_stop(void)
{
  pthread_mutex_lock(&sender_lock);
  int was = sender_running;
  sender_running = 0;
  pthread_cond_signal(&sender_cond);
  pthread_mutex_unlock(&sender_lock);
  if (was) pthread_join(sender, NULL);
}

/* --- routes --- */

/* GET /api/v1/contacts/{id}/consent: {contact_id, state, items}. */
static int consent_get(struct destek_req *r)
{
  int64_t id = http_param_int(r, "id");
  struct db *db = http_db(r);
  if (!db || !db_int(db, 0, "SELECT count(*) FROM core_contacts WHERE id = ?1", "i", id))
    return http_error(r, 404, "not_found", "no such contact");
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "contact_id", (double)id);
  cJSON_AddItemToObject(o, "state", state_json(db, id));
  cJSON_AddItemToObject(o, "items", consent_export_new(db, id));
  return http_reply_json(r, 200, o);
}

/* POST /api/v1/contacts/{id}/consent {channel, status, source, text_shown, address?, ip?, at?}: 201 the record. */
static int consent_post(struct destek_req *r)
{
  int64_t id = http_param_int(r, "id");
  cJSON *body;
  int rc = http_body_object(r, &body);
  if (rc) return rc;
  const char *channel, *status, *source, *text = NULL, *address = NULL, *ip = NULL, *at = NULL;
  if ((rc = http_field_enum(r, body, "channel", DESTEK_REQUIRED, CHANNELS, &channel)) ||
      (rc = http_field_enum(r, body, "status", DESTEK_REQUIRED, STATUSES, &status)) ||
      (rc = http_field_enum(r, body, "source", DESTEK_REQUIRED, SOURCES, &source)) ||
      (rc = http_field_str(r, body, "text_shown", DESTEK_OPTIONAL, 20000, &text)) ||
      (rc = http_field_str(r, body, "address", DESTEK_OPTIONAL, 254, &address)) ||
      (rc = http_field_str(r, body, "ip", DESTEK_OPTIONAL, 45, &ip)) ||
      (rc = http_field_str(r, body, "at", DESTEK_OPTIONAL, 20, &at)))
    return rc;
  int64_t rid = consent_record(r, id, channel, status, source, text, address, ip, at);
  if (!rid) return r->status;
  struct db *w = http_tx(r);
  sqlite3_stmt *st = db_prepare(w, "SELECT id, contact_id, channel, status, source, text_shown, address, ip,"
                                   " recorded_by, at, recorded_at, erased_at FROM core_consent WHERE id = ?1");
  cJSON *o = NULL;
  if (st) {
    db_bind(st, "i", rid);
    if (sqlite3_step(st) == SQLITE_ROW) o = record_json(st);
    db_done(st);
  }
  return http_reply_json(r, 201, o ? o : cJSON_CreateObject());
}

/* The one-click unsubscribe (RFC 8058): the contact of a token, 0 when it is unknown. */
static int64_t token_contact(struct db *db, const char *token)
{
  if (!token || strlen(token) < 20 || strlen(token) > 64) return 0;
  return db_int(db, 0, "SELECT contact_id FROM core_messages WHERE unsub_token = ?1", "t", token);
}

static const char PAGE_HEAD[] =
  "<!doctype html><html lang=\"tr\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">"
  "<meta name=\"robots\" content=\"noindex\"><title>Abonelikten çık / Unsubscribe</title>"
  "<link rel=\"stylesheet\" href=\"/u/style.css\"></head><body>";

/* The page's look, as a stylesheet of its own: the CSP (style-src 'self') refuses an inline <style>, and a browser
 * logs each refusal as an error. */
static const char PAGE_CSS[] =
  "body{font:16px system-ui,sans-serif;max-width:36em;margin:3em auto;padding:0 1em;color:#222;overflow-wrap:anywhere}"
  "button{font:inherit;padding:.6em 1.2em;cursor:pointer}\n";

static int page(struct destek_req *r, int status, const char *inner)
{
  char *html = NULL;
  if (asprintf(&html, "%s%s</body></html>", PAGE_HEAD, inner) < 0) abort();
  http_add_header(r, "Cache-Control", "no-store");
  http_add_header(r, "X-Robots-Tag", "noindex, nofollow");
  http_add_header(r, "Referrer-Policy", "no-referrer");
  return http_reply_body(r, status, "text/html; charset=utf-8", html, strlen(html));
}

/* GET /u/style.css: the page's stylesheet (the literal path wins over /u/{token}; a token is 20-64 characters). */
static int unsub_css(struct destek_req *r)
{
  char *css = util_strdup(PAGE_CSS);
  http_add_header(r, "Cache-Control", "public, max-age=86400");
  return http_reply_body(r, 200, "text/css; charset=utf-8", css, strlen(css));
}

/* GET /u/{token}: a page with a button; it changes nothing (a link scanner's GET). */
static int unsub_get(struct destek_req *r)
{
  const char *token = http_param(r, "token");
  struct db *db = http_db(r);
  if (!db || !token_contact(db, token))
    return page(r, 404, "<h1>Bağlantı geçersiz</h1><p>Bu abonelikten çıkma bağlantısı tanınmadı.</p>"
                        "<h1 lang=\"en\">Link not valid</h1><p lang=\"en\">This unsubscribe link is not known.</p>");
  /* The token is base64url: safe in an attribute and a path. */
  char inner[1600];
  snprintf(inner, sizeof inner,
           "<h1>Ticari iletileri almayı bırakın</h1><p>Bu e-posta adresine ticari ileti gönderilmesini durdurmak için"
           " düğmeye basın. Ücretsizdir.</p><form method=\"post\" action=\"/u/%s\">"
           "<input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">"
           "<button type=\"submit\">Abonelikten çık / Unsubscribe</button></form>"
           "<h2 lang=\"en\">Stop commercial messages</h2><p lang=\"en\">Press the button to stop commercial e-mail to"
           " this address. It is free of charge.</p>", token);
  return page(r, 200, inner);
}

/* POST /u/{token} (List-Unsubscribe=One-Click, or the page's button): records a RET for e-mail at once; idempotent
 * (a second POST finds the RET current and records nothing); no redirect. */
static int unsub_post(struct destek_req *r)
{
  const char *token = http_param(r, "token");
  struct db *w = http_tx(r);
  if (!w) return r->status;
  int64_t contact = token_contact(w, token);
  if (!contact)
    return page(r, 404, "<h1>Bağlantı geçersiz</h1><p lang=\"en\">This unsubscribe link is not known.</p>");
  int64_t into = db_int(w, 0, "SELECT merged_into FROM core_contacts WHERE id = ?1", "i", contact);
  if (into) contact = into;
  int erased = db_int(w, 0, "SELECT count(*) FROM core_contacts WHERE id = ?1 AND erased_at IS NOT NULL", "i",
                      contact) > 0;
  if (!erased && state_on(w, contact, "email")) {
    char *to = db_text_new(w, "SELECT to_addr FROM core_messages WHERE unsub_token = ?1", "t", token);
    int64_t rid = consent_record(r, contact, "email", "RET", "unsubscribe_link",
                                 "List-Unsubscribe (RFC 8058) one-click", to && *to ? to : NULL, r->ip, NULL);
    free(to);
    if (!rid) return r->status;
  }
  return page(r, 200, "<h1>Abonelikten çıktınız</h1><p>Bu adrese artık ticari ileti gönderilmeyecek.</p>"
                      "<h2 lang=\"en\">You are unsubscribed</h2><p lang=\"en\">No more commercial messages will be"
                      " sent to this address.</p>");
}

static const struct destek_route routes[] = {
  { "GET",  "/api/v1/contacts/{id}/consent", consent_get,  DESTEK_AGENT,  "id:int", 0 },
  { "POST", "/api/v1/contacts/{id}/consent", consent_post, DESTEK_AGENT,  "id:int", 64 * 1024 },
  { "GET",  "/u/style.css",                  unsub_css,    DESTEK_PUBLIC, NULL, 0 },
  { "GET",  "/u/{token}",                    unsub_get,    DESTEK_PUBLIC, NULL, 0 },
  { "POST", "/u/{token}",                    unsub_post,   DESTEK_PUBLIC, NULL, 4096 },
  { 0 }
};

/* --- services (for Lua plugins through destek.call, and C modules through call_service): the same checks --- */

static const char *arg_str(const cJSON *a, const char *n) { return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, n)); }

static int svc_state(struct destek_req *call, const cJSON *args, cJSON **result, void *ud)
{
  (void)ud;
  int64_t id;
  if (!util_json_id(cJSON_GetObjectItemCaseSensitive(args, "contact_id"), &id))
    return http_field_error(call, "invalid_field", "contact_id", "contact_id must be a contact id");
  const char *channel = arg_str(args, "channel");
  if (!one_of(channel, CHANNELS))
    return http_field_error(call, "invalid_field", "channel", "channel is email, sms, call or whatsapp");
  *result = cJSON_CreateObject();
  cJSON_AddBoolToObject(*result, "onay", consent_state(call, id, channel));
  return 0;
}

static int svc_record(struct destek_req *call, const cJSON *args, cJSON **result, void *ud)
{
  (void)ud;
  int64_t id;
  if (!util_json_id(cJSON_GetObjectItemCaseSensitive(args, "contact_id"), &id))
    return http_field_error(call, "invalid_field", "contact_id", "contact_id must be a contact id");
  int64_t rid = consent_record(call, id, arg_str(args, "channel"), arg_str(args, "status"), arg_str(args, "source"),
                               arg_str(args, "text_shown"), arg_str(args, "address"), arg_str(args, "ip"),
                               arg_str(args, "at"));
  if (!rid) return call->status;
  *result = cJSON_CreateObject();
  cJSON_AddNumberToObject(*result, "id", (double)rid);
  return 0;
}

static int svc_send(struct destek_req *call, const cJSON *args, cJSON **result, void *ud)
{
  (void)ud;
  int64_t id;
  if (!util_json_id(cJSON_GetObjectItemCaseSensitive(args, "contact_id"), &id))
    return http_field_error(call, "invalid_field", "contact_id", "contact_id must be a contact id");
  const cJSON *c = cJSON_GetObjectItemCaseSensitive(args, "commercial");
  if (!cJSON_IsBool(c))
    return http_field_error(call, "invalid_field", "commercial", "commercial must be true or false");
  const char *channel = arg_str(args, "channel");
  if (channel && strcmp(channel, "email") && strcmp(channel, "sms"))
    return http_field_error(call, "invalid_field", "channel", "channel is email or sms");
  int sms = channel && !strcmp(channel, "sms");
  const cJSON *h = cJSON_GetObjectItemCaseSensitive(args, "html");
  if (h && !cJSON_IsNull(h) && (!cJSON_IsString(h) || sms))
    return http_field_error(call, "invalid_field", "html", "html is an e-mail's HTML part (a string)");
  int64_t mid = sms ? consent_message_send_sms(call, id, arg_str(args, "body"), cJSON_IsTrue(c))
                    : consent_message_send_html(call, id, arg_str(args, "subject"), arg_str(args, "body"),
                                                cJSON_GetStringValue(h), cJSON_IsTrue(c));
  switch (mid) {
  case DESTEK_SEND_INVALID:
    return sms ? http_field_error(call, "invalid_field", "body", "body is the SMS text (UTF-8, at most %d bytes)", SMS_TEXT_MAX)
               : http_field_error(call, "invalid_field", "subject", "subject and body (or html) are needed (UTF-8, subject"
                                  " one line, html at most 1 MiB with something left once made safe)");
  case DESTEK_SEND_NO_CONTACT: return http_error(call, 404, "not_found", "no such contact (or it was erased)");
  case DESTEK_SEND_NO_ADDRESS:
    return http_error(call, 409, "no_address", sms ? "the contact has no phone number" : "the contact has no e-mail address");
  case DESTEK_SEND_NOT_CONFIGURED:
    return http_error(call, 409, "sms_not_configured",
                      "a commercial SMS needs sms.trade_name, sms.mersis and sms.ret_keyword for its refusal line");
  case DESTEK_SEND_NO_CONSENT:
    return http_error(call, 403, "no_consent", sms ? "a commercial message needs the contact's current ONAY for sms"
                                                   : "a commercial message needs the contact's current ONAY for email");
  case DESTEK_SEND_ERROR: return error_set(call) ? call->status : http_error(call, 500, "internal", "the message could not be queued");
  default: break;
  }
  *result = cJSON_CreateObject();
  cJSON_AddNumberToObject(*result, "id", (double)mid);
  return 0;
}

/* consent.send_many {channel?, commercial, messages: [{contact_id, subject?, body}]} -> {results: [{id} | {code}]}: a
 * batch of consent.send in one C call, for a campaign handing hundreds of messages a run (an unmetered service: the
 * per-message Lua call and its checks did not let a campaign queue more than ~300 a second on a loaded 2-core box).
 * Each message is queued or refused exactly as consent.send queues or refuses it; a refusal (no_consent, no_address,
 * not_found, invalid, sms_not_configured) is that message's code, not the call's error; a database failure fails the
 * call (nothing of it is kept). At most SEND_MANY_MAX messages. */
#define SEND_MANY_MAX 2000
static int svc_send_many(struct destek_req *call, const cJSON *args, cJSON **result, void *ud)
{
  (void)ud;
  const cJSON *c = cJSON_GetObjectItemCaseSensitive(args, "commercial"), *msgs = cJSON_GetObjectItemCaseSensitive(args, "messages"), *m;
  if (!cJSON_IsBool(c)) return http_field_error(call, "invalid_field", "commercial", "commercial must be true or false");
  const char *channel = arg_str(args, "channel");
  if (channel && strcmp(channel, "email") && strcmp(channel, "sms"))
    return http_field_error(call, "invalid_field", "channel", "channel is email or sms");
  if (!cJSON_IsArray(msgs) || cJSON_GetArraySize(msgs) > SEND_MANY_MAX)
    return http_field_error(call, "invalid_field", "messages", "messages is a list of at most %d", SEND_MANY_MAX);
  int sms = channel && !strcmp(channel, "sms");
  cJSON *out = cJSON_CreateArray();
  cJSON_ArrayForEach(m, msgs) {
    int64_t id;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToArray(out, o);
    if (!util_json_id(cJSON_GetObjectItemCaseSensitive(m, "contact_id"), &id)) { cJSON_AddStringToObject(o, "code", "invalid_field"); continue; }
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(m, "html");
    if (h && !cJSON_IsNull(h) && (!cJSON_IsString(h) || sms)) { cJSON_AddStringToObject(o, "code", "invalid_field"); continue; }
    int64_t mid = sms ? consent_message_send_sms(call, id, arg_str(m, "body"), cJSON_IsTrue(c))
                      : consent_message_send_html(call, id, arg_str(m, "subject"), arg_str(m, "body"),
                                                  cJSON_GetStringValue(h), cJSON_IsTrue(c));
    const char *code = NULL;
    switch (mid) {
    case DESTEK_SEND_INVALID: code = "invalid_field"; break;
    case DESTEK_SEND_NO_CONTACT: code = "not_found"; break;
    case DESTEK_SEND_NO_ADDRESS: code = "no_address"; break;
    case DESTEK_SEND_NOT_CONFIGURED: code = "sms_not_configured"; break;
    case DESTEK_SEND_NO_CONSENT: code = "no_consent"; break;
    case DESTEK_SEND_ERROR:
      cJSON_Delete(out);
      return error_set(call) ? call->status : http_error(call, 500, "internal", "the messages could not be queued");
    default: break;
    }
    if (code) cJSON_AddStringToObject(o, "code", code);
    else cJSON_AddNumberToObject(o, "id", (double)mid);
  }
  *result = cJSON_CreateObject();
  cJSON_AddItemToObject(*result, "results", out);
  return 0;
}

/* --- bounces of the core's own messages --- */

/* The value of a DSN field ("Status: 5.1.1", RFC 3464) in report, case-insensitive at a line start: copied to out
 * (trimmed, one line), or "" when absent. */
static void dsn_field(const char *report, const char *name, char *out, size_t outlen)
{
  size_t n = strlen(name);
  *out = 0;
  for (const char *l = report; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
    if (strncasecmp(l, name, n) || l[n] != ':') continue;
    const char *v = l + n + 1;
    while (*v == ' ' || *v == '\t') v++;
    size_t k = strcspn(v, "\r\n");
    if (k >= outlen) k = outlen - 1;
    memcpy(out, v, k);
    out[k] = 0;
    return;
  }
}

/* consent.bounce {message_id, report?} -> {matched, id?, kind?}: a delivery status notification (or another bounce)
 * for one of the core's own messages, as the mail-in path finds it (ticketing's mail_in.c asks for a bounce whose
 * message it does not know). message_id is the returned message's Message-ID without <>: the core's are
 * "msg-<id>-<created digits>@<domain>", and both numbers must match the row (a guessed id alone matches nothing).
 * report: the message/delivery-status part's text when there was one. When it names the recipient (Final-Recipient
 * or Original-Recipient), that must be the message's address. The kind: "soft" for a 4.x.x status or Action
 * delayed, else "hard" (5.x.x, Action failed, or a bounce without a report: a non-delivery notice). The message is
 * marked (bounce, bounced_at, bounce_error; a soft one may become hard, nothing else changes a marked one); a hard
 * bounce of an e-mail address puts it in core_mail_bounces, so that commercial mail is not tried there again; and
 * consent.bounced {message_id, contact_id, sender, kind, commercial} is emitted (subject contact:<id>) for the module
 * that queued it. Not matched: {matched: false}, nothing changed (the caller keeps the mail for an admin). */
static int svc_bounce(struct destek_req *call, const cJSON *args, cJSON **result, void *ud)
{
  (void)ud;
  const char *mid = arg_str(args, "message_id"), *report = arg_str(args, "report");
  if (!mid || strlen(mid) > 400) return http_field_error(call, "invalid_field", "message_id", "message_id is the Message-ID (without <>)");
  if (report && strlen(report) > 65536) report = NULL;
  *result = cJSON_CreateObject();
  long long id = 0;
  char created[32] = "";
  int used = 0;
  if (sscanf(mid, "msg-%lld-%31[0-9]@%n", &id, created, &used) < 2 || used == 0 || id <= 0) {
    cJSON_AddBoolToObject(*result, "matched", 0);
    return 0;
  }
  struct db *w = http_tx(call);
  if (!w) return error_set(call) ? call->status : http_error(call, 503, "busy", "the database is busy");
  sqlite3_stmt *st = db_prepare(w, "SELECT contact_id, to_addr, created_at, channel, sender, commercial, coalesce(bounce, '')"
                                   " FROM core_messages WHERE id = ?1");
  if (!st) return http_error(call, 500, "internal", "the bounce could not be recorded");
  db_bind(st, "i", (int64_t)id);
  int found = 0, commercial = 0;
  int64_t contact = 0;
  char to[300] = "", sender[100] = "", was[8] = "";
  if (sqlite3_step(st) == SQLITE_ROW) {
    const char *c = (const char *)sqlite3_column_text(st, 2);
    char digits[32];
    size_t d = 0;
    for (; c && *c && d + 1 < 16; c++) if (*c >= '0' && *c <= '9') digits[d++] = *c;   /* as message_build writes them */
    digits[d] = 0;
    found = !strcmp(digits, created) && !strcmp((const char *)sqlite3_column_text(st, 3), "email");
    contact = sqlite3_column_int64(st, 0);
    snprintf(to, sizeof to, "%s", (const char *)sqlite3_column_text(st, 1));
    snprintf(sender, sizeof sender, "%s", (const char *)sqlite3_column_text(st, 4));
    commercial = sqlite3_column_int(st, 5);
    snprintf(was, sizeof was, "%s", (const char *)sqlite3_column_text(st, 6));
  }
  db_done(st);
  char status[64] = "", action[64] = "", rcpt[300] = "", diag[300] = "";
  if (report) {
    dsn_field(report, "Status", status, sizeof status);
    dsn_field(report, "Action", action, sizeof action);
    dsn_field(report, "Final-Recipient", rcpt, sizeof rcpt);
    if (!*rcpt) dsn_field(report, "Original-Recipient", rcpt, sizeof rcpt);
    dsn_field(report, "Diagnostic-Code", diag, sizeof diag);
  }
  if (found && *rcpt && *to) {   /* "rfc822; someone@example.com": the address after the type */
    const char *a = strchr(rcpt, ';');
    a = a ? a + 1 : rcpt;
    while (*a == ' ' || *a == '<') a++;
    size_t k = strcspn(a, " >");
    if (k != strlen(to) || strncasecmp(a, to, k)) found = 0;
  }
  if (!found) {
    cJSON_AddBoolToObject(*result, "matched", 0);
    return 0;
  }
  const char *kind = status[0] == '4' || !strcasecmp(action, "delayed") ? "soft" : "hard";
  cJSON_AddBoolToObject(*result, "matched", 1);
  cJSON_AddNumberToObject(*result, "id", (double)id);
  cJSON_AddStringToObject(*result, "kind", kind);
  if (!strcmp(was, "hard") || !strcmp(was, kind)) return 0;   /* known already (the same DSN twice) */
  char now[21], err[400];
  util_iso_time(time(NULL), now);
  snprintf(err, sizeof err, "%s%s%s", status, *status && *diag ? " " : "", diag);
  if (db_exec(w, "UPDATE core_messages SET bounce = ?2, bounced_at = ?3, bounce_error = ?4 WHERE id = ?1", "ittt",
              (int64_t)id, kind, now, *err ? err : NULL) != SQLITE_OK ||
      (!strcmp(kind, "hard") && *to &&
       db_exec(w, "INSERT OR REPLACE INTO core_mail_bounces(address, contact_id, message_id, at, error)"
                  " VALUES (lower(?1), ?2, ?3, ?4, ?5)", "tiitt", to, contact, (int64_t)id, now, *err ? err : NULL) != SQLITE_OK))
    return http_error(call, 500, "internal", "the bounce could not be recorded");
  log_info("consent", "message %lld bounced (%s)%s%s", id, kind, *err ? ": " : "", err);
  call->emitted = 1;
  cJSON *payload = cJSON_CreateObject();
  cJSON_AddNumberToObject(payload, "message_id", (double)id);
  cJSON_AddNumberToObject(payload, "contact_id", (double)contact);
  cJSON_AddStringToObject(payload, "sender", sender);
  cJSON_AddStringToObject(payload, "kind", kind);
  cJSON_AddBoolToObject(payload, "commercial", commercial);
  char subject[40];
  snprintf(subject, sizeof subject, "contact:%lld", (long long)contact);
  if (bus_emit(call, "consent.bounced", subject, payload) != 0)
    return error_set(call) ? call->status : http_error(call, 500, "internal", "the bounce could not be recorded");
  return 0;
}

/* consent.import {rows: [{contact, name?, lang?, channel, status, source, text_shown?, address?, ip?, at?}]} ->
 * {count, contact_ids}: a list imported in one go (campaigns' CSV import), each row's contact found or made (contact:
 * an e-mail address or a phone number) and its record written as consent.record writes it. At most IMPORT_MAX rows. The
 * first row the core refuses fails the whole call (nothing of it is kept) with the error of consent.record, its field
 * named "rows[<index>].<field>" and the message starting "row <index>: ". */
static int row_error(struct destek_req *call, int index)
{
  cJSON *e = call->out_body ? cJSON_Parse(call->out_body) : NULL;
  const cJSON *err = cJSON_GetObjectItemCaseSensitive(e, "error");
  const char *code = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(err, "code"));
  const char *msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(err, "message"));
  const char *field = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(err, "field"));
  int status = call->status >= 400 ? call->status : 500;
  char f[80];
  snprintf(f, sizeof f, "rows[%d].%s", index, field ? field : "contact");
  int rc;
  if (status == 422) rc = http_field_error(call, code ? code : "invalid_field", f, "row %d: %s", index, msg ? msg : "refused");
  else rc = http_error(call, status, code ? code : "internal", "row %d: %s", index, msg ? msg : "refused");
  cJSON_Delete(e);
  return rc;
}

static int svc_import(struct destek_req *call, const cJSON *args, cJSON **result, void *ud)
{
  (void)ud;
  const cJSON *rows = cJSON_GetObjectItemCaseSensitive(args, "rows"), *row;
  if (!cJSON_IsArray(rows) || cJSON_GetArraySize(rows) > IMPORT_MAX)
    return http_field_error(call, "invalid_field", "rows", "rows is a list of at most %d records", IMPORT_MAX);
  cJSON *ids = cJSON_CreateArray();
  int i = 0;
  cJSON_ArrayForEach(row, rows) {
    const char *contact = arg_str(row, "contact");
    int is_email = contact && strchr(contact, '@');
    int64_t id = contact ? contacts_resolve(call, is_email ? contact : NULL, is_email ? NULL : contact, NULL,
                                            arg_str(row, "name"), arg_str(row, "lang")) : 0;
    if (id <= 0) {
      cJSON_Delete(ids);
      if (id < 0 && error_set(call)) return row_error(call, i);
      char f[40];
      snprintf(f, sizeof f, "rows[%d].contact", i);
      return http_field_error(call, "invalid_field", f, "row %d: contact is not an e-mail address or a phone number", i);
    }
    if (!consent_record(call, id, arg_str(row, "channel"), arg_str(row, "status"), arg_str(row, "source"),
                        arg_str(row, "text_shown"), arg_str(row, "address"), arg_str(row, "ip"), arg_str(row, "at"))) {
      cJSON_Delete(ids);
      return row_error(call, i);
    }
    cJSON_AddItemToArray(ids, cJSON_CreateNumber((double)id));
    i++;
  }
  *result = cJSON_CreateObject();
  cJSON_AddNumberToObject(*result, "count", i);
  cJSON_AddItemToObject(*result, "contact_ids", ids);
  return 0;
}

static const struct destek_setting sms_settings[] = {
  { "sms.gateway", DESTEK_SETTING_STRING, "netgsm", 0,
    "SMS gateway adapter: the Lua policy sms.gateway:<this> sends the core's SMS (built in: netgsm, iletimerkezi, http)" },
  { "sms.trade_name", DESTEK_SETTING_STRING, "", 0,
    "Trade name (unvan) every commercial SMS carries (law 6563); commercial SMS are refused while empty" },
  { "sms.mersis", DESTEK_SETTING_STRING, "", 0, "MERSİS number every commercial SMS carries" },
  { "sms.ret_keyword", DESTEK_SETTING_STRING, "", 0,
    "The brand's keyword for refusals by SMS to İYS's 3338 (\"RET <keyword>\"), in every commercial SMS" },
  { 0 }
};

/* consent.import_csv {csv} -> {count, tags_json: "[[contact_id, tag], ...]"} | {problems: [{line, column, message}]}:
 * a consent list as a CSV file (RFC 4180; commas, or semicolons when the header has semicolons and no comma; a BOM
 * skipped; blank lines skipped) with the columns contact, channel, status, at, source, text_shown and optionally
 * address, ip, name, lang, tags, checked row by row (every problem by line and column, nothing recorded then) and
 * recorded as consent.import does. The parsing and checks are C so that a file of IMPORT_MAX rows is one call
 * (campaigns' import, issue 17); 422 bad_csv when the file is not CSV. */
struct csv { char ***rows; int *lines, *nf, n, cap; };

static void csv_free(struct csv *c)
{
  for (int r = 0; r < c->n; r++) {
    for (int f = 0; f < c->nf[r]; f++) free(c->rows[r][f]);
    free(c->rows[r]);
  }
  free(c->rows); free(c->lines); free(c->nf);
}

static int csv_parse(const char *t, size_t n, struct csv *c, char *err, size_t errlen)
{
  size_t i = 0;
  int line = 1, row_line = 1;
  if (n >= 3 && !memcmp(t, "\xEF\xBB\xBF", 3)) i = 3;
  size_t fe = i;
  while (fe < n && t[fe] != '\r' && t[fe] != '\n') fe++;
  int semi = memchr(t + i, ';', fe - i) && !memchr(t + i, ',', fe - i);
  char sep = semi ? ';' : ',';
  char **row = NULL;
  int nf = 0;
  while (i < n) {
    struct sbuf f = { 0 };
    sb_add(&f, "", 0);
    if (t[i] == '"') {
      size_t j = i + 1;
      for (;;) {
        const char *q = memchr(t + j, '"', n - j);
        if (!q) { snprintf(err, errlen, "line %d: a quoted field is not closed", line); free(f.p); goto fail; }
        size_t qi = (size_t)(q - t);
        sb_add(&f, t + j, qi - j);
        if (qi + 1 < n && t[qi + 1] == '"') { sb_add(&f, "\"", 1); j = qi + 2; } else { j = qi + 1; break; }
      }
      for (size_t k = 0; k < f.n; k++) if (f.p[k] == '\n') line++;
      i = j;
      if (i < n && t[i] != sep && t[i] != '\n' && t[i] != '\r') {
        snprintf(err, errlen, "line %d: text after a quoted field", line);
        free(f.p);
        goto fail;
      }
    } else {
      size_t j = i;
      while (j < n && t[j] != sep && t[j] != '\r' && t[j] != '\n') j++;
      if (memchr(t + i, '"', j - i)) {
        snprintf(err, errlen, "line %d: a quote inside a field that is not quoted", line);
        free(f.p);
        goto fail;
      }
      sb_add(&f, t + i, j - i);
      i = j;
    }
    row = realloc(row, sizeof *row * (size_t)(nf + 2));
    if (!row) abort();
    row[nf++] = f.p;
    int d = i < n ? (unsigned char)t[i] : -1;
    if (d == sep) {
      i++;
      if (i >= n) { row[nf++] = util_strdup(""); }
    }
    if (d != sep || i >= n) {
      if (d == '\r' && i + 1 < n && t[i + 1] == '\n') i += 2;
      else if (d >= 0) i++;
      int blank = nf == 1 && strspn(row[0], " \t\r\n") == strlen(row[0]);
      if (blank) { free(row[0]); free(row); }
      else {
        if (c->n == c->cap) {
          c->cap = c->cap ? c->cap * 2 : 64;
          c->rows = realloc(c->rows, sizeof *c->rows * (size_t)c->cap);
          c->lines = realloc(c->lines, sizeof *c->lines * (size_t)c->cap);
          c->nf = realloc(c->nf, sizeof *c->nf * (size_t)c->cap);
          if (!c->rows || !c->lines || !c->nf) abort();
        }
        c->rows[c->n] = row; c->lines[c->n] = row_line; c->nf[c->n] = nf; c->n++;
      }
      row = NULL; nf = 0;
      line++;
      row_line = line;
    }
  }
  return 0;
fail:
  for (int k = 0; k < nf; k++) free(row[k]);
  free(row);
  return -1;
}

/* s trimmed of ASCII white space, in place. */
static char *trim(char *s)
{
  while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n') s++;
  size_t n = strlen(s);
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n')) s[--n] = 0;
  return s;
}

static void problem(cJSON *list, int line, const char *column, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void problem(cJSON *list, int line, const char *column, const char *fmt, ...)
{
  char msg[300];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "line", line);
  if (column) cJSON_AddStringToObject(o, "column", column); else cJSON_AddNullToObject(o, "column");
  cJSON_AddStringToObject(o, "message", msg);
  cJSON_AddItemToArray(list, o);
}

/* "2026-11-01" or "2026-11-01T10:00:00Z" -> the UTC ISO time, or -1. */
static time_t import_time(const char *v, char iso[21])
{
  struct tm tm;
  memset(&tm, 0, sizeof tm);
  const char *end = strlen(v) == 10 ? strptime(v, "%Y-%m-%d", &tm) : strlen(v) == 20 ? strptime(v, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;
  if (!end || *end) return -1;
  struct tm again = tm;
  time_t t = timegm(&tm);
  struct tm back;
  gmtime_r(&t, &back);
  if (back.tm_mday != again.tm_mday || back.tm_mon != again.tm_mon) return -1;   /* 2026-02-30 */
  util_iso_time(t, iso);
  return t;
}

enum { C_CONTACT, C_CHANNEL, C_STATUS, C_AT, C_SOURCE, C_TEXT, C_ADDRESS, C_IP, C_NAME, C_LANG, C_TAGS, C_N };
static const char *const COLS[C_N] = { "contact", "channel", "status", "at", "source", "text_shown", "address", "ip",
                                       "name", "lang", "tags" };
static const char *const IMPORT_SOURCES[] = { "web_form", "checkout", "call_centre", "reply", "iys", NULL };

static int svc_import_csv(struct destek_req *call, const cJSON *args, cJSON **result, void *ud)
{
  (void)ud;
  const char *text = arg_str(args, "csv");
  if (!text) return http_field_error(call, "invalid_field", "csv", "csv is the file's text");
  struct csv c = { 0 };
  char err[200];
  if (csv_parse(text, strlen(text), &c, err, sizeof err) != 0) {
    csv_free(&c);
    return http_field_error(call, "bad_csv", "csv", "%s", err);
  }
  cJSON *problems = cJSON_CreateArray();
  int idx[C_N];
  for (int k = 0; k < C_N; k++) idx[k] = -1;
  if (c.n < 2) problem(problems, 1, NULL, "the file needs a header row and at least one row");
  else {
    for (int f = 0; f < c.nf[0]; f++) {
      char *key = trim(c.rows[0][f]);
      for (char *p = key; *p; p++) if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
      for (int k = 0; k < C_N; k++)
        if (!strcmp(key, COLS[k])) {
          if (idx[k] >= 0) problem(problems, c.lines[0], COLS[k], "the column %s appears twice", COLS[k]);
          idx[k] = f;
        }
    }
    for (int k = 0; k <= C_TEXT; k++)
      if (idx[k] < 0) problem(problems, c.lines[0], COLS[k], "the header has no column %s", COLS[k]);
    if (!cJSON_GetArraySize(problems) && c.n - 1 > IMPORT_MAX)
      problem(problems, c.lines[c.n - 1], NULL, "at most %d rows a file: split it", IMPORT_MAX);
  }
  if (cJSON_GetArraySize(problems)) {
    csv_free(&c);
    *result = cJSON_CreateObject();
    cJSON_AddItemToObject(*result, "problems", problems);
    return 0;
  }
  time_t now = time(NULL);
  int nrows = c.n - 1;
  char (*ats)[21] = calloc((size_t)nrows + 1, sizeof *ats);
  if (!ats) abort();
  const char *v[C_N];
  for (int r = 1; r < c.n; r++) {
    int line = c.lines[r], before = cJSON_GetArraySize(problems);
    for (int k = 0; k < C_N; k++) v[k] = idx[k] >= 0 && idx[k] < c.nf[r] ? trim(c.rows[r][idx[k]]) : "";
    int utf8 = 1;
    for (int f = 0; f < c.nf[r]; f++) if (!util_utf8_valid(c.rows[r][f], strlen(c.rows[r][f]))) utf8 = 0;
    if (!utf8) problem(problems, line, NULL, "the row is not UTF-8 text");
    if (!*v[C_CONTACT]) problem(problems, line, "contact", "contact is required: an e-mail address or a phone number");
    else if (strlen(v[C_CONTACT]) > 254) problem(problems, line, "contact", "contact is too long");
    char *ch = c.rows[r][idx[C_CHANNEL] < c.nf[r] ? idx[C_CHANNEL] : 0];
    if (idx[C_CHANNEL] < c.nf[r]) { ch = trim(ch); for (char *p = ch; *p; p++) if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a'); v[C_CHANNEL] = ch; }
    if (!one_of(v[C_CHANNEL], CHANNELS)) problem(problems, line, "channel", "channel is email, sms, call or whatsapp");
    if (idx[C_STATUS] < c.nf[r]) { char *st = trim(c.rows[r][idx[C_STATUS]]); for (char *p = st; *p; p++) if (*p >= 'a' && *p <= 'z') *p = (char)(*p - 'a' + 'A'); v[C_STATUS] = st; }
    if (strcmp(v[C_STATUS], "ONAY") && strcmp(v[C_STATUS], "RET")) problem(problems, line, "status", "status is ONAY or RET");
    time_t t = import_time(v[C_AT], ats[r]);
    if (t < 0) problem(problems, line, "at", "at is when it was given: 2026-11-01T10:00:00Z or 2026-11-01");
    else if (t > now + 300) problem(problems, line, "at", "at is in the future");
    if (!one_of(v[C_SOURCE], IMPORT_SOURCES))
      problem(problems, line, "source", "source is web_form, checkout, call_centre, reply or iys");
    if (!strcmp(v[C_STATUS], "ONAY") && !*v[C_TEXT])
      problem(problems, line, "text_shown", "an ONAY needs the text the person was shown (the proof of what they agreed to)");
    if (strlen(v[C_TEXT]) > 20000) problem(problems, line, "text_shown", "text_shown is at most 20000 bytes");
    if ((!strcmp(v[C_SOURCE], "web_form") || !strcmp(v[C_SOURCE], "checkout")) && !*v[C_IP])
      problem(problems, line, "ip", "consent collected on the web needs the address (IP) it came from");
    if (*v[C_IP] && (strlen(v[C_IP]) > 45 || strspn(v[C_IP], "0123456789abcdefABCDEF.:") != strlen(v[C_IP])))
      problem(problems, line, "ip", "ip is an IPv4 or IPv6 address");
    if (strlen(v[C_NAME]) > 200) problem(problems, line, "name", "name is at most 200 bytes");
    if (*v[C_LANG] && strcmp(v[C_LANG], "tr") && strcmp(v[C_LANG], "en")) problem(problems, line, "lang", "lang is tr or en");
    if (idx[C_TAGS] >= 0 && idx[C_TAGS] < c.nf[r]) {   /* folded in place, space separated */
      char *tags = c.rows[r][idx[C_TAGS]], *save = NULL;
      struct sbuf folded = { 0 };
      sb_add(&folded, "", 0);
      for (char *tok = strtok_r(tags, " \t\r\n", &save); tok; tok = strtok_r(NULL, " \t\r\n", &save)) {
        char *f = destek_fold_new(tok, strlen(tok));
        if (!f || !*f || strlen(f) > 40 || strpbrk(f, ",;\"'<>")) problem(problems, line, "tags", "a tag is 1 to 40 bytes without commas or quotes");
        else { if (folded.n) sb_str(&folded, " "); sb_str(&folded, f); }
        free(f);
      }
      free(c.rows[r][idx[C_TAGS]]);
      c.rows[r][idx[C_TAGS]] = folded.p;
    }
    (void)before;
  }
  if (cJSON_GetArraySize(problems)) {
    free(ats);
    csv_free(&c);
    *result = cJSON_CreateObject();
    cJSON_AddItemToObject(*result, "problems", problems);
    return 0;
  }
  cJSON_Delete(problems);
  cJSON *ids = cJSON_CreateArray(), *tags = cJSON_CreateArray();
  for (int r = 1; r < c.n; r++) {
    char *tagtext = idx[C_TAGS] >= 0 && idx[C_TAGS] < c.nf[r] ? c.rows[r][idx[C_TAGS]] : NULL;
    for (int k = 0; k < C_N; k++) v[k] = idx[k] >= 0 && idx[k] < c.nf[r] ? trim(c.rows[r][idx[k]]) : "";
    int is_email = strchr(v[C_CONTACT], '@') != NULL;
    int64_t id = contacts_resolve(call, is_email ? v[C_CONTACT] : NULL, is_email ? NULL : v[C_CONTACT], NULL,
                                  *v[C_NAME] ? v[C_NAME] : NULL, *v[C_LANG] ? v[C_LANG] : NULL);
    int fail = 0;
    if (id <= 0) {
      if (id < 0 && error_set(call)) fail = 1;
      else { http_field_error(call, "invalid_field", "contact", "contact is not an e-mail address or a phone number"); fail = 1; }
    } else if (!consent_record(call, id, v[C_CHANNEL], v[C_STATUS], v[C_SOURCE], v[C_TEXT],
                               *v[C_ADDRESS] ? v[C_ADDRESS] : NULL, *v[C_IP] ? v[C_IP] : NULL, ats[r])) {
      fail = 1;
    }
    if (fail) {   /* the core's refusal of a row: an error, so that the service's writes are taken back */
      cJSON *e = call->out_body ? cJSON_Parse(call->out_body) : NULL;
      const cJSON *eo = cJSON_GetObjectItemCaseSensitive(e, "error");
      const char *msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(eo, "message"));
      const char *field = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(eo, "field"));
      int rc = http_field_error(call, "invalid_rows", field ? field : "contact", "line %d: %s", c.lines[r], msg ? msg : "refused");
      cJSON_Delete(e);
      cJSON_Delete(ids); cJSON_Delete(tags); free(ats); csv_free(&c);
      return rc;
    }
    cJSON_AddItemToArray(ids, cJSON_CreateNumber((double)id));
    if (tagtext && *tagtext) {
      char *save = NULL;
      for (char *tok = strtok_r(tagtext, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        cJSON *pair = cJSON_CreateArray();
        cJSON_AddItemToArray(pair, cJSON_CreateNumber((double)id));
        cJSON_AddItemToArray(pair, cJSON_CreateString(tok));
        cJSON_AddItemToArray(tags, pair);
      }
    }
  }
  /* The tags as one JSON text (the caller hands it to its SQL as is: no table of 10,000 pairs built in its Lua). */
  char *tags_json = cJSON_PrintUnformatted(tags);
  cJSON_Delete(tags);
  cJSON_Delete(ids);
  *result = cJSON_CreateObject();
  cJSON_AddNumberToObject(*result, "count", nrows);
  cJSON_AddStringToObject(*result, "tags_json", tags_json ? tags_json : "[]");
  cJSON_free(tags_json);
  free(ats);
  csv_free(&c);
  return 0;
}

int consent_init(void)
{
  int rc = http_routes_add("core", routes);
  rc |= settings_declare("core", sms_settings);
  rc |= bus_event_owner("consent", "core");
  rc |= services_publish("consent", "consent.state", svc_state, NULL);
  rc |= services_publish("consent", "consent.record", svc_record, NULL);
  rc |= services_publish("consent", "consent.send", svc_send, NULL);
  rc |= services_publish("consent", "consent.bounce", svc_bounce, NULL);
  rc |= services_publish_unmetered("consent", "consent.import", svc_import, NULL);
  rc |= services_publish_unmetered("consent", "consent.import_csv", svc_import_csv, NULL);
  rc |= services_publish_unmetered("consent", "consent.send_many", svc_send_many, NULL);
  return rc;
}
