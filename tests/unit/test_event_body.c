/* test_event_body.c - protects event_body.c, which builds the stored text
 * of events published through POST /events: the time as hookd.rfc3339
 * writes it (leap days, centuries, the last millisecond of 9999), the
 * version check that must refuse exactly what hookd.publish's pattern
 * refuses, and the body with its strings escaped as PostgreSQL's to_json
 * escapes them. A wrong byte here is a stored event that differs from
 * what an SQL publish stores, and a receiver's verification that fails. */
#include "rows.h"

#include <stdlib.h>
#include <string.h>

#include "event_body.h"

struct time_case {
    int64_t ms;
    const char *want;
};

static const struct time_case time_cases[] = {
    { 0, "1970-01-01T00:00:00.000Z" },
    { 1000, "1970-01-01T00:00:01.000Z" },
    { 951782400000, "2000-02-29T00:00:00.000Z" },
    { 1709251199999, "2024-02-29T23:59:59.999Z" },
    { 1767323045678, "2026-01-02T03:04:05.678Z" },
    { 4107542400000, "2100-03-01T00:00:00.000Z" },
    { 253402300799999, "9999-12-31T23:59:59.999Z" },
};

static void test_time(void **state)
{
    const struct time_case *c = *state;
    char out[EVENT_RFC3339_LEN + 1];
    event_rfc3339(out, c->ms);
    assert_string_equal(out, c->want);
}

struct version_case {
    const char *version;
    bool valid;
};

/* hookd.publish's pattern: ^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)
 * (-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$
 * and at most 64 characters (test_publish_fast.py asks PostgreSQL too). */
static const struct version_case version_cases[] = {
    { "1.0.0", true },
    { "0.0.0", true },
    { "10.20.30", true },
    { "1.0.0-alpha", true },
    { "1.0.0-alpha.1", true },
    { "1.0.0-0.3.7", true },
    { "1.0.0-01", true },              /* the pattern lets leading zeros through here */
    { "1.0.0-x-y-z.--", true },
    { "1.0.0+build.5", true },
    { "1.0.0+b-c", true },
    { "1.0.0-rc.1+build.1", true },
    { "1.2.3----RC-SNAPSHOT.12.9.1--.12+788", true },
    { "", false },
    { "1", false },
    { "1.0", false },
    { "v1", false },
    { "v1.0.0", false },
    { "01.0.0", false },
    { "1.00.0", false },
    { "1.0.00", false },
    { "1.0.0.0", false },
    { "1.0.0-", false },
    { "1.0.0+", false },
    { "1.0.0-+", false },
    { "1.0.0-a.", false },
    { "1.0.0-a..b", false },
    { "1.0.0-a+b+c", false },
    { "1.0.0-a_b", false },
    { "1.0.0 ", false },
    { " 1.0.0", false },
    { "1.0.0\n", false },
    { "1.0.0+build-\xc3\xa9", false },
    { "-1.0.0", false },
    { "1..0", false },
    { "1.0.0-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", true },  /* 64 */
    { "1.0.0-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false }, /* 65 */
};

static void test_version(void **state)
{
    const struct version_case *c = *state;
    assert_int_equal(event_version_valid(c->version), c->valid);
}

/* The text hookd.publish builds for these fields. */
static void test_body(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 4096);
    const char *data = "{\"n\": 1, \"s\":\"\\u00e9\"}";
    assert_int_equal(event_body_write(&b, "EV0123456789abcdefGH", "2026-01-02T03:04:05.678Z",
                                      "order.updated", "1.0.0-rc.1", data, strlen(data)),
                     0);
    assert_string_equal(b.data, "{\"id\":\"EV0123456789abcdefGH\","
                                "\"occurred\":\"2026-01-02T03:04:05.678Z\","
                                "\"type\":\"order.updated\",\"version\":\"1.0.0-rc.1\","
                                "\"data\":{\"n\": 1, \"s\":\"\\u00e9\"}}");
    buf_free(&b);
}

/* Strings escaped as PostgreSQL's escape_json does: named escapes for
 * \b \f \n \r \t, \u00xx in lowercase hex for the other control bytes,
 * 0x7f, '/' and UTF-8 as they are. */
static void test_escapes(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 4096);
    assert_int_equal(event_body_write(&b, "a\"b\\c", "\b\f\n\r\t", "\x01\x1f\x1b", "/\x7f\xc3\xa9",
                                      "{}", 2),
                     0);
    assert_string_equal(b.data, "{\"id\":\"a\\\"b\\\\c\",\"occurred\":\"\\b\\f\\n\\r\\t\","
                                "\"type\":\"\\u0001\\u001f\\u001b\","
                                "\"version\":\"/\x7f\xc3\xa9\",\"data\":{}}");
    buf_free(&b);
}

static void test_cap(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 40);
    assert_int_equal(event_body_write(&b, "EV0123456789abcdefGH", "2026-01-02T03:04:05.678Z",
                                      "order.updated", "1.0.0", "{}", 2),
                     -1);
    assert_true(b.len <= 40);
    buf_free(&b);
}

int main(void)
{
    for (size_t i = 0; i < ROWS_COUNT(time_cases); i++)
        rows_add(test_time, &time_cases[i], "time %s", time_cases[i].want);
    for (size_t i = 0; i < ROWS_COUNT(version_cases); i++) {
        char name[128];
        rows_quote(name, sizeof(name), version_cases[i].version,
                   strlen(version_cases[i].version));
        rows_add(test_version, &version_cases[i], "version '%s' %s", name,
                 version_cases[i].valid ? "valid" : "refused");
    }
    rows_add(test_body, NULL, "the body hookd.publish builds");
    rows_add(test_escapes, NULL, "strings escaped as to_json escapes them");
    rows_add(test_cap, NULL, "the cap is reported, never overrun");
    return rows_run("event_body", NULL, NULL);
}
