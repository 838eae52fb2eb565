/* api_subscriptions.c - POST /events/subscribe, POST /events/unsubscribe,
 * GET /events/subscriptions. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "db_event_types.h"
#include "db_endpoints.h"
#include "db_events.h"
#include "db_subscriptions.h"
#include "db_tenants.h"
#include "log.h"
#include "probe.h"
#include "signature.h"
#include "token.h"
#include "webhook_url.h"

static const char *const subscription_fields[] = { "type", "webhook_url", NULL };

/* Refuses, before any connection, a URL whose host is an IP literal the
 * SSRF guard would refuse, or whose port is not allowed; names are checked
 * when the test POST connects. */
static bool destination_acceptable(const struct request *req, const char *url)
{
    char host[256];
    unsigned int port;
    const char *reason = NULL;
    if (webhook_url_host_port(url, host, sizeof(host), &port) != 0)
        return false;
    int allowed = destination_literal_allowed(req->app->destinations, host, port, &reason);
    if (allowed < 0) {
        /* a name: only the port can be checked before connecting */
        allowed = destination_port_allowed(req->app->destinations, port);
        reason = "the port is not in HOOKD_ALLOWED_PORTS";
    }
    if (!allowed)
        log_info("subscribe refused: %s port %u: %s", host, port, reason);
    return allowed != 0;
}

/* Reads and checks type and webhook_url; 0 or -1 with a 400 in err. A new
 * subscription's URL must also pass the SSRF guard. */
static int read_subscription_params(struct request *req, const char **type, const char **url,
                                    bool subscribing, struct hk_error *err)
{
    if (api_check_params(req, NULL, subscription_fields, err) != 0)
        return -1;
    *type = params_require_text(&req->form, "type", err);
    if (*type == NULL)
        return -1;
    *url = params_require_text(&req->form, "webhook_url", err);
    if (*url == NULL)
        return -1;
    if (strcmp(*type, "*") != 0) {
        struct db_conn *db = request_db(req, err);
        if (db == NULL)
            return -1;
        int known = db_event_types_exists(db, *type, err);
        if (known < 0)
            return -1;
        if (known == 0) {
            hk_error_field(err, HK_ERR_INVALID, "type");
            return -1;
        }
    }
    if (!webhook_url_valid(*url, strlen(*url), NULL) ||
        (subscribing && !destination_acceptable(req, *url))) {
        hk_error_field(err, HK_ERR_INVALID, "webhook_url");
        return -1;
    }
    return 0;
}

/* Stores a webhook.test event and POSTs it to url, signed like every
 * delivery: with the endpoint's secret (a new one, into secret, when the
 * URL has no endpoint yet) and, when the endpoint signs v1a (its own
 * setting, else HOOKD_ENDPOINT_SIGN_V1A), the tenant's signing key. On refusal the
 * event is removed again (a refused subscription changes nothing) and err
 * is 400. */
static int test_webhook_url(struct request *req, const char *type, const char *url,
                            char secret[SIGNATURE_SECRET_LEN + 1], struct hk_error *err)
{
    int rc = -1;
    char event_id[TOKEN_ID_LEN + 1];
    char *body = NULL, *signature = NULL;
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    struct json_object *data = json_object_new_object();
    json_object_object_add(data, "event_type", json_object_new_string(type));
    json_object_object_add(data, "webhook_url", json_object_new_string(url));
    const char *data_json = json_object_to_json_string_ext(
        data, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

    token_event_id(event_id);
    struct db_conn *db = request_db(req, err);
    int known;
    bool v1a;
    if (db == NULL ||
        (known = db_endpoints_secret(db, req->tenant_id, url, req->app->cfg->endpoint_sign_v1a,
                                     secret, &v1a, err)) < 0 ||
        (v1a && db_tenants_signing_keys(db, req->tenant_id, pk, sk, err) != 0) ||
        db_events_store_unqueued(db, req->tenant_id, event_id, "webhook.test", data_json, &body,
                                 err) != 0)
        goto out;
    if (!known)
        signature_secret_new(secret);
    long long now = (long long)time(NULL);
    const char *secrets[] = { secret };
    signature = signature_header(secrets, 1, v1a ? sk : NULL, event_id, now, body, strlen(body));
    /* The receiver may fetch the test event while we wait: it is committed,
     * and the connection goes back to the pool for the length of the call. */
    request_db_release(req);
    char reason[256];
    if (signature != NULL &&
        probe_webhook_url(url, event_id, now, signature, body,
                          req->app->cfg->subscribe_timeout_ms, req->app->destinations, reason,
                          sizeof(reason)) == 0) {
        rc = 0;
        goto out;
    }
    log_info("subscribe refused: test POST failed: %s", reason);
    db = request_db(req, err);
    if (db == NULL || db_events_delete_unsent(db, req->tenant_id, event_id, err) != 0)
        goto out;
    if (req->app->caches != NULL)
        caches_event_forget(req->app->caches, req->tenant_id, event_id);
    hk_error_field(err, HK_ERR_INVALID, "webhook_url");
out:
    sodium_memzero(sk, sizeof(sk));
    free(signature);
    free(body);
    json_object_put(data);
    return rc;
}

void api_subscribe(struct request *req, struct response *resp)
{
    struct hk_error err;
    const char *type, *url;
    struct json_object *subscription = NULL;
    char sub_id[TOKEN_ID_LEN + 1];
    char secret[SIGNATURE_SECRET_LEN + 1];

    if (read_subscription_params(req, &type, &url, true, &err) != 0)
        goto fail;
    /* A duplicate is refused before bothering the receiver. */
    struct db_conn *db = request_db(req, &err);
    if (db == NULL)
        goto fail;
    int exists = db_subscriptions_exists(db, req->tenant_id, type, url, &err);
    if (exists < 0)
        goto fail;
    if (exists > 0) {
        hk_error_set(&err, HK_ERR_SUB_CONFLICT, "already subscribed");
        goto fail;
    }
    if (test_webhook_url(req, type, url, secret, &err) != 0)
        goto fail;
    token_subscription_id(sub_id);
    db = request_db(req, &err);
    if (db == NULL || db_subscriptions_create(db, req->tenant_id, sub_id, type, url, secret,
                                              &subscription, &err) != 0)
        goto fail;
    sodium_memzero(secret, sizeof(secret));
    response_success(resp, 200, subscription);
    return;
fail:
    sodium_memzero(secret, sizeof(secret));
    response_error(resp, &err);
}

void api_unsubscribe(struct request *req, struct response *resp)
{
    struct hk_error err;
    const char *type, *url;
    struct db_conn *db;
    if (read_subscription_params(req, &type, &url, false, &err) != 0 ||
        (db = request_db(req, &err)) == NULL ||
        db_subscriptions_delete(db, req->tenant_id, type, url, &err) != 0) {
        response_error(resp, &err);
        return;
    }
    response_success(resp, 200, NULL);
}

void api_subscriptions_list(struct request *req, struct response *resp)
{
    struct hk_error err;
    struct json_object *list = NULL;
    struct db_conn *db;
    if (api_check_params(req, NULL, NULL, &err) != 0 || (db = request_db(req, &err)) == NULL ||
        db_subscriptions_list(db, req->tenant_id, &list, &err) != 0) {
        response_error(resp, &err);
        return;
    }
    response_success(resp, 200, list);
}
