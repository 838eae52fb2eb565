/* rows.h - one cmocka test per table row, shared by every unit test.
 *
 * A test file describes its cases as rows of a static table, registers one
 * test per row with rows_add (the row becomes the test's initial state, the
 * name is printf-style), adds its single tests the same way with a NULL
 * row, and ends main() with rows_run. Names are copied, so they may be
 * built in a local buffer; everything rows_add allocates is released by
 * rows_run before it returns. Includes cmocka (and what it needs first). */
#ifndef HOOKD_TESTS_ROWS_H
#define HOOKD_TESTS_ROWS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

/* A string literal and its length, NUL bytes included. */
#define S(lit) lit, sizeof(lit) - 1

/* The number of rows of a table (an array, not a pointer). */
#define ROWS_COUNT(table) (sizeof(table) / sizeof((table)[0]))

/* s[0..len) into out (at most cap bytes, always terminated, cut when it
 * does not fit), with bytes outside printable ASCII written as \xHH. */
void rows_quote(char *out, size_t cap, const char *s, size_t len);

/* Registers fn as a test named after fmt, with row as its initial state.
 * Aborts when memory runs out. */
void rows_add(CMUnitTestFunction fn, const void *row, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Runs every registered test as the cmocka group named group, frees them,
 * and returns cmocka's result (the number of failed tests). */
int rows_run(const char *group, CMFixtureFunction setup, CMFixtureFunction teardown);

#endif
