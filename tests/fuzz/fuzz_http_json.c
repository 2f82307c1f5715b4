/* Fuzz target: the JSON body reader (http_body_object, cJSON underneath) and the typed field validators
 * (http_field_str/enum/bool/email) a handler runs on what it read.
 *
 * Input: a request body. Its bytes become the body of a request whose reading is done (as after read_body), so
 * http_body_object parses exactly what a client sent. On an object, every validator runs on every member name
 * (each validator on each kind of value), on members of nested objects (handlers validate "customer" and
 * "changes" objects the same way), and on the names real handlers use, required and optional. Checked: each
 * result keeps its contract (http.h): 0 with a value of the promised shape, or the 4xx it set up as the response. */
#include <ctype.h>

#include "fuzz.h"
#include "http.h"
#include "util.h"

static const char *const STATUSES[] = { "new", "open", "pending", "on_hold", "solved", "closed", NULL };
static const char *const LANGS[] = { "tr", "en", NULL };

/* The response a validator set up: an error body with a code, and the status it returned. */
static void check_error(struct destek_req *r, int rc)
{
  FUZZ_CHECK(rc >= 400 && rc < 500 && r->status == rc);
  const cJSON *e = cJSON_GetObjectItemCaseSensitive(r->out_json, "error");
  FUZZ_CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "code")));
  cJSON_Delete(r->out_json);
  r->out_json = NULL;
  r->status = 0;
}

static void check_str(struct destek_req *r, const cJSON *obj, const char *name, int required, size_t maxlen)
{
  const char *v = (const char *)1;
  int rc = http_field_str(r, obj, name, required, maxlen, &v);
  if (rc) { FUZZ_CHECK(rc == 422 && !v); check_error(r, rc); return; }
  if (!v) { FUZZ_CHECK(!required); return; }
  size_t n = strlen(v);
  FUZZ_CHECK(n <= maxlen && (n > 0 || !required));
  FUZZ_CHECK(util_utf8_valid(v, n));
  FUZZ_CHECK(n == 0 || (!isspace((unsigned char)v[0]) && !isspace((unsigned char)v[n - 1])));
  /* validated once, the value is stored back trimmed: a second look gives the same */
  const char *again = NULL;
  FUZZ_CHECK(http_field_str(r, obj, name, required, maxlen, &again) == 0 && again && !strcmp(again, v));
}

static void check_enum(struct destek_req *r, const cJSON *obj, const char *name, int required,
                       const char *const *choices)
{
  const char *v = (const char *)1;
  int rc = http_field_enum(r, obj, name, required, choices, &v);
  if (rc) { FUZZ_CHECK(!v); check_error(r, rc); return; }
  if (!v) { FUZZ_CHECK(!required); return; }
  int known = 0;
  for (const char *const *c = choices; *c; c++) known |= !strcmp(*c, v);
  FUZZ_CHECK(known);
}

static void check_bool(struct destek_req *r, const cJSON *obj, const char *name, int required)
{
  int v = 7;
  int rc = http_field_bool(r, obj, name, required, &v);
  if (rc) { check_error(r, rc); return; }
  FUZZ_CHECK(v == 0 || v == 1 || (v == -1 && !required));
}

static void check_email(struct destek_req *r, const cJSON *obj, const char *name, int required)
{
  char out[256];
  memset(out, 'x', sizeof out);
  int rc = http_field_email(r, obj, name, required, out);
  if (rc) { FUZZ_CHECK(out[0] == 0); check_error(r, rc); return; }
  size_t n = strnlen(out, sizeof out);
  FUZZ_CHECK(n < sizeof out);
  if (!n) { FUZZ_CHECK(!required); return; }
  const char *at = strchr(out, '@');
  FUZZ_CHECK(at && at != out && !strchr(at + 1, '@') && strchr(at + 1, '.'));
  for (const char *p = out; *p; p++) FUZZ_CHECK(!isupper((unsigned char)*p) && (unsigned char)*p > ' ');
}

static void check_id(const cJSON *obj, const char *name)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
  int64_t id = -7;
  if (http_json_id(v, &id)) FUZZ_CHECK(id >= 1 && id <= 9007199254740991LL && (double)id == v->valuedouble);
  else FUZZ_CHECK(id == -7);
}

static void check_all(struct destek_req *r, const cJSON *obj, const char *name)
{
  check_id(obj, name);
  for (int required = 0; required <= 1; required++) {
    check_bool(r, obj, name, required);
    check_enum(r, obj, name, required, STATUSES);
    check_email(r, obj, name, required);
    check_str(r, obj, name, required, 200);
    check_str(r, obj, name, required, 3);
  }
}

static void check_object(struct destek_req *r, const cJSON *obj, int depth)
{
  /* The names are copied first: http_field_str replaces a string value, never a member, but be safe. */
  for (const cJSON *c = obj->child; c; c = c->next) {
    if (!c->string) continue;
    char *name = util_strdup(c->string);
    check_all(r, obj, name);
    free(name);
    if (cJSON_IsObject(c) && depth < 3) check_object(r, c, depth + 1);
  }
  static const char *const names[] = { "email", "name", "subject", "body", "password", "status", "lang",
                                       "active", "", NULL };
  for (const char *const *n = names; *n; n++) check_all(r, obj, *n);
  check_enum(r, obj, "lang", 0, LANGS);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct destek_req r;
  memset(&r, 0, sizeof r);
  r.owner = "core";
  r.method = "POST";
  r.path = "/api/v1/fuzz";
  r.body = fuzz_cstr_new(data, size);
  r.body_len = size;
  r.body_read = 1;

  cJSON *obj = NULL;
  int rc = http_body_object(&r, &obj);
  if (rc) {
    FUZZ_CHECK(rc == 400 && !obj);
    check_error(&r, rc);
  } else {
    FUZZ_CHECK(cJSON_IsObject(obj) && obj == r.json);
    cJSON *again = NULL;
    FUZZ_CHECK(http_body_object(&r, &again) == 0 && again == obj);  /* parsed once, kept */
    check_object(&r, obj, 0);
  }

  cJSON_Delete(r.json);
  cJSON_Delete(r.out_json);
  free(r.body);
  return 0;
}
