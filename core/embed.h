/* Files compiled into the binary by scripts/mkembed.c. Each array ends with an entry whose name is NULL. */
#ifndef DESTEK_EMBED_H
#define DESTEK_EMBED_H
#include <stddef.h>

struct embed_file {
  const char *name;              /* path relative to the embedded directory, e.g. "assets/app.js" */
  const unsigned char *data;     /* followed by a NUL byte, so text files are C strings */
  size_t size;                   /* without that NUL */
  const char *etag;              /* 16 hex digits of a content hash */
};

extern const struct embed_file embed_core_sql[];  /* core/migrations/NNN_*.sql */
extern const struct embed_file embed_web[];       /* build/web: the UI */
extern const struct embed_file embed_lua[];       /* plugins/lua/NAME.lua: built-in Lua plugins */

#endif
