/* db_tenants.c - the tenants table. */
#include "db_tenants.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct db_stmt stmt_create = {
    "tenants_create",
    "INSERT INTO hookd.tenants (name, api_key_hash, api_key_hint, passphrase)"
    " VALUES ($1, decode($2, 'hex'), $3, $4) RETURNING id",
    4
};
static const struct db_stmt stmt_find_by_key = {
    "tenants_find_by_key",
    "SELECT id, passphrase FROM hookd.tenants WHERE api_key_hash = decode($1, 'hex')", 1
};
static const struct db_stmt stmt_exists = {
    "tenants_exists", "SELECT 1 FROM hookd.tenants WHERE name = $1", 1
};

int db_tenants_create(struct db_conn *conn, const char *name,
                      const unsigned char key_hash[TOKEN_HASH_LEN], const char *key_hint,
                      const char *passphrase, int64_t *id, struct hk_error *err)
{
    char hash_hex[TOKEN_HASH_LEN * 2 + 1];
    sodium_bin2hex(hash_hex, sizeof(hash_hex), key_hash, TOKEN_HASH_LEN);
    const char *values[] = { name, hash_hex, key_hint, passphrase };
    PGresult *res = db_query(conn, &stmt_create, values, err);
    if (res == NULL) {
        if (db_sqlstate_is(conn, "23505"))
            hk_error_set(err, HK_ERR_INVALID, "a tenant named '%s' already exists", name);
        else if (db_sqlstate_is(conn, "23514"))
            hk_error_set(err, HK_ERR_INVALID, "a tenant name must be 1 to 200 characters");
        return -1;
    }
    *id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return 0;
}

int db_tenants_find_by_key(struct db_conn *conn, const unsigned char key_hash[TOKEN_HASH_LEN],
                           struct tenant_auth *out, struct hk_error *err)
{
    char hash_hex[TOKEN_HASH_LEN * 2 + 1];
    sodium_bin2hex(hash_hex, sizeof(hash_hex), key_hash, TOKEN_HASH_LEN);
    const char *values[] = { hash_hex };
    PGresult *res = db_query(conn, &stmt_find_by_key, values, err);
    if (res == NULL)
        return -1;
    int found = PQntuples(res) == 1;
    if (found) {
        out->id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        snprintf(out->passphrase, sizeof(out->passphrase), "%s", PQgetvalue(res, 0, 1));
    }
    PQclear(res);
    return found;
}

int db_tenants_exists(struct db_conn *conn, const char *name, struct hk_error *err)
{
    const char *values[] = { name };
    PGresult *res = db_query(conn, &stmt_exists, values, err);
    if (res == NULL)
        return -1;
    int found = PQntuples(res) > 0;
    PQclear(res);
    return found;
}
