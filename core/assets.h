/* The embedded web UI: static files with ETag and pre-compressed gzip; the app's pages all serve index.html, the
 * customer portal's pages (registered by the modules) portal.html. */
#ifndef DESTEK_ASSETS_H
#define DESTEK_ASSETS_H

struct destek_req;

/* Serves r->path from the embedded UI if it names a file or an app page. Returns the status it set up, or 0 when
 * the path is not the UI's (the caller answers 404). */
int assets_serve(struct destek_req *r);

#define ASSETS_NOINDEX 1  /* a portal page search engines must not keep (X-Robots-Tag: noindex, nofollow) */

/* Makes the server answer paths matching pattern with the customer portal's page, for owner (a plugin's name):
 * "/contact", "/t/{number}" — literal parts of a-z, 0-9, _ and -, {name} one non-empty part, the first part
 * literal and not one the server keeps (app, api, assets, login, setup); a path may end with one extra "/".
 * flags: 0 or ASSETS_NOINDEX. Returns 0 (also when owner registers the same pattern again), or -1 (logged) for a
 * malformed pattern, one whose paths another registration takes, or a full table. */
int assets_portal_page(const char *owner, const char *pattern, int flags);

/* Forgets owner's portal pages (a plugin that failed to start). */
void assets_portal_pages_remove_owner(const char *owner);

/* The flags of the portal page path names, or -1 when it names none. */
int assets_portal_lookup(const char *path);

#endif
