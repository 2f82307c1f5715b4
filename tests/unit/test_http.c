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

/* The language an anonymous customer's page is answered in: the first of tr/en by q, else English. */
static void test_lang_of_header(void)
{
  static const struct { const char *al, *lang; } cases[] = {
    { NULL, "en" }, { "", "en" }, { "*", "en" }, { "de-DE,de;q=0.9", "en" },
    { "tr", "tr" }, { "TR-tr", "tr" }, { "en-US,en;q=0.9", "en" }, { "en-GB", "en" },
    { "de-DE,de;q=0.9,en;q=0.8,tr;q=0.7", "en" }, { "de-DE,tr;q=0.9,en;q=0.8", "tr" },
    { "en;q=0.5, tr;q=0.8", "tr" }, { "en;q=0, de", "en" }, { "tr-TR,tr;q=0.9,en-US;q=0.8,en;q=0.7", "tr" },
    { "enx,trz", "en" }, { "english", "en" }, { "fr;q=0.9 , en ; q=0.4", "en" },
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    const char *got = http_lang_of_header(cases[i].al);
    if (strcmp(got, cases[i].lang)) fprintf(stderr, "  (Accept-Language %s: %s)\n", cases[i].al ? cases[i].al : "NULL", got);
    CHECK(!strcmp(got, cases[i].lang));
  }
}

int main(void)
{
  test_lang_of_header();
  test_json_id();
  CHECK_DONE();
}
