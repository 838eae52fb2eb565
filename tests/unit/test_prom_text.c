/* test_prom_text.c - protects prom_text.c, the Prometheus text format:
 * label values escaped as the format requires, histogram buckets
 * cumulative with exact "le" bounds in seconds and +Inf equal to _count,
 * and a full buffer reported instead of a cut exposition. */
#include <stdio.h>
#include <string.h>

#include "prom_text.h"
#include "rows.h"

struct label_case {
    const char *value;
    const char *want;
};

static const struct label_case label_cases[] = {
    { "order.updated", "{type=\"order.updated\"}" },
    { "", "{type=\"\"}" },
    { "a\"b", "{type=\"a\\\"b\"}" },
    { "a\\b", "{type=\"a\\\\b\"}" },
    { "a\nb", "{type=\"a\\nb\"}" },
    { "/events/{id}", "{type=\"/events/{id}\"}" },
};

static void test_label(void **state)
{
    const struct label_case *c = *state;
    const char *name = "type";
    char out[128];
    assert_int_equal(prom_labels(out, sizeof(out), &name, &c->value, 1), 0);
    assert_string_equal(out, c->want);
}

static void test_labels_bounds(void **state)
{
    (void)state;
    const char *names[] = { "route", "code" }, *values[] = { "/events", "201" };
    char out[64];
    assert_int_equal(prom_labels(out, sizeof(out), names, values, 2), 0);
    assert_string_equal(out, "{route=\"/events\",code=\"201\"}");
    assert_int_equal(prom_labels(out, sizeof(out), names, values, 0), 0);
    assert_string_equal(out, "");
    /* exactly the length needed, and one byte less */
    size_t need = strlen("{route=\"/events\",code=\"201\"}") + 1;
    assert_int_equal(prom_labels(out, need, names, values, 2), 0);
    assert_int_equal(prom_labels(out, need - 1, names, values, 2), -1);
}

static void test_histogram(void **state)
{
    (void)state;
    static const int64_t bounds[] = { 5000, 250000, 2500000, 86400000000 };
    static const uint64_t counts[] = { 2, 0, 3, 1, 4 };   /* per bucket; last above all */
    struct buf b;
    buf_init(&b, 4096);
    const char *label = "route", *value = "/events";
    assert_int_equal(prom_histogram(&b, "x_seconds", &label, &value, 1, bounds, counts, 4,
                                    12345678),
                     0);
    assert_string_equal(b.data,
                        "x_seconds_bucket{route=\"/events\",le=\"0.005\"} 2\n"
                        "x_seconds_bucket{route=\"/events\",le=\"0.25\"} 2\n"
                        "x_seconds_bucket{route=\"/events\",le=\"2.5\"} 5\n"
                        "x_seconds_bucket{route=\"/events\",le=\"86400\"} 6\n"
                        "x_seconds_bucket{route=\"/events\",le=\"+Inf\"} 10\n"
                        "x_seconds_sum{route=\"/events\"} 12.345678\n"
                        "x_seconds_count{route=\"/events\"} 10\n");
    buf_free(&b);
    /* Without labels, and empty. */
    static const uint64_t none[] = { 0, 0, 0, 0, 0 };
    buf_init(&b, 4096);
    assert_int_equal(prom_histogram(&b, "y", NULL, NULL, 0, bounds, none, 4, 0), 0);
    assert_non_null(strstr(b.data, "y_bucket{le=\"+Inf\"} 0\ny_sum 0\ny_count 0\n"));
    buf_free(&b);
}

static void test_full_buffer_fails(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 40);
    assert_int_equal(prom_header(&b, "n", "counter", "h"), 0);
    assert_string_equal(b.data, "# HELP n h\n# TYPE n counter\n");
    assert_int_equal(prom_sample_u64(&b, "a_long_metric_name_total", "", 1), -1);
    assert_int_equal(prom_sample_i64(&b, "g", "", -2), 0);
    assert_string_equal(b.data + strlen("# HELP n h\n# TYPE n counter\n"), "g -2\n");
    buf_free(&b);
}

int main(void)
{
    for (size_t i = 0; i < ROWS_COUNT(label_cases); i++) {
        char name[64];
        rows_quote(name, sizeof(name), label_cases[i].value, strlen(label_cases[i].value));
        rows_add(test_label, &label_cases[i], "label value %s", name);
    }
    rows_add(test_labels_bounds, NULL, "label sets and their buffer bound");
    rows_add(test_histogram, NULL, "histogram buckets are cumulative, le in seconds");
    rows_add(test_full_buffer_fails, NULL, "a full buffer is an error");
    return rows_run("prom_text", NULL, NULL);
}
