/* Rate limits: "at most N of this per window", checked and counted in one step.
 *
 * Counting rows and writing one later lets requests that run in parallel all see the same free slot (fifteen
 * parallel forms with three slots left were all accepted). Here the count and the new row are made while the caller
 * holds the writer, which every write of the process goes through one at a time (db.c): no other request can count
 * between the two. Hits are rows of core_rate_hits, so limits hold across restarts. */
#include "ratelimit.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
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

/* --- in memory: for limits hit on every request of a public page, where a write per lookup would make every
 * lookup wait for the writer. Two fixed windows per key (the current one and the one before), the earlier weighted by
 * how much of it still lies inside the sliding window: within a hit or so of exact, and a few dozen bytes a key.
 * A restart forgets them (at most one more window of hits per restart). Striped by key hash; each stripe a small
 * open hash table that drops keys idle for two windows when it fills. */

#define MEM_STRIPES 64
#define MEM_SLOTS 8192            /* per stripe: 524,288 keys in all, about 70 MB at most with 96-byte keys */
#define MEM_KEY_MAX 96

struct mem_hit {
  uint64_t hash;                  /* 0: empty slot */
  int64_t start;                  /* the current fixed window's start */
  uint32_t cur, prev;
  char key[MEM_KEY_MAX];
};

static struct mem_stripe {
  pthread_mutex_t lock;
  struct mem_hit *slots;          /* lazily allocated */
  int used;
} mem[MEM_STRIPES];
static pthread_once_t mem_once = PTHREAD_ONCE_INIT;

static void mem_init(void)
{
  for (int i = 0; i < MEM_STRIPES; i++) pthread_mutex_init(&mem[i].lock, NULL);
}

static uint64_t mem_hash(const char *kind, const char *key)
{
  uint64_t h = 1469598103934665603ull;
  for (const char *p = kind; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
  h = (h ^ 0xff) * 1099511628211ull;
  for (const char *p = key; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
  return h ? h : 1;
}

/* Drops the stripe's entries idle for two windows (their counts weigh nothing any more); a rehash of what is left. */
static void mem_sweep(struct mem_stripe *s, int64_t now, long window)
{
  struct mem_hit *old = s->slots, *fresh = calloc(MEM_SLOTS, sizeof *fresh);
  if (!fresh) abort();
  int used = 0;
  for (int i = 0; i < MEM_SLOTS; i++) {
    if (!old[i].hash || old[i].start + 2 * window <= now) continue;
    uint32_t j = (uint32_t)(old[i].hash >> 32) % MEM_SLOTS;
    while (fresh[j].hash) j = (j + 1) % MEM_SLOTS;
    fresh[j] = old[i];
    used++;
  }
  free(old);
  s->slots = fresh;
  s->used = used;
}

int ratelimit_take_memory(const char *kind, const char *key, long limit, long window, long *wait)
{
  if (wait) *wait = 0;
  if (!kind || !key || window <= 0) return -1;
  size_t klen = strlen(kind), keylen = strlen(key);
  if (klen + keylen + 2 > MEM_KEY_MAX) return -1;
  if (limit <= 0) return 1;
  pthread_once(&mem_once, mem_init);
  char full[MEM_KEY_MAX];
  memcpy(full, kind, klen);
  full[klen] = '\n';
  memcpy(full + klen + 1, key, keylen + 1);
  uint64_t h = mem_hash(kind, key);
  struct mem_stripe *s = &mem[h % MEM_STRIPES];
  int64_t now = (int64_t)time(NULL), start = now - now % window;
  int rc = 1;
  pthread_mutex_lock(&s->lock);
  if (!s->slots && !(s->slots = calloc(MEM_SLOTS, sizeof *s->slots))) abort();
  uint32_t j = (uint32_t)(h >> 32) % MEM_SLOTS;
  struct mem_hit *e = NULL;
  for (int probes = 0; probes < MEM_SLOTS; probes++, j = (j + 1) % MEM_SLOTS) {
    struct mem_hit *x = &s->slots[j];
    if (!x->hash) break;
    if (x->hash == h && !strcmp(x->key, full)) { e = x; break; }
  }
  if (!e) {
    if (s->used >= MEM_SLOTS * 3 / 4) mem_sweep(s, now, window);
    if (s->used >= MEM_SLOTS * 3 / 4) {
      rc = -1;                     /* full of live keys: the caller counts on the writer instead */
      goto out;
    }
    j = (uint32_t)(h >> 32) % MEM_SLOTS;
    while (s->slots[j].hash) j = (j + 1) % MEM_SLOTS;
    e = &s->slots[j];
    memset(e, 0, sizeof *e);
    e->hash = h;
    e->start = start;
    memcpy(e->key, full, klen + keylen + 2);
    s->used++;
  }
  if (e->start != start) {        /* a window (or more) has passed */
    e->prev = e->start + window == start ? e->cur : 0;
    e->cur = 0;
    e->start = start;
  }
  /* The hits of the last `window` seconds: this window's, and the share of the previous one still inside. */
  double weight = (double)(window - (now - start)) / (double)window;
  double est = e->prev * weight + e->cur;
  if (est + 1 > (double)limit + 1e-9) {
    if (wait) {
      double w;
      if (e->cur + 1 > (uint32_t)limit)   /* this window alone is full: into the next, until its share shrinks */
        w = (double)(start + window - now) + window * (1.0 - (double)(limit - 1) / e->cur);
      else                                /* the previous window's share must shrink */
        w = window * (1.0 - (double)(limit - 1 - (long)e->cur) / e->prev) - (double)(now - start);
      long secs = (long)ceil(w);
      *wait = secs < 1 ? 1 : secs;
    }
    rc = 0;
  } else {
    e->cur++;
  }
out:
  pthread_mutex_unlock(&s->lock);
  return rc;
}
