/* db_event_types.c - the event-type catalog. */
#include "db_event_types.h"

static const struct db_stmt stmt_exists = {
    "event_types_exists", "SELECT 1 FROM hookd.event_types WHERE name = $1", 1
};
static const struct db_stmt stmt_add = {
    "event_types_add", "INSERT INTO hookd.event_types (name, description) VALUES ($1, $2)", 2
};
static const struct db_stmt stmt_list = {
    "event_types_list",
    "SELECT name, description, hookd.rfc3339(created) FROM hookd.event_types ORDER BY name", 0
};

int db_event_types_exists(struct db_conn *conn, const char *name, struct hk_error *err)
{
    const char *values[] = { name };
    PGresult *res = db_query(conn, &stmt_exists, values, err);
    if (res == NULL)
        return -1;
    int found = PQntuples(res) > 0;
    PQclear(res);
    return found;
}

int db_event_types_add(struct db_conn *conn, const char *name, const char *description,
                       struct hk_error *err)
{
    const char *values[] = { name, description };
    if (db_exec(conn, &stmt_add, values, err) == 0)
        return 0;
    if (db_sqlstate_is(conn, "23505"))
        hk_error_set(err, HK_ERR_INVALID, "event type '%s' already exists", name);
    else if (db_sqlstate_is(conn, "23514"))
        hk_error_set(err, HK_ERR_INVALID,
                     "event type names are lowercase dot-separated words of [a-z0-9_], "
                     "at most 128 characters (e.g. order.updated)");
    return -1;
}

int db_event_types_list(struct db_conn *conn, struct json_object **out, struct hk_error *err)
{
    PGresult *res = db_query(conn, &stmt_list, NULL, err);
    if (res == NULL)
        return -1;
    struct json_object *list = json_object_new_array_ext(PQntuples(res));
    for (int row = 0; row < PQntuples(res); row++) {
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(PQgetvalue(res, row, 0)));
        json_object_object_add(o, "description",
                               json_object_new_string(PQgetvalue(res, row, 1)));
        json_object_object_add(o, "created", json_object_new_string(PQgetvalue(res, row, 2)));
        json_object_array_add(list, o);
    }
    PQclear(res);
    *out = list;
    return 0;
}
