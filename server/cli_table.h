/* cli_table.h - how the operator commands print rows: an aligned table for
 * people, or one JSON object per line for programs (--json).
 *
 * Rows are JSON objects whose member names are the stable field names of
 * the --json output; a table shows the chosen columns of them. Writes only
 * to the FILE it is given, so unit tests can read what it wrote. */
#ifndef HOOKD_CLI_TABLE_H
#define HOOKD_CLI_TABLE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct cli_column {
    const char *field;     /* member of each row */
    const char *header;    /* the table's heading, e.g. "URL" */
    size_t max_width;      /* longer values are cut with "..." in a table; 0: never */
};

/* Prints rows (a JSON array of objects; borrowed). json: every row object,
 * all its members, on its own line. Otherwise a header line and one line
 * per row, columns padded to their widest value (in characters) and
 * separated by two spaces; null and missing values show as "-", strings
 * without quotes (control characters as spaces), numbers as they are.
 * An empty array prints nothing either way. */
void cli_table_print(FILE *out, const struct cli_column *cols, size_t n_cols,
                     struct json_object *rows, bool json);

/* The one-line JSON text of obj (borrowed), as --json prints it. */
const char *cli_table_json_line(struct json_object *obj);

#endif
