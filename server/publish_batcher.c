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

/* Gives every job the same error. */
static void fail_all(struct publish_job **jobs, size_t n, const struct hk_error *err)
{
    for (size_t i = 0; i < n; i++)
        jobs[i]->item.err = *err;
}

/* After the statement for jobs failed as a whole (err): they all get the
 * error when the database cannot be reached, else each is published on its
 * own to learn its outcome. */
static void statement_failed(struct publish_batcher *b, struct db_conn *conn,
                         struct publish_job **jobs, size_t n, const struct hk_error *err)
{
    if (err->code == HK_ERR_UNAVAILABLE) {
        fail_all(jobs, n, err);
        return;
    }
    log_warn("publish batch of %zu failed (%s); publishing them one by one", n, err->detail);
    publish_one_by_one(conn, jobs, n);
    note_types(b, jobs, n);
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
    if (rc != 0) {
        statement_failed(b, conn, jobs, n, &err);
        return;
    }
    for (size_t i = 0; i < n; i++)
        jobs[i]->item = items[i];
    note_types(b, jobs, n);
}

/* Sorts jobs[0..n) into those for the plain insert and the others,
 * refusing a bad version of the former at once. Returns how many went to
 * plain; *n_other gets the others'. */
static size_t sort_jobs(struct publish_batcher *b, struct publish_job **jobs, size_t n,
                        struct publish_job **plain, struct publish_job **other, size_t *n_other)
{
    size_t n_plain = 0;
    *n_other = 0;
    for (size_t i = 0; i < n; i++) {
        struct publish_item *it = &jobs[i]->item;
        hk_error_clear(&it->err);
        if (!plain_insert_will_do(b, it))
            other[(*n_other)++] = jobs[i];
        else if (it->version != NULL && !event_version_valid(it->version))
            hk_error_field(&it->err, HK_ERR_INVALID, "version"); /* as hookd.publish refuses it */
        else
            plain[n_plain++] = jobs[i];
    }
    return n_plain;
}

/* Calls every job's done callback; the jobs are the owners' again. */
static void answer(struct publish_job **jobs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        jobs[i]->done(jobs[i]);
}

/* Publishes jobs[0..n) and fills each one's outcome, on *conn (borrowed
 * from the pool first when NULL, and given back when it broke).
 * answered[0..*n_answered) are jobs of the previous batch, published but
 * not answered yet: they are answered here (and *n_answered set to 0)
 * while the database runs this batch's plain insert, or first of all when
 * there is none. plain and other are scratch room for n jobs each, items
 * for n items. */
static void publish_batch(struct publish_batcher *b, struct db_conn **conn,
                          struct publish_job **jobs, size_t n, struct publish_job **plain,
                          struct publish_job **other, struct publish_item *items,
                          struct publish_job **answered, size_t *n_answered)
{
    struct hk_error err;
    hk_error_clear(&err);
    size_t n_other;
    size_t n_plain = sort_jobs(b, jobs, n, plain, other, &n_other);
    if (n_other > 0 || n_plain == 0 || *conn == NULL) {
        /* nothing to work beside: the previous batch's answers go first */
        answer(answered, *n_answered);
        *n_answered = 0;
    }
    if (n_plain + n_other == 0)
        return;
    if (*conn == NULL && (*conn = db_pool_acquire(b->pool, b->acquire_timeout_ms, &err)) == NULL) {
        fail_all(plain, n_plain, &err);
        fail_all(other, n_other, &err);
        return;
    }
    if (n_other > 0 || *n_answered == 0) {
        publish_group(b, *conn, true, plain, n_plain, items);
        publish_group(b, *conn, false, other, n_other, items);
    } else {
        /* The connection served the previous batch: it is not one that
         * may have died while idle in the pool (db_query's reconnect). */
        for (size_t i = 0; i < n_plain; i++)
            items[i] = plain[i]->item;
        struct events_insert ins;
        int sent = db_events_insert_batch_send(*conn, items, n_plain, clock_wall_ms(), &ins,
                                               &err);
        answer(answered, *n_answered);
        *n_answered = 0;
        if (sent == 0 && db_events_insert_batch_finish(*conn, &ins, items, &err) == 0) {
            for (size_t i = 0; i < n_plain; i++)
                plain[i]->item = items[i];
            note_types(b, plain, n_plain);
        } else {
            statement_failed(b, *conn, plain, n_plain, &err);
        }
    }
    if (PQstatus((*conn)->pg) != CONNECTION_OK) {
        db_pool_release(b->pool, *conn); /* closes it */
        *conn = NULL;
    }
}

/* DESIGN: one or more threads each take what is queued (a batch), publish
 * it and answer it. While more publishes are queued, a thread keeps its
 * connection, and a batch's answers wait until the next batch is sent:
 * they are written while the database runs it, instead of the database
 * waiting for them. With nothing queued, the answers go out at once and
 * the connection back to the pool. */
static void *batcher_thread(void *arg)
{
    struct publish_batcher *b = arg;
    struct publish_job **jobs = xcalloc(b->max_batch, sizeof(struct publish_job *));
    struct publish_job **answered = xcalloc(b->max_batch, sizeof(struct publish_job *));
    struct publish_job **plain = xcalloc(b->max_batch, sizeof(struct publish_job *));
    struct publish_job **other = xcalloc(b->max_batch, sizeof(struct publish_job *));
    struct publish_item *items = xcalloc(b->max_batch, sizeof(*items));
    size_t n_answered = 0;
    struct db_conn *conn = NULL;
    pthread_mutex_lock(&b->mu);
    for (;;) {
        if (b->head == NULL && (n_answered > 0 || conn != NULL)) {
            pthread_mutex_unlock(&b->mu);
            answer(answered, n_answered); /* nothing else to do first */
            n_answered = 0;
            db_pool_release(b->pool, conn);
            conn = NULL;
            pthread_mutex_lock(&b->mu);
            continue;
        }
        while (b->head == NULL && !b->stopping)
            pthread_cond_wait(&b->cv, &b->mu);
        size_t n = take_batch(b, jobs);
        if (n == 0)
            break; /* stopping, and nothing left */
        pthread_mutex_unlock(&b->mu);
        publish_batch(b, &conn, jobs, n, plain, other, items, answered, &n_answered);
        struct publish_job **published = jobs;
        jobs = answered;
        answered = published;
        n_answered = n;
        pthread_mutex_lock(&b->mu);
    }
    pthread_mutex_unlock(&b->mu);
    free(items);
    free(other);
    free(plain);
    free(answered);
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
        struct publish_job *plain, *other, *answered = NULL;
        struct publish_item item;
        size_t n_answered = 0;
        struct db_conn *conn = NULL;
        publish_batch(b, &conn, &job, 1, &plain, &other, &item, &answered, &n_answered);
        db_pool_release(b->pool, conn);
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
