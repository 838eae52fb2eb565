/* test_utf8.c - protects utf8.c, the strict UTF-8 check (RFC 3629) that
 * event data and names must pass, and utf8_sanitize, which makes receivers'
 * answers safe to store: the boundaries of each sequence length, overlong
 * forms, surrogates, code points above U+10FFFF, stray and missing
 * continuation bytes, and, checked exhaustively against a reference decoder
 * written here, every 1- and 2-byte input and the 3- and 4-byte inputs
 * around the boundaries. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rows.h"
#include "utf8.h"

/* ---- utf8_valid -------------------------------------------------------- */

struct valid_case {
    const char *what;
    const char *s;
    size_t len;
    bool valid;
};

static const struct valid_case valid_cases[] = {
    { "empty", S(""), true },
    { "ASCII", S("hello, world"), true },
    { "NUL", S("\0"), true },                          /* valid UTF-8; sanitize drops it */
    { "NUL inside", S("a\0b"), true },
    { "U+007F", S("\x7F"), true },
    { "U+0080", S("\xC2\x80"), true },
    { "U+00E9", S("\xC3\xA9"), true },
    { "U+07FF", S("\xDF\xBF"), true },
    { "U+0800", S("\xE0\xA0\x80"), true },
    { "U+20AC", S("\xE2\x82\xAC"), true },
    { "U+D7FF", S("\xED\x9F\xBF"), true },             /* just below the surrogates */
    { "U+E000", S("\xEE\x80\x80"), true },             /* just above them */
    { "U+FFFD", S("\xEF\xBF\xBD"), true },
    { "U+FFFF", S("\xEF\xBF\xBF"), true },
    { "U+10000", S("\xF0\x90\x80\x80"), true },
    { "U+1F600", S("\xF0\x9F\x98\x80"), true },
    { "U+10FFFF", S("\xF4\x8F\xBF\xBF"), true },
    { "mixed", S("a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80z"), true },
    { "only len counts (valid prefix)", "abc\xFF", 3, true },
    { "overlong '/' C0 AF", S("\xC0\xAF"), false },
    { "overlong NUL C0 80", S("\xC0\x80"), false },
    { "overlong U+007F C1 BF", S("\xC1\xBF"), false },
    { "overlong '/' E0 80 AF", S("\xE0\x80\xAF"), false },
    { "overlong U+07FF E0 9F BF", S("\xE0\x9F\xBF"), false },
    { "overlong '/' F0 80 80 AF", S("\xF0\x80\x80\xAF"), false },
    { "overlong U+FFFF F0 8F BF BF", S("\xF0\x8F\xBF\xBF"), false },
    { "surrogate U+D800", S("\xED\xA0\x80"), false },
    { "surrogate U+DBFF", S("\xED\xAF\xBF"), false },
    { "surrogate U+DC00", S("\xED\xB0\x80"), false },
    { "surrogate U+DFFF", S("\xED\xBF\xBF"), false },
    { "surrogate pair (CESU-8)", S("\xED\xA0\xBD\xED\xB8\x80"), false },
    { "U+110000 F4 90 80 80", S("\xF4\x90\x80\x80"), false },
    { "F4 BF BF BF", S("\xF4\xBF\xBF\xBF"), false },
    { "F5 80 80 80", S("\xF5\x80\x80\x80"), false },
    { "F7 BF BF BF", S("\xF7\xBF\xBF\xBF"), false },
    { "5-byte F8", S("\xF8\x88\x80\x80\x80"), false },
    { "6-byte FC", S("\xFC\x84\x80\x80\x80\x80"), false },
    { "FE", S("\xFE"), false },
    { "FF", S("\xFF"), false },
    { "lone continuation 80", S("\x80"), false },
    { "lone continuation BF", S("\xBF"), false },
    { "continuation inside ASCII", S("a\x80" "b"), false },
    { "two continuations", S("\x80\x80"), false },
    { "continuation after a full sequence", S("\xC3\xA9\xA9"), false },
    { "truncated C3 at the end", S("a\xC3"), false },
    { "truncated E2 82 at the end", S("a\xE2\x82"), false },
    { "truncated E2 at the end", S("\xE2"), false },
    { "truncated F0 9F 98 at the end", S("\xF0\x9F\x98"), false },
    { "truncated F0 9F at the end", S("\xF0\x9F"), false },
    { "truncated F0 at the end", S("\xF0"), false },
    { "truncated by len", "\xC3\xA9", 1, false },
    { "C3 then ASCII", S("\xC3\x28"), false },
    { "E2 28 A1", S("\xE2\x28\xA1"), false },
    { "E2 82 28", S("\xE2\x82\x28"), false },
    { "F0 28 8C BC", S("\xF0\x28\x8C\xBC"), false },
    { "F0 90 28 BC", S("\xF0\x90\x28\xBC"), false },
    { "F0 90 8C 28", S("\xF0\x90\x8C\x28"), false },
    { "E2 82 then a new lead", S("\xE2\x82\xE2\x82\xAC"), false },
    { "FF in the middle", S("hello \xFF world"), false },
    { "valid then FF", S("\xC3\xA9\xFF"), false },
    /* ASCII is skipped eight bytes at a time: what follows a run, at and
     * across the word boundaries, is still checked. */
    { "16 ASCII", S("abcdefghijklmnop"), true },
    { "17 ASCII", S("abcdefghijklmnopq"), true },
    { "FF right after a word", S("abcdefgh\xFF"), false },
    { "FF as a word's last byte", S("abcdefg\xFF"), false },
    { "FF in the second word", S("abcdefghijk\xFFmnop"), false },
    { "FF after two words", S("abcdefghijklmnop\xFF"), false },
    { "U+00E9 across a word boundary", S("abcdefg\xC3\xA9ijklmnopqrs"), true },
    { "U+1F600 across a word boundary", S("abcdef\xF0\x9F\x98\x80klmnopqrs"), true },
    { "continuation after a word", S("abcdefgh\x80ijklmnop"), false },
    { "truncated after two words", S("abcdefghijklmnop\xE2\x82"), false },
    { "surrogate between runs", S("abcdefgh\xED\xA0\x80ijklmnop"), false },
    { "only len counts after a word", "abcdefgh\xFF", 8, true },
};

static void test_valid(void **state)
{
    const struct valid_case *c = *state;
    assert_int_equal(utf8_valid(c->s, c->len), c->valid);
}

/* ---- utf8_sanitize ----------------------------------------------------- */

#define R "\xEF\xBF\xBD"   /* U+FFFD */

struct sanitize_case {
    const char *what;
    const char *in;
    size_t in_len;
    const char *out;
};

static const struct sanitize_case sanitize_cases[] = {
    { "empty", S(""), "" },
    { "ASCII", S("hello"), "hello" },
    { "valid multi-byte", S("a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80z"),
      "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80z" },
    { "U+10FFFF", S("\xF4\x8F\xBF\xBF"), "\xF4\x8F\xBF\xBF" },
    { "U+FFFD kept", S(R), R },
    { "NUL", S("\0"), R },
    { "NUL inside", S("a\0b"), "a" R "b" },
    { "two NULs", S("\0\0"), R R },
    { "FF", S("\xFF"), R },
    { "lone continuation", S("a\x80" "b"), "a" R "b" },
    { "overlong C0 AF", S("\xC0\xAF"), R R },
    { "overlong E0 80 AF", S("\xE0\x80\xAF"), R R R },
    { "surrogate ED A0 80", S("\xED\xA0\x80"), R R R },
    { "F4 90 80 80", S("\xF4\x90\x80\x80"), R R R R },
    { "truncated E2 82 at the end", S("a\xE2\x82"), "a" R R },
    { "truncated E2 82 then ASCII", S("\xE2\x82" "a"), R R "a" },
    { "truncated then a full sequence", S("\xE2\x82\xE2\x82\xAC"), R R "\xE2\x82\xAC" },
    { "only len bytes", "ab\xFF", 2, "ab" },
    { "valid, invalid, valid", S("\xC3\xA9\xFF\xC3\xA9"), "\xC3\xA9" R "\xC3\xA9" },
};

static void test_sanitize(void **state)
{
    const struct sanitize_case *c = *state;
    char *out = utf8_sanitize(c->in, c->in_len);
    assert_non_null(out);
    assert_string_equal(out, c->out);
    assert_true(utf8_valid(out, strlen(out)));
    free(out);
}

/* ---- exhaustive checks against a reference decoder --------------------- */

/* RFC 3629 by decoding: the code point of each sequence, then its range. */
static bool ref_valid(const unsigned char *s, size_t len)
{
    static const uint32_t min_cp[5] = { 0, 0, 0x80, 0x800, 0x10000 };
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        size_t n;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            n = 2;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            n = 3;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            n = 4;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (len - i < n)
            return false;
        for (size_t k = 1; k < n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        if (cp < min_cp[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += n;
    }
    return true;
}

static void check_one(const unsigned char *s, size_t len, size_t *n_valid)
{
    bool want = ref_valid(s, len);
    if (utf8_valid((const char *)s, len) != want) {
        char q[64];
        rows_quote(q, sizeof(q), (const char *)s, len);
        fail_msg("\"%s\": utf8_valid says %d, the reference %d", q, !want, want);
    }
    *n_valid += want;
}

/* Second and later bytes around every boundary a lead byte can have. */
static const unsigned char edges[] = { 0x00, 0x41, 0x7F, 0x80, 0x81, 0x8F, 0x90,
                                       0x9F, 0xA0, 0xBF, 0xC0, 0xFF };

static void test_all_short(void **state)
{
    (void)state;
    size_t n_valid = 0;
    unsigned char s[2];
    for (unsigned a = 0; a < 256; a++) {
        s[0] = (unsigned char)a;
        check_one(s, 1, &n_valid);
        for (unsigned b = 0; b < 256; b++) {
            s[1] = (unsigned char)b;
            check_one(s, 2, &n_valid);
        }
    }
    /* 128 + 128 * 128 pairs of ASCII + 1920 two-byte code points */
    assert_int_equal(n_valid, 128 + 128 * 128 + 1920);
}

static void test_three_bytes(void **state)
{
    (void)state;
    size_t n_valid = 0;
    unsigned char s[3];
    for (unsigned a = 0; a < 256; a++) {
        for (unsigned b = 0; b < 256; b++) {
            for (size_t k = 0; k < sizeof(edges); k++) {
                s[0] = (unsigned char)a;
                s[1] = (unsigned char)b;
                s[2] = edges[k];
                check_one(s, 3, &n_valid);
            }
        }
    }
    assert_true(n_valid > 0);
}

static void test_four_bytes(void **state)
{
    (void)state;
    static const unsigned char leads[] = { 0x7F, 0xC2, 0xE0, 0xED, 0xEF, 0xF0, 0xF1,
                                           0xF3, 0xF4, 0xF5, 0xF7, 0xF8, 0xFF };
    size_t n_valid = 0;
    unsigned char s[4];
    for (size_t l = 0; l < sizeof(leads); l++) {
        for (unsigned b = 0; b < 256; b++) {
            for (size_t k = 0; k < sizeof(edges); k++) {
                for (size_t m = 0; m < sizeof(edges); m++) {
                    s[0] = leads[l];
                    s[1] = (unsigned char)b;
                    s[2] = edges[k];
                    s[3] = edges[m];
                    check_one(s, 4, &n_valid);
                }
            }
        }
    }
    assert_true(n_valid > 0);
}

/* Every 1- and 2-byte input: the output is valid, has no NUL, and equals
 * the input when that was already valid and NUL-free. */
static void test_sanitize_all_short(void **state)
{
    (void)state;
    unsigned char s[2];
    for (unsigned a = 0; a < 256; a++) {
        for (unsigned b = 0; b < 256; b++) {
            s[0] = (unsigned char)a;
            s[1] = (unsigned char)b;
            for (size_t len = 1; len <= 2; len++) {
                if (len == 1 && b > 0)
                    continue;
                char *out = utf8_sanitize((const char *)s, len);
                size_t out_len = strlen(out);
                bool clean = ref_valid(s, len) && memchr(s, 0, len) == NULL;
                if (!utf8_valid(out, out_len) || out_len < len ||
                    (clean && (out_len != len || memcmp(out, s, len) != 0)))
                    fail_msg("sanitize %02x %02x (len %zu) gave %zu bytes", a, b, len,
                             out_len);
                free(out);
            }
        }
    }
}

/* ---- one cmocka test per row ------------------------------------------- */

int main(void)
{
    for (size_t i = 0; i < ROWS_COUNT(valid_cases); i++)
        rows_add(test_valid, &valid_cases[i], "valid: %s", valid_cases[i].what);
    for (size_t i = 0; i < ROWS_COUNT(sanitize_cases); i++)
        rows_add(test_sanitize, &sanitize_cases[i], "sanitize: %s", sanitize_cases[i].what);
    rows_add(test_all_short, NULL, "valid agrees with the reference: all 1 and 2 bytes");
    rows_add(test_three_bytes, NULL, "valid agrees with the reference: 3 bytes");
    rows_add(test_four_bytes, NULL, "valid agrees with the reference: 4 bytes");
    rows_add(test_sanitize_all_short, NULL, "sanitize: all 1 and 2 bytes");
    return rows_run("utf8", NULL, NULL);
}
