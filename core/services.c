/* Services between modules (see services.h). */
#include "services.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "http.h"
#include "live.h"
#include "log.h"
#include "util.h"

#define SERVICES_MAX 256
#define SERVICE_NAME_MAX 64

struct service {
  const char *name;    /* interned */
  const char *owner;   /* interned */
  destek_service_fn fn;
  void *ud;
  int unmetered;       /* services_publish_unmetered */
};

static struct service services[SERVICES_MAX];
static int n_services;
static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;

static int name_ok(const char *owner, const char *name)
{
  size_t olen = strlen(owner), n = strlen(name);
  if (n > SERVICE_NAME_MAX || n <= olen + 1 || strncmp(name, owner, olen) != 0 || name[olen] != '.') return 0;
  for (const char *p = name; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '.')) return 0;
  return name[n - 1] != '.';
}

int services_publish(const char *owner, const char *name, destek_service_fn fn, void *ud)
{
  if (!owner || !name || !fn || !name_ok(owner, name)) {
    log_error("services", "%s: service name '%s' refused: it must be \"%s.<verb>\" in lower case ([a-z0-9_.], at most "
              "%d bytes)", owner ? owner : "?", name ? name : "", owner ? owner : "<plugin>", SERVICE_NAME_MAX);
    return -1;
  }
  const char *iname = util_intern(name), *iowner = util_intern(owner);
  pthread_rwlock_wrlock(&lock);
  int rc = 0;
  for (int i = 0; i < n_services; i++)
    if (services[i].name == iname) {
      log_error("services", "%s: service %s is already published by %s", owner, name, services[i].owner);
      rc = -1;
    }
  if (rc == 0 && n_services == SERVICES_MAX) {
    log_error("services", "%s: too many services (at most %d)", owner, SERVICES_MAX);
    rc = -1;
  }
  if (rc == 0) services[n_services++] = (struct service){ iname, iowner, fn, ud, 0 };
  pthread_rwlock_unlock(&lock);
  return rc;
}

int services_publish_unmetered(const char *owner, const char *name, destek_service_fn fn, void *ud)
{
  if (services_publish(owner, name, fn, ud) != 0) return -1;
  const char *iname = util_intern(name);
  pthread_rwlock_wrlock(&lock);
  for (int i = 0; i < n_services; i++)
    if (services[i].name == iname) services[i].unmetered = 1;
  pthread_rwlock_unlock(&lock);
  return 0;
}

void services_forget_owner(const char *owner)
{
  pthread_rwlock_wrlock(&lock);
  int keep = 0;
  for (int i = 0; i < n_services; i++)
    if (strcmp(services[i].owner, owner) != 0) services[keep++] = services[i];
  n_services = keep;
  pthread_rwlock_unlock(&lock);
}

static int find(const char *name, struct service *out)
{
  int found = 0;
  pthread_rwlock_rdlock(&lock);
  for (int i = 0; i < n_services && !found; i++)
    if (!strcmp(services[i].name, name)) { *out = services[i]; found = 1; }
  pthread_rwlock_unlock(&lock);
  return found;
}

int services_exists(const char *name)
{
  struct service s;
  return name && find(name, &s);
}

int services_unmetered(const char *name)
{
  struct service s;
  return name && find(name, &s) && s.unmetered;
}

int services_call(struct destek_req *call, const char *name, const cJSON *args, cJSON **result)
{
  *result = NULL;
  struct service s;
  if (!name || !find(name, &s))
    return http_error(call, 501, "service_unavailable", "no module provides the service %s (is its plugin installed?)",
                      name ? name : "(null)");
  cJSON *empty = NULL;
  if (!args) args = empty = cJSON_CreateObject();
  if (!cJSON_IsObject(args)) {
    log_error("services", "%s called %s with arguments that are not a JSON object", call->owner, name);
    return http_error(call, 500, "internal", "internal error (service arguments)");
  }
  /* What the service writes sits in a savepoint of its own when the call's transaction is already open, so that a
   * failure takes back only the service's part; when the service opens the transaction, undoing the call's writes
   * undoes exactly the service's. */
  struct db *had_tx = call->tx;
  if (had_tx && db_exec(had_tx, "SAVEPOINT destek_service", NULL) != SQLITE_OK) {
    cJSON_Delete(empty);
    return http_error(call, 500, "internal", "the service %s could not begin", name);
  }
  size_t live_at = live_mark(call);
  const char *caller = call->owner, *caller_before = call->service_caller;
  call->owner = s.owner;
  call->service_caller = caller;
  cJSON *out = NULL;
  int rc = s.fn(call, args, &out, s.ud);
  call->owner = caller;
  call->service_caller = caller_before;
  cJSON_Delete(empty);
  if (rc == 0) {
    if (had_tx) db_exec(had_tx, "RELEASE destek_service", NULL);
    *result = out ? out : cJSON_CreateObject();
    return 0;
  }
  cJSON_Delete(out);
  live_rewind(call, live_at);
  if (had_tx) {
    db_exec(had_tx, "ROLLBACK TO destek_service", NULL);
    db_exec(had_tx, "RELEASE destek_service", NULL);
  } else if (call->tx) {
    db_tx_undo(call->tx);
  }
  if (rc < 400 || rc > 599 || call->status != rc) {
    log_error("services", "%s returned %d without setting up an error", name, rc);
    return http_error(call, 500, "service_failed", "the service %s failed", name);
  }
  return rc;
}

static int ends_with(const char *s, const char *suffix)
{
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && !memcmp(s + n - k, suffix, k);
}

cJSON *services_list_new(const char *suffix)
{
  cJSON *arr = cJSON_CreateArray();
  pthread_rwlock_rdlock(&lock);
  int order[SERVICES_MAX], n = 0;
  for (int i = 0; i < n_services; i++)
    if (!suffix || ends_with(services[i].name, suffix)) order[n++] = i;
  for (int i = 1; i < n; i++)   /* insertion sort: a few dozen names */
    for (int j = i; j > 0 && strcmp(services[order[j - 1]].name, services[order[j]].name) > 0; j--) {
      int t = order[j]; order[j] = order[j - 1]; order[j - 1] = t;
    }
  for (int i = 0; i < n; i++) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", services[order[i]].name);
    cJSON_AddStringToObject(o, "plugin", services[order[i]].owner);
    cJSON_AddItemToArray(arr, o);
  }
  pthread_rwlock_unlock(&lock);
  return arr;
}
