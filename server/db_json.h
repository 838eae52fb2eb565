/* db_json.h - one column of a libpq result as a json-c value, for the
 * read-only reports that the db_* modules build (the dashboard's routes).
 * Each returns a new reference (caller puts it or hands it to an object),
 * or NULL for SQL NULL, which json-c writes as JSON null. */
#ifndef HOOKD_DB_JSON_H
#define HOOKD_DB_JSON_H

#include <json-c/json.h>
#include <libpq-fe.h>

struct json_object *db_json_text(const PGresult *res, int row, int col);
struct json_object *db_json_int(const PGresult *res, int row, int col);
/* A boolean column (t/f). */
struct json_object *db_json_bool(const PGresult *res, int row, int col);
/* A number keeping PostgreSQL's own text for it (0.6667, not
 * 0.66669999999999996), so what SQL rounded stays rounded. */
struct json_object *db_json_number(const PGresult *res, int row, int col);
/* A column holding JSON text (json_agg and the like), parsed. */
struct json_object *db_json_parsed(const PGresult *res, int row, int col);

#endif
