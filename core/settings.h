/* Settings declared by the core and plugins, stored in core_settings, changed by admins through the API. */
#ifndef DESTEK_SETTINGS_H
#define DESTEK_SETTINGS_H

#include "destek.h"

/* Declares settings (a table ending with a zeroed entry) for owner. A duplicate or malformed name: -1, logged. */
int settings_declare(const char *owner, const struct destek_setting *settings);
/* Current value as text, the default when unset (caller frees); NULL for an unknown name. */
char *settings_get_new(const char *name);
long settings_get_int(const char *name, long dflt);
/* Who declared the setting name (interned), and in *secret whether it is secret; NULL for an unknown name. */
const char *settings_owner(const char *name, int *secret);
int settings_get_bool(const char *name, int dflt);
/* GET/PATCH /api/v1/settings. */
int settings_routes_init(void);

#endif
