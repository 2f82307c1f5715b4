/* SLAs of the ticketing plugin: business calendars, SLA policies and each ticket's SLA clock (sla.c), on top of
 * the business-time engine sla_clock.h. */
#ifndef TKT_SLA_H
#define TKT_SLA_H
#include <stdint.h>

#include <cjson/cJSON.h>

#include "destek.h"
#include "sla_clock.h"

extern const struct destek_route tkt_sla_routes[];

/* Registers the SLA subscribers (ticket.created, ticket.updated, message.added, sync), the timer kind
 * "ticketing.sla" and, only when the environment has DESTEK_TEST_CLOCK=1, the test clock route. 0 or -1. */
int tkt_sla_init(const struct destek_host *host);

/* "Now" for everything SLA (and the triggers' business-hours test): time(NULL), unless the server runs with
 * DESTEK_TEST_CLOCK=1 and a test set the fake clock through POST /api/v1/test/clock. */
int64_t tkt_sla_now(void);

/* Loads calendar calendar_id from the database: a new calendar (free with sla_calendar_free), or NULL with a
 * message in err (SLA_ERR_MAX bytes) when it is absent or no longer parses. */
struct sla_calendar *tkt_calendar_load_new(struct destek_db *db, int64_t calendar_id, char *err);
/* The id of the default calendar, or 0 when there is none. */
int64_t tkt_calendar_default_id(struct destek_db *db);

/* Re-evaluates ticket_id's SLA at tkt_sla_now(): picks its policy, stores the clocks, emits sla.warning and
 * sla.breached once each, and moves its timer. 0, or the error status it set up. */
int tkt_sla_update(struct destek_req *r, struct destek_db *w, int64_t ticket_id);

/* A condition for the ticket list on tkt_tickets t: with ?8 = 1, only tickets with an SLA clock that is not
 * stopped and in warning or breached, by its last evaluation or by ?9 (tkt_sla_now()) having passed its warning or
 * due instant since. */
#define TKT_SLA_AT_RISK_SQL \
  " AND (?8 = 0 OR EXISTS (SELECT 1 FROM tkt_sla a WHERE a.ticket_id = t.id AND (" \
  "   (a.frt_clock IN ('running', 'paused') AND (a.frt_state <> 'ok' OR a.frt_warn_at <= ?9 OR a.frt_due_at <= ?9))" \
  "   OR (a.res_clock IN ('running', 'paused') AND (a.res_state <> 'ok' OR a.res_warn_at <= ?9 OR a.res_due_at <= ?9)))))"

/* The ticket's SLA as the API shows it (an object), or a JSON null when no policy applies. */
cJSON *tkt_sla_json(struct destek_db *db, int64_t ticket_id);
/* The columns of tkt_sla (aliased s) that tkt_sla_write reads, in its order. */
#define TKT_SLA_COLUMNS \
  "s.policy_id, s.calendar_id, s.first_response_minutes, s.frt_state, s.frt_clock, s.frt_warn_at, s.frt_due_at," \
  " s.frt_elapsed, s.resolution_minutes, s.res_state, s.res_clock, s.res_warn_at, s.res_due_at, s.res_elapsed"
#define TKT_SLA_NCOLS 14
struct jbuf;
/* Writes the ticket's sla object (or null: no targets, or no row — all columns NULL) from the TKT_SLA_COLUMNS
 * starting at column col of st, with the states as of now. */
void tkt_sla_write(struct jbuf *b, sqlite3_stmt *st, int col, int64_t now);

#endif
