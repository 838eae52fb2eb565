/* cli_table.c - aligned tables and JSON lines for the operator commands. */
#include "cli_table.h"

#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

const char *cli_table_json_line(struct json_object *obj)
{
    return json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
                                                   JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* Characters (UTF-8 code points) in s. */
static size_t width_of(const char *s)
{
    size_t n = 0;
    for (; *s != '\0'; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* The cell text of one value (caller frees): control characters become
 * spaces, and a value wider than max (when max > 0) is cut at a character
 * boundary and ends in "...". */
static char *cell_text(struct json_object *v, size_t max)
{
    const char *text = "-";
    if (v != NULL)
        text = json_object_is_type(v, json_type_string) ? json_object_get_string(v)
                                                        : cli_table_json_line(v);
    char *cell = xstrdup(text);
    for (char *p = cell; *p != '\0'; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    }
    if (max > 3 && width_of(cell) > max) {
        size_t chars = 0, i = 0;
        for (; cell[i] != '\0'; i++) {
            if (((unsigned char)cell[i] & 0xC0) != 0x80 && chars++ == max - 3)
                break;
        }
        memcpy(cell + i, "...", 4); /* at least 4 characters follow: room for it */
    }
    return cell;
}

void cli_table_print(FILE *out, const struct cli_column *cols, size_t n_cols,
                     struct json_object *rows, bool json)
{
    size_t n_rows = json_object_array_length(rows);
    if (n_rows == 0)
        return;
    if (json) {
        for (size_t r = 0; r < n_rows; r++)
            fprintf(out, "%s\n", cli_table_json_line(json_object_array_get_idx(rows, r)));
        return;
    }
    /* cells[r * n_cols + c]; row 0 is the header. */
    char **cells = xcalloc((n_rows + 1) * n_cols, sizeof(*cells));
    size_t *widths = xcalloc(n_cols, sizeof(*widths));
    for (size_t c = 0; c < n_cols; c++)
        cells[c] = xstrdup(cols[c].header);
    for (size_t r = 0; r < n_rows; r++) {
        struct json_object *row = json_object_array_get_idx(rows, r), *v = NULL;
        for (size_t c = 0; c < n_cols; c++) {
            if (!json_object_object_get_ex(row, cols[c].field, &v))
                v = NULL;
            cells[(r + 1) * n_cols + c] = cell_text(v, cols[c].max_width);
        }
    }
    for (size_t i = 0; i < (n_rows + 1) * n_cols; i++) {
        size_t w = width_of(cells[i]);
        if (w > widths[i % n_cols])
            widths[i % n_cols] = w;
    }
    for (size_t r = 0; r <= n_rows; r++) {
        for (size_t c = 0; c < n_cols; c++) {
            const char *cell = cells[r * n_cols + c];
            if (c + 1 == n_cols) {
                fprintf(out, "%s\n", cell);
            } else {
                fprintf(out, "%s%*s", cell, (int)(widths[c] - width_of(cell) + 2), "");
            }
        }
    }
    for (size_t i = 0; i < (n_rows + 1) * n_cols; i++)
        free(cells[i]);
    free(cells);
    free(widths);
}
