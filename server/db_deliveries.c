/* db_deliveries.c - fan-out, claims, leases and outcome records. */
#include "db_deliveries.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
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

static const struct db_stmt stmt_claim = {
    "deliveries_claim",
    "WITH due AS ("
    "  SELECT d.tenant_id, d.id FROM hookd.deliveries d"
    "    JOIN hookd.endpoints ep ON ep.tenant_id = d.tenant_id AND ep.id = d.endpoint_id"
    "   WHERE d.state IN ('pending', 'delivering') AND d.next_attempt_at <= now()"
    "     AND ep.state = 'active'"
    "   ORDER BY d.next_attempt_at LIMIT $1"
    "   FOR UPDATE OF d SKIP LOCKED)"
    " UPDATE hookd.deliveries d"
    "    SET state = 'delivering', claim_id = $2::uuid,"
    "        lease_until = now() + $3::int * interval '1 second',"
    "        next_attempt_at = now() + $3::int * interval '1 second', updated = now()"
    "   FROM due, hookd.events ev, hookd.endpoints ep, hookd.tenants t"
    "  WHERE d.tenant_id = due.tenant_id AND d.id = due.id"
    "    AND ev.tenant_id = d.tenant_id AND ev.id = d.event_id"
    "    AND ep.tenant_id = d.tenant_id AND ep.id = d.endpoint_id"
    "    AND t.id = d.tenant_id"
    " RETURNING d.tenant_id, d.id, d.endpoint_id, d.event_id, d.attempt_count + 1, ep.url,"
    "   ev.body, ep.secret,"
    "   CASE WHEN ep.previous_secret_expires > now() THEN ep.previous_secret END,"
    "   encode(t.signing_secret_key, 'hex')",
    3
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
    " gone AS ("
    "  UPDATE hookd.endpoints e"
    "     SET state = 'disabled', disabled_at = now(),"
    "         disabled_reason = 'The receiver answered 410 Gone.'"
    "    FROM (SELECT DISTINCT r.tenant_id, r.endpoint_id FROM r JOIN upd"
    "            ON upd.tenant_id = r.tenant_id AND upd.id = r.id"
    "           WHERE r.state = 'disabled') g"
    "   WHERE e.tenant_id = g.tenant_id AND e.id = g.endpoint_id AND e.state = 'active'"
    "  RETURNING e.tenant_id, e.id),"
    " parked AS ("
    "  UPDATE hookd.deliveries d SET state = 'disabled', updated = now()"
    "    FROM gone WHERE d.tenant_id = gone.tenant_id AND d.endpoint_id = gone.id"
    "     AND d.state = 'pending'"
    "  RETURNING 1)"
    " SELECT (SELECT count(*) FROM att), (SELECT count(*) FROM parked)",
    2
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

static char *value_or_null(PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : xstrdup(PQgetvalue(res, row, col));
}

int db_deliveries_claim(struct db_conn *conn, const char *claim_id, long limit, long lease_s,
                        struct claimed_delivery **out, size_t *count, struct hk_error *err)
{
    char lim[24], lease[24];
    snprintf(lim, sizeof(lim), "%ld", limit);
    snprintf(lease, sizeof(lease), "%ld", lease_s);
    const char *values[] = { lim, claim_id, lease };
    PGresult *res = db_query(conn, &stmt_claim, values, err);
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
        d->secret = value_or_null(res, i, 7);
        d->previous_secret = value_or_null(res, i, 8);
        const char *sk_hex = PQgetvalue(res, i, 9);
        d->has_signing_key = !PQgetisnull(res, i, 9) &&
                             sodium_hex2bin(d->signing_key, sizeof(d->signing_key), sk_hex,
                                            strlen(sk_hex), NULL, NULL, NULL) == 0;
    }
    PQclear(res);
    *out = list;
    *count = (size_t)n;
    return 0;
}

void claimed_delivery_free(struct claimed_delivery *d)
{
    free(d->url);
    free(d->body);
    free(d->secret);
    free(d->previous_secret);
    sodium_memzero(d->signing_key, sizeof(d->signing_key));
    memset(d, 0, sizeof(*d));
}

int db_deliveries_record(struct db_conn *conn, const char *claim_id,
                         const struct attempt_record *records, size_t count, size_t *written,
                         struct hk_error *err)
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
    const char *values[] = {
        json_object_to_json_string_ext(rows, JSON_C_TO_STRING_PLAIN), claim_id
    };
    PGresult *res = db_query(conn, &stmt_record, values, err);
    json_object_put(rows);
    if (res == NULL)
        return -1;
    *written = (size_t)strtoul(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return 0;
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
