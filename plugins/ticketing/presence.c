/* Collision detection by short polling: an agent with a ticket open posts {typing} every few seconds; others
 * read who else was there in the last PRESENCE_TTL seconds. Kept in memory: it is worthless after a restart. */
#include "tkt.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

#define PRESENCE_TTL 20.0
#define PRESENCE_MAX 1024

struct presence {
  int64_t ticket_id, user_id;
  char name[256];
  int typing;
  double seen;                /* util_mono() */
};

static struct presence table[PRESENCE_MAX];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

void tkt_presence_forget(int64_t ticket_id)
{
  pthread_mutex_lock(&lock);
  for (int i = 0; i < PRESENCE_MAX; i++)
    if (table[i].ticket_id == ticket_id) table[i].ticket_id = 0;
  pthread_mutex_unlock(&lock);
}

static int ticket_exists(struct destek_req *r, int64_t id)
{
  return (int)db_int(http_db(r), 0, "SELECT count(*) FROM tkt_tickets WHERE id = ?1", "i", id);
}

static int presence_post(struct destek_req *r)
{
  int64_t id = http_param_int(r, "id");
  cJSON *body;
  int typing, rc;
  if ((rc = http_body_object(r, &body)) || (rc = http_field_bool(r, body, "typing", FIELD_OPTIONAL, &typing)))
    return rc;
  if (!ticket_exists(r, id)) return http_error(r, 404, "not_found", "no such ticket");
  if (r->who.user_id <= 0) return http_error(r, 403, "forbidden", "presence is for signed-in agents");
  double now = util_mono();
  pthread_mutex_lock(&lock);
  int slot = -1, oldest = 0;
  for (int i = 0; i < PRESENCE_MAX; i++) {
    if (table[i].ticket_id == id && table[i].user_id == r->who.user_id) { slot = i; break; }
    if (slot < 0 && (table[i].ticket_id == 0 || now - table[i].seen > PRESENCE_TTL)) slot = i;
    if (table[i].seen < table[oldest].seen) oldest = i;
  }
  if (slot < 0) slot = oldest;   /* full: the stalest entry goes */
  table[slot].ticket_id = id;
  table[slot].user_id = r->who.user_id;
  snprintf(table[slot].name, sizeof table[slot].name, "%s", r->who.name);
  table[slot].typing = typing > 0;
  table[slot].seen = now;
  pthread_mutex_unlock(&lock);
  return http_reply_empty(r, 204);
}

static int presence_get(struct destek_req *r)
{
  int64_t id = http_param_int(r, "id");
  if (!ticket_exists(r, id)) return http_error(r, 404, "not_found", "no such ticket");
  double now = util_mono();
  cJSON *items = cJSON_CreateArray();
  pthread_mutex_lock(&lock);
  for (int i = 0; i < PRESENCE_MAX; i++) {
    struct presence *p = &table[i];
    if (p->ticket_id != id || p->user_id == r->who.user_id || now - p->seen > PRESENCE_TTL) continue;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "user_id", (double)p->user_id);
    cJSON_AddStringToObject(o, "name", p->name);
    cJSON_AddBoolToObject(o, "typing", p->typing);
    cJSON_AddNumberToObject(o, "seconds_ago", (int)(now - p->seen));
    cJSON_AddItemToArray(items, o);
  }
  pthread_mutex_unlock(&lock);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddItemToObject(o, "items", items);
  return http_reply_json(r, 200, o);
}

const struct destek_route tkt_presence_routes[] = {
  { "POST", "/api/v1/tickets/{id}/presence", presence_post, DESTEK_AGENT, "id:int" },
  { "GET",  "/api/v1/tickets/{id}/presence", presence_get,  DESTEK_AGENT, "id:int" },
  { 0 }
};
