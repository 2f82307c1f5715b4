/* Request metrics in Prometheus text format. */
#ifndef DESTEK_METRICS_H
#define DESTEK_METRICS_H

/* Counts one request; route is the route's pattern (or "static"/"unmatched"), kept by pointer: it must be static. */
void metrics_record(const char *method, const char *route, int status, double seconds);
/* The exposition text; caller frees. */
char *metrics_render_new(void);
/* Registers GET /metrics. */
int metrics_routes_init(void);

#endif
