/* The embedded web UI: static files with ETag and pre-compressed gzip; the app's pages all serve index.html. */
#ifndef DESTEK_ASSETS_H
#define DESTEK_ASSETS_H

struct destek_req;

/* Serves r->path from the embedded UI if it names a file or an app page. Returns the status it set up, or 0 when
 * the path is not the UI's (the caller answers 404). */
int assets_serve(struct destek_req *r);

#endif
