/* destek.markdown(text): Markdown (CommonMark, with GitHub's tables) rendered by cmark-gfm as an HTML value a page
 * template inserts as it is.
 *
 * cmark-gfm (GitHub's fork of cmark, Debian's libcmark-gfm-dev) runs with its table extension only and in its safe
 * mode (CMARK_OPT_SAFE): raw HTML, inline or in blocks, becomes a comment
 * ("<!-- raw HTML omitted -->") and javascript:, vbscript:, file: and most data: URLs become empty. On top of that
 * every link and image of the parsed document is checked before rendering: a link keeps its URL only when
 * destek.html.url would (http, https, mailto, tel, a path on this site, a fragment or a query), an image only when it
 * is http, https or a path on this site (no data: images either); anything else is rendered with an empty URL. So
 * what an author writes, autolinks (<javascript:...>) and reference links included, never becomes markup or a
 * scriptable link. Charged to the call's budget by the size of the text; at most MARKDOWN_MAX bytes. */
#include <pthread.h>

#include <cmark-gfm-core-extensions.h>
#include <cmark-gfm.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lua_host.h"
#include "lua_host_internal.h"

#define MARKDOWN_MAX (1024 * 1024)

/* Whether u may be a link's href (images: whether it may be an image's src). */
int lh_url_ok(const char *u, int image)
{
  int ok = (u[0] == '/' && u[1] != '/' && u[1] != '\\') || !strncasecmp(u, "https://", 8) ||
           !strncasecmp(u, "http://", 7);
  if (!image) ok = ok || u[0] == '#' || u[0] == '?' || !strncasecmp(u, "mailto:", 7) || !strncasecmp(u, "tel:", 4);
  for (const char *p = u; ok && *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f) ok = 0;
  return ok;
}

/* Empties the URL of every link and image of doc that a page may not carry. */
static void check_urls(cmark_node *doc)
{
  cmark_iter *it = cmark_iter_new(doc);
  cmark_event_type ev;
  while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
    if (ev != CMARK_EVENT_ENTER) continue;
    cmark_node *n = cmark_iter_get_node(it);
    cmark_node_type type = cmark_node_get_type(n);
    if (type != CMARK_NODE_LINK && type != CMARK_NODE_IMAGE) continue;
    const char *url = cmark_node_get_url(n);
    if (url && *url && !lh_url_ok(url, type == CMARK_NODE_IMAGE)) cmark_node_set_url(n, "");
  }
  cmark_iter_free(it);
}

static pthread_once_t extensions_once = PTHREAD_ONCE_INIT;
static cmark_syntax_extension *table_extension;

static void extensions_load(void)
{
  cmark_gfm_core_extensions_ensure_registered();
  table_extension = cmark_find_syntax_extension("table");
}

char *markdown_html_new(const char *text, size_t len)
{
  if (len > MARKDOWN_MAX) return NULL;
  pthread_once(&extensions_once, extensions_load);
  int opts = CMARK_OPT_SAFE | CMARK_OPT_VALIDATE_UTF8;
  cmark_parser *parser = cmark_parser_new(opts);
  if (!parser) return NULL;
  if (table_extension) cmark_parser_attach_syntax_extension(parser, table_extension);
  cmark_parser_feed(parser, text, len);
  cmark_node *doc = cmark_parser_finish(parser);
  char *html = NULL;
  if (doc) {
    check_urls(doc);
    html = cmark_render_html(doc, opts, cmark_parser_get_syntax_extensions(parser));
    cmark_node_free(doc);
  }
  cmark_parser_free(parser);
  return html;
}

int lh_markdown(lua_State *L)
{
  size_t len;
  const char *text = luaL_checklstring(L, 1, &len);
  if (len > MARKDOWN_MAX) return luaL_error(L, "destek.markdown: the text may be at most %d bytes", MARKDOWN_MAX);
  lh_budget_charge(L, (long)(len / 2) + 100);
  char *html = markdown_html_new(text, len);
  if (!html) return luaL_error(L, "destek.markdown: out of memory");
  size_t n = strlen(html);
  lua_pushlstring(L, html, n);   /* copied first: pushing the HTML value may raise */
  free(html);
  lh_push_html(L, lua_tostring(L, -1), n);
  return 1;
}

/* destek.markdown_text(text) -> the words a reader sees, as plain text: what links, images (their alt text), emphasis,
 * headings, lists, tables and code say, without the Markdown around them; blocks and line breaks become one space,
 * raw HTML is left out. For search snippets and descriptions; escape it like any other text. */
struct text_out { char *p; size_t n, cap; int space; };

static void text_add(struct text_out *o, const char *s)
{
  for (; s && *s && o->n + 2 < o->cap; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') { o->space = 1; continue; }
    if (o->space && o->n > 0) o->p[o->n++] = ' ';
    o->space = 0;
    o->p[o->n++] = (char)c;
  }
}

int lh_markdown_text(lua_State *L)
{
  size_t len;
  const char *text = luaL_checklstring(L, 1, &len);
  if (len > MARKDOWN_MAX) return luaL_error(L, "destek.markdown_text: the text may be at most %d bytes", MARKDOWN_MAX);
  lh_budget_charge(L, (long)(len / 4) + 50);
  pthread_once(&extensions_once, extensions_load);
  /* The words go into a buffer Lua owns (a raise anywhere frees it), written while cmark's objects live, which are
   * freed before anything that may raise. The words are never longer than the text itself plus one space per block
   * (each block ends a line of the text); the bound is kept anyway. */
  struct text_out o = { lua_newuserdatauv(L, 2 * len + 16, 0), 0, 2 * len + 16, 0 };
  cmark_parser *parser = cmark_parser_new(CMARK_OPT_VALIDATE_UTF8);
  cmark_node *doc = NULL;
  if (parser) {
    if (table_extension) cmark_parser_attach_syntax_extension(parser, table_extension);
    cmark_parser_feed(parser, text, len);
    doc = cmark_parser_finish(parser);
    cmark_parser_free(parser);
  }
  cmark_iter *it = doc ? cmark_iter_new(doc) : NULL;
  if (!it) {
    if (doc) cmark_node_free(doc);
    return luaL_error(L, "destek.markdown_text: out of memory");
  }
  cmark_event_type ev;
  while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
    cmark_node *n = cmark_iter_get_node(it);
    cmark_node_type type = cmark_node_get_type(n);
    if (ev == CMARK_EVENT_ENTER && (type == CMARK_NODE_TEXT || type == CMARK_NODE_CODE || type == CMARK_NODE_CODE_BLOCK))
      text_add(&o, cmark_node_get_literal(n));
    else if (type == CMARK_NODE_SOFTBREAK || type == CMARK_NODE_LINEBREAK || ev == CMARK_EVENT_EXIT)
      o.space = 1;
  }
  cmark_iter_free(it);
  cmark_node_free(doc);
  lua_pushlstring(L, o.p, o.n);
  return 1;
}
