/* api.h - the public API's handlers, one api_* module per resource, and the
 * table that maps a route to its handler. A handler reads its request and
 * fills exactly one response: success or an error. */
#ifndef HOOKD_API_H
#define HOOKD_API_H

#include <stdbool.h>

#include "request.h"
#include "response.h"

typedef void (*api_handler_fn)(struct request *req, struct response *resp);

/* The handler for a matched route, or NULL. */
api_handler_fn api_handler_for(enum route_id id);
/* True for handlers that wait on other servers (the subscribe test POST):
 * they run off the HTTP threads. */
bool api_handler_calls_out(enum route_id id);

/* 400 Invalid field {name} for a query parameter other than the auth
 * parameters (key, signature) and those in query_allowed, or a body
 * parameter not in body_allowed. Both lists are NULL-terminated. */
int api_check_params(const struct request *req, const char *const *query_allowed,
                     const char *const *body_allowed, struct hk_error *err)
    __attribute__((warn_unused_result));

/* The webhook_url parameter of a request: a well-formed URL (400 Invalid
 * field webhook_url. otherwise). When required, absence is 400 Require
 * webhook_url.; when optional, absence gives 0 with *url NULL. Returns 0 or
 * -1 with err. *url is borrowed from the request. */
int api_webhook_url(const struct request *req, bool required, const char **url,
                    struct hk_error *err) __attribute__((warn_unused_result));

void api_subscribe(struct request *req, struct response *resp);
void api_unsubscribe(struct request *req, struct response *resp);
void api_subscriptions_list(struct request *req, struct response *resp);
void api_event_types_list(struct request *req, struct response *resp);
void api_event_publish(struct request *req, struct response *resp);
void api_event_get(struct request *req, struct response *resp);
void api_signing_key(struct request *req, struct response *resp);
void api_rotate_secret(struct request *req, struct response *resp);
void api_endpoint_enable(struct request *req, struct response *resp);
void api_endpoint_disable(struct request *req, struct response *resp);
void api_endpoint_configure(struct request *req, struct response *resp);
void api_event_redeliver(struct request *req, struct response *resp);
void api_recover(struct request *req, struct response *resp);
void api_healthz(struct request *req, struct response *resp);
void api_readyz(struct request *req, struct response *resp);
/* The dashboard's reads and its test button (api_endpoint_overview.c,
 * api_endpoint_test.c, api_event_list.c, api_stats.c). */
void api_endpoints_list(struct request *req, struct response *resp);
void api_endpoint_test(struct request *req, struct response *resp);
void api_events_list(struct request *req, struct response *resp);
void api_events_stats(struct request *req, struct response *resp);
void api_metrics(struct request *req, struct response *resp);

#endif
