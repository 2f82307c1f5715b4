/* Settings: declared by the core and plugins, stored in core_settings, changed by admins as a whole or not at all. */
#include "settings.h"
#include "shop.h"

#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "page_cache.h"
#include "util.h"

#define MAX_SETTINGS 256
#define MAX_VALUE 8192

struct declared { const char *owner; struct destek_setting s; };

static struct declared declared[MAX_SETTINGS];
static int n_declared;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* Each thread keeps the values it read (short ones) until a change: settings_patch moves the generation on before it
 * writes and again once its transaction has ended (a done hook around the writer's commits), so that a value read in
 * between, still the old one, is not kept past the commit. core_settings is written only there (and by migrations,
 * before any read). */
static atomic_ulong values_gen = 1;
static atomic_int values_dirty;
#define VALUE_CACHE 16
#define VALUE_CACHE_MAX 128
#define FIND_MEMO 64

/* A thread's caches (values, and where names were found: see find), allocated when the thread first reads a
 * setting: in the thread's static TLS they would take 3.4 KB of every thread's stack pages, touched when the thread
 * starts, in each of the server's 164 worker threads, most of which never read a setting. */
struct thread_cache {
  struct { const void *d; unsigned long gen; char v[VALUE_CACHE_MAX]; } values[VALUE_CACHE];
  int values_next;
  struct { const char *name; const struct declared *d; } find[FIND_MEMO];
};
static __thread struct thread_cache *tl;
static pthread_key_t tl_key;
static pthread_once_t tl_key_once = PTHREAD_ONCE_INIT;
static void tl_key_make(void) { pthread_key_create(&tl_key, free); }

/* This thread's caches (an empty one at first use; freed when the thread exits). */
static struct thread_cache *thread_cache(void)
{
  if (tl) return tl;
  pthread_once(&tl_key_once, tl_key_make);
  tl = calloc(1, sizeof *tl);
  if (!tl) abort();
  pthread_setspecific(tl_key, tl);
  return tl;
}

static void values_done(int committed, void *ud)
{
  (void)committed; (void)ud;
  if (atomic_exchange(&values_dirty, 0)) atomic_fetch_add(&values_gen, 1);
}

static const char *type_name(enum destek_setting_type t)
{
  return t == DESTEK_SETTING_INT ? "int" : t == DESTEK_SETTING_BOOL ? "bool" : "string";
}

static int name_ok(const char *name)
{
  size_t n = strlen(name);
  if (n < 3 || n > 100 || !strchr(name, '.')) return 0;
  for (const char *p = name; *p; p++)
    if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '_' && *p != '.') return 0;
  return 1;
}

int settings_declare(const char *owner, const struct destek_setting *settings)
{
  int rc = 0;
  pthread_mutex_lock(&lock);
  for (const struct destek_setting *s = settings; s && s->name; s++) {
    int dup = 0;
    for (int i = 0; i < n_declared; i++)
      if (!strcmp(declared[i].s.name, s->name)) dup = strcmp(declared[i].owner, owner) ? 2 : 1;
    if (dup == 1) continue;  /* the same owner declaring again (a reload) */
    if (dup == 2 || !name_ok(s->name) || s->type < DESTEK_SETTING_STRING || s->type > DESTEK_SETTING_BOOL ||
        n_declared == MAX_SETTINGS) {
      log_error("settings", "%s: setting '%s' refused (%s)", owner, s->name,
                dup ? "declared by another plugin" : "bad name or type");
      rc = -1;
      continue;
    }
    struct declared *d = &declared[n_declared++];
    d->owner = util_intern(owner);
    d->s.name = util_intern(s->name);
    d->s.type = s->type;
    d->s.default_value = s->default_value ? util_intern(s->default_value) : NULL;
    d->s.secret = s->secret;
    d->s.description = s->description ? util_intern(s->description) : "";
  }
  pthread_mutex_unlock(&lock);
  return rc;
}

/* Each thread remembers where it found a name, by the address of the caller's text (the code's literals): one
 * comparison instead of a locked walk over every declared setting (a page that reads six settings did six). The entry
 * found is checked by its name, so an address that now holds another text (a plugin reloaded) is looked up again;
 * entries are never removed or moved, so a remembered one stays valid. A name not found is not remembered. */
static const struct declared *find(const char *name)
{
  struct thread_cache *c = thread_cache();
  size_t slot = (size_t)(((uintptr_t)name >> 3) % FIND_MEMO);
  const struct declared *m = c->find[slot].d;
  if (m && c->find[slot].name == name && !strcmp(m->s.name, name)) return m;
  const struct declared *found = NULL;
  pthread_mutex_lock(&lock);
  for (int i = 0; i < n_declared && !found; i++)
    if (!strcmp(declared[i].s.name, name)) found = &declared[i];
  pthread_mutex_unlock(&lock);
  if (found) { c->find[slot].name = name; c->find[slot].d = found; }
  return found;  /* entries are never removed or moved */
}

char *settings_get_new(const char *name)
{
  const struct declared *d = find(name);
  if (!d) return NULL;
  struct thread_cache *c = thread_cache();
  unsigned long gen = atomic_load(&values_gen);
  for (int i = 0; i < VALUE_CACHE; i++)
    if (c->values[i].d == d && c->values[i].gen == gen) return util_strdup(c->values[i].v);
  struct db *db = db_reader();
  char *v = db ? db_text_new(db, "SELECT value FROM core_settings WHERE name = ?1", "t", name) : NULL;
  if (!v && db) v = util_strdup(d->s.default_value ? d->s.default_value : "");
  else if (!v) return util_strdup(d->s.default_value ? d->s.default_value : "");
  size_t n = strlen(v);
  if (n < VALUE_CACHE_MAX) {
    int i = c->values_next++ % VALUE_CACHE;
    c->values[i].d = d;
    c->values[i].gen = gen;
    memcpy(c->values[i].v, v, n + 1);
  }
  return v;
}

const char *settings_owner(const char *name, int *secret)
{
  const struct declared *d = find(name);
  *secret = d && d->s.secret;
  return d ? d->owner : NULL;
}

long settings_get_int(const char *name, long dflt)
{
  char *v = settings_get_new(name);
  if (!v) return dflt;
  char *end;
  long n = strtol(v, &end, 10);
  if (!*v || *end) n = dflt;
  free(v);
  return n;
}

int settings_get_bool(const char *name, int dflt)
{
  char *v = settings_get_new(name);
  if (!v) return dflt;
  int b = !strcmp(v, "true") ? 1 : !strcmp(v, "false") ? 0 : dflt;
  free(v);
  return b;
}

static cJSON *value_json(enum destek_setting_type t, const char *v)
{
  if (!v) return cJSON_CreateNull();
  if (t == DESTEK_SETTING_INT) return cJSON_CreateNumber((double)strtoll(v, NULL, 10));
  if (t == DESTEK_SETTING_BOOL) return cJSON_CreateBool(!strcmp(v, "true"));
  return cJSON_CreateString(v);
}

static cJSON *list_json(struct db *db)
{
  cJSON *items = cJSON_CreateArray();
  pthread_mutex_lock(&lock);
  int n = n_declared;
  pthread_mutex_unlock(&lock);
  for (int i = 0; i < n; i++) {
    const struct declared *d = &declared[i];
    char *stored = db_text_new(db, "SELECT value FROM core_settings WHERE name = ?1", "t", d->s.name);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", d->s.name);
    cJSON_AddStringToObject(o, "type", type_name(d->s.type));
    cJSON_AddStringToObject(o, "plugin", d->owner);
    cJSON_AddStringToObject(o, "description", d->s.description);
    cJSON_AddBoolToObject(o, "secret", d->s.secret);
    cJSON_AddBoolToObject(o, "set", stored != NULL);
    if (d->s.secret) {
      cJSON_AddNullToObject(o, "value");
      cJSON_AddNullToObject(o, "default");
    } else {
      cJSON_AddItemToObject(o, "value", value_json(d->s.type, stored ? stored : d->s.default_value));
      cJSON_AddItemToObject(o, "default", value_json(d->s.type, d->s.default_value));
    }
    free(stored);
    cJSON_AddItemToArray(items, o);
  }
  return items;
}

static int settings_get(struct destek_req *r)
{
  struct db *db = http_db(r);
  if (!db) return http_error(r, 503, "db_unavailable", "the database cannot be opened");
  cJSON *o = cJSON_CreateObject();
  cJSON_AddItemToObject(o, "items", list_json(db));
  cJSON_AddNullToObject(o, "next_cursor");
  return http_reply_json(r, 200, o);
}

/* Checks one value against its declaration; the text form goes to out (caller frees), NULL for "reset". */
static int check_value(struct destek_req *r, const struct declared *d, const cJSON *v, char **out)
{
  *out = NULL;
  if (cJSON_IsNull(v)) return 0;
  const char *name = d->s.name;
  switch (d->s.type) {
  case DESTEK_SETTING_STRING:
    if (!cJSON_IsString(v)) return http_field_error(r, "invalid_field", name, "%s must be a string", name);
    if (strlen(v->valuestring) > MAX_VALUE || !util_utf8_valid(v->valuestring, strlen(v->valuestring)))
      return http_field_error(r, "invalid_field", name, "%s must be text of at most %d bytes", name, MAX_VALUE);
    /* The shop's face (shop.c): addresses a public page links to, a colour it paints with. */
    if (*v->valuestring && (!strcmp(name, "shop.logo_url") || !strcmp(name, "shop.privacy_url")) && !shop_url_ok(v->valuestring))
      return http_field_error(r, "invalid_field", name, "%s must be an http(s) address", name);
    if (*v->valuestring && !strcmp(name, "shop.colour") && !shop_colour_ok(v->valuestring))
      return http_field_error(r, "invalid_field", name, "%s must be a colour as #rrggbb", name);
    *out = util_strdup(v->valuestring);
    return 0;
  case DESTEK_SETTING_INT:
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || fabs(v->valuedouble) > 9e15)
      return http_field_error(r, "invalid_field", name, "%s must be a whole number", name);
    if (asprintf(out, "%lld", (long long)v->valuedouble) < 0) abort();
    return 0;
  case DESTEK_SETTING_BOOL:
    if (!cJSON_IsBool(v)) return http_field_error(r, "invalid_field", name, "%s must be true or false", name);
    *out = util_strdup(cJSON_IsTrue(v) ? "true" : "false");
    return 0;
  }
  return http_field_error(r, "invalid_field", name, "%s cannot be set", name);
}

static int settings_patch(struct destek_req *r)
{
  cJSON *body;
  int rc = http_body_object(r, &body);
  if (rc) return rc;
  if (!body->child) return http_error(r, 422, "missing_field", "name at least one setting to change");
  /* Check everything first: nothing is applied unless all of it is valid. */
  for (cJSON *it = body->child; it; it = it->next) {
    const struct declared *d = find(it->string);
    if (!d) return http_field_error(r, "invalid_field", it->string, "there is no setting named %s", it->string);
    char *v;
    if ((rc = check_value(r, d, it, &v))) return rc;
    free(v);
  }
  struct db *w = http_tx(r);
  if (!w) return r->status;
  /* Modules' cached pages may show a setting (a shop's name): every one is dropped, now and after the commit. */
  page_cache_clear(NULL);
  r->cache_clear = "*";
  atomic_store(&values_dirty, 1);
  atomic_fetch_add(&values_gen, 1);
  char now[21];
  util_iso_time(time(NULL), now);
  cJSON *changed = cJSON_CreateArray();
  for (cJSON *it = body->child; it; it = it->next) {
    const struct declared *d = find(it->string);
    char *v;
    check_value(r, d, it, &v);
    int e = v ? db_exec(w, "INSERT INTO core_settings(name, value, updated_at) VALUES (?1, ?2, ?3)"
                           " ON CONFLICT(name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                        "ttt", d->s.name, v, now)
              : db_exec(w, "DELETE FROM core_settings WHERE name = ?1", "t", d->s.name);
    free(v);
    if (e != SQLITE_OK) { cJSON_Delete(changed); return http_error(r, 500, "internal", "the settings could not be saved"); }
    cJSON_AddItemToArray(changed, cJSON_CreateString(d->s.name));
  }
  cJSON *detail = cJSON_CreateObject();
  cJSON_AddItemToObject(detail, "changed", changed);  /* names only: values may be secrets */
  audit_log(w, r, "settings.updated", NULL, detail);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddItemToObject(o, "items", list_json(w));
  cJSON_AddNullToObject(o, "next_cursor");
  return http_reply_json(r, 200, o);
}

static const struct destek_route routes[] = {
  { "GET",   "/api/v1/settings", settings_get,   DESTEK_ADMIN, NULL },
  { "PATCH", "/api/v1/settings", settings_patch, DESTEK_ADMIN, NULL },
  { 0 }
};

int settings_routes_init(void)
{
  if (db_on_commit(NULL, values_done, NULL) != 0) return -1;
  return http_routes_add("core", routes);
}
