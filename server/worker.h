/* worker.h - the delivery worker pool.
 *
 * DESIGN: HOOKD_WORKERS threads, each owning two PostgreSQL connections (one
 * for claims and leases, one for attempt records), one libcurl multi
 * handle (driven by socket events: multi_driver.h) and the transfers running
 * on it; nothing of a worker is touched by another thread except through
 * multi_driver_wakeup(), which is thread-safe. A worker loops: claim deliveries up to
 * its free transfer slots (with a lease; the queue's due deliveries first,
 * then new events from the outbox, whose deliveries are inserted already
 * claimed), drive its transfers, write finished attempts in one batch per
 * loop, renew the leases of long transfers, and sleep in multi_driver_wait()
 * until a transfer needs it, the next claim is due, or the notifier wakes
 * it. It claims when requests have ended (their slots can be refilled), new
 * events were published, or the time the last claim set has come (at once
 * after a full claim, soon when limits or other workers held work back,
 * else the poll interval). Claims and records are sent without waiting
 * (libpq's asynchronous calls) and their answers read when they come, so
 * the requests keep running during every database round trip; a failed
 * attempt is recorded, and waited for, before the next claim. A claim may
 * take a healthy endpoint's deliveries ahead of its cap (up to three
 * times it in all, when no other worker has any of them): they wait in the worker's send
 * queue (send_queue.h), which starts the next one the moment one of that
 * endpoint's requests ends, so its slots are not idle for a claim's round
 * trip; after a failure they go back to the queue in the database. The notifier thread LISTENs on hookd_pending
 * (NOTIFY'd by every publish) and wakes every worker, so a new event is
 * picked up within milliseconds. A slow receiver holds one transfer slot,
 * never a thread.
 *
 * Stopping: workers stop claiming, let running transfers finish until the
 * shutdown deadline, record what finished, release the leases of the rest
 * (due again at once, for any worker), and exit; then the pool joins the
 * notifier and the workers and frees their handles. */
#ifndef HOOKD_WORKER_H
#define HOOKD_WORKER_H

#include "config.h"
#include "error.h"

struct worker_pool;

/* Starts cfg->workers worker threads and the notifier. NULL with err when
 * the retry schedule is invalid. cfg must outlive the pool. */
struct worker_pool *worker_pool_start(const struct config *cfg, struct hk_error *err);
/* Graceful stop as described above; frees the pool. */
void worker_pool_stop(struct worker_pool *pool);

#endif
