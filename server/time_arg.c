/* time_arg.c - RFC 3339 timestamps and "30m"-style durations for `--since`. */
#include "time_arg.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define MS_PER_DAY 86400000LL

/* n digits at s into *out; false unless all are ASCII digits. */
static bool digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

static bool leap_year(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return m == 2 && leap_year(y) ? 29 : days[m - 1];
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; Howard Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    const int64_t era = y / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int parse_rfc3339(const char *s, int64_t *out_ms)
{
    int year, month, day, hour, minute, second, ms = 0;
    size_t len = strlen(s);
    if (len < 20 || !digits(s, 4, &year) || s[4] != '-' || !digits(s + 5, 2, &month) ||
        s[7] != '-' || !digits(s + 8, 2, &day) || (s[10] != 'T' && s[10] != 't') ||
        !digits(s + 11, 2, &hour) || s[13] != ':' || !digits(s + 14, 2, &minute) ||
        s[16] != ':' || !digits(s + 17, 2, &second))
        return -1;
    if (year < 1970 || month < 1 || month > 12 || day < 1 ||
        day > days_in_month(year, month) || hour > 23 || minute > 59 || second > 59)
        return -1;
    const char *p = s + 19;
    if (*p == '.') {
        int n = 0;
        p++;
        while (p[n] >= '0' && p[n] <= '9')
            n++;
        if (n < 1 || n > 9)
            return -1;
        for (int i = 0; i < 3; i++)
            ms = ms * 10 + (i < n ? p[i] - '0' : 0);
        p += n;
    }
    int offset_min = 0;
    if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
        offset_min = 0;
    } else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
        int oh, om;
        if (!digits(p + 1, 2, &oh) || !digits(p + 4, 2, &om) || oh > 23 || om > 59)
            return -1;
        offset_min = (oh * 60 + om) * (*p == '-' ? -1 : 1);
    } else {
        return -1;
    }
    int64_t t = days_from_civil(year, month, day) * MS_PER_DAY +
                ((int64_t)hour * 3600 + (int64_t)minute * 60 + second) * 1000 + ms -
                (int64_t)offset_min * 60000;
    if (t < 0)
        return -1; /* 1970-01-01T00:30:00+01:00 and the like */
    *out_ms = t;
    return 0;
}

static int parse_duration(const char *s, int64_t now_ms, int64_t *out_ms)
{
    size_t n = strspn(s, "0123456789");
    if (n < 1 || n > 9 || strlen(s) != n + 1)
        return -1;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    int64_t unit_ms;
    switch (s[n]) {
    case 's': unit_ms = 1000; break;
    case 'm': unit_ms = 60000; break;
    case 'h': unit_ms = 3600000; break;
    case 'd': unit_ms = MS_PER_DAY; break;
    case 'w': unit_ms = 7 * MS_PER_DAY; break;
    default: return -1;
    }
    /* At most 999999999 weeks: fits easily in 63 bits; clamp at the epoch. */
    int64_t t = now_ms - v * unit_ms;
    *out_ms = t < 0 ? 0 : t;
    return 0;
}

int time_arg_parse(const char *text, int64_t now_ms, int64_t *out_ms, struct hk_error *err)
{
    bool looks_like_date = strlen(text) >= 5 && text[4] == '-';
    int rc = looks_like_date ? parse_rfc3339(text, out_ms) : parse_duration(text, now_ms, out_ms);
    if (rc != 0)
        hk_error_set(err, HK_ERR_INVALID,
                     "'%.64s' is not a time: use RFC 3339 (2026-01-31T12:00:00Z) or a duration "
                     "back from now (30m, 2h, 7d)",
                     text);
    return rc;
}

void time_arg_format(int64_t ms, char out[TIME_ARG_RFC3339_LEN])
{
    /* Dates past 9999-12-31 cannot come from time_arg_parse; clamp anyway. */
    const uint64_t max_ms = (uint64_t)days_from_civil(9999, 12, 31) * MS_PER_DAY + MS_PER_DAY - 1;
    uint64_t u = ms < 0 ? 0 : (uint64_t)ms > max_ms ? max_ms : (uint64_t)ms;
    uint64_t rem = u % MS_PER_DAY;
    /* civil_from_days (Hinnant), for days >= 0 */
    uint64_t z = u / MS_PER_DAY + 719468;
    uint64_t era = z / 146097;
    uint64_t doe = z - era * 146097;
    uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    uint64_t mp = (5 * doy + 2) / 153;
    unsigned d = (unsigned)(doy - (153 * mp + 2) / 5 + 1) % 32;
    unsigned m = (unsigned)(mp < 10 ? mp + 3 : mp - 9) % 13;
    unsigned y = (unsigned)(yoe + era * 400 + (m <= 2)) % 10000;
    snprintf(out, TIME_ARG_RFC3339_LEN, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ", y, m, d,
             (unsigned)(rem / 3600000) % 24, (unsigned)(rem / 60000 % 60),
             (unsigned)(rem / 1000 % 60), (unsigned)(rem % 1000));
}
