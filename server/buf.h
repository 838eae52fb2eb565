/* buf.h - a growable byte buffer that never grows past its cap.
 *
 * Anything fed by the network (request bodies, captured response bodies)
 * goes into a buf with a cap, so a hostile peer cannot make hookd allocate
 * without bound. The data is always NUL-terminated for convenience; len does
 * not count the terminator. */
#ifndef HOOKD_BUF_H
#define HOOKD_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct buf {
    char *data;     /* owned; NULL until the first append */
    size_t len;
    size_t alloc;
    size_t cap;     /* maximum len; appends beyond it fail */
};

void buf_init(struct buf *b, size_t cap);
/* Appends n bytes. Returns 0, or -1 (nothing appended) when the cap would be
 * exceeded. */
int buf_append(struct buf *b, const void *data, size_t n) __attribute__((warn_unused_result));
/* Appends a NUL-terminated string; same contract as buf_append. */
int buf_append_str(struct buf *b, const char *s) __attribute__((warn_unused_result));
/* Appends as much of data as fits under the cap; returns true if truncated. */
bool buf_append_truncating(struct buf *b, const void *data, size_t n);
/* Hands the data to the caller (who frees it) and resets the buffer. Never
 * returns NULL: an empty buffer yields an empty string. */
char *buf_steal(struct buf *b);
void buf_reset(struct buf *b);
void buf_free(struct buf *b);

#endif
