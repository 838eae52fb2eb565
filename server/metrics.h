/* metrics.h - the process's counters, gauges and histograms, and their
 * Prometheus text.
 *
 * DESIGN: like the logger, the registry is process-global: every thread
 * records into it, and a scrape reads it. Recording is lock-free and never
 * allocates: each series is a C11 atomic (relaxed order: a scrape may see
 * one counter a moment before another, never a torn value). Series are
 * fixed in number, so label cardinality is bounded by construction: routes
 * are route-table patterns, status codes 100..599, outcomes a fixed set,
 * and event types a table of METRICS_MAX_EVENT_TYPES names filled on first
 * use (under a mutex, once per type) with everything beyond it counted as
 * type="other". Histograms keep per-bucket counts and a sum in
 * microseconds; rendering turns them into cumulative buckets in seconds.
 *
 * What lives in the database (queue depths, open circuits) is not here:
 * see queue_stats.h, read at scrape time. */
#ifndef HOOKD_METRICS_H
#define HOOKD_METRICS_H

#include <stdint.h>

#include "buf.h"
#include "router.h"

/* Distinct event types counted by name; later ones count as "other". */
#define METRICS_MAX_EVENT_TYPES 64

/* One HTTP request answered with status (route ROUTE_NONE: no route
 * matched), which took duration_us from its first byte to its completion. */
void metrics_http_request(enum route_id route, unsigned int status, int64_t duration_us);
/* An HTTP request began (+1) or completed (-1). */
void metrics_http_in_flight(int delta);
/* An event of this type was published (not an idempotent replay). */
void metrics_event_published(const char *type);
/* A worker fanned n events out of the outbox. */
void metrics_events_fanned_out(long n);
/* A delivery transfer started (+1) or finished (-1) in this process. */
void metrics_deliveries_in_flight(int delta);
/* A delivery attempt finished: status is the HTTP status (0: no answer),
 * state the delivery's new state ('delivered', 'pending' for a retry,
 * 'failed', 'disabled'), duration_us the attempt's, and latency_us the time
 * from the event's publication to the end of this attempt (for delivered
 * attempts; negative: unknown). */
void metrics_delivery_attempt(long status, const char *state, int64_t duration_us,
                              int64_t latency_us);

/* Appends every series of this process (the counters, histograms and
 * in-process gauges, with HELP and TYPE) to out. 0, or -1 when out's cap
 * was reached. */
int metrics_render(struct buf *out) __attribute__((warn_unused_result));

/* Frees the event type names (at exit; nothing may record afterwards). */
void metrics_free(void);

#endif
