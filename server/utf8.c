/* utf8.c - strict UTF-8 validation. */
#include "utf8.h"

bool utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned char c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
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
            return false;           /* continuation byte, C0, C1, F5..FF */
        }
        if (len - i <= n)
            return false;
        if (p[i + 1] < lo || p[i + 1] > hi)
            return false;
        for (size_t k = 2; k <= n; k++) {
            if (p[i + k] < 0x80 || p[i + k] > 0xBF)
                return false;
        }
        i += n + 1;
    }
    return true;
}
