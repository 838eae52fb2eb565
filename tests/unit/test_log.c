/* test_log.c - protects log.c's line formatting: JSON lines that any JSON
 * parser reads (quotes, backslashes, control characters and invalid UTF-8
 * escaped or replaced), fields left out when absent, numbers as numbers,
 * the text format unchanged, and overlong lines cut while staying valid. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "rows.h"

/* 2026-01-02T03:04:05.678Z */
static const struct timespec when = { 1767323045, 678000000 };

struct escape_case {
    const char *in;
    const char *json;       /* the JSON string written for it, quotes included */
};

static const struct escape_case escape_cases[] = {
    { "plain", "\"plain\"" },
    { "", "\"\"" },
    { "say \"hi\"", "\"say \\\"hi\\\"\"" },
    { "back\\slash", "\"back\\\\slash\"" },
    { "line\nbreak\r\ttab", "\"line\\nbreak\\r\\ttab\"" },
    { "bell\x07" "esc\x1b" "del\x7f", "\"bell\\u0007esc\\u001bdel\\u007f\"" },
    { "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"" },
    { "bad \xff byte", "\"bad \xef\xbf\xbd byte\"" },
    { "cut \xe2\x82", "\"cut \xef\xbf\xbd\xef\xbf\xbd\"" },
    { "surrogate \xed\xa0\x80", "\"surrogate \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"" },
    { "overlong \xc0\xaf", "\"overlong \xef\xbf\xbd\xef\xbf\xbd\"" },
    { "</script>", "\"</script>\"" },
};

/* The message of a JSON line is the string escaped as expected, and json-c
 * reads it back as valid UTF-8. */
static void test_escape(void **state)
{
    const struct escape_case *c = *state;
    char line[512], want[512];
    size_t len = log_format_line(line, sizeof(line), LOG_FORMAT_JSON, &when, LOG_INFO, c->in,
                                 NULL, 0);
    snprintf(want, sizeof(want),
             "{\"ts\":\"2026-01-02T03:04:05.678Z\",\"level\":\"info\",\"msg\":%s}\n", c->json);
    assert_string_equal(line, want);
    assert_int_equal(len, strlen(want));
    struct json_object *obj = json_tokener_parse(line);
    assert_non_null(obj);
    json_object_put(obj);
}

static void test_json_fields(void **state)
{
    (void)state;
    char line[512];
    const struct log_field fields[] = {
        LOG_STR("route", "/events/{id}"), LOG_INT("status", 404), LOG_INT("zero", 0),
        LOG_ID("tenant_id", 7), LOG_ID("unknown_id", 0), LOG_STR("absent", NULL),
        LOG_MS("duration_ms", 1234567), LOG_MS("tiny_ms", 5), LOG_INT("neg", -3),
    };
    log_format_line(line, sizeof(line), LOG_FORMAT_JSON, &when, LOG_WARN, "request", fields,
                    ROWS_COUNT(fields));
    assert_string_equal(line, "{\"ts\":\"2026-01-02T03:04:05.678Z\",\"level\":\"warn\","
                              "\"msg\":\"request\",\"route\":\"/events/{id}\",\"status\":404,"
                              "\"zero\":0,\"tenant_id\":7,\"duration_ms\":1234.567,"
                              "\"tiny_ms\":0.005,\"neg\":-3}\n");
}

/* Text keeps its old shape (time, padded level, message) and adds
 * key=value pairs, quoting values that are not one plain word. */
static void test_text_fields(void **state)
{
    (void)state;
    char line[512];
    log_format_line(line, sizeof(line), LOG_FORMAT_TEXT, &when, LOG_INFO, "hookd listening", NULL,
                    0);
    assert_string_equal(line, "2026-01-02T03:04:05.678Z info  hookd listening\n");
    const struct log_field fields[] = {
        LOG_STR("route", "/events/{id}"), LOG_STR("error", "Connection refused: \"x\""),
        LOG_STR("empty", ""), LOG_ID("tenant_id", -1), LOG_MS("duration_ms", 2000),
        LOG_STR("eq", "a=b"),
    };
    log_format_line(line, sizeof(line), LOG_FORMAT_TEXT, &when, LOG_ERROR, "x", fields,
                    ROWS_COUNT(fields));
    assert_string_equal(line, "2026-01-02T03:04:05.678Z error x route=/events/{id} "
                              "error=\"Connection refused: \\\"x\\\"\" empty=\"\" "
                              "duration_ms=2.000 eq=\"a=b\"\n");
}

/* Lines longer than the buffer are cut and stay valid JSON, for every
 * buffer size: no half escape, no half character, always closed. */
static void test_cut_lines_stay_valid(void **state)
{
    (void)state;
    char msg[600];
    for (size_t i = 0; i + 1 < sizeof(msg); i++)
        msg[i] = "a\"\\\n\xc3\xa9"[i % 6];
    msg[sizeof(msg) - 1] = '\0';
    const struct log_field fields[] = { LOG_STR("k", msg), LOG_INT("n", 123456789) };
    for (size_t cap = LOG_LINE_MIN; cap <= 1400; cap++) {
        char *line = malloc(cap);
        assert_non_null(line);
        size_t len = log_format_line(line, cap, LOG_FORMAT_JSON, &when, LOG_DEBUG, msg, fields,
                                     ROWS_COUNT(fields));
        assert_true(len < cap);
        assert_int_equal(line[len - 1], '\n');
        assert_int_equal(strlen(line), len);
        struct json_object *obj = json_tokener_parse(line);
        if (obj == NULL)
            fail_msg("cap %zu: not JSON: %s", cap, line);
        assert_true(json_object_object_get_ex(obj, "msg", NULL));
        json_object_put(obj);
        len = log_format_line(line, cap, LOG_FORMAT_TEXT, &when, LOG_DEBUG, msg, fields,
                              ROWS_COUNT(fields));
        assert_true(len < cap);
        assert_int_equal(line[len - 1], '\n');
        free(line);
    }
}

static void test_parse_names(void **state)
{
    (void)state;
    enum log_format f;
    enum log_level l;
    assert_int_equal(log_format_parse("json", &f), 0);
    assert_int_equal(f, LOG_FORMAT_JSON);
    assert_int_equal(log_format_parse("text", &f), 0);
    assert_int_equal(f, LOG_FORMAT_TEXT);
    assert_int_equal(log_format_parse("JSON", &f), -1);
    assert_int_equal(log_format_parse("", &f), -1);
    assert_int_equal(log_level_parse("warn", &l), 0);
    assert_int_equal(l, LOG_WARN);
    assert_int_equal(log_level_parse("warning", &l), -1);
}

int main(void)
{
    for (size_t i = 0; i < ROWS_COUNT(escape_cases); i++) {
        char name[128];
        rows_quote(name, sizeof(name), escape_cases[i].in, strlen(escape_cases[i].in));
        rows_add(test_escape, &escape_cases[i], "json escape %s", name);
    }
    rows_add(test_json_fields, NULL, "json fields: numbers, ids, absent ones left out");
    rows_add(test_text_fields, NULL, "text fields: old shape, quoted values");
    rows_add(test_cut_lines_stay_valid, NULL, "cut lines stay valid JSON at every size");
    rows_add(test_parse_names, NULL, "format and level names");
    return rows_run("log", NULL, NULL);
}
