/* test_transfer.c - protects the request side of transfer.c without a
 * network: the webhook-* headers of a delivery (v1 with each secret, then a
 * v1a that verifies with the tenant's public key over
 * "{id}.{timestamp}.{body}"); one v1a shared by the deliveries of one event
 * signed with one key in the same second, and not by another event or
 * another key; a malformed or missing (unopenable) secret refused with the
 * delivery left to the caller; and a finished transfer reused for the next delivery with its
 * previous delivery's traces gone. */
#include "rows.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signature.h"
#include "transfer.h"
#include "xmalloc.h"

static struct destination_policy no_policy;   /* not consulted: nothing connects */
static const struct transfer_options options = {
    .connect_timeout_ms = 1000, .request_timeout_ms = 1000, .max_redirects = 0,
    .response_body_max = 1024, .destinations = &no_policy,
};

struct key {
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    unsigned char sk[crypto_sign_SECRETKEYBYTES];
};

static int setup(void **state)
{
    (void)state;
    return sodium_init() < 0 ? -1 : 0;
}

/* A claimed delivery owning copies of what it is given. */
static void delivery(struct claimed_delivery *d, const char *event_id, const char *url,
                     const char *secret, const struct key *key)
{
    memset(d, 0, sizeof(*d));
    d->tenant_id = 1;
    d->delivery_id = 2;
    d->endpoint_id = 3;
    snprintf(d->event_id, sizeof(d->event_id), "%s", event_id);
    d->attempt = 1;
    d->url = xstrdup(url);
    d->body = xasprintf("{\"id\":\"%s\",\"data\":{\"n\":1}}", event_id);
    d->body_len = strlen(d->body);
    d->secret = secret ? xstrdup(secret) : NULL;
    d->has_signing_key = key != NULL;
    if (key != NULL)
        memcpy(d->signing_key, key->sk, sizeof(key->sk));
}

static long long timestamp_of(const struct transfer *t)
{
    return strtoll(t->timestamp_line + strlen("webhook-timestamp: "), NULL, 10);
}

/* The v1a entry of t's signature header (borrowed). */
static const char *v1a_of(const struct transfer *t)
{
    const char *v1a = strstr(t->signature_line, "v1a,");
    assert_non_null(v1a);
    return v1a;
}

/* The v1a of t verifies with pk over "{id}.{timestamp}.{body}". */
static void expect_valid_v1a(const struct transfer *t, const unsigned char *pk)
{
    unsigned char sig[crypto_sign_BYTES];
    size_t len = 0;
    const char *b64 = v1a_of(t) + 4;
    assert_int_equal(sodium_base642bin(sig, sizeof(sig), b64, strlen(b64), NULL, &len, NULL,
                                       sodium_base64_VARIANT_ORIGINAL), 0);
    assert_int_equal(len, sizeof(sig));
    char *msg = xasprintf("%s.%lld.%s", t->delivery.event_id, timestamp_of(t), t->delivery.body);
    assert_int_equal(crypto_sign_verify_detached(sig, (const unsigned char *)msg, strlen(msg), pk),
                     0);
    free(msg);
}

/* The whole header: v1 with the secret, a space, then v1a. */
static void expect_header(const struct transfer *t, const char *secret)
{
    unsigned char key[64];
    int key_len = signature_secret_decode(secret, key);
    assert_true(key_len > 0);
    char v1[SIGNATURE_V1_LEN + 1];
    signature_v1(key, (size_t)key_len, t->delivery.event_id, timestamp_of(t), t->delivery.body,
                 t->delivery.body_len, v1);
    char *want = xasprintf("webhook-signature: %s %s", v1, v1a_of(t));
    assert_string_equal(t->signature_line, want);
    free(want);
    char id_line[64];
    snprintf(id_line, sizeof(id_line), "webhook-id: %s", t->delivery.event_id);
    assert_string_equal(t->id_line, id_line);
}

static void test_fan_out_shares_v1a(void **state)
{
    (void)state;
    struct key k1, k2;
    crypto_sign_keypair(k1.pk, k1.sk);
    crypto_sign_keypair(k2.pk, k2.sk);
    char s1[SIGNATURE_SECRET_LEN + 1], s2[SIGNATURE_SECRET_LEN + 1];
    signature_secret_new(s1);
    signature_secret_new(s2);
    struct transfer_pool *pool = transfer_pool_new(&options, 4);
    /* Two endpoints, one event: the same v1a, computed once (tried again
     * in the rare case that a second boundary fell between them). */
    bool shared = false;
    for (int attempt = 0; attempt < 3 && !shared; attempt++) {
        struct claimed_delivery a, b;
        delivery(&a, "EVsameevent00000001", "http://127.0.0.1:9/a", s1, &k1);
        delivery(&b, "EVsameevent00000001", "http://127.0.0.1:9/b", s2, &k1);
        uint64_t before = transfer_pool_signatures_reused(pool);
        struct transfer *ta = transfer_new(pool, &a);
        struct transfer *tb = transfer_new(pool, &b);
        assert_non_null(ta);
        assert_non_null(tb);
        expect_header(ta, s1);
        expect_header(tb, s2);
        expect_valid_v1a(ta, k1.pk);
        expect_valid_v1a(tb, k1.pk);
        if (timestamp_of(ta) == timestamp_of(tb)) {
            assert_string_equal(v1a_of(ta), v1a_of(tb));
            assert_int_equal(transfer_pool_signatures_reused(pool), before + 1);
            shared = true;
        }
        transfer_free(ta);
        transfer_free(tb);
    }
    assert_true(shared);
    /* Another event, and the same event under another tenant's key: each
     * signed anew, each valid with its own key. */
    uint64_t before = transfer_pool_signatures_reused(pool);
    struct claimed_delivery c, e;
    delivery(&c, "EVotherevent0000002", "http://127.0.0.1:9/a", s1, &k1);
    delivery(&e, "EVsameevent00000001", "http://127.0.0.1:9/c", s1, &k2);
    struct transfer *tc = transfer_new(pool, &c);
    struct transfer *te = transfer_new(pool, &e);
    expect_valid_v1a(tc, k1.pk);
    expect_valid_v1a(te, k2.pk);
    assert_int_equal(transfer_pool_signatures_reused(pool), before);
    transfer_free(tc);
    transfer_free(te);
    transfer_pool_free(pool);
}

static void test_no_signing_key(void **state)
{
    (void)state;
    char s1[SIGNATURE_SECRET_LEN + 1];
    signature_secret_new(s1);
    struct transfer_pool *pool = transfer_pool_new(&options, 4);
    struct claimed_delivery d;
    delivery(&d, "EVnokey000000000003", "http://127.0.0.1:9/a", s1, NULL);
    struct transfer *t = transfer_new(pool, &d);
    assert_non_null(t);
    assert_null(strstr(t->signature_line, "v1a,"));
    assert_non_null(strstr(t->signature_line, "webhook-signature: v1,"));
    assert_null(strchr(t->signature_line + strlen("webhook-signature: "), ' '));
    transfer_free(t);
    transfer_pool_free(pool);
}

static void test_malformed_secret(void **state)
{
    (void)state;
    struct key k;
    crypto_sign_keypair(k.pk, k.sk);
    struct transfer_pool *pool = transfer_pool_new(&options, 4);
    struct claimed_delivery d;
    delivery(&d, "EVbadsecret00000004", "http://127.0.0.1:9/a", "whsec_!!not base64!!", &k);
    assert_null(transfer_new(pool, &d));
    assert_non_null(d.url);      /* still the caller's */
    assert_string_equal(d.event_id, "EVbadsecret00000004");
    claimed_delivery_free(&d);
    transfer_pool_free(pool);
}

static void test_no_secret(void **state)
{
    (void)state;
    struct key k;
    crypto_sign_keypair(k.pk, k.sk);
    struct transfer_pool *pool = transfer_pool_new(&options, 4);
    struct claimed_delivery d;
    delivery(&d, "EVnosecret000000008", "http://127.0.0.1:9/a", NULL, &k);
    assert_null(transfer_new(pool, &d));  /* not sent with v1a alone, nor bare */
    assert_non_null(d.url);
    claimed_delivery_free(&d);
    transfer_pool_free(pool);
}

static void test_reused_transfer(void **state)
{
    (void)state;
    struct key k;
    crypto_sign_keypair(k.pk, k.sk);
    char s1[SIGNATURE_SECRET_LEN + 1];
    signature_secret_new(s1);
    struct transfer_pool *pool = transfer_pool_new(&options, 1);
    struct claimed_delivery a, b;
    delivery(&a, "EVfirst000000000005", "http://127.0.0.1:9/a", s1, &k);
    struct transfer *ta = transfer_new(pool, &a);
    CURL *easy = ta->easy;
    ta->truncated = true;                               /* traces of a finished request */
    snprintf(ta->errbuf, sizeof(ta->errbuf), "old error");
    snprintf(ta->guard.refused, sizeof(ta->guard.refused), "old refusal");
    assert_int_equal(buf_append(&ta->response, "old body", 8), 0);
    transfer_free(ta);
    delivery(&b, "EVsecond00000000006", "http://127.0.0.1:9/b", s1, &k);
    struct transfer *tb = transfer_new(pool, &b);
    assert_ptr_equal(tb, ta);                           /* the kept one */
    assert_ptr_equal(tb->easy, easy);
    assert_false(tb->truncated);
    assert_string_equal(tb->errbuf, "");
    assert_string_equal(tb->guard.refused, "");
    assert_int_equal(tb->response.len, 0);
    assert_string_equal(tb->delivery.url, "http://127.0.0.1:9/b");
    expect_header(tb, s1);
    expect_valid_v1a(tb, k.pk);
    /* The header list still links every line, the new values in place. */
    size_t n = 0;
    for (const struct curl_slist *h = tb->headers; h != NULL; h = h->next, n++)
        assert_non_null(h->data);
    assert_int_equal(n, TRANSFER_HEADERS);
    assert_string_equal(tb->headers[1].data, "webhook-id: EVsecond00000000006");
    /* A second transfer while the pool is empty is new; freeing both keeps
     * only one (max_idle 1). */
    struct claimed_delivery c;
    delivery(&c, "EVthird000000000007", "http://127.0.0.1:9/c", s1, &k);
    struct transfer *tc = transfer_new(pool, &c);
    assert_ptr_not_equal(tc, tb);
    transfer_free(tb);
    transfer_free(tc);
    transfer_pool_free(pool);
}

int main(void)
{
    rows_add(test_fan_out_shares_v1a, NULL, "one event's deliveries share a v1a, others not");
    rows_add(test_no_signing_key, NULL, "no signing key: v1 only");
    rows_add(test_malformed_secret, NULL, "a malformed secret is refused, the delivery kept");
    rows_add(test_no_secret, NULL, "no current secret (it could not be opened): refused");
    rows_add(test_reused_transfer, NULL, "a kept transfer is reused, its traces gone");
    return rows_run("transfer", setup, NULL);
}
