/* db_stats.c - attempt counts and latency percentiles per time bucket.
 *
 * One statement: the window's buckets (generate_series, so idle ones are
 * present) left-joined on bucket number to the tenant's attempts since the
 * first bucket began (attempts_by_time: bounded by the window, whatever
 * the history), grouped per bucket and once more for the totals. Latency is
 * the attempt's duration; percentiles interpolate (percentile_cont). */
#include "db_stats.h"

#include <inttypes.h>
#include <stdio.h>

#include "db_json.h"

#define MS(p) "trim_scale(round((percentile_cont(" p ") WITHIN GROUP (ORDER BY a.duration_ms))::numeric, 2))"

static const struct db_stmt stmt_attempts = {
    "stats_attempts",
    "WITH b AS ("
    "  SELECT k FROM generate_series("
    "    floor(extract(epoch FROM now()) / $2)::bigint - $3 + 1,"
    "    floor(extract(epoch FROM now()) / $2)::bigint) AS k),"
    " a AS ("
    "  SELECT floor(extract(epoch FROM started) / $2)::bigint AS k, duration_ms, status"
    "    FROM hookd.attempts"
    "   WHERE tenant_id = $1"
    "     AND started >= to_timestamp((floor(extract(epoch FROM now()) / $2) - $3 + 1) * $2))"
    " SELECT hookd.rfc3339(to_timestamp(b.k * $2)), count(a.k),"
    "        count(a.k) FILTER (WHERE a.status BETWEEN 200 AND 299),"
    "        count(a.k) FILTER (WHERE a.status IS NULL OR a.status NOT BETWEEN 200 AND 299),"
    "        " MS("0.5") ", " MS("0.95") ", " MS("0.99")
    "   FROM b LEFT JOIN a ON a.k = b.k"
    "  GROUP BY GROUPING SETS ((b.k), ())"
    "  ORDER BY b.k NULLS LAST",
    3
};

static struct json_object *figures(const PGresult *res, int row, struct json_object *o)
{
    json_object_object_add(o, "attempts", db_json_int(res, row, 1));
    json_object_object_add(o, "succeeded", db_json_int(res, row, 2));
    json_object_object_add(o, "failed", db_json_int(res, row, 3));
    json_object_object_add(o, "p50_ms", db_json_number(res, row, 4));
    json_object_object_add(o, "p95_ms", db_json_number(res, row, 5));
    json_object_object_add(o, "p99_ms", db_json_number(res, row, 6));
    return o;
}

int db_stats_attempts(struct db_conn *conn, int64_t tenant_id, int bucket_seconds, int n_buckets,
                      struct json_object **buckets, struct json_object **totals,
                      struct hk_error *err)
{
    char tenant[24], seconds[16], count[16];
    snprintf(tenant, sizeof(tenant), "%" PRId64, tenant_id);
    snprintf(seconds, sizeof(seconds), "%d", bucket_seconds);
    snprintf(count, sizeof(count), "%d", n_buckets);
    const char *values[] = { tenant, seconds, count };
    PGresult *res = db_query(conn, &stmt_attempts, values, err);
    if (res == NULL)
        return -1;
    int rows = PQntuples(res);
    if (rows != n_buckets + 1) {
        PQclear(res);
        hk_error_set(err, HK_ERR_INTERNAL, "stats: %d rows for %d buckets", rows, n_buckets);
        return -1;
    }
    struct json_object *list = json_object_new_array_ext(n_buckets);
    for (int row = 0; row < n_buckets; row++) {
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "start", db_json_text(res, row, 0));
        json_object_array_add(list, figures(res, row, o));
    }
    *totals = figures(res, n_buckets, json_object_new_object());
    *buckets = list;
    PQclear(res);
    return 0;
}
