/* Server-rendered pages for Lua modules: HTML values, templates, page routes.
 *
 * An HTML value is a userdata only the host makes (destek.render, destek.html.sanitize, destek.html.lines,
 * destek.text.snippet): text that is safe to put in a page as it is. A template inserts a plugin's strings escaped,
 * always; it inserts HTML unescaped only when asked to ({{{x}}} or {{& x}}) and only when x is an HTML value, so a
 * person's text can never become markup, however the plugin passes it along. A route that returns an HTML value
 * answers text/html with an ETag (a matching If-None-Match gets 304), and the core's security headers and CSP.
 *
 * Templates are Mustache without lambdas or delimiter changes:
 *   {{name}} {{a.b}} {{a.1}} {{.}}  the value, HTML-escaped (a number as digits, true as "true", nil/false nothing)
 *   {{{name}}} {{& name}}         an HTML value, as it is (anything else is an error)
 *   {{#name}}...{{/name}}         a list: once per item (the item is the context); a table: once, in it; a true
 *                                 value: once; nil, false, "", an empty table: not at all
 *   {{^name}}...{{/name}}         once when the section would not show
 *   {{> partial}}                 another template of the module, in the same context
 *   {{! comment}}
 * Names are looked up from the innermost context outwards, with raw access (no plugin code runs while a page is
 * rendered). Rendering is charged to the call's budget and what it builds counts against the state's memory. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "assets.h"
#include "destek_mail.h"
#include "http.h"
#include "lua_host_internal.h"
#include "page_cache.h"
#include "util.h"

static const char KEY_HTML_MT, KEY_OUT_MT;

#define PARTIAL_DEPTH_MAX 16
#define TEMPLATE_NAME_MAX 100

/* ------------------------------------------------------------------------------------------------ HTML values */

static void html_mt(lua_State *L);

static int html_tostring(lua_State *L)
{
  lua_getiuservalue(L, 1, 1);
  return 1;
}

static void html_mt(lua_State *L)
{
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &KEY_HTML_MT) == LUA_TTABLE) return;
  lua_pop(L, 1);
  lua_createtable(L, 0, 3);
  lua_pushcfunction(L, html_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushliteral(L, "html");
  lua_setfield(L, -2, "__name");
  lua_pushliteral(L, "html");
  lua_setfield(L, -2, "__metatable");
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &KEY_HTML_MT);
}

/* Turns the string on top of the stack into an HTML value (in place). */
static void to_html(lua_State *L)
{
  lua_newuserdatauv(L, 0, 2);   /* 1: the text; 2: its ETag, once a reply has computed it */
  lua_insert(L, -2);
  lua_setiuservalue(L, -2, 1);
  html_mt(L);
  lua_setmetatable(L, -2);
}

void lh_html_from_string(lua_State *L, const char *etag)
{
  to_html(L);
  lua_pushstring(L, etag);
  lua_setiuservalue(L, -2, 2);
}

void lh_push_html(lua_State *L, const char *text, size_t len)
{
  lua_pushlstring(L, text, len);
  to_html(L);
}

const char *lh_html_text(lua_State *L, int idx, size_t *len)
{
  if (lua_type(L, idx) != LUA_TUSERDATA || !lua_getmetatable(L, idx)) return NULL;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &KEY_HTML_MT);
  int yes = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  if (!yes) return NULL;
  lua_getiuservalue(L, idx, 1);
  const char *text = lua_tolstring(L, -1, len);
  lua_pop(L, 1);   /* the userdata keeps it */
  return text;
}

/* ------------------------------------------------------------------------------------------------ output buffer */

/* What a render writes: malloc'd (so that it need not sit on the Lua stack between the renderer's lookups), freed by
 * __close of the userdata that holds it, however the render ends. It may grow to the memory the state has left. */
struct out {
  char *p;
  size_t len, cap, room;
};

static int out_close(lua_State *L)
{
  struct out *o = lua_touserdata(L, 1);
  free(o->p);
  o->p = NULL;
  return 0;
}

static struct out *out_new(lua_State *L)
{
  struct lh_state *s = lh_state_of(L);
  struct out *o = lua_newuserdatauv(L, sizeof *o, 0);
  memset(o, 0, sizeof *o);
  o->room = s && s->mem < s->mem_limit ? s->mem_limit - s->mem : 0;
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &KEY_OUT_MT) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_createtable(L, 0, 2);
    lua_pushcfunction(L, out_close);
    lua_setfield(L, -2, "__close");
    lua_pushliteral(L, "render");
    lua_setfield(L, -2, "__metatable");
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &KEY_OUT_MT);
  }
  lua_setmetatable(L, -2);
  lua_toclose(L, -1);
  return o;
}

static void out_add(lua_State *L, struct out *o, const char *p, size_t n)
{
  if (o->len + n + 1 > o->cap) {
    size_t cap = o->cap ? o->cap : 1024;
    while (cap < o->len + n + 1) cap *= 2;
    if (cap > o->room) {
      cap = o->len + n + 1;
      if (cap > o->room) luaL_error(L, "the page would be too big: a plugin state may use %d MiB",
                                    (int)(LH_MEMORY_LIMIT >> 20));
    }
    char *q = realloc(o->p, cap);
    if (!q) abort();
    o->p = q;
    o->cap = cap;
  }
  memcpy(o->p + o->len, p, n);
  o->len += n;
}

static void out_escaped(lua_State *L, struct out *o, const char *p, size_t n)
{
  size_t from = 0;
  for (size_t i = 0; i < n; i++) {
    const char *rep = NULL;
    switch (p[i]) {
    case '&': rep = "&amp;"; break;
    case '<': rep = "&lt;"; break;
    case '>': rep = "&gt;"; break;
    case '"': rep = "&quot;"; break;
    case '\'': rep = "&#39;"; break;
    case '`': rep = "&#96;"; break;
    case '=': rep = "&#61;"; break;
    default: continue;
    }
    out_add(L, o, p + from, i - from);
    out_add(L, o, rep, strlen(rep));
    from = i + 1;
  }
  out_add(L, o, p + from, n - from);
}

/* ------------------------------------------------------------------------------------------------ templates */

struct tpl_src {
  const char *name;   /* for messages */
  const char *text;
  size_t len;
};

struct render {
  lua_State *L;
  int slot;
  int ctx;            /* stack index of the context stack (an array) */
  int n_ctx;
  int anchors;        /* stack index of a table keeping template texts alive */
  struct out *o;
  int depth;
};

static int name_ok(const char *n)
{
  size_t len = strlen(n);
  if (!len || len > TEMPLATE_NAME_MAX || n[0] == '/' || n[0] == '.' || strstr(n, "..")) return 0;
  for (const char *p = n; *p; p++)
    if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || strchr("_-./", *p))) return 0;
  return 1;
}

/* Finds the template name of slot's plugin: its table's templates[name], else its folder's templates/<name> or
 * templates/<name>.html. 0, or -1 when there is none. A table's text is anchored in anchors. */
static int template_find(lua_State *L, int slot, int anchors, const char *name, struct tpl_src *out)
{
  struct lh_state *s = lh_state_of(L);
  if (!name_ok(name)) return -1;
  lua_rawgeti(L, LUA_REGISTRYINDEX, s->slots[slot].spec_ref);
  if (lua_type(L, -1) == LUA_TTABLE) {
    lua_pushliteral(L, "templates");
    if (lua_rawget(L, -2) == LUA_TTABLE) {
      lua_pushstring(L, name);
      if (lua_rawget(L, -2) == LUA_TSTRING) {
        out->name = name;
        out->text = lua_tolstring(L, -1, &out->len);
        lua_rawseti(L, anchors, (lua_Integer)lua_rawlen(L, anchors) + 1);
        lua_pop(L, 2);
        return 0;
      }
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  const struct lh_source *src = s->set ? &s->set->sources[s->slots[slot].source] : NULL;
  char path[TEMPLATE_NAME_MAX + 20];
  snprintf(path, sizeof path, "templates/%s", name);
  const struct lh_file *f = lh_module_file(src, path);
  if (!f) {
    snprintf(path, sizeof path, "templates/%s.html", name);
    f = lh_module_file(src, path);
  }
  if (!f) return -1;
  out->name = name;
  out->text = f->text;
  out->len = f->len;
  return 0;
}

static int line_of(const struct tpl_src *t, size_t pos)
{
  int line = 1;
  for (size_t i = 0; i < pos && i < t->len; i++) line += t->text[i] == '\n';
  return line;
}

static int tpl_error(struct render *r, const struct tpl_src *t, size_t pos, const char *fmt, const char *arg)
{
  char msg[700];
  snprintf(msg, sizeof msg, fmt, arg);
  return luaL_error(r->L, "template %s:%d: %s", t->name, line_of(t, pos), msg);
}

/* Pushes the value of name in the current contexts (nil when none has it). */
static void lookup(struct render *r, const char *name)
{
  lua_State *L = r->L;
  if (!strcmp(name, ".")) {
    lua_rawgeti(L, r->ctx, r->n_ctx);
    return;
  }
  const char *dot = strchr(name, '.');
  size_t first = dot ? (size_t)(dot - name) : strlen(name);
  lua_pushnil(L);
  for (int i = r->n_ctx; i >= 1; i--) {
    lua_rawgeti(L, r->ctx, i);
    if (lua_type(L, -1) == LUA_TTABLE) {
      lua_pushlstring(L, name, first);
      if (lua_rawget(L, -2) != LUA_TNIL) {
        lua_replace(L, -3);
        lua_pop(L, 1);
        break;
      }
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  while (dot && !lua_isnil(L, -1)) {
    const char *seg = dot + 1;
    dot = strchr(seg, '.');
    size_t n = dot ? (size_t)(dot - seg) : strlen(seg);
    if (lua_type(L, -1) != LUA_TTABLE) {
      lua_pop(L, 1);
      lua_pushnil(L);
      break;
    }
    if (n && n < 10 && strspn(seg, "0123456789") >= n) {   /* {{items.1.title}}: a list's item (from 1) */
      lua_rawgeti(L, -1, (lua_Integer)strtol(seg, NULL, 10));
    } else {
      lua_pushlstring(L, seg, n);
      lua_rawget(L, -2);
    }
    lua_replace(L, -2);
  }
}

/* How a section treats the value on top: 0 skip, 1 once in the same context, 2 once with the value as context,
 * 3 once per item of the list. */
static int section_kind(lua_State *L)
{
  switch (lua_type(L, -1)) {
  case LUA_TNIL: return 0;
  case LUA_TBOOLEAN: return lua_toboolean(L, -1) ? 1 : 0;
  case LUA_TSTRING: return lua_rawlen(L, -1) ? 1 : 0;
  case LUA_TTABLE:
    if (lua_rawlen(L, -1) > 0) return 3;
    lua_pushnil(L);
    if (!lua_next(L, -2)) return 0;
    lua_pop(L, 2);
    return 2;
  default: return 1;
  }
}

/* The tag at text[pos] ("{{"): fills its sigil (0 for a variable), its name (trimmed) and the position after it.
 * 0, or -1 when it is not closed. */
static int parse_tag(const struct tpl_src *t, size_t pos, char *sigil, char *name, size_t namelen, size_t *after)
{
  const char *p = t->text + pos + 2, *end = t->text + t->len;
  int triple = p < end && *p == '{';
  if (triple) p++;
  const char *close = NULL;
  for (const char *q = p; q + 1 < end; q++)
    if (q[0] == '}' && q[1] == '}' && (!triple || (q + 2 < end && q[2] == '}'))) { close = q; break; }
  if (!close) return -1;
  *after = (size_t)(close - t->text) + (triple ? 3 : 2);
  *sigil = triple ? '&' : 0;
  while (p < close && isspace((unsigned char)*p)) p++;
  if (!triple && p < close && strchr("#^/!>&=", *p)) *sigil = *p++;
  while (p < close && isspace((unsigned char)*p)) p++;
  const char *e = close;
  while (e > p && isspace((unsigned char)e[-1])) e--;
  size_t n = (size_t)(e - p);
  if (*sigil == '!') n = 0;
  if (n >= namelen) n = namelen - 1;
  memcpy(name, p, n);
  name[n] = 0;
  return 0;
}

/* The {{/name}} closing the section whose body starts at pos: *inner_end is where the body ends, *after the position
 * after the closing tag. 0, or -1 when there is none. */
static int find_close(const struct tpl_src *t, size_t pos, const char *name, size_t *inner_end, size_t *after)
{
  int depth = 1;
  char sigil, n[TEMPLATE_NAME_MAX + 1];
  for (size_t i = pos; i + 1 < t->len; i++) {
    if (t->text[i] != '{' || t->text[i + 1] != '{') continue;
    size_t next;
    if (parse_tag(t, i, &sigil, n, sizeof n, &next) != 0) return -1;
    if ((sigil == '#' || sigil == '^') && !strcmp(n, name)) depth++;
    if (sigil == '/' && !strcmp(n, name) && --depth == 0) {
      *inner_end = i;
      *after = next;
      return 0;
    }
    i = next - 1;
  }
  return -1;
}

static void render_range(struct render *r, const struct tpl_src *t, size_t from, size_t to);

static void push_ctx(struct render *r)
{
  lua_rawseti(r->L, r->ctx, ++r->n_ctx);
}

static void pop_ctx(struct render *r)
{
  lua_pushnil(r->L);
  lua_rawseti(r->L, r->ctx, r->n_ctx--);
}

static void render_value(struct render *r, const struct tpl_src *t, size_t pos, const char *name, int raw)
{
  lua_State *L = r->L;
  lookup(r, name);
  size_t len;
  const char *html = lh_html_text(L, -1, &len);
  if (raw) {
    if (!html && !lua_isnil(L, -1))
      tpl_error(r, t, pos, "{{{%s}}} inserts HTML as it is, and only HTML the host made can be inserted so"
                " (destek.render, destek.html.sanitize, destek.html.lines, destek.text.snippet), not a plugin's"
                " string: use {{x}} to insert text", name);
    if (html) out_add(L, r->o, html, len);
  } else if (html) {
    out_escaped(L, r->o, html, len);
  } else {
    switch (lua_type(L, -1)) {
    case LUA_TNIL: break;
    case LUA_TBOOLEAN: if (lua_toboolean(L, -1)) out_add(L, r->o, "true", 4); break;
    case LUA_TNUMBER: case LUA_TSTRING: {
      const char *v = lua_tolstring(L, -1, &len);
      out_escaped(L, r->o, v, len);
      break;
    }
    default:
      tpl_error(r, t, pos, "{{%s}} is a table or a function, which cannot be shown as text", name);
    }
  }
  lua_pop(L, 1);
}

static void render_partial(struct render *r, const struct tpl_src *t, size_t pos, const char *name)
{
  struct tpl_src p;
  if (r->depth >= PARTIAL_DEPTH_MAX) tpl_error(r, t, pos, "partials nested more than 16 deep (%s)", name);
  if (template_find(r->L, r->slot, r->anchors, name, &p) != 0)
    tpl_error(r, t, pos, "no template %s (templates/NAME.html of the module, or its table's templates)", name);
  r->depth++;
  render_range(r, &p, 0, p.len);
  r->depth--;
}

static void render_section(struct render *r, const struct tpl_src *t, size_t pos, size_t body, size_t end,
                           const char *name, int inverted)
{
  lua_State *L = r->L;
  lookup(r, name);
  int kind = section_kind(L);
  if (inverted) {
    lua_pop(L, 1);
    if (!kind) render_range(r, t, body, end);
    return;
  }
  if (kind == 0 || kind == 1) {
    lua_pop(L, 1);
    if (kind) render_range(r, t, body, end);
  } else if (kind == 2) {
    push_ctx(r);
    render_range(r, t, body, end);
    pop_ctx(r);
  } else {
    int list = lua_gettop(L);
    lua_Integer n = (lua_Integer)lua_rawlen(L, list);
    for (lua_Integer i = 1; i <= n; i++) {
      lua_rawgeti(L, list, i);
      push_ctx(r);
      render_range(r, t, body, end);
      pop_ctx(r);
    }
    lua_pop(L, 1);
  }
  (void)pos;
}

static void render_range(struct render *r, const struct tpl_src *t, size_t from, size_t to)
{
  lua_State *L = r->L;
  luaL_checkstack(L, 8, "template nested too deeply");
  size_t i = from;
  while (i < to) {
    const char *open = NULL;
    for (size_t k = i; k + 1 < to; k++)
      if (t->text[k] == '{' && t->text[k + 1] == '{') { open = t->text + k; break; }
    size_t lit_end = open ? (size_t)(open - t->text) : to;
    out_add(L, r->o, t->text + i, lit_end - i);
    lh_budget_charge(L, (long)(lit_end - i) / 8 + 20);
    if (!open) break;
    size_t pos = lit_end, after;
    char sigil, name[TEMPLATE_NAME_MAX + 1];
    if (parse_tag(t, pos, &sigil, name, sizeof name, &after) != 0 || after > to)
      tpl_error(r, t, pos, "a tag is not closed with }}%s", "");
    if (sigil != '!' && sigil != '=' && !*name) tpl_error(r, t, pos, "a tag without a name%s", "");
    switch (sigil) {
    case '!': break;
    case '=': tpl_error(r, t, pos, "changing the delimiters is not supported%s", ""); break;
    case '/': tpl_error(r, t, pos, "{{/%s}} closes a section that is not open", name); break;
    case '>': render_partial(r, t, pos, name); break;
    case '#': case '^': {
      size_t inner_end = 0, close_after = 0;
      if (find_close(t, after, name, &inner_end, &close_after) != 0 || close_after > to)
        tpl_error(r, t, pos, "{{#%s}} is not closed with {{/%s}}", name);
      render_section(r, t, pos, after, inner_end, name, sigil == '^');
      after = close_after;
      break;
    }
    default: render_value(r, t, pos, name, sigil == '&');
    }
    i = after;
  }
}

/* render(name, data): the template name of the plugin, rendered with data (a table), as an HTML value. */
static int l_render(lua_State *L)
{
  int slot = (int)lua_tointeger(L, lua_upvalueindex(1));
  const char *name = luaL_checkstring(L, 1);
  int dt = lua_type(L, 2);
  luaL_argexpected(L, dt == LUA_TTABLE || dt == LUA_TNIL || dt == LUA_TNONE, 2, "table");
  lua_settop(L, 2);
  lua_newtable(L);                               /* 3: contexts */
  lua_newtable(L);                               /* 4: anchors */
  struct render r = { L, slot, 3, 0, 4, NULL, 0 };
  if (dt == LUA_TTABLE) {
    lua_pushvalue(L, 2);
    push_ctx(&r);
  }
  struct tpl_src t;
  if (template_find(L, slot, 4, name, &t) != 0)
    return luaL_error(L, "render: no template %s (templates/%s.html of the module, or its table's templates)", name,
                      name);
  r.o = out_new(L);                              /* 5, closed however this ends */
  render_range(&r, &t, 0, t.len);
  lh_push_html(L, r.o->p ? r.o->p : "", r.o->len);
  return 1;
}

/* render_string(text, data[, partials]): as render, with the template given (for single-file plugins and tests). */
static int l_render_string(lua_State *L)
{
  int slot = (int)lua_tointeger(L, lua_upvalueindex(1));
  size_t len;
  const char *text = luaL_checklstring(L, 1, &len);
  int dt = lua_type(L, 2);
  luaL_argexpected(L, dt == LUA_TTABLE || dt == LUA_TNIL || dt == LUA_TNONE, 2, "table");
  lua_settop(L, 2);
  lua_newtable(L);
  lua_newtable(L);
  struct render r = { L, slot, 3, 0, 4, NULL, 0 };
  if (dt == LUA_TTABLE) {
    lua_pushvalue(L, 2);
    push_ctx(&r);
  }
  struct tpl_src t = { "(string)", text, len };
  r.o = out_new(L);
  render_range(&r, &t, 0, t.len);
  lh_push_html(L, r.o->p ? r.o->p : "", r.o->len);
  return 1;
}

/* ------------------------------------------------------------------------------------------------ destek.html */

static int l_html_escape(lua_State *L)
{
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  lua_settop(L, 1);
  struct out *o = out_new(L);
  out_escaped(L, o, s, len);
  lh_budget_charge(L, (long)(len / 8));
  lua_pushlstring(L, o->p ? o->p : "", o->len);
  return 1;
}

/* html.lines(text): text escaped, its line breaks as <br>, as an HTML value. */
static int l_html_lines(lua_State *L)
{
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  lua_settop(L, 1);
  struct out *o = out_new(L);
  size_t from = 0;
  for (size_t i = 0; i <= len; i++) {
    if (i < len && s[i] != '\n') continue;
    size_t end = i > from && s[i - 1] == '\r' ? i - 1 : i;
    out_escaped(L, o, s + from, end - from);
    if (i < len) out_add(L, o, "<br>\n", 5);
    from = i + 1;
  }
  lh_budget_charge(L, (long)(len / 8));
  lh_push_html(L, o->p ? o->p : "", o->len);
  return 1;
}

/* html.sanitize(html): HTML from outside (a mail, an integration) made safe to show: the core's allowlist of tags
 * and attributes (http, https, mailto and tel links only), as an HTML value. */
static int l_html_sanitize(lua_State *L)
{
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  lh_budget_charge(L, (long)(len / 2));
  char *clean = mail_html_sanitize_new(s, NULL, 0);
  if (!clean) return luaL_error(L, "html.sanitize: out of memory");
  lua_pushstring(L, clean);   /* may raise: copied first */
  free(clean);
  to_html(L);
  return 1;
}

/* html.mail(html): HTML a shop sends in its own mail made safe, as the core's send path makes it (the same allowlist,
 * remote images kept as images; mail_html_sanitize_mail_new), as a string: it is a mail's content, not a page's. */
static int l_html_mail(lua_State *L)
{
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  lh_budget_charge(L, (long)(len / 2));
  char *clean = mail_html_sanitize_mail_new(s);
  if (!clean) return luaL_error(L, "html.mail: out of memory");
  lua_pushstring(L, clean);   /* may raise: copied first */
  free(clean);
  return 1;
}

/* html.text(html): a readable plain-text rendering of HTML (blocks as lines, links as "text <URL>"), as a string. */
static int l_html_text(lua_State *L)
{
  size_t len;
  const char *s = lh_html_text(L, 1, &len);
  if (!s) s = luaL_checklstring(L, 1, &len);
  lh_budget_charge(L, (long)(len / 2));
  char *text = mail_html_to_text_new(s);
  if (!text) return luaL_error(L, "html.text: out of memory");
  lua_pushstring(L, text);
  free(text);
  return 1;
}

/* html.url(u): u when it is a link a page may carry (http, https, mailto, tel, or a path on this site), else "#". */
static int l_html_url(lua_State *L)
{
  const char *u = luaL_checkstring(L, 1);
  int ok = lh_url_ok(u, 0);
  if (ok) lua_settop(L, 1);
  else lua_pushliteral(L, "#");
  return 1;
}

/* html.is(v): whether v is an HTML value. */
static int l_html_is(lua_State *L)
{
  size_t len;
  lua_pushboolean(L, lh_html_text(L, 1, &len) != NULL);
  return 1;
}

/* ------------------------------------------------------------------------------------------------ strings */

/* The caller's language (http_lang; as destek.t). */
const char *lh_caller_lang(struct destek_req *r) { return http_lang(r); }

static const char *caller_lang(struct lh_state *s) { return lh_caller_lang(s->call); }

/* lang(): "tr" or "en", the caller's language (for a page's <html lang>, a date's format). */
static int l_lang(lua_State *L)
{
  lua_pushstring(L, caller_lang(lh_state_of(L)));
  return 1;
}

/* strings([lang]): every string of the plugin in lang (default: the caller's), English where lang has none: for a
 * template ({{t.title}}). */
static int l_strings(lua_State *L)
{
  int slot = (int)lua_tointeger(L, lua_upvalueindex(1));
  struct lh_state *s = lh_state_of(L);
  const char *lang = luaL_optstring(L, 1, NULL);
  if (!lang) lang = caller_lang(s);
  lua_settop(L, 1);
  lua_newtable(L);                                    /* 2 */
  lua_rawgeti(L, LUA_REGISTRYINDEX, s->slots[slot].spec_ref);
  if (lua_type(L, -1) != LUA_TTABLE || lua_getfield(L, -1, "i18n") != LUA_TTABLE) {
    lua_settop(L, 2);
    return 1;
  }
  int i18n = lua_gettop(L);
  const char *langs[2] = { "en", lang };
  for (int k = 0; k < 2; k++) {
    if (lua_getfield(L, i18n, langs[k]) == LUA_TTABLE) {
      lua_pushnil(L);
      while (lua_next(L, -2)) {
        if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TSTRING) {
          lua_pushvalue(L, -2);
          lua_insert(L, -2);
          lua_rawset(L, 2);
        } else {
          lua_pop(L, 1);
        }
      }
    }
    lua_pop(L, 1);
  }
  lua_settop(L, 2);
  return 1;
}

/* ------------------------------------------------------------------------------------------------ route options */

long lh_opt(const char *opts, const char *key, long dflt)
{
  size_t n = strlen(key);
  for (const char *p = opts; p && *p;) {
    while (*p == ' ') p++;
    if (!strncmp(p, key, n) && p[n] == '=') return strtol(p + n + 1, NULL, 10);
    p = strchr(p, ' ');
  }
  return dflt;
}

int lh_opt_text(const char *opts, const char *key, char *out, size_t outlen)
{
  size_t n = strlen(key);
  for (const char *p = opts; p && *p;) {
    while (*p == ' ') p++;
    if (!strncmp(p, key, n) && p[n] == '=') {
      size_t len = strcspn(p + n + 1, " ");
      if (len >= outlen) len = outlen - 1;
      memcpy(out, p + n + 1, len);
      out[len] = 0;
      return 1;
    }
    p = strchr(p, ' ');
  }
  return 0;
}

static long opt_int(lua_State *L, int t, const char *name, long lo, long hi, long dflt)
{
  int ty = lua_getfield(L, t, name);
  long v = dflt;
  if (ty != LUA_TNIL) {
    int isint = 0;
    lua_Integer x = lua_tointegerx(L, -1, &isint);
    if (!isint || x < lo || x > hi)
      luaL_error(L, "destek.route: %s must be a whole number from %d to %d", name, (int)lo, (int)hi);
    v = (long)x;
  }
  lua_pop(L, 1);
  return v;
}

static int opt_bool(lua_State *L, int t, const char *name)
{
  lua_getfield(L, t, name);
  int v = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return v;
}

/* The cache option of a page (destek.page) or of a public GET route (destek.route: checked by its caller): true, or
 * {query = {names...}, count = bool}, into the options text as " cache=1 count=0|1 cache_query=a,b" at text[n...]. */
static void cache_option(lua_State *L, int idx, char *text, size_t size)
{
  int ty = lua_getfield(L, idx, "cache");
  size_t n = strlen(text);
  if (ty == LUA_TNIL || (ty == LUA_TBOOLEAN && !lua_toboolean(L, -1))) { lua_pop(L, 1); return; }
  if (ty != LUA_TBOOLEAN && ty != LUA_TTABLE)
    luaL_error(L, "destek.page: cache must be true or a table {query = {names}, count = true}");
  char names[120] = "";
  int count = 0;
  if (ty == LUA_TTABLE) {
    int c = lua_gettop(L);
    count = opt_bool(L, c, "count");
    int qt = lua_getfield(L, c, "query");
    if (qt == LUA_TTABLE) {
      for (lua_Integer i = 1; i <= (lua_Integer)lua_rawlen(L, -1); i++) {
        lua_rawgeti(L, -1, i);
        const char *q = lua_tostring(L, -1);
        if (!q || !*q || strspn(q, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(q) ||
            strlen(names) + strlen(q) + 2 > sizeof names)
          luaL_error(L, "destek.page: cache.query names query parameters (a-z, 0-9, _ and -), at most 100 bytes");
        if (names[0]) strcat(names, ",");
        strcat(names, q);
        lua_pop(L, 1);
      }
    } else if (qt != LUA_TNIL) {
      luaL_error(L, "destek.page: cache.query must be a list of query parameter names");
    }
    lua_pop(L, 1);
  }
  snprintf(text + n, size - n, " cache=1 count=%d cache_query=%s", count, names[0] ? names : "-");
  lua_pop(L, 1);
}

#define ROUTE_BODY_MAX (64L << 20)

const char *lh_route_options(lua_State *L, int idx, const char **params, size_t *max_body)
{
  idx = lua_absindex(L, idx);
  if (lua_getfield(L, idx, "params") == LUA_TSTRING) *params = lua_tostring(L, -1);
  else if (!lua_isnil(L, -1)) luaL_error(L, "destek.route: params must be a string such as \"id:int\"");
  *params = *params ? util_intern(*params) : NULL;
  lua_pop(L, 1);
  long body = opt_int(L, idx, "max_body", 1, ROUTE_BODY_MAX, 0);
  char text[400];
  int n = snprintf(text, sizeof text, "page=%d noindex=%d", opt_bool(L, idx, "page"), opt_bool(L, idx, "noindex"));
  int ty = lua_getfield(L, idx, "uploads");
  if (ty == LUA_TTABLE) {
    int u = lua_gettop(L);
    long files = opt_int(L, u, "max_files", 1, 100, 10);
    long bytes = opt_int(L, u, "max_file_bytes", 1, ROUTE_BODY_MAX, body ? body : 1L << 20);
    if (!body) body = files * bytes + 64 * 1024 < ROUTE_BODY_MAX ? files * bytes + 64 * 1024 : ROUTE_BODY_MAX;
    snprintf(text + n, sizeof text - (size_t)n, " uploads=1 files=%ld file_bytes=%ld images=%d", files, bytes,
             opt_bool(L, u, "images_only"));
  } else if (ty != LUA_TNIL) {
    luaL_error(L, "destek.route: uploads must be a table {max_files=, max_file_bytes=, images_only=}");
  }
  lua_pop(L, 1);
  cache_option(L, idx, text, sizeof text);
  /* private_cache = "role" | "user": an agent's GET answer kept for the callers of the same role (or the same
   * user), dropped whenever the plugin writes (lua_route.c); its caller checks the method and access. */
  ty = lua_getfield(L, idx, "private_cache");
  if (ty == LUA_TSTRING && (!strcmp(lua_tostring(L, -1), "role") || !strcmp(lua_tostring(L, -1), "user"))) {
    size_t tn = strlen(text);
    snprintf(text + tn, sizeof text - tn, " pcache=%s", lua_tostring(L, -1));
  } else if (ty != LUA_TNIL) {
    luaL_error(L, "destek.route: private_cache must be \"role\" or \"user\"");
  }
  lua_pop(L, 1);
  *max_body = (size_t)body;
  return util_intern(text);
}

/* ------------------------------------------------------------------------------------------------ page replies */

int lh_page_reply(lua_State *L, int idx, struct destek_req *r, int status, const char *opts)
{
  size_t len;
  const char *html = lh_html_text(L, idx, &len);
  if (!html) return lh_file_reply(L, idx, r, status);
  /* The ETag is kept with the HTML value: a page a module keeps (a cache of rendered pages) is hashed once. */
  char etag[PAGE_CACHE_ETAG_MAX];
  size_t have = 0;
  lua_getiuservalue(L, idx, 2);
  const char *kept = lua_tolstring(L, -1, &have);
  if (kept && have < sizeof etag) {
    memcpy(etag, kept, have + 1);
  } else {
    page_cache_etag(html, len, etag);
    lua_pushstring(L, etag);
    lua_setiuservalue(L, idx < 0 ? idx - 2 : idx, 2);
  }
  lua_pop(L, 1);
  if (status == 200) {
    http_add_header(r, "ETag", etag);
    if (!strstr(r->out_headers, "Cache-Control")) http_add_header(r, "Cache-Control", "no-cache");
  }
  if (lh_opt(opts, "noindex", 0)) http_add_header(r, "X-Robots-Tag", "noindex, nofollow");
  const char *inm = status == 200 ? http_header(r, "If-None-Match") : NULL;
  if (inm && strstr(inm, etag)) {
    http_reply_empty(r, 304);
    return 1;
  }
  char *copy = malloc(len + 1);
  if (!copy) abort();
  memcpy(copy, html, len + 1);
  http_reply_body(r, status, "text/html; charset=utf-8", copy, len);
  return 1;
}

/* page(pattern, fn[, options]): a public GET route that answers a page: options as destek.route's (access: who may
 * see it, "public" by default; noindex: keep it out of search engines). Its first part may not be one the server
 * keeps (api, app, assets, login, setup) nor take a page of the customer portal. */
static int l_page(lua_State *L)
{
  int slot = (int)lua_tointeger(L, lua_upvalueindex(1));
  struct lh_state *s = lh_state_of(L);
  const char *pattern = luaL_checkstring(L, 1);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  int ot = lua_type(L, 3);
  luaL_argexpected(L, ot == LUA_TTABLE || ot == LUA_TNIL || ot == LUA_TNONE, 3, "table");
  static const char *const reserved[] = { "api", "app", "assets", "login", "setup", "healthz", "metrics", NULL };
  size_t first = strcspn(pattern + 1, "/");
  for (const char *const *w = reserved; pattern[0] == '/' && *w; w++)
    if (strlen(*w) == first && !strncmp(pattern + 1, *w, first))
      return luaL_error(L, "destek.page: %s: /%s/ is the server's own", pattern, *w);
  char sample[256];
  size_t k = 0;
  for (const char *p = pattern; *p && k + 2 < sizeof sample; p++) {
    if (*p == '{') {
      sample[k++] = 'x';
      while (*p && *p != '}') p++;
      if (!*p) break;
    } else {
      sample[k++] = *p;
    }
  }
  sample[k] = 0;
  if (assets_portal_lookup(sample) >= 0)
    return luaL_error(L, "destek.page: %s takes a page of the customer portal", pattern);
  lua_newtable(L);                                   /* the route's options */
  int o = lua_gettop(L);
  const char *access = "public";
  if (ot == LUA_TTABLE) {
    lua_pushnil(L);
    while (lua_next(L, 3)) {
      lua_pushvalue(L, -2);
      lua_insert(L, -2);
      lua_rawset(L, o);
    }
    if (lua_getfield(L, 3, "access") == LUA_TSTRING) access = lua_tostring(L, -1);
    lua_pop(L, 1);
  }
  lua_pushboolean(L, 1);
  lua_setfield(L, o, "page");
  lua_rawgeti(L, LUA_REGISTRYINDEX, s->slots[slot].module_ref);
  lua_getfield(L, -1, "route");
  lua_pushliteral(L, "GET");
  lua_pushvalue(L, 1);
  lua_pushstring(L, access);
  lua_pushvalue(L, 2);
  lua_pushvalue(L, o);
  lua_call(L, 5, 0);
  return 0;
}

/* ------------------------------------------------------------------------------------------------ the functions */

static const luaL_Reg html_fns[] = {
  { "escape", l_html_escape }, { "lines", l_html_lines }, { "sanitize", l_html_sanitize }, { "url", l_html_url },
  { "is", l_html_is }, { "mail", l_html_mail }, { "text", l_html_text }, { NULL, NULL }
};

void lh_page_push(lua_State *L, int slot)
{
  static const luaL_Reg top[] = {
    { "render", l_render }, { "render_string", l_render_string }, { "strings", l_strings }, { "lang", l_lang },
    { "page", l_page }, { "markdown", lh_markdown }, { "markdown_text", lh_markdown_text }, { NULL, NULL }
  };
  lua_pushinteger(L, slot);
  luaL_setfuncs(L, top, 1);
  lua_newtable(L);
  lua_pushinteger(L, slot);
  luaL_setfuncs(L, html_fns, 1);
  lua_setfield(L, -2, "html");
}
