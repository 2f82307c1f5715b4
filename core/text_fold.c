/* Turkish-aware folding, FTS5 queries from what a person typed, and highlighted snippets (see destek_text.h). Moved
 * here from plugins/ticketing/fold.c so that every module, C or Lua, folds and searches the same way. */
#include "destek_text.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The ASCII letter a code point folds to, 0 to keep it, or -1 to drop it. */
static int fold_cp(uint32_t cp)
{
  if (cp < 0x80) return (cp >= 'A' && cp <= 'Z') ? (int)(cp + 32) : (int)cp;
  switch (cp) {
  case 0x130: case 0x131: return 'i';            /* İ ı */
  case 0x15E: case 0x15F: return 's';            /* Ş ş */
  case 0x11E: case 0x11F: return 'g';            /* Ğ ğ */
  case 0x307: return -1;                         /* combining dot above (İ decomposed) */
  default: break;
  }
  if (cp >= 0xC0 && cp <= 0xFF) {
    /* Latin-1 letters: À..ÿ to their base letters (0 where there is none: ×, ÷, Æ, Ð, Þ, ß ...). */
    static const char base[] = "aaaaaa\0ceeeeiiii\0nooooo\0ouuuuy\0\0" "aaaaaa\0ceeeeiiii\0nooooo\0ouuuuy\0y";
    char b = base[cp - 0xC0];
    return b ? b : 0;
  }
  return 0;
}

/* Decodes one UTF-8 sequence at s (n bytes left); returns its length and sets *cp (0xFFFD for a bad byte). */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
  unsigned char c = s[0];
  size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (!len || len > n) { *cp = 0xFFFD; return 1; }
  uint32_t v = len == 1 ? c : len == 2 ? c & 0x1F : len == 3 ? c & 0x0F : c & 0x07;
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xC0) != 0x80) { *cp = 0xFFFD; return 1; }
    v = (v << 6) | (s[i] & 0x3F);
  }
  *cp = v;
  return len;
}

char *destek_fold_new(const char *s, size_t len)
{
  char *out = malloc(len + 1);
  if (!out) abort();
  size_t o = 0;
  const unsigned char *p = (const unsigned char *)s;
  for (size_t i = 0; i < len;) {
    uint32_t cp;
    size_t n = utf8_next(p + i, len - i, &cp);
    int f = fold_cp(cp);
    if (f > 0) out[o++] = (char)f;
    else if (f == 0) { memcpy(out + o, p + i, n); o += n; }
    i += n;
  }
  out[o] = 0;
  return out;
}

static int is_word_byte(unsigned char c)
{
  return c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Whether a query term is searched as a prefix: DESTEK_PREFIX_MIN characters or more. */
static int is_prefix_term(const char *t, size_t len)
{
  size_t chars = 0;
  for (size_t i = 0; i < len; i++) chars += ((unsigned char)t[i] & 0xC0) != 0x80;
  return chars >= DESTEK_PREFIX_MIN;
}

int destek_fts_query(const char *folded, char *out, size_t outlen, int max_terms)
{
  size_t o = 0;
  int n = 0;
  out[0] = 0;
  for (const char *p = folded; *p && n < max_terms;) {
    while (*p && !is_word_byte((unsigned char)*p)) p++;
    const char *start = p;
    while (*p && is_word_byte((unsigned char)*p)) p++;
    size_t len = (size_t)(p - start);
    if (!len) continue;
    if (len > 64) len = 64;
    while (len && ((unsigned char)start[len] & 0xC0) == 0x80 && start + len < p) len--;  /* whole characters */
    if (o + len + 5 >= outlen) break;
    /* Terms hold letters and digits only, so a double quote can never appear inside one. A term too short to be a
     * useful prefix ("e" of "e-fatura") is matched whole: as a prefix it would merge the postings of every word
     * starting with it (180 ms on 100,000 tickets, against 5 ms). */
    o += (size_t)snprintf(out + o, outlen - o, "%s\"%.*s\"%s", n ? " " : "", (int)len, start,
                          is_prefix_term(start, len) ? "*" : "");
    n++;
  }
  return n;
}

struct buf { char *s; size_t len, cap; };

static void buf_add(struct buf *b, const char *s, size_t n)
{
  if (b->len + n + 1 > b->cap) {
    b->cap = (b->len + n + 1) * 2;
    b->s = realloc(b->s, b->cap);
    if (!b->s) abort();
  }
  memcpy(b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = 0;
}

static void buf_add_escaped(struct buf *b, const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    switch (s[i]) {
    case '<': buf_add(b, "&lt;", 4); break;
    case '>': buf_add(b, "&gt;", 4); break;
    case '&': buf_add(b, "&amp;", 5); break;
    case '"': buf_add(b, "&quot;", 6); break;
    case '\'': buf_add(b, "&#39;", 5); break;
    case '\n': case '\r': case '\t': buf_add(b, " ", 1); break;
    default: buf_add(b, s + i, 1);
    }
  }
}

/* Whether the folded word w (n bytes) starts with one of the query's terms. */
static int word_matches(const char *w, size_t n, const char *folded_query)
{
  for (const char *p = folded_query; *p;) {
    while (*p && !is_word_byte((unsigned char)*p)) p++;
    const char *start = p;
    while (*p && is_word_byte((unsigned char)*p)) p++;
    size_t len = (size_t)(p - start);
    if (len && (is_prefix_term(start, len) ? len <= n : len == n) && memcmp(w, start, len) == 0) return 1;
  }
  return 0;
}

#define SNIPPET_MAX_WORDS 4096

char *destek_snippet_new(const char *text, const char *folded_query, int words)
{
  /* Word boundaries of the original text and whether each word matches. */
  size_t *starts = malloc(SNIPPET_MAX_WORDS * sizeof *starts), *ends = malloc(SNIPPET_MAX_WORDS * sizeof *ends);
  unsigned char *hit = malloc(SNIPPET_MAX_WORDS);
  if (!starts || !ends || !hit) abort();
  int n = 0, first = -1;
  size_t len = strlen(text);
  for (size_t i = 0; i < len && n < SNIPPET_MAX_WORDS;) {
    while (i < len && !is_word_byte((unsigned char)text[i])) i++;
    if (i >= len) break;
    size_t s = i;
    while (i < len && is_word_byte((unsigned char)text[i])) i++;
    char *f = destek_fold_new(text + s, i - s);
    starts[n] = s;
    ends[n] = i;
    hit[n] = (unsigned char)word_matches(f, strlen(f), folded_query);
    free(f);
    if (hit[n] && first < 0) first = n;
    n++;
  }
  if (first < 0) { free(starts); free(ends); free(hit); return NULL; }
  int from = first - words / 3;
  if (from < 0) from = 0;
  int to = from + words;
  if (to > n) to = n;
  struct buf b = { 0 };
  buf_add(&b, "", 0);
  if (from > 0) buf_add(&b, "… ", strlen("… "));
  size_t at = starts[from];
  for (int k = from; k < to; k++) {
    buf_add_escaped(&b, text + at, starts[k] - at);
    if (hit[k]) buf_add(&b, "<mark>", 6);
    buf_add_escaped(&b, text + starts[k], ends[k] - starts[k]);
    if (hit[k]) buf_add(&b, "</mark>", 7);
    at = ends[k];
  }
  if (to < n) buf_add(&b, " …", strlen(" …"));
  else buf_add_escaped(&b, text + at, len - at);
  free(starts);
  free(ends);
  free(hit);
  return b.s;
}
