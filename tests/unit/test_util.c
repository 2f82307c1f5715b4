/* util: encodings, hashes, comparisons and UTF-8 validation. */
#include <string.h>

#include "check.h"
#include "util.h"

int main(void)
{
  char enc[64];
  unsigned char dec[64];
  /* RFC 4648 vectors, base64url without padding */
  const char *plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
  const char *coded[] = { "", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy" };
  for (int i = 0; i < 7; i++) {
    util_b64url_encode(plain[i], strlen(plain[i]), enc);
    CHECK(!strcmp(enc, coded[i]));
    long n = util_b64url_decode(coded[i], dec, sizeof dec);
    CHECK(n == (long)strlen(plain[i]) && !memcmp(dec, plain[i], (size_t)n));
  }
  unsigned char bin[3] = { 0xfb, 0xff, 0xfe };
  util_b64url_encode(bin, 3, enc);
  CHECK(!strcmp(enc, "-__-"));
  CHECK(util_b64url_decode("a", dec, sizeof dec) == -1);       /* impossible length */
  CHECK(util_b64url_decode("Zm9v!", dec, sizeof dec) == -1);   /* bad character */
  CHECK(util_b64url_decode("Zm9vYmFy", dec, 3) == -1);         /* too small */
  CHECK(util_b64url_decode("Zh", dec, sizeof dec) == -1);      /* non-canonical trailing bits */

  char hex[65];
  util_sha256_hex("abc", 3, hex);
  CHECK(!strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
  util_hmac_sha256_hex("key", 3, "The quick brown fox jumps over the lazy dog", 43, hex);
  CHECK(!strcmp(hex, "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"));

  CHECK(util_ct_equal("abc", "abc", 3));
  CHECK(!util_ct_equal("abc", "abd", 3));

  char tok[64];
  util_token(tok, 32);
  CHECK(strlen(tok) == 43);
  char tok2[64];
  util_token(tok2, 32);
  CHECK(strcmp(tok, tok2) != 0);

  char iso[21];
  util_iso_time(0, iso);
  CHECK(!strcmp(iso, "1970-01-01T00:00:00Z"));

  const char *ok = "İstanbul, ığüşöç ĞÜŞÖÇ — 😀";
  CHECK(util_utf8_valid(ok, strlen(ok)));
  CHECK(!util_utf8_valid("\xc3", 1));               /* truncated */
  CHECK(!util_utf8_valid("\xc0\xaf", 2));           /* overlong */
  CHECK(!util_utf8_valid("\xed\xa0\x80", 3));       /* surrogate */
  CHECK(!util_utf8_valid("a\x01" "b", 3));          /* control character */
  CHECK(util_utf8_valid("a\tb\nc", 5));
  CHECK_DONE();
}
