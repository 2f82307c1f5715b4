/* Rate limits: "at most N of this per window", checked and counted in one step.
 *
 * Counting rows and writing one later lets requests that run in parallel all see the same free slot (fifteen
 * parallel forms with three slots left were all accepted). Here the count and the new row are made while the caller
 * holds the writer, which every write of the process goes through one at a time (db.c): no other request can count
 * between the two. Hits are rows of core_rate_hits, so limits hold across restarts. */
#include "ratelimit.h"

#include <time.h>

#include "db.h"

static const char SQL_SWEEP[] =
  "DELETE FROM core_rate_hits WHERE id IN (SELECT id FROM core_rate_hits WHERE kind = ?1 AND at <= ?2 LIMIT 64)";
/* Counted only up to the limit: a key with many live hits (a high limit) costs no more than a full window. */
static const char SQL_COUNT[] =
  "SELECT count(*) FROM (SELECT 1 FROM core_rate_hits WHERE kind = ?1 AND key = ?2 AND at > ?3 LIMIT ?4)";
/* The hit whose expiry frees a slot: the limit-th newest. */
static const char SQL_FREES_FIRST[] =
  "SELECT at FROM core_rate_hits WHERE kind = ?1 AND key = ?2 AND at > ?3 ORDER BY at DESC, id DESC LIMIT 1 OFFSET ?4";

/* Seconds until (kind, key) has a slot again, read on db; 0 when it has one now, -1 on error. */
static long wait_for_slot(struct db *db, const char *kind, const char *key, long limit, long window, int64_t now)
{
  int64_t n = db_int(db, -1, SQL_COUNT, "ttii", kind, key, now - window, (int64_t)limit);
  if (n < 0) return -1;
  if (n < limit) return 0;
  int64_t frees = db_int(db, now, SQL_FREES_FIRST, "ttii", kind, key, now - window, (int64_t)(limit - 1));
  long wait = (long)(frees + window - now);
  return wait > 0 ? wait : 1;
}

int64_t ratelimit_take(struct db *w, const char *kind, const char *key, long limit, long window, long *wait)
{
  int64_t now = (int64_t)time(NULL);
  if (wait) *wait = 0;
  /* Expired hits of this kind go a few at a time, so that the table stays the size of the live windows. */
  db_exec(w, SQL_SWEEP, "ti", kind, now - window);
  if (limit > 0) {
    long left = wait_for_slot(w, kind, key, limit, window, now);
    if (left < 0) return -1;
    if (left > 0) {
      if (wait) *wait = left;
      return 0;
    }
  }
  if (db_exec(w, "INSERT INTO core_rate_hits(kind, key, at) VALUES (?1, ?2, ?3)", "tti", kind, key, now) != SQLITE_OK)
    return -1;
  return db_last_id(w);
}

int64_t ratelimit_take_now(const char *kind, const char *key, long limit, long window, long *wait)
{
  struct db *w = db_writer_acquire();
  int64_t id = -1;
  if (db_begin(w) == 0) {
    id = ratelimit_take(w, kind, key, limit, window, wait);
    if (id < 0) db_rollback(w);
    else if (db_commit(w) != 0) id = -1;
  }
  db_writer_release(w);
  return id;
}

long ratelimit_full(struct db *db, const char *kind, const char *key, long limit, long window)
{
  if (!db || limit <= 0) return 0;
  long wait = wait_for_slot(db, kind, key, limit, window, (int64_t)time(NULL));
  return wait > 0 ? wait : 0;
}

int ratelimit_forget(struct db *w, int64_t hit_id)
{
  if (hit_id <= 0) return 0;
  return db_exec(w, "DELETE FROM core_rate_hits WHERE id = ?1", "i", hit_id) == SQLITE_OK ? 0 : -1;
}

void ratelimit_forget_now(int64_t hit_id)
{
  if (hit_id <= 0) return;
  struct db *w = db_writer_acquire();
  ratelimit_forget(w, hit_id);
  db_writer_release(w);
}

int ratelimit_clear(struct db *w, const char *kind, const char *key)
{
  return db_exec(w, "DELETE FROM core_rate_hits WHERE kind = ?1 AND key = ?2", "tt", kind, key) == SQLITE_OK ? 0 : -1;
}
