/* db_deliveries.c - fan-out, claims, leases and outcome records. */
#include "db_deliveries.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json_write.h"
#include "log.h"
#include "secrets.h"
#include "xmalloc.h"

/* The worker's loop (db/migrations/0007_worker_round.sql,
 * 0009_claim_beside_record.sql and 0010_set_based_worker.sql): claim (the
 * queue's due deliveries, then new events' deliveries born claimed), send,
 * then record. */
static const struct db_stmt stmt_record = {
    "deliveries_record",
    "SELECT hookd.record_attempts($1::json, $2::uuid, $3, $4), hookd.queue_rest($5, $6)", 6
};

static const struct db_stmt stmt_claim = {
    "deliveries_claim",
    "SELECT tenant_id, delivery_id, endpoint_id, event_id, attempt, url, body, secret_hex,"
    "       previous_secret_hex, signing_key_hex, endpoints_locked, busy, fanned_out,"
    "       send_limit, rest_waiting"
    "  FROM hookd.claim_deliveries($1::uuid, $2::bigint[], $3, $4, $5, $6, $7, $8, $9,"
    "                              $10::boolean)",
    10
};

static const struct db_stmt stmt_renew = {
    "deliveries_renew",
    "UPDATE hookd.deliveries d"
    "   SET lease_until = now() + $4::int * interval '1 second',"
    "       next_attempt_at = now() + $4::int * interval '1 second'"
    "  FROM unnest($2::bigint[], $3::bigint[]) AS k(tenant_id, id)"
    " WHERE d.tenant_id = k.tenant_id AND d.id = k.id AND d.claim_id = $1::uuid",
    4
};

static const struct db_stmt stmt_release = {
    "deliveries_release",
    "UPDATE hookd.deliveries d"
    "   SET state = 'pending', claim_id = NULL, lease_until = NULL, next_attempt_at = now(),"
    "       updated = now()"
    "  FROM unnest($2::bigint[], $3::bigint[]) AS k(tenant_id, id)"
    " WHERE d.tenant_id = k.tenant_id AND d.id = k.id AND d.claim_id = $1::uuid",
    3
};

static char *int_array(const int64_t *v, size_t n);

void db_deliveries_claim_id(char out[CLAIM_ID_LEN + 1])
{
    unsigned char b[16];
    randombytes_buf(b, sizeof(b));
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, CLAIM_ID_LEN + 1,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
}

/* A sealed column opened (caller frees), or NULL when SQL NULL or when it
 * cannot be opened (the delivery is then not signed with it). */
static char *open_or_null(struct secret_cache *secrets, PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        return NULL;
    size_t len = 0;
    char *plain = secret_cache_open(secrets, PQgetvalue(res, row, col), &len);
    if (plain == NULL)
        log_error("a sealed endpoint secret cannot be opened (wrong master key?)");
    return plain;
}

/* One claimed delivery from row i of the round's result. */
static void read_claimed(struct secret_cache *secrets, PGresult *res, int i,
                         struct claimed_delivery *d)
{
    d->tenant_id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
    d->delivery_id = strtoll(PQgetvalue(res, i, 1), NULL, 10);
    d->endpoint_id = strtoll(PQgetvalue(res, i, 2), NULL, 10);
    snprintf(d->event_id, sizeof(d->event_id), "%s", PQgetvalue(res, i, 3));
    d->attempt = atoi(PQgetvalue(res, i, 4));
    d->url = xstrdup(PQgetvalue(res, i, 5));
    d->body_len = (size_t)PQgetlength(res, i, 6);
    d->body = xstrndup(PQgetvalue(res, i, 6), d->body_len);
    d->secret = open_or_null(secrets, res, i, 7);
    d->previous_secret = open_or_null(secrets, res, i, 8);
    size_t sk_len = 0;
    char *sk = PQgetisnull(res, i, 9) ? NULL
                                      : secret_cache_open(secrets, PQgetvalue(res, i, 9), &sk_len);
    d->has_signing_key = sk != NULL && sk_len == sizeof(d->signing_key);
    if (d->has_signing_key)
        memcpy(d->signing_key, sk, sk_len);
    secrets_free(sk, sk_len);
    d->send_limit = atoi(PQgetvalue(res, i, 13));
}

/* The records as the JSON array hookd.record_attempts reads (a new string
 * the caller frees); NULL when there are none. Written directly rather than
 * through json-c objects: this runs for every attempt. */
static char *records_json(const struct attempt_record *records, size_t count)
{
    if (count == 0)
        return NULL;
    struct buf b;
    buf_init(&b, (size_t)-1);
    int rc = buf_append(&b, "[", 1);
    for (size_t i = 0; i < count && rc == 0; i++) {
        const struct attempt_record *r = &records[i];
        rc = (i > 0 ? buf_append(&b, ",", 1) : 0) || buf_append(&b, "{", 1) ||
             json_write_key(&b, "tenant_id", 1) || json_write_int(&b, r->tenant_id) ||
             json_write_key(&b, "id", 0) || json_write_int(&b, r->delivery_id) ||
             json_write_key(&b, "event_id", 0) || json_write_string(&b, r->event_id) ||
             json_write_key(&b, "endpoint_id", 0) || json_write_int(&b, r->endpoint_id) ||
             json_write_key(&b, "number", 0) || json_write_int(&b, r->attempt) ||
             json_write_key(&b, "started_ms", 0) || json_write_int(&b, r->started_ms) ||
             json_write_key(&b, "duration_ms", 0) || json_write_int(&b, r->duration_ms) ||
             json_write_key(&b, "status", 0) ||
             (r->status ? json_write_int(&b, r->status) : buf_append(&b, "null", 4)) != 0 ||
             json_write_key(&b, "response_body", 0) || json_write_string(&b, r->response_body) ||
             json_write_key(&b, "error", 0) || json_write_string(&b, r->error) ||
             json_write_key(&b, "state", 0) || json_write_string(&b, r->state) ||
             json_write_key(&b, "retry_in_ms", 0) || json_write_int(&b, r->retry_in_ms) ||
             buf_append(&b, "}", 1);
    }
    if (rc != 0 || buf_append(&b, "]", 1) != 0)
        abort(); /* an uncapped buffer cannot refuse */
    return buf_steal(&b);
}

int db_deliveries_record_send(struct db_conn *conn, const char *claim_id,
                              const struct endpoint_rules *rules,
                              const struct attempt_record *records, size_t count,
                              long rest_limit, struct hk_error *err)
{
    char *rows = records_json(records, count);
    char breaker[24], disable[24], rest[24], depth[24];
    snprintf(breaker, sizeof(breaker), "%ld", rules->breaker_threshold);
    snprintf(disable, sizeof(disable), "%ld", rules->disable_after_s);
    snprintf(rest, sizeof(rest), "%ld", rest_limit);
    snprintf(depth, sizeof(depth), "%ld", REST_DEPTH_CAPS * rules->max_in_flight);
    const char *values[] = { rows, claim_id, breaker, disable, rest, depth };
    int rc = db_send(conn, &stmt_record, values, err);
    free(rows);
    return rc;
}

int db_deliveries_record_finish(struct db_conn *conn, bool wait, size_t *recorded,
                                long *rest_queued, struct hk_error *err)
{
    *recorded = 0;
    *rest_queued = 0;
    PGresult *res = NULL;
    int rc = db_receive(conn, wait, &res, err);
    if (rc != 1)
        return rc;
    *recorded = (size_t)strtoul(PQgetvalue(res, 0, 0), NULL, 10);
    *rest_queued = strtol(PQgetvalue(res, 0, 1), NULL, 10);
    PQclear(res);
    return 1;
}

int db_deliveries_claim_send(struct db_conn *conn, const char *claim_id,
                             const struct endpoint_rules *rules, const struct claim_request *req,
                             struct hk_error *err)
{
    char *finished = int_array(req->finished, req->n_finished);
    char fan_out[24], lim[24], lease[24], cap[24], rate[24], breaker[24], ahead[24];
    snprintf(fan_out, sizeof(fan_out), "%ld", req->fan_out_limit);
    snprintf(lim, sizeof(lim), "%ld", req->limit);
    snprintf(lease, sizeof(lease), "%ld", req->lease_s);
    snprintf(cap, sizeof(cap), "%ld", rules->max_in_flight);
    snprintf(rate, sizeof(rate), "%ld", rules->rate_limit);
    snprintf(breaker, sizeof(breaker), "%ld", rules->breaker_threshold);
    snprintf(ahead, sizeof(ahead), "%ld", req->ahead);
    const char *values[] = { claim_id, finished, fan_out, lim,     lease,
                             cap,      rate,     breaker, ahead,
                             rules->sign_v1a ? "true" : "false" };
    int rc = db_send(conn, &stmt_claim, values, err);
    free(finished);
    return rc;
}

int db_deliveries_claim_finish(struct db_conn *conn, bool wait, struct secret_cache *secrets,
                               struct claim_result *out, struct hk_error *err)
{
    memset(out, 0, sizeof(*out));
    PGresult *res = NULL;
    int rc = db_receive(conn, wait, &res, err);
    if (rc != 1)
        return rc;
    int n = PQntuples(res);
    struct claimed_delivery *list = n > 0 ? xcalloc((size_t)n, sizeof(*list)) : NULL;
    size_t claimed = 0;
    long locked = 0;
    for (int i = 0; i < n; i++) {
        if (!PQgetisnull(res, i, 1)) {
            read_claimed(secrets, res, i, &list[claimed++]);
            continue;
        }
        /* the closing row */
        locked = strtol(PQgetvalue(res, i, 10), NULL, 10);
        out->busy = PQgetvalue(res, i, 11)[0] == 't';
        out->fanned_out = strtol(PQgetvalue(res, i, 12), NULL, 10);
        out->rest_waiting = PQgetvalue(res, i, 14)[0] == 't';
    }
    PQclear(res);
    /* An endpoint that was locked but got nothing was held back by a
     * limit: its due work is worth another look soon. */
    long served = 0;
    for (size_t i = 0; i < claimed; i++) {
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++)
            seen = list[k].tenant_id == list[i].tenant_id &&
                   list[k].endpoint_id == list[i].endpoint_id;
        served += !seen;
    }
    out->throttled = served < locked;
    out->claimed = list;
    out->count = claimed;
    return 1;
}

void claimed_delivery_free(struct claimed_delivery *d)
{
    free(d->url);
    free(d->body);
    secrets_free(d->secret, d->secret ? strlen(d->secret) : 0);
    secrets_free(d->previous_secret, d->previous_secret ? strlen(d->previous_secret) : 0);
    sodium_memzero(d->signing_key, sizeof(d->signing_key));
    memset(d, 0, sizeof(*d));
}

void attempt_record_free(struct attempt_record *r)
{
    free(r->response_body);
    free(r->error);
    r->response_body = NULL;
    r->error = NULL;
}

/* "{1,2,3}": a bigint array literal. Caller frees. */
static char *int_array(const int64_t *v, size_t n)
{
    struct buf b;
    buf_init(&b, (size_t)-1);
    int rc = buf_append_str(&b, "{");
    for (size_t i = 0; i < n && rc == 0; i++) {
        char num[24];
        snprintf(num, sizeof(num), "%s%" PRId64, i ? "," : "", v[i]);
        rc = buf_append_str(&b, num);
    }
    if (rc != 0 || buf_append_str(&b, "}") != 0)
        abort(); /* an uncapped buffer cannot refuse */
    return buf_steal(&b);
}

static int update_claimed(struct db_conn *conn, const struct db_stmt *stmt, const char *claim_id,
                          const int64_t *tenant_ids, const int64_t *delivery_ids, size_t count,
                          const char *extra, struct hk_error *err)
{
    if (count == 0)
        return 0;
    char *tenants = int_array(tenant_ids, count);
    char *ids = int_array(delivery_ids, count);
    const char *values[] = { claim_id, tenants, ids, extra };
    int rc = db_exec(conn, stmt, values, err);
    free(tenants);
    free(ids);
    return rc;
}

int db_deliveries_renew(struct db_conn *conn, const char *claim_id, const int64_t *tenant_ids,
                        const int64_t *delivery_ids, size_t count, long lease_s,
                        struct hk_error *err)
{
    char lease[24];
    snprintf(lease, sizeof(lease), "%ld", lease_s);
    return update_claimed(conn, &stmt_renew, claim_id, tenant_ids, delivery_ids, count, lease,
                          err);
}

int db_deliveries_release(struct db_conn *conn, const char *claim_id, const int64_t *tenant_ids,
                          const int64_t *delivery_ids, size_t count, struct hk_error *err)
{
    return update_claimed(conn, &stmt_release, claim_id, tenant_ids, delivery_ids, count, NULL,
                          err);
}

/* The event is held (FOR KEY SHARE) from before the deliveries are written
 * until they commit: no foreign key keeps a delivery's event any more, and
 * hookd.event_delete_unsent waits for the lock before it looks for them. */
static const struct db_stmt stmt_redeliver = {
    "deliveries_redeliver",
    "WITH ev AS (SELECT tenant_id, id FROM hookd.events WHERE tenant_id = $1 AND id = $2"
    "            FOR KEY SHARE),"
    " t AS ("
    "  SELECT e.tenant_id, e.id, CASE WHEN e.state = 'active' THEN 'pending' ELSE 'disabled' END"
    "         AS state"
    "    FROM hookd.endpoints e JOIN ev ON e.tenant_id = ev.tenant_id"
    "   WHERE ($3::text IS NULL AND EXISTS ("
    "           SELECT 1 FROM hookd.deliveries d WHERE d.tenant_id = e.tenant_id"
    "              AND d.event_id = ev.id AND d.endpoint_id = e.id))"
    "      OR e.url = $3),"
    " q AS ("
    "  INSERT INTO hookd.deliveries AS d (tenant_id, event_id, endpoint_id, state)"
    "  SELECT t.tenant_id, $2, t.id, t.state FROM t"
    "  ON CONFLICT (tenant_id, event_id, endpoint_id) DO UPDATE"
    "     SET state = EXCLUDED.state, next_attempt_at = now(), claim_id = NULL,"
    "         lease_until = NULL, updated = now()"
    "   WHERE d.state <> 'delivering'"
    "  RETURNING 1),"
    " n AS (SELECT pg_notify('hookd_pending', ''))"
    " SELECT (SELECT count(*) FROM ev), (SELECT count(*) FROM t), (SELECT count(*) FROM q),"
    "        (SELECT count(*) FROM n)",
    3
};

static const struct db_stmt stmt_check_time = {
    "deliveries_check_time", "SELECT $1::timestamptz", 1
};

static const struct db_stmt stmt_recover = {
    "deliveries_recover",
    "WITH f AS ("
    "  SELECT d.tenant_id, d.id, e.state = 'active' AS active,"
    "         row_number() OVER (PARTITION BY d.endpoint_id ORDER BY d.updated, d.id) AS k"
    "    FROM hookd.deliveries d"
    "    JOIN hookd.endpoints e ON e.tenant_id = d.tenant_id AND e.id = d.endpoint_id"
    "   WHERE d.tenant_id = $1 AND d.state = 'failed' AND d.updated >= $2::timestamptz"
    "     AND ($3::text IS NULL OR e.url = $3)"
    "   ORDER BY d.updated, d.id LIMIT $4),"
    " q AS ("
    "  UPDATE hookd.deliveries d"
    "     SET state = CASE WHEN f.active THEN 'pending' ELSE 'disabled' END, updated = now(),"
    "         next_attempt_at = now() + ($5::bigint + f.k) * $6::bigint * interval '1 millisecond'"
    "    FROM f WHERE d.tenant_id = f.tenant_id AND d.id = f.id AND d.state = 'failed'"
    "  RETURNING 1),"
    " n AS (SELECT pg_notify('hookd_pending', ''))"
    " SELECT (SELECT count(*) FROM q), (SELECT count(*) FROM n)",
    6
};

int db_deliveries_redeliver(struct db_conn *conn, int64_t tenant_id, const char *event_id,
                            const char *url, long *queued, struct hk_error *err)
{
    char tenant[24];
    snprintf(tenant, sizeof(tenant), "%" PRId64, tenant_id);
    const char *values[] = { tenant, event_id, url };
    PGresult *res = db_query(conn, &stmt_redeliver, values, err);
    if (res == NULL)
        return -1;
    long events = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    long targets = strtol(PQgetvalue(res, 0, 1), NULL, 10);
    *queued = strtol(PQgetvalue(res, 0, 2), NULL, 10);
    PQclear(res);
    if (events == 0) {
        hk_error_set(err, HK_ERR_EVENT_NOT_FOUND, "no such event");
        return -1;
    }
    if (url != NULL && targets == 0) {
        hk_error_set(err, HK_ERR_ENDPOINT_NOT_FOUND, "no endpoint with that URL");
        return -1;
    }
    return 0;
}

int db_deliveries_recover(struct db_conn *conn, int64_t tenant_id, const char *since,
                          const char *url, long batch, long offset, long spacing_ms,
                          long *queued, struct hk_error *err)
{
    const char *check[] = { since };
    PGresult *res = db_query(conn, &stmt_check_time, check, err);
    if (res == NULL) {
        if (strncmp(conn->sqlstate, "22", 2) == 0)
            hk_error_field(err, HK_ERR_INVALID, "since");
        return -1;
    }
    PQclear(res);
    char tenant[24], lim[24], off[24], spacing[24];
    snprintf(tenant, sizeof(tenant), "%" PRId64, tenant_id);
    snprintf(lim, sizeof(lim), "%ld", batch);
    snprintf(off, sizeof(off), "%ld", offset);
    snprintf(spacing, sizeof(spacing), "%ld", spacing_ms);
    const char *values[] = { tenant, since, url, lim, off, spacing };
    res = db_query(conn, &stmt_recover, values, err);
    if (res == NULL)
        return -1;
    *queued = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return 0;
}
