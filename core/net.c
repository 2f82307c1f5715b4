/* Outbound HTTP through libcurl, with a guard against server-side request forgery.
 *
 * Why the guard works the way it does: a webhook URL or a Lua plugin's request is chosen by someone who is not the
 * machine's operator, and from inside the host it could reach the loopback admin ports, the private network or the
 * cloud metadata service (169.254.169.254). So, unless the server runs with --allow-private-net:
 *   1. the host name is resolved here with getaddrinfo and the call is refused if ANY address is not public
 *      (a name with one public and one private address would otherwise let curl pick the private one);
 *   2. curl is pinned to exactly the addresses checked (CURLOPT_RESOLVE), so a second lookup that answers
 *      differently (DNS rebinding) cannot switch the target between the check and the connect;
 *   3. every socket curl opens is checked again (CURLOPT_OPENSOCKETFUNCTION): the last line, should anything
 *      above be bypassed (a URL form the checks did not foresee).
 * Proxies from the environment are ignored (a proxy would resolve the name itself), only http and https are
 * spoken, and redirects are not followed (a public URL could redirect to a private one).
 *
 * Threads: each thread keeps one curl easy handle (so connections to the same receiver are reused) in
 * thread-specific storage, freed when the thread exits. */
#include "net.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <curl/curl.h>

#include "log.h"

#define NET_DEFAULT_TIMEOUT_MS 10000L
#define NET_DEFAULT_MAX_RESPONSE ((size_t)1024 * 1024)
#define NET_MAX_HEADERS ((size_t)64 * 1024)
#define NET_MAX_ADDRS 16

static int net_ready;
static int net_allow_private;
static pthread_key_t handle_key;

/* ------------------------------------------------------------------------------------------ address classes */

static const char *ipv4_class(uint32_t a)  /* a in host byte order */
{
  if ((a >> 24) == 0) return "an unspecified address";                      /* 0.0.0.0/8 */
  if ((a >> 24) == 127) return "a loopback address";                         /* 127/8 */
  if ((a >> 24) == 10) return "a private address";                          /* 10/8 */
  if ((a & 0xFFF00000u) == 0xAC100000u) return "a private address";          /* 172.16/12 */
  if ((a & 0xFFFF0000u) == 0xC0A80000u) return "a private address";          /* 192.168/16 */
  if ((a & 0xFFFF0000u) == 0xA9FE0000u) return "a link-local address";       /* 169.254/16, metadata */
  if ((a & 0xFFC00000u) == 0x64400000u) return "a carrier-grade NAT address"; /* 100.64/10 */
  if ((a & 0xF0000000u) == 0xE0000000u) return "a multicast address";        /* 224/4 */
  if ((a & 0xF0000000u) == 0xF0000000u) return "a reserved address";         /* 240/4, broadcast */
  if ((a & 0xFFFFFF00u) == 0xC0000000u) return "a reserved address";         /* 192.0.0/24 */
  if ((a & 0xFFFE0000u) == 0xC6120000u) return "a reserved address";         /* 198.18/15 benchmarking */
  if ((a & 0xFFFFFF00u) == 0xC0000200u || (a & 0xFFFFFF00u) == 0xC6336400u || (a & 0xFFFFFF00u) == 0xCB007100u)
    return "a reserved address";                                              /* documentation ranges */
  return NULL;
}

static uint32_t be32_at(const unsigned char *p)
{
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static const char *ipv6_class(const unsigned char b[16])
{
  static const unsigned char zero[16];
  static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF };
  static const unsigned char nat64[12] = { 0x00, 0x64, 0xFF, 0x9B };
  if (!memcmp(b, zero, 16)) return "an unspecified address";                 /* :: */
  if (!memcmp(b, zero, 15) && b[15] == 1) return "a loopback address";        /* ::1 */
  if (!memcmp(b, mapped, 12)) return ipv4_class(be32_at(b + 12));             /* ::ffff:a.b.c.d */
  if (!memcmp(b, zero, 12)) return ipv4_class(be32_at(b + 12));               /* ::a.b.c.d (compatible) */
  if (!memcmp(b, nat64, 12)) return ipv4_class(be32_at(b + 12));              /* 64:ff9b::/96 */
  if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B && b[4] == 0 && b[5] == 1)
    return "a private address";                                              /* 64:ff9b:1::/48 local NAT64 */
  if (b[0] == 0x20 && b[1] == 0x02) {                                        /* 2002::/16 6to4 */
    const char *c = ipv4_class(be32_at(b + 2));
    if (c) return c;
  }
  if ((b[0] & 0xFE) == 0xFC) return "a private address";                      /* fc00::/7 unique local */
  if (b[0] == 0xFE && (b[1] & 0xC0) == 0x80) return "a link-local address";   /* fe80::/10 */
  if (b[0] == 0xFE && (b[1] & 0xC0) == 0xC0) return "a private address";      /* fec0::/10 site-local */
  if (b[0] == 0xFF) return "a multicast address";                            /* ff00::/8 */
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0D && b[3] == 0xB8) return "a reserved address"; /* 2001:db8::/32 */
  if (b[0] == 0x01 && !memcmp(b + 1, zero, 7)) return "a reserved address";   /* 100::/64 discard */
  return NULL;
}

const char *net_address_class(const struct sockaddr *sa)
{
  if (!sa) return "an unknown kind of address";
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
    return ipv4_class(ntohl(in->sin_addr.s_addr));
  }
  if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
    return ipv6_class(in6->sin6_addr.s6_addr);
  }
  return "an unknown kind of address";   /* AF_UNIX and the like: never an outbound target */
}

int net_address_is_private(const struct sockaddr *sa) { return net_address_class(sa) != NULL; }

/* Host names that name the machine itself or a cloud metadata service, refused before any lookup. */
static const char *blocked_name_class(const char *host)
{
  static const char *const metadata[] = {
    "metadata.google.internal", "metadata.goog", "metadata", "instance-data", "instance-data.ec2.internal",
    "metadata.azure.internal", NULL
  };
  size_t n = strlen(host);
  while (n && host[n - 1] == '.') n--;   /* "metadata.google.internal." is the same name */
  for (int i = 0; metadata[i]; i++)
    if (strlen(metadata[i]) == n && !strncasecmp(host, metadata[i], n)) return "a cloud metadata service name";
  if ((n == 9 && !strncasecmp(host, "localhost", 9)) || (n > 10 && !strncasecmp(host + n - 10, ".localhost", 10)))
    return "a loopback name";
  return NULL;
}

static void addr_text(const struct sockaddr *sa, char *out, size_t outlen)
{
  const void *src = sa->sa_family == AF_INET ? (const void *)&((const struct sockaddr_in *)sa)->sin_addr
                                             : (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
  if (!inet_ntop(sa->sa_family, src, out, (socklen_t)outlen)) snprintf(out, outlen, "?");
}

/* ------------------------------------------------------------------------------------------ set-up */

static void handle_free(void *h) { curl_easy_cleanup(h); }

/* libcurl (and the TLS library under it) starts on the first outbound call, not at start-up: its initialisation
 * alone keeps a few megabytes resident, and many desks make no outbound call for hours. */
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_started = CURLE_FAILED_INIT;
static void curl_start(void) { curl_started = curl_global_init(CURL_GLOBAL_DEFAULT); }

int net_curl_ready(void)
{
  pthread_once(&curl_once, curl_start);
  if (curl_started != CURLE_OK) log_error("net", "libcurl cannot start: %s", curl_easy_strerror(curl_started));
  return curl_started == CURLE_OK ? 0 : -1;
}

int net_init(int allow_private)
{
  net_allow_private = allow_private ? 1 : 0;
  if (net_ready) return 0;
  if (pthread_key_create(&handle_key, handle_free) != 0) {
    log_error("net", "cannot create the thread key for curl handles");
    return -1;
  }
  net_ready = 1;
  if (net_allow_private)
    log_warn("net", "--allow-private-net: outbound calls may reach loopback, private and metadata addresses");
  return 0;
}

void net_cleanup(void)
{
  if (!net_ready) return;
  CURL *h = pthread_getspecific(handle_key);
  if (h) { curl_easy_cleanup(h); pthread_setspecific(handle_key, NULL); }
  net_ready = 0;
  if (curl_started == CURLE_OK) curl_global_cleanup();
}

/* This thread's easy handle, reset for a new transfer (its connection cache survives the reset). */
static CURL *thread_handle(void)
{
  CURL *h = pthread_getspecific(handle_key);
  if (h) {
    curl_easy_reset(h);
    return h;
  }
  h = curl_easy_init();
  if (h && pthread_setspecific(handle_key, h) != 0) { curl_easy_cleanup(h); h = NULL; }
  return h;
}

/* ------------------------------------------------------------------------------------------ URLs */

struct url_parts {
  char *scheme, *host, *port;   /* curl-allocated */
};

static void url_parts_free(struct url_parts *u)
{
  curl_free(u->scheme);
  curl_free(u->host);
  curl_free(u->port);
  memset(u, 0, sizeof *u);
}

static int url_split(const char *url, struct url_parts *u, char *err, size_t errlen)
{
  memset(u, 0, sizeof *u);
  if (!url || !*url) { snprintf(err, errlen, "the URL is empty"); return -1; }
  for (const unsigned char *p = (const unsigned char *)url; *p; p++)
    if (*p <= ' ' || *p == 0x7F) { snprintf(err, errlen, "the URL contains spaces or control characters"); return -1; }
  CURLU *h = curl_url();
  if (!h) {
    snprintf(err, errlen, "%s", net_curl_ready() != 0 ? "outbound calls are unavailable: libcurl cannot be loaded on this "
                                                         "server" : "out of memory");
    return -1;
  }
  int rc = -1;
  CURLUcode uc = curl_url_set(h, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
  if (uc != CURLUE_OK) {
    snprintf(err, errlen, "the URL cannot be parsed (%s)", curl_url_strerror(uc));
  } else if (curl_url_get(h, CURLUPART_SCHEME, &u->scheme, 0) != CURLUE_OK ||
             (strcasecmp(u->scheme, "http") && strcasecmp(u->scheme, "https"))) {
    snprintf(err, errlen, "the URL scheme must be http or https");
  } else if (curl_url_get(h, CURLUPART_HOST, &u->host, 0) != CURLUE_OK || !*u->host) {
    snprintf(err, errlen, "the URL has no host");
  } else if (curl_url_get(h, CURLUPART_PORT, &u->port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
    snprintf(err, errlen, "the URL has no port");
  } else {
    rc = 0;
  }
  curl_url_cleanup(h);
  if (rc) url_parts_free(u);
  return rc;
}

int net_url_check(const char *url, char *err, size_t errlen)
{
  struct url_parts u;
  if (url_split(url, &u, err, errlen)) return -1;
  url_parts_free(&u);
  return 0;
}

/* ------------------------------------------------------------------------------------------ the guard */

/* Resolves host and checks every address. On success fills pin with "host:port:addr[,addr...]" for
 * CURLOPT_RESOLVE (empty when host is an address literal: curl does not look those up). -1 with err filled. */
static int resolve_and_check(const char *host_in, const char *port, char *pin, size_t pinlen, char *err,
                             size_t errlen)
{
  pin[0] = 0;
  char host[256];
  size_t hl = strlen(host_in);
  if (hl >= sizeof host) { snprintf(err, errlen, "the host name is too long"); return -1; }
  /* curl gives IPv6 literals in brackets */
  if (hl > 2 && host_in[0] == '[' && host_in[hl - 1] == ']') {
    memcpy(host, host_in + 1, hl - 2);
    host[hl - 2] = 0;
  } else {
    memcpy(host, host_in, hl + 1);
  }
  const char *why = blocked_name_class(host);
  if (why) {
    snprintf(err, errlen, "refused: %s is %s; run with --allow-private-net to allow it", host, why);
    return -1;
  }
  unsigned char probe[16];
  int literal = inet_pton(AF_INET, host, probe) == 1 || inet_pton(AF_INET6, host, probe) == 1;

  struct addrinfo hints = { 0 }, *res = NULL;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  int gai = getaddrinfo(host, port, &hints, &res);
  if (gai != 0 || !res) {
    snprintf(err, errlen, "cannot resolve %s: %s", host, gai ? gai_strerror(gai) : "no address");
    if (res) freeaddrinfo(res);
    return -1;
  }
  char list[NET_MAX_ADDRS * (INET6_ADDRSTRLEN + 3)] = "";
  char seen[NET_MAX_ADDRS][INET6_ADDRSTRLEN];
  size_t used = 0;
  int n = 0, rc = 0;
  for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
    char text[INET6_ADDRSTRLEN];
    addr_text(ai->ai_addr, text, sizeof text);
    const char *cls = net_address_class(ai->ai_addr);
    if (cls) {
      if (literal || !strcmp(host, text))
        snprintf(err, errlen, "refused: %s is %s; run with --allow-private-net to allow it", text, cls);
      else
        snprintf(err, errlen, "refused: %s resolves to %s, which is %s; run with --allow-private-net to allow it",
                 host, text, cls);
      rc = -1;
      break;
    }
    int dup = 0;   /* getaddrinfo may repeat an address */
    for (int i = 0; i < n && !dup; i++) dup = !strcmp(seen[i], text);
    if (dup || n == NET_MAX_ADDRS) continue;
    int w = snprintf(list + used, sizeof list - used, ai->ai_family == AF_INET6 ? "%s[%s]" : "%s%s",
                     n ? "," : "", text);
    if (w > 0 && (size_t)w < sizeof list - used) { used += (size_t)w; memcpy(seen[n++], text, sizeof text); }
  }
  freeaddrinfo(res);
  if (rc) return -1;
  if (n == 0) { snprintf(err, errlen, "cannot resolve %s: no IPv4 or IPv6 address", host); return -1; }
  if (!literal && snprintf(pin, pinlen, "%s:%s:%s", host, port, list) >= (int)pinlen) pin[0] = 0;
  return 0;
}

struct transfer {
  char *body;
  size_t body_len, body_cap, max_body;
  int truncated;
  char *headers;
  size_t headers_len;
  char refused[256];      /* set by the socket check */
};

static curl_socket_t open_socket(void *ud, curlsocktype purpose, struct curl_sockaddr *address)
{
  struct transfer *t = ud;
  if (!net_allow_private) {
    const char *cls = net_address_class(&address->addr);
    if (cls) {
      char text[INET6_ADDRSTRLEN];
      if (address->family == AF_INET || address->family == AF_INET6) addr_text(&address->addr, text, sizeof text);
      else snprintf(text, sizeof text, "the address");
      snprintf(t->refused, sizeof t->refused, "refused: %s is %s; run with --allow-private-net to allow it", text,
               cls);
      return CURL_SOCKET_BAD;
    }
  }
  return socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
  struct transfer *t = ud;
  size_t n = size * nmemb;
  size_t room = t->max_body - t->body_len;
  size_t take = n < room ? n : room;
  if (take) {
    if (t->body_len + take + 1 > t->body_cap) {
      size_t cap = t->body_cap ? t->body_cap : 4096;
      while (cap < t->body_len + take + 1) cap *= 2;
      if (cap > t->max_body + 1) cap = t->max_body + 1;
      char *nb = realloc(t->body, cap);
      if (!nb) return 0;
      t->body = nb;
      t->body_cap = cap;
    }
    memcpy(t->body + t->body_len, data, take);
    t->body_len += take;
  }
  if (take < n) { t->truncated = 1; return 0; }   /* over the cap: stop reading, keep what we have */
  return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
  struct transfer *t = ud;
  size_t n = size * nmemb;
  if (n >= 5 && !memcmp(data, "HTTP/", 5)) t->headers_len = 0;   /* a new response (after 100 Continue) */
  if (t->headers_len + n > NET_MAX_HEADERS) return n;           /* keep the first 64 KiB */
  char *nh = realloc(t->headers, t->headers_len + n + 1);
  if (!nh) return 0;
  t->headers = nh;
  memcpy(t->headers + t->headers_len, data, n);
  t->headers_len += n;
  t->headers[t->headers_len] = 0;
  return n;
}

static int header_line_ok(const char *h)
{
  const char *colon = strchr(h, ':');
  if (!colon || colon == h) return 0;
  for (const char *p = h; *p; p++)
    if (*p == '\r' || *p == '\n') return 0;
  return 1;
}

/* ------------------------------------------------------------------------------------------ requests */

int net_request(const struct net_request *req, struct net_response *resp, char *err, size_t errlen)
{
  memset(resp, 0, sizeof *resp);
  if (errlen) err[0] = 0;
  if (!net_ready) { snprintf(err, errlen, "outbound HTTP is not initialised"); return -1; }
  if (net_curl_ready() != 0) { snprintf(err, errlen, "libcurl cannot start"); return -1; }
  const char *method = req->method && *req->method ? req->method : "GET";
  for (const char *p = method; *p; p++)
    if (!isupper((unsigned char)*p)) { snprintf(err, errlen, "bad HTTP method %s", method); return -1; }

  struct url_parts u;
  if (url_split(req->url, &u, err, errlen)) return -1;
  char pin[512 + NET_MAX_ADDRS * (INET6_ADDRSTRLEN + 3)], unpin[300];
  pin[0] = unpin[0] = 0;
  if (!net_allow_private) {
    if (resolve_and_check(u.host, u.port, pin, sizeof pin, err, errlen)) { url_parts_free(&u); return -1; }
    if (pin[0]) {
      /* an earlier pin for the same host:port stays in the handle's DNS cache: drop it first */
      const char *colon2 = strchr(strchr(pin, ':') + 1, ':');
      snprintf(unpin, sizeof unpin, "-%.*s", (int)(colon2 - pin), pin);
    }
  }
  url_parts_free(&u);

  CURL *h = thread_handle();
  if (!h) { snprintf(err, errlen, "cannot start a curl handle"); return -1; }
  struct transfer t = { .max_body = req->max_response ? req->max_response : NET_DEFAULT_MAX_RESPONSE };
  struct curl_slist *hdrs = NULL, *resolve = NULL;
  int have_expect = 0, bad_header = 0;
  for (const char *const *hl = req->headers; hl && *hl; hl++) {
    if (!header_line_ok(*hl)) { bad_header = 1; break; }
    if (!strncasecmp(*hl, "Expect:", 7)) have_expect = 1;
    hdrs = curl_slist_append(hdrs, *hl);
  }
  if (bad_header) {
    curl_slist_free_all(hdrs);
    snprintf(err, errlen, "a request header is malformed (\"Name: value\", no line breaks)");
    return -1;
  }
  /* no "Expect: 100-continue" round trip (a second's wait on receivers that ignore it) */
  if (!have_expect) hdrs = curl_slist_append(hdrs, "Expect:");
  if (unpin[0]) resolve = curl_slist_append(resolve, unpin);
  if (pin[0]) resolve = curl_slist_append(resolve, pin);

  char curl_err[CURL_ERROR_SIZE] = "";
  long timeout = req->timeout_ms > 0 ? req->timeout_ms : NET_DEFAULT_TIMEOUT_MS;
  curl_easy_setopt(h, CURLOPT_URL, req->url);
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
  curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
  curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_PROXY, "");            /* ignore http_proxy and friends: see the top of the file */
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_err);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
  if (resolve) curl_easy_setopt(h, CURLOPT_RESOLVE, resolve);
  curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_socket);
  curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, &t);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, NULL);
  if (!strcmp(method, "HEAD")) {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (req->body || !strcmp(method, "POST")) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(req->body ? req->body_len : 0));
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? req->body : "");
    if (strcmp(method, "POST")) curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
  } else if (strcmp(method, "GET")) {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
  }

  CURLcode cc = curl_easy_perform(h);
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  /* the handle is kept for the next call: do not leave it pointing at this call's lists and buffers */
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
  curl_easy_setopt(h, CURLOPT_RESOLVE, NULL);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
  curl_slist_free_all(hdrs);
  curl_slist_free_all(resolve);

  int ok = cc == CURLE_OK || (cc == CURLE_WRITE_ERROR && t.truncated && status > 0);
  if (!ok) {
    if (t.refused[0]) snprintf(err, errlen, "%s", t.refused);
    else if (cc == CURLE_OPERATION_TIMEDOUT) snprintf(err, errlen, "timed out after %ld ms", timeout);
    else snprintf(err, errlen, "%s", curl_err[0] ? curl_err : curl_easy_strerror(cc));
  }
  resp->status = ok ? status : 0;
  resp->body = t.body ? t.body : calloc(1, 1);
  if (t.body) t.body[t.body_len] = 0;
  resp->body_len = t.body_len;
  resp->headers = t.headers ? t.headers : calloc(1, 1);
  return ok ? 0 : -1;
}

void net_response_free(struct net_response *resp)
{
  if (!resp) return;
  free(resp->body);
  free(resp->headers);
  memset(resp, 0, sizeof *resp);
}
