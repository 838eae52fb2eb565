/* metrics.c - the process's series (see metrics.h for the design). */
#include "metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prom_text.h"
#include "version.h"
#include "xmalloc.h"

/* HTTP status codes 100..599, one slot each. */
#define CODE_MIN 100
#define CODE_SLOTS 500
#define MAX_BUCKETS 20

/* Upper bounds of the histograms' buckets, in microseconds. */
static const int64_t request_bounds_us[] = {
    500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000,
    5000000, 10000000,
};
static const int64_t attempt_bounds_us[] = {
    5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000,
    15000000, 30000000, 60000000,
};
/* From milliseconds to the end of the default retry schedule (about 26 h). */
static const int64_t latency_bounds_us[] = {
    5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000,
    30000000, 60000000, 300000000, 900000000, 3600000000, 21600000000, 86400000000,
    172800000000,
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

struct histogram {
    atomic_uint_fast64_t counts[MAX_BUCKETS + 1];   /* per bucket; the last: above all */
    atomic_uint_fast64_t sum_us;
};

/* Static storage starts zeroed, which is every atomic's initial value here. */
static atomic_uint_fast64_t http_requests[ROUTE_ID_COUNT][CODE_SLOTS];
static struct histogram http_duration[ROUTE_ID_COUNT];
static atomic_int_fast64_t http_in_flight;

static _Atomic(char *) type_names[METRICS_MAX_EVENT_TYPES];
static atomic_uint_fast64_t type_published[METRICS_MAX_EVENT_TYPES];
static atomic_uint_fast64_t other_published;
static pthread_mutex_t types_mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_uint_fast64_t fanned_out;

enum result { RESULT_2XX, RESULT_3XX, RESULT_4XX, RESULT_5XX, RESULT_NO_RESPONSE, RESULT_OTHER,
              N_RESULTS };
static const char *const result_names[N_RESULTS] = { "2xx", "3xx", "4xx", "5xx", "no_response",
                                                     "other" };
static atomic_uint_fast64_t attempts[N_RESULTS];

/* Final states of a delivery, as stored. */
static const char *const outcome_names[] = { "delivered", "failed", "disabled" };
#define N_OUTCOMES N_OF(outcome_names)
static atomic_uint_fast64_t outcomes[N_OUTCOMES];
static atomic_uint_fast64_t retries;
static atomic_int_fast64_t deliveries_in_flight;
static struct histogram attempt_duration;
static struct histogram delivery_latency;

static void observe(struct histogram *h, const int64_t *bounds, size_t n, int64_t us)
{
    if (us < 0)
        us = 0;
    size_t i = 0;
    while (i < n && us > bounds[i])
        i++;
    atomic_fetch_add_explicit(&h->counts[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_us, (uint_fast64_t)us, memory_order_relaxed);
}

static void count(atomic_uint_fast64_t *c)
{
    atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

void metrics_http_request(enum route_id route, unsigned int status, int64_t duration_us)
{
    if ((unsigned int)route >= ROUTE_ID_COUNT)
        route = ROUTE_NONE;
    if (status >= CODE_MIN && status < CODE_MIN + CODE_SLOTS)
        count(&http_requests[route][status - CODE_MIN]);
    observe(&http_duration[route], request_bounds_us, N_OF(request_bounds_us), duration_us);
}

void metrics_http_in_flight(int delta)
{
    atomic_fetch_add_explicit(&http_in_flight, delta, memory_order_relaxed);
}

/* The slot of an event type, or -1 (counted as "other"): looked up without
 * a lock; a new name is added under the mutex, once. */
static int type_slot(const char *type)
{
    size_t i = 0;
    for (; i < METRICS_MAX_EVENT_TYPES; i++) {
        const char *name = atomic_load_explicit(&type_names[i], memory_order_acquire);
        if (name == NULL)
            break;
        if (strcmp(name, type) == 0)
            return (int)i;
    }
    if (i == METRICS_MAX_EVENT_TYPES)
        return -1;
    int slot = -1;
    pthread_mutex_lock(&types_mu);
    for (i = 0; i < METRICS_MAX_EVENT_TYPES; i++) {
        const char *name = atomic_load_explicit(&type_names[i], memory_order_acquire);
        if (name == NULL) {
            atomic_store_explicit(&type_names[i], xstrdup(type), memory_order_release);
            slot = (int)i;
            break;
        }
        if (strcmp(name, type) == 0) {
            slot = (int)i;
            break;
        }
    }
    pthread_mutex_unlock(&types_mu);
    return slot;
}

void metrics_event_published(const char *type)
{
    int slot = type_slot(type);
    count(slot >= 0 ? &type_published[slot] : &other_published);
}

void metrics_events_fanned_out(long n)
{
    if (n > 0)
        atomic_fetch_add_explicit(&fanned_out, (uint_fast64_t)n, memory_order_relaxed);
}

void metrics_deliveries_in_flight(int delta)
{
    atomic_fetch_add_explicit(&deliveries_in_flight, delta, memory_order_relaxed);
}

static enum result result_of(long status)
{
    if (status == 0)
        return RESULT_NO_RESPONSE;
    if (status >= 200 && status < 600)
        return (enum result)(RESULT_2XX + (status / 100 - 2));
    return RESULT_OTHER;
}

void metrics_delivery_attempt(long status, const char *state, int64_t duration_us,
                              int64_t latency_us)
{
    count(&attempts[result_of(status)]);
    observe(&attempt_duration, attempt_bounds_us, N_OF(attempt_bounds_us), duration_us);
    if (strcmp(state, "pending") == 0) {
        count(&retries);
        return;
    }
    for (size_t i = 0; i < N_OUTCOMES; i++) {
        if (strcmp(state, outcome_names[i]) == 0)
            count(&outcomes[i]);
    }
    if (strcmp(state, "delivered") == 0 && latency_us >= 0)
        observe(&delivery_latency, latency_bounds_us, N_OF(latency_bounds_us), latency_us);
}

/* ---- rendering -------------------------------------------------------- */

static uint64_t load(atomic_uint_fast64_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

/* One labelled counter sample: name{label="value"} n. */
static int labelled(struct buf *b, const char *name, const char *label, const char *value,
                    uint64_t n)
{
    char labels[256];
    if (prom_labels(labels, sizeof(labels), &label, &value, 1) != 0)
        return -1;
    return prom_sample_u64(b, name, labels, n);
}

static int render_histogram(struct buf *b, const char *name, struct histogram *h,
                            const int64_t *bounds, size_t n, const char *const *labels,
                            const char *const *values, size_t n_labels)
{
    uint64_t counts[MAX_BUCKETS + 1];
    for (size_t i = 0; i <= n; i++)
        counts[i] = load(&h->counts[i]);
    return prom_histogram(b, name, labels, values, n_labels, bounds, counts, n,
                          load(&h->sum_us));
}

/* A route's labels: its method and pattern, or "other" and "unmatched". */
static const char *method_label(size_t route)
{
    const char *method = router_method((enum route_id)route);
    return method ? method : "other";
}

static const char *route_label(size_t route)
{
    const char *pattern = router_pattern((enum route_id)route);
    return pattern ? pattern : "unmatched";
}

static int render_http(struct buf *b)
{
    if (prom_header(b, "hookd_http_requests_total", "counter",
                    "HTTP requests answered, by route (method and pattern) and status code.") != 0)
        return -1;
    for (size_t r = 0; r < ROUTE_ID_COUNT; r++) {
        for (size_t c = 0; c < CODE_SLOTS; c++) {
            uint64_t n = load(&http_requests[r][c]);
            if (n == 0)
                continue;
            char code[8], labels[256];
            snprintf(code, sizeof(code), "%zu", c + CODE_MIN);
            const char *names[] = { "method", "route", "code" };
            const char *values[] = { method_label(r), route_label(r), code };
            if (prom_labels(labels, sizeof(labels), names, values, 3) != 0 ||
                prom_sample_u64(b, "hookd_http_requests_total", labels, n) != 0)
                return -1;
        }
    }
    if (prom_header(b, "hookd_http_request_duration_seconds", "histogram",
                    "Time from an HTTP request's first byte until its answer is ready to send, "
                    "by route (method and pattern).") != 0)
        return -1;
    for (size_t r = 0; r < ROUTE_ID_COUNT; r++) {
        uint64_t seen = 0;
        for (size_t i = 0; i <= N_OF(request_bounds_us); i++)
            seen += load(&http_duration[r].counts[i]);
        const char *names[] = { "method", "route" };
        const char *values[] = { method_label(r), route_label(r) };
        if (seen > 0 && render_histogram(b, "hookd_http_request_duration_seconds",
                                         &http_duration[r], request_bounds_us,
                                         N_OF(request_bounds_us), names, values, 2) != 0)
            return -1;
    }
    if (prom_header(b, "hookd_http_requests_in_flight", "gauge",
                    "HTTP requests being read, handled or answered now.") != 0 ||
        prom_sample_i64(b, "hookd_http_requests_in_flight", "",
                        atomic_load_explicit(&http_in_flight, memory_order_relaxed)) != 0)
        return -1;
    return 0;
}

static int render_events(struct buf *b)
{
    if (prom_header(b, "hookd_events_published_total", "counter",
                    "Events published through this process's API (idempotent replays not "
                    "counted), by type; types past the first 64 count as other.") != 0)
        return -1;
    for (size_t i = 0; i < METRICS_MAX_EVENT_TYPES; i++) {
        const char *name = atomic_load_explicit(&type_names[i], memory_order_acquire);
        if (name == NULL)
            break;
        if (labelled(b, "hookd_events_published_total", "type", name,
                     load(&type_published[i])) != 0)
            return -1;
    }
    if (labelled(b, "hookd_events_published_total", "type", "other", load(&other_published)) != 0)
        return -1;
    if (prom_header(b, "hookd_events_fanned_out_total", "counter",
                    "Events this process's workers moved from the outbox into deliveries "
                    "(also those published from SQL).") != 0 ||
        prom_sample_u64(b, "hookd_events_fanned_out_total", "", load(&fanned_out)) != 0)
        return -1;
    return 0;
}

static int render_deliveries(struct buf *b)
{
    if (prom_header(b, "hookd_delivery_attempts_total", "counter",
                    "Delivery attempts finished by this process, by the receiver's status class "
                    "(no_response: timeout, connection, DNS or TLS error, or a refused "
                    "address).") != 0)
        return -1;
    for (size_t i = 0; i < N_RESULTS; i++) {
        if (labelled(b, "hookd_delivery_attempts_total", "result", result_names[i],
                     load(&attempts[i])) != 0)
            return -1;
    }
    if (prom_header(b, "hookd_deliveries_total", "counter",
                    "Deliveries that reached a final state in this process: delivered, failed "
                    "(retries exhausted) or disabled (the endpoint answered 410).") != 0)
        return -1;
    for (size_t i = 0; i < N_OUTCOMES; i++) {
        if (labelled(b, "hookd_deliveries_total", "outcome", outcome_names[i],
                     load(&outcomes[i])) != 0)
            return -1;
    }
    if (prom_header(b, "hookd_delivery_retries_total", "counter",
                    "Failed attempts after which a retry was scheduled.") != 0 ||
        prom_sample_u64(b, "hookd_delivery_retries_total", "", load(&retries)) != 0)
        return -1;
    if (prom_header(b, "hookd_delivery_attempt_duration_seconds", "histogram",
                    "Duration of delivery attempts, redirects included.") != 0 ||
        render_histogram(b, "hookd_delivery_attempt_duration_seconds", &attempt_duration,
                         attempt_bounds_us, N_OF(attempt_bounds_us), NULL, NULL, 0) != 0)
        return -1;
    if (prom_header(b, "hookd_delivery_latency_seconds", "histogram",
                    "Time from an event's publication to the end of its successful delivery "
                    "attempt, retries included.") != 0 ||
        render_histogram(b, "hookd_delivery_latency_seconds", &delivery_latency,
                         latency_bounds_us, N_OF(latency_bounds_us), NULL, NULL, 0) != 0)
        return -1;
    if (prom_header(b, "hookd_deliveries_in_flight", "gauge",
                    "Delivery requests this process's workers have running now.") != 0 ||
        prom_sample_i64(b, "hookd_deliveries_in_flight", "",
                        atomic_load_explicit(&deliveries_in_flight, memory_order_relaxed)) != 0)
        return -1;
    return 0;
}

int metrics_render(struct buf *out)
{
    if (prom_header(out, "hookd_build_info", "gauge", "Always 1; the version is a label.") != 0 ||
        labelled(out, "hookd_build_info", "version", HOOKD_VERSION, 1) != 0)
        return -1;
    if (render_http(out) != 0 || render_events(out) != 0 || render_deliveries(out) != 0)
        return -1;
    return 0;
}

void metrics_free(void)
{
    pthread_mutex_lock(&types_mu);
    for (size_t i = 0; i < METRICS_MAX_EVENT_TYPES; i++) {
        char *name = atomic_exchange_explicit(&type_names[i], NULL, memory_order_acq_rel);
        free(name);
        atomic_store_explicit(&type_published[i], 0, memory_order_relaxed);
    }
    pthread_mutex_unlock(&types_mu);
}
