/* test_event_time.c - protects event_time.c: the publication time read from
 * a stored event's bytes (the delivery latency metric depends on it), and
 * -1 for anything that does not start like a stored event. */
#include <string.h>

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

int main(void)
{
    for (size_t i = 0; i < ROWS_COUNT(time_cases); i++) {
        char name[160];
        rows_quote(name, sizeof(name), time_cases[i].body, strlen(time_cases[i].body));
        rows_add(test_time, &time_cases[i], "%s", name);
    }
    return rows_run("event_time", NULL, NULL);
}
