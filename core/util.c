/* Small helpers shared by the core. */
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

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t util_b64url_len(size_t len) { return (len * 4 + 2) / 3; }

size_t util_b64url_encode(const void *in, size_t len, char *out)
{
  const unsigned char *s = in;
  size_t o = 0, i = 0;
  for (; i + 2 < len; i += 3) {
    uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
    out[o++] = b64url[v >> 18 & 63]; out[o++] = b64url[v >> 12 & 63];
    out[o++] = b64url[v >> 6 & 63];  out[o++] = b64url[v & 63];
  }
  if (len - i == 1) {
    uint32_t v = (uint32_t)s[i] << 16;
    out[o++] = b64url[v >> 18 & 63]; out[o++] = b64url[v >> 12 & 63];
  } else if (len - i == 2) {
    uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
    out[o++] = b64url[v >> 18 & 63]; out[o++] = b64url[v >> 12 & 63]; out[o++] = b64url[v >> 6 & 63];
  }
  out[o] = 0;
  return o;
}

static int b64val(int c)
{
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

long util_b64url_decode(const char *in, void *out, size_t cap)
{
  unsigned char *d = out;
  size_t n = strlen(in), o = 0;
  if (n % 4 == 1) return -1;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < n; i++) {
    int v = b64val((unsigned char)in[i]);
    if (v < 0) return -1;
    acc = acc << 6 | (uint32_t)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (o >= cap) return -1;
      d[o++] = (unsigned char)(acc >> bits);
    }
  }
  if (bits > 0 && (acc & ((1u << bits) - 1))) return -1;  /* non-canonical trailing bits */
  return (long)o;
}

void util_hex(const void *in, size_t len, char *out)
{
  static const char hex[] = "0123456789abcdef";
  const unsigned char *s = in;
  for (size_t i = 0; i < len; i++) { out[2 * i] = hex[s[i] >> 4]; out[2 * i + 1] = hex[s[i] & 15]; }
  out[2 * len] = 0;
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

int util_ct_equal(const void *a, const void *b, size_t len)
{
  const volatile unsigned char *x = a, *y = b;
  unsigned char diff = 0;
  for (size_t i = 0; i < len; i++) diff |= x[i] ^ y[i];
  return diff == 0;
}

void util_token(char *out, size_t nbytes)
{
  unsigned char raw[64];
  if (nbytes > sizeof raw) abort();
  util_random(raw, nbytes);
  util_b64url_encode(raw, nbytes, out);
}

void util_iso_time(time_t t, char out[21])
{
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

double util_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

double util_mono(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

char *util_strdup(const char *s)
{
  if (!s) return NULL;
  char *d = strdup(s);
  if (!d) abort();
  return d;
}

int util_utf8_valid(const char *str, size_t len)
{
  const unsigned char *s = (const unsigned char *)str, *end = s + len;
  while (s < end) {
    unsigned c = *s;
    if (c < 0x80) {
      if (c == 0 || (c < 0x20 && c != '\t' && c != '\n' && c != '\r')) return 0;
      s++;
      continue;
    }
    int n; unsigned min;
    if ((c & 0xE0) == 0xC0) { n = 1; c &= 0x1F; min = 0x80; }
    else if ((c & 0xF0) == 0xE0) { n = 2; c &= 0x0F; min = 0x800; }
    else if ((c & 0xF8) == 0xF0) { n = 3; c &= 0x07; min = 0x10000; }
    else return 0;
    if (end - s <= n) { if (end - s < n + 1) return 0; }
    for (int i = 1; i <= n; i++) {
      if ((s[i] & 0xC0) != 0x80) return 0;
      c = c << 6 | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
    s += n + 1;
  }
  return 1;
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
