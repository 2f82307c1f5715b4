/* http: the request helpers that need no server: http_json_id (ids in JSON bodies). */
#include <math.h>
#include <string.h>

#include "check.h"
#include "http.h"

static void test_json_id(void)
{
  static const struct { const char *json; int ok; int64_t id; } cases[] = {
    { "1", 1, 1 }, { "42", 1, 42 }, { "42.0", 1, 42 }, { "9007199254740991", 1, 9007199254740991LL },
    { "9007199254740992", 0, 0 }, { "0", 0, 0 }, { "-1", 0, 0 }, { "1.5", 0, 0 }, { "0.999", 0, 0 },
    /* out of int64_t's range: these were cast before the range was checked (undefined behaviour) */
    { "1e300", 0, 0 }, { "-1e300", 0, 0 }, { "1e999", 0, 0 }, { "-1e999", 0, 0 }, { "9.3e18", 0, 0 },
    { "\"7\"", 0, 0 }, { "true", 0, 0 }, { "null", 0, 0 }, { "[7]", 0, 0 },
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    cJSON *v = cJSON_Parse(cases[i].json);
    CHECK(v);
    int64_t id = -7;
    int ok = http_json_id(v, &id);
    if (ok != cases[i].ok) fprintf(stderr, "  (json id case %s)\n", cases[i].json);
    CHECK(ok == cases[i].ok);
    CHECK(ok ? id == cases[i].id : id == -7);
    cJSON_Delete(v);
  }
  CHECK(!http_json_id(NULL, NULL));
  cJSON *nan = cJSON_CreateNumber(NAN);
  int64_t id = -7;
  CHECK(!http_json_id(nan, &id) && id == -7);
  cJSON_Delete(nan);
}

int main(void)
{
  test_json_id();
  CHECK_DONE();
}
