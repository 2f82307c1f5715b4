/* Drafts' files: what an agent attaches to a reply before sending it is uploaded at once and kept on the server,
 * per agent and ticket, so that it survives a reload and a sign-out (the draft's text stays in the browser).
 *
 *   GET    /api/v1/tickets/{id}/draft                   {"files": [file]} — the caller's own
 *   DELETE /api/v1/tickets/{id}/draft                   204: the draft is discarded, its files deleted
 *   POST   /api/v1/tickets/{id}/draft/files             {filename, content_type?, data_base64} → 201 file
 *   GET    /api/v1/tickets/{id}/draft/files/{file_id}   the file (a download)
 *   DELETE /api/v1/tickets/{id}/draft/files/{file_id}   204
 *
 * A file is {id, filename, content_type, size, sha256, url, created_at}. POST /api/v1/tickets/{id}/messages takes
 * "draft_files": [id, ...]: those rows move to tkt_attachments in the message's transaction, keeping their stored
 * file, so nothing is uploaded twice. Limits are a message's: TKT_ATTACHMENTS_MAX files per draft,
 * ticketing.attachment_max_bytes each, the upload route's body cap (counted in the server's body memory).
 *
 * Files on disk: written (fsync, rename) before the row that names them commits. A file whose row never committed
 * (a crash, a failed commit) and one whose row was deleted are removed by the sweep of the hourly job, once a day
 * old; deleted drafts' files are also removed right after their deletion commits. The job (hourly:
 * ticketing.draft_cleanup_seconds) also deletes drafts' files untouched for 30 days. */
#include "tkt.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "destek_util.h"

#define DRAFT_MAX_AGE_DAYS 30
#define SWEEP_MIN_AGE (24 * 3600)   /* a file younger than this may belong to a transaction still open */
#define CLEANUP_BATCH 200

static cJSON *file_json(sqlite3_stmt *st, int64_t ticket_id)
{
  cJSON *o = cJSON_CreateObject();
  int64_t id = sqlite3_column_int64(st, 0);
  char url[96];
  snprintf(url, sizeof url, "/api/v1/tickets/%lld/draft/files/%lld", (long long)ticket_id, (long long)id);
  cJSON_AddNumberToObject(o, "id", (double)id);
  cJSON_AddStringToObject(o, "filename", (const char *)sqlite3_column_text(st, 1));
  cJSON_AddStringToObject(o, "content_type", (const char *)sqlite3_column_text(st, 2));
  cJSON_AddNumberToObject(o, "size", (double)sqlite3_column_int64(st, 3));
  cJSON_AddStringToObject(o, "sha256", (const char *)sqlite3_column_text(st, 4));
  cJSON_AddStringToObject(o, "url", url);
  cJSON_AddStringToObject(o, "created_at", (const char *)sqlite3_column_text(st, 5));
  return o;
}

#define FILE_COLS "id, filename, content_type, size, sha256, created_at"

static int ticket_exists(struct destek_req *r, int64_t ticket_id)
{
  return tkt_db_int(tkt_db_read(r), 0, "SELECT count(*) FROM tkt_tickets WHERE id = ?1", "i", ticket_id) > 0;
}

static int draft_get(struct destek_req *r)
{
  int64_t ticket_id = tkt_param_int(r, "id");
  if (!ticket_exists(r, ticket_id)) return tkt_error(r, 404, "not_found", "no such ticket");
  struct destek_db *db = tkt_db_read(r);
  sqlite3_stmt *st = tkt_db_prepare(db, "SELECT " FILE_COLS " FROM tkt_draft_files WHERE ticket_id = ?1"
                                    " AND user_id = ?2 ORDER BY id LIMIT ?3");
  if (!st) return tkt_error(r, 500, "internal", "internal error");
  tkt_db_bind(st, "iii", ticket_id, tkt_user_id(r), (int64_t)TKT_ATTACHMENTS_MAX);
  cJSON *o = cJSON_CreateObject();
  cJSON *files = cJSON_AddArrayToObject(o, "files");
  while (sqlite3_step(st) == SQLITE_ROW) cJSON_AddItemToArray(files, file_json(st, ticket_id));
  tkt_db_done(st);
  return tkt_reply_json(r, 200, o);
}

static int file_add(struct destek_req *r)
{
  int64_t ticket_id = tkt_param_int(r, "id");
  cJSON *body;
  int rc = tkt_body(r, &body);
  if (rc) return rc;
  tkt_body_drop(r);   /* only the parsed JSON is read from here on (the server's body memory) */
  if (!ticket_exists(r, ticket_id)) return tkt_error(r, 404, "not_found", "no such ticket");
  /* Checked as a message's attachments are: one element of an array. */
  cJSON *list = cJSON_CreateArray();
  cJSON_AddItemReferenceToArray(list, body);
  rc = tkt_attachments_check(r, list);
  cJSON_Delete(list);
  if (rc) return rc;
  int64_t user_id = tkt_user_id(r);
  if (tkt_db_int(tkt_db_read(r), 0, "SELECT count(*) FROM tkt_draft_files WHERE ticket_id = ?1 AND user_id = ?2", "ii",
                 ticket_id, user_id) >= TKT_ATTACHMENTS_MAX)
    return tkt_error(r, 409, "too_many_files", "a draft has at most %d files", TKT_ATTACHMENTS_MAX);
  char storage[48], sha[65];
  size_t size;
  /* Written before the row: a crash in between leaves a file no row names, which the sweep removes. */
  if ((rc = tkt_attachment_store(r, body, storage, sha, &size))) return rc;
  struct destek_db *w = tkt_db_write(r);
  if (!w) return tkt_status(r);
  /* Counted again under the writer: two uploads at once cannot both take the last place. */
  if (tkt_db_int(w, 0, "SELECT count(*) FROM tkt_draft_files WHERE ticket_id = ?1 AND user_id = ?2", "ii",
                 ticket_id, user_id) >= TKT_ATTACHMENTS_MAX)
    return tkt_error(r, 409, "too_many_files", "a draft has at most %d files", TKT_ATTACHMENTS_MAX);
  const cJSON *ct = cJSON_GetObjectItemCaseSensitive(body, "content_type");
  char now[21];
  tkt_now(now);
  if (tkt_db_exec(w, "INSERT INTO tkt_draft_files(ticket_id, user_id, filename, content_type, size, sha256, storage,"
                  " created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", "iitti" "ttt", ticket_id, user_id,
                  cJSON_GetObjectItemCaseSensitive(body, "filename")->valuestring,
                  cJSON_IsString(ct) ? ct->valuestring : "application/octet-stream", (int64_t)size, sha, storage,
                  now) != SQLITE_OK)
    return tkt_error(r, 500, "internal", "the file could not be recorded");
  int64_t id = tkt_db_last_id(w);
  sqlite3_stmt *st = tkt_db_prepare(w, "SELECT " FILE_COLS " FROM tkt_draft_files WHERE id = ?1");
  if (!st) return tkt_error(r, 500, "internal", "internal error");
  tkt_db_bind(st, "i", id);
  cJSON *o = sqlite3_step(st) == SQLITE_ROW ? file_json(st, ticket_id) : NULL;
  tkt_db_done(st);
  if (!o) return tkt_error(r, 500, "internal", "internal error");
  return tkt_reply_json(r, 201, o);
}

static int file_get(struct destek_req *r)
{
  int64_t ticket_id = tkt_param_int(r, "id"), file_id = tkt_param_int(r, "file_id");
  struct destek_db *db = tkt_db_read(r);
  sqlite3_stmt *st = db ? tkt_db_prepare(db, "SELECT filename, content_type, storage, size FROM tkt_draft_files"
                                         " WHERE id = ?1 AND ticket_id = ?2 AND user_id = ?3") : NULL;
  if (!st) return tkt_error(r, 500, "internal", "internal error");
  tkt_db_bind(st, "iii", file_id, ticket_id, tkt_user_id(r));
  return tkt_file_send(r, st, file_id);
}

/* Unlinks the stored files named in storages (n of them). */
static void unlink_files(char (*storages)[48], int n)
{
  char dir[4096], path[4200];
  tkt_attachments_dir(dir, sizeof dir);
  for (int i = 0; i < n; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, storages[i]);
    if (unlink(path) != 0 && errno != ENOENT) tkt_log(DESTEK_LOG_WARN, "drafts: cannot remove %s: %s", path, strerror(errno));
  }
}

/* Deletes the caller's draft files on ticket_id (file_id 0: all of them) in a call of its own, then their files
 * once that has committed. The number deleted, or -1. */
static int delete_files(int64_t ticket_id, int64_t user_id, int64_t file_id)
{
  char storages[TKT_ATTACHMENTS_MAX * 2][48];
  int n = 0;
  struct destek_req *c = tkt_call_new();
  struct destek_db *w = tkt_db_write(c);
  sqlite3_stmt *st = w ? tkt_db_prepare(w, "SELECT storage FROM tkt_draft_files WHERE ticket_id = ?1 AND user_id = ?2"
                                        " AND (?3 = 0 OR id = ?3) ORDER BY id LIMIT ?4") : NULL;
  if (!st) { tkt_call_end(c, 0); return -1; }
  tkt_db_bind(st, "iiii", ticket_id, user_id, file_id, (int64_t)(TKT_ATTACHMENTS_MAX * 2));
  while (n < TKT_ATTACHMENTS_MAX * 2 && sqlite3_step(st) == SQLITE_ROW)
    snprintf(storages[n++], sizeof storages[0], "%s", (const char *)sqlite3_column_text(st, 0));
  tkt_db_done(st);
  int ok = 1;
  for (int i = 0; i < n && ok; i++)
    ok = tkt_db_exec(w, "DELETE FROM tkt_draft_files WHERE storage = ?1", "t", storages[i]) == SQLITE_OK;
  if (!ok || tkt_call_end(c, ok) != 0) return -1;
  unlink_files(storages, n);
  return n;
}

static int file_delete(struct destek_req *r)
{
  int64_t ticket_id = tkt_param_int(r, "id"), file_id = tkt_param_int(r, "file_id");
  int n = delete_files(ticket_id, tkt_user_id(r), file_id);
  if (n < 0) return tkt_error(r, 500, "internal", "the file could not be deleted");
  if (n == 0) return tkt_error(r, 404, "not_found", "no such file in your draft");
  return tkt_reply_empty(r, 204);
}

static int draft_delete(struct destek_req *r)
{
  int64_t ticket_id = tkt_param_int(r, "id");
  if (!ticket_exists(r, ticket_id)) return tkt_error(r, 404, "not_found", "no such ticket");
  if (delete_files(ticket_id, tkt_user_id(r), 0) < 0)
    return tkt_error(r, 500, "internal", "the draft could not be discarded");
  return tkt_reply_empty(r, 204);
}

int tkt_draft_files_field(struct destek_req *r, struct destek_db *db, const cJSON *obj, int64_t ticket_id,
                          int64_t user_id, int already, int64_t *ids, int *n)
{
  *n = 0;
  const cJSON *list = cJSON_GetObjectItemCaseSensitive(obj, "draft_files");
  if (!list || cJSON_IsNull(list)) return 0;
  if (!cJSON_IsArray(list))
    return tkt_field_error(r, "invalid_field", "draft_files", "draft_files must be an array of draft file ids");
  if (cJSON_GetArraySize(list) + already > TKT_ATTACHMENTS_MAX)
    return tkt_field_error(r, "invalid_field", "draft_files", "at most %d attachments per message", TKT_ATTACHMENTS_MAX);
  const cJSON *it;
  cJSON_ArrayForEach(it, list) {
    if (!cJSON_IsNumber(it) || !tkt_whole(it->valuedouble) || it->valuedouble < 1 || it->valuedouble > 9e15)
      return tkt_field_error(r, "invalid_field", "draft_files", "draft_files must be an array of draft file ids");
    int64_t id = (int64_t)it->valuedouble;
    for (int i = 0; i < *n; i++)
      if (ids[i] == id) return tkt_field_error(r, "invalid_field", "draft_files", "draft file %lld is named twice", (long long)id);
    if (!tkt_db_int(db, 0, "SELECT count(*) FROM tkt_draft_files WHERE id = ?1 AND ticket_id = ?2 AND user_id = ?3",
                    "iii", id, ticket_id, user_id))
      return tkt_field_error(r, "invalid_field", "draft_files", "%lld is not a file of your draft on this ticket",
                             (long long)id);
    ids[(*n)++] = id;
  }
  return 0;
}

int tkt_draft_files_take(struct destek_req *r, struct destek_db *w, int64_t ticket_id, int64_t message_id,
                         const int64_t *ids, int n)
{
  char now[21];
  tkt_now(now);
  for (int i = 0; i < n; i++) {
    /* Checked before the transaction: the same file sent twice at once moves once, the other send fails. */
    if (tkt_db_exec(w, "INSERT INTO tkt_attachments(ticket_id, message_id, filename, content_type, size, sha256, storage,"
                    " created_at) SELECT ticket_id, ?2, filename, content_type, size, sha256, storage, ?3"
                    " FROM tkt_draft_files WHERE id = ?1 AND ticket_id = ?4", "iiti", ids[i], message_id, now,
                    ticket_id) != SQLITE_OK || tkt_db_changes(w) != 1)
      return tkt_error(r, 409, "draft_changed", "a file of the draft was removed meanwhile: reload and send again");
    if (tkt_db_exec(w, "DELETE FROM tkt_draft_files WHERE id = ?1", "i", ids[i]) != SQLITE_OK)
      return tkt_error(r, 500, "internal", "the draft could not be updated");
  }
  return 0;
}

/* --- the cleanup job --- */

/* Deletes drafts' files older than DRAFT_MAX_AGE_DAYS (a batch a run). */
static void expire_old(void)
{
  char cutoff[21], storages[CLEANUP_BATCH][48];
  util_iso_time(time(NULL) - (time_t)DRAFT_MAX_AGE_DAYS * 86400, cutoff);
  struct destek_req *c = tkt_call_new();
  struct destek_db *w = tkt_db_write(c);
  sqlite3_stmt *st = w ? tkt_db_prepare(w, "SELECT storage FROM tkt_draft_files WHERE created_at < ?1 ORDER BY created_at"
                                        " LIMIT ?2") : NULL;
  if (!st) { tkt_call_end(c, 0); return; }
  tkt_db_bind(st, "ti", cutoff, (int64_t)CLEANUP_BATCH);
  int n = 0;
  while (n < CLEANUP_BATCH && sqlite3_step(st) == SQLITE_ROW)
    snprintf(storages[n++], sizeof storages[0], "%s", (const char *)sqlite3_column_text(st, 0));
  tkt_db_done(st);
  int ok = 1;
  for (int i = 0; i < n && ok; i++)
    ok = tkt_db_exec(w, "DELETE FROM tkt_draft_files WHERE storage = ?1", "t", storages[i]) == SQLITE_OK;
  if (!n || !ok || tkt_call_end(c, ok) != 0) {
    if (!n) tkt_call_end(c, 0);
    return;
  }
  unlink_files(storages, n);
  tkt_log(DESTEK_LOG_INFO, "drafts: %d file(s) of drafts untouched for %d days deleted", n, DRAFT_MAX_AGE_DAYS);
}

/* Removes files of <data>/attachments that no message or draft names, at least SWEEP_MIN_AGE old: written by an
 * upload whose transaction never committed (a crash between the file and its row), or left by a deletion. */
static void sweep_orphans(void)
{
  char dir[4096], path[4400];
  tkt_attachments_dir(dir, sizeof dir);
  DIR *d = opendir(dir);
  if (!d) return;
  struct destek_db *db = tkt_db_read(NULL);
  time_t now = time(NULL);
  int removed = 0;
  struct dirent *e;
  while (db && (e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode) || now - sb.st_mtime < SWEEP_MIN_AGE) continue;
    int temporary = e->d_name[0] == '.';   /* ".<name>.tmp": a write that never finished */
    if (!temporary &&
        tkt_db_int(db, 1, "SELECT EXISTS (SELECT 1 FROM tkt_attachments WHERE storage = ?1)"
                   " OR EXISTS (SELECT 1 FROM tkt_draft_files WHERE storage = ?1)", "t", e->d_name))
      continue;
    if (unlink(path) == 0) removed++;
  }
  closedir(d);
  if (removed) tkt_log(DESTEK_LOG_INFO, "drafts: %d stored file(s) that nothing refers to removed", removed);
}

static double mono_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Every second on the bus thread; works every ticketing.draft_cleanup_seconds (an hour), from the start: expires
 * old drafts' files each time, sweeps the directory every 24th time (about once a day). */
static int cleanup_job(struct destek_req *call, void *ud)
{
  (void)call;
  (void)ud;
  static double last;
  static int runs;
  long every = tkt_setting_int("ticketing.draft_cleanup_seconds", 3600);
  double now = mono_now();
  if (every <= 0 || (last > 0 && now - last < (double)every)) return 0;
  last = now;
  expire_old();
  if (runs++ % 24 == 0) sweep_orphans();
  return 0;
}

static const struct destek_route draft_routes[] = {
  { "GET",    "/api/v1/tickets/{id}/draft",                  draft_get,    DESTEK_AGENT, "id:int", 0 },
  { "DELETE", "/api/v1/tickets/{id}/draft",                  draft_delete, DESTEK_AGENT, "id:int", 0 },
  { "POST",   "/api/v1/tickets/{id}/draft/files",            file_add,     DESTEK_AGENT, "id:int", TKT_UPLOAD_BODY_MAX },
  { "GET",    "/api/v1/tickets/{id}/draft/files/{file_id}",  file_get,     DESTEK_AGENT, "id:int file_id:int", 0 },
  { "DELETE", "/api/v1/tickets/{id}/draft/files/{file_id}",  file_delete,  DESTEK_AGENT, "id:int file_id:int", 0 },
  { 0 }
};

int tkt_drafts_init(const struct destek_host *h)
{
  if (h->routes(h, draft_routes) != 0) return -1;
  return h->every(h, "draft_files_cleanup", 1, cleanup_job, NULL);
}
