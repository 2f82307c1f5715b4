/* Fuzz target: RFC 2047 encoded words (and RFC 2231 parameters) in headers: the rewrite of '='-padded B words
 * that works around GMime 3.2.13 (mail_rfc2047_unpad_new), then GMime's decoding of the same value as a subject,
 * as address lists and as an attachment's file name, through mail_parse_new as a real message would go.
 *
 * Input: one header value (e.g. "=?UTF-8?B?SGVsbG8=?= =?ISO-8859-9?Q?=DDade?="). Line breaks in it stay: a CRLF
 * followed by a space is folding, anything else ends the header early, as it would in a real message.
 * Checked: a value the rewrite leaves alone (NULL) has no well-formed padded B word; a rewritten one differs and
 * is valid UTF-8 when the value was; the decoded subject, names and file names are valid single-line UTF-8. */
#include <glib.h>

#include "fuzz.h"
#include "mail.h"
#include "mail_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *value = fuzz_cstr_new(data, size);
  char *fixed = mail_rfc2047_unpad_new(value);
  if (fixed) {
    FUZZ_CHECK(strcmp(fixed, value) != 0);
    if (fuzz_utf8_valid(value)) FUZZ_CHECK(fuzz_utf8_valid(fixed));
    g_free(fixed);
  } else {
    /* nothing rewritten: so no well-formed padded B word is in it, "=?charset?B?base64=?=" with a charset of
     * letters, digits and "-_.:*" and a payload of base64 letters ending in '=' padding */
    for (const char *w = strstr(value, "=?"); w; w = strstr(w + 1, "=?")) {
      size_t cs = strspn(w + 2, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.:*");
      const char *q1 = w + 2 + cs;
      if (!cs || q1[0] != '?' || (q1[1] != 'b' && q1[1] != 'B') || q1[2] != '?') continue;
      size_t letters = strspn(q1 + 3, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
      size_t pad = strspn(q1 + 3 + letters, "=");
      const char *end = q1 + 3 + letters + pad;
      FUZZ_CHECK(!(letters && pad && end[0] == '?' && end[1] == '='));
    }
  }

  GString *raw = g_string_new(NULL);
  g_string_append_printf(raw,
                         "From: %s\r\nTo: %s, <x@y.example>\r\nCc: %s\r\nReply-To: %s\r\nSubject: %s\r\n"
                         "Message-ID: <%s>\r\nMIME-Version: 1.0\r\n"
                         "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
                         "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhi\r\n"
                         "--b\r\nContent-Type: application/octet-stream; name=\"%s\"\r\n"
                         "Content-Disposition: attachment; filename=\"%s\"\r\n\r\nx\r\n"
                         "--b\r\nContent-Type: text/plain; name*=%s\r\nContent-Disposition: attachment; filename*=%s\r\n\r\n"
                         "y\r\n--b--\r\n",
                         value, value, value, value, value, value, value, value, value, value);
  char err[200];
  struct mail_message *m = mail_parse_new(raw->str, raw->len, err, sizeof err);
  if (m) {
    FUZZ_CHECK(m->subject && fuzz_utf8_valid(m->subject) && !strpbrk(m->subject, "\r\n"));
    const struct mail_address *lists[] = { &m->from, &m->reply_to };
    for (int i = 0; i < 2; i++) {
      if (lists[i]->name) FUZZ_CHECK(fuzz_utf8_valid(lists[i]->name) && !strpbrk(lists[i]->name, "\r\n"));
      if (lists[i]->address) FUZZ_CHECK(fuzz_utf8_valid(lists[i]->address));
    }
    for (size_t i = 0; i < m->to_count; i++)
      if (m->to[i].name) FUZZ_CHECK(fuzz_utf8_valid(m->to[i].name) && !strpbrk(m->to[i].name, "\r\n"));
    for (size_t i = 0; i < m->attachments_count; i++)
      FUZZ_CHECK(fuzz_utf8_valid(m->attachments[i].filename) && !strpbrk(m->attachments[i].filename, "\r\n/\\"));
    mail_message_free(m);
  }
  g_string_free(raw, TRUE);
  free(value);
  return 0;
}
