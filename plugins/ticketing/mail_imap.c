/* The e-mail channel: polling IMAP mailboxes with libcurl — the one in the settings (mail.imap_url, e.g.
 * imaps://mail.example.com/INBOX, every mail.poll_seconds) and every active row of tkt_mailboxes (mailboxes.c),
 * each on its own schedule. Each poll: UID SEARCH UNSEEN, then for each message (at most 25 a poll) fetch it, file
 * it with tkt_mail_ingest_from in a transaction of its own, and only after that commit flag it \Seen.
 *
 * libcurl's IMAP fetch is "UID FETCH n BODY[]", which the server answers by setting \Seen already (libcurl hands a
 * custom "BODY.PEEK[]" request's literal to nobody). So the UID is written to tkt_mail_imap_pending before the
 * fetch and deleted in the transaction that files the message: a message whose import failed is flagged unseen
 * again and retried, and one fetched just before a crash is fetched again at the next poll from that table. A
 * message filed twice is recognised by its Message-ID (tkt_mail_ids).
 *
 * Each mailbox has its own rows in that table: the settings mailbox under its URL (as before there were several),
 * a saved mailbox under "mailbox:<id>" (ids are never reused, and its rows are deleted with it). A saved mailbox's
 * rows are written only while it still exists, is active and has the URL and user its poll started with: a poll
 * under way when an admin deletes, deactivates or repoints it stops at the next message. Rows already pending when
 * the URL or user changes are kept and fetched from the new address (a message already fetched is \Seen and would
 * otherwise be lost; a UID the new mailbox does not have fetches nothing and is dropped).
 *
 * The polls run on the bus thread (jobs), one mailbox after another, so a slow mail server delays event delivery by
 * at most the timeouts below. Like SMTP, the IMAP servers are an admin's setting and may be on loopback or the LAN.
 * Each poll's outcome is recorded in tkt_mail_status (channel "imap" or "mailbox:<id>"). */
#include "mail_tkt.h"
#include "tkt.h"

#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


#define POLL_BATCH 25
#define MAIL_FETCH_MAX (50 * 1024 * 1024)
#define PENDING_ATTEMPTS_MAX 10


void tkt_imap_curl_setup(CURL *c, const char *user, const char *password, const char *tls)
{
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "imap,imaps");
  if (user && *user) {
    curl_easy_setopt(c, CURLOPT_USERNAME, user);
    curl_easy_setopt(c, CURLOPT_PASSWORD, password ? password : "");
  }
  tkt_tls_curl_setup(c, tls, 1);   /* auto: STARTTLS when the server offers it */
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
}

char *tkt_imap_url_new(const char *url, char *err, size_t errlen)
{
  if (!url || !*url) { snprintf(err, errlen, "the IMAP URL is empty"); return NULL; }
  if (tkt_curl_ready() != 0) { snprintf(err, errlen, "libcurl cannot start"); return NULL; }
  CURLU *u = curl_url();
  if (!u) abort();
  char *scheme = NULL, *host = NULL, *user = NULL, *path = NULL, *out = NULL;
  if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
      curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
    snprintf(err, errlen, "not a URL: use imap://host:port/INBOX or imaps://host/INBOX");
  } else if (strcmp(scheme, "imap") && strcmp(scheme, "imaps")) {
    snprintf(err, errlen, "the URL must start with imap:// or imaps://");
  } else if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host) {
    snprintf(err, errlen, "the URL names no host");
  } else if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
    snprintf(err, errlen, "put the user name and password in their own fields, not in the URL");
  } else {
    size_t n = strlen(url);
    while (n && url[n - 1] == '/') n--;
    int no_mailbox = curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK || !path[0] || !strcmp(path, "/");
    if (asprintf(&out, "%.*s%s", (int)n, url, no_mailbox ? "/INBOX" : "") < 0) abort();
  }
  curl_free(scheme);
  curl_free(host);
  curl_free(user);
  curl_free(path);
  curl_url_cleanup(u);
  return out;
}

/* One mailbox to poll. */
struct source {
  int64_t mailbox_id;     /* 0: the settings mailbox */
  char channel[40];       /* its tkt_mail_status channel */
  char *pending_key;      /* its rows of tkt_mail_imap_pending */
  char *url;              /* checked, without a trailing '/' (as saved: the key of its bookkeeping) */
  char *conn_url;         /* url with the scheme its TLS mode asks for */
  char *tls;              /* "auto", "starttls", "implicit", "none" */
  char *user, *password;
  struct tkt_mail_origin origin;
  cJSON *tags;            /* owned; origin.tags points here */
};

static void source_free(struct source *s)
{
  free(s->pending_key);
  free(s->url);
  free(s->conn_url);
  free(s->tls);
  free(s->user);
  free(s->password);
  cJSON_Delete(s->tags);
  memset(s, 0, sizeof *s);
}

struct imap {
  CURL *curl;
  const struct source *src;
  int64_t uidvalidity;    /* > 0: fetches name it (";UIDVALIDITY=n"), so a mailbox replaced meanwhile fetches nothing */
  struct tkt_curl_probe probe;
  char errbuf[CURL_ERROR_SIZE];
};

/* Runs one request: request NULL fetches path (";UID=n") below the mailbox, else a custom command on the
 * mailbox. The answer (the message, or the untagged lines) goes to out. 0, or -1 with err. */
static int imap_do(struct imap *im, const char *path, const char *request, struct tkt_curl_answer *out, char *err, size_t errlen)
{
  char *url = NULL;
  if (path && im->uidvalidity > 0) {
    if (asprintf(&url, "%s;UIDVALIDITY=%lld/%s", im->src->conn_url, (long long)im->uidvalidity, path) < 0) abort();
  } else if (path) {
    if (asprintf(&url, "%s/%s", im->src->conn_url, path) < 0) abort();
  } else if (!(url = strdup(im->src->conn_url))) abort();
  out->len = 0;
  out->too_big = 0;
  im->errbuf[0] = 0;
  curl_easy_setopt(im->curl, CURLOPT_URL, url);
  curl_easy_setopt(im->curl, CURLOPT_CUSTOMREQUEST, request);
  curl_easy_setopt(im->curl, CURLOPT_WRITEDATA, out);
  CURLcode rc = curl_easy_perform(im->curl);
  free(url);
  if (rc != CURLE_OK) {
    char why[600];
    if (out->too_big) snprintf(why, sizeof why, "message too large");
    else tkt_curl_error_text(rc, im->errbuf, &im->probe, im->src->password, why, sizeof why);
    snprintf(err, errlen, "IMAP %s: %s", request ? request : path, why);
    return -1;
  }
  return 0;
}

static void imap_open(struct imap *im, const struct source *src)
{
  memset(im, 0, sizeof *im);
  im->src = src;
  im->curl = curl_easy_init();
  if (!im->curl) abort();
  tkt_imap_curl_setup(im->curl, src->user, src->password, src->tls);
  curl_easy_setopt(im->curl, CURLOPT_WRITEFUNCTION, tkt_curl_answer_write);
  curl_easy_setopt(im->curl, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(im->curl, CURLOPT_TIMEOUT, 60L);
  curl_easy_setopt(im->curl, CURLOPT_ERRORBUFFER, im->errbuf);
  tkt_curl_probe_attach(im->curl, &im->probe);
}

static void imap_close(struct imap *im)
{
  if (im->curl) curl_easy_cleanup(im->curl);
}

/* The UIDs of "* SEARCH 3 7 9" lines, up to max. Returns the count. */
static int parse_search(const char *text, int64_t *uids, int max)
{
  int n = 0;
  for (const char *line = text; line && *line && n < max;) {
    if (!strncmp(line, "* SEARCH", 8)) {
      const char *p = line + 8;
      while (n < max) {
        while (*p == ' ') p++;
        if (*p < '0' || *p > '9') break;
        char *end;
        long long v = strtoll(p, &end, 10);
        if (v > 0) uids[n++] = v;
        p = end;
      }
    }
    line = strchr(line, '\n');
    if (line) line++;
  }
  return n;
}

/* Notes that uid is being fetched. 1 when recorded, 0 when a saved mailbox was deleted, deactivated or pointed
 * elsewhere since the poll began (stop polling it), -1 on a database error. */
static int pending_begin(const struct source *src, int64_t uid)
{
  char now[21];
  tkt_now(now);
  return tkt_write_now("INSERT INTO tkt_mail_imap_pending(mailbox, uid, attempts, created_at) SELECT ?1, ?2, 1, ?3"
                   " WHERE ?4 = 0 OR EXISTS (SELECT 1 FROM tkt_mailboxes WHERE id = ?4 AND active = 1"
                   " AND imap_url = ?5 AND imap_user = ?6)"
                   " ON CONFLICT (mailbox, uid) DO UPDATE SET attempts = attempts + 1",
                   "tit" "itt", src->pending_key, uid, now, src->mailbox_id, src->url, src->user);
}

/* Fetches, files and flags one message. 1 when it was filed (or is gone), 0 when it is to be tried again later
 * (err says why), -1 when the mailbox is no longer to be polled. */
static int poll_one(struct imap *im, int64_t uid, struct tkt_curl_answer *b, char *err, size_t errlen)
{
  const struct source *src = im->src;
  char path[40], req[80];
  int begun = pending_begin(src, uid);
  if (begun == 0) return -1;
  if (begun < 0) { snprintf(err, errlen, "the database is busy"); return 0; }
  snprintf(path, sizeof path, ";UID=%lld", (long long)uid);
  if (imap_do(im, path, NULL, b, err, errlen) != 0) {
    tkt_log(DESTEK_LOG_WARN, "mail: %s: %s", src->channel, err);
    return 0;
  }
  if (b->len == 0) {   /* expunged meanwhile: nothing to file */
    tkt_write_now("DELETE FROM tkt_mail_imap_pending WHERE mailbox = ?1 AND uid = ?2", "ti", src->pending_key, uid);
    return 1;
  }
  struct destek_req *c = tkt_call_new();
  char ierr[512] = "";
  cJSON *res = tkt_mail_ingest_from(c, b->data, b->len, "imap", &src->origin, ierr, sizeof ierr);
  struct destek_db *w = res ? tkt_db_write(c) : NULL;
  int ok = res && w && tkt_db_exec(w, "DELETE FROM tkt_mail_imap_pending WHERE mailbox = ?1 AND uid = ?2", "ti",
                               src->pending_key, uid) == SQLITE_OK;
  /* The count commits with the message; a mailbox deleted meanwhile keeps no status. */
  if (ok && (!src->mailbox_id || tkt_db_int(w, 0, "SELECT count(*) FROM tkt_mailboxes WHERE id = ?1", "i", src->mailbox_id)))
    ok = tkt_mail_status_bump(w, src->channel) == 0;
  if (ok) ok = tkt_call_end(c, 1) == 0;
  else tkt_call_end(c, 0);
  if (ok) {
    snprintf(req, sizeof req, "UID STORE %lld +FLAGS (\\Seen)", (long long)uid);
    char *text = cJSON_PrintUnformatted(res);
    tkt_log(DESTEK_LOG_INFO, "mail: IMAP message %lld of %s filed: %s", (long long)uid, src->channel,
                  text);
    cJSON_free(text);
  } else {
    snprintf(req, sizeof req, "UID STORE %lld -FLAGS (\\Seen)", (long long)uid);
    snprintf(err, errlen, "message %lld could not be filed: %s", (long long)uid,
             ierr[0] ? ierr : "the transaction failed");
    tkt_log(DESTEK_LOG_ERROR, "mail: %s: %s", src->channel, err);
  }
  cJSON_Delete(res);
  char serr[700];
  if (imap_do(im, NULL, req, b, serr, sizeof serr) != 0)
    tkt_log(DESTEK_LOG_WARN, "mail: %s: %s", src->channel, serr);
  return ok ? 1 : 0;
}

/* --- UIDVALIDITY (RFC 3501 2.3.1.1): a UID names a message only together with the mailbox's UIDVALIDITY --- */

/* The mailbox's UIDVALIDITY, asked with STATUS on the poll's connection (libcurl selects the mailbox first), or 0
 * when the server does not say (then the poll goes on as without tracking). -1 with err when the command fails. */
static int64_t imap_uidvalidity(struct imap *im, struct tkt_curl_answer *b, char *err, size_t errlen)
{
  char *server = NULL, *mailbox = NULL;
  if (tkt_imap_split_mailbox(im->src->conn_url, &server, &mailbox, err, errlen) != 0) return -1;
  size_t n = strlen(mailbox);
  char *cmd = malloc(2 * n + 40);
  if (!cmd) abort();
  char *w = cmd + sprintf(cmd, "STATUS \"");
  for (size_t i = 0; i < n; i++) {
    if (mailbox[i] == '"' || mailbox[i] == '\\') *w++ = '\\';
    *w++ = mailbox[i];
  }
  strcpy(w, "\" (UIDVALIDITY)");
  int rc = imap_do(im, NULL, cmd, b, err, errlen);
  free(cmd);
  free(server);
  free(mailbox);
  if (rc != 0) return -1;
  const char *p = b->data ? strstr(b->data, "UIDVALIDITY ") : NULL;
  if (!p) return 0;
  long long v = strtoll(p + 12, NULL, 10);
  return v > 0 && v <= 4294967295LL ? (int64_t)v : 0;
}

/* Compares uidvalidity with what was last seen for the source and records it. The first sighting, or one under
 * another URL or user (an admin repointed the mailbox: its old UIDs were another mailbox's), only sets the
 * baseline. A change under the same URL and user means the mailbox was replaced (deleted and created again,
 * restored, migrated): the pending UIDs are dropped, a sweep of the whole mailbox from UID 1 is started (files
 * only what is not known by Message-ID or raw hash), and the event is logged and audited. Returns the UID the
 * sweep is at (>= 0) when re-syncing, -1 when not, -2 on a database error. */
static int64_t uidvalidity_track(const struct source *src, int64_t uidvalidity)
{
  struct destek_req *c = tkt_call_new();
  struct destek_db *w = tkt_db_write(c);
  if (!w) { tkt_call_end(c, 0); return -2; }
  char now[21];
  tkt_now(now);
  int64_t result = -1, old = 0;
  int known = 0, same_place = 0, ok = 1;
  sqlite3_stmt *st = tkt_db_prepare(w, "SELECT url, user, uidvalidity, resync_after FROM tkt_mail_imap_state"
                                    " WHERE channel = ?1");
  if (!st) ok = 0;
  else {
    tkt_db_bind(st, "t", src->channel);
    if (sqlite3_step(st) == SQLITE_ROW) {
      known = 1;
      same_place = !strcmp((const char *)sqlite3_column_text(st, 0), src->url) &&
                   !strcmp((const char *)sqlite3_column_text(st, 1), src->user);
      old = sqlite3_column_int64(st, 2);
      if (same_place && sqlite3_column_type(st, 3) != SQLITE_NULL) result = sqlite3_column_int64(st, 3);
    }
    tkt_db_done(st);
  }
  /* A saved mailbox deleted meanwhile keeps no state. */
  int exists = !src->mailbox_id ||
               tkt_db_int(w, 0, "SELECT count(*) FROM tkt_mailboxes WHERE id = ?1", "i", src->mailbox_id);
  if (ok && exists && (!known || !same_place)) {
    ok = tkt_db_exec(w, "INSERT INTO tkt_mail_imap_state(channel, url, user, uidvalidity, updated_at)"
                     " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (channel) DO UPDATE SET url = ?2, user = ?3,"
                     " uidvalidity = ?4, previous = NULL, resync_after = NULL, updated_at = ?5",
                     "tttit", src->channel, src->url, src->user, uidvalidity, now) == SQLITE_OK;
    result = -1;
  } else if (ok && exists && old != uidvalidity) {
    ok = tkt_db_exec(w, "UPDATE tkt_mail_imap_state SET previous = uidvalidity, uidvalidity = ?2, changed_at = ?3,"
                     " changes = changes + 1, resync_after = 0, updated_at = ?3 WHERE channel = ?1",
                     "tit", src->channel, uidvalidity, now) == SQLITE_OK &&
         tkt_db_exec(w, "DELETE FROM tkt_mail_imap_pending WHERE mailbox = ?1", "t", src->pending_key) == SQLITE_OK;
    cJSON *d = cJSON_CreateObject();
    cJSON_AddNumberToObject(d, "previous", (double)old);
    cJSON_AddNumberToObject(d, "uidvalidity", (double)uidvalidity);
    cJSON_AddStringToObject(d, "url", src->url);
    if (ok) ok = tkt_audit(c, "mailbox.uidvalidity_changed", src->channel, d) == 0;
    else cJSON_Delete(d);
    result = 0;
    if (ok)
      tkt_log(DESTEK_LOG_WARN, "mail: %s: UIDVALIDITY changed from %lld to %lld (the mailbox was replaced):"
              " re-syncing by Message-ID", src->channel, (long long)old, (long long)uidvalidity);
  }
  if (!ok) {
    tkt_log(DESTEK_LOG_ERROR, "mail: %s: cannot record UIDVALIDITY: %s", src->channel, tkt_db_errmsg(w));
    tkt_call_end(c, 0);
    return -2;
  }
  if (tkt_call_end(c, 1) != 0) return -2;
  return result;
}

void tkt_mail_imap_state_add(struct destek_db *db, const char *channel, cJSON *o)
{
  sqlite3_stmt *st = db ? tkt_db_prepare(db, "SELECT uidvalidity, previous, changed_at, changes, resync_after"
                                         " FROM tkt_mail_imap_state WHERE channel = ?1") : NULL;
  int row = 0;
  if (st) {
    tkt_db_bind(st, "t", channel);
    if (sqlite3_step(st) == SQLITE_ROW) {
      row = 1;
      cJSON_AddNumberToObject(o, "uidvalidity", (double)sqlite3_column_int64(st, 0));
      if (sqlite3_column_type(st, 1) == SQLITE_NULL) cJSON_AddNullToObject(o, "uidvalidity_previous");
      else cJSON_AddNumberToObject(o, "uidvalidity_previous", (double)sqlite3_column_int64(st, 1));
      if (sqlite3_column_type(st, 2) == SQLITE_NULL) cJSON_AddNullToObject(o, "uidvalidity_changed_at");
      else cJSON_AddStringToObject(o, "uidvalidity_changed_at", (const char *)sqlite3_column_text(st, 2));
      cJSON_AddNumberToObject(o, "uidvalidity_changes", sqlite3_column_int(st, 3));
      cJSON_AddBoolToObject(o, "resyncing", sqlite3_column_type(st, 4) != SQLITE_NULL);
    }
    tkt_db_done(st);
  }
  if (!row) {
    cJSON_AddNullToObject(o, "uidvalidity");
    cJSON_AddNullToObject(o, "uidvalidity_previous");
    cJSON_AddNullToObject(o, "uidvalidity_changed_at");
    cJSON_AddNumberToObject(o, "uidvalidity_changes", 0);
    cJSON_AddBoolToObject(o, "resyncing", 0);
  }
}

static int cmp_uid(const void *a, const void *b)
{
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

/* Polls one mailbox once and records the outcome. */
static void poll_source(const struct source *src)
{
  struct imap im;
  imap_open(&im, src);
  char err[700] = "";
  struct tkt_curl_answer b = { .max = MAIL_FETCH_MAX };
  int64_t uids[POLL_BATCH];
  int n = 0;
  int failed = 0;
  /* The mailbox's UIDVALIDITY first: when it changed, what is pending (and every UID known) is stale. */
  int64_t resync = -1;
  int64_t uidvalidity = imap_uidvalidity(&im, &b, err, sizeof err);
  if (uidvalidity < 0) {
    tkt_log(DESTEK_LOG_WARN, "mail: %s: %s", src->channel, err);
    failed = 1;
  } else if (uidvalidity > 0) {
    resync = uidvalidity_track(src, uidvalidity);
    if (resync == -2) { failed = 1; snprintf(err, sizeof err, "the database is busy"); }
    else im.uidvalidity = uidvalidity;
  }
  /* First what an earlier poll fetched but did not file, then what is new. */
  struct destek_db *db = failed ? NULL : tkt_db_read(NULL);
  sqlite3_stmt *st = db ? tkt_db_prepare(db, "SELECT uid FROM tkt_mail_imap_pending WHERE mailbox = ?1 AND attempts < ?2"
                                         " ORDER BY uid LIMIT ?3") : NULL;
  if (st) {
    tkt_db_bind(st, "tii", src->pending_key, (int64_t)PENDING_ATTEMPTS_MAX, (int64_t)POLL_BATCH);
    while (n < POLL_BATCH && sqlite3_step(st) == SQLITE_ROW) uids[n++] = sqlite3_column_int64(st, 0);
    tkt_db_done(st);
  }
  int pending_n = n;
  /* Re-syncing: every message after the last one swept, in UID order, whether seen or not. */
  char search[64];
  if (resync >= 0) snprintf(search, sizeof search, "UID SEARCH UID %lld:*", (long long)resync + 1);
  else snprintf(search, sizeof search, "UID SEARCH UNSEEN");
  int swept_all = 0;
  if (failed) {
    n = 0;
  } else if (imap_do(&im, NULL, search, &b, err, sizeof err) != 0) {
    tkt_log(DESTEK_LOG_WARN, "mail: %s: %s", src->channel, err);
    failed = 1;
    n = 0;   /* the server cannot be reached: the pending ones wait too */
  } else if (b.data) {
    int64_t found[POLL_BATCH * 4];
    int m = parse_search(b.data, found, POLL_BATCH * 4);
    if (resync >= 0) {
      /* "n:*" always matches the last message, even below n. */
      int k = 0;
      for (int i = 0; i < m; i++) if (found[i] > resync) found[k++] = found[i];
      m = k;
      qsort(found, (size_t)m, sizeof *found, cmp_uid);
      swept_all = m == 0;
    }
    for (int i = 0; i < m && n < POLL_BATCH; i++) {
      int seen = 0;
      for (int j = 0; j < n; j++) if (uids[j] == found[i]) seen = 1;
      if (!seen) uids[n++] = found[i];
    }
  } else if (resync >= 0) {
    swept_all = 1;
  }
  int gone = 0;
  for (int i = 0; i < n && !gone; i++) {
    char one[700] = "";
    int rc = poll_one(&im, uids[i], &b, one, sizeof one);
    if (rc < 0) gone = 1;
    else if (rc == 0 && !failed) { failed = 1; snprintf(err, sizeof err, "%s", one); }
    /* The sweep moves on past what was filed (or found known); at a failure it stops, to go on from there at the
     * next poll (the message is retried first, from its pending row when it has one). */
    if (resync >= 0 && i >= pending_n) {
      if (rc != 1) break;
      if (uids[i] > resync) {
        resync = uids[i];
        tkt_write_now("UPDATE tkt_mail_imap_state SET resync_after = ?2 WHERE channel = ?1 AND uidvalidity = ?3"
                      " AND resync_after IS NOT NULL", "tii", src->channel, resync, uidvalidity);
      }
    }
  }
  if (swept_all && !gone) {
    tkt_write_now("UPDATE tkt_mail_imap_state SET resync_after = NULL WHERE channel = ?1 AND uidvalidity = ?2",
                  "ti", src->channel, uidvalidity);
    tkt_log(DESTEK_LOG_INFO, "mail: %s: re-sync after the UIDVALIDITY change is complete", src->channel);
  }
  free(b.data);
  imap_close(&im);
  if (!gone) tkt_mail_status_record(src->channel, !failed, err);
}

/* The settings mailbox, or 1 when none is configured, -1 (err) when its URL is wrong. */
static int source_from_settings(struct source *s, char *err, size_t errlen)
{
  memset(s, 0, sizeof *s);
  char *url = tkt_setting_new("mail.imap_url");
  if (!url || !*url) { free(url); return 1; }
  s->url = tkt_imap_url_new(url, err, errlen);
  /* Keyed as before there were several mailboxes (the URL without a trailing '/'), so that what was pending
   * before an upgrade is still found. */
  size_t n = strlen(url);
  while (n && url[n - 1] == '/') url[--n] = 0;
  s->pending_key = url;
  if (!s->url) { source_free(s); return -1; }
  snprintf(s->channel, sizeof s->channel, "imap");
  s->user = tkt_setting_new("mail.imap_user");
  s->password = tkt_setting_new("mail.imap_password");
  s->tls = tkt_setting_new("mail.imap_tls");
  if (!s->user || !s->password || !s->tls) abort();
  if (tkt_tls_check(s->url, s->tls, err, errlen) != 0) { source_free(s); return -1; }
  s->conn_url = tkt_tls_url_new(s->url, s->tls);
  return 0;
}

/* Saved mailbox id (active), or 1 when it is gone. Its TLS mode is checked when polled. */
static int source_from_mailbox(struct source *s, struct destek_db *db, int64_t id)
{
  memset(s, 0, sizeof *s);
  sqlite3_stmt *st = tkt_db_prepare(db, "SELECT imap_url, imap_user, imap_password, coalesce(team_id, 0), tags,"
                                    " imap_tls FROM tkt_mailboxes WHERE id = ?1 AND active = 1");
  if (!st) return 1;
  tkt_db_bind(st, "i", id);
  int rc = 1;
  if (sqlite3_step(st) == SQLITE_ROW) {
    s->mailbox_id = id;
    snprintf(s->channel, sizeof s->channel, "mailbox:%lld", (long long)id);
    s->pending_key = strdup(s->channel);
    s->url = strdup((const char *)sqlite3_column_text(st, 0));
    s->user = strdup((const char *)sqlite3_column_text(st, 1));
    s->password = strdup((const char *)sqlite3_column_text(st, 2));
    if (!s->pending_key || !s->url || !s->user || !s->password) abort();
    s->origin.team_id = sqlite3_column_int64(st, 3);
    s->tags = cJSON_Parse((const char *)sqlite3_column_text(st, 4));
    if (!cJSON_IsArray(s->tags)) { cJSON_Delete(s->tags); s->tags = NULL; }
    s->origin.tags = s->tags;
    s->origin.mailbox_id = id;
    s->tls = strdup((const char *)sqlite3_column_text(st, 5));
    if (!s->tls) abort();
    s->conn_url = tkt_tls_url_new(s->url, s->tls);
    rc = 0;
  }
  tkt_db_done(st);
  return rc;
}

/* When each mailbox was last polled (monotonic seconds); id 0 is the settings mailbox. Bus thread only. */
static struct { int64_t id; double last; } polled[TKT_MAILBOXES_MAX + 1];
static int polled_count;

static double mono_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Whether mailbox id is due after every seconds; marks it polled now when it is. seen[] collects the ids still
 * configured, so that the others are forgotten. */
static int due(int64_t id, long every, int64_t *seen, int *seen_count)
{
  if (*seen_count < TKT_MAILBOXES_MAX + 1) seen[(*seen_count)++] = id;
  double now = mono_now();
  for (int i = 0; i < polled_count; i++) {
    if (polled[i].id != id) continue;
    if (now - polled[i].last < (double)every) return 0;
    polled[i].last = now;
    return 1;
  }
  if (polled_count < TKT_MAILBOXES_MAX + 1) {
    polled[polled_count].id = id;
    polled[polled_count++].last = now;
  }
  return 1;
}

/* The periodic job (every second): polls each mailbox whose interval has passed since its last poll. */
static int imap_poll_job(struct destek_req *call, void *ud)
{
  (void)call;
  (void)ud;
  int64_t seen[TKT_MAILBOXES_MAX + 1];
  int seen_count = 0;
  long every = tkt_setting_int("mail.poll_seconds", 60);
  if (every > 0) {
    char *url = tkt_setting_new("mail.imap_url");
    int configured = url && *url;
    free(url);
    if (configured && due(0, every, seen, &seen_count)) {
      struct source s;
      char err[300] = "";
      int rc = source_from_settings(&s, err, sizeof err);
      if (rc == 0) poll_source(&s);
      else if (rc < 0) {
        tkt_log(DESTEK_LOG_ERROR, "mail: mail.imap_url: %s", err);
        tkt_mail_status_record("imap", 0, err);
      }
      source_free(&s);
    }
  }
  struct destek_db *db = tkt_db_read(NULL);
  sqlite3_stmt *st = db ? tkt_db_prepare(db, "SELECT id, poll_seconds FROM tkt_mailboxes WHERE active = 1 ORDER BY id"
                                         " LIMIT ?1") : NULL;
  int64_t due_ids[TKT_MAILBOXES_MAX];
  int n = 0;
  if (st) {
    tkt_db_bind(st, "i", (int64_t)TKT_MAILBOXES_MAX);
    while (n < TKT_MAILBOXES_MAX && sqlite3_step(st) == SQLITE_ROW) {
      int64_t id = sqlite3_column_int64(st, 0);
      if (due(id, (long)sqlite3_column_int64(st, 1), seen, &seen_count)) due_ids[n++] = id;
    }
    tkt_db_done(st);
  }
  /* Forget the mailboxes that are gone or inactive: polled at once when they come back. */
  int kept = 0;
  for (int i = 0; i < polled_count; i++) {
    int still = 0;
    for (int j = 0; j < seen_count && !still; j++) still = seen[j] == polled[i].id;
    if (still) polled[kept++] = polled[i];
  }
  polled_count = kept;
  for (int i = 0; i < n; i++) {
    struct source s;
    char err[300];
    if (source_from_mailbox(&s, tkt_db_read(NULL), due_ids[i]) == 0) {
      if (tkt_tls_check(s.url, s.tls, err, sizeof err) == 0) poll_source(&s);
      else {
        tkt_log(DESTEK_LOG_ERROR, "mail: %s: %s", s.channel, err);
        tkt_mail_status_record(s.channel, 0, err);
      }
    }
    source_free(&s);
  }
  return 0;
}

int tkt_mail_imap_init(const struct destek_host *host)
{
  return host->every(host, "mail_imap_poll", 1, imap_poll_job, NULL);
}
