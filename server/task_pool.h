/* task_pool.h - a few threads that run queued jobs in order of arrival.
 *
 * The HTTP threads hand it requests whose handlers wait on the network
 * (the subscribe test POST), so that a slow receiver holds one of these
 * threads rather than an HTTP thread. Jobs own nothing of the pool; the pool
 * never frees a job's argument. */
#ifndef HOOKD_TASK_POOL_H
#define HOOKD_TASK_POOL_H

#include <stddef.h>

#include "error.h"

typedef void (*task_fn)(void *arg);

struct task_pool;

/* Starts threads; NULL with err when none can be started. */
struct task_pool *task_pool_start(size_t threads, struct hk_error *err);
/* Queues fn(arg); once the pool is stopping, runs it at once on the calling
 * thread instead. */
void task_pool_submit(struct task_pool *tp, task_fn fn, void *arg);
/* Runs every queued job and joins the threads; jobs submitted from now on
 * run on the submitting thread. The pool stays valid until task_pool_free. */
void task_pool_stop(struct task_pool *tp);
/* Stops the pool if needed and frees it; nothing may submit any more. */
void task_pool_free(struct task_pool *tp);

#endif
