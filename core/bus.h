/* The event bus: emit writes the event to an outbox in the caller's transaction (sync subscribers run first and
 * may veto); a background thread delivers it to async subscribers and sinks (webhooks) at least once, in order per
 * subject and subscriber, with exponential backoff, then dead-letters it. The same thread runs jobs and timers. */
#ifndef DESTEK_BUS_H
#define DESTEK_BUS_H
#include <stddef.h>
#include <stdint.h>

#include "destek.h"

struct db;

/* Subscribes fn to event ("ticket.created", or "*" for every event). owner names the plugin; the subscriber's
 * stable name (used for deliveries) is "<owner>:<event>" plus "#n" for a second handler of the same event.
 * Returns 0 or -1. Subscriptions made with the same owner and replace=1 drop that owner's earlier ones (reload). */
int bus_subscribe(const char *owner, const char *event, int mode, destek_event_fn fn, void *ud);
/* As bus_subscribe, with want (may be NULL) deciding per emitted event whether fn gets it (destek.h, on_when). */
int bus_subscribe_when(const char *owner, const char *event, int mode, destek_event_fn fn, destek_event_want_fn want,
                       void *ud);
/* Drops every subscription of owner (a Lua plugin being reloaded or removed). */
void bus_unsubscribe_owner(const char *owner);

/* A sink delivers events to targets kept in the database, e.g. webhooks. targets() is called inside the emitting
 * transaction and fills up to max subscriber names ("webhook:12") for the event; deliver() runs on the bus thread
 * outside any transaction. uid is the delivery's stable unique id (the same across retries). deliver() sets
 * *response_status to the receiver's HTTP status when it got one (it starts at 0: none, e.g. a refused connection);
 * the bus records it with the attempt, for the delivery log. */
struct bus_sink {
  const char *prefix;                                    /* "webhook:" */
  int (*targets)(struct db *w, const char *event, char (*names)[64], int max);
  int (*deliver)(const char *subscriber, const char *uid, const struct destek_event *ev, long *response_status,
                 char *err, size_t errlen);
};
int bus_add_sink(const struct bus_sink *sink);

/* Event nouns and who owns them: the noun of "ticket.created" is "ticket", ticketing's. The core and C modules
 * declare the nouns they emit from their init (host->events), before any Lua plugin loads; a Lua plugin emits only
 * its own (lua_api.c), and a Lua plugin that would claim one of these is refused (lua_host.c).
 * bus_event_owner: 0, or -1 (logged) when noun is malformed or already another owner's. Owners are interned. */
int bus_event_owner(const char *noun, const char *owner);
/* The owner of noun, or NULL when the core and C modules do not own it. */
const char *bus_event_noun_owner(const char *noun);
/* Whether noun can be an event noun: 1 to 60 of [a-z0-9_]. */
int bus_event_noun_ok(const char *noun);

/* See destek_host.emit. */
int bus_emit(struct destek_req *call, const char *event, const char *subject, cJSON *payload);

/* Starts / stops the background thread (delivery, jobs, timers). */
int bus_start(void);
void bus_stop(void);
/* Wakes the thread: something was committed that may be due now. */
void bus_wake(void);

/* Registers the settings events.retry_base_seconds / events.retry_limit and the admin routes
 * GET /api/v1/events/deliveries and POST /api/v1/events/deliveries/{id}/retry. */
int bus_init(void);

/* The columns bus_delivery_json reads, in order, for "SELECT " BUS_DELIVERY_COLUMNS " FROM core_deliveries d
 * JOIN core_outbox o ON o.id = d.event_id ...". */
#define BUS_DELIVERY_COLUMNS \
  "d.id, d.uid, d.subscriber, d.subject, d.status, d.attempts, d.next_at, d.last_error, d.created_at, d.updated_at," \
  " d.delivered_at, o.id, o.event, d.response_status"
/* One such row (a sqlite3_stmt positioned on it) as a JSON object, for the deliveries APIs. */
cJSON *bus_delivery_json(void *stmt);

/* Sets a delivery back to pending, due now (admin retry). 0, or -1 if there is no such delivery. */
int bus_retry(struct db *w, int64_t delivery_id);

#endif
