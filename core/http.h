/* HTTP: CivetWeb underneath, a router of declared routes above, one place that writes responses. */
#ifndef DESTEK_HTTP_H
#define DESTEK_HTTP_H
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "destek.h"

struct mg_connection;
struct db;
struct live_batch;

#define HTTP_MAX_PARAMS 8
#define HTTP_BODY_CAP_DEFAULT (1024 * 1024)
/* The memory request bodies may hold at once (http.c, "body memory"); --body-memory changes it. */
#define HTTP_BODY_MEMORY_DEFAULT ((size_t)128 << 20)

enum auth_via { AUTH_NONE, AUTH_COOKIE, AUTH_BEARER, AUTH_CONTROL };

/* Who is calling; filled by the auth module before access is checked. */
struct auth_who {
  enum auth_via via;
  int64_t user_id;
  char role[8];             /* "admin" / "agent" for users; "" when anonymous */
  char email[256];
  char name[256];
  char lang[4];
  int64_t session_id;
  int64_t token_id;
  char *scopes;             /* token scopes as a JSON array string; owned by the request */
  char csrf[48];
};

/* One call: an HTTP request, or (conn == NULL) a job, timer or event delivery run by the bus thread. */
struct destek_req {
  struct mg_connection *conn;
  const char *owner;              /* the plugin whose code runs ("core" by default), for logs and SQL limits */
  const char *service_caller;     /* while a service runs: the plugin that called it (consent.c records who asked) */
  int emitted;                    /* events were written: wake the bus after commit */
  const char *method;
  const char *path;               /* decoded, without the query string */
  const char *query;              /* raw query string or NULL */
  struct destek_route route;      /* copy of the matched declaration; route.method is NULL when none matched */
  int n_params;
  const char *param_names[HTTP_MAX_PARAMS];
  char *param_values[HTTP_MAX_PARAMS];   /* owned */
  char ip[48];
  int tls;
  double started;

  char *body;                     /* owned; NUL-terminated; NULL once dropped (http_body_text_drop) */
  size_t body_len;
  int body_read;
  size_t body_reserved;           /* bytes of the body memory budget this request holds */
  cJSON *json;                    /* parsed body, owned */

  struct auth_who who;

  struct db *tx;                  /* the writer, while this request's transaction is open */
  struct live_batch *live;        /* events to stream once the transaction commits (live.c); owned */

  /* response, sent by the core after the handler returns */
  int status;
  cJSON *out_json;                /* owned */
  char *out_body;                 /* owned (when out_static is NULL) */
  const void *out_static;         /* borrowed (embedded assets) */
  size_t out_len;
  const char *out_type;
  char out_headers[1024];         /* extra "Name: value\r\n" lines */
  size_t out_headers_len;
  int close_after;
  int sandboxed;                  /* a Lua plugin answered: the CSP sandboxes the document (http.c) */
  const char *cache_clear;        /* whose cached pages to drop once the transaction ends (page_cache.c): an interned
                                   * plugin name, "*" for everyone's, NULL for none */
  int read_snapshot;              /* this call began a read transaction on the thread's reader (db_read_snapshot) */
};

struct http_config {
  const char *listen;             /* "127.0.0.1:8080", "[::1]:8080", "0.0.0.0:443" */
  const char *tls_cert, *tls_key; /* both or neither */
  size_t body_cap;
  size_t body_memory;             /* bytes request bodies may hold at once; 0: HTTP_BODY_MEMORY_DEFAULT */
  int threads;                    /* CivetWeb worker threads; each open websocket holds one */
  int streams;                    /* at most this many websockets (GET /api/v1/stream) at once */
  int trust_proxy;                /* take the client address and scheme from X-Forwarded-* of a loopback peer */
};

/* Starts the server. Returns 0, or -1 with err filled (e.g. the port is taken). */
int http_start(const struct http_config *cfg, char *err, size_t errlen);
void http_stop(void);
/* The URL the server listens on, e.g. "http://127.0.0.1:8080" (for messages and the CLI). */
const char *http_base_url(void);
int http_is_tls(void);

/* A websocket upgrade to pattern (live.c), before the handshake: checks it as a request to a route declared with
 * access (the caller is identified; the access level holds), refuses a cross-site Origin (it must name the Host
 * the request went to; only an API token may send none), then asks admit, which may set up an error on r and
 * return its status. A refusal is answered here like any response, and the connection closed. Returns 0 when the
 * handshake may go on, else the status sent. */
int http_upgrade_admit(struct mg_connection *conn, const char *pattern, const char *access,
                       int (*admit)(struct destek_req *r, void *ud), void *ud);
/* The same for a module's public websocket (wspub.c): nobody is identified and no Origin checked here; admit does
 * both. */
int http_upgrade_public(struct mg_connection *conn, const char *pattern,
                        int (*admit)(struct destek_req *r, void *ud), void *ud);

/* Matches r->method and r->path against the route table, as every request is dispatched. Returns 1 when a route
 * matched and its path parameters passed their validators, -1 when one matched but a parameter did not, with
 * r->route, r->owner and the parameters (owned by r) set either way; or 0 when none matched: *path_known then tells
 * whether the path matched for another method (405), and allow (allowlen bytes) names those methods. */
int http_route_find(struct destek_req *r, int *path_known, char *allow, size_t allowlen);
/* Drops every route of owner (a Lua plugin being reloaded). */
void http_routes_remove_owner(const char *owner);
/* Between these, lookups wait: a reload removes and adds routes inside them so no request sees a half-swapped table.
 * Nothing between them may look up a route. */
void http_routes_swap_begin(void);
void http_routes_swap_end(void);
/* The route declaration that matched this request (NULL outside HTTP). */
const struct destek_route *http_matched_route(struct destek_req *r);

/* A call outside HTTP: zeroed, with owner set. call_end commits its transaction when ok (returning 0 when it did),
 * rolls back otherwise, and frees what the call holds. */
void call_begin(struct destek_req *c, const char *owner);
int call_end(struct destek_req *c, int ok);

/* Registers routes (a table ending with a zeroed entry) for owner ("core" or a plugin name). A route without an
 * access declaration, with an unknown parameter validator, or that duplicates another is refused: -1, logged. */
int http_routes_add(const char *owner, const struct destek_route *routes);

/* --- responses: each returns the status, so a handler can end with `return http_error(...)` --- */
int http_reply_json(struct destek_req *r, int status, cJSON *body);               /* takes body (may be NULL) */
int http_reply_body(struct destek_req *r, int status, const char *type, char *body, size_t len); /* takes body */
int http_reply_static(struct destek_req *r, int status, const char *type, const void *data, size_t len);
int http_reply_empty(struct destek_req *r, int status);
int http_error(struct destek_req *r, int status, const char *code, const char *fmt, ...)
  __attribute__((format(printf, 4, 5)));
/* 422 with "field": code is "missing_field" or "invalid_field". */
int http_field_error(struct destek_req *r, const char *code, const char *field, const char *fmt, ...)
  __attribute__((format(printf, 4, 5)));
/* Adds a response header; name and value must not contain CR or LF. */
void http_add_header(struct destek_req *r, const char *name, const char *value);
/* Checks a response header that a route of the Lua plugin plugin returned for r. 0 with the value to send in out (a
 * cookie gets what it lacks of Path=/, HttpOnly, SameSite=Lax and, over HTTPS, Secure), or -1 with why filled (for
 * the log; it names the header): the headers that frame the response and the server's security headers are the
 * server's alone, and a plugin sets only cookies named <plugin>_..., host-only. */
int http_plugin_header(const struct destek_req *r, const char *plugin, const char *name, const char *value, char *out,
                       size_t outlen, char *why, size_t whylen);

/* --- request --- */
const char *http_param(struct destek_req *r, const char *name);
int64_t http_param_int(struct destek_req *r, const char *name);   /* validated by the route's "name:int" */
/* Decoded query parameter into buf; 1 if present, 0 if absent. */
int http_query_get(struct destek_req *r, const char *name, char *buf, size_t buflen);
const char *http_header(struct destek_req *r, const char *name);
/* The language to answer in, "tr" or "en": a signed-in user's; else the first of Turkish and English the request's
 * Accept-Language prefers; else English. _of_header: the same for an Accept-Language value
 * (NULL when absent). */
const char *http_lang(struct destek_req *r);
const char *http_lang_of_header(const char *accept_language);
/* The body as it came: 0 with *data (NUL-terminated, borrowed) and *len, or the error status set up (413). */
int http_body_raw(struct destek_req *r, const char **data, size_t *len);
/* The body parsed as a JSON object. Returns 0 and sets *out (borrowed), or the error status it set up
 * (400 bad_json, 413, 415, 422 when the body is not an object). */
int http_body_object(struct destek_req *r, cJSON **out);
/* The body memory (http.c): bytes reserved now, the most ever reserved at once, the budget, and bodies refused (503). */
void http_body_stats(size_t *held, size_t *peak, size_t *budget, unsigned long long *refused);
/* Frees the raw text of a body already parsed by http_body_object (r->body becomes NULL; r->body_len stays) and gives
 * its share of the body memory back: for a route taking large bodies that reads only the parsed JSON. */
void http_body_text_drop(struct destek_req *r);

/* --- typed fields of a JSON object; each returns 0 or the 422 status it set up --- */
enum { FIELD_OPTIONAL = 0, FIELD_REQUIRED = 1 };
/* A string of 1..maxlen bytes of valid UTF-8 (trimmed of surrounding spaces); *out is NULL when absent. */
int http_field_str(struct destek_req *r, const cJSON *obj, const char *name, int required, size_t maxlen,
                   const char **out);
/* One of choices (a NULL-terminated list). */
int http_field_enum(struct destek_req *r, const cJSON *obj, const char *name, int required,
                    const char *const *choices, const char **out);
/* A boolean; *out is -1 when absent. */
int http_field_bool(struct destek_req *r, const cJSON *obj, const char *name, int required, int *out);
/* An e-mail address (simple syntax check), lower-cased into out[256]. *out is "" when absent. */
int http_field_email(struct destek_req *r, const cJSON *obj, const char *name, int required, char out[256]);
/* Whether v is a JSON number holding an id: a whole number from 1 to 2^53 - 1 (what a double holds exactly). Sets
 * *out when it is. The range is checked before the conversion: casting a double outside int64_t's range (1e300 in a
 * request) is undefined behaviour. */
int http_json_id(const cJSON *v, int64_t *out);

/* --- lists: {"items":[...],"next_cursor":...} --- */
/* Reads ?limit (1..200, default 50) and ?cursor (an opaque id position). 0, or the 422 status it set up. */
int http_page(struct destek_req *r, int *limit, int64_t *after_id);
/* Builds the list object around items (taken); next_after > 0 makes a cursor, 0 gives null. */
cJSON *http_list_new(cJSON *items, int64_t next_after);

/* --- storage within a request --- */
/* The writer, with this request's transaction begun on first call; committed by the core when the handler returns
 * a status below 400, rolled back otherwise. NULL if the transaction cannot begin (the 503 is set up). */
struct db *http_tx(struct destek_req *r);
/* The connection to read with: the writer inside the transaction (to see its own writes), else this thread's reader. */
struct db *http_db(struct destek_req *r);
/* Commits the call's open transaction now (as when the call ends): 0 when committed or none was open, else the
 * 503 db_busy set up on the call. */
int http_commit(struct destek_req *r);

#endif
