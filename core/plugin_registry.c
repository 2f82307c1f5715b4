/* The built-in C plugins (see plugin_registry.h). A module under plugins/<name>/ adds its struct here. */
#include "plugin_registry.h"

extern const struct destek_plugin ticketing_plugin;

const struct destek_plugin *const plugin_registry[] = {
  &ticketing_plugin,
  NULL
};
