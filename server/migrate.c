/* migrate.c - ordered, recorded, advisory-locked schema migrations. */
#include "migrate.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* Any constant works; this one spells "hookd" in ASCII. */
#define MIGRATE_LOCK_KEY "448311601508"

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
static const struct db_stmt stmt_has_table = {
    "migrate_has_table", "SELECT to_regclass('hookd.schema_migrations') IS NOT NULL", 0
};

static const char bootstrap_sql[] =
    "CREATE SCHEMA IF NOT EXISTS hookd;"
    "CREATE TABLE IF NOT EXISTS hookd.schema_migrations ("
    " version integer PRIMARY KEY,"
    " name text NOT NULL,"
    " checksum text NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now())";

static void checksum_hex(const struct migration *m, char out[crypto_hash_sha256_BYTES * 2 + 1])
{
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, (const unsigned char *)m->sql, m->len);
    sodium_bin2hex(out, crypto_hash_sha256_BYTES * 2 + 1, digest, sizeof(digest));
}

/* Finds the checksum recorded for version in res, or NULL. */
static const char *recorded_checksum(PGresult *res, int version)
{
    for (int i = 0; i < PQntuples(res); i++) {
        if (atoi(PQgetvalue(res, i, 0)) == version)
            return PQgetvalue(res, i, 1);
    }
    return NULL;
}

static int apply_one(struct db_conn *conn, const struct migration *m, const char *checksum,
                     struct hk_error *err)
{
    char version[16];
    snprintf(version, sizeof(version), "%d", m->version);
    const char *values[] = { version, m->name, checksum };
    if (db_exec_script(conn, "BEGIN", err) != 0)
        return -1;
    if (db_exec_script(conn, m->sql, err) != 0 || db_exec(conn, &stmt_record, values, err) != 0 ||
        db_exec_script(conn, "COMMIT", err) != 0) {
        struct hk_error ignored;
        int rc = db_exec_script(conn, "ROLLBACK", &ignored);
        (void)rc; /* the migration's own error is the one to report */
        char detail[sizeof(err->detail)];
        snprintf(detail, sizeof(detail), "%s", err->detail);
        hk_error_set(err, err->code, "migration %s failed: %s", m->name, detail);
        return -1;
    }
    return 0;
}

int migrate_run(struct db_conn *conn, int *applied, struct hk_error *err)
{
    return migrate_run_reporting(conn, applied, NULL, NULL, err);
}

int migrate_run_reporting(struct db_conn *conn, int *applied, migrate_progress_fn *progress,
                          void *ctx, struct hk_error *err)
{
    int rc = -1;
    PGresult *done = NULL;
    *applied = 0;
    if (db_exec(conn, &stmt_lock, NULL, err) != 0)
        return -1;
    if (db_exec_script(conn, bootstrap_sql, err) != 0)
        goto out;
    done = db_query(conn, &stmt_applied, NULL, err);
    if (done == NULL)
        goto out;
    int pending = 0;
    for (size_t i = 0; i < embedded_migrations_count; i++)
        pending += recorded_checksum(done, embedded_migrations[i].version) == NULL;
    for (size_t i = 0; i < embedded_migrations_count; i++) {
        const struct migration *m = &embedded_migrations[i];
        char checksum[crypto_hash_sha256_BYTES * 2 + 1];
        checksum_hex(m, checksum);
        const char *recorded = recorded_checksum(done, m->version);
        if (recorded != NULL) {
            if (strcmp(recorded, checksum) != 0) {
                hk_error_set(err, HK_ERR_INTERNAL,
                             "migration %s changed after it was applied; add a new migration instead",
                             m->name);
                goto out;
            }
            continue;
        }
        if (progress != NULL)
            progress(ctx, *applied, pending, m->name);
        if (apply_one(conn, m, checksum, err) != 0)
            goto out;
        log_info("applied migration %s", m->name);
        (*applied)++;
    }
    if (progress != NULL && pending > 0)
        progress(ctx, *applied, pending, NULL);
    rc = 0;
out:
    PQclear(done);
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
        if (recorded_checksum(done, embedded_migrations[i].version) == NULL)
            pending++;
    }
    PQclear(done);
    return pending;
}
