/* test_event_time.c - protects event_time.c: the publication time read from
 * a stored event's bytes (the delivery latency metric depends on it), and
 * -1 for anything that does not start like a stored event. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "event_time.h"
#include "rows.h"

struct time_case {
    const char *body;
    int64_t want;
};

static const struct time_case time_cases[] = {
    { "{\"id\":\"EVabcdefghijklmnopqr\",\"occurred\":\"2026-01-02T03:04:05.678Z\",\"type\":\"a\"}",
      1767323045678 },
    { "{\"id\":\"EVabcdefghijklmnopqr\",\"occurred\":\"1970-01-01T00:00:00.000Z\"", 0 },
    { "{\"id\":\"EVabcdefghijklmnopqr\",\"occurred\":\"2024-02-29T23:59:59.999Z\",\"data\":{}}",
      1709251199999 },
    /* not the shape of a stored event */
    { "", -1 },
    { "{\"occurred\":\"2026-01-02T03:04:05.678Z\"}", -1 },
    { "{\"id\":\"EVabcdefghijklmnopqr\",\"occurred\":\"2026-01-02T03:04:05Z\"}", -1 },
    { "{\"id\":\"EVabcdefghijklmnopqr\",\"occurred\":\"2026-13-02T03:04:05.678Z\"}", -1 },
    { "{\"id\":\"EVabcdefghijklmnopqr\",\"occurred\":\"2026-01-02T03:04:05.678", -1 },
    { "{\"id\":\"EVabcdefghijklmnopqr\",\"occurred\":\"2026-01-02 03:04:05.678Z\"}", -1 },
    { "{\"id\":\"EVabcdefghijklmnopqr\",\"type\":\"a\",\"version\":\"1.0.0\",\"data\":"
      "{\"x\":1,\"occurred\":\"2026-01-02T03:04:05.678Z\"}}", -1 },   /* user data: too far */
};

static void test_time(void **state)
{
    const struct time_case *c = *state;
    assert_int_equal(event_occurred_ms(c->body, strlen(c->body)), c->want);
}

/* The calendar arithmetic agrees with timegm on every day (day 29..31 of
 * short months included: both count on into the next month) of years
 * around leap-year rules (1970s, 2000, 2100, 2400). */
static void test_agrees_with_timegm(void **state)
{
    (void)state;
    static const int years[] = { 1970, 1971, 1972, 1999, 2000, 2001, 2024, 2026, 2099, 2100,
                                 2104, 2399, 2400, 9999 };
    for (size_t y = 0; y < ROWS_COUNT(years); y++) {
        for (int mon = 1; mon <= 12; mon++) {
            for (int day = 1; day <= 31; day++) {
                char body[128];
                snprintf(body, sizeof(body),
                         "{\"id\":\"EVabcdefghijklmnopqr\","
                         "\"occurred\":\"%04d-%02d-%02dT23:59:60.123Z\"}",
                         years[y], mon, day);
                struct tm tm = { .tm_year = years[y] - 1900, .tm_mon = mon - 1, .tm_mday = day,
                                 .tm_hour = 23, .tm_min = 59, .tm_sec = 60 };
                int64_t want = (int64_t)timegm(&tm) * 1000 + 123;
                assert_int_equal(event_occurred_ms(body, strlen(body)), want);
            }
        }
    }
}

int main(void)
{
    rows_add(test_agrees_with_timegm, NULL, "agrees with timegm");
    for (size_t i = 0; i < ROWS_COUNT(time_cases); i++) {
        char name[160];
        rows_quote(name, sizeof(name), time_cases[i].body, strlen(time_cases[i].body));
        rows_add(test_time, &time_cases[i], "%s", name);
    }
    return rows_run("event_time", NULL, NULL);
}
