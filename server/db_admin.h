/* db_admin.h - the queries behind the operator command line: they see
 * every tenant (the operator is not a tenant), narrowed by tenant id when
 * asked (0 means every tenant).
 *
 * Lists come back as a new JSON array (caller puts it) of one object per
 * row, whose member names are the column names of the query: those are the
 * stable field names of `--json`. Timestamps are RFC 3339 UTC with
 * milliseconds. Writes that the API also makes (endpoint enable/disable,
 * recovery of failed deliveries) are not here: the commands call the same
 * db_endpoints and db_deliveries functions the API does. */
#ifndef HOOKD_DB_ADMIN_H
#define HOOKD_DB_ADMIN_H

#include <json-c/json.h>
#include <stdint.h>

#include "db.h"
#include "token.h"

/* The id of the tenant called name. Returns 1 found, 0 not, -1 error. */
int db_admin_tenant_id(struct db_conn *conn, const char *name, int64_t *id,
                       struct hk_error *err) __attribute__((warn_unused_result));

/* Tenants by id: tenant, tenant_id, key_hint, created, and counts of
 * endpoints, subscriptions, events and failed_deliveries. */
int db_admin_tenants(struct db_conn *conn, int64_t tenant_id, struct json_object **out,
                     struct hk_error *err) __attribute__((warn_unused_result));

/* Replaces the API key hash and hint of the tenant called name; *id gets
 * its id. Returns 1 done, 0 no such tenant, -1 error. */
int db_admin_rotate_key(struct db_conn *conn, const char *name,
                        const unsigned char key_hash[TOKEN_HASH_LEN], const char *key_hint,
                        int64_t *id, struct hk_error *err) __attribute__((warn_unused_result));

/* Subscriptions by tenant name, then age: tenant, subscription_id,
 * event_type, webhook_url, endpoint_state, disabled_reason, created. */
int db_admin_subscriptions(struct db_conn *conn, int64_t tenant_id, struct json_object **out,
                           struct hk_error *err) __attribute__((warn_unused_result));

struct delivery_filter {
    int64_t tenant_id;     /* 0: every tenant */
    const char *state;     /* NULL: any */
    const char *since;     /* RFC 3339: updated at or after; NULL: any time */
    const char *url;       /* the endpoint's URL; NULL: any */
    long limit;
};

/* Deliveries, most recently updated first: delivery_id, tenant, event_id,
 * type, webhook_url, state, attempts, last_status, last_error,
 * next_attempt_at, updated. */
int db_admin_deliveries(struct db_conn *conn, const struct delivery_filter *filter,
                        struct json_object **out, struct hk_error *err)
    __attribute__((warn_unused_result));

/* The tenants ({tenant_id, tenant}) with an endpoint of this URL, or (for
 * db_admin_event_owners) an event of this id, narrowed to tenant_id. */
int db_admin_endpoint_owners(struct db_conn *conn, const char *url, int64_t tenant_id,
                             struct json_object **out, struct hk_error *err)
    __attribute__((warn_unused_result));
int db_admin_event_owners(struct db_conn *conn, const char *event_id, int64_t tenant_id,
                          struct json_object **out, struct hk_error *err)
    __attribute__((warn_unused_result));

/* Failed deliveries updated at or after since (RFC 3339), of url's
 * endpoints or all, per tenant: {tenant_id, tenant, failed}. What `replay`
 * will re-queue. */
int db_admin_failed_by_tenant(struct db_conn *conn, const char *since, const char *url,
                              int64_t tenant_id, struct json_object **out, struct hk_error *err)
    __attribute__((warn_unused_result));

#endif
