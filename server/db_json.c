/* db_json.c - result columns as json-c values. */
#include "db_json.h"

#include <stdlib.h>

struct json_object *db_json_text(const PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        return NULL;
    return json_object_new_string_len(PQgetvalue(res, row, col), PQgetlength(res, row, col));
}

struct json_object *db_json_int(const PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        return NULL;
    return json_object_new_int64(strtoll(PQgetvalue(res, row, col), NULL, 10));
}

struct json_object *db_json_bool(const PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        return NULL;
    return json_object_new_boolean(PQgetvalue(res, row, col)[0] == 't');
}

struct json_object *db_json_number(const PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        return NULL;
    const char *text = PQgetvalue(res, row, col);
    return json_object_new_double_s(strtod(text, NULL), text);
}

struct json_object *db_json_parsed(const PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        return NULL;
    return json_tokener_parse(PQgetvalue(res, row, col));
}
