/* chat.report_facts — the conversations' figures for the reports module, by its module-neutral contract
 * (plugins/reports/README.md, "The contract"), from the chat module's own tables.
 *   {"describe": true} -> {kind: "conversation", subjects: ["ticket"], watch: ["message.added", "ticket.created"],
 *                          durations: ["frt"], median_by: ["channel"], only: {channel: ["chat", "whatsapp"]}}
 *   {"after": id, "limit": n} -> {items, next}      {"ids": [id, ...]} -> {items}   (at most 500)
 * A conversation is a live chat or a WhatsApp conversation; its id is the id of the ticket it is kept in (unique for
 * both), so that ticketing's message.added (subject ticket:<id>) names it. A fact:
 *   {id, ref ("#<ticket>"), at (its first visitor/customer message, unix seconds), open (1 while no one answered or,
 *    for a chat, while it is not ended), dims: {channel: "chat" | "whatsapp", shop (a chat's shop id)},
 *    labels: {shop}, values: {conversations: 1, messages (the customer's), answered (0/1), frt (seconds from the
 *    first customer message to the first answer; absent until answered)}}
 * A ticket that is neither (mail, phone) has no fact. */
#include "chat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int chat_report_init(const struct destek_host *h);

static const char CHAT_SQL[] =
  "SELECT c.ticket_id, CAST(strftime('%s', c.created_at) AS INTEGER), c.status, c.shop_id, s.name,"
  " (SELECT CAST(strftime('%s', min(m.created_at)) AS INTEGER) FROM chat_messages m"
  "   WHERE m.conversation_id = c.id AND m.sender = 'agent'),"
  " (SELECT count(*) FROM chat_messages m WHERE m.conversation_id = c.id AND m.sender = 'visitor')"
  " FROM chat_conversations c LEFT JOIN chat_shops s ON s.id = c.shop_id WHERE c.ticket_id = ?1";

static const char WA_SQL[] =
  "SELECT CAST(strftime('%s', min(created_at)) AS INTEGER), count(*),"
  " (SELECT CAST(strftime('%s', min(o.created_at)) AS INTEGER) FROM chat_wa_messages o"
  "   WHERE o.ticket_id = ?1 AND o.direction = 'out' AND o.status <> 'failed' AND o.created_at >= min(i.created_at))"
  " FROM chat_wa_messages i WHERE i.ticket_id = ?1 AND i.direction = 'in'";

static cJSON *fact_new(int64_t id, int64_t at, int open, const char *channel, int64_t shop, const char *shop_name,
                       int64_t messages, int64_t answered_at)
{
  cJSON *o = cJSON_CreateObject(), *dims = cJSON_CreateObject(), *vals = cJSON_CreateObject();
  char ref[32], sid[24];
  snprintf(ref, sizeof ref, "#%lld", (long long)id);
  cJSON_AddNumberToObject(o, "id", (double)id);
  cJSON_AddStringToObject(o, "ref", ref);
  cJSON_AddNumberToObject(o, "at", (double)at);
  cJSON_AddNumberToObject(o, "open", open);
  cJSON_AddStringToObject(dims, "channel", channel);
  if (shop > 0) {
    snprintf(sid, sizeof sid, "%lld", (long long)shop);
    cJSON_AddStringToObject(dims, "shop", sid);
    if (shop_name) cJSON_AddStringToObject(cJSON_AddObjectToObject(o, "labels"), "shop", shop_name);
  }
  cJSON_AddNumberToObject(vals, "conversations", 1);
  cJSON_AddNumberToObject(vals, "messages", (double)messages);
  cJSON_AddNumberToObject(vals, "answered", answered_at > 0);
  if (answered_at > 0) cJSON_AddNumberToObject(vals, "frt", (double)(answered_at > at ? answered_at - at : 0));
  cJSON_AddItemToObject(o, "dims", dims);
  cJSON_AddItemToObject(o, "values", vals);
  return o;
}

/* The fact of the conversation kept in ticket id, or NULL when the ticket holds none. */
static cJSON *fact_of(struct destek_db *db, int64_t id)
{
  cJSON *f = NULL;
  sqlite3_stmt *st = H->db_prepare(db, CHAT_SQL);
  if (!st) return NULL;
  H->db_bind(st, "i", id);
  if (sqlite3_step(st) == SQLITE_ROW) {
    int64_t answered = sqlite3_column_type(st, 5) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 5);
    f = fact_new(id, sqlite3_column_int64(st, 1),
                 strcmp((const char *)sqlite3_column_text(st, 2), "ended") != 0 || !answered ? 1 : 0, "chat",
                 sqlite3_column_int64(st, 3), (const char *)sqlite3_column_text(st, 4), sqlite3_column_int64(st, 6),
                 answered);
  }
  H->db_done(st);
  if (f) return f;
  st = H->db_prepare(db, WA_SQL);
  if (!st) return NULL;
  H->db_bind(st, "i", id);
  if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 1) > 0) {
    int64_t answered = sqlite3_column_type(st, 2) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 2);
    f = fact_new(id, sqlite3_column_int64(st, 0), !answered, "whatsapp", 0, NULL, sqlite3_column_int64(st, 1), answered);
  }
  H->db_done(st);
  return f;
}

static int svc_report_facts(struct destek_req *call, const cJSON *args, cJSON **result, void *ud)
{
  (void)ud;
  if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(args, "describe"))) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", "conversation");
    const char *subjects[] = { "ticket" }, *watch[] = { "message.added", "ticket.created" }, *durations[] = { "frt" };
    cJSON_AddItemToObject(o, "subjects", cJSON_CreateStringArray(subjects, 1));
    cJSON_AddItemToObject(o, "watch", cJSON_CreateStringArray(watch, 2));
    cJSON_AddItemToObject(o, "durations", cJSON_CreateStringArray(durations, 1));
    /* Only the tickets of these channels are conversations: the others' events are not even noted. */
    const char *channels[] = { "chat", "whatsapp" };
    cJSON_AddItemToObject(cJSON_AddObjectToObject(o, "only"), "channel", cJSON_CreateStringArray(channels, 2));
    const char *median_by[] = { "channel" };   /* the first response's median per channel (chat, WhatsApp) */
    cJSON_AddItemToObject(o, "median_by", cJSON_CreateStringArray(median_by, 1));
    *result = o;
    return 0;
  }
  struct destek_db *db = H->db_read(call);
  if (!db) return H->error(call, 503, "db_busy", "the database is busy");
  cJSON *items = cJSON_CreateArray(), *out = cJSON_CreateObject();
  const cJSON *ids = cJSON_GetObjectItemCaseSensitive(args, "ids");
  if (ids) {
    if (!cJSON_IsArray(ids) || cJSON_GetArraySize(ids) > 500) {
      cJSON_Delete(items);
      cJSON_Delete(out);
      return H->field_error(call, "invalid_field", "ids", "ids must be an array of at most 500 ticket ids");
    }
    const cJSON *v;
    cJSON_ArrayForEach(v, ids) {
      cJSON *f = cJSON_IsNumber(v) && v->valuedouble > 0 ? fact_of(db, (int64_t)v->valuedouble) : NULL;
      if (f) cJSON_AddItemToArray(items, f);
    }
  } else {
    int64_t after = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(args, "after"));
    int64_t limit = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(args, "limit"));
    if (after < 0) after = 0;
    if (limit < 1 || limit > 1000) limit = 500;
    sqlite3_stmt *st = H->db_prepare(db, "SELECT id FROM (SELECT ticket_id AS id FROM chat_conversations WHERE ticket_id > ?1"
                                         " UNION SELECT ticket_id FROM chat_wa_messages WHERE ticket_id > ?1 AND direction = 'in')"
                                         " ORDER BY id LIMIT ?2");
    int64_t n = 0, last = 0;
    if (st) {
      H->db_bind(st, "ii", after, limit);
      int64_t page[1000];
      while (n < limit && sqlite3_step(st) == SQLITE_ROW) page[n++] = sqlite3_column_int64(st, 0);
      H->db_done(st);
      for (int64_t i = 0; i < n; i++) {
        cJSON *f = fact_of(db, page[i]);
        if (f) cJSON_AddItemToArray(items, f);
        last = page[i];
      }
    }
    if (n == limit) cJSON_AddNumberToObject(out, "next", (double)last);
    else cJSON_AddNullToObject(out, "next");
  }
  cJSON_AddItemToObject(out, "items", items);
  *result = out;
  return 0;
}

int chat_report_init(const struct destek_host *h)
{
  return h->service(h, "chat.report_facts", svc_report_facts, NULL);
}
