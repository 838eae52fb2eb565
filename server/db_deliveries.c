/* db_deliveries.c - fan-out, claims, leases and outcome records. */
#include "db_deliveries.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "secrets.h"
#include "xmalloc.h"

/* One statement, so one transaction: the events' deliveries exist if and
 * only if their outbox rows are gone. An endpoint subscribed to both the
 * type and '*' gets one delivery (DISTINCT, and the unique key). */
static const struct db_stmt stmt_fan_out = {
    "deliveries_fan_out",
    "WITH p AS ("
    "  SELECT seq, tenant_id, event_id FROM hookd.pending_events"
    "   ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED),"
    " ins AS ("
    "  INSERT INTO hookd.deliveries (tenant_id, event_id, endpoint_id, state)"
    "  SELECT DISTINCT p.tenant_id, p.event_id, e.id,"
    "         CASE WHEN e.state = 'active' THEN 'pending' ELSE 'disabled' END"
    "    FROM p"
    "    JOIN hookd.events ev ON ev.tenant_id = p.tenant_id AND ev.id = p.event_id"
    "    JOIN hookd.subscriptions s ON s.tenant_id = p.tenant_id"
    "                              AND s.event_type IN (ev.type, '*')"
    "    JOIN hookd.endpoints e ON e.tenant_id = s.tenant_id AND e.id = s.endpoint_id"
    "  ON CONFLICT (tenant_id, event_id, endpoint_id) DO NOTHING"
    "  RETURNING 1),"
    " del AS ("
    "  DELETE FROM hookd.pending_events x USING p WHERE x.seq = p.seq RETURNING 1)"
    " SELECT (SELECT count(*) FROM del), (SELECT count(*) FROM ins)",
    1
};

/* Step 1 of a claim: the endpoints with due work, earliest first, locked.
 * The recursive part walks deliveries_queue once per endpoint that has
 * queued deliveries (a loose index scan); the first entry of each endpoint
 * is its earliest, so it tells whether anything there is due. */
static const struct db_stmt stmt_claim_endpoints = {
    "deliveries_claim_endpoints",
    "WITH RECURSIVE q(tenant_id, endpoint_id, due) AS ("
    "  (SELECT tenant_id, endpoint_id, next_attempt_at FROM hookd.deliveries"
    "    WHERE state IN ('pending', 'delivering')"
    "    ORDER BY tenant_id, endpoint_id, next_attempt_at LIMIT 1)"
    "  UNION ALL"
    "  SELECT n.tenant_id, n.endpoint_id, n.next_attempt_at FROM q, LATERAL ("
    "    SELECT d.tenant_id, d.endpoint_id, d.next_attempt_at FROM hookd.deliveries d"
    "     WHERE d.state IN ('pending', 'delivering')"
    "       AND (d.tenant_id, d.endpoint_id) > (q.tenant_id, q.endpoint_id)"
    "     ORDER BY d.tenant_id, d.endpoint_id, d.next_attempt_at LIMIT 1) n),"
    " due AS (SELECT * FROM q WHERE due <= now() ORDER BY due LIMIT $1)"
    " SELECT e.tenant_id, e.id,"
    "        CASE WHEN e.failure_streak >= $3 THEN 1 ELSE coalesce(e.max_in_flight, $2) END,"
    "        CASE WHEN coalesce(e.rate_limit, $4) > 0 THEN floor(least("
    "               greatest(coalesce(e.rate_limit, $4), 1),"
    "               coalesce(e.rate_tokens, greatest(coalesce(e.rate_limit, $4), 1))"
    "               + extract(epoch FROM now() - coalesce(e.rate_updated, now()))"
    "                 * coalesce(e.rate_limit, $4)))::int"
    "             ELSE -1 END"
    "   FROM hookd.endpoints e JOIN due ON e.tenant_id = due.tenant_id AND e.id = due.endpoint_id"
    "  WHERE e.state = 'active' AND (e.circuit_open_until IS NULL OR e.circuit_open_until <= now())"
    "  ORDER BY due.due"
    "  FOR UPDATE OF e SKIP LOCKED",
    4
};

/* When step 1 locked nothing: is anything due at all (then other workers
 * hold the endpoints for a moment)? */
static const struct db_stmt stmt_anything_due = {
    "deliveries_anything_due",
    "SELECT EXISTS (SELECT 1 FROM hookd.deliveries d"
    "  JOIN hookd.endpoints e ON e.tenant_id = d.tenant_id AND e.id = d.endpoint_id"
    " WHERE d.state IN ('pending', 'delivering') AND d.next_attempt_at <= now()"
    "   AND e.state = 'active'"
    "   AND (e.circuit_open_until IS NULL OR e.circuit_open_until <= now()))",
    0
};

/* Step 2: with the endpoints locked (and a snapshot taken after the locks),
 * each endpoint's room is its cap less what it has in flight, and no more
 * than its rate allows; its earliest due deliveries fill that room. */
static const struct db_stmt stmt_claim = {
    "deliveries_claim",
    "WITH ep AS ("
    "  SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::int[], $4::int[])"
    "           AS ep(tenant_id, id, cap, rate_room)),"
    " room AS ("
    "  SELECT ep.tenant_id, ep.id, greatest(least("
    "           ep.cap - (SELECT count(*) FROM hookd.deliveries f"
    "                      WHERE f.tenant_id = ep.tenant_id AND f.endpoint_id = ep.id"
    "                        AND f.state = 'delivering' AND f.next_attempt_at > now()),"
    "           CASE WHEN ep.rate_room >= 0 THEN ep.rate_room ELSE 2147483647 END), 0) AS n"
    "    FROM ep),"
    " pick AS ("
    "  SELECT x.tenant_id, x.id FROM room CROSS JOIN LATERAL ("
    "    SELECT d.tenant_id, d.id, d.next_attempt_at FROM hookd.deliveries d"
    "     WHERE d.tenant_id = room.tenant_id AND d.endpoint_id = room.id"
    "       AND d.state IN ('pending', 'delivering') AND d.next_attempt_at <= now()"
    "     ORDER BY d.next_attempt_at LIMIT room.n) x"
    "   ORDER BY x.next_attempt_at LIMIT $5)"
    " UPDATE hookd.deliveries d"
    "    SET state = 'delivering', claim_id = $6::uuid,"
    "        lease_until = now() + $7::int * interval '1 second',"
    "        next_attempt_at = now() + $7::int * interval '1 second', updated = now()"
    "   FROM pick, hookd.events ev, hookd.endpoints ep, hookd.tenants t"
    "  WHERE d.tenant_id = pick.tenant_id AND d.id = pick.id"
    "    AND d.state IN ('pending', 'delivering') AND d.next_attempt_at <= now()"
    "    AND ev.tenant_id = d.tenant_id AND ev.id = d.event_id"
    "    AND ep.tenant_id = d.tenant_id AND ep.id = d.endpoint_id"
    "    AND t.id = d.tenant_id"
    " RETURNING d.tenant_id, d.id, d.endpoint_id, d.event_id, d.attempt_count + 1, ep.url,"
    "   ev.body, encode(ep.secret_sealed, 'hex'),"
    "   CASE WHEN ep.previous_secret_expires > now()"
    "        THEN encode(ep.previous_secret_sealed, 'hex') END,"
    "   encode(t.signing_key_sealed, 'hex')",
    7
};

/* Step 3: rate-limited endpoints pay one token per claimed delivery. */
static const struct db_stmt stmt_take_tokens = {
    "deliveries_take_tokens",
    "UPDATE hookd.endpoints e"
    "   SET rate_tokens = least(greatest(coalesce(e.rate_limit, $4), 1),"
    "         coalesce(e.rate_tokens, greatest(coalesce(e.rate_limit, $4), 1))"
    "         + extract(epoch FROM now() - coalesce(e.rate_updated, now()))"
    "           * coalesce(e.rate_limit, $4)) - k.n,"
    "       rate_updated = now()"
    "  FROM unnest($1::bigint[], $2::bigint[], $3::int[]) AS k(tenant_id, id, n)"
    " WHERE e.tenant_id = k.tenant_id AND e.id = k.id AND coalesce(e.rate_limit, $4) > 0",
    4
};

/* Outcomes arrive as one JSON array (json_to_recordset), so a batch of any
 * size is one statement and one commit. */
static const struct db_stmt stmt_record = {
    "deliveries_record",
    "WITH r AS ("
    "  SELECT * FROM json_to_recordset($1::json) AS r(tenant_id bigint, id bigint,"
    "    endpoint_id bigint, number int, started_ms bigint, duration_ms int, status int,"
    "    response_body text, error text, state text, retry_in_ms bigint)),"
    " upd AS ("
    "  UPDATE hookd.deliveries d"
    "     SET state = r.state, attempt_count = r.number,"
    "         next_attempt_at = now() + coalesce(r.retry_in_ms, 0) * interval '1 millisecond',"
    "         claim_id = NULL, lease_until = NULL, last_status = r.status,"
    "         last_error = r.error, updated = now()"
    "    FROM r"
    "   WHERE d.tenant_id = r.tenant_id AND d.id = r.id AND d.claim_id = $2::uuid"
    "  RETURNING d.tenant_id, d.id, d.next_attempt_at),"
    " att AS ("
    "  INSERT INTO hookd.attempts (tenant_id, delivery_id, number, started, duration_ms, status,"
    "                              response_body, error, next_attempt_at)"
    "  SELECT r.tenant_id, r.id, r.number, to_timestamp(r.started_ms / 1000.0), r.duration_ms,"
    "         r.status, r.response_body, r.error,"
    "         CASE WHEN r.state = 'pending' THEN upd.next_attempt_at END"
    "    FROM r JOIN upd ON upd.tenant_id = r.tenant_id AND upd.id = r.id"
    "  RETURNING 1),"
    " h AS ("
    "  SELECT r.tenant_id, r.endpoint_id,"
    "         bool_or(r.state = 'delivered') AS ok,"
    "         bool_or(r.state = 'disabled') AS gone,"
    "         count(*) FILTER (WHERE r.state IN ('pending', 'failed')) AS fails,"
    "         min(to_timestamp(r.started_ms / 1000.0))"
    "           FILTER (WHERE r.state IN ('pending', 'failed')) AS first_fail,"
    "         max(r.retry_in_ms) FILTER (WHERE r.state = 'pending') AS backoff_ms"
    "    FROM r JOIN upd ON upd.tenant_id = r.tenant_id AND upd.id = r.id"
    "   GROUP BY r.tenant_id, r.endpoint_id),"
    /* SET expressions read e's latest version (concurrent recorders add up). */
    " ep AS ("
    "  UPDATE hookd.endpoints e"
    "     SET failure_streak = CASE WHEN h.ok THEN 0 ELSE e.failure_streak + h.fails END,"
    "         first_failure_at = CASE WHEN h.ok THEN NULL"
    "                                 ELSE coalesce(e.first_failure_at, h.first_fail) END,"
    "         circuit_open_until = CASE"
    "             WHEN h.ok THEN NULL"
    "             WHEN h.fails > 0 AND e.failure_streak + h.fails >= $3"
    "               THEN now() + coalesce(h.backoff_ms, 0) * interval '1 millisecond'"
    "             ELSE e.circuit_open_until END,"
    "         state = CASE WHEN h.gone THEN 'disabled' ELSE e.state END,"
    "         disabled_at = CASE WHEN h.gone AND e.state = 'active' THEN now()"
    "                            ELSE e.disabled_at END,"
    "         disabled_reason = CASE WHEN h.gone AND e.state = 'active'"
    "                                THEN 'The receiver answered 410 Gone.'"
    "                                ELSE e.disabled_reason END"
    "    FROM h WHERE e.tenant_id = h.tenant_id AND e.id = h.endpoint_id"
    "  RETURNING e.tenant_id, e.id, e.state),"
    " parked AS ("
    "  UPDATE hookd.deliveries d SET state = 'disabled', updated = now()"
    "    FROM ep WHERE ep.state = 'disabled' AND d.tenant_id = ep.tenant_id"
    "     AND d.endpoint_id = ep.id AND d.state = 'pending'"
    "  RETURNING 1)"
    " SELECT (SELECT count(*) FROM att), (SELECT count(*) FROM parked)",
    3
};

/* After the record, in the same transaction: endpoints of this batch that
 * have now failed continuously for too long are disabled, and their queued
 * deliveries parked. */
static const struct db_stmt stmt_disable_failing = {
    "deliveries_disable_failing",
    "WITH ep AS ("
    "  UPDATE hookd.endpoints e"
    "     SET state = 'disabled', disabled_at = now(),"
    "         disabled_reason = 'Failing continuously since ' || hookd.rfc3339(e.first_failure_at)"
    "           || ' (' || e.failure_streak || ' failed attempts in a row).'"
    "    FROM unnest($1::bigint[], $2::bigint[]) AS k(tenant_id, id)"
    "   WHERE e.tenant_id = k.tenant_id AND e.id = k.id AND e.state = 'active'"
    "     AND e.first_failure_at <= now() - $3::bigint * interval '1 second'"
    "  RETURNING e.tenant_id, e.id)"
    " UPDATE hookd.deliveries d SET state = 'disabled', updated = now()"
    "   FROM ep WHERE d.tenant_id = ep.tenant_id AND d.endpoint_id = ep.id"
    "    AND d.state = 'pending'",
    3
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

/* BEGIN, or -1. */
static int begin(struct db_conn *conn, struct hk_error *err)
{
    return db_exec_script(conn, "BEGIN", err);
}

/* COMMIT when rc is 0, else ROLLBACK; returns rc (or -1 if COMMIT fails). */
static int finish(struct db_conn *conn, int rc, struct hk_error *err)
{
    if (rc == 0)
        return db_exec_script(conn, "COMMIT", err);
    struct hk_error ignored;
    if (PQstatus(conn->pg) == CONNECTION_OK && db_exec_script(conn, "ROLLBACK", &ignored) != 0)
        return -1; /* the first error is the one reported */
    return -1;
}

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

int db_deliveries_fan_out(struct db_conn *conn, long limit, long *moved, struct hk_error *err)
{
    char lim[24];
    snprintf(lim, sizeof(lim), "%ld", limit);
    const char *values[] = { lim };
    PGresult *res = db_query(conn, &stmt_fan_out, values, err);
    if (res == NULL)
        return -1;
    *moved = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return 0;
}

/* A sealed column opened (caller frees), or NULL when SQL NULL or when it
 * cannot be opened (the delivery is then not signed with it). */
static char *open_or_null(PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        return NULL;
    size_t len = 0;
    char *plain = secrets_open_hex(PQgetvalue(res, row, col), &len);
    if (plain == NULL)
        log_error("a sealed endpoint secret cannot be opened (wrong master key?)");
    return plain;
}

/* Step 2 for the endpoints locked in step 1; fills *out and *count. */
static int claim_locked(struct db_conn *conn, PGresult *eps, const char *claim_id, long limit,
                        long lease_s, struct claimed_delivery **out, size_t *count,
                        struct hk_error *err)
{
    int n_eps = PQntuples(eps);
    int64_t *tenants = xcalloc((size_t)n_eps, sizeof(int64_t));
    int64_t *ids = xcalloc((size_t)n_eps, sizeof(int64_t));
    int64_t *caps = xcalloc((size_t)n_eps, sizeof(int64_t));
    int64_t *rates = xcalloc((size_t)n_eps, sizeof(int64_t));
    for (int i = 0; i < n_eps; i++) {
        tenants[i] = strtoll(PQgetvalue(eps, i, 0), NULL, 10);
        ids[i] = strtoll(PQgetvalue(eps, i, 1), NULL, 10);
        caps[i] = strtoll(PQgetvalue(eps, i, 2), NULL, 10);
        rates[i] = strtoll(PQgetvalue(eps, i, 3), NULL, 10);
    }
    char *a1 = int_array(tenants, (size_t)n_eps), *a2 = int_array(ids, (size_t)n_eps);
    char *a3 = int_array(caps, (size_t)n_eps), *a4 = int_array(rates, (size_t)n_eps);
    char lim[24], lease[24];
    snprintf(lim, sizeof(lim), "%ld", limit);
    snprintf(lease, sizeof(lease), "%ld", lease_s);
    const char *values[] = { a1, a2, a3, a4, lim, claim_id, lease };
    PGresult *res = db_query(conn, &stmt_claim, values, err);
    free(a1);
    free(a2);
    free(a3);
    free(a4);
    free(tenants);
    free(ids);
    free(caps);
    free(rates);
    if (res == NULL)
        return -1;
    int n = PQntuples(res);
    struct claimed_delivery *list = n > 0 ? xcalloc((size_t)n, sizeof(*list)) : NULL;
    for (int i = 0; i < n; i++) {
        struct claimed_delivery *d = &list[i];
        d->tenant_id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
        d->delivery_id = strtoll(PQgetvalue(res, i, 1), NULL, 10);
        d->endpoint_id = strtoll(PQgetvalue(res, i, 2), NULL, 10);
        snprintf(d->event_id, sizeof(d->event_id), "%s", PQgetvalue(res, i, 3));
        d->attempt = atoi(PQgetvalue(res, i, 4));
        d->url = xstrdup(PQgetvalue(res, i, 5));
        d->body_len = (size_t)PQgetlength(res, i, 6);
        d->body = xstrndup(PQgetvalue(res, i, 6), d->body_len);
        d->secret = open_or_null(res, i, 7);
        d->previous_secret = open_or_null(res, i, 8);
        size_t sk_len = 0;
        char *sk = PQgetisnull(res, i, 9) ? NULL : secrets_open_hex(PQgetvalue(res, i, 9), &sk_len);
        d->has_signing_key = sk != NULL && sk_len == sizeof(d->signing_key);
        if (d->has_signing_key)
            memcpy(d->signing_key, sk, sk_len);
        secrets_free(sk, sk_len);
    }
    PQclear(res);
    *out = list;
    *count = (size_t)n;
    return 0;
}

/* Step 3: one token per claimed delivery from rate-limited endpoints. */
static int take_tokens(struct db_conn *conn, PGresult *eps, const struct claimed_delivery *list,
                       size_t count, long default_rate, bool *throttled, struct hk_error *err)
{
    int n_eps = PQntuples(eps);
    int64_t *tenants = xcalloc((size_t)n_eps, sizeof(int64_t));
    int64_t *ids = xcalloc((size_t)n_eps, sizeof(int64_t));
    int64_t *taken = xcalloc((size_t)n_eps, sizeof(int64_t));
    size_t n_limited = 0;
    for (int i = 0; i < n_eps; i++) {
        int64_t tenant = strtoll(PQgetvalue(eps, i, 0), NULL, 10);
        int64_t id = strtoll(PQgetvalue(eps, i, 1), NULL, 10);
        int64_t n = 0;
        for (size_t k = 0; k < count; k++)
            n += list[k].tenant_id == tenant && list[k].endpoint_id == id;
        if (n == 0)
            *throttled = true; /* due work it could not take now */
        if (strtoll(PQgetvalue(eps, i, 3), NULL, 10) < 0 || n == 0)
            continue;
        tenants[n_limited] = tenant;
        ids[n_limited] = id;
        taken[n_limited] = n;
        n_limited++;
    }
    int rc = 0;
    if (n_limited > 0) {
        char *a1 = int_array(tenants, n_limited), *a2 = int_array(ids, n_limited);
        char *a3 = int_array(taken, n_limited);
        char rate[24];
        snprintf(rate, sizeof(rate), "%ld", default_rate);
        const char *values[] = { a1, a2, a3, rate };
        rc = db_exec(conn, &stmt_take_tokens, values, err);
        free(a1);
        free(a2);
        free(a3);
    }
    free(tenants);
    free(ids);
    free(taken);
    return rc;
}

int db_deliveries_claim(struct db_conn *conn, const char *claim_id, long limit, long lease_s,
                        const struct endpoint_rules *rules, struct claimed_delivery **out,
                        size_t *count, bool *throttled, bool *busy, struct hk_error *err)
{
    *out = NULL;
    *count = 0;
    *throttled = false;
    *busy = false;
    char lim[24], cap[24], breaker[24], rate[24];
    snprintf(lim, sizeof(lim), "%ld", limit);
    snprintf(cap, sizeof(cap), "%ld", rules->max_in_flight);
    snprintf(breaker, sizeof(breaker), "%ld", rules->breaker_threshold);
    snprintf(rate, sizeof(rate), "%ld", rules->rate_limit);
    const char *values[] = { lim, cap, breaker, rate };
    if (begin(conn, err) != 0)
        return -1;
    PGresult *eps = db_query(conn, &stmt_claim_endpoints, values, err);
    int rc = eps == NULL ? -1 : 0;
    if (rc == 0 && PQntuples(eps) > 0) {
        rc = claim_locked(conn, eps, claim_id, limit, lease_s, out, count, err);
        if (rc == 0)
            rc = take_tokens(conn, eps, *out, *count, rules->rate_limit, throttled, err);
    } else if (rc == 0) {
        PGresult *due = db_query(conn, &stmt_anything_due, NULL, err);
        rc = due == NULL ? -1 : 0;
        if (due != NULL)
            *busy = PQgetvalue(due, 0, 0)[0] == 't';
        PQclear(due);
    }
    PQclear(eps);
    rc = finish(conn, rc, err);
    if (rc != 0) {
        for (size_t i = 0; i < *count; i++)
            claimed_delivery_free(&(*out)[i]);
        free(*out);
        *out = NULL;
        *count = 0;
    }
    return rc;
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

/* Disables the batch's failing endpoints that have failed for too long. */
static int disable_failing(struct db_conn *conn, const struct endpoint_rules *rules,
                           const struct attempt_record *records, size_t count,
                           struct hk_error *err)
{
    int64_t *tenants = xcalloc(count + 1, sizeof(int64_t));
    int64_t *ids = xcalloc(count + 1, sizeof(int64_t));
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        const char *st = records[i].state;
        if (strcmp(st, "pending") != 0 && strcmp(st, "failed") != 0)
            continue;
        tenants[n] = records[i].tenant_id;
        ids[n] = records[i].endpoint_id;
        n++;
    }
    int rc = 0;
    if (n > 0) {
        char *a1 = int_array(tenants, n), *a2 = int_array(ids, n);
        char after[24];
        snprintf(after, sizeof(after), "%ld", rules->disable_after_s);
        const char *values[] = { a1, a2, after };
        rc = db_exec(conn, &stmt_disable_failing, values, err);
        free(a1);
        free(a2);
    }
    free(tenants);
    free(ids);
    return rc;
}

int db_deliveries_record(struct db_conn *conn, const char *claim_id,
                         const struct endpoint_rules *rules, const struct attempt_record *records,
                         size_t count, size_t *written, struct hk_error *err)
{
    struct json_object *rows = json_object_new_array_ext((int)count);
    for (size_t i = 0; i < count; i++) {
        const struct attempt_record *r = &records[i];
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "tenant_id", json_object_new_int64(r->tenant_id));
        json_object_object_add(o, "id", json_object_new_int64(r->delivery_id));
        json_object_object_add(o, "endpoint_id", json_object_new_int64(r->endpoint_id));
        json_object_object_add(o, "number", json_object_new_int(r->attempt));
        json_object_object_add(o, "started_ms", json_object_new_int64(r->started_ms));
        json_object_object_add(o, "duration_ms", json_object_new_int64(r->duration_ms));
        json_object_object_add(o, "status", r->status ? json_object_new_int64(r->status) : NULL);
        json_object_object_add(o, "response_body",
                               r->response_body ? json_object_new_string(r->response_body) : NULL);
        json_object_object_add(o, "error", r->error ? json_object_new_string(r->error) : NULL);
        json_object_object_add(o, "state", json_object_new_string(r->state));
        json_object_object_add(o, "retry_in_ms", json_object_new_int64(r->retry_in_ms));
        json_object_array_add(rows, o);
    }
    char breaker[24];
    snprintf(breaker, sizeof(breaker), "%ld", rules->breaker_threshold);
    const char *values[] = {
        json_object_to_json_string_ext(rows, JSON_C_TO_STRING_PLAIN), claim_id, breaker
    };
    /* Attempts are on record once answered: this commit waits for the WAL
     * flush whatever the session's synchronous_commit (and so flushes the
     * claims and fan-outs before it too). */
    if (db_exec_script(conn, "BEGIN; SET LOCAL synchronous_commit TO on", err) != 0) {
        json_object_put(rows);
        return -1;
    }
    PGresult *res = db_query(conn, &stmt_record, values, err);
    json_object_put(rows);
    int rc = res == NULL ? -1 : 0;
    if (rc == 0) {
        *written = (size_t)strtoul(PQgetvalue(res, 0, 0), NULL, 10);
        rc = disable_failing(conn, rules, records, count, err);
    }
    PQclear(res);
    return finish(conn, rc, err);
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

static const struct db_stmt stmt_redeliver = {
    "deliveries_redeliver",
    "WITH ev AS (SELECT tenant_id, id FROM hookd.events WHERE tenant_id = $1 AND id = $2),"
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
    "  SELECT d.tenant_id, d.id,"
    "         row_number() OVER (PARTITION BY d.endpoint_id ORDER BY d.updated, d.id) AS k"
    "    FROM hookd.deliveries d"
    "    JOIN hookd.endpoints e ON e.tenant_id = d.tenant_id AND e.id = d.endpoint_id"
    "   WHERE d.tenant_id = $1 AND d.state = 'failed' AND d.updated >= $2::timestamptz"
    "     AND ($3::text IS NULL OR e.url = $3)"
    "   ORDER BY d.updated, d.id LIMIT $4),"
    " q AS ("
    "  UPDATE hookd.deliveries d"
    "     SET state = 'pending', updated = now(),"
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
