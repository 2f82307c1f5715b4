/* Test-only C plugin (not shipped) for tests/bench/helpcentre.sh: GET /bench/help-c/{slug}?lang=tr|en renders the
 * help centre's public article page (plugins/helpcentre, a Lua module) from the same tables, with the same queries,
 * Markdown (host->markdown_new: the same cmark as destek.markdown) and the same HTML, every request, without a
 * cache: the C side of the Lua/C comparison the issue asks for. Its strings are the module's Turkish and English ones
 * (i18n/tr.json, en.json), copied. Built against include/destek.h only. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <destek.h>

static const struct destek_host *host;

/* ------------------------------------------------------------------------------------------------ output */

struct buf {
  char *p;
  size_t len, cap;
};

static void add(struct buf *b, const char *s, size_t n)
{
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 8192;
    while (cap < b->len + n + 1) cap *= 2;
    char *q = realloc(b->p, cap);
    if (!q) abort();
    b->p = q;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = 0;
}

static void lit(struct buf *b, const char *s) { add(b, s, strlen(s)); }

/* As the module's templates escape ({{x}}). */
static void esc(struct buf *b, const char *s)
{
  for (const char *p = s; *p; p++) {
    switch (*p) {
    case '&': lit(b, "&amp;"); break;
    case '<': lit(b, "&lt;"); break;
    case '>': lit(b, "&gt;"); break;
    case '"': lit(b, "&quot;"); break;
    case '\'': lit(b, "&#39;"); break;
    case '`': lit(b, "&#96;"); break;
    case '=': lit(b, "&#61;"); break;
    default: add(b, p, 1);
    }
  }
}

static void fmt(struct buf *b, const char *f, ...) __attribute__((format(printf, 2, 3)));
static void fmt(struct buf *b, const char *f, ...)
{
  char tmp[1024];
  va_list ap;
  va_start(ap, f);
  int n = vsnprintf(tmp, sizeof tmp, f, ap);
  va_end(ap);
  if (n > 0) add(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* ------------------------------------------------------------------------------------------------ strings */

struct strings {
  const char *help_centre, *skip, *language, *search_placeholder, *search, *updated, *helpful_question, *yes, *no,
    *why_not, *send, *still_need_help, *contact_us, *only_in_other;
};
static const struct strings TR = {
  "Yardım merkezi", "İçeriğe geç", "Dil", "Yardım merkezinde arayın (ör. iade, kargo ücreti)", "Ara", "Güncellendi",
  "Bu makale işinize yaradı mı?", "Evet", "Hayır", "Eksik olan neydi? (isteğe bağlı)", "Gönder",
  "Hâlâ yardıma mı ihtiyacınız var?", "Bize yazın", "Bu makale henüz Türkçe değil; İngilizcesini gösteriyoruz."
};
static const struct strings EN = {
  "Help centre", "Skip to content", "Language", "Search the help centre (e.g. returns, shipping cost)", "Search",
  "Updated", "Was this article helpful?", "Yes", "No", "What was missing? (optional)", "Send", "Still need help?",
  "Contact us", "This article is not in English yet; here it is in Turkish."
};

/* ------------------------------------------------------------------------------------------------ the page */

struct text {
  char *title, *body, *description;
  int64_t updated_at;
  int have;
};

static char *col_dup(sqlite3_stmt *st, int i)
{
  const unsigned char *v = sqlite3_column_text(st, i);
  return strdup(v ? (const char *)v : "");
}

/* Markdown reduced to its words, cut, as store.plain/store.cut make a description nobody wrote. */
static void plain_description(const char *md, char *out, size_t outlen)
{
  size_t o = 0;
  int space = 0;
  for (const char *p = md; *p && o + 8 < outlen && p - md < 600; p++) {
    if (strchr("`*_#>|~[]", *p)) continue;
    if (*p == '(' && p > md && p[-1] == ']') { while (*p && *p != ')') p++; if (!*p) break; continue; }
    if (*p == ' ' || *p == '\n' || *p == '\t') { space = o > 0; continue; }
    if (space) { out[o++] = ' '; space = 0; }
    out[o++] = *p;
  }
  out[o] = 0;
  if (o > 160) {
    o = 160;
    while (o > 0 && ((unsigned char)out[o] & 0xc0) == 0x80) o--;
    out[o] = 0;
  }
}

static int article_page(struct destek_req *r)
{
  const char *slug = host->param(r, "slug");
  char lang[8] = "", hostname[256];
  host->query_get(r, "lang", lang, sizeof lang);
  if (strcmp(lang, "tr") != 0 && strcmp(lang, "en") != 0) snprintf(lang, sizeof lang, "%s", host->lang(r));
  struct destek_db *db = host->db_read(r);
  if (!db) return host->error(r, 503, "db_busy", "the database is busy");

  sqlite3_stmt *st = host->db_prepare(db, "SELECT id, slug, category_id, status, updated_at FROM helpcentre_articles"
                                          " WHERE slug = ?1");
  if (!st) return host->error(r, 500, "internal", "no statement");
  host->db_bind(st, "t", slug);
  int64_t id = 0, category_id = 0, updated_at = 0;
  int published = 0;
  if (sqlite3_step(st) == SQLITE_ROW) {
    id = sqlite3_column_int64(st, 0);
    category_id = sqlite3_column_int64(st, 2);
    published = !strcmp((const char *)sqlite3_column_text(st, 3), "published");
    updated_at = sqlite3_column_int64(st, 4);
  }
  host->db_done(st);
  if (!id || !published) return host->error(r, 404, "not_found", "no such article");

  struct text texts[2] = { { 0 }, { 0 } };   /* tr, en */
  st = host->db_prepare(db, "SELECT lang, title, body, description, updated_at FROM helpcentre_article_texts"
                            " WHERE article_id = ?1");
  host->db_bind(st, "i", id);
  while (sqlite3_step(st) == SQLITE_ROW) {
    struct text *t = &texts[strcmp((const char *)sqlite3_column_text(st, 0), "tr") ? 1 : 0];
    t->title = col_dup(st, 1);
    t->body = col_dup(st, 2);
    t->description = col_dup(st, 3);
    t->updated_at = sqlite3_column_int64(st, 4);
    t->have = 1;
  }
  host->db_done(st);
  int want = strcmp(lang, "tr") ? 1 : 0, shown = texts[want].have ? want : !want;
  const char *shown_lang = shown ? "en" : "tr";
  const struct strings *t = shown ? &EN : &TR;
  struct text *text = &texts[shown];

  char cat_slug[200] = "", *cat_title = NULL;
  if (category_id) {
    st = host->db_prepare(db, "SELECT c.slug, coalesce((SELECT title FROM helpcentre_category_texts WHERE"
                              " category_id = c.id AND lang = ?2), (SELECT title FROM helpcentre_category_texts"
                              " WHERE category_id = c.id ORDER BY lang = 'tr' DESC LIMIT 1), c.slug)"
                              " FROM helpcentre_categories c WHERE c.id = ?1");
    host->db_bind(st, "it", category_id, shown_lang);
    if (sqlite3_step(st) == SQLITE_ROW) {
      snprintf(cat_slug, sizeof cat_slug, "%s", (const char *)sqlite3_column_text(st, 0));
      cat_title = col_dup(st, 1);
    }
    host->db_done(st);
  }

  char *shop = host->setting_new("helpcentre.shop_name"), *logo = host->setting_new("helpcentre.logo_url");
  char *contact = host->setting_new("helpcentre.contact_url"), *pub = host->setting_new("helpcentre.public_url");
  if (!pub || !*pub) { free(pub); pub = host->setting_new("mail.public_url"); }
  const char *hh = host->header(r, "Host");
  snprintf(hostname, sizeof hostname, "%s", hh && strspn(hh, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                          "0123456789.-:[]") == strlen(hh) ? hh : "localhost");
  char base[512];
  if (pub && *pub) snprintf(base, sizeof base, "%s", pub);
  else snprintf(base, sizeof base, "http://%s", hostname);
  size_t bl = strlen(base);
  while (bl > 0 && base[bl - 1] == '/') base[--bl] = 0;
  const char *shop_name = shop && *shop ? shop : t->help_centre;

  char *body_html = host->markdown_new(text->body, strlen(text->body));
  if (!body_html) body_html = strdup("");
  char description[700];
  if (text->description[0]) snprintf(description, sizeof description, "%s", text->description);
  else plain_description(text->body, description, sizeof description);
  char updated[16];
  time_t u = (time_t)(updated_at > text->updated_at ? updated_at : text->updated_at);
  struct tm tm;
  gmtime_r(&u, &tm);
  strftime(updated, sizeof updated, "%Y-%m-%d", &tm);

  struct buf b = { 0 };
  fmt(&b, "<!doctype html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>", shown_lang);
  esc(&b, text->title);
  lit(&b, " · ");
  esc(&b, shop_name);
  lit(&b, "</title>\n");
  if (description[0]) { lit(&b, "<meta name=\"description\" content=\""); esc(&b, description); lit(&b, "\">"); }
  lit(&b, "\n\n<link rel=\"canonical\" href=\"");
  char url[1024];
  snprintf(url, sizeof url, "%s/help/a/%s?lang=%s", base, slug, shown_lang);
  esc(&b, url);
  lit(&b, "\">\n");
  for (int l = 0; l < 2; l++) {
    if (!texts[l].have) continue;
    snprintf(url, sizeof url, "%s/help/a/%s?lang=%s", base, slug, l ? "en" : "tr");
    fmt(&b, "<link rel=\"alternate\" hreflang=\"%s\" href=\"", l ? "en" : "tr");
    esc(&b, url);
    lit(&b, "\">\n");
  }
  fmt(&b, "\n<link rel=\"stylesheet\" href=\"/help/static/help.css\">\n"
          "<link rel=\"stylesheet\" href=\"/help/theme.css\">\n</head>\n<body>\n<a class=\"skip\" href=\"#main\">%s</a>\n"
          "<header class=\"top\">\n  <a class=\"brand\" href=\"/help?lang=%s\">", t->skip, shown_lang);
  if (logo && *logo) { lit(&b, "<img src=\""); esc(&b, logo); lit(&b, "\" alt=\"\" height=\"32\">"); }
  lit(&b, "<span>");
  esc(&b, shop_name);
  fmt(&b, "</span></a>\n  <nav class=\"langs\" aria-label=\"%s\">", t->language);
  for (int l = 0; l < 2; l++) {
    if (!texts[l].have) continue;
    if (l == shown) fmt(&b, "<strong>%s</strong> ", l ? "English" : "Türkçe");
    else fmt(&b, "<a href=\"/help/a/%s?lang=%s\" hreflang=\"%s\" lang=\"%s\">%s</a> ", slug, l ? "en" : "tr",
             l ? "en" : "tr", l ? "en" : "tr", l ? "English" : "Türkçe");
  }
  fmt(&b, "</nav>\n</header>\n<form class=\"search\" role=\"search\" method=\"get\" action=\"/help/search\">\n"
          "  <input type=\"hidden\" name=\"lang\" value=\"%s\">\n"
          "  <input type=\"search\" name=\"q\" value=\"\" placeholder=\"%s\" aria-label=\"%s\">\n"
          "  <button type=\"submit\">%s</button>\n</form>\n\n<main id=\"main\">\n"
          "  <p class=\"crumbs\"><a href=\"/help?lang=%s\">", shown_lang, t->search_placeholder, t->search, t->search,
      shown_lang);
  esc(&b, shop_name);
  lit(&b, "</a>");
  if (cat_title) {
    fmt(&b, " › <a href=\"/help/c/%s?lang=%s\">", cat_slug, shown_lang);
    esc(&b, cat_title);
    lit(&b, "</a>");
  }
  lit(&b, "</p>\n  ");
  if (shown != want) fmt(&b, "<p class=\"note\">%s</p>", (want ? &EN : &TR)->only_in_other);
  fmt(&b, "\n  \n  <article class=\"article\" data-slug=\"%s\">\n    <h1>", slug);
  esc(&b, text->title);
  fmt(&b, "</h1>\n    <p class=\"meta\">%s: <time>%s</time></p>\n    <div class=\"body\">", t->updated, updated);
  lit(&b, body_html);
  fmt(&b, "</div>\n  </article>\n  \n  <section id=\"vote\" class=\"vote\">\n    \n    \n"
          "    <form method=\"post\" action=\"/help/a/%s/vote?lang=%s\">\n      <p>%s</p>\n"
          "      <button type=\"submit\" name=\"helpful\" value=\"yes\">%s</button>\n      <details>\n"
          "        <summary>%s</summary>\n        <label for=\"reason\">%s</label>\n"
          "        <textarea id=\"reason\" name=\"reason\" maxlength=\"500\" rows=\"3\"></textarea>\n"
          "        <button type=\"submit\" name=\"helpful\" value=\"no\">%s</button>\n      </details>\n"
          "    </form>\n    \n  </section>\n</main>\n<footer class=\"bottom\">\n  <p>%s <a href=\"",
      slug, shown_lang, t->helpful_question, t->yes, t->no, t->why_not, t->send, t->still_need_help);
  esc(&b, contact && *contact ? contact : "/contact");
  fmt(&b, "\">%s</a></p>\n</footer>\n</body>\n</html>\n\n", t->contact_us);

  free(body_html);
  free(shop);
  free(logo);
  free(contact);
  free(pub);
  free(cat_title);
  for (int l = 0; l < 2; l++) { free(texts[l].title); free(texts[l].body); free(texts[l].description); }
  return host->reply_take(r, 200, "text/html; charset=utf-8", b.p, b.len);
}

static int init(const struct destek_host *h)
{
  host = h;
  if (!DESTEK_HOST_HAS(h, markdown_new)) return -1;
  return 0;
}

static const struct destek_route routes[] = {
  { "GET", "/bench/help-c/{slug}", article_page, DESTEK_PUBLIC, "slug:text" },
  { 0 }
};

const struct destek_plugin destek_plugin = {
  DESTEK_PLUGIN_ABI, sizeof(struct destek_plugin), "hcpage_c", "1.0.0", routes, NULL, init, NULL
};
