/* A minimal assertion helper for the C unit tests: each failure prints file:line and the expression. */
#ifndef DESTEK_CHECK_H
#define DESTEK_CHECK_H
#include <stdio.h>
#include <stdlib.h>

static int check_failures;
#define CHECK(expr) do { if (!(expr)) { fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #expr); \
                                         check_failures++; } } while (0)
#define CHECK_DONE() do { if (check_failures) { fprintf(stderr, "%d check(s) failed\n", check_failures); return 1; } \
                          printf("ok\n"); return 0; } while (0)
#endif
