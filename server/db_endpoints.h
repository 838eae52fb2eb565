/* db_endpoints.h - endpoints: one per (tenant, webhook URL), holding the
 * signing secret and the health of deliveries to that URL. */
#ifndef HOOKD_DB_ENDPOINTS_H
#define HOOKD_DB_ENDPOINTS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "db.h"
#include "signature.h"

/* The endpoint's current secret into secret (when found), and into
 * *sign_v1a whether its deliveries are signed with v1a: its own setting, or
 * default_v1a when it has none or is not found. Returns 1 found, 0 not
 * found, -1 error. */
int db_endpoints_secret(struct db_conn *conn, int64_t tenant_id, const char *url,
                        bool default_v1a, char secret[SIGNATURE_SECRET_LEN + 1],
                        bool *sign_v1a, struct hk_error *err)
    __attribute__((warn_unused_result));
/* Replaces the secret with new_secret; the old one keeps signing for
 * overlap_s seconds, until the time written to expires (RFC 3339).
 * HK_ERR_ENDPOINT_NOT_FOUND when the tenant has no such endpoint. */
int db_endpoints_rotate_secret(struct db_conn *conn, int64_t tenant_id, const char *url,
                               const char *new_secret, long overlap_s, char expires[40],
                               struct hk_error *err) __attribute__((warn_unused_result));

/* Re-enables an endpoint: health reset, circuit closed, and every delivery
 * parked while it was disabled queued again (*replayed counts them).
 * HK_ERR_ENDPOINT_NOT_FOUND when the tenant has no such endpoint. */
int db_endpoints_enable(struct db_conn *conn, int64_t tenant_id, const char *url, long *replayed,
                        struct hk_error *err) __attribute__((warn_unused_result));
/* Disables an endpoint by request; its queued deliveries are parked. */
int db_endpoints_disable(struct db_conn *conn, int64_t tenant_id, const char *url,
                         struct hk_error *err) __attribute__((warn_unused_result));
/* The same, recording reason (NULL: "Disabled on request.") when the
 * endpoint was active; a disabled endpoint keeps its first reason. */
int db_endpoints_disable_because(struct db_conn *conn, int64_t tenant_id, const char *url,
                                 const char *reason, struct hk_error *err)
    __attribute__((warn_unused_result));
/* An endpoint's own settings, as text (checked by the caller): NULL keeps
 * a value, "" resets it to the configured default. */
struct endpoint_settings {
    const char *url;             /* which endpoint */
    const char *max_in_flight;   /* 1..10000 */
    const char *rate_limit;      /* requests per second, 0 = none */
    const char *sign_v1a;        /* "true" or "false": sign v1a (Ed25519) too */
};

/* Sets the endpoint's settings. *out gets {webhook_url, max_in_flight,
 * rate_limit, sign_v1a} as stored (null = default). */
int db_endpoints_configure(struct db_conn *conn, int64_t tenant_id,
                           const struct endpoint_settings *set, struct json_object **out,
                           struct hk_error *err)
    __attribute__((warn_unused_result));

#endif
