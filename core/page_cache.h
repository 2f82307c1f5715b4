/* page_cache.h — rendered pages shared by every worker thread, and counters kept in memory until a module collects
 * them (core/page_cache.c). */
#ifndef PAGE_CACHE_H
#define PAGE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#define PAGE_CACHE_BYTES_DEFAULT ((size_t)16 << 20)
#define PAGE_CACHE_ETAG_MAX 24

/* The cache's bound in bytes (pages, their keys and bookkeeping); 0 turns it off. Shrinks at once. */
void page_cache_limit(size_t bytes);

/* The generation of owner's pages: page_cache_put keeps a page only when it is still the one read before rendering. */
uint64_t page_cache_gen(const char *owner);

/* A copy of owner's page under key (malloc'd into *body, *len bytes, its ETag into etag): 1, or 0 when there is none. */
int page_cache_get(const char *owner, const char *key, size_t key_len, char **body, size_t *len,
                   char etag[PAGE_CACHE_ETAG_MAX]);

/* Keeps a copy of body as owner's page under key, unless owner's pages were dropped since gen (the page may show what
 * was true before) or it is too big (an eighth of the bound); the least recently used pages make room. */
void page_cache_put(const char *owner, uint64_t gen, const char *key, size_t key_len, const char *body, size_t len,
                    const char *etag);

/* Drops owner's pages (every owner's when owner is NULL or "*") and moves its generation on. */
void page_cache_clear(const char *owner);

/* The quoted ETag of a body: the first 16 hex digits of its SHA-256. */
void page_cache_etag(const char *body, size_t len, char etag[PAGE_CACHE_ETAG_MAX]);

/* Pages kept, their bytes, hits and misses since start (for /metrics). */
void page_cache_stats(size_t *pages, size_t *bytes, unsigned long long *hits, unsigned long long *misses);

/* --- counters: what a module counts many times a second (views, searches) and writes later in one go --- */

#define COUNTER_NAME_MAX 300
#define COUNTERS_MAX 16384

/* Adds n to owner's counter name: 0, or -1 when the table is full (COUNTERS_MAX names across owners) or the name is
 * too long; the caller then writes the count itself. */
int counter_add(const char *owner, const char *name, long long n);

struct counter_taken {
  struct counter_taken *next;
  long long n;
  char name[];
};
/* Takes owner's counters out of the table: a list (free each node) in no particular order, NULL when none. */
struct counter_taken *counter_take(const char *owner);

#endif
