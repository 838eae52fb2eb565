/* utf8.h - strict UTF-8 validation (RFC 3629): no overlong forms, no
 * surrogates, nothing above U+10FFFF. Pure. */
#ifndef HOOKD_UTF8_H
#define HOOKD_UTF8_H

#include <stdbool.h>
#include <stddef.h>

bool utf8_valid(const char *s, size_t len);
/* A copy of s[0..len) that is valid UTF-8 without NUL bytes: every invalid
 * sequence and every NUL becomes U+FFFD. For text from strangers (receivers'
 * answers) on its way into the database. The caller frees it. */
char *utf8_sanitize(const char *s, size_t len);

#endif
