/* rows.c - one cmocka test per table row (see rows.h). */
#include "rows.h"

#include <stdio.h>
#include <stdlib.h>

static struct CMUnitTest *tests;
static char **names;
static size_t n_tests;
static size_t cap_tests;

void rows_quote(char *out, size_t cap, const char *s, size_t len)
{
    size_t n = 0;
    if (cap == 0)
        return;
    for (size_t i = 0; i < len && n + 5 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c >= 0x7f)
            n += (size_t)snprintf(out + n, cap - n, "\\x%02x", c);
        else
            out[n++] = (char)c;
    }
    out[n] = '\0';
}

static void *grow(void *p, size_t count, size_t size)
{
    void *q = realloc(p, count * size);
    if (q == NULL)
        abort();
    return q;
}

void rows_add(CMUnitTestFunction fn, const void *row, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (len < 0)
        abort();
    char *name = malloc((size_t)len + 1);
    if (name == NULL)
        abort();
    vsnprintf(name, (size_t)len + 1, fmt, ap2);
    va_end(ap2);

    if (n_tests == cap_tests) {
        cap_tests = cap_tests ? 2 * cap_tests : 64;
        tests = grow(tests, cap_tests, sizeof(tests[0]));
        names = grow(names, cap_tests, sizeof(names[0]));
    }
    names[n_tests] = name;
    tests[n_tests] = (struct CMUnitTest){ .name = name, .test_func = fn,
                                          .initial_state = (void *)row };
    n_tests++;
}

int rows_run(const char *group, CMFixtureFunction setup, CMFixtureFunction teardown)
{
    int failed = _cmocka_run_group_tests(group, tests, n_tests, setup, teardown);
    for (size_t i = 0; i < n_tests; i++)
        free(names[i]);
    free(names);
    free(tests);
    names = NULL;
    tests = NULL;
    n_tests = cap_tests = 0;
    return failed;
}
