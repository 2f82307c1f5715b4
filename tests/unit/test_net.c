/* net: the address classifier behind the SSRF guard, the refusals of net_request, and a real exchange with a
 * loopback server (allowed with allow_private=1): status, headers, body cap, no redirects followed. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "net.h"

static int is_private(const char *text)
{
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  struct sockaddr_in *in = (struct sockaddr_in *)&ss;
  struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
  if (inet_pton(AF_INET, text, &in->sin_addr) == 1) in->sin_family = AF_INET;
  else if (inet_pton(AF_INET6, text, &in6->sin6_addr) == 1) in6->sin6_family = AF_INET6;
  else { fprintf(stderr, "bad test address %s\n", text); return -1; }
  return net_address_is_private((struct sockaddr *)&ss);
}

static const char *class_of(const char *text)
{
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  struct sockaddr_in *in = (struct sockaddr_in *)&ss;
  struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
  if (inet_pton(AF_INET, text, &in->sin_addr) == 1) in->sin_family = AF_INET;
  else if (inet_pton(AF_INET6, text, &in6->sin6_addr) == 1) in6->sin6_family = AF_INET6;
  return net_address_class((struct sockaddr *)&ss);
}

static void test_classifier(void)
{
  static const char *const refused[] = {
    "127.0.0.1", "127.255.255.254", "10.0.0.1", "10.255.255.255", "172.16.0.1", "172.31.255.255",
    "192.168.0.1", "192.168.255.255", "169.254.169.254", "169.254.0.1", "0.0.0.0", "0.1.2.3", "100.64.0.1",
    "100.127.255.255", "100.100.100.200", "224.0.0.1", "239.255.255.250", "255.255.255.255", "240.0.0.1",
    "192.0.0.170", "198.18.0.1", "192.0.2.1",
    "::", "::1", "fc00::1", "fd00:ec2::254", "fe80::1", "febf::1", "fec0::1", "ff02::1",
    "::ffff:127.0.0.1", "::ffff:10.1.2.3", "::ffff:169.254.169.254", "::ffff:0.0.0.0", "::127.0.0.1",
    "64:ff9b::a9fe:a9fe", "64:ff9b::7f00:1", "2002:7f00:1::1", "2002:c0a8:101::1", "2001:db8::1",
    NULL
  };
  static const char *const allowed[] = {
    "1.1.1.1", "8.8.8.8", "93.184.216.34", "172.15.255.255", "172.32.0.1", "192.169.0.1", "169.253.255.255",
    "100.63.255.255", "100.128.0.1", "11.0.0.1", "126.255.255.255", "128.0.0.1", "223.255.255.255",
    "2606:4700:4700::1111", "2001:4860:4860::8888", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1",
    "fbff::1", "fe7f::1",
    NULL
  };
  for (int i = 0; refused[i]; i++) {
    int p = is_private(refused[i]);
    if (p != 1) fprintf(stderr, "expected refused: %s\n", refused[i]);
    CHECK(p == 1);
  }
  for (int i = 0; allowed[i]; i++) {
    int p = is_private(allowed[i]);
    if (p != 0) fprintf(stderr, "expected allowed: %s (%s)\n", allowed[i], class_of(allowed[i]));
    CHECK(p == 0);
  }
  CHECK(!strcmp(class_of("127.0.0.1"), "a loopback address"));
  CHECK(!strcmp(class_of("::1"), "a loopback address"));
  CHECK(!strcmp(class_of("::ffff:127.0.0.1"), "a loopback address"));
  CHECK(!strcmp(class_of("10.0.0.1"), "a private address"));
  CHECK(!strcmp(class_of("fd12::1"), "a private address"));
  CHECK(!strcmp(class_of("169.254.169.254"), "a link-local address"));
  CHECK(!strcmp(class_of("fe80::1"), "a link-local address"));
  CHECK(!strcmp(class_of("0.0.0.0"), "an unspecified address"));
  CHECK(!strcmp(class_of("::"), "an unspecified address"));
  CHECK(!strcmp(class_of("224.0.0.1"), "a multicast address"));
  CHECK(!strcmp(class_of("100.64.0.1"), "a carrier-grade NAT address"));
  struct sockaddr other = { .sa_family = AF_UNIX };
  CHECK(net_address_is_private(&other) == 1);
  CHECK(net_address_is_private(NULL) == 1);
}

static int refused_with(const char *url, const char *want)
{
  struct net_request req = { .method = "GET", .url = url, .timeout_ms = 2000 };
  struct net_response resp;
  char err[512];
  int rc = net_request(&req, &resp, err, sizeof err);
  net_response_free(&resp);
  if (rc != -1 || !strstr(err, want)) {
    fprintf(stderr, "%s: rc %d, err \"%s\" (wanted \"%s\")\n", url, rc, err, want);
    return 0;
  }
  return 1;
}

static void test_refusals(void)
{
  CHECK(net_init(0) == 0);
  CHECK(refused_with("http://127.0.0.1:9/x",
                     "refused: 127.0.0.1 is a loopback address; run with --allow-private-net to allow it"));
  CHECK(refused_with("http://[::1]:9/", "refused: ::1 is a loopback address"));
  CHECK(refused_with("http://[::ffff:127.0.0.1]/", "is a loopback address"));
  CHECK(refused_with("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"));
  CHECK(refused_with("http://metadata.google.internal/computeMetadata/v1/", "a cloud metadata service name"));
  CHECK(refused_with("http://METADATA.google.internal./", "a cloud metadata service name"));
  CHECK(refused_with("http://localhost:9/", "localhost is a loopback name"));
  CHECK(refused_with("http://2130706433/", "127.0.0.1"));        /* decimal IPv4 */
  CHECK(refused_with("http://0x7f.1/", "127.0.0.1"));            /* hex and short forms */
  CHECK(refused_with("http://0.0.0.0:9/", "an unspecified address"));
  CHECK(refused_with("http://10.1.2.3/", "10.1.2.3 is a private address"));
  CHECK(refused_with("http://100.100.100.200/", "carrier-grade NAT"));
  CHECK(refused_with("ftp://example.com/", "scheme must be http or https"));
  CHECK(refused_with("file:///etc/passwd", "scheme must be http or https"));
  CHECK(refused_with("gopher://example.com/", "scheme must be http or https"));
  CHECK(refused_with("http://exa mple.com/", "spaces"));
  CHECK(refused_with("not a url", "URL"));

  char err[256];
  CHECK(net_url_check("https://example.com/hook?x=1", err, sizeof err) == 0);
  CHECK(net_url_check("http://127.0.0.1:8080/", err, sizeof err) == 0);   /* checked when called, not here */
  CHECK(net_url_check("http://[::1]:8080/", err, sizeof err) == 0);
  CHECK(net_url_check("ftp://example.com/", err, sizeof err) == -1);
  CHECK(net_url_check("https://", err, sizeof err) == -1);
  CHECK(net_url_check("/relative", err, sizeof err) == -1);
  CHECK(net_url_check("", err, sizeof err) == -1);
}

/* A one-shot loopback server: answers each connection with the next canned response, then closes. */
static int listen_fd;
static const char *canned[4];
static char last_request[8192];

static void *serve(void *arg)
{
  for (int i = 0; canned[i]; i++) {
    int c = accept(listen_fd, NULL, NULL);
    if (c < 0) break;
    ssize_t n = 0, got;
    /* read until the end of the headers plus whatever body arrives with them */
    while ((size_t)n < sizeof last_request - 1 && (got = read(c, last_request + n, sizeof last_request - 1 - n)) > 0) {
      n += got;
      last_request[n] = 0;
      char *end = strstr(last_request, "\r\n\r\n");
      if (!end) continue;
      char *cl = strcasestr(last_request, "content-length:");
      long want = cl ? atol(cl + 15) : 0;
      if (n - (end + 4 - last_request) >= want) break;
    }
    if (write(c, canned[i], strlen(canned[i])) < 0) { /* the client went away */ }
    close(c);
  }
  return NULL;
}

static void test_exchange(void)
{
  CHECK(net_init(1) == 0);
  listen_fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  socklen_t alen = sizeof a;
  CHECK(bind(listen_fd, (struct sockaddr *)&a, sizeof a) == 0);
  CHECK(listen(listen_fd, 4) == 0);
  CHECK(getsockname(listen_fd, (struct sockaddr *)&a, &alen) == 0);
  static char big[200];
  snprintf(big, sizeof big, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\n%0100d", 7);
  canned[0] = "HTTP/1.1 503 Service Unavailable\r\nX-Test: yes\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbusy";
  canned[1] = "HTTP/1.1 302 Found\r\nLocation: http://169.254.169.254/\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
  canned[2] = big;
  canned[3] = NULL;
  pthread_t th;
  pthread_create(&th, NULL, serve, NULL);
  char url[64], err[256];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", ntohs(a.sin_port));

  const char *hdrs[] = { "Content-Type: application/json", "X-Destek-Event: test.happened", NULL };
  struct net_request req = { .method = "POST", .url = url, .headers = hdrs, .body = "{\"a\":1}", .body_len = 7 };
  struct net_response resp;
  CHECK(net_request(&req, &resp, err, sizeof err) == 0);
  CHECK(resp.status == 503);
  CHECK(resp.body_len == 4 && !strcmp(resp.body, "busy"));
  CHECK(resp.headers && strstr(resp.headers, "X-Test: yes"));
  CHECK(strstr(last_request, "POST /hook HTTP/1.1"));
  CHECK(strstr(last_request, "X-Destek-Event: test.happened"));
  CHECK(strstr(last_request, "\r\n\r\n{\"a\":1}"));
  CHECK(!strcasestr(last_request, "Expect:"));
  net_response_free(&resp);

  struct net_request get = { .method = "GET", .url = url };
  CHECK(net_request(&get, &resp, err, sizeof err) == 0);
  CHECK(resp.status == 302);   /* not followed */
  net_response_free(&resp);

  struct net_request capped = { .method = "GET", .url = url, .max_response = 10 };
  CHECK(net_request(&capped, &resp, err, sizeof err) == 0);
  CHECK(resp.status == 200);
  CHECK(resp.body_len == 10 && strlen(resp.body) == 10);
  net_response_free(&resp);
  pthread_join(th, NULL);

  /* nobody listens any more: a transport error, named */
  close(listen_fd);
  CHECK(net_request(&get, &resp, err, sizeof err) == -1);
  CHECK(resp.status == 0 && strlen(err) > 0);
  net_response_free(&resp);

  /* the same port with the guard on: refused before connecting */
  CHECK(net_init(0) == 0);
  CHECK(net_request(&get, &resp, err, sizeof err) == -1);
  CHECK(strstr(err, "refused: 127.0.0.1 is a loopback address") != NULL);
  net_response_free(&resp);
}

int main(void)
{
  test_classifier();
  test_refusals();
  test_exchange();
  net_cleanup();
  CHECK_DONE();
}
