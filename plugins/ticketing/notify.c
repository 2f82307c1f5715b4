/* Agents' notifications: an assignment to me (by someone else), an @mention of me in a note, a customer's reply on a
 * ticket assigned to me. Each is a row of tkt_notifications written by a sync subscriber in the transaction of the
 * change itself, so a notification exists exactly when its cause does. Per user and kind, tkt_notify_prefs says
 * whether it is written at all (in_app) and whether the browser also shows it on the desktop (desktop; the agents'
 * app asks the browser's permission and shows it with the Notification API).
 *
 *   GET  /api/v1/notifications[?unread=true&limit=]  {items: [{id, kind, ticket_id, reference, subject, message_id,
 *                                                     actor_name, excerpt, created_at, read_at, desktop}], unread}
 *   POST /api/v1/notifications/read                   {ids: [...]} or {all: true} → 204
 *   GET  /api/v1/notifications/settings               {assigned: {in_app, desktop}, mention: {...}, customer_reply: {...}}
 *   PUT  /api/v1/notifications/settings               the same shape (the kinds given) → 200 the settings
 *
 * Mentions: "@" followed by a colleague's full name or first name (Turkish-aware, any case: "@ayşe", "@Ayşe Yılmaz");
 * the longest name that matches wins, so "@Ayşe Yılmaz" is not also "@Ayşe" of someone else. */
#include "tkt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fold.h"

static const char *const KINDS[] = { "assigned", "mention", "customer_reply", NULL };

/* Whether user_id wants notifications of kind written (no row: yes). */
static int wanted(struct destek_db *db, int64_t user_id, const char *kind)
{
  return (int)tkt_db_int(db, 1, "SELECT in_app FROM tkt_notify_prefs WHERE user_id = ?1 AND kind = ?2", "it",
                         user_id, kind);
}

static int notify(struct destek_req *call, int64_t user_id, const char *kind, int64_t ticket_id, int64_t message_id,
                  int64_t actor_id)
{
  struct destek_db *w = tkt_db_write(call);
  if (!w) return -1;
  if (!wanted(w, user_id, kind)) return 0;
  if (!tkt_db_int(w, 0, "SELECT count(*) FROM core_users WHERE id = ?1 AND active = 1", "i", user_id)) return 0;
  char *actor = actor_id > 0 ? tkt_db_text_new(w, "SELECT name FROM core_users WHERE id = ?1", "i", actor_id) : NULL;
  char now[21];
  tkt_now(now);
  int rc = tkt_db_exec(w, "INSERT INTO tkt_notifications(user_id, kind, ticket_id, message_id, actor_name, created_at)"
                          " VALUES (?1, ?2, ?3, ?4, ?5, ?6)", "itiItt", user_id, kind, ticket_id,
                       message_id > 0 ? &message_id : NULL, actor, now) == SQLITE_OK ? 0 : -1;
  free(actor);
  return rc;
}

static int64_t actor_user(const cJSON *payload)
{
  const char *a = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(payload, "actor"));
  return a && !strncmp(a, "user:", 5) ? strtoll(a + 5, NULL, 10) : 0;
}

static int on_assigned(struct destek_req *call, const struct destek_event *ev, void *ud, char *err, size_t errlen)
{
  (void)ud;
  const cJSON *a = cJSON_GetObjectItemCaseSensitive(ev->payload, "assignee_id");
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(ev->payload, "id");
  if (!cJSON_IsNumber(a) || !cJSON_IsNumber(t)) return 0;
  int64_t actor = actor_user(ev->payload);
  if ((int64_t)a->valuedouble == actor) return 0;   /* took it myself */
  if (notify(call, (int64_t)a->valuedouble, "assigned", (int64_t)t->valuedouble, 0, actor) != 0) {
    snprintf(err, errlen, "the notification could not be written");
    return -1;
  }
  return 0;
}

/* The users mentioned in a note's text ("@name"), at most 20, written to ids; their count. */
static int mentions(struct destek_db *db, const char *body, int64_t *ids, int max)
{
  if (!strchr(body, '@')) return 0;
  char *text = tkt_fold_new(body, strlen(body));
  int n = 0;
  sqlite3_stmt *st = tkt_db_prepare(db, "SELECT id, name FROM core_users WHERE active = 1 ORDER BY id LIMIT 1000");
  if (!st) { free(text); return 0; }
  for (char *at = strchr(text, '@'); at && n < max; at = strchr(at + 1, '@')) {
    int64_t best = 0;
    size_t best_len = 0;
    sqlite3_reset(st);
    while (sqlite3_step(st) == SQLITE_ROW) {
      const char *name = (const char *)sqlite3_column_text(st, 1);
      if (!name || !*name) continue;
      char *full = tkt_fold_new(name, strlen(name));
      size_t first_len = strcspn(full, " ");
      for (int form = 0; form < 2; form++) {
        size_t len = form ? first_len : strlen(full);
        if (len && len > best_len && !strncmp(at + 1, full, len)) {
          char next = at[1 + len];
          if (!next || !((next >= 'a' && next <= 'z') || (next >= '0' && next <= '9') || (unsigned char)next >= 0x80)) {
            best = sqlite3_column_int64(st, 0);
            best_len = len;
          }
        }
      }
      free(full);
    }
    int seen = 0;
    for (int i = 0; i < n; i++) seen |= ids[i] == best;
    if (best && !seen) ids[n++] = best;
  }
  tkt_db_done(st);
  free(text);
  return n;
}

static int on_message(struct destek_req *call, const struct destek_event *ev, void *ud, char *err, size_t errlen)
{
  (void)ud;
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(ev->payload, "message");
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(ev->payload, "id");
  const cJSON *mid = cJSON_GetObjectItemCaseSensitive(m, "id");
  const char *kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "kind"));
  if (!kind || !cJSON_IsNumber(t) || !cJSON_IsNumber(mid)) return 0;
  int64_t ticket_id = (int64_t)t->valuedouble, message_id = (int64_t)mid->valuedouble;
  const cJSON *au = cJSON_GetObjectItemCaseSensitive(m, "author_user_id");
  int64_t author = cJSON_IsNumber(au) ? (int64_t)au->valuedouble : 0;
  int rc = 0;
  if (!strcmp(kind, "customer")) {
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(ev->payload, "assignee_id");
    if (cJSON_IsNumber(a)) rc = notify(call, (int64_t)a->valuedouble, "customer_reply", ticket_id, message_id, 0);
  } else if (!strcmp(kind, "note")) {
    struct destek_db *db = tkt_db_read(call);
    char *body = tkt_db_text_new(db, "SELECT body FROM tkt_messages WHERE id = ?1", "i", message_id);
    int64_t ids[20];
    int n = body ? mentions(db, body, ids, 20) : 0;
    free(body);
    for (int i = 0; i < n && !rc; i++)
      if (ids[i] != author) rc = notify(call, ids[i], "mention", ticket_id, message_id, author);
  }
  if (rc) snprintf(err, errlen, "the notification could not be written");
  return rc;
}

static int list(struct destek_req *r)
{
  char buf[16] = "";
  int unread_only = tkt_query_get(r, "unread", buf, sizeof buf) > 0 && !strcmp(buf, "true");
  long limit = 30;
  if (tkt_query_get(r, "limit", buf, sizeof buf) > 0) {
    limit = strtol(buf, NULL, 10);
    if (limit < 1 || limit > 100) return tkt_field_error(r, "invalid_field", "limit", "limit must be 1 to 100");
  }
  int64_t me = tkt_user_id(r);
  struct destek_db *db = tkt_db_read(r);
  sqlite3_stmt *st = tkt_db_prepare(db,
    "SELECT n.id, n.kind, n.ticket_id, '#' || t.reference, t.subject, n.message_id, n.actor_name,"
    " substr(m.body, 1, 140), n.created_at, n.read_at, coalesce(p.desktop, 1)"
    " FROM tkt_notifications n JOIN tkt_tickets t ON t.id = n.ticket_id"
    " LEFT JOIN tkt_messages m ON m.id = n.message_id"
    " LEFT JOIN tkt_notify_prefs p ON p.user_id = n.user_id AND p.kind = n.kind"
    " WHERE n.user_id = ?1 AND (?2 = 0 OR n.read_at IS NULL) ORDER BY n.id DESC LIMIT ?3");
  if (!st) return tkt_error(r, 500, "internal", "internal error");
  tkt_db_bind(st, "iii", me, (int64_t)unread_only, (int64_t)limit);
  cJSON *items = cJSON_CreateArray();
  while (sqlite3_step(st) == SQLITE_ROW) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(st, 0));
    cJSON_AddStringToObject(o, "kind", (const char *)sqlite3_column_text(st, 1));
    cJSON_AddNumberToObject(o, "ticket_id", (double)sqlite3_column_int64(st, 2));
    cJSON_AddStringToObject(o, "reference", (const char *)sqlite3_column_text(st, 3));
    cJSON_AddStringToObject(o, "subject", (const char *)sqlite3_column_text(st, 4));
    for (int c = 5; c <= 9; c++) {
      static const char *const names[] = { "message_id", "actor_name", "excerpt", "created_at", "read_at" };
      const char *name = names[c - 5];
      if (sqlite3_column_type(st, c) == SQLITE_NULL) cJSON_AddNullToObject(o, name);
      else if (c == 5) cJSON_AddNumberToObject(o, name, (double)sqlite3_column_int64(st, c));
      else cJSON_AddStringToObject(o, name, (const char *)sqlite3_column_text(st, c));
    }
    cJSON_AddBoolToObject(o, "desktop", sqlite3_column_int(st, 10));
    cJSON_AddItemToArray(items, o);
  }
  tkt_db_done(st);
  cJSON *res = cJSON_CreateObject();
  cJSON_AddItemToObject(res, "items", items);
  cJSON_AddNumberToObject(res, "unread", (double)tkt_db_int(db, 0, "SELECT count(*) FROM tkt_notifications"
                                                                    " WHERE user_id = ?1 AND read_at IS NULL", "i", me));
  return tkt_reply_json(r, 200, res);
}

static int mark_read(struct destek_req *r)
{
  cJSON *body;
  int rc = tkt_body(r, &body);
  if (rc) return rc;
  int all = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(body, "all"));
  const cJSON *ids = cJSON_GetObjectItemCaseSensitive(body, "ids");
  if (!all && (!cJSON_IsArray(ids) || cJSON_GetArraySize(ids) < 1 || cJSON_GetArraySize(ids) > 100))
    return tkt_field_error(r, "invalid_field", "ids", "ids must be 1 to 100 notification ids (or all: true)");
  const cJSON *it;
  cJSON_ArrayForEach(it, ids)
    if (!cJSON_IsNumber(it)) return tkt_field_error(r, "invalid_field", "ids", "ids must be notification ids");
  struct destek_db *w = tkt_db_write(r);
  if (!w) return tkt_status(r);
  char now[21];
  tkt_now(now);
  int64_t me = tkt_user_id(r);
  if (all)
    rc = tkt_db_exec(w, "UPDATE tkt_notifications SET read_at = ?2 WHERE user_id = ?1 AND read_at IS NULL", "it", me, now);
  else
    cJSON_ArrayForEach(it, ids) {
      rc = tkt_db_exec(w, "UPDATE tkt_notifications SET read_at = ?3 WHERE id = ?2 AND user_id = ?1 AND read_at IS NULL",
                       "iit", me, (int64_t)it->valuedouble, now);
      if (rc != SQLITE_OK) break;
    }
  if (rc != SQLITE_OK) return tkt_error(r, 500, "internal", "could not be saved");
  return tkt_reply_empty(r, 204);
}

static cJSON *settings_json(struct destek_db *db, int64_t me)
{
  cJSON *o = cJSON_CreateObject();
  for (int i = 0; KINDS[i]; i++) {
    cJSON *k = cJSON_AddObjectToObject(o, KINDS[i]);
    cJSON_AddBoolToObject(k, "in_app", tkt_db_int(db, 1, "SELECT in_app FROM tkt_notify_prefs WHERE user_id = ?1 AND kind = ?2",
                                                  "it", me, KINDS[i]));
    cJSON_AddBoolToObject(k, "desktop", tkt_db_int(db, 1, "SELECT desktop FROM tkt_notify_prefs WHERE user_id = ?1 AND kind = ?2",
                                                   "it", me, KINDS[i]));
  }
  return o;
}

static int settings_get(struct destek_req *r)
{
  return tkt_reply_json(r, 200, settings_json(tkt_db_read(r), tkt_user_id(r)));
}

static int settings_put(struct destek_req *r)
{
  cJSON *body;
  int rc = tkt_body(r, &body);
  if (rc) return rc;
  const cJSON *v;
  cJSON_ArrayForEach(v, body) {
    int known = 0;
    for (int i = 0; KINDS[i]; i++) known |= !strcmp(v->string, KINDS[i]);
    if (!known || !cJSON_IsObject(v)) return tkt_field_error(r, "invalid_field", v->string, "not a kind of notification");
    const cJSON *f;
    cJSON_ArrayForEach(f, v)
      if ((strcmp(f->string, "in_app") && strcmp(f->string, "desktop")) || !cJSON_IsBool(f))
        return tkt_field_error(r, "invalid_field", v->string, "%s.%s must be in_app or desktop, true or false", v->string,
                               f->string);
  }
  int64_t me = tkt_user_id(r);
  struct destek_db *w = tkt_db_write(r);
  if (!w) return tkt_status(r);
  cJSON_ArrayForEach(v, body) {
    const cJSON *in_app = cJSON_GetObjectItemCaseSensitive(v, "in_app"), *desktop = cJSON_GetObjectItemCaseSensitive(v, "desktop");
    if (tkt_db_exec(w, "INSERT INTO tkt_notify_prefs(user_id, kind) VALUES (?1, ?2) ON CONFLICT DO NOTHING", "it", me,
                    v->string) != SQLITE_OK ||
        (in_app && tkt_db_exec(w, "UPDATE tkt_notify_prefs SET in_app = ?3 WHERE user_id = ?1 AND kind = ?2", "iti", me,
                               v->string, (int64_t)cJSON_IsTrue(in_app)) != SQLITE_OK) ||
        (desktop && tkt_db_exec(w, "UPDATE tkt_notify_prefs SET desktop = ?3 WHERE user_id = ?1 AND kind = ?2", "iti", me,
                                v->string, (int64_t)cJSON_IsTrue(desktop)) != SQLITE_OK))
      return tkt_error(r, 500, "internal", "could not be saved");
  }
  return tkt_reply_json(r, 200, settings_json(w, me));
}

static const struct destek_route notify_routes[] = {
  { "GET", "/api/v1/notifications",          list,         DESTEK_AGENT, NULL },
  { "POST", "/api/v1/notifications/read",    mark_read,    DESTEK_AGENT, NULL },
  { "GET", "/api/v1/notifications/settings", settings_get, DESTEK_AGENT, NULL },
  { "PUT", "/api/v1/notifications/settings", settings_put, DESTEK_AGENT, NULL },
  { 0 }
};

int tkt_notify_init(const struct destek_host *h)
{
  if (h->routes(h, notify_routes) != 0 ||
      h->on(h, "ticket.assigned", DESTEK_SYNC, on_assigned, NULL) != 0 ||
      h->on(h, "message.added", DESTEK_SYNC, on_message, NULL) != 0)
    return -1;
  return 0;
}
