/* Fuzz target: the HTML sanitiser (mail_html_sanitize_new), the text rendering (mail_html_to_text_new) and the
 * binding of attachment URLs (mail_html_bind_attachments_new), fed directly: mail_parse reaches them only after
 * GMime, which is slower and changes the bytes first.
 *
 * Input: an HTML body (UTF-8, as mail_parse hands it over). Two attachments are declared with Content-IDs
 * "a@x" and "logo" for cid: images.
 * Checked, on the sanitiser's output with a scanner independent of its tokenizer: every '<' opens or closes a tag
 * of the allowlist; every attribute is one the sanitiser may write, its value double-quoted with no '<', '>' or '"'
 * inside; hrefs are http(s), mailto, tel or '#'; src only data:image; and every opened tag is closed, in order.
 * The text rendering has no control character but tab and newline, and is valid UTF-8 when the input is. */
#include <ctype.h>
#include <strings.h>

#include "fuzz.h"
#include "mail.h"

static const char *const TAGS[] = {
  "a", "abbr", "address", "b", "bdi", "bdo", "big", "blockquote", "br", "caption", "center", "cite", "code", "col",
  "colgroup", "dd", "del", "dfn", "div", "dl", "dt", "em", "font", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i",
  "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span", "strike", "strong", "sub",
  "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "tt", "u", "ul", "wbr", NULL
};
static const char *const VOID_TAGS[] = { "br", "col", "hr", "img", "wbr", NULL };
static const char *const ATTRS[] = {
  "title", "dir", "lang", "align", "valign", "width", "height", "bgcolor", "color", "border", "cellpadding",
  "cellspacing", "colspan", "rowspan", "face", "size", "start", "span", "nowrap", "alt", "summary", "scope",
  "style", "href", "rel", "target", "src", "data-remote-src", "data-attachment-index", NULL
};

static int listed(const char *s, size_t n, const char *const *list)
{
  for (int i = 0; list[i]; i++)
    if (strlen(list[i]) == n && !strncmp(s, list[i], n)) return 1;
  return 0;
}

static void check_sanitized(const char *out)
{
  char stack[256][16];
  int depth = 0;
  for (const char *p = out; (p = strchr(p, '<'));) {
    p++;
    int closing = *p == '/';
    if (closing) p++;
    size_t n = 0;
    while (islower((unsigned char)p[n]) || isdigit((unsigned char)p[n])) n++;
    FUZZ_CHECK(n > 0 && n < 16 && listed(p, n, TAGS));
    char tag[16];
    memcpy(tag, p, n);
    tag[n] = 0;
    p += n;
    if (closing) {
      FUZZ_CHECK(*p == '>' && depth > 0 && !strcmp(stack[depth - 1], tag));
      depth--;
      continue;
    }
    while (*p == ' ') {
      p++;
      size_t an = strcspn(p, "=");
      FUZZ_CHECK(listed(p, an, ATTRS));
      const char *name = p;
      p += an;
      FUZZ_CHECK(p[0] == '=' && p[1] == '"');
      p += 2;
      const char *value = p;
      size_t vn = strcspn(p, "\"<>");
      FUZZ_CHECK(p[vn] == '"');
      if (an == 4 && !strncmp(name, "href", 4))
        FUZZ_CHECK(!strncasecmp(value, "http://", 7) || !strncasecmp(value, "https://", 8) ||
                   !strncasecmp(value, "mailto:", 7) || !strncasecmp(value, "tel:", 4) || value[0] == '#');
      if (an == 3 && !strncmp(name, "src", 3)) FUZZ_CHECK(!strncasecmp(value, "data:image/", 11));
      p += vn + 1;
    }
    FUZZ_CHECK(*p == '>');
    if (!listed(tag, n, VOID_TAGS)) {
      FUZZ_CHECK(depth < 256);
      strcpy(stack[depth++], tag);
    }
  }
  FUZZ_CHECK(depth == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *html = fuzz_cstr_new(data, size);
  struct mail_attachment atts[2] = {
    { .filename = "a.png", .content_type = "image/png", .content_id = "a@x", .is_inline = 1 },
    { .filename = "logo.gif", .content_type = "image/gif", .content_id = "logo" },
  };
  char *clean = mail_html_sanitize_new(html, atts, 2);
  FUZZ_CHECK(clean);
  check_sanitized(clean);
  if (fuzz_utf8_valid(html)) FUZZ_CHECK(fuzz_utf8_valid(clean));

  const char *urls[2] = { "/api/v1/attachments/7?sig=\"x\"&y", "/api/v1/attachments/8" };
  char *bound = mail_html_bind_attachments_new(clean, urls, 2);
  FUZZ_CHECK(bound);
  free(bound);
  bound = mail_html_bind_attachments_new(html, urls, 1);  /* the raw input too: it scans for its marker anywhere */
  FUZZ_CHECK(bound);
  free(bound);

  char *text = mail_html_to_text_new(html);
  FUZZ_CHECK(text);
  if (fuzz_utf8_valid(html)) FUZZ_CHECK(fuzz_utf8_valid(text));
  for (const char *p = text; *p; p++) FUZZ_CHECK((unsigned char)*p >= 0x20 || *p == '\t' || *p == '\n');
  free(text);
  free(clean);
  free(html);
  return 0;
}
