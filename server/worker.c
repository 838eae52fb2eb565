/* worker.c - the delivery worker pool (see worker.h for the design). */
#include "worker.h"

#include <curl/curl.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "claim_size.h"
#include "db.h"
#include "db_deliveries.h"
#include "event_time.h"
#include "log.h"
#include "metrics.h"
#include "multi_driver.h"
#include "retry.h"
#include "send_queue.h"
#include "transfer.h"
#include "xmalloc.h"

/* How soon to look again when endpoints' limits held due work back. */
#define THROTTLED_POLL_MS 100
/* How soon to look again when other workers held the endpoints with due work. */
#define BUSY_POLL_MS 1
/* Opened secrets and signing keys each worker keeps (secret_cache.h). */
#define SECRET_CACHE_ENTRIES 256
/* Claims' leftover deliveries (rows of hookd.pending_rest, one per claim
 * and endpoint) one record queues at most. */
#define REST_BATCH 16
/* After a record that found no leftovers wanted (their endpoints' queues
 * are deep: they keep them), records go without them for this long. */
#define REST_IDLE_MS 50
/* After a record that queued leftovers failed, records go without them for
 * this long: whatever made hookd.queue_rest fail must not hold up the
 * attempt records it shares a transaction with. */
#define REST_RETRY_MS 5000
/* A record of successes waits until RECORD_BATCH attempts have finished,
 * or the first of them RECORD_LINGER_MS: each record costs about 0.6 ms
 * of database time whatever its size (a plpgsql call, a dozen statements'
 * start-up, a durable commit), and the claims already name the finished
 * attempts, so their slots do not wait for it. Failures do not wait. */
#define RECORD_BATCH 64
#define RECORD_LINGER_MS 5

struct worker {
    struct worker_pool *pool;
    pthread_t thread;
    int index;
    struct multi_driver *driver;     /* its transfers; freed by the pool after the join */
    CURLM *multi;                    /* the driver's */
    char claim_id[CLAIM_ID_LEN + 1];
    struct db_conn *db;
    struct transfer_pool *transfers; /* finished transfers kept for reuse */
    struct secret_cache *secrets;    /* opened endpoint secrets and signing keys */
    struct transfer **active;        /* running transfers */
    size_t n_active;
    struct send_queue *sendq;        /* claimed, not sent yet; endpoints' send limits */
    uint64_t claims_sent;            /* claims numbered 1, 2, ... as they are sent */
    bool claiming;                   /* a claim was sent on db, its answer not read yet */
    bool record_sent;                /* a record was sent on record_db, its answer not read */
    bool rest_waiting;               /* claims left deliveries to be queued (with the
                                      * next record) */
    long record_rest;                /* the leftovers the record sent may queue */
    int64_t rest_paused_until_ms;    /* records queue none before (REST_RETRY_MS,
                                      * REST_IDLE_MS) */
    long claim_room;                 /* the free slots it was sent for */
    long claim_fan_out;              /* the outbox events it was sent for */
    long fan_out_next;               /* outbox events the next claim asks for (claim_size.h) */
    atomic_bool notified;            /* new events were published since the last claim */
    int64_t next_claim_ms;           /* claim again at this monotonic time at the latest */
    size_t finished_since_claim;     /* requests that ended since the last claim */
    struct attempt_record *done;     /* finished, not yet written */
    size_t n_done;
    int64_t done_since_ms;           /* when the first of them finished */
    size_t cap_done;
    struct db_conn *record_db;       /* attempt records, sent without waiting */
    struct attempt_record *recording; /* the attempts it writes */
    size_t n_recording;
    size_t cap_recording;
};

struct worker_pool {
    const struct config *cfg;
    struct retry_policy policy;
    struct endpoint_rules rules;
    struct transfer_options transfer;
    struct destination_policy destinations;
    atomic_bool stopping;
    struct worker *workers;
    size_t n_workers;
    pthread_t notifier;
};

static void wake_all(struct worker_pool *pool)
{
    for (size_t i = 0; i < pool->n_workers; i++) {
        atomic_store(&pool->workers[i].notified, true);
        multi_driver_wakeup(pool->workers[i].driver);
    }
}

/* ---- database connection, reopened after failures ------------------- */

/* *slot's connection, (re)opened with the worker's session settings when
 * it is missing or broken; NULL when the database cannot be reached. */
static struct db_conn *worker_conn(struct worker *w, struct db_conn **slot)
{
    if (*slot != NULL && PQstatus((*slot)->pg) != CONNECTION_OK) {
        db_close(*slot);
        *slot = NULL;
    }
    if (*slot == NULL) {
        struct hk_error err;
        *slot = db_connect(w->pool->cfg->database_url, &err);
        /* Claims and lease renewals need not wait for the WAL flush: lost
         * in a crash, they are simply done again (a delivery may then be
         * sent twice, which at-least-once allows). Attempt records are
         * committed synchronously whatever this setting
         * (hookd.record_attempts), which flushes everything before them.
         * The worker's statements touch a few rows, by key or through the
         * queue's indexes: plans that scan whole tables are never right for
         * them, but statistics that lag a fast-growing queue can make them
         * look so (see db/migrations/0007_worker_round.sql). A plan with a
         * ruled-out node costs 1e10, which would make PostgreSQL compile
         * it with LLVM (tens of milliseconds per call), so JIT is off. */
        if (*slot != NULL &&
            db_exec_script(*slot,
                           "SET synchronous_commit TO off; SET enable_seqscan TO off;"
                           " SET enable_hashjoin TO off; SET enable_mergejoin TO off;"
                           " SET jit TO off",
                           &err) != 0) {
            db_close(*slot);
            *slot = NULL;
        }
        if (*slot == NULL)
            log_warn("worker %d: %s", w->index, err.detail);
    }
    return *slot;
}

/* The connection for claims, renewals and releases. */
static struct db_conn *worker_db(struct worker *w)
{
    return worker_conn(w, &w->db);
}

static void db_failed(struct worker *w, const char *what, const struct hk_error *err)
{
    log_warn("worker %d: %s failed: %s", w->index, what, err->detail);
    if (w->db != NULL && PQstatus(w->db->pg) != CONNECTION_OK) {
        db_close(w->db);
        w->db = NULL;
    }
}

/* ---- the steps of the loop ------------------------------------------- */

static void remove_active(struct worker *w, struct transfer *t)
{
    for (size_t i = 0; i < w->n_active; i++) {
        if (w->active[i] == t) {
            w->active[i] = w->active[--w->n_active];
            return;
        }
    }
}

/* The metrics and the log line of a finished attempt. */
static void account_attempt(struct transfer *t, const struct attempt_record *r)
{
    curl_off_t total_us = 0;
    if (curl_easy_getinfo(t->easy, CURLINFO_TOTAL_TIME_T, &total_us) != CURLE_OK || total_us <= 0)
        total_us = (curl_off_t)r->duration_ms * 1000;
    /* Publication (stamped by PostgreSQL's clock into the event) to the end
     * of this attempt (ours). */
    int64_t occurred_ms = event_occurred_ms(t->delivery.body, t->delivery.body_len);
    int64_t latency_us = (r->started_ms + r->duration_ms - occurred_ms) * 1000;
    metrics_deliveries_in_flight(-1);
    metrics_delivery_attempt(r->status, r->state, (int64_t)total_us,
                             occurred_ms > 0 ? latency_us : -1);
    bool retry = strcmp(r->state, "pending") == 0;
    log_fields(LOG_INFO, "delivery attempt", LOG_ID("delivery_id", r->delivery_id),
               LOG_STR("event_id", t->delivery.event_id), LOG_ID("endpoint_id", r->endpoint_id),
               LOG_ID("tenant_id", r->tenant_id), LOG_INT("attempt", r->attempt),
               LOG_STR("outcome", retry ? "retry" : r->state), LOG_INT("status", r->status),
               LOG_STR("error", r->error), LOG_MS("duration_ms", (long long)total_us),
               LOG_ID("retry_in_ms", retry ? r->retry_in_ms : 0));
}

/* Room in w->done for n more attempts; when they are the first, the
 * record's batching wait (RECORD_LINGER_MS) starts now. */
static void reserve_done(struct worker *w, size_t n)
{
    if (w->n_done == 0)
        w->done_since_ms = clock_mono_ms();
    if (w->n_done + n <= w->cap_done)
        return;
    size_t cap = w->cap_done ? w->cap_done * 2 : 64;
    while (cap < w->n_done + n)
        cap *= 2;
    w->done = xrealloc(w->done, cap * sizeof(*w->done));
    w->cap_done = cap;
}

static void collect_finished(struct worker *w)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(w->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct transfer *t = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
        CURLcode code = msg->data.result;
        curl_multi_remove_handle(w->multi, t->easy);
        remove_active(w, t);
        reserve_done(w, 1);
        struct attempt_record *r = &w->done[w->n_done++];
        w->finished_since_claim++;
        transfer_outcome(t, code, &w->pool->policy, r);
        account_attempt(t, r);
        /* After a failure, what waits for the endpoint goes back, and so
         * does what the claim sent before the failure is on record brings:
         * only a claim sent after it knows whether the breaker opened. */
        send_queue_ended(w->sendq, r->tenant_id, r->endpoint_id,
                         strcmp(r->state, "delivered") != 0, w->claims_sent + 1);
        transfer_free(t);
    }
}

/* Hands libcurl the claimed deliveries whose endpoints are below their
 * send limits, oldest first; returns how many it took. */
static size_t start_ready(struct worker *w)
{
    size_t started = 0;
    struct claimed_delivery d;
    int64_t renewed_ms;
    while ((long)w->n_active < w->pool->cfg->max_in_flight &&
           send_queue_next(w->sendq, &d, &renewed_ms)) {
        struct transfer *t = transfer_new(w->transfers, &d);
        if (t == NULL) {
            log_error("worker %d: delivery %lld has an unusable endpoint secret", w->index,
                      (long long)d.delivery_id);
            send_queue_ended(w->sendq, d.tenant_id, d.endpoint_id, false, 0);
            claimed_delivery_free(&d);
            continue;
        }
        t->renewed_mono_ms = renewed_ms; /* its lease is as old as that */
        /* Fails only when memory runs out (the driver's socket callback
         * never fails): handled as xmalloc does. */
        if (curl_multi_add_handle(w->multi, t->easy) != CURLM_OK)
            abort();
        w->active[w->n_active++] = t;
        metrics_deliveries_in_flight(1);
        started++;
        log_debug("worker %d: delivering %s to endpoint %lld (attempt %d)", w->index,
                  t->delivery.event_id, (long long)t->delivery.endpoint_id,
                  t->delivery.attempt);
    }
    return started;
}

/* Whether every attempt of list was a success. */
static bool all_delivered(const struct attempt_record *list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(list[i].state, "delivered") != 0)
            return false;
    }
    return true;
}

/* Sends a claim for what fits in the free slots, without waiting for its
 * answer (finish_claim reads it). The attempts that finished but are not
 * written yet (or being written) are named to the claim: their requests
 * are over, so their slots can be refilled before the record. The claim
 * takes the queue's due deliveries first, then new events from the
 * outbox, so that a new event is delivered in this loop. */
static void send_claim(struct worker *w)
{
    const struct config *cfg = w->pool->cfg;
    long room = cfg->max_in_flight - (long)w->n_active - (long)send_queue_waiting(w->sendq);
    if (room > cfg->claim_batch)
        room = cfg->claim_batch;
    if (room < 0)
        room = 0;
    w->next_claim_ms = clock_mono_ms() + cfg->poll_interval_ms;
    atomic_store(&w->notified, false);
    w->finished_since_claim = 0;
    struct db_conn *db = worker_db(w);
    if (db == NULL)
        return;
    int64_t *finished = xcalloc(w->n_done + w->n_recording + 1, sizeof(int64_t));
    for (size_t i = 0; i < w->n_done; i++)
        finished[i] = w->done[i].delivery_id;
    for (size_t i = 0; i < w->n_recording; i++)
        finished[w->n_done + i] = w->recording[i].delivery_id;
    struct claim_request req = {
        .fan_out_limit = w->fan_out_next,
        .limit = room,
        .lease_s = cfg->lease_s,
        .ahead = 2 * w->pool->rules.max_in_flight,
        .finished = finished,
        .n_finished = w->n_done + w->n_recording,
    };
    struct hk_error err;
    int rc = db_deliveries_claim_send(db, w->claim_id, &w->pool->rules, &req, &err);
    free(finished);
    if (rc != 0) {
        db_failed(w, "claim", &err);
        return;
    }
    w->claiming = true;
    w->claims_sent++;
    w->claim_room = room;
    w->claim_fan_out = w->fan_out_next;
}

/* Reads the answer to the claim sent, if any (with wait, until it comes;
 * without, only if it has come), and queues its deliveries to be sent.
 * Sets when to claim again at the latest: at once when the claim was full, soon when another
 * worker held endpoints with work (busy) or an endpoint's limits held work
 * back (throttled), else after the poll interval (finished requests and
 * new events wake the worker earlier). */
static void finish_claim(struct worker *w, bool wait)
{
    if (!w->claiming)
        return;
    const struct config *cfg = w->pool->cfg;
    struct claim_result res;
    struct hk_error err;
    int rc = db_deliveries_claim_finish(w->db, wait, w->secrets, &res, &err);
    if (rc == 0)
        return;
    w->claiming = false;
    if (rc < 0) {
        db_failed(w, "claim", &err);
        return;
    }
    int64_t now = clock_mono_ms();
    metrics_events_fanned_out(res.fanned_out);
    if (res.rest_waiting)
        w->rest_waiting = true; /* queued with the next record */
    w->fan_out_next = claim_fan_out_next(w->claim_fan_out, res.fanned_out, cfg->claim_batch);
    if ((w->claim_room > 0 && (long)res.count == w->claim_room) ||
        res.fanned_out == w->claim_fan_out)
        w->next_claim_ms = now; /* more may be waiting */
    else if (res.busy)
        w->next_claim_ms = now + BUSY_POLL_MS; /* another worker's claim ends in a moment */
    else if (res.throttled && THROTTLED_POLL_MS < cfg->poll_interval_ms)
        w->next_claim_ms = now + THROTTLED_POLL_MS; /* a limit will let more through soon */
    send_queue_add(w->sendq, res.claimed, res.count, w->claims_sent, now);
    free(res.claimed);
}

/* Whether to claim now: requests ended (their slots can be refilled), new
 * events were published, or the time set by the last claim has come. */
static bool claim_due(struct worker *w)
{
    return w->finished_since_claim > 0 || atomic_load(&w->notified) ||
           clock_mono_ms() >= w->next_claim_ms;
}

/* Reads the answer to the record being written, if any: with wait, until
 * it comes; without, only if it has come. A failed record's attempts go back to the
 * finished ones, to be written again (their leases keep them from being
 * sent twice meanwhile, and if the leases run out first, the delivery
 * simply happens again). */
static void finish_record(struct worker *w, bool wait)
{
    if (!w->record_sent)
        return;
    struct hk_error err;
    size_t recorded = 0;
    long rest_queued = 0;
    int rc = db_deliveries_record_finish(w->record_db, wait, &recorded, &rest_queued, &err);
    if (rc == 0)
        return;
    w->record_sent = false;
    /* A full batch of claims' leftovers: more may wait. None, though some
     * wait: their endpoints do not want them yet; look again in a while. */
    if (rest_queued >= REST_BATCH) {
        w->rest_waiting = true;
    } else if (rc > 0 && w->record_rest > 0 && rest_queued == 0) {
        w->rest_paused_until_ms = clock_mono_ms() + REST_IDLE_MS;
        /* A claim then says whether they still wait (rest_waiting): the
         * last of a backlog may be among them, with nothing else to wake
         * the worker before its poll interval. */
        if (w->next_claim_ms > w->rest_paused_until_ms)
            w->next_claim_ms = w->rest_paused_until_ms;
    }
    if (rc < 0) {
        if (w->record_rest > 0) {
            w->rest_waiting = true;
            w->rest_paused_until_ms = clock_mono_ms() + REST_RETRY_MS;
        }
        log_warn("worker %d: recording attempts failed: %s", w->index, err.detail);
        if (w->n_recording > 0) { /* none when it queued leftovers only */
            reserve_done(w, w->n_recording);
            memcpy(&w->done[w->n_done], w->recording, w->n_recording * sizeof(*w->recording));
            w->n_done += w->n_recording;
            w->n_recording = 0;
        }
        return;
    }
    if (recorded < w->n_recording)
        log_warn("worker %d: %zu attempt(s) finished after their lease was lost; another "
                 "worker owns them now", w->index, w->n_recording - recorded);
    for (size_t i = 0; i < w->n_recording; i++)
        attempt_record_free(&w->recording[i]);
    w->n_recording = 0;
}

/* The loop's timeout, shortened to wake it at due, when due is still
 * ahead. */
static long wake_by(long timeout, int64_t due, int64_t now)
{
    return due > now && due - now < timeout ? (long)(due - now) : timeout;
}

/* Whether the finished attempts wait for more (RECORD_BATCH). */
static bool record_lingers(const struct worker *w)
{
    return w->n_done < RECORD_BATCH && clock_mono_ms() < w->done_since_ms + RECORD_LINGER_MS;
}

/* Sends the finished attempts to be written (a durable commit) on the
 * record connection, with claims' leftover deliveries to queue, without waiting,
 * unless a record is being written already. */
static void start_record(struct worker *w, bool linger)
{
    long rest = w->rest_waiting && clock_mono_ms() >= w->rest_paused_until_ms ? REST_BATCH : 0;
    if (w->record_sent || (w->n_done == 0 && rest == 0))
        return;
    if (linger && rest == 0 && record_lingers(w))
        return;
    struct db_conn *db = worker_conn(w, &w->record_db);
    if (db == NULL)
        return;
    struct hk_error err;
    if (db_deliveries_record_send(db, w->claim_id, &w->pool->rules, w->done, w->n_done,
                                  rest, &err) != 0) {
        log_warn("worker %d: recording attempts failed: %s", w->index, err.detail);
        return;
    }
    w->record_sent = true;
    w->record_rest = rest;
    if (rest > 0)
        w->rest_waiting = false;
    struct attempt_record *list = w->recording;
    size_t cap = w->cap_recording;
    w->recording = w->done;
    w->cap_recording = w->cap_done;
    w->n_recording = w->n_done;
    w->done = list;
    w->cap_done = cap;
    w->n_done = 0;
}

/* Writes every finished attempt and waits until they are on record. */
static void write_records(struct worker *w)
{
    finish_record(w, true);
    start_record(w, false);
    finish_record(w, true);
}

/* Renews or releases (gives back, due at once) the claims of the given
 * deliveries. */
static void for_claims(struct worker *w, const struct delivery_keys *keys, bool release)
{
    if (keys->count == 0)
        return;
    finish_claim(w, true); /* the connection must be idle */
    struct db_conn *db = worker_db(w);
    if (db == NULL)
        return;
    struct hk_error err;
    int rc = release ? db_deliveries_release(db, w->claim_id, keys->tenant_ids,
                                             keys->delivery_ids, keys->count, &err)
                     : db_deliveries_renew(db, w->claim_id, keys->tenant_ids, keys->delivery_ids,
                                           keys->count, w->pool->cfg->lease_s, &err);
    if (rc != 0)
        db_failed(w, release ? "releasing leases" : "renewing leases", &err);
}


/* Releases what the send queue gave back (after a failure, or when
 * stopping); a claim read meanwhile may give back more. */
static void give_back(struct worker *w)
{
    for (;;) {
        struct delivery_keys keys;
        send_queue_take_given_back(w->sendq, &keys);
        if (keys.count == 0)
            break;
        for_claims(w, &keys, true);
        delivery_keys_free(&keys);
    }
}

/* Renews the leases of running and waiting deliveries that have used a
 * third of theirs. */
static void renew_leases(struct worker *w)
{
    int64_t now = clock_mono_ms();
    int64_t every = w->pool->cfg->lease_s * 1000 / 3;
    struct delivery_keys keys = { 0 };
    for (size_t i = 0; i < w->n_active; i++) {
        struct transfer *t = w->active[i];
        if (now - t->renewed_mono_ms >= every) {
            delivery_keys_push(&keys, t->delivery.tenant_id, t->delivery.delivery_id);
            t->renewed_mono_ms = now;
        }
    }
    send_queue_due_for_renewal(w->sendq, now, every, &keys);
    for_claims(w, &keys, false);
    delivery_keys_free(&keys);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct worker_pool *pool = w->pool;
    const struct config *cfg = pool->cfg;
    int64_t deadline = 0;
    /* A line per attempt: written a few at a time, before each wait. */
    log_buffer_begin();

    for (;;) {
        bool stopping = atomic_load(&pool->stopping);
        int running = 0;
        /* Neither the claim nor the record holds the requests up: the
         * claim sent last round is read (if its answer has come) and its
         * deliveries sent; the next claim names the attempts that finished
         * but are not on record yet, so their slots are refilled at once;
         * the record goes out on its own connection and is written, WAL
         * flush included, while the requests run. Both answers are read in
         * a later round. A failure (or a 410) is recorded first, and
         * waited for, before the next claim is sent: the claim must see
         * the endpoint's streak, breaker and state. */
        running = multi_driver_run(w->driver);
        collect_finished(w);
        /* The claim sent last round: its deliveries join those waiting. */
        finish_claim(w, stopping);
        if (stopping)
            send_queue_give_back_all(w->sendq);
        give_back(w);
        /* The next claim goes out before the transfers start, so that the
         * database works on it meanwhile: starting a claim's deliveries
         * (signing, handing them to libcurl) had kept an endpoint's serial
         * claims a third idle. Not while a failure waits to be recorded:
         * then the claim goes after the record (below). */
        if (!stopping && !w->claiming && all_delivered(w->done, w->n_done) &&
            all_delivered(w->recording, w->n_recording) && claim_due(w))
            send_claim(w);
        /* Each endpoint's waiting deliveries fill its free slots. */
        if (start_ready(w) > 0)
            running = multi_driver_run(w->driver);
        renew_leases(w);
        /* A record written meanwhile (on its own connection) is collected
         * if its answer has come; one with a failure is waited for, and
         * failures not yet sent are written now, for the same reason. */
        finish_record(w, !all_delivered(w->recording, w->n_recording));
        bool record_first = stopping || !all_delivered(w->done, w->n_done);
        if (record_first)
            write_records(w);
        if (!stopping) {
            if (!w->claiming && claim_due(w))
                send_claim(w); /* after a failure's record; answered while the requests run */
        } else if (deadline == 0) {
            deadline = clock_mono_ms() + cfg->shutdown_timeout_s * 1000;
        }
        if (!record_first)
            start_record(w, true); /* written while the requests just sent run */

        if (stopping && !w->claiming && (w->n_active == 0 || clock_mono_ms() >= deadline))
            break;

        int64_t now = clock_mono_ms();
        long timeout = w->next_claim_ms > now ? (long)(w->next_claim_ms - now) : 0;
        /* Some transfers finished in the last perform: go round again at
         * once. A claim's answer wakes the worker (below). */
        if ((size_t)running < w->n_active)
            timeout = 0;
        if (w->claiming && timeout > cfg->poll_interval_ms)
            timeout = cfg->poll_interval_ms;
        if (w->n_active > 0 && timeout > cfg->lease_s * 1000 / 3)
            timeout = cfg->lease_s * 1000 / 3;
        /* Claims' leftovers wait, and records go without them for a moment
         * (REST_IDLE_MS, REST_RETRY_MS): look again when the moment is
         * over, not at the next poll. They may be all the work there is:
         * a drain whose last events were left to the queue idled for the
         * whole poll interval (1 s in the bench's deliver scenario). */
        if (w->rest_waiting && !w->record_sent)
            timeout = wake_by(timeout, w->rest_paused_until_ms, now);
        /* Finished attempts waiting for more (RECORD_LINGER_MS) go when
         * the wait is over. Once it is, the record was tried this round:
         * if it could not go (the database is away), it is tried again at
         * the usual pace, not at once and over and over. */
        if (w->n_done > 0 && !w->record_sent)
            timeout = wake_by(timeout, w->done_since_ms + RECORD_LINGER_MS, now);
        if (stopping)
            timeout = 50;
        log_flush();
        /* The claim's and the record's answers wake the worker too; so do
         * libcurl's timeout (a transfer waiting for a connection has no
         * descriptor to wait on) and the pool (multi_driver_wakeup). */
        struct pollfd answers[2];
        unsigned n_answers = 0;
        if (w->claiming)
            answers[n_answers++] = (struct pollfd){ .fd = PQsocket(w->db->pg), .events = POLLIN };
        if (w->record_sent)
            answers[n_answers++] = (struct pollfd){ .fd = PQsocket(w->record_db->pg),
                                                    .events = POLLIN };
        if (multi_driver_wait(w->driver, answers, n_answers, timeout) < 0)
            log_warn("worker %d: waiting for transfers: %s", w->index, strerror(errno));
    }

    /* Whatever still runs at the deadline goes back to the queue. */
    for (size_t i = 0; i < w->n_active; i++) {
        curl_multi_remove_handle(w->multi, w->active[i]->easy);
        metrics_deliveries_in_flight(-1);
    }
    if (w->n_active > 0)
        log_info("worker %d: releasing %zu unfinished deliveries", w->index, w->n_active);
    struct delivery_keys keys = { 0 };
    for (size_t i = 0; i < w->n_active; i++)
        delivery_keys_push(&keys, w->active[i]->delivery.tenant_id,
                           w->active[i]->delivery.delivery_id);
    for_claims(w, &keys, true);
    delivery_keys_free(&keys);
    send_queue_give_back_all(w->sendq);
    give_back(w);
    for (size_t i = 0; i < w->n_active; i++)
        transfer_free(w->active[i]);
    w->n_active = 0;
    write_records(w);
    for (size_t i = 0; i < w->n_done; i++)
        attempt_record_free(&w->done[i]);
    w->n_done = 0;
    db_close(w->db);
    w->db = NULL;
    db_close(w->record_db);
    w->record_db = NULL;
    log_buffer_end();
    return NULL;
}

/* ---- the notifier ------------------------------------------------------ */

static PGconn *listen_connect(const struct config *cfg)
{
    const char *keys[] = { "dbname", "connect_timeout", "application_name", NULL };
    const char *values[] = { cfg->database_url, "5", "hookd-notifier", NULL };
    PGconn *pg = PQconnectdbParams(keys, values, 1);
    if (PQstatus(pg) == CONNECTION_OK) {
        PGresult *res = PQexec(pg, "LISTEN hookd_pending");
        bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
        PQclear(res);
        if (ok)
            return pg;
    }
    log_warn("notifier: %.*s", (int)strcspn(PQerrorMessage(pg), "\n"), PQerrorMessage(pg));
    PQfinish(pg);
    return NULL;
}

static void *notifier_main(void *arg)
{
    struct worker_pool *pool = arg;
    PGconn *pg = NULL;
    while (!atomic_load(&pool->stopping)) {
        if (pg == NULL && (pg = listen_connect(pool->cfg)) == NULL) {
            struct pollfd none;
            poll(&none, 0, 1000);
            continue;
        }
        struct pollfd pfd = { .fd = PQsocket(pg), .events = POLLIN };
        if (poll(&pfd, 1, 250) <= 0)
            continue;
        if (PQconsumeInput(pg) == 0) {
            log_warn("notifier: lost the connection; reconnecting");
            PQfinish(pg);
            pg = NULL;
            wake_all(pool); /* events may have been missed: look now */
            continue;
        }
        bool notified = false;
        PGnotify *n;
        while ((n = PQnotifies(pg)) != NULL) {
            notified = true;
            PQfreemem(n);
        }
        if (notified)
            wake_all(pool);
    }
    PQfinish(pg);
    return NULL;
}

/* ---- the pool --------------------------------------------------------- */

struct worker_pool *worker_pool_start(const struct config *cfg, struct hk_error *err)
{
    struct worker_pool *pool = xcalloc(1, sizeof(*pool));
    pool->cfg = cfg;
    if (retry_policy_init(&pool->policy, cfg->retry_schedule, (int)cfg->retry_jitter_pct,
                          cfg->retry_after_max_s * 1000, err) != 0) {
        free(pool);
        return NULL;
    }
    if (destination_policy_init(&pool->destinations, cfg->allow_private_targets,
                                cfg->allowed_ports, err) != 0) {
        retry_policy_free(&pool->policy);
        free(pool);
        return NULL;
    }
    pool->rules = (struct endpoint_rules){
        .max_in_flight = cfg->endpoint_max_in_flight,
        .rate_limit = cfg->endpoint_rate_limit,
        .sign_v1a = cfg->endpoint_sign_v1a,
        .breaker_threshold = cfg->breaker_threshold,
        .disable_after_s = cfg->disable_after_s,
    };
    pool->transfer = (struct transfer_options){
        .connect_timeout_ms = cfg->connect_timeout_ms,
        .request_timeout_ms = cfg->request_timeout_ms,
        .max_redirects = cfg->max_redirects,
        .response_body_max = cfg->response_body_max,
        .destinations = &pool->destinations,
    };
    atomic_init(&pool->stopping, false);
    pool->n_workers = (size_t)cfg->workers;
    pool->workers = xcalloc(pool->n_workers, sizeof(*pool->workers));
    for (size_t i = 0; i < pool->n_workers; i++) {
        struct worker *w = &pool->workers[i];
        w->pool = pool;
        w->index = (int)i;
        w->fan_out_next = cfg->claim_batch;
        w->sendq = send_queue_new();
        w->driver = multi_driver_new();
        if (w->driver == NULL)
            abort();
        w->multi = multi_driver_multi(w->driver);
        curl_multi_setopt(w->multi, CURLMOPT_MAXCONNECTS, (long)cfg->max_in_flight);
        w->active = xcalloc((size_t)cfg->max_in_flight, sizeof(struct transfer *));
        atomic_init(&w->notified, false);
        w->transfers = transfer_pool_new(&pool->transfer, (size_t)cfg->max_in_flight);
        w->secrets = secret_cache_new(SECRET_CACHE_ENTRIES);
        db_deliveries_claim_id(w->claim_id);
    }
    for (size_t i = 0; i < pool->n_workers; i++)
        pthread_create(&pool->workers[i].thread, NULL, worker_main, &pool->workers[i]);
    pthread_create(&pool->notifier, NULL, notifier_main, pool);
    log_info("%zu delivery workers started", pool->n_workers);
    return pool;
}

void worker_pool_stop(struct worker_pool *pool)
{
    if (pool == NULL)
        return;
    atomic_store(&pool->stopping, true);
    wake_all(pool);
    pthread_join(pool->notifier, NULL);
    for (size_t i = 0; i < pool->n_workers; i++)
        pthread_join(pool->workers[i].thread, NULL);
    for (size_t i = 0; i < pool->n_workers; i++) {
        struct worker *w = &pool->workers[i];
        transfer_pool_free(w->transfers);
        secret_cache_free(w->secrets);
        multi_driver_free(w->driver);
        free(w->active);
        send_queue_free(w->sendq);
        free(w->done);
        free(w->recording);
    }
    free(pool->workers);
    retry_policy_free(&pool->policy);
    destination_policy_free(&pool->destinations);
    free(pool);
}
