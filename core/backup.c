/* `destek backup FILE` and `destek restore FILE`.
 *
 * A backup is one POSIX tar (ustar) file: "destek.db" first (a consistent copy of the database, VACUUM INTO on a
 * read-only connection, safe beside a running server), then every stored file under <data>/attachments/ and
 * <data>/files/ (ticket attachments and drafts' files; modules' files: chat, return photos, reviews, help centre
 * images). Tar, not ZIP: a person opens it with `tar -xf`, it is written as a stream (no 4 GiB limit on the archive;
 * one file up to 8 GiB in octal, larger in GNU base-256, which GNU tar and bsdtar read), and its headers carry sizes
 * and checksums that let restore refuse a truncated or damaged archive.
 *
 * Consistency: the database is copied first, then the files. A stored file is written (and fsync'd) before the row
 * that names it commits, so every file the copied database names exists when the directories are walked; files
 * written after the copy may also be taken (harmless: the sweep of orphans removes them later).
 *
 * Restore checks everything before it touches the desk: each entry is a regular file with a safe relative name
 * (destek.db, attachments/..., files/...: no "..", no absolute path, no links), the archive ends properly, the
 * database passes the integrity and schema checks. It extracts into <data>/.restore-XXXXXX, then moves the current
 * database and directories aside (*.before-restore-TIME) and the restored ones into place by rename; a failing rename
 * puts back what was moved. A backup of an older Destek (a bare SQLite file) still restores, with a warning. */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "datadir.h"
#include "db.h"
#include "server.h"

#define BLOCK 512
#define RECORD 10240
static const char *const STORED_DIRS[] = { "attachments", "files" };
#define N_STORED (sizeof STORED_DIRS / sizeof *STORED_DIRS)

/* A message into err (vsnprintf: a long path is cut, not refused). */
__attribute__((format(printf, 3, 4))) static void say(char *err, size_t errlen, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

static int fsync_path(const char *path, int dir)
{
  int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return -1;
  int rc = fsync(fd);
  close(fd);
  return rc;
}

static void dir_of(const char *path, char *out, size_t outlen)
{
  snprintf(out, outlen, "%s", path);
  char *slash = strrchr(out, '/');
  if (!slash) snprintf(out, outlen, ".");
  else if (slash == out) out[1] = 0;
  else *slash = 0;
}

static int write_all(int fd, const void *data, size_t len)
{
  const char *p = data;
  while (len) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

/* Reads exactly len bytes: 0, 1 at a clean end of file before any byte, -1 on error or a short read (errno 0). */
static int read_all(int fd, void *data, size_t len)
{
  char *p = data;
  size_t got = 0;
  while (got < len) {
    ssize_t n = read(fd, p + got, len - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) { if (got == 0) return 1; errno = 0; return -1; }
    got += (size_t)n;
  }
  return 0;
}

/* ------------------------------------------------------------------------------------------------ tar writer */

struct tar_out {
  int fd;
  uint64_t written;
};

static void octal(char *field, size_t width, uint64_t v)
{
  /* width-1 digits and a NUL, as ustar writes them (callers keep v below 8^(width-1)) */
  field[width - 1] = 0;
  for (size_t i = width - 1; i-- > 0; v >>= 3) field[i] = (char)('0' + (v & 7));
}

/* A ustar header for a regular file of size bytes named name (a relative path), 0 or -1 (name too long). */
static int tar_header(char *h, const char *name, uint64_t size, time_t mtime)
{
  memset(h, 0, BLOCK);
  size_t n = strlen(name);
  if (n <= 100) memcpy(h, name, n);
  else {
    /* split at a '/' into prefix (<= 155) and name (<= 100) */
    const char *cut = NULL;
    for (const char *p = name + n - 1; p > name; p--)
      if (*p == '/' && (size_t)(p - name) <= 155 && n - (size_t)(p - name) - 1 <= 100) { cut = p; break; }
    if (!cut) return -1;
    memcpy(h + 345, name, (size_t)(cut - name));
    memcpy(h, cut + 1, n - (size_t)(cut - name) - 1);
  }
  octal(h + 100, 8, 0600);
  octal(h + 108, 8, 0);
  octal(h + 116, 8, 0);
  if (size < 077777777777ull) octal(h + 124, 12, size);
  else {  /* GNU base-256: a first byte with the high bit, then the size big-endian */
    h[124] = (char)0x80;
    for (int i = 11; i >= 1; i--) { h[124 + i] = (char)(size & 0xFF); size >>= 8; }
  }
  octal(h + 136, 12, (uint64_t)(mtime > 0 ? mtime : 0));
  h[156] = '0';
  memcpy(h + 257, "ustar", 6);
  memcpy(h + 263, "00", 2);
  memcpy(h + 265, "destek", 6);
  memcpy(h + 297, "destek", 6);
  memset(h + 148, ' ', 8);
  unsigned sum = 0;
  for (int i = 0; i < BLOCK; i++) sum += (unsigned char)h[i];
  snprintf(h + 148, 8, "%06o", sum);   /* six digits, NUL, space */
  h[155] = ' ';
  return 0;
}

/* Appends the file at path as entry name. 0, 1 when it no longer exists, or -1 with a message in err. */
static int tar_add_file(struct tar_out *t, const char *path, const char *name, char *err, size_t errlen)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0 && errno == ENOENT) return 1;   /* removed since it was listed: a deletion after the database copy */
  if (fd < 0) { say(err, errlen, "cannot read %s: %s", path, strerror(errno)); return -1; }
  struct stat sb;
  if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
    say(err, errlen, "%s is not a regular file", path);
    close(fd);
    return -1;
  }
  char h[BLOCK];
  if (tar_header(h, name, (uint64_t)sb.st_size, sb.st_mtime) != 0) {
    say(err, errlen, "the name %s is too long for the archive", name);
    close(fd);
    return -1;
  }
  if (write_all(t->fd, h, BLOCK) != 0) goto write_failed;
  t->written += BLOCK;
  static char buf[1 << 16];
  uint64_t left = (uint64_t)sb.st_size;
  while (left) {
    size_t want = left < sizeof buf ? (size_t)left : sizeof buf;
    int rc = read_all(fd, buf, want);
    if (rc != 0) {   /* stored files are never rewritten in place: a shorter one is damage, not a race */
      say(err, errlen, "cannot read %s: %s", path, rc > 0 || errno == 0 ? "it got shorter while being read" : strerror(errno));
      close(fd);
      return -1;
    }
    if (write_all(t->fd, buf, want) != 0) goto write_failed;
    left -= want;
  }
  t->written += (uint64_t)sb.st_size;
  size_t pad = (size_t)((BLOCK - (uint64_t)sb.st_size % BLOCK) % BLOCK);
  if (pad) {
    memset(h, 0, pad);
    if (write_all(t->fd, h, pad) != 0) goto write_failed;
    t->written += pad;
  }
  close(fd);
  return 0;
write_failed:
  say(err, errlen, "cannot write the archive: %s", strerror(errno));
  close(fd);
  return -1;
}

static int name_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Adds every regular file under <data>/<rel> (recursively; names sorted, so that two backups of the same desk list
 * the same order). Skips "."-names: temporary files of a write in progress. *count grows by the files added. */
static int tar_add_tree(struct tar_out *t, const char *data, const char *rel, long *count, char *err, size_t errlen)
{
  char dir[4096];
  if (snprintf(dir, sizeof dir, "%s/%s", data, rel) >= (int)sizeof dir) { say(err, errlen, "path too long: %s", rel); return -1; }
  DIR *d = opendir(dir);
  if (!d) {
    if (errno == ENOENT) return 0;
    say(err, errlen, "cannot list %s: %s", dir, strerror(errno));
    return -1;
  }
  char **names = NULL;
  size_t n = 0, cap = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 64;
      names = realloc(names, cap * sizeof *names);
      if (!names) abort();
    }
    names[n] = strdup(e->d_name);
    if (!names[n]) abort();
    n++;
  }
  closedir(d);
  qsort(names, n, sizeof *names, name_cmp);
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    char path[4096], sub[4096];
    if (snprintf(path, sizeof path, "%s/%s", dir, names[i]) >= (int)sizeof path ||
        snprintf(sub, sizeof sub, "%s/%s", rel, names[i]) >= (int)sizeof sub) {
      say(err, errlen, "path too long: %s/%s", rel, names[i]);
      rc = -1;
      break;
    }
    struct stat sb;
    if (lstat(path, &sb) != 0) {
      if (errno == ENOENT) continue;   /* removed since it was listed (a deletion after the database copy) */
      say(err, errlen, "cannot read %s: %s", path, strerror(errno));
      rc = -1;
    } else if (S_ISDIR(sb.st_mode)) rc = tar_add_tree(t, data, sub, count, err, errlen);
    else if (S_ISREG(sb.st_mode)) {
      rc = tar_add_file(t, path, sub, err, errlen);
      if (rc == 0) (*count)++;
      if (rc == 1) rc = 0;
    }
    /* anything else (a link, a socket) is not something Destek stores: left out */
  }
  for (size_t i = 0; i < n; i++) free(names[i]);
  free(names);
  return rc;
}

int cli_backup(const struct config *cfg, const char *file)
{
  char dbpath[4096], err[1024], tmp[4200], tmpdb[4200];
  datadir_path(cfg->data, "destek.db", dbpath, sizeof dbpath);
  if (access(dbpath, R_OK) != 0) {
    fprintf(stderr, "destek backup: no database at %s (is --data right?)\n", dbpath);
    return 1;
  }
  snprintf(tmp, sizeof tmp, "%s.tmp-%d", file, (int)getpid());
  snprintf(tmpdb, sizeof tmpdb, "%s.db-tmp-%d", file, (int)getpid());
  unlink(tmp);
  unlink(tmpdb);
  /* A read-only connection that never checkpoints: safe beside a running server (it is not a second writer). */
  sqlite3 *h = db_open_readonly(dbpath, err, sizeof err);
  if (!h) { fprintf(stderr, "destek backup: %s\n", err); return 1; }
  sqlite3_exec(h, "PRAGMA query_only=0", NULL, NULL, NULL);  /* VACUUM INTO writes only the new file */
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(h, "VACUUM INTO ?1", -1, &st, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_bind_text(st, 1, tmpdb, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
  }
  if (rc != SQLITE_DONE) {
    fprintf(stderr, "destek backup: cannot write %s: %s\n", file, sqlite3_errmsg(h));
    sqlite3_finalize(st);
    sqlite3_close(h);
    unlink(tmpdb);
    return 1;
  }
  sqlite3_finalize(st);
  sqlite3_close(h);

  struct tar_out t = { .fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600) };
  if (t.fd < 0) {
    fprintf(stderr, "destek backup: cannot write %s: %s\n", tmp, strerror(errno));
    unlink(tmpdb);
    return 1;
  }
  long files = 0;
  err[0] = 0;
  rc = tar_add_file(&t, tmpdb, "destek.db", err, sizeof err) == 0 ? 0 : -1;
  if (rc != 0 && !*err) say(err, sizeof err, "the copy of the database vanished");
  unlink(tmpdb);
  for (size_t i = 0; rc == 0 && i < N_STORED; i++) rc = tar_add_tree(&t, cfg->data, STORED_DIRS[i], &files, err, sizeof err);
  if (rc == 0) {
    /* the end: two zero blocks, then zeros to a whole record as tar(1) writes it */
    static const char zeros[RECORD + 2 * BLOCK];   /* pad is at most 2 blocks and a record less one byte */
    size_t pad = 2 * BLOCK + (size_t)((RECORD - (t.written + 2 * BLOCK) % RECORD) % RECORD);
    if (write_all(t.fd, zeros, pad) != 0) { say(err, sizeof err, "cannot write the archive: %s", strerror(errno)); rc = -1; }
    else t.written += pad;
  }
  if (rc == 0 && fsync(t.fd) != 0) { say(err, sizeof err, "cannot write the archive: %s", strerror(errno)); rc = -1; }
  if (close(t.fd) != 0 && rc == 0) { say(err, sizeof err, "cannot write the archive: %s", strerror(errno)); rc = -1; }
  if (rc != 0) {
    fprintf(stderr, "destek backup: %s; no backup was written\n", err);
    unlink(tmp);
    return 1;
  }
  char dir[4096];
  dir_of(file, dir, sizeof dir);
  if (rename(tmp, file) != 0 || fsync_path(dir, 1) != 0) {
    fprintf(stderr, "destek backup: cannot finish %s: %s\n", file, strerror(errno));
    unlink(tmp);
    return 1;
  }
  printf("backed up %s and %ld stored file%s to %s (%llu bytes)\n", dbpath, files, files == 1 ? "" : "s", file,
         (unsigned long long)t.written);
  return 0;
}

/* ------------------------------------------------------------------------------------------------ restore */

static int copy_file(const char *from, const char *to)
{
  int in = open(from, O_RDONLY | O_CLOEXEC);
  if (in < 0) return -1;
  int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (out < 0) { close(in); return -1; }
  char buf[65536];
  ssize_t n;
  int rc = 0;
  while ((n = read(in, buf, sizeof buf)) > 0)
    if (write_all(out, buf, (size_t)n) != 0) { rc = -1; break; }
  if (n < 0 || fsync(out) != 0) rc = -1;
  close(in);
  if (close(out) != 0) rc = -1;
  return rc;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
  (void)sb; (void)flag; (void)ftw;
  remove(path);
  return 0;
}

static void rm_tree(const char *path) { nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS); }

static int sync_dir_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
  (void)sb; (void)ftw;
  return flag == FTW_DP && fsync_path(path, 1) != 0 ? -1 : 0;
}

/* Syncs every folder under path (the files are synced as they are written): their entries survive a power cut. */
static int sync_tree(const char *path) { return nftw(path, sync_dir_one, 16, FTW_DEPTH | FTW_PHYS); }

/* A name restore accepts: "destek.db", or attachments/... or files/... whose parts are 1-128 characters of
 * [A-Za-z0-9._-], not starting with '.' (so no "." or "..", no hidden temporaries), no empty part, no leading '/'. */
static int entry_name_ok(const char *name)
{
  if (!strcmp(name, "destek.db")) return 1;
  size_t top = 0;
  for (size_t i = 0; i < N_STORED && !top; i++) {
    size_t n = strlen(STORED_DIRS[i]);
    if (!strncmp(name, STORED_DIRS[i], n) && name[n] == '/') top = n + 1;
  }
  if (!top) return 0;
  const char *p = name + top;
  if (!*p) return 0;
  while (*p) {
    const char *start = p;
    if (*p == '.') return 0;
    while (*p && *p != '/') {
      char c = *p;
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
        return 0;
      p++;
    }
    if (p == start || p - start > 128) return 0;
    if (*p == '/') { p++; if (!*p) return 0; }
  }
  return 1;
}

/* Parses a size field: octal, or GNU base-256. -1 when malformed. */
static int64_t tar_size(const unsigned char *f)
{
  if (f[0] & 0x80) {
    if (f[0] != 0x80) return -1;
    uint64_t v = 0;
    for (int i = 1; i < 12; i++) {
      if (v >> 55) return -1;
      v = (v << 8) | f[i];
    }
    return v > (uint64_t)INT64_MAX ? -1 : (int64_t)v;
  }
  int i = 0;
  while (i < 12 && f[i] == ' ') i++;
  if (i == 12 || f[i] < '0' || f[i] > '7') return -1;
  int64_t v = 0;
  for (; i < 12 && f[i] >= '0' && f[i] <= '7'; i++) v = v * 8 + (f[i] - '0');
  for (; i < 12; i++) if (f[i] != ' ' && f[i] != 0) return -1;
  return v;
}

static int all_zero(const unsigned char *b)
{
  for (int i = 0; i < BLOCK; i++) if (b[i]) return 0;
  return 1;
}

/* Creates the parent directories of rel under root (each part checked by entry_name_ok already). */
static int make_parents(const char *root, const char *rel)
{
  char path[4096];
  if (snprintf(path, sizeof path, "%s/%s", root, rel) >= (int)sizeof path) return -1;
  for (char *p = path + strlen(root) + 1; *p; p++) {
    if (*p != '/') continue;
    *p = 0;
    if (mkdir(path, 0700) != 0 && errno != EEXIST) return -1;
    *p = '/';
  }
  return 0;
}

/* Extracts the archive (fd, just opened) into stage. 0, or -1 with the reason in err. */
static int extract(int fd, const char *stage, long *files, char *err, size_t errlen)
{
  unsigned char h[BLOCK];
  int have_db = 0;
  static char buf[1 << 16];
  for (;;) {
    int rc = read_all(fd, h, BLOCK);
    if (rc != 0) { say(err, errlen, "the archive is truncated (it does not end as a tar file ends)"); return -1; }
    if (all_zero(h)) {
      rc = read_all(fd, h, BLOCK);
      if (rc != 0 || !all_zero(h)) { say(err, errlen, "the archive is truncated or damaged (a lone end block)"); return -1; }
      break;
    }
    unsigned sum = 0;
    for (int i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? ' ' : h[i];
    char chk[9];
    memcpy(chk, h + 148, 8);
    chk[8] = 0;
    if (strtoul(chk, NULL, 8) != sum) { say(err, errlen, "the archive is damaged (a header's checksum is wrong)"); return -1; }
    char name[300];
    size_t plen = strnlen((const char *)h + 345, 155), nlen = strnlen((const char *)h, 100);
    if (plen && memcmp(h + 257, "ustar\0", 6) == 0)   /* POSIX ustar: GNU tar's own format has no prefix there */ snprintf(name, sizeof name, "%.*s/%.*s", (int)plen, (const char *)h + 345, (int)nlen, (const char *)h);
    else snprintf(name, sizeof name, "%.*s", (int)nlen, (const char *)h);
    char type = (char)h[156];
    size_t len = strlen(name);
    if (type == '5' && len > 1 && name[len - 1] == '/') name[--len] = 0;
    if (type == '5' && (!strcmp(name, "attachments") || !strcmp(name, "files") || (strcmp(name, "destek.db") && entry_name_ok(name)))) {
      /* a folder, as tar(1) writes them when a person packs the backup again: made, holding nothing yet */
      if (tar_size(h + 124) != 0) { say(err, errlen, "the archive is damaged (folder %s has a size)", name); return -1; }
      char dpath[4096];
      snprintf(dpath, sizeof dpath, "%s/%s", stage, name);
      if (make_parents(stage, name) != 0 || (mkdir(dpath, 0700) != 0 && errno != EEXIST)) {
        say(err, errlen, "cannot create %s: %s", name, strerror(errno));
        return -1;
      }
      continue;
    }
    if (type != '0' && type != 0) {
      say(err, errlen, "the archive holds %s, which is not a regular file (type '%c'): refused", name, type >= ' ' ? type : '?');
      return -1;
    }
    if (!entry_name_ok(name)) {
      say(err, errlen, "the archive holds \"%s\": only destek.db, attachments/... and files/... (relative, no \"..\") are accepted", name);
      return -1;
    }
    int64_t size = tar_size(h + 124);
    if (size < 0) { say(err, errlen, "the archive is damaged (the size of %s)", name); return -1; }
    if (make_parents(stage, name) != 0) { say(err, errlen, "cannot create a folder for %s: %s", name, strerror(errno)); return -1; }
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", stage, name);
    int out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (out < 0) {
      if (errno == EEXIST) say(err, errlen, "the archive holds %s twice", name);
      else say(err, errlen, "cannot write %s: %s", name, strerror(errno));
      return -1;
    }
    uint64_t left = (uint64_t)size + (BLOCK - (uint64_t)size % BLOCK) % BLOCK, data = (uint64_t)size;
    while (left) {
      size_t want = left < sizeof buf ? (size_t)left : sizeof buf;
      if (read_all(fd, buf, want) != 0) {
        close(out);
        say(err, errlen, "the archive is truncated (in %s)", name);
        return -1;
      }
      size_t keep = data < want ? (size_t)data : want;
      if (keep && write_all(out, buf, keep) != 0) {
        say(err, errlen, "cannot write %s: %s", path, strerror(errno));
        close(out);
        return -1;
      }
      data -= keep;
      left -= want;
    }
    if (fsync(out) != 0 || close(out) != 0) { say(err, errlen, "cannot write %s: %s", path, strerror(errno)); return -1; }
    if (!strcmp(name, "destek.db")) have_db = 1;
    else (*files)++;
  }
  if (!have_db) { say(err, errlen, "the archive holds no destek.db"); return -1; }
  return 0;
}

/* The integrity and schema checks of a database about to be restored. */
static int db_healthy(const char *path, char *err, size_t errlen)
{
  sqlite3 *h = db_open_readonly(path, err, errlen);
  if (!h) return 0;
  sqlite3_stmt *st = NULL;
  int ok = sqlite3_prepare_v2(h, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
           !strcmp((const char *)sqlite3_column_text(st, 0), "ok");
  sqlite3_finalize(st);
  st = NULL;
  int has_core = ok && sqlite3_prepare_v2(h, "SELECT max(version) FROM schema_migrations WHERE owner = 'core'", -1, &st,
                                          NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
                 sqlite3_column_int(st, 0) > 0;
  sqlite3_finalize(st);
  sqlite3_close(h);
  if (!ok || !has_core) say(err, errlen, "its database fails the integrity or schema check");
  return ok && has_core;
}

struct move { char from[4400], to[4400]; };

int cli_restore(const struct config *cfg, const char *file)
{
  char err[1024];
  int in = open(file, O_RDONLY | O_CLOEXEC);
  if (in < 0) { fprintf(stderr, "destek restore: cannot read %s: %s\n", file, strerror(errno)); return 1; }
  if (datadir_ensure(cfg->data, err, sizeof err) != 0) { fprintf(stderr, "destek restore: %s\n", err); close(in); return 1; }
  int lk = datadir_lock(cfg->data, err, sizeof err);
  if (lk == 1) {
    fprintf(stderr, "destek restore: a Destek server is running on %s; stop it first\n", cfg->data);
    close(in);
    return 1;
  }
  if (lk < 0) { fprintf(stderr, "destek restore: %s\n", err); close(in); return 1; }

  char magic[16] = { 0 };
  int legacy = read_all(in, magic, sizeof magic) == 0 && !memcmp(magic, "SQLite format 3", 16);
  if (lseek(in, 0, SEEK_SET) != 0) { fprintf(stderr, "destek restore: cannot read %s: %s\n", file, strerror(errno)); close(in); return 1; }

  char stage[4200], stagedb[4300], dbpath[4096];
  datadir_path(cfg->data, "destek.db", dbpath, sizeof dbpath);
  if (snprintf(stage, sizeof stage, "%s/.restore-XXXXXX", cfg->data) >= (int)sizeof stage - 64 || !mkdtemp(stage)) {
    fprintf(stderr, "destek restore: cannot create a folder in %s: %s; nothing was changed\n", cfg->data, strerror(errno));
    close(in);
    return 1;
  }
  snprintf(stagedb, sizeof stagedb, "%s/destek.db", stage);
  long files = 0;
  /* Check and extract everything before touching anything. */
  int rc = 0;
  if (legacy) {
    if (copy_file(file, stagedb) != 0) { say(err, sizeof err, "cannot copy it: %s", strerror(errno)); rc = -1; }
  } else rc = extract(in, stage, &files, err, sizeof err);
  close(in);
  if (rc == 0 && !db_healthy(stagedb, err, sizeof err)) rc = -1;
  if (rc != 0) {
    fprintf(stderr, "destek restore: %s is not a healthy Destek backup: %s; nothing was changed\n", file, err);
    rm_tree(stage);
    return 1;
  }
  if (legacy)
    fprintf(stderr, "destek restore: warning: %s is a backup of an older Destek that holds the database alone, no stored "
                    "files; attachments and modules' files whose files are not in %s stay missing\n", file, cfg->data);

  /* Fold the old WAL into the old database (we are its only user) before it is moved aside. */
  char err2[1024];
  if (access(dbpath, F_OK) == 0 && db_open(dbpath, 1, err2, sizeof err2) == 0) db_close_all();

  char stamp[32];
  time_t now = time(NULL);
  strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", gmtime(&now));
  /* The moves, in order: each current item aside, then the restored one into its place. An old backup's restore
   * keeps the current files (they are what the old desk has). */
  struct move moves[2 * (N_STORED + 1)];
  int n = 0;
  const char *items[N_STORED + 1] = { "destek.db" };
  for (size_t i = 0; i < N_STORED; i++) items[i + 1] = STORED_DIRS[i];
  for (size_t i = 0; i < N_STORED + 1; i++) {
    if (legacy && i > 0) break;
    char cur[4200], staged[4300];
    snprintf(cur, sizeof cur, "%s/%s", cfg->data, items[i]);
    snprintf(staged, sizeof staged, "%s/%s", stage, items[i]);
    if (i > 0 && access(staged, F_OK) != 0 && mkdir(staged, 0700) != 0) {
      fprintf(stderr, "destek restore: cannot create %s: %s; nothing was changed\n", staged, strerror(errno));
      rm_tree(stage);
      return 1;
    }
    if (access(cur, F_OK) == 0) {
      snprintf(moves[n].from, sizeof moves[n].from, "%s", cur);
      snprintf(moves[n].to, sizeof moves[n].to, "%s.before-restore-%s", cur, stamp);
      n++;
    }
    snprintf(moves[n].from, sizeof moves[n].from, "%s", staged);
    snprintf(moves[n].to, sizeof moves[n].to, "%s", cur);
    n++;
  }
  if (sync_tree(stage) != 0) {
    fprintf(stderr, "destek restore: cannot sync %s: %s; nothing was changed\n", stage, strerror(errno));
    rm_tree(stage);
    return 1;
  }
  int done = 0;
  for (; done < n; done++) {
    if (access(moves[done].to, F_OK) == 0 && strstr(moves[done].to, ".before-restore-")) { errno = EEXIST; break; }
    if (rename(moves[done].from, moves[done].to) != 0) break;
  }
  if (done < n) {
    int why = errno;
    for (int i = done - 1; i >= 0; i--)
      if (rename(moves[i].to, moves[i].from) != 0)
        fprintf(stderr, "destek restore: cannot move %s back to %s: %s\n", moves[i].to, moves[i].from, strerror(errno));
    fprintf(stderr, "destek restore: cannot move %s to %s: %s; the desk was left as it was\n", moves[done].from,
            moves[done].to, strerror(why));
    rm_tree(stage);
    return 1;
  }
  char side[4200];
  snprintf(side, sizeof side, "%s-wal", dbpath); unlink(side);
  snprintf(side, sizeof side, "%s-shm", dbpath); unlink(side);
  rm_tree(stage);
  if (fsync_path(cfg->data, 1) != 0) { fprintf(stderr, "destek restore: cannot sync %s: %s\n", cfg->data, strerror(errno)); return 1; }
  for (int i = 0; i < n; i++)
    if (strstr(moves[i].to, ".before-restore-")) printf("the previous %s was kept as %s\n", strrchr(moves[i].from, '/') + 1, moves[i].to);
  if (server_open_store(cfg->data, 0, err, sizeof err) != 0) { fprintf(stderr, "destek restore: %s\n", err); return 1; }
  db_close_all();
  if (legacy) printf("restored %s into %s (the database only)\n", file, dbpath);
  else printf("restored %s into %s: the database and %ld stored file%s\n", file, cfg->data, files, files == 1 ? "" : "s");
  return 0;
}
