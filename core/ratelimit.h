/* Rate limits: "at most N of this per window", checked and counted in one step. */
#ifndef DESTEK_RATELIMIT_H
#define DESTEK_RATELIMIT_H
#include <stdint.h>

struct db;

/* Takes one of the `limit` slots that (kind, key) has per `window` seconds: when fewer than limit hits are younger
 * than the window, records one and returns its id (> 0); when every slot is taken, records nothing, returns 0 and
 * sets *wait to the seconds until the oldest frees (at least 1); -1 on a database error (logged). limit <= 0
 * records a hit without checking.
 *
 * w is the writer, held by the caller, so that the count and the record are one step no other request can come
 * between: inside a request's transaction (http_tx: the hit is kept only if the request commits) or between
 * db_writer_acquire and db_writer_release (kept whatever becomes of the request). */
int64_t ratelimit_take(struct db *w, const char *kind, const char *key, long limit, long window, long *wait);

/* ratelimit_take on the writer alone, committed at once: the hit stays when the request is refused later. The caller
 * must not hold the writer (call it before the request's http_tx). */
int64_t ratelimit_take_now(const char *kind, const char *key, long limit, long window, long *wait);

/* Whether (kind, key) has no slot left, read on db (any connection): a cheap early refusal before a request does
 * costly work. Only ratelimit_take decides. 0 when a slot looks free, else the seconds to wait. */
long ratelimit_full(struct db *db, const char *kind, const char *key, long limit, long window);

/* Gives one hit back (a slot taken for work that did not happen): on w (held by the caller), or on the writer alone. */
int ratelimit_forget(struct db *w, int64_t hit_id);
void ratelimit_forget_now(int64_t hit_id);

/* Forgets every hit of (kind, key) on w, held by the caller (a successful sign-in clears the account's failures). */
int ratelimit_clear(struct db *w, const char *kind, const char *key);

/* The same limit counted in memory, without the writer (ratelimit.c): 1 when a slot was taken, 0 when every slot is
 * taken (*wait: seconds until one frees, at least 1), -1 when the key is too long or the table is full of live keys
 * (the caller counts with ratelimit_take instead). Forgotten on restart. */
int ratelimit_take_memory(const char *kind, const char *key, long limit, long window, long *wait);

#endif
