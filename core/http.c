/* HTTP: starts CivetWeb, routes each request to a declared handler after authentication, access and CSRF checks,
 * runs it inside its transaction when it writes, and writes the response in one place. */
#include "http.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <civetweb.h>

#include "assets.h"
#include "auth.h"
#include "bus.h"
#include "db.h"
#include "live.h"
#include "wspub.h"
#include "log.h"
#include "lua_host.h"
#include "metrics.h"
#include "page_cache.h"
#include "util.h"

#define MAX_SEGMENTS 16

struct http_route {
  struct destek_route decl;
  const char *owner;              /* interned: requests keep pointing at it after the table changes */
  int n_segments;
  char *segments[MAX_SEGMENTS];   /* literal text, or "{name}" */
  int is_param[MAX_SEGMENTS];
  int param_is_int[MAX_SEGMENTS];
  int n_literals;
};

static struct mg_context *server;
static struct http_route *routes;
static size_t n_routes, cap_routes;
static pthread_rwlock_t routes_lock = PTHREAD_RWLOCK_INITIALIZER;
/* Held for writing across a reload's whole swap (old routes out, new ones in), for reading by every lookup: a request
 * finds the old set or the new one, never the empty table between them. Writers first, so a busy server cannot keep a
 * reload waiting. */
static pthread_rwlock_t swap_lock;
static pthread_once_t swap_once = PTHREAD_ONCE_INIT;

static void swap_lock_init(void)
{
  pthread_rwlockattr_t a;
  pthread_rwlockattr_init(&a);
  pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
  pthread_rwlock_init(&swap_lock, &a);
  pthread_rwlockattr_destroy(&a);
}

void http_routes_swap_begin(void)
{
  pthread_once(&swap_once, swap_lock_init);
  pthread_rwlock_wrlock(&swap_lock);
}

void http_routes_swap_end(void) { pthread_rwlock_unlock(&swap_lock); }
static size_t default_body_cap = HTTP_BODY_CAP_DEFAULT;
static char base_url[128];
static int server_tls;
static int trust_proxy;

/* img-src allows remote images for one reason: an HTML mail's images, which the agents' app shows in a sandboxed
 * srcdoc frame (no scripts) only after the agent clicks "show images" for that message. A srcdoc frame inherits
 * this policy, so it has to allow them; the frame's own CSP keeps them off until then (plugins/ticketing/web/agent/mailframe.js). */
#define CSP_POLICY \
  "default-src 'self'; script-src 'self'; style-src 'self'; " \
  "img-src 'self' data: blob: https: http:; font-src 'self'; connect-src 'self'; media-src 'self'; object-src 'none'; " \
  "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
/* What a Lua plugin's route answers is a stranger's: a page (or a script a page loads) would otherwise run with the
 * app's origin and act as whichever agent opened it, through the session cookie. The sandbox gives such a document
 * an opaque origin: its scripts run, its forms post, but nothing it does carries the app's cookies or reads its
 * pages. */
#define CSP_SANDBOX \
  "; sandbox allow-scripts allow-forms allow-popups allow-popups-to-escape-sandbox allow-downloads"
static const char SECURITY_HEADERS[] =
  "X-Content-Type-Options: nosniff\r\n"
  "X-Frame-Options: DENY\r\n"
  "Referrer-Policy: same-origin\r\n"
  "Cross-Origin-Opener-Policy: same-origin\r\n"
  "Permissions-Policy: camera=(), microphone=(), geolocation=()\r\n";

const char *http_base_url(void) { return base_url; }
int http_is_tls(void) { return server_tls; }

/* ------------------------------------------------------------------------------------------------ router */

static int split_path(const char *path, char *buf, size_t buflen, char **segs, int max)
{
  size_t n = strlen(path);
  if (n >= buflen) return -1;
  memcpy(buf, path, n + 1);
  int count = 0;
  char *p = buf;
  while (*p == '/') p++;
  while (*p) {
    if (count == max) return -1;
    segs[count++] = p;
    char *slash = strchr(p, '/');
    if (!slash) break;
    *slash = 0;
    p = slash + 1;
  }
  return count;
}

static int param_type_of(const char *params, const char *name, int *is_int)
{
  *is_int = 0;
  if (!params) return 0;
  size_t nlen = strlen(name);
  for (const char *p = params; *p;) {
    while (*p == ' ') p++;
    const char *colon = strchr(p, ':');
    if (!colon) return -1;
    const char *end = colon + strcspn(colon, " ");
    if ((size_t)(colon - p) == nlen && strncmp(p, name, nlen) == 0) {
      if (end - colon - 1 == 3 && strncmp(colon + 1, "int", 3) == 0) { *is_int = 1; return 0; }
      if (end - colon - 1 == 4 && strncmp(colon + 1, "text", 4) == 0) return 0;
      return -1;
    }
    p = end;
  }
  return 0;
}

int http_routes_add(const char *owner, const struct destek_route *table)
{
  int rc = 0;
  pthread_rwlock_wrlock(&routes_lock);
  for (const struct destek_route *d = table; d && d->method; d++) {
    if (!d->pattern || d->pattern[0] != '/' || !d->handler) {
      log_error("http", "%s: route %s %s is incomplete: refused", owner, d->method, d->pattern ? d->pattern : "?");
      rc = -1;
      continue;
    }
    if (!d->access || !*d->access) {
      log_error("http", "%s: route %s %s declares no access level: refused", owner, d->method, d->pattern);
      rc = -1;
      continue;
    }
    struct http_route rt = { .decl = *d };
    rt.owner = util_intern(owner);
    char buf[512];
    char *segs[MAX_SEGMENTS];
    int n = split_path(d->pattern, buf, sizeof buf, segs, MAX_SEGMENTS);
    if (n < 0) { log_error("http", "%s: route %s is too long: refused", owner, d->pattern); rc = -1; continue; }
    int bad = 0;
    for (int i = 0; i < n; i++) {
      size_t len = strlen(segs[i]);
      rt.segments[i] = util_strdup(segs[i]);
      if (len > 2 && segs[i][0] == '{' && segs[i][len - 1] == '}') {
        rt.is_param[i] = 1;
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(len - 2), segs[i] + 1);
        if (param_type_of(d->params, name, &rt.param_is_int[i]) != 0) bad = 1;
      } else {
        rt.n_literals++;
      }
    }
    rt.n_segments = n;
    for (size_t i = 0; i < n_routes && !bad; i++)
      if (strcmp(routes[i].decl.method, d->method) == 0 && strcmp(routes[i].decl.pattern, d->pattern) == 0) bad = 2;
    if (bad) {
      log_error("http", "%s: route %s %s %s: refused", owner, d->method, d->pattern,
                bad == 2 ? "is already registered" : "has a bad parameter validator");
      for (int i = 0; i < n; i++) free(rt.segments[i]);
      rc = -1;
      continue;
    }
    if (n_routes == cap_routes) {
      cap_routes = cap_routes ? 2 * cap_routes : 64;
      routes = realloc(routes, cap_routes * sizeof *routes);
      if (!routes) abort();
    }
    routes[n_routes++] = rt;
  }
  pthread_rwlock_unlock(&routes_lock);
  return rc;
}

/* Finds the route for method+path. Returns it with params filled, or NULL; *path_known tells whether another
 * method would have matched (405), with their names in allow. */
static const struct http_route *route_match(struct destek_req *r, int *path_known, char *allow, size_t allowlen)
{
  char buf[2048];
  char *segs[MAX_SEGMENTS];
  *path_known = 0;
  allow[0] = 0;
  int n = split_path(r->path, buf, sizeof buf, segs, MAX_SEGMENTS);
  if (n < 0) return NULL;
  const struct http_route *best = NULL;
  int best_literals = -1;
  const char *method = strcmp(r->method, "HEAD") == 0 ? "GET" : r->method;
  for (size_t i = 0; i < n_routes; i++) {
    const struct http_route *rt = &routes[i];
    if (rt->n_segments != n) continue;
    int ok = 1;
    for (int s = 0; s < n && ok; s++) {
      if (rt->is_param[s]) {
        if (!*segs[s]) ok = 0;
      } else if (strcmp(rt->segments[s], segs[s]) != 0) {
        ok = 0;
      }
    }
    if (!ok) continue;
    if (strcmp(rt->decl.method, method) != 0) {
      *path_known = 1;
      if (!strstr(allow, rt->decl.method)) {
        size_t l = strlen(allow);
        snprintf(allow + l, allowlen - l, "%s%s", l ? ", " : "", rt->decl.method);
      }
      continue;
    }
    if (rt->n_literals > best_literals) { best = rt; best_literals = rt->n_literals; }
  }
  if (!best) return NULL;
  r->n_params = 0;
  for (int s = 0; s < n && r->n_params < HTTP_MAX_PARAMS; s++) {
    if (!best->is_param[s]) continue;
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)strlen(best->segments[s]) - 2, best->segments[s] + 1);
    r->param_names[r->n_params] = util_intern(name);
    r->param_values[r->n_params++] = util_strdup(segs[s]);
  }
  return best;
}

static int params_valid(struct destek_req *r, const struct http_route *rt)
{
  int k = 0;
  for (int s = 0; s < rt->n_segments; s++) {
    if (!rt->is_param[s]) continue;
    const char *v = r->param_values[k++];
    if (rt->param_is_int[s]) {
      if (!*v || strlen(v) > 18) return 0;
      for (const char *p = v; *p; p++) if (!isdigit((unsigned char)*p)) return 0;
    }
  }
  return 1;
}

const char *http_param(struct destek_req *r, const char *name)
{
  for (int i = 0; i < r->n_params; i++)
    if (!strcmp(r->param_names[i], name)) return r->param_values[i];
  return NULL;
}

int64_t http_param_int(struct destek_req *r, const char *name)
{
  const char *v = http_param(r, name);
  return v ? strtoll(v, NULL, 10) : 0;
}

static int hexval(int c)
{
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Decodes the first name=value of the query. An encoded NUL or control character becomes 0x7f rather than ending
 * the string early, so that every validator refuses the value instead of seeing a harmless prefix. */
int http_query_get(struct destek_req *r, const char *name, char *buf, size_t buflen)
{
  if (!r->query || buflen == 0) return 0;
  size_t nlen = strlen(name);
  for (const char *p = r->query; p && *p;) {
    const char *end = strchr(p, '&');
    size_t seglen = end ? (size_t)(end - p) : strlen(p);
    if (seglen >= nlen && !strncmp(p, name, nlen) && (seglen == nlen || p[nlen] == '=')) {
      const char *v = seglen == nlen ? p + nlen : p + nlen + 1, *vend = p + seglen;
      size_t o = 0;
      while (v < vend && o + 1 < buflen) {
        int c = (unsigned char)*v;
        if (c == '+') { c = ' '; v++; }
        else if (c == '%' && vend - v >= 3 && hexval(v[1]) >= 0 && hexval(v[2]) >= 0) { c = hexval(v[1]) * 16 + hexval(v[2]); v += 3; }
        else v++;
        buf[o++] = (char)(c < 0x20 ? 0x7f : c);
      }
      buf[o] = 0;
      return 1;
    }
    p = end ? end + 1 : NULL;
  }
  return 0;
}

const char *http_header(struct destek_req *r, const char *name) { return mg_get_header(r->conn, name); }

const char *http_lang_of_header(const char *al)
{
  /* RFC 9110 12.5.4: the languages in order of their q (ties: as listed); the first that is Turkish or English wins.
   * A tag is matched by its primary subtag ("tr-TR", "en-GB"); "*" or q=0 is no choice. */
  const char *best = NULL;
  double best_q = 0;
  for (const char *p = al; p && *p; p += *p == ',') {
    while (*p == ' ' || *p == '\t') p++;
    size_t n = strcspn(p, ",");   /* one element: "tag" or "tag;q=0.8" */
    const char *tag = p, *end = p + n;
    double q = 1;
    const char *semi = memchr(p, ';', n);
    if (semi) {
      const char *qp = strstr(semi, "q=");
      if (qp && qp < end) q = strtod(qp + 2, NULL);
    }
    size_t primary = strcspn(tag, "-;, \t");
    const char *lang = primary == 2 && !strncasecmp(tag, "tr", 2) ? "tr"
                     : primary == 2 && !strncasecmp(tag, "en", 2) ? "en" : NULL;
    if (lang && q > best_q) { best = lang; best_q = q; }
    p = end;
  }
  return best ? best : "en";
}

const char *http_lang(struct destek_req *r)
{
  if (r && r->who.lang[0]) return r->who.lang;
  return http_lang_of_header(r && r->conn ? http_header(r, "Accept-Language") : NULL);
}

/* ------------------------------------------------------------------------------------------------ responses */

static void set_out(struct destek_req *r, int status)
{
  cJSON_Delete(r->out_json);
  r->out_json = NULL;
  free(r->out_body);
  r->out_body = NULL;
  r->out_static = NULL;
  r->out_len = 0;
  r->status = status;
}

int http_reply_json(struct destek_req *r, int status, cJSON *body)
{
  set_out(r, status);
  r->out_json = body;
  r->out_type = "application/json; charset=utf-8";
  return status;
}

int http_reply_body(struct destek_req *r, int status, const char *type, char *body, size_t len)
{
  set_out(r, status);
  r->out_body = body;
  r->out_len = len;
  r->out_type = type;
  return status;
}

int http_reply_static(struct destek_req *r, int status, const char *type, const void *data, size_t len)
{
  set_out(r, status);
  r->out_static = data;
  r->out_len = len;
  r->out_type = type;
  return status;
}

int http_reply_empty(struct destek_req *r, int status)
{
  set_out(r, status);
  r->out_type = NULL;
  return status;
}

static int error_with(struct destek_req *r, int status, const char *code, const char *field, const char *fmt,
                      va_list ap)
{
  char msg[512];
  vsnprintf(msg, sizeof msg, fmt, ap);
  cJSON *root = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(root, "error");
  cJSON_AddStringToObject(e, "code", code);
  cJSON_AddStringToObject(e, "message", msg);
  if (field) cJSON_AddStringToObject(e, "field", field);
  return http_reply_json(r, status, root);
}

int http_error(struct destek_req *r, int status, const char *code, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  error_with(r, status, code, NULL, fmt, ap);
  va_end(ap);
  return status;
}

int http_field_error(struct destek_req *r, const char *code, const char *field, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  error_with(r, 422, code, field, fmt, ap);
  va_end(ap);
  return 422;
}

void http_add_header(struct destek_req *r, const char *name, const char *value)
{
  if (strpbrk(name, "\r\n") || strpbrk(value, "\r\n")) return;
  size_t room = sizeof r->out_headers - r->out_headers_len;
  int n = snprintf(r->out_headers + r->out_headers_len, room, "%s: %s\r\n", name, value);
  if (n > 0 && (size_t)n < room) r->out_headers_len += (size_t)n;
  else log_error("http", "response header %s dropped: too many headers", name);
}

/* ------------------------------------------------------------------------------------------------ plugins' headers */

/* Headers that frame the response or the connection: written by send_response alone. */
static const char *const FRAMING_HEADERS[] = {
  "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te", "trailer", "proxy-connection", NULL
};
/* SECURITY_HEADERS and HSTS, and Clear-Site-Data (which would remove the server's cookies). */
static const char *const SECURITY_HEADER_NAMES[] = {
  "content-security-policy", "x-content-type-options", "x-frame-options", "referrer-policy",
  "cross-origin-opener-policy", "permissions-policy", "strict-transport-security", "clear-site-data", NULL
};
static const char *const COOKIE_ATTRIBUTES[] = { "expires", "max-age", "path", "secure", "httponly", "samesite", NULL };

static int listed(const char *const *list, const char *name, size_t n)
{
  for (; *list; list++)
    if (strlen(*list) == n && !strncasecmp(*list, name, n)) return 1;
  return 0;
}

/* RFC 9110 token characters (header and cookie names). */
static int token_char(int c) { return c > 0x20 && c < 0x7f && !strchr("\"(),/:;<=>?@[\\]{}", c); }

/* RFC 6265 cookie-octet: no spaces, quotes, commas, semicolons or backslashes. Also what keeps a value from reading
 * as another cookie to a parser that splits at spaces, as CivetWeb's mg_get_cookie does. */
static int cookie_octet(int c) { return c > 0x20 && c < 0x7f && c != '"' && c != ',' && c != ';' && c != '\\'; }

static int plugin_cookie(const struct destek_req *r, const char *plugin, const char *value, char *out, size_t outlen,
                         char *why, size_t whylen)
{
  const char *eq = strchr(value, '=');
  size_t plen = strlen(plugin), nlen = eq ? (size_t)(eq - value) : 0;
  int named = eq && nlen > plen + 1 && !strncmp(value, plugin, plen) && value[plen] == '_' &&
              strncasecmp(value, "destek_", 7) != 0;
  for (size_t i = 0; named && i < nlen; i++) named = token_char((unsigned char)value[i]);
  if (!named) {
    snprintf(why, whylen, "the header Set-Cookie sets the cookie %.*s, which is not the plugin's: a plugin's route"
             " sets only cookies named %s_<name> (never the server's destek_*)", (int)(eq ? nlen : strcspn(value, ";")),
             value, plugin);
    return -1;
  }
  const char *v = eq + 1, *vend = v + strcspn(v, ";");
  while (vend > v && vend[-1] == ' ') vend--;
  const char *inner = v, *inner_end = vend;
  if (vend - v >= 2 && *v == '"' && vend[-1] == '"') inner++, inner_end--;
  for (const char *c = inner; c < inner_end; c++) {
    if (!cookie_octet((unsigned char)*c)) {
      snprintf(why, whylen, "the header Set-Cookie sets the cookie %.*s to a value with a character a cookie may not"
               " hold (a space, quote, comma, semicolon or backslash)", (int)nlen, value);
      return -1;
    }
  }
  int path = 0, httponly = 0, samesite = 0, secure = 0;
  for (const char *a = strchr(v, ';'); a; a = strchr(a, ';')) {
    a++;
    while (*a == ' ') a++;
    size_t an = strcspn(a, "=;");
    while (an > 0 && a[an - 1] == ' ') an--;
    if (an == 6 && !strncasecmp(a, "domain", 6)) {
      snprintf(why, whylen, "the header Set-Cookie gives the cookie %.*s a Domain: a plugin's cookies are for this"
               " host alone", (int)nlen, value);
      return -1;
    }
    if (an == 0 && !a[strcspn(a, ";")]) break;   /* a trailing ";" */
    if (!listed(COOKIE_ATTRIBUTES, a, an)) {
      snprintf(why, whylen, "the header Set-Cookie gives the cookie %.*s the attribute %.*s: a plugin's cookie may have"
               " Expires, Max-Age, Path, Secure, HttpOnly and SameSite", (int)nlen, value, (int)an, a);
      return -1;
    }
    path |= an == 4 && !strncasecmp(a, "path", 4);
    httponly |= an == 8 && !strncasecmp(a, "httponly", 8);
    samesite |= an == 8 && !strncasecmp(a, "samesite", 8);
    secure |= an == 6 && !strncasecmp(a, "secure", 6);
  }
  int n = snprintf(out, outlen, "%s%s%s%s%s", value, path ? "" : "; Path=/", httponly ? "" : "; HttpOnly",
                   samesite ? "" : "; SameSite=Lax", secure || !r->tls ? "" : "; Secure");
  if (n < 0 || (size_t)n >= outlen) {
    snprintf(why, whylen, "the header Set-Cookie is too long");
    return -1;
  }
  return 0;
}

int http_plugin_header(const struct destek_req *r, const char *plugin, const char *name, const char *value, char *out,
                       size_t outlen, char *why, size_t whylen)
{
  size_t n = strlen(name);
  int ok = n > 0 && n <= 100;
  for (size_t i = 0; ok && i < n; i++) ok = token_char((unsigned char)name[i]);
  for (const char *c = value; ok && *c; c++) ok = (unsigned char)*c >= 0x20 || *c == '\t';
  if (!ok || (size_t)snprintf(out, outlen, "%s", value) >= outlen) {
    snprintf(why, whylen, "the header %.100s is malformed or too long", name);
    return -1;
  }
  if (listed(FRAMING_HEADERS, name, n)) {
    snprintf(why, whylen, "the header %s frames the response, which only the server does: a plugin's route may not set"
             " Content-Length, Transfer-Encoding, Connection, Keep-Alive, Upgrade, TE or Trailer", name);
    return -1;
  }
  if (listed(SECURITY_HEADER_NAMES, name, n)) {
    snprintf(why, whylen, "the header %s is one of the server's security headers, which a plugin's route may not set,"
             " change or remove (Content-Security-Policy, X-Content-Type-Options, X-Frame-Options, Referrer-Policy,"
             " Cross-Origin-Opener-Policy, Permissions-Policy, Strict-Transport-Security, Clear-Site-Data)", name);
    return -1;
  }
  if (!strcasecmp(name, "set-cookie")) return plugin_cookie(r, plugin, value, out, outlen, why, whylen);
  return 0;
}

static const char *reason_phrase(int status)
{
  switch (status) {
  case 200: return "OK"; case 201: return "Created"; case 204: return "No Content";
  case 304: return "Not Modified"; case 400: return "Bad Request"; case 401: return "Unauthorized";
  case 403: return "Forbidden"; case 404: return "Not Found"; case 405: return "Method Not Allowed";
  case 409: return "Conflict"; case 413: return "Payload Too Large"; case 415: return "Unsupported Media Type";
  case 422: return "Unprocessable Entity"; case 426: return "Upgrade Required"; case 429: return "Too Many Requests";
  case 500: return "Internal Server Error"; case 503: return "Service Unavailable";
  default: return status < 400 ? "OK" : "Error";
  }
}

/* Sends status line, headers and body with as few writes as possible (Nagle is off: each write is a packet). */
static void send_response(struct destek_req *r)
{
  char *json_text = NULL;
  const void *body = r->out_static ? r->out_static : r->out_body;
  size_t len = r->out_len;
  if (r->out_json) {
    json_text = cJSON_PrintUnformatted(r->out_json);
    if (!json_text) abort();
    len = strlen(json_text);
    body = json_text;
  }
  int no_body = r->status == 204 || r->status == 304;
  if (no_body) len = 0;
  const char *conn_hdr = "keep-alive";
  const struct mg_request_info *ri = mg_get_request_info(r->conn);
  const char *ka = mg_get_header(r->conn, "Connection");
  if (r->close_after || (ka && strcasecmp(ka, "close") == 0) ||
      (ri->http_version && strcmp(ri->http_version, "1.0") == 0 && !(ka && strcasecmp(ka, "keep-alive") == 0))) {
    conn_hdr = "close";
    mg_disable_keep_alive(r->conn);
  }
  char head[4096];
  int n = snprintf(head, sizeof head,
                   "HTTP/1.1 %d %s\r\nContent-Security-Policy: " CSP_POLICY "%s\r\n%s%s%s%s%s%s%s"
                   "Content-Length: %zu\r\nConnection: %s\r\n%.*s\r\n",
                   r->status, reason_phrase(r->status), r->sandboxed ? CSP_SANDBOX : "", SECURITY_HEADERS,
                   r->tls ? "Strict-Transport-Security: max-age=31536000\r\n" : "",
                   r->out_type && !no_body ? "Content-Type: " : "", r->out_type && !no_body ? r->out_type : "",
                   r->out_type && !no_body ? "\r\n" : "",
                   (r->route.method || r->out_json) && !strstr(r->out_headers, "Cache-Control") ? "Cache-Control: no-store\r\n"
                                                                                         : "",
                   "", len, conn_hdr, (int)r->out_headers_len, r->out_headers);
  if (n < 0 || (size_t)n >= sizeof head) n = 0;  /* cannot happen: out_headers is bounded */
  int head_only = strcmp(r->method, "HEAD") == 0 || no_body;
  if (!head_only && len > 0 && (size_t)n + len <= 16384) {
    char buf[16384];
    memcpy(buf, head, (size_t)n);
    memcpy(buf + n, body, len);
    mg_write(r->conn, buf, (size_t)n + len);
  } else {
    mg_write(r->conn, head, (size_t)n);
    if (!head_only && len > 0) mg_write(r->conn, body, len);
  }
  if (json_text) cJSON_free(json_text);
}

/* ------------------------------------------------------------------------------------------------ body memory */

/* A burst of large posts must not take more memory than a small server has: 64 posts of 16 MiB of JSON once took
 * 2 GB. A body larger than BODY_FREE is read only once its cost is reserved from a process-wide budget (--body-memory):
 * BODY_COST times its Content-Length (the text and the parsed JSON's copies of its strings are both alive while it
 * is parsed; files are decoded in place), or times the route's cap when no length is given. When the budget is
 * spent the request waits up to BODY_WAIT_SECONDS for others to finish — at most BODY_WAITERS_MAX wait, so that
 * uploads cannot hold every worker thread — and is otherwise answered 503 with Retry-After, before any of it is
 * kept (body_drain). Smaller bodies are not counted: the worker threads bound them (64 x 64 KiB). */
#define BODY_FREE (64 * 1024)
#define BODY_COST 2
#define BODY_WAIT_SECONDS 10
#define BODY_WAITERS_MAX 4
#define BODY_DRAINERS_MAX 8
#define BODY_DRAIN_SECONDS 10

static size_t body_budget = HTTP_BODY_MEMORY_DEFAULT, body_held, body_peak;
static int body_waiters, body_drainers;
static unsigned long long body_refused;
static pthread_mutex_t body_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t body_cond = PTHREAD_COND_INITIALIZER;

/* Reserves want bytes of the budget for r (held until body_release or the end of the request). 0, or -1 when the
 * budget stayed spent (or too many already wait). */
static int body_reserve(struct destek_req *r, size_t want)
{
  if (want > body_budget) want = body_budget;   /* the largest body a route takes can always be read alone */
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += BODY_WAIT_SECONDS;
  int rc = 0;
  pthread_mutex_lock(&body_lock);
  if (body_held + want > body_budget) {
    if (body_waiters >= BODY_WAITERS_MAX) {
      rc = -1;
    } else {
      body_waiters++;
      while (body_held + want > body_budget)
        if (pthread_cond_timedwait(&body_cond, &body_lock, &until) != 0 && body_held + want > body_budget) {
          rc = -1;
          break;
        }
      body_waiters--;
    }
  }
  if (rc == 0) {
    body_held += want;
    r->body_reserved += want;
    if (body_held > body_peak) body_peak = body_held;
  } else {
    body_refused++;
  }
  pthread_mutex_unlock(&body_lock);
  return rc;
}

void http_body_stats(size_t *held, size_t *peak, size_t *budget, unsigned long long *refused)
{
  pthread_mutex_lock(&body_lock);
  *held = body_held;
  *peak = body_peak;
  *budget = body_budget;
  *refused = body_refused;
  pthread_mutex_unlock(&body_lock);
}

/* Gives n bytes of r's reservation back (all of it when n is larger). */
static void body_release(struct destek_req *r, size_t n)
{
  if (n > r->body_reserved) n = r->body_reserved;
  if (!n) return;
  pthread_mutex_lock(&body_lock);
  body_held -= n;
  r->body_reserved -= n;
  pthread_cond_broadcast(&body_cond);
  pthread_mutex_unlock(&body_lock);
}

/* Reads and throws away a body of length bytes that will not be kept, so that the client, still sending it, gets the
 * answer: a connection closed with data unread is reset, and the client then sees only that, not the 503 and its
 * Retry-After. Reading it holds a worker thread but no memory; at most BODY_DRAINERS_MAX threads do it at once, each
 * for at most BODY_DRAIN_SECONDS. 1 when all of it was read (the connection can stay open), 0 otherwise. */
static int body_drain(struct destek_req *r, long long length)
{
  pthread_mutex_lock(&body_lock);
  int may = body_drainers < BODY_DRAINERS_MAX;
  if (may) body_drainers++;
  pthread_mutex_unlock(&body_lock);
  if (!may) return 0;
  char buf[16384];
  double until = util_mono() + BODY_DRAIN_SECONDS;
  while (length > 0 && util_mono() < until) {
    int got = mg_read(r->conn, buf, length < (long long)sizeof buf ? (size_t)length : sizeof buf);
    if (got <= 0) break;
    length -= got;
  }
  pthread_mutex_lock(&body_lock);
  body_drainers--;
  pthread_mutex_unlock(&body_lock);
  return length == 0;
}

/* ------------------------------------------------------------------------------------------------ request body */

static int read_body(struct destek_req *r)
{
  if (r->body_read) return 0;
  r->body_read = 1;
  size_t body_cap = r->route.max_body ? r->route.max_body : default_body_cap;
  const struct mg_request_info *ri = mg_get_request_info(r->conn);
  if (ri->content_length > 0 && (size_t)ri->content_length > body_cap) {
    r->close_after = 1;
    return http_error(r, 413, "body_too_large", "the request body is larger than %zu bytes", body_cap);
  }
  size_t expected = ri->content_length >= 0 ? (size_t)ri->content_length : body_cap;
  if (expected > BODY_FREE && body_reserve(r, expected * BODY_COST) != 0) {
    if (ri->content_length < 0 || !body_drain(r, ri->content_length)) r->close_after = 1;
    char secs[16];
    snprintf(secs, sizeof secs, "%d", BODY_WAIT_SECONDS);
    http_add_header(r, "Retry-After", secs);
    log_warn("http", "%s %s from %s: refused a body of %zu bytes, %zu of %zu bytes of body memory are in use",
             r->method, r->path, r->ip, expected, body_held, body_budget);
    return http_error(r, 503, "server_busy", "the server is receiving too many large requests; try again in %s"
                      " seconds", secs);
  }
  size_t cap = ri->content_length >= 0 ? (size_t)ri->content_length : 65536, len = 0;
  char *buf = malloc(cap + 1);
  if (!buf) abort();
  for (;;) {
    if (len == cap) {
      if (ri->content_length >= 0) break;
      if (cap > body_cap) {
        free(buf);
        r->close_after = 1;
        return http_error(r, 413, "body_too_large", "the request body is larger than %zu bytes", body_cap);
      }
      cap *= 2;
      buf = realloc(buf, cap + 1);
      if (!buf) abort();
    }
    int got = mg_read(r->conn, buf + len, cap - len);
    if (got <= 0) break;
    len += (size_t)got;
  }
  if (len > body_cap) {
    free(buf);
    r->close_after = 1;
    return http_error(r, 413, "body_too_large", "the request body is larger than %zu bytes", body_cap);
  }
  buf[len] = 0;
  r->body = buf;
  r->body_len = len;
  return 0;
}

int http_body_raw(struct destek_req *r, const char **data, size_t *len)
{
  *data = "";
  *len = 0;
  if (!r->conn) return 0;
  int rc = read_body(r);
  if (rc) return rc;
  if (r->body) { *data = r->body; *len = r->body_len; }
  return 0;
}

int http_body_object(struct destek_req *r, cJSON **out)
{
  *out = NULL;
  if (r->json) { *out = r->json; return 0; }
  int rc = read_body(r);
  if (rc) return rc;
  const char *ct = mg_get_header(r->conn, "Content-Type");
  if (r->body_len > 0 && ct && strncasecmp(ct, "application/json", 16) != 0)
    return http_error(r, 415, "unsupported_media_type", "send the body as application/json");
  if (r->body_len == 0) return http_error(r, 400, "bad_json", "the request needs a JSON object body");
  const char *end = NULL;
  r->json = cJSON_ParseWithOpts(r->body, &end, 1);
  if (!r->json) return http_error(r, 400, "bad_json", "the body is not valid JSON (near byte %ld)",
                                  end ? (long)(end - r->body) : 0L);
  if (!cJSON_IsObject(r->json)) return http_error(r, 400, "bad_json", "the body must be a JSON object");
  *out = r->json;
  return 0;
}

void http_body_text_drop(struct destek_req *r)
{
  if (!r->json || !r->body) return;
  free(r->body);
  r->body = NULL;
  body_release(r, r->body_len);
}

/* ------------------------------------------------------------------------------------------------ fields */

static char *trim_dup(const char *s)
{
  while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') s++;
  size_t n = strlen(s);
  while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r')) n--;
  char *d = malloc(n + 1);
  if (!d) abort();
  memcpy(d, s, n);
  d[n] = 0;
  return d;
}

int http_field_str(struct destek_req *r, const cJSON *obj, const char *name, int required, size_t maxlen,
                   const char **out)
{
  *out = NULL;
  cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
  if (!it || cJSON_IsNull(it)) {
    if (required) return http_field_error(r, "missing_field", name, "%s is required", name);
    return 0;
  }
  if (!cJSON_IsString(it)) return http_field_error(r, "invalid_field", name, "%s must be a string", name);
  char *v = trim_dup(it->valuestring);
  size_t len = strlen(v);
  if (len == 0 && required) { free(v); return http_field_error(r, "missing_field", name, "%s is required", name); }
  if (len > maxlen) { free(v); return http_field_error(r, "invalid_field", name, "%s is longer than %zu bytes", name, maxlen); }
  if (!util_utf8_valid(v, len)) { free(v); return http_field_error(r, "invalid_field", name, "%s is not valid text", name); }
  /* The trimmed copy is kept alive by the parsed body it replaces. */
  cJSON_SetValuestring(it, v);
  free(v);
  *out = it->valuestring;
  return 0;
}

int http_field_enum(struct destek_req *r, const cJSON *obj, const char *name, int required,
                    const char *const *choices, const char **out)
{
  int rc = http_field_str(r, obj, name, required, 64, out);
  if (rc || !*out) return rc;
  for (const char *const *c = choices; *c; c++)
    if (strcmp(*c, *out) == 0) return 0;
  char list[256] = "";
  for (const char *const *c = choices; *c; c++) {
    size_t l = strlen(list);
    snprintf(list + l, sizeof list - l, "%s%s", l ? ", " : "", *c);
  }
  *out = NULL;
  return http_field_error(r, "invalid_field", name, "%s must be one of: %s", name, list);
}

int http_field_bool(struct destek_req *r, const cJSON *obj, const char *name, int required, int *out)
{
  *out = -1;
  cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
  if (!it || cJSON_IsNull(it)) {
    if (required) return http_field_error(r, "missing_field", name, "%s is required", name);
    return 0;
  }
  if (!cJSON_IsBool(it)) return http_field_error(r, "invalid_field", name, "%s must be true or false", name);
  *out = cJSON_IsTrue(it);
  return 0;
}

int http_field_email(struct destek_req *r, const cJSON *obj, const char *name, int required, char out[256])
{
  out[0] = 0;
  const char *v;
  int rc = http_field_str(r, obj, name, required, 254, &v);
  if (rc || !v) return rc;
  const char *at = strchr(v, '@');
  int ok = at && at != v && at[1] && !strchr(at + 1, '@') && strchr(at + 1, '.') && at[strlen(at) - 1] != '.';
  for (const char *p = v; ok && *p; p++)
    if ((unsigned char)*p <= ' ' || *p == '<' || *p == '>' || *p == '"' || *p == ',' || *p == ';') ok = 0;
  if (!ok) return http_field_error(r, "invalid_field", name, "%s is not an e-mail address", name);
  size_t i = 0;
  for (; v[i] && i < 255; i++) out[i] = (char)tolower((unsigned char)v[i]);
  out[i] = 0;
  return 0;
}

int http_json_id(const cJSON *v, int64_t *out)
{
  return util_json_id(v, out);
}

/* ------------------------------------------------------------------------------------------------ lists */

int http_page(struct destek_req *r, int *limit, int64_t *after_id)
{
  char buf[128];
  *limit = 50;
  *after_id = 0;
  if (http_query_get(r, "limit", buf, sizeof buf)) {
    char *end;
    long v = strtol(buf, &end, 10);
    if (!*buf || *end || v < 1 || v > 200)
      return http_field_error(r, "invalid_field", "limit", "limit must be a whole number from 1 to 200");
    *limit = (int)v;
  }
  if (http_query_get(r, "cursor", buf, sizeof buf) && *buf) {
    char raw[64];
    long n = util_b64url_decode(buf, raw, sizeof raw - 1);
    char *end;
    if (n > 2) {
      raw[n] = 0;
      long long v = strtoll(raw + 2, &end, 10);
      if (strncmp(raw, "i:", 2) == 0 && !*end && v > 0) { *after_id = v; return 0; }
    }
    return http_field_error(r, "invalid_field", "cursor", "cursor is not one this server gave out");
  }
  return 0;
}

cJSON *http_list_new(cJSON *items, int64_t next_after)
{
  cJSON *o = cJSON_CreateObject();
  cJSON_AddItemToObject(o, "items", items);
  if (next_after > 0) {
    char raw[32], enc[48];
    int n = snprintf(raw, sizeof raw, "i:%lld", (long long)next_after);
    util_b64url_encode(raw, (size_t)n, enc);
    cJSON_AddStringToObject(o, "next_cursor", enc);
  } else {
    cJSON_AddNullToObject(o, "next_cursor");
  }
  return o;
}

/* ------------------------------------------------------------------------------------------------ storage */

struct db *http_tx(struct destek_req *r)
{
  if (r->tx) return r->tx;
  struct db *w = db_tx_begin();
  if (!w) {
    http_error(r, 503, "db_busy", "the database is busy; try again");
    return NULL;
  }
  r->tx = w;
  return w;
}

struct db *http_db(struct destek_req *r) { return r->tx ? r->tx : db_reader(); }

/* Commits (when commit) or rolls back the call's transaction. Returns 0 when committed or nothing was open. */
static int finish_tx(struct destek_req *r, int commit)
{
  /* Pages dropped when the call changed what they show are dropped again now that the change is in (or was taken
   * back): a worker that read the data before the commit cannot keep its page (page_cache.c). */
  const char *clear = r->cache_clear;
  r->cache_clear = NULL;
  if (r->read_snapshot) {
    r->read_snapshot = 0;
    db_reader_snapshot_end();
  }
  if (!r->tx) {
    live_discard(r);
    if (clear) page_cache_clear(clear);
    return 0;
  }
  /* The call's frames wait for its batch's COMMIT, which publishes them still holding the writer, so that frames
   * follow commit order (live_stage; a rolled-back batch drops them). */
  if (commit) live_stage(r);
  else live_discard(r);
  int rc = db_tx_end(r->tx, commit);
  r->tx = NULL;
  if (clear) page_cache_clear(clear);
  if (rc == 0 && r->emitted) bus_wake();
  return rc;
}

int http_commit(struct destek_req *r)
{
  if (finish_tx(r, 1) == 0) return 0;
  log_error("http", "commit failed for %s %s", r->method, r->path);
  return http_error(r, 503, "db_busy", "the change could not be saved; try again");
}

/* ------------------------------------------------------------------------------------------------ dispatch */

const struct destek_route *http_matched_route(struct destek_req *r) { return r->route.method ? &r->route : NULL; }

void http_routes_remove_owner(const char *owner)
{
  pthread_rwlock_wrlock(&routes_lock);
  size_t keep = 0;
  for (size_t i = 0; i < n_routes; i++) {
    if (strcmp(routes[i].owner, owner) == 0) {
      for (int s = 0; s < routes[i].n_segments; s++) free(routes[i].segments[s]);
    } else {
      routes[keep++] = routes[i];
    }
  }
  n_routes = keep;
  pthread_rwlock_unlock(&routes_lock);
}

static void req_free(struct destek_req *r);

void call_begin(struct destek_req *c, const char *owner)
{
  memset(c, 0, sizeof *c);
  c->owner = owner ? owner : "core";
  c->method = "CALL";
  c->path = "";
  c->status = 200;
  c->started = util_mono();
  snprintf(c->ip, sizeof c->ip, "local");
}

int call_end(struct destek_req *c, int ok)
{
  int rc = finish_tx(c, ok);
  req_free(c);
  memset(c, 0, sizeof *c);
  return ok ? rc : -1;
}

static void req_free(struct destek_req *r)
{
  body_release(r, r->body_reserved);
  live_discard(r);
  for (int i = 0; i < r->n_params; i++) free(r->param_values[i]);
  free(r->body);
  cJSON_Delete(r->json);
  cJSON_Delete(r->out_json);
  free(r->out_body);
  free(r->who.scopes);
}

static int is_safe_method(const char *m) { return !strcmp(m, "GET") || !strcmp(m, "HEAD") || !strcmp(m, "OPTIONS"); }

int http_route_find(struct destek_req *r, int *path_known, char *allow, size_t allowlen)
{
  pthread_once(&swap_once, swap_lock_init);
  pthread_rwlock_rdlock(&swap_lock);
  pthread_rwlock_rdlock(&routes_lock);
  const struct http_route *rt = route_match(r, path_known, allow, allowlen);
  int valid = rt && params_valid(r, rt);
  /* Copied while the table is locked: a reload may change the table while this request runs. */
  if (rt) { r->route = rt->decl; r->owner = rt->owner; }
  pthread_rwlock_unlock(&routes_lock);
  pthread_rwlock_unlock(&swap_lock);
  return !rt ? 0 : valid ? 1 : -1;
}

static int dispatch(struct destek_req *r)
{
  int path_known;
  char allow[128];
  int found = http_route_find(r, &path_known, allow, sizeof allow);
  if (!found) {
    if (!path_known && (!strcmp(r->method, "GET") || !strcmp(r->method, "HEAD"))) {
      int st = assets_serve(r);
      if (st) return st;
    }
    if (path_known) {
      http_add_header(r, "Allow", allow);
      return http_error(r, 405, "method_not_allowed", "%s is not allowed here; use %s", r->method, allow);
    }
    return http_error(r, 404, "not_found", "no such page or API route");
  }
  if (found < 0) return http_error(r, 404, "not_found", "no such resource");
  const char *access = r->route.access;
  int rc = auth_identify(r, strcmp(access, DESTEK_PUBLIC) == 0);
  if (rc) return rc;
  if (strcmp(access, DESTEK_PUBLIC) != 0) {
    if (r->who.via == AUTH_NONE) return http_error(r, 401, "unauthenticated", "sign in or send an API token");
    if (!auth_allows(&r->who, access))
      return http_error(r, 403, "forbidden", "you are not allowed to do this");
  }
  if (r->who.via == AUTH_COOKIE && !is_safe_method(r->method) && !auth_csrf_ok(r)) {
    /* A module's public route, or a public page of the core's (the unsubscribe page's button: a form posted without
     * JavaScript and so without the header), runs for an anonymous caller instead: it needs no one signed in, and a
     * cross-site post gets no more than a stranger would. The core's public JSON API (log-in, setup) still refuses. */
    if (strcmp(access, DESTEK_PUBLIC) != 0 || (!strcmp(r->owner, "core") && !strncmp(r->route.pattern, "/api/", 5)))
      return http_error(r, 403, "csrf_failed", "missing or wrong X-CSRF-Token header; reload the page");
    free(r->who.scopes);
    memset(&r->who, 0, sizeof r->who);
  }
  int status = r->route.handler(r);
  if (status != r->status) {
    /* A handler must set up the response it returns: a mismatch is a bug in the handler. */
    log_error("http", "%s handler for %s %s returned %d without a response", r->owner, r->route.method,
              r->route.pattern, status);
    http_error(r, 500, "internal", "internal error");
  }
  return r->status;
}

/* Behind a reverse proxy on the same machine, the client is the last address the proxy added to X-Forwarded-For,
 * and X-Forwarded-Proto tells whether the client used HTTPS. Only a loopback peer is believed. */
static void from_proxy(struct destek_req *r)
{
  if (strcmp(r->ip, "127.0.0.1") != 0 && strcmp(r->ip, "::1") != 0) return;
  const char *xff = mg_get_header(r->conn, "X-Forwarded-For");
  if (xff && *xff) {
    const char *last = strrchr(xff, ',');
    last = last ? last + 1 : xff;
    while (*last == ' ') last++;
    char ip[48];
    size_t n = strcspn(last, " ");
    if (n > 0 && n < sizeof ip) {
      memcpy(ip, last, n);
      ip[n] = 0;
      if (strspn(ip, "0123456789abcdefABCDEF.:") == n) snprintf(r->ip, sizeof r->ip, "%s", ip);
    }
  }
  const char *proto = mg_get_header(r->conn, "X-Forwarded-Proto");
  if (proto && !strcasecmp(proto, "https")) r->tls = 1;
}

/* A request's start: what CivetWeb parsed, before proxy headers are looked at. */
static void req_from_conn(struct destek_req *r, struct mg_connection *conn)
{
  const struct mg_request_info *ri = mg_get_request_info(conn);
  memset(r, 0, sizeof *r);
  r->conn = conn;
  r->owner = "core";
  r->started = util_mono();
  r->method = ri->request_method;
  r->path = ri->local_uri ? ri->local_uri : "/";
  r->query = ri->query_string;
  r->tls = ri->is_ssl;
  snprintf(r->ip, sizeof r->ip, "%s", ri->remote_addr);
}

static int handle_request(struct mg_connection *conn, void *cbdata)
{
  (void)cbdata;
  struct destek_req r;
  req_from_conn(&r, conn);
  if (trust_proxy) from_proxy(&r);
  r.status = 500;

  dispatch(&r);
  if (finish_tx(&r, r.status < 400) != 0 && r.status < 400) {
    log_error("http", "commit failed for %s %s", r.method, r.path);
    http_error(&r, 503, "db_busy", "the change could not be saved; try again");
  }
  send_response(&r);

  double secs = util_mono() - r.started;
  const char *route_name = r.route.method ? r.route.pattern : (r.out_static ? "static" : "unmatched");
  metrics_record(r.method, route_name, r.status, secs);
  log_info("http", "%s %s %d %.2fms route=%s ip=%s%s%s", r.method, r.path, r.status, secs * 1000.0, route_name,
           r.ip, r.who.email[0] ? " user=" : "", r.who.email);
  int status = r.status;
  req_free(&r);
  return status;
}

/* ------------------------------------------------------------------------------------------------ websockets */

static int is_loopback(const char *ip) { return !strcmp(ip, "127.0.0.1") || !strcmp(ip, "::1"); }

/* host[:port] with the scheme's default port left out, lower-cased, into out. */
static void host_norm(const char *host, size_t n, int https, char *out, size_t outlen)
{
  if (n >= outlen) n = outlen - 1;
  for (size_t i = 0; i < n; i++) out[i] = (char)tolower((unsigned char)host[i]);
  out[n] = 0;
  const char *dflt = https ? ":443" : ":80";
  size_t dl = strlen(dflt);
  if (n > dl && !strcmp(out + n - dl, dflt) && out[n - dl - 1] != ':') out[n - dl] = 0;
}

/* Cross-site websocket hijacking: a page elsewhere may open a socket here, and the browser would send the
 * session cookie with it. Browsers always send Origin on a websocket handshake, so it must name this host. */
static int origin_matches(struct destek_req *r, const char *origin, int proxied)
{
  int https;
  if (!strncasecmp(origin, "https://", 8)) { https = 1; origin += 8; }
  else if (!strncasecmp(origin, "http://", 7)) { https = 0; origin += 7; }
  else return 0;
  const char *host = NULL;
  if (proxied) host = mg_get_header(r->conn, "X-Forwarded-Host");
  if (!host || !*host) host = mg_get_header(r->conn, "Host");
  if (!host || !*host) return 0;
  size_t hn = strcspn(host, ", ");
  size_t on = strcspn(origin, "/");
  if (origin[on] == '/' && origin[on + 1]) return 0;  /* an Origin has no path */
  char a[256], b[256];
  host_norm(origin, on, https, a, sizeof a);
  host_norm(host, hn, https, b, sizeof b);
  return a[0] && !strcmp(a, b);
}

static int upgrade_checks(struct destek_req *r, const char *access, int proxied)
{
  if (strcmp(r->method, "GET") != 0) return http_error(r, 405, "method_not_allowed", "a websocket opens with GET");
  const char *origin = mg_get_header(r->conn, "Origin");
  if (origin && !origin_matches(r, origin, proxied))
    return http_error(r, 403, "origin_refused", "live updates are only for pages served by this server");
  int rc = auth_identify(r, 0);
  if (rc) return rc;
  if (r->who.via == AUTH_NONE) return http_error(r, 401, "unauthenticated", "sign in or send an API token");
  if (!auth_allows(&r->who, access)) return http_error(r, 403, "forbidden", "you are not allowed to do this");
  if (!origin && r->who.via != AUTH_BEARER)
    return http_error(r, 403, "origin_refused", "a browser's websocket must say where its page came from (Origin)");
  return 0;
}

/* public: no identification, Origin and credentials are admit's (a module's public websocket, wspub.c). */
static int upgrade(struct mg_connection *conn, const char *pattern, const char *access, int public,
                   int (*admit)(struct destek_req *r, void *ud), void *ud)
{
  struct destek_req r;
  req_from_conn(&r, conn);
  int proxied = trust_proxy && is_loopback(r.ip);
  if (trust_proxy) from_proxy(&r);
  r.route = (struct destek_route){ "GET", pattern, NULL, access, NULL, 0 };
  r.status = 101;
  int status = public ? (strcmp(r.method, "GET") ? http_error(&r, 405, "method_not_allowed", "a websocket opens with GET") : 0)
                      : upgrade_checks(&r, access, proxied);
  if (!status) status = admit(&r, ud);
  finish_tx(&r, 0);
  if (status) {
    r.close_after = 1;
    send_response(&r);
  }
  double secs = util_mono() - r.started;
  metrics_record(r.method, pattern, status ? r.status : 101, secs);
  log_info("http", "%s %s %d %.2fms route=%s ip=%s%s%s", r.method, r.path, status ? r.status : 101, secs * 1000.0,
           pattern, r.ip, r.who.email[0] ? " user=" : "", r.who.email);
  req_free(&r);
  return status;
}

int http_upgrade_admit(struct mg_connection *conn, const char *pattern, const char *access,
                       int (*admit)(struct destek_req *r, void *ud), void *ud)
{
  return upgrade(conn, pattern, access, 0, admit, ud);
}

int http_upgrade_public(struct mg_connection *conn, const char *pattern,
                        int (*admit)(struct destek_req *r, void *ud), void *ud)
{
  return upgrade(conn, pattern, DESTEK_PUBLIC, 1, admit, ud);
}

static void thread_exit(const struct mg_context *ctx, int thread_type, void *thread_pointer)
{
  (void)ctx; (void)thread_type; (void)thread_pointer;
  lua_host_thread_release();
  db_reader_release();
}

static int log_civetweb(const struct mg_connection *conn, const char *message)
{
  (void)conn;
  log_warn("civetweb", "%s", message);
  return 1;
}

/* CivetWeb's own error answers, for a request no route of ours saw. A websocket upgrade to a path with no websocket
 * handler gets CivetWeb's 404 without its status line and headers (mg_response_header_start refuses a connection
 * marked as a websocket; civetweb.c, mg_send_http_error_impl): a client reads it as HTTP/0.9 or a closed connection.
 * Such an upgrade is answered here in full, as the API answers errors ({"error": {code, message}}), and the
 * connection closed after it. 0 when answered; 1 leaves every other error to CivetWeb's default. */
static int civetweb_error(struct mg_connection *conn, int status, const char *msg)
{
  (void)msg;
  const char *up = mg_get_header(conn, "Upgrade");
  if (!up || !strcasestr(up, "websocket") || status < 400 || status > 599) return 1;
  const char *code = status == 404 ? "not_found" : status == 403 ? "forbidden" : status == 400 ? "bad_request"
                   : status >= 500 ? "internal" : "error";
  cJSON *o = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(o, "error");
  cJSON_AddStringToObject(e, "code", code);
  cJSON_AddStringToObject(e, "message", status == 404 ? "no websocket at this path" : reason_phrase(status));
  char *body = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  if (!body) abort();
  mg_disable_keep_alive(conn);
  mg_printf(conn, "HTTP/1.1 %d %s\r\nContent-Security-Policy: " CSP_POLICY "\r\n%s"
                  "Content-Type: application/json; charset=utf-8\r\nCache-Control: no-store\r\nContent-Length: %zu\r\n"
                  "Connection: close\r\n\r\n%s",
            status, reason_phrase(status), SECURITY_HEADERS, strlen(body), body);
  cJSON_free(body);
  return 0;
}

/* Splits "host:port" / "[v6]:port" / "port". host gets "" for all interfaces. */
static int parse_listen(const char *listen, char *host, size_t hostlen, int *port)
{
  const char *colon = strrchr(listen, ':');
  const char *p = colon ? colon + 1 : listen;
  char *end;
  long v = strtol(p, &end, 10);
  if (!*p || *end || v < 0 || v > 65535) return -1;
  *port = (int)v;
  host[0] = 0;
  if (colon) {
    size_t n = (size_t)(colon - listen);
    if (n && listen[0] == '[') {
      if (listen[n - 1] != ']' || n - 2 >= hostlen) return -1;
      memcpy(host, listen + 1, n - 2);
      host[n - 2] = 0;
    } else {
      if (n >= hostlen) return -1;
      memcpy(host, listen, n);
      host[n] = 0;
    }
  }
  return 0;
}

int http_start(const struct http_config *cfg, char *err, size_t errlen)
{
  char host[64];
  int port;
  if (parse_listen(cfg->listen, host, sizeof host, &port) != 0) {
    snprintf(err, errlen, "bad --listen address '%s' (expected HOST:PORT, e.g. 127.0.0.1:8080)", cfg->listen);
    return -1;
  }
  int is_v6 = strchr(host, ':') != NULL;
  server_tls = cfg->tls_cert != NULL;
  char ports[128];
  if (!host[0] || !strcmp(host, "0.0.0.0")) snprintf(ports, sizeof ports, "%d%s", port, server_tls ? "s" : "");
  else if (is_v6) snprintf(ports, sizeof ports, "[%s]:%d%s", host, port, server_tls ? "s" : "");
  else snprintf(ports, sizeof ports, "%s:%d%s", host, port, server_tls ? "s" : "");
  if (!strcmp(host, "::")) snprintf(ports, sizeof ports, "+%d%s", port, server_tls ? "s" : "");
  if (cfg->body_cap) default_body_cap = cfg->body_cap;
  if (cfg->body_memory) body_budget = cfg->body_memory;
  trust_proxy = cfg->trust_proxy;
  char threads[16];
  snprintf(threads, sizeof threads, "%d", cfg->threads > 0 ? cfg->threads : 32);
  int streams = cfg->streams > 0 ? cfg->streams : 0;
  const char *opts[40];
  int n = 0;
  opts[n++] = "listening_ports";        opts[n++] = ports;
  opts[n++] = "num_threads";            opts[n++] = threads;
  opts[n++] = "tcp_nodelay";            opts[n++] = "1";
  opts[n++] = "request_timeout_ms";     opts[n++] = "15000";
  opts[n++] = "keep_alive_timeout_ms";  opts[n++] = "10000";
  opts[n++] = "enable_keep_alive";      opts[n++] = "yes";
  opts[n++] = "enable_directory_listing"; opts[n++] = "no";
  opts[n++] = "max_request_size";       opts[n++] = "16384";
  /* A socket silent this long is pinged; one that leaves MG_MAX_UNANSWERED_PING pings unanswered is closed. */
  opts[n++] = "websocket_timeout_ms";   opts[n++] = "20000";
  opts[n++] = "enable_websocket_ping_pong"; opts[n++] = "yes";
  opts[n++] = "linger_timeout_ms";      opts[n++] = "500";
  /* CivetWeb would answer every CORS preflight itself with "Access-Control-Allow-Origin: *" before a route sees it;
   * off, an OPTIONS request reaches the router, and a module that serves other origins (the chat widget's) answers
   * its preflights with the origins it allows. */
  opts[n++] = "access_control_allow_methods"; opts[n++] = "";
  opts[n++] = "access_control_allow_origin";  opts[n++] = "";
  if (server_tls) {
    opts[n++] = "ssl_certificate";      opts[n++] = cfg->tls_cert;
    opts[n++] = "ssl_protocol_version"; opts[n++] = "4";   /* TLS 1.2 and newer */
  }
  opts[n] = NULL;
  struct mg_callbacks cb = { .exit_thread = thread_exit, .log_message = log_civetweb, .http_error = civetweb_error };
  mg_init_library(server_tls ? MG_FEATURES_TLS : 0);
  struct mg_init_data init = { .callbacks = &cb, .configuration_options = opts };
  char cw_err[256] = "";
  struct mg_error_data error = { .text = cw_err, .text_buffer_size = sizeof cw_err };
  server = mg_start2(&init, &error);
  if (!server) {
    snprintf(err, errlen, "cannot listen on %s: %s", cfg->listen, cw_err[0] ? cw_err : "unknown error");
    return -1;
  }
  mg_set_request_handler(server, "/", handle_request, NULL);
  if (streams && live_start(server, streams) != 0) log_error("http", "live updates are off: see the log above");
  wspub_start(server);
  if (port == 0) {  /* the kernel chose one */
    struct mg_server_port sp[4];
    int n_ports = mg_get_server_ports(server, 4, sp);
    if (n_ports > 0) port = sp[0].port;
  }
  const char *shown = host;
  if (!host[0] || !strcmp(host, "0.0.0.0")) shown = "127.0.0.1";
  else if (!strcmp(host, "::")) shown = "::1";
  snprintf(base_url, sizeof base_url, "%s://%s%s%s:%d", server_tls ? "https" : "http", is_v6 ? "[" : "", shown,
           is_v6 ? "]" : "", port);
  return 0;
}

void http_stop(void)
{
  if (server) live_stop();
  if (server) wspub_stop();
  if (server) mg_stop(server);
  server = NULL;
}
