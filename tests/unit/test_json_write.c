/* test_json_write.c - protects json_write.c, the JSON writer of the
 * worker's attempt records (response bodies and error texts from the
 * network go through it): every string comes back from a real JSON parser
 * (json-c) byte for byte, control characters included; integers at the
 * extremes; member names and commas; NULL as null; and the buf's cap is
 * reported, never overrun. */
#include "rows.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "json_write.h"

struct string_case {
    const char *in;
    const char *want;       /* the exact text written */
};

static const struct string_case string_cases[] = {
    { "", "\"\"" },
    { "plain text", "\"plain text\"" },
    { "say \"hi\"", "\"say \\\"hi\\\"\"" },
    { "back\\slash", "\"back\\\\slash\"" },
    { "a/b", "\"a/b\"" },
    { "line\nbreak\r\ttab", "\"line\\nbreak\\r\\ttab\"" },
    { "\x01\x1f\x7f" "end", "\"\\u0001\\u001f\\u007fend\"" },
    { "\x08\x0c", "\"\\u0008\\u000c\"" },
    { "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
      "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"" },
    { "<html>\"x\"</html>\n", "\"<html>\\\"x\\\"</html>\\n\"" },
};

/* The text written, and json-c reads the original string back. */
static void test_string(void **state)
{
    const struct string_case *c = *state;
    struct buf b;
    buf_init(&b, 1 << 16);
    assert_int_equal(json_write_string(&b, c->in), 0);
    assert_string_equal(b.data, c->want);
    struct json_object *o = json_tokener_parse(b.data);
    assert_non_null(o);
    assert_string_equal(json_object_get_string(o), c->in);
    json_object_put(o);
    buf_free(&b);
}

/* Every byte value from 1 to 255 in one string survives a parse. */
static void test_every_byte(void **state)
{
    (void)state;
    char in[256];
    for (int i = 1; i < 256; i++)
        in[i - 1] = (char)i;
    in[255] = '\0';
    struct buf b;
    buf_init(&b, 1 << 16);
    assert_int_equal(json_write_string(&b, in), 0);
    for (size_t i = 0; i < b.len; i++)   /* no raw control character left */
        assert_true((unsigned char)b.data[i] >= 0x20 && (unsigned char)b.data[i] != 0x7f);
    /* json-c refuses the bytes that are not UTF-8; the ASCII part is checked. */
    in[127] = '\0';
    struct buf ascii;
    buf_init(&ascii, 1 << 16);
    assert_int_equal(json_write_string(&ascii, in), 0);
    struct json_object *o = json_tokener_parse(ascii.data);
    assert_non_null(o);
    assert_string_equal(json_object_get_string(o), in);
    json_object_put(o);
    buf_free(&b);
    buf_free(&ascii);
}

struct int_case {
    int64_t v;
    const char *want;
};

static const struct int_case int_cases[] = {
    { 0, "0" }, { 7, "7" }, { -1, "-1" }, { 1767323045678, "1767323045678" },
    { INT64_MAX, "9223372036854775807" }, { INT64_MIN, "-9223372036854775808" },
};

static void test_int(void **state)
{
    const struct int_case *c = *state;
    struct buf b;
    buf_init(&b, 64);
    assert_int_equal(json_write_int(&b, c->v), 0);
    assert_string_equal(b.data, c->want);
    buf_free(&b);
}

static void test_object(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 1024);
    assert_int_equal(buf_append(&b, "{", 1), 0);
    assert_int_equal(json_write_key(&b, "id", 1), 0);
    assert_int_equal(json_write_int(&b, 42), 0);
    assert_int_equal(json_write_key(&b, "error", 0), 0);
    assert_int_equal(json_write_string(&b, NULL), 0);
    assert_int_equal(json_write_key(&b, "body", 0), 0);
    assert_int_equal(json_write_string(&b, "ok"), 0);
    assert_int_equal(buf_append(&b, "}", 1), 0);
    assert_string_equal(b.data, "{\"id\":42,\"error\":null,\"body\":\"ok\"}");
    buf_free(&b);
    /* A name too long for the one-append path is still one JSON string. */
    char long_name[100];
    memset(long_name, 'k', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    buf_init(&b, 1024);
    assert_int_equal(json_write_key(&b, long_name, 0), 0);
    assert_int_equal(b.len, 1 + 1 + 99 + 1 + 1);
    assert_int_equal(b.data[0], ',');
    assert_int_equal(b.data[b.len - 1], ':');
    assert_memory_equal(b.data + 2, long_name, 99);
    buf_free(&b);
}

static void test_cap(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 8);
    assert_int_equal(json_write_string(&b, "a\"b\"c\"d\"e"), -1);
    assert_true(b.len <= 8);
    buf_free(&b);
    buf_init(&b, 3);
    assert_int_equal(json_write_int(&b, 12345), -1);
    assert_int_equal(b.len, 0);
    buf_free(&b);
}

int main(void)
{
    for (size_t i = 0; i < ROWS_COUNT(string_cases); i++) {
        char name[128];
        rows_quote(name, sizeof(name), string_cases[i].in, strlen(string_cases[i].in));
        rows_add(test_string, &string_cases[i], "string %s", name);
    }
    rows_add(test_every_byte, NULL, "every byte value");
    for (size_t i = 0; i < ROWS_COUNT(int_cases); i++)
        rows_add(test_int, &int_cases[i], "int %s", int_cases[i].want);
    rows_add(test_object, NULL, "an object: keys, commas, null");
    rows_add(test_cap, NULL, "the cap is reported, never overrun");
    return rows_run("json_write", NULL, NULL);
}
