/* test_form.c - protects form.c, the application/x-www-form-urlencoded
 * decoder behind every query string and form body: percent-decoding, '+' as
 * a space, skipped empty pairs, pairs without '=', NUL bytes kept with their
 * length, and malformed escapes or empty names refused with the right field
 * name (so clients get "Invalid field {name}." rather than garbage). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "form.h"
#include "rows.h"

/* ---- form_decode ------------------------------------------------------- */

struct decode_case {
    const char *in;
    size_t in_len;
    bool ok;
    const char *out;   /* expected bytes when ok */
    size_t out_len;
};

static const struct decode_case decode_cases[] = {
    { S(""), true, S("") },
    { S("abc"), true, S("abc") },
    { S("+"), true, S(" ") },
    { S("a+b+"), true, S("a b ") },
    { S("%20"), true, S(" ") },
    { S("%2B"), true, S("+") },                 /* an escaped '+' is not a space */
    { S("%2b%7e%7E"), true, S("+~~") },          /* both hex cases */
    { S("x%41"), true, S("xA") },                /* escape ending exactly at len */
    { S("%41%42%43"), true, S("ABC") },
    { S("%25"), true, S("%") },
    { S("%C3%A9"), true, S("\xc3\xa9") },
    { S("%ff"), true, S("\xff") },
    { S("%00"), true, S("\0") },                 /* NUL kept, length 1 */
    { S("a%00b"), true, S("a\0b") },
    { S("%00%00"), true, S("\0\0") },
    { S("%"), false, NULL, 0 },
    { S("%4"), false, NULL, 0 },
    { S("%zz"), false, NULL, 0 },
    { S("a%"), false, NULL, 0 },                 /* malformed at the end */
    { S("a%4"), false, NULL, 0 },
    { S("a%zz"), false, NULL, 0 },
    { S("a%zzb"), false, NULL, 0 },              /* malformed in the middle */
    { S("a%4gb"), false, NULL, 0 },
    { S("a%g4b"), false, NULL, 0 },
    { S("%%41"), false, NULL, 0 },
    { "%41", 2, false, NULL, 0 },                /* the escape is cut by len */
    { "ab%41", 1, true, S("a") },               /* bytes past len are ignored */
};

static void test_decode(void **state)
{
    const struct decode_case *c = *state;
    size_t out_len = 12345;
    char got[32];
    char *out = form_decode(c->in, c->in_len, &out_len);
    bool decoded = out != NULL;
    if (decoded) {
        assert_in_range(out_len, 0, sizeof(got) - 1);
        memcpy(got, out, out_len + 1);
        free(out);
    }
    assert_int_equal(decoded, c->ok);
    if (decoded) {
        assert_int_equal(out_len, c->out_len);
        assert_memory_equal(got, c->out, c->out_len + 1);   /* + the terminator */
    }
}

/* ---- form_parse -------------------------------------------------------- */

/* The pairs the callback saw, as name=value\n with raw bytes (NULs kept). */
struct collected {
    char text[512];
    size_t len;
    int calls;
    int stop_at;        /* return -1 on this call (1-based), 0 = never */
};

static void collect_bytes(struct collected *c, const char *data, size_t n)
{
    assert_true(c->len + n < sizeof(c->text));
    memcpy(c->text + c->len, data, n);
    c->len += n;
}

static int collect_pair(void *ctx, const char *name, size_t name_len, const char *value,
                        size_t value_len, struct hk_error *err)
{
    struct collected *c = ctx;
    /* The copies handed over must be NUL-terminated at their lengths. */
    assert_int_equal(name[name_len], '\0');
    assert_int_equal(value[value_len], '\0');
    c->calls++;
    if (c->stop_at != 0 && c->calls == c->stop_at) {
        hk_error_set(err, HK_ERR_SUB_CONFLICT, "stopped by the callback");
        return -1;
    }
    collect_bytes(c, name, name_len);
    collect_bytes(c, "=", 1);
    collect_bytes(c, value, value_len);
    collect_bytes(c, "\n", 1);
    return 0;
}

struct parse_case {
    const char *in;
    size_t in_len;
    const char *what;
    int rc;
    const char *pairs;            /* the pairs delivered (before any error) */
    size_t pairs_len;
    const char *err_field;        /* for rc == -1: the field of HK_ERR_INVALID */
};

static const struct parse_case parse_cases[] = {
    { S(""), "body", 0, S(""), NULL },
    { S("a=1"), "body", 0, S("a=1\n"), NULL },
    { S("a=1&b=x%20y+z"), "body", 0, S("a=1\nb=x y z\n"), NULL },
    { S("&"), "body", 0, S(""), NULL },
    { S("&&a=1&&b=2&"), "body", 0, S("a=1\nb=2\n"), NULL },   /* empty pairs skipped */
    { S("flag"), "body", 0, S("flag=\n"), NULL },             /* no '=': empty value */
    { S("flag&b=2"), "body", 0, S("flag=\nb=2\n"), NULL },
    { S("a="), "body", 0, S("a=\n"), NULL },
    { S("a=b=c"), "body", 0, S("a=b=c\n"), NULL },            /* first '=' splits */
    { S("a%3Db=c%26d"), "body", 0, S("a=b=c&d\n"), NULL },    /* escaped '=' and '&' */
    { S("na+me=v+al"), "body", 0, S("na me=v al\n"), NULL },  /* '+' in names too */
    { S("%41%62=%7e"), "body", 0, S("Ab=~\n"), NULL },
    { S("a=%00"), "body", 0, S("a=\0\n"), NULL },             /* NUL value, length 1 */
    { S("a=x%00y&b=1"), "body", 0, S("a=x\0y\nb=1\n"), NULL },
    { S("a=%C3%A9"), "body", 0, S("a=\xc3\xa9\n"), NULL },
    { S("a=1&a=2"), "body", 0, S("a=1\na=2\n"), NULL },       /* duplicates: params' job */
    /* Malformed escapes in a value name the field. */
    { S("a=%"), "body", -1, S(""), "a" },
    { S("a=%4"), "body", -1, S(""), "a" },
    { S("a=%zz"), "body", -1, S(""), "a" },
    { S("a=x%zzy"), "body", -1, S(""), "a" },
    { S("a=1&bad=%4&c=3"), "body", -1, S("a=1\n"), "bad" },
    { S("a%00b=%"), "body", -1, S(""), "a" },   /* field is a C string: cut at the NUL */
    /* Malformed names and empty names name the source ("what"). */
    { S("%=1"), "body", -1, S(""), "body" },
    { S("a%zz=1"), "query", -1, S(""), "query" },
    { S("%4"), "body", -1, S(""), "body" },
    { S("=1"), "body", -1, S(""), "body" },
    { S("="), "query", -1, S(""), "query" },
    { S("a=1&=2"), "body", -1, S("a=1\n"), "body" },
};

static void test_parse(void **state)
{
    const struct parse_case *c = *state;
    struct collected got = { .len = 0 };
    struct hk_error err;
    hk_error_clear(&err);
    int rc = form_parse(c->in, c->in_len, c->what, collect_pair, &got, &err);
    assert_int_equal(rc, c->rc);
    assert_int_equal(got.len, c->pairs_len);
    assert_memory_equal(got.text, c->pairs, c->pairs_len);
    if (c->rc == 0) {
        assert_int_equal(err.code, HK_OK);
    } else {
        assert_int_equal(err.code, HK_ERR_INVALID);
        assert_string_equal(err.field, c->err_field);
    }
}

/* A callback returning -1 stops the parse and keeps the error it set. */
static void test_parse_callback_stops(void **state)
{
    (void)state;
    struct collected got = { .stop_at = 2 };
    struct hk_error err;
    hk_error_clear(&err);
    assert_int_equal(form_parse(S("a=1&b=2&c=3"), "body", collect_pair, &got, &err), -1);
    assert_int_equal(got.calls, 2);
    assert_int_equal(got.len, strlen("a=1\n"));
    assert_memory_equal(got.text, "a=1\n", got.len);
    assert_int_equal(err.code, HK_ERR_SUB_CONFLICT);
}

/* ---- one cmocka test per row, named after its input ------------------- */

/* Adds a test named kind, followed by the quoted input. */
static void add_input_test(CMUnitTestFunction fn, const void *row, const char *kind,
                           const char *in, size_t in_len)
{
    char q[96];
    rows_quote(q, sizeof(q), in, in_len);
    rows_add(fn, row, "%s \"%s\" (len %zu)", kind, q, in_len);
}

int main(void)
{
    for (size_t i = 0; i < ROWS_COUNT(decode_cases); i++)
        add_input_test(test_decode, &decode_cases[i], "decode", decode_cases[i].in,
                       decode_cases[i].in_len);
    for (size_t i = 0; i < ROWS_COUNT(parse_cases); i++)
        add_input_test(test_parse, &parse_cases[i], "parse", parse_cases[i].in,
                       parse_cases[i].in_len);
    rows_add(test_parse_callback_stops, NULL, "parse stops when the callback fails");
    return rows_run("form", NULL, NULL);
}
