/* db_endpoint_test.h - a webhook.test event for one endpoint, queued as an
 * ordinary delivery (the dashboard's "send test event"). */
#ifndef HOOKD_DB_ENDPOINT_TEST_H
#define HOOKD_DB_ENDPOINT_TEST_H

#include <stdint.h>

#include "db.h"

/* Stores a webhook.test event with id event_id and data data_json (a JSON
 * object's text), and queues one delivery of it to the tenant's endpoint
 * at url, in one statement; the workers are woken. The event goes to no
 * subscriber: it has no outbox row. Errors: HK_ERR_ENDPOINT_NOT_FOUND,
 * HK_ERR_ENDPOINT_DISABLED (nothing stored), or a database error. */
int db_endpoint_test_queue(struct db_conn *conn, int64_t tenant_id, const char *url,
                           const char *event_id, const char *data_json, struct hk_error *err)
    __attribute__((warn_unused_result));

#endif
