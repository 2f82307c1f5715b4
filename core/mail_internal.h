/* Shared between core/mail_*.c only: not part of the mail API. */
#ifndef DESTEK_MAIL_INTERNAL_H
#define DESTEK_MAIL_INTERNAL_H
#include <stddef.h>

#include <glib.h>

/* g_mime_init() and the shared parser options, once per process. */
void mail_gmime_init(void);

/* A header's raw value with each '='-padded B word rewritten as the equivalent Q word (GMime 3.2.13 drops the B word
 * that follows one, see mail_parse.c), or NULL when it has none (or raw is NULL). Caller g_frees. */
char *mail_rfc2047_unpad_new(const char *raw);

/* Appends n bytes of text in charset (NULL: undeclared) to out as UTF-8 with LF line ends; invalid input is read
 * as windows-1254 (see mail_parse.c). */
void mail_text_to_utf8(GString *out, const char *src, size_t n, const char *charset);

/* A copy of text without trailing whitespace on each line and without leading/trailing blank lines. Caller
 * frees with free(). */
char *mail_text_trim_new(const char *text);

/* Appends s to out with &, <, >, " escaped. */
struct sqlite3_str;
void mail_html_escape(struct sqlite3_str *out, const char *s, size_t n);

/* Moves the text of a sqlite3_str into malloc'd memory (never NULL; aborts on out-of-memory). */
char *mail_str_take(struct sqlite3_str *s);

#endif
