/* xmalloc.h - allocation that aborts on out-of-memory.
 *
 * hookd never tries to limp on after malloc fails: every allocation goes
 * through this family, which logs and aborts, so callers never carry
 * half-handled NULL checks for memory. */
#ifndef HOOKD_XMALLOC_H
#define HOOKD_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Returns a newly allocated formatted string; the caller frees it. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
