/* The e-mail channel's status: per channel ("smtp", "imap" for the settings mailbox, "mailbox:<id>"), when it last
 * tried, whether that worked, the last error and how many mails it sent or filed (tkt_mail_status). Written by the
 * SMTP sender (mail_out.c) and the IMAP poller (mail_imap.c); read by GET /api/v1/mail/status and the mailbox
 * routes (mailboxes.c). */
#include "mail_tkt.h"
#include "tkt.h"

#include <stdio.h>
#include <string.h>

#define STATUS_ERROR_MAX 500

void tkt_mail_status_record(const char *channel, int ok, const char *error)
{
  char now[21], text[STATUS_ERROR_MAX + 1] = "";
  tkt_now(now);
  if (!ok) {
    const char *src = error && *error ? error : "failed";
    size_t n = strlen(src);
    if (n > STATUS_ERROR_MAX) {   /* cut at a UTF-8 boundary */
      n = STATUS_ERROR_MAX;
      while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80) n--;
    }
    memcpy(text, src, n);
    text[n] = 0;
  }
  struct destek_req *c = tkt_call_new();
  struct destek_db *w = tkt_db_write(c);
  int rc = !w ? SQLITE_BUSY : ok
    ? tkt_db_exec(w, "INSERT INTO tkt_mail_status(channel, last_attempt_at, last_ok, last_success_at) VALUES (?1, ?2, 1, ?2)"
                 " ON CONFLICT (channel) DO UPDATE SET last_attempt_at = ?2, last_ok = 1, last_success_at = ?2",
              "tt", channel, now)
    : tkt_db_exec(w, "INSERT INTO tkt_mail_status(channel, last_attempt_at, last_ok, last_error, last_error_at)"
                 " VALUES (?1, ?2, 0, ?3, ?2) ON CONFLICT (channel) DO UPDATE SET last_attempt_at = ?2, last_ok = 0,"
                 " last_error = ?3, last_error_at = ?2", "ttt", channel, now, text);
  if (rc != SQLITE_OK)
    tkt_log(DESTEK_LOG_WARN, "mail: the status of %s could not be recorded: %s", channel,
            w ? tkt_db_errmsg(w) : "the database is busy");
  tkt_call_end(c, rc == SQLITE_OK);
}

int tkt_mail_status_bump(struct destek_db *w, const char *channel)
{
  return tkt_db_exec(w, "INSERT INTO tkt_mail_status(channel, count) VALUES (?1, 1)"
                    " ON CONFLICT (channel) DO UPDATE SET count = count + 1", "t", channel) == SQLITE_OK ? 0 : -1;
}

static void add_text_or_null(cJSON *o, const char *name, sqlite3_stmt *st, int col)
{
  if (sqlite3_column_type(st, col) == SQLITE_NULL) cJSON_AddNullToObject(o, name);
  else cJSON_AddStringToObject(o, name, (const char *)sqlite3_column_text(st, col));
}

cJSON *tkt_mail_status_json(struct destek_db *db, const char *channel, const char *attempt_name, const char *count_name)
{
  cJSON *o = cJSON_CreateObject();
  sqlite3_stmt *st = tkt_db_prepare(db, "SELECT last_attempt_at, last_ok, last_success_at, last_error, last_error_at,"
                                    " count FROM tkt_mail_status WHERE channel = ?1");
  int row = 0;
  if (st) {
    tkt_db_bind(st, "t", channel);
    row = sqlite3_step(st) == SQLITE_ROW;
  }
  if (row) {
    add_text_or_null(o, attempt_name, st, 0);
    if (sqlite3_column_type(st, 1) == SQLITE_NULL) cJSON_AddNullToObject(o, "ok");
    else cJSON_AddBoolToObject(o, "ok", sqlite3_column_int(st, 1));
    add_text_or_null(o, "last_success_at", st, 2);
    add_text_or_null(o, "last_error", st, 3);
    add_text_or_null(o, "last_error_at", st, 4);
    cJSON_AddNumberToObject(o, count_name, (double)sqlite3_column_int64(st, 5));
  } else {
    cJSON_AddNullToObject(o, attempt_name);
    cJSON_AddNullToObject(o, "ok");
    cJSON_AddNullToObject(o, "last_success_at");
    cJSON_AddNullToObject(o, "last_error");
    cJSON_AddNullToObject(o, "last_error_at");
    cJSON_AddNumberToObject(o, count_name, 0);
  }
  if (st) tkt_db_done(st);
  return o;
}
