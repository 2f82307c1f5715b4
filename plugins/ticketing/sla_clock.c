/* sla_clock: business time for SLAs. The contracts are in sla_clock.h; this file is libc only and keeps no
 * mutable static state, so built zones and calendars can be shared between threads. */
#include "sla_clock.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Instants outside years 1..9999 are clamped: keeps every sum below far from int64 overflow. */
#define T_MIN (-62135596800LL)
#define T_MAX 253402300799LL
/* The widest UTC offset a zone may have; real zones stay within -12 h .. +14 h. */
#define OFF_MAX (26 * 3600)
#define DAY 86400LL

static void set_err(char *err, const char *fmt, ...)
{
  if (!err) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, SLA_ERR_MAX, fmt, ap);
  va_end(ap);
}

static int64_t floor_div(int64_t a, int64_t b)
{
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t clamp_t(int64_t t)
{
  return t < T_MIN ? T_MIN : t > T_MAX ? T_MAX : t;
}

/* ---- Civil dates (proleptic Gregorian; H. Hinnant's algorithms) ----------------------------------------------- */

static int64_t days_from_civil(int64_t y, int m, int d)
{
  y -= m <= 2;
  int64_t era = floor_div(y, 400);
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
  z += 719468;
  int64_t era = floor_div(z, 146097);
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

static int is_leap(int64_t y)
{
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int64_t y, int m)
{
  static const int len[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
  return m == 2 && is_leap(y) ? 29 : len[m - 1];
}

/* 0 = Sunday; 1970-01-01 was a Thursday. */
static int weekday(int64_t days)
{
  return (int)(((days + 4) % 7 + 7) % 7);
}

int64_t sla_local_minute(int year, int month, int day, int hh, int mi)
{
  if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1 || day > month_days(year, month)) return INT64_MIN;
  if (hh < 0 || hh > 24 || mi < 0 || mi > 59 || (hh == 24 && mi)) return INT64_MIN;
  return days_from_civil(year, month, day) * 1440 + hh * 60 + mi;
}

/* ---- Time zones ---------------------------------------------------------------------------------------------- */

/* A POSIX rule date: Jn (1..365, Feb 29 never counted), n (0..365), or Mm.w.d. */
struct rule_date {
  char kind;   /* 'J', 'n' or 'M' */
  int n, month, week, wday;
  int32_t secs; /* local time of day of the change, may be negative or past 24 h (RFC 8536) */
};

struct tz_rule {
  int32_t std_off, dst_off; /* seconds east of UTC */
  int has_dst;
  struct rule_date start, end;
};

struct sla_tz {
  char name[128];
  int64_t *trans;    /* instants where the offset changes, ascending */
  int32_t *after;    /* offset from trans[i] on */
  size_t ntrans;
  int32_t first_off; /* before trans[0] (time type 0) */
  int32_t last_off;  /* after the last transition, when there is no rule */
  int has_rule;      /* the footer rule governs from the last transition on */
  struct tz_rule rule;
};

static int64_t rule_day(const struct rule_date *r, int64_t y)
{
  int64_t jan1 = days_from_civil(y, 1, 1);
  if (r->kind == 'J') return jan1 + r->n - 1 + (is_leap(y) && r->n >= 60);
  if (r->kind == 'n') return jan1 + r->n;
  int64_t first = days_from_civil(y, r->month, 1);
  int64_t day = first + (r->wday - weekday(first) + 7) % 7 + (int64_t)(r->week - 1) * 7;
  while (day >= first + month_days(y, r->month)) day -= 7;
  return day;
}

/* Offset in effect at t under the rule, and the next instant > t where it changes (SLA_NEVER if none). */
static void rule_piece(const struct tz_rule *r, int64_t t, int32_t *off, int64_t *next)
{
  if (!r->has_dst) {
    *off = r->std_off;
    *next = SLA_NEVER;
    return;
  }
  int64_t y;
  int mo, d;
  civil_from_days(floor_div(t, DAY), &y, &mo, &d);
  /* DST changes of three years, in generation order; a stable sort keeps an end before a start at the same instant
   * (rules with DST all year, like "EST5EDT,0/0,J365/25"). */
  int64_t at[6];
  int32_t to[6];
  int n = 0;
  for (int64_t yy = y - 1; yy <= y + 1; yy++) {
    at[n] = rule_day(&r->start, yy) * DAY + r->start.secs - r->std_off;
    to[n++] = r->dst_off;
    at[n] = rule_day(&r->end, yy) * DAY + r->end.secs - r->dst_off;
    to[n++] = r->std_off;
  }
  for (int i = 1; i < n; i++)
    for (int j = i; j > 0 && at[j - 1] > at[j]; j--) {
      int64_t ta = at[j]; at[j] = at[j - 1]; at[j - 1] = ta;
      int32_t tt = to[j]; to[j] = to[j - 1]; to[j - 1] = tt;
    }
  int cur = -1;
  for (int i = 0; i < n && at[i] <= t; i++) cur = i;
  *off = cur >= 0 ? to[cur] : r->std_off;
  *next = SLA_NEVER;
  for (int i = cur + 1; i < n; i++)
    if (to[i] != *off) {
      *next = at[i];
      break;
    }
}

/* Offset at t and the next instant > t where it may change. */
static void tz_piece(const struct sla_tz *tz, int64_t t, int32_t *off, int64_t *next)
{
  if (!tz) {
    *off = 0;
    *next = SLA_NEVER;
  } else if (tz->ntrans == 0 || t >= tz->trans[tz->ntrans - 1]) {
    if (tz->has_rule) {
      rule_piece(&tz->rule, t, off, next);
    } else {
      *off = tz->ntrans ? tz->last_off : tz->first_off;
      *next = SLA_NEVER;
    }
  } else if (t < tz->trans[0]) {
    *off = tz->first_off;
    *next = tz->trans[0];
  } else {
    size_t lo = 0, hi = tz->ntrans; /* first index with trans > t */
    while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      if (tz->trans[mid] <= t) lo = mid + 1;
      else hi = mid;
    }
    *off = tz->after[lo - 1];
    *next = tz->trans[lo];
  }
}

int32_t sla_tz_offset(const struct sla_tz *tz, int64_t t)
{
  int32_t off;
  int64_t next;
  tz_piece(tz, clamp_t(t), &off, &next);
  return off;
}

const char *sla_tz_name(const struct sla_tz *tz)
{
  return tz ? tz->name : "UTC";
}

/* Walks the offset pieces from three days before: wall(t) = t + off is increasing within a piece, so the first piece
 * where it reaches local_seconds holds the answer. A few pieces at most. */
int64_t sla_tz_local_to_utc(const struct sla_tz *tz, int64_t local_seconds)
{
  local_seconds = clamp_t(local_seconds);
  int64_t t = local_seconds - 3 * DAY;
  for (int i = 0; i < 64; i++) {
    int32_t off;
    int64_t next;
    tz_piece(tz, t, &off, &next);
    int64_t cand = local_seconds - off;
    if (cand < t) cand = t;
    if (cand < next) return cand;
    t = next;
  }
  return t;
}

static int64_t wall(const struct sla_tz *tz, int64_t t)
{
  return t + sla_tz_offset(tz, t);
}

/* POSIX TZ strings -------------------------------------------------------------------------------------------- */

static int parse_num(const char **p, int max_digits, int *out)
{
  int v = 0, n = 0;
  while (n < max_digits && isdigit((unsigned char)**p)) {
    v = v * 10 + (**p - '0');
    (*p)++;
    n++;
  }
  *out = v;
  return n > 0;
}

/* [+-]h[h[h]][:mm[:ss]] → seconds; max_hours bounds the hours. */
static int parse_hms(const char **p, int max_hours, int32_t *out)
{
  int sign = 1, h, m = 0, s = 0;
  if (**p == '+' || **p == '-') sign = *(*p)++ == '-' ? -1 : 1;
  if (!parse_num(p, 3, &h) || h > max_hours) return 0;
  if (**p == ':') {
    (*p)++;
    if (!parse_num(p, 2, &m) || m > 59) return 0;
    if (**p == ':') {
      (*p)++;
      if (!parse_num(p, 2, &s) || s > 59) return 0;
    }
  }
  *out = sign * (h * 3600 + m * 60 + s);
  return 1;
}

static int parse_tzname(const char **p)
{
  const char *s = *p;
  if (*s == '<') {
    const char *e = strchr(s, '>');
    if (!e || e - s < 4) return 0;
    *p = e + 1;
    return 1;
  }
  while (isalpha((unsigned char)**p)) (*p)++;
  return *p - s >= 3;
}

static int parse_rule_date(const char **p, struct rule_date *r)
{
  if (**p == 'M') {
    (*p)++;
    r->kind = 'M';
    if (!parse_num(p, 2, &r->month) || r->month < 1 || r->month > 12 || *(*p)++ != '.') return 0;
    if (!parse_num(p, 1, &r->week) || r->week < 1 || r->week > 5 || *(*p)++ != '.') return 0;
    if (!parse_num(p, 1, &r->wday) || r->wday > 6) return 0;
  } else if (**p == 'J') {
    (*p)++;
    r->kind = 'J';
    if (!parse_num(p, 3, &r->n) || r->n < 1 || r->n > 365) return 0;
  } else {
    r->kind = 'n';
    if (!parse_num(p, 3, &r->n) || r->n > 365) return 0;
  }
  r->secs = 7200;
  if (**p == '/' && (++*p, !parse_hms(p, 167, &r->secs))) return 0;
  return 1;
}

static int parse_posix(const char *spec, struct tz_rule *r)
{
  const char *p = spec;
  int32_t west;
  memset(r, 0, sizeof *r);
  if (!parse_tzname(&p) || !parse_hms(&p, 24, &west)) return 0;
  r->std_off = -west;
  if (*p) {
    if (!parse_tzname(&p)) return 0;
    r->has_dst = 1;
    r->dst_off = r->std_off + 3600;
    if (*p && *p != ',') {
      if (!parse_hms(&p, 24, &west)) return 0;
      r->dst_off = -west;
    }
    if (*p == ',') {
      p++;
      if (!parse_rule_date(&p, &r->start) || *p++ != ',' || !parse_rule_date(&p, &r->end)) return 0;
    } else {
      r->start = (struct rule_date){ 'M', 0, 3, 2, 0, 7200 };
      r->end = (struct rule_date){ 'M', 0, 11, 1, 0, 7200 };
    }
  }
  if (*p) return 0;
  if (r->std_off < -OFF_MAX || r->std_off > OFF_MAX || r->dst_off < -OFF_MAX || r->dst_off > OFF_MAX) return 0;
  return 1;
}

static struct sla_tz *tz_alloc(const char *name)
{
  struct sla_tz *tz = calloc(1, sizeof *tz);
  if (tz) snprintf(tz->name, sizeof tz->name, "%s", name ? name : "");
  return tz;
}

void sla_tz_free(struct sla_tz *tz)
{
  if (!tz) return;
  free(tz->trans);
  free(tz->after);
  free(tz);
}

struct sla_tz *sla_tz_dup(const struct sla_tz *tz)
{
  struct sla_tz *d = malloc(sizeof *d);
  if (!d) return NULL;
  *d = *tz;
  d->trans = NULL;
  d->after = NULL;
  if (tz->ntrans) {
    d->trans = malloc(tz->ntrans * sizeof *d->trans);
    d->after = malloc(tz->ntrans * sizeof *d->after);
    if (!d->trans || !d->after) { sla_tz_free(d); return NULL; }
    memcpy(d->trans, tz->trans, tz->ntrans * sizeof *d->trans);
    memcpy(d->after, tz->after, tz->ntrans * sizeof *d->after);
  }
  return d;
}

struct sla_tz *sla_tz_from_posix(const char *spec, char *err)
{
  struct tz_rule rule;
  if (!spec || !parse_posix(spec, &rule)) {
    set_err(err, "bad POSIX TZ rule '%.60s'", spec ? spec : "");
    return NULL;
  }
  struct sla_tz *tz = tz_alloc(spec);
  if (!tz) {
    set_err(err, "out of memory");
    return NULL;
  }
  tz->has_rule = 1;
  tz->rule = rule;
  tz->first_off = tz->last_off = rule.std_off;
  return tz;
}

/* TZif files (RFC 8536) ---------------------------------------------------------------------------------------- */

static uint32_t be32(const unsigned char *p)
{
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

struct tzif_hdr {
  int version;
  uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static int tzif_header(const unsigned char *p, size_t len, struct tzif_hdr *h)
{
  if (len < 44 || memcmp(p, "TZif", 4)) return 0;
  h->version = p[4] ? p[4] - '0' : 1;
  h->isutcnt = be32(p + 20);
  h->isstdcnt = be32(p + 24);
  h->leapcnt = be32(p + 28);
  h->timecnt = be32(p + 32);
  h->typecnt = be32(p + 36);
  h->charcnt = be32(p + 40);
  return h->version >= 1 && h->typecnt >= 1 && h->typecnt <= 256 && h->timecnt <= 100000 && h->charcnt <= 100000 &&
         h->leapcnt <= 100000 && (h->isutcnt == 0 || h->isutcnt == h->typecnt) &&
         (h->isstdcnt == 0 || h->isstdcnt == h->typecnt);
}

static size_t tzif_block(const struct tzif_hdr *h, int tsize)
{
  return (size_t)h->timecnt * (tsize + 1) + (size_t)h->typecnt * 6 + h->charcnt + (size_t)h->leapcnt * (tsize + 4) +
         h->isstdcnt + h->isutcnt;
}

struct sla_tz *sla_tz_from_tzif(const void *data, size_t len, const char *name, char *err)
{
  const unsigned char *p = data, *end = p + len;
  struct tzif_hdr h;
  if (!tzif_header(p, len, &h)) {
    set_err(err, "%s: not a TZif file", name ? name : "zone");
    return NULL;
  }
  int tsize = 4;
  p += 44;
  if (h.version >= 2) { /* skip the 32-bit block; the 64-bit one follows with its own header */
    size_t skip = tzif_block(&h, 4);
    if ((size_t)(end - p) < skip || !tzif_header(p + skip, (size_t)(end - p) - skip, &h)) {
      set_err(err, "%s: truncated TZif file", name ? name : "zone");
      return NULL;
    }
    p += skip + 44;
    tsize = 8;
  }
  if ((size_t)(end - p) < tzif_block(&h, tsize)) {
    set_err(err, "%s: truncated TZif file", name ? name : "zone");
    return NULL;
  }
  if (h.leapcnt) {
    set_err(err, "%s: zones with leap seconds are not supported", name ? name : "zone");
    return NULL;
  }
  const unsigned char *times = p, *idx = times + (size_t)h.timecnt * tsize, *types = idx + h.timecnt;
  const unsigned char *footer = p + tzif_block(&h, tsize);

  int32_t offs[256];
  for (uint32_t i = 0; i < h.typecnt; i++) {
    offs[i] = (int32_t)be32(types + 6 * i);
    if (offs[i] < -OFF_MAX || offs[i] > OFF_MAX) {
      set_err(err, "%s: implausible UTC offset", name ? name : "zone");
      return NULL;
    }
  }
  struct sla_tz *tz = tz_alloc(name);
  if (!tz || (h.timecnt && (!(tz->trans = malloc(h.timecnt * sizeof *tz->trans)) ||
                            !(tz->after = malloc(h.timecnt * sizeof *tz->after))))) {
    sla_tz_free(tz);
    set_err(err, "out of memory");
    return NULL;
  }
  tz->first_off = tz->last_off = offs[0];
  int32_t prev = offs[0];
  int64_t prev_t = INT64_MIN;
  for (uint32_t i = 0; i < h.timecnt; i++) {
    int64_t t = tsize == 8 ? (int64_t)((uint64_t)be32(times + 8 * i) << 32 | be32(times + 8 * i + 4))
                           : (int64_t)(int32_t)be32(times + 4 * i);
    if (idx[i] >= h.typecnt || t <= prev_t) {
      sla_tz_free(tz);
      set_err(err, "%s: bad transition table", name ? name : "zone");
      return NULL;
    }
    prev_t = t;
    if (offs[idx[i]] == prev) continue; /* only the abbreviation or isdst changed */
    tz->trans[tz->ntrans] = t;
    tz->after[tz->ntrans++] = prev = offs[idx[i]];
  }
  tz->last_off = prev;
  if (h.version >= 2) { /* footer: "\n" POSIX-TZ "\n", governs after the last transition */
    const unsigned char *nl = footer < end && *footer == '\n' ? memchr(footer + 1, '\n', (size_t)(end - footer - 1))
                                                              : NULL;
    char spec[128];
    size_t n = nl ? (size_t)(nl - footer - 1) : 0;
    if (!nl || n >= sizeof spec) {
      sla_tz_free(tz);
      set_err(err, "%s: bad TZif footer", name ? name : "zone");
      return NULL;
    }
    memcpy(spec, footer + 1, n);
    spec[n] = 0;
    if (n) {
      if (!parse_posix(spec, &tz->rule)) {
        sla_tz_free(tz);
        set_err(err, "%s: bad TZ rule in footer '%s'", name ? name : "zone", spec);
        return NULL;
      }
      tz->has_rule = 1;
    }
  }
  return tz;
}

static int tz_name_ok(const char *name)
{
  size_t n = strlen(name);
  if (n == 0 || n > 100 || name[0] == '/') return 0;
  for (const char *c = name; *c; c++)
    if (!isalnum((unsigned char)*c) && !strchr("_+-./", *c)) return 0;
  for (const char *c = name; (c = strstr(c, "..")); c++)
    if ((c == name || c[-1] == '/') && (c[2] == 0 || c[2] == '/')) return 0;
  return 1;
}

struct sla_tz *sla_tz_load(const char *name, char *err)
{
  if (!name || !tz_name_ok(name)) {
    set_err(err, "bad time zone name '%.60s'", name ? name : "");
    return NULL;
  }
  const char *dir = getenv("TZDIR");
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name);
  FILE *f = fopen(path, "rb");
  if (!f) {
    set_err(err, "unknown time zone '%s'", name);
    return NULL;
  }
  enum { CAP = 1 << 18 }; /* real files are < 4 KB */
  unsigned char *buf = malloc(CAP);
  size_t len = buf ? fread(buf, 1, CAP, f) : 0;
  int too_big = buf && len == CAP;
  fclose(f);
  if (!buf || too_big) {
    free(buf);
    set_err(err, buf ? "%s: file too large" : "out of memory", name);
    return NULL;
  }
  struct sla_tz *tz = sla_tz_from_tzif(buf, len, name, err);
  free(buf);
  return tz;
}

/* ---- Calendars ----------------------------------------------------------------------------------------------- */

struct sla_calendar {
  struct sla_tz *tz;                 /* NULL: UTC */
  int nhours[7];
  int hours[7][SLA_DAY_MAX][2];      /* per weekday: sorted, disjoint, non-touching [open, close) in minutes */
  int has_hours;
  int64_t (*closed)[2];              /* sorted, disjoint [from, to) in local minutes */
  size_t nclosed, capclosed;
};

struct sla_calendar *sla_calendar_new(struct sla_tz *tz_take)
{
  struct sla_calendar *cal = calloc(1, sizeof *cal);
  if (!cal) {
    sla_tz_free(tz_take);
    return NULL;
  }
  cal->tz = tz_take;
  return cal;
}

void sla_calendar_free(struct sla_calendar *cal)
{
  if (!cal) return;
  sla_tz_free(cal->tz);
  free(cal->closed);
  free(cal);
}

const struct sla_tz *sla_calendar_tz(const struct sla_calendar *cal)
{
  return cal ? cal->tz : NULL;
}

/* Adds [open, close) to one day's list (copy in/out): sorted by opening, overlapping or touching ranges merged.
 * 0, or -1 if the day would hold more than SLA_DAY_MAX ranges. */
static int day_add(int n, int list[SLA_DAY_MAX][2], int *nout, int open, int close)
{
  int tmp[SLA_DAY_MAX + 1][2], k = 0;
  memcpy(tmp, list, sizeof(int[2]) * (size_t)n);
  int j = n;
  for (; j > 0 && tmp[j - 1][0] > open; j--) memcpy(tmp[j], tmp[j - 1], sizeof tmp[j]);
  tmp[j][0] = open;
  tmp[j][1] = close;
  for (int i = 1; i <= n; i++) {
    if (tmp[i][0] <= tmp[k][1]) {
      if (tmp[i][1] > tmp[k][1]) tmp[k][1] = tmp[i][1];
    } else {
      memcpy(tmp[++k], tmp[i], sizeof tmp[k]);
    }
  }
  if (++k > SLA_DAY_MAX) return -1;
  memcpy(list, tmp, sizeof(int[2]) * (size_t)k);
  *nout = k;
  return 0;
}

int sla_calendar_add_hours(struct sla_calendar *cal, int wd, int open_min, int close_min)
{
  if (!cal || wd < 0 || wd > 6 || open_min < 0 || open_min > 1440 || close_min < 0 || close_min > 1440 ||
      open_min == close_min)
    return -1;
  int next = (wd + 1) % 7;
  int a[SLA_DAY_MAX][2], b[SLA_DAY_MAX][2], na = cal->nhours[wd], nb = cal->nhours[next];
  memcpy(a, cal->hours[wd], sizeof a);
  memcpy(b, cal->hours[next], sizeof b);
  if (close_min > open_min) {
    if (day_add(na, a, &na, open_min, close_min)) return -1;
  } else {
    if (open_min < 1440 && day_add(na, a, &na, open_min, 1440)) return -1;
    if (close_min > 0 && day_add(nb, b, &nb, 0, close_min)) return -1;
    memcpy(cal->hours[next], b, sizeof b);
    cal->nhours[next] = nb;
  }
  memcpy(cal->hours[wd], a, sizeof a);
  cal->nhours[wd] = na;
  cal->has_hours = 1;
  return 0;
}

static int cmp_range(const void *x, const void *y)
{
  const int64_t *a = x, *b = y;
  return a[0] < b[0] ? -1 : a[0] > b[0];
}

int sla_calendar_add_closure(struct sla_calendar *cal, int64_t from, int64_t to)
{
  const int64_t lim = (T_MAX / 60) + 2 * 1440;
  if (!cal || to <= from || from < -lim || to > lim) return -1;
  if (cal->nclosed == cal->capclosed) {
    size_t cap = cal->capclosed ? cal->capclosed * 2 : 16;
    void *p = realloc(cal->closed, cap * sizeof *cal->closed);
    if (!p) return -1;
    cal->closed = p;
    cal->capclosed = cap;
  }
  cal->closed[cal->nclosed][0] = from;
  cal->closed[cal->nclosed++][1] = to;
  qsort(cal->closed, cal->nclosed, sizeof *cal->closed, cmp_range);
  size_t k = 0;
  for (size_t i = 1; i < cal->nclosed; i++) {
    if (cal->closed[i][0] <= cal->closed[k][1]) {
      if (cal->closed[i][1] > cal->closed[k][1]) cal->closed[k][1] = cal->closed[i][1];
    } else {
      cal->closed[++k][0] = cal->closed[i][0];
      cal->closed[k][1] = cal->closed[i][1];
    }
  }
  cal->nclosed = k + 1;
  return 0;
}

/* The first closure that ends after local minute x, or NULL. */
static const int64_t *closure_after(const struct sla_calendar *cal, int64_t x)
{
  size_t lo = 0, hi = cal->nclosed;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (cal->closed[mid][1] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo < cal->nclosed ? cal->closed[lo] : NULL;
}

/* The first open stretch [*a, *b) of local minutes with *b > m, *a clipped to >= m, within one local day (weekly
 * hours minus closures). 0 if none starts before local minute limit. */
static int local_next_piece(const struct sla_calendar *cal, int64_t m, int64_t limit, int64_t *a, int64_t *b)
{
  while (m < limit) {
    int64_t day = floor_div(m, 1440), base = day * 1440;
    int wd = weekday(day), i = 0;
    while (i < cal->nhours[wd] && base + cal->hours[wd][i][1] <= m) i++;
    if (i == cal->nhours[wd]) {
      m = base + 1440;
      continue;
    }
    int64_t x = base + cal->hours[wd][i][0], e = base + cal->hours[wd][i][1];
    if (x < m) x = m;
    const int64_t *c = closure_after(cal, x);
    if (c && c[0] <= x) { /* closed at x: resume where the closure ends */
      m = c[1];
      continue;
    }
    if (c && c[0] < e) e = c[0];
    *a = x;
    *b = e;
    return 1;
  }
  return 0;
}

/* The first business interval [*u0, *u1) in UTC with *u1 > t (*u0 may be <= t: t is inside). 0 if none before
 * the year 10000. Local pieces map to UTC through sla_tz_local_to_utc, which is monotonic, so their images stay in
 * order; a piece can only come out empty (inside a DST gap) or end before t (the repeated hour), and is skipped. */
static int next_interval(const struct sla_calendar *cal, int64_t t, int64_t *u0, int64_t *u1)
{
  if (!cal->has_hours) return 0;
  /* No scan bound is needed: closures are skipped in one step and the list is finite, so some weekly hours come
   * within a week of the last closure. The search stops at the end of year 9999. */
  int64_t m = floor_div(wall(cal->tz, t), 60), limit = T_MAX / 60 + 1;
  int64_t a, b;
  while (local_next_piece(cal, m, limit, &a, &b)) {
    int64_t x1 = sla_tz_local_to_utc(cal->tz, b * 60);
    if (x1 > t) {
      int64_t x0 = sla_tz_local_to_utc(cal->tz, a * 60);
      if (x0 < x1) {
        *u0 = x0;
        *u1 = x1;
        return 1;
      }
    }
    m = b;
  }
  return 0;
}

int64_t sla_business_seconds(const struct sla_calendar *cal, int64_t from, int64_t to)
{
  from = clamp_t(from);
  to = clamp_t(to);
  if (to <= from) return 0;
  if (!cal) return to - from;
  int64_t sum = 0, t = from, u0, u1;
  while (t < to && next_interval(cal, t, &u0, &u1) && u0 < to) {
    sum += (u1 < to ? u1 : to) - (u0 > t ? u0 : t);
    t = u1;
  }
  return sum;
}

int64_t sla_business_add(const struct sla_calendar *cal, int64_t start, int64_t seconds)
{
  start = clamp_t(start);
  if (seconds <= 0) return start;
  if (!cal) return seconds > T_MAX - start ? SLA_NEVER : start + seconds;
  int64_t t = start, u0, u1;
  while (next_interval(cal, t, &u0, &u1)) {
    int64_t lo = u0 > t ? u0 : t;
    if (seconds <= u1 - lo) return lo + seconds;
    seconds -= u1 - lo;
    t = u1;
  }
  return SLA_NEVER;
}

int sla_is_open(const struct sla_calendar *cal, int64_t t)
{
  int64_t u0, u1;
  t = clamp_t(t);
  return !cal || (next_interval(cal, t, &u0, &u1) && u0 <= t);
}

int64_t sla_next_open(const struct sla_calendar *cal, int64_t t)
{
  int64_t u0, u1;
  t = clamp_t(t);
  if (!cal) return t;
  return next_interval(cal, t, &u0, &u1) ? (u0 > t ? u0 : t) : SLA_NEVER;
}

int64_t sla_next_close(const struct sla_calendar *cal, int64_t t)
{
  int64_t u0, u1, e;
  t = clamp_t(t);
  if (!cal || !next_interval(cal, t, &u0, &e)) return SLA_NEVER;
  while (e - t <= (int64_t)SLA_SCAN_DAYS * DAY) {
    if (!next_interval(cal, e, &u0, &u1) || u0 > e) return e;
    e = u1;
  }
  return SLA_NEVER; /* open around the clock */
}

/* ---- Text forms ---------------------------------------------------------------------------------------------- */

static const char *skip_blank(const char *p)
{
  while (*p == ' ' || *p == '\t' || *p == '\r') p++;
  return p;
}

/* H:MM or HH:MM, 00:00..24:00, into minutes. */
static int parse_clock(const char **p, int *min)
{
  int h, m;
  const char *s = *p;
  if (!parse_num(&s, 2, &h) || *s++ != ':' || !isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]))
    return 0;
  m = (s[0] - '0') * 10 + (s[1] - '0');
  if (h > 24 || m > 59 || (h == 24 && m)) return 0;
  *p = s + 2;
  *min = h * 60 + m;
  return 1;
}

/* A day: English (mon) or Turkish (pzt; çar also as car), any case for the ASCII letters. */
static int parse_day_name(const char **p, int *wd)
{
  static const char *names[][7] = {
    { "sun", "mon", "tue", "wed", "thu", "fri", "sat" },
    { "paz", "pzt", "sal", "\xc3\xa7""ar", "per", "cum", "cmt" },
    { "paz", "pzt", "sal", "car", "per", "cum", "cmt" },
  };
  for (int k = 0; k < 3; k++)
    for (int i = 0; i < 7; i++) {
      size_t n = strlen(names[k][i]);
      int match = !strncasecmp(*p, names[k][i], n) || (i == 3 && k == 1 && !strncmp(*p, "\xc3\x87""ar", 4)) ||
                  (i == 3 && k == 1 && !strncmp(*p, "\xc3\x87""AR", 4));
      unsigned char next = (unsigned char)(*p)[n];
      if (match && !isalpha(next) && next < 0x80) {
        *wd = i;
        *p += n;
        return 1;
      }
    }
  return 0;
}

static int word_len(const char *p)
{
  int n = 0;
  while (p[n] && !isspace((unsigned char)p[n]) && p[n] != ';' && n < 20) n++;
  return n;
}

int sla_calendar_parse_hours(struct sla_calendar *cal, const char *spec, char *err)
{
  const char *p = spec ? spec : "";
  while (*p) {
    p = skip_blank(p);
    if (*p == ';' || *p == '\n') {
      p++;
      continue;
    }
    if (!*p) break;
    int mask = 0;
    if (!strncasecmp(p, "daily", 5) && !isalpha((unsigned char)p[5])) {
      mask = 0x7f;
      p += 5;
    } else if (!strncasecmp(p, "her g\xc3\xbcn", 8) && !isalpha((unsigned char)p[8]) && (unsigned char)p[8] < 0x80) {
      mask = 0x7f;   /* "her gün": daily */
      p += 8;
    } else {
      for (;;) {
        int d1, d2;
        const char *at = p;
        if (!parse_day_name(&p, &d1)) {
          set_err(err, "hours: unknown day '%.*s'", word_len(at), at);
          return -1;
        }
        d2 = d1;
        if (*p == '-') {
          p++;
          if (!parse_day_name(&p, &d2)) {
            set_err(err, "hours: unknown day in '%.*s'", word_len(at), at);
            return -1;
          }
        }
        for (int d = d1;; d = (d + 1) % 7) {
          mask |= 1 << d;
          if (d == d2) break;
        }
        if (*p != ',') break;
        p++;
      }
    }
    if (*p != ' ' && *p != '\t') {
      set_err(err, "hours: expected a space and opening hours after the days, at '%.*s'", word_len(p), p);
      return -1;
    }
    int nranges = 0;
    for (;;) {
      p = skip_blank(p);
      if (*p == ',') p = skip_blank(p + 1);
      if (!*p || *p == ';' || *p == '\n') break;
      const char *at = p;
      int o, c;
      if (!parse_clock(&p, &o) || *p++ != '-' || !parse_clock(&p, &c) ||
          (*p && !strchr(" \t\r,;\n", *p))) {
        set_err(err, "hours: bad range '%.*s' (want HH:MM-HH:MM)", word_len(at), at);
        return -1;
      }
      if (o == c) {
        set_err(err, "hours: empty range '%.*s' (write 00:00-24:00 for all day)", word_len(at), at);
        return -1;
      }
      for (int d = 0; d < 7; d++)
        if ((mask & 1 << d) && sla_calendar_add_hours(cal, d, o, c)) {
          set_err(err, "hours: more than %d ranges on one day", SLA_DAY_MAX);
          return -1;
        }
      nranges++;
    }
    if (!nranges) {
      set_err(err, "hours: days without opening hours");
      return -1;
    }
  }
  return 0;
}

static int parse_date(const char **p, int64_t *days)
{
  const char *s = *p;
  int y, m, d;
  if (!parse_num(&s, 4, &y) || s - *p != 4 || *s++ != '-' || !parse_num(&s, 2, &m) || *s++ != '-' ||
      !parse_num(&s, 2, &d))
    return 0;
  int64_t lm = sla_local_minute(y, m, d, 0, 0);
  if (lm == INT64_MIN) return 0;
  *days = lm / 1440;
  *p = s;
  return 1;
}

int sla_calendar_parse_holidays(struct sla_calendar *cal, const char *spec, char *err)
{
  const char *p = spec ? spec : "";
  while (*p) {
    p = skip_blank(p);
    if (*p == '#') {
      while (*p && *p != '\n') p++;
      continue;
    }
    if (*p == ';' || *p == ',' || *p == '\n') {
      p++;
      continue;
    }
    if (!*p) break;
    const char *at = p;
    int64_t d1, d2;
    if (!parse_date(&p, &d1)) {
      set_err(err, "holidays: bad date '%.*s' (want YYYY-MM-DD)", word_len(at), at);
      return -1;
    }
    d2 = d1;
    if (p[0] == '.' && p[1] == '.') {
      p += 2;
      if (!parse_date(&p, &d2) || d2 < d1) {
        set_err(err, "holidays: bad date range '%.*s'", word_len(at), at);
        return -1;
      }
    }
    p = skip_blank(p);
    int rc = 0;
    if (isdigit((unsigned char)*p)) {
      const char *w = p;
      int o, c;
      if (!parse_clock(&p, &o) || *p++ != '-' || !parse_clock(&p, &c) || o == c) {
        set_err(err, "holidays: bad closing hours '%.*s' (want HH:MM-HH:MM)", word_len(w), w);
        return -1;
      }
      if (d2 - d1 > 366) { /* one closure per day: keep the list small */
        set_err(err, "holidays: a daily window over more than a year '%.*s'", word_len(at), at);
        return -1;
      }
      for (int64_t d = d1; d <= d2 && !rc; d++)
        rc = sla_calendar_add_closure(cal, d * 1440 + o, d * 1440 + c + (c < o ? 1440 : 0));
    } else {
      rc = sla_calendar_add_closure(cal, d1 * 1440, (d2 + 1) * 1440);
    }
    if (rc) {
      set_err(err, "out of memory");
      return -1;
    }
    p = skip_blank(p);
    if (*p && !strchr(";,\n#", *p)) {
      set_err(err, "holidays: unexpected '%.*s'", word_len(p), p);
      return -1;
    }
  }
  return 0;
}

/* ---- SLA clocks ---------------------------------------------------------------------------------------------- */

int sla_evaluate(const struct sla_calendar *cal, const struct sla_event *ev, size_t n, int64_t stop_at,
                 int64_t now, const struct sla_target *target, struct sla_result *out)
{
  if (!ev || !n || !target || !out || target->seconds <= 0 || target->warn_permille < 0 ||
      target->warn_permille > 1000)
    return -1;
  for (size_t i = 0; i < n; i++)
    if ((unsigned)ev[i].status >= SLA_STATUS_COUNT || (i && ev[i].at < ev[i - 1].at)) return -1;

  unsigned pause = target->pause_mask | SLA_PAUSE(SLA_SOLVED) | SLA_PAUSE(SLA_CLOSED);
  int64_t goal = target->seconds;
  int64_t warn_goal = target->warn_permille ? goal * target->warn_permille / 1000 : 0;
  if (now < ev[0].at) now = ev[0].at;
  int stopped = stop_at <= now;
  int64_t end = stopped ? (stop_at > ev[0].at ? stop_at : ev[0].at) : now;

  int64_t elapsed = 0, warn_at = SLA_NEVER, due_at = SLA_NEVER;
  enum sla_status status = ev[0].status;
  for (size_t i = 0; i < n && ev[i].at <= end; i++) {
    status = ev[i].status;
    int64_t s = ev[i].at, e = i + 1 < n && ev[i + 1].at < end ? ev[i + 1].at : end;
    if (pause & SLA_PAUSE(status) || e <= s) continue;
    int64_t used = sla_business_seconds(cal, s, e);
    if (warn_goal && warn_at == SLA_NEVER && elapsed + used >= warn_goal)
      warn_at = sla_business_add(cal, s, warn_goal - elapsed);
    if (due_at == SLA_NEVER && elapsed + used >= goal) due_at = sla_business_add(cal, s, goal - elapsed);
    elapsed += used;
  }
  int running = !stopped && !(pause & SLA_PAUSE(status));
  if (running) { /* project the instants still ahead */
    if (warn_goal && warn_at == SLA_NEVER) warn_at = sla_business_add(cal, now, warn_goal - elapsed);
    if (due_at == SLA_NEVER) due_at = sla_business_add(cal, now, goal - elapsed);
  }

  struct sla_result r = { 0 };
  r.clock = stopped ? SLA_STOPPED : running ? SLA_RUNNING : SLA_PAUSED;
  r.elapsed = elapsed;
  r.remaining = goal - elapsed;
  r.warn_at = warn_at;
  r.due_at = due_at;
  r.breached_at = SLA_NEVER;
  int breached = stopped ? due_at < stop_at : elapsed >= goal;
  if (breached) {
    r.state = SLA_BREACHED;
    r.breached_at = due_at;
  } else if (stopped) {
    r.state = SLA_OK;
    r.due_at = SLA_NEVER;
  } else {
    r.state = warn_goal && elapsed >= warn_goal ? SLA_WARNING : SLA_OK;
  }
  *out = r;
  return 0;
}
