/* Operations on several tickets: merge one into another, and bulk updates (all or nothing). */
#include "tkt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One side of a merge as the refusal below shows it: {id, reference, subject, customer: {id, name, email}}. */
static cJSON *merge_side_json(struct destek_db *db, int64_t ticket_id)
{
  cJSON *o = cJSON_CreateObject();
  sqlite3_stmt *st = tkt_db_prepare(db, "SELECT t.reference, t.subject, c.id, c.name, c.email FROM tkt_tickets t"
                                    " JOIN core_contacts c ON c.id = t.customer_id WHERE t.id = ?1");
  if (!st) return o;
  tkt_db_bind(st, "i", ticket_id);
  if (sqlite3_step(st) == SQLITE_ROW) {
    char ref[24];
    snprintf(ref, sizeof ref, "#%lld", (long long)sqlite3_column_int64(st, 0));
    cJSON_AddNumberToObject(o, "id", (double)ticket_id);
    cJSON_AddStringToObject(o, "reference", ref);
    cJSON_AddStringToObject(o, "subject", (const char *)sqlite3_column_text(st, 1));
    cJSON *c = cJSON_AddObjectToObject(o, "customer");
    cJSON_AddNumberToObject(c, "id", (double)sqlite3_column_int64(st, 2));
    cJSON_AddStringToObject(c, "name", (const char *)sqlite3_column_text(st, 3));
    if (sqlite3_column_type(st, 4) == SQLITE_NULL) cJSON_AddNullToObject(c, "email");
    else cJSON_AddStringToObject(c, "email", (const char *)sqlite3_column_text(st, 4));
  }
  tkt_db_done(st);
  return o;
}

/* POST /api/v1/tickets/{id}/merge {source_id, confirm_different_customers?}: the source's thread and attachments
 * move into the target (this ticket), its tags are added, and it is closed with merged_into; history on both.
 * Tickets of two different customers merge only when the request confirms it (else 409 customers_differ, naming
 * both sides): each message keeps its part (parts.c), so each customer still sees only their own conversation
 * through their link. ticket.merged tells the mail module to notify the customer once (notify_customer) when the
 * source was the same customer's; a customer whose ticket went into another customer's carries on as before. */
static int ticket_merge(struct destek_req *r)
{
  int64_t target = tkt_param_int(r, "id");
  cJSON *body;
  int rc = tkt_body(r, &body);
  if (rc) return rc;
  cJSON *src = cJSON_GetObjectItemCaseSensitive(body, "source_id");
  if (!src || cJSON_IsNull(src)) return tkt_field_error(r, "missing_field", "source_id", "source_id is required");
  int64_t source;
  if (!util_json_id(src, &source))
    return tkt_field_error(r, "invalid_field", "source_id", "source_id must be a ticket id");
  int confirmed;
  if ((rc = tkt_field_bool(r, body, "confirm_different_customers", DESTEK_OPTIONAL, &confirmed))) return rc;
  struct destek_db *w = tkt_db_write(r);
  if (!w) return tkt_status(r);
  char *target_status = tkt_db_text_new(w, "SELECT status FROM tkt_tickets WHERE id = ?1", "i", target);
  if (!target_status) return tkt_error(r, 404, "not_found", "no such ticket");
  int target_closed = !strcmp(target_status, "closed");
  free(target_status);
  if (source == target) return tkt_field_error(r, "invalid_field", "source_id", "a ticket cannot be merged into itself");
  char *source_status = tkt_db_text_new(w, "SELECT status FROM tkt_tickets WHERE id = ?1", "i", source);
  if (!source_status) return tkt_field_error(r, "invalid_field", "source_id", "source_id is not a ticket");
  int source_closed = !strcmp(source_status, "closed");
  if (target_closed) { free(source_status); return tkt_error(r, 409, "ticket_closed", "the target ticket is closed"); }
  if (source_closed) { free(source_status); return tkt_error(r, 409, "ticket_closed", "the source ticket is closed"); }
  int64_t source_customer = tkt_db_int(w, 0, "SELECT customer_id FROM tkt_tickets WHERE id = ?1", "i", source);
  int same_customer = source_customer == tkt_db_int(w, 0, "SELECT customer_id FROM tkt_tickets WHERE id = ?1", "i", target);
  if (!same_customer && confirmed != 1) {
    free(source_status);
    tkt_error(r, 409, "customers_differ", "these tickets belong to two different customers; to merge them anyway,"
               " send \"confirm_different_customers\": true (each customer keeps seeing only their own messages)");
    cJSON *e = tkt_error_object(r);
    cJSON_AddItemToObject(e, "target", merge_side_json(w, target));
    cJSON_AddItemToObject(e, "source", merge_side_json(w, source));
    return 409;
  }
  int64_t target_ref = tkt_db_int(w, 0, "SELECT reference FROM tkt_tickets WHERE id = ?1", "i", target);
  int64_t source_ref = tkt_db_int(w, 0, "SELECT reference FROM tkt_tickets WHERE id = ?1", "i", source);
  int moved = (int)tkt_db_int(w, 0, "SELECT count(*) FROM tkt_messages WHERE ticket_id = ?1", "i", source);
  char now[21], actor[48], tref[24], sref[24];
  tkt_now(now);
  tkt_actor(r, actor);
  snprintf(tref, sizeof tref, "#%lld", (long long)target_ref);
  snprintf(sref, sizeof sref, "#%lld", (long long)source_ref);
  int ok =
    tkt_db_exec(w, "UPDATE tkt_messages SET part_ticket_id = coalesce(part_ticket_id, ticket_id), ticket_id = ?2"
               " WHERE ticket_id = ?1", "ii", source, target) == SQLITE_OK &&
    tkt_db_exec(w, "UPDATE tkt_attachments SET ticket_id = ?2 WHERE ticket_id = ?1", "ii", source, target) == SQLITE_OK &&
    tkt_db_exec(w, "INSERT OR IGNORE INTO tkt_ticket_tags(ticket_id, tag) SELECT ?2, tag FROM tkt_ticket_tags"
               " WHERE ticket_id = ?1", "ii", source, target) == SQLITE_OK &&
    tkt_tags_copy_refresh(w, target) == 0 &&
    tkt_db_exec(w, "UPDATE tkt_tickets SET status = 'closed', merged_into = ?2, closed_at = ?3, updated_at = ?3, seq = ?4"
               " WHERE id = ?1", "iiti", source, target, now, tkt_next_seq(w)) == SQLITE_OK &&
    tkt_db_exec(w, "UPDATE tkt_tickets SET updated_at = ?2, seq = ?3 WHERE id = ?1", "iti", target, now,
            tkt_next_seq(w)) == SQLITE_OK &&
    tkt_history(w, source, actor, "merged_into", NULL, tref) == 0 &&
    tkt_history(w, source, actor, "status", source_status, "closed") == 0 &&
    tkt_history(w, target, actor, "merged_from", NULL, sref) == 0 &&
    tkt_search_refresh(w, source) == 0 && tkt_search_refresh(w, target) == 0;
  free(source_status);
  if (!ok) return tkt_error(r, 500, "internal", "the tickets could not be merged");
  tkt_presence_forget(source);
  cJSON *extra = cJSON_CreateObject();
  cJSON *s = cJSON_AddObjectToObject(extra, "source");
  cJSON_AddNumberToObject(s, "id", (double)source);
  cJSON_AddStringToObject(s, "reference", sref);
  cJSON_AddNumberToObject(s, "customer_id", (double)source_customer);
  cJSON_AddNumberToObject(extra, "messages_moved", moved);
  cJSON_AddBoolToObject(extra, "notify_customer", same_customer);
  cJSON_AddStringToObject(extra, "actor", actor);
  if ((rc = tkt_emit(r, "ticket.merged", target, extra))) return rc;
  cJSON *o = tkt_ticket_json(w, target, 1);
  return tkt_reply_json(r, 200, o);
}

/* POST /api/v1/tickets/bulk {ids, changes:{status, priority, assignee_id, team_id, add_tags, remove_tags}}: every ticket
 * changes or none does (the first refusal names the ticket and rolls everything back). */
static int ticket_bulk(struct destek_req *r)
{
  cJSON *body;
  int rc = tkt_body(r, &body);
  if (rc) return rc;
  cJSON *ids = cJSON_GetObjectItemCaseSensitive(body, "ids");
  if (!ids || cJSON_IsNull(ids)) return tkt_field_error(r, "missing_field", "ids", "ids is required");
  int n = cJSON_GetArraySize(ids);
  if (!cJSON_IsArray(ids) || n < 1 || n > TKT_BULK_MAX)
    return tkt_field_error(r, "invalid_field", "ids", "ids must be an array of 1 to %d ticket ids", TKT_BULK_MAX);
  const cJSON *it;
  cJSON_ArrayForEach(it, ids) {
    int64_t id;
    if (!util_json_id(it, &id)) return tkt_field_error(r, "invalid_field", "ids", "ids must be an array of ticket ids");
  }
  cJSON *ch = cJSON_GetObjectItemCaseSensitive(body, "changes");
  if (!ch || cJSON_IsNull(ch)) return tkt_field_error(r, "missing_field", "changes", "changes is required");
  if (!cJSON_IsObject(ch)) return tkt_field_error(r, "invalid_field", "changes", "changes must be an object");
  struct tkt_changes c = { 0 };
  if ((rc = tkt_field_enum(r, ch, "status", DESTEK_OPTIONAL, TKT_STATUSES, &c.status)) ||
      (rc = tkt_field_enum(r, ch, "priority", DESTEK_OPTIONAL, TKT_PRIORITIES, &c.priority)) ||
      (rc = tkt_assignee_field(r, ch, "assignee_id", &c.set_assignee, &c.assignee_id))) {
    cJSON *e = cJSON_GetObjectItemCaseSensitive(tkt_error_object(r), "field");
    if (cJSON_IsString(e)) {
      char f[80];
      snprintf(f, sizeof f, "changes.%s", e->valuestring);
      tkt_rename_field(r, f);
    }
    return rc;
  }
  c.add_tags = cJSON_GetObjectItemCaseSensitive(ch, "add_tags");
  c.remove_tags = cJSON_GetObjectItemCaseSensitive(ch, "remove_tags");
  const cJSON *team = cJSON_GetObjectItemCaseSensitive(ch, "team_id");
  if (team) {
    int64_t tid = 0;
    if (!cJSON_IsNull(team) && (!util_json_id(team, &tid) ||
        !tkt_db_int(tkt_db_read(r), 0, "SELECT count(*) FROM tkt_teams WHERE id = ?1", "i", tid)))
      return tkt_field_error(r, "invalid_field", "changes.team_id", "changes.team_id is not a team");
    c.set_team = 1;
    c.team_id = tid;
  }
  if (c.add_tags && (rc = tkt_tags_check(r, c.add_tags, "changes.add_tags"))) return rc;
  if (c.remove_tags && (rc = tkt_tags_check(r, c.remove_tags, "changes.remove_tags"))) return rc;
  if (!c.status && !c.priority && !c.set_assignee && !c.set_team && !c.add_tags && !c.remove_tags)
    return tkt_field_error(r, "missing_field", "changes", "changes names nothing to change");
  struct destek_db *w = tkt_db_write(r);
  if (!w) return tkt_status(r);
  char actor[48];
  tkt_actor(r, actor);
  cJSON_ArrayForEach(it, ids) {
    int64_t id = (int64_t)it->valuedouble;
    if ((rc = tkt_apply_changes(r, w, id, &c, actor))) {
      /* Say which ticket refused; the core rolls the whole transaction back. */
      cJSON *e = tkt_error_object(r);
      if (e) cJSON_AddNumberToObject(e, "ticket_id", (double)id);
      return rc;
    }
  }
  cJSON *items = cJSON_CreateArray();
  cJSON_ArrayForEach(it, ids) {
    cJSON *t = tkt_ticket_json(w, (int64_t)it->valuedouble, 0);
    if (t) cJSON_AddItemToArray(items, t);
  }
  cJSON *o = cJSON_CreateObject();
  cJSON_AddItemToObject(o, "items", items);
  return tkt_reply_json(r, 200, o);
}

const struct destek_route tkt_ops_routes[] = {
  { "POST", "/api/v1/tickets/{id}/merge", ticket_merge, DESTEK_AGENT, "id:int" },
  { "POST", "/api/v1/tickets/bulk",       ticket_bulk,  DESTEK_AGENT, NULL },
  { 0 }
};
