/* db_endpoint_test.c - the test event: stored and queued in one statement,
 * so it exists if and only if its delivery does. From there the workers
 * treat it like any delivery: claimed, signed, retried, every attempt
 * recorded. */
#include "db_endpoint_test.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* The event text is built as hookd.publish builds it (and
 * db_events_store_unqueued, for the subscribe test). */
static const struct db_stmt stmt_queue = {
    "endpoint_test_queue",
    "WITH e AS ("
    "  SELECT tenant_id, id, state FROM hookd.endpoints WHERE tenant_id = $1 AND url = $2),"
    " v AS (SELECT date_trunc('milliseconds', clock_timestamp()) AS occurred),"
    " ev AS ("
    "  INSERT INTO hookd.events (tenant_id, id, type, version, occurred, body)"
    "  SELECT e.tenant_id, $3, 'webhook.test', '1.0.0', v.occurred,"
    "   '{\"id\":' || to_json($3::text)::text || ',\"occurred\":' ||"
    "   to_json(hookd.rfc3339(v.occurred))::text || ',\"type\":\"webhook.test\"' ||"
    "   ',\"version\":\"1.0.0\",\"data\":' || $4::json::text || '}'"
    "    FROM e, v WHERE e.state = 'active'"
    "  RETURNING tenant_id, id),"
    " d AS ("
    "  INSERT INTO hookd.deliveries (tenant_id, event_id, endpoint_id, state)"
    "  SELECT ev.tenant_id, ev.id, e.id, 'pending' FROM ev, e"
    "  RETURNING 1),"
    " n AS (SELECT pg_notify('hookd_pending', '') FROM d)"
    " SELECT (SELECT state FROM e), (SELECT count(*) FROM d), (SELECT count(*) FROM n)",
    4
};

int db_endpoint_test_queue(struct db_conn *conn, int64_t tenant_id, const char *url,
                           const char *event_id, const char *data_json, struct hk_error *err)
{
    char tenant[24];
    snprintf(tenant, sizeof(tenant), "%" PRId64, tenant_id);
    const char *values[] = { tenant, url, event_id, data_json };
    PGresult *res = db_query(conn, &stmt_queue, values, err);
    if (res == NULL)
        return -1;
    int rc = 0;
    if (PQgetisnull(res, 0, 0)) {
        hk_error_set(err, HK_ERR_ENDPOINT_NOT_FOUND, "no endpoint with that URL");
        rc = -1;
    } else if (strcmp(PQgetvalue(res, 0, 1), "1") != 0) {
        hk_error_set(err, HK_ERR_ENDPOINT_DISABLED, "the endpoint is disabled");
        rc = -1;
    }
    PQclear(res);
    return rc;
}
