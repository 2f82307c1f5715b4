/* Lua routes: the generic handler every Lua route is registered with, the request table a handler gets, and how its
 * return values (status, body, headers) become the response.
 *
 * The request table has method, path, params and user (for a signed-in caller: id, email, name, role, lang) from the
 * start; headers (names lower-cased; without the caller's credentials), query (first value of each name wins), body
 * (the raw text) and json (the body parsed) are made on first use, through __index, and only while that request
 * runs. */
#include <ctype.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <civetweb.h>

#include "http.h"
#include "log.h"
#include "lua_host_internal.h"
#include "page_cache.h"
#include "util.h"

/* ------------------------------------------------------------------------------------------------ routes */

static const char KEY_REQ_MT, KEY_REQ_CUR;

static void push_query(lua_State *L, const char *q)
{
  lua_newtable(L);
  int t = lua_gettop(L);
  for (const char *p = q; p && *p;) {
    const char *amp = strchr(p, '&'), *end = amp ? amp : p + strlen(p);
    const char *eq = memchr(p, '=', (size_t)(end - p));
    for (int part = 0; part < 2; part++) {
      const char *a = part ? (eq ? eq + 1 : end) : p, *b = part ? end : (eq ? eq : end);
      luaL_Buffer buf;
      luaL_buffinit(L, &buf);
      for (const char *c = a; c < b; c++) {
        if (*c == '+') luaL_addchar(&buf, ' ');
        else if (*c == '%' && c + 2 < b && isxdigit((unsigned char)c[1]) && isxdigit((unsigned char)c[2])) {
          char hex[3] = { c[1], c[2], 0 };
          luaL_addchar(&buf, (char)strtol(hex, NULL, 16));
          c += 2;
        } else luaL_addchar(&buf, *c);
      }
      luaL_pushresult(&buf);
    }
    lua_pushvalue(L, -2);
    if (lua_rawget(L, t) == LUA_TNIL && lua_rawlen(L, -3) > 0) {  /* the first value of a name wins */
      lua_pop(L, 1);
      lua_rawset(L, t);
    } else {
      lua_pop(L, 3);
    }
    p = amp ? amp + 1 : end;
  }
}

/* The caller's credentials, which the core has already checked (core/auth.c reads the first three): a plugin sees
 * who is calling in req.user, never what proves it, so it cannot replay a session or a token. */
static int is_credential(const char *lower_name)
{
  static const char *const names[] = { "cookie", "authorization", "x-csrf-token", "proxy-authorization", NULL };
  for (const char *const *n = names; *n; n++)
    if (!strcmp(lower_name, *n)) return 1;
  return 0;
}

static void push_headers(lua_State *L, struct destek_req *r)
{
  lua_newtable(L);
  if (!r->conn) return;
  const struct mg_request_info *ri = mg_get_request_info(r->conn);
  for (int i = 0; i < ri->num_headers; i++) {
    char name[128];
    size_t n = 0;
    for (const char *c = ri->http_headers[i].name; *c && n < sizeof name - 1; c++) name[n++] = (char)tolower((unsigned char)*c);
    name[n] = 0;
    if (is_credential(name)) continue;
    if (lua_getfield(L, -1, name) == LUA_TSTRING) {   /* repeated: joined as HTTP allows */
      lua_pushliteral(L, ", ");
      lua_pushstring(L, ri->http_headers[i].value);
      lua_concat(L, 3);
    } else {
      lua_pop(L, 1);
      lua_pushstring(L, ri->http_headers[i].value);
    }
    lua_setfield(L, -2, name);
  }
}

static int push_parsed(lua_State *L)
{
  lh_push_json(L, lua_touserdata(L, 1));
  return 1;
}

/* __index of a request table: headers, query, body and json are made on first use, for the current request only. */
static int req_index(lua_State *L)
{
  struct lh_state *s = lh_state_of(L);
  const char *k = lua_tostring(L, 2);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &KEY_REQ_CUR);
  if (!k || !s->req || !lua_rawequal(L, 1, -1)) return 0;
  struct destek_req *r = s->req;
  if (!strcmp(k, "headers")) {
    push_headers(L, r);
  } else if (!strcmp(k, "query")) {
    push_query(L, r->query);
  } else if (!strcmp(k, "body") || !strcmp(k, "json")) {
    lh_read_body(L, r);   /* its error answer is replaced; the time the client takes to send it is not the plugin's */
    if (k[0] == 'b') {
      if (r->body && r->body_len) lua_pushlstring(L, r->body, r->body_len);
      else lua_pushnil(L);
    } else if (r->json) {
      lh_push_json(L, r->json);
    } else if (r->body && r->body_len) {
      cJSON *j = cJSON_ParseWithLength(r->body, r->body_len);
      if (!j) return 0;
      int rc = lh_protect(L, push_parsed, j, 1);
      cJSON_Delete(j);
      if (rc != LUA_OK) return lua_error(L);
    } else {
      return 0;
    }
  } else if (!lh_upload_index(L, r, k)) {   /* form, files */
    return 0;
  }
  lua_pushvalue(L, 2);
  lua_pushvalue(L, -2);
  lua_rawset(L, 1);
  return 1;
}

static void push_request(lua_State *L, struct lh_state *s, struct destek_req *r)
{
  lua_createtable(L, 0, 8);
  lua_pushstring(L, r->method);
  lua_setfield(L, -2, "method");
  lua_pushstring(L, r->path);
  lua_setfield(L, -2, "path");
  lua_createtable(L, 0, r->n_params);
  for (int i = 0; i < r->n_params; i++) {
    lua_pushstring(L, r->param_values[i]);
    lua_setfield(L, -2, r->param_names[i]);
  }
  lua_setfield(L, -2, "params");
  lua_pushstring(L, r->ip);
  lua_setfield(L, -2, "ip");
  if (r->who.user_id > 0) {
    lua_createtable(L, 0, 5);
    lua_pushinteger(L, r->who.user_id);
    lua_setfield(L, -2, "id");
    lua_pushstring(L, r->who.email);
    lua_setfield(L, -2, "email");
    lua_pushstring(L, r->who.name);
    lua_setfield(L, -2, "name");
    lua_pushstring(L, r->who.role);
    lua_setfield(L, -2, "role");
    lua_pushstring(L, r->who.lang[0] ? r->who.lang : "tr");
    lua_setfield(L, -2, "lang");
    lua_setfield(L, -2, "user");
  }
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &KEY_REQ_MT) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_createtable(L, 0, 2);
    lua_pushcfunction(L, req_index);
    lua_setfield(L, -2, "__index");
    lua_pushliteral(L, "request");
    lua_setfield(L, -2, "__metatable");   /* shared by every plugin's requests: locked */
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &KEY_REQ_MT);
  }
  lua_setmetatable(L, -2);
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &KEY_REQ_CUR);
  s->req = r;
}

struct route_arg {
  struct lh_state *s;
  const struct lh_bind *b;
  struct destek_req *r;
  int status;
  cJSON *json;           /* the body, when a table */
  char *text;            /* the body, when a string */
  size_t text_len;
  int has_ctype;
  int replied;           /* the response is set up already: an error value, a page or a file */
  char bad[512];         /* what was wrong with the values the handler returned */
};

/* Checks the returned headers table (at idx) and adds its headers to the response; Content-Type is kept apart. What
 * a plugin may send is http_plugin_header's to say: a header it may not set fails the route (a 500 plugin_error, the
 * log naming the header), never silently dropped. */
static int apply_headers(lua_State *L, int idx, struct route_arg *a, int apply)
{
  if (lua_isnil(L, idx)) return 0;
  if (!lua_istable(L, idx)) { snprintf(a->bad, sizeof a->bad, "the third value (headers) must be a table"); return -1; }
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING) {
      lua_pop(L, 2);
      snprintf(a->bad, sizeof a->bad, "headers must map names to strings");
      return -1;
    }
    const char *name = lua_tostring(L, -2), *value = lua_tostring(L, -1);
    char send[1024];
    size_t name_len, value_len;
    lua_tolstring(L, -2, &name_len);
    lua_tolstring(L, -1, &value_len);
    if (name_len != strlen(name) || value_len != strlen(value)) {   /* a NUL inside */
      lua_pop(L, 2);
      snprintf(a->bad, sizeof a->bad, "the header %.100s is malformed or too long", name);
      return -1;
    }
    if (http_plugin_header(a->r, a->s->slots[a->b->slot].name, name, value, send, sizeof send, a->bad,
                           sizeof a->bad) != 0) {
      lua_pop(L, 2);
      return -1;
    }
    if (!strcasecmp(name, "content-type")) {
      if (apply) snprintf(a->s->ctype, sizeof a->s->ctype, "%s", value);
      a->has_ctype = 1;
    } else if (apply) {
      http_add_header(a->r, name, send);
    }
    lua_pop(L, 1);
  }
  return 0;
}

static int route_tramp(lua_State *L)
{
  struct route_arg *a = lua_touserdata(L, 1);
  lua_rawgeti(L, LUA_REGISTRYINDEX, a->b->ref);
  push_request(L, a->s, a->r);
  if (lh_pcall_errors(L, 1, 3)) {   /* a destek.error raised (or req.files refused the body) */
    a->status = lh_error_apply(L, -1, a->r);
    a->replied = 1;
    return 0;
  }
  int base = lua_gettop(L) - 2;
  if ((a->status = lh_error_apply(L, base, a->r)) != 0) {   /* ... or returned */
    a->replied = 1;
    return 0;
  }
  int isint = 0;
  lua_Integer status = lua_type(L, base) == LUA_TNUMBER ? lua_tointegerx(L, base, &isint) : 0;
  if (!isint || status < 100 || status > 599) {
    snprintf(a->bad, sizeof a->bad, "the handler must return a status (100..599) first, not %s",
             luaL_typename(L, base));
    return 0;
  }
  a->status = (int)status;
  if (apply_headers(L, base + 2, a, 0) != 0) return 0;
  switch (lua_type(L, base + 1)) {
  case LUA_TNIL: break;
  case LUA_TTABLE:
    a->json = lh_to_json(L, base + 1, a->bad, sizeof a->bad);
    if (!a->json) return 0;
    break;
  case LUA_TUSERDATA:   /* an HTML value (a page) or a file */
    apply_headers(L, base + 2, a, 1);
    if (lh_page_reply(L, base + 1, a->r, a->status, a->b->opts)) {
      a->replied = 1;
      return 0;
    }
    snprintf(a->bad, sizeof a->bad, "the body must be a table (sent as JSON), a string, a page or a file");
    return 0;
  case LUA_TSTRING: {
    size_t len;
    const char *v = lua_tolstring(L, base + 1, &len);
    a->text = malloc(len + 1);
    if (!a->text) abort();
    memcpy(a->text, v, len + 1);
    a->text_len = len;
    break;
  }
  default:
    snprintf(a->bad, sizeof a->bad, "the body must be a table (sent as JSON) or a string, not %s",
             luaL_typename(L, base + 1));
    return 0;
  }
  apply_headers(L, base + 2, a, 1);
  return 0;
}

/* ------------------------------------------------------------------------------------------------ cached pages */

#define CACHE_KEY_MAX 1024

/* The cache key of a GET to a page route declared with `cache` (opts): the path, the values of the query names it
 * declared, the caller's language and the Host: 1, or 0 when the request is not to be answered from the cache (a
 * query name it did not declare, a key too long). */
static int cache_key(struct destek_req *r, const char *opts, char *key, size_t *key_len)
{
  if (strcmp(r->method, "GET") != 0 || !lh_opt(opts, "cache", 0)) return 0;
  char names[128];
  if (!lh_opt_text(opts, "cache_query", names, sizeof names) || !strcmp(names, "-")) names[0] = 0;
  for (const char *p = r->query; p && *p;) {   /* every name the query has must be one declared */
    size_t item = strcspn(p, "&"), name = strcspn(p, "=&");
    int known = 0;
    for (const char *n = names; name && *n;) {
      size_t len = strcspn(n, ",");
      if (len == name && !strncmp(n, p, name)) { known = 1; break; }
      n += len + (n[len] == ',');
    }
    if (item && !known) return 0;
    p += item + (p[item] == '&');
  }
  const char *host = http_header(r, "Host");
  int n = snprintf(key, CACHE_KEY_MAX, "%s\001%s\001%s", r->path, lh_caller_lang(r), host ? host : "");
  if (n < 0 || n >= CACHE_KEY_MAX) return 0;
  size_t len = (size_t)n;
  for (const char *q = names; *q;) {
    size_t qlen = strcspn(q, ",");
    char name[64], value[256];
    if (qlen >= sizeof name) return 0;
    memcpy(name, q, qlen);
    name[qlen] = 0;
    if (!http_query_get(r, name, value, sizeof value)) value[0] = 0;
    else if (strlen(value) >= sizeof value - 1) return 0;
    n = snprintf(key + len, CACHE_KEY_MAX - len, "\001%s", value);
    if (n < 0 || (size_t)n >= CACHE_KEY_MAX - len) return 0;
    len += (size_t)n;
    q += qlen + (q[qlen] == ',');
  }
  *key_len = len;
  return 1;
}

/* What the cache keeps of an answer: a page's HTML as it is, or, for any other answer of a public route (the reviews
 * widget's JSON), CACHED_OTHER, its content type, CACHED_OTHER, the route's own header lines, CACHED_OTHER, the body. */
#define CACHED_OTHER '\001'

/* Answers r from the page cache when it holds the page (counted under the path when the route says count): 1, else 0.
 * A page that could not be counted (the counters are full) is left to the plugin, which counts it itself. */
static int serve_blob(struct destek_req *r, struct lh_state *s, const char *opts, char *blob, size_t len,
                      const char *etag);

static int cache_serve(struct destek_req *r, struct lh_state *s, const char *plugin, const char *opts, const char *key,
                       size_t key_len)
{
  char *blob, etag[PAGE_CACHE_ETAG_MAX];
  size_t len;
  if (!page_cache_get(plugin, key, key_len, &blob, &len, etag)) return 0;
  if (lh_opt(opts, "count", 0) && counter_add(plugin, r->path, 1) != 0) {
    free(blob);
    return 0;
  }
  return serve_blob(r, s, opts, blob, len, etag);
}

/* Answers r with a kept answer (blob, taken): 1, or 0 (blob freed) when it is malformed. */
static int serve_blob(struct destek_req *r, struct lh_state *s, const char *opts, char *blob, size_t len,
                      const char *etag)
{
  const char *type = "text/html; charset=utf-8";
  if (len && blob[0] == CACHED_OTHER) {
    char *t = blob + 1, *h = memchr(t, CACHED_OTHER, len - 1), *b = h ? memchr(h + 1, CACHED_OTHER, len - (size_t)(h + 1 - blob)) : NULL;
    if (!b) { free(blob); return 0; }
    *h = 0;
    *b = 0;
    snprintf(s->ctype, sizeof s->ctype, "%s", t);   /* per thread: valid until its next request */
    type = s->ctype;
    for (char *line = h + 1; *line;) {   /* "Name: value\r\n" lines, as the route added them */
      char *end = strstr(line, "\r\n"), *colon = strchr(line, ':');
      if (!end || !colon || colon > end) break;
      *end = 0;
      *colon = 0;
      http_add_header(r, line, colon + 1 + (colon[1] == ' '));
      line = end + 2;
    }
    len -= (size_t)(b + 1 - blob);
    memmove(blob, b + 1, len);
  }
  http_add_header(r, "ETag", etag);
  if (!strstr(r->out_headers, "Cache-Control")) http_add_header(r, "Cache-Control", "no-cache");
  if (lh_opt(opts, "noindex", 0)) http_add_header(r, "X-Robots-Tag", "noindex, nofollow");
  const char *inm = http_header(r, "If-None-Match");
  if (inm && strstr(inm, etag)) {
    free(blob);
    http_reply_empty(r, 304);
  } else {
    http_reply_body(r, 200, type, blob, len);   /* takes blob */
  }
  r->sandboxed = 1;
  return 1;
}

/* Keeps the answer the plugin just gave, when it is a whole one of its own: 200, no cookie set; a page (HTML) as it
 * is, anything else with its type and the route's header lines. */
static void cache_keep_blob(struct destek_req *r, const char *plugin, uint64_t gen, const char *key, size_t key_len,
                            int private, long long until);

static void cache_keep(struct destek_req *r, const char *plugin, uint64_t gen, const char *key, size_t key_len)
{
  cache_keep_blob(r, plugin, gen, key, key_len, 0, 0);
}

/* private: an answer kept for signed-in callers (private_cache below): always with its type and header lines, after
 * PRIVATE_HEAD bytes that hold the Unix time it is good until ("0" for no limit), in decimal. */
#define PRIVATE_HEAD 21

static void cache_keep_blob(struct destek_req *r, const char *plugin, uint64_t gen, const char *key, size_t key_len,
                            int private, long long until)
{
  if (r->status != 200 || !r->out_type || strcasestr(r->out_headers, "Set-Cookie")) return;
  if (private && until > 0 && (long long)time(NULL) >= until) return;
  /* the caller's own: no shared cache keeps it; the browser asks again each time (ETag: 304) */
  if (private && !strcasestr(r->out_headers, "Cache-Control")) http_add_header(r, "Cache-Control", "private, no-cache");
  if (r->out_json) {   /* printed now, once: the answer goes out as that text */
    const char *type = r->out_type;
    char *text = cJSON_PrintUnformatted(r->out_json);
    if (!text) return;
    http_reply_body(r, r->status, type, text, strlen(text));
  }
  const char *body = r->out_body;
  size_t body_len = r->out_len;
  if (!body) return;
  char etag[PAGE_CACHE_ETAG_MAX];
  if (!private && !strncmp(r->out_type, "text/html", 9)) {
    page_cache_etag(body, body_len, etag);
    page_cache_put(plugin, gen, key, key_len, body, body_len, etag);
    return;
  }
  size_t head = private ? PRIVATE_HEAD : 0;
  size_t tlen = strlen(r->out_type), len = head + 3 + tlen + r->out_headers_len + body_len;
  if (memchr(r->out_type, CACHED_OTHER, tlen) || memchr(r->out_headers, CACHED_OTHER, r->out_headers_len)) return;
  char *blob = malloc(len);
  if (!blob) return;
  size_t n = 0;
  if (private) {
    char t[PRIVATE_HEAD + 1];
    snprintf(t, sizeof t, "%020lld", until > 0 ? until : 0);
    memcpy(blob, t, PRIVATE_HEAD);   /* 20 digits and the NUL */
    n = head;
  }
  blob[n++] = CACHED_OTHER;
  memcpy(blob + n, r->out_type, tlen);
  n += tlen;
  blob[n++] = CACHED_OTHER;
  memcpy(blob + n, r->out_headers, r->out_headers_len);
  n += r->out_headers_len;
  blob[n++] = CACHED_OTHER;
  memcpy(blob + n, body, body_len);
  if (private) {
    /* Not a hash of 20 KB of JSON per answer kept: a name of this copy, new for each one kept (a prefix drawn at
     * start-up and a counter), so a browser's copy of an older answer never matches. */
    static _Atomic unsigned long long kept, prefix;
    unsigned long long p = atomic_load(&prefix);
    if (!p) {
      unsigned long long want = 0, none = 0;
      util_random(&want, sizeof want);
      want = (want & 0xffffffULL) | 0x1000000ULL;   /* never 0 */
      p = atomic_compare_exchange_strong(&prefix, &none, want) ? want : none;
    }
    snprintf(etag, sizeof etag, "\"p%06llx%llx\"", p & 0xffffffULL, (atomic_fetch_add(&kept, 1) + 1) & 0xffffffffffffULL);
  } else {
    page_cache_etag(body, body_len, etag);
  }
  page_cache_put(plugin, gen, key, key_len, blob, len, etag);
  free(blob);
  http_add_header(r, "ETag", etag);   /* as the copies served from the cache will say */
}

/* ------------------------------------------------------------------------------------------------ private answers */

/* A GET route declared with private_cache = "role" or "user" says that its answer depends only on the path, the
 * query string, the caller's role (and, for "user", who the caller is), language and Host, and on the plugin's own
 * tables and settings. Its 200 answers are kept in the page cache under the owner "@<plugin>", keyed by all of those,
 * and served only to a caller who passed the route's access check (http.c does that before any handler) with the
 * same key. They are dropped whenever the plugin changes a row (db.exec: lh_cache_written, now and again once the
 * call's transaction ends, so an answer read before the commit cannot be kept after it), calls destek.cache.clear,
 * or a setting changes; one that called destek.cache.valid_until(t) is not served from t on. */
static int private_key(struct destek_req *r, const char *mode, char *key, size_t *key_len)
{
  if (strcmp(r->method, "GET") != 0 || r->who.via == AUTH_NONE) return 0;
  const char *host = http_header(r, "Host");
  long long uid = !strcmp(mode, "user") ? (long long)r->who.user_id : -1;
  int n = snprintf(key, CACHE_KEY_MAX, "%s\001%s\001%d\001%s\001%lld\001%s\001%s", r->path, r->query ? r->query : "",
                   (int)r->who.via == AUTH_CONTROL, r->who.role, uid, lh_caller_lang(r), host ? host : "");
  if (n < 0 || n >= CACHE_KEY_MAX) return 0;
  *key_len = (size_t)n;
  return 1;
}

static int private_serve(struct destek_req *r, struct lh_state *s, const char *owner, const char *opts, const char *key,
                         size_t key_len)
{
  char *blob, etag[PAGE_CACHE_ETAG_MAX];
  size_t len;
  if (!page_cache_get(owner, key, key_len, &blob, &len, etag)) return 0;
  long long until = len > PRIVATE_HEAD ? strtoll(blob, NULL, 10) : -1;
  if (until < 0 || (until > 0 && (long long)time(NULL) >= until)) {
    free(blob);
    return 0;
  }
  memmove(blob, blob + PRIVATE_HEAD, len - PRIVATE_HEAD);
  return serve_blob(r, s, opts, blob, len - PRIVATE_HEAD, etag);
}

int lh_route_handler(struct destek_req *r)
{
  const struct destek_route *rt = http_matched_route(r);
  struct lh_state *s = rt ? lh_state_get() : NULL;
  struct lh_bind *b = s ? lh_bind_find(s, LH_ROUTE, rt->method, rt->pattern) : NULL;
  if (!b) {
    log_error(r->owner, "%s %s: the plugin's function is not loaded in this thread", r->method, r->path);
    return http_error(r, 500, "plugin_error", "the plugin %s is not available", r->owner);
  }
  const char *plugin = s->slots[b->slot].name;
  char key[CACHE_KEY_MAX];
  size_t key_len = 0;
  uint64_t gen = 0;
  int cacheable = b->opts && cache_key(r, b->opts, key, &key_len);
  if (cacheable) {
    if (cache_serve(r, s, plugin, b->opts, key, key_len)) return r->status;
    gen = page_cache_gen(plugin);
  }
  const char *powner = NULL;
  char pmode[8];
  if (!cacheable && b->opts && s->slots[b->slot].private_owner && lh_opt_text(b->opts, "pcache", pmode, sizeof pmode) &&
      private_key(r, pmode, key, &key_len)) {
    powner = s->slots[b->slot].private_owner;
    if (private_serve(r, s, powner, b->opts, key, key_len)) return r->status;
    gen = page_cache_gen(powner);
  }
  s->cache_until = 0;
  struct route_arg a = { .s = s, .b = b, .r = r };
  char err[700];
  s->ctype[0] = 0;
  lh_upload_begin(r, b->opts);
  int rc = lh_run(s, b->slot, r, route_tramp, &a, err, sizeof err);
  s->req = NULL;
  lh_upload_done(r);
  if (rc == LH_VETO && r->status >= 400) return r->status;  /* the bus set up the 422 */
  if (rc != 0 || a.bad[0]) {
    cJSON_Delete(a.json);
    free(a.text);
    log_error(plugin, "%s %s failed: %s", rt->method, rt->pattern, rc ? err : a.bad);
    return http_error(r, 500, "plugin_error", "the plugin %s could not answer this request; the server log says why",
                      plugin);
  }
  r->sandboxed = 1;       /* pages and files too: a plugin's document never acts as the agent who opens it */
  if (a.replied) {
    if (cacheable) cache_keep(r, plugin, gen, key, key_len);
    else if (powner) cache_keep_blob(r, powner, gen, key, key_len, 1, s->cache_until);
    return r->status;
  }
  if (a.json) http_reply_json(r, a.status, a.json);
  else if (a.text) http_reply_body(r, a.status, "text/plain; charset=utf-8", a.text, a.text_len);
  else http_reply_empty(r, a.status);
  if (a.has_ctype && (a.json || a.text)) r->out_type = s->ctype;  /* per thread: valid until its next request */
  if (cacheable) cache_keep(r, plugin, gen, key, key_len);
  else if (powner) cache_keep_blob(r, powner, gen, key, key_len, 1, s->cache_until);
  return a.status;
}
