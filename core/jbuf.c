/* jbuf: see jbuf.h. */
#include "jbuf.h"

#include <stdlib.h>

void jbuf_init(struct jbuf *b, size_t cap)
{
  b->cap = cap < 64 ? 64 : cap;
  b->len = 0;
  b->data = malloc(b->cap);
  if (!b->data) abort();
}

void jbuf_free(struct jbuf *b)
{
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

void jbuf_reserve(struct jbuf *b, size_t n)
{
  if (b->cap - b->len >= n) return;
  size_t cap = b->cap ? b->cap : 64;
  while (cap - b->len < n) cap *= 2;
  char *grown = realloc(b->data, cap);
  if (!grown) abort();
  b->data = grown;
  b->cap = cap;
}

char *jbuf_take(struct jbuf *b, size_t *len)
{
  jbuf_reserve(b, 1);
  b->data[b->len] = 0;
  char *out = b->data;
  if (len) *len = b->len;
  b->data = NULL;
  b->len = b->cap = 0;
  return out;
}

/* Bytes that need escaping: the quote, the backslash and the control characters (as cJSON does). */
static const unsigned char needs_escape[256] = {
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
};

void jbuf_strn(struct jbuf *b, const char *s, size_t n)
{
  /* Worst case: every byte becomes \u00XX. */
  jbuf_reserve(b, n * 6 + 3);
  char *o = b->data + b->len;
  *o++ = '"';
  const unsigned char *p = (const unsigned char *)s, *end = p + n;
  while (p < end) {
    const unsigned char *run = p;
    while (p < end && !needs_escape[*p]) p++;
    memcpy(o, run, (size_t)(p - run));
    o += p - run;
    if (p == end) break;
    unsigned char c = *p++;
    *o++ = '\\';
    switch (c) {
    case '"': *o++ = '"'; break;
    case '\\': *o++ = '\\'; break;
    case '\b': *o++ = 'b'; break;
    case '\f': *o++ = 'f'; break;
    case '\n': *o++ = 'n'; break;
    case '\r': *o++ = 'r'; break;
    case '\t': *o++ = 't'; break;
    default: {
      static const char hex[] = "0123456789abcdef";
      *o++ = 'u'; *o++ = '0'; *o++ = '0';
      *o++ = hex[c >> 4]; *o++ = hex[c & 15];
    }
    }
  }
  *o++ = '"';
  b->len = (size_t)(o - b->data);
}

void jbuf_str(struct jbuf *b, const char *s)
{
  if (!s) { jbuf_null(b); return; }
  jbuf_strn(b, s, strlen(s));
}

void jbuf_int(struct jbuf *b, int64_t v)
{
  char tmp[24];
  int n = 0;
  uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  do { tmp[n++] = (char)('0' + u % 10); u /= 10; } while (u);
  jbuf_reserve(b, (size_t)n + 2);
  if (v < 0) b->data[b->len++] = '-';
  while (n) b->data[b->len++] = tmp[--n];
}
