/* api_event_types.c - GET /events/types: the catalog. */
#include "api.h"
#include "db_event_types.h"

void api_event_types_list(struct request *req, struct response *resp)
{
    struct hk_error err;
    struct json_object *list = NULL;
    struct db_conn *db;
    if (api_check_params(req, NULL, NULL, &err) != 0 || (db = request_db(req, &err)) == NULL ||
        db_event_types_list(db, &list, &err) != 0) {
        response_error(resp, &err);
        return;
    }
    response_success(resp, 200, list);
}
