/* test_auth.c - protects auth_key_well_formed, the shape check that keeps
 * malformed Bearer keys away from the database: exactly "hk_" followed by
 * 40 base62 characters, within the given length (the rest of auth.c needs
 * a database and is covered by the integration tests). */
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "token.h"
#include "rows.h"

#define BODY40 "0123456789ABCDEFGHIJabcdefghijklmnopqrst"

struct key_case {
    const char *what;
    const char *key;
    size_t len;
    bool valid;
};

static const struct key_case key_cases[] = {
    { "right shape", S("hk_" BODY40), true },
    { "all digits", S("hk_0000000000000000000000000000000000000000"), true },
    { "all Z", S("hk_ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ"), true },
    { "passphrase prefix", S("hp_" BODY40), false },
    { "uppercase prefix", S("HK_" BODY40), false },
    { "no underscore", S("hkx" BODY40), false },
    { "no prefix, right length", S("xyz" BODY40), false },
    { "one char short", S("hk_" "123456789ABCDEFGHIJabcdefghijklmnopqrst"), false },
    { "one char long", S("hk_" BODY40 "u"), false },
    { "prefix only", S("hk_"), false },
    { "empty", S(""), false },
    { "dash inside", S("hk_0123456789ABCDEFGHIJabcdefghij-lmnopqrst"), false },
    { "underscore inside", S("hk_0123456789ABCDEFGHIJabcdefghij_lmnopqrst"), false },
    { "space at the end", S("hk_0123456789ABCDEFGHIJabcdefghijklmnopqrs "), false },
    { "non-ASCII byte", S("hk_0123456789ABCDEFGHIJabcdefghijklmnopqr\xc3\xa9"), false },
    { "NUL inside", S("hk_0123456789ABCDEFGHIJ\0bcdefghijklmnopqrst"), false },
    /* len is what counts, not the terminator. */
    { "valid key, len one short", "hk_" BODY40, 42, false },
    { "valid key followed by more", "hk_" BODY40 "xyz", 43, true },
};

static void test_key(void **state)
{
    const struct key_case *c = *state;
    assert_int_equal(auth_key_well_formed(c->key, c->len), c->valid);
}

/* Every key token.c issues passes the check. */
static void test_issued_keys(void **state)
{
    (void)state;
    for (int i = 0; i < 100; i++) {
        char key[TOKEN_SECRET_LEN + 1];
        token_api_key(key);
        if (!auth_key_well_formed(key, strlen(key)))
            fail_msg("issued key %s refused", key);
    }
}

/* ---- one cmocka test per row ------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    return sodium_init() < 0 ? -1 : 0;
}

int main(void)
{
    for (size_t i = 0; i < ROWS_COUNT(key_cases); i++)
        rows_add(test_key, &key_cases[i], "%s: %s", key_cases[i].valid ? "accept" : "refuse",
                 key_cases[i].what);
    rows_add(test_issued_keys, NULL, "accept every issued key");
    return rows_run("auth", group_setup, NULL);
}
