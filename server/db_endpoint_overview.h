/* db_endpoint_overview.h - every endpoint of a tenant with what the
 * dashboard shows about it: state, subscribed types, breaker, limits,
 * secret rotation, its last attempt, success over the last hour and day,
 * and its queue. Read-only. */
#ifndef HOOKD_DB_ENDPOINT_OVERVIEW_H
#define HOOKD_DB_ENDPOINT_OVERVIEW_H

#include <json-c/json.h>
#include <stdint.h>

#include "db.h"

/* *out gets a new JSON array (caller puts it), oldest endpoint first, in
 * the shape of api/openapi.yaml's EndpointOverview. */
int db_endpoint_overview_list(struct db_conn *conn, int64_t tenant_id, struct json_object **out,
                              struct hk_error *err) __attribute__((warn_unused_result));

#endif
