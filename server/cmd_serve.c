/* cmd_serve.c - `hookd serve` (API and delivery workers in one process),
 * `hookd api` and `hookd worker` (each alone, to scale them separately),
 * until SIGINT or SIGTERM.
 *
 * DESIGN: the signals are blocked before any thread starts, so every thread
 * inherits the mask and only this thread receives them, in sigwait. Start
 * order is migrations, workers, connection pool, HTTP, the metrics
 * listener; stop order is the reverse: no new requests, then workers drain
 * (see worker.h). */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "db.h"
#include "db_tenants.h"
#include "http_server.h"
#include "log.h"
#include "metrics.h"
#include "metrics_http.h"
#include "migrate.h"
#include "secrets.h"
#include "version.h"
#include "worker.h"

/* How long scrapes reuse the database-wide gauges, in ms. */
#define QUEUE_STATS_CACHE_MS 1000

static int run(const struct config *cfg, const char *name, bool with_api, bool with_workers,
               int argc, char **argv)
{
    if (argc > 0) {
        fprintf(stderr, "hookd %s: unexpected argument '%s' (see hookd --help)\n", name, argv[0]);
        return 2;
    }
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);

    struct hk_error err;
    if (secrets_load(cfg, &err) != 0) {
        log_error("%s", err.detail);
        return 1;
    }
    int applied = 0;
    if (cfg->migrate_on_start && commands_migrate_database(cfg, &applied, &err) != 0) {
        log_error("%s", err.detail);
        return 1;
    }

    struct worker_pool *workers = NULL;
    struct http_server *server = NULL;
    struct metrics_server *metrics_server = NULL;
    struct metrics_sources metrics = { .pool = NULL,
                                       .queue = queue_stats_new(cfg->database_url,
                                                                QUEUE_STATS_CACHE_MS) };
    struct db_pool pool;
    struct destination_policy destinations;
    struct caches caches = { NULL, NULL, 0 };
    struct app app = { .cfg = cfg, .pool = &pool, .destinations = &destinations,
                       .limiter = NULL, .metrics = &metrics };
    int rc = 1;
    if (destination_policy_init(&destinations, cfg->allow_private_targets, cfg->allowed_ports,
                                &err) != 0) {
        log_error("%s", err.detail);
        queue_stats_free(metrics.queue);
        return 1;
    }
    if (with_workers && (workers = worker_pool_start(cfg, &err)) == NULL) {
        log_error("%s", err.detail);
        destination_policy_free(&destinations);
        queue_stats_free(metrics.queue);
        return 1;
    }
    if (with_api) {
        app.limiter = rate_limiter_new();
        caches_init(&caches, (size_t)cfg->event_cache_mb * 1024 * 1024, cfg->auth_cache_s * 1000);
        app.caches = &caches;
        db_pool_init(&pool, cfg->database_url, (size_t)cfg->db_pool_size);
        metrics.pool = &pool;
        server = http_server_start(&app, &err);
        if (server == NULL) {
            log_error("%s", err.detail);
            goto out;
        }
        log_info("hookd %s listening on http://%s%s%s:%u", HOOKD_VERSION,
                 strchr(cfg->listen_addr, ':') ? "[" : "", cfg->listen_addr,
                 strchr(cfg->listen_addr, ':') ? "]" : "", http_server_port(server));
    }
    if (cfg->metrics_listen[0] != '\0') {
        metrics_server = metrics_server_start(cfg, &metrics, &err);
        if (metrics_server == NULL) {
            log_error("%s", err.detail);
            goto out;
        }
        log_info("metrics listening on http://%.*s:%u/metrics",
                 (int)(strrchr(cfg->metrics_listen, ':') - cfg->metrics_listen),
                 cfg->metrics_listen, metrics_server_port(metrics_server));
    }

    int sig = 0;
    sigwait(&stop_signals, &sig);
    log_info("received %s, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
    rc = 0;
out:
    metrics_server_stop(metrics_server);
    http_server_stop(server);
    if (with_api) {
        db_pool_destroy(&pool);
        rate_limiter_free(app.limiter);
        caches_destroy(&caches);
    }
    worker_pool_stop(workers);
    destination_policy_free(&destinations);
    queue_stats_free(metrics.queue);
    metrics_free();
    log_info("stopped");
    return rc;
}

int cmd_serve(const struct config *cfg, int argc, char **argv)
{
    return run(cfg, "serve", true, true, argc, argv);
}

int cmd_api(const struct config *cfg, int argc, char **argv)
{
    return run(cfg, "api", true, false, argc, argv);
}

int cmd_worker(const struct config *cfg, int argc, char **argv)
{
    return run(cfg, "worker", false, true, argc, argv);
}
