/* params.h - the named parameters of a request, from a query string, a form
 * body or a JSON object body, in one shape. Pure: no I/O.
 *
 * A JSON body's string values become PARAM_TEXT; objects and arrays keep
 * their exact bytes as PARAM_JSON (so `data` may arrive as an object in JSON
 * or as a string holding JSON in a form, and is stored as sent); numbers and
 * booleans keep their JSON text; null counts as absent. Duplicate names,
 * NUL bytes in names and invalid UTF-8 in values are rejected. */
#ifndef HOOKD_PARAMS_H
#define HOOKD_PARAMS_H

#include <stddef.h>

#include "error.h"
#include "json_members.h"

/* The limits params_init sets (HOOKD_MAX_FIELDS and HOOKD_MAX_JSON_DEPTH
 * replace them per request). */
#define PARAMS_MAX_COUNT 100
#define PARAMS_JSON_MAX_DEPTH JSON_MAX_DEPTH

enum param_kind { PARAM_TEXT, PARAM_JSON };

struct param {
    char *name;
    char *value;        /* NUL-terminated; may contain NUL bytes before value_len */
    size_t value_len;
    enum param_kind kind;
};

struct params {
    struct param *items;   /* owned */
    size_t count;
    size_t max_count;      /* more parameters than this: 400 */
    int max_depth;         /* deeper JSON nesting than this: 400 */
};

void params_init(struct params *p);
/* Replaces the default limits; call before parsing. */
void params_set_limits(struct params *p, size_t max_count, int max_depth);
/* Both parsers append to p; on failure err is a 400 and p may hold the
 * pairs parsed so far (free it either way). */
int params_parse_form(struct params *p, const char *data, size_t len, const char *what,
                      struct hk_error *err) __attribute__((warn_unused_result));
int params_parse_json(struct params *p, const char *data, size_t len, struct hk_error *err)
    __attribute__((warn_unused_result));
/* Borrowed pointer, or NULL when absent. */
const struct param *params_get(const struct params *p, const char *name);
/* Fails with 400 Invalid field {name} for the first parameter whose name is
 * not in the NULL-terminated allowed list. */
int params_check_allowed(const struct params *p, const char *const *allowed, struct hk_error *err)
    __attribute__((warn_unused_result));
/* A required text parameter: 400 Require {name}. when absent or empty,
 * Invalid field when it holds JSON or NUL bytes. Returns a borrowed string. */
const char *params_require_text(const struct params *p, const char *name, struct hk_error *err);
void params_free(struct params *p);

#endif
