/* db_tenants.c - the tenants table. */
#include "db_tenants.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secrets.h"

static const struct db_stmt stmt_create = {
    "tenants_create",
    "INSERT INTO hookd.tenants (name, api_key_hash, api_key_hint, passphrase_sealed,"
    "                           signing_key_sealed, signing_public_key, rate_limit)"
    " VALUES ($1, decode($2, 'hex'), $3, decode($4, 'hex'), decode($5, 'hex'), decode($6, 'hex'),"
    "         $7::double precision)"
    " RETURNING id",
    7
};
static const struct db_stmt stmt_without_keys = {
    "tenants_without_keys",
    "SELECT id FROM hookd.tenants WHERE signing_public_key IS NULL ORDER BY id", 0
};
static const struct db_stmt stmt_set_keys = {
    "tenants_set_keys",
    "UPDATE hookd.tenants SET signing_key_sealed = decode($2, 'hex'),"
    "       signing_public_key = decode($3, 'hex')"
    " WHERE id = $1 AND signing_public_key IS NULL",
    3
};
static const struct db_stmt stmt_keys = {
    "tenants_keys",
    "SELECT encode(signing_public_key, 'hex'), encode(signing_key_sealed, 'hex')"
    "  FROM hookd.tenants WHERE id = $1",
    1
};

/* A new key pair for the statements above: the secret key sealed, both as
 * hex. Free with key_hex_free. */
struct key_hex {
    char *sk_sealed;
    char pk[crypto_sign_PUBLICKEYBYTES * 2 + 1];
};

static void new_keys_hex(struct key_hex *k)
{
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    crypto_sign_keypair(pk, sk);
    k->sk_sealed = secrets_seal_hex(sk, sizeof(sk));
    sodium_bin2hex(k->pk, sizeof(k->pk), pk, sizeof(pk));
    sodium_memzero(sk, sizeof(sk));
}

static void key_hex_free(struct key_hex *k)
{
    free(k->sk_sealed);
    k->sk_sealed = NULL;
}
static const struct db_stmt stmt_find_by_key = {
    "tenants_find_by_key",
    "SELECT id, encode(passphrase_sealed, 'hex'), coalesce(rate_limit, -1) FROM hookd.tenants"
    " WHERE api_key_hash = decode($1, 'hex')", 1
};

int db_tenants_create(struct db_conn *conn, const char *name,
                      const unsigned char key_hash[TOKEN_HASH_LEN], const char *key_hint,
                      const char *passphrase, const char *rate_limit, int64_t *id,
                      struct hk_error *err)
{
    char hash_hex[TOKEN_HASH_LEN * 2 + 1];
    struct key_hex keys;
    sodium_bin2hex(hash_hex, sizeof(hash_hex), key_hash, TOKEN_HASH_LEN);
    new_keys_hex(&keys);
    char *passphrase_sealed = secrets_seal_hex(passphrase, strlen(passphrase));
    const char *values[] = { name, hash_hex, key_hint, passphrase_sealed, keys.sk_sealed,
                             keys.pk, rate_limit };
    PGresult *res = db_query(conn, &stmt_create, values, err);
    free(passphrase_sealed);
    key_hex_free(&keys);
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
                           bool want_passphrase, struct tenant_auth *out, struct hk_error *err)
{
    char hash_hex[TOKEN_HASH_LEN * 2 + 1];
    sodium_bin2hex(hash_hex, sizeof(hash_hex), key_hash, TOKEN_HASH_LEN);
    const char *values[] = { hash_hex };
    PGresult *res = db_query(conn, &stmt_find_by_key, values, err);
    if (res == NULL)
        return -1;
    int found = PQntuples(res) == 1;
    out->passphrase[0] = '\0';
    if (found) {
        out->id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        out->rate_limit = strtod(PQgetvalue(res, 0, 2), NULL);
    }
    if (found && want_passphrase) {
        size_t len = 0;
        char *passphrase = secrets_open_hex(PQgetvalue(res, 0, 1), &len);
        if (passphrase == NULL || len >= sizeof(out->passphrase)) {
            secrets_free(passphrase, len);
            PQclear(res);
            hk_error_set(err, HK_ERR_INTERNAL,
                         "tenant %lld: the passphrase cannot be opened (wrong master key?)",
                         (long long)out->id);
            return -1;
        }
        memcpy(out->passphrase, passphrase, len + 1);
        secrets_free(passphrase, len);
    }
    PQclear(res);
    return found;
}


static int set_keys(struct db_conn *conn, const char *tenant_id, struct hk_error *err)
{
    struct key_hex keys;
    new_keys_hex(&keys);
    const char *values[] = { tenant_id, keys.sk_sealed, keys.pk };
    int rc = db_exec(conn, &stmt_set_keys, values, err);
    key_hex_free(&keys);
    return rc;
}

int db_tenants_backfill_signing_keys(struct db_conn *conn, int *filled, struct hk_error *err)
{
    *filled = 0;
    PGresult *res = db_query(conn, &stmt_without_keys, NULL, err);
    if (res == NULL)
        return -1;
    int rc = 0;
    for (int i = 0; i < PQntuples(res) && rc == 0; i++) {
        rc = set_keys(conn, PQgetvalue(res, i, 0), err);
        if (rc == 0)
            (*filled)++;
    }
    PQclear(res);
    return rc;
}

int db_tenants_signing_keys(struct db_conn *conn, int64_t tenant_id,
                            unsigned char pk[crypto_sign_PUBLICKEYBYTES],
                            unsigned char *sk, struct hk_error *err)
{
    char id[24];
    snprintf(id, sizeof(id), "%lld", (long long)tenant_id);
    const char *values[] = { id };
    for (int round = 0; round < 2; round++) {
        PGresult *res = db_query(conn, &stmt_keys, values, err);
        if (res == NULL)
            return -1;
        if (PQntuples(res) != 1) {
            PQclear(res);
            hk_error_set(err, HK_ERR_INTERNAL, "tenant %s does not exist", id);
            return -1;
        }
        if (!PQgetisnull(res, 0, 0)) {
            const char *pk_hex = PQgetvalue(res, 0, 0);
            int bad = sodium_hex2bin(pk, crypto_sign_PUBLICKEYBYTES, pk_hex, strlen(pk_hex), NULL,
                                     NULL, NULL) != 0;
            if (sk != NULL && !bad) {
                size_t len = 0;
                char *opened = secrets_open_hex(PQgetvalue(res, 0, 1), &len);
                bad = opened == NULL || len != crypto_sign_SECRETKEYBYTES;
                if (!bad)
                    memcpy(sk, opened, len);
                secrets_free(opened, len);
            }
            PQclear(res);
            if (bad) {
                hk_error_set(err, HK_ERR_INTERNAL,
                             "tenant %s: the signing key cannot be opened (wrong master key?)", id);
                return -1;
            }
            return 0;
        }
        PQclear(res);
        if (set_keys(conn, id, err) != 0)
            return -1;
    }
    hk_error_set(err, HK_ERR_INTERNAL, "tenant %s: could not create a signing key", id);
    return -1;
}
