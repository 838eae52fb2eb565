/* db_tenants.h - the tenants (marketplaces) table. */
#ifndef HOOKD_DB_TENANTS_H
#define HOOKD_DB_TENANTS_H

#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>

#include "db.h"
#include "token.h"

struct tenant_auth {
    int64_t id;
    char passphrase[TOKEN_SECRET_LEN + 1];
    double rate_limit;            /* the tenant's own API rate limit, or -1: the default */
};

/* Inserts a tenant with a new Ed25519 signing key pair and an optional API
 * rate limit (NULL: the configured default); *id gets its id.
 * A taken or malformed name gives HK_ERR_INVALID. */
int db_tenants_create(struct db_conn *conn, const char *name,
                      const unsigned char key_hash[TOKEN_HASH_LEN], const char *key_hint,
                      const char *passphrase, const char *rate_limit, int64_t *id,
                      struct hk_error *err)
    __attribute__((warn_unused_result));
/* Gives every tenant that has none a signing key pair (tenants made before
 * migration 0002). *filled counts them. */
int db_tenants_backfill_signing_keys(struct db_conn *conn, int *filled, struct hk_error *err)
    __attribute__((warn_unused_result));
/* The tenant's signing keys; sk may be NULL when only the public key is
 * wanted. Creates them first if the tenant has none. */
int db_tenants_signing_keys(struct db_conn *conn, int64_t tenant_id,
                            unsigned char pk[crypto_sign_PUBLICKEYBYTES],
                            unsigned char *sk, struct hk_error *err)
    __attribute__((warn_unused_result));
/* Looks a tenant up by the hash of its API key; with want_passphrase, also
 * opens its sealed passphrase (Okanjo signatures). Returns 1 found, 0 not
 * found, -1 error (a passphrase that cannot be opened is an error). */
int db_tenants_find_by_key(struct db_conn *conn, const unsigned char key_hash[TOKEN_HASH_LEN],
                           bool want_passphrase, struct tenant_auth *out, struct hk_error *err)
    __attribute__((warn_unused_result));

#endif
