/* event_time.c - the publication time of a stored event. */
#include "event_time.h"

#include <string.h>
#include <time.h>

/* The member is looked for only this far in: before any user data. */
#define OCCURRED_SEARCH_BYTES 64

static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int64_t event_occurred_ms(const char *body, size_t len)
{
    static const char key[] = ",\"occurred\":\"";
    static const char shape[] = "0000-00-00T00:00:00.000Z\"";
    size_t klen = sizeof(key) - 1, slen = sizeof(shape) - 1;
    if (body == NULL || len < 2 || memcmp(body, "{\"id\":", 6) != 0)
        return -1;
    size_t limit = len < OCCURRED_SEARCH_BYTES ? len : OCCURRED_SEARCH_BYTES;
    const char *at = NULL;
    for (size_t i = 0; i + klen <= limit; i++) {
        if (memcmp(body + i, key, klen) == 0) {
            at = body + i + klen;
            break;
        }
    }
    if (at == NULL || (size_t)(at - body) + slen > len)
        return -1;
    for (size_t i = 0; i < slen; i++) {
        if (shape[i] != '0' && at[i] != shape[i])
            return -1;
    }
    struct tm tm = { 0 };
    int year = digits(at, 4), mon = digits(at + 5, 2), day = digits(at + 8, 2);
    int hour = digits(at + 11, 2), min = digits(at + 14, 2), sec = digits(at + 17, 2);
    int ms = digits(at + 20, 3);
    if (year < 1970 || mon < 1 || mon > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 ||
        min < 0 || min > 59 || sec < 0 || sec > 60 || ms < 0)
        return -1;
    tm.tm_year = year - 1900;
    tm.tm_mon = mon - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = min;
    tm.tm_sec = sec;
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    return (int64_t)t * 1000 + ms;
}
