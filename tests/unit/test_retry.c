/* test_retry.c - protects retry.c, when hookd tries a delivery again:
 * durations in settings ("250ms", "30s", bare seconds) with their bounds,
 * the retry schedule (the documented default of 30 retries, 1, 2, 4 .. 64
 * minutes; custom lists; refused specs with a message), which answers count
 * as delivered, gone or to retry, the jittered delay for retry n, and
 * Retry-After (delta-seconds or IMF-fixdate) honoured for 429 and 503 only
 * and capped. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "retry.h"
#include "rows.h"

#define SECOND 1000L
#define MINUTE (60 * SECOND)
#define HOUR (60 * MINUTE)
#define DAYS30 (30 * 24 * HOUR)   /* the longest delay: 2 592 000 000 ms */

/* Sun, 06 Nov 1994 08:49:37 GMT (Python: calendar.timegm(...)) */
#define T_1994 784111777LL
#define D_1994 "Sun, 06 Nov 1994 08:49:37 GMT"

/* ---- duration_parse_ms ------------------------------------------------- */

struct duration_case {
    const char *text;
    size_t len;
    int rc;
    long ms;
};

static const struct duration_case duration_cases[] = {
    { S("250ms"), 0, 250 },
    { S("30s"), 0, 30 * SECOND },
    { S("5m"), 0, 5 * MINUTE },
    { S("2h"), 0, 2 * HOUR },
    { S("7"), 0, 7 * SECOND },               /* a bare number is seconds */
    { S("0"), 0, 0 },
    { S("0ms"), 0, 0 },
    { S("1ms"), 0, 1 },
    { S("007s"), 0, 7 * SECOND },            /* leading zeros are taken */
    { S("720h"), 0, DAYS30 },                /* the longest */
    { S("43200m"), 0, DAYS30 },
    { S("2592000s"), 0, DAYS30 },
    { S("2592000"), 0, DAYS30 },
    { S("2592000000ms"), 0, DAYS30 },
    { "5s,2m", 2, 0, 5 * SECOND },           /* only len bytes count */
    { "30sx", 3, 0, 30 * SECOND },
    { "12", 1, 0, 1 * SECOND },
    { S("721h"), -1, 0 },                    /* longer than 30 days */
    { S("43201m"), -1, 0 },
    { S("2592001s"), -1, 0 },
    { S("2592000001ms"), -1, 0 },
    { S("99999999999h"), -1, 0 },
    { S("99999999999999999999999999"), -1, 0 },   /* would overflow a long */
    { S(""), -1, 0 },
    { "5s", 0, -1, 0 },
    { S("5x"), -1, 0 },
    { S("-1"), -1, 0 },
    { S("-1s"), -1, 0 },
    { S("+5s"), -1, 0 },
    { S("1.5s"), -1, 0 },
    { S(" 5s"), -1, 0 },
    { S("5s "), -1, 0 },
    { S("5 s"), -1, 0 },
    { S("5S"), -1, 0 },
    { S("5M"), -1, 0 },
    { S("5sec"), -1, 0 },
    { S("5mss"), -1, 0 },
    { S("5hs"), -1, 0 },
    { S("5d"), -1, 0 },
    { S("5us"), -1, 0 },
    { S("ms"), -1, 0 },
    { S("s"), -1, 0 },
    { S("0x10"), -1, 0 },
    { S("1e3"), -1, 0 },
    { S("5s\0"), -1, 0 },                   /* a NUL inside len */
};

static void test_duration(void **state)
{
    const struct duration_case *c = *state;
    long ms = -12345;
    assert_int_equal(duration_parse_ms(c->text, c->len, &ms), c->rc);
    if (c->rc == 0)
        assert_int_equal(ms, c->ms);
}

/* ---- retry_policy_init ------------------------------------------------- */

/* The documented default: retry n waits min(2^(n-1), 64) minutes. */
static void test_default_schedule(void **state)
{
    const char *spec = *state;
    struct retry_policy p;
    struct hk_error err;
    hk_error_clear(&err);
    assert_int_equal(retry_policy_init(&p, spec, 20, 3600 * SECOND, &err), 0);
    assert_int_equal(p.n_delays, 30);
    assert_int_equal(p.jitter_pct, 20);
    assert_int_equal(p.retry_after_max_ms, 3600 * SECOND);
    static const long first[8] = { 60000, 120000, 240000, 480000,
                                   960000, 1920000, 3840000, 3840000 };
    for (size_t n = 1; n <= 8; n++)
        assert_int_equal(p.delays_ms[n - 1], first[n - 1]);
    assert_int_equal(p.delays_ms[29], 3840000);
    long total = 0;
    for (size_t n = 1; n <= 30; n++)
        total += p.delays_ms[n - 1];
    /* 127 + 23 * 64 = 1599 minutes: 26.65 hours without jitter */
    assert_int_equal(total, 1599 * MINUTE);
    retry_policy_free(&p);
    assert_null(p.delays_ms);
    assert_int_equal(p.n_delays, 0);
}

struct policy_case {
    const char *spec;
    int rc;
    size_t n;
    long delays[4];          /* the first ones, when rc is 0 */
    const char *in_detail;   /* a part of the message, when rc is -1 */
};

static const struct policy_case policy_cases[] = {
    { "1s,2s", 0, 2, { 1000, 2000 }, NULL },
    { "30s,2m,1h", 0, 3, { 30000, 120000, 3600000 }, NULL },
    { "250ms", 0, 1, { 250 }, NULL },
    { "7", 0, 1, { 7000 }, NULL },
    { "0", 0, 1, { 0 }, NULL },
    { "2h,1s", 0, 2, { 7200000, 1000 }, NULL },        /* order kept, not sorted */
    { "5s,5s,5s,5s", 0, 4, { 5000, 5000, 5000, 5000 }, NULL },
    { "720h", 0, 1, { DAYS30 }, NULL },
    { "721h", -1, 0, { 0 }, "'721h'" },
    { "abc", -1, 0, { 0 }, "'abc'" },
    { "1s,x,2s", -1, 0, { 0 }, "'x'" },
    { "1s,,2s", -1, 0, { 0 }, "''" },
    { "1s,", -1, 0, { 0 }, "''" },
    { ",1s", -1, 0, { 0 }, "''" },
    { ",", -1, 0, { 0 }, "''" },
    { "1s, 2s", -1, 0, { 0 }, "' 2s'" },
    { "1s;2s", -1, 0, { 0 }, "'1s;2s'" },
    { "-1s", -1, 0, { 0 }, "'-1s'" },
    { " ", -1, 0, { 0 }, "' '" },
};

static void test_policy(void **state)
{
    const struct policy_case *c = *state;
    struct retry_policy p;
    struct hk_error err;
    hk_error_clear(&err);
    int rc = retry_policy_init(&p, c->spec, 0, 0, &err);
    assert_int_equal(rc, c->rc);
    if (rc != 0) {
        assert_int_equal(err.code, HK_ERR_INVALID);
        if (strstr(err.detail, c->in_detail) == NULL)
            fail_msg("detail \"%s\" does not name %s", err.detail, c->in_detail);
        assert_null(p.delays_ms);                     /* nothing left to free */
        assert_int_equal(p.n_delays, 0);
        return;
    }
    assert_int_equal(p.n_delays, c->n);
    for (size_t i = 0; i < c->n && i < 4; i++)
        assert_int_equal(p.delays_ms[i], c->delays[i]);
    retry_policy_free(&p);
}

/* "1s,1s,..." with count entries. */
static char *repeated_spec(size_t count)
{
    char *spec = malloc(3 * count + 1);
    assert_non_null(spec);
    spec[0] = '\0';
    for (size_t i = 0; i < count; i++)
        strcat(spec, i ? ",1s" : "1s");
    return spec;
}

static void test_policy_100(void **state)
{
    (void)state;
    char *spec = repeated_spec(100);
    struct retry_policy p;
    struct hk_error err;
    hk_error_clear(&err);
    assert_int_equal(retry_policy_init(&p, spec, 0, 0, &err), 0);
    assert_int_equal(p.n_delays, 100);
    assert_int_equal(p.delays_ms[99], 1000);
    retry_policy_free(&p);
    free(spec);
}

static void test_policy_101(void **state)
{
    (void)state;
    char *spec = repeated_spec(101);
    struct retry_policy p;
    struct hk_error err;
    hk_error_clear(&err);
    assert_int_equal(retry_policy_init(&p, spec, 0, 0, &err), -1);
    assert_int_equal(err.code, HK_ERR_INVALID);
    assert_non_null(strstr(err.detail, "100"));
    assert_null(p.delays_ms);
    free(spec);
}

/* ---- retry_classify ---------------------------------------------------- */

struct classify_case {
    long status;
    enum attempt_outcome outcome;
};

static const struct classify_case classify_cases[] = {
    { 200, OUTCOME_DELIVERED }, { 201, OUTCOME_DELIVERED }, { 202, OUTCOME_DELIVERED },
    { 204, OUTCOME_DELIVERED }, { 299, OUTCOME_DELIVERED },
    { 410, OUTCOME_GONE },
    { 0, OUTCOME_RETRY },       /* no answer: connection error or timeout */
    { -1, OUTCOME_RETRY },
    { 100, OUTCOME_RETRY }, { 199, OUTCOME_RETRY }, { 300, OUTCOME_RETRY },
    { 301, OUTCOME_RETRY }, { 302, OUTCOME_RETRY }, { 304, OUTCOME_RETRY },
    { 400, OUTCOME_RETRY }, { 401, OUTCOME_RETRY }, { 403, OUTCOME_RETRY },
    { 404, OUTCOME_RETRY }, { 409, OUTCOME_RETRY }, { 411, OUTCOME_RETRY },
    { 429, OUTCOME_RETRY }, { 500, OUTCOME_RETRY }, { 502, OUTCOME_RETRY },
    { 503, OUTCOME_RETRY }, { 504, OUTCOME_RETRY }, { 599, OUTCOME_RETRY },
    { 600, OUTCOME_RETRY }, { 2000, OUTCOME_RETRY },
};

static const char *outcome_name(enum attempt_outcome o)
{
    return o == OUTCOME_DELIVERED ? "delivered" : o == OUTCOME_GONE ? "gone" : "retry";
}

static void test_classify(void **state)
{
    const struct classify_case *c = *state;
    assert_string_equal(outcome_name(retry_classify(c->status)), outcome_name(c->outcome));
}

/* ---- retry_after_ms ---------------------------------------------------- */

struct after_case {
    const char *value;
    long long now;
    long ms;
};

static const struct after_case after_cases[] = {
    { NULL, 0, -1 },
    { "", 0, -1 },
    { "   ", 0, -1 },
    { "0", 0, 0 },
    { "120", 0, 120000 },
    { " 30 ", 0, 30000 },
    { "  7", 0, 7000 },
    { "007", 0, 7000 },
    { "2592000", 0, DAYS30 },
    { "2592001", 0, DAYS30 },                  /* capped at 30 days */
    { "99999999999999999999999", 0, DAYS30 },  /* without overflowing */
    { "\t30", 0, -1 },                         /* only spaces are trimmed */
    { "30\r\n", 0, -1 },
    { "abc", 0, -1 },
    { "-5", 0, -1 },
    { "+5", 0, -1 },
    { "12a", 0, -1 },
    { "1 2", 0, -1 },
    { "1.5", 0, -1 },
    { "0x10", 0, -1 },
    /* BUG (retry.c retry_after_ms): every IMF-fixdate is refused (-1). "%3s"
     * stops before the comma of "Sun," and the next directive, "%2d", does
     * not match ',', so sscanf returns 1. The rows down to "Malformed
     * dates" expect a date to be read; they fail until it is fixed. */
    { D_1994, T_1994 - 60, 60000 },
    { " " D_1994 "  ", T_1994 - 60, 60000 },
    { D_1994, T_1994 - 1, 1000 },
    { D_1994, T_1994 - 40LL * 86400, DAYS30 },                /* capped */
    { "Thu, 01 Jan 1970 00:01:00 GMT", 0, 60000 },
    { "Tue, 29 Feb 2000 12:00:00 GMT", 951825600LL - 5, 5000 },   /* a leap day */
    { "Sun, 31 Dec 2023 23:59:60 GMT", 1704067200LL - 10, 10000 }, /* a leap second */
    /* Accepted though no such day exists: 31 April is read as 1 May. */
    { "Wed, 31 Apr 2024 00:00:00 GMT", 1714521600LL - 1, 1000 },
    /* The weekday is not checked: 6 Nov 1994 was a Sunday. */
    { "Mon, 06 Nov 1994 08:49:37 GMT", T_1994 - 60, 60000 },
    /* A date now or in the past gives 0. */
    { D_1994, T_1994, 0 },
    { D_1994, T_1994 + 3600, 0 },
    { "Thu, 01 Jan 1970 00:00:00 GMT", 1700000000, 0 },
    /* Malformed dates, -1 whatever the time. A parser lenient about the
     * fixed shape (sscanf's "%2d" takes " 6", "+6" and "-1") fails some. */
    { "Sun 06 Nov 1994 08:49:37 GMT", T_1994 - 60, -1 },      /* no comma */
    { "Sun; 06 Nov 1994 08:49:37 GMT", T_1994 - 60, -1 },
    { "Sun ,06 Nov 1994 08:49:37 GMT", T_1994 - 60, -1 },
    { "Sun,  6 Nov 1994 08:49:37 GMT", T_1994 - 60, -1 },
    { "Sun, +6 Nov 1994 08:49:37 GMT", T_1994 - 60, -1 },
    { "Sun, 6 Nov 1994 08:49:37 GMT", T_1994 - 60, -1 },
    { "Sun, 06 Nov 1994 08:49:37", T_1994 - 60, -1 },         /* GMT missing */
    { "Sun, 06 Nov 1994 08:49:37 UTC", T_1994 - 60, -1 },
    { "Sun, 06 Nov 1994 08:49:37 gmt", T_1994 - 60, -1 },
    { "Sun, 06 Nov 1994 08:49:37 GMTX", T_1994 - 60, -1 },
    { "Sun, 06 Nvo 1994 08:49:37 GMT", T_1994 - 60, -1 },      /* bad month */
    { "Sun, 06 nov 1994 08:49:37 GMT", T_1994 - 60, -1 },      /* months are case-sensitive */
    { "Sun, 06 Nov 94 08:49:37 GMT", T_1994 - 60, -1 },
    { "Sun, 00 Nov 1994 08:49:37 GMT", T_1994 - 60, -1 },
    { "Sun, 32 Nov 1994 08:49:37 GMT", T_1994 - 60, -1 },
    { "Sun, 06 Nov 1994 24:00:00 GMT", T_1994 - 60, -1 },
    { "Sun, 06 Nov 1994 08:60:00 GMT", T_1994 - 60, -1 },
    { "Sun, 06 Nov 1994 08:49:61 GMT", T_1994 - 60, -1 },
    { "Sun, 06 Nov 1994 -1:49:37 GMT", T_1994 - 60, -1 },
    { "Sun, 06 Nov 1994 08:-1:37 GMT", T_1994 - 60, -1 },
    { "Sun, 06 Nov 1994 08.49.37 GMT", T_1994 - 60, -1 },
    { "Sunday, 06-Nov-94 08:49:37 GMT", T_1994 - 60, -1 },    /* RFC 850: not read */
    { "Sun Nov  6 08:49:37 1994", T_1994 - 60, -1 },          /* asctime: not read */
    { "1994-11-06T08:49:37Z", T_1994 - 60, -1 },
};

static void test_after(void **state)
{
    const struct after_case *c = *state;
    assert_int_equal(retry_after_ms(c->value, (time_t)c->now), c->ms);
}

/* ---- retry_delay_ms ---------------------------------------------------- */

/* Expected jitter: floor(delay * (1 + j/100 * (2 * random / 2^32 - 1))). */
struct delay_case {
    const char *what;
    const char *spec;
    int jitter;
    long max_ra;             /* retry_after_max_ms */
    int retry;
    long status;
    const char *retry_after;
    long long now;
    uint32_t random;
    long ms;
};

static const struct delay_case delay_cases[] = {
    { "default n=1", "", 0, HOUR, 1, 500, NULL, 0, 0, 1 * MINUTE },
    { "default n=7", "", 0, HOUR, 7, 500, NULL, 0, 0, 64 * MINUTE },
    { "default n=30", "", 0, HOUR, 30, 500, NULL, 0, 0, 64 * MINUTE },
    { "default n=31 exhausted", "", 0, HOUR, 31, 500, NULL, 0, 0, -1 },
    { "default n=0", "", 0, HOUR, 0, 500, NULL, 0, 0, -1 },
    { "default n=-1", "", 0, HOUR, -1, 500, NULL, 0, 0, -1 },
    { "1s n=2 exhausted", "1s", 0, HOUR, 2, 500, NULL, 0, 0, -1 },
    { "1s,2s n=2", "1s,2s", 0, HOUR, 2, 500, NULL, 0, 0, 2000 },
    { "jitter 0 random max", "1m", 0, HOUR, 1, 500, NULL, 0, UINT32_MAX, 60000 },
    { "jitter 20 random 0", "1m", 20, HOUR, 1, 500, NULL, 0, 0, 48000 },
    { "jitter 20 random 2^30", "1m", 20, HOUR, 1, 500, NULL, 0, 1u << 30, 54000 },
    { "jitter 20 random 2^31", "1m", 20, HOUR, 1, 500, NULL, 0, 1u << 31, 60000 },
    { "jitter 20 random 3*2^30", "1m", 20, HOUR, 1, 500, NULL, 0, 3u << 30, 66000 },
    { "jitter 20 random max", "1m", 20, HOUR, 1, 500, NULL, 0, UINT32_MAX, 71999 },
    { "jitter 100 random 0", "1m", 100, HOUR, 1, 500, NULL, 0, 0, 0 },
    { "jitter 100 random max", "1m", 100, HOUR, 1, 500, NULL, 0, UINT32_MAX, 119999 },
    { "jitter 10 250ms random 0", "250ms", 10, HOUR, 1, 500, NULL, 0, 0, 225 },
    { "jitter 20 on 30 days", "720h", 20, HOUR, 1, 500, NULL, 0, UINT32_MAX, 3110399999L },
    { "jitter 20 default n=30", "", 20, HOUR, 30, 500, NULL, 0, 0, 3072000 },
    { "429 no Retry-After", "1s", 0, HOUR, 1, 429, NULL, 0, 0, 1000 },
    { "429 Retry-After 120", "1s", 0, HOUR, 1, 429, "120", 0, 0, 120000 },
    { "503 Retry-After 120", "1s", 0, HOUR, 1, 503, "120", 0, 0, 120000 },
    { "500 Retry-After ignored", "1s", 0, HOUR, 1, 500, "120", 0, 0, 1000 },
    { "502 Retry-After ignored", "1s", 0, HOUR, 1, 502, "120", 0, 0, 1000 },
    { "0 Retry-After ignored", "1s", 0, HOUR, 1, 0, "120", 0, 0, 1000 },
    { "410 Retry-After ignored", "1s", 0, HOUR, 1, 410, "120", 0, 0, 1000 },
    { "429 Retry-After 0", "1s", 0, HOUR, 1, 429, "0", 0, 0, 1000 },
    { "429 Retry-After abc", "1s", 0, HOUR, 1, 429, "abc", 0, 0, 1000 },
    { "429 Retry-After empty", "1s", 0, HOUR, 1, 429, "", 0, 0, 1000 },
    { "429 Retry-After below the schedule", "10m", 0, HOUR, 1, 429, "120", 0, 0, 600000 },
    { "429 Retry-After capped", "1s", 0, HOUR, 1, 429, "7200", 0, 0, HOUR },
    { "429 Retry-After cap 0", "1s", 0, 0, 1, 429, "120", 0, 0, 1000 },
    { "429 Retry-After not jittered", "1s", 20, HOUR, 1, 429, "120", 0, 0, 120000 },
    { "429 jitter above Retry-After", "1s", 20, HOUR, 1, 429, "1", 0, UINT32_MAX, 1199 },
    { "429 exhausted despite Retry-After", "1s", 0, HOUR, 2, 429, "120", 0, 0, -1 },
    /* BUG (retry.c retry_after_ms): HTTP-dates are never read (see above). */
    { "429 date in the future", "1s", 0, HOUR, 1, 429, D_1994, T_1994 - 60, 0, 60000 },
    { "503 date capped", "1s", 0, 2 * MINUTE, 1, 503, D_1994, T_1994 - 300, 0, 2 * MINUTE },
    { "429 date in the past", "1s", 0, HOUR, 1, 429, D_1994, T_1994 + 60, 0, 1000 },
    { "500 date ignored", "1s", 0, HOUR, 1, 500, D_1994, T_1994 - 60, 0, 1000 },
};

static void test_delay(void **state)
{
    const struct delay_case *c = *state;
    struct retry_policy p;
    struct hk_error err;
    hk_error_clear(&err);
    assert_int_equal(retry_policy_init(&p, c->spec, c->jitter, c->max_ra, &err), 0);
    long ms = retry_delay_ms(&p, c->retry, c->status, c->retry_after, (time_t)c->now, c->random);
    retry_policy_free(&p);
    assert_int_equal(ms, c->ms);
}

/* ---- one cmocka test per row ------------------------------------------- */

int main(void)
{
    char q[96];
    for (size_t i = 0; i < ROWS_COUNT(duration_cases); i++) {
        rows_quote(q, sizeof(q), duration_cases[i].text, duration_cases[i].len);
        rows_add(test_duration, &duration_cases[i], "duration \"%s\"", q);
    }
    rows_add(test_default_schedule, "", "policy \"\": the default schedule");
    rows_add(test_default_schedule, NULL, "policy NULL: the default schedule");
    for (size_t i = 0; i < ROWS_COUNT(policy_cases); i++)
        rows_add(test_policy, &policy_cases[i], "policy \"%s\"", policy_cases[i].spec);
    rows_add(test_policy_100, NULL, "policy of 100 retries");
    rows_add(test_policy_101, NULL, "policy of 101 retries refused");
    for (size_t i = 0; i < ROWS_COUNT(classify_cases); i++)
        rows_add(test_classify, &classify_cases[i], "classify %ld", classify_cases[i].status);
    for (size_t i = 0; i < ROWS_COUNT(after_cases); i++) {
        const struct after_case *c = &after_cases[i];
        if (c->value == NULL) {
            rows_add(test_after, c, "retry_after NULL");
            continue;
        }
        rows_quote(q, sizeof(q), c->value, strlen(c->value));
        rows_add(test_after, c, "retry_after \"%s\" at %lld", q, c->now);
    }
    for (size_t i = 0; i < ROWS_COUNT(delay_cases); i++)
        rows_add(test_delay, &delay_cases[i], "delay: %s", delay_cases[i].what);
    return rows_run("retry", NULL, NULL);
}
