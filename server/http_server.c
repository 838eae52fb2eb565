/* http_server.c - libmicrohttpd glue: per-request state, body limits,
 * content types, routing, authentication, dispatch, and the response. */
#include "http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/socket.h>

#include "api.h"
#include "auth.h"
#include "clock.h"
#include "conn_guard.h"
#include "log.h"
#include "metrics.h"
#include "static_files.h"
#include "task_pool.h"
#include "xmalloc.h"

/* How much of an oversized body is read (and dropped) to be able to answer
 * 413, as a multiple of the body limit. */
#define DISCARD_LIMIT_FACTOR 4
/* A tenant may send this many seconds' worth of its rate limit at once. */
#define RATE_BURST_SECONDS 2
/* libmicrohttpd's per-connection memory beyond the largest accepted request
 * head: room for reading the body and building the response headers. */
#define CONNECTION_MEMORY_HEADROOM 16384L
/* How often the slow-client guard looks for requests past their deadline. */
#define GUARD_SWEEP_MS 250
/* At shutdown, how long open connections get to finish their answers. */
#define DRAIN_WAIT_STEPS 50
#define DRAIN_WAIT_STEP_US 20000
/* The longest X-Request-Id logged. */
#define REQUEST_ID_MAX 128

struct http_server {
    struct MHD_Daemon *daemon;
    const struct app *app;
    struct conn_guard *guard;
    struct task_pool *tasks;    /* runs the handlers that call out */
    struct publish_batcher *publisher;
    unsigned int port;
};

/* A connection opened or closed: the slow-client guard tracks it. */
static void on_connection(void *cls, struct MHD_Connection *connection, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct http_server *server = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (info != NULL)
            *socket_context = conn_guard_opened(server->guard, info->connect_fd, clock_mono_ms());
    } else if (*socket_context != NULL) {
        conn_guard_closed(server->guard, *socket_context);
        *socket_context = NULL;
    }
}

/* The URI-log callback runs before anything else for a request and sees the
 * request target exactly as sent; its return value becomes req_cls. */
static void *on_request_start(void *cls, const char *uri, struct MHD_Connection *connection)
{
    struct http_server *server = cls;
    const struct app *app = server->app;
    struct request *req = xcalloc(1, sizeof(*req));
    req->app = app;
    req->connection = connection;
    req->raw_uri = xstrdup(uri);
    req->publisher = server->publisher;
    req->started_us = clock_mono_us();
    metrics_http_in_flight(1);
    buf_init(&req->body, (size_t)app->cfg->max_body_bytes);
    params_init(&req->query);
    params_init(&req->form);
    params_set_limits(&req->query, (size_t)app->cfg->max_fields, (int)app->cfg->max_json_depth);
    params_set_limits(&req->form, (size_t)app->cfg->max_fields, (int)app->cfg->max_json_depth);
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    if (info != NULL && info->socket_context != NULL) {
        req->guard = server->guard;
        req->guard_entry = info->socket_context;
        conn_guard_reading(req->guard, req->guard_entry, clock_mono_ms());
    }
    return req;
}

/* Why a request ended without being answered completely, or NULL. */
static const char *termination_name(enum MHD_RequestTerminationCode toe)
{
    switch (toe) {
    case MHD_REQUEST_TERMINATED_COMPLETED_OK: return NULL;
    case MHD_REQUEST_TERMINATED_WITH_ERROR: return "error";
    case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED: return "timeout";
    case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN: return "shutdown";
    case MHD_REQUEST_TERMINATED_READ_ERROR: return "read_error";
    case MHD_REQUEST_TERMINATED_CLIENT_ABORT: return "client_abort";
    }
    return "unknown";
}

/* The request is answered with status: its metrics, counted before the
 * answer leaves (a client that reads the answer and then scrapes sees it
 * counted), with the time from its first byte until now. */
static void count_answer(struct request *req, unsigned int status)
{
    req->status = status;
    enum route_id route = req->route.status == ROUTE_MATCHED ? req->route.id : ROUTE_NONE;
    metrics_http_request(route, status, clock_mono_us() - req->started_us);
}

/* The access log line, once the request is over (its duration includes
 * sending the answer). Only the route pattern is logged, never the path or
 * query, which may carry credentials (key=, signature=). */
static void account(const struct request *req, enum MHD_RequestTerminationCode toe)
{
    int64_t duration_us = clock_mono_us() - req->started_us;
    metrics_http_in_flight(-1);
    if (LOG_INFO < log_threshold)
        return;
    char request_id[REQUEST_ID_MAX + 1] = "";
    const char *given = req->started ? request_header(req, "X-Request-Id") : NULL;
    if (given != NULL)
        snprintf(request_id, sizeof(request_id), "%s", given);
    bool has_id = req->route.status == ROUTE_MATCHED && req->route.param[0] != '\0';
    log_fields(LOG_INFO, "request", LOG_STR("method", req->method),
               LOG_STR("route", req->route.pattern), LOG_INT("status", req->status),
               LOG_MS("duration_ms", duration_us),
               LOG_STR("end", termination_name(toe)),
               LOG_ID("tenant_id", req->tenant_id),
               LOG_STR("event_id", has_id ? req->route.param : NULL),
               LOG_STR("request_id", given != NULL ? request_id : NULL));
}

static void on_request_done(void *cls, struct MHD_Connection *connection, void **req_cls,
                            enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)connection;
    struct request *req = *req_cls;
    if (req == NULL)
        return;
    account(req, toe);
    if (req->guard_entry != NULL)
        conn_guard_idle(req->guard, req->guard_entry, clock_mono_ms());
    if (req->deferred_ready)
        response_free(&req->deferred); /* the connection ended before it was sent */
    request_db_release(req);
    buf_free(&req->body);
    params_free(&req->query);
    params_free(&req->form);
    free(req->raw_uri);
    free(req);
    *req_cls = NULL;
}

static enum MHD_Result send_response(struct request *req, struct response *resp)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(resp->body_len, resp->body,
                                                             MHD_RESPMEM_MUST_FREE);
    resp->body = NULL; /* now owned by libmicrohttpd */
    if (r == NULL) {
        response_free(resp);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            resp->content_type ? resp->content_type : "application/json");
    for (size_t i = 0; i < resp->n_headers; i++)
        MHD_add_response_header(r, resp->header_names[i], resp->header_values[i]);
    count_answer(req, resp->status);
    enum MHD_Result ret = MHD_queue_response(req->connection, resp->status, r);
    MHD_destroy_response(r);
    response_free(resp);
    return ret;
}

static enum MHD_Result send_error(struct request *req, unsigned int status, const char *text)
{
    struct response resp;
    response_init(&resp);
    response_error_text(&resp, status, text);
    return send_response(req, &resp);
}

/* What check_header found wrong with a request's headers. */
struct header_check {
    const char *bad;            /* the first header to refuse, or NULL */
    int content_lengths;
    bool transfer_encoding;
};

static enum MHD_Result check_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
    struct header_check *c = cls;
    (void)kind;
    (void)value;
    /* Two lengths, or a length beside chunked encoding, let a proxy in front
     * and hookd disagree on where a request ends (request smuggling). */
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0 && ++c->content_lengths > 1) {
        c->bad = MHD_HTTP_HEADER_CONTENT_LENGTH;
        return MHD_NO;
    }
    if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0)
        c->transfer_encoding = true;
    return MHD_YES;
}

/* The header a request must be refused for (400 Invalid field {name}.),
 * or NULL. */
static const char *refused_header(struct MHD_Connection *connection)
{
    struct header_check c = { NULL, 0, false };
    MHD_get_connection_values(connection, MHD_HEADER_KIND, check_header, &c);
    if (c.bad == NULL && c.transfer_encoding && c.content_lengths > 0)
        c.bad = MHD_HTTP_HEADER_CONTENT_LENGTH;
    return c.bad;
}

/* The media type of a Content-Type header, without parameters. */
static bool media_type_is(const char *header, const char *type)
{
    size_t n = strlen(type);
    if (strncasecmp(header, type, n) != 0)
        return false;
    const char *rest = header + n;
    while (*rest == ' ' || *rest == '\t')
        rest++;
    return *rest == '\0' || *rest == ';';
}

/* Parses the body by its content type into req->form; 0, or -1 with the
 * response already queued (415) or err set (400). */
static int parse_body(struct request *req, struct hk_error *err, bool *unsupported)
{
    const char *type = request_header(req, MHD_HTTP_HEADER_CONTENT_TYPE);
    *unsupported = false;
    if (type == NULL) {
        if (req->body.len == 0)
            return 0;
        *unsupported = true;
        return -1;
    }
    if (media_type_is(type, "application/json"))
        return req->body.len == 0 ? 0 : params_parse_json(&req->form, req->body.data,
                                                          req->body.len, err);
    if (media_type_is(type, "application/x-www-form-urlencoded"))
        return params_parse_form(&req->form, req->body.data ? req->body.data : "", req->body.len,
                                 "body", err);
    *unsupported = true;
    return -1;
}

/* The tenant's API rate limit (its own, or the configured default). When
 * it is exceeded, resp gets 429 with Retry-After and false is returned. */
static bool within_rate_limit(struct request *req, struct response *resp)
{
    const struct config *cfg = req->app->cfg;
    double rate = req->tenant_rate_limit >= 0 ? req->tenant_rate_limit
                                              : (double)cfg->tenant_rate_limit;
    double burst = rate * RATE_BURST_SECONDS;
    long retry_ms = 0;
    if (rate_limiter_take(req->app->limiter, req->tenant_id, rate, burst, clock_mono_ms(),
                          &retry_ms))
        return true;
    struct hk_error err;
    hk_error_set(&err, HK_ERR_RATE_LIMITED, "tenant %lld over its rate limit",
                 (long long)req->tenant_id);
    response_error(resp, &err);
    char seconds[24];
    snprintf(seconds, sizeof(seconds), "%ld", (retry_ms + 999) / 1000);
    response_add_header(resp, "Retry-After", seconds);
    return false;
}

/* Runs a handler that calls out on a task thread, then lets libmicrohttpd
 * pick the connection up again; on_request sends the response. */
static void run_deferred(void *arg)
{
    struct request *req = arg;
    api_handler_for(req->route.id)(req, &req->deferred);
    request_db_release(req);
    request_resume(req);
}

/* Everything after the body has arrived: route, parse, authenticate,
 * dispatch. */
static enum MHD_Result handle(struct http_server *server, struct request *req)
{
    struct response resp;
    struct hk_error err;
    response_init(&resp);

    switch (req->route.status) {
    case ROUTE_NOT_FOUND:
        return send_error(req, 404, "Not found.");
    case ROUTE_TRAILING_SLASH: {
        char *text = xasprintf("Don't use trailing slashes. Try instead: %.*s",
                               (int)req->route.suggestion_len, req->raw_uri);
        enum MHD_Result ret = send_error(req, 404, text);
        free(text);
        return ret;
    }
    case ROUTE_BAD_METHOD:
        response_error_text(&resp, 405, "Method not allowed.");
        response_add_header(&resp, MHD_HTTP_HEADER_ALLOW, req->route.allow);
        return send_response(req, &resp);
    case ROUTE_MATCHED:
        break;
    }
    if (req->route.id == ROUTE_UI) {
        enum MHD_Result ret = static_files_answer(req->connection, req->raw_uri,
                                                  strcspn(req->raw_uri, "?"));
        /* The status it queued, for the access log and metrics. */
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info(req->connection, MHD_CONNECTION_INFO_HTTP_STATUS);
        if (info != NULL && info->http_status != 0)
            count_answer(req, info->http_status); /* sent once this handler returns */
        return ret;
    }

    const char *q = strchr(req->raw_uri, '?');
    if (q != NULL && params_parse_form(&req->query, q + 1, strlen(q + 1), "query", &err) != 0)
        goto fail;
    bool unsupported = false;
    if (parse_body(req, &err, &unsupported) != 0) {
        if (unsupported)
            return send_error(req, 415, "Unsupported content type.");
        goto fail;
    }
    if (!req->route.public && auth_authenticate(req, &err) != 0)
        goto fail;
    if (!req->route.public && !within_rate_limit(req, &resp))
        return send_response(req, &resp);
    if (api_handler_calls_out(req->route.id)) {
        /* Suspended before it is queued, so the task's resume always finds
         * it suspended. */
        request_suspend(req);
        task_pool_submit(server->tasks, run_deferred, req);
        return MHD_YES;
    }
    api_handler_for(req->route.id)(req, &resp);
    request_db_release(req);
    if (req->suspended)
        return MHD_YES; /* the handler answers later (request_resume) */
    return send_response(req, &resp);
fail:
    if (err.code == HK_ERR_INTERNAL || err.code == HK_ERR_UNAVAILABLE)
        log_error("%s %s: %s", req->method, req->route.pattern, err.detail);
    response_error(&resp, &err);
    return send_response(req, &resp);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *connection, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **req_cls)
{
    struct http_server *server = cls;
    (void)url;
    (void)version;
    struct request *req = *req_cls;
    if (req == NULL)
        return MHD_NO; /* every request gets its state from on_request_start */

    if (!req->started) {
        req->started = true;
        req->method = method;
        const char *q = strchr(req->raw_uri, '?');
        size_t path_len = q ? (size_t)(q - req->raw_uri) : strlen(req->raw_uri);
        router_match(method, req->raw_uri, path_len, &req->route);
        if (strlen(req->raw_uri) > (size_t)req->app->cfg->max_url_bytes)
            return send_error(req, 414, "Request URL too long.");
        const union MHD_ConnectionInfo *head =
            MHD_get_connection_info(connection, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
        if (head != NULL && head->header_size > (size_t)req->app->cfg->max_header_bytes)
            return send_error(req, 431, "Request headers too large.");
        const char *bad_header = refused_header(connection);
        if (bad_header != NULL) {
            struct hk_error err;
            struct response resp;
            response_init(&resp);
            hk_error_field(&err, HK_ERR_INVALID, bad_header);
            response_error(&resp, &err);
            return send_response(req, &resp);
        }
        /* A declared length over the limit is refused before any of it is
         * read; the connection closes after the answer. */
        const char *length = request_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (length != NULL && strtoull(length, NULL, 10) > req->body.cap)
            return send_error(req, 413, "Request body too large.");
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (req->body_too_large || buf_append(&req->body, upload_data, n) != 0) {
            /* libmicrohttpd only lets us answer once the body has ended, so
             * the excess is read and dropped, up to a bound; past it the
             * connection is closed without an answer. */
            req->body_too_large = true;
            req->discarded += n;
            return req->discarded > DISCARD_LIMIT_FACTOR * req->body.cap ? MHD_NO : MHD_YES;
        }
        return MHD_YES;
    }
    if (req->deferred_ready) {
        req->deferred_ready = false;
        return send_response(req, &req->deferred);
    }
    if (req->guard_entry != NULL)
        conn_guard_received(req->guard, req->guard_entry);
    if (req->body_too_large)
        return send_error(req, 413, "Request body too large.");
    return handle(server, req);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[512];
    vsnprintf(line, sizeof(line), fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    log_warn("http: %s", line);
}

struct http_server *http_server_start(const struct app *app, struct hk_error *err)
{
    const struct config *cfg = app->cfg;
    struct sockaddr_storage addr;
    memset(&addr, 0, sizeof(addr));
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
                         MHD_ALLOW_SUSPEND_RESUME;
    struct sockaddr_in *v4 = (struct sockaddr_in *)&addr;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&addr;
    if (inet_pton(AF_INET, cfg->listen_addr, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)cfg->port);
    } else if (inet_pton(AF_INET6, cfg->listen_addr, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)cfg->port);
        flags |= MHD_USE_IPv6;
    } else {
        hk_error_set(err, HK_ERR_INVALID, "HOOKD_LISTEN_ADDR: '%s' is not an IP address",
                     cfg->listen_addr);
        return NULL;
    }

    struct http_server *server = xcalloc(1, sizeof(*server));
    server->app = app;
    server->guard = conn_guard_new(cfg->request_read_timeout_s * 1000,
                                   cfg->connection_timeout_s * 1000);
    if (conn_guard_start(server->guard, GUARD_SWEEP_MS) != 0) {
        conn_guard_free(server->guard);
        free(server);
        hk_error_set(err, HK_ERR_INTERNAL, "cannot start the slow-client guard thread");
        return NULL;
    }
    server->tasks = task_pool_start((size_t)cfg->subscribe_threads, err);
    if (server->tasks == NULL) {
        conn_guard_free(server->guard);
        free(server);
        return NULL;
    }
    server->publisher = publish_batcher_start(app->pool, cfg->db_acquire_timeout_ms,
                                              (size_t)cfg->publish_threads,
                                              (size_t)cfg->publish_batch, err);
    if (server->publisher == NULL) {
        task_pool_free(server->tasks);
        conn_guard_free(server->guard);
        free(server);
        return NULL;
    }
    /* The request line counts towards the head, so the larger of the two
     * limits bounds it; past this libmicrohttpd answers on its own. */
    long head_max = cfg->max_header_bytes > cfg->max_url_bytes ? cfg->max_header_bytes
                                                               : cfg->max_url_bytes;
    long connections = cfg->max_connections > cfg->http_threads ? cfg->max_connections
                                                                : cfg->http_threads;
    server->daemon = MHD_start_daemon(
        flags, (uint16_t)cfg->port, NULL, NULL, on_request, server,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)cfg->http_threads,
        MHD_OPTION_URI_LOG_CALLBACK, on_request_start, server,
        MHD_OPTION_NOTIFY_COMPLETED, on_request_done, server,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, server,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)cfg->connection_timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(head_max + CONNECTION_MEMORY_HEADROOM),
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)cfg->max_connections_per_ip,
        MHD_OPTION_END);
    if (server->daemon == NULL) {
        publish_batcher_free(server->publisher);
        task_pool_free(server->tasks);
        conn_guard_free(server->guard);
        free(server);
        hk_error_set(err, HK_ERR_UNAVAILABLE, "cannot listen on %s port %ld", cfg->listen_addr,
                     cfg->port);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(server->daemon,
                                                           MHD_DAEMON_INFO_BIND_PORT);
    server->port = info ? info->port : (unsigned int)cfg->port;
    return server;
}

unsigned int http_server_port(const struct http_server *server)
{
    return server->port;
}

static unsigned int http_server_connections(struct http_server *server)
{
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(server->daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    return info != NULL ? info->num_connections : 0;
}

void http_server_stop(struct http_server *server)
{
    if (server == NULL)
        return;
    /* The handlers running off the HTTP threads finish and resume their
     * connections (libmicrohttpd must not be stopped with any suspended),
     * which then get a moment to send their answers; requests arriving
     * meanwhile run their jobs inline. (MHD_quiesce_daemon is not used: in
     * libmicrohttpd 0.9.75 it races the epoll worker threads, which then
     * abort with "Failed to remove listen FD from epoll set".) */
    task_pool_stop(server->tasks);
    publish_batcher_stop(server->publisher);
    for (int i = 0; i < DRAIN_WAIT_STEPS && http_server_connections(server) > 0; i++)
        usleep(DRAIN_WAIT_STEP_US);
    MHD_stop_daemon(server->daemon);
    /* Only now: until the HTTP threads were gone they could still submit. */
    publish_batcher_free(server->publisher);
    task_pool_free(server->tasks);
    conn_guard_free(server->guard);
    free(server);
}
