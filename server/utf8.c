/* utf8.c - strict UTF-8 validation. */
#include "utf8.h"

#include <stdint.h>
#include <string.h>

#include "xmalloc.h"

/* Length of the valid UTF-8 sequence at s[0..len), or 0 when invalid. */
static size_t sequence_len(const unsigned char *p, size_t len);

/* Index of the first byte at or after i that is not ASCII (len if none),
 * eight bytes at a time: request bodies are mostly ASCII, and a publish
 * checks its body several times. */
static size_t skip_ascii(const unsigned char *p, size_t len, size_t i)
{
    for (; i + sizeof(uint64_t) <= len; i += sizeof(uint64_t)) {
        uint64_t word;
        memcpy(&word, p + i, sizeof(word));
        if ((word & UINT64_C(0x8080808080808080)) != 0)
            break;
    }
    while (i < len && p[i] < 0x80)
        i++;
    return i;
}

bool utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = skip_ascii(p, len, 0); i < len; i = skip_ascii(p, len, i)) {
        size_t n = sequence_len(p + i, len - i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

char *utf8_sanitize(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    char *out = xmalloc(len * 3 + 1);
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        size_t n = p[i] == 0 ? 0 : sequence_len(p + i, len - i);
        if (n == 0) {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
            continue;
        }
        memcpy(out + o, p + i, n);
        o += n;
        i += n;
    }
    out[o] = '\0';
    return out;
}

size_t utf8_char_len(const char *s, size_t len)
{
    return sequence_len((const unsigned char *)s, len);
}

static size_t sequence_len(const unsigned char *p, size_t len)
{
    unsigned char c = p[0];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF; /* bounds of the second byte */
    if (c >= 0xC2 && c <= 0xDF) {
        n = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 2;
        if (c == 0xE0)
            lo = 0xA0;          /* overlong */
        else if (c == 0xED)
            hi = 0x9F;          /* UTF-16 surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 3;
        if (c == 0xF0)
            lo = 0x90;          /* overlong */
        else if (c == 0xF4)
            hi = 0x8F;          /* above U+10FFFF */
    } else {
        return 0;               /* continuation byte, C0, C1, F5..FF */
    }
    if (len <= n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t k = 2; k <= n; k++) {
        if (p[k] < 0x80 || p[k] > 0xBF)
            return 0;
    }
    return n + 1;
}
