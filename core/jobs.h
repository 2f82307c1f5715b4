/* Jobs: periodic jobs and one-shot timers, run by the bus thread. Timers are rows in core_timers, so one that came
 * due while the server was down fires after the restart. */
#ifndef DESTEK_JOBS_H
#define DESTEK_JOBS_H
#include <stdint.h>

#include "destek.h"

int jobs_every(const char *owner, const char *job, int seconds, destek_job_fn fn, void *ud);
int jobs_timer_handler(const char *owner, const char *kind, destek_timer_fn fn, void *ud);
/* Drops the periodic jobs and timer handlers of owner (reload). */
void jobs_forget_owner(const char *owner);
int jobs_timer_at(struct destek_req *call, const char *kind, const char *key, int64_t due_unix, cJSON *payload);
int jobs_timer_cancel(struct destek_req *call, const char *kind, const char *key);

/* Runs what is due (each in a call of its own). Returns seconds until the next thing is due (at most 1). */
double jobs_run_due(void);

#endif
