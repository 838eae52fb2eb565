/* db.c - PostgreSQL connections, lazy prepared statements, and the pool. */
#include "db.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "xmalloc.h"

/* PostgreSQL notices (e.g. "schema already exists, skipping") are not
 * errors; they go to the debug log instead of stderr. */
static void on_notice(void *arg, const char *message)
{
    (void)arg;
    log_debug("postgres: %.*s", (int)strcspn(message, "\n"), message);
}

struct db_conn *db_connect(const char *url, struct hk_error *err)
{
    /* Bounded waits on a database that is gone or unreachable: connecting
     * gives up after 5 s, and TCP keepalives and the user timeout notice a
     * dead peer within about 10 s instead of the kernel's minutes. */
    const char *keys[] = { "dbname", "connect_timeout", "application_name", "keepalives",
                           "keepalives_idle", "keepalives_interval", "keepalives_count",
                           "tcp_user_timeout", NULL };
    const char *values[] = { url, "5", "hookd", "1", "5", "2", "3", "10000", NULL };
    PGconn *pg = PQconnectdbParams(keys, values, 1);
    if (pg == NULL || PQstatus(pg) != CONNECTION_OK) {
        const char *msg = pg ? PQerrorMessage(pg) : "out of memory";
        hk_error_set(err, HK_ERR_UNAVAILABLE, "cannot connect to PostgreSQL: %.*s",
                     (int)strcspn(msg, "\n"), msg);
        PQfinish(pg);
        return NULL;
    }
    PQsetNoticeProcessor(pg, on_notice, NULL);
    struct db_conn *conn = xcalloc(1, sizeof(*conn));
    conn->pg = pg;
    return conn;
}

void db_close(struct db_conn *conn)
{
    if (conn == NULL)
        return;
    PQfinish(conn->pg);
    free(conn);
}

/* Fills err from a failed result (or a dead connection when res is NULL). */
static void fail_from(struct db_conn *conn, PGresult *res, const char *what, struct hk_error *err)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    snprintf(conn->sqlstate, sizeof(conn->sqlstate), "%s", state ? state : "");
    const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(conn->pg);
    bool unreachable = PQstatus(conn->pg) != CONNECTION_OK || strncmp(conn->sqlstate, "08", 2) == 0 ||
                       strcmp(conn->sqlstate, "57P01") == 0 || strcmp(conn->sqlstate, "57P03") == 0;
    hk_error_set(err, unreachable ? HK_ERR_UNAVAILABLE : HK_ERR_INTERNAL, "%s: %.*s", what,
                 (int)strcspn(msg, "\n"), msg);
}

static int ensure_prepared(struct db_conn *conn, const struct db_stmt *stmt, struct hk_error *err)
{
    for (size_t i = 0; i < conn->n_prepared; i++) {
        if (conn->prepared[i] == stmt)
            return 0;
    }
    PGresult *res = PQprepare(conn->pg, stmt->name, stmt->sql, stmt->nparams, NULL);
    if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
        fail_from(conn, res, stmt->name, err);
        PQclear(res);
        return -1;
    }
    PQclear(res);
    if (conn->n_prepared < DB_MAX_PREPARED)
        conn->prepared[conn->n_prepared++] = stmt;
    else
        abort(); /* raise DB_MAX_PREPARED: more statements than slots */
    return 0;
}

/* A connection that died while it sat idle (the server restarted) fails
 * its first statement before anything runs; it is safe to reconnect and
 * run that statement again, once. */
static bool reconnect_stale(struct db_conn *conn)
{
    if (!conn->fresh || PQstatus(conn->pg) == CONNECTION_OK)
        return false;
    conn->fresh = false;
    PQreset(conn->pg);
    conn->n_prepared = 0;
    if (PQstatus(conn->pg) != CONNECTION_OK)
        return false;
    log_info("reconnected to PostgreSQL");
    return true;
}

PGresult *db_query(struct db_conn *conn, const struct db_stmt *stmt, const char *const *values,
                   struct hk_error *err)
{
    return db_query_binary(conn, stmt, values, NULL, NULL, err);
}

PGresult *db_query_binary(struct db_conn *conn, const struct db_stmt *stmt,
                          const char *const *values, const int *lengths, const int *formats,
                          struct hk_error *err)
{
    for (;;) {
        conn->sqlstate[0] = '\0';
        PGresult *res = NULL;
        if (ensure_prepared(conn, stmt, err) == 0)
            res = PQexecPrepared(conn->pg, stmt->name, stmt->nparams, values, lengths, formats, 0);
        else if (reconnect_stale(conn))
            continue;
        else
            return NULL;
        ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
        if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
            conn->fresh = false;
            return res;
        }
        if (reconnect_stale(conn)) {
            PQclear(res);
            continue;
        }
        fail_from(conn, res, stmt->name, err);
        PQclear(res);
        return NULL;
    }
}

int db_send(struct db_conn *conn, const struct db_stmt *stmt, const char *const *values,
            struct hk_error *err)
{
    return db_send_binary(conn, stmt, values, NULL, NULL, err);
}

int db_send_binary(struct db_conn *conn, const struct db_stmt *stmt, const char *const *values,
                   const int *lengths, const int *formats, struct hk_error *err)
{
    conn->sqlstate[0] = '\0';
    if (ensure_prepared(conn, stmt, err) != 0)
        return -1;
    if (PQsendQueryPrepared(conn->pg, stmt->name, stmt->nparams, values, lengths, formats, 0) !=
        1) {
        fail_from(conn, NULL, stmt->name, err);
        return -1;
    }
    conn->sent = stmt;
    return 0;
}

int db_receive(struct db_conn *conn, bool wait, PGresult **out, struct hk_error *err)
{
    *out = NULL;
    const char *what = conn->sent ? conn->sent->name : "query";
    if (!wait) {
        if (PQconsumeInput(conn->pg) != 1) {
            fail_from(conn, NULL, what, err);
            conn->sent = NULL;
            return -1;
        }
        if (PQisBusy(conn->pg))
            return 0;
    }
    /* One result for the one statement sent, then NULL. */
    PGresult *res = PQgetResult(conn->pg);
    for (PGresult *more; (more = PQgetResult(conn->pg)) != NULL;)
        PQclear(more);
    conn->sent = NULL;
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        fail_from(conn, res, what, err);
        PQclear(res);
        return -1;
    }
    *out = res;
    return 1;
}

int db_exec(struct db_conn *conn, const struct db_stmt *stmt, const char *const *values,
            struct hk_error *err)
{
    PGresult *res = db_query(conn, stmt, values, err);
    if (res == NULL)
        return -1;
    PQclear(res);
    return 0;
}

int db_exec_script(struct db_conn *conn, const char *sql, struct hk_error *err)
{
    conn->sqlstate[0] = '\0';
    PGresult *res = PQexec(conn->pg, sql);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        fail_from(conn, res, "script", err);
        PQclear(res);
        return -1;
    }
    PQclear(res);
    return 0;
}

bool db_sqlstate_is(const struct db_conn *conn, const char *sqlstate)
{
    return strcmp(conn->sqlstate, sqlstate) == 0;
}

void db_pool_init(struct db_pool *pool, const char *url, size_t size)
{
    pthread_mutex_init(&pool->mu, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&pool->cv, &attr);
    pthread_condattr_destroy(&attr);
    pool->url = xstrdup(url);
    pool->idle = xcalloc(size, sizeof(struct db_conn *));
    pool->n_idle = 0;
    pool->n_open = 0;
    pool->size = size;
}

struct db_conn *db_pool_acquire(struct db_pool *pool, long timeout_ms, struct hk_error *err)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }

    pthread_mutex_lock(&pool->mu);
    for (;;) {
        if (pool->n_idle > 0) {
            struct db_conn *conn = pool->idle[--pool->n_idle];
            pthread_mutex_unlock(&pool->mu);
            conn->fresh = true;
            return conn;
        }
        if (pool->n_open < pool->size) {
            pool->n_open++;
            pthread_mutex_unlock(&pool->mu);
            struct db_conn *conn = db_connect(pool->url, err);
            if (conn == NULL) {
                pthread_mutex_lock(&pool->mu);
                pool->n_open--;
                pthread_cond_signal(&pool->cv);
                pthread_mutex_unlock(&pool->mu);
                log_warn("database connection failed: %s", err->detail);
            }
            return conn;
        }
        if (pthread_cond_timedwait(&pool->cv, &pool->mu, &deadline) == ETIMEDOUT) {
            pthread_mutex_unlock(&pool->mu);
            hk_error_set(err, HK_ERR_UNAVAILABLE, "no free database connection after %ld ms",
                         timeout_ms);
            return NULL;
        }
    }
}

void db_pool_release(struct db_pool *pool, struct db_conn *conn)
{
    if (conn == NULL)
        return;
    bool healthy = PQstatus(conn->pg) == CONNECTION_OK;
    if (healthy && PQtransactionStatus(conn->pg) != PQTRANS_IDLE) {
        PGresult *res = PQexec(conn->pg, "ROLLBACK");
        healthy = res && PQresultStatus(res) == PGRES_COMMAND_OK &&
                  PQtransactionStatus(conn->pg) == PQTRANS_IDLE;
        PQclear(res);
    }
    pthread_mutex_lock(&pool->mu);
    if (healthy) {
        pool->idle[pool->n_idle++] = conn;
    } else {
        pool->n_open--;
    }
    pthread_cond_signal(&pool->cv);
    pthread_mutex_unlock(&pool->mu);
    if (!healthy)
        db_close(conn);
}

void db_pool_usage(struct db_pool *pool, size_t *in_use, size_t *size)
{
    pthread_mutex_lock(&pool->mu);
    *in_use = pool->n_open - pool->n_idle;
    *size = pool->size;
    pthread_mutex_unlock(&pool->mu);
}

void db_pool_destroy(struct db_pool *pool)
{
    for (size_t i = 0; i < pool->n_idle; i++)
        db_close(pool->idle[i]);
    free(pool->idle);
    free(pool->url);
    pthread_cond_destroy(&pool->cv);
    pthread_mutex_destroy(&pool->mu);
}
