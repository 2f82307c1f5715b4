/* Small helpers shared by the core: randomness, encodings, hashes, time. */
#ifndef DESTEK_UTIL_H
#define DESTEK_UTIL_H
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Fills buf with len cryptographically random bytes (getrandom). Aborts if the kernel cannot supply them. */
void util_random(void *buf, size_t len);

/* base64url without padding. out must hold util_b64url_len(len)+1 bytes; returns the length written. */
size_t util_b64url_len(size_t len);
size_t util_b64url_encode(const void *in, size_t len, char *out);
/* Decodes base64url (no padding). Returns bytes written, or -1 on bad input or when out (cap bytes) is too small. */
long util_b64url_decode(const char *in, void *out, size_t cap);

/* Lower-case hex of len bytes into out (2*len+1 bytes). */
void util_hex(const void *in, size_t len, char *out);

/* sha256(data) as 64 hex digits + NUL into out[65]. */
void util_sha256_hex(const void *data, size_t len, char out[65]);
/* HMAC-SHA256(key, data) as 64 hex digits + NUL into out[65]. */
void util_hmac_sha256_hex(const void *key, size_t key_len, const void *data, size_t len, char out[65]);

/* Constant-time comparison of two equal-length buffers: 1 when equal. */
int util_ct_equal(const void *a, const void *b, size_t len);

/* A random URL-safe token of nbytes of entropy, base64url, into out (util_b64url_len(nbytes)+1 bytes). */
void util_token(char *out, size_t nbytes);

/* ISO-8601 UTC "2026-11-23T11:00:00Z" into out[21]. */
void util_iso_time(time_t t, char out[21]);
/* Seconds since the epoch / monotonic seconds with sub-second precision. */
double util_now(void);
double util_mono(void);

/* strdup that aborts on out-of-memory; NULL in, NULL out. Caller frees. */
char *util_strdup(const char *s);

/* A copy of s that lives until the process exits; equal strings give the same pointer. */
const char *util_intern(const char *s);

/* Valid UTF-8 without NUL or C0 controls other than tab/newline: 1, else 0. */
int util_utf8_valid(const char *s, size_t len);

#endif
