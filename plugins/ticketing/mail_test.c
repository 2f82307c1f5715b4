/* "Test connection" for the admin's mail screens (POST /api/v1/mail/test, mailboxes.c): an SMTP server is
 * connected to as a send would (EHLO, STARTTLS when offered, AUTH when a user is set) and left without sending
 * anything — libcurl's CURLOPT_CONNECT_ONLY stops after that handshake — or sent one test mail; an IMAP server is
 * logged in to and the mailbox EXAMINEd (read-only: no flag changes), answering its message and unseen counts.
 *
 * These run on a request's worker thread, so each test is bounded to about 15 s. What goes wrong is told in the
 * words of libcurl and of the server's last reply (the probe below), never with the password: the lines we send
 * are not looked at, and the password is blanked out of any text that is answered. */
#include "mail_tkt.h"
#include "tkt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "destek_mail.h"

#define TEST_SECONDS 15L
#define TEST_CONNECT_SECONDS 8L

/* Whether a server line is a refusal worth quoting: SMTP 4xx/5xx, IMAP "tag NO/BAD" or "* BYE". */
static int is_refusal(const char *line)
{
  if ((line[0] == '4' || line[0] == '5') && line[1] >= '0' && line[1] <= '9' && line[2] >= '0' && line[2] <= '9')
    return 1;
  const char *sp = strchr(line, ' ');
  return sp && (!strncmp(sp, " NO", 3) || !strncmp(sp, " BAD", 4) || !strncmp(sp, " BYE", 4));
}

static int probe_debug(CURL *h, curl_infotype type, char *data, size_t size, void *ud)
{
  (void)h;
  struct tkt_curl_probe *p = ud;
  if (type == CURLINFO_SSL_DATA_IN || type == CURLINFO_SSL_DATA_OUT) {
    p->tls = 1;
  } else if (type == CURLINFO_HEADER_IN) {
    while (size && (data[size - 1] == '\n' || data[size - 1] == '\r')) size--;
    if (!size) return 0;
    char line[sizeof p->last];
    if (size >= sizeof line) size = sizeof line - 1;
    for (size_t i = 0; i < size; i++) {
      unsigned char ch = (unsigned char)data[i];
      line[i] = ch < 0x20 || ch >= 0x7f ? '?' : (char)ch;
    }
    line[size] = 0;
    /* Dovecot ends its replies with timings, "(0.004 + 0.000 secs).": not for people. */
    char *timing = strrchr(line, '(');
    if (timing && timing > line && timing[-1] == ' ' && timing[1] >= '0' && timing[1] <= '9' && strstr(timing, "secs)")) {
      timing[-1] = 0;
      size = strlen(line);
    }
    /* The last refusal; libcurl logs out after a failed command, and that goodbye is not the reason. */
    if (is_refusal(line) && !(p->last[0] && !strncmp(line, "* BYE", 5))) memcpy(p->last, line, size + 1);
  }
  return 0;
}

void tkt_curl_probe_attach(CURL *c, struct tkt_curl_probe *p)
{
  memset(p, 0, sizeof *p);
  curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, probe_debug);
  curl_easy_setopt(c, CURLOPT_DEBUGDATA, p);
  curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
}

/* Replaces every occurrence of secret in s (in place) with asterisks. */
static void blank_out(char *s, const char *secret)
{
  size_t n = secret ? strlen(secret) : 0;
  if (n < 3) return;
  for (char *p = strstr(s, secret); p; p = strstr(p + n, secret)) memset(p, '*', n);
}

void tkt_curl_error_text(CURLcode rc, const char *errbuf, const struct tkt_curl_probe *p, const char *password,
                         char *out, size_t outlen)
{
  const char *what = errbuf && *errbuf ? errbuf : curl_easy_strerror(rc);
  if (p && p->last[0] && !strstr(what, p->last))
    snprintf(out, outlen, "%s (server: %s)", what, p->last);
  else
    snprintf(out, outlen, "%s", what);
  blank_out(out, password);
}

static void fail(cJSON *out, const char *error)
{
  cJSON_AddBoolToObject(out, "ok", 0);
  cJSON_AddStringToObject(out, "error", error);
}

#define ANSWER_MAX (4 * 1024 * 1024)

size_t tkt_curl_answer_write(char *p, size_t size, size_t n, void *answer)
{
  struct tkt_curl_answer *b = answer;
  size_t add = size * n;
  if (b->len + add > b->max) { b->too_big = 1; return 0; }
  char *grown = realloc(b->data, b->len + add + 1);
  if (!grown) abort();
  b->data = grown;
  memcpy(b->data + b->len, p, add);
  b->len += add;
  b->data[b->len] = 0;
  return add;
}

/* The mailbox named by url's path ("INBOX", decoded, without ";UIDVALIDITY=..." and the like) and the URL of the
 * server alone. Both for the caller to free; -1 with err when the name cannot be sent in a command. */
int tkt_imap_split_mailbox(const char *url, char **server, char **mailbox, char *err, size_t errlen)
{
  *server = *mailbox = NULL;
  CURLU *u = curl_url();
  if (!u) abort();
  char *path = NULL, *base = NULL;
  int rc = -1;
  if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
      curl_url_get(u, CURLUPART_PATH, &path, CURLU_URLDECODE) != CURLUE_OK) {
    snprintf(err, errlen, "the URL cannot be read");
  } else {
    const char *name = path[0] == '/' ? path + 1 : path;
    size_t n = strcspn(name, ";/");
    if (n == 0) name = "INBOX", n = 5;
    int printable = 1;
    for (size_t i = 0; i < n; i++) if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f) printable = 0;
    if (!printable) {
      snprintf(err, errlen, "the mailbox name in the URL has control characters");
    } else if (curl_url_set(u, CURLUPART_PATH, "/", 0) == CURLUE_OK && curl_url_get(u, CURLUPART_URL, &base, 0) == CURLUE_OK) {
      *mailbox = strndup(name, n);
      *server = strdup(base);
      if (!*mailbox || !*server) abort();
      rc = 0;
    } else {
      snprintf(err, errlen, "the URL cannot be read");
    }
  }
  curl_free(path);
  curl_free(base);
  curl_url_cleanup(u);
  return rc;
}

/* Seconds left until deadline (monotonic), at least 1. */
static long left(time_t deadline)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  long s = (long)(deadline - ts.tv_sec);
  return s < 1 ? 1 : s;
}

void tkt_imap_test(const char *saved_url, const char *user, const char *password, const char *tls, cJSON *out)
{
  char err[700] = "";
  char *server = NULL, *mailbox = NULL;
  if (tkt_curl_ready() != 0) { fail(out, "libcurl cannot start"); return; }
  if (tkt_tls_check(saved_url, tls ? tls : "auto", err, sizeof err) != 0) { fail(out, err); return; }
  char *url_owned = tkt_tls_url_new(saved_url, tls);
  const char *url = url_owned;
  int split = tkt_imap_split_mailbox(url, &server, &mailbox, err, sizeof err);
  if (split != 0) { free(url_owned); fail(out, err); return; }
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  time_t deadline = ts.tv_sec + TEST_SECONDS;

  /* EXAMINE "name" (quoted: backslash and double quote escaped), sent on the server URL so that libcurl sends it
   * as it is after logging in, without selecting anything itself. */
  size_t n = strlen(mailbox);
  char *cmd = malloc(2 * n + 16);
  if (!cmd) abort();
  char *w = cmd + sprintf(cmd, "EXAMINE \"");
  for (size_t i = 0; i < n; i++) {
    if (mailbox[i] == '"' || mailbox[i] == '\\') *w++ = '\\';
    *w++ = mailbox[i];
  }
  strcpy(w, "\"");

  CURL *c = curl_easy_init();
  if (!c) abort();
  char errbuf[CURL_ERROR_SIZE] = "";
  struct tkt_curl_answer b = { .max = ANSWER_MAX };
  struct tkt_curl_probe probe;
  tkt_imap_curl_setup(c, user, password, tls);
  curl_easy_setopt(c, CURLOPT_URL, server);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, cmd);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, tkt_curl_answer_write);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, TEST_CONNECT_SECONDS);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, left(deadline));
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  tkt_curl_probe_attach(c, &probe);
  CURLcode rc = curl_easy_perform(c);
  long messages = -1;
  for (const char *line = b.data; rc == CURLE_OK && line && *line;) {
    long v;
    char word[8];
    if (sscanf(line, "* %ld %7s", &v, word) == 2 && !strcmp(word, "EXISTS")) messages = v;
    line = strchr(line, '\n');
    if (line) line++;
  }
  if (rc != CURLE_OK) {
    char why[600];
    tkt_curl_error_text(rc, errbuf, &probe, password, why, sizeof why);
    snprintf(err, sizeof err, "IMAP: %s", why);
    fail(out, err);
  } else if (messages < 0) {
    snprintf(err, sizeof err, "IMAP: the server did not open the mailbox %s%s%s", mailbox,
             probe.last[0] ? " (server: " : "", probe.last[0] ? probe.last : "");
    if (probe.last[0]) strncat(err, ")", sizeof err - strlen(err) - 1);
    blank_out(err, password);
    fail(out, err);
  } else {
    /* The unseen count, on the same connection where the mailbox is now examined. */
    b.len = 0;
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "SEARCH UNSEEN");
    curl_easy_setopt(c, CURLOPT_TIMEOUT, left(deadline));
    long unseen = -1;
    if (curl_easy_perform(c) == CURLE_OK) {
      unseen = 0;
      for (const char *line = b.data; line && *line;) {
        if (!strncmp(line, "* SEARCH", 8))
          for (const char *p = line + 8; *p && *p != '\r' && *p != '\n'; p++)
            if (*p >= '0' && *p <= '9' && (p[-1] == ' ')) unseen++;
        line = strchr(line, '\n');
        if (line) line++;
      }
    }
    cJSON_AddBoolToObject(out, "ok", 1);
    cJSON_AddStringToObject(out, "mailbox", mailbox);
    cJSON_AddNumberToObject(out, "messages", (double)messages);
    if (unseen >= 0) cJSON_AddNumberToObject(out, "unseen", (double)unseen);
    else cJSON_AddNullToObject(out, "unseen");
    cJSON_AddBoolToObject(out, "tls", probe.tls || !strncmp(url, "imaps:", 6));
    cJSON_AddBoolToObject(out, "auth", user && *user);
  }
  curl_easy_cleanup(c);
  free(b.data);
  free(cmd);
  free(server);
  free(mailbox);
  free(url_owned);
}

void tkt_smtp_test(const char *url, const char *user, const char *password, const char *tls_mode, const char *from,
                   const char *from_name, const char *send_to, const char *lang, cJSON *out)
{
  char err[700] = "";
  if (tkt_curl_ready() != 0) { fail(out, "libcurl cannot start"); return; }
  int tls = 0;
  if (send_to) {
    int en = lang && !strcmp(lang, "en");
    struct mail_address to = { NULL, (char *)send_to };
    struct mail_outgoing m = { 0 };
    m.from.name = from_name && *from_name ? (char *)from_name : NULL;
    m.from.address = (char *)from;
    m.to = &to;
    m.to_count = 1;
    m.subject = en ? "Destek: test mail" : "Destek: deneme e-postası";
    m.text = en ? "This mail was sent from Destek's mailbox settings to check the outgoing mail server.\r\n"
                  "Nothing needs to be done about it.\r\n"
                : "Bu e-posta, giden posta sunucusunu denemek için Destek'in posta kutusu ayarlarından gönderildi.\r\n"
                  "Bir şey yapmanıza gerek yok.\r\n";
    size_t len = 0;
    char *msg = mail_compose_new(&m, &len);
    if (!msg) { fail(out, "the test mail could not be composed"); return; }
    int rc = tkt_smtp_send(url, user, password, tls_mode, from, send_to, msg, len, TEST_SECONDS, &tls, err, sizeof err);
    free(msg);
    if (rc != 0) { fail(out, err); return; }
    cJSON_AddBoolToObject(out, "ok", 1);
    cJSON_AddBoolToObject(out, "tls", tls);
    cJSON_AddBoolToObject(out, "auth", user && *user);
    cJSON_AddStringToObject(out, "sent_to", send_to);
    return;
  }
  CURL *c = curl_easy_init();
  if (!c) abort();
  char errbuf[CURL_ERROR_SIZE] = "";
  struct tkt_curl_probe probe;
  if (tkt_tls_check(url, tls_mode ? tls_mode : "auto", err, sizeof err) != 0) {
    curl_easy_cleanup(c);
    fail(out, err);
    return;
  }
  tkt_smtp_curl_setup(c, url, user, password, tls_mode);
  curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);   /* greeting, EHLO, STARTTLS, AUTH — then stop */
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, TEST_CONNECT_SECONDS);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, TEST_SECONDS);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  tkt_curl_probe_attach(c, &probe);
  CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    char why[600];
    tkt_curl_error_text(rc, errbuf, &probe, password, why, sizeof why);
    snprintf(err, sizeof err, "SMTP: %s", why);
    fail(out, err);
  } else {
    cJSON_AddBoolToObject(out, "ok", 1);
    cJSON_AddBoolToObject(out, "tls", probe.tls || !strncmp(url, "smtps:", 6) || (tls_mode && !strcmp(tls_mode, "implicit")));
    cJSON_AddBoolToObject(out, "auth", user && *user);
  }
  curl_easy_cleanup(c);
}
