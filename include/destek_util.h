/* destek_util.h — part of the helper library (libdestek_helpers.a) that the binary and module .so files link:
 * encodings, text checks and clocks, with no state and no dependency beyond libc. What needs the core's secrets or
 * state (randomness, hashes, HMAC, tokens) is in the host table of include/destek.h instead. */
#ifndef DESTEK_UTIL_PUBLIC_H
#define DESTEK_UTIL_PUBLIC_H
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* base64url without padding. out must hold util_b64url_len(len)+1 bytes; returns the length written. */
size_t util_b64url_len(size_t len);
size_t util_b64url_encode(const void *in, size_t len, char *out);
/* Decodes base64url (no padding). Returns bytes written, or -1 on bad input or when out (cap bytes) is too small. */
long util_b64url_decode(const char *in, void *out, size_t cap);

/* Standard base64 (RFC 4648 section 4) with padding. out must hold util_b64_len(len)+1 bytes; returns the length
 * written (NUL-terminated). */
size_t util_b64_len(size_t len);
size_t util_b64_encode(const void *in, size_t len, char *out);
/* Decodes len characters of standard base64; whitespace (line breaks) is skipped, '=' may only end it. Returns the
 * number of bytes (written to out when out is not NULL), or -1 when in is not base64 or out (cap bytes) is too
 * small. With out NULL it only checks and measures. */
long util_b64_decode(const char *in, size_t len, void *out, size_t cap);

/* Lower-case hex of len bytes into out (2*len+1 bytes). */
void util_hex(const void *in, size_t len, char *out);

/* Constant-time comparison of two equal-length buffers: 1 when equal. */
int util_ct_equal(const void *a, const void *b, size_t len);

/* ISO-8601 UTC "2026-11-23T11:00:00Z" into out[21]. */
void util_iso_time(time_t t, char out[21]);
/* Seconds since the epoch / monotonic seconds with sub-second precision. */
double util_now(void);
double util_mono(void);

/* strdup that aborts on out-of-memory; NULL in, NULL out. Caller frees. */
char *util_strdup(const char *s);

/* Valid UTF-8 without NUL or C0 controls other than tab/newline/carriage return: 1, else 0. */
int util_utf8_valid(const char *s, size_t len);

#endif
