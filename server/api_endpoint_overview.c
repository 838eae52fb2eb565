/* api_endpoint_overview.c - GET /events/endpoints: the tenant's endpoints
 * with their health, for the dashboard. */
#include "api.h"
#include "db_endpoint_overview.h"

void api_endpoints_list(struct request *req, struct response *resp)
{
    struct hk_error err;
    struct json_object *list = NULL;
    struct db_conn *db;
    if (api_check_params(req, NULL, NULL, &err) != 0 || (db = request_db(req, &err)) == NULL ||
        db_endpoint_overview_list(db, req->tenant_id, &list, &err) != 0) {
        response_error(resp, &err);
        return;
    }
    response_success(resp, 200, list);
}
