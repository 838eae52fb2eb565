/* multi_driver.c - a libcurl multi handle driven on an epoll set (see
 * multi_driver.h). */
#include "multi_driver.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "xmalloc.h"

/* Ready sockets taken from the epoll set per epoll_wait call. */
#define READY_BATCH 256

/* What the epoll set holds of a descriptor. A socket libcurl stops
 * watching is disabled rather than deleted: its transfer ended, and the
 * next one on the same connection wants it again in a moment (one
 * modification instead of a delete and an add, which allocate and free an
 * entry each time). */
enum watch { WATCH_NONE, WATCH_ON, WATCH_OFF };

struct multi_driver {
    CURLM *multi;
    int epoll_fd;     /* the transfers' sockets, as libcurl asks */
    int wake_fd;      /* an eventfd: multi_driver_wakeup */
    int64_t due_ms;   /* libcurl's timeout (monotonic ms); -1: none */
    int running;      /* transfers running, as libcurl last said */
    unsigned char *watch; /* enum watch, by descriptor */
    size_t n_watch;
};

static enum watch watch_of(const struct multi_driver *d, int fd)
{
    return (size_t)fd < d->n_watch ? (enum watch)d->watch[fd] : WATCH_NONE;
}

static void set_watch(struct multi_driver *d, int fd, enum watch state)
{
    if ((size_t)fd >= d->n_watch) {
        size_t n = d->n_watch ? d->n_watch : 64;
        while (n <= (size_t)fd)
            n *= 2;
        d->watch = xrealloc(d->watch, n);
        memset(d->watch + d->n_watch, WATCH_NONE, n - d->n_watch);
        d->n_watch = n;
    }
    d->watch[fd] = (unsigned char)state;
}

static uint32_t epoll_events_of(int what)
{
    return (what & CURL_POLL_IN ? EPOLLIN : 0u) | (what & CURL_POLL_OUT ? EPOLLOUT : 0u);
}

/* CURLMOPT_SOCKETFUNCTION: keeps the epoll set what libcurl wants watched.
 * The set drops a descriptor by itself when it is closed, so an entry
 * recorded as present may be gone (ENOENT: add it), and one recorded as
 * absent may be there (EEXIST: a descriptor that libcurl stopped watching,
 * then closed while still watched elsewhere; modify it). */
static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)easy;
    (void)socketp;
    struct multi_driver *d = userp;
    enum watch was = watch_of(d, s);
    if (what == CURL_POLL_REMOVE) {
        struct epoll_event off = { .events = 0, .data.fd = s };
        if (was == WATCH_ON)
            set_watch(d, s, epoll_ctl(d->epoll_fd, EPOLL_CTL_MOD, s, &off) == 0 ? WATCH_OFF
                                                                                : WATCH_NONE);
        return 0;
    }
    struct epoll_event ev = { .events = epoll_events_of(what), .data.fd = s };
    int op = was == WATCH_NONE ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
    if (epoll_ctl(d->epoll_fd, op, s, &ev) != 0) {
        int other = op == EPOLL_CTL_ADD ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
        if ((errno != EEXIST && errno != ENOENT) || epoll_ctl(d->epoll_fd, other, s, &ev) != 0) {
            /* Out of memory or of epoll watches (fs.epoll.max_user_watches).
             * Not an error for libcurl: one would abort every transfer of
             * the multi handle and stop its timers for good. The transfer
             * goes unwatched and ends at its own timeout, as a failed
             * attempt to be retried. */
            log_warn("a request's socket cannot be watched (%s); it will time out",
                     strerror(errno));
            set_watch(d, s, WATCH_NONE);
            return 0;
        }
    }
    set_watch(d, s, WATCH_ON);
    return 0;
}

/* CURLMOPT_TIMERFUNCTION: when libcurl wants to act without a socket
 * event (a timeout, a transfer just added). */
static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    struct multi_driver *d = userp;
    d->due_ms = timeout_ms < 0 ? -1 : clock_mono_ms() + timeout_ms;
    return 0;
}

struct multi_driver *multi_driver_new(void)
{
    struct multi_driver *d = xcalloc(1, sizeof(*d));
    d->due_ms = -1;
    d->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    d->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    d->multi = curl_multi_init();
    if (d->epoll_fd < 0 || d->wake_fd < 0 || d->multi == NULL) {
        multi_driver_free(d);
        return NULL;
    }
    curl_multi_setopt(d->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(d->multi, CURLMOPT_SOCKETDATA, d);
    curl_multi_setopt(d->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(d->multi, CURLMOPT_TIMERDATA, d);
    return d;
}

void multi_driver_free(struct multi_driver *d)
{
    if (d == NULL)
        return;
    /* The cleanup reports the sockets it closes: the set must still be
     * there for them. */
    if (d->multi != NULL)
        curl_multi_cleanup(d->multi);
    if (d->epoll_fd >= 0)
        close(d->epoll_fd);
    if (d->wake_fd >= 0)
        close(d->wake_fd);
    free(d->watch);
    free(d);
}

CURLM *multi_driver_multi(struct multi_driver *d)
{
    return d->multi;
}

static int cselect_of(uint32_t events)
{
    return (events & EPOLLIN ? CURL_CSELECT_IN : 0) | (events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
           (events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
}

int multi_driver_run(struct multi_driver *d)
{
    /* One batch: sockets still ready are reported again by the next wait
     * (level-triggered), after the caller's claims and records. */
    struct epoll_event ready[READY_BATCH];
    int n = epoll_wait(d->epoll_fd, ready, READY_BATCH, 0);
    for (int i = 0; i < n; i++) {
        int fd = ready[i].data.fd;
        if (watch_of(d, fd) != WATCH_ON) {
            /* A disabled socket still reports errors and hang-ups (an idle
             * connection the receiver closed), and one that could not be
             * modified may still be in the set: nobody wants it. */
            epoll_ctl(d->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
            set_watch(d, fd, WATCH_NONE);
            continue;
        }
        curl_multi_socket_action(d->multi, fd, cselect_of(ready[i].events), &d->running);
    }
    if (d->due_ms >= 0 && clock_mono_ms() >= d->due_ms) {
        d->due_ms = -1; /* the action may set the next one */
        curl_multi_socket_action(d->multi, CURL_SOCKET_TIMEOUT, 0, &d->running);
    }
    return d->running;
}

/* timeout_ms, shortened to when libcurl's timeout comes (0 when it has). */
static long curl_timeout(const struct multi_driver *d, long timeout_ms)
{
    if (d->due_ms < 0)
        return timeout_ms;
    int64_t left = d->due_ms - clock_mono_ms();
    if (left < 0)
        left = 0;
    return left < timeout_ms ? (long)left : timeout_ms;
}

int multi_driver_wait(struct multi_driver *d, struct pollfd *extra, unsigned n_extra,
                      long timeout_ms)
{
    struct pollfd fds[2 + MULTI_DRIVER_MAX_EXTRA];
    if (n_extra > MULTI_DRIVER_MAX_EXTRA) {
        errno = EINVAL;
        return -1;
    }
    fds[0] = (struct pollfd){ .fd = d->epoll_fd, .events = POLLIN };
    fds[1] = (struct pollfd){ .fd = d->wake_fd, .events = POLLIN };
    for (unsigned i = 0; i < n_extra; i++) {
        fds[2 + i] = extra[i];
        fds[2 + i].revents = 0;
    }
    int rc = poll(fds, 2 + n_extra, (int)curl_timeout(d, timeout_ms));
    if (rc < 0)
        return errno == EINTR ? 1 : -1;
    if (fds[1].revents & POLLIN) {
        uint64_t count;
        ssize_t got = read(d->wake_fd, &count, sizeof(count)); /* resets it */
        (void)got;
    }
    for (unsigned i = 0; i < n_extra; i++)
        extra[i].revents = fds[2 + i].revents;
    return rc > 0 ? 1 : 0;
}

void multi_driver_wakeup(struct multi_driver *d)
{
    uint64_t one = 1;
    ssize_t put = write(d->wake_fd, &one, sizeof(one)); /* fails only when already set */
    (void)put;
}
