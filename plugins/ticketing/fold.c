/* Turkish-aware folding, search queries and highlighted snippets (see fold.h): the helper library's, and tag
 * lower-casing. */
#include "fold.h"

#include <string.h>

#include "destek_text.h"
#include "destek_util.h"

/* The implementation is the helper library's (include/destek_text.h), shared with Lua modules (destek.text). */
char *tkt_fold_new(const char *s, size_t len) { return destek_fold_new(s, len); }

int tkt_fts_query(const char *folded, char *out, size_t outlen, int max_terms)
{
  return destek_fts_query(folded, out, outlen, max_terms);
}

char *tkt_snippet_new(const char *text, const char *folded_query, int words)
{
  return destek_snippet_new(text, folded_query, words);
}

void tkt_tag_lower(char *s)
{
  /* Upper-case letters of Turkish and their lower-case forms, as UTF-8: Ç Ğ İ Ö Ş Ü Â Î Û. */
  static const struct { unsigned char up[2]; const char *low; } MAP[] = {
    { { 0xC3, 0x87 }, "\xC3\xA7" }, { { 0xC4, 0x9E }, "\xC4\x9F" }, { { 0xC4, 0xB0 }, "i" },
    { { 0xC3, 0x96 }, "\xC3\xB6" }, { { 0xC5, 0x9E }, "\xC5\x9F" }, { { 0xC3, 0x9C }, "\xC3\xBC" },
    { { 0xC3, 0x82 }, "\xC3\xA2" }, { { 0xC3, 0x8E }, "\xC3\xAE" }, { { 0xC3, 0x9B }, "\xC3\xBB" },
  };
  char *out = s;
  for (const unsigned char *p = (const unsigned char *)s; *p;) {
    if (*p >= 'A' && *p <= 'Z') { *out++ = (char)(*p++ + 32); continue; }
    size_t i = 0;
    while (i < sizeof MAP / sizeof MAP[0] && !(p[0] == MAP[i].up[0] && p[1] == MAP[i].up[1])) i++;
    if (i < sizeof MAP / sizeof MAP[0]) {
      for (const char *l = MAP[i].low; *l; l++) *out++ = *l;
      p += 2;
      continue;
    }
    *out++ = (char)*p++;
  }
  *out = 0;
}
