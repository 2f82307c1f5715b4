/* mail_compose: outbound MIME messages built with GMime: encoded-word subjects and names, quoted-printable or
 * base64 bodies (so no line exceeds 998 octets), CRLF line ends, threading headers. */
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "mail.h"
#include "mail_internal.h"

/* A copy of a header input with CR, LF and other controls turned into spaces: no header injection. */
static char *header_safe(const char *s)
{
  if (!s) return NULL;
  char *d = g_strdup(s);
  for (char *p = d; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = ' ';
  return d;
}

/* A message id without <> or anything that could break the header. */
static char *id_safe(const char *s)
{
  GString *g = g_string_new(NULL);
  for (const char *p = s; p && *p; p++)
    if ((unsigned char)*p > 0x20 && *p != '<' && *p != '>' && *p != 0x7f) g_string_append_c(g, *p);
  return g_string_free(g, FALSE);
}

char *mail_message_id_new(const char *from_address)
{
  mail_gmime_init();
  const char *at = from_address ? strrchr(from_address, '@') : NULL;
  char *domain = id_safe(at && at[1] ? at + 1 : "localhost");
  char *id = g_mime_utils_generate_message_id(*domain ? domain : "localhost");
  char *clean = id_safe(id);
  char *r = strdup(clean);
  if (!r) abort();
  g_free(clean);
  g_free(id);
  g_free(domain);
  return r;
}

static void add_mailbox(GMimeMessage *msg, GMimeAddressType type, const struct mail_address *a)
{
  char *name = header_safe(a->name), *addr = header_safe(a->address);
  g_mime_message_add_mailbox(msg, type, name ? name : "", addr);
  g_free(name);
  g_free(addr);
}

static GMimeObject *text_part(const char *subtype, const char *text)
{
  GMimeTextPart *tp = g_mime_text_part_new_with_subtype(subtype);
  /* GMime picks the charset (us-ascii or utf-8) from the text; encode() picks quoted-printable or base64 */
  g_mime_text_part_set_text(tp, text);
  g_mime_object_encode(GMIME_OBJECT(tp), GMIME_ENCODING_CONSTRAINT_7BIT);
  /* GMime leaves plain ASCII as 7bit whatever its line lengths; a line over 998 octets (an HTML body in one line)
   * is refused by SMTP servers ("500 Line too long"), so such a text goes quoted-printable. */
  size_t run = 0;
  int long_line = 0;
  for (const char *p = text; *p && !long_line; p++) {
    run = (*p == '\n') ? 0 : run + 1;
    long_line = run > 998;
  }
  if (long_line) g_mime_part_set_content_encoding(GMIME_PART(tp), GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
  return GMIME_OBJECT(tp);
}

static GMimeObject *attachment_part(const struct mail_attachment *a)
{
  const char *type = a->content_type && strchr(a->content_type, '/') ? a->content_type : "application/octet-stream";
  char *major = g_strndup(type, (gsize)(strchr(type, '/') - type));
  char *safe_type = header_safe(strchr(type, '/') + 1);
  GMimePart *part = g_mime_part_new_with_type(major, safe_type);
  g_free(major);
  g_free(safe_type);
  GMimeStream *stream = g_mime_stream_mem_new_with_buffer((const char *)(a->data ? a->data : (unsigned char *)""),
                                                          a->data ? a->size : 0);
  GMimeDataWrapper *content = g_mime_data_wrapper_new_with_stream(stream, GMIME_CONTENT_ENCODING_DEFAULT);
  g_mime_part_set_content(part, content);
  g_object_unref(content);
  g_object_unref(stream);
  g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_BASE64);
  char *name = header_safe(a->filename ? a->filename : "attachment");
  g_mime_part_set_filename(part, name); /* sets Content-Disposition: attachment; filename (RFC 2231 if needed) */
  g_free(name);
  if (a->is_inline && a->content_id) {
    char *cid = id_safe(a->content_id);
    g_mime_object_set_disposition(GMIME_OBJECT(part), "inline");
    g_mime_part_set_content_id(part, cid);
    g_free(cid);
  }
  return GMIME_OBJECT(part);
}

static GMimeObject *body_tree(const struct mail_outgoing *m)
{
  GMimeObject *html = NULL;
  if (m->html) {
    html = text_part("html", m->html);
    int inline_count = 0;
    for (size_t i = 0; i < m->attachments_count; i++)
      inline_count += m->attachments[i].is_inline && m->attachments[i].content_id;
    if (inline_count) {
      GMimeMultipart *related = g_mime_multipart_new_with_subtype("related");
      g_mime_multipart_add(related, html);
      g_object_unref(html);
      for (size_t i = 0; i < m->attachments_count; i++) {
        if (!m->attachments[i].is_inline || !m->attachments[i].content_id) continue;
        GMimeObject *img = attachment_part(&m->attachments[i]);
        g_mime_multipart_add(related, img);
        g_object_unref(img);
      }
      html = GMIME_OBJECT(related);
    }
  }
  GMimeObject *body;
  if (m->text && html) {
    GMimeMultipart *alt = g_mime_multipart_new_with_subtype("alternative");
    GMimeObject *text = text_part("plain", m->text);
    g_mime_multipart_add(alt, text);
    g_mime_multipart_add(alt, html);
    g_object_unref(text);
    g_object_unref(html);
    body = GMIME_OBJECT(alt);
  } else {
    body = html ? html : text_part("plain", m->text);
  }
  int attached = 0;
  for (size_t i = 0; i < m->attachments_count; i++)
    attached += !(m->html && m->attachments[i].is_inline && m->attachments[i].content_id);
  if (!attached) return body;
  GMimeMultipart *mixed = g_mime_multipart_new_with_subtype("mixed");
  g_mime_multipart_add(mixed, body);
  g_object_unref(body);
  for (size_t i = 0; i < m->attachments_count; i++) {
    if (m->html && m->attachments[i].is_inline && m->attachments[i].content_id) continue;
    GMimeObject *a = attachment_part(&m->attachments[i]);
    g_mime_multipart_add(mixed, a);
    g_object_unref(a);
  }
  return GMIME_OBJECT(mixed);
}

char *mail_compose_new(const struct mail_outgoing *m, size_t *len)
{
  if (len) *len = 0;
  if (!m || !m->from.address || !m->to_count || (!m->text && !m->html)) return NULL;
  mail_gmime_init();
  GMimeMessage *msg = g_mime_message_new(TRUE);
  GMimeObject *top = GMIME_OBJECT(msg);
  add_mailbox(msg, GMIME_ADDRESS_TYPE_FROM, &m->from);
  for (size_t i = 0; i < m->to_count; i++) add_mailbox(msg, GMIME_ADDRESS_TYPE_TO, &m->to[i]);
  for (size_t i = 0; i < m->cc_count; i++) add_mailbox(msg, GMIME_ADDRESS_TYPE_CC, &m->cc[i]);
  if (m->reply_to) {
    struct mail_address r = { NULL, (char *)m->reply_to };
    add_mailbox(msg, GMIME_ADDRESS_TYPE_REPLY_TO, &r);
  }
  char *subject = header_safe(m->subject ? m->subject : "");
  g_mime_message_set_subject(msg, subject, "utf-8");
  g_free(subject);
  GDateTime *date = g_date_time_new_from_unix_utc(m->date ? (gint64)m->date : (gint64)time(NULL));
  g_mime_message_set_date(msg, date);
  g_date_time_unref(date);

  char *id = m->message_id ? id_safe(m->message_id) : NULL;
  if (!id || !*id) {
    g_free(id);
    char *generated = mail_message_id_new(m->from.address);
    id = g_strdup(generated);
    free(generated);
  }
  g_mime_message_set_message_id(msg, id);
  g_free(id);
  if (m->in_reply_to) {
    char *irt = id_safe(m->in_reply_to);
    char *v = g_strdup_printf("<%s>", irt);
    g_mime_object_set_header(top, "In-Reply-To", v, NULL);
    g_free(v);
    g_free(irt);
  }
  if (m->references_count) {
    /* folded by hand: one id per line keeps every line short however long the thread */
    GString *refs = g_string_new(NULL);
    for (size_t i = 0; i < m->references_count; i++) {
      char *r = id_safe(m->references[i]);
      if (*r) g_string_append_printf(refs, "%s<%s>", refs->len ? "\n " : "", r);
      g_free(r);
    }
    if (refs->len) g_mime_object_set_header(top, "References", refs->str, NULL);
    g_string_free(refs, TRUE);
  }
  if (m->auto_submitted) g_mime_object_set_header(top, "Auto-Submitted", "auto-replied", NULL);

  GMimeObject *body = body_tree(m);
  g_mime_message_set_mime_part(msg, body);
  g_object_unref(body);

  GMimeFormatOptions *format = g_mime_format_options_new();
  g_mime_format_options_set_newline_format(format, GMIME_NEWLINE_FORMAT_DOS);
  GMimeStream *out = g_mime_stream_mem_new();
  g_mime_object_write_to_stream(top, format, out);
  GByteArray *bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out));
  size_t n = bytes ? bytes->len : 0;
  char *r = malloc(n + 1);
  if (!r) abort();
  if (n) memcpy(r, bytes->data, n);
  r[n] = 0;
  if (len) *len = n;
  g_object_unref(out);
  g_mime_format_options_free(format);
  g_object_unref(msg);
  return r;
}
