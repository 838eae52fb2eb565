/* params.c - request parameters from query strings, forms and JSON bodies. */
#include "params.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "form.h"
#include "xmalloc.h"

void params_init(struct params *p)
{
    p->items = NULL;
    p->count = 0;
}

static int params_add(struct params *p, const char *name, size_t name_len, const char *value,
                      size_t value_len, enum param_kind kind, struct hk_error *err)
{
    if (memchr(name, '\0', name_len) != NULL) {
        hk_error_field(err, HK_ERR_INVALID, "body");
        return -1;
    }
    if (params_get(p, name) != NULL) {
        hk_error_field(err, HK_ERR_INVALID, name);
        return -1;
    }
    if (p->count >= PARAMS_MAX_COUNT) {
        hk_error_field(err, HK_ERR_INVALID, name);
        return -1;
    }
    p->items = xrealloc(p->items, (p->count + 1) * sizeof(*p->items));
    struct param *item = &p->items[p->count++];
    item->name = xstrndup(name, name_len);
    item->value = xmalloc(value_len + 1);
    memcpy(item->value, value, value_len);
    item->value[value_len] = '\0';
    item->value_len = value_len;
    item->kind = kind;
    return 0;
}

static int add_form_pair(void *ctx, const char *name, size_t name_len, const char *value,
                         size_t value_len, struct hk_error *err)
{
    return params_add(ctx, name, name_len, value, value_len, PARAM_TEXT, err);
}

int params_parse_form(struct params *p, const char *data, size_t len, const char *what,
                      struct hk_error *err)
{
    return form_parse(data, len, what, add_form_pair, p, err);
}

int params_parse_json(struct params *p, const char *data, size_t len, struct hk_error *err)
{
    int rc = -1;
    struct json_tokener *tok = json_tokener_new_ex(PARAMS_JSON_MAX_DEPTH);
    struct json_object *root = NULL;
    if (tok == NULL)
        abort();
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    if (len > 0)
        root = json_tokener_parse_ex(tok, data, (int)len);
    /* The whole body must be exactly one JSON value: no trailing bytes and
     * not a truncated document. */
    size_t end = root ? json_tokener_get_parse_end(tok) : 0;
    while (end < len && (data[end] == ' ' || data[end] == '\t' || data[end] == '\r' ||
                         data[end] == '\n'))
        end++;
    if (root == NULL || json_tokener_get_error(tok) != json_tokener_success || end != len ||
        !json_object_is_type(root, json_type_object)) {
        hk_error_field(err, HK_ERR_INVALID, "body");
        goto out;
    }
    json_object_object_foreach(root, key, val) {
        if (val == NULL)
            continue; /* null: as if absent */
        const char *text;
        size_t text_len;
        enum param_kind kind = PARAM_TEXT;
        switch (json_object_get_type(val)) {
        case json_type_string:
            text = json_object_get_string(val);
            text_len = (size_t)json_object_get_string_len(val);
            break;
        case json_type_object:
        case json_type_array:
            kind = PARAM_JSON;
            /* fall through */
        default:
            text = json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN |
                                                           JSON_C_TO_STRING_NOSLASHESCAPE);
            text_len = strlen(text);
            break;
        }
        if (params_add(p, key, strlen(key), text, text_len, kind, err) != 0)
            goto out;
    }
    rc = 0;
out:
    json_object_put(root);
    json_tokener_free(tok);
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
