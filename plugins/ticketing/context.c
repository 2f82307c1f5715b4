/* What other modules know about a ticket, for macros, triggers' replies and the triage policy, without ticketing
 * knowing those modules (README.md, "Ticket context"). A module that knows something about tickets publishes the
 * service "<module>.ticket_context"; ticketing asks every such service, in name order, with
 *   {ticket_id, customer_id, order_number, subject, lang, purpose: "template" | "triage"[, body]}
 * (body, the first message, only for the triage) and merges what they answer:
 *   {variables: {"order.number": "1001", ...}, facts: {"order": {...}, "shipment": {...}}}
 * variables expand {{name}} in replies (names of [a-z0-9_.], the first module to answer a name wins); facts are added
 * to the ticket the triage policy gets (a member ticketing has itself is never replaced). A provider that fails is
 * logged and left out: a module cannot break a reply or a new ticket. */
#include "context.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tkt.h"

static const char SUFFIX[] = ".ticket_context";

static int name_ok(const char *s)
{
  if (!*s || strlen(s) > 64) return 0;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '.')) return 0;
  return 1;
}

cJSON *tkt_context_new(struct destek_req *call, struct destek_db *db, int64_t ticket_id, const char *purpose,
                       const char *body)
{
  cJSON *out = cJSON_CreateObject();
  cJSON *vars = cJSON_AddObjectToObject(out, "variables"), *facts = cJSON_AddObjectToObject(out, "facts");
  if (!DESTEK_HOST_HAS(tkt_host, services_new)) return out;   /* a core older than the service list */
  cJSON *list = tkt_host->services_new(SUFFIX);
  cJSON *args = NULL;
  const cJSON *svc;
  cJSON_ArrayForEach(svc, list) {
    const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(svc, "name"));
    size_t n = name ? strlen(name) : 0;
    if (n <= sizeof SUFFIX - 1 || strcmp(name + n - (sizeof SUFFIX - 1), SUFFIX) || !strncmp(name, "ticketing.", 10))
      continue;
    if (!args) {
      sqlite3_stmt *st = tkt_db_prepare(db, "SELECT t.customer_id, t.order_number, t.subject, c.lang FROM tkt_tickets t"
                                            " LEFT JOIN core_contacts c ON c.id = t.customer_id WHERE t.id = ?1");
      if (!st) break;
      tkt_db_bind(st, "i", ticket_id);
      if (sqlite3_step(st) != SQLITE_ROW) { tkt_db_done(st); break; }
      args = cJSON_CreateObject();
      cJSON_AddNumberToObject(args, "ticket_id", (double)ticket_id);
      cJSON_AddNumberToObject(args, "customer_id", (double)sqlite3_column_int64(st, 0));
      if (sqlite3_column_type(st, 1) == SQLITE_NULL) cJSON_AddNullToObject(args, "order_number");
      else cJSON_AddStringToObject(args, "order_number", (const char *)sqlite3_column_text(st, 1));
      cJSON_AddStringToObject(args, "subject", (const char *)sqlite3_column_text(st, 2));
      const char *lang = (const char *)sqlite3_column_text(st, 3);
      cJSON_AddStringToObject(args, "lang", lang && !strcmp(lang, "en") ? "en" : "tr");
      tkt_db_done(st);
      cJSON_AddStringToObject(args, "purpose", purpose);
      if (body) cJSON_AddStringToObject(args, "body", body);
    }
    cJSON *res = NULL;
    int rc = tkt_call_service(call, name, args, &res);
    if (rc) {
      tkt_log(DESTEK_LOG_WARN, "%s failed (%d) for ticket %lld; left out", name, rc, (long long)ticket_id);
      cJSON_Delete(res);
      continue;
    }
    const cJSON *v;
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(res, "variables"))
      if (v->string && name_ok(v->string) && cJSON_IsString(v) && !cJSON_GetObjectItemCaseSensitive(vars, v->string))
        cJSON_AddStringToObject(vars, v->string, v->valuestring);
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(res, "facts"))
      if (v->string && name_ok(v->string) && !cJSON_GetObjectItemCaseSensitive(facts, v->string))
        cJSON_AddItemToObject(facts, v->string, cJSON_Duplicate(v, 1));
    cJSON_Delete(res);
  }
  cJSON_Delete(args);
  cJSON_Delete(list);
  return out;
}

int tkt_context_wanted(const char *tpl, const char *const *own, int n_own)
{
  for (const char *p = strstr(tpl, "{{"); p; p = strstr(p + 2, "{{")) {
    const char *end = strstr(p + 2, "}}");
    if (!end) return 0;
    size_t len = (size_t)(end - p - 2);
    int mine = 0;
    for (int i = 0; i < n_own && !mine; i++) mine = strlen(own[i]) == len && !strncmp(own[i], p + 2, len);
    if (!mine && len && len <= 64) return 1;
  }
  return 0;
}
