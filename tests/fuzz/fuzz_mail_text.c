/* Fuzz target: the plain-text helpers of the mail channel, fed directly: the quote stripper
 * (mail_strip_quoted_new: '>' blocks, "On … wrote:" / "… tarihinde … yazdı:" attributions, Outlook separators and
 * header blocks) and the ticket reference in a subject (mail_ticket_ref_new).
 *
 * Input: a reply's text (as mail_parse makes it: UTF-8, LF line ends, though any bytes are tried).
 * Checked: the new part is trimmed (no trailing whitespace on a line, no leading or trailing blank line), never
 * longer than the text, and valid UTF-8 when the text is; a reference is 1..18 digits that appear in the input as
 * "[#digits]". */
#include "fuzz.h"
#include "mail.h"

static int trimmed(const char *s)
{
  if (*s == '\n') return 0;
  size_t n = strlen(s);
  if (n && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) return 0;
  for (const char *p = s; (p = strchr(p, '\n')); p++)
    if (p > s && (p[-1] == ' ' || p[-1] == '\t' || p[-1] == '\r')) return 0;
  return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *text = fuzz_cstr_new(data, size);
  char *fresh = mail_strip_quoted_new(text);
  FUZZ_CHECK(fresh && strlen(fresh) <= strlen(text));
  FUZZ_CHECK(trimmed(fresh));
  if (fuzz_utf8_valid(text)) FUZZ_CHECK(fuzz_utf8_valid(fresh));
  char *whole = mail_strip_quoted_new(NULL);
  FUZZ_CHECK(whole && !*whole);
  free(whole);

  char *ref = mail_ticket_ref_new(text);
  if (ref) {
    size_t n = strlen(ref);
    FUZZ_CHECK(n >= 1 && n <= 18 && strspn(ref, "0123456789") == n);
    char needle[24];
    snprintf(needle, sizeof needle, "[#%s]", ref);
    FUZZ_CHECK(strstr(text, needle));
    free(ref);
  }
  free(fresh);
  free(text);
  return 0;
}
