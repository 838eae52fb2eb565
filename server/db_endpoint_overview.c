/* db_endpoint_overview.c - GET /events/endpoints in one statement.
 *
 * Attempts carry no endpoint id, so the health figures come from one pass
 * over the tenant's attempts of the last 24 hours (attempts_by_time, then
 * each attempt's delivery by primary key), grouped by endpoint; the last
 * attempt is the latest of that pass, fetched again by its start time. So
 * an endpoint with no attempt for a day shows none. The pass is bounded by the window,
 * never by the length of the history. Queue counts use the partial
 * indexes on queued, failed and parked deliveries. */
#include "db_endpoint_overview.h"

#include <inttypes.h>
#include <stdio.h>

#include "db_json.h"

/* The statement is hookd.tenant_endpoints (db/functions/tenant_endpoints.sql):
 * a function, so that it is planned afresh on every call and never by a
 * sequential scan or a hash join, which a prepared statement's kept plan
 * made on nearly empty tables did (see the function's header). */
static const struct db_stmt stmt_list = {
    "endpoint_overview_list", "SELECT * FROM hookd.tenant_endpoints($1::bigint)", 1
};

enum {
    COL_URL, COL_STATE, COL_REASON, COL_CREATED, COL_TYPES, COL_CIRCUIT, COL_OPEN_UNTIL,
    COL_STREAK, COL_MAX_IN_FLIGHT, COL_RATE_LIMIT, COL_SIGN_V1A, COL_PREVIOUS_EXPIRES, COL_LAST_AT,
    COL_LAST_STATUS, COL_LAST_ERROR, COL_LAST_DURATION, COL_HOUR_N, COL_HOUR_OK, COL_HOUR_RATE,
    COL_DAY_N, COL_DAY_OK, COL_DAY_RATE, COL_PENDING, COL_FAILED, COL_PARKED
};

static struct json_object *health_window(const PGresult *res, int row, int col_n)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "attempts", db_json_int(res, row, col_n));
    json_object_object_add(o, "succeeded", db_json_int(res, row, col_n + 1));
    json_object_object_add(o, "success_rate", db_json_number(res, row, col_n + 2));
    return o;
}

static struct json_object *row_to_endpoint(const PGresult *res, int row)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "webhook_url", db_json_text(res, row, COL_URL));
    json_object_object_add(o, "status", db_json_text(res, row, COL_STATE));
    if (!PQgetisnull(res, row, COL_REASON))
        json_object_object_add(o, "disabled_reason", db_json_text(res, row, COL_REASON));
    json_object_object_add(o, "created", db_json_text(res, row, COL_CREATED));
    json_object_object_add(o, "types", db_json_parsed(res, row, COL_TYPES));
    json_object_object_add(o, "circuit", db_json_text(res, row, COL_CIRCUIT));
    json_object_object_add(o, "circuit_open_until", db_json_text(res, row, COL_OPEN_UNTIL));
    json_object_object_add(o, "failure_streak", db_json_int(res, row, COL_STREAK));
    json_object_object_add(o, "max_in_flight", db_json_int(res, row, COL_MAX_IN_FLIGHT));
    json_object_object_add(o, "rate_limit", db_json_number(res, row, COL_RATE_LIMIT));
    json_object_object_add(o, "sign_v1a", db_json_bool(res, row, COL_SIGN_V1A));
    json_object_object_add(o, "previous_secret_expires",
                           db_json_text(res, row, COL_PREVIOUS_EXPIRES));
    struct json_object *last = NULL;
    if (!PQgetisnull(res, row, COL_LAST_AT)) {
        last = json_object_new_object();
        json_object_object_add(last, "at", db_json_text(res, row, COL_LAST_AT));
        json_object_object_add(last, "status", db_json_int(res, row, COL_LAST_STATUS));
        json_object_object_add(last, "error", db_json_text(res, row, COL_LAST_ERROR));
        json_object_object_add(last, "duration_ms", db_json_int(res, row, COL_LAST_DURATION));
    }
    json_object_object_add(o, "last_attempt", last);
    struct json_object *health = json_object_new_object();
    json_object_object_add(health, "hour", health_window(res, row, COL_HOUR_N));
    json_object_object_add(health, "day", health_window(res, row, COL_DAY_N));
    json_object_object_add(o, "health", health);
    struct json_object *queue = json_object_new_object();
    json_object_object_add(queue, "pending", db_json_int(res, row, COL_PENDING));
    json_object_object_add(queue, "failed", db_json_int(res, row, COL_FAILED));
    json_object_object_add(queue, "disabled", db_json_int(res, row, COL_PARKED));
    json_object_object_add(o, "queue", queue);
    return o;
}

int db_endpoint_overview_list(struct db_conn *conn, int64_t tenant_id, struct json_object **out,
                              struct hk_error *err)
{
    char tenant[24];
    snprintf(tenant, sizeof(tenant), "%" PRId64, tenant_id);
    const char *values[] = { tenant };
    PGresult *res = db_query(conn, &stmt_list, values, err);
    if (res == NULL)
        return -1;
    struct json_object *list = json_object_new_array_ext(PQntuples(res));
    for (int row = 0; row < PQntuples(res); row++)
        json_object_array_add(list, row_to_endpoint(res, row));
    PQclear(res);
    *out = list;
    return 0;
}
