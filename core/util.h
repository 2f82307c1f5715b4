/* Small helpers shared by the core. The pure half (encodings, clocks, UTF-8) is the helper library's
 * (include/destek_util.h, core/util_text.c); what needs entropy, mbedTLS or process state is here (core/util.c). */
#ifndef DESTEK_UTIL_H
#define DESTEK_UTIL_H
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "destek_util.h"

/* Fills buf with len cryptographically random bytes (getrandom). Aborts if the kernel cannot supply them. */
void util_random(void *buf, size_t len);

/* sha256(data) as 64 hex digits + NUL into out[65]. */
void util_sha256_hex(const void *data, size_t len, char out[65]);
/* HMAC-SHA256(key, data) as 64 hex digits + NUL into out[65]. */
void util_hmac_sha256_hex(const void *key, size_t key_len, const void *data, size_t len, char out[65]);

/* A random URL-safe token of nbytes (at most 64) of entropy, base64url, into out (util_b64url_len(nbytes)+1 bytes). */
void util_token(char *out, size_t nbytes);

/* A copy of s that lives until the process exits; equal strings give the same pointer. */
const char *util_intern(const char *s);

#endif
