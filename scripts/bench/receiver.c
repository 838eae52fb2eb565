/* receiver.c - the benchmark's webhook receiver (scripts/bench.sh).
 *
 * Answers 204 to every POST, counts them, and for bodies carrying
 * "sent_us":<CLOCK_REALTIME microseconds> (put there by the publisher)
 * records receive time minus that stamp: the publish-to-receipt latency.
 *
 *   receiver [-p PORT] [-t THREADS] [-d DELAY_MS] [-o STATS_FILE] [-n MAX_SAMPLES]
 *
 * Same thread mode as hookd's API (server/http_server.c): an internal epoll
 * polling thread pool of THREADS (default 4, HOOKD_HTTP_THREADS' default).
 * With -d, every POST except subscribe's webhook.test is answered DELAY_MS
 * after it arrived: the connection is suspended and a timer thread resumes
 * it, so a delayed answer holds no thread and never delays the others.
 *
 *   GET /stats   one line: count=N answered=N lat_n=N p50_us=.. p99_us=..
 *                p999_us=.. max_us=.. first_us=.. last_us=..
 *                (first_us/last_us: wall-clock time of the first and last POST)
 *   GET /reset   zeroes every counter and sample
 *
 * On SIGTERM or SIGINT the stats line is written to STATS_FILE (if given)
 * and the process exits. Binds 127.0.0.1 only.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

/* Enough of a body to find "sent_us" and the event type near its start. */
#define KEEP_BYTES 4096

/* Connections at once, and the listen backlog: room for every connection
 * of a ceiling that opens hundreds at the same instant (curl_blast), so
 * that none waits on a full accept queue. The kernel caps the backlog at
 * net.core.somaxconn. */
#define CONNECTION_LIMIT 4096u

struct request_ctx {
    char head[KEEP_BYTES + 1];
    size_t len;
    bool counted;
    bool resumed;                /* the delay is over: answer now */
    int64_t due_us;              /* monotonic time to answer at */
    struct MHD_Connection *conn;
    struct request_ctx *next;    /* in the delay queue */
};

static atomic_llong g_count;     /* POSTs received */
static atomic_llong g_answered;  /* POSTs answered */
static atomic_llong g_first_us;  /* wall clock of the first POST (0: none) */
static atomic_llong g_last_us;   /* wall clock of the latest POST */
static atomic_llong g_nsamples;
static int64_t *g_samples;
static long long g_max_samples = 4 * 1000 * 1000;
static long g_delay_ms;
static struct MHD_Response *g_no_content;

/* The delay queue: every delay is the same, so arrival order is due order. */
static pthread_mutex_t g_qlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_qcond = PTHREAD_COND_INITIALIZER;
static struct request_ctx *g_qhead, *g_qtail;

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of a sorted array. */
static int64_t percentile(const int64_t *v, long long n, double p)
{
    if (n == 0)
        return 0;
    long long rank = (long long)((p / 100.0) * (double)n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return v[rank - 1];
}

static int format_stats(char *out, size_t cap)
{
    long long n = atomic_load(&g_nsamples);
    if (n > g_max_samples)
        n = g_max_samples;
    int64_t *sorted = NULL;
    if (n > 0) {
        sorted = malloc((size_t)n * sizeof(*sorted));
        if (sorted == NULL)
            n = 0;
        else {
            memcpy(sorted, g_samples, (size_t)n * sizeof(*sorted));
            qsort(sorted, (size_t)n, sizeof(*sorted), cmp_i64);
        }
    }
    int len = snprintf(out, cap,
                       "count=%lld answered=%lld lat_n=%lld p50_us=%" PRId64 " p99_us=%" PRId64
                       " p999_us=%" PRId64 " max_us=%" PRId64 " first_us=%lld last_us=%lld\n",
                       atomic_load(&g_count), atomic_load(&g_answered), n,
                       percentile(sorted, n, 50), percentile(sorted, n, 99),
                       percentile(sorted, n, 99.9), n ? sorted[n - 1] : 0,
                       atomic_load(&g_first_us), atomic_load(&g_last_us));
    free(sorted);
    return len;
}

static void reset_stats(void)
{
    atomic_store(&g_count, 0);
    atomic_store(&g_answered, 0);
    atomic_store(&g_first_us, 0);
    atomic_store(&g_last_us, 0);
    atomic_store(&g_nsamples, 0);
}

/* The integer after "sent_us": (whitespace allowed around the colon). */
static bool find_sent_us(const char *body, int64_t *out)
{
    const char *p = strstr(body, "\"sent_us\"");
    if (p == NULL)
        return false;
    p += strlen("\"sent_us\"");
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    if (*p++ != ':')
        return false;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    char *end;
    errno = 0;
    long long v = strtoll(p, &end, 10);
    if (end == p || errno != 0)
        return false;
    *out = v;
    return true;
}

static void record_post(struct request_ctx *ctx)
{
    int64_t recv_us = now_us(CLOCK_REALTIME);
    atomic_fetch_add(&g_count, 1);
    long long zero = 0;
    atomic_compare_exchange_strong(&g_first_us, &zero, (long long)recv_us);
    long long last = atomic_load(&g_last_us);
    while (last < recv_us && !atomic_compare_exchange_weak(&g_last_us, &last, (long long)recv_us))
        ;
    int64_t sent;
    if (find_sent_us(ctx->head, &sent)) {
        long long i = atomic_fetch_add(&g_nsamples, 1);
        if (i < g_max_samples)
            g_samples[i] = recv_us - sent;
    }
}

static void *delay_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&g_qlock);
    for (;;) {
        while (g_qhead == NULL)
            pthread_cond_wait(&g_qcond, &g_qlock);
        int64_t wait = g_qhead->due_us - now_us(CLOCK_MONOTONIC);
        if (wait > 0) {
            pthread_mutex_unlock(&g_qlock);
            usleep(wait > 100000 ? 100000 : (useconds_t)wait);
            pthread_mutex_lock(&g_qlock);
            continue;
        }
        struct request_ctx *ctx = g_qhead;
        g_qhead = ctx->next;
        if (g_qhead == NULL)
            g_qtail = NULL;
        ctx->resumed = true;
        MHD_resume_connection(ctx->conn);
    }
    return NULL;
}

static enum MHD_Result send_text(struct MHD_Connection *conn, unsigned int status, const char *text)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text,
                                                             MHD_RESPMEM_MUST_COPY);
    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)cls;
    (void)version;
    struct request_ctx *ctx = *con_cls;
    if (strcmp(method, "POST") != 0) {
        if (strcmp(method, "GET") == 0 && strcmp(url, "/stats") == 0) {
            char line[512];
            format_stats(line, sizeof(line));
            return send_text(conn, 200, line);
        }
        if (strcmp(method, "GET") == 0 && strcmp(url, "/reset") == 0) {
            reset_stats();
            return send_text(conn, 200, "reset\n");
        }
        return send_text(conn, 404, "not found\n");
    }
    if (ctx == NULL) {
        ctx = calloc(1, sizeof(*ctx));
        if (ctx == NULL)
            return MHD_NO;
        ctx->conn = conn;
        *con_cls = ctx;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        if (ctx->len < KEEP_BYTES) {
            size_t take = n < KEEP_BYTES - ctx->len ? n : KEEP_BYTES - ctx->len;
            memcpy(ctx->head + ctx->len, upload_data, take);
            ctx->len += take;
            ctx->head[ctx->len] = '\0';
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (!ctx->counted) {
        ctx->counted = true;
        record_post(ctx);
        /* Subscribe's test POST must be answered within 5 s even here. */
        if (g_delay_ms > 0 && strstr(ctx->head, "\"webhook.test\"") == NULL) {
            ctx->due_us = now_us(CLOCK_MONOTONIC) + (int64_t)g_delay_ms * 1000;
            /* Suspended before it is queued, so the resume always finds it so. */
            MHD_suspend_connection(conn);
            pthread_mutex_lock(&g_qlock);
            if (g_qtail)
                g_qtail->next = ctx;
            else
                g_qhead = ctx;
            g_qtail = ctx;
            pthread_cond_signal(&g_qcond);
            pthread_mutex_unlock(&g_qlock);
            return MHD_YES;
        }
    }
    atomic_fetch_add(&g_answered, 1);
    return MHD_queue_response(conn, MHD_HTTP_NO_CONTENT, g_no_content);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    free(*con_cls);
    *con_cls = NULL;
}

static void usage(void)
{
    fprintf(stderr, "usage: receiver [-p PORT] [-t THREADS] [-d DELAY_MS] [-o STATS_FILE] "
                    "[-n MAX_SAMPLES]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    unsigned int port = 18482, threads = 4;
    const char *stats_file = NULL;
    int opt;
    while ((opt = getopt(argc, argv, "p:t:d:o:n:")) != -1) {
        switch (opt) {
        case 'p': port = (unsigned int)strtoul(optarg, NULL, 10); break;
        case 't': threads = (unsigned int)strtoul(optarg, NULL, 10); break;
        case 'd': g_delay_ms = strtol(optarg, NULL, 10); break;
        case 'o': stats_file = optarg; break;
        case 'n': g_max_samples = strtoll(optarg, NULL, 10); break;
        default: usage();
        }
    }
    if (port == 0 || port > 65535 || threads == 0 || g_max_samples <= 0 || g_delay_ms < 0)
        usage();
    /* Untouched pages of this array cost no memory. */
    g_samples = malloc((size_t)g_max_samples * sizeof(*g_samples));
    g_no_content = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (g_samples == NULL || g_no_content == NULL) {
        fprintf(stderr, "receiver: out of memory\n");
        return 1;
    }

    /* Signals are taken by sigwait below, never by MHD's threads. */
    sigset_t sigs;
    block_stop_signals(&sigs);

    pthread_t timer;
    if (g_delay_ms > 0 && pthread_create(&timer, NULL, delay_main, NULL) != 0) {
        fprintf(stderr, "receiver: cannot start the delay thread\n");
        return 1;
    }

    struct sockaddr_in addr = loopback_addr(port);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
            MHD_ALLOW_SUSPEND_RESUME,
        (uint16_t)port, NULL, NULL, on_request, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_CONNECTION_LIMIT, CONNECTION_LIMIT,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, CONNECTION_LIMIT,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, "receiver: cannot listen on 127.0.0.1:%u\n", port);
        return 1;
    }
    printf("receiver: listening on 127.0.0.1:%u (%u threads, delay %ld ms)\n", port, threads,
           g_delay_ms);
    fflush(stdout);

    int sig;
    sigwait(&sigs, &sig);
    if (stats_file != NULL) {
        char line[512];
        int len = format_stats(line, sizeof(line));
        FILE *f = fopen(stats_file, "w");
        if (f != NULL) {
            fwrite(line, 1, (size_t)len, f);
            fclose(f);
        }
    }
    /* No MHD_stop_daemon: suspended connections may still be waiting. */
    _exit(0);
}
