/* Live updates: the agents' websocket, GET /api/v1/stream.
 *
 * Two things travel over it. Events: after a call's transaction commits, the events it emitted that a plugin
 * declared streamable go to every connected agent as small JSON frames (never the event's payload, only what a
 * client needs to decide whether to refetch). Presence: a client says which subject ("ticket:42") it views and
 * whether its agent is typing; everyone viewing that subject is told who else is there.
 *
 * All of it is in memory and best effort on purpose. A live push is not a bus subscriber (no outbox or delivery
 * rows per connection): a client that (re)connects, or is told to resync, refetches what it shows. Events of a
 * call that rolls back, or that a sync subscriber vetoed, are never sent.
 *
 * The frame formats are documented in README.md ("Live updates"). */
#ifndef DESTEK_LIVE_H
#define DESTEK_LIVE_H
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct destek_req;
struct destek_event;
struct mg_context;

#define LIVE_PRESENCE_TTL 20     /* seconds an HTTP presence report lasts (the short-poll fallback) */

/* ---- declarations, from a plugin's init ---------------------------------------------------------------------- */

/* Streams the events matching pattern ("ticket.*", "message.added", "*") to connected agents. summarize adds to
 * frame the few members a client needs (ids, status, actor); it must not copy message bodies or customer data.
 * It runs inside the emitting transaction, on the emitting thread. 0, or -1 (logged). */
typedef void (*live_summary_fn)(const struct destek_event *ev, cJSON *frame);
int live_stream_events(const char *owner, const char *pattern, live_summary_fn summarize);

/* Lets clients watch subjects "<prefix>:<rest>" for presence when check(subject) returns 1 (say, the ticket
 * exists). check runs on a worker thread and may read with db_reader(). 0, or -1 (logged). */
typedef int (*live_subject_fn)(const char *subject);
int live_subjects(const char *owner, const char *prefix, live_subject_fn check);

/* The same, with user data given back to the function (the Lua host's one function for every Lua declaration). */
typedef void (*live_summary_ud_fn)(const struct destek_event *ev, cJSON *frame, void *ud);
typedef int (*live_subject_ud_fn)(const char *subject, void *ud);
int live_stream_events_ud(const char *owner, const char *pattern, live_summary_ud_fn summarize, void *ud);
int live_subjects_ud(const char *owner, const char *prefix, live_subject_ud_fn check, void *ud);
/* Drops owner's declarations (a Lua plugin being reloaded). */
void live_forget_owner(const char *owner);

/* ---- the post-commit pipeline (bus.c and http.c call these) ------------------------------------------------ */

/* How many frames call has pending: a mark to rewind to. */
size_t live_mark(struct destek_req *call);
/* Notes ev (just written to the outbox in call's transaction) for streaming, if a declaration matches it. */
void live_note(struct destek_req *call, const struct destek_event *ev);
/* Drops the frames noted after mark (a sync subscriber vetoed the event and what it caused). */
void live_rewind(struct destek_req *call, size_t mark);
/* Hands the call's frames to the open group-commit batch (with the writer held, before db_tx_end): they are sent
 * when that batch commits, dropped if it rolls back. */
void live_stage(struct destek_req *call);
/* call's transaction rolled back (or never began): forgets its frames. */
void live_discard(struct destek_req *call);

/* ---- presence ---------------------------------------------------------------------------------------------- */

/* An agent reported by HTTP (POST …/presence) that they view subject, typing or not; lasts LIVE_PRESENCE_TTL. */
void live_presence_touch(const char *subject, int64_t user_id, const char *name, int typing);
/* Who views subject, by socket or HTTP, except except_user_id: [{user_id, name, typing, seconds_ago}] (new). */
cJSON *live_presence_items_new(const char *subject, int64_t except_user_id);
/* 1 when user_id has an open socket or a fresh HTTP presence report (they are here now), else 0. */
int live_user_online(int64_t user_id);
/* Forgets the HTTP reports on subject (it was merged away or deleted). */
void live_presence_forget(const char *subject);

/* ---- the endpoint ------------------------------------------------------------------------------------------ */

/* Registers GET /api/v1/stream for plain (not upgraded) requests, which get 426. 0 or -1. */
int live_routes_init(void);
/* Serves websockets on ctx (CivetWeb started) for at most max_connections sockets at once (each holds a worker
 * thread) and starts the housekeeping thread. 0 or -1. */
int live_start(struct mg_context *ctx, int max_connections);
/* Before CivetWeb stops: refuses new sockets, sends every open one a close frame (1001, "server restarting")
 * and stops the housekeeping thread. The sockets themselves end when CivetWeb stops. */
void live_stop(void);

/* For /metrics: open sockets, frames queued since start, frames dropped because a client was too slow. */
void live_stats(int *connections, unsigned long long *frames, unsigned long long *dropped);

#endif
