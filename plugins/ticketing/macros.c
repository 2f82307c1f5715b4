/* Macros: canned replies in both languages with variables, plus field changes, applied to a ticket in one
 * transaction through the same paths as an agent's reply and PATCH (so history, events and mail follow). */
#include "tkt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "triggers.h"

static cJSON *macro_json(struct destek_db *db, int64_t id)
{
  sqlite3_stmt *st = tkt_db_prepare(db, "SELECT name, body_tr, body_en, changes, created_at, updated_at FROM tkt_macros"
                                    " WHERE id = ?1");
  if (!st) return NULL;
  tkt_db_bind(st, "i", id);
  cJSON *o = NULL;
  if (sqlite3_step(st) == SQLITE_ROW) {
    o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)id);
    cJSON_AddStringToObject(o, "name", (const char *)sqlite3_column_text(st, 0));
    cJSON_AddStringToObject(o, "body_tr", (const char *)sqlite3_column_text(st, 1));
    cJSON_AddStringToObject(o, "body_en", (const char *)sqlite3_column_text(st, 2));
    cJSON *c = cJSON_Parse((const char *)sqlite3_column_text(st, 3));
    cJSON_AddItemToObject(o, "changes", c ? c : cJSON_CreateObject());
    cJSON_AddStringToObject(o, "created_at", (const char *)sqlite3_column_text(st, 4));
    cJSON_AddStringToObject(o, "updated_at", (const char *)sqlite3_column_text(st, 5));
  }
  tkt_db_done(st);
  return o;
}

/* Checks a "changes" object (a macro's, or a reply's: POST …/messages). 0 or the 422 it set up. */
int tkt_changes_check(struct destek_req *r, const cJSON *c)
{
  if (!cJSON_IsObject(c)) return tkt_field_error(r, "invalid_field", "changes", "changes must be an object");
  const cJSON *v;
  cJSON_ArrayForEach(v, c) {
    const char *k = v->string;
    int ok = 0;
    if (!strcmp(k, "status")) for (int i = 1; cJSON_IsString(v) && TKT_STATUSES[i]; i++) ok |= !strcmp(v->valuestring, TKT_STATUSES[i]);
    else if (!strcmp(k, "priority")) for (int i = 0; cJSON_IsString(v) && TKT_PRIORITIES[i]; i++) ok |= !strcmp(v->valuestring, TKT_PRIORITIES[i]);
    else if (!strcmp(k, "add_tags") || !strcmp(k, "remove_tags")) {
      int rc = tkt_tags_check(r, v, "changes");
      if (rc) return rc;
      ok = 1;
    } else if (!strcmp(k, "assignee_id")) {
      ok = cJSON_IsNull(v) || (cJSON_IsString(v) && (!strcmp(v->valuestring, "me") || !strcmp(v->valuestring, "none"))) ||
           (cJSON_IsNumber(v) && v->valuedouble >= 1);
    } else if (!strcmp(k, "team_id")) {
      ok = cJSON_IsNull(v) || (cJSON_IsNumber(v) && v->valuedouble >= 1 &&
                               tkt_db_int(tkt_db_read(r), 0, "SELECT count(*) FROM tkt_teams WHERE id = ?1", "i",
                                          (int64_t)v->valuedouble));
    }
    if (!ok) return tkt_field_error(r, "invalid_field", "changes", "changes.%s is not valid", k);
  }
  return 0;
}

int tkt_changes_apply_json(struct destek_req *r, struct destek_db *w, int64_t ticket_id, const cJSON *ch,
                           const char *actor)
{
  if (!cJSON_IsObject(ch) || !ch->child) return 0;
  struct tkt_changes c = { 0 };
  const cJSON *v;
  int rc;
  if (cJSON_IsString(v = cJSON_GetObjectItem(ch, "status"))) c.status = v->valuestring;
  if (cJSON_IsString(v = cJSON_GetObjectItem(ch, "priority"))) c.priority = v->valuestring;
  c.add_tags = cJSON_GetObjectItem(ch, "add_tags");
  c.remove_tags = cJSON_GetObjectItem(ch, "remove_tags");
  if ((v = cJSON_GetObjectItem(ch, "team_id"))) {
    c.set_team = 1;
    c.team_id = cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
  }
  if ((rc = tkt_assignee_field(r, ch, "assignee_id", &c.set_assignee, &c.assignee_id))) return rc;
  return tkt_apply_changes(r, w, ticket_id, &c, actor);
}

static int macro_save(struct destek_req *r, int64_t id)
{
  cJSON *body;
  int rc;
  const char *name;
  if ((rc = tkt_body(r, &body)) ||
      (rc = tkt_field_str(r, body, "name", id ? DESTEK_OPTIONAL : DESTEK_REQUIRED, 100, &name)))
    return rc;
  const char *bodies[2] = { NULL, NULL }, *bnames[2] = { "body_tr", "body_en" };
  for (int i = 0; i < 2; i++) {
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(body, bnames[i]);
    if (!b) continue;
    if (!cJSON_IsString(b) || strlen(b->valuestring) > TKT_BODY_MAX)
      return tkt_field_error(r, "invalid_field", bnames[i], "%s must be text of at most %d bytes", bnames[i], TKT_BODY_MAX);
    bodies[i] = b->valuestring;
  }
  const cJSON *ch = cJSON_GetObjectItemCaseSensitive(body, "changes");
  if (ch && (rc = tkt_changes_check(r, ch))) return rc;
  struct destek_db *w = tkt_db_write(r);
  if (!w) return tkt_status(r);
  if (id && !tkt_db_int(w, 0, "SELECT count(*) FROM tkt_macros WHERE id = ?1", "i", id))
    return tkt_error(r, 404, "not_found", "no such macro");
  char *changes = ch ? cJSON_PrintUnformatted(ch) : NULL;
  char now[21];
  tkt_now(now);
  if (!id)
    rc = tkt_db_exec(w, "INSERT INTO tkt_macros(name, body_tr, body_en, changes, created_at, updated_at)"
                    " VALUES (?1, coalesce(?2, ''), coalesce(?3, ''), coalesce(?4, '{}'), ?5, ?5)", "ttttt", name,
                 bodies[0], bodies[1], changes, now);
  else
    rc = tkt_db_exec(w, "UPDATE tkt_macros SET name = coalesce(?2, name), body_tr = coalesce(?3, body_tr),"
                    " body_en = coalesce(?4, body_en), changes = coalesce(?5, changes), updated_at = ?6 WHERE id = ?1",
                 "itttt" "t", id, name, bodies[0], bodies[1], changes, now);
  cJSON_free(changes);
  if (rc == SQLITE_CONSTRAINT) return tkt_error(r, 409, "name_taken", "a macro with this name exists");
  if (rc != SQLITE_OK) return tkt_error(r, 500, "internal", "the macro could not be saved");
  if (!tkt_db_int(w, 0, "SELECT body_tr <> '' OR body_en <> '' OR changes <> '{}' FROM tkt_macros WHERE id = ?1", "i",
              id ? id : tkt_db_last_id(w)))
    return tkt_field_error(r, "invalid_field", "body_tr", "a macro needs a reply text or changes");
  return 0;
}

static const struct tkt_admin_table MACRO_TABLE = {
  "macro", macro_json,
  "SELECT id FROM tkt_macros ORDER BY name, id LIMIT 1000",
  "SELECT count(*) FROM tkt_macros WHERE id = ?1",
  "DELETE FROM tkt_macros WHERE id = ?1",
};

static int macro_list(struct destek_req *r) { return tkt_admin_list(r, &MACRO_TABLE); }

static int macro_create(struct destek_req *r)
{
  int rc = macro_save(r, 0);
  return rc ? rc : tkt_admin_saved(r, &MACRO_TABLE, 0);
}

static int macro_get(struct destek_req *r) { return tkt_admin_get(r, &MACRO_TABLE); }

static int macro_update(struct destek_req *r)
{
  int64_t id = tkt_param_int(r, "id");
  int rc = macro_save(r, id);
  return rc ? rc : tkt_admin_saved(r, &MACRO_TABLE, id);
}

static int macro_delete(struct destek_req *r) { return tkt_admin_delete(r, &MACRO_TABLE); }

/* POST /api/v1/tickets/{id}/macros/{macro_id}/apply [{to_customer_id}]: the reply in the customer's language (the
 * other language when that one is empty) as the caller, then the changes; all or nothing. Answers with the ticket.
 * On a ticket other customers' tickets were merged into, to_customer_id names whom the reply is for (parts.c): its
 * variables are that customer's and their ticket's. */
static int macro_apply(struct destek_req *r)
{
  int64_t ticket_id = tkt_param_int(r, "id"), macro_id = tkt_param_int(r, "macro_id");
  cJSON *body = NULL;
  const char *length = tkt_header(r, "Content-Length");
  int rc = 0;
  if (length && strcmp(length, "0") && (rc = tkt_body(r, &body))) return rc;
  struct destek_db *w = tkt_db_write(r);
  if (!w) return tkt_status(r);
  cJSON *m = macro_json(w, macro_id);
  if (!m) return tkt_error(r, 404, "not_found", "no such macro");
  /* A reply is for one customer: on a ticket of several, the one named (parts.c). */
  int64_t part = ticket_id;
  int replies = *cJSON_GetObjectItem(m, "body_tr")->valuestring || *cJSON_GetObjectItem(m, "body_en")->valuestring;
  if (replies && (rc = tkt_reply_part_field(r, w, body, ticket_id, &part))) { cJSON_Delete(m); return rc; }
  char *lang = tkt_db_text_new(w, "SELECT c.lang FROM tkt_tickets t JOIN core_contacts c ON c.id = t.customer_id"
                              " WHERE t.id = ?1", "i", part);
  if (!lang) { cJSON_Delete(m); return tkt_error(r, 404, "not_found", "no such ticket"); }
  int en = !strcmp(lang, "en");
  free(lang);
  const char *tpl = cJSON_GetObjectItem(m, en ? "body_en" : "body_tr")->valuestring;
  if (!*tpl) tpl = cJSON_GetObjectItem(m, en ? "body_tr" : "body_en")->valuestring;
  char actor[48];
  tkt_actor(r, actor);
  if (*tpl) {
    char *text = tkt_template_expand_new(r, w, tpl, part, tkt_user_id(r));
    int64_t mid = tkt_message_add(r, w, ticket_id, part, "reply", tkt_user_id(r), 0, text, NULL, NULL, actor);
    free(text);
    if (mid < 0) rc = (int)-mid;
  }
  const cJSON *ch = cJSON_GetObjectItem(m, "changes");
  if (!rc) rc = tkt_changes_apply_json(r, w, ticket_id, ch, actor);
  cJSON_Delete(m);
  if (rc) return rc;
  return tkt_reply_json(r, 200, tkt_ticket_json(w, ticket_id, 1));
}

/* GET /api/v1/tickets/{id}/macros/{macro_id}/render[?to_customer_id=]: the macro's reply as it would be written for
 * this ticket (the customer's language, every variable filled, other modules' too), for the composer to put in the
 * editor; nothing is sent or changed. {{customer.honorific}} is kept for the agent to choose (honorifics lists the
 * choices: Bey, Hanım in Turkish; none in English, where it is dropped). Answers {macro_id, name, lang, body,
 * changes, honorifics}. */
static int macro_render(struct destek_req *r)
{
  int64_t ticket_id = tkt_param_int(r, "id"), macro_id = tkt_param_int(r, "macro_id");
  struct destek_db *db = tkt_db_read(r);
  cJSON *m = macro_json(db, macro_id);
  if (!m) return tkt_error(r, 404, "not_found", "no such macro");
  int64_t part = ticket_id;
  char buf[24];
  if (tkt_query_get(r, "to_customer_id", buf, sizeof buf) > 0 && *buf) {
    int64_t cid = strtoll(buf, NULL, 10);
    part = tkt_db_int(db, 0, "SELECT id FROM tkt_tickets WHERE customer_id = ?1 AND (id = ?2 OR merged_into = ?2)"
                      " ORDER BY id = ?2 DESC, id LIMIT 1", "ii", cid, ticket_id);
    if (!part) { cJSON_Delete(m); return tkt_field_error(r, "invalid_field", "to_customer_id", "not a customer of this ticket"); }
  }
  char *lang = tkt_db_text_new(db, "SELECT c.lang FROM tkt_tickets t JOIN core_contacts c ON c.id = t.customer_id"
                               " WHERE t.id = ?1", "i", part);
  if (!lang) { cJSON_Delete(m); return tkt_error(r, 404, "not_found", "no such ticket"); }
  int en = !strcmp(lang, "en");
  free(lang);
  const char *tpl = cJSON_GetObjectItem(m, en ? "body_en" : "body_tr")->valuestring;
  if (!*tpl) tpl = cJSON_GetObjectItem(m, en ? "body_tr" : "body_en")->valuestring;
  /* The honorific stays a placeholder through the expansion (\x01 is no variable), for the agent to choose. */
  static const char HON[] = "{{customer.honorific}}";
  int honorific = !en && strstr(tpl, HON) != NULL;
  size_t tl = strlen(tpl);
  char *marked = malloc(tl + 1), *o = marked;
  if (!marked) abort();
  for (const char *p = tpl; *p;) {
    if (honorific && !strncmp(p, HON, sizeof HON - 1)) { *o++ = '\x01'; p += sizeof HON - 1; }
    else *o++ = *p++;
  }
  *o = 0;
  char *text = tkt_template_expand_new(r, db, marked, part, tkt_user_id(r));
  free(marked);
  size_t n = 0;
  for (const char *p = text; *p; p++) n += *p == '\x01';
  char *out = malloc(strlen(text) + n * sizeof HON + 1);
  if (!out) abort();
  o = out;
  for (const char *p = text; *p; p++) {
    if (*p == '\x01') { memcpy(o, HON, sizeof HON - 1); o += sizeof HON - 1; }
    else *o++ = *p;
  }
  *o = 0;
  free(text);
  cJSON *res = cJSON_CreateObject();
  cJSON_AddNumberToObject(res, "macro_id", (double)macro_id);
  cJSON_AddStringToObject(res, "name", cJSON_GetObjectItem(m, "name")->valuestring);
  cJSON_AddStringToObject(res, "lang", en ? "en" : "tr");
  cJSON_AddStringToObject(res, "body", out);
  free(out);
  cJSON_AddItemToObject(res, "changes", cJSON_DetachItemFromObject(m, "changes"));
  cJSON *hon = cJSON_AddArrayToObject(res, "honorifics");
  if (honorific) {
    cJSON_AddItemToArray(hon, cJSON_CreateString("Bey"));
    cJSON_AddItemToArray(hon, cJSON_CreateString("Hanım"));
  }
  cJSON_Delete(m);
  return tkt_reply_json(r, 200, res);
}

const struct destek_route tkt_macro_routes[] = {
  { "GET",    "/api/v1/tickets/{id}/macros/{macro_id}/render", macro_render, DESTEK_AGENT, "id:int macro_id:int" },
  { "GET",    "/api/v1/macros",                                macro_list,   DESTEK_AGENT, NULL },
  { "POST",   "/api/v1/macros",                                macro_create, DESTEK_ADMIN, NULL },
  { "GET",    "/api/v1/macros/{id}",                           macro_get,    DESTEK_AGENT, "id:int" },
  { "PATCH",  "/api/v1/macros/{id}",                           macro_update, DESTEK_ADMIN, "id:int" },
  { "DELETE", "/api/v1/macros/{id}",                           macro_delete, DESTEK_ADMIN, "id:int" },
  { "POST",   "/api/v1/tickets/{id}/macros/{macro_id}/apply",  macro_apply,  DESTEK_AGENT, "id:int macro_id:int" },
  { 0 }
};
