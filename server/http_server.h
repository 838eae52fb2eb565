/* http_server.h - the libmicrohttpd daemon that serves the public API.
 *
 * DESIGN: libmicrohttpd runs an internal pool of cfg->http_threads threads
 * (epoll). Each request is read completely (bounded by max_body_bytes),
 * routed, authenticated and handed to one handler on the thread that read
 * it; handlers borrow a database connection from the shared pool and give
 * it back before the request completes. Stopping the daemon joins its
 * threads; requests in progress finish first. */
#ifndef HOOKD_HTTP_SERVER_H
#define HOOKD_HTTP_SERVER_H

#include "error.h"
#include "request.h"

struct http_server;

/* Starts serving; NULL with err when the address cannot be bound. app must
 * outlive the server. */
struct http_server *http_server_start(const struct app *app, struct hk_error *err);
/* The port actually bound (useful with port 0). */
unsigned int http_server_port(const struct http_server *server);
/* Stops accepting, waits for the threads, frees the server. */
void http_server_stop(struct http_server *server);

#endif
