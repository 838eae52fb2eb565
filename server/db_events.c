/* db_events.c - events, the outbox, and the delivery record. */
#include "db_events.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "event_body.h"
#include "pg_binary.h"
#include "xmalloc.h"

static const struct db_stmt stmt_publish = {
    "events_publish",
    "SELECT event_body, replayed FROM hookd.publish($1::bigint, $2, $3::json, $4, $5, $6)", 6
};
/* The same event text as hookd.publish builds, without an outbox row: for
 * webhook.test events that go to one URL, not to subscribers. */
static const struct db_stmt stmt_store_unqueued = {
    "events_store_unqueued",
    "WITH v AS (SELECT date_trunc('milliseconds', clock_timestamp()) AS occurred)"
    " INSERT INTO hookd.events (tenant_id, id, type, version, occurred, body)"
    " SELECT $1::bigint, $2, $3, '1.0.0', v.occurred,"
    "  '{\"id\":' || to_json($2::text)::text || ',\"occurred\":' ||"
    "  to_json(hookd.rfc3339(v.occurred))::text || ',\"type\":' || to_json($3::text)::text ||"
    "  ',\"version\":\"1.0.0\",\"data\":' || $4::json::text || '}'"
    " FROM v RETURNING body",
    4
};
static const struct db_stmt stmt_publish_batch = {
    "events_publish_batch",
    "SELECT ord, event_body, replayed, error_state FROM hookd.publish_batch("
    "$1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) ORDER BY ord",
    6
};
/* Events whose text hookd built (event_body.h), and their outbox rows: a
 * plain insert with no per-event function, JSON parse or pattern match;
 * the table's constraints (the type in the catalog, the id's form) still
 * hold for every row. $1-$4 and $6 are binary arrays.
 *
 * Sequential scans are off for the statement's transaction (set_config's
 * is_local, read before its foreign keys are checked at its end), as in
 * the publish functions (db/functions/publish.sql says why): each outbox
 * row's check against hookd.events is planned once per connection and
 * kept until the next ANALYZE, and planned on the statistics of a nearly
 * empty table it was a scan of every event, per event, as they grew
 * (test_plan_stability.py, keyless). The cross join with settings makes it
 * run. */
static const struct db_stmt stmt_insert_batch = {
    "events_insert_batch",
    "WITH settings AS (SELECT set_config('enable_seqscan', 'off', true)),"
    " stored AS ("
    " INSERT INTO hookd.events (tenant_id, id, type, version, occurred, body)"
    " SELECT e.tenant_id, e.id, e.type, e.version, $5::timestamptz, e.body"
    "   FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $6::text[])"
    "        AS e(tenant_id, id, type, version, body)"
    " RETURNING tenant_id, id, type, occurred)"
    " INSERT INTO hookd.pending_events (tenant_id, event_id, type, occurred)"
    " SELECT s.tenant_id, s.id, s.type, s.occurred FROM stored s, settings",
    6
};
static const struct db_stmt stmt_get = {
    "events_get", "SELECT body FROM hookd.events WHERE tenant_id = $1 AND id = $2", 2
};
/* db/functions/event_delete_unsent.sql says why it locks the event first. */
static const struct db_stmt stmt_delete_unsent = {
    "events_delete_unsent", "SELECT hookd.event_delete_unsent($1, $2)", 2
};
/* An event's deliveries with their attempts, then the deliveries claims
 * left to be queued (hookd.pending_rest, one row per claim and endpoint):
 * pending (parked, 'disabled', at a disabled endpoint), without an attempt
 * yet. */
static const struct db_stmt stmt_notifications = {
    "events_notifications",
    "SELECT d.id, e.url, d.state, d.attempt_count,"
    "       CASE WHEN d.state IN ('pending', 'delivering') THEN hookd.rfc3339(d.next_attempt_at) END,"
    "       a.number, hookd.rfc3339(a.started), a.duration_ms, a.status, a.error,"
    "       a.response_body, hookd.rfc3339(a.next_attempt_at), 0"
    "  FROM hookd.deliveries d"
    "  JOIN hookd.endpoints e ON e.tenant_id = d.tenant_id AND e.id = d.endpoint_id"
    "  LEFT JOIN hookd.attempts a ON a.tenant_id = d.tenant_id AND a.delivery_id = d.id"
    " WHERE d.tenant_id = $1 AND d.event_id = $2"
    " UNION ALL"
    " SELECT -r.rest_id, e.url, CASE WHEN e.state = 'active' THEN 'pending' ELSE 'disabled' END, 0,"
    "        NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 1"
    "  FROM hookd.events ev"
    " CROSS JOIN LATERAL hookd.event_leftovers(ev.tenant_id, ev.id, ev.occurred) r"
    "  JOIN hookd.endpoints e ON e.tenant_id = ev.tenant_id AND e.id = r.endpoint_id"
    " WHERE ev.tenant_id = $1 AND ev.id = $2"
    " ORDER BY 13, 1, 6",
    2
};

static void format_id(char out[24], int64_t id)
{
    snprintf(out, 24, "%" PRId64, id);
}

/* The refusal an hookd.publish SQLSTATE stands for. */
static void publish_refusal(const char *sqlstate, struct hk_error *err)
{
    if (strcmp(sqlstate, "HKT01") == 0)
        hk_error_field(err, HK_ERR_INVALID, "type");
    else if (strcmp(sqlstate, "HKD01") == 0 || strcmp(sqlstate, "22P02") == 0)
        hk_error_field(err, HK_ERR_INVALID, "data");
    else if (strcmp(sqlstate, "HKV01") == 0)
        hk_error_field(err, HK_ERR_INVALID, "version");
    else if (strcmp(sqlstate, "HKI01") == 0)
        hk_error_set(err, HK_ERR_IDEMPOTENCY, "idempotency key reused");
    else
        hk_error_set(err, HK_ERR_INTERNAL, "publish: unexpected SQLSTATE %s", sqlstate);
}

/* Appends one element of a PostgreSQL array literal: NULL, or the value
 * double-quoted with '"' and '\' escaped. */
static void array_element(struct buf *b, const char *value)
{
    bool ok = buf_append_str(b, b->len > 1 ? "," : "") == 0;
    if (value == NULL) {
        ok = ok && buf_append_str(b, "NULL") == 0;
    } else {
        ok = ok && buf_append_str(b, "\"") == 0;
        for (const char *p = value; ok && *p != '\0'; p++) {
            size_t run = strcspn(p, "\"\\");
            if (run > 0) {
                ok = buf_append(b, p, run) == 0;
                p += run;
                if (*p == '\0')
                    break;
            }
            char escaped[2] = { '\\', *p };
            ok = ok && buf_append(b, escaped, 2) == 0;
        }
        ok = ok && buf_append_str(b, "\"") == 0;
    }
    if (!ok)
        abort(); /* the buffers below have no cap */
}

int db_events_publish_batch(struct db_conn *conn, struct publish_item *items, size_t n,
                            struct hk_error *err)
{
    enum { TENANTS, TYPES, DATA, VERSIONS, KEYS, IDS, N_ARRAYS };
    struct buf arrays[N_ARRAYS];
    for (int a = 0; a < N_ARRAYS; a++) {
        buf_init(&arrays[a], SIZE_MAX);
        if (buf_append_str(&arrays[a], "{") != 0)
            abort();
    }
    for (size_t i = 0; i < n; i++) {
        char tenant[24];
        format_id(tenant, items[i].tenant_id);
        array_element(&arrays[TENANTS], tenant);
        array_element(&arrays[TYPES], items[i].type);
        array_element(&arrays[DATA], items[i].data_json);
        array_element(&arrays[VERSIONS], items[i].version);
        array_element(&arrays[KEYS], items[i].idempotency_key);
        array_element(&arrays[IDS], items[i].event_id);
    }
    const char *values[N_ARRAYS];
    for (int a = 0; a < N_ARRAYS; a++) {
        if (buf_append_str(&arrays[a], "}") != 0)
            abort();
        values[a] = arrays[a].data;
    }
    PGresult *res = db_query(conn, &stmt_publish_batch, values, err);
    for (int a = 0; a < N_ARRAYS; a++)
        buf_free(&arrays[a]);
    if (res == NULL)
        return -1;
    int rows = PQntuples(res);
    if (rows < 0 || (size_t)rows != n) {
        PQclear(res);
        hk_error_set(err, HK_ERR_INTERNAL, "publish_batch returned %d rows for %zu events",
                     rows, n);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        struct publish_item *item = &items[i];
        hk_error_clear(&item->err);
        if (!PQgetisnull(res, (int)i, 3)) {
            publish_refusal(PQgetvalue(res, (int)i, 3), &item->err);
            continue;
        }
        item->out.body = xstrdup(PQgetvalue(res, (int)i, 1));
        item->out.replayed = PQgetvalue(res, (int)i, 2)[0] == 't';
    }
    PQclear(res);
    return 0;
}

/* The statement's parameters for items[0..n): binary arrays (and the
 * texts, kept in ins->bodies), or -1 when they do not fit a statement. */
static int insert_batch_params(struct publish_item *items, size_t n, int64_t occurred_ms,
                               struct buf arrays[5], char occurred[EVENT_RFC3339_LEN + 1],
                               struct events_insert *ins)
{
    enum { TENANTS, IDS, TYPES, VERSIONS, BODIES };
    static const uint32_t oids[] = { PG_OID_INT8, PG_OID_TEXT, PG_OID_TEXT, PG_OID_TEXT,
                                     PG_OID_TEXT };
    bool ok = n > 0 && n <= INT32_MAX;
    for (int a = 0; a < 5; a++)
        ok = ok && pg_array_begin(&arrays[a], oids[a], (uint32_t)n) == 0;
    event_rfc3339(occurred, occurred_ms);
    ins->bodies = xcalloc(n, sizeof(*ins->bodies));
    ins->n = n;
    struct buf body;
    buf_init(&body, SIZE_MAX);
    for (size_t i = 0; ok && i < n; i++) {
        const struct publish_item *it = &items[i];
        const char *version = it->version != NULL ? it->version : "1.0.0";
        ok = event_body_write(&body, it->event_id, occurred, it->type, version, it->data_json,
                              strlen(it->data_json)) == 0;
        size_t body_len = body.len;
        ins->bodies[i] = buf_steal(&body);
        ok = ok && pg_array_int8(&arrays[TENANTS], it->tenant_id) == 0 &&
             pg_array_text(&arrays[IDS], it->event_id, strlen(it->event_id)) == 0 &&
             pg_array_text(&arrays[TYPES], it->type, strlen(it->type)) == 0 &&
             pg_array_text(&arrays[VERSIONS], version, strlen(version)) == 0 &&
             pg_array_text(&arrays[BODIES], ins->bodies[i], body_len) == 0;
    }
    buf_free(&body);
    return ok ? 0 : -1;
}

/* Frees what an insert kept (the texts), when they are not handed out. */
static void events_insert_discard(struct events_insert *ins)
{
    for (size_t i = 0; ins->bodies != NULL && i < ins->n; i++)
        free(ins->bodies[i]);
    free(ins->bodies);
    ins->bodies = NULL;
    ins->n = 0;
}

/* Runs (wait true) or sends (wait false) the insert of items[0..n).
 * Returns 0 when it ran or was sent, -1 with err when it failed (ins
 * then holds nothing). */
static int insert_batch(struct db_conn *conn, struct publish_item *items, size_t n,
                        int64_t occurred_ms, bool wait, struct events_insert *ins,
                        struct hk_error *err)
{
    struct buf arrays[5];
    for (int a = 0; a < 5; a++)
        buf_init(&arrays[a], SIZE_MAX);
    char occurred[EVENT_RFC3339_LEN + 1];
    *ins = (struct events_insert){ 0 };
    int rc = -1;
    if (insert_batch_params(items, n, occurred_ms, arrays, occurred, ins) != 0) {
        hk_error_set(err, HK_ERR_INTERNAL, "a batch of %zu events does not fit a statement", n);
    } else {
        const char *values[] = { arrays[0].data, arrays[1].data, arrays[2].data,
                                 arrays[3].data, occurred, arrays[4].data };
        const int lengths[] = { (int)arrays[0].len, (int)arrays[1].len, (int)arrays[2].len,
                                (int)arrays[3].len, 0, (int)arrays[4].len };
        static const int formats[] = { 1, 1, 1, 1, 0, 1 };
        if (wait) {
            PGresult *res = db_query_binary(conn, &stmt_insert_batch, values, lengths, formats,
                                            err);
            rc = res != NULL ? 0 : -1;
            PQclear(res);
        } else {
            rc = db_send_binary(conn, &stmt_insert_batch, values, lengths, formats, err);
        }
    }
    for (int a = 0; a < 5; a++)
        buf_free(&arrays[a]);
    if (rc != 0)
        events_insert_discard(ins);
    return rc;
}

/* Hands the texts of a committed insert to its items. */
static void insert_batch_done(struct events_insert *ins, struct publish_item *items)
{
    for (size_t i = 0; i < ins->n; i++) {
        hk_error_clear(&items[i].err);
        items[i].out.body = ins->bodies[i];
        items[i].out.replayed = false;
    }
    free(ins->bodies);
    *ins = (struct events_insert){ 0 };
}

int db_events_insert_batch(struct db_conn *conn, struct publish_item *items, size_t n,
                           int64_t occurred_ms, struct hk_error *err)
{
    struct events_insert ins;
    if (insert_batch(conn, items, n, occurred_ms, true, &ins, err) != 0)
        return -1;
    insert_batch_done(&ins, items);
    return 0;
}

int db_events_insert_batch_send(struct db_conn *conn, struct publish_item *items, size_t n,
                                int64_t occurred_ms, struct events_insert *ins,
                                struct hk_error *err)
{
    return insert_batch(conn, items, n, occurred_ms, false, ins, err);
}

int db_events_insert_batch_finish(struct db_conn *conn, struct events_insert *ins,
                                  struct publish_item *items, struct hk_error *err)
{
    PGresult *res = NULL;
    if (db_receive(conn, true, &res, err) != 1) {
        events_insert_discard(ins);
        return -1;
    }
    PQclear(res);
    insert_batch_done(ins, items);
    return 0;
}

int db_events_publish(struct db_conn *conn, int64_t tenant_id, const char *event_id,
                      const char *type, const char *data_json, const char *version,
                      const char *idempotency_key, struct published_event *out,
                      struct hk_error *err)
{
    char tenant[24];
    format_id(tenant, tenant_id);
    const char *values[] = { tenant, type, data_json, version, idempotency_key, event_id };
    PGresult *res = db_query(conn, &stmt_publish, values, err);
    if (res == NULL) {
        static const char *const refusals[] = { "HKT01", "HKD01", "22P02", "HKV01", "HKI01" };
        for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
            if (db_sqlstate_is(conn, refusals[i])) {
                publish_refusal(refusals[i], err);
                break;
            }
        }
        return -1;
    }
    out->body = xstrdup(PQgetvalue(res, 0, 0));
    out->replayed = PQgetvalue(res, 0, 1)[0] == 't';
    PQclear(res);
    return 0;
}

int db_events_store_unqueued(struct db_conn *conn, int64_t tenant_id, const char *event_id,
                             const char *type, const char *data_json, char **body,
                             struct hk_error *err)
{
    char tenant[24];
    format_id(tenant, tenant_id);
    const char *values[] = { tenant, event_id, type, data_json };
    PGresult *res = db_query(conn, &stmt_store_unqueued, values, err);
    if (res == NULL)
        return -1;
    *body = xstrdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}

int db_events_get(struct db_conn *conn, int64_t tenant_id, const char *event_id, char **body,
                  struct hk_error *err)
{
    char tenant[24];
    format_id(tenant, tenant_id);
    const char *values[] = { tenant, event_id };
    PGresult *res = db_query(conn, &stmt_get, values, err);
    if (res == NULL)
        return -1;
    int found = PQntuples(res) == 1;
    if (found)
        *body = xstrndup(PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
    PQclear(res);
    return found;
}

int db_events_delete_unsent(struct db_conn *conn, int64_t tenant_id, const char *event_id,
                            struct hk_error *err)
{
    char tenant[24];
    format_id(tenant, tenant_id);
    const char *values[] = { tenant, event_id };
    return db_exec(conn, &stmt_delete_unsent, values, err);
}

/* Column value as a JSON string, or JSON null for SQL NULL. */
static struct json_object *text_or_null(PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        return NULL;
    return json_object_new_string_len(PQgetvalue(res, row, col), PQgetlength(res, row, col));
}

static struct json_object *int_or_null(PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        return NULL;
    return json_object_new_int64(strtoll(PQgetvalue(res, row, col), NULL, 10));
}

int db_events_notifications(struct db_conn *conn, int64_t tenant_id, const char *event_id,
                            struct json_object **out, struct hk_error *err)
{
    char tenant[24];
    format_id(tenant, tenant_id);
    const char *values[] = { tenant, event_id };
    PGresult *res = db_query(conn, &stmt_notifications, values, err);
    if (res == NULL)
        return -1;
    struct json_object *list = json_object_new_array();
    struct json_object *attempts = NULL;
    const char *current = NULL;
    for (int row = 0; row < PQntuples(res); row++) {
        const char *delivery_id = PQgetvalue(res, row, 0);
        if (current == NULL || strcmp(current, delivery_id) != 0) {
            struct json_object *n = json_object_new_object();
            json_object_object_add(n, "webhook_url", text_or_null(res, row, 1));
            json_object_object_add(n, "state", text_or_null(res, row, 2));
            json_object_object_add(n, "attempt_count", int_or_null(res, row, 3));
            json_object_object_add(n, "next_attempt_at", text_or_null(res, row, 4));
            attempts = json_object_new_array();
            json_object_object_add(n, "attempts", attempts);
            json_object_array_add(list, n);
            current = delivery_id;
        }
        if (PQgetisnull(res, row, 5))
            continue; /* a delivery with no attempt yet */
        struct json_object *a = json_object_new_object();
        json_object_object_add(a, "number", int_or_null(res, row, 5));
        json_object_object_add(a, "started", text_or_null(res, row, 6));
        json_object_object_add(a, "duration_ms", int_or_null(res, row, 7));
        json_object_object_add(a, "status", int_or_null(res, row, 8));
        json_object_object_add(a, "error", text_or_null(res, row, 9));
        json_object_object_add(a, "response_body", text_or_null(res, row, 10));
        json_object_object_add(a, "next_attempt_at", text_or_null(res, row, 11));
        json_object_array_add(attempts, a);
    }
    PQclear(res);
    *out = list;
    return 0;
}
