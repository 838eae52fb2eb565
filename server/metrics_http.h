/* metrics_http.h - serving /metrics: the whole exposition (the registry,
 * the database pool, the queue gauges), its optional bearer token, and the
 * separate listener a standalone `hookd worker` uses (HOOKD_METRICS_LISTEN).
 *
 * DESIGN: the listener is a libmicrohttpd daemon with one internal thread
 * answering GET /metrics and GET /healthz only; scrapes are rare and small,
 * so one thread is plenty, and it touches nothing but the thread-safe
 * registry and queue_stats. `serve` and `api` answer /metrics on the API
 * listener too (api_metrics.c), through metrics_scrape. */
#ifndef HOOKD_METRICS_HTTP_H
#define HOOKD_METRICS_HTTP_H

#include <stdbool.h>
#include <sys/socket.h>

#include "buf.h"
#include "config.h"
#include "db.h"
#include "error.h"
#include "queue_stats.h"

/* The largest exposition served (far above what hookd's bounded series make). */
#define METRICS_MAX_BYTES (4L * 1024 * 1024)

/* What a scrape reads besides the registry; both borrowed, either may be NULL. */
struct metrics_sources {
    struct db_pool *pool;          /* the API's connection pool */
    struct queue_stats *queue;     /* the database-wide gauges */
};

/* Appends the whole exposition to out. 0, or -1 when out's cap was reached. */
int metrics_scrape(const struct metrics_sources *src, struct buf *out)
    __attribute__((warn_unused_result));

/* May a request with this Authorization header (NULL: none) read /metrics?
 * Always, when token is empty; otherwise only with "Bearer <token>",
 * compared in constant time. */
bool metrics_token_ok(const char *token, const char *authorization);

/* Parses "ADDR:PORT" ("127.0.0.1:9464", "[::1]:9464") into out. 0, or -1
 * with err (HK_ERR_INVALID) naming HOOKD_METRICS_LISTEN. */
int metrics_listen_parse(const char *value, struct sockaddr_storage *out, struct hk_error *err)
    __attribute__((warn_unused_result));

struct metrics_server;

/* Starts the separate listener on cfg->metrics_listen; NULL with err when it
 * cannot listen. cfg and src must outlive it. */
struct metrics_server *metrics_server_start(const struct config *cfg,
                                            const struct metrics_sources *src,
                                            struct hk_error *err);
/* The port actually bound (useful with port 0). */
unsigned int metrics_server_port(const struct metrics_server *m);
/* Stops listening, joins its thread, frees it (NULL is ignored). */
void metrics_server_stop(struct metrics_server *m);

#endif
