/* Public websockets a module declares (host->socket_endpoint): sockets for people who are not signed in (a shop's
 * visitors on another origin). The module checks the Origin and its own credentials before the handshake; the core
 * keeps the sockets, a bounded send queue and a sender thread each (a client that stops reading fills only its own
 * queue, and is closed when it overflows), and hands the module every text message the client sends. */
#ifndef DESTEK_WSPUB_H
#define DESTEK_WSPUB_H
#include <stddef.h>
#include <stdint.h>

struct destek_socket_ops;
struct mg_context;

/* From a plugin's init, before the server starts. 0, or -1 (logged). */
int wspub_add(const char *owner, const char *path, const struct destek_socket_ops *ops);
/* Worker threads the declared endpoints need (the sum of their max_sockets). */
int wspub_capacity(void);
/* Registers the endpoints with CivetWeb (http_start). */
void wspub_start(struct mg_context *ctx);
/* Asks every socket to close (1001) and waits a moment for the close frames (http_stop, before mg_stop). */
void wspub_stop(void);

int wspub_send(uint64_t sock, const char *text, size_t len);
void wspub_close(uint64_t sock, int code, const char *reason);
/* Open sockets, frames queued, sockets closed for overflowing. */
void wspub_stats(int *open, unsigned long long *frames, unsigned long long *overflows);
#endif
