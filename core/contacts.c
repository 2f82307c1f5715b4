/* Contacts (see contacts.h): the store, merge, and the KVKK export and erasure with every module's part. */
#include "contacts.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "bus.h"
#include "consent.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "services.h"
#include "util.h"
#include "zip.h"

/* The status of the response set up on the call, and whether it is an error. */
#define call_status(r) ((r)->status)
#define error_set(r) ((r)->status >= 400)

#define EXPORT_MAX_BYTES ((size_t)128 << 20)   /* a contact's export held in memory at once */

static const char *const KINDS[] = { "email", "phone", "whatsapp", NULL };

/* --- normalising identities --- */

static int email_normalise(const char *in, char *out, size_t outlen)
{
  while (*in == ' ' || *in == '\t') in++;
  size_t n = strlen(in);
  while (n && (in[n - 1] == ' ' || in[n - 1] == '\t')) n--;
  if (n < 3 || n > 254 || n >= outlen) return -1;
  const char *at = NULL;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)in[i];
    if (c <= ' ' || c == 0x7F || c == '<' || c == '>' || c == ',' || c == ';' || c == '"') return -1;
    if (c == '@') { if (at) return -1; at = in + i; }
    out[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
  }
  out[n] = 0;
  if (!at || at == in || at == in + n - 1) return -1;
  return 0;
}

/* E.164 with Turkish defaults: "+CC..." and "00CC..." as given; a national "0XXX XXX XX XX" (11 digits), a
 * ten-digit number starting 2-5 (Turkish area codes and mobiles) and "90XXXXXXXXXX" (12 digits) become +90...; other
 * numbers of 7 to 15 digits are kept as digits (their country cannot be known). Separators " -()." are dropped. */
static int phone_normalise(const char *in, char *out, size_t outlen)
{
  char d[32];
  size_t n = 0;
  int plus = 0;
  for (const char *p = in; *p; p++) {
    if (*p >= '0' && *p <= '9') {
      if (n >= 20) return -1;
      d[n++] = *p;
    } else if (*p == '+' && n == 0 && !plus) {
      plus = 1;
    } else if (!strchr(" -().\t", *p)) {
      return -1;
    }
  }
  d[n] = 0;
  const char *digits = d;
  if (!plus && n > 2 && d[0] == '0' && d[1] == '0') { plus = 1; digits += 2; n -= 2; }
  char buf[40];
  if (plus) snprintf(buf, sizeof buf, "+%s", digits);
  else if (n == 11 && d[0] == '0' && d[1] != '0') snprintf(buf, sizeof buf, "+90%s", d + 1);
  else if (n == 10 && d[0] >= '2' && d[0] <= '5') snprintf(buf, sizeof buf, "+90%s", d);
  else if (n == 12 && d[0] == '9' && d[1] == '0') snprintf(buf, sizeof buf, "+%s", d);
  else snprintf(buf, sizeof buf, "%s", d);
  size_t digit_count = strlen(buf) - (buf[0] == '+');
  if (digit_count < 7 || digit_count > 15 || (buf[0] == '+' && buf[1] == '0') || strlen(buf) >= outlen) return -1;
  memcpy(out, buf, strlen(buf) + 1);
  return 0;
}

int contacts_normalise(const char *kind, const char *value, char *out, size_t outlen)
{
  if (!kind || !value || !out || !outlen) return -1;
  if (!strcmp(kind, "email")) return email_normalise(value, out, outlen);
  if (!strcmp(kind, "phone") || !strcmp(kind, "whatsapp")) return phone_normalise(value, out, outlen);
  return -1;
}

/* --- the store --- */

int64_t contacts_find(struct destek_req *call, const char *kind, const char *value)
{
  char norm[256];
  if (contacts_normalise(kind, value, norm, sizeof norm) != 0) return 0;
  struct db *db = call ? http_db(call) : db_reader();
  if (!db) return 0;
  return db_int(db, 0, "SELECT contact_id FROM core_contact_identities WHERE kind = ?1 AND value = ?2", "tt", kind,
                norm);
}

/* Adds identity (kind, norm) to contact id on the writer when no one holds it; keeps the contact's first-of-kind
 * column filled (fill: the column may be empty). 0 added or already its own, 1 held by another, -1 error. */
static int identity_insert(struct db *w, int64_t id, const char *kind, const char *norm, const char *now, int fill)
{
  int rc = db_exec(w, "INSERT INTO core_contact_identities(contact_id, kind, value, created_at) VALUES (?1, ?2, ?3, ?4)"
                   " ON CONFLICT (kind, value) DO NOTHING", "itt" "t", id, kind, norm, now);
  if (rc != SQLITE_OK) return -1;
  if (db_changes(w) == 0)
    return db_int(w, 0, "SELECT contact_id FROM core_contact_identities WHERE kind = ?1 AND value = ?2", "tt", kind,
                  norm) == id ? 0 : 1;
  if (!fill) return 0;
  if (!strcmp(kind, "email"))
    rc = db_exec(w, "UPDATE core_contacts SET email = ?2 WHERE id = ?1 AND email IS NULL", "it", id, norm);
  else if (!strcmp(kind, "phone"))
    rc = db_exec(w, "UPDATE core_contacts SET phone = ?2 WHERE id = ?1 AND phone IS NULL", "it", id, norm);
  return rc == SQLITE_OK ? 0 : -1;
}

int64_t contacts_resolve(struct destek_req *call, const char *email, const char *phone, const char *whatsapp,
                         const char *name, const char *lang)
{
  char norm[3][256];
  const char *given[3] = { email, phone, whatsapp };
  int have[3] = { 0, 0, 0 }, any = 0;
  for (int k = 0; k < 3; k++)
    if (given[k] && *given[k] && contacts_normalise(KINDS[k], given[k], norm[k], sizeof norm[k]) == 0) have[k] = any = 1;
  if (!any) return 0;
  if (lang && strcmp(lang, "tr") && strcmp(lang, "en")) lang = NULL;
  struct db *w = http_tx(call);
  if (!w) return -1;
  int64_t id = 0;
  int matched = -1, created = 0;
  for (int k = 0; k < 3 && !id; k++)
    if (have[k] && (id = db_int(w, 0, "SELECT contact_id FROM core_contact_identities WHERE kind = ?1 AND value = ?2",
                                "tt", KINDS[k], norm[k])))
      matched = k;
  char now[21];
  util_iso_time(time(NULL), now);
  if (!id) {
    if (db_exec(w, "INSERT INTO core_contacts(name, lang, email, phone, created_at, updated_at)"
                   " VALUES (?1, ?2, ?3, ?4, ?5, ?5)", "ttttt", name ? name : "", lang ? lang : "tr",
                have[0] ? norm[0] : NULL, have[1] ? norm[1] : NULL, now) != SQLITE_OK)
      return -1;
    id = db_last_id(w);
    created = 1;
  } else if (name && *name &&
             db_exec(w, "UPDATE core_contacts SET name = ?2, updated_at = ?3 WHERE id = ?1 AND name = ''", "itt", id,
                     name, now) != SQLITE_OK) {
    return -1;
  }
  for (int k = 0; k < 3; k++)
    if (have[k] && k != matched && identity_insert(w, id, KINDS[k], norm[k], now, !created) < 0)
      return -1;
  return id;
}

int contacts_identity_add(struct destek_req *call, int64_t contact_id, const char *kind, const char *value)
{
  char norm[256];
  if (contacts_normalise(kind, value, norm, sizeof norm) != 0) return -1;
  struct db *w = http_tx(call);
  if (!w) return -1;
  if (!db_int(w, 0, "SELECT count(*) FROM core_contacts WHERE id = ?1 AND merged_into IS NULL AND erased_at IS NULL",
              "i", contact_id))
    return -1;
  char now[21];
  util_iso_time(time(NULL), now);
  return identity_insert(w, contact_id, kind, norm, now, 1);
}

static void add_text_or_null(cJSON *o, const char *name, sqlite3_stmt *st, int col)
{
  if (sqlite3_column_type(st, col) == SQLITE_NULL) cJSON_AddNullToObject(o, name);
  else cJSON_AddStringToObject(o, name, (const char *)sqlite3_column_text(st, col));
}

static cJSON *contact_json(struct db *db, int64_t id)
{
  sqlite3_stmt *st = db_prepare(db, "SELECT id, name, lang, email, phone, merged_into, erased_at, created_at, updated_at"
                                    " FROM core_contacts WHERE id = ?1");
  if (!st) return NULL;
  db_bind(st, "i", id);
  cJSON *o = NULL;
  if (sqlite3_step(st) == SQLITE_ROW) {
    o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(st, 0));
    cJSON_AddStringToObject(o, "name", (const char *)sqlite3_column_text(st, 1));
    cJSON_AddStringToObject(o, "lang", (const char *)sqlite3_column_text(st, 2));
    add_text_or_null(o, "email", st, 3);
    add_text_or_null(o, "phone", st, 4);
    if (sqlite3_column_type(st, 5) == SQLITE_NULL) cJSON_AddNullToObject(o, "merged_into");
    else cJSON_AddNumberToObject(o, "merged_into", (double)sqlite3_column_int64(st, 5));
    add_text_or_null(o, "erased_at", st, 6);
    cJSON_AddStringToObject(o, "created_at", (const char *)sqlite3_column_text(st, 7));
    cJSON_AddStringToObject(o, "updated_at", (const char *)sqlite3_column_text(st, 8));
  }
  db_done(st);
  if (!o) return NULL;
  cJSON *ids = cJSON_AddArrayToObject(o, "identities");
  st = db_prepare(db, "SELECT kind, value, created_at FROM core_contact_identities WHERE contact_id = ?1 ORDER BY id");
  if (st) {
    db_bind(st, "i", id);
    while (sqlite3_step(st) == SQLITE_ROW) {
      cJSON *i = cJSON_CreateObject();
      cJSON_AddStringToObject(i, "kind", (const char *)sqlite3_column_text(st, 0));
      cJSON_AddStringToObject(i, "value", (const char *)sqlite3_column_text(st, 1));
      cJSON_AddStringToObject(i, "created_at", (const char *)sqlite3_column_text(st, 2));
      cJSON_AddItemToArray(ids, i);
    }
    db_done(st);
  }
  return o;
}

cJSON *contacts_json_new(struct destek_req *call, int64_t contact_id)
{
  struct db *db = call ? http_db(call) : db_reader();
  return db ? contact_json(db, contact_id) : NULL;
}

/* --- the modules' hooks --- */

#define HOOKS_MAX 64
struct hook_entry { const char *owner; struct destek_contact_hooks hooks; };
static struct hook_entry hooks[HOOKS_MAX];
static int n_hooks;
static pthread_rwlock_t hooks_lock = PTHREAD_RWLOCK_INITIALIZER;

int contacts_hooks_add(const char *owner, const struct destek_contact_hooks *h)
{
  const char *o = util_intern(owner);
  pthread_rwlock_wrlock(&hooks_lock);
  int rc = 0;
  for (int i = 0; i < n_hooks; i++) if (hooks[i].owner == o) rc = -1;
  if (rc == 0 && n_hooks == HOOKS_MAX) rc = -1;
  if (rc == 0) hooks[n_hooks++] = (struct hook_entry){ o, *h };
  pthread_rwlock_unlock(&hooks_lock);
  if (rc) log_error("contacts", "%s: contact hooks refused (registered already, or too many modules)", owner);
  return rc;
}

void contacts_hooks_forget(const char *owner)
{
  const char *o = util_intern(owner);
  pthread_rwlock_wrlock(&hooks_lock);
  for (int i = 0; i < n_hooks; i++)
    if (hooks[i].owner == o) { hooks[i] = hooks[--n_hooks]; i--; }
  pthread_rwlock_unlock(&hooks_lock);
}

/* A copy of the hooks, so that none is held locked while modules run. Caller frees. */
static struct hook_entry *hooks_snapshot(int *n)
{
  pthread_rwlock_rdlock(&hooks_lock);
  struct hook_entry *copy = malloc(sizeof *copy * (size_t)(n_hooks ? n_hooks : 1));
  if (!copy) abort();
  memcpy(copy, hooks, sizeof *copy * (size_t)n_hooks);
  *n = n_hooks;
  pthread_rwlock_unlock(&hooks_lock);
  return copy;
}

/* Lua modules (and C ones that prefer it) take part through services named "<plugin>.contact_merged",
 * "<plugin>.contact_export" and "<plugin>.contact_erase": each published one is called after the C hooks. Returns
 * 0 or the error status; for export, parts gets each service's answer under its plugin's name. */
static int call_lifecycle_services(struct destek_req *call, const char *suffix, const cJSON *args, cJSON *parts)
{
  cJSON *list = services_list_new(NULL);
  size_t slen = strlen(suffix);
  int rc = 0;
  cJSON *s;
  cJSON_ArrayForEach(s, list) {
    const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "name"));
    const char *plugin = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "plugin"));
    size_t n = name ? strlen(name) : 0;
    if (!plugin || n <= slen + 1 || name[n - slen - 1] != '.' || strcmp(name + n - slen, suffix)) continue;
    cJSON *result = NULL;
    if ((rc = services_call(call, name, args, &result)) != 0) break;
    if (parts && result && !cJSON_GetObjectItemCaseSensitive(parts, plugin))
      cJSON_AddItemToObject(parts, plugin, result);
    else
      cJSON_Delete(result);
  }
  cJSON_Delete(list);
  return rc;
}

/* --- merge --- */

int contacts_merge(struct destek_req *call, int64_t target_id, int64_t source_id)
{
  struct db *w = http_tx(call);
  if (!w) return call_status(call);
  if (!db_int(w, 0, "SELECT count(*) FROM core_contacts WHERE id = ?1 AND merged_into IS NULL", "i", target_id))
    return http_error(call, 404, "not_found", "no such contact");
  if (source_id == target_id)
    return http_field_error(call, "invalid_field", "source_id", "a contact cannot be merged into itself");
  if (!db_int(w, 0, "SELECT count(*) FROM core_contacts WHERE id = ?1", "i", source_id))
    return http_field_error(call, "invalid_field", "source_id", "source_id is not a contact");
  if (db_int(w, 0, "SELECT count(*) FROM core_contacts WHERE id = ?1 AND merged_into IS NOT NULL", "i", source_id))
    return http_error(call, 409, "already_merged", "that contact was already merged into another");
  if (db_int(w, 0, "SELECT count(*) FROM core_contacts WHERE id IN (?1, ?2) AND erased_at IS NOT NULL", "ii",
             target_id, source_id))
    return http_error(call, 409, "contact_erased", "an erased person cannot be merged");
  char now[21];
  util_iso_time(time(NULL), now);
  if (db_exec(w, "UPDATE core_contacts SET"
                 " email = coalesce(email, (SELECT email FROM core_contacts WHERE id = ?2)),"
                 " phone = coalesce(phone, (SELECT phone FROM core_contacts WHERE id = ?2)),"
                 " name = CASE WHEN name = '' THEN (SELECT name FROM core_contacts WHERE id = ?2) ELSE name END,"
                 " updated_at = ?3 WHERE id = ?1", "iit", target_id, source_id, now) != SQLITE_OK ||
      db_exec(w, "UPDATE core_contact_identities SET contact_id = ?1 WHERE contact_id = ?2", "ii", target_id,
              source_id) != SQLITE_OK ||
      db_exec(w, "UPDATE core_contacts SET email = NULL, phone = NULL, merged_into = ?1, updated_at = ?3"
                 " WHERE id = ?2", "iit", target_id, source_id, now) != SQLITE_OK ||
      db_exec(w, "UPDATE core_contacts SET merged_into = ?1 WHERE merged_into = ?2", "ii", target_id, source_id)
        != SQLITE_OK)
    return http_error(call, 500, "internal", "the contacts could not be merged");
  int n;
  struct hook_entry *hs = hooks_snapshot(&n);
  int rc = 0;
  for (int i = 0; i < n && !rc; i++)
    if (hs[i].hooks.merged && (rc = hs[i].hooks.merged(call, target_id, source_id, hs[i].hooks.ud)) != 0 &&
        !error_set(call))
      rc = http_error(call, 500, "internal", "the contacts could not be merged");
  free(hs);
  if (rc) return rc;
  cJSON *args = cJSON_CreateObject();
  cJSON_AddNumberToObject(args, "id", (double)target_id);
  cJSON_AddNumberToObject(args, "source_id", (double)source_id);
  rc = call_lifecycle_services(call, "contact_merged", args, NULL);
  if (rc) { cJSON_Delete(args); return rc; }
  char subject[40];
  snprintf(subject, sizeof subject, "contact:%lld", (long long)target_id);
  return bus_emit(call, "contact.merged", subject, args) == 0 ? 0 : call_status(call);
}

/* --- export --- */

struct destek_export {
  struct zip *zip;         /* NULL for ?format=json: files are listed, not kept */
  cJSON *files;            /* [{path, size, sha256}] */
  const char *owner;       /* the module whose hook runs: its folder in the archive */
  size_t bytes;
  time_t now;
};

int contacts_export_file(struct destek_export *ex, const char *path, const void *data, size_t len)
{
  if (!ex || !path || (!data && len)) return -1;
  if (ex->bytes + len > EXPORT_MAX_BYTES) return -1;
  char full[1200];
  snprintf(full, sizeof full, "%s/%s", ex->owner ? ex->owner : "core", path);
  if (ex->zip && zip_add(ex->zip, full, data, len, ex->now) != 0) return -1;
  ex->bytes += len;
  char hex[65];
  util_sha256_hex(data ? data : "", len, hex);
  cJSON *f = cJSON_CreateObject();
  cJSON_AddStringToObject(f, "path", full);
  cJSON_AddNumberToObject(f, "size", (double)len);
  cJSON_AddStringToObject(f, "sha256", hex);
  cJSON_AddItemToArray(ex->files, f);
  return 0;
}

/* GET /api/v1/contacts/{id}/export[?format=json]: everything held about the person, audited. */
static int contact_export(struct destek_req *r)
{
  int64_t id = http_param_int(r, "id");
  char format[8] = "";
  http_query_get(r, "format", format, sizeof format);
  if (*format && strcmp(format, "json") && strcmp(format, "zip"))
    return http_field_error(r, "invalid_field", "format", "format is zip (the default) or json");
  int as_json = !strcmp(format, "json");
  struct db *db = http_db(r);
  cJSON *contact = db ? contact_json(db, id) : NULL;
  if (!contact) return http_error(r, 404, "not_found", "no such contact");
  struct destek_export ex = { as_json ? NULL : zip_new(), cJSON_CreateArray(), NULL, 0, time(NULL) };
  cJSON *doc = cJSON_CreateObject();
  char now[21];
  util_iso_time(ex.now, now);
  cJSON_AddStringToObject(doc, "exported_at", now);
  cJSON_AddItemToObject(doc, "contact", contact);
  cJSON *merged = cJSON_AddArrayToObject(doc, "merged_contacts");
  sqlite3_stmt *st = db_prepare(db, "SELECT id FROM core_contacts WHERE merged_into = ?1 ORDER BY id");
  if (st) {
    db_bind(st, "i", id);
    while (sqlite3_step(st) == SQLITE_ROW) {
      cJSON *m = contact_json(db, sqlite3_column_int64(st, 0));
      if (m) cJSON_AddItemToArray(merged, m);
    }
    db_done(st);
  }
  cJSON_AddItemToObject(doc, "consent", consent_export_new(db, id));
  cJSON *modules = cJSON_AddObjectToObject(doc, "modules");
  int n, rc = 0;
  struct hook_entry *hs = hooks_snapshot(&n);
  for (int i = 0; i < n && !rc; i++) {
    if (!hs[i].hooks.exported) continue;
    cJSON *part = NULL;
    ex.owner = hs[i].owner;
    rc = hs[i].hooks.exported(r, id, &ex, &part, hs[i].hooks.ud);
    if (rc == 0 && part) cJSON_AddItemToObject(modules, hs[i].owner, part);
    else cJSON_Delete(part);
  }
  free(hs);
  if (rc == 0) {
    cJSON *args = cJSON_CreateObject();
    cJSON_AddNumberToObject(args, "id", (double)id);
    rc = call_lifecycle_services(r, "contact_export", args, modules);
    cJSON_Delete(args);
  }
  if (rc) {
    zip_free(ex.zip);
    cJSON_Delete(ex.files);
    cJSON_Delete(doc);
    return error_set(r) ? call_status(r)
                             : http_error(r, 413, "export_too_large", "the export is larger than it may be");
  }
  cJSON_AddItemToObject(doc, "files", ex.files);
  cJSON *detail = cJSON_CreateObject();
  cJSON_AddStringToObject(detail, "format", as_json ? "json" : "zip");
  cJSON_AddNumberToObject(detail, "files", cJSON_GetArraySize(ex.files));
  char target[40];
  snprintf(target, sizeof target, "contact:%lld", (long long)id);
  struct db *w = http_tx(r);
  if (!w || audit_log(w, r, "contact.exported", target, detail) != 0) {
    zip_free(ex.zip);
    cJSON_Delete(doc);
    return w ? http_error(r, 500, "internal", "the export could not be recorded") : call_status(r);
  }
  if (as_json) return http_reply_json(r, 200, doc);
  char *text = cJSON_Print(doc);
  cJSON_Delete(doc);
  if (!text) abort();
  zip_add(ex.zip, "contact.json", text, strlen(text), ex.now);
  free(text);
  size_t len;
  char *zip = zip_finish_take(ex.zip, &len);
  char disposition[80];
  snprintf(disposition, sizeof disposition, "attachment; filename=\"contact-%lld.zip\"", (long long)id);
  http_add_header(r, "Content-Disposition", disposition);
  http_add_header(r, "Cache-Control", "no-store");
  return http_reply_body(r, 200, "application/zip", zip, len);
}

/* --- erasure --- */

/* POST /api/v1/contacts/{id}/erase {confirm_id}: anonymises the person in the core and in every module (their
 * hooks), keeping rows and counts; audited without the erased data. */
static int contact_erase(struct destek_req *r)
{
  int64_t id = http_param_int(r, "id");
  cJSON *body;
  int rc = http_body_object(r, &body);
  if (rc) return rc;
  cJSON *confirm = cJSON_GetObjectItemCaseSensitive(body, "confirm_id");
  int64_t confirm_id;
  if (!confirm || cJSON_IsNull(confirm))
    return http_field_error(r, "missing_field", "confirm_id", "confirm_id (the contact's id again) is required");
  if (!util_json_id(confirm, &confirm_id) || confirm_id != id)
    return http_field_error(r, "invalid_field", "confirm_id", "confirm_id must repeat the id of the contact to erase");
  struct db *w = http_tx(r);
  if (!w) return call_status(r);
  cJSON *contact = contact_json(w, id);
  if (!contact) return http_error(r, 404, "not_found", "no such contact");
  if (!cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(contact, "merged_into"))) {
    cJSON_Delete(contact);
    return http_error(r, 409, "already_merged", "this contact was merged into another: erase that one");
  }
  if (!cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(contact, "erased_at"))) {
    cJSON_Delete(contact);
    return http_error(r, 409, "already_erased", "this person was erased already");
  }
  /* What the modules scrub: every name the person went by (theirs and those merged into them) and identities. */
  cJSON *person = cJSON_CreateObject();
  cJSON_AddNumberToObject(person, "id", (double)id);
  cJSON_AddStringToObject(person, "name", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(contact, "name")));
  cJSON *names = cJSON_AddArrayToObject(person, "names");
  sqlite3_stmt *st = db_prepare(w, "SELECT DISTINCT name FROM core_contacts WHERE (id = ?1 OR merged_into = ?1)"
                                   " AND name <> ''");
  if (st) {
    db_bind(st, "i", id);
    while (sqlite3_step(st) == SQLITE_ROW)
      cJSON_AddItemToArray(names, cJSON_CreateString((const char *)sqlite3_column_text(st, 0)));
    db_done(st);
  }
  cJSON *identities = cJSON_DetachItemFromObjectCaseSensitive(contact, "identities");
  /* Identities merged-away contacts held before (now the survivor's) are in identities already; their columns too. */
  cJSON_AddItemToObject(person, "identities", identities);
  const char *lang = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(contact, "lang"));
  int en = lang && !strcmp(lang, "en");
  cJSON_Delete(contact);

  int n;
  struct hook_entry *hs = hooks_snapshot(&n);
  cJSON *modules = cJSON_CreateArray();
  for (int i = 0; i < n && !rc; i++) {
    if (!hs[i].hooks.erased) continue;
    if ((rc = hs[i].hooks.erased(r, id, person, hs[i].hooks.ud)) != 0 && !error_set(r))
      rc = http_error(r, 500, "internal", "the person could not be erased");
    cJSON_AddItemToArray(modules, cJSON_CreateString(hs[i].owner));
  }
  free(hs);
  if (!rc) rc = call_lifecycle_services(r, "contact_erase", person, NULL);
  if (rc) { cJSON_Delete(person); cJSON_Delete(modules); return rc; }

  /* The core's part: the contact (and those merged into it) anonymised, identities gone, rate-limit records keyed
   * by them (the web form's acknowledgements count per address) dropped, and the payloads of delivered events that
   * carried them blanked (webhooks got them already; the outbox keeps no copy). */
  char now[21], label[80];
  util_iso_time(time(NULL), now);
  snprintf(label, sizeof label, en ? "Erased person #%lld" : "Silinmiş kişi #%lld", (long long)id);
  int ok = db_exec(w, "UPDATE core_contacts SET name = ?2, email = NULL, phone = NULL, erased_at = ?3, updated_at = ?3"
                      " WHERE id = ?1", "itt", id, label, now) == SQLITE_OK &&
           db_exec(w, "UPDATE core_contacts SET name = CASE lang WHEN 'en' THEN 'Erased person #' ELSE 'Silinmiş kişi #'"
                      " END || id, email = NULL, phone = NULL, erased_at = ?2, updated_at = ?2 WHERE merged_into = ?1",
                   "it", id, now) == SQLITE_OK;
  ok = ok && db_exec(w, "DELETE FROM core_contact_identities WHERE contact_id = ?1", "i", id) == SQLITE_OK;
  ok = ok && consent_erase(w, id, now) == 0;   /* the ledger keeps its records, without address and ip, as proof */
  cJSON *v;
  cJSON_ArrayForEach(v, identities) {
    const char *value = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v, "value"));
    if (ok && value && *value)
      ok = db_exec(w, "DELETE FROM core_rate_hits WHERE key = ?1", "t", value) == SQLITE_OK &&
           db_exec(w, "UPDATE core_outbox SET payload = '{\"erased\":true}' WHERE instr(lower(payload), ?1) > 0"
                      " AND NOT EXISTS (SELECT 1 FROM core_deliveries d WHERE d.event_id = core_outbox.id"
                      "                 AND d.status = 'pending')", "t", value) == SQLITE_OK;
  }
  cJSON_ArrayForEach(v, names) {
    const char *name = cJSON_GetStringValue(v);
    if (ok && name && strlen(name) >= 3)
      ok = db_exec(w, "UPDATE core_outbox SET payload = '{\"erased\":true}' WHERE instr(payload, ?1) > 0"
                      " AND NOT EXISTS (SELECT 1 FROM core_deliveries d WHERE d.event_id = core_outbox.id"
                      "                 AND d.status = 'pending')", "t", name) == SQLITE_OK;
  }
  cJSON_Delete(person);
  if (!ok) { cJSON_Delete(modules); return http_error(r, 500, "internal", "the person could not be erased"); }
  char target[40];
  snprintf(target, sizeof target, "contact:%lld", (long long)id);
  cJSON *detail = cJSON_CreateObject();
  cJSON_AddItemToObject(detail, "modules", modules);
  if (audit_log(w, r, "contact.erased", target, detail) != 0)
    return http_error(r, 500, "internal", "the erasure could not be recorded");
  cJSON *payload = cJSON_CreateObject();
  cJSON_AddNumberToObject(payload, "id", (double)id);
  if (bus_emit(r, "contact.erased", target, payload) != 0) return call_status(r);
  return http_reply_json(r, 200, contact_json(w, id));
}

/* --- routes --- */

static int contact_get(struct destek_req *r)
{
  cJSON *c = contacts_json_new(r, http_param_int(r, "id"));
  return c ? http_reply_json(r, 200, c) : http_error(r, 404, "not_found", "no such contact");
}

/* POST /api/v1/contacts/{id}/merge {source_id}. */
static int contact_merge_route(struct destek_req *r)
{
  int64_t target = http_param_int(r, "id");
  cJSON *body;
  int rc = http_body_object(r, &body);
  if (rc) return rc;
  cJSON *src = cJSON_GetObjectItemCaseSensitive(body, "source_id");
  if (!src || cJSON_IsNull(src)) return http_field_error(r, "missing_field", "source_id", "source_id is required");
  int64_t source;
  if (!util_json_id(src, &source))
    return http_field_error(r, "invalid_field", "source_id", "source_id must be a contact id");
  if ((rc = contacts_merge(r, target, source))) return rc;
  return http_reply_json(r, 200, contacts_json_new(r, target));
}

static const struct destek_route routes[] = {
  { "GET",  "/api/v1/contacts/{id}",        contact_get,         DESTEK_AGENT, "id:int" },
  { "POST", "/api/v1/contacts/{id}/merge",  contact_merge_route, DESTEK_AGENT, "id:int" },
  { "GET",  "/api/v1/contacts/{id}/export", contact_export,      DESTEK_ADMIN, "id:int" },
  { "POST", "/api/v1/contacts/{id}/erase",  contact_erase,       DESTEK_ADMIN, "id:int" },
  { 0 }
};

/* --- services: contacts.resolve {email, phone, whatsapp, name, lang} -> contact; contacts.get {id} -> contact;
 * contacts.find {kind, value} -> contact (404 not_found when none) --- */

static const char *arg_str(const cJSON *args, const char *name)
{
  return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, name));
}

static int svc_resolve(struct destek_req *call, const cJSON *args, cJSON **result, void *ud)
{
  (void)ud;
  int64_t id = contacts_resolve(call, arg_str(args, "email"), arg_str(args, "phone"), arg_str(args, "whatsapp"),
                                arg_str(args, "name"), arg_str(args, "lang"));
  if (id < 0) return error_set(call) ? call_status(call) : http_error(call, 500, "internal", "internal error");
  if (id == 0)
    return http_field_error(call, "invalid_field", "email", "give a valid email, phone or whatsapp");
  *result = contacts_json_new(call, id);
  return 0;
}

static int svc_get(struct destek_req *call, const cJSON *args, cJSON **result, void *ud)
{
  (void)ud;
  int64_t id;
  if (!util_json_id(cJSON_GetObjectItemCaseSensitive(args, "id"), &id))
    return http_field_error(call, "invalid_field", "id", "id must be a contact id");
  if (!(*result = contacts_json_new(call, id))) return http_error(call, 404, "not_found", "no such contact");
  return 0;
}

static int svc_find(struct destek_req *call, const cJSON *args, cJSON **result, void *ud)
{
  (void)ud;
  const char *kind = arg_str(args, "kind"), *value = arg_str(args, "value");
  char norm[256];
  if (!kind || !value || contacts_normalise(kind, value, norm, sizeof norm) != 0)
    return http_field_error(call, "invalid_field", "value", "kind (email, phone, whatsapp) and a valid value are needed");
  int64_t id = contacts_find(call, kind, value);
  if (!id || !(*result = contacts_json_new(call, id))) return http_error(call, 404, "not_found", "no such contact");
  return 0;
}

int contacts_init(void)
{
  int rc = http_routes_add("core", routes);
  rc |= bus_event_owner("contact", "core");
  rc |= services_publish("contacts", "contacts.resolve", svc_resolve, NULL);
  rc |= services_publish("contacts", "contacts.get", svc_get, NULL);
  rc |= services_publish("contacts", "contacts.find", svc_find, NULL);
  return rc;
}
