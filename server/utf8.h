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
/* Length of the valid UTF-8 character at s[0..len) (1 to 4), or 0 when the
 * bytes there are not one (len must be at least 1). */
size_t utf8_char_len(const char *s, size_t len);

#endif
