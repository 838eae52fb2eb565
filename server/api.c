/* api.c - route to handler, and the parameter allow-lists. */
#include "api.h"

#include <string.h>

#include "webhook_url.h"

api_handler_fn api_handler_for(enum route_id id)
{
    switch (id) {
    case ROUTE_SUBSCRIBE: return api_subscribe;
    case ROUTE_UNSUBSCRIBE: return api_unsubscribe;
    case ROUTE_SUBSCRIPTIONS: return api_subscriptions_list;
    case ROUTE_EVENT_TYPES: return api_event_types_list;
    case ROUTE_EVENT_PUBLISH: return api_event_publish;
    case ROUTE_EVENT_GET: return api_event_get;
    case ROUTE_SIGNING_KEY: return api_signing_key;
    case ROUTE_ROTATE_SECRET: return api_rotate_secret;
    case ROUTE_ENDPOINT_ENABLE: return api_endpoint_enable;
    case ROUTE_ENDPOINT_DISABLE: return api_endpoint_disable;
    case ROUTE_ENDPOINT_CONFIGURE: return api_endpoint_configure;
    case ROUTE_EVENT_REDELIVER: return api_event_redeliver;
    case ROUTE_RECOVER: return api_recover;
    case ROUTE_HEALTHZ: return api_healthz;
    case ROUTE_READYZ: return api_readyz;
    case ROUTE_ENDPOINTS_LIST: return api_endpoints_list;
    case ROUTE_ENDPOINT_TEST: return api_endpoint_test;
    case ROUTE_EVENTS_LIST: return api_events_list;
    case ROUTE_EVENTS_STATS: return api_events_stats;
    case ROUTE_METRICS: return api_metrics;
    case ROUTE_UI: /* static_files.c, not a handler */
    case ROUTE_NONE:
    case ROUTE_ID_COUNT: break;
    }
    return NULL;
}

bool api_handler_calls_out(enum route_id id)
{
    return id == ROUTE_SUBSCRIBE;
}

int api_check_params(const struct request *req, const char *const *query_allowed,
                     const char *const *body_allowed, struct hk_error *err)
{
    for (size_t i = 0; i < req->query.count; i++) {
        const char *name = req->query.items[i].name;
        if (strcmp(name, "key") == 0 || strcmp(name, "signature") == 0)
            continue;
        const char *const *a = query_allowed;
        while (a != NULL && *a != NULL && strcmp(*a, name) != 0)
            a++;
        if (a == NULL || *a == NULL) {
            hk_error_field(err, HK_ERR_INVALID, name);
            return -1;
        }
    }
    static const char *const none[] = { NULL };
    return params_check_allowed(&req->form, body_allowed ? body_allowed : none, err);
}

int api_webhook_url(const struct request *req, bool required, const char **url,
                    struct hk_error *err)
{
    *url = NULL;
    if (!required && params_get(&req->form, "webhook_url") == NULL)
        return 0;
    const char *value = params_require_text(&req->form, "webhook_url", err);
    if (value == NULL) {
        if (!required)
            hk_error_field(err, HK_ERR_INVALID, "webhook_url");
        return -1;
    }
    if (!webhook_url_valid(value, strlen(value), NULL)) {
        hk_error_field(err, HK_ERR_INVALID, "webhook_url");
        return -1;
    }
    *url = value;
    return 0;
}
