/* test_token.c - protects token.c, the identifiers and credentials hookd
 * hands out: the documented prefix and length of event ids, subscription
 * ids, API keys and passphrases, base62 bodies, fresh randomness on every
 * call, event ids that start with their time (so that later ones sort
 * later), and token_hash, the BLAKE2b-256 under which API keys are stored
 * (checked against b2sum -l 256 / Python's hashlib.blake2b). */
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "token.h"
#include "rows.h"

/* ---- generators -------------------------------------------------------- */

typedef void (*token_fn)(char *out);

static void gen_event_id(char *out) { token_event_id(out); }
static void gen_subscription_id(char *out) { token_subscription_id(out); }
static void gen_api_key(char *out) { token_api_key(out); }
static void gen_passphrase(char *out) { token_passphrase(out); }
static void gen_base62_10(char *out) { token_base62(out, 10); }
static void gen_new_x_5(char *out) { token_new(out, "x_", 5); }
static void gen_new_empty_prefix(char *out) { token_new(out, "", 12); }
/* Longer than the block of random bytes token_base62 draws at a time. */
static void gen_base62_200(char *out) { token_base62(out, 200); }

struct gen_case {
    const char *what;
    token_fn fn;
    const char *prefix;
    size_t len;              /* total, prefix included */
};

static const struct gen_case gen_cases[] = {
    { "event id", gen_event_id, "EV", 20 },
    { "subscription id", gen_subscription_id, "ES", 20 },
    { "api key", gen_api_key, "hk_", 43 },
    { "passphrase", gen_passphrase, "hp_", 43 },
    { "token_base62(10)", gen_base62_10, "", 10 },
    { "token_new(x_, 5)", gen_new_x_5, "x_", 7 },
    { "token_new(\"\", 12)", gen_new_empty_prefix, "", 12 },
    { "token_base62(200)", gen_base62_200, "", 200 },
};

static bool is_base62(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static void test_shape(void **state)
{
    const struct gen_case *c = *state;
    char out[256];
    memset(out, '#', sizeof(out));
    c->fn(out);
    assert_int_equal(out[c->len], '\0');               /* terminated at the length */
    assert_int_equal(out[c->len + 1], '#');            /* and nothing written past it */
    assert_int_equal(strlen(out), c->len);
    assert_memory_equal(out, c->prefix, strlen(c->prefix));
    for (size_t i = strlen(c->prefix); i < c->len; i++) {
        if (!is_base62(out[i]))
            fail_msg("%s: '%c' at %zu is not base62", out, out[i], i);
    }
}

/* Two calls differ, and over 1000 calls (at least 5000 characters) every
 * one of the 62 characters shows up: a generator drawing from a shorter or
 * shifted alphabet would miss one (chance of a false alarm below 1e-30). */
static void test_random(void **state)
{
    const struct gen_case *c = *state;
    char a[256], b[256];
    c->fn(a);
    c->fn(b);
    assert_string_not_equal(a, b);
    bool seen[256] = { false };
    size_t distinct = 0;
    for (int round = 0; round < 1000; round++) {
        c->fn(a);
        for (size_t i = strlen(c->prefix); i < c->len; i++) {
            unsigned char ch = (unsigned char)a[i];
            distinct += !seen[ch];
            seen[ch] = true;
        }
    }
    assert_int_equal(distinct, 62);
}

/* Every character is equally likely: 124,000 characters give each of the
 * 62 about 2,000 times (standard deviation ~44). Mapping a random byte
 * onto 62 characters without redrawing the bytes above 247 would give the
 * first eight characters 5/256 each instead of 4/248 (~2,420 times). */
static void test_uniform(void **state)
{
    (void)state;
    enum { ROUNDS = 620, LEN = 200 };
    char out[LEN + 1];
    size_t counts[256] = { 0 };
    for (int round = 0; round < ROUNDS; round++) {
        token_base62(out, LEN);
        for (size_t i = 0; i < LEN; i++)
            counts[(unsigned char)out[i]]++;
    }
    size_t expected = (size_t)ROUNDS * LEN / 62;
    for (int c = 0; c < 256; c++) {
        if (counts[c] == 0)
            continue;
        if (counts[c] < expected - 300 || counts[c] > expected + 300)
            fail_msg("'%c' drawn %zu times, expected about %zu", c, counts[c], expected);
    }
}

/* ---- event ids: the time first ----------------------------------------- */

struct time_case {
    uint64_t unix_ms;
    const char *time;        /* the 8 characters after EV (Python: base62 of unix_ms) */
};

/* In increasing order of unix_ms. */
static const struct time_case time_cases[] = {
    { 0, "00000000" },
    { 1, "00000001" },
    { 61, "0000000z" },
    { 62, "00000010" },
    { 3843, "000000zz" },
    { 1795000000000, "0VbK14RE" },
    { 1795000000001, "0VbK14RF" },
    { 218340105584895, "zzzzzzzz" },   /* 62^8 - 1 */
};

static void test_event_id_time(void **state)
{
    const struct time_case *c = *state;
    char a[TOKEN_ID_LEN + 2], b[TOKEN_ID_LEN + 2];
    a[TOKEN_ID_LEN + 1] = '#';
    token_event_id_at(a, c->unix_ms);
    token_event_id_at(b, c->unix_ms);
    assert_int_equal(a[TOKEN_ID_LEN + 1], '#');
    assert_int_equal(strlen(a), TOKEN_ID_LEN);
    assert_memory_equal(a, "EV", 2);
    assert_memory_equal(a + 2, c->time, TOKEN_EVENT_TIME_LEN);
    for (size_t i = 2; i < TOKEN_ID_LEN; i++) {
        if (!is_base62(a[i]))
            fail_msg("%s: '%c' at %zu is not base62", a, a[i], i);
    }
    assert_string_not_equal(a + 2 + TOKEN_EVENT_TIME_LEN, b + 2 + TOKEN_EVENT_TIME_LEN);
}

/* An id made later sorts later (byte order, as in a C-collated index),
 * whatever the random characters, which repeat 200 times per pair. */
static void test_event_id_order(void **state)
{
    (void)state;
    for (size_t i = 1; i < ROWS_COUNT(time_cases); i++) {
        for (int round = 0; round < 200; round++) {
            char early[TOKEN_ID_LEN + 1], late[TOKEN_ID_LEN + 1];
            token_event_id_at(early, time_cases[i - 1].unix_ms);
            token_event_id_at(late, time_cases[i].unix_ms);
            if (strcmp(early, late) >= 0)
                fail_msg("%s (%llu ms) does not sort before %s (%llu ms)", early,
                         (unsigned long long)time_cases[i - 1].unix_ms, late,
                         (unsigned long long)time_cases[i].unix_ms);
        }
    }
}

/* token_event_id takes the realtime clock. */
static void test_event_id_now(void **state)
{
    (void)state;
    struct timespec before, after;
    char id[TOKEN_ID_LEN + 1], low[TOKEN_ID_LEN + 1], high[TOKEN_ID_LEN + 1];
    clock_gettime(CLOCK_REALTIME, &before);
    token_event_id(id);
    clock_gettime(CLOCK_REALTIME, &after);
    token_event_id_at(low, (uint64_t)before.tv_sec * 1000 + (uint64_t)before.tv_nsec / 1000000);
    token_event_id_at(high, (uint64_t)after.tv_sec * 1000 + (uint64_t)after.tv_nsec / 1000000);
    assert_true(memcmp(low, id, 2 + TOKEN_EVENT_TIME_LEN) <= 0);
    assert_true(memcmp(id, high, 2 + TOKEN_EVENT_TIME_LEN) <= 0);
}

/* ---- token_hash -------------------------------------------------------- */

struct hash_case {
    const char *key;
    const char *hex;
};

static const struct hash_case hash_cases[] = {
    { "hk_abc", "925ac1c1190434a741de9298b17028a87925603a3a37b2a262c8d12a2945fc6a" },
    { "", "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8" },
};

static void test_hash_vector(void **state)
{
    const struct hash_case *c = *state;
    unsigned char out[TOKEN_HASH_LEN + 1];
    char hex[2 * TOKEN_HASH_LEN + 1];
    out[TOKEN_HASH_LEN] = 0xa5;
    token_hash(c->key, strlen(c->key), out);
    assert_int_equal(out[TOKEN_HASH_LEN], 0xa5);   /* exactly 32 bytes written */
    sodium_bin2hex(hex, sizeof(hex), out, TOKEN_HASH_LEN);
    assert_string_equal(hex, c->hex);
}

static void test_hash_properties(void **state)
{
    (void)state;
    char key[TOKEN_SECRET_LEN + 1], other[TOKEN_SECRET_LEN + 1];
    unsigned char h1[TOKEN_HASH_LEN], h2[TOKEN_HASH_LEN], h3[TOKEN_HASH_LEN];
    token_api_key(key);
    memcpy(other, key, sizeof(key));
    other[TOKEN_SECRET_LEN - 1] = other[TOKEN_SECRET_LEN - 1] == 'a' ? 'b' : 'a';
    token_hash(key, strlen(key), h1);
    token_hash(key, strlen(key), h2);
    token_hash(other, strlen(other), h3);
    assert_memory_equal(h1, h2, TOKEN_HASH_LEN);       /* deterministic */
    assert_memory_not_equal(h1, h3, TOKEN_HASH_LEN);   /* one character changes it */
    token_hash(key, strlen(key) - 1, h3);
    assert_memory_not_equal(h1, h3, TOKEN_HASH_LEN);   /* the length counts */
}

/* ---- one cmocka test per row ------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    return sodium_init() < 0 ? -1 : 0;
}

int main(void)
{
    for (size_t i = 0; i < ROWS_COUNT(gen_cases); i++) {
        rows_add(test_shape, &gen_cases[i], "%s: prefix, length, base62", gen_cases[i].what);
        rows_add(test_random, &gen_cases[i], "%s: random", gen_cases[i].what);
    }
    rows_add(test_uniform, NULL, "token_base62: every character equally likely");
    for (size_t i = 0; i < ROWS_COUNT(time_cases); i++)
        rows_add(test_event_id_time, &time_cases[i], "event id at %llu ms: EV%s + 10 random",
                 (unsigned long long)time_cases[i].unix_ms, time_cases[i].time);
    rows_add(test_event_id_order, NULL, "event ids made later sort later");
    rows_add(test_event_id_now, NULL, "token_event_id: the realtime clock's milliseconds");
    for (size_t i = 0; i < ROWS_COUNT(hash_cases); i++)
        rows_add(test_hash_vector, &hash_cases[i], "token_hash \"%s\"", hash_cases[i].key);
    rows_add(test_hash_properties, NULL, "token_hash deterministic, key-sensitive");
    return rows_run("token", group_setup, NULL);
}
