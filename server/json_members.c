/* json_members.c - a top-level JSON object scanner that keeps value bytes. */
#include "json_members.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"
#include "xmalloc.h"

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

const char *json_trim(const char *text, size_t *len)
{
    size_t start = 0, end = *len;
    while (start < end && is_ws(text[start]))
        start++;
    while (end > start && is_ws(text[end - 1]))
        end--;
    *len = end - start;
    return text + start;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Returns the index just past the RFC 8259 number at text[i], or 0. */
static size_t number_end(const char *text, size_t len, size_t i)
{
    if (i < len && text[i] == '-')
        i++;
    if (i < len && text[i] == '0') {
        if (++i < len && is_digit(text[i]))
            return 0;           /* no leading zeros: json-c takes "00" and "-01" */
    } else if (i < len && text[i] >= '1' && text[i] <= '9') {
        while (i < len && is_digit(text[i]))
            i++;
    } else {
        return 0;
    }
    if (i < len && text[i] == '.') {
        if (++i >= len || !is_digit(text[i]))
            return 0;
        while (i < len && is_digit(text[i]))
            i++;
    }
    if (i < len && (text[i] == 'e' || text[i] == 'E')) {
        if (++i < len && (text[i] == '+' || text[i] == '-'))
            i++;
        if (i >= len || !is_digit(text[i]))
            return 0;
        while (i < len && is_digit(text[i]))
            i++;
    }
    return i;
}

/* The UTF-16 code unit of the \u escape (four hex digits) at text[i], the
 * backslash, or -1 when there is none there. */
static long unicode_escape(const char *text, size_t len, size_t i)
{
    if (len - i < 6 || text[i] != '\\' || text[i + 1] != 'u')
        return -1;
    long unit = 0;
    for (size_t k = i + 2; k < i + 6; k++) {
        char c = text[k];
        int digit = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                           : -1;
        if (digit < 0)
            return -1;
        unit = unit * 16 + digit;
    }
    return unit;
}

/* Checks the escape at text[i] (a backslash inside a string) and returns the
 * index of its last byte, or 0 when it is not valid: a \u escape must be
 * four hex digits, and a UTF-16 surrogate must be a high one followed by an
 * escaped low one (a lone surrogate is not Unicode text; json-c and
 * PostgreSQL both let it through). */
static size_t escape_end(const char *text, size_t len, size_t i)
{
    if (i + 1 >= len)
        return 0;
    if (text[i + 1] != 'u')
        return i + 1;
    long unit = unicode_escape(text, len, i);
    if (unit < 0 || (unit >= 0xDC00 && unit <= 0xDFFF))
        return 0;
    if (unit >= 0xD800 && unit <= 0xDBFF) {
        long low = unicode_escape(text, len, i + 6);
        if (low < 0xDC00 || low > 0xDFFF)
            return 0;
        return i + 11;
    }
    return i + 5;
}

/* json-c's strict mode still takes NaN, Infinity, "1.", single-quoted
 * names, lone surrogates and raw control characters in strings. Values are stored as sent,
 * so every token must be RFC 8259's; json-c then checks the structure. */
static bool tokens_strict(const char *text, size_t len)
{
    size_t i = 0;
    while (i < len) {
        char c = text[i];
        if (is_ws(c) || c == '{' || c == '}' || c == '[' || c == ']' || c == ',' || c == ':') {
            i++;
        } else if (c == '"') {
            for (i++; i < len && text[i] != '"'; i++) {
                if ((unsigned char)text[i] < 0x20)
                    return false;
                if (text[i] == '\\' && (i = escape_end(text, len, i)) == 0)
                    return false;
            }
            if (i >= len)
                return false;
            i++;
        } else if (c == '-' || is_digit(c)) {
            if ((i = number_end(text, len, i)) == 0)
                return false;
        } else if (len - i >= 4 && (memcmp(text + i, "true", 4) == 0 ||
                                    memcmp(text + i, "null", 4) == 0)) {
            i += 4;
        } else if (len - i >= 5 && memcmp(text + i, "false", 5) == 0) {
            i += 5;
        } else {
            return false;
        }
    }
    return true;
}

struct json_object *json_value_parse(const char *text, size_t len, int max_depth, int *is_null)
{
    *is_null = 0;
    text = json_trim(text, &len);
    if (len == 0 || len >= (size_t)INT32_MAX || !utf8_valid(text, len) ||
        !tokens_strict(text, len))
        return NULL;
    /* json-c finishes a trailing number or literal only when it sees the
     * end of input, so it gets a NUL-terminated copy including the NUL. */
    char *copy = xstrndup(text, len);
    struct json_tokener *tok = json_tokener_new_ex(max_depth);
    if (tok == NULL)
        abort();
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    struct json_object *obj = json_tokener_parse_ex(tok, copy, (int)len + 1);
    bool ok = json_tokener_get_error(tok) == json_tokener_success &&
              json_tokener_get_parse_end(tok) == len;
    json_tokener_free(tok);
    free(copy);
    if (!ok) {
        json_object_put(obj);
        return NULL;
    }
    if (obj == NULL)
        *is_null = 1;
    return obj;
}

/* Returns the index just past the JSON string token that starts at data[i]
 * (a '"'), or 0 when it is unterminated. */
static size_t scan_string(const char *data, size_t len, size_t i)
{
    for (i++; i < len; i++) {
        if (data[i] == '\\')
            i++;
        else if (data[i] == '"')
            return i + 1;
    }
    return 0;
}

/* Returns the index just past the value that starts at data[i], or 0 when
 * the input ends first. Structure is only skimmed here; json-c validates
 * the span afterwards. */
static size_t scan_value(const char *data, size_t len, size_t i)
{
    if (i >= len)
        return 0;
    if (data[i] == '"')
        return scan_string(data, len, i);
    if (data[i] == '{' || data[i] == '[') {
        size_t depth = 0;
        while (i < len) {
            char c = data[i];
            if (c == '"') {
                i = scan_string(data, len, i);
                if (i == 0)
                    return 0;
                continue;
            }
            if (c == '{' || c == '[')
                depth++;
            else if ((c == '}' || c == ']') && --depth == 0)
                return i + 1;
            i++;
        }
        return 0;
    }
    while (i < len && !is_ws(data[i]) && data[i] != ',' && data[i] != '}' && data[i] != ']')
        i++;
    return i;
}

static size_t skip_ws(const char *data, size_t len, size_t i)
{
    while (i < len && is_ws(data[i]))
        i++;
    return i;
}

static int malformed(struct hk_error *err)
{
    hk_error_field(err, HK_ERR_INVALID, "body");
    return -1;
}

int json_members_parse(const char *data, size_t len, int max_depth, json_member_fn fn, void *ctx,
                       struct hk_error *err)
{
    if (!utf8_valid(data, len))
        return malformed(err);
    size_t i = skip_ws(data, len, 0);
    if (i >= len || data[i] != '{')
        return malformed(err);
    i = skip_ws(data, len, i + 1);
    if (i < len && data[i] == '}') {
        i = skip_ws(data, len, i + 1);
        return i == len ? 0 : malformed(err);
    }
    for (;;) {
        if (i >= len || data[i] != '"')
            return malformed(err);
        size_t key_end = scan_string(data, len, i);
        if (key_end == 0)
            return malformed(err);
        int is_null;
        struct json_object *key_obj = json_value_parse(data + i, key_end - i, 1, &is_null);
        if (key_obj == NULL || !json_object_is_type(key_obj, json_type_string) ||
            strlen(json_object_get_string(key_obj)) !=
                (size_t)json_object_get_string_len(key_obj)) {
            json_object_put(key_obj);
            return malformed(err);
        }
        i = skip_ws(data, len, key_end);
        if (i >= len || data[i] != ':') {
            json_object_put(key_obj);
            return malformed(err);
        }
        i = skip_ws(data, len, i + 1);
        size_t value_end = scan_value(data, len, i);
        struct json_object *value = NULL;
        if (value_end > i)
            value = json_value_parse(data + i, value_end - i, max_depth, &is_null);
        if (value_end <= i || (value == NULL && !is_null)) {
            json_object_put(key_obj);
            return malformed(err);
        }
        int rc = fn(ctx, json_object_get_string(key_obj), data + i, value_end - i, value, err);
        json_object_put(value);
        json_object_put(key_obj);
        if (rc != 0)
            return -1;
        i = skip_ws(data, len, value_end);
        if (i < len && data[i] == ',') {
            i = skip_ws(data, len, i + 1);
            continue;
        }
        if (i < len && data[i] == '}') {
            i = skip_ws(data, len, i + 1);
            return i == len ? 0 : malformed(err);
        }
        return malformed(err);
    }
}
