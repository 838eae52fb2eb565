/* test_log.c - protects log.c's line formatting: JSON lines that any JSON
 * parser reads (quotes, backslashes, control characters and invalid UTF-8
 * escaped or replaced), fields left out when absent, numbers as numbers,
 * the text format unchanged, and overlong lines cut while staying valid;
 * and a thread's buffered lines (the delivery worker's): held until
 * log_flush, then written whole and unchanged, in order; written at once at
 * a warning, when the buffer fills (in whole lines), when a line waited
 * 100 ms, and at log_buffer_end. */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

/* ---- buffered lines ---------------------------------------------------- */

/* stderr goes into a pipe during a buffer test (64 KB by default: room for
 * every line of one); reads do not block. */
static int pipe_read_fd = -1, saved_stderr = -1;

static void capture_stderr(void)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    saved_stderr = dup(STDERR_FILENO);
    dup2(fds[1], STDERR_FILENO);
    close(fds[1]);
    pipe_read_fd = fds[0];
    log_format = LOG_FORMAT_TEXT;
    log_threshold = LOG_INFO;
}

static void restore_stderr(void)
{
    log_buffer_end();
    dup2(saved_stderr, STDERR_FILENO);
    close(saved_stderr);
    close(pipe_read_fd);
}

/* Everything written to stderr so far (caller frees); "" when nothing. */
static char *written(void)
{
    size_t cap = 1 << 20, len = 0;
    char *out = malloc(cap + 1);
    assert_non_null(out);
    for (;;) {
        ssize_t n = read(pipe_read_fd, out + len, cap - len);
        if (n <= 0) {
            assert_true(n == 0 || errno == EAGAIN);
            break;
        }
        len += (size_t)n;
    }
    out[len] = '\0';
    return out;
}

static size_t count_lines(const char *s, const char *msg)
{
    size_t n = 0;
    for (const char *p = s; (p = strstr(p, msg)) != NULL; p += strlen(msg))
        n++;
    return n;
}

static void test_buffer_until_flush(void **state)
{
    (void)state;
    capture_stderr();
    log_buffer_begin();
    log_fields(LOG_INFO, "delivery attempt", LOG_ID("delivery_id", 1), LOG_STR("outcome", "x y"));
    log_info("second %d", 2);
    log_debug("below the threshold");
    char *before = written();
    assert_string_equal(before, "");
    log_flush();
    char *after = written();
    /* The lines as they are written unbuffered: same text, in order. */
    const char *first = strstr(after, " info  delivery attempt delivery_id=1 outcome=\"x y\"\n");
    const char *second = strstr(after, " info  second 2\n");
    assert_non_null(first);
    assert_non_null(second);
    assert_true(first < second);
    assert_int_equal(count_lines(after, "\n"), 2);
    assert_null(strstr(after, "below"));
    log_buffer_end();
    log_info("unbuffered");
    char *unbuffered = written();
    assert_non_null(strstr(unbuffered, " info  unbuffered\n"));
    free(before);
    free(after);
    free(unbuffered);
    restore_stderr();
}

static void test_warning_flushes(void **state)
{
    (void)state;
    capture_stderr();
    log_buffer_begin();
    log_info("waiting line");
    log_warn("a warning");
    char *out = written();
    const char *waiting = strstr(out, "waiting line\n");
    const char *warning = strstr(out, " warn  a warning\n");
    assert_non_null(waiting);
    assert_non_null(warning);
    assert_true(waiting < warning);
    log_buffer_end();
    free(out);
    restore_stderr();
}

static void test_full_buffer_writes_whole_lines(void **state)
{
    (void)state;
    capture_stderr();
    log_buffer_begin();
    char pad[200];
    memset(pad, 'p', sizeof(pad) - 1);
    pad[sizeof(pad) - 1] = '\0';
    for (int i = 0; i < 100; i++)  /* about 24 KB: several buffers' worth */
        log_fields(LOG_INFO, "filler", LOG_INT("n", i), LOG_STR("pad", pad));
    char *early = written();
    size_t len = strlen(early);
    assert_true(len > 0);                 /* written without a flush */
    assert_int_equal(early[len - 1], '\n'); /* and only whole lines */
    log_buffer_end();
    char *rest = written();
    assert_int_equal(count_lines(early, "filler") + count_lines(rest, "filler"), 100);
    /* In order: the last written early is followed by the next one. */
    char want[32];
    snprintf(want, sizeof(want), "filler n=%zu ", count_lines(early, "filler"));
    assert_non_null(strstr(rest, want));
    free(early);
    free(rest);
    restore_stderr();
}

static void test_old_line_flushed(void **state)
{
    (void)state;
    capture_stderr();
    log_buffer_begin();
    log_info("old line");
    struct timespec pause = { 0, 110 * 1000000L };
    nanosleep(&pause, NULL);
    log_info("new line");
    char *out = written();
    assert_non_null(strstr(out, "old line\n"));
    assert_non_null(strstr(out, "new line\n"));
    log_buffer_end();
    free(out);
    restore_stderr();
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
    rows_add(test_buffer_until_flush, NULL, "buffered lines wait for log_flush, unchanged");
    rows_add(test_warning_flushes, NULL, "a warning is written at once, after what waited");
    rows_add(test_full_buffer_writes_whole_lines, NULL, "a full buffer is written in whole lines");
    rows_add(test_old_line_flushed, NULL, "a line 100 ms old goes with the next one");
    return rows_run("log", NULL, NULL);
}
