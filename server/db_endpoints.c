/* db_endpoints.c - endpoint secrets. */
#include "db_endpoints.h"

#include <stdio.h>

static const struct db_stmt stmt_secret = {
    "endpoints_secret", "SELECT secret FROM hookd.endpoints WHERE tenant_id = $1 AND url = $2", 2
};
static const struct db_stmt stmt_rotate = {
    "endpoints_rotate",
    "UPDATE hookd.endpoints"
    "   SET previous_secret = secret, secret = $3,"
    "       previous_secret_expires = now() + $4::int * interval '1 second'"
    " WHERE tenant_id = $1 AND url = $2"
    " RETURNING hookd.rfc3339(previous_secret_expires)",
    4
};

int db_endpoints_secret(struct db_conn *conn, int64_t tenant_id, const char *url,
                        char secret[SIGNATURE_SECRET_LEN + 1], struct hk_error *err)
{
    char tenant[24];
    snprintf(tenant, sizeof(tenant), "%lld", (long long)tenant_id);
    const char *values[] = { tenant, url };
    PGresult *res = db_query(conn, &stmt_secret, values, err);
    if (res == NULL)
        return -1;
    int found = PQntuples(res) == 1;
    if (found)
        snprintf(secret, SIGNATURE_SECRET_LEN + 1, "%s", PQgetvalue(res, 0, 0));
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
    const char *values[] = { tenant, url, new_secret, overlap };
    PGresult *res = db_query(conn, &stmt_rotate, values, err);
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
