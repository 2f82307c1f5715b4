/* The embedded web UI. */
#include "assets.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "embed.h"
#include "http.h"

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

/* Pages of the customer portal (web/portal/, built to portal.html): the web form and a ticket's page, which reads
 * the ticket through the signed public API (a bad link shows the portal's "not found"). */
static int is_portal_page(const char *path)
{
  if (!strcmp(path, "/contact") || !strcmp(path, "/contact/")) return 1;
  return strncmp(path, "/t/", 3) == 0 && path[3] && !strchr(path + 3, '/');
}

static int accepts_gzip(struct destek_req *r)
{
  const char *ae = http_header(r, "Accept-Encoding");
  return ae && strstr(ae, "gzip") != NULL;
}

int assets_serve(struct destek_req *r)
{
  int portal = is_portal_page(r->path);
  const char *name = is_app_page(r->path) ? "index.html" : portal ? "portal.html" : r->path + 1;
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
  /* A ticket's page is one customer's conversation: search engines must not keep it even if a link leaks. */
  if (portal && r->path[1] == 't') http_add_header(r, "X-Robots-Tag", "noindex, nofollow");
  const char *inm = http_header(r, "If-None-Match");
  if (inm && strstr(inm, etag)) return http_reply_empty(r, 304);
  if (gz) {
    http_add_header(r, "Content-Encoding", "gzip");
    return http_reply_static(r, 200, type_of(name), gz->data, gz->size);
  }
  return http_reply_static(r, 200, type_of(name), f->data, f->size);
}
