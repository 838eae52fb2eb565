/* conn_guard.c - request deadlines per connection, enforced by a sweeper
 * thread that shuts sockets down. */
#include "conn_guard.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "xmalloc.h"

struct conn_guard_entry {
    struct conn_guard_entry *prev, *next;
    int fd;
    int64_t deadline_ms;    /* 0: none */
};

struct conn_guard {
    pthread_mutex_t mu;
    pthread_cond_t cv;      /* signals the sweeper to stop */
    struct conn_guard_entry *head;
    int count;
    int64_t read_timeout_ms;
    int64_t idle_timeout_ms;
    int64_t sweep_ms;
    bool running;
    bool stopping;
    pthread_t thread;
};

struct conn_guard *conn_guard_new(int64_t read_timeout_ms, int64_t idle_timeout_ms)
{
    struct conn_guard *g = xcalloc(1, sizeof(*g));
    pthread_mutex_init(&g->mu, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&g->cv, &attr);
    pthread_condattr_destroy(&attr);
    g->read_timeout_ms = read_timeout_ms;
    g->idle_timeout_ms = idle_timeout_ms;
    return g;
}

static void *sweeper(void *arg)
{
    struct conn_guard *g = arg;
    pthread_mutex_lock(&g->mu);
    while (!g->stopping) {
        int64_t wake = clock_mono_ms() + g->sweep_ms;
        struct timespec ts = { (time_t)(wake / 1000), (long)(wake % 1000) * 1000000L };
        while (!g->stopping && pthread_cond_timedwait(&g->cv, &g->mu, &ts) != ETIMEDOUT) {
        }
        if (g->stopping)
            break;
        pthread_mutex_unlock(&g->mu);
        int cut = conn_guard_sweep(g, clock_mono_ms());
        if (cut > 0)
            log_info("http: closed %d connection(s) whose request did not arrive within %lld ms",
                     cut, (long long)g->read_timeout_ms);
        pthread_mutex_lock(&g->mu);
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

int conn_guard_start(struct conn_guard *g, int64_t sweep_ms)
{
    g->sweep_ms = sweep_ms;
    if (pthread_create(&g->thread, NULL, sweeper, g) != 0)
        return -1;
    g->running = true;
    return 0;
}

void conn_guard_free(struct conn_guard *g)
{
    if (g == NULL)
        return;
    if (g->running) {
        pthread_mutex_lock(&g->mu);
        g->stopping = true;
        pthread_cond_signal(&g->cv);
        pthread_mutex_unlock(&g->mu);
        pthread_join(g->thread, NULL);
    }
    struct conn_guard_entry *e = g->head;
    while (e != NULL) {
        struct conn_guard_entry *next = e->next;
        free(e);
        e = next;
    }
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
    free(g);
}

struct conn_guard_entry *conn_guard_opened(struct conn_guard *g, int fd, int64_t now_ms)
{
    struct conn_guard_entry *e = xcalloc(1, sizeof(*e));
    e->fd = fd;
    e->deadline_ms = now_ms + g->read_timeout_ms;
    pthread_mutex_lock(&g->mu);
    e->next = g->head;
    if (g->head != NULL)
        g->head->prev = e;
    g->head = e;
    g->count++;
    pthread_mutex_unlock(&g->mu);
    return e;
}

void conn_guard_reading(struct conn_guard *g, struct conn_guard_entry *e, int64_t now_ms)
{
    int64_t deadline = now_ms + g->read_timeout_ms;
    pthread_mutex_lock(&g->mu);
    if (e->deadline_ms == 0 || deadline < e->deadline_ms)
        e->deadline_ms = deadline;
    pthread_mutex_unlock(&g->mu);
}

void conn_guard_received(struct conn_guard *g, struct conn_guard_entry *e)
{
    pthread_mutex_lock(&g->mu);
    e->deadline_ms = 0;
    pthread_mutex_unlock(&g->mu);
}

void conn_guard_idle(struct conn_guard *g, struct conn_guard_entry *e, int64_t now_ms)
{
    pthread_mutex_lock(&g->mu);
    e->deadline_ms = now_ms + g->idle_timeout_ms + g->read_timeout_ms;
    pthread_mutex_unlock(&g->mu);
}

void conn_guard_closed(struct conn_guard *g, struct conn_guard_entry *e)
{
    pthread_mutex_lock(&g->mu);
    if (e->prev != NULL)
        e->prev->next = e->next;
    else
        g->head = e->next;
    if (e->next != NULL)
        e->next->prev = e->prev;
    g->count--;
    pthread_mutex_unlock(&g->mu);
    free(e);
}

int conn_guard_sweep(struct conn_guard *g, int64_t now_ms)
{
    int cut = 0;
    /* Under the lock: the closed callback (which runs before libmicrohttpd
     * closes the descriptor) waits for it, so fd is still this connection. */
    pthread_mutex_lock(&g->mu);
    for (struct conn_guard_entry *e = g->head; e != NULL; e = e->next) {
        if (e->deadline_ms != 0 && now_ms >= e->deadline_ms) {
            shutdown(e->fd, SHUT_RDWR);
            e->deadline_ms = 0;
            cut++;
        }
    }
    pthread_mutex_unlock(&g->mu);
    return cut;
}

int conn_guard_count(struct conn_guard *g)
{
    pthread_mutex_lock(&g->mu);
    int n = g->count;
    pthread_mutex_unlock(&g->mu);
    return n;
}
