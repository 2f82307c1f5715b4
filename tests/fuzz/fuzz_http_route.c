/* Fuzz target: the router's path matching and parameter validators (http_route_find, as dispatch calls it), and
 * the query string readers (http_query_get, http_page).
 *
 * Input: "METHOD PATH?QUERY", the request line as the router sees it after CivetWeb parsed it: the method is the
 * text before the first space, the path (already %-decoded by CivetWeb, so any byte but NUL) runs to the first
 * '?', the raw query string follows it. The route table is the real one: the core's routes and the ticketing
 * plugin's, registered once.
 * Checked: a match is a route declared for that method (HEAD finds GET), with the declared parameters, int
 * parameters all digits; a decoded query value fits its buffer and carries no control character; a page's limit
 * is 1..200 and its cursor a positive id, or the answer is a 422. */
#include <ctype.h>

#include "audit.h"
#include "auth_api.h"
#include "fuzz.h"
#include "http.h"
#include "live.h"
#include "metrics.h"
#include "plugin.h"
#include "settings.h"
#include "sla.h"
#include "tkt.h"
#include "tokens_api.h"
#include "triggers.h"
#include "users_api.h"

static void register_routes(void)
{
  static int done;
  if (done) return;
  done = 1;
  int rc = auth_api_init() | users_api_init() | tokens_api_init() | audit_routes_init() | metrics_routes_init() |
           settings_routes_init() | plugin_routes_init();
  const struct destek_route *tables[] = { tkt_ticket_routes, tkt_list_routes, tkt_ops_routes, tkt_customer_routes,
                                          tkt_team_routes, tkt_public_routes, tkt_attachment_routes,
                                          tkt_presence_routes, tkt_sla_routes, tkt_trigger_routes, tkt_macro_routes };
  for (size_t i = 0; i < sizeof tables / sizeof *tables; i++) rc |= http_routes_add("ticketing", tables[i]);
  FUZZ_CHECK(rc == 0);
}

static void check_query_value(struct destek_req *r, const char *name)
{
  static const size_t sizes[] = { 1, 2, 8, 128 };
  for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
    char buf[128];
    memset(buf, 'x', sizeof buf);
    if (!http_query_get(r, name, buf, sizes[i])) continue;
    size_t n = strnlen(buf, sizes[i]);
    FUZZ_CHECK(n < sizes[i]);
    for (size_t k = 0; k < n; k++) FUZZ_CHECK((unsigned char)buf[k] >= 0x20);
  }
}

static void check_route(struct destek_req *r)
{
  int path_known = 7;
  char allow[128];
  memset(allow, 'x', sizeof allow);
  int found = http_route_find(r, &path_known, allow, sizeof allow);
  if (found == 0) {
    FUZZ_CHECK(!r->route.method && r->n_params == 0);
    FUZZ_CHECK(path_known == 0 || path_known == 1);
    FUZZ_CHECK(strnlen(allow, sizeof allow) < sizeof allow && (!path_known || allow[0]));
    return;
  }
  const char *method = strcmp(r->method, "HEAD") == 0 ? "GET" : r->method;
  FUZZ_CHECK(r->route.method && !strcmp(r->route.method, method) && r->route.handler && r->owner);
  FUZZ_CHECK(r->n_params >= 0 && r->n_params <= HTTP_MAX_PARAMS);
  /* Every {name} of the pattern is a parameter, in order, and an int one is digits only when the route is valid. */
  const char *p = r->route.pattern;
  int k = 0;
  while ((p = strchr(p, '{'))) {
    const char *close = strchr(p, '}');
    FUZZ_CHECK(close && k < r->n_params);
    FUZZ_CHECK(strlen(r->param_names[k]) == (size_t)(close - p - 1) && !strncmp(r->param_names[k], p + 1, close - p - 1));
    const char *v = r->param_values[k];
    FUZZ_CHECK(v && *v && !strchr(v, '/'));
    char decl[80], params[512];
    snprintf(decl, sizeof decl, " %s:int ", r->param_names[k]);
    snprintf(params, sizeof params, " %s ", r->route.params ? r->route.params : "");
    if (found == 1 && strstr(params, decl)) {
      FUZZ_CHECK(strlen(v) <= 18);
      for (const char *c = v; *c; c++) FUZZ_CHECK(isdigit((unsigned char)*c));
      FUZZ_CHECK(http_param_int(r, r->param_names[k]) >= 0);
    }
    FUZZ_CHECK(http_param(r, r->param_names[k]) != NULL);
    k++;
    p = close + 1;
  }
  FUZZ_CHECK(k == r->n_params);
}

static void check_query(struct destek_req *r)
{
  static const char *const names[] = { "limit", "cursor", "q", "status", "tag", "sort", "", NULL };
  for (const char *const *n = names; *n; n++) check_query_value(r, *n);
  /* and the names the query itself uses (the first few) */
  const char *q = r->query;
  for (int i = 0; q && *q && i < 4; i++) {
    size_t len = strcspn(q, "=&");
    char name[64];
    if (len < sizeof name) {
      memcpy(name, q, len);
      name[len] = 0;
      check_query_value(r, name);
    }
    q = strchr(q, '&');
    if (q) q++;
  }
  int limit = -1;
  int64_t after = -1;
  int rc = http_page(r, &limit, &after);
  if (rc == 0) {
    FUZZ_CHECK(limit >= 1 && limit <= 200 && after >= 0);
  } else {
    FUZZ_CHECK(rc == 422 && r->status == 422 && r->out_json);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  register_routes();
  char *line = fuzz_cstr_new(data, size);
  char *sp = strchr(line, ' ');
  char *path = sp ? sp + 1 : line;
  if (sp) *sp = 0;
  char *qm = strchr(path, '?');
  if (qm) *qm = 0;

  struct destek_req r;
  memset(&r, 0, sizeof r);
  r.owner = "core";
  r.method = sp ? line : "GET";
  r.path = path;
  r.query = qm ? qm + 1 : NULL;
  check_route(&r);
  check_query(&r);

  for (int i = 0; i < r.n_params; i++) free(r.param_values[i]);
  cJSON_Delete(r.out_json);
  free(line);
  return 0;
}
