/* The orders module's part in the life of a contact (host->contact_hooks): merged (the orders follow the
 * survivor), exported (KVKK: the person's orders with their items and shipments) and erased (KVKK: the person's
 * e-mail, phone, name and street address removed from their orders; the orders, their amounts, items, province and
 * district stay, so counts and reports do). */
#include "orders.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int on_merged(struct destek_req *r, int64_t target, int64_t source, void *ud)
{
  (void)ud;
  struct destek_db *w = ord_db_write(r);
  if (!w) return ord_status(r);
  if (ord_db_exec(w, "UPDATE orders_orders SET contact_id = ?1 WHERE contact_id = ?2", "ii", target, source) != SQLITE_OK)
    return ord_error(r, 500, "internal", "the contacts' orders could not be merged");
  return 0;
}

static int on_exported(struct destek_req *r, int64_t contact_id, struct destek_export *ex, cJSON **part, void *ud)
{
  (void)ex; (void)ud;
  struct destek_db *db = ord_db_read(r);
  sqlite3_stmt *st = ord_db_prepare(db, "SELECT id FROM orders_orders WHERE contact_id = ?1 ORDER BY id");
  if (!st) return ord_error(r, 500, "internal", "the contact's orders could not be read");
  ord_db_bind(st, "i", contact_id);
  int64_t *ids = NULL;
  size_t n = 0, cap = 0;
  while (sqlite3_step(st) == SQLITE_ROW) {
    if (n == cap) { cap = cap ? cap * 2 : 16; ids = realloc(ids, cap * sizeof *ids); if (!ids) abort(); }
    ids[n++] = sqlite3_column_int64(st, 0);
  }
  ord_db_done(st);
  if (!n) { *part = NULL; return 0; }
  cJSON *orders = cJSON_CreateArray();
  for (size_t i = 0; i < n; i++) {
    cJSON *o = ord_order_json(db, ids[i], 1);
    if (o) cJSON_AddItemToArray(orders, o);
  }
  free(ids);
  *part = cJSON_CreateObject();
  cJSON_AddItemToObject(*part, "orders", orders);
  return 0;
}

/* Scrubs one order's personal fields. content_sha is cleared so that the shop's next version of the order is stored
 * as a change (the shop still holds the person's data; erasing it there is the merchant's step); search_text is
 * cleared, and list.c's job writes it again from what is left. */
#define SCRUB_SQL \
  "UPDATE orders_orders SET email = NULL, phone = NULL, customer_name = NULL, ship_name = NULL, ship_address = NULL," \
  " content_sha = '', search_text = NULL WHERE "

static int on_erased(struct destek_req *r, int64_t contact_id, const cJSON *person, void *ud)
{
  (void)ud;
  struct destek_db *w = ord_db_write(r);
  if (!w) return ord_status(r);
  if (ord_db_exec(w, SCRUB_SQL "contact_id = ?1", "i", contact_id) != SQLITE_OK ||
      ord_db_exec(w, "DELETE FROM orders_notify_choices WHERE order_id IN (SELECT id FROM orders_orders"
                     " WHERE contact_id = ?1)", "i", contact_id) != SQLITE_OK)
    return ord_error(r, 500, "internal", "the contact's orders could not be erased");
  /* Orders stored before they had a contact (or while the person's identity belonged to no one) by e-mail or phone. */
  const cJSON *id;
  cJSON_ArrayForEach(id, cJSON_GetObjectItemCaseSensitive(person, "identities")) {
    const char *kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(id, "kind"));
    const char *value = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(id, "value"));
    if (!kind || !value) continue;
    int rc = SQLITE_OK;
    if (!strcmp(kind, "email")) {
      rc = ord_db_exec(w, SCRUB_SQL "email = lower(?1)", "t", value);
    } else if (!strcmp(kind, "phone") || !strcmp(kind, "whatsapp")) {
      char digits[32];
      ord_phone_norm(value, digits);
      if (digits[0]) rc = ord_db_exec(w, SCRUB_SQL "phone = ?1", "t", digits);
      /* the WhatsApp number a choice of channel names (notify.c) */
      char e164[40];
      if (rc == SQLITE_OK && ord_host->contact_normalise("whatsapp", value, e164, sizeof e164) == 0)
        rc = ord_db_exec(w, "DELETE FROM orders_notify_choices WHERE phone = ?1", "t", e164);
    }
    if (rc != SQLITE_OK) return ord_error(r, 500, "internal", "the contact's orders could not be erased");
  }
  /* The scrubbed orders' search words go now (list.c's job writes them again from what is left). */
  if (ord_db_exec(w, "DELETE FROM orders_search_words WHERE order_id IN"
                     " (SELECT id FROM orders_orders WHERE search_text IS NULL)", "") != SQLITE_OK)
    return ord_error(r, 500, "internal", "the contact's orders could not be erased");
  return 0;
}

int ord_contacts_init(const struct destek_host *h)
{
  if (!DESTEK_HOST_HAS(h, contact_hooks)) return 0;   /* a core older than contacts */
  static const struct destek_contact_hooks hooks = { on_merged, on_exported, on_erased, NULL };
  return h->contact_hooks(h, &hooks);
}
