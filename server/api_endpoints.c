/* api_endpoints.c - signing material: GET /events/signing-key (the
 * tenant's Ed25519 public key, for v1a signatures) and
 * POST /events/endpoints/rotate-secret (a new whsec_ secret for one URL). */
#include <errno.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "db_endpoints.h"
#include "db_tenants.h"
#include "signature.h"

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
        api_webhook_url(req, true, &url, &err) != 0)
        goto fail;
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


void api_endpoint_enable(struct request *req, struct response *resp)
{
    static const char *const fields[] = { "webhook_url", NULL };
    struct hk_error err;
    struct db_conn *db;
    const char *url;
    long replayed = 0;
    if (api_check_params(req, NULL, fields, &err) != 0 ||
        api_webhook_url(req, true, &url, &err) != 0 ||
        (db = request_db(req, &err)) == NULL ||
        db_endpoints_enable(db, req->tenant_id, url, &replayed, &err) != 0) {
        response_error(resp, &err);
        return;
    }
    struct json_object *data = json_object_new_object();
    json_object_object_add(data, "webhook_url", json_object_new_string(url));
    json_object_object_add(data, "status", json_object_new_string("active"));
    json_object_object_add(data, "replayed", json_object_new_int64(replayed));
    response_success(resp, 200, data);
}

void api_endpoint_disable(struct request *req, struct response *resp)
{
    static const char *const fields[] = { "webhook_url", NULL };
    struct hk_error err;
    struct db_conn *db;
    const char *url;
    if (api_check_params(req, NULL, fields, &err) != 0 ||
        api_webhook_url(req, true, &url, &err) != 0 ||
        (db = request_db(req, &err)) == NULL ||
        db_endpoints_disable(db, req->tenant_id, url, &err) != 0) {
        response_error(resp, &err);
        return;
    }
    struct json_object *data = json_object_new_object();
    json_object_object_add(data, "webhook_url", json_object_new_string(url));
    json_object_object_add(data, "status", json_object_new_string("disabled"));
    response_success(resp, 200, data);
}

/* An optional limit: absent (NULL), "" (back to the default), or a number
 * within [min, max] (integers only when integral). 0 or -1 with a 400. */
static int read_limit(struct request *req, const char *name, double min, double max,
                      bool integral, const char **out, struct hk_error *err)
{
    const struct param *p = params_get(&req->form, name);
    *out = NULL;
    if (p == NULL)
        return 0;
    if (p->kind != PARAM_TEXT || strlen(p->value) != p->value_len)
        goto invalid;
    if (p->value_len == 0) {
        *out = "";
        return 0;
    }
    /* Plain decimal only (strtod would take hex, "inf" and "nan"), and
     * nothing that does not survive as a double (1e-400 underflows). */
    if (strspn(p->value, integral ? "0123456789" : "0123456789.eE+-") != p->value_len ||
        !(p->value[0] >= '0' && p->value[0] <= '9'))
        goto invalid;
    char *end = NULL;
    errno = 0;
    double v = integral ? (double)strtol(p->value, &end, 10) : strtod(p->value, &end);
    if (end == p->value || *end != '\0' || errno == ERANGE || !(v >= min && v <= max))
        goto invalid;
    *out = p->value;
    return 0;
invalid:
    hk_error_field(err, HK_ERR_INVALID, name);
    return -1;
}

/* An optional switch: absent (NULL), "" (back to the default), or true or
 * false (JSON booleans, or their text). 0 or -1 with a 400. */
static int read_switch(struct request *req, const char *name, const char **out,
                       struct hk_error *err)
{
    const struct param *p = params_get(&req->form, name);
    *out = NULL;
    if (p == NULL)
        return 0;
    if (p->kind == PARAM_TEXT && strlen(p->value) == p->value_len &&
        (strcmp(p->value, "") == 0 || strcmp(p->value, "true") == 0 ||
         strcmp(p->value, "false") == 0)) {
        *out = p->value;
        return 0;
    }
    hk_error_field(err, HK_ERR_INVALID, name);
    return -1;
}

void api_endpoint_configure(struct request *req, struct response *resp)
{
    static const char *const fields[] = { "webhook_url", "max_in_flight", "rate_limit",
                                          "sign_v1a", NULL };
    struct hk_error err;
    struct db_conn *db;
    struct endpoint_settings set;
    struct json_object *data = NULL;
    if (api_check_params(req, NULL, fields, &err) != 0 ||
        api_webhook_url(req, true, &set.url, &err) != 0 ||
        read_limit(req, "max_in_flight", 1, 10000, true, &set.max_in_flight, &err) != 0 ||
        read_limit(req, "rate_limit", 0, 1000000, false, &set.rate_limit, &err) != 0 ||
        read_switch(req, "sign_v1a", &set.sign_v1a, &err) != 0 ||
        (db = request_db(req, &err)) == NULL ||
        db_endpoints_configure(db, req->tenant_id, &set, &data, &err) != 0) {
        response_error(resp, &err);
        return;
    }
    response_success(resp, 200, data);
}
