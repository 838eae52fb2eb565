/* test_router.c - protects router.c, the route table: each route reached
 * with its method (HEAD as GET), literal paths winning over {id}, 405 with
 * the exact Allow list, 404 for unknown paths and oversized ids, and the
 * trailing-slash answer with the path to use instead, and the dashboard's
 * /ui/ prefix, its one exception. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "router.h"
#include "rows.h"

/* 65 'a's: one more than ROUTE_PARAM_MAX. */
#define A64 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define A65 A64 "a"

struct route_case {
    const char *method;
    const char *path;
    enum route_status status;
    enum route_id id;
    const char *param;        /* ROUTE_MATCHED */
    const char *extra;        /* allow (ROUTE_BAD_METHOD) or suggestion (ROUTE_TRAILING_SLASH) */
};

#define MATCH(m, p, id, param) { m, p, ROUTE_MATCHED, id, param, NULL }
#define BAD_METHOD(m, p, allow) { m, p, ROUTE_BAD_METHOD, ROUTE_NONE, NULL, allow }
#define NOT_FOUND(m, p) { m, p, ROUTE_NOT_FOUND, ROUTE_NONE, NULL, NULL }
#define SLASH(m, p, to) { m, p, ROUTE_TRAILING_SLASH, ROUTE_NONE, NULL, to }

static const struct route_case route_cases[] = {
    MATCH("POST", "/events/subscribe", ROUTE_SUBSCRIBE, ""),
    MATCH("POST", "/events/unsubscribe", ROUTE_UNSUBSCRIBE, ""),
    MATCH("GET", "/events/subscriptions", ROUTE_SUBSCRIPTIONS, ""),
    MATCH("GET", "/events/types", ROUTE_EVENT_TYPES, ""),
    MATCH("POST", "/events", ROUTE_EVENT_PUBLISH, ""),
    MATCH("GET", "/events/EVabc", ROUTE_EVENT_GET, "EVabc"),
    MATCH("HEAD", "/events/types", ROUTE_EVENT_TYPES, ""),
    MATCH("HEAD", "/events/subscriptions", ROUTE_SUBSCRIPTIONS, ""),
    MATCH("HEAD", "/events/EVabc", ROUTE_EVENT_GET, "EVabc"),
    MATCH("GET", "/events/types2", ROUTE_EVENT_GET, "types2"),   /* not a literal route */
    MATCH("GET", "/events/" A64, ROUTE_EVENT_GET, A64),          /* longest id */
    MATCH("GET", "/events/x", ROUTE_EVENT_GET, "x"),
    MATCH("GET", "/events", ROUTE_EVENTS_LIST, ""),
    MATCH("HEAD", "/events", ROUTE_EVENTS_LIST, ""),
    MATCH("GET", "/events/endpoints", ROUTE_ENDPOINTS_LIST, ""),
    MATCH("GET", "/events/stats", ROUTE_EVENTS_STATS, ""),    /* not an event id */
    MATCH("POST", "/events/endpoints/test", ROUTE_ENDPOINT_TEST, ""),
    MATCH("GET", "/metrics", ROUTE_METRICS, ""),
    /* 405 with the allowed methods. */
    BAD_METHOD("POST", "/events/subscriptions", "GET, HEAD"),
    BAD_METHOD("DELETE", "/events/types", "GET, HEAD"),
    BAD_METHOD("GET", "/events/subscribe", "POST"),
    BAD_METHOD("HEAD", "/events/subscribe", "POST"),
    BAD_METHOD("GET", "/events/unsubscribe", "POST"),
    BAD_METHOD("PUT", "/events", "POST, GET, HEAD"),
    BAD_METHOD("DELETE", "/events", "POST, GET, HEAD"),
    BAD_METHOD("POST", "/events/endpoints", "GET, HEAD"),
    BAD_METHOD("POST", "/events/stats", "GET, HEAD"),
    BAD_METHOD("GET", "/events/endpoints/test", "POST"),
    BAD_METHOD("POST", "/events/EVabc", "GET, HEAD"),
    BAD_METHOD("get", "/events/types", "GET, HEAD"),              /* methods are case-sensitive */
    /* 404. */
    NOT_FOUND("GET", "/nope"),
    NOT_FOUND("GET", "/"),
    NOT_FOUND("GET", ""),
    NOT_FOUND("GET", "/events/a/b"),
    NOT_FOUND("GET", "/events/types/x"),
    NOT_FOUND("GET", "/eventsx"),
    NOT_FOUND("POST", "/event"),
    NOT_FOUND("GET", "/Events/types"),
    NOT_FOUND("GET", "events/types"),
    NOT_FOUND("GET", "//events"),
    NOT_FOUND("GET", "/events/" A65),                             /* id too long */
    /* Trailing slashes: the same path without them. */
    SLASH("GET", "/events/types/", "/events/types"),
    SLASH("GET", "/events/", "/events"),
    SLASH("GET", "/events//", "/events"),
    SLASH("POST", "/events/subscribe/", "/events/subscribe"),
    SLASH("GET", "/events/EVabc/", "/events/EVabc"),
    /* long, and not ASCII: the whole path, never cut */
    SLASH("GET", "/x\xC3\xA9\xC3\xA9\xC3\xA9" A64 A64 A64 A64 "/", "/x\xC3\xA9\xC3\xA9\xC3\xA9" A64 A64 A64 A64),
    /* not UTF-8: it could not be echoed in a JSON answer */
    NOT_FOUND("GET", "/events/\xFF\xFE/"),
    NOT_FOUND("GET", "/\xC3/"),
    /* The dashboard: /ui and anything under /ui/, trailing slash included,
     * is one public route (static_files.c looks the name up). */
    MATCH("GET", "/ui/", ROUTE_UI, ""),
    MATCH("GET", "/ui", ROUTE_UI, ""),
    MATCH("HEAD", "/ui/app.js", ROUTE_UI, ""),
    MATCH("GET", "/ui/a/b/", ROUTE_UI, ""),
    MATCH("GET", "/ui/../events", ROUTE_UI, ""),
    BAD_METHOD("POST", "/ui/", "GET, HEAD"),
    BAD_METHOD("DELETE", "/ui/app.js", "GET, HEAD"),
    NOT_FOUND("GET", "/uix"),
    SLASH("GET", "/UI/", "/UI"),              /* case-sensitive: not the dashboard */
    NOT_FOUND("GET", "/u"),
    SLASH("GET", "/uix/", "/uix"),
};

static void test_route(void **state)
{
    const struct route_case *c = *state;
    struct route_match m;
    memset(&m, 0x5a, sizeof(m));   /* router_match must set everything */
    router_match(c->method, c->path, strlen(c->path), &m);
    assert_int_equal(m.status, c->status);
    assert_int_equal(m.id, c->id);
    switch (c->status) {
    case ROUTE_MATCHED:
        assert_string_equal(m.param, c->param);
        assert_non_null(m.pattern);
        break;
    case ROUTE_BAD_METHOD:
        assert_string_equal(m.allow, c->extra);
        assert_non_null(m.pattern);
        break;
    case ROUTE_TRAILING_SLASH:
        assert_int_equal(m.suggestion_len, strlen(c->extra));
        assert_memory_equal(c->path, c->extra, m.suggestion_len);
        break;
    case ROUTE_NOT_FOUND:
        assert_string_equal(m.allow, "");
        break;
    }
}

/* Only path_len bytes are the path: what follows is not looked at. */
static void test_path_len(void **state)
{
    (void)state;
    struct route_match m;
    router_match("GET", "/events/typesXYZ", strlen("/events/types"), &m);
    assert_int_equal(m.status, ROUTE_MATCHED);
    assert_int_equal(m.id, ROUTE_EVENT_TYPES);
}

/* Metrics and logs label requests by pattern. */
static void test_patterns(void **state)
{
    (void)state;
    assert_null(router_pattern(ROUTE_NONE));
    assert_string_equal(router_pattern(ROUTE_EVENT_GET), "/events/{id}");
    assert_string_equal(router_pattern(ROUTE_METRICS), "/metrics");
    assert_string_equal(router_pattern(ROUTE_UI), "/ui/");
    assert_null(router_method(ROUTE_NONE));
    assert_string_equal(router_method(ROUTE_EVENTS_LIST), "GET");
    assert_string_equal(router_method(ROUTE_EVENT_PUBLISH), "POST");
    assert_string_equal(router_method(ROUTE_UI), "GET");
    for (int id = ROUTE_NONE + 1; id < ROUTE_ID_COUNT; id++)
    {
        assert_non_null(router_pattern((enum route_id)id));
        assert_non_null(router_method((enum route_id)id));
    }
}

/* ---- one cmocka test per row ------------------------------------------- */

int main(void)
{
    static const char *const status_names[] = { "matched", "not found", "trailing slash",
                                                "bad method" };
    for (size_t i = 0; i < ROWS_COUNT(route_cases); i++) {
        const struct route_case *c = &route_cases[i];
        rows_add(test_route, c, "%s %.80s -> %s", c->method, c->path, status_names[c->status]);
    }
    rows_add(test_path_len, NULL, "only path_len bytes are read");
    rows_add(test_patterns, NULL, "each route id has its pattern");
    return rows_run("router", NULL, NULL);
}
