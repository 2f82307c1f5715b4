/* svcclient — a test-only C plugin (not shipped) that calls other modules' services (host->call_service), as a
 * module that uses another without including its headers or reading its tables. tests/api/hostapi.test.mjs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "destek.h"

static const struct destek_host *host;

/* POST /svcclient/call {service, args}: the service's result, or its error passed on. */
static int call(struct destek_req *r)
{
  cJSON *body;
  const char *name;
  int rc;
  if ((rc = host->body(r, &body)) || (rc = host->field_str(r, body, "service", DESTEK_REQUIRED, 100, &name))) return rc;
  cJSON *result = NULL;
  if ((rc = host->call_service(r, name, cJSON_GetObjectItemCaseSensitive(body, "args"), &result))) return rc;
  cJSON *o = cJSON_CreateObject();
  cJSON_AddItemToObject(o, "result", result);
  return host->reply_json(r, 200, o);
}

/* POST /svcclient/recover {name}: writes a row of its own, calls hostapi.fail (which writes, then fails), notes the
 * error and goes on to hostapi.item_add: one transaction keeps its own row and the second item only. An absent
 * service is optional here. */
static int recover(struct destek_req *r)
{
  cJSON *body;
  const char *name;
  int rc;
  if ((rc = host->body(r, &body)) || (rc = host->field_str(r, body, "name", DESTEK_REQUIRED, 40, &name))) return rc;
  struct destek_db *w = host->db_write(r);
  if (!w) return host->status(r);
  if (host->db_exec(w, "INSERT INTO svcclient_log(note) VALUES (?1)", "t", name) != SQLITE_OK)
    return host->error(r, 500, "internal", "log");
  cJSON *args = cJSON_CreateObject(), *result = NULL, *o = cJSON_CreateObject();
  cJSON_AddStringToObject(args, "name", name);
  rc = host->call_service(r, "hostapi.fail", args, &result);
  cJSON *e = host->error_object(r);
  cJSON_AddNumberToObject(o, "fail_status", rc);
  cJSON_AddStringToObject(o, "fail_code", e ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "code")) : "");
  rc = host->call_service(r, "nothere.find", args, &result);
  cJSON_AddNumberToObject(o, "absent_status", rc);
  e = host->error_object(r);
  cJSON_AddStringToObject(o, "absent_code", e ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "code")) : "");
  rc = host->call_service(r, "hostapi.item_add", args, &result);
  if (rc) { cJSON_Delete(args); cJSON_Delete(o); return rc; }
  cJSON_AddItemToObject(o, "added", result);
  cJSON_AddNumberToObject(o, "log_rows", (double)host->db_int(w, -1, "SELECT count(*) FROM svcclient_log", NULL));
  cJSON_Delete(args);
  return host->reply_json(r, 201, o);
}

static const struct destek_route routes[] = {
  { "POST", "/svcclient/call",    call,    DESTEK_AGENT, NULL },
  { "POST", "/svcclient/recover", recover, DESTEK_AGENT, NULL },
  { 0 }
};

static const struct destek_migration migrations[] = {
  { "001_log.sql", "CREATE TABLE svcclient_log (id INTEGER PRIMARY KEY, note TEXT NOT NULL);" },
  { 0 }
};

static int init(const struct destek_host *h)
{
  host = h;
  return 0;
}

const struct destek_plugin destek_plugin = {
  DESTEK_PLUGIN_ABI, sizeof(struct destek_plugin), "svcclient", "1.0.0", routes, migrations, init, NULL, NULL
};
