/* migrate.c - ordered, recorded, advisory-locked schema migrations, then
 * the function files whose text changed, all in one transaction. */
#include "migrate.h"

#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* Any constant works; this one spells "hookd" in ASCII. */
#define MIGRATE_LOCK_KEY "448311601508"

#define CHECKSUM_HEX_SIZE (crypto_hash_sha256_BYTES * 2 + 1)

static const struct db_stmt stmt_lock = {
    "migrate_lock", "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", 0
};
static const struct db_stmt stmt_unlock = {
    "migrate_unlock", "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")", 0
};
static const struct db_stmt stmt_applied = {
    "migrate_applied",
    "SELECT version, checksum FROM hookd.schema_migrations ORDER BY version", 0
};
static const struct db_stmt stmt_record = {
    "migrate_record",
    "INSERT INTO hookd.schema_migrations (version, name, checksum) VALUES ($1, $2, $3)", 3
};
static const struct db_stmt stmt_functions_applied = {
    "migrate_functions_applied", "SELECT name, checksum FROM hookd.schema_functions", 0
};
static const struct db_stmt stmt_function_record = {
    "migrate_function_record",
    "INSERT INTO hookd.schema_functions (name, checksum) VALUES ($1, $2)"
    " ON CONFLICT (name) DO UPDATE SET checksum = EXCLUDED.checksum, applied_at = now()",
    2
};
static const struct db_stmt stmt_has_table = {
    "migrate_has_table", "SELECT to_regclass('hookd.schema_migrations') IS NOT NULL", 0
};

/* The two record tables. A database migrated by a binary that had no
 * function files lacks schema_functions: it gets it here, empty, and every
 * function file is then applied once. */
static const char bootstrap_sql[] =
    "CREATE SCHEMA IF NOT EXISTS hookd;"
    "CREATE TABLE IF NOT EXISTS hookd.schema_migrations ("
    " version integer PRIMARY KEY,"
    " name text NOT NULL,"
    " checksum text NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now());"
    "CREATE TABLE IF NOT EXISTS hookd.schema_functions ("
    " name text PRIMARY KEY,"
    " checksum text NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now())";

static void checksum_hex(const char *sql, size_t len, char out[CHECKSUM_HEX_SIZE])
{
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, (const unsigned char *)sql, len);
    sodium_bin2hex(out, CHECKSUM_HEX_SIZE, digest, sizeof(digest));
}

/* Finds the checksum recorded for version in res, or NULL. */
static const char *recorded_migration(PGresult *res, int version)
{
    for (int i = 0; i < PQntuples(res); i++) {
        if (atoi(PQgetvalue(res, i, 0)) == version)
            return PQgetvalue(res, i, 1);
    }
    return NULL;
}

/* Whether function file f differs from the text last applied (recorded in
 * res); checksum gets its checksum. */
static bool function_changed(PGresult *res, const struct function_file *f,
                             char checksum[CHECKSUM_HEX_SIZE])
{
    checksum_hex(f->sql, f->len, checksum);
    for (int i = 0; i < PQntuples(res); i++) {
        if (strcmp(PQgetvalue(res, i, 0), f->name) == 0)
            return strcmp(PQgetvalue(res, i, 1), checksum) != 0;
    }
    return true;
}

/* Refuses a run in which an applied migration's text has changed. */
static int check_applied_unchanged(PGresult *done, struct hk_error *err)
{
    for (size_t i = 0; i < embedded_migrations_count; i++) {
        const struct migration *m = &embedded_migrations[i];
        const char *recorded = recorded_migration(done, m->version);
        char checksum[CHECKSUM_HEX_SIZE];
        checksum_hex(m->sql, m->len, checksum);
        if (recorded != NULL && strcmp(recorded, checksum) != 0) {
            hk_error_set(err, HK_ERR_INTERNAL,
                         "migration %s changed after it was applied; add a new migration instead",
                         m->name);
            return -1;
        }
    }
    return 0;
}

/* Prefixes err's detail with what was being applied. */
static void blame(struct hk_error *err, const char *what, const char *name)
{
    char detail[sizeof(err->detail)];
    snprintf(detail, sizeof(detail), "%s", err->detail);
    hk_error_set(err, err->code, "%s %s failed: %s", what, name, detail);
}

static int apply_migration(struct db_conn *conn, const struct migration *m,
                           struct hk_error *err)
{
    char version[16];
    char checksum[CHECKSUM_HEX_SIZE];
    snprintf(version, sizeof(version), "%d", m->version);
    checksum_hex(m->sql, m->len, checksum);
    const char *values[] = { version, m->name, checksum };
    if (db_exec_script(conn, m->sql, err) != 0 || db_exec(conn, &stmt_record, values, err) != 0) {
        blame(err, "migration", m->name);
        return -1;
    }
    log_info("applied migration %s", m->name);
    return 0;
}

static int apply_function(struct db_conn *conn, const struct function_file *f,
                          const char *checksum, struct hk_error *err)
{
    const char *values[] = { f->name, checksum };
    if (db_exec_script(conn, f->sql, err) != 0 ||
        db_exec(conn, &stmt_function_record, values, err) != 0) {
        char file[128];
        snprintf(file, sizeof(file), "db/functions/%s.sql", f->name);
        blame(err, "function file", file);
        return -1;
    }
    log_info("applied function file %s", f->name);
    return 0;
}

/* The run itself, inside the caller's transaction. */
static int apply_all(struct db_conn *conn, struct migrate_counts *applied,
                     migrate_progress_fn *progress, void *ctx, struct hk_error *err)
{
    int rc = -1;
    PGresult *done = NULL;
    PGresult *functions = NULL;
    char checksum[CHECKSUM_HEX_SIZE];
    if (db_exec_script(conn, bootstrap_sql, err) != 0)
        goto out;
    if ((done = db_query(conn, &stmt_applied, NULL, err)) == NULL ||
        (functions = db_query(conn, &stmt_functions_applied, NULL, err)) == NULL)
        goto out;
    if (check_applied_unchanged(done, err) != 0)
        goto out;

    int total = 0;
    for (size_t i = 0; i < embedded_migrations_count; i++)
        total += recorded_migration(done, embedded_migrations[i].version) == NULL;
    for (size_t i = 0; i < embedded_functions_count; i++)
        total += function_changed(functions, &embedded_functions[i], checksum);

    for (size_t i = 0; i < embedded_migrations_count; i++) {
        const struct migration *m = &embedded_migrations[i];
        if (recorded_migration(done, m->version) != NULL)
            continue;
        if (progress != NULL)
            progress(ctx, applied->migrations, total, m->name);
        if (apply_migration(conn, m, err) != 0)
            goto out;
        applied->migrations++;
    }
    for (size_t i = 0; i < embedded_functions_count; i++) {
        const struct function_file *f = &embedded_functions[i];
        if (!function_changed(functions, f, checksum))
            continue;
        if (progress != NULL) {
            char name[128];
            snprintf(name, sizeof(name), "functions/%s", f->name);
            progress(ctx, applied->migrations + applied->functions, total, name);
        }
        if (apply_function(conn, f, checksum, err) != 0)
            goto out;
        applied->functions++;
    }
    if (progress != NULL && total > 0)
        progress(ctx, total, total, NULL);
    rc = 0;
out:
    PQclear(done);
    PQclear(functions);
    return rc;
}

int migrate_run(struct db_conn *conn, struct migrate_counts *applied, struct hk_error *err)
{
    return migrate_run_reporting(conn, applied, NULL, NULL, err);
}

int migrate_run_reporting(struct db_conn *conn, struct migrate_counts *applied,
                          migrate_progress_fn *progress, void *ctx, struct hk_error *err)
{
    int rc = -1;
    *applied = (struct migrate_counts){ 0, 0 };
    if (db_exec(conn, &stmt_lock, NULL, err) != 0)
        return -1;
    if (db_exec_script(conn, "BEGIN", err) != 0)
        goto unlock;
    if (apply_all(conn, applied, progress, ctx, err) == 0 &&
        db_exec_script(conn, "COMMIT", err) == 0) {
        rc = 0;
        goto unlock;
    }
    /* Nothing of this run stays; the error that stopped it is the one to
     * report. */
    struct hk_error ignored;
    if (db_exec_script(conn, "ROLLBACK", &ignored) != 0)
        log_warn("rolling back the failed migration failed: %s", ignored.detail);
    *applied = (struct migrate_counts){ 0, 0 };
unlock:;
    struct hk_error unlock_err;
    if (db_exec(conn, &stmt_unlock, NULL, &unlock_err) != 0)
        log_warn("releasing the migration lock failed: %s", unlock_err.detail);
    return rc;
}

int migrate_pending(struct db_conn *conn, struct hk_error *err)
{
    PGresult *has = db_query(conn, &stmt_has_table, NULL, err);
    if (has == NULL)
        return -1;
    bool exists = PQgetvalue(has, 0, 0)[0] == 't';
    PQclear(has);
    if (!exists)
        return (int)embedded_migrations_count;
    PGresult *done = db_query(conn, &stmt_applied, NULL, err);
    if (done == NULL)
        return -1;
    int pending = 0;
    for (size_t i = 0; i < embedded_migrations_count; i++) {
        if (recorded_migration(done, embedded_migrations[i].version) == NULL)
            pending++;
    }
    PQclear(done);
    return pending;
}
