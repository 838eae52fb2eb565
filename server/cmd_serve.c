/* cmd_serve.c - `hookd serve`: migrations (optional), the connection pool
 * and the HTTP API, until SIGINT or SIGTERM.
 *
 * DESIGN: the signals are blocked before any thread starts, so every thread
 * inherits the mask and only this thread receives them, in sigwait. Start
 * order is database, pool, HTTP; stop order is the reverse. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "db.h"
#include "http_server.h"
#include "log.h"
#include "migrate.h"
#include "version.h"

static int migrate_at_start(const struct config *cfg)
{
    struct hk_error err;
    int applied = 0;
    struct db_conn *conn = db_connect(cfg->database_url, &err);
    if (conn == NULL || migrate_run(conn, &applied, &err) != 0) {
        log_error("%s", err.detail);
        db_close(conn);
        return -1;
    }
    db_close(conn);
    return 0;
}

int cmd_serve(const struct config *cfg, int argc, char **argv)
{
    if (argc > 0) {
        fprintf(stderr, "hookd serve: unexpected argument '%s' (see hookd --help)\n", argv[0]);
        return 2;
    }
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);

    if (cfg->migrate_on_start && migrate_at_start(cfg) != 0)
        return 1;

    struct db_pool pool;
    db_pool_init(&pool, cfg->database_url, (size_t)cfg->db_pool_size);
    struct app app = { .cfg = cfg, .pool = &pool };
    struct hk_error err;
    struct http_server *server = http_server_start(&app, &err);
    if (server == NULL) {
        log_error("%s", err.detail);
        db_pool_destroy(&pool);
        return 1;
    }
    log_info("hookd %s listening on http://%s%s%s:%u", HOOKD_VERSION,
             strchr(cfg->listen_addr, ':') ? "[" : "", cfg->listen_addr,
             strchr(cfg->listen_addr, ':') ? "]" : "", http_server_port(server));

    int sig = 0;
    sigwait(&stop_signals, &sig);
    log_info("received %s, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
    http_server_stop(server);
    db_pool_destroy(&pool);
    log_info("stopped");
    return 0;
}
