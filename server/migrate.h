/* migrate.h - applies db/migrations (compiled into the binary) in order.
 *
 * Each migration runs in its own transaction and is recorded with a
 * checksum in hookd.schema_migrations; applied migrations are never re-run,
 * and one whose text changed after it was applied stops the run (migrations
 * are append-only). A session-level advisory lock makes concurrent starts
 * safe: the second process waits, then finds nothing left to do. */
#ifndef HOOKD_MIGRATE_H
#define HOOKD_MIGRATE_H

#include <stddef.h>

#include "db.h"

struct migration {
    int version;
    const char *name;
    const char *sql;
    size_t len;
};

extern const struct migration embedded_migrations[];
extern const size_t embedded_migrations_count;

/* Applies what is missing; *applied gets how many were applied now.
 * Returns 0 or -1 with err. */
int migrate_run(struct db_conn *conn, int *applied, struct hk_error *err)
    __attribute__((warn_unused_result));

/* Told before each migration is applied (done of total pending so far,
 * and its name) and once more after the last (name NULL): progress for a
 * terminal. Runs on the caller's thread. */
typedef void migrate_progress_fn(void *ctx, int done, int total, const char *name);

/* migrate_run, reporting progress to progress(ctx) (NULL: nobody). */
int migrate_run_reporting(struct db_conn *conn, int *applied, migrate_progress_fn *progress,
                          void *ctx, struct hk_error *err) __attribute__((warn_unused_result));
/* Counts migrations not yet applied (0 = schema current). -1 on error. */
int migrate_pending(struct db_conn *conn, struct hk_error *err);

#endif
