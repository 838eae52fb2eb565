/* event_cursor.c - encoding and strict decoding of event list cursors. */
#include "event_cursor.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define PLAIN_MAX (19 + 1 + TOKEN_ID_LEN)   /* INT64_MAX has 19 digits */

static int is_alnum_ascii(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

int event_id_valid(const char *id, size_t len)
{
    if (len != TOKEN_ID_LEN || id[0] != 'E' || id[1] != 'V')
        return 0;
    for (size_t i = 2; i < len; i++) {
        if (!is_alnum_ascii(id[i]))
            return 0;
    }
    return 1;
}

int event_cursor_encode(const struct event_position *pos, char out[EVENT_CURSOR_MAX])
{
    char plain[PLAIN_MAX + 1];
    if (pos->occurred_us < 0 || !event_id_valid(pos->id, strnlen(pos->id, TOKEN_ID_LEN + 1)))
        return -1;
    int n = snprintf(plain, sizeof(plain), "%lld.%s", (long long)pos->occurred_us, pos->id);
    if (n < 0 || (size_t)n >= sizeof(plain))
        return -1;
    sodium_bin2base64(out, EVENT_CURSOR_MAX, (const unsigned char *)plain, (size_t)n,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return 0;
}

int event_cursor_decode(const char *text, size_t len, struct event_position *pos)
{
    unsigned char plain[PLAIN_MAX + 1];
    size_t plain_len = 0;
    const char *end = NULL;
    if (len == 0 || len >= EVENT_CURSOR_MAX ||
        sodium_base642bin(plain, PLAIN_MAX, text, len, NULL, &plain_len, &end,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        end != text + len)
        return -1;
    /* <digits>.<id>: the id is the last TOKEN_ID_LEN bytes. */
    if (plain_len < 2 + TOKEN_ID_LEN || plain[plain_len - TOKEN_ID_LEN - 1] != '.')
        return -1;
    size_t digits = plain_len - TOKEN_ID_LEN - 1;
    if (digits > 19 || (digits > 1 && plain[0] == '0'))
        return -1;
    unsigned long long us = 0;
    for (size_t i = 0; i < digits; i++) {
        if (plain[i] < '0' || plain[i] > '9')
            return -1;
        us = us * 10 + (unsigned long long)(plain[i] - '0');
    }
    if (us > (unsigned long long)INT64_MAX)
        return -1;
    const char *id = (const char *)plain + digits + 1;
    if (!event_id_valid(id, TOKEN_ID_LEN))
        return -1;
    pos->occurred_us = (int64_t)us;
    memcpy(pos->id, id, TOKEN_ID_LEN);
    pos->id[TOKEN_ID_LEN] = '\0';
    /* Canonical only: base64 with non-zero unused bits decodes too. */
    char again[EVENT_CURSOR_MAX];
    if (event_cursor_encode(pos, again) != 0 || strlen(again) != len ||
        memcmp(again, text, len) != 0)
        return -1;
    return 0;
}
