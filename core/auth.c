/* Authentication: password hashing, sessions, API tokens, access and CSRF checks, login limits. */
#include "auth.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <civetweb.h>
#include <mbedtls/md.h>
#include <mbedtls/pkcs5.h>

#include "db.h"
#include "log.h"
#include "ratelimit.h"
#include "util.h"

/* ------------------------------------------------------------------------------------------------ passwords */

/* Each hash costs ~0.45 s of CPU: at most HASH_RUNNING run at once and HASH_QUEUED wait, so that a login flood
 * cannot hold every worker thread. */
#define HASH_RUNNING 2
#define HASH_QUEUED 8
static pthread_mutex_t hash_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hash_cond = PTHREAD_COND_INITIALIZER;
static int hash_running, hash_waiting;

static int hash_slot_enter(void)
{
  pthread_mutex_lock(&hash_lock);
  if (hash_running >= HASH_RUNNING && hash_waiting >= HASH_QUEUED) {
    pthread_mutex_unlock(&hash_lock);
    return -1;
  }
  hash_waiting++;
  while (hash_running >= HASH_RUNNING) pthread_cond_wait(&hash_cond, &hash_lock);
  hash_waiting--;
  hash_running++;
  pthread_mutex_unlock(&hash_lock);
  return 0;
}

static void hash_slot_leave(void)
{
  pthread_mutex_lock(&hash_lock);
  hash_running--;
  pthread_cond_signal(&hash_cond);
  pthread_mutex_unlock(&hash_lock);
}

static int pbkdf2(const char *password, const unsigned char *salt, size_t salt_len, unsigned iterations,
                  unsigned char out[32])
{
  mbedtls_md_context_t md;
  mbedtls_md_init(&md);
  int rc = mbedtls_md_setup(&md, mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), 1);
  if (rc == 0)
    rc = mbedtls_pkcs5_pbkdf2_hmac(&md, (const unsigned char *)password, strlen(password), salt, salt_len,
                                   iterations, 32, out);
  mbedtls_md_free(&md);
  return rc;
}

/* The work factor of new hashes. DESTEK_PASSWORD_ITERATIONS lowers it for a test suite, whose thousands of
 * log-ins would otherwise spend minutes hashing; stored hashes carry their own count, so verifying is unaffected.
 * Read once; a value outside [1000, 10,000,000] is ignored. */
static unsigned new_iterations = AUTH_PBKDF2_ITERATIONS;
static pthread_once_t iterations_once = PTHREAD_ONCE_INIT;

static void iterations_read(void)
{
  const char *v = getenv("DESTEK_PASSWORD_ITERATIONS");
  if (!v || !*v) return;
  char *end;
  unsigned long n = strtoul(v, &end, 10);
  if (*end || n < 1000 || n > 10000000) {
    log_warn("auth", "DESTEK_PASSWORD_ITERATIONS=%s ignored (1000 to 10000000)", v);
    return;
  }
  new_iterations = (unsigned)n;
  if (n < AUTH_PBKDF2_ITERATIONS)
    log_warn("auth", "new password hashes use %lu PBKDF2 iterations (DESTEK_PASSWORD_ITERATIONS), fewer than the "
             "default %d: meant for test suites", n, AUTH_PBKDF2_ITERATIONS);
}

unsigned auth_password_iterations(void)
{
  pthread_once(&iterations_once, iterations_read);
  return new_iterations;
}

char *auth_password_hash_new(const char *password)
{
  unsigned char salt[16], key[32];
  util_random(salt, sizeof salt);
  if (hash_slot_enter() != 0) return NULL;
  unsigned iterations = auth_password_iterations();
  int rc = pbkdf2(password, salt, sizeof salt, iterations, key);
  hash_slot_leave();
  if (rc != 0) { log_error("auth", "pbkdf2 failed: %d", rc); return NULL; }
  char salt64[32], key64[48];
  util_b64url_encode(salt, sizeof salt, salt64);
  util_b64url_encode(key, sizeof key, key64);
  char *out;
  if (asprintf(&out, "pbkdf2_sha256$%u$%s$%s", iterations, salt64, key64) < 0) abort();
  return out;
}

int auth_password_verify(const char *password, const char *stored)
{
  unsigned char salt[32], want[64], got[32];
  long salt_len = -1, want_len = -1;
  unsigned iterations = AUTH_PBKDF2_ITERATIONS;
  if (stored && strncmp(stored, "pbkdf2_sha256$", 14) == 0) {
    char copy[256];
    snprintf(copy, sizeof copy, "%s", stored + 14);
    char *it = strtok(copy, "$"), *s = strtok(NULL, "$"), *h = strtok(NULL, "$");
    if (it && s && h) {
      iterations = (unsigned)strtoul(it, NULL, 10);
      salt_len = util_b64url_decode(s, salt, sizeof salt);
      want_len = util_b64url_decode(h, want, sizeof want);
    }
  }
  int usable = salt_len > 0 && want_len == 32 && iterations >= 1000 && iterations <= 10000000;
  if (!usable) {  /* unknown user or unreadable hash: spend the same time, then fail */
    util_random(salt, 16);
    salt_len = 16;
    iterations = auth_password_iterations();
  }
  if (hash_slot_enter() != 0) return -1;
  int rc = pbkdf2(password, salt, (size_t)salt_len, iterations, got);
  hash_slot_leave();
  return usable && rc == 0 && util_ct_equal(got, want, 32);
}

int auth_password_check(struct destek_req *r, const char *field, const char *password)
{
  size_t n = strlen(password);
  if (n < AUTH_PASSWORD_MIN)
    return http_field_error(r, "invalid_field", field, "%s must be at least %d characters", field, AUTH_PASSWORD_MIN);
  if (n > AUTH_PASSWORD_MAX)
    return http_field_error(r, "invalid_field", field, "%s must be at most %d characters", field, AUTH_PASSWORD_MAX);
  return 0;
}

/* ------------------------------------------------------------------------------------------------ identify */

static void fill_user(struct auth_who *who, sqlite3_stmt *st, int col)
{
  who->user_id = sqlite3_column_int64(st, col);
  snprintf(who->role, sizeof who->role, "%s", (const char *)sqlite3_column_text(st, col + 1));
  snprintf(who->email, sizeof who->email, "%s", (const char *)sqlite3_column_text(st, col + 2));
  snprintf(who->name, sizeof who->name, "%s", (const char *)sqlite3_column_text(st, col + 3));
  snprintf(who->lang, sizeof who->lang, "%s", (const char *)sqlite3_column_text(st, col + 4));
}

static const char SQL_SESSION_LOOKUP[] =
  "SELECT s.id, s.csrf_token, s.last_seen_at, s.expires_at, u.id, u.role, u.email, u.name, u.lang"
  " FROM core_sessions s JOIN core_users u ON u.id = s.user_id WHERE s.token_hash = ?1 AND u.active = 1";

static void identify_cookie(struct destek_req *r, const char *token)
{
  char hash[65];
  util_sha256_hex(token, strlen(token), hash);
  struct db *db = http_db(r);
  if (!db) return;
  sqlite3_stmt *st = db_prepare(db, SQL_SESSION_LOOKUP);
  if (!st) return;
  db_bind(st, "t", hash);
  int64_t now = time(NULL), last_seen = 0, session_id = 0;
  if (sqlite3_step(st) == SQLITE_ROW) {
    last_seen = sqlite3_column_int64(st, 2);
    int64_t expires = sqlite3_column_int64(st, 3);
    if (now < expires && now - last_seen < AUTH_SESSION_IDLE_SECONDS) {
      session_id = sqlite3_column_int64(st, 0);
      r->who.via = AUTH_COOKIE;
      r->who.session_id = session_id;
      snprintf(r->who.csrf, sizeof r->who.csrf, "%s", (const char *)sqlite3_column_text(st, 1));
      fill_user(&r->who, st, 4);
    }
  }
  db_done(st);
  /* Keep the idle clock running, but write at most once a minute per session. */
  if (session_id && now - last_seen >= 60 && !r->tx) {
    struct db *w = db_writer_acquire();
    db_exec(w, "UPDATE core_sessions SET last_seen_at = ?2 WHERE id = ?1", "ii", session_id, now);
    db_writer_release(w);
  }
}

cJSON *auth_token_scopes_new(const cJSON *held, const char *role, int active)
{
  cJSON *out = cJSON_CreateArray();
  if (!active || !role) return out;
  int is_admin = !strcmp(role, "admin"), as_agent = 0;
  const cJSON *s;
  cJSON_ArrayForEach(s, held) {
    if (!cJSON_IsString(s)) continue;
    if (is_admin) cJSON_AddItemToArray(out, cJSON_CreateString(s->valuestring));
    else if (!strcmp(s->valuestring, "agent") || !strcmp(s->valuestring, "admin")) as_agent = 1;
  }
  if (as_agent) cJSON_AddItemToArray(out, cJSON_CreateString("agent"));
  return out;
}

static const char SQL_TOKEN_LOOKUP[] =
  "SELECT t.id, t.scopes, t.last_used_at, u.id, u.role, u.email, u.name, u.lang"
  " FROM core_tokens t JOIN core_users u ON u.id = t.user_id"
  " WHERE t.token_hash = ?1 AND t.revoked_at IS NULL AND u.active = 1";

static int identify_bearer(struct destek_req *r, const char *token, int lenient)
{
  char hash[65];
  util_sha256_hex(token, strlen(token), hash);
  struct db *db = http_db(r);
  if (!db) return http_error(r, 503, "db_unavailable", "the database cannot be opened");
  sqlite3_stmt *st = db_prepare(db, SQL_TOKEN_LOOKUP);
  if (!st) return http_error(r, 500, "internal", "internal error");
  db_bind(st, "t", hash);
  int64_t token_id = 0;
  char last_used[32] = "";
  if (sqlite3_step(st) == SQLITE_ROW) {
    token_id = sqlite3_column_int64(st, 0);
    r->who.via = AUTH_BEARER;
    r->who.token_id = token_id;
    /* scopes as " a b c " for whole-word lookups: those the owner's role lets the token use now */
    cJSON *held = cJSON_Parse((const char *)sqlite3_column_text(st, 1));
    cJSON *arr = auth_token_scopes_new(held, (const char *)sqlite3_column_text(st, 4), 1);
    cJSON_Delete(held);
    size_t cap = 4;
    for (cJSON *s = arr ? arr->child : NULL; s; s = s->next) if (cJSON_IsString(s)) cap += strlen(s->valuestring) + 1;
    r->who.scopes = malloc(cap);
    if (!r->who.scopes) abort();
    strcpy(r->who.scopes, " ");
    for (cJSON *s = arr ? arr->child : NULL; s; s = s->next)
      if (cJSON_IsString(s)) { strcat(r->who.scopes, s->valuestring); strcat(r->who.scopes, " "); }
    cJSON_Delete(arr);
    if (sqlite3_column_type(st, 2) != SQLITE_NULL)
      snprintf(last_used, sizeof last_used, "%s", (const char *)sqlite3_column_text(st, 2));
    fill_user(&r->who, st, 3);
  }
  db_done(st);
  if (!token_id) {
    free(r->who.scopes);
    memset(&r->who, 0, sizeof r->who);
    return lenient ? 0 : http_error(r, 401, "unauthenticated", "the API token is unknown or revoked");
  }
  char now[21];
  util_iso_time(time(NULL), now);
  if (strncmp(last_used, now, 16) != 0 && !r->tx) {  /* at most once a minute */
    struct db *w = db_writer_acquire();
    db_exec(w, "UPDATE core_tokens SET last_used_at = ?2 WHERE id = ?1", "it", token_id, now);
    db_writer_release(w);
  }
  return 0;
}

int auth_identify(struct destek_req *r, int lenient)
{
  const char *authz = http_header(r, "Authorization");
  if (authz && strncasecmp(authz, "Bearer ", 7) == 0) {
    const char *tok = authz + 7;
    while (*tok == ' ') tok++;
    return identify_bearer(r, tok, lenient);
  }
  /* Another scheme (e.g. Basic auth of a proxy in front of a staging site) means nothing to public routes. */
  if (authz && !lenient) return http_error(r, 401, "unauthenticated", "use Authorization: Bearer <token>");
  const char *cookies = http_header(r, "Cookie");
  char token[128];
  if (cookies && mg_get_cookie(cookies, "destek_session", token, sizeof token) > 0) identify_cookie(r, token);
  return 0;
}

static int has_scope(const struct auth_who *who, const char *scope)
{
  if (!who->scopes) return 0;
  char word[80];
  snprintf(word, sizeof word, " %s ", scope);
  return strstr(who->scopes, word) != NULL;
}

int auth_allows(const struct auth_who *who, const char *access)
{
  int is_admin = !strcmp(who->role, "admin");
  switch (who->via) {
  case AUTH_NONE:
    return !strcmp(access, DESTEK_PUBLIC);
  case AUTH_CONTROL:
    return 1;
  case AUTH_COOKIE:
    if (is_admin) return 1;
    return !strcmp(access, DESTEK_PUBLIC) || !strcmp(access, DESTEK_AGENT);
  case AUTH_BEARER:
    if (!strcmp(access, DESTEK_PUBLIC)) return 1;
    /* who->scopes holds only what the owner's role lets the token use now (auth_token_scopes_new), so a token never
     * does more than its owner could; the role is checked here again all the same: an agent's token is an agent's. */
    if (!is_admin) return !strcmp(access, DESTEK_AGENT) && (has_scope(who, "agent") || has_scope(who, "admin"));
    if (has_scope(who, "admin")) return 1;
    if (!strcmp(access, DESTEK_ADMIN)) return 0;
    return has_scope(who, access) || (!strcmp(access, DESTEK_AGENT) && has_scope(who, "agent"));
  }
  return 0;
}

int auth_csrf_ok(struct destek_req *r)
{
  const char *sent = http_header(r, "X-CSRF-Token");
  size_t n = strlen(r->who.csrf);
  return sent && n > 0 && strlen(sent) == n && util_ct_equal(sent, r->who.csrf, n);
}

/* ------------------------------------------------------------------------------------------------ sessions */

static void set_cookie(struct destek_req *r, const char *value, int max_age)
{
  char cookie[256];
  snprintf(cookie, sizeof cookie, "destek_session=%s; Path=/; Max-Age=%d; HttpOnly; SameSite=Lax%s", value, max_age,
           r->tls ? "; Secure" : "");
  http_add_header(r, "Set-Cookie", cookie);
}

int auth_session_start(struct destek_req *r, int64_t user_id)
{
  struct db *w = http_tx(r);
  if (!w) return -1;
  char token[48], csrf[48], hash[65];
  util_token(token, 32);
  util_token(csrf, 24);
  util_sha256_hex(token, strlen(token), hash);
  int64_t now = time(NULL);
  const char *ua = http_header(r, "User-Agent");
  char ua_short[200];
  snprintf(ua_short, sizeof ua_short, "%s", ua ? ua : "");
  if (db_exec(w, "INSERT INTO core_sessions(user_id, token_hash, csrf_token, created_at, last_seen_at, expires_at,"
                 " ip, user_agent) VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6, ?7)",
              "ittiitt", user_id, hash, csrf, now, now + AUTH_SESSION_MAX_SECONDS, r->ip, ua_short) != SQLITE_OK) {
    http_error(r, 500, "internal", "cannot create the session");
    return -1;
  }
  r->who.via = AUTH_COOKIE;
  r->who.session_id = db_last_id(w);
  r->who.user_id = user_id;
  snprintf(r->who.csrf, sizeof r->who.csrf, "%s", csrf);
  set_cookie(r, token, AUTH_SESSION_MAX_SECONDS);
  /* Expired sessions are removed here, a little at a time, rather than by a timer. */
  db_exec(w, "DELETE FROM core_sessions WHERE id IN (SELECT id FROM core_sessions WHERE expires_at < ?1"
             " OR last_seen_at < ?2 LIMIT 100)", "ii", now, now - AUTH_SESSION_IDLE_SECONDS);
  return 0;
}

void auth_session_end(struct destek_req *r)
{
  struct db *w = http_tx(r);
  if (w && r->who.session_id) db_exec(w, "DELETE FROM core_sessions WHERE id = ?1", "i", r->who.session_id);
  set_cookie(r, "", 0);
}

int auth_sessions_revoke_user(struct db *w, int64_t user_id)
{
  return db_exec(w, "DELETE FROM core_sessions WHERE user_id = ?1", "i", user_id) == SQLITE_OK ? 0 : -1;
}

/* ------------------------------------------------------------------------------------------------ limits */

#define ATTEMPT_WINDOW 900
#define ATTEMPT_MAX_PER_ACCOUNT 10
#define ATTEMPT_MAX_PER_IP 50

int auth_attempt_begin(struct auth_attempt *a, const char *what, const char *account, const char *ip)
{
  memset(a, 0, sizeof *a);
  snprintf(a->kind, sizeof a->kind, "%s.account", what);
  snprintf(a->account, sizeof a->account, "%s", account);
  long wait = 0;
  int rc = -1;
  struct db *w = db_writer_acquire();
  if (db_begin(w) == 0) {
    a->account_hit = ratelimit_take(w, a->kind, account, ATTEMPT_MAX_PER_ACCOUNT, ATTEMPT_WINDOW, &wait);
    if (a->account_hit > 0 && ip) {
      char ip_kind[24];
      snprintf(ip_kind, sizeof ip_kind, "%s.ip", what);
      a->ip_hit = ratelimit_take(w, ip_kind, ip, ATTEMPT_MAX_PER_IP, ATTEMPT_WINDOW, &wait);
    }
    int taken = a->account_hit > 0 && (!ip || a->ip_hit > 0);
    if (taken && db_commit(w) == 0) {
      rc = 0;
    } else {
      if (!taken) db_rollback(w);   /* one slot without the other is no slot: neither is kept */
      if (!taken && a->account_hit >= 0 && a->ip_hit >= 0) rc = (int)(wait > 0 ? wait : 1);
      a->account_hit = a->ip_hit = 0;
    }
  }
  db_writer_release(w);
  return rc;
}

void auth_attempt_end(struct auth_attempt *a, struct db *w, int outcome)
{
  if (outcome > 0 && w) {
    ratelimit_clear(w, a->kind, a->account);
    ratelimit_forget(w, a->ip_hit);
  } else if (outcome < 0) {
    ratelimit_forget_now(a->account_hit);
    ratelimit_forget_now(a->ip_hit);
  }
  a->account_hit = a->ip_hit = 0;
}

/* ------------------------------------------------------------------------------------------------ users */

static const char SQL_USER_GET[] =
  "SELECT id, email, name, role, lang, active, created_at, updated_at FROM core_users WHERE id = ?1";

cJSON *auth_user_json(struct db *db, int64_t user_id)
{
  sqlite3_stmt *st = db_prepare(db, SQL_USER_GET);
  if (!st) return NULL;
  db_bind(st, "i", user_id);
  cJSON *o = NULL;
  if (sqlite3_step(st) == SQLITE_ROW) {
    o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(st, 0));
    cJSON_AddStringToObject(o, "email", (const char *)sqlite3_column_text(st, 1));
    cJSON_AddStringToObject(o, "name", (const char *)sqlite3_column_text(st, 2));
    cJSON_AddStringToObject(o, "role", (const char *)sqlite3_column_text(st, 3));
    cJSON_AddStringToObject(o, "lang", (const char *)sqlite3_column_text(st, 4));
    cJSON_AddBoolToObject(o, "active", sqlite3_column_int(st, 5));
    cJSON_AddStringToObject(o, "created_at", (const char *)sqlite3_column_text(st, 6));
    cJSON_AddStringToObject(o, "updated_at", (const char *)sqlite3_column_text(st, 7));
  }
  db_done(st);
  return o;
}

int auth_admin_exists(struct db *db)
{
  return db_int(db, 0, "SELECT count(*) FROM core_users WHERE role = 'admin' AND active = 1", NULL) > 0;
}

char *auth_setup_token_new(struct db *w)
{
  if (auth_admin_exists(w)) {
    db_exec(w, "DELETE FROM core_kv WHERE key = 'setup_token_hash'", NULL);
    return NULL;
  }
  char token[48], hash[65];
  util_token(token, 32);
  util_sha256_hex(token, strlen(token), hash);
  if (db_exec(w, "INSERT INTO core_kv(key, value) VALUES ('setup_token_hash', ?1)"
                 " ON CONFLICT(key) DO UPDATE SET value = excluded.value", "t", hash) != SQLITE_OK)
    return NULL;
  return util_strdup(token);
}

int64_t auth_user_insert(struct db *w, const char *email, const char *name, const char *role, const char *lang,
                         const char *password_hash)
{
  char now[21];
  util_iso_time(time(NULL), now);
  int rc = db_exec(w, "INSERT INTO core_users(email, name, role, lang, password_hash, active, created_at, updated_at)"
                      " VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6, ?6)", "tttttt", email, name, role, lang ? lang : "tr",
                   password_hash, now);
  if (rc == SQLITE_CONSTRAINT) return 0;
  if (rc != SQLITE_OK) return -1;
  return db_last_id(w);
}
