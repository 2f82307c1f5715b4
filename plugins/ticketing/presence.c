/* Collision detection and live updates for tickets. Agents' apps hold a websocket (GET /api/v1/stream)
 * that tells them who else views or types on a ticket and which tickets changed; this file declares what of the
 * ticket events goes over it and which subjects ("ticket:<id>") may be watched. The short-poll routes below remain
 * for integrations and as the app's fallback while its socket is down; both share the core's presence table. */
#include "tkt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


void tkt_presence_forget(int64_t ticket_id)
{
  char subject[40];
  snprintf(subject, sizeof subject, "ticket:%lld", (long long)ticket_id);
  tkt_presence_forget_subject(subject);
}

static int ticket_exists(struct destek_req *r, int64_t id)
{
  return (int)tkt_db_int(tkt_db_read(r), 0, "SELECT count(*) FROM tkt_tickets WHERE id = ?1", "i", id);
}

static int presence_post(struct destek_req *r)
{
  int64_t id = tkt_param_int(r, "id");
  cJSON *body;
  int typing, rc;
  if ((rc = tkt_body(r, &body)) || (rc = tkt_field_bool(r, body, "typing", DESTEK_OPTIONAL, &typing)))
    return rc;
  if (!ticket_exists(r, id)) return tkt_error(r, 404, "not_found", "no such ticket");
  if (tkt_user_id(r) <= 0) return tkt_error(r, 403, "forbidden", "presence is for signed-in agents");
  char subject[40];
  snprintf(subject, sizeof subject, "ticket:%lld", (long long)id);
  tkt_presence_touch(r, subject, typing > 0);
  return tkt_reply_empty(r, 204);
}

static int presence_get(struct destek_req *r)
{
  int64_t id = tkt_param_int(r, "id");
  if (!ticket_exists(r, id)) return tkt_error(r, 404, "not_found", "no such ticket");
  char subject[40];
  snprintf(subject, sizeof subject, "ticket:%lld", (long long)id);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddItemToObject(o, "items", tkt_presence_new(r, subject));
  return tkt_reply_json(r, 200, o);
}

const struct destek_route tkt_presence_routes[] = {
  { "POST", "/api/v1/tickets/{id}/presence", presence_post, DESTEK_AGENT, "id:int" },
  { "GET",  "/api/v1/tickets/{id}/presence", presence_get,  DESTEK_AGENT, "id:int" },
  { 0 }
};

/* ------------------------------------------------------------------------------------------------ live stream */

static void copy_member(const cJSON *from, const char *name, cJSON *to, const char *as)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(from, name);
  if (cJSON_IsNumber(v)) cJSON_AddNumberToObject(to, as, v->valuedouble);
  else if (cJSON_IsString(v)) cJSON_AddStringToObject(to, as, v->valuestring);
  else if (cJSON_IsNull(v)) cJSON_AddNullToObject(to, as);
  else if (cJSON_IsBool(v)) cJSON_AddBoolToObject(to, as, cJSON_IsTrue(v));
}

/* What a client needs to decide whether to refetch a list or a ticket: ids, status, assignment, who did it and
 * which fields changed. No subject, no customer, no message text: an internal note's body never travels here. */
static void ticket_summary(const struct destek_event *ev, cJSON *frame)
{
  const cJSON *p = ev->payload;
  copy_member(p, "id", frame, "ticket_id");
  copy_member(p, "status", frame, "status");
  copy_member(p, "priority", frame, "priority");
  copy_member(p, "assignee_id", frame, "assignee_id");
  copy_member(p, "team_id", frame, "team_id");
  copy_member(p, "actor", frame, "actor");
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(p, "message");
  if (cJSON_IsObject(m)) {
    cJSON *o = cJSON_AddObjectToObject(frame, "message");
    copy_member(m, "id", o, "id");
    copy_member(m, "kind", o, "kind");
  }
  const cJSON *changes = cJSON_GetObjectItemCaseSensitive(p, "changes");
  if (cJSON_IsObject(changes)) {
    cJSON *names = cJSON_AddArrayToObject(frame, "changes");
    for (const cJSON *c = changes->child; c; c = c->next) cJSON_AddItemToArray(names, cJSON_CreateString(c->string));
  }
  const cJSON *source = cJSON_GetObjectItemCaseSensitive(p, "source");
  if (cJSON_IsObject(source)) copy_member(source, "id", frame, "source_id");
  const cJSON *sla = cJSON_GetObjectItemCaseSensitive(p, "sla");
  if (cJSON_IsObject(sla)) copy_member(sla, "target", frame, "sla_target");
}

/* "ticket:<id>" of an existing ticket. Runs on the socket's worker thread. */
static int ticket_subject(const char *subject)
{
  const char *digits = subject + strlen("ticket:");
  if (strncmp(subject, "ticket:", 7) || !*digits || strlen(digits) > 18 || strspn(digits, "0123456789") != strlen(digits))
    return 0;
  struct destek_db *db = tkt_db_read(NULL);
  return db && tkt_db_int(db, 0, "SELECT count(*) FROM tkt_tickets WHERE id = ?1", "i", (int64_t)strtoll(digits, NULL, 10)) > 0;
}

int tkt_live_init(void)
{
  const struct destek_host *h = tkt_host;
  return h->live_events(h, "ticket.*", ticket_summary) | h->live_events(h, "message.added", ticket_summary) |
         h->live_events(h, "sla.*", ticket_summary) | h->live_subjects(h, "ticket", ticket_subject);
}
