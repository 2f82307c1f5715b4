/* destek_text.h — part of the helper library (libdestek_helpers.a): Turkish-aware folding for search, FTS5 query
 * building from what a person typed, and highlighted snippets. One implementation for every module: ticketing's
 * search (C) and Lua modules (destek.text.fold, destek.text.fts_query, destek.text.snippet) fold the same way, so
 * what one indexes the other can find. Pure functions, no state. */
#ifndef DESTEK_TEXT_H
#define DESTEK_TEXT_H
#include <stddef.h>

/* Folds UTF-8 text s (len bytes) for matching: ASCII lower-case; İ, I, ı -> i; ş -> s, ç -> c, ğ -> g, ö -> o,
 * ü -> u, â/î/û -> a/i/u (either case), other Latin-1 accented letters to their base letter; a combining dot
 * above (U+0307) is dropped. Other characters are copied. Returns a new NUL-terminated string (caller frees); the
 * result is never longer than the input. */
char *destek_fold_new(const char *s, size_t len);

/* Query terms shorter than this many characters match whole words only, longer ones are prefixes. */
#define DESTEK_PREFIX_MIN 3

/* Splits folded text into search terms (runs of letters/digits; any non-ASCII byte counts as a letter) and writes
 * an FTS5 query of quoted terms joined by AND ("kargo"* "iade"*; a term shorter than DESTEK_PREFIX_MIN characters
 * without the prefix star) into out. Terms hold letters and digits only, so nothing a person types can become FTS5
 * syntax (no quotes, operators, column filters or NEAR). At most max_terms terms of at most 64 bytes each. Returns
 * the number of terms (0: nothing to search for; out is then ""). */
int destek_fts_query(const char *folded, char *out, size_t outlen, int max_terms);

/* A highlighted snippet of original text: HTML-escaped, with words whose folded form starts with one of the
 * query's terms (the folded query) wrapped in <mark></mark>, cut to about `words` words around the first match.
 * Returns a new string (caller frees), or NULL when no word of text matches. */
char *destek_snippet_new(const char *text, const char *folded_query, int words);

#endif
