/* Services: named calls between modules ("ticketing.open", "orders.find"): JSON in, JSON out, run inside the
 * caller's call and transaction as the publishing module. With events, they are the only way modules touch each
 * other: a module never includes another's headers or reads another's tables. Calling a service nobody publishes
 * is a clear error (501 service_unavailable), so a module can be optional.
 *
 * The C plugin API (include/destek.h: host->service, host->call_service) is a thin layer over these; the Lua host
 * binds the same two (a Lua service's fn is a trampoline into the calling thread's Lua state, ud names the plugin's
 * function). The registry is read on every call and written only at start-up and on a Lua reload. */
#ifndef DESTEK_SERVICES_H
#define DESTEK_SERVICES_H
#include <cjson/cJSON.h>

#include "destek.h"

/* Publishes name for owner (a plugin's name). name is "<owner>.<verb>": lower-case letters, digits, '_' and '.',
 * at most 64 bytes. 0, or -1 when the name is malformed, lacks the owner's prefix or is taken (logged). */
int services_publish(const char *owner, const char *name, destek_service_fn fn, void *ud);

/* Drops every service of owner (a Lua plugin being reloaded, or a C plugin whose init failed). */
void services_forget_owner(const char *owner);

/* Runs service name for call: call->owner is the publisher's while it runs; args (a JSON object, or NULL for {}) is
 * borrowed. Returns 0 with *result (new: the caller frees it), or the error status set up on call: the service's
 * own error (a service that returns a status without setting one up gets 500 service_failed), or 501
 * service_unavailable when nobody publishes name. When the service fails, what it wrote and emitted is taken back
 * (a savepoint around it, or the call's whole transaction when the service began it) and the caller goes on. */
int services_call(struct destek_req *call, const char *name, const cJSON *args, cJSON **result);

/* 1 when a loaded module publishes name. */
int services_exists(const char *name);
/* A core service whose work is bounded by its own limits (a list of at most N rows done in one go) and is not the
 * calling Lua plugin's running time: a Lua call's time budget (CPU and wall clock) stands still while it runs, as it
 * does while the plugin waits on the network or the disk. Its instructions are C, not the plugin's. */
int services_publish_unmetered(const char *owner, const char *name, destek_service_fn fn, void *ud);
/* 1 when name was published with services_publish_unmetered. */
int services_unmetered(const char *name);

/* The published services whose names end with suffix (NULL: every one), [{name, plugin}] in name order (caller frees). */
cJSON *services_list_new(const char *suffix);

#endif
