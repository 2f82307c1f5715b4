/* Lua patterns for the sandbox: string.find, string.match, string.gmatch and string.gsub, written from the
 * definition in the Lua 5.4 reference manual (§6.4.1 "Patterns", §6.4 for the functions' arguments and results).
 *
 * Why the host has its own: the library's matcher backtracks inside one C call, where the instruction hook never
 * runs, so `string.find(("a"):rep(300), ("a-"):rep(4) .. "b")` took minutes of CPU with no way to stop it. This one
 * charges every step it takes to the running call's instruction budget and checks its deadline (lh_budget_charge),
 * so a pathological pattern ends in the same budget error as an endless loop. It gives the same results and the same
 * error messages as the library's (tests/unit/test_lua_pattern.c compares the two on many generated cases), keeps
 * the library's limits (32 captures, a nesting depth of 200 before "pattern too complex") and answers plain finds
 * with memmem. The sandbox installs these functions in the string table itself, so s:find(...) reaches them too.
 *
 * Terms: an item is one single-character class (a character, '.', %x or a [set]) optionally followed by one of
 * '*', '+', '-', '?'; a capture's len is CAP_OPEN while it is open, CAP_POSITION for "()", else its length. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE  /* memmem */
#endif
#include <ctype.h>
#include <string.h>

#include "lua_host_internal.h"

#define MAX_CAPTURES 32       /* LUA_MAXCAPTURES */
#define MAX_DEPTH 200         /* nested matches before "pattern too complex" (the library's MAXCCALLS) */
#define CHARGE_EVERY 4096     /* steps between two charges to the budget */
#define CAP_OPEN (-1)
#define CAP_POSITION (-2)

struct matcher {
  lua_State *L;
  const char *subject, *subject_end;
  const char *pattern_end;    /* the pattern is NUL-terminated at pattern_end (it is a Lua string) */
  int depth_left;
  int n_captures;
  long steps;                 /* not yet charged */
  struct { const char *at; ptrdiff_t len; } capture[MAX_CAPTURES];
};

static void step(struct matcher *m)
{
  if (++m->steps >= CHARGE_EVERY) {
    long n = m->steps;
    m->steps = 0;
    lh_budget_charge(m->L, n);
  }
}

static void start_attempt(struct matcher *m)
{
  m->n_captures = 0;
  m->depth_left = MAX_DEPTH;
}

/* ------------------------------------------------------------------------------------------------ classes */

/* Does character c belong to class letter cl (%a, %d, ...; upper case is the complement)? Any other character
 * after '%' stands for itself. */
static int in_class(int c, int cl)
{
  int yes;
  switch (tolower(cl)) {
  case 'a': yes = isalpha(c); break;
  case 'c': yes = iscntrl(c); break;
  case 'd': yes = isdigit(c); break;
  case 'g': yes = isgraph(c); break;
  case 'l': yes = islower(c); break;
  case 'p': yes = ispunct(c); break;
  case 's': yes = isspace(c); break;
  case 'u': yes = isupper(c); break;
  case 'w': yes = isalnum(c); break;
  case 'x': yes = isxdigit(c); break;
  case 'z': yes = c == 0; break;   /* %z: the NUL character, from Lua 5.1; the library still accepts it */
  default: return cl == c;
  }
  if (isupper(cl)) yes = !yes;
  return yes != 0;
}

/* Is c in the set that starts at open ('[') and ends at close (its ']')? */
static int in_set(int c, const char *open, const char *close)
{
  const char *p = open + 1;
  int found = 1;
  if (*p == '^') {
    found = 0;
    p++;
  }
  for (; p < close; p++) {
    if (*p == '%') {
      p++;
      if (in_class(c, (unsigned char)*p)) return found;
    } else if (p[1] == '-' && p + 2 < close) {
      if ((unsigned char)p[0] <= c && c <= (unsigned char)p[2]) return found;
      p += 2;
    } else if ((unsigned char)*p == c) {
      return found;
    }
  }
  return !found;
}

/* Where the single-character class starting at p ends. In a set, the first character (after a '^') is always a
 * member, so "[]]" and "[^]]" hold ']'. */
static const char *class_end(struct matcher *m, const char *p)
{
  char c = *p++;
  if (c == '%') {
    if (p >= m->pattern_end) luaL_error(m->L, "malformed pattern (ends with '%%')");
    return p + 1;
  }
  if (c == '[') {
    if (*p == '^') p++;
    do {
      if (p >= m->pattern_end) luaL_error(m->L, "malformed pattern (missing ']')");
      c = *p++;
      if (c == '%' && p < m->pattern_end) p++;
    } while (*p != ']');
    return p + 1;
  }
  return p;
}

/* Does the character at s match the class p..end? (False at the end of the subject.) */
static int one_char(struct matcher *m, const char *s, const char *p, const char *end)
{
  if (s >= m->subject_end) return 0;
  int c = (unsigned char)*s;
  switch (*p) {
  case '.': return 1;
  case '%': return in_class(c, (unsigned char)p[1]);
  case '[': return in_set(c, p, end - 1);
  default: return (unsigned char)*p == c;
  }
}

/* ------------------------------------------------------------------------------------------------ matching */

static const char *match_here(struct matcher *m, const char *s, const char *p);

static const char *balanced(struct matcher *m, const char *s, const char *p)
{
  if (p >= m->pattern_end - 1) luaL_error(m->L, "malformed pattern (missing arguments to '%%b')");
  if (s >= m->subject_end || *s != *p) return NULL;
  char open = p[0], close = p[1];
  int level = 1;
  while (++s < m->subject_end) {
    step(m);
    if (*s == close) {
      if (--level == 0) return s + 1;
    } else if (*s == open) {
      level++;
    }
  }
  return NULL;
}

static const char *back_reference(struct matcher *m, const char *s, int digit)
{
  int i = digit - '1';
  if (i < 0 || i >= m->n_captures || m->capture[i].len == CAP_OPEN)
    luaL_error(m->L, "invalid capture index %%%d", i + 1);
  size_t len = (size_t)m->capture[i].len;   /* a position capture is huge here and never matches */
  if ((size_t)(m->subject_end - s) >= len && memcmp(m->capture[i].at, s, len) == 0) return s + len;
  return NULL;
}

static const char *open_capture(struct matcher *m, const char *s, const char *p, ptrdiff_t kind)
{
  if (m->n_captures >= MAX_CAPTURES) luaL_error(m->L, "too many captures");
  m->capture[m->n_captures].at = s;
  m->capture[m->n_captures].len = kind;
  m->n_captures++;
  const char *end = match_here(m, s, p);
  if (!end) m->n_captures--;
  return end;
}

static const char *close_capture(struct matcher *m, const char *s, const char *p)
{
  int i = m->n_captures - 1;
  while (i >= 0 && m->capture[i].len != CAP_OPEN) i--;
  if (i < 0) luaL_error(m->L, "invalid pattern capture");
  m->capture[i].len = s - m->capture[i].at;
  const char *end = match_here(m, s, p);
  if (!end) m->capture[i].len = CAP_OPEN;
  return end;
}

/* item* (and item+ after its first match): as many as possible, then fewer until the rest matches. */
static const char *longest(struct matcher *m, const char *s, const char *p, const char *item_end)
{
  ptrdiff_t n = 0;
  while (one_char(m, s + n, p, item_end)) {
    step(m);
    n++;
  }
  for (; n >= 0; n--) {
    const char *end = match_here(m, s + n, item_end + 1);
    if (end) return end;
  }
  return NULL;
}

/* item-: as few as possible, one more each time the rest fails. */
static const char *shortest(struct matcher *m, const char *s, const char *p, const char *item_end)
{
  for (;;) {
    const char *end = match_here(m, s, item_end + 1);
    if (end) return end;
    if (!one_char(m, s, p, item_end)) return NULL;
    step(m);
    s++;
  }
}

/* Matches the pattern from p against the subject from s; the end of the match, or NULL. Recurses only where the
 * rest of the pattern must be tried more than once (captures, '?', '*', '+', '-'), as deep as MAX_DEPTH. */
static const char *match_here(struct matcher *m, const char *s, const char *p)
{
  if (m->depth_left-- == 0) luaL_error(m->L, "pattern too complex");
  step(m);
  while (p != m->pattern_end) {
    switch (*p) {
    case '(':
      s = p[1] == ')' ? open_capture(m, s, p + 2, CAP_POSITION) : open_capture(m, s, p + 1, CAP_OPEN);
      goto done;
    case ')':
      s = close_capture(m, s, p + 1);
      goto done;
    case '$':
      if (p + 1 == m->pattern_end) {
        if (s != m->subject_end) s = NULL;
        goto done;
      }
      break;
    case '%':
      if (p[1] == 'b') {
        s = balanced(m, s, p + 2);
        if (!s) goto done;
        p += 4;
        continue;
      }
      if (p[1] == 'f') {
        p += 2;
        if (*p != '[') luaL_error(m->L, "missing '[' after '%%f' in pattern");
        const char *set_end = class_end(m, p);
        int before = s == m->subject ? 0 : (unsigned char)s[-1];
        int here = s < m->subject_end ? (unsigned char)*s : 0;
        if (in_set(before, p, set_end - 1) || !in_set(here, p, set_end - 1)) {
          s = NULL;
          goto done;
        }
        p = set_end;
        continue;
      }
      if (isdigit((unsigned char)p[1])) {
        s = back_reference(m, s, (unsigned char)p[1]);
        if (!s) goto done;
        p += 2;
        continue;
      }
      break;
    default: break;
    }
    /* a single-character class, perhaps with a quantifier */
    const char *item_end = class_end(m, p);
    char q = *item_end;
    if (!one_char(m, s, p, item_end)) {
      if (q == '*' || q == '?' || q == '-') {
        p = item_end + 1;
        continue;
      }
      s = NULL;
      goto done;
    }
    if (q == '?') {
      const char *end = match_here(m, s + 1, item_end + 1);
      if (end) {
        s = end;
        goto done;
      }
      p = item_end + 1;
      continue;
    }
    if (q == '+') { s = longest(m, s + 1, p, item_end); goto done; }
    if (q == '*') { s = longest(m, s, p, item_end); goto done; }
    if (q == '-') { s = shortest(m, s, p, item_end); goto done; }
    s++;
    p = item_end;
  }
done:
  m->depth_left++;
  return s;
}

/* ------------------------------------------------------------------------------------------------ results */

/* Pushes capture i of the match s..e; with no captures, capture 0 is the whole match. */
static void push_capture(struct matcher *m, int i, const char *s, const char *e)
{
  if (i >= m->n_captures) {
    if (i != 0) luaL_error(m->L, "invalid capture index %%%d", i + 1);
    lua_pushlstring(m->L, s, (size_t)(e - s));
    return;
  }
  ptrdiff_t len = m->capture[i].len;
  if (len == CAP_OPEN) luaL_error(m->L, "unfinished capture");
  if (len == CAP_POSITION) lua_pushinteger(m->L, (lua_Integer)(m->capture[i].at - m->subject) + 1);
  else lua_pushlstring(m->L, m->capture[i].at, (size_t)len);
}

/* Pushes the captures; the whole match when there are none and s is given. Returns how many. */
static int push_captures(struct matcher *m, const char *s, const char *e)
{
  int n = m->n_captures == 0 && s ? 1 : m->n_captures;
  luaL_checkstack(m->L, n, "too many captures");
  for (int i = 0; i < n; i++) push_capture(m, i, s, e);
  return n;
}

static void settle(struct matcher *m)
{
  long n = m->steps;
  m->steps = 0;
  lh_budget_charge(m->L, n);
}

/* A 1-based position (negative: from the end) as an offset + 1, clipped to 1.. */
static size_t position(lua_Integer pos, size_t len)
{
  if (pos > 0) return (size_t)pos;
  if (pos == 0 || pos < -(lua_Integer)len) return 1;
  return len + (size_t)pos + 1;
}

static int has_specials(const char *p, size_t len)
{
  static const char specials[] = "^$*+?.([%-";
  for (const char *c = specials; *c; c++)
    if (memchr(p, *c, len)) return 1;
  return 0;
}

static void matcher_init(struct matcher *m, lua_State *L, const char *s, size_t ls, const char *p_end)
{
  m->L = L;
  m->subject = s;
  m->subject_end = s + ls;
  m->pattern_end = p_end;
  m->steps = 0;
  start_attempt(m);
}

static int find_or_match(lua_State *L, int find)
{
  size_t ls, lp;
  const char *s = luaL_checklstring(L, 1, &ls);
  const char *p = luaL_checklstring(L, 2, &lp);
  size_t init = position(luaL_optinteger(L, 3, 1), ls) - 1;
  if (init > ls) {
    lua_pushnil(L);
    return 1;
  }
  if (find && (lua_toboolean(L, 4) || !has_specials(p, lp))) {
    const char *at = memmem(s + init, ls - init, p, lp);
    if (!at) {
      lua_pushnil(L);
      return 1;
    }
    lua_pushinteger(L, (lua_Integer)(at - s) + 1);
    lua_pushinteger(L, (lua_Integer)(at - s + lp));
    return 2;
  }
  int anchor = *p == '^';
  if (anchor) {
    p++;
    lp--;
  }
  struct matcher m;
  matcher_init(&m, L, s, ls, p + lp);
  const char *at = s + init;
  do {
    start_attempt(&m);
    const char *end = match_here(&m, at, p);
    if (end) {
      settle(&m);
      if (!find) return push_captures(&m, at, end);
      lua_pushinteger(L, (lua_Integer)(at - s) + 1);
      lua_pushinteger(L, (lua_Integer)(end - s));
      return push_captures(&m, NULL, NULL) + 2;
    }
  } while (at++ < m.subject_end && !anchor);
  settle(&m);
  lua_pushnil(L);
  return 1;
}

/* string.find(s, pattern [, init [, plain]]) */
static int l_find(lua_State *L) { return find_or_match(L, 1); }
/* string.match(s, pattern [, init]) */
static int l_match(lua_State *L) { return find_or_match(L, 0); }

/* The iterator of gmatch. Upvalues: the subject, the pattern, where the next search starts, where the last match
 * ended (-1: none yet; an empty match there is skipped). A '^' in the pattern is an ordinary character here. */
static int gmatch_next(lua_State *L)
{
  size_t ls, lp;
  const char *s = lua_tolstring(L, lua_upvalueindex(1), &ls);
  const char *p = lua_tolstring(L, lua_upvalueindex(2), &lp);
  lua_Integer from = lua_tointeger(L, lua_upvalueindex(3));
  lua_Integer last = lua_tointeger(L, lua_upvalueindex(4));
  struct matcher m;
  matcher_init(&m, L, s, ls, p + lp);
  for (const char *at = s + from; at <= m.subject_end; at++) {
    start_attempt(&m);
    const char *end = match_here(&m, at, p);
    if (end && (last < 0 || end != s + last)) {
      lua_pushinteger(L, (lua_Integer)(end - s));
      lua_pushvalue(L, -1);
      lua_replace(L, lua_upvalueindex(3));
      lua_replace(L, lua_upvalueindex(4));
      settle(&m);
      return push_captures(&m, at, end);
    }
  }
  settle(&m);
  return 0;
}

/* string.gmatch(s, pattern [, init]) */
static int l_gmatch(lua_State *L)
{
  size_t ls;
  luaL_checklstring(L, 1, &ls);
  luaL_checklstring(L, 2, NULL);
  size_t init = position(luaL_optinteger(L, 3, 1), ls) - 1;
  if (init > ls) init = ls + 1;
  lua_settop(L, 2);
  lua_pushinteger(L, (lua_Integer)init);
  lua_pushinteger(L, -1);
  lua_pushcclosure(L, gmatch_next, 4);
  return 1;
}

/* Adds the replacement string (argument 3) for the match s..e: %0 is the match, %1-%9 captures, %% a '%'. */
static void add_template(struct matcher *m, luaL_Buffer *b, const char *s, const char *e)
{
  lua_State *L = m->L;
  size_t len;
  const char *r = lua_tolstring(L, 3, &len);
  const char *pct;
  while ((pct = memchr(r, '%', len)) != NULL) {
    luaL_addlstring(b, r, (size_t)(pct - r));
    pct++;   /* a '%' at the very end sees the string's terminating NUL */
    if (*pct == '%') {
      luaL_addchar(b, '%');
    } else if (*pct == '0') {
      luaL_addlstring(b, s, (size_t)(e - s));
    } else if (isdigit((unsigned char)*pct)) {
      push_capture(m, *pct - '1', s, e);
      luaL_tolstring(L, -1, NULL);
      lua_remove(L, -2);
      luaL_addvalue(b);
    } else {
      luaL_error(L, "invalid use of '%c' in replacement string", '%');
    }
    len -= (size_t)(pct + 1 - r);
    r = pct + 1;
  }
  luaL_addlstring(b, r, len);
}

/* Adds what replaces the match s..e; returns 0 when the match is kept as it was (a false or nil replacement). */
static int add_replacement(struct matcher *m, luaL_Buffer *b, const char *s, const char *e, int how)
{
  lua_State *L = m->L;
  if (how == LUA_TFUNCTION) {
    lua_pushvalue(L, 3);
    int n = push_captures(m, s, e);
    lua_call(L, n, 1);
  } else if (how == LUA_TTABLE) {
    push_capture(m, 0, s, e);
    lua_gettable(L, 3);
  } else {
    add_template(m, b, s, e);
    return 1;
  }
  if (!lua_toboolean(L, -1)) {
    lua_pop(L, 1);
    luaL_addlstring(b, s, (size_t)(e - s));
    return 0;
  }
  if (!lua_isstring(L, -1)) luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
  luaL_addvalue(b);
  return 1;
}

/* string.gsub(s, pattern, repl [, n]) */
static int l_gsub(lua_State *L)
{
  size_t ls, lp;
  const char *s = luaL_checklstring(L, 1, &ls);
  const char *p = luaL_checklstring(L, 2, &lp);
  int how = lua_type(L, 3);
  lua_Integer max_n = luaL_optinteger(L, 4, (lua_Integer)ls + 1);
  luaL_argexpected(L, how == LUA_TNUMBER || how == LUA_TSTRING || how == LUA_TFUNCTION || how == LUA_TTABLE, 3,
                   "string/function/table");
  int anchor = *p == '^';
  if (anchor) {
    p++;
    lp--;
  }
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  struct matcher m;
  matcher_init(&m, L, s, ls, p + lp);
  const char *at = s, *last = NULL;
  lua_Integer n = 0;
  int changed = 0;
  while (n < max_n) {
    start_attempt(&m);
    const char *end = match_here(&m, at, p);
    if (end && end != last) {
      n++;
      changed |= add_replacement(&m, &b, at, end, how);
      at = last = end;
    } else if (at < m.subject_end) {
      step(&m);
      luaL_addchar(&b, *at++);
    } else {
      break;
    }
    if (anchor) break;
  }
  settle(&m);
  if (!changed) {
    lua_pushvalue(L, 1);
  } else {
    luaL_addlstring(&b, at, (size_t)(m.subject_end - at));
    luaL_pushresult(&b);
  }
  lua_pushinteger(L, n);
  return 2;
}

void lh_pattern_install(lua_State *L, int string_table)
{
  static const luaL_Reg fns[] = {
    { "find", l_find }, { "match", l_match }, { "gmatch", l_gmatch }, { "gsub", l_gsub }, { NULL, NULL }
  };
  string_table = lua_absindex(L, string_table);
  for (const luaL_Reg *f = fns; f->name; f++) {
    lua_pushcfunction(L, f->func);
    lua_setfield(L, string_table, f->name);
  }
}
