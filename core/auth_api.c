/* Routes for setup, login, logout and the caller's own account. */
#include "auth_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "auth.h"
#include "db.h"
#include "log.h"
#include "users_api.h"
#include "util.h"

static const char *const LANGS[] = { "tr", "en", NULL };

/* {"user": U, "csrf_token": "..."} for the caller. */
static int reply_me(struct destek_req *r, int status)
{
  cJSON *user = auth_user_json(http_db(r), r->who.user_id);
  if (!user) return http_error(r, 500, "internal", "the account could not be read");
  cJSON *o = cJSON_CreateObject();
  cJSON_AddItemToObject(o, "user", user);
  if (r->who.via == AUTH_COOKIE) cJSON_AddStringToObject(o, "csrf_token", r->who.csrf);
  return http_reply_json(r, status, o);
}

/* Takes the slots of a password attempt (auth_attempt_begin): 0, or the 429 (with Retry-After) or 503 it set up.
 * what_plural names the attempts in the message. */
static int attempt_begin(struct destek_req *r, struct auth_attempt *a, const char *what, const char *account,
                         const char *ip, const char *what_plural)
{
  int wait = auth_attempt_begin(a, what, account, ip);
  if (wait < 0) return http_error(r, 503, "db_busy", "the database is busy; try again");
  if (wait == 0) return 0;
  char secs[16];
  snprintf(secs, sizeof secs, "%d", wait);
  http_add_header(r, "Retry-After", secs);
  return http_error(r, 429, "too_many_attempts", "too many failed %s; try again in %d minutes", what_plural,
                    (wait + 59) / 60);
}

/* Whether token is the setup token whose hash db holds (compared in constant time). */
static int setup_token_ok(struct db *db, const char *token)
{
  char *stored = db_text_new(db, "SELECT value FROM core_kv WHERE key = 'setup_token_hash'", NULL);
  char sent_hash[65];
  util_sha256_hex(token, strlen(token), sent_hash);
  int ok = stored && strlen(stored) == 64 && util_ct_equal(stored, sent_hash, 64);
  free(stored);
  return ok;
}

static int setup_status(struct destek_req *r)
{
  struct db *db = http_db(r);
  if (!db) return http_error(r, 503, "db_unavailable", "the database cannot be opened");
  cJSON *o = cJSON_CreateObject();
  cJSON_AddBoolToObject(o, "needed", !auth_admin_exists(db));
  return http_reply_json(r, 200, o);
}

static int setup_create(struct destek_req *r)
{
  cJSON *body;
  const char *token, *name, *password, *lang;
  char email[256];
  int rc;
  if ((rc = http_body_object(r, &body)) || (rc = http_field_str(r, body, "token", FIELD_REQUIRED, 128, &token)) ||
      (rc = http_field_email(r, body, "email", FIELD_REQUIRED, email)) ||
      (rc = http_field_str(r, body, "name", FIELD_REQUIRED, 200, &name)) ||
      (rc = http_field_str(r, body, "password", FIELD_REQUIRED, AUTH_PASSWORD_MAX, &password)) ||
      (rc = http_field_enum(r, body, "lang", FIELD_OPTIONAL, LANGS, &lang)) ||
      (rc = auth_password_check(r, "password", password)))
    return rc;
  if (auth_admin_exists(http_db(r))) return http_error(r, 409, "setup_done", "setup is already done; sign in");
  /* The token first: a wrong one costs no password hash (the check is repeated inside the transaction). */
  if (!setup_token_ok(http_db(r), token))
    return http_error(r, 403, "bad_setup_token", "the setup link is wrong or has expired; use the one the server printed");
  char *hash = auth_password_hash_new(password);
  if (!hash) {
    http_add_header(r, "Retry-After", "5");
    return http_error(r, 429, "rate_limited", "the server is busy checking passwords; try again in a few seconds");
  }
  struct db *w = http_tx(r);
  if (!w) { free(hash); return r->status; }
  /* Checked again inside the transaction: two setups racing must not both win. */
  if (auth_admin_exists(w)) { free(hash); return http_error(r, 409, "setup_done", "setup is already done; sign in"); }
  if (!setup_token_ok(w, token)) {
    free(hash);
    return http_error(r, 403, "bad_setup_token", "the setup link is wrong or has expired; use the one the server printed");
  }
  int64_t id = auth_user_insert(w, email, name, "admin", lang, hash);
  free(hash);
  if (id == 0) return http_error(r, 409, "email_taken", "a user with this e-mail exists");
  if (id < 0) return http_error(r, 500, "internal", "the admin could not be created");
  db_exec(w, "DELETE FROM core_kv WHERE key = 'setup_token_hash'", NULL);
  if (auth_session_start(r, id) != 0) return r->status;
  snprintf(r->who.email, sizeof r->who.email, "%s", email);
  audit_log(w, r, "setup", email, NULL);
  if ((rc = users_emit(r, "user.created", id))) return rc;
  log_info("auth", "first admin %s created through setup", email);
  return reply_me(r, 201);
}

static int login(struct destek_req *r)
{
  cJSON *body;
  const char *password;
  char email[256];
  int rc;
  if ((rc = http_body_object(r, &body)) || (rc = http_field_email(r, body, "email", FIELD_REQUIRED, email)) ||
      (rc = http_field_str(r, body, "password", FIELD_REQUIRED, AUTH_PASSWORD_MAX, &password)))
    return rc;
  struct db *db = http_db(r);
  if (!db) return http_error(r, 503, "db_unavailable", "the database cannot be opened");
  struct auth_attempt attempt;
  if ((rc = attempt_begin(r, &attempt, "login", email, r->ip, "sign-ins"))) return rc;
  int64_t user_id = 0;
  char *stored = NULL;
  sqlite3_stmt *st = db_prepare(db, "SELECT id, password_hash FROM core_users WHERE email = ?1 AND active = 1");
  if (st) {
    db_bind(st, "t", email);
    if (sqlite3_step(st) == SQLITE_ROW) {
      user_id = sqlite3_column_int64(st, 0);
      stored = util_strdup((const char *)sqlite3_column_text(st, 1));
    }
    db_done(st);
  }
  int ok = auth_password_verify(password, stored);
  free(stored);
  if (ok < 0) {
    auth_attempt_end(&attempt, NULL, -1);
    http_add_header(r, "Retry-After", "5");
    return http_error(r, 429, "rate_limited", "the server is busy checking passwords; try again in a few seconds");
  }
  if (!ok || !user_id) {
    auth_attempt_end(&attempt, NULL, 0);
    audit_log_now(r, "anonymous", "login_failed", email, NULL);
    return http_error(r, 401, "bad_credentials", "wrong e-mail or password");
  }
  struct db *w = http_tx(r);
  if (!w) return r->status;
  auth_attempt_end(&attempt, w, 1);
  if (auth_session_start(r, user_id) != 0) return r->status;
  snprintf(r->who.email, sizeof r->who.email, "%s", email);
  audit_log(w, r, "login", email, NULL);
  return reply_me(r, 200);
}

static int logout(struct destek_req *r)
{
  if (r->who.via != AUTH_COOKIE) return http_error(r, 400, "not_a_session", "only a browser session can sign out");
  struct db *w = http_tx(r);
  if (!w) return r->status;
  auth_session_end(r);
  audit_log(w, r, "logout", r->who.email, NULL);
  return http_reply_empty(r, 204);
}

static int me_get(struct destek_req *r) { return reply_me(r, 200); }

static int me_update(struct destek_req *r)
{
  cJSON *body;
  const char *name, *lang, *password, *current;
  int rc;
  if ((rc = http_body_object(r, &body)) || (rc = http_field_str(r, body, "name", FIELD_OPTIONAL, 200, &name)) ||
      (rc = http_field_enum(r, body, "lang", FIELD_OPTIONAL, LANGS, &lang)) ||
      (rc = http_field_str(r, body, "password", FIELD_OPTIONAL, AUTH_PASSWORD_MAX, &password)) ||
      (rc = http_field_str(r, body, "current_password", FIELD_OPTIONAL, AUTH_PASSWORD_MAX, &current)))
    return rc;
  char *hash = NULL;
  struct auth_attempt attempt;
  if (password) {
    if ((rc = auth_password_check(r, "password", password))) return rc;
    if (!current) return http_field_error(r, "missing_field", "current_password",
                                          "current_password is required to change the password");
    char account[32];
    snprintf(account, sizeof account, "user:%lld", (long long)r->who.user_id);
    if ((rc = attempt_begin(r, &attempt, "password", account, NULL, "password checks"))) return rc;
    char *stored = db_text_new(http_db(r), "SELECT password_hash FROM core_users WHERE id = ?1", "i", r->who.user_id);
    int ok = auth_password_verify(current, stored);
    free(stored);
    if (ok < 0) {
      auth_attempt_end(&attempt, NULL, -1);
      return http_error(r, 429, "rate_limited", "the server is busy checking passwords; try again");
    }
    if (!ok) {
      auth_attempt_end(&attempt, NULL, 0);
      return http_error(r, 403, "bad_credentials", "the current password is wrong");
    }
    if (!(hash = auth_password_hash_new(password))) {
      auth_attempt_end(&attempt, NULL, -1);
      return http_error(r, 429, "rate_limited", "the server is busy checking passwords; try again");
    }
  }
  struct db *w = http_tx(r);
  if (!w) { free(hash); return r->status; }
  if (hash) auth_attempt_end(&attempt, w, 1);
  char now[21];
  util_iso_time(time(NULL), now);
  rc = db_exec(w, "UPDATE core_users SET name = coalesce(?2, name), lang = coalesce(?3, lang),"
                  " password_hash = coalesce(?4, password_hash), updated_at = ?5 WHERE id = ?1",
               "ittt" "t", r->who.user_id, name, lang, hash, now);
  if (rc != SQLITE_OK) { free(hash); return http_error(r, 500, "internal", "the account could not be saved"); }
  if (hash) {
    free(hash);
    /* Every session of this user ends, including this one; the caller gets a fresh one. */
    auth_sessions_revoke_user(w, r->who.user_id);
    if (r->who.via == AUTH_COOKIE && auth_session_start(r, r->who.user_id) != 0) return r->status;
    audit_log(w, r, "password.changed", r->who.email, NULL);
  }
  return reply_me(r, 200);
}

static const struct destek_route routes[] = {
  { "GET",   "/api/v1/setup",       setup_status, DESTEK_PUBLIC, NULL },
  { "POST",  "/api/v1/setup",       setup_create, DESTEK_PUBLIC, NULL },
  { "POST",  "/api/v1/auth/login",  login,        DESTEK_PUBLIC, NULL },
  { "POST",  "/api/v1/auth/logout", logout,       DESTEK_AGENT,  NULL },
  { "GET",   "/api/v1/me",          me_get,       DESTEK_AGENT,  NULL },
  { "PATCH", "/api/v1/me",          me_update,    DESTEK_AGENT,  NULL },
  { 0 }
};

int auth_api_init(void) { return http_routes_add("core", routes); }
