/* db_admin.c - read queries across tenants for the operator commands. */
#include "db_admin.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>

/* PostgreSQL type oids (pg_type.h) of the columns turned into JSON numbers
 * and booleans; everything else is text. */
#define OID_BOOL 16
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23

/* Every row of res as an object named by its columns (NULL: JSON null). */
static struct json_object *rows_to_json(const PGresult *res)
{
    struct json_object *list = json_object_new_array();
    for (int r = 0; r < PQntuples(res); r++) {
        struct json_object *row = json_object_new_object();
        for (int c = 0; c < PQnfields(res); c++) {
            struct json_object *v = NULL;
            const char *text = PQgetvalue(res, r, c);
            if (!PQgetisnull(res, r, c)) {
                switch (PQftype(res, c)) {
                case OID_INT8:
                case OID_INT4:
                case OID_INT2:
                    v = json_object_new_int64(strtoll(text, NULL, 10));
                    break;
                case OID_BOOL:
                    v = json_object_new_boolean(text[0] == 't');
                    break;
                default:
                    v = json_object_new_string_len(text, PQgetlength(res, r, c));
                }
            }
            json_object_object_add(row, PQfname(res, c), v);
        }
        json_object_array_add(list, row);
    }
    return list;
}

/* Runs stmt and hands back its rows as JSON. */
static int query_rows(struct db_conn *conn, const struct db_stmt *stmt, const char *const *values,
                      struct json_object **out, struct hk_error *err)
{
    PGresult *res = db_query(conn, stmt, values, err);
    if (res == NULL)
        return -1;
    *out = rows_to_json(res);
    PQclear(res);
    return 0;
}

/* A tenant filter as a parameter: NULL (every tenant) for 0. */
static const char *tenant_param(int64_t tenant_id, char buf[24])
{
    if (tenant_id == 0)
        return NULL;
    snprintf(buf, 24, "%" PRId64, tenant_id);
    return buf;
}

static const struct db_stmt stmt_tenant_id = {
    "admin_tenant_id", "SELECT id FROM hookd.tenants WHERE name = $1", 1
};

int db_admin_tenant_id(struct db_conn *conn, const char *name, int64_t *id,
                       struct hk_error *err)
{
    const char *values[] = { name };
    PGresult *res = db_query(conn, &stmt_tenant_id, values, err);
    if (res == NULL)
        return -1;
    int found = PQntuples(res) == 1;
    if (found)
        *id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return found;
}

static const struct db_stmt stmt_tenants = {
    "admin_tenants",
    "SELECT t.name AS tenant, t.id AS tenant_id, t.api_key_hint AS key_hint,"
    "       hookd.rfc3339(t.created) AS created,"
    "       (SELECT count(*) FROM hookd.endpoints e WHERE e.tenant_id = t.id) AS endpoints,"
    "       (SELECT count(*) FROM hookd.subscriptions s WHERE s.tenant_id = t.id)"
    "           AS subscriptions,"
    "       (SELECT count(*) FROM hookd.events v WHERE v.tenant_id = t.id) AS events,"
    "       (SELECT count(*) FROM hookd.deliveries d"
    "         WHERE d.tenant_id = t.id AND d.state = 'failed') AS failed_deliveries"
    "  FROM hookd.tenants t WHERE $1::bigint IS NULL OR t.id = $1 ORDER BY t.id",
    1
};

int db_admin_tenants(struct db_conn *conn, int64_t tenant_id, struct json_object **out,
                     struct hk_error *err)
{
    char tenant[24];
    const char *values[] = { tenant_param(tenant_id, tenant) };
    return query_rows(conn, &stmt_tenants, values, out, err);
}

static const struct db_stmt stmt_rotate_key = {
    "admin_rotate_key",
    "UPDATE hookd.tenants SET api_key_hash = decode($2, 'hex'), api_key_hint = $3"
    " WHERE name = $1 RETURNING id",
    3
};

int db_admin_rotate_key(struct db_conn *conn, const char *name,
                        const unsigned char key_hash[TOKEN_HASH_LEN], const char *key_hint,
                        int64_t *id, struct hk_error *err)
{
    char hash_hex[TOKEN_HASH_LEN * 2 + 1];
    sodium_bin2hex(hash_hex, sizeof(hash_hex), key_hash, TOKEN_HASH_LEN);
    const char *values[] = { name, hash_hex, key_hint };
    PGresult *res = db_query(conn, &stmt_rotate_key, values, err);
    if (res == NULL)
        return -1;
    int found = PQntuples(res) == 1;
    if (found)
        *id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return found;
}

static const struct db_stmt stmt_subscriptions = {
    "admin_subscriptions",
    "SELECT t.name AS tenant, s.id AS subscription_id, s.event_type, e.url AS webhook_url,"
    "       e.state AS endpoint_state, e.disabled_reason, hookd.rfc3339(s.created) AS created"
    "  FROM hookd.subscriptions s"
    "  JOIN hookd.endpoints e ON e.tenant_id = s.tenant_id AND e.id = s.endpoint_id"
    "  JOIN hookd.tenants t ON t.id = s.tenant_id"
    " WHERE $1::bigint IS NULL OR s.tenant_id = $1"
    " ORDER BY t.name, s.created, s.id",
    1
};

int db_admin_subscriptions(struct db_conn *conn, int64_t tenant_id, struct json_object **out,
                           struct hk_error *err)
{
    char tenant[24];
    const char *values[] = { tenant_param(tenant_id, tenant) };
    return query_rows(conn, &stmt_subscriptions, values, out, err);
}

static const struct db_stmt stmt_deliveries = {
    "admin_deliveries",
    "SELECT d.id AS delivery_id, t.name AS tenant, d.event_id, v.type, e.url AS webhook_url,"
    "       d.state, d.attempt_count AS attempts, d.last_status, d.last_error,"
    "       hookd.rfc3339(d.next_attempt_at) AS next_attempt_at,"
    "       hookd.rfc3339(d.updated) AS updated"
    "  FROM hookd.deliveries d"
    "  JOIN hookd.tenants t ON t.id = d.tenant_id"
    "  JOIN hookd.endpoints e ON e.tenant_id = d.tenant_id AND e.id = d.endpoint_id"
    "  JOIN hookd.events v ON v.tenant_id = d.tenant_id AND v.id = d.event_id"
    " WHERE ($1::bigint IS NULL OR d.tenant_id = $1) AND ($2::text IS NULL OR d.state = $2)"
    "   AND ($3::timestamptz IS NULL OR d.updated >= $3) AND ($4::text IS NULL OR e.url = $4)"
    " ORDER BY d.updated DESC, d.id DESC LIMIT $5",
    5
};

int db_admin_deliveries(struct db_conn *conn, const struct delivery_filter *filter,
                        struct json_object **out, struct hk_error *err)
{
    char tenant[24], limit[24];
    snprintf(limit, sizeof(limit), "%ld", filter->limit);
    const char *values[] = { tenant_param(filter->tenant_id, tenant), filter->state,
                             filter->since, filter->url, limit };
    return query_rows(conn, &stmt_deliveries, values, out, err);
}

static const struct db_stmt stmt_endpoint_owners = {
    "admin_endpoint_owners",
    "SELECT e.tenant_id, t.name AS tenant FROM hookd.endpoints e"
    "  JOIN hookd.tenants t ON t.id = e.tenant_id"
    " WHERE e.url = $1 AND ($2::bigint IS NULL OR e.tenant_id = $2) ORDER BY t.name",
    2
};
static const struct db_stmt stmt_event_owners = {
    "admin_event_owners",
    "SELECT v.tenant_id, t.name AS tenant FROM hookd.events v"
    "  JOIN hookd.tenants t ON t.id = v.tenant_id"
    " WHERE v.id = $1 AND ($2::bigint IS NULL OR v.tenant_id = $2) ORDER BY t.name",
    2
};

int db_admin_endpoint_owners(struct db_conn *conn, const char *url, int64_t tenant_id,
                             struct json_object **out, struct hk_error *err)
{
    char tenant[24];
    const char *values[] = { url, tenant_param(tenant_id, tenant) };
    return query_rows(conn, &stmt_endpoint_owners, values, out, err);
}

int db_admin_event_owners(struct db_conn *conn, const char *event_id, int64_t tenant_id,
                          struct json_object **out, struct hk_error *err)
{
    char tenant[24];
    const char *values[] = { event_id, tenant_param(tenant_id, tenant) };
    return query_rows(conn, &stmt_event_owners, values, out, err);
}

static const struct db_stmt stmt_failed_by_tenant = {
    "admin_failed_by_tenant",
    "SELECT d.tenant_id, t.name AS tenant, count(*) AS failed"
    "  FROM hookd.deliveries d"
    "  JOIN hookd.tenants t ON t.id = d.tenant_id"
    "  JOIN hookd.endpoints e ON e.tenant_id = d.tenant_id AND e.id = d.endpoint_id"
    " WHERE d.state = 'failed' AND d.updated >= $1::timestamptz"
    "   AND ($2::text IS NULL OR e.url = $2) AND ($3::bigint IS NULL OR d.tenant_id = $3)"
    " GROUP BY d.tenant_id, t.name ORDER BY d.tenant_id",
    3
};

int db_admin_failed_by_tenant(struct db_conn *conn, const char *since, const char *url,
                              int64_t tenant_id, struct json_object **out, struct hk_error *err)
{
    char tenant[24];
    const char *values[] = { since, url, tenant_param(tenant_id, tenant) };
    return query_rows(conn, &stmt_failed_by_tenant, values, out, err);
}
