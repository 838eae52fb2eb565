/* json_write.c - JSON strings, integers and member names into a buf. */
#include "json_write.h"

#include <string.h>

int json_write_string(struct buf *b, const char *s)
{
    if (s == NULL)
        return buf_append(b, "null", 4);
    static const char hex[] = "0123456789abcdef";
    if (buf_append(b, "\"", 1) != 0)
        return -1;
    const char *run = s;   /* bytes written as they are, not yet appended */
    for (const char *p = s;; p++) {
        unsigned char c = (unsigned char)*p;
        if (c != '\0' && c != '"' && c != '\\' && c >= 0x20 && c != 0x7f)
            continue;
        if (buf_append(b, run, (size_t)(p - run)) != 0)
            return -1;
        if (c == '\0')
            break;
        char esc[6] = { '\\', (char)c, 0, 0, 0, 0 };
        size_t n = 2;
        switch (c) {
        case '"': case '\\': break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 0xf];
            n = 6;
            break;
        }
        if (buf_append(b, esc, n) != 0)
            return -1;
        run = p + 1;
    }
    return buf_append(b, "\"", 1);
}

int json_write_int(struct buf *b, int64_t v)
{
    char digits[24];
    size_t i = sizeof(digits);
    /* In unsigned arithmetic, so that INT64_MIN has a magnitude. */
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        digits[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u > 0);
    if (v < 0)
        digits[--i] = '-';
    return buf_append(b, digits + i, sizeof(digits) - i);
}

int json_write_key(struct buf *b, const char *key, int first)
{
    /* ,"key": in one append when it fits the scratch (every key of the
     * attempt records does); keys are plain names, written as given. */
    char text[64];
    size_t n = strlen(key), at = 0;
    if (n + 4 > sizeof(text)) {
        if ((!first && buf_append(b, ",", 1) != 0) || json_write_string(b, key) != 0)
            return -1;
        return buf_append(b, ":", 1);
    }
    if (!first)
        text[at++] = ',';
    text[at++] = '"';
    memcpy(text + at, key, n + 1); /* the closing quote then overwrites the NUL */
    at += n;
    text[at++] = '"';
    text[at++] = ':';
    return buf_append(b, text, at);
}
