/* test_buf.c - protects buf.c, the capped buffer that holds everything a
 * peer sends or returns: appends within the cap succeed, an append beyond
 * it fails without changing the content, buf_append_truncating keeps what
 * fits, the data stays NUL-terminated (binary bytes included), and
 * buf_steal hands over a string even when nothing was appended. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "rows.h"

enum op_kind { OP_END = 0, OP_APPEND, OP_APPEND_STR, OP_TRUNCATING };

/* One call and its expected result: 0 / -1 for the appends, 1 / 0
 * (truncated or not) for buf_append_truncating. */
struct op {
    enum op_kind kind;
    const char *data;
    size_t len;
    int want;
};

struct buf_case {
    const char *what;
    size_t cap;
    struct op ops[4];
    const char *content;
    size_t content_len;
};

#define APPEND(d, want) { OP_APPEND, S(d), want }
#define APPEND_STR(d, want) { OP_APPEND_STR, S(d), want }
#define TRUNCATING(d, want) { OP_TRUNCATING, S(d), want }

static const struct buf_case buf_cases[] = {
    { "append within the cap", 10, { APPEND("abc", 0) }, S("abc") },
    { "two appends", 10, { APPEND("abc", 0), APPEND("de", 0) }, S("abcde") },
    { "append up to the cap exactly", 3, { APPEND("abc", 0) }, S("abc") },
    { "append past the cap fails", 2, { APPEND("abc", -1) }, S("") },
    { "failed append keeps the content", 5, { APPEND("abc", 0), APPEND("def", -1) }, S("abc") },
    { "room left after a failure", 5, { APPEND("abc", 0), APPEND("def", -1), APPEND("de", 0) },
      S("abcde") },
    { "full buffer refuses one byte", 3, { APPEND("abc", 0), APPEND("d", -1) }, S("abc") },
    { "empty append to a full buffer", 3, { APPEND("abc", 0), APPEND("", 0) }, S("abc") },
    { "cap 0 takes only nothing", 0, { APPEND("", 0), APPEND("a", -1) }, S("") },
    { "NUL bytes are data", 10, { APPEND("a\0b", 0), APPEND("\0", 0) }, S("a\0b\0") },
    { "append_str", 10, { APPEND_STR("abc", 0), APPEND_STR("", 0), APPEND_STR("d", 0) },
      S("abcd") },
    { "append_str past the cap", 4, { APPEND_STR("abc", 0), APPEND_STR("de", -1) }, S("abc") },
    { "truncating: fits", 5, { TRUNCATING("ab", 0) }, S("ab") },
    { "truncating: fits exactly", 4, { APPEND("ab", 0), TRUNCATING("cd", 0) }, S("abcd") },
    { "truncating: keeps the head", 5, { APPEND("abc", 0), TRUNCATING("defg", 1) }, S("abcde") },
    { "truncating: full buffer", 3, { APPEND("abc", 0), TRUNCATING("d", 1) }, S("abc") },
    { "truncating: then append fails", 4, { TRUNCATING("abcdef", 1), APPEND("x", -1) },
      S("abcd") },
    { "truncating: cap 0", 0, { TRUNCATING("abc", 1) }, S("") },
};

static void test_ops(void **state)
{
    const struct buf_case *c = *state;
    struct buf b;
    buf_init(&b, c->cap);
    for (const struct op *op = c->ops; op->kind != OP_END; op++) {
        int got = 0;
        switch (op->kind) {
        case OP_APPEND:
            got = buf_append(&b, op->data, op->len);
            break;
        case OP_APPEND_STR:
            got = buf_append_str(&b, op->data);
            break;
        case OP_TRUNCATING:
            got = buf_append_truncating(&b, op->data, op->len);
            break;
        case OP_END:
            break;
        }
        assert_int_equal(got, op->want);
        assert_true(b.len <= b.cap);
    }
    assert_int_equal(b.len, c->content_len);
    if (b.data == NULL) {
        assert_int_equal(c->content_len, 0);   /* nothing was ever appended */
    } else {
        assert_memory_equal(b.data, c->content, c->content_len);
        assert_int_equal(b.data[b.len], '\0');
    }
    buf_free(&b);
}

/* Many small appends across several reallocations keep every byte. */
static void test_growth(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 5000);
    for (int i = 0; i < 5000; i++) {
        char c = (char)('a' + i % 26);
        assert_int_equal(buf_append(&b, &c, 1), 0);
    }
    char c = 'x';
    assert_int_equal(buf_append(&b, &c, 1), -1);
    assert_int_equal(b.len, 5000);
    for (int i = 0; i < 5000; i++)
        assert_int_equal(b.data[i], 'a' + i % 26);
    assert_int_equal(b.data[5000], '\0');
    buf_free(&b);
}

static void test_steal_empty(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 10);
    char *s = buf_steal(&b);
    assert_non_null(s);
    assert_string_equal(s, "");
    free(s);
    buf_free(&b);
}

static void test_steal_hands_over(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 10);
    assert_int_equal(buf_append_str(&b, "abc"), 0);
    char *s = buf_steal(&b);
    assert_string_equal(s, "abc");
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    /* The buffer is usable again, with its cap, and independent of s. */
    assert_int_equal(buf_append_str(&b, "0123456789"), 0);
    assert_int_equal(buf_append_str(&b, "x"), -1);
    assert_string_equal(s, "abc");
    free(s);
    buf_free(&b);
}

static void test_reset(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 4);
    buf_reset(&b);                                  /* on a never-used buffer */
    assert_int_equal(buf_append_str(&b, "abcd"), 0);
    buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    assert_int_equal(buf_append_str(&b, "wxyz"), 0);   /* the whole cap again */
    assert_string_equal(b.data, "wxyz");
    buf_free(&b);
    buf_free(&b);                                   /* freeing twice is harmless */
    assert_null(b.data);
}

/* ---- one cmocka test per row ------------------------------------------- */

int main(void)
{
    for (size_t i = 0; i < ROWS_COUNT(buf_cases); i++)
        rows_add(test_ops, &buf_cases[i], "%s", buf_cases[i].what);
    rows_add(test_growth, NULL, "growth keeps every byte");
    rows_add(test_steal_empty, NULL, "steal on an empty buffer gives \"\"");
    rows_add(test_steal_hands_over, NULL, "steal hands over and resets");
    rows_add(test_reset, NULL, "reset keeps the cap");
    return rows_run("buf", NULL, NULL);
}
