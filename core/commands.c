/* Plugins' CLI commands (see commands.h). */
#include "commands.h"

#include <dirent.h>
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "control.h"
#include "datadir.h"
#include "log.h"
#include "lua_host.h"
#include "plugin.h"
#include "plugin_registry.h"
#include "server.h"
#include "services.h"
#include "util.h"
#include "http.h"

/* The core's own commands: a plugin cannot take these names, nor start a two-word name with them. */
static const char *const CORE_COMMANDS[] = { "serve", "admin", "backup", "restore", "migrate", "plugins", "version",
                                             "help", "consent", NULL };

#define TABLES_MAX 64

/* A plugin's command table as the CLI sees it, before anything is loaded. */
struct table {
  const char *plugin;
  const struct destek_command *commands;
};

static int word_ok(const char *w, size_t n)
{
  if (n == 0 || n > 32 || w[0] < 'a' || w[0] > 'z') return 0;
  for (size_t i = 0; i < n; i++)
    if (!((w[i] >= 'a' && w[i] <= 'z') || (w[i] >= '0' && w[i] <= '9') || w[i] == '-' || w[i] == '_')) return 0;
  return 1;
}

static int is_core(const char *w, size_t n)
{
  for (const char *const *c = CORE_COMMANDS; *c; c++)
    if (strlen(*c) == n && !strncmp(*c, w, n)) return 1;
  return 0;
}

int commands_check(const char *plugin, const struct destek_command *commands,
                   const struct destek_command *(*taken)(const char *name, const char **plugin))
{
  for (const struct destek_command *c = commands; c && c->name; c++) {
    const char *sp = strchr(c->name, ' ');
    size_t first = sp ? (size_t)(sp - c->name) : strlen(c->name);
    if (!word_ok(c->name, first) || (sp && !word_ok(sp + 1, strlen(sp + 1)))) {
      log_error("plugin", "%s: command '%s' refused: one or two lower-case words ([a-z0-9_-]) are expected", plugin,
                c->name);
      return -1;
    }
    if (is_core(c->name, first)) {
      log_error("plugin", "%s: command '%s' refused: '%.*s' is a command of the core", plugin, c->name, (int)first,
                c->name);
      return -1;
    }
    if ((c->where != DESTEK_COMMAND_OFFLINE && c->where != DESTEK_COMMAND_SERVER) || !c->run) {
      log_error("plugin", "%s: command '%s' refused: it needs a run function and where = DESTEK_COMMAND_OFFLINE or "
                "DESTEK_COMMAND_SERVER", plugin, c->name);
      return -1;
    }
    const char *owner = NULL;
    for (const struct destek_command *d = commands; d < c; d++)
      if (!strcmp(d->name, c->name)) owner = plugin;
    if (!owner && taken) taken(c->name, &owner);
    if (owner) {
      log_error("plugin", "%s: command '%s' refused: %s has a command of that name", plugin, c->name, owner);
      return -1;
    }
  }
  return 0;
}

/* ------------------------------------------------------------------------------------------------ discovery */

/* The command tables of the built-in plugins (but those switched off) and of the .so plugins in data_dir/plugins,
 * read without loading anything into the server: a .so is opened, its struct read, its init not called. */
static int tables_collect(const char *data_dir, struct table *out, int max)
{
  int n = 0;
  for (const struct destek_plugin *const *p = plugin_registry; *p && n < max; p++)
    if (!plugin_builtin_off((*p)->name) && plugin_struct_commands(*p))
      out[n++] = (struct table){ (*p)->name, plugin_struct_commands(*p) };
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/plugins", data_dir);
  DIR *d = opendir(dir);
  if (!d) return n;
  struct dirent *de;
  while ((de = readdir(d)) && n < max) {
    size_t len = strlen(de->d_name);
    if (len <= 3 || strcmp(de->d_name + len - 3, ".so")) continue;
    char path[4352];
    snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
    /* Left open: the process is a short CLI run, and the loader opens the same file again (one mapping). */
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    const struct destek_plugin *p = dl ? dlsym(dl, "destek_plugin") : NULL;
    if (!p || p->abi != DESTEK_PLUGIN_ABI || !p->name) continue;   /* the loader says why, when it loads them */
    if (plugin_struct_commands(p)) out[n++] = (struct table){ p->name, plugin_struct_commands(p) };
  }
  closedir(d);
  return n;
}

static void usage_line(FILE *out, const struct destek_command *c)
{
  fprintf(out, "usage: destek %s [--data DIR]%s%s\n", c->name, c->args && *c->args ? " " : "", c->args ? c->args : "");
}

void commands_help(FILE *out, const char *data_dir)
{
  struct table t[TABLES_MAX];
  int n = tables_collect(data_dir, t, TABLES_MAX), any = 0;
  for (int i = 0; i < n; i++)
    for (const struct destek_command *c = t[i].commands; c->name; c++) {
      if (!any++) fprintf(out, "\ncommands of the plugins:\n");
      fprintf(out, "  %-21s %s (%s)\n", c->name, c->summary ? c->summary : "", t[i].plugin);
    }
}

/* The usage lines of every command whose first word is word ("destek orders": orders demo and orders import), each
 * after prefix. */
static void usage_lines(FILE *out, const char *prefix, struct table *t, int n, const char *word)
{
  for (int i = 0; i < n; i++)
    for (const struct destek_command *c = t[i].commands; c->name; c++) {
      const char *sp = strchr(c->name, ' ');
      size_t first = sp ? (size_t)(sp - c->name) : strlen(c->name);
      if (strlen(word) != first || strncmp(word, c->name, first)) continue;
      fputs(prefix, out);
      usage_line(out, c);
    }
}

/* The command argv starts with, and how many words its name takes; NULL when none matches. *near is set to a
 * two-word command whose first word matched but not its second ("destek mail"), for the usage message. */
static const struct destek_command *match(struct table *t, int n, int argc, char **argv, int *words,
                                          const struct destek_command **near, const char **plugin)
{
  *near = NULL;
  for (int i = 0; i < n; i++)
    for (const struct destek_command *c = t[i].commands; c->name; c++) {
      const char *sp = strchr(c->name, ' ');
      size_t first = sp ? (size_t)(sp - c->name) : strlen(c->name);
      if (strlen(argv[0]) != first || strncmp(argv[0], c->name, first)) continue;
      if (!sp) { *words = 1; *plugin = t[i].plugin; return c; }
      if (argc > 1 && !strcmp(argv[1], sp + 1)) { *words = 2; *plugin = t[i].plugin; return c; }
      if (!*near) *near = c;
    }
  return NULL;
}

/* ------------------------------------------------------------------------------------------------ running */

/* Reads standard input, at most max bytes. NULL (message printed) when there is more. */
static char *read_input(const char *name, size_t max, size_t *len)
{
  char *buf = malloc(max + 2);
  if (!buf) abort();
  size_t n;
  *len = 0;
  while (*len <= max && (n = fread(buf + *len, 1, max + 1 - *len, stdin)) > 0) *len += n;
  if (*len > max) {
    fprintf(stderr, "destek %s: the input is larger than %zu KiB\n", name, max / 1024);
    free(buf);
    return NULL;
  }
  buf[*len] = 0;
  return buf;
}

static int run_here(const struct destek_command *c, int argc, char **argv, const char *input, size_t input_len,
                    char **message)
{
  const char **args = calloc((size_t)argc + 1, sizeof *args);
  if (!args) abort();
  for (int i = 0; i < argc; i++) args[i] = argv[i];
  *message = NULL;
  int code = c->run(argc, args, input, input_len, message);
  free(args);
  return code;
}

/* After `destek demo` (ticketing's command) succeeded: every other module's demo data, from the services named
 * "<module>.demo" that loaded modules publish (a Lua module has no CLI commands of its own; the help centre is one),
 * each in a call of its own, with {"force": true} when the command had --force. Each answers {message}, which is
 * printed; one that fails is reported and the others run on. Returns 0 when all succeeded. */
static int run_module_demos(const char *owner, int argc, char **argv)
{
  int force = 0, failed = 0;
  for (int i = 0; i < argc; i++) if (!strcmp(argv[i], "--force")) force = 1;
  cJSON *list = services_list_new(NULL);
  const cJSON *s;
  cJSON_ArrayForEach(s, list) {
    const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(s, "name"));
    const char *plugin = cJSON_GetStringValue(cJSON_GetObjectItem(s, "plugin"));
    size_t n = name ? strlen(name) : 0;
    if (n < 6 || strcmp(name + n - 5, ".demo") || (plugin && owner && !strcmp(plugin, owner))) continue;
    struct destek_req c;
    call_begin(&c, "core");
    cJSON *args = cJSON_CreateObject(), *res = NULL;
    if (force) cJSON_AddTrueToObject(args, "force");
    int rc = services_call(&c, name, args, &res);
    const char *msg = rc == 0 ? cJSON_GetStringValue(cJSON_GetObjectItem(res, "message")) : NULL;
    if (call_end(&c, rc == 0) != 0 || rc != 0) {
      fprintf(stderr, "destek demo: %s failed (see the log above)\n", name);
      failed = 1;
    } else if (msg) {
      printf("%s\n", msg);
    }
    cJSON_Delete(args);
    cJSON_Delete(res);
  }
  cJSON_Delete(list);
  return failed;
}

/* A DESTEK_COMMAND_OFFLINE command: the CLI takes the data directory (refusing while a server runs), opens the
 * store, loads the plugins and runs it. */
static int run_offline(const struct config *cfg, const struct destek_command *c, int argc, char **argv,
                       const char *input, size_t input_len)
{
  char err[1024];
  if (datadir_ensure(cfg->data, err, sizeof err) != 0) { fprintf(stderr, "destek %s: %s\n", c->name, err); return 1; }
  int lk = datadir_lock(cfg->data, err, sizeof err);
  if (lk == 1) {
    fprintf(stderr, "destek %s: a server is running on %s; stop it first (this command works offline)\n", c->name,
            cfg->data);
    return 1;
  }
  if (lk < 0) { fprintf(stderr, "destek %s: %s\n", c->name, err); return 1; }
  if (server_open_store(cfg->data, 0, err, sizeof err) != 0) { fprintf(stderr, "destek %s: %s\n", c->name, err); return 1; }
  lua_host_offline(1);
  if (server_core_init(cfg->data) != 0) {
    fprintf(stderr, "destek %s: the core could not start\n", c->name);
    server_core_shutdown();
    return 1;
  }
  const char *plugin = NULL;
  const struct destek_command *loaded = plugin_command_find(c->name, &plugin);
  int code = 1;
  char *message = NULL;
  if (!loaded) fprintf(stderr, "destek %s: its plugin did not load (see the log above)\n", c->name);
  else code = run_here(loaded, argc, argv, input, input_len, &message);
  if (message && *message) fprintf(code == 0 ? stdout : stderr, "%s%s\n", code == 0 ? "" : "destek: ", message);
  if (message) *message = 0;
  if (loaded && code == 0 && !strcmp(c->name, "demo")) code = run_module_demos(plugin, argc, argv);
  server_core_shutdown();
  free(message);
  return code;
}

/* A DESTEK_COMMAND_SERVER command: handed to the server holding the data directory, or run here under the lock. */
static int run_server(const struct config *cfg, const struct destek_command *c, int argc, char **argv,
                      const char *input, size_t input_len)
{
  cJSON *args = cJSON_CreateObject();
  cJSON_AddStringToObject(args, "name", c->name);
  cJSON *words = cJSON_AddArrayToObject(args, "argv");
  for (int i = 0; i < argc; i++) cJSON_AddItemToArray(words, cJSON_CreateString(argv[i]));
  if (input) {
    char *b64 = malloc(util_b64_len(input_len) + 1);
    if (!b64) abort();
    util_b64_encode(input, input_len, b64);
    cJSON_AddStringToObject(args, "input_base64", b64);
    free(b64);
  }
  int code = cli_run_writer(cfg, "plugin_command", args);
  cJSON_Delete(args);
  return code;
}

int commands_main(struct config *cfg, int argc, char **argv)
{
  if (argc < 1) return -1;
  /* --data first: the .so plugins of that directory may add commands. */
  for (int i = 0; i < argc; i++) {
    if (!strcmp(argv[i], "--data") && i + 1 < argc) cfg->data = argv[i + 1];
    else if (!strncmp(argv[i], "--data=", 7)) cfg->data = argv[i] + 7;
  }
  struct table t[TABLES_MAX];
  int n = tables_collect(cfg->data, t, TABLES_MAX), words = 0;
  const struct destek_command *near, *c;
  const char *plugin = NULL;
  if (!(c = match(t, n, argc, argv, &words, &near, &plugin))) {
    if (!near) return -1;
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) { usage_lines(stdout, "", t, n, argv[0]); return 0; }
    usage_lines(stderr, "destek: ", t, n, argv[0]);
    return 2;
  }
  /* The command's own words: everything after its name but the core's --data DIR; -h/--help is answered here. */
  char **rest = calloc((size_t)argc + 1, sizeof *rest);
  if (!rest) abort();
  int n_rest = 0;
  for (int i = words; i < argc; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      usage_line(stdout, c);
      if (c->help && *c->help) fprintf(stdout, "\n%s%s", c->help, c->help[strlen(c->help) - 1] == '\n' ? "" : "\n");
      free(rest);
      return 0;
    }
    if (!strcmp(argv[i], "--data")) {
      if (i + 1 >= argc) { fprintf(stderr, "destek %s: --data needs a value\n", c->name); free(rest); return 2; }
      i++;
      continue;
    }
    if (!strncmp(argv[i], "--data=", 7)) continue;
    rest[n_rest++] = argv[i];
  }
  char *input = NULL;
  size_t input_len = 0;
  if (c->input_max) {
    size_t max = c->input_max < DESTEK_COMMAND_INPUT_MAX ? c->input_max : DESTEK_COMMAND_INPUT_MAX;
    if (!(input = read_input(c->name, max, &input_len))) { free(rest); return 1; }
  }
  (void)plugin;
  int code = c->where == DESTEK_COMMAND_OFFLINE ? run_offline(cfg, c, n_rest, rest, input, input_len)
                                                : run_server(cfg, c, n_rest, rest, input, input_len);
  free(input);
  free(rest);
  return code;
}

/* ------------------------------------------------------------------------------------------------ server side */

/* The control command "plugin_command" {name, argv, input_base64}. */
static int plugin_command_exec(const cJSON *args, char **message)
{
  const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "name"));
  const cJSON *words = cJSON_GetObjectItemCaseSensitive(args, "argv");
  const char *b64 = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "input_base64"));
  const struct destek_command *c = name ? plugin_command_find(name, NULL) : NULL;
  if (!c) {
    if (asprintf(message, "no loaded plugin has the command '%s'", name ? name : "") < 0) *message = NULL;
    return 2;
  }
  int argc = cJSON_GetArraySize(words);
  char **argv = calloc((size_t)argc + 1, sizeof *argv);
  if (!argv) abort();
  for (int i = 0; i < argc; i++) argv[i] = cJSON_GetStringValue(cJSON_GetArrayItem(words, i));
  for (int i = 0; i < argc; i++)
    if (!argv[i]) { free(argv); *message = util_strdup("malformed command request"); return 2; }
  char *input = NULL;
  long input_len = 0;
  if (b64) {
    size_t len = strlen(b64);
    input = malloc(len / 4 * 3 + 4);
    if (!input) abort();
    input_len = util_b64_decode(b64, len, input, len / 4 * 3 + 3);
    if (input_len < 0) { free(input); free(argv); *message = util_strdup("malformed command input"); return 2; }
    input[input_len] = 0;
  }
  int code = run_here(c, argc, argv, input, (size_t)(input_len > 0 ? input_len : 0), message);
  free(input);
  free(argv);
  return code;
}

void commands_control_init(void) { control_register("plugin_command", plugin_command_exec); }
