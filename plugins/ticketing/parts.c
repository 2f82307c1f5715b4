/* Parts of a thread: when tickets are merged, the source's messages move into the target, which may be another
 * customer's ticket (an agent confirmed it: ops.c). Each message then still belongs to one customer's
 * conversation, its part (tkt_messages.part_ticket_id): the ticket that customer wrote to, or that an agent's reply
 * answers. A customer sees only their own part (public.c), mail about a part goes to its customer with its
 * reference (mail_out.c), and mail from an address is that customer's message only where the customer has a part
 * (mail_in.c).
 *
 * The thread of a ticket is the end of its chain of merges; its tickets are the thread and every ticket merged into
 * it, directly or through others (walked down by tkt_tickets_merged_into). */
#include "tkt.h"

#include <stdio.h>

int64_t tkt_thread_of(struct destek_db *db, int64_t ticket_id)
{
  for (int hops = 0; ticket_id && hops < 16; hops++) {
    int64_t next = tkt_db_int(db, 0, "SELECT coalesce(merged_into, 0) FROM tkt_tickets WHERE id = ?1", "i", ticket_id);
    if (!next) break;
    ticket_id = next;
  }
  return ticket_id;
}

/* The tickets of thread ?1's thread (UNION: a cycle cannot loop), then the columns the caller names. */
#define THREAD_TICKETS \
  "WITH RECURSIVE tree(id) AS (SELECT ?1 UNION SELECT t.id FROM tkt_tickets t JOIN tree ON t.merged_into = tree.id) "

int64_t tkt_part_of(struct destek_db *db, int64_t thread_id, int64_t customer_id)
{
  if (!thread_id || !customer_id) return 0;
  return tkt_db_int(db, 0, THREAD_TICKETS "SELECT t.id FROM tree JOIN tkt_tickets t ON t.id = tree.id"
                       " WHERE t.customer_id = ?2 ORDER BY t.id <> ?1, t.id LIMIT 1", "ii", thread_id, customer_id);
}

int tkt_thread_customers(struct destek_db *db, int64_t thread_id)
{
  return (int)tkt_db_int(db, 0, THREAD_TICKETS "SELECT count(DISTINCT t.customer_id) FROM tree"
                            " JOIN tkt_tickets t ON t.id = tree.id", "i", thread_id);
}

cJSON *tkt_parts_json(struct destek_db *db, int64_t thread_id)
{
  cJSON *a = cJSON_CreateArray();
  /* Nearly every ticket has nothing merged into it: it is then its own only part, read without the recursive walk
   * and its temporary tables (every ticket's detail view shows its parts). */
  int merged = tkt_db_int(db, 0, "SELECT EXISTS (SELECT 1 FROM tkt_tickets WHERE merged_into = ?1)", "i", thread_id) != 0;
  sqlite3_stmt *st = merged
    ? tkt_db_prepare(db, THREAD_TICKETS "SELECT t.id, t.reference, t.subject, c.id, c.name, c.email,"
                         " t.order_number, c.lang FROM tree JOIN tkt_tickets t ON t.id = tree.id"
                         " JOIN core_contacts c ON c.id = t.customer_id ORDER BY t.id <> ?1, t.id")
    : tkt_db_prepare(db, "SELECT t.id, t.reference, t.subject, c.id, c.name, c.email, t.order_number, c.lang"
                         " FROM tkt_tickets t JOIN core_contacts c ON c.id = t.customer_id WHERE t.id = ?1");
  if (!st) return a;
  tkt_db_bind(st, "i", thread_id);
  while (sqlite3_step(st) == SQLITE_ROW) {
    cJSON *p = cJSON_CreateObject();
    char ref[24];
    snprintf(ref, sizeof ref, "#%lld", (long long)sqlite3_column_int64(st, 1));
    cJSON_AddNumberToObject(p, "ticket_id", (double)sqlite3_column_int64(st, 0));
    cJSON_AddStringToObject(p, "reference", ref);
    cJSON_AddStringToObject(p, "subject", (const char *)sqlite3_column_text(st, 2));
    if (sqlite3_column_type(st, 6) == SQLITE_NULL) cJSON_AddNullToObject(p, "order_number");
    else cJSON_AddStringToObject(p, "order_number", (const char *)sqlite3_column_text(st, 6));
    cJSON *c = cJSON_AddObjectToObject(p, "customer");
    cJSON_AddNumberToObject(c, "id", (double)sqlite3_column_int64(st, 3));
    cJSON_AddStringToObject(c, "name", (const char *)sqlite3_column_text(st, 4));
    if (sqlite3_column_type(st, 5) == SQLITE_NULL) cJSON_AddNullToObject(c, "email");
    else cJSON_AddStringToObject(c, "email", (const char *)sqlite3_column_text(st, 5));
    cJSON_AddStringToObject(c, "lang", (const char *)sqlite3_column_text(st, 7));
    cJSON_AddItemToArray(a, p);
  }
  tkt_db_done(st);
  return a;
}

int tkt_reply_part_field(struct destek_req *r, struct destek_db *db, const cJSON *obj, int64_t thread_id,
                         int64_t *part_ticket_id)
{
  *part_ticket_id = thread_id;
  const cJSON *to = obj ? cJSON_GetObjectItemCaseSensitive(obj, "to_customer_id") : NULL;
  if (!to || cJSON_IsNull(to)) {
    if (tkt_thread_customers(db, thread_id) > 1)
      return tkt_field_error(r, "missing_field", "to_customer_id",
                              "tickets of several customers were merged into this one: to_customer_id says which"
                              " customer the reply is for");
    return 0;
  }
  if (!cJSON_IsNumber(to) || to->valuedouble < 1 || to->valuedouble != (double)(int64_t)to->valuedouble)
    return tkt_field_error(r, "invalid_field", "to_customer_id", "to_customer_id must be a customer id");
  int64_t part = tkt_part_of(db, thread_id, (int64_t)to->valuedouble);
  if (!part)
    return tkt_field_error(r, "invalid_field", "to_customer_id", "to_customer_id is not a customer of this ticket");
  *part_ticket_id = part;
  return 0;
}
