/* test_multi_driver.c - protects multi_driver.c against a real HTTP server
 * on 127.0.0.1 (libmicrohttpd, in this process) and raw sockets:
 * concurrent transfers run to their end on socket events alone; a
 * connection kept alive is watched again by the next transfer, and one the
 * receiver reset while unwatched wakes the wait once, not on every turn; libcurl's own timeout ends a transfer
 * that no socket event would (the wait is shortened to it); a wake-up from
 * another thread and an extra descriptor end the wait, and too many extra
 * descriptors are refused. */
#include "rows.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "multi_driver.h"

/* How long any test waits for its transfers at most. */
#define DEADLINE_MS 10000

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)cls, (void)url, (void)method, (void)version, (void)upload_data;
    if (*con_cls == NULL) { /* the headers: go on to the body */
        *con_cls = conn;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"",
                                                             MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ok = MHD_queue_response(conn, MHD_HTTP_NO_CONTENT, r);
    MHD_destroy_response(r);
    return ok;
}

/* A receiver answering 204 on 127.0.0.1 (a free port); *port set. */
static struct MHD_Daemon *receiver_start(unsigned *port)
{
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = 0 };
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL, 0, NULL, NULL, on_request, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_END);
    assert_non_null(d);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    assert_non_null(info);
    *port = info->port;
    return d;
}

static CURL *post_to(unsigned port, long timeout_ms)
{
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/hook", port);
    CURL *easy = curl_easy_init();
    assert_non_null(easy);
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, "{\"n\":1}");
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeout_ms);
    return easy;
}

/* Drives d until n transfers have finished (their results in order of
 * finishing into codes), or the deadline; returns how many finished. */
static size_t drive(struct multi_driver *d, size_t n, CURLcode *codes, long wait_ms)
{
    CURLM *multi = multi_driver_multi(d);
    size_t done = 0;
    int64_t deadline = clock_mono_ms() + DEADLINE_MS;
    while (done < n && clock_mono_ms() < deadline) {
        multi_driver_run(d);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            codes[done++] = msg->data.result;
            curl_multi_remove_handle(multi, msg->easy_handle);
        }
        if (done < n)
            assert_int_not_equal(multi_driver_wait(d, NULL, 0, wait_ms), -1);
    }
    return done;
}

static void test_concurrent_transfers_run_on_socket_events(void **state)
{
    (void)state;
    unsigned port;
    struct MHD_Daemon *server = receiver_start(&port);
    struct multi_driver *d = multi_driver_new();
    assert_non_null(d);
    enum { N = 24 };
    CURL *easy[N];
    for (size_t i = 0; i < N; i++) {
        easy[i] = post_to(port, 5000);
        assert_int_equal(curl_multi_add_handle(multi_driver_multi(d), easy[i]), CURLM_OK);
    }
    CURLcode codes[N];
    assert_int_equal(drive(d, N, codes, 1000), N);
    for (size_t i = 0; i < N; i++) {
        assert_int_equal(codes[i], CURLE_OK);
        long status = 0;
        curl_easy_getinfo(easy[i], CURLINFO_RESPONSE_CODE, &status);
        assert_int_equal(status, 204);
    }
    assert_int_equal(multi_driver_run(d), 0);
    for (size_t i = 0; i < N; i++)
        curl_easy_cleanup(easy[i]);
    multi_driver_free(d);
    MHD_stop_daemon(server);
}

/* A listening socket on 127.0.0.1 (a free port); *port set. */
static int listen_loopback(unsigned *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = 0 };
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    assert_int_equal(listen(fd, 4), 0);
    socklen_t len = sizeof(addr);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
    *port = ntohs(addr.sin_port);
    return fd;
}

/* A receiver of one connection that answers its requests with 204 and
 * keeps it open, until told to reset it (an RST, not a FIN). */
struct resetter {
    int listen_fd;
    int requests;     /* to answer before the reset */
    int reset_pipe[2];
};

static void *resetter_main(void *arg)
{
    struct resetter *r = arg;
    int conn = accept(r->listen_fd, NULL, NULL);
    if (conn < 0)
        return NULL;
    static const char answer[] = "HTTP/1.1 204 No Content\r\n\r\n";
    for (int i = 0; i < r->requests; i++) {
        char buf[4096];
        if (read(conn, buf, sizeof(buf)) <= 0) /* a small request: one read */
            break;
        if (write(conn, answer, sizeof(answer) - 1) < 0)
            break;
    }
    char go;
    if (read(r->reset_pipe[0], &go, 1) == 1) {
        struct linger now = { .l_onoff = 1, .l_linger = 0 };
        setsockopt(conn, SOL_SOCKET, SO_LINGER, &now, sizeof(now));
    }
    close(conn);
    return NULL;
}

static void test_a_kept_connection_is_watched_again_and_its_reset_is_quiet(void **state)
{
    (void)state;
    unsigned port;
    struct resetter r = { .listen_fd = listen_loopback(&port), .requests = 3 };
    assert_int_equal(pipe(r.reset_pipe), 0);
    pthread_t server;
    assert_int_equal(pthread_create(&server, NULL, resetter_main, &r), 0);
    struct multi_driver *d = multi_driver_new();
    assert_non_null(d);
    CURL *easy = post_to(port, 5000);
    for (int round = 0; round < r.requests; round++) { /* one connection, kept alive */
        assert_int_equal(curl_multi_add_handle(multi_driver_multi(d), easy), CURLM_OK);
        CURLcode code;
        assert_int_equal(drive(d, 1, &code, 1000), 1);
        assert_int_equal(code, CURLE_OK);
        long connects = -1;
        curl_easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &connects);
        assert_int_equal(connects, round == 0 ? 1 : 0);
    }
    /* The receiver resets the idle connection while nobody watches it: its
     * socket reports the error whatever it is asked for. At most one
     * wake-up for it, then quiet. */
    assert_int_equal(write(r.reset_pipe[1], "x", 1), 1);
    pthread_join(server, NULL);
    int woken = 0;
    for (int i = 0; i < 5; i++) {
        multi_driver_run(d);
        woken += multi_driver_wait(d, NULL, 0, 20);
    }
    assert_in_range(woken, 0, 1);
    curl_easy_cleanup(easy);
    multi_driver_free(d);
    close(r.listen_fd);
    close(r.reset_pipe[0]);
    close(r.reset_pipe[1]);
}

static void test_libcurls_timeout_ends_a_transfer_without_socket_events(void **state)
{
    (void)state;
    /* A port that accepts connections (the backlog) and never answers. */
    unsigned port;
    int silent = listen_loopback(&port);
    struct multi_driver *d = multi_driver_new();
    assert_non_null(d);
    CURL *easy = post_to(port, 200);
    assert_int_equal(curl_multi_add_handle(multi_driver_multi(d), easy), CURLM_OK);
    int64_t start = clock_mono_ms();
    CURLcode code;
    /* Waits of 10 s each: only the driver's timeout can end them sooner. */
    assert_int_equal(drive(d, 1, &code, DEADLINE_MS), 1);
    int64_t took = clock_mono_ms() - start;
    assert_int_equal(code, CURLE_OPERATION_TIMEDOUT);
    assert_in_range(took, 150, 3000);
    curl_easy_cleanup(easy);
    multi_driver_free(d);
    close(silent);
}

static void *wake_later(void *arg)
{
    usleep(100 * 1000);
    multi_driver_wakeup(arg);
    return NULL;
}

static void test_a_wakeup_or_an_extra_descriptor_ends_the_wait(void **state)
{
    (void)state;
    struct multi_driver *d = multi_driver_new();
    assert_non_null(d);
    /* No transfer, so no timeout of libcurl's to shorten the wait. */
    int64_t start = clock_mono_ms();
    assert_int_equal(multi_driver_wait(d, NULL, 0, 50), 0);
    assert_true(clock_mono_ms() - start >= 45);

    pthread_t waker;
    assert_int_equal(pthread_create(&waker, NULL, wake_later, d), 0);
    start = clock_mono_ms();
    assert_int_equal(multi_driver_wait(d, NULL, 0, DEADLINE_MS), 1);
    assert_true(clock_mono_ms() - start < 3000);
    pthread_join(waker, NULL);
    assert_int_equal(multi_driver_wait(d, NULL, 0, 10), 0); /* the wake-up was used up */

    int pipe_fds[2];
    assert_int_equal(pipe(pipe_fds), 0);
    assert_int_equal(write(pipe_fds[1], "x", 1), 1);
    struct pollfd extra[MULTI_DRIVER_MAX_EXTRA + 1];
    for (size_t i = 0; i < MULTI_DRIVER_MAX_EXTRA + 1; i++)
        extra[i] = (struct pollfd){ .fd = pipe_fds[0], .events = POLLIN, .revents = POLLERR };
    assert_int_equal(multi_driver_wait(d, extra, 1, DEADLINE_MS), 1);
    assert_true(extra[0].revents & POLLIN);
    errno = 0;
    assert_int_equal(multi_driver_wait(d, extra, MULTI_DRIVER_MAX_EXTRA + 1, 10), -1);
    assert_int_equal(errno, EINVAL);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    multi_driver_free(d);
}

static int setup(void **state)
{
    (void)state;
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    curl_global_cleanup();
    return 0;
}

int main(void)
{
    rows_add(test_concurrent_transfers_run_on_socket_events, NULL,
             "24 concurrent requests to a local receiver end with 204, driven by socket events");
    rows_add(test_a_kept_connection_is_watched_again_and_its_reset_is_quiet, NULL,
             "a kept-alive connection serves the next requests; its reset while unwatched is quiet");
    rows_add(test_libcurls_timeout_ends_a_transfer_without_socket_events, NULL,
             "libcurl's timeout ends a request to a silent port (the wait is shortened to it)");
    rows_add(test_a_wakeup_or_an_extra_descriptor_ends_the_wait, NULL,
             "a wake-up from another thread or an extra descriptor ends the wait; too many refused");
    multi_driver_free(NULL);
    return rows_run("multi_driver", setup, teardown);
}
