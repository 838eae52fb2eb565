/* publish_batcher.c - a queue of publish jobs drained in batches. */
#include "publish_batcher.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "xmalloc.h"

/* A batch stops growing past this many bytes of event data. */
#define BATCH_MAX_BYTES ((size_t)8 * 1024 * 1024)

struct publish_batcher {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct publish_job *head, *tail;
    bool stopping;
    bool joined;
    struct db_pool *pool;
    long acquire_timeout_ms;
    size_t max_batch;
    pthread_t *threads;
    size_t n_threads;
};

/* Takes up to max_batch queued jobs (and about BATCH_MAX_BYTES of data) off
 * the queue, into jobs[]; returns how many. Called with the lock held. */
static size_t take_batch(struct publish_batcher *b, struct publish_job **jobs)
{
    size_t n = 0, bytes = 0;
    while (b->head != NULL && n < b->max_batch && (n == 0 || bytes < BATCH_MAX_BYTES)) {
        struct publish_job *job = b->head;
        b->head = job->next;
        if (b->head == NULL)
            b->tail = NULL;
        job->next = NULL;
        bytes += strlen(job->item.data_json);
        jobs[n++] = job;
    }
    return n;
}

/* Publishes jobs one statement each: after a batch failed as a whole, so
 * that every job learns its own outcome. */
static void publish_one_by_one(struct db_conn *conn, struct publish_job **jobs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct publish_item *it = &jobs[i]->item;
        hk_error_clear(&it->err);
        if (db_events_publish(conn, it->tenant_id, it->event_id, it->type, it->data_json,
                              it->version, it->idempotency_key, &it->out, &it->err) != 0 &&
            it->err.code == HK_OK)
            hk_error_set(&it->err, HK_ERR_INTERNAL, "publish failed");
    }
}

static void publish_batch(struct publish_batcher *b, struct publish_job **jobs, size_t n,
                          struct publish_item *items)
{
    struct hk_error err;
    hk_error_clear(&err);
    struct db_conn *conn = db_pool_acquire(b->pool, b->acquire_timeout_ms, &err);
    if (conn != NULL) {
        for (size_t i = 0; i < n; i++)
            items[i] = jobs[i]->item;
        if (db_events_publish_batch(conn, items, n, &err) == 0) {
            for (size_t i = 0; i < n; i++)
                jobs[i]->item = items[i];
        } else if (err.code != HK_ERR_UNAVAILABLE) {
            log_warn("publish batch of %zu failed (%s); publishing them one by one", n,
                     err.detail);
            publish_one_by_one(conn, jobs, n);
        }
        db_pool_release(b->pool, conn);
    }
    if (err.code == HK_ERR_UNAVAILABLE) {
        for (size_t i = 0; i < n; i++)
            jobs[i]->item.err = err;
    }
}

static void *batcher_thread(void *arg)
{
    struct publish_batcher *b = arg;
    struct publish_job **jobs = xcalloc(b->max_batch, sizeof(struct publish_job *));
    struct publish_item *items = xcalloc(b->max_batch, sizeof(*items));
    pthread_mutex_lock(&b->mu);
    for (;;) {
        while (b->head == NULL && !b->stopping)
            pthread_cond_wait(&b->cv, &b->mu);
        size_t n = take_batch(b, jobs);
        if (n == 0)
            break; /* stopping, and nothing left */
        pthread_mutex_unlock(&b->mu);
        publish_batch(b, jobs, n, items);
        for (size_t i = 0; i < n; i++)
            jobs[i]->done(jobs[i]);
        pthread_mutex_lock(&b->mu);
    }
    pthread_mutex_unlock(&b->mu);
    free(items);
    free(jobs);
    return NULL;
}

struct publish_batcher *publish_batcher_start(struct db_pool *pool, long acquire_timeout_ms,
                                              size_t threads, size_t max_batch,
                                              struct hk_error *err)
{
    struct publish_batcher *b = xcalloc(1, sizeof(*b));
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
    b->pool = pool;
    b->acquire_timeout_ms = acquire_timeout_ms;
    b->max_batch = max_batch > 0 ? max_batch : 1;
    b->threads = xcalloc(threads, sizeof(*b->threads));
    for (size_t i = 0; i < threads; i++) {
        if (pthread_create(&b->threads[i], NULL, batcher_thread, b) != 0)
            break;
        b->n_threads++;
    }
    if (b->n_threads == 0) {
        hk_error_set(err, HK_ERR_INTERNAL, "cannot start publish threads");
        publish_batcher_free(b);
        return NULL;
    }
    return b;
}

void publish_batcher_submit(struct publish_batcher *b, struct publish_job *job)
{
    pthread_mutex_lock(&b->mu);
    if (b->stopping) {
        pthread_mutex_unlock(&b->mu);
        struct publish_item item;
        publish_batch(b, &job, 1, &item);
        job->done(job);
        return;
    }
    job->next = NULL;
    if (b->tail != NULL)
        b->tail->next = job;
    else
        b->head = job;
    b->tail = job;
    pthread_cond_signal(&b->cv);
    pthread_mutex_unlock(&b->mu);
}

void publish_batcher_stop(struct publish_batcher *b)
{
    if (b == NULL || b->joined)
        return;
    pthread_mutex_lock(&b->mu);
    b->stopping = true;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
    for (size_t i = 0; i < b->n_threads; i++)
        pthread_join(b->threads[i], NULL);
    b->joined = true;
}

void publish_batcher_free(struct publish_batcher *b)
{
    if (b == NULL)
        return;
    publish_batcher_stop(b);
    pthread_cond_destroy(&b->cv);
    pthread_mutex_destroy(&b->mu);
    free(b->threads);
    free(b);
}
