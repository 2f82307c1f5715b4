/* Snooze: a ticket set aside until a date and time comes back by itself.
 *
 *   POST   /api/v1/tickets/{id}/snooze {until: "2026-12-05T09:00:00Z"}  → 200 ticket (detail)
 *   DELETE /api/v1/tickets/{id}/snooze                                  → 200 ticket (detail)
 *
 * Snoozing makes the ticket pending (history, events as any change) and keeps until in tkt_snoozes with a persisted
 * timer (ticketing.unsnooze, keyed by the ticket id), written in the same transaction. At until the timer opens the
 * ticket again if it is still pending (history "snooze" ended, ticket.updated by the system) and forgets the snooze;
 * a ticket that moved meanwhile (the customer wrote, which opens it; an agent solved it) is left as it is. The
 * ticket's detail says snoozed_until while a snooze waits. until must be in the future and within a year. */
#include "tkt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sla_clock.h"
#include "destek_util.h"

#define YEAR_SECONDS (366 * 24 * 3600)

/* "YYYY-MM-DDTHH:MM[:SS[.fff]]Z" to unix seconds; -1 if it is not that. */
static int64_t parse_utc(const char *s)
{
  int y, mo, d, h, mi, sec = 0, used = 0;
  if (sscanf(s, "%4d-%2d-%2dT%2d:%2d%n", &y, &mo, &d, &h, &mi, &used) != 5 || h > 23 || mi > 59) return -1;
  const char *p = s + used;
  if (*p == ':') {
    int n = 0;
    if (sscanf(p, ":%2d%n", &sec, &n) != 1 || sec > 59) return -1;
    p += n;
    if (*p == '.') { p++; while (*p >= '0' && *p <= '9') p++; }
  }
  if (strcmp(p, "Z")) return -1;
  int64_t m = sla_local_minute(y, mo, d, h, mi);
  return m == INT64_MIN ? -1 : m * 60 + sec;
}

static int snooze_set(struct destek_req *r)
{
  int64_t id = tkt_param_int(r, "id");
  cJSON *body;
  const char *until;
  int rc;
  if ((rc = tkt_body(r, &body)) || (rc = tkt_field_str(r, body, "until", DESTEK_REQUIRED, 40, &until))) return rc;
  int64_t at = parse_utc(until), now = (int64_t)time(NULL);
  if (at < 0) return tkt_field_error(r, "invalid_field", "until", "until must be a UTC time like 2026-12-05T09:00:00Z");
  if (at <= now) return tkt_field_error(r, "invalid_field", "until", "until must be in the future");
  if (at > now + YEAR_SECONDS) return tkt_field_error(r, "invalid_field", "until", "until must be within a year");
  struct destek_db *w = tkt_db_write(r);
  if (!w) return tkt_status(r);
  char *status = tkt_db_text_new(w, "SELECT status FROM tkt_tickets WHERE id = ?1", "i", id);
  if (!status) return tkt_error(r, 404, "not_found", "no such ticket");
  int final = !strcmp(status, "closed") || !strcmp(status, "solved");
  free(status);
  if (final) return tkt_error(r, 409, "invalid_transition", "a solved or closed ticket cannot be snoozed");
  char actor[48], iso[21], stamp[21];
  tkt_actor(r, actor);
  struct tkt_changes c = { 0 };
  c.status = "pending";
  if ((rc = tkt_apply_changes(r, w, id, &c, actor))) return rc;
  tkt_now(stamp);
  util_iso_time((time_t)at, iso);
  char key[24];
  snprintf(key, sizeof key, "%lld", (long long)id);
  if (tkt_db_exec(w, "INSERT INTO tkt_snoozes(ticket_id, until_at, user_id, created_at) VALUES (?1, ?2, ?3, ?4)"
                     " ON CONFLICT(ticket_id) DO UPDATE SET until_at = ?2, user_id = ?3, created_at = ?4",
                  "iiit", id, at, tkt_user_id(r), stamp) != SQLITE_OK ||
      tkt_history(w, id, actor, "snoozed_until", NULL, iso) != 0 ||
      tkt_timer_at(r, "ticketing.unsnooze", key, at, NULL) != 0)
    return tkt_error(r, 500, "internal", "the snooze could not be saved");
  return tkt_ticket_reply(r, 200, w, id, 1);
}

static int snooze_clear(struct destek_req *r)
{
  int64_t id = tkt_param_int(r, "id");
  struct destek_db *w = tkt_db_write(r);
  if (!w) return tkt_status(r);
  if (!tkt_db_int(w, 0, "SELECT count(*) FROM tkt_tickets WHERE id = ?1", "i", id))
    return tkt_error(r, 404, "not_found", "no such ticket");
  char key[24], actor[48];
  snprintf(key, sizeof key, "%lld", (long long)id);
  tkt_actor(r, actor);
  if (tkt_db_int(w, 0, "SELECT count(*) FROM tkt_snoozes WHERE ticket_id = ?1", "i", id) &&
      (tkt_db_exec(w, "DELETE FROM tkt_snoozes WHERE ticket_id = ?1", "i", id) != SQLITE_OK ||
       tkt_timer_cancel(r, "ticketing.unsnooze", key) != 0 || tkt_history(w, id, actor, "snoozed_until", "set", NULL) != 0))
    return tkt_error(r, 500, "internal", "the snooze could not be removed");
  return tkt_ticket_reply(r, 200, w, id, 1);
}

static int unsnooze_timer(struct destek_req *call, const char *key, const cJSON *payload, void *ud)
{
  (void)payload;
  (void)ud;
  int64_t id = strtoll(key, NULL, 10);
  struct destek_db *w = tkt_db_write(call);
  if (!w) return -1;
  if (!tkt_db_int(w, 0, "SELECT count(*) FROM tkt_snoozes WHERE ticket_id = ?1", "i", id)) return 0;
  if (tkt_db_exec(w, "DELETE FROM tkt_snoozes WHERE ticket_id = ?1", "i", id) != SQLITE_OK) return -1;
  char *status = tkt_db_text_new(w, "SELECT status FROM tkt_tickets WHERE id = ?1", "i", id);
  int pending = status && !strcmp(status, "pending");
  free(status);
  if (!pending) return 0;
  struct tkt_changes c = { 0 };
  c.status = "open";
  if (tkt_history(w, id, "system", "snooze_ended", NULL, NULL) != 0) return -1;
  return tkt_apply_changes(call, w, id, &c, "system") ? -1 : 0;
}

/* The snooze waiting on a ticket: its until as ISO text in out, 1; or 0 when none. */
int tkt_snoozed_until(struct destek_db *db, int64_t ticket_id, char out[21])
{
  int64_t at = tkt_db_int(db, 0, "SELECT s.until_at FROM tkt_snoozes s JOIN tkt_tickets t ON t.id = s.ticket_id"
                                 " WHERE s.ticket_id = ?1 AND t.status = 'pending'", "i", ticket_id);
  if (!at) return 0;
  util_iso_time((time_t)at, out);
  return 1;
}

static const struct destek_route snooze_routes[] = {
  { "POST",   "/api/v1/tickets/{id}/snooze", snooze_set,   DESTEK_AGENT, "id:int" },
  { "DELETE", "/api/v1/tickets/{id}/snooze", snooze_clear, DESTEK_AGENT, "id:int" },
  { 0 }
};

int tkt_snooze_init(const struct destek_host *h)
{
  return h->routes(h, snooze_routes) != 0 || h->timers(h, "ticketing.unsnooze", unsnooze_timer, NULL) != 0 ? -1 : 0;
}
