/* error.c - filling struct hk_error. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void hk_error_clear(struct hk_error *err)
{
    err->code = HK_OK;
    err->field[0] = '\0';
    err->detail[0] = '\0';
}

void hk_error_set(struct hk_error *err, enum hk_err_code code, const char *fmt, ...)
{
    va_list ap;
    err->code = code;
    err->field[0] = '\0';
    va_start(ap, fmt);
    vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
    va_end(ap);
}

void hk_error_field(struct hk_error *err, enum hk_err_code code, const char *field)
{
    err->code = code;
    snprintf(err->field, sizeof(err->field), "%s", field);
    /* A long name is cut before a character, never inside one: the field
     * is echoed in a JSON body, which must stay valid UTF-8. */
    size_t n = strlen(err->field);
    while (n > 0 && ((unsigned char)field[n] & 0xC0) == 0x80)
        n--;
    err->field[n] = '\0';
    snprintf(err->detail, sizeof(err->detail), "%s %s",
             code == HK_ERR_REQUIRED ? "missing" : "invalid", field);
}
