/* task_pool.c - a FIFO of jobs behind one mutex, drained by a fixed set of
 * threads. */
#include "task_pool.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "xmalloc.h"

struct task {
    struct task *next;
    task_fn fn;
    void *arg;
};

struct task_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct task *head, *tail;
    bool stopping;
    bool joined;
    pthread_t *threads;
    size_t n_threads;
};

static void *task_thread(void *arg)
{
    struct task_pool *tp = arg;
    pthread_mutex_lock(&tp->mu);
    for (;;) {
        while (tp->head == NULL && !tp->stopping)
            pthread_cond_wait(&tp->cv, &tp->mu);
        struct task *t = tp->head;
        if (t == NULL)
            break; /* stopping, and nothing left to run */
        tp->head = t->next;
        if (tp->head == NULL)
            tp->tail = NULL;
        pthread_mutex_unlock(&tp->mu);
        t->fn(t->arg);
        free(t);
        pthread_mutex_lock(&tp->mu);
    }
    pthread_mutex_unlock(&tp->mu);
    return NULL;
}

struct task_pool *task_pool_start(size_t threads, struct hk_error *err)
{
    struct task_pool *tp = xcalloc(1, sizeof(*tp));
    pthread_mutex_init(&tp->mu, NULL);
    pthread_cond_init(&tp->cv, NULL);
    tp->threads = xcalloc(threads, sizeof(*tp->threads));
    for (size_t i = 0; i < threads; i++) {
        if (pthread_create(&tp->threads[i], NULL, task_thread, tp) != 0)
            break;
        tp->n_threads++;
    }
    if (tp->n_threads == 0) {
        hk_error_set(err, HK_ERR_INTERNAL, "cannot start task threads");
        task_pool_free(tp);
        return NULL;
    }
    return tp;
}

void task_pool_submit(struct task_pool *tp, task_fn fn, void *arg)
{
    pthread_mutex_lock(&tp->mu);
    if (tp->stopping) {
        pthread_mutex_unlock(&tp->mu);
        fn(arg);
        return;
    }
    struct task *t = xcalloc(1, sizeof(*t));
    t->fn = fn;
    t->arg = arg;
    if (tp->tail != NULL)
        tp->tail->next = t;
    else
        tp->head = t;
    tp->tail = t;
    pthread_cond_signal(&tp->cv);
    pthread_mutex_unlock(&tp->mu);
}

void task_pool_stop(struct task_pool *tp)
{
    if (tp == NULL || tp->joined)
        return;
    pthread_mutex_lock(&tp->mu);
    tp->stopping = true;
    pthread_cond_broadcast(&tp->cv);
    pthread_mutex_unlock(&tp->mu);
    for (size_t i = 0; i < tp->n_threads; i++)
        pthread_join(tp->threads[i], NULL);
    tp->joined = true;
    /* Only reachable with jobs left when no thread ever started. */
    while (tp->head != NULL) {
        struct task *t = tp->head;
        tp->head = t->next;
        t->fn(t->arg);
        free(t);
    }
}

void task_pool_free(struct task_pool *tp)
{
    if (tp == NULL)
        return;
    task_pool_stop(tp);
    pthread_cond_destroy(&tp->cv);
    pthread_mutex_destroy(&tp->mu);
    free(tp->threads);
    free(tp);
}
