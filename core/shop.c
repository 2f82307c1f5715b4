/* The shop's face on the public pages: its name, logo, colour and KVKK notice (aydınlatma metni), settings of the
 * core that every module's public page shows (the customer portal's shell, the tracking, returns and help pages).
 *
 *   GET /api/v1/public/shop → {name, logo_url, colour, privacy_url}: empty strings for what is not set; a logo or
 *       notice address that is not http(s), or a colour that is not #rrggbb, is given as "" (never put on a page).
 *   GET /shop/theme.css → :root{--shop-colour:#rrggbb} for the server-rendered pages. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "settings.h"
#include "shop.h"

static const struct destek_setting shop_settings[] = {
  { "shop.name", DESTEK_SETTING_STRING, "", 0, "The shop's name on its public pages (contact form, ticket page, tracking, returns, help)" },
  { "shop.logo_url", DESTEK_SETTING_STRING, "", 0, "The address (https://...) of the shop's logo on its public pages" },
  { "shop.colour", DESTEK_SETTING_STRING, "", 0, "The shop's colour on its public pages, as #rrggbb" },
  { "shop.privacy_url", DESTEK_SETTING_STRING, "", 0,
    "The address (https://...) of the shop's KVKK notice (aydınlatma metni), linked where a page collects personal data" },
  { 0 }
};

int shop_url_ok(const char *v)
{
  if (!v || strlen(v) > 1000 || (strncmp(v, "https://", 8) && strncmp(v, "http://", 7))) return 0;
  for (const unsigned char *p = (const unsigned char *)v; *p; p++)
    if (*p <= 0x20 || *p == '"' || *p == '<' || *p == '>' || *p == '\\' || *p == 0x7f) return 0;
  return 1;
}

int shop_colour_ok(const char *v)
{
  if (!v || strlen(v) != 7 || v[0] != '#') return 0;
  for (int i = 1; i < 7; i++)
    if (!strchr("0123456789abcdefABCDEF", v[i])) return 0;
  return 1;
}

char *shop_setting_new(const char *name)
{
  char *v = settings_get_new(name);
  if (!v) v = strdup("");
  if (!v) abort();
  int ok = 1;
  if (!strcmp(name, "shop.logo_url") || !strcmp(name, "shop.privacy_url")) ok = !*v || shop_url_ok(v);
  else if (!strcmp(name, "shop.colour")) ok = !*v || shop_colour_ok(v);
  if (!ok) *v = 0;
  return v;
}

static int shop_get(struct destek_req *r)
{
  static const char *const names[][2] = {
    { "name", "shop.name" }, { "logo_url", "shop.logo_url" }, { "colour", "shop.colour" }, { "privacy_url", "shop.privacy_url" },
  };
  cJSON *o = cJSON_CreateObject();
  for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
    char *v = shop_setting_new(names[i][1]);
    cJSON_AddStringToObject(o, names[i][0], v);
    free(v);
  }
  return http_reply_json(r, 200, o);
}

/* GET /shop/theme.css: the shop's colour as the CSS variable --shop-colour, for server-rendered public pages
 * (tracking, returns) that link it after their own style (their CSP allows no inline style). */
static int theme_get(struct destek_req *r)
{
  char *c = shop_setting_new("shop.colour");
  char *css = NULL;
  if (asprintf(&css, *c ? ":root{--shop-colour:%s}\n" : "/* no shop colour (shop.colour) */\n", c) < 0) abort();
  free(c);
  http_add_header(r, "Cache-Control", "no-cache");
  return http_reply_body(r, 200, "text/css; charset=utf-8", css, strlen(css));
}

static const struct destek_route routes[] = {
  { "GET", "/api/v1/public/shop", shop_get, DESTEK_PUBLIC, NULL },
  { "GET", "/shop/theme.css", theme_get, DESTEK_PUBLIC, NULL },
  { 0 }
};

int shop_init(void)
{
  return settings_declare("core", shop_settings) | http_routes_add("core", routes);
}
