/* The chat module's part in the life of a contact (host->contact_hooks): merged (visitors and WhatsApp threads
 * follow the survivor), exported (KVKK: the person's chat visitors with their conversations, and their WhatsApp
 * messages) and erased (KVKK: the visitors' e-mail, name and the shop's user id, their tokens, every message text of
 * theirs and their WhatsApp number; the rows stay, so counts do). The tickets themselves are ticketing's. */
#include "chat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int on_merged(struct destek_req *r, int64_t target, int64_t source, void *ud)
{
  (void)ud;
  struct destek_db *w = H->db_write(r);
  if (!w) return H->status(r);
  if (H->db_exec(w, "UPDATE chat_visitors SET contact_id = ?1 WHERE contact_id = ?2", "ii", target, source) != SQLITE_OK ||
      H->db_exec(w, "UPDATE chat_wa_threads SET contact_id = ?1 WHERE contact_id = ?2", "ii", target, source) != SQLITE_OK)
    return H->error(r, 500, "internal", "the contacts' chats could not be merged");
  return 0;
}

static cJSON *rows_new(struct destek_req *r, const char *sql, int64_t id)
{
  return H->query_new(r, sql, "i", id);
}

static int on_exported(struct destek_req *r, int64_t contact_id, struct destek_export *ex, cJSON **part, void *ud)
{
  (void)ex; (void)ud;
  cJSON *visitors = rows_new(r, "SELECT v.id, s.name AS shop, v.external_id, v.email, v.name, v.lang, v.created_at"
                                " FROM chat_visitors v JOIN chat_shops s ON s.id = v.shop_id WHERE v.contact_id = ?1"
                                " ORDER BY v.id", contact_id);
  cJSON *threads = rows_new(r, "SELECT id, wa_id, ticket_id, created_at FROM chat_wa_threads WHERE contact_id = ?1"
                               " ORDER BY id", contact_id);
  if (!visitors || !threads) {
    cJSON_Delete(visitors);
    cJSON_Delete(threads);
    return H->error(r, 500, "internal", "the contact's chats could not be read");
  }
  if (!cJSON_GetArraySize(visitors) && !cJSON_GetArraySize(threads)) {
    cJSON_Delete(visitors);
    cJSON_Delete(threads);
    *part = NULL;
    return 0;
  }
  cJSON *v;
  cJSON_ArrayForEach(v, visitors) {
    int64_t vid = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(v, "id"));
    cJSON *convs = rows_new(r, "SELECT id, ticket_id, status, created_at, ended_at FROM chat_conversations"
                               " WHERE visitor_id = ?1 ORDER BY id", vid);
    cJSON *c;
    cJSON_ArrayForEach(c, convs) {
      int64_t cid = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(c, "id"));
      cJSON_AddItemToObject(c, "messages", rows_new(r, "SELECT seq, sender, body, created_at FROM chat_messages"
                                                        " WHERE conversation_id = ?1 ORDER BY seq", cid));
    }
    cJSON_AddItemToObject(v, "conversations", convs ? convs : cJSON_CreateArray());
  }
  cJSON *t;
  cJSON_ArrayForEach(t, threads) {
    int64_t tid = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(t, "id"));
    cJSON *ms = rows_new(r, "SELECT direction, kind, body, status, created_at FROM chat_wa_messages WHERE thread_id = ?1"
                            " ORDER BY id", tid);
    cJSON_AddItemToObject(t, "messages", ms ? ms : cJSON_CreateArray());
  }
  *part = cJSON_CreateObject();
  cJSON_AddItemToObject(*part, "visitors", visitors);
  cJSON_AddItemToObject(*part, "whatsapp", threads);
  return 0;
}

static int on_erased(struct destek_req *r, int64_t contact_id, const cJSON *person, void *ud)
{
  (void)person; (void)ud;
  struct destek_db *w = H->db_write(r);
  if (!w) return H->status(r);
  if (H->db_exec(w, "UPDATE chat_messages SET body = '' WHERE conversation_id IN (SELECT c.id FROM chat_conversations c"
                    " JOIN chat_visitors v ON v.id = c.visitor_id WHERE v.contact_id = ?1)", "i", contact_id) != SQLITE_OK ||
      H->db_exec(w, "DELETE FROM chat_tokens WHERE visitor_id IN (SELECT id FROM chat_visitors WHERE contact_id = ?1)", "i",
                 contact_id) != SQLITE_OK ||
      H->db_exec(w, "UPDATE chat_visitors SET email = NULL, name = NULL, external_id = NULL WHERE contact_id = ?1", "i",
                 contact_id) != SQLITE_OK ||
      H->db_exec(w, "UPDATE chat_wa_messages SET body = '' WHERE thread_id IN (SELECT id FROM chat_wa_threads"
                    " WHERE contact_id = ?1)", "i", contact_id) != SQLITE_OK ||
      H->db_exec(w, "UPDATE chat_wa_threads SET wa_id = 'erased:' || id WHERE contact_id = ?1", "i", contact_id) != SQLITE_OK)
    return H->error(r, 500, "internal", "the contact's chats could not be erased");
  return 0;
}

int chat_contacts_init(const struct destek_host *h)
{
  static const struct destek_contact_hooks hooks = { on_merged, on_exported, on_erased, NULL };
  return h->contact_hooks(h, &hooks);
}
