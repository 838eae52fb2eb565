/* test_time_arg.c - protects time_arg.c, how `--since` reads a time:
 * RFC 3339 timestamps (offsets, fractions, lowercase t/z, calendar limits
 * such as Feb 29 only in leap years) and durations back from now (30m, 2h,
 * 7d), each strictly: anything else is refused. Also the RFC 3339 UTC text
 * the commands hand to PostgreSQL. If this fails, an operator's
 * `replay --since` could select the wrong deliveries. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rows.h"
#include "time_arg.h"

#define T2026 1769860800000LL    /* 2026-01-31T12:00:00Z */
#define NOW T2026
#define MIN 60000LL
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)

struct parse_case {
    const char *text;
    int rc;
    int64_t ms;
};

static const struct parse_case parse_cases[] = {
    { "2026-01-31T12:00:00Z", 0, T2026 },
    { "2026-01-31t12:00:00z", 0, T2026 },
    { "2026-01-31T12:00:00.5Z", 0, T2026 + 500 },
    { "2026-01-31T12:00:00.123456789Z", 0, T2026 + 123 },   /* kept to the ms */
    { "2026-01-31T13:30:00+01:30", 0, T2026 },
    { "2026-01-31T10:00:00-02:00", 0, T2026 },
    { "2026-01-31T12:00:00+00:00", 0, T2026 },
    { "2024-02-29T23:59:59Z", 0, 1709251199000LL },         /* a leap day */
    { "2000-03-01T00:00:00Z", 0, 951868800000LL },
    { "1970-01-01T00:00:00Z", 0, 0 },
    { "9999-12-31T23:59:59Z", 0, 253402300799000LL },
    { "30m", 0, NOW - 30 * MIN },
    { "2h", 0, NOW - 2 * HOUR },
    { "7d", 0, NOW - 7 * DAY },
    { "2w", 0, NOW - 14 * DAY },
    { "45s", 0, NOW - 45000 },
    { "0s", 0, NOW },
    { "999999999w", 0, 0 },                                  /* before 1970: the epoch */
    { "2025-02-29T00:00:00Z", -1, 0 },                       /* not a leap year */
    { "1900-02-29T00:00:00Z", -1, 0 },
    { "2026-13-01T00:00:00Z", -1, 0 },
    { "2026-00-01T00:00:00Z", -1, 0 },
    { "2026-04-31T00:00:00Z", -1, 0 },
    { "2026-01-00T00:00:00Z", -1, 0 },
    { "2026-01-31T24:00:00Z", -1, 0 },
    { "2026-01-31T12:60:00Z", -1, 0 },
    { "2026-01-31T12:00:60Z", -1, 0 },                       /* no leap seconds */
    { "2026-01-31T12:00:00", -1, 0 },                        /* no zone */
    { "2026-01-31 12:00:00Z", -1, 0 },
    { "2026-01-31", -1, 0 },
    { "2026-1-31T12:00:00Z", -1, 0 },
    { "2026-01-31T12:00Z", -1, 0 },
    { "2026-01-31T12:00:00.Z", -1, 0 },
    { "2026-01-31T12:00:00.1234567890Z", -1, 0 },
    { "2026-01-31T12:00:00+0100", -1, 0 },
    { "2026-01-31T12:00:00+24:00", -1, 0 },
    { "2026-01-31T12:00:00+01:60", -1, 0 },
    { "2026-01-31T12:00:00Zjunk", -1, 0 },
    { "2026-01-31T12:00:00+01:00x", -1, 0 },
    { " 2026-01-31T12:00:00Z", -1, 0 },
    { "1969-12-31T23:59:59Z", -1, 0 },
    { "1970-01-01T00:30:00+01:00", -1, 0 },                  /* before the epoch */
    { "+002026-01-31T12:00:00Z", -1, 0 },
    { "", -1, 0 },
    { "m", -1, 0 },
    { "30", -1, 0 },                                         /* a unit is required */
    { "30M", -1, 0 },
    { "30min", -1, 0 },
    { "1.5h", -1, 0 },
    { "-2h", -1, 0 },
    { "+2h", -1, 0 },
    { "2h ", -1, 0 },
    { " 2h", -1, 0 },
    { "2 h", -1, 0 },
    { "2y", -1, 0 },
    { "2ms", -1, 0 },
    { "1h30m", -1, 0 },
    { "1000000000s", -1, 0 },                                /* more than 9 digits */
    { "0x10s", -1, 0 },
    { "now", -1, 0 },
};

static void test_parse(void **state)
{
    const struct parse_case *c = *state;
    struct hk_error err;
    hk_error_clear(&err);
    int64_t ms = -1;
    assert_int_equal(time_arg_parse(c->text, NOW, &ms, &err), c->rc);
    if (c->rc == 0) {
        assert_int_equal(ms, c->ms);
    } else {
        assert_int_equal(err.code, HK_ERR_INVALID);
        assert_non_null(strstr(err.detail, "is not a time"));
        assert_non_null(strstr(err.detail, "RFC 3339"));
    }
}

struct format_case {
    int64_t ms;
    const char *text;
};

static const struct format_case format_cases[] = {
    { 0, "1970-01-01T00:00:00.000Z" },
    { T2026, "2026-01-31T12:00:00.000Z" },
    { T2026 + 7, "2026-01-31T12:00:00.007Z" },
    { 1709251199999LL, "2024-02-29T23:59:59.999Z" },
    { 951868800000LL - 1, "2000-02-29T23:59:59.999Z" },
    { 253402300799000LL, "9999-12-31T23:59:59.000Z" },
    { -5, "1970-01-01T00:00:00.000Z" },                      /* clamped */
};

static void test_format(void **state)
{
    const struct format_case *c = *state;
    char out[TIME_ARG_RFC3339_LEN];
    time_arg_format(c->ms, out);
    assert_string_equal(out, c->text);
}

/* Every parsed timestamp formats back to the same instant. */
static void test_round_trip(void **state)
{
    (void)state;
    struct hk_error err;
    for (int64_t ms = 0; ms < 400LL * 365 * DAY; ms += 7 * DAY + 3 * HOUR + 12345) {
        char text[TIME_ARG_RFC3339_LEN];
        int64_t back = -1;
        time_arg_format(ms, text);
        assert_int_equal(time_arg_parse(text, NOW, &back, &err), 0);
        assert_int_equal(back, ms);
    }
}

int main(void)
{
    for (size_t i = 0; i < ROWS_COUNT(parse_cases); i++)
        rows_add(test_parse, &parse_cases[i], "parse \"%s\"", parse_cases[i].text);
    for (size_t i = 0; i < ROWS_COUNT(format_cases); i++)
        rows_add(test_format, &format_cases[i], "format %lld", (long long)format_cases[i].ms);
    rows_add(test_round_trip, NULL, "format then parse: 400 years, weekly");
    return rows_run("time_arg", NULL, NULL);
}
