/* router.c - the route table. Literal patterns are listed before patterns
 * with a {param} segment, so /events/subscriptions never reads as an event
 * id, and a path that matches a pattern with another method gets 405. */
#include "router.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "utf8.h"

struct route {
    const char *method;
    const char *pattern;
    enum route_id id;
    bool public;           /* answered without credentials */
};

static const struct route routes[] = {
    { "GET", "/healthz", ROUTE_HEALTHZ, true },
    { "GET", "/readyz", ROUTE_READYZ, true },
    { "GET", "/metrics", ROUTE_METRICS, true },   /* its own optional token (api_metrics.c) */
    { "POST", "/events/subscribe", ROUTE_SUBSCRIBE, false },
    { "POST", "/events/unsubscribe", ROUTE_UNSUBSCRIBE, false },
    { "GET", "/events/subscriptions", ROUTE_SUBSCRIPTIONS, false },
    { "GET", "/events/types", ROUTE_EVENT_TYPES, false },
    { "GET", "/events/signing-key", ROUTE_SIGNING_KEY, false },
    { "POST", "/events/endpoints/rotate-secret", ROUTE_ROTATE_SECRET, false },
    { "POST", "/events/endpoints/enable", ROUTE_ENDPOINT_ENABLE, false },
    { "POST", "/events/endpoints/disable", ROUTE_ENDPOINT_DISABLE, false },
    { "POST", "/events/endpoints/configure", ROUTE_ENDPOINT_CONFIGURE, false },
    { "POST", "/events/endpoints/test", ROUTE_ENDPOINT_TEST, false },
    { "GET", "/events/endpoints", ROUTE_ENDPOINTS_LIST, false },
    { "GET", "/events/stats", ROUTE_EVENTS_STATS, false },
    { "POST", "/events/recover", ROUTE_RECOVER, false },
    { "POST", "/events", ROUTE_EVENT_PUBLISH, false },
    { "GET", "/events", ROUTE_EVENTS_LIST, false },
    { "GET", "/events/{id}", ROUTE_EVENT_GET, false },
    { "POST", "/events/{id}/redeliver", ROUTE_EVENT_REDELIVER, false },
};

#define N_ROUTES (sizeof(routes) / sizeof(routes[0]))

/* Does path match pattern? A {param} segment matches one non-empty segment,
 * copied to param (when it fits). */
static bool pattern_matches(const char *pattern, const char *path, size_t path_len, char *param)
{
    const char *p = pattern;
    size_t i = 0;
    while (*p != '\0') {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            size_t start = i;
            while (i < path_len && path[i] != '/')
                i++;
            size_t seg = i - start;
            if (seg == 0 || seg > ROUTE_PARAM_MAX)
                return false;
            memcpy(param, path + start, seg);
            param[seg] = '\0';
            p = close + 1;
            continue;
        }
        if (i >= path_len || path[i] != *p)
            return false;
        i++;
        p++;
    }
    return i == path_len;
}

static bool method_is(const char *method, const char *route_method)
{
    if (strcmp(method, route_method) == 0)
        return true;
    return strcmp(method, "HEAD") == 0 && strcmp(route_method, "GET") == 0;
}

/* /ui or a path under /ui/: the dashboard's files, which are one route
 * (the file name is looked up by static_files.c). */
static bool is_ui_path(const char *path, size_t path_len)
{
    static const char prefix[] = "/ui";
    size_t n = sizeof(prefix) - 1;
    return path_len >= n && memcmp(path, prefix, n) == 0 && (path_len == n || path[n] == '/');
}

void router_match(const char *method, const char *path, size_t path_len, struct route_match *out)
{
    memset(out, 0, sizeof(*out));
    out->status = ROUTE_NOT_FOUND;
    out->id = ROUTE_NONE;

    if (is_ui_path(path, path_len)) {
        out->pattern = "/ui/";
        if (method_is(method, "GET")) {
            out->status = ROUTE_MATCHED;
            out->id = ROUTE_UI;
            out->public = true;
        } else {
            out->status = ROUTE_BAD_METHOD;
            snprintf(out->allow, sizeof(out->allow), "GET, HEAD");
        }
        return;
    }

    if (path_len > 1 && path[path_len - 1] == '/') {
        size_t n = path_len;
        while (n > 1 && path[n - 1] == '/')
            n--;
        if (utf8_valid(path, n)) {
            out->status = ROUTE_TRAILING_SLASH;
            out->suggestion_len = n;
        }
        return;
    }

    const char *matched_pattern = NULL;
    char param[ROUTE_PARAM_MAX + 1] = "";
    for (size_t i = 0; i < N_ROUTES; i++) {
        if (matched_pattern != NULL && strcmp(routes[i].pattern, matched_pattern) != 0)
            continue;
        if (matched_pattern == NULL && !pattern_matches(routes[i].pattern, path, path_len, param))
            continue;
        matched_pattern = routes[i].pattern;
        if (method_is(method, routes[i].method)) {
            out->status = ROUTE_MATCHED;
            out->id = routes[i].id;
            out->pattern = routes[i].pattern;
            out->public = routes[i].public;
            memcpy(out->param, param, sizeof(param));
            return;
        }
    }
    if (matched_pattern == NULL)
        return;

    /* The path exists with other methods: 405 listing them. */
    out->status = ROUTE_BAD_METHOD;
    out->pattern = matched_pattern;
    for (size_t i = 0; i < N_ROUTES; i++) {
        if (strcmp(routes[i].pattern, matched_pattern) != 0)
            continue;
        size_t used = strlen(out->allow);
        snprintf(out->allow + used, sizeof(out->allow) - used, "%s%s%s", used ? ", " : "",
                 routes[i].method, strcmp(routes[i].method, "GET") == 0 ? ", HEAD" : "");
    }
}

const char *router_pattern(enum route_id id)
{
    if (id == ROUTE_UI)
        return "/ui/";
    for (size_t i = 0; i < N_ROUTES; i++) {
        if (routes[i].id == id)
            return routes[i].pattern;
    }
    return NULL;
}

const char *router_method(enum route_id id)
{
    if (id == ROUTE_UI)
        return "GET";
    for (size_t i = 0; i < N_ROUTES; i++) {
        if (routes[i].id == id)
            return routes[i].method;
    }
    return NULL;
}
