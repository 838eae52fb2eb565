/* event_time.c - the publication time of a stored event. */
#include "event_time.h"

#include <string.h>

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

/* Days from 1970-01-01 to year-mon-day in the proleptic Gregorian
 * calendar (a day past the month's end counts on into the next month, as
 * timegm has it); arithmetic instead of timegm, which this per-attempt path
 * called once per delivery. */
static int64_t days_from_civil(int year, int mon, int day)
{
    int64_t y = year - (mon <= 2);
    int64_t era = y / 400;                              /* year >= 1970: never negative */
    int64_t yoe = y - era * 400;                        /* [0, 399] */
    int64_t doy = (153 * (mon + (mon > 2 ? -3 : 9)) + 2) / 5 + day - 1;   /* [0, 365] */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;                    /* [0, 146096] */
    return era * 146097 + doe - 719468;
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
    int year = digits(at, 4), mon = digits(at + 5, 2), day = digits(at + 8, 2);
    int hour = digits(at + 11, 2), min = digits(at + 14, 2), sec = digits(at + 17, 2);
    int ms = digits(at + 20, 3);
    if (year < 1970 || mon < 1 || mon > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 ||
        min < 0 || min > 59 || sec < 0 || sec > 60 || ms < 0)
        return -1;
    int64_t t = (days_from_civil(year, mon, day) * 24 + hour) * 3600 + (int64_t)min * 60 + sec;
    return t * 1000 + ms;
}
