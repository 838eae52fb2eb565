/* db_events.c - events, the outbox, and the delivery record. */
#include "db_events.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

static const struct db_stmt stmt_publish = {
    "events_publish",
    "SELECT event_body, replayed FROM hookd.publish($1::bigint, $2, $3::json, $4, $5, $6)", 6
};
/* The same event text as hookd.publish builds, without an outbox row: for
 * webhook.test events that go to one URL, not to subscribers. */
static const struct db_stmt stmt_store_unqueued = {
    "events_store_unqueued",
    "WITH v AS (SELECT date_trunc('milliseconds', clock_timestamp()) AS occurred)"
    " INSERT INTO hookd.events (tenant_id, id, type, version, occurred, body)"
    " SELECT $1::bigint, $2, $3, '1.0.0', v.occurred,"
    "  '{\"id\":' || to_json($2::text)::text || ',\"occurred\":' ||"
    "  to_json(hookd.rfc3339(v.occurred))::text || ',\"type\":' || to_json($3::text)::text ||"
    "  ',\"version\":\"1.0.0\",\"data\":' || $4::json::text || '}'"
    " FROM v RETURNING body",
    4
};
static const struct db_stmt stmt_get = {
    "events_get", "SELECT body FROM hookd.events WHERE tenant_id = $1 AND id = $2", 2
};
static const struct db_stmt stmt_delete_unsent = {
    "events_delete_unsent",
    "DELETE FROM hookd.events e WHERE e.tenant_id = $1 AND e.id = $2"
    " AND NOT EXISTS (SELECT 1 FROM hookd.pending_events p"
    "                  WHERE p.tenant_id = e.tenant_id AND p.event_id = e.id)"
    " AND NOT EXISTS (SELECT 1 FROM hookd.deliveries d"
    "                  WHERE d.tenant_id = e.tenant_id AND d.event_id = e.id)",
    2
};
static const struct db_stmt stmt_notifications = {
    "events_notifications",
    "SELECT d.id, e.url, d.state, d.attempt_count,"
    "       CASE WHEN d.state IN ('pending', 'delivering') THEN hookd.rfc3339(d.next_attempt_at) END,"
    "       a.number, hookd.rfc3339(a.started), a.duration_ms, a.status, a.error,"
    "       a.response_body, hookd.rfc3339(a.next_attempt_at)"
    "  FROM hookd.deliveries d"
    "  JOIN hookd.endpoints e ON e.tenant_id = d.tenant_id AND e.id = d.endpoint_id"
    "  LEFT JOIN hookd.attempts a ON a.tenant_id = d.tenant_id AND a.delivery_id = d.id"
    " WHERE d.tenant_id = $1 AND d.event_id = $2"
    " ORDER BY d.id, a.number",
    2
};

static void format_id(char out[24], int64_t id)
{
    snprintf(out, 24, "%" PRId64, id);
}

int db_events_publish(struct db_conn *conn, int64_t tenant_id, const char *event_id,
                      const char *type, const char *data_json, const char *version,
                      const char *idempotency_key, struct published_event *out,
                      struct hk_error *err)
{
    char tenant[24];
    format_id(tenant, tenant_id);
    const char *values[] = { tenant, type, data_json, version, idempotency_key, event_id };
    PGresult *res = db_query(conn, &stmt_publish, values, err);
    if (res == NULL) {
        if (db_sqlstate_is(conn, "HKT01"))
            hk_error_field(err, HK_ERR_INVALID, "type");
        else if (db_sqlstate_is(conn, "HKD01") || db_sqlstate_is(conn, "22P02"))
            hk_error_field(err, HK_ERR_INVALID, "data");
        else if (db_sqlstate_is(conn, "HKV01"))
            hk_error_field(err, HK_ERR_INVALID, "version");
        else if (db_sqlstate_is(conn, "HKI01"))
            hk_error_set(err, HK_ERR_IDEMPOTENCY, "idempotency key reused");
        return -1;
    }
    out->body = xstrdup(PQgetvalue(res, 0, 0));
    out->replayed = PQgetvalue(res, 0, 1)[0] == 't';
    PQclear(res);
    return 0;
}

int db_events_store_unqueued(struct db_conn *conn, int64_t tenant_id, const char *event_id,
                             const char *type, const char *data_json, char **body,
                             struct hk_error *err)
{
    char tenant[24];
    format_id(tenant, tenant_id);
    const char *values[] = { tenant, event_id, type, data_json };
    PGresult *res = db_query(conn, &stmt_store_unqueued, values, err);
    if (res == NULL)
        return -1;
    *body = xstrdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}

int db_events_get(struct db_conn *conn, int64_t tenant_id, const char *event_id, char **body,
                  struct hk_error *err)
{
    char tenant[24];
    format_id(tenant, tenant_id);
    const char *values[] = { tenant, event_id };
    PGresult *res = db_query(conn, &stmt_get, values, err);
    if (res == NULL)
        return -1;
    int found = PQntuples(res) == 1;
    if (found)
        *body = xstrndup(PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
    PQclear(res);
    return found;
}

int db_events_delete_unsent(struct db_conn *conn, int64_t tenant_id, const char *event_id,
                            struct hk_error *err)
{
    char tenant[24];
    format_id(tenant, tenant_id);
    const char *values[] = { tenant, event_id };
    return db_exec(conn, &stmt_delete_unsent, values, err);
}

/* Column value as a JSON string, or JSON null for SQL NULL. */
static struct json_object *text_or_null(PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        return NULL;
    return json_object_new_string_len(PQgetvalue(res, row, col), PQgetlength(res, row, col));
}

static struct json_object *int_or_null(PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        return NULL;
    return json_object_new_int64(strtoll(PQgetvalue(res, row, col), NULL, 10));
}

int db_events_notifications(struct db_conn *conn, int64_t tenant_id, const char *event_id,
                            struct json_object **out, struct hk_error *err)
{
    char tenant[24];
    format_id(tenant, tenant_id);
    const char *values[] = { tenant, event_id };
    PGresult *res = db_query(conn, &stmt_notifications, values, err);
    if (res == NULL)
        return -1;
    struct json_object *list = json_object_new_array();
    struct json_object *attempts = NULL;
    const char *current = NULL;
    for (int row = 0; row < PQntuples(res); row++) {
        const char *delivery_id = PQgetvalue(res, row, 0);
        if (current == NULL || strcmp(current, delivery_id) != 0) {
            struct json_object *n = json_object_new_object();
            json_object_object_add(n, "webhook_url", text_or_null(res, row, 1));
            json_object_object_add(n, "state", text_or_null(res, row, 2));
            json_object_object_add(n, "attempt_count", int_or_null(res, row, 3));
            json_object_object_add(n, "next_attempt_at", text_or_null(res, row, 4));
            attempts = json_object_new_array();
            json_object_object_add(n, "attempts", attempts);
            json_object_array_add(list, n);
            current = delivery_id;
        }
        if (PQgetisnull(res, row, 5))
            continue; /* a delivery with no attempt yet */
        struct json_object *a = json_object_new_object();
        json_object_object_add(a, "number", int_or_null(res, row, 5));
        json_object_object_add(a, "started", text_or_null(res, row, 6));
        json_object_object_add(a, "duration_ms", int_or_null(res, row, 7));
        json_object_object_add(a, "status", int_or_null(res, row, 8));
        json_object_object_add(a, "error", text_or_null(res, row, 9));
        json_object_object_add(a, "response_body", text_or_null(res, row, 10));
        json_object_object_add(a, "next_attempt_at", text_or_null(res, row, 11));
        json_object_array_add(attempts, a);
    }
    PQclear(res);
    *out = list;
    return 0;
}
