/* consentc — a test-only C plugin (not shipped) for the consent host functions (host->consent_record,
 * host->consent_state, host->message_send), loaded as a .so from <data>/plugins/. tests/api/consent-send.test.mjs
 * drives it: a C module, like a Lua plugin, cannot queue a commercial e-mail without a current ONAY. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "destek.h"

static const struct destek_host *host;

/* POST /consentc/send {contact_id, commercial}: {id} or {refused: code}. */
static int send(struct destek_req *r)
{
  cJSON *body;
  int rc, commercial;
  if ((rc = host->body(r, &body)) || (rc = host->field_bool(r, body, "commercial", DESTEK_REQUIRED, &commercial)))
    return rc;
  int64_t contact = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(body, "contact_id"));
  int before = host->consent_state(r, contact, "email");
  int64_t id = host->message_send(r, contact, "Kış indirimi başladı", "Tüm ürünlerde %30 indirim.", commercial);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddBoolToObject(o, "onay", before);
  if (id > 0) cJSON_AddNumberToObject(o, "id", (double)id);
  else cJSON_AddNumberToObject(o, "refused", (double)id);
  char *text = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  return host->reply_take(r, 200, "application/json; charset=utf-8", text, strlen(text));
}

/* POST /consentc/grant {contact_id}: records an ONAY from the module's web form. */
static int grant(struct destek_req *r)
{
  cJSON *body;
  int rc;
  if ((rc = host->body(r, &body))) return rc;
  int64_t contact = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(body, "contact_id"));
  int64_t id = host->consent_record(r, contact, "email", "ONAY", "web_form", "Bültene abone olmak istiyorum.", NULL,
                                    "192.0.2.10", NULL);
  if (!id) return host->status(r);
  char *text = NULL;
  if (asprintf(&text, "{\"id\":%lld}", (long long)id) < 0) abort();
  return host->reply_take(r, 201, "application/json; charset=utf-8", text, strlen(text));
}

static const struct destek_route routes[] = {
  { "POST", "/consentc/send",  send,  DESTEK_PUBLIC, NULL, 0 },
  { "POST", "/consentc/grant", grant, DESTEK_PUBLIC, NULL, 0 },
  { 0 }
};

static int consentc_init(const struct destek_host *h)
{
  host = h;
  return DESTEK_HOST_HAS(h, message_send) ? 0 : -1;
}

const struct destek_plugin destek_plugin = {
  DESTEK_PLUGIN_ABI, sizeof(struct destek_plugin), "consentc", "1.0.0", routes, NULL, consentc_init, NULL, NULL
};
