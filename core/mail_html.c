/* mail_html: HTML bodies of inbound mail made safe to show, and readable as plain text.
 * A small tokenizer (not a full HTML5 parser) feeds two consumers: the sanitiser, which rebuilds markup from an
 * allowlist of tags and attributes with every value re-escaped (so odd input cannot smuggle markup through),
 * and the text renderer. The UI should still show the result in a sandboxed iframe without scripts: this is
 * the second wall, not the only one. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sqlite3.h>

#include "mail.h"
#include "mail_internal.h"

#define HTML_MAX_ATTRS 32
#define HTML_MAX_DEPTH 256

char *mail_str_take(sqlite3_str *s)
{
  int n = sqlite3_str_length(s);
  char *text = sqlite3_str_finish(s);
  char *r = malloc((size_t)n + 1);
  if (!r) abort();
  if (n) memcpy(r, text, (size_t)n);
  r[n] = 0;
  sqlite3_free(text);
  return r;
}

void mail_html_escape(sqlite3_str *out, const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    switch (s[i]) {
    case '&': sqlite3_str_appendall(out, "&amp;"); break;
    case '<': sqlite3_str_appendall(out, "&lt;"); break;
    case '>': sqlite3_str_appendall(out, "&gt;"); break;
    case '"': sqlite3_str_appendall(out, "&quot;"); break;
    case '\'': sqlite3_str_appendall(out, "&#39;"); break;
    default: sqlite3_str_appendchar(out, 1, s[i]);
    }
  }
}

/* ---- tokenizer ------------------------------------------------------------------------------------------- */

enum html_kind { HTML_END_OF_INPUT, HTML_TEXT, HTML_START, HTML_END };

struct html_attr {
  char name[24];          /* lower-case, truncated */
  const char *value;      /* raw (entities not decoded), not NUL-terminated */
  size_t value_len;
};

struct html_token {
  enum html_kind kind;
  const char *text;       /* HTML_TEXT: raw text */
  size_t len;
  char name[16];          /* tags: lower-case name; "" when too long to be one we know */
  struct html_attr attrs[HTML_MAX_ATTRS];
  int attrs_count;
};

struct html_lexer {
  const char *p, *end;
};

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

static void read_name(const char **pp, const char *end, char *dst, size_t cap, const char *stops)
{
  const char *p = *pp;
  size_t n = 0;
  int too_long = 0;
  while (p < end && !is_space(*p) && !strchr(stops, *p)) {
    if (n + 1 < cap) dst[n++] = (char)tolower((unsigned char)*p);
    else too_long = 1;
    p++;
  }
  dst[too_long ? 0 : n] = 0;
  *pp = p;
}

/* The next token. Comments, doctypes and processing instructions are skipped. A '<' that does not start a tag
 * is text. */
static void html_next(struct html_lexer *lx, struct html_token *t)
{
  for (;;) {
    t->attrs_count = 0;
    t->name[0] = 0;
    const char *p = lx->p, *end = lx->end;
    if (p >= end) { t->kind = HTML_END_OF_INPUT; return; }
    if (*p != '<' || p + 1 >= end ||
        !(isalpha((unsigned char)p[1]) || p[1] == '/' || p[1] == '!' || p[1] == '?')) {
      const char *q = p + 1;
      while (q < end && *q != '<') q++;
      t->kind = HTML_TEXT;
      t->text = p;
      t->len = (size_t)(q - p);
      lx->p = q;
      return;
    }
    if (p[1] == '!' || p[1] == '?') {
      const char *q;
      if (end - p >= 4 && !memcmp(p, "<!--", 4)) {
        q = p + 4;
        while (q + 2 < end && memcmp(q, "-->", 3)) q++;
        q = q + 2 < end ? q + 3 : end;
      } else {
        q = memchr(p, '>', (size_t)(end - p));
        q = q ? q + 1 : end;
      }
      lx->p = q;
      continue;
    }
    if (p[1] == '/') {
      p += 2;
      if (p >= end || !isalpha((unsigned char)*p)) { /* "</ >" and the like: dropped, as browsers do */
        const char *q = memchr(p, '>', (size_t)(end - p));
        lx->p = q ? q + 1 : end;
        continue;
      }
      read_name(&p, end, t->name, sizeof t->name, "/>");
      const char *q = memchr(p, '>', (size_t)(end - p));
      lx->p = q ? q + 1 : end;
      t->kind = HTML_END;
      return;
    }
    p++;
    read_name(&p, end, t->name, sizeof t->name, "/>");
    t->kind = HTML_START;
    while (p < end && *p != '>') {
      if (is_space(*p) || *p == '/') { p++; continue; }
      struct html_attr a = { { 0 }, NULL, 0 };
      read_name(&p, end, a.name, sizeof a.name, "/>=");
      if (p < end && !a.name[0] && *p != '=' && *p != '>' && *p != '/') p++; /* an over-long name */
      while (p < end && is_space(*p)) p++;
      if (p < end && *p == '=') {
        p++;
        while (p < end && is_space(*p)) p++;
        if (p < end && (*p == '"' || *p == '\'')) {
          char quote = *p++;
          const char *v = p;
          while (p < end && *p != quote) p++;
          a.value = v;
          a.value_len = (size_t)(p - v);
          if (p < end) p++;
        } else {
          const char *v = p;
          while (p < end && !is_space(*p) && *p != '>') p++;
          a.value = v;
          a.value_len = (size_t)(p - v);
        }
      }
      if (a.name[0] && t->attrs_count < HTML_MAX_ATTRS) t->attrs[t->attrs_count++] = a;
    }
    if (p >= end) { /* a tag cut off by the end of input is dropped, as browsers do */
      lx->p = end;
      t->kind = HTML_END_OF_INPUT;
      return;
    }
    lx->p = p + 1;
    return;
  }
}

/* Skips the content of a raw-text element (script, style, …) up to and including its end tag, or to the end. */
static void html_skip_raw(struct html_lexer *lx, const char *name)
{
  size_t n = strlen(name);
  for (const char *p = lx->p; p + 2 + n <= lx->end; p++) {
    if (p[0] == '<' && p[1] == '/' && !strncasecmp(p + 2, name, n) &&
        (p + 2 + n == lx->end || is_space(p[2 + n]) || p[2 + n] == '>' || p[2 + n] == '/')) {
      const char *q = memchr(p, '>', (size_t)(lx->end - p));
      lx->p = q ? q + 1 : lx->end;
      return;
    }
  }
  lx->p = lx->end;
}

static int in_list(const char *name, const char *const *list)
{
  for (int i = 0; list[i]; i++)
    if (!strcmp(name, list[i])) return 1;
  return 0;
}

/* Elements whose whole content is dropped. */
static const char *const raw_elements[] = {
  "script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript", "template",
  "svg", "math", "object", "applet", "select", "plaintext", NULL
};

/* ---- entities -------------------------------------------------------------------------------------------- */

static void append_utf8(sqlite3_str *out, unsigned cp)
{
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  char b[4];
  int n;
  if (cp < 0x80) { b[0] = (char)cp; n = 1; }
  else if (cp < 0x800) { b[0] = (char)(0xC0 | cp >> 6); b[1] = (char)(0x80 | (cp & 0x3F)); n = 2; }
  else if (cp < 0x10000) {
    b[0] = (char)(0xE0 | cp >> 12); b[1] = (char)(0x80 | ((cp >> 6) & 0x3F)); b[2] = (char)(0x80 | (cp & 0x3F)); n = 3;
  } else {
    b[0] = (char)(0xF0 | cp >> 18); b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    b[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); b[3] = (char)(0x80 | (cp & 0x3F)); n = 4;
  }
  sqlite3_str_append(out, b, n);
}

static const struct { const char *name; unsigned cp; } named_entities[] = {
  { "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' }, { "apos", '\'' }, { "nbsp", 0xA0 },
  { "ccedil", 0xE7 }, { "Ccedil", 0xC7 }, { "ouml", 0xF6 }, { "Ouml", 0xD6 }, { "uuml", 0xFC }, { "Uuml", 0xDC },
  { "gbreve", 0x11F }, { "Gbreve", 0x11E }, { "scedil", 0x15F }, { "Scedil", 0x15E }, { "inodot", 0x131 },
  { "Idot", 0x130 }, { "imath", 0x131 }, { "acirc", 0xE2 }, { "icirc", 0xEE }, { "ucirc", 0xFB },
  { "eacute", 0xE9 }, { "auml", 0xE4 }, { "Auml", 0xC4 }, { "szlig", 0xDF },
  { "laquo", 0xAB }, { "raquo", 0xBB }, { "hellip", 0x2026 }, { "mdash", 0x2014 }, { "ndash", 0x2013 },
  { "lsquo", 0x2018 }, { "rsquo", 0x2019 }, { "ldquo", 0x201C }, { "rdquo", 0x201D }, { "bull", 0x2022 },
  { "middot", 0xB7 }, { "copy", 0xA9 }, { "reg", 0xAE }, { "trade", 0x2122 }, { "euro", 0x20AC },
  { "times", 0xD7 }, { "deg", 0xB0 }, { "zwnj", 0x200C }, { "shy", 0xAD }, { NULL, 0 }
};

/* Appends s (n bytes) with character references decoded. */
static void decode_entities(sqlite3_str *out, const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    if (s[i] != '&') { sqlite3_str_appendchar(out, 1, s[i]); continue; }
    size_t j = i + 1;
    if (j < n && s[j] == '#') {
      j++;
      int hex = j < n && (s[j] == 'x' || s[j] == 'X');
      if (hex) j++;
      unsigned long cp = 0;
      size_t digits = 0;
      while (j < n && (hex ? isxdigit((unsigned char)s[j]) : isdigit((unsigned char)s[j]))) {
        if (cp < 0x110000) cp = cp * (hex ? 16 : 10) + (unsigned long)(isdigit((unsigned char)s[j]) ? s[j] - '0'
                                                                        : (tolower((unsigned char)s[j]) - 'a' + 10));
        j++, digits++;
      }
      if (!digits) { sqlite3_str_appendchar(out, 1, '&'); continue; }
      if (j < n && s[j] == ';') j++;
      append_utf8(out, cp > 0x10FFFF ? 0xFFFD : (unsigned)cp);
      i = j - 1;
      continue;
    }
    size_t k = j;
    while (k < n && k - j < 10 && isalnum((unsigned char)s[k])) k++;
    int found = 0;
    for (int e = 0; named_entities[e].name; e++) {
      size_t len = strlen(named_entities[e].name);
      if (len == k - j && !strncmp(s + j, named_entities[e].name, len)) {
        append_utf8(out, named_entities[e].cp);
        i = (k < n && s[k] == ';') ? k : k - 1;
        found = 1;
        break;
      }
    }
    if (!found) sqlite3_str_appendchar(out, 1, '&');
  }
}

static char *attr_decoded_new(const struct html_attr *a)
{
  sqlite3_str *s = sqlite3_str_new(NULL);
  if (a->value) decode_entities(s, a->value, a->value_len);
  return mail_str_take(s);
}

/* A URL as a browser would read it: entities decoded, ASCII tab/newline/controls removed, outer spaces trimmed. */
static char *url_clean_new(const struct html_attr *a)
{
  char *v = attr_decoded_new(a);
  char *w = v;
  for (char *r = v; *r; r++)
    if ((unsigned char)*r > 0x20 || (*r == ' ' && w != v)) *w++ = *r;
  *w = 0;
  while (w > v && w[-1] == ' ') *--w = 0;
  return v;
}

static int starts_with_ci(const char *s, const char *prefix)
{
  return !strncasecmp(s, prefix, strlen(prefix));
}

/* ---- sanitiser ------------------------------------------------------------------------------------------- */

static const char *const allowed_tags[] = {
  "a", "abbr", "address", "b", "bdi", "bdo", "big", "blockquote", "br", "caption", "center", "cite", "code", "col",
  "colgroup", "dd", "del", "dfn", "div", "dl", "dt", "em", "font", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i",
  "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span", "strike", "strong", "sub",
  "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "tt", "u", "ul", "wbr", NULL
};
static const char *const void_tags[] = { "br", "col", "hr", "img", "wbr", NULL };
static const char *const allowed_attrs[] = {
  "title", "dir", "lang", "align", "valign", "width", "height", "bgcolor", "color", "border", "cellpadding",
  "cellspacing", "colspan", "rowspan", "face", "size", "start", "span", "nowrap", "alt", "summary", "scope", NULL
};
static const char *const style_properties[] = {
  "color", "background-color", "font", "font-family", "font-size", "font-style", "font-weight", "text-align",
  "text-decoration", "text-indent", "text-transform", "line-height", "letter-spacing", "vertical-align",
  "white-space", "margin", "margin-top", "margin-right", "margin-bottom", "margin-left", "padding", "padding-top",
  "padding-right", "padding-bottom", "padding-left", "border", "border-top", "border-right", "border-bottom",
  "border-left", "border-color", "border-style", "border-width", "border-collapse", "border-spacing", "width",
  "max-width", "min-width", "height", "list-style-type", "direction", "word-break", "word-wrap", "table-layout",
  NULL
};

/* The safe declarations of a style attribute: allowlisted properties whose values load nothing and run nothing
 * (no url(), expression(), escapes, at-rules, comments or markup). */
static void append_style(sqlite3_str *out, const struct html_attr *a)
{
  char *v = attr_decoded_new(a);
  sqlite3_str *kept = sqlite3_str_new(NULL);
  char *save = NULL;
  for (char *decl = strtok_r(v, ";", &save); decl; decl = strtok_r(NULL, ";", &save)) {
    char *colon = strchr(decl, ':');
    if (!colon) continue;
    *colon = 0;
    char *prop = decl, *val = colon + 1;
    while (is_space(*prop)) prop++;
    for (char *e = prop + strlen(prop); e > prop && is_space(e[-1]);) *--e = 0;
    while (is_space(*val)) val++;
    for (char *e = val + strlen(val); e > val && is_space(e[-1]);) *--e = 0;
    for (char *c = prop; *c; c++) *c = (char)tolower((unsigned char)*c);
    if (!in_list(prop, style_properties) || !*val) continue;
    int bad = strpbrk(val, "\\<>{}@") != NULL || strstr(val, "/*") != NULL;
    for (char *c = val; *c && !bad; c++) {
      if (*c == '(') {
        /* only colour functions: rgb( rgba( hsl( hsla( */
        const char *fn = c;
        while (fn > val && isalpha((unsigned char)fn[-1])) fn--;
        bad = !(c - fn >= 3 && c - fn <= 4 && (starts_with_ci(fn, "rgb") || starts_with_ci(fn, "hsl")));
      }
      if ((unsigned char)*c < 0x20) bad = 1;
    }
    if (bad) continue;
    if (sqlite3_str_length(kept)) sqlite3_str_appendall(kept, "; ");
    sqlite3_str_appendf(kept, "%s: %s", prop, val);
  }
  free(v);
  char *style = mail_str_take(kept);
  if (*style) {
    sqlite3_str_appendall(out, " style=\"");
    mail_html_escape(out, style, strlen(style));
    sqlite3_str_appendall(out, "\"");
  }
  free(style);
}

static void append_attr(sqlite3_str *out, const char *name, const char *value)
{
  sqlite3_str_appendf(out, " %s=\"", name);
  mail_html_escape(out, value, strlen(value));
  sqlite3_str_appendall(out, "\"");
}

static int safe_link(const char *url)
{
  return starts_with_ci(url, "http://") || starts_with_ci(url, "https://") || starts_with_ci(url, "mailto:") ||
         starts_with_ci(url, "tel:") || url[0] == '#';
}

static int safe_data_image(const char *url)
{
  static const char *const types[] = { "data:image/png;", "data:image/gif;", "data:image/jpeg;",
                                       "data:image/jpg;", "data:image/webp;", NULL };
  for (int i = 0; types[i]; i++)
    if (starts_with_ci(url, types[i])) return 1;
  return 0;
}

static void append_img_src(sqlite3_str *out, const struct html_attr *a, const struct mail_attachment *atts,
                           size_t atts_count, int outbound)
{
  char *url = url_clean_new(a);
  if (starts_with_ci(url, "cid:")) {
    char *id = url + 4;
    if (*id == '<') id++;
    size_t n = strlen(id);
    if (n && id[n - 1] == '>') id[--n] = 0;
    for (size_t i = 0; i < atts_count; i++) {
      if (atts[i].content_id && !strcasecmp(atts[i].content_id, id)) {
        sqlite3_str_appendf(out, " data-attachment-index=\"%d\"", (int)i);
        break;
      }
    }
  } else if (safe_data_image(url)) {
    append_attr(out, "src", url);
  } else if (starts_with_ci(url, "http://") || starts_with_ci(url, "https://")) {
    append_attr(out, outbound ? "src" : "data-remote-src", url);
  } else if (url[0] == '/' && url[1] == '/') {
    char *abs = malloc(strlen(url) + 7);
    if (!abs) abort();
    strcpy(abs, "https:");
    strcat(abs, url);
    append_attr(out, outbound ? "src" : "data-remote-src", abs);
    free(abs);
  }
  free(url);
}

static char *sanitize(const char *html, const struct mail_attachment *atts, size_t atts_count, int outbound)
{
  sqlite3_str *out = sqlite3_str_new(NULL);
  struct html_lexer lx = { html ? html : "", (html ? html : "") + (html ? strlen(html) : 0) };
  struct html_token t;
  char stack[HTML_MAX_DEPTH][16];
  int depth = 0, in_head = 0;
  for (html_next(&lx, &t); t.kind != HTML_END_OF_INPUT; html_next(&lx, &t)) {
    if (t.kind == HTML_TEXT) {
      if (in_head) continue;
      for (size_t i = 0; i < t.len; i++) {
        if (t.text[i] == '<') sqlite3_str_appendall(out, "&lt;");
        else if (t.text[i] == '>') sqlite3_str_appendall(out, "&gt;");
        else if (t.text[i] != '\0') sqlite3_str_appendchar(out, 1, t.text[i]);
      }
      continue;
    }
    if (t.kind == HTML_START && in_list(t.name, raw_elements)) { html_skip_raw(&lx, t.name); continue; }
    if (!strcmp(t.name, "head")) { in_head = t.kind == HTML_START; continue; }
    if (!strcmp(t.name, "body")) { in_head = 0; continue; }
    if (in_head || !in_list(t.name, allowed_tags)) continue;
    if (t.kind == HTML_END) {
      int at = depth - 1;
      while (at >= 0 && strcmp(stack[at], t.name)) at--;
      if (at < 0) continue;
      while (depth > at) sqlite3_str_appendf(out, "</%s>", stack[--depth]);
      continue;
    }
    int is_void = in_list(t.name, void_tags);
    if (!is_void && depth == HTML_MAX_DEPTH) continue;
    sqlite3_str_appendf(out, "<%s", t.name);
    int link = 0;
    for (int i = 0; i < t.attrs_count; i++) {
      const struct html_attr *a = &t.attrs[i];
      if (!strcmp(a->name, "style")) {
        append_style(out, a);
      } else if (!strcmp(a->name, "href") && !strcmp(t.name, "a")) {
        char *url = url_clean_new(a);
        if (safe_link(url) && !link) { append_attr(out, "href", url); link = 1; }
        free(url);
      } else if (!strcmp(a->name, "src") && !strcmp(t.name, "img")) {
        append_img_src(out, a, atts, atts_count, outbound);
      } else if (in_list(a->name, allowed_attrs)) {
        char *v = attr_decoded_new(a);
        append_attr(out, a->name, v);
        free(v);
      }
    }
    if (link) sqlite3_str_appendall(out, " rel=\"noopener noreferrer nofollow\" target=\"_blank\"");
    sqlite3_str_appendall(out, ">");
    if (!is_void) { strcpy(stack[depth], t.name); depth++; }
  }
  while (depth > 0) sqlite3_str_appendf(out, "</%s>", stack[--depth]);
  return mail_str_take(out);
}

char *mail_html_sanitize_new(const char *html, const struct mail_attachment *atts, size_t atts_count)
{
  return sanitize(html, atts, atts_count, 0);
}

/* Outbound: the shop's own HTML for its mail; remote images stay images (the reader's mail client decides whether to
 * load them), the rest is the display allowlist. */
char *mail_html_sanitize_mail_new(const char *html)
{
  return sanitize(html, NULL, 0, 1);
}

/* ---- text rendering -------------------------------------------------------------------------------------- */

struct text_out {
  sqlite3_str *s;
  int at_line_start;
  int pending_space;
};

static void text_newline(struct text_out *o)
{
  sqlite3_str_appendchar(o->s, 1, '\n');
  o->at_line_start = 1;
  o->pending_space = 0;
}

static void text_block(struct text_out *o)
{
  if (!o->at_line_start) text_newline(o);
  o->pending_space = 0;
}

/* Appends text (entities already decoded). Control characters other than tab and newline are dropped, as they are
 * from text/plain bodies (mail_parse.c): "&#3;" must not put one in a message's text. */
static void text_word(struct text_out *o, const char *s, size_t n, int pre)
{
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (pre) {
      if (c == '\r') continue;
      if (c == '\n') { text_newline(o); continue; }
      if ((unsigned char)c < 0x20 && c != '\t') continue;
      sqlite3_str_appendchar(o->s, 1, c);
      o->at_line_start = 0;
      continue;
    }
    /* U+00A0 (nbsp) reads as a space too */
    if (is_space(c) || (c == '\xC2' && i + 1 < n && s[i + 1] == '\xA0')) {
      if (c == '\xC2') i++;
      o->pending_space = 1;
      continue;
    }
    if ((unsigned char)c < 0x20) continue;
    if (o->pending_space && !o->at_line_start) sqlite3_str_appendchar(o->s, 1, ' ');
    o->pending_space = 0;
    sqlite3_str_appendchar(o->s, 1, c);
    o->at_line_start = 0;
  }
}

char *mail_html_to_text_new(const char *html)
{
  static const char *const blocks[] = {
    "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "ul", "ol", "dl", "dt", "dd", "blockquote",
    "pre", "address", "center", "hr", "section", "article", "header", "footer", "form", NULL
  };
  struct text_out o = { sqlite3_str_new(NULL), 1, 0 };
  struct html_lexer lx = { html ? html : "", (html ? html : "") + (html ? strlen(html) : 0) };
  struct html_token t;
  int in_head = 0, pre = 0;
  char *href = NULL;
  size_t link_start = 0;
  for (html_next(&lx, &t); t.kind != HTML_END_OF_INPUT; html_next(&lx, &t)) {
    if (t.kind == HTML_TEXT) {
      if (in_head) continue;
      sqlite3_str *d = sqlite3_str_new(NULL);
      decode_entities(d, t.text, t.len);
      char *word = mail_str_take(d);
      text_word(&o, word, strlen(word), pre);
      free(word);
      continue;
    }
    int start = t.kind == HTML_START;
    if (start && in_list(t.name, raw_elements)) { html_skip_raw(&lx, t.name); continue; }
    if (!strcmp(t.name, "head")) { in_head = start; continue; }
    if (!strcmp(t.name, "body")) { in_head = 0; continue; }
    if (in_head) continue;
    if (!strcmp(t.name, "br")) { text_newline(&o); continue; }
    if (!strcmp(t.name, "pre")) pre = start;
    if (!strcmp(t.name, "li") && start) { text_block(&o); sqlite3_str_appendall(o.s, "- "); o.at_line_start = 0; continue; }
    if ((!strcmp(t.name, "td") || !strcmp(t.name, "th")) && start) { o.pending_space = 1; continue; }
    if (in_list(t.name, blocks)) { text_block(&o); continue; }
    if (!strcmp(t.name, "a")) {
      if (start) {
        free(href);
        href = NULL;
        for (int i = 0; i < t.attrs_count && !href; i++)  /* the first href counts, as in a browser */
          if (!strcmp(t.attrs[i].name, "href")) href = url_clean_new(&t.attrs[i]);
        link_start = (size_t)sqlite3_str_length(o.s);
      } else if (href) {
        const char *shown = starts_with_ci(href, "mailto:") ? href + 7 : href;
        int len = sqlite3_str_length(o.s);
        const char *text = sqlite3_str_value(o.s);
        int same = text && (size_t)len - link_start == strlen(shown) && !strncmp(text + link_start, shown, strlen(shown));
        if (!same && (starts_with_ci(href, "http://") || starts_with_ci(href, "https://") ||
                      starts_with_ci(href, "mailto:"))) {
          size_t wn = strlen(shown) + 4;
          char *w = malloc(wn);
          if (!w) abort();
          snprintf(w, wn, " <%s>", shown);
          text_word(&o, w, strlen(w), 1);
          free(w);
        }
        free(href);
        href = NULL;
      }
    }
  }
  free(href);
  char *raw = mail_str_take(o.s);
  char *text = mail_text_trim_new(raw);
  free(raw);
  return text;
}

char *mail_html_bind_attachments_new(const char *html, const char *const *urls, size_t urls_count)
{
  static const char marker[] = "data-attachment-index=\"";
  sqlite3_str *out = sqlite3_str_new(NULL);
  const char *p = html ? html : "";
  for (const char *hit = p; (hit = strchr(hit, 'd'));) {
    if (strncmp(hit, marker, sizeof marker - 1)) { hit++; continue; }
    const char *num = hit + sizeof marker - 1;
    char *end;
    unsigned long i = strtoul(num, &end, 10);
    sqlite3_str_append(out, p, (int)(hit - p));
    if (end > num && *end == '"' && i < urls_count && urls[i]) {
      sqlite3_str_appendall(out, "src=\"");
      mail_html_escape(out, urls[i], strlen(urls[i]));
      sqlite3_str_appendall(out, "\"");
      p = hit = end + 1;
    } else {
      sqlite3_str_append(out, hit, (int)(sizeof marker - 1));
      p = hit = num;
    }
  }
  sqlite3_str_appendall(out, p);
  return mail_str_take(out);
}
