/* Logging: whole lines written with one call so that threads do not interleave. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static enum log_level min_level = LOG_INFO;
static const char *const level_names[] = { "DEBUG", "INFO", "WARN", "ERROR" };

void log_set_level(enum log_level min) { min_level = min; }

void log_msg(enum log_level level, const char *module, const char *fmt, ...)
{
  if (level < min_level) return;
  char line[2048];
  struct timeval tv;
  gettimeofday(&tv, NULL);
  struct tm tm;
  gmtime_r(&tv.tv_sec, &tm);
  int n = (int)strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
  n += snprintf(line + n, sizeof line - n, ".%03dZ %s %s: ", (int)(tv.tv_usec / 1000), level_names[level], module);
  va_list ap;
  va_start(ap, fmt);
  int m = vsnprintf(line + n, sizeof line - n, fmt, ap);
  va_end(ap);
  n = (m < 0 || (size_t)(n + m) >= sizeof line - 1) ? (int)sizeof line - 2 : n + m;
  /* Control characters from user input (paths, e-mails) must not forge log lines. */
  for (char *p = line; p < line + n; p++)
    if ((unsigned char)*p < 0x20) *p = ' ';
  line[n++] = '\n';
  ssize_t w = write(STDERR_FILENO, line, (size_t)n);
  (void)w;
}
