/* test_okanjo_sig.c - protects okanjo_sig.c, the Okanjo-style request
 * signature: which part of the URI is signed (the query without its
 * signature pair, other pairs untouched), the HMAC-SHA256 itself against
 * vectors computed independently (openssl dgst -hmac, Python's hmac), and
 * verification that accepts exactly the right signature in either case. */
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "okanjo_sig.h"
#include "rows.h"

/* ---- okanjo_sig_signed_uri --------------------------------------------- */

struct uri_case {
    const char *raw;
    const char *signed_uri;
};

static const struct uri_case uri_cases[] = {
    { "/a", "/a" },
    { "", "" },
    { "/a?", "/a" },
    { "/a?signature=x", "/a" },
    { "/a?key=k&signature=x", "/a?key=k" },
    { "/a?signature=x&key=k", "/a?key=k" },
    { "/a?key=k&signature=x&b=2", "/a?key=k&b=2" },
    { "/a?signature=x&signature=y", "/a" },              /* every signature pair */
    { "/a?b=1&signature=x&c=3&signature=y", "/a?b=1&c=3" },
    { "/a?signature", "/a" },                            /* without '=' too */
    { "/a?signature=", "/a" },
    { "/a?signatures=1", "/a?signatures=1" },
    { "/a?xsignature=1", "/a?xsignature=1" },
    { "/a?Signature=x", "/a?Signature=x" },              /* the name is case-sensitive */
    { "/a?sig=x", "/a?sig=x" },
    { "/a?b=signature", "/a?b=signature" },
    { "/a?key=a%26signature%3Dx", "/a?key=a%26signature%3Dx" },   /* raw encoding kept */
    { "/a?b=x+y%20z&c", "/a?b=x+y%20z&c" },
    { "/a?c=3&b=2&a=1", "/a?c=3&b=2&a=1" },              /* order kept */
    { "/a?key=k&&b=2", "/a?key=k&&b=2" },                /* empty pairs kept as sent */
    { "/a?key=k&", "/a?key=k&" },
};

static void test_signed_uri(void **state)
{
    const struct uri_case *c = *state;
    char *got = okanjo_sig_signed_uri(c->raw);
    assert_non_null(got);
    assert_string_equal(got, c->signed_uri);
    free(got);
}

/* ---- okanjo_sig_compute ------------------------------------------------ */

/* Expected values from:
 *   printf '%s' "$uri$body" | openssl dgst -sha256 -hmac "$passphrase"
 * and, for the empty key and the NUL bytes, Python's hmac.new(...).hexdigest(). */
struct compute_case {
    const char *passphrase;
    size_t passphrase_len;
    const char *uri;
    const char *body;
    size_t body_len;
    const char *hex;
};

static const struct compute_case compute_cases[] = {
    { S("pass"), "/events?key=k", S("{\"a\":1}"),
      "8377ebab30fb473945d2537d344520d53eea6e8d6b8ff7d9359a96a140fda855" },
    { S("pass"), "/events?key=k", S(""),
      "c1801a1d805df700b747e2e997a827213311876fa3ac511a37dec234023e7d45" },
    { S("hp_secret"), "/events/types", S(""),
      "623de3e5891b6b1395484f4a0e5d6ddb50938daed4f473364b1d713ff0a53df7" },
    { S("pass"), "/e", S("\0x"),                              /* body bytes after a NUL */
      "b68b44aeefa76fbad8fa2ce3a242b8b240aa0f189b2bdff9b41759f3bf663dae" },
    { S("passphrase-longer-than-sixty-four-bytes-to-exercise-the-hmac-key-hashing-path!"),
      "/events?key=k", S("{\"a\":1}"),
      "543134fa1c9d6ff250e1908797bd37522c9bfa7728b07ad87a0edd50e145b9dc" },
    { S("pa\0s"), "/events?key=k", S("{\"a\":1}"),           /* passphrase_len counts */
      "cbff534ef5bc9c73eb721d5d8815cdc521fe8a526d340faef1ff9307e42324b5" },
    { S(""), "/x", S(""),
      "517bd1658e2e7edb93b331436212e0ef695cb6a5bbc7fe7cc3ba3911b9553e4e" },
};

static void test_compute(void **state)
{
    const struct compute_case *c = *state;
    char out[OKANJO_SIG_HEX_LEN + 1];
    memset(out, 'Z', sizeof(out));
    okanjo_sig_compute(c->passphrase, c->passphrase_len, c->uri, c->body, c->body_len, out);
    assert_int_equal(out[OKANJO_SIG_HEX_LEN], '\0');
    assert_string_equal(out, c->hex);
}

/* ---- okanjo_sig_verify ------------------------------------------------- */

/* Every row checks a signature against passphrase "pass", URI
 * "/events?key=k" and body {"a":1}, unless it overrides one of them. */
#define GOOD "8377ebab30fb473945d2537d344520d53eea6e8d6b8ff7d9359a96a140fda855"

struct verify_case {
    const char *what;
    const char *signature;
    const char *passphrase;   /* NULL: "pass" */
    const char *body;         /* NULL: {"a":1} */
    bool valid;
};

static const struct verify_case verify_cases[] = {
    { "right signature", GOOD, NULL, NULL, true },
    { "uppercase hex", "8377EBAB30FB473945D2537D344520D53EEA6E8D6B8FF7D9359A96A140FDA855", NULL,
      NULL, true },
    { "mixed case hex", "8377EBab30fb473945d2537d344520d53eea6e8d6b8ff7d9359a96a140fdA855", NULL,
      NULL, true },
    { "first char flipped", "9377ebab30fb473945d2537d344520d53eea6e8d6b8ff7d9359a96a140fda855",
      NULL, NULL, false },
    { "last char flipped", "8377ebab30fb473945d2537d344520d53eea6e8d6b8ff7d9359a96a140fda856",
      NULL, NULL, false },
    { "one char short", "8377ebab30fb473945d2537d344520d53eea6e8d6b8ff7d9359a96a140fda85", NULL,
      NULL, false },
    { "one char long", GOOD "5", NULL, NULL, false },
    { "two chars long", GOOD "00", NULL, NULL, false },
    { "empty", "", NULL, NULL, false },
    { "non-hex char", "8377ebab30fb473945d2537d344520d53eea6e8d6b8ff7d9359a96a140fda85g", NULL,
      NULL, false },
    { "colon separators", "83:7ebab30fb473945d2537d344520d53eea6e8d6b8ff7d9359a96a140fda855",
      NULL, NULL, false },
    { "space inside", "8377ebab30fb473945d2537d344520d53eea6e8d6b8ff7d9359a96a140fda 55", NULL,
      NULL, false },
    { "different body", GOOD, NULL, "{\"a\":2}", false },
    { "empty body", GOOD, NULL, "", false },
    { "different passphrase", GOOD, "pasS", NULL, false },
    { "passphrase prefix", GOOD, "pas", NULL, false },
};

static void test_verify(void **state)
{
    const struct verify_case *c = *state;
    const char *passphrase = c->passphrase ? c->passphrase : "pass";
    const char *body = c->body ? c->body : "{\"a\":1}";
    assert_int_equal(okanjo_sig_verify(passphrase, strlen(passphrase), "/events?key=k", body,
                                       strlen(body), c->signature),
                     c->valid);
}

/* What a client does: sign the URI it sends, append the signature, and
 * the server, stripping it again, accepts the request. */
static void test_round_trip(void **state)
{
    (void)state;
    const char *body = "type=a&data=%7B%7D";
    char sig[OKANJO_SIG_HEX_LEN + 1];
    okanjo_sig_compute("hp_x", 4, "/events?key=hk_y&b=1", body, strlen(body), sig);
    char raw[256];
    snprintf(raw, sizeof(raw), "/events?key=hk_y&signature=%s&b=1", sig);
    char *signed_uri = okanjo_sig_signed_uri(raw);
    assert_string_equal(signed_uri, "/events?key=hk_y&b=1");
    assert_true(okanjo_sig_verify("hp_x", 4, signed_uri, body, strlen(body), sig));
    free(signed_uri);
}

/* ---- one cmocka test per row ------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    return sodium_init() < 0 ? -1 : 0;
}

int main(void)
{
    for (size_t i = 0; i < ROWS_COUNT(uri_cases); i++)
        rows_add(test_signed_uri, &uri_cases[i], "signed_uri \"%s\"", uri_cases[i].raw);
    for (size_t i = 0; i < ROWS_COUNT(compute_cases); i++)
        rows_add(test_compute, &compute_cases[i], "compute %s", compute_cases[i].hex);
    for (size_t i = 0; i < ROWS_COUNT(verify_cases); i++)
        rows_add(test_verify, &verify_cases[i], "verify: %s", verify_cases[i].what);
    rows_add(test_round_trip, NULL, "sign, strip, verify");
    return rows_run("okanjo_sig", group_setup, NULL);
}
