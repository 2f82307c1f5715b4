/* Fuzz target: an inbound message through everything the mail channel does with it (plugins/ticketing/mail_in.c):
 * mail_parse_new (GMime, the charset fallbacks, the body choice, the HTML sanitiser and text rendering, the
 * auto-reply and bounce signals), then the ticket reference in the subject, the quote stripper on the text, and the
 * attachment URLs bound into the sanitised HTML.
 *
 * Input: the raw message, as piped from an MTA or fetched over IMAP.
 * Checked (mail.h's contracts): a message or an error text; subject and text never NULL; what was decoded for
 * people (subject, text, HTML, names, file names) is valid UTF-8; the text has no control characters but tab and
 * newline; message ids are absent or non-empty; file names carry no path separator; attachment sizes and counts
 * agree. */
#include "fuzz.h"
#include "mail.h"

static void check_address(const struct mail_address *a)
{
  if (a->name) FUZZ_CHECK(fuzz_utf8_valid(a->name));
  if (a->address) FUZZ_CHECK(fuzz_utf8_valid(a->address) && *a->address);
}

static void check_message(const struct mail_message *m)
{
  FUZZ_CHECK(m->subject && fuzz_utf8_valid(m->subject) && !strchr(m->subject, '\n'));
  FUZZ_CHECK(m->text && fuzz_utf8_valid(m->text));
  for (const char *p = m->text; *p; p++) FUZZ_CHECK((unsigned char)*p >= 0x20 || *p == '\t' || *p == '\n');
  if (m->html) FUZZ_CHECK(fuzz_utf8_valid(m->html));
  check_address(&m->from);
  check_address(&m->reply_to);
  FUZZ_CHECK(!m->to_count == !m->to && !m->cc_count == !m->cc);
  for (size_t i = 0; i < m->to_count; i++) check_address(&m->to[i]);
  for (size_t i = 0; i < m->cc_count; i++) check_address(&m->cc[i]);
  for (size_t i = 0; i < m->references_count; i++) FUZZ_CHECK(m->references[i] && *m->references[i]);
  FUZZ_CHECK(!m->message_id || *m->message_id);
  FUZZ_CHECK(!m->in_reply_to || *m->in_reply_to);
  FUZZ_CHECK(m->is_auto_reply >= MAIL_AUTO_NONE && m->is_auto_reply <= MAIL_AUTO_HEADER);
  FUZZ_CHECK(!m->is_bounce || m->is_auto_reply == MAIL_AUTO_HEADER);
  for (size_t i = 0; i < m->attachments_count; i++) {
    const struct mail_attachment *a = &m->attachments[i];
    FUZZ_CHECK(a->filename && *a->filename && fuzz_utf8_valid(a->filename));
    FUZZ_CHECK(!strpbrk(a->filename, "/\\:") && strcmp(a->filename, ".") && strcmp(a->filename, ".."));
    FUZZ_CHECK(a->content_type && strchr(a->content_type, '/'));
    FUZZ_CHECK(a->data || a->size == 0);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char err[200];
  struct mail_message *m = mail_parse_new((const char *)data, size, err, sizeof err);
  if (!m) {
    FUZZ_CHECK(err[0]);
    return 0;
  }
  check_message(m);

  char *ref = mail_ticket_ref_new(m->subject);
  if (ref) {
    FUZZ_CHECK(*ref && strlen(ref) <= 18 && strspn(ref, "0123456789") == strlen(ref));
    free(ref);
  }
  char *fresh = mail_strip_quoted_new(m->text);
  FUZZ_CHECK(fresh && strlen(fresh) <= strlen(m->text) && fuzz_utf8_valid(fresh));
  free(fresh);
  if (m->html) {
    const char *urls[4] = { "/api/v1/attachments/1", NULL, "/a?x=\"<y>\"", "/api/v1/attachments/4" };
    size_t n = m->attachments_count < 4 ? m->attachments_count : 4;
    char *bound = mail_html_bind_attachments_new(m->html, urls, n);
    FUZZ_CHECK(bound && fuzz_utf8_valid(bound));
    free(bound);
  }
  mail_message_free(m);
  return 0;
}
