/* metrics_http.c - the /metrics exposition, its token, and the separate
 * metrics listener (see metrics_http.h). */
#include "metrics_http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "metrics.h"
#include "prom_text.h"
#include "xmalloc.h"

/* The listener's limits: scrapers are few and quick. */
#define LISTENER_CONNECTIONS 32
#define LISTENER_TIMEOUT_S 10

struct metrics_server {
    struct MHD_Daemon *daemon;
    const struct config *cfg;
    const struct metrics_sources *src;
    unsigned int port;
};

static int render_pool(struct db_pool *pool, struct buf *out)
{
    size_t in_use = 0, size = 0;
    db_pool_usage(pool, &in_use, &size);
    if (prom_header(out, "hookd_db_pool_connections_in_use", "gauge",
                    "Connections of the API's PostgreSQL pool lent to requests now.") != 0 ||
        prom_sample_i64(out, "hookd_db_pool_connections_in_use", "", (int64_t)in_use) != 0 ||
        prom_header(out, "hookd_db_pool_connections_max", "gauge",
                    "Size of the API's PostgreSQL pool (HOOKD_DB_POOL_SIZE).") != 0 ||
        prom_sample_i64(out, "hookd_db_pool_connections_max", "", (int64_t)size) != 0)
        return -1;
    return 0;
}

int metrics_scrape(const struct metrics_sources *src, struct buf *out)
{
    if (metrics_render(out) != 0)
        return -1;
    if (src->pool != NULL && render_pool(src->pool, out) != 0)
        return -1;
    if (src->queue != NULL && queue_stats_render(src->queue, out) != 0)
        return -1;
    return 0;
}

bool metrics_token_ok(const char *token, const char *authorization)
{
    if (token == NULL || token[0] == '\0')
        return true;
    if (authorization == NULL || strncasecmp(authorization, "Bearer ", 7) != 0)
        return false;
    /* Hashes of equal length, compared in constant time: neither the
     * token's bytes nor its length leak through timing. */
    unsigned char want[crypto_generichash_BYTES], got[crypto_generichash_BYTES];
    const char *given = authorization + 7;
    crypto_generichash(want, sizeof(want), (const unsigned char *)token, strlen(token), NULL, 0);
    crypto_generichash(got, sizeof(got), (const unsigned char *)given, strlen(given), NULL, 0);
    return sodium_memcmp(want, got, sizeof(want)) == 0;
}

int metrics_listen_parse(const char *value, struct sockaddr_storage *out, struct hk_error *err)
{
    char host[INET6_ADDRSTRLEN + 2];
    const char *colon = strrchr(value, ':');
    memset(out, 0, sizeof(*out));
    if (colon == NULL || colon == value || (size_t)(colon - value) >= sizeof(host))
        goto invalid;
    memcpy(host, value, (size_t)(colon - value));
    host[colon - value] = '\0';
    char *end = NULL;
    const char *port_text = colon + 1;
    if (*port_text < '0' || *port_text > '9')
        goto invalid;
    long port = strtol(port_text, &end, 10);
    if (*end != '\0' || port < 0 || port > 65535)
        goto invalid;
    struct sockaddr_in *v4 = (struct sockaddr_in *)out;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)out;
    size_t hlen = strlen(host);
    if (hlen > 2 && host[0] == '[' && host[hlen - 1] == ']') {
        host[hlen - 1] = '\0';
        if (inet_pton(AF_INET6, host + 1, &v6->sin6_addr) != 1)
            goto invalid;
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        return 0;
    }
    if (inet_pton(AF_INET, host, &v4->sin_addr) != 1)
        goto invalid;
    v4->sin_family = AF_INET;
    v4->sin_port = htons((uint16_t)port);
    return 0;
invalid:
    hk_error_set(err, HK_ERR_INVALID,
                 "HOOKD_METRICS_LISTEN: expected ADDR:PORT (127.0.0.1:9464 or [::1]:9464), "
                 "got '%s'", value);
    return -1;
}

static enum MHD_Result answer(struct MHD_Connection *connection, unsigned int status,
                              const char *content_type, char *body, size_t len)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    if (status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"hookd\"");
    enum MHD_Result ret = MHD_queue_response(connection, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result answer_error(struct MHD_Connection *connection, unsigned int status,
                                    const char *description)
{
    char *body = xasprintf("{\"type\":\"error\",\"description\":\"%s\"}", description);
    return answer(connection, status, "application/json", body, strlen(body));
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *connection, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **req_cls)
{
    struct metrics_server *m = cls;
    static int seen;
    (void)version;
    (void)upload_data;
    /* The first call only marks the request: a response queued there would
     * close the connection (libmicrohttpd 0.9.75). */
    if (*req_cls == NULL) {
        *req_cls = &seen;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        *upload_data_size = 0; /* a body is read and ignored */
        return MHD_YES;
    }
    bool is_metrics = strcmp(url, "/metrics") == 0, is_health = strcmp(url, "/healthz") == 0;
    if (!is_metrics && !is_health)
        return answer_error(connection, MHD_HTTP_NOT_FOUND, "Not found.");
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return answer_error(connection, MHD_HTTP_METHOD_NOT_ALLOWED, "Method not allowed.");
    if (is_health) {
        const char *ok = "{\"type\":\"success\",\"data\":{\"status\":\"ok\"}}";
        return answer(connection, MHD_HTTP_OK, "application/json", xstrdup(ok), strlen(ok));
    }
    const char *auth = MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
                                                   MHD_HTTP_HEADER_AUTHORIZATION);
    if (!metrics_token_ok(m->cfg->metrics_token, auth))
        return answer_error(connection, MHD_HTTP_UNAUTHORIZED, "Unauthorized.");
    struct buf out;
    buf_init(&out, (size_t)METRICS_MAX_BYTES);
    if (metrics_scrape(m->src, &out) != 0) {
        buf_free(&out);
        log_error("metrics: the exposition is larger than %ld bytes", METRICS_MAX_BYTES);
        return answer_error(connection, MHD_HTTP_INTERNAL_SERVER_ERROR,
                            "Unable to handle request.");
    }
    size_t len = out.len;
    return answer(connection, MHD_HTTP_OK, PROM_CONTENT_TYPE, buf_steal(&out), len);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[512];
    vsnprintf(line, sizeof(line), fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    log_warn("metrics listener: %s", line);
}

struct metrics_server *metrics_server_start(const struct config *cfg,
                                            const struct metrics_sources *src,
                                            struct hk_error *err)
{
    struct sockaddr_storage addr;
    if (metrics_listen_parse(cfg->metrics_listen, &addr, err) != 0)
        return NULL;
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    struct metrics_server *m = xcalloc(1, sizeof(*m));
    m->cfg = cfg;
    m->src = src;
    m->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, m,
                                 MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
                                 MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                                 MHD_OPTION_CONNECTION_LIMIT, (unsigned int)LISTENER_CONNECTIONS,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)LISTENER_TIMEOUT_S,
                                 MHD_OPTION_END);
    if (m->daemon == NULL) {
        free(m);
        hk_error_set(err, HK_ERR_UNAVAILABLE, "cannot listen on %s for metrics",
                     cfg->metrics_listen);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(m->daemon, MHD_DAEMON_INFO_BIND_PORT);
    m->port = info ? info->port : 0;
    return m;
}

unsigned int metrics_server_port(const struct metrics_server *m)
{
    return m->port;
}

void metrics_server_stop(struct metrics_server *m)
{
    if (m == NULL)
        return;
    MHD_stop_daemon(m->daemon);
    free(m);
}
