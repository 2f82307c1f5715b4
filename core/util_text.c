/* The pure half of util (include/destek_util.h): encodings, text checks and clocks. Part of the helper library
 * that the binary and module .so files link, so it depends on nothing but libc. */
#include "destek_util.h"

#include <cjson/cJSON.h>

#include <stdlib.h>
#include <string.h>

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

int util_ct_equal(const void *a, const void *b, size_t len)
{
  const volatile unsigned char *x = a, *y = b;
  unsigned char diff = 0;
  for (size_t i = 0; i < len; i++) diff |= x[i] ^ y[i];
  return diff == 0;
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

static const char b64std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t util_b64_len(size_t len) { return (len + 2) / 3 * 4; }

size_t util_b64_encode(const void *in, size_t len, char *out)
{
  const unsigned char *s = in;
  size_t o = 0, i = 0;
  for (; i + 2 < len; i += 3) {
    uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
    out[o++] = b64std[v >> 18 & 63]; out[o++] = b64std[v >> 12 & 63];
    out[o++] = b64std[v >> 6 & 63];  out[o++] = b64std[v & 63];
  }
  if (len - i == 1) {
    uint32_t v = (uint32_t)s[i] << 16;
    out[o++] = b64std[v >> 18 & 63]; out[o++] = b64std[v >> 12 & 63]; out[o++] = '='; out[o++] = '=';
  } else if (len - i == 2) {
    uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
    out[o++] = b64std[v >> 18 & 63]; out[o++] = b64std[v >> 12 & 63]; out[o++] = b64std[v >> 6 & 63]; out[o++] = '=';
  }
  out[o] = 0;
  return o;
}

static int b64std_val(int c)
{
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

long util_b64_decode(const char *in, size_t len, void *out, size_t cap)
{
  unsigned char *d = out;
  size_t o = 0, digits = 0, pad = 0;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < len; i++) {
    int c = (unsigned char)in[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    if (c == '=') { pad++; continue; }
    int v = b64std_val(c);
    if (v < 0 || pad) return -1;   /* not base64, or a digit after the padding */
    digits++;
    acc = acc << 6 | (uint32_t)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (out) {
        if (o >= cap) return -1;
        d[o] = (unsigned char)(acc >> bits);
      }
      o++;
    }
  }
  if (digits % 4 == 1 || pad > 2 || (pad && (digits + pad) % 4)) return -1;
  return (long)o;
}

int util_json_id(const struct cJSON *v, int64_t *out)
{
  /* cJSON's fields, not its functions: the helper library links nothing but libc */
  if (!v || (v->type & 0xFF) != cJSON_Number) return 0;
  double d = v->valuedouble;
  if (!(d >= 1 && d <= 9007199254740991.0) || d != (double)(int64_t)d) return 0;  /* NaN fails the first test */
  *out = (int64_t)d;
  return 1;
}
