/* test_metrics.c - protects metrics.c and the pure parts of metrics_http.c:
 * recorded work shows up in the exposition with the right labels, event
 * types beyond the cap fall into "other" (bounded cardinality), attempts
 * are classified by status and outcome, the metrics token is checked
 * exactly, and HOOKD_METRICS_LISTEN is parsed strictly. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "metrics.h"
#include "metrics_http.h"
#include "rows.h"

static char *render(struct buf *b)
{
    buf_init(b, 1 << 20);
    assert_int_equal(metrics_render(b), 0);
    return b->data;
}

static void assert_has(const char *text, const char *line)
{
    if (strstr(text, line) == NULL)
        fail_msg("missing: %s", line);
}

static void test_registry(void **state)
{
    (void)state;
    metrics_http_request(ROUTE_EVENT_GET, 404, 700);
    metrics_http_request(ROUTE_EVENT_GET, 404, 3000000);
    metrics_http_request(ROUTE_NONE, 405, 10);
    metrics_http_request(ROUTE_EVENT_PUBLISH, 999, 10);    /* no such code: not counted */
    /* Two routes with one pattern stay apart by method. */
    metrics_http_request(ROUTE_EVENT_PUBLISH, 401, 10);
    metrics_http_request(ROUTE_EVENTS_LIST, 401, 10);
    metrics_http_in_flight(1);
    metrics_event_published("order.updated");
    metrics_event_published("order.updated");
    for (int i = 0; i < METRICS_MAX_EVENT_TYPES + 5; i++) {
        char type[32];
        snprintf(type, sizeof(type), "type.n%d", i);
        metrics_event_published(type);
    }
    metrics_delivery_attempt(204, "delivered", 2000, 1500000);
    metrics_delivery_attempt(500, "pending", 1000, -1);
    metrics_delivery_attempt(0, "failed", 15000000, -1);
    metrics_delivery_attempt(410, "disabled", 1000, -1);
    metrics_deliveries_in_flight(2);
    metrics_deliveries_in_flight(-1);
    metrics_events_fanned_out(3);
    struct buf b;
    const char *text = render(&b);
    assert_has(text, "hookd_http_requests_total{method=\"GET\",route=\"/events/{id}\",code=\"404\"} 2\n");
    assert_has(text, "hookd_http_requests_total{method=\"other\",route=\"unmatched\",code=\"405\"} 1\n");
    assert_null(strstr(text, "code=\"999\""));
    assert_has(text, "{method=\"POST\",route=\"/events\",code=\"401\"} 1\n");
    assert_has(text, "{method=\"GET\",route=\"/events\",code=\"401\"} 1\n");
    assert_has(text, "hookd_http_request_duration_seconds_bucket{method=\"GET\",route=\"/events/{id}\","
                     "le=\"0.001\"} 1\n");
    assert_has(text, "hookd_http_request_duration_seconds_count{method=\"GET\",route=\"/events/{id}\"} 2\n");
    assert_has(text, "hookd_http_request_duration_seconds_sum{method=\"GET\",route=\"/events/{id}\"} 3.0007\n");
    assert_has(text, "hookd_http_requests_in_flight 1\n");
    assert_has(text, "hookd_events_published_total{type=\"order.updated\"} 2\n");
    /* order.updated took one of the 64 slots: 63 of the new types have one. */
    assert_has(text, "hookd_events_published_total{type=\"type.n62\"} 1\n");
    assert_null(strstr(text, "type=\"type.n63\""));
    assert_has(text, "hookd_events_published_total{type=\"other\"} 6\n");
    assert_has(text, "hookd_delivery_attempts_total{result=\"2xx\"} 1\n");
    assert_has(text, "hookd_delivery_attempts_total{result=\"4xx\"} 1\n");
    assert_has(text, "hookd_delivery_attempts_total{result=\"5xx\"} 1\n");
    assert_has(text, "hookd_delivery_attempts_total{result=\"no_response\"} 1\n");
    assert_has(text, "hookd_delivery_attempts_total{result=\"3xx\"} 0\n");
    assert_has(text, "hookd_deliveries_total{outcome=\"delivered\"} 1\n");
    assert_has(text, "hookd_deliveries_total{outcome=\"failed\"} 1\n");
    assert_has(text, "hookd_deliveries_total{outcome=\"disabled\"} 1\n");
    assert_has(text, "hookd_delivery_retries_total 1\n");
    assert_has(text, "hookd_delivery_attempt_duration_seconds_count 4\n");
    assert_has(text, "hookd_delivery_latency_seconds_count 1\n");
    assert_has(text, "hookd_delivery_latency_seconds_bucket{le=\"1\"} 0\n");
    assert_has(text, "hookd_delivery_latency_seconds_bucket{le=\"2.5\"} 1\n");
    assert_has(text, "hookd_deliveries_in_flight 1\n");
    assert_has(text, "hookd_events_fanned_out_total 3\n");
    assert_has(text, "# TYPE hookd_delivery_latency_seconds histogram\n");
    buf_free(&b);
    metrics_free();
}

struct token_case {
    const char *token;
    const char *header;
    bool ok;
};

static const struct token_case token_cases[] = {
    { "", NULL, true },
    { "", "Bearer anything", true },
    { "s3cret", NULL, false },
    { "s3cret", "Bearer s3cret", true },
    { "s3cret", "bearer s3cret", true },
    { "s3cret", "Bearer s3cre", false },
    { "s3cret", "Bearer s3cretX", false },
    { "s3cret", "Bearer  s3cret", false },
    { "s3cret", "Basic s3cret", false },
    { "s3cret", "s3cret", false },
    { "s3cret", "Bearer ", false },
};

static void test_token(void **state)
{
    const struct token_case *c = *state;
    assert_int_equal(metrics_token_ok(c->token, c->header), c->ok);
}

struct listen_case {
    const char *value;
    int family;           /* 0: refused */
    const char *addr;
    unsigned int port;
};

static const struct listen_case listen_cases[] = {
    { "127.0.0.1:9464", AF_INET, "127.0.0.1", 9464 },
    { "0.0.0.0:0", AF_INET, "0.0.0.0", 0 },
    { "[::1]:9464", AF_INET6, "::1", 9464 },
    { "[::]:65535", AF_INET6, "::", 65535 },
    { "127.0.0.1", 0, NULL, 0 },
    { "127.0.0.1:", 0, NULL, 0 },
    { ":9464", 0, NULL, 0 },
    { "localhost:9464", 0, NULL, 0 },
    { "127.0.0.1:65536", 0, NULL, 0 },
    { "127.0.0.1:-1", 0, NULL, 0 },
    { "127.0.0.1:+80", 0, NULL, 0 },
    { "127.0.0.1:80x", 0, NULL, 0 },
    { "::1:9464", 0, NULL, 0 },
    { "[::1:9464", 0, NULL, 0 },
    { "[127.0.0.1]:80", 0, NULL, 0 },
};

static void test_listen(void **state)
{
    const struct listen_case *c = *state;
    struct sockaddr_storage addr;
    struct hk_error err;
    int rc = metrics_listen_parse(c->value, &addr, &err);
    if (c->family == 0) {
        assert_int_equal(rc, -1);
        assert_non_null(strstr(err.detail, "HOOKD_METRICS_LISTEN"));
        return;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(addr.ss_family, c->family);
    char text[INET6_ADDRSTRLEN];
    if (c->family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)&addr;
        inet_ntop(AF_INET, &v4->sin_addr, text, sizeof(text));
        assert_int_equal(ntohs(v4->sin_port), c->port);
    } else {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)&addr;
        inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof(text));
        assert_int_equal(ntohs(v6->sin6_port), c->port);
    }
    assert_string_equal(text, c->addr);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    rows_add(test_registry, NULL, "recorded work in the exposition; event types capped");
    for (size_t i = 0; i < ROWS_COUNT(token_cases); i++)
        rows_add(test_token, &token_cases[i], "token '%s' with %s -> %s", token_cases[i].token,
                 token_cases[i].header ? token_cases[i].header : "(none)",
                 token_cases[i].ok ? "ok" : "refused");
    for (size_t i = 0; i < ROWS_COUNT(listen_cases); i++)
        rows_add(test_listen, &listen_cases[i], "listen %s", listen_cases[i].value);
    return rows_run("metrics", NULL, NULL);
}
