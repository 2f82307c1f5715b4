/* Shared by the fuzz targets (tests/fuzz/README.md): a check that stops the run the way a crash does, so that
 * libFuzzer saves the input, and a few helpers. Each target is one file with LLVMFuzzerTestOneInput. */
#ifndef DESTEK_FUZZ_H
#define DESTEK_FUZZ_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(expr)                                                                   \
  do {                                                                                     \
    if (!(expr)) {                                                                         \
      fprintf(stderr, "%s:%d: fuzz check failed: %s\n", __FILE__, __LINE__, #expr);       \
      abort();                                                                             \
    }                                                                                      \
  } while (0)

/* The input as a NUL-terminated string (a NUL inside ends it early, as it would for the C code under test).
 * Caller frees. */
static inline char *fuzz_cstr_new(const uint8_t *data, size_t size)
{
  char *s = malloc(size + 1);
  if (!s) abort();
  if (size) memcpy(s, data, size);
  s[size] = 0;
  return s;
}

/* Strict UTF-8 (no overlongs, surrogates or code points past U+10FFFF); NUL is not allowed inside. */
static inline int fuzz_utf8_valid(const char *str)
{
  const unsigned char *s = (const unsigned char *)str;
  while (*s) {
    unsigned c = *s, n, min;
    if (c < 0x80) { s++; continue; }
    if (c >= 0xC2 && c <= 0xDF) { n = 1; c &= 0x1F; min = 0x80; }
    else if (c >= 0xE0 && c <= 0xEF) { n = 2; c &= 0x0F; min = 0x800; }
    else if (c >= 0xF0 && c <= 0xF4) { n = 3; c &= 0x07; min = 0x10000; }
    else return 0;
    for (unsigned i = 1; i <= n; i++) {
      if ((s[i] & 0xC0) != 0x80) return 0;
      c = c << 6 | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
    s += n + 1;
  }
  return 1;
}

#endif
