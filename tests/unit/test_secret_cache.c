/* test_secret_cache.c - protects secret_cache.c, the worker's cache of
 * opened secrets: a second open of the same sealed value is a hit with the
 * same plaintext; a rotated secret (a new sealed value) is opened and
 * returned, not the old one, while the old sealed value still opens to the
 * old secret; the least recently used entry is evicted at capacity and its
 * plaintext wiped; clearing wipes everything; values that cannot be opened
 * are refused and not kept; oversized values are opened but not kept; and
 * many entries (past the bucket count) stay reachable. */
#include "rows.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secret_cache.h"
#include "secrets.h"

static int setup(void **state)
{
    (void)state;
    if (sodium_init() < 0)
        return -1;
    unsigned char key[32];
    randombytes_buf(key, sizeof(key));
    secrets_set_key(key);
    return 0;
}

static char *seal(const char *plain)
{
    return secrets_seal_hex(plain, strlen(plain));
}

/* Opens through the cache and checks the plaintext. */
static void expect_open(struct secret_cache *c, const char *sealed, const char *want)
{
    size_t len = 0;
    char *got = secret_cache_open(c, sealed, &len);
    assert_non_null(got);
    assert_int_equal(len, strlen(want));
    assert_string_equal(got, want);
    secrets_free(got, len);
}

static struct secret_cache_stats stats(const struct secret_cache *c)
{
    struct secret_cache_stats s;
    secret_cache_stats(c, &s);
    return s;
}

static void test_hit(void **state)
{
    (void)state;
    struct secret_cache *c = secret_cache_new(8);
    char *sealed = seal("whsec_first");
    expect_open(c, sealed, "whsec_first");
    expect_open(c, sealed, "whsec_first");
    expect_open(c, sealed, "whsec_first");
    assert_int_equal(stats(c).misses, 1);
    assert_int_equal(stats(c).hits, 2);
    assert_int_equal(stats(c).entries, 1);
    free(sealed);
    secret_cache_free(c);
}

static void test_rotation(void **state)
{
    (void)state;
    struct secret_cache *c = secret_cache_new(8);
    char *old_sealed = seal("whsec_old");
    char *new_sealed = seal("whsec_new");
    expect_open(c, old_sealed, "whsec_old");
    expect_open(c, new_sealed, "whsec_new");   /* the rotated secret is seen */
    expect_open(c, old_sealed, "whsec_old");   /* the previous one still signs */
    assert_int_equal(stats(c).misses, 2);
    assert_int_equal(stats(c).hits, 1);
    /* The same secret sealed again (another nonce) is another entry. */
    char *resealed = seal("whsec_new");
    assert_string_not_equal(resealed, new_sealed);
    expect_open(c, resealed, "whsec_new");
    assert_int_equal(stats(c).misses, 3);
    free(old_sealed);
    free(new_sealed);
    free(resealed);
    secret_cache_free(c);
}

static void test_eviction_wipes(void **state)
{
    (void)state;
    struct secret_cache *c = secret_cache_new(2);
    char *a = seal("whsec_AAAAAAAAAAAAAAAA"), *b = seal("whsec_BBBBBBBBBBBBBBBB"),
         *d = seal("whsec_DDDDDDDDDDDDDDDD");
    expect_open(c, a, "whsec_AAAAAAAAAAAAAAAA");
    expect_open(c, b, "whsec_BBBBBBBBBBBBBBBB");
    expect_open(c, a, "whsec_AAAAAAAAAAAAAAAA");   /* a is now the most recent */
    assert_true(secret_cache_contains_bytes(c, S("whsec_BBBBBBBBBBBBBBBB")));
    expect_open(c, d, "whsec_DDDDDDDDDDDDDDDD");   /* evicts b, the least recent */
    assert_int_equal(stats(c).evictions, 1);
    assert_int_equal(stats(c).entries, 2);
    assert_false(secret_cache_contains_bytes(c, S("whsec_BBBBBBBBBBBBBBBB")));
    assert_true(secret_cache_contains_bytes(c, S("whsec_AAAAAAAAAAAAAAAA")));
    uint64_t hits = stats(c).hits;
    expect_open(c, a, "whsec_AAAAAAAAAAAAAAAA");   /* still there */
    assert_int_equal(stats(c).hits, hits + 1);
    expect_open(c, b, "whsec_BBBBBBBBBBBBBBBB");   /* opened again: a miss */
    assert_int_equal(stats(c).misses, 4);
    assert_int_equal(stats(c).evictions, 2);       /* d went */
    assert_false(secret_cache_contains_bytes(c, S("whsec_DDDDDDDDDDDDDDDD")));
    free(a);
    free(b);
    free(d);
    secret_cache_free(c);
}

static void test_clear_wipes(void **state)
{
    (void)state;
    struct secret_cache *c = secret_cache_new(4);
    unsigned char sk[crypto_sign_SECRETKEYBYTES], pk[crypto_sign_PUBLICKEYBYTES];
    crypto_sign_keypair(pk, sk);
    char *sealed_sk = secrets_seal_hex(sk, sizeof(sk));
    size_t len = 0;
    char *opened = secret_cache_open(c, sealed_sk, &len);
    assert_non_null(opened);
    assert_int_equal(len, sizeof(sk));
    assert_memory_equal(opened, sk, sizeof(sk));
    secrets_free(opened, len);
    assert_true(secret_cache_contains_bytes(c, sk, sizeof(sk)));
    secret_cache_clear(c);
    assert_false(secret_cache_contains_bytes(c, sk, sizeof(sk)));
    assert_int_equal(stats(c).entries, 0);
    opened = secret_cache_open(c, sealed_sk, &len);   /* opened anew after the clear */
    assert_non_null(opened);
    assert_memory_equal(opened, sk, sizeof(sk));
    secrets_free(opened, len);
    assert_int_equal(stats(c).misses, 2);
    free(sealed_sk);
    sodium_memzero(sk, sizeof(sk));
    secret_cache_free(c);
}

static void test_unopenable_not_kept(void **state)
{
    (void)state;
    struct secret_cache *c = secret_cache_new(4);
    char *sealed = seal("whsec_x");
    sealed[strlen(sealed) - 1] = sealed[strlen(sealed) - 1] == '0' ? '1' : '0'; /* tampered */
    size_t len = 0;
    assert_null(secret_cache_open(c, sealed, &len));
    assert_null(secret_cache_open(c, "zz", &len));
    assert_int_equal(stats(c).entries, 0);
    assert_int_equal(stats(c).misses, 2);
    free(sealed);
    secret_cache_free(c);
}

static void test_oversized_not_kept(void **state)
{
    (void)state;
    struct secret_cache *c = secret_cache_new(4);
    char big[SECRET_CACHE_PLAIN_MAX + 2];
    memset(big, 'q', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    char *sealed = seal(big);
    expect_open(c, sealed, big);
    expect_open(c, sealed, big);
    assert_int_equal(stats(c).entries, 0);
    assert_int_equal(stats(c).hits, 0);
    free(sealed);
    secret_cache_free(c);
}

static void test_many(void **state)
{
    (void)state;
    enum { N = 300 };
    struct secret_cache *c = secret_cache_new(N);
    char *sealed[N];
    char plain[N][32];
    for (int i = 0; i < N; i++) {
        snprintf(plain[i], sizeof(plain[i]), "whsec_%d", i);
        sealed[i] = seal(plain[i]);
        expect_open(c, sealed[i], plain[i]);
    }
    for (int i = N - 1; i >= 0; i--)
        expect_open(c, sealed[i], plain[i]);
    assert_int_equal(stats(c).hits, N);
    assert_int_equal(stats(c).evictions, 0);
    for (int i = 0; i < N; i++)
        free(sealed[i]);
    secret_cache_free(c);
}

static void test_no_cache(void **state)
{
    (void)state;
    char *sealed = seal("whsec_plain");
    expect_open(NULL, sealed, "whsec_plain");
    free(sealed);
}

int main(void)
{
    rows_add(test_hit, NULL, "a second open is a hit");
    rows_add(test_rotation, NULL, "a rotated secret is opened, the previous still opens");
    rows_add(test_eviction_wipes, NULL, "the least recently used goes and is wiped");
    rows_add(test_clear_wipes, NULL, "clearing wipes every entry");
    rows_add(test_unopenable_not_kept, NULL, "what cannot be opened is not kept");
    rows_add(test_oversized_not_kept, NULL, "oversized values are opened, not kept");
    rows_add(test_many, NULL, "many entries stay reachable");
    rows_add(test_no_cache, NULL, "no cache: opened directly");
    return rows_run("secret_cache", setup, NULL);
}
