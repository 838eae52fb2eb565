/* time_arg.h - the time arguments of the command line (`--since`): an
 * RFC 3339 timestamp or a duration back from now.
 *
 * Pure: the caller passes the current time, so the parser has no I/O and
 * unit tests reach every case. Parsing is strict; anything not listed below
 * is refused with a message that says what is accepted. */
#ifndef HOOKD_TIME_ARG_H
#define HOOKD_TIME_ARG_H

#include <stdint.h>

#include "error.h"

/* Room for "YYYY-MM-DDTHH:MM:SS.mmmZ" and its NUL. */
#define TIME_ARG_RFC3339_LEN 25

/* Reads text as one of:
 *   - RFC 3339: YYYY-MM-DDTHH:MM:SS, optional fraction (1..9 digits, kept to
 *     the millisecond), then Z or +HH:MM / -HH:MM ('t' and 'z' as in the
 *     RFC; no leap seconds), years 1970..9999;
 *   - a duration before now_ms: digits (at most 9) and one unit of s, m, h,
 *     d or w, e.g. 30m, 2h, 7d.
 * *out_ms gets Unix milliseconds. Returns 0, or -1 with err
 * (HK_ERR_INVALID, detail a sentence naming text). */
int time_arg_parse(const char *text, int64_t now_ms, int64_t *out_ms, struct hk_error *err)
    __attribute__((warn_unused_result));

/* Formats Unix milliseconds (>= 0) as RFC 3339 UTC with milliseconds. */
void time_arg_format(int64_t ms, char out[TIME_ARG_RFC3339_LEN]);

#endif
