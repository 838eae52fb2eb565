/* test_webhook_url.c - protects webhook_url.c, the gate in front of every
 * URL hookd will later POST to: only absolute http(s) URLs with a host, at
 * most 2048 characters, and nothing that could hide what the URL really
 * points at (credentials, fragments, whitespace, control or non-ASCII
 * bytes, a missing host that a lenient parser would fill in). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "webhook_url.h"
#include "rows.h"

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

int main(void)
{
    char q[100];
    for (size_t i = 0; i < ROWS_COUNT(url_cases); i++) {
        const struct url_case *c = &url_cases[i];
        rows_quote(q, sizeof(q), c->url, strlen(c->url));
        rows_add(test_url, c, "%s \"%s\"", c->valid ? "accept" : "refuse", q);
    }
    for (size_t i = 0; i < ROWS_COUNT(length_cases); i++)
        rows_add(test_length, &length_cases[i], "%s length %zu",
                 length_cases[i].valid ? "accept" : "refuse", length_cases[i].len);
    rows_add(test_embedded_nul, NULL, "refuse a NUL inside the given length");
    return rows_run("webhook_url", NULL, NULL);
}
