/* The customer portal's page registry (core/assets.c): which patterns are accepted, which paths they take. */
#include <string.h>

#include "assets.h"
#include "check.h"

int main(void)
{
  /* Malformed or reserved patterns are refused. */
  const char *bad[] = { "", "contact", "/", "//x", "/x//y", "/{id}", "/app", "/api/x", "/assets", "/login", "/setup",
                        "/Contact", "/x.html", "/t/{}", "/t/{Number}", "/t/{n", "/t/x}", "/t/{n}x", NULL };
  for (const char **p = bad; *p; p++) CHECK(assets_portal_page("test", *p, 0) == -1);
  CHECK(assets_portal_page("test", NULL, 0) == -1);
  CHECK(assets_portal_page("test", "/contact", 2) == -1);  /* an unknown flag */

  CHECK(assets_portal_page("test", "/contact", 0) == 0);
  CHECK(assets_portal_page("test", "/t/{number}", ASSETS_NOINDEX) == 0);
  CHECK(assets_portal_page("test", "/t/{number}", ASSETS_NOINDEX) == 0);   /* the same again: fine */
  CHECK(assets_portal_page("other", "/t/{ref}", 0) == -1);                /* the same paths, another module */
  CHECK(assets_portal_page("other", "/contact", 0) == -1);
  CHECK(assets_portal_page("other", "/returns/{id}/label", 0) == 0);

  CHECK(assets_portal_lookup("/contact") == 0);
  CHECK(assets_portal_lookup("/contact/") == 0);
  CHECK(assets_portal_lookup("/t/1042") == ASSETS_NOINDEX);
  CHECK(assets_portal_lookup("/t/nope") == ASSETS_NOINDEX);
  CHECK(assets_portal_lookup("/returns/7/label") == 0);
  const char *none[] = { "/", "/t", "/t/", "/t//", "/t/1/x", "/contacts", "/contact/x", "/contact//", "/returns/7",
                         "/returns//label", "/app", "/favicon.svg", NULL };
  for (const char **p = none; *p; p++) {
    if (assets_portal_lookup(*p) != -1) fprintf(stderr, "path %s\n", *p);
    CHECK(assets_portal_lookup(*p) == -1);
  }

  assets_portal_pages_remove_owner("test");
  CHECK(assets_portal_lookup("/contact") == -1);
  CHECK(assets_portal_lookup("/t/1042") == -1);
  CHECK(assets_portal_lookup("/returns/7/label") == 0);
  CHECK(assets_portal_page("other", "/t/{ref}", 0) == 0);                 /* free again */
  CHECK_DONE();
}
