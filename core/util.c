/* The core's half of util.h: randomness, hashes, tokens, interned strings (see util_text.c for the pure half). */
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <mbedtls/md.h>
#include <mbedtls/sha256.h>

void util_random(void *buf, size_t len)
{
  unsigned char *p = buf;
  while (len > 0) {
    ssize_t n = getrandom(p, len, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      abort();  /* no entropy: nothing secure can be done */
    }
    p += n;
    len -= (size_t)n;
  }
}

void util_sha256_hex(const void *data, size_t len, char out[65])
{
  unsigned char sum[32];
  mbedtls_sha256_ret(data, len, sum, 0);
  util_hex(sum, 32, out);
}

void util_hmac_sha256_hex(const void *key, size_t key_len, const void *data, size_t len, char out[65])
{
  unsigned char sum[32];
  mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), key, key_len, data, len, sum);
  util_hex(sum, 32, out);
}

void util_token(char *out, size_t nbytes)
{
  unsigned char raw[64];
  if (nbytes > sizeof raw) abort();
  util_random(raw, nbytes);
  util_b64url_encode(raw, nbytes, out);
}

const char *util_intern(const char *s)
{
  static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
  static char **table;
  static size_t n, cap;
  pthread_mutex_lock(&lock);
  for (size_t i = 0; i < n; i++)
    if (!strcmp(table[i], s)) { pthread_mutex_unlock(&lock); return table[i]; }
  if (n == cap) {
    cap = cap ? cap * 2 : 64;
    table = realloc(table, cap * sizeof *table);
    if (!table) abort();
  }
  char *copy = util_strdup(s);
  table[n++] = copy;
  pthread_mutex_unlock(&lock);
  return copy;
}
