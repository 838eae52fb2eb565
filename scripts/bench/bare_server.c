/* bare_server.c - the read ceiling of scripts/bench.sh.
 *
 * A libmicrohttpd server with hookd's thread mode (server/http_server.c:
 * internal epoll polling thread pool, suspend/resume allowed, the same
 * connection limit, timeout and per-connection memory) that answers every
 * GET with one fixed JSON body: the exact bytes hookd answered for one of
 * the events the read scenario fetches. No routing, no authentication, no
 * database: what serving that body costs this machine with this library.
 *
 *   bare_server -f BODY_FILE [-p PORT] [-t THREADS]
 *
 * Binds 127.0.0.1 only; runs until SIGTERM or SIGINT.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_util.h"

/* hookd's defaults: HOOKD_MAX_CONNECTIONS, HOOKD_CONNECTION_TIMEOUT_S, and
 * HOOKD_MAX_HEADER_BYTES plus its 16 KB of headroom per connection. */
#define CONNECTION_LIMIT 1024u
#define CONNECTION_TIMEOUT_S 30u
#define CONNECTION_MEMORY (16384u + 16384u)
/* The listen backlog hookd gets: libmicrohttpd's default, SOMAXCONN (set
 * here explicitly so that a library built otherwise cannot make it
 * smaller than the connections wrk opens at once). */
#define LISTEN_BACKLOG ((unsigned int)SOMAXCONN)

static struct MHD_Response *g_body;
static int g_started;            /* the address of this marks a started request */

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)cls;
    (void)url;
    (void)version;
    (void)upload_data;
    /* Like hookd: the first call only starts the request, the answer comes
     * once the (empty) body has been read. */
    if (*con_cls == NULL) {
        *con_cls = &g_started;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (strcmp(method, "GET") != 0)
        return MHD_NO;
    return MHD_queue_response(conn, MHD_HTTP_OK, g_body);
}

int main(int argc, char **argv)
{
    unsigned int port = 18481, threads = 4;
    const char *body_file = NULL;
    int opt;
    while ((opt = getopt(argc, argv, "p:t:f:")) != -1) {
        switch (opt) {
        case 'p': port = (unsigned int)strtoul(optarg, NULL, 10); break;
        case 't': threads = (unsigned int)strtoul(optarg, NULL, 10); break;
        case 'f': body_file = optarg; break;
        default: body_file = NULL; port = 0; break;
        }
    }
    if (body_file == NULL || port == 0 || port > 65535 || threads == 0) {
        fprintf(stderr, "usage: bare_server -f BODY_FILE [-p PORT] [-t THREADS]\n");
        return 2;
    }
    size_t len = 0;
    char *body = read_file(body_file, &len);
    if (body == NULL) {
        fprintf(stderr, "bare_server: cannot read %s\n", body_file);
        return 1;
    }
    g_body = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (g_body == NULL)
        return 1;
    MHD_add_response_header(g_body, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");

    sigset_t sigs;
    block_stop_signals(&sigs);

    struct sockaddr_in addr = loopback_addr(port);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
            MHD_ALLOW_SUSPEND_RESUME,
        (uint16_t)port, NULL, NULL, on_request, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_CONNECTION_TIMEOUT, CONNECTION_TIMEOUT_S,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
        MHD_OPTION_CONNECTION_LIMIT, CONNECTION_LIMIT,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, LISTEN_BACKLOG,
        MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, "bare_server: cannot listen on 127.0.0.1:%u\n", port);
        return 1;
    }
    printf("bare_server: listening on 127.0.0.1:%u (%u threads, %zu-byte body)\n", port, threads,
           len);
    fflush(stdout);
    int sig;
    sigwait(&sigs, &sig);
    MHD_stop_daemon(d);
    MHD_destroy_response(g_body);
    return 0;
}
