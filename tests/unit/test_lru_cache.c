/* test_lru_cache.c - protects lru_cache.c, the byte-bounded LRU map behind
 * the event and API key caches: values come back as stored (binary, with
 * NUL bytes), replacing and removing work, the least recently used entry
 * goes first when the budget is reached (a read counts as use), expired
 * entries are gone, oversized values and zero budgets store nothing, and
 * many entries (past the first table size) stay reachable. */
#include "rows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lru_cache.h"

static bool has(struct lru_cache *c, const char *key)
{
    char *v;
    size_t n;
    if (!lru_cache_get(c, key, strlen(key), 0, &v, &n))
        return false;
    free(v);
    return true;
}

static void put(struct lru_cache *c, const char *key, const char *value)
{
    lru_cache_put(c, key, strlen(key), value, strlen(value), 0);
}

static void test_round_trip(void **state)
{
    (void)state;
    struct lru_cache *c = lru_cache_new(1 << 20);
    lru_cache_put(c, "k\0x", 3, "v\0alue", 6, 0);
    char *v = NULL;
    size_t n = 0;
    assert_true(lru_cache_get(c, "k\0x", 3, 0, &v, &n));
    assert_int_equal(n, 6);
    assert_memory_equal(v, "v\0alue", 6);
    assert_int_equal(v[6], '\0');
    free(v);
    assert_false(lru_cache_get(c, "k", 1, 0, &v, &n)); /* a prefix is another key */
    put(c, "a", "first");
    put(c, "a", "second");
    assert_true(lru_cache_get(c, "a", 1, 0, &v, &n));
    assert_string_equal(v, "second");
    free(v);
    lru_cache_remove(c, "a", 1);
    lru_cache_remove(c, "absent", 6);
    assert_false(has(c, "a"));
    struct lru_cache_stats st;
    lru_cache_stats(c, &st);
    assert_int_equal(st.entries, 1);
    assert_int_equal(st.hits, 2);
    assert_int_equal(st.misses, 2);
    lru_cache_free(c);
}

static void test_least_recently_used_goes_first(void **state)
{
    (void)state;
    char value[200];
    memset(value, 'v', sizeof(value) - 1);
    value[sizeof(value) - 1] = '\0';
    /* room for about four entries of ~300 bytes (a quarter is the largest) */
    struct lru_cache *c = lru_cache_new(1300);
    put(c, "a", value);
    put(c, "b", value);
    put(c, "c", value);
    put(c, "d", value);
    struct lru_cache_stats st;
    lru_cache_stats(c, &st);
    assert_int_equal(st.entries, 4);
    assert_true(has(c, "a")); /* a is now the newest */
    put(c, "e", value);        /* evicts b, the least recently used */
    assert_false(has(c, "b"));
    assert_true(has(c, "a"));
    assert_true(has(c, "c"));
    assert_true(has(c, "e"));
    lru_cache_stats(c, &st);
    assert_int_equal(st.evictions, 1);
    assert_true(st.bytes <= 1300);
    lru_cache_free(c);
}

static void test_expiry(void **state)
{
    (void)state;
    struct lru_cache *c = lru_cache_new(1 << 20);
    lru_cache_put(c, "k", 1, "v", 1, 1000);
    double d = 0;
    char *v;
    size_t n;
    assert_true(lru_cache_get(c, "k", 1, 999, &v, &n));
    free(v);
    assert_false(lru_cache_get_fixed(c, "k", 1, 999, &d, sizeof(d))); /* wrong size */
    assert_false(lru_cache_get(c, "k", 1, 1000, &v, &n));
    struct lru_cache_stats st;
    lru_cache_stats(c, &st);
    assert_int_equal(st.entries, 0); /* dropped when found expired */
    double x = 2.5;
    lru_cache_put(c, "f", 1, &x, sizeof(x), 0);
    assert_true(lru_cache_get_fixed(c, "f", 1, 1 << 30, &d, sizeof(d)));
    assert_true(d == 2.5);
    lru_cache_free(c);
}

static void test_what_is_not_stored(void **state)
{
    (void)state;
    struct lru_cache *none = lru_cache_new(0);
    put(none, "k", "v");
    assert_false(has(none, "k"));
    lru_cache_free(none);
    struct lru_cache *c = lru_cache_new(4000);
    char big[1100];
    memset(big, 'b', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    put(c, "small", "v");
    put(c, "big", big); /* over a quarter of the budget */
    assert_false(has(c, "big"));
    assert_true(has(c, "small"));
    lru_cache_free(c);
}

static void test_many_entries(void **state)
{
    (void)state;
    struct lru_cache *c = lru_cache_new(64 << 20);
    char key[32], value[32];
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof(key), "key-%d", i);
        snprintf(value, sizeof(value), "value-%d", i);
        put(c, key, value);
    }
    for (int i = 0; i < 20000; i += 7) {
        snprintf(key, sizeof(key), "key-%d", i);
        snprintf(value, sizeof(value), "value-%d", i);
        char *v;
        size_t n;
        assert_true(lru_cache_get(c, key, strlen(key), 0, &v, &n));
        assert_string_equal(v, value);
        free(v);
    }
    struct lru_cache_stats st;
    lru_cache_stats(c, &st);
    assert_int_equal(st.entries, 20000);
    assert_int_equal(st.evictions, 0);
    lru_cache_free(c);
}

int main(void)
{
    rows_add(test_round_trip, NULL, "round trip, replace, remove, stats");
    rows_add(test_least_recently_used_goes_first, NULL, "the least recently used goes first");
    rows_add(test_expiry, NULL, "expiry");
    rows_add(test_what_is_not_stored, NULL, "zero budget and oversized values store nothing");
    rows_add(test_many_entries, NULL, "20000 entries");
    return rows_run("lru_cache", NULL, NULL);
}
