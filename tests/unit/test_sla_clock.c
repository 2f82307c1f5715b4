/* sla_clock: time zones from the system tz database, business calendars (weekends, Turkish holidays, half days,
 * DST in Berlin and New York, year rollover) and SLA clocks with pauses. Every expected instant is exact; they were
 * cross-checked against Python's zoneinfo. Times are parameters: this test is its own fake clock. */
#include <string.h>

#include "check.h"
#include "../../plugins/ticketing/sla_clock.h"

/* UTC instant of a civil time: local minutes of a zone at offset 0 are UTC minutes. */
#define UTC(y, mo, d, h, mi) (sla_local_minute(y, mo, d, h, mi) * 60)
#define H 3600LL

static void show(const char *what, long long t)
{
  if (t == SLA_NEVER) {
    fprintf(stderr, "  %s = never\n", what);
    return;
  }
  long long days = t / 86400 - (t % 86400 < 0), s = t - days * 86400;
  fprintf(stderr, "  %s = %lld (day %lld %02lld:%02lld:%02lld UTC)\n", what, t, days, s / 3600, s / 60 % 60, s % 60);
}
/* Compares two int64 values and, on failure, shows both (as instants when they look like ones). */
#define CHECK_EQ(actual, expected)                                                                                  \
  do {                                                                                                              \
    long long a_ = (long long)(actual), e_ = (long long)(expected);                                               \
    CHECK((actual) == (expected));                                                                                  \
    if (a_ != e_) {                                                                                                 \
      show("actual", a_);                                                                                           \
      show("expected", e_);                                                                                         \
    }                                                                                                               \
  } while (0)

static struct sla_calendar *calendar(const char *zone, const char *hours, const char *holidays)
{
  char err[SLA_ERR_MAX] = "";
  struct sla_tz *tz = zone ? sla_tz_load(zone, err) : NULL;
  if (zone && !tz) {
    fprintf(stderr, "%s\n", err);
    exit(1);
  }
  struct sla_calendar *cal = sla_calendar_new(tz);
  if (sla_calendar_parse_hours(cal, hours, err) || (holidays && sla_calendar_parse_holidays(cal, holidays, err))) {
    fprintf(stderr, "%s\n", err);
    exit(1);
  }
  return cal;
}

/* Turkey's public holidays of 2026 and New Year 2027: arife afternoons are half days (closed from 13:00). */
static const char *TR_HOLIDAYS =
  "2026-01-01            # Yılbaşı\n"
  "2026-03-19 13:00-24:00 # Ramazan Bayramı arifesi\n"
  "2026-03-20..2026-03-22 # Ramazan Bayramı\n"
  "2026-04-23; 2026-05-01; 2026-05-19\n"
  "2026-05-26 13:00-24:00; 2026-05-27..2026-05-30 # Kurban Bayramı\n"
  "2026-07-15; 2026-08-30\n"
  "2026-10-28 13:00-24:00 # Cumhuriyet Bayramı arifesi\n"
  "2026-10-29             # Cumhuriyet Bayramı\n"
  "2027-01-01\n";

static void test_zones(void)
{
  char err[SLA_ERR_MAX];
  struct sla_tz *ist = sla_tz_load("Europe/Istanbul", err);
  struct sla_tz *ber = sla_tz_load("Europe/Berlin", err);
  struct sla_tz *nyc = sla_tz_load("America/New_York", err);
  CHECK(ist && ber && nyc);
  if (!ist || !ber || !nyc) exit(1);
  CHECK(!strcmp(sla_tz_name(ist), "Europe/Istanbul"));

  /* Istanbul: +03 all year since 2016, EET/EEST before (from the transition table), +03 in 2100 (footer) */
  CHECK_EQ(sla_tz_offset(ist, UTC(2026, 6, 1, 0, 0)), 3 * H);
  CHECK_EQ(sla_tz_offset(ist, UTC(2026, 12, 31, 23, 0)), 3 * H);
  CHECK_EQ(sla_tz_offset(ist, UTC(2015, 1, 15, 0, 0)), 2 * H);
  CHECK_EQ(sla_tz_offset(ist, UTC(2015, 7, 15, 0, 0)), 3 * H);
  CHECK_EQ(sla_tz_offset(ist, UTC(2100, 1, 1, 0, 0)), 3 * H);

  /* Berlin: last Sundays of March and October 2026, at 01:00 UTC */
  CHECK_EQ(sla_tz_offset(ber, UTC(2026, 3, 29, 1, 0) - 1), 1 * H);
  CHECK_EQ(sla_tz_offset(ber, UTC(2026, 3, 29, 1, 0)), 2 * H);
  CHECK_EQ(sla_tz_offset(ber, UTC(2026, 10, 25, 1, 0) - 1), 2 * H);
  CHECK_EQ(sla_tz_offset(ber, UTC(2026, 10, 25, 1, 0)), 1 * H);
  /* 2100 is past the table: the footer rule CET-1CEST,M3.5.0,M10.5.0/3 answers */
  CHECK_EQ(sla_tz_offset(ber, UTC(2100, 3, 28, 1, 0) - 1), 1 * H);
  CHECK_EQ(sla_tz_offset(ber, UTC(2100, 3, 28, 1, 0)), 2 * H);
  CHECK_EQ(sla_tz_offset(ber, UTC(2100, 10, 31, 1, 0) - 1), 2 * H);
  CHECK_EQ(sla_tz_offset(ber, UTC(2100, 10, 31, 1, 0)), 1 * H);

  /* New York: second Sunday of March, first of November, 02:00 local */
  CHECK_EQ(sla_tz_offset(nyc, UTC(2026, 3, 8, 7, 0) - 1), -5 * H);
  CHECK_EQ(sla_tz_offset(nyc, UTC(2026, 3, 8, 7, 0)), -4 * H);
  CHECK_EQ(sla_tz_offset(nyc, UTC(2026, 11, 1, 6, 0) - 1), -4 * H);
  CHECK_EQ(sla_tz_offset(nyc, UTC(2026, 11, 1, 6, 0)), -5 * H);

  /* the footer rules alone agree with the files' tables hour by hour over 2008..2037 */
  struct sla_tz *ber_rule = sla_tz_from_posix("CET-1CEST,M3.5.0,M10.5.0/3", err);
  struct sla_tz *nyc_rule = sla_tz_from_posix("EST5EDT,M3.2.0,M11.1.0", err);
  struct sla_tz *nyc_default = sla_tz_from_posix("EST5EDT", err); /* no dates: the US rule */
  CHECK(ber_rule && nyc_rule && nyc_default);
  int mismatches = 0;
  for (int64_t t = UTC(2008, 1, 1, 0, 0); t < UTC(2038, 1, 1, 0, 0); t += H)
    mismatches += sla_tz_offset(ber, t) != sla_tz_offset(ber_rule, t) ||
                  sla_tz_offset(nyc, t) != sla_tz_offset(nyc_rule, t) ||
                  sla_tz_offset(nyc, t) != sla_tz_offset(nyc_default, t);
  CHECK_EQ(mismatches, 0);
  sla_tz_free(ber_rule);
  sla_tz_free(nyc_rule);
  sla_tz_free(nyc_default);

  /* southern hemisphere and a rule with DST all year */
  struct sla_tz *syd = sla_tz_from_posix("AEST-10AEDT,M10.1.0,M4.1.0/3", err);
  CHECK(syd && sla_tz_offset(syd, UTC(2026, 1, 15, 0, 0)) == 11 * H &&
        sla_tz_offset(syd, UTC(2026, 7, 1, 0, 0)) == 10 * H);
  sla_tz_free(syd);
  struct sla_tz *always = sla_tz_from_posix("EST5EDT,0/0,J365/25", err);
  CHECK(always && sla_tz_offset(always, UTC(2026, 1, 1, 0, 0)) == -4 * H &&
        sla_tz_offset(always, UTC(2026, 12, 31, 23, 59)) == -4 * H &&
        sla_tz_offset(always, UTC(2027, 1, 1, 5, 0)) == -4 * H);
  sla_tz_free(always);
  struct sla_tz *fixed = sla_tz_from_posix("<+03>-3", err);
  CHECK(fixed && sla_tz_offset(fixed, UTC(2026, 6, 1, 0, 0)) == 3 * H);
  sla_tz_free(fixed);

  /* wall time to UTC: ordinary, skipped (earliest instant at or after), repeated (first pass) */
  CHECK_EQ(sla_tz_local_to_utc(ist, UTC(2026, 10, 19, 9, 0)), UTC(2026, 10, 19, 6, 0));
  CHECK_EQ(sla_tz_local_to_utc(ber, UTC(2026, 7, 1, 12, 0)), UTC(2026, 7, 1, 10, 0));
  CHECK_EQ(sla_tz_local_to_utc(ber, UTC(2026, 3, 29, 2, 30)), UTC(2026, 3, 29, 1, 0));
  CHECK_EQ(sla_tz_local_to_utc(ber, UTC(2026, 3, 29, 3, 0)), UTC(2026, 3, 29, 1, 0));
  CHECK_EQ(sla_tz_local_to_utc(ber, UTC(2026, 10, 25, 2, 30)), UTC(2026, 10, 25, 0, 30));
  CHECK_EQ(sla_tz_local_to_utc(ber, UTC(2026, 10, 25, 3, 0)), UTC(2026, 10, 25, 2, 0));
  CHECK_EQ(sla_tz_local_to_utc(nyc, UTC(2026, 3, 8, 2, 30)), UTC(2026, 3, 8, 7, 0));
  CHECK_EQ(sla_tz_local_to_utc(nyc, UTC(2026, 11, 1, 1, 30)), UTC(2026, 11, 1, 5, 30));

  /* refusals */
  CHECK(!sla_tz_load("../../etc/passwd", err));
  CHECK(!sla_tz_load("/etc/localtime", err));
  CHECK(!sla_tz_load("Europe/..", err));
  CHECK(!sla_tz_load("", err));
  CHECK(!sla_tz_load("Nowhere/Atlantis", err) && strstr(err, "Nowhere/Atlantis"));
  CHECK(!sla_tz_from_tzif("TZif2 but not really", 20, "junk", err));
  CHECK(!sla_tz_from_posix("CET-1CEST,M3.5.0", err));
  CHECK(!sla_tz_from_posix("CET-1CEST,M13.5.0,M10.5.0", err));
  CHECK(!sla_tz_from_posix("X-1", err));
  FILE *right = fopen("/usr/share/zoneinfo/right/UTC", "rb");
  if (right) { /* leap-second zones count TAI-like seconds: refused rather than silently wrong */
    fclose(right);
    CHECK(!sla_tz_load("right/UTC", err) && strstr(err, "leap"));
  }
  struct sla_tz *utc = sla_tz_load("UTC", err);
  CHECK(utc && sla_tz_offset(utc, UTC(2026, 6, 1, 0, 0)) == 0);
  sla_tz_free(utc);

  sla_tz_free(ist);
  sla_tz_free(ber);
  sla_tz_free(nyc);
}

static void test_parsers(void)
{
  char err[SLA_ERR_MAX];
  /* UTC calendars: local days are UTC days. 2026-10-19 is a Monday. */
  struct sla_calendar *cal = calendar(NULL, "mon-fri 09:00-12:30, 13:30-18:00; sat 10:00-14:00", NULL);
  CHECK_EQ(sla_business_seconds(cal, UTC(2026, 10, 19, 0, 0), UTC(2026, 10, 20, 0, 0)), 8 * H);
  CHECK_EQ(sla_business_seconds(cal, UTC(2026, 10, 24, 0, 0), UTC(2026, 10, 25, 0, 0)), 4 * H);
  CHECK_EQ(sla_business_seconds(cal, UTC(2026, 10, 25, 0, 0), UTC(2026, 10, 26, 0, 0)), 0);
  CHECK_EQ(sla_business_seconds(cal, UTC(2026, 10, 19, 0, 0), UTC(2026, 10, 26, 0, 0)), 44 * H);
  CHECK(!sla_is_open(cal, UTC(2026, 10, 19, 13, 0)));               /* lunch */
  CHECK_EQ(sla_next_open(cal, UTC(2026, 10, 19, 12, 45)), UTC(2026, 10, 19, 13, 30));
  CHECK_EQ(sla_next_close(cal, UTC(2026, 10, 19, 12, 45)), UTC(2026, 10, 19, 18, 0));
  sla_calendar_free(cal);

  /* Turkish day names read the same: pzt sal çar (car, Çar) per cum cmt paz, and "her gün" for daily. */
  cal = calendar(NULL, "pzt-cum 09:00-12:30, 13:30-18:00; Cmt 10:00-14:00", NULL);
  CHECK_EQ(sla_business_seconds(cal, UTC(2026, 10, 19, 0, 0), UTC(2026, 10, 26, 0, 0)), 44 * H);
  CHECK_EQ(sla_business_seconds(cal, UTC(2026, 10, 25, 0, 0), UTC(2026, 10, 26, 0, 0)), 0);
  sla_calendar_free(cal);
  cal = calendar(NULL, "\xc3\x87""ar 09:00-10:00; car 10:00-11:00; paz 09:00-10:00", NULL);
  CHECK_EQ(sla_business_seconds(cal, UTC(2026, 10, 21, 0, 0), UTC(2026, 10, 22, 0, 0)), 2 * H);   /* Wednesday */
  CHECK_EQ(sla_business_seconds(cal, UTC(2026, 10, 25, 0, 0), UTC(2026, 10, 26, 0, 0)), H);       /* Sunday */
  sla_calendar_free(cal);
  cal = calendar(NULL, "her g\xc3\xbcn 10:00-11:00", NULL);
  CHECK_EQ(sla_business_seconds(cal, UTC(2026, 10, 19, 0, 0), UTC(2026, 10, 26, 0, 0)), 7 * H);
  sla_calendar_free(cal);

  cal = calendar(NULL, "fri-mon 10:00-11:00\nWED,Thu 09:00-10:00", NULL); /* wrapping range, case, newline */
  for (int d = 19; d <= 25; d++) /* Mon 19 .. Sun 25: only Tuesday is closed */
    CHECK_EQ(sla_business_seconds(cal, UTC(2026, 10, d, 0, 0), UTC(2026, 10, d + 1, 0, 0)), d == 20 ? 0 : H);
  sla_calendar_free(cal);

  /* crossing midnight is split: Friday 22:00 to Saturday 02:00 */
  cal = calendar(NULL, "fri 22:00-02:00", NULL);
  CHECK(sla_is_open(cal, UTC(2026, 10, 24, 1, 0)) && !sla_is_open(cal, UTC(2026, 10, 24, 2, 0)));
  CHECK_EQ(sla_next_close(cal, UTC(2026, 10, 23, 22, 0)), UTC(2026, 10, 24, 2, 0)); /* followed across midnight */
  CHECK_EQ(sla_business_add(cal, UTC(2026, 10, 23, 23, 0), 2 * H), UTC(2026, 10, 24, 1, 0));
  sla_calendar_free(cal);

  cal = calendar(NULL, "daily 00:00-24:00", NULL);
  CHECK_EQ(sla_business_seconds(cal, UTC(2026, 10, 19, 0, 0), UTC(2026, 10, 26, 0, 0)), 7 * 24 * H);
  CHECK_EQ(sla_next_close(cal, UTC(2026, 10, 19, 0, 0)), SLA_NEVER);
  sla_calendar_free(cal);

  cal = sla_calendar_new(NULL);
  const char *bad_hours[] = { "xyz 09:00-18:00", "mon 09:00", "mon", "mon 25:00-26:00", "mon 09:00-09:00",
                              "mon 09:60-10:00", "mon-xyz 09:00-10:00", "mon 09:00-10:00x", "monday 09:00-10:00",
                              "pazartesi 09:00-10:00", "\xc3\xa7""ars 09:00-10:00",
                              "mon 1:00-2:00 3:00-4:00 5:00-6:00 7:00-8:00 9:00-10:00 11:00-12:00 13:00-14:00 "
                              "15:00-16:00 17:00-18:00" };
  for (size_t i = 0; i < sizeof bad_hours / sizeof *bad_hours; i++) {
    err[0] = 0;
    CHECK(sla_calendar_parse_hours(cal, bad_hours[i], err) == -1 && err[0]);
  }
  const char *bad_days[] = { "2026-02-30", "2026-13-01", "26-01-01", "2026-03-22..2026-03-20", "2026-10-28 13:00",
                             "2026-10-28 13:00-13:00", "2026-10-28 lunch", "2026-01-01..2028-01-01 13:00-14:00" };
  for (size_t i = 0; i < sizeof bad_days / sizeof *bad_days; i++) {
    err[0] = 0;
    CHECK(sla_calendar_parse_holidays(cal, bad_days[i], err) == -1 && err[0]);
  }
  sla_calendar_free(cal); /* a failed parse may leave what it added before the error: start afresh */
  cal = sla_calendar_new(NULL);
  CHECK(sla_calendar_add_hours(cal, SLA_MON, 540, 540) == -1); /* zero-length: refused, not "all day" */
  CHECK(sla_calendar_add_hours(cal, 7, 540, 600) == -1);
  CHECK(sla_calendar_add_hours(cal, SLA_MON, 540, 1441) == -1);
  CHECK(sla_calendar_add_closure(cal, 100, 100) == -1);
  CHECK(sla_local_minute(2026, 2, 29, 0, 0) == INT64_MIN && sla_local_minute(2028, 2, 29, 0, 0) != INT64_MIN);
  CHECK(sla_local_minute(2026, 1, 1, 24, 1) == INT64_MIN);
  /* overlapping and touching ranges merge; a day holds at most SLA_DAY_MAX separate ranges */
  CHECK(!sla_calendar_add_hours(cal, SLA_MON, 540, 720) && !sla_calendar_add_hours(cal, SLA_MON, 600, 780) &&
        !sla_calendar_add_hours(cal, SLA_MON, 780, 840));
  CHECK_EQ(sla_business_seconds(cal, UTC(2026, 10, 19, 0, 0), UTC(2026, 10, 20, 0, 0)), 5 * H);
  CHECK(!sla_calendar_add_closure(cal, sla_local_minute(2026, 10, 19, 9, 0), sla_local_minute(2026, 10, 19, 10, 0)) &&
        !sla_calendar_add_closure(cal, sla_local_minute(2026, 10, 19, 9, 30), sla_local_minute(2026, 10, 19, 11, 0)));
  CHECK_EQ(sla_business_seconds(cal, UTC(2026, 10, 19, 0, 0), UTC(2026, 10, 20, 0, 0)), 3 * H);
  sla_calendar_free(cal);
}

/* Europe/Istanbul, Mon-Fri 09:00-18:00 local = 06:00-15:00 UTC. */
static void test_istanbul(void)
{
  struct sla_calendar *cal = calendar("Europe/Istanbul", "mon-fri 09:00-18:00", TR_HOLIDAYS);

  /* a Friday-evening ticket (Fri 16 Oct 17:00) with a 4 h target: 1 h on Friday, 3 h on Monday */
  int64_t fri = UTC(2026, 10, 16, 14, 0);
  CHECK_EQ(sla_business_add(cal, fri, 4 * H), UTC(2026, 10, 19, 9, 0));
  CHECK_EQ(sla_business_seconds(cal, fri, UTC(2026, 10, 19, 9, 0)), 4 * H);
  CHECK_EQ(sla_business_seconds(cal, fri, UTC(2026, 10, 19, 5, 59)), 1 * H); /* nothing over the weekend */
  CHECK(sla_is_open(cal, UTC(2026, 10, 16, 15, 0) - 1));
  CHECK(!sla_is_open(cal, UTC(2026, 10, 16, 15, 0))); /* [open, close) */
  CHECK(!sla_is_open(cal, UTC(2026, 10, 17, 9, 0)));
  CHECK(sla_is_open(cal, UTC(2026, 10, 19, 6, 0)));
  CHECK_EQ(sla_next_open(cal, UTC(2026, 10, 16, 15, 0)), UTC(2026, 10, 19, 6, 0));
  CHECK_EQ(sla_next_open(cal, fri), fri);
  CHECK_EQ(sla_next_close(cal, fri), UTC(2026, 10, 16, 15, 0));
  CHECK_EQ(sla_next_close(cal, UTC(2026, 10, 17, 9, 0)), UTC(2026, 10, 19, 15, 0));

  /* a target that ends exactly at closing time is due at 18:00, not at the next opening */
  CHECK_EQ(sla_business_add(cal, UTC(2026, 10, 19, 6, 0), 9 * H), UTC(2026, 10, 19, 15, 0));
  CHECK_EQ(sla_business_add(cal, UTC(2026, 10, 19, 7, 0), 8 * H), UTC(2026, 10, 19, 15, 0));
  CHECK_EQ(sla_business_add(cal, UTC(2026, 10, 16, 13, 0), 2 * H), UTC(2026, 10, 16, 15, 0));
  CHECK_EQ(sla_business_add(cal, UTC(2026, 10, 16, 13, 0), 2 * H + 1), UTC(2026, 10, 19, 6, 0) + 1);
  /* starting before opening counts from the opening; zero seconds is the start itself */
  CHECK_EQ(sla_business_add(cal, UTC(2026, 10, 19, 3, 0), 1 * H), UTC(2026, 10, 19, 7, 0));
  CHECK_EQ(sla_business_add(cal, UTC(2026, 10, 17, 3, 0), 0), UTC(2026, 10, 17, 3, 0));
  CHECK_EQ(sla_business_seconds(cal, UTC(2026, 10, 19, 9, 0), UTC(2026, 10, 19, 9, 0)), 0);
  CHECK_EQ(sla_business_seconds(cal, UTC(2026, 10, 19, 9, 0), UTC(2026, 10, 19, 8, 0)), 0);

  /* Republic Day: the 28th closes at 13:00, the 29th (Thursday) is closed. Wed 11:00 + 8 h = 2 h + Fri 6 h. */
  CHECK_EQ(sla_business_add(cal, UTC(2026, 10, 28, 8, 0), 8 * H), UTC(2026, 10, 30, 12, 0));
  CHECK_EQ(sla_business_seconds(cal, UTC(2026, 10, 25, 21, 0), UTC(2026, 11, 1, 21, 0)), (9 + 9 + 4 + 0 + 9) * H);
  CHECK(sla_is_open(cal, UTC(2026, 10, 28, 10, 0) - 1) && !sla_is_open(cal, UTC(2026, 10, 28, 10, 0)));
  CHECK_EQ(sla_next_close(cal, UTC(2026, 10, 28, 7, 0)), UTC(2026, 10, 28, 10, 0));
  CHECK_EQ(sla_next_open(cal, UTC(2026, 10, 28, 10, 0)), UTC(2026, 10, 30, 6, 0));
  /* a day that closures empty entirely has zero length */
  CHECK_EQ(sla_business_seconds(cal, UTC(2026, 10, 28, 21, 0), UTC(2026, 10, 29, 21, 0)), 0);

  /* Ramazan Bayramı: arife Thursday 19 March closes at 13:00, Fri 20 .. Sun 22 closed. 10:00 + 9 h = 3 h + Mon 6 h */
  CHECK_EQ(sla_business_add(cal, UTC(2026, 3, 19, 7, 0), 9 * H), UTC(2026, 3, 23, 12, 0));
  CHECK_EQ(sla_business_seconds(cal, UTC(2026, 3, 19, 7, 0), UTC(2026, 3, 23, 12, 0)), 9 * H);
  /* Kurban Bayramı covers Wed 27 .. Sat 30 May: Tue 26 at 12:00 + 2 h lands on Mon 1 June 10:00 */
  CHECK_EQ(sla_business_add(cal, UTC(2026, 5, 26, 9, 0), 2 * H), UTC(2026, 6, 1, 7, 0));

  /* year rollover: Thu 31 Dec 16:00 + 4 h; 1 January is a holiday, then the weekend: Mon 4 Jan 11:00 */
  CHECK_EQ(sla_business_add(cal, UTC(2026, 12, 31, 13, 0), 4 * H), UTC(2027, 1, 4, 8, 0));
  sla_calendar_free(cal);
  /* with Saturday hours the same ticket is due on Saturday 2 January at 12:00 */
  cal = calendar("Europe/Istanbul", "mon-fri 09:00-18:00; sat 10:00-14:00", TR_HOLIDAYS);
  CHECK_EQ(sla_business_add(cal, UTC(2026, 12, 31, 13, 0), 4 * H), UTC(2027, 1, 2, 9, 0));
  CHECK_EQ(sla_business_seconds(cal, UTC(2026, 12, 31, 13, 0), UTC(2027, 1, 2, 9, 0)), 4 * H);
  CHECK_EQ(sla_next_open(cal, UTC(2026, 12, 31, 15, 0)), UTC(2027, 1, 2, 7, 0));
  sla_calendar_free(cal);

  /* no opening hours at all, or closed for good: never */
  cal = sla_calendar_new(NULL);
  CHECK_EQ(sla_business_add(cal, UTC(2026, 1, 1, 0, 0), 1), SLA_NEVER);
  CHECK_EQ(sla_next_open(cal, UTC(2026, 1, 1, 0, 0)), SLA_NEVER);
  CHECK_EQ(sla_next_close(cal, UTC(2026, 1, 1, 0, 0)), SLA_NEVER);
  CHECK_EQ(sla_business_seconds(cal, UTC(2026, 1, 1, 0, 0), UTC(2027, 1, 1, 0, 0)), 0);
  CHECK(!sla_is_open(cal, UTC(2026, 1, 1, 12, 0)));
  sla_calendar_free(cal);
  cal = calendar("Europe/Istanbul", "mon-fri 09:00-18:00", "2026-01-01..2026-12-31");
  CHECK_EQ(sla_next_open(cal, UTC(2026, 1, 1, 0, 0)), UTC(2027, 1, 1, 6, 0)); /* a year's closure jumped at once */
  CHECK(!sla_calendar_add_closure(cal, sla_local_minute(2027, 1, 1, 0, 0), sla_local_minute(2040, 1, 1, 0, 0)));
  CHECK_EQ(sla_next_open(cal, UTC(2026, 1, 1, 0, 0)), UTC(2040, 1, 2, 6, 0)); /* 1 Jan 2040 is a Sunday */
  CHECK(!sla_calendar_add_closure(cal, sla_local_minute(2040, 1, 1, 0, 0), sla_local_minute(9999, 12, 31, 24, 0)));
  CHECK_EQ(sla_business_add(cal, UTC(2026, 1, 1, 0, 0), 1), SLA_NEVER); /* closed until the end of time */
  CHECK_EQ(sla_next_open(cal, UTC(2026, 1, 1, 0, 0)), SLA_NEVER);
  sla_calendar_free(cal);

  /* NULL calendar: always open */
  CHECK_EQ(sla_business_add(NULL, UTC(2026, 10, 17, 3, 0), 90), UTC(2026, 10, 17, 3, 0) + 90);
  CHECK_EQ(sla_business_seconds(NULL, UTC(2026, 10, 17, 0, 0), UTC(2026, 10, 18, 0, 0)), 24 * H);
  CHECK(sla_is_open(NULL, 0));
}

static void test_dst(void)
{
  /* Berlin, Mon-Fri 09-18: the weekend changes the offset. Fri 17:00 CET + 2 h = Mon 10:00 CEST. */
  struct sla_calendar *cal = calendar("Europe/Berlin", "mon-fri 09:00-18:00", NULL);
  CHECK_EQ(sla_business_add(cal, UTC(2026, 3, 27, 16, 0), 2 * H), UTC(2026, 3, 30, 8, 0));
  CHECK_EQ(sla_business_seconds(cal, UTC(2026, 3, 27, 16, 0), UTC(2026, 3, 30, 8, 0)), 2 * H);
  CHECK_EQ(sla_business_add(cal, UTC(2026, 10, 23, 15, 0), 2 * H), UTC(2026, 10, 26, 9, 0));
  CHECK_EQ(sla_next_open(cal, UTC(2026, 10, 23, 16, 0)), UTC(2026, 10, 26, 8, 0));
  sla_calendar_free(cal);

  /* Sunday hours around the change: 01:00-04:00 lasts 2 h on 29 March and 4 h on 25 October; the skipped hour
   * 02:00-03:00 is empty in March and covers both passes (2 h) in October; the whole day lasts 23 h and 25 h. */
  cal = calendar("Europe/Berlin", "sun 01:00-04:00", NULL);
  CHECK_EQ(sla_business_seconds(cal, UTC(2026, 3, 28, 0, 0), UTC(2026, 3, 30, 0, 0)), 2 * H);
  CHECK_EQ(sla_business_seconds(cal, UTC(2026, 3, 21, 0, 0), UTC(2026, 3, 23, 0, 0)), 3 * H);
  CHECK_EQ(sla_business_seconds(cal, UTC(2026, 10, 24, 0, 0), UTC(2026, 10, 26, 0, 0)), 4 * H);
  CHECK_EQ(sla_next_close(cal, UTC(2026, 3, 29, 0, 0)), UTC(2026, 3, 29, 2, 0));
  CHECK_EQ(sla_next_close(cal, UTC(2026, 10, 25, 0, 0)), UTC(2026, 10, 25, 3, 0));
  sla_calendar_free(cal);
  cal = calendar("Europe/Berlin", "sun 02:00-03:00", NULL);
  CHECK_EQ(sla_business_seconds(cal, UTC(2026, 3, 28, 0, 0), UTC(2026, 3, 30, 0, 0)), 0); /* zero-length day */
  CHECK_EQ(sla_business_add(cal, UTC(2026, 3, 28, 0, 0), 1), UTC(2026, 4, 5, 0, 0) + 1); /* next Sunday, 02:00 CEST */
  CHECK_EQ(sla_business_seconds(cal, UTC(2026, 10, 24, 0, 0), UTC(2026, 10, 26, 0, 0)), 2 * H);
  CHECK(sla_is_open(cal, UTC(2026, 10, 25, 1, 30))); /* the second 02:30 */
  sla_calendar_free(cal);
  cal = calendar("Europe/Berlin", "sun 00:00-24:00", NULL);
  CHECK_EQ(sla_business_seconds(cal, UTC(2026, 3, 23, 0, 0), UTC(2026, 3, 31, 0, 0)), 23 * H);
  CHECK_EQ(sla_business_seconds(cal, UTC(2026, 10, 19, 0, 0), UTC(2026, 10, 27, 0, 0)), 25 * H);
  CHECK_EQ(sla_business_add(cal, UTC(2026, 3, 28, 12, 0), 23 * H), UTC(2026, 3, 29, 22, 0)); /* Monday 00:00 CEST */
  sla_calendar_free(cal);

  /* New York, Mon-Fri 09-17 across both changes */
  cal = calendar("America/New_York", "mon-fri 09:00-17:00", NULL);
  CHECK_EQ(sla_business_add(cal, UTC(2026, 3, 6, 21, 0), 2 * H), UTC(2026, 3, 9, 14, 0));
  CHECK_EQ(sla_business_add(cal, UTC(2026, 10, 30, 20, 0), 2 * H), UTC(2026, 11, 2, 15, 0));
  CHECK_EQ(sla_business_seconds(cal, UTC(2026, 10, 30, 20, 0), UTC(2026, 11, 2, 15, 0)), 2 * H);
  sla_calendar_free(cal);
  /* a night desk Saturday 22:00 to Sunday 04:00: 5 h in March (02:00-03:00 skipped), 7 h in November */
  cal = calendar("America/New_York", "sat 22:00-04:00", NULL);
  CHECK_EQ(sla_business_seconds(cal, UTC(2026, 3, 7, 12, 0), UTC(2026, 3, 9, 0, 0)), 5 * H);
  CHECK_EQ(sla_business_seconds(cal, UTC(2026, 10, 31, 12, 0), UTC(2026, 11, 2, 0, 0)), 7 * H);
  CHECK_EQ(sla_next_close(cal, UTC(2026, 3, 8, 4, 0)), UTC(2026, 3, 8, 8, 0));          /* 04:00 EDT */
  CHECK_EQ(sla_next_close(cal, UTC(2026, 11, 1, 4, 0)), UTC(2026, 11, 1, 9, 0));       /* 04:00 EST */
  CHECK_EQ(sla_business_add(cal, UTC(2026, 3, 8, 3, 0), 4 * H + 30 * 60), UTC(2026, 3, 8, 7, 30));
  sla_calendar_free(cal);
}

static struct sla_result eval(const struct sla_calendar *cal, const struct sla_event *ev, size_t n, int64_t stop,
                              int64_t now, const struct sla_target *target)
{
  struct sla_result r;
  memset(&r, 0xff, sizeof r);
  CHECK(sla_evaluate(cal, ev, n, stop, now, target, &r) == 0);
  return r;
}

static void test_sla(void)
{
  struct sla_calendar *cal = calendar("Europe/Istanbul", "mon-fri 09:00-18:00", TR_HOLIDAYS);
  const struct sla_target eight = { 8 * H, 800, SLA_PAUSE_DEFAULT };
  struct sla_result r;

  /* created Mon 19 Oct 09:00, opened 09:30, pending 11:00 .. Tue 10:00: 2 h used, 6 h left from Tue 10:00 */
  const struct sla_event t1[] = {
    { UTC(2026, 10, 19, 6, 0), SLA_NEW },     { UTC(2026, 10, 19, 6, 30), SLA_OPEN },
    { UTC(2026, 10, 19, 8, 0), SLA_PENDING }, { UTC(2026, 10, 20, 7, 0), SLA_OPEN },
  };
  r = eval(cal, t1, 4, SLA_NEVER, UTC(2026, 10, 19, 12, 0), &eight); /* Mon 15:00, pending */
  CHECK(r.state == SLA_OK && r.clock == SLA_PAUSED);
  CHECK_EQ(r.elapsed, 2 * H);
  CHECK_EQ(r.remaining, 6 * H);
  CHECK_EQ(r.due_at, SLA_NEVER);
  CHECK_EQ(r.warn_at, SLA_NEVER);
  CHECK_EQ(r.breached_at, SLA_NEVER);
  r = eval(cal, t1, 4, SLA_NEVER, UTC(2026, 10, 20, 9, 0), &eight); /* Tue 12:00 */
  CHECK(r.state == SLA_OK && r.clock == SLA_RUNNING);
  CHECK_EQ(r.elapsed, 4 * H);
  CHECK_EQ(r.due_at, UTC(2026, 10, 20, 13, 0));              /* Tue 16:00 */
  CHECK_EQ(r.warn_at, UTC(2026, 10, 20, 11, 24));            /* 6.4 h used: Tue 14:24 */
  r = eval(cal, t1, 4, SLA_NEVER, UTC(2026, 10, 20, 11, 30), &eight);
  CHECK(r.state == SLA_WARNING && r.elapsed == 2 * H + 270 * 60 && r.due_at == UTC(2026, 10, 20, 13, 0));
  r = eval(cal, t1, 4, SLA_NEVER, UTC(2026, 10, 20, 13, 0) - 1, &eight);
  CHECK(r.state == SLA_WARNING && r.remaining == 1);
  r = eval(cal, t1, 4, SLA_NEVER, UTC(2026, 10, 20, 13, 0), &eight); /* the breach instant itself */
  CHECK(r.state == SLA_BREACHED && r.remaining == 0);
  CHECK_EQ(r.breached_at, UTC(2026, 10, 20, 13, 0));
  r = eval(cal, t1, 4, SLA_NEVER, UTC(2026, 10, 21, 7, 0), &eight); /* Wed 10:00 */
  CHECK(r.state == SLA_BREACHED && r.clock == SLA_RUNNING);
  CHECK_EQ(r.elapsed, 11 * H);
  CHECK_EQ(r.remaining, -3 * H);
  CHECK_EQ(r.breached_at, UTC(2026, 10, 20, 13, 0));
  CHECK_EQ(r.warn_at, UTC(2026, 10, 20, 11, 24));
  /* a stop at or before the due instant meets the target; one second later does not */
  r = eval(cal, t1, 4, UTC(2026, 10, 20, 13, 0), UTC(2026, 10, 21, 7, 0), &eight);
  CHECK(r.state == SLA_OK && r.clock == SLA_STOPPED && r.elapsed == 8 * H && r.due_at == SLA_NEVER);
  r = eval(cal, t1, 4, UTC(2026, 10, 20, 13, 0) + 1, UTC(2026, 10, 21, 7, 0), &eight);
  CHECK(r.state == SLA_BREACHED && r.clock == SLA_STOPPED && r.breached_at == UTC(2026, 10, 20, 13, 0));
  /* a stop in the future has not happened yet */
  r = eval(cal, t1, 4, UTC(2026, 10, 20, 8, 0), UTC(2026, 10, 20, 7, 30), &eight);
  CHECK(r.clock == SLA_RUNNING && r.elapsed == 2 * H + 30 * 60);
  /* events after now are ignored: at Mon 10:00 the ticket is open, 7 h are left: due Mon 17:00 */
  r = eval(cal, t1, 4, SLA_NEVER, UTC(2026, 10, 19, 7, 0), &eight);
  CHECK(r.clock == SLA_RUNNING && r.elapsed == H && r.due_at == UTC(2026, 10, 19, 14, 0));

  /* first response: same timeline, 1 h target, public reply at 09:45 */
  const struct sla_target one = { 1 * H, 0, SLA_PAUSE_DEFAULT };
  r = eval(cal, t1, 4, UTC(2026, 10, 19, 6, 45), UTC(2026, 10, 21, 7, 0), &one);
  CHECK(r.state == SLA_OK && r.clock == SLA_STOPPED && r.elapsed == 45 * 60 && r.remaining == 15 * 60);
  CHECK_EQ(r.warn_at, SLA_NEVER); /* warnings off */

  /* due exactly at closing time (Mon 10:00 + 8 h = Mon 18:00): a reply at 18:00 meets it; a reply on Tuesday
   * at 09:00 has used no more business time but comes after the due instant: breached at Monday 18:00 */
  const struct sla_event t2[] = { { UTC(2026, 10, 19, 7, 0), SLA_OPEN } };
  r = eval(cal, t2, 1, UTC(2026, 10, 19, 15, 0), UTC(2026, 10, 20, 6, 0), &eight);
  CHECK(r.state == SLA_OK && r.elapsed == 8 * H);
  r = eval(cal, t2, 1, UTC(2026, 10, 20, 6, 0), UTC(2026, 10, 20, 6, 0), &eight);
  CHECK(r.state == SLA_BREACHED && r.elapsed == 8 * H && r.remaining == 0);
  CHECK_EQ(r.breached_at, UTC(2026, 10, 19, 15, 0));
  r = eval(cal, t2, 1, SLA_NEVER, UTC(2026, 10, 19, 17, 0), &eight); /* Monday evening, no reply */
  CHECK(r.state == SLA_BREACHED && r.breached_at == UTC(2026, 10, 19, 15, 0));

  /* Friday-evening ticket, pending from 17:30 until Monday 11:00: 30 min + Mon 11:00..14:30 for a 4 h target */
  const struct sla_target four = { 4 * H, 750, SLA_PAUSE_DEFAULT };
  const struct sla_event t3[] = {
    { UTC(2026, 10, 23, 14, 0), SLA_NEW },
    { UTC(2026, 10, 23, 14, 30), SLA_PENDING },
    { UTC(2026, 10, 26, 8, 0), SLA_OPEN },
  };
  r = eval(cal, t3, 3, SLA_NEVER, UTC(2026, 10, 26, 8, 0), &four);
  CHECK(r.clock == SLA_RUNNING && r.elapsed == 30 * 60);
  CHECK_EQ(r.due_at, UTC(2026, 10, 26, 11, 30));
  CHECK_EQ(r.warn_at, UTC(2026, 10, 26, 10, 30)); /* 3 h used: Mon 13:30 */
  /* the same ticket left open over the weekend: due Monday 12:00 */
  r = eval(cal, t3, 1, SLA_NEVER, UTC(2026, 10, 24, 8, 0), &four);
  CHECK(r.clock == SLA_RUNNING && r.elapsed == H && r.due_at == UTC(2026, 10, 26, 9, 0));

  /* on_hold: runs by default, pauses when the policy says so */
  const struct sla_event t4[] = {
    { UTC(2026, 10, 19, 6, 0), SLA_OPEN },
    { UTC(2026, 10, 19, 7, 0), SLA_ON_HOLD },
    { UTC(2026, 10, 20, 6, 0), SLA_OPEN },
  };
  const struct sla_target hold = { 16 * H, 800, SLA_PAUSE(SLA_PENDING) | SLA_PAUSE(SLA_ON_HOLD) };
  const struct sla_target sixteen = { 16 * H, 800, SLA_PAUSE_DEFAULT };
  CHECK_EQ(eval(cal, t4, 3, SLA_NEVER, UTC(2026, 10, 20, 7, 0), &sixteen).elapsed, 10 * H);
  r = eval(cal, t4, 3, SLA_NEVER, UTC(2026, 10, 20, 7, 0), &hold);
  CHECK_EQ(r.elapsed, 2 * H);
  CHECK_EQ(r.due_at, UTC(2026, 10, 21, 12, 0)); /* 14 h left from Tue 10:00: Tue 8 h, Wed 6 h → Wed 15:00 */
  r = eval(cal, t4, 3, SLA_NEVER, UTC(2026, 10, 19, 12, 0), &hold);
  CHECK(r.clock == SLA_PAUSED && r.due_at == SLA_NEVER);

  /* solved stops the clock; reopening resumes from the time already used */
  const struct sla_event t5[] = {
    { UTC(2026, 10, 19, 6, 0), SLA_NEW },
    { UTC(2026, 10, 19, 9, 0), SLA_SOLVED },
    { UTC(2026, 10, 21, 6, 0), SLA_OPEN },
  };
  r = eval(cal, t5, 3, SLA_NEVER, UTC(2026, 10, 20, 6, 0), &eight);
  CHECK(r.state == SLA_OK && r.clock == SLA_PAUSED && r.elapsed == 3 * H && r.due_at == SLA_NEVER);
  r = eval(cal, t5, 3, SLA_NEVER, UTC(2026, 10, 21, 8, 0), &eight);
  CHECK(r.clock == SLA_RUNNING && r.elapsed == 5 * H && r.due_at == UTC(2026, 10, 21, 11, 0));
  /* a change at the same instant as the previous one wins */
  const struct sla_event t6[] = {
    { UTC(2026, 10, 19, 6, 0), SLA_NEW }, { UTC(2026, 10, 19, 6, 0), SLA_PENDING },
  };
  r = eval(cal, t6, 2, SLA_NEVER, UTC(2026, 10, 19, 12, 0), &eight);
  CHECK(r.clock == SLA_PAUSED && r.elapsed == 0);

  /* a 24/7 target (no calendar) over the holiday */
  r = eval(NULL, t2, 1, SLA_NEVER, UTC(2026, 10, 19, 8, 0), &eight);
  CHECK(r.elapsed == H && r.due_at == UTC(2026, 10, 19, 15, 0) && r.warn_at == UTC(2026, 10, 19, 13, 24));

  /* bad input */
  const struct sla_event unordered[] = { { 100, SLA_OPEN }, { 50, SLA_PENDING } };
  const struct sla_event unknown[] = { { 100, (enum sla_status)42 } };
  const struct sla_target zero = { 0, 800, 0 }, too_much = { H, 1001, 0 };
  CHECK(sla_evaluate(cal, unordered, 2, SLA_NEVER, 200, &eight, &r) == -1);
  CHECK(sla_evaluate(cal, unknown, 1, SLA_NEVER, 200, &eight, &r) == -1);
  CHECK(sla_evaluate(cal, t1, 0, SLA_NEVER, 200, &eight, &r) == -1);
  CHECK(sla_evaluate(cal, t1, 4, SLA_NEVER, 200, &zero, &r) == -1);
  CHECK(sla_evaluate(cal, t1, 4, SLA_NEVER, 200, &too_much, &r) == -1);
  /* now before the creation is the creation */
  r = eval(cal, t1, 4, SLA_NEVER, 0, &eight);
  CHECK(r.clock == SLA_RUNNING && r.elapsed == 0 && r.due_at == UTC(2026, 10, 19, 14, 0));
  sla_calendar_free(cal);
}

int main(void)
{
  test_zones();
  test_parsers();
  test_istanbul();
  test_dst();
  test_sla();
  CHECK_DONE();
}
