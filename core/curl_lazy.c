/* libcurl, loaded on the first outbound call. The binary is not linked against libcurl: Debian's libcurl brings
 * GnuTLS, OpenSSL, Kerberos, LDAP, RTMP and SSH libraries whose constructors run when they are mapped, and linking
 * them cost 5.9 MB of resident memory in a process that never makes a call (measured: an empty program 1.4 MB,
 * linked with -lcurl 7.3 MB). A desk that sends no mail, polls no mailbox and calls no webhook never loads them.
 *
 * The functions below carry libcurl's own names, so the core and the built-in modules call libcurl as usual; each
 * one loads libcurl.so.4 once (dlopen, RTLD_LOCAL: its symbols stay out of the global scope, so libcurl's calls of
 * its own functions still reach its own) and calls the real function. When libcurl cannot be loaded, each answers
 * its "failed" value (CURLE_FAILED_INIT, NULL, ...) and the reason is logged once; net_curl_ready() reports it. A
 * module built as a .so links libcurl itself and never reaches these. */
#define CURL_DISABLE_TYPECHECK   /* curl.h's type-checking macros would rename the definitions below */
#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"

#define LIBCURL_SONAME "libcurl.so.4"

/* DESTEK_TEST_LIBCURL names another library instead: the tests start a server on a machine "without libcurl". */
static const char *soname(void)
{
  const char *t = getenv("DESTEK_TEST_LIBCURL");
  return t && *t ? t : LIBCURL_SONAME;
}

static struct {
  CURLcode (*global_init)(long);
  void (*global_cleanup)(void);
  CURL *(*easy_init)(void);
  CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
  CURLcode (*easy_perform)(CURL *);
  void (*easy_cleanup)(CURL *);
  CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
  void (*easy_reset)(CURL *);
  const char *(*easy_strerror)(CURLcode);
  void (*free_)(void *);
  struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
  void (*slist_free_all)(struct curl_slist *);
  CURLU *(*url)(void);
  void (*url_cleanup)(CURLU *);
  CURLUcode (*url_get)(CURLU *, CURLUPart, char **, unsigned int);
  CURLUcode (*url_set)(CURLU *, CURLUPart, const char *, unsigned int);
  const char *(*url_strerror)(CURLUcode);
  CURLM *(*multi_init)(void);
  CURLMcode (*multi_add_handle)(CURLM *, CURL *);
  CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
  CURLMcode (*multi_perform)(CURLM *, int *);
  CURLMcode (*multi_poll)(CURLM *, struct curl_waitfd[], unsigned int, int, int *);
  CURLMsg *(*multi_info_read)(CURLM *, int *);
  CURLMcode (*multi_cleanup)(CURLM *);
  CURLMcode (*multi_setopt)(CURLM *, CURLMoption, ...);
} fn;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int loaded;

static void load(void)
{
  void *lib = dlopen(soname(), RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    log_error("net", "cannot load %s: %s", soname(), dlerror());
    return;
  }
  static const struct { const char *name; size_t at; } syms[] = {
#define SYM(field, name) { name, offsetof(__typeof__(fn), field) }
    SYM(global_init, "curl_global_init"), SYM(global_cleanup, "curl_global_cleanup"),
    SYM(easy_init, "curl_easy_init"), SYM(easy_setopt, "curl_easy_setopt"), SYM(easy_perform, "curl_easy_perform"),
    SYM(easy_cleanup, "curl_easy_cleanup"), SYM(easy_getinfo, "curl_easy_getinfo"),
    SYM(easy_reset, "curl_easy_reset"), SYM(easy_strerror, "curl_easy_strerror"), SYM(free_, "curl_free"),
    SYM(slist_append, "curl_slist_append"), SYM(slist_free_all, "curl_slist_free_all"), SYM(url, "curl_url"),
    SYM(url_cleanup, "curl_url_cleanup"), SYM(url_get, "curl_url_get"), SYM(url_set, "curl_url_set"),
    SYM(url_strerror, "curl_url_strerror"), SYM(multi_init, "curl_multi_init"),
    SYM(multi_add_handle, "curl_multi_add_handle"), SYM(multi_remove_handle, "curl_multi_remove_handle"),
    SYM(multi_perform, "curl_multi_perform"), SYM(multi_poll, "curl_multi_poll"),
    SYM(multi_info_read, "curl_multi_info_read"), SYM(multi_cleanup, "curl_multi_cleanup"),
    SYM(multi_setopt, "curl_multi_setopt"),
#undef SYM
  };
  for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
    void *p = dlsym(lib, syms[i].name);
    if (!p) {
      log_error("net", "%s has no %s (libcurl 7.80 or newer is needed)", soname(), syms[i].name);
      memset(&fn, 0, sizeof fn);
      dlclose(lib);
      return;
    }
    memcpy((char *)&fn + syms[i].at, &p, sizeof p);
  }
  loaded = 1;
}

static int ready(void)
{
  pthread_once(&load_once, load);
  return loaded;
}

/* The variadic setters take one value whose type the option's number range gives (curl.h's CURLOPTTYPE_*, the
 * ranges libcurl itself reads the argument by). */
#define FORWARD_OPTION(call, handle, option, ap)                                                                     \
  ((option) < CURLOPTTYPE_OBJECTPOINT     ? call(handle, option, va_arg(ap, long))                                   \
   : (option) < CURLOPTTYPE_FUNCTIONPOINT ? call(handle, option, va_arg(ap, void *))                                 \
   : (option) < CURLOPTTYPE_OFF_T         ? call(handle, option, va_arg(ap, void (*)(void)))                         \
   : (option) < CURLOPTTYPE_BLOB          ? call(handle, option, va_arg(ap, curl_off_t))                             \
                                          : call(handle, option, va_arg(ap, void *)))

CURLcode (curl_global_init)(long flags) { return ready() ? fn.global_init(flags) : CURLE_FAILED_INIT; }
void (curl_global_cleanup)(void) { if (ready()) fn.global_cleanup(); }
CURL *(curl_easy_init)(void) { return ready() ? fn.easy_init() : NULL; }

CURLcode (curl_easy_setopt)(CURL *h, CURLoption option, ...)
{
  if (!ready()) return CURLE_FAILED_INIT;
  va_list ap;
  va_start(ap, option);
  CURLcode rc = FORWARD_OPTION(fn.easy_setopt, h, option, ap);
  va_end(ap);
  return rc;
}

CURLcode (curl_easy_perform)(CURL *h) { return ready() ? fn.easy_perform(h) : CURLE_FAILED_INIT; }
void (curl_easy_cleanup)(CURL *h) { if (h && ready()) fn.easy_cleanup(h); }

/* Every CURLINFO takes one pointer to where the answer goes. */
CURLcode (curl_easy_getinfo)(CURL *h, CURLINFO info, ...)
{
  if (!ready()) return CURLE_FAILED_INIT;
  va_list ap;
  va_start(ap, info);
  CURLcode rc = fn.easy_getinfo(h, info, va_arg(ap, void *));
  va_end(ap);
  return rc;
}

void (curl_easy_reset)(CURL *h) { if (h && ready()) fn.easy_reset(h); }
const char *(curl_easy_strerror)(CURLcode code) { return ready() ? fn.easy_strerror(code) : "libcurl could not be loaded"; }
void (curl_free)(void *p) { if (p && ready()) fn.free_(p); }
struct curl_slist *(curl_slist_append)(struct curl_slist *list, const char *s)
{
  return ready() ? fn.slist_append(list, s) : NULL;
}
void (curl_slist_free_all)(struct curl_slist *list) { if (list && ready()) fn.slist_free_all(list); }
CURLU *(curl_url)(void) { return ready() ? fn.url() : NULL; }
void (curl_url_cleanup)(CURLU *u) { if (u && ready()) fn.url_cleanup(u); }
CURLUcode (curl_url_get)(CURLU *u, CURLUPart what, char **part, unsigned int flags)
{
  return ready() ? fn.url_get(u, what, part, flags) : CURLUE_OUT_OF_MEMORY;
}
CURLUcode (curl_url_set)(CURLU *u, CURLUPart what, const char *part, unsigned int flags)
{
  return ready() ? fn.url_set(u, what, part, flags) : CURLUE_OUT_OF_MEMORY;
}
const char *(curl_url_strerror)(CURLUcode code) { return ready() ? fn.url_strerror(code) : "libcurl could not be loaded"; }
CURLM *(curl_multi_init)(void) { return ready() ? fn.multi_init() : NULL; }
CURLMcode (curl_multi_add_handle)(CURLM *m, CURL *h) { return ready() ? fn.multi_add_handle(m, h) : CURLM_INTERNAL_ERROR; }
CURLMcode (curl_multi_remove_handle)(CURLM *m, CURL *h)
{
  return ready() ? fn.multi_remove_handle(m, h) : CURLM_INTERNAL_ERROR;
}
CURLMcode (curl_multi_perform)(CURLM *m, int *running)
{
  return ready() ? fn.multi_perform(m, running) : CURLM_INTERNAL_ERROR;
}
CURLMcode (curl_multi_poll)(CURLM *m, struct curl_waitfd extra[], unsigned int n, int timeout_ms, int *ret)
{
  return ready() ? fn.multi_poll(m, extra, n, timeout_ms, ret) : CURLM_INTERNAL_ERROR;
}
CURLMsg *(curl_multi_info_read)(CURLM *m, int *left) { return ready() ? fn.multi_info_read(m, left) : NULL; }
CURLMcode (curl_multi_cleanup)(CURLM *m) { return ready() ? fn.multi_cleanup(m) : CURLM_INTERNAL_ERROR; }

CURLMcode (curl_multi_setopt)(CURLM *m, CURLMoption option, ...)
{
  if (!ready()) return CURLM_INTERNAL_ERROR;
  va_list ap;
  va_start(ap, option);
  CURLMcode rc = FORWARD_OPTION(fn.multi_setopt, m, option, ap);
  va_end(ap);
  return rc;
}

/* The probe: a child that tries to load libcurl and exits, started before the server's threads (a fork) and reaped
 * once the server listens, so that start-up does not wait for the loader (~20 ms of CPU). */
static pid_t probe_pid = -1;
static int probe_fd = -1;

void curl_lazy_probe_start(void)
{
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) return;   /* cannot tell: the first call will */
  pid_t pid = fork();
  if (pid < 0) { close(pipefd[0]); close(pipefd[1]); return; }
  if (pid == 0) {
    close(pipefd[0]);
    if (dlopen(soname(), RTLD_NOW | RTLD_LOCAL)) _exit(0);
    const char *why = dlerror();
    if (why && write(pipefd[1], why, strlen(why)) < 0) _exit(2);
    _exit(1);
  }
  close(pipefd[1]);
  probe_pid = pid;
  probe_fd = pipefd[0];
}

int curl_lazy_probe_finish(char *err, size_t errlen)
{
  if (probe_pid < 0) return 0;
  char why[512];
  ssize_t n = read(probe_fd, why, sizeof why - 1);
  close(probe_fd);
  int status = 0;
  while (waitpid(probe_pid, &status, 0) < 0 && errno == EINTR) {}
  probe_pid = probe_fd = -1;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
  why[n > 0 ? n : 0] = 0;
  snprintf(err, errlen, "%s", why[0] ? why : "cannot load libcurl");
  return -1;
}
