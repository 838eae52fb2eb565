/* test_webhook_url.c - protects webhook_url.c, the gate in front of every
 * URL hookd will later POST to: only absolute http(s) URLs with a host, at
 * most 2048 characters, and nothing that could hide what the URL really
 * points at (credentials, fragments, whitespace, control or non-ASCII
 * bytes, a missing host that a lenient parser would fill in). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "webhook_url.h"

struct url_case {
    const char *url;
    bool valid;
};

static const struct url_case url_cases[] = {
    { "http://example.com", true },
    { "https://example.com/", true },
    { "http://example.com:8080/hooks/in?x=1&y=%20z", true },
    { "https://h/a/b;c?d", true },
    { "http://localhost:3000/x", true },
    { "http://127.0.0.1/x", true },
    { "http://[::1]:8080/x", true },
    { "http://[2001:db8::1]/", true },
    { "HTTPS://EXAMPLE.COM/x", true },
    { "Http://example.com/", true },
    { "http://h:65535/", true },
    { "", false },
    { "/x", false },
    { "example.com/x", false },
    { "//example.com/x", false },
    { "ftp://example.com/x", false },
    { "file:///etc/passwd", false },
    { "javascript:alert(1)", false },
    { "data:text/plain,hi", false },
    { "gopher://h/", false },
    { "httpx://h/", false },
    { "http:/h/x", false },
    { "http:h/x", false },
    { "http://", false },
    { "https://", false },
    { "http://u:p@h/", false },
    { "http://u@h/", false },
    { "http://:p@h/", false },
    { "http://@h/", false },
    { "http://h/x#frag", false },
    { "http://h#f", false },
    { "http://h/x y", false },
    { " http://h/x", false },
    { "http://h/x ", false },
    { "http://h/\tx", false },
    { "http://h/x\n", false },
    { "http://h/\rx", false },
    { "http://h/\x7f", false },
    { "http://h/caf\xc3\xa9", false },
    { "http://h\xff/", false },
    { "http://h:65536/", false },
    { "http://h:0/", false },           /* nothing listens on port 0 */
    { "http://h:00/x", false },
    { "http://h:80x/", false },
    { "http://[::1/", false },
    { "http:////path", false },
    { "http:///path", false },       /* libcurl alone would read host "path" */
    { "https:///", false },
    { "http://h/x#", false },        /* libcurl alone would see no fragment */
    { "http://h/?a#", false },
};

static void test_url(void **state)
{
    const struct url_case *c = *state;
    const char *reason = NULL;
    bool valid = webhook_url_valid(c->url, strlen(c->url), &reason);
    assert_int_equal(valid, c->valid);
    if (valid)
        assert_null(reason);
    else
        assert_non_null(reason);   /* a refusal always explains itself */
}

/* ---- lengths: the limit is 2048 characters, whatever the URL ---------- */

struct length_case {
    size_t len;
    bool valid;
};

static const struct length_case length_cases[] = {
    { 2047, true },
    { WEBHOOK_URL_MAX_LEN, true },
    { WEBHOOK_URL_MAX_LEN + 1, false },
    { 4096, false },
};

static void test_length(void **state)
{
    const struct length_case *c = *state;
    char *url = malloc(c->len + 1);
    assert_non_null(url);
    /* http://example.com/ followed by 'a's up to the length. */
    const char *prefix = "http://example.com/";
    size_t plen = strlen(prefix);
    memcpy(url, prefix, plen);
    memset(url + plen, 'a', c->len - plen);
    url[c->len] = '\0';
    bool valid = webhook_url_valid(url, c->len, NULL);
    free(url);
    assert_int_equal(valid, c->valid);
}

/* The length passed is the one checked: a NUL inside it is a control byte. */
static void test_embedded_nul(void **state)
{
    (void)state;
    static const char url[] = "http://h/x\0y";
    assert_false(webhook_url_valid(url, sizeof(url) - 1, NULL));
}

/* ---- one cmocka test per row ------------------------------------------- */

#define N_URL (sizeof(url_cases) / sizeof(url_cases[0]))
#define N_LENGTH (sizeof(length_cases) / sizeof(length_cases[0]))
#define N_TESTS (N_URL + N_LENGTH + 1)

static struct CMUnitTest tests[N_TESTS];
static char test_names[N_TESTS][128];
static size_t n_tests;

/* s with bytes outside printable ASCII as \xHH. */
static void quote(char *out, size_t cap, const char *s)
{
    size_t n = 0;
    for (; *s != '\0' && n + 5 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c >= 0x7f)
            n += (size_t)snprintf(out + n, cap - n, "\\x%02x", c);
        else
            out[n++] = (char)c;
    }
    out[n] = '\0';
}

static void add_test(CMUnitTestFunction fn, const void *row, const char *name)
{
    if (n_tests >= N_TESTS)
        abort();
    snprintf(test_names[n_tests], sizeof(test_names[0]), "%s", name);
    tests[n_tests] = (struct CMUnitTest){ .name = test_names[n_tests], .test_func = fn,
                                          .initial_state = (void *)row };
    n_tests++;
}

int main(void)
{
    char name[128], q[100];
    for (size_t i = 0; i < N_URL; i++) {
        quote(q, sizeof(q), url_cases[i].url);
        snprintf(name, sizeof(name), "%s \"%s\"", url_cases[i].valid ? "accept" : "refuse", q);
        add_test(test_url, &url_cases[i], name);
    }
    for (size_t i = 0; i < N_LENGTH; i++) {
        snprintf(name, sizeof(name), "%s length %zu", length_cases[i].valid ? "accept" : "refuse",
                 length_cases[i].len);
        add_test(test_length, &length_cases[i], name);
    }
    add_test(test_embedded_nul, NULL, "refuse a NUL inside the given length");
    return cmocka_run_group_tests_name("webhook_url", tests, NULL, NULL);
}
