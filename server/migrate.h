/* migrate.h - brings a database's schema up to this binary: applies
 * db/migrations (compiled into the binary) in order, then re-applies every
 * db/functions file whose text changed.
 *
 * Migrations (tables, indexes, triggers, data) are append-only: each is
 * recorded with a checksum in hookd.schema_migrations, never re-run, and one
 * whose text changed after it was applied stops the run. Function files
 * hold the live definitions of hookd's SQL functions (CREATE OR REPLACE, so
 * applying one again is harmless); each is recorded with the checksum of
 * the text last applied in hookd.schema_functions and applied again when
 * this binary's text differs.
 *
 * One run is one transaction: the pending migrations, then the changed
 * function files, then their records. If anything fails, nothing of the run
 * stays (schema and records as before). A session-level advisory lock,
 * held around the transaction, makes concurrent starts safe: the second
 * process waits, then finds nothing left to do. */
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

/* One file of db/functions: name is the file name without ".sql". */
struct function_file {
    const char *name;
    const char *sql;
    size_t len;
};

/* Generated at build time by scripts/embed-migrations.sh, in file name
 * order (the order they are applied in). */
extern const struct migration embedded_migrations[];
extern const size_t embedded_migrations_count;
extern const struct function_file embedded_functions[];
extern const size_t embedded_functions_count;

/* What one run applied. */
struct migrate_counts {
    int migrations; /* pending migrations applied */
    int functions;  /* function files (re)applied because their text changed */
};

/* Applies what is missing or changed; *applied says what.
 * Returns 0 or -1 with err (and then nothing was applied). */
int migrate_run(struct db_conn *conn, struct migrate_counts *applied, struct hk_error *err)
    __attribute__((warn_unused_result));

/* Told before each migration or function file is applied (done of total to
 * apply in this run, and its name: "0001_initial", "functions/fan_out")
 * and once more after the last (name NULL): progress for a terminal. Runs
 * on the caller's thread. */
typedef void migrate_progress_fn(void *ctx, int done, int total, const char *name);

/* migrate_run, reporting progress to progress(ctx) (NULL: nobody). */
int migrate_run_reporting(struct db_conn *conn, struct migrate_counts *applied,
                          migrate_progress_fn *progress, void *ctx, struct hk_error *err)
    __attribute__((warn_unused_result));

/* Counts migrations not yet applied (0 = schema current). -1 on error.
 * Function files are not counted: while binaries of two versions share a
 * database (a rolling upgrade), the older one's files differ from the
 * recorded ones without anything being missing. */
int migrate_pending(struct db_conn *conn, struct hk_error *err);

#endif
