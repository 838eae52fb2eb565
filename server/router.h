/* router.h - the route table: method + path to a handler id, or the reason
 * there is none (404, trailing slash, 405 with the allowed methods). Pure. */
#ifndef HOOKD_ROUTER_H
#define HOOKD_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

enum route_id {
    ROUTE_NONE = 0,
    ROUTE_SUBSCRIBE,
    ROUTE_UNSUBSCRIBE,
    ROUTE_SUBSCRIPTIONS,
    ROUTE_EVENT_TYPES,
    ROUTE_EVENT_PUBLISH,
    ROUTE_EVENT_GET,
    ROUTE_SIGNING_KEY,
    ROUTE_ROTATE_SECRET,
    ROUTE_ENDPOINT_ENABLE,
    ROUTE_ENDPOINT_DISABLE,
    ROUTE_ENDPOINT_CONFIGURE,
    ROUTE_EVENT_REDELIVER,
    ROUTE_RECOVER,
    ROUTE_HEALTHZ,
    ROUTE_READYZ,
    ROUTE_ENDPOINTS_LIST,
    ROUTE_ENDPOINT_TEST,
    ROUTE_UI,              /* the dashboard's files: /ui and everything under /ui/ */
    ROUTE_EVENTS_LIST,
    ROUTE_EVENTS_STATS,
    ROUTE_METRICS,
    ROUTE_ID_COUNT      /* keep last: the number of ids, for tables indexed by them */
};

enum route_status { ROUTE_MATCHED, ROUTE_NOT_FOUND, ROUTE_TRAILING_SLASH, ROUTE_BAD_METHOD };

#define ROUTE_PARAM_MAX 64

struct route_match {
    enum route_status status;
    enum route_id id;
    char param[ROUTE_PARAM_MAX + 1];   /* the {id} segment, when the route has one */
    char allow[64];                    /* for ROUTE_BAD_METHOD: "GET, HEAD" */
    size_t suggestion_len;             /* for ROUTE_TRAILING_SLASH: the path without it is
                                          path[0..suggestion_len), valid UTF-8 */
    const char *pattern;               /* the matched pattern, for logs and metrics */
    bool public;                       /* no credentials needed (health checks, /ui/) */
};

/* Matches path (no query string) for method. HEAD matches GET routes. A
 * path with trailing slashes is ROUTE_TRAILING_SLASH, or ROUTE_NOT_FOUND
 * when the rest of it is not valid UTF-8 (it could not be echoed); the
 * exception is /ui and everything under /ui/ (the dashboard, /ui/ itself
 * included), which is ROUTE_UI for GET and HEAD. */
void router_match(const char *method, const char *path, size_t path_len, struct route_match *out);
/* The path pattern of a route ("/events/{id}"), or NULL for ROUTE_NONE. */
const char *router_pattern(enum route_id id);
/* Its method ("GET" also stands for HEAD), or NULL for ROUTE_NONE. Method
 * and pattern together name a route: GET /events and POST /events differ. */
const char *router_method(enum route_id id);

#endif
