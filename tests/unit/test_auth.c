/* auth: PBKDF2 hashes verify, wrong ones do not, malformed ones fail closed; routes without access are refused. */
#include <string.h>

#include "auth.h"
#include "check.h"
#include "http.h"

static int dummy(struct destek_req *r) { return http_reply_empty(r, 204); }

int main(void)
{
  /* made with Python's hashlib.pbkdf2_hmac('sha256', b'correct horse', b'0123456789abcdef', 1000, 32) */
  const char *known = "pbkdf2_sha256$1000$MDEyMzQ1Njc4OWFiY2RlZg$cBg8D2DungRB9k76szThf5ehfyBz991ay6PT8Srwk4M";
  CHECK(auth_password_verify("correct horse", known) == 1);
  CHECK(auth_password_verify("correct horsE", known) == 0);
  CHECK(auth_password_verify("correct horse", "pbkdf2_sha256$1000$MDEy$short") == 0);
  CHECK(auth_password_verify("correct horse", "md5$whatever") == 0);
  CHECK(auth_password_verify("correct horse", NULL) == 0);

  char *h = auth_password_hash_new("Şifre-ıİğĞ-123");
  CHECK(h && !strncmp(h, "pbkdf2_sha256$600000$", 21));
  CHECK(auth_password_verify("Şifre-ıİğĞ-123", h) == 1);
  CHECK(auth_password_verify("Şifre-iIğĞ-123", h) == 0);
  char *h2 = auth_password_hash_new("Şifre-ıİğĞ-123");
  CHECK(h2 && strcmp(h, h2) != 0);  /* random salt */
  free(h); free(h2);

  struct auth_who agent = { .via = AUTH_COOKIE, .role = "agent" }, admin = { .via = AUTH_COOKIE, .role = "admin" };
  struct auth_who none = { .via = AUTH_NONE };
  char scopes[] = " metrics ";
  struct auth_who tok = { .via = AUTH_BEARER, .role = "admin", .scopes = scopes };
  CHECK(auth_allows(&agent, "agent") && !auth_allows(&agent, "admin") && !auth_allows(&agent, "metrics"));
  CHECK(auth_allows(&admin, "admin") && auth_allows(&admin, "metrics"));
  CHECK(auth_allows(&none, "public") && !auth_allows(&none, "agent"));
  CHECK(auth_allows(&tok, "metrics") && !auth_allows(&tok, "agent") && !auth_allows(&tok, "admin"));
  /* A token never does more than its owner's current role: an agent's token is an agent's, whatever it holds. */
  char held_scopes[] = " metrics admin agent ";
  struct auth_who demoted = { .via = AUTH_BEARER, .role = "agent", .scopes = held_scopes };
  CHECK(auth_allows(&demoted, "agent") && !auth_allows(&demoted, "metrics") && !auth_allows(&demoted, "admin"));
  cJSON *held = cJSON_Parse("[\"metrics\",\"admin\",\"reports:read\"]");
  cJSON *as_admin = auth_token_scopes_new(held, "admin", 1), *as_agent = auth_token_scopes_new(held, "agent", 1),
        *inactive = auth_token_scopes_new(held, "admin", 0);
  char *a = cJSON_PrintUnformatted(as_admin), *g = cJSON_PrintUnformatted(as_agent), *n = cJSON_PrintUnformatted(inactive);
  CHECK(!strcmp(a, "[\"metrics\",\"admin\",\"reports:read\"]") && !strcmp(g, "[\"agent\"]") && !strcmp(n, "[]"));
  cJSON_free(a); cJSON_free(g); cJSON_free(n);
  cJSON_Delete(held); cJSON_Delete(as_admin); cJSON_Delete(as_agent); cJSON_Delete(inactive);

  const struct destek_route no_access[] = { { "GET", "/x", dummy, NULL, NULL }, { 0 } };
  const struct destek_route empty_access[] = { { "GET", "/y", dummy, "", NULL }, { 0 } };
  const struct destek_route bad_param[] = { { "GET", "/z/{id}", dummy, "agent", "id:uuid" }, { 0 } };
  const struct destek_route good[] = { { "GET", "/w/{id}", dummy, "agent", "id:int" }, { 0 } };
  CHECK(http_routes_add("test", no_access) == -1);
  CHECK(http_routes_add("test", empty_access) == -1);
  CHECK(http_routes_add("test", bad_param) == -1);
  CHECK(http_routes_add("test", good) == 0);
  CHECK(http_routes_add("test", good) == -1);  /* duplicate */
  CHECK_DONE();
}
