/* page_cache.c — rendered pages shared by every worker thread, and counters in memory.
 *
 * Pages: a module's page route declared with a cache (destek.page(..., {cache = {...}}), lua_route.c) is answered
 * from here without running the module when the same page (path, the query names it declared, the caller's language
 * and Host) was rendered since the module last said its data changed. One table for the process, bounded in bytes
 * (least recently used pages go first), so that memory does not grow with worker threads.
 *
 * Invalidation: page_cache_clear(owner) drops the owner's pages and moves its generation on. A module calls it when
 * it writes what its pages show, and the core calls it again once that call's transaction has ended (http.c
 * finish_tx): a worker that read the old data before the commit and stores its page afterwards is refused, because
 * page_cache_put keeps a page only under the generation read before rendering. Settings changes drop every page.
 *
 * Counters: a module's counts (views served from here, searches) added under a name and taken out together by the
 * module's job, which writes them in one transaction. Bounded too: when full, counter_add says so and the module
 * writes the count itself. What is counted here and not yet taken is lost if the process dies (statistics only). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "page_cache.h"
#include "util.h"

#define BUCKETS 4096
#define OWNERS_MAX 64
#define OWNER_NAME_MAX 64

struct entry {
  struct entry *hnext;              /* the bucket's chain */
  struct entry *older, *newer;      /* the LRU ring through `ring`: ring.newer is the oldest, ring.older the newest */
  uint64_t hash;
  int owner;
  size_t key_len, len, cost;
  char etag[PAGE_CACHE_ETAG_MAX];
  char *body;                       /* after the key, in the same allocation */
  char key[];
};

struct owner {
  char name[OWNER_NAME_MAX];
  uint64_t gen;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry *buckets[BUCKETS];
static struct entry ring = { .older = &ring, .newer = &ring };
static size_t bytes, n_pages, bytes_max = PAGE_CACHE_BYTES_DEFAULT;
static unsigned long long hits, misses;
static struct owner owners[OWNERS_MAX];
static int n_owners;

static uint64_t hash_of(int owner, const char *key, size_t len)
{
  uint64_t h = 1469598103934665603ULL ^ (uint64_t)owner;
  for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)key[i]) * 1099511628211ULL;
  return h;
}

/* The owner's index, added when new; -1 when the table of owners is full or the name too long. Locked. */
static int owner_of(const char *name)
{
  for (int i = 0; i < n_owners; i++)
    if (!strcmp(owners[i].name, name)) return i;
  if (n_owners == OWNERS_MAX || strlen(name) >= OWNER_NAME_MAX) return -1;
  snprintf(owners[n_owners].name, OWNER_NAME_MAX, "%s", name);
  owners[n_owners].gen = 1;
  return n_owners++;
}

static void unlink_entry(struct entry *e)
{
  struct entry **p = &buckets[e->hash % BUCKETS];
  while (*p != e) p = &(*p)->hnext;
  *p = e->hnext;
  e->older->newer = e->newer;
  e->newer->older = e->older;
  bytes -= e->cost;
  n_pages--;
  free(e);
}

static struct entry *find(int owner, uint64_t h, const char *key, size_t key_len)
{
  for (struct entry *e = buckets[h % BUCKETS]; e; e = e->hnext)
    if (e->hash == h && e->owner == owner && e->key_len == key_len && !memcmp(e->key, key, key_len)) return e;
  return NULL;
}

void page_cache_limit(size_t max)
{
  pthread_mutex_lock(&lock);
  bytes_max = max;
  while (bytes > bytes_max && ring.newer != &ring) unlink_entry(ring.newer);   /* the oldest first */
  pthread_mutex_unlock(&lock);
}

uint64_t page_cache_gen(const char *owner)
{
  pthread_mutex_lock(&lock);
  int o = owner_of(owner);
  uint64_t g = o < 0 ? 0 : owners[o].gen;
  pthread_mutex_unlock(&lock);
  return g;
}

int page_cache_get(const char *owner, const char *key, size_t key_len, char **body, size_t *len,
                   char etag[PAGE_CACHE_ETAG_MAX])
{
  pthread_mutex_lock(&lock);
  int o = owner_of(owner);
  struct entry *e = o < 0 ? NULL : find(o, hash_of(o, key, key_len), key, key_len);
  if (!e) {
    misses++;
    pthread_mutex_unlock(&lock);
    return 0;
  }
  hits++;
  e->older->newer = e->newer;          /* to the newest end */
  e->newer->older = e->older;
  e->newer = &ring;
  e->older = ring.older;
  ring.older->newer = e;
  ring.older = e;
  char *copy = malloc(e->len + 1);
  if (!copy) abort();
  memcpy(copy, e->body, e->len + 1);
  *body = copy;
  *len = e->len;
  memcpy(etag, e->etag, PAGE_CACHE_ETAG_MAX);
  pthread_mutex_unlock(&lock);
  return 1;
}

void page_cache_put(const char *owner, uint64_t gen, const char *key, size_t key_len, const char *body, size_t len,
                    const char *etag)
{
  size_t cost = sizeof(struct entry) + key_len + len + 2;
  pthread_mutex_lock(&lock);
  int o = owner_of(owner);
  if (o < 0 || owners[o].gen != gen || cost > bytes_max / 8 || strlen(etag) >= PAGE_CACHE_ETAG_MAX) {
    pthread_mutex_unlock(&lock);
    return;
  }
  uint64_t h = hash_of(o, key, key_len);
  struct entry *old = find(o, h, key, key_len);
  if (old) unlink_entry(old);
  while (bytes + cost > bytes_max && ring.newer != &ring) unlink_entry(ring.newer);
  struct entry *e = malloc(cost);
  if (!e) abort();
  e->hash = h;
  e->owner = o;
  e->key_len = key_len;
  e->len = len;
  e->cost = cost;
  snprintf(e->etag, sizeof e->etag, "%s", etag);
  memcpy(e->key, key, key_len);
  e->key[key_len] = 0;
  e->body = e->key + key_len + 1;
  memcpy(e->body, body, len);
  e->body[len] = 0;
  e->hnext = buckets[h % BUCKETS];
  buckets[h % BUCKETS] = e;
  e->newer = &ring;
  e->older = ring.older;
  ring.older->newer = e;
  ring.older = e;
  bytes += cost;
  n_pages++;
  pthread_mutex_unlock(&lock);
}

void page_cache_clear(const char *owner)
{
  pthread_mutex_lock(&lock);
  int all = !owner || !strcmp(owner, "*");
  int o = all ? -1 : owner_of(owner), twin = -1;
  if (all) {
    for (int i = 0; i < n_owners; i++) owners[i].gen++;
  } else if (o >= 0) {
    owners[o].gen++;
    /* the owner's answers kept for signed-in callers (lua_route.c private_cache), "@owner", go with its pages */
    for (int i = 0; i < n_owners && owner[0] != '@'; i++)
      if (owners[i].name[0] == '@' && !strcmp(owners[i].name + 1, owner)) twin = i;
    if (twin >= 0) owners[twin].gen++;
  }
  for (struct entry *e = ring.newer, *next; e != &ring; e = next) {
    next = e->newer;
    if (all || e->owner == o || e->owner == twin) unlink_entry(e);
  }
  pthread_mutex_unlock(&lock);
}

void page_cache_etag(const char *body, size_t len, char etag[PAGE_CACHE_ETAG_MAX])
{
  char sum[65];
  util_sha256_hex(body, len, sum);
  snprintf(etag, PAGE_CACHE_ETAG_MAX, "\"%.16s\"", sum);
}

void page_cache_stats(size_t *pages, size_t *out_bytes, unsigned long long *out_hits, unsigned long long *out_misses)
{
  pthread_mutex_lock(&lock);
  *pages = n_pages;
  *out_bytes = bytes;
  *out_hits = hits;
  *out_misses = misses;
  pthread_mutex_unlock(&lock);
}

/* ------------------------------------------------------------------------------------------------ counters */

struct counter {
  struct counter *next;
  uint64_t hash;
  int owner;
  long long n;
  char name[];
};

static struct counter *counters[BUCKETS];
static size_t n_counters;

int counter_add(const char *owner, const char *name, long long n)
{
  size_t len = strlen(name);
  if (len > COUNTER_NAME_MAX) return -1;
  pthread_mutex_lock(&lock);
  int o = owner_of(owner);
  if (o < 0) {
    pthread_mutex_unlock(&lock);
    return -1;
  }
  uint64_t h = hash_of(o, name, len);
  struct counter *c = counters[h % BUCKETS];
  while (c && !(c->hash == h && c->owner == o && !strcmp(c->name, name))) c = c->next;
  if (!c) {
    if (n_counters >= COUNTERS_MAX || !(c = malloc(sizeof *c + len + 1))) {
      pthread_mutex_unlock(&lock);
      return -1;
    }
    c->hash = h;
    c->owner = o;
    c->n = 0;
    memcpy(c->name, name, len + 1);
    c->next = counters[h % BUCKETS];
    counters[h % BUCKETS] = c;
    n_counters++;
  }
  c->n += n;
  pthread_mutex_unlock(&lock);
  return 0;
}

struct counter_taken *counter_take(const char *owner)
{
  struct counter_taken *out = NULL;
  pthread_mutex_lock(&lock);
  int o = owner_of(owner);
  for (int b = 0; o >= 0 && b < BUCKETS; b++) {
    for (struct counter **p = &counters[b]; *p;) {
      struct counter *c = *p;
      if (c->owner != o) { p = &c->next; continue; }
      *p = c->next;
      n_counters--;
      size_t len = strlen(c->name);
      struct counter_taken *t = malloc(sizeof *t + len + 1);
      if (!t) abort();
      t->n = c->n;
      memcpy(t->name, c->name, len + 1);
      free(c);
      t->next = out;
      out = t;
    }
  }
  pthread_mutex_unlock(&lock);
  return out;
}
