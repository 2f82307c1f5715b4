/* Forms and files for Lua modules.
 *
 * req.form: the fields of a browser form, application/x-www-form-urlencoded or multipart/form-data (the first value
 * of a name wins). req.files: the files of a multipart/form-data body, each {field, filename, size, type, image,
 * declared_type}: `type` is what the bytes are, found by their first bytes (image/jpeg, image/png, image/webp,
 * image/gif), or application/octet-stream for anything else, whatever the browser claimed (declared_type). A route
 * declares what it takes: destek.route(..., {uploads = {max_files=, max_file_bytes=, images_only=}}); a body past
 * those answers 413 (too_many_files, file_too_large) or 415 (not_an_image) as soon as the handler reads req.files
 * or req.form, an error it may catch.
 *
 * Files are kept under <data>/files/<plugin>/<id> (destek.files.save): the plugin gets an id of 32 random hex digits,
 * never a path. destek.files.serve(id) answers the file back with a Content-Type the host chooses from its bytes: an
 * image inline, anything else as a download (application/octet-stream, Content-Disposition: attachment), with
 * X-Content-Type-Options: nosniff and a CSP that runs nothing. destek.asset(name) answers a file of the module's
 * static/ folder. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "http.h"
#include "log.h"
#include "lua_host_internal.h"
#include "util.h"

static const char KEY_FILE_MT;

#define PARTS_MAX 200
#define FIELD_NAME_MAX 100
#define FILENAME_MAX_BYTES 200
#define SERVE_MAX ((size_t)64 << 20)

/* ------------------------------------------------------------------------------------------------ sniffing */

static const char *sniff(const unsigned char *p, size_t n)
{
  if (n >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF) return "image/jpeg";
  if (n >= 8 && !memcmp(p, "\x89PNG\r\n\x1a\n", 8)) return "image/png";
  if (n >= 6 && (!memcmp(p, "GIF87a", 6) || !memcmp(p, "GIF89a", 6))) return "image/gif";
  if (n >= 12 && !memcmp(p, "RIFF", 4) && !memcmp(p + 8, "WEBP", 4)) return "image/webp";
  return "application/octet-stream";
}

static int is_image(const char *type) { return !strncmp(type, "image/", 6); }

/* ------------------------------------------------------------------------------------------------ the request */

struct part {
  char name[FIELD_NAME_MAX + 1];
  char filename[FILENAME_MAX_BYTES + 1];
  char declared[101];
  int is_file;
  const char *data;            /* inside r->body */
  size_t len;
};

/* What this thread's current Lua route has parsed of its body (one request at a time per thread). */
static __thread struct upload {
  struct destek_req *r;
  const char *opts;
  int parsed;
  int n;
  struct part *parts;
} tl;

void lh_upload_begin(struct destek_req *r, const char *opts)
{
  free(tl.parts);
  memset(&tl, 0, sizeof tl);
  tl.r = r;
  tl.opts = opts;
}

void lh_upload_done(struct destek_req *r)
{
  if (tl.r != r) return;
  free(tl.parts);
  memset(&tl, 0, sizeof tl);
}

static const char *find_bytes(const char *hay, size_t n, const char *needle, size_t m)
{
  return m <= n ? memmem(hay, n, needle, m) : NULL;
}

/* The value of attribute attr ("name", "filename") in a Content-Disposition line, into out. 1 when found. */
static int disposition_attr(const char *line, size_t n, const char *attr, char *out, size_t outlen)
{
  size_t al = strlen(attr);
  for (size_t i = 0; i + al + 1 < n; i++) {
    if ((i > 0 && line[i - 1] != ';' && line[i - 1] != ' ') || strncasecmp(line + i, attr, al) || line[i + al] != '=')
      continue;
    const char *v = line + i + al + 1, *end = line + n;
    size_t k = 0;
    if (v < end && *v == '"') {
      /* As browsers write it (HTML's multipart/form-data encoding): no backslash escapes, and '"', CR and LF sent as
       * %22, %0D and %0A, which are decoded here (and then dropped from a file name). */
      for (v++; v < end && *v != '"'; v++) {
        char c = *v;
        if (c == '%' && v + 2 < end && v[1] == '2' && v[2] == '2') c = '"', v += 2;
        else if (c == '%' && v + 2 < end && v[1] == '0' && (v[2] == 'A' || v[2] == 'D' || v[2] == 'a' || v[2] == 'd'))
          c = '\n', v += 2;
        if (k + 1 < outlen) out[k++] = c;
      }
    } else {
      for (; v < end && *v != ';' && *v != ' '; v++)
        if (k + 1 < outlen) out[k++] = *v;
    }
    out[k] = 0;
    return 1;
  }
  return 0;
}

/* A file name as a download may carry it: its last path part, without control characters, quotes or backslashes. */
static void clean_filename(char *s)
{
  char *base = s;
  for (char *p = s; *p; p++)
    if (*p == '/' || *p == '\\') base = p + 1;
  char *o = s;
  for (char *p = base; *p; p++)
    if ((unsigned char)*p >= 0x20 && *p != 0x7f && *p != '"') *o++ = *p;
  *o = 0;
  if (!util_utf8_valid(s, strlen(s))) strcpy(s, "file");
}

/* Parses a multipart/form-data body. 0, or -1 with why filled. */
static int parse_multipart(const char *body, size_t len, const char *ctype, char *why, size_t whylen)
{
  char boundary[80];
  const char *b = strcasestr(ctype, "boundary=");
  if (!b) { snprintf(why, whylen, "the multipart body has no boundary"); return -1; }
  b += 9;
  size_t k = 0;
  if (*b == '"') b++;
  while (*b && *b != '"' && *b != ';' && *b != ' ' && k + 1 < sizeof boundary - 4) boundary[k++] = *b++;
  boundary[k] = 0;
  if (!k) { snprintf(why, whylen, "the multipart body has no boundary"); return -1; }
  char delim[90];
  int dl = snprintf(delim, sizeof delim, "--%s", boundary);
  tl.parts = calloc(PARTS_MAX, sizeof *tl.parts);
  if (!tl.parts) abort();
  const char *end = body + len;
  const char *p = find_bytes(body, len, delim, (size_t)dl);
  if (!p) { snprintf(why, whylen, "the multipart body has no parts"); return -1; }
  for (;;) {
    p += dl;
    if (end - p >= 2 && p[0] == '-' && p[1] == '-') return 0;   /* the closing delimiter */
    if (end - p < 2 || p[0] != '\r' || p[1] != '\n') {
      snprintf(why, whylen, "the multipart body is malformed");
      return -1;
    }
    p += 2;
    const char *head_end = find_bytes(p, (size_t)(end - p), "\r\n\r\n", 4);
    if (!head_end) { snprintf(why, whylen, "a part of the multipart body has no end of headers"); return -1; }
    if (tl.n == PARTS_MAX) { snprintf(why, whylen, "more than %d fields and files", PARTS_MAX); return -1; }
    struct part *pt = &tl.parts[tl.n];
    memset(pt, 0, sizeof *pt);
    int has_name = 0;
    for (const char *line = p; line < head_end;) {
      const char *eol = find_bytes(line, (size_t)(head_end - line), "\r\n", 2);
      if (!eol) eol = head_end;
      size_t n = (size_t)(eol - line);
      if (n > 20 && !strncasecmp(line, "Content-Disposition:", 20)) {
        has_name = disposition_attr(line + 20, n - 20, "name", pt->name, sizeof pt->name);
        pt->is_file = disposition_attr(line + 20, n - 20, "filename", pt->filename, sizeof pt->filename);
      } else if (n > 13 && !strncasecmp(line, "Content-Type:", 13)) {
        const char *v = line + 13;
        while (v < eol && *v == ' ') v++;
        size_t vl = (size_t)(eol - v) < sizeof pt->declared - 1 ? (size_t)(eol - v) : sizeof pt->declared - 1;
        memcpy(pt->declared, v, vl);
        for (size_t i = 0; i < vl; i++)
          if ((unsigned char)pt->declared[i] < 0x20) pt->declared[i] = ' ';
      }
      line = eol + 2;
    }
    const char *data = head_end + 4;
    char next[96];
    int nl = snprintf(next, sizeof next, "\r\n%s", delim);
    const char *stop = find_bytes(data, (size_t)(end - data), next, (size_t)nl);
    if (!stop) { snprintf(why, whylen, "the multipart body ends inside a part"); return -1; }
    pt->data = data;
    pt->len = (size_t)(stop - data);
    clean_filename(pt->filename);
    /* A file input left empty sends a part with an empty file name and no bytes: no file. */
    if (has_name && !(pt->is_file && !pt->filename[0] && pt->len == 0)) tl.n++;
    p = stop + 2;
  }
}

void lh_read_body(lua_State *L, struct destek_req *r)
{
  if (!r->conn || r->body_read) return;
  cJSON *obj;
  double t0 = util_mono();
  http_body_object(r, &obj);   /* reads the body (its answer for a body that is not JSON is not the plugin's) */
  lh_pause_credit(lh_state_of(L), util_mono() - t0);
}

/* Raises the error value {status, code, message} for a body that breaks the route's rules. */
static int refuse(lua_State *L, int status, const char *code, const char *message)
{
  lh_push_error(L, status, code, message, NULL);
  return lua_error(L);
}

/* Parses r's body once and checks it against the route's upload options; raises an error value when it breaks
 * them. */
static void parse(lua_State *L, struct destek_req *r)
{
  if (tl.r != r) lh_upload_begin(r, NULL);
  if (tl.parsed) return;
  tl.parsed = 1;
  const char *ctype = r->conn ? http_header(r, "Content-Type") : NULL;
  if (!ctype || strncasecmp(ctype, "multipart/form-data", 19) != 0) return;
  lh_read_body(L, r);
  if (!r->body) {
    if (r->status == 413) refuse(L, 413, "body_too_large", "the request body is larger than this route takes");
    if (r->status == 503) refuse(L, 503, "server_busy", "the server is receiving too many large requests");
    return;
  }
  char why[200];
  lh_budget_charge(L, (long)(r->body_len / 64));   /* a search for the boundary over the body */
  if (parse_multipart(r->body, r->body_len, ctype, why, sizeof why) != 0) refuse(L, 400, "bad_form", why);
  long max_files = lh_opt(tl.opts, "files", 10), max_bytes = lh_opt(tl.opts, "file_bytes", (long)r->body_len);
  int files = 0, images = lh_opt(tl.opts, "images", 0) != 0;
  char msg[300];
  for (int i = 0; i < tl.n; i++) {
    const struct part *pt = &tl.parts[i];
    if (!pt->is_file) continue;
    if (++files > max_files) {
      snprintf(msg, sizeof msg, "at most %ld file%s at a time", max_files, max_files == 1 ? "" : "s");
      refuse(L, 413, "too_many_files", msg);
    }
    if ((long)pt->len > max_bytes) {
      snprintf(msg, sizeof msg, "%s is larger than %ld bytes", pt->filename, max_bytes);
      refuse(L, 413, "file_too_large", msg);
    }
    if (images && !is_image(sniff((const unsigned char *)pt->data, pt->len))) {
      snprintf(msg, sizeof msg, "%s is not an image (JPEG, PNG, WebP or GIF)", pt->filename);
      refuse(L, 415, "not_an_image", msg);
    }
  }
}

static int hexval(int c)
{
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
       : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Pushes a table of an application/x-www-form-urlencoded text (first value wins). */
static void push_urlencoded(lua_State *L, const char *q, size_t len)
{
  lua_newtable(L);
  int t = lua_gettop(L);
  const char *end = q + len;
  for (const char *p = q; p < end;) {
    const char *amp = memchr(p, '&', (size_t)(end - p)), *stop = amp ? amp : end;
    const char *eq = memchr(p, '=', (size_t)(stop - p));
    for (int part = 0; part < 2; part++) {
      const char *a = part ? (eq ? eq + 1 : stop) : p, *b = part ? stop : (eq ? eq : stop);
      luaL_Buffer buf;
      luaL_buffinit(L, &buf);
      for (const char *c = a; c < b; c++) {
        int h1, h2;
        if (*c == '+') luaL_addchar(&buf, ' ');
        else if (*c == '%' && c + 2 < b && (h1 = hexval(c[1])) >= 0 && (h2 = hexval(c[2])) >= 0) {
          luaL_addchar(&buf, (char)(h1 * 16 + h2));
          c += 2;
        } else luaL_addchar(&buf, *c);
      }
      luaL_pushresult(&buf);
    }
    lua_pushvalue(L, -2);
    if (lua_rawget(L, t) == LUA_TNIL && lua_rawlen(L, -3) > 0) {
      lua_pop(L, 1);
      lua_rawset(L, t);
    } else {
      lua_pop(L, 3);
    }
    p = amp ? amp + 1 : end;
  }
  lh_budget_charge(L, (long)(len / 8));
}

static void push_form(lua_State *L, struct destek_req *r)
{
  const char *ctype = r->conn ? http_header(r, "Content-Type") : NULL;
  if (ctype && !strncasecmp(ctype, "application/x-www-form-urlencoded", 33)) {
    lh_read_body(L, r);
    if (!r->body && r->status == 413)
      refuse(L, 413, "body_too_large", "the request body is larger than this route takes");
    push_urlencoded(L, r->body ? r->body : "", r->body ? r->body_len : 0);
    return;
  }
  parse(L, r);
  lua_newtable(L);
  for (int i = 0; i < tl.n; i++) {
    const struct part *pt = &tl.parts[i];
    if (pt->is_file) continue;
    if (lua_getfield(L, -1, pt->name) == LUA_TNIL) {
      lua_pop(L, 1);
      lua_pushlstring(L, pt->data, pt->len);
      lua_setfield(L, -2, pt->name);
    } else {
      lua_pop(L, 1);
    }
  }
}

static void push_files(lua_State *L, struct destek_req *r)
{
  parse(L, r);
  lua_newtable(L);
  lua_Integer n = 0;
  for (int i = 0; i < tl.n; i++) {
    const struct part *pt = &tl.parts[i];
    if (!pt->is_file) continue;
    const char *type = sniff((const unsigned char *)pt->data, pt->len);
    lua_createtable(L, 0, 7);
    lua_pushstring(L, pt->name);
    lua_setfield(L, -2, "field");
    lua_pushstring(L, pt->filename[0] ? pt->filename : "file");
    lua_setfield(L, -2, "filename");
    lua_pushinteger(L, (lua_Integer)pt->len);
    lua_setfield(L, -2, "size");
    lua_pushstring(L, type);
    lua_setfield(L, -2, "type");
    lua_pushboolean(L, is_image(type));
    lua_setfield(L, -2, "image");
    lua_pushstring(L, pt->declared);
    lua_setfield(L, -2, "declared_type");
    lua_pushinteger(L, i + 1);
    lua_setfield(L, -2, "part");
    lua_rawseti(L, -2, ++n);
  }
  lh_mark_array(L, -1);
}

int lh_upload_index(lua_State *L, struct destek_req *r, const char *key)
{
  if (!strcmp(key, "form")) push_form(L, r);
  else if (!strcmp(key, "files")) push_files(L, r);
  else return 0;
  return 1;
}

/* ------------------------------------------------------------------------------------------------ stored files */

/* <data>/files/<plugin> into out, created when create. 0 or -1. */
static int files_dir(const char *plugin, char *out, size_t outlen, int create)
{
  const char *db = db_path();
  const char *slash = db ? strrchr(db, '/') : NULL;
  char top[4096];
  if (slash) snprintf(top, sizeof top, "%.*s/files", (int)(slash - db), db);
  else snprintf(top, sizeof top, "files");
  snprintf(out, outlen, "%s/%s", top, plugin);
  if (!create) return 0;
  if ((mkdir(top, 0700) != 0 && errno != EEXIST) || (mkdir(out, 0700) != 0 && errno != EEXIST)) return -1;
  return 0;
}

static int id_ok(const char *id)
{
  if (strlen(id) != 33 || id[0] != 'f') return 0;
  for (const char *p = id + 1; *p; p++)
    if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) return 0;
  return 1;
}

static int write_file(const char *dir, const char *name, const void *data, size_t len)
{
  char tmp[4300], path[4300];
  snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
  snprintf(path, sizeof path, "%s/%s", dir, name);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  const char *p = data;
  while (len) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) { close(fd); unlink(tmp); return -1; }
    p += n;
    len -= (size_t)n;
  }
  if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) { unlink(tmp); return -1; }
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) { fsync(dfd); close(dfd); }
  return 0;
}

static const char *plugin_of(lua_State *L)
{
  int slot = (int)lua_tointeger(L, lua_upvalueindex(1));
  return lh_state_of(L)->slots[slot].name;
}

/* files.save(file or bytes[, {images_only=}]): stores an upload of this request (an entry of req.files) or a string
 * of bytes; returns its id and {size, type, image}, or nil and a message. */
static int l_files_save(lua_State *L)
{
  struct lh_state *s = lh_state_of(L);
  const char *data = NULL;
  size_t len = 0;
  if (lua_type(L, 1) == LUA_TSTRING) {
    data = lua_tolstring(L, 1, &len);
  } else if (lua_type(L, 1) == LUA_TTABLE) {
    lua_getfield(L, 1, "part");
    int isint = 0;
    lua_Integer part = lua_tointegerx(L, -1, &isint);
    lua_pop(L, 1);
    if (!isint || !s->call || tl.r != s->call || part < 1 || part > tl.n || !tl.parts[part - 1].is_file)
      return luaL_error(L, "files.save: give it an entry of this request's req.files, or a string of bytes");
    data = tl.parts[part - 1].data;
    len = tl.parts[part - 1].len;
  } else {
    return luaL_argerror(L, 1, "an entry of req.files or a string");
  }
  const char *type = sniff((const unsigned char *)data, len);
  if (lua_type(L, 2) == LUA_TTABLE) {
    lua_getfield(L, 2, "images_only");
    int images = lua_toboolean(L, -1);
    lua_pop(L, 1);
    if (images && !is_image(type)) {
      lua_pushnil(L);
      lua_pushliteral(L, "not an image (JPEG, PNG, WebP or GIF)");
      return 2;
    }
  }
  char dir[4200], id[40], raw[16];
  util_random(raw, sizeof raw);
  id[0] = 'f';
  util_hex(raw, sizeof raw, id + 1);
  double t0 = util_mono();
  int rc = files_dir(plugin_of(L), dir, sizeof dir, 1) == 0 ? write_file(dir, id, data, len) : -1;
  lh_pause_credit(s, util_mono() - t0);   /* the disk, like the network, is not the plugin's running time */
  if (rc != 0) {
    log_error(plugin_of(L), "files.save: cannot write in %s: %s", dir, strerror(errno));
    lua_pushnil(L);
    lua_pushliteral(L, "the file could not be stored");
    return 2;
  }
  lua_pushstring(L, id);
  lua_createtable(L, 0, 3);
  lua_pushinteger(L, (lua_Integer)len);
  lua_setfield(L, -2, "size");
  lua_pushstring(L, type);
  lua_setfield(L, -2, "type");
  lua_pushboolean(L, is_image(type));
  lua_setfield(L, -2, "image");
  return 2;
}

/* files.delete(id): removes a stored file (at once: it is not taken back if the call rolls back). true when it was
 * there. */
static int l_files_delete(lua_State *L)
{
  const char *id = luaL_checkstring(L, 1);
  char dir[4200], path[4300];
  if (!id_ok(id)) return luaL_argerror(L, 1, "not a file id");
  files_dir(plugin_of(L), dir, sizeof dir, 0);
  snprintf(path, sizeof path, "%s/%s", dir, id);
  lua_pushboolean(L, unlink(path) == 0);
  return 1;
}

/* A file response as a value a route returns (files.serve, asset). */
struct file_value {
  int asset;                        /* 1: data/len are a static/ file of the module */
  const char *data;
  size_t len;
  char plugin[LH_NAME_MAX + 1];
  char id[40];
  char name[FILENAME_MAX_BYTES + 1];   /* the download's file name, or the asset's name */
  int download;                     /* a stored image as a download all the same */
};

static struct file_value *file_new(lua_State *L)
{
  struct file_value *f = lua_newuserdatauv(L, sizeof *f, 0);
  memset(f, 0, sizeof *f);
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &KEY_FILE_MT) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_createtable(L, 0, 2);
    lua_pushliteral(L, "file");
    lua_setfield(L, -2, "__name");
    lua_pushliteral(L, "file");
    lua_setfield(L, -2, "__metatable");
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &KEY_FILE_MT);
  }
  lua_setmetatable(L, -2);
  return f;
}

/* files.serve(id[, {filename=, download=}]): 200 and the stored file, for a route to return. */
static int l_files_serve(lua_State *L)
{
  const char *id = luaL_checkstring(L, 1);
  if (!id_ok(id)) return luaL_argerror(L, 1, "not a file id");
  const char *filename = NULL;
  int download = 0;
  if (lua_type(L, 2) == LUA_TTABLE) {
    if (lua_getfield(L, 2, "filename") == LUA_TSTRING) filename = lua_tostring(L, -1);
    lua_getfield(L, 2, "download");
    download = lua_toboolean(L, -1);
  }
  lua_pushinteger(L, 200);
  struct file_value *f = file_new(L);
  snprintf(f->plugin, sizeof f->plugin, "%s", plugin_of(L));
  snprintf(f->id, sizeof f->id, "%s", id);
  snprintf(f->name, sizeof f->name, "%s", filename ? filename : id);
  clean_filename(f->name);
  f->download = download;
  return 2;
}

/* asset(name): 200 and the module's static/<name>, for a route to return. */
static int l_asset(lua_State *L)
{
  int slot = (int)lua_tointeger(L, lua_upvalueindex(1));
  struct lh_state *s = lh_state_of(L);
  const char *name = luaL_checkstring(L, 1);
  char path[300];
  const struct lh_file *file = NULL;
  if (strlen(name) < 200 && !strstr(name, "..") && name[0] != '/') {
    snprintf(path, sizeof path, "static/%s", name);
    file = lh_module_file(s->set ? &s->set->sources[s->slots[slot].source] : NULL, path);
  }
  if (!file) {
    lh_push_error(L, 404, "not_found", "no such file", NULL);
    return lua_error(L);
  }
  lua_pushinteger(L, 200);
  struct file_value *f = file_new(L);
  f->asset = 1;
  f->data = file->text;
  f->len = file->len;
  snprintf(f->name, sizeof f->name, "%s", name);
  return 2;
}

static const char *asset_type(const char *name)
{
  static const struct { const char *ext, *type; } types[] = {
    { ".css", "text/css; charset=utf-8" }, { ".js", "text/javascript; charset=utf-8" },
    { ".png", "image/png" }, { ".jpg", "image/jpeg" }, { ".jpeg", "image/jpeg" }, { ".gif", "image/gif" },
    { ".webp", "image/webp" }, { ".svg", "image/svg+xml" }, { ".ico", "image/x-icon" }, { ".woff2", "font/woff2" },
    { ".txt", "text/plain; charset=utf-8" }, { ".json", "application/json" },
  };
  const char *dot = strrchr(name, '.');
  for (size_t i = 0; dot && i < sizeof types / sizeof *types; i++)
    if (!strcasecmp(dot, types[i].ext)) return types[i].type;
  return "application/octet-stream";
}

/* Content-Disposition for name: an ASCII fallback and the UTF-8 name percent-encoded (RFC 6266). */
static void disposition(struct destek_req *r, const char *kind, const char *name)
{
  char ascii[FILENAME_MAX_BYTES + 1], enc[FILENAME_MAX_BYTES * 3 + 1], line[900];
  size_t a = 0, e = 0;
  for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
    ascii[a++] = *p < 0x80 && *p != '\\' && *p != '"' && *p != ';' ? (char)*p : '_';
    if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("-._~", *p))
      enc[e++] = (char)*p;
    else e += (size_t)sprintf(enc + e, "%%%02X", *p);
  }
  ascii[a] = enc[e] = 0;
  snprintf(line, sizeof line, "%s; filename=\"%s\"; filename*=UTF-8''%s", kind, ascii, enc);
  http_add_header(r, "Content-Disposition", line);
}

int lh_file_reply(lua_State *L, int idx, struct destek_req *r, int status)
{
  if (lua_type(L, idx) != LUA_TUSERDATA || !lua_getmetatable(L, idx)) return 0;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &KEY_FILE_MT);
  int yes = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  if (!yes) return 0;
  const struct file_value *f = lua_touserdata(L, idx);
  char etag[48];
  if (f->asset) {
    char sum[65];
    util_sha256_hex(f->data, f->len, sum);
    snprintf(etag, sizeof etag, "\"%.16s\"", sum);
    http_add_header(r, "ETag", etag);
    http_add_header(r, "Cache-Control", "public, max-age=3600");
    const char *inm = http_header(r, "If-None-Match");
    if (inm && strstr(inm, etag)) return http_reply_empty(r, 304), 1;
    char *copy = malloc(f->len + 1);
    if (!copy) abort();
    memcpy(copy, f->data, f->len);
    http_reply_body(r, status, asset_type(f->name), copy, f->len);
    return 1;
  }
  snprintf(etag, sizeof etag, "\"%s\"", f->id);
  const char *inm = http_header(r, "If-None-Match");
  char dir[4200], path[4300];
  files_dir(f->plugin, dir, sizeof dir, 0);
  snprintf(path, sizeof path, "%s/%s", dir, f->id);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > SERVE_MAX) {
    if (fd >= 0) close(fd);
    http_error(r, 404, "not_found", "no such file");
    return 1;
  }
  size_t len = (size_t)st.st_size, got = 0;
  char *buf = malloc(len + 1);
  if (!buf) abort();
  while (got < len) {
    ssize_t n = read(fd, buf + got, len - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += (size_t)n;
  }
  close(fd);
  if (got != len) {
    free(buf);
    http_error(r, 500, "internal", "the file could not be read");
    return 1;
  }
  const char *type = sniff((const unsigned char *)buf, len);
  int inline_image = is_image(type) && !f->download;
  http_add_header(r, "ETag", etag);
  http_add_header(r, "Cache-Control", "private, max-age=3600");
  http_add_header(r, "Content-Security-Policy", "default-src 'none'; img-src 'self'; sandbox");
  disposition(r, inline_image ? "inline" : "attachment", f->name);
  if (inm && strstr(inm, etag)) {
    free(buf);
    http_reply_empty(r, 304);
    return 1;
  }
  http_reply_body(r, status, type, buf, len);
  return 1;
}

/* ------------------------------------------------------------------------------------------------ the functions */

void lh_upload_push(lua_State *L, int slot)
{
  static const luaL_Reg files[] = {
    { "save", l_files_save }, { "serve", l_files_serve }, { "delete", l_files_delete }, { NULL, NULL }
  };
  lua_newtable(L);
  lua_pushinteger(L, slot);
  luaL_setfuncs(L, files, 1);
  lua_setfield(L, -2, "files");
  lua_pushinteger(L, slot);
  lua_pushcclosure(L, l_asset, 1);
  lua_setfield(L, -2, "asset");
}
