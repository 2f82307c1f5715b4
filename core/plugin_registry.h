/* The built-in C plugins, linked into the binary: one table, in load order, ending with NULL. */
#ifndef DESTEK_PLUGIN_REGISTRY_H
#define DESTEK_PLUGIN_REGISTRY_H
#include "destek.h"
extern const struct destek_plugin *const plugin_registry[];
#endif
