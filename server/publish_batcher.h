/* publish_batcher.h - group commit for POST /events.
 *
 * Each publish request queues a job; a few threads each take everything
 * queued (up to a batch limit), publish it with one statement and so one
 * commit, and hand every job its own outcome. Under load many publishes
 * share one WAL flush; alone, a publish is taken at once and waits for
 * nothing. Nothing is answered before its commit.
 *
 * A batch's publishes of event types the catalog held when last seen (the
 * batcher remembers them), without an Idempotency-Key, need nothing from
 * the database but their rows: their version is checked here and their
 * text built here (event_body.h), and they are stored with one plain
 * insert (db_events_insert_batch). The others go through
 * hookd.publish_batch, which checks the type, looks the key up and builds
 * the text in SQL; an unknown type is asked about every time, so a type
 * created after start is taken at once. A plain insert that fails as a
 * whole (a remembered type removed from the catalog) is published again one
 * event at a time, which refuses the gone type and forgets it. */
#ifndef HOOKD_PUBLISH_BATCHER_H
#define HOOKD_PUBLISH_BATCHER_H

#include <stddef.h>

#include "db.h"
#include "db_events.h"

struct publish_job;
typedef void (*publish_done_fn)(struct publish_job *job);

struct publish_job {
    struct publish_item item;   /* inputs borrowed until done; out owned by the job's owner */
    publish_done_fn done;       /* called once, on a batcher thread, with item filled */
    void *ctx;                  /* the owner's */
    struct publish_job *next;   /* the batcher's */
};

struct publish_batcher;

/* Starts threads that borrow connections from pool (waiting up to
 * acquire_timeout_ms); batches hold at most max_batch jobs. */
struct publish_batcher *publish_batcher_start(struct db_pool *pool, long acquire_timeout_ms,
                                              size_t threads, size_t max_batch,
                                              struct hk_error *err);
/* Queues job; once the batcher is stopping, publishes it at once on the
 * calling thread instead. Either way job->done is called exactly once. */
void publish_batcher_submit(struct publish_batcher *b, struct publish_job *job);
/* Publishes every queued job and joins the threads; jobs submitted from now
 * on are published on the submitting thread. Valid until
 * publish_batcher_free. */
void publish_batcher_stop(struct publish_batcher *b);
/* Stops the batcher if needed and frees it; nothing may submit any more. */
void publish_batcher_free(struct publish_batcher *b);

#endif
