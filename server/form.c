/* form.c - application/x-www-form-urlencoded decoding. */
#include "form.h"

#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

char *form_decode(const char *src, size_t len, size_t *out_len)
{
    char *out = xmalloc(len + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = src[i];
        if (c == '+') {
            out[n++] = ' ';
        } else if (c == '%') {
            if (i + 2 >= len) {
                free(out);
                return NULL;
            }
            int hi = hex_value(src[i + 1]), lo = hex_value(src[i + 2]);
            if (hi < 0 || lo < 0) {
                free(out);
                return NULL;
            }
            out[n++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[n++] = c;
        }
    }
    out[n] = '\0';
    *out_len = n;
    return out;
}

int form_parse(const char *data, size_t len, const char *what, form_pair_fn fn, void *ctx,
               struct hk_error *err)
{
    size_t pos = 0;
    while (pos < len) {
        const char *pair = data + pos;
        const char *amp = memchr(pair, '&', len - pos);
        size_t pair_len = amp ? (size_t)(amp - pair) : len - pos;
        pos += pair_len + 1;
        if (pair_len == 0)
            continue;
        const char *eq = memchr(pair, '=', pair_len);
        size_t raw_name_len = eq ? (size_t)(eq - pair) : pair_len;
        size_t name_len = 0, value_len = 0;
        char *name = form_decode(pair, raw_name_len, &name_len);
        if (name == NULL || name_len == 0) {
            free(name);
            hk_error_field(err, HK_ERR_INVALID, what);
            return -1;
        }
        char *value = eq ? form_decode(eq + 1, pair_len - raw_name_len - 1, &value_len)
                         : xstrdup("");
        if (value == NULL) {
            hk_error_field(err, HK_ERR_INVALID, name);
            free(name);
            return -1;
        }
        int rc = fn(ctx, name, name_len, value, value_len, err);
        free(name);
        free(value);
        if (rc != 0)
            return -1;
    }
    return 0;
}
