/* test_pg_binary.c - protects pg_binary.c, the binary array parameters of
 * the publish insert: the exact bytes of PostgreSQL's array_recv format
 * (header, big-endian lengths and values), so a batch is read back as the
 * same elements (test_publish_fast.py stores batches through it). */
#include "rows.h"

#include <string.h>

#include "pg_binary.h"

static void test_text_array(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 1024);
    assert_int_equal(pg_array_begin(&b, PG_OID_TEXT, 2), 0);
    assert_int_equal(pg_array_text(&b, "ab", 2), 0);
    assert_int_equal(pg_array_text(&b, "", 0), 0);
    static const unsigned char want[] = {
        0, 0, 0, 1,  0, 0, 0, 0,  0, 0, 0, 25,   /* one dimension, no NULLs, text */
        0, 0, 0, 2,  0, 0, 0, 1,                 /* two elements from index 1 */
        0, 0, 0, 2,  'a', 'b',                   /* "ab" */
        0, 0, 0, 0,                              /* "" */
    };
    assert_int_equal(b.len, sizeof(want));
    assert_memory_equal(b.data, want, sizeof(want));
    buf_free(&b);
}

static void test_int8_array(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 1024);
    assert_int_equal(pg_array_begin(&b, PG_OID_INT8, 2), 0);
    assert_int_equal(pg_array_int8(&b, 0x0102030405060708), 0);
    assert_int_equal(pg_array_int8(&b, -2), 0);
    static const unsigned char want[] = {
        0, 0, 0, 1,  0, 0, 0, 0,  0, 0, 0, 20,
        0, 0, 0, 2,  0, 0, 0, 1,
        0, 0, 0, 8,  1, 2, 3, 4, 5, 6, 7, 8,
        0, 0, 0, 8,  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    };
    assert_int_equal(b.len, sizeof(want));
    assert_memory_equal(b.data, want, sizeof(want));
    buf_free(&b);
}

static void test_cap(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 24);
    assert_int_equal(pg_array_begin(&b, PG_OID_TEXT, 1), 0);
    assert_int_equal(pg_array_text(&b, "abcdef", 6), -1);
    assert_true(b.len <= 24);
    buf_free(&b);
}

int main(void)
{
    rows_add(test_text_array, NULL, "a text array, empty element included");
    rows_add(test_int8_array, NULL, "a bigint array, big-endian, negative included");
    rows_add(test_cap, NULL, "the cap is reported, never overrun");
    return rows_run("pg_binary", NULL, NULL);
}
