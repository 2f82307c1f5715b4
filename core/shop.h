/* The shop's face on the public pages (shop.c): settings shop.name, shop.logo_url, shop.colour, shop.privacy_url. */
#ifndef DESTEK_SHOP_H
#define DESTEK_SHOP_H

int shop_init(void);
/* A shop.* setting's value, "" when unset or not acceptable (an address that is not http(s), a colour not #rrggbb).
 * Caller frees. */
char *shop_setting_new(const char *name);
int shop_url_ok(const char *v);
int shop_colour_ok(const char *v);

#endif
