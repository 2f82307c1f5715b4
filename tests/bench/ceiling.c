/* The ceiling of Destek's HTTP stack: a minimal CivetWeb server, built from the same CivetWeb source with the same
 * defines and the same options that matter for speed (32 worker threads, tcp_nodelay=1, keep-alive), answering
 * every request with a fixed {"status":"ok"} in one write. No routing, no auth, no database, no JSON encoder, no log:
 * what Destek's handlers cost is the distance between this and build/destek.
 *
 * usage: ceiling [HOST]    (default 127.0.0.1) — listens on a free port of HOST and prints
 *        "ceiling: listening on http://HOST:PORT" to stderr; stops on SIGTERM/SIGINT.
 * Built by tests/bench/http.sh into build/bench/ceiling. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <civetweb.h>

static const char RESPONSE[] =
  "HTTP/1.1 200 OK\r\n"
  "Content-Type: application/json; charset=utf-8\r\n"
  "Cache-Control: no-store\r\n"
  "Content-Length: 15\r\n"
  "Connection: keep-alive\r\n"
  "\r\n"
  "{\"status\":\"ok\"}";

static int handler(struct mg_connection *conn, void *cbdata)
{
  (void)cbdata;
  const char *ka = mg_get_header(conn, "Connection");
  if (ka && !strcmp(ka, "close")) {
    mg_disable_keep_alive(conn);
    mg_printf(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
                    "Cache-Control: no-store\r\nContent-Length: 15\r\nConnection: close\r\n\r\n{\"status\":\"ok\"}");
  } else {
    mg_write(conn, RESPONSE, sizeof RESPONSE - 1);
  }
  return 200;
}

int main(int argc, char **argv)
{
  const char *host = argc > 1 ? argv[1] : "127.0.0.1";
  char ports[128];
  snprintf(ports, sizeof ports, "%s:0", host);
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, NULL);
  signal(SIGPIPE, SIG_IGN);

  const char *opts[] = {
    "listening_ports", ports,
    "num_threads", "32",
    "tcp_nodelay", "1",
    "enable_keep_alive", "yes",
    "request_timeout_ms", "15000",
    "keep_alive_timeout_ms", "10000",
    "max_request_size", "16384",
    "linger_timeout_ms", "500",
    NULL
  };
  mg_init_library(0);
  struct mg_callbacks cb;
  memset(&cb, 0, sizeof cb);
  char err[256] = "";
  struct mg_init_data init = { .callbacks = &cb, .configuration_options = opts };
  struct mg_error_data error = { .text = err, .text_buffer_size = sizeof err };
  struct mg_context *ctx = mg_start2(&init, &error);
  if (!ctx) {
    fprintf(stderr, "ceiling: cannot listen on %s: %s\n", ports, err[0] ? err : "unknown error");
    return 1;
  }
  mg_set_request_handler(ctx, "/", handler, NULL);
  struct mg_server_port sp[4];
  int n = mg_get_server_ports(ctx, 4, sp);
  if (n < 1 || sp[0].port <= 0) {
    fprintf(stderr, "ceiling: cannot tell which port it listens on\n");
    mg_stop(ctx);
    return 1;
  }
  fprintf(stderr, "ceiling: listening on http://%s:%d\n", host, sp[0].port);
  int sig;
  sigwait(&sigs, &sig);
  mg_stop(ctx);
  mg_exit_library();
  return 0;
}
