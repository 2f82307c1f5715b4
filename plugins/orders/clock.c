/* The module's clock: the real one, or, for tests only, a fixed instant set through POST /api/v1/test/orders-clock
 * when the server was started with DESTEK_TEST_CLOCK=1 (the variable ticketing's SLA test clock uses too). Without
 * the variable the route is not registered and the real clock is always used. Delay notices, ETAs and the tracking
 * schedule read ord_clock_now(); so do the times the module stores (ord_now). */
#include "orders.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "destek_util.h"

static int test_clock_on;            /* DESTEK_TEST_CLOCK=1 at start-up; never on otherwise */
static _Atomic int64_t fake_now;     /* 0: the real clock */

int64_t ord_clock_now(void)
{
  int64_t f = test_clock_on ? atomic_load(&fake_now) : 0;
  return f ? f : (int64_t)time(NULL);
}

/* POST /api/v1/test/orders-clock {"now": "2026-10-30T07:00:00Z" | null} -> {now} (admin; tests only). */
static int clock_set(struct destek_req *r)
{
  cJSON *body;
  int rc = ord_body(r, &body);
  if (rc) return rc;
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, "now");
  if (!v || cJSON_IsNull(v)) {
    atomic_store(&fake_now, 0);
  } else {
    char utc[21];
    struct tm tm = { 0 };
    if (!cJSON_IsString(v) || ord_time_utc(v->valuestring, utc) != 0 || !strptime(utc, "%Y-%m-%dT%H:%M:%SZ", &tm))
      return ord_field_error(r, "invalid_field", "now", "now must be an ISO-8601 time or null");
    atomic_store(&fake_now, (int64_t)timegm(&tm));
  }
  char out[21];
  util_iso_time((time_t)ord_clock_now(), out);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "now", out);
  return ord_reply_json(r, 200, o);
}

static const struct destek_route clock_routes[] = {
  { "POST", "/api/v1/test/orders-clock", clock_set, DESTEK_ADMIN, NULL, 0 },
  { 0 }
};

int ord_clock_init(const struct destek_host *h)
{
  const char *tc = getenv("DESTEK_TEST_CLOCK");
  if (!tc || strcmp(tc, "1")) return 0;
  test_clock_on = 1;
  h->log(h, DESTEK_LOG_WARN, "DESTEK_TEST_CLOCK=1: the orders clock can be set through POST /api/v1/test/orders-clock");
  return h->routes(h, clock_routes);
}
