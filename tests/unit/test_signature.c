/* test_signature.c - protects signature.c, the Standard Webhooks signatures
 * receivers check: v1 (HMAC-SHA256 over "id.timestamp.body", keyed with the
 * decoded whsec_ secret) against the spec's own example and vectors from
 * Python's hmac, v1a (Ed25519) against vectors from Python's cryptography
 * package for a fixed seed and by verifying with libsodium, the whsec_ /
 * whpk_ formats and their decoding, and the webhook-signature header that
 * joins them (order, separators, skipped and malformed secrets). */
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rows.h"
#include "signature.h"

/* The Ed25519 key pair of seed 00 01 02 .. 1f, made in the group setup.
 * Python: Ed25519PrivateKey.from_private_bytes(bytes(range(32))). */
static unsigned char seed_pk[crypto_sign_PUBLICKEYBYTES];
static unsigned char seed_sk[crypto_sign_SECRETKEYBYTES];
#define SEED_PK_TEXT "whpk_A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="

/* base64 of bytes(range(n)) */
#define K1 "AA=="
#define K31 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg=="
#define K32 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define K64                                                                             \
    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7" \
    "PD0+Pw=="
#define K65                                                                             \
    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7" \
    "PD0+P0A="
#define SPEC_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define SPEC_ID "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define SPEC_TS 1614265330LL
#define SPEC_BODY "{\"test\": 2432232314}"

#define M10 "mmmmmmmmmm"
#define M150 M10 M10 M10 M10 M10 M10 M10 M10 M10 M10 M10 M10 M10 M10 M10

/* Decodes standard base64 with libsodium directly, not with the code
 * under test. */
static size_t b64_decode(const char *b64, unsigned char *out, size_t cap)
{
    size_t len = 0;
    if (sodium_base642bin(out, cap, b64, strlen(b64), NULL, &len, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        fail_msg("test data: bad base64 %s", b64);
    return len;
}

/* ---- signature_secret_decode ------------------------------------------- */

struct decode_case {
    const char *secret;
    int len;                 /* -1: refused */
    const char *key_b64;     /* the bytes expected, when accepted */
};

static const struct decode_case decode_cases[] = {
    { SPEC_SECRET, 24, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" },
    { "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 24, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" },
    { "whsec_" K32, 32, K32 },
    { K32, 32, K32 },
    { "whsec_" K1, 1, K1 },
    { "whsec_" K31, 31, K31 },
    { "whsec_" K64, 64, K64 },                   /* the most a key may hold */
    { "whsec_" K65, -1, NULL },                  /* one byte too many */
    { K65, -1, NULL },
    { "", -1, NULL },
    { "whsec_", -1, NULL },
    { "whsec_!!!!", -1, NULL },
    { "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg", -1, NULL },   /* padding missing */
    { "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg=", -1, NULL },  /* padding cut */
    { "whsec_" K32 "=", -1, NULL },              /* one '=' too many */
    { "whsec_" K32 "\n", -1, NULL },             /* trailing newline */
    { "whsec_ " K32, -1, NULL },                 /* space after the prefix */
    { "whsec_AAECAwQFBgcICQoLDA0O DxAREhMUFRYXGBkaGxwdHh8=", -1, NULL },
    { "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh-_", -1, NULL },   /* URL-safe alphabet */
    { "whsec_whsec_" K32, -1, NULL },            /* the prefix is stripped once */
    { "WHSEC_" K32, -1, NULL },                  /* the prefix is case-sensitive */
    { "whpk_" K32, -1, NULL },
    { "=", -1, NULL },
    { "====", -1, NULL },
};

static void test_secret_decode(void **state)
{
    const struct decode_case *c = *state;
    unsigned char key[64 + 8];
    memset(key, 0xa5, sizeof(key));
    int len = signature_secret_decode(c->secret, key);
    assert_int_equal(len, c->len);
    for (size_t i = 64; i < sizeof(key); i++)
        assert_int_equal(key[i], 0xa5);             /* nothing past the 64 bytes */
    if (c->len < 0)
        return;
    unsigned char want[64];
    size_t want_len = b64_decode(c->key_b64, want, sizeof(want));
    assert_int_equal(want_len, (size_t)c->len);
    assert_memory_equal(key, want, want_len);
}

/* ---- signature_secret_new ---------------------------------------------- */

static void test_secret_new_shape(void **state)
{
    (void)state;
    char out[SIGNATURE_SECRET_LEN + 2];
    memset(out, '#', sizeof(out));
    signature_secret_new(out);
    assert_int_equal(out[SIGNATURE_SECRET_LEN], '\0');
    assert_int_equal(out[SIGNATURE_SECRET_LEN + 1], '#');
    assert_int_equal(strlen(out), 50);
    assert_memory_equal(out, "whsec_", 6);
    unsigned char key[64];
    assert_int_equal(signature_secret_decode(out, key), SIGNATURE_SECRET_BYTES);
    /* and the same bytes when decoded independently */
    unsigned char want[64];
    assert_int_equal(b64_decode(out + 6, want, sizeof(want)), SIGNATURE_SECRET_BYTES);
    assert_memory_equal(key, want, SIGNATURE_SECRET_BYTES);
}

static void test_secret_new_differs(void **state)
{
    (void)state;
    char a[SIGNATURE_SECRET_LEN + 1], b[SIGNATURE_SECRET_LEN + 1];
    signature_secret_new(a);
    signature_secret_new(b);
    assert_string_not_equal(a, b);
    /* not all zero either: a fixed or unfilled key would decode to zeros */
    unsigned char key[64], zero[SIGNATURE_SECRET_BYTES] = { 0 };
    assert_int_equal(signature_secret_decode(a, key), SIGNATURE_SECRET_BYTES);
    assert_memory_not_equal(key, zero, SIGNATURE_SECRET_BYTES);
}

/* ---- signature_public_key_format, signature_keypair_new ---------------- */

static void test_public_key_seed(void **state)
{
    (void)state;
    char out[SIGNATURE_PUBLIC_KEY_LEN + 2];
    memset(out, '#', sizeof(out));
    signature_public_key_format(seed_pk, out);
    assert_int_equal(out[SIGNATURE_PUBLIC_KEY_LEN + 1], '#');
    assert_string_equal(out, SEED_PK_TEXT);
}

static void test_public_key_round_trip(void **state)
{
    (void)state;
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    signature_keypair_new(pk, sk);
    assert_memory_equal(sk + 32, pk, sizeof(pk));        /* libsodium: sk = seed || pk */
    char out[SIGNATURE_PUBLIC_KEY_LEN + 1];
    signature_public_key_format(pk, out);
    assert_int_equal(strlen(out), SIGNATURE_PUBLIC_KEY_LEN);
    assert_memory_equal(out, "whpk_", 5);
    unsigned char back[64];
    assert_int_equal(b64_decode(out + 5, back, sizeof(back)), sizeof(pk));
    assert_memory_equal(back, pk, sizeof(pk));
}

static void test_keypair_differs(void **state)
{
    (void)state;
    unsigned char pk1[crypto_sign_PUBLICKEYBYTES], sk1[crypto_sign_SECRETKEYBYTES];
    unsigned char pk2[crypto_sign_PUBLICKEYBYTES], sk2[crypto_sign_SECRETKEYBYTES];
    signature_keypair_new(pk1, sk1);
    signature_keypair_new(pk2, sk2);
    assert_memory_not_equal(pk1, pk2, sizeof(pk1));
    assert_memory_not_equal(sk1, sk2, 32);
}

/* ---- signature_v1 ------------------------------------------------------ */

/* Expected values from Python:
 *   "v1," + base64.b64encode(hmac.new(key, f"{id}.{ts}.".encode() + body,
 *                                     hashlib.sha256).digest()).decode() */
struct v1_case {
    const char *key_b64;
    const char *msg_id;
    long long ts;
    const char *body;
    size_t body_len;
    const char *sig;
};

static const struct v1_case v1_cases[] = {
    /* the example of the Standard Webhooks specification */
    { "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", SPEC_ID, SPEC_TS, S(SPEC_BODY),
      "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" },
    { K32, "msg_1", 0, S(""), "v1,7KQKbkrcYd5b9ynRqa9UF2RsXI3TOQ1Thl++uYFdWNs=" },
    { K32, "msg_1", -1, S("{}"), "v1,wdpgOEZnrp9kFVRurZ5HglebLpLZPlVwAlAkNHjtoJk=" },
    { K32, "evt_abc", 9999999999LL, S("a\0b"),                 /* body bytes after a NUL */
      "v1,eVatFxjRHWuAxp6x8xOC53S2UQguTBJOSq+u07skD3o=" },
    { K64, "msg_1", 1700000000, S("{\"a\":1}"),
      "v1,r/D3IvKK4OtHjylBKLWC+BKYljeR7ZAlwAraJler3ME=" },
    { K1, "x", 1, S("y"), "v1,zfPGZZUojTPoOZkqwcJWfeqdWXagK+xi5u2w5W4iLmA=" },
    { K32, "", 1700000000, S("{\"a\":1}"), "v1,CTMTEoyxGcj4lFZc9p+ouEJtjHejKIs2MUO4rqcBAD0=" },
    /* An id too long for the 128-byte buffer "id.ts." was once formatted
     * into: the HMAC read past it (fixed in 08017b2). */
    { K32, M150, 1700000000, S("{\"a\":1}"), "v1,Aqcvzisk5DwsJx75Ev1+MwrQk27I6bb8Y/N7j4mymBc=" },
};

static void test_v1(void **state)
{
    const struct v1_case *c = *state;
    unsigned char key[64];
    size_t key_len = b64_decode(c->key_b64, key, sizeof(key));
    char out[SIGNATURE_V1_LEN + 2];
    memset(out, '#', sizeof(out));
    signature_v1(key, key_len, c->msg_id, c->ts, c->body, c->body_len, out);
    assert_int_equal(out[SIGNATURE_V1_LEN + 1], '#');
    assert_int_equal(strlen(out), SIGNATURE_V1_LEN);   /* "v1," + 44 base64 characters */
    assert_string_equal(out, c->sig);
}

/* The spec's example end to end: the secret as configured, through the
 * header the deliveries carry. */
static void test_v1_spec_header(void **state)
{
    (void)state;
    const char *secrets[] = { SPEC_SECRET };
    char *h = signature_header(secrets, 1, NULL, SPEC_ID, SPEC_TS, S(SPEC_BODY));
    assert_non_null(h);
    assert_string_equal(h, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    free(h);
}

/* ---- signature_v1a ----------------------------------------------------- */

/* Expected values from Python's cryptography package:
 *   Ed25519PrivateKey.from_private_bytes(bytes(range(32))).sign(
 *       f"{id}.{ts}.".encode() + body)   (Ed25519 is deterministic) */
struct v1a_case {
    const char *msg_id;
    long long ts;
    const char *body;
    size_t body_len;
    const char *sig;
};

static const struct v1a_case v1a_cases[] = {
    { SPEC_ID, SPEC_TS, S(SPEC_BODY),
      "v1a,yoUrgEkc12aGqm0n4Sydmdz55xJfTz4AsAgieHFjmkR7LJtqVCZOQYzvvHjI5kAey+r4iaBGxTFRrl2iBQxt"
      "DQ==" },
    { "msg_1", 0, S(""),
      "v1a,QpplEQkR9KDdp645iIKKweRzgX+QHqg6q09Ey++f7031cPsabP1kIhfpj9ah7Dik1WnzM9//sLCBRN/MXWqP"
      "Dw==" },
    { "evt_abc", 9999999999LL, S("a\0b"),
      "v1a,zDeuWePJSgRyJJsrabUwHXBqzo1fKw4zn1MvErwDijtXa572gGzE4CirCxr01ayiC5sp5wJUAQz1edkdHYtM"
      "Cg==" },
    /* The long id again (see v1). */
    { M150, 1700000000, S("{\"a\":1}"),
      "v1a,LuGktsA0EMbZX5v7RQqdnvhZzbsR5mnVRoufj2z/Z5AI/3bxACChqKa0Nqp2hSfTCl1wVHPG3WFFJtiD9sZP"
      "AQ==" },
};

/* The bytes a receiver verifies: "id.ts.body". */
static size_t signed_content(char *out, size_t cap, const char *msg_id, long long ts,
                             const char *body, size_t body_len)
{
    int n = snprintf(out, cap, "%s.%lld.", msg_id, ts);
    assert_true(n > 0 && (size_t)n + body_len <= cap);
    memcpy(out + n, body, body_len);
    return (size_t)n + body_len;
}

/* The signature bytes of "v1a,<base64>". */
static void v1a_bytes(const char *sig, unsigned char out[crypto_sign_BYTES])
{
    assert_memory_equal(sig, "v1a,", 4);
    unsigned char buf[128];
    assert_int_equal(b64_decode(sig + 4, buf, sizeof(buf)), crypto_sign_BYTES);
    memcpy(out, buf, crypto_sign_BYTES);
}

static void test_v1a(void **state)
{
    const struct v1a_case *c = *state;
    char out[SIGNATURE_V1A_LEN + 2];
    memset(out, '#', sizeof(out));
    signature_v1a(seed_sk, c->msg_id, c->ts, c->body, c->body_len, out);
    assert_int_equal(out[SIGNATURE_V1A_LEN + 1], '#');
    assert_int_equal(strlen(out), SIGNATURE_V1A_LEN);  /* "v1a," + 88 base64 characters */
    assert_string_equal(out, c->sig);

    unsigned char sig[crypto_sign_BYTES];
    v1a_bytes(out, sig);
    char msg[256];
    size_t len = signed_content(msg, sizeof(msg), c->msg_id, c->ts, c->body, c->body_len);
    assert_int_equal(crypto_sign_verify_detached(sig, (const unsigned char *)msg, len, seed_pk), 0);
}

/* A signature by a fresh key verifies over "id.ts.body" with its public
 * key, and not once any part of that content or the key changes. */
struct tamper_case {
    const char *what;
    const char *msg_id;
    long long ts;
    const char *body;
    bool other_key;
    bool valid;
};

static const struct tamper_case tamper_cases[] = {
    { "same content", "msg_t", 1700000000, "{\"a\":1}", false, true },
    { "body changed", "msg_t", 1700000000, "{\"a\":2}", false, false },
    { "body with a trailing space", "msg_t", 1700000000, "{\"a\":1} ", false, false },
    { "empty body", "msg_t", 1700000000, "", false, false },
    { "id changed", "msg_u", 1700000000, "{\"a\":1}", false, false },
    { "timestamp changed", "msg_t", 1700000001, "{\"a\":1}", false, false },
    { "other public key", "msg_t", 1700000000, "{\"a\":1}", true, false },
};

static void test_v1a_tamper(void **state)
{
    const struct tamper_case *c = *state;
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    signature_keypair_new(pk, sk);
    const char *body = "{\"a\":1}";
    char out[SIGNATURE_V1A_LEN + 1];
    signature_v1a(sk, "msg_t", 1700000000, body, strlen(body), out);
    unsigned char sig[crypto_sign_BYTES];
    v1a_bytes(out, sig);
    char msg[256];
    size_t len = signed_content(msg, sizeof(msg), c->msg_id, c->ts, c->body, strlen(c->body));
    const unsigned char *key = c->other_key ? seed_pk : pk;
    assert_int_equal(crypto_sign_verify_detached(sig, (const unsigned char *)msg, len, key) == 0,
                     c->valid);
}

/* ---- signature_header -------------------------------------------------- */

/* Every row signs id "msg_h", timestamp 1700000000 and body {"h":true}.
 * A and B are the v1 signatures of the secrets SA and SB (Python's hmac),
 * C the v1a signature of the seed key (Python's cryptography). */
#define SA "whsec_ERERERERERERERERERERERERERERERERERERERERERE="
#define SB "whsec_IiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiI="
#define BAD "whsec_not base64"
#define A "v1,frikeaXB546GCYEaVD7YoGuOGmdJ2QSWGN1rnP04umg="
#define B "v1,yWnQrzNUBRTFsv74Q3fsbcFVOoTrl5+krJ9UEx2tPco="
#define C                                                                                   \
    "v1a,xFL1bcFUmehJDXlTV2wZxG1ja6+HhoxJksW+N8sZwz5yoG1HiWAdzgFj5gfZDQ6vO+QZfDaQN9oN1CXjbmlM" \
    "Cg=="

struct header_case {
    const char *what;
    const char *secrets[3];
    size_t n_secrets;
    bool with_sk;
    const char *header;      /* NULL: refused */
};

static const struct header_case header_cases[] = {
    { "A", { SA }, 1, false, A },
    { "B", { SB }, 1, false, B },
    { "A B", { SA, SB }, 2, false, A " " B },
    { "B A", { SB, SA }, 2, false, B " " A },
    { "A B C", { SA, SB }, 2, true, A " " B " " C },
    { "A C", { SA }, 1, true, A " " C },
    { "C alone", { NULL }, 0, true, C },
    { "NULL B", { NULL, SB }, 2, false, B },
    { "A NULL", { SA, NULL }, 2, false, A },
    { "A NULL B", { SA, NULL, SB }, 3, false, A " " B },
    { "NULL NULL C", { NULL, NULL }, 2, true, C },
    { "NULL B C", { NULL, SB }, 2, true, B " " C },
    { "only NULLs", { NULL, NULL }, 2, false, "" },
    { "nothing", { NULL }, 0, false, "" },
    { "A A", { SA, SA }, 2, false, A " " A },
    { "unprefixed secret", { "ERERERERERERERERERERERERERERERERERERERERERE=" }, 1, false, A },
    { "n_secrets bounds the list", { SA, SB }, 1, false, A },
    { "malformed", { BAD }, 1, false, NULL },
    { "malformed with sk", { BAD }, 1, true, NULL },
    { "A malformed", { SA, BAD }, 2, true, NULL },
    { "malformed B", { BAD, SB }, 2, false, NULL },
    { "empty secret", { "" }, 1, false, NULL },
    { "bare prefix", { "whsec_" }, 1, true, NULL },
};

static void test_header(void **state)
{
    const struct header_case *c = *state;
    const char *body = "{\"h\":true}";
    char *h = signature_header(c->secrets, c->n_secrets, c->with_sk ? seed_sk : NULL, "msg_h",
                               1700000000, body, strlen(body));
    if (c->header == NULL) {
        assert_null(h);
        return;
    }
    assert_non_null(h);
    assert_string_equal(h, c->header);
    free(h);
}

/* ---- one cmocka test per row ------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    if (sodium_init() < 0)
        return -1;
    unsigned char seed[crypto_sign_SEEDBYTES];
    for (size_t i = 0; i < sizeof(seed); i++)
        seed[i] = (unsigned char)i;
    return crypto_sign_seed_keypair(seed_pk, seed_sk, seed);
}

int main(void)
{
    char q[160];
    for (size_t i = 0; i < ROWS_COUNT(decode_cases); i++) {
        rows_quote(q, sizeof(q), decode_cases[i].secret, strlen(decode_cases[i].secret));
        rows_add(test_secret_decode, &decode_cases[i], "secret_decode \"%s\"", q);
    }
    rows_add(test_secret_new_shape, NULL, "secret_new: whsec_ and 32 bytes");
    rows_add(test_secret_new_differs, NULL, "secret_new: two differ");
    rows_add(test_public_key_seed, NULL, "public_key_format of the seed key");
    rows_add(test_public_key_round_trip, NULL, "public_key_format decodes back to pk");
    rows_add(test_keypair_differs, NULL, "keypair_new: two differ");
    for (size_t i = 0; i < ROWS_COUNT(v1_cases); i++)
        rows_add(test_v1, &v1_cases[i], "v1 %.20s%s %lld", v1_cases[i].msg_id,
                 strlen(v1_cases[i].msg_id) > 20 ? "..." : "", v1_cases[i].ts);
    rows_add(test_v1_spec_header, NULL, "v1 spec example through signature_header");
    for (size_t i = 0; i < ROWS_COUNT(v1a_cases); i++)
        rows_add(test_v1a, &v1a_cases[i], "v1a %.20s%s %lld", v1a_cases[i].msg_id,
                 strlen(v1a_cases[i].msg_id) > 20 ? "..." : "", v1a_cases[i].ts);
    for (size_t i = 0; i < ROWS_COUNT(tamper_cases); i++)
        rows_add(test_v1a_tamper, &tamper_cases[i], "v1a verify: %s", tamper_cases[i].what);
    for (size_t i = 0; i < ROWS_COUNT(header_cases); i++)
        rows_add(test_header, &header_cases[i], "header: %s", header_cases[i].what);
    return rows_run("signature", group_setup, NULL);
}
