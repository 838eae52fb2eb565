/* db_event_list.c - the event list.
 *
 * Newest first within a tenant, optionally of one type, from the index
 * events_by_type_time (tenant_id, type, occurred, id): for each type of the
 * catalog (small) the index is read backwards from the cursor for at most
 * one page, and the pages are merged. So one index serves the filtered and
 * the unfiltered list, and a page costs (types x page size) index entries
 * however long the history. The cursor is always a bound: from the newest,
 * it is +infinity, so the statement has no OR that would keep a generic
 * plan off the index. A lookup by id uses the primary key. */
#include "db_event_list.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_json.h"

#define EVENT_COLUMNS \
    "p.id, p.type, p.version, hookd.rfc3339(p.occurred)," \
    " (extract(epoch FROM p.occurred) * 1000000)::bigint"
#define BEFORE_BOUND \
    "(coalesce('epoch'::timestamptz + $3::bigint * interval '1 microsecond', 'infinity'), " \
    "coalesce($4::text, ''))"

/* A page is hookd.tenant_events (db/functions/tenant_events.sql): a
 * function, so that it is planned afresh on every call and never by a
 * sequential scan, which a prepared statement's kept plan made on nearly
 * empty tables did (see the function's header). */
static const struct db_stmt stmt_page = {
    "event_list_page",
    "SELECT * FROM hookd.tenant_events($1::bigint, $2::text, $3::bigint, $4::text, $5::bigint)",
    5
};
static const struct db_stmt stmt_by_id = {
    "event_list_by_id",
    "WITH p AS ("
    "  SELECT e.tenant_id, e.id, e.type, e.version, e.occurred FROM hookd.events e"
    "   WHERE e.tenant_id = $1 AND e.id = $5 AND ($2::text IS NULL OR e.type = $2)"
    "     AND (e.occurred, e.id) < " BEFORE_BOUND ")"
    " SELECT " EVENT_COLUMNS ", c.*"
    "   FROM p CROSS JOIN LATERAL hookd.event_states(p.tenant_id, p.id, p.occurred) c",
    5
};

enum { COL_ID, COL_TYPE, COL_VERSION, COL_OCCURRED, COL_OCCURRED_US, COL_PENDING };

static struct json_object *row_to_event(const PGresult *res, int row)
{
    static const char *const states[] = { "pending", "delivered", "failed", "disabled" };
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "id", db_json_text(res, row, COL_ID));
    json_object_object_add(o, "type", db_json_text(res, row, COL_TYPE));
    json_object_object_add(o, "version", db_json_text(res, row, COL_VERSION));
    json_object_object_add(o, "occurred", db_json_text(res, row, COL_OCCURRED));
    struct json_object *deliveries = json_object_new_object();
    for (int i = 0; i < 4; i++)
        json_object_object_add(deliveries, states[i], db_json_int(res, row, COL_PENDING + i));
    json_object_object_add(o, "deliveries", deliveries);
    return o;
}

int db_event_list_page(struct db_conn *conn, int64_t tenant_id, const struct event_list_query *q,
                       struct json_object **page, bool *more, struct event_position *last,
                       struct hk_error *err)
{
    char tenant[24], before_us[24], limit[16];
    snprintf(tenant, sizeof(tenant), "%" PRId64, tenant_id);
    if (q->before != NULL)
        snprintf(before_us, sizeof(before_us), "%" PRId64, q->before->occurred_us);
    /* One more than a page tells whether another page follows. */
    snprintf(limit, sizeof(limit), "%d", q->limit + 1);
    const char *values[] = { tenant, q->type, q->before ? before_us : NULL,
                             q->before ? q->before->id : NULL, q->id ? q->id : limit };
    PGresult *res = db_query(conn, q->id ? &stmt_by_id : &stmt_page, values, err);
    if (res == NULL)
        return -1;
    int rows = PQntuples(res);
    *more = rows > q->limit;
    if (*more)
        rows = q->limit;
    struct json_object *list = json_object_new_array_ext(rows);
    for (int row = 0; row < rows; row++)
        json_object_array_add(list, row_to_event(res, row));
    if (*more) {
        last->occurred_us = strtoll(PQgetvalue(res, rows - 1, COL_OCCURRED_US), NULL, 10);
        snprintf(last->id, sizeof(last->id), "%s", PQgetvalue(res, rows - 1, COL_ID));
    }
    PQclear(res);
    *page = list;
    return 0;
}
