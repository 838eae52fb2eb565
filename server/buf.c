/* buf.c - a growable byte buffer that never grows past its cap. */
#include "buf.h"

#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

void buf_init(struct buf *b, size_t cap)
{
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
    b->cap = cap;
}

static void buf_reserve(struct buf *b, size_t need)
{
    if (need + 1 <= b->alloc)
        return;
    size_t alloc = b->alloc ? b->alloc : 256;
    while (alloc < need + 1)
        alloc *= 2;
    b->data = xrealloc(b->data, alloc);
    b->alloc = alloc;
}

int buf_append(struct buf *b, const void *data, size_t n)
{
    if (n > b->cap - b->len)
        return -1;
    buf_reserve(b, b->len + n);
    if (n > 0)
        memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int buf_append_str(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

bool buf_append_truncating(struct buf *b, const void *data, size_t n)
{
    size_t room = b->cap - b->len;
    bool truncated = n > room;
    int rc = buf_append(b, data, truncated ? room : n);
    (void)rc; /* cannot fail: we never ask for more than the room left */
    return truncated;
}

char *buf_steal(struct buf *b)
{
    char *data = b->data ? b->data : xstrdup("");
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
    return data;
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void buf_free(struct buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
}
