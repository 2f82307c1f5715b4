/* mail_parse: inbound RFC 5322/MIME messages into struct mail_message, with GMime 3 doing the MIME work.
 * What GMime leaves to us: choosing the bodies, turning body charsets into UTF-8 (with the Turkish fallbacks),
 * the auto-reply and bounce signals, and copying everything out of GObjects into plain C memory. */
#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "mail.h"
#include "mail_internal.h"

#define MAIL_MAX_DEPTH 32

static pthread_once_t gmime_once = PTHREAD_ONCE_INIT;
static GMimeParserOptions *parser_options;

/* GMime is initialised once per process and never shut down: its type registry is process-wide. The parser
 * options are shared read-only: loose RFC 2047/address/parameter parsing as real mail needs, and undeclared
 * 8-bit header text tried as UTF-8 first, then as windows-1254 (the superset of ISO-8859-9 Turkish mail uses). */
static void gmime_setup(void)
{
  g_mime_init();
  parser_options = g_mime_parser_options_new();
  static const char *fallback[] = { "utf-8", "windows-1254", NULL };
  g_mime_parser_options_set_fallback_charsets(parser_options, fallback);
  g_mime_parser_options_set_rfc2047_compliance_mode(parser_options, GMIME_RFC_COMPLIANCE_LOOSE);
  g_mime_parser_options_set_address_compliance_mode(parser_options, GMIME_RFC_COMPLIANCE_LOOSE);
  g_mime_parser_options_set_parameter_compliance_mode(parser_options, GMIME_RFC_COMPLIANCE_LOOSE);
  g_mime_parser_options_set_allow_addresses_without_domain(parser_options, FALSE);
}

void mail_gmime_init(void)
{
  pthread_once(&gmime_once, gmime_setup);
}

static void *xmalloc(size_t n)
{
  void *p = malloc(n ? n : 1);
  if (!p) abort();
  return p;
}

static char *xstrdup(const char *s)
{
  if (!s) return NULL;
  size_t n = strlen(s);
  char *d = xmalloc(n + 1);
  memcpy(d, s, n + 1);
  return d;
}

/* Moves a GString's text into malloc'd memory and frees the GString. */
static char *gstring_take(GString *s)
{
  char *d = xstrdup(s->str);
  g_string_free(s, TRUE);
  return d;
}

/* ---- charsets -------------------------------------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at p (at most n bytes), or 0 when it is not one (overlongs, surrogates
 * and code points past U+10FFFF are invalid). */
static size_t utf8_seq_len(const unsigned char *p, size_t n)
{
  if (p[0] < 0x80) return 1;
  size_t len;
  unsigned cp;
  if (p[0] >= 0xC2 && p[0] <= 0xDF) { len = 2; cp = p[0] & 0x1F; }
  else if (p[0] >= 0xE0 && p[0] <= 0xEF) { len = 3; cp = p[0] & 0x0F; }
  else if (p[0] >= 0xF0 && p[0] <= 0xF4) { len = 4; cp = p[0] & 0x07; }
  else return 0;
  if (n < len) return 0;
  for (size_t i = 1; i < len; i++) {
    if ((p[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (p[i] & 0x3F);
  }
  if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return len;
}

static int utf8_valid(const char *s, size_t n)
{
  const unsigned char *p = (const unsigned char *)s;
  for (size_t i = 0; i < n;) {
    size_t l = utf8_seq_len(p + i, n - i);
    if (!l) return 0;
    i += l;
  }
  return 1;
}

/* Appends text to out as clean UTF-8: CRLF and lone CR become LF, NUL and C0 controls other than tab and
 * newline are dropped. src must already be valid UTF-8. */
static void append_clean(GString *out, const char *src, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)src[i];
    if (c == '\r') {
      g_string_append_c(out, '\n');
      if (i + 1 < n && src[i + 1] == '\n') i++;
    } else if (c >= 0x20 || c == '\t' || c == '\n') {
      g_string_append_c(out, (char)c);
    }
  }
}

/* The iconv name to use for a declared charset. Like browsers (the WHATWG Encoding standard), ISO-8859-9 is
 * read as its superset windows-1254 and ISO-8859-1/ASCII as windows-1252: Outlook labels cp1254 text with the
 * ISO name, and the 0x80-0x9F bytes (quotes, dashes, the euro sign) would otherwise be lost. */
static const char *iconv_name_for(const char *charset)
{
  if (!charset || !*charset) return NULL;
  const char *canon = g_mime_charset_canon_name(charset);
  if (!canon) canon = charset;
  if (!g_ascii_strcasecmp(canon, "iso-8859-9") || !g_ascii_strcasecmp(canon, "latin5")) return "WINDOWS-1254";
  if (!g_ascii_strcasecmp(canon, "iso-8859-1") || !g_ascii_strcasecmp(canon, "us-ascii") ||
      !g_ascii_strcasecmp(canon, "latin1"))
    return "WINDOWS-1252";
  return g_mime_charset_iconv_name(canon);
}

/* Converts n bytes in charset `from` with iconv, U+FFFD for each byte it cannot convert. 0 when iconv does not
 * know the charset. */
static int convert_with_iconv(GString *out, const char *src, size_t n, const char *from)
{
  iconv_t cd = iconv_open("UTF-8", from);
  if (cd == (iconv_t)-1) return 0;
  GString *tmp = g_string_sized_new(n + n / 2 + 16);
  char buf[4096];
  char *in = (char *)src;
  size_t inleft = n;
  while (inleft > 0) {
    char *o = buf;
    size_t oleft = sizeof buf;
    size_t r = iconv(cd, &in, &inleft, &o, &oleft);
    g_string_append_len(tmp, buf, (gssize)(o - buf));
    if (r == (size_t)-1) {
      if (errno == E2BIG) continue;
      /* EILSEQ or EINVAL (truncated at the end): replace one byte and go on */
      g_string_append(tmp, "\xEF\xBF\xBD");
      in++;
      inleft--;
      iconv(cd, NULL, NULL, NULL, NULL);
    }
  }
  char *o = buf;
  size_t oleft = sizeof buf;
  iconv(cd, NULL, NULL, &o, &oleft);
  g_string_append_len(tmp, buf, (gssize)(o - buf));
  iconv_close(cd);
  append_clean(out, tmp->str, tmp->len);
  g_string_free(tmp, TRUE);
  return 1;
}

/* Appends n bytes of text declared as `charset` (may be NULL) to out as clean UTF-8. Undeclared or UTF-8
 * labelled text that is not valid UTF-8 is read as windows-1254: the Turkish mail this desk receives. */
void mail_text_to_utf8(GString *out, const char *src, size_t n, const char *charset)
{
  const char *from = iconv_name_for(charset);
  int declared_utf8 = from && (!g_ascii_strcasecmp(from, "UTF-8") || !g_ascii_strcasecmp(from, "utf8"));
  if (!from || declared_utf8) {
    if (utf8_valid(src, n)) { append_clean(out, src, n); return; }
    from = "WINDOWS-1254";
  } else if (!g_ascii_strcasecmp(from, "WINDOWS-1252") && utf8_valid(src, n)) {
    /* mislabelled UTF-8 (common with "us-ascii" labels): pure ASCII reads the same either way */
    append_clean(out, src, n);
    return;
  }
  if (convert_with_iconv(out, src, n, from)) return;
  if (utf8_valid(src, n)) append_clean(out, src, n);
  else convert_with_iconv(out, src, n, "WINDOWS-1254");
}

/* A header value as clean single-line UTF-8: GMime has decoded encoded words; anything still invalid is read
 * as windows-1254; folding whitespace and controls become single spaces. */
static char *header_text_new(const char *value)
{
  if (!value) return NULL;
  GString *u = g_string_new(NULL);
  mail_text_to_utf8(u, value, strlen(value), NULL);
  GString *s = g_string_sized_new(u->len);
  int space = 0;
  for (size_t i = 0; i < u->len; i++) {
    char c = u->str[i];
    if (c == '\n' || c == '\t' || c == ' ') { space = s->len > 0; continue; }
    if (space) g_string_append_c(s, ' ');
    space = 0;
    g_string_append_c(s, c);
  }
  g_string_free(u, TRUE);
  return gstring_take(s);
}

/* ---- a GMime bug -------------------------------------------------------------------------------------------
 * GMime 3.2.13 (Debian 12) drops a B-encoded word that follows a B-encoded word of the same charset ending in '='
 * padding: "=?UTF-8?B?SGVsbG8=?= =?UTF-8?B?IHdvcmxk?=" decodes to "Hello" (jstedfast/gmime#133, fixed upstream
 * after 3.2.13). Gmail and Outlook split long subjects, names and file names exactly so, and Turkish text needs
 * encoded words. So before GMime decodes a header we rewrite each padded B word as the equivalent Q word. */

/* The header value with padded B words rewritten as Q words, or NULL when there is none (mail_internal.h; the
 * fuzz target tests/fuzz/fuzz_rfc2047.c calls it directly). */
char *mail_rfc2047_unpad_new(const char *raw)
{
  if (!raw) return NULL;
  GString *out = g_string_new(NULL);
  int changed = 0;
  const char *p = raw, *w = raw;
  /* one pass, no strstr: the scans below never go back, so a header of many words stays linear */
  while ((w = strchr(w, '='))) {
    if (w[1] != '?') { w++; continue; }
    const char *q1 = w + 2;
    while (*q1 && *q1 != '?' && !g_ascii_isspace(*q1)) q1++;
    if (*q1 != '?' || !q1[1] || q1[2] != '?' || (q1[1] != 'b' && q1[1] != 'B')) { w += 2; continue; }
    const char *end = q1 + 3;
    while (*end && !g_ascii_isspace(*end) && !(end[0] == '?' && end[1] == '=')) end++;
    if (*end != '?' || end == q1 + 3 || end[-1] != '=') { if (!*end) break; w = end; continue; }
    g_string_append_len(out, p, (gssize)(w - p));
    char *payload = g_strndup(q1 + 3, (gsize)(end - q1 - 3));
    gsize n = 0;
    guchar *bytes = g_base64_decode(payload, &n);
    g_string_append_len(out, w, (gssize)(q1 - w));
    g_string_append(out, "?q?");
    for (gsize i = 0; i < n; i++) {
      if (g_ascii_isalnum(bytes[i])) g_string_append_c(out, (char)bytes[i]);
      else g_string_append_printf(out, "=%02X", bytes[i]);
    }
    g_string_append(out, "?=");
    g_free(bytes);
    g_free(payload);
    changed = 1;
    p = w = end + 2;
  }
  if (!changed) { g_string_free(out, TRUE); return NULL; }
  g_string_append(out, p);
  return g_string_free(out, FALSE);
}

static const char *raw_header(GMimeObject *obj, const char *name)
{
  GMimeHeaderList *list = g_mime_object_get_header_list(obj);
  GMimeHeader *h = list ? g_mime_header_list_get_header(list, name) : NULL;
  return h ? g_mime_header_get_raw_value(h) : NULL;
}

/* The decoded Subject, working around the bug above. Caller g_frees. */
static char *subject_decoded_new(GMimeMessage *msg)
{
  char *fixed = mail_rfc2047_unpad_new(raw_header(GMIME_OBJECT(msg), "Subject"));
  if (!fixed) return g_strdup(g_mime_message_get_subject(msg) ? g_mime_message_get_subject(msg) : "");
  char *unfolded = g_mime_utils_header_unfold(fixed);
  char *decoded = g_mime_utils_header_decode_text(parser_options, unfolded);
  g_free(unfolded);
  g_free(fixed);
  return decoded;
}

/* An address header as a list (a new reference: caller unrefs), working around the bug above. */
static InternetAddressList *addresses_of(GMimeMessage *msg, const char *header, GMimeAddressType type)
{
  char *fixed = mail_rfc2047_unpad_new(raw_header(GMIME_OBJECT(msg), header));
  if (!fixed) return g_object_ref(g_mime_message_get_addresses(msg, type));
  char *unfolded = g_mime_utils_header_unfold(fixed);
  InternetAddressList *list = internet_address_list_parse(parser_options, unfolded);
  g_free(unfolded);
  g_free(fixed);
  return list ? list : internet_address_list_new();
}

/* A part's file name (Content-Disposition filename, else Content-Type name), decoded; caller g_frees. */
static char *part_filename_new(GMimeObject *obj)
{
  char *fixed = mail_rfc2047_unpad_new(raw_header(obj, "Content-Disposition"));
  char *name = NULL;
  if (fixed) {
    GMimeContentDisposition *d = g_mime_content_disposition_parse(parser_options, fixed);
    if (d && g_mime_content_disposition_get_parameter(d, "filename"))
      name = g_strdup(g_mime_content_disposition_get_parameter(d, "filename"));
    if (d) g_object_unref(d);
    g_free(fixed);
  }
  if (!name && (fixed = mail_rfc2047_unpad_new(raw_header(obj, "Content-Type")))) {
    GMimeContentType *ct = g_mime_content_type_parse(parser_options, fixed);
    if (ct && g_mime_content_type_get_parameter(ct, "name"))
      name = g_strdup(g_mime_content_type_get_parameter(ct, "name"));
    if (ct) g_object_unref(ct);
    g_free(fixed);
  }
  if (!name && GMIME_IS_PART(obj) && g_mime_part_get_filename(GMIME_PART(obj)))
    name = g_strdup(g_mime_part_get_filename(GMIME_PART(obj)));
  return name;
}

/* ---- the walk over the MIME tree ------------------------------------------------------------------------ */

struct walk {
  struct mail_message *m;
  GString *text;                 /* concatenated inline text/plain bodies */
  GString *html;                 /* concatenated inline text/html bodies */
  GArray *attachments;           /* struct mail_attachment */
  char *original_id;             /* bounce: Message-ID of the returned message */
};

static void part_bytes(GMimePart *part, GByteArray **out)
{
  *out = NULL;
  GMimeDataWrapper *content = g_mime_part_get_content(part);
  if (!content) return;
  GMimeStream *mem = g_mime_stream_mem_new();
  g_mime_data_wrapper_write_to_stream(content, mem);
  GByteArray *ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
  *out = g_byte_array_sized_new(ba ? ba->len : 0);
  if (ba && ba->len) g_byte_array_append(*out, ba->data, ba->len);
  g_object_unref(mem);
}

static const char *extension_for(const char *mime_type)
{
  static const char *const map[][2] = {
    { "image/png", ".png" }, { "image/jpeg", ".jpg" }, { "image/gif", ".gif" }, { "image/webp", ".webp" },
    { "application/pdf", ".pdf" }, { "text/plain", ".txt" }, { "text/html", ".html" },
    { "message/rfc822", ".eml" }, { "text/rfc822-headers", ".txt" }, { "message/delivery-status", ".txt" },
    { "text/calendar", ".ics" }, { NULL, NULL }
  };
  for (int i = 0; map[i][0]; i++)
    if (!strcmp(map[i][0], mime_type)) return map[i][1];
  return "";
}

/* A safe display file name: decoded by GMime (RFC 2231 and RFC 2047), path separators and controls replaced. */
static char *filename_new(const char *decoded, const char *mime_type, size_t index)
{
  if (decoded && *decoded) {
    char *name = header_text_new(decoded);
    for (char *p = name; *p; p++)
      if (*p == '/' || *p == '\\' || *p == ':') *p = '_';
    if (*name && strcmp(name, ".") && strcmp(name, "..")) return name;
    free(name);
  }
  char buf[64];
  snprintf(buf, sizeof buf, "attachment-%zu%s", index + 1, extension_for(mime_type));
  return xstrdup(buf);
}

static char *mime_type_new(GMimeObject *obj)
{
  GMimeContentType *ct = g_mime_object_get_content_type(obj);
  char *t = ct ? g_mime_content_type_get_mime_type(ct) : NULL;
  char *r = xstrdup(t ? t : "application/octet-stream");
  g_free(t);
  for (char *p = r; *p; p++) *p = (char)tolower((unsigned char)*p);
  return r;
}

static void add_attachment(struct walk *w, GMimeObject *obj, const char *filename, GByteArray *bytes)
{
  struct mail_attachment a = { 0 };
  a.content_type = mime_type_new(obj);
  a.filename = filename_new(filename, a.content_type, w->attachments->len);
  const char *cid = g_mime_object_get_content_id(obj);
  a.content_id = cid && *cid ? xstrdup(cid) : NULL;
  const char *disp = g_mime_object_get_disposition(obj);
  a.is_inline = a.content_id && disp && !g_ascii_strcasecmp(disp, "inline");
  a.size = bytes ? bytes->len : 0;
  a.data = xmalloc(a.size);
  if (a.size) memcpy(a.data, bytes->data, a.size);
  g_array_append_val(w->attachments, a);
}

/* The Message-ID inside a returned message or returned headers (text/rfc822-headers), without <>. */
static char *embedded_message_id_new(const unsigned char *data, size_t len)
{
  GString *hdrs = g_string_new_len((const char *)data, (gssize)len);
  g_string_append(hdrs, "\r\n\r\n");
  GMimeStream *stream = g_mime_stream_mem_new_with_buffer(hdrs->str, hdrs->len);
  GMimeParser *parser = g_mime_parser_new_with_stream(stream);
  GMimeMessage *msg = g_mime_parser_construct_message(parser, parser_options);
  char *id = NULL;
  if (msg && g_mime_message_get_message_id(msg)) id = xstrdup(g_mime_message_get_message_id(msg));
  if (msg) g_object_unref(msg);
  g_object_unref(parser);
  g_object_unref(stream);
  g_string_free(hdrs, TRUE);
  return id;
}

static void walk_object(struct walk *w, GMimeObject *obj, int depth);

static void walk_message_part(struct walk *w, GMimeMessagePart *mp)
{
  GMimeObject *obj = GMIME_OBJECT(mp);
  GMimeMessage *inner = g_mime_message_part_get_message(mp);
  char *raw = inner ? g_mime_object_to_string(GMIME_OBJECT(inner), NULL) : NULL;
  GByteArray *bytes = g_byte_array_new();
  if (raw) g_byte_array_append(bytes, (const guint8 *)raw, (guint)strlen(raw));
  char *name = part_filename_new(obj);
  if (!name && inner) {
    char *subject = subject_decoded_new(inner);
    if (*subject) name = g_strdup_printf("%s.eml", subject);
    g_free(subject);
  }
  add_attachment(w, obj, name, bytes);
  if (inner && !w->original_id && g_mime_message_get_message_id(inner))
    w->original_id = xstrdup(g_mime_message_get_message_id(inner));
  g_free(name);
  g_free(raw);
  g_byte_array_free(bytes, TRUE);
}

static void walk_part(struct walk *w, GMimePart *part)
{
  GMimeObject *obj = GMIME_OBJECT(part);
  GMimeContentType *ct = g_mime_object_get_content_type(obj);
  char *filename = part_filename_new(obj);
  GMimeContentDisposition *disp = g_mime_object_get_content_disposition(obj);
  int is_attachment = (disp && g_mime_content_disposition_is_attachment(disp)) || (filename && *filename);
  GByteArray *bytes;
  part_bytes(part, &bytes);
  int plain = ct && g_mime_content_type_is_type(ct, "text", "plain");
  int html = ct && g_mime_content_type_is_type(ct, "text", "html");
  if (!is_attachment && (plain || html)) {
    GString *dst = plain ? w->text : w->html;
    if (dst->len && dst->str[dst->len - 1] != '\n') g_string_append_c(dst, '\n');
    mail_text_to_utf8(dst, bytes ? (const char *)bytes->data : "", bytes ? bytes->len : 0,
                      g_mime_object_get_content_type_parameter(obj, "charset"));
  } else {
    add_attachment(w, obj, filename, bytes);
    if (ct && g_mime_content_type_is_type(ct, "text", "rfc822-headers") && !w->original_id && bytes)
      w->original_id = embedded_message_id_new(bytes->data, bytes->len);
  }
  if (bytes) g_byte_array_free(bytes, TRUE);
  g_free(filename);
}

static void walk_object(struct walk *w, GMimeObject *obj, int depth)
{
  if (!obj || depth > MAIL_MAX_DEPTH) return;
  if (GMIME_IS_MULTIPART(obj)) {
    GMimeMultipart *mp = GMIME_MULTIPART(obj);
    int n = g_mime_multipart_get_count(mp);
    for (int i = 0; i < n; i++) walk_object(w, g_mime_multipart_get_part(mp, i), depth + 1);
  } else if (GMIME_IS_MESSAGE_PART(obj)) {
    walk_message_part(w, GMIME_MESSAGE_PART(obj));
  } else if (GMIME_IS_PART(obj)) {
    walk_part(w, GMIME_PART(obj));
  }
}

/* ---- addresses, ids, flags ------------------------------------------------------------------------------ */

static void collect_addresses(InternetAddressList *list, GArray *out, int depth)
{
  int n = list ? internet_address_list_length(list) : 0;
  for (int i = 0; i < n; i++) {
    InternetAddress *ia = internet_address_list_get_address(list, i);
    if (INTERNET_ADDRESS_IS_GROUP(ia)) {
      if (depth < 4) collect_addresses(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)), out, depth + 1);
      continue;
    }
    if (!INTERNET_ADDRESS_IS_MAILBOX(ia)) continue;
    const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
    if (!addr || !*addr) continue;
    const char *name = internet_address_get_name(ia);
    struct mail_address a = { name && *name ? header_text_new(name) : NULL, header_text_new(addr) };
    g_array_append_val(out, a);
  }
}

static struct mail_address *addresses_new(InternetAddressList *list, size_t *count)
{
  GArray *arr = g_array_new(FALSE, TRUE, sizeof(struct mail_address));
  collect_addresses(list, arr, 0);
  *count = arr->len;
  struct mail_address *r = NULL;
  if (arr->len) {
    r = xmalloc(arr->len * sizeof *r);
    memcpy(r, arr->data, arr->len * sizeof *r);
  }
  g_array_free(arr, TRUE);
  return r;
}

static void first_address(InternetAddressList *list, struct mail_address *dst)
{
  size_t n;
  struct mail_address *all = addresses_new(list, &n);
  if (!n) return;
  *dst = all[0];
  for (size_t i = 1; i < n; i++) { free(all[i].name); free(all[i].address); }
  free(all);
}

static int header_token_is(const char *value, const char *token)
{
  if (!value) return 0;
  while (*value == ' ' || *value == '\t') value++;
  size_t n = strlen(token);
  return !g_ascii_strncasecmp(value, token, n) && !isalnum((unsigned char)value[n]) && value[n] != '-';
}

static int subject_says_auto(const char *subject)
{
  static const char *const prefixes[] = {
    "out of office", "automatic reply", "auto reply", "autoreply", "auto-reply", "auto:", "abwesenheitsnotiz",
    "otomatik yanıt", "otomatik yanit", "otomatik cevap", "ofis dışında", "ofis disinda", "izindeyim", NULL
  };
  const char *s = subject;
  for (;;) { /* skip "Re:", "Fwd:", "YNT:", "İLT:" … */
    while (*s == ' ') s++;
    const char *colon = strchr(s, ':');
    if (!colon || colon - s > 4 || colon == s) break;
    int word = 1;
    for (const char *p = s; p < colon; p++)
      if (*p == ' ') word = 0;
    if (!word || !g_ascii_strncasecmp(s, "auto", 4)) break;
    s = colon + 1;
  }
  char *lower = g_utf8_strdown(s, -1);
  int hit = 0;
  for (int i = 0; prefixes[i] && !hit; i++)
    hit = !strncmp(lower, prefixes[i], strlen(prefixes[i]));
  g_free(lower);
  return hit;
}

static int local_part_is(const char *addr, const char *name)
{
  size_t n = strlen(name);
  return addr && !g_ascii_strncasecmp(addr, name, n) && (addr[n] == '@' || addr[n] == 0);
}

/* Scans bounce text for a "Message-ID: <…>" line of the returned message. */
static char *message_id_in_text_new(const char *text)
{
  for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
    while (*p == ' ' || *p == '\t') p++;
    if (g_ascii_strncasecmp(p, "message-id:", 11)) continue;
    const char *end = strchr(p, '\n');
    char *line = g_strndup(p + 11, end ? (gsize)(end - p - 11) : strlen(p + 11));
    char *id = g_mime_utils_decode_message_id(line);
    char *r = id && *id ? xstrdup(id) : NULL;
    g_free(id);
    g_free(line);
    if (r) return r;
  }
  return NULL;
}

static void set_flags(struct mail_message *m, GMimeMessage *msg, struct walk *w)
{
  GMimeObject *top = GMIME_OBJECT(msg);
  const char *auto_submitted = g_mime_object_get_header(top, "Auto-Submitted");
  const char *precedence = g_mime_object_get_header(top, "Precedence");
  const char *return_path = g_mime_object_get_header(top, "Return-Path");
  int strong = (auto_submitted && !header_token_is(auto_submitted, "no")) ||
               g_mime_object_get_header(top, "X-Autoreply") || g_mime_object_get_header(top, "X-Autorespond") ||
               header_token_is(precedence, "bulk") || header_token_is(precedence, "junk") ||
               header_token_is(precedence, "list");
  if (return_path) {
    char *rp = g_strstrip(g_strdup(return_path));
    if (!strcmp(rp, "<>")) strong = 1;
    g_free(rp);
  }

  GMimeContentType *ct = g_mime_object_get_content_type(g_mime_message_get_mime_part(msg));
  const char *report_type = ct ? g_mime_content_type_get_parameter(ct, "report-type") : NULL;
  if (ct && g_mime_content_type_is_type(ct, "multipart", "report") && report_type &&
      !g_ascii_strcasecmp(report_type, "delivery-status"))
    m->is_bounce = 1;
  if (local_part_is(m->from.address, "mailer-daemon") || local_part_is(m->from.address, "postmaster"))
    m->is_bounce = 1;
  if (m->is_bounce) {
    strong = 1;
    if (w->original_id) m->bounce_message_id = xstrdup(w->original_id);
    else m->bounce_message_id = message_id_in_text_new(m->text);
  }
  m->is_auto_reply = strong ? MAIL_AUTO_HEADER : subject_says_auto(m->subject) ? MAIL_AUTO_SUBJECT : MAIL_AUTO_NONE;
}

/* A message id as clean text, or NULL when nothing is left of it (an id of control characters): an empty id would
 * match any other empty one. */
static char *message_id_text_new(const char *id)
{
  char *r = id && *id ? header_text_new(id) : NULL;
  if (r && !*r) { free(r); r = NULL; }
  return r;
}

static char *message_id_header_new(GMimeObject *top, const char *name)
{
  const char *v = g_mime_object_get_header(top, name);
  if (!v) return NULL;
  char *id = g_mime_utils_decode_message_id(v);
  char *r = message_id_text_new(id);
  g_free(id);
  return r;
}

static void set_references(struct mail_message *m, GMimeObject *top)
{
  const char *v = g_mime_object_get_header(top, "References");
  GMimeReferences *refs = v ? g_mime_references_parse(parser_options, v) : NULL;
  int n = refs ? g_mime_references_length(refs) : 0;
  if (n > 0) m->references = xmalloc((size_t)n * sizeof *m->references);
  for (int i = 0; i < n; i++) {
    char *text = message_id_text_new(g_mime_references_get_message_id(refs, i));
    if (text) m->references[m->references_count++] = text;
  }
  if (refs) g_mime_references_free(refs);
}

/* Marks as inline every attachment whose Content-ID the HTML references as cid:… (one pass over the HTML). */
static void mark_cid_references(const char *html, struct mail_attachment *atts, size_t count)
{
  GHashTable *by_id = g_hash_table_new(g_str_hash, g_str_equal);
  for (size_t i = 0; i < count; i++)
    if (atts[i].content_id) g_hash_table_insert(by_id, atts[i].content_id, &atts[i]);
  if (g_hash_table_size(by_id)) {
    for (const char *p = html; (p = strchr(p, ':'));) {
      p++;
      if (p - html < 4 || g_ascii_strncasecmp(p - 4, "cid:", 4)) continue;
      size_t n = strcspn(p, "\"' >");
      char *id = g_strndup(p, n);
      struct mail_attachment *a = g_hash_table_lookup(by_id, id);
      if (a) a->is_inline = 1;
      g_free(id);
      p += n;
    }
  }
  g_hash_table_destroy(by_id);
}

/* ---- entry points ---------------------------------------------------------------------------------------- */

static void set_err(char *err, size_t errlen, const char *msg)
{
  if (err && errlen) snprintf(err, errlen, "%s", msg);
}

struct mail_message *mail_parse_new(const char *raw, size_t len, char *err, size_t errlen)
{
  set_err(err, errlen, "");
  if (!raw || !len) { set_err(err, errlen, "empty message"); return NULL; }
  mail_gmime_init();

  GMimeStream *stream = g_mime_stream_mem_new_with_buffer(raw, len);
  GMimeParser *parser = g_mime_parser_new_with_stream(stream);
  g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
  GMimeMessage *msg = g_mime_parser_construct_message(parser, parser_options);
  g_object_unref(parser);
  g_object_unref(stream);
  if (!msg) { set_err(err, errlen, "not a mail message: no header block"); return NULL; }
  GMimeObject *top = GMIME_OBJECT(msg);
  GMimeHeaderList *headers = g_mime_object_get_header_list(top);
  if (!headers || g_mime_header_list_get_count(headers) == 0 ||
      (!g_mime_object_get_header(top, "From") && !g_mime_object_get_header(top, "Message-ID") &&
       !g_mime_object_get_header(top, "Date") && !g_mime_object_get_header(top, "Subject"))) {
    g_object_unref(msg);
    set_err(err, errlen, "not a mail message: no From, Message-ID, Date or Subject header");
    return NULL;
  }

  struct mail_message *m = calloc(1, sizeof *m);
  if (!m) abort();
  const char *id = g_mime_message_get_message_id(msg);
  m->message_id = message_id_text_new(id);
  m->in_reply_to = message_id_header_new(top, "In-Reply-To");
  set_references(m, top);
  static const struct { const char *header; GMimeAddressType type; } address_headers[] = {
    { "From", GMIME_ADDRESS_TYPE_FROM }, { "Reply-To", GMIME_ADDRESS_TYPE_REPLY_TO },
    { "To", GMIME_ADDRESS_TYPE_TO }, { "Cc", GMIME_ADDRESS_TYPE_CC }
  };
  InternetAddressList *lists[4];
  for (int i = 0; i < 4; i++) lists[i] = addresses_of(msg, address_headers[i].header, address_headers[i].type);
  first_address(lists[0], &m->from);
  first_address(lists[1], &m->reply_to);
  m->to = addresses_new(lists[2], &m->to_count);
  m->cc = addresses_new(lists[3], &m->cc_count);
  for (int i = 0; i < 4; i++) g_object_unref(lists[i]);
  char *subject = subject_decoded_new(msg);
  m->subject = header_text_new(subject);
  g_free(subject);
  GDateTime *date = g_mime_message_get_date(msg);
  m->date = date ? (time_t)g_date_time_to_unix(date) : 0;

  struct walk w = { m, g_string_new(NULL), g_string_new(NULL),
                    g_array_new(FALSE, TRUE, sizeof(struct mail_attachment)), NULL };
  walk_object(&w, g_mime_message_get_mime_part(msg), 0);
  m->attachments_count = w.attachments->len;
  m->attachments = (struct mail_attachment *)(void *)g_array_free(w.attachments, FALSE);
  if (w.html->len) {
    mark_cid_references(w.html->str, m->attachments, m->attachments_count);
    m->html = mail_html_sanitize_new(w.html->str, m->attachments, m->attachments_count);
  }
  if (w.text->len) {
    m->text = mail_text_trim_new(w.text->str);
  } else if (w.html->len) {
    m->text = mail_html_to_text_new(w.html->str);
  } else {
    m->text = xstrdup("");
  }
  set_flags(m, msg, &w);
  free(w.original_id);
  g_string_free(w.text, TRUE);
  g_string_free(w.html, TRUE);
  g_object_unref(msg);
  return m;
}

static void address_free(struct mail_address *a)
{
  free(a->name);
  free(a->address);
}

void mail_message_free(struct mail_message *m)
{
  if (!m) return;
  free(m->message_id);
  free(m->in_reply_to);
  for (size_t i = 0; i < m->references_count; i++) free(m->references[i]);
  free(m->references);
  address_free(&m->from);
  address_free(&m->reply_to);
  for (size_t i = 0; i < m->to_count; i++) address_free(&m->to[i]);
  free(m->to);
  for (size_t i = 0; i < m->cc_count; i++) address_free(&m->cc[i]);
  free(m->cc);
  free(m->subject);
  free(m->text);
  free(m->html);
  for (size_t i = 0; i < m->attachments_count; i++) {
    struct mail_attachment *a = &m->attachments[i];
    free(a->filename);
    free(a->content_type);
    free(a->content_id);
    free(a->data);
  }
  g_free(m->attachments);
  free(m->bounce_message_id);
  free(m);
}
