/* private_sym — a test-only plugin that calls a private function of the core (db_reader, not part of the plugin
 * API). The binary does not export it, so loading must fail with a log line that names the symbol, and the server
 * must run on without the plugin. */
#include "destek.h"

struct db;
struct db *db_reader(void);   /* the core's, deliberately: what a plugin must not do */

static int peek(struct destek_req *r) { return db_reader() ? 200 : 500; }

static const struct destek_route routes[] = { { "GET", "/private_sym", peek, DESTEK_PUBLIC, NULL }, { 0 } };

const struct destek_plugin destek_plugin = {
  DESTEK_PLUGIN_ABI, sizeof(struct destek_plugin), "private_sym", "1.0.0", routes, NULL, NULL, NULL, NULL
};
