/* A ZIP archive written in memory (PKWARE APPNOTE 6.3: local headers, stored entries, central directory), for
 * downloads such as a contact's KVKK export. Entries are stored, not compressed: what goes in is mostly JSON and
 * files that are compressed already (images, PDFs), and it keeps the writer small and dependency-free. Names are
 * UTF-8 (flag bit 11). Sizes and counts stay below ZIP64's limits (4 GiB, 65,535 entries): zip_add refuses more. */
#ifndef DESTEK_ZIP_H
#define DESTEK_ZIP_H
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct zip;

struct zip *zip_new(void);
/* Adds a file: name (a relative path with '/' separators; cleaned of leading '/', "." and ".." parts, backslashes
 * and control characters) and len bytes of data (copied). 0, or -1 when the archive would grow past ZIP's limits. */
int zip_add(struct zip *z, const char *name, const void *data, size_t len, time_t mtime);
/* Ends the archive and hands its bytes to the caller (malloc'd, *len bytes); frees z. NULL on out of memory. */
char *zip_finish_take(struct zip *z, size_t *len);
void zip_free(struct zip *z);
/* CRC-32 (ISO-HDLC, as ZIP and gzip use it) of len bytes, continuing from crc (0 to start). */
uint32_t zip_crc32(uint32_t crc, const void *data, size_t len);

#endif
