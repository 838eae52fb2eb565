/* db.h - PostgreSQL connections, prepared statements, and the small pool
 * the HTTP threads share.
 *
 * DESIGN: a struct db_conn is used by one thread at a time. HTTP handler
 * threads borrow one from the pool for the length of a request and return
 * it clean (idle, not in a transaction); a broken connection is closed on
 * release and replaced on a later acquire, so the pool heals by itself after
 * the database restarts. Statements are described once (struct db_stmt,
 * static in each db_* module) and prepared lazily on each connection the
 * first time it runs them. All SQL takes parameters; nothing is glued. */
#ifndef HOOKD_DB_H
#define HOOKD_DB_H

#include <libpq-fe.h>
#include <pthread.h>
#include <stdbool.h>

#include "error.h"

struct db_stmt {
    const char *name;
    const char *sql;
    int nparams;
};

#define DB_MAX_PREPARED 64

struct db_conn {
    PGconn *pg;
    const struct db_stmt *prepared[DB_MAX_PREPARED];
    size_t n_prepared;
    char sqlstate[6];          /* of the last failure, "" if none */
    bool fresh;                /* just taken from the pool's idle list: may be stale */
    const struct db_stmt *sent; /* sent with db_send, its result not read yet */
};

/* Opens a connection; NULL with err (HK_ERR_UNAVAILABLE) on failure. The
 * caller closes it with db_close. */
struct db_conn *db_connect(const char *url, struct hk_error *err);
void db_close(struct db_conn *conn);

/* Runs stmt with text parameters (a NULL value is SQL NULL). Returns the
 * result (caller PQclear()s it), or NULL with err filled and conn->sqlstate
 * set. err is HK_ERR_UNAVAILABLE when the database cannot be reached. */
PGresult *db_query(struct db_conn *conn, const struct db_stmt *stmt, const char *const *values,
                   struct hk_error *err) __attribute__((warn_unused_result));
/* db_query with some parameters in binary format: formats[i] 1 for binary
 * (values[i] holds lengths[i] bytes), 0 for text (lengths[i] ignored).
 * lengths and formats may be NULL: all text. */
PGresult *db_query_binary(struct db_conn *conn, const struct db_stmt *stmt,
                          const char *const *values, const int *lengths, const int *formats,
                          struct hk_error *err) __attribute__((warn_unused_result));
/* Runs stmt for its effect only. */
int db_exec(struct db_conn *conn, const struct db_stmt *stmt, const char *const *values,
            struct hk_error *err) __attribute__((warn_unused_result));
/* Sends stmt without waiting for its result (preparing it first, which
 * does wait, once per connection). Exactly one db_receive must follow
 * before anything else runs on conn. */
int db_send(struct db_conn *conn, const struct db_stmt *stmt, const char *const *values,
            struct hk_error *err) __attribute__((warn_unused_result));
/* db_send with parameters in the formats of db_query_binary. */
int db_send_binary(struct db_conn *conn, const struct db_stmt *stmt, const char *const *values,
                   const int *lengths, const int *formats, struct hk_error *err)
    __attribute__((warn_unused_result));
/* Reads the result of the statement db_send sent. Without wait, returns 0
 * at once when it has not arrived yet (poll PQsocket for input, then call
 * again); 1 with *out (caller PQclear()s it) when it has; -1 with err
 * filled (and conn->sqlstate) when the statement failed or the connection
 * broke. */
int db_receive(struct db_conn *conn, bool wait, PGresult **out, struct hk_error *err)
    __attribute__((warn_unused_result));
/* Runs a parameterless script (BEGIN, COMMIT, a migration file). */
int db_exec_script(struct db_conn *conn, const char *sql, struct hk_error *err)
    __attribute__((warn_unused_result));
bool db_sqlstate_is(const struct db_conn *conn, const char *sqlstate);

struct db_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char *url;
    struct db_conn **idle;
    size_t n_idle;
    size_t n_open;      /* idle + lent out + being opened */
    size_t size;
};

void db_pool_init(struct db_pool *pool, const char *url, size_t size);
/* Borrows a connection, waiting up to timeout_ms for one to be free. NULL
 * with err (HK_ERR_UNAVAILABLE) when none can be had. */
struct db_conn *db_pool_acquire(struct db_pool *pool, long timeout_ms, struct hk_error *err);
/* Returns a borrowed connection (NULL is ignored). */
void db_pool_release(struct db_pool *pool, struct db_conn *conn);
/* How many connections are lent out (or being opened) now, and the pool's
 * size: for /metrics. */
void db_pool_usage(struct db_pool *pool, size_t *in_use, size_t *size);
void db_pool_destroy(struct db_pool *pool);

#endif
