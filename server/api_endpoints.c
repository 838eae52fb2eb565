/* api_endpoints.c - signing material: GET /events/signing-key (the
 * tenant's Ed25519 public key, for v1a signatures) and
 * POST /events/endpoints/rotate-secret (a new whsec_ secret for one URL). */
#include <sodium.h>
#include <string.h>

#include "api.h"
#include "db_endpoints.h"
#include "db_tenants.h"
#include "signature.h"
#include "webhook_url.h"

void api_signing_key(struct request *req, struct response *resp)
{
    struct hk_error err;
    struct db_conn *db;
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    if (api_check_params(req, NULL, NULL, &err) != 0 || (db = request_db(req, &err)) == NULL ||
        db_tenants_signing_keys(db, req->tenant_id, pk, NULL, &err) != 0) {
        response_error(resp, &err);
        return;
    }
    char formatted[SIGNATURE_PUBLIC_KEY_LEN + 1];
    signature_public_key_format(pk, formatted);
    struct json_object *data = json_object_new_object();
    json_object_object_add(data, "algorithm", json_object_new_string("ed25519"));
    json_object_object_add(data, "public_key", json_object_new_string(formatted));
    response_success(resp, 200, data);
}

void api_rotate_secret(struct request *req, struct response *resp)
{
    static const char *const fields[] = { "webhook_url", NULL };
    struct hk_error err;
    struct db_conn *db;
    const char *url;
    char secret[SIGNATURE_SECRET_LEN + 1], expires[40];
    if (api_check_params(req, NULL, fields, &err) != 0 ||
        (url = params_require_text(&req->form, "webhook_url", &err)) == NULL)
        goto fail;
    if (!webhook_url_valid(url, strlen(url), NULL)) {
        hk_error_field(&err, HK_ERR_INVALID, "webhook_url");
        goto fail;
    }
    signature_secret_new(secret);
    if ((db = request_db(req, &err)) == NULL ||
        db_endpoints_rotate_secret(db, req->tenant_id, url, secret,
                                   req->app->cfg->secret_overlap_s, expires, &err) != 0)
        goto fail;
    struct json_object *data = json_object_new_object();
    json_object_object_add(data, "webhook_url", json_object_new_string(url));
    json_object_object_add(data, "secret", json_object_new_string(secret));
    json_object_object_add(data, "previous_secret_expires", json_object_new_string(expires));
    sodium_memzero(secret, sizeof(secret));
    response_success(resp, 200, data);
    return;
fail:
    sodium_memzero(secret, sizeof(secret));
    response_error(resp, &err);
}
