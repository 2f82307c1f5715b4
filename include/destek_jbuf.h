/* destek_jbuf.h — part of the helper library (libdestek_helpers.a) that the binary and module .so files link.
 *
 * jbuf: JSON text written straight into a growing buffer, for the hot paths (ticket lists) where building a cJSON
 * tree and printing it costs more than the query. The writer emits exactly what cJSON_PrintUnformatted would for the
 * same values (strings escaped the same way, integers in decimal), so both kinds of output read alike.
 *
 * The buffer belongs to the jbuf until jbuf_take hands it to the caller (free() it); jbuf_free drops it. Writing
 * never fails: out of memory aborts, as everywhere in Destek. The caller writes the commas: jbuf_key(b, ",\"x\":")
 * style literals keep the hot path free of bookkeeping. */
#ifndef DESTEK_JBUF_PUBLIC_H
#define DESTEK_JBUF_PUBLIC_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct jbuf {
  char *data;
  size_t len, cap;
};

void jbuf_init(struct jbuf *b, size_t cap);
void jbuf_free(struct jbuf *b);
/* The text written so far, NUL-terminated; *len its length. The jbuf is empty afterwards. */
char *jbuf_take(struct jbuf *b, size_t *len);
/* Makes room for n more bytes. */
void jbuf_reserve(struct jbuf *b, size_t n);

static inline void jbuf_raw(struct jbuf *b, const char *s, size_t n)
{
  if (b->cap - b->len < n + 1) jbuf_reserve(b, n + 1);
  memcpy(b->data + b->len, s, n);
  b->len += n;
}
/* A literal: JBUF_LIT(b, ",\"status\":") */
#define JBUF_LIT(b, lit) jbuf_raw((b), (lit), sizeof(lit) - 1)

/* A JSON string (quoted and escaped); NULL writes null. s must be UTF-8, as everything stored is. */
void jbuf_str(struct jbuf *b, const char *s);
void jbuf_strn(struct jbuf *b, const char *s, size_t n);
void jbuf_int(struct jbuf *b, int64_t v);
static inline void jbuf_null(struct jbuf *b) { JBUF_LIT(b, "null"); }
static inline void jbuf_bool(struct jbuf *b, int v) { if (v) JBUF_LIT(b, "true"); else JBUF_LIT(b, "false"); }

#endif
