/* pg_binary.c - binary array parameters (network byte order throughout). */
#include "pg_binary.h"

static int put_u32(struct buf *b, uint32_t v)
{
    unsigned char out[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16),
                             (unsigned char)(v >> 8), (unsigned char)v };
    return buf_append(b, out, sizeof(out));
}

int pg_array_begin(struct buf *b, uint32_t elem_oid, uint32_t count)
{
    /* dimensions, flags (no NULLs), element type, then per dimension its
     * length and lower bound */
    if (put_u32(b, 1) != 0 || put_u32(b, 0) != 0 || put_u32(b, elem_oid) != 0 ||
        put_u32(b, count) != 0 || put_u32(b, 1) != 0)
        return -1;
    return 0;
}

int pg_array_text(struct buf *b, const char *s, size_t len)
{
    if (len > INT32_MAX || put_u32(b, (uint32_t)len) != 0 || buf_append(b, s, len) != 0)
        return -1;
    return 0;
}

int pg_array_int8(struct buf *b, int64_t v)
{
    uint64_t u = (uint64_t)v;
    if (put_u32(b, 8) != 0 || put_u32(b, (uint32_t)(u >> 32)) != 0 || put_u32(b, (uint32_t)u) != 0)
        return -1;
    return 0;
}
