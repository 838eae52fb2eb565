/* request.h - the state of one HTTP request, from its first byte to the
 * completion callback, and what handlers may use of it.
 *
 * libmicrohttpd keeps a pointer to it per connection (req_cls); it is
 * created in the URI-log callback, filled while the body arrives, handed to
 * one handler, and freed in the request-completed callback, so nothing
 * outlives its request. A request borrows at most one pooled database
 * connection at a time. */
#ifndef HOOKD_REQUEST_H
#define HOOKD_REQUEST_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "caches.h"
#include "config.h"
#include "conn_guard.h"
#include "db.h"
#include "destination.h"
#include "params.h"
#include "publish_batcher.h"
#include "rate_limit.h"
#include "response.h"
#include "router.h"

struct metrics_sources;

struct app {
    const struct config *cfg;
    struct db_pool *pool;
    const struct destination_policy *destinations;   /* the SSRF guard's rules */
    struct rate_limiter *limiter;                     /* per-tenant API rate limits */
    struct caches *caches;                            /* events and API keys */
    const struct metrics_sources *metrics;            /* what GET /metrics reads */
};

struct request {
    const struct app *app;
    struct MHD_Connection *connection;
    char *raw_uri;              /* path and query exactly as sent; owned */
    const char *method;         /* owned by libmicrohttpd, valid until completion */
    struct route_match route;
    bool started;               /* the access handler has seen this request */
    bool body_too_large;        /* the body passed the limit: answer 413 */
    size_t discarded;           /* bytes dropped past the limit */
    struct buf body;
    struct params query;        /* from the raw query string */
    struct params form;         /* from the body (form or JSON) */
    int64_t tenant_id;          /* set by authentication */
    double tenant_rate_limit;   /* the tenant's own limit, or -1: the configured default */
    struct db_conn *db;         /* borrowed from app->pool, or NULL */
    struct response deferred;   /* filled off the HTTP thread (api_handler_calls_out) */
    bool suspended;             /* request_suspend was called: no answer now */
    bool deferred_ready;        /* set before the connection is resumed */
    struct publish_batcher *publisher;   /* group commit for publishes; borrowed */
    struct conn_guard *guard;   /* the slow-client guard and this connection's */
    struct conn_guard_entry *guard_entry;   /* entry in it, or NULL; both borrowed */
    int64_t started_us;         /* monotonic, at the first byte: for the access log */
    unsigned int status;        /* the status answered, 0 until then */
};

/* The request's database connection, borrowed on first use; NULL with err
 * (HK_ERR_UNAVAILABLE) when none can be had. */
struct db_conn *request_db(struct request *req, struct hk_error *err);
/* Gives the connection back early (before slow work such as an outbound
 * HTTP call); request_db borrows again if needed. */
void request_db_release(struct request *req);
/* Answering later, from another thread: request_suspend parks the
 * connection (and gives back its database connection); the handler returns
 * without filling its response; whoever finishes the work fills
 * req->deferred and calls request_resume, after which the request must not
 * be touched (libmicrohttpd sends the answer and frees it). */
void request_suspend(struct request *req);
void request_resume(struct request *req);
/* A request header by name (case-insensitive), or NULL. */
const char *request_header(const struct request *req, const char *name);

#endif
