/* api_metrics.c - GET /metrics on the API listener: the Prometheus text of
 * this process (see metrics_http.h). No tenant credentials: the numbers are
 * operator-level and cross-tenant, but carry no tenant's data or ids; when
 * HOOKD_METRICS_TOKEN is set, the scraper must present it as a bearer. */
#include <stdlib.h>

#include "api.h"
#include "log.h"
#include "metrics_http.h"
#include "prom_text.h"

void api_metrics(struct request *req, struct response *resp)
{
    struct hk_error err;
    if (api_check_params(req, NULL, NULL, &err) != 0) {
        response_error(resp, &err);
        return;
    }
    if (!metrics_token_ok(req->app->cfg->metrics_token, request_header(req, "Authorization"))) {
        hk_error_set(&err, HK_ERR_UNAUTHORIZED, "metrics token missing or wrong");
        response_error(resp, &err);
        return;
    }
    struct buf out;
    buf_init(&out, (size_t)METRICS_MAX_BYTES);
    const struct metrics_sources none = { NULL, NULL };
    if (metrics_scrape(req->app->metrics ? req->app->metrics : &none, &out) != 0) {
        buf_free(&out);
        log_error("metrics: the exposition is larger than %ld bytes", METRICS_MAX_BYTES);
        hk_error_set(&err, HK_ERR_INTERNAL, "metrics exposition too large");
        response_error(resp, &err);
        return;
    }
    size_t len = out.len;
    response_set_body(resp, 200, buf_steal(&out), len);
    resp->content_type = PROM_CONTENT_TYPE;
}
