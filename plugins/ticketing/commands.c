/* The ticketing module's CLI commands (struct destek_plugin.commands): `destek demo` fills a new desk offline
 * (demo.c), `destek mail import` files one raw message from standard input, in the running server when there is
 * one (mail_in.c). */
#include "tkt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"
#include "mail_tkt.h"

static int say(char **message, int code, const char *text)
{
  *message = strdup(text);
  if (!*message) abort();
  return code;
}

/* destek demo [--force] [--size N] */
static int demo_run(int argc, const char *const *argv, const char *input, size_t input_len, char **message)
{
  (void)input; (void)input_len;
  int force = 0;
  long size = 0;
  for (int i = 0; i < argc; i++) {
    const char *value = NULL;
    if (!strcmp(argv[i], "--force")) { force = 1; continue; }
    if (!strcmp(argv[i], "--size")) value = i + 1 < argc ? argv[++i] : "";
    else if (!strncmp(argv[i], "--size=", 7)) value = argv[i] + 7;
    else {
      char text[300];
      snprintf(text, sizeof text, "unknown option '%.200s' (see: destek demo --help)", argv[i]);
      return say(message, 2, text);
    }
    char *end = NULL;
    size = strtol(value, &end, 10);
    if (!*value || *end || size < 1 || size > 10000000)
      return say(message, 2, "--size must be a number of tickets (1 to 10000000)");
  }
  char *text = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&text, &len);
  if (!out) abort();
  int code = tkt_demo_fill(force, size, out);
  fclose(out);
  while (len && text[len - 1] == '\n') text[--len] = 0;
  *message = text;
  return code;
}

/* destek mail import < message.eml */
static int mail_import_run(int argc, const char *const *argv, const char *input, size_t input_len, char **message)
{
  (void)argv;
  if (argc) return say(message, 2, "mail import takes no arguments: the message comes on standard input");
  if (!input_len) return say(message, 2, "give the message on standard input");
  struct destek_req *c = tkt_host->call_new(tkt_host);
  char err[300] = "";
  cJSON *res = tkt_mail_ingest(c, input, input_len, "cli", err, sizeof err);
  int code = 1;
  if (res && tkt_host->call_end(c, 1) == 0) {
    code = 0;
    char *text = cJSON_PrintUnformatted(res);
    say(message, 0, text);
    cJSON_free(text);
  } else {
    if (!res) tkt_host->call_end(c, 0);
    say(message, 1, err[0] ? err : "the message could not be saved");
  }
  cJSON_Delete(res);
  return code;
}

const struct destek_command tkt_commands[] = {
  { "demo", "[--force] [--size N]", "fill a new desk with a demo shop (Anadolu Tekstil) to try Destek",
    "Fills the desk in DIR with demo data: Anadolu Tekstil, an online towel and bathrobe shop, with an admin and\n"
    "four agents (their demo passwords are printed at the end), about 120 customers and a few hundred tickets in\n"
    "Turkish and English over the last four weeks. Run it on a new data directory with the server stopped; a desk\n"
    "that already has tickets is refused unless --force (which adds the demo data beside them).\n"
    "--size N writes N bench tickets of 5 messages each instead (for tests/bench/tickets.sh).\n",
    DESTEK_COMMAND_OFFLINE, 0, demo_run },
  { "mail import", "< message.eml", "file one raw e-mail message from standard input (for an MTA pipe)",
    "Files one raw e-mail message read from standard input (for an MTA pipe, e.g. a .forward or an aliases entry\n"
    "\"|destek mail import --data DIR\"): a reply joins its ticket, other mail opens an e-mail ticket, and a message\n"
    "that cannot be filed is kept for an admin (GET /api/v1/mail/unparsed). A running server does the work; without\n"
    "one it is done here. Exits 0 once the message is stored; at most 700 KiB.\n",
    DESTEK_COMMAND_SERVER, DESTEK_COMMAND_INPUT_MAX, mail_import_run },
  { 0 }
};
