/* test_static_files.c - protects static_files.c: the dashboard file a path
 * names (only names in the embedded table; "" is index.html; no prefix,
 * suffix or traversal reaches anything), and If-None-Match matching (lists,
 * weak tags, "*", and near misses that must not give a 304). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "rows.h"
#include "static_files.h"

struct find_case {
    const char *name;
    const char *want;   /* the file found, or NULL */
};

static const struct find_case find_cases[] = {
    { "", "index.html" },
    { "index.html", "index.html" },
    { "app.js", "app.js" },
    { "app.css", "app.css" },
    { "favicon.svg", "favicon.svg" },
    { "index.htm", NULL },
    { "index.html.bak", NULL },
    { "/index.html", NULL },
    { "../index.html", NULL },
    { "./index.html", NULL },
    { "APP.JS", NULL },
    { "nope.js", NULL },
    { "index.html/", NULL },
    { "%2e%2e/Makefile", NULL },
};

static void test_find(void **state)
{
    const struct find_case *c = *state;
    const struct static_file *f = static_files_find(c->name, strlen(c->name));
    if (c->want == NULL) {
        assert_null(f);
        return;
    }
    assert_non_null(f);
    assert_string_equal(f->name, c->want);
    assert_true(f->len > 0);
    assert_int_equal(f->etag[0], '"');
}

/* Only len bytes of the name are read. */
static void test_find_len(void **state)
{
    (void)state;
    const struct static_file *f = static_files_find("app.jsXYZ", strlen("app.js"));
    assert_non_null(f);
    assert_string_equal(f->name, "app.js");
}

/* Every embedded file has a content type and a distinct ETag. */
static void test_table(void **state)
{
    (void)state;
    assert_true(embedded_ui_files_count >= 4);
    for (size_t i = 0; i < embedded_ui_files_count; i++) {
        assert_non_null(strchr(embedded_ui_files[i].content_type, '/'));
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(embedded_ui_files[i].etag, embedded_ui_files[j].etag);
    }
}

struct etag_case {
    const char *header;
    bool match;
};

#define TAG "\"0123456789abcdef0123\""

static const struct etag_case etag_cases[] = {
    { TAG, true },
    { "W/" TAG, true },
    { "*", true },
    { "\"other\", " TAG, true },
    { "\"other\"," TAG, true },
    { TAG " , \"other\"", true },
    { " \t" TAG, true },
    { "\"other\", W/" TAG, true },
    { "", false },
    { "\"other\"", false },
    { "0123456789abcdef0123", false },             /* unquoted */
    { "\"0123456789abcdef012\"", false },          /* one character short */
    { "\"0123456789abcdef01234\"", false },        /* one too many */
    { "w/" TAG, false },                           /* W must be upper case */
    { ",,,", false },
    { "\"other\", \"more\"", false },
};

static void test_etag(void **state)
{
    const struct etag_case *c = *state;
    assert_int_equal(static_files_etag_matches(c->header, TAG), c->match);
}

int main(void)
{
    char quoted[96];
    for (size_t i = 0; i < ROWS_COUNT(find_cases); i++) {
        rows_quote(quoted, sizeof(quoted), find_cases[i].name, strlen(find_cases[i].name));
        rows_add(test_find, &find_cases[i], "find '%s' -> %s", quoted,
                 find_cases[i].want ? find_cases[i].want : "none");
    }
    for (size_t i = 0; i < ROWS_COUNT(etag_cases); i++) {
        rows_quote(quoted, sizeof(quoted), etag_cases[i].header, strlen(etag_cases[i].header));
        rows_add(test_etag, &etag_cases[i], "If-None-Match '%s' -> %s", quoted,
                 etag_cases[i].match ? "304" : "200");
    }
    rows_add(test_find_len, NULL, "only len bytes of the name are read");
    rows_add(test_table, NULL, "every file has a content type and its own ETag");
    return rows_run("static_files", NULL, NULL);
}
