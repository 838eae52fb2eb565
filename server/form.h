/* form.h - application/x-www-form-urlencoded decoding (request bodies and
 * query strings). Pure: no I/O. */
#ifndef HOOKD_FORM_H
#define HOOKD_FORM_H

#include <stddef.h>

#include "error.h"

/* Called once per name=value pair with decoded, NUL-terminated copies that
 * the callback borrows (they are freed after it returns). Return 0 to go on,
 * -1 to stop (the callback fills err). */
typedef int (*form_pair_fn)(void *ctx, const char *name, size_t name_len, const char *value,
                            size_t value_len, struct hk_error *err);

/* Decodes `a=1&b=x%20y+z`. Empty pairs are skipped; a pair without '='
 * has an empty value. A malformed percent escape or an empty name gives
 * 400 Invalid field (the name, or "body"/"query" given as what). */
int form_parse(const char *data, size_t len, const char *what, form_pair_fn fn, void *ctx,
               struct hk_error *err) __attribute__((warn_unused_result));

/* Percent-decodes src[0..len) into a new NUL-terminated string ('+' is a
 * space). Returns NULL when an escape is malformed; *out_len gets the length. */
char *form_decode(const char *src, size_t len, size_t *out_len);

#endif
