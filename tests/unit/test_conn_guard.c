/* test_conn_guard.c - protects conn_guard.c, the slow-client guard: a
 * connection's request must arrive within the read timeout of the
 * connection opening or of its request line; a kept-alive connection gets
 * the idle timeout on top; requests being answered have no deadline; a
 * socket past its deadline is shut down once (its peer sees the end), and
 * closed connections are forgotten. Sockets are socketpairs, times are
 * chosen by the test. */
#include "rows.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "clock.h"
#include "conn_guard.h"

#define READ_MS 1000
#define IDLE_MS 5000

/* What happens to one connection, then where its deadline must be. */
enum step { OPENED, READING, RECEIVED, IDLE };

struct deadline_case {
    const char *what;
    struct {
        enum step step;
        int64_t at_ms;
    } steps[4];
    int n_steps;
    int64_t deadline_ms;    /* 0: none (never cut) */
};

static const struct deadline_case deadline_cases[] = {
    { "a new connection has the read timeout", { { OPENED, 0 } }, 1, READ_MS },
    { "its request line does not extend it", { { OPENED, 0 }, { READING, 600 } }, 2, READ_MS },
    { "a received request has no deadline", { { OPENED, 0 }, { READING, 10 }, { RECEIVED, 20 } }, 3,
      0 },
    { "an idle connection gets idle + read",
      { { OPENED, 0 }, { READING, 10 }, { RECEIVED, 20 }, { IDLE, 100 } }, 4,
      100 + IDLE_MS + READ_MS },
    { "the next request line shortens it",
      { { OPENED, 0 }, { RECEIVED, 20 }, { IDLE, 100 }, { READING, 200 } }, 4, 200 + READ_MS },
    { "reading after a received request starts afresh",
      { { OPENED, 0 }, { RECEIVED, 20 }, { READING, 3000 } }, 3, 3000 + READ_MS },
};

/* True when the peer of a shut-down socket reads end-of-file. */
static bool peer_sees_end(int peer)
{
    char c;
    return recv(peer, &c, 1, MSG_DONTWAIT) == 0;
}

static void test_deadline(void **state)
{
    const struct deadline_case *c = *state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct conn_guard *g = conn_guard_new(READ_MS, IDLE_MS);
    struct conn_guard_entry *e = NULL;
    for (int i = 0; i < c->n_steps; i++) {
        int64_t at = c->steps[i].at_ms;
        switch (c->steps[i].step) {
        case OPENED: e = conn_guard_opened(g, sv[0], at); break;
        case READING: conn_guard_reading(g, e, at); break;
        case RECEIVED: conn_guard_received(g, e); break;
        case IDLE: conn_guard_idle(g, e, at); break;
        }
    }
    if (c->deadline_ms == 0) {
        assert_int_equal(conn_guard_sweep(g, INT64_MAX / 2), 0);
        assert_false(peer_sees_end(sv[1]));
    } else {
        assert_int_equal(conn_guard_sweep(g, c->deadline_ms - 1), 0);
        assert_false(peer_sees_end(sv[1]));
        assert_int_equal(conn_guard_sweep(g, c->deadline_ms), 1);
        assert_true(peer_sees_end(sv[1]));
        /* once only */
        assert_int_equal(conn_guard_sweep(g, c->deadline_ms + 10000), 0);
    }
    conn_guard_closed(g, e);
    assert_int_equal(conn_guard_count(g), 0);
    conn_guard_free(g);
    close(sv[0]);
    close(sv[1]);
}

/* Several connections: only the late ones are cut, closing any of them
 * (first, middle, last in the list) keeps the others tracked. */
static void test_many_connections(void **state)
{
    (void)state;
    enum { N = 5 };
    int sv[N][2];
    struct conn_guard_entry *e[N];
    struct conn_guard *g = conn_guard_new(READ_MS, IDLE_MS);
    for (int i = 0; i < N; i++) {
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv[i]), 0);
        e[i] = conn_guard_opened(g, sv[i][0], i * 100);
    }
    assert_int_equal(conn_guard_count(g), N);
    conn_guard_received(g, e[1]);
    /* at 1250: connections opened at 0, 200 are late; 100 is being answered */
    assert_int_equal(conn_guard_sweep(g, 1250), 2);
    assert_true(peer_sees_end(sv[0][1]));
    assert_false(peer_sees_end(sv[1][1]));
    assert_true(peer_sees_end(sv[2][1]));
    assert_false(peer_sees_end(sv[3][1]));
    conn_guard_closed(g, e[2]);
    conn_guard_closed(g, e[4]);
    conn_guard_closed(g, e[0]);
    assert_int_equal(conn_guard_count(g), 2);
    assert_int_equal(conn_guard_sweep(g, 1300), 1);   /* e[3], opened at 300 */
    assert_true(peer_sees_end(sv[3][1]));
    conn_guard_closed(g, e[1]);
    conn_guard_closed(g, e[3]);
    assert_int_equal(conn_guard_count(g), 0);
    conn_guard_free(g);
    for (int i = 0; i < N; i++) {
        close(sv[i][0]);
        close(sv[i][1]);
    }
}

/* The sweeper thread cuts a connection on its own, and stops when freed
 * (entries still tracked are freed with the guard). */
static void test_sweeper_thread(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct conn_guard *g = conn_guard_new(50, IDLE_MS);
    assert_int_equal(conn_guard_start(g, 10), 0);
    conn_guard_opened(g, sv[0], clock_mono_ms());
    char c;
    struct timeval tv = { 5, 0 };
    setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    assert_int_equal(recv(sv[1], &c, 1, 0), 0);   /* blocks until the sweeper cuts */
    conn_guard_free(g);
    close(sv[0]);
    close(sv[1]);
}

int main(void)
{
    for (size_t i = 0; i < ROWS_COUNT(deadline_cases); i++)
        rows_add(test_deadline, &deadline_cases[i], "%s", deadline_cases[i].what);
    rows_add(test_many_connections, NULL, "many connections");
    rows_add(test_sweeper_thread, NULL, "the sweeper thread");
    return rows_run("conn_guard", NULL, NULL);
}
