/* Turkish-aware folding for search: one function used on the indexed text and on the query alike. */
#ifndef TKT_FOLD_H
#define TKT_FOLD_H
#include <stddef.h>

/* Folds UTF-8 text s (len bytes) for matching: ASCII lower-case; İ, I, ı -> i; ş -> s, ç -> c, ğ -> g, ö -> o,
 * ü -> u, â/î/û -> a/i/u (either case), other Latin-1 accented letters to their base letter; a combining dot
 * above (U+0307) is dropped. Other characters are copied. Returns a new NUL-terminated string (caller frees); the
 * result is never longer than the input. */
char *tkt_fold_new(const char *s, size_t len);

/* Query terms shorter than this many characters match whole words only, longer ones are prefixes. */
#define TKT_PREFIX_MIN 3   /* DESTEK_PREFIX_MIN of destek_text.h */

/* Splits folded text into search terms (runs of letters/digits, any non-ASCII byte counts as a letter) and writes
 * an FTS5 query of quoted terms joined by AND ("kargo"* "iade"*; a term shorter than TKT_PREFIX_MIN characters
 * without the prefix star) into out. At most max_terms terms of at
 * most 64 bytes each. Returns the number of terms (0: nothing to search for). */
int tkt_fts_query(const char *folded, char *out, size_t outlen, int max_terms);

/* Builds a highlighted snippet of original text: HTML-escaped, with words whose folded form starts with one of
 * the query's terms wrapped in <mark></mark>, cut to about `words` words around the first match. Returns a new
 * string (caller frees), or NULL when no word of text matches. */
char *tkt_snippet_new(const char *text, const char *folded_query, int words);

/* Lower-cases a tag in place, the same way wherever tags are compared: A-Z as in English (I -> i), and the
 * Turkish capitals Ç Ğ İ Ö Ş Ü Â Î Û to ç ğ i ö ş ü â î û. The result is never longer than the input. */
void tkt_tag_lower(char *s);

#endif
