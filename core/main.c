/* destek — the command line. `destek` alone (or `destek serve`) runs the server. */
#include <malloc.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "config.h"
#include "consent_proof.h"
#include "server.h"

static const char USAGE[] =
  "Destek " DESTEK_VERSION " — an after-sales support desk in one file.\n"
  "\n"
  "usage: destek [command] [options]\n"
  "\n"
  "commands:\n"
  "  serve                 run the server (the default)\n"
  "  admin add             add an admin or agent (password on standard input)\n"
  "  backup FILE           write the database and every stored file to FILE, a tar (works while the server runs)\n"
  "  restore FILE          replace the database and stored files with a backup (the server must be stopped)\n"
  "  migrate               apply database migrations and report the schema version\n"
  "  plugins [reload]      list the loaded plugins; reload the Lua plugins of the running server\n"
  "  consent proof|key|verify  a contact's signed consent proof; the signing key; check a proof document\n"
  "  version               print the version\n"
  "  help                  show this text\n";

static const char USAGE_END[] =
  "\n"
  "every command takes --data DIR (default ./destek-data, or $DESTEK_DATA); `destek COMMAND --help` tells more.\n"
  "DESTEK_NO_BUILTIN=NAME[,NAME] in the environment switches built-in plugins off (to try a module built as a .so\n"
  "in DIR/plugins instead).\n";

static const char SERVE_HELP[] =
  "usage: destek [serve] [options]\n"
  "\n"
  "  --listen HOST:PORT     address to listen on (default 127.0.0.1:8080, or $DESTEK_LISTEN);\n"
  "                         0.0.0.0:PORT for every interface, [::1]:PORT for IPv6, port 0 for any free port\n"
  "  --data DIR             data directory (default ./destek-data, or $DESTEK_DATA); created if missing\n"
  "  --tls-cert FILE        serve HTTPS with this PEM certificate (chain) ...\n"
  "  --tls-key FILE         ... and this PEM private key\n"
  "  --durability MODE      normal (default: survives a crash of the process) or full (also a power cut; slower)\n"
  "  --allow-private-net    let outbound calls (webhooks, plugins) reach loopback and private addresses\n"
  "  --trust-proxy          behind a reverse proxy on this machine: take the client's address and scheme from\n"
  "                         X-Forwarded-For / X-Forwarded-Proto of loopback connections\n"
  "  --body-memory MIB      memory large request bodies (uploads) may hold at once (default 128); beyond it they\n"
  "                         wait briefly, then get 503 with Retry-After\n"
  "\n"
  "On first start, while no admin exists, it prints a one-time /setup link for creating the first admin.\n";

static const char ADMIN_HELP[] =
  "usage: destek admin add --email EMAIL --name NAME --role admin|agent [--data DIR]\n"
  "\n"
  "Adds a user. The password is read from standard input (one line), e.g.\n"
  "  printf '%s\\n' \"$PASSWORD\" | destek admin add --email ayse@example.com --name 'Ayşe Yılmaz' --role admin\n"
  "Works whether or not the server is running: a running server does the work itself.\n";

static const char BACKUP_HELP[] =
  "usage: destek backup FILE [--data DIR]\n"
  "\n"
  "Writes one tar file: a consistent, compact copy of the database (destek.db) and every stored file\n"
  "(attachments/, files/: ticket attachments, modules' files), replacing FILE atomically. Safe while the\n"
  "server runs. Open it with `tar -tf FILE`; restore with `destek restore FILE` while the server is stopped.\n";

static const char RESTORE_HELP[] =
  "usage: destek restore FILE [--data DIR]\n"
  "\n"
  "Checks that FILE is a healthy Destek backup (the database's integrity and schema; every entry a regular\n"
  "file under attachments/ or files/, nothing outside the data directory; the archive complete) before it\n"
  "changes anything, keeps the current database and folders beside them as NAME.before-restore-TIME, and\n"
  "puts the backup's in their place. A backup of an older Destek (the database alone) still restores, with\n"
  "a warning. The server must be stopped.\n";

static const char MIGRATE_HELP[] =
  "usage: destek migrate [--data DIR]\n"
  "\n"
  "Applies pending database migrations (the server also does this when it starts) and prints the schema version.\n"
  "A database written by a newer Destek is refused and left untouched.\n";

static const char PLUGINS_HELP[] =
  "usage: destek plugins [list|reload] [--data DIR]\n"
  "\n"
  "  list (default)  the loaded plugins: name, version, kind (C built-in, C .so, Lua built-in, Lua) and source\n"
  "  reload          make the running server reload its Lua plugins from DIR/plugins without a restart\n"
  "                  (the same as sending it SIGHUP)\n"
  "C plugins (.so) and Lua plugins (.lua) are loaded from DIR/plugins when the server starts.\n";

static const char VERSION_HELP[] = "usage: destek version\n\nPrints the version.\n";

/* The core's help, then the commands the plugins add (of the built-in ones, and of the .so files in the data
 * directory given or the default one). */
static void help(const char *data)
{
  fputs(USAGE, stdout);
  commands_help(stdout, data);
  fputs(USAGE_END, stdout);
}

static int usage_error(const char *msg)
{
  fprintf(stderr, "destek: %s\n(see: destek help)\n", msg);
  return 2;
}

int main(int argc, char **argv)
{
  /* One malloc arena per worker thread would keep tens of idle megabytes resident on a small VPS; two are plenty
   * for a server whose work is mostly SQLite and short requests. */
  mallopt(M_ARENA_MAX, 2);
  /* SQLite's memory statistics take one process-wide mutex on every allocation: with a reader per worker thread
   * that lock was the busiest in the server. Nothing reads the statistics. */
  sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  struct config cfg;
  config_defaults(&cfg);
  const char *cmd = "serve";
  int first = 1;
  if (argc > 1 && argv[1][0] != '-') { cmd = argv[1]; first = 2; }
  else if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) { help(cfg.data); return 0; }
  else if (argc > 1 && !strcmp(argv[1], "--version")) { printf("destek %s\n", DESTEK_VERSION); return 0; }

  const char *pos[2];
  int n_pos, rc;
  if (!strcmp(cmd, "help")) {
    const struct flag flags[] = { { "data", &cfg.data, NULL }, { 0 } };
    rc = config_parse(cmd, argc - first, argv + first, flags, pos, 0, &n_pos);
    if (rc == CONFIG_USAGE) return rc;
    help(cfg.data);
    return 0;
  }

  if (!strcmp(cmd, "version")) {
    rc = config_parse(cmd, argc - first, argv + first, NULL, pos, 0, &n_pos);
    if (rc == CONFIG_HELP) { fputs(VERSION_HELP, stdout); return 0; }
    if (rc) return rc;
    printf("destek %s\n", DESTEK_VERSION);
    return 0;
  }

  if (!strcmp(cmd, "serve")) {
    int allow_private = 0, trust_proxy = 0;
    const char *body_memory = NULL;
    const struct flag flags[] = {
      { "listen", &cfg.listen, NULL }, { "data", &cfg.data, NULL }, { "tls-cert", &cfg.tls_cert, NULL },
      { "tls-key", &cfg.tls_key, NULL }, { "durability", &cfg.durability, NULL },
      { "allow-private-net", NULL, &allow_private }, { "trust-proxy", NULL, &trust_proxy },
      { "body-memory", &body_memory, NULL }, { 0 }
    };
    rc = config_parse(cmd, argc - first, argv + first, flags, pos, 0, &n_pos);
    if (rc == CONFIG_HELP) { fputs(SERVE_HELP, stdout); return 0; }
    if (rc) return rc;
    if (strcmp(cfg.durability, "normal") && strcmp(cfg.durability, "full"))
      return usage_error("--durability must be normal or full");
    if (body_memory) {
      char *end;
      long mib = strtol(body_memory, &end, 10);
      if (!*body_memory || *end || mib < 8 || mib > 65536)
        return usage_error("--body-memory is a number of MiB from 8 to 65536");
      cfg.body_memory_mib = mib;
    }
    cfg.allow_private_net = allow_private;
    cfg.trust_proxy = trust_proxy;
    return server_run(&cfg);
  }

  if (!strcmp(cmd, "admin")) {
    if (argc > 2 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"))) { fputs(ADMIN_HELP, stdout); return 0; }
    if (argc < 3 || strcmp(argv[2], "add") != 0) return usage_error("the admin command is: destek admin add ...");
    const char *email = NULL, *name = NULL, *role = NULL;
    const struct flag flags[] = {
      { "email", &email, NULL }, { "name", &name, NULL }, { "role", &role, NULL }, { "data", &cfg.data, NULL }, { 0 }
    };
    rc = config_parse("admin add", argc - 3, argv + 3, flags, pos, 0, &n_pos);
    if (rc == CONFIG_HELP) { fputs(ADMIN_HELP, stdout); return 0; }
    if (rc) return rc;
    if (!email || !name || !role) return usage_error("admin add needs --email, --name and --role");
    return cli_admin_add(&cfg, email, name, role);
  }

  if (!strcmp(cmd, "backup") || !strcmp(cmd, "restore")) {
    const struct flag flags[] = { { "data", &cfg.data, NULL }, { 0 } };
    int is_backup = !strcmp(cmd, "backup");
    rc = config_parse(cmd, argc - first, argv + first, flags, pos, 1, &n_pos);
    if (rc == CONFIG_HELP) { fputs(is_backup ? BACKUP_HELP : RESTORE_HELP, stdout); return 0; }
    if (rc) return rc;
    if (n_pos != 1) return usage_error(is_backup ? "usage: destek backup FILE" : "usage: destek restore FILE");
    return is_backup ? cli_backup(&cfg, pos[0]) : cli_restore(&cfg, pos[0]);
  }

  if (!strcmp(cmd, "migrate")) {
    const struct flag flags[] = { { "data", &cfg.data, NULL }, { 0 } };
    rc = config_parse(cmd, argc - first, argv + first, flags, pos, 0, &n_pos);
    if (rc == CONFIG_HELP) { fputs(MIGRATE_HELP, stdout); return 0; }
    if (rc) return rc;
    return cli_migrate(&cfg);
  }

  if (!strcmp(cmd, "plugins")) {
    const struct flag flags[] = { { "data", &cfg.data, NULL }, { 0 } };
    rc = config_parse(cmd, argc - first, argv + first, flags, pos, 1, &n_pos);
    if (rc == CONFIG_HELP) { fputs(PLUGINS_HELP, stdout); return 0; }
    if (rc) return rc;
    const char *action = n_pos ? pos[0] : "list";
    if (strcmp(action, "list") && strcmp(action, "reload")) return usage_error("usage: destek plugins [list|reload]");
    return cli_plugins(&cfg, action);
  }

  if (!strcmp(cmd, "consent")) return consent_cli(&cfg, argc - first, argv + first);

  if (first == 2 && (rc = commands_main(&cfg, argc - 1, argv + 1)) >= 0) return rc;

  char msg[256];
  snprintf(msg, sizeof msg, "unknown command '%s'", cmd);
  return usage_error(msg);
}
