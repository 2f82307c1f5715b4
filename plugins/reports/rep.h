/* rep.h — what the reports module's files share (never included by another module). */
#ifndef REP_H
#define REP_H
#include <stdint.h>

#include "destek.h"

extern const struct destek_host *rep_host;
#define H rep_host

#define REP_MAX_WATCH 8

/* A source: a module's "<module>.report_facts" service and what it described. */
struct rep_source {
  char kind[40];           /* (at most 31 bytes) "ticket", "return", "order", "rating", ... */
  char service[96];        /* "ticketing.report_facts" */
  char subjects[4][32];    /* event subject prefixes whose entity ids are this kind's ("ticket" for ticket:42) */
  int nsubjects;
  char durations[8][24];   /* measures in seconds: medians and buckets */
  int ndurations;
  char events[8][2][48];   /* event name -> the payload member holding the entity id ("csat.rated" -> "id") */
  int nevents;
  char store[40];          /* the key its facts and roll-ups are kept under now: kind, or "<kind>~" after a rebuild
                            * (rep_source_store; every read of the roll-ups binds it) */
  int refresh_open;        /* > 0: its open facts are asked again every that many seconds (a campaign's deliveries) */
  char median_by[4][24];   /* dimensions whose values get exact medians of every duration ("agent", "team") */
  int nmedian_by;
  char only_member[24];    /* events count only when this payload member is one of only_values ("channel": chat) */
  char only_values[4][24];
  int nonly;
  char watch[REP_MAX_WATCH][48];   /* events (names, "noun.*") whose subject names an entity: "ticket.*", "message.added" */
  int nwatch;
  int hist;                /* its histograms (reports_hist) are whole for store: medians read them (hist.c) */
};
#define REP_MAX_SOURCES 16

/* Sums of (day, measure, dim, value) before they are written or shown: a fact's share, a rebuild's, a table's. */
struct rep_acc_entry {
  int64_t day;
  char *key;              /* "measure\x1f dim\x1f value" */
  int64_t n;
  double sum;
};
struct rep_acc {
  struct rep_acc_entry *e;   /* open addressing; cap a power of two */
  size_t cap, len;
};
void rep_acc_add(struct rep_acc *a, int64_t day, const char *measure, const char *dim, const char *value, int64_t n,
                 double sum);
void rep_acc_free(struct rep_acc *a);

/* The sources published now (services ending in ".report_facts"), described. Returns how many (<= max). */
int rep_sources(struct destek_req *call, struct rep_source *out, int max);
/* The source of kind, 0 and *out, or -1 when no module publishes it. */
int rep_source_find(struct destek_req *call, const char *kind, struct rep_source *out);

/* Fills src->store from reports_sources as db sees it. */
void rep_source_store(struct destek_db *db, struct rep_source *src);

/* The shop's local day number of a unix instant (reports.utc_offset_minutes). */
int64_t rep_day(int64_t at);
/* "YYYY-MM-DD" to a day number: 0 and *day, or -1. */
int rep_parse_day(const char *s, int64_t *day);
/* The month of a day number (year * 12 + month - 1), and the first day of a month. */
int64_t rep_month(int64_t day);
int64_t rep_month_start(int64_t month);
/* Days from..to split for the roll-ups: the months wholly inside, m1..m2 (none: m1 > m2), and the days outside them
 * at the two ends, a1..a2 and b1..b2 (an end with none: its first > its last). */
struct rep_span { int64_t m1, m2, a1, a2, b1, b2; };
struct rep_span rep_span_split(int64_t from, int64_t to);
/* A day number as "YYYY-MM-DD" into out[11]. */
void rep_day_str(int64_t day, char out[11]);

/* Refreshes the facts of the given entity ids of src (asking its service), with their roll-ups, in call's
 * transaction. 0, or the error status set up. */
int rep_refresh(struct destek_req *call, const struct rep_source *src, const int64_t *ids, int n);
/* Rebuilds every fact and roll-up of src from its service, page by page into a shadow key, then swaps (rollup.c); the
 * call must hold no transaction. 0 with *facts and the longest page's write transaction in *max_page_ms, or the error. */
int rep_rebuild(struct destek_req *call, const struct rep_source *src, int64_t *facts, int64_t *max_page_ms);
/* Rebuilds every source (the CLI command and the admin button): [{kind, service, facts, ms, max_page_ms}] (new), or NULL with the error
 * set up. */
cJSON *rep_rebuild_all_new(struct destek_req *call);

int rep_rollup_init(const struct destek_host *h);
/* Refreshes the entities noted in reports_pending, a batch per transaction, for about budget_ms at most: 0 when none is
 * left, 1 when some are, -1 on an error (the call's status set up). */
int rep_flush(struct destek_req *call, int64_t budget_ms);
extern const struct destek_route rep_api_routes[];
int rep_digest_init(const struct destek_host *h);
/* Queues the digest of the 7 days before `today` (a day number) to every active admin: how many were queued.
 * key_suffix (NULL for the weekly job) tells a digest asked by hand from the week's own one. */
int rep_digest_send(struct destek_req *call, int64_t today, const char *key_suffix);
/* The dashboard's figures of kind over [from, to] (day numbers), with business or calendar durations (new); medians:
 * the exact medians per value of the source's median_by dimensions too (a walk over their values: the current period
 * only). */
cJSON *rep_kind_figures_new(struct destek_req *call, const struct rep_source *src, int64_t from, int64_t to, int business,
                            int medians);

/* hist.c: the bucket of a duration; a value's delta noted into h (NULL: nothing) and a batch's deltas written under
 * key; every histogram of key built from its values (a short write transaction per measure and dimension, committed;
 * the longest in *max_ms; the caller then records hist_store in its own); the exact lower median of a series (dim ''
 * for the whole kind) over the days [from, to], or -1 when it has no value there. */
int rep_hist_bucket(double v);
void rep_hist_note(struct rep_acc *h, int64_t day, const char *measure, const char *dim, const char *dvalue, double v,
                   int sign);
int rep_hist_apply(struct destek_db *w, const char *key, struct rep_acc *h);
int rep_hist_build(struct destek_req *call, const struct rep_source *src, const char *key, int64_t *max_ms);
double rep_hist_median(struct destek_db *db, const char *key, const char *measure, const char *dim, const char *dvalue,
                       int64_t from, int64_t to);

#endif
