/* hostapi — a test-only C plugin (not shipped) for the host functions added to the ABI-1 table after it was first
 * published (include/destek.h: calls, storage, requests, settings, people, secrets, HTML, live updates, the network,
 * services, CLI commands), loaded as a .so from <data>/plugins/. It links the helper library (jbuf, util) the way a
 * module does. tests/api/hostapi.test.mjs drives it; tests/plugins/svcclient.c calls its services. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "destek.h"
#include "destek_jbuf.h"
#include "destek_util.h"

static const struct destek_host *host;

static const struct destek_migration migrations[] = {
  { "001_items.sql",
    "CREATE TABLE hostapi_items (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,"
    " flag INTEGER NOT NULL, email TEXT, actor INTEGER);"
    "CREATE TABLE hostapi_stats (items INTEGER NOT NULL); INSERT INTO hostapi_stats VALUES (0);"
    "CREATE TABLE hostapi_side (id INTEGER PRIMARY KEY, note TEXT NOT NULL);" },
  { 0 }
};

static const struct destek_setting settings[] = {
  { "hostapi.limit", DESTEK_SETTING_INT, "7", 0, "A number" },
  { "hostapi.on", DESTEK_SETTING_BOOL, "true", 0, "A switch" },
  { 0 }
};

/* ------------------------------------------------------------------------------------------------ commit hook */

/* Like a search index: items mark the transaction dirty, and the hook rewrites the stats once before COMMIT. */
static int dirty;
static long commits, rollbacks;

static int before_commit(struct destek_db *w, void *ud)
{
  (void)ud;
  if (!dirty) return 0;
  return host->db_exec(w, "UPDATE hostapi_stats SET items = (SELECT count(*) FROM hostapi_items)", NULL) == SQLITE_OK
           ? 0 : -1;
}

static void after_transaction(int committed, void *ud)
{
  (void)ud;
  if (dirty) { if (committed) commits++; else rollbacks++; }
  dirty = 0;
}

/* ------------------------------------------------------------------------------------------------ items */

static const char *const KINDS[] = { "a", "b", NULL };

/* Inserts an item in call's transaction and emits hostapi.item_added. The id, or minus the error status. */
static int64_t item_insert(struct destek_req *call, const char *name, const char *kind, int flag, const char *email)
{
  struct destek_db *w = host->db_write(call);
  if (!w) return -host->status(call);
  int64_t actor = host->user_id(call);
  int rc = host->db_exec(w, "INSERT INTO hostapi_items(name, kind, flag, email, actor) VALUES (?1, ?2, ?3, ?4, ?5)",
                         "ttitI", name, kind, (int64_t)flag, email && *email ? email : NULL, actor > 0 ? &actor : NULL);
  if (rc == SQLITE_CONSTRAINT) return -host->error(call, 409, "name_taken", "an item named %s exists", name);
  if (rc != SQLITE_OK) return -host->error(call, 500, "internal", "could not save: %s", host->db_errmsg(w));
  int64_t id = host->db_last_id(w);
  if (host->db_changes(w) != 1) return -host->error(call, 500, "internal", "changes");
  dirty = 1;
  cJSON *payload = cJSON_CreateObject();
  cJSON_AddNumberToObject(payload, "id", (double)id);
  cJSON_AddStringToObject(payload, "name", name);
  char subject[40];
  snprintf(subject, sizeof subject, "hostapi:%lld", (long long)id);
  if ((rc = host->emit(call, "hostapi.item_added", subject, payload))) return -rc;
  return id;
}

/* The item as JSON text written with the helper library's jbuf; NULL when absent. */
static char *item_text_new(struct destek_db *db, int64_t id, size_t *len)
{
  sqlite3_stmt *st = host->db_prepare(db, "SELECT id, name, kind, flag, email FROM hostapi_items WHERE id = ?1");
  if (!st) return NULL;
  host->db_bind(st, "i", id);
  char *text = NULL;
  if (sqlite3_step(st) == SQLITE_ROW) {
    struct jbuf b;
    jbuf_init(&b, 256);
    JBUF_LIT(&b, "{\"id\":");
    jbuf_int(&b, sqlite3_column_int64(st, 0));
    JBUF_LIT(&b, ",\"name\":");
    jbuf_str(&b, (const char *)sqlite3_column_text(st, 1));
    JBUF_LIT(&b, ",\"kind\":");
    jbuf_str(&b, (const char *)sqlite3_column_text(st, 2));
    JBUF_LIT(&b, ",\"flag\":");
    jbuf_bool(&b, sqlite3_column_int(st, 3));
    JBUF_LIT(&b, ",\"email\":");
    jbuf_str(&b, (const char *)sqlite3_column_text(st, 4));
    JBUF_LIT(&b, "}");
    text = jbuf_take(&b, len);
  }
  host->db_done(st);
  return text;
}

/* POST /hostapi/items {name, kind, flag, contact: {email}} */
static int item_create(struct destek_req *r)
{
  cJSON *body;
  const char *name, *kind;
  int flag, rc;
  char email[256];
  if ((rc = host->body(r, &body)) || (rc = host->field_str(r, body, "name", DESTEK_REQUIRED, 40, &name)) ||
      (rc = host->field_enum(r, body, "kind", DESTEK_OPTIONAL, KINDS, &kind)) ||
      (rc = host->field_bool(r, body, "flag", DESTEK_OPTIONAL, &flag)))
    return rc;
  cJSON *contact = cJSON_GetObjectItemCaseSensitive(body, "contact");
  if ((rc = host->field_email(r, contact, "email", DESTEK_OPTIONAL, email))) {
    cJSON *e = host->error_object(r);   /* say where the member is */
    cJSON_ReplaceItemInObjectCaseSensitive(e, "field", cJSON_CreateString("contact.email"));
    return rc;
  }
  int64_t id = item_insert(r, name, kind ? kind : "a", flag > 0, email);
  if (id < 0) return (int)-id;
  if (host->audit(r, "hostapi.item_created", name, NULL) != 0) return host->error(r, 500, "internal", "audit");
  size_t len;
  char *text = item_text_new(host->db_read(r), id, &len);
  return host->reply_take(r, 201, "application/json; charset=utf-8", text, len);
}

/* GET /hostapi/items?limit&cursor: newest first. */
static int item_list(struct destek_req *r)
{
  int limit;
  int64_t after;
  int rc = host->page(r, &limit, &after);
  if (rc) return rc;
  struct destek_db *db = host->db_read(r);
  sqlite3_stmt *st = host->db_prepare(db, "SELECT id, name FROM hostapi_items WHERE (?1 = 0 OR id < ?1)"
                                          " ORDER BY id DESC LIMIT ?2");
  if (!st) return host->error(r, 500, "internal", "prepare");
  host->db_bind(st, "ii", after, (int64_t)limit + 1);
  cJSON *items = cJSON_CreateArray();
  int n = 0;
  int64_t last = 0, next = 0;
  while (sqlite3_step(st) == SQLITE_ROW) {
    if (n++ == limit) { next = last; break; }
    last = sqlite3_column_int64(st, 0);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)last);
    cJSON_AddStringToObject(o, "name", (const char *)sqlite3_column_text(st, 1));
    cJSON_AddItemToArray(items, o);
  }
  host->db_done(st);
  return host->reply_json(r, 200, host->list_new(items, next));
}

static int item_get(struct destek_req *r)
{
  size_t len;
  char *text = item_text_new(host->db_read(r), host->param_int(r, "id"), &len);
  if (!text) return host->error(r, 404, "not_found", "no such item");
  return host->reply_take(r, 200, "application/json; charset=utf-8", text, len);
}

static int item_delete(struct destek_req *r)
{
  struct destek_db *w = host->db_write(r);
  if (!w) return host->status(r);
  if (host->db_exec(w, "DELETE FROM hostapi_items WHERE id = ?1", "i", host->param_int(r, "id")) != SQLITE_OK)
    return host->error(r, 500, "internal", "delete");
  if (!host->db_changes(w)) return host->error(r, 404, "not_found", "no such item");
  dirty = 1;
  return host->reply_empty(r, 204);
}

/* GET /hostapi/stats: what the commit hook keeps, and how often it ran. */
static int stats(struct destek_req *r)
{
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "items", (double)host->db_int(host->db_read(r), -1, "SELECT items FROM hostapi_stats", NULL));
  cJSON_AddNumberToObject(o, "commits", (double)commits);
  cJSON_AddNumberToObject(o, "rollbacks", (double)rollbacks);
  char *side = host->db_text_new(host->db_read(r), "SELECT group_concat(note, ',') FROM hostapi_side", NULL);
  cJSON_AddStringToObject(o, "side", side ? side : "");
  free(side);
  return host->reply_json(r, 200, o);
}

/* ------------------------------------------------------------------------------------------------ calls */

/* POST /hostapi/side {note}: a write in a call of its own (call_new), then the request fails: the note stays. */
static int side_write(struct destek_req *r)
{
  cJSON *body;
  const char *note;
  int rc;
  if ((rc = host->body(r, &body)) || (rc = host->field_str(r, body, "note", DESTEK_REQUIRED, 100, &note))) return rc;
  struct destek_req *c = host->call_new(host);
  struct destek_db *w = host->db_write(c);
  int ok = w && host->db_exec(w, "INSERT INTO hostapi_side(note) VALUES (?1)", "t", note) == SQLITE_OK;
  if (host->call_end(c, ok) != 0) return host->error(r, 500, "internal", "the side call did not commit");
  /* The request's own write is taken back with it. */
  if ((w = host->db_write(r)) && host->db_exec(w, "INSERT INTO hostapi_side(note) VALUES ('lost')", NULL) != SQLITE_OK)
    return host->error(r, 500, "internal", "x");
  return host->error(r, 409, "refused_on_purpose", "the request fails; the side note stays");
}

/* POST /hostapi/nested: once the request writes, a second call of the same thread cannot take the writer (it would
 * wait for itself): refused with a 500 on that call, the request goes on. */
static int nested(struct destek_req *r)
{
  struct destek_db *w = host->db_write(r);
  if (!w) return host->status(r);
  struct destek_req *c = host->call_new(host);
  struct destek_db *w2 = host->db_write(c);
  int status = host->status(c);
  cJSON *e = host->error_object(c);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddBoolToObject(o, "second_writer", w2 != NULL);
  cJSON_AddNumberToObject(o, "second_status", status);
  cJSON_AddStringToObject(o, "second_code", e ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "code")) : "");
  host->call_end(c, 0);
  return host->reply_json(r, 200, o);
}

/* POST /hostapi/act-as {user_id}: a call acting for a user, then the system again. */
static int act_as(struct destek_req *r)
{
  cJSON *body;
  int rc = host->body(r, &body);
  if (rc) return rc;
  int64_t uid = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(body, "user_id"));
  struct destek_req *c = host->call_new(host);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "before", (double)host->user_id(c));
  cJSON_AddNumberToObject(o, "rc", host->act_as(c, uid));
  cJSON_AddNumberToObject(o, "user_id", (double)host->user_id(c));
  cJSON_AddStringToObject(o, "role", host->user_role(c));
  cJSON_AddStringToObject(o, "email", host->user_email(c));
  cJSON_AddStringToObject(o, "ip", host->client_ip(c));
  int64_t id = uid > 0 ? item_insert(c, "acted", "b", 0, NULL) : 0;
  cJSON_AddNumberToObject(o, "item", (double)id);
  host->act_as(c, 0);
  cJSON_AddNumberToObject(o, "after", (double)host->user_id(c));
  cJSON_AddNumberToObject(o, "committed", host->call_end(c, id > 0));
  return host->reply_json(r, 200, o);
}

/* POST /hostapi/users {email, name, role, password} */
static int user_add(struct destek_req *r)
{
  cJSON *body;
  int rc = host->body(r, &body);
  if (rc) return rc;
  const char *s[4];
  static const char *const names[4] = { "email", "name", "role", "password" };
  for (int i = 0; i < 4; i++) s[i] = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(body, names[i]));
  int64_t id = host->user_create(r, s[0], s[1], s[2], "en", s[3]);
  if (id == 0) return host->error(r, 409, "email_taken", "taken");
  if (id < 0) return host->status(r) >= 400 ? host->status(r) : host->error(r, 500, "internal", "user_create failed");
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "id", (double)id);
  return host->reply_json(r, 201, o);
}

/* ------------------------------------------------------------------------------------------------ the rest */

/* GET /hostapi/misc: requests, settings, secrets, HTML. */
static int misc(struct destek_req *r)
{
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "ip", host->client_ip(r));
  cJSON_AddStringToObject(o, "base_url", host->base_url());
  cJSON_AddNumberToObject(o, "limit", (double)host->setting_int("hostapi.limit", -1));
  cJSON_AddNumberToObject(o, "on", host->setting_bool("hostapi.on", -1));
  cJSON_AddNumberToObject(o, "unknown_setting", (double)host->setting_int("hostapi.nothing", 42));
  unsigned char raw[16] = { 0 }, zero[16] = { 0 };
  host->random_bytes(raw, sizeof raw);
  cJSON_AddBoolToObject(o, "random_changed", memcmp(raw, zero, sizeof raw) != 0);
  char hex[65];
  host->sha256_hex("abc", 3, hex);
  cJSON_AddStringToObject(o, "sha256_abc", hex);
  host->hmac_sha256_hex("key", 3, "The quick brown fox jumps over the lazy dog", 43, hex);
  cJSON_AddStringToObject(o, "hmac", hex);
  char tok[64];
  host->token(tok, 24);
  cJSON_AddStringToObject(o, "token", tok);
  char *safe = host->html_sanitize_new("<p onclick=\"x()\">Merhaba <script>alert(1)</script><a href=\"javascript:x\">"
                                       "link</a> <b>kalın</b></p>");
  cJSON_AddStringToObject(o, "sanitized", safe);
  free(safe);
  char *text = host->html_to_text_new("<h1>Başlık</h1><ul><li>bir</li><li>iki</li></ul>");
  cJSON_AddStringToObject(o, "text", text);
  free(text);
  cJSON_AddNumberToObject(o, "curl_ready", host->curl_ready());
  cJSON_AddNumberToObject(o, "status_before_reply", host->status(r));
  char b64[16];
  util_b64url_encode("ok", 2, b64);
  cJSON_AddStringToObject(o, "helper_b64url", b64);
  cJSON_AddBoolToObject(o, "has_call_service", DESTEK_HOST_HAS(host, call_service));
  return host->reply_json(r, 200, o);
}

/* POST /hostapi/fetch {url}: outbound HTTP through the core's guard. */
static int fetch(struct destek_req *r)
{
  cJSON *body;
  const char *url;
  int rc;
  if ((rc = host->body(r, &body)) || (rc = host->field_str(r, body, "url", DESTEK_REQUIRED, 500, &url))) return rc;
  const char *headers[] = { "X-From: hostapi", NULL };
  struct destek_http_request req = { "POST", url, headers, "ping", 4, 5000, 0 };
  struct destek_http_response resp;
  char err[300] = "";
  rc = host->http_request(&req, &resp, err, sizeof err);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "rc", rc);
  cJSON_AddNumberToObject(o, "status", (double)resp.status);
  cJSON_AddStringToObject(o, "body", resp.body ? resp.body : "");
  cJSON_AddStringToObject(o, "error", err);
  host->http_response_free(&resp);
  return host->reply_json(r, 200, o);
}

/* POST /hostapi/presence/{id} {typing} and GET: presence on "hostapi:<id>". */
static int presence_post(struct destek_req *r)
{
  cJSON *body;
  int typing, rc;
  if ((rc = host->body(r, &body)) || (rc = host->field_bool(r, body, "typing", DESTEK_OPTIONAL, &typing))) return rc;
  char subject[40];
  snprintf(subject, sizeof subject, "hostapi:%lld", (long long)host->param_int(r, "id"));
  host->presence_touch(r, subject, typing > 0);
  return host->reply_empty(r, 204);
}

static int presence_get(struct destek_req *r)
{
  char subject[40];
  snprintf(subject, sizeof subject, "hostapi:%lld", (long long)host->param_int(r, "id"));
  cJSON *o = cJSON_CreateObject();
  cJSON_AddItemToObject(o, "items", host->presence_new(r, subject));
  return host->reply_json(r, 200, o);
}

static int presence_forget(struct destek_req *r)
{
  char subject[40];
  snprintf(subject, sizeof subject, "hostapi:%lld", (long long)host->param_int(r, "id"));
  host->presence_forget(subject);
  return host->reply_empty(r, 204);
}

static const struct destek_route routes[] = {
  { "POST",   "/hostapi/items",               item_create,     DESTEK_AGENT, NULL },
  { "GET",    "/hostapi/items",               item_list,       DESTEK_AGENT, NULL },
  { "GET",    "/hostapi/items/{id}",          item_get,        DESTEK_AGENT, "id:int" },
  { "DELETE", "/hostapi/items/{id}",          item_delete,     DESTEK_AGENT, "id:int" },
  { "GET",    "/hostapi/stats",               stats,           DESTEK_AGENT, NULL },
  { "POST",   "/hostapi/side",                side_write,      DESTEK_AGENT, NULL },
  { "POST",   "/hostapi/nested",              nested,          DESTEK_AGENT, NULL },
  { "POST",   "/hostapi/act-as",              act_as,          DESTEK_ADMIN, NULL },
  { "POST",   "/hostapi/users",               user_add,        DESTEK_ADMIN, NULL },
  { "GET",    "/hostapi/misc",                misc,            DESTEK_PUBLIC, NULL },
  { "POST",   "/hostapi/fetch",               fetch,           DESTEK_ADMIN, NULL },
  { "POST",   "/hostapi/presence/{id}",       presence_post,   DESTEK_AGENT, "id:int" },
  { "GET",    "/hostapi/presence/{id}",       presence_get,    DESTEK_AGENT, "id:int" },
  { "DELETE", "/hostapi/presence/{id}",       presence_forget, DESTEK_AGENT, "id:int" },
  { 0 }
};

/* ------------------------------------------------------------------------------------------------ services */

/* hostapi.item_add {name}: adds an item in the caller's transaction; {id}. */
static int svc_item_add(struct destek_req *call, const cJSON *args, cJSON **result, void *ud)
{
  (void)ud;
  const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "name"));
  if (!name || !*name) return host->error(call, 422, "invalid_args", "hostapi.item_add needs a name");
  int64_t id = item_insert(call, name, "b", 1, NULL);
  if (id < 0) return (int)-id;
  *result = cJSON_CreateObject();
  cJSON_AddNumberToObject(*result, "id", (double)id);
  return 0;
}

/* hostapi.fail {name}: writes an item, then fails: the caller's transaction keeps nothing of it. */
static int svc_fail(struct destek_req *call, const cJSON *args, cJSON **result, void *ud)
{
  (void)ud; (void)result;
  const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "name"));
  int64_t id = item_insert(call, name ? name : "doomed", "a", 0, NULL);
  if (id < 0) return (int)-id;
  return host->error(call, 409, "conflict_here", "hostapi.fail fails after writing item %lld", (long long)id);
}

/* hostapi.whoami {}: the owner the call runs as is the publisher (its writes are checked as its own). */
static int svc_whoami(struct destek_req *call, const cJSON *args, cJSON **result, void *ud)
{
  (void)args; (void)ud;
  *result = cJSON_CreateObject();
  cJSON_AddNumberToObject(*result, "user_id", (double)host->user_id(call));
  cJSON_AddStringToObject(*result, "lang", host->lang(call));
  return 0;
}

/* ------------------------------------------------------------------------------------------------ commands */

/* destek hostapi hello [words...] < input: answers with its words, its input and the process that ran it. */
static int cmd_hello(int argc, const char *const *argv, const char *input, size_t input_len, char **message)
{
  struct jbuf b;
  jbuf_init(&b, 128);
  JBUF_LIT(&b, "{\"argv\":[");
  for (int i = 0; i < argc; i++) {
    if (i) JBUF_LIT(&b, ",");
    jbuf_str(&b, argv[i]);
  }
  JBUF_LIT(&b, "],\"input\":");
  jbuf_strn(&b, input ? input : "", input_len);
  JBUF_LIT(&b, ",\"pid\":");
  jbuf_int(&b, (int64_t)getpid());
  struct destek_req *c = host->call_new(host);
  JBUF_LIT(&b, ",\"items\":");
  jbuf_int(&b, host->db_int(host->db_read(c), -1, "SELECT count(*) FROM hostapi_items", NULL));
  host->call_end(c, 0);
  JBUF_LIT(&b, "}");
  *message = jbuf_take(&b, NULL);
  return argc && !strcmp(argv[0], "fail") ? 1 : 0;
}

/* destek hostapi offline NAME: adds an item with the server stopped. */
static int cmd_offline(int argc, const char *const *argv, const char *input, size_t input_len, char **message)
{
  (void)input; (void)input_len;
  if (argc != 1) {
    *message = strdup("usage: destek hostapi offline NAME");
    return 2;
  }
  struct destek_req *c = host->call_new(host);
  int64_t id = item_insert(c, argv[0], "a", 0, NULL);
  int committed = id > 0 && host->call_end(c, 1) == 0;
  if (id <= 0) host->call_end(c, 0);
  if (asprintf(message, committed ? "added item %lld" : "could not add the item", (long long)id) < 0) *message = NULL;
  return committed ? 0 : 1;
}

static const struct destek_command commands[] = {
  { "hostapi hello", "[WORDS...] < INPUT", "answer with the words and input (a test)", "A test command.\n",
    DESTEK_COMMAND_SERVER, 1024, cmd_hello },
  { "hostapi offline", "NAME", "add an item with the server stopped (a test)", "Another test command.\n",
    DESTEK_COMMAND_OFFLINE, 0, cmd_offline },
  { 0 }
};

/* ------------------------------------------------------------------------------------------------ live */

static void summarize(const struct destek_event *ev, cJSON *frame)
{
  cJSON_AddNumberToObject(frame, "item_id", cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(ev->payload, "id")));
}

static int subject_ok(const char *subject)
{
  const char *digits = subject + strlen("hostapi:");
  if (strncmp(subject, "hostapi:", 8) || !*digits || strspn(digits, "0123456789") != strlen(digits)) return 0;
  return host->db_int(host->db_read(NULL), 0, "SELECT count(*) FROM hostapi_items WHERE id = ?1", "i",
                      (int64_t)strtoll(digits, NULL, 10)) > 0;
}

static int hostapi_init(const struct destek_host *h)
{
  host = h;
  if (!DESTEK_HOST_HAS(h, call_service)) return -1;
  return h->settings(h, settings) || h->on_commit(h, before_commit, after_transaction, NULL) ||
         h->service(h, "hostapi.item_add", svc_item_add, NULL) || h->service(h, "hostapi.fail", svc_fail, NULL) ||
         h->service(h, "hostapi.whoami", svc_whoami, NULL) ||
         /* refused: another plugin's prefix, a taken name */
         !h->service(h, "capi.steal", svc_fail, NULL) || !h->service(h, "hostapi.item_add", svc_fail, NULL) ||
         h->live_events(h, "hostapi.*", summarize) || h->live_subjects(h, "hostapi", subject_ok);
}

const struct destek_plugin destek_plugin = {
  DESTEK_PLUGIN_ABI, sizeof(struct destek_plugin), "hostapi", "2.0.0", routes, migrations, hostapi_init, NULL,
  commands
};
