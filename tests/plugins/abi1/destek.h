/* tests/plugins/abi1/destek.h — the plugin header as ABI 1 was first published, kept unchanged: tests/plugins/capi.c
 * is built against it too (capi_abi1.so) to prove that a plugin built for the first ABI-1 host still loads and
 * works with every later ABI-1 host. Never edit it.
 *
 * destek.h — the one header a Destek plugin needs.
 *
 * A plugin exports one `const struct destek_plugin destek_plugin` (for a .so in <data>/plugins/) or is listed in
 * the built-in registry. Its init() receives a `struct destek_host`, a table of functions that only grows at the
 * end: a plugin built against an older header keeps working as long as DESTEK_PLUGIN_ABI is the same, and the
 * host refuses one whose ABI number differs.
 *
 * Work happens in a call: an HTTP request, a job run, a timer firing or an event delivery. Each call is a
 * `struct destek_req`; what it writes (through host->exec/tx) and the events it emits commit together when it ends
 * well, or not at all.
 *
 * Memory: functions named *_new hand ownership to the caller; cJSON arguments documented as "taken" are freed by
 * the host; everything else is borrowed. */
#ifndef DESTEK_H
#define DESTEK_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DESTEK_PLUGIN_ABI 1

/* Who may call a route (struct destek_route.access). Any other string names an API-token scope: a token holding
 * that scope (or "admin") may call it, and so may an admin's session. Register scopes with host->scope(). */
#define DESTEK_PUBLIC "public"   /* anyone, no authentication */
#define DESTEK_AGENT  "agent"    /* a signed-in agent or admin, or a token with scope "agent" */
#define DESTEK_ADMIN  "admin"    /* a signed-in admin, or a token with scope "admin" */

struct destek_req;   /* one call (HTTP request, job, timer, event delivery); opaque */
struct destek_host;

/* Returns the HTTP status of the response it set up with the host's reply functions. */
typedef int (*destek_handler)(struct destek_req *req);

struct destek_route {
  const char *method;       /* "GET", "POST", "PATCH", "PUT", "DELETE" */
  const char *pattern;      /* "/api/v1/users/{id}": a {name} matches one path segment */
  destek_handler handler;
  const char *access;       /* required: DESTEK_PUBLIC, DESTEK_AGENT, DESTEK_ADMIN or a scope name */
  const char *params;       /* validators for path parameters, "id:int name:text"; NULL when there are none */
  size_t max_body;          /* largest request body in bytes; 0 for the server's default (1 MiB) */
};

/* One migration step: name "NNN_description.sql" (NNN orders and versions it), sql the statements. */
struct destek_migration {
  const char *name;
  const char *sql;
};

enum destek_setting_type { DESTEK_SETTING_STRING = 1, DESTEK_SETTING_INT, DESTEK_SETTING_BOOL };

/* A setting the plugin reads; admins change it through PATCH /api/v1/settings. */
struct destek_setting {
  const char *name;                  /* "<plugin>.<what>", e.g. "mail.smtp_url" */
  enum destek_setting_type type;
  const char *default_value;         /* as text ("", "30", "true"); NULL for none */
  int secret;                        /* never shown by GET /api/v1/settings */
  const char *description;           /* for admins, English */
};

/* An event as subscribers see it. */
struct destek_event {
  int64_t id;                        /* position in the outbox; increases */
  const char *name;                  /* "ticket.created" */
  const char *subject;               /* what it is about, e.g. "ticket:42": delivery is in order per subject */
  const cJSON *payload;              /* a JSON object */
  int attempt;                       /* 1 on the first delivery */
};

/* Sync subscribers run inside the emitting call's transaction and may veto: return non-zero and write a message
 * for the person into err. Async subscribers run after commit, at least once, in order per subject: return 0
 * when done, non-zero (with err) to be retried with backoff and, after the retry limit, dead-lettered. */
typedef int (*destek_event_fn)(struct destek_req *call, const struct destek_event *ev, void *ud, char *err,
                               size_t errlen);
enum { DESTEK_SYNC = 1, DESTEK_ASYNC = 2 };

/* A periodic job or a one-shot timer. Return 0 to commit what the call wrote, non-zero to roll it back (a timer
 * that fails is retried later). key and payload belong to the timer as scheduled. */
typedef int (*destek_job_fn)(struct destek_req *call, void *ud);
typedef int (*destek_timer_fn)(struct destek_req *call, const char *key, const cJSON *payload, void *ud);

enum destek_log_level { DESTEK_LOG_DEBUG, DESTEK_LOG_INFO, DESTEK_LOG_WARN, DESTEK_LOG_ERROR };

struct destek_plugin {
  int abi;                                   /* DESTEK_PLUGIN_ABI: checked before anything else */
  size_t size;                               /* sizeof(struct destek_plugin) */
  const char *name;                          /* lower case, [a-z0-9_]; tables are prefixed with it */
  const char *version;
  const struct destek_route *routes;         /* ends with a zeroed entry; may be NULL */
  const struct destek_migration *migrations; /* ends with a zeroed entry; may be NULL */
  int (*init)(const struct destek_host *host);  /* 0 on success; may be NULL */
  void (*fini)(void);                        /* may be NULL */
};

struct destek_host {
  int abi;                                   /* DESTEK_PLUGIN_ABI of the host */
  size_t size;                               /* sizeof(struct destek_host): newer hosts have more functions */
  const char *plugin;                        /* the plugin this table was given to */

  /* --- logging --- */
  void (*log)(const struct destek_host *h, enum destek_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

  /* --- registration, from init() --- */
  int (*routes)(const struct destek_host *h, const struct destek_route *routes);
  int (*on)(const struct destek_host *h, const char *event, int mode, destek_event_fn fn, void *ud);
  int (*every)(const struct destek_host *h, const char *job, int seconds, destek_job_fn fn, void *ud);
  /* Handles the one-shot timers of a kind ("<plugin>.<kind>") that calls schedule with timer_at. */
  int (*timers)(const struct destek_host *h, const char *kind, destek_timer_fn fn, void *ud);
  int (*settings)(const struct destek_host *h, const struct destek_setting *settings); /* ends with a zeroed entry */
  int (*scope)(const struct destek_host *h, const char *scope);

  /* --- within a call --- */
  /* Emits an event in the call's transaction; sync subscribers run now. Returns 0, or the HTTP status of the error
   * it set up on the call when a subscriber vetoed (return it from a handler). payload is taken. */
  int (*emit)(struct destek_req *call, const char *event, const char *subject, cJSON *payload);
  /* Schedules (or moves, for the same kind and key) a one-shot timer, kept across restarts. payload is taken. */
  int (*timer_at)(struct destek_req *call, const char *kind, const char *key, int64_t due_unix, cJSON *payload);
  int (*timer_cancel)(struct destek_req *call, const char *kind, const char *key);
  /* A setting's current value as text (the default when unset); caller frees. NULL for an unknown name. */
  char *(*setting_new)(const char *name);
  /* Runs a policy by name (Lua plugins define them with destek.policy). args is borrowed; the result array of
   * the policy's return values is the caller's (NULL when no policy of that name exists). */
  cJSON *(*decide_new)(struct destek_req *call, const char *policy, const cJSON *args);

  /* --- SQL: bound parameters only. types: 't' text, 'i' int64_t, 'd' double, 'n' NULL (no argument) --- */
  /* Rows as an array of objects keyed by column name (caller frees), or NULL on error (logged). Reads see the
   * call's own uncommitted writes. */
  cJSON *(*query_new)(struct destek_req *call, const char *sql, const char *types, ...);
  /* Runs a statement in the call's transaction (begun on first use). Returns 0, 1 for a constraint violation,
   * -1 for another error (logged). *last_id (may be NULL) gets the last inserted rowid. */
  int (*exec)(struct destek_req *call, int64_t *last_id, const char *sql, const char *types, ...);

  /* --- HTTP requests: reading --- */
  const char *(*param)(struct destek_req *req, const char *name);
  int64_t (*param_int)(struct destek_req *req, const char *name);
  int (*query_get)(struct destek_req *req, const char *name, char *buf, size_t buflen);
  const char *(*header)(struct destek_req *req, const char *name);
  /* The body as a JSON object: 0 and *out (borrowed), or the error status it set up (400/413/415). */
  int (*body)(struct destek_req *req, cJSON **out);
  /* The caller: user id (0 when anonymous), role ("admin", "agent" or ""), e-mail, language ("tr"/"en"). */
  int64_t (*user_id)(struct destek_req *req);
  const char *(*user_role)(struct destek_req *req);
  const char *(*user_email)(struct destek_req *req);
  const char *(*lang)(struct destek_req *req);

  /* --- HTTP requests: responding; each returns the status --- */
  int (*reply_json)(struct destek_req *req, int status, cJSON *body);   /* body taken */
  int (*reply_body)(struct destek_req *req, int status, const char *type, const void *body, size_t len); /* copied */
  int (*error)(struct destek_req *req, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
  int (*field_error)(struct destek_req *req, const char *code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
  void (*add_header)(struct destek_req *req, const char *name, const char *value);

  /* The data directory (attachments and other files a plugin keeps live under it). */
  const char *(*data_dir)(void);

  /* Functions added after ABI 1 was published go here, at the end. */
};

/* A .so plugin defines this symbol. */
extern const struct destek_plugin destek_plugin;

#ifdef __cplusplus
}
#endif
#endif
