/* db_subscriptions.c - endpoints and subscriptions. */
#include "db_subscriptions.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secrets.h"

#define SUBSCRIPTION_COLUMNS \
    "s.id, s.event_type, e.url, e.state, hookd.rfc3339(s.created), e.disabled_reason"

static const struct db_stmt stmt_exists = {
    "subscriptions_exists",
    "SELECT 1 FROM hookd.subscriptions s"
    "  JOIN hookd.endpoints e ON e.tenant_id = s.tenant_id AND e.id = s.endpoint_id"
    " WHERE s.tenant_id = $1 AND e.url = $2 AND s.event_type = $3",
    3
};
/* The endpoint upsert uses DO UPDATE (a no-op change) so it returns the id of
 * an existing endpoint too; the subscription insert returns nothing when the
 * (tenant, endpoint, type) triple exists, which the caller reads as 409. */
static const struct db_stmt stmt_create = {
    "subscriptions_create",
    "WITH e AS ("
    "  INSERT INTO hookd.endpoints (tenant_id, url, secret_sealed)"
    "  VALUES ($1, $2, decode($5, 'hex'))"
    "  ON CONFLICT (tenant_id, url) DO UPDATE SET url = EXCLUDED.url"
    "  RETURNING tenant_id, id, url, state, disabled_reason, xmax = 0 AS created),"
    " s AS ("
    "  INSERT INTO hookd.subscriptions (tenant_id, id, endpoint_id, event_type)"
    "  SELECT e.tenant_id, $3, e.id, $4 FROM e"
    "  ON CONFLICT (tenant_id, endpoint_id, event_type) DO NOTHING"
    "  RETURNING id, event_type, created)"
    " SELECT " SUBSCRIPTION_COLUMNS ", e.created FROM s, e",
    5
};
static const struct db_stmt stmt_delete = {
    "subscriptions_delete",
    "DELETE FROM hookd.subscriptions s USING hookd.endpoints e"
    " WHERE s.tenant_id = $1 AND e.tenant_id = $1 AND e.id = s.endpoint_id"
    "   AND e.url = $2 AND s.event_type = $3",
    3
};
static const struct db_stmt stmt_list = {
    "subscriptions_list",
    "SELECT " SUBSCRIPTION_COLUMNS " FROM hookd.subscriptions s"
    "  JOIN hookd.endpoints e ON e.tenant_id = s.tenant_id AND e.id = s.endpoint_id"
    " WHERE s.tenant_id = $1 ORDER BY s.created, s.id",
    1
};

static struct json_object *row_to_subscription(PGresult *res, int row)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_string(PQgetvalue(res, row, 0)));
    json_object_object_add(o, "type", json_object_new_string(PQgetvalue(res, row, 1)));
    json_object_object_add(o, "webhook_url", json_object_new_string(PQgetvalue(res, row, 2)));
    json_object_object_add(o, "status", json_object_new_string(PQgetvalue(res, row, 3)));
    json_object_object_add(o, "created", json_object_new_string(PQgetvalue(res, row, 4)));
    if (!PQgetisnull(res, row, 5))
        json_object_object_add(o, "disabled_reason",
                               json_object_new_string(PQgetvalue(res, row, 5)));
    return o;
}

int db_subscriptions_exists(struct db_conn *conn, int64_t tenant_id, const char *type,
                            const char *url, struct hk_error *err)
{
    char tenant[24];
    snprintf(tenant, sizeof(tenant), "%" PRId64, tenant_id);
    const char *values[] = { tenant, url, type };
    PGresult *res = db_query(conn, &stmt_exists, values, err);
    if (res == NULL)
        return -1;
    int found = PQntuples(res) > 0;
    PQclear(res);
    return found;
}

int db_subscriptions_create(struct db_conn *conn, int64_t tenant_id, const char *sub_id,
                            const char *type, const char *url, const char *secret,
                            struct json_object **out, struct hk_error *err)
{
    char tenant[24];
    snprintf(tenant, sizeof(tenant), "%" PRId64, tenant_id);
    char *sealed = secrets_seal_hex(secret, strlen(secret));
    const char *values[] = { tenant, url, sub_id, type, sealed };
    PGresult *res = db_query(conn, &stmt_create, values, err);
    free(sealed);
    if (res == NULL)
        return -1;
    if (PQntuples(res) == 0) {
        PQclear(res);
        hk_error_set(err, HK_ERR_SUB_CONFLICT, "already subscribed");
        return -1;
    }
    *out = row_to_subscription(res, 0);
    /* The secret is shown once: by the call that created the endpoint. */
    if (PQgetvalue(res, 0, 6)[0] == 't')
        json_object_object_add(*out, "secret", json_object_new_string(secret));
    PQclear(res);
    return 0;
}

int db_subscriptions_delete(struct db_conn *conn, int64_t tenant_id, const char *type,
                            const char *url, struct hk_error *err)
{
    char tenant[24];
    snprintf(tenant, sizeof(tenant), "%" PRId64, tenant_id);
    const char *values[] = { tenant, url, type };
    PGresult *res = db_query(conn, &stmt_delete, values, err);
    if (res == NULL)
        return -1;
    int deleted = PQcmdTuples(res)[0] != '\0' && PQcmdTuples(res)[0] != '0';
    PQclear(res);
    if (!deleted) {
        hk_error_set(err, HK_ERR_SUB_NOT_FOUND, "no such subscription");
        return -1;
    }
    return 0;
}

int db_subscriptions_list(struct db_conn *conn, int64_t tenant_id, struct json_object **out,
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
        json_object_array_add(list, row_to_subscription(res, row));
    PQclear(res);
    *out = list;
    return 0;
}
