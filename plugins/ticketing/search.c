/* The search index: one row of tkt_search per ticket (rowid = ticket id) holding the folded subject, message
 * bodies and customer name, rewritten by the code that changes them, in the same transaction. */
#include "tkt.h"

#include <stdlib.h>
#include <string.h>

#include "fold.h"

int tkt_search_refresh(struct db *w, int64_t ticket_id)
{
  char *subject = db_text_new(w, "SELECT subject FROM tkt_tickets WHERE id = ?1", "i", ticket_id);
  char *customer = db_text_new(w, "SELECT c.name || ' ' || coalesce(c.email, '') FROM tkt_tickets t"
                                  " JOIN tkt_customers c ON c.id = t.customer_id WHERE t.id = ?1", "i", ticket_id);
  char *bodies = db_text_new(w, "SELECT group_concat(body, char(10)) FROM"
                                " (SELECT body FROM tkt_messages WHERE ticket_id = ?1 ORDER BY id)", "i", ticket_id);
  int rc = -1;
  if (subject) {
    char *fs = tkt_fold_new(subject, strlen(subject));
    char *fb = tkt_fold_new(bodies ? bodies : "", bodies ? strlen(bodies) : 0);
    char *fc = tkt_fold_new(customer ? customer : "", customer ? strlen(customer) : 0);
    if (db_exec(w, "DELETE FROM tkt_search WHERE rowid = ?1", "i", ticket_id) == SQLITE_OK &&
        db_exec(w, "INSERT INTO tkt_search(rowid, subject, body, customer) VALUES (?1, ?2, ?3, ?4)", "ittt",
                ticket_id, fs, fb, fc) == SQLITE_OK)
      rc = 0;
    free(fs);
    free(fb);
    free(fc);
  }
  free(subject);
  free(customer);
  free(bodies);
  return rc;
}
