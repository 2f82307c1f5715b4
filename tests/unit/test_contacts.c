/* contacts: normalising identities (e-mails, Turkish and international phones); zip: CRC-32 and the archive's
 * layout (the API test checks real archives with unzip and Python). */
#include <string.h>

#include "check.h"
#include "contacts.h"
#include "zip.h"

static int phone(const char *in, const char *want)
{
  char out[32];
  int rc = contacts_normalise("phone", in, out, sizeof out);
  if (!want) return rc != 0;
  if (rc != 0 || strcmp(out, want)) { fprintf(stderr, "phone %s -> %s (want %s)\n", in, rc ? "refused" : out, want); return 0; }
  return 1;
}

static unsigned u16(const char *p) { return (unsigned char)p[0] | (unsigned char)p[1] << 8; }
static unsigned long u32(const char *p) { return u16(p) | (unsigned long)u16(p + 2) << 16; }

int main(void)
{
  CHECK(phone("0532 123 45 67", "+905321234567"));
  CHECK(phone("05321234567", "+905321234567"));
  CHECK(phone("532 123 45 67", "+905321234567"));
  CHECK(phone("+90 (532) 123-4567", "+905321234567"));
  CHECK(phone("905321234567", "+905321234567"));
  CHECK(phone("0090 532 123 45 67", "+905321234567"));
  CHECK(phone("0212 555 12 34", "+902125551234"));
  CHECK(phone("+49 30 1234567", "+49301234567"));
  CHECK(phone("1234567", "1234567"));                 /* a short local number: kept as digits */
  CHECK(phone("call me", NULL));
  CHECK(phone("123", NULL));
  CHECK(phone("+0532 123", NULL));
  CHECK(phone("+1234567890123456", NULL));            /* more than 15 digits */
  CHECK(phone("05321234567 ext 5", NULL));
  char out[256];
  CHECK(contacts_normalise("whatsapp", "0532 123 45 67", out, sizeof out) == 0 && !strcmp(out, "+905321234567"));
  CHECK(contacts_normalise("email", "  Sukru.Isik@Example.COM ", out, sizeof out) == 0 &&
        !strcmp(out, "sukru.isik@example.com"));
  CHECK(contacts_normalise("email", "a@b", out, sizeof out) == 0 && !strcmp(out, "a@b"));
  CHECK(contacts_normalise("email", "no-at.example.com", out, sizeof out) != 0);
  CHECK(contacts_normalise("email", "two@@example.com", out, sizeof out) != 0);
  CHECK(contacts_normalise("email", "sp ace@example.com", out, sizeof out) != 0);
  CHECK(contacts_normalise("email", "@example.com", out, sizeof out) != 0);
  CHECK(contacts_normalise("fax", "123", out, sizeof out) != 0);

  CHECK(zip_crc32(0, "123456789", 9) == 0xCBF43926u);   /* the check value of CRC-32/ISO-HDLC */
  CHECK(zip_crc32(zip_crc32(0, "1234", 4), "56789", 5) == 0xCBF43926u);
  struct zip *z = zip_new();
  CHECK(zip_add(z, "../../etc/passwd", "x", 1, 0) == 0);
  CHECK(zip_add(z, "ticketing/attachments/1/fatura-şükrü.png", "hello", 5, 1767225600) == 0);
  size_t len;
  char *a = zip_finish_take(z, &len);
  CHECK(u32(a) == 0x04034b50ul);
  CHECK(!memcmp(a + 30, "etc/passwd", 10));             /* no way out of the folder it is unpacked in */
  const char *end = a + len - 22;
  CHECK(u32(end) == 0x06054b50ul && u16(end + 10) == 2);
  const char *cd = a + u32(end + 16);
  CHECK(u32(cd) == 0x02014b50ul && (u16(cd + 8) & (1 << 11)));   /* UTF-8 names */
  free(a);
  CHECK_DONE();
}
