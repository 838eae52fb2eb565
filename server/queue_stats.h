/* queue_stats.h - the gauges that live in the database, read at scrape time:
 * the outbox, the delivery queue (first attempts, retries, in flight) and
 * the endpoints' circuit breakers, across every process sharing it.
 *
 * DESIGN: one connection of its own (opened on the first scrape, so a
 * process nobody scrapes holds none), used under a mutex by whichever
 * thread scrapes. The numbers are cached for cache_ms, so scraping in a
 * loop costs the database at most one query per period; the query runs
 * under a statement timeout. When the database cannot answer, the gauges
 * are left out and hookd_database_up is 0. */
#ifndef HOOKD_QUEUE_STATS_H
#define HOOKD_QUEUE_STATS_H

#include "buf.h"

struct queue_stats;

/* database_url is copied. The caller frees the result with queue_stats_free. */
struct queue_stats *queue_stats_new(const char *database_url, long cache_ms);
/* Appends hookd_database_up and, when the numbers could be read, the
 * gauges. 0, or -1 when out's cap was reached. Thread-safe. */
int queue_stats_render(struct queue_stats *qs, struct buf *out) __attribute__((warn_unused_result));
void queue_stats_free(struct queue_stats *qs);

#endif
