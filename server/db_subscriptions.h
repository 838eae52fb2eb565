/* db_subscriptions.h - endpoints (one per tenant and URL) and the event-type
 * subscriptions that point at them. */
#ifndef HOOKD_DB_SUBSCRIPTIONS_H
#define HOOKD_DB_SUBSCRIPTIONS_H

#include <json-c/json.h>
#include <stdint.h>

#include "db.h"

/* Returns 1 when (tenant, type, url) is already subscribed, 0 if not, -1 on
 * error. */
int db_subscriptions_exists(struct db_conn *conn, int64_t tenant_id, const char *type,
                            const char *url, struct hk_error *err)
    __attribute__((warn_unused_result));
/* Creates the endpoint (with secret) if needed and the subscription; *out
 * gets the new subscription object (caller puts it), which carries the
 * endpoint's "secret" only when this call created the endpoint: a secret is
 * shown once. HK_ERR_SUB_CONFLICT when the subscription exists. */
int db_subscriptions_create(struct db_conn *conn, int64_t tenant_id, const char *sub_id,
                            const char *type, const char *url, const char *secret,
                            struct json_object **out, struct hk_error *err)
    __attribute__((warn_unused_result));
/* Removes one subscription; HK_ERR_SUB_NOT_FOUND when absent. */
int db_subscriptions_delete(struct db_conn *conn, int64_t tenant_id, const char *type,
                            const char *url, struct hk_error *err)
    __attribute__((warn_unused_result));
/* The tenant's subscriptions, oldest first, as a new JSON array. */
int db_subscriptions_list(struct db_conn *conn, int64_t tenant_id, struct json_object **out,
                          struct hk_error *err) __attribute__((warn_unused_result));

#endif
