/* destek.h — the one header a Destek plugin needs.
 *
 * A plugin exports one `const struct destek_plugin destek_plugin` (for a .so in <data>/plugins/) or is listed in
 * the built-in registry. Its init() receives a `struct destek_host`, a table of functions that only grows at the
 * end: a plugin built against an older header keeps working as long as DESTEK_PLUGIN_ABI is the same, and the
 * host refuses one whose ABI number differs.
 *
 * Work happens in a call: an HTTP request, a job run, a timer firing, an event delivery, a service called by another
 * module, a CLI command's work (call_new). Each call is a `struct destek_req`; what it writes (db_write, exec) and
 * the events it emits commit together when it ends well, or not at all.
 *
 * A module reaches the core only through this header: storage through an opaque `struct destek_db` (the core's
 * connection, with its statement cache; SQLite's own sqlite3_step/sqlite3_column_* work on the statements it
 * prepares), and other modules through their services and events. The binary exports exactly this API to .so
 * plugins (the host table, and the sqlite3_* and cJSON_* functions): a plugin that calls anything else of the core
 * is refused at load with the name of the symbol. Pure helpers a module may link are the helper library
 * (destek_jbuf.h, destek_util.h, destek_mail.h).
 *
 * Memory: functions named *_new hand ownership to the caller; cJSON arguments documented as "taken" are freed by
 * the host; everything else is borrowed. Errors follow the handler convention: a function that "sets up" an error
 * on a call returns its HTTP status, and the caller returns it or recovers (error_object reads it). */
#ifndef DESTEK_H
#define DESTEK_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DESTEK_PLUGIN_ABI 1

/* Who may call a route (struct destek_route.access). Any other string names an API-token scope: a token holding
 * that scope (or "admin") may call it, and so may an admin's session. Register scopes with host->scope(). */
#define DESTEK_PUBLIC "public"   /* anyone, no authentication */
#define DESTEK_AGENT  "agent"    /* a signed-in agent or admin, or a token with scope "agent" */
#define DESTEK_ADMIN  "admin"    /* a signed-in admin, or a token with scope "admin" */

struct destek_req;   /* one call (HTTP request, job, timer, event delivery, service, call_new); opaque */
struct destek_host;
struct destek_export;  /* a contact's KVKK export being built (host->export_file); opaque */
struct destek_contact_hooks;
struct destek_db;    /* a connection of the core (the writer, or a thread's reader) with its statement cache; opaque */

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

/* A file of a C module's static/ folder compiled into it by the build (<name>_files[], ending with a zeroed entry):
 * what a module serves as it is, such as the chat widget's script. */
struct destek_file {
  const char *name;   /* path inside static/: "widget.js" */
  const char *data;   /* size bytes, followed by a NUL */
  size_t size;
  const char *etag;   /* 16 hex digits of a content hash */
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
/* Whether an event is one for a subscriber (host->on_when): called as the event is emitted, in the emitting thread,
 * with only the event to look at (no database, no side effects, fast). 0: not for it (no call; for an async
 * subscriber no delivery is queued, so the bus neither stores nor delivers anything for it). */
typedef int (*destek_event_want_fn)(const struct destek_event *ev, void *ud);

/* A periodic job or a one-shot timer. Return 0 to commit what the call wrote, non-zero to roll it back (a timer
 * that fails is retried later). key and payload belong to the timer as scheduled. */
typedef int (*destek_job_fn)(struct destek_req *call, void *ud);
typedef int (*destek_timer_fn)(struct destek_req *call, const char *key, const cJSON *payload, void *ud);

enum destek_log_level { DESTEK_LOG_DEBUG, DESTEK_LOG_INFO, DESTEK_LOG_WARN, DESTEK_LOG_ERROR };

/* The field validators' `required` argument. */
enum { DESTEK_OPTIONAL = 0, DESTEK_REQUIRED = 1 };

/* A CLI command a plugin adds to `destek` (struct destek_plugin.commands). The CLI knows the table without loading
 * the plugin (for `destek help` and usage errors); run is called after the plugin's init, with the store open. */
enum destek_command_where {
  DESTEK_COMMAND_OFFLINE = 1,  /* needs the server stopped: the CLI takes the data directory, opens the store, loads
                                * the plugins and runs it here (`destek demo` fills a desk) */
  DESTEK_COMMAND_SERVER = 2    /* runs in the server that holds the data directory, handed over its control socket;
                                * without a server, here as an OFFLINE one (`destek mail import`) */
};
#define DESTEK_COMMAND_INPUT_MAX (700 * 1024)   /* the most standard input a command can be given */

/* argv: the words after the command's name, without the core's --data DIR. input: standard input (NUL-terminated,
 * input_len bytes) when the command declared input_max, else NULL. Returns the exit code (0 done, 1 failed, 2 a usage
 * error) and may set *message (malloc'd; the core frees it), which the CLI prints: to standard output on 0, else to
 * standard error after "destek: ". It reaches storage with call_new/call_end. */
typedef int (*destek_command_fn)(int argc, const char *const *argv, const char *input, size_t input_len,
                                 char **message);

struct destek_command {
  const char *name;        /* one or two lower-case words, unique across plugins: "demo", "mail import" */
  const char *args;        /* what follows the name in its usage line: "[--force] [--size N]" ("" for nothing) */
  const char *summary;     /* one line for `destek help` */
  const char *help;        /* the text of `destek NAME --help` after the usage line */
  int where;               /* DESTEK_COMMAND_OFFLINE or DESTEK_COMMAND_SERVER */
  size_t input_max;        /* > 0: standard input is read (at most this, <= DESTEK_COMMAND_INPUT_MAX) and given */
  destek_command_fn run;
};

/* A service: a named call a module publishes for other modules (C or Lua), "ticketing.open". It runs inside the
 * caller's call and transaction, as the publishing plugin: args is the caller's JSON object (borrowed). Returns 0
 * and sets *result (a new JSON value the caller frees; NULL reads as {}), or an error status (4xx/5xx) with the
 * error set up on call (host->error), as a handler does. */
typedef int (*destek_service_fn)(struct destek_req *call, const cJSON *args, cJSON **result, void *ud);

/* Live updates (GET /api/v1/stream): what of a streamable event goes to agents' sockets, and which presence
 * subjects a client may watch. summarize adds to frame the few members a client needs to decide whether to refetch
 * (ids, status, actor), never message bodies or customer data; it runs inside the emitting transaction. check
 * answers 1 when a client may watch subject ("ticket:42" exists); it runs on a worker thread and reads with
 * db_read(NULL). */
typedef void (*destek_live_fn)(const struct destek_event *ev, cJSON *frame);

/* The colleague directory (GET /api/v1/directory): a plugin adds its facts about people to a page of it. users is
 * the page's array of {id, name, role, active, online}; fn adds members to those objects (ticketing: "teams"), never
 * personal data the app does not show. Reads with db_read(call). 0, or an error status set up on call. */
typedef int (*destek_directory_fn)(struct destek_req *call, cJSON *users, void *ud);
typedef int (*destek_subject_fn)(const char *subject);

/* An outbound HTTP request (host->http_request). */
struct destek_http_request {
  const char *method;                /* "GET", "POST", ... */
  const char *url;                   /* http:// or https:// */
  const char *const *headers;        /* "Name: value" lines, NULL-terminated; may be NULL */
  const char *body;                  /* may be NULL */
  size_t body_len;
  long timeout_ms;                   /* the whole request; 0 means 10000 */
  size_t max_response;               /* bytes kept of the body; 0 means 1 MiB */
};
struct destek_http_response {
  long status;                       /* the HTTP status; 0 when none arrived */
  char *body;                        /* NUL-terminated; owned (http_response_free) */
  size_t body_len;
  char *headers;                     /* the raw response header lines; owned */
};

struct destek_plugin {
  int abi;                                   /* DESTEK_PLUGIN_ABI: checked before anything else */
  size_t size;                               /* sizeof(struct destek_plugin) */
  const char *name;                          /* lower case, [a-z0-9_]; tables are prefixed with it */
  const char *version;
  const struct destek_route *routes;         /* ends with a zeroed entry; may be NULL */
  const struct destek_migration *migrations; /* ends with a zeroed entry; may be NULL */
  int (*init)(const struct destek_host *host);  /* 0 on success; may be NULL */
  void (*fini)(void);                        /* may be NULL */
  /* Fields added after ABI 1 was published go here, at the end: `size` tells the host which a plugin has. */
  const struct destek_command *commands;     /* CLI commands, ending with a zeroed entry; may be NULL */
};

/* A public websocket a module declares with host->socket_endpoint (core/wspub.c). Every callback runs on a worker
 * thread of the server and gets ud back; sock is the socket's id for socket_send/socket_close (never reused), sock_ud
 * what admit set for it. */
struct destek_socket_ops {
  /* Before the handshake, with r the upgrade request (header, query_get, client_ip, db_read and error work on it):
   * the module checks the Origin and its own credentials. 0 to accept (*sock_ud: the module's state for the socket,
   * may stay NULL), or the error status set up with host->error (the handshake is answered with it). */
  int (*admit)(struct destek_req *r, void **sock_ud, void *ud);
  /* The handshake is done: socket_send reaches the client from now on. May be NULL. */
  void (*opened)(uint64_t sock, void *sock_ud, void *ud);
  /* A text message from the client (not NUL-terminated; at most max_message bytes; at most 60 in 10 s, or the socket
   * is closed with 1008). Runs on the socket's own worker thread: make a call (call_new) to read or write. */
  void (*message)(uint64_t sock, void *sock_ud, const char *data, size_t len, void *ud);
  /* The socket is gone, however it ended: nothing reaches it any more; free sock_ud. */
  void (*closed)(uint64_t sock, void *sock_ud, void *ud);
  void *ud;
  int max_sockets;        /* open at once (each holds a worker thread); more are refused 503 */
  size_t max_message;     /* bytes of a client's message (0: 16 KiB) */
  size_t queue_bytes;     /* bytes waiting to go to one socket before it counts as too slow (0: 64 KiB) */
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
  /* The caller: user id (0 when anonymous), role ("admin", "agent" or ""), e-mail, language ("tr"/"en": a signed-in
   * user's, else the first of the two Accept-Language prefers, else "en"). */
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

  /* Functions added after ABI 1 was published go here, at the end. A plugin that may meet an older host checks
   * DESTEK_HOST_HAS(h, name) before calling one of them. */

  /* --- calls outside a request: a job's side work, a CLI command, a write that must stay when the request fails --- */
  /* A new call of the plugin's own (as the system: user 0, client "local"); end it with call_end. Never NULL. */
  struct destek_req *(*call_new)(const struct destek_host *h);
  /* Commits (commit != 0) or rolls back what the call wrote and emitted, and frees it. 0 when it committed (or wrote
   * nothing), -1 when it rolled back or the commit failed. Only for calls made with call_new. */
  int (*call_end)(struct destek_req *call, int commit);
  /* The call acts for the active user user_id from now on (user_id/user_role/user_email answer for them; history
   * and audit name them); 0 makes it the system again. 0, or -1 when there is no such active user. */
  int (*act_as)(struct destek_req *call, int64_t user_id);

  /* --- storage: the core's connections; SQL is a string literal with bound parameters only (?1, ?2, ...) --- */
  /* The connection a call reads with: the writer while its transaction is open (so it sees its own writes), else
   * this thread's reader. call may be NULL: this thread's reader. NULL when the database cannot be opened (logged). */
  struct destek_db *(*db_read)(struct destek_req *call);
  /* The writer inside the call's transaction (its savepoint in the group commit), begun on first use and committed
   * with the call. NULL when it cannot begin, with the 503 set up on the call (return host->status(call)). Never
   * from a thread whose other call holds the writer (it would wait for itself): refused with a 500, logged. */
  struct destek_db *(*db_write)(struct destek_req *call);
  /* A prepared statement from the connection's cache (sql must be a literal: the cache is keyed by its address),
   * reset and unbound; step it with sqlite3_step and read it with sqlite3_column_*, then give it back with db_done.
   * NULL on error (logged). */
  sqlite3_stmt *(*db_prepare)(struct destek_db *db, const char *sql);
  /* Resets a statement from db_prepare and clears its bindings (it stays cached; never sqlite3_finalize it). */
  void (*db_done)(sqlite3_stmt *st);
  /* Binds parameters 1..n from a type string: 't' text (const char *; NULL binds NULL), 'i' int64_t, 'I' const
   * int64_t * (NULL binds NULL), 'd' double, 'b' blob (const void *, int length), 'n' NULL (no argument).
   * SQLITE_OK or the first error. */
  int (*db_bind)(sqlite3_stmt *st, const char *types, ...);
  int (*db_bindv)(sqlite3_stmt *st, const char *types, va_list ap);
  /* Runs a statement that returns no rows: SQLITE_OK, or the SQLite error code (SQLITE_CONSTRAINT quietly, other
   * errors logged). */
  int (*db_exec)(struct destek_db *db, const char *sql, const char *types, ...);
  /* The first column of the first row as an integer; dflt when there is no row, it is NULL, or on error (logged). */
  int64_t (*db_int)(struct destek_db *db, int64_t dflt, const char *sql, const char *types, ...);
  /* The first column of the first row as a new string (caller frees), or NULL. */
  char *(*db_text_new)(struct destek_db *db, const char *sql, const char *types, ...);
  int64_t (*db_last_id)(struct destek_db *db);         /* rowid of the connection's last INSERT */
  int (*db_changes)(struct destek_db *db);             /* rows changed by its last statement */
  const char *(*db_errmsg)(struct destek_db *db);      /* its last error, in English */
  /* A hook pair around every commit of the writer, whichever call or module wrote: before runs inside the
   * transaction just before COMMIT and may write (non-zero makes the commit fail and roll back); done runs after
   * the transaction ended either way. For work done once per transaction however many changes it holds (a search
   * index). Both may be NULL. From init only. 0 or -1 (logged). */
  int (*on_commit)(const struct destek_host *h, int (*before)(struct destek_db *w, void *ud),
                   void (*done)(int committed, void *ud), void *ud);

  /* --- requests --- */
  /* The client's address ("203.0.113.7"; behind --trust-proxy the forwarded one); "local" outside HTTP. */
  const char *(*client_ip)(struct destek_req *r);
  /* The URL the server listens on, "https://destek.example.com:8443" ("" when no server runs: a CLI command). */
  const char *(*base_url)(void);
  /* The request body as it came (read on first use; NUL-terminated; borrowed), for a signature over the raw bytes
   * or a size check: 0 with *data and *len (0 bytes without a body, or once body() refused it), or the error
   * status set up (413 body_too_large). */
  int (*body_raw)(struct destek_req *r, const char **data, size_t *len);
  /* The status of the response set up on the call so far (what to return after db_write gave NULL). */
  int (*status)(struct destek_req *r);
  /* The "error" member of the error response set up on the call, {code, message[, field]}: borrowed and changeable
   * (rename its field, add a member), or NULL when the call has no error set up. */
  cJSON *(*error_object)(struct destek_req *r);
  /* Answers with body (taken: it must come from malloc; len bytes, e.g. a JSON text written with jbuf). */
  int (*reply_take)(struct destek_req *r, int status, const char *type, char *body, size_t len);
  /* Answers with no body (204, 304). */
  int (*reply_empty)(struct destek_req *r, int status);
  /* Typed members of a JSON object; each returns 0 or the 422 it set up, naming the member. required is
   * DESTEK_OPTIONAL or DESTEK_REQUIRED. field_str: 1..maxlen bytes of valid UTF-8, trimmed (*out NULL when absent);
   * field_enum: one of choices (NULL-terminated); field_bool: *out -1 when absent; field_email: lower-cased into
   * out[256] ("" when absent). */
  int (*field_str)(struct destek_req *r, const cJSON *obj, const char *name, int required, size_t maxlen,
                   const char **out);
  int (*field_enum)(struct destek_req *r, const cJSON *obj, const char *name, int required,
                    const char *const *choices, const char **out);
  int (*field_bool)(struct destek_req *r, const cJSON *obj, const char *name, int required, int *out);
  int (*field_email)(struct destek_req *r, const cJSON *obj, const char *name, int required, char out[256]);
  /* Reads ?limit (1..200, default 50) and ?cursor (an opaque id position, 0 when absent). 0 or the 422 set up. */
  int (*page)(struct destek_req *r, int *limit, int64_t *after_id);
  /* The list object {"items": items (taken), "next_cursor": ...}: next_after > 0 makes the cursor page reads. */
  cJSON *(*list_new)(cJSON *items, int64_t next_after);

  /* --- settings --- */
  long (*setting_int)(const char *name, long dflt);    /* an integer setting's value; dflt when unknown */
  int (*setting_bool)(const char *name, int dflt);     /* a boolean setting's value (1/0); dflt when unknown */

  /* --- people and the audit log --- */
  /* Records an action of the call's user in the audit log (GET /api/v1/audit), in the call's transaction (begun
   * if needed). detail is taken (may be NULL). 0 or -1. */
  int (*audit)(struct destek_req *call, const char *action, const char *target, cJSON *detail);
  /* Creates an active user (role "admin" or "agent", lang "tr"/"en") with a password (hashed here: about half a
   * second of CPU, done before the call's transaction opens when it is not open yet), in the call's transaction:
   * audited, user.created emitted; an admin retires the one-time setup link. The new id, 0 when the e-mail is
   * taken, -1 on error (logged). */
  int64_t (*user_create)(struct destek_req *call, const char *email, const char *name, const char *role,
                         const char *lang, const char *password);

  /* --- secrets --- */
  void (*random_bytes)(void *buf, size_t len);         /* cryptographically random bytes */
  void (*sha256_hex)(const void *data, size_t len, char out[65]);
  void (*hmac_sha256_hex)(const void *key, size_t key_len, const void *data, size_t len, char out[65]);
  /* A random URL-safe token of nbytes (1..64) of entropy into out (base64url: (nbytes * 4 + 2) / 3 + 1 bytes). */
  void (*token)(char *out, size_t nbytes);

  /* --- HTML from outside (mail, integrations) --- */
  /* Safe HTML for display: an allowlist of tags and attributes, links only http/https/mailto/tel with
   * rel="noopener noreferrer nofollow", remote images held back as data-remote-src. Caller frees. */
  char *(*html_sanitize_new)(const char *html);
  /* A readable plain-text rendering of HTML (blocks as lines, "- " list items, "text <URL>" links). Caller frees. */
  char *(*html_to_text_new)(const char *html);

  /* --- live updates (GET /api/v1/stream) --- */
  /* Streams the plugin's events matching pattern ("ticket.*") to agents, summarized. From init. 0 or -1. */
  int (*live_events)(const struct destek_host *h, const char *pattern, destek_live_fn summarize);
  /* Lets clients watch "<prefix>:<rest>" subjects for presence, when check says so. From init. 0 or -1. */
  int (*live_subjects)(const struct destek_host *h, const char *prefix, destek_subject_fn check);
  /* The call's signed-in user views subject, typing or not (a short-poll client's report: it lasts 20 seconds,
   * while a socket's lasts as long as the socket). Ignored for a call without a user. */
  void (*presence_touch)(struct destek_req *call, const char *subject, int typing);
  /* Who else views subject: [{user_id, name, typing, seconds_ago}] (new). */
  cJSON *(*presence_new)(struct destek_req *call, const char *subject);
  /* Forgets the short-poll reports on subject (it was merged away or deleted). */
  void (*presence_forget)(const char *subject);

  /* --- the network --- */
  /* An outbound HTTP request through the core's guard: loopback, private, link-local and metadata addresses are
   * refused after DNS resolution (unless the server runs with --allow-private-net), only http/https, no redirects.
   * 0 when a response arrived (any status), -1 when refused or failed (err says why). Free resp either way. Never
   * while the call holds the writer: the database would wait on the network. */
  int (*http_request)(const struct destek_http_request *req, struct destek_http_response *resp, char *err,
                      size_t errlen);
  void (*http_response_free)(struct destek_http_response *resp);
  /* Starts libcurl once (curl_global_init), before a plugin uses libcurl itself (SMTP, IMAP). 0 or -1 (logged). */
  int (*curl_ready)(void);

  /* --- services: named calls between modules --- */
  /* Publishes name ("<plugin>.<verb>", lower case, [a-z0-9_.]) for every module to call. From init. 0, or -1 (a
   * bad or taken name, logged). */
  int (*service)(const struct destek_host *h, const char *name, destek_service_fn fn, void *ud);
  /* Calls a service inside call's transaction. 0 and *result (new; the caller frees it), or the error status set up
   * on call: the service's own error, or 501 service_unavailable when no loaded module publishes name (so a caller
   * can treat a module as optional). A service that fails leaves nothing of what it wrote or emitted. */
  int (*call_service)(struct destek_req *call, const char *name, const cJSON *args, cJSON **result);

  /* --- rate limits: "at most limit of this per window seconds", per (kind, key); kind is the plugin's own --- */
  /* Takes one of the limit slots (kind, key) has per window, counted and recorded in one step on the writer: in the
   * call's transaction (the hit is kept only if the call commits), or, with call NULL, in a transaction of its own
   * committed at once (kept whatever becomes of the request; never while this thread holds the writer). The hit's id
   * (> 0); 0 when every slot is taken (*wait: seconds until one frees, at least 1); -1 on error (logged). limit <= 0
   * records a hit without checking. */
  int64_t (*rate_take)(struct destek_req *call, const char *kind, const char *key, long limit, long window,
                       long *wait);
  /* Whether (kind, key) looks full, read without the writer: a cheap early refusal before costly work (only
   * rate_take decides). 0 when a slot looks free, else the seconds to wait. */
  long (*rate_full)(struct destek_req *call, const char *kind, const char *key, long limit, long window);
  /* Gives a hit back (a slot taken for work that did not happen): in the call's transaction, or at once (NULL). */
  void (*rate_forget)(struct destek_req *call, int64_t hit_id);

  /* --- the customer portal --- */
  /* The portal's page answers paths matching pattern ("/contact", "/t/{number}": literal parts of a-z, 0-9, _ and -,
   * {name} one part), for the plugin's portal screens (web/portal/ of its folder). flags: 0 or DESTEK_PORTAL_NOINDEX.
   * From init. 0, or -1 (logged: malformed, or taken by another plugin). */
  int (*portal_page)(const struct destek_host *h, const char *pattern, int flags);

  /* --- large bodies --- */
  /* Frees the raw text of a body body() already parsed and gives its share of the server's body memory back, for a
   * route taking large bodies (files as base64) that reads only the parsed JSON from then on; body_raw answers 0
   * bytes afterwards. */
  void (*body_drop)(struct destek_req *r);

  /* --- policies --- */
  /* 1 when a Lua plugin defines policy: ask decide_new only then when its arguments cost more than the answer. */
  int (*has_policy)(const char *policy);

  /* --- events --- */
  /* Declares, from init(), the nouns of the events the plugin emits (a NULL-terminated list: { "return", NULL }
   * for return.requested, return.approved, ...). A noun has one owner: 0, or -1 (logged) when another module owns
   * one. Lua plugins can neither emit nor claim a declared noun (they emit only their own events). */
  int (*events)(const struct destek_host *h, const char *const *nouns);

  /* --- colleagues --- */
  /* 1 when user_id is online now (an open live socket, or a session used in the last 5 minutes), else 0. */
  int (*user_online)(struct destek_req *call, int64_t user_id);
  /* From init(): fn adds the plugin's facts to each page of the colleague directory. 0, or -1 (logged). */
  int (*directory_extend)(const struct destek_host *h, destek_directory_fn fn, void *ud);

  /* --- contacts: the people every module shares (core/contacts.c; plugins/README.md, "Contacts") --- */
  /* One person across e-mail addresses, phone numbers and WhatsApp ids. A module stores a contact's id and reads
   * core_contacts (id, name, lang, email, phone: the first identity of each kind; merged_into, erased_at) when it
   * joins; identities are matched normalised: e-mails lower-cased, phones in E.164 with Turkish defaults
   * ("0532 123 45 67" -> "+905321234567"), WhatsApp ids as phones. */
  /* Normalises value of kind ("email", "phone", "whatsapp") into out: 0, or -1 when it is not one. */
  int (*contact_normalise)(const char *kind, const char *value, char *out, size_t outlen);
  /* The contact with the first of email, phone, whatsapp that one has (each may be NULL; given normalised or not),
   * else a new one, in the call's transaction: the given identities it lacks are added where no one else holds them,
   * and name (and lang, "tr"/"en") fill a contact that has none. The id, 0 when no valid identity was given, -1 on
   * error (logged). One indexed lookup for a known person. */
  int64_t (*contact_resolve)(struct destek_req *call, const char *email, const char *phone, const char *whatsapp,
                             const char *name, const char *lang);
  /* The live contact holding identity (kind, value), 0 when none. */
  int64_t (*contact_find)(struct destek_req *call, const char *kind, const char *value);
  /* {id, name, lang, email, phone, merged_into, erased_at, created_at, updated_at, identities: [{kind, value}]}
   * (new), or NULL when there is no such contact. */
  cJSON *(*contact_json_new)(struct destek_req *call, int64_t contact_id);
  /* Adds an identity to a live contact in the call's transaction: 0, 1 when another contact holds it, -1 when value
   * is not valid for kind or there is no such contact. */
  int (*contact_identity_add)(struct destek_req *call, int64_t contact_id, const char *kind, const char *value);
  /* Merges contact source_id into target_id in the call's transaction: source's identities move to target, every
   * module's merged hook re-points its references, contact.merged is emitted. 0, or the error status set up on the
   * call (404 not_found, 422 invalid_field "source_id", 409 already_merged / contact_erased, or a hook's). */
  int (*contact_merge)(struct destek_req *call, int64_t target_id, int64_t source_id);
  /* Registers, from init(), what the module does when contacts are merged, exported or erased (KVKK): see
   * struct destek_contact_hooks. One registration per plugin. 0 or -1 (logged). */
  int (*contact_hooks)(const struct destek_host *h, const struct destek_contact_hooks *hooks);
  /* Adds a file to a contact's export (an exported hook's ex): path inside the module's folder of the ZIP
   * ("attachments/12/photo.jpg" lands at "<plugin>/attachments/12/photo.jpg"), len bytes of data (copied).
   * 0, or -1 when the export would grow past its limits. */
  int (*export_file)(struct destek_export *ex, const char *path, const void *data, size_t len);
  /* Commits the call's transaction now, with its events and live frames, instead of when the call ends; then the
   * call reads from this thread's reader again (it sees the commit) and a later db_write begins a new transaction.
   * For a write that answers with a large read: the writer every other write waits for is not held while the
   * answer is built. 0 when committed (or none was open), else the 503 set up on the call. */
  int (*db_commit)(struct destek_req *call);

  /* --- services: who publishes what --- */
  /* The published services whose names end with suffix (NULL: all), [{name, plugin}] in name order (new; the caller
   * frees it): for a module that offers other modules a place by a naming convention (ticketing asks every
   * "<module>.ticket_context" what it knows about a ticket, for macros and the triage). */
  cJSON *(*services_new)(const char *suffix);

  /* --- Markdown --- */
  /* Markdown (CommonMark and GitHub's tables) rendered as HTML a page may carry, as Lua's destek.markdown: cmark-gfm
   * in its safe mode (raw HTML omitted, javascript: and the like emptied), every link kept only when http, https,
   * mailto, tel or a path of this site, every image only when http, https or a path. A new string (the caller frees
   * it), or NULL when the text is over 1 MiB or memory ran out. */
  char *(*markdown_new)(const char *text, size_t len);

  /* --- consent: the ledger of ONAY/RET per contact and channel (core/consent.c; law 6563, KVKK) --- */
  /* Records consent given (status "ONAY") or refused/withdrawn ("RET") by contact_id for channel ("email", "sms",
   * "call", "whatsapp"), in the call's transaction, append-only: source is one of "web_form", "checkout",
   * "call_centre", "import", "iys", "unsubscribe_link", "reply"; text_shown the text the person was shown (required
   * for an ONAY); address (NULL: the contact's e-mail or phone) and ip may be NULL; at is when the person gave it
   * ("2026-12-04T20:45:47Z", UTC; NULL: now). Emits consent.granted or consent.revoked. The record's id, or 0 with the
   * error status set up on the call (422 invalid_field/missing_field, 404 not_found, 409 contact_erased). */
  int64_t (*consent_record)(struct destek_req *call, int64_t contact_id, const char *channel, const char *status,
                            const char *source, const char *text_shown, const char *address, const char *ip,
                            const char *at);
  /* 1 when contact_id has a current ONAY for channel (its latest record is an ONAY: a later RET overrides it), else
   * 0 (no record, a RET, an erased contact). */
  int (*consent_state)(struct destek_req *call, int64_t contact_id, const char *channel);

  /* --- messages to contacts through the core --- */
  /* Queues an e-mail (plain text, UTF-8) to contact_id's e-mail address in the call's transaction; the core sends it
   * after commit over the SMTP server of the mail.* settings, retrying with backoff, and survives a restart.
   * commercial=1 marks a commercial message (law 6563): refused (DESTEK_SEND_NO_CONSENT, logged, nothing queued)
   * without the contact's current ONAY for "email", checked again when it is sent; it carries List-Unsubscribe
   * (RFC 8058 one-click) and the text saying how to refuse, free. commercial=0 marks a service message (order,
   * shipping, returns, ticket replies: no promotion in it). The message id (> 0), or a DESTEK_SEND_* code (< 0);
   * the call's status is not touched. */
  int64_t (*message_send)(struct destek_req *call, int64_t contact_id, const char *subject, const char *body,
                          int commercial);

  /* --- rate limits counted in memory --- */
  /* rate_take without the writer, for a limit hit on every request of a public page (a lookup form): the hits are
   * counted in memory (a sliding window within a hit or so of exact) and forgotten on restart. 1 when a slot was
   * taken, 0 when every slot is taken (*wait: seconds until one frees, at least 1), -1 when the table is full of live
   * keys or kind + key is over 90 bytes: then count with rate_take. limit <= 0 always takes. */
  int (*rate_take_memory)(const char *kind, const char *key, long limit, long window, long *wait);

  /* --- messages to contacts, continued --- */
  /* Where a message this module queued with message_send stands: {id, status ("pending", "sent", "failed" after the
   * last retry, "withheld"), attempts, created_at, sent_at, last_error} (new; the caller frees it), or NULL when the
   * module queued no message with that id. Never the address, subject or body. */
  cJSON *(*message_json_new)(struct destek_req *call, int64_t message_id);

  /* --- storage, continued --- */
  /* Makes the call's reads on this thread's reader (db_read while no transaction of the call is open) one read
   * transaction, ended when the call ends: one snapshot, and one read lock instead of one per statement (each of which
   * may also refill the reader's page cache after other commits). For a read-only handler that runs many statements
   * (a page built from many small reads). Never hold it across waiting. 0, or -1 (the reads then go one by one). */
  int (*db_read_snapshot)(struct destek_req *call);

  /* --- messages to contacts, continued --- */
  /* Queues an SMS (UTF-8, at most 800 bytes) to contact_id's phone number in the call's transaction, as message_send
   * does an e-mail; the core's sender hands it after commit to the SMS gateway adapter, the Lua policy
   * `sms.gateway:<sms.gateway setting>`. commercial=1: refused (DESTEK_SEND_NO_CONSENT) without the contact's current
   * ONAY for "sms", checked again when it is sent, and the text gets the refusal line the law asks for (trade name,
   * MERSİS number, RET to 3338; DESTEK_SEND_NOT_CONFIGURED while the sms.* settings for it are empty). The message id
   * (> 0), or a DESTEK_SEND_* code (< 0; DESTEK_SEND_NO_ADDRESS: no phone number). */
  int64_t (*message_send_sms)(struct destek_req *call, int64_t contact_id, const char *text, int commercial);

  /* --- threads a plugin starts --- */
  /* Frees what the host keeps for the calling thread: its Lua state (made by the first decide_new or has_policy on
   * it) and its read connection (the first db_read). For a thread the plugin started itself (pthread_create) that
   * called into the host, as the last thing before it returns; never on a request, job or bus thread. */
  void (*thread_release)(void);

  /* --- registration, continued --- */
  /* Registers, from init(), fn to run once when every plugin (C and Lua) has been initialised, before the server takes
   * requests or an offline command runs: in a call of the plugin's own (the system's), committed when fn returns 0.
   * For a module that follows what other modules publish: it may call their services (describe) and subscribe with
   * h->on from there (events emitted before it runs are none: nothing is served yet). 0, or -1 (logged). */
  int (*started)(const struct destek_host *h, destek_job_fn fn, void *ud);

  /* --- public websockets (core/wspub.c): a module's own, for people who are not signed in --- */
  /* Declares, from init(), a websocket at path (an exact path, "/api/v1/<plugin>/..."), public: ops->admit checks the
   * page's Origin and the module's credentials; ping/pong at the protocol level and the close handshake are the
   * core's. The server starts ops->max_sockets more worker threads for it. ops is copied. 0, or -1 (logged). */
  int (*socket_endpoint)(const struct destek_host *h, const char *path, const struct destek_socket_ops *ops);
  /* Queues a text frame (copied) for sock, from any thread, never blocking (each socket has its own sender): 0; -1
   * when the socket is closed or closing; 1 when its queue overflowed (a client that does not read): the socket is
   * being closed with 4008 "too slow", and its client catches up another way (polling). */
  int (*socket_send)(uint64_t sock, const char *text, size_t len);
  /* Closes sock with code (1000, or 4000-4999 of the module's) and a short reason, after what is queued. */
  void (*socket_close)(uint64_t sock, int code, const char *reason);

  /* --- events, filtered --- */
  /* As on, with want deciding per event whether the subscriber gets it (destek_event_want_fn): an async subscriber
   * that acts on a few of an event's emissions (a mail only when the payload asks for one) costs the others no
   * delivery row and no delivery. want and fn get the same ud. 0, or -1 (logged). */
  int (*on_when)(const struct destek_host *h, const char *event, int mode, destek_event_fn fn,
                 destek_event_want_fn want, void *ud);
};

/* message_send's refusals. */
#define DESTEK_SEND_INVALID    (-1)   /* subject (one line) or body missing, too long, or not UTF-8 */
#define DESTEK_SEND_NO_CONTACT (-2)   /* no such contact, or it was erased */
#define DESTEK_SEND_NO_ADDRESS (-3)   /* the contact has no e-mail address */
#define DESTEK_SEND_NO_CONSENT (-4)   /* commercial, without a current ONAY for the channel */
#define DESTEK_SEND_ERROR      (-5)   /* the database failed (logged) */
#define DESTEK_SEND_NOT_CONFIGURED (-6) /* a commercial SMS without the sms.* settings its refusal line needs */

/* A module's part in the life of a contact (host->contact_hooks). Each runs inside the call's transaction: return 0,
 * or an error status set up on the call (host->error), which fails the whole operation and takes back what every
 * module wrote for it. */
struct destek_contact_hooks {
  /* source_id was merged into target_id: re-point the module's references from source to target. */
  int (*merged)(struct destek_req *call, int64_t target_id, int64_t source_id, void *ud);
  /* KVKK export: set *part to everything the module holds about contact_id as a JSON value (new; NULL when it holds
   * nothing), and add its files with host->export_file(ex, ...). Read only. */
  int (*exported)(struct destek_req *call, int64_t contact_id, struct destek_export *ex, cJSON **part, void *ud);
  /* KVKK erasure: scrub the person from the module's data (texts that name them, their files), keeping rows and
   * counts. person is {id, name, names: [every name the contact and those merged into it had], identities: [{kind,
   * value}]}, read before the core anonymises the contact (borrowed). */
  int (*erased)(struct destek_req *call, int64_t contact_id, const cJSON *person, void *ud);
  void *ud;
};

#define DESTEK_PORTAL_NOINDEX 1   /* a portal page search engines must not keep (X-Robots-Tag: noindex, nofollow) */

/* 1 when the host table h has the function `member` (a host older than the header a plugin was built with has not). */
#define DESTEK_HOST_HAS(h, member) \
  ((h)->size >= offsetof(struct destek_host, member) + sizeof(((struct destek_host *)0)->member))

/* A .so plugin defines this symbol. A module that is also built into the binary names its struct
 * DESTEK_PLUGIN_SYMBOL: the build makes that <name>_plugin for the built-in copy, destek_plugin for the .so. */
#ifndef DESTEK_PLUGIN_SYMBOL
#define DESTEK_PLUGIN_SYMBOL destek_plugin
#endif
extern const struct destek_plugin DESTEK_PLUGIN_SYMBOL __attribute__((visibility("default")));

#ifdef __cplusplus
}
#endif
#endif
