/* db: migrations in order, recorded, idempotent, refusing a newer database; bound parameters; one writer. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "db.h"

static const unsigned char m1[] = "CREATE TABLE t_items(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);";
static const unsigned char m2[] = "ALTER TABLE t_items ADD COLUMN qty INTEGER NOT NULL DEFAULT 0;";
static const unsigned char bad[] = "CREATE TABLE t_half(id INTEGER); THIS IS NOT SQL;";

int main(void)
{
  char dir[] = "/tmp/destek-unit-XXXXXX", path[256], err[512];
  CHECK(mkdtemp(dir) != NULL);
  snprintf(path, sizeof path, "%s/test.db", dir);
  CHECK(db_open(path, 0, err, sizeof err) == 0);

  const struct embed_file v1[] = { { "001_items.sql", m1, sizeof m1 - 1, "" }, { 0 } };
  const struct embed_file v2[] = { { "001_items.sql", m1, sizeof m1 - 1, "" },
                                   { "002_qty.sql", m2, sizeof m2 - 1, "" }, { 0 } };
  const struct embed_file broken[] = { { "001_items.sql", m1, sizeof m1 - 1, "" },
                                       { "002_qty.sql", m2, sizeof m2 - 1, "" },
                                       { "003_bad.sql", bad, sizeof bad - 1, "" }, { 0 } };
  struct db *w = db_writer_acquire();
  CHECK(db_migrate(w, "test", v1, err, sizeof err) == 1);
  CHECK(db_migrate(w, "test", v1, err, sizeof err) == 0);        /* already applied */
  CHECK(db_migrate(w, "test", v2, err, sizeof err) == 1);
  CHECK(db_schema_version(w, "test") == 2);
  /* a failing step is rolled back whole and not recorded */
  CHECK(db_migrate(w, "test", broken, err, sizeof err) == -1);
  CHECK(db_schema_version(w, "test") == 2);
  CHECK(db_int(w, -1, "SELECT count(*) FROM sqlite_master WHERE name = 't_half'", NULL) == 0);
  /* a database newer than the binary is refused */
  CHECK(db_migrate(w, "test", v1, err, sizeof err) == -1);
  CHECK(strstr(err, "newer") != NULL);
  /* owners are independent */
  CHECK(db_migrate(w, "other", v1, err, sizeof err) == -1);  /* same table name: the step fails, nothing kept */
  CHECK(db_schema_version(w, "other") == 0);

  /* bound parameters, including hostile text, and the constraint code returned quietly */
  CHECK(db_exec(w, "INSERT INTO t_items(name, qty) VALUES (?1, ?2)", "ti", "x'); DROP TABLE t_items; --", (int64_t)3) == SQLITE_OK);
  CHECK(db_exec(w, "INSERT INTO t_items(name, qty) VALUES (?1, ?2)", "ti", "x'); DROP TABLE t_items; --", (int64_t)4) == SQLITE_CONSTRAINT);
  int64_t seven = 7;
  CHECK(db_exec(w, "UPDATE t_items SET qty = coalesce(?1, qty)", "I", (const int64_t *)NULL) == SQLITE_OK);
  CHECK(db_int(w, -1, "SELECT qty FROM t_items", NULL) == 3);
  CHECK(db_exec(w, "UPDATE t_items SET qty = coalesce(?1, qty)", "I", &seven) == SQLITE_OK);
  CHECK(db_int(w, -1, "SELECT qty FROM t_items", NULL) == 7);
  char *name = db_text_new(w, "SELECT name FROM t_items WHERE qty = ?1", "i", (int64_t)7);
  CHECK(name && !strcmp(name, "x'); DROP TABLE t_items; --"));
  free(name);

  /* transactions: rolled back work is gone, and a reader sees only committed rows */
  CHECK(db_begin(w) == 0);
  CHECK(db_exec(w, "INSERT INTO t_items(name) VALUES ('gone')", NULL) == SQLITE_OK);
  db_rollback(w);
  CHECK(db_int(w, -1, "SELECT count(*) FROM t_items WHERE name = 'gone'", NULL) == 0);
  CHECK(db_begin(w) == 0);
  CHECK(db_exec(w, "INSERT INTO t_items(name) VALUES ('kept')", NULL) == SQLITE_OK);
  struct db *r = db_reader();
  CHECK(r != NULL);
  CHECK(db_int(r, -1, "SELECT count(*) FROM t_items WHERE name = 'kept'", NULL) == 0);
  CHECK(db_commit(w) == 0);
  CHECK(db_int(r, -1, "SELECT count(*) FROM t_items WHERE name = 'kept'", NULL) == 1);
  /* the reader cannot write */
  CHECK(db_exec(r, "DELETE FROM t_items", NULL) != SQLITE_OK);
  db_writer_release(w);
  CHECK(db_size_bytes() > 0);
  db_close_all();

  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  CHECK(system(cmd) == 0);
  CHECK_DONE();
}
