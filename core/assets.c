/* The embedded web UI. */
#include "assets.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "embed.h"
#include "http.h"
#include "log.h"
#include "util.h"

static const struct { const char *ext; const char *type; } types[] = {
  { ".html", "text/html; charset=utf-8" }, { ".js", "text/javascript; charset=utf-8" },
  { ".mjs", "text/javascript; charset=utf-8" }, { ".css", "text/css; charset=utf-8" },
  { ".json", "application/json; charset=utf-8" }, { ".svg", "image/svg+xml" }, { ".png", "image/png" },
  { ".ico", "image/x-icon" }, { ".woff2", "font/woff2" }, { ".txt", "text/plain; charset=utf-8" },
  { ".webmanifest", "application/manifest+json" }, { ".map", "application/json" },
};

static const char *type_of(const char *name)
{
  const char *dot = strrchr(name, '.');
  if (dot)
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
      if (!strcmp(dot, types[i].ext)) return types[i].type;
  return "application/octet-stream";
}

static const struct embed_file *find(const char *name)
{
  for (const struct embed_file *f = embed_web; f->name; f++)
    if (!strcmp(f->name, name)) return f;
  return NULL;
}

/* Pages of the single-page app: the UI's router decides what to show. */
static int is_app_page(const char *path)
{
  static const char *const pages[] = { "/", "/login", "/setup", "/app", NULL };
  for (const char *const *p = pages; *p; p++) if (!strcmp(path, *p)) return 1;
  return strncmp(path, "/app/", 5) == 0;
}

/* Pages of the customer portal (web/portal/, built to portal.html), as the modules register them from their init
 * (ticketing: the web form and a ticket's page). The portal's own router shows the page the address names. Written
 * at start-up, read by every request for a file, hence the read-write lock. */
#define MAX_PORTAL_PAGES 32
static struct portal_page {
  const char *owner;  /* interned */
  char pattern[128];
  int flags;
} portal_pages[MAX_PORTAL_PAGES];
static int n_portal_pages;
static pthread_rwlock_t portal_lock = PTHREAD_RWLOCK_INITIALIZER;

/* 1 when path matches pattern (both start with "/"; {name} takes one non-empty part; one trailing "/" is fine). */
static int page_matches(const char *pattern, const char *path)
{
  const char *p = pattern, *s = path;
  while (*p == '/' && *s == '/') {
    p++, s++;
    size_t plen = strcspn(p, "/"), slen = strcspn(s, "/");
    if (*p == '{' ? slen == 0 : plen != slen || strncmp(p, s, plen) != 0) return 0;
    p += plen, s += slen;
  }
  return !*p && (!*s || (s[0] == '/' && !s[1]));
}

/* The pattern with every {name} as {} (two patterns that differ only in names take the same paths), or -1 when it
 * is malformed (see assets_portal_page). */
static int portal_pattern_key(const char *pattern, char *key, size_t keylen)
{
  static const char *const reserved[] = { "app", "api", "assets", "login", "setup", NULL };
  size_t n = 0;
  const char *p = pattern;
  if (*p != '/') return -1;
  for (int part = 0; *p == '/'; part++) {
    p++;
    size_t len = strcspn(p, "/");
    if (len == 0) return -1;
    if (*p == '{') {
      if (part == 0 || len < 3 || p[len - 1] != '}' || strspn(p + 1, "abcdefghijklmnopqrstuvwxyz_") != len - 2) return -1;
    } else {
      if (strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789_-") != len) return -1;
      for (const char *const *r = reserved; part == 0 && *r; r++)
        if (strlen(*r) == len && !strncmp(p, *r, len)) return -1;
    }
    int w = *p == '{' ? snprintf(key + n, keylen - n, "/{}") : snprintf(key + n, keylen - n, "/%.*s", (int)len, p);
    if (w < 0 || (size_t)w >= keylen - n) return -1;
    n += (size_t)w;
    p += len;
  }
  return *p ? -1 : 0;
}

int assets_portal_page(const char *owner, const char *pattern, int flags)
{
  char key[128], other[128];
  if (!pattern || strlen(pattern) >= sizeof portal_pages[0].pattern ||
      portal_pattern_key(pattern, key, sizeof key) != 0 || (flags & ~ASSETS_NOINDEX)) {
    log_error("assets", "%s: portal page %s is malformed: refused", owner, pattern ? pattern : "(null)");
    return -1;
  }
  int rc = 0, found = 0;
  pthread_rwlock_wrlock(&portal_lock);
  for (int i = 0; i < n_portal_pages && !found; i++) {
    portal_pattern_key(portal_pages[i].pattern, other, sizeof other);
    if (strcmp(key, other) != 0) continue;
    found = 1;
    if (!strcmp(portal_pages[i].owner, owner) && !strcmp(portal_pages[i].pattern, pattern)) {
      portal_pages[i].flags = flags;  /* the same module saying it again (an init run twice) */
    } else {
      log_error("assets", "%s: portal page %s takes the paths of %s's %s: refused", owner, pattern,
                portal_pages[i].owner, portal_pages[i].pattern);
      rc = -1;
    }
  }
  if (!found && n_portal_pages == MAX_PORTAL_PAGES) {
    log_error("assets", "%s: portal page %s: more than %d pages: refused", owner, pattern, MAX_PORTAL_PAGES);
    rc = -1;
  }
  if (!found && rc == 0) {
    struct portal_page *pg = &portal_pages[n_portal_pages++];
    pg->owner = util_intern(owner);
    snprintf(pg->pattern, sizeof pg->pattern, "%s", pattern);
    pg->flags = flags;
  }
  pthread_rwlock_unlock(&portal_lock);
  return rc;
}

void assets_portal_pages_remove_owner(const char *owner)
{
  pthread_rwlock_wrlock(&portal_lock);
  int keep = 0;
  for (int i = 0; i < n_portal_pages; i++)
    if (strcmp(portal_pages[i].owner, owner) != 0) portal_pages[keep++] = portal_pages[i];
  n_portal_pages = keep;
  pthread_rwlock_unlock(&portal_lock);
}

int assets_portal_lookup(const char *path)
{
  int flags = -1;
  pthread_rwlock_rdlock(&portal_lock);
  for (int i = 0; i < n_portal_pages && flags < 0; i++)
    if (page_matches(portal_pages[i].pattern, path)) flags = portal_pages[i].flags;
  pthread_rwlock_unlock(&portal_lock);
  return flags;
}

static int accepts_gzip(struct destek_req *r)
{
  const char *ae = http_header(r, "Accept-Encoding");
  return ae && strstr(ae, "gzip") != NULL;
}

int assets_serve(struct destek_req *r)
{
  int app = is_app_page(r->path);
  int portal = app ? -1 : assets_portal_lookup(r->path);
  const char *name = app ? "index.html" : portal >= 0 ? "portal.html" : r->path + 1;
  if (!*name || strstr(name, "..") || (strlen(name) > 3 && !strcmp(name + strlen(name) - 3, ".gz"))) return 0;
  const struct embed_file *f = find(name);
  if (!f) return 0;
  char gzname[512];
  snprintf(gzname, sizeof gzname, "%s.gz", name);
  const struct embed_file *gz = accepts_gzip(r) ? find(gzname) : NULL;
  char etag[40];
  snprintf(etag, sizeof etag, "\"%s%s\"", f->etag, gz ? "-gz" : "");
  http_add_header(r, "ETag", etag);
  http_add_header(r, "Vary", "Accept-Encoding");
  /* index.html must be revalidated so a new binary's UI is picked up; hashed assets could be cached longer, but
   * revalidation with ETag costs a 304 and keeps upgrades simple. */
  int page = !strcmp(name, "index.html") || !strcmp(name, "portal.html");
  http_add_header(r, "Cache-Control", page ? "no-cache" : "public, max-age=300");
  /* A page registered with ASSETS_NOINDEX (a ticket's page: one customer's conversation) must not be kept by search
   * engines even if a link leaks. */
  if (portal >= 0 && (portal & ASSETS_NOINDEX)) http_add_header(r, "X-Robots-Tag", "noindex, nofollow");
  const char *inm = http_header(r, "If-None-Match");
  if (inm && strstr(inm, etag)) return http_reply_empty(r, 304);
  if (gz) {
    http_add_header(r, "Content-Encoding", "gzip");
    return http_reply_static(r, 200, type_of(name), gz->data, gz->size);
  }
  return http_reply_static(r, 200, type_of(name), f->data, f->size);
}
