/* The audit log: logins, failed logins and admin actions, kept in core_audit. */
#ifndef DESTEK_AUDIT_H
#define DESTEK_AUDIT_H
#include <cjson/cJSON.h>

struct db;
struct destek_req;

/* Records an action by the request's caller in w's current transaction. detail is taken (may be NULL). */
int audit_log(struct db *w, struct destek_req *r, const char *action, const char *target, cJSON *detail);
/* Records it in a transaction of its own, for events that must stay even though the request fails
 * (a failed login). Must not be called while the request holds the writer. */
int audit_log_now(struct destek_req *r, const char *actor, const char *action, const char *target, cJSON *detail);
/* Registers GET /api/v1/audit. */
int audit_routes_init(void);

#endif
