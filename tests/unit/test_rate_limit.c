/* test_rate_limit.c - protects rate_limit.c, the per-tenant token buckets
 * behind the API's 429: a full bucket lets a burst through, then requests
 * pass at the rate, Retry-After says when the next one may come, keys are
 * independent, and a limit of 0 means none. */
#include "rows.h"

#include "rate_limit.h"

struct take_case {
    const char *what;
    double rate, burst;
    int64_t at_ms;          /* when the request arrives (from 0) */
    bool allowed;
    long retry_after_ms;    /* when refused */
};

/* One bucket, requests in order: rate 2/s, burst 3. */
static const struct take_case sequence[] = {
    { "burst 1", 2, 3, 0, true, 0 },
    { "burst 2", 2, 3, 0, true, 0 },
    { "burst 3", 2, 3, 0, true, 0 },
    { "empty", 2, 3, 0, false, 501 },
    { "half a token", 2, 3, 250, false, 251 },
    { "refilled one", 2, 3, 500, true, 0 },
    { "empty again", 2, 3, 500, false, 501 },
    { "long pause caps at burst", 2, 3, 100000, true, 0 },
    { "burst after pause 2", 2, 3, 100000, true, 0 },
    { "burst after pause 3", 2, 3, 100000, true, 0 },
    { "burst after pause, 4th", 2, 3, 100000, false, 501 },
};

static void test_sequence(void **state)
{
    (void)state;
    struct rate_limiter *rl = rate_limiter_new();
    for (size_t i = 0; i < ROWS_COUNT(sequence); i++) {
        const struct take_case *c = &sequence[i];
        long retry = 0;
        bool allowed = rate_limiter_take(rl, 7, c->rate, c->burst, c->at_ms, &retry);
        if (allowed != c->allowed || (!allowed && retry != c->retry_after_ms)) {
            rate_limiter_free(rl);
            fail_msg("%s: allowed %d retry %ld", c->what, allowed, retry);
        }
    }
    rate_limiter_free(rl);
}

static void test_unlimited(void **state)
{
    (void)state;
    struct rate_limiter *rl = rate_limiter_new();
    long retry = -1;
    for (int i = 0; i < 10000; i++)
        assert_true(rate_limiter_take(rl, 1, 0, 0, 0, &retry));
    assert_int_equal(retry, -1);
    rate_limiter_free(rl);
}

static void test_keys_are_independent(void **state)
{
    (void)state;
    struct rate_limiter *rl = rate_limiter_new();
    long retry = 0;
    /* Many tenants (the table grows past its first size) each get their own burst. */
    for (int64_t key = 0; key < 1000; key++) {
        assert_true(rate_limiter_take(rl, key, 1, 1, 0, &retry));
        assert_false(rate_limiter_take(rl, key, 1, 1, 0, &retry));
    }
    for (int64_t key = 0; key < 1000; key++)
        assert_true(rate_limiter_take(rl, key, 1, 1, 1000, &retry));
    rate_limiter_free(rl);
}

static void test_burst_below_one_is_one(void **state)
{
    (void)state;
    struct rate_limiter *rl = rate_limiter_new();
    long retry = 0;
    assert_true(rate_limiter_take(rl, 1, 0.5, 0.1, 0, &retry));
    assert_false(rate_limiter_take(rl, 1, 0.5, 0.1, 0, &retry));
    assert_int_equal(retry, 2001);
    rate_limiter_free(rl);
}

int main(void)
{
    rows_add(test_sequence, NULL, "a bucket drains, refills, caps at its burst");
    rows_add(test_unlimited, NULL, "rate 0 is unlimited");
    rows_add(test_keys_are_independent, NULL, "1000 keys, one bucket each");
    rows_add(test_burst_below_one_is_one, NULL, "a burst below one is one");
    return rows_run("rate_limit", NULL, NULL);
}
