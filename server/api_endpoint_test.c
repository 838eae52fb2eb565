/* api_endpoint_test.c - POST /events/endpoints/test: sends a signed
 * webhook.test event to one endpoint through the delivery pipeline. */
#include "api.h"
#include "db_endpoint_test.h"
#include "token.h"

void api_endpoint_test(struct request *req, struct response *resp)
{
    static const char *const fields[] = { "webhook_url", NULL };
    struct hk_error err;
    struct db_conn *db;
    const char *url;
    char event_id[TOKEN_ID_LEN + 1];
    if (api_check_params(req, NULL, fields, &err) != 0 ||
        api_webhook_url(req, true, &url, &err) != 0) {
        response_error(resp, &err);
        return;
    }
    struct json_object *data = json_object_new_object();
    json_object_object_add(data, "webhook_url", json_object_new_string(url));
    const char *data_json = json_object_to_json_string_ext(
        data, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    token_event_id(event_id);
    if ((db = request_db(req, &err)) == NULL ||
        db_endpoint_test_queue(db, req->tenant_id, url, event_id, data_json, &err) != 0) {
        json_object_put(data);
        response_error(resp, &err);
        return;
    }
    json_object_put(data);
    struct json_object *out = json_object_new_object();
    json_object_object_add(out, "event_id", json_object_new_string(event_id));
    response_success(resp, 200, out);
}
