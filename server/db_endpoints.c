/* db_endpoints.c - endpoint secrets. */
#include "db_endpoints.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_json.h"
#include "secrets.h"

static const struct db_stmt stmt_secret = {
    "endpoints_secret",
    "SELECT encode(secret_sealed, 'hex'), sign_v1a FROM hookd.endpoints"
    " WHERE tenant_id = $1 AND url = $2",
    2
};
static const struct db_stmt stmt_rotate = {
    "endpoints_rotate",
    "UPDATE hookd.endpoints"
    "   SET previous_secret_sealed = secret_sealed, secret_sealed = decode($3, 'hex'),"
    "       previous_secret_expires = now() + $4::int * interval '1 second'"
    " WHERE tenant_id = $1 AND url = $2"
    " RETURNING hookd.rfc3339(previous_secret_expires)",
    4
};

int db_endpoints_secret(struct db_conn *conn, int64_t tenant_id, const char *url,
                        bool default_v1a, char secret[SIGNATURE_SECRET_LEN + 1],
                        bool *sign_v1a, struct hk_error *err)
{
    *sign_v1a = default_v1a;
    char tenant[24];
    snprintf(tenant, sizeof(tenant), "%lld", (long long)tenant_id);
    const char *values[] = { tenant, url };
    PGresult *res = db_query(conn, &stmt_secret, values, err);
    if (res == NULL)
        return -1;
    int found = PQntuples(res) == 1;
    if (found) {
        size_t len = 0;
        char *opened = secrets_open_hex(PQgetvalue(res, 0, 0), &len);
        if (opened == NULL || len > SIGNATURE_SECRET_LEN) {
            secrets_free(opened, len);
            PQclear(res);
            hk_error_set(err, HK_ERR_INTERNAL,
                         "an endpoint secret cannot be opened (wrong master key?)");
            return -1;
        }
        memcpy(secret, opened, len + 1);
        secrets_free(opened, len);
        if (!PQgetisnull(res, 0, 1))
            *sign_v1a = PQgetvalue(res, 0, 1)[0] == 't';
    }
    PQclear(res);
    return found;
}

int db_endpoints_rotate_secret(struct db_conn *conn, int64_t tenant_id, const char *url,
                               const char *new_secret, long overlap_s, char expires[40],
                               struct hk_error *err)
{
    char tenant[24], overlap[24];
    snprintf(tenant, sizeof(tenant), "%lld", (long long)tenant_id);
    snprintf(overlap, sizeof(overlap), "%ld", overlap_s);
    char *sealed = secrets_seal_hex(new_secret, strlen(new_secret));
    const char *values[] = { tenant, url, sealed, overlap };
    PGresult *res = db_query(conn, &stmt_rotate, values, err);
    free(sealed);
    if (res == NULL)
        return -1;
    int found = PQntuples(res) == 1;
    if (found)
        snprintf(expires, 40, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    if (!found) {
        hk_error_set(err, HK_ERR_ENDPOINT_NOT_FOUND, "no endpoint with that URL");
        return -1;
    }
    return 0;
}

static const struct db_stmt stmt_enable = {
    "endpoints_enable",
    "WITH e AS ("
    "  UPDATE hookd.endpoints"
    "     SET state = 'active', disabled_reason = NULL, disabled_at = NULL, failure_streak = 0,"
    "         first_failure_at = NULL, circuit_open_until = NULL"
    "   WHERE tenant_id = $1 AND url = $2 RETURNING tenant_id, id),"
    " r AS ("
    "  UPDATE hookd.deliveries d SET state = 'pending', next_attempt_at = now(), updated = now()"
    "    FROM e WHERE d.tenant_id = e.tenant_id AND d.endpoint_id = e.id AND d.state = 'disabled'"
    "  RETURNING 1),"
    " n AS (SELECT pg_notify('hookd_pending', ''))"
    " SELECT (SELECT count(*) FROM e), (SELECT count(*) FROM r), (SELECT count(*) FROM n)",
    2
};
static const struct db_stmt stmt_disable = {
    "endpoints_disable",
    "WITH e AS ("
    "  UPDATE hookd.endpoints"
    "     SET disabled_reason = CASE WHEN state = 'active'"
    "                                THEN coalesce($3::text, 'Disabled on request.')"
    "                                ELSE disabled_reason END,"
    "         disabled_at = CASE WHEN state = 'active' THEN now() ELSE disabled_at END,"
    "         state = 'disabled'"
    "   WHERE tenant_id = $1 AND url = $2 RETURNING tenant_id, id),"
    " p AS ("
    "  UPDATE hookd.deliveries d SET state = 'disabled', updated = now()"
    "    FROM e WHERE d.tenant_id = e.tenant_id AND d.endpoint_id = e.id AND d.state = 'pending'"
    "  RETURNING 1)"
    " SELECT (SELECT count(*) FROM e), (SELECT count(*) FROM p)",
    3
};
static const struct db_stmt stmt_configure = {
    "endpoints_configure",
    "UPDATE hookd.endpoints"
    "   SET max_in_flight = CASE WHEN $3::text IS NULL THEN max_in_flight"
    "                            ELSE nullif($3, '')::int END,"
    "       rate_limit = CASE WHEN $4::text IS NULL THEN rate_limit"
    "                         ELSE nullif($4, '')::double precision END,"
    /* the bucket as it is, unless the rate limit changes: then no row,
     * both NULL, a full bucket */
    "       (rate_tokens, rate_updated) = (SELECT rate_tokens, rate_updated"
    "          WHERE $4::text IS NULL"
    "             OR nullif($4, '')::double precision IS NOT DISTINCT FROM rate_limit),"
    "       sign_v1a = CASE WHEN $5::text IS NULL THEN sign_v1a"
    "                       ELSE nullif($5, '')::boolean END"
    " WHERE tenant_id = $1 AND url = $2"
    " RETURNING url, max_in_flight, rate_limit, sign_v1a",
    5
};

/* Runs an endpoint statement whose first column counts the endpoints it
 * touched; 404 when none. *res gets the result (caller clears it). */
static int run_for_endpoint(struct db_conn *conn, const struct db_stmt *stmt,
                            const char *const *values, PGresult **res, struct hk_error *err)
{
    *res = db_query(conn, stmt, values, err);
    if (*res == NULL)
        return -1;
    if (PQntuples(*res) == 0 || strcmp(PQgetvalue(*res, 0, 0), "0") == 0) {
        PQclear(*res);
        *res = NULL;
        hk_error_set(err, HK_ERR_ENDPOINT_NOT_FOUND, "no endpoint with that URL");
        return -1;
    }
    return 0;
}

int db_endpoints_enable(struct db_conn *conn, int64_t tenant_id, const char *url, long *replayed,
                        struct hk_error *err)
{
    char tenant[24];
    snprintf(tenant, sizeof(tenant), "%lld", (long long)tenant_id);
    const char *values[] = { tenant, url };
    PGresult *res;
    if (run_for_endpoint(conn, &stmt_enable, values, &res, err) != 0)
        return -1;
    *replayed = strtol(PQgetvalue(res, 0, 1), NULL, 10);
    PQclear(res);
    return 0;
}

int db_endpoints_disable(struct db_conn *conn, int64_t tenant_id, const char *url,
                         struct hk_error *err)
{
    return db_endpoints_disable_because(conn, tenant_id, url, NULL, err);
}

int db_endpoints_disable_because(struct db_conn *conn, int64_t tenant_id, const char *url,
                                 const char *reason, struct hk_error *err)
{
    char tenant[24];
    snprintf(tenant, sizeof(tenant), "%lld", (long long)tenant_id);
    const char *values[] = { tenant, url, reason };
    PGresult *res;
    if (run_for_endpoint(conn, &stmt_disable, values, &res, err) != 0)
        return -1;
    PQclear(res);
    return 0;
}

int db_endpoints_configure(struct db_conn *conn, int64_t tenant_id,
                           const struct endpoint_settings *set, struct json_object **out,
                           struct hk_error *err)
{
    char tenant[24];
    snprintf(tenant, sizeof(tenant), "%lld", (long long)tenant_id);
    const char *values[] = { tenant, set->url, set->max_in_flight, set->rate_limit,
                             set->sign_v1a };
    PGresult *res = db_query(conn, &stmt_configure, values, err);
    if (res == NULL)
        return -1;
    if (PQntuples(res) == 0) {
        PQclear(res);
        hk_error_set(err, HK_ERR_ENDPOINT_NOT_FOUND, "no endpoint with that URL");
        return -1;
    }
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "webhook_url", json_object_new_string(PQgetvalue(res, 0, 0)));
    json_object_object_add(o, "max_in_flight", db_json_int(res, 0, 1));
    json_object_object_add(o, "rate_limit", db_json_number(res, 0, 2));
    json_object_object_add(o, "sign_v1a", db_json_bool(res, 0, 3));
    PQclear(res);
    *out = o;
    return 0;
}
