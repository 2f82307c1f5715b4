/* bad_abi — a test-only plugin built for a future ABI: the server must refuse it by name and run on without it. */
#include "destek.h"

static int never(struct destek_req *r) { (void)r; return 500; }

static const struct destek_route routes[] = { { "GET", "/bad_abi", never, DESTEK_PUBLIC, NULL }, { 0 } };

const struct destek_plugin destek_plugin = {
  DESTEK_PLUGIN_ABI + 98, sizeof(struct destek_plugin), "bad_abi", "9.9.9", routes, NULL, NULL, NULL
};
