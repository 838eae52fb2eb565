/* event_cursor.h - the opaque cursor of GET /events: a position in the
 * event list (newest first), as base64url (no padding) of
 * "<occurred, microseconds since 1970>.<event id>". Pure: no I/O.
 *
 * Decoding is strict, so every cursor that decodes is one that
 * event_cursor_encode could have written: canonical base64url, a decimal
 * without sign or leading zeros, and a well-formed event id. */
#ifndef HOOKD_EVENT_CURSOR_H
#define HOOKD_EVENT_CURSOR_H

#include <stddef.h>
#include <stdint.h>

#include "token.h"

/* Room for any cursor and its NUL: base64 of 19 digits, '.', and an id. */
#define EVENT_CURSOR_MAX 64

struct event_position {
    int64_t occurred_us;                 /* >= 0 */
    char id[TOKEN_ID_LEN + 1];
};

/* Writes the cursor of pos into out (NUL-terminated). Returns 0, or -1
 * when pos is not a valid position (negative time, malformed id). */
int event_cursor_encode(const struct event_position *pos, char out[EVENT_CURSOR_MAX])
    __attribute__((warn_unused_result));
/* Reads text[0..len) into *pos. Returns 0, or -1 for anything that is not
 * a cursor event_cursor_encode writes. */
int event_cursor_decode(const char *text, size_t len, struct event_position *pos)
    __attribute__((warn_unused_result));
/* True for "EV" and 18 ASCII letters or digits. */
int event_id_valid(const char *id, size_t len);

#endif
