/* auth.c - tenant authentication. Keys are looked up by their hash; the
 * Okanjo signature is checked in constant time against the passphrase. */
#include "auth.h"

#include <ctype.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "db_tenants.h"
#include "okanjo_sig.h"
#include "token.h"
#include "xmalloc.h"

bool auth_key_well_formed(const char *s, size_t len)
{
    if (len != TOKEN_SECRET_LEN || strncmp(s, "hk_", 3) != 0)
        return false;
    for (size_t i = 3; i < len; i++) {
        if (!isalnum((unsigned char)s[i]))
            return false;
    }
    return true;
}

static int unauthorized(struct hk_error *err, const char *why)
{
    hk_error_set(err, HK_ERR_UNAUTHORIZED, "%s", why);
    return -1;
}

/* Finds the tenant for a key; 0 found, -1 with err otherwise. */
static int tenant_for_key(struct request *req, const char *key, size_t key_len,
                          bool want_passphrase, struct tenant_auth *tenant, struct hk_error *err)
{
    if (!auth_key_well_formed(key, key_len))
        return unauthorized(err, "malformed API key");
    unsigned char hash[TOKEN_HASH_LEN];
    token_hash(key, key_len, hash);
    struct caches *caches = req->app->caches;
    int64_t now = clock_mono_ms();
    if (!want_passphrase && caches != NULL &&
        caches_key_get(caches, hash, now, &tenant->id, &tenant->rate_limit)) {
        tenant->passphrase[0] = '\0';
        return 0;
    }
    struct db_conn *db = request_db(req, err);
    if (db == NULL)
        return -1;
    int found = db_tenants_find_by_key(db, hash, want_passphrase, tenant, err);
    if (found < 0)
        return -1;
    if (found == 0)
        return unauthorized(err, "unknown API key");
    if (caches != NULL)
        caches_key_put(caches, hash, now, tenant->id, tenant->rate_limit);
    return 0;
}

int auth_authenticate(struct request *req, struct hk_error *err)
{
    struct tenant_auth tenant;
    const char *authorization = request_header(req, MHD_HTTP_HEADER_AUTHORIZATION);
    if (authorization != NULL) {
        if (strncasecmp(authorization, "Bearer ", 7) != 0)
            return unauthorized(err, "Authorization scheme is not Bearer");
        const char *key = authorization + 7;
        while (*key == ' ')
            key++;
        size_t key_len = strlen(key);
        while (key_len > 0 && key[key_len - 1] == ' ')
            key_len--;
        if (tenant_for_key(req, key, key_len, false, &tenant, err) != 0)
            return -1;
        req->tenant_id = tenant.id;
        req->tenant_rate_limit = tenant.rate_limit;
        sodium_memzero(tenant.passphrase, sizeof(tenant.passphrase));
        return 0;
    }

    const struct param *key = params_get(&req->query, "key");
    const struct param *signature = params_get(&req->query, "signature");
    if (key == NULL && signature == NULL)
        return unauthorized(err, "no credentials");
    if (key == NULL || signature == NULL)
        return unauthorized(err, "Okanjo signing needs both key and signature");
    if (tenant_for_key(req, key->value, key->value_len, true, &tenant, err) != 0)
        return -1;
    char *signed_uri = okanjo_sig_signed_uri(req->raw_uri);
    bool ok = okanjo_sig_verify(tenant.passphrase, strlen(tenant.passphrase), signed_uri,
                                req->body.data ? req->body.data : "", req->body.len,
                                signature->value);
    free(signed_uri);
    sodium_memzero(tenant.passphrase, sizeof(tenant.passphrase));
    if (!ok)
        return unauthorized(err, "bad request signature");
    req->tenant_id = tenant.id;
    req->tenant_rate_limit = tenant.rate_limit;
    return 0;
}
