/* test_task_pool.c - protects task_pool.c, the threads that run the
 * handlers which call out: every queued job runs exactly once, one thread
 * runs them in order of arrival, several threads run them at once, and
 * stopping runs what is still queued before it returns. */
#include "rows.h"

#include <pthread.h>
#include <unistd.h>

#include "task_pool.h"

struct log {
    pthread_mutex_t mu;
    int order[1000];
    int n;
    int running, max_running;
};

struct job {
    struct log *log;
    int id;
    useconds_t sleep_us;
};

static void run_job(void *arg)
{
    struct job *j = arg;
    pthread_mutex_lock(&j->log->mu);
    if (++j->log->running > j->log->max_running)
        j->log->max_running = j->log->running;
    pthread_mutex_unlock(&j->log->mu);
    if (j->sleep_us > 0)
        usleep(j->sleep_us);
    pthread_mutex_lock(&j->log->mu);
    j->log->running--;
    j->log->order[j->log->n++] = j->id;
    pthread_mutex_unlock(&j->log->mu);
}

static void run_jobs(size_t threads, int n, useconds_t sleep_us, struct log *log)
{
    static struct job jobs[1000];
    struct hk_error err;
    pthread_mutex_init(&log->mu, NULL);
    struct task_pool *tp = task_pool_start(threads, &err);
    assert_non_null(tp);
    for (int i = 0; i < n; i++) {
        jobs[i] = (struct job){ log, i, sleep_us };
        task_pool_submit(tp, run_job, &jobs[i]);
    }
    task_pool_stop(tp); /* returns once every job has run */
    task_pool_free(tp);
    pthread_mutex_destroy(&log->mu);
}

static void test_one_thread_keeps_order(void **state)
{
    (void)state;
    struct log log = { 0 };
    run_jobs(1, 1000, 0, &log);
    assert_int_equal(log.n, 1000);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(log.order[i], i);
    assert_int_equal(log.max_running, 1);
}

static void test_threads_run_jobs_at_once(void **state)
{
    (void)state;
    struct log log = { 0 };
    run_jobs(4, 8, 50000, &log);
    assert_int_equal(log.n, 8);
    int seen[8] = { 0 };
    for (int i = 0; i < 8; i++)
        seen[log.order[i]]++;
    for (int i = 0; i < 8; i++)
        assert_int_equal(seen[i], 1);
    assert_true(log.max_running > 1);
    assert_true(log.max_running <= 4);
}

static void test_stop_with_nothing_queued(void **state)
{
    (void)state;
    struct hk_error err;
    struct task_pool *tp = task_pool_start(3, &err);
    assert_non_null(tp);
    task_pool_stop(tp);
    task_pool_stop(tp); /* twice is harmless */
    task_pool_free(tp);
    task_pool_free(NULL);
}

int main(void)
{
    rows_add(test_one_thread_keeps_order, NULL, "one thread runs 1000 jobs in order");
    rows_add(test_threads_run_jobs_at_once, NULL, "four threads run jobs at once, each once");
    rows_add(test_stop_with_nothing_queued, NULL, "stop with nothing queued");
    return rows_run("task_pool", NULL, NULL);
}
