/* params.c - request parameters from query strings, forms and JSON bodies. */
#include "params.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "form.h"
#include "json_members.h"
#include "utf8.h"
#include "xmalloc.h"

void params_init(struct params *p)
{
    p->items = NULL;
    p->count = 0;
    p->max_count = PARAMS_MAX_COUNT;
    p->max_depth = PARAMS_JSON_MAX_DEPTH;
}

void params_set_limits(struct params *p, size_t max_count, int max_depth)
{
    p->max_count = max_count;
    p->max_depth = max_depth;
}

static int params_add(struct params *p, const char *name, size_t name_len, const char *value,
                      size_t value_len, enum param_kind kind, const char *what,
                      struct hk_error *err)
{
    /* A name that could not be echoed back as JSON text names the source. */
    if (name_len == 0 || memchr(name, '\0', name_len) != NULL || !utf8_valid(name, name_len)) {
        hk_error_field(err, HK_ERR_INVALID, what);
        return -1;
    }
    char *copy = xstrndup(name, name_len);
    bool bad = params_get(p, copy) != NULL || p->count >= p->max_count ||
               !utf8_valid(value, value_len);
    if (bad) {
        hk_error_field(err, HK_ERR_INVALID, copy);
        free(copy);
        return -1;
    }
    p->items = xrealloc(p->items, (p->count + 1) * sizeof(*p->items));
    struct param *item = &p->items[p->count++];
    item->name = copy;
    item->value = xstrndup(value, value_len);
    item->value_len = value_len;
    item->kind = kind;
    return 0;
}

struct form_ctx {
    struct params *params;
    const char *what;
};

static int add_form_pair(void *ctx, const char *name, size_t name_len, const char *value,
                         size_t value_len, struct hk_error *err)
{
    struct form_ctx *f = ctx;
    return params_add(f->params, name, name_len, value, value_len, PARAM_TEXT, f->what, err);
}

int params_parse_form(struct params *p, const char *data, size_t len, const char *what,
                      struct hk_error *err)
{
    struct form_ctx ctx = { p, what };
    return form_parse(data, len, what, add_form_pair, &ctx, err);
}

struct json_ctx {
    struct params *params;
    struct params nulls;    /* names given with null: absent, but taken */
};

/* One member of a JSON body: strings are decoded, objects and arrays keep
 * their exact bytes (event data is stored as sent), numbers and booleans
 * keep their text, null counts as absent. A name may appear once, whatever
 * its values. */
static int add_json_member(void *ctx, const char *key, const char *value, size_t value_len,
                           struct json_object *parsed, struct hk_error *err)
{
    struct json_ctx *j = ctx;
    struct params *p = j->params;
    if (params_get(&j->nulls, key) != NULL || (parsed == NULL && params_get(p, key) != NULL)) {
        hk_error_field(err, HK_ERR_INVALID, key);
        return -1;
    }
    if (parsed == NULL)
        return params_add(&j->nulls, key, strlen(key), "", 0, PARAM_TEXT, "body", err);
    switch (json_object_get_type(parsed)) {
    case json_type_string:
        return params_add(p, key, strlen(key), json_object_get_string(parsed),
                          (size_t)json_object_get_string_len(parsed), PARAM_TEXT, "body", err);
    case json_type_object:
    case json_type_array:
        return params_add(p, key, strlen(key), value, value_len, PARAM_JSON, "body", err);
    default:
        return params_add(p, key, strlen(key), value, value_len, PARAM_TEXT, "body", err);
    }
}

int params_parse_json(struct params *p, const char *data, size_t len, struct hk_error *err)
{
    struct json_ctx ctx = { p, { NULL, 0, 0, 0 } };
    params_init(&ctx.nulls);
    ctx.nulls.max_count = p->max_count;
    int rc = json_members_parse(data, len, p->max_depth, add_json_member, &ctx, err);
    params_free(&ctx.nulls);
    return rc;
}

const struct param *params_get(const struct params *p, const char *name)
{
    for (size_t i = 0; i < p->count; i++) {
        if (strcmp(p->items[i].name, name) == 0)
            return &p->items[i];
    }
    return NULL;
}

int params_check_allowed(const struct params *p, const char *const *allowed, struct hk_error *err)
{
    for (size_t i = 0; i < p->count; i++) {
        const char *const *a = allowed;
        while (*a != NULL && strcmp(*a, p->items[i].name) != 0)
            a++;
        if (*a == NULL) {
            hk_error_field(err, HK_ERR_INVALID, p->items[i].name);
            return -1;
        }
    }
    return 0;
}

const char *params_require_text(const struct params *p, const char *name, struct hk_error *err)
{
    const struct param *param = params_get(p, name);
    if (param == NULL || param->value_len == 0) {
        hk_error_field(err, HK_ERR_REQUIRED, name);
        return NULL;
    }
    if (param->kind != PARAM_TEXT || strlen(param->value) != param->value_len) {
        hk_error_field(err, HK_ERR_INVALID, name);
        return NULL;
    }
    return param->value;
}

void params_free(struct params *p)
{
    for (size_t i = 0; i < p->count; i++) {
        free(p->items[i].name);
        free(p->items[i].value);
    }
    free(p->items);
    p->items = NULL;
    p->count = 0;
}
