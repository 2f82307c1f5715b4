/* Command-line flags and environment defaults. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void config_defaults(struct config *cfg)
{
  const char *v;
  cfg->listen = (v = getenv("DESTEK_LISTEN")) && *v ? v : "127.0.0.1:8080";
  cfg->data = (v = getenv("DESTEK_DATA")) && *v ? v : "./destek-data";
  cfg->tls_cert = cfg->tls_key = NULL;
  cfg->durability = "normal";
  cfg->allow_private_net = 0;
}

int config_parse(const char *command, int argc, char **argv, const struct flag *flags, const char **positional,
                 int max_positional, int *n_positional)
{
  *n_positional = 0;
  for (int i = 0; i < argc; i++) {
    const char *arg = argv[i];
    if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) return CONFIG_HELP;
    if (strncmp(arg, "--", 2) != 0 || !arg[2]) {
      if (arg[0] == '-' && arg[1]) {
        fprintf(stderr, "destek %s: unknown option '%s' (see: destek %s --help)\n", command, arg, command);
        return CONFIG_USAGE;
      }
      if (*n_positional >= max_positional) {
        fprintf(stderr, "destek %s: unexpected argument '%s' (see: destek %s --help)\n", command, arg, command);
        return CONFIG_USAGE;
      }
      positional[(*n_positional)++] = arg;
      continue;
    }
    const char *name = arg + 2, *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    const struct flag *f = NULL;
    for (const struct flag *c = flags; c && c->name; c++)
      if (strlen(c->name) == len && !strncmp(c->name, name, len)) { f = c; break; }
    if (!f) {
      fprintf(stderr, "destek %s: unknown option '--%.*s' (see: destek %s --help)\n", command, (int)len, name, command);
      return CONFIG_USAGE;
    }
    if (!f->value) {
      if (eq) { fprintf(stderr, "destek %s: --%s takes no value\n", command, f->name); return CONFIG_USAGE; }
      if (f->is_set) *f->is_set = 1;
      continue;
    }
    const char *value = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
    if (!value || !*value) {
      fprintf(stderr, "destek %s: --%s needs a value\n", command, f->name);
      return CONFIG_USAGE;
    }
    *f->value = value;
  }
  return CONFIG_OK;
}
