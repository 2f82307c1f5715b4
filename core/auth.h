/* Authentication: password hashing, sessions, API tokens, access and CSRF checks, login limits. */
#ifndef DESTEK_AUTH_H
#define DESTEK_AUTH_H
#include <stdint.h>

#include "http.h"

#define AUTH_PBKDF2_ITERATIONS 600000
#define AUTH_SESSION_IDLE_SECONDS (12 * 3600)
#define AUTH_SESSION_MAX_SECONDS (7 * 24 * 3600)
#define AUTH_PASSWORD_MIN 8
#define AUTH_PASSWORD_MAX 1024

/* PBKDF2-HMAC-SHA256 with a random 16-byte salt: "pbkdf2_sha256$ITER$SALT$HASH" (base64url), caller frees.
 * NULL when too many hashes are already running or queued (the caller answers 429). */
/* The PBKDF2 count new hashes get: AUTH_PBKDF2_ITERATIONS unless DESTEK_PASSWORD_ITERATIONS says otherwise. */
unsigned auth_password_iterations(void);
char *auth_password_hash_new(const char *password);
/* 1 when password matches stored, 0 when not, -1 when the hashing queue is full. Runs a full hash even when
 * stored is NULL (unknown user), so that timing does not tell which accounts exist. */
int auth_password_verify(const char *password, const char *stored);

/* Fills r->who from the session cookie or the bearer token. Returns 0, or the 401 it set up for a bad token or
 * another Authorization scheme; with lenient (public routes) those leave the caller anonymous instead. */
int auth_identify(struct destek_req *r, int lenient);
/* The scopes a token may use now, from those it holds (held, a JSON array) and its owner's current role: an admin's
 * token all of them; an agent's token only "agent" (held as "agent" or "admin"), because every other scope —
 * "metrics" and those plugins declare — names routes that only admins' sessions reach; an inactive owner's token
 * none. A new array (caller frees). Checked at every use, so demoting or deactivating the owner takes effect at once. */
cJSON *auth_token_scopes_new(const cJSON *held, const char *role, int active);
/* Whether who may call a route declared with access. */
int auth_allows(const struct auth_who *who, const char *access);
/* Whether a cookie-authenticated write carries the session's CSRF token. */
int auth_csrf_ok(struct destek_req *r);

/* Creates a session for user_id inside the request's transaction, sets the cookie on the response and fills
 * r->who (including the CSRF token). 0 or -1 (the error is set up). */
int auth_session_start(struct destek_req *r, int64_t user_id);
/* Ends the caller's session and clears the cookie. */
void auth_session_end(struct destek_req *r);
/* Deletes every session of user_id (password change, deactivation). */
int auth_sessions_revoke_user(struct db *w, int64_t user_id);

/* Password attempts (sign-in, the current password of a password change) are limited: 10 failures per account
 * since its last success and 50 per client address, within 15 minutes. An attempt takes its slots before the password
 * is checked — a check takes half a second, and slots counted only after it let parallel attempts all pass — and
 * gives them back when it turns out not to be a failure. */
struct auth_attempt {
  char kind[24];          /* "<what>.account" */
  char account[256];
  int64_t account_hit, ip_hit;
};
/* Takes the slots of one attempt at what ("login", "password") on account (and on ip unless NULL). 0 when taken;
 * the seconds until a slot frees when the limit is reached; -1 on a database error. Call before the request's
 * transaction (it holds the writer for a moment). */
int auth_attempt_begin(struct auth_attempt *a, const char *what, const char *account, const char *ip);
/* After the check: outcome 1 (the password was right: the account's failures are forgotten and the address's slot
 * given back, on w, the request's transaction), 0 (wrong: the slots stay, counted as failures), -1 (not checked,
 * the server was too busy: given back at once). */
void auth_attempt_end(struct auth_attempt *a, struct db *w, int outcome);

/* Checks a new password's length; 0 or the 422 it set up. */
int auth_password_check(struct destek_req *r, const char *field, const char *password);

/* The public view of a user row: {id,email,name,role,lang,active,created_at,updated_at}, or NULL if absent. */
cJSON *auth_user_json(struct db *db, int64_t user_id);

/* Setup: creates the one-time setup token when no admin exists, storing its hash. Returns the token (caller frees)
 * or NULL when an admin exists. */
char *auth_setup_token_new(struct db *w);
int auth_admin_exists(struct db *db);

/* Creates a user; returns the new id, 0 when the e-mail is taken, -1 on error. password_hash is taken as is. */
int64_t auth_user_insert(struct db *w, const char *email, const char *name, const char *role, const char *lang,
                         const char *password_hash);

#endif
