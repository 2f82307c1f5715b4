/* Tickets: the agents' API for one ticket at a time (list, create, read, update, reply, assign) and the rules
 * every change follows (README.md: statuses and transitions). */
#include "tkt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fold.h"
#include "destek_jbuf.h"
#include "destek_mail.h"
#include "sla.h"
#include "destek_util.h"

/* ------------------------------------------------------------------------------------------------ JSON views */

static void add_text_or_null(cJSON *o, const char *name, sqlite3_stmt *st, int col)
{
  if (sqlite3_column_type(st, col) == SQLITE_NULL) cJSON_AddNullToObject(o, name);
  else cJSON_AddStringToObject(o, name, (const char *)sqlite3_column_text(st, col));
}

static cJSON *message_row_json(struct destek_db *db, sqlite3_stmt *st)
{
  cJSON *m = cJSON_CreateObject();
  int64_t id = sqlite3_column_int64(st, 0);
  cJSON_AddNumberToObject(m, "id", (double)id);
  cJSON_AddStringToObject(m, "kind", (const char *)sqlite3_column_text(st, 1));
  cJSON *a = cJSON_AddObjectToObject(m, "author");
  if (sqlite3_column_type(st, 2) != SQLITE_NULL) {
    cJSON_AddStringToObject(a, "type", "user");
    cJSON_AddNumberToObject(a, "id", (double)sqlite3_column_int64(st, 2));
    add_text_or_null(a, "name", st, 3);
  } else if (sqlite3_column_type(st, 4) != SQLITE_NULL) {
    cJSON_AddStringToObject(a, "type", "customer");
    cJSON_AddNumberToObject(a, "id", (double)sqlite3_column_int64(st, 4));
    add_text_or_null(a, "name", st, 5);
  } else {
    cJSON_AddStringToObject(a, "type", "system");
  }
  cJSON_AddStringToObject(m, "body", (const char *)sqlite3_column_text(st, 6));
  add_text_or_null(m, "body_html", st, 7);
  cJSON_AddItemToObject(m, "attachments", tkt_attachments_json(db, id));
  cJSON_AddStringToObject(m, "created_at", (const char *)sqlite3_column_text(st, 8));
  cJSON_AddNumberToObject(m, "part_ticket_id", (double)sqlite3_column_int64(st, 9));
  /* A note the desk wrote with a fixed meaning: {"code", ...} for the agents' app to say in the agent's language. */
  cJSON *notice = sqlite3_column_type(st, 10) == SQLITE_NULL ? NULL
                  : cJSON_Parse((const char *)sqlite3_column_text(st, 10));
  if (cJSON_IsObject(notice)) cJSON_AddItemToObject(m, "notice", notice);
  else cJSON_Delete(notice);
  return m;
}

#define MESSAGE_COLUMNS \
  "m.id, m.kind, m.author_user_id, u.name, m.author_customer_id, c.name, m.body, m.body_html, m.created_at," \
  " coalesce(m.part_ticket_id, m.ticket_id), m.notice" \
  " FROM tkt_messages m LEFT JOIN core_users u ON u.id = m.author_user_id" \
  " LEFT JOIN core_contacts c ON c.id = m.author_customer_id"

cJSON *tkt_message_json(struct destek_db *db, int64_t message_id)
{
  sqlite3_stmt *st = tkt_db_prepare(db, "SELECT " MESSAGE_COLUMNS " WHERE m.id = ?1");
  if (!st) return NULL;
  tkt_db_bind(st, "i", message_id);
  cJSON *m = sqlite3_step(st) == SQLITE_ROW ? message_row_json(db, st) : NULL;
  tkt_db_done(st);
  return m;
}

cJSON *tkt_messages_json(struct destek_db *db, int64_t ticket_id, int public_only)
{
  cJSON *a = cJSON_CreateArray();
  sqlite3_stmt *st = tkt_db_prepare(db, "SELECT " MESSAGE_COLUMNS
                                    " WHERE m.ticket_id = ?1 AND (?2 = 0 OR m.kind <> 'note') ORDER BY m.id");
  if (!st) return a;
  tkt_db_bind(st, "ii", ticket_id, (int64_t)public_only);
  while (sqlite3_step(st) == SQLITE_ROW) cJSON_AddItemToArray(a, message_row_json(db, st));
  tkt_db_done(st);
  return a;
}

cJSON *tkt_customer_messages_json(struct destek_db *db, int64_t thread_id, int64_t customer_id)
{
  cJSON *a = cJSON_CreateArray();
  sqlite3_stmt *st = tkt_db_prepare(db, "SELECT " MESSAGE_COLUMNS
                                    " JOIN tkt_tickets p ON p.id = coalesce(m.part_ticket_id, m.ticket_id)"
                                    " WHERE m.ticket_id = ?1 AND m.kind <> 'note' AND p.customer_id = ?2 ORDER BY m.id");
  if (!st) return a;
  tkt_db_bind(st, "ii", thread_id, customer_id);
  while (sqlite3_step(st) == SQLITE_ROW) cJSON_AddItemToArray(a, message_row_json(db, st));
  tkt_db_done(st);
  return a;
}

static void write_text_or_null(struct jbuf *b, sqlite3_stmt *st, int col)
{
  if (sqlite3_column_type(st, col) == SQLITE_NULL) jbuf_null(b);
  else jbuf_strn(b, (const char *)sqlite3_column_text(st, col), (size_t)sqlite3_column_bytes(st, col));
}

static void write_int_or_null(struct jbuf *b, sqlite3_stmt *st, int col)
{
  if (sqlite3_column_type(st, col) == SQLITE_NULL) jbuf_null(b);
  else jbuf_int(b, sqlite3_column_int64(st, col));
}

void tkt_summary_write(struct jbuf *b, sqlite3_stmt *st, int64_t now)
{
  int64_t number = sqlite3_column_int64(st, 1);
  JBUF_LIT(b, "{\"id\":");
  jbuf_int(b, sqlite3_column_int64(st, 0));
  JBUF_LIT(b, ",\"reference\":\"#");
  jbuf_int(b, number);
  JBUF_LIT(b, "\",\"number\":");
  jbuf_int(b, number);
  JBUF_LIT(b, ",\"subject\":");
  write_text_or_null(b, st, 2);
  JBUF_LIT(b, ",\"status\":");
  write_text_or_null(b, st, 3);
  JBUF_LIT(b, ",\"priority\":");
  write_text_or_null(b, st, 4);
  JBUF_LIT(b, ",\"channel\":");
  write_text_or_null(b, st, 5);
  JBUF_LIT(b, ",\"customer\":{\"id\":");
  jbuf_int(b, sqlite3_column_int64(st, 6));
  JBUF_LIT(b, ",\"name\":");
  write_text_or_null(b, st, 7);
  JBUF_LIT(b, ",\"email\":");
  write_text_or_null(b, st, 8);
  JBUF_LIT(b, ",\"phone\":");
  write_text_or_null(b, st, 9);
  JBUF_LIT(b, "},\"assignee_id\":");
  write_int_or_null(b, st, 10);
  JBUF_LIT(b, ",\"team_id\":");
  write_int_or_null(b, st, 11);
  JBUF_LIT(b, ",\"custom_fields\":");
  /* Written by tkt_apply_changes from a checked cJSON object: JSON already. */
  if (sqlite3_column_bytes(st, 12) > 0) jbuf_raw(b, (const char *)sqlite3_column_text(st, 12),
                                                 (size_t)sqlite3_column_bytes(st, 12));
  else JBUF_LIT(b, "{}");
  static const char *const names[] = { ",\"order_number\":", NULL, ",\"first_response_at\":", ",\"solved_at\":",
                                       ",\"closed_at\":", ",\"created_at\":", ",\"updated_at\":" };
  for (int i = 0; i < 7; i++) {
    if (i == 1) {
      JBUF_LIT(b, ",\"merged_into\":");
      write_int_or_null(b, st, 14);
      continue;
    }
    jbuf_raw(b, names[i], strlen(names[i]));
    write_text_or_null(b, st, 13 + i);
  }
  JBUF_LIT(b, ",\"tags\":");
  /* tags_json: a JSON array kept by tags_replace. */
  jbuf_raw(b, (const char *)sqlite3_column_text(st, 20), (size_t)sqlite3_column_bytes(st, 20));
  JBUF_LIT(b, ",\"sla\":");
  tkt_sla_write(b, st, 21, now);
  /* The last public message: who wrote it (customer, agent, system), when, its first 160 characters (the inbox's
   * "who spoke last and since when"), kept on the ticket row by migration 028's triggers. */
  JBUF_LIT(b, ",\"last_message\":");
  if (sqlite3_column_type(st, 35) == SQLITE_NULL) JBUF_LIT(b, "null");
  else jbuf_raw(b, (const char *)sqlite3_column_text(st, 35), (size_t)sqlite3_column_bytes(st, 35));
  JBUF_LIT(b, "}");
}

/* A message's attachments, as tkt_attachments_json makes them. */
static void attachments_write(struct jbuf *b, struct destek_db *db, int64_t message_id)
{
  cJSON *a = tkt_attachments_json(db, message_id);
  if (!a->child) {
    JBUF_LIT(b, "[]");
  } else {
    char *text = cJSON_PrintUnformatted(a);
    jbuf_raw(b, text, strlen(text));
    cJSON_free(text);
  }
  cJSON_Delete(a);
}

/* The message on st's current row (MESSAGE_COLUMNS), as message_row_json makes it. */
static void message_row_write(struct jbuf *b, struct destek_db *db, sqlite3_stmt *st)
{
  int64_t id = sqlite3_column_int64(st, 0);
  JBUF_LIT(b, "{\"id\":");
  jbuf_int(b, id);
  JBUF_LIT(b, ",\"kind\":");
  write_text_or_null(b, st, 1);
  if (sqlite3_column_type(st, 2) != SQLITE_NULL) {
    JBUF_LIT(b, ",\"author\":{\"type\":\"user\",\"id\":");
    jbuf_int(b, sqlite3_column_int64(st, 2));
    JBUF_LIT(b, ",\"name\":");
    write_text_or_null(b, st, 3);
    JBUF_LIT(b, "}");
  } else if (sqlite3_column_type(st, 4) != SQLITE_NULL) {
    JBUF_LIT(b, ",\"author\":{\"type\":\"customer\",\"id\":");
    jbuf_int(b, sqlite3_column_int64(st, 4));
    JBUF_LIT(b, ",\"name\":");
    write_text_or_null(b, st, 5);
    JBUF_LIT(b, "}");
  } else {
    JBUF_LIT(b, ",\"author\":{\"type\":\"system\"}");
  }
  JBUF_LIT(b, ",\"body\":");
  write_text_or_null(b, st, 6);
  JBUF_LIT(b, ",\"body_html\":");
  write_text_or_null(b, st, 7);
  JBUF_LIT(b, ",\"attachments\":");
  attachments_write(b, db, id);
  JBUF_LIT(b, ",\"created_at\":");
  write_text_or_null(b, st, 8);
  JBUF_LIT(b, ",\"part_ticket_id\":");
  jbuf_int(b, sqlite3_column_int64(st, 9));
  if (sqlite3_column_type(st, 10) != SQLITE_NULL) {   /* as message_row_json: only a JSON object, printed as cJSON does */
    cJSON *notice = cJSON_Parse((const char *)sqlite3_column_text(st, 10));
    if (cJSON_IsObject(notice)) {
      char *text = cJSON_PrintUnformatted(notice);
      JBUF_LIT(b, ",\"notice\":");
      jbuf_raw(b, text, strlen(text));
      cJSON_free(text);
    }
    cJSON_Delete(notice);
  }
  JBUF_LIT(b, "}");
}

static void messages_write(struct jbuf *b, struct destek_db *db, int64_t ticket_id)
{
  JBUF_LIT(b, "[");
  sqlite3_stmt *st = tkt_db_prepare(db, "SELECT " MESSAGE_COLUMNS " WHERE m.ticket_id = ?1 ORDER BY m.id");
  if (st) {
    tkt_db_bind(st, "i", ticket_id);
    for (int n = 0; sqlite3_step(st) == SQLITE_ROW; n++) {
      if (n) JBUF_LIT(b, ",");
      message_row_write(b, db, st);
    }
    tkt_db_done(st);
  }
  JBUF_LIT(b, "]");
}

static void history_write(struct jbuf *b, struct destek_db *db, int64_t ticket_id)
{
  JBUF_LIT(b, "[");
  sqlite3_stmt *st = tkt_db_prepare(db,
    "SELECT h.id, h.actor, h.field, h.old_value, h.new_value, h.created_at,"
    " CASE WHEN h.actor LIKE 'user:%' THEN (SELECT name FROM core_users WHERE id = CAST(substr(h.actor, 6) AS INTEGER))"
    "      WHEN h.actor LIKE 'customer:%' THEN (SELECT name FROM core_contacts"
    "                                           WHERE id = CAST(substr(h.actor, 10) AS INTEGER)) END"
    " FROM tkt_history h WHERE h.ticket_id = ?1 ORDER BY h.id");
  if (st) {
    tkt_db_bind(st, "i", ticket_id);
    for (int n = 0; sqlite3_step(st) == SQLITE_ROW; n++) {
      if (n) JBUF_LIT(b, ",");
      JBUF_LIT(b, "{\"id\":");
      jbuf_int(b, sqlite3_column_int64(st, 0));
      JBUF_LIT(b, ",\"actor\":");
      write_text_or_null(b, st, 1);
      JBUF_LIT(b, ",\"actor_name\":");
      write_text_or_null(b, st, 6);
      JBUF_LIT(b, ",\"field\":");
      write_text_or_null(b, st, 2);
      JBUF_LIT(b, ",\"old\":");
      write_text_or_null(b, st, 3);
      JBUF_LIT(b, ",\"new\":");
      write_text_or_null(b, st, 4);
      JBUF_LIT(b, ",\"created_at\":");
      write_text_or_null(b, st, 5);
      JBUF_LIT(b, "}");
    }
    tkt_db_done(st);
  }
  JBUF_LIT(b, "]");
}

int tkt_ticket_write(struct jbuf *b, struct destek_db *db, int64_t ticket_id, int detail)
{
  sqlite3_stmt *st = tkt_db_prepare(db, TKT_SUMMARY_SELECT " WHERE t.id = ?1");
  if (!st) return -1;
  tkt_db_bind(st, "i", ticket_id);
  if (sqlite3_step(st) != SQLITE_ROW) { tkt_db_done(st); return -1; }
  tkt_summary_write(b, st, tkt_sla_now());
  tkt_db_done(st);
  if (detail) {
    b->len--;   /* reopen the summary's object */
    char sig[65];
    tkt_link_sig(db, ticket_id, sig);
    JBUF_LIT(b, ",\"public_sig\":");
    jbuf_str(b, sig);
    JBUF_LIT(b, ",\"parts\":");
    cJSON *parts = tkt_parts_json(db, ticket_id);
    char *text = cJSON_PrintUnformatted(parts);
    jbuf_raw(b, text, strlen(text));
    cJSON_free(text);
    cJSON_Delete(parts);
    JBUF_LIT(b, ",\"messages\":");
    messages_write(b, db, ticket_id);
    JBUF_LIT(b, ",\"history\":");
    history_write(b, db, ticket_id);
    char until[21];
    JBUF_LIT(b, ",\"snoozed_until\":");
    if (tkt_snoozed_until(db, ticket_id, until)) jbuf_str(b, until);
    else JBUF_LIT(b, "null");
    JBUF_LIT(b, "}");
  }
  return 0;
}

cJSON *tkt_ticket_json(struct destek_db *db, int64_t ticket_id, int detail)
{
  struct jbuf b;
  jbuf_init(&b, detail ? 4096 : 1024);
  if (tkt_ticket_write(&b, db, ticket_id, detail) != 0) { jbuf_free(&b); return NULL; }
  char *text = jbuf_take(&b, NULL);
  cJSON *o = cJSON_Parse(text);
  free(text);
  if (!o) abort();   /* the writer produced invalid JSON: a bug, not an input */
  return o;
}

int tkt_ticket_reply(struct destek_req *r, int status, struct destek_db *db, int64_t ticket_id, int detail)
{
  struct jbuf b;
  jbuf_init(&b, detail ? 4096 : 1024);
  if (tkt_ticket_write(&b, db, ticket_id, detail) != 0) {
    jbuf_free(&b);
    return tkt_error(r, 404, "not_found", "no such ticket");
  }
  size_t len;
  char *text = jbuf_take(&b, &len);
  return tkt_reply_take(r, status, "application/json; charset=utf-8", text, len);
}

/* ------------------------------------------------------------------------------------------------ field checks */

/* Renames the field of the 422 just set up (for members of nested objects, "customer.email"). */
void tkt_rename_field(struct destek_req *r, const char *field)
{
  cJSON *e = tkt_error_object(r);
  if (e && cJSON_GetObjectItemCaseSensitive(e, "field"))
    cJSON_ReplaceItemInObjectCaseSensitive(e, "field", cJSON_CreateString(field));
}

int tkt_tags_check(struct destek_req *r, const cJSON *tags, const char *field)
{
  if (!cJSON_IsArray(tags)) return tkt_field_error(r, "invalid_field", field, "%s must be an array of strings", field);
  if (cJSON_GetArraySize(tags) > TKT_TAGS_MAX)
    return tkt_field_error(r, "invalid_field", field, "%s has more than %d tags", field, TKT_TAGS_MAX);
  const cJSON *t;
  cJSON_ArrayForEach(t, tags) {
    if (!cJSON_IsString(t))
      return tkt_field_error(r, "invalid_field", field, "%s must be an array of strings", field);
    size_t len = strlen(t->valuestring);
    if (len == 0 || len > TKT_TAG_MAX || !util_utf8_valid(t->valuestring, len) || strchr(t->valuestring, ',') ||
        t->valuestring[0] == ' ' || t->valuestring[len - 1] == ' ')
      return tkt_field_error(r, "invalid_field", field,
                              "each tag is 1 to %d bytes of text, without commas or surrounding spaces", TKT_TAG_MAX);
    tkt_tag_lower(t->valuestring);   /* tags compare case-insensitively, Turkish capitals too: kept lower-case */
  }
  return 0;
}

int tkt_assignee_field(struct destek_req *r, const cJSON *obj, const char *name, int *set, int64_t *assignee_id)
{
  *set = 0;
  *assignee_id = 0;
  cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
  if (!it) return 0;
  *set = 1;
  if (cJSON_IsNull(it) || (cJSON_IsString(it) && !strcmp(it->valuestring, "none"))) return 0;
  if (cJSON_IsString(it) && !strcmp(it->valuestring, "me")) {
    if (tkt_user_id(r) <= 0) return tkt_field_error(r, "invalid_field", name, "\"me\" needs a signed-in user");
    *assignee_id = tkt_user_id(r);
  } else if (!util_json_id(it, assignee_id)) {
    return tkt_field_error(r, "invalid_field", name, "%s must be a user id, \"me\" or null", name);
  }
  if (!tkt_db_int(tkt_db_read(r), 0, "SELECT count(*) FROM core_users WHERE id = ?1 AND active = 1", "i", *assignee_id))
    return tkt_field_error(r, "invalid_field", name, "%s is not an active user", name);
  return 0;
}

static int team_field(struct destek_req *r, const cJSON *obj, int *set, int64_t *team_id)
{
  *set = 0;
  *team_id = 0;
  cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, "team_id");
  if (!it) return 0;
  *set = 1;
  if (cJSON_IsNull(it)) return 0;
  int64_t id;
  if (!util_json_id(it, &id) || !tkt_db_int(tkt_db_read(r), 0, "SELECT count(*) FROM tkt_teams WHERE id = ?1", "i", id))
    return tkt_field_error(r, "invalid_field", "team_id", "team_id is not a team");
  *team_id = id;
  return 0;
}

#define CUSTOM_KEYS_MAX 50
#define CUSTOM_VALUE_MAX 1000

static int custom_key_ok(const char *k)
{
  size_t n = strlen(k);
  if (n == 0 || n > 64) return 0;
  for (; *k; k++)
    if (!((*k >= 'a' && *k <= 'z') || (*k >= '0' && *k <= '9') || *k == '_')) return 0;
  return 1;
}

/* custom_fields: an object of at most 50 keys ([a-z0-9_], 1..64) with string (<= 1000 bytes), number, boolean or
 * null (removes the key) values. */
static int custom_fields_check(struct destek_req *r, const cJSON *cf)
{
  if (!cJSON_IsObject(cf)) return tkt_field_error(r, "invalid_field", "custom_fields", "custom_fields must be an object");
  if (cJSON_GetArraySize(cf) > CUSTOM_KEYS_MAX)
    return tkt_field_error(r, "invalid_field", "custom_fields", "custom_fields has more than %d keys", CUSTOM_KEYS_MAX);
  const cJSON *v;
  cJSON_ArrayForEach(v, cf) {
    if (!custom_key_ok(v->string))
      return tkt_field_error(r, "invalid_field", "custom_fields",
                              "custom field names are 1 to 64 characters of a-z, 0-9 and _");
    if (cJSON_IsString(v)) {
      size_t n = strlen(v->valuestring);
      if (n > CUSTOM_VALUE_MAX || !util_utf8_valid(v->valuestring, n))
        return tkt_field_error(r, "invalid_field", "custom_fields",
                                "custom field %s: text of at most %d bytes", v->string, CUSTOM_VALUE_MAX);
    } else if (!cJSON_IsNumber(v) && !cJSON_IsBool(v) && !cJSON_IsNull(v)) {
      return tkt_field_error(r, "invalid_field", "custom_fields",
                              "custom field %s must be text, a number, true/false or null", v->string);
    }
  }
  return 0;
}

/* ------------------------------------------------------------------------------------------------ rules */

/* Agents' status changes (README.md): "new" is only where tickets start; "closed" is final (only a customer's
 * message reopens it); a solved ticket can only be reopened or closed. */
static int transition_ok(const char *from, const char *to)
{
  if (!strcmp(from, to)) return 1;
  if (!strcmp(to, "new") || !strcmp(from, "closed")) return 0;
  if (!strcmp(from, "solved")) return !strcmp(to, "open") || !strcmp(to, "closed");
  return 1;
}

static void add_change(cJSON *changes, const char *field, cJSON *old_value, cJSON *new_value)
{
  cJSON *c = cJSON_AddObjectToObject(changes, field);
  cJSON_AddItemToObject(c, "old", old_value);
  cJSON_AddItemToObject(c, "new", new_value);
}

static cJSON *id_or_null(int64_t id) { return id > 0 ? cJSON_CreateNumber((double)id) : cJSON_CreateNull(); }

static void id_text(int64_t id, char out[24])
{
  if (id > 0) snprintf(out, 24, "%lld", (long long)id);
  else out[0] = 0;
}

/* Sets the ticket's tags to the array `tags` (strings). */
static int tags_replace(struct destek_db *w, int64_t ticket_id, const cJSON *tags)
{
  if (tkt_db_exec(w, "DELETE FROM tkt_ticket_tags WHERE ticket_id = ?1", "i", ticket_id) != SQLITE_OK) return -1;
  const cJSON *t;
  cJSON_ArrayForEach(t, tags)
    if (tkt_db_exec(w, "INSERT OR IGNORE INTO tkt_ticket_tags(ticket_id, tag) VALUES (?1, ?2)", "it", ticket_id,
                t->valuestring) != SQLITE_OK)
      return -1;
  return tkt_tags_copy_refresh(w, ticket_id);
}

int tkt_tags_copy_refresh(struct destek_db *w, int64_t ticket_id)
{
  return tkt_db_exec(w, "UPDATE tkt_tickets SET tags_json = (SELECT json_group_array(tag) FROM tkt_ticket_tags g"
                    " WHERE g.ticket_id = ?1) WHERE id = ?1", "i", ticket_id) == SQLITE_OK ? 0 : -1;
}

static int by_text(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The tags_json copy of a new ticket's tags (checked strings): sorted in byte order without repeats, as
 * tkt_tags_copy_refresh's json_group_array over the tags' primary key writes it. Caller frees. */
static char *tags_json_text_new(const cJSON *tags)
{
  int n = cJSON_GetArraySize(tags), k = 0;
  const char **v = malloc(sizeof *v * (size_t)(n + 1));
  if (!v) abort();
  const cJSON *t;
  cJSON_ArrayForEach(t, tags) v[k++] = t->valuestring;
  qsort(v, (size_t)k, sizeof *v, by_text);
  struct jbuf b;
  jbuf_init(&b, 64);
  JBUF_LIT(&b, "[");
  for (int i = 0, out = 0; i < k; i++) {
    if (i && !strcmp(v[i], v[i - 1])) continue;
    if (out++) JBUF_LIT(&b, ",");
    jbuf_str(&b, v[i]);
  }
  JBUF_LIT(&b, "]");
  free(v);
  return jbuf_take(&b, NULL);
}

static int array_has(const cJSON *a, const char *s)
{
  const cJSON *t;
  cJSON_ArrayForEach(t, a)
    if (cJSON_IsString(t) && !strcmp(t->valuestring, s)) return 1;
  return 0;
}

int tkt_apply_changes(struct destek_req *r, struct destek_db *w, int64_t ticket_id, const struct tkt_changes *c,
                      const char *actor)
{
  sqlite3_stmt *st = tkt_db_prepare(w, "SELECT status, priority, subject, assignee_id, team_id, custom_fields,"
                                   " reference FROM tkt_tickets WHERE id = ?1");
  if (!st) return tkt_error(r, 500, "internal", "internal error");
  tkt_db_bind(st, "i", ticket_id);
  if (sqlite3_step(st) != SQLITE_ROW) { tkt_db_done(st); return tkt_error(r, 404, "not_found", "no such ticket"); }
  char status[16], priority[16];
  snprintf(status, sizeof status, "%s", (const char *)sqlite3_column_text(st, 0));
  snprintf(priority, sizeof priority, "%s", (const char *)sqlite3_column_text(st, 1));
  char *subject = util_strdup((const char *)sqlite3_column_text(st, 2));
  int64_t assignee = sqlite3_column_int64(st, 3), team = sqlite3_column_int64(st, 4);
  cJSON *custom = cJSON_Parse((const char *)sqlite3_column_text(st, 5));
  int64_t reference = sqlite3_column_int64(st, 6);
  tkt_db_done(st);
  if (!custom) custom = cJSON_CreateObject();

  int rc = 0;
  cJSON *changes = cJSON_CreateObject();
  cJSON *old_tags = tkt_tags_json(w, ticket_id), *new_tags = NULL;
  const char *new_status = c->status ? c->status : status;
  const char *new_priority = c->priority ? c->priority : priority;
  const char *new_subject = c->subject ? c->subject : subject;
  int64_t new_assignee = c->set_assignee ? c->assignee_id : assignee;
  int64_t new_team = c->set_team ? c->team_id : team;
  char now[21];
  tkt_now(now);

  if (!strcmp(status, "closed")) {
    rc = tkt_error(r, 409, "ticket_closed", "ticket #%lld is closed: it cannot be changed", (long long)reference);
    goto out;
  }
  if (!transition_ok(status, new_status)) {
    rc = tkt_error(r, 409, "invalid_transition", "ticket #%lld cannot go from %s to %s", (long long)reference,
                    status, new_status);
    goto out;
  }

  /* Tags: replaced, or added to and removed from. */
  if (c->tags || c->add_tags || c->remove_tags) {
    new_tags = cJSON_CreateArray();
    const cJSON *t;
    if (c->tags) {
      cJSON_ArrayForEach(t, c->tags) if (!array_has(new_tags, t->valuestring))
        cJSON_AddItemToArray(new_tags, cJSON_CreateString(t->valuestring));
    } else {
      cJSON_ArrayForEach(t, old_tags) if (!c->remove_tags || !array_has(c->remove_tags, t->valuestring))
        cJSON_AddItemToArray(new_tags, cJSON_CreateString(t->valuestring));
      if (c->add_tags) cJSON_ArrayForEach(t, c->add_tags) if (!array_has(new_tags, t->valuestring))
        cJSON_AddItemToArray(new_tags, cJSON_CreateString(t->valuestring));
    }
    if (cJSON_GetArraySize(new_tags) > TKT_TAGS_MAX) {
      rc = tkt_field_error(r, "invalid_field", "tags", "a ticket has at most %d tags", TKT_TAGS_MAX);
      goto out;
    }
    /* The same set (triage adding a tag the ticket has): nothing to write. */
    int same = cJSON_GetArraySize(new_tags) == cJSON_GetArraySize(old_tags);
    cJSON_ArrayForEach(t, new_tags) if (same && !array_has(old_tags, t->valuestring)) same = 0;
    if (same) {
      cJSON_Delete(new_tags);
      new_tags = NULL;
    } else {
      if (tags_replace(w, ticket_id, new_tags) != 0) { rc = tkt_error(r, 500, "internal", "internal error"); goto out; }
      cJSON *sorted = tkt_tags_json(w, ticket_id);
      cJSON_Delete(new_tags);
      new_tags = sorted;
    }
  }

  /* Custom fields: merged; null removes a key. */
  char *old_custom = cJSON_PrintUnformatted(custom), *new_custom = NULL;
  if (c->custom_fields) {
    const cJSON *v;
    cJSON_ArrayForEach(v, c->custom_fields) {
      cJSON_DeleteItemFromObjectCaseSensitive(custom, v->string);
      if (!cJSON_IsNull(v)) cJSON_AddItemToObject(custom, v->string, cJSON_Duplicate(v, 1));
    }
    if (cJSON_GetArraySize(custom) > CUSTOM_KEYS_MAX) {
      free(old_custom);
      rc = tkt_field_error(r, "invalid_field", "custom_fields", "a ticket has at most %d custom fields",
                            CUSTOM_KEYS_MAX);
      goto out;
    }
    new_custom = cJSON_PrintUnformatted(custom);
    if (!strcmp(old_custom, new_custom)) { free(new_custom); new_custom = NULL; }
  }

  int status_changed = strcmp(status, new_status) != 0;
  if (status_changed) {
    tkt_history(w, ticket_id, actor, "status", status, new_status);
    add_change(changes, "status", cJSON_CreateString(status), cJSON_CreateString(new_status));
  }
  if (strcmp(priority, new_priority)) {
    tkt_history(w, ticket_id, actor, "priority", priority, new_priority);
    add_change(changes, "priority", cJSON_CreateString(priority), cJSON_CreateString(new_priority));
  }
  if (strcmp(subject, new_subject)) {
    tkt_history(w, ticket_id, actor, "subject", subject, new_subject);
    add_change(changes, "subject", cJSON_CreateString(subject), cJSON_CreateString(new_subject));
  }
  /* A ticket that comes to a round-robin team without an agent goes to the team's next online member. */
  int64_t round_robin = 0;
  if (new_team > 0 && new_team != team && new_assignee == 0 && tkt_team_round_robin(w, new_team)) {
    int64_t pick = tkt_team_pick(r, w, new_team);
    if (pick < 0) { free(new_custom); free(old_custom); rc = tkt_error(r, 500, "internal", "internal error"); goto out; }
    if (pick > 0) {
      new_assignee = pick;
      round_robin = new_team;
    }
  }
  if (assignee != new_assignee) {
    char a[24], b[24];
    id_text(assignee, a);
    id_text(new_assignee, b);
    tkt_history(w, ticket_id, actor, "assignee_id", *a ? a : NULL, *b ? b : NULL);
    add_change(changes, "assignee_id", id_or_null(assignee), id_or_null(new_assignee));
  }
  if (team != new_team) {
    char a[24], b[24];
    id_text(team, a);
    id_text(new_team, b);
    tkt_history(w, ticket_id, actor, "team_id", *a ? a : NULL, *b ? b : NULL);
    add_change(changes, "team_id", id_or_null(team), id_or_null(new_team));
  }
  if (new_tags) {
    char *a = cJSON_PrintUnformatted(old_tags), *b = cJSON_PrintUnformatted(new_tags);
    tkt_history(w, ticket_id, actor, "tags", a, b);
    free(a);
    free(b);
    add_change(changes, "tags", cJSON_Duplicate(old_tags, 1), cJSON_Duplicate(new_tags, 1));
  }
  if (new_custom) {
    tkt_history(w, ticket_id, actor, "custom_fields", old_custom, new_custom);
    add_change(changes, "custom_fields", cJSON_Parse(old_custom), cJSON_Parse(new_custom));
  }
  free(old_custom);

  if (!changes->child) { free(new_custom); goto out; }   /* nothing changed: no write, no event */

  int64_t assignee_arg = new_assignee, team_arg = new_team;
  int solved = status_changed && !strcmp(new_status, "solved");
  int closed = status_changed && !strcmp(new_status, "closed");
  int reopened = status_changed && !strcmp(status, "solved");
  if (tkt_db_exec(w, "UPDATE tkt_tickets SET status = ?2, priority = ?3, subject = ?4, assignee_id = ?5, team_id = ?6,"
                 " custom_fields = coalesce(?7, custom_fields),"
                 " solved_at = CASE WHEN ?9 THEN ?8 WHEN ?10 THEN NULL ELSE solved_at END,"
                 " closed_at = CASE WHEN ?11 THEN ?8 ELSE closed_at END,"
                 " updated_at = ?8, seq = ?12 WHERE id = ?1",
              "itttIIttiiii", ticket_id, new_status, new_priority, new_subject, new_assignee > 0 ? &assignee_arg : NULL,
              new_team > 0 ? &team_arg : NULL, new_custom, now, (int64_t)solved, (int64_t)reopened, (int64_t)closed,
              tkt_next_seq(w)) != SQLITE_OK) {
    free(new_custom);
    rc = tkt_error(r, 500, "internal", "the ticket could not be saved");
    goto out;
  }
  free(new_custom);
  if (strcmp(subject, new_subject) && tkt_search_refresh(w, ticket_id) != 0) {
    rc = tkt_error(r, 500, "internal", "the search index could not be updated");
    goto out;
  }
  cJSON *extra = cJSON_CreateObject();
  cJSON_AddItemToObject(extra, "changes", cJSON_Duplicate(changes, 1));
  cJSON_AddStringToObject(extra, "actor", actor);
  if ((rc = tkt_emit(r, "ticket.updated", ticket_id, extra))) goto out;
  if (assignee != new_assignee) {
    extra = cJSON_CreateObject();
    cJSON_AddItemToObject(extra, "previous_assignee_id", id_or_null(assignee));
    cJSON_AddStringToObject(extra, "actor", actor);
    if (round_robin) cJSON_AddNumberToObject(extra, "round_robin_team_id", (double)round_robin);
    if ((rc = tkt_emit(r, "ticket.assigned", ticket_id, extra))) goto out;
  }
  if (solved) {
    extra = cJSON_CreateObject();
    cJSON_AddStringToObject(extra, "solved_at", now);
    cJSON_AddStringToObject(extra, "actor", actor);
    if ((rc = tkt_emit(r, "ticket.solved", ticket_id, extra))) goto out;
  }
out:
  free(subject);
  cJSON_Delete(custom);
  cJSON_Delete(changes);
  cJSON_Delete(old_tags);
  cJSON_Delete(new_tags);
  return rc;
}

/* The first 200 bytes of body, cut at a character boundary. */
static cJSON *excerpt_new(const char *body)
{
  size_t n = strlen(body);
  if (n <= 200) return cJSON_CreateString(body);
  n = 200;
  while (n && ((unsigned char)body[n] & 0xC0) == 0x80) n--;
  char buf[208];
  snprintf(buf, sizeof buf, "%.*s…", (int)n, body);
  return cJSON_CreateString(buf);
}

/* part_reference and part_customer_id: the part's, when the caller knows them (a new ticket); NULL and 0 read them. */
static cJSON *message_event_extra(struct destek_db *w, int64_t message_id, const char *kind, int64_t user_id,
                                  int64_t customer_id, int64_t part_ticket_id, const char *part_reference,
                                  int64_t part_customer_id, const char *body, int n_attachments)
{
  cJSON *extra = cJSON_CreateObject();
  cJSON *m = cJSON_AddObjectToObject(extra, "message");
  cJSON_AddNumberToObject(m, "id", (double)message_id);
  cJSON_AddStringToObject(m, "kind", kind);
  cJSON_AddItemToObject(m, "author_user_id", id_or_null(user_id));
  cJSON_AddItemToObject(m, "author_customer_id", id_or_null(customer_id));
  cJSON_AddItemToObject(m, "body_excerpt", excerpt_new(body));
  cJSON_AddNumberToObject(m, "attachments", n_attachments);
  /* Whose conversation it is part of: after a merge of two customers' tickets, not always the ticket's customer. */
  cJSON *part = cJSON_AddObjectToObject(m, "part");
  char ref[24];
  if (!part_reference) {
    snprintf(ref, sizeof ref, "#%lld",
             (long long)tkt_db_int(w, 0, "SELECT reference FROM tkt_tickets WHERE id = ?1", "i", part_ticket_id));
    part_reference = ref;
  }
  if (!part_customer_id)
    part_customer_id = tkt_db_int(w, 0, "SELECT customer_id FROM tkt_tickets WHERE id = ?1", "i", part_ticket_id);
  cJSON_AddNumberToObject(part, "ticket_id", (double)part_ticket_id);
  cJSON_AddStringToObject(part, "reference", part_reference);
  cJSON_AddNumberToObject(part, "customer_id", (double)part_customer_id);
  return extra;
}

static int64_t insert_message(struct destek_req *r, struct destek_db *w, int64_t ticket_id, int64_t part_ticket_id,
                              const char *kind, int64_t user_id, int64_t customer_id, const char *body,
                              const char *body_html, const cJSON *attachments, const int64_t *draft_ids,
                              int n_drafts)
{
  char now[21];
  tkt_now(now);
  if (tkt_db_exec(w, "INSERT INTO tkt_messages(ticket_id, kind, author_user_id, author_customer_id, body, body_html,"
                 " created_at, part_ticket_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", "itIItttI", ticket_id, kind,
              user_id > 0 ? &user_id : NULL, customer_id > 0 ? &customer_id : NULL, body, body_html, now,
              part_ticket_id > 0 ? &part_ticket_id : &ticket_id) != SQLITE_OK)
    return -tkt_error(r, 500, "internal", "the message could not be saved");
  int64_t id = tkt_db_last_id(w);
  int rc = attachments ? tkt_attachments_save(r, w, ticket_id, id, attachments) : 0;
  if (!rc && n_drafts) rc = tkt_draft_files_take(r, w, ticket_id, id, draft_ids, n_drafts);
  return rc ? -rc : id;
}

int64_t tkt_message_add(struct destek_req *r, struct destek_db *w, int64_t ticket_id, int64_t part_ticket_id,
                        const char *kind, int64_t user_id, int64_t customer_id, const char *body,
                        const char *body_html, const cJSON *attachments, const char *actor)
{
  return tkt_message_add_drafts(r, w, ticket_id, part_ticket_id, kind, user_id, customer_id, body, body_html,
                                attachments, NULL, 0, actor);
}

int64_t tkt_message_add_drafts(struct destek_req *r, struct destek_db *w, int64_t ticket_id, int64_t part_ticket_id,
                               const char *kind, int64_t user_id, int64_t customer_id, const char *body,
                               const char *body_html, const cJSON *attachments, const int64_t *draft_ids,
                               int n_drafts, const char *actor)
{
  if (part_ticket_id <= 0) part_ticket_id = ticket_id;
  sqlite3_stmt *st = tkt_db_prepare(w, "SELECT status, first_response_at IS NULL, reference FROM tkt_tickets WHERE id = ?1");
  if (!st) return -tkt_error(r, 500, "internal", "internal error");
  tkt_db_bind(st, "i", ticket_id);
  if (sqlite3_step(st) != SQLITE_ROW) { tkt_db_done(st); return -tkt_error(r, 404, "not_found", "no such ticket"); }
  char status[16];
  snprintf(status, sizeof status, "%s", (const char *)sqlite3_column_text(st, 0));
  int no_response_yet = sqlite3_column_int(st, 1);
  long long reference = sqlite3_column_int64(st, 2);
  tkt_db_done(st);
  int from_customer = !strcmp(kind, "customer");
  if (!from_customer && !strcmp(status, "closed"))
    return -tkt_error(r, 409, "ticket_closed", "ticket #%lld is closed: it cannot be changed", reference);

  int64_t message_id = insert_message(r, w, ticket_id, part_ticket_id, kind, user_id, customer_id, body, body_html,
                                      attachments, draft_ids, n_drafts);
  if (message_id < 0) return message_id;

  /* An automatic reply (no user: a trigger's) answers nobody's question: it neither opens the ticket nor counts as
   * the first response. */
  int agent_reply = !strcmp(kind, "reply") && user_id > 0;
  const char *new_status = status;
  if (agent_reply && !strcmp(status, "new")) new_status = "open";
  if (from_customer && (!strcmp(status, "solved") || !strcmp(status, "closed") || !strcmp(status, "pending")))
    new_status = "open";
  int first_response = agent_reply && no_response_yet;
  char now[21];
  tkt_now(now);
  if (tkt_db_exec(w, "UPDATE tkt_tickets SET status = ?2, updated_at = ?3, seq = ?4,"
                 " first_response_at = CASE WHEN ?5 THEN ?3 ELSE first_response_at END,"
                 " solved_at = CASE WHEN ?6 THEN NULL ELSE solved_at END,"
                 " closed_at = CASE WHEN ?7 THEN NULL ELSE closed_at END WHERE id = ?1",
              "ittiiii", ticket_id, new_status, now, tkt_next_seq(w), (int64_t)first_response,
              (int64_t)(strcmp(status, new_status) && !strcmp(status, "solved")),
              (int64_t)(strcmp(status, new_status) && !strcmp(status, "closed"))) != SQLITE_OK)
    return -tkt_error(r, 500, "internal", "the ticket could not be saved");
  char mid[24];
  id_text(message_id, mid);
  tkt_history(w, ticket_id, actor, kind, NULL, mid);
  if (first_response) tkt_history(w, ticket_id, actor, "first_response_at", NULL, now);
  if (tkt_search_refresh(w, ticket_id) != 0)
    return -tkt_error(r, 500, "internal", "the search index could not be updated");
  int rc = tkt_emit(r, "message.added", ticket_id,
                    message_event_extra(w, message_id, kind, user_id, customer_id, part_ticket_id, NULL, 0, body,
                                        cJSON_GetArraySize(attachments) + n_drafts));
  if (rc) return -rc;
  if (strcmp(status, new_status)) {
    tkt_history(w, ticket_id, actor, "status", status, new_status);
    cJSON *extra = cJSON_CreateObject();
    cJSON *changes = cJSON_AddObjectToObject(extra, "changes");
    add_change(changes, "status", cJSON_CreateString(status), cJSON_CreateString(new_status));
    cJSON_AddStringToObject(extra, "actor", actor);
    if ((rc = tkt_emit(r, "ticket.updated", ticket_id, extra))) return -rc;
  }
  return message_id;
}

int64_t tkt_ticket_create(struct destek_req *r, struct destek_db *w, const char *subject, int64_t customer_id,
                          const char *body, const char *channel, const char *priority, const cJSON *tags,
                          const char *order_number, const cJSON *attachments, const char *actor, cJSON *extra)
{
  return tkt_ticket_create_in_team(r, w, subject, customer_id, body, channel, priority, tags, order_number,
                                   attachments, actor, 0, extra);
}

int64_t tkt_ticket_create_in_team(struct destek_req *r, struct destek_db *w, const char *subject, int64_t customer_id,
                                  const char *body, const char *channel, const char *priority, const cJSON *tags,
                                  const char *order_number, const cJSON *attachments, const char *actor,
                                  int64_t team_id, cJSON *extra)
{
  char now[21];
  tkt_now(now);
  int64_t reference = tkt_db_int(w, 1000, "SELECT coalesce(max(reference), 1000) + 1 FROM tkt_tickets", "");
  /* The tags' JSON copy goes in with the row: no second write of the new ticket. */
  char *tags_json = tags_json_text_new(tags);
  int ins = tkt_db_exec(w, "INSERT INTO tkt_tickets(reference, subject, status, priority, channel, customer_id,"
                           " order_number, created_at, updated_at, seq, team_id, tags_json) VALUES (?1, ?2, 'new', ?3,"
                           " ?4, ?5, ?6, ?7, ?7, ?8, nullif(?9, 0), ?10)",
                        "itttitti" "it", reference, subject, priority, channel, customer_id, order_number, now,
                        tkt_next_seq(w), team_id, tags_json);
  free(tags_json);
  if (ins != SQLITE_OK) {
    cJSON_Delete(extra);
    return -tkt_error(r, 500, "internal", "the ticket could not be saved");
  }
  int64_t ticket_id = tkt_db_last_id(w);
  const cJSON *t;
  cJSON_ArrayForEach(t, tags)
    if (tkt_db_exec(w, "INSERT OR IGNORE INTO tkt_ticket_tags(ticket_id, tag) VALUES (?1, ?2)", "it", ticket_id,
                    t->valuestring) != SQLITE_OK) {
      cJSON_Delete(extra);
      return -tkt_error(r, 500, "internal", "the ticket could not be saved");
    }
  int64_t message_id = insert_message(r, w, ticket_id, ticket_id, "customer", 0, customer_id, body, NULL, attachments,
                                      NULL, 0);
  if (message_id < 0) { cJSON_Delete(extra); return message_id; }
  char ref[24];
  snprintf(ref, sizeof ref, "#%lld", (long long)reference);
  tkt_history(w, ticket_id, actor, "created", NULL, ref);
  if (tkt_search_added(w, ticket_id) != 0) {
    cJSON_Delete(extra);
    return -tkt_error(r, 500, "internal", "the search index could not be updated");
  }
  cJSON *x = message_event_extra(w, message_id, "customer", 0, customer_id, ticket_id, ref, customer_id, body,
                                 cJSON_GetArraySize(attachments));
  cJSON_AddStringToObject(x, "actor", actor);
  if (order_number) cJSON_AddStringToObject(x, "order_number", order_number);
  if (extra) {
    cJSON *item;
    while ((item = extra->child)) {
      cJSON_DetachItemViaPointer(extra, item);
      cJSON_AddItemToObject(x, item->string, item);
    }
    cJSON_Delete(extra);
  }
  int rc = tkt_emit(r, "ticket.created", ticket_id, x);
  if (rc) return -rc;
  /* Opened in a round-robin team, and neither the triage nor a trigger gave it an agent or moved it: the team's
   * next online member gets it. */
  if (team_id > 0 && tkt_team_round_robin(w, team_id) &&
      tkt_db_int(w, 0, "SELECT count(*) FROM tkt_tickets WHERE id = ?1 AND team_id = ?2 AND assignee_id IS NULL",
                 "ii", ticket_id, team_id) == 1) {
    int64_t pick = tkt_team_pick(r, w, team_id);
    if (pick < 0) return -tkt_error(r, 500, "internal", "internal error");
    if (pick > 0) {
      struct tkt_changes c = { 0 };
      c.set_assignee = 1;
      c.assignee_id = pick;
      if ((rc = tkt_apply_changes(r, w, ticket_id, &c, "system"))) return -rc;
    }
  }
  return ticket_id;
}

/* ------------------------------------------------------------------------------------------------ handlers */

int tkt_ticket_open(struct destek_req *r, const cJSON *body, int64_t *ticket_id)
{
  const char *subject, *text, *channel, *priority, *name, *phone_in, *order_number, *lang;
  char email[256], phone[24] = "";
  int rc;
  if ((rc = tkt_field_str(r, body, "subject", DESTEK_REQUIRED, TKT_SUBJECT_MAX, &subject)) ||
      (rc = tkt_field_str(r, body, "body", DESTEK_REQUIRED, TKT_BODY_MAX, &text)) ||
      (rc = tkt_field_enum(r, body, "channel", DESTEK_OPTIONAL, TKT_CHANNELS, &channel)) ||
      (rc = tkt_field_enum(r, body, "priority", DESTEK_OPTIONAL, TKT_PRIORITIES, &priority)) ||
      (rc = tkt_field_str(r, body, "order_number", DESTEK_OPTIONAL, TKT_ORDER_NUMBER_MAX, &order_number)))
    return rc;
  const cJSON *cust = cJSON_GetObjectItemCaseSensitive(body, "customer");
  if (!cust || cJSON_IsNull(cust)) return tkt_field_error(r, "missing_field", "customer", "customer is required");
  if (!cJSON_IsObject(cust))
    return tkt_field_error(r, "invalid_field", "customer", "customer must be an object {email, name, phone}");
  static const char *const LANGS[] = { "tr", "en", NULL };
  if ((rc = tkt_field_email(r, cust, "email", DESTEK_OPTIONAL, email))) { tkt_rename_field(r, "customer.email"); return rc; }
  if ((rc = tkt_field_str(r, cust, "name", DESTEK_OPTIONAL, 200, &name))) { tkt_rename_field(r, "customer.name"); return rc; }
  if ((rc = tkt_field_str(r, cust, "phone", DESTEK_OPTIONAL, 40, &phone_in))) { tkt_rename_field(r, "customer.phone"); return rc; }
  if ((rc = tkt_field_enum(r, cust, "lang", DESTEK_OPTIONAL, LANGS, &lang))) { tkt_rename_field(r, "customer.lang"); return rc; }
  if (phone_in && *phone_in && tkt_phone_normalise(phone_in, phone) != 0)
    return tkt_field_error(r, "invalid_field", "customer.phone", "customer.phone is not a phone number");
  if (!*email && !*phone)
    return tkt_field_error(r, "missing_field", "customer.email", "customer.email (or customer.phone) is required");
  const cJSON *tags = cJSON_GetObjectItemCaseSensitive(body, "tags");
  if (tags && cJSON_IsNull(tags)) tags = NULL;
  if (tags && (rc = tkt_tags_check(r, tags, "tags"))) return rc;
  const cJSON *atts = cJSON_GetObjectItemCaseSensitive(body, "attachments");
  if (atts && cJSON_IsNull(atts)) atts = NULL;
  if (atts) tkt_body_drop(r);   /* only the parsed JSON is read from here on (the server's body memory) */
  if (atts && (rc = tkt_attachments_check(r, atts))) return rc;

  struct destek_db *w = tkt_db_write(r);
  if (!w) return tkt_status(r);
  int64_t customer_id = tkt_customer_match(r, *email ? email : NULL, name, *phone ? phone : NULL, lang);
  if (customer_id <= 0) return tkt_error(r, 500, "internal", "the customer could not be saved");
  char actor[48];
  tkt_actor(r, actor);
  int64_t id = tkt_ticket_create(r, w, subject, customer_id, text, channel ? channel : "api",
                                 priority ? priority : "normal", tags, order_number && *order_number ? order_number : NULL,
                                 atts, actor, NULL);
  if (id < 0) return (int)-id;
  *ticket_id = id;
  return 0;
}

static int ticket_create(struct destek_req *r)
{
  cJSON *body;
  int64_t id;
  int rc;
  if ((rc = tkt_body(r, &body)) || (rc = tkt_ticket_open(r, body, &id))) return rc;
  /* The ticket, its triage, SLA, triggers and search row are in: commit them now and build the 201 (the triaged
   * ticket with its thread) from this thread's reader, so the writer every other write waits for is not held while
   * the answer is written. */
  if ((rc = tkt_db_commit(r))) return rc;
  return tkt_ticket_reply(r, 201, tkt_db_read(r), id, 1);
}

static int ticket_get(struct destek_req *r)
{
  return tkt_ticket_reply(r, 200, tkt_db_read(r), tkt_param_int(r, "id"), 1);
}

static int ticket_update(struct destek_req *r)
{
  int64_t id = tkt_param_int(r, "id");
  cJSON *body;
  struct tkt_changes c = { 0 };
  int rc;
  if ((rc = tkt_body(r, &body)) ||
      (rc = tkt_field_enum(r, body, "status", DESTEK_OPTIONAL, TKT_STATUSES, &c.status)) ||
      (rc = tkt_field_enum(r, body, "priority", DESTEK_OPTIONAL, TKT_PRIORITIES, &c.priority)) ||
      (rc = tkt_field_str(r, body, "subject", DESTEK_OPTIONAL, TKT_SUBJECT_MAX, &c.subject)))
    return rc;
  if (c.subject && !*c.subject) return tkt_field_error(r, "invalid_field", "subject", "subject cannot be empty");
  if (!tkt_db_int(tkt_db_read(r), 0, "SELECT count(*) FROM tkt_tickets WHERE id = ?1", "i", id))
    return tkt_error(r, 404, "not_found", "no such ticket");
  if ((rc = tkt_assignee_field(r, body, "assignee_id", &c.set_assignee, &c.assignee_id)) ||
      (rc = team_field(r, body, &c.set_team, &c.team_id)))
    return rc;
  cJSON *tags = cJSON_GetObjectItemCaseSensitive(body, "tags");
  if (tags && (rc = tkt_tags_check(r, tags, "tags"))) return rc;
  c.tags = tags;
  cJSON *cf = cJSON_GetObjectItemCaseSensitive(body, "custom_fields");
  if (cf && (rc = custom_fields_check(r, cf))) return rc;
  c.custom_fields = cf;
  struct destek_db *w = tkt_db_write(r);
  if (!w) return tkt_status(r);
  char actor[48];
  tkt_actor(r, actor);
  if ((rc = tkt_apply_changes(r, w, id, &c, actor))) return rc;
  return tkt_ticket_reply(r, 200, w, id, 1);
}

static int ticket_assign(struct destek_req *r)
{
  int64_t id = tkt_param_int(r, "id");
  cJSON *body;
  struct tkt_changes c = { 0 };
  int rc;
  if ((rc = tkt_body(r, &body))) return rc;
  if (!tkt_db_int(tkt_db_read(r), 0, "SELECT count(*) FROM tkt_tickets WHERE id = ?1", "i", id))
    return tkt_error(r, 404, "not_found", "no such ticket");
  if ((rc = tkt_assignee_field(r, body, "assignee_id", &c.set_assignee, &c.assignee_id))) return rc;
  if (!c.set_assignee)
    return tkt_field_error(r, "missing_field", "assignee_id", "assignee_id is required (a user id, \"me\" or null)");
  struct destek_db *w = tkt_db_write(r);
  if (!w) return tkt_status(r);
  char actor[48];
  tkt_actor(r, actor);
  if ((rc = tkt_apply_changes(r, w, id, &c, actor))) return rc;
  return tkt_reply_json(r, 200, tkt_ticket_json(w, id, 0));
}

int tkt_message_request(struct destek_req *r, int64_t id, const cJSON *body, int dry, int64_t *message_id)
{
  static const char *const KINDS[] = { "reply", "note", NULL };
  const char *text, *kind, *html;
  int rc;
  *message_id = 0;
  if ((rc = tkt_field_str(r, body, "body", DESTEK_REQUIRED, TKT_BODY_MAX, &text)) ||
      (rc = tkt_field_enum(r, body, "kind", DESTEK_OPTIONAL, KINDS, &kind)) ||
      (rc = tkt_field_str(r, body, "body_html", DESTEK_OPTIONAL, TKT_HTML_MAX, &html)))
    return rc;
  if (!kind) kind = "reply";
  cJSON *atts = cJSON_GetObjectItemCaseSensitive(body, "attachments");
  if (atts && cJSON_IsNull(atts)) atts = NULL;
  if (atts && !dry) tkt_body_drop(r);   /* only the parsed JSON is read from here on (the server's body memory) */
  char status[16] = "";
  char *st_text = tkt_db_text_new(tkt_db_read(r), "SELECT status FROM tkt_tickets WHERE id = ?1", "i", id);
  if (!st_text) return tkt_error(r, 404, "not_found", "no such ticket");
  snprintf(status, sizeof status, "%s", st_text);
  free(st_text);
  if (dry && !strcmp(status, "closed")) return tkt_error(r, 409, "ticket_closed", "the ticket is closed: it cannot be changed");
  if (atts && (rc = tkt_attachments_check(r, atts))) return rc;
  const cJSON *changes = cJSON_GetObjectItemCaseSensitive(body, "changes");
  if (changes && !cJSON_IsNull(changes) && (rc = tkt_changes_check(r, changes))) return rc;
  /* Files of the agent's draft (uploaded before, kept on the server) become the message's without a second upload. */
  int64_t draft_ids[TKT_ATTACHMENTS_MAX];
  int n_drafts = 0;
  if ((rc = tkt_draft_files_field(r, tkt_db_read(r), body, id, tkt_user_id(r), cJSON_GetArraySize(atts), draft_ids,
                                  &n_drafts)))
    return rc;
  /* The channel it goes out on (sending.c): the customer's, or e-mail when the agent switched; a channel nobody
   * sends on is refused (409 channel_unavailable), never mailed instead. */
  char via[24] = "email";
  if (!strcmp(kind, "reply") && (rc = tkt_reply_via(r, tkt_db_read(r), id, body, via))) return rc;
  /* CC and BCC: mailed with a reply by e-mail only. */
  char *cc = NULL, *bcc = NULL;
  if ((rc = tkt_address_list_field(r, body, "cc", &cc)) || (rc = tkt_address_list_field(r, body, "bcc", &bcc))) {
    free(cc);
    return rc;
  }
  if ((cc || bcc) && (strcmp(kind, "reply") || strcmp(via, "email"))) {
    free(cc);
    free(bcc);
    return tkt_field_error(r, "invalid_field", cc ? "cc" : "bcc", "cc and bcc go with a reply by e-mail only");
  }
  if (dry) { free(cc); free(bcc); cc = bcc = NULL; }
  struct destek_db *w = dry ? tkt_db_read(r) : tkt_db_write(r);
  if (!w) { free(cc); free(bcc); return tkt_status(r); }
  /* A reply goes to one customer: the ticket's, or after a merge of several customers' tickets the one named. */
  int64_t part = id;
  if (!strcmp(kind, "reply") && (rc = tkt_reply_part_field(r, w, body, id, &part))) { free(cc); free(bcc); return rc; }
  if (dry) return 0;
  char actor[48];
  tkt_actor(r, actor);
  /* An agent's reply carries their signature and the mailbox's, unless "signature": false. */
  char *signed_text = NULL;
  if (!strcmp(kind, "reply") && tkt_user_id(r) > 0 && !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(body, "signature")))
    signed_text = tkt_signed_text_new(r, w, id, text);
  if (signed_text) text = signed_text;
  /* HTML from an integration is stored as the mail channel stores it: sanitised (no scripts, handlers, frames;
   * remote images held back), so every reader of body_html gets safe markup. */
  char *safe_html = html && *html ? tkt_html_sanitize_new(html) : NULL;
  int64_t mid = tkt_message_add_drafts(r, w, id, part, kind, tkt_user_id(r), 0, text,
                                       safe_html && *safe_html ? safe_html : NULL, atts, draft_ids, n_drafts, actor);
  free(safe_html);
  free(signed_text);
  if (mid < 0) { free(cc); free(bcc); return (int)-mid; }
  if ((strcmp(via, "email") && tkt_db_exec(w, "UPDATE tkt_messages SET via = ?2 WHERE id = ?1", "it", mid, via) != SQLITE_OK) ||
      ((cc || bcc) && tkt_db_exec(w, "UPDATE tkt_messages SET cc = ?2, bcc = ?3 WHERE id = ?1", "itt", mid, cc, bcc) != SQLITE_OK)) {
    free(cc);
    free(bcc);
    return tkt_error(r, 500, "internal", "the message could not be saved");
  }
  free(cc);
  free(bcc);
  if (changes && (rc = tkt_changes_apply_json(r, w, id, changes, actor))) return rc;
  *message_id = mid;
  return 0;
}

static int message_create(struct destek_req *r)
{
  int64_t id = tkt_param_int(r, "id"), mid;
  cJSON *body;
  int rc;
  if ((rc = tkt_body(r, &body))) return rc;
  /* "hold": the reply waits for the undo window (sending.c) when the desk has one. */
  if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(body, "hold")) && tkt_undo_seconds() > 0 &&
      !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(body, "attachments")))
    return tkt_message_hold(r, id, body);
  if ((rc = tkt_message_request(r, id, body, 0, &mid))) return rc;
  struct destek_db *w = tkt_db_write(r);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddItemToObject(o, "message", tkt_message_json(w, mid));
  cJSON_AddItemToObject(o, "ticket", tkt_ticket_json(w, id, 0));
  return tkt_reply_json(r, 201, o);
}

const struct destek_route tkt_ticket_routes[] = {
  { "POST",  "/api/v1/tickets",               ticket_create,  DESTEK_AGENT, NULL, TKT_UPLOAD_BODY_MAX },
  { "GET",   "/api/v1/tickets/{id}",          ticket_get,     DESTEK_AGENT, "id:int" },
  { "PATCH", "/api/v1/tickets/{id}",          ticket_update,  DESTEK_AGENT, "id:int" },
  { "POST",  "/api/v1/tickets/{id}/messages", message_create, DESTEK_AGENT, "id:int", TKT_UPLOAD_BODY_MAX },
  { "POST",  "/api/v1/tickets/{id}/assign",   ticket_assign,  DESTEK_AGENT, "id:int" },
  { 0 }
};
