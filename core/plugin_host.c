/* The host function table C plugins receive (include/destek.h): thin adapters from the public API onto the core's
 * modules. Each plugin gets its own copy (plugin_host), which carries its name. The public `struct destek_db` is the
 * core's `struct db`: plugins only ever hold the pointer. */
#include "plugin.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assets.h"
#include "audit.h"
#include "auth.h"
#include "bus.h"
#include "consent.h"
#include "contacts.h"
#include "db.h"
#include "directory.h"
#include "http.h"
#include "jobs.h"
#include "live.h"
#include "log.h"
#include "lua_host.h"
#include "mail.h"
#include "net.h"
#include "ratelimit.h"
#include "services.h"
#include "settings.h"
#include "tokens_api.h"
#include "users_api.h"
#include "util.h"
#include "wspub.h"

#define DB(d) ((struct db *)(d))
#define PUB(d) ((struct destek_db *)(d))

/* ------------------------------------------------------------------------------------------------ registration */

static void h_log(const struct destek_host *h, enum destek_log_level level, const char *fmt, ...)
{
  char msg[1500];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  enum log_level l = level == DESTEK_LOG_DEBUG ? LOG_DEBUG : level == DESTEK_LOG_WARN ? LOG_WARN
                   : level == DESTEK_LOG_ERROR ? LOG_ERROR : LOG_INFO;
  log_msg(l, h->plugin, "%s", msg);
}

static int h_routes(const struct destek_host *h, const struct destek_route *routes)
{
  return http_routes_add(h->plugin, routes);
}

static int h_on(const struct destek_host *h, const char *event, int mode, destek_event_fn fn, void *ud)
{
  return bus_subscribe(h->plugin, event, mode, fn, ud);
}

static int h_on_when(const struct destek_host *h, const char *event, int mode, destek_event_fn fn,
                     destek_event_want_fn want, void *ud)
{
  return bus_subscribe_when(h->plugin, event, mode, fn, want, ud);
}

/* The plugins' start-phase functions (host->started), run once by plugin_started_run. */
static struct { const char *owner; destek_job_fn fn; void *ud; } started_fns[32];
static int n_started;
static pthread_mutex_t started_lock = PTHREAD_MUTEX_INITIALIZER;

static int h_started(const struct destek_host *h, destek_job_fn fn, void *ud)
{
  if (!fn) return -1;
  pthread_mutex_lock(&started_lock);
  int rc = n_started < (int)(sizeof started_fns / sizeof started_fns[0]) ? 0 : -1;
  if (!rc) started_fns[n_started++] = (typeof(started_fns[0])){ h->plugin, fn, ud };
  pthread_mutex_unlock(&started_lock);
  if (rc) log_error("plugin", "%s: too many start-phase functions", h->plugin);
  return rc;
}

void plugin_started_forget(const char *owner)
{
  pthread_mutex_lock(&started_lock);
  int keep = 0;
  for (int i = 0; i < n_started; i++)
    if (strcmp(started_fns[i].owner, owner) != 0) started_fns[keep++] = started_fns[i];
  n_started = keep;
  pthread_mutex_unlock(&started_lock);
}

void plugin_started_run(void)
{
  pthread_mutex_lock(&started_lock);
  int n = n_started;
  typeof(started_fns[0]) fns[32];
  memcpy(fns, started_fns, (size_t)n * sizeof fns[0]);
  pthread_mutex_unlock(&started_lock);
  for (int i = 0; i < n; i++) {
    struct destek_req c;
    call_begin(&c, fns[i].owner);
    int rc = fns[i].fn(&c, fns[i].ud);
    if (call_end(&c, rc == 0) != 0 || rc != 0) log_error("plugin", "%s: its start-phase function failed", fns[i].owner);
  }
  /* What the functions called (a Lua module's service) may have built this thread a Lua state: not kept. */
  lua_host_thread_release();
}

static int h_every(const struct destek_host *h, const char *job, int seconds, destek_job_fn fn, void *ud)
{
  return jobs_every(h->plugin, job, seconds, fn, ud);
}

static int h_timers(const struct destek_host *h, const char *kind, destek_timer_fn fn, void *ud)
{
  return jobs_timer_handler(h->plugin, kind, fn, ud);
}

static int h_settings(const struct destek_host *h, const struct destek_setting *s)
{
  return settings_declare(h->plugin, s);
}

static int h_scope(const struct destek_host *h, const char *scope)
{
  (void)h;
  return tokens_scope_register(scope);
}

static int h_events(const struct destek_host *h, const char *const *nouns)
{
  int rc = 0;
  for (const char *const *n = nouns; n && *n; n++) rc |= bus_event_owner(*n, h->plugin);
  return rc;
}

static cJSON *h_decide_new(struct destek_req *call, const char *policy, const cJSON *args)
{
  return lua_host_decide_new(call, policy, args);
}

/* ------------------------------------------------------------------------------------------------ calls */

static void h_thread_release(void)
{
  lua_host_thread_release();
  db_reader_release();
}

static struct destek_req *h_call_new(const struct destek_host *h)
{
  struct destek_req *c = malloc(sizeof *c);
  if (!c) abort();
  call_begin(c, h->plugin);
  return c;
}

static int h_call_end(struct destek_req *c, int commit)
{
  if (!c) return -1;
  int rc = call_end(c, commit);
  free(c);
  return rc;
}

static int h_act_as(struct destek_req *c, int64_t user_id)
{
  struct auth_who *w = &c->who;
  if (user_id == 0) {
    w->user_id = 0;
    w->role[0] = w->email[0] = w->name[0] = w->lang[0] = 0;
    return 0;
  }
  struct db *db = http_db(c);
  sqlite3_stmt *st = db ? db_prepare(db, "SELECT role, email, name, lang FROM core_users WHERE id = ?1 AND active = 1")
                        : NULL;
  if (!st) return -1;
  db_bind(st, "i", user_id);
  int found = sqlite3_step(st) == SQLITE_ROW;
  if (found) {
    w->user_id = user_id;
    snprintf(w->role, sizeof w->role, "%s", (const char *)sqlite3_column_text(st, 0));
    snprintf(w->email, sizeof w->email, "%s", (const char *)sqlite3_column_text(st, 1));
    snprintf(w->name, sizeof w->name, "%s", (const char *)sqlite3_column_text(st, 2));
    snprintf(w->lang, sizeof w->lang, "%s", sqlite3_column_type(st, 3) == SQLITE_NULL ? "" : (const char *)sqlite3_column_text(st, 3));
  }
  db_done(st);
  return found ? 0 : -1;
}

/* ------------------------------------------------------------------------------------------------ storage */

/* The writer in the call's transaction; refuses (instead of waiting for itself) when another call of this thread
 * holds the writer: a plugin that opens a call_new call inside a handler after the handler began writing. */
static struct db *call_writer(struct destek_req *call)
{
  if (!call) return NULL;
  if (!call->tx && db_writer_held()) {
    log_error(call->owner, "a call asked to write while another call of the same thread holds the writer "
              "(it would wait for itself): refused");
    http_error(call, 500, "internal", "internal error (nested write)");
    return NULL;
  }
  return http_tx(call);
}

static struct destek_db *h_db_read(struct destek_req *call) { return PUB(call ? http_db(call) : db_reader()); }
static struct destek_db *h_db_write(struct destek_req *call) { return PUB(call_writer(call)); }
static sqlite3_stmt *h_db_prepare(struct destek_db *db, const char *sql) { return db ? db_prepare(DB(db), sql) : NULL; }
static void h_db_done(sqlite3_stmt *st) { db_done(st); }
static int h_db_bindv(sqlite3_stmt *st, const char *types, va_list ap) { return db_bindv(st, types, ap); }

static int h_db_bind(sqlite3_stmt *st, const char *types, ...)
{
  va_list ap;
  va_start(ap, types);
  int rc = db_bindv(st, types, ap);
  va_end(ap);
  return rc;
}

static int h_db_exec(struct destek_db *db, const char *sql, const char *types, ...)
{
  if (!db) return SQLITE_MISUSE;
  va_list ap;
  va_start(ap, types);
  int rc = db_execv(DB(db), sql, types, ap);
  va_end(ap);
  return rc;
}

static int64_t h_db_int(struct destek_db *db, int64_t dflt, const char *sql, const char *types, ...)
{
  if (!db) return dflt;
  va_list ap;
  va_start(ap, types);
  int64_t v = db_intv(DB(db), dflt, sql, types, ap);
  va_end(ap);
  return v;
}

static char *h_db_text_new(struct destek_db *db, const char *sql, const char *types, ...)
{
  if (!db) return NULL;
  va_list ap;
  va_start(ap, types);
  char *v = db_text_newv(DB(db), sql, types, ap);
  va_end(ap);
  return v;
}

static int64_t h_db_last_id(struct destek_db *db) { return db_last_id(DB(db)); }
static int h_db_changes(struct destek_db *db) { return db_changes(DB(db)); }
static const char *h_db_errmsg(struct destek_db *db) { return db_errmsg(DB(db)); }

/* A plugin's commit hooks, adapted to the core's (which pass the core's connection type). */
struct commit_hook {
  int (*before)(struct destek_db *w, void *ud);
  void (*done)(int committed, void *ud);
  void *ud;
};

static int hook_before(struct db *w, void *p)
{
  struct commit_hook *hk = p;
  return hk->before ? hk->before(PUB(w), hk->ud) : 0;
}

static void hook_done(int committed, void *p)
{
  struct commit_hook *hk = p;
  if (hk->done) hk->done(committed, hk->ud);
}

static int h_on_commit(const struct destek_host *h, int (*before)(struct destek_db *w, void *ud),
                       void (*done)(int committed, void *ud), void *ud)
{
  struct commit_hook *hk = malloc(sizeof *hk);   /* lives until exit, as the hook does */
  if (!hk) abort();
  *hk = (struct commit_hook){ before, done, ud };
  if (db_on_commit(hook_before, hook_done, hk) != 0) {
    log_error(h->plugin, "its commit hook could not be registered");
    free(hk);
    return -1;
  }
  return 0;
}

/* The ABI-1 one-shot query and exec. */
static cJSON *h_query_new(struct destek_req *call, const char *sql, const char *types, ...)
{
  struct db *db = http_db(call);
  sqlite3_stmt *st = db ? db_prepare(db, sql) : NULL;
  if (!st) return NULL;
  va_list ap;
  va_start(ap, types);
  int rc = db_bindv(st, types, ap);
  va_end(ap);
  if (rc != SQLITE_OK) { db_done(st); return NULL; }
  cJSON *rows = cJSON_CreateArray();
  int cols = sqlite3_column_count(st);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    cJSON *row = cJSON_CreateObject();
    for (int i = 0; i < cols; i++) {
      const char *name = sqlite3_column_name(st, i);
      switch (sqlite3_column_type(st, i)) {
      case SQLITE_INTEGER: cJSON_AddNumberToObject(row, name, (double)sqlite3_column_int64(st, i)); break;
      case SQLITE_FLOAT: cJSON_AddNumberToObject(row, name, sqlite3_column_double(st, i)); break;
      case SQLITE_NULL: cJSON_AddNullToObject(row, name); break;
      default: cJSON_AddStringToObject(row, name, (const char *)sqlite3_column_text(st, i)); break;
      }
    }
    cJSON_AddItemToArray(rows, row);
  }
  if (rc != SQLITE_DONE) {
    log_error(call->owner, "query failed: %s: %s", db_errmsg(db), sql);
    cJSON_Delete(rows);
    rows = NULL;
  }
  db_done(st);
  return rows;
}

static int h_exec(struct destek_req *call, int64_t *last_id, const char *sql, const char *types, ...)
{
  struct db *w = call_writer(call);
  if (!w) return -1;
  sqlite3_stmt *st = db_prepare(w, sql);
  if (!st) return -1;
  va_list ap;
  va_start(ap, types);
  int rc = db_bindv(st, types, ap);
  va_end(ap);
  if (rc == SQLITE_OK) {
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {}
    if (rc == SQLITE_DONE) rc = SQLITE_OK;
  }
  db_done(st);
  if (rc == SQLITE_CONSTRAINT) return 1;
  if (rc != SQLITE_OK) { log_error(call->owner, "exec failed: %s: %s", db_errmsg(w), sql); return -1; }
  if (last_id) *last_id = db_last_id(w);
  return 0;
}

/* ------------------------------------------------------------------------------------------------ requests */

static int64_t h_user_id(struct destek_req *r) { return r->who.user_id; }
static const char *h_user_role(struct destek_req *r) { return r->who.role; }
static const char *h_user_email(struct destek_req *r) { return r->who.email; }

static const char *h_lang(struct destek_req *r) { return http_lang(r); }

static int h_reply_body(struct destek_req *r, int status, const char *type, const void *body, size_t len)
{
  char *copy = malloc(len + 1);
  if (!copy) abort();
  memcpy(copy, body, len);
  copy[len] = 0;
  return http_reply_body(r, status, type, copy, len);
}

static int h_error(struct destek_req *r, int status, const char *code, const char *fmt, ...)
{
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return http_error(r, status, code, "%s", msg);
}

static int h_field_error(struct destek_req *r, const char *code, const char *field, const char *fmt, ...)
{
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return http_field_error(r, code, field, "%s", msg);
}

static const char *h_client_ip(struct destek_req *r) { return r->ip; }
static int h_status(struct destek_req *r) { return r->status; }

static cJSON *h_error_object(struct destek_req *r)
{
  if (r->status < 400 || !r->out_json) return NULL;
  return cJSON_GetObjectItemCaseSensitive(r->out_json, "error");
}

static int h_reply_take(struct destek_req *r, int status, const char *type, char *body, size_t len)
{
  return http_reply_body(r, status, type, body, len);
}

static const char *data_directory = ".";

void plugin_set_data_dir(const char *dir) { data_directory = util_intern(dir); }
static const char *h_data_dir(void) { return data_directory; }

/* ------------------------------------------------------------------------------------------------ people */

static int h_audit(struct destek_req *call, const char *action, const char *target, cJSON *detail)
{
  struct db *w = call_writer(call);
  if (!w) { cJSON_Delete(detail); return -1; }
  return audit_log(w, call, action, target, detail);
}

static int64_t h_user_create(struct destek_req *call, const char *email, const char *name, const char *role,
                             const char *lang, const char *password)
{
  if (!email || !name || !password || !role || (strcmp(role, "admin") && strcmp(role, "agent")) ||
      (lang && strcmp(lang, "tr") && strcmp(lang, "en"))) {
    log_error(call->owner, "user_create: an e-mail, a name, a password, role admin or agent and lang tr or en");
    return -1;
  }
  char *hash = auth_password_hash_new(password);   /* before the writer is taken, when it is not yet */
  if (!hash) { log_error(call->owner, "user_create: the password could not be hashed now"); return -1; }
  int64_t id = users_add(call, email, name, role, lang, hash, call->owner);
  free(hash);
  return id;
}

/* ------------------------------------------------------------------------------------------------ misc */

static void h_token(char *out, size_t nbytes) { util_token(out, nbytes); }
static char *h_html_sanitize_new(const char *html) { return mail_html_sanitize_new(html ? html : "", NULL, 0); }
static char *h_html_to_text_new(const char *html) { return mail_html_to_text_new(html ? html : ""); }

static int h_live_events(const struct destek_host *h, const char *pattern, destek_live_fn summarize)
{
  return live_stream_events(h->plugin, pattern, summarize);
}

static int h_live_subjects(const struct destek_host *h, const char *prefix, destek_subject_fn check)
{
  return live_subjects(h->plugin, prefix, check);
}

static void h_presence_touch(struct destek_req *call, const char *subject, int typing)
{
  if (call->who.user_id > 0) live_presence_touch(subject, call->who.user_id, call->who.name, typing);
}

static cJSON *h_presence_new(struct destek_req *call, const char *subject)
{
  return live_presence_items_new(subject, call->who.user_id);
}

static int h_http_request(const struct destek_http_request *req, struct destek_http_response *resp, char *err,
                          size_t errlen)
{
  memset(resp, 0, sizeof *resp);
  if (db_writer_held()) {
    snprintf(err, errlen, "refused: the call holds the database while it would wait on the network");
    log_error("plugin", "an outbound request was made while holding the writer: refused");
    return -1;
  }
  struct net_request nreq = { req->method, req->url, req->headers, req->body, req->body_len, req->timeout_ms,
                              req->max_response };
  struct net_response nresp = { 0 };
  int rc = net_request(&nreq, &nresp, err, errlen);
  resp->status = nresp.status;
  resp->body = nresp.body;
  resp->body_len = nresp.body_len;
  resp->headers = nresp.headers;
  return rc;
}

static void h_http_response_free(struct destek_http_response *resp)
{
  struct net_response nresp = { resp->status, resp->body, resp->body_len, resp->headers };
  net_response_free(&nresp);
  memset(resp, 0, sizeof *resp);
}

static int h_db_read_snapshot(struct destek_req *call)
{
  if (!call || call->tx) return -1;             /* the call writes: it reads on the writer */
  if (db_reader_snapshot() != 0) return -1;
  call->read_snapshot = 1;
  return 0;
}

static int h_socket_endpoint(const struct destek_host *h, const char *path, const struct destek_socket_ops *ops)
{
  return wspub_add(h->plugin, path, ops);
}

static int64_t h_rate_take(struct destek_req *call, const char *kind, const char *key, long limit, long window,
                           long *wait)
{
  long dummy;
  if (!wait) wait = &dummy;
  *wait = 0;
  if (!call) {
    if (db_writer_held()) {
      log_error("plugin", "rate_take(NULL) while this thread holds the writer: refused");
      return -1;
    }
    return ratelimit_take_now(kind, key, limit, window, wait);
  }
  struct db *w = call_writer(call);
  return w ? ratelimit_take(w, kind, key, limit, window, wait) : -1;
}

static long h_rate_full(struct destek_req *call, const char *kind, const char *key, long limit, long window)
{
  struct db *db = call ? http_db(call) : db_reader();
  return db ? ratelimit_full(db, kind, key, limit, window) : 0;
}

static void h_rate_forget(struct destek_req *call, int64_t hit_id)
{
  if (!call) { ratelimit_forget_now(hit_id); return; }
  struct db *w = call_writer(call);
  if (w) ratelimit_forget(w, hit_id);
}

static int h_portal_page(const struct destek_host *h, const char *pattern, int flags)
{
  return assets_portal_page(h->plugin, pattern, flags & DESTEK_PORTAL_NOINDEX ? ASSETS_NOINDEX : 0);
}

static int h_service(const struct destek_host *h, const char *name, destek_service_fn fn, void *ud)
{
  return services_publish(h->plugin, name, fn, ud);
}

static int h_user_online(struct destek_req *call, int64_t user_id)
{
  return directory_user_online(call ? http_db(call) : db_reader(), user_id);
}

static int h_directory_extend(const struct destek_host *h, destek_directory_fn fn, void *ud)
{
  return directory_extend(h->plugin, fn, ud);
}

/* ------------------------------------------------------------------------------------------------ the table */

static int h_contact_hooks(const struct destek_host *h, const struct destek_contact_hooks *hooks)
{
  return hooks ? contacts_hooks_add(h->plugin, hooks) : -1;
}

static const struct destek_host host_template = {
  .abi = DESTEK_PLUGIN_ABI,
  .size = sizeof(struct destek_host),
  .log = h_log,
  .routes = h_routes,
  .on = h_on,
  .every = h_every,
  .timers = h_timers,
  .settings = h_settings,
  .scope = h_scope,
  .emit = bus_emit,
  .timer_at = jobs_timer_at,
  .timer_cancel = jobs_timer_cancel,
  .setting_new = settings_get_new,
  .decide_new = h_decide_new,
  .query_new = h_query_new,
  .exec = h_exec,
  .param = http_param,
  .param_int = http_param_int,
  .query_get = http_query_get,
  .header = http_header,
  .body = http_body_object,
  .user_id = h_user_id,
  .user_role = h_user_role,
  .user_email = h_user_email,
  .lang = h_lang,
  .reply_json = http_reply_json,
  .reply_body = h_reply_body,
  .error = h_error,
  .field_error = h_field_error,
  .add_header = http_add_header,
  .data_dir = h_data_dir,
  /* after ABI 1 was first published */
  .call_new = h_call_new,
  .call_end = h_call_end,
  .act_as = h_act_as,
  .db_read = h_db_read,
  .db_write = h_db_write,
  .db_prepare = h_db_prepare,
  .db_done = h_db_done,
  .db_bind = h_db_bind,
  .db_bindv = h_db_bindv,
  .db_exec = h_db_exec,
  .db_int = h_db_int,
  .db_text_new = h_db_text_new,
  .db_last_id = h_db_last_id,
  .db_changes = h_db_changes,
  .db_errmsg = h_db_errmsg,
  .on_commit = h_on_commit,
  .client_ip = h_client_ip,
  .base_url = http_base_url,
  .body_raw = http_body_raw,
  .status = h_status,
  .error_object = h_error_object,
  .reply_take = h_reply_take,
  .reply_empty = http_reply_empty,
  .field_str = http_field_str,
  .field_enum = http_field_enum,
  .field_bool = http_field_bool,
  .field_email = http_field_email,
  .page = http_page,
  .list_new = http_list_new,
  .setting_int = settings_get_int,
  .setting_bool = settings_get_bool,
  .audit = h_audit,
  .user_create = h_user_create,
  .random_bytes = util_random,
  .sha256_hex = util_sha256_hex,
  .hmac_sha256_hex = util_hmac_sha256_hex,
  .token = h_token,
  .html_sanitize_new = h_html_sanitize_new,
  .html_to_text_new = h_html_to_text_new,
  .live_events = h_live_events,
  .live_subjects = h_live_subjects,
  .presence_touch = h_presence_touch,
  .presence_new = h_presence_new,
  .presence_forget = live_presence_forget,
  .http_request = h_http_request,
  .http_response_free = h_http_response_free,
  .curl_ready = net_curl_ready,
  .service = h_service,
  .call_service = services_call,
  .rate_take = h_rate_take,
  .rate_full = h_rate_full,
  .rate_forget = h_rate_forget,
  .portal_page = h_portal_page,
  .body_drop = http_body_text_drop,
  .has_policy = lua_host_has_policy,
  .events = h_events,
  .user_online = h_user_online,
  .directory_extend = h_directory_extend,
  .contact_normalise = contacts_normalise,
  .contact_resolve = contacts_resolve,
  .contact_find = contacts_find,
  .contact_json_new = contacts_json_new,
  .contact_identity_add = contacts_identity_add,
  .contact_merge = contacts_merge,
  .contact_hooks = h_contact_hooks,
  .export_file = contacts_export_file,
  .db_commit = http_commit,
  .services_new = services_list_new,
  .markdown_new = markdown_html_new,
  .consent_record = consent_record,
  .consent_state = consent_state,
  .message_send = consent_message_send,
  .rate_take_memory = ratelimit_take_memory,
  .message_json_new = consent_message_json_new,
  .db_read_snapshot = h_db_read_snapshot,
  .message_send_sms = consent_message_send_sms,
  .thread_release = h_thread_release,
  .started = h_started,
  .socket_endpoint = h_socket_endpoint,
  .socket_send = wspub_send,
  .socket_close = wspub_close,
  .on_when = h_on_when,
};

const struct destek_host *plugin_host(const char *owner)
{
  static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
  static struct destek_host *hosts[128];
  static int n_hosts;
  const char *name = util_intern(owner);
  pthread_mutex_lock(&lock);
  for (int i = 0; i < n_hosts; i++)
    if (hosts[i]->plugin == name) { pthread_mutex_unlock(&lock); return hosts[i]; }
  struct destek_host *h = malloc(sizeof *h);  /* lives until exit: plugins keep the pointer */
  if (!h) abort();
  *h = host_template;
  h->plugin = name;
  if (n_hosts < 128) hosts[n_hosts++] = h;
  pthread_mutex_unlock(&lock);
  return h;
}
