/* db_stats.h - a tenant's delivery attempts over a recent window, counted
 * and timed per bucket (GET /events/stats). */
#ifndef HOOKD_DB_STATS_H
#define HOOKD_DB_STATS_H

#include <json-c/json.h>
#include <stdint.h>

#include "db.h"

/* *buckets gets a new JSON array of n_buckets buckets of bucket_seconds,
 * aligned to multiples of bucket_seconds since the Unix epoch, the last one
 * holding now, oldest first, every one present; *totals the same figures
 * over all of them. Callers put both. */
int db_stats_attempts(struct db_conn *conn, int64_t tenant_id, int bucket_seconds, int n_buckets,
                      struct json_object **buckets, struct json_object **totals,
                      struct hk_error *err) __attribute__((warn_unused_result));

#endif
