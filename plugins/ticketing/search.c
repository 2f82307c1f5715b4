/* The search index: one row of tkt_search per ticket (rowid = ticket id) holding the folded subject, message
 * bodies and customer name, rewritten in the transaction that changes them.
 *
 * The rewrite waits for the commit (db_on_commit): code that changes a ticket marks it, and the rows of every ticket
 * marked in the transaction are rewritten once, just before COMMIT. FTS5 writes its pending changes out as a new
 * index segment at every savepoint and commit, and each request's transaction is a savepoint in a group commit, with
 * more savepoints per emitted event: refreshing at the change cost a segment (and its merges) per savepoint. */
#include "tkt.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "fold.h"

/* The tickets marked in the open write transaction. Only touched with the writer held. */
static int64_t *dirty;
static size_t dirty_count, dirty_cap;

int tkt_search_refresh(struct db *w, int64_t ticket_id)
{
  (void)w;
  for (size_t i = dirty_count; i > 0; i--) if (dirty[i - 1] == ticket_id) return 0;
  if (dirty_count == dirty_cap) {
    dirty_cap = dirty_cap ? dirty_cap * 2 : 64;
    dirty = realloc(dirty, dirty_cap * sizeof *dirty);
    if (!dirty) abort();
  }
  dirty[dirty_count++] = ticket_id;
  return 0;
}

static int rewrite_row(struct db *w, int64_t ticket_id)
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

static int before_commit(struct db *w, void *ud);
static void after_transaction(int committed, void *ud);
static void search_hooks_register(void) { db_on_commit(before_commit, after_transaction, NULL); }

static int before_commit(struct db *w, void *ud)
{
  for (size_t i = 0; i < dirty_count; i++) {
    /* A ticket created and taken back in the same transaction has no row to index: nothing to do. */
    if (!db_int(w, 0, "SELECT count(*) FROM tkt_tickets WHERE id = ?1", "i", dirty[i])) continue;
    if (rewrite_row(w, dirty[i]) != 0) {
      tkt_host->log(tkt_host, DESTEK_LOG_ERROR, "search: the index row of ticket %lld could not be written: %s",
                    (long long)dirty[i], db_errmsg(w));
      return -1;
    }
  }
  return 0;
}

static void after_transaction(int committed, void *ud) { (void)committed; dirty_count = 0; }

void tkt_search_init(void)
{
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, search_hooks_register);
}
