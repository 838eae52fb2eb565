/* db_event_types.h - the catalog of event types (global, not per tenant). */
#ifndef HOOKD_DB_EVENT_TYPES_H
#define HOOKD_DB_EVENT_TYPES_H

#include <json-c/json.h>

#include "db.h"

/* Returns 1 when name is in the catalog, 0 if not, -1 on error. */
int db_event_types_exists(struct db_conn *conn, const char *name, struct hk_error *err)
    __attribute__((warn_unused_result));
/* Adds a type; HK_ERR_INVALID when the name is malformed or taken. */
int db_event_types_add(struct db_conn *conn, const char *name, const char *description,
                       struct hk_error *err) __attribute__((warn_unused_result));
/* The catalog sorted by name, as a new JSON array of {name, description,
 * created}. */
int db_event_types_list(struct db_conn *conn, struct json_object **out, struct hk_error *err)
    __attribute__((warn_unused_result));

#endif
