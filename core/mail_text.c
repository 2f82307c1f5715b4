/* mail_text: plain-text helpers for the mail channel: the ticket reference in a subject, the new part of a
 * reply, and tidying of body text. No GMime here. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sqlite3.h>

#include "mail.h"
#include "mail_internal.h"

char *mail_text_trim_new(const char *text)
{
  sqlite3_str *out = sqlite3_str_new(NULL);
  const char *p = text ? text : "";
  int blank_run = 0, started = 0;
  while (*p) {
    const char *eol = strchr(p, '\n');
    size_t n = eol ? (size_t)(eol - p) : strlen(p);
    size_t k = n;
    while (k > 0 && (p[k - 1] == ' ' || p[k - 1] == '\t' || p[k - 1] == '\r')) k--;
    if (k == 0) {
      blank_run++;
    } else {
      if (started) sqlite3_str_appendchar(out, blank_run ? 2 : 1, '\n');
      sqlite3_str_append(out, p, (int)k);
      started = 1;
      blank_run = 0;
    }
    p += n + (eol ? 1 : 0);
  }
  return mail_str_take(out);
}

char *mail_ticket_ref_new(const char *subject)
{
  for (const char *p = subject; p && (p = strchr(p, '[')); p++) {
    if (p[1] != '#') continue;
    const char *d = p + 2;
    size_t n = 0;
    while (isdigit((unsigned char)d[n])) n++;
    if (n > 0 && n <= 18 && d[n] == ']') {
      char *ref = malloc(n + 1);
      if (!ref) abort();
      memcpy(ref, d, n);
      ref[n] = 0;
      return ref;
    }
  }
  return NULL;
}

/* ---- quoted text ----------------------------------------------------------------------------------------- */

struct line {
  const char *s;  /* start, leading spaces skipped */
  size_t n;       /* length without trailing spaces/CR */
  size_t offset;  /* byte offset of the line's real start in the text */
};

static int is_blank(const struct line *l) { return l->n == 0; }
static int is_quoted(const struct line *l) { return l->n > 0 && l->s[0] == '>'; }

static int line_starts(const struct line *l, const char *prefix)
{
  size_t n = strlen(prefix);
  return l->n >= n && !strncasecmp(l->s, prefix, n);
}

static int line_ends(const struct line *l, const char *suffix)
{
  size_t n = strlen(suffix);
  return l->n >= n && !strncasecmp(l->s + l->n - n, suffix, n);
}

static int line_contains(const struct line *l, const char *needle)
{
  size_t n = strlen(needle);
  for (size_t i = 0; i + n <= l->n; i++)
    if (!strncasecmp(l->s + i, needle, n)) return 1;
  return 0;
}

/* "On Mon, 23 Nov 2026 … wrote:" (English clients) and "… tarihinde … yazdı:" (Turkish Gmail, Apple Mail:
 * "şunu yazdı:", "şunları yazdı:"). Returns how many lines the attribution spans ending at line i (Gmail wraps
 * long ones in two), or 0. */
static int attribution_at(const struct line *lines, size_t i)
{
  const struct line *l = &lines[i];
  if (line_ends(l, "wrote:")) {
    if (line_starts(l, "On ")) return 1;
    if (i > 0 && line_starts(&lines[i - 1], "On ") && !line_contains(&lines[i - 1], "wrote")) return 2;
    return 0;
  }
  if (line_ends(l, "yazd\xC4\xB1:")) {
    if (line_contains(l, "tarihinde")) return 1;
    if (i > 0 && line_contains(&lines[i - 1], "tarihinde")) return 2;
  }
  return 0;
}

static int outlook_separator(const struct line *l)
{
  if (line_starts(l, "-----") || line_starts(l, "----- ")) {
    return line_contains(l, "original message") || line_contains(l, "\xC3\x96zg\xC3\xBCn \xC4\xB0leti") ||
           line_contains(l, "forwarded message") || line_contains(l, "iletilen ileti");
  }
  return 0;
}

/* An Outlook header block: "From:"/"Kimden:" followed within four lines by a sent/date line and a subject line. */
static int outlook_header_block(const struct line *lines, size_t count, size_t i)
{
  const struct line *l = &lines[i];
  if (!line_starts(l, "From:") && !line_starts(l, "Kimden:")) return 0;
  int sent = 0, subject = 0;
  for (size_t j = i + 1; j < count && j <= i + 5; j++) {
    const struct line *k = &lines[j];
    if (line_starts(k, "Sent:") || line_starts(k, "Date:") || line_starts(k, "G\xC3\xB6nderildi:") ||
        line_starts(k, "Tarih:") || line_starts(k, "G\xC3\xB6nderilme Tarihi:"))
      sent = 1;
    if (line_starts(k, "Subject:") || line_starts(k, "Konu:")) subject = 1;
  }
  return sent && subject;
}

char *mail_strip_quoted_new(const char *text)
{
  const char *t = text ? text : "";
  size_t cap = 16, count = 0;
  struct line *lines = malloc(cap * sizeof *lines);
  if (!lines) abort();
  for (const char *p = t; *p || p == t;) {
    const char *eol = strchr(p, '\n');
    size_t n = eol ? (size_t)(eol - p) : strlen(p);
    if (count == cap) {
      cap *= 2;
      lines = realloc(lines, cap * sizeof *lines);
      if (!lines) abort();
    }
    struct line l = { p, n, (size_t)(p - t) };
    while (l.n && (*l.s == ' ' || *l.s == '\t')) l.s++, l.n--;
    while (l.n && (l.s[l.n - 1] == ' ' || l.s[l.n - 1] == '\t' || l.s[l.n - 1] == '\r')) l.n--;
    lines[count++] = l;
    if (!eol) break;
    p = eol + 1;
  }

  size_t cut = count;
  /* 1. Outlook and attribution lines: the first one starts the previous message. An attribution counts when it
   *    is followed by quoted lines or by nothing else at all. */
  for (size_t i = 0; i < count && cut == count; i++) {
    if (outlook_separator(&lines[i]) || outlook_header_block(lines, count, i)) {
      cut = i;
      if (i > 0 && lines[i - 1].n >= 10 && strspn(lines[i - 1].s, "_") == lines[i - 1].n) cut = i - 1;
      break;
    }
    int span = attribution_at(lines, i);
    if (span) {
      size_t j = i + 1;
      while (j < count && is_blank(&lines[j])) j++;
      if (j == count || is_quoted(&lines[j])) cut = i + 1 - (size_t)span;
    }
  }
  /* 2. A trailing block of quoted lines (interleaved quotes above new text are kept: the reply is below them). */
  size_t end = count;
  while (end > 0 && is_blank(&lines[end - 1])) end--;
  size_t q = end;
  while (q > 0 && (is_quoted(&lines[q - 1]) || is_blank(&lines[q - 1]))) q--;
  while (q < end && is_blank(&lines[q])) q++;
  if (q < end && q < cut) cut = q;

  /* Conservative: nothing new before the cut means we misread the message; keep it whole. */
  int any = 0;
  for (size_t i = 0; i < cut; i++)
    if (!is_blank(&lines[i])) any = 1;
  size_t keep = any && cut < count ? lines[cut].offset : strlen(t);
  free(lines);

  char *head = malloc(keep + 1);
  if (!head) abort();
  memcpy(head, t, keep);
  head[keep] = 0;
  char *r = mail_text_trim_new(head);
  free(head);
  return r;
}
