/* capi — a test-only C plugin (not shipped) that exercises every function of the host API in include/destek.h,
 * loaded as a .so from <data>/plugins/ like a merchant's plugin. tests/api/plugins.test.mjs drives it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "destek.h"

static const struct destek_host *host;

static const struct destek_migration migrations[] = {
  { "001_notes.sql", "CREATE TABLE capi_notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL, user_id INTEGER);"
                     "CREATE TABLE capi_log (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, ref TEXT, attempt INTEGER);" },
  { "002_ticks.sql", "CREATE TABLE capi_ticks (n INTEGER NOT NULL); INSERT INTO capi_ticks VALUES (0);" },
  { 0 }
};

static const struct destek_setting settings[] = {
  { "capi.greeting", DESTEK_SETTING_STRING, "merhaba", 0, "Greeting used by the echo route" },
  { "capi.limit", DESTEK_SETTING_INT, "3", 0, "A number" },
  { "capi.api_key", DESTEK_SETTING_STRING, "", 1, "A secret" },
  { 0 }
};

static int echo(struct destek_req *r)
{
  char q[64] = "";
  host->query_get(r, "q", q, sizeof q);
  const char *ua = host->header(r, "X-Test");
  char *greeting = host->setting_new("capi.greeting");
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "id", (double)host->param_int(r, "id"));
  cJSON_AddStringToObject(o, "id_text", host->param(r, "id"));
  cJSON_AddStringToObject(o, "q", q);
  cJSON_AddStringToObject(o, "x_test", ua ? ua : "");
  cJSON_AddStringToObject(o, "lang", host->lang(r));
  cJSON_AddStringToObject(o, "greeting", greeting ? greeting : "");
  free(greeting);
  host->add_header(r, "X-Capi", "yes");
  return host->reply_json(r, 200, o);
}

static int note_add(struct destek_req *r)
{
  cJSON *body;
  int rc = host->body(r, &body);
  if (rc) return rc;
  cJSON *text = cJSON_GetObjectItemCaseSensitive(body, "body");
  if (!cJSON_IsString(text)) return host->field_error(r, "missing_field", "body", "body is required");
  int64_t id = 0;
  if (host->exec(r, &id, "INSERT INTO capi_notes(body, user_id) VALUES (?1, ?2)", "ti", text->valuestring,
                 host->user_id(r)) != 0)
    return host->error(r, 500, "internal", "could not save");
  cJSON *payload = cJSON_CreateObject();
  cJSON_AddNumberToObject(payload, "id", (double)id);
  cJSON_AddStringToObject(payload, "body", text->valuestring);
  char subject[32];
  snprintf(subject, sizeof subject, "capi_note:%lld", (long long)id);
  if ((rc = host->emit(r, "capi.note_added", subject, payload))) return rc;
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "id", (double)id);
  return host->reply_json(r, 201, o);
}

static int rows_reply(struct destek_req *r, cJSON *rows)
{
  if (!rows) return host->error(r, 500, "internal", "query failed");
  cJSON *o = cJSON_CreateObject();
  cJSON_AddItemToObject(o, "items", rows);
  cJSON_AddNullToObject(o, "next_cursor");
  return host->reply_json(r, 200, o);
}

static int notes_list(struct destek_req *r)
{
  return rows_reply(r, host->query_new(r, "SELECT id, body, user_id FROM capi_notes ORDER BY id", NULL));
}

static int log_list(struct destek_req *r)
{
  return rows_reply(r, host->query_new(r, "SELECT kind, ref, attempt FROM capi_log ORDER BY id", NULL));
}

static int ticks(struct destek_req *r)
{
  return rows_reply(r, host->query_new(r, "SELECT n FROM capi_ticks", NULL));
}

static int timer_set(struct destek_req *r)
{
  cJSON *body;
  int rc = host->body(r, &body);
  if (rc) return rc;
  cJSON *key = cJSON_GetObjectItemCaseSensitive(body, "key"), *in = cJSON_GetObjectItemCaseSensitive(body, "in_seconds");
  if (!cJSON_IsString(key) || !cJSON_IsNumber(in)) return host->field_error(r, "invalid_field", "key", "key and in_seconds");
  cJSON *payload = cJSON_CreateObject();
  cJSON_AddStringToObject(payload, "key", key->valuestring);
  if (host->timer_at(r, "capi.ping", key->valuestring, (int64_t)time(NULL) + (int64_t)in->valuedouble, payload) != 0)
    return host->error(r, 500, "internal", "could not schedule");
  return host->reply_json(r, 201, cJSON_CreateObject());
}

static int timer_remove(struct destek_req *r)
{
  if (host->timer_cancel(r, "capi.ping", host->param(r, "key")) != 0) return host->error(r, 500, "internal", "x");
  return host->reply_body(r, 200, "text/plain; charset=utf-8", "cancelled", 9);
}

static int decide(struct destek_req *r)
{
  cJSON *args = cJSON_CreateArray();
  cJSON_AddItemToArray(args, cJSON_CreateNumber(21));
  cJSON *result = host->decide_new(r, "capi.double", args);
  cJSON_Delete(args);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddItemToObject(o, "result", result ? result : cJSON_CreateNull());
  return host->reply_json(r, 200, o);
}

static int me(struct destek_req *r)
{
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "user_id", (double)host->user_id(r));
  cJSON_AddStringToObject(o, "role", host->user_role(r));
  cJSON_AddStringToObject(o, "email", host->user_email(r));
  return host->reply_json(r, 200, o);
}

static int fail_emit(struct destek_req *r)
{
  int rc = host->emit(r, "capi.failing", "capi:fail", cJSON_CreateObject());
  if (rc) return rc;
  return host->reply_json(r, 202, cJSON_CreateObject());
}

static const struct destek_route routes[] = {
  { "GET",    "/capi/echo/{id}",    echo,         DESTEK_PUBLIC, "id:int" },
  { "POST",   "/capi/notes",        note_add,     DESTEK_AGENT,  NULL },
  { "GET",    "/capi/notes",        notes_list,   "capi:read",   NULL },
  { "GET",    "/capi/log",          log_list,     DESTEK_AGENT,  NULL },
  { "GET",    "/capi/ticks",        ticks,        DESTEK_AGENT,  NULL },
  { "POST",   "/capi/timers",       timer_set,    DESTEK_ADMIN,  NULL },
  { "DELETE", "/capi/timers/{key}", timer_remove, DESTEK_ADMIN,  "key:text" },
  { "GET",    "/capi/decide",       decide,       DESTEK_AGENT,  NULL },
  { "GET",    "/capi/me",           me,           DESTEK_AGENT,  NULL },
  { "POST",   "/capi/fail",         fail_emit,    DESTEK_AGENT,  NULL },
  { 0 }
};

static int veto_note(struct destek_req *call, const struct destek_event *ev, void *ud, char *err, size_t errlen)
{
  (void)call; (void)ud;
  const char *body = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev->payload, "body"));
  if (body && !strcmp(body, "veto-me")) {
    snprintf(err, errlen, "notes saying veto-me are not allowed");
    return 1;
  }
  return 0;
}

static int log_event(struct destek_req *call, const struct destek_event *ev, void *ud, char *err, size_t errlen)
{
  (void)ud; (void)err; (void)errlen;
  char ref[200];
  snprintf(ref, sizeof ref, "%s", ev->subject);
  return host->exec(call, NULL, "INSERT INTO capi_log(kind, ref, attempt) VALUES (?1, ?2, ?3)", "tti", ev->name, ref,
                    (int64_t)ev->attempt) == 0 ? 0 : 1;
}

static int always_fail(struct destek_req *call, const struct destek_event *ev, void *ud, char *err, size_t errlen)
{
  (void)call; (void)ev; (void)ud;
  snprintf(err, errlen, "capi refuses this event on purpose");
  return 1;
}

static int tick(struct destek_req *call, void *ud)
{
  (void)ud;
  return host->exec(call, NULL, "UPDATE capi_ticks SET n = n + 1", NULL);
}

static int ping(struct destek_req *call, const char *key, const cJSON *payload, void *ud)
{
  (void)ud;
  const char *k = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(payload, "key"));
  return host->exec(call, NULL, "INSERT INTO capi_log(kind, ref) VALUES ('timer', ?1)", "t", k ? k : key);
}

static int capi_init(const struct destek_host *h)
{
  host = h;
  if (h->abi != DESTEK_PLUGIN_ABI || h->size < sizeof(struct destek_host)) return -1;
  h->log(h, DESTEK_LOG_INFO, "capi starting (host ABI %d)", h->abi);
  return h->settings(h, settings) || h->scope(h, "capi:read") ||
         h->on(h, "capi.note_added", DESTEK_SYNC, veto_note, NULL) ||
         h->on(h, "capi.note_added", DESTEK_ASYNC, log_event, NULL) ||
         h->on(h, "user.created", DESTEK_ASYNC, log_event, NULL) ||
         h->on(h, "capi.failing", DESTEK_ASYNC, always_fail, NULL) ||
         h->every(h, "tick", 1, tick, NULL) ||
         h->timers(h, "capi.ping", ping, NULL);
}

const struct destek_plugin destek_plugin = {
  DESTEK_PLUGIN_ABI, sizeof(struct destek_plugin), "capi", "1.2.3", routes, migrations, capi_init, NULL
};
