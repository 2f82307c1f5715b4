/* The server process: lock, storage, routes, HTTP, control socket, then wait for a signal. */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "auth.h"
#include "auth_api.h"
#include "bus.h"
#include "cli.h"
#include "commands.h"
#include "control.h"
#include "datadir.h"
#include "db.h"
#include "directory.h"
#include "http.h"
#include "live.h"
#include "wspub.h"
#include "log.h"
#include "lua_host.h"
#include "metrics.h"
#include "net.h"
#include "plugin.h"
#include "settings.h"
#include "shop.h"
#include "tokens_api.h"
#include "consent.h"
#include "consent_proof.h"
#include "sms_report.h"
#include "contacts.h"
#include "users_api.h"
#include "util.h"
#include "webhooks.h"

int server_open_store(const char *data, int durability_full, char *err, size_t errlen)
{
  char path[4096];
  datadir_path(data, "destek.db", path, sizeof path);
  if (db_open(path, durability_full, err, errlen) != 0) return -1;
  struct db *w = db_writer_acquire();
  int rc = db_migrate(w, "core", embed_core_sql, err, errlen);
  db_writer_release(w);
  if (rc < 0) {
    db_close_all();
    return -1;
  }
  return 0;
}

static int healthz(struct destek_req *r)
{
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "status", "ok");
  return http_reply_json(r, 200, o);
}

static const struct destek_route core_routes[] = {
  { "GET", "/healthz", healthz, DESTEK_PUBLIC, NULL },
  { 0 }
};

void server_core_shutdown(void)
{
  plugin_unload_all();
  lua_host_shutdown();
  db_close_all();
  net_cleanup();
}

int server_core_init(const char *data_dir)
{
  int rc = http_routes_add("core", core_routes) | auth_api_init() | users_api_init() | tokens_api_init() |
           audit_routes_init() | metrics_routes_init() | settings_routes_init() | bus_init() | webhooks_init() |
           plugin_routes_init() | live_routes_init() | directory_routes_init() |
           contacts_init() | consent_init() | shop_init() | consent_proof_init() | sms_report_init();
  if (rc != 0) return -1;
  cli_control_init();
  commands_control_init();
  plugin_load_all(data_dir);
  if (lua_host_init(data_dir) < 0) log_error("plugin", "the Lua plugins could not be loaded");
  plugin_started_run();
  return 0;
}

/* CivetWeb reads certificate and key from one PEM file: join the two into the data directory (0600). */
static int tls_bundle(const char *data, const char *cert, const char *key, char *out, size_t outlen, char *err,
                      size_t errlen)
{
  datadir_path(data, "tls-bundle.pem", out, outlen);
  const char *parts[2] = { key, cert };
  int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) { snprintf(err, errlen, "cannot write %.900s: %s", out, strerror(errno)); return -1; }
  for (int i = 0; i < 2; i++) {
    FILE *in = fopen(parts[i], "rb");
    if (!in) {
      snprintf(err, errlen, "cannot read %s %s: %s", i ? "--tls-cert" : "--tls-key", parts[i], strerror(errno));
      close(fd);
      return -1;
    }
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
      if (write(fd, buf, n) != (ssize_t)n) { fclose(in); close(fd); snprintf(err, errlen, "cannot write %.900s", out); return -1; }
    fclose(in);
    if (write(fd, "\n", 1) != 1) { close(fd); return -1; }
  }
  close(fd);
  return 0;
}

int server_run(const struct config *cfg)
{
  char err[1024];
  if ((cfg->tls_cert == NULL) != (cfg->tls_key == NULL)) {
    fprintf(stderr, "destek: --tls-cert and --tls-key go together\n");
    return 2;
  }
  if (datadir_ensure(cfg->data, err, sizeof err) != 0) { fprintf(stderr, "destek: %s\n", err); return 1; }
  int lk = datadir_lock(cfg->data, err, sizeof err);
  if (lk == 1) {
    fprintf(stderr, "destek: the data directory %s is in use by another running Destek server\n", cfg->data);
    return 1;
  }
  if (lk != 0) { fprintf(stderr, "destek: %s\n", err); return 1; }

  /* Large blocks (request bodies, files) come from mmap and go back to the system when freed. glibc would otherwise
   * raise this threshold after the first such block is freed, serve the next ones from its heaps and keep them:
   * after a burst of uploads the server kept 1.6 GB it no longer used (tests/bench/uploads.sh). */
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);

  /* Signals are taken by sigwait below; every thread started from here inherits the mask. */
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &sigs, NULL);
  signal(SIGPIPE, SIG_IGN);

  if (server_open_store(cfg->data, !strcmp(cfg->durability, "full"), err, sizeof err) != 0) {
    fprintf(stderr, "destek: %s\n", err);
    return 1;
  }
  if (net_init(cfg->allow_private_net) != 0) {
    fprintf(stderr, "destek: cannot initialise outbound HTTP (libcurl)\n");
    db_close_all();
    return 1;
  }
  curl_lazy_probe_start();   /* before any thread starts: it forks */
  if (server_core_init(cfg->data) != 0) {
    fprintf(stderr, "destek: some routes could not be registered (see the log above)\n");
    server_core_shutdown();
    return 1;
  }
  char bundle[4096];
  /* Each live-updates websocket holds a worker thread: up to 40 of them (20 agents with two tabs each), which
   * leaves 24 threads for requests. Measured with tests/bench/live.sh: 17 MB RSS before, 26 MB with 40 sockets
   * idle, 35 MB at peak while 300 tickets are created and listed (budget: 64 MB). */
  /* A module's public websocket (wspub.c: the chat widget's visitors) holds a worker thread per socket too: the
   * server grows by the sockets the modules declared. Those threads stay idle and light until a socket comes (see
   * wspub.c), and each socket needs a descriptor or two: the soft limit goes up to the hard one. */
  int public_sockets = wspub_capacity();
  if (public_sockets) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
      rl.rlim_cur = rl.rlim_max;
      setrlimit(RLIMIT_NOFILE, &rl);
    }
  }
  struct http_config hc = { .listen = cfg->listen, .threads = 64 + public_sockets, .streams = 40, .trust_proxy = cfg->trust_proxy,
                            .body_memory = (size_t)cfg->body_memory_mib << 20 };
  if (cfg->tls_cert) {
    if (tls_bundle(cfg->data, cfg->tls_cert, cfg->tls_key, bundle, sizeof bundle, err, sizeof err) != 0) {
      fprintf(stderr, "destek: %s\n", err);
      server_core_shutdown();
      return 1;
    }
    hc.tls_cert = bundle;
  }
  if (http_start(&hc, err, sizeof err) != 0) {
    fprintf(stderr, "destek: %s\n", err);
    server_core_shutdown();
    return 1;
  }
  bus_start();
  consent_sender_start();
  if (control_start(cfg->data, err, sizeof err) != 0) log_warn("control", "%s: CLI commands cannot reach this server", err);

  struct db *w = db_writer_acquire();
  char *setup_token = auth_setup_token_new(w);
  /* The migrations and the modules' start-up read and wrote every page of the schema through the writer: a desk
   * that then waits for its first request need not keep them (about 1 MB on a new desk). */
  db_release_memory(w);
  db_writer_release(w);
  malloc_trim(0);
  fprintf(stderr, "destek: listening on %s\n", http_base_url());
  /* A desk runs without libcurl, but sends no mail and calls nothing: say so now, not at the first call. */
  if (curl_lazy_probe_finish(err, sizeof err) != 0)
    log_error("net", "%s: outbound mail, mailbox polling, webhooks and other outbound calls will fail until libcurl 4 "
                     "is installed (Debian: apt install libcurl4)", err);
  if (setup_token) {
    fprintf(stderr, "destek: no admin yet; open %s/setup?token=%s to create the first one\n", http_base_url(),
            setup_token);
    free(setup_token);
  }
  log_info("server", "Destek %s serving %s from %s (durability %s)", DESTEK_VERSION, http_base_url(), cfg->data,
           cfg->durability);

  for (;;) {
    int sig = 0;
    if (sigwait(&sigs, &sig) != 0) continue;
    if (sig == SIGHUP) {
      int n = lua_host_reload();
      if (n < 0) log_error("server", "SIGHUP: reloading the Lua plugins failed; the previous ones keep running");
      else log_info("server", "SIGHUP: reloaded %d Lua plugin%s", n, n == 1 ? "" : "s");
      continue;
    }
    log_info("server", "signal %d: shutting down", sig);
    break;
  }
  control_stop();
  http_stop();
  consent_sender_stop();
  bus_stop();
  plugin_unload_all();
  lua_host_shutdown();
  db_close_all();
  net_cleanup();
  if (cfg->tls_cert) unlink(bundle);
  log_info("server", "stopped");
  return 0;
}
