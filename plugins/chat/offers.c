/* What the widget offers when other modules are there, through their services (each optional: an absent module is
 * a clear answer, never a failure of the chat):
 *
 *   GET  /api/v1/chat/suggest?q=TEXT -> {items: [{title, description, url}]}: up to 3 published help-centre articles
 *        for what the visitor is typing as the first message (service helpcentre.suggest; url absolute, on this
 *        server). 404 suggestions_unavailable when the help centre is not installed or chat.suggest_articles is off.
 *   POST /api/v1/chat/csat {score: 1-5, comment?} -> {score}: "How did we do?" at the end of the visitor's latest
 *        conversation (ended), once (409 already_answered), recorded by the service feedback.csat_rate on the
 *        conversation's ticket. 404 csat_unavailable without the feedback module or with chat.csat off; 409
 *        no_conversation before the chat ended.
 * The session's answer says which are offered: features {suggest, csat}. */
#include "chat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int published(const char *name)
{
  cJSON *list = H->services_new(name);
  int found = 0;
  const cJSON *s;
  cJSON_ArrayForEach(s, list) {
    const char *n = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "name"));
    if (n && !strcmp(n, name)) found = 1;
  }
  cJSON_Delete(list);
  return found;
}

cJSON *chat_features_new(void)
{
  cJSON *o = cJSON_CreateObject();
  cJSON_AddBoolToObject(o, "suggest", H->setting_bool("chat.suggest_articles", 1) && published("helpcentre.suggest"));
  cJSON_AddBoolToObject(o, "csat", H->setting_bool("chat.csat", 1) && published("feedback.csat_rate"));
  return o;
}

static int suggest(struct destek_req *r)
{
  struct chat_visitor v;
  int rc = chat_visitor_auth(r, &v, 0);
  if (rc) return rc;
  char q[201];
  if (H->query_get(r, "q", q, sizeof q) < 0) return H->field_error(r, "invalid_field", "q", "q is at most 200 bytes");
  if (!H->setting_bool("chat.suggest_articles", 1))
    return H->error(r, 404, "suggestions_unavailable", "article suggestions are off (chat.suggest_articles)");
  long wait = 0;
  char key[40];
  snprintf(key, sizeof key, "%lld", (long long)v.id);
  if (H->rate_take_memory("chat.suggest", key, 60, 60, &wait) == 0)
    return H->error(r, 429, "rate_limited", "too many requests; try again in %ld seconds", wait);
  cJSON *args = cJSON_CreateObject();
  cJSON_AddStringToObject(args, "q", q);
  cJSON_AddStringToObject(args, "lang", v.lang[0] ? v.lang : "tr");
  cJSON_AddNumberToObject(args, "limit", 3);
  cJSON *res = NULL;
  rc = H->call_service(r, "helpcentre.suggest", args, &res);
  cJSON_Delete(args);
  if (rc == 501) {
    cJSON_Delete(res);
    return H->error(r, 404, "suggestions_unavailable", "there is no help centre to suggest articles from");
  }
  if (rc) { cJSON_Delete(res); return rc; }
  cJSON *o = cJSON_CreateObject();
  cJSON *items = cJSON_AddArrayToObject(o, "items");
  const cJSON *a;
  cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(res, "items")) {
    const char *title = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "title"));
    const char *desc = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "description"));
    const char *url = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "url"));
    if (!title || !url || cJSON_GetArraySize(items) >= 3) continue;
    cJSON *x = cJSON_CreateObject();
    cJSON_AddStringToObject(x, "title", title);
    cJSON_AddStringToObject(x, "description", desc ? desc : "");
    if (url[0] == '/') {   /* the widget is on the shop's page: the article's address on this server */
      char full[1024];
      snprintf(full, sizeof full, "%s%s", H->base_url(), url);
      cJSON_AddStringToObject(x, "url", full);
    } else {
      cJSON_AddStringToObject(x, "url", url);
    }
    cJSON_AddItemToArray(items, x);
  }
  cJSON_Delete(res);
  H->add_header(r, "Cache-Control", "no-store");
  return H->reply_json(r, 200, o);
}

static int csat_post(struct destek_req *r)
{
  struct chat_visitor v;
  cJSON *body;
  const char *comment = NULL;
  int rc;
  if ((rc = chat_visitor_auth(r, &v, 1)) || (rc = H->body(r, &body)) ||
      (rc = H->field_str(r, body, "comment", DESTEK_OPTIONAL, 2000, &comment)))
    return rc;
  const cJSON *score = cJSON_GetObjectItemCaseSensitive(body, "score");
  if (!cJSON_IsNumber(score) || score->valuedouble != (double)(int)score->valuedouble || score->valuedouble < 1 ||
      score->valuedouble > 5)
    return H->field_error(r, "invalid_field", "score", "score is 1 to 5");
  if (!H->setting_bool("chat.csat", 1)) return H->error(r, 404, "csat_unavailable", "the chat asks no rating (chat.csat)");
  int open = 0;
  int64_t conv = chat_latest_conversation(H->db_read(r), v.id, &open);
  if (!conv || open) return H->error(r, 409, "no_conversation", "a chat is rated once it has ended");
  int64_t ticket_id = H->db_int(H->db_read(r), 0, "SELECT ticket_id FROM chat_conversations WHERE id = ?1", "i", conv);
  cJSON *args = cJSON_CreateObject();
  cJSON_AddNumberToObject(args, "ticket_id", (double)ticket_id);
  cJSON_AddNumberToObject(args, "score", score->valuedouble);
  if (comment && *comment) cJSON_AddStringToObject(args, "comment", comment);
  cJSON_AddStringToObject(args, "via", "chat");
  cJSON *res = NULL;
  rc = H->call_service(r, "feedback.csat_rate", args, &res);
  cJSON_Delete(args);
  cJSON_Delete(res);
  if (rc == 501) return H->error(r, 404, "csat_unavailable", "there is no feedback module to keep the rating");
  if (rc) return rc;
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "score", score->valuedouble);
  return H->reply_json(r, 200, o);
}

const struct destek_route chat_offer_routes[] = {
  { "OPTIONS", "/api/v1/chat/suggest", chat_preflight, DESTEK_PUBLIC, NULL, 0 },
  { "OPTIONS", "/api/v1/chat/csat", chat_preflight, DESTEK_PUBLIC, NULL, 0 },
  { "GET", "/api/v1/chat/suggest", suggest, DESTEK_PUBLIC, NULL, 0 },
  { "POST", "/api/v1/chat/csat", csat_post, DESTEK_PUBLIC, NULL, 4096 },
  { 0 }
};
