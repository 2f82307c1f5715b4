/* ZIP writer (see zip.h). */
#include "zip.h"

#include <stdlib.h>
#include <string.h>

struct entry {
  char *name;
  uint32_t crc, size, offset;
  uint16_t dos_time, dos_date;
};

struct zip {
  char *buf;
  size_t len, cap;
  struct entry *entries;
  size_t n, entries_cap;
};

uint32_t zip_crc32(uint32_t crc, const void *data, size_t len)
{
  static uint32_t table[256];
  static int ready;
  if (!ready) {   /* racing threads compute the same table: harmless */
    for (uint32_t i = 0; i < 256; i++) {
      uint32_t c = i;
      for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      table[i] = c;
    }
    ready = 1;
  }
  const unsigned char *p = data;
  crc = ~crc;
  while (len--) crc = table[(crc ^ *p++) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

static void put(struct zip *z, const void *data, size_t len)
{
  if (z->len + len > z->cap) {
    size_t cap = z->cap ? z->cap : 4096;
    while (cap < z->len + len) cap *= 2;
    z->buf = realloc(z->buf, cap);
    if (!z->buf) abort();
    z->cap = cap;
  }
  memcpy(z->buf + z->len, data, len);
  z->len += len;
}

static void put16(struct zip *z, uint16_t v) { unsigned char b[2] = { v & 0xFF, v >> 8 }; put(z, b, 2); }
static void put32(struct zip *z, uint32_t v)
{
  unsigned char b[4] = { v & 0xFF, (v >> 8) & 0xFF, (v >> 16) & 0xFF, v >> 24 };
  put(z, b, 4);
}

struct zip *zip_new(void)
{
  struct zip *z = calloc(1, sizeof *z);
  if (!z) abort();
  return z;
}

/* A safe relative name: no leading '/', no "." or ".." parts, '/' separators, no control characters. */
static char *clean_name(const char *name)
{
  size_t n = strlen(name);
  char *out = malloc(n + 2), *o = out;
  if (!out) abort();
  const char *p = name;
  while (*p) {
    while (*p == '/' || *p == '\\') p++;
    const char *start = p;
    while (*p && *p != '/' && *p != '\\') p++;
    size_t part = (size_t)(p - start);
    if (part == 0 || (part == 1 && start[0] == '.') || (part == 2 && start[0] == '.' && start[1] == '.')) continue;
    if (o != out) *o++ = '/';
    for (size_t i = 0; i < part; i++) *o++ = (unsigned char)start[i] < 0x20 || start[i] == 0x7F ? '_' : start[i];
  }
  if (o == out) *o++ = '_';
  *o = 0;
  return out;
}

int zip_add(struct zip *z, const char *name, const void *data, size_t len, time_t mtime)
{
  if (len > 0xFFFFFFF0u || z->len + len > 0xF0000000u || z->n >= 0xFFFF) return -1;
  if (z->n == z->entries_cap) {
    z->entries_cap = z->entries_cap ? z->entries_cap * 2 : 16;
    z->entries = realloc(z->entries, z->entries_cap * sizeof *z->entries);
    if (!z->entries) abort();
  }
  struct tm tm;
  gmtime_r(&mtime, &tm);
  if (tm.tm_year < 80) { tm.tm_year = 80; tm.tm_mon = 0; tm.tm_mday = 1; tm.tm_hour = tm.tm_min = tm.tm_sec = 0; }
  struct entry *e = &z->entries[z->n++];
  e->name = clean_name(name);
  e->crc = zip_crc32(0, data, len);
  e->size = (uint32_t)len;
  e->offset = (uint32_t)z->len;
  e->dos_time = (uint16_t)((tm.tm_hour << 11) | (tm.tm_min << 5) | (tm.tm_sec / 2));
  e->dos_date = (uint16_t)(((tm.tm_year - 80) << 9) | ((tm.tm_mon + 1) << 5) | tm.tm_mday);
  size_t name_len = strlen(e->name);
  put32(z, 0x04034b50);                   /* local file header */
  put16(z, 20);                           /* version needed: 2.0 */
  put16(z, 1 << 11);                      /* flags: UTF-8 names */
  put16(z, 0);                            /* method: stored */
  put16(z, e->dos_time);
  put16(z, e->dos_date);
  put32(z, e->crc);
  put32(z, e->size);                      /* compressed size */
  put32(z, e->size);
  put16(z, (uint16_t)name_len);
  put16(z, 0);                            /* extra field length */
  put(z, e->name, name_len);
  if (len) put(z, data, len);
  return 0;
}

char *zip_finish_take(struct zip *z, size_t *len)
{
  uint32_t cd_start = (uint32_t)z->len;
  for (size_t i = 0; i < z->n; i++) {
    struct entry *e = &z->entries[i];
    size_t name_len = strlen(e->name);
    put32(z, 0x02014b50);                 /* central directory header */
    put16(z, (3 << 8) | 20);              /* made by: Unix, 2.0 */
    put16(z, 20);
    put16(z, 1 << 11);
    put16(z, 0);
    put16(z, e->dos_time);
    put16(z, e->dos_date);
    put32(z, e->crc);
    put32(z, e->size);
    put32(z, e->size);
    put16(z, (uint16_t)name_len);
    put16(z, 0);                          /* extra */
    put16(z, 0);                          /* comment */
    put16(z, 0);                          /* disk number */
    put16(z, 0);                          /* internal attributes */
    put32(z, (uint32_t)0100644 << 16);    /* external attributes: a regular file, rw-r--r-- */
    put32(z, e->offset);
    put(z, e->name, name_len);
  }
  uint32_t cd_size = (uint32_t)z->len - cd_start;
  put32(z, 0x06054b50);                   /* end of central directory */
  put16(z, 0);
  put16(z, 0);
  put16(z, (uint16_t)z->n);
  put16(z, (uint16_t)z->n);
  put32(z, cd_size);
  put32(z, cd_start);
  put16(z, 0);
  char *out = z->buf;
  *len = z->len;
  z->buf = NULL;
  zip_free(z);
  return out;
}

void zip_free(struct zip *z)
{
  if (!z) return;
  for (size_t i = 0; i < z->n; i++) free(z->entries[i].name);
  free(z->entries);
  free(z->buf);
  free(z);
}
