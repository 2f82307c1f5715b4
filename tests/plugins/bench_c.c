/* Test-only C plugin (not shipped) for tests/bench/lua_route.sh: GET /bench/c answers {"ok":true}, the C side of the
 * "Lua route vs C route" comparison (tests/lua/bench_lua.lua is the Lua side). Built against include/destek.h only. */
#include <destek.h>

static const struct destek_host *host;

static int bench(struct destek_req *r)
{
  cJSON *o = cJSON_CreateObject();
  cJSON_AddTrueToObject(o, "ok");
  return host->reply_json(r, 200, o);
}

static int bench_init(const struct destek_host *h)
{
  host = h;
  return 0;
}

static const struct destek_route routes[] = {
  { "GET", "/bench/c", bench, DESTEK_PUBLIC, NULL },
  { 0 }
};

const struct destek_plugin destek_plugin = {
  DESTEK_PLUGIN_ABI, sizeof(struct destek_plugin), "bench_c", "1.0.0", routes, NULL, bench_init, NULL
};
