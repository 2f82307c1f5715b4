/* The search index: one row of tkt_search per ticket (rowid = ticket id) holding the folded subject, message
 * bodies and customer name, rewritten in the transaction that changes them.
 *
 * The rewrite waits for the commit (the host's on_commit hook): code that changes a ticket marks it, and the rows of every ticket
 * marked in the transaction are rewritten once, just before COMMIT. FTS5 writes its pending changes out as a new
 * index segment at every savepoint and commit, and each request's transaction is a savepoint in a group commit, with
 * more savepoints per emitted event: refreshing at the change cost a segment (and its merges) per savepoint. */
#include "tkt.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "fold.h"

/* The tickets marked in the open write transaction; fresh: created in it, so the index has no row of it yet. Only
 * touched with the writer held. */
static struct mark { int64_t ticket_id; int fresh; } *dirty;
static size_t dirty_count, dirty_cap;

static int mark(int64_t ticket_id, int fresh)
{
  for (size_t i = dirty_count; i > 0; i--) if (dirty[i - 1].ticket_id == ticket_id) return 0;
  if (dirty_count == dirty_cap) {
    dirty_cap = dirty_cap ? dirty_cap * 2 : 64;
    dirty = realloc(dirty, dirty_cap * sizeof *dirty);
    if (!dirty) abort();
  }
  dirty[dirty_count++] = (struct mark){ ticket_id, fresh };
  return 0;
}

int tkt_search_refresh(struct destek_db *w, int64_t ticket_id) { (void)w; return mark(ticket_id, 0); }
int tkt_search_added(struct destek_db *w, int64_t ticket_id) { (void)w; return mark(ticket_id, 1); }

/* Writes the index row of a ticket: 1 done, 0 when the ticket is gone (created and taken back in this transaction:
 * nothing to index), -1 on error. */
static int rewrite_row(struct destek_db *w, int64_t ticket_id, int fresh)
{
  sqlite3_stmt *st = tkt_db_prepare(w, "SELECT t.subject, c.name || ' ' || coalesce(c.email, ''),"
                                       " (SELECT group_concat(body, char(10)) FROM"
                                       "  (SELECT body FROM tkt_messages WHERE ticket_id = ?1 ORDER BY id))"
                                       " FROM tkt_tickets t JOIN core_contacts c ON c.id = t.customer_id WHERE t.id = ?1");
  if (!st) return -1;
  tkt_db_bind(st, "i", ticket_id);
  if (sqlite3_step(st) != SQLITE_ROW) { tkt_db_done(st); return 0; }
  const char *texts[3];
  int lens[3];
  for (int i = 0; i < 3; i++) {
    texts[i] = sqlite3_column_type(st, i) == SQLITE_NULL ? "" : (const char *)sqlite3_column_text(st, i);
    lens[i] = sqlite3_column_bytes(st, i);
  }
  char *fs = tkt_fold_new(texts[0], (size_t)lens[0]), *fc = tkt_fold_new(texts[1], (size_t)lens[1]),
       *fb = tkt_fold_new(texts[2], (size_t)lens[2]);
  tkt_db_done(st);
  int rc = -1;
  if ((fresh || tkt_db_exec(w, "DELETE FROM tkt_search WHERE rowid = ?1", "i", ticket_id) == SQLITE_OK) &&
      tkt_db_exec(w, "INSERT INTO tkt_search(rowid, subject, body, customer) VALUES (?1, ?2, ?3, ?4)", "ittt",
                  ticket_id, fs, fb, fc) == SQLITE_OK)
    rc = 1;
  free(fs);
  free(fb);
  free(fc);
  return rc;
}

static int before_commit(struct destek_db *w, void *ud)
{
  (void)ud;
  for (size_t i = 0; i < dirty_count; i++)
    if (rewrite_row(w, dirty[i].ticket_id, dirty[i].fresh) < 0) {
      tkt_log(DESTEK_LOG_ERROR, "search: the index row of ticket %lld could not be written: %s",
              (long long)dirty[i].ticket_id, tkt_db_errmsg(w));
      return -1;
    }
  return 0;
}

static void after_transaction(int committed, void *ud) { (void)committed; dirty_count = 0; }

int tkt_search_init(void)
{
  /* Once per process: a host table is handed out once per plugin, but init may in principle run again. */
  static atomic_int done;
  if (atomic_exchange(&done, 1)) return 0;
  return tkt_host->on_commit(tkt_host, before_commit, after_transaction, NULL);
}
