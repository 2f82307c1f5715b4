/* Attachments: files sent with a message (JSON, base64) are stored under <data>/attachments/ with a random name
 * and served to agents (and, through a signed link, to the ticket's customer: public.c), always as a download with
 * a Content-Type that cannot run in the browser. */
#include "tkt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


#include "destek_util.h"

long tkt_attachment_max_bytes(void) { return tkt_setting_int("ticketing.attachment_max_bytes", 10L * 1024 * 1024); }

static int filename_ok(const char *s)
{
  size_t n = strlen(s);
  if (n == 0 || n > 200 || !util_utf8_valid(s, n) || !strcmp(s, ".") || !strcmp(s, "..")) return 0;
  for (const char *p = s; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == '/' || *p == '\\' || *p == '"' || *p == 0x7f) return 0;
  return 1;
}

static int content_type_ok(const char *s)
{
  size_t n = strlen(s);
  const char *slash = strchr(s, '/');
  if (n == 0 || n > 100 || !slash || slash == s || !slash[1] || strchr(slash + 1, '/')) return 0;
  for (const char *p = s; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || strchr("/.+-_", *p))) return 0;
  return 1;
}

int tkt_attachments_check(struct destek_req *r, const cJSON *list)
{
  if (!cJSON_IsArray(list))
    return tkt_field_error(r, "invalid_field", "attachments", "attachments must be an array of"
                            " {filename, content_type, data_base64}");
  if (cJSON_GetArraySize(list) > TKT_ATTACHMENTS_MAX)
    return tkt_field_error(r, "invalid_field", "attachments", "at most %d attachments per message", TKT_ATTACHMENTS_MAX);
  long cap = tkt_attachment_max_bytes();
  const cJSON *a;
  cJSON_ArrayForEach(a, list) {
    if (!cJSON_IsObject(a))
      return tkt_field_error(r, "invalid_field", "attachments", "each attachment is {filename, content_type, data_base64}");
    const cJSON *fn = cJSON_GetObjectItemCaseSensitive(a, "filename");
    const cJSON *ct = cJSON_GetObjectItemCaseSensitive(a, "content_type");
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(a, "data_base64");
    if (!cJSON_IsString(fn) || !filename_ok(fn->valuestring))
      return tkt_field_error(r, "invalid_field", "attachments.filename",
                              "filename: 1 to 200 bytes, without / \\ \" or control characters");
    if (ct && !cJSON_IsNull(ct)) {
      if (cJSON_IsString(ct))
        for (char *p = ct->valuestring; *p; p++) if (*p >= 'A' && *p <= 'Z') *p = (char)(*p + 32);
      if (!cJSON_IsString(ct) || !content_type_ok(ct->valuestring))
        return tkt_field_error(r, "invalid_field", "attachments.content_type", "content_type is not a media type");
    }
    if (!cJSON_IsString(data))
      return tkt_field_error(r, "missing_field", "attachments.data_base64", "data_base64 is required");
    size_t len = strlen(data->valuestring);
    if (len / 4 * 3 > (size_t)cap + 3)
      return tkt_error(r, 413, "attachment_too_large", "%s is larger than %ld bytes", fn->valuestring, cap);
    long olen = util_b64_decode(data->valuestring, len, NULL, 0);   /* checks and measures, writes nothing */
    if (olen < 0)
      return tkt_field_error(r, "invalid_field", "attachments.data_base64", "data_base64 is not base64");
    if ((size_t)olen > (size_t)cap)
      return tkt_error(r, 413, "attachment_too_large", "%s is larger than %ld bytes", fn->valuestring, cap);
  }
  return 0;
}

/* Decodes base64 text (padding optional; CR, LF and spaces skipped, as util_b64_decode does) over itself: each
 * 4 characters read give at most 3 bytes written behind them. *len gets the number of bytes. 0, or -1 when the text
 * is not base64. */
static int base64_value(unsigned char c)
{
  return c >= 'A' && c <= 'Z' ? c - 'A' : c >= 'a' && c <= 'z' ? c - 'a' + 26 : c >= '0' && c <= '9' ? c - '0' + 52
         : c == '+' ? 62 : c == '/' ? 63 : -1;
}

static int base64_decode_in_place(char *text, size_t *len)
{
  unsigned char *out = (unsigned char *)text;
  size_t o = 0;
  uint32_t acc = 0;
  int n = 0, pad = 0;
  for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
    if (*p == '\r' || *p == '\n' || *p == ' ') continue;
    if (*p == '=') { pad++; continue; }
    int v = base64_value(*p);
    if (pad || v < 0) return -1;   /* a character after the padding, or not of the alphabet */
    acc = acc << 6 | (uint32_t)v;
    if (++n == 4) {
      out[o++] = (unsigned char)(acc >> 16);
      out[o++] = (unsigned char)(acc >> 8);
      out[o++] = (unsigned char)acc;
      acc = 0;
      n = 0;
    }
  }
  if (n == 1 || pad > 2) return -1;
  if (n == 2) out[o++] = (unsigned char)(acc >> 4);
  if (n == 3) {
    out[o++] = (unsigned char)(acc >> 10);
    out[o++] = (unsigned char)(acc >> 2);
  }
  *len = o;
  return 0;
}

/* <data>/attachments. */
void tkt_attachments_dir(char *out, size_t outlen)
{
  snprintf(out, outlen, "%s/attachments", tkt_data_dir());
}

/* Writes len bytes to dir/name durably (temporary file, fsync, rename). 0 or -1 (errno). */
static int write_file(const char *dir, const char *name, const void *data, size_t len)
{
  char tmp[4200], path[4200];
  snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
  snprintf(path, sizeof path, "%s/%s", dir, name);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  const char *p = data;
  size_t left = len;
  while (left) {
    ssize_t n = write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) { close(fd); unlink(tmp); return -1; }
    p += n;
    left -= (size_t)n;
  }
  if (fsync(fd) != 0 || close(fd) != 0) { unlink(tmp); return -1; }
  if (rename(tmp, path) != 0) { unlink(tmp); return -1; }
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) { fsync(dfd); close(dfd); }
  return 0;
}

int tkt_attachment_store(struct destek_req *r, const cJSON *a, char storage[48], char sha[65], size_t *size)
{
  char dir[4096];
  tkt_attachments_dir(dir, sizeof dir);
  if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
    tkt_log(DESTEK_LOG_ERROR, "cannot create %s: %s", dir, strerror(errno));
    return tkt_error(r, 500, "internal", "the attachment could not be stored");
  }
  /* Decoded in place, over the base64 text the parsed body holds: a file costs no second copy (tkt_attachments_check
   * has checked it is base64). The value is bytes from here on: set it to "" so nothing reads it as text. */
  cJSON *value = cJSON_GetObjectItemCaseSensitive(a, "data_base64");
  size_t olen = 0;
  unsigned char *data = (unsigned char *)value->valuestring;
  if (base64_decode_in_place(value->valuestring, &olen) != 0)
    return tkt_field_error(r, "invalid_field", "attachments.data_base64", "data_base64 is not base64");
  tkt_sha256_hex(data, olen, sha);
  tkt_token(storage, 18);
  int wrc = write_file(dir, storage, data, olen);
  value->valuestring[0] = 0;
  if (wrc != 0) {
    tkt_log(DESTEK_LOG_ERROR, "cannot write an attachment in %s: %s", dir, strerror(errno));
    return tkt_error(r, 500, "internal", "the attachment could not be stored");
  }
  *size = olen;
  return 0;
}

int tkt_attachments_save(struct destek_req *r, struct destek_db *w, int64_t ticket_id, int64_t message_id,
                         const cJSON *list)
{
  char now[21];
  tkt_now(now);
  const cJSON *a;
  cJSON_ArrayForEach(a, list) {
    const char *filename = cJSON_GetObjectItemCaseSensitive(a, "filename")->valuestring;
    const cJSON *ct = cJSON_GetObjectItemCaseSensitive(a, "content_type");
    const char *type = cJSON_IsString(ct) ? ct->valuestring : "application/octet-stream";
    char sha[65], storage[48];
    size_t olen;
    int rc = tkt_attachment_store(r, a, storage, sha, &olen);
    if (rc) return rc;
    if (tkt_db_exec(w, "INSERT INTO tkt_attachments(ticket_id, message_id, filename, content_type, size, sha256, storage,"
                   " created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", "iittitt" "t", ticket_id, message_id,
                filename, type, (int64_t)olen, sha, storage, now) != SQLITE_OK)
      return tkt_error(r, 500, "internal", "the attachment could not be recorded");
  }
  return 0;
}

cJSON *tkt_attachments_json(struct destek_db *db, int64_t message_id)
{
  cJSON *arr = cJSON_CreateArray();
  sqlite3_stmt *st = tkt_db_prepare(db, "SELECT id, filename, content_type, size, sha256, created_at FROM tkt_attachments"
                                    " WHERE message_id = ?1 ORDER BY id");
  if (!st) return arr;
  tkt_db_bind(st, "i", message_id);
  while (sqlite3_step(st) == SQLITE_ROW) {
    cJSON *o = cJSON_CreateObject();
    int64_t id = sqlite3_column_int64(st, 0);
    char url[64];
    snprintf(url, sizeof url, "/api/v1/attachments/%lld", (long long)id);
    cJSON_AddNumberToObject(o, "id", (double)id);
    cJSON_AddStringToObject(o, "filename", (const char *)sqlite3_column_text(st, 1));
    cJSON_AddStringToObject(o, "content_type", (const char *)sqlite3_column_text(st, 2));
    cJSON_AddNumberToObject(o, "size", (double)sqlite3_column_int64(st, 3));
    cJSON_AddStringToObject(o, "sha256", (const char *)sqlite3_column_text(st, 4));
    cJSON_AddStringToObject(o, "url", url);
    cJSON_AddStringToObject(o, "created_at", (const char *)sqlite3_column_text(st, 5));
    cJSON_AddItemToArray(arr, o);
  }
  tkt_db_done(st);
  return arr;
}

/* The type a file is served with: a short list of types browsers do not execute; everything else (HTML, SVG,
 * XML, scripts) is application/octet-stream. Served as a download either way. */
static const char *served_type(const char *type)
{
  static const char *const SAFE[] = {
    "image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain", "text/csv",
    "application/zip", "audio/mpeg", "video/mp4", "application/msword", "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", NULL
  };
  for (const char *const *s = SAFE; *s; s++)
    if (!strcmp(*s, type)) return *s;
  return "application/octet-stream";
}

/* Content-Disposition: attachment with an ASCII fallback name and the UTF-8 name percent-encoded (RFC 6266). */
static void disposition(const char *filename, char *out, size_t outlen)
{
  char ascii[256], enc[700];
  size_t a = 0, e = 0;
  for (const unsigned char *p = (const unsigned char *)filename; *p && a < sizeof ascii - 1; p++)
    ascii[a++] = (*p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\' && *p != ';') ? (char)*p : '_';
  ascii[a] = 0;
  for (const unsigned char *p = (const unsigned char *)filename; *p && e < sizeof enc - 4; p++) {
    if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("-._~", *p))
      enc[e++] = (char)*p;
    else e += (size_t)snprintf(enc + e, sizeof enc - e, "%%%02X", *p);
  }
  enc[e] = 0;
  snprintf(out, outlen, "attachment; filename=\"%s\"; filename*=UTF-8''%s", ascii, enc);
}

int tkt_attachment_send(struct destek_req *r, struct destek_db *db, int64_t id)
{
  sqlite3_stmt *st = db ? tkt_db_prepare(db, "SELECT filename, content_type, storage, size FROM tkt_attachments"
                                         " WHERE id = ?1") : NULL;
  if (!st) return tkt_error(r, 500, "internal", "internal error");
  tkt_db_bind(st, "i", id);
  return tkt_file_send(r, st, id);
}

/* A stored file: its row (filename, content_type, storage, size from st, stepped here and finished) and its bytes
 * (*data, the caller's to free). 404 when there is no row, 500 when the file cannot be read; 0 when read. */
struct stored_file {
  char filename[256], type[128];
  size_t size;
  unsigned char *data;
};

static int stored_file_read(struct destek_req *r, sqlite3_stmt *st, int64_t id, struct stored_file *sf)
{
  if (sqlite3_step(st) != SQLITE_ROW) { tkt_db_done(st); return tkt_error(r, 404, "not_found", "no such attachment"); }
  char storage[64];
  snprintf(sf->filename, sizeof sf->filename, "%s", (const char *)sqlite3_column_text(st, 0));
  snprintf(sf->type, sizeof sf->type, "%s", (const char *)sqlite3_column_text(st, 1));
  snprintf(storage, sizeof storage, "%s", (const char *)sqlite3_column_text(st, 2));
  sf->size = (size_t)sqlite3_column_int64(st, 3);
  tkt_db_done(st);
  char dir[4096], path[4200];
  tkt_attachments_dir(dir, sizeof dir);
  snprintf(path, sizeof path, "%s/%s", dir, storage);
  FILE *f = fopen(path, "rb");
  int open_errno = f ? 0 : errno;
  sf->data = malloc(sf->size + 1);
  if (!sf->data) abort();
  if (!f || fread(sf->data, 1, sf->size, f) != sf->size) {
    free(sf->data);
    sf->data = NULL;
    /* Server-side loss (a restore without the files, a disk problem): 500 like every other failure of the server's
     * own store, with a code of its own so that a client can say what is wrong; the path goes to the log. */
    int missing = !f && open_errno == ENOENT;
    tkt_log(DESTEK_LOG_ERROR, "attachment %lld: %s %s%s%s", (long long)id, missing ? "its file is missing:" : "cannot read",
            path, missing ? "" : ": ", missing ? "" : (f ? "shorter than recorded" : strerror(open_errno)));
    if (f) fclose(f);
    return tkt_error(r, 500, "file_missing", missing ? "the attachment's file is missing on the server"
                                                     : "the attachment's file cannot be read on the server");
  }
  fclose(f);
  return 0;
}

int tkt_file_send(struct destek_req *r, sqlite3_stmt *st, int64_t id)
{
  struct stored_file sf;
  int rc = stored_file_read(r, st, id, &sf);
  if (rc) return rc;
  const char *filename = sf.filename, *type = sf.type;
  char *data = (char *)sf.data;
  size_t size = sf.size;
  char cd[1024];
  disposition(filename, cd, sizeof cd);
  tkt_add_header(r, "Content-Disposition", cd);
  tkt_add_header(r, "Cache-Control", "private, no-store");
  return tkt_reply_take(r, 200, served_type(type), data, size);
}

/* The service ticketing.attachment_read {message_id, attachment_id} -> {filename, content_type, size, data_base64}: a
 * file of a message, for the module that carried the message to its channel (the chat hands an agent's files to the
 * visitor it answers); the caller names the message it holds, and the file must be that message's. content_type is
 * the type it may be served with (as the agents' download). */
static int svc_attachment_read(struct destek_req *call, const cJSON *args, cJSON **result, void *ud)
{
  (void)ud;
  const cJSON *mid = cJSON_GetObjectItemCaseSensitive(args, "message_id");
  const cJSON *aid = cJSON_GetObjectItemCaseSensitive(args, "attachment_id");
  if (!cJSON_IsNumber(mid) || !cJSON_IsNumber(aid))
    return tkt_error(call, 422, "invalid_field", "message_id and attachment_id are required");
  sqlite3_stmt *st = tkt_db_prepare(tkt_db_read(call), "SELECT filename, content_type, storage, size FROM tkt_attachments"
                                                      " WHERE id = ?1 AND message_id = ?2");
  if (!st) return tkt_error(call, 500, "internal", "internal error");
  tkt_db_bind(st, "ii", (int64_t)aid->valuedouble, (int64_t)mid->valuedouble);
  struct stored_file sf;
  int rc = stored_file_read(call, st, (int64_t)aid->valuedouble, &sf);
  if (rc) return rc;
  const char *filename = sf.filename, *type = sf.type;
  size_t size = sf.size;
  char *b64 = malloc(util_b64_len(size) + 1);
  if (!b64) abort();
  size_t n = util_b64_encode(sf.data, size, b64);
  b64[n] = 0;
  free(sf.data);
  *result = cJSON_CreateObject();
  cJSON_AddStringToObject(*result, "filename", filename);
  cJSON_AddStringToObject(*result, "content_type", served_type(type));
  cJSON_AddNumberToObject(*result, "size", (double)size);
  cJSON_AddStringToObject(*result, "data_base64", b64);
  free(b64);
  return 0;
}

int tkt_attachments_services_init(const struct destek_host *h)
{
  return h->service(h, "ticketing.attachment_read", svc_attachment_read, NULL);
}

static int attachment_get(struct destek_req *r)
{
  return tkt_attachment_send(r, tkt_db_read(r), tkt_param_int(r, "id"));
}

const struct destek_route tkt_attachment_routes[] = {
  { "GET", "/api/v1/attachments/{id}", attachment_get, DESTEK_AGENT, "id:int" },
  { 0 }
};
