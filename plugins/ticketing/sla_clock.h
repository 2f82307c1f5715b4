/* sla_clock: business time for SLAs — time zones, opening hours, holidays, and SLA clocks with pauses.
 *
 * Pure and deterministic: every instant is a parameter (int64_t seconds since the Unix epoch, UTC); nothing here
 * reads the system clock, the TZ environment variable, or calls tzset/localtime/mktime. Time zones are read from
 * the system tz database (TZif files, RFC 8536) by a small parser of our own. Built objects are immutable once
 * filled, so one calendar may be queried from any number of threads at once. libc only.
 *
 * Three layers:
 *   sla_tz_*        a time zone: UTC offset at an instant, local wall time to UTC.
 *   sla_calendar_*  a time zone + weekly opening hours + closures (holidays, half days): business seconds between
 *                   two instants, the instant N business seconds after another, open/closed, next opening/closing.
 *   sla_evaluate    an SLA target over a ticket's status timeline: elapsed, remaining, warning and due instants,
 *                   ok / warning / breached. First response and resolution are two calls with different stops.
 *
 * Wall time and DST. Opening hours and closures are wall-clock times in the calendar's zone. A wall time maps to the
 * EARLIEST instant at which the wall clock shows that time or later. So on a spring-forward night an interval
 * inside the gap (02:00-03:00 in Berlin on 2026-03-29) is empty, "00:00-24:00" lasts 23 h, and an opening at 02:30
 * opens at 03:00 (the first instant the clock reads 02:30 or later); on a fall-back night "00:00-24:00" lasts 25 h
 * and "02:00-03:00" covers both passes of the repeated hour (2 h). Business time is always real elapsed seconds.
 */
#ifndef DESTEK_SLA_CLOCK_H
#define DESTEK_SLA_CLOCK_H
#include <stddef.h>
#include <stdint.h>

/* "No such instant": the answer when the clock never gets there (no opening hours, closed until the year 10000,
 * an SLA clock that is paused, ...). Also accepted as "none" where an instant is optional. Instants outside the
 * years 1..9999 are clamped to them. */
#define SLA_NEVER INT64_MAX
/* sla_next_close treats a business stretch longer than this many days as never closing (a 24/7 calendar). */
#define SLA_SCAN_DAYS 3660
/* Room for an error message written by the *_load / *_parse functions. */
#define SLA_ERR_MAX 160

/* ---- Time zones ---------------------------------------------------------------------------------------------- */

struct sla_tz;

/* Loads the IANA zone `name` ("Europe/Istanbul", "UTC") from $TZDIR or /usr/share/zoneinfo. The name must be
 * relative, made of [A-Za-z0-9_+-./] and without ".." components. Returns a new zone (free with sla_tz_free), or
 * NULL with a message in err (SLA_ERR_MAX bytes; may be NULL). Zones with leap seconds ("right/...") are refused. */
struct sla_tz *sla_tz_load(const char *name, char *err);
/* The same from the bytes of a TZif file (version 1 to 4); `name` is only remembered. */
struct sla_tz *sla_tz_from_tzif(const void *data, size_t len, const char *name, char *err);
/* A zone from a POSIX TZ rule alone, as found in TZif footers: "<+03>-3", "CET-1CEST,M3.5.0,M10.5.0/3",
 * "EST5EDT,M3.2.0,M11.1.0". A DST rule without dates uses the US rule M3.2.0,M11.1.0. */
struct sla_tz *sla_tz_from_posix(const char *spec, char *err);
void sla_tz_free(struct sla_tz *tz);
/* A copy of tz (free with sla_tz_free), or NULL when out of memory. */
struct sla_tz *sla_tz_dup(const struct sla_tz *tz);
/* The name given when loading (borrowed). */
const char *sla_tz_name(const struct sla_tz *tz);
/* Seconds east of UTC in effect at instant t (Istanbul: 10800). */
int32_t sla_tz_offset(const struct sla_tz *tz, int64_t t);
/* The earliest instant whose wall time is >= local_seconds (seconds since 1970-01-01 00:00 local): exact for
 * ordinary times, the end of the gap for skipped times, the first pass for repeated times. */
int64_t sla_tz_local_to_utc(const struct sla_tz *tz, int64_t local_seconds);

/* Local minutes since 1970-01-01 00:00 for a civil date and time (hh 0..24, mi 0..59), the unit of closures; or
 * INT64_MIN for an impossible date ("2026-02-30"). */
int64_t sla_local_minute(int year, int month, int day, int hh, int mi);

/* ---- Calendars ----------------------------------------------------------------------------------------------- */

struct sla_calendar;

/* Weekdays as in struct tm: 0 = Sunday ... 6 = Saturday. */
enum { SLA_SUN, SLA_MON, SLA_TUE, SLA_WED, SLA_THU, SLA_FRI, SLA_SAT };
/* At most this many separate intervals per weekday (after merging overlaps). */
#define SLA_DAY_MAX 8

/* A calendar in zone tz, which it takes (freed with the calendar; NULL means UTC). Starts with no opening hours:
 * add them before use. NULL only when out of memory. Fill it from one thread, then share it read-only. */
struct sla_calendar *sla_calendar_new(struct sla_tz *tz_take);
void sla_calendar_free(struct sla_calendar *cal);
const struct sla_tz *sla_calendar_tz(const struct sla_calendar *cal);

/* Opens weekday wd from open_min to close_min (minutes after local midnight, 0..1440). Overlapping or touching
 * intervals of a day are merged. close_min < open_min crosses midnight and is split: open_min..24:00 on wd and
 * 00:00..close_min on the next day ("fri 22:00-02:00" opens Friday night into Saturday). open_min == close_min is
 * refused (ambiguous: nothing or all day? write 00:00-24:00). 0 on success, -1 on bad input or a full day. */
int sla_calendar_add_hours(struct sla_calendar *cal, int wd, int open_min, int close_min);
/* Closes the desk from local minute from to local minute to (sla_local_minute), whatever the weekly hours say: a
 * holiday is [day 00:00, next day 00:00), a half day [13:00, next day 00:00). Overlapping closures merge.
 * 0 on success, -1 if to <= from or out of memory. */
int sla_calendar_add_closure(struct sla_calendar *cal, int64_t from_local_min, int64_t to_local_min);

/* Weekly hours from text: groups separated by ';' or newlines, each "DAYS RANGES".
 *   DAYS   = mon|tue|wed|thu|fri|sat|sun, ranges "mon-fri" (may wrap: "fri-mon"), lists "mon,wed", or "daily"
 *   RANGES = HH:MM-HH:MM separated by ',' or spaces; 24:00 is the end of the day; HH:MM-HH:MM with the close
 *            before the open crosses midnight (split, as in sla_calendar_add_hours).
 * Example: "mon-fri 09:00-12:30, 13:30-18:00; sat 10:00-14:00". Case-insensitive. On error returns -1 with a
 * message in err (SLA_ERR_MAX bytes, may be NULL); hours added before the error stay: parse into a fresh calendar. */
int sla_calendar_parse_hours(struct sla_calendar *cal, const char *spec, char *err);
/* Holidays and other closures from text: items separated by ';', ',' or newlines, each
 *   YYYY-MM-DD                      the whole day
 *   YYYY-MM-DD..YYYY-MM-DD          whole days, inclusive ("2026-03-20..2026-03-22", Ramazan Bayramı)
 *   DATE[..DATE] HH:MM-HH:MM        that window on each day ("2026-10-28 13:00-24:00", a half day; a window
 *                                   ending before it starts runs into the next day; ranges up to a year)
 * Anything after '#' on a line is a comment. Same error contract as sla_calendar_parse_hours. */
int sla_calendar_parse_holidays(struct sla_calendar *cal, const char *spec, char *err);

/* In all queries cal == NULL means "always open" (calendar time, for 24/7 targets). Instants are UTC seconds. */

/* Business seconds in [from, to); 0 when to <= from. */
int64_t sla_business_seconds(const struct sla_calendar *cal, int64_t from, int64_t to);
/* The earliest instant t >= start with sla_business_seconds(cal, start, t) == seconds: the due instant of a target
 * of `seconds` started at `start`. A target that uses up a day's hours exactly ends at that day's closing time,
 * not at the next opening. seconds <= 0 gives start. SLA_NEVER if the calendar never opens enough. */
int64_t sla_business_add(const struct sla_calendar *cal, int64_t start, int64_t seconds);
/* 1 if t is within business hours (intervals are [open, close): open at 09:00:00, closed at 18:00:00). */
int sla_is_open(const struct sla_calendar *cal, int64_t t);
/* The earliest instant >= t at which the desk is open (t itself when open), or SLA_NEVER. */
int64_t sla_next_open(const struct sla_calendar *cal, int64_t t);
/* The instant the desk next closes at or after t: the end of the business stretch containing t, or of the next
 * one when closed (stretches continuing across midnight are followed). SLA_NEVER if it never closes. */
int64_t sla_next_close(const struct sla_calendar *cal, int64_t t);

/* ---- SLA clocks ---------------------------------------------------------------------------------------------- */

/* Ticket statuses as the ticketing plugin names them. */
enum sla_status { SLA_NEW, SLA_OPEN, SLA_PENDING, SLA_ON_HOLD, SLA_SOLVED, SLA_CLOSED, SLA_STATUS_COUNT };
/* One status change: the ticket has `status` from `at` on. A timeline starts with the creation. */
struct sla_event {
  int64_t at;
  enum sla_status status;
};

#define SLA_PAUSE(status) (1u << (status))
/* pending (waiting for the customer) pauses the clock. on_hold (waiting for a third party, a carrier or a
 * supplier) does not by default: the customer is still waiting; a policy may add SLA_PAUSE(SLA_ON_HOLD).
 * solved and closed always stop the clock; a reopened ticket resumes from the time already used. */
#define SLA_PAUSE_DEFAULT SLA_PAUSE(SLA_PENDING)

struct sla_target {
  int64_t seconds;        /* business seconds allowed, > 0 (policies in minutes: minutes * 60) */
  int warn_permille;      /* warn when this share is used: 800 = 80 %; 0 = never warn; 1..1000 */
  unsigned pause_mask;    /* statuses that pause the clock (SLA_PAUSE bits); solved/closed always do */
};

enum sla_state { SLA_OK, SLA_WARNING, SLA_BREACHED };
enum sla_clock_state { SLA_RUNNING, SLA_PAUSED, SLA_STOPPED };

struct sla_result {
  enum sla_state state;        /* at `now`; a stopped clock is OK (met) or BREACHED, never WARNING */
  enum sla_clock_state clock;  /* STOPPED once stop_at <= now; else RUNNING or PAUSED by the status at `now` */
  int64_t elapsed;             /* business seconds counted while the clock ran, up to min(now, stop_at) */
  int64_t remaining;           /* target - elapsed; negative once overdue */
  int64_t warn_at;             /* when the warning share was or will be reached; SLA_NEVER if not known (paused,
                                  stopped first, or warnings off) */
  int64_t due_at;              /* when the target was or will be reached if the clock keeps running; SLA_NEVER while
                                  paused short of it, or when it was met */
  int64_t breached_at;         /* the breach instant (== due_at) when breached, else SLA_NEVER */
};

/* Evaluates one SLA target at instant `now`.
 *   events, n: the ticket's status changes in time order (equal instants allowed; the later entry wins); events[0]
 *     is the creation and starts the clock. Changes after `now` are ignored (they have not happened yet); a `now`
 *     before the creation is taken as the creation.
 *   stop_at: the instant that meets the target, SLA_NEVER if it has not happened — the first public reply for a
 *     first-response target; for a resolution target pass SLA_NEVER and let solved/closed stop the clock (or the
 *     final solve time to freeze it).
 * The clock runs in business time while the status is not paused. The target is breached at the earliest instant
 * B where the counted time reaches target->seconds: a stop at or before B meets it, a stop after B does not, and an
 * unstopped clock is BREACHED from B on (at `now` == B exactly, too: that is when the breach event fires). If B falls
 * on a closing time, a stop during the following closed hours is after B and so a breach even though no further
 * business time has passed. WARNING likewise from the warning instant until B.
 * Returns 0, or -1 (out untouched) for n == 0, events out of order, an unknown status, or a bad target. */
int sla_evaluate(const struct sla_calendar *cal, const struct sla_event *events, size_t n, int64_t stop_at,
                 int64_t now, const struct sla_target *target, struct sla_result *out);

#endif
