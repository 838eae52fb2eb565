/* conn_guard.h - disconnects clients that send their requests too slowly.
 *
 * libmicrohttpd's connection timeout counts idle time only, so a client that
 * trickles one byte every few seconds (slowloris) would hold a connection,
 * and with enough of them the whole server, for ever. The guard gives each
 * request a deadline for arriving completely (request line, headers, body)
 * and a sweeper thread shuts down the sockets that miss it; libmicrohttpd
 * then sees the connection end and cleans it up as usual.
 *
 * One entry per connection, created when the connection opens and removed
 * when libmicrohttpd reports it closed (which happens before it closes the
 * socket, so the sweeper never touches a reused descriptor). Every function
 * is thread-safe; times are CLOCK_MONOTONIC milliseconds passed in by the
 * caller. */
#ifndef HOOKD_CONN_GUARD_H
#define HOOKD_CONN_GUARD_H

#include <stdbool.h>
#include <stdint.h>

struct conn_guard;
struct conn_guard_entry;

/* read_timeout_ms: time a request has to arrive; idle_timeout_ms: time a
 * kept-alive connection may wait for its next request on top of that. */
struct conn_guard *conn_guard_new(int64_t read_timeout_ms, int64_t idle_timeout_ms);
/* Starts the sweeper thread (every sweep_ms); 0, or -1 when it cannot. */
int conn_guard_start(struct conn_guard *g, int64_t sweep_ms) __attribute__((warn_unused_result));
/* Stops the sweeper (if started) and frees the guard and its entries. */
void conn_guard_free(struct conn_guard *g);

/* A connection on socket fd opened: its first request must arrive within
 * the read timeout. Returns the entry (owned by the guard). */
struct conn_guard_entry *conn_guard_opened(struct conn_guard *g, int fd, int64_t now_ms);
/* A request line arrived: the request must be complete within the read
 * timeout from now (never later than an earlier deadline). */
void conn_guard_reading(struct conn_guard *g, struct conn_guard_entry *e, int64_t now_ms);
/* The request has arrived completely: no deadline while it is handled and
 * answered (libmicrohttpd's idle timeout covers slow readers). */
void conn_guard_received(struct conn_guard *g, struct conn_guard_entry *e);
/* The response is done: the connection may idle, then send its next request. */
void conn_guard_idle(struct conn_guard *g, struct conn_guard_entry *e, int64_t now_ms);
/* The connection closed; e is freed. */
void conn_guard_closed(struct conn_guard *g, struct conn_guard_entry *e);

/* Shuts down every socket past its deadline; returns how many. The sweeper
 * thread calls this; tests call it with chosen times. */
int conn_guard_sweep(struct conn_guard *g, int64_t now_ms);
/* Connections currently tracked. */
int conn_guard_count(struct conn_guard *g);

#endif
