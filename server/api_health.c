/* api_health.c - GET /healthz (the process answers) and GET /readyz (the
 * database answers and its schema is current), for orchestrators. Neither
 * needs credentials nor reveals anything beyond up or down. */
#include "api.h"
#include "log.h"
#include "migrate.h"

void api_healthz(struct request *req, struct response *resp)
{
    struct hk_error err;
    if (api_check_params(req, NULL, NULL, &err) != 0) {
        response_error(resp, &err);
        return;
    }
    struct json_object *data = json_object_new_object();
    json_object_object_add(data, "status", json_object_new_string("ok"));
    response_success(resp, 200, data);
}

void api_readyz(struct request *req, struct response *resp)
{
    struct hk_error err;
    struct db_conn *db;
    int pending = -1;
    if (api_check_params(req, NULL, NULL, &err) != 0) {
        response_error(resp, &err);
        return;
    }
    if ((db = request_db(req, &err)) == NULL || (pending = migrate_pending(db, &err)) < 0) {
        log_warn("not ready: %s", err.detail);
        hk_error_set(&err, HK_ERR_UNAVAILABLE, "database unreachable");
        response_error(resp, &err);
        return;
    }
    if (pending > 0) {
        log_warn("not ready: %d migration(s) not applied", pending);
        hk_error_set(&err, HK_ERR_UNAVAILABLE, "migrations pending");
        response_error(resp, &err);
        return;
    }
    struct json_object *data = json_object_new_object();
    json_object_object_add(data, "database", json_object_new_string("ok"));
    json_object_object_add(data, "migrations", json_object_new_string("current"));
    response_success(resp, 200, data);
}
