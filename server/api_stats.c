/* api_stats.c - GET /events/stats: the tenant's delivery attempts over the
 * last hour (60 s buckets) or day (15 min buckets), for the dashboard's
 * charts. */
#include <string.h>

#include "api.h"
#include "db_stats.h"

struct stats_window {
    const char *name;
    int bucket_seconds;
    int buckets;
};

static const struct stats_window windows[] = {
    { "1h", 60, 60 },
    { "24h", 900, 96 },
};

void api_events_stats(struct request *req, struct response *resp)
{
    static const char *const query_fields[] = { "window", NULL };
    struct hk_error err;
    struct db_conn *db;
    struct json_object *buckets = NULL, *totals = NULL;
    const struct stats_window *w = &windows[0];
    if (api_check_params(req, query_fields, NULL, &err) != 0)
        goto fail;
    const struct param *p = params_get(&req->query, "window");
    if (p != NULL) {
        w = NULL;
        for (size_t i = 0; i < sizeof(windows) / sizeof(windows[0]); i++) {
            if (p->value_len == strlen(windows[i].name) &&
                memcmp(p->value, windows[i].name, p->value_len) == 0)
                w = &windows[i];
        }
        if (w == NULL) {
            hk_error_field(&err, HK_ERR_INVALID, "window");
            goto fail;
        }
    }
    if ((db = request_db(req, &err)) == NULL ||
        db_stats_attempts(db, req->tenant_id, w->bucket_seconds, w->buckets, &buckets, &totals,
                          &err) != 0)
        goto fail;
    struct json_object *data = json_object_new_object();
    json_object_object_add(data, "window", json_object_new_string(w->name));
    json_object_object_add(data, "bucket_seconds", json_object_new_int(w->bucket_seconds));
    json_object_object_add(data, "buckets", buckets);
    json_object_object_add(data, "totals", totals);
    response_success(resp, 200, data);
    return;
fail:
    response_error(resp, &err);
}
