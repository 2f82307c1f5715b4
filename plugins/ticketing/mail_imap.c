/* The e-mail channel: polling one IMAP mailbox (mail.imap_url, e.g. imaps://mail.example.com/INBOX) with libcurl
 * every mail.poll_seconds. Each poll: UID SEARCH UNSEEN, then for each message (at most 25 a poll) fetch it, file it
 * with tkt_mail_ingest in a transaction of its own, and only after that commit flag it \Seen.
 *
 * libcurl's IMAP fetch is "UID FETCH n BODY[]", which the server answers by setting \Seen already (libcurl hands a
 * custom "BODY.PEEK[]" request's literal to nobody). So the UID is written to tkt_mail_imap_pending before the
 * fetch and deleted in the transaction that files the message: a message whose import failed is flagged unseen
 * again and retried, and one fetched just before a crash is fetched again at the next poll from that table. A
 * message filed twice is recognised by its Message-ID (tkt_mail_ids).
 *
 * The poll runs on the bus thread (jobs), so a slow mail server delays event delivery by at most the timeouts
 * below. Like SMTP, the IMAP server is an admin's setting and may be on loopback or the LAN. */
#include "mail_tkt.h"
#include "tkt.h"

#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "net.h"
#include "settings.h"

#define POLL_BATCH 25
#define MAIL_FETCH_MAX (50 * 1024 * 1024)
#define PENDING_ATTEMPTS_MAX 10

struct buf {
  char *data;
  size_t len;
  int too_big;
};

static size_t buf_write(char *p, size_t size, size_t n, void *ud)
{
  struct buf *b = ud;
  size_t add = size * n;
  if (b->len + add > MAIL_FETCH_MAX) { b->too_big = 1; return 0; }
  char *grown = realloc(b->data, b->len + add + 1);
  if (!grown) abort();
  b->data = grown;
  memcpy(b->data + b->len, p, add);
  b->len += add;
  b->data[b->len] = 0;
  return add;
}

struct imap {
  CURL *curl;
  char *url;     /* the mailbox URL, without a trailing '/' */
  char errbuf[CURL_ERROR_SIZE];
};

/* Runs one request: request NULL fetches path (";UID=n") below the mailbox, else a custom command on the
 * mailbox. The answer (the message, or the untagged lines) goes to out. 0, or -1 with err. */
static int imap_do(struct imap *im, const char *path, const char *request, struct buf *out, char *err, size_t errlen)
{
  char url[1200];
  if (path) snprintf(url, sizeof url, "%s/%s", im->url, path);
  else snprintf(url, sizeof url, "%s", im->url);
  out->len = 0;
  out->too_big = 0;
  im->errbuf[0] = 0;
  curl_easy_setopt(im->curl, CURLOPT_URL, url);
  curl_easy_setopt(im->curl, CURLOPT_CUSTOMREQUEST, request);
  curl_easy_setopt(im->curl, CURLOPT_WRITEDATA, out);
  CURLcode rc = curl_easy_perform(im->curl);
  if (rc != CURLE_OK) {
    snprintf(err, errlen, "IMAP %s: %s", request ? request : path,
             out->too_big ? "message too large" : im->errbuf[0] ? im->errbuf : curl_easy_strerror(rc));
    return -1;
  }
  return 0;
}

static int imap_open(struct imap *im, char *err, size_t errlen)
{
  memset(im, 0, sizeof *im);
  im->url = settings_get_new("mail.imap_url");
  if (!im->url || !*im->url) { free(im->url); im->url = NULL; return 1; }   /* not configured */
  if (strncmp(im->url, "imap://", 7) && strncmp(im->url, "imaps://", 8)) {
    snprintf(err, errlen, "mail.imap_url must start with imap:// or imaps://");
    free(im->url);
    return -1;
  }
  size_t n = strlen(im->url);
  while (n && im->url[n - 1] == '/') im->url[--n] = 0;
  if (net_curl_ready() != 0) { snprintf(err, errlen, "libcurl cannot start"); free(im->url); return -1; }
  im->curl = curl_easy_init();
  if (!im->curl) abort();
  char *user = settings_get_new("mail.imap_user"), *password = settings_get_new("mail.imap_password");
  curl_easy_setopt(im->curl, CURLOPT_PROTOCOLS_STR, "imap,imaps");
  if (user && *user) {
    curl_easy_setopt(im->curl, CURLOPT_USERNAME, user);
    curl_easy_setopt(im->curl, CURLOPT_PASSWORD, password ? password : "");
  }
  curl_easy_setopt(im->curl, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);   /* STARTTLS when the server offers it */
  curl_easy_setopt(im->curl, CURLOPT_WRITEFUNCTION, buf_write);
  curl_easy_setopt(im->curl, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(im->curl, CURLOPT_TIMEOUT, 60L);
  curl_easy_setopt(im->curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(im->curl, CURLOPT_ERRORBUFFER, im->errbuf);
  free(user);
  free(password);
  return 0;
}

static void imap_close(struct imap *im)
{
  if (im->curl) curl_easy_cleanup(im->curl);
  free(im->url);
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

static int write_pending(const char *sql, const char *types, ...)
{
  struct db *w = db_writer_acquire();
  va_list ap;
  va_start(ap, types);
  sqlite3_stmt *st = db_prepare(w, sql);
  int rc = -1;
  if (st && db_bindv(st, types, ap) == SQLITE_OK) rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
  va_end(ap);
  if (st) db_done(st);
  db_writer_release(w);
  return rc;
}

/* Fetches, files and flags one message. 0 when it was filed (or is gone), -1 to try again later. */
static int poll_one(struct imap *im, int64_t uid, struct buf *b)
{
  char err[512] = "", path[40], req[80], now[21];
  tkt_now(now);
  write_pending("INSERT INTO tkt_mail_imap_pending(mailbox, uid, attempts, created_at) VALUES (?1, ?2, 1, ?3)"
                " ON CONFLICT (mailbox, uid) DO UPDATE SET attempts = attempts + 1", "tit", im->url, uid, now);
  snprintf(path, sizeof path, ";UID=%lld", (long long)uid);
  if (imap_do(im, path, NULL, b, err, sizeof err) != 0) {
    tkt_host->log(tkt_host, DESTEK_LOG_WARN, "mail: %s", err);
    return -1;
  }
  if (b->len == 0) {   /* expunged meanwhile: nothing to file */
    write_pending("DELETE FROM tkt_mail_imap_pending WHERE mailbox = ?1 AND uid = ?2", "ti", im->url, uid);
    return 0;
  }
  struct destek_req c;
  call_begin(&c, "ticketing");
  cJSON *res = tkt_mail_ingest(&c, b->data, b->len, "imap", err, sizeof err);
  struct db *w = res ? http_tx(&c) : NULL;
  int ok = res && w && db_exec(w, "DELETE FROM tkt_mail_imap_pending WHERE mailbox = ?1 AND uid = ?2", "ti", im->url,
                               uid) == SQLITE_OK;
  if (ok) ok = call_end(&c, 1) == 0;
  else call_end(&c, 0);
  if (ok) {
    snprintf(req, sizeof req, "UID STORE %lld +FLAGS (\\Seen)", (long long)uid);
    char *text = cJSON_PrintUnformatted(res);
    tkt_host->log(tkt_host, DESTEK_LOG_INFO, "mail: IMAP message %lld filed: %s", (long long)uid, text);
    cJSON_free(text);
  } else {
    snprintf(req, sizeof req, "UID STORE %lld -FLAGS (\\Seen)", (long long)uid);
    tkt_host->log(tkt_host, DESTEK_LOG_ERROR, "mail: IMAP message %lld could not be filed: %s", (long long)uid,
                  err[0] ? err : "the transaction failed");
  }
  cJSON_Delete(res);
  char serr[512];
  if (imap_do(im, NULL, req, b, serr, sizeof serr) != 0)
    tkt_host->log(tkt_host, DESTEK_LOG_WARN, "mail: %s", serr);
  return ok ? 0 : -1;
}

static double last_poll;

static double mono_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The periodic job (every second): polls when mail.poll_seconds have passed since the last poll. */
static int imap_poll_job(struct destek_req *call, void *ud)
{
  (void)call;
  (void)ud;
  long every = settings_get_int("mail.poll_seconds", 60);
  if (every <= 0 || (last_poll > 0 && mono_now() - last_poll < (double)every)) return 0;
  last_poll = mono_now();
  struct imap im;
  char err[512] = "";
  int rc = imap_open(&im, err, sizeof err);
  if (rc == 1) return 0;
  if (rc != 0) { tkt_host->log(tkt_host, DESTEK_LOG_ERROR, "mail: %s", err); return 0; }
  struct buf b = { 0 };
  int64_t uids[POLL_BATCH];
  int n = 0;
  /* First what an earlier poll fetched but did not file, then what is new. */
  struct db *db = db_reader();
  sqlite3_stmt *st = db_prepare(db, "SELECT uid FROM tkt_mail_imap_pending WHERE mailbox = ?1 AND attempts < ?2"
                                    " ORDER BY uid LIMIT ?3");
  if (st) {
    db_bind(st, "tii", im.url, (int64_t)PENDING_ATTEMPTS_MAX, (int64_t)POLL_BATCH);
    while (n < POLL_BATCH && sqlite3_step(st) == SQLITE_ROW) uids[n++] = sqlite3_column_int64(st, 0);
    db_done(st);
  }
  if (imap_do(&im, NULL, "UID SEARCH UNSEEN", &b, err, sizeof err) != 0) {
    tkt_host->log(tkt_host, DESTEK_LOG_WARN, "mail: %s", err);
  } else if (b.data) {
    int64_t found[POLL_BATCH];
    int m = parse_search(b.data, found, POLL_BATCH);
    for (int i = 0; i < m && n < POLL_BATCH; i++) {
      int seen = 0;
      for (int j = 0; j < n; j++) if (uids[j] == found[i]) seen = 1;
      if (!seen) uids[n++] = found[i];
    }
  }
  for (int i = 0; i < n; i++) poll_one(&im, uids[i], &b);
  free(b.data);
  imap_close(&im);
  return 0;
}

int tkt_mail_imap_init(const struct destek_host *host)
{
  return host->every(host, "mail_imap_poll", 1, imap_poll_job, NULL);
}
