/* Outbound HTTP through libcurl (webhooks, Lua's destek.http.request). Refuses loopback, private, link-local,
 * multicast and metadata addresses after DNS resolution, and pins the connection to the checked address, unless
 * the server runs with --allow-private-net. Only http and https; redirects are not followed. */
#ifndef DESTEK_NET_H
#define DESTEK_NET_H
#include <stddef.h>

struct sockaddr;

struct net_request {
  const char *method;                /* "GET", "POST", ... */
  const char *url;
  const char *const *headers;        /* "Name: value" lines, NULL-terminated; may be NULL */
  const char *body;                  /* may be NULL */
  size_t body_len;
  long timeout_ms;                   /* whole request; 0 means 10000 */
  size_t max_response;               /* bytes kept of the body; 0 means 1 MiB */
};

struct net_response {
  long status;
  char *body;                        /* NUL-terminated; owned */
  size_t body_len;
  char *headers;                     /* raw response header lines; owned */
};

/* Call once before threads start. */
int net_init(int allow_private);
void net_cleanup(void);
/* Starts libcurl once (thread-safe); call before using curl directly (SMTP, IMAP). 0, or -1 (logged). */
int net_curl_ready(void);
/* 0 when a response arrived (any status), -1 when refused or failed (err says why). Free resp with
 * net_response_free in both cases. A body longer than max_response is cut there (the call still returns 0). */
int net_request(const struct net_request *req, struct net_response *resp, char *err, size_t errlen);
void net_response_free(struct net_response *resp);

/* Checks that url is an absolute http:// or https:// URL with a host, without contacting it. 0, or -1 with err
 * filled ("the URL scheme must be http or https"). */
int net_url_check(const char *url, char *err, size_t errlen);

/* Why outbound calls refuse this address: "a loopback address", "a private address", "a link-local address"
 * (which includes the 169.254.169.254 metadata address), "an unspecified address", "a multicast address",
 * "a carrier-grade NAT address", "a reserved address", ... (a static string), or NULL when it is a public
 * address. IPv4-mapped, IPv4-compatible and NAT64 IPv6 addresses are judged by the IPv4 address inside. */
const char *net_address_class(const struct sockaddr *sa);
/* 1 when net_address_class(sa) is not NULL (outbound calls refuse it), else 0. */
int net_address_is_private(const struct sockaddr *sa);

/* core/curl_lazy.c: whether libcurl.so.4 (loaded at the first outbound call) can be loaded on this machine, tried in
 * a child process: _start forks it (before any thread starts), _finish waits for it: 0, or -1 with the loader's
 * reason in err. */
void curl_lazy_probe_start(void);
int curl_lazy_probe_finish(char *err, size_t errlen);

#endif
