/* Command-line flags, environment defaults and the settings every command shares. */
#ifndef DESTEK_CONFIG_H
#define DESTEK_CONFIG_H

struct config {
  const char *listen;          /* --listen / DESTEK_LISTEN, default 127.0.0.1:8080 */
  const char *data;            /* --data / DESTEK_DATA, default ./destek-data */
  const char *tls_cert;        /* --tls-cert */
  const char *tls_key;         /* --tls-key */
  const char *durability;      /* --durability normal|full */
  int allow_private_net;       /* --allow-private-net */
  int trust_proxy;             /* --trust-proxy */
  long body_memory_mib;        /* --body-memory: MiB request bodies may hold at once; 0 for the default */
};

/* A flag a command accepts: "--name VALUE" / "--name=VALUE", or a switch when value is NULL. */
struct flag {
  const char *name;            /* without the dashes */
  const char **value;          /* where a value goes; NULL for a switch */
  int *is_set;                 /* for switches */
};

enum { CONFIG_OK = 0, CONFIG_HELP = 1, CONFIG_USAGE = 2 };

/* Parses argv[0..argc) against flags; other words go to positional (up to max_positional). Prints a clear message
 * for an unknown flag, a missing value or too many arguments and returns CONFIG_USAGE; CONFIG_HELP for -h/--help. */
int config_parse(const char *command, int argc, char **argv, const struct flag *flags, const char **positional,
                 int max_positional, int *n_positional);

/* Fills defaults from the environment. */
void config_defaults(struct config *cfg);

#endif
