/* Mailboxes: the IMAP mailboxes polled beside the one in the mail.imap_* settings (tkt_mailboxes; polled by
 * mail_imap.c), the mail channel's status, and "test connection". Admins only.
 *
 *   GET/POST /api/v1/mailboxes, GET/PATCH/DELETE /api/v1/mailboxes/{id}
 *   GET  /api/v1/mail/status   what SMTP, the settings mailbox and each saved mailbox last did
 *   POST /api/v1/mail/test     {"kind":"smtp"|"imap", mailbox_id?, url?, user?, password?, send_to?, from?}
 *
 * The password is write-only, as secret settings are: answers carry imap_password_set. A deleted mailbox is no
 * longer polled (its UID bookkeeping and status go with it); the tickets it opened stay. */
#include "mail_tkt.h"
#include "tkt.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "destek_util.h"

#define NAME_MAX_BYTES 100
#define URL_MAX_BYTES 2000
#define USER_MAX_BYTES 320
#define PASSWORD_MAX_BYTES 1000
#define POLL_MIN 1
#define POLL_MAX 86400
#define TESTS_AT_ONCE 2

static cJSON *mailbox_json(struct destek_db *db, int64_t id)
{
  sqlite3_stmt *st = tkt_db_prepare(db, "SELECT id, name, imap_url, imap_user, imap_password <> '', poll_seconds, active,"
                                    " team_id, tags, created_at, updated_at, imap_tls, from_address, from_name,"
                                    " smtp_url, smtp_user, smtp_password <> '', smtp_tls FROM tkt_mailboxes WHERE id = ?1");
  if (!st) return NULL;
  tkt_db_bind(st, "i", id);
  cJSON *o = NULL;
  if (sqlite3_step(st) == SQLITE_ROW) {
    o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(st, 0));
    cJSON_AddStringToObject(o, "name", (const char *)sqlite3_column_text(st, 1));
    cJSON_AddStringToObject(o, "imap_url", (const char *)sqlite3_column_text(st, 2));
    cJSON_AddStringToObject(o, "imap_user", (const char *)sqlite3_column_text(st, 3));
    cJSON_AddBoolToObject(o, "imap_password_set", sqlite3_column_int(st, 4));
    cJSON_AddNumberToObject(o, "poll_seconds", sqlite3_column_int(st, 5));
    cJSON_AddBoolToObject(o, "active", sqlite3_column_int(st, 6));
    if (sqlite3_column_type(st, 7) == SQLITE_NULL) cJSON_AddNullToObject(o, "team_id");
    else cJSON_AddNumberToObject(o, "team_id", (double)sqlite3_column_int64(st, 7));
    cJSON *tags = cJSON_Parse((const char *)sqlite3_column_text(st, 8));
    cJSON_AddItemToObject(o, "tags", cJSON_IsArray(tags) ? tags : cJSON_CreateArray());
    if (!cJSON_IsArray(tags)) cJSON_Delete(tags);
    cJSON_AddStringToObject(o, "created_at", (const char *)sqlite3_column_text(st, 9));
    cJSON_AddStringToObject(o, "updated_at", (const char *)sqlite3_column_text(st, 10));
    cJSON_AddStringToObject(o, "imap_tls", (const char *)sqlite3_column_text(st, 11));
    cJSON_AddStringToObject(o, "from_address", (const char *)sqlite3_column_text(st, 12));
    cJSON_AddStringToObject(o, "from_name", (const char *)sqlite3_column_text(st, 13));
    cJSON_AddStringToObject(o, "smtp_url", (const char *)sqlite3_column_text(st, 14));
    cJSON_AddStringToObject(o, "smtp_user", (const char *)sqlite3_column_text(st, 15));
    cJSON_AddBoolToObject(o, "smtp_password_set", sqlite3_column_int(st, 16));
    cJSON_AddStringToObject(o, "smtp_tls", (const char *)sqlite3_column_text(st, 17));
  }
  tkt_db_done(st);
  if (o) {
    char channel[40];
    snprintf(channel, sizeof channel, "mailbox:%lld", (long long)id);
    cJSON *status = tkt_mail_status_json(db, channel, "last_poll_at", "messages_filed");
    tkt_mail_imap_state_add(db, channel, status);
    cJSON_AddItemToObject(o, "status", status);
  }
  return o;
}

/* The fields of a create or update body; what is absent stays unset (the *_set flags, NULL pointers). */
struct fields {
  const char *name;
  char *imap_url;            /* checked and normalised; owned */
  const char *imap_user;     /* "" when null */
  const char *imap_password; /* "" when null (cleared) */
  int64_t poll_seconds;      /* 0: absent */
  int active;                /* -1: absent */
  int team_set;
  int64_t team_id;           /* 0: none */
  char *tags;                /* JSON text; owned */
  const char *imap_tls, *smtp_tls;   /* NULL: absent */
  char from_address[256];
  int from_set;              /* from_address given ("" when null) */
  const char *from_name;     /* "" when null */
  const char *smtp_url;      /* "" when null: the settings' server */
  const char *smtp_user;     /* "" when null */
  const char *smtp_password; /* "" when null (cleared) */
};

static void fields_free(struct fields *f)
{
  free(f->imap_url);
  free(f->tags);
}

/* A string field where null means "": absent → *out NULL. 0 or the 422. */
static int str_or_null(struct destek_req *r, const cJSON *body, const char *name, size_t max, const char **out)
{
  int rc = tkt_field_str(r, body, name, DESTEK_OPTIONAL, max, out);
  if (!rc && !*out && cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(body, name))) *out = "";
  return rc;
}

/* A string field that keeps its exact bytes (a password): absent → *out NULL, null → "". 0 or the 422. */
static int raw_string(struct destek_req *r, const cJSON *body, const char *name, size_t max, const char **out)
{
  const cJSON *it = cJSON_GetObjectItemCaseSensitive(body, name);
  *out = NULL;
  if (!it) return 0;
  if (cJSON_IsNull(it)) { *out = ""; return 0; }
  if (!cJSON_IsString(it)) return tkt_field_error(r, "invalid_field", name, "%s must be a string", name);
  size_t n = strlen(it->valuestring);
  if (n > max || !util_utf8_valid(it->valuestring, n))
    return tkt_field_error(r, "invalid_field", name, "%s must be text of at most %zu bytes", name, max);
  *out = it->valuestring;
  return 0;
}

static int read_fields(struct destek_req *r, const cJSON *body, int creating, struct fields *f)
{
  memset(f, 0, sizeof *f);
  f->active = -1;
  const char *url;
  int rc;
  if ((rc = tkt_field_str(r, body, "name", creating, NAME_MAX_BYTES, &f->name)) ||
      (rc = tkt_field_str(r, body, "imap_url", creating, URL_MAX_BYTES, &url)) ||
      (rc = tkt_field_str(r, body, "imap_user", DESTEK_OPTIONAL, USER_MAX_BYTES, &f->imap_user)) ||
      (rc = raw_string(r, body, "imap_password", PASSWORD_MAX_BYTES, &f->imap_password)) ||
      (rc = tkt_field_bool(r, body, "active", DESTEK_OPTIONAL, &f->active)) ||
      (rc = tkt_field_enum(r, body, "imap_tls", DESTEK_OPTIONAL, TKT_TLS_MODES, &f->imap_tls)) ||
      (rc = tkt_field_enum(r, body, "smtp_tls", DESTEK_OPTIONAL, TKT_TLS_MODES, &f->smtp_tls)) ||
      (rc = str_or_null(r, body, "from_name", NAME_MAX_BYTES, &f->from_name)) ||
      (rc = str_or_null(r, body, "smtp_url", URL_MAX_BYTES, &f->smtp_url)) ||
      (rc = str_or_null(r, body, "smtp_user", USER_MAX_BYTES, &f->smtp_user)) ||
      (rc = raw_string(r, body, "smtp_password", PASSWORD_MAX_BYTES, &f->smtp_password)))
    return rc;
  const cJSON *from = cJSON_GetObjectItemCaseSensitive(body, "from_address");
  if (from) {
    f->from_set = 1;
    if (!cJSON_IsNull(from) && !(cJSON_IsString(from) && !*from->valuestring) &&
        (rc = tkt_field_email(r, body, "from_address", DESTEK_OPTIONAL, f->from_address)))
      return rc;
  }
  if (f->from_name) {
    for (const char *p = f->from_name; *p; p++)
      if ((unsigned char)*p < 0x20 || *p == 0x7f)
        return tkt_field_error(r, "invalid_field", "from_name", "from_name cannot have control characters");
  }
  if (f->smtp_url && *f->smtp_url) {
    char err[200];
    if (tkt_smtp_url_check(f->smtp_url, err, sizeof err) != 0)
      return tkt_field_error(r, "invalid_field", "smtp_url", "smtp_url: %s", err);
  }
  if (f->name && !*f->name) return tkt_field_error(r, "invalid_field", "name", "name cannot be empty");
  if (!f->imap_user && cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(body, "imap_user"))) f->imap_user = "";
  if (url) {
    char err[200];
    if (!(f->imap_url = tkt_imap_url_new(url, err, sizeof err)))
      return tkt_field_error(r, "invalid_field", "imap_url", "imap_url: %s", err);
  }
  const cJSON *poll = cJSON_GetObjectItemCaseSensitive(body, "poll_seconds");
  if (poll && !cJSON_IsNull(poll)) {
    if (!cJSON_IsNumber(poll) || !tkt_whole(poll->valuedouble) || poll->valuedouble < POLL_MIN ||
        poll->valuedouble > POLL_MAX)
      return tkt_field_error(r, "invalid_field", "poll_seconds", "poll_seconds must be a whole number from %d to %d",
                              POLL_MIN, POLL_MAX);
    f->poll_seconds = (int64_t)poll->valuedouble;
  }
  const cJSON *team = cJSON_GetObjectItemCaseSensitive(body, "team_id");
  if (team) {
    f->team_set = 1;
    if (!cJSON_IsNull(team)) {
      if (!cJSON_IsNumber(team) || !tkt_whole(team->valuedouble) || team->valuedouble < 1 ||
          team->valuedouble > 9e15)
        return tkt_field_error(r, "invalid_field", "team_id", "team_id must be a team's id or null");
      f->team_id = (int64_t)team->valuedouble;
      if (!tkt_db_int(tkt_db_read(r), 0, "SELECT count(*) FROM tkt_teams WHERE id = ?1", "i", f->team_id))
        return tkt_field_error(r, "invalid_field", "team_id", "there is no team %lld", (long long)f->team_id);
    }
  }
  cJSON *tags = cJSON_GetObjectItemCaseSensitive(body, "tags");
  if (tags) {
    if (cJSON_IsNull(tags)) {
      f->tags = util_strdup("[]");
    } else {
      if ((rc = tkt_tags_check(r, tags, "tags"))) return rc;
      /* Kept as a set, in order, as a ticket's tags are. */
      cJSON *set = cJSON_CreateArray();
      const cJSON *t;
      cJSON_ArrayForEach(t, tags) {
        int dup = 0;
        const cJSON *u;
        cJSON_ArrayForEach(u, set) if (!strcmp(u->valuestring, t->valuestring)) dup = 1;
        if (!dup) cJSON_AddItemToArray(set, cJSON_CreateString(t->valuestring));
      }
      f->tags = cJSON_PrintUnformatted(set);
      cJSON_Delete(set);
      if (!f->tags) abort();
    }
  }
  return 0;
}

/* The TLS modes with the URLs they go with (smtp_url "": the settings' server, not checked here). 0 or the 422. */
static int tls_fields_check(struct destek_req *r, const char *imap_url, const char *imap_tls, const char *smtp_url,
                            const char *smtp_tls)
{
  char err[300];
  if (tkt_tls_check(imap_url, imap_tls, err, sizeof err) != 0)
    return tkt_field_error(r, "invalid_field", "imap_tls", "imap_tls: %s", err);
  if (*smtp_url && tkt_tls_check(smtp_url, smtp_tls, err, sizeof err) != 0)
    return tkt_field_error(r, "invalid_field", "smtp_tls", "smtp_tls: %s", err);
  return 0;
}

static int mailbox_list(struct destek_req *r)
{
  struct destek_db *db = tkt_db_read(r);
  sqlite3_stmt *st = db ? tkt_db_prepare(db, "SELECT id FROM tkt_mailboxes ORDER BY name COLLATE NOCASE, id LIMIT ?1") : NULL;
  if (!st) return tkt_error(r, 500, "internal", "internal error");
  tkt_db_bind(st, "i", (int64_t)TKT_MAILBOXES_MAX);
  int64_t ids[TKT_MAILBOXES_MAX];
  int n = 0;
  while (n < TKT_MAILBOXES_MAX && sqlite3_step(st) == SQLITE_ROW) ids[n++] = sqlite3_column_int64(st, 0);
  tkt_db_done(st);
  cJSON *items = cJSON_CreateArray();
  for (int i = 0; i < n; i++) {
    cJSON *o = mailbox_json(db, ids[i]);
    if (o) cJSON_AddItemToArray(items, o);
  }
  return tkt_reply_json(r, 200, tkt_list_new(items, 0));
}

static cJSON *audit_detail_new(const char *name)
{
  cJSON *d = cJSON_CreateObject();
  cJSON_AddStringToObject(d, "name", name);
  return d;
}

static int mailbox_create(struct destek_req *r)
{
  cJSON *body;
  struct fields f;
  int rc = tkt_body(r, &body);
  if (rc) return rc;
  if ((rc = read_fields(r, body, 1, &f))) { fields_free(&f); return rc; }
  struct destek_db *w = tkt_db_write(r);
  if (!w) { fields_free(&f); return tkt_status(r); }
  if (tkt_db_int(w, 0, "SELECT count(*) FROM tkt_mailboxes", "") >= TKT_MAILBOXES_MAX) {
    fields_free(&f);
    return tkt_error(r, 409, "too_many_mailboxes", "at most %d mailboxes can be added", TKT_MAILBOXES_MAX);
  }
  char now[21];
  tkt_now(now);
  if ((rc = tls_fields_check(r, f.imap_url, f.imap_tls ? f.imap_tls : "auto", f.smtp_url ? f.smtp_url : "",
                              f.smtp_tls ? f.smtp_tls : "auto"))) {
    fields_free(&f);
    return rc;
  }
  rc = tkt_db_exec(w, "INSERT INTO tkt_mailboxes(name, imap_url, imap_user, imap_password, poll_seconds, active, team_id,"
                  " tags, created_at, updated_at, imap_tls, from_address, from_name, smtp_url, smtp_user, smtp_password,"
                  " smtp_tls) VALUES (?1, ?2, ?3, ?4, ?5, ?6, nullif(?7, 0), ?8, ?9, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
               "tttti" "iittt" "ttttt" "t", f.name, f.imap_url, f.imap_user ? f.imap_user : "",
               f.imap_password ? f.imap_password : "", f.poll_seconds ? f.poll_seconds : (int64_t)60,
               (int64_t)(f.active != 0), f.team_id, f.tags ? f.tags : "[]", now, f.imap_tls ? f.imap_tls : "auto",
               f.from_address, f.from_name ? f.from_name : "", f.smtp_url ? f.smtp_url : "",
               f.smtp_user ? f.smtp_user : "", f.smtp_password ? f.smtp_password : "",
               f.smtp_tls ? f.smtp_tls : "auto");
  if (rc == SQLITE_CONSTRAINT) { fields_free(&f); return tkt_error(r, 409, "name_taken", "a mailbox with this name exists"); }
  if (rc != SQLITE_OK) { fields_free(&f); return tkt_error(r, 500, "internal", "the mailbox could not be saved"); }
  int64_t id = tkt_db_last_id(w);
  char target[40];
  snprintf(target, sizeof target, "mailbox:%lld", (long long)id);
  tkt_audit(r, "mailbox.created", target, audit_detail_new(f.name));
  fields_free(&f);
  return tkt_reply_json(r, 201, mailbox_json(w, id));
}

static int mailbox_get(struct destek_req *r)
{
  cJSON *o = mailbox_json(tkt_db_read(r), tkt_param_int(r, "id"));
  if (!o) return tkt_error(r, 404, "not_found", "no such mailbox");
  return tkt_reply_json(r, 200, o);
}

static int mailbox_update(struct destek_req *r)
{
  int64_t id = tkt_param_int(r, "id");
  cJSON *body;
  struct fields f;
  int rc = tkt_body(r, &body);
  if (rc) return rc;
  if (!tkt_db_int(tkt_db_read(r), 0, "SELECT count(*) FROM tkt_mailboxes WHERE id = ?1", "i", id))
    return tkt_error(r, 404, "not_found", "no such mailbox");
  if ((rc = read_fields(r, body, 0, &f))) { fields_free(&f); return rc; }
  struct destek_db *w = tkt_db_write(r);
  if (!w) { fields_free(&f); return tkt_status(r); }
  /* The TLS modes are checked against the URLs they will be used with: the given ones over the saved ones. */
  {
    char *v_imap_url = tkt_db_text_new(w, "SELECT imap_url FROM tkt_mailboxes WHERE id = ?1", "i", id);
    char *v_imap_tls = tkt_db_text_new(w, "SELECT imap_tls FROM tkt_mailboxes WHERE id = ?1", "i", id);
    char *v_smtp_url = tkt_db_text_new(w, "SELECT smtp_url FROM tkt_mailboxes WHERE id = ?1", "i", id);
    char *v_smtp_tls = tkt_db_text_new(w, "SELECT smtp_tls FROM tkt_mailboxes WHERE id = ?1", "i", id);
    rc = tls_fields_check(r, f.imap_url ? f.imap_url : v_imap_url ? v_imap_url : "",
                          f.imap_tls ? f.imap_tls : v_imap_tls ? v_imap_tls : "auto",
                          f.smtp_url ? f.smtp_url : v_smtp_url ? v_smtp_url : "",
                          f.smtp_tls ? f.smtp_tls : v_smtp_tls ? v_smtp_tls : "auto");
    free(v_imap_url); free(v_imap_tls); free(v_smtp_url); free(v_smtp_tls);
    if (rc) { fields_free(&f); return rc; }
  }
  char now[21];
  tkt_now(now);
  /* Absent fields keep their value: NULL binds leave coalesce() to the column. */
  rc = tkt_db_exec(w, "UPDATE tkt_mailboxes SET name = coalesce(?2, name), imap_url = coalesce(?3, imap_url),"
                  " imap_user = coalesce(?4, imap_user), imap_password = coalesce(?5, imap_password),"
                  " poll_seconds = coalesce(nullif(?6, 0), poll_seconds), active = coalesce(nullif(?7, -1), active),"
                  " team_id = CASE WHEN ?8 THEN nullif(?9, 0) ELSE team_id END, tags = coalesce(?10, tags),"
                  " updated_at = ?11, imap_tls = coalesce(?12, imap_tls),"
                  " from_address = CASE WHEN ?13 THEN ?14 ELSE from_address END, from_name = coalesce(?15, from_name),"
                  " smtp_url = coalesce(?16, smtp_url), smtp_user = coalesce(?17, smtp_user),"
                  " smtp_password = coalesce(?18, smtp_password), smtp_tls = coalesce(?19, smtp_tls) WHERE id = ?1",
               "itttt" "iiiit" "tti" "ttttt" "t", id, f.name, f.imap_url, f.imap_user, f.imap_password, f.poll_seconds,
               (int64_t)f.active, (int64_t)f.team_set, f.team_id, f.tags, now, f.imap_tls, (int64_t)f.from_set,
               f.from_address, f.from_name, f.smtp_url, f.smtp_user, f.smtp_password, f.smtp_tls);
  if (rc == SQLITE_CONSTRAINT) { fields_free(&f); return tkt_error(r, 409, "name_taken", "a mailbox with this name exists"); }
  if (rc != SQLITE_OK) { fields_free(&f); return tkt_error(r, 500, "internal", "the mailbox could not be saved"); }
  char target[40];
  snprintf(target, sizeof target, "mailbox:%lld", (long long)id);
  cJSON *changed = cJSON_CreateArray();   /* names only: the password is a secret */
  for (cJSON *it = body->child; it; it = it->next) cJSON_AddItemToArray(changed, cJSON_CreateString(it->string));
  cJSON *d = cJSON_CreateObject();
  cJSON_AddItemToObject(d, "changed", changed);
  tkt_audit(r, "mailbox.updated", target, d);
  fields_free(&f);
  return tkt_reply_json(r, 200, mailbox_json(w, id));
}

static int mailbox_delete(struct destek_req *r)
{
  int64_t id = tkt_param_int(r, "id");
  struct destek_db *w = tkt_db_write(r);
  if (!w) return tkt_status(r);
  char *name = tkt_db_text_new(w, "SELECT name FROM tkt_mailboxes WHERE id = ?1", "i", id);
  if (!name) return tkt_error(r, 404, "not_found", "no such mailbox");
  char channel[40];
  snprintf(channel, sizeof channel, "mailbox:%lld", (long long)id);
  /* Its pending UIDs go too: polling stops, and an id is never reused, so nothing would read them again. */
  if (tkt_db_exec(w, "DELETE FROM tkt_mail_imap_pending WHERE mailbox = ?1", "t", channel) != SQLITE_OK ||
      tkt_db_exec(w, "DELETE FROM tkt_mail_status WHERE channel = ?1", "t", channel) != SQLITE_OK ||
      tkt_db_exec(w, "DELETE FROM tkt_mail_imap_state WHERE channel = ?1", "t", channel) != SQLITE_OK ||
      tkt_db_exec(w, "DELETE FROM tkt_mailboxes WHERE id = ?1", "i", id) != SQLITE_OK) {
    free(name);
    return tkt_error(r, 500, "internal", "the mailbox could not be deleted");
  }
  tkt_audit(r, "mailbox.deleted", channel, audit_detail_new(name));
  free(name);
  return tkt_reply_empty(r, 204);
}

/* --- status --- */

static int mail_status(struct destek_req *r)
{
  struct destek_db *db = tkt_db_read(r);
  if (!db) return tkt_error(r, 503, "db_unavailable", "the database cannot be opened");
  cJSON *o = cJSON_CreateObject();

  cJSON *smtp = tkt_mail_status_json(db, "smtp", "last_send_at", "messages_sent");
  char *url = tkt_setting_new("mail.smtp_url");
  cJSON_AddBoolToObject(smtp, "configured", url && *url);
  cJSON_AddStringToObject(smtp, "url", url ? url : "");
  char *from = tkt_setting_new("mail.from");
  /* ready: mail without a mailbox of its own (web form, replies, acknowledgements) can leave: a server and a sender. */
  cJSON_AddBoolToObject(smtp, "ready", url && *url && from && *from);
  free(from);
  free(url);
  cJSON_AddItemToObject(o, "smtp", smtp);

  cJSON *imap = tkt_mail_status_json(db, "imap", "last_poll_at", "messages_filed");
  url = tkt_setting_new("mail.imap_url");
  cJSON_AddBoolToObject(imap, "configured", url && *url);
  cJSON_AddStringToObject(imap, "url", url ? url : "");
  free(url);
  cJSON_AddNumberToObject(imap, "poll_seconds", (double)tkt_setting_int("mail.poll_seconds", 60));
  tkt_mail_imap_state_add(db, "imap", imap);
  cJSON_AddItemToObject(o, "imap", imap);

  cJSON *list = cJSON_AddArrayToObject(o, "mailboxes");
  sqlite3_stmt *st = tkt_db_prepare(db, "SELECT id, name, imap_url, active, poll_seconds FROM tkt_mailboxes"
                                    " ORDER BY name COLLATE NOCASE, id LIMIT ?1");
  if (st) {
    tkt_db_bind(st, "i", (int64_t)TKT_MAILBOXES_MAX);
    while (sqlite3_step(st) == SQLITE_ROW) {
      char channel[40];
      int64_t id = sqlite3_column_int64(st, 0);
      snprintf(channel, sizeof channel, "mailbox:%lld", (long long)id);
      cJSON *m = tkt_mail_status_json(db, channel, "last_poll_at", "messages_filed");
      cJSON_AddNumberToObject(m, "id", (double)id);
      cJSON_AddStringToObject(m, "name", (const char *)sqlite3_column_text(st, 1));
      cJSON_AddStringToObject(m, "url", (const char *)sqlite3_column_text(st, 2));
      cJSON_AddBoolToObject(m, "active", sqlite3_column_int(st, 3));
      cJSON_AddNumberToObject(m, "poll_seconds", sqlite3_column_int(st, 4));
      tkt_mail_imap_state_add(db, channel, m);
      cJSON_AddItemToArray(list, m);
    }
    tkt_db_done(st);
  }
  return tkt_reply_json(r, 200, o);
}

/* --- test connection --- */

static atomic_int tests_running;

/* Takes a field's value over the saved one: absent keeps *v, null or a string replaces it (owned). */
static void take_override(const char *given, char **v)
{
  if (!given) return;
  free(*v);
  *v = util_strdup(given);
}

static int mail_test(struct destek_req *r)
{
  cJSON *body;
  static const char *const KINDS[] = { "smtp", "imap", NULL };
  const char *kind, *url, *user, *password, *tls;
  char send_to[256], from_checked[256];
  int rc;
  if ((rc = tkt_body(r, &body)) ||
      (rc = tkt_field_enum(r, body, "kind", DESTEK_REQUIRED, KINDS, &kind)) ||
      (rc = tkt_field_enum(r, body, "tls", DESTEK_OPTIONAL, TKT_TLS_MODES, &tls)) ||
      (rc = tkt_field_str(r, body, "url", DESTEK_OPTIONAL, URL_MAX_BYTES, &url)) ||
      (rc = tkt_field_str(r, body, "user", DESTEK_OPTIONAL, USER_MAX_BYTES, &user)) ||
      (rc = raw_string(r, body, "password", PASSWORD_MAX_BYTES, &password)) ||
      (rc = tkt_field_email(r, body, "send_to", DESTEK_OPTIONAL, send_to)) ||
      (rc = tkt_field_email(r, body, "from", DESTEK_OPTIONAL, from_checked)))
    return rc;
  if (!user && cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(body, "user"))) user = "";
  int smtp = !strcmp(kind, "smtp");
  const cJSON *mid = cJSON_GetObjectItemCaseSensitive(body, "mailbox_id");
  int64_t mailbox_id = 0;
  if (mid && !cJSON_IsNull(mid)) {
    if (!cJSON_IsNumber(mid) || !tkt_whole(mid->valuedouble) || mid->valuedouble < 1 ||
        mid->valuedouble > 9e15)
      return tkt_field_error(r, "invalid_field", "mailbox_id", "mailbox_id must be a mailbox's id");
    mailbox_id = (int64_t)mid->valuedouble;
  }
  if (!smtp && *send_to) return tkt_field_error(r, "invalid_field", "send_to", "send_to is for kind smtp");

  /* The saved values, then what the body gives instead. */
  /* A mailbox's SMTP is its own server when it has one, else the settings' (as its mail goes out); its From. */
  char *v_url = NULL, *v_user = NULL, *v_password = NULL, *v_tls = NULL, *v_from_saved = NULL, *v_name_saved = NULL;
  struct destek_db *db = tkt_db_read(r);
  int own_smtp = 0;
  if (mailbox_id) {
    sqlite3_stmt *st = tkt_db_prepare(db, smtp
      ? "SELECT smtp_url, smtp_user, smtp_password, smtp_tls, from_address, from_name FROM tkt_mailboxes WHERE id = ?1"
      : "SELECT imap_url, imap_user, imap_password, imap_tls, from_address, from_name FROM tkt_mailboxes WHERE id = ?1");
    if (!st) return tkt_error(r, 500, "internal", "internal error");
    tkt_db_bind(st, "i", mailbox_id);
    int found = 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
      found = 1;
      own_smtp = !smtp || *(const char *)sqlite3_column_text(st, 0);
      if (own_smtp) {
        v_url = util_strdup((const char *)sqlite3_column_text(st, 0));
        v_user = util_strdup((const char *)sqlite3_column_text(st, 1));
        v_password = util_strdup((const char *)sqlite3_column_text(st, 2));
        v_tls = util_strdup((const char *)sqlite3_column_text(st, 3));
      }
      if (*(const char *)sqlite3_column_text(st, 4)) v_from_saved = util_strdup((const char *)sqlite3_column_text(st, 4));
      if (*(const char *)sqlite3_column_text(st, 5)) v_name_saved = util_strdup((const char *)sqlite3_column_text(st, 5));
    }
    tkt_db_done(st);
    if (!found) return tkt_error(r, 404, "not_found", "no such mailbox");
  }
  if (!own_smtp && !v_url) {
    v_url = tkt_setting_new(smtp ? "mail.smtp_url" : "mail.imap_url");
    v_user = tkt_setting_new(smtp ? "mail.smtp_user" : "mail.imap_user");
    v_password = tkt_setting_new(smtp ? "mail.smtp_password" : "mail.imap_password");
    v_tls = tkt_setting_new(smtp ? "mail.smtp_tls" : "mail.imap_tls");
  }
  take_override(url, &v_url);
  take_override(user, &v_user);
  take_override(password, &v_password);
  take_override(tls, &v_tls);
  char err[200] = "";
  char *checked = NULL;
  if (!v_url || !*v_url) {
    rc = tkt_error(r, 422, "not_configured", "no %s server is set: give a url or save one first",
                    smtp ? "SMTP" : "IMAP");
  } else if (smtp ? tkt_smtp_url_check(v_url, err, sizeof err) != 0
                  : !(checked = tkt_imap_url_new(v_url, err, sizeof err))) {
    rc = tkt_field_error(r, "invalid_field", "url", "url: %s", err);
  }
  char *v_from = NULL, *v_from_name = NULL;
  if (!rc && *send_to) {
    v_from = *from_checked ? util_strdup(from_checked) : v_from_saved ? util_strdup(v_from_saved) : tkt_setting_new("mail.from");
    v_from_name = v_name_saved ? util_strdup(v_name_saved) : tkt_setting_new("mail.from_name");
    if (!v_from || !*v_from)
      rc = tkt_field_error(r, "missing_field", "from", "a test mail needs a sender: give from or set mail.from");
  }
  if (!rc && atomic_fetch_add(&tests_running, 1) >= TESTS_AT_ONCE) {
    atomic_fetch_sub(&tests_running, 1);
    rc = tkt_error(r, 429, "busy", "other connection tests are running: try again in a moment");
  }
  free(v_from_saved);
  free(v_name_saved);
  if (rc) {
    free(v_url); free(v_user); free(v_password); free(checked); free(v_from); free(v_from_name); free(v_tls);
    return rc;
  }
  cJSON *out = cJSON_CreateObject();
  cJSON_AddStringToObject(out, "kind", kind);
  if (smtp) tkt_smtp_test(v_url, v_user, v_password, v_tls, v_from, v_from_name, *send_to ? send_to : NULL, tkt_lang(r), out);
  else tkt_imap_test(checked, v_user, v_password, v_tls, out);
  atomic_fetch_sub(&tests_running, 1);
  const cJSON *okj = cJSON_GetObjectItemCaseSensitive(out, "ok");
  const char *error = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(out, "error"));
  tkt_log(DESTEK_LOG_INFO, "mail: connection test (%s, mailbox %lld) by user %lld: %s%s", kind,
                (long long)mailbox_id, (long long)tkt_user_id(r), cJSON_IsTrue(okj) ? "ok" : "failed: ",
                error ? error : "");
  free(v_url); free(v_user); free(v_password); free(checked); free(v_from); free(v_from_name); free(v_tls);
  return tkt_reply_json(r, 200, out);
}

static const struct destek_route mailbox_routes[] = {
  { "GET",    "/api/v1/mailboxes",      mailbox_list,   DESTEK_ADMIN, NULL,     0 },
  { "POST",   "/api/v1/mailboxes",      mailbox_create, DESTEK_ADMIN, NULL,     0 },
  { "GET",    "/api/v1/mailboxes/{id}", mailbox_get,    DESTEK_ADMIN, "id:int", 0 },
  { "PATCH",  "/api/v1/mailboxes/{id}", mailbox_update, DESTEK_ADMIN, "id:int", 0 },
  { "DELETE", "/api/v1/mailboxes/{id}", mailbox_delete, DESTEK_ADMIN, "id:int", 0 },
  { "GET",    "/api/v1/mail/status",    mail_status,    DESTEK_ADMIN, NULL,     0 },
  { "POST",   "/api/v1/mail/test",      mail_test,      DESTEK_ADMIN, NULL,     0 },
  { 0 }
};

int tkt_mailboxes_init(const struct destek_host *host)
{
  return host->routes(host, mailbox_routes);
}
