/* test_event_cursor.c - protects event_cursor.c, the opaque cursor of
 * GET /events: positions survive a round trip, the encoding is the
 * documented base64url of "<microseconds>.<event id>" (checked against
 * Python's base64.urlsafe_b64encode), and everything else a client could
 * send - padding, the standard alphabet, non-canonical bits, signs, leading
 * zeros, overflow, bad ids, stray bytes - is refused. */
#include <sodium.h>
#include <string.h>

#include "event_cursor.h"
#include "rows.h"

#define ID "EV0123456789abcdefAB"

struct good_case {
    int64_t us;
    const char *id;
    const char *cursor;      /* what Python writes for it */
};

static const struct good_case good_cases[] = {
    { 1732435200123000, ID, "MTczMjQzNTIwMDEyMzAwMC5FVjAxMjM0NTY3ODlhYmNkZWZBQg" },
    { 0, ID, "MC5FVjAxMjM0NTY3ODlhYmNkZWZBQg" },
    { INT64_MAX, ID, "OTIyMzM3MjAzNjg1NDc3NTgwNy5FVjAxMjM0NTY3ODlhYmNkZWZBQg" },
};

static void test_good(void **state)
{
    const struct good_case *c = *state;
    struct event_position pos = { .occurred_us = c->us }, back;
    memcpy(pos.id, c->id, sizeof(pos.id));
    char out[EVENT_CURSOR_MAX];
    assert_int_equal(event_cursor_encode(&pos, out), 0);
    assert_string_equal(out, c->cursor);
    assert_int_equal(event_cursor_decode(out, strlen(out), &back), 0);
    assert_true(back.occurred_us == c->us);
    assert_string_equal(back.id, c->id);
}

struct bad_case {
    const char *what;
    const char *text;
    size_t len;
};

static const struct bad_case bad_cases[] = {
    { "empty", S("") },
    { "padded", S("MC5FVjAxMjM0NTY3ODlhYmNkZWZBQg==") },
    { "standard alphabet", S("MC5FVjAxMjM0NTY3ODlhYmNkZWZBQg+") },
    { "non-canonical unused bits", S("MC5FVjAxMjM0NTY3ODlhYmNkZWZBQh") },
    { "cut", S("MC5FVjAxMjM0NTY3ODlhYmNkZWZBQ") },
    { "trailing space", S("MC5FVjAxMjM0NTY3ODlhYmNkZWZBQg ") },
    { "NUL inside", S("MC5FVjAxMjM0\0NTY3ODlhYmNkZWZBQg") },
    { "leading zero", S("MDEuRVYwMTIzNDU2Nzg5YWJjZGVmQUI") },
    { "negative", S("LTEuRVYwMTIzNDU2Nzg5YWJjZGVmQUI") },
    { "beyond int64", S("OTIyMzM3MjAzNjg1NDc3NTgwOC5FVjAxMjM0NTY3ODlhYmNkZWZBQg") },
    { "letter in the time", S("MXguRVYwMTIzNDU2Nzg5YWJjZGVmQUI") },
    { "no time", S("LkVWMDEyMzQ1Njc4OWFiY2RlZkFC") },
    { "comma for dot", S("MSxFVjAxMjM0NTY3ODlhYmNkZWZBQg") },
    { "bad id character", S("MS5FVjAxMjM0NTY3ODlhYmNkZWZBIQ") },
    { "id too long", S("MS5FVjAxMjM0NTY3ODlhYmNkZWZBQng") },
    { "id without EV", S("MS5FWDAxMjM0NTY3ODlhYmNkZWZBQg") },
    { "not base64", S("!!!!") },
    { "far too long", S("MC5FVjAxMjM0NTY3ODlhYmNkZWZBQgMC5FVjAxMjM0NTY3ODlhYmNkZWZBQgMC5FVjAxMjM0NTY3ODlhYmNkZWZBQg") },
};

static void test_bad(void **state)
{
    const struct bad_case *c = *state;
    struct event_position pos;
    assert_int_equal(event_cursor_decode(c->text, c->len, &pos), -1);
}

static void test_encode_refuses_invalid_positions(void **state)
{
    (void)state;
    char out[EVENT_CURSOR_MAX];
    struct event_position pos = { .occurred_us = -1, .id = ID };
    assert_int_equal(event_cursor_encode(&pos, out), -1);
    pos.occurred_us = 1;
    memcpy(pos.id, "EV0123456789abcdef-B", sizeof(pos.id));
    assert_int_equal(event_cursor_encode(&pos, out), -1);
}

static int setup(void **state)
{
    (void)state;
    return sodium_init() < 0 ? -1 : 0;
}

int main(void)
{
    for (size_t i = 0; i < ROWS_COUNT(good_cases); i++)
        rows_add(test_good, &good_cases[i], "round trip %lld", (long long)good_cases[i].us);
    for (size_t i = 0; i < ROWS_COUNT(bad_cases); i++)
        rows_add(test_bad, &bad_cases[i], "refused: %s", bad_cases[i].what);
    rows_add(test_encode_refuses_invalid_positions, NULL, "encode refuses invalid positions");
    return rows_run("event_cursor", setup, NULL);
}
