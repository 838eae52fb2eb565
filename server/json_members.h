/* json_members.h - the members of a JSON object body, each with the exact
 * bytes of its value. Pure.
 *
 * Event data is stored as the producer sent it (numbers beyond 64 bits,
 * key order and spacing included), so request bodies are not round-tripped
 * through a JSON library: a small scanner finds each top-level member's
 * key and value span, and json-c validates every value strictly. */
#ifndef HOOKD_JSON_MEMBERS_H
#define HOOKD_JSON_MEMBERS_H

#include <json-c/json.h>
#include <stddef.h>

#include "error.h"

/* The default for max_depth below (HOOKD_MAX_JSON_DEPTH). */
#define JSON_MAX_DEPTH 64

/* Called once per member with the decoded key (NUL-free), the raw value
 * bytes, and the value parsed by json-c (borrowed; freed after the call).
 * Return 0 to go on, -1 to stop (the callback fills err). */
typedef int (*json_member_fn)(void *ctx, const char *key, const char *value, size_t value_len,
                              struct json_object *parsed, struct hk_error *err);

/* Walks data[0..len), which must be exactly one JSON object (surrounding
 * whitespace allowed) in valid UTF-8, each value nested at most max_depth
 * deep. Malformed input gives 400 Invalid field body. */
int json_members_parse(const char *data, size_t len, int max_depth, json_member_fn fn, void *ctx,
                       struct hk_error *err) __attribute__((warn_unused_result));

/* Parses one complete JSON value from text[0..len) strictly (surrounding
 * whitespace allowed, nothing else), nested at most max_depth deep. Returns a new json-c object (caller
 * puts it); for a JSON null, *is_null is set and NULL returned. NULL and
 * *is_null false on any error. */
struct json_object *json_value_parse(const char *text, size_t len, int max_depth, int *is_null);

/* Strips JSON whitespace from both ends of text[0..*len); returns the start. */
const char *json_trim(const char *text, size_t *len);

#endif
