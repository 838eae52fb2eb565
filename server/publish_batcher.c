/* publish_batcher.c - a queue of publish jobs drained in batches. */
#include "publish_batcher.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "event_body.h"
#include "log.h"
#include "lru_cache.h"
#include "xmalloc.h"

/* A batch stops growing past this many bytes of event data. */
#define BATCH_MAX_BYTES ((size_t)8 * 1024 * 1024)
/* Room for the names of the event types seen in the catalog: thousands of
 * names of at most 128 bytes. */
#define KNOWN_TYPES_BYTES ((size_t)512 * 1024)

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
    struct lru_cache *known_types; /* names the catalog held when last published */
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

/* Remembers the types of jobs the catalog held (published or replayed),
 * and forgets those it refused as unknown. */
static void note_types(struct publish_batcher *b, struct publish_job **jobs, size_t n)
{
    static const char present = 1;
    for (size_t i = 0; i < n; i++) {
        const struct publish_item *it = &jobs[i]->item;
        if (it->err.code == HK_OK)
            lru_cache_put(b->known_types, it->type, strlen(it->type), &present, 1, 0);
        else if (it->err.code == HK_ERR_INVALID && strcmp(it->err.field, "type") == 0)
            lru_cache_remove(b->known_types, it->type, strlen(it->type));
    }
}

/* True when job can skip hookd.publish_batch: no idempotency key (nothing
 * to look up) and a type the catalog held when last seen. */
static bool plain_insert_will_do(struct publish_batcher *b, const struct publish_item *it)
{
    char present;
    return it->idempotency_key == NULL &&
           lru_cache_get_fixed(b->known_types, it->type, strlen(it->type), 0, &present, 1);
}

/* Runs one statement for jobs (copied through the scratch items): the
 * plain insert (plain true) or hookd.publish_batch. When it fails as a
 * whole, the jobs are published one by one, or all get the error when the
 * database cannot be reached. */
static void publish_group(struct publish_batcher *b, struct db_conn *conn, bool plain,
                          struct publish_job **jobs, size_t n, struct publish_item *items)
{
    if (n == 0)
        return;
    struct hk_error err;
    hk_error_clear(&err);
    for (size_t i = 0; i < n; i++)
        items[i] = jobs[i]->item;
    int rc = plain ? db_events_insert_batch(conn, items, n, clock_wall_ms(), &err)
                   : db_events_publish_batch(conn, items, n, &err);
    if (rc == 0) {
        for (size_t i = 0; i < n; i++)
            jobs[i]->item = items[i];
    } else if (err.code == HK_ERR_UNAVAILABLE) {
        for (size_t i = 0; i < n; i++)
            jobs[i]->item.err = err;
        return;
    } else {
        log_warn("publish batch of %zu failed (%s); publishing them one by one", n, err.detail);
        publish_one_by_one(conn, jobs, n);
    }
    note_types(b, jobs, n);
}

/* Publishes jobs[0..n) and fills each one's outcome. plain and other are
 * scratch room for n jobs each, items for n items. */
static void publish_batch(struct publish_batcher *b, struct publish_job **jobs, size_t n,
                          struct publish_job **plain, struct publish_job **other,
                          struct publish_item *items)
{
    struct hk_error err;
    hk_error_clear(&err);
    size_t n_plain = 0, n_other = 0;
    for (size_t i = 0; i < n; i++) {
        struct publish_item *it = &jobs[i]->item;
        hk_error_clear(&it->err);
        if (!plain_insert_will_do(b, it))
            other[n_other++] = jobs[i];
        else if (it->version != NULL && !event_version_valid(it->version))
            hk_error_field(&it->err, HK_ERR_INVALID, "version"); /* as hookd.publish refuses it */
        else
            plain[n_plain++] = jobs[i];
    }
    if (n_plain + n_other == 0)
        return;
    struct db_conn *conn = db_pool_acquire(b->pool, b->acquire_timeout_ms, &err);
    if (conn == NULL) {
        for (size_t i = 0; i < n_plain; i++)
            plain[i]->item.err = err;
        for (size_t i = 0; i < n_other; i++)
            other[i]->item.err = err;
        return;
    }
    publish_group(b, conn, true, plain, n_plain, items);
    publish_group(b, conn, false, other, n_other, items);
    db_pool_release(b->pool, conn);
}

static void *batcher_thread(void *arg)
{
    struct publish_batcher *b = arg;
    struct publish_job **jobs = xcalloc(b->max_batch, sizeof(struct publish_job *));
    struct publish_job **plain = xcalloc(b->max_batch, sizeof(struct publish_job *));
    struct publish_job **other = xcalloc(b->max_batch, sizeof(struct publish_job *));
    struct publish_item *items = xcalloc(b->max_batch, sizeof(*items));
    pthread_mutex_lock(&b->mu);
    for (;;) {
        while (b->head == NULL && !b->stopping)
            pthread_cond_wait(&b->cv, &b->mu);
        size_t n = take_batch(b, jobs);
        if (n == 0)
            break; /* stopping, and nothing left */
        pthread_mutex_unlock(&b->mu);
        publish_batch(b, jobs, n, plain, other, items);
        for (size_t i = 0; i < n; i++)
            jobs[i]->done(jobs[i]);
        pthread_mutex_lock(&b->mu);
    }
    pthread_mutex_unlock(&b->mu);
    free(items);
    free(other);
    free(plain);
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
    b->known_types = lru_cache_new(KNOWN_TYPES_BYTES);
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
        struct publish_job *plain, *other;
        struct publish_item item;
        publish_batch(b, &job, 1, &plain, &other, &item);
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
    lru_cache_free(b->known_types);
    free(b->threads);
    free(b);
}
