/* queue_stats.c - database-wide gauges for /metrics (see queue_stats.h). */
#include "queue_stats.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "clock.h"
#include "db.h"
#include "log.h"
#include "prom_text.h"
#include "xmalloc.h"

/* The longest a scrape's query may run. */
#define STATS_STATEMENT_TIMEOUT "SET statement_timeout TO 2000"

/* Counted over the partial index of queued deliveries (pending and
 * delivering rows only), the outbox, claims' leftovers, and the endpoints. */
static const struct db_stmt stmt_stats = {
    "queue_stats",
    "SELECT (SELECT count(*) FROM hookd.pending_events),"
    "       count(*) FILTER (WHERE d.state = 'pending' AND d.attempt_count = 0),"
    "       count(*) FILTER (WHERE d.state = 'pending' AND d.attempt_count > 0),"
    "       count(*) FILTER (WHERE d.state = 'delivering'),"
    "       (SELECT count(*) FROM hookd.endpoints"
    "         WHERE state = 'active' AND circuit_open_until > now()),"
    "       (SELECT count(*) FROM hookd.endpoints WHERE state = 'disabled'),"
    "       (SELECT coalesce(sum(cardinality(r.event_ids)), 0) FROM hookd.pending_rest r)"
    "  FROM hookd.deliveries d WHERE d.state IN ('pending', 'delivering')",
    0
};

enum { STAT_OUTBOX, STAT_PENDING, STAT_RETRYING, STAT_DELIVERING, STAT_CIRCUIT_OPEN,
       STAT_DISABLED, STAT_TO_QUEUE, N_STATS };

static const struct {
    const char *name;
    const char *help;
} stat_info[N_STATS] = {
    { "hookd_outbox_events", "Events published and not yet fanned out into deliveries." },
    { "hookd_deliveries_pending", "Deliveries waiting for their first attempt." },
    { "hookd_deliveries_retrying", "Deliveries waiting for a retry (the retry queue)." },
    { "hookd_deliveries_delivering", "Deliveries claimed by a worker of any process." },
    { "hookd_endpoints_circuit_open", "Active endpoints whose circuit breaker is open." },
    { "hookd_endpoints_disabled", "Endpoints disabled (410 Gone, failing too long, or by hand)." },
    { "hookd_deliveries_to_queue",
      "Deliveries of fanned-out events that claims left for the workers to queue." },
};

struct queue_stats {
    pthread_mutex_t mu;
    char *url;
    long cache_ms;
    struct db_conn *db;
    bool fetched;            /* at least one attempt was made */
    int64_t fetched_ms;      /* monotonic time of the last attempt */
    bool ok;                 /* the last attempt read the numbers */
    int64_t values[N_STATS];
};

struct queue_stats *queue_stats_new(const char *database_url, long cache_ms)
{
    struct queue_stats *qs = xcalloc(1, sizeof(*qs));
    pthread_mutex_init(&qs->mu, NULL);
    qs->url = xstrdup(database_url);
    qs->cache_ms = cache_ms;
    return qs;
}

/* Reads the numbers into qs (under its mutex); false when it could not. */
static bool fetch(struct queue_stats *qs)
{
    struct hk_error err;
    if (qs->db != NULL && PQstatus(qs->db->pg) != CONNECTION_OK) {
        db_close(qs->db);
        qs->db = NULL;
    }
    if (qs->db == NULL) {
        qs->db = db_connect(qs->url, &err);
        if (qs->db != NULL && db_exec_script(qs->db, STATS_STATEMENT_TIMEOUT, &err) != 0) {
            db_close(qs->db);
            qs->db = NULL;
        }
        if (qs->db == NULL) {
            log_warn("metrics: %s", err.detail);
            return false;
        }
    }
    PGresult *res = db_query(qs->db, &stmt_stats, NULL, &err);
    if (res == NULL) {
        log_warn("metrics: %s", err.detail);
        return false;
    }
    for (int i = 0; i < N_STATS; i++)
        qs->values[i] = strtoll(PQgetvalue(res, 0, i), NULL, 10);
    PQclear(res);
    return true;
}

int queue_stats_render(struct queue_stats *qs, struct buf *out)
{
    bool ok;
    int64_t values[N_STATS];
    pthread_mutex_lock(&qs->mu);
    int64_t now = clock_mono_ms();
    if (!qs->fetched || now - qs->fetched_ms >= qs->cache_ms) {
        qs->ok = fetch(qs);
        qs->fetched = true;
        qs->fetched_ms = clock_mono_ms();
    }
    ok = qs->ok;
    for (int i = 0; i < N_STATS; i++)
        values[i] = qs->values[i];
    pthread_mutex_unlock(&qs->mu);

    if (prom_header(out, "hookd_database_up", "gauge",
                    "1 when this scrape could read the queue gauges from PostgreSQL.") != 0 ||
        prom_sample_i64(out, "hookd_database_up", "", ok ? 1 : 0) != 0)
        return -1;
    if (!ok)
        return 0;
    for (int i = 0; i < N_STATS; i++) {
        if (prom_header(out, stat_info[i].name, "gauge", stat_info[i].help) != 0 ||
            prom_sample_i64(out, stat_info[i].name, "", values[i]) != 0)
            return -1;
    }
    return 0;
}

void queue_stats_free(struct queue_stats *qs)
{
    if (qs == NULL)
        return;
    db_close(qs->db);
    free(qs->url);
    pthread_mutex_destroy(&qs->mu);
    free(qs);
}
