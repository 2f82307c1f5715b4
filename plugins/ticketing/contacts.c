/* Ticketing's part in the life of a contact (host->contact_hooks): merged (tickets and messages follow the
 * survivor), exported (KVKK: the person's tickets, messages, history, mail and attachment files) and erased (KVKK:
 * the person's name, e-mail addresses and phone numbers scrubbed from their tickets' subjects, messages and history,
 * their own HTML bodies and attachments deleted, their unfiled mail dropped; tickets and messages stay, so counts
 * do). */
#include "tkt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fold.h"

#define SCRUBBED "***"

/* --- merge --- */

static int64_t *ids_new(struct destek_db *db, sqlite3_stmt *st, size_t *n)
{
  (void)db;
  int64_t *ids = NULL;
  size_t cap = 0;
  *n = 0;
  while (st && sqlite3_step(st) == SQLITE_ROW) {
    if (*n == cap) { cap = cap ? cap * 2 : 16; ids = realloc(ids, cap * sizeof *ids); if (!ids) abort(); }
    ids[(*n)++] = sqlite3_column_int64(st, 0);
  }
  if (st) tkt_db_done(st);
  return ids;
}

static int on_merged(struct destek_req *r, int64_t target, int64_t source, void *ud)
{
  (void)ud;
  struct destek_db *w = tkt_db_write(r);
  if (!w) return tkt_status(r);
  sqlite3_stmt *st = tkt_db_prepare(w, "SELECT id FROM tkt_tickets WHERE customer_id = ?1");
  if (st) tkt_db_bind(st, "i", source);
  size_t n;
  int64_t *ids = ids_new(w, st, &n);
  char now[21], actor[48], a[24], b[24];
  tkt_now(now);
  tkt_actor(r, actor);
  snprintf(a, sizeof a, "%lld", (long long)source);
  snprintf(b, sizeof b, "%lld", (long long)target);
  if (tkt_db_exec(w, "UPDATE tkt_messages SET author_customer_id = ?1 WHERE author_customer_id = ?2", "ii", target,
                  source) != SQLITE_OK) {
    free(ids);
    return tkt_error(r, 500, "internal", "the customers could not be merged");
  }
  /* Each ticket with a history line, a fresh search row (the customer's name is indexed) and ticket.updated. */
  for (size_t i = 0; i < n; i++) {
    if (tkt_db_exec(w, "UPDATE tkt_tickets SET customer_id = ?2, updated_at = ?3, seq = ?4 WHERE id = ?1", "iiti",
                    ids[i], target, now, tkt_next_seq(w)) != SQLITE_OK ||
        tkt_history(w, ids[i], actor, "customer_id", a, b) != 0 || tkt_search_refresh(w, ids[i]) != 0) {
      free(ids);
      return tkt_error(r, 500, "internal", "the customers could not be merged");
    }
    cJSON *extra = cJSON_CreateObject();
    cJSON *changes = cJSON_AddObjectToObject(extra, "changes");
    cJSON *ch = cJSON_AddObjectToObject(changes, "customer_id");
    cJSON_AddNumberToObject(ch, "old", (double)source);
    cJSON_AddNumberToObject(ch, "new", (double)target);
    cJSON_AddStringToObject(extra, "actor", actor);
    int rc = tkt_emit(r, "ticket.updated", ids[i], extra);
    if (rc) { free(ids); return rc; }
  }
  free(ids);
  return 0;
}

/* --- export --- */

/* The person's tickets (theirs, and the threads their messages ended up in), as rows keyed by column name. */
static cJSON *rows_new(struct destek_req *r, const char *sql, int64_t contact_id)
{
  cJSON *rows = tkt_host->query_new(r, sql, "i", contact_id);
  return rows ? rows : cJSON_CreateArray();
}

#define PERSON_TICKETS "SELECT id FROM tkt_tickets WHERE customer_id = ?1"
#define PERSON_MESSAGES \
  "SELECT id FROM tkt_messages WHERE ticket_id IN (" PERSON_TICKETS ") OR author_customer_id = ?1" \
  " OR part_ticket_id IN (" PERSON_TICKETS ")"

static int on_exported(struct destek_req *r, int64_t contact_id, struct destek_export *ex, cJSON **part, void *ud)
{
  (void)ud;
  cJSON *o = cJSON_CreateObject();
  cJSON_AddItemToObject(o, "tickets", rows_new(r,
    "SELECT id, reference, subject, status, priority, channel, order_number, custom_fields, tags_json AS tags,"
    " merged_into, created_at, updated_at, first_response_at, solved_at, closed_at"
    " FROM tkt_tickets WHERE customer_id = ?1 ORDER BY id", contact_id));
  cJSON_AddItemToObject(o, "messages", rows_new(r,
    "SELECT m.id, m.ticket_id, m.part_ticket_id, m.kind,"
    " CASE WHEN m.author_customer_id = ?1 THEN 'customer' WHEN m.author_user_id IS NOT NULL THEN"
    "  (SELECT name FROM core_users WHERE id = m.author_user_id) END AS author,"
    " m.body, m.body_html, m.created_at FROM tkt_messages m WHERE m.id IN (" PERSON_MESSAGES ") ORDER BY m.id",
    contact_id));
  cJSON_AddItemToObject(o, "history", rows_new(r,
    "SELECT ticket_id, actor, field, old_value, new_value, created_at FROM tkt_history"
    " WHERE ticket_id IN (" PERSON_TICKETS ") ORDER BY id", contact_id));
  cJSON_AddItemToObject(o, "mail_sent", rows_new(r,
    "SELECT ticket_id, kind, to_address, status, created_at, sent_at FROM tkt_mail_out"
    " WHERE ticket_id IN (" PERSON_TICKETS ") ORDER BY id", contact_id));
  cJSON *atts = rows_new(r,
    "SELECT id, ticket_id, message_id, filename, content_type, size, sha256, storage, created_at FROM tkt_attachments"
    " WHERE message_id IN (" PERSON_MESSAGES ") ORDER BY id", contact_id);
  cJSON *a;
  int rc = 0;
  cJSON_ArrayForEach(a, atts) {
    cJSON *storage = cJSON_DetachItemFromObjectCaseSensitive(a, "storage");
    const char *fname = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "filename"));
    int64_t att_id = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(a, "id"));
    char path[4200], zpath[600];
    snprintf(path, sizeof path, "%s/attachments/%s", tkt_data_dir(), cJSON_GetStringValue(storage));
    snprintf(zpath, sizeof zpath, "attachments/%lld/%s", (long long)att_id, fname ? fname : "file");
    cJSON_Delete(storage);
    FILE *f = fopen(path, "rb");
    if (!f) { cJSON_AddBoolToObject(a, "missing", 1); continue; }
    char *data = NULL;
    size_t len = 0, cap = 0, got;
    char buf[65536];
    while ((got = fread(buf, 1, sizeof buf, f)) > 0) {
      if (len + got > cap) { cap = (len + got) * 2; data = realloc(data, cap); if (!data) abort(); }
      memcpy(data + len, buf, got);
      len += got;
    }
    fclose(f);
    if (tkt_export_file(ex, zpath, data, len) != 0) {
      free(data);
      rc = tkt_error(r, 413, "export_too_large", "the export is larger than it may be");
      break;
    }
    free(data);
    char file[640];
    snprintf(file, sizeof file, "ticketing/%s", zpath);
    cJSON_AddStringToObject(a, "file", file);
  }
  cJSON_AddItemToObject(o, "attachments", atts);
  if (rc) { cJSON_Delete(o); return rc; }
  *part = o;
  return 0;
}

/* --- erasure --- */

struct terms {
  char **emails; size_t n_emails;      /* lower-case */
  char **phones; size_t n_phones;      /* E.164 */
  char **words; size_t n_words;        /* folded name words */
};

static void push(char ***list, size_t *n, const char *s, size_t len)
{
  *list = realloc(*list, (*n + 1) * sizeof **list);
  if (!*list) abort();
  char *c = malloc(len + 1);
  if (!c) abort();
  memcpy(c, s, len);
  c[len] = 0;
  (*list)[(*n)++] = c;
}

static void terms_free(struct terms *t)
{
  for (size_t i = 0; i < t->n_emails; i++) free(t->emails[i]);
  for (size_t i = 0; i < t->n_phones; i++) free(t->phones[i]);
  for (size_t i = 0; i < t->n_words; i++) free(t->words[i]);
  free(t->emails);
  free(t->phones);
  free(t->words);
}

/* A word character for scrubbing: ASCII letters and digits, and any byte of a multi-byte UTF-8 letter. */
static int word_byte(unsigned char c) { return c >= 0x80 || (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z'); }

static void add_name_words(struct terms *t, const char *name)
{
  for (const char *p = name; *p;) {
    while (*p && !word_byte((unsigned char)*p)) p++;
    const char *start = p;
    while (*p && word_byte((unsigned char)*p)) p++;
    if (p - start < 2) continue;
    char *folded = tkt_fold_new(start, (size_t)(p - start));
    if (folded && strlen(folded) >= 2) push(&t->words, &t->n_words, folded, strlen(folded));
    free(folded);
  }
}

struct out { char *s; size_t len, cap; };
static void out_put(struct out *o, const char *s, size_t n)
{
  if (o->len + n + 1 > o->cap) { o->cap = (o->len + n + 1) * 2; o->s = realloc(o->s, o->cap); if (!o->s) abort(); }
  memcpy(o->s + o->len, s, n);
  o->len += n;
  o->s[o->len] = 0;
}

/* Where a phone number of the person starts at p (a digit or '+'): the length of the longest run of digits and
 * separators that normalises to one of theirs, else 0. */
static size_t phone_at(const char *p, const struct terms *t)
{
  size_t ends[64], n_ends = 0, i = 0;
  int digits = 0;
  while (p[i] && strchr("0123456789+ -().", p[i]) && digits <= 15 && n_ends < 64) {
    if (p[i] == '+' && i > 0) break;
    if (p[i] >= '0' && p[i] <= '9') { digits++; if (digits >= 7) ends[n_ends++] = i + 1; }
    i++;
  }
  for (size_t k = n_ends; k > 0; k--) {
    size_t len = ends[k - 1];
    if (p[len] >= '0' && p[len] <= '9') continue;   /* never half a longer number */
    char buf[64], norm[24];
    if (len >= sizeof buf) continue;
    memcpy(buf, p, len);
    buf[len] = 0;
    if (tkt_contact_normalise("phone", buf, norm, sizeof norm) != 0) continue;
    for (size_t j = 0; j < t->n_phones; j++) if (!strcmp(norm, t->phones[j])) return len;
  }
  return 0;
}

/* text with the person's e-mail addresses, phone numbers and name words replaced by SCRUBBED; NULL when nothing
 * changed (caller frees otherwise). */
static char *scrub_new(const char *text, const struct terms *t)
{
  if (!text) return NULL;
  struct out o = { 0 };
  int changed = 0;
  size_t n = strlen(text);
  for (size_t i = 0; i < n;) {
    /* e-mail addresses, any case */
    size_t hit = 0;
    for (size_t k = 0; k < t->n_emails && !hit; k++) {
      size_t el = strlen(t->emails[k]);
      if (el && i + el <= n && !strncasecmp(text + i, t->emails[k], el)) hit = el;
    }
    /* phone numbers, however they were written */
    if (!hit && t->n_phones && (text[i] == '+' || (text[i] >= '0' && text[i] <= '9')) &&
        (i == 0 || !(text[i - 1] >= '0' && text[i - 1] <= '9')))
      hit = phone_at(text + i, t);
    if (hit) { out_put(&o, SCRUBBED, strlen(SCRUBBED)); i += hit; changed = 1; continue; }
    /* name words, folded as search folds them (Şükrü, ŞÜKRÜ, sukru) */
    if (word_byte((unsigned char)text[i]) && (i == 0 || !word_byte((unsigned char)text[i - 1]))) {
      size_t j = i;
      while (j < n && word_byte((unsigned char)text[j])) j++;
      char *folded = tkt_fold_new(text + i, j - i);
      int name_word = 0;
      for (size_t k = 0; folded && k < t->n_words && !name_word; k++) name_word = !strcmp(folded, t->words[k]);
      free(folded);
      if (name_word) { out_put(&o, SCRUBBED, strlen(SCRUBBED)); changed = 1; }
      else out_put(&o, text + i, j - i);
      i = j;
      continue;
    }
    out_put(&o, text + i, 1);
    i++;
  }
  if (!changed) { free(o.s); return NULL; }
  if (!o.s) { o.s = malloc(1); if (!o.s) abort(); o.s[0] = 0; }
  return o.s;
}

/* Scrubs one text column of the rows a statement selects (id, text); the update statement takes (id, new text). */
static int scrub_column(struct destek_db *w, const char *select_sql, const char *update_sql, int64_t contact_id,
                        const struct terms *t)
{
  sqlite3_stmt *st = tkt_db_prepare(w, select_sql);
  if (!st) return -1;
  tkt_db_bind(st, "i", contact_id);
  struct change { int64_t id; char *text; } *ch = NULL;
  size_t n = 0, cap = 0;
  while (sqlite3_step(st) == SQLITE_ROW) {
    char *s = scrub_new((const char *)sqlite3_column_text(st, 1), t);
    if (!s) continue;
    if (n == cap) { cap = cap ? cap * 2 : 16; ch = realloc(ch, cap * sizeof *ch); if (!ch) abort(); }
    ch[n++] = (struct change){ sqlite3_column_int64(st, 0), s };
  }
  tkt_db_done(st);
  int rc = 0;
  for (size_t i = 0; i < n; i++) {
    if (!rc && tkt_db_exec(w, update_sql, "it", ch[i].id, ch[i].text) != SQLITE_OK) rc = -1;
    free(ch[i].text);
  }
  free(ch);
  return rc;
}

static int on_erased(struct destek_req *r, int64_t contact_id, const cJSON *person, void *ud)
{
  (void)ud;
  struct destek_db *w = tkt_db_write(r);
  if (!w) return tkt_status(r);
  struct terms t = { 0 };
  const cJSON *v;
  cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(person, "identities")) {
    const char *kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v, "kind"));
    const char *value = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v, "value"));
    if (!kind || !value) continue;
    if (!strcmp(kind, "email")) push(&t.emails, &t.n_emails, value, strlen(value));
    else push(&t.phones, &t.n_phones, value, strlen(value));
  }
  cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(person, "names"))
    if (cJSON_GetStringValue(v)) add_name_words(&t, cJSON_GetStringValue(v));

  int ok =
    scrub_column(w, "SELECT id, subject FROM tkt_tickets WHERE customer_id = ?1",
                 "UPDATE tkt_tickets SET subject = ?2 WHERE id = ?1", contact_id, &t) == 0 &&
    scrub_column(w, "SELECT id, body FROM tkt_messages WHERE id IN (" PERSON_MESSAGES ")",
                 "UPDATE tkt_messages SET body = ?2 WHERE id = ?1", contact_id, &t) == 0 &&
    scrub_column(w, "SELECT id, body_html FROM tkt_messages WHERE id IN (" PERSON_MESSAGES ") AND body_html IS NOT NULL",
                 "UPDATE tkt_messages SET body_html = ?2 WHERE id = ?1", contact_id, &t) == 0 &&
    scrub_column(w, "SELECT id, old_value FROM tkt_history WHERE ticket_id IN (" PERSON_TICKETS ")",
                 "UPDATE tkt_history SET old_value = ?2 WHERE id = ?1", contact_id, &t) == 0 &&
    scrub_column(w, "SELECT id, new_value FROM tkt_history WHERE ticket_id IN (" PERSON_TICKETS ")",
                 "UPDATE tkt_history SET new_value = ?2 WHERE id = ?1", contact_id, &t) == 0 &&
    /* What the person sent is theirs: the HTML of their messages and their files go. Files after the commit. */
    tkt_db_exec(w, "UPDATE tkt_messages SET body_html = NULL WHERE author_customer_id = ?1", "i", contact_id)
      == SQLITE_OK &&
    tkt_db_exec(w, "INSERT OR IGNORE INTO tkt_files_to_delete(storage) SELECT storage FROM tkt_attachments"
                   " WHERE message_id IN (SELECT id FROM tkt_messages WHERE author_customer_id = ?1)", "i", contact_id)
      == SQLITE_OK &&
    tkt_db_exec(w, "DELETE FROM tkt_attachments"
                   " WHERE message_id IN (SELECT id FROM tkt_messages WHERE author_customer_id = ?1)", "i", contact_id)
      == SQLITE_OK &&
    tkt_db_exec(w, "UPDATE tkt_mail_out SET to_address = '" SCRUBBED "' WHERE ticket_id IN (" PERSON_TICKETS ")", "i",
                contact_id) == SQLITE_OK;
  for (size_t i = 0; ok && i < t.n_emails; i++)
    ok = tkt_db_exec(w, "DELETE FROM tkt_mail_unparsed WHERE instr(lower(CAST(raw AS TEXT)), ?1) > 0", "t",
                     t.emails[i]) == SQLITE_OK;
  terms_free(&t);
  /* Every ticket whose search row held the person's words: theirs, and the threads their messages are in. */
  sqlite3_stmt *st = ok ? tkt_db_prepare(w, "SELECT DISTINCT ticket_id FROM tkt_messages WHERE id IN (" PERSON_MESSAGES ")"
                                            " UNION SELECT id FROM tkt_tickets WHERE customer_id = ?1") : NULL;
  if (st) tkt_db_bind(st, "i", contact_id);
  size_t n = 0;
  int64_t *ids = ok ? ids_new(w, st, &n) : NULL;
  for (size_t i = 0; ok && i < n; i++) ok = tkt_search_refresh(w, ids[i]) == 0;
  free(ids);
  return ok ? 0 : tkt_error(r, 500, "internal", "the person's tickets could not be scrubbed");
}

/* Removes the files erasures left to delete (their transactions committed: the rows are there), then the rows.
 * Every 10 seconds; a crash between an erasure and the sweep leaves the rows, and the next sweep does it. */
static int sweep_files(struct destek_req *call, void *ud)
{
  (void)ud;
  struct destek_db *w = tkt_db_write(call);
  if (!w) return -1;
  sqlite3_stmt *st = tkt_db_prepare(w, "SELECT storage FROM tkt_files_to_delete LIMIT 500");
  if (!st) return -1;
  char path[4200];
  while (sqlite3_step(st) == SQLITE_ROW) {
    const char *storage = (const char *)sqlite3_column_text(st, 0);
    if (!storage || strchr(storage, '/') || storage[0] == '.') continue;
    snprintf(path, sizeof path, "%s/attachments/%s", tkt_data_dir(), storage);
    unlink(path);
  }
  tkt_db_done(st);
  return tkt_db_exec(w, "DELETE FROM tkt_files_to_delete WHERE storage IN"
                        " (SELECT storage FROM tkt_files_to_delete LIMIT 500)", "") == SQLITE_OK ? 0 : -1;
}

int tkt_contacts_init(void)
{
  static const struct destek_contact_hooks hooks = { on_merged, on_exported, on_erased, NULL };
  if (tkt_contact_hooks(&hooks) != 0) return -1;
  return tkt_host->every(tkt_host, "erased_files_sweep", 10, sweep_files, NULL);
}
